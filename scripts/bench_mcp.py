"""Benchmark brummer's MCP server: tools/call round trips over WebSocket against a bare WebSocket echo.

The echo is a bare ASGI WebSocket app on its own hypercorn server (same trio worker, same event loop, same
hypercorn limits as ``serve_mcp``'s), so the difference is what the MCP layer costs: the guard, the SDK's
dispatch, our argument checks, the tool, the JSON. Measured idle and while a child floods the log with 1M lines
(the MCP connection is also subscribed to that process's log resource, so coalesced update notifications flow
meanwhile). Goal: tools/call <= 3x the echo idle, p99 <= 50 ms under the flood.

A second part starts ``brummer up`` as a user would and checks that the SDK import (about a second) happens after
the first child has started: time from launch to the child's first instruction, with and without MCP, and until
its registry entry carries the MCP addresses.

``--clients N`` measures something else, alone: N WebSocket clients at once against a real ``brummer up`` (a separate
process, so clients and server do not share a core's event loop): each connects, initializes and makes ``--calls``
``tools/call scripts_list``; the session times (connect to last answer), the call round trips and the errors.

Usage: python scripts/bench_mcp.py [--rounds N] [--lines N] [--skip-startup] | --clients N [--calls N]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hypercorn.trio
import trio
from trio_websocket import WebSocketConnection, open_websocket_url

from brummer import registry
from brummer.bus import Bus
from brummer.config import discover_project
from brummer.logs.store import LogStore, serve_log_store
from brummer.mcp.server import bind, hypercorn_config, serve_mcp
from brummer.runtime import Runtime
from brummer.supervise.spawn import Spawner
from brummer.supervise.supervisor import serve_supervisor

LINE = "f'{{i:07}} GET /api/items?page={{i % 50}} 200 in 3ms - compiled client and server\\n'"
FLOOD = "import sys\nw = sys.stdout.write\nfor i in range({lines}):\n    w(" + LINE + ")\n"
CALL = {"name": "scripts_status", "arguments": {"name": "flood"}}
INITIALIZE = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered) * 1e3, 3), "p99_ms": round(p99 * 1e3, 3)}


class Rpc:
    """Raw JSON-RPC frames over one WebSocket (no client library in the measurement)."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws
        self.next_id = 0
        self.notifications = 0

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send_message(
            json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        )
        while True:
            reply = json.loads(await self.ws.get_message())
            assert isinstance(reply, dict)
            if reply.get("id") == self.next_id:
                return reply
            self.notifications += 1


async def echo_rtt(ws: WebSocketConnection, payload: str) -> float:
    began = time.perf_counter()
    await ws.send_message(payload)
    await ws.get_message()
    return time.perf_counter() - began


async def serve_echo(scope: Any, receive: Any, send: Any) -> None:
    """A bare WebSocket echo: the baseline (answers lifespan as ``McpApp`` does)."""
    if scope["type"] == "lifespan":
        while True:
            kind = (await receive())["type"]
            await send({"type": f"{kind}.complete"})  # lifespan.startup / lifespan.shutdown
            if kind == "lifespan.shutdown":
                return
    if scope["type"] != "websocket" or (await receive())["type"] != "websocket.connect":
        return
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None, "headers": []})
    while (message := await receive())["type"] == "websocket.receive":
        await send({"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")})


