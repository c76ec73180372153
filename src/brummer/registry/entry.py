"""One registry entry: what a running brummer tells the other brummer commands of this user about itself.

Each instance has its own file, ``<slug>-<hash>.<pid>.json``: the key (``slug`` is the project folder's name, made
safe; ``hash`` the first 16 hex digits of the SHA-256 of the project's real path) finds a project's entries by
name alone, the pid tells a project's instances apart (a ``brummer up`` and headless ``brummer mcp`` sessions).

An entry is data from a file, so it is checked as hostile input: every field's type, the project it names against
its file name, and the MCP addresses, which must be loopback IP literals with the expected scheme and path before
anyone may connect to them with the token.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import os
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from brummer.loopback import loopback_ip

FORMAT = 1
SLUG_MAX = 32


class Kind(StrEnum):
    UP = "up"  # brummer up: a panel or plain output on a terminal, MCP on loopback
    HEADLESS = "headless"  # brummer mcp with no brummer up: serves one agent on stdio
    SMOKE = "smoke"  # brummer smoke: starts, checks and stops the project's processes, then exits


class McpState(StrEnum):
    OFF = "off"  # not served: --no-mcp, or a headless brummer mcp (stdio only)
    STARTING = "starting"  # brummer up serves MCP once its first child's start-up output pauses
    ON = "on"  # listening on the loopback addresses ws and http, with token
    DOWN = "down"  # did not start (no free port, ...) or stopped: see that brummer's output
    REMOTE = "remote"  # bound to a non-loopback address only (--allow-remote): registry clients do not connect


@dataclass(frozen=True, slots=True)
class McpUrls:
    """Where an MCP server answers: its WebSocket (``/ws``) and its Streamable HTTP endpoint (``/mcp``)."""

    ws: str
    http: str

    @classmethod
    def at(cls, host: str, port: int) -> McpUrls:
        """The URLs of a server bound to ``host`` (an IP literal, or a name) and ``port``."""
        name = f"[{host}]" if ":" in host and not host.startswith("[") else host
        return cls(f"ws://{name}:{port}/ws", f"http://{name}:{port}/mcp")


@dataclass(frozen=True, slots=True)
class Entry:
    pid: int
    start: str  # the start-time fingerprint of pid (identity.py)
    kind: Kind
    project: Path  # real path
    version: str
    started_at: float
    runs: bool = False  # holds the project's lock: the project's processes are this instance's to run
    mcp: McpState = McpState.OFF
    token: str | None = None
    ws: str | None = None
    http: str | None = None
    tty: str | None = None  # the terminal it runs on, if any
    panel: bool = False

    @property
    def name(self) -> str:
        """Its file name in the registry."""
        return entry_name(_key(str(self.project)), self.pid)  # (project is a real path already)

    @property
    def connectable(self) -> bool:
        return self.mcp is McpState.ON and self.token is not None and self.ws is not None

    def describe(self) -> str:
        since = time.strftime("%H:%M:%S", time.localtime(self.started_at))
        if self.kind is Kind.UP:
            return f"brummer up (pid {self.pid}, since {since})"
        if self.kind is Kind.SMOKE:
            return f"brummer smoke (pid {self.pid}, since {since})"
        return f"a headless brummer mcp (pid {self.pid}, since {since}, serving an agent)"

    def reach(self) -> str:
        """How a user gets to it."""
        if self.kind is Kind.HEADLESS:
            return "its agent drives it (ending that agent's session stops it)"
        if self.kind is Kind.SMOKE:
            return "it stops everything and exits once its checks are done"
        terminal = f"on its terminal {self.tty}" if self.tty else "where it was started"
        if self.mcp is McpState.OFF:
            return f"see it {terminal} (it serves no MCP: --no-mcp)"
        return f"reach it with `brummer mcp --dir {self.project}`, or {terminal}"

    def to_json(self) -> bytes:
        doc = {
            "format": FORMAT,
            "pid": self.pid,
            "start": self.start,
            "kind": str(self.kind),
            "version": self.version,
            "project": str(self.project),
            "started_at": self.started_at,
            "runs": self.runs,
            "tty": self.tty,
            "panel": self.panel,
            "token": self.token,
            "mcp": {"state": str(self.mcp), "ws": self.ws, "http": self.http},
        }
        return (json.dumps(doc, indent=2) + "\n").encode()

    def replace(self, **changes: Any) -> Entry:
        return dataclasses.replace(self, **changes)


def from_json(data: bytes, name: str) -> Entry | None:
    """The entry in ``data`` (read from file ``name``), or None if anything about it is off."""
    try:
        doc = json.loads(data)
        mcp = doc["mcp"]
        entry = Entry(
            pid=_typed(doc["pid"], int),
            start=_typed(doc["start"], str),
            kind=Kind(doc["kind"]),
            project=Path(_typed(doc["project"], str)),
            version=_typed(doc["version"], str),
            started_at=float(_typed(doc["started_at"], int | float)),
            runs=_typed(doc["runs"], bool),
            mcp=McpState(mcp["state"]),
            token=_optional(doc["token"]),
            ws=_optional(mcp["ws"]),
            http=_optional(mcp["http"]),
            tty=_optional(doc["tty"]),
            panel=_typed(doc["panel"], bool),
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if doc.get("format") != FORMAT or entry.pid <= 0 or not entry.project.is_absolute() or name != entry.name:
        return None
    if entry.mcp is McpState.ON and not (
        entry.token and _loopback_url(entry.ws, "ws", "/ws") and _loopback_url(entry.http, "http", "/mcp")
    ):
        return None  # an entry that would send the token elsewhere is not believed at all
    return entry


def _typed(value: Any, kind: Any) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise TypeError(f"expected {kind}, got {type(value).__name__}")
    return value


def _optional(value: Any) -> str | None:
    return None if value is None else str(_typed(value, str))


def _loopback_url(url: str | None, scheme: str, path: str) -> bool:
    if url is None:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme == scheme
        and loopback_ip(parts.hostname or "")
        and port is not None
        and 0 < port < 65536
        and parts.path == path
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def loopback_urls(host: str, port: int) -> McpUrls | None:
    """The registry's addresses for a server bound to ``host``: itself if loopback, the loopback address of its
    family for a wildcard bind; None if it listens on another address only."""
    address = ipaddress.ip_address(host.strip("[]"))
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    if not address.is_loopback:
        return None
    return McpUrls.at(str(address), port)


def project_key(root: Path) -> str:
    """``<slug>-<16 hex>`` of a project's real path (no dots, so file names split cleanly)."""
    return _key(os.path.realpath(root))


def _key(real: str) -> str:
    digest = hashlib.sha256(os.fsencode(real)).hexdigest()[:16]
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", os.path.basename(real)).strip("-")[:SLUG_MAX] or "root"
    return f"{slug}-{digest}"


def entry_name(key: str, pid: int) -> str:
    return f"{key}.{pid}.json"


def lock_name(key: str) -> str:
    """Held (flock) by the one brummer that runs the project's processes; holds its pid."""
    return f"{key}.lock"


def mcp_lock_name(key: str) -> str:
    """Held by a brummer up while its MCP server is starting: a waiting brummer mcp wakes when it is released."""
    return f"{key}.mcp.lock"
