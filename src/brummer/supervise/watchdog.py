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
EXIT_WAIT = 3.0  # a clean exit's sweep takes milliseconds; do not hang brummer's exit on a stuck guardian


class Guardian:
    def __init__(self, proc: trio.Process, fd: int) -> None:
        self.proc = proc
        self._fd: int | None = fd

    @classmethod
    async def start(cls, spawner: Spawner) -> Guardian:
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
            )
        except BaseException:
            os.close(write_end)
            raise
        finally:
            os.close(read_end)
        with contextlib.suppress(OSError):
            # Lowest CPU priority at once: its interpreter start must not compete with brummer's first children
            # on a small machine. It only ever waits on a pipe, and its cleanup (if brummer dies) has no hurry.
            os.setpriority(os.PRIO_PROCESS, proc.pid, 19)
        return cls(proc, write_end)

    def _send(self, line: str) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, line.encode() + b"\n")  # a few bytes into a pipe the guardian drains: never blocks
        except OSError:
            self._fd = None

    def track(self, pid: int, pgid: int, signum: int, grace: float) -> None:
        self._send(f"track {pid} {pgid} {signum} {grace}")

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
