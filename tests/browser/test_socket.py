"""The telemetry socket as a page uses it (without a browser): own origin only, reports into error groups with
stacks mapped through source maps, resolution by a reload that does not repeat them, bounds, and the browser tools."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
import trio
from helpers_browser import answer, inline, page_socket, send, source_map, telemetry_proxy

from brummer.browser import routes, telemetry
from brummer.errors import ToolError
from brummer.logs.error_book import ErrorState
from brummer.mcp import browser_tools, tools
from brummer.remote.websocket import Closed, WebSocket
from helpers import wait_until

# /src/app.ts as a dev server serves it: line 3 column 11 (1-based) comes from app.ts line 12 column 5
SCRIPT = b"import x from '/dep.js';\nconst a = 1;\nfunction boom() { throw new Error('x'); }\n"
MAPPED = inline(SCRIPT, source_map(["app.ts"], [[], [], [(10, 0, 11, 4)]]))
EXTERNAL = source_map(["../lib/util.ts"], [[(0, 0, 6, 2)]])
PAGES = {
    "/": [answer(b"<!doctype html><html><head></head></html>")],
    "/src/app.ts": [answer(MAPPED, "text/javascript")],
    "/src/util.js": [answer(b"throw 1\n", "text/javascript", "SourceMap: /maps/util.js.map")],
    "/maps/util.js.map": [answer(EXTERNAL, "application/json")],
}


async def test_only_pages_of_the_proxys_own_origin_may_connect(tmp_path: Path) -> None:
    async with telemetry_proxy(tmp_path, PAGES) as served:
        port = served.port
        for origin in (f"http://evil.example:{port}", "http://127.0.0.1:1", "null", None, f"https://127.0.0.1:{port}"):
            status, ws = await page_socket(port, origin)
            assert (status, ws) == (403, None), origin
        for count, origin in enumerate((f"http://127.0.0.1:{port}", f"http://localhost:{port}"), 1):
            status, ws = await page_socket(port, origin)
            assert status == 101 and ws is not None
            await send(ws, t="hello", tab=f"tab{count}", load="l1", url=origin + "/", title="app")
            await wait_until(functools.partial(lambda n: len(served.telemetry.sessions) == n, count))
            await ws.aclose()
        sessions = (await browser_tools.browser_sessions(served.runtime)).data["sessions"]
        assert sorted(s["url"] for s in sessions) == [f"http://127.0.0.1:{port}/", f"http://localhost:{port}/"]


async def test_page_errors_become_mapped_groups_and_a_clean_reload_resolves_them(tmp_path: Path) -> None:
    async with telemetry_proxy(tmp_path, PAGES) as served:
        origin = served.url
        _, ws = await page_socket(served.port, origin)
        assert ws is not None
        await send(ws, t="hello", tab="abc", load="l1", url=origin + "/", title="app")
        stack = f"Error: x\n    at boom ({origin}/src/app.ts?t=1700000000:3:11)\n    at {origin}/src/util.js:1:1"
        for _ in range(3):
            await send(ws, t="error", name="Error", message="x", stack=stack)
        await send(ws, t="console", level="warn", text="careful", stack="")
        await send(ws, t="network", via="fetch", method="GET", url=origin + "/api/items?page=2", status=503)
        await send(ws, t="overlay", message="Transform failed", file=str(tmp_path / "src/main.ts"), line=3, col=7)
        groups = served.store.errors.groups
        await wait_until(lambda: len(groups("web")) == 3 and groups("web")[0].count == 3)
        thrown, network, overlay = groups("web")
        assert (thrown.family, thrown.type, thrown.message) == ("browser", "Error", "x")
        assert thrown.location == "src/app.ts:12:5"  # the original file, line, column; no query, no origin
        assert thrown.lines[1:] == ("    at boom (src/app.ts:12:5)", "    at lib/util.ts:7:3")
        assert (network.type, network.message) == ("fetch 503", "GET /api/items → 503")
        assert (overlay.type, overlay.location) == ("vite:error", "src/main.ts:3:7")
        maps = served.telemetry.maps[served.port]
        assert maps.fetches == 3  # app.ts, util.js and its map: once each, whatever the repeats
        events = (await browser_tools.browser_events(served.runtime, session="t1")).data["events"]
        assert [e["kind"] for e in events][:2] == ["overlay", "network"] and events[-1]["kind"] == "page"
        assert "careful" in [e["text"] for e in events]
        listed = (await tools.errors_list(served.runtime, name="web")).text
        assert "src/app.ts:12:5" in listed and "(x3" in listed

        # a reload that repeats only the overlay error: the others are resolved once the new page settled
        await ws.aclose()
        _, ws = await page_socket(served.port, origin)
        assert ws is not None
        await send(ws, t="hello", tab="abc", load="l2", url=origin + "/", title="app")
        await send(ws, t="overlay", message="Transform failed", file=str(tmp_path / "src/main.ts"), line=3, col=7)
        await send(ws, t="timing", ttfb=3.5, dcl=20, load=25, title="app")
        await wait_until(lambda: thrown.state is ErrorState.RESOLVED, within=30)
        assert network.state is ErrorState.RESOLVED and overlay.state is ErrorState.OPEN
        assert thrown.resolved_by == "browser: tab t1 reloaded without it"
        await ws.aclose()


async def test_bounds_per_connection_and_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(telemetry, "SESSIONS", 2)
    async with telemetry_proxy(tmp_path, PAGES) as served:
        _, ws = await page_socket(served.port, served.url)
        assert ws is not None
        await send(ws, t="hello", tab="flood", load="l1", url=served.url + "/")
        for i in range(1000):
            await send(ws, t="console", level="warn", text=f"warning {i}")
        await wait_until(lambda: served.telemetry.sessions["t1"].dropped > 500)
        session = served.telemetry.sessions["t1"]
        assert session.events <= routes.BURST + 50  # the rest were counted, not kept
        await ws.send("x" * (routes.MAX_MESSAGE + 1))
        with pytest.raises(Closed) as closed, trio.fail_after(10):
            await ws.receive()
        assert closed.value.code == 1009
        await wait_until(lambda: not session.connected)
        # two sessions kept: a third tab takes the place of the oldest one that is gone
        opened = []
        for tab in ("second", "third"):
            _, ws = await page_socket(served.port, served.url)
            assert ws is not None
            await send(ws, t="hello", tab=tab, load="l1", url=served.url + "/")
            await wait_until(lambda: any(s.loads for s in served.telemetry.sessions.values() if s.id != "t1"))
            if tab == "third":
                await wait_until(lambda: "t3" in served.telemetry.sessions)
            opened.append(ws)
        assert list(served.telemetry.sessions) == ["t2", "t3"]
        for ws in opened:
            await ws.aclose()


async def page(ws: WebSocket, answers: Mapping[str, Mapping[str, object]]) -> None:
    """A page that answers brummer's commands (as client.js does)."""
    while True:
        command = json.loads(await ws.receive())
        reply = answers.get(command["cmd"], {"ok": False, "error": "not here"})
        await ws.send(json.dumps({"t": "reply", "id": command["id"], **reply}))


