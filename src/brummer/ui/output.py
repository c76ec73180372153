"""Writing to brummer's stdout without ever stalling the event loop.

A terminal or a pipe can be slow (or stopped with Ctrl-S); a blocking ``write`` there would freeze every pipe reader
and so every child. Writes to such targets go through a worker thread, one call per batch of text. Regular files
and /dev/null never block meaningfully and are written directly. If stdout goes away (closed terminal, broken
pipe: ``brummer up | grep -m1 ready`` after grep found its line), output stops quietly and ``gone`` is set:
``brummer up`` then stops everything and exits with 141, as a program killed by SIGPIPE would.
"""

from __future__ import annotations

import errno
import os
import stat

import trio

DEVNULL_RDEV = os.stat(os.devnull).st_rdev if os.path.exists(os.devnull) else None


def _direct(fd: int) -> bool:
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) or (stat.S_ISCHR(st.st_mode) and st.st_rdev == DEVNULL_RDEV)


class Output:
    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self.direct = _direct(fd)
        self.closed = False
        self.gone = trio.Event()  # set when stdout went away (EPIPE and the like)
        self.isatty = os.isatty(fd)

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]

    async def write(self, text: str) -> None:
        if self.closed or not text:
            await trio.lowlevel.checkpoint()
            return
        data = text.encode("utf-8", "replace")
        try:
            if self.direct:
                self._write_all(data)
                await trio.lowlevel.checkpoint()
            else:
                await trio.to_thread.run_sync(self._write_all, data, abandon_on_cancel=False)
        except OSError as exc:
            if exc.errno in (errno.EPIPE, errno.EIO, errno.EBADF, errno.ENXIO):
                self.closed = True
                self.gone.set()
                return
            raise
