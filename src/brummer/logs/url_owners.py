"""Which process owns which URL: a printed URL is a candidate until its process is seen to serve it.

A web server prints the API it calls; a workspace runner prints its members' URLs. So where a run has a port
watcher (Linux: ``supervise.port_watch``, which reads listening sockets), a printed URL waits in the run's
``UrlWatch`` until the watcher sees the run listen on it and calls ``claim``. Without a watcher (no /proc to read),
the first process to print a server's URL gets it, unless another process already has it.

A claim publishes ``UrlDetected`` (high); a process's exit clears its URLs (``UrlsCleared``). Readers that follow
URLs (the proxy) wake on ``wait_changed``, not on the bus.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import trio

from brummer.bus import Event, UrlDetected, UrlsCleared
from brummer.logs.urls import UrlWatch, find_urls, origin


class UrlOwners:
    def __init__(self, announce: Callable[[Event], None], changed: Callable[[], None]) -> None:
        self.announce = announce  # the store's: published, and said in the owner's log
        self._changed = changed  # the store's change signal
        self._owned: dict[str, dict[str, float]] = {}  # process -> url -> first seen (wall time)
        self._watches: dict[str, UrlWatch] = {}  # while a run's port watcher confirms URLs
        self._lot = trio.lowlevel.ParkingLot()

    def printed(self, process: str, plain: str) -> None:
        """``process`` printed ``plain`` (ANSI-stripped; it holds ``://``): its local URLs are candidates, or,
        without a watcher, its own unless another process has them."""
        owned = self._owned.get(process, {})
        watch = self._watches.get(process)
        for url in find_urls(plain):
            if url in owned:
                continue
            if watch is not None:
                watch.mention(url)
            elif not self._claimed_elsewhere(process, url):
                self._claim(process, url)

    def output(self, process: str, plain: str) -> None:
        """Any output of ``process``: its watcher looks for port-in-use lines and may re-check its candidates."""
        watch = self._watches.get(process)
        if watch is not None:
            watch.saw_output(plain)

    def watch(self, process: str) -> UrlWatch:
        """From now on ``process``'s printed URLs wait in the returned watch until ``claim``."""
        watch = self._watches[process] = UrlWatch()
        return watch

    def unwatch(self, process: str, watch: UrlWatch) -> None:
        if self._watches.get(process) is watch:
            del self._watches[process]

    def claim(self, process: str, url: str, *, first_wins: bool = False) -> bool:
        """Credit ``url`` to ``process`` (its run listens there); with ``first_wins``, only if no other process has
        it. Returns whether the process has it now."""
        if url not in self._owned.get(process, {}):
            if first_wins and self._claimed_elsewhere(process, url):
                return False
            self._claim(process, url)
        return True

    def _claimed_elsewhere(self, process: str, url: str) -> bool:
        """A server another process announced (a web server logging the API it calls is not the API)."""
        key = origin(url)
        return any(key == origin(u) for other, urls in self._owned.items() if other != process for u in urls)

    def _claim(self, process: str, url: str) -> None:
        self._owned.setdefault(process, {})[url] = time.time()
        self.announce(UrlDetected(process, url))
        self._lot.unpark_all()
        self._changed()

    def clear(self, process: str) -> None:
        """The process exited: its URLs are gone."""
        urls = self._owned.get(process)
        if urls:
            gone = tuple(urls)
            urls.clear()
            self.announce(UrlsCleared(process, gone))
            self._lot.unpark_all()
            self._changed()

    def of(self, processes: Iterable[str]) -> dict[str, list[str]]:
        """The URLs of each of ``processes`` that has any, in that order."""
        return {name: list(urls) for name in processes if (urls := self._owned.get(name))}

    async def wait_changed(self) -> None:
        await self._lot.park()
