"""Stack frames mapped through the dev server's source maps, to the original file, line and column.

For a frame on the page's own origin, the script is fetched from the upstream itself (not through the proxy, so
it is not recorded), its map found from a ``SourceMap``/``X-SourceMap`` header or its last
``//# sourceMappingURL=`` comment (an inline ``data:`` URL, or a path on the same upstream), and parsed with Sentry's
``symbolic`` (Rust) in a worker thread: a map of several MB never holds the event loop. Maps are cached per script
URL and process run (a restarted dev server serves new code), a bounded number of them; fetches have timeouts and
size limits, and a script without a usable map is remembered as such.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import trio

from brummer.browser.stacks import Frame, page_path, source_name
from brummer.proxy.http1 import UPSTREAM_ERRORS
from brummer.proxy.upstream import RECV

if TYPE_CHECKING:
    from brummer.proxy.server import Site

FETCH_TIMEOUT = 5.0  # seconds for one script or map, connection included
MAX_SCRIPT = 8 * 1024 * 1024  # bytes of a script fetched to find its map
MAX_MAP = 16 * 1024 * 1024  # bytes of one source map
MAX_MAPS = 32  # parsed maps (or "no map") kept per target
MAX_SCRIPTS = 8  # distinct scripts of one stack looked at
RESOLVE_TIMEOUT = 10.0  # seconds for every fetch one stack needs
_SAFE_PATH = re.compile(r"/[!-~]{0,2047}")  # printable ASCII, no spaces or line breaks: safe in a request line
_COMMENT = re.compile(rb"[#@] sourceMappingURL=([^\s'\"*]+)")


class SourceMaps:
    """One target's maps: ``resolve`` maps the frames of one stack."""

    def __init__(self, site: Site, origins: tuple[str, ...], root: Path) -> None:
        self.site = site
        self.origins = origins
        self.root = root
        self.cache: OrderedDict[tuple[str, str], tuple[Any, str] | None] = OrderedDict()  # -> (view, map path)
        self.loading: dict[tuple[str, str], trio.Event] = {}
        self.fetches = 0  # scripts and maps fetched (tests read it)

    async def resolve(self, frames: list[Frame]) -> list[Frame]:
        """``frames`` with those that a map covers replaced by their original location."""
        info = self.site.info()
        run = (info.run_id or "") if info is not None else ""
        wanted: dict[str, tuple[Any, str] | None] = {}
        with trio.move_on_after(RESOLVE_TIMEOUT):  # what is not loaded by then stays unmapped (and uncached)
            for frame in frames:
                path = page_path(frame.url, self.origins)
                if path is not None and path not in wanted and len(wanted) < MAX_SCRIPTS:
                    wanted[path] = await self._map(run, path)
        jobs: list[tuple[int, tuple[Any, str], Frame]] = []
        for index, frame in enumerate(frames):
            path = page_path(frame.url, self.origins)
            if path is not None and (entry := wanted.get(path)) is not None:
                jobs.append((index, entry, frame))
        if not jobs:
            return frames
        mapped = await trio.to_thread.run_sync(_lookup_all, [(entry, f) for _, entry, f in jobs], self.root)
        result = list(frames)
        for (index, _, _), found in zip(jobs, mapped, strict=True):
            if found is not None:
                result[index] = found
        return result

    async def _map(self, run: str, path: str) -> tuple[Any, str] | None:
        key = (run, path)
        while key in self.loading:
            await self.loading[key].wait()
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        self.loading[key] = done = trio.Event()
        try:
            entry = await self._load(path) if _SAFE_PATH.fullmatch(path) else None
        finally:
            del self.loading[key]
            done.set()
        self.cache[key] = entry
        while len(self.cache) > MAX_MAPS:
            self.cache.popitem(last=False)
        return entry

    async def _load(self, path: str) -> tuple[Any, str] | None:
        fetched = await self.fetch(path, MAX_SCRIPT)
        if fetched is None:
            return None
        reference = await trio.to_thread.run_sync(_reference, *fetched)
        if not reference:
            return None
        if reference.startswith("data:"):
            return await trio.to_thread.run_sync(_parse_data_url, reference, path)
        map_path = self._same_origin(reference, path)
        if map_path is None or (fetched_map := await self.fetch(map_path, MAX_MAP)) is None:
            return None
        return await trio.to_thread.run_sync(_parse, fetched_map[1], map_path)

    def _same_origin(self, reference: str, script_path: str) -> str | None:
        """The path of a map reference on the upstream (relative, absolute path, or a URL of the page's origin)."""
        if "://" in reference:
            path = page_path(reference, (*self.origins, self.site.target.origin))
        elif reference.startswith("//"):
            return None
        elif reference.startswith("/"):
            path = reference
        else:
            path = posixpath.normpath(posixpath.join(posixpath.dirname(urlsplit(script_path).path), reference))
        return path if path is not None and _SAFE_PATH.fullmatch(path) else None

    async def fetch(self, path: str, limit: int) -> tuple[list[bytes], bytes] | None:
        """GET ``path`` from the upstream: (head lines, body) of a 200 answer within ``limit`` bytes, else None."""
        self.fetches += 1
        site = self.site
        with trio.move_on_after(FETCH_TIMEOUT):
            try:
                up = await site.pool.connect()
            except UPSTREAM_ERRORS:
                return None
            try:
                reader = up.reader
                reader.begin(False)
                await up.send(
                    b"GET %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\nAccept-Encoding: identity\r\n"
                    b"Connection: close\r\n\r\n" % (path.encode("ascii"), site.target.host_header)
                )
                received = 0
                while not reader.complete:
                    data = await up.recv(RECV)
                    received += len(data)
                    if received > limit + 65536 or (not data and not reader.delimited_by_close):
                        return None
                    if not data:
                        break
                    reader.feed(data)
                if reader.status != 200:
                    return None
                return reader.lines, b"".join(reader.pieces)
            except UPSTREAM_ERRORS:
                return None
            finally:
                up.close()
        return None


