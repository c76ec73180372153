"""One MCP connection over any channel of whole text messages (a WebSocket, stdio lines), to the SDK's streams.

The SDK's ``Server.run`` wants a pair of memory streams of parsed messages; transports that deliver one JSON-RPC
message per unit (a text frame, a line) only need ``receive`` and ``send`` for text. Each connection runs the SDK's
dual-era loop, so the client's first request decides its era, as on any MCP transport.

This is also where one client's cost is bounded, the same way on every transport:

- Malformed input gets a JSON-RPC error and the connection goes on (the SDK would drop such a message without a
  word): not JSON, or nested deeper than pydantic's parser allows (-32700); not a JSON-RPC message, a batch, or an
  id that is not a string or a safe integer (-32600, id null: an id that is an object, a boolean or a float would
  otherwise make the message a notification, silently dropped). Parsing never recurses in Python.
- At most ``MAX_IN_FLIGHT`` requests at once. The SDK spawns a task per request and never says no; here requests
  are counted in (by id) and out (their answer, or the client's ``notifications/cancelled``), and one beyond the cap
  is answered at once with ``TOO_MANY_REQUESTS``. Refusing rather than waiting keeps the reading going, so a
  cancellation or the end of the connection is always seen, however busy the client made it.
- When input ends (the client is gone) the SDK's loop cancels every request in flight.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import mcp_types as types
import pydantic_core
import trio
from mcp.server.lowlevel import Server
from mcp.shared.dispatcher import as_request_id, coerce_request_id
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

from brummer.mcp.frames import INVALID_REQUEST, PARSE_ERROR, TOO_MANY_REQUESTS, TooBig, error_frame
from brummer.mcp.validate import MAX_SAFE_INTEGER

QUEUE = 32  # messages buffered each way; at most MAX_IN_FLIGHT answers and a few notifications are ever waiting
MAX_IN_FLIGHT = 16  # requests one connection may have running; each may hold an answer of up to MAX_MESSAGE


Receive = Callable[[], Awaitable[str | TooBig | None]]
Send = Callable[[str], Awaitable[None]]


async def serve_messages(server: Server[Any], receive: Receive, send: Send) -> None:
    """Serve until ``receive`` returns None (the client is gone); ``send`` is never called concurrently."""
    to_server, server_in = anyio.create_memory_object_stream[SessionMessage | Exception](QUEUE)
    server_out, from_server = anyio.create_memory_object_stream[SessionMessage](QUEUE)
    lock = trio.Lock()
    in_flight: Counter[str | int] = Counter()

    async def send_one(text: str) -> None:
        async with lock:
            await send(text)

    async def write() -> None:
        async with from_server:
            async for item in from_server:
                message = item.message
                if isinstance(message, types.JSONRPCResponse | types.JSONRPCError) and message.id is not None:
                    _settle(in_flight, coerce_request_id(message.id))
                await send_one(message.model_dump_json(by_alias=True, exclude_unset=True))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(_run, server, server_in, server_out)
        nursery.start_soon(write)
        with to_server:  # closing it is the end of input: the server loop cancels what is in flight and ends
            while (raw := await receive()) is not None:
                message = raw.error() if isinstance(raw, TooBig) else parse(raw)
                if isinstance(message, str):
                    await send_one(message)
                    continue
                if isinstance(message, types.JSONRPCRequest):
                    if sum(in_flight.values()) >= MAX_IN_FLIGHT:
                        await send_one(_busy(message.id))
                        continue
                    in_flight[coerce_request_id(message.id)] += 1
                elif isinstance(message, types.JSONRPCNotification) and message.method == "notifications/cancelled":
                    cancelled = as_request_id((message.params or {}).get("requestId"))
                    if cancelled is not None and coerce_request_id(cancelled) in in_flight:
                        _settle(in_flight, coerce_request_id(cancelled))  # the SDK never answers what was cancelled
                await to_server.send(SessionMessage(message))


async def _run(server: Server[Any], read: Any, write: Any) -> None:
    await server.run(read, write, server.create_initialization_options())


def _settle(in_flight: Counter[str | int], request_id: str | int) -> None:
    if in_flight[request_id] > 1:
        in_flight[request_id] -= 1
    else:
        in_flight.pop(request_id, None)


def _busy(request_id: str | int) -> str:
    why = f"too many requests in flight on this connection (at most {MAX_IN_FLIGHT}); wait for an answer first"
    return error_frame(TOO_MANY_REQUESTS, why, request_id)


def parse(raw: str) -> types.JSONRPCMessage | str:
    """The JSON-RPC message in ``raw``, or the error frame that answers it."""
    try:
        value = pydantic_core.from_json(raw, allow_inf_nan=False)  # depth-limited: a ValueError, never recursion
    except (ValueError, TypeError) as exc:  # pydantic's message says where: "recursion limit exceeded at line 1 ..."
        return error_frame(PARSE_ERROR, f"Parse error: the message is not JSON we can read ({exc})")
    if isinstance(value, list):
        return error_frame(INVALID_REQUEST, "Invalid request: batches are not supported; send one at a time")
    if not isinstance(value, dict):
        return error_frame(INVALID_REQUEST, "Invalid request: a JSON-RPC 2.0 message is a JSON object")
    request_id = value.get("id")
    if "id" in value and not valid_id(request_id) and not (request_id is None and "error" in value):
        why = f"Invalid request: the id must be a string or an integer up to {MAX_SAFE_INTEGER} in size"
        return error_frame(INVALID_REQUEST, why)
    try:
        return types.jsonrpc_message_adapter.validate_python(value, by_name=False)
    except ValidationError:
        known = request_id if valid_id(request_id) else None
        return error_frame(INVALID_REQUEST, "Invalid request: not a JSON-RPC 2.0 message", known)


def valid_id(value: object) -> bool:
    """A string, or an integer that every JSON implementation reads back as the same number."""
    if isinstance(value, bool):
        return False
    return isinstance(value, str) or (isinstance(value, int) and abs(value) <= MAX_SAFE_INTEGER)
