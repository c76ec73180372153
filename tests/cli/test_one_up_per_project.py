"""One `brummer up` per project, decided by a lock in the instance registry; nothing written in the project folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import trio

from brummer import registry
from helpers import PY, write_project
from helpers_cli import INTERRUPT, Brummer, first_to_exit, pids_in


def counting_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project whose one process records its pid in a file: how many times was it started?"""
    starts = tmp_path / "starts"
    return write_project(tmp_path / "proj", Procfile=f"web: echo $$ >> {starts}; exec sleep 60\n"), starts


async def test_a_second_up_exits_2_naming_the_first(tmp_path: Path) -> None:
    root, starts = counting_project(tmp_path)
    first = await Brummer.start(["up", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        await first.wait_output("web     » running")
        second = await Brummer.start(["up", "--dir", str(root), "--mcp-port", "0"], tmp_path)
        assert await second.wait() == 2
        line = f"brummer: {root} already runs in brummer up (pid {first.proc.pid}, since "
        assert second.output.startswith(line) and second.output.count("\n") == 1
        assert second.output.rstrip().endswith(f"reach it with `brummer mcp --dir {root}`, or where it was started")
        assert len(pids_in(starts)) == 1  # the second one started nothing
        up = registry.find_up(root)  # and left the first one's entry alone
        assert up is not None and up.pid == first.proc.pid and up.runs
        await first.wait_output("web     » running")
        assert first.proc.poll() is None
    finally:
        assert await first.stop() == 130
    assert registry.entries(root) == []
    third = await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path)  # the lock went with the first one
    try:
        await third.wait_output("web     » running")
    finally:
        await third.stop()


async def test_two_ups_started_at_once_have_one_winner(tmp_path: Path) -> None:
    for round_ in range(3):
        root, starts = counting_project(tmp_path / str(round_))
        both = [await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path) for _ in range(2)]
        try:
            with trio.fail_after(60):
                loser = await first_to_exit(*both)
            (winner,) = [b for b in both if b is not loser]
            assert await loser.wait() == 2, loser.output
            assert f"already runs in brummer up (pid {winner.proc.pid}," in loser.output
            await winner.wait_output("web     » running")
            assert len(pids_in(starts)) == 1
            assert [e.pid for e in registry.entries(root)] == [winner.proc.pid]
        finally:
            for brummer in both:
                await brummer.stop()
        assert len(pids_in(starts)) == 1


async def test_nothing_is_written_in_the_project_folder(tmp_path: Path) -> None:
    """A cloned repository's `.brummer/` is neither read nor written, and symlinks there reach nothing."""
    root, _ = counting_project(tmp_path)
    planted = root / ".brummer"
    planted.mkdir()
    precious = tmp_path / "precious"
    precious.write_text("precious\n")
    (planted / "up.json").symlink_to(precious)
    (planted / ".gitignore").symlink_to(tmp_path / "created-elsewhere")  # dangling
    remote = {"ws": "ws://192.0.2.1:7777/ws", "http": "http://192.0.2.1:7777/mcp"}
    (planted / "instance.json").write_text(json.dumps({"pid": 1, "token": "x", "mcp": remote}))
    before = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    up = await Brummer.start(["up", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        await up.wait_output("web     » running")
        await up.wait_output("(token in ", timeout=60)  # its MCP server came up: pid 1 did not stop it
        entry = registry.find_up(root)
        assert entry is not None and entry.connectable
        assert f"(token in {registry.location() / entry.name})" in up.output
    finally:
        assert await up.stop() == 130
    assert precious.read_text() == "precious\n"
    assert not (tmp_path / "created-elsewhere").exists()
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == before

    clean, _ = counting_project(tmp_path / "clean")
    up = await Brummer.start(["up", "--dir", str(clean), "--mcp-port", "0"], tmp_path)
    try:
        await up.wait_output("(token in ", timeout=60)
    finally:
        await up.stop()
    assert os.listdir(clean) == ["Procfile"]


STUBBORN = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1], "a") as starts:
    starts.write(f"{os.getpid()}\\n")
print("up", flush=True)
time.sleep(600)
"""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


async def test_after_kill_9_a_new_up_waits_for_the_guardian(tmp_path: Path) -> None:
    """The guardian of a SIGKILLed brummer up holds the project's lock until it has stopped what that brummer left
    running: a new brummer up says so and waits, instead of starting the project's processes next to the old ones."""
    starts = tmp_path / "starts"
    (tmp_path / "stubborn.py").write_text(STUBBORN)
    cmd = f"{PY} {tmp_path / 'stubborn.py'} {starts}"
    root = write_project(tmp_path / "p", brummer_toml=f'[processes.web]\ncmd = "{cmd}"\nready = "none"\ngrace = 6\n')
    first = await Brummer.start(["up", "--plain", "--no-mcp", "--dir", str(root)], tmp_path)
    try:
        await first.wait_output("web     | up")
    finally:
        await first.kill()  # SIGKILL: its guardian stops web, which ignores SIGTERM, after web's 6 s grace
    (old,) = pids_in(starts)
    second = await Brummer.start(["up", "--plain", "--no-mcp", "--dir", str(root)], tmp_path)
    try:
        await second.wait_output(f"brummer: the brummer (pid {first.proc.pid}) that ran {root} was killed; waiting")
        assert alive(old) and len(pids_in(starts)) == 1  # the old web still runs, the new brummer started nothing
        await second.wait_output("web     | up")
        new = pids_in(starts)[1]
        assert not alive(old) and alive(new)
    finally:
        try:
            second.signal(INTERRUPT)
            await second.wait_output("stopping every process")
        finally:
            code = await second.stop()  # the second Ctrl-C skips the grace periods (and stop() never leaves it)
    assert code == 130
