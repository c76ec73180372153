"""The proxy hooks of the telemetry: ``<script src="/__brummer__/client.js">`` into the head of HTML pages.

Only HTML navigations get it (GET, ``Sec-Fetch-Dest: document`` or an ``Accept`` that prefers HTML, a 2xx
``text/html`` answer that is not compressed); such requests ask the upstream for identity encoding, so nothing has to
be decompressed. Every other request pays one comparison per hook: a method or a content-type prefix.

The tag goes right after ``<head ...>``, or before the first tag after the doctype, comments and ``<html ...>`` when
there is no head. The scan keeps its place across chunks (a head split anywhere is found, in linear time) and looks
at most ``LOOKAHEAD`` bytes ahead: a page that does not decide by then is passed on untouched.

CSP is never weakened: a policy whose ``script-src`` carries a nonce gets the script with that nonce (the page's own
policy allows it, with or without ``'strict-dynamic'``); one that allows same-origin scripts and connections gets it
plainly; any other page is left alone, and brummer says so once per process.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from brummer.proxy.hooks import BodyRewriter
from brummer.proxy.messages import Request, ResponseReader

if TYPE_CHECKING:
    from brummer.browser.telemetry import Telemetry

SCRIPT_PATH = b"/__brummer__/client.js"
TAG = b'<script src="/__brummer__/client.js"></script>'
NONCE_TAG = b'<script src="/__brummer__/client.js" nonce="%s"></script>'
IDENTITY = b"Accept-Encoding: identity\r\n"
LOOKAHEAD = 16 * 1024  # bytes of a page scanned for its head before giving up
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")
_NAME = re.compile(rb"<([A-Za-z][A-Za-z0-9-]*)")
_NONCE = re.compile(r"'nonce-([A-Za-z0-9+/_=-]{1,200})'")
_SAME_ORIGIN = ("'self'", "*", "http:", "http://127.0.0.1:*", "http://localhost:*")
NEED_MORE = -1
BOM = b"\xef\xbb\xbf"


def prefers_html(accept: bytes) -> bool:
    """Whether HTML ranks first in ``accept`` (ties count for HTML): a browser navigation's Accept."""
    best_html, best_other = -1.0, 0.0
    for item in accept.split(b","):
        media, _, params = item.partition(b";")
        quality = 1.0
        for param in params.split(b";"):
            name, _, value = param.partition(b"=")
            if name.strip().lower() == b"q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media.strip().lower() in _HTML_TYPES:
            best_html = max(best_html, quality)
        else:
            best_other = max(best_other, quality)
    return best_html > 0 and best_html >= best_other


def is_navigation(req: Request) -> bool:
    """A browser asking for a page to show (only called for GETs whose Accept mentions text/html)."""
    for line in req.lines:
        if line[:15].lower() == b"sec-fetch-dest:":
            return line[15:].strip().lower() == b"document"
    return prefers_html(req.accept)


def header_values(lines: list[bytes], name: bytes) -> list[str]:
    """The values of header ``name`` (lower case, with the colon) in raw head lines."""
    size = len(name)
    return [line[size:].strip().decode("latin-1") for line in lines if line[:size].lower() == name]


def csp_verdict(policies: list[str]) -> tuple[bytes | None, str]:
    """(the tag to insert, or None; why not). Every policy must allow the script and its WebSocket."""
    nonce = ""
    for policy in policies:
        directives: dict[str, list[str]] = {}
        for part in policy.split(";"):
            words = part.split()
            if words:
                directives.setdefault(words[0].lower(), words[1:])
        default = directives.get("default-src")
        scripts = directives.get("script-src-elem", directives.get("script-src", default))
        connects = directives.get("connect-src", default)
        if scripts is not None:
            found = next((m.group(1) for s in scripts if (m := _NONCE.fullmatch(s))), None)
            lowered = [s.lower() for s in scripts]
            if found is not None:
                nonce = nonce or found
            elif "'strict-dynamic'" in lowered or not any(s in _SAME_ORIGIN for s in lowered):
                return None, f"its script-src does not allow same-origin scripts ({' '.join(scripts)[:200]})"
        if connects is not None and not any(s.lower() in (*_SAME_ORIGIN, "ws:") for s in connects):
            return None, f"its connect-src does not allow the page's own origin ({' '.join(connects)[:200]})"
    if nonce:
        return NONCE_TAG % nonce.encode(), ""
    return TAG, ""


