"""Starting children, the one way brummer starts them.

Every child: its own session (so its whole tree is one process group brummer can signal), stdout and stderr on
separate pipes enlarged to 1 MiB (fewer wake-ups under a flood), stdin from /dev/null, ``FORCE_COLOR=1`` (unless
``NO_COLOR`` is set) and the instance and run marks in its environment. Each pid is registered so the orphan
reaper leaves it to Trio.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import secrets
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import trio

from brummer.errors import SpawnError
from brummer.supervise.tree import INSTANCE_VAR, LINUX, RUN_VAR

PIPE_SIZE = 1 << 20
PR_SET_CHILD_SUBREAPER = 36


def make_subreaper() -> bool:
    """Become a child subreaper (Linux): orphaned descendants are re-parented to brummer, not init, so escapees
    stay findable and are reaped by us. Returns whether it worked."""
    if not LINUX:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _enlarge(stream: object) -> None:
    fileno = getattr(stream, "fileno", None)
    if fileno is None or not hasattr(fcntl, "F_SETPIPE_SZ"):
        return
    with contextlib.suppress(OSError):
        fcntl.fcntl(fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)


def _check_cwd(cwd: Path) -> None:
    if not cwd.is_dir():
        raise SpawnError(f"working directory {cwd} does not exist")


class Spawner:
    """Spawns children for one brummer instance and remembers which pids Trio is responsible for."""

    def __init__(self, instance: str | None = None, base_env: Mapping[str, str] | None = None) -> None:
        self.instance = instance or secrets.token_hex(8)
        self.base_env = dict(os.environ if base_env is None else base_env)
        self.managed: set[int] = set()
        self.spawning = 0  # Trio forks in a worker thread: until the pid is registered, the reaper must wait
        self._spawned = trio.lowlevel.ParkingLot()  # woken when no fork is in flight any more

    def mark(self, run_id: str) -> str:
        return f"{self.instance}/{run_id}"

    def child_env(self, extra: Mapping[str, str], run_id: str, name: str) -> dict[str, str]:
        env = dict(self.base_env)
        env.update(extra)
        if "FORCE_COLOR" not in extra and not env.get("NO_COLOR"):
            # Children see a pipe, not a terminal: keep their colours, unless the user asked for none (then Node
            # would warn "The 'NO_COLOR' env is ignored due to the 'FORCE_COLOR' env being set" in every process).
            env["FORCE_COLOR"] = "1"
        env[INSTANCE_VAR] = self.instance
        env[RUN_VAR] = self.mark(run_id)
        env["BRUMMER_PROCESS"] = name
        return env

    async def open(self, argv: list[str], **options: Any) -> trio.Process:
        """``trio.lowlevel.open_process`` with the pid registered before the reaper can see it."""
        self.spawning += 1
        try:
            proc: trio.Process = await trio.lowlevel.open_process(argv, **options)
            self.managed.add(proc.pid)
        finally:
            self.spawning -= 1
            if not self.spawning:
                self._spawned.unpark_all()
        return proc

    async def wait_no_spawn(self) -> None:
        """Return once no fork is in flight (at once if none is)."""
        while self.spawning:
            await self._spawned.park()

    async def spawn(self, command: str | tuple[str, ...], cwd: Path, env: Mapping[str, str]) -> trio.Process:
        """Start ``command`` in its own session with piped stdout/stderr; raise SpawnError if it cannot start."""
        argv = list(command) if isinstance(command, tuple) else ["/bin/sh", "-c", command]
        _check_cwd(cwd)
        try:
            proc = await self.open(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            raise SpawnError(f"command not found: {argv[0]}") from exc
        except PermissionError as exc:
            raise SpawnError(f"permission denied: {exc.filename or argv[0]}") from exc
        except OSError as exc:
            raise SpawnError(f"cannot start {argv[0]}: {exc.strerror or exc}") from exc
        _enlarge(proc.stdout)
        _enlarge(proc.stderr)
        return proc

    async def run_check(self, command: str, cwd: Path, env: Mapping[str, str], within: float) -> int | None:
        """Run a readiness ``exec`` command to completion (own session, killed on timeout); its exit status
        (negative: the signal that ended it), or None if it did not finish within ``within`` seconds."""
        proc = await self.open(
            ["/bin/sh", "-c", command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,
        )
        try:
            with trio.move_on_after(within):
                return await proc.wait()
            return None
        finally:
            with trio.CancelScope(shield=True):
                if proc.returncode is None:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(proc.pid, 9)
                    await proc.wait()
            self.managed.discard(proc.pid)

    def forget(self, pid: int) -> None:
        self.managed.discard(pid)
