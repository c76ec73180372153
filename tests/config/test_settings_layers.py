"""Settings precedence: flags > BRUMMER_* environment > project brummer.toml > user config file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from brummer.config import ProjectSpec, Settings, discover_project
from brummer.config.settings import SETTING_KEYS, Overrides, default_user_config
from brummer.errors import ConfigError

Discover = Callable[..., ProjectSpec]

USER = "grace = 1\nlog_max_lines = 11\nlog_max_bytes = 111\nmcp_port = 1111\nmcp = false\nproxy = false\n"
PROJECT = "grace = 2\nlog_max_lines = 22\nlog_max_bytes = 222\nmcp_port = 2222\n"
ENVIRON = {"BRUMMER_GRACE": "3", "BRUMMER_LOG_MAX_LINES": "33", "BRUMMER_MCP": "yes"}
FLAGS = Overrides(grace=4.5, proxy=True)


def _user(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "user.toml"
    path.write_text(text)
    return path


def test_defaults_without_any_layer(discover: Discover) -> None:
    project = discover({})
    assert project.settings == Settings()
    assert project.processes == {}
    assert project.default == ()
    assert project.files == ()


def test_user_layer_alone(discover: Discover, tmp_path: Path) -> None:
    user = _user(tmp_path, USER + "allow_remote = true\n")
    project = discover({"Procfile": "web: x\n"}, user_config=user)
    assert project.settings == Settings(
        grace=1.0,
        log_max_lines=11,
        log_max_bytes=111,
        mcp_port=1111,
        mcp=False,
        proxy=False,
        allow_remote=True,
    )
    assert project.processes["web"].grace == 1.0
    assert user in project.files


def test_all_four_layers(discover: Discover, tmp_path: Path) -> None:
    project = discover(
        {"brummer.toml": PROJECT + '[processes.web]\ncmd = "x"\ngrace = 9\n'},
        overrides=FLAGS,
        environ=ENVIRON,
        user_config=_user(tmp_path, USER),
    )
    assert project.settings == Settings(
        grace=4.5,  # flag
        log_max_lines=33,  # environment
        log_max_bytes=222,  # project
        mcp_port=2222,  # project (the flag was None: not given)
        mcp=True,  # environment over the user's false
        proxy=True,  # flag over the user's false
        allow_remote=False,  # nobody said
    )
    # A settings-level grace overrides every process's own.
    assert project.processes["web"].grace == 4.5


def test_environment_beats_project(discover: Discover) -> None:
    project = discover(
        {"brummer.toml": "proxy = true\nmcp_port = 1\n"},
        environ={"BRUMMER_PROXY": "0", "BRUMMER_MCP_PORT": "8080", "BRUMMER_ALLOW_REMOTE": "TRUE"},
    )
    assert project.settings.proxy is False
    assert project.settings.mcp_port == 8080
    assert project.settings.allow_remote is True


def test_process_grace_only_beats_the_builtin_default(discover: Discover) -> None:
    text = '[processes.web]\ncmd = "x"\ngrace = 9\n[processes.api]\ncmd = "y"\n'
    project = discover({"brummer.toml": text})
    assert project.settings.grace is None
    assert project.processes["web"].grace == 9.0
    assert project.processes["api"].grace == 5.0


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("BRUMMER_GRACE", "soon", "BRUMMER_GRACE='soon' must be a number"),
        ("BRUMMER_GRACE", "-1", "must be a finite number >= 0"),
        ("BRUMMER_MCP", "maybe", "BRUMMER_MCP='maybe' must be one of 0, 1, true, false, yes, no"),
        ("BRUMMER_MCP_PORT", "70000", "BRUMMER_MCP_PORT='70000' must be a port number"),
        ("BRUMMER_LOG_MAX_LINES", "1e3", "BRUMMER_LOG_MAX_LINES='1e3' must be an integer"),
        ("BRUMMER_LOG_MAX_BYTES", "0", "BRUMMER_LOG_MAX_BYTES='0' must be an integer >= 1"),
    ],
)
def test_malformed_environment_names_the_variable(discover: Discover, var: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match="environment variable") as info:
        discover({}, environ={var: value})
    assert message in str(info.value)


def test_empty_environment_value_is_unset(discover: Discover) -> None:
    assert discover({}, environ={"BRUMMER_GRACE": ""}).settings.grace is None


def test_bad_flag_value(discover: Discover) -> None:
    with pytest.raises(ConfigError, match="--mcp-port must be a port number"):
        discover({}, overrides=Overrides(mcp_port=-5))


def test_user_config_cannot_define_processes(discover: Discover, tmp_path: Path) -> None:
    user = _user(tmp_path, 'grace = 1\n\n[processes.web]\ncmd = "x"\n')
    with pytest.raises(ConfigError, match=r"user\.toml:3: the user config cannot define processes"):
        discover({}, user_config=user)


def test_user_config_rejects_unknown_and_project_keys(discover: Discover, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"user\.toml:1: unknown key 'default' in the user config"):
        discover({}, user_config=_user(tmp_path, 'default = ["web"]\n'))


def test_user_config_location_from_environment(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "brummer").mkdir(parents=True)
    (xdg / "brummer" / "config.toml").write_text("mcp_port = 4242\n")
    project_dir = tmp_path / "p"
    project_dir.mkdir()
    assert discover_project(project_dir, environ={"XDG_CONFIG_HOME": str(xdg)}).settings.mcp_port == 4242
    home = tmp_path / "home"
    assert default_user_config({"HOME": str(home)}) == home / ".config" / "brummer" / "config.toml"
    assert default_user_config({"HOME": str(home), "XDG_CONFIG_HOME": "relative"}) == (
        home / ".config" / "brummer" / "config.toml"
    )
    # A missing user config is fine.
    assert discover_project(project_dir, environ={"HOME": str(home)}).settings == Settings()


def test_overrides_cover_every_setting() -> None:
    assert {field.name for field in dataclasses.fields(Overrides)} == set(SETTING_KEYS)


@pytest.mark.parametrize(
    ("project_grace", "user_grace", "flag", "env", "expected_web", "expected_api"),
    [
        (None, None, None, None, 9.0, 5.0),  # the process's own, else the built-in default
        (2, None, None, None, 9.0, 2.0),  # the process's own beats the project's
        (None, 1, None, None, 9.0, 1.0),  # ... and the user's
        (2, 1, None, None, 9.0, 2.0),  # the project's beats the user's
        (2, 1, 4.5, None, 4.5, 4.5),  # a flag beats everything
        (2, 1, None, "3", 3.0, 3.0),  # as does BRUMMER_GRACE for this invocation
    ],
)
def test_the_most_specific_grace_wins(
    discover: Discover,
    tmp_path: Path,
    project_grace: float | None,
    user_grace: float | None,
    flag: float | None,
    env: str | None,
    expected_web: float,
    expected_api: float,
) -> None:
    top = f"grace = {project_grace}\n" if project_grace is not None else ""
    text = top + '[processes.web]\ncmd = "x"\ngrace = 9\n[processes.api]\ncmd = "y"\n'
    user = _user(tmp_path, f"grace = {user_grace}\n" if user_grace is not None else "")
    project = discover(
        {"brummer.toml": text},
        overrides=Overrides(grace=flag),
        environ={"BRUMMER_GRACE": env} if env else {},
        user_config=user,
    )
    assert project.processes["web"].grace == expected_web
    assert project.processes["api"].grace == expected_api


def test_unreadable_user_config_is_one_line(discover: Discover, tmp_path: Path) -> None:
    # As root nothing is unreadable by mode; a path the OS refuses to look at does the same (is_file() raises).
    with pytest.raises(ConfigError, match=r"cannot read: File name too long"):
        discover({}, user_config=tmp_path / ("x" * 5000) / "config.toml")
    unreadable = _user(tmp_path, "grace = 1\n")
    unreadable.write_bytes(b"grace = \xff\n")
    with pytest.raises(ConfigError, match=r"user\.toml: not valid UTF-8"):
        discover({}, user_config=unreadable)
