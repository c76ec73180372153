"""What the proxy refuses to forward, and how it closes after a refusal.

It forwards only to its own target: an absolute-form request for another host, CONNECT, or a Host that is not a
loopback name never reaches the upstream. The Host check matters because the upstream sees its own Host header
from us: without it, a web page that rebinds its DNS name to 127.0.0.1 would get past the dev server's own check.
"""

from __future__ import annotations

import contextlib
import socket

import trio

from brummer.loopback import local_name
from brummer.proxy.messages import Request

LINGER, LINGER_BYTES = 2.0, 4 * 1024 * 1024  # after a refusal: what the client still sends is read and dropped
RECV = 65536


def host_allowed(host: bytes) -> bool:
    """Names of this machine only (``loopback.local_name``), any port (an HTTP/1.0 request may have no Host)."""
    name = host if host.endswith(b"]") else host.rsplit(b":", 1)[0]
    return not name or local_name(name.decode("latin-1"))


def origin_form(req: Request, proxy_port: int) -> bool:
    """An absolute-form target naming this proxy becomes origin-form (True); any other is refused (False)."""
    if not req.url.startswith(b"http://"):
        return False
    authority, slash, path = req.url[7:].partition(b"/")
    name, _, port = authority.rpartition(b":")
    if not host_allowed(name) or port != b"%d" % proxy_port:
        return False
    req.url = slash + path if slash else b"/"
    req.host = req.host or authority
    return True


async def linger(sock: trio.socket.SocketType) -> None:
    """Close gently after an answer: closing with unread input resets the connection, and the client might never
    read the answer. So: no more writing, and whatever still comes is read and dropped, for a moment."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        with trio.move_on_after(LINGER):
            drained = 0
            while drained < LINGER_BYTES and (data := await sock.recv(RECV)):
                drained += len(data)
