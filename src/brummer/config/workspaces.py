"""Workspace members of a Node monorepo: npm/yarn ``workspaces`` and ``pnpm-workspace.yaml``.

Members' scripts become ``pkg:script`` processes. Globs are matched by walking the tree ourselves, pruning
``node_modules`` and dot-directories: ``Path.glob("**/…")`` would descend into ``node_modules``, which in a
real monorepo holds tens of thousands of directories. pnpm-workspace.yaml is read with a tiny hand parser for
the one key we need, so brummer carries no YAML dependency.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from brummer.config.files import is_file, read_text
from brummer.config.package_json import PackageJson, read_package_json
from brummer.errors import ConfigError

PNPM_WORKSPACE = "pnpm-workspace.yaml"
_PRUNED = frozenset({"node_modules"})
_YAML_TOP_KEY = re.compile(r"^([^\s#-][^:#]*?)\s*:(.*)$")
_YAML_ITEM = re.compile(r"^\s+-\s*(.*)$|^-\s*(.*)$")


@dataclass(slots=True)
class Workspace:
    """The members found, in pattern order, and the extra files read to find them."""

    members: list[PackageJson] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def member_name(member: PackageJson) -> str:
    """The package's ``name`` (scopes kept, ``@acme/web``), else its directory name."""
    return member.name or member.directory.name


def find_workspace(package: PackageJson) -> Workspace:
    """Read the members of the workspace rooted at ``package`` (none when it declares no workspace).

    ``pnpm-workspace.yaml`` replaces the ``workspaces`` field when present, as it does for pnpm itself.
    """
    root = package.directory
    workspace = Workspace()
    source = root / PNPM_WORKSPACE
    if is_file(source):
        patterns = parse_pnpm_workspace(source)
        workspace.files.append(source)
    else:
        source, patterns = package.path, _field_patterns(package)
    seen: dict[str, Path] = {}
    for directory in expand_patterns(root, patterns, source=source):
        member = read_package_json(directory / "package.json")
        name = member_name(member)
        if name in seen:
            raise ConfigError(
                f"workspace package name {name!r} is used by both {seen[name]} and {directory}", member.path
            )
        seen[name] = directory
        workspace.members.append(member)
        workspace.files.append(member.path)
    return workspace


def _field_patterns(package: PackageJson) -> list[str]:
    """npm's ``"workspaces": [...]`` or yarn classic's ``"workspaces": {"packages": [...]}``."""
    raw = package.data.get("workspaces")
    if raw is None:
        return []
    if isinstance(raw, dict):
        raw = raw.get("packages", [])
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise package.error('"workspaces" must be a list of globs or {"packages": [globs]}', "workspaces")
    return list(raw)


def parse_pnpm_workspace(path: Path) -> list[str]:
    """The ``packages:`` globs of a pnpm-workspace.yaml (block list or one-line ``[a, b]`` flow list)."""
    patterns: list[str] = []
    in_packages = False
    for number, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        top = _YAML_TOP_KEY.match(line)
        if top:
            in_packages = _unquote(top.group(1), path, number) == "packages"
            rest = _strip_comment(top.group(2)).strip()
            if in_packages and rest:
                if not (rest.startswith("[") and rest.endswith("]")):
                    raise ConfigError("packages: expected a list of globs", path, number)
                patterns += [_unquote(item, path, number) for item in rest[1:-1].split(",") if item.strip()]
            continue
        item = _YAML_ITEM.match(line)
        if in_packages and item:
            value = _unquote(item.group(1) if item.group(1) is not None else item.group(2), path, number)
            if not value:
                raise ConfigError("packages: empty glob", path, number)
            patterns.append(value)
    return patterns


def _strip_comment(text: str) -> str:
    if text.lstrip().startswith("#"):
        return ""
    return re.split(r"\s+#", text, maxsplit=1)[0]


def _unquote(text: str, path: Path, number: int) -> str:
    text = text.strip()
    if text[:1] in ("'", '"'):
        quote = text[0]
        end = text.find(quote, 1)
        if end < 0 or _strip_comment(text[end + 1 :]).strip():
            raise ConfigError(f"unbalanced quote in {text!r}", path, number)
        return text[1:end]
    return _strip_comment(text).strip()


def expand_patterns(root: Path, patterns: list[str], *, source: Path) -> list[Path]:
    """Member directories (those with a package.json) matching the globs, minus ``!``-negated ones.

    Order: by the first pattern that matches, then by path, so discovery order is stable across runs.
    """
    include: list[re.Pattern[str]] = []
    exclude: list[re.Pattern[str]] = []
    for raw in patterns:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        pattern = pattern.strip().removeprefix("./").rstrip("/")
        if not pattern or pattern.startswith("/") or ".." in pattern.split("/"):
            raise ConfigError(f"workspace glob {raw!r} must be a path inside the project", source)
        (exclude if negated else include).append(glob_to_regex(pattern))
    if not include:
        return []
    candidates = sorted(_package_dirs(root))
    found: list[Path] = []
    for regex in include:
        for relative in candidates:
            path = root / relative
            if path in found or not regex.fullmatch(relative):
                continue
            if not any(neg.fullmatch(relative) for neg in exclude):
                found.append(path)
    return found


def _package_dirs(root: Path) -> list[str]:
    """Every directory below ``root`` holding a package.json, as a posix relative path."""
    result: list[str] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _PRUNED and not d.startswith(".")]
        if "package.json" in files and Path(current) != root:
            result.append(Path(current).relative_to(root).as_posix())
    return result


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """Translate a workspace glob: ``**`` spans directories, ``*``/``?`` stay within one, ``[..]`` a class."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[" and (end := pattern.find("]", i + 1)) > i + 1:
            body = pattern[i + 1 : end]
            body = "^" + body[1:] if body[0] in "!^" else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out))
