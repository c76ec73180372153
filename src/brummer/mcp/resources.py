"""brummer's MCP resources, and the watcher that says when one changed.

``brummer://processes``, ``brummer://errors``, ``brummer://urls`` and ``brummer://logs/{name}`` are JSON documents
read on demand. ``watch_resources`` tells subscribers (both eras; the adapter delivers) which ones changed, at most
``COALESCE`` apart, so a log flood of a million lines costs a client a few notifications a second.

The watcher wakes on bus events only (as a wake-up: it drains whatever is pending in one call; every change of a
resource comes with an event, and a flood that makes the bus drop lines still leaves lines queued); a resource
counts as changed when its cheap fingerprint changed, so the notifications never depend on which events a flood
made the bus drop. An idle brummer does not wake it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import trio

from brummer.bus import Subscription
from brummer.logs import reading
from brummer.mcp.tools import PROXY_OFF, process_dict
from brummer.runtime import Runtime

SCHEME = "brummer://"
LOGS_PREFIX = SCHEME + "logs/"
LOGS_TEMPLATE = LOGS_PREFIX + "{name}"
LOG_LINES = 200  # lines in a brummer://logs/{name} document; logs_tail pages further
LOG_SLICES = 1  # work for one such document, in the log store's slices (the SDK reads resources synchronously)
ERROR_GROUPS = 100
COALESCE = 0.25  # seconds between two notifications about the same resource, at least


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    uri: str
    name: str
    description: str


RESOURCES = (
    ResourceSpec(SCHEME + "processes", "processes", "Every process with its state, pid, uptime, exit code and URLs."),
    ResourceSpec(
        SCHEME + "errors", "errors", f"The {ERROR_GROUPS} most recently active open error groups, newest first."
    ),
    ResourceSpec(SCHEME + "urls", "urls", "URLs the processes announced, per process, with their proxy URLs."),
)
LOGS_DESCRIPTION = (
    f"The newest {LOG_LINES} log lines of one process (fewer when they are long: `truncated`), with sequence numbers "
    "and a `next` cursor; logs_tail reads further."
)


class UnknownResource(LookupError):
    """No such resource; the message lists what exists."""


def log_uri(name: str) -> str:
    return LOGS_PREFIX + name


def read(runtime: Runtime, uri: str) -> str:
    """The JSON text of ``uri``."""
    return json.dumps(document(runtime, uri), ensure_ascii=False, separators=(",", ":"))


def document(runtime: Runtime, uri: str) -> dict[str, Any]:
    now = time.time()
    if uri == SCHEME + "processes":
        return {"processes": [process_dict(info, now, runtime) for info in runtime.supervisor.snapshot()]}
    if uri == SCHEME + "errors":
        groups = runtime.store.errors.groups()  # open ones: a resolved group leaves the document (and notifies)
        newest = groups[::-1][:ERROR_GROUPS]
        return {"errors": [g.to_dict() for g in newest], "total": len(groups), "next": runtime.store.last_seq}
    if uri == SCHEME + "urls":
        urls = runtime.store.urls()
        rows = [
            {"process": p, "url": u, "proxy_url": runtime.proxy_url(p, u)} for p, found in urls.items() for u in found
        ]
        return {"urls": rows} if runtime.proxy is not None else {"urls": rows, "note": PROXY_OFF}
    name = _log_name(runtime, uri)
    result = runtime.store.tail(name, limit=LOG_LINES, slices=LOG_SLICES)
    lines = [reading.show(line).to_dict() for line in result.lines]
    return {"process": name, "lines": lines, "next": result.next, "truncated": result.truncated}


def check_uri(runtime: Runtime, uri: str) -> None:
    """Raise ``UnknownResource`` unless ``uri`` names a resource (for subscriptions)."""
    if uri not in {r.uri for r in RESOURCES}:
        _log_name(runtime, uri)


def _log_name(runtime: Runtime, uri: str) -> str:
    name = uri.removeprefix(LOGS_PREFIX) if uri.startswith(LOGS_PREFIX) else None
    if name is None or not runtime.supervisor.knows(name):
        known = ", ".join([r.uri for r in RESOURCES] + [log_uri(n) for n in runtime.supervisor.names()])
        raise UnknownResource(f"no resource {uri!r}; these exist: {known}")
    return name


def fingerprints(runtime: Runtime) -> dict[str, Hashable]:
    """A cheap value per resource that changes whenever its document does."""
    store = runtime.store
    infos = runtime.supervisor.snapshot()
    prints: dict[str, Hashable] = {
        SCHEME + "processes": tuple(
            (i.state, i.pid, i.ready, i.restarts, i.exit_code, i.exit_signal, i.message, i.urls) for i in infos
        ),
        SCHEME + "errors": tuple((g.id, g.count) for g in store.errors.groups()),
        SCHEME + "urls": tuple((p, tuple(u)) for p, u in store.urls().items()),
    }
    for info in infos:
        prints[log_uri(info.name)] = store.stats(info.name)[2]
    return prints


async def watch_resources(
    runtime: Runtime, events: Subscription, changed: Callable[[list[str]], Awaitable[None]]
) -> None:
    """Call ``changed(uris)`` whenever resources changed, at most once per ``COALESCE``; return when the bus closes.

    Bus events are only a wake-up here (what changed is read from the store and the supervisor): the first event
    of a burst starts a ``COALESCE`` pause, the rest are drained during it, then one round of notifications.
    """
    last = fingerprints(runtime)
    try:
        while True:
            await events.receive_batch()
            with trio.move_on_after(COALESCE):  # let the burst finish (and notice at once if the bus closes)
                while True:
                    await events.receive_batch()
            current = fingerprints(runtime)
            uris = [uri for uri, value in current.items() if last.get(uri) != value]
            last = current
            if uris:
                await changed(uris)
    except trio.EndOfChannel:
        return
