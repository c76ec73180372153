"""The script tag goes into HTML navigations only, at the head, however the document is split; CSP is respected;
``inject = false`` turns it off; the proxy serves the script itself."""

from __future__ import annotations

import gzip
from pathlib import Path

import httpx
import pytest
from helpers_browser import answer, chunked, telemetry_proxy

from brummer.browser.inject import LOOKAHEAD, TAG, HeadInjector, csp_verdict, prefers_html
from brummer.browser.routes import client_script

NAVIGATE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8", "Sec-Fetch-Dest": "document"}
DOCUMENTS = [  # (document, where the tag goes: the text just before it)
    (b"<!doctype html><html lang=en><head><title>t</title></head><body>x</body></html>", b"<head>"),
    (b"<!DOCTYPE HTML>\n<HTML>\n<HEAD data-x='1'>\n<TITLE>t</TITLE></HEAD>", b"<HEAD data-x='1'>"),
    (b"\xef\xbb\xbf<!-- a <head> in a comment --><html><head><meta charset=utf-8>", b"<html><head>"),
    (b"<!doctype html><html><body><p>no head</p></body></html>", b"<!doctype html><html>"),
    (b"<!doctype html><header>not a head</header>", b"<!doctype html>"),
    (b"  <p>just text and tags</p>", b"  "),
    (b"<?xml version='1.0'?><html xmlns='x'><head></head></html>", b"<head>"),
]


def inject_pieces(pieces: list[bytes]) -> bytes:
    rewriter = HeadInjector(TAG)
    return b"".join(rewriter.feed(piece) for piece in pieces) + rewriter.end()


@pytest.mark.parametrize(("document", "before"), DOCUMENTS)
def test_the_tag_lands_at_the_head_wherever_the_document_is_split(document: bytes, before: bytes) -> None:
    at = document.index(before) + len(before)
    expected = document[:at] + TAG + document[at:]
    for cut in range(len(document) + 1):
        assert inject_pieces([document[:cut], document[cut:]]) == expected, cut
    assert inject_pieces([document[i : i + 1] for i in range(len(document))]) == expected  # byte by byte


def test_a_page_that_does_not_decide_within_the_lookahead_is_left_alone() -> None:
    document = b"<!-- " + b"x" * 2 * LOOKAHEAD + b" --><html><head></head></html>"
    assert inject_pieces([document[i : i + 1000] for i in range(0, len(document), 1000)]) == document
    assert inject_pieces([b""]) == TAG  # an empty page: the script alone


