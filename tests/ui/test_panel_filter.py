"""The panel's `/` filter: a screenful of the newest matches per process, read once, then only what is new."""

from __future__ import annotations

import trio

from brummer.bus import Bus
from brummer.logs.store import LogStore
from brummer.ui.panel_filter import FilterMatches
from brummer.ui.panel_model import compile_filter
from helpers import append_lines


async def test_matches_follow_the_log_reading_only_what_is_new() -> None:
    store = LogStore(Bus(), max_lines=100_000, max_bytes=64 << 20)
    append_lines(store, "web", "stdout", ["GET /a 200", "GET /b 500", "boot"])
    for i in range(0, 40_000, 1000):  # a rare match far back: found once, in slices
        append_lines(store, "api", "stdout", [f"tick {j}" for j in range(i, i + 1000)])
    matches = FilterMatches(compile_filter(r"^GET .* 500$|^tick 17$"), rows=3)
    await matches.update(store)
    assert [line.text for line in matches.lines["web"]] == ["GET /b 500"]
    assert [line.text for line in matches.lines["api"]] == ["tick 17"]

    append_lines(store, "web", "stdout", ["GET /c 500", "GET /d 200", "GET /e 500"])
    steps = 0

    class Count(trio.abc.Instrument):
        def before_task_step(self, task: trio.lowlevel.Task) -> None:
            nonlocal steps
            steps += 1

    count = Count()
    trio.lowlevel.add_instrument(count)
    await matches.update(store)  # reads the three new lines, not the 40,000 old ones again
    trio.lowlevel.remove_instrument(count)
    assert steps <= 2
    assert [line.text for line in matches.lines["web"]] == ["GET /b 500", "GET /c 500", "GET /e 500"]

    append_lines(store, "web", "stdout", [f"GET /{i} 500" for i in range(10)])  # more than a screenful
    await matches.update(store)
    assert [line.text for line in matches.lines["web"]] == ["GET /7 500", "GET /8 500", "GET /9 500"]
