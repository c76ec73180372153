"""TypeScript compiler diagnostics, one `DetectedError` per diagnostic.

``tsc`` prints the plain form ``src/a.ts(2,7): error TS2322: msg`` when its output is not a terminal
(which is how brummer runs it), and the pretty form ``src/a.ts:2:7 - error TS2322: msg`` followed by a
code frame and related locations with ``--pretty``. Config-level errors have no file:
``error TS5083: Cannot read file 'tsconfig.json'.``. ``Found N errors`` is a summary, not an error.

In watch mode every cycle reports every error the program still has and ends with ``[12:00:00 PM] Found 1 error.
Watching for file changes.`` (``12:00:00 PM - Found ...`` without ``--pretty``): that line is a `CleanCycle`:
``Found 0 errors`` resolves the process's TypeScript errors, ``Found 1 error`` (a full report) all but the one it
just reported again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import CleanCycle, DetectedError, Group, Verdict, clean_cycle, make_error, strip_blank_tail

FAMILY = "typescript"
TOOL = "tsc"  # tsc exits non-zero whenever it reports an error: a run that exits 0 had none

_PLAIN = re.compile(r"^(.+?)\((\d+),(\d+)\): error (TS\d+): (.*)$")
_PRETTY = re.compile(r"^(.+?):(\d+):(\d+) - error (TS\d+): (.*)$")
_GLOBAL = re.compile(r"^error (TS\d+): (.*)$")
_CODE_FRAME = re.compile(r"^\d+ ")
_WATCHING = "Watching for file changes."
_CYCLE_END = re.compile(r"(?:^|\s)(Found \d+ errors?)\. Watching for file changes\.$")


class DiagnosticGroup(Group):
    """A diagnostic and its continuation: indented message-chain lines (both forms); in the pretty form
    also blank lines and ``12 source`` code-frame lines."""

    __slots__ = ("location", "message", "pretty", "type")
    family = FAMILY

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


def clean(line: str) -> CleanCycle | None:
    """``Found N errors. Watching for file changes.``: the end of a watch cycle."""
    if not line.endswith(_WATCHING):
        return None
    m = _CYCLE_END.search(line, max(0, len(line) - 80))
    if m is None:
        return None
    return clean_cycle(FAMILY, f"{TOOL}: {m.group(1)}", full_report=not m.group(1).startswith("Found 0 "))
