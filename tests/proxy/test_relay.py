"""The relay against a real upstream: bodies both ways, framing, keep-alive, HEAD, 100-continue, pipelining."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
import trio
from helpers_proxy import raw_exchange, running_proxy
from upstream_server import Upstream as UpstreamServer
from upstream_server import serving

from brummer.proxy.hooks import BodyRewriter
from brummer.proxy.messages import Request, ResponseReader
from brummer.proxy.upstream import Upstream
from helpers import wait_until


async def test_get_json_and_headers_seen_upstream() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(
                f"{proxy.url}/headers?x=1",
                headers={"Connection": "keep-alive, X-Secret-Hop", "X-Secret-Hop": "1", "TE": "trailers",
                         "Proxy-Authorization": "Basic Zm9v", "X-Forwarded-For": "10.0.0.9"},
            )  # fmt: skip
        assert r.status_code == 200
        seen = r.json()
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        assert seen["path"] == "/headers?x=1"
        assert headers["host"] == f"localhost:{upstream.port}"  # the target's own Host, for dev servers' checks
        assert headers["x-forwarded-host"] == f"127.0.0.1:{proxy.port}"
        assert headers["x-forwarded-proto"] == "http"
        assert headers["x-forwarded-for"] == "10.0.0.9, 127.0.0.1"
        for hop in ("connection", "x-secret-hop", "te", "proxy-authorization", "keep-alive"):
            assert hop not in headers, hop


async def test_large_upload_and_download_stream_with_checksums() -> None:
    size = 8 * 1024 * 1024
    payload = bytes(range(256)) * (size // 256)

    async def chunks() -> object:
        for i in range(0, size, 100_000):
            yield payload[i : i + 100_000]

    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient(timeout=30) as client:
            # chunked upload, streamed back while it is read (the proxy must pump both ways at once)
            r = await client.post(f"{proxy.url}/echo", content=chunks())  # type: ignore[arg-type]
            assert hashlib.sha256(r.content).digest() == hashlib.sha256(payload).digest()
            # a Content-Length upload
            r = await client.post(f"{proxy.url}/echo", content=payload)
            assert len(r.content) == size and r.content == payload
            r = await client.get(f"{proxy.url}/bytes/{size}")
            assert len(r.content) == size and r.headers["content-length"] == str(size)
        records = proxy.records()
        assert [rec.request_bytes for rec in records] == [size, size, 0]
        assert [rec.response_bytes for rec in records] == [size, size, size]


async def test_chunked_answer_is_rechunked_and_http10_client_gets_it_until_close() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{proxy.url}/chunked/50")
        assert r.text == "".join(f"piece {i}\n" for i in range(50))
        assert r.headers["transfer-encoding"] == "chunked"
        raw = await raw_exchange(proxy.port, b"GET /chunked/3 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        head, _, body = raw.partition(b"\r\n\r\n")
        assert b"chunked" not in head.lower() and b"connection: close" in head.lower()
        assert body == b"piece 0\npiece 1\npiece 2\n"


async def test_keep_alive_reuses_one_upstream_connection() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            for i in range(20):
                r = await client.get(f"{proxy.url}/json?i={i}")
                assert r.json()["path"] == f"/json?i={i}"
        assert upstream.connections == 1
        assert proxy.site.pool.connections == 1


async def test_pooled_connection_closed_by_the_upstream_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{proxy.url}/drop")).status_code == 200  # pooled, then closed upstream
            await wait_closed_upstream(upstream)
            assert (await client.get(f"{proxy.url}/json?n=1")).status_code == 200  # the peek saw it closed
            assert (await client.get(f"{proxy.url}/drop")).status_code == 200
            await wait_closed_upstream(upstream)
            # the race the peek cannot see (closed right after it): retried once, on a fresh connection
            monkeypatch.setattr(Upstream, "closed_by_peer", lambda self: False)
            r = await client.get(f"{proxy.url}/json?after=stale")
            assert r.status_code == 200 and r.json()["path"] == "/json?after=stale"
        assert upstream.connections == 3
        assert [rec.status for rec in proxy.records()] == [200, 200, 200, 200]


async def wait_closed_upstream(upstream: UpstreamServer) -> None:
    await wait_until(lambda: not upstream.open, within=10, every=0.01)


async def test_head_204_304_and_redirects() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.head(f"{proxy.url}/bytes/5000000")
            assert r.status_code == 200 and r.headers["content-length"] == "5000000" and r.content == b""
            r = await client.get(f"{proxy.url}/json")  # the connection still works after a HEAD
            assert r.json()["ok"] is True
            r = await client.get(f"{proxy.url}/status/204")
            assert r.status_code == 204
            r = await client.get(f"{proxy.url}/redirect", follow_redirects=False)
            assert r.headers["location"] == f"http://127.0.0.1:{proxy.port}/json?from=redirect"


async def test_expect_100_continue_gets_continue_before_the_body() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        stream = await trio.open_tcp_stream("127.0.0.1", proxy.port)
        async with stream:
            await stream.send_all(
                b"POST /json HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
            )
            with trio.fail_after(10):
                interim = await stream.receive_some(1000)
            assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
            await stream.send_all(b"hello")
            received = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
            with trio.fail_after(10):
                while b'"body": 5' not in received:
                    received += await stream.receive_some(1000)
        assert received.startswith(b"HTTP/1.1 200")
        assert "expect" not in {k.lower() for k in upstream.requests[-1][2]}


async def test_pipelined_requests_answer_in_order() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        requests = (
            b"".join(b"GET /json?n=%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % i for i in range(4))
            + b"POST /json?n=4 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
        )
        raw = await raw_exchange(proxy.port, requests)
        answers = raw.split(b"HTTP/1.1 200 ")[1:]
        assert len(answers) == 5
        paths = [json.loads(a[a.index(b"\r\n\r\n") + 4 :])["path"] for a in answers]
        assert paths == [f"/json?n={i}" for i in range(5)]
        assert upstream.connections == 1


async def test_answer_delimited_by_close_is_rechunked_for_http11() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{proxy.url}/close")
            assert r.text == "until close" and r.headers["transfer-encoding"] == "chunked"
            r = await client.get(f"{proxy.url}/json")  # the client connection survives
            assert r.status_code == 200
        assert upstream.connections == 2


class InjectScript:
    """What the browser telemetry will do through the hooks: ask for identity encoding, rewrite HTML heads."""

    def request(self, req: Request) -> None:
        req.lines = [line for line in req.lines if not line.lower().startswith(b"accept-encoding:")]
        req.lines.append(b"Accept-Encoding: identity\r\n")

    def response(self, req: Request, resp: ResponseReader) -> BodyRewriter | None:
        return Rewriter() if resp.content_type.startswith(b"text/html") else None


class Rewriter:
    def feed(self, data: bytes) -> bytes:
        return data.replace(b"<head>", b'<head><script src="/__brummer__/client.js"></script>')

    def end(self) -> bytes:
        return b""


async def test_hooks_can_rewrite_html_as_it_streams_and_leave_the_rest_alone() -> None:
    async with serving() as upstream, running_proxy(upstream.url, hooks=InjectScript()) as proxy:
        async with httpx.AsyncClient() as client:
            r = await client.get(f"{proxy.url}/html", headers={"Accept-Encoding": "gzip"})
            assert '<head><script src="/__brummer__/client.js"></script><title>' in r.text
            assert "content-length" not in r.headers and r.headers["transfer-encoding"] == "chunked"
            assert r.headers["content-security-policy"] == "default-src 'self'"  # never stripped
            r = await client.get(f"{proxy.url}/json")
            assert r.headers["content-length"] == str(len(r.content)) and r.json()["ok"] is True
        assert upstream.requests[0][2]["accept-encoding"] == "identity"
