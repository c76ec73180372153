"""When a child cannot listen because its port is taken, brummer says who holds it (Linux: /proc)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

from brummer.logs.lines import strip
from brummer.logs.port_taken import find_port_taken
from brummer.supervise import ports, whois
from brummer.supervise.port_watch import guess_port
from brummer.supervise.state import ProcState
from helpers import PY, Running, free_port, load, running, serve_script, write_project

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ports"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
linux = pytest.mark.skipif(not ports.readable(), reason="who holds a port is read from /proc (Linux)")
BIND = "import socket, sys; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()"
STRANGER = BIND + "; print('up', flush=True); sys.stdin.read()"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_what_real_tools_print_when_their_port_is_taken(name: str) -> None:
    """Captured from the real tools (see expected.json): each sample is found once, with its port if it names one."""
    found = find_port_taken(strip((FIXTURES / name).read_text()))
    assert [taken.port for taken in found] == [EXPECTED[name]]


def test_lines_that_only_say_in_use_are_not_port_messages() -> None:
    assert find_port_taken("heap in use: 40 MB\nthe name 'x' is in use\n") == []


def test_a_flood_is_looked_at_only_at_its_ends() -> None:
    """A crash's last words end a big batch and are found; the middle of a flood is not scanned (it costs)."""
    flood = "x" * 80 + "\n"
    message = "Error: listen EADDRINUSE: address already in use :::3000\n"
    assert [t.port for t in find_port_taken(flood * 1000 + message)] == [3000]
    assert find_port_taken(flood * 500 + message + flood * 500) == []


@pytest.mark.parametrize(
    ("env", "commands", "port"),
    [
        ({"PORT": "4321"}, ["npm run dev"], 4321),
        ({}, ["python manage.py runserver 0.0.0.0:8001"], 8001),
        ({}, ["python manage.py runserver"], 8000),
        ({}, ["uvicorn app:app --port 9000"], 9000),
        ({}, ["vite -p 5175"], 5175),
        ({}, ["python app.py"], None),
        ({}, ["python3 -m http.server 18556"], 18556),
        ({}, ["python3 -m http.server --bind 127.0.0.1 8124"], 8124),
        ({}, ["python3 -m http.server -d 2024"], None),  # a directory named 2024, not a port
        ({}, ["python manage.py runserver --noreload 8002"], 8002),
        ({}, ["npx serve -l 3001 dist"], 3001),
        ({}, ["npx serve dist"], None),
        ({}, ["python3 serve.py 42 3000"], None),  # not a known server: its numbers mean anything
    ],
)
def test_the_port_a_portless_message_meant(env: dict[str, str], commands: list[str], port: int | None) -> None:
    assert guess_port([], env, commands) == port
    assert guess_port(["http://localhost:3333/"], env, commands) == 3333


