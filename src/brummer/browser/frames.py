"""The server side of the telemetry WebSocket (RFC 6455), on the proxy's client socket after its upgrade.

A page sends small JSON text messages and receives commands; nothing here needs extensions or binary messages.
Why not wsproto: its import (with h11) takes ~70 ms, on the event loop, at the first page load. Client frames must
be masked; a message over ``max_message`` closes the connection (1009) before it is read in full.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import struct
from typing import NoReturn

import trio

from brummer.proxy.upstream import RECV, send_all
from brummer.remote.websocket import BINARY, CLOSE, CONTINUATION, GUID, PING, PONG, TEXT, mask


class SocketClosed(Exception):
    """The page went away, or broke the protocol (then it was sent a close frame)."""


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest())


def handshake(key: bytes) -> bytes:
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key(key)
    )


def frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (unmasked, final)."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", 0x80 | opcode, size) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, size) + payload
    return struct.pack("!BBQ", 0x80 | opcode, 127, size) + payload


class ServerSocket:
    """One page's connection. ``receive`` is for one task; ``send`` may be called from several."""

    def __init__(self, sock: trio.socket.SocketType, buffered: bytes, max_message: int) -> None:
        self.sock = sock
        self.buffer = bytearray(buffered)
        self.max_message = max_message
        self.closed = False
        self._lock = trio.Lock()

    async def receive(self) -> str:
        """The next text message; ``SocketClosed`` when the page is gone."""
        parts: list[bytes] = []
        size = 0
        while True:
            fin, opcode, payload = await self._frame()
            if opcode in (TEXT, BINARY, CONTINUATION):
                size += len(payload)
                if size > self.max_message:
                    await self.close(1009)
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8", "replace")
            elif opcode == PING:
                await self._send(frame(PONG, payload[:125]))
            elif opcode == CLOSE:
                await self.close(1000)
            else:
                await self.close(1002)

    async def send(self, text: str) -> None:
        await self._send(frame(TEXT, text.encode()))

    async def close(self, code: int) -> NoReturn:
        """Send a close frame (once) and raise ``SocketClosed``."""
        await self.close_quietly(code)
        raise SocketClosed(code)

    async def close_quietly(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            with trio.move_on_after(1), contextlib.suppress(OSError):
                await send_all(self.sock, frame(CLOSE, struct.pack("!H", code)))

    async def _send(self, data: bytes) -> None:
        async with self._lock:
            if self.closed:
                raise SocketClosed(1006)
            try:
                await send_all(self.sock, data)
            except OSError:
                self.closed = True
                raise SocketClosed(1006) from None

    async def _frame(self) -> tuple[bool, int, bytes]:
        head = await self._take(2)
        fin, opcode, length = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x7F
        if not head[1] & 0x80:
            await self.close(1002)  # a client must mask its frames
        if length == 126:
            length = struct.unpack("!H", await self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self._take(8))[0]
        if length > self.max_message:
            await self.close(1009)
        key = await self._take(4)
        return bool(fin), opcode, mask(await self._take(length), key)

    async def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if self.closed:
                raise SocketClosed(1006)
            try:
                data = await self.sock.recv(max(RECV, count - len(self.buffer)))
            except OSError:
                data = b""
            if not data:
                self.closed = True
                raise SocketClosed(1006)
            self.buffer += data
        taken = bytes(self.buffer[:count])
        del self.buffer[:count]
        return taken
