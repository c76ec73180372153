"""The telemetry's state: one ``Session`` per browser tab, the events the tabs reported, and commands to them.

A tab keeps its session across reloads and same-origin navigations (the page keeps a token in ``sessionStorage``),
so an agent can reload a tab and read what the new page reported under the same id. Everything is bounded: the
sessions kept (``SESSIONS``, the oldest disconnected one goes first), the events (``EVENTS``, newest kept), the
commands waiting for an answer per tab. ``Telemetry`` is an object without tasks: the page sockets
(``routes``) feed it, the MCP tools read it and send commands through the tab's socket.
"""

from __future__ import annotations

import itertools
import json
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from brummer.errors import ToolError

if TYPE_CHECKING:
    from brummer.browser.frames import ServerSocket
    from brummer.browser.page_errors import PageReports
    from brummer.browser.sourcemaps import SourceMaps
    from brummer.logs.store import LogStore
    from brummer.proxy.server import Site

SESSIONS = 64  # tabs remembered, connected or not
EVENTS = 2000  # events kept, all tabs together
REPLIES = 8  # commands waiting for a tab's answer at once
KINDS = ("console", "error", "rejection", "network", "overlay", "timing", "hmr", "page")


@dataclass(slots=True)
class BrowserEvent:
    id: int  # increasing: the ``since`` cursor of browser_events
    session: str
    process: str
    kind: str  # one of KINDS
    level: str  # "error", "warn" or "info"
    time: float  # wall clock
    text: str  # one line
    location: str | None = None  # the user's frame, mapped to the original source
    detail: dict[str, Any] = field(default_factory=dict)  # stack lines, status, timing figures...

    def to_dict(self) -> dict[str, Any]:
        row = {"id": self.id, "session": self.session, "process": self.process, "kind": self.kind}
        row.update(level=self.level, time=round(self.time, 3), text=self.text, location=self.location)
        return row | self.detail


@dataclass(slots=True)
class Session:
    """One browser tab on one proxy (an origin)."""

    id: str  # "t1", "t2"...: short, for agents to type
    process: str
    origin: str  # the proxy's origin the tab is on (as its socket's Origin header said: one of ``origins``)
    since: float  # wall clock of its first connection
    url: str = ""
    title: str = ""
    loads: int = 0  # page loads seen (a reload or navigation is a new one)
    loaded_at: float = 0.0
    last_seen: float = 0.0
    events: int = 0
    errors: int = 0
    dropped: int = 0  # messages it sent beyond its rate, or the page dropped itself
    socket: ServerSocket | None = None  # while connected
    replies: dict[int, list[Any]] = field(default_factory=dict)  # command id -> [event, answer]
    keys: set[str] = field(default_factory=set)  # error keys its current page load (or HMR generation) reported
    pending: set[str] = field(default_factory=set)  # keys of the previous one, resolved unless seen again
    settle_at: float = float("inf")  # trio time when ``pending`` is resolved

    @property
    def connected(self) -> bool:
        return self.socket is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "process": self.process, "url": self.url, "title": self.title,
            "since": round(self.since, 3), "connected": self.connected, "loads": self.loads,
            "events": self.events, "errors": self.errors, "dropped": self.dropped,
        }  # fmt: skip


