"""The WebSocket transport at ``/ws``: one JSON-RPC message per text frame, over an ASGI WebSocket.

WebSocket is not an MCP transport in any spec revision (and the SDK 2.x has none), but it is the natural one for a
long-lived local connection: no sessions, no SSE, notifications whenever they happen. Subprotocol ``mcp`` is what
the old SDK WebSocket transports offered; a client that offers none (a browser's ``new WebSocket(url)``) is served
too. A frame over ``frames.MAX_MESSAGE`` is refused by hypercorn before it is buffered (see ``hypercorn_ws``).

What goes out waits in the connection's own ``Outbox``, bounded in size. A client that leaves more than ``OUTBOX``
characters unread and then takes nothing for ``STALL`` seconds is a slow reader: it is dropped (its socket closed,
its requests cancelled), counted and noted in brummer's log. Nobody else ever waits for it: resource notifications
reach each connection through its own task (``adapter.Subscribers``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import trio
from hypercorn.typing import ASGIReceiveCallable as Receive
from hypercorn.typing import ASGISendCallable as Send
from hypercorn.typing import WebsocketScope
from mcp.server.lowlevel import Server

from brummer.mcp.bridge import serve_messages
from brummer.mcp.hypercorn_ws import ABORT_MESSAGE

SUBPROTOCOL = "mcp"
OUTBOX = 4 * 1024 * 1024  # characters queued for one client before a sender waits for it (one frame may be larger)
STALL = 5.0  # seconds a client may take nothing while its outbox is full, before it counts as a slow reader


class SlowReaders:
    """Clients dropped because they stopped reading: counted, and each one noted (process "brummer")."""

    def __init__(self, note: Callable[..., None]) -> None:
        self._note = note
        self.count = 0

    def dropped(self, peer: str, unread: int) -> None:
        self.count += 1
        self._note(
            f"mcp: dropped WebSocket client {peer}: it left {unread / 2**20:.1f} MiB of answers unread for "
            f"{STALL:g} s ({self.count} slow client{'s' if self.count != 1 else ''} dropped so far)",
            level="warn",
        )


class Outbox:
    """Frames on their way to one client, at most ``OUTBOX`` characters of them (see the module)."""

    def __init__(self) -> None:
        self._frames: deque[str] = deque()
        self.size = 0  # characters queued, not counting the frame being sent
        self._wake = trio.Event()  # frames arrived for the pump
        self._moved = trio.Event()  # the pump handed a frame to the client's socket
        self.stalled = trio.Event()  # the client is a slow reader: drop it

    async def put(self, text: str) -> None:
        """Queue ``text``; while the outbox is full, wait for the client (at most ``STALL`` seconds each frame)."""
        while self._frames and self.size + len(text) > OUTBOX:
            if self.stalled.is_set():
                return
            with trio.move_on_after(STALL) as waited:
                await self._moved.wait()
            if waited.cancelled_caught:
                self.stalled.set()
                return
        self._frames.append(text)
        self.size += len(text)
        self._wake.set()

    async def pump(self, send: Send) -> None:
        """Send the queued frames in order, forever (cancel it when the connection ends)."""
        while True:
            while not self._frames:
                self._wake = trio.Event()
                await self._wake.wait()
            text = self._frames.popleft()
            self.size -= len(text)
            await send({"type": "websocket.send", "text": text, "bytes": None})
            self._moved.set()
            self._moved = trio.Event()


async def serve_websocket(
    scope: WebsocketScope, receive: Receive, send: Send, server: Server[Any], slow: SlowReaders
) -> None:
    """Run one MCP connection over an ASGI WebSocket until the client goes away (or is dropped)."""
    if (await receive())["type"] != "websocket.connect":
        return
    offered = list(scope.get("subprotocols") or ())
    if offered and SUBPROTOCOL not in offered:
        await send({"type": "websocket.close", "code": 1002, "reason": f"subprotocol {SUBPROTOCOL!r} required"})
        return
    await send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL if offered else None, "headers": []})
    outbox = Outbox()

    async def next_frame() -> str | None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return None
            if message["type"] == "websocket.receive" and not outbox.stalled.is_set():
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                return str(text)

    async def drop_when_stalled() -> None:
        await outbox.stalled.wait()
        client = scope.get("client")
        slow.dropped(f"{client[0]}:{client[1]}" if client else "?", outbox.size)
        await send(ABORT_MESSAGE)  # its disconnect follows, and ends serve_messages

    async with trio.open_nursery() as nursery:
        nursery.start_soon(outbox.pump, send)
        nursery.start_soon(drop_when_stalled)
        await serve_messages(server, next_frame, outbox.put)
        nursery.cancel_scope.cancel()
