"""A small MCP client over an instance's ``/ws``: JSON-RPC requests by id, notifications to callbacks, no SDK.

It speaks the stateless 2026-07-28 era: every request carries its own ``_meta`` envelope (protocol version, client
capabilities and info), so a command's first frame is already its tool call. The handshake era would cost an
``initialize`` round trip (and an ``initialized`` notification) before it; the server's dual-era loop decides the
era from the first request, so a stamped ``tools/call`` opens a modern connection directly. Modern connections
still carry ``notifications/progress`` (for a request that sent a ``progressToken``) and, for a
``subscriptions/listen`` request, ``notifications/resources/updated``: all a follower or the hub needs.

Requests run concurrently on one connection (``brummer ps`` sends its two in one round trip). When the connection
drops, every request in flight ends with ``ConnectionLost``; the caller decides what that means (a tool error
naming the project in the hub; reconnect and resume from the cursor in ``logs -f``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import trio

from brummer import __version__
from brummer.errors import ConnectionLost, RpcError
from brummer.remote.websocket import Closed, WebSocket, WebSocketError, connect

__all__ = ["ConnectionLost", "RpcError", "Session", "ToolResult", "open_session"]

PROTOCOL_VERSION = "2026-07-28"
META = {
    "io.modelcontextprotocol/protocolVersion": PROTOCOL_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "brummer-remote", "version": __version__},
}
MAX_MESSAGE = 32 * 1024 * 1024  # the server's frames are at most 16 MiB; room for its JSON escaping
BIG_FRAME = 1024 * 1024  # frames above this are parsed in a worker thread (the hub's loop serves others)
CONNECT_TIMEOUT = 10.0

Progress = Callable[[float, float | None, str | None], Awaitable[None]]
Notified = Callable[[str, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ToolResult:
    text: str
    data: dict[str, Any] | None
    is_error: bool
    raw: dict[str, Any]  # the whole result, as the instance sent it (the hub passes it on)


class _Pending:
    __slots__ = ("answer", "done", "progress")

    def __init__(self, progress: Progress | None) -> None:
        self.done = trio.Event()
        self.answer: dict[str, Any] | None = None
        self.progress = progress


class Session:
    """Requests over one connection; a reader task (in the caller's nursery) routes what comes back."""

    def __init__(self, ws: WebSocket, on_notification: Notified | None = None) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self.on_notification = on_notification  # (method, params) of every notification but progress
        self.closed = trio.Event()

    async def request(
        self, method: str, params: dict[str, Any] | None = None, *, progress: Progress | None = None
    ) -> Any:
        """The result of ``method``; ``RpcError`` for an error answer, ``ConnectionLost`` if the connection broke."""
        if self.closed.is_set():
            raise ConnectionLost("the connection is closed")
        request_id = next(self._ids)
        meta = {**META, "progressToken": request_id} if progress is not None else META
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {**(params or {}), "_meta": meta}}
        pending = self._pending[request_id] = _Pending(progress)
        try:
            try:
                await self._ws.send(json.dumps(message, ensure_ascii=False))
            except WebSocketError as exc:
                raise ConnectionLost(str(exc)) from None
            await pending.done.wait()
        except trio.Cancelled:
            if pending.answer is None and not self.closed.is_set():
                await self._cancel_remote(request_id)
            raise
        finally:
            self._pending.pop(request_id, None)
        answer = pending.answer
        if answer is None:
            raise ConnectionLost("the connection dropped during the request")
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {}
            raise RpcError(int(error.get("code", 0)), str(error.get("message", "error")))
        return answer.get("result")

    async def tool(self, name: str, arguments: dict[str, Any], *, progress: Progress | None = None) -> ToolResult:
        result = await self.request("tools/call", {"name": name, "arguments": arguments}, progress=progress)
        if not isinstance(result, dict):
            raise RpcError(0, f"{name}: the answer is not a tool result")
        text = "\n".join(str(part.get("text", "")) for part in result.get("content") or [] if isinstance(part, dict))
        data = result.get("structuredContent")
        return ToolResult(text, data if isinstance(data, dict) else None, bool(result.get("isError")), result)

    async def _cancel_remote(self, request_id: int) -> None:
        with trio.move_on_after(1, shield=True), contextlib.suppress(WebSocketError):
            params = {"requestId": request_id, "reason": "the caller went away"}
            await self._ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": params}))

    async def read_loop(self) -> None:
        """Route answers and notifications until the connection closes; then fail what is still pending."""
        try:
            while True:
                frame = await self._ws.receive()
                try:
                    message = (
                        json.loads(frame)
                        if len(frame) < BIG_FRAME
                        else await trio.to_thread.run_sync(json.loads, frame)
                    )
                except ValueError:
                    continue  # not JSON: nothing of ours can be waiting for it
                if isinstance(message, dict):
                    await self._route(message)
        except Closed:
            pass
        finally:
            self.closed.set()
            for pending in self._pending.values():
                pending.done.set()  # with no answer: ConnectionLost

    async def _route(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        if "method" not in message:
            pending = self._pending.get(request_id) if isinstance(request_id, int) else None
            if pending is not None:
                pending.answer = message
                pending.done.set()
            return
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        method = str(message["method"])
        if method == "notifications/progress":
            token = params.get("progressToken")
            pending = self._pending.get(token) if isinstance(token, int) else None
            if pending is not None and pending.progress is not None:
                total = params.get("total")
                progress = float(params.get("progress", 0))
                await pending.progress(progress, float(total) if total is not None else None, params.get("message"))
        elif self.on_notification is not None:
            await self.on_notification(method, params)

    async def aclose(self) -> None:
        await self._ws.aclose()


@contextlib.asynccontextmanager
async def open_session(url: str, token: str, *, on_notification: Notified | None = None) -> AsyncIterator[Session]:
    """A session on ``url`` (an instance's loopback ``ws://`` address) with its bearer token.

    Raises ``ConnectionLost`` if it cannot be opened; ``WebSocketError``'s ``HandshakeRefused`` says why a server
    refused (401: a wrong token, the instance was replaced).
    """
    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ConnectionLost(f"not a WebSocket address: {url}")
    try:
        with trio.fail_after(CONNECT_TIMEOUT):
            ws = await connect(
                parts.hostname,
                parts.port,
                parts.path or "/",
                {"Authorization": f"Bearer {token}"},
                subprotocol="mcp",
                max_message=MAX_MESSAGE,
            )
    except (OSError, WebSocketError, trio.TooSlowError) as exc:
        raise ConnectionLost(f"cannot connect to {url}: {exc or 'timed out'}") from None
    session = Session(ws, on_notification)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(session.read_loop)
            try:
                yield session
            finally:
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The reader only ever ends quietly, so a group holds the body's one exception: raise it as it is, so
        # callers catch ConnectionLost or RpcError rather than a group around it.
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise
    finally:
        await session.aclose()
