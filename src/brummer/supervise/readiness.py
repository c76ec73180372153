"""Readiness checks: when a running process counts as ready.

``url`` and ``log`` watch the log store (by cursor, so no line is missed even when the bus drops; ``log`` reads in
slices, its pattern on RE2); ``http``, ``tcp`` and ``exec`` poll with a growing interval (from the check's
``interval`` up to 2 s), and also as soon as the process writes a line: ``API listening on :3001`` is the moment to
ask again, not up to two seconds later. The HTTP probe is a few lines over a Trio socket rather than httpx, whose
import would stall the event loop (and every pipe reader) for ~0.15 s.

A probe that fails says why, every time (``on_failure``): the process's state message then reads ``waiting for
http://localhost:3000/health: connection refused, 12 tries``, so the panel, MCP and ``brummer smoke``'s report tell
a server that is slow to start from one that will never answer. Only a failure worth a line is marked ``news``
(the reason changed, and the probe has been failing for ``ANNOUNCE_AFTER`` seconds): a normal start, whose first
probe or two find nothing listening yet, stays quiet in the plain output.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trio

from brummer.config.spec import ReadyCheck
from brummer.logs.patterns import compile_pattern
from brummer.logs.store import LogStore
from brummer.supervise.spawn import Spawner
from brummer.supervise.state import signal_name

MAX_INTERVAL = 2.0
PROBE_TIMEOUT = 2.0
EXEC_TIMEOUT = 10.0
OUTPUT_GAP = 0.05  # a process's output wakes its probe at most this often
ANNOUNCE_AFTER = 2.0  # seconds of failing before a probe's failure is news (a line in the plain output)


@dataclass(frozen=True, slots=True)
class ProbeFailure:
    """A readiness probe that has not passed yet: what it asks, why its latest try failed, how often it tried."""

    target: str  # "http://localhost:3000/health", "127.0.0.1:5432", "`pg_isready`"
    reason: str  # "connection refused", "HTTP 503", "exit code 2"
    tries: int
    news: bool = False  # worth announcing: a new reason, after ANNOUNCE_AFTER seconds of failing

    def __str__(self) -> str:
        return f"waiting for {self.target}: {self.reason}, {self.tries} {'try' if self.tries == 1 else 'tries'}"


def _ignore(failure: ProbeFailure) -> None:
    pass


async def wait_ready(
    check: ReadyCheck,
    *,
    process: str,
    store: LogStore,
    since: int,
    spawner: Spawner,
    cwd: Path,
    env: Mapping[str, str],
    on_failure: Callable[[ProbeFailure], None] = _ignore,
) -> str:
    """Return (a short description of why) once ``check`` holds; runs until cancelled otherwise. ``on_failure``
    hears of every failed try of an ``http``, ``tcp`` or ``exec`` probe."""
    if check.kind == "none":
        await trio.sleep_forever()
    if check.kind == "url":
        # Only a URL the process owns: on Linux one its run listens on (supervise.port_watch), not one it mentioned.
        while not (urls := store.urls(process).get(process)):
            await store.wait_urls_changed()
        return f"url {urls[0]}"
    if check.kind == "log":
        pattern = await trio.to_thread.run_sync(compile_pattern, check.target)  # checked when the config loaded
        cursor = since
        while True:
            found = await store.read(process, since=cursor, limit=1, pattern=pattern, min_run=1)
            if found.lines:
                return f"log line matched '{check.target}'"
            # Every line up to ``next`` has been looked at (other processes' lines advance it too): wait for
            # something newer, or this loop would spin.
            cursor = found.next
            await store.wait_beyond(cursor)

    async def probe() -> str | None:
        if check.kind == "tcp":
            return await tcp_probe("127.0.0.1", int(check.target))
        if check.kind == "http":
            return await http_probe(check.target)
        return _exit_reason(await spawner.run_check(check.target, cwd, env, EXEC_TIMEOUT))

    target = {"tcp": f"127.0.0.1:{check.target}", "http": check.target}.get(check.kind, f"`{check.target}`")
    interval = check.interval
    tries, began, announced = 0, trio.current_time(), ""
    while (reason := await probe()) is not None:
        tries += 1
        news = reason != announced and trio.current_time() - began >= ANNOUNCE_AFTER
        announced = reason if news else announced
        on_failure(ProbeFailure(target, reason, tries, news))
        await _pause(store, process, interval)
        interval = min(interval * 1.5, MAX_INTERVAL)
    return check.describe()


async def _pause(store: LogStore, process: str, seconds: float) -> None:
    """Wait ``seconds`` between probes, or less: until the process writes a line (at most one probe per
    ``OUTPUT_GAP`` then, however fast it writes; other processes' lines only cost a counter comparison)."""
    written = store.stats(process)[2]
    with trio.move_on_after(seconds):
        await trio.sleep(OUTPUT_GAP)
        while store.stats(process)[2] == written:
            await store.wait_changed()


def _exit_reason(status: int | None) -> str | None:
    if status is None:
        return f"still running after {EXEC_TIMEOUT:g}s (killed)"
    if status < 0:
        return f"killed by {signal_name(-status)}"
    return f"exit code {status}" if status else None


def _os_reason(exc: OSError) -> str:
    """``connection refused``, not trio's ``all attempts to connect to 127.0.0.1:3001 failed``: the first cause
    with an error number (or a resolver's message) inside the exception trio raises."""
    found: BaseException | None = exc
    while found is not None:
        if isinstance(found, OSError) and (found.errno or 0) > 0:
            return os.strerror(found.errno or 0).lower()
        if isinstance(found, OSError) and found.strerror:
            return found.strerror[:1].lower() + found.strerror[1:]
        found = found.exceptions[0] if isinstance(found, BaseExceptionGroup) else found.__cause__
    return str(exc) or type(exc).__name__


async def tcp_probe(host: str, port: int) -> str | None:
    """None if a connection to ``host:port`` opens, else why not."""
    with trio.move_on_after(PROBE_TIMEOUT):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError as exc:
            return _os_reason(exc)
        await stream.aclose()
        return None
    return f"no answer within {PROBE_TIMEOUT:g}s"


async def http_probe(url: str) -> str | None:
    """None if a GET to ``url`` gets any HTTP response below 500, else why not (``HTTP 503``, ...)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    with trio.move_on_after(PROBE_TIMEOUT):
        try:
            stream: trio.abc.Stream = await trio.open_tcp_stream(host, port)
            if tls:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # a dev server's self-signed certificate
                stream = trio.SSLStream(stream, context, server_hostname=host)
            async with stream:
                request = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n"
                await stream.send_all(request.encode())
                head = b""
                while b"\r\n" not in head and len(head) < 4096:
                    data = await stream.receive_some(4096)
                    if not data:
                        break
                    head += data
        except OSError as exc:
            return _os_reason(exc)
        except trio.BrokenResourceError as exc:
            cause = exc.__cause__
            return f"connection broken ({cause})" if cause else "connection broken"
        match = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", head)
        if match is None:
            return "not an HTTP response" if head else "closed without a response"
        status = int(match.group(1))
        return f"HTTP {status}" if status >= 500 else None
    return f"no answer within {PROBE_TIMEOUT:g}s"
