"""One listener per target: accept client connections and give each one task (``http1.ClientConnection``).

A ``Site`` is what every connection of one target shares: the target, its upstream pool, the recorder, the
supervisor (for the 502 page and the wait for a restarting process), the hooks and ``/__brummer__/``. It lives as
long as the target, across restarts of the service, so pools and counts survive.
"""

from __future__ import annotations

import socket
import time
import traceback
from typing import TYPE_CHECKING

import trio

from brummer.proxy.hooks import LocalHandler, ProxyHooks, reserved
from brummer.proxy.http1 import ClientConnection
from brummer.proxy.messages import Request, ResponseReader
from brummer.proxy.record import WebSocketStats
from brummer.proxy.recorder import Recorder
from brummer.proxy.targets import LISTEN_HOST, Target
from brummer.proxy.upstream import Pool
from brummer.supervise.state import ProcessInfo

if TYPE_CHECKING:
    from brummer.logs.store import LogStore
    from brummer.supervise.supervisor import Supervisor

MAX_CONNECTIONS = 1024  # client connections per target; beyond, new ones are closed at once
CHUNKED = b"Transfer-Encoding: chunked\r\n"
FORWARDED_PROTO = b"X-Forwarded-Proto: http\r\n"
REPORT_EVERY = 10.0  # seconds between two reports of unexpected errors in connections
TICK = 1.0  # how often the watchdog looks at the connections' deadlines (and refreshes ``Site.now``)


