"""Discovery: one project directory in, one ``ProjectSpec`` out.

Sources are read in a fixed order — package.json (root, then workspace members), Procfile, brummer.toml — and
a later source replaces an earlier process of the same name (brummer.toml > Procfile > package.json) while
keeping its place in discovery order. A brummer.toml table without ``cmd``/``script`` refines the process it
names instead of replacing it. Everything is validated here, including the whole dependency graph, so that
``brummer ls`` fails on the same mistakes ``brummer up`` would.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from brummer.config.envfiles import DOTENV, EnvFiles, layer
from brummer.config.files import is_file, toml_line
from brummer.config.graph import check_acyclic, resolve_name
from brummer.config.package_json import PackageJson, detect_package_manager, read_package_json, script_command
from brummer.config.procfile import PROCFILE, read_procfile
from brummer.config.settings import (
    Overrides,
    default_user_config,
    resolve_settings,
    settings_from_env,
    settings_from_flags,
)
from brummer.config.spec import Condition, ProcessSpec, ProjectSpec
from brummer.config.toml_file import BRUMMER_TOML, BrummerToml, read_brummer_toml, read_user_config
from brummer.config.toml_process import TomlProcess
from brummer.config.workspaces import find_workspace, member_name
from brummer.errors import ConfigError


def discover_project(
    root: Path,
    *,
    overrides: Overrides | None = None,
    environ: Mapping[str, str] | None = None,
    user_config: Path | None = None,
) -> ProjectSpec:
    """Read ``root``'s package.json(s), Procfile, brummer.toml and .env files, plus settings from the command
    line's ``overrides``, ``environ`` (default ``os.environ``) and the user config file, into one validated
    ProjectSpec."""
    environ = os.environ if environ is None else environ
    root = Path(root)
    try:
        is_dir = root.is_dir()
    except OSError as exc:
        raise ConfigError(f"cannot read the project directory: {exc.strerror or exc}", root) from None
    if not is_dir:
        raise ConfigError("project root is not a directory", root)
    root = root.resolve()
    files: list[Path] = []
    env_files = EnvFiles()
    base_env = env_files.load_optional(root / DOTENV)
    processes: dict[str, ProcessSpec] = {}

    package, package_manager = _add_package_scripts(root, processes, files)
    procfile_names: list[str] = []
    if is_file(root / PROCFILE):
        files.append(root / PROCFILE)
        for line in read_procfile(root / PROCFILE):
            procfile_names.append(line.name)
            processes[line.name] = ProcessSpec(line.name, line.command, "Procfile", root / PROCFILE, root)
    toml: BrummerToml | None = None
    if is_file(root / BRUMMER_TOML):
        toml = read_brummer_toml(root / BRUMMER_TOML)
        files.append(toml.document.path)
        for name, entry in toml.processes.items():
            base = processes.get(name)
            processes[name] = _merge(entry, base, toml, root, package, package_manager, env_files)
        processes = _check_dependencies(toml, processes)
        check_acyclic(processes, toml.document)
    files += env_files.read

    default = _default(toml, processes, procfile_names, package)
    user_path = user_config if user_config is not None else default_user_config(environ)
    user_settings: dict[str, object] = {}
    if is_file(user_path):
        _, user_settings = read_user_config(user_path)
        files.append(user_path)
    layers = (settings_from_flags(overrides), settings_from_env(environ), toml.settings if toml else {}, user_settings)
    settings = resolve_settings(*layers)
    # .env applies to every process under its own env_file/env. The most specific grace wins: the command line
    # (a flag, or BRUMMER_GRACE for this invocation), then the process's own, then the project's, then the user's.
    forced, fallback = _first_grace(layers[:2]), _first_grace(layers[2:])
    own_grace = {name for name, entry in toml.processes.items() if entry.grace is not None} if toml else set()
    processes = {
        name: dataclasses.replace(
            spec, env=layer(base_env, spec.env), grace=_grace(spec, name in own_grace, forced, fallback)
        )
        for name, spec in processes.items()
    }
    return ProjectSpec(
        root=root,
        processes=processes,
        default=default,
        package_manager=package_manager,
        settings=settings,
        files=tuple(dict.fromkeys(files)),
        checks=toml.checks if toml else (),
    )


def _first_grace(layers: tuple[Mapping[str, object], ...]) -> float | None:
    for settings in layers:
        value = settings.get("grace")
        if isinstance(value, int | float):
            return float(value)
    return None


def _grace(spec: ProcessSpec, own: bool, forced: float | None, fallback: float | None) -> float:
    if forced is not None:
        return forced
    if own or fallback is None:
        return spec.grace
    return fallback


def _add_package_scripts(
    root: Path, processes: dict[str, ProcessSpec], files: list[Path]
) -> tuple[PackageJson | None, str | None]:
    """Add the root's scripts (plain names) and every workspace member's (``pkg:script``) to ``processes``."""
    if not is_file(root / "package.json"):
        return None, None
    package = read_package_json(root / "package.json")
    package_manager = detect_package_manager(package)
    workspace = find_workspace(package)
    files += [package.path, *workspace.files]
    for pkg, prefix in [(package, ""), *((m, member_name(m) + ":") for m in workspace.members)]:
        for script in pkg.scripts:
            # Root scripts come first, so a root script literally named "web:dev" wins over a member's.
            processes.setdefault(
                prefix + script,
                ProcessSpec(
                    name=prefix + script,
                    command=script_command(package_manager, script),
                    source="package.json",
                    source_file=pkg.path,
                    cwd=pkg.directory,
                ),
            )
    return package, package_manager


def _merge(
    entry: TomlProcess,
    base: ProcessSpec | None,
    toml: BrummerToml,
    root: Path,
    package: PackageJson | None,
    package_manager: str | None,
    env_files: EnvFiles,
) -> ProcessSpec:
    """Build a process from its brummer.toml table; without cmd/script the command comes from ``base``."""
    document = toml.document
    section = ("processes", entry.name)
    cwd = Path(os.path.normpath(root / entry.cwd)) if entry.cwd is not None else None
    if entry.script is not None:
        if package is None or package_manager is None:
            raise document.error(f"processes.{entry.name}.script needs a package.json", section, "script")
        if entry.script not in package.scripts:
            known = ", ".join(package.scripts) or "none"
            raise document.error(
                f"processes.{entry.name}.script: no package.json script {entry.script!r} (scripts: {known})",
                section,
                "script",
            )
        command = script_command(package_manager, entry.script)
        base = ProcessSpec(entry.name, command, "brummer.toml", document.path, root)
    elif entry.command is not None:
        base = ProcessSpec(entry.name, entry.command, "brummer.toml", document.path, root)
    elif base is None:
        raise document.error(
            f"processes.{entry.name} needs cmd or script (no package.json script or Procfile entry is named "
            f"{entry.name!r})",
            section,
        )
    line = toml_line(document.text, section, "env_file") if entry.env_files else None
    loaded = [env_files.load(root / file, named_in=document.path, line=line) for file in entry.env_files]
    env = layer(*loaded, entry.env)
    given: dict[str, Any] = {
        "ready": entry.ready,
        "restart": entry.restart,
        "max_restarts": entry.max_restarts,
        "stop_signal": entry.stop_signal,
        "grace": entry.grace,
        "proxy": entry.proxy,
    }
    return dataclasses.replace(
        base,
        cwd=cwd or base.cwd,
        env=env,
        depends_on=dict(entry.depends_on),
        **{key: value for key, value in given.items() if value is not None},
    )


def _check_dependencies(toml: BrummerToml, processes: dict[str, ProcessSpec]) -> dict[str, ProcessSpec]:
    """Every ``depends_on`` target must exist; short workspace names (``web:dev``) become full ones."""
    checked = dict(processes)
    for name, spec in processes.items():
        if not spec.depends_on:
            continue
        depends_on: dict[str, Condition] = {}
        for target, condition in spec.depends_on.items():
            try:
                full = resolve_name(processes, target)
            except ConfigError as exc:
                raise toml.document.error(
                    f"processes.{name}.depends_on: {exc.message}", ("processes", name), "depends_on", target
                ) from None
            if full in depends_on:
                raise toml.document.error(
                    f"processes.{name}.depends_on names {full!r} twice",
                    ("processes", name),
                    "depends_on",
                    target,
                )
            if condition is Condition.READY and processes[full].ready.kind == "none":
                raise toml.document.error(
                    f'processes.{name}.depends_on: {full!r} has ready = "none", so it never becomes ready and '
                    f'{name!r} would wait forever; depend on it being "started" or give {full!r} a ready check',
                    ("processes", name),
                    "depends_on",
                    target,
                )
            depends_on[full] = condition
        checked[name] = dataclasses.replace(spec, depends_on=depends_on)
    return checked


def _default(
    toml: BrummerToml | None,
    processes: Mapping[str, ProcessSpec],
    procfile_names: list[str],
    package: PackageJson | None,
) -> tuple[str, ...]:
    """brummer.toml's ``default``, else every Procfile entry, else the ``dev`` script, else ``start``, else every
    process that brummer.toml defines itself (a project described only by brummer.toml runs as a whole)."""
    if toml is not None and toml.default is not None:
        names: list[str] = []
        for name in toml.default:
            try:
                names.append(resolve_name(processes, name))
            except ConfigError as exc:
                raise toml.document.error(f"default: {exc.message}", (), "default", name) from None
        return tuple(dict.fromkeys(names))
    if procfile_names:
        return tuple(procfile_names)
    for script in ("dev", "start"):
        if package is not None and script in package.scripts:
            return (script,)
    return tuple(name for name, spec in processes.items() if spec.source == "brummer.toml")
