"""``brummer mcp config``: the stdio entry for an MCP client, printed or merged into that client's own file.

Every client gets the same server: ``brummer mcp --dir <project>`` (or ``brummer mcp --all``, the hub), which needs
no token because it finds the running instance itself. Only the file differs:

============  ==========================  =================================  ==========================
client        project scope               user scope                         shape
============  ==========================  =================================  ==========================
claude-code   ``.mcp.json``               ``~/.claude.json``                 ``mcpServers`` (JSON)
cursor        ``.cursor/mcp.json``        ``~/.cursor/mcp.json``             ``mcpServers`` (JSON)
vscode        ``.vscode/mcp.json``        the profile's ``User/mcp.json``    ``servers`` (JSON)
codex         ``.codex/config.toml``      ``~/.codex/config.toml``           ``[mcp_servers.NAME]``
json          (printed only)                                                 ``mcpServers`` (JSON)
============  ==========================  =================================  ==========================

Merging keeps every other entry and the file's indentation, and writes atomically (a temporary file renamed over
the old one). It never writes through a symbolic link (a cloned repository could plant ``.mcp.json`` pointing at
another file) and leaves a file it cannot parse untouched, with a one-line error.
"""

from __future__ import annotations

import enum
import json
import os
import re
import shutil
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brummer.config.files import MAX_CONFIG_BYTES, is_file, read_text, too_deep, write_atomically
from brummer.errors import ConfigError, UsageError

SERVER_NAME = "brummer"
# A user's own file may be big (Claude Code keeps its project history in ~/.claude.json); a project's is capped
# like every file a repository can plant.
USER_FILE_LIMIT = 256 * 1024 * 1024
_INDENT = re.compile(r"^([ \t]+)\S", re.MULTILINE)
_TOML_TABLE = re.compile(r"^\s*\[")


class Client(enum.StrEnum):
    CLAUDE_CODE = "claude-code"
    CURSOR = "cursor"
    VSCODE = "vscode"
    CODEX = "codex"
    JSON = "json"


class Scope(enum.StrEnum):
    PROJECT = "project"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Entry:
    """The server entry: how the client starts brummer."""

    command: str
    args: tuple[str, ...]

    def as_json(self, client: Client) -> dict[str, Any]:
        body: dict[str, Any] = {"command": self.command, "args": list(self.args)}
        return {"type": "stdio", **body} if client in (Client.VSCODE, Client.CLAUDE_CODE) else body


def entry(root: Path, *, all_projects: bool, client: Client, scope: Scope) -> Entry:
    """``brummer mcp --dir ROOT`` (``--all`` for the hub), started the way this brummer was installed."""
    if all_projects:
        tail: tuple[str, ...] = ("mcp", "--all")
    elif client is Client.VSCODE and scope is Scope.PROJECT:
        tail = ("mcp", "--dir", "${workspaceFolder}")  # VS Code expands it: the file stays valid for the whole team
    else:
        tail = ("mcp", "--dir", str(root))
    on_path = shutil.which(SERVER_NAME)
    ours = Path(sys.executable).with_name(SERVER_NAME)
    if on_path is not None and ours.exists() and os.path.realpath(on_path) == os.path.realpath(ours):
        return Entry(SERVER_NAME, tail)
    return Entry(sys.executable, ("-m", "brummer", *tail))  # not on PATH (a venv): the interpreter that has it


def configure(
    directory: Path, client: Client, scope: Scope, *, all_projects: bool, write: bool, environ: Mapping[str, str]
) -> tuple[str, str]:
    """What ``brummer mcp config`` prints on stdout, and a hint for stderr (may be empty)."""
    root = directory.resolve()
    server = entry(root, all_projects=all_projects, client=client, scope=scope)
    path = config_path(client, scope, root, environ)
    if not write:
        return render(client, server), f"# goes in {path} (or run with --write)" if path is not None else ""
    if path is None:
        raise UsageError("--client json has no file of its own: print it and paste it where your client wants it")
    what = merge(client, path, server, inside=root if scope is Scope.PROJECT else None)
    said = {"added": "added", "updated": "updated", "unchanged": "already up to date:"}[what]
    return f"{said} {SERVER_NAME} ({' '.join([server.command, *server.args])}) in {path}\n", ""