def test_accept_that_prefers_html() -> None:
    assert prefers_html(b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8")
    assert prefers_html(b"application/xhtml+xml")
    assert not prefers_html(b"*/*")
    assert not prefers_html(b"application/json, text/html;q=0.5")
    assert not prefers_html(b"text/html;q=0")
    assert not prefers_html(b"text/html;q=zz, */*")


def test_csp_is_never_weakened() -> None:
    assert csp_verdict([]) == (TAG, "")
    assert csp_verdict(["default-src 'self'"]) == (TAG, "")
    assert csp_verdict(["img-src *; script-src 'self' 'unsafe-inline'"]) == (TAG, "")
    tag, _ = csp_verdict(["script-src 'nonce-abc123' 'strict-dynamic'; connect-src 'self'"])
    assert tag == b'<script src="/__brummer__/client.js" nonce="abc123"></script>'
    for blocked in ("script-src https://cdn.example", "default-src 'none'", "script-src 'self' 'strict-dynamic'"):
        tag, why = csp_verdict([blocked])
        assert tag is None and "script-src" in why
    tag, why = csp_verdict(["script-src 'self'; connect-src https://api.example"])
    assert tag is None and "connect-src" in why
    assert csp_verdict(["default-src 'self'", "script-src 'none'"])[0] is None  # every policy must allow it


PAGE = b"<!doctype html><html><head><title>app</title></head><body>hi</body></html>"
INJECTED = PAGE.replace(b"<head>", b"<head>" + TAG)


async def test_only_html_navigations_get_the_script(tmp_path: Path) -> None:
    pages = {
        "/": chunked([b"<!doctype html><html><he", b"ad><title>app</ti", b"tle></head><body>hi</body></html>"]),
        "/api": [answer(b'{"ok": true}', "application/json")],
        "/gzipped": [answer(gzip.compress(PAGE), "text/html", "Content-Encoding: gzip")],
        "/missing": [answer(PAGE, status=404)],
        "/strict": [answer(PAGE, "text/html", "Content-Security-Policy: script-src https://cdn.example")],
        "/nonce": [answer(PAGE, "text/html", "Content-Security-Policy: script-src 'nonce-r4nd0m'")],
    }
    async with telemetry_proxy(tmp_path, pages) as served, httpx.AsyncClient(base_url=served.url) as client:
        page = await client.get("/", headers={**NAVIGATE, "Accept-Encoding": "gzip, br"})
        assert page.content == INJECTED and page.headers["transfer-encoding"] == "chunked"
        # a page's own fetch of HTML, a POST, an API call, another status, a compressed page: untouched
        fetched = await client.get("/", headers={"Accept": "text/html", "Sec-Fetch-Dest": "empty"})
        assert fetched.content == PAGE
        assert (await client.post("/", headers=NAVIGATE)).content == PAGE
        api = await client.get("/api", headers=NAVIGATE)
        assert api.json() == {"ok": True} and api.headers["content-length"] == str(len(api.content))
        assert (await client.get("/missing", headers=NAVIGATE)).content == PAGE
        assert (await client.get("/gzipped", headers=NAVIGATE)).content == PAGE  # compressed anyway: untouched
        without_fetch_metadata = await client.get("/", headers={"Accept": NAVIGATE["Accept"]})
        assert without_fetch_metadata.content == INJECTED
        strict = await client.get("/strict", headers=NAVIGATE)
        assert strict.content == PAGE and strict.headers["content-security-policy"] == "script-src https://cdn.example"
        await client.get("/strict", headers=NAVIGATE)
        nonce = await client.get("/nonce", headers=NAVIGATE)
        assert b'<head><script src="/__brummer__/client.js" nonce="r4nd0m"></script><title>' in nonce.content
        script = await client.get("/__brummer__/client.js")
        assert script.content == client_script()[0] and script.headers["content-type"].startswith("text/javascript")
        again = await client.get("/__brummer__/client.js", headers={"If-None-Match": script.headers["etag"]})
        assert again.status_code == 304
    encodings = dict(served.pages.requests)
    assert b"Accept-Encoding: identity" in served.pages.requests[0][1]  # navigations ask for identity
    assert b"gzip" not in served.pages.requests[0][1]
    assert b"identity" not in served.pages.requests[1][1]  # the page's own fetch keeps its encodings
    assert "/__brummer__/client.js" not in encodings  # brummer's own: never forwarded
    notes = [line.text for line in served.store.tail("web", limit=100).lines if "Content-Security-Policy" in line.text]
    assert len(notes) == 1 and "brummer does not weaken a CSP" in notes[0]  # said once, not per request
    assert len(client_script()[0]) < 16 * 1024


@pytest.mark.parametrize(("inject", "process_inject"), [(False, True), (True, False)])
async def test_inject_false_turns_it_off(tmp_path: Path, inject: bool, process_inject: bool) -> None:
    pages = {"/": [answer(PAGE)]}
    async with telemetry_proxy(tmp_path, pages, inject=inject, process_inject=process_inject) as served:
        async with httpx.AsyncClient(base_url=served.url) as client:
            page = await client.get("/", headers={**NAVIGATE, "Accept-Encoding": "gzip"})
            assert page.content == PAGE and page.headers["content-length"] == str(len(PAGE))
            assert (await client.get("/__brummer__/client.js")).status_code == 200  # still served
        assert b"Accept-Encoding: gzip" in served.pages.requests[0][1]
