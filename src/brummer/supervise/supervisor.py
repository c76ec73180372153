"""The supervisor: every known process, one controller each, in one nursery.

``serve_supervisor`` is the service: it activates the selected processes (dependencies first), reports the
``Supervisor`` through ``task_status`` and runs until cancelled. Cancelling it is the shutdown: every process task
stops its run, each one waiting for its dependents first, so processes stop in reverse dependency order.

The ``Supervisor`` is also the control surface for the CLI, the panel and MCP: ``start``/``stop``/``restart`` by
name (idempotent, known names only), and the one way to read a process: ``snapshot()`` / ``info(name)``, immutable
``ProcessInfo``s (``names()`` and ``knows(name)`` for the names alone). Its controllers are its own: it hands each
one a ``ProcessContext`` rather than itself.

``start`` and ``restart`` answer once the new run is spawned (or waits for its dependencies, or failed), with its
pid and state, never with the state from before; they do not wait for readiness (``wait_for`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import trio

from brummer.bus import Bus
from brummer.config.spec import ProcessSpec, ProjectSpec
from brummer.errors import ProcessControlError
from brummer.logs.store import LogStore
from brummer.supervise.context import ProcessContext
from brummer.supervise.process import ProcessController
from brummer.supervise.spawn import Spawner
from brummer.supervise.state import ProcessInfo, ProcState
from brummer.supervise.watchdog import Guardian

SETTLE_WAIT = 5.0  # how long start/restart wait for the spawn before answering anyway (state: starting)


class Supervisor:
    def __init__(
        self,
        project: ProjectSpec,
        store: LogStore,
        bus: Bus,
        spawner: Spawner,
        guardian: Guardian | None = None,
        force: trio.Event | None = None,
    ) -> None:
        self.project = project
        self.store = store
        self.bus = bus
        self.spawner = spawner
        self.guardian = guardian
        self.force = force if force is not None else trio.Event()  # a second Ctrl-C: skip grace periods
        self.first_spawn = trio.Event()
        # Called before any process is activated; raises ProcessControlError to refuse (a headless brummer mcp
        # takes the project's lock there, and refuses while a brummer up holds it).
        self.admit: Callable[[], None] | None = None
        self._nursery: trio.Nursery | None = None
        self._requested = False  # something was started, stopped or restarted on request: see finished()
        self._dependents: dict[str, list[str]] = {name: [] for name in project.processes}
        for name, spec in project.processes.items():
            for dep in spec.depends_on:
                self._dependents[dep].append(name)
        self._controllers: dict[str, ProcessController] = {}
        self._context = ProcessContext(
            store, bus, spawner, guardian, self.force, self.first_spawn, self._controllers, self._dependents
        )
        for name, spec in project.processes.items():
            self._controllers[name] = ProcessController(spec, self._context)

    # -- control surface -----------------------------------------------------------------------------------

    def _controller(self, name: str) -> ProcessController:
        try:
            return self._controllers[name]
        except KeyError:
            known = ", ".join(self._controllers) or "none"
            raise ProcessControlError(f"unknown process {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """Every process of the project, in discovery order."""
        return list(self._controllers)

    def knows(self, name: str) -> bool:
        return name in self._controllers

    def changed(self) -> None:
        self._context.changes.notify()

    async def wait_changed(self) -> None:
        """Return after the next change of any process (state, activity)."""
        await self._context.changes.wait()

    def activate(self, names: Sequence[str]) -> list[str]:
        """Start the loop of each name (and of its dependencies) that is not active; returns those started."""
        nursery = self._nursery
        if nursery is None:
            raise ProcessControlError("the supervisor is not running")
        if self.admit is not None:
            self.admit()
        started: list[str] = []

        def visit(name: str) -> None:
            ctrl = self._controller(name)
            if ctrl.active:
                return
            for dep in ctrl.spec.depends_on:
                visit(dep)
            if ctrl.activate(nursery):
                started.append(name)

        for name in names:
            visit(name)
        self.changed()
        return started

    def define(self, spec: ProcessSpec) -> None:
        """Add a process the project's files do not name, or replace one that is not active: ``brummer smoke``
        runs its checks, one after another, as one more process. Its ``depends_on`` also orders the shutdown: a
        check depends on what it tests, so that stops only after the check."""
        old = self._controllers.get(spec.name)
        if old is not None and old.active:
            raise ProcessControlError(f"{spec.name} is running: it cannot be redefined now")
        unknown = [dep for dep in spec.depends_on if dep not in self._controllers or dep == spec.name]
        if unknown:
            raise ProcessControlError(f"{spec.name} depends on unknown processes: {', '.join(unknown)}")
        for dependents in self._dependents.values():
            if spec.name in dependents:
                dependents.remove(spec.name)
        self._controllers[spec.name] = ProcessController(spec, self._context)
        self._dependents.setdefault(spec.name, [])
        for dep in spec.depends_on:
            self._dependents[dep].append(spec.name)
        self.changed()

    async def start(self, name: str) -> tuple[bool, ProcessInfo]:
        """Start ``name`` (with its dependencies) unless it is active; (whether it started, its state once the new
        run was spawned: see ``ProcessController.settled``)."""
        ctrl = self._controller(name)
        self._requested = True
        started = name in self.activate([name])
        await self._settle(ctrl)
        return started, ctrl.info()

    @staticmethod
    async def _settle(ctrl: ProcessController) -> None:
        with trio.move_on_after(SETTLE_WAIT):
            await ctrl.settled()

    async def stop(self, name: str) -> tuple[bool, ProcessInfo]:
        """Stop ``name`` gracefully and wait until its run is gone; (whether it was active, its state)."""
        ctrl = self._controller(name)
        self._requested = True
        if not ctrl.active:
            await trio.lowlevel.checkpoint()
            return False, ctrl.info()
        ctrl.request_stop()
        await ctrl.loop_done.wait()
        return True, ctrl.info()

    async def restart(self, name: str) -> ProcessInfo:
        """Stop ``name`` if it runs, start it again (a new budget of automatic restarts), and answer once the new
        run is spawned."""
        ctrl = self._controller(name)
        await self.stop(name)
        if name in self.activate([name]):
            ctrl.count_restart()
        await self._settle(ctrl)
        return ctrl.info()

    def info(self, name: str) -> ProcessInfo:
        return self._controller(name).info()

    def snapshot(self) -> list[ProcessInfo]:
        return [ctrl.info() for ctrl in self._controllers.values()]

    @property
    def idle(self) -> bool:
        """No process is active (none asked to run is waiting, running or backing off)."""
        return not any(ctrl.active for ctrl in self._controllers.values())

    def finished(self) -> bool:
        """Nothing is active, every process that ran last ended on its own, and nothing was ever started, stopped
        or restarted on request. Once someone (the panel, an agent, a remote command) did, brummer up stays up for
        the next request, even when every process has ended since: a restart that failed must not take the agent's
        MCP server away."""
        ran = [c for c in self._controllers.values() if c.runs_started or c.state is ProcState.FAILED]
        return not self._requested and self.idle and all(c.ended_on_own for c in ran)

    async def wait_idle(self) -> None:
        """Return once ``finished()``."""
        while not self.finished():
            await self.wait_changed()

    def unsuccessful(self) -> list[str]:
        """The processes that ran and did not succeed (failed, or stopped by a signal)."""
        ran = [c for c in self._controllers.values() if c.runs_ended or c.state is ProcState.FAILED]
        return [c.name for c in ran if not (c.state is ProcState.EXITED and not c.exit_signal and not c.exit_code)]

    def outcome(self) -> int:
        """0 if every process that ran succeeded, else 1."""
        return 1 if self.unsuccessful() else 0


async def serve_supervisor(
    project: ProjectSpec,
    names: Sequence[str],
    store: LogStore,
    bus: Bus,
    spawner: Spawner,
    guardian: Guardian | None = None,
    force: trio.Event | None = None,
    *,
    task_status: trio.TaskStatus[Supervisor] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``force`` is the shutdown's (``core.Shutdown.force``): once set, every grace period ends at once."""
    supervisor = Supervisor(project, store, bus, spawner, guardian, force)
    async with trio.open_nursery() as nursery:
        supervisor._nursery = nursery
        supervisor.activate(names)
        task_status.started(supervisor)
        await trio.sleep_forever()
