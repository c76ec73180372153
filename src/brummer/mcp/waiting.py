"""``wait_for``: block until a process is ready, has exited, announced a URL or printed a matching line.

Every state change writes a note to the log store, and every URL and line arrives there too, so the store's change
signal is the one wake-up needed; the check itself reads the supervisor and the store (by cursor and in slices, so a
flood costs one batch-level scan of what is new per wake-up, never a rescan). Progress goes out about once a second.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import trio

from brummer.errors import ToolError
from brummer.logs import reading
from brummer.logs.patterns import Pattern
from brummer.mcp import text
from brummer.mcp.schemas import WaitCondition
from brummer.mcp.tools import Answer, Progress, compile_pattern, known_process, one_process
from brummer.runtime import Runtime
from brummer.supervise.state import ProcessInfo, ProcState

PROGRESS_EVERY = 1.0
READY, EXITED, URL, LOG = WaitCondition.READY, WaitCondition.EXITED, WaitCondition.URL, WaitCondition.LOG
Reason = Literal["met", "timeout", "ended", "not-running"]  # the answer's ``reason``
DONE = {READY: "is ready", EXITED: "has exited", URL: "announced a URL", LOG: "printed a matching line"}
NOT_YET = {READY: "become ready", EXITED: "exited", URL: "announced a URL", LOG: "printed a matching line"}
BEFORE = {READY: "became ready", EXITED: "exited", URL: "announced a URL", LOG: "printed a matching line"}
NEXT_RUN = (ProcState.PENDING, ProcState.STARTING, ProcState.BACKING_OFF)


class _Check:
    """One wait: knows the condition and remembers how far the log has been searched."""

    def __init__(self, runtime: Runtime, name: str, condition: WaitCondition, regex: Pattern | None) -> None:
        self.runtime = runtime
        self.name = name
        self.condition = condition
        self.regex = regex
        info = runtime.supervisor.info(name)
        # Lines of the current run; of the coming one while it is being (re)started (scripts_restart, then this).
        coming = info.active and info.state in NEXT_RUN
        self.run = info.run + 1 if coming else max(info.run, 1)
        self.cursor = 0

    async def met(self, info: ProcessInfo) -> str | None:
        """What satisfied the condition (a URL, a line, a state), or None."""
        if self.condition is READY:
            return str(info.state) if info.ready else None
        if self.condition is EXITED:
            return (info.describe_exit() or str(info.state)) if info.state.ended else None
        if self.condition is URL:
            urls = self.runtime.store.urls(self.name).get(self.name, [])
            return next((url for url in urls if self.regex is None or self.regex.search(url)), None)
        return await self._line()

    async def _line(self) -> str | None:
        """The first line of the run after the cursor that matches; the cursor moves past what was looked at."""
        found = await self.runtime.store.read(
            self.name, since=self.cursor, limit=1, pattern=self.regex, min_run=self.run
        )
        self.cursor = max(self.cursor, found.next)
        return reading.show(found.lines[0]).text if found.lines else None

    def hopeless(self, info: ProcessInfo) -> Reason | None:
        """Why the condition can no longer come true without someone starting the process, or None."""
        if info.active:
            return None
        return "ended" if info.state.ended and info.run else "not-running"


async def wait_for(
    runtime: Runtime,
    name: str,
    condition: str,
    pattern: str | None = None,
    timeout_s: float = 30.0,
    detail: bool = False,
    *,
    progress: Progress | None = None,
) -> Answer:
    known_process(runtime, name)
    wanted = WaitCondition(condition)  # the schema let only these through
    if wanted is LOG and pattern is None:
        raise ToolError("condition=log needs a pattern (a regex the line must match)")
    if pattern is not None and wanted in (READY, EXITED):
        raise ToolError(f"pattern only applies to condition=log or url, not {condition}; leave it out")
    check = _Check(runtime, name, wanted, await compile_pattern(pattern) if pattern is not None else None)
    began = trio.current_time()
    reason: Reason = "timeout"
    match = None
    next_progress = began + PROGRESS_EVERY
    with trio.move_on_after(timeout_s):
        while True:
            info = runtime.supervisor.info(name)
            if (match := await check.met(info)) is not None:
                reason = "met"
                break
            if (why := check.hopeless(runtime.supervisor.info(name))) is not None:  # fresh: met() may await
                reason = why
                break
            now = trio.current_time()
            if progress is not None and now >= next_progress:
                next_progress = now + PROGRESS_EVERY
                await progress(now - began, timeout_s, f"waiting for {name} ({condition}); state: {info.state}")
            with trio.move_on_at(next_progress if progress is not None else math.inf):
                await runtime.store.wait_changed()
    waited = round(trio.current_time() - began, 3)
    info = runtime.supervisor.info(name)
    data = {
        "met": reason == "met",
        "condition": condition,
        "reason": reason,
        "waited_s": waited,
        "state": str(info.state),
        "match": match,
        "process": one_process(runtime, info, time.time(), detail),
    }
    return Answer(_say(name, wanted, reason, waited, match, info), data)


def _say(
    name: str, condition: WaitCondition, reason: Reason, waited: float, match: str | None, info: ProcessInfo
) -> str:
    status = text.process_line(info, time.time())
    if reason == "met":
        detail = f": {text.clip(match or '', 500)}" if condition in (URL, LOG) else ""
        return f"{name} {DONE[condition]} (after {waited:g}s){detail}\n{status}"
    if reason == "timeout":
        return f"timed out after {waited:g}s: {name} has not {NOT_YET[condition]} yet\n{status}"
    if reason == "ended":
        return f"{name} ended before it {BEFORE[condition]}; logs_tail shows why\n{status}"
    return f"{name} is not running, so it cannot get there; start it with scripts_run\n{status}"
