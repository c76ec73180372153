"""JavaScript stack traces as pages report them (Chrome's ``at fn (url:line:col)``, Firefox's ``fn@url:line:col``),
parsed into frames, and frames shown as a developer reads them: ``src/App.tsx:12:5`` rather than a URL.

Parsing splits strings from the right (no regex over hostile text). The user's frame is the first one outside
dependencies, the bundler's runtime and brummer's own script.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

MAX_FRAMES = 30  # frames kept of one stack
MAX_LINE = 2000  # characters of one stack line looked at
LIBRARY = ("/node_modules/", "/@vite/", "/.vite/", "/__brummer__/", "/@react-refresh", "/@id/")


@dataclass(frozen=True, slots=True)
class Frame:
    function: str
    url: str  # as reported (a URL), or, once mapped, the original source (a path relative to the project)
    line: int  # 1-based
    column: int  # 1-based
    mapped: bool = False

    @property
    def where(self) -> str:
        return f"{self.url}:{self.line}:{self.column}"

    @property
    def library(self) -> bool:
        path = "/" + self.url if self.mapped else urlsplit(self.url).path
        return self.url.startswith("<") or any(part in path for part in LIBRARY) or path.startswith("/@fs/")

    def text(self) -> str:
        return f"    at {self.function} ({self.where})" if self.function else f"    at {self.where}"


def parse_stack(stack: str) -> list[Frame]:
    frames: list[Frame] = []
    for raw in stack[: MAX_FRAMES * MAX_LINE].splitlines():
        frame = parse_frame(raw.strip()[:MAX_LINE])
        if frame is not None:
            frames.append(frame)
            if len(frames) >= MAX_FRAMES:
                break
    return frames


def parse_frame(line: str) -> Frame | None:
    if line.startswith("at "):
        body = line[3:]
        if body.endswith(")") and " (" in body:
            function, _, location = body[:-1].partition(" (")
        else:
            function, location = "", body
    elif "@" in line:
        function, _, location = line.partition("@")
    else:
        return None
    url, line_text, column_text = ([*location.rsplit(":", 2), "", ""])[:3]
    if not (line_text.isdigit() and column_text.isdigit()) or not url or len(line_text) > 9 or len(column_text) > 9:
        return None
    return Frame(function.strip()[:200], url, int(line_text), int(column_text))


def page_path(url: str, origins: tuple[str, ...]) -> str | None:
    """The path and query of ``url`` if it is on one of ``origins`` (the proxy's own), else None."""
    for origin in origins:
        if url.startswith(origin) and url[len(origin) : len(origin) + 1] == "/":
            return url[len(origin) :]
    return None


def display(frame: Frame, origins: tuple[str, ...]) -> Frame:
    """An unmapped frame of the page's own origin without the origin and the query (``src/main.ts:40:11``)."""
    if frame.mapped:
        return frame
    path = page_path(frame.url, origins)
    if path is None:
        return frame
    return replace(frame, url=path.split("?", 1)[0].lstrip("/"))


def source_name(source: str, map_path: str, root: Path) -> str:
    """A source map's ``sources`` entry as a project path: relative to the map's URL path, or to the project root
    for an absolute file path inside it; bundler schemes (``webpack:///./src/x``) dropped."""
    for scheme in ("webpack://", "vite://", "file://"):
        if source.startswith(scheme):
            source = source[len(scheme) :].lstrip("/")
            return source[2:] if source.startswith("./") else source
    if "://" in source:
        source = urlsplit(source).path
    if source.startswith("/"):
        rooted = str(root).rstrip("/") + "/"
        return source[len(rooted) :] if source.startswith(rooted) else source.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(map_path.split("?", 1)[0]), source)).lstrip("/")


def location(frames: list[Frame]) -> str | None:
    """The user's frame: the first one outside libraries (else the first frame)."""
    for frame in frames:
        if not frame.library:
            return frame.where
    return frames[0].where if frames else None
