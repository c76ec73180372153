"""The instance registry: how brummer commands of one user find the brummers running on the machine.

It lives in the user's runtime directory (``$XDG_RUNTIME_DIR/brummer/``, see ``folder.py``), never in a project
folder, which a cloned repository controls. Per project (keyed by its real path):

    <slug>-<hash>.<pid>.json   one entry per running instance (0600): pid and start fingerprint, kind (up /
                               headless), version, project, started_at, whether it runs the project, its terminal,
                               MCP state, loopback addresses and token
    <slug>-<hash>.lock         flock'ed by the one brummer that runs the project's processes (its pid inside)
    <slug>-<hash>.mcp.lock     flock'ed by a brummer up while its MCP server starts
                               (each removed by its holder as it lets go: see instance.py)

Writers: ``claim`` (brummer up: lock first, then entry), ``register`` (headless brummer mcp: entry now, lock when
its agent first starts a process). Readers: ``entries(root)`` / ``entries()`` (every believed entry of a project, or
of the user: ``brummer ps --dir X``, ``ps --all``, ``mcp --all``), ``find_up(root)`` (the project's brummer up),
``settled`` / ``wait_for_mcp`` (an entry once its MCP server has started) and ``location()`` (the directory, to
watch for instances coming and going).

Stdlib and trio only: ``brummer mcp`` reads the registry before it knows whether it needs the MCP SDK at all.
"""

from brummer.registry.entry import Entry, Kind, McpState, McpUrls, loopback_urls, project_key
from brummer.registry.folder import Folder, location
from brummer.registry.instance import Registration, claim, holder, register
from brummer.registry.lookup import entries, find_up, settled, wait_for_mcp

__all__ = [
    "Entry",
    "Folder",
    "Kind",
    "McpState",
    "McpUrls",
    "Registration",
    "claim",
    "entries",
    "find_up",
    "holder",
    "location",
    "loopback_urls",
    "project_key",
    "register",
    "settled",
    "wait_for_mcp",
]
