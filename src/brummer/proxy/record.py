"""One exchange through the proxy, as it is kept and published (plain data), and how its sizes are shown.

Its own module so that the bus's events can name it without importing the recorder (which publishes on the bus).
Records are flat on purpose (see ``recorder``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class WebSocketStats:
    """The life of one proxied WebSocket. "in" is client to server, "out" server to client."""

    closed_at: float  # wall clock
    close_code: int | None  # from the first close frame seen (either way); None if the TCP connection just ended
    messages_in: int
    messages_out: int
    bytes_in: int  # payload bytes of data frames
    bytes_out: int


@dataclass(slots=True)
class ProxyRecord:
    """One exchange through the proxy. With an ``error``, the upstream did not answer (in full): ``status`` is the
    proxy's own 502/504, or 0 when nothing could be sent back, or the upstream's when its answer broke off."""

    id: int  # increasing in completion order, across processes: the ``since`` cursor of proxy_requests
    process: str
    method: str
    path: str  # path and query as the client sent them
    status: int
    error: str
    request_bytes: int  # body bytes, as the client sent them (de-chunked)
    response_bytes: int
    content_type: str
    started: float  # wall clock
    ttfb_ms: float  # until the upstream's answer head arrived
    duration_ms: float
    request_head: bytes  # as forwarded upstream
    response_head: bytes  # as sent to the client
    websocket: WebSocketStats | None = None

    @property
    def status_class(self) -> str:
        if self.status == 0 or self.error:
            return "error"
        return f"{self.status // 100}xx"

    @property
    def failed(self) -> bool:
        return self.status >= 500 or self.status == 0


def size_text(count: int) -> str:
    """A body size for people: ``512 B``, ``2.0 KB``, ``104.9 MB``."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / 1024 / 1024:.1f} MB"
