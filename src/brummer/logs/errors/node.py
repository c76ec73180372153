"""Node.js errors: uncaught exceptions (with the ``file:line`` / source / caret header Node prints above
them) and errors a running server logs with ``console.error(err)``.

A line like ``TypeError: x`` is only an error when a stack (``    at ...`` frames) follows it or Node's
uncaught-exception header precedes it: prose that happens to start with ``Error:`` must not count. So a
group without a header stays tentative until its first frame, and is replayed if none comes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import (
    JS_FRAME_START,
    DetectedError,
    Group,
    Verdict,
    clean_path,
    first_user_js_frame,
    is_library_path,
    make_error,
    strip_blank_tail,
)

FAMILY = "node"

ERROR_LINE = re.compile(r"^(?:Uncaught )?([A-Z][\w$]*(?:Error|Exception)|Error)(?: \[([A-Z][A-Z0-9_]*)\])?: (.*)$")
_HEADER = re.compile(r"^(.+):(\d+)$")
_CARET = re.compile(r"^\s*\^+\s*$")
_NODE_VERSION = re.compile(r"^Node\.js v\d+")

_MAX_MESSAGE_LINES = 40  # "Require stack:" lists and multi-line messages come before the frames

_MESSAGE, _FRAMES, _PROPS, _TAIL = range(4)


class NodeErrorGroup(Group):
    """``Error: msg`` [message lines] frames [``{ code: ... }``] [blank, ``Node.js vX``]."""

    __slots__ = ("frames", "header", "state")
    family = FAMILY

    def __init__(self, lines: list[str], start: int, header: str | None) -> None:
        super().__init__(lines, start)
        self.header = header
        self.frames = 0
        self.state = _MESSAGE

    def feed(self, line: str) -> Verdict:
        state = self.state
        is_frame = JS_FRAME_START.match(line) is not None
        if state in (_MESSAGE, _FRAMES) and is_frame:
            self.frames += 1
            self.state = _PROPS if line.endswith(" {") else _FRAMES
        elif state == _MESSAGE:
            if len(self.lines) - self.start > _MAX_MESSAGE_LINES:
                return Verdict.REJECT
        elif state == _PROPS:
            if line == "}":
                self.state = _TAIL
        elif _NODE_VERSION.match(line):
            self.lines.append(line)
            return Verdict.DONE
        elif line.strip():
            return Verdict.REJECT
        else:
            self.state = _TAIL
        self.lines.append(line)
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        if not self.frames and self.header is None:
            return []
        lines = strip_blank_tail(self.lines)
        if not self.frames:
            # no stack: the message is the error line alone; the rest was not part of it
            lines = lines[: self.start + 1]
        m = ERROR_LINE.match(lines[self.start])
        assert m is not None
        type_ = m.group(2) or m.group(1)
        location = first_user_js_frame(lines[self.start :])
        if location is None and self.header is not None and not is_library_path(self.header):
            location = clean_path(self.header)
        return [make_error(FAMILY, type_, m.group(3), location, lines)]

    def replay(self) -> list[str]:
        return self.lines[self.start + 1 :]


def uncaught_header(lookback: Sequence[str]) -> tuple[list[str], str | None]:
    """Node's uncaught-exception header: ``path:line``, the source line, a caret line, a blank line."""
    if len(lookback) >= 4 and not lookback[-1] and _CARET.match(lookback[-2]):
        m = _HEADER.match(lookback[-4])
        if m:
            return list(lookback)[-4:], lookback[-4]
    return [], None


def start(line: str, lookback: Sequence[str]) -> Group | None:
    if not ERROR_LINE.match(line):
        return None
    prefix, header = uncaught_header(lookback)
    return NodeErrorGroup([*prefix, line], len(prefix), header)