async def test_browser_tools_and_eval_only_when_allowed(tmp_path: Path) -> None:
    async with telemetry_proxy(tmp_path, PAGES) as served:
        with pytest.raises(ToolError, match="no browser tab is connected"):
            await browser_tools.browser_reload(served.runtime)
        _, ws = await page_socket(served.port, served.url)
        assert ws is not None
        await send(ws, t="hello", tab="abc", load="l1", url=served.url + "/", title="app")
        await wait_until(lambda: served.telemetry.sessions.get("t1") is not None)
        with pytest.raises(ToolError) as refused:
            await browser_tools.browser_eval(served.runtime, "document.cookie")
        assert "browser_eval = true" in str(refused.value) and "--browser-eval" in str(refused.value)
        with pytest.raises(ToolError, match="own origin"):
            await browser_tools.browser_navigate(served.runtime, "https://evil.example/")
        served.telemetry.allow_eval = True
        async with trio.open_nursery() as nursery:
            nursery.start_soon(page, ws, {"eval": {"ok": True, "value": {"title": "app", "n": 2}}})
            result = await browser_tools.browser_eval(
                served.runtime, "({title: document.title, n: 1 + 1})", detail=True
            )
            assert result.data["value"] == {"title": "app", "n": 2} and '"title": "app"' in result.text
            compact = await browser_tools.browser_eval(served.runtime, "({title: document.title, n: 1 + 1})")
            assert json.loads(compact.data["json"]) == {"title": "app", "n": 2} and "value" not in compact.data
            nursery.cancel_scope.cancel()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(page, ws, {"reload": {"ok": True}})
            nursery.start_soon(browser_tools.browser_reload, served.runtime, "t1")
            await wait_until(lambda: served.telemetry.sessions["t1"].replies == {})
            nursery.cancel_scope.cancel()
        await ws.aclose()
        _, ws = await page_socket(served.port, served.url)  # the new page
        assert ws is not None
        await send(ws, t="hello", tab="abc", load="l2", url=served.url + "/", title="app")
        await wait_until(lambda: served.telemetry.sessions["t1"].loads == 2)
        await ws.aclose()
        await wait_until(lambda: not served.telemetry.sessions["t1"].connected)
        with pytest.raises(ToolError, match="not connected"):
            await browser_tools.browser_eval(served.runtime, "1", session="t1")
