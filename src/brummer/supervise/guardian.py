"""The guardian: a tiny watchdog process that cleans up if brummer itself is killed (``kill -9``, OOM, crash).

Why a process and not ``PR_SET_PDEATHSIG``: a parent-death signal reaches only direct children, not grandchildren
or ``setsid`` escapees, and needs a ``preexec_fn`` (which forces a slow fork path). The guardian instead:

- runs in its own session (a terminal's Ctrl-C or hang-up does not reach it) and ignores INT/TERM/HUP;
- reads brummer's messages on its stdin: ``track PID PGID SIGNAL GRACE`` when a run starts, ``untrack PID`` when it
  is reaped, ``exit`` on a clean shutdown;
- on end-of-file without a clean ``exit`` (brummer is gone, whatever the cause), or with runs still tracked, it
  signals every tracked group whose members still carry the instance mark, and every process whose environment
  holds ``BRUMMER_INSTANCE=<id>``, waits up to the longest grace, then SIGKILLs whatever is left.

This file runs as a script under ``python -I -S`` (stdlib only, no brummer imports) so that it starts fast.
"""

from __future__ import annotations

import os
import signal
import sys
import time

INSTANCE_VAR = "BRUMMER_INSTANCE"
KILL_WAIT = 2.0
DEFAULT_GRACE = 5.0  # for marked processes outside any tracked group


def marked(instance: str) -> set[int]:
    needle = f"{INSTANCE_VAR}={instance}".encode()
    me = os.getpid()
    found: set[int] = set()
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().split(b"\0")
        except OSError:
            continue
        if needle in env:
            found.add(int(entry))
    return found


def group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def send(pid: int, sig: int, group: bool = False) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except OSError:
        pass


def sweep(instance: str, groups: dict[int, tuple[int, int, float]]) -> None:
    """Stop everything of ``instance``: tracked groups with their own signal, other marked processes with SIGTERM,
    then SIGKILL whatever outlives the longest grace."""
    procfs = os.path.isdir("/proc/self")
    victims = marked(instance)
    victim_groups = {group_of(pid) for pid in victims}
    tracked = {pgid for pgid, _, _ in groups.values()}
    grace = 0.0
    for pgid, sig, group_grace in groups.values():
        if not procfs or pgid in victim_groups:  # without /proc the mark cannot be checked: trust the tracking
            send(pgid, sig, group=True)
            grace = max(grace, group_grace)
    for pid in victims:
        if group_of(pid) not in tracked:
            send(pid, signal.SIGTERM)
            grace = max(grace, DEFAULT_GRACE)

    def alive() -> bool:
        return bool(marked(instance)) if procfs else any_alive(tracked)

    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and alive():
        time.sleep(0.05)
    for pid in marked(instance):
        send(pid, signal.SIGKILL)
    if not procfs:
        for pgid in tracked:
            send(pgid, signal.SIGKILL, group=True)
    deadline = time.monotonic() + KILL_WAIT
    while time.monotonic() < deadline and alive():
        time.sleep(0.05)


def any_alive(groups: set[int]) -> bool:
    for pgid in groups:
        try:
            os.killpg(pgid, 0)
            return True
        except OSError:
            continue
    return False


def main() -> None:
    instance = sys.argv[1]
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
        signal.signal(sig, signal.SIG_IGN)
    groups: dict[int, tuple[int, int, float]] = {}
    clean = False
    stdin = os.fdopen(0, "rb", buffering=0)
    pending = b""
    while True:
        try:
            chunk = stdin.read(4096)
        except OSError:
            chunk = b""
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            words = line.decode("ascii", "replace").split()
            if len(words) == 5 and words[0] == "track":
                groups[int(words[1])] = (int(words[2]), int(words[3]), float(words[4]))
            elif len(words) == 2 and words[0] == "untrack":
                groups.pop(int(words[1]), None)
            elif words == ["exit"]:
                clean = True
    if clean and not groups:
        return  # brummer stopped and reaped every run itself (and checked their trees were gone)
    sweep(instance, groups)


if __name__ == "__main__":
    main()
