"""Who a process is, read from /proc (Linux): its command line (shortened for one line), its user, and for a process
that another brummer started, that brummer's instance, process name and project.

For the note that explains a taken port (``port_watch``): ``port 5173 is taken by pid 1234 (node .../vite), started
by the brummer of ~/shop``. Every reader treats a process that vanished or cannot be read as absent.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from brummer.supervise.tree import INSTANCE_VAR

COMMAND_WIDTH = 60


@dataclass(frozen=True, slots=True)
class Holder:
    """A process that holds a listening socket, as far as it can be read."""

    pid: int
    command: str  # from /proc/PID/cmdline, paths shortened, clipped
    uid: int
    instance: str | None  # its BRUMMER_INSTANCE, if it carries one (and its environment is readable)
    process: str | None  # its BRUMMER_PROCESS
    project: str | None  # for another brummer's process: that brummer's project directory, if found


def parent_and_group(pid: str) -> tuple[int, int] | None:
    """(parent pid, process group) of ``pid``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return (int(fields[1]), int(fields[2])) if len(fields) > 2 else None


def _read(pid: int, name: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read(1 << 20)
    except OSError:
        return b""


def _environ(pid: int) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in _read(pid, "environ").split(b"\0"):
        key, sep, value = item.partition(b"=")
        if sep and key in (b"BRUMMER_INSTANCE", b"BRUMMER_PROCESS", b"BRUMMER_RUN"):
            env[key.decode()] = value.decode(errors="replace")
    return env


def argv_of(pid: int) -> list[str]:
    return [arg.decode(errors="replace") for arg in _read(pid, "cmdline").split(b"\0") if arg]


def short_command(argv: list[str], width: int = COMMAND_WIDTH) -> str:
    """``node .../vite --port 5173``: the program's name, paths cut to their last part, clipped to ``width``."""
    if not argv:
        return "?"
    words = [os.path.basename(argv[0])]
    words += [_short_path(arg) for arg in argv[1:]]
    text = " ".join(" ".join(words).split())  # newlines and runs of spaces of inline code, folded
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_path(arg: str) -> str:
    """A path's last part; anything else (inline code, a URL, ``--flag=a/b``) as it is."""
    if "/" not in arg.strip("/") or "://" in arg or any(c in arg for c in " \t\n'\"();=,"):
        return arg
    return ".../" + os.path.basename(arg.rstrip("/"))


def _uid(pid: int) -> int:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return -1


def describe(pid: int) -> Holder:
    env = _environ(pid)
    instance = env.get(INSTANCE_VAR)
    project = _project_of(pid, instance) if instance else None
    return Holder(pid, short_command(argv_of(pid)), _uid(pid), instance, env.get("BRUMMER_PROCESS"), project)


def _project_of(pid: int, instance: str) -> str | None:
    """The project directory of the brummer that started ``pid``: the nearest ancestor without its mark (every
    child of a brummer is its child, or re-parented to it as the subreaper), from ``--dir`` or its cwd."""
    for _ in range(64):
        stat = parent_and_group(str(pid))
        if stat is None or stat[0] <= 1:
            return None
        pid = stat[0]
        if _environ(pid).get(INSTANCE_VAR) == instance:
            continue
        argv = argv_of(pid)
        if not any("brummer" in arg for arg in argv[:3]):
            return None
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            return None
        for i, arg in enumerate(argv):
            if arg == "--dir" and i + 1 < len(argv):
                return str(cwd / argv[i + 1])
            if arg.startswith("--dir="):
                return str(cwd / arg[6:])
        return str(cwd)
    return None


def user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
