"""A minimal WebSocket client (RFC 6455) on a trio stream: what brummer's remote commands and hub need, no more.

Why not trio-websocket: importing it (wsproto, h11, attrs) costs about a third of ``import trio`` again, and
``brummer ps`` must stay within 1.5x of ``import trio`` (docs/benchmarks.md). A client that talks to brummer's own
loopback server needs little: the upgrade request, masked text frames out, unmasked frames in (text, binary and
continuations reassembled, ping answered, close echoed). Frames are parsed from one buffer; a message over
``max_message`` closes the connection (1009) rather than growing without bound.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import struct

import trio

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEADER = 64 * 1024  # the server's handshake answer, headers and (refusal) body
READ = 256 * 1024

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
CONTINUATION = 0x0


class WebSocketError(Exception):
    """The connection could not be opened, or broke."""


class HandshakeRefused(WebSocketError):
    """The server answered the upgrade with something else than 101: ``status`` and the body it gave."""

    def __init__(self, status: int, body: str) -> None:
        self.status = status
        self.body = body
        super().__init__(f"HTTP {status}" + (f": {body}" if body else ""))


class Closed(WebSocketError):
    """The connection is closed (``code`` 1006: it dropped without a close frame)."""

    def __init__(self, code: int, reason: str = "") -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"closed ({code}{': ' + reason if reason else ''})")


class WebSocket:
    """One open client connection. ``receive`` is for one task at a time; ``send`` may be called concurrently."""

    def __init__(self, stream: trio.abc.Stream, buffered: bytes, max_message: int) -> None:
        self._stream = stream
        self._buffer = bytearray(buffered)
        self._max = max_message
        self._send_lock = trio.Lock()
        self._closed: Closed | None = None

    async def send(self, text: str) -> None:
        await self._send_frame(TEXT, text.encode())

    async def receive(self) -> str:
        """The next whole message (binary ones decoded as UTF-8); raises ``Closed``."""
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
                await self._send_frame(PONG, payload)
            elif opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                await self._close(code, payload[2:].decode("utf-8", "replace"))

    async def aclose(self) -> None:
        if self._closed is None:
            self._closed = Closed(1000)
            with trio.move_on_after(1) as scope:
                scope.shield = True
                with contextlib.suppress(WebSocketError):
                    await self._send_frame(CLOSE, struct.pack("!H", 1000))
        await trio.aclose_forcefully(self._stream)

    async def _close(self, code: int, reason: str) -> None:
        """Answer (or send) a close frame, drop the connection and raise ``Closed``."""
        if self._closed is None:
            self._closed = Closed(code, reason)
            with trio.move_on_after(1):
                with contextlib.suppress(WebSocketError):
                    await self._send_frame(CLOSE, struct.pack("!H", code if code not in (1005, 1006) else 1000))
        await trio.aclose_forcefully(self._stream)
        raise self._closed

    async def _frame(self) -> tuple[bool, int, bytes]:
        head = await self._take(2)
        fin, opcode, length = head[0] & 0x80, head[0] & 0x0F, head[1] & 0x7F
        if head[1] & 0x80:
            await self._close(1002, "a server must not mask its frames")
        if length == 126:
            length = struct.unpack("!H", await self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", await self._take(8))[0]
        if length > self._max:
            await self._close(1009, "message too big")
        return bool(fin), opcode, await self._take(length)

    async def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            if self._closed is not None:
                raise self._closed
            try:
                chunk = await self._stream.receive_some(max(READ, count - len(self._buffer)))
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                chunk = b""
            if not chunk:
                self._closed = self._closed or Closed(1006, "the connection dropped")
                raise self._closed
            self._buffer += chunk
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        return taken

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        length = len(payload)
        if length < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        key = os.urandom(4)
        async with self._send_lock:
            if self._closed is not None and opcode != CLOSE:
                raise self._closed
            try:
                await self._stream.send_all(head + key + mask(payload, key))
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                self._closed = self._closed or Closed(1006, "the connection dropped")
                raise self._closed from None


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR ``payload`` with the repeated 4-byte ``key``, as one big-integer operation (C speed, any size)."""
    size = len(payload)
    if not size:
        return payload
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(size, "little")


async def connect(
    host: str, port: int, path: str, headers: dict[str, str], *, subprotocol: str, max_message: int
) -> WebSocket:
    """Open a connection to ``ws://host:port/path`` offering ``subprotocol``; ``HandshakeRefused`` or
    ``WebSocketError`` (or ``OSError`` for the TCP connect) if that does not work."""
    stream = await trio.open_tcp_stream(host, port)
    try:
        key = base64.b64encode(os.urandom(16))
        hostname = f"[{host}]" if ":" in host else host
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {hostname}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
            f"Sec-WebSocket-Protocol: {subprotocol}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        status, answer, rest = await _read_head(stream)
        if status != 101:
            raise HandshakeRefused(status, await _read_body(stream, answer, rest))
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()
        if answer.get("sec-websocket-accept") != accept or answer.get("upgrade", "").lower() != "websocket":
            raise WebSocketError("the server's answer is not a WebSocket upgrade")
        if answer.get("sec-websocket-protocol") != subprotocol:
            raise WebSocketError(f"the server did not accept subprotocol {subprotocol!r}")
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise
    return WebSocket(stream, rest, max_message)


async def _read_head(stream: trio.abc.Stream) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, bytes after the head)."""
    data = bytearray()
    while (end := data.find(b"\r\n\r\n")) < 0:
        if len(data) > MAX_HEADER:
            raise WebSocketError("the server's answer has no end of headers")
        try:
            chunk = await stream.receive_some(READ)
        except (trio.BrokenResourceError, OSError) as exc:
            raise WebSocketError(f"the connection dropped during the handshake ({exc})") from None
        if not chunk:
            raise WebSocketError("the connection closed during the handshake")
        data += chunk
    status_line, *header_lines = data[:end].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise WebSocketError(f"not an HTTP answer: {status_line[:80]!r}")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers, bytes(data[end + 4 :])


async def _read_body(stream: trio.abc.Stream, headers: dict[str, str], body: bytes) -> str:
    """A refusal's body (brummer's guard sends a short JSON reason), bounded and without waiting long."""
    length = headers.get("content-length", "")
    wanted = min(int(length), MAX_HEADER) if length.isdigit() else 0
    data = bytearray(body)
    with trio.move_on_after(1):
        while len(data) < wanted:
            chunk = await stream.receive_some(READ)
            if not chunk:
                break
            data += chunk
    return data[:wanted].decode("utf-8", "replace").strip()
