"""A minimal WebSocket client (RFC 6455) on a trio stream: what brummer's remote commands and hub need, no more.

Why not trio-websocket: importing it (wsproto, h11, attrs) costs about a third of ``import trio`` again, and
``brummer ps`` must stay within 1.5x of ``import trio`` (docs/benchmarks.md). A client that talks to brummer's own
loopback server needs little: the upgrade request, masked text frames out, unmasked frames in (``rfc6455``, shared
with the browser telemetry's server end).
"""

from __future__ import annotations

import base64
import contextlib
import os
import struct
from typing import NoReturn

import trio

from brummer.rfc6455 import CLOSE, READ, TEXT, FrameStream, accept_key, encode

MAX_HEADER = 64 * 1024  # the server's handshake answer, headers and (refusal) body


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


class WebSocket(FrameStream):
    """One open client connection. ``receive`` is for one task at a time; ``send`` may be called concurrently."""

    PEER_MASKS = False

    def __init__(self, stream: trio.abc.Stream, buffered: bytes, max_message: int) -> None:
        super().__init__(buffered, max_message)
        self._stream = stream
        self._send_lock = trio.Lock()
        self._closed: Closed | None = None

    async def send(self, text: str) -> None:
        await self._send_frame(TEXT, text.encode())

    async def aclose(self) -> None:
        if self._closed is None:
            self._closed = Closed(1000)
            with trio.move_on_after(1) as scope:
                scope.shield = True
                with contextlib.suppress(WebSocketError):
                    await self._send_frame(CLOSE, struct.pack("!H", 1000))
        await trio.aclose_forcefully(self._stream)

    async def _close(self, code: int, reason: str) -> NoReturn:
        """Answer (or send) a close frame, drop the connection and raise ``Closed``."""
        if self._closed is None:
            self._closed = Closed(code, reason)
            with trio.move_on_after(1):
                with contextlib.suppress(WebSocketError):
                    await self._send_frame(CLOSE, struct.pack("!H", code if code not in (1005, 1006) else 1000))
        await trio.aclose_forcefully(self._stream)
        raise self._closed

    async def _receive(self, size: int) -> bytes | bytearray:
        if self._closed is not None:
            raise self._closed
        try:
            chunk = await self._stream.receive_some(size)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
            chunk = b""
        if not chunk:
            self._closed = self._closed or Closed(1006, "the connection dropped")
            raise self._closed
        return chunk

    async def _send_frame(self, opcode: int, payload: bytes) -> None:
        data = encode(opcode, payload, masked=True)
        async with self._send_lock:
            if self._closed is not None and opcode != CLOSE:
                raise self._closed
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                self._closed = self._closed or Closed(1006, "the connection dropped")
                raise self._closed from None


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
        accept = accept_key(key).decode()
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
