"""The log tools: ``logs_tail`` (the newest lines, or the ones after a cursor) and ``logs_search`` (an RE2 regex).

A detailed answer (``detail``) holds every field of up to ``limit`` lines, within ``reading.ANSWER_CHARS``. A compact
one holds the lines that fit ``text.ANSWER_BYTES`` in both halves (seq, process, text), clipped at
``text.LINE_WIDTH``; its cursors are moved to match, so ``next`` (reading forward) or ``earlier`` (a tail) reads on
exactly where it stopped, without a gap or a line twice.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from brummer.logs import reading
from brummer.logs.kinds import Level, Stream, as_level
from brummer.logs.patterns import Pattern
from brummer.logs.query import TailResult
from brummer.mcp import text
from brummer.mcp.tools import Answer, compile_pattern, known_process
from brummer.runtime import Runtime

COMPACT_READ = 2 * text.ANSWER_BYTES  # characters a compact answer reads (as ``reading`` counts); it keeps fewer
MARK = 100  # room for the mark a clipped line ends with, so that a compact text row keeps it


def _line_brief(line: reading.ShownLine) -> dict[str, Any]:
    """A log line as a compact answer has it: seq, process and text (and its stream unless stdout)."""
    row: dict[str, Any] = {"seq": line.seq, "process": line.process, "text": line.text}
    if line.stream != Stream.STDOUT:
        row["stream"] = line.stream
    if line.length is not None:
        row["length"] = line.length
    return row


Shown = list[reading.ShownLine]
Rows = list[dict[str, Any]]


def _compact(result: TailResult, clip: int, *, forward: bool, room: int) -> tuple[TailResult, Shown, Rows]:
    """The lines of ``result`` that fit a compact answer (the oldest reading forward, else the newest), shown and as
    rows, and the result's cursors moved to match: what did not fit is read on with ``next`` or ``earlier``."""
    order = result.lines if forward else result.lines[::-1]
    shown = [reading.show(line, clip) for line in order]  # a compact read holds a few dozen lines at most
    texts, rows = text.fit_pairs(((text.log_row(s, clip + MARK), _line_brief(s)) for s in shown), room)
    kept = shown[: len(texts)]
    if not forward:
        kept.reverse()
        rows.reverse()
    left = len(result.lines) - len(kept)
    if not left:
        return result, kept, rows
    if forward:
        return (
            dataclasses.replace(result, lines=result.lines[: len(kept)], next=kept[-1].seq, truncated=True),
            kept,
            rows,
        )
    since, before = result.earlier or (result.lines[0].seq - 1, 0)
    cut = dataclasses.replace(result, lines=result.lines[left:], truncated=True, earlier=(since, before + left))
    return cut, kept, rows


async def _lines(
    runtime: Runtime,
    name: str | None,
    since: int | None,
    limit: int,
    detail: bool,
    max_line_chars: int | None,
    what: str = "lines",
    *,
    stream: Stream | None = None,
    level: Level | None = None,
    pattern: Pattern | None = None,
) -> Answer:
    """A page of log lines as an answer: with ``detail`` every field of up to ``limit`` lines (about 1 MiB at
    most); else the lines that fit ``text.ANSWER_BYTES``, with ``seq``, ``process`` and ``text``."""
    if name is not None:
        known_process(runtime, name, notes=True)
    forward = since is not None
    clip = max_line_chars or (reading.LINE_CHARS if detail else text.LINE_WIDTH)
    budget = reading.ANSWER_CHARS if detail else COMPACT_READ
    result = await runtime.store.read(
        name, since=since, limit=limit, budget=budget, clip=clip, stream=stream, level=level, pattern=pattern
    )
    if detail:
        lines, rows = await reading.show_all(result.lines, clip)
    else:
        probe = {"lines": [], "next": result.next, "gap": result.gap, "count": limit, "truncated": True}
        result, lines, rows = _compact(result, clip, forward=forward, room=text.room(probe, "next: since=0"))
    data: dict[str, Any] = {"lines": rows, "next": result.next, "count": len(lines)}
    if detail or result.gap:
        data["gap"] = result.gap
    if detail or result.truncated:
        data["truncated"] = result.truncated
    if detail or result.earlier:
        data["earlier"] = {"since": result.earlier[0], "limit": result.earlier[1]} if result.earlier else None
    width = text.LINE_WIDTH if detail else clip + MARK
    said = text.lines_text(lines, next_cursor=result.next, gap=result.gap, forward=forward, what=what, width=width)
    more = "" if detail else " (or detail=true for more at once)"
    if result.earlier:
        since, limit = result.earlier
        said += f"\n[answer cut at its size budget: read the earlier {what} with since={since} limit={limit}{more}]"
    elif result.truncated:
        said += f"\n[answer cut at its size budget: continue with since={result.next}{more}]"
    return Answer(said, data)


async def logs_tail(
    runtime: Runtime,
    name: str | None = None,
    since: int | None = None,
    limit: int = 100,
    stream: str | None = None,
    level: str | None = None,
    max_line_chars: int | None = None,
    detail: bool = False,
) -> Answer:
    # the schema let only stdout, stderr and the four levels through
    stream_ = Stream(stream) if stream is not None else None
    level_ = as_level(level) if level is not None else None
    return await _lines(runtime, name, since, limit, detail, max_line_chars, stream=stream_, level=level_)


async def logs_search(
    runtime: Runtime,
    pattern: str,
    name: str | None = None,
    since: int | None = None,
    limit: int = 100,
    ignore_case: bool = True,
    max_line_chars: int | None = None,
    detail: bool = False,
) -> Answer:
    regex = await compile_pattern(pattern, ignore_case=ignore_case)
    return await _lines(runtime, name, since, limit, detail, max_line_chars, what="matches", pattern=regex)
