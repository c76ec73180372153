"""The remote commands while an agent's headless ``brummer mcp`` runs the project: exit 3, and the advice is true.

"start one with `brummer up`" would be wrong there (that ``brummer up`` is refused: the headless one holds the
project), so the line names the headless ``brummer mcp`` and what to do instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import trio
from helpers_remote import brummer
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from brummer import registry
from helpers import PY, wait_until, write_project
from helpers_cli import Brummer


async def test_remote_commands_name_the_headless_brummer_mcp(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", Procfile="web: sleep 60\n").resolve()
    (root / "sub").mkdir()
    params = StdioServerParameters(
        command=PY, args=["-m", "brummer", "mcp", "--dir", str(root)], cwd=str(tmp_path), env=dict(os.environ)
    )
    with trio.fail_after(120):
        async with Client(params, mode="legacy") as agent:
            assert not (await agent.call_tool("scripts_run", {"name": "web"})).is_error
            (headless,) = registry.entries(root)
            assert headless.kind is registry.Kind.HEADLESS and headless.runs
            results = {}
            for args in (["ps"], ["logs"], ["start", "web"], ["wait", "web", "--timeout", "30"]):
                results[args[0]] = await brummer(*args, "--dir", str(root / "sub"), cwd=tmp_path)
            up = await brummer("up", "--plain", "--no-mcp", "--dir", str(root), cwd=tmp_path)
    for command, done in results.items():
        assert done.code == 3, (command, done)
        assert done.out == "", (command, done)
        (line,) = done.err.splitlines()
        assert line.startswith(
            f"brummer: no brummer up runs {root}: an agent's headless brummer mcp (pid {headless.pid}"
        )
        assert "has no server to ask" in line and "end that agent's session" in line, line
        assert "start one with" not in line, line
    assert up.code == 2 and f"headless brummer mcp (pid {headless.pid}" in up.err  # the advice not given is refused


async def test_remote_commands_name_a_running_brummer_smoke(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", Procfile="web: sleep 60\n").resolve()
    smoke = await Brummer.start(["smoke", "--check", "sleep 60", "--dir", str(root)], tmp_path)
    try:

        def smoke_runs() -> bool:
            assert smoke.proc.poll() is None, smoke.output
            return any(e.kind is registry.Kind.SMOKE and e.runs for e in registry.entries(root))

        await wait_until(smoke_runs, within=60)
        done = await brummer("ps", "--dir", str(root), cwd=tmp_path)
    finally:
        await smoke.stop()
    assert done.code == 3, done
    assert done.err.strip() == (
        f"brummer: no brummer up runs {root}: brummer smoke (pid {smoke.proc.pid}) does, and it has no server to ask; "
        "it stops everything and exits once its checks are done"
    )