class Telemetry:
    """Every tab's session and events, per brummer instance (all proxies share it)."""

    def __init__(self, store: LogStore, root: Path, *, allow_eval: bool = False) -> None:
        self.store = store
        self.root = root
        self.allow_eval = allow_eval
        self.sessions: OrderedDict[str, Session] = OrderedDict()
        self.events: deque[BrowserEvent] = deque(maxlen=EVENTS)
        self.last_id = 0
        self.maps: dict[int, SourceMaps] = {}  # per proxy port
        self.live: dict[int, set[ServerSocket]] = {}  # open sockets per proxy port
        self.reports: dict[str, PageReports] = {}  # per session: what applies its reports
        self.changed = trio.lowlevel.ParkingLot()  # a tab connected, loaded or went away
        self._tokens: dict[tuple[int, str], str] = {}  # (proxy port, the tab's token) -> session id
        self._ids = itertools.count(1)
        self._commands = itertools.count(1)
        self._noted: set[tuple[str, str]] = set()

    def note_once(self, process: str, what: str, text: str) -> None:
        """A note about the telemetry of ``process`` (a CSP that blocks it, ...), once per run of brummer."""
        if (process, what) not in self._noted:
            self._noted.add((process, what))
            self.store.note(text, process, "warn")

    def source_maps(self, site: Site) -> SourceMaps:
        port = site.target.proxy_port
        maps = self.maps.get(port)
        if maps is None:
            from brummer.browser.sourcemaps import SourceMaps

            # the proxy's origins, and the dev server's own (a page may load scripts from it directly)
            maps = self.maps[port] = SourceMaps(site, (*origins(port), site.target.origin), self.root)
        return maps

    def session(self, site: Site, token: str) -> Session | None:
        """The tab's session (a new one the first time); None when every kept session is connected."""
        key = (site.target.proxy_port, token)
        found = self._tokens.get(key)
        if found is not None and found in self.sessions:
            self.sessions.move_to_end(found)
            return self.sessions[found]
        if len(self.sessions) >= SESSIONS:
            gone = next((s for s in self.sessions.values() if not s.connected), None)
            if gone is None:
                return None
            del self.sessions[gone.id]
            self.reports.pop(gone.id, None)
            self._tokens = {k: v for k, v in self._tokens.items() if v != gone.id}
        session = Session(f"t{next(self._ids)}", site.target.process, origins(site.target.proxy_port)[0], time.time())
        self.sessions[session.id] = session
        self._tokens[key] = session.id
        return session

    def add(
        self, session: Session, kind: str, level: str, text: str, location: str | None = None, **detail: Any
    ) -> None:
        self.last_id += 1
        self.events.append(BrowserEvent(self.last_id, session.id, session.process, kind, level, time.time(), text,
                                        location, detail))  # fmt: skip
        session.events += 1
        session.last_seen = time.time()

    def select(self, session: str | None, kind: str | None, since: int | None) -> Iterator[BrowserEvent]:
        for event in self.events:
            if session not in (None, event.session) or kind not in (None, event.kind):
                continue
            if since is None or event.id > since:
                yield event

    def pick(self, session_id: str | None) -> Session:
        """The tab a command goes to: the one named, else the connected one seen last; ToolError if none."""
        if session_id is not None:
            session = self.sessions.get(session_id)
            if session is None:
                raise ToolError(f"no browser session {session_id!r}; browser_sessions lists them")
            if not session.connected:
                raise ToolError(f"tab {session_id} is not connected (closed, or on another site)")
            return session
        live = [s for s in self.sessions.values() if s.connected]
        if not live:
            raise ToolError("no browser tab is connected: open a proxy URL (urls_list) in a browser")
        return max(live, key=lambda s: s.last_seen)

    async def command(self, session: Session, command: dict[str, Any], seconds: float) -> dict[str, Any]:
        """Send ``command`` to the tab and wait for its answer (ToolError when there is none in time)."""
        from brummer.browser.frames import SocketClosed

        if session.socket is None:
            raise ToolError(f"tab {session.id} is not connected")
        if len(session.replies) >= REPLIES:
            raise ToolError(f"tab {session.id} has {REPLIES} commands waiting already; try again")
        number = next(self._commands)
        slot: list[Any] = [trio.Event(), None]
        session.replies[number] = slot
        try:
            with trio.move_on_after(seconds):
                await session.socket.send(json.dumps({**command, "id": number}))
                await slot[0].wait()
        except SocketClosed:
            slot[1] = {"ok": False, "error": "the tab went away"}
        finally:
            session.replies.pop(number, None)
        if slot[1] is None:
            raise ToolError(f"tab {session.id} did not answer within {seconds:g} s")
        answer: dict[str, Any] = slot[1]
        return answer

    def answer(self, session: Session, number: object, reply: dict[str, Any]) -> None:
        slot = session.replies.get(number) if isinstance(number, int) else None
        if slot is not None:
            slot[1] = reply
            slot[0].set()

    def disconnected(self, session: Session) -> None:
        session.socket = None
        for slot in session.replies.values():
            slot[1] = slot[1] or {"ok": False, "error": "the tab went away"}
            slot[0].set()
        self.changed.unpark_all()

    async def wait_load(self, session: Session, loads: int, seconds: float) -> bool:
        """Until the tab has loaded a page after its ``loads``-th (a reload, a navigation), at most ``seconds``."""
        with trio.move_on_after(seconds):
            while session.loads <= loads:
                await self.changed.park()
            return True
        return False


def origins(port: int) -> tuple[str, str]:
    """The proxy's own origins: the only pages allowed to report to it."""
    return f"http://127.0.0.1:{port}", f"http://localhost:{port}"
