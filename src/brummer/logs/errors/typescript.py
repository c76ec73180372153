"""TypeScript compiler diagnostics, one `DetectedError` per diagnostic.

``tsc`` prints the plain form ``src/a.ts(2,7): error TS2322: msg`` when its output is not a terminal
(which is how brummer runs it), and the pretty form ``src/a.ts:2:7 - error TS2322: msg`` followed by a
code frame and related locations with ``--pretty``. Config-level errors have no file:
``error TS5083: Cannot read file 'tsconfig.json'.``. ``Found N errors`` is a summary, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import DetectedError, Group, Verdict, make_error, strip_blank_tail

FAMILY = "typescript"

_PLAIN = re.compile(r"^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$")
_PRETTY = re.compile(r"^(.+?):(\d+):(\d+) - error (TS\d+): (.*)$")
_GLOBAL = re.compile(r"^error (TS\d+): (.*)$")
_CODE_FRAME = re.compile(r"^\d+ ")


class DiagnosticGroup(Group):
    """A diagnostic and its continuation: indented message-chain lines (both forms); in the pretty form
    also blank lines and ``12 source`` code-frame lines."""

    __slots__ = ("location", "message", "pretty", "type")

    def __init__(self, line: str, type_: str, message: str, location: str | None, pretty: bool) -> None:
        super().__init__([line])
        self.type, self.message, self.location, self.pretty = type_, message, location, pretty

    def feed(self, line: str) -> Verdict:
        if line[:1] in (" ", "\t") or (self.pretty and (not line or _CODE_FRAME.match(line))):
            self.lines.append(line)
            return Verdict.ACCEPT
        return Verdict.REJECT

    def close(self) -> list[DetectedError]:
        lines = strip_blank_tail(self.lines)
        return [make_error(FAMILY, self.type, self.message, self.location, lines)]


def start(line: str, lookback: Sequence[str]) -> Group | None:
    if "error TS" not in line:
        return None
    m = _PLAIN.match(line)
    if m:
        return DiagnosticGroup(line, m.group(4), m.group(5), f"{m.group(1)}:{m.group(2)}:{m.group(3)}", False)
    m = _PRETTY.match(line)
    if m:
        return DiagnosticGroup(line, m.group(4), m.group(5), f"{m.group(1)}:{m.group(2)}:{m.group(3)}", True)
    m = _GLOBAL.match(line)
    if m:
        return DiagnosticGroup(line, m.group(1), m.group(2), None, False)
    return None
