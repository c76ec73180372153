"""Feeding what processes print to their error scanners, and what the scanners find to the ``ErrorBook``.

One ``ErrorScanner`` per (process, stream), made when the stream first speaks: the detectors' regexes (~10 ms to
compile) load after the first child, not before. A scanner in the middle of a multi-line group (a traceback whose
frames are still coming) holds it until its stream has been quiet for ``ERROR_IDLE_FLUSH`` seconds: ``due`` says
when the earliest open group's quiet deadline is, and ``serve_log_store`` sleeps until then, or, with none open,
until a group opens (``wait_group_opened``). A run's end finishes its groups at once (``run_ended``).

What a scanner finds is applied in the order of the lines that produced it: an error printed before a clean line
(tsc's ``Found 0 errors``) in the same batch is resolved by it, one printed after it stays open. New, reopened and
resolved groups are published (``ErrorDetected``, ``ErrorResolved``: high), repeats as ``ErrorRepeated`` (medium).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import trio

from brummer.bus import ErrorDetected, ErrorRepeated, ErrorResolved, Event
from brummer.logs.error_book import ErrorBook, ErrorGroup
from brummer.logs.kinds import Stream

if TYPE_CHECKING:
    from brummer.logs.errors import CleanCycle, DetectedError, ErrorScanner, Finding

ERROR_IDLE_FLUSH = 0.3  # seconds of quiet after which an open multi-line error group is complete


@dataclass(slots=True)
class _Scanned:
    """One process's scanners, when each last got output, and the run whose output was scanned last."""

    scanners: dict[Stream, ErrorScanner] = field(default_factory=dict)
    last_feed: dict[Stream, float] = field(default_factory=dict)  # Trio time
    run: int = 0  # errors are recorded with it


