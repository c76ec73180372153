"""In a real browser: headless chromium (Debian's, driven by Playwright) loads a real Vite dev server (a small TS
app, tests/browser/app) through the proxy of a real ``brummer up --browser-eval``; agents see it over MCP.

One brummer, one Vite and one browser for the module (they take seconds to start); each test opens its own page.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio
from helpers_chromium import CHROMIUM_ARGS, chromium_path, vite_bin
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from helpers import PY, free_port, poll

APP = Path(__file__).resolve().parent / "app"
CONSOLE: dict[Any, list[str]] = {}  # the console messages of each open page


@dataclass
class Served:
    root: Path
    proxy: str  # http://127.0.0.1:PORT
    direct: str  # the Vite server itself, another origin
    env: dict[str, str]
    log: Path

    def line(self, needle: str) -> int:
        """The 1-based line of ``needle`` in the app's src/main.ts."""
        lines = (self.root / "src" / "main.ts").read_text().splitlines()
        return next(i for i, text in enumerate(lines, 1) if needle in text)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    chromium_path()
    vite = vite_bin()
    root = tmp_path_factory.mktemp("app")
    shutil.copytree(APP, root, dirs_exist_ok=True)
    port = free_port()
    (root / "brummer.toml").write_text(f'[processes.web]\ncmd = ["node", "{vite}", "--port", "{port}"]\n')
    runtime = tmp_path_factory.mktemp("xdg")
    runtime.chmod(0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "BRUMMER_PROXY_BASE_PORT": "0", "NO_COLOR": "1"}
    log = root.parent / "up.log"
    with log.open("wb") as sink:
        up = subprocess.Popen(
            [PY, "-m", "brummer", "up", "--plain", "--dir", str(root), "--mcp-port", "0", "--browser-eval"],
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        pattern = re.compile(r"url (http://\S+) → proxy (http://127\.0\.0\.1:\d+)/")
        while not (found := pattern.search(log.read_text())):
            assert up.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        while "MCP on" not in log.read_text():
            assert up.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield Served(root, found.group(2), found.group(1).rstrip("/"), env, log)
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
    assert up.returncode == 130 and "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def new_page(browser: Any, url: str) -> Iterator[Any]:
    """A page of its own, at ``url``, its console messages kept in ``CONSOLE[page]``."""
    page = browser.new_page()
    CONSOLE[page] = seen = []
    page.on("console", lambda message: seen.append(message.text))
    try:
        page.goto(url)
        yield page
    finally:
        page.close()
        del CONSOLE[page]


def edit(path: Path, text: str) -> None:
    """Save ``path`` as editors do, in one step (a new file renamed over it): a truncate-then-write can be seen
    half done by the dev server's watcher, whose next change event may then be throttled away."""
    fresh = path.with_name(path.name + ".saving")
    fresh.write_text(text)
    os.replace(fresh, path)


def wait_text(served: Served, page: Any, text: str) -> None:
    """Until the app shows ``text``; on timeout, fail with the page's console and brummer's log."""
    try:
        page.wait_for_function(f"document.getElementById('message').textContent === {text!r}", timeout=60_000)
    except Exception as exc:
        log = served.log.read_text()[-6000:]
        raise AssertionError(f"{exc}\nconsole: {CONSOLE[page]}\nbrummer up:\n{log}") from None


def wait_console(page: Any, text: str, seconds: float = 30) -> None:
    """Until the page logged ``text`` (Vite's "[vite] connected.": its HMR socket is open, edits reach it)."""
    deadline = time.monotonic() + seconds
    while not any(text in line for line in CONSOLE[page]):
        assert time.monotonic() < deadline, CONSOLE[page]
        page.wait_for_timeout(50)


def mcp_client(served: Served) -> Client:
    params = StdioServerParameters(command=PY, args=["-m", "brummer", "mcp", "--dir", str(served.root)], env=served.env)
    return Client(params, mode="legacy")


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's detailed answer (these tests read every field; compact answers are tests/mcp/test_mcp_sizes.py's)."""
    result = await client.call_tool(tool, {"detail": True, **arguments})
    assert not result.is_error, result
    assert result.structured_content is not None
    data: dict[str, Any] = result.structured_content
    return data


async def until(client: Client, tool: str, check: Any, served: Served, seconds: float = 60, **arguments: Any) -> Any:
    """Call ``tool`` until ``check(answer)`` holds; on timeout, fail with what was seen (and brummer's log)."""
    seen: list[dict[str, Any]] = [{}]

    async def ask() -> dict[str, Any]:
        seen[0] = await call(client, tool, **arguments)
        return seen[0]

    with contextlib.suppress(trio.TooSlowError):
        return await poll(ask, check, within=seconds, every=0.2)
    answer = seen[0]
    events = await call(client, "browser_events", limit=50)
    console = list(CONSOLE.values())
    raise AssertionError(
        f"{tool}: {answer}\nevents: {events}\nconsole: {console}\nbrummer up:\n{served.log.read_text()[-6000:]}"
    )


def browser_groups(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["message"]: g for g in answer["errors"] if g["family"] == "browser"}


async def test_hmr_applies_an_edit_through_the_proxy_and_the_overlay_error_comes_and_goes(
    served: Served, browser: Any
) -> None:
    with new_page(browser, served.proxy + "/") as page:
        wait_text(served, page, "hello from vite")
        page.evaluate("window.__marker = 'same page'")
        wait_console(page, "[vite] connected.")
        message = served.root / "src" / "message.ts"
        original = message.read_text()
        try:
            await hmr_and_overlay(served, page, message)
        finally:
            edit(message, original)  # the other tests load the app


async def hmr_and_overlay(served: Served, page: Any, message: Path) -> None:
    """An edit applied in place; a syntax error shows as Vite's overlay (a browser error group), fixed: gone."""
    edit(message, 'export const message: string = "hot through the proxy";\n')
    wait_text(served, page, "hot through the proxy")
    assert page.evaluate("window.__marker") == "same page"  # applied in place, not by a reload
    async with mcp_client(served) as client:
        edit(message, 'export const message: string = "unfinished;\n')  # a syntax error: Vite's overlay
        found = await until(client, "errors_list", lambda a: any("vite:error" in g["type"]
                            for g in browser_groups(a).values()), served, name="web")  # fmt: skip
        (overlay,) = [g for g in browser_groups(found).values() if "vite:error" in g["type"]]
        assert overlay["location"].startswith("src/message.ts")
        edit(message, 'export const message: string = "fixed";\n')
        wait_text(served, page, "fixed")
        await until(client, "errors_list", lambda a: not any("vite:error" in g["type"]
                    for g in browser_groups(a).values()), served, name="web")  # fmt: skip


async def test_console_error_and_click_exception_reach_errors_list_at_the_original_line(
    served: Served, browser: Any
) -> None:
    with new_page(browser, served.proxy + "/") as page:
        wait_text(served, page, "hello from vite")
        assert page.evaluate("window.__brummer !== undefined")
        page.click("#boom")
        async with mcp_client(served) as client:
            answer = await until(client, "errors_list", lambda a: len(browser_groups(a)) >= 2, served, name="web")
        groups = browser_groups(answer)
        thrown = groups["click failed: the button"]
        assert thrown["type"] == "Error"
        assert thrown["location"] == f"src/main.ts:{served.line('throw new Error')}:9"
        logged = next(g for m, g in groups.items() if m.startswith("boot check failed"))
        assert logged["type"] == "console.error" and '{"code":42}' in logged["message"]
        assert logged["location"] == f"src/main.ts:{served.line('console.error')}:9"


async def test_browser_tools_reload_navigate_and_eval_in_the_page(served: Served, browser: Any) -> None:
    with new_page(browser, served.proxy + "/") as page:
        page.wait_for_function("window.__brummer !== undefined")
        page.evaluate("window.__marker = 'before reload'")
        async with mcp_client(served) as client:
            sessions = await until(
                client, "browser_sessions", lambda a: any(s["connected"] for s in a["sessions"]), served
            )
            tab = next(s for s in sessions["sessions"] if s["connected"])
            assert tab["url"].startswith(served.proxy) and tab["title"] == "brummer telemetry test"
            evaluated = await call(
                client, "browser_eval", expression="[document.title, window.__marker]", session=tab["id"]
            )
            assert evaluated["value"] == ["brummer telemetry test", "before reload"]
            reloaded = await call(client, "browser_reload", session=tab["id"])
            assert reloaded["loaded"] is True
            after = await call(client, "browser_eval", expression="String(window.__marker)", session=tab["id"])
            assert after["value"] == "undefined"  # a fresh page
            went = await call(client, "browser_navigate", url="/?from=agent", session=tab["id"])
            assert went["loaded"] is True and went["url"].endswith("/?from=agent")
            assert (await call(client, "browser_eval", expression="location.search"))["value"] == "?from=agent"
            refused = await client.call_tool("browser_navigate", {"url": "https://example.com/"})
            assert refused.is_error
            events = await call(client, "browser_events", session=tab["id"], kind="timing")
            assert events["events"] and events["events"][0]["ttfb"] is not None
        page.wait_for_url("**/?from=agent")  # the browser itself went there


async def test_a_page_of_another_origin_cannot_reach_the_telemetry_socket(served: Served, browser: Any) -> None:
    with new_page(browser, served.direct + "/") as page:  # the dev server itself: another origin than the proxy's
        outcome = page.evaluate(
            """url => new Promise(done => {
                const ws = new WebSocket(url);
                ws.onopen = () => done("open");
                ws.onclose = () => done("refused");
            })""",
            served.proxy.replace("http://", "ws://") + "/__brummer__/ws",
        )
        assert outcome == "refused"
        assert "__brummer" not in page.content()  # and nothing was injected there: no proxy in between
