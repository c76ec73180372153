"""The typed events that travel over the bus.

Each event class carries its ``priority`` as a class attribute. Events are treated as immutable once published
(not ``frozen``: frozen dataclasses cost twice as much to define and to build, on the path to the first child and
on every batch of a flood). Priority decides what may be dropped for a
subscriber that cannot keep up, never the order: a subscriber sees events in publish order.

- HIGH: never dropped (state changes, readiness, URLs, new, reopened and resolved error groups, service failures).
  Their volume is bounded by how often processes change state and errors come and go, not by how much they print.
- MEDIUM: updates that a later event supersedes (an error group seen again, brummer's own notices).
- LOW: the floods (log lines, proxied requests). Dropped for a slow subscriber, and counted.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from brummer.logs.error_book import ErrorGroup
    from brummer.logs.kinds import Level
    from brummer.logs.query import Batch
    from brummer.proxy.record import ProxyRecord
    from brummer.supervise.state import ProcessInfo, ProcState


RESOLVED_LINES = 3  # more groups resolved at once than this: one summary line


class Priority(enum.IntEnum):
    HIGH = 0
    MEDIUM = 1
    LOW = 2


@dataclass(slots=True)
class Event:
    priority: ClassVar[Priority] = Priority.LOW


@dataclass(slots=True)
class ProcessChanged(Event):
    """A process moved to a new state (started, ready, stopping, exited, failed, backing off, ...)."""

    priority: ClassVar[Priority] = Priority.HIGH
    info: ProcessInfo
    previous: ProcState

    def describe(self) -> str:
        return self.info.describe()


@dataclass(slots=True)
class LogLines(Event):
    """A batch of lines one process wrote to one stream (``batch.lines``, sequence numbers from ``batch.seq``)."""

    priority: ClassVar[Priority] = Priority.LOW
    batch: Batch


@dataclass(slots=True)
class UrlDetected(Event):
    priority: ClassVar[Priority] = Priority.HIGH
    process: str
    url: str

    def describe(self) -> str:
        """What brummer says of it: ``up --plain`` prints it and the process's log keeps it (so for every event with a
        ``describe``)."""
        return f"url {self.url}"


@dataclass(slots=True)
class UrlsCleared(Event):
    """The process exited; its URLs no longer answer."""

    priority: ClassVar[Priority] = Priority.HIGH
    process: str
    urls: tuple[str, ...]


@dataclass(slots=True)
class ErrorDetected(Event):
    """A new error group appeared in a process's output, or a resolved one came back (``group.reopened``)."""

    priority: ClassVar[Priority] = Priority.HIGH
    group: ErrorGroup

    def describe(self) -> str:
        g = self.group
        return f"error [{g.family} {g.type}]{f' {g.location}' if g.location else ''}: {g.message}"


@dataclass(slots=True)
class ErrorResolved(Event):
    """Error groups of ``process`` went away: its tool reported a clean cycle (or a clean exit); ``reason`` says
    which ("tsc: Found 0 errors"). HIGH like `ErrorDetected`: it changes which errors are open and no later event
    repeats it, and there is at most one per clean line that resolved something, so at most as many as groups were
    opened before."""

    priority: ClassVar[Priority] = Priority.HIGH
    process: str
    reason: str
    groups: tuple[ErrorGroup, ...]

    def describe(self) -> list[str]:
        """A line per group, or one line for them all when there are more than ``RESOLVED_LINES``."""
        if len(self.groups) > RESOLVED_LINES:
            return [f"resolved {len(self.groups)} errors ({self.reason})"]
        return [f"resolved: {g.type}{f' {g.location}' if g.location else ''} {g.message}" for g in self.groups]


@dataclass(slots=True)
class ErrorRepeated(Event):
    """A known error group was seen again (``count`` is the new total)."""

    priority: ClassVar[Priority] = Priority.MEDIUM
    group_id: int
    process: str
    count: int


@dataclass(slots=True)
class ServiceFailed(Event):
    """A service (printer, panel, MCP, proxy) raised; it was isolated and will be restarted after ``retry_in``."""

    priority: ClassVar[Priority] = Priority.HIGH
    service: str
    error: str
    traceback: str
    retry_in: float


@dataclass(slots=True)
class Notice(Event):
    """A message from brummer itself, for people (e.g. "stopping web: SIGTERM, 5 s grace")."""

    priority: ClassVar[Priority] = Priority.MEDIUM
    text: str
    process: str | None = None
    level: Level = "info"


@dataclass(slots=True)
class ProxyRequest(Event):
    """One request (or WebSocket) that went through the recording proxy, once it is over.

    The record is already in its process's ring (``Proxy.recorder``): subscribers use the event as a wake-up or a
    live feed, and lose nothing but immediacy when a flood makes the bus drop it.
    """

    priority: ClassVar[Priority] = Priority.LOW
    record: ProxyRecord
