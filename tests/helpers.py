"""Shared test helpers: real projects on disk, a real supervisor over real child processes."""

from __future__ import annotations

import math
import os
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import trio

from brummer.bus import Bus, Subscription
from brummer.config import ProjectSpec, discover_project, select_processes
from brummer.config.settings import Overrides
from brummer.logs.kinds import Stream
from brummer.logs.query import Batch
from brummer.logs.store import LogStore, serve_log_store
from brummer.supervise.spawn import Spawner
from brummer.supervise.state import ProcState
from brummer.supervise.supervisor import Supervisor, serve_supervisor

PY = sys.executable


def write_project(root: Path, **files: str) -> Path:
    """Write files (``Procfile``, ``brummer_toml`` for brummer.toml, any other name) into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        filename = {"brummer_toml": "brummer.toml", "package_json": "package.json"}.get(name, name)
        (root / filename).write_text(textwrap.dedent(text).lstrip())
    return root


def append_lines(store: LogStore, process: str, stream: str, lines: list[str], run: int = 0) -> Batch | None:
    """``LogStore.append`` for a list of lines (``stream``: stdout or stderr), as a pipe reader's batch holds them."""
    return store.append(process, Stream(stream), "\n".join(lines), len(lines), run) if lines else None


def load(root: Path, **flags: Any) -> ProjectSpec:
    return discover_project(root, overrides=Overrides(**flags), environ={}, user_config=root / "no-user-config.toml")


@dataclass
class Running:
    sup: Supervisor
    store: LogStore
    bus: Bus
    spawner: Spawner
    events: Subscription  # subscribed before anything started, never drops

    def state(self, name: str) -> ProcState:
        return self.sup.info(name).state

    def text(self, name: str, stream: Stream | None = None) -> list[str]:
        """What ``name`` wrote (to ``stream``), without brummer's notes."""
        lines = self.store.tail(name, limit=100_000, stream=stream).lines
        return [line.text for line in lines if line.stream != Stream.BRUMMER]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 20) -> None:
        """Wait (bounded) until ``predicate()`` holds, re-checking on every state or log change."""
        with trio.fail_after(timeout):
            while not predicate():
                with trio.move_on_after(0.05):
                    await self.store.wait_changed()

    async def wait_state(self, name: str, *states: ProcState, timeout: float = 20) -> None:
        await self.wait_for(lambda: self.state(name) in states, timeout)


@asynccontextmanager
async def running(project: ProjectSpec, names: list[str] | None = None) -> AsyncIterator[Running]:
    """Run ``names`` (default: the project's default) under a real supervisor; stop everything on exit."""
    bus = Bus()
    store = LogStore(bus, max_lines=project.settings.log_max_lines, max_bytes=project.settings.log_max_bytes)
    spawner = Spawner()
    events = bus.subscribe("test", low=math.inf, medium=math.inf)
    selected = select_processes(project, names or [])
    async with trio.open_nursery() as nursery:
        await nursery.start(serve_log_store, store)
        async with trio.open_nursery() as procs:
            sup = await procs.start(serve_supervisor, project, selected, store, bus, spawner)
            try:
                yield Running(sup, store, bus, spawner, events)
            finally:
                procs.cancel_scope.cancel()
        nursery.cancel_scope.cancel()


T = TypeVar("T")


async def wait_until(condition: Callable[[], object], *, within: float = 30, every: float = 0.05) -> None:
    """Until ``condition()`` is true, looking every ``every`` seconds, for at most ``within``.

    For what no event announces to a test: a file a child writes, /proc, a process seen from outside. (What brummer
    announces, tests wait for on its events: ``Running.wait_for``, ``trio.Process.wait``, the bus.)"""
    with trio.fail_after(within):
        while not condition():  # noqa: ASYNC110 (nothing to wait on: see above)
            await trio.sleep(every)


async def poll(
    ask: Callable[[], Awaitable[T]], until: Callable[[T], object], *, within: float = 30, every: float = 0.05
) -> T:
    """``await ask()`` every ``every`` seconds until ``until(answer)`` holds (for at most ``within``); the answer.

    For asking a server (an MCP tool) until it says what the test waits for, where it has no way to tell."""
    with trio.fail_after(within):
        while not until(answer := await ask()):  # noqa: ASYNC110 (see above)
            await trio.sleep(every)
    return answer


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


SERVE = """
import argparse, socket, sys, time
ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--url-host", default="localhost")
ap.add_argument("--print-first", action="store_true")  # print the URL, then bind (Django, many CLIs)
ap.add_argument("--delay", type=float, default=0.0)  # before binding
ap.add_argument("--port-file")
ap.add_argument("--prefix", default="Local: ")
args = ap.parse_args()
def say(port):
    print(f"{args.prefix}http://{args.url_host}:{port}/", flush=True)
if args.print_first:
    say(args.port)
time.sleep(args.delay)
s = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
s.bind((args.host, args.port))
s.listen()
port = s.getsockname()[1]
if args.port_file:
    open(args.port_file + ".tmp", "w").write(str(port))
    import os; os.rename(args.port_file + ".tmp", args.port_file)
if not args.print_first:
    say(port)
while True:
    time.sleep(60)
"""


def serve_script(directory: Path) -> str:
    """A tiny server that listens (port 0 unless ``--port``) and prints its URL; returns the command to run it."""
    path = directory / "serve.py"
    path.write_text(SERVE)
    return f"{PY} -u {path}"


def free_port() -> int:
    """A port nothing listens on right now (bind to 0, read it, close)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
