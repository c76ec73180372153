"""`brummer smoke` when things go wrong: not ready in time (124), a crash (1), errors, signals, another brummer."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers_smoke import env, server_project, validate

from helpers import pid_alive, wait_until
from helpers_cli import Brummer, pids_in, run_brummer, wait_all_gone


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_not_ready_in_time_exits_124_and_says_why(tmp_path: Path) -> None:
    health = f"http://127.0.0.1:{free_port()}/health"  # the server listens elsewhere: this probe never passes
    root = server_project(
        tmp_path,
        f"""
        [processes.api]
        cmd = "{{server}} 0"
        ready = {{{{ http = "{health}" }}}}
        grace = 1
        [processes.web]
        cmd = "{{server}} 0"
        depends_on = {{{{ api = "ready" }}}}
        grace = 1
        """,
    )
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    args = ["smoke", "--dir", str(root), "web", "--timeout", "3", "--check", "true", "--report", str(report)]
    result = run_brummer([*args, "--junit", str(junit)], tmp_path, env=env(tmp_path))
    assert result.returncode == 124, result.stdout + result.stderr
    last = result.stdout.rstrip().splitlines()[-3:]
    why = rf"still starting \(waiting for {re.escape(health)}: connection refused, \d+ tries\)"
    assert re.fullmatch(rf"api: not ready: {why}", last[0]), last
    assert last[1] == "web: not ready: not started (waiting for api (ready))"
    assert last[2].startswith("verdict: not-ready in ") and last[2].endswith("(exit 124): not up within 3s: api, web")
    doc = validate(report)
    assert (doc["verdict"], doc["exit_code"], doc["not_ready"]) == ("not-ready", 124, ["api", "web"])
    api = doc["processes"][0]
    assert re.fullmatch(f"not ready: {why}", api["problem"]) and api["log_tail"][0].startswith("  Local: http://")
    assert doc["checks"][0]["status"] == "not-run"
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    failure = cases["api is up"].find("failure")
    assert failure is not None and "connection refused" in (failure.get("message") or "")
    assert "Local: http://" in (failure.text or "")
    assert cases["check 1: true"].find("skipped") is not None
    assert not [pid for pid in pids_in(tmp_path / "pids") if pid_alive(pid)]


async def test_a_crash_after_ready_fails_the_run_at_once(tmp_path: Path) -> None:
    root = server_project(
        tmp_path,
        """
        [processes.web]
        cmd = "{server} 0 1.5"
        grace = 1
        """,
    )
    report = tmp_path / "report.json"
    args = ["smoke", "--dir", str(root), "web", "--check", "echo checking; exec sleep 300", "--report", str(report)]
    brummer = await Brummer.start(args, tmp_path, env=env(tmp_path))
    try:
        assert await brummer.wait(timeout=60) == 1  # at once: not after the check's 300 s
        out = brummer.output
        assert "web: failed after it was up: exit code 3" in out
        assert out.rstrip().endswith("(exit 1): web failed: exit code 3")
        doc = validate(report)
        web = doc["processes"][0]
        assert web["ready"] and web["exit_code"] == 3 and web["log_tail"][-1] == "out of memory, giving up"
        (check,) = doc["checks"]
        assert check["status"] == "stopped" and check["log_tail"] == ["checking"]
    finally:
        await brummer.kill()


TSC = Path(__file__).resolve().parents[1] / "fixtures" / "errors" / "typescript" / "tsc5-plain.txt"


@pytest.mark.parametrize("fail_on_error", [False, True])
def test_errors_are_reported_and_fail_the_run_with_fail_on_error(tmp_path: Path, fail_on_error: bool) -> None:
    repository = tmp_path / "repo"  # the project is a folder inside a git repository
    root = server_project(
        repository,
        f"""
        [processes.tsc]
        cmd = "cat {TSC}; echo watching; exec sleep 60"
        ready = {{{{ log = "^watching$" }}}}
        grace = 1
        """,
    )
    has_git = shutil.which("git") is not None
    if has_git:
        subprocess.run(["git", "init", "-q", str(repository)], check=True)
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    report = tmp_path / "report.json"
    args = ["smoke", "--dir", str(root), "--report", str(report), *(["--fail-on-error"] if fail_on_error else [])]
    extra = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step_summary)}
    result = run_brummer(args, tmp_path, env=env(tmp_path, **extra))
    assert result.returncode == (1 if fail_on_error else 0), result.stdout + result.stderr
    doc = validate(report)
    errors = doc["processes"][0]["errors"]
    assert [e["type"] for e in errors] == ["TS2322", "TS2322", "TS2304", "TS2322", "TS2307"]  # as tsc printed them
    assert errors[0]["location"] == "src/a.ts:2:30" and errors[0]["family"] == "typescript"
    if fail_on_error:
        assert doc["reason"] == "5 errors detected (--fail-on-error), first: tsc src/a.ts:2:30"
    prefix = "proj/" if has_git else ""  # relative to the repository root
    title = "tsc%3A typescript TS2322"
    annotation = (
        f"::error file={prefix}src/a.ts,line=2,col=30,title={title}::Type 'string' is not assignable to type 'number'."
    )
    assert annotation in result.stdout.splitlines(), result.stdout
    assert f"::error file={prefix}src/b.ts,line=1,col=25," in result.stdout
    markdown = step_summary.read_text()
    assert markdown.startswith("earlier step\n### ")  # appended
    verdict = "failed" if fail_on_error else "passed"
    assert (
        f"brummer smoke: {verdict} in " in markdown
        and "| process | ready after | exit | restarts | errors |" in markdown
    )
    assert re.search(r"^\| tsc \| \d+\.\d\ds \| stopped \| 0 \| 5 \|$", markdown, re.M), markdown


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_a_signal_during_the_run_stops_everything_and_never_exits_0(
    tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    root = server_project(
        tmp_path,
        """
        [processes.web]
        cmd = "{server} 0"
        grace = 1
        """,
    )
    pids = tmp_path / "pids"
    report = tmp_path / "report.json"
    check = f"echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; wait"
    brummer = await Brummer.start(
        ["smoke", "--dir", str(root), "--check", check, "--report", str(report)], tmp_path, env=env(tmp_path)
    )
    try:
        await brummer.wait_output("check   » running")
        await wait_until(lambda: len(pids_in(pids)) >= 3)  # the server, the check's shell and its sleep
        victims = pids_in(pids)
        brummer.signal(sig)
        assert await brummer.wait(timeout=30) == code
        await wait_all_gone(victims, timeout=10)
        doc = validate(report)
        assert (doc["verdict"], doc["exit_code"]) == ("interrupted", code)
        assert doc["checks"][0]["status"] == "stopped"
        assert brummer.output.rstrip().endswith(f"(exit {code}): interrupted by {sig.name}")
    finally:
        await brummer.kill()


async def test_another_brummer_in_the_project_exits_2_naming_it(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    root = server_project(tmp_path, f'[processes.web]\ncmd = "echo $$ >> {starts}; exec sleep 60"\n')
    up = await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path)
    try:
        await up.wait_output("web     » running")
        result = run_brummer(["smoke", "--dir", str(root), "--check", "true"], tmp_path)
        assert result.returncode == 2
        assert f"already runs in brummer up (pid {up.proc.pid}, since " in result.stderr
        assert len(pids_in(starts)) == 1  # smoke started nothing
    finally:
        assert await up.stop() == 130
