"""GitHub Actions (``GITHUB_ACTIONS=true``): error annotations on the lines that caused them, and a step summary.

An error group with a known file and line becomes ``::error file=...,line=...,col=...,title=...::message``, the path
relative to the repository root (``git rev-parse --show-toplevel`` from the project, else the project root), as
GitHub needs it to put the annotation on the file in a pull request. A file outside the repository gets no
annotation: it could not be shown anyway. Values are escaped as GitHub's toolkit does, so a log line cannot forge a
workflow command of its own.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import trio

from brummer.config.spec import ProjectSpec
from brummer.logs.error_book import ErrorGroup
from brummer.smoke.summary import printable

_LOCATION = re.compile(r"^(?P<file>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")
MAX_ANNOTATIONS = 50  # GitHub shows at most 10 error annotations per step anyway


async def repository_root(project: Path) -> Path:
    try:
        found = await trio.run_process(
            ["git", "-C", str(project), "rev-parse", "--show-toplevel"],
            capture_stdout=True,
            stderr=subprocess.DEVNULL,
            check=False,
        )
    except OSError:  # no git
        return project
    text = found.stdout.decode(errors="replace").strip()
    return Path(text) if found.returncode == 0 and text else project


def _data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(escaped)


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(group: ErrorGroup, cwd: Path, repository: Path) -> str | None:
    """The ``::error`` line for ``group`` (found in the output of a process that runs in ``cwd``), if it has a file
    and line inside ``repository``."""
    found = _LOCATION.match(group.location or "")
    if found is None:
        return None
    path = Path(os.path.normpath(cwd / found["file"]))  # an absolute file stays itself
    try:
        relative = path.relative_to(repository)
    except ValueError:
        return None
    fields = [f"file={_property(relative.as_posix())}", f"line={found['line']}"]
    if found["col"]:
        fields.append(f"col={found['col']}")
    fields.append(f"title={_property(f'{group.process}: {group.family} {group.type}')}")
    return f"::error {','.join(fields)}::{_data(group.message)}"


def error_lines(groups: list[ErrorGroup], project: ProjectSpec, repository: Path) -> list[str]:
    lines: list[str] = []
    for group in groups:
        spec = project.processes.get(group.process)
        line = annotation(group, spec.cwd if spec is not None else project.root, repository)
        if line is not None and line not in lines:
            lines.append(line)
    return lines[:MAX_ANNOTATIONS]
