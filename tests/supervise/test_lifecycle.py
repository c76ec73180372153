"""A process's states, exit codes, run ids and pipes, with real children."""

from __future__ import annotations

from pathlib import Path

import pytest

from brummer.bus import ProcessChanged
from brummer.logs.kinds import Stream
from brummer.supervise.state import ProcState
from helpers import PY, load, running, write_project


async def test_exit_codes_and_states(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml="""
        default = ["ok", "bad", "missing"]
        [processes.ok]
        cmd = "echo hello; echo oops >&2"
        [processes.bad]
        cmd = "exit 3"
        [processes.missing]
        cmd = ["/nonexistent/binary"]
        """,
    )
    async with running(load(root)) as r:
        await r.wait_for(lambda: r.sup.idle)
        events = await r.events.receive_batch()
        ok, bad, missing = r.sup.info("ok"), r.sup.info("bad"), r.sup.info("missing")
        assert (ok.state, ok.exit_code) == (ProcState.EXITED, 0)
        assert (bad.state, bad.exit_code) == (ProcState.FAILED, 3)
        assert missing.state is ProcState.FAILED and "not found" in missing.message
        assert r.text("ok", Stream.STDOUT) == ["hello"]
        assert r.text("ok", Stream.STDERR) == ["oops"]
        assert r.sup.outcome() == 1
        assert ok.run_id != bad.run_id
        states = [str(e.info.state) for e in events if isinstance(e, ProcessChanged) and e.info.name == "bad"]
        assert states == ["starting", "running", "failed"]


async def test_signal_death_is_recorded(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile="selfkill: kill -9 $$\n")
    async with running(load(root)) as r:
        await r.wait_for(lambda: r.sup.idle)
        info = r.sup.info("selfkill")
        assert info.state is ProcState.FAILED
        assert info.exit_signal == 9
        assert "SIGKILL" in info.describe_exit()


async def test_run_ids_are_unique_across_restarts(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile=f"loop: {PY} -c 'import time; time.sleep(60)'\n")
    async with running(load(root)) as r:
        ids = set()
        for _ in range(3):
            await r.wait_state("loop", ProcState.RUNNING, ProcState.READY)
            ids.add(r.sup.info("loop").run_id)
            await r.sup.restart("loop")
        assert len(ids) == 3
        assert r.sup.info("loop").restarts == 3


async def test_binary_garbage_and_huge_lines_are_stored_safely(tmp_path: Path) -> None:
    script = tmp_path / "noisy.py"
    script.write_text(
        "import sys\n"
        "out = sys.stdout.buffer\n"
        "out.write(b'bad utf8: \\xff\\xfe end\\n')\n"
        "out.write(b'nul: a\\x00b\\n')\n"
        "out.write(b'x' * (10 * 1024 * 1024) + b'\\n')\n"
        "out.write(b'after the big one\\n')\n"
        "out.write(b'no newline at the end')\n"
    )
    root = write_project(tmp_path / "p", Procfile=f"noisy: {PY} {script}\n")
    async with running(load(root)) as r:
        await r.wait_for(lambda: r.sup.idle)
        lines = r.text("noisy")
        assert lines[0] == "bad utf8: \ufffd\ufffd end"
        assert lines[1] == "nul: a\x00b"
        assert len(lines[2]) < 70_000 and "line cut by brummer: 10,485,760 bytes" in lines[2]
        assert lines[2].startswith("x" * 1000)
        assert lines[3:] == ["after the big one", "no newline at the end"]
        assert r.sup.info("noisy").exit_code == 0


async def test_finished_only_when_everything_ended_on_its_own(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile="quick: true\nlong: sleep 30\n")
    async with running(load(root)) as r:
        await r.wait_state("quick", ProcState.EXITED)
        assert not r.sup.finished()  # long still runs
        await r.sup.stop("long")
        assert r.sup.idle and not r.sup.finished()  # stopped on request: stay up for the next one
        await r.sup.start("long")
        await r.wait_state("long", ProcState.RUNNING)


async def test_after_a_request_it_is_never_finished_even_when_the_requested_run_fails(tmp_path: Path) -> None:
    """A restart by hand (panel, agent, remote command) that fails must not end `brummer up` under the agent."""
    root = write_project(tmp_path, Procfile="job: exit 3\n")
    async with running(load(root)) as r:
        await r.wait_for(lambda: r.sup.idle)
        assert r.sup.finished()  # ended on its own, nothing asked for: brummer up exits
        info = await r.sup.restart("job")
        await r.wait_for(lambda: r.sup.idle)
        assert info.restarts == 1 and r.state("job") is ProcState.FAILED
        assert not r.sup.finished()  # it failed, but it was asked for: stay up for the next request


async def test_children_get_force_color_and_the_run_marks(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile='env: echo "$FORCE_COLOR $BRUMMER_PROCESS ${BRUMMER_RUN#*/}"\n')
    async with running(load(root)) as r:
        await r.wait_for(lambda: r.sup.idle)
        assert r.text("env") == [f"1 env {r.sup.info('env').run_id}"]


async def test_no_color_reaches_children_without_force_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    root = write_project(tmp_path, Procfile='env: echo "force=${FORCE_COLOR-unset} no=$NO_COLOR"\n')
    async with running(load(root)) as r:
        await r.wait_for(lambda: r.sup.idle)
        assert r.text("env") == ["force=unset no=1"]
