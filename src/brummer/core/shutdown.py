"""One way to stop, shared by every command that runs processes: ``brummer up``, headless ``brummer mcp`` and
``brummer smoke``.

``open_core`` opens the signal receiver before anything starts, so a signal never lands in Python's default handler
(a ``KeyboardInterrupt`` in the middle of a spawn), and runs ``watch_signals`` until the very end:

- the first SIGINT, SIGTERM or SIGHUP requests the shutdown: the command cancels its supervisor (every process stops
  after its dependents) and exits with 128 + the signal's number (130, 143, 129), whatever the processes did, so a
  cancelled CI step never goes green;
- the second one sets ``force``, which the supervisor watches: every grace period still running ends at once and
  what is left gets SIGKILL.

Other ways to ask call ``request`` too (``q`` in the panel, stdout going away, an agent closing stdin). The first
request decides: ``request(0)`` stops without a signal, and the command's own outcome is its exit code.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator

import trio

from brummer.logs.store import LogStore

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Shutdown:
    """Whether, why and how hard brummer is stopping."""

    def __init__(self) -> None:
        self.signal: int | None = None  # the signal of the first request, if it was one
        self.requested = trio.Event()
        self.force = trio.Event()  # skip grace periods (the supervisor's ``force``)

    def request(self, signum: int = 0) -> None:
        """Stop everything; ``signum`` (0 for none) decides the exit code if this is the first request."""
        if not self.requested.is_set():
            self.signal = signum or None
            self.requested.set()

    def exit_code(self, otherwise: int) -> int:
        """128 + the first request's signal; ``otherwise`` (the command's own outcome) without one."""
        return 128 + self.signal if self.signal else otherwise


async def watch_signals(receiver: AsyncIterator[int], shutdown: Shutdown, store: LogStore) -> None:
    """First signal: request the shutdown. Any later one: skip grace periods, and say that is what it does."""
    async for signum in receiver:
        name = signal.Signals(signum).name
        if not shutdown.requested.is_set():
            store.note(f"{name}: stopping every process (again to skip the grace periods)", level="warn")
            shutdown.request(signum)
        elif not shutdown.force.is_set():
            again = " again" if shutdown.signal else ""
            store.note(f"{name}{again}: skipping grace periods (SIGKILL to what is still running)", level="warn")
            shutdown.force.set()
