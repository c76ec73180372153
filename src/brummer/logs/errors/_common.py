"""Shared vocabulary of the error families: the result type, the group protocol and small text helpers.

Every family module builds on these:

* `DetectedError`, the immutable result handed to the log store (and from there to the panel and MCP);
* `CleanCycle`, the other kind of finding: a watch-mode tool said its errors are gone (the store resolves groups);
* `Group`, one multi-line error in progress, fed line by line until a line says it is complete;
* helpers that turn raw lines into the one-line ``message`` and ``file:line[:col]`` ``location`` fields.

Nothing here knows about any particular tool; that knowledge lives in the family modules.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

MAX_LINES = 200
"""A `DetectedError` keeps at most this many raw lines (the last one says how many were cut)."""

MAX_GROUP_LINES = 2000
"""A group that grows past this many lines is closed by force, so a runaway stream cannot grow memory."""

MAX_MESSAGE = 300


@dataclass(frozen=True, slots=True)
class DetectedError:
    """One error found in a process's output, with the raw lines it was read from.

    ``family`` names the tool that printed it; ``type`` is the tool's own label for it (an exception class,
    a TS code, an eslint rule); ``location`` is the user's frame, never a library or runtime frame.
    """

    family: str
    type: str
    message: str
    location: str | None
    lines: tuple[str, ...]

    @property
    def key(self) -> str:
        """Fingerprint for de-duplication: the same error printed again (new timestamp, address, pid,
        duration) gives the same key, so the store can count repeats instead of listing them."""
        return f"{self.family}|{self.type}|{normalize(self.message)}|{self.location or ''}"


@dataclass(frozen=True, slots=True)
class CleanCycle:
    """A tool reported that errors of its ``families`` printed before this line are gone (``reason`` says how:
    "tsc: Found 0 errors", "vite: hmr update /src/App.tsx").

    ``full_report``: the line ends a report that lists every error the tool still sees (tsc's ``Found 2 errors``,
    webpack's ``compiled with 1 error``, an eslint run with errors), so the groups reported again since the previous
    such line stay open and all others are resolved; without it (``Found 0 errors``) every open group of the
    families is. ``spare``: location fragments this signal says
    nothing about (Vite's HMR update is about modules, not about a broken ``vite.config.*``).
    """

    families: tuple[str, ...]
    reason: str
    full_report: bool = False
    spare: tuple[str, ...] = ()


Finding = DetectedError | CleanCycle
"""What an `ErrorScanner` returns, in the order of the lines that produced it."""

MAX_REASON = 120


def clean_cycle(
    families: str | tuple[str, ...], reason: str, *, full_report: bool = False, spare: tuple[str, ...] = ()
) -> CleanCycle:
    """A `CleanCycle` whose reason is one short line (it quotes the child's output, which can be a 10 MB line)."""
    reason = " ".join(reason[: MAX_REASON + 1].split())
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 1] + "…"
    return CleanCycle((families,) if isinstance(families, str) else families, reason, full_report, spare)


# Order matters: whole timestamps before bare clock times, durations before long numbers.
_VOLATILE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    r"|\b\d{1,2}:\d{2}:\d{2}(?:\.\d+)?(?:\s?[AP]M)?"
    r"|\b\d+(?:\.\d+)?\s?(?:ms|µs|us|ns|s|m)\b"
    r"|0x[0-9a-fA-F]+"
    r"|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\d{5,}"
)


def normalize(message: str) -> str:
    """Replace the parts of a message that change between repeats of the same error with ``#``."""
    return _VOLATILE.sub("#", message)


class Verdict(enum.Enum):
    """What a `Group` says about the next line it is shown."""

    ACCEPT = enum.auto()  # the line belongs to the group, which may continue
    DONE = enum.auto()  # the line belongs to the group, and the group is complete
    REJECT = enum.auto()  # the line does not belong; the group is complete without it


class Group:
    """One multi-line error being read. Subclasses decide which lines belong (`feed`) and what they mean
    (`close`).

    A group that finds out it was a false start (a prose line that looked like ``TypeError: x`` but had no
    stack under it) returns no errors from `close` and lists in `replay` the lines the scanner must look
    at again, so a real error hiding in them is not lost.
    """

    __slots__ = ("lines", "ready", "start")
    family: ClassVar[str] = ""  # the family of the errors it reports (a clean signal flushes its own family only)

    def __init__(self, lines: list[str], start: int = 0) -> None:
        self.lines = lines
        self.start = start  # index in ``lines`` of the trigger line; lines before it came from lookback
        self.ready: list[DetectedError] = []  # errors complete before the group is (eslint, pytest)

    def feed(self, line: str) -> Verdict:
        raise NotImplementedError

    def close(self) -> list[DetectedError]:
        raise NotImplementedError

    def replay(self) -> list[str]:
        """Lines to scan again after a false start (only asked when `close` returned nothing)."""
        return []


def one_line(text: str) -> str:
    """Collapse whitespace and cut to `MAX_MESSAGE` characters: the message is shown in one-line lists."""
    text = " ".join(text.split())
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return text


def cap_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """At most `MAX_LINES` raw lines; a longer group ends with one line saying how many were left out."""
    if len(lines) <= MAX_LINES:
        return tuple(lines)
    keep = MAX_LINES - 1
    return (*lines[:keep], f"… {len(lines) - keep} more lines")


def strip_blank_tail(lines: list[str], keep: int = 1) -> list[str]:
    """Drop trailing blank lines a group accepted while waiting to see whether more would follow."""
    end = len(lines)
    while end > keep and not lines[end - 1].strip():
        end -= 1
    return lines[:end]


def make_error(family: str, type_: str, message: str, location: str | None, lines: Sequence[str]) -> DetectedError:
    return DetectedError(family, type_, one_line(message), location, cap_lines(lines))


# Paths that are never "the user's code": runtimes, package managers' install trees, toolchains.
_LIBRARY_MARKERS = (
    "node_modules",
    "node:",
    "<anonymous>",
    "site-packages",
    "dist-packages",
    "/lib/python3",
    "<frozen ",
    "/importlib/",
    "/usr/lib/go",
    "/usr/local/go/",
    "/go/src/runtime/",
    "/rustc/",
    "/.cargo/registry/",
    "/.rustup/",
    "/library/std/",
    "/library/core/",
)


def is_library_path(path: str) -> bool:
    return any(marker in path for marker in _LIBRARY_MARKERS)


def clean_path(path: str) -> str:
    """``file:///x/y.js`` → ``/x/y.js``; Node prints ESM frames as URLs."""
    return path[7:] if path.startswith("file://") else path


# "    at fn (path:l:c)", "    at async path:l:c", "    at new Foo (path:l:c)"
JS_FRAME = re.compile(r"^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$")
JS_FRAME_START = re.compile(r"^\s+at \S")


def first_user_js_frame(lines: Sequence[str]) -> str | None:
    """``path:line:col`` of the first stack frame outside node internals and node_modules."""
    for line in lines:
        m = JS_FRAME.match(line)
        if m and not is_library_path(m.group(1)):
            return f"{clean_path(m.group(1))}:{m.group(2)}:{m.group(3)}"
    return None
