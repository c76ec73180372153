"""What a ``ProcessController`` may use of the brummer around it, and nothing more.

A controller used to hold the whole ``Supervisor`` (and the supervisor wrote the controller's fields back): a
circle of imports and of knowledge. The supervisor now builds one ``ProcessContext`` and hands it to every
controller: the store, bus and spawner, the guardian link, the run numbers, the change signal, the force event,
and the other processes, seen through ``Peer`` (whether they meet a condition, and waiting for them to stop).
Readers outside ``supervise`` never see a controller: they read ``Supervisor.snapshot()`` / ``info(name)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import trio

from brummer.bus import Bus
from brummer.config.spec import Condition
from brummer.logs.store import LogStore
from brummer.supervise.spawn import Spawner
from brummer.supervise.watchdog import Guardian


class Changes:
    """ "Some process changed" (state, activity, runs): dependents, ``wait_idle`` and settling starts wait on it."""

    def __init__(self) -> None:
        self._lot = trio.lowlevel.ParkingLot()

    def notify(self) -> None:
        self._lot.unpark_all()

    async def wait(self) -> None:
        await self._lot.park()


class Peer(Protocol):
    """Another process, as a dependent or a dependency sees it."""

    @property
    def name(self) -> str: ...

    def satisfies(self, condition: Condition) -> bool: ...

    def hopeless(self, condition: Condition) -> bool: ...

    async def wait_stopped(self) -> None: ...


@dataclass(frozen=True)
class ProcessContext:
    store: LogStore
    bus: Bus
    spawner: Spawner
    guardian: Guardian | None
    force: trio.Event  # a second Ctrl-C: every grace period ends at once
    first_spawn: trio.Event  # set when the first child of this brummer has been spawned
    peers: Mapping[str, Peer]  # every process by name (the supervisor's live mapping)
    dependents: Mapping[str, Sequence[str]]  # name -> the processes that depend on it
    changes: Changes = field(default_factory=Changes)
    runs: Iterator[int] = field(default_factory=lambda: itertools.count(1))  # run ids, unique in this brummer

    def next_run_number(self) -> int:
        return next(self.runs)

    def dependencies(self, depends_on: Mapping[str, Condition]) -> list[tuple[Peer, Condition]]:
        return [(self.peers[name], condition) for name, condition in depends_on.items()]

    def dependents_of(self, name: str) -> list[Peer]:
        return [self.peers[d] for d in self.dependents.get(name, ())]

    def guardian_track(self, pid: int, signum: int, grace: float, mark: str) -> None:
        if self.guardian is not None:
            self.guardian.track(pid, pid, int(signum), grace, mark)

    def guardian_untrack(self, pid: int) -> None:
        if self.guardian is not None:
            self.guardian.untrack(pid)
