"""``brummer smoke``: start the processes, wait until they are up, run the checks, stop everything, report.

::

    registry claim (kind smoke)         the project's lock, before anything starts (a second brummer: exit 2)
    core.open_core                      signals (core.Shutdown), guardian, reaper, log store
    ├── printer      serve_plain        plain lines; colour only with FORCE_COLOR
    └── supervisor nursery              the selected processes; then each check, as the process ``check``
        the run (this task)
        ├── watcher  Tracker.watch      a process failed: the run ends at once
        ├── signals  shutdown           SIGINT/SIGTERM/SIGHUP: the run ends at once (a second: no grace)
        └── gate, then checks           every process up within --timeout, then the checks in order
    then: the supervisor is cancelled (the check stops first, then what it tests, in reverse dependency order),
    the printer drains, the lock is released
    after the tree: the summary table, the JSON and JUnit reports, GitHub annotations and step summary

No panel and no MCP: a CI log wants plain lines, and nothing should listen on a port it did not ask for.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import trio

from brummer import __version__, registry
from brummer.bus import Bus
from brummer.config.spec import ProjectSpec
from brummer.core import Shutdown, open_core
from brummer.logs.store import LogStore
from brummer.services import run_isolated
from brummer.smoke.checks import Checks, check_name, output_tail
from brummer.smoke.gate import Tracker
from brummer.smoke.outputs import write_outputs
from brummer.smoke.result import CheckStatus, ProcessResult, SmokeResult, Verdict
from brummer.supervise.state import ProcState, signal_name
from brummer.supervise.supervisor import Supervisor, serve_supervisor
from brummer.ui.output import Output
from brummer.ui.plain import serve_plain

SERVICE_DRAIN = 2.0  # after the processes are gone, how long the printer may take to print the last events


@dataclass(frozen=True, slots=True)
class SmokeOptions:
    checks: tuple[str, ...] = ()
    timeout: float = 120.0  # seconds from the start until every process must be up
    fail_on_error: bool = False
    report: Path | None = None  # JSON
    junit: Path | None = None  # JUnit XML


async def run_smoke(
    project: ProjectSpec,
    names: Sequence[str],
    options: SmokeOptions,
    *,
    output: Output | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run ``names`` (resolved, dependencies included) through the gate and the checks; return the exit code.

    ``AlreadyRunningError`` (exit 2) if another brummer runs the project: then nothing has been started.
    """
    output = output or Output()
    environ = os.environ if environ is None else environ
    bus = Bus()
    printer = bus.subscribe("plain")  # before anything happens, so nothing is missed
    check = check_name(project)
    colour = bool(environ.get("FORCE_COLOR")) and not environ.get("NO_COLOR")
    started_at, began = time.time(), trio.current_time()
    with await registry.claim(project.root, registry.Kind.SMOKE, mcp=False) as registration:
        async with open_core(project, bus, lock_fd=registration.lock_fd) as core, trio.open_nursery() as services:
            store = core.store
            service = functools.partial(serve_plain, printer, output, [*names, check], colour=colour)
            await services.start(run_isolated, "plain", service, store)
            _announce(store, project, names, options)
            async with trio.open_nursery() as processes:
                supervisor: Supervisor = await processes.start(
                    serve_supervisor, project, names, store, bus, core.spawner, core.guardian, core.shutdown.force
                )
                run = Run(supervisor, project, names, options, check, core.shutdown)
                await run.go()
                processes.cancel_scope.cancel(reason="the smoke run is over")
            result = run.result(started_at, trio.current_time() - began)
            bus.close()
            services.cancel_scope.deadline = trio.current_time() + SERVICE_DRAIN
    return await write_outputs(result, project, options.report, options.junit, output, environ)


def _announce(store: LogStore, project: ProjectSpec, names: Sequence[str], options: SmokeOptions) -> None:
    count = len(options.checks)
    then = f"then {count} check{'s' if count != 1 else ''}" if count else "no checks: it passes once all are up"
    store.note(
        f"brummer smoke {__version__} in {project.root}: {', '.join(names)}, up within {options.timeout:g}s; {then}"
    )
    for name in names:
        if project.processes[name].ready.kind == "none":
            store.note('ready = "none": it counts as up once it runs', name)


