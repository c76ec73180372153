"""Finding and signalling everything one run started, and nothing else.

A run's processes are its process group (the child starts its own session) plus any descendant that left the group
(``setsid``, double forks). Every child gets ``BRUMMER_RUN=<instance>/<run id>`` in its environment and descendants
inherit it, so on Linux ``/proc/*/environ`` finds the escapees too. A process is signalled only if it is in the
run's group or carries the run's mark: brummer never signals a process it did not start (the Go brummer killed
other projects' dev servers by port and name).

Escapees are signalled through a pidfd opened *before* re-checking the mark, so a recycled pid cannot be hit.

Waiting for a run to be gone (``RunTree.wait_gone``) sleeps on pidfds, which become readable when their process
exits; the group is read again only after the processes seen in it have ended. Without pidfds (macOS, old kernels)
it polls with a growing interval.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator

import trio

LINUX = sys.platform.startswith("linux")
RUN_VAR = "BRUMMER_RUN"
INSTANCE_VAR = "BRUMMER_INSTANCE"


def _environ_has(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            data = f.read()
    except OSError:
        return False
    return data.startswith(needle[1:]) or needle in data


def marked_pids(var: str, value: str, exclude: int | None = None) -> list[int]:
    """Pids (Linux) whose environment holds ``var=value``, never ours; empty elsewhere."""
    if not LINUX:
        return []
    needle = b"\0" + f"{var}={value}".encode() + b"\0"
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid in (me, exclude):
            continue
        if _environ_has(pid, needle):
            found.append(pid)
    return found


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] == b"Z"


def pid_alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not (LINUX and _is_zombie(pid))


def group_alive(pgid: int) -> bool:
    """True while a live (not zombie) process is in group ``pgid``.

    ``killpg(pgid, 0)`` answers first; on Linux a yes is confirmed from /proc, because a zombie member (whose reaper
    has not run yet) would otherwise keep the group "alive" for as long as nobody reaps it.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if not LINUX:
        return True
    return any(True for _ in group_members(pgid))


def group_members(pgid: int) -> Iterator[int]:
    """The live (not zombie) processes of group ``pgid`` (Linux: from /proc)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != b"Z":
            yield int(entry)


def signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def signal_marked(pid: int, var: str, value: str, sig: int) -> bool:
    """Send ``sig`` to ``pid`` only if it still carries ``var=value`` (checked after pinning it with a pidfd)."""
    needle = b"\0" + f"{var}={value}".encode() + b"\0"
    if not LINUX or not hasattr(os, "pidfd_open"):
        return False
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        if not _environ_has(pid, needle):
            return False
        signal.pidfd_send_signal(fd, sig)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class RunTree:
    """The processes of one run: its group, and the marked escapees seen so far."""

    def __init__(self, pgid: int, mark: str) -> None:
        self.pgid = pgid
        self.mark = mark
        self.escapees: set[int] = set()

    def rescan(self) -> None:
        """Find marked processes outside the group (an environ scan: a few times per stop, never in a loop)."""
        for pid in marked_pids(RUN_VAR, self.mark):
            with contextlib.suppress(OSError):
                if os.getpgid(pid) == self.pgid:
                    continue
            self.escapees.add(pid)

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the group and the escapees, then SIGCONT: a stopped process (SIGSTOP, Ctrl-Z) could
        not act on a stop signal it handles until continued, and shutdown would wait the whole grace."""
        for each in (sig,) if sig in (signal.SIGKILL, signal.SIGCONT) else (sig, signal.SIGCONT):
            signal_group(self.pgid, each)
            for pid in list(self.escapees):
                if not signal_marked(pid, RUN_VAR, self.mark, each):
                    self.escapees.discard(pid)

    def alive(self) -> bool:
        self.escapees = {pid for pid in self.escapees if pid_alive(pid)}
        return bool(self.escapees) or group_alive(self.pgid)

    async def gone_within(self, proc: trio.Process, seconds: float, force: trio.Event | None = None) -> bool:
        """Whether ``proc`` (the run's child) and the whole tree are gone within ``seconds``; False as soon as
        ``force`` is set (a second Ctrl-C). Wakes on the exits themselves (pidfds) and on the event, not a timer."""
        if proc.poll() is not None and not self.alive():
            return True
        gone = False
        with trio.move_on_after(seconds):
            async with trio.open_nursery() as race:

                async def until_gone() -> None:
                    nonlocal gone
                    await proc.wait()
                    await self.wait_gone()
                    gone = True
                    race.cancel_scope.cancel()

                race.start_soon(until_gone)
                if force is not None:
                    await force.wait()
                    race.cancel_scope.cancel()
        return gone

    async def wait_gone(self) -> None:
        """Return once no process of the run is left (its group and its escapees). Sleeps on the pidfds of the
        processes it sees; reads the group again only once they have all ended (a member may have forked)."""
        delay = 0.01
        while self.alive():
            fds = self._pidfds()
            if not fds:  # no pidfds here, or every process ended while we looked: look again soon
                await trio.sleep(delay)
                delay = min(delay * 2, 0.1)
                continue
            try:
                for fd in fds:
                    await trio.lowlevel.wait_readable(fd)  # readable once that process has exited
            finally:
                for fd in fds:
                    trio.lowlevel.notify_closing(fd)
                    os.close(fd)

    def _pidfds(self) -> list[int]:
        """pidfds of the run's live processes, each checked to be one of them after it was pinned (a pid seen in
        /proc may have been recycled before the pidfd was opened)."""
        if not LINUX or not hasattr(os, "pidfd_open"):
            return []
        needle = b"\0" + f"{RUN_VAR}={self.mark}".encode() + b"\0"
        fds = []
        for pid in [*group_members(self.pgid), *self.escapees]:
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                continue
            try:
                ours = os.getpgid(pid) == self.pgid or _environ_has(pid, needle)
            except OSError:
                ours = False
            if ours:
                fds.append(fd)
            else:
                os.close(fd)
        return fds
