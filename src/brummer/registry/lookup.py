"""Reading the registry: which entries are believed, and waiting for a ``brummer up`` whose MCP is starting.

An entry is believed only if it is a private regular file of ours (never through a symlink), parses as an entry
whose MCP addresses are loopback, and its pid is alive, started when the entry says, belongs to this user and runs
brummer (``identity.check``). Anything else is ignored; an entry whose process is gone is removed on sight.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import trio

from brummer.registry import identity
from brummer.registry.entry import Entry, Kind, McpState, from_json, mcp_lock_name, project_key
from brummer.registry.folder import Folder

MCP_START_WAIT = 15.0  # how long a client waits for a starting brummer up's MCP server


def believe(folder: Folder, name: str) -> Entry | None:
    """The entry in file ``name`` if it is believed; a stale one (its process gone) is removed."""
    read = folder.read(name)
    if read is None:
        return None
    data, inode = read
    entry = from_json(data, name)
    if entry is None:
        return None
    trust = identity.check(entry.pid, entry.start)
    if trust is identity.Trust.GONE:
        folder.remove(name, inode)  # stale (the inode check: unless a new brummer with that pid just replaced it)
    return entry if trust is identity.Trust.BELIEVED else None


def entries(root: Path | None = None) -> list[Entry]:
    """Every believed entry of this user (``brummer ps --all``), or of the project at ``root``; oldest first."""
    prefix = f"{project_key(root)}." if root is not None else ""
    with Folder.open() as folder:
        found = [
            entry
            for name in folder.names()
            if name.startswith(prefix) and name.endswith(".json") and not name.startswith(".")
            if (entry := believe(folder, name)) is not None
        ]
    return sorted(found, key=lambda entry: entry.started_at)


def find_up(root: Path) -> Entry | None:
    """The running ``brummer up`` of the project at ``root`` (the one holding its lock), or None."""
    return next((e for e in entries(root) if e.kind is Kind.UP and e.runs and e.pid != os.getpid()), None)


async def settled(entry: Entry, within: float = MCP_START_WAIT) -> Entry | None:
    """``entry`` once its MCP server is no longer starting (as it was if that takes over ``within`` seconds); None if
    that brummer went away meanwhile. What ``brummer mcp`` and the remote commands do before they connect."""
    if entry.mcp is not McpState.STARTING:
        return entry
    found: Entry | None = entry
    with trio.move_on_after(within):
        found = await wait_for_mcp(entry)
    return found


async def wait_for_mcp(entry: Entry) -> Entry | None:
    """``entry`` again once its MCP server is no longer starting (listening or failed); None if brummer went away.

    Woken by the ``<key>.mcp.lock`` that a starting ``brummer up`` holds, released (and removed) by it when the
    server settles or by the kernel when it dies. No such file: it has settled already. The caller bounds the wait
    (``trio.move_on_after``).
    """
    with Folder.open() as folder:
        fd = folder.open_existing_lock(mcp_lock_name(project_key(entry.project)))
        if fd is not None:
            # A blocking flock in a worker thread. If cancelled, the abandoned thread keeps the descriptor (closing it
            # under the thread could make it lock whatever file gets the number next); it ends with brummer up's lock.
            await trio.to_thread.run_sync(fcntl.flock, fd, fcntl.LOCK_SH, abandon_on_cancel=True)
            os.close(fd)
        return believe(folder, entry.name)
