"""States and answers that tell the truth (issue 8): idle vs pending, answers after the spawn, the restart budget of
an activation, what the second Ctrl-C says, and a stop that lands while the spawn waits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import trio
import trio.testing

from brummer.config.spec import ProcessSpec, ReadyCheck
from brummer.logs.kinds import Stream
from brummer.supervise.state import ProcState, looks_one_shot
from helpers import PY, load, running, write_project

SLEEPER = f"{PY} -c 'import time; time.sleep(60)'"


async def test_a_process_never_asked_to_run_is_idle_not_pending(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.db]
        cmd = "{SLEEPER}"
        ready = {{ log = "never" }}
        [processes.api]
        cmd = "{SLEEPER}"
        depends_on = {{ db = "ready" }}
        [processes.other]
        cmd = "{SLEEPER}"
        """,
    )
    async with running(load(root), ["api"]) as r:
        await r.wait_state("db", ProcState.RUNNING)
        await r.wait_state("api", ProcState.PENDING)  # asked to run, waiting for db
        other = r.sup.info("other")
        assert other.state is ProcState.IDLE and other.message == ""
        assert not other.active and other.run == 0
        assert r.sup.info("api").active and r.sup.info("api").message == "waiting for db (ready)"
        await r.sup.stop("api")  # stopped while it waited: it never ran
        api = r.sup.info("api")
        assert (api.state, api.message, api.active) == (ProcState.IDLE, "stopped before it started", False)


async def test_start_and_restart_answer_with_the_new_run(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile=f"web: {SLEEPER}\n")
    async with running(load(root), ["web"]) as r:
        await r.wait_state("web", ProcState.RUNNING)
        old = r.sup.info("web")
        info = await r.sup.restart("web")
        assert info.state is ProcState.RUNNING and info.pid is not None and info.pid != old.pid
        assert (info.run, info.restarts, info.active) == (2, 1, True)
        await r.sup.stop("web")
        started, info = await r.sup.start("web")
        assert started and info.state is ProcState.RUNNING and info.pid not in (None, old.pid) and info.run == 3


