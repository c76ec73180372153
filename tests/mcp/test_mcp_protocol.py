"""Both protocol eras over the WebSocket transport: handshake, resources, subscriptions, and what bad clients get."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
import trio
from helpers_mcp import MAX_MESSAGE, Served, demo_project, frame, serving, structured, web_url
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError
from mcp.shared.subscriptions import ResourceUpdated
from trio_websocket import ConnectionClosed, WebSocketConnection, open_websocket_url

from brummer.bus import LogLines
from brummer.mcp.schemas import TOOLS
from helpers import PY, load, wait_until, write_project

LEGACY = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}


def raw_ws(served: Served) -> Any:
    headers = [(b"authorization", f"Bearer {served.token}".encode())]
    return open_websocket_url(served.urls.ws, subprotocols=["mcp"], extra_headers=headers, max_message_size=MAX_MESSAGE)


async def exchange(ws: WebSocketConnection, text: str) -> dict[str, Any]:
    await ws.send_message(text)
    reply = json.loads(await ws.get_message())
    assert isinstance(reply, dict)
    return reply


@pytest.mark.parametrize(("mode", "version"), [("legacy", "2025-11-25"), ("auto", "2026-07-28")])
async def test_both_eras(tmp_path: Path, mode: str, version: str) -> None:
    with trio.fail_after(30):
        async with serving(demo_project(tmp_path)) as served, served.ws(mode) as client:
            assert client.protocol_version == version
            assert client.server_info is not None and client.server_info.name == "brummer"
            assert client.server_capabilities.tools is not None
            assert client.server_capabilities.resources is not None and client.server_capabilities.resources.subscribe
            listed = await client.list_tools()
            assert [tool.name for tool in listed.tools] == [tool.name for tool in TOOLS]
            run = next(tool for tool in listed.tools if tool.name == "scripts_run")
            assert run.input_schema["required"] == ["name"] and run.output_schema is not None
            assert run.annotations is not None and run.annotations.read_only_hint is False
            assert structured(await client.call_tool("scripts_list", {}))["count"] == 3
            if mode == "legacy":
                with pytest.warns(MCPDeprecationWarning):
                    await client.send_ping()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_resources(tmp_path: Path, mode: str) -> None:
    with trio.fail_after(30):
        project = demo_project(tmp_path)
        async with serving(project) as served, served.ws(mode) as client:
            await client.call_tool("wait_for", {"name": "web", "condition": "url"})
            listed = await client.list_resources()
            uris = [str(resource.uri) for resource in listed.resources]
            assert uris == [
                "brummer://processes",
                "brummer://errors",
                "brummer://urls",
                "brummer://logs/web",
                "brummer://logs/job",
                "brummer://logs/idle",
            ]
            templates = await client.list_resource_templates()
            assert [t.uri_template for t in templates.resource_templates] == ["brummer://logs/{name}"]

            async def read(uri: str) -> dict[str, Any]:
                result = await client.read_resource(uri)
                (content,) = result.contents
                assert isinstance(content, types.TextResourceContents) and content.mime_type == "application/json"
                document = json.loads(content.text)
                assert isinstance(document, dict)
                return document

            processes = await read("brummer://processes")
            assert [p["name"] for p in processes["processes"]] == ["web", "job", "idle"]
            assert (await read("brummer://urls"))["urls"][0]["url"] == web_url(project)
            assert "errors" in await read("brummer://errors")
            logs = await read("brummer://logs/web")
            assert "booting" in [line["text"] for line in logs["lines"]] and logs["next"] >= 1
            with pytest.raises(MCPError) as caught:
                await client.read_resource("brummer://logs/nope")
            assert caught.value.error.code == (-32002 if mode == "legacy" else -32602)
            assert "brummer://logs/web" in caught.value.error.message


async def test_legacy_subscription_gets_updates(tmp_path: Path) -> None:
    updates: list[str] = []
    arrived = trio.Event()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))
            arrived.set()

    with trio.fail_after(30):
        async with serving(demo_project(tmp_path)) as served, served.ws(message_handler=on_message) as client:
            with pytest.warns(MCPDeprecationWarning):
                await client.subscribe_resource("brummer://logs/job")
            with pytest.warns(MCPDeprecationWarning), pytest.raises(MCPError):
                await client.subscribe_resource("brummer://nothing")
            await client.call_tool("scripts_run", {"name": "job"})
            await arrived.wait()
            assert set(updates) == {"brummer://logs/job"}  # only what was subscribed


async def test_modern_listen_gets_updates(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serving(demo_project(tmp_path)) as served, served.ws("auto") as client:
            async with client.listen(resource_subscriptions=["brummer://processes", "brummer://logs/job"]) as sub:
                await client.call_tool("scripts_run", {"name": "job"})
                seen: set[str] = set()
                async for event in sub:
                    assert isinstance(event, ResourceUpdated)
                    seen.add(event.uri)
                    if seen == {"brummer://processes", "brummer://logs/job"}:
                        break


async def test_updates_are_coalesced_under_a_flood(tmp_path: Path) -> None:
    (tmp_path / "flood.py").write_text(
        "import sys\nsys.stdout.write(''.join(f'line {i}\\n' for i in range(500_000)))\n"
    )
    root = write_project(tmp_path / "proj", brummer_toml=f'[processes.flood]\ncmd = "{PY} {tmp_path / "flood.py"}"\n')
    updates: list[str] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.append(str(message.params.uri))

    project = load(root, log_max_lines=1_000_000)
    with trio.fail_after(60):
        async with serving(project, []) as served, served.ws(message_handler=on_message) as client:
            published = served.runtime.bus.subscribe("count", low=math.inf)  # every batch the flood publishes
            with pytest.warns(MCPDeprecationWarning):
                await client.subscribe_resource("brummer://logs/flood")
            await client.call_tool("scripts_run", {"name": "flood"})
            done = await client.call_tool("wait_for", {"name": "flood", "condition": "exited", "timeout_s": 50})
            assert structured(done)["met"]
            await served.running.wait_for(lambda: served.running.store.stats("flood")[2] >= 500_000)
            batches = sum(isinstance(event, LogLines) for event in await published.receive_batch())
            with trio.move_on_after(1.0):  # the last round of notifications
                await wait_until(lambda: updates)
            assert 1 <= len(updates) <= max(3, batches // 10), (len(updates), batches)


async def test_bad_messages_get_json_rpc_errors_and_the_connection_stays_up(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serving(demo_project(tmp_path), ["job"]) as served, raw_ws(served) as ws:
            parse = await exchange(ws, "{not json")
            assert parse["id"] is None and parse["error"]["code"] == -32700
            invalid = await exchange(ws, json.dumps({"jsonrpc": "2.0", "id": 7}))
            assert invalid["id"] == 7 and invalid["error"]["code"] == -32600
            batch = await exchange(ws, json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]))
            assert batch["error"]["code"] == -32600 and "batches" in batch["error"]["message"]
            params = await exchange(ws, json.dumps({"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": 3}))
            assert params["id"] == 8 and params["error"]["code"] == -32600

            hello = await exchange(ws, frame("initialize", 1, **LEGACY))
            assert hello["result"]["serverInfo"]["name"] == "brummer"
            await ws.send_message(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            unknown = await exchange(ws, frame("tools/teleport", 2))
            assert unknown["id"] == 2 and unknown["error"]["code"] == -32601
            wrong = await exchange(ws, frame("tools/call", 3, name=5))
            assert wrong["id"] == 3 and wrong["error"]["code"] == -32602
            missing = await exchange(ws, frame("resources/read", 4))
            assert missing["id"] == 4 and missing["error"]["code"] == -32602
            fine = await exchange(ws, frame("tools/call", 5, name="scripts_list", arguments={}))
            assert fine["id"] == 5 and fine["result"]["structuredContent"]["count"] == 3
            assert (await exchange(ws, frame("ping", 6)))["result"] == {}


async def test_big_messages(tmp_path: Path) -> None:
    (tmp_path / "wide.py").write_text("for i in range(8000):\n    print(f'{i:05} ' + 'y' * 1000)\n")
    root = write_project(tmp_path / "proj", brummer_toml=f'[processes.wide]\ncmd = "{PY} {tmp_path / "wide.py"}"\n')
    with trio.fail_after(60):
        async with serving(load(root), ["wide"]) as served:
            async with served.ws() as client:
                await client.call_tool("wait_for", {"name": "wide", "condition": "exited"})
                # An 8 MB log dump comes in pages of about 1 MiB, each continuing exactly where the last stopped.
                since, seen, sizes = 0, list[int](), list[int]()
                while len(seen) < 8000:
                    arguments = {"name": "wide", "limit": 8000, "since": since, "stream": "stdout", "detail": True}
                    page = structured(await client.call_tool("logs_tail", arguments))
                    seen += [int(line["text"][:5]) for line in page["lines"]]
                    sizes.append(len(json.dumps(page)))
                    assert page["truncated"] == (len(seen) < 8000) and page["earlier"] is None
                    since = page["next"]
                assert seen == list(range(8000)) and 7 <= len(sizes) <= 11 and max(sizes) < 1_200_000
                tail = {"name": "wide", "limit": 8000, "stream": "stdout", "detail": True}
                newest = structured(await client.call_tool("logs_tail", tail))
                assert newest["truncated"] and newest["lines"][-1]["text"].startswith("07999")  # a tail: the newest
                left_out = newest["earlier"]
                assert left_out["limit"] == 8000 - newest["count"]
                earlier: list[int] = []
                while left_out["limit"]:  # the lines left out: themselves more than one page
                    rest = structured(await client.call_tool("logs_tail", {**tail, **left_out}))
                    earlier += [line["seq"] for line in rest["lines"]]
                    left_out = {"since": rest["next"], "limit": left_out["limit"] - rest["count"]}
                assert earlier[-1] == newest["lines"][0]["seq"] - 1 and len(earlier) == 8000 - newest["count"]

            async with raw_ws(served) as ws:
                await ws.send_message("x" * (20 * 1024 * 1024))
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.get_message()
                # trio-websocket 0.12 leaves its TCP stream open when the server closes first; close it for it
                await ws._stream.aclose()
                reason = closed.value.reason
                assert reason is not None and reason.code == 1009 and "16 MiB" in (reason.reason or "")

            async with served.ws() as client:  # the server is still up
                assert structured(await client.call_tool("scripts_list", {}))["count"] == 1


async def test_a_hundred_concurrent_clients(tmp_path: Path) -> None:
    results: list[int] = []
    with trio.fail_after(60):
        async with serving(demo_project(tmp_path)) as served:

            async def agent(i: int) -> None:
                async with served.ws("legacy" if i % 2 else "auto") as client:
                    listed = structured(await client.call_tool("scripts_list", {}))
                    tail = structured(await client.call_tool("logs_tail", {"name": "web", "limit": 5}))
                    assert listed["count"] == 3 and tail["count"] <= 5
                    results.append(i)

            async def vandal() -> None:
                async with raw_ws(served) as ws:
                    for _ in range(20):
                        assert (await exchange(ws, "}{"))["error"]["code"] == -32700

            async with trio.open_nursery() as nursery:
                for i in range(100):
                    nursery.start_soon(agent, i)
                for _ in range(5):
                    nursery.start_soon(vandal)
            assert sorted(results) == list(range(100))