@asynccontextmanager
async def stranger(port: int) -> AsyncIterator[trio.Process]:
    """A process the test starts itself (not under brummer) listening on ``port``."""
    proc = await trio.lowlevel.open_process(
        [PY, "-c", STRANGER, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        said = b""
        with trio.fail_after(20):
            while not said.endswith(b"\n"):
                said += await proc.stdout.receive_some(10)
        assert said == b"up\n"
        yield proc
    finally:
        proc.kill()
        with trio.CancelScope(shield=True):
            await proc.wait()


def notes(r: Running, name: str) -> list[str]:
    return [line.text for line in r.store.tail(name, limit=1000).lines if line.stream == "brummer"]


async def failed_with_note(r: Running, name: str) -> str:
    await r.wait_state(name, ProcState.FAILED, timeout=30)
    found = [text for text in notes(r, name) if text.startswith("port ")]
    assert len(found) == 1, notes(r, name)
    assert found[0] in r.sup.info(name).message  # also in the state: scripts_status, the panel
    return found[0]


@linux
async def test_a_port_held_by_a_stranger(tmp_path: Path) -> None:
    """Python's portless `OSError: [Errno 98]`: the port comes from the command line."""
    port = free_port()
    root = write_project(
        tmp_path,
        brummer_toml=f"""
        [processes.web]
        cmd = "{PY} -c \\"{BIND}\\" {port} --port {port}"
        """,
    )
    async with stranger(port) as holder, running(load(root), ["web"]) as r:
        note = await failed_with_note(r, "web")
        command = whois.short_command([PY, "-c", STRANGER, str(port)])
        assert note == f"port {port} is taken by pid {holder.pid} ({command}) — not started by brummer"


@linux
@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
async def test_a_port_held_by_another_process_of_this_brummer(tmp_path: Path) -> None:
    """Node's `listen EADDRINUSE` names the port; the holder is `api`, one of ours."""
    serve = serve_script(tmp_path)
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.api]
        cmd = "exec {serve} --port-file port"
        grace = 1
        [processes.web]
        cmd = "node -e \\"require('http').createServer().listen(+require('fs').readFileSync('port', 'utf8'))\\""
        depends_on = {{ api = "ready" }}
        """,
    )
    async with running(load(root), ["web"]) as r:
        note = await failed_with_note(r, "web")
        pid, port = r.sup.info("api").pid, (root / "port").read_text()
        command = whois.short_command([PY, "-u", str(tmp_path / "serve.py"), "--port-file", "port"])
        assert note == f'port {port} is taken by pid {pid} ({command}) — this brummer\'s process "api"'
        assert "EADDRINUSE" in " ".join(r.text("web"))


@linux
async def test_a_port_held_by_another_brummer(tmp_path: Path) -> None:
    """Two brummers (two instances in this test process): the note names the other one's process."""
    serve = serve_script(tmp_path)
    other = write_project(
        tmp_path / "other",
        brummer_toml=f"""
        [processes.site]
        cmd = "exec {serve} --port-file port"
        grace = 1
        """,
    )
    async with running(load(other), ["site"]) as first:
        await first.wait_state("site", ProcState.READY)
        port, pid = (other / "port").read_text(), first.sup.info("site").pid
        mine = write_project(
            tmp_path / "mine",
            brummer_toml=f"""
            [processes.web]
            cmd = "{PY} -c \\"{BIND}\\" {port}"
            env = {{ PORT = "{port}" }}
            """,
        )
        async with running(load(mine), ["web"]) as second:
            note = await failed_with_note(second, "web")
            assert re.fullmatch(
                rf'port {port} is taken by pid {pid} \(.*serve.py.*\) — another brummer\'s process "site"', note
            )


@linux
async def test_a_server_that_tries_another_port_is_told_who_holds_the_first(tmp_path: Path) -> None:
    """Vite and Next.js go on with another port: the note comes anyway, and the process keeps running."""
    port = free_port()
    script = (
        f"import socket; print('Port {port} is in use, trying another one...', flush=True); "
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); "
        "print(f'Local: http://localhost:{s.getsockname()[1]}/', flush=True); import time; time.sleep(300)"
    )
    (tmp_path / "vite.py").write_text(script)
    root = write_project(tmp_path / "p", Procfile=f"web: {PY} -u {tmp_path / 'vite.py'}\n")
    async with stranger(port) as holder, running(load(root), ["web"]) as r:
        await r.wait_state("web", ProcState.READY)
        await r.wait_for(lambda: any("is taken" in text for text in notes(r, "web")))
        said = f"port {port} is taken by pid {holder.pid} ({os.path.basename(PY)} -c import socket"
        assert said in " ".join(notes(r, "web"))


@linux
async def test_a_bare_port_on_the_command_line_of_a_known_server(tmp_path: Path) -> None:
    """`python3 -m http.server PORT`: Python's portless `[Errno 98]` is explained from the bare argument."""
    port = free_port()
    root = write_project(tmp_path, Procfile=f"web: {PY} -m http.server {port} --bind 127.0.0.1\n")
    async with stranger(port) as holder, running(load(root), ["web"]) as r:
        note = await failed_with_note(r, "web")
        assert note.startswith(f"port {port} is taken by pid {holder.pid} (")


@linux
async def test_the_port_of_the_previous_run_is_remembered(tmp_path: Path) -> None:
    """A server whose port is nowhere on its command line (read from a file here) listened on it in its last run:
    when a restart finds the port taken, the note names that port's holder."""
    port = free_port()
    (tmp_path / "port").write_text(str(port))
    server = (
        "import socket, time\n"
        "s = socket.socket()\n"
        "s.bind(('127.0.0.1', int(open('port').read())))\n"
        "s.listen()\n"
        "print(f'Local: http://127.0.0.1:{s.getsockname()[1]}/', flush=True)\n"
        "time.sleep(300)\n"
    )
    (tmp_path / "server.py").write_text(server)
    root = write_project(tmp_path, brummer_toml=f'[processes.web]\ncmd = "{PY} -u server.py"\ngrace = 1\n')
    async with running(load(root), ["web"]) as r:
        await r.wait_state("web", ProcState.READY, timeout=30)
        await r.sup.stop("web")
        async with stranger(port) as holder:
            await r.sup.start("web")
            note = await failed_with_note(r, "web")
            assert note.startswith(f"port {port} is taken by pid {holder.pid} (")
