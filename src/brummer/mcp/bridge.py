"""One MCP connection over any channel of whole text messages (a WebSocket, stdio lines), to the SDK's streams.

The SDK's ``Server.run`` wants a pair of memory streams of parsed messages; transports that deliver one JSON-RPC
message per unit (a text frame, a line) only need ``receive`` and ``send`` for text. Each connection runs the SDK's
dual-era loop, so the client's first request decides its era, as on any MCP transport.

A message that is not JSON gets a JSON-RPC parse error (-32700), one that is not a JSON-RPC message an invalid
request error (-32600), and the connection goes on; the SDK itself would drop such a message without a word.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
import trio
from mcp.server.lowlevel import Server
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

QUEUE = 32  # messages buffered each way; beyond that the channel's own flow control takes over


async def serve_messages(
    server: Server[Any],
    receive: Callable[[], Awaitable[str | None]],
    send: Callable[[str], Awaitable[None]],
) -> None:
    """Serve until ``receive`` returns None (the client is gone); ``send`` is never called concurrently."""
    to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception](QUEUE)
    server_out, from_server = anyio.create_memory_object_stream[SessionMessage](QUEUE)
    lock = trio.Lock()

    async def send_one(text: str) -> None:
        async with lock:
            await send(text)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(_run, server, server_in, server_out)
        nursery.start_soon(_write, from_server, send_one)
        with to_server:  # closing it is the end of input: the server loop cancels what is in flight and ends
            while (raw := await receive()) is not None:
                try:
                    message = types.jsonrpc_message_adapter.validate_json(raw, by_name=False)
                except ValidationError:
                    await send_one(error_frame(raw))
                    continue
                await to_server.send(SessionMessage(message))


async def _run(server: Server[Any], read: Any, write: Any) -> None:
    await server.run(read, write, server.create_initialization_options())


async def _write(from_server: Any, send: Callable[[str], Awaitable[None]]) -> None:
    async with from_server:
        async for message in from_server:
            await send(message.message.model_dump_json(by_alias=True, exclude_unset=True))


def error_frame(raw: str) -> str:
    """The JSON-RPC error for a message that is not a JSON-RPC message (parse error, or invalid request)."""
    try:
        value = json.loads(raw)
    except ValueError:
        code, message, request_id = types.PARSE_ERROR, "Parse error: the message is not JSON", None
    else:
        code, message = types.INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message"
        if isinstance(value, list):
            message = "Invalid request: batches are not supported; send one message at a time"
        candidate = value.get("id") if isinstance(value, dict) else None
        request_id = candidate if isinstance(candidate, str | int) and not isinstance(candidate, bool) else None
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})
