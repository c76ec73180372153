"""Errors that go away when fixed, end to end: real children print real tool output (the fixture corpus), the
real store resolves, and the MCP tool and resource say so through the real SDK client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mcp_types as types
import trio
from helpers_mcp import serving, structured, text_of
from mcp import Client

from helpers import PY, load, poll, write_project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "errors"

# Prints a fixture up to a line, waits for the test to create the gate file, prints the rest, stays up.
REPLAY = """
import os, sys, time
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
cut = next(i for i, line in enumerate(lines) if sys.argv[2] in line) + 1
print("\\n".join(lines[:cut]), flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
print("\\n".join(lines[cut:]), flush=True)
time.sleep(300)
"""

# eslint as `brummer` runs a lint script again and again: the first run finds errors (exit 1), the next is clean.
LINT = """
import os, sys
runs = sys.argv[2]
first = not os.path.exists(runs)
open(runs, "a").write("run\\n")
if first:
    print(open(sys.argv[1], encoding="utf-8").read(), end="", flush=True)
    sys.exit(1)
"""


def project(tmp_path: Path) -> Path:
    (tmp_path / "replay.py").write_text(REPLAY)
    (tmp_path / "lint.py").write_text(LINT)
    tsc = FIXTURES / "typescript" / "tsc5-watch-fixed.txt"
    eslint = FIXTURES / "eslint" / "eslint10-stylish.txt"
    return write_project(
        tmp_path / "proj",
        brummer_toml=f"""
        default = ["types"]
        [processes.types]
        cmd = "{PY} -u {tmp_path / "replay.py"} {tsc} 'Found 2 errors' {tmp_path / "gate"}"
        ready = "none"
        grace = 1
        [processes.lint]
        cmd = "{PY} {tmp_path / "lint.py"} {eslint} {tmp_path / "runs"}"
        ready = "none"
        """,
    )


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    return structured(await client.call_tool(tool, arguments))


async def until(client: Client, tool: str, check: Any, **arguments: Any) -> dict[str, Any]:
    return await poll(lambda: call(client, tool, **arguments), check, within=20)


async def test_errors_list_hides_what_a_clean_cycle_resolved_and_shows_it_on_request(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with serving(load(project(tmp_path))) as served, served.ws() as client:
            before = await until(client, "errors_list", lambda a: a["total"] == 2)
            assert {g["location"] for g in before["errors"]} == {"src/App.ts:1:14", "src/App.ts:2:14"}
            assert all("state" not in g for g in before["errors"])  # compact: only open ones, so no state
            (tmp_path / "gate").touch()  # tsc reports the fix: "Found 1 error", then "Found 0 errors"
            after = await until(client, "errors_list", lambda a: a["total"] == 0)
            assert after["errors"] == []
            result = await client.call_tool("errors_list", {"include_resolved": True})
            everything = structured(result)
            assert everything["total"] == 2
            assert {(g["location"], g["state"], g["resolved_by"]) for g in everything["errors"]} == {
                ("src/App.ts:1:14", "resolved", "tsc: Found 1 error"),
                ("src/App.ts:2:14", "resolved", "tsc: Found 0 errors"),
            }
            full = await call(client, "errors_list", include_resolved=True, detail=True)
            assert all(isinstance(g["resolved_at"], float) and g["reopened"] == 0 for g in full["errors"])
            assert "resolved" in text_of(result) and "tsc: Found 0 errors" in text_of(result)
            resource = await client.read_resource("brummer://errors")
            (errors,) = resource.contents
            assert isinstance(errors, types.TextResourceContents)
            document = json.loads(errors.text)
            assert document["errors"] == [] and document["total"] == 0


async def test_a_clean_lint_run_resolves_the_errors_of_the_run_before(tmp_path: Path) -> None:
    with trio.fail_after(60):
        async with serving(load(project(tmp_path)), ["types"]) as served, served.ws() as client:
            await call(client, "scripts_run", name="lint")
            await call(client, "wait_for", name="lint", condition="exited")
            first = await until(client, "errors_list", lambda a: a["total"] == 4, name="lint", detail=True)
            assert {g["family"] for g in first["errors"]} == {"eslint"}
            await call(client, "scripts_run", name="lint")  # fixed: eslint prints nothing and exits 0
            await until(client, "errors_list", lambda a: a["total"] == 0, name="lint")
            resolved = await call(client, "errors_list", name="lint", include_resolved=True)
            assert {g["resolved_by"] for g in resolved["errors"]} == {"eslint: exit code 0"}
            assert len((tmp_path / "runs").read_text().splitlines()) == 2
