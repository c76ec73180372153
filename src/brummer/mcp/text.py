"""The short text half of every tool answer: what an agent reads when it does not parse ``structuredContent``.

Answers stay under ``BUDGET`` characters. A long one is cut at a line boundary and says so, with the cursor to
continue from, so an agent never gets a silently partial picture and never floods its own context.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from brummer.logs.reading import ShownLine
from brummer.supervise.state import ProcessInfo

BUDGET = 2000  # characters of text per answer
LINE_WIDTH = 300  # one log line in the text; structuredContent has it whole


def fit(rows: Sequence[str], budget: int = BUDGET, *, newest: bool = False) -> tuple[list[str], int]:
    """As many ``rows`` as fit in ``budget`` (from the end when ``newest``), and how many were left out."""
    kept: list[str] = []
    used = 0
    for row in reversed(rows) if newest else rows:
        if used + len(row) + 1 > budget and kept:
            break
        kept.append(row)
        used += len(row) + 1
    if newest:
        kept.reverse()
    return kept, len(rows) - len(kept)


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


def log_row(line: ShownLine) -> str:
    where = line.process if line.stream == "stdout" else f"{line.process} {line.stream}"
    return f"{line.seq} [{where}] {clip(line.plain)}"


def lines_text(lines: Sequence[ShownLine], *, next_cursor: int, gap: int, forward: bool, what: str = "lines") -> str:
    """Log lines for an agent, cut to the budget: the newest part (tail) or the oldest part (reading forward)."""
    if not lines:
        head = f"no {what}"
        return f"{head} (after seq {next_cursor})" if forward else f"{head}; next: since={next_cursor}"
    rows, left_out = fit([log_row(line) for line in lines], BUDGET - 250, newest=not forward)
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


def join_cut(rows: Sequence[str], *, header: str = "", more: str = "") -> str:
    """Rows under ``header``, cut to the budget with a note of what was left out and where to find it."""
    kept, left_out = fit(rows, BUDGET - len(header) - 120)
    text = "\n".join([header, *kept] if header else kept)
    if left_out:
        text += f"\n[text cut: {left_out} more in structuredContent{'; ' + more if more else ''}]"
    return text
