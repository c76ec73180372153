"""Reaping orphans: descendants re-parented to brummer (a subreaper) when their parent died.

Trio reaps the children it spawned; anything else that becomes our child is an orphan from some run's tree. When it
exits it must be reaped (or it stays a zombie and keeps its process group "alive"). The reaper wakes on SIGCHLD
only and reaps only pids that Trio does not manage, so it never steals an exit status. While a fork is in flight
(its pid not registered yet) it waits for the spawner to finish rather than retrying on a timer; SIGCHLDs that
arrive meanwhile are kept by the signal receiver, and one round reaps every orphan that has exited.
"""

from __future__ import annotations

import contextlib
import os
import signal

import trio

from brummer.supervise.spawn import Spawner
from brummer.supervise.tree import LINUX


def our_children() -> set[int]:
    """Pids whose parent is this process (Linux: /proc/self/task/*/children)."""
    pids: set[int] = set()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return pids
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children") as f:
                pids.update(int(p) for p in f.read().split())
        except OSError:
            continue
    return pids


def reap_orphans(spawner: Spawner) -> int:
    """Reap every exited child that Trio does not manage; returns how many."""
    reaped = 0
    if spawner.spawning:
        return reaped  # a fork is in flight whose pid is not registered yet; the next round gets the orphans
    for pid in our_children() - spawner.managed:
        with contextlib.suppress(ChildProcessError, OSError):
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                reaped += 1
    return reaped


async def serve_reaper(spawner: Spawner, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
    if not LINUX:
        task_status.started()
        await trio.sleep_forever()
    with trio.open_signal_receiver(signal.SIGCHLD) as signals:
        task_status.started()
        async for _ in signals:
            await spawner.wait_no_spawn()
            reap_orphans(spawner)
