"""The browser telemetry's MCP tools: the tabs (``browser_sessions``), what they reported (``browser_events``), and
commands into them (``browser_reload``, ``browser_navigate``, ``browser_eval``), over ``runtime.proxy.telemetry``.

``browser_eval`` runs code inside the user's own pages, where they may be logged in: it works only when the user
allowed it (``browser_eval = true`` in brummer.toml, or ``brummer up --browser-eval``).
"""

from __future__ import annotations

import json
import time
from urllib.parse import urljoin, urlsplit

from brummer.browser.telemetry import Session, Telemetry
from brummer.errors import ToolError
from brummer.mcp import text
from brummer.mcp.tools import PROXY_OFF, Answer
from brummer.runtime import Runtime

COMMAND_SECONDS = 10.0  # a tab's answer to a command
LOAD_SECONDS = 15.0  # the page a reload or navigation starts, until it reports in
EVAL_OFF = (
    "browser_eval is off: it runs code inside the user's pages (where they may be logged in). The user can allow "
    "it with `browser_eval = true` in brummer.toml or `brummer up --browser-eval`"
)


def _telemetry(runtime: Runtime) -> Telemetry:
    proxy = runtime.proxy
    if proxy is None or proxy.telemetry is None:
        raise ToolError(f"no browser telemetry: {PROXY_OFF}")
    return proxy.telemetry


def _row(session: Session, now: float) -> str:
    state = "connected" if session.connected else "gone"
    title = f" “{text.clip(session.title, 80)}”" if session.title else ""
    return (
        f"{session.id} [{session.process}] {state} {text.clip(session.url, 200)}{title}, since "
        f"{text.ago(session.since, now)}, {session.loads} loads, {session.errors} errors"
    )


async def browser_sessions(runtime: Runtime) -> Answer:
    proxy = runtime.proxy
    if proxy is None or proxy.telemetry is None:
        return Answer(f"no sessions: {PROXY_OFF}", {"sessions": [], "note": PROXY_OFF})
    sessions = list(proxy.telemetry.sessions.values())[::-1]
    now = time.time()
    header = f"{len(sessions)} browser tab{'s' if len(sessions) != 1 else ''}:" if sessions else ""
    body = (
        text.join_cut([_row(s, now) for s in sessions], header=header)
        if sessions
        else ("no browser tab has reported yet: open a proxy URL (urls_list) in a browser")
    )
    return Answer(body, {"sessions": [s.to_dict() for s in sessions]})


async def browser_events(
    runtime: Runtime, session: str | None = None, kind: str | None = None, since: int | None = None, limit: int = 10
) -> Answer:
    telemetry = _telemetry(runtime)
    found = list(telemetry.select(session, kind, since))
    shown = found[:limit] if since is not None else found[-limit:][::-1]
    rows = [
        f"#{e.id} {e.session} {e.kind}: {text.clip(e.text, 300)}" + (f" at {e.location}" if e.location else "")
        for e in shown
    ]
    order = "oldest first" if since is not None else "newest first"
    header = f"{len(shown)} of {len(found)} events ({order}):" if shown else "no events"
    cursor = max((e.id for e in shown), default=since or 0) if since is not None else telemetry.last_id
    body = text.join_cut(rows, header=header, more="narrow with session or kind")
    return Answer(f"{body}\nnext: since={cursor}", {"events": [e.to_dict() for e in shown], "next": cursor})


async def browser_reload(runtime: Runtime, session: str | None = None) -> Answer:
    telemetry = _telemetry(runtime)
    tab = telemetry.pick(session)
    return await _go(telemetry, tab, {"cmd": "reload"}, "reloaded")


async def browser_navigate(runtime: Runtime, url: str, session: str | None = None) -> Answer:
    telemetry = _telemetry(runtime)
    tab = telemetry.pick(session)
    target = urljoin(tab.url if tab.url.startswith(tab.origin + "/") else tab.origin + "/", url)
    parts = urlsplit(target)
    if f"{parts.scheme}://{parts.netloc}" != tab.origin:
        raise ToolError(f"browser_navigate only goes to the tab's own origin ({tab.origin}), not {url!r}")
    return await _go(telemetry, tab, {"cmd": "navigate", "url": target}, f"went to {target} in")


async def browser_eval(runtime: Runtime, expression: str, session: str | None = None) -> Answer:
    telemetry = _telemetry(runtime)
    if not telemetry.allow_eval:
        raise ToolError(EVAL_OFF)
    tab = telemetry.pick(session)
    answer = await telemetry.command(tab, {"cmd": "eval", "expression": expression}, COMMAND_SECONDS)
    if not answer.get("ok"):
        raise ToolError(f"in tab {tab.id}: {text.clip(str(answer.get('error') or 'failed'), 1500)}")
    value = json.dumps(answer.get("value"), ensure_ascii=False)
    data = {"session": tab.id, "value": answer.get("value"), "json": value}
    return Answer(f"tab {tab.id} ({text.clip(tab.url, 200)}):\n{text.clip(value, 1800)}", data)


async def _go(telemetry: Telemetry, tab: Session, command: dict[str, str], did: str) -> Answer:
    loads = tab.loads
    answer = await telemetry.command(tab, command, COMMAND_SECONDS)
    if not answer.get("ok"):
        raise ToolError(f"tab {tab.id}: {text.clip(str(answer.get('error') or 'refused'), 500)}")
    loaded = await telemetry.wait_load(tab, loads, LOAD_SECONDS)
    state = f"{_row(tab, time.time())}" if loaded else f"no new page reported within {LOAD_SECONDS:g} s"
    data = {"session": tab.id, "loaded": loaded, "url": tab.url, "title": tab.title}
    return Answer(f"{did} tab {tab.id}: {state}\n(browser_events session={tab.id} shows what it reported)", data)
