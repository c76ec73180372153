"""An idle brummer sleeps: with one child that prints nothing, no task of brummer's wakes up (issue 9: wake on
events, not timers). The tree is ``brummer up``'s without the registry lock and signals: core (guardian, reaper,
log store task), the supervisor, the plain printer and the MCP server with its resource watcher."""

from __future__ import annotations

import functools
import os
from collections import Counter
from pathlib import Path

import trio

from brummer.bus import Bus
from brummer.core import open_core
from brummer.mcp.server import serve_mcp
from brummer.runtime import Runtime
from brummer.supervise.state import ProcState
from brummer.supervise.supervisor import serve_supervisor
from brummer.ui.output import Output
from brummer.ui.plain import serve_plain
from helpers import PY, load, running, write_project

IDLE_FOR = 3.0  # seconds: the log store's old timer woke 10 times in it, the reaper's and the MCP watcher's 3


class TaskSteps(trio.abc.Instrument):
    """How often each task ran while ``counting``."""

    def __init__(self) -> None:
        self.counting = False
        self.steps: Counter[str] = Counter()

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if self.counting:
            self.steps[task.name] += 1


async def test_an_idle_brummer_makes_no_wake_ups(tmp_path: Path) -> None:
    project = load(write_project(tmp_path, Procfile="sleeper: sleep 300\n"))
    bus = Bus()
    printer = bus.subscribe("plain")
    steps = TaskSteps()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        with trio.fail_after(60):
            async with open_core(project, bus) as core, trio.open_nursery() as services:
                async with trio.open_nursery() as processes:
                    start = functools.partial(serve_supervisor, project, ["sleeper"], core.store, bus, core.spawner)
                    supervisor = await processes.start(start, core.guardian)
                    runtime = Runtime(project, supervisor, core.store, bus)
                    await services.start(serve_plain, printer, Output(devnull), ["sleeper"])
                    await services.start(functools.partial(serve_mcp, runtime, port=0))
                    while supervisor.info("sleeper").state is not ProcState.RUNNING:
                        await supervisor.wait_changed()
                    await trio.sleep(0.5)  # the printer and the resource watcher catch up with the start
                    trio.lowlevel.add_instrument(steps)
                    steps.counting = True
                    await trio.sleep(IDLE_FOR)
                    steps.counting = False
                    trio.lowlevel.remove_instrument(steps)
                    processes.cancel_scope.cancel()
                services.cancel_scope.cancel()
    finally:
        os.close(devnull)
    me = trio.lowlevel.current_task().name
    woke = {name: count for name, count in steps.steps.items() if name != me}
    assert woke == {}


async def test_a_stop_waits_out_the_grace_without_polling(tmp_path: Path) -> None:
    """While a child ignores its stop signal, the stopping task sleeps on the child's pidfd and the force event."""
    ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)"
    project = load(write_project(tmp_path, Procfile=f"stubborn: {PY} -c '{ignore}'\n"), grace=2.5)
    steps = TaskSteps()
    async with running(project) as r:
        await r.wait_for(lambda: r.text("stubborn") == ["1"])
        with trio.fail_after(30):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(r.sup.stop, "stubborn")
                await r.wait_state("stubborn", ProcState.STOPPING)
                await trio.sleep(0.5)
                trio.lowlevel.add_instrument(steps)
                steps.counting = True
                await trio.sleep(1.0)  # within the grace
                steps.counting = False
                trio.lowlevel.remove_instrument(steps)
        info = r.sup.info("stubborn")
        assert (info.state, info.message) == (ProcState.EXITED, "stopped (SIGKILL after 2.5s)")
    me = trio.lowlevel.current_task().name
    assert {name: count for name, count in steps.steps.items() if name != me} == {}
