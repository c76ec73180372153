"""Long-lived exchanges through the proxy: server-sent events, WebSockets, a 100 MB download in bounded memory."""

from __future__ import annotations

import shutil
import ssl
import tracemalloc
from pathlib import Path

import pytest
import trio
from helpers_proxy import raw_exchange, running_proxy
from trio_websocket import ConnectionClosed, WebSocketRequest, open_websocket_url, serve_websocket
from upstream_server import serving


async def test_server_sent_events_arrive_one_by_one_without_buffering() -> None:
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        assert upstream.events is not None
        stream = await trio.open_tcp_stream("127.0.0.1", proxy.port)
        async with stream:
            await stream.send_all(b"GET /sse HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n")
            received = b""
            for i in range(3):
                await upstream.events.send(b"data: event %d\n\n" % i)
                with trio.fail_after(10):  # each event arrives before the next one is even sent
                    while b"data: event %d\n\n" % i not in received:
                        received += await stream.receive_some(65536)
            assert b"content-type: text/event-stream" in received.lower()
            await upstream.events.send(b"")  # the server ends the stream
            with trio.fail_after(10):
                while not received.endswith(b"0\r\n\r\n"):
                    received += await stream.receive_some(65536)
        (record,) = await proxy.wait_records(1)
        assert record.status == 200 and record.response_bytes == 3 * len(b"data: event 0\n\n")


async def test_websocket_echo_keeps_subprotocol_query_and_frames() -> None:
    seen: dict[str, object] = {}

    async def echo(request: WebSocketRequest) -> None:
        seen["path"] = request.path
        seen["protocols"] = request.proposed_subprotocols
        seen["origin"] = dict(request.headers).get(b"origin")
        ws = await request.accept(subprotocol="vite-hmr")
        try:
            while True:
                await ws.send_message(await ws.get_message())
        except ConnectionClosed:
            pass

    async with trio.open_nursery() as nursery:
        server = await nursery.start(serve_websocket, echo, "127.0.0.1", 0, None)
        port = server.port
        async with running_proxy(f"http://localhost:{port}/") as proxy:
            url = f"ws://127.0.0.1:{proxy.port}/hmr?token=abc"
            async with open_websocket_url(
                url, subprotocols=["vite-hmr"], extra_headers=[(b"Origin", b"http://127.0.0.1")]
            ) as ws:
                assert ws.subprotocol == "vite-hmr"
                await ws.send_message("hello")
                assert await ws.get_message() == "hello"
                blob = bytes(range(256)) * 1000
                await ws.send_message(blob)
                assert await ws.get_message() == blob
                await ws.aclose(code=4001, reason="done")
            await proxy.wait_records(1)
        nursery.cancel_scope.cancel()
    assert seen["path"] == "/hmr?token=abc"
    assert seen["protocols"] == ("vite-hmr",)
    (record,) = proxy.records()
    assert record.status == 101 and record.path == "/hmr?token=abc"
    stats = record.websocket
    assert stats is not None
    assert (stats.messages_in, stats.messages_out) == (2, 2)
    assert stats.bytes_in == stats.bytes_out == 5 + len(blob)
    assert stats.close_code == 4001


async def test_100_mb_download_streams_in_bounded_memory() -> None:
    size = 100 * 1024 * 1024
    async with serving() as upstream, running_proxy(upstream.url) as proxy:
        stream = await trio.open_tcp_stream("127.0.0.1", proxy.port)
        received = 0
        tracemalloc.start()
        try:
            with trio.fail_after(120):
                async with stream:
                    await stream.send_all(
                        b"GET /bytes/%d HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % size
                    )
                    while chunk := await stream.receive_some(1 << 20):
                        received += len(chunk)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        (record,) = await proxy.wait_records(1)
    assert record.response_bytes == size and received > size
    # upstream, proxy and client all run in this process: together they held at most a few MB at once
    assert peak < 16 * 1024 * 1024, peak


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is needed to make a self-signed certificate")
async def test_https_upstream_with_a_self_signed_certificate(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    await trio.run_process(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost"],
        capture_stdout=True, capture_stderr=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listeners = await trio.open_ssl_over_tcp_listeners(0, context, host="127.0.0.1")
    transport = listeners[0].transport_listener
    assert isinstance(transport, trio.SocketListener)
    port = transport.socket.getsockname()[1]

    async def answer(stream: trio.SSLStream[trio.SocketStream]) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += await stream.receive_some(65536)
        await stream.send_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure")
        await stream.aclose()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.serve_listeners, answer, listeners)
        async with running_proxy(f"https://localhost:{port}/") as proxy:
            answer_ = await raw_exchange(proxy.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", until=b"secure")
            assert answer_.startswith(b"HTTP/1.1 200") and answer_.endswith(b"secure")
        nursery.cancel_scope.cancel()
