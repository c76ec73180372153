"""The browser telemetry's MCP tools: the tabs (``browser_sessions``), what they reported (``browser_events``), and
commands into them (``browser_reload``, ``browser_navigate``, ``browser_eval``), over ``runtime.telemetry``.

``browser_eval`` runs code inside the user's own pages, where they may be logged in: it works only when the user
allowed it (``browser_eval = true`` in brummer.toml, or ``brummer up --browser-eval``).
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

from brummer.browser.telemetry import BrowserEvent, Session, Telemetry
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
    if runtime.telemetry is None:
        raise ToolError(f"no browser telemetry: {PROXY_OFF}")
    return runtime.telemetry


def _row(session: Session, now: float) -> str:
    state = "connected" if session.connected else "gone"
    title = f" “{text.clip(session.title, 80)}”" if session.title else ""
    return (
        f"{session.id} [{session.process}] {state} {text.clip(session.url, 200)}{title}, since "
        f"{text.ago(session.since, now)}, {session.loads} loads, {session.errors} errors"
    )


def _session_brief(session: Session) -> dict[str, Any]:
    """A tab as a compact answer has it: what its text row says, without empty fields."""
    row: dict[str, Any] = {"id": session.id, "process": session.process, "url": text.clip(session.url, 200)}
    row |= {key: value for key, value in (("connected", session.connected), ("errors", session.errors)) if value}
    return row


async def browser_sessions(runtime: Runtime, detail: bool = False) -> Answer:
    if runtime.telemetry is None:
        return Answer(f"no sessions: {PROXY_OFF}", {"sessions": [], "note": PROXY_OFF})
    sessions = list(runtime.telemetry.sessions.values())[::-1]
    if not sessions:
        return Answer("no browser tab has reported yet: open a proxy URL (urls_list) in a browser", {"sessions": []})
    now = time.time()
    header = f"{len(sessions)} browser tab{'s' if len(sessions) != 1 else ''}:"
    data: dict[str, Any] = {}
    said = text.listing(
        sessions,
        "sessions",
        data,
        row=lambda s: _row(s, now),
        brief=_session_brief,
        full=lambda s: s.to_dict(),
        detail=detail,
        header=header,
    )
    return Answer(said, data)


def _event_row(event: BrowserEvent) -> str:
    where = f" at {event.location}" if event.location else ""
    return f"#{event.id} {event.session} {event.kind}: {text.clip(event.text, 300)}{where}"


def _event_brief(event: BrowserEvent) -> dict[str, Any]:
    row: dict[str, Any] = {"id": event.id, "session": event.session, "kind": event.kind}
    row["text"] = text.clip(event.text, 300)
    if event.location:
        row["location"] = event.location
    return row


async def browser_events(
    runtime: Runtime,
    session: str | None = None,
    kind: str | None = None,
    since: int | None = None,
    limit: int = 10,
    detail: bool = False,
) -> Answer:
    telemetry = _telemetry(runtime)
    found = list(telemetry.select(session, kind, since))
    shown = found[:limit] if since is not None else found[-limit:][::-1]
    order = "oldest first" if since is not None else "newest first"
    cursor = max((e.id for e in shown), default=since or 0) if since is not None else telemetry.last_id
    if not shown:
        return Answer(f"no events\nnext: since={cursor}", {"events": [], "next": cursor})
    data: dict[str, Any] = {"next": cursor}
    said = text.listing(
        shown,
        "events",
        data,
        row=_event_row,
        brief=_event_brief,
        full=lambda e: e.to_dict(),
        detail=detail,
        header=f"{len(shown)} of {len(found)} events ({order}):",
        footer=f"next: since={cursor}",
        narrow="narrow with session or kind",
    )
    if since is not None and data.get("more"):  # reading forward: go on after the last one shown
        cursor = data["next"] = data["events"][-1]["id"]
        said = said.rsplit("\n", 1)[0] + f"\nnext: since={cursor}"
    return Answer(said, data)


async def browser_reload(runtime: Runtime, session: str | None = None, detail: bool = False) -> Answer:
    telemetry = _telemetry(runtime)
    tab = telemetry.pick(session)
    return await _go(telemetry, tab, {"cmd": "reload"}, "reloaded")


async def browser_navigate(runtime: Runtime, url: str, session: str | None = None, detail: bool = False) -> Answer:
    telemetry = _telemetry(runtime)
    tab = telemetry.pick(session)
    target = urljoin(tab.url if tab.url.startswith(tab.origin + "/") else tab.origin + "/", url)
    parts = urlsplit(target)
    if f"{parts.scheme}://{parts.netloc}" != tab.origin:
        raise ToolError(f"browser_navigate only goes to the tab's own origin ({tab.origin}), not {url!r}")
    return await _go(telemetry, tab, {"cmd": "navigate", "url": target}, f"went to {target} in")


async def browser_eval(runtime: Runtime, expression: str, session: str | None = None, detail: bool = False) -> Answer:
    telemetry = _telemetry(runtime)
    if not telemetry.allow_eval:
        raise ToolError(EVAL_OFF)
    tab = telemetry.pick(session)
    answer = await telemetry.command(tab, {"cmd": "eval", "expression": expression}, COMMAND_SECONDS)
    if not answer.get("ok"):
        raise ToolError(f"in tab {tab.id}: {text.clip(str(answer.get('error') or 'failed'), 1500)}")
    value = json.dumps(answer.get("value"), ensure_ascii=False)
    # compact: the JSON text only, clipped to the answer's budget (the value once more would double it)
    data = (
        {"session": tab.id, "value": answer.get("value"), "json": value}
        if detail
        else {
            "session": tab.id,
            "json": text.clip(value, 1600),
        }
    )
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
