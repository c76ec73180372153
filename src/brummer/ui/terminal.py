"""The panel's terminal: cbreak mode for single keys, the window size, a frame sink, and putting it all back.

Keys are read by a Trio task (``wait_readable`` on the tty, then a non-blocking-in-practice ``os.read``), never by
a thread. Cbreak mode keeps ISIG, so Ctrl-C still arrives as SIGINT at brummer's signal receiver: the same clean
shutdown as in plain mode. Flow control (Ctrl-S) and suspend (Ctrl-Z) are switched off while the panel is up: a
frozen or stopped brummer would leave the terminal in cbreak mode on the alternate screen while its children run on.
Every exit path (return, exception, cancellation) restores the saved terminal attributes.
"""

from __future__ import annotations

import contextlib
import io
import os
import termios
import warnings
from collections.abc import Iterator
from typing import Any

import trio

from brummer.logs.store import LogStore

FALLBACK_SIZE = (80, 24)
# shown cursor, normal screen, no mouse or bracketed-paste modes: written after a failure to stop rich's Live
RESTORE_SCREEN = "\x1b[?25h\x1b[?1049l"


def key_fd(output_fd: int) -> tuple[int | None, bool]:
    """The fd to read keys from (stdin when it is the terminal, else the controlling tty) and whether we opened it."""
    if os.isatty(0):
        return 0, False
    try:
        return os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY), True
    except OSError:
        return (output_fd, False) if os.isatty(output_fd) and _readable(output_fd) else (None, False)


def _readable(fd: int) -> bool:
    import fcntl

    return (fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE) in (os.O_RDONLY, os.O_RDWR)


def terminal_size(fd: int) -> tuple[int, int]:
    """(columns, lines) of the terminal on ``fd``, re-read on every frame (SIGWINCH only says "look again")."""
    try:
        size = os.get_terminal_size(fd)
    except OSError:
        return FALLBACK_SIZE
    return (size.columns or FALLBACK_SIZE[0], size.lines or FALLBACK_SIZE[1])


@contextlib.contextmanager
def cbreak(fd: int | None) -> Iterator[bool]:
    """Single keys without echo on ``fd`` (ISIG kept); yields whether it worked. Restored on every exit."""
    saved: list[Any] | None = None
    if fd is not None:
        try:
            saved = termios.tcgetattr(fd)
            mode = termios.tcgetattr(fd)
            mode[0] &= ~(termios.IXON | termios.IXOFF)  # iflag: Ctrl-S / Ctrl-Q are just keys
            mode[3] &= ~(termios.ICANON | termios.ECHO)  # lflag: byte at a time, no echo; ISIG stays on
            mode[6] = list(mode[6])
            mode[6][termios.VMIN] = 1
            mode[6][termios.VTIME] = 0
            mode[6][termios.VSUSP] = b"\x00"  # no Ctrl-Z suspend
            termios.tcsetattr(fd, termios.TCSANOW, mode)
        except (termios.error, OSError):
            saved = None
    try:
        yield saved is not None
    finally:
        if saved is not None and fd is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(fd, termios.TCSANOW, saved)


async def read_chunks(fd: int) -> bytes:
    """The next bytes typed on ``fd`` (b"" when the terminal is gone)."""
    while True:
        await trio.lowlevel.wait_readable(fd)
        try:
            return os.read(fd, 1024)
        except BlockingIOError:
            continue
        except OSError:
            return b""


def write_now(fd: int, text: str) -> None:
    """A last synchronous write (leaving the alternate screen on the way out); a gone terminal is ignored."""
    data = memoryview(text.encode("utf-8", "replace"))
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]


class FrameSink(io.StringIO):
    """The file rich's Console writes to: frames are collected here and written by the panel service through
    ``Output`` (a worker thread for a terminal), so a slow or stopped terminal never stalls the event loop. A text
    file (``io.StringIO``) that says it is a terminal, and has no file descriptor (``fileno`` raises)."""

    def isatty(self) -> bool:
        return True

    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


@contextlib.contextmanager
def warnings_to_store(store: LogStore) -> Iterator[None]:
    """Python warnings shown while the panel owns the terminal go to brummer's log (and so into the panel)."""
    saved = warnings.showwarning

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: object = None,
        line: str | None = None,
    ) -> None:
        store.note(f"{category.__name__}: {message} ({os.path.basename(filename)}:{lineno})", level="warn")

    warnings.showwarning = show
    try:
        yield
    finally:
        if warnings.showwarning is show:
            warnings.showwarning = saved
