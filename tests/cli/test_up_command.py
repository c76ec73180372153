"""`brummer up` end to end: output, exit codes, signals, and nothing left behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trio

from helpers import PY, pid_alive, serve_script, write_project
from helpers_cli import BRUMMER, Brummer, pids_in, run_brummer, run_brummer_async, wait_all_gone

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
    assert result.stdout.splitlines()[-1].endswith("brummer » every process has ended: exiting with 0")
    failing = write_project(tmp_path / "bad", Procfile="good: true\nbad: exit 7\n")
    result = run_brummer(["up", "--dir", str(failing)], tmp_path)
    assert result.returncode == 1
    assert re.search(r"^\d\d:\d\d:\d\d bad +» failed: exit code 7$", result.stdout, re.M)
    assert result.stdout.splitlines()[-1].endswith("brummer » every process has ended (bad failed): exiting with 1")


async def test_a_failed_start_on_request_does_not_end_brummer_up(tmp_path: Path) -> None:
    """`brummer stop web`, then `brummer start web` fails (its port taken, say): brummer up stays up for the next
    request, as it does after the stop; its MCP server (what `brummer ps` talks to) stays with it."""
    root = write_project(tmp_path / "p", Procfile="web: test -e ok && exec sleep 300 || exit 3\n")
    (root / "ok").touch()
    up = await Brummer.start(["up", "--plain", "--dir", str(root), "--mcp-port", "0"], tmp_path)
    try:
        await up.wait_output("MCP on ")
        assert (await run_brummer_async(["stop", "web", "--dir", str(root)], tmp_path)).returncode == 0
        (root / "ok").unlink()
        assert (await run_brummer_async(["start", "web", "--dir", str(root)], tmp_path)).returncode == 0
        await up.wait_output("web     » failed: exit code 3")
        await trio.sleep(0.5)  # it used to exit here, at once
        ps = await run_brummer_async(["ps", "--dir", str(root)], tmp_path)
        said = ps.stdout.decode()
        assert ps.returncode == 0 and re.search(r"^web +failed ", said, re.M), said + ps.stderr.decode()
        assert await up.stop() == 130
        assert "every process has ended" not in up.output
    finally:
        await up.kill()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
async def test_signals_stop_everything(tmp_path: Path, sig: int, code: int) -> None:
    root, pids = tree_project(tmp_path)
    brummer = await Brummer.start(["up", "--dir", str(root)], tmp_path)
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
        await brummer.kill()


async def test_kill_9_of_brummer_leaves_nothing_behind(tmp_path: Path) -> None:
    root, pids = tree_project(tmp_path)
    brummer = await Brummer.start(["up", "--dir", str(root)], tmp_path)
    try:
        await brummer.wait_output("ignoring TERM")
        await brummer.wait_output("url http://localhost:")  # web listens, so its URL is its own
        victims = pids_in(pids)
        assert len(victims) == 5
        await brummer.kill()  # SIGKILL: brummer cannot clean up; its guardian must
        await wait_all_gone(victims, timeout=30)
    finally:
        await brummer.kill()


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
    assert by_name["dev"]["source_file"] == "package.json"


def test_workspace_members_and_globs(tmp_path: Path) -> None:
    """`brummer ls` names each member's own package.json; `brummer up '*:dev'` runs every member's dev script."""
    root = write_project(
        tmp_path / "mono",
        package_json='{"name": "root", "scripts": {"dev": "echo root-dev"}, "workspaces": ["packages/*"]}',
    )
    for member in ("web", "api"):
        write_project(
            root / "packages" / member,
            package_json=f'{{"name": "{member}", "scripts": {{"dev": "echo {member}-dev-ran"}}}}',
        )
    listing = run_brummer(["ls", "--dir", str(root)], tmp_path)
    assert "packages/web/package.json" in listing.stdout and "packages/api/package.json" in listing.stdout
    result = run_brummer(["up", "--plain", "--no-mcp", "--dir", str(root), "*:dev"], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "web-dev-ran" in result.stdout and "api-dev-ran" in result.stdout
    assert "root-dev" not in result.stdout


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
    brummer = await Brummer.start(["up", "--dir", str(root), "--grace", "0.2"], tmp_path)
    try:
        await brummer.wait_output("stubborn | up")
        brummer.signal(signal.SIGTERM)
        assert await brummer.wait(timeout=20) == 143
        assert "exited: stopped (SIGKILL after 0.2s)" in brummer.output
    finally:
        await brummer.kill()


def _complete(shell: str, words: str, cword: int | str, cwd: Path) -> str:
    """Ask brummer for completions the way each shell's script does (fish passes the word, not its index)."""
    env = {"COMP_WORDS": words, "COMP_CWORD": str(cword), "_BRUMMER_COMPLETE": f"{shell}_complete"}
    return run_brummer([], cwd, env=env).stdout


def test_shell_completion(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", Procfile="web: x\nworker: y\napi: z\n")
    # bash, for real: the script `brummer completion bash` prints, loaded into bash and asked for completions.
    script = run_brummer(["completion", "bash"], tmp_path).stdout
    assert "_brummer_completion" in script
    asked = (
        f'eval "$({" ".join(BRUMMER)} completion bash)"; '
        'COMP_WORDS=(brummer up w); COMP_CWORD=2; _brummer_completion brummer; echo "${COMPREPLY[*]}"'
    )
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"  # the script runs `brummer` by name
    env = {**os.environ, "PATH": path}
    answer = subprocess.run(["bash", "-c", asked], cwd=root, capture_output=True, text=True, timeout=60, env=env)
    assert answer.stdout.split() == ["web", "worker"], answer.stderr
    # commands and flags, and names of another project given with --dir, through each shell's protocol
    assert "plain,completion" in _complete("bash", "brummer c", 1, root)
    assert "plain,--no-mcp" in _complete("bash", "brummer up --no", 2, root)
    assert "api" in _complete("zsh", f"brummer up --dir {root} a", 4, tmp_path)
    assert "api" in _complete("fish", f"brummer up --dir {root} a", "a", tmp_path)
    assert run_brummer(["completion", "tcsh"], tmp_path).returncode == 2


async def test_stdout_going_away_stops_everything_quietly(tmp_path: Path) -> None:
    """`brummer up | grep -m1 ready`: once grep has its line and exits, brummer stops everything and exits 141."""
    pidfile = tmp_path / "pids"
    root = write_project(
        tmp_path / "p",
        Procfile=(
            f"""talker: {PY} -u -c "import time; [print('line', i) or time.sleep(0.05) for i in range(600)]"\n"""
            f"sleeper: sh -c 'echo $$ >> {pidfile}; exec sleep 60'\n"
        ),
    )
    proc = await trio.lowlevel.open_process(
        [*BRUMMER, "up", "--no-mcp", "--dir", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        with trio.fail_after(30):
            seen = b""
            while not (b"talker  | line 3" in seen and pids_in(pidfile)):  # like grep -m1: read until the line ...
                seen += await proc.stdout.receive_some()
            await proc.stdout.aclose()  # ... then go away
            assert await proc.wait() == 141
            assert b"".join([chunk async for chunk in proc.stderr]) == b""  # quietly
        await wait_all_gone(pids_in(pidfile), timeout=10)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
