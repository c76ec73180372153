"""This process in the registry: its entry, and the project lock that makes it the one brummer running the project.

The lock is an ``flock`` on ``<key>.lock``, taken before anything is started and held for the life of the instance;
the kernel drops it when the process ends, ``kill -9`` included, so a crashed brummer never blocks the next one and
of two started at once exactly one wins. The winner writes its pid into the lock file and then its entry; a loser
reads the pid there to say who runs the project.

While a ``brummer up``'s MCP server is starting it also holds ``<key>.mcp.lock``: a ``brummer mcp`` that finds the
entry in state ``starting`` blocks on that lock and wakes when the server listens, fails, or brummer dies.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import trio

from brummer import __version__
from brummer.errors import AlreadyRunningError
from brummer.registry import identity
from brummer.registry.entry import Entry, Kind, McpState, McpUrls, entry_name, lock_name, mcp_lock_name, project_key
from brummer.registry.folder import Folder
from brummer.registry.lookup import believe

HOLDER_WAIT = 1.0  # a lock holder writes its pid and entry microseconds after winning; a loser waits this long


class Registration:
    """This process's entry (rewritten atomically on every change, removed on close) and the locks it holds."""

    def __init__(self, folder: Folder, entry: Entry) -> None:
        self.folder = folder
        self.entry = entry
        self.key = project_key(entry.project)
        self._lock = -1
        self._mcp_lock = -1
        self._written = False

    @property
    def path(self) -> Path:
        """Where the entry (and so the token) can be read."""
        return self.folder.path / self.entry.name

    def update(self, **changes: Any) -> None:
        self.entry = self.entry.replace(**changes)
        self.folder.write(self.entry.name, self.entry.to_json())
        self._written = True

    def try_lock(self) -> bool:
        """Take the project's lock unless another process holds it; whether we hold it now."""
        if self._lock < 0:
            fd = self.folder.open_lock(lock_name(self.key))
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._lock = fd
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{self.entry.pid}\n".encode(), 0)
        return True

    def take_lock(self) -> None:
        """Become the brummer that runs the project (idempotent); ``AlreadyRunningError`` naming the holder."""
        if not self.try_lock():
            raise AlreadyRunningError(self.entry.project, holder(self.folder, self.entry.project))
        if not self.entry.runs:
            self.update(runs=True)

    def hold_mcp_lock(self) -> None:
        fd = self.folder.open_lock(mcp_lock_name(self.key))
        fcntl.flock(fd, fcntl.LOCK_EX)  # we hold the project lock: nobody else takes this one
        self._mcp_lock = fd

    def publish_mcp(self, token: str, urls: McpUrls | None, remote: McpUrls) -> None:
        """The MCP server listens: ``urls`` are its loopback addresses (None: it listens on ``remote`` only)."""
        if urls is None:
            self.update(mcp=McpState.REMOTE, token=token, ws=remote.ws, http=remote.http)
        else:
            self.update(mcp=McpState.ON, token=token, ws=urls.ws, http=urls.http)
        self.mcp_settled()

    def withdraw_mcp(self) -> None:
        if self.entry.mcp is not McpState.OFF:
            self.update(mcp=McpState.DOWN, token=None, ws=None, http=None)

    def mcp_settled(self) -> None:
        """The MCP server listens, failed or will not start: wake every ``brummer mcp`` waiting for it."""
        if self.entry.mcp is McpState.STARTING:
            self.update(mcp=McpState.DOWN)
        if self._mcp_lock >= 0:
            os.close(self._mcp_lock)
            self._mcp_lock = -1

    def close(self) -> None:
        """Remove the entry, then drop the locks (the entry never outlives the lock it claims)."""
        if self.folder.fd < 0:
            return
        if self._written:
            self.folder.remove(self.entry.name)
        for fd in (self._mcp_lock, self._lock):
            if fd >= 0:
                os.close(fd)
        self._lock = self._mcp_lock = -1
        self.folder.close()

    def __enter__(self) -> Registration:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _new(root: Path, kind: Kind, mcp: McpState, tty: str | None, panel: bool) -> Registration:
    """A registration for this process, not written yet."""
    folder = Folder.open()
    pid = os.getpid()
    real = Path(os.path.realpath(root))
    entry = Entry(pid, identity.fingerprint(pid), kind, real, __version__, time.time(), mcp=mcp, tty=tty, panel=panel)
    return Registration(folder, entry)


def register(
    root: Path, kind: Kind, *, mcp: McpState = McpState.OFF, tty: str | None = None, panel: bool = False
) -> Registration:
    """Write this process's entry for the project at ``root``, without the lock (a headless brummer mcp takes it
    when its agent first starts a process)."""
    registration = _new(root, kind, mcp, tty, panel)
    try:
        registration.update()
    except BaseException:
        registration.close()
        raise
    return registration


async def claim(root: Path, kind: Kind, *, mcp: bool, tty: str | None = None, panel: bool = False) -> Registration:
    """Take the project's lock, then register: the start of a ``brummer up``, before anything else happens.

    ``AlreadyRunningError`` (naming the holder) if another brummer runs the project.
    """
    registration = _new(root, kind, McpState.STARTING if mcp else McpState.OFF, tty, panel)
    try:
        if not registration.try_lock():
            raise AlreadyRunningError(registration.entry.project, await _wait_for_holder(registration.folder, root))
        if mcp:
            registration.hold_mcp_lock()
        registration.update(runs=True)
    except BaseException:
        registration.close()
        raise
    return registration


def holder(folder: Folder, root: Path) -> Entry | int | None:
    """Who holds the lock of the project at ``root``: its entry, else its pid, else None (not known yet)."""
    key = project_key(root)
    found = folder.read(lock_name(key))
    try:
        pid = int(found[0]) if found is not None else 0
    except ValueError:
        pid = 0
    if pid <= 0:
        return None
    return believe(folder, entry_name(key, pid)) or pid


async def _wait_for_holder(folder: Folder, root: Path) -> Entry | int | None:
    """The holder, waiting (briefly, polling) through the moment between its winning the lock and registering."""
    found = holder(folder, root)
    with trio.move_on_after(HOLDER_WAIT):
        while not isinstance(found, Entry):
            await trio.sleep(0.01)
            found = holder(folder, root)
    return found
