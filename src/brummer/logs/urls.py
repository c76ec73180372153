"""Find the URLs a dev server announces ("Local: http://localhost:5173/").

Only URLs a developer would open on this machine count: loopback, ``0.0.0.0`` / ``[::]`` (shown as localhost),
``*.localhost``, private LAN ranges and link-local addresses. Links to public hosts (docs, registries, "learn more
at https://...") are ignored: the Go brummer proxied every one of them.

A URL a process prints is only a candidate: on Linux its run's port watcher credits it to the process once the
process listens on it (``UrlWatch``, ``supervise.port_watch``), since a web server also prints the API it calls.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import trio

from brummer.logs.port_taken import PortTaken, find_port_taken

URL_RE = re.compile(r"\b(?:https?|wss?)://(?:\[[0-9a-fA-F:.]+\])?[^\s<>\"'`{}|\\^\[\]]*")
TRAILING = ".,;:!?)]}'\""
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]"}


def _is_local_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if host in ("localhost", "0.0.0.0", "::") or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_unspecified


def normalize(raw: str) -> str | None:
    """The URL as a developer would open it, or None if it is not a local dev URL."""
    url = raw.rstrip(TRAILING)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host or not _is_local_host(host):
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if host in WILDCARD_HOSTS or netloc.startswith("[::]"):
        netloc = "localhost" if port is None else f"localhost:{port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc.lower(), path, parts.query, ""))


def find_urls(text: str) -> list[str]:
    """Local dev URLs in ANSI-stripped ``text``, normalized, first occurrence order, no duplicates."""
    if "://" not in text:
        return []
    found: list[str] = []
    for match in URL_RE.finditer(text):
        url = normalize(match.group(0))
        if url is not None and url not in found:
            found.append(url)
    return found


LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def origin(url: str) -> tuple[str, int]:
    """(host, port) with every loopback spelling folded together, for "who serves this" comparisons."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        host = "localhost"
    default = 443 if parts.scheme in ("https", "wss") else 80
    try:
        port = parts.port or default
    except ValueError:
        port = default
    return host, port


MAX_CANDIDATES = 16  # printed URLs awaiting a listening socket, per run (a log naming more is a client's)
MAX_CLASHES = 8  # port-in-use messages awaiting an explanation


@dataclass(slots=True, eq=False)
class UrlWatch:
    """A run's URLs that are printed but not yet owned, and the port-in-use lines it printed: what the store hands
    to the run's port watcher (``supervise.port_watch``), which credits a URL only once the run listens on it.

    ``wait()`` returns when there is news: a new URL, a port-in-use line, (while ``wants_output``) any output,
    which is when a server that prints before it binds has usually bound, or a request to check at once
    (``check_now``: the process became ready, and a probe can pass long before the watcher's timer looks again).
    ``asked`` and ``checked`` tell whether every candidate has been looked at since then (``settled``)."""

    candidates: dict[str, float] = field(default_factory=dict)  # url -> trio time it was first printed
    clashes: list[PortTaken] = field(default_factory=list)
    fresh: bool = False  # a URL was added since the watcher last looked
    output: bool = False  # the run printed something since the watcher last looked (only while wants_output)
    wants_output: bool = False
    urgent: bool = False  # check the candidates at once, whatever the timer says
    asked: int = 0  # counts new candidates and requests to check now
    checked: int = 0  # ``asked`` as it was when the latest finished check began
    closed: bool = False  # the watcher is gone: nothing will be checked any more
    _lot: trio.lowlevel.ParkingLot = field(default_factory=trio.lowlevel.ParkingLot)
    _checked_lot: trio.lowlevel.ParkingLot = field(default_factory=trio.lowlevel.ParkingLot)

    def mention(self, url: str) -> None:
        if url in self.candidates:
            return
        if len(self.candidates) >= MAX_CANDIDATES:
            del self.candidates[next(iter(self.candidates))]
        self.candidates[url] = trio.current_time()
        self.fresh = True
        self.asked += 1
        self._lot.unpark_all()

    def check_now(self) -> None:
        self.urgent = True
        self.asked += 1
        self._lot.unpark_all()

    def was_checked(self, asked: int) -> None:
        """A check that began when ``asked`` was this has finished (its owned URLs are claimed)."""
        self.checked = max(self.checked, asked)
        self._checked_lot.unpark_all()

    def close(self) -> None:
        self.closed = True
        self._checked_lot.unpark_all()

    def settled(self) -> bool:
        """Every candidate is owned (and gone from here) or was found not owned by a check begun after the latest
        new URL and ``check_now``."""
        return self.closed or not self.candidates or self.checked >= self.asked

    async def wait_settled(self) -> None:
        while not self.settled():
            await self._checked_lot.park()

    def saw_output(self, plain: str) -> None:
        """New output (ANSI-stripped): look for port-in-use messages, wake the watcher if it waits for output."""
        room = MAX_CLASHES - len(self.clashes)
        new = find_port_taken(plain)[:room] if room > 0 else []
        self.clashes += new
        self.output = self.output or self.wants_output
        if new or self.wants_output:
            self._lot.unpark_all()

    def news(self) -> bool:
        return self.fresh or self.output or self.urgent or bool(self.clashes)

    async def wait(self) -> None:
        if self.news():
            await trio.lowlevel.checkpoint()
        else:
            await self._lot.park()
