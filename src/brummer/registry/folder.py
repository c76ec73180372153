"""The registry directory: where it is, and every file operation in it, none of which ever follows a symlink.

The directory is ``$XDG_RUNTIME_DIR/brummer``; without that variable ``/run/user/<uid>/brummer`` when systemd made
that runtime directory for the user (an agent that launches ``brummer mcp`` with a stripped environment must still
meet the ``brummer up`` of the terminal); else ``<temp dir>/brummer-<uid>``. It is created 0700, and used only if
it is a real directory (not a symlink), owned by this user, and closed to everyone else: entries hold bearer tokens.

The directory is opened once (``O_DIRECTORY | O_NOFOLLOW``) and checked on that descriptor; every name is then
resolved relative to it (``dir_fd``), so swapping the path for a symlink after the check redirects nothing. Files
are opened with ``O_NOFOLLOW`` and written as a fresh temp file (``O_EXCL``, 0600) renamed over the old one, so a
reader never sees half an entry and a planted symlink is replaced, never written through.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from brummer.errors import RegistryError

MAX_FILE = 64 * 1024  # an entry is well under 1 KiB; anything bigger was not written by brummer
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def location(environ: Mapping[str, str] | None = None, run_user: Path = Path("/run/user")) -> Path:
    """Where this user's registry is (whether or not it exists yet)."""
    environ = os.environ if environ is None else environ
    runtime = environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "brummer"
    uid = os.getuid()
    systemd = run_user / str(uid)
    with contextlib.suppress(OSError):
        if sys.platform.startswith("linux") and _private(os.stat(systemd, follow_symlinks=False), uid):
            return systemd / "brummer"
    return Path(tempfile.gettempdir()) / f"brummer-{uid}"


def _private(st: os.stat_result, uid: int) -> bool:
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o077


class Folder:
    """The open, checked registry directory (a context manager: closing it closes the descriptor)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def open(cls, path: Path | None = None) -> Folder:
        """Create (0700) and open the registry directory; ``RegistryError`` if it is not safe to use."""
        path = location() if path is None else path
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise RegistryError(f"cannot create brummer's instance registry {path}: {exc.strerror}") from None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
        except OSError:
            raise RegistryError(
                f"{path} is a symlink or not a directory: refusing to use it as brummer's instance registry "
                "(remove it; brummer creates it again)"
            ) from None
        st = os.fstat(fd)
        uid = os.getuid()
        problem = None
        if st.st_uid != uid:
            problem = f"it belongs to uid {st.st_uid}, not to you (uid {uid})"
        elif st.st_mode & 0o077:
            problem = f"its mode is {stat.S_IMODE(st.st_mode):04o}, not 0700 (chmod 700 {path})"
        if problem is not None:
            os.close(fd)
            raise RegistryError(f"refusing to use {path} as brummer's instance registry: {problem}")
        return cls(path, fd)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> Folder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def names(self) -> list[str]:
        return os.listdir(self.fd)

    def read(self, name: str) -> tuple[bytes, int] | None:
        """(content, inode) of a regular file of ours that only we can read; None for anything else."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=self.fd)
        except OSError:
            return None  # gone, or a symlink (ELOOP)
        try:
            st = os.fstat(fd)
            if not _own_file(st) or st.st_size > MAX_FILE:
                return None
            data = os.read(fd, MAX_FILE + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        return (data, st.st_ino) if len(data) <= MAX_FILE else None

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name`` atomically with ``data`` (mode 0600)."""
        temp = f".{name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600, dir_fd=self.fd)
        except OSError as exc:
            raise RegistryError(f"cannot write in {self.path}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=self.fd)
            if isinstance(exc, OSError):
                raise RegistryError(f"cannot write {self.path / name}: {exc.strerror}") from None
            raise

    def remove(self, name: str, inode: int | None = None) -> None:
        """Remove ``name`` (a symlink itself, never its target); with ``inode``, only if it is still that file."""
        with contextlib.suppress(OSError):
            if inode is not None and os.stat(name, dir_fd=self.fd, follow_symlinks=False).st_ino != inode:
                return
            os.unlink(name, dir_fd=self.fd)

    def open_lock(self, name: str) -> int:
        """A descriptor on lock file ``name`` (created 0600 if missing), for ``flock``."""
        fd = self.open_existing_lock(name, create=True)
        assert fd is not None  # (created)
        return fd

    def open_existing_lock(self, name: str, *, create: bool = False) -> int | None:
        """A descriptor on lock file ``name``; None if there is none (and ``create`` is false)."""
        try:
            fd = os.open(name, os.O_RDWR | (os.O_CREAT if create else 0) | _NOFOLLOW, 0o600, dir_fd=self.fd)
        except FileNotFoundError:
            if create:
                raise RegistryError(f"cannot create {self.path / name}") from None
            return None
        except OSError as exc:
            raise RegistryError(f"cannot open {self.path / name} ({exc.strerror}); remove it") from None
        if not _own_file(os.fstat(fd)):
            os.close(fd)
            raise RegistryError(f"{self.path / name} is not a private file of yours; remove it")
        return fd

    def still_names(self, name: str, fd: int) -> bool:
        """Whether ``name`` still names the file open on ``fd`` (a lock file removed, or replaced, since it was
        opened: locking ``fd`` would lock a file nobody else can find)."""
        try:
            found = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except OSError:
            return False
        held = os.fstat(fd)
        return (found.st_dev, found.st_ino) == (held.st_dev, held.st_ino)

    def remove_lock(self, name: str, fd: int) -> None:
        """Remove lock file ``name`` while holding its flock on ``fd``, then release it: removed first, so that no
        one can open it after the release and lock it while a newcomer locks a new file of that name. Only if the
        name still names that file (nobody can replace it while it is held: others open it, never create it anew)."""
        if self.fd >= 0 and self.still_names(name, fd):
            with contextlib.suppress(OSError):
                os.unlink(name, dir_fd=self.fd)
        os.close(fd)


def _own_file(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077
