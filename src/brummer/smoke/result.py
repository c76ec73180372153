"""What a smoke run found: typed, built once after everything has stopped, read by every report.

The plain summary, the JSON report, the JUnit file and the GitHub annotations are all views of one ``SmokeResult``,
so they can never disagree about who was ready, what failed and why.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from brummer.logs.error_book import ErrorGroup

TAIL_LINES = 50  # log lines kept in the report for each process or check that failed or was not ready


class Verdict(enum.StrEnum):
    PASSED = "passed"  # every process up, every check exited 0 (and, with --fail-on-error, no error detected)
    FAILED = "failed"  # a check or a process failed, or --fail-on-error found errors
    NOT_READY = "not-ready"  # not every process was up within --timeout
    INTERRUPTED = "interrupted"  # SIGINT, SIGTERM or SIGHUP: never 0, a cancelled CI step must not go green

    def exit_code(self, signum: int | None = None) -> int:
        if self is Verdict.INTERRUPTED:
            return 128 + (signum or 2)
        return {Verdict.PASSED: 0, Verdict.FAILED: 1, Verdict.NOT_READY: 124}[self]


class CheckStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # exited non-zero, or was killed by a signal brummer did not send
    STOPPED = "stopped"  # still running when the run ended (a process failed, or a signal came)
    NOT_RUN = "not-run"  # an earlier step failed first


@dataclass(frozen=True, slots=True)
class ProcessResult:
    name: str
    command: str
    state: str  # its final state ("exited", "failed")
    ready_after: float | None  # seconds from the start of the run until it was up; None if it never was
    done: bool  # a one-shot that exited 0 (a build): up by having finished
    exit_code: int | None
    exit_signal: str | None
    stopped: bool  # stopped by brummer at the end of the run (not a failure)
    restarts: int
    urls: tuple[str, ...]
    errors: tuple[ErrorGroup, ...]
    problem: str = ""  # why it failed or was not ready ("" if neither)
    log_tail: tuple[str, ...] = ()  # its last lines, if it failed or was not ready

    def describe_exit(self) -> str:
        if self.stopped:
            return "stopped"
        if self.exit_signal:
            return self.exit_signal
        return "-" if self.exit_code is None else str(self.exit_code)


@dataclass(frozen=True, slots=True)
class CheckResult:
    command: str
    status: CheckStatus
    exit_code: int | None = None
    exit_signal: str | None = None
    duration: float | None = None  # seconds
    log_tail: tuple[str, ...] = ()  # its last lines, if it did not pass

    def describe_exit(self) -> str:
        if self.status in (CheckStatus.NOT_RUN, CheckStatus.STOPPED):
            return str(self.status).replace("-", " ")
        if self.exit_signal:
            return self.exit_signal
        return "-" if self.exit_code is None else str(self.exit_code)


@dataclass(frozen=True, slots=True)
class SmokeResult:
    project: Path
    started_at: float  # wall time
    duration: float  # seconds, from the start of the run until everything had stopped
    timeout: float
    fail_on_error: bool
    verdict: Verdict
    exit_code: int
    reason: str  # one line: why the run passed or failed
    processes: tuple[ProcessResult, ...]
    checks: tuple[CheckResult, ...]
    not_ready: tuple[str, ...] = field(default_factory=tuple)  # names of the processes not up at the timeout

    @property
    def errors(self) -> list[ErrorGroup]:
        return [group for process in self.processes for group in process.errors]
