"""Next.js errors, in the shapes ``next dev`` and ``next build`` print them (webpack and Turbopack):

* ``⨯ TypeError: msg`` + frames + code frame + ``{ digest: '...' }``: a server-side runtime error;
* ``⨯ ./app/page.tsx:2:24`` + ``Error: msg`` + code frame: a compile error in dev;
* ``Failed to compile.`` / ``> Build error occurred`` / ``Turbopack build encountered N errors:``
  followed by one block per module (``./app/x.tsx`` then the message): one error per block;
* ``⨯ <sentence>`` and ``Unhandled Rejection: Error: ...``: errors Next itself reports.

A report runs until Next's next log entry (``✓``, ``○``, ``⚠``, ``⨯``, `` GET / 500 in 12ms``), or the
closing ``}`` of the props Node prints after a stack, or ``> Build failed because of ... errors``.

``✓ Compiled`` (a rebuild after an edit: ``✓ Compiled in 14ms``, ``✓ Compiled /page in 2.1s``) and ``✓ Ready in``
(a fresh server) are `CleanCycle`s: like Next's own error overlay, which a successful build dismisses, they resolve
the process's open Next.js errors; a page still broken reports its error again on the next request. (``next dev
--webpack`` of Next 16 prints neither after a fix, only ``GET / 200``: there nothing resolves.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import (
    CleanCycle,
    DetectedError,
    Group,
    Verdict,
    clean_cycle,
    first_user_js_frame,
    make_error,
    strip_blank_tail,
)
from .node import ERROR_LINE

FAMILY = "nextjs"

_MARK = re.compile(r"^\s*⨯ (.*)$")
_BLOCKS = re.compile(r"^(?:Failed to compile\.?|> Build error occurred|Turbopack build encountered \d+ errors?:)$")
_UNHANDLED = re.compile(r"^(?:Unhandled Rejection|Uncaught Exception): (.*)$")
_NEXT_ENTRY = re.compile(r"^\s?(?:[✓○⚠▲⨯] |(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /)")
_BUILD_FAILED = re.compile(r"^\s*> Build failed because")
_PATH = re.compile(r"^\.{0,2}/\S+$|^[\w@.-]+(?:/[\w@.\[\]()-]+)*\.(?:[cm]?[jt]sx?|css|scss|sass|json|mdx?)(?::\d+)*$")
_PATH_LC = re.compile(r"^(.+?):(\d+):(\d+)$")
_SWC_AT = re.compile(r",-\[(\S+:\d+:\d+)\]")
_FAILED_WITH = re.compile(r"(?:failed with|encountered) \d+ errors?:$")
_PREFIX = re.compile(r"^(?:Error:\s+)?(?:x\s+)?")

_CLEAN = re.compile(r"^\s?✓ ((?:Compiled|Ready)\b.*)$")

_MAX_LINES = 200


class NextGroup(Group):
    __slots__ = ("props",)
    family = FAMILY

    def __init__(self, line: str) -> None:
        super().__init__([line])
        self.props = False

    def feed(self, line: str) -> Verdict:
        if _NEXT_ENTRY.match(line) or _BLOCKS.match(line) or _UNHANDLED.match(line) or len(self.lines) >= _MAX_LINES:
            return Verdict.REJECT
        self.lines.append(line)
        if _BUILD_FAILED.match(line) or (self.props and line == "}"):
            return Verdict.DONE
        if line == "{" or (line.endswith(" {") and line.lstrip().startswith("at ")):
            self.props = True
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        lines = strip_blank_tail(self.lines)
        first = lines[0]
        mark = _MARK.match(first)
        rest = mark.group(1) if mark else first
        unhandled = _UNHANDLED.match(first)
        if unhandled:
            rest = unhandled.group(1)
        runtime = ERROR_LINE.match(rest.removeprefix("unhandledRejection: ").removeprefix("uncaughtException: "))
        if runtime:
            type_ = runtime.group(2) or runtime.group(1)
            return [make_error(FAMILY, type_, runtime.group(3), first_user_js_frame(lines), lines)]
        if mark and _PATH.match(rest):
            return [_block(first, rest, lines[1:], lines)]
        if mark:
            return [make_error(FAMILY, "Error", rest, None, lines)]
        blocks = _split_blocks(lines)
        if not blocks:
            message = next((ln for ln in lines[1:] if ln.strip()), first)
            return [make_error(FAMILY, "BuildError", _PREFIX.sub("", message.strip()), None, lines)]
        return [_block(first, header, body, [first, header, *body]) for header, body in blocks]


def _split_blocks(lines: list[str]) -> list[tuple[str, list[str]]]:
    """Module blocks of a build report: a ``./path`` line right after a blank line or the report's
    heading (an ``Import trace`` lists paths too, but right after its own title line)."""
    blocks: list[tuple[str, list[str]]] = []
    for i in range(1, len(lines)):
        prev, line = lines[i - 1], lines[i]
        if _PATH.match(line) and (i == 1 or not prev.strip() or _FAILED_WITH.search(prev)):
            blocks.append((line, []))
        elif blocks:
            blocks[-1][1].append(line)
    return blocks


def _block(first: str, header: str, body: list[str], raw: list[str]) -> DetectedError:
    message = next((ln.strip() for ln in body if ln.strip()), header)
    message = _PREFIX.sub("", message)
    type_ = "ModuleNotFoundError" if message.startswith("Module not found") else "CompileError"
    path = header.removeprefix("./")
    location: str | None = path
    if not _PATH_LC.match(path):
        swc = next((m.group(1) for m in map(_SWC_AT.search, body) if m), None)
        location = swc or path
    return make_error(FAMILY, type_, message, location, strip_blank_tail(raw))


def start(line: str, lookback: Sequence[str]) -> Group | None:
    if _MARK.match(line) or _BLOCKS.match(line) or _UNHANDLED.match(line):
        return NextGroup(line)
    return None


def clean(line: str) -> CleanCycle | None:
    m = _CLEAN.match(line) if "✓" in line else None
    return clean_cycle(FAMILY, f"next: {m.group(1)}") if m else None
