"""Process states and the snapshot of one process that the UI and MCP read.

::

    pending → starting → running → ready ─┐
                 │          │             ├→ stopping → exited (code or signal)
                 │          └─────────────┘        └→ failed → backing-off → starting (restart policy)
                 └→ failed (spawn error)
"""

from __future__ import annotations

import enum
import signal
from dataclasses import dataclass, field


class ProcState(enum.StrEnum):
    PENDING = "pending"  # not started, or waiting for its dependencies
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
    restarts: int = 0
    ready: bool = False
    message: str = ""  # why it is in this state, for people ("waiting for db (ready)", "exit code 1")
    urls: tuple[str, ...] = field(default_factory=tuple)

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
