"""Procfile parsing and its place among the other sources."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from brummer.config import ProjectSpec
from brummer.config.procfile import parse_procfile
from brummer.errors import ConfigError

Discover = Callable[..., ProjectSpec]

PROCFILE = """\
# processes for local dev
web: python -m http.server $PORT

worker:   celery -A app worker | tee worker.log
  clock_2 : ./bin/clock
"""


def test_entries_are_shell_strings_in_root(discover: Discover) -> None:
    project = discover({"Procfile": PROCFILE})
    assert list(project.processes) == ["web", "worker", "clock_2"]
    worker = project.processes["worker"]
    assert worker.command == "celery -A app worker | tee worker.log"
    assert worker.source == "Procfile"
    assert worker.source_file == project.root / "Procfile"
    assert worker.cwd == project.root
    assert project.package_manager is None
    assert project.default == ("web", "worker", "clock_2")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("web: ok\nthis is not an entry\n", 2, "expected 'name: command'"),
        ("web: ok\n\n# c\nweb server: x\n", 4, "may only contain"),
        ("web:\n", 1, "has no command"),
        ("web: a\nweb: b\n", 2, "already defined on line 1"),
    ],
)
def test_malformed_lines_name_file_and_line(discover: Discover, text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        discover({"Procfile": text})
    assert info.value.line == line
    assert f"Procfile:{line}: " in str(info.value)


def test_parse_keeps_line_numbers() -> None:
    entries = parse_procfile(PROCFILE, Path("Procfile"))
    assert [(e.name, e.line) for e in entries] == [("web", 2), ("worker", 4), ("clock_2", 5)]


def test_procfile_overrides_package_json_in_place(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"scripts": {"web": "vite", "lint": "eslint ."}},
            "Procfile": "api: ./api\nweb: ./web\n",
        }
    )
    assert list(project.processes) == ["web", "lint", "api"]
    assert project.processes["web"].command == "./web"
    assert project.processes["web"].source == "Procfile"
    assert project.processes["lint"].source == "package.json"
    # With a Procfile, every entry is a default, even though package.json has scripts.
    assert project.default == ("api", "web")
