"""Go runtime crashes: ``panic: ...`` and ``fatal error: ...`` followed by goroutine stacks.

The goroutine dump is what makes a ``panic:`` line a crash rather than a log message that mentions a
panic (``log.Printf("panic: recovered ...")``), so the group stays tentative until ``goroutine N [...]:``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import DetectedError, Group, Verdict, is_library_path, make_error, strip_blank_tail

FAMILY = "go"

_START = re.compile(r"^(panic|fatal error): (.*)$")
_GOROUTINE = re.compile(r"^goroutine \d+ \[[^\]]*\]:$")
_FUNC = re.compile(r"^(?:created by )?[\w.$/*()\[\]{}<>,-]+(?:\(.*\))?(?: in goroutine \d+)?$")
_FILE = re.compile(r"^\t(\S+?\.go|\S+):(\d+)(?: \+0x[0-9a-f]+)?$")
_RECOVERED = re.compile(r"\s*\[recovered\]$")

_MAX_PREAMBLE = 12  # panic message continuation lines, [signal ...], nested "\tpanic:" lines


class PanicGroup(Group):
    __slots__ = ("stack",)
    family = FAMILY

    def __init__(self, line: str) -> None:
        super().__init__([line])
        self.stack = False

    def feed(self, line: str) -> Verdict:
        if _GOROUTINE.match(line):
            self.stack = True
        elif not self.stack:
            if len(self.lines) > _MAX_PREAMBLE:
                return Verdict.REJECT
        elif line and not line.startswith(("\t", "...additional frames")) and not _FUNC.match(line):
            return Verdict.REJECT
        self.lines.append(line)
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        if not self.stack:
            return []
        lines = strip_blank_tail(self.lines)
        m = _START.match(lines[0])
        assert m is not None
        return [make_error(FAMILY, m.group(1), _RECOVERED.sub("", m.group(2)), _user_frame(lines), lines)]

    def replay(self) -> list[str]:
        return self.lines[1:]


def _user_frame(lines: Sequence[str]) -> str | None:
    """First ``file.go:line`` whose function is not the runtime's own (``runtime.gopanic``, ``panic(...)``)."""
    func = ""
    for line in lines:
        m = _FILE.match(line)
        if m is None:
            func = line
            continue
        if func.startswith(("runtime.", "panic(")) or is_library_path(m.group(1)):
            continue
        return f"{m.group(1)}:{m.group(2)}"
    return None


def start(line: str, lookback: Sequence[str]) -> Group | None:
    return PanicGroup(line) if _START.match(line) else None
