"""Benchmark how long brummer's reads hold the event loop, and how a running `brummer up` copes with hostile calls.

Part 1 (in process): a log store holding 64 KiB lines, 50,000 lines of 200 characters and lines built to make a
backtracking regex explode; each read runs under a Trio instrument that records the longest single task step (the
longest the loop was held). Goal: every step <= 50 ms, however long the whole read takes.

Part 2 (end to end): `brummer up` with a child writing ~500 KB/s (each line stamped with the time it was written)
and processes that printed the hostile input above. A second MCP client pings every 100 ms while the first calls
logs_tail over 64 KiB lines, logs_search with `(a+)+$` and `((a+)+)+$`, and a 10,000-line tail. Reported: the
longest ping round trip, the longest a written line waited to be read (the time brummer stored it minus the time
the child wrote it), and the child's longest blocked write(). Then SIGTERM: the exit code and how long it took.

Usage: python scripts/bench_loop.py [--skip-e2e]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "mcp"))

from helpers_mcp import structured, ws_transport

from brummer import registry
from brummer.bus import Bus
from brummer.config import discover_project
from brummer.logs.kinds import Stream
from brummer.logs.patterns import compile_pattern
from brummer.logs.query import classify
from brummer.logs.store import LogStore
from brummer.mcp import log_tools
from brummer.runtime import Runtime
from brummer.supervise.spawn import Spawner
from brummer.supervise.supervisor import serve_supervisor

HOSTILE = ["a" * n + "!" for n in range(20, 40)] * 500 + ["a" * 65_000 + "!"] * 20
FLOOD = """
import os, sys, time
stop, report = sys.argv[1], sys.argv[2]
worst, i = 0.0, 0
while not os.path.exists(stop):
    chunk = "".join(f"{time.time():.6f} flood line {i + k:08} " + "z" * 70 + "\\n" for k in range(50)).encode()
    i += 50
    began = time.monotonic()
    os.write(1, chunk)
    worst = max(worst, time.monotonic() - began)
    with open(report, "w") as f:
        f.write(f"{worst:.6f}")
    time.sleep(0.01)
"""
PRINT = "import sys\nfor line in open(sys.argv[1]): sys.stdout.write(line)\n"
PINGER = """
import json, os, sys, time, trio
from trio_websocket import open_websocket_url
url, token, stop, report = sys.argv[1:5]
HELLO = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "pinger", "version": "0"}}

async def main():
    headers = [(b"authorization", f"Bearer {token}".encode())]
    async with open_websocket_url(url, subprotocols=["mcp"], extra_headers=headers) as ws:
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": HELLO}))
        await ws.get_message()
        await ws.send_message(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        times, i = [], 0
        while not os.path.exists(stop):
            i += 1
            began = time.perf_counter()
            await ws.send_message(json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}))
            while json.loads(await ws.get_message()).get("id") != i:
                pass
            times.append(time.perf_counter() - began)
            with open(report, "w") as f:
                json.dump({"pings": len(times), "longest": max(times)}, f)
            await trio.sleep(0.1)

