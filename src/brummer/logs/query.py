"""Reading the store: batches and lines, filters, and resumable walks across processes.

Batches of different processes hold disjoint runs of sequence numbers, so a walk over several processes is a
merge of their batch lists by sequence number: forward from a cursor (``walk_after``) or backward from the newest
line (``walk_newest``). Filters that need the text (level, pattern) look at the ANSI-stripped line, and a pattern is
first tried on a whole batch so batches without a match cost one scan.

A walk is a generator, so that one implementation serves a reader that may not wait (the panel's rows, a resource
document) and one that must not hold the event loop (MCP answers, ``wait_for``, readiness). It yields the lines it
finds, and two requests: ``None`` when a ``Meter``'s slice of work is full (an async reader checkpoints there) and
``Search`` when a pattern must run over a text (an async reader runs a long one in a worker thread). All work is
linear in the text looked at: the level classifier too.
"""

from __future__ import annotations

import functools
import heapq
import time
from bisect import bisect_right
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from brummer.logs.kinds import LEVELS, Level, Stream
from brummer.logs.lines import strip
from brummer.logs.patterns import Pattern, compile_pattern

CLASSIFY_CHARS = 4096  # a line's level is judged from its start: what an answer shows of it by default
SLICE_CHARS = 256 * 1024  # characters of stored text looked at between two checkpoints ...
SLICE_SECONDS = 0.005  # ... or this much time, whichever comes first (a pattern's cost per character varies)
LINE_COST = 48  # one line's fixed cost (objects, calls), in characters of work


# Each level's pattern needs one of its words, so a line without any (most lines) is told apart with a few
# substring tests on its case-folded start; the patterns themselves run on RE2, in time linear in the line.
_ERROR_WORDS = ("error", "exception", "fatal", "panic", "traceback", "failed", "failure", "crash", "err!", "✘", "⨯")
_WARN_WORDS = ("warn", "deprecat", "⚠")
_DEBUG_WORDS = ("debug", "trace", "verbose")


@functools.cache
def _level_patterns() -> tuple[Pattern, ...]:
    r"""Compiled on first use: only queries need them, and startup should not pay for them.

    (Python's ``re`` once ran ``\w*(?:error|exception)\b`` here, which ate a word before trying its ending:
    quadratic in a word's length, 9 s for 32,000 letters. A word *ending* in error is the same test without it.)
    """
    return tuple(
        compile_pattern(text, ignore_case=True)
        for text in (
            r"(?:error|exception)\b"  # error, TypeError, RuntimeException
            r"|\b(?:errors? in|fatal|panic(?:ked)?|traceback|failed|failure|crash(?:ed)?)\b|ERR!|✘|⨯",
            r"\b(?:0|no) errors?\b|\berrors?: (?:0|none)\b",
            r"\bwarn(?:ing)?s?\b|\bdeprecat|⚠",
            r"\b(?:debug|trace|verbose)\b",
        )
    )


def classify(plain: str) -> Level:
    """A line's level from the start of its text: error, warn, debug, else info."""
    error, not_error, warn, debug = _level_patterns()
    head = plain[:CLASSIFY_CHARS]
    folded = head.casefold()
    if _any_in(folded, _ERROR_WORDS) and error.search(head) and not ("error" in folded and not_error.search(head)):
        return "error"
    if _any_in(folded, _WARN_WORDS) and warn.search(head):
        return "warn"
    if _any_in(folded, _DEBUG_WORDS) and debug.search(head):
        return "debug"
    return "info"


def _any_in(text: str, words: tuple[str, ...]) -> bool:
    for word in words:  # noqa: SIM110 (a generator for ``any`` costs more than these tests)
        if word in text:
            return True
    return False


def level_of(plain: str, stream: Stream) -> Level:
    return "info" if stream == Stream.BRUMMER else classify(plain)


@dataclass(slots=True)
class Batch:
    """Lines one process wrote to one stream in one read, kept as one block of text.

    Visible line ``i`` has sequence number ``seq + i``. Retention may hide leading lines (``skip``) without copying;
    the text is freed when the whole batch is evicted, which is why ``chars`` counts all of it.
    """

    seq: int
    time: float
    process: str
    stream: Stream
    run: int
    text: str  # the lines joined by "\n"
    count: int  # visible lines
    chars: int  # len(text) + 1
    skip: int = 0

    @property
    def end(self) -> int:
        """One past the last sequence number."""
        return self.seq + self.count

    @property
    def last(self) -> int:
        return self.seq + self.count - 1

    @property
    def lines(self) -> list[str]:
        lines = self.text.split("\n")
        return lines[self.skip :] if self.skip else lines

    def hide(self, more: int) -> Batch:
        return Batch(
            self.seq + more,
            self.time,
            self.process,
            self.stream,
            self.run,
            self.text,
            self.count - more,
            self.chars,
            self.skip + more,
        )


