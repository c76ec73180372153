"""The short text half of every tool answer, and the size budgets of both halves.

Some clients show a model the text, others only ``structuredContent`` (Claude Code, VS Code), so a compact answer
carries the same items in both: the rows that fit ``ANSWER_BYTES`` together, chosen by ``fit_pairs``, and a note of
what was left out and how to get it (``detail=true``, a cursor, a narrower query). With ``detail``,
``structuredContent`` has every field of every item and the text stays under ``BUDGET`` characters. Either way a
long answer is cut at a line boundary and says so, so an agent never gets a silently partial picture and never
floods its own context.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from brummer.logs.kinds import Stream
from brummer.logs.reading import ShownLine
from brummer.supervise.state import ProcessInfo

ANSWER_BYTES = 2048  # a compact answer: its text and its structuredContent (compact JSON, UTF-8) together
BUDGET = 2000  # characters of text per answer with detail (structuredContent has everything then)
LINE_WIDTH = 300  # one log line in the text; structuredContent has it whole
NOTES = 300  # room kept for an answer's notes of what it left out
Item = TypeVar("Item")
Data = dict[str, Any]


def json_size(data: object) -> int:
    """Bytes of ``data`` as it travels in ``structuredContent``."""
    return len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())


def room(data: Data, *texts: str) -> int:
    """What a compact answer has left for its rows after ``data`` (without them) and the ``texts`` around them."""
    return ANSWER_BYTES - NOTES - json_size(data) - sum(len(t.encode()) + 1 for t in texts)


def fit_pairs(pairs: Iterable[tuple[str, Data]], space: int) -> tuple[list[str], list[Data]]:
    """Text rows and their structured rows, in order, while both together fit ``space`` bytes (at least one pair).

    ``pairs`` is consumed lazily: rows after the first that does not fit are never made."""
    texts: list[str] = []
    rows: list[Data] = []
    used = 0
    for line, row in pairs:
        cost = len(line.encode()) + 1 + json_size(row) + 1
        if texts and used + cost > space:
            break
        texts.append(line)
        rows.append(row)
        used += cost
    return texts, rows


def listing(
    items: Sequence[Item],
    key: str,
    data: Data,
    *,
    row: Callable[[Item], str],
    brief: Callable[[Item], Data],
    full: Callable[[Item], Data],
    detail: bool,
    header: str = "",
    footer: str = "",
    narrow: str = "",
) -> str:
    """The text of a list answer, and its ``items`` under ``key`` in ``data``.

    Each item has a text ``row``, a ``brief`` (compact) and a ``full`` structured row. Compact: the rows that fit
    ``ANSWER_BYTES`` in both halves, with ``data["more"]`` counting the rest. Detail: every full row; the text is
    cut to ``BUDGET``, its rows made only while they fit.
    """
    if detail:
        data[key] = [full(item) for item in items]
        body = join_cut(map(row, items), len(items), header=header, more=narrow)
    else:
        space = room(data, header, footer)
        texts, data[key] = fit_pairs(((row(item), brief(item)) for item in items), space)
        body = "\n".join([header, *texts] if header else texts)
        if left := len(items) - len(texts):
            data["more"] = left
            body += f"\n[{left} more: detail=true lists them{'; or ' + narrow if narrow else ''}]"
    return f"{body}\n{footer}" if footer else body


def fit(rows: Iterable[str], budget: int = BUDGET) -> list[str]:
    """As many of ``rows`` as fit in ``budget`` characters (at least one); the rows after that are never made."""
    kept: list[str] = []
    used = 0
    for row in rows:
        if used + len(row) + 1 > budget and kept:
            break
        kept.append(row)
        used += len(row) + 1
    return kept


def clip(text: str, width: int = LINE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def ago(then: float | None, now: float | None = None) -> str:
    if then is None:
        return "never"
    seconds = max(0.0, (now or time.time()) - then)
    if seconds < 90:
        return f"{seconds:.0f}s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 5400:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def process_line(info: ProcessInfo, now: float) -> str:
    """One process in one line: ``web: ready, pid 4242, up 3m, 1 restart, http://localhost:5173/``."""
    parts = [str(info.state)]
    if info.pid is not None:
        parts.append(f"pid {info.pid}")
    if (up := info.uptime(now)) is not None:
        parts.append(f"up {duration(up)}")
    if info.restarts:
        parts.append(f"{info.restarts} restart{'s' if info.restarts != 1 else ''}")
    if info.state.ended and (how := info.describe_exit()):
        parts.append(how + (" (stopped by brummer)" if info.stopped else ""))
    elif info.detail:
        parts.append(info.detail)  # why it waits, fails, backs off or is not ready yet
    parts.extend(info.urls)
    return f"{info.name}: " + ", ".join(parts)


def log_row(line: ShownLine, width: int = LINE_WIDTH) -> str:
    where = line.process if line.stream == Stream.STDOUT else f"{line.process} {line.stream}"
    return f"{line.seq} [{where}] {clip(line.plain, width)}"


def lines_text(
    lines: Sequence[ShownLine],
    *,
    next_cursor: int,
    gap: int,
    forward: bool,
    what: str = "lines",
    width: int = LINE_WIDTH,
) -> str:
    """Log lines for an agent, cut to the budget: the newest part (tail) or the oldest part (reading forward).

    Only the lines that fit are formatted (from the end the answer keeps), so a 10,000-line answer costs the
    text no more than a short one."""
    if not lines:
        head = f"no {what}"
        return f"{head} (after seq {next_cursor})" if forward else f"{head}; next: since={next_cursor}"
    order = range(len(lines)) if forward else range(len(lines) - 1, -1, -1)
    rows = fit((log_row(lines[i], width) for i in order), BUDGET - 250)
    left_out = len(lines) - len(rows)
    if not forward:
        rows.reverse()
    before: list[str] = []
    after: list[str] = []
    if left_out and forward:
        cursor = lines[len(rows) - 1].seq
        after.append(f"[text cut: {left_out} more {what} in structuredContent, or continue with since={cursor}]")
    elif left_out:
        before.append(
            f"[text cut: {left_out} earlier {what} in structuredContent, "
            f"or read them with since={lines[0].seq - 1} limit={left_out}]"
        )
    if gap:
        before.append(f"[{gap} lines after `since` were already dropped by retention]")
    after.append(f"next: since={next_cursor}")
    return "\n".join([*before, *rows, *after])


def join_cut(rows: Iterable[str], count: int, *, header: str = "", more: str = "") -> str:
    """The ``count`` ``rows`` under ``header``, cut to the budget with a note of what was left out and where to
    find it."""
    kept = fit(rows, BUDGET - len(header) - 120)
    left_out = count - len(kept)
    text = "\n".join([header, *kept] if header else kept)
    if left_out:
        text += f"\n[text cut: {left_out} more in structuredContent{'; ' + more if more else ''}]"
    return text
