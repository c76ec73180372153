"""One ``[processes.NAME]`` table of brummer.toml, checked key by key into a ``TomlProcess``.

A TomlProcess is still partial: ``None`` means "not said here", because a table may only *refine* a
package.json script or Procfile entry of the same name (add ``depends_on``, ``ready``, ...) and the merge in
``discover`` must know what to take from where.
"""

from __future__ import annotations

import math
import re
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from brummer.config.spec import Condition, ProxyOptions, ReadyCheck, ReadyKind, RestartPolicy
from brummer.errors import ConfigError, PatternError
from brummer.logs.patterns import compile_pattern

PROCESS_KEYS = (
    "cmd",
    "script",
    "cwd",
    "env",
    "env_file",
    "depends_on",
    "ready",
    "restart",
    "max_restarts",
    "stop_signal",
    "grace",
    "proxy",
)
READY_KINDS = ("url", "http", "tcp", "log", "exec")
_Choice = TypeVar("_Choice", Condition, RestartPolicy)


class ErrorAt(Protocol):
    """Builds a ConfigError at the line of ``key`` (and ``value``) in table ``section``."""

    def __call__(
        self, message: str, section: tuple[str, ...] = (), key: str | None = None, value: str | None = None
    ) -> ConfigError: ...


@dataclass(frozen=True, slots=True)
class TomlProcess:
    name: str
    command: str | tuple[str, ...] | None = None  # from ``cmd``
    script: str | None = None
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    env_files: tuple[str, ...] = ()
    depends_on: Mapping[str, Condition] = field(default_factory=dict)
    ready: ReadyCheck | None = None
    restart: RestartPolicy | None = None
    max_restarts: int | None = None
    stop_signal: signal.Signals | None = None
    grace: float | None = None
    proxy: ProxyOptions | None = None


