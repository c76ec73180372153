"""The remote commands against a real ``brummer up`` started by the test: output, ``--json`` shapes, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import trio
from helpers_remote import PY, Done, brummer, demo, running_up

from brummer import registry
from helpers_cli import Up

STAMP = r"\d\d:\d\d:\d\d"


async def test_commands_against_a_running_brummer_up(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop")
    (root / "src").mkdir()
    async with running_up(root, tmp_path) as up:
        await up.wait_output("url http://localhost:")
        await up.wait_output("failed: exit code 3")
        d = str(root)

        ps = await brummer("ps", "--dir", d, cwd=tmp_path)
        assert ps.code == 0, ps.err
        header, *rows = ps.out.splitlines()
        columns = header.split()  # (a PROXY column joins them before URLS once processes have proxy URLs)
        assert (
            columns[:7] == ["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "READY", "ERRORS"] and columns[-1] == "URLS"
        )
        by_name = {row.split()[0]: dict(zip(columns, row.split(), strict=True)) for row in rows}
        assert by_name["web"]["STATE"] == "ready" and by_name["web"]["URLS"].startswith("http://localhost:")
        assert by_name["web"]["ERRORS"] == "1" and by_name["web"]["READY"] == "yes"
        assert by_name["job"]["STATE"] == "failed" and by_name["idle"]["STATE"] == "idle"

        doc = (await brummer("ps", "--json", cwd=root / "src")).json()  # from a subdirectory: its project
        assert doc["project"] == str(root.resolve()) and doc["pid"] == up.proc.pid
        web = next(p for p in doc["processes"] if p["name"] == "web")
        assert {"state", "pid", "uptime_s", "restarts", "ready", "urls", "proxy_urls", "errors"} <= web.keys()
        assert web["ready"] and web["pid"] > 0 and web["errors"] == 1 and web["urls"][0] == by_name["web"]["URLS"]

        urls = await brummer("urls", "--dir", d, cwd=tmp_path)
        assert urls.code == 0 and re.search(r"^web\s+http://localhost:\d+/(\s|$)", urls.out, re.M), urls.out
        assert (await brummer("urls", "--json", "--dir", d, cwd=tmp_path)).json()["urls"][0]["process"] == "web"

        errors = await brummer("errors", "web", "--dir", d, cwd=tmp_path)
        assert errors.code == 0 and "TypeError" in errors.out and "src/app.js:3:7" in errors.out, errors.out
        listed = (await brummer("errors", "--all", "--json", "--dir", d, cwd=tmp_path)).json()
        assert listed["errors"][0]["process"] == "web" and listed["total"] >= 1

        logs = await brummer("logs", "job", "--dir", d, cwd=tmp_path)
        assert re.search(rf"^{STAMP} job\s+\| job says hello$", logs.out, re.M), logs.out
        assert re.search(rf"^{STAMP} job\s+» failed", logs.out, re.M), logs.out  # brummer's own lines, as up prints
        lines = (await brummer("logs", "-n", "2", "--json", "--dir", d, cwd=tmp_path)).out.splitlines()
        assert len(lines) == 2 and all({"seq", "process", "text", "level"} <= set(eval_json(x)) for x in lines)
        await up.wait_output("» error [node TypeError]")  # the group is complete: brummer's line about it is kept
        grep = await brummer("logs", "--grep", "read property", "--dir", d, cwd=tmp_path)
        assert re.search(rf"^{STAMP} web\s+\| TypeError: cannot read property", grep.out, re.M), grep.out
        assert re.search(rf"^{STAMP} web\s+» error \[node TypeError\]", grep.out, re.M), grep.out  # as up said it
        assert grep.out.count("\n") == 2, grep.out
        level = await brummer("logs", "web", "--level", "error", "--json", "--dir", d, cwd=tmp_path)
        assert {eval_json(x)["level"] for x in level.out.splitlines()} == {"error"}
        since = eval_json(lines[0])["seq"]
        after = (await brummer("logs", "--since", str(since), "--json", "--dir", d, cwd=tmp_path)).out.splitlines()
        assert eval_json(after[0])["seq"] == eval_json(lines[1])["seq"], (lines, after)  # the lines after `since`

        started = await brummer("start", "idle", "--dir", d, cwd=tmp_path)
        assert started.code == 0 and started.out.startswith("idle: started"), started
        assert (
            await brummer("wait", "idle", "--log", "never printed", "--timeout", "0.5", "--dir", d, cwd=tmp_path)
        ).code == 124
        assert (await brummer("wait", "web", "--url", "--dir", d, cwd=tmp_path)).code == 0
        met = (await brummer("wait", "web", "--ready", "--json", "--dir", d, cwd=tmp_path)).json()
        assert met["met"] and met["reason"] == "met"
        ended = await brummer("wait", "job", "--ready", "--timeout", "5", "--dir", d, cwd=tmp_path)
        assert ended.code == 1 and "job" in ended.err, ended
        restarted = (await brummer("restart", "idle", "--json", "--dir", d, cwd=tmp_path)).json()
        assert restarted["results"][0]["action"] == "restarted"
        stopped = await brummer("stop", "idle", "web", "--dir", d, cwd=tmp_path)
        assert stopped.out.splitlines() == ["idle: stopped (exited)", "web: stopped (exited)"], stopped
        unknown = await brummer("start", "nope", "--dir", d, cwd=tmp_path)
        assert unknown.code == 1 and unknown.out == "" and len(unknown.err.splitlines()) == 1, unknown
        assert "unknown process 'nope'" in unknown.err

        requests = await brummer("requests", "--dir", d, cwd=tmp_path)
        assert requests.code == 0 and requests.out.startswith("no requests"), requests
        assert (await brummer("requests", "--json", "--dir", d, cwd=tmp_path)).json()["requests"] == []


def eval_json(line: str) -> dict[str, object]:
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


async def test_logs_says_what_up_said(tmp_path: Path) -> None:
    """brummer's own lines about a process (starting with its command, its URL, its errors, its states) are in its
    log, so that ``brummer logs`` prints them as ``brummer up --plain`` did."""
    root = demo(tmp_path / "shop")
    async with running_up(root, tmp_path) as up:
        await up.wait_output("failed: exit code 3")
        await up.wait_output("» error [node TypeError]")
        await up.wait_output("web     » ready")
        logs = await brummer("logs", "--dir", str(root), cwd=tmp_path)
        printed = up.output

    def said(output: str) -> list[str]:
        """brummer's lines about web and job, without the time and the proxy that up adds to a URL line."""
        lines = [line.split(" ", 1)[1] for line in output.splitlines() if re.match(rf"{STAMP} (web|job) +» ", line)]
        return sorted(re.sub(r" → proxy \S+$", "", line) for line in lines)

    assert logs.code == 0, logs
    assert said(logs.out) == said(printed)
    assert any(line.startswith(f"web     » starting: {PY} -u web.py") for line in said(logs.out)), logs.out
    assert any(re.fullmatch(r"web +» url http://localhost:\d+/", line) for line in said(logs.out)), logs.out


