"""Running the real ``brummer`` command in a child process, as a user would.

Children are trio processes: a test waits for one's exit on its pidfd (``Brummer.wait``), never by polling. Its
output goes to a file (a child never blocks on a pipe nobody reads), which ``wait_output`` looks at until the text
is there: a file growing is no event a test can wait on.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import trio

from brummer import registry
from helpers import pid_alive, wait_until

BRUMMER = [sys.executable, "-m", "brummer"]
INTERRUPT = signal.SIGINT  # (the class below has a method named `signal`)
_numbers = itertools.count(1)


def _env(env: dict[str, str] | None) -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", **(env or {})}


class Brummer:
    """A ``brummer`` command running in the background with its output in a file: ``await Brummer.start(...)``."""

    def __init__(self, proc: trio.Process, out: Path) -> None:
        self.proc = proc
        self.out = out

    @classmethod
    async def start(cls, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Brummer:
        out = cwd / f"brummer-{os.getpid()}-{next(_numbers)}.out"
        sink = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            proc = await trio.lowlevel.open_process(
                BRUMMER + args,
                cwd=cwd,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=_env(env),
                start_new_session=True,  # like a terminal's job: our test runner is not in its group
            )
        finally:
            os.close(sink)
        return cls(proc, out)

    @property
    def output(self) -> str:
        return self.out.read_text(errors="replace")

    async def wait_output(self, text: str, timeout: float = 30) -> None:
        def there() -> bool:
            if text in self.output:
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"brummer exited ({self.proc.returncode}) before {text!r}:\n{self.output}")
            return False

        await wait_until(there, within=timeout)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 30) -> int:
        with trio.fail_after(timeout):
            return await self.proc.wait()

    async def stop(self, sig: int = INTERRUPT, timeout: float = 30) -> int | None:
        """Ask brummer to stop (if it still runs) and wait; SIGKILL it if that takes too long. For ``finally``:
        never raises, never leaves brummer running."""
        try:
            if self.proc.poll() is None:
                self.signal(sig)
            return await self.wait(timeout)
        except trio.TooSlowError:
            return None
        finally:
            await self.kill()

    async def kill(self) -> None:
        """SIGKILL (brummer's guardian then cleans up after it), and reap it."""
        with trio.CancelScope(shield=True):  # also from a ``finally`` of a cancelled test
            if self.proc.poll() is None:
                self.proc.kill()
            await self.proc.wait()


class Up(Brummer):
    """``brummer up --plain`` of a project, its MCP server on a free port: ``await Up.launch(root, cwd)``."""

    def __init__(self, started: Brummer, root: Path) -> None:
        super().__init__(started.proc, started.out)
        self.root = root

    @classmethod
    async def launch(cls, root: Path, cwd: Path) -> Up:
        return cls(await Brummer.start(["up", "--plain", "--dir", str(root), "--mcp-port", "0"], cwd), root)

    def entry(self) -> registry.Entry | None:
        """Its registry entry, if its MCP server listens."""
        assert self.proc.poll() is None, f"brummer up exited:\n{self.output}"
        found = registry.find_up(self.root)
        return found if found is not None and found.pid == self.proc.pid and found.connectable else None

    async def serving(self, timeout: float = 60) -> registry.Entry:
        """Its registry entry, once its MCP server listens (the registry file is written by another process)."""
        await wait_until(self.entry, within=timeout)
        found = self.entry()
        assert found is not None
        return found


def run_brummer(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """A command to its end, for tests that are not async."""
    return subprocess.run(BRUMMER + args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env(env))


async def run_brummer_async(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """``run_brummer`` for async tests: its output as bytes, its exit code whatever it is."""
    with trio.fail_after(timeout):
        return await trio.run_process(
            BRUMMER + args, cwd=cwd, capture_stdout=True, capture_stderr=True, env=_env(env), check=False
        )


async def first_to_exit(*commands: Brummer) -> Brummer:
    """The first of ``commands`` to exit (woken by its exit, not by looking)."""
    first: list[Brummer] = []
    async with trio.open_nursery() as race:

        async def wait(command: Brummer) -> None:
            await command.proc.wait()
            first.append(command)
            race.cancel_scope.cancel()

        for command in commands:
            race.start_soon(wait, command)
    return first[0]


def pids_in(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def wait_all_gone(pids: list[int], timeout: float) -> None:
    await wait_until(lambda: not any(pid_alive(p) for p in pids), within=timeout)
