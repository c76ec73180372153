"""What the proxy records: masked headers, bounded rings per process, events, filters and per-route statistics."""

from __future__ import annotations

import httpx
import pytest
from helpers_proxy import running_proxy
from upstream_server import serving

from brummer.bus import Bus, ProxyRequest
from brummer.errors import ToolError
from brummer.logs.patterns import compile_pattern
from brummer.mcp.tools import compile_pattern as tool_pattern
from brummer.proxy import queries
from brummer.proxy.recorder import Recorder


async def test_headers_are_kept_with_secrets_masked() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(
                f"{proxy.url}/json?q=1",
                headers={"Authorization": "Bearer tok3n", "Cookie": "sid=abc123; theme=dark", "X-Trace": "t1"},
            )
            assert r.status_code == 200
        (record,) = await proxy.wait_records(1)
    doc = queries.record_dict(record, with_headers=True)
    request = dict(doc["request_headers"])
    response = dict(doc["response_headers"])
    assert request["Authorization"] == "Bearer ***"
    assert request["Cookie"] == "sid=***; theme=***"
    assert request["X-Trace"] == "t1"
    assert response["Set-Cookie"] == "session=***; HttpOnly"
    assert "tok3n" not in str(doc) and "abc123" not in str(doc) and "s3cret" not in str(doc)
    assert doc["method"] == "GET" and doc["path"] == "/json?q=1" and doc["status"] == 200
    assert doc["content_type"] == "application/json" and doc["response_bytes"] > 0
    assert 0 < doc["ttfb_ms"] <= doc["duration_ms"]


async def test_ring_is_bounded_per_process_and_every_record_is_published() -> None:
    async with serving() as upstream, running_proxy(upstream.url, ring=5) as proxy:
        events = proxy.bus.subscribe("test", low=1000)
        async with httpx.AsyncClient() as client:
            for i in range(12):
                await client.get(f"{proxy.url}/json?n={i}")
        records = await proxy.wait_records(5)
        await proxy.wait_records(5)
        published = [e.record for e in await events.receive_batch() if isinstance(e, ProxyRequest)]
    assert [r.path for r in records] == [f"/json?n={i}" for i in range(7, 12)]
    assert len(published) == 12 and [r.id for r in published] == list(range(1, 13))


def _recorder(*rows: tuple[str, str, str, int, float]) -> Recorder:
    recorder = Recorder(Bus(), None)
    for process, method, path, status, duration in rows:
        recorder.add(process, method.encode(), path.encode(), status, "", 0, 0, b"", 0.0, 1.0, duration, b"", b"")
    return recorder


def test_filters_and_since_cursor() -> None:
    recorder = _recorder(
        ("web", "GET", "/", 200, 1),
        ("api", "POST", "/api/users", 201, 5),
        ("api", "GET", "/api/users/17", 500, 9),
        ("web", "GET", "/missing", 404, 2),
        ("api", "GET", "/api/users/18", 0, 3),
    )
    pick = queries.select
    newest, cursor = pick(recorder, queries.RequestFilter(), None, 2)
    assert [r.id for r in newest] == [5, 4] and cursor == 5
    found, _ = pick(recorder, queries.RequestFilter(process="api"), None, 10)
    assert [r.id for r in found] == [5, 3, 2]
    found, _ = pick(recorder, queries.RequestFilter(status="5xx"), None, 10)
    assert [r.id for r in found] == [3]
    found, _ = pick(recorder, queries.RequestFilter(status="error"), None, 10)
    assert [r.id for r in found] == [5]
    found, _ = pick(recorder, queries.RequestFilter(method="POST"), None, 10)
    assert [r.id for r in found] == [2]
    found, _ = pick(recorder, queries.RequestFilter(path=compile_pattern(r"^/api/users/\d+$")), None, 10)
    assert [r.id for r in found] == [5, 3]
    found, cursor = pick(recorder, queries.RequestFilter(), 2, 2)
    assert [r.id for r in found] == [3, 4] and cursor == 4
    found, cursor = pick(recorder, queries.RequestFilter(), cursor, 10)
    assert [r.id for r in found] == [5] and cursor == 5


async def test_hostile_patterns_are_refused_or_linear() -> None:
    with pytest.raises(ToolError, match="backreference"):
        await tool_pattern(r"(a)\1")
    slow_for_backtracking = await tool_pattern(r"^(a+)+$")
    assert not slow_for_backtracking.search("a" * 50_000 + "b")  # instant on RE2


def test_routes_normalise_ids_and_give_percentiles() -> None:
    recorder = _recorder(
        *[("api", "GET", f"/api/users/{i}?x=1", 200, float(i)) for i in range(1, 21)],
        ("api", "GET", "/api/users/550e8400-e29b-41d4-a716-446655440000", 500, 100.0),
        ("api", "GET", "/api/orders/abc", 200, 1.0),
    )
    stats = {s.route: s for s in queries.routes(recorder.records())}
    users = stats["GET /api/users/:id"]
    assert users.count == 21 and users.errors == 1
    assert users.p50_ms == 11.0 and users.p95_ms == 20.0
    assert round(users.error_rate, 3) == round(1 / 21, 3)
    assert "GET /api/orders/abc" in stats
