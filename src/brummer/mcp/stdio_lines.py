"""stdin and stdout as a channel of whole lines, for the protocol alone: what ``brummer mcp`` (relay and headless)
and ``brummer mcp --all`` (the hub) read and write messages through.

``claim_stdio`` takes fds 0 and 1 for the protocol (children and stray prints get /dev/null and stderr instead);
``Lines`` frames what arrives on stdin, one message a line, bounded by ``frames.MAX_MESSAGE``.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import trio

from brummer.mcp.frames import MAX_MESSAGE as MAX_LINE
from brummer.mcp.frames import TooBig


@contextlib.contextmanager
def claim_stdio() -> Iterator[tuple[trio.lowlevel.FdStream, trio.lowlevel.FdStream]]:
    """stdin and stdout for protocol messages only.

    We get private copies of fd 0 and 1 (as non-blocking, cancellable streams); meanwhile fd 0 reads /dev/null and
    fd 1 writes to stderr, so neither a child nor a stray print can touch the wire. Everything is restored on exit.
    """
    sys.stdout.flush()
    saved = os.dup(0), os.dup(1)
    stdin, stdout = trio.lowlevel.FdStream(os.dup(0)), trio.lowlevel.FdStream(os.dup(1))
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
        os.dup2(2, 1)
        yield stdin, stdout
    finally:
        os.close(null)
        stdin.close()
        stdout.close()
        os.dup2(saved[0], 0)
        os.dup2(saved[1], 1)
        os.close(saved[0])
        os.close(saved[1])


class Lines:
    """Newline-delimited messages from a byte stream (stdio framing); blank lines are skipped.

    A line over ``limit`` bytes is not kept: ``next`` gives ``TooBig`` as soon as it is seen, and the rest of it is
    dropped as it arrives. Each byte is looked at once, however long the line.
    """

    def __init__(self, stream: trio.abc.ReceiveStream, limit: int = MAX_LINE) -> None:
        self._stream = stream
        self._limit = limit
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no newline
        self._skipping = False  # inside a line that was too long
        self._eof = False

    async def next(self) -> str | TooBig | None:
        """The next line without its newline, ``TooBig``, or None at end of input."""
        while True:
            end = self._buffer.find(b"\n", self._scanned)
            if end >= 0:
                line = bytes(self._buffer[:end]).strip()
                del self._buffer[: end + 1]
                self._scanned = 0
                if self._skipping:
                    self._skipping = False
                elif line:
                    return line.decode("utf-8", "replace")
                continue
            self._scanned = len(self._buffer)
            if len(self._buffer) > self._limit or (self._skipping and self._buffer):
                self._buffer.clear()
                self._scanned = 0
                if not self._skipping:
                    self._skipping = True
                    return TooBig(self._limit)
            if self._eof:
                rest = bytes(self._buffer).strip()
                self._buffer.clear()
                self._scanned = 0
                return rest.decode("utf-8", "replace") if rest else None
            chunk = await self._stream.receive_some(65536)
            if chunk:
                self._buffer += chunk
            else:
                self._eof = True
