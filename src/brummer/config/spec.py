"""What to run: the resolved, immutable description of a project's processes.

Discovery (``brummer.config.discover``) turns package.json, Procfile, brummer.toml, .env files and settings into
one ``ProjectSpec``; everything downstream (supervisor, CLI, MCP) reads only these types.
"""

from __future__ import annotations

import enum
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Source = Literal["package.json", "Procfile", "brummer.toml", "check"]  # "check": brummer smoke's, while it runs


class Condition(enum.StrEnum):
    """When a ``depends_on`` dependency counts as satisfied."""

    STARTED = "started"  # the dependency's process has been spawned
    READY = "ready"  # its readiness check passed
    COMPLETED = "completed"  # it exited, with any code
    SUCCEEDED = "succeeded"  # it exited with code 0


class RestartPolicy(enum.StrEnum):
    NO = "no"
    ON_FAILURE = "on-failure"
    ALWAYS = "always"


ReadyKind = Literal["url", "http", "tcp", "log", "exec", "none"]


@dataclass(frozen=True, slots=True)
class ReadyCheck:
    """How brummer decides that a running process is ready.

    ``url``: the first URL the process prints (the default). ``http``: GET ``target`` answers. ``tcp``: a connection
    to 127.0.0.1:``target`` succeeds. ``log``: a line matches the regex ``target``. ``exec``: the shell command
    ``target`` exits 0. ``none``: never (the process only ever runs).
    """

    kind: ReadyKind = "url"
    target: str = ""
    interval: float = 0.25  # first poll interval for http/tcp/exec; backs off to 2 s

    def describe(self) -> str:
        return self.kind if not self.target else f"{self.kind} {self.target}"


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    """brummer.toml's ``proxy`` key of one process: ``false`` (never proxy its URLs), or a target to proxy from the
    start (``{ target = "http://localhost:5173", host = "localhost:5173" }``) instead of the URLs it prints.

    ``host`` is the Host header the upstream sees (default: the target's host and port). ``inject = false``: no
    telemetry script in this process's pages (``Settings.inject`` turns it off for every process).
    """

    enabled: bool = True
    target: str | None = None
    host: str | None = None
    inject: bool = True


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One runnable process.

    ``command`` is either a shell string (run with ``/bin/sh -c``) or an argv tuple (exec'd directly, e.g.
    ``("npm", "run", "dev")``). ``env`` holds only brummer's additions (.env, env_file, env), layered on top of
    brummer's own environment at spawn time.
    """

    name: str
    command: str | tuple[str, ...]
    source: Source
    source_file: Path
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)
    depends_on: Mapping[str, Condition] = field(default_factory=dict)
    ready: ReadyCheck = field(default_factory=ReadyCheck)
    restart: RestartPolicy = RestartPolicy.NO
    max_restarts: int | None = None  # None: unlimited (for restart = on-failure/always)
    backoff_initial: float = 1.0  # seconds before the first restart; doubles each time
    backoff_max: float = 30.0
    stop_signal: signal.Signals = signal.SIGTERM
    grace: float = 5.0  # seconds between stop_signal and SIGKILL
    proxy: ProxyOptions = field(default_factory=ProxyOptions)

    @property
    def display_command(self) -> str:
        if isinstance(self.command, str):
            return self.command
        return " ".join(self.command)


@dataclass(frozen=True, slots=True)
class Settings:
    """brummer-wide settings after precedence: flags > BRUMMER_* environment > project file > user file."""

    grace: float | None = None  # overrides every process's grace when set
    log_max_lines: int = 50_000  # per process
    log_max_bytes: int = 32 * 1024 * 1024  # per process, counted as characters of text
    mcp_port: int = 7777
    mcp: bool = True
    mcp_host: str = "127.0.0.1"
    allow_remote: bool = False  # binding anything but loopback needs this explicitly
    proxy: bool = True
    proxy_base_port: int = 20888  # the first proxy listens here (or on the next free port); 0: any free port
    inject: bool = True  # the proxy inserts the browser telemetry script into HTML pages
    browser_eval: bool = False  # agents may run code in the user's pages (browser_eval): only when allowed


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    """Everything discovered about one project directory."""

    root: Path
    processes: Mapping[str, ProcessSpec]  # in discovery order
    default: tuple[str, ...]  # what ``brummer up`` runs with no names
    package_manager: str | None = None
    settings: Settings = field(default_factory=Settings)
    files: tuple[Path, ...] = ()  # the project files that were read, for ``brummer ls``
    checks: tuple[str, ...] = ()  # shell commands ``brummer smoke`` runs in order (brummer.toml ``check``)
