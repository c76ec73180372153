"""Error detection in process output: multi-line, per stream, incremental.

`ErrorScanner` reads the lines of ONE output stream of one process (batches in order, ANSI already
stripped) and returns a `DetectedError` per error it recognises: a Node or Python traceback, a tsc
diagnostic, a webpack/Vite/esbuild/Next.js build error, an eslint error row, a failed pytest test, a Go
or Rust panic. Everything else is not an error. This replaces brummer-go's rules, under which every
stderr line and every line containing "error" counted: here a warning, the word "error" in prose
("0 errors", "error-handler.js loaded") and progress output on stderr are nothing.

Speed is part of the contract: `feed` runs on every batch of every log flood. A batch is first searched
once per trigger literal (`_TRIGGERS`, each a C-speed substring search over the joined batch); only a
batch containing one, or a batch arriving while a multi-line group is open, is looked at line by line,
and even then the scanner jumps from one trigger to the next. Each family module knows the shapes of
one tool's output and turns a trigger line into a `Group` that takes the lines that follow.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence

from . import bundlers, eslint, go, nextjs, node, pytest, python, rust, typescript
from ._common import MAX_GROUP_LINES, DetectedError, Group, Verdict

__all__ = ["DetectedError", "ErrorScanner"]

# Every line that can start an error contains one of these. Keep the list short: each entry costs one
# pass over every batch. ("rror" covers Error/error/errors, "panic" covers Go's panic and Rust's
# panicked, "FAIL" pytest's FAILED/FAILURES, "ERROR" webpack/esbuild/pytest; the two symbols are free
# on ASCII text.)
_TRIGGERS = ("rror", "ERROR", "FAIL", "panic", python.TRACEBACK, "⨯", "✘", "Failed to compile")


def _searcher(literal: str) -> Callable[[str, int, int], int]:
    """A finder for one literal. re's literal search beats `str.find` for the short literals on typical
    log text; `str.find` wins for the long one (measured with scripts/microbench_errors.py)."""
    if len(literal) > 20:
        return lambda text, pos, end: text.find(literal, pos, end)
    search = re.compile(re.escape(literal)).search

    def find(text: str, pos: int, end: int) -> int:
        match = search(text, pos, end)
        return -1 if match is None else match.start()

    return find


_SEARCHES = tuple(map(_searcher, _TRIGGERS))

# Order matters where shapes overlap: Next's "⨯ TypeError" before Node's "TypeError", Python's bare
# SyntaxError before Node's, bundlers' "ERROR in" before pytest's "ERROR path.py".
_STARTERS = (
    python.start,
    rust.start,
    go.start,
    typescript.start,
    eslint.start,
    bundlers.start,
    nextjs.start,
    pytest.start,
    node.start,
)

_LONGEST = max(map(len, _TRIGGERS))
_LOOKBACK = 64  # lines kept for families whose report begins above its trigger line (Node, eslint)


def _first_trigger(text: str, pos: int = 0) -> int:
    """Offset of the earliest trigger literal in ``text[pos:]``, or -1."""
    best = -1
    end = len(text)
    for search in _SEARCHES:
        found = search(text, pos, end)
        if found >= 0 and (best < 0 or found < best):
            # later literals only matter if they start before this one: search no further than that
            best, end = found, found + _LONGEST
    return best


def _has_trigger(line: str) -> bool:
    return any(lit in line for lit in _TRIGGERS)


class ErrorScanner:
    """Incremental, multi-line error detection for ONE output stream of one process (e.g. web's stderr).

    Errors come back from `feed` as soon as their group is known to be complete, which is when a line
    arrives that does not belong to it; when the stream goes quiet, the caller calls `flush` (see
    `pending`). Not thread-safe; one scanner per stream.
    """

    __slots__ = ("_group", "_lookback")

    def __init__(self) -> None:
        self._group: Group | None = None
        self._lookback: deque[str] = deque(maxlen=_LOOKBACK)

    @property
    def pending(self) -> bool:
        """A multi-line group is open: call `flush` if no more lines come for a while (~300 ms)."""
        return self._group is not None

    def feed(self, lines: Sequence[str]) -> list[DetectedError]:
        """Scan the next lines of the stream (in order, without newlines, ANSI stripped)."""
        if not lines:
            return []
        return self._feed(lines, None)

    def feed_text(self, text: str) -> list[DetectedError]:
        """``feed`` for a block of lines joined by newlines, as the log store holds them: a block without a
        trigger costs the trigger searches and nothing else (no split, no join)."""
        if self._group is None and _first_trigger(text) < 0:
            self._lookback.extend(text.rsplit("\n", _LOOKBACK)[-_LOOKBACK:])
            return []
        return self._feed(text.split("\n"), text)

    def _feed(self, lines: Sequence[str], text: str | None) -> list[DetectedError]:
        out: list[DetectedError] = []
        if self._group is not None:
            self._scan(lines, 0, text, 0, out)
            return out
        if text is None:
            text = "\n".join(lines)
        pos = _first_trigger(text)
        if pos < 0:
            self._lookback.extend(lines[-_LOOKBACK:])
            return out
        first = text.count("\n", 0, pos)
        self._lookback.extend(lines[max(0, first - _LOOKBACK) : first])
        self._scan(lines, first, text, text.rfind("\n", 0, pos) + 1, out)
        return out

    def flush(self) -> list[DetectedError]:
        """The stream went quiet or ended: finish the group in progress."""
        out: list[DetectedError] = []
        while self._group is not None:
            self._close(out)
        return out

    def _close(self, out: list[DetectedError]) -> None:
        group = self._group
        assert group is not None
        self._group = None
        self._lookback.clear()  # lines of a group are no context for the next one
        out.extend(group.ready)
        found = group.close()
        out.extend(found)
        if not found and not group.ready:
            replay = group.replay()
            if replay:
                self._scan(replay, 0, None, 0, out)

    def _scan(self, lines: Sequence[str], i: int, text: str | None, offset: int, out: list[DetectedError]) -> None:
        """Look at ``lines[i:]`` one by one while a group is open or a line has a trigger; between
        triggers, jump with one search. ``offset`` is where ``lines[i]`` starts in ``text``."""
        lookback = self._lookback
        n = len(lines)
        while i < n:
            line = lines[i]
            group = self._group
            if group is not None:
                verdict = group.feed(line) if len(group.lines) < MAX_GROUP_LINES else Verdict.REJECT
                if group.ready:
                    out.extend(group.ready)
                    group.ready.clear()
                if verdict is Verdict.ACCEPT:
                    i, offset = i + 1, offset + len(line) + 1
                    continue
                self._close(out)
                if verdict is Verdict.DONE:
                    i, offset = i + 1, offset + len(line) + 1
                continue  # a rejected line is looked at again, outside any group
            if _has_trigger(line):
                for start in _STARTERS:
                    group = start(line, lookback)
                    if group is not None:
                        self._group = group
                        break
                else:
                    lookback.append(line)
                i, offset = i + 1, offset + len(line) + 1
                continue
            # No group, no trigger on this line: jump to the next line that has one.
            if text is None:
                text = "\n".join(lines)
                offset = sum(len(line) + 1 for line in lines[:i])
            pos = _first_trigger(text, offset)
            if pos < 0:
                lookback.extend(lines[max(i, n - _LOOKBACK) :])
                return
            nxt = i + text.count("\n", offset, pos)
            lookback.extend(lines[max(i, nxt - _LOOKBACK) : nxt])
            i, offset = nxt, text.rfind("\n", 0, pos) + 1
            if i < n and not _has_trigger(lines[i]):
                # the literal spans a line break only if lines contained "\n"; treat the line as plain
                lookback.append(lines[i])
                i, offset = i + 1, offset + len(lines[i]) + 1
