"""WebSocket upgrades: after the upstream's 101, bytes are relayed untouched both ways (text and binary frames,
extensions, subprotocols: Vite's ``vite-hmr``, webpack-dev-server, Next.js), and frame headers are only read to
count messages and payload bytes each way and to catch the close code.

One task per direction, in a nursery per WebSocket (a long-lived connection, not the request hot path). When one
side ends its stream, the other side's write half is shut down and it gets ``LINGER`` seconds to finish.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import trio

from brummer.proxy.record import WebSocketStats
from brummer.proxy.upstream import RECV, Upstream, send_all

if TYPE_CHECKING:
    from brummer.proxy.http1 import ClientConnection
    from brummer.proxy.messages import Request

LINGER = 5.0  # after one side closed, how long the other may go on
ERRORS = (OSError, trio.BrokenResourceError, trio.ClosedResourceError)
Recv = Callable[[int], Awaitable[bytes]]
Send = Callable[[bytes], Awaitable[None]]


class FrameCounter:
    """Follows RFC 6455 frame headers in a byte stream (they may be split anywhere) without copying payloads."""

    __slots__ = ("_close", "_head", "_left", "_mask", "_opcode", "bytes", "close_code", "messages")

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self.close_code: int | None = None
        self._head = b""  # a frame header split across reads
        self._left = 0  # payload bytes of the current frame still to come
        self._opcode = 0
        self._mask = b""
        self._close = b""  # the first two payload bytes of a close frame (the code), unmasked

    def feed(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                if self._opcode == 8 and len(self._close) < 2:
                    self._collect_close(data[pos : pos + take])
                self._left -= take
                pos += take
                continue
            head = self._head + data[pos : pos + 14]
            if len(head) < 2:
                self._head = head
                return
            second = head[1]
            size = 2 + (2 if second & 0x7F == 126 else 8 if second & 0x7F == 127 else 0) + (4 if second & 0x80 else 0)
            if len(head) < size:
                self._head = head
                return
            pos += size - len(self._head)
            self._head = b""
            self._frame(head[0], second, head[:size])

    def _frame(self, first: int, second: int, head: bytes) -> None:
        length = second & 0x7F
        offset = 2
        if length == 126:
            length, offset = int.from_bytes(head[2:4], "big"), 4
        elif length == 127:
            length, offset = int.from_bytes(head[2:10], "big"), 10
        self._mask = head[offset : offset + 4] if second & 0x80 else b""
        self._opcode = opcode = first & 0x0F
        self._left = length
        if opcode <= 2:  # continuation, text, binary
            self.bytes += length
            if first & 0x80:
                self.messages += 1
        elif opcode == 8:
            self._close = b""

    def _collect_close(self, data: bytes) -> None:
        self._close += data[: 2 - len(self._close)]
        if len(self._close) == 2 and self.close_code is None:
            code = bytearray(self._close)
            if self._mask:
                code[0] ^= self._mask[0]
                code[1] ^= self._mask[1]
            self.close_code = int.from_bytes(code, "big")


async def relay_upgrade(
    conn: ClientConnection, req: Request, up: Upstream, head: bytes, started: float, t0: float
) -> bool:
    """Relay a WebSocket after the upstream accepted the upgrade; record it when it ends."""
    resp = up.reader
    client_head = b"HTTP/1.1 101 %s\r\n%sConnection: Upgrade\r\nUpgrade: %s\r\n\r\n" % (
        resp.reason,
        b"".join(resp.lines),
        resp.upgrade or req.upgrade or b"websocket",
    )
    ttfb = (time.perf_counter() - t0) * 1000
    conn.answering = True
    conn.deadline = float("inf")
    inbound, outbound = FrameCounter(), FrameCounter()
    first_out = resp.upgrade_rest or b""
    outbound.feed(first_out)
    await conn.send(client_head + first_out)
    if conn.reader.upgrade_rest:  # the client's first frames, sent before the 101
        inbound.feed(conn.reader.upgrade_rest)
        with contextlib.suppress(*ERRORS):
            await up.send(conn.reader.upgrade_rest)
    async with trio.open_nursery() as nursery:
        ended = [0]
        nursery.start_soon(_pump, conn.sock.recv, up.send, inbound, lambda: _shut(up.sock), ended, nursery)
        nursery.start_soon(_pump, up.recv, _sender(conn.sock), outbound, lambda: _shut(conn.sock), ended, nursery)
    up.close()
    conn.upstream = None
    stats = WebSocketStats(
        time.time(), inbound.close_code or outbound.close_code, inbound.messages, outbound.messages,
        inbound.bytes, outbound.bytes,
    )  # fmt: skip
    conn.site.record(req, 101, "", 0, b"", started, t0, ttfb, head, client_head, stats)
    return False


def _sender(sock: trio.socket.SocketType) -> Send:
    async def send(data: bytes) -> None:
        await send_all(sock, data)

    return send


def _shut(sock: trio.socket.SocketType) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


async def _pump(
    recv: Recv, send: Send, counter: FrameCounter, shut: Callable[[], None], ended: list[int], nursery: trio.Nursery
) -> None:
    try:
        while data := await recv(RECV):
            counter.feed(data)
            await send(data)
    except ERRORS:
        nursery.cancel_scope.cancel()
        return
    shut()
    ended[0] += 1
    if ended[0] == 2:
        return
    nursery.cancel_scope.deadline = min(nursery.cancel_scope.deadline, trio.current_time() + LINGER)
