"""The checks: shell commands run in order, once everything is up, as one more supervised process.

Each check runs under the supervisor (``Supervisor.define``) as the process ``check``: in the project root, in its
own process group, tracked by the guardian, with its output prefixed ``check |`` and kept in the log store, and
stopped like any process when the run ends early. It depends (``started``) on every selected process that still
runs, so on the way down it stops first and what it tests stops after it. Its environment carries the URLs brummer
detected: ``BRUMMER_URL_<NAME>`` per process (the name upper-cased, other characters as ``_``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import trio

from brummer.config.spec import Condition, ProcessSpec, ProjectSpec, ReadyCheck
from brummer.logs.kinds import Stream
from brummer.logs.store import LogStore
from brummer.smoke.result import TAIL_LINES, CheckResult, CheckStatus
from brummer.supervise.state import ProcessInfo, ProcState, signal_name
from brummer.supervise.supervisor import Supervisor

NAME = "check"
DEFAULT_GRACE = 5.0


def check_name(project: ProjectSpec) -> str:
    """``check``, unless the project has a process of that name (``npm run check`` is common)."""
    candidates = [NAME, "smoke-check", *(f"smoke-check-{n}" for n in range(2, len(project.processes) + 3))]
    return next(name for name in candidates if name not in project.processes)


def env_name(name: str) -> str:
    """``web`` -> ``WEB``, ``@acme/web:dev`` -> ``_ACME_WEB_DEV``."""
    return re.sub(r"[^A-Z0-9_]", "_", name.upper())


def url_env(infos: Iterable[ProcessInfo]) -> dict[str, str]:
    """``BRUMMER_URL_<NAME>``: each process's first URL."""
    return {f"BRUMMER_URL_{env_name(info.name)}": info.urls[0] for info in infos if info.urls}


def output_tail(store: LogStore, process: str, after: int = 0) -> tuple[str, ...]:
    """The last lines ``process`` wrote after sequence number ``after`` (brummer's own notes left out)."""
    lines = store.tail(process, limit=TAIL_LINES * 2).lines
    kept = [line.plain for line in lines if line.seq > after and line.stream != Stream.BRUMMER]
    return tuple(kept[-TAIL_LINES:])


class Checks:
    """Runs the checks one after another; remembers the one in flight, so that a run cut short can report it."""

    def __init__(self, supervisor: Supervisor, project: ProjectSpec, name: str, tested: Sequence[str]) -> None:
        self.supervisor = supervisor
        self.project = project
        self.name = name
        self.tested = list(tested)
        self.results: list[CheckResult] = []
        self._current: tuple[str, float, int] | None = None  # command, start (trio time), log seq before it

    async def run(self, command: str) -> CheckResult:
        """Run ``command`` to its end; return (and keep) its result."""
        infos = [self.supervisor.info(name) for name in self.tested]
        # Depends on what still runs (not on a finished build: activating the check would start that again).
        running = [info.name for info in infos if info.state.alive or info.state is ProcState.BACKING_OFF]
        spec = ProcessSpec(
            self.name,
            command,
            "check",
            self.project.root,
            self.project.root,
            env=url_env(infos),
            depends_on=dict.fromkeys(running, Condition.STARTED),
            ready=ReadyCheck("none"),
            grace=self.project.settings.grace if self.project.settings.grace is not None else DEFAULT_GRACE,
        )
        self.supervisor.define(spec)
        self._current = (command, trio.current_time(), self.supervisor.store.last_seq)
        self.supervisor.activate([self.name])
        while not self.supervisor.info(self.name).state.ended:
            await self.supervisor.wait_changed()
        return self.finish()

    def finish(self) -> CheckResult:
        """The result of the check in flight, as it stands (after the run stopped it, if it had to)."""
        assert self._current is not None
        command, began, seq = self._current
        self._current = None
        info = self.supervisor.info(self.name)
        if (info.state is ProcState.EXITED and info.stopped) or not info.state.ended:
            status = CheckStatus.STOPPED
        elif info.exit_code == 0 and info.exit_signal is None:
            status = CheckStatus.PASSED
        else:
            status = CheckStatus.FAILED
        signame = signal_name(info.exit_signal) if info.exit_signal is not None else None
        tail = () if status is CheckStatus.PASSED else output_tail(self.supervisor.store, self.name, seq)
        duration = trio.current_time() - began
        result = CheckResult(command, status, info.exit_code, signame, duration, tail)
        self.results.append(result)
        return result

    def report(self, commands: Sequence[str]) -> tuple[CheckResult, ...]:
        """Every check's result, in order: the one cut short (if any) as stopped, those never reached as not run."""
        if self._current is not None:
            self.finish()
        rest = [CheckResult(command, CheckStatus.NOT_RUN) for command in commands[len(self.results) :]]
        return (*self.results, *rest)
