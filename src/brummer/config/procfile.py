"""Procfile: ``name: command`` lines, the lingua franca of foreman, honcho and Heroku.

Commands are shell strings (run with ``/bin/sh -c``) because that is what every Procfile runner does; people
write pipes and ``$PORT`` in them. Unlike honcho, a malformed line is an error rather than silently skipped: a
typo would otherwise make a process vanish without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from brummer.config.files import read_text
from brummer.errors import ConfigError

PROCFILE = "Procfile"
_ENTRY = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.*?)\s*$")
_NAME_CHARS = "letters, digits, '_' and '-'"


@dataclass(frozen=True, slots=True)
class ProcfileEntry:
    name: str
    command: str
    line: int


def parse_procfile(text: str, path: Path) -> list[ProcfileEntry]:
    """Parse Procfile text; ``path`` only names the file in errors."""
    entries: list[ProcfileEntry] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENTRY.match(line)
        if match is None:
            name = line.partition(":")[0].strip()
            if ":" in line and name:
                raise ConfigError(f"process name {name!r} may only contain {_NAME_CHARS}", path, number)
            raise ConfigError(f"expected 'name: command', got {line!r}", path, number)
        name, command = match.groups()
        if not command:
            raise ConfigError(f"process {name!r} has no command", path, number)
        if name in seen:
            raise ConfigError(f"process {name!r} is already defined on line {seen[name]}", path, number)
        seen[name] = number
        entries.append(ProcfileEntry(name, command, number))
    return entries


def read_procfile(path: Path) -> list[ProcfileEntry]:
    return parse_procfile(read_text(path), path)
