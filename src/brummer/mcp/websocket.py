"""The WebSocket transport at ``/ws``: one JSON-RPC message per text frame, over an ASGI WebSocket.

WebSocket is not an MCP transport in any spec revision (and the SDK 2.x has none), but it is the natural one for a
long-lived local connection: no sessions, no SSE, notifications whenever they happen. Subprotocol ``mcp`` is what
the old SDK WebSocket transports offered; a client that offers none (a browser's ``new WebSocket(url)``) is served
too. A frame over ``MAX_MESSAGE`` closes that one connection with code 1009 ("message too big").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio
from mcp.server.lowlevel import Server

from brummer.mcp.bridge import serve_messages

if TYPE_CHECKING:
    from brummer.mcp.asgi import Receive, Scope, Send

SUBPROTOCOL = "mcp"
MAX_MESSAGE = 16 * 1024 * 1024
# hypercorn's own limit is set higher: a frame over it gets a 1009 close but hypercorn 0.18 then stops handling
# that connection's events (it never finishes the closing handshake), so we refuse big frames ourselves, cleanly.
TRANSPORT_LIMIT = 4 * MAX_MESSAGE


async def serve_websocket(scope: Scope, receive: Receive, send: Send, server: Server[Any]) -> None:
    """Run one MCP connection over an ASGI WebSocket until the client goes away."""
    if (await receive())["type"] != "websocket.connect":
        return
    offered = scope.get("subprotocols") or []
    if offered and SUBPROTOCOL not in offered:
        await send({"type": "websocket.close", "code": 1002, "reason": f"subprotocol {SUBPROTOCOL!r} required"})
        return
    await send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL if offered else None})
    gone = False

    async def next_frame() -> str | None:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return None
            if message["type"] == "websocket.receive":
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                if len(text) > MAX_MESSAGE:
                    reason = f"message too big: the limit is {MAX_MESSAGE // 2**20} MiB"
                    await send({"type": "websocket.close", "code": 1009, "reason": reason})
                    return None
                return text

    async def send_frame(text: str) -> None:
        nonlocal gone
        if gone:
            return
        try:
            await send({"type": "websocket.send", "text": text})
        except (OSError, trio.BrokenResourceError, trio.ClosedResourceError):
            gone = True  # the client left; its disconnect ends the connection

    await serve_messages(server, next_frame, send_frame)


async def serve_echo(scope: Scope, receive: Receive, send: Send) -> None:
    """A bare WebSocket echo on the same server and guard: the baseline of ``scripts/bench_mcp.py``."""
    if (await receive())["type"] != "websocket.connect":
        return
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})
