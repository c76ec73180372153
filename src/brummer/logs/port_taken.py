"""Lines that say a server could not listen because its port is taken.

What the real tools print (samples in tests/fixtures/ports/):

- Node: ``Error: listen EADDRINUSE: address already in use :::3000`` (or ``127.0.0.1:3000``)
- Vite: ``Error: Port 5173 is already in use`` (``strictPort``), ``Port 5173 is in use, trying another one...``
- Next.js: ``⚠ Port 3000 is in use, trying 3001 instead.`` (13-15), ``⚠ Port 3000 is in use by process 1234,
  using available port 3001 instead.`` (16); with a fixed port, Node's EADDRINUSE
- Django: ``Error: That port is already in use.`` (no port)
- Python: ``OSError: [Errno 98] Address already in use`` (no port); uvicorn: ``[Errno 98] error while attempting
  to bind on address ('127.0.0.1', 8000): address already in use``
- Flask/werkzeug: ``Address already in use`` then ``Port 5000 is in use by another program. ...``
- Go: ``listen tcp :8080: bind: address already in use``; Ruby: ``... port 3000 (Errno::EADDRINUSE)``

Every one contains "in use": a literal search guards the regexes. A batch bigger than ``WHOLE`` is a flood: only
its head and tail are looked at (a crash's last words come last, a start-up notice first), so a flood pays a few
microseconds per batch instead of a scan of every byte (about a quarter of what storing the batch costs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HINT = re.compile("in use").search  # re's literal search is about twice as fast as `in` on log text
WHOLE = 32 * 1024  # characters of a batch scanned whole; past that, EDGE at each end
EDGE = 8 * 1024
MAX_PER_BATCH = 8  # a flood of the same failure is one failure
WINDOW = 300  # characters either side of a match that the port patterns look at (lines can be megabytes)

_MESSAGE = re.compile(r"address already in use|\bport (?:\d{1,5} )?is (?:already )?in use", re.IGNORECASE)
_PORTS = (
    re.compile(r"\bport (\d{1,5}) is (?:already )?in use", re.IGNORECASE),  # Vite, Next.js, werkzeug
    re.compile(r"address already in use:? \S*?:(\d{1,5})\b", re.IGNORECASE),  # Node
    re.compile(r"\(['\"][^'\"]{0,100}['\"], (\d{1,5})\)"),  # a Python address tuple (uvicorn)
    re.compile(r":(\d{1,5}): bind: address already in use"),  # Go
    re.compile(r"\bport (\d{1,5}) \(Errno::EADDRINUSE\)"),  # Ruby
)


@dataclass(frozen=True, slots=True)
class PortTaken:
    port: int | None  # None: the message names no port (Django, Errno 98)
    line: str


def find_port_taken(text: str) -> list[PortTaken]:
    """Port-in-use messages in ANSI-stripped ``text``; when one names its port, the portless ones around it (a
    Flask "Address already in use" before its "Port 5000 is in use") are the same failure and are left out."""
    if len(text) > WHOLE:
        text = text[:EDGE] + "\n" + text[-EDGE:]
    if not _HINT(text):
        return []
    found: list[PortTaken] = []
    for match in _MESSAGE.finditer(text):
        start = text.rfind("\n", max(0, match.start() - WINDOW), match.start()) + 1
        end = text.find("\n", match.end(), match.end() + WINDOW)
        line = text[start or max(0, match.start() - WINDOW) : end if end >= 0 else match.end() + WINDOW].strip()
        found.append(PortTaken(_port_in(line), line))
        if len(found) >= MAX_PER_BATCH:
            break
    if any(taken.port is not None for taken in found):
        found = [taken for taken in found if taken.port is not None]
    return found


def _port_in(line: str) -> int | None:
    for pattern in _PORTS:
        match = pattern.search(line)
        if match and 0 < int(match.group(1)) < 65536:
            return int(match.group(1))
    return None
