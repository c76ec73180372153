"""``brummer mcp`` without a ``brummer up``: the project's supervisor, headless, served over stdio.

The same nursery tree as ``brummer up`` minus the printer and the network: guardian, reaper, log store, and a
supervisor with no process activated. The agent starts what it needs (``scripts_run``); when stdin closes, or a
signal comes (``core.Shutdown``, as for ``brummer up``: a second one skips grace periods), the supervisor nursery is
cancelled first (every process stops after its dependents, as on Ctrl-C), then the rest.

It registers in the instance registry (kind ``headless``) from the start, but takes the project's lock only when
the agent first starts a process (``Supervisor.admit``): an idle agent session does not keep a ``brummer up`` out.
Once it holds the lock a ``brummer up`` of the project exits 2 naming it; while a ``brummer up`` holds it, starting
a process here is a tool error that says to restart ``brummer mcp`` (which then relays to that ``brummer up``).
"""

from __future__ import annotations

import contextlib
import functools
import gc

import trio

from brummer import registry
from brummer.config import ProjectSpec
from brummer.core import open_core
from brummer.errors import AlreadyRunningError, ProcessControlError
from brummer.mcp.adapter import Subscribers, build_server
from brummer.mcp.bridge import serve_messages
from brummer.mcp.notes import foreign_logs_to_notes
from brummer.mcp.resources import watch_resources
from brummer.mcp.stdio_lines import Lines, claim_stdio
from brummer.runtime import Runtime
from brummer.supervise.supervisor import serve_supervisor


async def serve_headless(project: ProjectSpec) -> int:
    """Serve until stdin closes (exit 0) or a signal comes (128 + its number)."""
    gc.freeze()  # the SDK is imported: see app._start_mcp
    with registry.register(project.root, registry.Kind.HEADLESS) as me:
        async with open_core(project) as core:
            shutdown = core.shutdown
            with foreign_logs_to_notes(core.store):
                async with trio.open_nursery() as processes:
                    supervisor = await processes.start(
                        serve_supervisor, project, [], core.store, core.bus, core.spawner, core.guardian, shutdown.force
                    )
                    supervisor.admit = functools.partial(_take_lock, me)
                    runtime = Runtime(project, supervisor, core.store, core.bus, request_shutdown=shutdown.request)
                    async with trio.open_nursery() as serving:
                        serving.start_soon(_serve_stdio, runtime)
                        await shutdown.requested.wait()
                        serving.cancel_scope.cancel()
                    processes.cancel_scope.cancel(reason="the agent is gone")
    return shutdown.exit_code(0)


def _take_lock(registration: registry.Registration) -> None:
    """Before the agent's first process starts: become the brummer that runs the project, or refuse."""
    try:
        registration.take_lock()
    except AlreadyRunningError as exc:
        holder = exc.holder
        who = holder.describe() if isinstance(holder, registry.Entry) else "another brummer"
        hint = (
            "restart brummer mcp to relay to it"
            if isinstance(holder, registry.Entry) and holder.kind is registry.Kind.UP
            else "only one brummer runs a project's processes"
        )
        raise ProcessControlError(
            f"{who} runs {exc.project}, so this brummer mcp cannot start processes; {hint}"
        ) from None


async def _serve_stdio(runtime: Runtime) -> None:
    subscribers = Subscribers()
    server = build_server(runtime, subscribers)
    with runtime.bus.subscribe("mcp") as events, claim_stdio() as (stdin, stdout):
        lines = Lines(stdin)

        async def send(text: str) -> None:
            with contextlib.suppress(trio.BrokenResourceError):  # the agent closed our stdout; its EOF follows
                await stdout.send_all(text.encode() + b"\n")

        async with trio.open_nursery() as nursery:
            await nursery.start(subscribers.serve)
            nursery.start_soon(watch_resources, runtime, events, subscribers.changed)
            await serve_messages(server, lines.next, send)  # a bad message gets an error; only EOF ends this
            nursery.cancel_scope.cancel()
    runtime.request_shutdown(0)  # stdin closed: the agent is gone
