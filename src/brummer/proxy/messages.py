"""HTTP/1 heads as the relay sees them: httptools' callbacks fill flat objects, and heads are rebuilt for the other
side without hop-by-hop headers (RFC 9110 7.6.1: Connection and what it names, Keep-Alive, Proxy-*, TE, Trailer,
Transfer-Encoding, Upgrade except on upgrades); the relay chooses the framing.

httptools' callbacks are synchronous and run inside ``feed_data``: they only record what they see (pipelined
requests queue up), and the relay does the I/O afterwards. Two pitfalls shape this module: ``should_keep_alive()``
is only right inside ``on_headers_complete`` (afterwards the flags are reset), and the response parser does not know
that a request was HEAD, so such a response ends at its head and the parser is replaced.
"""

from __future__ import annotations

from collections import deque

import httptools

# lower-cased header name -> how it is treated; every other header passes as it came
HOP, HOST, CONNECTION, TRANSFER, LENGTH, UPGRADE, EXPECT, XFF, XFPROTO, XFHOST, ACCEPT, CTYPE, LOCATION = range(13)
SPECIAL = {
    b"connection": CONNECTION,
    b"keep-alive": HOP,
    b"proxy-connection": HOP,
    b"proxy-authenticate": HOP,
    b"proxy-authorization": HOP,
    b"te": HOP,
    b"trailer": HOP,
    b"transfer-encoding": TRANSFER,
    b"content-length": LENGTH,
    b"upgrade": UPGRADE,
    b"host": HOST,
    b"expect": EXPECT,
    b"x-forwarded-for": XFF,
    b"x-forwarded-proto": XFPROTO,
    b"x-forwarded-host": XFHOST,
    b"accept": ACCEPT,
    b"content-type": CTYPE,
    b"location": LOCATION,
}
_CONNECTION_TOKENS = frozenset({b"close", b"keep-alive", b"upgrade", b""})


def _drop_named(lines: list[bytes], connection: bytes) -> list[bytes]:
    """Also drop the headers that ``Connection`` names (rare: only when it names more than close/keep-alive)."""
    named = {token.strip() for token in connection.split(b",")} - _CONNECTION_TOKENS
    if not named:
        return lines
    return [line for line in lines if line.split(b":", 1)[0].strip().lower() not in named]


class Request:
    """One request from a client, filled by ``RequestReader`` while its bytes arrive."""

    __slots__ = (
        "accept",
        "body_bytes",
        "chunked",
        "complete",
        "connection",
        "expect",
        "head_done",
        "host",
        "keep_alive",
        "length_line",
        "lines",
        "method",
        "pieces",
        "upgrade",
        "url",
        "version",
        "xff",
        "xfhost",
        "xfproto",
    )

    def __init__(self) -> None:
        self.method = b""
        self.url = b""
        self.version = "1.1"
        self.lines: list[bytes] = []  # kept header lines, b"Name: value\r\n"
        self.host = b""
        self.connection = b""
        self.length_line: bytes | None = None
        self.chunked = False
        self.upgrade: bytes | None = None  # the Upgrade header's value, when the parser saw an upgrade
        self.expect = False
        self.xff: bytes | None = None
        self.xfproto = False
        self.xfhost = False
        self.accept = b""
        self.keep_alive = True
        self.head_done = False
        self.complete = False
        self.pieces: list[bytes] = []  # body bytes received and not yet relayed
        self.body_bytes = 0


