"""Who listens on a port, read from /proc (Linux): for crediting a URL to the process that serves it, and for
saying who holds a port that a child could not bind (``whois`` says who that process is).

``/proc/net/tcp`` and ``tcp6`` list every socket of this network namespace; the kernel writes the listening ones
first (its listening hash, then the established one), so reading stops at the first line past them: the cost is
the number of listening sockets, not of connections, even on a busy machine. A socket is tied to a process by its
inode: ``/proc/PID/fd/N`` links read ``socket:[INODE]``. A run's tree is only a few pids, so confirming a URL reads
a few dozen links; finding the holder of a taken port reads every process's (a one-off, after a failure).

Everything here is synchronous file reading: callers run it in a worker thread. Every function returns what it
could read and treats a process that vanished or cannot be read as absent: /proc changes under our feet.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from brummer.logs.urls import LOOPBACK_NAMES, origin
from brummer.supervise.tree import LINUX, RUN_VAR, marked_pids
from brummer.supervise.whois import Holder, describe, parent_and_group

TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
LISTEN = b"0A"
SYN_RECV = b"03"  # kernels before 4.4 list pending connections among the listening sockets
MAX_TABLE_BYTES = 4 << 20  # per table: ~27,000 listening sockets; a bound, not a size anyone reaches
MAX_LINKS = 4096  # fd links read per process: a process with more is not a dev server's
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Listener:
    address: Address
    port: int
    uid: int
    inode: int


@functools.cache
def readable() -> bool:
    """Whether listening sockets and our own fd links can be read here (Linux with /proc). Asked once: opening the
    socket table costs about a millisecond, and every spawn asks."""
    if not LINUX:
        return False
    try:
        with open(TABLES[0], "rb") as f:
            f.read(1)
        os.listdir("/proc/self/fd")
    except OSError:
        return False
    return True


# -- listening sockets -----------------------------------------------------------------------------------------


def _address(hexed: bytes) -> Address:
    """The kernel prints each 32-bit word of an address in host byte order."""
    raw = bytes.fromhex(hexed.decode())
    words = b"".join(int.from_bytes(raw[i : i + 4], "big").to_bytes(4, sys.byteorder) for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _table(path: str) -> list[Listener]:
    found: list[Listener] = []
    try:
        with open(path, "rb") as f:
            f.readline()  # the header
            read = 0
            for line in f:
                read += len(line)
                fields = line.split()
                if len(fields) < 10 or read > MAX_TABLE_BYTES or fields[3] not in (LISTEN, SYN_RECV):
                    break  # past the listening sockets
                if fields[3] == LISTEN:
                    host, _, port = fields[1].partition(b":")
                    with contextlib.suppress(ValueError):
                        found.append(Listener(_address(host), int(port, 16), int(fields[7]), int(fields[9])))
    except OSError:
        pass
    return found


def listeners(port: int | None = None) -> list[Listener]:
    """Listening TCP sockets (IPv4 and IPv6), only those on ``port`` if given."""
    return [found for path in TABLES for found in _table(path) if port is None or found.port == port]


def serves(listener: Listener, host: str) -> bool:
    """Whether a socket listening on ``listener.address`` answers a URL for ``host``: a wildcard address answers
    every host, a loopback address every loopback spelling (localhost, *.localhost), else the address itself."""
    address = listener.address
    if address.is_unspecified:
        return True
    host = host.lower().strip("[]")
    if host in LOOPBACK_NAMES or host == "localhost" or host.endswith(".localhost"):
        return address.is_loopback
    try:
        wanted = ipaddress.ip_address(host)
    except ValueError:
        return True  # a name we cannot resolve here: the port decides
    if isinstance(wanted, ipaddress.IPv6Address) and wanted.ipv4_mapped is not None:
        wanted = wanted.ipv4_mapped
    return wanted == address


# -- processes -------------------------------------------------------------------------------------------------


def tree_pids(pgid: int, escapees: Iterable[int] = (), mark: str | None = None) -> set[int]:
    """A run's processes: its process group, the given escapees, with ``mark`` every process carrying the run's
    mark (an environment scan: kept for a last look), and every descendant of those."""
    parents: dict[int, list[int]] = {}
    members = {pgid, *escapees}
    if mark is not None:
        members.update(marked_pids(RUN_VAR, mark))
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or (stat := parent_and_group(entry)) is None:
            continue
        pid, (ppid, group) = int(entry), stat
        parents.setdefault(ppid, []).append(pid)
        if group == pgid:
            members.add(pid)
    todo = list(members)
    while todo:
        for child in parents.get(todo.pop(), ()):
            if child not in members:
                members.add(child)
                todo.append(child)
    return members


def _socket_inodes(pid: int, wanted: set[int]) -> set[int]:
    """Which of ``wanted`` socket inodes ``pid`` holds; raises PermissionError if its fds cannot be read."""
    held: set[int] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except PermissionError:
        raise
    except OSError:
        return held  # gone
    for name in names[:MAX_LINKS]:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if link.startswith("socket:["):
            with contextlib.suppress(ValueError):
                inode = int(link[8:-1])
                if inode in wanted:
                    held.add(inode)
    return held


def owned(urls: Iterable[str], pids: Iterable[int]) -> tuple[list[str], bool]:
    """Which ``urls`` one of ``pids`` listens on, and whether every pid's sockets could be read (a process whose
    fds we may not read, a setuid helper say, leaves the answer open)."""
    table = listeners()
    wanted: dict[str, set[int]] = {}
    for url in urls:
        host, port = origin(url)
        wanted[url] = {s.inode for s in table if s.port == port and serves(s, host)}
    inodes = set().union(*wanted.values())
    if not inodes:
        return [], True
    held: set[int] = set()
    complete = True
    for pid in pids:
        try:
            held |= _socket_inodes(pid, inodes)
        except PermissionError:
            complete = False
    return [url for url, needs in wanted.items() if needs & held], complete


def holders(port: int) -> tuple[list[Holder], list[Listener]]:
    """Every readable process that holds a socket listening on ``port`` (a scan of every process's fds: for
    explaining a failure, never on a timer), and the listening sockets themselves."""
    table = listeners(port)
    inodes = {s.inode for s in table}
    found: list[Holder] = []
    if not inodes:
        return found, table
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            held = _socket_inodes(int(entry), inodes)
        except PermissionError:
            continue
        if held:
            found.append(describe(int(entry)))
            inodes -= held
            if not inodes:
                break
    return found, table
