"""Process states and the snapshot of one process that every reader (panel, printer, MCP, proxy, remote CLI) reads.

::

    idle → pending → starting → running → ready ─┐
     ▲        │         │          │             ├→ stopping → exited (code, signal, or stopped by brummer)
     │        │         │          └─────────────┘        └→ failed → backing-off → starting
     │        │         └→ failed (spawn error)                (restart policy, up to max_restarts)
     │        └→ failed (a dependency can no longer be met)
     └─ stopped before its first run began (from pending or starting)

``idle``: never started (not asked to run, or stopped before its first run began). ``pending``: asked to run and
waiting for its dependencies; with none to wait for, a process goes from ``idle`` (or ``exited``/``failed``, when it
is started again) straight to ``starting``.
"""

from __future__ import annotations

import enum
import re
import signal
from dataclasses import dataclass, field

from brummer.config.spec import ProcessSpec


class ProcState(enum.StrEnum):
    IDLE = "idle"  # never started: not asked to run, or stopped before its first run began
    PENDING = "pending"  # asked to run, waiting for its dependencies
    STARTING = "starting"  # being spawned
    RUNNING = "running"  # spawned, not (yet) ready
    READY = "ready"  # its readiness check passed
    STOPPING = "stopping"  # stop signal sent, within its grace period
    EXITED = "exited"  # ended with code 0, or stopped by brummer
    FAILED = "failed"  # ended non-zero, by a signal brummer did not send, or could not start
    BACKING_OFF = "backing-off"  # waiting to be restarted

    @property
    def alive(self) -> bool:
        return self in (ProcState.STARTING, ProcState.RUNNING, ProcState.READY, ProcState.STOPPING)

    @property
    def ended(self) -> bool:
        return self in (ProcState.EXITED, ProcState.FAILED)


# A task that runs to its end rather than serving: a script named like one (``build``, ``test:unit``, ``lint-fix``)
# whose name and command say nothing of watching or serving. An agent that starts one is told to wait for its exit,
# not its readiness.
ONE_SHOT_NAME = re.compile(
    r"(?:^|[:/])(?:build|test|tests|lint|typecheck|type-check|check|format|fmt|compile|clean|coverage|e2e|ci"
    r"|install|prepare|migrate|seed|generate|codegen|gen)(?:$|[:_-])"
)
NOT_ONE_SHOT = re.compile(r"(?:^|[\s:/_-])(?:--watch\S*|-w|watch|serve|server|dev|start|preview)(?:$|[\s:_-])")


def looks_one_shot(spec: ProcessSpec) -> bool:
    """Whether ``spec`` looks like a task that ends by itself (see ``ONE_SHOT_NAME``). A process with a readiness
    check of its own (http, tcp, log, exec) is a service whatever its name."""
    if spec.ready.kind not in ("url", "none") or not ONE_SHOT_NAME.search(spec.name):
        return False
    return not NOT_ONE_SHOT.search(f"{spec.name} {spec.display_command}")


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def spawned_message(pid: int | None) -> str:
    """The state message of a process just spawned (``running: pid 4242``): nothing a row with a pid adds to."""
    return f"pid {pid}"


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """An immutable snapshot of one process, safe to hand to any reader."""

    name: str
    state: ProcState
    command: str
    source: str
    pid: int | None = None
    run_id: str | None = None  # "web.3": unique for the life of this brummer
    started_at: float | None = None  # wall time of the current/last spawn
    ended_at: float | None = None
    exit_code: int | None = None
    exit_signal: int | None = None  # set when the process died from a signal
    stopped: bool = False  # the last run was stopped by brummer (not a crash)
    restarts: int = 0  # every restart in this brummer's life: automatic ones and requested ones (panel r, MCP)
    ready: bool = False
    message: str = ""  # why it is in this state, for people ("waiting for db (ready)", "exit code 1")
    urls: tuple[str, ...] = field(default_factory=tuple)
    active: bool = False  # asked to run and not stopped yet: waiting, running, backing off (until it ends)
    run: int = 0  # this process's current or last run, counted from 1 (its log lines carry it); 0 before the first
    one_shot: bool = False  # a task that runs to its end (build, test, lint...) rather than a server
    ready_check: str = "url"  # how readiness is decided ("url", "http http://...", "log ...", "none": never)

    def uptime(self, now: float) -> float | None:
        if self.started_at is None or not self.state.alive:
            return None
        return max(0.0, now - self.started_at)

    @property
    def detail(self) -> str:
        """The state message where it tells more than a row's pid and URLs do: why the process waits, failed or
        backs off, or why its readiness probe has not passed yet (``waiting for http://...: HTTP 503, 7 tries``)."""
        if self.state is ProcState.READY:
            return ""  # "url http://...": the URL is in the row
        if self.state is ProcState.RUNNING and self.message == spawned_message(self.pid):
            return ""
        return self.message

    def describe(self) -> str:
        """What brummer says of this state: the line ``up --plain`` prints, the note the process's log keeps."""
        if self.state is ProcState.STARTING:
            return f"starting: {self.command}"
        return str(self.state) + (f": {self.message}" if self.message else "")

    def describe_exit(self) -> str:
        if self.exit_signal is not None:
            return f"killed by {signal_name(self.exit_signal)}"
        if self.exit_code is not None:
            return f"exit code {self.exit_code}"
        return ""

    def to_dict(self, now: float) -> dict[str, object]:
        return {
            "name": self.name,
            "state": str(self.state),
            "command": self.command,
            "source": self.source,
            "pid": self.pid,
            "run_id": self.run_id,
            "uptime_s": None if (up := self.uptime(now)) is None else round(up, 1),
            "restarts": self.restarts,
            "exit_code": self.exit_code,
            "exit_signal": signal_name(self.exit_signal) if self.exit_signal is not None else None,
            "stopped_by_brummer": self.stopped,
            "ready": self.ready,
            "message": self.message,
            "urls": list(self.urls),
        }
