"""`brummer up` end to end: output, exit codes, signals, and nothing left behind."""

from __future__ import annotations

import re
import signal
import textwrap
from pathlib import Path

import pytest

from helpers import PY, pid_alive, serve_script, write_project
from helpers_cli import Brummer, pids_in, run_brummer, wait_all_gone

TREE = """\
sleep 300 & echo $! >> {pids}
setsid sleep 301 & echo $! >> {pids}
{py} -c 'import os,signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); \\
open("{pids}", "a").write(f"{{os.getpid()}}\\n"); print("ignoring TERM", flush=True); time.sleep(302)' &
echo $$ >> {pids}
wait
"""


def tree_project(tmp_path: Path) -> tuple[Path, Path]:
    pids = tmp_path / "pids"
    (tmp_path / "tree.sh").write_text(TREE.format(pids=pids, py=PY))
    root = write_project(
        tmp_path / "proj",
        brummer_toml=f"""
        default = ["tree", "web"]
        [processes.tree]
        cmd = "sh {tmp_path / "tree.sh"}"
        grace = 1
        [processes.web]
        cmd = "echo $$ >> {pids}; exec {serve_script(tmp_path)}"
        grace = 1
        """,
    )
    return root, pids


def test_plain_output_and_exit_codes(tmp_path: Path) -> None:
    ok = write_project(tmp_path / "ok", Procfile="hello: echo hi there\nother: echo second\n")
    result = run_brummer(["up", "--dir", str(ok)], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\d\d:\d\d:\d\d hello +\| hi there$", result.stdout, re.M)
    assert re.search(r"^\d\d:\d\d:\d\d hello +» exited: exit code 0$", result.stdout, re.M)
    failing = write_project(tmp_path / "bad", Procfile="good: true\nbad: exit 7\n")
    result = run_brummer(["up", "--dir", str(failing)], tmp_path)
    assert result.returncode == 1
    assert re.search(r"^\d\d:\d\d:\d\d bad +» failed: exit code 7$", result.stdout, re.M)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
async def test_signals_stop_everything(tmp_path: Path, sig: int, code: int) -> None:
    root, pids = tree_project(tmp_path)
    brummer = Brummer(["up", "--dir", str(root)], tmp_path)
    try:
        await brummer.wait_output("ignoring TERM")
        await brummer.wait_output("url http://localhost:")  # web listens, so its URL is its own
        victims = pids_in(pids)
        assert len(victims) == 5 and all(pid_alive(p) for p in victims)
        brummer.signal(sig)
        assert await brummer.wait(timeout=30) == code
        assert not [p for p in victims if pid_alive(p)]
        out = brummer.output
        assert "SIGKILL" in out  # the TERM-ignorer needed it
        assert re.search(r"tree +» exited: stopped", out) and re.search(r"web +» exited: stopped", out)
    finally:
        brummer.kill()


async def test_kill_9_of_brummer_leaves_nothing_behind(tmp_path: Path) -> None:
    root, pids = tree_project(tmp_path)
    brummer = Brummer(["up", "--dir", str(root)], tmp_path)
    try:
        await brummer.wait_output("ignoring TERM")
        await brummer.wait_output("url http://localhost:")  # web listens, so its URL is its own
        victims = pids_in(pids)
        assert len(victims) == 5
        brummer.kill()  # SIGKILL: brummer cannot clean up; its guardian must
        await wait_all_gone(victims, timeout=30)
    finally:
        brummer.kill()


def test_config_errors_exit_2_and_start_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.web]
        cmd = "touch {marker}"
        grace = "soon"
        """,
    )
    result = run_brummer(["up", "--dir", str(root), "web"], tmp_path)
    assert result.returncode == 2
    assert re.search(r"brummer\.toml:3: .*grace", result.stderr), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not marker.exists()

    (root / "brummer.toml").write_text(
        textwrap.dedent(f"""
        [processes.a]
        cmd = "touch {marker}"
        depends_on = ["b"]
        [processes.b]
        cmd = "true"
        depends_on = ["a"]
        """)
    )
    result = run_brummer(["up", "--dir", str(root), "a"], tmp_path)
    assert result.returncode == 2 and "cycle" in result.stderr and "a -> b -> a" in result.stderr
    assert not marker.exists()

    ok = write_project(tmp_path / "ok", Procfile=f"web: touch {marker}\n")
    result = run_brummer(["up", "--dir", str(ok), "wbe"], tmp_path)
    assert result.returncode == 2 and "unknown process 'wbe'" in result.stderr and "web" in result.stderr
    assert not marker.exists()

    (ok / "package.json").write_text('{\n  "scripts": {\n    "dev": "x",\n  }\n}\n')
    result = run_brummer(["up", "--dir", str(ok)], tmp_path)
    assert result.returncode == 2 and "package.json:4" in result.stderr


def test_ls_json(tmp_path: Path) -> None:
    import json

    root = write_project(
        tmp_path,
        package_json='{"scripts": {"dev": "vite", "build": "vite build"}}',
        Procfile="worker: python worker.py\n",
    )
    (root / "pnpm-lock.yaml").write_text("")
    result = run_brummer(["ls", "--dir", str(root), "--json"], tmp_path)
    doc = json.loads(result.stdout)
    assert doc["package_manager"] == "pnpm"
    by_name = {p["name"]: p for p in doc["processes"]}
    assert by_name["dev"]["command"] == "pnpm run dev"
    assert by_name["worker"]["source"] == "Procfile" and by_name["worker"]["default"]


def test_colour_and_no_color(tmp_path: Path) -> None:
    root = write_project(tmp_path, Procfile="hello: printf '\\033[31mred\\033[0m\\n'\n")
    coloured = run_brummer(["up", "--dir", str(root)], tmp_path, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert "\x1b[" in coloured.stdout and "\x1b[31mred" in coloured.stdout
    plain = run_brummer(["up", "--dir", str(root)], tmp_path, env={"NO_COLOR": "1"})
    assert "\x1b" not in plain.stdout and "| red" in plain.stdout


def test_non_loopback_mcp_host_needs_allow_remote(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    root = write_project(tmp_path / "p", Procfile=f"web: touch {marker}\n")
    result = run_brummer(["up", "--dir", str(root), "--mcp-host", "0.0.0.0"], tmp_path)
    assert result.returncode == 2 and "--allow-remote" in result.stderr
    assert not marker.exists()


async def test_grace_flag_overrides_every_process(tmp_path: Path) -> None:
    ignorer = (
        f"{PY} -c 'import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        ' print("up", flush=True); time.sleep(60)\''
    )
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.stubborn]
        cmd = '''{ignorer}'''
        grace = 30
        """,
    )
    brummer = Brummer(["up", "--dir", str(root), "--grace", "0.2"], tmp_path)
    try:
        await brummer.wait_output("stubborn | up")
        brummer.signal(signal.SIGTERM)
        assert await brummer.wait(timeout=20) == 143
        assert "exited: stopped (SIGKILL after 0.2s)" in brummer.output
    finally:
        brummer.kill()
