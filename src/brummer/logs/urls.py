"""Find the URLs a dev server announces ("Local: http://localhost:5173/").

Only URLs a developer would open on this machine count: loopback, ``0.0.0.0`` / ``[::]`` (shown as localhost),
``*.localhost``, private LAN ranges and link-local addresses. Links to public hosts (docs, registries, "learn more
at https://...") are ignored: the Go brummer proxied every one of them.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

URL_RE = re.compile(r"\b(?:https?|wss?)://(?:\[[0-9a-fA-F:.]+\])?[^\s<>\"'`{}|\\^\[\]]*")
TRAILING = ".,;:!?)]}'\""
WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]"}


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (brackets allowed): where brummer may serve without asking."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_local_host(host: str) -> bool:
    host = host.lower().strip("[]")
    if host in ("localhost", "0.0.0.0", "::") or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_private or addr.is_link_local or addr.is_unspecified


def normalize(raw: str) -> str | None:
    """The URL as a developer would open it, or None if it is not a local dev URL."""
    url = raw.rstrip(TRAILING)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host or not _is_local_host(host):
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if host in WILDCARD_HOSTS or netloc.startswith("[::]"):
        netloc = "localhost" if port is None else f"localhost:{port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), netloc.lower(), path, parts.query, ""))


def find_urls(text: str) -> list[str]:
    """Local dev URLs in ANSI-stripped ``text``, normalized, first occurrence order, no duplicates."""
    if "://" not in text:
        return []
    found: list[str] = []
    for match in URL_RE.finditer(text):
        url = normalize(match.group(0))
        if url is not None and url not in found:
            found.append(url)
    return found


LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def origin(url: str) -> tuple[str, int]:
    """(host, port) with every loopback spelling folded together, for "who serves this" comparisons."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        host = "localhost"
    default = 443 if parts.scheme in ("https", "wss") else 80
    try:
        port = parts.port or default
    except ValueError:
        port = default
    return host, port
