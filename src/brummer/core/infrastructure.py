"""The infrastructure under every supervisor: ``open_core`` builds it, in order, and takes it down in reverse.

``brummer up``, a headless ``brummer mcp`` and ``brummer smoke`` all stand on it:

    bus, log store, spawner      objects (no tasks); the spawner marks brummer a child subreaper
    signal receiver              opened before anything starts (``shutdown.py``: what a signal does)
    guardian                     spawned first: cleans up if brummer is SIGKILLed
    root nursery                 the reaper, the log store's task and the signal watcher; the caller's own
                                 nurseries nest inside

The caller waits for ``core.shutdown.requested`` (among whatever else ends its run), cancels its supervisor (made
with ``force=core.shutdown.force``) and returns ``core.shutdown.exit_code(...)``. On exit: the bus closes
(subscribers drain and end), the guardian is told that every run is gone, then the root nursery is cancelled. The
caller cancels its supervisor *before* leaving, so that really is true.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import trio

from brummer.bus import Bus
from brummer.config.spec import ProjectSpec
from brummer.core.shutdown import SIGNALS, Shutdown, watch_signals
from brummer.logs.store import LogStore, serve_log_store
from brummer.supervise.reaper import serve_reaper
from brummer.supervise.spawn import Spawner, make_subreaper
from brummer.supervise.watchdog import Guardian


@dataclass
class Core:
    bus: Bus
    store: LogStore
    spawner: Spawner
    guardian: Guardian
    shutdown: Shutdown
    root: trio.Nursery  # for tasks that must live until the very end


@asynccontextmanager
async def open_core(project: ProjectSpec, bus: Bus | None = None, *, lock_fd: int | None = None) -> AsyncIterator[Core]:
    """``bus`` may be passed in so that a subscriber can subscribe before anything happens; the guardian inherits
    ``lock_fd``, the project lock's descriptor (``registry.Registration.lock_fd``)."""
    bus = bus or Bus()
    settings = project.settings
    store = LogStore(bus, max_lines=settings.log_max_lines, max_bytes=settings.log_max_bytes)
    spawner = Spawner()
    shutdown = Shutdown()
    make_subreaper()
    with trio.open_signal_receiver(*SIGNALS) as signals:
        async with trio.open_nursery() as root:
            guardian = await Guardian.start(spawner, lock_fd)
            await root.start(serve_reaper, spawner)
            await root.start(serve_log_store, store)
            root.start_soon(watch_signals, signals, shutdown, store)
            try:
                yield Core(bus, store, spawner, guardian, shutdown, root)
            finally:
                bus.close()
                with trio.CancelScope(shield=True):
                    await guardian.close()
                root.cancel_scope.cancel(reason="done")
