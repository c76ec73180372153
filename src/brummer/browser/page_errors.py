"""What a tab reports, turned into events and error groups of the process behind the proxy (family ``browser``).

Errors (uncaught exceptions, unhandled rejections, ``console.error``, failed requests, Vite's overlay) become
groups like the ones found in logs: keyed by type, message and the user's frame (mapped through source maps), so
the same error on every reload is one group with a count. A ``console.warn`` is an event only.

Resolution: a page load (or an HMR update) starts a new generation of the tab. The errors the previous generation
reported are resolved once the new one has settled (``SETTLE`` seconds after its ``load`` event, or after the
update; ``SETTLE_MAX`` after a load that never finishes) without reporting them again. An error thrown only on a
click is resolved by a reload too: nothing in the new page says it is still there until it is clicked again.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import trio

from brummer.browser.stacks import Frame, display, location, page_path, parse_stack
from brummer.logs.errors import DetectedError
from brummer.logs.kinds import Stream
from brummer.logs.lines import strip

if TYPE_CHECKING:
    from brummer.browser.telemetry import Session, Telemetry
    from brummer.proxy.server import Site

FAMILY = "browser"
SETTLE = 2.0  # seconds after a page's load event (or an HMR update) before what it did not repeat is resolved
SETTLE_MAX = 15.0  # ... after a page connected whose load event never came
TEXT = 1000  # characters of a message kept
ERROR_KINDS = ("error", "rejection", "console", "network", "overlay")


def text_of(value: object, size: int = TEXT) -> str:
    """A string from the page, as one clean piece (no terminal escapes), clipped."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    value = strip(value[: size * 2]) if "\x1b" in value[: size * 2] else value[: size * 2]
    return value if len(value) <= size else value[: size - 1] + "…"


def number(value: object) -> float | None:
    return round(float(value), 1) if isinstance(value, int | float) and not isinstance(value, bool) else None


