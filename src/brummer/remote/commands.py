"""The remote commands' work: which tools each calls, and what it prints (``show``) or exits with.

Calls that do not depend on each other go out together on the one connection (``brummer ps`` sends
``scripts_status`` and ``errors_list`` at once: one round trip). Ctrl-C (or SIGTERM) ends a command quietly with
128 + the signal's number (``interruptible``).
"""

from __future__ import annotations

import math
import signal
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import trio

from brummer import registry
from brummer.errors import BrummerError, ToolError
from brummer.remote import show
from brummer.remote.client import ConnectionLost, RpcError, open_session
from brummer.remote.instance import Instance, connect, detailed, find, one_line, real
from brummer.remote.watch import RegistryWatch
from brummer.remote.words import in_cli_words

MAX_WAIT = 600.0  # the wait_for tool's longest single wait; longer waits are several calls
ALL_TIMEOUT = 5.0  # ps --all: how long one instance may take to answer
ERROR_GROUPS = 500  # errors_list's largest page
STARTING = 5.0  # how long `wait` watches for a brummer up that is just starting to register


async def interruptible(work: Awaitable[int]) -> int:
    """``work``'s exit code, or 128 + N if signal N (SIGINT, SIGTERM) came first. Brummer errors are raised
    outside the nursery, as themselves."""
    outcome: list[int | BrummerError] = []
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio.open_nursery() as nursery:

            async def run() -> None:
                try:
                    outcome.append(await work)
                except BrummerError as exc:
                    outcome.append(exc)
                nursery.cancel_scope.cancel()

            nursery.start_soon(run)
            async for signum in signals:
                outcome.append(128 + signum)
                nursery.cancel_scope.cancel()
                break
    result = outcome[0]
    if isinstance(result, BrummerError):
        raise result
    return result


async def _both(instance: Instance, first: tuple[str, dict[str, Any]], second: tuple[str, dict[str, Any]]) -> Any:
    """Two tool calls in flight at once; their answers in order."""
    answers: list[Any] = [None, None]
    failure: list[BrummerError] = []

    async def one(index: int, name: str, arguments: dict[str, Any]) -> None:
        try:
            answers[index] = await instance.call(name, arguments)
        except BrummerError as exc:
            failure.append(exc)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(one, 0, *first)
        nursery.start_soon(one, 1, *second)
    if failure:
        raise failure[0]
    return answers


async def ps(directory: Path, as_json: bool) -> int:
    async with connect(directory) as instance:
        status, errors = await _both(instance, ("scripts_status", {}), ("errors_list", {"limit": ERROR_GROUPS}))
    counts = show.open_errors(errors)
    if as_json:
        processes = [{**p, "errors": counts.get(p.get("name"), 0)} for p in status.get("processes", [])]
        entry = instance.entry
        show.emit_json({"project": str(entry.project), "pid": entry.pid, "processes": processes})
    else:
        show.emit(show.ps(status, counts))
    return 0


async def ps_all(as_json: bool) -> int:
    """Every running brummer of this user, each asked for its processes at the same time."""
    found = registry.entries()
    rows: list[dict[str, Any]] = [{} for _ in found]

    async def ask(index: int, entry: registry.Entry) -> None:
        now = time.time()
        row: dict[str, Any] = {
            "project": str(entry.project),
            "pid": entry.pid,
            "kind": str(entry.kind),
            "uptime_s": round(now - entry.started_at, 1),
            "running": None,
            "failed": None,
        }
        rows[index] = row
        if not entry.connectable:
            row["note"] = "serves one agent on stdio" if entry.kind is registry.Kind.HEADLESS else f"MCP {entry.mcp}"
            return
        assert entry.ws is not None and entry.token is not None
        with trio.move_on_after(ALL_TIMEOUT):
            try:
                async with open_session(entry.ws, entry.token) as session:
                    result = await detailed(session, "scripts_status", {})
            except (ConnectionLost, RpcError) as exc:
                row["note"] = f"not reachable: {one_line(str(exc))}"
                return
            row["running"], row["failed"] = show.count_states(result.data or {})
            return
        row["note"] = "did not answer"

    async with trio.open_nursery() as nursery:
        for index, entry in enumerate(found):
            nursery.start_soon(ask, index, entry)
    if as_json:
        show.emit_json({"instances": rows})
    else:
        show.emit(show.instances(rows))
    return 0


