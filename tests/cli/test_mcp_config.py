"""`brummer mcp config`: each client's format, merging into files with other servers, re-runs, bad files, links."""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from brummer.cli import MCP_CLIENTS, MCP_SCOPES
from brummer.mcp.clients import Client, Scope
from helpers import write_project
from helpers_cli import run_brummer


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", Procfile="web: x\n")


# brummer is started as `python -m brummer`: with this interpreter's folder off PATH, an entry names the interpreter
OFF_PATH = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if Path(d) != Path(sys.executable).parent)


def _config(project: Path, *args: str, home: Path | None = None) -> tuple[int, str, str]:
    env = {"PATH": OFF_PATH, **({"HOME": str(home)} if home is not None else {})}
    result = run_brummer(["mcp", "config", "--dir", str(project), *args], project.parent, env=env)
    return result.returncode, result.stdout, result.stderr


def _brummer_args(server: object) -> list[str]:
    assert isinstance(server, dict)
    args = server["args"]
    assert isinstance(args, list) and all(isinstance(arg, str) for arg in args)
    return args[args.index("mcp") :]


def test_choices_match_the_enums() -> None:
    assert tuple(str(c) for c in Client) == MCP_CLIENTS
    assert tuple(str(s) for s in Scope) == MCP_SCOPES


@pytest.mark.parametrize(
    ("client", "key", "typed", "folder"),
    [
        ("claude-code", "mcpServers", True, "${CLAUDE_PROJECT_DIR:-.}"),
        ("cursor", "mcpServers", False, "${workspaceFolder}"),
        ("json", "mcpServers", False, None),
    ],
)
def test_printed_json_formats(project: Path, client: str, key: str, typed: bool, folder: str | None) -> None:
    code, out, _ = _config(project, "--client", client)
    assert code == 0
    server = json.loads(out)[key]["brummer"]
    assert _brummer_args(server) == ["mcp", "--dir", folder or str(project)]  # the client's name for the folder
    assert ("type" in server) is typed
    code, out, _ = _config(project, "--client", client, "--all")
    assert _brummer_args(json.loads(out)[key]["brummer"]) == ["mcp", "--all"]


def test_vscode_and_codex_formats(project: Path) -> None:
    _, out, _ = _config(project, "--client", "vscode")
    server = json.loads(out)["servers"]["brummer"]
    assert server["type"] == "stdio" and _brummer_args(server) == ["mcp", "--dir", "${workspaceFolder}"]
    _, out, _ = _config(project, "--client", "codex")
    table = tomllib.loads(out)["mcp_servers"]["brummer"]
    assert _brummer_args(table) == ["mcp", "--dir", str(project)]


def test_write_merges_with_other_servers_and_keeps_indentation(project: Path) -> None:
    existing: dict[str, Any] = {"mcpServers": {"other": {"command": "other-server", "args": ["--x"]}}, "keep": [1, 2]}
    target = project / ".mcp.json"
    target.write_text(json.dumps(existing, indent=4) + "\n")
    code, out, _ = _config(project, "--write")
    assert code == 0 and out.startswith("added brummer") and str(target) in out
    written = target.read_text()
    document = json.loads(written)
    assert document["mcpServers"]["other"] == existing["mcpServers"]["other"] and document["keep"] == [1, 2]
    assert _brummer_args(document["mcpServers"]["brummer"]) == ["mcp", "--dir", "${CLAUDE_PROJECT_DIR:-.}"]
    assert '\n    "mcpServers"' in written  # four spaces, as the file had
    # again: nothing to do, the file is not even rewritten
    before = target.stat().st_mtime_ns
    code, out, _ = _config(project, "--write")
    assert code == 0 and out.startswith("already up to date") and target.stat().st_mtime_ns == before
    assert target.read_text() == written


def test_write_creates_the_clients_folder(project: Path) -> None:
    assert _config(project, "--client", "cursor", "--write")[0] == 0
    assert "brummer" in json.loads((project / ".cursor" / "mcp.json").read_text())["mcpServers"]
    assert _config(project, "--client", "vscode", "--write")[0] == 0
    assert "brummer" in json.loads((project / ".vscode" / "mcp.json").read_text())["servers"]


def test_codex_merge_keeps_comments_and_replaces_only_our_table(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = home / ".codex" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        '# my codex settings\nmodel = "o9"\n\n[mcp_servers.brummer]\ncommand = "old"\nargs = []\n\n'
        '[mcp_servers.other]\ncommand = "other"  # keep me\n'
    )
    code, out, err = _config(project, "--client", "codex", "--scope", "user", "--all", "--write", home=home)
    assert code == 0 and out.startswith("updated brummer"), err
    text = config.read_text()
    assert text.startswith("# my codex settings\n") and 'command = "other"  # keep me' in text
    document = tomllib.loads(text)
    assert document["model"] == "o9" and document["mcp_servers"]["other"]["command"] == "other"
    assert _brummer_args(document["mcp_servers"]["brummer"]) == ["mcp", "--all"]
    assert _config(project, "--client", "codex", "--scope", "user", "--all", "--write", home=home)[1].startswith(
        "already"
    )
    code, out, err = _config(project, "--client", "codex", "--scope", "user", "--write", home=home)
    assert code == 0 and out.startswith("added brummer-shop"), err  # one project's entry, next to the hub's
    document = tomllib.loads(config.read_text())
    assert _brummer_args(document["mcp_servers"]["brummer-shop"]) == ["mcp", "--dir", str(project)]
    assert _brummer_args(document["mcp_servers"]["brummer"]) == ["mcp", "--all"]


