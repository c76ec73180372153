"""Reading listening sockets and their holders from /proc, against real sockets of this test process."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

from brummer.supervise import ports, whois

pytestmark = pytest.mark.skipif(not ports.readable(), reason="reads /proc (Linux)")


@pytest.mark.parametrize(
    ("family", "host", "urls", "not_urls"),
    [
        (socket.AF_INET, "127.0.0.1", ["http://localhost:{p}/", "http://127.0.0.1:{p}/x"], ["http://192.168.9.9:{p}/"]),
        (socket.AF_INET, "0.0.0.0", ["http://localhost:{p}/", "http://192.168.9.9:{p}/"], ["http://localhost:1/"]),
        (socket.AF_INET6, "::1", ["http://[::1]:{p}/", "http://app.localhost:{p}/"], ["http://10.0.0.1:{p}/"]),
        (socket.AF_INET6, "::", ["http://localhost:{p}/", "http://[fe80::1]:{p}/"], []),
    ],
)
def test_a_listening_socket_is_found_with_its_address_and_inode(
    family: socket.AddressFamily, host: str, urls: list[str], not_urls: list[str]
) -> None:
    with socket.socket(family) as s:
        s.bind((host, 0))
        s.listen()
        port = s.getsockname()[1]
        (found,) = ports.listeners(port)
        assert found.address == ipaddress.ip_address(host) and found.port == port and found.uid == os.getuid()
        assert found.inode == os.fstat(s.fileno()).st_ino
        urls, not_urls = [u.format(p=port) for u in urls], [u.format(p=port) for u in not_urls]
        assert ports.owned(urls + not_urls, [os.getpid()]) == (urls, True)
        assert ports.owned(urls, [os.getppid()]) == ([], True)  # another process does not hold it


def test_a_bound_socket_that_does_not_listen_is_not_a_listener() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        assert ports.listeners(s.getsockname()[1]) == []


def test_the_holder_of_a_port_is_described() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        found, table = ports.holders(s.getsockname()[1])
        assert [holder.pid for holder in found] == [os.getpid()] and len(table) == 1
        assert found[0].instance is None and found[0].uid == os.getuid()


def test_commands_are_shortened() -> None:
    argv = ["/usr/bin/node", "/home/u/shop/node_modules/.bin/vite", "--port", "5173"]
    assert whois.short_command(argv) == "node .../vite --port 5173"
    assert whois.short_command(["python3", "-c", "x" * 100], width=20) == "python3 -c xxxxxxxx…"
    assert whois.short_command([]) == "?"
    code = "import socket\nopen('/tmp/port', 'w')"
    assert whois.short_command(["/usr/bin/python3", "-c", code]) == "python3 -c import socket open('/tmp/port', 'w')"
    assert whois.short_command(["sh", "-c", "serve ./dist/", "--root=x/y"]) == "sh -c serve ./dist/ --root=x/y"
