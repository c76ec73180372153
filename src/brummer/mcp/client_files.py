"""``brummer mcp config``'s output: the entry (``clients``) printed, or merged into the client's own file (JSON or
Codex's TOML), keeping the rest.

Merging keeps every other entry and the file's indentation, and writes atomically (a temporary file renamed over
the old one). It never writes through a symbolic link (a cloned repository could plant ``.mcp.json`` pointing at
another file), reads a project's file as any project file (a regular file, at most ``MAX_CONFIG_BYTES``), and leaves
a file it cannot parse untouched, with a one-line error.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from brummer.config.files import MAX_CONFIG_BYTES, is_file, read_text, too_deep, write_atomically
from brummer.errors import ConfigError, UsageError
from brummer.mcp.clients import HUB, Client, Entry, Scope, config_path, entry, machine_note, serves

# A user's own file may be big (Claude Code keeps its project history in ~/.claude.json); a project's is capped
# like every file a repository can plant.
USER_FILE_LIMIT = 256 * 1024 * 1024
_INDENT = re.compile(r"^([ \t]+)\S", re.MULTILINE)
_TOML_TABLE = re.compile(r"^\s*\[")


@dataclass(frozen=True, slots=True)
class Merged:
    """What a merge did ("added", "updated" or "unchanged"), and the ``args`` of the entry it replaced, if any."""

    what: Literal["added", "updated", "unchanged"]
    old_args: list[object] | None = None


def configure(
    directory: Path, client: Client, scope: Scope, *, all_projects: bool, write: bool, environ: Mapping[str, str]
) -> tuple[str, str]:
    """What ``brummer mcp config`` prints on stdout, and lines for stderr (a hint, a note; may be empty)."""
    root = directory.resolve()
    server = entry(root, all_projects=all_projects, client=client, scope=scope)
    path = config_path(client, scope, root, environ)
    note = machine_note(server, path) if scope is Scope.PROJECT else ""
    if not write:
        hint = f"# goes in {path} (or run with --write)" if path is not None else ""
        return render(client, server), "\n".join(line for line in (hint, note) if line)
    if path is None:
        raise UsageError("--client json has no file of its own: print it and paste it where your client wants it")
    merged = merge(client, path, server, inside=root if scope is Scope.PROJECT else None)
    before = serves(merged.old_args, root) if merged.old_args is not None else None
    now = serves(server.args, root)
    if merged.what == "updated" and before is not None and before != now:  # another project's, or the hub's
        said = f"replaced {server.name} in {path}: it served {_what(before)}, now {_what(now)} ({server.line})"
        return said + "\n", note
    what = {"added": "added", "updated": "updated", "unchanged": "already up to date:"}[merged.what]
    return f"{what} {server.name} ({server.line}) in {path}\n", note


def _what(served: str | None) -> str:
    if served is None or served == HUB:
        return served or "something else"
    return f"the project {served}"


def _servers_key(client: Client) -> str:
    return "servers" if client is Client.VSCODE else "mcpServers"


def render(client: Client, server: Entry) -> str:
    """What to paste into the client's file (the whole document for a new file)."""
    if client is Client.CODEX:
        return _toml_table(server)
    return json.dumps({_servers_key(client): {server.name: server.as_json(client)}}, indent=2) + "\n"


def merge(client: Client, path: Path, server: Entry, *, inside: Path | None) -> Merged:
    """Merge ``server`` into ``path``.

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
            new_text, merged = _merge_toml(path, text, server)
        else:
            new_text, merged = _merge_json(client, path, text, server)
    except RecursionError:
        raise too_deep(path) from None
    if merged.what != "unchanged":
        write_atomically(path, new_text)
    return merged


def _old_args(old: object) -> list[object] | None:
    args = old.get("args") if isinstance(old, dict) else None
    return args if isinstance(args, list) else None


def _merge_json(client: Client, path: Path, text: str, server: Entry) -> tuple[str, Merged]:
    try:
        document = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ConfigError(f"not valid JSON ({exc}); left untouched, add the entry by hand", path) from None
    key = _servers_key(client)
    if not isinstance(document, dict) or not isinstance(document.get(key, {}), dict):
        raise ConfigError(f'expected a JSON object with an object "{key}"; left untouched', path)
    servers: dict[str, Any] = document.setdefault(key, {})
    wanted = server.as_json(client)
    old = servers.get(server.name)
    if old == wanted:
        return text, Merged("unchanged")
    servers[server.name] = {**old, **wanted} if isinstance(old, dict) else wanted  # keep the user's extra keys
    indent = _INDENT.search(text)
    spaces = indent.group(1) if indent else "  "
    new_text = json.dumps(document, indent=spaces, ensure_ascii=False) + "\n"
    return new_text, Merged("added") if old is None else Merged("updated", _old_args(old))


def _toml_table(server: Entry) -> str:
    args = ", ".join(json.dumps(arg) for arg in server.args)  # a JSON string is a valid TOML basic string
    return f"[mcp_servers.{server.name}]\ncommand = {json.dumps(server.command)}\nargs = [{args}]\n"


def _merge_toml(path: Path, text: str, server: Entry) -> tuple[str, Merged]:
    """Text-level, so the user's comments and layout survive: replace our table, or append it."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc}); left untouched, add the entry by hand", path) from None
    tables = document.get("mcp_servers", {})
    old = tables.get(server.name) if isinstance(tables, dict) else None
    if isinstance(old, dict) and old.get("command") == server.command and old.get("args") == list(server.args):
        return text, Merged("unchanged")
    table = _toml_table(server)
    lines = text.splitlines(keepends=True)
    name = re.escape(server.name)
    header = re.compile(rf"^\s*\[\s*mcp_servers\s*\.\s*\"?{name}\"?\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        separator = "" if not text else ("\n" if text.endswith("\n") else "\n\n")
        return text + separator + table, Merged("added")
    end = next((i for i in range(start + 1, len(lines)) if _TOML_TABLE.match(lines[i])), len(lines))
    merged = "".join([*lines[:start], table, *(["\n"] if end < len(lines) else []), *lines[end:]])
    return merged, Merged("updated", _old_args(old))


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
