"""The reaper wakes on SIGCHLD only: an orphan that exits while a spawn is in flight is reaped when the spawn ends
(its pid registered), not by a timer."""

from __future__ import annotations

import subprocess
from pathlib import Path

import trio
import trio.testing

from brummer.core import open_core
from helpers import load, wait_until, write_project


def state_of(pid: int) -> str | None:
    """The process's state letter (``Z``: a zombie nobody reaped yet), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return stat[stat.rfind(b")") + 2 :].split()[0].decode()


async def wait_state(pid: int, *states: str | None) -> None:
    await wait_until(lambda: state_of(pid) in states, within=20, every=0.01)


async def test_an_orphan_that_exits_during_a_spawn_is_reaped_when_the_spawn_ends(tmp_path: Path) -> None:
    project = load(write_project(tmp_path, Procfile="unused: true\n"))
    async with open_core(project) as core, trio.open_nursery() as nursery:
        spawner = core.spawner
        parent = await spawner.open(["sh", "-c", "sleep 0.5 & echo $!"], stdout=subprocess.PIPE)
        assert parent.stdout is not None
        orphan = int((await parent.stdout.receive_some()).decode())
        await parent.stdout.aclose()
        await parent.wait()  # the sleep is re-parented to us (a subreaper)
        spawner.forget(parent.pid)

        async def spawn_true() -> None:
            proc = await spawner.open(["true"])
            await proc.wait()
            spawner.forget(proc.pid)

        limiter = trio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(limiter.total_tokens))]
        for holder in holders:
            await limiter.acquire_on_behalf_of(holder)
        nursery.start_soon(spawn_true)  # waits for a worker thread: a spawn in flight
        await trio.testing.wait_all_tasks_blocked()
        assert spawner.spawning == 1
        await wait_state(orphan, "Z")  # it exited (SIGCHLD came) while the spawn was in flight
        await trio.testing.wait_all_tasks_blocked()
        assert state_of(orphan) == "Z"  # its pid could be the spawn's: the reaper waits
        for holder in holders:
            limiter.release_on_behalf_of(holder)
        await wait_state(orphan, None)  # the spawn registered its pid: the orphan is reaped, no timer needed
