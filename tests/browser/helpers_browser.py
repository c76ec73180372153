"""The telemetry over real sockets without a browser: a canned-page upstream (raw bytes, sent in the pieces a test
chooses), the real proxy with the telemetry installed under a real supervisor, and a page's WebSocket (the
handshake a browser makes, then brummer's own RFC 6455 client for the frames)."""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trio

from brummer.browser.install import install
from brummer.browser.telemetry import Telemetry
from brummer.config.spec import ProcessSpec, ProjectSpec, ProxyOptions, Settings
from brummer.logs.store import LogStore
from brummer.proxy.server import serve_target
from brummer.proxy.service import Proxy
from brummer.remote.websocket import WebSocket
from brummer.runtime import Runtime
from helpers import running

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def vlq(value: int) -> str:
    value = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit, value = value & 31, value >> 5
        out += B64[digit | (32 if value else 0)]
        if not value:
            return out


def source_map(sources: list[str], lines: list[list[tuple[int, int, int, int]]]) -> bytes:
    """A version 3 map: per generated line, segments (generated column, source index, line, column), 0-based."""
    previous = [0, 0, 0]
    encoded = []
    for segments in lines:
        column = 0
        parts = []
        for gen, src, line, col in segments:
            parts.append(vlq(gen - column) + vlq(src - previous[0]) + vlq(line - previous[1]) + vlq(col - previous[2]))
            column, previous = gen, [src, line, col]
        encoded.append(",".join(parts))
    return json.dumps({"version": 3, "sources": sources, "names": [], "mappings": ";".join(encoded)}).encode()


def inline(script: bytes, sourcemap: bytes) -> bytes:
    return script + b"\n//# sourceMappingURL=data:application/json;base64," + base64.b64encode(sourcemap) + b"\n"


def answer(body: bytes, content_type: str = "text/html", *headers: str, status: int = 200) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
    return (head + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + body


def chunked(pieces: list[bytes], content_type: str = "text/html", *headers: str) -> list[bytes]:
    """An answer whose body pieces go out as separate chunks (and separate sends)."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
    first = (head + "".join(h + "\r\n" for h in headers) + "\r\n").encode()
    return [first, *(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces), b"0\r\n\r\n"]


async def read_head(stream: trio.SocketStream, data: bytes) -> tuple[bytes, bytes]:
    """(an HTTP head, what came after it); an empty head if the stream ended first."""
    while b"\r\n\r\n" not in data:
        more = await stream.receive_some(65536)
        if not more:
            return b"", b""
        data += more
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


@dataclass
class Pages:
    """A dev server of canned answers: path (without query) -> the bytes to send, in separate sends."""

    pages: dict[str, list[bytes]]
    port: int = 0
    requests: list[tuple[str, bytes]] = field(default_factory=list)  # (path, request head)

    async def serve(self, stream: trio.SocketStream) -> None:
        data = b""
        async with stream:
            while True:
                head, data = await read_head(stream, data)
                if not head:
                    return
                path = head.split(b" ")[1].decode()
                self.requests.append((path, head))
                for piece in self.pages.get(path.split("?")[0], [answer(b"no such page", status=404)]):
                    await stream.send_all(piece)
                    await trio.sleep(0.005)  # separate reads on the other side, as far as the kernel lets us


@dataclass
class TelemetryProxy:
    runtime: Runtime
    proxy: Proxy
    telemetry: Telemetry
    store: LogStore
    pages: Pages
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@asynccontextmanager
async def telemetry_proxy(
    root: Path, pages: dict[str, list[bytes]], *, browser_eval: bool = False, inject: bool = True,
    process_inject: bool = True,
) -> AsyncIterator[TelemetryProxy]:  # fmt: skip
    """The proxy for process "web" (its dev server: ``pages``), with the telemetry installed as ``brummer up``
    installs it, and a real supervisor behind (nothing running)."""
    spec = ProcessSpec(
        "web", "true", "brummer.toml", root / "brummer.toml", root, proxy=ProxyOptions(inject=process_inject)
    )
    settings = Settings(proxy_base_port=0, browser_eval=browser_eval, inject=inject)
    project = ProjectSpec(root, {"web": spec}, (), settings=settings)
    server = Pages(pages)
    async with running(project) as run, trio.open_nursery() as nursery:
        listeners = await nursery.start(functools.partial(trio.serve_tcp, server.serve, 0, host="127.0.0.1"))
        server.port = listeners[0].socket.getsockname()[1]
        runtime = Runtime(project, run.sup, run.store, run.bus)
        runtime.proxy = proxy = Proxy(project, run.bus, run.store, wait=1.0)
        runtime.telemetry = telemetry = install(proxy, project, run.store)
        target = proxy.targets.for_url("web", f"http://localhost:{server.port}/")
        assert target is not None
        try:
            await nursery.start(serve_target, proxy.site(target, runtime))
            yield TelemetryProxy(runtime, proxy, telemetry, run.store, server, target.proxy_port)
        finally:
            nursery.cancel_scope.cancel()
            proxy.close()


async def page_socket(port: int, origin: str | None, path: str = "/__brummer__/ws") -> tuple[int, WebSocket | None]:
    """Open the telemetry socket as a page of ``origin`` would: (status, the socket if 101)."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]  # fmt: skip
    if origin is not None:
        lines.append(f"Origin: {origin}")
    await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode())
    head, rest = await read_head(stream, b"")
    status = int(head.split(b" ")[1]) if head else 0
    if status != 101:
        await stream.aclose()
        return status, None
    return status, WebSocket(stream, rest, 1 << 20)


async def send(ws: WebSocket, **message: Any) -> None:
    await ws.send(json.dumps(message))
