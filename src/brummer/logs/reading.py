"""Reading pages of the log within budgets, and lines as an answer shows them.

``read`` drives one of ``query``'s walks without holding the event loop: it checkpoints whenever the walk's slice
of work is full and lets long pattern searches run in a worker thread, so a reader that looks at the whole store
(a search with few matches, a 10,000-line tail) costs the loop ~``SLICE_SECONDS`` at a time. ``read_sync`` drives
the same walk on the spot, for readers bounded by construction, optionally capped at a number of slices.

A page is also bounded in size: the SDK serialises an answer on the loop in one go, so an answer of 16 MiB is a
freeze by itself. The budgets below are the one place these sizes are set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import trio

from brummer.logs.kinds import Level, Stream
from brummer.logs.lines import LINE_LIMIT, strip
from brummer.logs.query import (
    LINE_COST,
    Batch,
    Filters,
    LogLine,
    Meter,
    Search,
    TailResult,
    Walk,
    level_of,
    walk_after,
    walk_newest,
)

# -- budgets ----------------------------------------------------------------------------------------------------
ANSWER_CHARS = 1024 * 1024  # one answer's lines: each counts its clipped length and ...
LINE_OVERHEAD = 100  # ... this, for its other fields (an answer's JSON stays near ANSWER_CHARS)
LINE_CHARS = 4096  # a line in an answer is clipped here (marked, its full length given) ...
MAX_LINE_CHARS = LINE_LIMIT + 1024  # ... or where the reader asks, up to a whole stored line and its cut marker


@dataclass(frozen=True, slots=True)
class ShownLine:
    """A line as an answer shows it: without terminal escapes, clipped, with its level."""

    seq: int
    time: float
    process: str
    stream: Stream
    run: int
    text: str
    level: Level
    length: int | None = None  # the whole line's length, when ``text`` was clipped

    @property
    def plain(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "seq": self.seq,
            "time": self.time,
            "process": self.process,
            "stream": self.stream,
            "text": self.text,
            "level": self.level,
        }
        if self.length is not None:
            data["length"] = self.length
        return data


def show(line: LogLine, clip: int = LINE_CHARS) -> ShownLine:
    plain = strip(line.text)
    level = level_of(plain, line.stream)
    if len(plain) <= clip:
        return ShownLine(line.seq, line.time, line.process, line.stream, line.run, plain, level)
    shown = plain[:clip] + f" [… clipped by brummer: {len(plain):,} characters in all]"
    return ShownLine(line.seq, line.time, line.process, line.stream, line.run, shown, level, len(plain))


async def show_all(lines: list[LogLine], clip: int = LINE_CHARS) -> tuple[list[ShownLine], list[dict[str, object]]]:
    """``show`` for every line, and each one's ``to_dict``, in slices."""
    meter = Meter()
    shown, rows = [], []
    for line in lines:
        shown.append(one := show(line, clip))
        rows.append(one.to_dict())
        if meter.spend(LINE_COST + len(line.text)):
            await _pause(meter)
    return shown, rows


class _Page:
    """Collects a page: at most ``limit`` lines and ``budget`` characters (each line counted at most ``clip``, plus
    ``LINE_OVERHEAD``).

    Reading forward, it stops at the budget. Reading a tail (newest first) it keeps the newest lines that fit and
    goes on counting, so that it can say where the window of ``limit`` lines began (``earlier``)."""

    def __init__(self, limit: int, forward: bool, budget: int | None, clip: int) -> None:
        self.limit = limit
        self.forward = forward
        self.budget = budget
        self.clip = clip
        self.lines: list[LogLine] = []
        self.found = 0
        self.chars = 0
        self.truncated = False
        self.oldest = 0

    def take(self, line: LogLine) -> bool:
        """Keep ``line`` if it fits; whether to go on."""
        self.found += 1
        if not self.truncated:
            size = min(len(line.text), self.clip) + LINE_OVERHEAD
            if self.budget is not None and self.lines and self.chars + size > self.budget:
                self.truncated = True
                if self.forward:
                    return False
            else:
                self.lines.append(line)
                self.chars += size
        if self.truncated:
            self.oldest = line.seq
        return self.found < self.limit

    def result(self, since: int | None, end: int, gap: int, *, stopped: bool = False) -> TailResult:
        """The page; ``stopped``: a work cap ended the walk (no ``earlier`` then: the window was not found)."""
        lines = self.lines
        earlier = None
        if self.forward:
            next_cursor = lines[-1].seq if lines else since or 0
            if not (self.truncated or stopped) and len(lines) < self.limit:
                next_cursor = max(next_cursor, end)  # everything up to ``end`` was looked at
        else:
            lines.reverse()
            next_cursor = lines[-1].seq if lines else end
            if self.truncated and not stopped:
                earlier = (self.oldest - 1, self.found - len(lines))
        return TailResult(lines, next_cursor, gap, self.truncated or stopped, earlier)


@dataclass(frozen=True, slots=True)
class Request:
    """What to read: ``pools`` of batches (copies, for a reader that checkpoints: the store changes meanwhile)."""

    pools: list[list[Batch]]
    filters: Filters
    since: int | None
    end: int  # the newest sequence number when the request began
    gap: int  # lines after ``since`` that retention already dropped
    limit: int
    budget: int | None
    clip: int

    def start(self) -> tuple[_Page, Walk, Meter]:
        meter = Meter()
        if self.since is None:
            walk = walk_newest(self.pools, self.filters, meter)
        else:
            walk = walk_after(self.pools, self.since, self.filters, meter)
        return _Page(self.limit, self.since is not None, self.budget, self.clip), walk, meter


async def read(request: Request) -> TailResult:
    """A page, in slices with checkpoints between them."""
    page, walk, meter = request.start()
    if request.limit > 0:
        await _drive(walk, page.take, meter)
    return page.result(request.since, request.end, request.gap)


def read_sync(request: Request, slices: int | None = None) -> TailResult:
    """A page, read on the spot; with ``slices``, at most that many slices of work (then ``truncated``)."""
    page, walk, meter = request.start()
    stopped = request.limit > 0 and _drive_sync(walk, page.take, meter, slices)
    return page.result(request.since, request.end, request.gap, stopped=stopped)


async def _drive(walk: Walk, take: Callable[[LogLine], bool], meter: Meter) -> None:
    reply: bool | None = None
    while True:
        try:
            step = walk.send(reply)
        except StopIteration:
            return
        reply = None
        if step is None:
            await _pause(meter)
        elif isinstance(step, Search):
            reply = await step.run_async()
        elif not take(step):
            walk.close()
            return


def _drive_sync(walk: Walk, take: Callable[[LogLine], bool], meter: Meter, slices: int | None) -> bool:
    """Drive ``walk``; true if the ``slices`` cap stopped it."""
    reply: bool | None = None
    while True:
        try:
            step = walk.send(reply)
        except StopIteration:
            return False
        reply = None
        if step is None:
            meter.reset()
            if slices is not None:
                slices -= 1
                if slices <= 0:
                    walk.close()
                    return True
        elif isinstance(step, Search):
            reply = step.run()
        elif not take(step):
            walk.close()
            return False


async def _pause(meter: Meter) -> None:
    await trio.lowlevel.checkpoint()
    meter.reset()
