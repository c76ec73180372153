"""The log store: every line every process printed, within retention, with URL and error detection.

The store is the source of truth. Lines are kept in batches (one per pipe read) so the hot path does per-batch,
not per-line, work: a batch gets a run of global sequence numbers, one timestamp, one retention check, one URL
prefilter and one error-scanner call. Queries (tail, since-cursor, search) walk batches and only then lines.

Readers that need completeness (MCP ``logs_tail``, readiness ``log =``) read here by cursor; the bus only tells them
that something changed. Every reader that may look at the whole store uses ``read``, which works in slices with a
checkpoint between them (``reading.py``); ``tail`` is for readers bounded by construction. The store publishes
``LogLines`` (low); what it hands on announces the rest: ``url_owners`` (who owns which URL: ``UrlDetected``,
``UrlsCleared``) and ``error_feed`` (the error scanners: ``ErrorDetected``, ``ErrorResolved``, ``ErrorRepeated``).
An announcement is published and, where ``up --plain`` prints a line for it, kept as a note in the process's log.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import TYPE_CHECKING

import trio

from brummer.bus import Bus, ErrorDetected, ErrorResolved, Event, LogLines, Notice, UrlDetected
from brummer.logs import query, reading
from brummer.logs.error_book import ErrorBook, ErrorGroup
from brummer.logs.error_feed import ERROR_IDLE_FLUSH, ErrorFeed
from brummer.logs.kinds import BRUMMER, Level, Stream, level_rank
from brummer.logs.lines import strip
from brummer.logs.query import Batch, TailResult
from brummer.logs.url_owners import UrlOwners
from brummer.logs.urls import UrlWatch

if TYPE_CHECKING:
    from brummer.logs.errors import DetectedError
    from brummer.logs.patterns import Pattern

_LAST = attrgetter("last")  # a batch's last sequence number, for bisecting
_URL_HINT = re.compile("://").search  # re's literal search beats `in` for this needle on log text


@dataclass(slots=True)
class ProcessLog:
    """One process's retained batches (``batches[head:]``)."""

    name: str
    batches: list[Batch] = field(default_factory=list)
    head: int = 0
    lines: int = 0
    chars: int = 0
    total_lines: int = 0  # ever appended, including evicted

    def live(self) -> list[Batch]:
        return self.batches[self.head :] if self.head else self.batches


