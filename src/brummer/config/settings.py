"""brummer-wide settings: one validator per key, four layers, first layer that sets a key wins.

Layers, highest first: command-line flags, ``BRUMMER_*`` environment variables, the project's brummer.toml,
the user's ``~/.config/brummer/config.toml``. Like honcho's ChainMap, each layer is a plain dict of the keys
it sets, so "not given" is simply absence and the merge is one lookup per key.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brummer.config.spec import Settings
from brummer.errors import ConfigError


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value) or value < 0:
        raise ValueError("must be a finite number >= 0")
    return float(value)


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be an integer")
    if value < 1:
        raise ValueError("must be an integer >= 1")
    return value


def _port(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a port number")
    if not 0 <= value <= 65535:
        raise ValueError("must be a port number (0-65535)")
    return value


def _host(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a host name or address")
    return value.strip()


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


# Setting key -> validator. The validators take already-typed values (TOML, flags); see ``parse_env``.
SETTING_KEYS: Mapping[str, Callable[[object], object]] = {
    "grace": _number,
    "log_max_lines": _count,
    "log_max_bytes": _count,
    "mcp_port": _port,
    "mcp_host": _host,
    "mcp": _flag,
    "proxy": _flag,
    "proxy_base_port": _port,
    "allow_remote": _flag,
    "inject": _flag,
    "browser_eval": _flag,
}
ENV_PREFIX = "BRUMMER_"
_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})


def check_setting(key: str, value: object) -> object:
    """Validate one setting; raises ValueError("must be ...") for the caller to place in a ConfigError."""
    return SETTING_KEYS[key](value)


def env_var(key: str) -> str:
    return ENV_PREFIX + key.upper()


def _parse_text(key: str, text: str) -> object:
    """Turn an environment string into the type ``key`` expects, then validate it."""
    checker = SETTING_KEYS[key]
    value: object
    if checker is _flag:
        lowered = text.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ValueError("must be one of 0, 1, true, false, yes, no")
        value = lowered in _TRUE
    elif checker is _number:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
    elif checker is _host:
        value = text
    else:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("must be an integer") from None
    return checker(value)


def settings_from_env(environ: Mapping[str, str]) -> dict[str, object]:
    """The ``BRUMMER_*`` layer. An empty variable counts as unset (``BRUMMER_GRACE= brummer up``)."""
    layer: dict[str, object] = {}
    for key in SETTING_KEYS:
        name = env_var(key)
        text = environ.get(name, "")
        if not text.strip():
            continue
        try:
            layer[key] = _parse_text(key, text)
        except ValueError as exc:
            raise ConfigError(f"environment variable {name}={text!r} {exc}") from None
    return layer


@dataclass(frozen=True, slots=True)
class Overrides:
    """The settings a command line gives; None means "not given". Every field is a key of ``SETTING_KEYS``."""

    grace: float | None = None
    log_max_lines: int | None = None
    log_max_bytes: int | None = None
    mcp_port: int | None = None
    mcp: bool | None = None
    mcp_host: str | None = None
    proxy: bool | None = None
    proxy_base_port: int | None = None
    allow_remote: bool | None = None
    inject: bool | None = None
    browser_eval: bool | None = None


def settings_from_flags(overrides: Overrides | None) -> dict[str, object]:
    """The command-line layer: the fields of ``overrides`` that were given, each validated."""
    layer: dict[str, object] = {}
    for field in dataclasses.fields(Overrides):
        value = getattr(overrides, field.name) if overrides is not None else None
        if value is None:
            continue
        try:
            layer[field.name] = check_setting(field.name, value)
        except ValueError as exc:
            raise ConfigError(f"--{field.name.replace('_', '-')} {exc}") from None
    return layer


def resolve_settings(*layers: Mapping[str, object]) -> Settings:
    """Merge layers given highest-precedence first into one Settings; unset keys keep Settings' defaults."""
    merged = ChainMap(*(dict(layer) for layer in layers))
    values: dict[str, Any] = {key: merged[key] for key in SETTING_KEYS if key in merged}
    return Settings(**values)  # each value was checked by its key's validator


def default_user_config(environ: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/brummer/config.toml``, else ``~/.config/brummer/config.toml``.

    A relative XDG_CONFIG_HOME is ignored, as the XDG spec asks.
    """
    xdg = environ.get("XDG_CONFIG_HOME", "")
    if xdg and os.path.isabs(xdg):
        base = Path(xdg)
    else:
        home = environ.get("HOME")
        base = (Path(home) if home else Path.home()) / ".config"
    return base / "brummer" / "config.toml"
