"""Reading the store: batches and lines, filters, and merged walks across processes.

Batches of different processes hold disjoint runs of sequence numbers, so a walk over several processes is a
merge of their batch lists by sequence number: forward from a cursor (``oldest_after``) or backward from the newest
line (``newest``). Filters that need the text (level, pattern) look at the ANSI-stripped line, and a pattern is
first tried on a whole batch so batches without a match cost one regex scan.
"""

from __future__ import annotations

import functools
import heapq
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from brummer.logs.lines import strip

LEVELS = ("debug", "info", "warn", "error")


@functools.cache
def _level_patterns() -> tuple[re.Pattern[str], ...]:
    """Compiled on first use: only queries need them, and startup should not pay for them."""
    flags = re.IGNORECASE
    return (
        re.compile(
            r"\w*(?:error|exception)\b"  # error, TypeError, RuntimeException
            r"|\b(?:errors? in|fatal|panic(?:ked)?|traceback|failed|failure|crash(?:ed)?)\b|ERR!|✘|⨯",
            flags,
        ),
        re.compile(r"\b(?:0|no) errors?\b|\berrors?: (?:0|none)\b", flags),
        re.compile(r"\bwarn(?:ing)?s?\b|\bdeprecat|⚠", flags),
        re.compile(r"\b(?:debug|trace|verbose)\b", flags),
    )


@dataclass(slots=True)
class Batch:
    """Lines one process wrote to one stream in one read, kept as one block of text.

    Visible line ``i`` has sequence number ``seq + i``. Retention may hide leading lines (``skip``) without copying;
    the text is freed when the whole batch is evicted, which is why ``chars`` counts all of it.
    """

    seq: int
    time: float
    process: str
    stream: str
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
    stream: str
    run: int
    text: str  # raw: ANSI sequences and NUL bytes kept

    @property
    def plain(self) -> str:
        return strip(self.text)

    @property
    def level(self) -> str:
        return classify(self.plain) if self.stream != "brummer" else "info"

    def to_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "time": self.time,
            "process": self.process,
            "stream": self.stream,
            "text": self.plain,
            "level": self.level,
        }


@dataclass(frozen=True, slots=True)
class TailResult:
    lines: list[LogLine]
    next: int  # pass as ``since`` to continue
    gap: int  # lines after ``since`` that retention already evicted


def classify(plain: str) -> str:
    """A line's level from its text: error, warn, debug, else info."""
    error, not_error, warn, debug = _level_patterns()
    if error.search(plain) and not not_error.search(plain):
        return "error"
    if warn.search(plain):
        return "warn"
    if debug.search(plain):
        return "debug"
    return "info"


def level_rank(level: str | None) -> int:
    if level is None:
        return 0
    try:
        return LEVELS.index(level.lower().removesuffix("ing"))
    except ValueError:
        raise ValueError(f"unknown level {level!r} (one of: {', '.join(LEVELS)})") from None


@dataclass(frozen=True, slots=True)
class Filters:
    stream: str | None = None
    min_level: int = 0  # index into LEVELS
    after: float | None = None
    before: float | None = None
    pattern: re.Pattern[str] | None = None

    def batch_ok(self, batch: Batch) -> bool:
        if self.stream is not None and batch.stream != self.stream:
            return False
        if self.after is not None and batch.time < self.after:
            return False
        if self.before is not None and batch.time > self.before:
            return False
        return not (self.pattern is not None and not self.pattern.search(strip(batch.text)))

    @property
    def per_line(self) -> bool:
        return self.min_level > 0 or self.pattern is not None

    def line_ok(self, text: str, stream: str) -> bool:
        plain = strip(text)
        if self.pattern is not None and not self.pattern.search(plain):
            return False
        if self.min_level > 0:
            level = classify(plain) if stream != "brummer" else "info"
            return LEVELS.index(level) >= self.min_level
        return True


def _lines(batch: Batch, indexes: range, filters: Filters) -> Iterator[LogLine]:
    lines = batch.lines
    check = filters.per_line
    for i in indexes:
        text = lines[i]
        if check and not filters.line_ok(text, batch.stream):
            continue
        yield LogLine(batch.seq + i, batch.time, batch.process, batch.stream, batch.run, text)


def iter_after(pools: list[list[Batch]], since: int, filters: Filters) -> Iterator[LogLine]:
    """Lines with sequence number > ``since``, oldest first, merged across ``pools``."""
    starts = [islice(pool, bisect_right(pool, since, key=_last), None) for pool in pools]
    for batch in heapq.merge(*starts, key=_seq):
        if not filters.batch_ok(batch):
            continue
        first = max(0, since + 1 - batch.seq)
        yield from _lines(batch, range(first, batch.count), filters)


def oldest_after(pools: list[list[Batch]], since: int, limit: int, filters: Filters) -> list[LogLine]:
    return list(islice(iter_after(pools, since, filters), limit))


def newest(pools: list[list[Batch]], limit: int, filters: Filters) -> list[LogLine]:
    """The newest ``limit`` matching lines, oldest first."""
    found: list[LogLine] = []
    if limit <= 0:
        return found
    for batch in heapq.merge(*(reversed(pool) for pool in pools), key=_seq, reverse=True):
        if not filters.batch_ok(batch):
            continue
        for line in _lines(batch, range(batch.count - 1, -1, -1), filters):
            found.append(line)
            if len(found) >= limit:
                found.reverse()
                return found
    found.reverse()
    return found


def _seq(batch: Batch) -> int:
    return batch.seq


def _last(batch: Batch) -> int:
    return batch.last
