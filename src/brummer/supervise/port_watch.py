"""One run's ports: a URL it prints is its own only once it listens there; a port it could not take is explained.

A web server prints the API it calls, a workspace runner prints its siblings' URLs: the first process to print a
URL is often not the one serving it, and crediting it there leaves the real server never "ready" (``ready = { url =
true }``) and its dependents never started. So on Linux a printed URL is a candidate until the run's tree (its
process group, its marked escapees and their descendants) holds a socket listening on that port, on the URL's
address or a wildcard one. Servers print then bind, or bind then print: a candidate is checked at once, again on
the run's next output, and on a timer that backs off from 50 ms to 2 s for 15 s after it was printed; later output
still re-checks it, at most every 0.5 s, for two minutes. Nothing polls forever. Where /proc cannot be read
(macOS), no watch is registered and the store keeps the old rule: the first process to print a URL gets it.

When the run prints that its port is taken (``logs.port_taken``), the watcher says who holds it: pid, command, and
whether it is one of this brummer's processes, another brummer's, or neither; a note in the process's log, and
``note`` for the state message when the run fails.

Every /proc read happens in a worker thread: a few milliseconds on a quiet machine, more on a busy one.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shlex
from collections.abc import Iterable, Mapping

import trio

from brummer.logs.store import LogStore
from brummer.logs.urls import origin
from brummer.supervise import ports, whois
from brummer.supervise.tree import RunTree

WINDOW = 15.0  # seconds after a URL was printed during which a timer re-checks it
FIRST_DELAY = 0.05
MAX_DELAY = 2.0
OUTPUT_GAP = 0.5  # output re-checks candidates at most this often
FORGET_AFTER = 120.0  # a candidate printed this long ago and never listened on was only mentioned
SETTLE = 0.1  # after a port-in-use line, the rest of the message (werkzeug names the port on its second line)
EXPLAIN_WAIT = 3.0  # how long a finished run waits for its last explanation
MAX_REMEMBERED = 16  # owned URLs a run keeps for the next run's explanation
READY_SETTLE = 2.0  # how long a process that became ready waits for its printed URLs to be checked


class PortWatch:
    def __init__(
        self, store: LogStore, process: str, tree: RunTree, *, env: Mapping[str, str], command: str, instance: str
    ) -> None:
        self.store = store
        self.process = process
        self.tree = tree
        self.env = env
        self.command = command
        self.instance = instance
        self.note = ""  # the last explanation, for the state message of a failed run
        self.earlier: tuple[str, ...] = ()  # the URLs of the process's latest run that owned any (set by its owner)
        self.owned: list[str] = []  # the URLs this run owned
        self._explained: set[int] = set()
        # Registered now, before the pipe readers can run: the run's first line is watched too.
        self.watch = store.watch_urls(process) if ports.readable() else None

    async def serve(self) -> None:
        """Until the run ends (its nursery is cancelled); without /proc, at once."""
        if self.watch is None:
            return
        try:
            await self._loop()
        except Exception as exc:  # a bug here must not take the run down: the old rule takes over
            self._broken(exc)
        finally:
            self.store.unwatch_urls(self.process, self.watch)
            self.watch.close()
            if self.watch.clashes:  # the run printed it as it died: say it before the run is recorded as failed
                with trio.CancelScope(shield=True), trio.move_on_after(EXPLAIN_WAIT):
                    try:
                        await self._explain()
                    except Exception as exc:
                        self._broken(exc)

    async def settle(self) -> None:
        """The process became ready: check its printed URLs at once, and return once each is owned or was found not
        to be (at most ``READY_SETTLE`` seconds). So ``ready`` comes with the URLs: ``brummer smoke``'s checks get their
        ``BRUMMER_URL_*``, a ``wait_for ready`` is followed by the URL in ``urls_list``, the URL line comes first."""
        if self.watch is None:
            return
        # A probe's answer can arrive before the line the server printed just before it is read: two checkpoints
        # let the pipe readers take what is already in the pipe (woken by the I/O poll between them).
        await trio.lowlevel.checkpoint()
        await trio.lowlevel.checkpoint()
        self.watch.check_now()
        with trio.move_on_after(READY_SETTLE):
            await self.watch.wait_settled()

    def _broken(self, exc: Exception) -> None:
        self.store.note(f"port watch failed: {exc!r}", self.process, "warn")

    async def _loop(self) -> None:
        assert self.watch is not None
        watch = self.watch
        delay, last, timer = FIRST_DELAY, -math.inf, math.inf
        while True:
            if watch.clashes:
                await trio.sleep(SETTLE)
                await self._explain()
            fresh, output, urgent = watch.fresh, watch.output, watch.urgent
            watch.fresh = watch.output = watch.urgent = False
            delay = FIRST_DELAY if fresh else delay
            now = trio.current_time()
            if watch.candidates and (fresh or urgent or now >= timer or (output and now - last >= OUTPUT_GAP)):
                await self._confirm()
                last = trio.current_time()
                for url in [url for url, first in watch.candidates.items() if last - first > FORGET_AFTER]:
                    del watch.candidates[url]  # only mentioned; printed again, it is a candidate again
                in_window = any(last - first < WINDOW for first in watch.candidates.values())
                timer = last + delay if in_window else math.inf
                delay = min(delay * 2, MAX_DELAY)
            watch.wants_output = bool(watch.candidates)
            with trio.move_on_at(timer if watch.candidates else math.inf):
                await watch.wait()

    async def _confirm(self) -> None:
        assert self.watch is not None
        urls, asked = list(self.watch.candidates), self.watch.asked
        pgid, escapees, mark = self.tree.pgid, set(self.tree.escapees), self.tree.mark

        def check() -> tuple[list[str], bool]:
            return ports.owned(urls, ports.tree_pids(pgid, escapees, mark))

        owned, complete = await trio.to_thread.run_sync(check, abandon_on_cancel=True)
        if owned:
            self.note = ""  # it listens after all (Vite on the next port): a later failure is not about the port
        for url in urls:
            # Owned: ours. Sockets of the tree we may not read (a setuid helper): the old rule, first to print.
            if (url in owned or not complete) and self.store.claim_url(self.process, url, first_wins=url not in owned):
                self.watch.candidates.pop(url, None)
                if len(self.owned) < MAX_REMEMBERED:
                    self.owned.append(url)
        self.watch.was_checked(asked)

    async def _explain(self) -> None:
        """Explain the pending port-in-use messages; they stay pending until explained (a cancelled run's last
        ones are explained by its ``finally``)."""
        assert self.watch is not None
        clashes = list(self.watch.clashes)
        named = {taken.port for taken in clashes if taken.port is not None}
        if not named and clashes:
            urls = [*reversed(self.watch.candidates), *self.store.urls(self.process).get(self.process, [])]
            urls += self.earlier  # the port it listened on last time is likely the one it wants again
            tree = (self.tree.pgid, set(self.tree.escapees))
            guessed = await trio.to_thread.run_sync(self._guess, urls, tree, abandon_on_cancel=True)
            named = {guessed} if guessed is not None else set()
        for port in sorted(named - self._explained):
            self._explained.add(port)
            self.note = await trio.to_thread.run_sync(explain, port, self.instance, abandon_on_cancel=True)
            self.store.note(self.note, self.process, "warn")
        del self.watch.clashes[: len(clashes)]

    def remembered(self) -> tuple[str, ...]:
        """What the next run's watch should know as ``earlier``: this run's URLs, or if it owned none, the last."""
        return tuple(self.owned) or self.earlier

    def _guess(self, urls: list[str], tree: tuple[int, set[int]]) -> int | None:
        commands = [self.command]
        commands += [shlex.join(whois.argv_of(pid)) for pid in sorted(ports.tree_pids(*tree))]
        return guess_port(urls, self.env, commands)


def explain(port: int, instance: str) -> str:
    """``port 5173 is taken by pid 1234 (node .../vite) — another brummer's process "web"``."""
    found, table = ports.holders(port)
    if found:
        return f"port {port} is taken by " + "; ".join(_whose(holder, instance) for holder in found[:3])
    if not table:
        return f"port {port} is taken, but nothing listens on it now"
    strangers = sorted({s.uid for s in table if s.uid != os.getuid()})
    if strangers:
        return f"port {port} is taken by a process of another user ({whois.user_name(strangers[0])})"
    return f"port {port} is taken by a process brummer cannot see (in another container or namespace?)"


