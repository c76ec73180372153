"""brummer.toml and the user config file: parsed with tomllib, checked key by key, errors at ``file:line``.

This module owns the top level (``default``, ``check``, settings keys, the ``[processes]`` table); each process table is
checked by ``toml_process``. tomllib reports positions only for syntax errors, so value errors find their line
by searching the raw text (``files.toml_line``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brummer.config.files import read_text, toml_line, too_deep
from brummer.config.settings import SETTING_KEYS, check_setting
from brummer.config.toml_process import TomlProcess, parse_process
from brummer.errors import ConfigError

BRUMMER_TOML = "brummer.toml"
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


@dataclass(frozen=True, slots=True)
class TomlDocument:
    """A parsed TOML file plus its raw text, so that errors can point at lines."""

    path: Path
    text: str
    data: dict[str, Any]

    def error(
        self, message: str, section: tuple[str, ...] = (), key: str | None = None, value: str | None = None
    ) -> ConfigError:
        return ConfigError(message, self.path, toml_line(self.text, section, key, value))


@dataclass(frozen=True, slots=True)
class BrummerToml:
    """What a project's brummer.toml says, still unmerged with the other sources."""

    document: TomlDocument
    settings: dict[str, object] = field(default_factory=dict)
    default: tuple[str, ...] | None = None  # None: the file does not say
    checks: tuple[str, ...] = ()  # `check = [...]`: what `brummer smoke` runs when no --check is given
    processes: dict[str, TomlProcess] = field(default_factory=dict)  # in file order


def load_toml(path: Path) -> TomlDocument:
    """Read and parse ``path``; a syntax error becomes ``ConfigError(path, line)`` with tomllib's message."""
    text = read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = None
        if position := _POSITION.search(message):
            line = int(position.group(1))
            message = f"{message[: position.start()]} at column {position.group(2)}"
        elif end := _AT_END.search(message):
            line = max(1, len(text.splitlines()))
            message = f"{message[: end.start()]} at end of file"
        raise ConfigError(f"invalid TOML: {message}", path, line) from None
    except RecursionError:
        raise too_deep(path) from None
    return TomlDocument(path, text, data)


def _settings(document: TomlDocument, allowed: frozenset[str], what: str) -> dict[str, object]:
    """Check the top-level keys and return the settings among them."""
    settings: dict[str, object] = {}
    for key, value in document.data.items():
        if key not in allowed:
            expected = ", ".join(sorted(allowed))
            raise document.error(f"unknown key {key!r} in {what} (expected one of: {expected})", (), key)
        if key in SETTING_KEYS:
            try:
                settings[key] = check_setting(key, value)
            except ValueError as exc:
                raise document.error(f"{key} {exc}", (), key) from None
    return settings


def read_user_config(path: Path) -> tuple[TomlDocument, dict[str, object]]:
    """The user's settings file; it may only hold settings, processes belong to a project."""
    document = load_toml(path)
    if "processes" in document.data:
        raise document.error(
            "the user config cannot define processes; put them in a project's brummer.toml", ("processes",)
        )
    return document, _settings(document, frozenset(SETTING_KEYS), "the user config")


def read_brummer_toml(path: Path) -> BrummerToml:
    """Parse a project's brummer.toml: settings, ``default`` and every ``[processes.NAME]`` table."""
    document = load_toml(path)
    settings = _settings(document, frozenset({*SETTING_KEYS, "default", "check", "processes"}), BRUMMER_TOML)
    default: tuple[str, ...] | None = None
    if "default" in document.data:
        raw = document.data["default"]
        if not isinstance(raw, list) or not all(isinstance(name, str) and name for name in raw):
            raise document.error("default must be an array of process names", (), "default")
        default = tuple(dict.fromkeys(raw))
    checks = document.data.get("check", [])
    if not isinstance(checks, list) or not all(isinstance(cmd, str) and cmd.strip() for cmd in checks):
        raise document.error("check must be an array of shell commands (run in order by brummer smoke)", (), "check")
    table = document.data.get("processes", {})
    if not isinstance(table, dict):
        raise document.error("processes must be a table of [processes.NAME] tables", (), "processes")
    processes: dict[str, TomlProcess] = {}
    for name, body in table.items():
        if not isinstance(body, dict):
            raise document.error(f"processes.{name} must be a table", ("processes",), name)
        if not name.strip() or name != name.strip():
            raise document.error(f"process name {name!r} must be non-empty without surrounding spaces")
        processes[name] = parse_process(name, body, document.error)
    return BrummerToml(document, settings, default, tuple(checks), processes)
