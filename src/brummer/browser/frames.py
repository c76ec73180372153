"""The server side of the telemetry WebSocket (RFC 6455), on the proxy's client socket after its upgrade.

A page sends small JSON text messages and receives commands. The framing is ``rfc6455``'s (shared with the remote
commands' client): why not wsproto, its import takes ~70 ms, on the event loop, at the first page load.
"""

from __future__ import annotations

import contextlib
import struct
from typing import NoReturn

import trio

from brummer.proxy.upstream import RECV, send_all
from brummer.rfc6455 import CLOSE, TEXT, FrameStream, accept_key, encode


class SocketClosed(Exception):
    """The page went away, or broke the protocol (then it was sent a close frame)."""


def handshake(key: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key(key)
    )


class ServerSocket(FrameStream):
    """One page's connection. ``receive`` is for one task; ``send`` may be called from several."""

    PEER_MASKS = True

    def __init__(self, sock: trio.socket.SocketType, buffered: bytes, max_message: int) -> None:
        super().__init__(buffered, max_message)
        self.sock = sock
        self.closed = False
        self._lock = trio.Lock()

    async def send(self, text: str) -> None:
        await self._send_frame(TEXT, text.encode())

    async def close(self, code: int) -> NoReturn:
        """Send a close frame (once) and raise ``SocketClosed``."""
        await self.close_quietly(code)
        raise SocketClosed(code)

    async def close_quietly(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            close = struct.pack("!H", code if code not in (1005, 1006) else 1000)
            with trio.move_on_after(1), contextlib.suppress(OSError):
                await send_all(self.sock, encode(CLOSE, close, masked=False))

    async def _close(self, code: int, reason: str) -> NoReturn:
        await self.close(code)

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        async with self._lock:
            if self.closed:
                raise SocketClosed(1006)
            try:
                await send_all(self.sock, encode(opcode, payload, masked=False))
            except OSError:
                self.closed = True
                raise SocketClosed(1006) from None

    async def _receive(self, size: int) -> bytes | bytearray:
        if self.closed:
            raise SocketClosed(1006)
        try:
            data = await self.sock.recv(min(size, RECV))  # (a page's messages are small)
        except OSError:
            data = b""
        if not data:
            self.closed = True
            raise SocketClosed(1006)
        return data