async def start_echo(nursery: trio.Nursery) -> str:
    """The echo server on a free loopback port, configured as ``serve_mcp`` configures its own; its ws:// URL."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    await nursery.start(functools.partial(hypercorn.trio.serve, serve_echo, hypercorn_config(sock.detach())))
    return f"ws://127.0.0.1:{port}/echo"


async def call_rtt(rpc: Rpc) -> float:
    began = time.perf_counter()
    reply = await rpc.call("tools/call", CALL)
    assert "result" in reply, reply
    return time.perf_counter() - began


async def measure(rounds: int, lines: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "flood.py").write_text(FLOOD.format(lines=lines))
        (root / "brummer.toml").write_text(
            f'[processes.flood]\ncmd = "{sys.executable} {root / "flood.py"}"\nready = "none"\n'
        )
        project = discover_project(root)
        bus = Bus()
        store = LogStore(bus, max_lines=project.settings.log_max_lines, max_bytes=project.settings.log_max_bytes)
        results: dict[str, Any] = {}
        async with trio.open_nursery() as nursery:
            await nursery.start(serve_log_store, store)
            supervisor = await nursery.start(serve_supervisor, project, [], store, bus, Spawner())
            runtime = Runtime(project, supervisor, store, bus)
            urls = await nursery.start(functools.partial(serve_mcp, runtime, port=0))
            (found,) = [entry for entry in registry.entries(root) if entry.pid == os.getpid()]
            headers = [(b"authorization", f"Bearer {found.token}".encode())]
            size = 32 * 2**20
            echo_url = await start_echo(nursery)
            async with (
                open_websocket_url(echo_url, extra_headers=headers, max_message_size=size) as echo,
                open_websocket_url(urls.ws, subprotocols=["mcp"], extra_headers=headers, max_message_size=size) as ws,
            ):
                rpc = Rpc(ws)
                init = {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "bench", "version": "0"},
                }
                await rpc.call("initialize", init)
                await ws.send_message(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                await rpc.call("resources/subscribe", {"uri": "brummer://logs/flood"})
                payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": CALL})
                for _ in range(200):  # warm up both paths
                    await echo_rtt(echo, payload)
                    await call_rtt(rpc)
                idle_echo = [await echo_rtt(echo, payload) for _ in range(rounds)]
                idle_call = [await call_rtt(rpc) for _ in range(rounds)]
                results["idle"] = {"echo": summary(idle_echo), "tools_call": summary(idle_call)}

                began = time.perf_counter()
                await supervisor.start("flood")
                flood_echo: list[float] = []
                flood_call: list[float] = []
                notified = rpc.notifications
                while not supervisor.info("flood").state.alive:
                    await supervisor.wait_changed()
                while supervisor.info("flood").state.alive:
                    flood_echo.append(await echo_rtt(echo, payload))
                    flood_call.append(await call_rtt(rpc))
                took = time.perf_counter() - began
                written = store.stats("flood")[2]
                results["flood"] = {
                    "echo": summary(flood_echo),
                    "tools_call": summary(flood_call),
                    "lines": written,
                    "seconds": round(took, 2),
                    "lines_per_s": round(written / took),
                    "resource_notifications": rpc.notifications - notified,
                    "mcp_bus_drops": bus.drop_counts()["mcp"].total,
                }
            nursery.cancel_scope.cancel()
        return results


def startup(runs: int) -> dict[str, Any]:
    """Launch-to-first-child and launch-to-MCP-registered of a real ``brummer up``, with and without MCP."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        stamp = root / "started"
        child = f"import time; open('{stamp}', 'w').write(repr(time.time())); time.sleep(30)"
        (root / "brummer.toml").write_text(f'[processes.web]\ncmd = "{sys.executable} -c \\"{child}\\""\n')
        for label, flags in (("no_mcp", ["--no-mcp"]), ("mcp", ["--mcp-port", "0"])):
            child_s, ready_s = [], []
            for _ in range(runs):
                stamp.unlink(missing_ok=True)
                began = time.time()
                proc = subprocess.Popen(
                    [sys.executable, "-m", "brummer", "up", "--plain", "--dir", str(root), *flags],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                deadline = time.monotonic() + 30
                while not (stamp.exists() and stamp.read_text()) and time.monotonic() < deadline:
                    time.sleep(0.005)
                child_s.append(float(stamp.read_text()) - began)
                if flags[0] != "--no-mcp":
                    while not _mcp_registered(root) and time.monotonic() < deadline:
                        time.sleep(0.005)
                    ready_s.append(time.time() - began)
                proc.send_signal(2)
                proc.wait(timeout=30)
            out[label] = {"first_child_ms": round(statistics.median(child_s) * 1e3)}
            if ready_s:
                out[label]["mcp_registered_ms"] = round(statistics.median(ready_s) * 1e3)
    return out


def _mcp_registered(root: Path) -> bool:
    up = registry.find_up(root)
    return up is not None and up.connectable


def many_clients(count: int, calls: int) -> dict[str, Any]:
    """``count`` clients at once against a real ``brummer up``: sessions, call round trips, errors."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "brummer.toml").write_text(
            f'[processes.web]\ncmd = "{sys.executable} -c \\"import time; time.sleep(600)\\""\nready = "none"\n'
        )
        command = [sys.executable, "-m", "brummer", "up", "--plain", "--dir", str(root), "--mcp-port", "0"]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while ((found := registry.find_up(root)) is None or not found.connectable) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert found is not None and found.connectable, "brummer up did not serve MCP"
            before = _cpu_seconds(proc.pid)
            report = trio.run(_clients, found, count, calls)
            report["server_cpu_s"] = round(_cpu_seconds(proc.pid) - before, 2)  # load-independent: the server's work
            return report
        finally:
            proc.send_signal(2)
            proc.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _clients(found: registry.Entry, count: int, calls: int) -> dict[str, Any]:
    sessions: list[float] = []
    round_trips: list[float] = []
    errors: list[str] = []
    headers = [(b"authorization", f"Bearer {found.token}".encode())]
    url = found.ws
    assert url is not None

    async def client() -> None:
        began = time.perf_counter()
        try:
            async with open_websocket_url(url, subprotocols=["mcp"], extra_headers=headers) as ws:
                rpc = Rpc(ws)
                assert "result" in await rpc.call("initialize", INITIALIZE)
                await ws.send_message(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
                for _ in range(calls):
                    sent = time.perf_counter()
                    reply = await rpc.call("tools/call", {"name": "scripts_list", "arguments": {}})
                    round_trips.append(time.perf_counter() - sent)
                    if "result" not in reply:
                        errors.append(json.dumps(reply)[:200])
            sessions.append(time.perf_counter() - began)
        except Exception as exc:  # a benchmark counts failures rather than stopping at the first
            errors.append(repr(exc)[:200])

    async with trio.open_nursery() as nursery:
        for _ in range(count):
            nursery.start_soon(client)
    return {
        "clients": count,
        "calls_each": calls,
        "session": summary(sessions) if sessions else {},
        "tools_call": summary(round_trips) if round_trips else {},
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000, help="round trips per idle measurement")
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines the flood writes")
    parser.add_argument("--startup-runs", type=int, default=5)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--clients", type=int, default=0, help="only measure N concurrent WebSocket clients")
    parser.add_argument("--calls", type=int, default=5, help="tools/call per client with --clients")
    args = parser.parse_args()
    if args.clients:
        print(json.dumps(many_clients(args.clients, args.calls), indent=2))
        return
    report = trio.run(measure, args.rounds, args.lines)
    idle, flood = report["idle"], report["flood"]
    ratio = idle["tools_call"]["median_ms"] / idle["echo"]["median_ms"]
    report["verdict"] = {
        "idle_ratio_median": round(ratio, 2),
        "idle_goal_3x": ratio <= 3,
        "flood_p99_goal_50ms": flood["tools_call"]["p99_ms"] <= 50,
    }
    if not args.skip_startup:
        report["startup"] = startup(args.startup_runs)
    report["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
