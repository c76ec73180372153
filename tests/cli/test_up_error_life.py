"""`brummer up` (plain output) announces an error that a watch-mode tool reports fixed: ``types » resolved: ...``."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from helpers import PY, write_project
from helpers_cli import Brummer

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "errors" / "typescript" / "tsc5-watch-fixed.txt"

# tsc --watch as captured: two errors, then (once the test creates the gate) one fixed, then both.
REPLAY = f"""
import os, time
lines = open({str(FIXTURE)!r}, encoding="utf-8").read().splitlines()
cut = next(i for i, line in enumerate(lines) if "Found 2 errors" in line) + 1
print("\\n".join(lines[:cut]), flush=True)
while not os.path.exists("gate"):
    time.sleep(0.05)
print("\\n".join(lines[cut:]), flush=True)
time.sleep(300)
"""


async def test_plain_output_says_which_errors_were_resolved(tmp_path: Path) -> None:
    (tmp_path / "replay.py").write_text(REPLAY)
    root = write_project(
        tmp_path / "proj",
        brummer_toml=f'[processes.types]\ncmd = "{PY} -u {tmp_path / "replay.py"}"\nready = "none"\ngrace = 1\n',
    )
    brummer = await Brummer.start(["up", "--dir", str(root), "--no-mcp"], tmp_path)
    try:
        await brummer.wait_output("error [typescript TS2322] src/App.ts:2:14")
        assert "resolved" not in brummer.output
        (root / "gate").touch()
        await brummer.wait_output("resolved: TS2322 src/App.ts:2:14 Type 'number' is not assignable to type 'string'.")
        out = brummer.output
        first = re.search(r"types +» resolved: TS2322 src/App.ts:1:14 Type 'string' is not assignable", out)
        second = out.index("resolved: TS2322 src/App.ts:2:14")
        assert first and out.index("Found 1 error.") < first.start() < second  # in the order of the cycles
        assert out.count("» resolved") == 2
    finally:
        await brummer.stop(signal.SIGINT)
