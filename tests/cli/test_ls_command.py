"""`brummer ls`: the table of what a project can run, and its footer only when it explains something."""

from __future__ import annotations

from pathlib import Path

from helpers import write_project
from helpers_cli import run_brummer

FOOTER = "* = started by `brummer up` with no names"


def test_footer_only_when_something_is_starred(tmp_path: Path) -> None:
    starred = write_project(tmp_path / "starred", Procfile="web: sleep 1\n")
    done = run_brummer(["ls"], cwd=starred)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == FOOTER
    assert done.stdout.startswith("* web")

    nothing = write_project(tmp_path / "nothing", package_json='{"scripts": {"build": "tsc", "lint": "eslint ."}}')
    done = run_brummer(["ls"], cwd=nothing)
    assert done.returncode == 0, done.stderr
    assert "build" in done.stdout
    assert FOOTER not in done.stdout
    assert "*" not in done.stdout
