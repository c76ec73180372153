"""The proxy's MCP tools: ``proxy_requests`` (recorded requests, filtered, with a ``since`` cursor) and
``proxy_routes`` (per-route count, error rate, p50/p95). Plain functions over ``runtime.proxy``, like ``tools``."""

from __future__ import annotations

import time
from typing import Any

from brummer.mcp import text
from brummer.mcp.tools import PROXY_OFF, Answer, compile_pattern, known_process
from brummer.proxy import queries
from brummer.proxy.record import ProxyRecord, size_text
from brummer.runtime import Runtime


def _row(record: ProxyRecord, now: float) -> str:
    answer = str(record.status) if record.status else "no answer"
    line = f"#{record.id} [{record.process}] {record.method} {text.clip(record.path, 200)} → {answer}"
    if record.websocket is not None:
        ws = record.websocket
        line += f" websocket {ws.messages_in}↑ {ws.messages_out}↓ messages, close {ws.close_code}"
    else:
        line += f" {record.duration_ms:.1f} ms {size_text(record.response_bytes)}"
    if record.error:
        line += f" ({text.clip(record.error, 200)})"
    return line + f", {text.ago(record.started, now)}"


def _brief(record: ProxyRecord, with_headers: bool) -> dict[str, Any]:
    """A request as a compact answer has it: no sizes, times or empty fields (headers only when asked)."""
    full = queries.record_dict(record, with_headers)
    row: dict[str, Any] = {
        "id": record.id,
        "process": record.process,
        "method": record.method,
        "path": text.clip(record.path, 200),
    }
    row |= {key: full[key] for key in ("status", "duration_ms") if full[key] is not None}
    if record.error:
        row["error"] = text.clip(record.error, 200)
    for key in ("websocket", "request_headers", "response_headers"):
        if key in full:
            row[key] = full[key]
    return row


async def proxy_requests(
    runtime: Runtime,
    name: str | None = None,
    status: str | None = None,
    method: str | None = None,
    path: str | None = None,
    since: int | None = None,
    limit: int = 50,
    headers: bool = False,
    detail: bool = False,
) -> Answer:
    if name is not None:
        known_process(runtime, name)
    proxy = runtime.proxy
    if proxy is None:
        return Answer(f"no requests: {PROXY_OFF}", {"requests": [], "next": 0, "note": PROXY_OFF})
    pattern = await compile_pattern(path) if path is not None else None
    flt = queries.RequestFilter(name, status, method.upper() if method else None, pattern)
    records, cursor = queries.select(proxy.recorder, flt, since, limit)
    now = time.time()
    if not records:
        return Answer(f"no requests\nnext: since={cursor}", {"requests": [], "next": cursor})
    order = "oldest first" if since is not None else "newest first"
    header = f"{len(records)} request{'s' if len(records) != 1 else ''} ({order}):"
    data: dict[str, Any] = {"next": cursor}
    said = text.listing(
        records,
        "requests",
        data,
        row=lambda r: _row(r, now),
        brief=lambda r: _brief(r, headers),
        full=lambda r: queries.record_dict(r, headers),
        detail=detail,
        header=header,
        footer=f"next: since={cursor}",
        narrow="narrow with name, status or path",
    )
    if since is not None and data.get("more"):  # reading forward: go on after the last one shown
        cursor = data["next"] = data["requests"][-1]["id"]
        said = said.rsplit("\n", 1)[0] + f"\nnext: since={cursor}"
    return Answer(said, data)


async def proxy_routes(runtime: Runtime, name: str | None = None, limit: int = 50, detail: bool = False) -> Answer:
    if name is not None:
        known_process(runtime, name)
    proxy = runtime.proxy
    if proxy is None:
        return Answer(f"no routes: {PROXY_OFF}", {"routes": [], "note": PROXY_OFF})
    stats = queries.routes(proxy.recorder.records(name))
    if not stats:
        return Answer("no requests yet", {"routes": []})

    def full(s: queries.RouteStats) -> dict[str, Any]:
        return {
            "route": s.route,
            "count": s.count,
            "errors": s.errors,
            "error_rate": round(s.error_rate, 4),
            "p50_ms": s.p50_ms,
            "p95_ms": s.p95_ms,
        }

    def brief(s: queries.RouteStats) -> dict[str, Any]:
        return {
            "route": text.clip(s.route, 200),
            "count": s.count,
            "errors": s.errors,
            "p50_ms": s.p50_ms,
            "p95_ms": s.p95_ms,
        }

    def line(s: queries.RouteStats) -> str:
        return (
            f"{s.route}: {s.count}x, {s.errors} errors ({s.error_rate:.0%}), p50 {s.p50_ms:g} ms, p95 {s.p95_ms:g} ms"
        )

    header = f"{len(stats)} route{'s' if len(stats) != 1 else ''} (busiest first):"
    data: dict[str, Any] = {}
    said = text.listing(
        stats[:limit],
        "routes",
        data,
        row=line,
        brief=brief,
        full=full,
        detail=detail,
        header=header,
        narrow="narrow with name",
    )
    return Answer(said, data)
