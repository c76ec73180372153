"""``brummer up``: the nursery tree.

::

    root nursery (core.open_core)   infrastructure: lives until the very end
    ├── reaper                      reaps orphaned descendants (brummer is their subreaper)
    ├── log store                   finishes quiet multi-line error groups
    ├── signals                     core.Shutdown: 1st SIGINT/SIGTERM/SIGHUP stops all, a 2nd skips the grace
    └── services nursery            isolated: caught, reported, restarted
        ├── printer or panel
        ├── proxy                   one listener per dev server URL, once the first child is spawned
        ├── MCP server              once the first child's start-up output pauses
        └── supervisor nursery      cancelled first on shutdown
            └── one task per process, started in dependency order

Before any of it, the project's lock in the instance registry (``brummer.registry.claim``): a second ``brummer up``
of the same project stops there, having started nothing. The lock and the registry entry go only after everything
has stopped.

Shutdown: cancel the supervisor nursery (each process stops after its dependents), then close the bus so
subscribers drain and end, then let the guardian go, then cancel what is left.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import os
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import trio

from brummer import registry
from brummer.bus import Bus, Subscription
from brummer.config.spec import ProjectSpec
from brummer.core import Shutdown, open_core
from brummer.logs.store import LogStore
from brummer.runtime import Runtime
from brummer.services import Service, run_isolated
from brummer.supervise.supervisor import Supervisor, serve_supervisor
from brummer.ui.output import Output
from brummer.ui.plain import serve_plain

if TYPE_CHECKING:
    from brummer.browser.telemetry import Telemetry
    from brummer.proxy.service import Proxy

SERVICE_DRAIN = 2.0  # after the processes are gone, how long subscribers may take to print the last events
FIRST_SPAWN_WAIT = 5.0  # start the MCP server after the first child's spawn, or after this long anyway
QUIET, QUIET_AT_MOST = 0.3, 3.0  # ... and once the logs paused for QUIET seconds (or QUIET_AT_MOST passed)


async def run_up(
    project: ProjectSpec,
    names: Sequence[str],
    *,
    output: Output | None = None,
    panel: bool = False,
) -> int:
    """Run ``names`` (already resolved, dependencies included) in the foreground; return the exit code.

    ``AlreadyRunningError`` (exit 2) if another brummer runs the project: then nothing has been started.
    """
    output = output or Output()
    bus = Bus()
    ui_sub = bus.subscribe("panel" if panel else "plain")  # before anything happens, so nothing is missed
    proxy: Proxy | None = None
    claim = registry.claim(project.root, registry.Kind.UP, mcp=project.settings.mcp, tty=_tty(output), panel=panel)
    # The lock before anything starts, released after everything has stopped; the proxy's sockets closed before it.
    with await claim as registration, contextlib.ExitStack() as cleanup:
        async with open_core(project, bus, lock_fd=registration.lock_fd) as core, trio.open_nursery() as services:
            store, shutdown = core.store, core.shutdown
            async with trio.open_nursery() as processes:
                supervisor: Supervisor = await processes.start(
                    serve_supervisor, project, names, store, bus, core.spawner, core.guardian, shutdown.force
                )
                runtime = Runtime(project, supervisor, store, bus, request_shutdown=shutdown.request)
                runtime.proxy, runtime.telemetry = _proxy(project, bus, store)
                proxy = runtime.proxy
                store.note(f"brummer {runtime.version} in {project.root}: {', '.join(names)} (Ctrl-C stops all)")
                ui = _ui(runtime, ui_sub, output, panel)
                await services.start(run_isolated, "panel" if panel else "plain", ui, store)
                mcp_starter = trio.CancelScope()  # cancelled at shutdown: never wait for a late start
                proxy_starter = trio.CancelScope()  # the proxy itself runs in it: cancelled at shutdown
                if proxy is not None:
                    cleanup.callback(proxy.close)
                    services.start_soon(_start_proxy, runtime, proxy, proxy_starter)
                services.start_soon(_start_mcp, runtime, services, mcp_starter, registration)
                ending: list[str] = []  # why brummer up exits on its own, if it does
                async with trio.open_nursery() as waiting:
                    waiting.start_soon(_cancel_after, shutdown.requested.wait, waiting.cancel_scope)
                    waiting.start_soon(_end_when_finished, supervisor, store, ending, waiting.cancel_scope)
                    waiting.start_soon(_stop_when_gone, output, shutdown, store)
                processes.cancel_scope.cancel(reason="shutdown")
            mcp_starter.cancel()
            proxy_starter.cancel()
            _report_drops(bus, store)
            bus.close()
            services.cancel_scope.deadline = trio.current_time() + SERVICE_DRAIN
        if panel and ending:  # the panel showed it only for a moment: the last line, under its summary
            await output.write(f"brummer » {ending[0]}\n")
    return shutdown.exit_code(supervisor.outcome())


def _tty(output: Output) -> str | None:
    """The terminal brummer up shows itself on (named to a second brummer up), if any."""
    with contextlib.suppress(OSError):
        return os.ttyname(output.fd) if output.isatty else None
    return None


def _ui(runtime: Runtime, sub: Subscription, output: Output, panel: bool) -> Service:
    if panel:
        from brummer.ui.panel import serve_panel

        return functools.partial(serve_panel, runtime, sub, output)
    return functools.partial(serve_plain, sub, output, list(runtime.project.processes), proxy_url=runtime.proxy_url)


def _proxy(project: ProjectSpec, bus: Bus, store: LogStore) -> tuple[Proxy, Telemetry] | tuple[None, None]:
    """The proxy's state (targets, rings) and its browser telemetry, made before the printer starts so that the first
    URL line can show its proxy URL; its service (httptools, the relay) starts later, with ``_start_proxy``."""
    if not project.settings.proxy:
        return None, None
    from brummer.browser.install import install
    from brummer.proxy.service import Proxy

    proxy = Proxy(project, bus, store)
    return proxy, install(proxy, project, store)  # the browser telemetry: /__brummer__/, the script in pages


async def _start_proxy(runtime: Runtime, proxy: Proxy, scope: trio.CancelScope) -> None:
    """The proxy's listeners, once the first child is spawned (their sockets are bound already, when a target is
    first asked about: a browser quicker than this waits in the listen backlog). It runs inside ``scope``, which
    shutdown cancels once the processes are gone: the proxy has no end of its own (it is no bus subscriber)."""
    with scope:
        with trio.move_on_after(FIRST_SPAWN_WAIT):
            await runtime.supervisor.first_spawn.wait()
        from brummer.proxy.service import serve_proxy

        service = functools.partial(serve_proxy, runtime, proxy)
        async with trio.open_nursery() as nursery:
            try:
                await nursery.start(run_isolated, "proxy", service, runtime.store)
            except Exception as exc:
                runtime.store.note(f"proxy not started: {exc}", level="warn")


async def _start_mcp(
    runtime: Runtime, services: trio.Nursery, scope: trio.CancelScope, registration: registry.Registration
) -> None:
    """The MCP server, once the first child runs and its start-up output has calmed down.

    The SDK's import costs ~0.7 s of CPU. It runs in a worker thread, but it still holds the GIL half the time, so
    importing it in the middle of a dev server's start-up burst would slow brummer down exactly when the output
    is heaviest. A few seconds' delay matters little to an agent: ``brummer mcp`` finds the registry entry in state
    ``starting`` and waits for it. Whatever happens here, the entry leaves that state when this returns.
    """
    if not runtime.project.settings.mcp:
        return
    with scope, _settled(registration):
        with trio.move_on_after(FIRST_SPAWN_WAIT):
            await runtime.supervisor.first_spawn.wait()
        with trio.move_on_after(QUIET_AT_MOST):
            await runtime.store.wait_beyond(runtime.store.last_seq)  # the first output...
            await runtime.store.wait_quiet(QUIET, at_most=QUIET_AT_MOST)  # ...and then a pause in it
        try:
            # abandon_on_cancel: a shutdown must not wait for an import that is still going on
            module = await trio.to_thread.run_sync(
                importlib.import_module, "brummer.mcp.server", abandon_on_cancel=True
            )
            # The SDK's ~100k objects live as long as brummer: out of the collector's sight, a full collection
            # (which a big MCP answer can trigger) no longer walks them: 150 ms on the loop, measured.
            gc.freeze()
            service = functools.partial(module.serve_mcp, runtime, registration=registration)
            urls = await services.start(run_isolated, "mcp", service, runtime.store)
        except Exception as exc:  # no port, say: the processes run on; agents just cannot connect
            runtime.store.note(f"MCP server not started: {exc}", level="warn")
            return
        runtime.store.note(f"MCP on {urls.ws} and {urls.http} (token in {registration.path})")


@contextlib.contextmanager
def _settled(registration: registry.Registration) -> Iterator[None]:
    try:
        yield
    finally:
        registration.mcp_settled()


async def _stop_when_gone(output: Output, shutdown: Shutdown, store: LogStore) -> None:
    """Whoever read our output is gone (``brummer up | grep -m1 ready``): stop everything, exit 141 quietly."""
    await output.gone.wait()
    store.note("stdout went away: stopping every process", level="warn")
    shutdown.request(signal.SIGPIPE)


async def _end_when_finished(
    supervisor: Supervisor, store: LogStore, ending: list[str], scope: trio.CancelScope
) -> None:
    """Every process ended on its own and nobody asked for anything: brummer up exits, and says so in one line."""
    await supervisor.wait_idle()
    failed = supervisor.unsuccessful()
    why = f" ({', '.join(failed)} failed)" if failed else ""
    ending.append(f"every process has ended{why}: exiting with {supervisor.outcome()}")
    store.note(ending[0], level="warn" if failed else "info")
    scope.cancel()


async def _cancel_after(fn: Callable[[], Awaitable[object]], scope: trio.CancelScope) -> None:
    await fn()
    scope.cancel()


def _report_drops(bus: Bus, store: LogStore) -> None:
    for name, drops in bus.drop_counts().items():
        if drops.total:
            kinds = ", ".join(f"{kind} {count:,}" for kind, count in drops.events.most_common())
            store.note(f"subscriber {name} missed {kinds} events ({drops.lines:,} log lines)", level="warn")
