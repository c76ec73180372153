"""Which upstreams the proxy forwards to, and on which local port each one listens.

A target is one server of one process: ``(process, upstream port)``. It comes from a URL the process printed
(``UrlDetected``; a server announced as ``localhost`` and as a LAN address is one target) or from brummer.toml
(``proxy = { target = "http://localhost:5173" }``, which replaces detection for that process). Each target gets a
listening socket on 127.0.0.1 the first time anyone asks about it (the proxy service, the printer showing the URL
line, an MCP tool), from ``proxy_base_port`` on, the next free port when one is taken. The socket is bound at that
moment, so the port is really ours, and kept for the whole run: a process that restarts finds its proxy where it was.

This module is synchronous and imports nothing heavy: the printer may call it while formatting a line.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import trio

from brummer.config.spec import ProcessSpec, ProxyOptions

LISTEN_HOST = "127.0.0.1"
PORT_TRIES = 200  # ports tried after the base before giving up on a target
MAX_PORT = 65535
BACKLOG = 512  # connections the kernel queues before our accept loop takes them (a browser opens ~6 per origin)


@dataclass(eq=False)
class Target:
    """One upstream server of one process, and the local port brummer proxies it on."""

    process: str
    scheme: str  # "http" or "https" (the proxy itself always serves plain http on loopback)
    host: str  # the upstream host as announced ("localhost", "192.168.1.5")
    port: int  # the upstream port
    host_header: bytes  # what the upstream sees as Host (default: host:port, so dev servers' host checks pass)
    listener: socket.socket
    proxy_port: int
    configured: bool = False
    addresses: list[tuple[int, tuple[object, ...]]] = field(default_factory=list)  # resolved once, best first

    @property
    def proxy_url(self) -> str:
        return f"http://{LISTEN_HOST}:{self.proxy_port}/"

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host_header.decode('latin-1')}"

    @property
    def upstream_url(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}") + "/"

    def close(self) -> None:
        self.listener.close()


def host_header(scheme: str, host: str, port: int, configured: str | None) -> bytes | None:
    """What the upstream sees as Host: the configured one, else the target's own host and port (an international
    name in its ASCII form); None if the host cannot be put in a header."""
    if configured:
        return configured.encode("latin-1", "replace")
    try:
        name = host.encode("idna") if ":" not in host else f"[{host}]".encode("ascii")
    except UnicodeError:
        return None
    default = 443 if scheme == "https" else 80
    return name if port == default else name + b":%d" % port


def split_origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, or None for other schemes and malformed ones."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


class Targets:
    """Every target of this run, keyed by (process, upstream port); assigns ports and owns the listeners."""

    def __init__(self, processes: Mapping[str, ProcessSpec], base_port: int) -> None:
        self._options: dict[str, ProxyOptions] = {name: spec.proxy for name, spec in processes.items()}
        self._base = base_port
        self._next_port = base_port
        self._targets: dict[tuple[str, int], Target] = {}
        self._by_url: dict[tuple[str, str], Target | None] = {}
        self.added = trio.lowlevel.ParkingLot()  # unparked whenever a target appears (or could not be bound)
        self.failures: list[str] = []  # ports that could not be bound, for the service to report

    def configure(self) -> list[Target]:
        """Create the targets brummer.toml names (``proxy = { target = ... }``), listening from the start."""
        created = []
        for name, options in self._options.items():
            if options.enabled and options.target:
                target = self.for_url(name, options.target)
                if target is not None:
                    target.configured = True
                    created.append(target)
        return created

    def for_url(self, process: str, url: str) -> Target | None:
        """The target serving ``url`` of ``process`` (created, with its port, the first time); None if the URL is
        not proxied (not http(s), ``proxy = false``, another port than a configured target, no port free)."""
        key = (process, url)
        if key in self._by_url:
            return self._by_url[key]
        try:
            target = self._lookup(process, url)
        except Exception as exc:  # a bug here must not take the printer, the panel or MCP with it: no proxy, a line
            self._failed(f"{process}: {url} is not proxied: {exc!r}")
            target = None
        if len(self._by_url) < 10_000:  # a process printing endless distinct URLs must not grow this forever
            self._by_url[key] = target
        return target

    def proxy_url(self, process: str, url: str) -> str | None:
        target = self.for_url(process, url)
        return target.proxy_url if target is not None else None

    def __iter__(self) -> Iterator[Target]:
        return iter(list(self._targets.values()))

    def of(self, process: str) -> list[Target]:
        return [t for t in self._targets.values() if t.process == process]

    def _lookup(self, process: str, url: str) -> Target | None:
        options = self._options.get(process, ProxyOptions())
        origin = split_origin(url)
        if not options.enabled or origin is None:
            return None
        if options.target:  # a configured target replaces detection for its process
            configured = split_origin(options.target)
            if configured is None or configured[2] != origin[2]:
                return None
            origin = configured
        scheme, host, port = origin
        existing = self._targets.get((process, port))
        if existing is not None:
            return existing
        host = host.lower()
        header = host_header(scheme, host, port, options.host)
        if header is None:
            self._failed(f"{process}: {url} is not proxied: its host name cannot be a Host header")
            return None
        listener, why = self._bind()
        if listener is None:
            self._failed(f"{process}: no free proxy port for {url} ({why})")
            return None
        target = Target(process, scheme, host, port, header, listener, listener.getsockname()[1])
        self._targets[(process, port)] = target
        self.added.unpark_all()
        return target

    def _failed(self, why: str) -> None:
        self.failures.append(why)
        self.added.unpark_all()  # the service reports it

    def _bind(self) -> tuple[socket.socket | None, str]:
        """A listening socket on 127.0.0.1: the base port, else the next free one (any free port for base 0), and
        if there is none, why. The search stops at 65535: it never wraps around below the base."""
        first = self._next_port
        for _ in range(PORT_TRIES):
            port = self._next_port
            if port > MAX_PORT:
                break
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((LISTEN_HOST, port))
                sock.listen(BACKLOG)
            except OSError as exc:
                sock.close()
                if self._base == 0:
                    return None, f"cannot listen on 127.0.0.1: {exc.strerror or exc}"
                self._next_port = port + 1
                continue
            sock.setblocking(False)
            if self._base:
                self._next_port = port + 1
            return sock, ""
        if first > MAX_PORT:
            return None, f"every port from {self._base} to {MAX_PORT} is in use"
        return None, f"ports {first} to {self._next_port - 1} are taken"

    def close(self) -> None:
        for target in self._targets.values():
            target.close()
