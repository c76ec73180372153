"""brummer's MCP tools: plain async functions over the ``Runtime``, no SDK in sight.

Each takes already-validated arguments (``validate.check_arguments`` against ``schemas.TOOLS``) and returns an
``Answer``: short text for the agent to read and the structured data its output schema declares. What cannot be
done raises ``ToolError`` with a message that says what to do instead; the adapter makes it an ``isError`` result.
The log tools live in ``log_tools.py``, ``wait_for`` in ``waiting.py``, the proxy's in ``proxy_tools.py``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import trio

from brummer.errors import PatternError, ProcessControlError, ToolError
from brummer.logs import patterns
from brummer.logs.error_book import ErrorGroup
from brummer.logs.kinds import BRUMMER
from brummer.logs.patterns import Pattern
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
    return {**info.to_dict(now), "proxy_urls": _proxy_urls(runtime, info)}


def _proxy_urls(runtime: Runtime | None, info: ProcessInfo) -> list[str]:
    """The proxies in front of the process: those of the URLs it announced, then every other one it has (a
    configured target listens from the start; a proxy is kept for the whole run, so a stopped process has it too)."""
    proxy = runtime.proxy if runtime is not None else None
    if proxy is None:
        return []
    announced = proxy.proxy_urls(info.name, info.urls)
    return list(dict.fromkeys([*announced, *(target.proxy_url for target in proxy.targets.of(info.name))]))


def process_brief(info: ProcessInfo, now: float) -> dict[str, Any]:
    """A process as a compact answer has it: what ``text.process_line`` says, without empty fields."""
    full = info.to_dict(now)
    row = {key: full[key] for key in ("name", "state", "pid", "uptime_s", "restarts") if full[key]}
    if info.state.ended:
        row.update((key, full[key]) for key in ("exit_code", "exit_signal") if full[key] is not None)
    if info.detail:  # why it waits, failed, backs off, or is not ready yet (a failing probe says why)
        row["message"] = text.clip(info.detail, 500)
    if info.urls:
        row["urls"] = list(info.urls)
    return row


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


async def scripts_list(runtime: Runtime, detail: bool = False) -> Answer:
    default = set(runtime.project.default)
    infos = runtime.supervisor.snapshot()

    def full(info: ProcessInfo) -> dict[str, Any]:
        row = {"name": info.name, "command": info.command, "source": info.source, "state": str(info.state)}
        return row | {"default": info.name in default}

    def brief(info: ProcessInfo) -> dict[str, Any]:
        row = full(info) | {"command": text.clip(info.command, 120)}
        return row if row.pop("default") is False else row | {"default": True}

    def line(info: ProcessInfo) -> str:
        return f"{info.name} [{info.state}] {text.clip(info.command, 120)} ({info.source})"

    header = f"{len(infos)} process{'es' if len(infos) != 1 else ''} in {runtime.project.root}:"
    data: dict[str, Any] = {"count": len(infos)}
    said = text.listing(infos, "processes", data, row=line, brief=brief, full=full, detail=detail, header=header)
    return Answer(said, data)


def one_process(runtime: Runtime, info: ProcessInfo, now: float, detail: bool) -> dict[str, Any]:
    return process_dict(info, now, runtime) if detail else process_brief(info, now)


def _control(runtime: Runtime, name: str, action: str, info: ProcessInfo, message: str, detail: bool) -> Answer:
    now = time.time()
    data = {
        "name": name,
        "action": action,
        "state": str(info.state),
        "process": one_process(runtime, info, now, detail),
    }
    return Answer(f"{message}\n{text.process_line(info, now)}", data)


async def scripts_run(runtime: Runtime, name: str, detail: bool = False) -> Answer:
    try:
        started, info = await runtime.supervisor.start(name)
    except ProcessControlError as exc:
        raise ToolError(f"{exc}; scripts_list shows the processes that can be run") from None
    if started:
        return _control(runtime, name, "started", info, f"started {name}; {_next_step(info)}", detail)
    return _control(runtime, name, "already-running", info, f"{name} is already running: nothing to do", detail)


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


async def scripts_stop(runtime: Runtime, name: str, detail: bool = False) -> Answer:
    try:
        was_active, info = await runtime.supervisor.stop(name)
    except ProcessControlError as exc:
        raise ToolError(f"{exc}; scripts_list shows the processes") from None
    if was_active:
        return _control(runtime, name, "stopped", info, f"stopped {name}", detail)
    return _control(runtime, name, "not-running", info, f"{name} was not running: nothing to do", detail)


async def scripts_restart(runtime: Runtime, name: str, detail: bool = False) -> Answer:
    try:
        was_alive = runtime.supervisor.info(name).state.alive
        info = await runtime.supervisor.restart(name)
    except ProcessControlError as exc:
        raise ToolError(f"{exc}; scripts_list shows the processes") from None
    how = f"restarted {name}" if was_alive else f"{name} was not running: started it"
    return _control(runtime, name, "restarted", info, f"{how}; {_next_step(info)}", detail)


async def scripts_status(runtime: Runtime, name: str | None = None, detail: bool = False) -> Answer:
    if name is not None:
        infos = [runtime.supervisor.info(known_process(runtime, name))]
    else:
        infos = runtime.supervisor.snapshot()
    now = time.time()
    dropped = {
        name: {"events": dict(counts.events), "lines": counts.lines}
        for name, counts in runtime.bus.drop_counts().items()
    }
    missed = [
        f"(subscriber {name} missed {counts['lines']:,} log lines)"
        for name, counts in dropped.items()
        if counts["lines"]
    ]
    if not detail:
        dropped = {name: counts for name, counts in dropped.items() if counts["lines"] or counts["events"]}
    data: dict[str, Any] = {"dropped": dropped} if detail or dropped else {}
    said = text.listing(
        infos,
        "processes",
        data,
        row=lambda info: text.process_line(info, now),
        brief=lambda info: process_brief(info, now),
        full=lambda info: process_dict(info, now, runtime),
        detail=detail,
        footer="\n".join(missed),
    )
    return Answer(said if infos else "no processes in this project", data)


# -- errors --------------------------------------------------------------------------------------------------------


async def errors_list(
    runtime: Runtime,
    name: str | None = None,
    since: int | None = None,
    limit: int = 20,
    include_resolved: bool = False,
    detail: bool = False,
) -> Answer:
    if name is not None:
        known_process(runtime, name)
    groups = runtime.store.errors.groups(name, since, include_resolved=include_resolved)
    newest = groups[::-1][:limit]
    now = time.time()

    def line(group: ErrorGroup) -> str:
        where = f" at {group.location}" if group.location else ""
        if group.resolved_at is not None:
            count = f" (x{group.count}, resolved {text.ago(group.resolved_at, now)}: {group.resolved_by})"
        else:
            count = f" (x{group.count}, last {text.ago(group.last_seen, now)})"
        return f"#{group.id} [{group.process}] {group.type}: {text.clip(group.message, 200)}{where}{count}"

    cursor = runtime.store.last_seq
    what = "error group" if include_resolved else "open error group"
    header = f"{len(groups)} {what}{'s' if len(groups) != 1 else ''}" + (
        f", the {len(newest)} most recent:" if len(newest) < len(groups) else ":"
    )
    data: dict[str, Any] = {"total": len(groups), "next": cursor}
    if not newest:
        data["errors"] = []
        return Answer(f"{'no errors' if include_resolved else 'no open errors'}\nnext: since={cursor}", data)
    said = text.listing(
        newest,
        "errors",
        data,
        row=line,
        brief=functools.partial(_error_brief, states=include_resolved),
        full=ErrorGroup.to_dict,
        detail=detail,
        header=header,
        footer=f"next: since={cursor}",
        narrow="narrow with name or since",
    )
    return Answer(said, data)


def _error_brief(group: ErrorGroup, *, states: bool) -> dict[str, Any]:
    """An error group as a compact answer has it: no lines, no sequence numbers, no empty fields; its state when
    the answer mixes open and resolved groups."""
    row: dict[str, Any] = {
        "id": group.id,
        "process": group.process,
        "type": text.clip(group.type, 100),
        "message": text.clip(group.message, 200),
    }
    if group.location:
        row["location"] = text.clip(group.location, 200)
    row |= {"count": group.count, "last_seen": round(group.last_seen, 3)}
    if states:
        row["state"] = str(group.state)
    if group.resolved_by is not None:
        row["resolved_by"] = text.clip(group.resolved_by, 200)
    return row


# -- URLs ----------------------------------------------------------------------------------------------------


async def urls_list(runtime: Runtime, detail: bool = False) -> Answer:
    """Every announced URL with the proxy URL in front of it (recorded: proxy_requests, proxy_routes), then each
    configured target (``proxy = { target = ... }``) whose process has not announced it: it is proxied all the same."""
    rows: list[dict[str, Any]] = [
        {"process": process, "url": url, "proxy_url": runtime.proxy_url(process, url)}
        for process, urls in runtime.store.urls().items()
        for url in urls
    ]
    if runtime.proxy is not None:
        shown = {row["proxy_url"] for row in rows}
        rows += [
            {"process": target.process, "url": target.upstream_url, "proxy_url": target.proxy_url, "configured": True}
            for target in runtime.proxy.targets
            if target.configured and target.proxy_url not in shown
        ]
    data: dict[str, Any] = {} if runtime.proxy is not None else {"note": PROXY_OFF}
    said = text.listing(
        rows,
        "urls",
        data,
        row=lambda r: (
            f"{r['process']}: {r['url']}"
            + (f" → proxy {r['proxy_url']}" if r["proxy_url"] else "")
            + (" (configured in brummer.toml)" if r.get("configured") else "")
        ),
        brief=lambda r: {key: value for key, value in r.items() if value is not None},
        full=dict,
        detail=detail,
        footer="" if runtime.proxy is not None else f"({PROXY_OFF})",
    )
    return Answer(
        said if rows else "no URLs announced yet" + (f"\n({PROXY_OFF})" if runtime.proxy is None else ""), data
    )