async def control(directory: Path, tool: str, names: tuple[str, ...], as_json: bool) -> int:
    """One tool call per name, in order; stops at the first that fails (exit 1, its message)."""
    answers = []
    async with connect(directory) as instance:
        for name in names:
            answer = await instance.call(tool, {"name": name})
            answers.append(answer)
            if not as_json:
                show.emit(show.control(answer))
    if as_json:
        show.emit_json({"results": answers})
    return 0


async def errors(directory: Path, name: str | None, include_resolved: bool, as_json: bool) -> int:
    arguments: dict[str, Any] = {"name": name, "limit": ERROR_GROUPS if include_resolved else 50}
    async with connect(directory) as instance:
        if include_resolved and await instance.accepts("errors_list", "include_resolved"):
            arguments["include_resolved"] = True
        answer = await instance.call("errors_list", arguments)
    if as_json:
        show.emit_json(answer)
    else:
        show.emit(show.errors(answer))
    return 0


async def _appears(directory: Path, within: float) -> None:
    root = real(directory)
    with RegistryWatch() as watch, trio.move_on_after(within):
        while find(root) is None:
            await watch.changed()


FORMATS = {"urls_list": show.urls, "proxy_requests": show.requests}


async def simple(directory: Path, tool: str, arguments: dict[str, Any], as_json: bool) -> int:
    """One tool call, its answer printed."""
    async with connect(directory) as instance:
        answer = await instance.call(tool, arguments)
    if as_json:
        show.emit_json(answer)
    else:
        show.emit(FORMATS[tool](answer))
    return 0


async def wait(directory: Path, name: str, condition: str, pattern: str | None, timeout_s: float, as_json: bool) -> int:
    """``wait_for`` until it holds (0), the time is up (124) or it cannot happen any more (1).

    A ``brummer up`` started a moment before (``brummer up & brummer wait web``) may not be registered yet: the
    registry is watched for it for up to ``STARTING`` seconds before there is no instance (exit 3). The time it
    says it waited is the command's own, from its start (the tool only knows its last call).
    """
    began = trio.current_time()
    deadline = began + timeout_s
    await _appears(directory, min(STARTING, timeout_s))
    arguments: dict[str, Any] = {"name": name, "condition": condition, "pattern": pattern}
    async with connect(directory) as instance:
        while True:
            left = max(0.0, deadline - trio.current_time())
            arguments["timeout_s"] = math.floor(min(left, MAX_WAIT) * 1000) / 1000
            result = await instance.result("wait_for", arguments)
            if result.is_error:
                raise ToolError(one_line(in_cli_words(result.text or "wait_for failed", name)))
            answer = result.data or {}
            if answer.get("reason") != "timeout" or left <= MAX_WAIT:
                break
    if as_json:
        show.emit_json(answer)
    reason = answer.get("reason")
    said = _own_time(result.text, answer.get("waited_s"), trio.current_time() - began)
    if reason == "met":
        if not as_json:
            show.emit(show.clean(said.splitlines()[0] if said else f"{name}: {condition}"))
        return 0
    if not as_json:
        print(f"brummer: {one_line(in_cli_words(said, name))}", file=sys.stderr)
    return 124 if reason == "timeout" else 1


def _own_time(text: str, tool_waited: object, waited: float) -> str:
    """The tool's ``after 0.2s`` as the command's ``after 4.4s`` (its first mention only; the rest is the tool's)."""
    if not isinstance(tool_waited, int | float):
        return text
    return text.replace(f"after {tool_waited:g}s", f"after {round(waited, 1):g}s", 1)