class PageReports:
    """Applies one tab's messages (``routes`` calls ``handle`` for each, in order)."""

    def __init__(self, telemetry: Telemetry, site: Site, session: Session) -> None:
        self.telemetry = telemetry
        self.site = site
        self.session = session
        self.load: object = None  # the page load the tab's socket reported last

    def hello(self, message: dict[str, Any]) -> None:
        """A page connected: a new load of the tab (or the same page reconnecting after brummer restarted)."""
        session = self.session
        load = message.get("load")
        if isinstance(load, str) and load == self.load:
            return  # the same page, reconnected
        self.load = load
        self._new_generation(SETTLE_MAX)
        session.loads += 1
        session.loaded_at = time.time()
        session.url, session.title = text_of(message.get("url"), 2000), text_of(message.get("title"), 300)
        self.telemetry.add(session, "page", "info", f"loaded {session.url}")
        self.telemetry.changed.unpark_all()

    def _new_generation(self, settle: float) -> None:
        session = self.session
        session.pending |= session.keys
        session.keys = set()
        if session.pending:
            session.settle_at = min(session.settle_at, trio.current_time() + settle)

    def settle(self) -> None:
        """The new generation settled: resolve what it did not report again."""
        session = self.session
        keys, session.pending, session.settle_at = session.pending, set(), float("inf")
        how = "reloaded" if session.loads > 1 else "updated"
        self.telemetry.store.resolve_errors(
            session.process, FAMILY, keys, f"browser: tab {session.id} {how} without it"
        )

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("t")
        session = self.session
        if kind == "timing":
            session.title = text_of(message.get("title"), 300) or session.title
            figures = {name: number(message.get(name)) for name in ("ttfb", "dcl", "load")}
            said = ", ".join(f"{name} {value:g} ms" for name, value in figures.items() if value is not None)
            self.telemetry.add(session, "timing", "info", f"{session.url}: {said}", None, **figures)
            if session.pending:
                session.settle_at = min(session.settle_at, trio.current_time() + SETTLE)
        elif kind == "hmr":
            paths = (
                [text_of(p, 300) for p in message.get("paths", [])[:20]]
                if isinstance(message.get("paths"), list)
                else []
            )
            self.telemetry.add(session, "hmr", "info", "hmr update " + " ".join(paths), paths=paths)
            self._new_generation(SETTLE)
        elif kind == "dropped":
            session.dropped += int(number(message.get("n")) or 0)
        elif kind == "console" and message.get("level") != "error":
            text = text_of(message.get("text"))
            self.telemetry.add(session, "console", "warn", text, await self._where(message))
        elif kind in ERROR_KINDS:
            await self._error(str(kind), message)

    async def _where(self, message: dict[str, Any]) -> str | None:
        frames = await self._frames(message)
        return location(frames)

    async def _frames(self, message: dict[str, Any]) -> list[Frame]:
        frames = parse_stack(text_of(message.get("stack"), 16000))
        if not frames and isinstance(message.get("file"), str) and isinstance(message.get("line"), int):
            frames = [Frame("", text_of(message["file"], 2000), message["line"], int(number(message.get("col")) or 1))]
        if frames:
            frames = await self.telemetry.source_maps(self.site).resolve(frames)
        origins = self.telemetry.source_maps(self.site).origins
        return [display(frame, origins) for frame in frames]

    async def _error(self, kind: str, message: dict[str, Any]) -> None:
        session = self.session
        text = text_of(message.get("message") if kind != "console" else message.get("text"))
        frames: list[Frame] = []
        where: str | None = None
        if kind == "network":
            method = text_of(message.get("method"), 20) or "GET"
            url = text_of(message.get("url"), 2000)
            path = page_path(url, self.telemetry.source_maps(self.site).origins) or url
            status = int(number(message.get("status")) or 0)
            error_type = f"{text_of(message.get('via'), 10) or 'fetch'} {status or 'failed'}"
            text = f"{method} {path.split('?', 1)[0]} → " + (str(status) if status else text or "network error")
        elif kind == "overlay":
            error_type = "vite:error" + (f" ({text_of(message.get('plugin'), 100)})" if message.get("plugin") else "")
            where = self._overlay_location(message)
        else:
            frames = await self._frames(message)
            where = location(frames)
            name = text_of(message.get("name"), 100)
            error_type = {"console": "console.error", "rejection": name or "unhandledrejection"}.get(
                kind, name or "Error"
            )
        first = text.split("\n", 1)[0] or "(no message)"
        lines = (f"{error_type}: {text}"[:4000], *(f.text() for f in frames[:15]))
        if kind == "overlay" and (frame := text_of(message.get("frame"), 2000)):
            lines = (*lines, *frame.splitlines()[:20])
        error = DetectedError(FAMILY, error_type, first[:300], where, lines)
        self.telemetry.add(session, kind, "error", f"{error_type}: {first[:300]}", where, stack=list(lines[1:6]))
        session.errors += 1
        if error.key not in session.keys:
            store = self.telemetry.store
            store.note(f"browser tab {session.id} ({session.url[:200]}):\n" + "\n".join(lines), session.process,
                       "error", publish=False)  # fmt: skip
            store.record_error(session.process, Stream.BRUMMER, error)  # reported through brummer, not a pipe
        else:
            self.telemetry.store.record_error(session.process, Stream.BRUMMER, error)
        session.keys.add(error.key)
        session.pending.discard(error.key)

    def _overlay_location(self, message: dict[str, Any]) -> str | None:
        file = text_of(message.get("file"), 2000)
        if not file:
            return None
        root = str(self.telemetry.root).rstrip("/") + "/"
        file = file[len(root) :] if file.startswith(root) else file.lstrip("/")
        line, col = number(message.get("line")), number(message.get("col"))
        return file + (f":{line:g}" if line else "") + (f":{col:g}" if line and col else "")
