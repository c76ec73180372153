"""What the remote commands print: tables and lines for people, the tools' structured answers for ``--json``.

Every row comes from a tool's ``structuredContent``, read with ``.get`` so that fields a newer brummer adds (proxy
URLs, error states, request details) show when they exist and nothing breaks before they do. Text from the
instance is stripped of control characters before it reaches the terminal.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from brummer.errors import OutputClosed

# Everything a terminal could act on but tab and newline (escape sequences are already gone from log text), and the
# bidi embeddings, overrides and isolates, which reorder what follows them (dropped: they show nothing themselves).
CONTROLS: dict[int, str | None] = {
    **dict.fromkeys([*range(0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)], "?"),
    **dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], None),
}
ALIVE = ("starting", "running", "ready", "stopping")
FAILED = ("failed", "backing-off")


def duration(seconds: object) -> str:
    """An uptime for a table column: ``42s``, ``3m05s``, ``2h14m``, ``3d04h``; ``-`` when not running."""
    if not isinstance(seconds, int | float):
        return "-"
    whole = int(seconds)
    for unit, size, small, small_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if whole >= size:
            return f"{whole // size}{unit}{whole % size // small_size:02d}{small}"
    return f"{whole}s"


def clock(when: object) -> str:
    return time.strftime("%H:%M:%S", time.localtime(when)) if isinstance(when, int | float) else "-"


def clean(value: object) -> str:
    return "" if value is None else str(value).translate(CONTROLS)


def emit(text: str) -> None:
    write(text if text.endswith("\n") or not text else text + "\n")


def write(text: str) -> None:
    """To stdout, now; ``OutputClosed`` if its reader is gone (``brummer logs -f | head``)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        null = os.open(os.devnull, os.O_WRONLY)  # so that the interpreter's last flush does not fail again
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
        raise OutputClosed from None


def emit_json(doc: object) -> None:
    emit(json.dumps(doc, indent=2, ensure_ascii=False))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def open_errors(errors: dict[str, Any]) -> dict[str, int]:
    """Open error groups per process (all of them, until the instance tells resolved ones apart)."""
    counts: dict[str, int] = {}
    for group in errors.get("errors", []):
        if group.get("resolved") or group.get("state") == "resolved":
            continue
        process = str(group.get("process", "?"))
        counts[process] = counts.get(process, 0) + 1
    return counts


def ps(status: dict[str, Any], errors: dict[str, int]) -> str:
    rows = []
    processes = status.get("processes", [])
    proxy = any(p.get("proxy_urls") for p in processes)
    for p in processes:
        urls = " ".join(clean(u) for u in p.get("urls", []))
        row = [
            clean(p.get("name")),
            clean(p.get("state")),
            clean(p.get("pid") or "-"),
            duration(p.get("uptime_s")),
            str(p.get("restarts", 0)),
            "yes" if p.get("ready") else "no",
            str(errors.get(str(p.get("name")), 0)),
            urls or "-",
        ]
        if proxy:
            row.insert(-1, " ".join(clean(u) for u in p.get("proxy_urls", [])) or "-")
        rows.append(row)
    header = ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "READY", "ERRORS", "URLS"]
    if proxy:
        header.insert(-1, "PROXY")
    return table(header, rows) if rows else "no processes in this project"


def instances(rows: list[dict[str, Any]]) -> str:
    """``ps --all``: one row per running brummer of this user."""
    if not rows:
        return "no brummer is running"
    body = [
        [
            clean(r["project"]),
            str(r["pid"]),
            r["kind"],
            duration(r["uptime_s"]),
            "-" if r["running"] is None else str(r["running"]),
            "-" if r["failed"] is None else str(r["failed"]),
            clean(r.get("note", "")),
        ]
        for r in rows
    ]
    return table(["PROJECT", "PID", "KIND", "UPTIME", "RUNNING", "FAILED", ""], body)


def count_states(status: dict[str, Any]) -> tuple[int, int]:
    states = [p.get("state") for p in status.get("processes", [])]
    return sum(s in ALIVE for s in states), sum(s in FAILED for s in states)


def errors(answer: dict[str, Any]) -> str:
    groups = answer.get("errors", [])
    if not groups:
        return "no errors"
    out = []
    for g in groups:
        where = f" at {clean(g['location'])}" if g.get("location") else ""
        state = f" [{clean(g['state'])}]" if g.get("state") not in (None, "open") else ""
        seen = f"x{g.get('count', 1)}, last at {clock(g.get('last_seen'))}"
        out.append(
            f"#{g.get('id')} {clean(g.get('process'))}{state}: {clean(g.get('type'))}: "
            f"{clean(g.get('message'))}{where} ({seen})"
        )
        out.extend(f"    {clean(line)}" for line in g.get("lines", [])[1:11])
    total = answer.get("total", len(groups))
    if total > len(groups):
        out.append(f"({total - len(groups)} older groups not shown)")
    return "\n".join(out)


def urls(answer: dict[str, Any]) -> str:
    rows = [
        [clean(r.get("process")), clean(r.get("url")), clean(r.get("proxy_url") or "")] for r in answer.get("urls", [])
    ]
    if not rows:
        return "no URLs announced yet"
    if not any(row[2] for row in rows):
        return table(["PROCESS", "URL"], [row[:2] for row in rows])
    return table(["PROCESS", "URL", "PROXY"], rows)


def requests(answer: dict[str, Any]) -> str:
    rows = answer.get("requests", [])
    if not rows:
        note = clean(answer.get("note", ""))
        return "no requests recorded" + (f" ({note})" if note else "")
    body = []
    for r in rows:
        stamp = clock(r.get("started") or r.get("time"))
        took = r.get("duration_ms")
        body.append(
            [
                stamp,
                clean(r.get("process") or r.get("name") or "-"),
                clean(r.get("method", "-")),
                clean(r.get("status") or r.get("error") or "-"),
                clean(r.get("path") or r.get("url") or "-"),
                f"{took:.0f} ms" if isinstance(took, int | float) else "-",
            ]
        )
    return table(["TIME", "PROCESS", "METHOD", "STATUS", "PATH", "TOOK"], body)


def control(answer: dict[str, Any]) -> str:
    """One line for a start, stop or restart: ``web: started (running, pid 4242)``."""
    process = answer.get("process") or {}
    detail = [clean(answer.get("state"))]
    if process.get("pid") and answer.get("state") in ("running", "ready"):
        detail.append(f"pid {process['pid']}")
    return f"{clean(answer.get('name'))}: {clean(answer.get('action'))} ({', '.join(detail)})"
