from __future__ import annotations

import pytest

from brummer.logs.urls import find_urls, origin


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  ➜  Local:   http://localhost:5173/", ["http://localhost:5173/"]),
        ("Listening on http://0.0.0.0:3000", ["http://localhost:3000/"]),
        ("ready - started server on [::]:3000, url: http://[::]:3000", ["http://localhost:3000/"]),
        ("Network: http://192.168.1.23:5173/.", ["http://192.168.1.23:5173/"]),
        ("api at http://127.0.0.1:8000/docs), see", ["http://127.0.0.1:8000/docs"]),
        ("HMR on ws://localhost:24678/", ["ws://localhost:24678/"]),
        ("https://app.localhost:8443/login?next=/", ["https://app.localhost:8443/login?next=/"]),
        ("See https://nextjs.org/docs/messages/x for more", []),
        ("docs: https://vitejs.dev/config/ and http://8.8.8.8/", []),
        ("two: http://localhost:1/ http://localhost:1/", ["http://localhost:1/"]),
        ("no url here", []),
    ],
)
def test_local_urls_only(line: str, expected: list[str]) -> None:
    assert find_urls(line) == expected


def test_origin_folds_loopback_spellings() -> None:
    assert origin("http://127.0.0.1:3001/api") == origin("http://localhost:3001/") == ("localhost", 3001)
    assert origin("https://localhost/") == ("localhost", 443)
