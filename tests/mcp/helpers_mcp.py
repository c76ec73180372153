"""Shared MCP test helpers: a real serve_mcp over a real supervisor, and the SDK Client over WebSocket and HTTP."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import trio
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.message import SessionMessage
from pydantic import ValidationError
from trio_websocket import ConnectionClosed, open_websocket_url

from brummer import registry
from brummer.config import ProjectSpec
from brummer.mcp.server import serve_mcp
from brummer.proxy.service import Proxy, serve_proxy
from brummer.runtime import Runtime
from helpers import PY, Running, load, running, write_project

MAX_MESSAGE = 32 * 1024 * 1024
SERVER = """
import socket, sys, time
print("booting", flush=True)
time.sleep(0.2)
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()  # a URL is the process's own once it listens there
open("port.tmp", "w").write(str(s.getsockname()[1]))
__import__("os").rename("port.tmp", "port")
print(f"Local: http://localhost:{s.getsockname()[1]}/", flush=True)
print("warning: something odd", file=sys.stderr, flush=True)
print("ERROR: database unreachable", file=sys.stderr, flush=True)
print("TypeError: cannot read property 'x' of undefined", file=sys.stderr, flush=True)
print("    at main (src/app.js:3:7)", file=sys.stderr, flush=True)
time.sleep(300)
"""


@dataclass
class Served:
    running: Running
    runtime: Runtime
    urls: registry.McpUrls
    token: str

    @property
    def port(self) -> int:
        return int(self.urls.http.rsplit(":", 1)[1].split("/")[0])

    def ws(self, mode: str = "legacy", *, token: str | None = None, **options: Any) -> Client:
        transport = ws_transport(self.urls.ws, self.token if token is None else token)
        return Client(transport, mode=mode, **options)

    def http(self, mode: str = "legacy", **options: Any) -> Client:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {self.token}"})
        return Client(streamable_http_client(self.urls.http, http_client=http), mode=mode, **options)


def demo_project(tmp_path: Path, **extra: str) -> ProjectSpec:
    """web (a fake dev server: a URL, a warning, an error), job (prints and exits), idle (never started)."""
    (tmp_path / "server.py").write_text(SERVER)
    root = write_project(
        tmp_path / "proj",
        brummer_toml=f"""
        default = ["web"]
        [processes.web]
        cmd = "{PY} -u {tmp_path / "server.py"}"
        grace = 1
        [processes.job]
        cmd = "echo job says hello; echo done; exit 3"
        ready = "none"
        [processes.idle]
        cmd = "sleep 300"
        ready = "none"
        grace = 1
        """,
        **extra,
    )
    return load(root)


def web_url(project: ProjectSpec) -> str:
    """The URL the demo project's web server printed (it listens on a free port and writes it to ``port``)."""
    return f"http://localhost:{(project.root / 'port').read_text()}/"


@asynccontextmanager
async def serving(
    project: ProjectSpec, names: list[str] | None = None, *, proxy: bool = False
) -> AsyncIterator[Served]:
    """A real supervisor running ``names`` with the MCP service on 127.0.0.1, any free port; with ``proxy``, the
    recording proxy in front of every URL too (on free ports)."""
    async with running(project, names) as run:
        runtime = Runtime(project, run.sup, run.store, run.bus)
        runtime.proxy = Proxy(project, run.bus, run.store) if proxy else None
        try:
            async with trio.open_nursery() as nursery:
                if runtime.proxy is not None:
                    await nursery.start(serve_proxy, runtime, runtime.proxy)
                urls = await nursery.start(functools.partial(serve_mcp, runtime, port=0))
                found = own_entry(project.root)
                assert found.token is not None
                try:
                    yield Served(run, runtime, urls, found.token)
                finally:
                    nursery.cancel_scope.cancel()
        finally:
            if runtime.proxy is not None:
                runtime.proxy.close()


def own_entry(root: Path) -> registry.Entry:
    """This process's entry for the project (serve_mcp without a registration registers as its brummer up)."""
    (found,) = [entry for entry in registry.entries(root) if entry.pid == os.getpid()]
    return found


@asynccontextmanager
async def ws_transport(url: str, token: str | None, *, origin: str | None = None) -> AsyncIterator[Any]:
    """The SDK's client streams over a trio-websocket connection (the SDK 2.x has no WebSocket transport)."""
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    if origin:
        headers.append((b"origin", origin.encode()))
    async with open_websocket_url(url, subprotocols=["mcp"], extra_headers=headers, max_message_size=MAX_MESSAGE) as ws:
        to_client, client_in = anyio.create_memory_object_stream[SessionMessage | Exception](16)
        client_out, from_client = anyio.create_memory_object_stream[SessionMessage](16)

        async def read() -> None:
            with to_client:
                try:
                    while True:
                        raw = await ws.get_message()
                        try:
                            message = types.jsonrpc_message_adapter.validate_json(raw, by_name=False)
                        except ValidationError as exc:
                            await to_client.send(exc)
                            continue
                        await to_client.send(SessionMessage(message))
                except ConnectionClosed:
                    pass

        async def write() -> None:
            with from_client:
                async for message in from_client:
                    await ws.send_message(message.message.model_dump_json(by_alias=True, exclude_unset=True))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(read)
            nursery.start_soon(write)
            try:
                yield client_in, client_out
            finally:
                nursery.cancel_scope.cancel()


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    return data


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, types.TextContent))


def frame(method: str, request_id: int | str | None = 1, **params: Any) -> str:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
    if request_id is not None:
        message["id"] = request_id
    return json.dumps(message)
