"""What the proxy answers itself: the 502 page (JSON and HTML), refusals (never an open proxy), /__brummer__/."""

from __future__ import annotations

import socket

import httpx
import pytest
import trio
from helpers_proxy import raw_exchange, running_proxy
from upstream_server import serving

from brummer.proxy import http1, server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_upstream_down_gives_502_json_for_api_clients_and_html_for_browsers() -> None:
    port = free_port()
    async with running_proxy(f"http://localhost:{port}/", wait=0.2) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{proxy.url}/api/items", headers={"Accept": "application/json"})
            assert r.status_code == 502
            doc = r.json()
            assert doc["process"] == "web" and doc["reason"] == "connection refused"
            assert doc["upstream"] == f"http://localhost:{port}/"
            r = await client.get(f"{proxy.url}/", headers={"Accept": "text/html,application/xhtml+xml"})
            assert r.status_code == 502 and r.headers["content-type"].startswith("text/html")
            assert "<code>web</code>" in r.text and "connection refused" in r.text
            r = await client.get(f"{proxy.url}/again")  # the connection stays usable after a 502
            assert r.status_code == 502
        records = proxy.records()
        assert [(rec.status, rec.error, rec.status_class) for rec in records] == [
            (502, "connection refused", "error")
        ] * 3
        notes = [line.text for line in proxy.store.tail("web", limit=10).lines]
        assert any("proxy GET /api/items → 502: connection refused" in text for text in notes)


async def test_never_an_open_proxy() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        for request in (
            b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
            b"GET http://127.0.0.1:1/ HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: evil.example:%d\r\n\r\n" % proxy.port,  # DNS rebinding
        ):
            answer = await raw_exchange(proxy.port, request)
            assert answer.split(b" ")[1] in (b"403", b"405"), answer
        assert upstream.requests == []
        # absolute-form naming the proxy itself is fine
        own = b"GET http://127.0.0.1:%d/json HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
        answer = await raw_exchange(proxy.port, own % (proxy.port, proxy.port))
        assert answer.startswith(b"HTTP/1.1 200") and upstream.requests[0][1] == "/json"


async def test_brummer_prefix_is_answered_by_the_proxy_never_forwarded() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{proxy.url}/__brummer__/client.js")
            assert r.status_code == 404 and r.json()["error"] == "no such brummer route"
            assert (await client.get(f"{proxy.url}/json")).status_code == 200
        assert [path for _, path, _ in upstream.requests] == ["/json"]


async def test_malformed_request_gets_400_and_an_endless_head_431() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        answer = await raw_exchange(proxy.port, b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400")
        endless = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (1024 * 1024)
        answer = await raw_exchange(proxy.port, endless)
        assert answer.startswith(b"HTTP/1.1 431")
        assert upstream.requests == []


async def test_an_answer_that_never_comes_gets_504_and_the_idle_client_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server, "TICK", 0.05)
    monkeypatch.setattr(http1, "ANSWER_TIMEOUT", 0.3)
    monkeypatch.setattr(http1, "IDLE_TIMEOUT", 0.3)
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        upstream.slow = 30
        with trio.fail_after(10):
            answer = await raw_exchange(
                proxy.port, b"GET /slow HTTP/1.1\r\nHost: localhost\r\nAccept: text/html\r\n\r\n"
            )
            assert answer.startswith(b"HTTP/1.1 504") and b"no answer in time" in answer
            idle = await raw_exchange(proxy.port, b"")  # says nothing: closed after the idle timeout
            assert idle == b""
        assert not proxy.site.clients
        (record,) = proxy.records()
        assert (record.path, record.status, record.error) == ("/slow", 504, "no answer in time")
