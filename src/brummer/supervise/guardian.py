"""The guardian: a tiny watchdog process that cleans up if brummer itself is killed (``kill -9``, OOM, crash).

Why a process and not ``PR_SET_PDEATHSIG``: a parent-death signal reaches only direct children, not grandchildren
or ``setsid`` escapees, and needs a ``preexec_fn`` (which forces a slow fork path). The guardian instead runs in its
own session, ignores INT/TERM/HUP, and reads brummer's messages on its stdin: ``track PID PGID SIGNAL GRACE MARK``
when a run starts (``MARK``: the run's ``BRUMMER_RUN`` value, hex-encoded as a process name may hold any character),
``untrack PID`` when it is reaped, ``exit`` on a clean shutdown.

On end-of-file without a clean ``exit`` (brummer is gone, whatever the cause), or with runs still tracked, it sweeps.
Every process carrying ``BRUMMER_INSTANCE=<id>`` gets its run's stop signal (a tracked group as a whole), then
SIGCONT (a stopped process could not act on it), and SIGKILL at *its own run's* deadline, start + grace. A marked
process of a run it was never told about (brummer died between spawn and ``track``) gets SIGTERM and the smallest
grace of the tracked runs, at most the default 5 s.

Promise: all gone by grace + 2 s, also at nice 10 with every core busy. So it does little: it reads every process's
environment once; later scans (at a deadline; when all it knows of have exited, for late forks) read only new pids;
in between it sleeps in ``poll()`` on pidfds, woken when one exits. A process is pinned by a pidfd *before* its mark
is checked and is signalled through it, so a recycled pid is never hit; a group is signalled only while a marked
process of ours is in it. It has no children and reaps nothing. It runs as a script under ``python -I -S`` (stdlib
only, no brummer imports) so that it starts fast.
"""

from __future__ import annotations

import errno
import os
import select
import signal
import sys
import time

INSTANCE_VAR = "BRUMMER_INSTANCE"
RUN_KEY = b"\0BRUMMER_RUN="
KILL_WAIT = 2.0  # after the last SIGKILL, how long to wait for the processes to go
DEFAULT_GRACE = 5.0  # the config's default grace: the most a marked process of an unknown run gets
RESCAN_GAP = 0.1  # at most ten /proc scans a second, whatever the processes do
TICK = 0.1  # without pidfds: how often to look whether the processes are gone


class Run:
    __slots__ = ("grace", "mark", "pgid", "sig")

    def __init__(self, pgid: int, sig: int, grace: float, mark: bytes) -> None:
        self.pgid, self.sig, self.grace, self.mark = pgid, sig, grace, mark


class Victim:
    """A live process of ours, pinned by a pidfd where the kernel has them."""

    __slots__ = ("deadline", "fd", "killed", "mark", "pgid", "pid")

    def __init__(self, pid: int, fd: int | None, mark: bytes, pgid: int) -> None:
        self.pid, self.fd, self.mark, self.pgid = pid, fd, mark, pgid
        self.deadline = 0.0
        self.killed = False

    def send(self, sig: int) -> None:
        try:
            if self.fd is None:
                os.kill(self.pid, sig)
            else:
                signal.pidfd_send_signal(self.fd, sig)
        except OSError:
            pass  # gone

    def gone(self) -> bool:
        """Without a pidfd: whether the process is gone or a zombie (a pidfd tells it through poll())."""
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return True
        return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"Z", b"X")

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def mark_of(pid: int, instance: bytes) -> bytes | None:
    """The run mark of ``pid`` (``b""`` if it has none) if it carries our instance mark, else None."""
    chunks = [b"\0"]
    try:
        fd = os.open(f"/proc/{pid}/environ", os.O_RDONLY)
        try:
            while chunk := os.read(fd, 65536):
                chunks.append(chunk)
        finally:
            os.close(fd)
    except OSError:
        return None
    env = b"".join(chunks) + b"\0"
    if instance not in env:
        return None
    start = env.find(RUN_KEY)
    return b"" if start < 0 else env[start + len(RUN_KEY) : env.index(b"\0", start + 1)]


