"""scripts_run, scripts_restart and scripts_status tell the truth (issue 8): a process never started is idle, a
(re)start answers with the new run's pid and state, and a one-shot task is to be waited for until it exits."""

from __future__ import annotations

from pathlib import Path

import trio
from helpers_mcp import demo_project, serving, structured, text_of

from helpers import load, serve_script, write_project


async def test_restart_answers_with_the_new_run_and_status_says_idle(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(60):
        async with serving(project) as served, served.ws() as client:
            status = structured(await client.call_tool("scripts_status", {}))
            states = {p["name"]: p["state"] for p in status["processes"]}
            assert states["job"] == states["idle"] == "idle"  # never started: not "pending"
            assert states["web"] != "idle"

            first = structured(await client.call_tool("scripts_run", {"name": "idle"}))["process"]
            assert first["state"] == "running" and first["pid"] is not None

            answer = await client.call_tool("scripts_restart", {"name": "idle"})
            restarted = structured(answer)["process"]
            assert restarted["state"] == "running"  # not the "exited" of the run it stopped
            assert restarted["pid"] not in (None, first["pid"])
            assert restarted["restarts"] == 1
            assert f"pid {restarted['pid']}" in text_of(answer)
            assert "no readiness check" in text_of(answer)  # ready = "none": nothing to wait for
            assert served.running.sup.info("idle").pid == restarted["pid"]


async def test_a_one_shot_script_is_waited_for_until_it_exits(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        default = ["web"]
        [processes.web]
        cmd = "{serve_script(tmp_path)}"
        [processes.build]
        cmd = "sleep 30; echo built"
        [processes.broken]
        cmd = "true"
        cwd = "no-such-directory"
        """,
    )
    with trio.fail_after(60):
        async with serving(load(root)) as served, served.ws() as client:
            answer = await client.call_tool("scripts_run", {"name": "build"})
            assert structured(answer)["process"]["state"] == "running"
            assert "wait_for condition=exited" in text_of(answer) and "condition=ready" not in text_of(answer)

            web = await client.call_tool("scripts_restart", {"name": "web"})
            assert "wait_for condition=ready" in text_of(web)  # a server: its readiness is what to wait for

            broken = await client.call_tool("scripts_run", {"name": "broken"})  # ended before the answer
            assert structured(broken)["process"]["state"] == "failed"
            assert "it failed (working directory" in text_of(broken) and "wait_for" not in text_of(broken)
