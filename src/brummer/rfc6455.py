"""WebSocket framing (RFC 6455), shared by brummer's two small ends: the remote commands' client
(``remote/websocket.py``) and the browser telemetry's server (``browser/frames.py``).

Neither needs extensions, and both avoid wsproto's import (~70 ms, with h11). ``FrameStream`` reads frames from one
buffer, reassembles messages (text, binary and continuations), answers pings and closes, and refuses what breaks the
protocol: a frame masked the wrong way for its sender (a client's must be, a server's must not), an unknown opcode,
and a message over ``max_message``, closed (1009) before it is read in full.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from typing import ClassVar, NoReturn

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
READ = 256 * 1024  # bytes asked of the socket at a time

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
CONTINUATION = 0x0


def accept_key(key: bytes) -> bytes:
    """The ``Sec-WebSocket-Accept`` that answers ``Sec-WebSocket-Key: key``."""
    return base64.b64encode(hashlib.sha1(key.strip() + GUID).digest())


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the repeated 4-byte ``key``, as one big-integer operation (C speed, any size)."""
    size = len(payload)
    if not size:
        return payload
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(size, "little")


def encode(opcode: int, payload: bytes, *, masked: bool) -> bytes:
    """One final frame: ``masked`` from a client, unmasked from a server."""
    length, bit = len(payload), 0x80 if masked else 0
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, bit | length)
    elif length < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, bit | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, bit | 127, length)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + mask(payload, key)


class FrameStream:
    """The reading side of one connection, for one task at a time. A subclass says how bytes arrive
    (``_receive``), how a frame leaves (``_send_frame``), how the connection ends (``_close``, which raises), and
    whether the peer masks its frames (``PEER_MASKS``: true on a server)."""

    PEER_MASKS: ClassVar[bool]

    def __init__(self, buffered: bytes, max_message: int) -> None:
        self._buffer = bytearray(buffered)
        self._max = max_message

    async def receive(self) -> str:
        """The next whole message (binary ones decoded as UTF-8); raises the subclass's closed error."""
        parts: list[bytes] = []
        size = 0
        while True:
            fin, opcode, payload = await self._frame()
            if opcode in (TEXT, BINARY, CONTINUATION):
                size += len(payload)
                if size > self._max:
                    await self._close(1009, "message too big")
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8", "replace")
            elif opcode == PING:
                await self._send_frame(PONG, payload[:125])
            elif opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                await self._close(code, payload[2:].decode("utf-8", "replace"))
            elif opcode != PONG:
                await self._close(1002, f"unknown opcode {opcode}")

    async def _frame(self) -> tuple[bool, int, bytes]:
        head = await self._take(2)
        fin, opcode, masked, length = head[0] & 0x80, head[0] & 0x0F, bool(head[1] & 0x80), head[1] & 0x7F
        if masked != self.PEER_MASKS:
            await self._close(1002, "a client must mask its frames, a server must not")
        if length == 126:
            length = struct.unpack("!H", await self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self._take(8))[0]
        if length > self._max:
            await self._close(1009, "message too big")
        if not masked:
            return bool(fin), opcode, await self._take(length)
        key = await self._take(4)
        return bool(fin), opcode, mask(await self._take(length), key)

    async def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._buffer += await self._receive(max(READ, count - len(self._buffer)))
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        return taken

    async def _receive(self, size: int) -> bytes | bytearray:
        """Up to ``size`` bytes, never none: a closed or dropped connection raises."""
        raise NotImplementedError

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        raise NotImplementedError

    async def _close(self, code: int, reason: str) -> NoReturn:
        """Answer (or send) a close frame and raise."""
        raise NotImplementedError