@dataclass(slots=True)
class LogLine:
    seq: int
    time: float
    process: str
    stream: Stream
    run: int
    text: str  # raw: ANSI sequences and NUL bytes kept

    @property
    def plain(self) -> str:
        return strip(self.text)


@dataclass(frozen=True, slots=True)
class TailResult:
    lines: list[LogLine]
    next: int  # pass as ``since`` to continue
    gap: int  # lines after ``since`` that retention already evicted
    truncated: bool = False  # a budget ended the read before ``limit`` lines
    earlier: tuple[int, int] | None = None  # a truncated tail: (since, limit) that reads the lines it left out


@dataclass(frozen=True, slots=True)
class Filters:
    stream: Stream | None = None
    min_level: int = 0  # index into LEVELS
    after: float | None = None
    before: float | None = None
    pattern: Pattern | None = None
    min_run: int = 0  # brummer's notes are run 0: 1 means the processes' own output only

    def batch_ok(self, batch: Batch) -> bool:
        """What a batch's metadata decides (its text is the walk's business)."""
        if self.stream is not None and batch.stream != self.stream:
            return False
        if batch.run < self.min_run:
            return False
        if self.after is not None and batch.time < self.after:
            return False
        return not (self.before is not None and batch.time > self.before)

    @property
    def per_line(self) -> bool:
        return self.min_level > 0 or self.pattern is not None


@dataclass(frozen=True, slots=True)
class Search:
    """A walk's request: does ``pattern`` match ``text`` (a line, or a whole batch when ``block``)?"""

    pattern: Pattern
    text: str
    block: bool = False

    def run(self) -> bool:
        return self.pattern.search_block(self.text) if self.block else self.pattern.search(self.text)

    async def run_async(self) -> bool:
        return await self.pattern.search_async(self.text, block=self.block)


class Meter:
    """Work done since the last pause: characters of stored text looked at, and time."""

    __slots__ = ("chars", "since")

    def __init__(self) -> None:
        self.chars = 0
        self.since = time.perf_counter()

    def spend(self, chars: int) -> bool:
        """Count ``chars`` of work; true once the slice is full (the caller pauses, then ``reset``s)."""
        self.chars += chars
        return self.chars >= SLICE_CHARS or time.perf_counter() - self.since >= SLICE_SECONDS

    def reset(self) -> None:
        self.chars = 0
        self.since = time.perf_counter()


Step = LogLine | Search | None
Walk = Generator[Step, bool | None, None]


def walk_after(pools: list[list[Batch]], since: int, filters: Filters, meter: Meter) -> Walk:
    """Lines with sequence number > ``since``, oldest first, merged across ``pools``."""
    starts = [pool[bisect_right(pool, since, key=_last) :] for pool in pools]
    for batch in heapq.merge(*starts, key=_seq):
        first = max(0, since + 1 - batch.seq)
        if filters.batch_ok(batch):
            lines = enumerate(batch.lines[first:], first)  # split once: a forward walk mostly reads on to the end
            yield from _walk_lines(batch, lines, batch.chars, filters, meter)
        elif meter.spend(LINE_COST):
            yield None


def walk_newest(pools: list[list[Batch]], filters: Filters, meter: Meter) -> Walk:
    """Lines newest first, merged across ``pools``."""
    for batch in heapq.merge(*(reversed(pool) for pool in pools), key=_seq, reverse=True):
        if filters.batch_ok(batch):
            yield from _walk_lines(batch, _backward(batch), 0, filters, meter)
        elif meter.spend(LINE_COST):
            yield None


def _backward(batch: Batch) -> Iterator[tuple[int, str]]:
    """A batch's visible lines, last first, cut out one at a time: a tail of a big batch costs only its tail."""
    text, end = batch.text, len(batch.text)
    for i in range(batch.count - 1, -1, -1):
        start = text.rfind("\n", 0, end) + 1
        yield i, text[start:end]
        end = start - 1


def _walk_lines(batch: Batch, lines: Iterator[tuple[int, str]], cost: int, filters: Filters, meter: Meter) -> Walk:
    """The lines of ``batch`` that pass ``filters``. ``cost``: work already done on the batch, paid with the first
    line (each step pays after its work, so that a reader capped at some slices still gets what they found)."""
    pattern = filters.pattern
    if pattern is not None:
        found = yield Search(pattern, strip(batch.text), block=True)
        cost += batch.chars
        if not found:
            if meter.spend(cost):
                yield None
            return
    check = filters.per_line
    for i, text in lines:
        cost += LINE_COST + len(text)
        keep = True
        if check:
            plain = strip(text)
            if pattern is not None:
                keep = bool((yield Search(pattern, plain)))
            if keep and filters.min_level:
                keep = LEVELS.index(level_of(plain, batch.stream)) >= filters.min_level
        if keep:
            yield LogLine(batch.seq + i, batch.time, batch.process, batch.stream, batch.run, text)
        if meter.spend(cost):
            yield None
        cost = 0


def _seq(batch: Batch) -> int:
    return batch.seq


def _last(batch: Batch) -> int:
    return batch.last