def test_user_scope_follows_the_users_own_link(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "claude.json").write_text('{"theme": "dark"}\n')
    home.mkdir()
    (home / ".claude.json").symlink_to(dotfiles / "claude.json")
    code, _, err = _config(project, "--scope", "user", "--write", home=home)
    assert code == 0, err
    assert (home / ".claude.json").is_symlink()  # still the user's link, the target updated
    document = json.loads((dotfiles / "claude.json").read_text())
    assert document["theme"] == "dark" and "brummer-shop" in document["mcpServers"]


@pytest.mark.parametrize(
    ("client", "path", "content"),
    [("claude-code", ".mcp.json", '{"mcpServers": {,}'), ("codex", ".codex/config.toml", "[mcp_servers\n")],
)
def test_unparsable_file_is_left_untouched(project: Path, client: str, path: str, content: str) -> None:
    target = project / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    code, out, err = _config(project, "--client", client, "--write")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "left untouched" in err and str(target) in err
    assert target.read_text() == content


def test_planted_link_in_the_project_is_not_written_through(project: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("{}\n")
    (project / ".mcp.json").symlink_to(victim)
    code, _, err = _config(project, "--write")
    assert code == 2 and "symbolic link" in err
    assert victim.read_text() == "{}\n"
    os.unlink(project / ".mcp.json")
    (project / ".cursor").symlink_to(tmp_path, target_is_directory=True)
    code, _, err = _config(project, "--client", "cursor", "--write")
    assert code == 2 and "symbolic link" in err and not (tmp_path / "mcp.json").exists()


def test_json_client_cannot_be_written(project: Path) -> None:
    code, _, err = _config(project, "--client", "json", "--write")
    assert code == 2 and "no file of its own" in err


def test_json_client_prints_no_file_hint(project: Path) -> None:
    code, out, err = _config(project, "--client", "json")
    assert code == 0 and json.loads(out)["mcpServers"]["brummer"]
    assert "goes in" not in err and "--write" not in err


def test_user_entries_for_a_project_and_the_hub_live_side_by_side(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    target = home / ".claude.json"
    code, out, err = _config(project, "--scope", "user", "--write", home=home)
    assert code == 0 and out.startswith(f"added brummer-shop ({sys.executable}"), err
    code, out, err = _config(project, "--scope", "user", "--all", "--write", home=home)
    assert code == 0 and out.startswith("added brummer "), err
    servers = json.loads(target.read_text())["mcpServers"]
    assert _brummer_args(servers["brummer-shop"]) == ["mcp", "--dir", str(project)]
    assert _brummer_args(servers["brummer"]) == ["mcp", "--all"]


def test_replacing_another_kind_of_entry_says_so(project: Path, tmp_path: Path) -> None:
    """A user file from before per-project names: its `brummer` entry serves one project; the hub replaces it."""
    home = tmp_path / "home"
    home.mkdir()
    old = tmp_path / "old-project"
    target = home / ".claude.json"
    target.write_text(
        json.dumps({"mcpServers": {"brummer": {"command": "brummer", "args": ["mcp", "--dir", str(old)]}}})
    )
    code, out, err = _config(project, "--scope", "user", "--all", "--write", home=home)
    assert code == 0, err
    assert out.startswith(f"replaced brummer in {target}: it served the project {old}, now the hub (every project) (")
    assert _brummer_args(json.loads(target.read_text())["mcpServers"]["brummer"]) == ["mcp", "--all"]
    code, out, _ = _config(project, "--write")  # the project's own file: its entry serves it, whatever path it had
    assert out.startswith("added brummer")
    data = json.loads((project / ".mcp.json").read_text())
    data["mcpServers"]["brummer"]["args"][-1] = str(project)
    (project / ".mcp.json").write_text(json.dumps(data))
    code, out, _ = _config(project, "--write")
    assert out.startswith("updated brummer")


def test_shareable_project_entries_and_a_note_for_the_rest(project: Path, tmp_path: Path) -> None:
    """brummer on PATH and a client that names the project's folder: nothing of this machine in the file."""
    on_path = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for client, file in (("claude-code", ".mcp.json"), ("cursor", ".cursor/mcp.json"), ("vscode", ".vscode/mcp.json")):
        done = run_brummer(["mcp", "config", "--client", client, "--write"], project, env=on_path)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        text = (project / file).read_text()
        assert str(project) not in text and str(tmp_path) not in text and '"command": "brummer"' in text
    done = run_brummer(["mcp", "config", "--client", "codex", "--write"], project, env=on_path)
    assert done.returncode == 0
    (note,) = done.stderr.splitlines()
    assert note == (
        f"note: the entry names {project}, paths of this machine: "
        "whoever shares config.toml runs `brummer mcp config --write` on theirs"
    )
    # brummer not on PATH: it is started by this interpreter's path, which the note names (printing too)
    code, _, err = _config(project, "--client", "cursor")
    assert code == 0 and err.splitlines() == [
        f"# goes in {project / '.cursor' / 'mcp.json'} (or run with --write)",
        f"note: the entry names {sys.executable}, paths of this machine: "
        "whoever shares mcp.json runs `brummer mcp config --write` on theirs",
    ]
    user = _config(project, "--scope", "user", home=tmp_path)[2]
    assert "note:" not in user  # a user's file is this machine's anyway
