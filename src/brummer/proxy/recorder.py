"""What the proxy remembers: one flat record per request or WebSocket, in a bounded ring per process.

Records are built once, when the exchange is over, and never change. They are flat on purpose (numbers, strings
and the two heads as the bytes that were sent): ten thousand records holding header lists made a full garbage
collection cost ~13 ms, flat ones about half. Header values are masked when a record is read
(``queries.headers``), not on the hot path. Each record is published as a low-priority ``ProxyRequest`` event; 5xx
answers and upstream failures also become brummer's own lines in the process's log (rate-limited), so they show in
the plain output and the panel next to what the server printed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import trio

from brummer.bus import Bus, ProxyRequest
from brummer.logs.store import LogStore
from brummer.proxy.record import ProxyRecord, WebSocketStats

RING = 1000  # records kept per process
NOTES_PER_SECOND = 5  # 5xx / failure lines per process per second in the log; the rest are counted


class Recorder:
    """The rings, the id counter, and the events and log lines each record causes."""

    def __init__(self, bus: Bus, store: LogStore | None, ring: int = RING) -> None:
        self.bus = bus
        self.store = store
        self.ring = ring
        self.last_id = 0
        self._rings: dict[str, deque[ProxyRecord]] = {}
        self._notes: dict[str, tuple[float, int, int]] = {}  # process -> (window start, notes in it, suppressed)

    def add(
        self,
        process: str,
        method: bytes,
        url: bytes,
        status: int,
        error: str,
        request_bytes: int,
        response_bytes: int,
        content_type: bytes,
        started: float,
        ttfb_ms: float,
        duration_ms: float,
        request_head: bytes,
        response_head: bytes,
        websocket: WebSocketStats | None = None,
    ) -> ProxyRecord:
        self.last_id += 1
        record = ProxyRecord(
            self.last_id,
            process,
            method.decode("latin-1"),
            url[:2000].decode("utf-8", "replace"),
            status,
            error,
            request_bytes,
            response_bytes,
            content_type[:200].decode("latin-1"),
            started,
            ttfb_ms,
            duration_ms,
            request_head,
            response_head,
            websocket,
        )
        ring = self._rings.get(process)
        if ring is None:
            ring = self._rings[process] = deque(maxlen=self.ring)
        ring.append(record)
        self.bus.publish(ProxyRequest(record))
        if status >= 500 or status == 0:
            self._note(record)
        return record

    def records(self, process: str | None = None) -> Iterator[ProxyRecord]:
        """Oldest first, one process or every one (merged by id)."""
        if process is not None:
            return iter(list(self._rings.get(process, ())))
        rings = [list(ring) for ring in self._rings.values()]
        if len(rings) == 1:
            return iter(rings[0])
        return iter(sorted((r for ring in rings for r in ring), key=lambda r: r.id))

    def newest(self, process: str, count: int) -> list[ProxyRecord]:
        """The newest ``count`` records of ``process``, newest first (the panel's requests pane)."""
        ring = self._rings.get(process)
        if not ring or count <= 0:
            return []
        return [ring[-1 - i] for i in range(min(count, len(ring)))]

    def _note(self, record: ProxyRecord) -> None:
        if self.store is None:
            return
        now = trio.current_time()
        start, count, suppressed = self._notes.get(record.process, (now, 0, 0))
        if now - start >= 1.0:
            start, count = now, 0
        if count >= NOTES_PER_SECOND:
            self._notes[record.process] = (start, count, suppressed + 1)
            return
        self._notes[record.process] = (start, count + 1, 0)
        what = (str(record.status) if record.status else "no answer") + (f": {record.error}" if record.error else "")
        text = f"proxy {record.method} {record.path[:200]} → {what} ({record.duration_ms:.0f} ms)"
        if suppressed:
            text += f" (+{suppressed} more not shown; proxy_requests status=5xx lists them)"
        self.store.note(text, record.process, "warn")
