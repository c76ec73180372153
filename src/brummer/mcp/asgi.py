"""The one ASGI app hypercorn serves: the guard in front, then ``/ws`` (our bridge) and ``/mcp`` (the SDK's app).

The guard refuses before anything else runs, with the same rules on ``/ws`` and ``/mcp`` (the SDK's own Host and
Origin check is off: it covered ``/mcp`` only, with other rules). When brummer listens on loopback, a request whose
``Host`` does not name this machine gets 421: that is a page on another site reaching us through DNS rebinding. A
request whose ``Origin`` is not a localhost origin gets 403 (a web page in the user's browser must not drive
brummer). One without the instance's token gets 401. The token comes as ``Authorization: Bearer <token>``; ``/ws``
also takes ``?token=`` because browser-style WebSocket clients cannot set headers. Tokens are compared in constant
time and never logged (hypercorn's access log is off; refusals say only what was missing).

Lifespan is answered here: the Streamable HTTP session manager's ``run()`` is entered by ``serve_mcp`` around the
server, not through lifespan (hypercorn-trio crashes on an app that merely returns on the lifespan scope).
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hypercorn.typing import ASGIFramework, Scope, WWWScope
from hypercorn.typing import ASGIReceiveCallable as Receive
from hypercorn.typing import ASGISendCallable as Send
from mcp.server.lowlevel import Server

from brummer.loopback import local_name
from brummer.mcp.websocket import SlowReaders, serve_websocket


def token_help(entry: Path | None) -> str:
    """How to get in: the file that holds the token is named as it is (the registry is not always under
    ``$XDG_RUNTIME_DIR``: ``/run/user/UID`` or the temp dir without it)."""
    where = f"the token in this brummer's entry {entry}" if entry is not None else "the token in its registry entry"
    return f"pass Authorization: Bearer <token>, {where}"


def local_origin(origin: str) -> bool:
    """Whether an ``Origin`` header names this machine (http(s)://localhost, 127.0.0.1, [::1], *.localhost)."""
    try:
        parts = urlsplit(origin)
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and local_name(host)


def local_host(host: str) -> bool:
    """Whether a ``Host`` header (``name[:port]``) names this machine, under the same names as ``local_origin``."""
    if not host or any(c in host for c in "@/?#\\ "):
        return False
    try:
        parts = urlsplit(f"//{host}")
        name = parts.hostname or ""
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        return False
    return local_name(name)


class McpApp:
    """Routes ``/ws`` and ``/mcp`` behind the guard.

    ``check_host``: refuse a ``Host`` that is not a loopback name (when serving on loopback). ``slow`` counts and
    notes the WebSocket clients dropped for not reading. ``token_file``: the registry entry holding the token, named
    in a 401's answer.
    """

    def __init__(
        self,
        token: str,
        server: Server[Any],
        http: ASGIFramework,
        slow: SlowReaders,
        *,
        check_host: bool,
        token_file: Path | None = None,
    ) -> None:
        self._token = token.encode()
        self._token_help = token_help(token_file)
        self._server = server
        self._http = http
        self._slow = slow
        self._check_host = check_host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(scope, receive, send, *refusal)
            return
        if scope["type"] == "websocket" and scope["path"] == "/ws":
            await serve_websocket(scope, receive, send, self._server, self._slow)
        elif scope["type"] == "http" and scope["path"] == "/mcp":
            await self._http(scope, receive, send)
        else:
            await _refuse(scope, receive, send, 404, "not found: MCP is served at /mcp (HTTP) and /ws (WebSocket)")

    def _refusal(self, scope: WWWScope) -> tuple[int, str] | None:
        headers = dict(scope["headers"])
        host = (headers.get(b"host") or headers.get(b":authority") or b"").decode("latin-1")
        if self._check_host and not local_host(host):
            return 421, "misdirected: the Host header must name this machine (localhost, 127.0.0.1, [::1])"
        origin = headers.get(b"origin")
        if origin is not None and not local_origin(origin.decode("latin-1")):
            return 403, "forbidden: requests from web pages (a non-localhost Origin) are refused"
        token = _bearer(headers.get(b"authorization"))
        if token is None and scope["type"] == "websocket":
            token = _query_token(scope.get("query_string", b""))
        if token is None:
            return 401, f"unauthorized: no token; {self._token_help}"
        if not hmac.compare_digest(token, self._token):
            return 401, f"unauthorized: wrong token; {self._token_help}"
        return None


def _bearer(value: bytes | None) -> bytes | None:
    if value is None:
        return None
    scheme, _, token = value.strip().partition(b" ")
    return token.strip() if scheme.lower() == b"bearer" and token.strip() else None


def _query_token(query: bytes) -> bytes | None:
    values = parse_qs(query.decode("latin-1")).get("token")
    return values[0].encode("latin-1") if values else None


async def _refuse(scope: WWWScope, receive: Receive, send: Send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="brummer"'))
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})
        return
    await receive()  # websocket.connect
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        # the server answers the handshake with 403
        await send({"type": "websocket.close", "code": 1008, "reason": None})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
