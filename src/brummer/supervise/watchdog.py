"""brummer's end of the guardian (see ``guardian.py``): start it, tell it about runs, let it go."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import trio

from brummer.supervise.spawn import Spawner
from brummer.supervise.tree import INSTANCE_VAR, RUN_VAR

GUARDIAN = Path(__file__).with_name("guardian.py")
GUARDIAN_NICE = 10
EXIT_WAIT = 3.0  # a clean exit's sweep takes milliseconds; do not hang brummer's exit on a stuck guardian


class Guardian:
    def __init__(self, proc: trio.Process, fd: int) -> None:
        self.proc = proc
        self._fd: int | None = fd

    @classmethod
    async def start(cls, spawner: Spawner, lock_fd: int | None = None) -> Guardian:
        """The guardian, holding ``lock_fd`` (the project lock) too: after a ``kill -9`` of brummer the project is
        not free until the guardian has stopped what brummer left running (``registry.instance``)."""
        read_end, write_end = os.pipe()
        env = {k: v for k, v in os.environ.items() if k not in (INSTANCE_VAR, RUN_VAR)}
        try:
            proc = await spawner.open(
                [sys.executable, "-I", "-S", str(GUARDIAN), spawner.instance],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                close_fds=True,
                pass_fds=() if lock_fd is None else (lock_fd,),
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        with contextlib.suppress(OSError):
            # A low CPU priority at once, so that its interpreter start does not compete with brummer's first
            # children on a small machine; but not the lowest: after a kill -9 it must keep its promise (grace + 2 s)
            # with every core busy. Without autogroup, nice 19 against nice-0 busy loops gets ~1.5% of a core and
            # waits long for each wake-up (docs/benchmarks.md: --grace 1, all gone after 2.1 s, up to 2.5 s);
            # nice 10 gets ~10% (1.3 s). A nice value cannot be lowered again unprivileged: it is chosen once, here.
            os.setpriority(os.PRIO_PROCESS, proc.pid, GUARDIAN_NICE)
        return cls(proc, write_end)

    def _send(self, line: str) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, line.encode() + b"\n")  # a few bytes into a pipe the guardian drains: never blocks
        except OSError:
            self._fd = None

    def track(self, pid: int, pgid: int, signum: int, grace: float, mark: str) -> None:
        """A run started: its group, stop signal, grace and ``BRUMMER_RUN`` mark (hex: a name may hold any byte)."""
        self._send(f"track {pid} {pgid} {signum} {grace!r} {os.fsencode(mark).hex()}")

    def untrack(self, pid: int) -> None:
        self._send(f"untrack {pid}")

    async def close(self) -> None:
        """Clean shutdown (every run stopped and reaped): the guardian exits at once; we reap it."""
        self._send("exit")
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        with trio.move_on_after(EXIT_WAIT):
            await self.proc.wait()