class Run:
    """The run proper: the gate, then the checks, cut short by a failed process or a signal."""

    def __init__(
        self,
        supervisor: Supervisor,
        project: ProjectSpec,
        names: Sequence[str],
        options: SmokeOptions,
        check: str,
        shutdown: Shutdown,
    ) -> None:
        self.supervisor = supervisor
        self.store = supervisor.store
        self.names = list(names)
        self.options = options
        self.shutdown = shutdown
        self.tracker = Tracker(supervisor, names, project.processes)
        self.checks = Checks(supervisor, project, check, names)
        self.not_ready: dict[str, str] = {}

    async def go(self) -> None:
        with trio.CancelScope() as cut:
            async with trio.open_nursery() as watching:
                watching.start_soon(self.tracker.watch, cut)
                watching.start_soon(_cancel_after, self.shutdown.requested.wait, cut)
                await self._steps()
                watching.cancel_scope.cancel()
        self.tracker.look()  # the last word before everything stops: URLs, and a failure in the very last moment

    async def _steps(self) -> None:
        timeout = self.options.timeout
        with trio.move_on_at(self.tracker.began + timeout) as gate:
            await self.tracker.wait_all_up()
        if gate.cancelled_caught:
            self.not_ready = self.tracker.not_up()
            for name, why in self.not_ready.items():
                self.store.note(f"not ready after {timeout:g}s: {why}", name, "error")
            return
        after = max(self.tracker.ready_after.values(), default=0.0)
        self.store.note(f"all up after {after:.1f}s")
        for number, command in enumerate(self.options.checks, 1):
            self.store.note(f"check {number}/{len(self.options.checks)}: {command}")
            if (await self.checks.run(command)).status is not CheckStatus.PASSED:
                return

    def result(self, started_at: float, duration: float) -> SmokeResult:
        """What happened, read after everything has stopped."""
        checks = self.checks.report(self.options.checks)
        failure = self.tracker.failure
        processes = tuple(self._process(name) for name in self.names)
        failed = failure or next(
            (i for i in map(self.supervisor.info, self.names) if i.state is ProcState.FAILED), None
        )
        errors = [group for process in processes for group in process.errors]
        bad_check = next((check for check in checks if check.status is CheckStatus.FAILED), None)
        if self.shutdown.signal:
            verdict, reason = Verdict.INTERRUPTED, f"interrupted by {signal_name(self.shutdown.signal)}"
        elif failed is not None:
            verdict, reason = Verdict.FAILED, f"{failed.name} failed: {failed.message or failed.describe_exit()}"
        elif self.not_ready:
            who = ", ".join(self.not_ready)
            verdict, reason = Verdict.NOT_READY, f"not up within {self.options.timeout:g}s: {who}"
        elif bad_check is not None:
            verdict, reason = Verdict.FAILED, f"check `{bad_check.command}` failed: {bad_check.describe_exit()}"
        elif self.options.fail_on_error and errors:
            first = errors[0]
            where = f" {first.location}" if first.location else ""
            count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
            verdict, reason = Verdict.FAILED, f"{count} detected (--fail-on-error), first: {first.process}{where}"
        else:
            passed = len(checks)
            what = f"{passed} check{'s' if passed != 1 else ''} passed" if passed else "no checks"
            verdict, reason = Verdict.PASSED, f"all up, {what}"
        return SmokeResult(
            project=self.supervisor.project.root,
            started_at=started_at,
            duration=duration,
            timeout=self.options.timeout,
            fail_on_error=self.options.fail_on_error,
            verdict=verdict,
            exit_code=verdict.exit_code(self.shutdown.signal),
            reason=reason,
            processes=processes,
            checks=checks,
            not_ready=tuple(self.not_ready),
        )

    def _process(self, name: str) -> ProcessResult:
        info = self.supervisor.info(name)
        ready_after = self.tracker.ready_after.get(name)
        if info.state is ProcState.FAILED:
            after = " after it was up" if ready_after is not None else ""
            problem = f"failed{after}: {info.message or info.describe_exit()}"
        else:
            problem = f"not ready: {self.not_ready[name]}" if name in self.not_ready else ""
        return ProcessResult(
            name=name,
            command=info.command,
            state=str(info.state),
            ready_after=ready_after,
            done=ready_after is not None and info.state is ProcState.EXITED and not info.stopped,
            exit_code=info.exit_code,
            exit_signal=signal_name(info.exit_signal) if info.exit_signal is not None else None,
            stopped=info.stopped,
            restarts=info.restarts,
            urls=tuple(self.tracker.urls.get(name, ())),
            errors=tuple(self.store.errors.groups(name)),
            problem=problem,
            log_tail=output_tail(self.store, name) if problem else (),
        )


async def _cancel_after(wait: Callable[[], Awaitable[object]], scope: trio.CancelScope) -> None:
    await wait()
    scope.cancel()