class TelemetryHooks:
    """The hooks of one target (``Proxy.hooks_for``): identity encoding for navigations, the tag for their pages."""

    __slots__ = ("process", "telemetry")

    def __init__(self, telemetry: Telemetry, process: str) -> None:
        self.telemetry = telemetry
        self.process = process

    def request(self, req: Request) -> None:
        if req.method == b"GET" and b"text/html" in req.accept and is_navigation(req):
            req.lines = [line for line in req.lines if line[:16].lower() != b"accept-encoding:"]
            req.lines.append(IDENTITY)

    def response(self, req: Request, resp: ResponseReader) -> BodyRewriter | None:
        if resp.content_type[:9].lower() != b"text/html" or req.method != b"GET":
            return None
        if not 200 <= resp.status < 300 or resp.status in (204, 205, 206) or (resp.complete and not resp.pieces):
            return None
        if b"text/html" not in req.accept or not is_navigation(req):
            return None
        if any(value.lower() not in ("", "identity") for value in header_values(resp.lines, b"content-encoding:")):
            return None  # the upstream compressed it anyway: left alone rather than decompressed
        tag, why = csp_verdict(header_values(resp.lines, b"content-security-policy:"))
        if tag is None:
            self.telemetry.note_once(
                self.process, "csp", f"browser telemetry not injected: the page's Content-Security-Policy blocks it: "
                f"{why}; brummer does not weaken a CSP (allow 'self', or use a nonce)",
            )  # fmt: skip
            return None
        return HeadInjector(tag, self.telemetry, self.process)


class HeadInjector:
    """Inserts ``tag`` into one HTML document as it streams (``BodyRewriter``)."""

    __slots__ = ("done", "held", "pos", "process", "tag", "telemetry")

    def __init__(self, tag: bytes, telemetry: Telemetry | None = None, process: str = "") -> None:
        self.tag = tag
        self.telemetry = telemetry
        self.process = process
        self.held = b""  # bytes scanned but not yet passed on
        self.pos = 0  # where the scan goes on in ``held`` (everything before it is doctype, comments, <html>)
        self.done = False

    def feed(self, data: bytes) -> bytes:
        if self.done:
            return data
        buf = self.held + data if self.held else data
        at, self.pos = insertion_point(buf, self.pos)
        if at == NEED_MORE:
            if len(buf) <= LOOKAHEAD:
                self.held = buf
                return b""
            self.done, self.held = True, b""
            if self.telemetry is not None:
                self.telemetry.note_once(
                    self.process, "head", f"browser telemetry not injected: no <head> in a page's first {LOOKAHEAD} B"
                )
            return buf
        self.done, self.held = True, b""
        return buf[:at] + self.tag + buf[at:]

    def end(self) -> bytes:
        if self.done:
            return b""
        self.done, buf, self.held = True, self.held, b""
        at, _ = insertion_point(buf, self.pos)
        at = len(buf) if at == NEED_MORE else at  # a page with no tag at all: the script still runs at its end
        return buf[:at] + self.tag + buf[at:]


def insertion_point(buf: bytes, pos: int) -> tuple[int, int]:
    """(where the tag goes, or ``NEED_MORE``; where to resume scanning when more comes)."""
    size = len(buf)
    if pos == 0 and buf[:3] == BOM[: len(buf)]:
        if size < 3:
            return NEED_MORE, 0
        pos = 3 if buf.startswith(BOM) else 0
    while True:
        while pos < size and buf[pos] in b" \t\r\n\f":
            pos += 1
        if pos >= size or (pos + 1 >= size and buf[pos] == 0x3C):
            return NEED_MORE, pos
        if buf[pos] != 0x3C:  # text before any tag: the script goes right here
            return pos, pos
        if buf.startswith(b"<!--", pos):
            end = buf.find(b"-->", pos + 4)
            if end < 0:
                return NEED_MORE, pos
            pos = end + 3
            continue
        if buf[pos + 1] in b"!?":  # the doctype, a processing instruction
            end = buf.find(b">", pos)
            if end < 0:
                return NEED_MORE, pos
            pos = end + 1
            continue
        match = _NAME.match(buf, pos)
        if match is None:
            return pos, pos  # "<" and no tag name: text
        if match.end() == size:
            return NEED_MORE, pos  # the name may go on
        name = match.group(1).lower()
        if name not in (b"html", b"head"):
            return pos, pos
        end = buf.find(b">", match.end())
        if end < 0:
            return NEED_MORE, pos
        if name == b"head":
            return end + 1, end + 1
        pos = end + 1