pidfds = hasattr(os, "pidfd_open")


def pin(pid: int, instance: bytes) -> Victim | None:
    """Pin ``pid``, then check its mark: the answer holds for the pinned process, whatever happens to the pid."""
    global pidfds
    fd = None
    if pidfds:
        try:
            fd = os.pidfd_open(pid)
        except OSError as exc:
            if exc.errno != errno.ENOSYS:
                return None  # gone already
            pidfds = False  # a kernel before 5.3: check and signal by pid
    try:
        if (mark := mark_of(pid, instance)) is not None:
            return Victim(pid, fd, mark, os.getpgid(pid))
    except OSError:
        pass  # gone
    if fd is not None:
        os.close(fd)
    return None


def scan(instance: bytes, seen: set[int]) -> list[Victim]:
    """Our marked processes among the pids not in ``seen``, pinned; adds every pid it looked at to ``seen``. A pid
    that was not ours cannot become ours (the environment is fixed at exec) except by being recycled, which takes a
    wrap-around of the pid space: so only the first scan reads every process's environment."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (pid := int(entry)) not in seen:
            seen.add(pid)
            if mark_of(pid, instance) is not None and (victim := pin(pid, instance)):
                found.append(victim)
    return found


def wait_exits(victims: dict[int, Victim], timeout: float) -> None:
    """Sleep until one of ``victims`` exits or ``timeout`` passes; drop those that exited."""
    if timeout <= 0:
        return
    by_fd = {v.fd: v for v in victims.values() if v.fd is not None}
    if len(by_fd) == len(victims):
        poll = select.poll()
        for fd in by_fd:
            poll.register(fd, select.POLLIN)  # a pidfd is readable once its process has exited
        exited = [by_fd[fd] for fd, _ in poll.poll(int(min(timeout, 3600) * 1000) + 1)]  # ms, a C int
    else:
        time.sleep(min(timeout, TICK))
        exited = [v for v in victims.values() if v.gone()]
    for victim in exited:
        victim.close()
        del victims[victim.pid]


def killpg(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except OSError:
        return False  # gone (no contextlib: its import costs this script ~10 ms at start)
    return True


def with_cont(sig: int) -> tuple[int, ...]:
    """The stop signal, then SIGCONT so that a stopped process acts on it at once (as systemd does)."""
    return (sig,) if sig in (signal.SIGKILL, signal.SIGCONT) else (sig, signal.SIGCONT)


class Sweep:
    """Everything of one instance, each process with its own run's stop signal and deadline (start + grace)."""

    def __init__(self, instance: str, runs: list[Run]) -> None:
        self.needle = f"\0{INSTANCE_VAR}={instance}\0".encode()
        self.start = time.monotonic()
        self.by_mark = {run.mark: run for run in runs}
        self.by_pgid = {run.pgid: run for run in runs}
        self.default = min([DEFAULT_GRACE, *(run.grace for run in runs)])
        self.end = self.start + max([self.default, *(run.grace for run in runs)]) + KILL_WAIT
        self.victims: dict[int, Victim] = {}
        self.seen = {os.getpid()}  # pids already looked at
        self.stopped: set[int] = set()  # groups that got their stop signal
        self.killed: set[int] = set()  # groups that got SIGKILL

    def add(self, victim: Victim) -> None:
        run = self.by_mark.get(victim.mark) or self.by_pgid.get(victim.pgid)
        victim.deadline = self.start + (run.grace if run else self.default)
        self.victims[victim.pid] = victim

    def stop(self, victim: Victim) -> None:
        """Its group gets the run's stop signal (once; the group holds a marked process of ours, so it is ours);
        an escapee gets its own run's, or SIGTERM if its run is unknown."""
        group = self.by_pgid.get(victim.pgid)
        if group and victim.pgid in self.stopped:
            return
        run = group or self.by_mark.get(victim.mark)
        for sig in with_cont(run.sig if run else signal.SIGTERM):
            if group:
                killpg(victim.pgid, sig)
            else:
                victim.send(sig)
        if group:
            self.stopped.add(victim.pgid)

    def begin(self) -> None:
        # First the groups whose leader (the run's first process) is still ours: one environ read each, so they
        # get their stop signal at once even when the full scan is slow (many processes, little CPU for us).
        for pgid in self.by_pgid:
            self.seen.add(pgid)
            if (leader := pin(pgid, self.needle)) is not None:
                self.add(leader)
                self.stop(leader)
        for victim in scan(self.needle, self.seen):
            self.add(victim)
            self.stop(victim)

    def kill_due(self, now: float) -> None:
        for victim in self.victims.values():
            if not victim.killed and victim.deadline <= now:
                run = self.by_pgid.get(victim.pgid)
                if run and victim.pgid not in self.killed and self.start + run.grace <= now:
                    killpg(victim.pgid, signal.SIGKILL)  # also members that dropped the mark (env -i)
                    self.killed.add(victim.pgid)
                victim.send(signal.SIGKILL)
                victim.killed = True

    def run(self) -> None:
        self.begin()
        scanned, fresh = self.start, True
        while self.victims and (now := time.monotonic()) < self.end:
            pending = [v.deadline for v in self.victims.values() if not v.killed]
            wait_exits(self.victims, (min(pending) if pending else self.end) - now)
            now = time.monotonic()
            if not self.victims or any(not v.killed and v.deadline <= now for v in self.victims.values()):
                # all gone, or a deadline: first look for processes forked since the last scan
                if fresh and now - scanned < RESCAN_GAP:
                    time.sleep(RESCAN_GAP - (now - scanned))  # they keep forking: no busy loop of scans
                found = scan(self.needle, self.seen)
                for victim in found:
                    self.add(victim)
                scanned, fresh = time.monotonic(), bool(found)
                self.kill_due(scanned)


