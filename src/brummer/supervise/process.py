"""One process's life: wait for dependencies, spawn, read its pipes, check readiness, stop, restart.

A ``ProcessController`` owns one task (``run_loop``) while the process is active. Its runs are stopped two ways:

- a request (``request_stop``) cancels the scope that waits for the child's exit; the run then stops the child
  gracefully and the loop ends without a restart;
- cancellation of the supervisor (shutdown, or any crash above it) reaches the same wait; the shielded cleanup first
  waits until every *dependent* has stopped, which is what makes shutdown run in reverse dependency order.

Either way the one cleanup (``stopping.stop_run``) signals the whole process group (and the run's marked escapees),
gives it ``grace`` seconds (ended early by a second Ctrl-C: ``force``), SIGKILLs what is left, reaps, and drains the
pipes so the last words of a dying server are kept.

A controller knows the brummer around it only through its ``ProcessContext`` (``context.py``); nobody outside
reads its fields: ``info()`` is the one snapshot of it.

Restarts: ``restarts`` counts every restart (automatic or requested); ``max_restarts`` limits the automatic ones of
the current activation, so a start or restart by hand (panel, MCP) begins a new budget. Running out of it is said in
the failed state's message (``gave up after 5 restarts: exit code 1``).
"""

from __future__ import annotations

import time

import trio

from brummer.bus import ProcessChanged
from brummer.config.spec import Condition, ProcessSpec, RestartPolicy
from brummer.errors import SpawnError
from brummer.supervise import readiness
from brummer.supervise.context import ProcessContext
from brummer.supervise.pipes import read_pipes
from brummer.supervise.port_watch import PortWatch
from brummer.supervise.state import ProcessInfo, ProcState, looks_one_shot, spawned_message
from brummer.supervise.stopping import stop_run
from brummer.supervise.tree import RunTree

STABLE_RUN = 30.0  # a run this long resets the restart backoff