def _whose(holder: whois.Holder, instance: str) -> str:
    if holder.pid == os.getpid():
        whose = "brummer itself"
    elif holder.instance == instance:
        whose = f'this brummer\'s process "{holder.process}"'
    elif holder.instance:
        where = f" in {holder.project}" if holder.project else ""
        whose = f'another brummer\'s process "{holder.process}"{where}'
    elif holder.uid != os.getuid():
        whose = f"a process of user {whois.user_name(holder.uid)}"
    else:
        whose = "not started by brummer"
    return f"pid {holder.pid} ({holder.command}) — {whose}"


# -- which port a process meant --------------------------------------------------------------------------------

_PORT_FLAG = re.compile(r"(?:^|\s)(?:--port|-p)(?:=|\s+)(\d{1,5})\b")
_HOST_PORT = re.compile(r"(?:^|\s)(?:[\w.-]+|\[[0-9a-fA-F:]+\])?:(\d{2,5})(?:\s|$)")
_PLAUSIBLE = re.compile(r"\d{2,5}")
# Servers that take their port as a bare argument (``python3 -m http.server 8000``, ``manage.py runserver 8001``,
# ``serve -l 3000``), and their options whose value is something else (``-d 2024``: a directory).
SERVER_WORDS = frozenset({"http.server", "SimpleHTTPServer", "runserver", "serve"})
VALUE_FLAGS = frozenset({"-b", "--bind", "-d", "--directory", "--protocol", "--settings", "--pythonpath", "-c"})
DJANGO_DEFAULT = 8000


def guess_port(urls: Iterable[str], env: Mapping[str, str], commands: Iterable[str]) -> int | None:
    """The port a process meant to listen on, for a failure message that names none ("That port is already in
    use"): its URLs (this run's, then its last owned ones), else ``PORT``, else ``--port N`` / ``-p N`` /
    ``HOST:N`` / a bare port after a known server (``http.server 8000``) on its command lines, else Django's
    default for ``runserver``."""
    for url in urls:
        return origin(url)[1]
    with contextlib.suppress(ValueError):
        if 0 < (port := int(env.get("PORT", ""))) < 65536:
            return port
    for command in commands:
        for pattern in (_PORT_FLAG, _HOST_PORT):
            if (match := pattern.search(command)) and 0 < int(match.group(1)) < 65536:
                return int(match.group(1))
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        if (bare := _bare_port(words)) is not None:
            return bare
        if "runserver" in words:
            return DJANGO_DEFAULT
    return None


def _bare_port(words: list[str]) -> int | None:
    """The first plausible port among the arguments after a known server word (not an option's value)."""
    at = next((i for i, word in enumerate(words) if word.rsplit("/", 1)[-1] in SERVER_WORDS), None)
    if at is None:
        return None
    after = words[at + 1 :]
    for previous, word in zip(["", *after], after, strict=False):
        if previous not in VALUE_FLAGS and _PLAUSIBLE.fullmatch(word) and 0 < int(word) < 65536:
            return int(word)
    return None
