"""``brummer mcp`` without a ``brummer up``: the project's supervisor, headless, served over stdio.

The same nursery tree as ``brummer up`` minus the printer and the network: guardian, reaper, log store, and a
supervisor with no process activated. The agent starts what it needs (``scripts_run``); when stdin closes, or a
signal comes, the supervisor nursery is cancelled first (every process stops after its dependents, as on Ctrl-C),
then the rest.
"""

from __future__ import annotations

import contextlib
import gc
import signal
from collections.abc import AsyncIterator

import trio

from brummer.config import ProjectSpec
from brummer.core import open_core
from brummer.mcp.adapter import Subscribers, build_server
from brummer.mcp.bridge import serve_messages
from brummer.mcp.notes import foreign_logs_to_notes
from brummer.mcp.resources import watch_resources
from brummer.mcp.stdio import Lines, claim_stdio
from brummer.runtime import Runtime
from brummer.supervise.supervisor import serve_supervisor

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Stop:
    """Why serving ends: the agent closed stdin (0), or a signal (its number decides the exit code)."""

    def __init__(self) -> None:
        self.requested = trio.Event()
        self.signum = 0

    def request(self, signum: int) -> None:
        if signum and not self.requested.is_set():
            self.signum = signum
        self.requested.set()


async def serve_headless(project: ProjectSpec) -> int:
    """Serve until stdin closes (exit 0) or a signal comes (128 + its number)."""
    gc.freeze()  # the SDK is imported: see app._start_mcp
    stop = _Stop()
    with trio.open_signal_receiver(*SIGNALS) as signals:
        async with open_core(project) as core:
            with foreign_logs_to_notes(core.store):
                async with trio.open_nursery() as processes:
                    supervisor = await processes.start(
                        serve_supervisor, project, [], core.store, core.bus, core.spawner, core.guardian
                    )
                    runtime = Runtime(
                        project, supervisor, core.store, core.bus, request_shutdown=stop.request, headless=True
                    )
                    async with trio.open_nursery() as serving:
                        serving.start_soon(_serve_stdio, runtime)
                        serving.start_soon(_until_signal, signals, stop)
                        await stop.requested.wait()
                        serving.cancel_scope.cancel()
                    processes.cancel_scope.cancel(reason="the agent is gone")
    return 128 + stop.signum if stop.signum else 0


async def _serve_stdio(runtime: Runtime) -> None:
    subscribers = Subscribers()
    server = build_server(runtime, subscribers)
    with runtime.bus.subscribe("mcp") as events, claim_stdio() as (stdin, stdout):
        lines = Lines(stdin)

        async def send(text: str) -> None:
            with contextlib.suppress(trio.BrokenResourceError):  # the agent closed our stdout; its EOF follows
                await stdout.send_all(text.encode() + b"\n")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_resources, runtime, events, subscribers.changed)
            await serve_messages(server, lines.next, send)
            nursery.cancel_scope.cancel()
    runtime.request_shutdown(0)  # stdin closed: the agent is gone


async def _until_signal(signals: AsyncIterator[int], stop: _Stop) -> None:
    async for signum in signals:
        stop.request(signum)
        return
