"""The panel's ``/`` filter: the newest matching lines of each process, kept up to date between frames.

A filter can match rarely, so finding a screenful of matches may mean looking at the whole store. That is done once
per filter (in slices, long searches off the loop, like an MCP search); after that each frame reads only what
arrived since the last one. The pattern runs on RE2 (``logs/patterns.py``), so no filter can hang the panel.
"""

from __future__ import annotations

from brummer.logs.patterns import Pattern
from brummer.logs.query import LogLine
from brummer.logs.store import LogStore


class FilterMatches:
    """The newest ``rows`` lines of each process that match ``pattern``, as of the last ``update``."""

    def __init__(self, pattern: Pattern, rows: int) -> None:
        self.pattern = pattern
        self.rows = rows
        self.lines: dict[str, list[LogLine]] = {}
        self._cursor: dict[str, int] = {}  # process -> sequence number up to which its lines were looked at

    async def update(self, store: LogStore) -> None:
        for name in store.processes():
            cursor = self._cursor.get(name)
            if cursor is not None:
                new = await store.read(name, since=cursor, limit=self.rows, pattern=self.pattern, budget=None)
                if len(new.lines) < self.rows:  # caught up
                    self.lines[name] = (self.lines[name] + new.lines)[-self.rows :]
                    self._cursor[name] = new.next
                    continue
            # the first time, or more new matches than fit on the screen: the newest ones, read backwards (from
            # the store as it is now: whatever comes in meanwhile is for the next update)
            end = store.last_seq
            newest = await store.read(name, limit=self.rows, pattern=self.pattern, budget=None)
            self.lines[name] = newest.lines
            self._cursor[name] = end
