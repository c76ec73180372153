"""What the remote commands say: the tools' hints as commands, proxies that a configured target gives, and the time
``brummer wait`` itself waited."""

from __future__ import annotations

import re
from pathlib import Path

import trio
from helpers_remote import PY, brummer, demo, running_up

from brummer.remote import show
from brummer.remote.words import in_cli_words
from helpers import free_port, write_project
from helpers_cli import Up

# A server that prints nothing: only brummer.toml's proxy target says where it listens.
QUIET = """
import http.server, sys
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()
"""
TOOLS = re.compile(r"\b(scripts|logs|errors|urls|proxy|wait)_[a-z]+\b")


def test_tool_hints_become_commands() -> None:
    said = {
        "unknown process 'nope' (known: a, b); scripts_list shows them": "`brummer ps` shows them",
        "web is not running, so it cannot get there; start it with scripts_run": "start it with `brummer start web`",
        "job ended before it became ready; logs_tail shows why": "`brummer logs web` shows why",
        "runs to its end: wait_for condition=exited tells when": "`brummer wait web --exited` tells when",
        "(+3 more not shown; proxy_requests status=5xx lists them)": "`brummer requests --status 5xx` lists them",
        "brummer's notes: logs_tail name=brummer.": "`brummer logs brummer`.",
        "open a proxy URL (urls_list) in a browser": "(`brummer urls`)",
    }
    for tool_text, words in said.items():
        assert words in in_cli_words(tool_text, "web"), tool_text
        assert not TOOLS.search(in_cli_words(tool_text, "web")), tool_text
    assert in_cli_words("start it with scripts_run") == "start it with `brummer start NAME`"
    assert in_cli_words("unknown process 'logs_tail'", "x") == "unknown process 'logs_tail'"  # a value, not a hint
    assert in_cli_words("proxy_routes shows them") == "proxy_routes shows them"  # no command does that


async def test_configured_proxy_target_hints_and_errors(tmp_path: Path) -> None:
    port = free_port()
    root = write_project(
        tmp_path / "shop",
        **{"quiet.py": QUIET},
        brummer_toml=f"""
        default = ["web"]
        [processes.web]
        cmd = "{PY} quiet.py {port}"
        proxy = {{ target = "http://127.0.0.1:{port}" }}
        ready = "none"
        grace = 1
        [processes.idle]
        cmd = "sleep 300"
        ready = "none"
        grace = 1
        """,
    )
    d = str(root)
    async with running_up(root, tmp_path):
        urls = (await brummer("urls", "--json", "--dir", d, cwd=tmp_path)).json()["urls"]
        (row,) = urls
        assert row["process"] == "web" and row["url"] == f"http://127.0.0.1:{port}/" and row["configured"] is True
        proxy_url = row["proxy_url"]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", proxy_url), row
        table = await brummer("urls", "--dir", d, cwd=tmp_path)
        assert table.code == 0 and table.out.split() == ["PROCESS", "URL", "PROXY", "web", row["url"], proxy_url]

        for moment in ("running", "stopped"):
            ps = await brummer("ps", "--dir", d, cwd=tmp_path)
            header, *rows = ps.out.splitlines()
            assert header.split()[-2:] == ["PROXY", "URLS"], (moment, ps.out)
            web = next(line.split() for line in rows if line.startswith("web"))
            assert web[-2] == proxy_url, (moment, ps.out)
            if moment == "running":
                assert (await brummer("stop", "web", "--dir", d, cwd=tmp_path)).code == 0

        unknown = await brummer("start", "nope", "--dir", d, cwd=tmp_path)
        assert unknown.code == 1 and "; `brummer ps` shows the processes" in unknown.err, unknown
        assert not TOOLS.search(unknown.err), unknown
        idle = await brummer("wait", "idle", "--dir", d, cwd=tmp_path)
        assert idle.code == 1 and "start it with `brummer start idle`" in idle.err, idle
        assert not TOOLS.search(idle.err), idle


async def test_wait_says_the_commands_own_time(tmp_path: Path) -> None:
    """``brummer wait`` started before ``brummer up`` waits for it to register: that time counts."""
    root = demo(tmp_path / "shop")
    up: Up | None = None
    try:
        with trio.fail_after(120):
            async with trio.open_nursery() as nursery:
                done = []

                async def wait() -> None:
                    done.append(await brummer("wait", "web", "--timeout", "60", "--dir", str(root), cwd=tmp_path))

                nursery.start_soon(wait)
                await trio.sleep(4)  # the command's start-up takes part of this on a loaded machine, never all
                up = await Up.launch(root, tmp_path)
    finally:
        if up is not None:
            await up.stop()
    (waited,) = done
    assert waited.code == 0, waited
    said = re.fullmatch(r"web is ready \(after ([\d.]+)s\)\n", waited.out)
    assert said is not None, waited.out
    assert float(said.group(1)) >= 1.5, waited.out


def test_instance_text_is_shown_without_controls() -> None:
    assert show.clean("a\x1b\x07b\u202ec\u2066d\x9b") == "a??bcd?"
