"""Bundler errors: Vite (dev-server and build), esbuild and webpack.

* Vite: ``12:00:00 PM [vite] Internal server error: msg`` / ``Pre-transform error: msg`` (dev),
  ``error during build:`` and ``error when starting dev server:``; the body holds the real message
  (``[PARSE_ERROR] ...``, ``path:l:c: ERROR: ...``), ``File: path:l:c`` and node_modules frames.
* esbuild: ``✘ [ERROR] msg`` followed by an indented ``path:l:c:`` and code frame (``▲ [WARNING]`` is not
  an error).
* Vite's ``[vite] server restart failed`` after an edit of ``vite.config.*`` broke it: the report runs from
  ``failed to load config from <path>`` (the line before a ``[vite] <message>`` entry) to that line.
* webpack: ``ERROR in ./src/x.js 1:0-26`` and its message, up to the blank line (``WARNING in`` is not an
  error).

Clean signals (`CleanCycle`): Vite's ``[vite] hmr update /src/App.tsx``, ``[vite] page reload src/main.ts`` and
``[vite] server restarted.``, and its ``➜  Local:`` line (a fresh server); like Vite's own error overlay, which the
next successful update clears, they resolve the process's Vite errors (and esbuild's, which Vite runs), except that
an HMR update or reload says nothing about a broken config. webpack's ``webpack 5.90.0 compiled successfully``
/ ``compiled with 1 warning`` resolves the process's webpack errors; ``compiled with 2 errors`` ends a full report
of the compilation's errors, so it resolves the others (a named compiler of a multi-compiler build, ``client
(webpack 5.90.0) compiled ...``, reports only its own: not a signal).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._common import (
    JS_FRAME_START,
    CleanCycle,
    DetectedError,
    Group,
    Verdict,
    clean_cycle,
    make_error,
    strip_blank_tail,
)

_VITE = "[vite] "
_VITE_ENV = re.compile(r"\([\w-]+\) ")  # Vite 6+: "[vite] (client) hmr update ..."
_VITE_ERROR = re.compile(r"(Internal server error|Pre-transform error): (.*)$")
_VITE_BLOCK = {"error during build:": "BuildError", "error when starting dev server:": "StartupError"}
_VITE_TYPES = {"Internal server error": "InternalServerError", "Pre-transform error": "PreTransformError"}
_NEW_ENTRY = re.compile(r"^(?:\d{1,2}:\d{2}:\d{2}|\s*VITE v\d|\s*➜ |\s*\[vite\] )")
_GENERIC = re.compile(r"^(?:(?:Transform|Build) failed with \d+ errors?:|Failed to scan.*)?$")
_TAGGED = re.compile(r"^\[[\w:./@-]+\]\s*(.*)$")
_ESBUILD_INLINE = re.compile(r"^(\S+:\d+:\d+): ERROR: (.*)$")
_VITE_FILE = re.compile(r"^\s*(?:File|file): (\S+:\d+:\d+)\s*$")
_VITE_BOX = re.compile(r"╭─\[ ?(\S+:\d+:\d+) ?\]")
_VITE_FILE_ANY = re.compile(r"^\s*(?:File|file): (\S+)\s*$")
_CONFIG_FAILED = "failed to load config from "
_RESTART_FAILED = "server restart failed"
_VITE_CLEAN = re.compile(r"(?:hmr update|page reload) \S|server restarted\.$")
_VITE_READY = re.compile(r"^\s*➜\s+Local:")
VITE_FAMILIES = ("vite", "esbuild")  # Vite runs esbuild (config, dependency scan, transforms before Vite 8)
CONFIG_FILES = ("vite.config.",)  # what an HMR update says nothing about

_ESBUILD = re.compile(r"^\s*✘ \[ERROR\] (.*)$")
_ESBUILD_AT = re.compile(r"^\s+(\S.*?):(\d+):(\d+):$")

_WEBPACK = re.compile(r"^ERROR in (\S+)(?: (\d+):(\d+)(?:-\d+)?)?")
_WEBPACK_END = re.compile(r"^(?:(?:ERROR|WARNING) in |webpack \d|\S+ \d+\.\d+\.\d+ compiled)")
_WEBPACK_DONE = re.compile(r"webpack(?: \d[\w.-]*)? compiled (successfully|with )")
_WEBPACK_TOOK = re.compile(r" in [\d.]+ ?m?s$")

_MAX_BODY = 150
_BODY, _FRAMES, _PROPS = range(3)


class ViteGroup(Group):
    """Everything up to the next Vite log entry, or the end of the stack trace that closes the report."""

    __slots__ = ("header", "state", "type")
    family = "vite"

    def __init__(self, line: str, type_: str, header: str) -> None:
        super().__init__([line])
        self.type, self.header, self.state = type_, header, _BODY

    def feed(self, line: str) -> Verdict:
        frame = JS_FRAME_START.match(line) is not None
        if self.state == _PROPS:
            self.lines.append(line)
            return Verdict.DONE if line == "}" else Verdict.ACCEPT
        if frame:
            self.state = _PROPS if line.endswith(" {") else _FRAMES
        elif self.state == _FRAMES or _NEW_ENTRY.match(line) or len(self.lines) > _MAX_BODY:
            return Verdict.REJECT
        self.lines.append(line)
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        lines = strip_blank_tail(self.lines)
        body = [line.strip() for line in lines[self.start + 1 :] if not JS_FRAME_START.match(line)]
        message, location = self.header, None
        for text in [message, *body]:
            tagged = _TAGGED.match(text)
            text = tagged.group(1) if tagged else text
            inline = _ESBUILD_INLINE.match(text)
            if inline:
                location, text = inline.group(1), inline.group(2)
            if not _GENERIC.match(text) and not _VITE_FILE_ANY.match(text):
                message = text
                break
        for pattern in (_VITE_FILE, _VITE_BOX):
            found = next((m.group(1) for m in map(pattern.search, lines) if m), None)
            if found:
                location = found
                break
        if location is None:
            location = next((m.group(1) for m in map(_VITE_FILE_ANY.match, lines) if m), None)
        return [make_error("vite", self.type, message, location, lines)]


class ViteRestartGroup(ViteGroup):
    """``failed to load config from /app/vite.config.ts`` then a ``[vite] <message>`` entry (``Build failed with 1
    error:`` and the parser's report, or a thrown error's message) up to ``[vite] server restart failed``."""

    __slots__ = ("config",)

    def __init__(self, above: str, line: str, header: str) -> None:
        super().__init__(line, "RestartError", header)
        self.lines.insert(0, above)
        self.start = 1
        self.config = above[len(_CONFIG_FAILED) :].strip()

    def feed(self, line: str) -> Verdict:
        if _vite_entry(line) == _RESTART_FAILED:
            self.lines.append(line)
            return Verdict.DONE
        if _NEW_ENTRY.match(line) or len(self.lines) > _MAX_BODY:
            return Verdict.REJECT
        self.lines.append(line)
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        (error,) = super().close()
        if error.location is None:  # a thrown error: no parser location, the config file is where it is
            error = make_error(error.family, error.type, error.message, self.config, error.lines)
        return [error]


class EsbuildGroup(Group):
    __slots__ = ("message",)
    family = "esbuild"

    def __init__(self, line: str, message: str) -> None:
        super().__init__([line])
        self.message = message

    def feed(self, line: str) -> Verdict:
        if not line or line[:1] in (" ", "\t"):
            self.lines.append(line)
            return Verdict.ACCEPT
        return Verdict.REJECT

    def close(self) -> list[DetectedError]:
        lines = strip_blank_tail(self.lines)
        at = next((m for m in map(_ESBUILD_AT.match, lines) if m), None)
        location = f"{at.group(1)}:{at.group(2)}:{at.group(3)}" if at else None
        if self.message.startswith("Could not resolve"):
            type_ = "ResolveError"
        elif self.message.startswith(("Expected", "Unexpected", "Unterminated")):
            type_ = "SyntaxError"
        else:
            type_ = "BuildError"
        return [make_error("esbuild", type_, self.message, location, lines)]


class WebpackGroup(Group):
    __slots__ = ("location",)
    family = "webpack"

    def __init__(self, line: str, location: str | None) -> None:
        super().__init__([line])
        self.location = location

    def feed(self, line: str) -> Verdict:
        if not line:
            self.lines.append(line)
            return Verdict.DONE
        if _WEBPACK_END.match(line):
            return Verdict.REJECT
        self.lines.append(line)
        return Verdict.ACCEPT

    def close(self) -> list[DetectedError]:
        lines = strip_blank_tail(self.lines)
        message = lines[1].strip() if len(lines) > 1 else lines[0]
        if message.startswith("Module not found:"):
            type_, message = "ModuleNotFoundError", message.replace("Module not found: Error: ", "Module not found: ")
        elif message.startswith("Module parse failed:"):
            type_ = "ModuleParseError"
        elif message.startswith("Module build failed"):
            type_ = "ModuleBuildError"
        else:
            type_ = "Error"
        return [make_error("webpack", type_, message, self.location, lines)]


def start(line: str, lookback: Sequence[str]) -> Group | None:
    if line in _VITE_BLOCK:
        return ViteGroup(line, _VITE_BLOCK[line], "")
    entry = _vite_entry(line)
    if entry is not None:
        m = _VITE_ERROR.match(entry)
        if m:
            return ViteGroup(line, _VITE_TYPES[m.group(1)], m.group(2))
        if lookback and lookback[-1].startswith(_CONFIG_FAILED):
            return ViteRestartGroup(lookback[-1], line, entry)
        if entry == _RESTART_FAILED:
            return ViteGroup(line, "RestartError", entry)  # a restart that failed for another reason
        return None
    m = _ESBUILD.match(line)
    if m:
        return EsbuildGroup(line, m.group(1))
    if line.startswith("ERROR in "):
        m = _WEBPACK.match(line)
        assert m is not None
        path = m.group(1).removeprefix("./")
        if m.group(2) is not None:
            # webpack columns are 0-based; editors and every other family here count from 1
            location: str | None = f"{path}:{m.group(2)}:{int(m.group(3)) + 1}"
        else:
            location = path if "/" in path or "." in path else None  # "ERROR in main" names a chunk
        return WebpackGroup(line, location)
    return None


def _vite_entry(line: str) -> str | None:
    """What a Vite log entry says: the text after ``[vite] `` (and Vite 6's ``(client) ``), or None. A search,
    not a regex with a leading ``.*``: this runs on every Vite line, and on hostile 64 KiB lines."""
    at = line.find(_VITE)
    while at > 0 and not line[at - 1].isspace():
        at = line.find(_VITE, at + 1)
    if at < 0:
        return None
    entry = line[at + len(_VITE) :]
    env = _VITE_ENV.match(entry)
    return entry[env.end() :] if env else entry


def clean(line: str) -> CleanCycle | None:
    entry = _vite_entry(line)
    if entry is not None:
        if not _VITE_CLEAN.match(entry):
            return None
        if entry.startswith("server"):
            return clean_cycle(VITE_FAMILIES, "vite: server restarted")
        return clean_cycle(VITE_FAMILIES, f"vite: {entry}", spare=CONFIG_FILES)
    if "➜" in line:
        return clean_cycle(VITE_FAMILIES, "vite: server ready") if _VITE_READY.match(line) else None
    m = _WEBPACK_DONE.match(line) if line.startswith("webpack") else None
    if m is None:
        return None
    rest = line[m.start(1) :]
    took = _WEBPACK_TOOK.search(rest, max(0, len(rest) - 40))
    what = rest[: took.start()] if took else rest
    return clean_cycle("webpack", f"webpack: compiled {what}", full_report=" error" in what)
