"""Rust panics, in both formats:

* before Rust 1.73: ``thread 'main' panicked at 'msg', src/main.rs:2:5`` (the message may span lines);
* since 1.73: ``thread 'main' panicked at src/main.rs:2:5:`` then the message on the following lines;
  recent releases add the thread id: ``thread 'main' (4242) panicked at ...``.

Either may be followed by the ``RUST_BACKTRACE`` note or by a ``stack backtrace:``. The location is the
``panicked at`` position, which Rust already points at the caller's code (``#[track_caller]``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import DetectedError, Group, Verdict, make_error, strip_blank_tail

FAMILY = "rust"

_START = re.compile(r"^thread '([^']*)'(?: \(\d+\))? panicked at (.*)$")
_NEW_AT = re.compile(r"^(\S+:\d+:\d+):$")
_OLD_AT = re.compile(r"^'(.*)', (\S+:\d+:\d+)$", re.S)
_OLD_END = re.compile(r"^(.*)', (\S+:\d+:\d+)$")
_FRAME = re.compile(r"^\s+(?:\d+: |at )")

_MAX_MESSAGE_LINES = 20  # a later panic prints no note, so the message end is not always marked

_MESSAGE, _OLD_MESSAGE, _AFTER, _BACKTRACE = range(4)


class PanicGroup(Group):
    __slots__ = ("location", "message", "state")
    family = FAMILY

    def __init__(self, line: str, rest: str) -> None:
        super().__init__([line])
        self.message: list[str] = []
        self.location: str | None = None
        new = _NEW_AT.match(rest)
        old = _OLD_AT.match(rest)
        if new:
            self.location, self.state = new.group(1), _MESSAGE
        elif old:
            self.message, self.location, self.state = [old.group(1)], old.group(2), _AFTER
        else:
            self.message, self.state = [rest.removeprefix("'")], _OLD_MESSAGE

    def feed(self, line: str) -> Verdict:
        state = self.state
        if state == _OLD_MESSAGE:
            m = _OLD_END.match(line)
            if m:
                self.message.append(m.group(1))
                self.location, self.state = m.group(2), _AFTER
            elif len(self.message) < _MAX_MESSAGE_LINES:
                self.message.append(line)
            else:
                return Verdict.REJECT
        elif line.startswith("note: "):
            self.lines.append(line)
            return Verdict.DONE
        elif line == "stack backtrace:":
            self.state = _BACKTRACE
        elif state == _BACKTRACE:
            if not _FRAME.match(line):
                return Verdict.REJECT
        elif state == _MESSAGE and len(self.message) < _MAX_MESSAGE_LINES and not _START.match(line):
            self.message.append(line)
        else:
            return Verdict.REJECT
        self.lines.append(line)
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        message = next((m for m in self.message if m.strip()), "")
        lines = strip_blank_tail(self.lines)
        return [make_error(FAMILY, "panic", message, self.location, lines)]


def start(line: str, lookback: Sequence[str]) -> Group | None:
    m = _START.match(line)
    return PanicGroup(line, m.group(2)) if m else None
