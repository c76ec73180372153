"""Error groups: detected errors, de-duplicated per process, with counts and first/last seen.

Detection (``brummer.logs.errors``) finds one error at a time; the book folds repeats of the same error (same
fingerprint ``DetectedError.key``) into one group, so a watcher that prints the same TypeScript error on every
save shows one group with a count, not a wall.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brummer.logs.errors import DetectedError

MAX_GROUPS_PER_PROCESS = 500


@dataclass(slots=True)
class ErrorGroup:
    id: int
    process: str
    stream: str
    family: str
    type: str
    message: str
    location: str | None
    lines: tuple[str, ...]
    count: int
    first_seen: float
    last_seen: float
    first_seq: int  # sequence number of a log line near the first occurrence
    last_seq: int
    key: str

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "process": self.process,
            "stream": self.stream,
            "family": self.family,
            "type": self.type,
            "message": self.message,
            "location": self.location,
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "lines": list(self.lines),
        }


class ErrorBook:
    """All error groups, newest activity last; bounded per process."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_process: dict[str, OrderedDict[str, ErrorGroup]] = {}

    def record(self, process: str, stream: str, error: DetectedError, now: float, seq: int) -> tuple[ErrorGroup, bool]:
        """Add one occurrence; returns the group and whether it is new."""
        groups = self._by_process.setdefault(process, OrderedDict())
        key = error.key
        group = groups.get(key)
        if group is not None:
            group.count += 1
            group.last_seen = now
            group.last_seq = seq
            group.lines = error.lines
            groups.move_to_end(key)
            return group, False
        group = ErrorGroup(
            id=next(self._ids),
            process=process,
            stream=stream,
            family=error.family,
            type=error.type,
            message=error.message,
            location=error.location,
            lines=error.lines,
            count=1,
            first_seen=now,
            last_seen=now,
            first_seq=seq,
            last_seq=seq,
            key=key,
        )
        groups[key] = group
        if len(groups) > MAX_GROUPS_PER_PROCESS:
            groups.popitem(last=False)
        return group, True

    def groups(self, process: str | None = None, since: int | None = None) -> list[ErrorGroup]:
        """Groups ordered by last activity, oldest first; ``since`` keeps groups active after that log seq."""
        if process is not None:
            pools = [self._by_process.get(process, OrderedDict())]
        else:
            pools = list(self._by_process.values())
        found = [g for pool in pools for g in pool.values() if since is None or g.last_seq > since]
        found.sort(key=lambda g: (g.last_seq, g.id))
        return found

    def clear(self, process: str | None = None) -> None:
        if process is None:
            self._by_process.clear()
        else:
            self._by_process.pop(process, None)
