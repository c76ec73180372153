"""depends_on conditions gate the start: started, ready, completed, succeeded."""

from __future__ import annotations

from pathlib import Path

from brummer.supervise.state import ProcState
from helpers import load, running, write_project


def project(tmp_path: Path, dep_cmd: str, condition: str, dep_ready: str = '"none"') -> Path:
    return write_project(
        tmp_path,
        brummer_toml=f"""
        default = ["app"]
        [processes.dep]
        cmd = "{dep_cmd}"
        ready = {dep_ready}
        [processes.app]
        cmd = "echo app ran"
        depends_on = {{ dep = "{condition}" }}
        """,
    )


async def test_started_lets_the_dependent_run_while_the_dependency_runs(tmp_path: Path) -> None:
    async with running(load(project(tmp_path, "sleep 30", "started"))) as r:
        await r.wait_state("app", ProcState.EXITED)
        assert r.state("dep") is ProcState.RUNNING


async def test_ready_waits_for_the_readiness_check(tmp_path: Path) -> None:
    root = project(tmp_path, "sleep 0.3; echo listening; sleep 30", "ready", '{ log = "listening" }')
    async with running(load(root)) as r:
        await r.wait_state("dep", ProcState.RUNNING)
        assert r.state("app") is ProcState.PENDING
        assert "waiting for dep (ready)" in r.sup.info("app").message
        await r.wait_state("app", ProcState.EXITED)
        assert r.state("dep") is ProcState.READY
        assert r.text("app") == ["app ran"]


async def test_completed_accepts_any_exit_code(tmp_path: Path) -> None:
    async with running(load(project(tmp_path, "exit 4", "completed"))) as r:
        await r.wait_state("app", ProcState.EXITED)
        assert r.sup.info("dep").exit_code == 4


async def test_succeeded_runs_after_a_clean_exit(tmp_path: Path) -> None:
    async with running(load(project(tmp_path, "exit 0", "succeeded"))) as r:
        await r.wait_state("app", ProcState.EXITED)
        assert r.text("app") == ["app ran"]


async def test_succeeded_fails_the_dependent_when_the_dependency_fails(tmp_path: Path) -> None:
    async with running(load(project(tmp_path, "exit 1", "succeeded"))) as r:
        await r.wait_state("app", ProcState.FAILED)
        info = r.sup.info("app")
        assert info.run_id is None and "dep (succeeded)" in info.message
        assert r.sup.outcome() == 1


async def test_starting_a_process_starts_its_dependencies(tmp_path: Path) -> None:
    root = project(tmp_path, "sleep 30", "started")
    async with running(load(root), ["dep"]) as r:
        await r.sup.stop("dep")
        assert not r.sup.info("app").active
        started, _ = await r.sup.start("app")
        assert started
        await r.wait_state("app", ProcState.EXITED)
        assert r.state("dep") is ProcState.RUNNING


async def test_stopping_a_dependency_does_not_wait_for_its_dependents(tmp_path: Path) -> None:
    root = project(tmp_path, "sleep 30", "completed")  # app waits until dep completes
    async with running(load(root)) as r:
        await r.wait_state("dep", ProcState.RUNNING)
        assert r.state("app") is ProcState.PENDING
        await r.sup.stop("dep")  # must not wait for app, which is waiting for dep
        assert r.state("dep") is ProcState.EXITED


async def test_a_dependency_started_again_must_start_again(tmp_path: Path) -> None:
    """Its earlier run does not count: the dependent waits for the new one (stopped while it was starting)."""
    root = project(tmp_path, "sleep 30", "started")
    async with running(load(root), ["dep"]) as r:
        await r.wait_state("dep", ProcState.RUNNING)
        await r.sup.stop("dep")
        await r.sup.start("app")
        await r.wait_state("app", ProcState.EXITED)
        assert r.sup.info("dep").run == 2
        assert r.state("dep") is ProcState.RUNNING