class ErrorFeed:
    def __init__(self, announce: Callable[[Event], None], book: ErrorBook, changed: Callable[[], None]) -> None:
        self.announce = announce  # the store's: published, and said in the process's log
        self.book = book
        self._changed = changed  # the store's change signal: readers of errors wake on it
        self._processes: dict[str, _Scanned] = {}
        self._group_opened = trio.lowlevel.ParkingLot()  # a scanner started a multi-line group: a flush is due later

    def feed(self, process: str, stream: Stream, plain: str, run: int, seq: int) -> None:
        """Scan ``plain`` (a batch, ANSI-stripped) that ``process`` wrote to ``stream``; ``seq``: its last line."""
        scanned = self._processes.get(process)
        if scanned is None:
            scanned = self._processes[process] = _Scanned()
        scanner = scanned.scanners.get(stream)
        if scanner is None:
            from brummer.logs.errors import ErrorScanner  # ~10 ms of regexes: after the first child, not before

            scanner = scanned.scanners[stream] = ErrorScanner()
        scanned.last_feed[stream] = trio.current_time()
        scanned.run = run
        found = scanner.feed_text(plain)
        if found:
            self._apply(process, scanned, stream, found, seq)
        if self._group_opened and scanner.pending:
            self._group_opened.unpark_all()  # the flusher sleeps until this group's quiet deadline

    def reading_group(self, process: str, stream: Stream) -> bool:
        """Whether ``process``'s scanner of ``stream`` is in the middle of a multi-line group."""
        scanned = self._processes.get(process)
        scanner = scanned.scanners.get(stream) if scanned is not None else None
        return scanner is not None and scanner.pending

    def _apply(self, process: str, scanned: _Scanned, stream: Stream, found: list[Finding], seq: int) -> None:
        """Record errors and apply clean signals in the order of the lines that produced them."""
        from brummer.logs.errors import CleanCycle  # loaded already: the scanner that found these imported it

        for finding in found:
            if isinstance(finding, CleanCycle):
                self._resolve(process, scanned, stream, finding, seq)
            else:
                self._record(process, scanned, stream, finding, seq)

    def _record(self, process: str, scanned: _Scanned, stream: Stream, error: DetectedError, seq: int) -> None:
        for scanner in scanned.scanners.values():
            scanner.errors_seen()  # the clean signal may come on another stream (webpack-dev-server)
        group, opened = self.book.record(process, stream, error, time.time(), seq, scanned.run)
        if opened:
            self.announce(ErrorDetected(group))  # new, or back after it was resolved
        else:
            self.announce(ErrorRepeated(group.id, process, group.count))

    def _resolve(self, process: str, scanned: _Scanned, stream: Stream, clean: CleanCycle, seq: int) -> None:
        # An error of the same tool still being read on another stream (Vite's on stderr, its "hmr update" on
        # stdout) was printed before this line: finish it first, so that this signal resolves it.
        for other, scanner in scanned.scanners.items():
            if other != stream and scanner.pending_family in clean.families:
                self._apply(process, scanned, other, scanner.flush(), seq)
        resolved = self.book.end_cycle(process, clean, time.time(), seq)
        if resolved:
            self.announce(ErrorResolved(process, clean.reason, tuple(resolved)))

    def record_outside(self, process: str, stream: Stream, error: DetectedError, seq: int) -> ErrorGroup:
        """An error that no scanner found (a browser page's, reported by the telemetry): record and announce it,
        with the run whose output was scanned last."""
        scanned = self._processes.get(process)
        group, opened = self.book.record(process, stream, error, time.time(), seq, scanned.run if scanned else 0)
        self.announce(ErrorDetected(group) if opened else ErrorRepeated(group.id, process, group.count))
        return group

    def resolve_keys(self, process: str, family: str, keys: Iterable[str], reason: str, seq: int) -> list[ErrorGroup]:
        """Resolve these open groups of ``process`` (``ErrorBook.resolve_keys``) and announce it."""
        resolved = self.book.resolve_keys(process, family, keys, reason, time.time(), seq)
        if resolved:
            self.announce(ErrorResolved(process, reason, tuple(resolved)))
        return resolved

    def flush(self, process: str | None, idle_for: float, seq: int) -> None:
        """Finish open multi-line groups quiet for ``idle_for`` seconds (of one process, or of all)."""
        now = trio.current_time()
        if process is None:
            processes = list(self._processes.items())
        else:
            processes = [(process, self._processes[process])] if process in self._processes else []
        for name, scanned in processes:
            for stream, scanner in scanned.scanners.items():
                if scanner.pending and scanned.last_feed.get(stream, now) + idle_for <= now:  # as due() adds
                    self._apply(name, scanned, stream, scanner.flush(), seq)
                    self._changed()

    def due(self, idle_for: float) -> float | None:
        """When the earliest open multi-line group will have been quiet for ``idle_for`` seconds (Trio time), or
        None if no group is open."""
        deadlines = [
            scanned.last_feed.get(stream, 0.0) + idle_for
            for scanned in self._processes.values()
            for stream, scanner in scanned.scanners.items()
            if scanner.pending
        ]
        return min(deadlines, default=None)

    async def wait_group_opened(self) -> None:
        """Return once some stream's scanner is in the middle of a multi-line group."""
        await self._group_opened.park()

    def run_ended(self, process: str, run: int, *, clean: bool, seq: int) -> None:
        """Run ``run`` of ``process`` is over: finish its groups. ``clean``: it exited 0 on its own, so the groups
        of tools that fail whenever they report an error (eslint, tsc: ``CLEAN_EXIT``) that earlier runs left open
        are gone (a clean ``eslint src`` prints nothing at all)."""
        self.flush(process, 0.0, seq)
        if not clean:
            return
        from brummer.logs.errors import CLEAN_EXIT

        for family, tool in CLEAN_EXIT.items():
            resolved = self.book.end_run(process, run, family, f"{tool}: exit code 0", time.time(), seq)
            if resolved:
                self.announce(ErrorResolved(process, f"{tool}: exit code 0", tuple(resolved)))
                self._changed()
