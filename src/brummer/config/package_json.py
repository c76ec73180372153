"""package.json: the scripts a Node project already declares, and the package manager that runs them.

Scripts run as ``(pm, "run", script)`` rather than as their shell text so that the package manager sets up
``PATH`` (``node_modules/.bin``), runs ``pre``/``post`` hooks and loads its own config exactly as the
developer's ``pnpm dev`` would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from brummer.config.files import line_of, read_text, too_deep
from brummer.errors import ConfigError

PACKAGE_MANAGERS = ("npm", "yarn", "pnpm", "bun")

# Checked in this order when package.json has no ``packageManager`` field; the first lockfile found wins.
LOCKFILES: tuple[tuple[str, str], ...] = (
    ("bun.lock", "bun"),
    ("bun.lockb", "bun"),
    ("pnpm-lock.yaml", "pnpm"),
    ("yarn.lock", "yarn"),
    ("package-lock.json", "npm"),
)
DEFAULT_PACKAGE_MANAGER = "npm"


@dataclass(frozen=True, slots=True)
class PackageJson:
    """One parsed package.json: the raw text is kept so that later errors can point at a line."""

    path: Path
    text: str
    data: Mapping[str, object]
    scripts: Mapping[str, str] = field(default_factory=dict)  # in file order

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return name if isinstance(name, str) and name.strip() else None

    def line_of(self, key: str) -> int | None:
        """The line of ``"key"`` in the raw text (first occurrence), for error messages."""
        return line_of(self.text, json.dumps(key))

    def error(self, message: str, key: str | None = None) -> ConfigError:
        return ConfigError(message, self.path, self.line_of(key) if key is not None else None)


def read_package_json(path: Path) -> PackageJson:
    """Parse ``path`` and validate its ``scripts``; any problem is a ConfigError naming the file and line."""
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON: {exc.msg} (column {exc.colno})", path, exc.lineno) from None
    except RecursionError:
        raise too_deep(path) from None
    if not isinstance(data, dict):
        raise ConfigError("a package.json must hold a JSON object", path, 1)
    package = PackageJson(path, text, data)
    raw = data.get("scripts", {})
    if not isinstance(raw, dict):
        raise package.error('"scripts" must be an object of name -> command strings', "scripts")
    scripts: dict[str, str] = {}
    for name, command in raw.items():
        if not isinstance(command, str):
            raise package.error(f'script "{name}" must be a string, not {json.dumps(command)}', name)
        if not name.strip():
            raise package.error("a script name cannot be empty", "")
        scripts[name] = command
    return PackageJson(path, text, data, scripts)


def detect_package_manager(package: PackageJson) -> str:
    """Which package manager runs this project's scripts.

    The ``packageManager`` field (corepack's ``"pnpm@9.1.0"``) is an explicit statement and wins; otherwise
    the lockfile in the package's directory tells what the developer actually uses; npm is the fallback.
    """
    declared = package.data.get("packageManager")
    if declared is not None:
        if not isinstance(declared, str):
            raise package.error('"packageManager" must be a string like "pnpm@9.1.0"', "packageManager")
        name = declared.strip().partition("@")[0]
        if name not in PACKAGE_MANAGERS:
            raise package.error(
                f'"packageManager" is {declared!r}; brummer knows {", ".join(PACKAGE_MANAGERS)}',
                "packageManager",
            )
        return name
    for lockfile, manager in LOCKFILES:
        if (package.directory / lockfile).is_file():
            return manager
    return DEFAULT_PACKAGE_MANAGER


def script_command(package_manager: str, script: str) -> tuple[str, ...]:
    return (package_manager, "run", script)
