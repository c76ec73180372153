"""Fan-out of events to subscribers, one bounded memory channel per priority per subscriber.

``Bus.publish`` is synchronous and never blocks, so a producer (a process's pipe reader, the log store) is never
slowed by a subscriber. Each subscriber owns three channels:

========  =========  ===========================================================================
priority  buffer     why
========  =========  ===========================================================================
HIGH      unbounded  never dropped; volume is bounded by state changes and new error groups
MEDIUM    1024       superseded updates; a thousand pending means the subscriber is stuck
LOW       64         log batches (a read of at most 256 KiB each): up to 16 MiB of slack, then drop
========  =========  ===========================================================================

A send that would block is a drop, counted per subscriber and per event type (and, for log batches, in lines).
Events carry a bus-wide sequence number so ``receive_batch`` can hand them out in publish order.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, deque
from dataclasses import dataclass, field

import trio

from brummer.bus.events import Event, LogLines, Priority

Item = tuple[int, Event]

DEFAULT_BUFFERS: dict[Priority, float] = {Priority.HIGH: math.inf, Priority.MEDIUM: 1024, Priority.LOW: 64}


@dataclass
class DropCounts:
    """What a subscriber missed: events by type name, and log lines inside dropped batches."""

    events: Counter[str] = field(default_factory=Counter)
    lines: int = 0

    @property
    def total(self) -> int:
        return sum(self.events.values())


class Subscription:
    """One subscriber's view of the bus. Iterate it, or call ``receive_batch`` for everything pending."""

    def __init__(self, bus: Bus, name: str, buffers: dict[Priority, float], dropped: DropCounts) -> None:
        self.bus = bus
        self.name = name
        self.dropped = dropped
        self._send: dict[Priority, trio.MemorySendChannel[Item]] = {}
        self._recv: dict[Priority, trio.MemoryReceiveChannel[Item]] = {}
        for priority, size in buffers.items():
            send, recv = trio.open_memory_channel[Item](size)
            self._send[priority] = send
            self._recv[priority] = recv
        self._doorbell = trio.Event()
        self._closed = False
        self._pending: deque[Event] = deque()  # for one-at-a-time iteration

    def _offer(self, seq: int, event: Event) -> None:
        try:
            self._send[event.priority].send_nowait((seq, event))
        except trio.WouldBlock:
            self.dropped.events[type(event).__name__] += 1
            if isinstance(event, LogLines):
                self.dropped.lines += event.batch.count
            return
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        self._doorbell.set()

    def _drain(self) -> tuple[list[Item], bool]:
        """Everything pending on every channel, and whether every channel has ended."""
        lists: list[list[Item]] = []
        ended = 0
        for recv in self._recv.values():
            items: list[Item] = []
            try:
                while True:
                    items.append(recv.receive_nowait())
            except trio.WouldBlock:
                pass
            except (trio.EndOfChannel, trio.ClosedResourceError):
                ended += 1
            if items:
                lists.append(items)
        merged = lists[0] if len(lists) == 1 else list(heapq.merge(*lists)) if lists else []
        return merged, ended == len(self._recv)

    async def receive_batch(self) -> list[Event]:
        """Wait for at least one event and return all pending ones, in publish order.

        Raises ``trio.EndOfChannel`` once the bus is closed and everything has been received.
        """
        if self._pending:
            pending = list(self._pending)
            self._pending.clear()
            await trio.lowlevel.checkpoint()
            return pending
        while True:
            self._doorbell = trio.Event()
            items, ended = self._drain()
            if items:
                await trio.lowlevel.checkpoint()
                return [event for _, event in items]
            if ended:
                raise trio.EndOfChannel
            await self._doorbell.wait()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Event:
        """One event at a time (a plain iterator, not an async generator: breaking out of ``async for`` is safe)."""
        if not self._pending:
            try:
                self._pending.extend(await self.receive_batch())
            except trio.EndOfChannel:
                raise StopAsyncIteration from None
        else:
            await trio.lowlevel.checkpoint()
        return self._pending.popleft()

    def _end(self) -> None:
        for send in self._send.values():
            send.close()
        self._doorbell.set()

    def close(self) -> None:
        """Unsubscribe: no more events are delivered; pending ones are discarded."""
        if self._closed:
            return
        self._closed = True
        self.bus._remove(self)
        self._end()
        for recv in self._recv.values():
            recv.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Bus:
    """The event bus. ``publish`` from anywhere in the Trio thread; ``subscribe`` for a bounded view."""

    def __init__(self) -> None:
        self._subscribers: list[Subscription] = []
        self._seq = 0
        self._closed = False
        self._drops: dict[str, DropCounts] = {}

    def subscribe(self, name: str, *, low: float | None = None, medium: float | None = None) -> Subscription:
        buffers = dict(DEFAULT_BUFFERS)
        if low is not None:
            buffers[Priority.LOW] = low
        if medium is not None:
            buffers[Priority.MEDIUM] = medium
        sub = Subscription(self, name, buffers, self._drops.setdefault(name, DropCounts()))
        if self._closed:
            sub._end()
        else:
            self._subscribers.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        """Deliver ``event`` to every subscriber without blocking; never raises for a slow subscriber."""
        if self._closed:
            return
        self._seq += 1
        for sub in self._subscribers:
            sub._offer(self._seq, event)

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subscribers:
            self._subscribers.remove(sub)

    def close(self) -> None:
        """End every subscription after what is already queued (subscribers drain, then see the end)."""
        self._closed = True
        for sub in self._subscribers:
            sub._end()

    def drop_counts(self) -> dict[str, DropCounts]:
        """Drops per subscriber name, including subscribers that have since closed (a restarted service
        subscribes again under the same name and keeps adding to the same counts)."""
        return dict(self._drops)
