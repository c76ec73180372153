"""``brummer logs``: a running instance's log lines, printed as ``brummer up --plain`` prints them; ``-f`` follows.

Reading goes by the store's sequence numbers (``logs_tail`` / ``logs_search`` with ``since``), so following is
exact: each answer's ``next`` is where the next read starts. A follower wakes on the instance's resource updates
for the logs it shows (``subscriptions/listen``), never on a timer. If the connection drops, or the instance's MCP
server restarts, it reconnects (woken by the registry, or after a short back-off) and goes on from its cursor: no
line twice, none lost within retention (lines retention dropped meanwhile are counted on stderr). If the project's
``brummer up`` itself was replaced, the new one's log is new: the follower starts it from its first line.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio

from brummer.errors import BrummerError, NoInstanceError
from brummer.logs.kinds import LEVELS, Stream, level_rank
from brummer.remote.client import ConnectionLost, RpcError
from brummer.remote.instance import Instance, connect
from brummer.remote.show import clean, write
from brummer.remote.watch import RegistryWatch
from brummer.ui.plain import PlainFormatter

LOGS = "brummer://logs/"
PAGE = 2000  # lines per read while catching up
RETRY = (0.2, 0.5, 1.0, 2.0, 5.0)  # seconds between reconnection attempts (or sooner, woken by the registry)
NO_RESOURCE_POLL = 1.0  # brummer's own log has no resource to listen to: look this often while following it


@dataclass
class Query:
    name: str | None
    lines: int
    pattern: str | None
    since: int | None
    level: str | None
    follow: bool
    as_json: bool


class Printer:
    """Lines to stdout, formatted like ``up --plain`` (or one JSON object per line)."""

    def __init__(self, names: list[str], as_json: bool) -> None:
        colour = not os.environ.get("NO_COLOR") and (sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR")))
        self.fmt = PlainFormatter(names, colour)
        self.as_json = as_json

    def show(self, lines: list[dict[str, Any]]) -> None:
        out = []
        for line in lines:
            if self.as_json:
                out.append(json.dumps(line, ensure_ascii=False) + "\n")
                continue
            text = clean(line.get("text", ""))
            when, process, stream = float(line.get("time", 0)), str(line.get("process", "?")), line.get("stream")
            if stream == Stream.BRUMMER:
                out.append(self.fmt.say(process, text, when=when))
            else:
                out.append(self.fmt.prefix(when, process, "!" if stream == Stream.STDERR else "|") + text + "\n")
        write("".join(out))


def _keep(level: str | None) -> Callable[[dict[str, Any]], bool]:
    """Which lines of a search to print (``logs_search`` has no level filter); a line of no known level is kept."""
    rank = level_rank(level) if level in LEVELS else 0
    return lambda line: level_rank(line["level"]) >= rank if line.get("level") in LEVELS else True


async def _read(instance: Instance, query: Query, since: int | None, limit: int) -> dict[str, Any]:
    if query.pattern is not None:
        args = {"pattern": query.pattern, "name": query.name, "since": since, "limit": limit, "ignore_case": False}
        return await instance.call("logs_search", args)
    return await instance.call("logs_tail", {"name": query.name, "since": since, "limit": limit, "level": query.level})


async def show_logs(directory: Path, query: Query) -> int:
    """Print the lines asked for; with ``follow``, keep printing until Ctrl-C."""
    cursor: int | None = query.since
    printer: Printer | None = None
    keep = _keep(query.level if query.pattern is not None else None)  # logs_tail filters the level itself
    identity: tuple[int, float] | None = None
    attempt = 0
    waiting = False  # whether this outage was announced
    with RegistryWatch() as watch:
        while True:
            try:
                async with connect(directory) as instance:
                    me = (instance.entry.pid, instance.entry.started_at)
                    if identity is not None and me != identity:
                        _say(f"{instance.entry.describe()} now runs {instance.entry.project}: its log starts anew")
                        cursor = 0
                    elif identity is not None:
                        _say("reconnected")
                    identity, attempt, waiting = me, 0, False
                    if printer is None:
                        listed = await instance.call("scripts_list")
                        printer = Printer([p["name"] for p in listed.get("processes", [])], query.as_json)
                    cursor = await _catch_up(instance, query, cursor, printer, keep)
                    if not query.follow:
                        return 0
                    cursor = await _follow(instance, query, cursor, printer, keep)
                    _say("the connection dropped; reconnecting")
            except NoInstanceError as exc:
                if identity is None or not query.follow:
                    raise
                if not waiting:
                    _say(f"{exc}; waiting for it (Ctrl-C to stop)")
                    waiting = True
            with trio.move_on_after(RETRY[min(attempt, len(RETRY) - 1)]):
                await watch.changed()
            attempt += 1


async def _catch_up(instance: Instance, query: Query, cursor: int | None, printer: Printer, keep: Any) -> int:
    """Print what is there (the newest ``query.lines``, or everything after ``cursor``); the new cursor."""
    if cursor is None:
        answer = await _read(instance, query, None, query.lines)
        lines = sorted(answer.get("lines", []), key=lambda line: line.get("seq", 0))
        printer.show([line for line in lines if keep(line)])
        return int(answer.get("next", 0))
    while True:
        answer = await _read(instance, query, cursor, PAGE)
        if gap := answer.get("gap"):
            _say(f"{gap} lines after {cursor} were already dropped by retention")
        lines = answer.get("lines", [])
        printer.show([line for line in lines if keep(line)])
        cursor = max(cursor, int(answer.get("next", cursor)))
        if len(lines) < PAGE:
            return cursor


async def _follow(instance: Instance, query: Query, cursor: int, printer: Printer, keep: Any) -> int:
    """Print new lines as they come, woken by the instance's log resources; returns the cursor when the
    connection drops (other errors are raised)."""
    resources = await instance.session.request("resources/list")
    uris = [r["uri"] for r in resources.get("resources", []) if str(r.get("uri", "")).startswith(LOGS)]
    if query.name is not None:
        uris = [uri for uri in uris if uri == LOGS + query.name]
    changed = trio.Event()

    async def on_notification(method: str, params: dict[str, Any]) -> None:
        if method in ("notifications/resources/updated", "notifications/subscriptions/acknowledged"):
            changed.set()

    async def listen() -> None:
        with contextlib.suppress(ConnectionLost, RpcError):
            await instance.session.request("subscriptions/listen", {"notifications": {"resourceSubscriptions": uris}})
        changed.set()  # the stream ended: the loop notices why

    instance.session.on_notification = on_notification
    failure: BrummerError | None = None
    async with trio.open_nursery() as nursery:
        nursery.start_soon(listen)
        try:
            while True:
                with trio.move_on_after(NO_RESOURCE_POLL if not uris else math.inf):
                    await changed.wait()
                changed = trio.Event()
                if instance.session.closed.is_set():
                    break
                cursor = await _catch_up(instance, query, cursor, printer, keep)
        except NoInstanceError:
            pass  # the connection dropped during a read
        except BrummerError as exc:
            failure = exc  # raised outside the nursery, so that it is not wrapped in a group
        nursery.cancel_scope.cancel()
    if failure is not None:
        raise failure
    return cursor


def _say(message: str) -> None:
    print(f"brummer logs: {message}", file=sys.stderr, flush=True)
