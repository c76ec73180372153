"""``.brummer/instance.json``: how agents (and ``brummer mcp``) find a running ``brummer up`` and its token.

The file is created with mode 0600 (it holds the token) next to a ``.gitignore`` of ``*``, written once the server
listens and removed when it stops. A file whose pid is dead, or whose server no longer answers on its port, is
stale and replaced. A live one belongs to another brummer serving the same project: the second one refuses to start
its MCP server (its processes run on) rather than take over the file, so agents always reach the first.

Only stdlib and trio here: ``brummer mcp`` reads the file before it decides whether it needs the SDK at all.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trio

from brummer.supervise.tree import pid_alive

DIRNAME = ".brummer"
FILENAME = "instance.json"
UP_FILENAME = "up.json"  # {"pid", "mcp"}: a brummer up runs here (written at its start, before MCP listens)
PROBE_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Instance:
    pid: int
    token: str
    ws: str
    http: str
    raw: dict[str, Any]


def new_token() -> str:
    import secrets  # not at import time: brummer up imports this module on the way to its first child

    return secrets.token_urlsafe(32)


def path_for(root: Path) -> Path:
    return root / DIRNAME / FILENAME


def read(root: Path) -> Instance | None:
    """The instance file of ``root``, or None if there is none or it is unreadable."""
    try:
        raw = json.loads(path_for(root).read_text())
        mcp = raw["mcp"]
        return Instance(int(raw["pid"]), str(raw["token"]), str(mcp["ws"]), str(mcp["http"]), raw)
    except (OSError, ValueError, KeyError, TypeError):
        return None


async def answers(url: str) -> bool:
    """Whether something accepts TCP connections at the host and port of ``url``."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    with trio.move_on_after(PROBE_TIMEOUT):
        try:
            stream = await trio.open_tcp_stream(parts.hostname, parts.port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False


async def find_live(root: Path) -> Instance | None:
    """The running instance serving ``root`` (not this process), or None if there is none or the file is stale."""
    found = read(root)
    if found is None or found.pid == os.getpid() or not pid_alive(found.pid):
        return None
    return found if await answers(found.ws) else None


def write(root: Path, content: dict[str, Any]) -> Path:
    """Write the instance file (0600) and ``.brummer/.gitignore``; replaces a stale file."""
    folder = _folder(root)
    target = folder / FILENAME
    temp = folder / f".{FILENAME}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(content, out, indent=2)
            out.write("\n")
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    return target


def remove(root: Path, token: str) -> None:
    """Remove the instance file if it is still ours (another brummer may have replaced a file it found stale)."""
    found = read(root)
    if found is not None and found.token == token and found.pid == os.getpid():
        with contextlib.suppress(OSError):
            path_for(root).unlink()


def _folder(root: Path) -> Path:
    folder = root / DIRNAME
    folder.mkdir(exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return folder


def mark_up(root: Path, mcp: bool) -> None:
    """``brummer up`` has started here (so ``brummer mcp`` waits for its server instead of running the project
    a second time). Best effort: a read-only project directory just loses this hint."""
    with contextlib.suppress(OSError):
        (_folder(root) / UP_FILENAME).write_text(json.dumps({"pid": os.getpid(), "mcp": mcp}) + "\n")


def unmark_up(root: Path) -> None:
    path = root / DIRNAME / UP_FILENAME
    with contextlib.suppress(OSError, ValueError):
        if json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()


def running_up(root: Path) -> tuple[int, bool] | None:
    """(pid, serves MCP) of a live ``brummer up`` in ``root``, or None."""
    try:
        raw = json.loads((root / DIRNAME / UP_FILENAME).read_text())
        pid, mcp = int(raw["pid"]), bool(raw["mcp"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (pid, mcp) if pid != os.getpid() and pid_alive(pid) else None
