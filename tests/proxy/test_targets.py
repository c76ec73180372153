"""Targets and their ports, and the brummer.toml keys that shape them."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from brummer.config.spec import ProcessSpec, ProxyOptions
from brummer.errors import ConfigError
from brummer.proxy.targets import Targets
from helpers import load, write_project


def spec(name: str, options: ProxyOptions | None = None) -> ProcessSpec:
    return ProcessSpec(name, "true", "Procfile", Path("/p/Procfile"), Path("/p"), proxy=options or ProxyOptions())


def test_ports_from_the_base_skipping_taken_ones_and_stable_per_server() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        base = holder.getsockname()[1]  # the base port is taken: the next free one is used
        targets = Targets({"web": spec("web"), "api": spec("api")}, base)
        try:
            web = targets.for_url("web", "http://localhost:5173/")
            assert web is not None and web.proxy_port > base
            # the same server announced on the LAN, or again after a restart: the same target and port
            assert targets.for_url("web", "http://192.168.1.20:5173/") is web
            assert targets.for_url("web", "http://localhost:5173/") is web
            assert web.host_header == b"localhost:5173" and web.upstream_url == "http://localhost:5173/"
            api = targets.for_url("api", "https://127.0.0.1:8443/")
            assert api is not None and api.proxy_port > web.proxy_port and api.scheme == "https"
            assert targets.proxy_url("api", "https://127.0.0.1:8443/x") == f"http://127.0.0.1:{api.proxy_port}/"
            assert targets.for_url("web", "ws://localhost:24678/") is None  # only http(s) servers
        finally:
            targets.close()


def test_proxy_false_and_configured_targets() -> None:
    processes = {
        "quiet": spec("quiet", ProxyOptions(enabled=False)),
        "web": spec("web", ProxyOptions(target="http://localhost:3000", host="app.localhost:3000")),
    }
    targets = Targets(processes, 0)
    try:
        assert targets.for_url("quiet", "http://localhost:4000/") is None
        (configured,) = targets.configure()
        assert configured.process == "web" and configured.host_header == b"app.localhost:3000"
        assert targets.for_url("web", "http://127.0.0.1:3000/") is configured
        assert targets.for_url("web", "http://localhost:3001/") is None  # configured replaces detection
    finally:
        targets.close()


def test_brummer_toml_proxy_keys(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        brummer_toml="""
            proxy_base_port = 0
            [processes.web]
            cmd = "serve"
            proxy = { target = "http://localhost:5173", host = "localhost:5173" }
            [processes.api]
            cmd = "api"
            proxy = false
        """,
    )
    project = load(root)
    assert project.settings.proxy_base_port == 0 and project.settings.proxy
    assert project.processes["web"].proxy == ProxyOptions(True, "http://localhost:5173", "localhost:5173")
    assert not project.processes["api"].proxy.enabled
    assert not load(root, proxy=False).settings.proxy


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('{ target = "http://example.com" }', "on this machine or the LAN"),
        ('{ target = "localhost:5173" }', "must be an http:// or https:// origin"),
        ("{ port = 1 }", "must be true, false or a table"),
        ('"yes"', "must be true, false or a table"),
    ],
)
def test_bad_proxy_keys_name_the_line(tmp_path: Path, value: str, message: str) -> None:
    root = write_project(tmp_path, brummer_toml=f'[processes.web]\ncmd = "serve"\nproxy = {value}\n')
    with pytest.raises(ConfigError, match=message) as caught:
        load(root)
    assert "brummer.toml:3" in str(caught.value)


def test_the_port_search_stops_at_65535_with_one_line_saying_so() -> None:
    """Base 65535 and two servers: the second gets no proxy (never 65536, never an exception), and says why."""
    targets = Targets({"a": spec("a"), "b": spec("b")}, 65535)
    try:
        a = targets.for_url("a", "http://127.0.0.1:18111/")
        assert a is None or a.proxy_port == 65535  # (another program may hold 65535)
        assert targets.for_url("b", "http://127.0.0.1:18112/") is None
        assert targets.for_url("b", "http://127.0.0.1:18112/") is None  # asked again: no second line
        assert targets.failures[-1] == (
            "b: no free proxy port for http://127.0.0.1:18112/ (every port from 65535 to 65535 is in use)"
        )
        assert len(targets.failures) == (1 if a is not None else 2)
    finally:
        targets.close()


def test_an_international_host_name_is_sent_in_its_ascii_form() -> None:
    """A printed `http://ŝ.localhost:3000/` (child output is hostile) must not crash whoever asks for its proxy."""
    targets = Targets({"web": spec("web")}, 0)
    try:
        web = targets.for_url("web", "http://ŝ.localhost:3000/")
        assert web is not None and web.host_header == b"xn--lga.localhost:3000"
        ipv6 = targets.for_url("web", "http://[::1]:3001/")
        assert ipv6 is not None and ipv6.host_header == b"[::1]:3001"
    finally:
        targets.close()