def _reference(lines: list[bytes], body: bytes) -> str | None:
    """Where a script's map is: its ``SourceMap`` header, else its last ``sourceMappingURL`` comment."""
    for line in lines:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"sourcemap", b"x-sourcemap"):
            return value.strip().decode("latin-1")
    at = body.rfind(b"sourceMappingURL=")
    found = _COMMENT.match(body, at - 2) if at >= 2 else None
    return found.group(1).decode("latin-1") if found else None


def _parse_data_url(url: str, script_path: str) -> tuple[Any, str] | None:
    """An inline map (``data:application/json;base64,...``), decoded and parsed (in a worker thread)."""
    meta, _, data = url[5:].partition(",")
    try:
        raw = base64.b64decode(data, validate=False) if meta.endswith(";base64") else unquote(data).encode()
    except (binascii.Error, ValueError):
        return None
    return _parse(raw[:MAX_MAP], script_path)


def _parse(raw: bytes, map_path: str) -> tuple[Any, str] | None:
    from symbolic.exceptions import SymbolicError
    from symbolic.sourcemap import SourceMapView

    try:
        return SourceMapView.from_json_bytes(raw), map_path
    except (SymbolicError, ValueError):
        return None


def _lookup_all(jobs: list[tuple[tuple[Any, str], Frame]], root: Path) -> list[Frame | None]:
    """Look frames up in their maps (in a worker thread): the original source, line and column, or None."""
    found: list[Frame | None] = []
    for (view, map_path), frame in jobs:
        token = view.lookup(frame.line - 1, max(0, frame.column - 1))
        if token is None or not token.src:
            found.append(None)
            continue
        name = source_name(token.src, map_path, root)
        found.append(replace(frame, url=name, line=token.src_line + 1, column=token.src_col + 1, mapped=True))
    return found
