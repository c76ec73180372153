"""The bus: never blocks a publisher, never drops high priority, counts every drop, keeps publish order."""

from __future__ import annotations

import trio
import trio.testing

from brummer.bus import Bus, ErrorRepeated, LogLines, Notice, UrlDetected
from brummer.logs.kinds import Stream
from brummer.logs.query import Batch


def lines_event(n: int) -> LogLines:
    return LogLines(Batch(1, 0.0, "web", Stream.STDOUT, 1, "\n".join(["x"] * n), n, 2 * n))


async def test_slow_subscriber_drops_low_only_and_counts() -> None:
    bus = Bus()
    slow = bus.subscribe("slow", low=4)
    fast = bus.subscribe("fast", low=10_000)
    for i in range(100):
        bus.publish(lines_event(10))
        if i % 10 == 0:
            bus.publish(UrlDetected("web", f"http://localhost:{i}/"))  # never dropped
    batch = await slow.receive_batch()
    assert sum(isinstance(e, UrlDetected) for e in batch) == 10
    assert sum(isinstance(e, LogLines) for e in batch) == 4
    assert slow.dropped.events == {"LogLines": 96}
    assert slow.dropped.lines == 960
    assert len(await fast.receive_batch()) == 110
    assert fast.dropped.total == 0
    assert bus.drop_counts()["slow"].events["LogLines"] == 96


async def test_order_is_publish_order_across_priorities() -> None:
    bus = Bus()
    sub = bus.subscribe("s")
    events = [lines_event(1), UrlDetected("a", "u"), Notice("n"), lines_event(2), ErrorRepeated(1, "a", 2)]
    for event in events:
        bus.publish(event)
    assert await sub.receive_batch() == events


async def test_medium_is_bounded_too() -> None:
    bus = Bus()
    sub = bus.subscribe("s", medium=2)
    for i in range(5):
        bus.publish(ErrorRepeated(1, "a", i))
    assert [e.count for e in await sub.receive_batch()] == [0, 1]  # type: ignore[attr-defined]
    assert sub.dropped.events == {"ErrorRepeated": 3}


async def test_close_ends_subscribers_after_the_backlog() -> None:
    bus = Bus()
    sub = bus.subscribe("s")
    bus.publish(Notice("last"))
    bus.close()
    received = [event async for event in sub]
    assert received == [Notice("last")]
    late = bus.subscribe("late")
    assert [e async for e in late] == []


async def test_receive_waits_for_a_publish() -> None:
    bus = Bus()
    sub = bus.subscribe("s")
    got = []

    async def reader() -> None:
        got.extend(await sub.receive_batch())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(reader)
        await trio.testing.wait_all_tasks_blocked()
        assert got == []
        bus.publish(Notice("hi"))
    assert got == [Notice("hi")]


def test_publish_after_unsubscribe_is_harmless() -> None:
    bus = Bus()
    sub = bus.subscribe("s")
    sub.close()
    bus.publish(Notice("x"))
    assert bus.drop_counts()["s"].total == 0
