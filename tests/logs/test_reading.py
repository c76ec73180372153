"""Reading the store without holding the loop: slices with checkpoints, pages bounded in size, exact cursors."""

from __future__ import annotations

import trio
import trio.lowlevel

from brummer.bus import Bus
from brummer.logs import reading
from brummer.logs.patterns import compile_pattern
from brummer.logs.store import LogStore
from helpers import append_lines


def make(max_lines: int = 100_000, max_bytes: int = 64 << 20) -> LogStore:
    return LogStore(Bus(), max_lines=max_lines, max_bytes=max_bytes)


class Steps(trio.abc.Instrument):
    """How many steps each task took: a task that never checkpoints takes one."""

    def __init__(self) -> None:
        self.steps: dict[str, int] = {}

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.steps[task.name] = self.steps.get(task.name, 0) + 1


async def test_a_read_of_the_whole_store_checkpoints_between_slices() -> None:
    store = make()
    for i in range(0, 60_000, 1000):  # 12 MB: a search without matches and a level filter look at all of it
        append_lines(store, "web", "stdout", [f"{j:06} GET /api/items " + "y" * 180 for j in range(i, i + 1000)])
    steps = Steps()
    found: list[int] = []

    async def read() -> None:
        found.append((await store.read("web", pattern=compile_pattern("no such line"))).next)
        found.append(len((await store.read("web", level="error")).lines))

    trio.lowlevel.add_instrument(steps)
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(read, name="reader")
    finally:
        trio.lowlevel.remove_instrument(steps)
    assert found == [store.last_seq, 0]
    assert steps.steps["reader"] > 20  # it let the loop run other tasks, many times


async def test_forward_pages_are_bounded_and_continue_exactly() -> None:
    store = make()
    for i in range(0, 3000, 100):
        append_lines(store, "web", "stdout", [f"{j:05} " + "x" * 994 for j in range(i, i + 100)])
    since, seen, pages = 0, [], 0
    while (page := await store.read("web", since=since, limit=10_000)).lines:
        pages += 1
        seen += [int(line.text[:5]) for line in page.lines]
        since = page.next
    assert seen == list(range(3000)) and pages == 4  # 1 MiB a page, 1.1 KB a line (with its overhead)
    first = await store.read("web", since=0, limit=10_000)
    assert first.truncated and first.earlier is None and first.next == first.lines[-1].seq
    rest = await store.read("web", since=first.next, limit=10_000, budget=None)
    assert not rest.truncated and rest.next == store.last_seq


async def test_a_truncated_tail_keeps_the_newest_and_says_where_the_rest_is() -> None:
    store = make()
    for i in range(0, 3000, 100):
        append_lines(store, "web", "stdout", [f"{j:05} " + "x" * 994 for j in range(i, i + 100)])
    tail = await store.read("web", limit=2500)
    assert tail.truncated and tail.lines[-1].text.startswith("02999")
    assert tail.earlier is not None
    since, limit = tail.earlier
    assert limit == 2500 - len(tail.lines)
    earlier = await store.read("web", since=since, limit=limit, budget=None)
    assert earlier.lines[0].text.startswith("00500") and earlier.lines[-1].seq == tail.lines[0].seq - 1


async def test_long_lines_are_clipped_with_their_length() -> None:
    store = make()
    append_lines(store, "web", "stdout", ["\x1b[31m" + "x" * 70_000 + "\x1b[0m", "short"])
    (long, short), _ = await reading.show_all((await store.read("web", limit=2)).lines)
    assert len(long.text) < reading.LINE_CHARS + 100 and long.length == 70_000 and "clipped" in long.text
    assert long.to_dict()["length"] == 70_000 and "length" not in short.to_dict()
    whole = reading.show((await store.read("web", limit=2, clip=reading.MAX_LINE_CHARS)).lines[0], 80_000)
    assert whole.text == "x" * 70_000 and whole.length is None


async def test_anchored_patterns_match_lines_inside_a_batch() -> None:
    """A pattern is first tried on a whole batch: ``^``/``$`` must still mean a line's start and end."""
    store = make()
    append_lines(store, "web", "stdout", ["compiled", "ready", "watching"])
    append_lines(store, "web", "stdout", ["not ready yet"])
    found = await store.read("web", pattern=compile_pattern("^ready$"))
    assert [line.text for line in found.lines] == ["ready"]


async def test_a_read_sees_the_store_as_it_was_and_misses_nothing_after() -> None:
    store = make(max_lines=30_000)
    for i in range(0, 30_000, 1000):
        append_lines(store, "web", "stdout", [f"old {j}" for j in range(i, i + 1000)])
    end = store.last_seq

    async def flood() -> None:  # appends (and evictions) while the read is paused between slices
        for i in range(50):
            append_lines(store, "web", "stdout", [f"new {i}.{k}" for k in range(1000)])
            await trio.lowlevel.checkpoint()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(flood)
        page = await store.read("web", since=0, limit=100_000, level="info", budget=None)
    assert [line.text for line in page.lines] == [f"old {j}" for j in range(30_000)]
    assert page.next == end  # the lines that came meanwhile are read next time


async def test_min_run_leaves_out_notes_and_older_runs() -> None:
    store = make()
    append_lines(store, "web", "stdout", ["ready (run 1)"], run=1)
    store.note("web exited", "web")
    append_lines(store, "web", "stdout", ["ready (run 2)"], run=2)
    found = await store.read("web", since=0, pattern=compile_pattern("ready|exited"), min_run=2)
    assert [line.text for line in found.lines] == ["ready (run 2)"]


async def test_a_resource_sized_read_is_capped_in_work() -> None:
    store = make()
    for i in range(200):
        append_lines(store, "web", "stdout", [f"{i} " + "x" * 65_000])
    capped = store.tail("web", limit=200, slices=1)
    assert capped.truncated and 1 <= len(capped.lines) < 10 and capped.lines[-1].text.startswith("199 ")
