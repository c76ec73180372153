"""Stopping one run so that nothing of it is left: the one way, whatever ended the run.

Its stop signal goes to the whole process group and to the run's marked escapees (then SIGCONT: ``tree.RunTree``);
``grace`` seconds, which a second Ctrl-C (``force``) ends at once; SIGKILL to whatever is left; the child is reaped
and forgotten by the spawner and the guardian; then the pipe readers get at most ``DRAIN_WAIT`` to drain what the
dying processes wrote (a grandchild that holds a pipe open cannot hang brummer). Waiting sleeps on pidfds and on
``force``, never on a timer.

A child that exited on its own is stopped too if it left processes running in its tree. When all of brummer stops,
``ProcessController`` first waits for the run's dependents (``process.py``); this module only stops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import trio

from brummer.config.spec import ProcessSpec
from brummer.supervise.context import ProcessContext
from brummer.supervise.tree import RunTree

KILL_WAIT = 2.0  # after SIGKILL, how long to wait for the group to disappear
DRAIN_WAIT = 1.0  # after the tree is gone, how long a pipe may stay open (held by an unknown escapee)


@dataclass(frozen=True, slots=True)
class Stopped:
    """A run that got its stop signal."""

    requested: bool  # its child still ran: brummer stopped it (rather than cleaning up after an exit of its own)
    how: str  # "SIGTERM", "SIGKILL after 5s", "grace skipped: SIGKILL"


async def stop_run(
    proc: trio.Process,
    tree: RunTree,
    spec: ProcessSpec,
    ctx: ProcessContext,
    readers_done: trio.Event,
    stopping: Callable[[str], None],
) -> Stopped | None:
    """Signal, grace, SIGKILL, reap, drain; None if nothing was left to signal. ``stopping(message)`` is told when
    the stop signal goes out. Run it shielded."""
    requested = proc.returncode is None
    tree.rescan()
    stopped = None
    if requested or tree.alive():
        sig, grace = spec.stop_signal, spec.grace
        what = "" if requested else "it exited; stopping what it left running: "
        stopping(f"{what}{sig.name}, {grace:g}s grace")
        tree.signal(sig)
        how = sig.name
        if not await tree.gone_within(proc, grace, force=ctx.force):
            tree.rescan()
            # a second Ctrl-C ended the grace period (the app said "skipping grace periods"), or it ran out
            forced = ctx.force.is_set()
            why = "grace skipped" if forced else f"still running after {grace:g}s"
            ctx.store.note(f"{why}: SIGKILL", spec.name, "warn")
            tree.signal(9)
            how = f"{why}: SIGKILL" if forced else f"SIGKILL after {grace:g}s"
            await tree.gone_within(proc, KILL_WAIT)
        stopped = Stopped(requested, how)
    await proc.wait()
    ctx.spawner.forget(proc.pid)
    ctx.guardian_untrack(proc.pid)
    with trio.move_on_after(DRAIN_WAIT):
        await readers_done.wait()
    return stopped
