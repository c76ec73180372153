"""Stopping leaves nothing behind: grandchildren, setsid escapees, TERM-ignorers, pipe holders."""

from __future__ import annotations

from pathlib import Path

import trio

from brummer.supervise.state import ProcState
from helpers import PY, load, pid_alive, running, write_project


def pids_in(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def test_stop_kills_grandchild_escapee_and_ignorer(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = tmp_path / "tree.sh"
    script.write_text(
        f"sleep 300 & echo $! >> {pids}\n"  # a grandchild in the group
        f"setsid sleep 301 & echo $! >> {pids}\n"  # an escapee in its own session
        f"{PY} -c 'import os,signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f' open("{pids}", "a").write(f"{{os.getpid()}}\\n"); print("started", flush=True);'
        " time.sleep(302)' &\n"
        "wait\n"
    )
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.tree]
        cmd = "sh {script}"
        grace = 0.5
        ready = {{ log = "started" }}
        """,
    )
    async with running(load(root), ["tree"]) as r:
        await r.wait_state("tree", ProcState.READY)
        await r.wait_for(lambda: len(pids_in(pids)) == 3)
        victims = pids_in(pids)
        assert all(pid_alive(p) for p in victims)
        stopped, info = await r.sup.stop("tree")
        assert stopped and info.state is ProcState.EXITED and info.stopped
        assert "SIGKILL" in info.message  # the TERM-ignorer needed the hard way
        assert not any(pid_alive(p) for p in victims)


async def test_pipe_held_by_grandchild_after_parent_exits(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # the main process exits at once; its grandchild keeps stdout open and keeps printing
    cmd = (
        f"({PY} -c 'import time\\nfor i in range(600): print(\"tick\", i, flush=True); time.sleep(0.1)' &"
        f" echo $! > {pids}); echo parent done"
    )
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.leaky]
        cmd = '''{cmd}'''
        grace = 1
        """,
    )
    async with running(load(root), ["leaky"]) as r:
        await r.wait_for(lambda: r.sup.idle, timeout=20)
        info = r.sup.info("leaky")
        assert info.exit_code == 0 and info.state is ProcState.EXITED
        assert "parent done" in r.text("leaky")
        assert not pid_alive(pids_in(pids)[0])


async def test_never_signals_foreign_processes(tmp_path: Path) -> None:
    foreign = await trio.lowlevel.open_process(["sleep", "60"], start_new_session=True)
    try:
        root = write_project(tmp_path, Procfile="short: sleep 60\n")
        async with running(load(root, grace=0.5)) as r:
            await r.wait_state("short", ProcState.RUNNING)
            await r.sup.stop("short")
        assert foreign.poll() is None and pid_alive(foreign.pid)
    finally:
        foreign.kill()
        await foreign.wait()


async def test_shutdown_stops_in_reverse_dependency_order(tmp_path: Path) -> None:
    log = tmp_path / "order.log"
    trap = f"trap 'echo $BRUMMER_PROCESS >> {log}; exit 0' TERM; echo up; while :; do sleep 0.05; done"
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        default = ["web"]
        [processes.db]
        cmd = "{trap}"
        ready = {{ log = "up" }}
        [processes.api]
        cmd = "{trap}"
        depends_on = {{ db = "ready" }}
        ready = {{ log = "up" }}
        [processes.web]
        cmd = "{trap}"
        depends_on = {{ api = "ready" }}
        ready = {{ log = "up" }}
        """,
    )
    async with running(load(root)) as r:
        await r.wait_state("web", ProcState.READY)
    assert log.read_text().split() == ["web", "api", "db"]


async def test_force_skips_grace(tmp_path: Path) -> None:
    ignorer = f"{PY} -c 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'"
    root = write_project(tmp_path, Procfile=f"stubborn: {ignorer}\n")
    async with running(load(root, grace=600)) as r:
        await r.wait_state("stubborn", ProcState.RUNNING)
        r.sup.force.set()
        with trio.fail_after(10):  # far below the 600 s grace
            await r.sup.stop("stubborn")
        assert r.sup.info("stubborn").state is ProcState.EXITED
