"""Running the real ``brummer`` command in a child process, as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import trio

from helpers import pid_alive

BRUMMER = [sys.executable, "-m", "brummer"]
INTERRUPT = signal.SIGINT  # (the class below has a method named `signal`)


class Brummer:
    """A ``brummer`` command running in the background with its output in a file."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.out = cwd / f"brummer-{os.getpid()}-{id(self)}.out"
        full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
        with open(self.out, "wb") as sink:
            self.proc = subprocess.Popen(
                BRUMMER + args,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=full_env,
                start_new_session=True,  # like a terminal's job: our test runner is not in its group
            )

    @property
    def output(self) -> str:
        return self.out.read_text(errors="replace")

    async def wait_output(self, text: str, timeout: float = 30) -> None:
        with trio.fail_after(timeout):
            while text not in self.output:
                if self.proc.poll() is not None:
                    raise AssertionError(f"brummer exited ({self.proc.returncode}) before {text!r}:\n{self.output}")
                await trio.sleep(0.05)

    def signal(self, sig: int) -> None:
        os.kill(self.proc.pid, sig)

    async def wait(self, timeout: float = 30) -> int:
        with trio.fail_after(timeout):
            while self.proc.poll() is None:
                await trio.sleep(0.05)
        return self.proc.returncode

    async def stop(self, sig: int = INTERRUPT, timeout: float = 30) -> int | None:
        """Ask brummer to stop (if it still runs) and wait; SIGKILL it if that takes too long. For ``finally``:
        never raises, never leaves brummer running."""
        try:
            if self.proc.poll() is None:
                self.signal(sig)
            return await self.wait(timeout)
        except (ProcessLookupError, trio.TooSlowError):
            return None
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


def run_brummer(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        BRUMMER + args,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def pids_in(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def wait_all_gone(pids: list[int], timeout: float) -> None:
    with trio.fail_after(timeout):
        while any(pid_alive(p) for p in pids):
            await trio.sleep(0.05)
