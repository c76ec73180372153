"""The answers the proxy gives itself: a small error page when the upstream cannot answer (HTML for browsers, JSON for
API clients, chosen by ``Accept``), refusals (not an open proxy, a foreign Host), and ``/__brummer__/``.

The HTML page refreshes itself every few seconds, so a browser tab pointed at a restarting dev server comes back
on its own. Everything shown is escaped: process messages come from child output.
"""

from __future__ import annotations

import html
import json

from brummer.supervise.state import ProcessInfo

REASONS = {
    400: b"Bad Request",
    403: b"Forbidden",
    404: b"Not Found",
    405: b"Method Not Allowed",
    421: b"Misdirected Request",
    431: b"Request Header Fields Too Large",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
}
REFRESH_SECONDS = 2

_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="{refresh}">
<title>{status} · {process} · brummer</title>
<style>body{{font:15px/1.5 system-ui,sans-serif;margin:3em auto;max-width:42em;color:#222}}
code{{background:#f3f3f3;padding:.1em .3em}}small{{color:#777}}</style></head>
<body><h1>{title}</h1><p>{detail}</p><p>Process <code>{process}</code> is <b>{state}</b>{message}.</p>
<p><small>brummer's proxy for {upstream} · this page reloads every {refresh} s</small></p></body></html>
"""


def wants_json(accept: bytes) -> bool:
    """API clients (fetch, curl, agents) get JSON; a browser navigation asks for text/html."""
    return b"text/html" not in accept


def response(status: int, body: bytes, content_type: bytes, *, close: bool = False) -> bytes:
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nCache-Control: no-store\r\n" % (
        status,
        REASONS.get(status, b"Error"),
        content_type,
        len(body),
    )
    if close:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + body


def upstream_failed(
    status: int, reason: str, process: str, upstream: str, info: ProcessInfo | None, accept: bytes, close: bool
) -> bytes:
    """The page for "the upstream did not answer": what happened, and the process's state."""
    state = str(info.state) if info is not None else "unknown"
    message = info.message if info is not None else ""
    title = "The dev server did not answer" if status == 502 else "The dev server took too long to answer"
    if wants_json(accept):
        doc = {
            "error": "upstream " + ("unavailable" if status == 502 else "timeout"),
            "reason": reason,
            "process": process,
            "state": state,
            "message": message,
            "upstream": upstream,
        }
        return response(status, json.dumps(doc).encode(), b"application/json", close=close)
    page = _HTML.format(
        refresh=REFRESH_SECONDS,
        status=status,
        title=html.escape(title),
        detail=html.escape(f"{upstream}: {reason}."),
        process=html.escape(process),
        state=html.escape(state),
        message=html.escape(f" ({message})") if message else "",
        upstream=html.escape(upstream),
    )
    return response(status, page.encode(), b"text/html; charset=utf-8", close=close)


def refusal(status: int, text: str, accept: bytes = b"") -> bytes:
    """A request the proxy will not forward; the connection closes after it."""
    if wants_json(accept):
        return response(status, json.dumps({"error": text}).encode(), b"application/json", close=True)
    return response(status, text.encode() + b"\n", b"text/plain; charset=utf-8", close=True)