async def test_no_instance_is_exit_3(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop")
    commands = [
        ["ps"],
        ["logs"],
        ["logs", "-f", "web"],
        ["start", "web"],
        ["stop", "web"],
        ["restart", "web"],
        ["errors"],
        ["urls"],
        ["requests"],
        ["wait", "web"],
    ]
    results: dict[str, Done] = {}

    async def run(args: list[str]) -> None:
        results[" ".join(args)] = await brummer(*args, "--json", cwd=root)

    async with trio.open_nursery() as nursery:
        for args in commands:
            nursery.start_soon(run, args)
    for command, done in results.items():
        assert done.code == 3, (command, done)
        assert done.out == "" and done.err.splitlines() == [
            f"brummer: no brummer up runs {root.resolve()}; start one with `brummer up`"
        ], (command, done)


async def test_a_stale_entry_is_exit_3_and_is_removed(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop")
    up = await Up.launch(root, tmp_path)
    try:
        entry = await up.serving()
    finally:
        await up.kill()  # SIGKILL: its entry stays behind
    path = registry.location() / entry.name
    assert path.exists()
    done = await brummer("ps", "--dir", str(root), cwd=tmp_path)
    assert done.code == 3 and "start one with `brummer up --dir" in done.err, done
    assert not path.exists()


async def test_ps_all_lists_every_instance(tmp_path: Path) -> None:
    first, second = demo(tmp_path / "shop"), demo(tmp_path / "blog")
    async with running_up(first, tmp_path) as one, running_up(second, tmp_path) as two:
        await one.wait_output("failed: exit code 3")
        await two.wait_output("failed: exit code 3")
        await brummer("stop", "web", "--dir", str(second), cwd=tmp_path)
        doc = (await brummer("ps", "--all", "--json", cwd=tmp_path)).json()
        rows = {row["project"]: row for row in doc["instances"]}
        assert rows.keys() == {str(first.resolve()), str(second.resolve())}
        assert rows[str(first.resolve())]["pid"] == one.proc.pid and rows[str(first.resolve())]["kind"] == "up"
        assert (rows[str(first.resolve())]["running"], rows[str(first.resolve())]["failed"]) == (1, 1)
        assert (rows[str(second.resolve())]["running"], rows[str(second.resolve())]["failed"]) == (0, 1)
        table = await brummer("ps", "--all", cwd=tmp_path)
        assert table.out.splitlines()[0].split() == ["PROJECT", "PID", "KIND", "UPTIME", "RUNNING", "FAILED"]
        assert str(second.resolve()) in table.out


async def test_wait_for_a_brummer_up_started_at_the_same_time(tmp_path: Path) -> None:
    root = demo(tmp_path / "shop")
    results: list[Done] = []

    async def wait() -> None:
        results.append(await brummer("wait", "web", "--ready", "--timeout", "60", "--dir", str(root), cwd=tmp_path))

    up: Up | None = None
    try:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(wait)  # `brummer up & brummer wait web --ready`, as a script would
            await trio.sleep(1.5)  # (a slow machine: brummer wait has looked for it before it registers)
            up = await Up.launch(root, tmp_path)
    finally:
        if up is not None:
            await up.stop()
    (done,) = results
    assert done.code == 0 and done.out.startswith("web is ready"), done
