"""Waking when the instance registry changes: an instance registered, published its MCP address, or left.

Every such change is a file event in the registry directory (entries are written as a temp file renamed into place,
and removed when an instance ends or is found stale), so on Linux inotify (through ctypes: no dependency, a few
lines) wakes the hub and a following ``brummer logs -f`` the moment it happens, and costs nothing while nothing
does. Elsewhere, or if inotify is unavailable (no ctypes, the per-user watch limit reached), the directory's
modification time is compared every ``POLL`` seconds: one ``stat``, a few microseconds (docs/benchmarks.md).

What inotify cannot see: a ``brummer up`` killed with SIGKILL leaves its entry in place. Whoever was connected to it
sees the connection drop, and reading the registry again (``registry.entries``) removes the stale entry.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from types import TracebackType

import trio

from brummer import registry

POLL = 1.0  # seconds between two looks at the directory without inotify
SETTLE = 0.01  # a write is several events (temp file, rename): gather them into one wake-up
# inotify(7)
IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x2, 0x4, 0x8
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE, IN_DELETE_SELF = 0x40, 0x80, 0x100, 0x200, 0x400
IN_ONLYDIR, IN_DONT_FOLLOW = 0x01000000, 0x02000000
IN_NONBLOCK, IN_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
EVENTS = IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_ATTRIB


class RegistryWatch:
    """``await changed()`` returns after the registry directory changed (or, at worst, after ``POLL`` seconds)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = registry.location() if path is None else path
        registry.Folder.open(self.path).close()  # created (0700) if missing, and refused if it is not safe
        self._fd = _inotify(self.path) if sys.platform.startswith("linux") else None
        self._stamp = self._mtime()

    @property
    def inotify(self) -> bool:
        return self._fd is not None

    async def changed(self) -> None:
        if self._fd is None:
            await self._poll()
            return
        await trio.lowlevel.wait_readable(self._fd)
        await trio.sleep(SETTLE)
        self._drain()

    async def _poll(self) -> None:
        """Without inotify: the directory's mtime, compared once a ``POLL`` (a timer is all there is)."""
        while True:
            await trio.sleep(POLL)
            if (stamp := self._mtime()) != self._stamp:
                self._stamp = stamp
                return

    def _drain(self) -> None:
        assert self._fd is not None
        with contextlib.suppress(BlockingIOError):
            while os.read(self._fd, 64 * 1024):
                pass

    def _mtime(self) -> int:
        try:
            return os.stat(self.path, follow_symlinks=False).st_mtime_ns
        except OSError:
            return 0

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            trio.lowlevel.notify_closing(fd)
            os.close(fd)

    def __enter__(self) -> RegistryWatch:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _inotify(path: Path) -> int | None:
    """A non-blocking inotify descriptor watching ``path`` (not through a symlink), or None if there is none."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fd = int(libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC))
    except (OSError, AttributeError, ImportError):
        return None
    if fd < 0:
        return None
    if libc.inotify_add_watch(fd, os.fsencode(path), EVENTS | IN_ONLYDIR | IN_DONT_FOLLOW) < 0:
        os.close(fd)
        return None
    return fd
