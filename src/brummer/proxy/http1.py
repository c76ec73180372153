"""One client connection: HTTP/1.x requests relayed to the target and the answers back, streamed both ways.

The hot path is raw Trio sockets and httptools, one task and one cancel scope per client connection, and nothing
per request but parsing, a few joins, the sends and the record: a cancel scope or nursery per request cost a
quarter of the throughput in the measured prototypes. Timeouts are a ``deadline`` attribute moved by phase (idle
between requests, connecting, waiting for the answer's head; none while a body streams, so SSE and long downloads
run as long as they like) that the site's watchdog compares once a second. A request whose body is still arriving
is the one exception to "one task": its body is pumped upstream by a second task while the answer comes back
(``duplex``), so an upstream that answers as it reads (an echo, a 413 before the upload ends) cannot deadlock.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import TYPE_CHECKING

import httptools
import trio

from brummer.errors import UpstreamError
from brummer.proxy import pages
from brummer.proxy.guard import host_allowed, linger, origin_form
from brummer.proxy.hooks import BodyRewriter
from brummer.proxy.messages import LAST_CHUNK, Request, RequestReader, ResponseReader, chunk
from brummer.proxy.upstream import RECV, Upstream, send_all

if TYPE_CHECKING:
    from brummer.proxy.server import Site

IDLE_TIMEOUT = 120.0  # a client connection with no (complete) request head for this long is closed
ANSWER_TIMEOUT = 300.0  # the upstream's answer head, once the request is sent (a first compile can take a minute)
CONNECT_SLACK = 5.0  # beyond the wait for a restarting process, for a connect that hangs (a LAN host gone)
MAX_HEAD = 256 * 1024  # bytes a request or answer head may take (httptools itself sets no limit)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
BRUMMER_PREFIX = b"/__brummer__/"
UPSTREAM_ERRORS = (
    OSError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    httptools.HttpParserError,
    UpstreamError,
)


class ClientGone(Exception):
    """The client closed or reset its connection: nothing more can be sent to it."""


class ClientConnection:
    """Serves one accepted client socket until it closes, times out or breaks."""

    def __init__(self, site: Site, sock: trio.socket.SocketType, peer: bytes) -> None:
        self.site = site
        self.sock = sock
        self.peer = peer
        self.reader = RequestReader()
        self.scope = trio.CancelScope()  # cancelled by the site's watchdog once ``deadline`` has passed
        self.deadline = math.inf  # moved by phase; a float write per request, no cancel-scope bookkeeping
        self.answering = False  # the client has an answer head: a timeout now must not send an error page
        self.upstream: Upstream | None = None  # the connection in use, closed if this one dies
        self.upload_error = ""  # set by the body pump when the client went away mid-upload
        self.inflight: tuple[float, float, bytes] = (0.0, 0.0, b"")  # the forwarded request: started, t0, head

    async def serve(self) -> None:
        with self.scope:
            try:
                await self._loop()
            except httptools.HttpParserError:
                with contextlib.suppress(ClientGone):
                    await self._refuse(400, "malformed HTTP request", Request())
            except ClientGone:
                pass
        if self.upstream is not None:
            self.upstream.close()
        requests = self.reader.requests
        if self.scope.cancelled_caught and not self.answering and requests and requests[0].head_done:
            target = self.site.target
            page = pages.upstream_failed(
                504, "no answer in time", target.process, target.upstream_url, self.site.info(), b"", True
            )
            with trio.move_on_after(1):
                await self._send_quietly(page)
            started, t0, head = self.inflight
            if t0:
                self.site.record(requests[0], 504, "no answer in time", 0, b"", started, t0, 0.0, head, b"")

    async def _loop(self) -> None:
        requests, reader, recv = self.reader.requests, self.reader, self.sock.recv
        while True:
            if not requests or not requests[0].head_done:
                self.deadline = self.site.now + IDLE_TIMEOUT
                waited = 0
                while not requests or not requests[0].head_done:
                    data = await recv(RECV)
                    if not data:
                        return
                    waited += len(data)
                    if waited > MAX_HEAD:
                        await self._refuse(431, "request head too large", Request())
                        return
                    reader.feed(data)
            if not await self._dispatch(requests[0]):
                return
            requests.popleft()

    async def _dispatch(self, req: Request) -> bool:
        """Answer ``req``; whether the connection can carry another request."""
        if req.method == b"CONNECT":
            return await self._refuse(405, "brummer's proxy is not a forward proxy: CONNECT is refused", req)
        if not req.url.startswith(b"/") and not origin_form(req, self.site.target.proxy_port):
            return await self._refuse(403, "brummer's proxy only forwards to its own target", req)
        if not host_allowed(req.host):
            return await self._refuse(403, "Host not allowed: open the proxy as 127.0.0.1 or localhost", req)
        if req.url.startswith(BRUMMER_PREFIX):
            return await self.site.local(self, req)
        return await self._forward(req)

    # -- forwarding -------------------------------------------------------------------------------------------

    async def _forward(self, req: Request) -> bool:
        site = self.site
        started, t0 = time.time(), time.perf_counter()
        if site.hooks is not None:
            site.hooks.request(req)
        head = site.upstream_head(req, self.peer)
        self.inflight = (started, t0, head)
        self.deadline = site.now + site.pool.wait + CONNECT_SLACK
        if not req.complete:
            return await self._duplex(req, head, started, t0)
        try:
            up = await self._exchange(req, head)
        except UPSTREAM_ERRORS as exc:
            return await self._fail(req, exc, head, started, t0)
        req.pieces.clear()
        if up.reader.status == 101 and req.upgrade is not None:
            from brummer.proxy.websocket import relay_upgrade

            return await relay_upgrade(self, req, up, head, started, t0)
        return await self._relay_answer(req, up, head, started, t0)

    async def _exchange(self, req: Request, head: bytes) -> Upstream:
        """Send a complete request and read the answer's head. A pooled connection that turns out to be closed
        is retried once, on a fresh connection (the next pooled one is likely closed too)."""
        pool = self.site.pool
        up = None if req.upgrade is not None else pool.take()
        if up is not None:
            try:
                return await self._send_and_wait(req, up, head)
            except UPSTREAM_ERRORS:
                up.close()
                if up.reader.status:  # it had begun to answer (a 1xx): repeating is not safe
                    raise
        return await self._send_and_wait(req, await pool.connect(), head)

    async def _send_and_wait(self, req: Request, up: Upstream, head: bytes) -> Upstream:
        self.upstream = up
        up.reader.begin(req.method == b"HEAD")
        await up.send(head + self._body(req, final=True))
        self.deadline = self.site.now + ANSWER_TIMEOUT
        await self._answer_head(req, up)
        return up

    def _body(self, req: Request, final: bool) -> bytes:
        if req.chunked:
            return chunk(req.pieces) + (LAST_CHUNK if final else b"")
        return b"".join(req.pieces)

    async def _duplex(self, req: Request, head: bytes, started: float, t0: float) -> bool:
        """A request whose body is still arriving: pump it upstream while the answer comes back."""
        pool = self.site.pool
        try:
            up = self.upstream = pool.take() or await pool.connect()
            up.reader.begin(req.method == b"HEAD")
            if req.expect:
                await self.send(CONTINUE)  # as Node's server does; otherwise clients wait a second for it
            await up.send(head + self._body(req, final=False))
        except UPSTREAM_ERRORS as exc:
            return await self._fail(req, exc, head, started, t0)
        req.pieces.clear()
        self.deadline = math.inf
        failure: Exception | None = None
        keep = False
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump_body, req, up, nursery.cancel_scope)
            try:
                await self._answer_head(req, up)
            except UPSTREAM_ERRORS as exc:
                failure = exc
            else:
                keep = await self._relay_answer(req, up, head, started, t0) and req.complete
            nursery.cancel_scope.cancel()  # an answer before the upload ended: the rest is not ours to read
        if failure is not None:
            return await self._fail(req, failure, head, started, t0, keep=False)
        if self.upload_error and not self.answering and up.reader.status == 0:
            up.close()
            self.site.record(req, 0, self.upload_error, 0, b"", started, t0, 0.0, head, b"")
        return keep

    async def _pump_body(self, req: Request, up: Upstream, scope: trio.CancelScope) -> None:
        try:
            while not req.complete:
                data = await self.sock.recv(RECV)
                if not data:
                    self.upload_error = "the client closed the connection during the upload"
                    scope.cancel()
                    return
                self.reader.feed(data)
                if req.pieces or req.complete:
                    body = self._body(req, final=req.complete)
                    req.pieces.clear()
                    await up.send(body)
        except (*UPSTREAM_ERRORS, httptools.HttpParserError):
            return  # the answer side sees the broken upstream too, or has already answered
        if not up.reader.head_done:
            self.deadline = self.site.now + ANSWER_TIMEOUT

    async def _answer_head(self, req: Request, up: Upstream) -> None:
        resp, recv = up.reader, up.recv
        received = 0
        while not resp.head_done:
            data = await recv(RECV)
            if not data:
                raise UpstreamError("the connection closed before an answer")
            received += len(data)
            if received > MAX_HEAD:
                raise UpstreamError("the answer's head is too large")
            resp.feed(data)
            if resp.interim:
                if req.version != "1.0" and req.upgrade is None:
                    await self.send(b"".join(resp.interim))
                resp.interim.clear()

    async def _relay_answer(self, req: Request, up: Upstream, head: bytes, started: float, t0: float) -> bool:
        site, resp = self.site, up.reader
        ttfb = (time.perf_counter() - t0) * 1000
        self.deadline = math.inf
        rewriter = site.hooks.response(req, resp) if site.hooks is not None else None
        client_head, chunked, keep = site.client_head(req, resp, rewriter is not None)
        self.answering = True
        error = ""
        try:
            await self.send(client_head + self._take_body(resp, chunked, rewriter))
            while not resp.complete:
                try:
                    data = await up.recv(RECV)
                except UPSTREAM_ERRORS as exc:
                    raise UpstreamError(f"the answer broke off ({type(exc).__name__})") from None
                if data:
                    resp.feed(data)
                elif resp.delimited_by_close:
                    resp.complete, resp.keep_alive = True, False
                else:
                    raise UpstreamError("the upstream closed the connection in the middle of the answer")
                await self.send(self._take_body(resp, chunked, rewriter))
        except (UpstreamError, ClientGone) as exc:
            error = str(exc) or "the client closed the connection"
            resp.keep_alive = keep = False
        self.answering = False
        self.upstream = None
        if resp.keep_alive and resp.complete:
            site.pool.give_back(up)
        else:
            up.close()
        site.record(req, resp.status, error, resp.body_bytes, resp.content_type, started, t0, ttfb, head, client_head)
        return keep and req.complete

    def _take_body(self, resp: ResponseReader, chunked: bool, rewriter: BodyRewriter | None) -> bytes:
        pieces = resp.pieces
        if rewriter is not None:
            pieces = [rewriter.feed(b"".join(pieces))] if pieces else []
            if resp.complete:
                pieces.append(rewriter.end())
        if not pieces:
            return LAST_CHUNK if chunked and resp.complete else b""
        resp.pieces = []
        if chunked:
            return chunk(pieces) + (LAST_CHUNK if resp.complete else b"")
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def _fail(
        self, req: Request, exc: Exception, head: bytes, started: float, t0: float, keep: bool | None = None
    ) -> bool:
        """The upstream cannot be reached or broke before answering: a 502 page naming the process's state."""
        site = self.site
        if self.upstream is not None:
            self.upstream.close()
            self.upstream = None
        info = exc.info if isinstance(exc, UpstreamError) and exc.info is not None else site.info()
        reason = exc.reason if isinstance(exc, UpstreamError) else f"{type(exc).__name__}: {exc}"
        keep = req.keep_alive and req.complete if keep is None else keep
        target = site.target
        page = pages.upstream_failed(502, reason, target.process, target.upstream_url, info, req.accept, not keep)
        self.answering = True
        await self.send(page)
        self.answering = False
        site.record(req, 502, reason, 0, b"", started, t0, 0.0, head, page[: page.index(b"\r\n\r\n") + 4])
        return keep

    async def _refuse(self, status: int, text: str, req: Request) -> bool:
        await self.send(pages.refusal(status, text, req.accept))
        await linger(self.sock)
        return False

    async def send(self, data: bytes) -> None:
        """Everything to the client; ``ClientGone`` if it is not there any more."""
        try:
            await send_all(self.sock, data)
        except OSError:
            raise ClientGone from None

    async def _send_quietly(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            await send_all(self.sock, data)
