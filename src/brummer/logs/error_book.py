"""Error groups: detected errors, de-duplicated per process, with counts, first/last seen and a life.

Detection (``brummer.logs.errors``) finds one error at a time; the book folds repeats of the same error (same
fingerprint ``DetectedError.key``) into one group, so a watcher that prints the same TypeScript error on every
save shows one group with a count, not a wall.

A group is open until the tool that printed it says it is gone (a `CleanCycle`: tsc's ``Found 0 errors``, Vite's
``hmr update``, ...) or a run of an eslint/tsc process exits 0; then it is resolved, and stays in the book (with
when and why) until it is seen again, which reopens it. Only the groups of the signal's families in that process
are touched: a tsc clean cycle says nothing about a Python traceback the same process printed.

Open groups are also indexed per (process, family), so resolving costs the open groups of that family, never the
whole book: a child printing ``Found 0 errors`` a million times costs a dictionary lookup per line.
"""

from __future__ import annotations

import enum
import itertools
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brummer.logs.errors import CleanCycle, DetectedError

MAX_GROUPS_PER_PROCESS = 500


class ErrorState(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


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
    state: ErrorState = ErrorState.OPEN
    resolved_at: float | None = None  # wall time of the resolution (while resolved)
    resolved_by: str | None = None  # why: "tsc: Found 0 errors", "eslint: exit code 0"
    resolved_seq: int = 0  # a log line near the resolution (kept after a reopen: "active since" counts it)
    reopened: int = 0  # times it was seen again after a resolution
    run: int = 0  # the process's run it was last seen in
    cycle: int = 0  # the watch cycle of its family it was last seen in (see ErrorBook.end_cycle)

    @property
    def activity(self) -> int:
        """Sequence number of the last thing that happened to it: seen, or resolved."""
        return max(self.last_seq, self.resolved_seq)

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
            "state": str(self.state),
            "resolved_at": self.resolved_at,
            "resolved_by": self.resolved_by,
            "reopened": self.reopened,
            "lines": list(self.lines),
        }


class ErrorBook:
    """All error groups, newest activity last; bounded per process."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._by_process: dict[str, OrderedDict[str, ErrorGroup]] = {}
        self._open: dict[tuple[str, str], dict[str, ErrorGroup]] = {}  # (process, family) -> key -> open group
        self._cycles: dict[tuple[str, str], int] = {}  # (process, family) -> full-report cycles ended so far

    def record(
        self, process: str, stream: str, error: DetectedError, now: float, seq: int, run: int = 0
    ) -> tuple[ErrorGroup, bool]:
        """Add one occurrence; returns the group and whether it (re)opened: new, or back after a resolution."""
        groups = self._by_process.setdefault(process, OrderedDict())
        pool = self._open.setdefault((process, error.family), {})
        cycle = self._cycles.get((process, error.family), 0)
        key = error.key
        group = groups.get(key)
        if group is not None:
            group.count += 1
            group.last_seen = now
            group.last_seq = seq
            group.lines = error.lines
            group.run, group.cycle = run, cycle
            groups.move_to_end(key)
            if group.state is ErrorState.OPEN:
                return group, False
            group.state, group.resolved_at, group.resolved_by = ErrorState.OPEN, None, None
            group.reopened += 1
            pool[key] = group
            return group, True
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
            run=run,
            cycle=cycle,
        )
        groups[key] = group
        pool[key] = group
        if len(groups) > MAX_GROUPS_PER_PROCESS:
            _, evicted = groups.popitem(last=False)
            self._open.get((process, evicted.family), {}).pop(evicted.key, None)
        return group, True

    def end_cycle(self, process: str, clean: CleanCycle, now: float, seq: int) -> list[ErrorGroup]:
        """A clean signal from ``process``: resolve its open groups of ``clean.families`` (for a full report, only
        those not reported again since the previous full report of the family), except the spared locations.

        Everything recorded so far was printed before the signal: the store applies findings in line order.
        """
        done: list[ErrorGroup] = []
        for family in clean.families:
            key = (process, family)
            cycle = self._cycles[key] = self._cycles.get(key, 0) + 1
            pool = self._open.get(key)
            if pool:
                done += self._resolve(
                    pool,
                    (
                        g
                        for g in pool.values()
                        if not (clean.full_report and g.cycle == cycle - 1)
                        and not (g.location and any(part in g.location for part in clean.spare))
                    ),
                    clean.reason,
                    now,
                    seq,
                )
        return done

    def end_run(self, process: str, run: int, family: str, reason: str, now: float, seq: int) -> list[ErrorGroup]:
        """Run ``run`` of ``process`` exited 0: resolve its open ``family`` groups last seen in earlier runs."""
        pool = self._open.get((process, family))
        if not pool:
            return []
        return self._resolve(pool, (g for g in pool.values() if g.run < run), reason, now, seq)

    def resolve_keys(
        self, process: str, family: str, keys: Iterable[str], reason: str, now: float, seq: int
    ) -> list[ErrorGroup]:
        """Resolve these open groups of ``family`` (a page reloaded without repeating them, say)."""
        pool = self._open.get((process, family))
        if not pool:
            return []
        return self._resolve(pool, (pool[key] for key in dict.fromkeys(keys) if key in pool), reason, now, seq)

    @staticmethod
    def _resolve(
        pool: dict[str, ErrorGroup], groups: Iterable[ErrorGroup], reason: str, now: float, seq: int
    ) -> list[ErrorGroup]:
        done = list(groups)
        for group in done:
            group.state, group.resolved_by = ErrorState.RESOLVED, reason
            group.resolved_at, group.resolved_seq = now, seq
            del pool[group.key]
        return done

    def groups(
        self, process: str | None = None, since: int | None = None, *, include_resolved: bool = False
    ) -> list[ErrorGroup]:
        """Open groups (and resolved ones with ``include_resolved``) ordered by last activity, oldest first;
        ``since`` keeps groups seen or resolved after that log seq."""
        if process is not None:
            pools = [self._by_process.get(process, OrderedDict())]
        else:
            pools = list(self._by_process.values())
        found = [
            g
            for pool in pools
            for g in pool.values()
            if (include_resolved or g.state is ErrorState.OPEN) and (since is None or g.activity > since)
        ]
        found.sort(key=lambda g: (g.activity, g.id))
        return found
