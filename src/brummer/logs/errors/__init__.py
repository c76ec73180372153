"""Error detection in process output: multi-line, per stream, incremental.

`ErrorScanner` reads the lines of ONE output stream of one process (batches in order, ANSI already
stripped) and returns a `DetectedError` per error it recognises: a Node or Python traceback, a tsc
diagnostic, a webpack/Vite/esbuild/Next.js build error, an eslint error row, a failed pytest test, a Go
or Rust panic. Everything else is not an error. It also returns a `CleanCycle` where a watch-mode tool says
its errors are gone (tsc's ``Found 0 errors``, Vite's ``hmr update``, webpack's ``compiled successfully``,
Next's ``✓ Compiled``, eslint's summary), in line order with the errors, so that the store resolves exactly
the errors printed before that line. This replaces brummer-go's rules, under which every
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
from ._common import MAX_GROUP_LINES, CleanCycle, DetectedError, Finding, Group, Verdict

__all__ = ["CLEAN_EXIT", "CleanCycle", "DetectedError", "ErrorScanner", "Finding"]

# Every line that can start an error or say a cycle was clean contains one of these. Keep the list short:
# each entry costs one pass over every batch (~20 ns a line). ("rror" covers Error/error/errors and tsc's
# and eslint's summaries, "panic" covers Go's panic and Rust's panicked, "FAIL" pytest's FAILED/FAILURES,
# "ERROR" webpack/esbuild/pytest, "[vite] " every Vite log entry (a failed restart's report has no other);
# the symbols are free on ASCII text.)
_TRIGGERS = ("rror", "ERROR", "FAIL", "panic", python.TRACEBACK, "⨯", "✘", "Failed to compile", "[vite] ", "✓", "➜")
# Looked for only once the stream or its process printed an error: webpack's "compiled successfully" and
# "compiled with 1 warning" resolve errors, and there is nothing to resolve before the first one.
_AFTER_AN_ERROR = ("compiled",)


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


Searches = tuple[Callable[[str, int, int], int], ...]
_QUIET: Searches = tuple(map(_searcher, _TRIGGERS))
_SEARCHES: Searches = _QUIET + tuple(map(_searcher, _AFTER_AN_ERROR))
_ALL_TRIGGERS = _TRIGGERS + _AFTER_AN_ERROR

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

# Clean-cycle signals, tried on a trigger line that starts no error.
_CLEANERS = (typescript.clean, bundlers.clean, nextjs.clean, eslint.clean)

CLEAN_EXIT = {typescript.FAMILY: typescript.TOOL, eslint.FAMILY: eslint.TOOL}
"""Families whose tool exits non-zero whenever it reports an error (family → tool name): a run of a process that
exits 0 resolves the groups of these families that earlier runs left open (a clean ``eslint src`` prints nothing)."""

_LONGEST = max(map(len, _ALL_TRIGGERS))
_LOOKBACK = 64  # lines kept for families whose report begins above its trigger line (Node, eslint)


def _first_trigger(text: str, pos: int = 0, searches: Searches = _SEARCHES) -> int:
    """Offset of the earliest trigger literal in ``text[pos:]``, or -1."""
    best = -1
    end = len(text)
    for search in searches:
        found = search(text, pos, end)
        if found >= 0 and (best < 0 or found < best):
            # later literals only matter if they start before this one: search no further than that
            best, end = found, found + _LONGEST
    return best


def _has_trigger(line: str) -> bool:
    return any(lit in line for lit in _ALL_TRIGGERS)


def _clean(line: str) -> CleanCycle | None:
    for clean in _CLEANERS:
        found = clean(line)
        if found is not None:
            return found
    return None


class ErrorScanner:
    """Incremental, multi-line error detection for ONE output stream of one process (e.g. web's stderr).

    Errors come back from `feed` as soon as their group is known to be complete, which is when a line
    arrives that does not belong to it; when the stream goes quiet, the caller calls `flush` (see
    `pending`). Not thread-safe; one scanner per stream.
    """

    __slots__ = ("_group", "_lookback", "_searches")

    def __init__(self) -> None:
        self._group: Group | None = None
        self._lookback: deque[str] = deque(maxlen=_LOOKBACK)
        self._searches = _QUIET

    def errors_seen(self) -> None:
        """This stream's process printed an error (maybe on another stream): from now on also look for the
        clean signals that only matter once there is something to resolve (``_AFTER_AN_ERROR``)."""
        self._searches = _SEARCHES

    @property
    def pending(self) -> bool:
        """A multi-line group is open: call `flush` if no more lines come for a while (~300 ms)."""
        return self._group is not None

    @property
    def pending_family(self) -> str | None:
        """The family of the group being read, if any."""
        return None if self._group is None else self._group.family

    def feed(self, lines: Sequence[str]) -> list[Finding]:
        """Scan the next lines of the stream (in order, without newlines, ANSI stripped)."""
        if not lines:
            return []
        return self._feed(lines, None)

    def feed_text(self, text: str) -> list[Finding]:
        """``feed`` for a block of lines joined by newlines, as the log store holds them: a block without a
        trigger costs the trigger searches and nothing else (no split, no join)."""
        if self._group is None and _first_trigger(text, 0, self._searches) < 0:
            self._lookback.extend(text.rsplit("\n", _LOOKBACK)[-_LOOKBACK:])
            return []
        return self._feed(text.split("\n"), text)

    def _feed(self, lines: Sequence[str], text: str | None) -> list[Finding]:
        out: list[Finding] = []
        if self._group is not None:
            self._scan(lines, 0, text, 0, out)
            return out
        if text is None:
            text = "\n".join(lines)
        pos = _first_trigger(text, 0, self._searches)
        if pos < 0:
            self._lookback.extend(lines[-_LOOKBACK:])
            return out
        first = text.count("\n", 0, pos)
        self._lookback.extend(lines[max(0, first - _LOOKBACK) : first])
        self._scan(lines, first, text, text.rfind("\n", 0, pos) + 1, out)
        return out

    def flush(self) -> list[Finding]:
        """The stream went quiet or ended: finish the group in progress."""
        out: list[Finding] = []
        while self._group is not None:
            self._close(out)
        return out

    def _close(self, out: list[Finding]) -> None:
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

    def _scan(self, lines: Sequence[str], i: int, text: str | None, offset: int, out: list[Finding]) -> None:
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
                        self._group, self._searches = group, _SEARCHES
                        break
                else:
                    clean = _clean(line)
                    if clean is not None:
                        out.append(clean)
                    lookback.append(line)
                i, offset = i + 1, offset + len(line) + 1
                continue
            # No group, no trigger on this line: jump to the next line that has one.
            if text is None:
                text = "\n".join(lines)
                offset = sum(len(line) + 1 for line in lines[:i])
            pos = _first_trigger(text, offset, self._searches)
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
