"""brummer's errors: one root, translated from foreign exceptions at one boundary each.

    BrummerError                 anything brummer reports to a user
    ├── UsageError               bad command-line use                      (exit 2)
    ├── ConfigError              a project file is malformed or names an unknown process,
    │   │                        or the dependency graph has a cycle       (exit 2)
    │   └── DependencyCycleError
    ├── SpawnError               a child could not be started (no such command, bad cwd)
    ├── ProcessControlError      a start/stop/restart request that cannot be done (unknown name, ...)
    ├── AlreadyRunningError      another brummer runs this project's processes (holds its lock)  (exit 2)
    ├── RegistryError            the instance registry directory (or a file in it) is not safe to use
    ├── NoInstanceError          no reachable brummer up for a remote command (none, a stale entry, no MCP,
    │                            gone during the command)                  (exit 3)
    ├── OutputClosed             whoever read a command's output went away (``brummer logs -f | head``)
    │                                                                      (exit 141, quietly)
    ├── RemoteError              talking to a running brummer over its /ws failed (remote commands, the hub)
    │   ├── ConnectionLost       the connection broke, or could not be opened
    │   └── RpcError             a JSON-RPC error answer (``code``)
    ├── ToolError                an MCP tool call cannot be done (bad value, unknown process): the agent
    │                            gets it as an ``isError`` result, never as a protocol error
    ├── PatternError             a regex (from an agent, brummer.toml or the panel) that the linear-time
    │                            engine cannot run; each caller wraps it (ToolError, ConfigError, a message)
    ├── ServiceError             a service (printer, panel, MCP, proxy) failed and was isolated
    │   └── MCPServerError       the MCP server cannot start (no free port, another brummer serves
    │                            this project, a non-loopback host without allow_remote)
    └── UpstreamError            the proxy cannot reach a process's server (refused, reset, timed out):
                                 the client gets a 502 page naming the process and its state

The CLI maps ``UsageError``, ``ConfigError`` and ``AlreadyRunningError`` to exit code 2, ``NoInstanceError`` to 3
and any other ``BrummerError`` to 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from brummer.registry.entry import Entry
    from brummer.supervise.state import ProcessInfo


class BrummerError(Exception):
    """Root of every error brummer reports to a user."""

    exit_code = 1


class UsageError(BrummerError):
    """The command line asks for something brummer cannot do."""

    exit_code = 2


class ConfigError(BrummerError):
    """A project or user file is malformed, or names something that does not exist.

    ``str()`` gives one line that names the file and, when known, the line: ``brummer.toml:7: ...``.
    """

    exit_code = 2

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        if self.path is None:
            return self.message
        where = str(self.path) if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class DependencyCycleError(ConfigError):
    """``depends_on`` forms a cycle; ``cycle`` lists the names in order, first name repeated last."""

    def __init__(self, cycle: list[str], path: Path | str | None = None, line: int | None = None) -> None:
        self.cycle = cycle
        super().__init__("dependency cycle: " + " -> ".join(cycle), path, line)


class SpawnError(BrummerError):
    """A child process could not be started."""


class ProcessControlError(BrummerError):
    """A request to start, stop or restart a process cannot be carried out."""


class AlreadyRunningError(BrummerError):
    """Another brummer runs the project's processes; ``holder`` is its registry entry (or just its pid, or None
    while it is still registering). ``str()`` is the one line a second ``brummer up`` prints."""

    exit_code = 2

    def __init__(self, project: Path, holder: Entry | int | None) -> None:
        self.project = project
        self.holder = holder
        if holder is None:
            line = f"another brummer is starting in {project}; wait for it, or stop it"
        elif isinstance(holder, int):
            line = f"{project} already runs in another brummer (pid {holder})"
        else:
            line = f"{project} already runs in {holder.describe()}; {holder.reach()}"
        super().__init__(line)


class RegistryError(BrummerError):
    """The instance registry directory, or a file brummer must use in it, is not safe (a symlink, another
    user's, open to others): brummer refuses rather than trust or write through it."""


class NoInstanceError(BrummerError):
    """A remote command (``brummer ps``, ``logs``, ...) has no running ``brummer up`` to talk to; ``str()`` is one
    line that says how to start one."""

    exit_code = 3


class OutputClosed(BrummerError):
    """Our stdout's reader is gone: end quietly with 141, as a program killed by SIGPIPE would."""

    exit_code = 141

    def __init__(self) -> None:
        super().__init__("")


class RemoteError(BrummerError):
    """Talking to a running brummer failed; the remote commands turn it into ``NoInstanceError`` or ``ToolError``,
    the hub into a tool error naming the project."""


class ConnectionLost(RemoteError):
    """The connection to an instance broke (or could not be opened): a request's outcome is unknown."""


class RpcError(RemoteError):
    """A JSON-RPC error answer: ``code`` and the server's message."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(message)


class ToolError(BrummerError):
    """An MCP tool call cannot be carried out; the message says what to do instead."""


class PatternError(BrummerError):
    """A search pattern is invalid, or uses what a linear-time engine cannot run (backreferences, lookaround).

    The message names the construct and stands alone, so callers can prefix where the pattern came from.
    """


class ServiceError(BrummerError):
    """A service failed; it was isolated from the user's processes and restarted."""


class MCPServerError(ServiceError):
    """The MCP server cannot start; the processes run on without it."""


class UpstreamError(BrummerError):
    """The proxy cannot reach a target's server; ``info`` is its process's state then (None if unknown)."""

    def __init__(self, reason: str, info: ProcessInfo | None = None) -> None:
        self.reason = reason
        self.info = info
        super().__init__(reason)
