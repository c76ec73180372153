"""brummer.toml's telemetry keys: ``inject`` (top level, and in a process's ``proxy`` table) and ``browser_eval``."""

from __future__ import annotations

from pathlib import Path

import pytest

from brummer.config.settings import settings_from_env
from brummer.errors import ConfigError
from helpers import load, write_project


def test_inject_and_browser_eval_keys(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml="""
            inject = false
            browser_eval = true

            [processes.web]
            cmd = "true"
            proxy = { inject = false }

            [processes.api]
            cmd = "true"
            proxy = { target = "http://localhost:3001", inject = true }
        """,
    )
    project = load(root)
    assert (project.settings.inject, project.settings.browser_eval) == (False, True)
    assert project.processes["web"].proxy.inject is False and project.processes["web"].proxy.target is None
    assert project.processes["api"].proxy.inject is True
    defaults = load(write_project(tmp_path / "plain", brummer_toml='[processes.web]\ncmd = "true"\n'))
    assert (defaults.settings.inject, defaults.settings.browser_eval) == (True, False)
    assert load(root, browser_eval=False).settings.browser_eval is False  # the flag wins over the file
    assert settings_from_env({"BRUMMER_BROWSER_EVAL": "yes", "BRUMMER_INJECT": "0"}) == {
        "inject": False,
        "browser_eval": True,
    }


def test_a_bad_inject_value_names_the_line(tmp_path: Path) -> None:
    root = write_project(tmp_path, brummer_toml='[processes.web]\ncmd = "true"\nproxy = { inject = "no" }\n')
    with pytest.raises(ConfigError) as error:
        load(root)
    assert "brummer.toml:3:" in str(error.value) and "inject must be true or false" in str(error.value)
    root = write_project(tmp_path / "top", brummer_toml='browser_eval = "yes"\n')
    with pytest.raises(ConfigError, match=r"brummer.toml:1: browser_eval must be true or false"):
        load(root)
