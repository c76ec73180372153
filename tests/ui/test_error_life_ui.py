"""Resolved errors leave the panel's error pane and its counts; plain output announces them, one line per
group or one line for many."""

from __future__ import annotations

import math
from pathlib import Path

from brummer.bus import Bus, ErrorResolved
from brummer.logs.store import LogStore
from brummer.runtime import Runtime
from brummer.ui.output import Output
from brummer.ui.panel import Panel
from brummer.ui.plain import PlainFormatter
from helpers import append_lines, load, running, write_project

CLEAN = "[10:54:33 AM] Found 0 errors. Watching for file changes."


def ts_error(i: int) -> str:
    return f"src/App{i}.ts(1,14): error TS2322: Type 'string' is not assignable to type 'number'."


async def resolved_event(errors: int) -> ErrorResolved:
    bus = Bus()
    store = LogStore(bus)
    events = bus.subscribe("test", low=math.inf)
    append_lines(store, "web", "stdout", [*map(ts_error, range(errors)), "", CLEAN])
    (event,) = [e for e in await events.receive_batch() if isinstance(e, ErrorResolved)]
    return event


async def test_plain_output_one_line_per_resolved_group_or_one_for_many() -> None:
    fmt = PlainFormatter(["web"], colour=False)
    lines = fmt.event(await resolved_event(2)).splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "web     » resolved: TS2322 src/App0.ts:1:14 Type 'string' is not assignable to type 'number'.",
        "web     » resolved: TS2322 src/App1.ts:1:14 Type 'string' is not assignable to type 'number'.",
    ]
    (line,) = fmt.event(await resolved_event(12)).splitlines()
    assert line.endswith("web     » resolved 12 errors (tsc: Found 0 errors)")


async def test_the_error_pane_and_its_count_drop_resolved_groups(tmp_path: Path) -> None:
    async with running(load(write_project(tmp_path, Procfile="web: exec sleep 300\n"))) as r:
        panel = Panel(
            Runtime(r.sup.project, r.sup, r.store, r.bus), r.bus.subscribe("panel"), Output(1), clock=lambda: 0.0
        )
        append_lines(r.store, "web", "stdout", [ts_error(1), ts_error(2), ""])
        snap = panel.snapshot(100, 30)
        assert [row.location for row in snap.errors] == ["src/App2.ts:1:14", "src/App1.ts:1:14"]
        assert snap.error_total == 2
        append_lines(r.store, "web", "stdout", [CLEAN])
        snap = panel.snapshot(100, 30)
        assert snap.errors == () and snap.error_total == 0
        append_lines(r.store, "web", "stdout", [ts_error(2), ""])  # back again: reopened, shown again
        assert [row.location for row in panel.snapshot(100, 30).errors] == ["src/App2.ts:1:14"]