class ProcessController:
    def __init__(self, spec: ProcessSpec, context: ProcessContext) -> None:
        self.spec = spec
        self.ctx = context
        self.one_shot = looks_one_shot(spec)
        self.state = ProcState.IDLE
        self.pid: int | None = None
        self.run_id: str | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.exit_code: int | None = None
        self.exit_signal: int | None = None
        self.stopped = False
        self.restarts = 0  # every restart, automatic or requested
        self.auto_restarts = 0  # automatic restarts of the current activation: what max_restarts limits
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
        self._settled = trio.Event()  # this activation spawned its run, or waits, failed or ended: see settled()
        self._settled.set()
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
            urls=tuple(self.ctx.store.urls(self.name).get(self.name, ())),
            active=self.active,
            run=self.runs_started,
            one_shot=self.one_shot,
            ready_check=self.spec.ready.describe(),
        )

    def _set(self, state: ProcState, message: str = "") -> None:
        previous = self.state
        self.state = state
        self.message = message
        self.ready = state is ProcState.READY
        if state is not ProcState.STARTING:
            self._settled.set()
        info = self.info()
        self.ctx.store.note(info.describe(), self.name, publish=False)
        self.ctx.bus.publish(ProcessChanged(info, previous))
        self.ctx.changes.notify()

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

    async def wait_stopped(self) -> None:
        """Return once the current activation is over (at once if there is none)."""
        await self.loop_done.wait()

    async def settled(self) -> None:
        """Return once the current activation got past its spawn: the run is up (``running``), or it waits for its
        dependencies (``pending``), failed, or ended. Not its readiness: that can take minutes."""
        await self._settled.wait()

    # -- control -----------------------------------------------------------------------------------------------

    def activate(self, nursery: trio.Nursery) -> bool:
        """Start the loop task unless it is running; returns whether it started one. Each activation gets a fresh
        budget of automatic restarts."""
        if self.active:
            return False
        self.active = True
        self._stop_requested = False
        self.started_now = self.ended_now = 0
        self.auto_restarts = 0
        self.loop_done = trio.Event()
        self._settled = trio.Event()
        nursery.start_soon(self.run_loop, name=f"process:{self.name}")
        return True

    def count_restart(self) -> None:
        """A restart was requested (panel ``r``, MCP ``scripts_restart``) and this activation is it."""
        self.restarts += 1

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
            # Stopped (or cancelled) while waiting, backing off or being spawned: no run is up to record an exit.
            if self.state in (ProcState.PENDING, ProcState.STARTING, ProcState.BACKING_OFF):
                if self.runs_started:
                    self.stopped = True
                    self._set(ProcState.EXITED, "stopped")
                else:
                    self._set(ProcState.IDLE, "stopped before it started")
            self.ended_on_own = on_own
            self.active = False
            self._settled.set()
            self.loop_done.set()
            self.ctx.changes.notify()

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
            limit = self.spec.max_restarts
            of = f" of {limit}" if limit is not None else ""
            self._set(ProcState.BACKING_OFF, f"restart {self.auto_restarts + 1}{of} in {delay:g}s")
            await trio.sleep(delay)
            self.auto_restarts += 1
            self.restarts += 1

    def _policy_restarts(self, failed: bool) -> bool:
        policy = self.spec.restart
        return not (policy is RestartPolicy.NO or (policy is RestartPolicy.ON_FAILURE and not failed))

    def _restart_wanted(self, failed: bool) -> bool:
        limit = self.spec.max_restarts
        return self._policy_restarts(failed) and (limit is None or self.auto_restarts < limit)

    async def _wait_dependencies(self) -> bool:
        deps = self.ctx.dependencies(self.spec.depends_on)
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
            await self.ctx.changes.wait()

    # -- one run -----------------------------------------------------------------------------------------------

    async def _run_once(self) -> bool:
        """Spawn, supervise and stop one run; returns whether it failed."""
        spec = self.spec
        run_id = f"{self.name}.{self.ctx.next_run_number()}"
        self.exit_code = self.exit_signal = None
        self.pid = None  # not the last run's: a snapshot taken while this one starts has no pid yet
        self.stopped = False
        self._set(ProcState.STARTING)
        env = self.ctx.spawner.child_env(spec.env, run_id, self.name)
        try:
            # A cancellation here (a stop, or shutdown, while the spawn waits for a worker thread) leaves no child:
            # run_loop's cleanup takes the state out of ``starting``.
            proc = await self.ctx.spawner.spawn(spec.command, spec.cwd, env)
        except SpawnError as exc:
            self.run_id = run_id
            self.runs_ended += 1
            self.ended_now += 1
            self.ended_at = time.time()
            self._set(ProcState.FAILED, str(exc))
            return True
        self.run_id = run_id
        tree = RunTree(proc.pid, self.ctx.spawner.mark(run_id))
        self.pid, self.started_at, self.ended_at = proc.pid, time.time(), None
        self.runs_started += 1
        self.started_now += 1
        self.ctx.guardian_track(proc.pid, spec.stop_signal, self.grace, tree.mark)
        self._set(ProcState.RUNNING, spawned_message(proc.pid))
        self.ctx.first_spawn.set()
        start_seq = self.ctx.store.last_seq
        try:
            await self._supervise(proc, tree, start_seq, env)
        finally:
            failed = self._record_exit(proc)  # the run's tasks are gone; no await from here to a restart's state
        return failed

    async def _supervise(self, proc: trio.Process, tree: RunTree, start_seq: int, env: dict[str, str]) -> None:
        """Read the run's pipes and watch its readiness until the child exits or the run is stopped; then make sure
        nothing of it is left."""
        readers_done = trio.Event()
        spawner = self.ctx.spawner
        earlier = self._ports.remembered() if self._ports is not None else ()
        self._ports = PortWatch(
            self.ctx.store, self.name, tree, env=env, command=self.spec.display_command, instance=spawner.instance
        )
        self._ports.earlier = earlier  # its last run's URLs: a portless "address in use" may be about one of them
        async with trio.open_nursery() as run:
            run.start_soon(self._ports.serve)  # confirms its URLs by its listening sockets, explains taken ports
            reader_scope = trio.CancelScope(shield=True)  # readers outlive a cancellation until drained
            run.start_soon(read_pipes, proc, self.ctx.store, self.name, self.runs_started, reader_scope, readers_done)
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
                store=self.ctx.store,
                since=since,
                spawner=self.ctx.spawner,
                cwd=self.spec.cwd,
                env=env,
                on_failure=self._probe_failed,
            )
        except Exception as exc:  # a broken probe must not take the run down with it
            self.ctx.store.note(f"readiness check {self.spec.ready.describe()} failed: {exc!r}", self.name, "warn")
            return
        if self._ports is not None:
            await self._ports.settle()  # its printed URLs checked first: `ready` comes with them
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
        """Make sure nothing of this run is left (``stopping.stop_run``); when ``ordered``, only once every
        dependent has stopped. Runs shielded."""
        if ordered:
            for dependent in self.ctx.dependents_of(self.name):
                await dependent.wait_stopped()
        stopped = await stop_run(proc, tree, self.spec, self.ctx, readers_done, self._stopping)
        if stopped is not None:
            self._stop_how, self.stopped = stopped.how, stopped.requested

    def _stopping(self, message: str) -> None:
        self._set(ProcState.STOPPING, message)

    def _record_exit(self, proc: trio.Process) -> bool:
        code = proc.returncode
        self.runs_ended += 1
        self.ended_now += 1
        self.ended_at = time.time()
        self.exit_code, self.exit_signal = (None, -code) if code is not None and code < 0 else (code, None)
        self.ctx.store.run_ended(self.name, self.runs_started, clean=code == 0 and not self.stopped)
        self.ctx.store.clear_urls(self.name)
        failed = not self.stopped and (self.exit_signal is not None or bool(self.exit_code))
        if self.stopped:
            self._set(ProcState.EXITED, f"stopped ({self._stop_how})")
            return failed
        gave_up = ""
        if self._policy_restarts(failed) and not self._restart_wanted(failed) and not self._stop_requested:
            count = self.auto_restarts  # the policy would restart it, but this activation's budget is spent
            gave_up = f"gave up after {count} restart{'s' if count != 1 else ''}: "
        if failed:
            why = self._ports.note if self._ports else ""  # "port 5173 is taken by pid 1234 (...)"
            self._set(ProcState.FAILED, gave_up + self.info().describe_exit() + (f"; {why}" if why else ""))
        else:
            self._set(ProcState.EXITED, gave_up + "exit code 0")
        return failed
