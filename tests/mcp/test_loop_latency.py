"""The event loop stays free: hostile MCP calls against a real `brummer up` never stall other clients or the pipes.

Before: `logs_tail` over a 10 MB line took 41 s, `(a+)+$` stalled the loop for seconds and `((a+)+)+$` hung brummer so
that SIGTERM did nothing. Here a child writes ~500 KB/s, each line stamped with the time it was written, while a
second client pings every 100 ms. The bounds are generous (the machine is shared); the real figures are measured by
scripts/bench_loop.py and written down in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from brummer import registry
from helpers import PY
from helpers_cli import Brummer

BOUND = 1.0  # seconds: no ping, no written line may wait longer
HELLO = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}
FLOOD = """
import os, sys, time
worst, i = 0.0, 0
while True:
    chunk = "".join(f"{time.time():.6f} flood {i + k:08} " + "z" * 70 + "\\n" for k in range(50)).encode()
    i += 50
    began = time.monotonic()
    os.write(1, chunk)
    worst = max(worst, time.monotonic() - began)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(f"{worst:.6f}")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    time.sleep(0.01)
"""
PRINTS = {
    "long": 'import sys\nfor i in range(30): print(f"{i} " + "x" * 70_000)\nprint("x" * 10_000_000)\n',
    "hostile": 'for n in range(20, 60): print("a" * n + "!"); print("a" * n)\nprint("a" * 65_000 + "!")\n',
    "many": 'for j in range(12_000): print(f"{j:06} GET /api " + "y" * 185)\n',
}


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "flood.py").write_text(FLOOD)
    names = ", ".join(f'"{name}"' for name in ["flood", *PRINTS])
    toml = f"log_max_lines = 200_000\ndefault = [{names}]\n"
    toml += f'[processes.flood]\ncmd = ["{PY}", "flood.py", "{tmp_path / "stall"}"]\n'
    for name, code in PRINTS.items():
        (root / f"{name}.py").write_text(code)
        toml += f'[processes.{name}]\ncmd = ["{PY}", "{name}.py"]\nready = "none"\n'
    (root / "brummer.toml").write_text(toml)
    return root


class Rpc:
    """Raw JSON-RPC over one WebSocket: big answers are parsed off the test's loop, so they cannot delay its pings."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.last_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        await self.ws.send_message(
            json.dumps({"jsonrpc": "2.0", "id": self.last_id, "method": method, "params": params})
        )
        while True:
            reply = await trio.to_thread.run_sync(json.loads, await self.ws.get_message())
            if reply.get("id") == self.last_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply["result"]
                return result

    async def tool(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.call("tools/call", name=tool, arguments=arguments)
        assert not result.get("isError"), result
        data: dict[str, Any] = result["structuredContent"]
        return data


@asynccontextmanager
async def connect(found: registry.Entry) -> AsyncIterator[Rpc]:
    assert found.ws is not None
    headers = [(b"authorization", f"Bearer {found.token}".encode())]
    async with open_websocket_url(
        found.ws, subprotocols=["mcp"], extra_headers=headers, max_message_size=1 << 25
    ) as ws:
        rpc = Rpc(ws)
        await rpc.call("initialize", **HELLO)
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        yield rpc


async def started(root: Path, up: Brummer) -> registry.Entry:
    with trio.fail_after(60):
        while (found := registry.find_up(root)) is None or not found.connectable:
            assert up.proc.poll() is None, up.output
            await trio.sleep(0.05)
    return found


async def test_hostile_calls_leave_the_loop_free(tmp_path: Path) -> None:
    root = project(tmp_path)
    up = await Brummer.start(["up", "--plain", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        found = await started(root, up)
        async with connect(found) as pinger, connect(found) as agent:
            with trio.fail_after(60):
                for name in PRINTS:
                    assert (await agent.tool("wait_for", name=name, condition="exited"))["met"]
            window = time.time()
            since = (await agent.tool("logs_tail", name="flood", limit=1))["next"]
            rtts: list[float] = []

            async def ping() -> None:
                while True:
                    began = time.monotonic()
                    await pinger.call("ping")
                    rtts.append(time.monotonic() - began)
                    await trio.sleep(0.1)

            with trio.fail_after(120):  # before: `((a+)+)+$` never returned
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(ping)
                    long = await agent.tool("logs_tail", name="long", limit=5, stream="stdout", detail=True)
                    assert long["count"] == 5 and all(line["length"] > 65_000 for line in long["lines"])
                    whole = await agent.tool(
                        "logs_tail", name="long", stream="stdout", limit=100, max_line_chars=66_560, detail=True
                    )
                    assert whole["truncated"] and 10 <= whole["count"] < 31 and "length" not in whole["lines"][0]
                    for pattern in ("(a+)+$", "((a+)+)+$"):
                        found_lines = await agent.tool(
                            "logs_search", pattern=pattern, name="hostile", limit=1000, detail=True
                        )
                        assert found_lines["count"] == 40  # the lines of a's only, not those ending in "!"
                    tail = await agent.tool("logs_tail", name="many", limit=10_000, detail=True)
                    assert tail["truncated"] and tail["earlier"]["limit"] == 10_000 - tail["count"]
                    await trio.sleep(0.5)
                    nursery.cancel_scope.cancel()

            late = 0.0
            with trio.fail_after(120):
                while (page := await agent.tool("logs_tail", name="flood", since=since, limit=10_000, detail=True))[
                    "lines"
                ]:
                    for line in page["lines"]:
                        if line["stream"] == "stdout":
                            late = max(late, line["time"] - float(line["text"].split(" ", 1)[0]))
                    since = page["next"]
        stalled = float((tmp_path / "stall").read_text())
        assert len(rtts) >= 3 and max(rtts) < BOUND, rtts
        assert late < BOUND and stalled < BOUND, (late, stalled)
        assert time.time() - window > 0.5
        up.signal(signal.SIGTERM)
        assert await up.wait(30) == 143
    finally:
        await up.stop()


async def test_sigterm_during_a_hostile_search(tmp_path: Path) -> None:
    """Before: `((a+)+)+$` over lines of a's held the loop forever; SIGTERM and SIGINT did nothing."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "hostile.py").write_text(PRINTS["hostile"] + 'print("printed", flush=True)\nimport time\ntime.sleep(300)\n')
    (root / "brummer.toml").write_text(f'[processes.hostile]\ncmd = ["{PY}", "hostile.py"]\nready = "none"\n')
    up = await Brummer.start(["up", "--plain", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        found = await started(root, up)
        async with connect(found) as agent:
            printed = await agent.tool("wait_for", name="hostile", condition="log", pattern="printed")
            assert printed["met"]
            request = {"name": "logs_search", "arguments": {"pattern": "((a+)+)+$", "limit": 10_000, "detail": True}}
            await agent.ws.send_message(
                json.dumps({"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": request})
            )
            up.signal(signal.SIGTERM)
            began = time.monotonic()
            assert await up.wait(30) == 143
            assert time.monotonic() - began < 10
            await agent.ws._stream.aclose()  # trio-websocket leaves it open when the server closes first
    finally:
        await up.stop()
