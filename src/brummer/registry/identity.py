"""Is a pid still the brummer that wrote a registry entry?

A pid alone proves nothing: pids are recycled and an entry outlives a ``kill -9``. So an entry records its writer's
pid *and* the start time of that process: on Linux field 22 of ``/proc/PID/stat`` (clock ticks since boot),
elsewhere what ``ps -o lstart=`` prints. A reader believes an entry only if that pid is alive, started at that
time, belongs to this user and runs brummer (its command line names ``brummer``: ``brummer ...`` or
``python -m brummer ...``). This process's own entries are believed on the first three alone (tests and
benchmarks serve MCP from inside pytest).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from enum import StrEnum

LINUX = sys.platform.startswith("linux")
PS_TIMEOUT = 2.0


class Trust(StrEnum):
    BELIEVED = "believed"  # the brummer that wrote the entry, still running
    GONE = "gone"  # no such process, or the pid was recycled (another start time): the entry is stale
    FOREIGN = "foreign"  # that very process, but not brummer or not ours: never believed, not ours to remove


@dataclass(frozen=True, slots=True)
class Seen:
    """What the system says about a live pid."""

    start: str
    uid: int
    argv: tuple[str, ...]


def inspect(pid: int) -> Seen | None:
    """The start fingerprint, owner and command line of ``pid``; None if it is gone (or a zombie)."""
    if pid <= 0:
        return None
    return _from_proc(pid) if LINUX else _from_ps(pid)


def fingerprint(pid: int) -> str:
    """The start fingerprint of ``pid`` (this process's, for its own entry); empty if it cannot be read."""
    seen = inspect(pid)
    return seen.start if seen is not None else ""


def check(pid: int, start: str) -> Trust:
    """Whether ``pid`` is alive, is the process that started at ``start``, is ours and runs brummer."""
    seen = inspect(pid)
    if seen is None or not start or seen.start != start:
        return Trust.GONE
    if seen.uid != os.getuid() or not (pid == os.getpid() or runs_brummer(seen.argv)):
        return Trust.FOREIGN
    return Trust.BELIEVED


def runs_brummer(argv: tuple[str, ...]) -> bool:
    """``brummer ...``, ``python /path/to/bin/brummer ...`` or ``python [options] -m brummer ...``."""
    if not argv:
        return False
    program = os.path.basename(argv[0])
    if program == "brummer":
        return True
    if not program.lower().startswith("python"):
        return False
    for i, arg in enumerate(argv[1:], 1):
        if arg == "-m":
            return argv[i + 1 : i + 2] == ("brummer",)
        if arg == "-c":
            return False
        if not arg.startswith("-"):
            return os.path.basename(arg) == "brummer"
    return False


def _from_proc(pid: int) -> Seen | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        uid = os.stat(f"/proc/{pid}").st_uid
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read(64 * 1024)
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    if len(fields) < 20 or fields[0] == b"Z":
        return None
    argv = tuple(arg.decode("utf-8", "replace") for arg in cmdline.split(b"\0") if arg)
    return Seen(fields[19].decode(), uid, argv)


def _from_ps(pid: int) -> Seen | None:
    """macOS and other systems without /proc: one ``ps`` (a few ms; only when a registry entry is checked)."""
    try:
        done = subprocess.run(
            ["ps", "-ww", "-o", "uid=", "-o", "lstart=", "-o", "args=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=PS_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 7 or not words[0].isdigit():
        return None  # uid, then lstart's five words ("Mon Nov 30 10:44:00 2025"), then the command line
    return Seen(" ".join(words[1:6]), int(words[0]), tuple(words[6:]))
