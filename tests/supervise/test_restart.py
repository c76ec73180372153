"""Restart policies, limits and exponential backoff."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import trio
import trio.testing

from brummer.bus import ProcessChanged
from brummer.supervise.state import ProcState
from helpers import load, running, write_project


def flaky(tmp_path: Path, policy: str, cmd: str, max_restarts: int = 3) -> Path:
    return write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.flaky]
        cmd = "{cmd}"
        restart = "{policy}"
        max_restarts = {max_restarts}
        """,
    )


async def test_on_failure_restarts_until_the_limit(tmp_path: Path) -> None:
    project = load(flaky(tmp_path, "on-failure", "echo try; exit 1", 2))
    spec = dataclasses.replace(project.processes["flaky"], backoff_initial=0.01)
    project = dataclasses.replace(project, processes={**project.processes, "flaky": spec})
    async with running(project, ["flaky"]) as r:
        await r.wait_for(lambda: r.sup.idle)
        info = r.sup.info("flaky")
        assert info.state is ProcState.FAILED and info.restarts == 2
        assert info.message == "gave up after 2 restarts: exit code 1"
        assert r.text("flaky") == ["try"] * 3


async def test_on_failure_leaves_a_clean_exit_alone(tmp_path: Path) -> None:
    async with running(load(flaky(tmp_path, "on-failure", "exit 0")), ["flaky"]) as r:
        await r.wait_for(lambda: r.sup.idle)
        assert r.sup.info("flaky").restarts == 0


@pytest.fixture
def patient_clock() -> trio.testing.MockClock:
    """Virtual time that jumps only after 50 ms of real idleness: the backoff sleeps are skipped, but the clock
    does not race ahead while a real child process is starting or exiting (a threshold of 0 would)."""
    return trio.testing.MockClock(autojump_threshold=0.05)


async def test_always_restarts_clean_exits_with_backoff(tmp_path: Path, patient_clock: trio.testing.MockClock) -> None:
    project = load(flaky(tmp_path, "always", "exit 0", 3))
    async with running(project, ["flaky"]) as r:
        with trio.fail_after(600):  # virtual seconds
            await r.sup.wait_idle()
        events = await r.events.receive_batch()
        delays = [
            e.info.message for e in events if isinstance(e, ProcessChanged) and e.info.state is ProcState.BACKING_OFF
        ]
        assert r.sup.info("flaky").restarts == 3
        assert delays == ["restart 1 of 3 in 1s", "restart 2 of 3 in 2s", "restart 3 of 3 in 4s"]
        assert r.sup.info("flaky").message == "gave up after 3 restarts: exit code 0"


async def test_no_policy_never_restarts(tmp_path: Path) -> None:
    async with running(load(flaky(tmp_path, "no", "exit 1")), ["flaky"]) as r:
        await r.wait_for(lambda: r.sup.idle)
        assert r.sup.info("flaky").restarts == 0
