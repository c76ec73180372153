"""brummer's MCP tools: plain async functions over the ``Runtime``, no SDK in sight.

Each takes already-validated arguments (``validate.check_arguments`` against ``schemas.TOOLS``) and returns an
``Answer``: short text for the agent to read and the structured data its output schema declares. What cannot be
done raises ``ToolError`` with a message that says what to do instead; the adapter makes it an ``isError`` result.
``wait_for`` lives in ``waiting.py``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from brummer.errors import PatternError, ProcessControlError, ToolError
from brummer.logs import patterns, reading
from brummer.logs.patterns import Pattern
from brummer.logs.query import TailResult
from brummer.logs.store import BRUMMER
from brummer.mcp import text
from brummer.runtime import Runtime
from brummer.supervise.state import ProcessInfo, ProcState

PROXY_OFF = "the recording proxy is off here (--no-proxy, proxy = false, or `brummer mcp` without `brummer up`)"


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    data: dict[str, Any]


Progress = Callable[[float, float | None, str], Awaitable[None]]
Tool = Callable[..., Awaitable[Answer]]


def process_dict(info: ProcessInfo, now: float, runtime: Runtime | None = None) -> dict[str, Any]:
    proxy = runtime.proxy if runtime is not None else None
    return {**info.to_dict(now), "proxy_urls": proxy.proxy_urls(info.name, info.urls) if proxy is not None else []}


def known_process(runtime: Runtime, name: str, *, notes: bool = False) -> str:
    """``name`` if the project has it (or it is brummer's own log, where allowed); else a ToolError naming them."""
    if runtime.supervisor.knows(name) or (notes and name == BRUMMER):
        return name
    known = ", ".join(runtime.supervisor.names()) or "none"
    raise ToolError(f"unknown process {name!r} (known: {known}); scripts_list shows them")


async def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Pattern:
    """``pattern`` for RE2, compiled in a worker thread (a big pattern takes milliseconds to compile)."""
    try:
        return await trio.to_thread.run_sync(
            functools.partial(patterns.compile_pattern, pattern, ignore_case=ignore_case)
        )
    except PatternError as exc:
        raise ToolError(f"{exc}; fix the pattern (RE2 syntax)") from None


# -- processes ---------------------------------------------------------------------------------------------------


async def scripts_list(runtime: Runtime) -> Answer:
    default = set(runtime.project.default)
    rows = [
        {
            "name": info.name,
            "command": info.command,
            "source": info.source,
            "state": str(info.state),
            "default": info.name in default,
        }
        for info in runtime.supervisor.snapshot()
    ]
    lines = [f"{r['name']} [{r['state']}] {text.clip(str(r['command']), 120)} ({r['source']})" for r in rows]
    header = f"{len(rows)} process{'es' if len(rows) != 1 else ''} in {runtime.project.root}:"
    return Answer(text.join_cut(lines, header=header), {"processes": rows, "count": len(rows)})


def _control(runtime: Runtime, name: str, action: str, info: ProcessInfo, message: str) -> Answer:
    now = time.time()
    data = {"name": name, "action": action, "state": str(info.state), "process": process_dict(info, now, runtime)}
    return Answer(f"{message}\n{text.process_line(info, now)}", data)


async def scripts_run(runtime: Runtime, name: str) -> Answer:
    try:
        started, info = await runtime.supervisor.start(name)
    except ProcessControlError as exc:
        raise ToolError(f"{exc}; scripts_list shows the processes that can be run") from None
    if started:
        return _control(runtime, name, "started", info, f"started {name}; {_next_step(info)}")
    return _control(runtime, name, "already-running", info, f"{name} is already running: nothing to do")


def _next_step(info: ProcessInfo) -> str:
    """What an agent should do after starting ``info``'s process: wait for a server to serve, for a task to end."""
    if info.state is ProcState.FAILED:
        return f"it failed ({info.message or info.describe_exit()}); logs_tail shows why"
    if info.state is ProcState.EXITED:
        return f"it has already exited ({info.describe_exit() or info.message}); logs_tail shows its output"
    if info.one_shot:
        hint = "a task that runs to its end: wait_for condition=exited tells when it is done"
    elif info.ready_check == "none":
        hint = "it has no readiness check (ready = none): logs_tail shows how it does"
    else:
        hint = "wait_for condition=ready tells when it serves"
    return f"it is {info.message} first; {hint}" if info.state is ProcState.PENDING else hint


async def scripts_stop(runtime: Runtime, name: str) -> Answer:
    try:
        was_active, info = await runtime.supervisor.stop(name)
    except ProcessControlError as exc:
        raise ToolError(f"{exc}; scripts_list shows the processes") from None
    if was_active:
        return _control(runtime, name, "stopped", info, f"stopped {name}")
    return _control(runtime, name, "not-running", info, f"{name} was not running: nothing to do")


async def scripts_restart(runtime: Runtime, name: str) -> Answer:
    try:
        was_alive = runtime.supervisor.info(name).state.alive
        info = await runtime.supervisor.restart(name)
    except ProcessControlError as exc:
        raise ToolError(f"{exc}; scripts_list shows the processes") from None
    how = f"restarted {name}" if was_alive else f"{name} was not running: started it"
    return _control(runtime, name, "restarted", info, f"{how}; {_next_step(info)}")


async def scripts_status(runtime: Runtime, name: str | None = None) -> Answer:
    if name is not None:
        infos = [runtime.supervisor.info(known_process(runtime, name))]
    else:
        infos = runtime.supervisor.snapshot()
    now = time.time()
    rows = [text.process_line(info, now) for info in infos]
    dropped = {
        name: {"events": dict(counts.events), "lines": counts.lines}
        for name, counts in runtime.bus.drop_counts().items()
    }
    rows += [
        f"(subscriber {name} missed {counts['lines']:,} log lines)"
        for name, counts in dropped.items()
        if counts["lines"]
    ]
    data = {"processes": [process_dict(info, now, runtime) for info in infos], "dropped": dropped}
    return Answer(text.join_cut(rows) if rows else "no processes in this project", data)


# -- logs and errors -----------------------------------------------------------------------------------------------


async def _lines_answer(result: TailResult, clip: int, *, forward: bool, what: str = "lines") -> Answer:
    lines, rows = await reading.show_all(result.lines, clip)
    data = {
        "lines": rows,
        "next": result.next,
        "gap": result.gap,
        "count": len(lines),
        "truncated": result.truncated,
        "earlier": {"since": result.earlier[0], "limit": result.earlier[1]} if result.earlier else None,
    }
    said = text.lines_text(lines, next_cursor=result.next, gap=result.gap, forward=forward, what=what)
    if result.earlier:
        since, limit = result.earlier
        said += f"\n[answer cut at its size budget: read the earlier {what} with since={since} limit={limit}]"
    elif result.truncated:
        said += f"\n[answer cut at its size budget: continue with since={result.next}]"
    return Answer(said, data)


async def logs_tail(
    runtime: Runtime,
    name: str | None = None,
    since: int | None = None,
    limit: int = 100,
    stream: str | None = None,
    level: str | None = None,
    max_line_chars: int = reading.LINE_CHARS,
) -> Answer:
    if name is not None:
        known_process(runtime, name, notes=True)
    result = await runtime.store.read(name, since=since, limit=limit, stream=stream, level=level, clip=max_line_chars)
    return await _lines_answer(result, max_line_chars, forward=since is not None)


async def logs_search(
    runtime: Runtime,
    pattern: str,
    name: str | None = None,
    since: int | None = None,
    limit: int = 100,
    ignore_case: bool = True,
    max_line_chars: int = reading.LINE_CHARS,
) -> Answer:
    if name is not None:
        known_process(runtime, name, notes=True)
    regex = await compile_pattern(pattern, ignore_case=ignore_case)
    result = await runtime.store.read(name, since=since, limit=limit, pattern=regex, clip=max_line_chars)
    return await _lines_answer(result, max_line_chars, forward=since is not None, what="matches")


async def errors_list(
    runtime: Runtime,
    name: str | None = None,
    since: int | None = None,
    limit: int = 20,
    include_resolved: bool = False,
) -> Answer:
    if name is not None:
        known_process(runtime, name)
    groups = runtime.store.errors.groups(name, since, include_resolved=include_resolved)
    newest = groups[::-1][:limit]
    now = time.time()
    rows = []
    for group in newest:
        where = f" at {group.location}" if group.location else ""
        if group.resolved_at is not None:
            count = f" (x{group.count}, resolved {text.ago(group.resolved_at, now)}: {group.resolved_by})"
        else:
            count = f" (x{group.count}, last {text.ago(group.last_seen, now)})"
        rows.append(f"#{group.id} [{group.process}] {group.type}: {text.clip(group.message, 200)}{where}{count}")
    cursor = runtime.store.last_seq
    what = "error group" if include_resolved else "open error group"
    header = f"{len(groups)} {what}{'s' if len(groups) != 1 else ''}" + (
        f", the {len(newest)} most recent:" if len(newest) < len(groups) else ":"
    )
    empty = "no errors" if include_resolved else "no open errors"
    body = text.join_cut(rows, header=header, more="narrow with name or since") if rows else empty
    data = {"errors": [group.to_dict() for group in newest], "total": len(groups), "next": cursor}
    return Answer(f"{body}\nnext: since={cursor}", data)


# -- URLs ----------------------------------------------------------------------------------------------------


async def urls_list(runtime: Runtime) -> Answer:
    """Every announced URL with the proxy URL in front of it (recorded: proxy_requests, proxy_routes)."""
    rows = [
        {"process": process, "url": url, "proxy_url": runtime.proxy_url(process, url)}
        for process, urls in runtime.store.urls().items()
        for url in urls
    ]
    lines = [
        f"{row['process']}: {row['url']}" + (f" → proxy {row['proxy_url']}" if row["proxy_url"] else "") for row in rows
    ]
    body = text.join_cut(lines) if lines else "no URLs announced yet"
    if runtime.proxy is None:
        return Answer(f"{body}\n({PROXY_OFF})", {"urls": rows, "note": PROXY_OFF})
    return Answer(body, {"urls": rows})
