"""ESLint's default ("stylish") formatter: a file path on its own line, then one indented row per
problem, ``  2:7  error  'x' is assigned a value but never used  no-unused-vars``.

Only ``error`` rows are errors; ``warning`` rows and the ``✖ N problems (1 error, 2 warnings)`` summary
are not. Each error row is its own `DetectedError`, reported as soon as it is read; the file path comes
from the header above it, found by walking back over the rows of the same file.

A run lists every problem it found and ends with the summary: that line is a `CleanCycle` (with ``0 errors``
every eslint error of the process is resolved, else those of earlier runs that this one did not report again).
A run with no problems prints nothing at all: what says it was clean is its exit code 0 (eslint exits 1 when it
reports an error), see ``CLEAN_EXIT`` in this package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import CleanCycle, DetectedError, Group, Verdict, clean_cycle, make_error

FAMILY = "eslint"
TOOL = "eslint"

_ROW = re.compile(r"^\s+(\d+):(\d+)\s+(error|warning)\s+(.*)$")
_RULE = re.compile(r"^(?:@[\w.-]+/)?[\w.-]+(?:/[\w.-]+)*$")
_COLUMNS = re.compile(r"\s{2,}")
_SUMMARY = re.compile(r"^✖ (\d+ problems? \((\d+) errors?, \d+ warnings?\))$")
_HEADER = re.compile(r"^(?:/|[A-Za-z]:[\\/]|\.{1,2}/)\S.*$|^[\w@.-]+(?:/[\w@. -]+)*\.\w+$")


class FileBlockGroup(Group):
    """The rows of one file, from its first error row on."""

    __slots__ = ("path",)
    family = FAMILY

    def __init__(self, header: str | None, line: str) -> None:
        super().__init__([line] if header is None else [header, line], 0 if header is None else 1)
        self.path = header.strip() if header else None
        self._row(line)

    def _row(self, line: str) -> bool:
        m = _ROW.match(line)
        if m is None:
            return False
        if m.group(3) == "error":
            columns = _COLUMNS.split(m.group(4).strip())
            if len(columns) > 1 and _RULE.match(columns[-1]):
                type_, message = columns[-1], "  ".join(columns[:-1])
            else:
                message = "  ".join(columns)
                type_ = "parsing-error" if message.startswith("Parsing error") else "error"
            location = f"{self.path}:{m.group(1)}:{m.group(2)}" if self.path else None
            raw = (line,) if self.path is None else (self.lines[0], line)
            self.ready.append(make_error(FAMILY, type_, message, location, raw))
        return True

    def feed(self, line: str) -> Verdict:
        if self._row(line):
            self.lines.append(line)
            return Verdict.ACCEPT
        return Verdict.REJECT

    def close(self) -> list[DetectedError]:
        return []  # every error row was reported when it was read


def start(line: str, lookback: Sequence[str]) -> Group | None:
    m = _ROW.match(line)
    if m is None or m.group(3) != "error":
        return None
    header = None
    for back in range(1, len(lookback) + 1):
        prev = lookback[-back]
        if _ROW.match(prev):
            continue
        if _HEADER.match(prev):
            header = prev
        break
    return FileBlockGroup(header, line)


def clean(line: str) -> CleanCycle | None:
    """``✖ 6 problems (4 errors, 2 warnings)``: the end of a run's report."""
    m = _SUMMARY.match(line) if line.startswith("✖ ") else None
    return clean_cycle(FAMILY, f"{TOOL}: {m.group(1)}", full_report=m.group(2) != "0") if m else None