def config_path(client: Client, scope: Scope, root: Path, environ: Mapping[str, str]) -> Path | None:
    """The client's file for ``scope``; None for ``json``, which is only printed."""
    home = Path(environ.get("HOME") or Path.home())
    if client is Client.CLAUDE_CODE:
        return root / ".mcp.json" if scope is Scope.PROJECT else home / ".claude.json"
    if client is Client.CURSOR:
        return (root if scope is Scope.PROJECT else home) / ".cursor" / "mcp.json"
    if client is Client.VSCODE:
        if scope is Scope.PROJECT:
            return root / ".vscode" / "mcp.json"
        if sys.platform == "darwin":
            return home / "Library" / "Application Support" / "Code" / "User" / "mcp.json"
        config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        return config / "Code" / "User" / "mcp.json"
    if client is Client.CODEX:
        codex_home = Path(environ["CODEX_HOME"]) if environ.get("CODEX_HOME") else home / ".codex"
        return (root / ".codex" if scope is Scope.PROJECT else codex_home) / "config.toml"
    return None


def _servers_key(client: Client) -> str:
    return "servers" if client is Client.VSCODE else "mcpServers"


def render(client: Client, server: Entry) -> str:
    """What to paste into the client's file (the whole document for a new file)."""
    if client is Client.CODEX:
        return _toml_table(server)
    return json.dumps({_servers_key(client): {SERVER_NAME: server.as_json(client)}}, indent=2) + "\n"


def merge(client: Client, path: Path, server: Entry, *, inside: Path | None) -> str:
    """Merge ``server`` into ``path``; returns what happened ("added", "updated" or "unchanged").

    ``inside``: the project root for a project's file, whose links are refused (the repository may have planted
    them). A user-level file (``inside`` None) may be the user's own link (dotfile managers): it is followed, so
    the link stays a link.
    """
    if inside is not None:
        _refuse_links(path, inside)
    else:
        path = path.resolve()
    text = read_text(path, MAX_CONFIG_BYTES if inside is not None else USER_FILE_LIMIT) if is_file(path) else ""
    try:
        if client is Client.CODEX:
            new_text, what = _merge_toml(path, text, server)
        else:
            new_text, what = _merge_json(client, path, text, server)
    except RecursionError:
        raise too_deep(path) from None
    if what != "unchanged":
        write_atomically(path, new_text)
    return what


def _merge_json(client: Client, path: Path, text: str, server: Entry) -> tuple[str, str]:
    try:
        document = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ConfigError(f"not valid JSON ({exc}); left untouched, add the entry by hand", path) from None
    key = _servers_key(client)
    if not isinstance(document, dict) or not isinstance(document.get(key, {}), dict):
        raise ConfigError(f'expected a JSON object with an object "{key}"; left untouched', path)
    servers = document.setdefault(key, {})
    wanted = server.as_json(client)
    old = servers.get(SERVER_NAME)
    if old == wanted:
        return text, "unchanged"
    servers[SERVER_NAME] = {**old, **wanted} if isinstance(old, dict) else wanted  # keep the user's extra keys
    indent = _INDENT.search(text)
    spaces = indent.group(1) if indent else "  "
    return json.dumps(document, indent=spaces, ensure_ascii=False) + "\n", "added" if old is None else "updated"


def _toml_table(server: Entry) -> str:
    args = ", ".join(json.dumps(arg) for arg in server.args)  # a JSON string is a valid TOML basic string
    return f"[mcp_servers.{SERVER_NAME}]\ncommand = {json.dumps(server.command)}\nargs = [{args}]\n"


def _merge_toml(path: Path, text: str, server: Entry) -> tuple[str, str]:
    """Text-level, so the user's comments and layout survive: replace our table, or append it."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc}); left untouched, add the entry by hand", path) from None
    old = document.get("mcp_servers", {}).get(SERVER_NAME)
    if isinstance(old, dict) and old.get("command") == server.command and old.get("args") == list(server.args):
        return text, "unchanged"
    table = _toml_table(server)
    lines = text.splitlines(keepends=True)
    header = re.compile(rf"^\s*\[\s*mcp_servers\s*\.\s*\"?{SERVER_NAME}\"?\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        separator = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
        return text + separator + table, "added"
    end = next((i for i in range(start + 1, len(lines)) if _TOML_TABLE.match(lines[i])), len(lines))
    merged = "".join([*lines[:start], table, *(["\n"] if end < len(lines) else []), *lines[end:]])
    return merged, "updated"


def _refuse_links(path: Path, root: Path) -> None:
    """Neither the file nor a folder between it and ``root`` may be a symbolic link."""
    candidate = path
    while candidate != root and root in candidate.parents:
        if candidate.is_symlink():
            raise ConfigError(
                f"{candidate.relative_to(root)} is a symbolic link (to {os.readlink(candidate)}); brummer does not "
                "write through links in a project: add the entry by hand",
                path,
            )
        candidate = candidate.parent
