"""The log store: every line every process printed, within retention, with URL and error detection.

The store is the source of truth. Lines are kept in batches (one per pipe read) so the hot path does per-batch,
not per-line, work: a batch gets a run of global sequence numbers, one timestamp, one retention check, one URL
prefilter and one error-scanner call. Queries (tail, since-cursor, search) walk batches and only then lines.

Readers that need completeness (MCP ``logs_tail``, readiness ``log =``) read here by cursor; the bus only tells them
that something changed. Every reader that may look at the whole store uses ``read``, which works in slices with a
checkpoint between them (``reading.py``); ``tail`` is for readers bounded by construction. The store publishes
``LogLines`` (low), ``UrlDetected``, ``ErrorDetected`` and ``ErrorResolved`` (high) and ``ErrorRepeated`` (medium).
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

from brummer.bus import (
    Bus,
    ErrorDetected,
    ErrorRepeated,
    ErrorResolved,
    LogLines,
    Notice,
    UrlDetected,
    UrlsCleared,
)
from brummer.logs import query, reading
from brummer.logs.error_book import ErrorBook
from brummer.logs.kinds import BRUMMER, Level, Stream, level_rank
from brummer.logs.lines import strip
from brummer.logs.query import Batch, TailResult
from brummer.logs.urls import UrlWatch, find_urls, origin

if TYPE_CHECKING:
    from brummer.logs.errors import CleanCycle, DetectedError, ErrorScanner, Finding
    from brummer.logs.patterns import Pattern

ERROR_IDLE_FLUSH = 0.3  # seconds of quiet after which an open multi-line error group is complete
_LAST = attrgetter("last")  # a batch's last sequence number, for bisecting
_URL_HINT = re.compile("://").search  # re's literal search beats `in` for this needle on log text


@dataclass(slots=True)
class ProcessLog:
    """One process's retained batches (``batches[head:]``) and its detection state."""

    name: str
    batches: list[Batch] = field(default_factory=list)
    head: int = 0
    lines: int = 0
    chars: int = 0
    total_lines: int = 0  # ever appended, including evicted
    scanners: dict[Stream, ErrorScanner] = field(default_factory=dict)
    last_feed: dict[Stream, float] = field(default_factory=dict)
    urls: dict[str, float] = field(default_factory=dict)  # url -> first seen (wall time); owned ones only
    watch: UrlWatch | None = None  # while a run's port watcher confirms URLs (Linux): printed ones go there
    run: int = 0  # the run whose output was scanned last (errors are recorded with it)

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
        self._urls_changed = trio.lowlevel.ParkingLot()
        self._group_opened = trio.lowlevel.ParkingLot()  # a scanner started a multi-line group: a flush is due later

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
        log = self._log(process)
        batch = self._add(log, stream, text, count, run)
        self.bus.publish(LogLines(batch))
        plain = strip(text)
        if _URL_HINT(plain):
            self._detect_urls(log, plain)
        if log.watch is not None:
            log.watch.saw_output(plain)
        self._scan_errors(log, stream, plain, batch)
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

    def _detect_urls(self, log: ProcessLog, plain: str) -> None:
        """A printed URL is the process's own once it listens on it (its watcher checks); without a watcher (no
        /proc to read), the first process to print a server's URL gets it."""
        for url in find_urls(plain):
            if url in log.urls:
                continue
            if log.watch is not None:
                log.watch.mention(url)
            elif not self._claimed_elsewhere(log, url):
                self._claim(log, url)

    def _claimed_elsewhere(self, log: ProcessLog, url: str) -> bool:
        """A server another process announced (a web server logging the API it calls is not the API)."""
        key = origin(url)
        return any(key == origin(u) for other in self._logs.values() if other is not log for u in other.urls)

    def _claim(self, log: ProcessLog, url: str) -> None:
        log.urls[url] = time.time()
        self.bus.publish(UrlDetected(log.name, url))
        self._urls_changed.unpark_all()
        self._wake()

    def watch_urls(self, process: str) -> UrlWatch:
        """From now on ``process``'s printed URLs wait in the returned watch until ``claim_url``."""
        watch = self._log(process).watch = UrlWatch()
        return watch

    def unwatch_urls(self, process: str, watch: UrlWatch) -> None:
        log = self._log(process)
        if log.watch is watch:
            log.watch = None

    def claim_url(self, process: str, url: str, *, first_wins: bool = False) -> bool:
        """Credit ``url`` to ``process`` (its run listens there); with ``first_wins``, only if no other process has
        it (today's rule, where sockets cannot be read). Returns whether the process has it now."""
        log = self._log(process)
        if url not in log.urls:
            if first_wins and self._claimed_elsewhere(log, url):
                return False
            self._claim(log, url)
        return True

    def _scan_errors(self, log: ProcessLog, stream: Stream, plain: str, batch: Batch) -> None:
        scanner = log.scanners.get(stream)
        if scanner is None:
            from brummer.logs.errors import ErrorScanner  # ~10 ms of regexes: after the first child, not before

            scanner = log.scanners[stream] = ErrorScanner()
        log.last_feed[stream] = trio.current_time()
        log.run = batch.run
        found = scanner.feed_text(plain)
        if found:
            self._apply(log, stream, found, batch.end - 1)
        if self._group_opened and scanner.pending:
            self._group_opened.unpark_all()  # the flusher sleeps until this group's quiet deadline

    def _apply(self, log: ProcessLog, stream: Stream, found: list[Finding], seq: int) -> None:
        """Record errors and apply clean signals in the order of the lines that produced them: an error printed
        before a clean line in the same batch is resolved by it, one printed after it stays open."""
        from brummer.logs.errors import CleanCycle  # loaded already: the scanner that found these imported it

        for finding in found:
            if isinstance(finding, CleanCycle):
                self._resolve(log, stream, finding, seq)
            else:
                self._record_error(log, stream, finding, seq)

    def _record_error(self, log: ProcessLog, stream: Stream, error: DetectedError, seq: int) -> None:
        for scanner in log.scanners.values():
            scanner.errors_seen()  # the clean signal may come on another stream (webpack-dev-server)
        group, opened = self.errors.record(log.name, stream, error, time.time(), seq, log.run)
        if opened:
            self.bus.publish(ErrorDetected(group))  # new, or back after it was resolved
        else:
            self.bus.publish(ErrorRepeated(group.id, log.name, group.count))

    def _resolve(self, log: ProcessLog, stream: Stream, clean: CleanCycle, seq: int) -> None:
        # An error of the same tool still being read on another stream (Vite's on stderr, its "hmr update" on
        # stdout) was printed before this line: finish it first, so that this signal resolves it.
        for other, scanner in log.scanners.items():
            if other != stream and scanner.pending_family in clean.families:
                self._apply(log, other, scanner.flush(), seq)
        resolved = self.errors.end_cycle(log.name, clean, time.time(), seq)
        if resolved:
            self.bus.publish(ErrorResolved(log.name, clean.reason, tuple(resolved)))

    def flush_errors(self, process: str | None = None, idle_for: float = 0.0) -> None:
        """Finish open multi-line error groups quiet for ``idle_for`` seconds (all of a process's at its exit)."""
        now = trio.current_time()
        logs = self._logs.values() if process is None else [self._logs[process]] if process in self._logs else []
        for log in logs:
            for stream, scanner in log.scanners.items():
                if scanner.pending and log.last_feed.get(stream, now) + idle_for <= now:  # as flush_due() adds
                    self._apply(log, stream, scanner.flush(), self._seq)
                    self._wake()

    def flush_due(self, idle_for: float) -> float | None:
        """When the earliest open multi-line group will have been quiet for ``idle_for`` seconds (Trio time), or
        None if no group is open."""
        due = [
            log.last_feed.get(stream, 0.0) + idle_for
            for log in self._logs.values()
            for stream, scanner in log.scanners.items()
            if scanner.pending
        ]
        return min(due, default=None)

    async def wait_group_opened(self) -> None:
        """Return once some stream's scanner is in the middle of a multi-line group."""
        await self._group_opened.park()

    def run_ended(self, process: str, run: int, *, clean: bool) -> None:
        """Run ``run`` of ``process`` is over: finish its error groups. ``clean``: it exited 0 on its own, so the
        groups of tools that fail whenever they report an error (eslint, tsc: ``CLEAN_EXIT``) that earlier runs
        left open are gone (a clean ``eslint src`` prints nothing at all)."""
        self.flush_errors(process)
        if not clean:
            return
        from brummer.logs.errors import CLEAN_EXIT

        for family, tool in CLEAN_EXIT.items():
            resolved = self.errors.end_run(process, run, family, f"{tool}: exit code 0", time.time(), self._seq)
            if resolved:
                self.bus.publish(ErrorResolved(process, f"{tool}: exit code 0", tuple(resolved)))
                self._wake()

    def clear_urls(self, process: str) -> None:
        """The process exited: its URLs are gone."""
        log = self._logs.get(process)
        if log and log.urls:
            urls = tuple(log.urls)
            log.urls.clear()
            self.bus.publish(UrlsCleared(process, urls))
            self._urls_changed.unpark_all()
            self._wake()

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
        await self._urls_changed.park()

    async def wait_beyond(self, seq: int) -> None:
        """Return once a line newer than ``seq`` exists."""
        while self._seq <= seq:
            await self._changed.park()

    # -- reading ---------------------------------------------------------------------------------------------

    def processes(self) -> list[str]:
        return list(self._logs)

    def urls(self, process: str | None = None) -> dict[str, list[str]]:
        logs = [self._logs[process]] if process in self._logs else [] if process else self._logs.values()
        return {log.name: list(log.urls) for log in logs if log.urls}

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
