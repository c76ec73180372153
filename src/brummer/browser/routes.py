"""``/__brummer__/`` on every proxy: the page script and the telemetry WebSocket.

The socket accepts only pages of the proxy's own origin (``http://127.0.0.1:PORT``, ``http://localhost:PORT``):
a page elsewhere (another site, another dev server, a file) cannot feed brummer fake errors or take commands.
Per connection: messages up to ``MAX_MESSAGE`` bytes (a bigger one closes it, 1009), ``RATE`` messages a second
with bursts of ``BURST`` (beyond that they are dropped and counted), ``QUEUE`` waiting to be handled while a stack
is being mapped (source maps are fetched then); per proxy at most ``CONNECTIONS`` sockets at once.

Each socket gets two tasks: the reader (answers to commands are handled at once) and the handler of reports, which
also resolves the previous page load's errors when the new one has settled.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import math
from typing import TYPE_CHECKING, Any

import trio

from brummer.browser.frames import ServerSocket, SocketClosed, handshake
from brummer.browser.page_errors import PageReports
from brummer.browser.telemetry import Session, Telemetry, origins
from brummer.proxy import pages
from brummer.proxy.hooks import LocalHandler, reserved
from brummer.proxy.messages import Request

if TYPE_CHECKING:
    from brummer.proxy.http1 import ClientConnection

MAX_MESSAGE = 64 * 1024
RATE, BURST = 20.0, 100.0  # messages per second per socket, and the burst allowed above it
QUEUE = 64  # reports waiting for the handler; more are dropped (counted) while it maps a stack
CONNECTIONS = 32  # telemetry sockets per proxy
HELLO_TIMEOUT = 10.0  # a socket must say which tab it is within this
SCRIPT = b"/__brummer__/client.js"
SOCKET = b"/__brummer__/ws"


@functools.cache
def client_script() -> tuple[bytes, bytes]:
    """(the script, its ETag), read once from the package."""
    body = importlib.resources.files("brummer.browser").joinpath("client.js").read_bytes()
    return body, b'"%s"' % hashlib.sha256(body).hexdigest()[:16].encode()


def local_handler(telemetry: Telemetry) -> LocalHandler:
    return functools.partial(serve_local, telemetry)


async def serve_local(telemetry: Telemetry, conn: ClientConnection, req: Request) -> bool:
    path = req.url.split(b"?", 1)[0]
    if path == SCRIPT and req.method in (b"GET", b"HEAD"):
        return await _script(conn, req)
    if path == SOCKET:
        return await _socket(telemetry, conn, req)
    return await reserved(conn, req)


async def _script(conn: ClientConnection, req: Request) -> bool:
    body, etag = client_script()
    close = not req.complete or not req.keep_alive
    if any(line.lower().startswith(b"if-none-match:") and etag in line for line in req.lines):
        head = b"HTTP/1.1 304 Not Modified\r\nETag: %s\r\nCache-Control: no-cache\r\n" % etag
        await conn.send(head + (b"Connection: close\r\n" if close else b"") + b"\r\n")
        return not close
    answer = pages.response(200, body, b"text/javascript; charset=utf-8", close=close)
    answer = answer.replace(b"Cache-Control: no-store\r\n", b"Cache-Control: no-cache\r\nETag: %s\r\n" % etag, 1)
    await conn.send(answer[: answer.index(b"\r\n\r\n") + 4] if req.method == b"HEAD" else answer)
    return not close


def _header(req: Request, name: bytes) -> bytes | None:
    size = len(name)
    for line in req.lines:
        if line[:size].lower() == name:
            return line[size:].strip()
    return None


async def _socket(telemetry: Telemetry, conn: ClientConnection, req: Request) -> bool:
    site = conn.site
    origin = _header(req, b"origin:")
    key = _header(req, b"sec-websocket-key:")
    allowed = {o.encode() for o in origins(site.target.proxy_port)}
    if origin not in allowed:
        await conn.send(pages.refusal(403, "the telemetry socket only takes pages of this proxy's own origin"))
        return False
    if req.upgrade is None or req.upgrade.lower() != b"websocket" or not key or not req.complete:
        await conn.send(pages.refusal(400, "a WebSocket upgrade is expected here"))
        return False
    live = telemetry.live.setdefault(site.target.proxy_port, set())
    if len(live) >= CONNECTIONS:
        await conn.send(pages.refusal(503, "too many telemetry connections"))
        return False
    conn.deadline = math.inf
    conn.answering = True
    await conn.send(handshake(key))
    sock = ServerSocket(conn.sock, conn.reader.upgrade_rest or b"", MAX_MESSAGE)
    live.add(sock)
    try:
        await _serve_socket(telemetry, conn, sock, origin.decode())
    except SocketClosed:
        pass
    finally:
        live.discard(sock)
    return False


async def _serve_socket(telemetry: Telemetry, conn: ClientConnection, sock: ServerSocket, origin: str) -> None:
    hello: dict[str, Any] | None = None
    with trio.move_on_after(HELLO_TIMEOUT):
        hello = _decode(await sock.receive())
    token = hello.get("tab") if hello is not None and hello.get("t") == "hello" else None
    if hello is None or not isinstance(token, str) or not 0 < len(token) <= 64:
        await sock.close(1008)
    session = telemetry.session(conn.site, token)
    if session is None:
        await sock.close(1013)
    if session.socket is not None:  # the same tab, a second socket (a page reconnecting): the new one wins
        await session.socket.close_quietly(1000)
    reports = telemetry.reports.get(session.id)
    if reports is None or reports.site is not conn.site:
        reports = telemetry.reports[session.id] = PageReports(telemetry, conn.site, session)
    session.socket, session.origin = sock, origin
    reports.hello(hello)
    send, receive = trio.open_memory_channel[dict[str, Any]](QUEUE)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_handle, reports, receive)
            await _read(telemetry, session, sock, send)
            nursery.cancel_scope.cancel()
    finally:
        if session.socket is sock:
            telemetry.disconnected(session)


async def _read(
    telemetry: Telemetry, session: Session, sock: ServerSocket, send: trio.MemorySendChannel[dict[str, Any]]
) -> None:
    tokens, last = BURST, trio.current_time()
    with send:
        while True:
            try:
                message = _decode(await sock.receive())
            except SocketClosed:
                return
            if message is None:
                continue
            if message.get("t") == "reply":
                telemetry.answer(session, message.get("id"), message)
                continue
            now = trio.current_time()
            tokens, last = min(BURST, tokens + (now - last) * RATE), now
            if tokens < 1:
                session.dropped += 1
                continue
            tokens -= 1
            try:
                send.send_nowait(message)
            except trio.WouldBlock:
                session.dropped += 1


async def _handle(reports: PageReports, receive: trio.MemoryReceiveChannel[dict[str, Any]]) -> None:
    session = reports.session
    async with receive:
        while True:
            message = None
            with trio.move_on_at(session.settle_at):
                try:
                    message = await receive.receive()
                except trio.EndOfChannel:
                    return
            if message is None:
                reports.settle()
            else:
                await reports.handle(message)


def _decode(text: str) -> dict[str, Any] | None:
    """One report: a JSON object (anything else is ignored)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