class Site:
    """One target's shared state, and the per-request helpers that need it."""

    def __init__(
        self,
        target: Target,
        recorder: Recorder,
        supervisor: Supervisor | None,
        wait: float,
        store: LogStore | None = None,
        hooks: ProxyHooks | None = None,
        local: LocalHandler = reserved,
    ) -> None:
        self.target = target
        self.recorder = recorder
        self.supervisor = supervisor
        self.pool = Pool(target, supervisor, wait)
        self.store = store
        self.hooks = hooks
        self.local = local
        self.clients: set[ClientConnection] = set()  # open now
        self.now = trio.current_time()  # a clock for deadlines, refreshed by the watchdog (timeouts are coarse)
        self.busy = trio.Event()  # set while there are clients: the watchdog sleeps when there are none
        self._last_report = -REPORT_EVERY
        port = target.port
        names = {target.host_header, b"localhost:%d" % port, b"127.0.0.1:%d" % port}
        self._upstream_origins = tuple(b"%s://%s" % (target.scheme.encode(), name) for name in names)
        self._own_origin = b"http://%s:%d" % (LISTEN_HOST.encode(), target.proxy_port)

    def info(self) -> ProcessInfo | None:
        sup = self.supervisor
        if sup is None or not sup.knows(self.target.process):
            return None
        return sup.info(self.target.process)

    def upstream_head(self, req: Request, peer: bytes) -> bytes:
        """The request head as the upstream gets it: its own Host, no hop-by-hop headers, X-Forwarded-*."""
        parts = [req.method, b" ", req.url, b" HTTP/1.1\r\nHost: ", self.target.host_header, b"\r\n", *req.lines]
        if req.length_line is not None:
            parts.append(req.length_line)
        elif req.chunked:
            parts.append(CHUNKED)
        if req.upgrade is not None:
            parts.append(b"Connection: Upgrade\r\nUpgrade: %s\r\n" % req.upgrade)
        parts.append(b"X-Forwarded-For: %s%s\r\n" % (req.xff + b", " if req.xff else b"", peer))
        if not req.xfproto:
            parts.append(FORWARDED_PROTO)
        if not req.xfhost and req.host:
            parts.append(b"X-Forwarded-Host: %s\r\n" % req.host)
        parts.append(b"\r\n")
        return b"".join(parts)

    def client_head(self, req: Request, resp: ResponseReader, rewritten: bool) -> tuple[bytes, bool, bool]:
        """The answer's head as the client gets it; whether the body goes chunked; whether the connection stays.

        The body keeps the upstream's length when it can; otherwise (chunked, delimited by close, rewritten) it is
        chunked for HTTP/1.1 clients and delimited by close for HTTP/1.0 ones.
        """
        http11 = req.version != "1.0"
        keep = req.keep_alive and req.upgrade is None
        if resp.complete and not resp.pieces:  # HEAD, 204, 304: no body; the head says what a GET would get
            framing, chunked = resp.length_line or (CHUNKED if resp.chunked and http11 else b""), False
        elif resp.length_line is not None and not rewritten:
            framing, chunked = resp.length_line, False
        elif http11:
            framing, chunked = CHUNKED, True
        else:
            framing, chunked, keep = b"", False, False
        parts = [b"HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason), *resp.lines]
        if resp.location is not None:
            parts.append(b"Location: %s\r\n" % self.rewrite_location(resp.location, req.host))
        parts.append(framing)
        if not keep:
            parts.append(b"Connection: close\r\n")
        elif not http11:
            parts.append(b"Connection: keep-alive\r\n")
        parts.append(b"\r\n")
        return b"".join(parts), chunked, keep

    def rewrite_location(self, location: bytes, host: bytes) -> bytes:
        """A redirect to the upstream's own origin would leave the proxy: point it at the proxy instead."""
        for origin in self._upstream_origins:
            if location.startswith(origin) and location[len(origin) : len(origin) + 1] in (b"", b"/", b"?", b"#"):
                own = b"http://" + host if host else self._own_origin
                return own + location[len(origin) :]
        return location

    def record(
        self,
        req: Request,
        status: int,
        error: str,
        response_bytes: int,
        content_type: bytes,
        started: float,
        t0: float,
        ttfb_ms: float,
        head: bytes,
        client_head: bytes,
        websocket: WebSocketStats | None = None,
    ) -> None:
        duration = (time.perf_counter() - t0) * 1000
        self.recorder.add(
            self.target.process, req.method, req.url, status, error, req.body_bytes, response_bytes,
            content_type, started, ttfb_ms or duration, duration, head, client_head, websocket,
        )  # fmt: skip

    def report(self, exc: BaseException) -> None:
        """An unexpected error in one connection (a bug): noted, rate-limited; the listener goes on."""
        now = trio.current_time()
        if self.store is None or now - self._last_report < REPORT_EVERY:
            return
        self._last_report = now
        text = "".join(traceback.format_exception(exc)).rstrip()
        self.store.note(f"proxy for {self.target.process}: a connection failed\n{text}", level="error")


async def serve_target(site: Site, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    """Accept connections on the target's listener until cancelled."""
    listener = trio.socket.from_stdlib_socket(site.target.listener)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watchdog, site)
        task_status.started()
        while True:
            try:
                sock, address = await listener.accept()
            except OSError as exc:  # out of file descriptors, say: report, breathe, go on
                site.report(exc)
                await trio.sleep(0.1)
                continue
            if len(site.clients) >= MAX_CONNECTIONS:
                sock.close()
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            nursery.start_soon(_serve_client, site, sock, str(address[0]).encode())


async def _serve_client(site: Site, sock: trio.socket.SocketType, peer: bytes) -> None:
    conn = ClientConnection(site, sock, peer)
    if not site.clients:
        site.now = trio.current_time()  # the watchdog slept: its clock is old
        site.busy.set()
    site.clients.add(conn)
    try:
        await conn.serve()
    except Exception as exc:  # the boundary: a bug in one connection must not end the listener
        site.report(exc)
    finally:
        site.clients.discard(conn)
        if not site.clients:
            site.busy = trio.Event()
        sock.close()


async def _watchdog(site: Site) -> None:
    """Cancel connections whose deadline passed: one timer per listener instead of a cancel scope per request."""
    while True:
        await site.busy.wait()
        await trio.sleep(TICK)
        site.now = now = trio.current_time()
        for conn in [c for c in site.clients if c.deadline <= now]:
            conn.scope.cancel()
