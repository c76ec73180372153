"""A project's lock files leave the registry with the last brummer that held them, and the lock keeps one holder.

Removing a lock file races with another brummer that opened it just before: that one may then lock a file no name
points at any more while a third creates and locks a new one. After taking the flock a brummer checks that the name
still points at the file it locked, and starts over if not. The interleaving is made exact here (the first holder
leaves between the second's open and its flock), and a real multi-process run checks that no two ever hold it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import trio

from brummer import registry
from brummer.registry.entry import lock_name, mcp_lock_name, project_key
from brummer.registry.folder import Folder
from brummer.registry.instance import _new
from helpers import write_project
from helpers_cli import Brummer


def lock_files(root: Path) -> list[str]:
    key = project_key(root)
    with Folder.open() as folder:
        return sorted(name for name in folder.names() if name in (lock_name(key), mcp_lock_name(key)))


async def test_claim_and_close_leave_no_lock_files(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", Procfile="web: sleep 30\n")
    key = project_key(root)
    with await registry.claim(root, registry.Kind.UP, mcp=True) as up:
        assert lock_files(root) == [lock_name(key), mcp_lock_name(key)]
        up.mcp_settled()  # the MCP server listens: nobody needs to wait on its lock any more
        assert lock_files(root) == [lock_name(key)]
        assert await registry.wait_for_mcp(up.entry) == up.entry  # a late waiter finds no lock: nothing to wait for
    assert lock_files(root) == []
    with registry.register(root, registry.Kind.HEADLESS) as headless:
        assert lock_files(root) == []  # registered only
        headless.take_lock()
        assert lock_files(root) == [lock_name(key)]
    assert lock_files(root) == []


def test_a_holder_leaving_between_open_and_flock_lets_one_winner_through(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", Procfile="web: sleep 30\n")
    first, second, third = (_new(root, registry.Kind.UP, registry.McpState.OFF, None, False) for _ in range(3))
    assert first.try_lock()
    opened = second.folder.open_lock

    def open_then_first_leaves(name: str) -> int:
        fd = opened(name)
        if first.folder.fd >= 0:
            first.close()  # unlinks the lock file and releases it: `fd` is a file no name points at now
        return fd

    second.folder.open_lock = open_then_first_leaves  # type: ignore[method-assign]
    try:
        assert second.try_lock()
        assert not third.try_lock()  # the one winner is second, on the file its name points at
        assert lock_files(root) == [lock_name(project_key(root))]
    finally:
        for registration in (first, second, third):
            registration.close()
    assert lock_files(root) == []


CONTENDER = """
import os, sys
from pathlib import Path
from brummer import registry
from brummer.registry.instance import _new
root, marker, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
won = 0
for _ in range(rounds):
    me = _new(root, registry.Kind.UP, registry.McpState.OFF, None, False)
    try:
        if me.try_lock():
            won += 1
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)  # fails if another holds the lock too
            except FileExistsError:
                print("two holders at once", flush=True)
                sys.exit(1)
            os.close(fd)
            os.unlink(marker)
    finally:
        me.close()
print(won, flush=True)
"""


async def test_contenders_in_real_processes_never_hold_the_lock_together(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", Procfile="web: sleep 30\n")
    marker = tmp_path / "held"
    with trio.fail_after(120):
        done = []
        async with trio.open_nursery() as nursery:
            for _ in range(3):

                async def contend() -> None:
                    command = [sys.executable, "-c", CONTENDER, str(root), str(marker), "400"]
                    done.append(await trio.run_process(command, capture_stdout=True, check=False))

                nursery.start_soon(contend)
    for result in done:
        assert result.returncode == 0, result.stdout
    assert sum(int(result.stdout) for result in done) > 0
    assert lock_files(root) == []


@pytest.mark.parametrize("mcp", [True, False])
async def test_brummer_up_leaves_no_lock_files(tmp_path: Path, mcp: bool) -> None:
    root = write_project(tmp_path / "p", Procfile="web: sleep 30\n")
    up = await Brummer.start(["up", "--plain", *(["--mcp-port", "0"] if mcp else ["--no-mcp"])], root)
    try:
        await up.wait_output("web     » running")
        assert lock_name(project_key(root)) in lock_files(root)
    finally:
        assert await up.stop() == 130
    assert lock_files(root) == []
    with Folder.open() as folder:
        assert not any(name.endswith(".lock") for name in folder.names())
