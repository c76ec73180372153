"""Connections to a target: connect (plain TCP, or TLS without verification for an https dev server), keep-alive
pooling, and waiting for a restarting process instead of failing at once.

The pool is a stack per target (the most recently used connection first). An idle connection is dropped after
``IDLE_LIMIT`` seconds, below the 5 s keep-alive timeout of Node's http server (Vite, Next.js, webpack-dev-server):
reusing one the upstream is about to close is the classic stale-connection race. Before reuse, a non-blocking peek
says whether the upstream has already closed it; the relay still retries a request once on a fresh connection if a
reused one fails before any answer.
"""

from __future__ import annotations

import errno
import functools
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from brummer.errors import UpstreamError
from brummer.proxy.messages import ResponseReader
from brummer.proxy.targets import Target, split_origin
from brummer.supervise.state import ProcessInfo, ProcState

if TYPE_CHECKING:
    from brummer.supervise.supervisor import Supervisor

IDLE_LIMIT = 4.0  # seconds an idle pooled connection is kept (Node's http server closes them after 5)
MAX_IDLE = 64  # pooled connections per target
WAIT_ENDED = 1.0  # a process that ended may be restarting (restart = always, scripts_restart): watch it this long
RETRY_FIRST, RETRY_MAX = 0.05, 0.5  # connection retries while a process starts up (it may never say "ready")
# states in which a refused connection means "not yet" (``Pool._coming``): on the way up (``running`` is not ready
# yet), or stopping, which may be the first half of a restart
WAITING_STATES = frozenset(
    {ProcState.PENDING, ProcState.STARTING, ProcState.RUNNING, ProcState.STOPPING, ProcState.BACKING_OFF}
)
STOPPED_LISTENING = ": the process runs, but nothing listens there any more"
RECV = 65536


class Upstream:
    """One connection to a target, with its response parser."""

    __slots__ = ("idle_since", "raw", "reader", "recv", "send", "sock", "stream")

    def __init__(self, raw: socket.socket, sock: trio.socket.SocketType, stream: trio.SSLStream[Any] | None) -> None:
        self.raw = raw
        self.sock = sock
        self.stream = stream
        self.reader = ResponseReader()
        self.idle_since = 0.0
        self.recv: Callable[[int], Awaitable[bytes]]
        self.send: Callable[[bytes], Awaitable[None]]
        if stream is None:
            self.recv = sock.recv
            self.send = functools.partial(send_all, sock)  # no extra coroutine frame per send
        else:
            self.recv = stream.receive_some  # type: ignore[assignment]  # bytes | bytearray: both are relayed alike
            self.send = stream.send_all

    def closed_by_peer(self) -> bool:
        """Whether the upstream closed this idle connection (end of file or an error is waiting)."""
        try:
            return self.raw.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


async def send_all(sock: trio.socket.SocketType, data: bytes) -> None:
    """``sock.send`` until all of ``data`` is out (one call in the common case)."""
    sent = await sock.send(data)
    if sent < len(data):
        view = memoryview(data)
        while sent < len(data):
            sent += await sock.send(view[sent:])


class Pool:
    """Idle keep-alive connections to one target, and how new ones are made."""

    def __init__(self, target: Target, supervisor: Supervisor | None, wait: float) -> None:
        self.target = target
        self.supervisor = supervisor
        self.wait = wait
        self.idle: list[Upstream] = []
        self.connections = 0  # made, ever (tests and the bench read it)
        self._tls: Any = None

    def take(self) -> Upstream | None:
        """A pooled connection that is still open, or None."""
        now = trio.current_time()
        while self.idle:
            up = self.idle.pop()
            if now - up.idle_since < IDLE_LIMIT and not up.closed_by_peer():
                return up
            up.close()
        return None

    def give_back(self, up: Upstream) -> None:
        if len(self.idle) >= MAX_IDLE:
            up.close()
            return
        up.idle_since = trio.current_time()
        self.idle.append(up)

    def close(self) -> None:
        while self.idle:
            self.idle.pop().close()

    async def connect(self) -> Upstream:
        """A new connection; while the process is (re)starting, retry until it accepts or ``wait`` runs out.

        Raises ``UpstreamError`` naming the process's state when it does not come up.
        """
        deadline = trio.current_time() + self.wait
        delay = RETRY_FIRST
        ended_since: float | None = None
        while True:
            try:
                return await self._connect_once()
            except OSError as exc:
                error = exc
            info = self._info()
            now = trio.current_time()
            coming = info is None or self._coming(info)
            if not coming and info is not None and info.state is ProcState.READY:  # it listened, and no longer does
                gone = STOPPED_LISTENING if isinstance(error, ConnectionRefusedError) else ""
                raise UpstreamError(_describe(error) + gone, info)
            ended_since = None if coming else now if ended_since is None else ended_since
            if now >= deadline or (ended_since is not None and now - ended_since >= WAIT_ENDED):
                raise UpstreamError(_describe(error), info)
            with trio.move_on_at(min(deadline, now + delay)):
                if self.supervisor is not None:
                    await self.supervisor.wait_changed()  # a state change (ready!) retries at once
                else:
                    await trio.sleep_forever()
            delay = min(delay * 2, RETRY_MAX)

    def _coming(self, info: ProcessInfo) -> bool:
        """Whether a refused connection means "not yet": the process is on its way up, has not run yet, or is
        stopping (perhaps the first half of a restart); or it is ready, but this server is not one it announced (or
        the one brummer.toml names): a second server of the process may still be starting. A ready process that
        refuses on its own server has stopped listening (``node --watch`` after a crash): nothing is coming."""
        if info.state is ProcState.READY:
            announced = (split_origin(url) for url in info.urls)
            return not (self.target.configured or any(o is not None and o[2] == self.target.port for o in announced))
        return info.state in WAITING_STATES or (info.state is ProcState.IDLE and not info.run)

    def _info(self) -> ProcessInfo | None:
        if self.supervisor is None or not self.supervisor.knows(self.target.process):
            return None
        return self.supervisor.info(self.target.process)

    async def _connect_once(self) -> Upstream:
        target = self.target
        if not target.addresses:
            found = await trio.socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
            target.addresses = [(family, address) for family, _, _, _, address in found]
        error: OSError = ConnectionRefusedError(errno.ECONNREFUSED, "connection refused")
        for index, (family, address) in enumerate(target.addresses):
            raw = socket.socket(family, socket.SOCK_STREAM)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock = trio.socket.from_stdlib_socket(raw)
            try:
                await sock.connect(address)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            if index:  # remember which address answers (localhost: ::1 or 127.0.0.1)
                target.addresses.insert(0, target.addresses.pop(index))
            self.connections += 1
            stream = await self._tls_wrap(sock) if target.scheme == "https" else None
            return Upstream(raw, sock, stream)
        raise error

    async def _tls_wrap(self, sock: trio.socket.SocketType) -> trio.SSLStream[Any]:
        """TLS to a dev server's self-signed certificate: no verification (it is on this machine or the LAN)."""
        if self._tls is None:
            import ssl

            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self._tls = context
        stream = trio.SSLStream(trio.SocketStream(sock), self._tls, server_hostname=self.target.host)
        try:
            await stream.do_handshake()
        except trio.BrokenResourceError as exc:
            sock.close()
            raise ConnectionResetError(errno.ECONNRESET, f"TLS handshake failed: {exc.__cause__ or exc}") from None
        return stream


def _describe(error: OSError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve the host ({error.strerror})"
    return error.strerror or type(error).__name__
