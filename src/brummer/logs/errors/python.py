"""Python tracebacks: plain, chained ("During handling of ..."/"... direct cause ..."), exception groups,
and the bare ``SyntaxError`` report that has no ``Traceback`` header.

A chain is ONE error: the exception that finally escaped is what the user has to fix, the earlier ones
are its context. Its location is the last frame of the last traceback that lies in the user's code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import DetectedError, Group, Verdict, is_library_path, make_error, strip_blank_tail

FAMILY = "python"

TRACEBACK = "Traceback (most recent call last):"
_CHAIN = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
_EXC_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?:: (.*))?$")
_FILE_LINE = re.compile(r'^\s*(?:\| )?\s*File "(.+)", line (\d+)')
_SYNTAX_EXC = re.compile(r"^(SyntaxError|IndentationError|TabError)(?:: .*)?$")
_BARE_FILE = re.compile(r'^  File "(.+)", line (\d+)$')
_GROUP_EXC = re.compile(r"^\s*\| ([A-Za-z_][\w.]*Group): (.*)$")

_FRAMES, _AFTER_EXC, _CHAINING, _EXC_GROUP = range(4)


class TracebackGroup(Group):
    """Lines of one (possibly chained) traceback. Indented lines are frames; the first line at column 0
    is the exception; after it only blank lines, a chain sentence or a new ``Traceback`` may follow."""

    __slots__ = ("segment", "state")
    family = FAMILY

    def __init__(self, lines: list[str], start: int, state: int) -> None:
        super().__init__(lines, start)
        self.state = state
        self.segment = 0  # first line of the last traceback in the chain

    def feed(self, line: str) -> Verdict:
        state = self.state
        if state == _FRAMES:
            if line[:1] in (" ", "\t"):
                self.lines.append(line)
                return Verdict.ACCEPT
            if not line:
                return Verdict.REJECT  # a traceback cut short; report what we have
            self.lines.append(line)
            self.state = _AFTER_EXC
            return Verdict.ACCEPT
        if state == _EXC_GROUP:
            if line[:1] in (" ", "\t"):
                self.lines.append(line)
                return Verdict.ACCEPT
            return Verdict.REJECT
        # _AFTER_EXC or _CHAINING: wait for a chain, anything else ends the error
        if not line.strip() or line in _CHAIN:
            self.lines.append(line)
            self.state = _CHAINING
            return Verdict.ACCEPT
        if state == _CHAINING and line.startswith(TRACEBACK):
            self.lines.append(line)
            self.segment = len(self.lines) - 1
            self.state = _FRAMES
            return Verdict.ACCEPT
        return Verdict.REJECT

    def close(self) -> list[DetectedError]:
        lines = strip_blank_tail(self.lines)
        segment = lines[self.segment :]
        if self.state == _EXC_GROUP:
            return [_exception_group(lines)]
        exc = segment[-1] if segment and segment[-1][:1] not in (" ", "\t", "") else ""
        m = _EXC_LINE.match(exc) if exc and not exc.startswith(TRACEBACK) else None
        if m:
            type_, message = m.group(1), m.group(2) or ""
        else:
            type_, message = "Traceback", exc or "traceback without an exception line"
        return [make_error(FAMILY, type_, message, _last_user_frame(segment), lines)]


def _last_user_frame(lines: Sequence[str]) -> str | None:
    found = None
    for line in lines:
        m = _FILE_LINE.match(line)
        if m and not is_library_path(m.group(1)):
            found = f"{m.group(1)}:{m.group(2)}"
    return found


def _exception_group(lines: list[str]) -> DetectedError:
    type_, message, frames_end = "ExceptionGroup", "", len(lines)
    for i, line in enumerate(lines):
        m = _GROUP_EXC.match(line)
        if m:
            type_, message, frames_end = m.group(1), m.group(2), i
            break
    return make_error(FAMILY, type_, message, _last_user_frame(lines[:frames_end]), lines)


def start(line: str, lookback: Sequence[str]) -> Group | None:
    if line.startswith(TRACEBACK):
        return TracebackGroup([line], 0, _FRAMES)
    if line.endswith(TRACEBACK) and line.lstrip().startswith("+ Exception Group"):
        return TracebackGroup([line], 0, _EXC_GROUP)
    if _SYNTAX_EXC.match(line):
        # `python bad.py` reports a SyntaxError as:   File "bad.py", line 2 / code / caret / SyntaxError: ...
        for back in range(1, min(len(lookback), 6) + 1):
            prev = lookback[-back]
            if _BARE_FILE.match(prev):
                prefix = list(lookback)[-back:]
                return TracebackGroup([*prefix, line], len(prefix), _AFTER_EXC)
            if not prev.startswith("    "):
                break
    return None