class LogStore:
    def __init__(self, bus: Bus, *, max_lines: int = 50_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.bus = bus
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.errors = ErrorBook()
        self._logs: dict[str, ProcessLog] = {}
        self._seq = 0
        self._changed = trio.lowlevel.ParkingLot()  # any append, note, URL or error change
        self._urls = UrlOwners(self._announce, self._wake)
        self._feed = ErrorFeed(self._announce, self.errors, self._wake)

    # -- writing ---------------------------------------------------------------------------------------------

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest line (0 before the first)."""
        return self._seq

    def _log(self, process: str) -> ProcessLog:
        log = self._logs.get(process)
        if log is None:
            log = self._logs[process] = ProcessLog(process)
        return log

    def append(self, process: str, stream: Stream, text: str, count: int, run: int = 0) -> Batch:
        """Store ``count`` lines (``text``: joined by newlines) that ``process`` wrote to ``stream``; detect URLs
        and errors; publish. This is the hot path of a log flood: everything here is per batch."""
        batch = self._add(self._log(process), stream, text, count, run)
        self.bus.publish(LogLines(batch))
        plain = strip(text)
        if _URL_HINT(plain):
            self._urls.printed(process, plain)
        self._urls.output(process, plain)
        self._feed.feed(process, stream, plain, run, batch.end - 1)
        self._wake()
        return batch

    def note(self, text: str, process: str | None = None, level: Level = "info", *, publish: bool = True) -> None:
        """brummer's own message, kept in the process's log (stream ``brummer``; process ``BRUMMER`` when it belongs
        to none) and announced as a ``Notice`` (unless ``publish`` is false: state changes travel as
        ``ProcessChanged`` instead)."""
        self._add(self._log(process or BRUMMER), Stream.BRUMMER, text, text.count("\n") + 1, 0)
        if publish:
            self.bus.publish(Notice(text, process, level))
        self._wake()

    def _announce(self, event: Event) -> None:
        """What ``url_owners`` and ``error_feed`` found: published, and said in the process's log as ``up --plain``
        says it (``describe``), so that ``brummer logs`` and ``logs_tail`` tell what the terminal told."""
        self.bus.publish(event)
        if isinstance(event, UrlDetected):
            self.note(event.describe(), event.process, publish=False)
        elif isinstance(event, ErrorDetected):
            self.note(event.describe(), event.group.process, publish=False)
        elif isinstance(event, ErrorResolved):
            self.note("\n".join(event.describe()), event.process, publish=False)

    def _add(self, log: ProcessLog, stream: Stream, text: str, count: int, run: int) -> Batch:
        """Number the lines, keep the batch, apply retention."""
        batch = Batch(self._seq + 1, time.time(), log.name, stream, run, text, count, len(text) + 1)
        self._seq += count
        log.batches.append(batch)
        log.lines += batch.count
        log.total_lines += batch.count
        log.chars += batch.chars
        while log.lines > self.max_lines or log.chars > self.max_bytes:
            oldest = log.batches[log.head]
            excess = log.lines - self.max_lines
            if 0 < excess < oldest.count and log.chars <= self.max_bytes:
                log.batches[log.head] = oldest.hide(excess)  # a new object: subscribers may hold the old one
                log.lines -= excess
                break
            log.head += 1
            log.lines -= oldest.count
            log.chars -= oldest.chars
        if log.head > 64 and log.head * 2 > len(log.batches):
            del log.batches[: log.head]
            log.head = 0
        return batch

    # -- URLs (``url_owners``) and errors (``error_feed``) ---------------------------------------------------

    def watch_urls(self, process: str) -> UrlWatch:
        """From now on ``process``'s printed URLs wait in the returned watch until ``claim_url``."""
        self._log(process)
        return self._urls.watch(process)

    def unwatch_urls(self, process: str, watch: UrlWatch) -> None:
        self._urls.unwatch(process, watch)

    def claim_url(self, process: str, url: str, *, first_wins: bool = False) -> bool:
        """Credit ``url`` to ``process`` (its run listens there); with ``first_wins``, only if no other process has
        it (the rule where sockets cannot be read). Returns whether the process has it now."""
        self._log(process)
        return self._urls.claim(process, url, first_wins=first_wins)

    def clear_urls(self, process: str) -> None:
        """The process exited: its URLs are gone."""
        self._urls.clear(process)

    def record_error(self, process: str, stream: Stream, error: DetectedError) -> ErrorGroup:
        """An error found outside the process's output (a page's, by the browser telemetry), near the newest line."""
        group = self._feed.record_outside(process, stream, error, self._seq)
        self._wake()
        return group

    def resolve_errors(self, process: str, family: str, keys: Iterable[str], reason: str) -> list[ErrorGroup]:
        """Resolve these open groups (``ErrorBook.resolve_keys``) and announce it."""
        resolved = self._feed.resolve_keys(process, family, keys, reason, self._seq)
        if resolved:
            self._wake()
        return resolved

    def flush_errors(self, process: str | None = None, idle_for: float = 0.0) -> None:
        """Finish open multi-line error groups quiet for ``idle_for`` seconds (all of a process's at its exit)."""
        self._feed.flush(process, idle_for, self._seq)

    def flush_due(self, idle_for: float) -> float | None:
        """When the earliest open multi-line group will have been quiet for ``idle_for`` seconds (Trio time), or
        None if no group is open."""
        return self._feed.due(idle_for)

    async def wait_group_opened(self) -> None:
        """Return once some stream's scanner is in the middle of a multi-line group."""
        await self._feed.wait_group_opened()

    def reading_error(self, process: str, stream: Stream) -> bool:
        """Whether a multi-line error group of ``process`` on ``stream`` is still being read."""
        return self._feed.reading_group(process, stream)

    def run_ended(self, process: str, run: int, *, clean: bool) -> None:
        """Run ``run`` of ``process`` is over: finish its error groups; a ``clean`` exit (0, on its own) resolves
        what tools that fail on errors (eslint, tsc) left open."""
        self._feed.run_ended(process, run, clean=clean, seq=self._seq)

    def _wake(self) -> None:
        if self._changed:
            self._changed.unpark_all()

    async def wait_changed(self) -> None:
        """Return after the next append, note, URL or error change."""
        await self._changed.park()

    async def wait_quiet(self, quiet: float, at_most: float) -> None:
        """Return once nothing was appended for ``quiet`` seconds, or after ``at_most`` seconds anyway."""
        with trio.move_on_after(at_most):
            while True:
                with trio.move_on_after(quiet) as calm:
                    await self._changed.park()
                if calm.cancelled_caught:
                    return

    async def wait_urls_changed(self) -> None:
        await self._urls.wait_changed()

    async def wait_beyond(self, seq: int) -> None:
        """Return once a line newer than ``seq`` exists."""
        while self._seq <= seq:
            await self._changed.park()

    # -- reading ---------------------------------------------------------------------------------------------

    def processes(self) -> list[str]:
        return list(self._logs)

    def urls(self, process: str | None = None) -> dict[str, list[str]]:
        """The URLs each process owns (of one process, or of all in the order they first wrote)."""
        return self._urls.of([process] if process else self._logs)

    def stats(self, process: str) -> tuple[int, int, int]:
        """(retained lines, retained chars, lines ever written) for ``process``."""
        log = self._logs.get(process)
        return (log.lines, log.chars, log.total_lines) if log else (0, 0, 0)

    def _select(self, process: str | Iterable[str] | None) -> list[ProcessLog]:
        if process is None:
            return list(self._logs.values())
        names = [process] if isinstance(process, str) else list(process)
        return [self._logs[name] for name in names if name in self._logs]

    def first_seq(self, process: str | Iterable[str] | None = None) -> int:
        """The oldest retained sequence number (for reporting gaps left by retention)."""
        firsts = [log.batches[log.head].seq for log in self._select(process) if log.head < len(log.batches)]
        return min(firsts, default=self._seq + 1)

    def _request(
        self,
        process: str | Iterable[str] | None,
        filters: query.Filters,
        since: int | None,
        limit: int,
        *,
        budget: int | None = None,
        clip: int = reading.LINE_CHARS,
    ) -> reading.Request:
        # The batch lists are copied (a reader that checkpoints must not see them change); reading forward, only
        # from ``since`` on: a readiness check reads after every append of any process.
        logs = self._select(process)
        if since is None:
            pools = [log.batches[log.head :] for log in logs]
        else:
            pools = [log.batches[bisect_right(log.batches, since, lo=log.head, key=_LAST) :] for log in logs]
        gap = max(0, self.first_seq(process) - 1 - since) if since is not None else 0
        return reading.Request(pools, filters, since, self._seq, gap, limit, budget, clip)

    def tail(
        self,
        process: str | Iterable[str] | None = None,
        *,
        since: int | None = None,
        limit: int = 100,
        stream: Stream | None = None,
        level: Level | None = None,
        after: float | None = None,
        before: float | None = None,
        pattern: Pattern | None = None,
        slices: int | None = None,
    ) -> TailResult:
        """Lines matching every given filter, read on the spot: for readers bounded by ``limit`` (the panel's rows)
        or by ``slices`` of work (then the result may be ``truncated``). Everything else uses ``read``.

        Without ``since``: the newest ``limit`` lines. With ``since``: the first ``limit`` lines after that
        sequence number, oldest first, so a reader can page forward with ``next``.
        """
        filters = query.Filters(stream, level_rank(level), after, before, pattern)
        return reading.read_sync(self._request(process, filters, since, limit), slices)

    async def read(
        self,
        process: str | Iterable[str] | None = None,
        *,
        since: int | None = None,
        limit: int = 100,
        stream: Stream | None = None,
        level: Level | None = None,
        pattern: Pattern | None = None,
        min_run: int = 0,
        budget: int | None = reading.ANSWER_CHARS,
        clip: int = reading.LINE_CHARS,
    ) -> TailResult:
        """``tail`` in slices of bounded work with checkpoints between them, and at most ``budget`` characters of
        lines (each counted at most ``clip``): for MCP answers and every reader that may look at the whole store.

        The page is of the store as it was when the call began; ``next`` never skips what came in meanwhile.
        ``min_run`` = 1 leaves out brummer's own notes (they belong to no run).
        """
        filters = query.Filters(stream, level_rank(level), pattern=pattern, min_run=min_run)
        return await reading.read(self._request(process, filters, since, limit, budget=budget, clip=clip))


async def serve_log_store(
    store: LogStore, *, task_status: trio.TaskStatus[LogStore] = trio.TASK_STATUS_IGNORED
) -> None:
    """The store's one background duty: finish multi-line error groups once their stream has gone quiet.

    It sleeps until the earliest open group's quiet deadline, and with no group open until one opens: an idle
    brummer does not wake for it at all."""
    task_status.started(store)
    while True:
        due = store.flush_due(ERROR_IDLE_FLUSH)
        if due is None:
            await store.wait_group_opened()
            continue
        await trio.sleep_until(due)
        store.flush_errors(idle_for=ERROR_IDLE_FLUSH)
