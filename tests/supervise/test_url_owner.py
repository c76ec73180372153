"""A URL belongs to the process that listens on it, not to the first one that prints it (Linux: /proc)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from brummer.bus import ProcessChanged
from brummer.supervise import ports
from brummer.supervise.state import ProcState
from helpers import Running, free_port, load, running, serve_script, write_project

pytestmark = pytest.mark.skipif(not ports.readable(), reason="URL ownership is read from /proc (Linux)")


def seq_of(r: Running, name: str, needle: str) -> int:
    lines = r.store.tail(name, limit=1000).lines
    return next(line.seq for line in lines if needle in line.text)


async def test_a_url_printed_first_by_a_client_belongs_to_the_server(tmp_path: Path) -> None:
    """`web` prints the API's URL before `api` listens there: api gets it, becomes ready, its dependent starts."""
    port = free_port()
    serve = serve_script(tmp_path)
    url = f"http://localhost:{port}/"
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        default = ["web", "api", "app"]
        [processes.web]
        cmd = "echo 'proxying /api to {url}'; touch printed; sleep 300"
        grace = 1
        [processes.api]
        cmd = "while [ ! -e printed ]; do sleep 0.05; done; exec {serve} --port {port}"
        grace = 1
        [processes.app]
        cmd = "echo app started; sleep 300"
        depends_on = {{ api = "ready" }}
        ready = "none"
        grace = 1
        """,
    )
    async with running(load(root)) as r:
        await r.wait_state("app", ProcState.RUNNING, timeout=30)
        assert seq_of(r, "web", url) < seq_of(r, "api", url)  # web really printed it first
        assert r.store.urls() == {"api": [url]}
        api = r.sup.info("api")
        assert api.state is ProcState.READY and api.message == f"url {url}" and api.urls == (url,)
        assert r.sup.info("web").urls == ()


async def test_a_url_only_mentioned_is_not_claimed(tmp_path: Path) -> None:
    """A process that prints a URL nobody listens on does not get it, and `ready = { url = true }` keeps waiting;
    a server that names another URL before its own gets only its own."""
    nowhere = f"http://localhost:{free_port()}/"
    serve = serve_script(tmp_path)
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        default = ["talker", "server"]
        [processes.talker]
        cmd = "echo 'docs at {nowhere}'; sleep 0.3; echo more output; sleep 300"
        grace = 1
        [processes.server]
        cmd = "echo 'upstream {nowhere}'; exec {serve}"
        grace = 1
        """,
    )
    async with running(load(root)) as r:
        await r.wait_state("server", ProcState.READY)
        await r.wait_for(lambda: "more output" in r.text("talker"))
        own = r.sup.info("server").urls
        assert len(own) == 1 and own[0] != nowhere
        await trio.sleep(1.0)  # several re-checks (timer and output) have passed
        assert r.state("talker") is ProcState.RUNNING
        assert r.store.urls() == {"server": list(own)}


@pytest.mark.parametrize(
    ("options", "url_host"),
    [
        ("", "localhost"),  # bind, then print (Vite, Next.js, Flask)
        ("--print-first --delay 0.5 --host 0.0.0.0", "localhost"),  # print, then bind on every address (Django)
        ("--host ::1", "[::1]"),  # IPv6
    ],
)
async def test_a_server_gets_its_url_whether_it_prints_before_or_after_binding(
    tmp_path: Path, options: str, url_host: str
) -> None:
    port = free_port()
    serve = serve_script(tmp_path)
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.server]
        cmd = "{serve} --port {port} --url-host {url_host} {options}"
        grace = 1
        """,
    )
    async with running(load(root), ["server"]) as r:
        await r.wait_state("server", ProcState.READY)
        assert r.sup.info("server").urls == (f"http://{url_host}:{port}/",)


async def test_a_url_on_another_address_of_the_same_port_is_not_owned(tmp_path: Path) -> None:
    """Listening on 127.0.0.1 does not make a LAN address on the same port the process's."""
    serve = serve_script(tmp_path)
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.server]
        cmd = "{serve} --port-file port --prefix 'Network: ' --url-host 192.168.77.77"
        grace = 1
        """,
    )
    async with running(load(root), ["server"]) as r:
        await r.wait_for(lambda: "Network:" in " ".join(r.text("server")))
        await trio.sleep(0.5)
        assert r.state("server") is ProcState.RUNNING and r.store.urls() == {}


async def test_a_process_that_becomes_ready_has_its_printed_url_already(tmp_path: Path) -> None:
    """A probe (`tcp`, `http`) can pass before the port watch's backing-off timer looks at the URL again: the URL
    is checked the moment the process is ready, so `ready` is announced with it (smoke's BRUMMER_URL_*)."""
    port = free_port()
    serve = serve_script(tmp_path)
    url = f"http://localhost:{port}/"
    # printed at once, bound 1.7 s later: between the watch's re-checks at about 1.55 s and 3.15 s
    root = write_project(
        tmp_path / "p",
        brummer_toml=f"""
        [processes.api]
        cmd = "{serve} --port {port} --print-first --delay 1.7"
        ready = {{ tcp = {port} }}
        grace = 1
        """,
    )
    async with running(load(root), ["api"]) as r:
        await r.wait_state("api", ProcState.READY, timeout=30)
        events = await r.events.receive_batch()
        (ready,) = [e.info for e in events if isinstance(e, ProcessChanged) and e.info.state is ProcState.READY]
        assert ready.urls == (url,)
