"""Fixtures for config tests: write a real project into tmp_path and discover it in isolation.

Discovery reads ``os.environ`` and ``~/.config`` by default; every helper here passes an empty environment and
a user config path that does not exist, so the developer's own settings never leak into a test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from brummer.config import ProjectSpec, discover_project

Write = Callable[[Mapping[str, object]], Path]
Discover = Callable[..., ProjectSpec]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write ``{relative path: text or JSON-able object}`` under ``tmp_path/project``; return the root."""
    root = tmp_path / "project"
    root.mkdir(exist_ok=True)

    def write_files(files: Mapping[str, object]) -> Path:
        for relative, content in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
        return root

    return write_files


@pytest.fixture
def discover(tmp_path: Path, write: Write) -> Discover:
    """``discover(files, **kwargs)``: write the files, then discover with an empty env and no user config."""

    def run(files: Mapping[str, object] | None = None, **kwargs: object) -> ProjectSpec:
        root = write(files or {})
        kwargs.setdefault("environ", {})
        kwargs.setdefault("user_config", tmp_path / "no-user-config.toml")
        return discover_project(root, **kwargs)  # type: ignore[arg-type]

    return run