class RequestReader:
    """Parses what a client sends; complete heads queue up in ``requests`` (pipelining), bodies in each request."""

    __slots__ = ("current", "parser", "requests", "upgrade_rest")

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.requests: deque[Request] = deque()
        self.current = Request()
        self.upgrade_rest: bytes | None = None  # bytes after an upgrade request's head (the new protocol's)

    def feed(self, data: bytes) -> None:
        """Raises ``httptools.HttpParserError`` on a malformed request."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgrade_rest = data[exc.args[0] :]

    # -- httptools callbacks --------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.current = Request()
        self.requests.append(self.current)

    def on_url(self, url: bytes) -> None:
        self.current.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        req = self.current
        if req.head_done:
            return  # a chunked body's trailer: not relayed
        kind = SPECIAL.get(name.lower())
        if kind is None:
            req.lines.append(b"%s: %s\r\n" % (name, value))
        elif kind == HOST:
            req.host = value
        elif kind == CONNECTION:
            req.connection = value.lower()
        elif kind == TRANSFER:
            req.chunked = b"chunked" in value.lower()
        elif kind == LENGTH:
            req.length_line = b"Content-Length: %s\r\n" % value.strip()
        elif kind == UPGRADE:
            req.upgrade = value
        elif kind == EXPECT:
            req.expect = value.strip().lower() == b"100-continue"
        elif kind == XFF:
            req.xff = value
        elif kind == HOP:
            return
        else:
            if kind == ACCEPT:
                req.accept = value
            elif kind == XFPROTO:
                req.xfproto = True
            elif kind == XFHOST:
                req.xfhost = True
            req.lines.append(b"%s: %s\r\n" % (name, value))

    def on_headers_complete(self) -> None:
        req, parser = self.current, self.parser
        req.method = parser.get_method()
        req.version = parser.get_http_version()
        req.keep_alive = parser.should_keep_alive()  # only valid in here
        if not parser.should_upgrade():
            req.upgrade = None
        if req.connection not in _CONNECTION_TOKENS:
            req.lines = _drop_named(req.lines, req.connection)
        req.head_done = True

    def on_body(self, body: bytes) -> None:
        self.current.pieces.append(body)
        self.current.body_bytes += len(body)

    def on_message_complete(self) -> None:
        self.current.complete = True


class ResponseReader:
    """Parses what the upstream answers to one request at a time; 1xx heads collect in ``interim``."""

    __slots__ = (
        "body_bytes",
        "chunked",
        "complete",
        "connection",
        "content_type",
        "head_done",
        "head_only",
        "interim",
        "keep_alive",
        "length_line",
        "lines",
        "location",
        "parser",
        "pieces",
        "reason",
        "status",
        "upgrade",
        "upgrade_rest",
    )

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.head_only = False
        self.begin(False)

    def begin(self, head_only: bool) -> None:
        """Expect the response to a new request (``head_only`` for HEAD: it has no body, whatever it says)."""
        if self.head_only:
            self.parser = httptools.HttpResponseParser(self)  # the last one stopped at a HEAD response's head
        self.head_only = head_only
        self.interim: list[bytes] = []
        self.upgrade_rest: bytes | None = None
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.reason = b""
        self.lines: list[bytes] = []
        self.length_line: bytes | None = None
        self.chunked = False
        self.connection = b""
        self.upgrade: bytes | None = None
        self.content_type = b""
        self.location: bytes | None = None
        self.keep_alive = True
        self.head_done = False
        self.complete = False
        self.pieces: list[bytes] = []
        self.body_bytes = 0

    def feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:  # a 101: what follows is the new protocol
            self.upgrade_rest = data[exc.args[0] :]
            self.complete = True

    # -- httptools callbacks --------------------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._reset()

    def on_status(self, status: bytes) -> None:
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.head_done:
            return
        kind = SPECIAL.get(name.lower())
        if kind is None:
            self.lines.append(b"%s: %s\r\n" % (name, value))
        elif kind == LENGTH:
            self.length_line = b"Content-Length: %s\r\n" % value.strip()
        elif kind == TRANSFER:
            self.chunked = b"chunked" in value.lower()
        elif kind == CONNECTION:
            self.connection = value.lower()
        elif kind == UPGRADE:
            self.upgrade = value
        elif kind == LOCATION:
            self.location = value
        elif kind != HOP:
            if kind == CTYPE:
                self.content_type = value
            self.lines.append(b"%s: %s\r\n" % (name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.status = status = parser.get_status_code()
        self.keep_alive = parser.should_keep_alive()
        if self.connection not in _CONNECTION_TOKENS:
            self.lines = _drop_named(self.lines, self.connection)
        if 100 <= status < 200 and status != 101:  # 103 Early Hints, 100 Continue: relayed, then the real one
            self.interim.append(b"HTTP/1.1 %d %s\r\n%s\r\n" % (status, self.reason, b"".join(self.lines)))
            return
        self.head_done = True
        if self.head_only or status in (204, 304):
            self.complete = True

    def on_body(self, body: bytes) -> None:
        if not self.complete:
            self.pieces.append(body)
            self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        if self.head_done:
            self.complete = True

    @property
    def delimited_by_close(self) -> bool:
        """The body ends when the upstream closes (no length, not chunked): the connection cannot be reused."""
        return self.length_line is None and not self.chunked and not self.complete


def chunk(pieces: list[bytes]) -> bytes:
    """Body pieces in chunked framing (the relay re-frames; chunk boundaries need not match the upstream's)."""
    return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces if piece)


LAST_CHUNK = b"0\r\n\r\n"
