"""A small real HTTP/1.1 upstream for the proxy tests: Trio sockets and h11 (an HTTP implementation independent of
the proxy's httptools), on 127.0.0.1 port 0, counting the connections it accepts.

Routes: ``/json`` a small JSON answer; ``/headers`` the request head as JSON; ``/echo`` streams the request body
back (chunked) while it reads it; ``/bytes/N`` N bytes with a Content-Length, in 64 KiB writes; ``/chunked/N`` N
chunks; ``/sse`` server-sent events pushed by the test (``Upstream.events``); ``/status/N``; ``/redirect``;
``/html`` a page with a CSP; ``/close`` an answer delimited by closing the connection; ``/drop`` a keep-alive
answer, then the connection closes; ``/slow`` answers after ``Upstream.slow`` seconds.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import h11
import trio

BLOCK = b"x" * 65536


@dataclass
class Upstream:
    port: int = 0
    connections: int = 0
    open: int = 0  # connections open now
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    events: trio.MemorySendChannel[bytes] | None = None
    slow: float = 0.0

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"


async def _next(conn: h11.Connection, stream: trio.SocketStream) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        data = await stream.receive_some(65536)
        conn.receive_data(data)
        if not data and conn.their_state is not h11.DONE:
            return h11.ConnectionClosed()


async def _handle(upstream: Upstream, stream: trio.SocketStream, events: trio.MemoryReceiveChannel[bytes]) -> None:
    upstream.connections += 1
    upstream.open += 1
    conn = h11.Connection(h11.SERVER, max_incomplete_event_size=1 << 20)
    try:
        while True:
            event = await _next(conn, stream)
            if not isinstance(event, h11.Request):
                return
            path = event.target.decode()
            headers = {k.decode(): v.decode() for k, v in event.headers}
            upstream.requests.append((event.method.decode(), path, headers))
            await _route(upstream, conn, stream, event, path, headers, events)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE or path.startswith("/drop"):
                return  # /drop: answered as keep-alive, then closed (an upstream keep-alive timeout)
            conn.start_next_cycle()
    except (trio.BrokenResourceError, h11.ProtocolError, trio.ClosedResourceError):
        return
    finally:
        upstream.open -= 1
        await stream.aclose()


async def _send(stream: trio.SocketStream, conn: h11.Connection, *events: h11.Event) -> None:
    for event in events:
        data = conn.send(event)
        if data:
            await stream.send_all(data)


async def _body(conn: h11.Connection, stream: trio.SocketStream) -> AsyncIterator[bytes]:
    while True:
        event = await _next(conn, stream)
        if isinstance(event, h11.Data):
            yield bytes(event.data)
        else:
            return


async def _route(
    upstream: Upstream,
    conn: h11.Connection,
    stream: trio.SocketStream,
    req: h11.Request,
    path: str,
    headers: dict[str, str],
    events: trio.MemoryReceiveChannel[bytes],
) -> None:
    def head(status: int = 200, *extra: tuple[str, str]) -> h11.Response:
        return h11.Response(status_code=status, headers=list(extra))

    if path.startswith("/echo"):
        await _send(stream, conn, head(200, ("Content-Type", "application/octet-stream")))
        async for piece in _body(conn, stream):
            await _send(stream, conn, h11.Data(data=piece))
        await _send(stream, conn, h11.EndOfMessage())
        return
    body = b"".join([piece async for piece in _body(conn, stream)])
    if path.startswith("/bytes/"):
        size = int(path.split("/")[2])
        await _send(
            stream, conn, head(200, ("Content-Length", str(size)), ("Content-Type", "application/octet-stream"))
        )
        if req.method != b"HEAD":
            while size > 0:
                await _send(stream, conn, h11.Data(data=BLOCK[: min(size, len(BLOCK))]))
                size -= len(BLOCK)
        await _send(stream, conn, h11.EndOfMessage())
    elif path.startswith("/chunked/"):
        await _send(stream, conn, head(200, ("Transfer-Encoding", "chunked"), ("Content-Type", "text/plain")))
        for i in range(int(path.split("/")[2])):
            await _send(stream, conn, h11.Data(data=b"piece %d\n" % i))
        await _send(stream, conn, h11.EndOfMessage())
    elif path.startswith("/sse"):
        await _send(stream, conn, head(200, ("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")))
        async for data in events:
            if not data:
                break
            await _send(stream, conn, h11.Data(data=data))
        await _send(stream, conn, h11.EndOfMessage())
    elif path.startswith("/status/"):
        await _json(stream, conn, int(path.split("/")[2]), {"status": path})
    elif path.startswith("/redirect"):
        location = f"http://localhost:{upstream.port}/json?from=redirect"
        await _send(stream, conn, head(302, ("Location", location), ("Content-Length", "0")), h11.EndOfMessage())
    elif path.startswith("/close"):
        await _send(stream, conn, head(200, ("Connection", "close")), h11.Data(data=b"until close"), h11.EndOfMessage())
    elif path.startswith("/slow"):
        await trio.sleep(upstream.slow)
        await _json(stream, conn, 200, {"slow": upstream.slow})
    elif path.startswith("/html"):
        page = b"<!doctype html><html><head><title>t</title></head><body>hi</body></html>"
        page_head = head(
            200,
            ("Content-Type", "text/html"),
            ("Content-Length", str(len(page))),
            ("Content-Security-Policy", "default-src 'self'"),
        )
        await _send(stream, conn, page_head, h11.Data(data=page), h11.EndOfMessage())
    elif path.startswith("/headers"):
        await _json(
            stream, conn, 200, {"method": req.method.decode(), "path": path, "headers": headers, "body": len(body)}
        )
    else:
        extra = [("Set-Cookie", "session=s3cret; HttpOnly")]
        await _json(stream, conn, 200, {"ok": True, "path": path, "body": len(body)}, *extra)


async def _json(
    stream: trio.SocketStream, conn: h11.Connection, status: int, doc: object, *extra: tuple[str, str]
) -> None:
    body = json.dumps(doc).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra]
    await _send(
        stream, conn, h11.Response(status_code=status, headers=headers), h11.Data(data=body), h11.EndOfMessage()
    )


@asynccontextmanager
async def serving(port: int = 0) -> AsyncIterator[Upstream]:
    """An upstream on 127.0.0.1 (``port`` 0: any free one) until the block ends."""
    send, receive = trio.open_memory_channel[bytes](100)
    upstream = Upstream(events=send)
    listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
    upstream.port = listeners[0].socket.getsockname()[1]

    async def handler(stream: trio.SocketStream) -> None:
        await _handle(upstream, stream, receive)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, handler, listeners)
        yield upstream
        nursery.cancel_scope.cancel()
