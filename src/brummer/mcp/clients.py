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

The entry's name: ``brummer`` in a project's file and for the hub; a user-wide entry for one project is
``brummer-<project folder>``, so that it and the hub (and other projects) live side by side in one user file.

A project's file is meant to be shared (committed): where the client expands a variable to the project's folder
(VS Code's and Cursor's ``${workspaceFolder}``; Claude Code's ``${CLAUDE_PROJECT_DIR:-.}``, which it sets for the
servers it starts, and ``.``, the folder it starts them in, where it does not), the entry names that instead of this
machine's path. Where an entry still names a path of this machine (Codex expands nothing; brummer off ``PATH`` is
started by its interpreter's path), a note on stderr says so. ``client_files`` prints the entry or merges it into
the client's file.
"""

from __future__ import annotations

import enum
import os
import re
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVER_NAME = "brummer"
# The client's own name for the project's folder, where it has one (see the module docstring).
PROJECT_FOLDER = {
    "vscode": "${workspaceFolder}",
    "cursor": "${workspaceFolder}",
    "claude-code": "${CLAUDE_PROJECT_DIR:-.}",
}
HUB = "the hub (every project)"


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
    """The server entry: its name in the client's file, and how the client starts brummer."""

    name: str
    command: str
    args: tuple[str, ...]

    def as_json(self, client: Client) -> dict[str, Any]:
        body: dict[str, Any] = {"command": self.command, "args": list(self.args)}
        return {"type": "stdio", **body} if client in (Client.VSCODE, Client.CLAUDE_CODE) else body

    @property
    def line(self) -> str:
        return " ".join([self.command, *self.args])


def entry(root: Path, *, all_projects: bool, client: Client, scope: Scope) -> Entry:
    """``brummer mcp --dir ROOT`` (``--all`` for the hub), started the way this brummer was installed."""
    name = SERVER_NAME
    if all_projects:
        tail: tuple[str, ...] = ("mcp", "--all")
    elif scope is Scope.PROJECT and str(client) in PROJECT_FOLDER:
        tail = ("mcp", "--dir", PROJECT_FOLDER[str(client)])
    else:
        tail = ("mcp", "--dir", str(root))
        if scope is Scope.USER:
            name = f"{SERVER_NAME}-{re.sub(r'[^A-Za-z0-9_-]+', '-', root.name).strip('-')[:40] or 'project'}"
    on_path = shutil.which(SERVER_NAME)
    ours = Path(sys.executable).with_name(SERVER_NAME)
    if on_path is not None and ours.exists() and os.path.realpath(on_path) == os.path.realpath(ours):
        return Entry(name, SERVER_NAME, tail)
    return Entry(name, sys.executable, ("-m", "brummer", *tail))  # not on PATH (a venv): the interpreter that has it


def serves(args: Sequence[object], root: Path) -> str | None:
    """What an entry with these ``args`` serves: ``HUB``, a project's path (a client's variable for the project's
    folder is ``root``), or None when the entry does not look like one of brummer's."""
    words = [str(arg) for arg in args]
    if "mcp" not in words:
        return None
    rest = words[words.index("mcp") + 1 :]
    if "--all" in rest:
        return HUB
    if "--dir" in rest and rest.index("--dir") + 1 < len(rest):
        folder = rest[rest.index("--dir") + 1]
        return str(root) if folder in PROJECT_FOLDER.values() else folder
    return None


def machine_note(server: Entry, path: Path | None) -> str:
    """One line when a project's entry names paths that only this machine has."""
    paths = [arg for arg in (server.command, *server.args) if os.path.isabs(arg)]
    if path is None or not paths:
        return ""
    return (
        f"note: the entry names {' and '.join(paths)}, paths of this machine: "
        f"whoever shares {path.name} runs `brummer mcp config --write` on theirs"
    )


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
