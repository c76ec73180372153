"""One way to stop for every command: the first signal stops everything (128 + N), the second skips grace periods."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
import trio

from brummer.core import open_core
from helpers import PY, load, pid_alive, wait_until, write_project
from helpers_cli import BRUMMER, Brummer, wait_all_gone

# Ignores SIGTERM for far longer than any test waits: only SIGKILL, after the grace or without it, ends it.
STUBBORN = (
    f"{PY} -c 'import os,signal,sys,time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
    ' open(sys.argv[1], "w").write(str(os.getpid())); print("up", flush=True); time.sleep(300)\''
)


def stubborn_project(tmp_path: Path) -> tuple[Path, Path]:
    pidfile = tmp_path / "stubborn.pid"
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        default = ["stubborn"]
        [processes.stubborn]
        cmd = '''{STUBBORN} {pidfile}'''
        ready = {{ log = "^up$" }}
        grace = 300
        """,
    )
    return root, pidfile


async def test_first_signal_requests_the_shutdown_and_the_second_forces_it(tmp_path: Path) -> None:
    project = load(write_project(tmp_path, Procfile="x: true\n"))
    with trio.fail_after(30):
        async with open_core(project) as core:
            shutdown = core.shutdown
            os.kill(os.getpid(), signal.SIGTERM)
            await shutdown.requested.wait()
            assert shutdown.exit_code(0) == 143 and not shutdown.force.is_set()
            os.kill(os.getpid(), signal.SIGINT)
            await shutdown.force.wait()
            assert shutdown.exit_code(1) == 143  # the first one decides
            notes = [line.text for line in core.store.tail("brummer").lines]
            assert "SIGTERM: stopping every process (again to skip the grace periods)" in notes
            assert "SIGINT again: skipping grace periods (SIGKILL to what is still running)" in notes


async def test_a_request_without_a_signal_keeps_the_outcome(tmp_path: Path) -> None:
    project = load(write_project(tmp_path, Procfile="x: true\n"))
    with trio.fail_after(30):
        async with open_core(project) as core:
            core.shutdown.request(0)  # the agent closed stdin, say
            os.kill(os.getpid(), signal.SIGHUP)  # then a signal: hurry, but the exit code stays the outcome
            await core.shutdown.force.wait()
            assert core.shutdown.exit_code(0) == 0 and core.shutdown.exit_code(1) == 1


@pytest.mark.parametrize("command", ["up", "smoke"])
async def test_the_second_signal_skips_grace_periods(tmp_path: Path, command: str) -> None:
    root, pidfile = stubborn_project(tmp_path)
    extra = ["--check", "sleep 300"] if command == "smoke" else []
    brummer = await Brummer.start([command, "--dir", str(root), *extra], tmp_path)
    try:
        await brummer.wait_output("stubborn | up")
        if command == "smoke":
            await brummer.wait_output(f"{'check':<{len('stubborn')}} » running")
        pid = int(pidfile.read_text())
        brummer.signal(signal.SIGINT)
        await brummer.wait_output("stubborn » stopping: SIGTERM, 300s grace")
        brummer.signal(signal.SIGINT)
        assert await brummer.wait(timeout=30) == 130  # long before the 300 s grace
        out = brummer.output
        assert "SIGINT again: skipping grace periods" in out
        assert "stubborn » grace skipped: SIGKILL" in out
        assert "exited: stopped (grace skipped: SIGKILL)" in out
        assert not pid_alive(pid)
    finally:
        await brummer.kill()


async def test_headless_mcp_second_signal_skips_grace_periods(tmp_path: Path) -> None:
    root, pidfile = stubborn_project(tmp_path)
    pipe = subprocess.PIPE
    process = await trio.lowlevel.open_process([*BRUMMER, "mcp", "--dir", str(root)], stdin=pipe, stdout=pipe)
    assert process.stdin is not None
    hello = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "scripts_run", "arguments": {"name": "stubborn"}},
        },
    ]
    try:
        with trio.fail_after(60):
            await process.stdin.send_all(b"".join(json.dumps(m).encode() + b"\n" for m in messages))
            await wait_until(lambda: pidfile.exists() and pidfile.read_text())
            pid = int(pidfile.read_text())
            process.send_signal(signal.SIGTERM)
            await trio.sleep(0.5)  # the stop has begun: SIGTERM went to the group, which ignores it
            assert pid_alive(pid)
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 143  # long before the 300 s grace
            await wait_all_gone([pid], timeout=10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