def sweep_groups(runs: list[Run]) -> None:
    """Without /proc (macOS) the marks cannot be checked: trust the tracking, stop each group, SIGKILL it at its
    deadline."""
    start = time.monotonic()
    pending = {run.pgid: start + run.grace for run in runs}
    end = max(pending.values(), default=start) + KILL_WAIT
    for run in runs:
        for sig in with_cont(run.sig):
            killpg(run.pgid, sig)
    while pending and time.monotonic() < end:
        for pgid, deadline in list(pending.items()):
            try:
                os.killpg(pgid, signal.SIGKILL if time.monotonic() >= deadline else 0)
            except OSError:
                del pending[pgid]
        time.sleep(TICK)


def parse(line: bytes, runs: dict[int, Run]) -> bool:
    """Apply one message; returns whether it was ``exit``."""
    words = line.decode("ascii", "replace").split()
    try:
        if len(words) == 6 and words[0] == "track":
            grace = float(words[4])
            grace = grace if 0 <= grace < 1e9 else DEFAULT_GRACE
            runs[int(words[1])] = Run(int(words[2]), int(words[3]), grace, bytes.fromhex(words[5]))
        elif len(words) == 2 and words[0] == "untrack":
            runs.pop(int(words[1]), None)
    except ValueError:
        pass
    return words == ["exit"]


def main() -> None:
    instance = sys.argv[1]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)
    runs: dict[int, Run] = {}
    clean = False
    pending = b""
    while True:
        try:
            chunk = os.read(0, 4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            clean = parse(line, runs) or clean
    if clean and not runs:
        return  # brummer stopped and reaped every run itself (and checked their trees were gone)
    if os.path.isdir("/proc/self"):
        Sweep(instance, list(runs.values())).run()
    else:
        sweep_groups(list(runs.values()))


if __name__ == "__main__":
    main()