async def test_a_start_that_waits_for_a_dependency_answers_pending(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.db]
        cmd = "{SLEEPER}"
        ready = {{ log = "never" }}
        [processes.api]
        cmd = "{SLEEPER}"
        depends_on = {{ db = "ready" }}
        """,
    )
    async with running(load(root), ["db"]) as r:
        await r.wait_state("db", ProcState.RUNNING)
        with trio.fail_after(10):  # not until db is ready (never): as soon as api waits for it
            started, info = await r.sup.start("api")
        assert started and info.state is ProcState.PENDING and info.message == "waiting for db (ready)"


async def test_a_restart_by_hand_gets_a_new_budget_of_automatic_restarts(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml="""
        [processes.flaky]
        cmd = "echo try; exit 1"
        restart = "on-failure"
        max_restarts = 2
        """,
    )
    project = load(root)
    quick = dataclasses.replace(project.processes["flaky"], backoff_initial=0.01)
    project = dataclasses.replace(project, processes={"flaky": quick})
    async with running(project, ["flaky"]) as r:
        await r.wait_for(lambda: r.sup.idle)
        info = r.sup.info("flaky")
        assert (info.state, info.restarts, info.message) == (
            ProcState.FAILED,
            2,
            "gave up after 2 restarts: exit code 1",
        )
        await r.sup.restart("flaky")  # as the panel's r or MCP's scripts_restart
        await r.wait_for(lambda: r.sup.idle)
        info = r.sup.info("flaky")
        assert r.text("flaky") == ["try"] * 6  # 1 + 2 automatic, then 1 by hand + 2 automatic again
        assert (info.restarts, info.run) == (5, 6)  # every restart counts in the total
        assert info.message == "gave up after 2 restarts: exit code 1"
        gave_up = [line.text for line in r.store.tail("flaky", limit=100, stream=Stream.BRUMMER).lines]
        assert gave_up.count("failed: gave up after 2 restarts: exit code 1") == 2  # once per activation


async def test_the_second_ctrl_c_says_the_grace_was_skipped(tmp_path: Path) -> None:
    ignore = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)"
    ignorer = f"{PY} -c '{ignore}'"
    root = write_project(tmp_path, Procfile=f"stubborn: {ignorer}\n")
    async with running(load(root, grace=600)) as r:
        await r.wait_for(lambda: r.text("stubborn") == ["1"])
        with trio.fail_after(10):  # far below the 600 s grace: the force event ends the wait at once
            async with trio.open_nursery() as nursery:
                nursery.start_soon(r.sup.stop, "stubborn")
                await r.wait_state("stubborn", ProcState.STOPPING)
                await trio.testing.wait_all_tasks_blocked()
                r.sup.force.set()
        info = r.sup.info("stubborn")
        assert (info.state, info.message) == (ProcState.EXITED, "stopped (grace skipped: SIGKILL)")
        notes = [line.text for line in r.store.tail("stubborn", limit=100, stream=Stream.BRUMMER).lines]
        assert "grace skipped: SIGKILL" in notes and not any("still running after" in n for n in notes)


async def test_a_stop_while_the_spawn_waits_leaves_no_process_starting(tmp_path: Path) -> None:
    """The spawn waits for a worker thread (every one busy here); a stop cancels it before any child exists."""
    root = write_project(tmp_path, Procfile=f"web: {SLEEPER}\nother: {SLEEPER}\n")
    async with running(load(root), ["other"]) as r:
        limiter = trio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(limiter.total_tokens))]
        for holder in holders:
            await limiter.acquire_on_behalf_of(holder)
        try:
            r.sup.activate(["web"])
            await trio.testing.wait_all_tasks_blocked()
            assert r.sup.info("web").state is ProcState.STARTING
            with trio.fail_after(10):
                await r.sup.stop("web")
            info = r.sup.info("web")
            assert (info.state, info.message, info.pid) == (ProcState.IDLE, "stopped before it started", None)
            assert not info.active
        finally:
            for holder in holders:
                limiter.release_on_behalf_of(holder)
        started, info = await r.sup.start("web")  # and it can start later as if nothing happened
        assert started and info.state is ProcState.RUNNING and info.pid is not None


async def test_a_shutdown_while_the_spawn_waits_leaves_no_process_starting(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile=f"web: {SLEEPER}\nother: {SLEEPER}\n")
    async with running(load(root), ["other"]) as r:
        limiter = trio.to_thread.current_default_thread_limiter()
        holders = [object() for _ in range(int(limiter.total_tokens))]
        for holder in holders:
            await limiter.acquire_on_behalf_of(holder)
        r.sup.activate(["web"])
        await trio.testing.wait_all_tasks_blocked()
        assert r.sup.info("web").state is ProcState.STARTING
    # `running` cancelled the supervisor (the shutdown) while the spawn waited
    for holder in holders:
        limiter.release_on_behalf_of(holder)
    info = r.sup.info("web")
    assert info.state is ProcState.IDLE and not info.active


@pytest.mark.parametrize(
    ("name", "command", "ready", "one_shot"),
    [
        ("build", "vite build", "url", True),
        ("test", "vitest", "url", True),
        ("web:build", "vite build", "url", True),
        ("lint", "eslint .", "none", True),
        ("typecheck", "tsc --noEmit", "url", True),
        ("typecheck", "tsc --noEmit --watch", "url", False),
        ("test:watch", "vitest", "url", False),
        ("test", "jest --watchAll", "url", False),
        ("dev", "vite", "url", False),
        ("build", "vite build", "http", False),  # a readiness check of its own: a service
        ("checkout", "node checkout.js", "url", False),
        ("latest", "node x.js", "url", False),
    ],
)
def test_what_looks_like_a_one_shot_task(name: str, command: str, ready: str, one_shot: bool) -> None:
    spec = ProcessSpec(name, command, "package.json", Path("package.json"), Path("."), ready=ReadyCheck(ready))  # type: ignore[arg-type]
    assert looks_one_shot(spec) is one_shot
