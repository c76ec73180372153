"""pytest failures: the ``FAILURES``/``ERRORS`` sections (one `DetectedError` per ``___ test ___``
section, from its ``E   `` lines and its ``path:line: ErrorType`` crash line) and the
``FAILED``/``ERROR`` lines of the short summary.

A test reported by a section is not reported again by its summary line; a summary line counts on its
own only when pytest ran without tracebacks (``--tb=no``) or the section was not seen. Sections are
reported as soon as the next section (or the summary) starts, so a long run does not pile up in memory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import DetectedError, Group, Verdict, is_library_path, make_error, strip_blank_tail

FAMILY = "pytest"

_BLOCK = re.compile(r"^=+ (?:FAILURES|ERRORS) =+$")
_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+\.py\b\S*)(?: - (.*))?$")
_RULE = re.compile(r"^=+ .* =+$")
_PARTS = re.compile(r"^=+ (?:FAILURES|ERRORS|short test summary info) =+$")
_INTERRUPTED = re.compile(r"^!{3,} .* !{3,}$")
_FINAL = re.compile(r"^=*\s*(?:\d+ \w+(?:, )?)+ in [\d.]+s(?: \([\d:]+\))?\s*=*$")
_E_LINE = re.compile(r"^E\s+(.*)$")
_TYPED = re.compile(r"^([A-Za-z_][\w.]*): (.*)$")
_CRASH = re.compile(r"^(\S+?):(\d+): ([A-Za-z_][\w.]*)$")
_FRAME = re.compile(r"^(\S+?):(\d+): (?:in \S.*)?$")
_SECTION_ID = re.compile(r"^ERROR (?:at \w+ of|collecting) ")


class SessionGroup(Group):
    """The failure part of one pytest report: sections, then the short summary, then the final line."""

    __slots__ = ("name", "reported", "skipping")
    family = FAMILY

    def __init__(self, line: str) -> None:
        super().__init__([])
        self.name: str | None = None  # test of the section being read
        self.reported: set[str] = set()
        self.skipping = False  # inside another part of the report (warnings summary, captured logs)
        if _BLOCK.match(line) is None:
            self._summary(line)

    def _end_section(self) -> None:
        if self.name is not None and self.lines:
            self.ready.append(_section_error(self.name, strip_blank_tail(self.lines)))
            self.reported.add(_SECTION_ID.sub("", self.name))
        self.name, self.lines = None, []

    def _summary(self, line: str) -> bool:
        m = _SUMMARY.match(line)
        if m is None:
            return False
        nodeid = m.group(2)
        path, _, name = nodeid.partition("::")
        if (name.replace("::", ".") or path) not in self.reported:
            reason = m.group(3) or ""
            typed = _TYPED.match(reason)
            if typed:
                type_, message = typed.group(1), typed.group(2)
            elif reason.startswith("assert"):
                type_, message = "AssertionError", reason
            else:
                type_, message = ("Failed" if m.group(1) == "FAILED" else "Error"), reason or nodeid
            self.ready.append(make_error(FAMILY, type_, message, path, (line,)))
        return True

    def feed(self, line: str) -> Verdict:
        section = _SECTION.match(line)
        if section:
            self._end_section()
            self.name = section.group(1)
            self.lines = [line]
            return Verdict.ACCEPT
        if _RULE.match(line) or _INTERRUPTED.match(line) or _FINAL.match(line):
            self._end_section()
            if _FINAL.match(line):
                return Verdict.DONE
            self.skipping = _RULE.match(line) is not None and not _PARTS.match(line)
            return Verdict.ACCEPT
        if self.name is not None:
            self.lines.append(line)
            return Verdict.ACCEPT
        if self.skipping:
            return Verdict.ACCEPT
        return Verdict.ACCEPT if self._summary(line) else Verdict.REJECT

    def close(self) -> list[DetectedError]:
        self._end_section()
        return []


def _section_error(name: str, lines: list[str]) -> DetectedError:
    first_e = next((m.group(1).strip() for m in map(_E_LINE.match, lines) if m), "")
    crash_type, location = None, None
    for line in lines:
        crash = _CRASH.match(line)
        frame = crash or _FRAME.match(line)
        if frame and not is_library_path(frame.group(1)):
            location = f"{frame.group(1)}:{frame.group(2)}"
        if crash:
            crash_type = crash.group(3)
    typed = _TYPED.match(first_e)
    if typed and " " not in typed.group(1):
        type_, message = typed.group(1), typed.group(2)
    else:
        type_ = crash_type or ("AssertionError" if first_e.startswith("assert") else "Error")
        message = first_e or name
    return make_error(FAMILY, type_, message, location, lines)


def start(line: str, lookback: Sequence[str]) -> Group | None:
    if _BLOCK.match(line) or _SUMMARY.match(line):
        return SessionGroup(line)
    return None
