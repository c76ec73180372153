""".env, env_file and env: later wins, and only brummer's additions end up in ProcessSpec.env."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from brummer.config import ProjectSpec
from brummer.errors import ConfigError

Discover = Callable[..., ProjectSpec]

TOML = """\
[processes.api]
cmd = "uvicorn"
env_file = ["config/base.env", "config/local.env"]
env = { LEVEL = "env-table" }

[processes.worker]
cmd = "celery"
env_file = "config/base.env"
"""


def test_layering_order(discover: Discover) -> None:
    project = discover(
        {
            ".env": "LEVEL=dotenv\nONLY_DOTENV=1\nEMPTY\nQUOTED='a b'\n",
            "config/base.env": "LEVEL=base\nONLY_BASE=1\n",
            "config/local.env": "LEVEL=local\nONLY_LOCAL=1\n",
            "brummer.toml": TOML,
            "Procfile": "clock: ./clock\n",
        },
        environ={"LEVEL": "os-environ", "HOME": "/nowhere"},
    )
    api = project.processes["api"].env
    assert api == {
        "LEVEL": "env-table",
        "ONLY_DOTENV": "1",
        "EMPTY": "",
        "QUOTED": "a b",
        "ONLY_BASE": "1",
        "ONLY_LOCAL": "1",
    }
    assert project.processes["worker"].env["LEVEL"] == "base"
    assert "ONLY_LOCAL" not in project.processes["worker"].env
    # Processes from other sources get .env too; never the inherited environment.
    assert project.processes["clock"].env == {
        "LEVEL": "dotenv",
        "ONLY_DOTENV": "1",
        "EMPTY": "",
        "QUOTED": "a b",
    }
    root = project.root
    for name in (".env", "config/base.env", "config/local.env"):
        assert root / name in project.files


def test_env_file_layers_left_to_right(discover: Discover) -> None:
    toml = '[processes.a]\ncmd = "x"\nenv_file = ["two.env", "one.env"]\n'
    project = discover({"one.env": "V=one\n", "two.env": "V=two\n", "brummer.toml": toml})
    assert project.processes["a"].env == {"V": "one"}


def test_missing_env_file_is_named(discover: Discover) -> None:
    toml = '[processes.a]\ncmd = "x"\n\nenv_file = ["present.env", "missing.env"]\n'
    with pytest.raises(ConfigError, match=r"brummer\.toml:4: env file not found: .*missing\.env"):
        discover({"present.env": "A=1\n", "brummer.toml": toml})


def test_refinement_adds_env_to_a_script(discover: Discover) -> None:
    project = discover(
        {
            "package.json": {"scripts": {"dev": "vite"}},
            ".env": "PORT=3000\nMODE=dotenv\n",
            "brummer.toml": '[processes.dev]\nenv = { MODE = "toml" }\n',
        }
    )
    assert project.processes["dev"].env == {"PORT": "3000", "MODE": "toml"}
    assert project.processes["dev"].command == ("npm", "run", "dev")


def test_malformed_env_file_names_file_and_line(discover: Discover) -> None:
    with pytest.raises(ConfigError, match=r"\.env:3: cannot parse 'this is not a variable' \(expected NAME=value\)"):
        discover({".env": "A=1\n# comment\nthis is not a variable\nB=2\n", "Procfile": "web: x\n"})


def test_malformed_env_file_of_a_process(discover: Discover) -> None:
    toml = '[processes.a]\ncmd = "x"\nenv_file = "a.env"\n'
    with pytest.raises(ConfigError, match=r"a\.env:2: cannot parse 'C=\"open quote'"):
        discover({"a.env": 'OK=1\nC="open quote\n', "brummer.toml": toml})
