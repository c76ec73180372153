"""What counts as this machine: the one loopback test every part of brummer asks.

- ``loopback_ip``: an IP literal in 127.0.0.0/8 or ``::1`` (brackets allowed). The registry believes only such MCP
  addresses: a name could be made to resolve elsewhere.
- ``is_loopback``: that, or ``localhost``: where brummer may serve without being told to (``allow_remote``).
- ``local_name``: that, or any ``*.localhost`` name (RFC 6761: it never leaves the machine): the names a ``Host`` or
  ``Origin`` header may carry for the MCP server's guard and the proxy's. A page that rebinds its own DNS name to
  127.0.0.1 still sends that name, so it is refused.
- ``mcp_host_refusal``: the one check, for ``brummer up`` and the MCP service alike, that MCP is served on loopback
  unless ``allow_remote`` says otherwise.
"""

from __future__ import annotations

import ipaddress


def loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback(host: str) -> bool:
    return host.lower() == "localhost" or loopback_ip(host)


def local_name(name: str) -> bool:
    name = name.lower()
    return name.endswith(".localhost") or is_loopback(name)


def mcp_host_refusal(host: str, allow_remote: bool) -> str | None:
    """Why MCP must not be served on ``host``, or None."""
    if allow_remote or is_loopback(host):
        return None
    return (
        f"refusing to serve MCP on {host}: anyone on that network could drive your processes; only loopback unless "
        "allow_remote is set (add --allow-remote if that is what you want)"
    )
