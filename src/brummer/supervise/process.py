"""One process's life: wait for dependencies, spawn, read its pipes, check readiness, stop, restart.

A ``ProcessController`` owns one task (``run_loop``) while the process is active. Its runs are stopped two ways:

- a request (``request_stop``) cancels the scope that waits for the child's exit; the run then stops the child
  gracefully and the loop ends without a restart;
- cancellation of the supervisor (shutdown, or any crash above it) reaches the same wait; the shielded cleanup first
  waits until every *dependent* has stopped, which is what makes shutdown run in reverse dependency order.

Either way the cleanup signals the whole process group (and the run's marked escapees), gives it ``grace`` seconds,
SIGKILLs what is left, reaps, and drains the pipes so the last words of a dying server are kept.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

from brummer.bus import ProcessChanged
from brummer.config.spec import Condition, ProcessSpec, RestartPolicy
from brummer.errors import SpawnError
from brummer.supervise import readiness
from brummer.supervise.pipes import read_pipes
from brummer.supervise.port_watch import PortWatch
from brummer.supervise.state import ProcessInfo, ProcState, spawned_message
from brummer.supervise.tree import RunTree

if TYPE_CHECKING:
    from brummer.supervise.supervisor import Supervisor

KILL_WAIT = 2.0  # after SIGKILL, how long to wait for the group to disappear
DRAIN_WAIT = 1.0  # after the tree is gone, how long a pipe may stay open (held by an unknown escapee)
STABLE_RUN = 30.0  # a run this long resets the restart backoff


class ProcessController:
    def __init__(self, spec: ProcessSpec, supervisor: Supervisor) -> None:
        self.spec = spec
        self.sup = supervisor
        self.state = ProcState.PENDING
        self.pid: int | None = None
        self.run_id: str | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.exit_code: int | None = None
        self.exit_signal: int | None = None
        self.stopped = False
        self.restarts = 0
        self.ready = False
        self.message = ""
        self.runs_started = 0  # ever, in the life of this brummer
        self.runs_ended = 0
        # runs started and ended since the last activate(): what dependents' conditions look at
        self.started_now = 0
        self.ended_now = 0
        self.active = False
        self.ended_on_own = False  # the last activation ended without a stop request
        self.loop_done = trio.Event()
        self.loop_done.set()
        self._stop_requested = False
        self._stop_how = ""
        self._loop_scope: trio.CancelScope | None = None
        self._wait_scope: trio.CancelScope | None = None
        self._ports: PortWatch | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    # -- state -------------------------------------------------------------------------------------------------

    def info(self) -> ProcessInfo:
        return ProcessInfo(
            name=self.name,
            state=self.state,
            command=self.spec.display_command,
            source=self.spec.source,
            pid=self.pid if self.state.alive else None,
            run_id=self.run_id,
            started_at=self.started_at,
            ended_at=self.ended_at,
            exit_code=self.exit_code,
            exit_signal=self.exit_signal,
            stopped=self.stopped,
            restarts=self.restarts,
            ready=self.ready,
            message=self.message,
            urls=tuple(self.sup.store.urls(self.name).get(self.name, ())),
        )

    def _set(self, state: ProcState, message: str = "") -> None:
        previous = self.state
        self.state = state
        self.message = message
        self.ready = state is ProcState.READY
        text = f"{state}" + (f": {message}" if message else "")
        self.sup.store.note(text, self.name, publish=False)
        self.sup.bus.publish(ProcessChanged(self.info(), str(previous)))
        self.sup.changed()

    def satisfies(self, condition: Condition) -> bool:
        """Whether this process meets ``condition`` for a dependent. Runs count from its latest activation: when
        a dependency is started again with its dependent, its earlier runs do not let the dependent through."""
        started, ended = self.started_now, self.ended_now
        if condition is Condition.STARTED:
            return started > 0
        if condition is Condition.READY:
            return self.state is ProcState.READY
        if condition is Condition.COMPLETED:
            return ended > 0 and not self.state.alive
        return ended > 0 and not self.state.alive and self.exit_code == 0 and not self.exit_signal

    def hopeless(self, condition: Condition) -> bool:
        """The condition can no longer come true: this process ended on its own without meeting it."""
        return not self.active and self.ended_on_own and not self.satisfies(condition)

    # -- control -----------------------------------------------------------------------------------------------

    def activate(self, nursery: trio.Nursery) -> bool:
        """Start the loop task unless it is running; returns whether it started one."""
        if self.active:
            return False
        self.active = True
        self._stop_requested = False
        self.started_now = self.ended_now = 0
        self.loop_done = trio.Event()
        nursery.start_soon(self.run_loop, name=f"process:{self.name}")
        return True

    def request_stop(self) -> None:
        self._stop_requested = True
        if self._wait_scope is not None:
            self._wait_scope.cancel(reason="stop requested")  # a run is up: stop it gracefully
        elif self._loop_scope is not None:
            self._loop_scope.cancel(reason="stop requested")  # waiting for dependencies or backing off

    async def run_loop(self) -> None:
        on_own = False
        try:
            with trio.CancelScope() as self._loop_scope:
                if not self._stop_requested:
                    await self._lifecycle()
                    on_own = not self._stop_requested
        finally:
            self._loop_scope = None
            if self.state in (ProcState.PENDING, ProcState.BACKING_OFF):
                self.stopped = True
                self._set(ProcState.EXITED, "stopped before it started" if not self.runs_started else "stopped")
            self.ended_on_own = on_own
            self.active = False
            self.loop_done.set()
            self.sup.changed()

    async def _lifecycle(self) -> None:
        step = 0
        while True:
            if not await self._wait_dependencies():
                return
            began = trio.current_time()
            failed = await self._run_once()
            if self._stop_requested or not self._restart_wanted(failed):
                return
            step = 0 if trio.current_time() - began >= STABLE_RUN else step
            delay = min(self.spec.backoff_initial * 2**step, self.spec.backoff_max)
            step += 1
            self._set(ProcState.BACKING_OFF, f"restart {self.restarts + 1} in {delay:g}s")
            await trio.sleep(delay)
            self.restarts += 1

    def _restart_wanted(self, failed: bool) -> bool:
        policy = self.spec.restart
        if policy is RestartPolicy.NO or (policy is RestartPolicy.ON_FAILURE and not failed):
            return False
        return self.spec.max_restarts is None or self.restarts < self.spec.max_restarts

    async def _wait_dependencies(self) -> bool:
        deps = [(self.sup.controllers[name], cond) for name, cond in self.spec.depends_on.items()]
        while True:
            waiting = [f"{c.name} ({cond})" for c, cond in deps if not c.satisfies(cond)]
            if not waiting:
                return True
            hopeless = [f"{c.name} ({cond})" for c, cond in deps if c.hopeless(cond)]
            if hopeless:
                self._set(ProcState.FAILED, "dependency can no longer be met: " + ", ".join(hopeless))
                return False
            message = "waiting for " + ", ".join(waiting)
            if self.state is not ProcState.PENDING or self.message != message:
                self._set(ProcState.PENDING, message)
            await self.sup.wait_changed()

    # -- one run -----------------------------------------------------------------------------------------------

    async def _run_once(self) -> bool:
        """Spawn, supervise and stop one run; returns whether it failed."""
        spec = self.spec
        self.run_id = f"{self.name}.{self.sup.next_run_number()}"
        self.exit_code = self.exit_signal = None
        self.stopped = False
        self._set(ProcState.STARTING)
        env = self.sup.spawner.child_env(spec.env, self.run_id, self.name)
        try:
            proc = await self.sup.spawner.spawn(spec.command, spec.cwd, env)
        except SpawnError as exc:
            self.runs_ended += 1
            self.ended_now += 1
            self.ended_at = time.time()
            self._set(ProcState.FAILED, str(exc))
            return True
        tree = RunTree(proc.pid, self.sup.spawner.mark(self.run_id))
        self.pid, self.started_at, self.ended_at = proc.pid, time.time(), None
        self.runs_started += 1
        self.started_now += 1
        self.sup.guardian_track(proc.pid, spec.stop_signal, self.grace, tree.mark)
        self._set(ProcState.RUNNING, spawned_message(proc.pid))
        self.sup.first_spawn.set()
        start_seq = self.sup.store.last_seq
        try:
            await self._supervise(proc, tree, start_seq, env)
        finally:
            failed = self._record_exit(proc)  # the run's tasks are gone; no await from here to a restart's state
        return failed

    async def _supervise(self, proc: trio.Process, tree: RunTree, start_seq: int, env: dict[str, str]) -> None:
        """Read the run's pipes and watch its readiness until the child exits or the run is stopped; then make sure
        nothing of it is left."""
        readers_done = trio.Event()
        spawner = self.sup.spawner
        self._ports = PortWatch(
            self.sup.store, self.name, tree, env=env, command=self.spec.display_command, instance=spawner.instance
        )
        async with trio.open_nursery() as run:
            run.start_soon(self._ports.serve)  # confirms its URLs by its listening sockets, explains taken ports
            reader_scope = trio.CancelScope(shield=True)  # readers outlive a cancellation until drained
            run.start_soon(read_pipes, proc, self.sup.store, self.name, self.runs_started, reader_scope, readers_done)
            run.start_soon(self._watch_ready, start_seq, env)
            outside = True  # cancelled from outside (shutdown, or a crash above us), unless the wait ends
            try:
                with trio.CancelScope() as self._wait_scope:
                    await proc.wait()
                outside = False  # the child exited, or our own stop request ended the wait
            finally:
                # One cleanup for every way out. Cancelled from outside: stop after our dependents. The child
                # exited, or our own stop request (while it ran, or while it started): just stop.
                self._wait_scope = None
                ordered = outside and not (self._loop_scope is not None and self._loop_scope.cancel_called)
                with trio.CancelScope(shield=True):
                    await self._stop(proc, tree, ordered=ordered, readers_done=readers_done)
                reader_scope.cancel()
                run.cancel_scope.cancel()

    @property
    def grace(self) -> float:
        return self.spec.grace

    async def _watch_ready(self, since: int, env: dict[str, str]) -> None:
        try:
            why = await readiness.wait_ready(
                self.spec.ready,
                process=self.name,
                store=self.sup.store,
                since=since,
                spawner=self.sup.spawner,
                cwd=self.spec.cwd,
                env=env,
                on_failure=self._probe_failed,
            )
        except Exception as exc:  # a broken probe must not take the run down with it
            self.sup.store.note(f"readiness check {self.spec.ready.describe()} failed: {exc!r}", self.name, "warn")
            return
        if self.state is ProcState.RUNNING:
            self._set(ProcState.READY, why)

    def _probe_failed(self, failure: readiness.ProbeFailure) -> None:
        """The state message of a process that runs but is not ready says why (every reader of a snapshot sees it at
        once); a line in the log and an event for subscribers only when that is news."""
        if self.state is not ProcState.RUNNING:
            return
        if failure.news:
            self._set(ProcState.RUNNING, str(failure))
        else:
            self.message = str(failure)

    async def _stop(self, proc: trio.Process, tree: RunTree, *, ordered: bool, readers_done: trio.Event) -> None:
        """Make sure nothing of this run is left: signal, grace, SIGKILL, reap, drain. Runs shielded."""
        if ordered:
            for dependent in self.sup.dependents_of(self.name):
                await dependent.loop_done.wait()
        requested = proc.returncode is None
        tree.rescan()
        if requested or tree.alive():
            sig = self.spec.stop_signal
            what = "" if requested else "it exited; stopping what it left running: "
            self._set(ProcState.STOPPING, f"{what}{sig.name}, {self.grace:g}s grace")
            tree.signal(sig)
            self._stop_how = sig.name
            if not await self._gone_within(proc, tree, self.grace, force=True):
                tree.rescan()
                forced = self.sup.force.is_set()  # a second Ctrl-C said so; say what it does
                why = "skipping the grace period" if forced else f"still running after {self.grace:g}s"
                self.sup.store.note(f"{why}: SIGKILL", self.name, "warn")
                tree.signal(9)
                self._stop_how = "SIGKILL, grace skipped" if forced else f"SIGKILL after {self.grace:g}s"
                await self._gone_within(proc, tree, KILL_WAIT, force=False)
            self.stopped = requested
        await proc.wait()
        self.sup.spawner.forget(proc.pid)
        self.sup.guardian_untrack(proc.pid)
        with trio.move_on_after(DRAIN_WAIT):
            await readers_done.wait()

    async def _gone_within(self, proc: trio.Process, tree: RunTree, seconds: float, *, force: bool) -> bool:
        with trio.move_on_after(seconds):
            delay = 0.01
            while proc.poll() is None or tree.alive():
                if force and self.sup.force.is_set():
                    return False
                await trio.sleep(delay)
                delay = min(delay * 2, 0.1)
            return True
        return False

    def _record_exit(self, proc: trio.Process) -> bool:
        code = proc.returncode
        self.runs_ended += 1
        self.ended_now += 1
        self.ended_at = time.time()
        self.exit_code, self.exit_signal = (None, -code) if code is not None and code < 0 else (code, None)
        self.sup.store.run_ended(self.name, self.runs_started, clean=code == 0 and not self.stopped)
        self.sup.store.clear_urls(self.name)
        failed = not self.stopped and (self.exit_signal is not None or bool(self.exit_code))
        if self.stopped:
            self._set(ProcState.EXITED, f"stopped ({self._stop_how})")
        elif failed:
            why = self._ports.note if self._ports else ""  # "port 5173 is taken by pid 1234 (...)"
            self._set(ProcState.FAILED, self.info().describe_exit() + (f"; {why}" if why else ""))
        else:
            self._set(ProcState.EXITED, "exit code 0")
        return failed
