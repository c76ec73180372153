"""The guard in front of /ws and /mcp: no token or a wrong one is 401, a web page's Origin is 403."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import httpx
import pytest
import trio
from helpers_mcp import MAX_MESSAGE, Served, demo_project, own_entry, serving, structured, ws_transport
from mcp import Client
from trio_websocket import open_websocket_url

from brummer import registry
from brummer.mcp.asgi import local_host, local_origin

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


async def ws_accepted(url: str, headers: dict[str, str]) -> bool:
    """Whether a real WebSocket client gets through the handshake."""
    extra = [(k.encode(), v.encode()) for k, v in headers.items()]
    async with open_websocket_url(url, subprotocols=["mcp"], extra_headers=extra, max_message_size=MAX_MESSAGE):
        return True


async def ws_refusal(url: str, headers: dict[str, str], subprotocol: str = "mcp") -> int:
    """The status a WebSocket handshake is refused with (sent by hand: trio-websocket 0.12 leaks the socket of a
    rejected handshake)."""
    status = await ws_status(url, headers, subprotocol)
    assert status != 101
    return status


async def ws_status(url: str, headers: dict[str, str], subprotocol: str = "mcp") -> int:
    """The status a WebSocket handshake is answered with (101: accepted)."""
    handshake = {
        "connection": "Upgrade",
        "upgrade": "websocket",
        "sec-websocket-version": "13",
        "sec-websocket-key": base64.b64encode(os.urandom(16)).decode(),
        "sec-websocket-protocol": subprotocol,
    }
    async with httpx.AsyncClient() as http:
        response = await http.get(url.replace("ws://", "http://", 1), headers={**handshake, **headers})
    return response.status_code


async def http_post(served: Served, headers: dict[str, str], url: str | None = None) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(url or served.urls.http, json=INITIALIZE, headers={**MCP_HEADERS, **headers})


async def test_refusals(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serving(demo_project(tmp_path), ["job"]) as served:
            good = {"authorization": f"Bearer {served.token}"}
            ws = served.urls.ws
            assert await ws_refusal(ws, {}) == 401
            assert await ws_refusal(ws, {"authorization": "Bearer not-the-token"}) == 401
            assert await ws_refusal(ws, {"authorization": f"Basic {served.token}"}) == 401
            assert await ws_refusal(ws, {**good, "origin": "https://evil.example"}) == 403
            assert await ws_refusal(ws, {**good, "origin": "null"}) == 403
            assert await ws_refusal(f"{ws}?token=wrong", {}) == 401
            assert await ws_refusal(ws, good, subprotocol="graphql-ws") == 403
            assert await ws_refusal(ws.replace("/ws", "/echo"), good) == 404  # no route but /ws and /mcp
            assert await ws_accepted(f"{ws}?token={served.token}", {})  # browser-style clients
            assert await ws_accepted(ws, {**good, "origin": "http://localhost:5173"})

            assert (await http_post(served, {})).status_code == 401
            wrong = await http_post(served, {"authorization": "Bearer nope"})
            assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Bearer")
            entry = registry.location() / own_entry(served.runtime.project.root).name
            assert f"the token in this brummer's entry {entry}" in wrong.json()["error"]  # where it really is
            assert served.token not in wrong.text
            assert (await http_post(served, {**good, "origin": "http://attacker.test"})).status_code == 403
            query = await http_post(served, {}, url=f"{served.urls.http}?token={served.token}")
            assert query.status_code == 401  # only /ws takes the token in the URL
            assert (await http_post(served, good, url=served.urls.http.replace("/mcp", "/x"))).status_code == 404
            accepted = await http_post(served, {**good, "origin": "http://127.0.0.1:3000"})
            assert accepted.status_code == 200

            async with Client(ws_transport(f"{ws}?token={served.token}", None), mode="legacy") as client:
                assert structured(await client.call_tool("scripts_list", {}))["count"] == 3
            notes = served.running.store.tail("brummer", limit=10_000).lines
            assert not [line for line in notes if served.token in line.text]


async def test_host_and_origin_rules_are_the_same_on_ws_and_mcp(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serving(demo_project(tmp_path), ["job"]) as served:
            good = {"authorization": f"Bearer {served.token}"}
            port = served.port
            for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.nip.io:{port}", f"x@localhost:{port}"):
                assert await ws_refusal(served.urls.ws, {**good, "host": host}) == 421, host  # DNS rebinding
                assert (await http_post(served, {**good, "host": host})).status_code == 421, host
            for host in (f"localhost:{port}", "localhost", f"127.0.0.1:{port}", f"app.localhost:{port}"):
                assert await ws_status(served.urls.ws, {**good, "host": host}) == 101, host
                assert (await http_post(served, {**good, "host": host})).status_code == 200, host
            for origin in ("http://localhost", "http://app.localhost:5173", "https://[::1]:3000"):
                assert await ws_status(served.urls.ws, {**good, "origin": origin}) == 101, origin
                assert (await http_post(served, {**good, "origin": origin})).status_code == 200, origin
            for origin in ("http://localhost.evil.com", "null"):
                assert await ws_refusal(served.urls.ws, {**good, "origin": origin}) == 403, origin
                assert (await http_post(served, {**good, "origin": origin})).status_code == 403, origin


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost:7777", True),
        ("LOCALHOST", True),
        ("127.0.0.1:80", True),
        ("127.1.2.3:80", True),
        ("[::1]:7777", True),
        ("app.localhost", True),
        ("evil.example", False),
        ("localhost.evil.example:80", False),
        ("evil@localhost", False),
        ("localhost:port", False),
        ("", False),
        ("[::1", False),
    ],
)
def test_local_host(host: str, local: bool) -> None:
    assert local_host(host) is local


@pytest.mark.parametrize(
    ("origin", "local"),
    [
        ("http://localhost:3000", True),
        ("https://127.0.0.1", True),
        ("http://[::1]:8080", True),
        ("http://app.localhost:5173", True),
        ("http://localhost.evil.com", False),
        ("https://example.com", False),
        ("file://", False),
        ("null", False),
        ("http://[::1", False),
    ],
)
def test_local_origin(origin: str, local: bool) -> None:
    assert local_origin(origin) is local
