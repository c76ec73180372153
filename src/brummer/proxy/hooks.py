"""Seams for what rides on the relay without being part of it (the browser telemetry builds on these).

- ``ProxyHooks.request`` may edit a request head before it goes upstream (ask for identity encoding on an HTML
  navigation, so a page can be rewritten without decompressing it).
- ``ProxyHooks.response`` may return a ``BodyRewriter`` for an answer (insert a script into an HTML head while the
  document streams); the relay then re-frames the body as chunked (or close-delimited for HTTP/1.0 clients), since
  the length changes.
- ``LocalHandler`` answers requests under ``/__brummer__/`` itself; they never reach the upstream.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol

from brummer.proxy import pages
from brummer.proxy.messages import Request, ResponseReader

if TYPE_CHECKING:
    from brummer.proxy.http1 import ClientConnection


class BodyRewriter(Protocol):
    def feed(self, data: bytes) -> bytes:
        """Rewrite the next piece of the body (it may hold back bytes until it can decide)."""
        ...

    def end(self) -> bytes:
        """What is left at the end of the body."""
        ...


class ProxyHooks(Protocol):
    def request(self, req: Request) -> None:
        """Edit ``req.lines`` (header lines) before the head is built; must be cheap: it runs per request."""
        ...

    def response(self, req: Request, resp: ResponseReader) -> BodyRewriter | None:
        """A rewriter for this answer's body, or None (the common case: relayed untouched)."""
        ...


LocalHandler = Callable[["ClientConnection", Request], Awaitable[bool]]


async def reserved(conn: ClientConnection, req: Request) -> bool:
    """``/__brummer__/``: brummer's own routes; none is served yet, and none is ever forwarded."""
    body = json.dumps({"error": "no such brummer route", "path": req.url[:200].decode("latin-1")}).encode()
    await conn.send(pages.response(404, body, b"application/json", close=not req.complete))
    return req.complete and req.keep_alive
