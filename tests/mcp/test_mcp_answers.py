"""Answers about logs over the real SDK client: RE2 patterns, clipped lines, size budgets, the logs resource."""

from __future__ import annotations

import json
from pathlib import Path

import mcp_types as types
import trio
from helpers_mcp import serving, structured, text_of
from test_mcp_tools import call, refused

from brummer.logs.reading import LINE_CHARS
from brummer.mcp.schemas import TOOLS_BY_NAME
from helpers import PY, load, write_project

LONG = """
import time
for i in range(40):
    print(f"{i} long line " + "x" * 70_000, flush=True)
print("port 5173 ready", flush=True)
time.sleep(300)
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "long.py").write_text(LONG)
    return write_project(
        tmp_path / "proj",
        brummer_toml=f'[processes.long]\ncmd = "{PY} {tmp_path / "long.py"}"\nready = "none"\ngrace = 1\n',
    )


async def test_patterns_are_re2_and_refusals_name_the_construct(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with serving(load(project(tmp_path)), ["long"]) as served, served.ws() as client:
            assert (await call(client, "wait_for", name="long", condition="log", pattern=r"^port \d+ ready$"))["met"]
            message = await refused(client, "logs_search", pattern=r"(?<=port )\d+")
            assert "lookbehind `(?<=` is not supported: brummer runs patterns on a linear-time engine (RE2)" in message
            message = await refused(client, "wait_for", name="long", condition="log", pattern=r"(\d)\1")
            assert "backreference `\\1` is not supported" in message
            found = await call(client, "logs_search", pattern=r"^port (\d+) ready$")
            assert [line["text"] for line in found["lines"]] == ["port 5173 ready"]
    for tool in ("logs_search", "wait_for"):
        assert "RE2" in json.dumps(TOOLS_BY_NAME[tool].input) + TOOLS_BY_NAME[tool].description
        assert "Python" not in json.dumps(TOOLS_BY_NAME[tool].input)


async def test_long_lines_are_clipped_and_big_answers_cut(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with serving(load(project(tmp_path)), ["long"]) as served, served.ws() as client:
            await call(client, "wait_for", name="long", condition="log", pattern="ready")
            tail = await call(client, "logs_tail", name="long", stream="stdout", limit=3, detail=True)
            assert all(65_536 < line["length"] < 65_700 for line in tail["lines"][:2])  # the store keeps 64 KiB
            assert all(len(line["text"]) < LINE_CHARS + 100 for line in tail["lines"])
            assert "clipped by brummer" in tail["lines"][0]["text"] and not tail["truncated"]
            brief = await client.call_tool("logs_tail", {"name": "long", "stream": "stdout", "limit": 3})
            lines = structured(brief)["lines"]  # compact: clipped shorter, so that all three fit in 2 KB
            assert len(lines) == 3 and all(len(line["text"]) < 400 and line["length"] > 65_536 for line in lines[:-1])
            assert lines[-1]["text"] == "port 5173 ready" and "truncated" not in structured(brief)
            assert len(text_of(brief).encode()) + len(json.dumps(structured(brief)).encode()) <= 2200

            whole = await call(
                client, "logs_tail", name="long", stream="stdout", limit=40, max_line_chars=66_560, detail=True
            )
            assert whole["truncated"] and 10 <= whole["count"] < 20 and "length" not in whole["lines"][0]
            assert whole["lines"][-1]["text"] == "port 5173 ready"  # a tail keeps the newest lines
            left_out = whole["earlier"]
            assert left_out["limit"] == 40 - whole["count"]
            rest = await call(
                client, "logs_tail", name="long", stream="stdout", **left_out, max_line_chars=100, detail=True
            )
            assert rest["count"] == left_out["limit"] and rest["lines"][-1]["seq"] == whole["lines"][0]["seq"] - 1
            assert rest["lines"][0]["text"].startswith("1 long line")  # the newest 40 of 41
            arguments = {"name": "long", "limit": 40, "max_line_chars": 66_560, "detail": True}
            result = await client.call_tool("logs_tail", arguments)
            assert "[answer cut at its size budget: read the earlier lines with since=" in text_of(result)

            resource = await client.read_resource("brummer://logs/long")
            (content,) = resource.contents
            assert isinstance(content, types.TextResourceContents) and len(content.text) < 400_000
            document = json.loads(content.text)
            assert document["truncated"] and document["lines"][-1]["text"] == "port 5173 ready"
            forward = await call(
                client, "logs_tail", name="long", since=0, limit=40, max_line_chars=66_560, detail=True
            )
            assert forward["truncated"] and forward["earlier"] is None
            assert forward["next"] == forward["lines"][-1]["seq"]  # continue exactly there
            assert structured(await client.call_tool("logs_search", {"pattern": "x{70}", "limit": 1}))["count"] == 1