trio.run(main)
"""


class LongestStep(trio.abc.Instrument):
    """The longest a single task step held the loop: wall time (on a busy machine it includes time the process
    waited for a core) and CPU time (what the step itself cost)."""

    def __init__(self) -> None:
        self.began = self.began_cpu = 0.0
        self.longest = self.longest_cpu = 0.0

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.began, self.began_cpu = time.perf_counter(), time.thread_time()

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        self.longest = max(self.longest, time.perf_counter() - self.began)
        self.longest_cpu = max(self.longest_cpu, time.thread_time() - self.began_cpu)


async def measured(step: LongestStep, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await call()  # once to warm up (the level patterns compile on first use)
    step.longest = step.longest_cpu = 0.0
    began = time.perf_counter()
    await call()
    return {
        "wall_ms": round((time.perf_counter() - began) * 1e3, 1),
        "longest_step_ms": round(step.longest * 1e3, 1),
        "longest_step_cpu_ms": round(step.longest_cpu * 1e3, 1),
    }


def re2_costs() -> dict[str, list[float]]:
    block = ("GET /api/items?page=3 200 in 3ms - compiled client and server\n" * 5000)[: 256 * 1024]
    costs = {}
    for text in ("no such line", r"(?i)error|warn", "((a+)+)+$", r"[^a]{1000}y", r"\w{3}\d{2}x", r"\pL{9}Q"):
        times = []
        began = time.perf_counter()
        pattern = compile_pattern(text)
        times.append(time.perf_counter() - began)
        for _ in range(2):
            began = time.perf_counter()
            pattern.search(block)
            times.append(time.perf_counter() - began)
        costs[text] = [round(t * 1e3, 2) for t in times]
    return costs


async def in_process() -> dict[str, Any]:
    gc.freeze()  # as brummer does once the SDK is imported (app._start_mcp)
    step = LongestStep()
    trio.lowlevel.add_instrument(step)
    report: dict[str, Any] = {}
    classify("error")
    began = time.perf_counter()
    classify("x" * 32_000)
    report["classify 32,000 letters (ms)"] = round((time.perf_counter() - began) * 1e3, 3)
    report["RE2 on a 256 KiB block (ms: compile, first search, second search)"] = re2_costs()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = ("long", "many", "hostile")
        toml = "".join(f'[processes.{name}]\ncmd = "true"\nready = "none"\n' for name in names)
        (root / "brummer.toml").write_text(toml)
        project = discover_project(root, environ={}, user_config=root / "none.toml")
        bus = Bus()
        store = LogStore(bus, max_lines=50_000, max_bytes=32 * 1024 * 1024)
        for i in range(100):
            store.append("long", Stream.STDOUT, f"{i} " + "x" * 65_530, 1)
        for i in range(0, 50_000, 1000):
            many = "\n".join(f"{j:06} GET /api " + "y" * 185 for j in range(i, i + 1000))
            store.append("many", Stream.STDOUT, many, 1000)
        store.append("hostile", Stream.STDOUT, "\n".join(HOSTILE), len(HOSTILE))
        async with trio.open_nursery() as nursery:
            sup = await nursery.start(serve_supervisor, project, [], store, bus, Spawner())
            runtime = Runtime(project, sup, store, bus)
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "logs_tail long limit=5": lambda: log_tools.logs_tail(runtime, "long", limit=5),
                "logs_tail long limit=100 max_line_chars=66560": lambda: log_tools.logs_tail(
                    runtime, "long", limit=100, max_line_chars=66_560
                ),
                "logs_tail many limit=10000": lambda: log_tools.logs_tail(runtime, "many", limit=10_000),
                "logs_tail level=error (all 50,000 lines)": lambda: log_tools.logs_tail(runtime, "many", level="error"),
                "logs_search (a+)+$": lambda: log_tools.logs_search(runtime, "(a+)+$"),
                "logs_search ((a+)+)+$": lambda: log_tools.logs_search(runtime, "((a+)+)+$"),
                "logs_search (a|b)*a(a|b){200}c (DFA blow-up)": lambda: log_tools.logs_search(
                    runtime, "(a|b)*a(a|b){200}c"
                ),
                "logs_search no match (32 MiB)": lambda: log_tools.logs_search(runtime, "no such text"),
            }
            for label, call in calls.items():
                report[label] = await measured(step, call)
            nursery.cancel_scope.cancel()
    trio.lowlevel.remove_instrument(step)
    return report


async def end_to_end() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "flood.py").write_text(FLOOD)
        (root / "print.py").write_text(PRINT)
        (root / "pinger.py").write_text(PINGER)
        (root / "hostile.txt").write_text("\n".join(HOSTILE) + "\n")
        (root / "long.txt").write_text("".join(f"{i} " + "x" * 10_000_000 + "\n" for i in range(3)))
        (root / "many.txt").write_text("".join(f"{j:06} GET /api " + "y" * 185 + "\n" for j in range(12_000)))
        py = sys.executable
        toml = f'[processes.flood]\ncmd = ["{py}", "flood.py", "stop", "stall"]\nready = "none"\n'
        for name in ("hostile", "long", "many"):
            toml += f'[processes.{name}]\ncmd = ["{py}", "print.py", "{name}.txt"]\nready = "none"\n'
        toml += '[processes.idle]\ncmd = "sleep 300"\nready = "none"\n'  # brummer up lives while one does
        (root / "brummer.toml").write_text(toml)
        up = await trio.lowlevel.open_process(
            [py, "-m", "brummer", "up", "--plain", "--dir", str(root), "--mcp-port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            with trio.fail_after(60):
                while (found := registry.find_up(root)) is None or not found.connectable:  # noqa: ASYNC110
                    await trio.sleep(0.05)
            assert found.ws is not None and found.token is not None
            report: dict[str, Any] = {}
            await trio.sleep(2)  # let the prints finish and the flood run
            pinger = await trio.lowlevel.open_process(
                [py, "pinger.py", found.ws, found.token, "stop", "pings"], cwd=root
            )
            async with Client(ws_transport(found.ws, found.token)) as agent:
                with trio.fail_after(30):
                    while not (root / "pings").exists():  # noqa: ASYNC110 (the pinger writes it)
                        await trio.sleep(0.05)
                window = time.time()
                await trio.sleep(1)
                calls: list[tuple[str, dict[str, Any]]] = [
                    ("logs_tail", {"name": "long", "limit": 5}),
                    ("logs_tail", {"name": "long", "limit": 5, "max_line_chars": 66_560}),
                    ("logs_search", {"pattern": "(a+)+$"}),
                    ("logs_search", {"pattern": "((a+)+)+$"}),
                    ("logs_tail", {"name": "many", "limit": 10_000}),
                ]
                for name, arguments in calls:
                    began = time.perf_counter()
                    answer = structured(await agent.call_tool(name, arguments))
                    label = f"{name} {json.dumps(arguments)}"
                    report[label] = {
                        "wall_ms": round((time.perf_counter() - began) * 1e3, 1),
                        "count": answer["count"],
                        "truncated": answer["truncated"],
                    }
                await trio.sleep(1)
                (root / "stop").write_text("")
                late, since = 0.0, 0
                while True:
                    page = structured(
                        await agent.call_tool("logs_tail", {"name": "flood", "since": since, "limit": 10_000})
                    )
                    for line in page["lines"]:
                        if line["stream"] == "stdout" and (written := float(line["text"].split(" ", 1)[0])) > window:
                            late = max(late, line["time"] - written)
                    if not page["lines"]:
                        break
                    since = page["next"]
            with trio.fail_after(30):
                await pinger.wait()
            pings = json.loads((root / "pings").read_text())
            report["longest ping round trip (ms)"] = round(pings["longest"] * 1e3, 1)
            report["pings"] = pings["pings"]
            report["longest wait of a written line before brummer read it (ms)"] = round(late * 1e3, 1)
            report["child's longest blocked write() (ms)"] = round(float((root / "stall").read_text()) * 1e3, 1)
            began = time.perf_counter()
            os.kill(up.pid, signal.SIGTERM)
            with trio.fail_after(30):
                report["exit code after SIGTERM"] = await up.wait()
            report["SIGTERM to exit (ms)"] = round((time.perf_counter() - began) * 1e3, 1)
            return report
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
                await up.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-e2e", action="store_true")
    args = parser.parse_args()
    report = {"in process": trio.run(in_process)}
    if not args.skip_e2e:
        report["brummer up"] = trio.run(end_to_end)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
