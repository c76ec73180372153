"""Fixtures for every test: a clean colour environment, no brummer marks inherited from a parent brummer, and an
instance registry of its own (never the user's: tests of several checkouts run at once on one machine)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _clean_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NO_COLOR", "FORCE_COLOR", "BRUMMER_RUN", "BRUMMER_INSTANCE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BRUMMER_PROXY_BASE_PORT", "0")  # any free port: tests run concurrently, never on 20888


@pytest.fixture(autouse=True)
def _own_runtime_dir(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``$XDG_RUNTIME_DIR`` of this test (and of the brummers it starts, which inherit it)."""
    runtime = tmp_path_factory.mktemp("xdg-runtime")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    return runtime
