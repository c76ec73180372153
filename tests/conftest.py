"""Fixtures for every test: a clean colour environment, and no brummer marks inherited from a parent brummer."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("NO_COLOR", "FORCE_COLOR", "BRUMMER_RUN", "BRUMMER_INSTANCE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BRUMMER_PROXY_BASE_PORT", "0")  # any free port: tests run concurrently, never on 20888
