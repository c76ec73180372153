"""Every tool and every parameter of its schema, over the real SDK client, against real processes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trio
from helpers_mcp import demo_project, serving, structured, text_of, web_url
from mcp import Client
from mcp.shared.exceptions import MCPError

from brummer.mcp.schemas import TOOLS
from helpers import PY, append_lines, load, poll, wait_until, write_project


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def refused(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    assert result.structured_content is None
    return text_of(result)


def test_schemas_are_valid_json_schema() -> None:
    for tool in TOOLS:
        jsonschema.Draft202012Validator.check_schema(tool.input)
        jsonschema.Draft202012Validator.check_schema(tool.output)
        assert tool.input["additionalProperties"] is False


async def test_scripts_tools(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(60):
        async with serving(project) as served, served.ws() as client:
            listed = await call(client, "scripts_list")
            assert listed["count"] == 3
            web, job, idle = listed["processes"]
            assert (web["name"], web["source"], web["default"]) == ("web", "brummer.toml", True)
            assert "server.py" in web["command"]
            assert (job["name"], job["state"], "default" in job) == ("job", "idle", False)  # compact: no falsy
            assert job["command"] == "echo job says hello; echo done; exit 3"
            assert idle["name"] == "idle"

            ran = await call(client, "scripts_run", name="idle")
            assert ran["action"] == "started" and ran["process"]["name"] == "idle"
            again = await call(client, "scripts_run", name="idle")
            assert again["action"] == "already-running"
            assert "command" not in ran["process"] and "stopped_by_brummer" not in ran["process"]  # compact
            stopped = await call(client, "scripts_stop", name="idle", detail=True)
            assert (stopped["action"], stopped["state"]) == ("stopped", "exited")
            assert stopped["process"]["stopped_by_brummer"] is True and stopped["process"]["command"] == "sleep 300"
            assert (await call(client, "scripts_stop", name="idle"))["action"] == "not-running"

            restarted = await call(client, "scripts_restart", name="web")
            assert restarted["action"] == "restarted" and restarted["process"]["restarts"] == 1
            cold = await client.call_tool("scripts_restart", {"name": "idle"})
            assert "was not running: started it" in text_of(cold)
            await call(client, "scripts_stop", name="idle")

            everything = await call(client, "scripts_status")
            assert [p["name"] for p in everything["processes"]] == ["web", "job", "idle"]
            one = await call(client, "scripts_status", name="web", detail=True)
            (status,) = one["processes"]
            assert status["name"] == "web" and status["state"] in ("starting", "running", "ready")
            assert status["restarts"] == 1 and status["proxy_urls"] == []

            for tool in ("scripts_run", "scripts_stop", "scripts_restart", "scripts_status"):
                message = await refused(client, tool, name="rm -rf /")
                assert "unknown process 'rm -rf /'" in message and "web, job, idle" in message
            assert "unknown process ''" in await refused(client, "scripts_run", name="")


async def test_logs_tail_and_search(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(60):
        async with serving(project) as served, served.ws() as client:
            assert (await call(client, "wait_for", name="web", condition="ready"))["met"]
            # web's log is still once it is ready and its error group is complete (brummer keeps a line about it)
            await wait_until(lambda: any("error [" in line.text for line in served.runtime.store.tail("web").lines))
            tail = await call(client, "logs_tail", name="web")
            texts = [line["text"] for line in tail["lines"]]
            assert "booting" in texts and f"Local: {web_url(project)}" in texts
            assert tail["count"] == len(tail["lines"]) and "gap" not in tail and "truncated" not in tail
            assert {"seq", "process", "text"} <= set(tail["lines"][0]) and "time" not in tail["lines"][0]
            assert tail["next"] == tail["lines"][-1]["seq"]
            assert [line["seq"] for line in tail["lines"]] == sorted(line["seq"] for line in tail["lines"])

            stderr = await call(client, "logs_tail", name="web", stream="stderr")
            assert stderr["lines"] and {line["stream"] for line in stderr["lines"]} == {"stderr"}
            stdout = await call(client, "logs_tail", name="web", stream="stdout", detail=True)
            assert {line["stream"] for line in stdout["lines"]} == {"stdout"}
            errors = await call(client, "logs_tail", name="web", level="error", detail=True)
            assert "ERROR: database unreachable" in [line["text"] for line in errors["lines"]]
            assert {line["level"] for line in errors["lines"]} == {"error"}
            warnings = await call(client, "logs_tail", name="web", level="warn", detail=True)
            assert {line["level"] for line in warnings["lines"]} == {"warn", "error"}
            newest = await call(client, "logs_tail", name="web", limit=2)
            assert [line["seq"] for line in newest["lines"]] == [line["seq"] for line in tail["lines"][-2:]]

            cursor = (await call(client, "logs_tail"))["next"]
            await call(client, "scripts_run", name="job")
            assert (await call(client, "wait_for", name="job", condition="exited"))["met"]
            after = await call(client, "logs_tail", since=cursor)
            assert [line["text"] for line in after["lines"] if "stream" not in line] == ["job says hello", "done"]
            assert all(line["seq"] > cursor for line in after["lines"])
            first = await call(client, "logs_tail", name="job", since=cursor, stream="stdout", limit=1)
            assert [line["text"] for line in first["lines"]] == ["job says hello"]
            second = await call(client, "logs_tail", name="job", since=first["next"], stream="stdout", limit=1)
            assert [line["text"] for line in second["lines"]] == ["done"]
            notes = await call(client, "logs_tail", name="job", since=cursor)
            assert any(line.get("stream") == "brummer" and "exit code 3" in line["text"] for line in notes["lines"])
            assert "unknown process 'nope'" in await refused(client, "logs_tail", name="nope")

            found = await call(client, "logs_search", pattern="typeerror")
            assert {line["process"] for line in found["lines"]} == {"web"}
            assert not (await call(client, "logs_search", pattern="typeerror", ignore_case=False))["lines"]
            # ^: the line web printed, not the note brummer keeps once the group is complete ("error [node TypeError]")
            assert (await call(client, "logs_search", pattern="^TypeError", ignore_case=False))["count"] == 1
            exact = "^(job says hello|done)$"  # not the starting: note, whose command says both
            hello = await call(client, "logs_search", pattern=exact, name="job", since=cursor, limit=1)
            assert [line["text"] for line in hello["lines"]] == ["job says hello"]
            assert not (await call(client, "logs_search", pattern="hello", name="web"))["lines"]
            message = await refused(client, "logs_search", pattern="([")
            assert "invalid regex '(['" in message


async def test_long_answers_are_cut_with_a_cursor(tmp_path: Path) -> None:
    (tmp_path / "loud.py").write_text("for i in range(300):\n    print(f'line {i:04} ' + 'x' * 60)\n")
    root = write_project(
        tmp_path / "loud",
        brummer_toml=f'log_max_lines = 250\n[processes.loud]\ncmd = "{PY} {tmp_path / "loud.py"}"\nready = "none"\n',
    )
    project = load(root)
    with trio.fail_after(60):
        async with serving(project, ["loud"]) as served, served.ws() as client:
            assert (await call(client, "wait_for", name="loud", condition="exited"))["met"]
            asked = {"name": "loud", "limit": 200, "stream": "stdout"}
            result = await client.call_tool("logs_tail", asked | {"detail": True})
            data = structured(result)
            assert data["count"] == 200 and data["lines"][-1]["text"].startswith("line 0299")
            text = text_of(result)
            assert len(text) <= 2100 and "line 0299" in text and "line 0100" not in text
            assert "[text cut:" in text and f"since={data['lines'][0]['seq'] - 1}" in text

            # compact: the newest lines that fit, the same in both halves, and the cursor to the ones left out
            compact = await client.call_tool("logs_tail", asked)
            data = structured(compact)
            assert 5 <= data["count"] == len(data["lines"]) < 200 and data["lines"][-1]["text"].startswith("line 0299")
            assert all(f"{line['seq']} [loud] {line['text']}" in text_of(compact) for line in data["lines"])
            assert data["truncated"] and data["earlier"]["limit"] == 200 - data["count"]
            rest = structured(await client.call_tool("logs_tail", asked | data["earlier"] | {"detail": True}))
            assert rest["count"] == 200 - data["count"] and rest["lines"][0]["text"].startswith("line 0100")
            assert rest["lines"][-1]["seq"] < data["lines"][0]["seq"] and not rest["truncated"]
            assert int(rest["lines"][-1]["text"][5:9]) + 1 == int(data["lines"][0]["text"][5:9])

            oldest = await client.call_tool("logs_tail", {"name": "loud", "since": 0, "stream": "stdout"})
            data = structured(oldest)
            assert data["gap"] > 0  # retention kept 250 of the 300 lines (and brummer's notes)
            assert data["lines"][0]["text"].startswith("line 0") and data["truncated"]
            assert "dropped by retention" in text_of(oldest) and f"continue with since={data['next']}" in text_of(
                oldest
            )
            after = structured(await client.call_tool("logs_tail", {"name": "loud", "since": data["next"], "limit": 1}))
            assert int(after["lines"][0]["text"][5:9]) == int(data["lines"][-1]["text"][5:9]) + 1  # nothing skipped


async def test_errors_urls_and_proxy(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(60):
        async with serving(project) as served, served.ws() as client:
            assert (await call(client, "wait_for", name="web", condition="url"))["met"]
            # a multi-line error group is finished once its stream is quiet
            listed = await poll(lambda: call(client, "errors_list"), lambda found: found["errors"], every=0.1)
            (brief,) = listed["errors"]
            assert brief["process"] == "web" and "cannot read property" in brief["message"]
            assert brief["count"] == 1 and brief["location"] == "src/app.js:3:7" and "lines" not in brief
            (group,) = (await call(client, "errors_list", detail=True))["errors"]
            assert group["id"] == brief["id"] and group["first_seen"] <= group["last_seen"]
            assert group["lines"][0] == "TypeError: cannot read property 'x' of undefined"
            assert listed["total"] == len(listed["errors"]) and listed["next"] >= group["last_seq"]
            assert (await call(client, "errors_list", name="web"))["errors"][0]["id"] == group["id"]
            assert not (await call(client, "errors_list", name="job"))["errors"]
            assert not (await call(client, "errors_list", since=listed["next"]))["errors"]
            assert len((await call(client, "errors_list", limit=1))["errors"]) == 1
            assert "unknown process" in await refused(client, "errors_list", name="nope")

            urls = await call(client, "urls_list")  # this runtime has no proxy (tests/proxy covers one)
            assert urls["urls"] == [{"process": "web", "url": web_url(project)}]
            full = await call(client, "urls_list", detail=True)
            assert full["urls"] == [{"process": "web", "url": web_url(project), "proxy_url": None}]
            assert "proxy is off" in urls["note"]

            requests = await call(client, "proxy_requests", name="web", status="5xx", path="/api", since=0, limit=10)
            assert requests["requests"] == [] and "proxy is off" in requests["note"]
            assert "proxy is off" in (await call(client, "proxy_routes"))["note"]
            assert "status must be one of" in await refused(client, "proxy_requests", status="teapot")


async def test_wait_for(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(60):
        async with serving(project) as served, served.ws() as client:
            ready = await call(client, "wait_for", name="web", condition="ready", timeout_s=20)
            assert (ready["met"], ready["reason"], ready["state"]) == (True, "met", "ready")
            port = web_url(project).split(":")[-1].strip("/")
            url = await call(client, "wait_for", name="web", condition="url", pattern=port)
            assert url["match"] == web_url(project)
            line = await call(client, "wait_for", name="web", condition="log", pattern="^Local:")
            assert line["match"] == f"Local: {web_url(project)}"
            missing = await call(client, "wait_for", name="web", condition="url", pattern="nowhere", timeout_s=0)
            assert (missing["met"], missing["reason"]) == (False, "timeout")

            idle = await call(client, "wait_for", name="idle", condition="ready")
            assert (idle["met"], idle["reason"]) == (False, "not-running")
            await call(client, "scripts_run", name="job")
            exited = await call(client, "wait_for", name="job", condition="exited")
            assert (exited["met"], exited["match"], exited["state"]) == (True, "exit code 3", "failed")
            ended = await call(client, "wait_for", name="job", condition="ready")
            assert (ended["met"], ended["reason"]) == (False, "ended")

            await call(client, "scripts_run", name="idle")
            reported: list[tuple[float, float | None, str | None]] = []

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                reported.append((progress, total, message))

            result = await client.call_tool(
                "wait_for",
                {"name": "idle", "condition": "log", "pattern": "^never$", "timeout_s": 1.5},
                progress_callback=on_progress,
            )
            waited = structured(result)
            assert (waited["met"], waited["reason"]) == (False, "timeout")
            assert "timed out" in text_of(result)
            assert reported and reported[0][1] == 1.5 and "waiting for idle (log)" in (reported[0][2] or "")

            assert "needs a pattern" in await refused(client, "wait_for", name="web", condition="log")
            message = await refused(client, "wait_for", name="web", condition="ready", pattern="x")
            assert "pattern only applies" in message


async def test_wait_for_log_counts_only_the_current_run(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "proj",
        brummer_toml="""
        [processes.svc]
        cmd = "echo run-id $BRUMMER_RUN; sleep 0.3; echo serving; exec sleep 300"
        ready = "none"
        grace = 1
        """,
    )
    with trio.fail_after(60):
        async with serving(load(root), ["svc"]) as served, served.ws() as client:
            first = await call(client, "wait_for", name="svc", condition="log", pattern="^run-id")
            await call(client, "scripts_restart", name="svc")
            second = await call(client, "wait_for", name="svc", condition="log", pattern="^run-id")
            assert second["match"] != first["match"]
            status = (await call(client, "scripts_status", name="svc", detail=True))["processes"][0]
            assert second["match"].endswith(status["run_id"])


BAD_ARGUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("logs_tail", {"limit": "abc"}, "limit must be an integer, got string 'abc'"),
    ("logs_tail", {"limit": 0}, "limit must be >= 1, got 0"),
    ("logs_tail", {"limit": 2.5}, "limit must be an integer, got 2.5"),
    ("logs_tail", {"since": -1}, "since must be >= 0"),
    ("logs_tail", {"stream": "both"}, "stream must be one of stdout, stderr; got 'both'"),
    ("logs_tail", {"level": "loud"}, "level must be one of debug, info, warn, error"),
    ("logs_tail", {"follow": True}, "unknown argument 'follow' (this tool takes: name, since, limit"),
    ("logs_search", {}, "pattern is required"),
    ("logs_search", {"pattern": "x", "ignore_case": "yes"}, "ignore_case must be true or false"),
    ("scripts_run", {}, "name is required"),
    ("scripts_run", {"name": "x" * 201}, "name must be at most 200 characters"),
    ("scripts_run", {"name": 5}, "name must be a string, got integer 5"),
    ("wait_for", {"name": "web", "condition": "soon"}, "condition must be one of ready, exited, url, log"),
    ("wait_for", {"name": "web", "condition": "ready", "timeout_s": 601}, "timeout_s must be <= 600"),
    ("wait_for", {"name": "web", "condition": "ready", "timeout_s": True}, "timeout_s must be a number"),
    ("errors_list", {"limit": 501}, "limit must be <= 500"),
    ("errors_list", {"detail": "yes"}, "detail must be true or false"),
]


async def test_bad_arguments_are_clear_tool_errors(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(30):
        async with serving(project, ["job"]) as served, served.ws() as client:
            for tool, arguments, problem in BAD_ARGUMENTS:
                message = await refused(client, tool, **arguments)
                assert message.startswith(f"invalid arguments for {tool}: ") and problem in message, message


async def test_unknown_tool_is_a_protocol_error(tmp_path: Path) -> None:
    with trio.fail_after(30):
        async with serving(demo_project(tmp_path), ["job"]) as served, served.ws() as client:
            with pytest.raises(MCPError) as caught:
                await client.call_tool("rm_rf", {})
            assert caught.value.error.code == -32602 and "unknown tool 'rm_rf'" in caught.value.error.message


async def test_scripts_status_reports_what_subscribers_missed(tmp_path: Path) -> None:
    project = demo_project(tmp_path)
    with trio.fail_after(60):
        async with serving(project) as served, served.ws() as client:
            for until in ({"condition": "ready"}, {"condition": "log", "pattern": "at main"}):
                assert (await call(client, "wait_for", name="web", **until))["met"]  # web has had its say
            slow = served.runtime.bus.subscribe("slow-display", low=1)  # never reads: everything past 1 batch drops
            for i in range(5):
                append_lines(served.runtime.store, "web", "stdout", [f"line {i}", "more"])
            answer = await client.call_tool("scripts_status", {})
            dropped = structured(answer)["dropped"]
            assert dropped["slow-display"] == {"events": {"LogLines": 4}, "lines": 8}
            assert "subscriber slow-display missed 8 log lines" in text_of(answer)
            slow.close()
