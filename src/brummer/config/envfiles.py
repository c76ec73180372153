"""Dotenv files: the project's ``.env`` and each process's ``env_file``s, read once each.

Values go into ``ProcessSpec.env`` as brummer's additions only; the inherited environment is layered
underneath at spawn time, so ``ls`` and the MCP server can show exactly what the project adds.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from brummer.config.files import is_file, read_text
from brummer.errors import ConfigError

DOTENV = ".env"


class EnvFiles:
    """Loads dotenv files on demand, once each, remembering which were read (for ``ProjectSpec.files``)."""

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, str]] = {}

    @property
    def read(self) -> list[Path]:
        return list(self._cache)

    def load(self, path: Path, *, named_in: Path | None = None, line: int | None = None) -> dict[str, str]:
        """The variables of ``path``; a missing file is a ConfigError pointing at where it was named."""
        if path not in self._cache:
            if not is_file(path):
                where = named_in if named_in is not None else path
                raise ConfigError(f"env file not found: {path}", where, line if named_in is not None else None)
            text = read_text(path)
            _check_syntax(text, path)
            # ``KEY`` without ``=`` parses to None: treat it as set-but-empty, like a shell would.
            values = dotenv_values(stream=io.StringIO(text))
            self._cache[path] = {key: "" if value is None else value for key, value in values.items()}
        return self._cache[path]

    def load_optional(self, path: Path) -> dict[str, str]:
        """Like ``load`` but a missing file is simply empty (the project's ``.env`` is optional)."""
        return self.load(path) if is_file(path) else {}


def _check_syntax(text: str, path: Path) -> None:
    """python-dotenv skips a line it cannot parse with only a logged warning: a typo would silently drop a
    variable. We refuse the file instead, naming the line."""
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            statement = binding.original.string.strip()
            shown = statement if len(statement) <= 60 else statement[:59] + "…"
            raise ConfigError(f"cannot parse {shown!r} (expected NAME=value)", path, binding.original.line)


def layer(*mappings: Mapping[str, str]) -> dict[str, str]:
    """Merge env mappings; later ones win."""
    merged: dict[str, str] = {}
    for mapping in mappings:
        merged.update(mapping)
    return merged
