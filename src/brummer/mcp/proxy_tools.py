"""The proxy's MCP tools: ``proxy_requests`` (recorded requests, filtered, with a ``since`` cursor) and
``proxy_routes`` (per-route count, error rate, p50/p95). Plain functions over ``runtime.proxy``, like ``tools``."""

from __future__ import annotations

import time

from brummer.mcp import text
from brummer.mcp.tools import PROXY_OFF, Answer, compile_pattern, known_process
from brummer.proxy import queries
from brummer.proxy.recorder import ProxyRecord, size_text
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


async def proxy_requests(
    runtime: Runtime,
    name: str | None = None,
    status: str | None = None,
    method: str | None = None,
    path: str | None = None,
    since: int | None = None,
    limit: int = 50,
    headers: bool = False,
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
    order = "oldest first" if since is not None else "newest first"
    header = f"{len(records)} request{'s' if len(records) != 1 else ''} ({order}):" if records else "no requests"
    body = text.join_cut([_row(r, now) for r in records], header=header, more="narrow with name, status or path")
    data = {"requests": [queries.record_dict(r, headers) for r in records], "next": cursor}
    return Answer(f"{body}\nnext: since={cursor}", data)


async def proxy_routes(runtime: Runtime, name: str | None = None, limit: int = 50) -> Answer:
    if name is not None:
        known_process(runtime, name)
    proxy = runtime.proxy
    if proxy is None:
        return Answer(f"no routes: {PROXY_OFF}", {"routes": [], "note": PROXY_OFF})
    stats = queries.routes(proxy.recorder.records(name))
    shown = stats[:limit]
    rows = [
        {
            "route": s.route,
            "count": s.count,
            "errors": s.errors,
            "error_rate": round(s.error_rate, 4),
            "p50_ms": s.p50_ms,
            "p95_ms": s.p95_ms,
        }
        for s in shown
    ]
    lines = [
        f"{s.route}: {s.count}x, {s.errors} errors ({s.error_rate:.0%}), p50 {s.p50_ms:g} ms, p95 {s.p95_ms:g} ms"
        for s in shown
    ]
    header = f"{len(stats)} route{'s' if len(stats) != 1 else ''} (busiest first):" if stats else "no requests yet"
    return Answer(text.join_cut(lines, header=header, more="narrow with name"), {"routes": rows})
