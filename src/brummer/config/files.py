"""Reading project files and pointing at lines in them; writing files safely where a project could plant links.

Every config error names ``file:line`` when it can. The parsers we use (json, tomllib, dotenv) either report a
line themselves or not at all, so for "this value is wrong" errors we search the raw text for the offending
key; a wrong line number is worse than none, so the helpers return ``None`` rather than guess.

A cloned repository can plant any of these files, so reading one is bounded: only a regular file is read (a FIFO
would block the reader forever, a link to ``/dev/zero`` would never end), it is opened ``O_NONBLOCK`` so that one
swapped in after the check cannot block either, at most ``MAX_CONFIG_BYTES`` of it, and the parsers' recursion on a
file nested 100 000 deep (``RecursionError``) becomes ``too_deep``'s one line.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from brummer.errors import ConfigError

# A TOML table header: ``[a.b]`` or ``[[a.b]]``; group 1 is the dotted key.
_TOML_HEADER = re.compile(r"^\s*\[\[?\s*(.+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY_PART = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_-]+)")

# The largest project file brummer reads: real package.json files are kilobytes (a big monorepo's root, tens of
# kilobytes); anything near this was not written for brummer to read.
MAX_CONFIG_BYTES = 10 * 1024 * 1024
_CHUNK = 1024 * 1024
_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def is_file(path: Path) -> bool:
    """Whether there is a project file to read at ``path``: False when nothing is there (a dangling link too) or a
    directory is (a virtualenv named ``.env``); a FIFO, device or socket is a ConfigError, not silently skipped.

    What ``stat`` cannot tell (EACCES on a folder, a name too long) is a ConfigError too."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path) from None
    if stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode):
        return stat.S_ISREG(st.st_mode)
    raise _not_regular(path, st)


def _not_regular(path: Path, st: os.stat_result) -> ConfigError:
    return ConfigError(f"not a regular file ({_KINDS.get(stat.S_IFMT(st.st_mode), 'a special file')})", path)


def read_text(path: Path, limit: int = MAX_CONFIG_BYTES) -> str:
    """Read a project file as UTF-8, turning OS and decoding failures into a ConfigError naming the file.

    Only a regular file of at most ``limit`` bytes is read; a link is followed (monorepos link package.json files),
    but what it reaches is checked on the open descriptor."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st)
        if st.st_size > limit:
            raise _too_large(path, st.st_size, limit)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, min(_CHUNK, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while we read
                raise _too_large(path, size, limit)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", path) from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", path) from None


def _too_large(path: Path, size: int, limit: int) -> ConfigError:
    mega = 1024 * 1024
    return ConfigError(f"too large ({size / mega:.1f} MiB; brummer reads files of up to {limit // mega} MiB)", path)


def too_deep(path: Path) -> ConfigError:
    """For a parser's ``RecursionError``: the file nests arrays or tables deeper than any config file does."""
    return ConfigError("nested too deeply to be a config file (thousands of levels of arrays or objects)", path)


def line_of(text: str, needle: str, start: int = 1) -> int | None:
    """The 1-based number of the first line at or after ``start`` that contains ``needle``."""
    for number, line in enumerate(text.splitlines()[start - 1 :], start):
        if needle in line:
            return number
    return None


def split_toml_key(dotted: str) -> tuple[str, ...]:
    """``processes."@acme/web:dev"`` -> ``("processes", "@acme/web:dev")``; good enough for finding lines."""
    parts: list[str] = []
    for match in _TOML_KEY_PART.finditer(dotted):
        double, single, bare = match.groups()
        parts.append(double if double is not None else single if single is not None else bare)
    return tuple(parts)


def _key_pattern(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"^\s*(?:{k}|\"{k}\"|'{k}')\s*[=.]")


def _value_pattern(value: str) -> re.Pattern[str]:
    v = re.escape(value)
    return re.compile(rf"\"{v}\"|'{v}'|(?:^|[\s{{,]){v}\s*=")


def toml_line(text: str, section: tuple[str, ...], key: str | None = None, value: str | None = None) -> int | None:
    """Find the line of ``key`` in table ``section`` (or of the table header when ``key`` is None).

    With ``value``, find the first line at or after the key that mentions that string (e.g. one name inside a
    ``depends_on`` array or inline table). Dotted keys written elsewhere (``web.grace = 1`` under
    ``[processes]``) fall back to a plain search for ``key =``.
    """
    lines = text.splitlines()
    current: tuple[str, ...] = ()
    key_re = _key_pattern(key) if key is not None else None
    found: int | None = None
    for number, line in enumerate(lines, 1):
        header = _TOML_HEADER.match(line)
        if header:
            if found is not None:
                break  # the value search ends at the next table
            current = split_toml_key(header.group(1))
            if key is None and current[: len(section)] == section:
                return number  # ``[processes.web.env]`` also shows where ``processes.web`` is defined
            if key is not None and value is not None and current == (*section, key):
                found = number  # ``[processes.web.depends_on]``: search the values in that table
            continue
        if found is None:
            if key_re is None or current != section or not key_re.match(line):
                continue
            if value is None:
                return number
            found = number
        if found is not None and value is not None and _value_pattern(value).search(line):
            return number
    if key is not None and value is None:
        loose = re.compile(rf"(?:^|[\s.{{,]){re.escape(key)}\s*=")
        for number, line in enumerate(lines, 1):
            if loose.search(line):
                return number
    return found


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a fresh temporary file next to ``path`` (never opened through a link), then rename it into
    place: a symbolic link at ``path`` (planted by a cloned repository, say) is replaced, never written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.brummer-{os.getpid()}.tmp")
    try:
        found = path.lstat()
        mode = found.st_mode & 0o777 if stat.S_ISREG(found.st_mode) else 0o644  # keep a file's mode, not a link's
    except FileNotFoundError:
        mode = 0o644
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
