"""Project files a cloned repository can plant: nested 100k deep, FIFOs, devices, huge files.

Each must end in one line naming the file (exit 2 from the CLI), quickly, with nothing started and nothing written:
never a RecursionError traceback, never a hang on a FIFO, never reading /dev/zero until memory runs out.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from brummer.config import ProjectSpec, discover_project
from brummer.config.files import MAX_CONFIG_BYTES
from brummer.errors import ConfigError
from helpers_cli import run_brummer

Discover = Callable[..., ProjectSpec]

DEEP = 100_000
DEEP_JSON = "[" * DEEP + "]" * DEEP + "\n"
DEEP_TOML = "x = " + "[" * DEEP + "]" * DEEP + "\n"


def _isolated(root: Path, tmp_path: Path) -> ProjectSpec:
    return discover_project(root, environ={}, user_config=tmp_path / "no-user-config.toml")


@pytest.mark.parametrize(
    ("files", "named"),
    [
        ({"package.json": DEEP_JSON}, "package.json"),
        ({"brummer.toml": DEEP_TOML}, "brummer.toml"),
        (
            {"package.json": '{"workspaces": ["packages/*"]}', "packages/a/package.json": DEEP_JSON},
            "packages/a/package.json",
        ),
        ({"package.json": '{"scripts": {"dev": "x"}, "deep": ' + DEEP_JSON.strip() + "}"}, "package.json"),
    ],
)
def test_deeply_nested_files_are_one_config_error(tmp_path: Path, files: dict[str, str], named: str) -> None:
    root = tmp_path / "project"
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    with pytest.raises(ConfigError) as caught:
        _isolated(root, tmp_path)
    assert caught.value.path == root / named
    assert "nested too deeply" in str(caught.value)


def test_deep_user_config_is_a_config_error(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Procfile").write_text("a: true\n")
    user = tmp_path / "user.toml"
    user.write_text(DEEP_TOML)
    with pytest.raises(ConfigError, match="nested too deeply") as caught:
        discover_project(root, environ={}, user_config=user)
    assert caught.value.path == user


@pytest.mark.parametrize("name", ["package.json", "Procfile", "brummer.toml", ".env", "pnpm-workspace.yaml"])
def test_a_fifo_is_refused_without_blocking(tmp_path: Path, name: str) -> None:
    """Nobody writes into the FIFO: opening it for reading would block forever without O_NONBLOCK."""
    root = tmp_path / "project"
    root.mkdir()
    if name != "package.json":
        (root / "package.json").write_text('{"scripts": {"dev": "x"}}')
    os.mkfifo(root / name)
    with pytest.raises(ConfigError, match="not a regular file") as caught:
        _isolated(root, tmp_path)
    assert caught.value.path == root / name


@pytest.mark.parametrize("name", ["package.json", "brummer.toml", ".env"])
def test_a_link_to_a_device_is_refused(tmp_path: Path, name: str) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "Procfile").write_text("a: true\n")
    (root / name).symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="not a regular file") as caught:
        _isolated(root, tmp_path)
    assert caught.value.path == root / name


def test_env_file_naming_a_device_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "brummer.toml").write_text('[processes.a]\ncmd = "true"\nenv_file = "/dev/zero"\n')
    with pytest.raises(ConfigError, match="not a regular file"):
        _isolated(root, tmp_path)


def test_a_directory_named_like_a_config_file_is_ignored(tmp_path: Path) -> None:
    """A Python virtualenv called ``.env`` is common: it is not a dotenv file, and not an error."""
    root = tmp_path / "project"
    (root / ".env" / "bin").mkdir(parents=True)
    (root / "Procfile").write_text("a: true\n")
    assert list(_isolated(root, tmp_path).processes) == ["a"]


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    with open(root / "package.json", "w") as out:
        out.write('{"scripts": {"dev": "x"}, "pad": "')
        out.truncate(MAX_CONFIG_BYTES + 10)  # sparse: costs no disk
    with pytest.raises(ConfigError, match="too large") as caught:
        _isolated(root, tmp_path)
    assert caught.value.path == root / "package.json"


def test_a_file_at_the_limit_is_read(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    head = '{"scripts": {"dev": "x"}, "pad": "'
    (root / "package.json").write_text(head + "a" * (MAX_CONFIG_BYTES - len(head) - 2) + '"}')
    assert list(_isolated(root, tmp_path).processes) == ["dev"]


@pytest.mark.parametrize(
    ("setup", "args"),
    [
        ({"package.json": DEEP_JSON}, ["ls"]),
        ({"package.json": DEEP_JSON}, ["up", "--plain", "--no-mcp"]),
        ({"brummer.toml": DEEP_TOML}, ["smoke"]),
        ({"package.json": "{}", ".mcp.json": DEEP_JSON}, ["mcp", "config", "--write"]),
        ({"Procfile": "a: true\n", ".codex/config.toml": DEEP_TOML}, ["mcp", "config", "--client", "codex", "--write"]),
    ],
)
def test_cli_says_one_line_and_exits_2(tmp_path: Path, setup: dict[str, str], args: list[str]) -> None:
    root = tmp_path / "project"
    for relative, text in setup.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    before = {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}
    done = run_brummer(args, cwd=root, env={"HOME": str(tmp_path)})
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "nested too deeply" in lines[0]
    assert str(root / next(name for name in setup if setup[name] in (DEEP_JSON, DEEP_TOML))) in lines[0]
    assert {path: path.read_bytes() for path in root.rglob("*") if path.is_file()} == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mkfifo semantics")
def test_cli_on_a_planted_fifo_ends_with_one_line(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    os.mkfifo(root / "package.json")
    done = run_brummer(["ls"], cwd=root, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip() == f"brummer: {root / 'package.json'}: not a regular file (a FIFO)"
