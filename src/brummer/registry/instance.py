"""This process in the registry: its entry, and the project lock that makes it the one brummer running the project.

The lock is an ``flock`` on ``<key>.lock``, taken before anything is started and held for the life of the instance;
the kernel drops it when the process ends, ``kill -9`` included, so a crashed brummer never blocks the next one and
of two started at once exactly one wins. The winner writes its pid into the lock file and then its entry; a loser
reads the pid there to say who runs the project.

While a ``brummer up``'s MCP server is starting it also holds ``<key>.mcp.lock``: a ``brummer mcp`` that finds the
entry in state ``starting`` blocks on that lock and wakes when the server listens, fails, or brummer dies.

A lock file is removed by its holder when it lets go (the MCP lock once the server settles, the project lock when
the brummer ends), so the registry does not keep two files for every project ever run; one left by a brummer that was
killed goes when the project's next brummer ends. Removal is safe for the lock's promise of one holder because the
holder removes the file before it releases it, and a brummer that takes a lock checks, after its flock, that the
name still names the file it locked (``Folder.still_names``): if a leaving holder removed it in between, it starts
over on the file now there.

The guardian (``supervise/guardian.py``) inherits the project lock's descriptor. After a ``kill -9`` of brummer the
lock is therefore held until the guardian has stopped what that brummer left running: a ``brummer up`` started
meanwhile finds the lock held by a pid that is gone, says so, and waits for the lock (``CLEANUP_WAIT`` at most)
instead of starting its processes next to the old ones.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Callable
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
LOCK_TRIES = 100  # starting over because the lock file was removed under us; each time means another brummer left
CLEANUP_WAIT = 120.0  # a killed brummer's guardian holds its lock for the longest grace + 2 s; wait at most this


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

    @property
    def lock_fd(self) -> int | None:
        """The descriptor that holds the project lock (the guardian inherits it), if this process holds it."""
        return self._lock if self._lock >= 0 else None

    def try_lock(self) -> bool:
        """Take the project's lock unless another process holds it; whether we hold it now."""
        if self._lock < 0:
            fd = _lock(self.folder, lock_name(self.key), fcntl.LOCK_EX | fcntl.LOCK_NB)
            if fd is None:
                return False
            self._hold(fd)
        return True

    async def lock_after_cleanup(self) -> bool:
        """Wait (``CLEANUP_WAIT`` at most) for the lock that a killed brummer's guardian holds while it stops what
        that brummer left running; whether we hold it now."""
        with trio.move_on_after(CLEANUP_WAIT):
            # A blocking flock in a worker thread. If abandoned at the deadline, the thread may still get the lock:
            # its descriptor then holds it until this process, which is about to exit 2, ends.
            fd = await trio.to_thread.run_sync(
                _lock, self.folder, lock_name(self.key), fcntl.LOCK_EX, abandon_on_cancel=True
            )
            if fd is not None:
                self._hold(fd)
        return self._lock >= 0

    def _hold(self, fd: int) -> None:
        self._lock = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{self.entry.pid}\n".encode(), 0)

    def take_lock(self) -> None:
        """Become the brummer that runs the project (idempotent); ``AlreadyRunningError`` naming the holder."""
        if not self.try_lock():
            raise AlreadyRunningError(self.entry.project, holder(self.folder, self.entry.project))
        if not self.entry.runs:
            self.update(runs=True)

    def hold_mcp_lock(self) -> None:
        # We hold the project lock, so no other holder competes; a waiter of a killed brummer may hold it shared.
        fd = _lock(self.folder, mcp_lock_name(self.key), fcntl.LOCK_EX)
        assert fd is not None  # (a blocking flock)
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
            self.folder.remove_lock(mcp_lock_name(self.key), self._mcp_lock)
            self._mcp_lock = -1

    def close(self) -> None:
        """Remove the entry, then the locks with their files (the entry never outlives the lock it claims)."""
        if self.folder.fd < 0:
            return
        if self._written:
            self.folder.remove(self.entry.name)
        for name, fd in ((mcp_lock_name(self.key), self._mcp_lock), (lock_name(self.key), self._lock)):
            if fd >= 0:
                self.folder.remove_lock(name, fd)
        self._lock = self._mcp_lock = -1
        self.folder.close()

    def __enter__(self) -> Registration:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _lock(folder: Folder, name: str, operation: int) -> int | None:
    """A descriptor holding ``flock(operation)`` on the file ``name`` names; None if another holds it (with
    ``LOCK_NB``). Starts over when the file was removed between its open and the flock (see the module docstring)."""
    for _ in range(LOCK_TRIES):
        fd = folder.open_lock(name)
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            os.close(fd)
            return None
        if folder.still_names(name, fd):
            return fd
        os.close(fd)  # a leaving holder removed it after our open: lock the file that is there now
    return None


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


async def claim(
    root: Path,
    kind: Kind,
    *,
    mcp: bool,
    tty: str | None = None,
    panel: bool = False,
    say: Callable[[str], None] | None = None,
) -> Registration:
    """Take the project's lock, then register: the start of a ``brummer up``, before anything else happens.

    ``AlreadyRunningError`` (naming the holder) if another brummer runs the project. If the brummer that holds it
    was killed, its guardian is still stopping what it left running: ``say`` why we wait, and wait for the lock.
    """
    registration = _new(root, kind, McpState.STARTING if mcp else McpState.OFF, tty, panel)
    try:
        if not registration.try_lock():
            found = await _wait_for_holder(registration.folder, root)
            if not isinstance(found, int) or identity.inspect(found) is not None:
                raise AlreadyRunningError(registration.entry.project, found)
            (say or _to_stderr)(
                f"the brummer (pid {found}) that ran {registration.entry.project} was killed; waiting while its "
                "guardian stops what it left running"
            )
            if not await registration.lock_after_cleanup():
                raise AlreadyRunningError(registration.entry.project, found)
        if mcp:
            registration.hold_mcp_lock()
        registration.update(runs=True)
    except BaseException:
        registration.close()
        raise
    return registration


def _to_stderr(text: str) -> None:
    print(f"brummer: {text}", file=sys.stderr, flush=True)


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
