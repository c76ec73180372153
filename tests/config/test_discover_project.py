"""discover_project as a whole: the root argument, the files it reports, and source precedence."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from brummer.config import ProjectSpec, discover_project
from brummer.errors import ConfigError

Discover = Callable[..., ProjectSpec]


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        discover_project(tmp_path / "missing", environ={})
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        discover_project(tmp_path / "file", environ={})


def test_relative_root_is_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "Procfile").write_text("web: x\n")
    monkeypatch.chdir(tmp_path)
    project = discover_project(Path("."), environ={}, user_config=tmp_path / "none.toml")
    assert project.root == tmp_path.resolve()
    assert os.path.isabs(project.processes["web"].cwd)


def test_files_lists_everything_read_in_order(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"workspaces": ["pkgs/*"], "scripts": {"dev": "x"}},
            "pkgs/a/package.json": {"name": "a"},
            "Procfile": "web: y\n",
            "brummer.toml": '[processes.z]\ncmd = "z"\nenv_file = "z.env"\n',
            ".env": "A=1\n",
            "z.env": "B=2\n",
            "README.md": "not read",
        }
    )
    names = [path.relative_to(project.root).as_posix() for path in project.files]
    assert names == ["package.json", "pkgs/a/package.json", "Procfile", "brummer.toml", ".env", "z.env"]


def test_brummer_toml_beats_procfile_beats_package_json(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"scripts": {"a": "pkg-a", "b": "pkg-b", "c": "pkg-c"}},
            "Procfile": "b: proc-b\nc: proc-c\n",
            "brummer.toml": '[processes.c]\ncmd = "toml-c"\n[processes.d]\ncmd = "toml-d"\n',
        }
    )
    commands = {name: spec.command for name, spec in project.processes.items()}
    assert commands == {"a": ("npm", "run", "a"), "b": "proc-b", "c": "toml-c", "d": "toml-d"}
    assert [spec.source for spec in project.processes.values()] == [
        "package.json",
        "Procfile",
        "brummer.toml",
        "brummer.toml",
    ]


def test_script_needs_a_package_json(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"brummer\.toml:2: processes\.web\.script needs a package\.json"):
        discover({"brummer.toml": '[processes.web]\nscript = "dev"\n'})


def test_default_falls_back_to_every_brummer_toml_process(tmp_path: Path) -> None:
    from helpers import load, write_project

    root = write_project(tmp_path, brummer_toml='[processes.a]\ncmd = "true"\n[processes.b]\ncmd = "true"\n')
    assert load(root).default == ("a", "b")
