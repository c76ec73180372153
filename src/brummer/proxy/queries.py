"""Reading the recorded requests for agents: filters, the ``since`` cursor, masked headers, per-route statistics.

Header values of ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie`` are masked whenever a
record is read (the scheme of a credential and the names of cookies stay: they help debugging and reveal nothing).
Path patterns come from agents and run on RE2 (linear time, bounded memory), never on Python's backtracking ``re``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from brummer.logs.patterns import Pattern
from brummer.proxy.record import ProxyRecord
from brummer.proxy.recorder import Recorder

STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "error")
MASKED = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_ID_SEGMENT = re.compile(
    r"\d+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}|(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{24,}"
)


@dataclass(frozen=True, slots=True)
class RequestFilter:
    process: str | None = None
    status: str | None = None  # one of STATUS_CLASSES
    method: str | None = None
    path: Pattern | None = None  # searched in path + query (RE2: patterns come from agents)

    def matches(self, record: ProxyRecord) -> bool:
        if self.process is not None and record.process != self.process:
            return False
        if self.method is not None and record.method != self.method:
            return False
        if self.status is not None and record.status_class != self.status:
            return False
        return self.path is None or self.path.search(record.path)


def select(recorder: Recorder, flt: RequestFilter, since: int | None, limit: int) -> tuple[list[ProxyRecord], int]:
    """Matching records and the cursor to pass back as ``since``.

    Without ``since``: the newest ``limit``, newest first. With it: those after it, oldest first (follow the log).
    """
    records = recorder.records(flt.process)
    if since is None:
        newest = [r for r in reversed(list(records)) if flt.matches(r)][:limit]
        return newest, recorder.last_id
    found: list[ProxyRecord] = []
    for record in records:
        if record.id > since and flt.matches(record):
            found.append(record)
            if len(found) == limit:
                return found, record.id
    return found, max(recorder.last_id, since)


def mask(name: str, value: str) -> str:
    lower = name.lower()
    if lower in ("authorization", "proxy-authorization"):
        scheme, space, _ = value.partition(" ")
        return f"{scheme} ***" if space else "***"
    if lower == "cookie":
        return "; ".join(f"{part.split('=', 1)[0].strip()}=***" for part in value.split(";") if part.strip())
    cookie, semicolon, attributes = value.partition(";")  # set-cookie: the name and attributes stay
    return f"{cookie.split('=', 1)[0].strip()}=***" + (semicolon + attributes if semicolon else "")


def headers(head: bytes) -> list[list[str]]:
    """``[[name, value], ...]`` of a recorded head, secrets masked."""
    rows = []
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            continue
        value = value.strip()
        rows.append([name, mask(name, value) if name.lower() in MASKED else value])
    return rows


def record_dict(record: ProxyRecord, with_headers: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": record.id,
        "process": record.process,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "error": record.error or None,
        "request_bytes": record.request_bytes,
        "response_bytes": record.response_bytes,
        "content_type": record.content_type,
        "started": round(record.started, 3),
        "ttfb_ms": round(record.ttfb_ms, 2),
        "duration_ms": round(record.duration_ms, 2),
    }
    if record.websocket is not None:
        ws = record.websocket
        doc["websocket"] = {
            "closed": round(ws.closed_at, 3),
            "close_code": ws.close_code,
            "messages_in": ws.messages_in,
            "messages_out": ws.messages_out,
            "bytes_in": ws.bytes_in,
            "bytes_out": ws.bytes_out,
        }
    if with_headers:
        doc["request_headers"] = headers(record.request_head)
        doc["response_headers"] = headers(record.response_head)
    return doc


def route_of(method: str, path: str) -> str:
    """``GET /api/users/:id``: the query dropped, numeric, UUID, long hex and token segments become ``:id``."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = [":id" if _ID_SEGMENT.fullmatch(seg) else seg for seg in path.split("/")]
    return f"{method} {'/'.join(segments) or '/'}"


@dataclass(frozen=True, slots=True)
class RouteStats:
    route: str
    count: int
    errors: int  # 5xx answers and failures (no answer)
    p50_ms: float
    p95_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0


def routes(records: Iterable[ProxyRecord]) -> list[RouteStats]:
    """Per-route statistics, the busiest first."""
    durations: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    seen: dict[tuple[str, str], str] = {}  # paths repeat: normalise each once
    for record in records:
        key = (record.method, record.path)
        route = seen.get(key)
        if route is None:
            route = seen[key] = route_of(record.method, record.path)
        durations.setdefault(route, []).append(record.duration_ms)
        if record.failed:
            errors[route] = errors.get(route, 0) + 1
    stats = []
    for route, values in durations.items():
        values.sort()
        stats.append(RouteStats(route, len(values), errors.get(route, 0), _rank(values, 0.5), _rank(values, 0.95)))
    stats.sort(key=lambda s: (-s.count, s.route))
    return stats


def _rank(ordered: list[float], quantile: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(ordered) - 1, int(quantile * len(ordered) + 0.5) - 1))
    return round(ordered[index], 2)