def parse_process(name: str, body: Mapping[str, Any], error: ErrorAt) -> TomlProcess:
    """Check every key of ``[processes.<name>]``; raise at the first problem."""
    section = ("processes", name)
    where = f"processes.{name}"

    def fail(key: str, problem: str, label: str | None = None) -> ConfigError:
        return error(f"{where}.{label or key} {problem}", section, key)

    for key in body:
        if key not in PROCESS_KEYS:
            raise error(f"unknown key {key!r} in {where} (expected one of: {', '.join(PROCESS_KEYS)})", section, key)
    if "cmd" in body and "script" in body:
        raise error(f"{where} sets both cmd and script; use one", section, "script")
    values: dict[str, Any] = {}
    if "cmd" in body:
        values["command"] = _command(body["cmd"], fail)
    if "script" in body:
        values["script"] = _string(body["script"], "script", fail)
    if "cwd" in body:
        values["cwd"] = _string(body["cwd"], "cwd", fail)
    if "env" in body:
        env = body["env"]
        if not isinstance(env, dict):
            raise fail("env", 'must be a table of NAME = "value"')
        for var, value in env.items():
            if not isinstance(value, str):
                raise error(f"{where}.env.{var} must be a string (quote it)", section, "env", var)
        values["env"] = dict(env)
    if "env_file" in body:
        raw = body["env_file"]
        files = [raw] if isinstance(raw, str) else raw
        if not isinstance(files, list) or not all(isinstance(f, str) and f for f in files):
            raise fail("env_file", "must be a path or an array of paths")
        values["env_files"] = tuple(files)
    if "depends_on" in body:
        values["depends_on"] = _depends_on(body["depends_on"], fail)
    if "ready" in body:
        values["ready"] = _ready(body["ready"], fail)
    if "restart" in body:
        values["restart"] = _choice(body["restart"], RestartPolicy, "restart", fail)
    if "max_restarts" in body:
        count = body["max_restarts"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise fail("max_restarts", "must be an integer >= 0")
        values["max_restarts"] = count
    if "stop_signal" in body:
        values["stop_signal"] = _signal(body["stop_signal"], fail)
    if "grace" in body:
        grace = body["grace"]
        if isinstance(grace, bool) or not isinstance(grace, int | float):
            raise fail("grace", "must be a number")
        if not math.isfinite(grace) or grace < 0:
            raise fail("grace", "must be a finite number >= 0")
        values["grace"] = float(grace)
    if "proxy" in body:
        values["proxy"] = _proxy(body["proxy"], fail)
    return TomlProcess(name, **values)


class _Fail(Protocol):
    """Builds a ConfigError for ``processes.NAME.<label or key>`` at the line of ``key``."""

    def __call__(self, key: str, problem: str, label: str | None = None) -> ConfigError: ...


def _string(value: object, key: str, fail: _Fail) -> str:
    if not isinstance(value, str) or not value.strip():
        raise fail(key, "must be a non-empty string")
    return value


def _command(value: object, fail: _Fail) -> str | tuple[str, ...]:
    """A string is a shell command; an array is an argv, exec'd without a shell."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(arg, str) for arg in value) and value[0]:
        return tuple(value)
    raise fail("cmd", "must be a shell command string or a non-empty array of strings (argv)")


def _choice(value: object, kind: type[_Choice], key: str, fail: _Fail, label: str | None = None) -> _Choice:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return kind(value)
    except ValueError:
        allowed = ", ".join(repr(member.value) for member in kind)
        raise fail(key, f"must be one of {allowed}, not {value!r}", label) from None


def _depends_on(value: object, fail: _Fail) -> dict[str, Condition]:
    """``{db = "ready"}`` or ``["db"]`` (each meaning "started")."""
    if isinstance(value, list) and all(isinstance(name, str) and name for name in value):
        return dict.fromkeys(value, Condition.STARTED)
    if not isinstance(value, dict):
        raise fail("depends_on", 'must be a table (name = "condition") or an array of names')
    return {
        name: _choice(condition, Condition, "depends_on", fail, f"depends_on.{name}")
        for name, condition in value.items()
    }


def _ready(value: object, fail: _Fail) -> ReadyCheck:
    """``"none"`` or a table with exactly one of url/http/tcp/log/exec."""
    if value == "none":
        return ReadyCheck("none")
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in READY_KINDS:
        raise fail("ready", f'must be "none" or a table with exactly one of: {", ".join(READY_KINDS)}')
    ((kind, target),) = value.items()
    if kind == "url":
        if target is not True:
            raise fail("ready", "url must be true (wait for the first URL the process prints)")
        return ReadyCheck("url")
    if kind == "tcp":
        if isinstance(target, bool) or not isinstance(target, int) or not 1 <= target <= 65535:
            raise fail("ready", "tcp must be a port number (1-65535)")
        return ReadyCheck("tcp", str(target))
    if not isinstance(target, str) or not target.strip():
        raise fail("ready", f"{kind} must be a non-empty string")
    if kind == "http" and not target.startswith(("http://", "https://")):
        raise fail("ready", f"http must be an http:// or https:// URL, not {target!r}")
    if kind == "log":
        try:
            compile_pattern(target)
        except PatternError as exc:
            raise fail("ready", f"log is not a usable regular expression: {exc}") from None
    return ReadyCheck(cast(ReadyKind, kind), target)


def _signal(value: object, fail: _Fail) -> signal.Signals:
    """``"SIGINT"``, ``"INT"``, ``"sigint"`` or a number."""
    try:
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, int):
            return signal.Signals(value)
        if isinstance(value, str):
            name = value.strip().upper()
            return signal.Signals[name if name.startswith("SIG") else "SIG" + name]
    except (ValueError, KeyError):
        pass
    raise fail("stop_signal", f'must be a signal name like "SIGINT" or a number, not {value!r}')


def _proxy(value: object, fail: _Fail) -> ProxyOptions:
    """``false``, ``true``, or ``{ target = "http://localhost:5173", host = "localhost:5173", inject = false }``."""
    if isinstance(value, bool):
        return ProxyOptions(enabled=value)
    if not isinstance(value, dict) or not value or set(value) - {"target", "host", "inject"}:
        raise fail(
            "proxy", 'must be true, false or a table { target = "http://localhost:PORT", host = "...", inject = false }'
        )
    target, host, inject = value.get("target"), value.get("host"), value.get("inject", True)
    if not isinstance(inject, bool):
        raise fail("proxy", f"inject must be true or false, not {inject!r}")
    if target is not None:
        if not isinstance(target, str) or not re.fullmatch(r"https?://[^/\s]+/?", target):
            raise fail(
                "proxy", f"target must be an http:// or https:// origin like http://localhost:5173, not {target!r}"
            )
        from brummer.logs.urls import normalize  # one definition of a local dev URL

        if normalize(target) is None:
            raise fail(
                "proxy", f"target must be on this machine or the LAN (loopback or a private address): {target!r}"
            )
    if host is not None and (not isinstance(host, str) or not re.fullmatch(r"[A-Za-z0-9.:\[\]_-]{1,255}", host)):
        raise fail("proxy", f"host must be a host name with an optional port, not {host!r}")
    return ProxyOptions(True, target, host, inject)
