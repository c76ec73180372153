"""Readiness checks: when a running process counts as ready.

``url`` and ``log`` watch the log store (by cursor, so no line is missed even when the bus drops; ``log`` reads in
slices, its pattern on RE2); ``http``, ``tcp`` and ``exec`` poll with a growing interval (from the check's
``interval`` up to 2 s). The HTTP probe is a few lines over a Trio socket rather than httpx, whose import would
stall the event loop (and every pipe reader) for ~0.15 s.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import trio

from brummer.config.spec import ReadyCheck
from brummer.logs.patterns import compile_pattern
from brummer.logs.store import LogStore
from brummer.supervise.spawn import Spawner

MAX_INTERVAL = 2.0
PROBE_TIMEOUT = 2.0
EXEC_TIMEOUT = 10.0


async def wait_ready(
    check: ReadyCheck,
    *,
    process: str,
    store: LogStore,
    since: int,
    spawner: Spawner,
    cwd: Path,
    env: Mapping[str, str],
) -> str:
    """Return (a short description of why) once ``check`` holds; runs until cancelled otherwise."""
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
                return f"log line matched {check.target!r}"
            # Every line up to ``next`` has been looked at (other processes' lines advance it too): wait for
            # something newer, or this loop would spin.
            cursor = found.next
            await store.wait_beyond(cursor)

    async def probe() -> bool:
        if check.kind == "tcp":
            return await tcp_open("127.0.0.1", int(check.target))
        if check.kind == "http":
            return await http_answers(check.target)
        return await spawner.run_check(check.target, cwd, env, EXEC_TIMEOUT)

    interval = check.interval
    while not await probe():
        await trio.sleep(interval)
        interval = min(interval * 1.5, MAX_INTERVAL)
    return check.describe()


async def tcp_open(host: str, port: int) -> bool:
    with trio.move_on_after(PROBE_TIMEOUT):
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError:
            return False
        await stream.aclose()
        return True
    return False


async def http_answers(url: str) -> bool:
    """True if a GET to ``url`` gets any HTTP response below 500."""
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
        except (OSError, trio.BrokenResourceError):
            return False
        match = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", head)
        return match is not None and int(match.group(1)) < 500
    return False
