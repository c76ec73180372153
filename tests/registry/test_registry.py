"""The instance registry: where it lives, what it refuses, which entries it believes, and that it never follows a
symlink. Real files, real directories, real processes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import trio

from brummer import registry
from brummer.errors import AlreadyRunningError, RegistryError
from brummer.registry import identity
from brummer.registry.entry import Entry, lock_name
from helpers import wait_until, write_project


def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", Procfile="web: sleep 30\n")


def plant(entry: Entry, data: bytes | None = None) -> Path:
    """Write an entry file as brummer would (0600, in the registry), or ``data`` under the entry's name."""
    path = registry.location() / entry.name
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_bytes(entry.to_json() if data is None else data)
    path.chmod(0o600)
    return path


def entry_for(root: Path, pid: int, start: str, **changes: object) -> Entry:
    fields: dict[str, object] = {
        "pid": pid,
        "start": start,
        "kind": registry.Kind.UP,
        "project": Path(os.path.realpath(root)),
        "version": "0.1.0",
        "started_at": 1.0,
        "runs": True,
    }
    return Entry(**{**fields, **changes})  # type: ignore[arg-type]


def on(entry: Entry, host: str = "127.0.0.1") -> Entry:
    return entry.replace(mcp=registry.McpState.ON, token="t" * 43, ws=f"ws://{host}:9/ws", http=f"http://{host}:9/mcp")


def test_location(tmp_path: Path) -> None:
    uid = os.getuid()
    assert registry.location({"XDG_RUNTIME_DIR": "/run/user/7"}) == Path("/run/user/7/brummer")
    assert registry.location({"XDG_RUNTIME_DIR": "relative"}, tmp_path).name == f"brummer-{uid}"  # not absolute
    run_user = tmp_path / "run-user"
    assert registry.location({}, run_user) == Path(tempfile.gettempdir()) / f"brummer-{uid}"
    (run_user / str(uid)).mkdir(parents=True, mode=0o700)
    assert registry.location({}, run_user) == run_user / str(uid) / "brummer"  # systemd's, when the variable is gone
    (run_user / str(uid)).chmod(0o755)
    assert registry.location({}, run_user).name == f"brummer-{uid}"  # not private: not used


def test_the_registry_directory_is_created_private() -> None:
    path = registry.location()
    assert not path.exists()
    with registry.Folder.open() as folder:
        assert folder.path == path
    st = path.lstat()
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.getuid()


def test_an_unsafe_registry_directory_is_refused(tmp_path: Path) -> None:
    path = registry.location()
    path.mkdir(mode=0o755)
    path.chmod(0o755)
    with pytest.raises(RegistryError, match=r"its mode is 0755, not 0700 \(chmod 700 "):
        registry.Folder.open()
    path.rmdir()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    path.symlink_to(elsewhere)
    with pytest.raises(RegistryError, match="is a symlink or not a directory"):
        registry.Folder.open()
    with pytest.raises(RegistryError, match="is a symlink"):
        registry.entries()
    assert list(elsewhere.iterdir()) == []
    path.unlink()

    if os.getuid() != 0:
        pytest.skip("giving the directory to another user needs root")
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    with pytest.raises(RegistryError, match=f"belongs to uid 65534, not to you \\(uid {os.getuid()}\\)"):
        registry.Folder.open()


def test_brummer_up_refuses_an_unsafe_registry_and_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    root = write_project(tmp_path / "proj", Procfile=f"web: touch {marker}; sleep 30\n")
    path = registry.location()
    path.mkdir(mode=0o777)
    path.chmod(0o777)
    result = subprocess.run(
        [sys.executable, "-m", "brummer", "up", "--dir", str(root)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr == f"brummer: refusing to use {path} as brummer's instance registry: its mode is 0777, " + (
        f"not 0700 (chmod 700 {path})\n"
    )
    assert not marker.exists() and result.stdout == ""


async def test_symlinks_in_the_registry_are_never_followed(tmp_path: Path) -> None:
    root = project(tmp_path)
    key = registry.project_key(root)
    folder = registry.location()
    folder.mkdir(mode=0o700)
    target = tmp_path / "precious"
    target.write_text("precious\n")

    # An entry that would be believed as a file is not believed through a symlink.
    genuine = on(entry_for(root, os.getpid(), identity.fingerprint(os.getpid())))
    (tmp_path / "outside.json").write_bytes(genuine.to_json())
    (tmp_path / "outside.json").chmod(0o600)
    (folder / genuine.name).symlink_to(tmp_path / "outside.json")
    assert registry.entries(root) == []
    (folder / genuine.name).unlink()
    plant(genuine)
    assert registry.entries(root) == [genuine]  # (the control: the same content as a file is believed)
    (folder / genuine.name).unlink()

    # Our own entry's name planted as a symlink: replaced, never written through.
    (folder / genuine.name).symlink_to(target)
    with registry.register(root, registry.Kind.HEADLESS) as me:
        assert not (folder / me.entry.name).is_symlink() and (folder / me.entry.name).is_file()
    assert target.read_text() == "precious\n"

    # The lock file planted as a symlink (dangling, or to a file): refused, nothing created or changed.
    (folder / lock_name(key)).symlink_to(tmp_path / "created-elsewhere")
    with pytest.raises(RegistryError, match=rf"cannot open {folder / lock_name(key)} .*; remove it"):
        await registry.claim(root, registry.Kind.UP, mcp=False)
    assert not (tmp_path / "created-elsewhere").exists()
    (folder / lock_name(key)).unlink()
    (folder / lock_name(key)).symlink_to(target)
    with pytest.raises(RegistryError):
        await registry.claim(root, registry.Kind.UP, mcp=False)
    assert target.read_text() == "precious\n"
    assert [p.name for p in folder.iterdir()] == [lock_name(key)]  # no entry was left behind


async def test_entries_of_dead_or_foreign_processes_are_ignored(tmp_path: Path) -> None:
    root = project(tmp_path)
    dead = await trio.lowlevel.open_process(["true"])
    await dead.wait()
    stale = plant(entry_for(root, dead.pid, "12345"))
    assert registry.entries(root) == [] and not stale.exists()  # a dead pid: ignored and removed

    (tmp_path / "brummer").write_text("import time; time.sleep(60)\n")  # its command line names brummer
    sleeper = await trio.lowlevel.open_process(["sleep", "60"])
    fake = await trio.lowlevel.open_process([sys.executable, str(tmp_path / "brummer")])
    try:
        # Popen returns once the exec has begun; /proc/PID/cmdline reads empty until the kernel has set up the new
        # program's arguments, which on a loaded machine can be later than our first look
        await wait_until(lambda: (seen := identity.inspect(fake.pid)) is not None and seen.argv)
        not_brummer = plant(entry_for(root, sleeper.pid, identity.fingerprint(sleeper.pid)))
        assert registry.entries(root) == []  # alive, right start time, but not brummer
        not_brummer.unlink()

        start = identity.fingerprint(fake.pid)
        recycled = plant(entry_for(root, fake.pid, str(int(start) + 1) if identity.LINUX else "then"))
        assert registry.entries(root) == [] and not recycled.exists()  # another process with that pid now

        believed = entry_for(root, fake.pid, start)
        plant(believed)
        assert registry.entries(root) == [believed] and registry.entries() == [believed]  # the control

        remote = on(believed, "192.0.2.2")
        plant(remote)
        assert registry.entries(root) == []  # it would send the token off this machine
        plant(on(believed, "localhost"))
        assert registry.entries(root) == []  # names are not addresses: only loopback IP literals

        open_to_all = plant(on(believed))
        open_to_all.chmod(0o644)
        assert registry.entries(root) == []  # not a private file of ours
        open_to_all.chmod(0o600)
        assert registry.entries(root) == [on(believed)]

        other = entry_for(tmp_path / "other", fake.pid, start)
        plant(other, on(believed).to_json())  # an entry of /proj filed under another project's name
        assert registry.entries(tmp_path / "other") == []
        for junk in (b"", b"[]", b"{" * 100_000, json.dumps({"pid": True}).encode()):
            plant(other, junk)
            assert registry.entries(tmp_path / "other") == []
    finally:
        for proc in (sleeper, fake):
            proc.kill()
            await proc.wait()


async def test_the_project_lock_has_one_holder(tmp_path: Path) -> None:
    root = project(tmp_path)
    first = await registry.claim(root, registry.Kind.UP, mcp=True, tty="/dev/pts/9", panel=True)
    with first:
        with trio.fail_after(10), pytest.raises(AlreadyRunningError) as refused:
            await registry.claim(root, registry.Kind.UP, mcp=True)
        assert refused.value.holder == first.entry and refused.value.exit_code == 2
        message = str(refused.value)
        assert message.startswith(f"{root} already runs in brummer up (pid {os.getpid()}, since ")
        assert message.endswith(f"reach it with `brummer mcp --dir {root}`, or on its terminal /dev/pts/9")
        with registry.register(root, registry.Kind.HEADLESS) as headless:
            with pytest.raises(AlreadyRunningError):
                headless.take_lock()
            assert not headless.entry.runs
    with registry.register(root, registry.Kind.HEADLESS) as headless:
        headless.take_lock()
        assert headless.entry.runs and registry.entries(root) == [headless.entry]
        with trio.fail_after(10), pytest.raises(AlreadyRunningError, match="headless brummer mcp"):
            await registry.claim(root, registry.Kind.UP, mcp=False)


def test_process_identity() -> None:
    assert identity.runs_brummer(("python3", "-m", "brummer", "up"))
    assert identity.runs_brummer(("/usr/bin/python3", "/home/u/.venv/bin/brummer", "mcp"))
    assert identity.runs_brummer(("/usr/local/bin/brummer",))
    assert not identity.runs_brummer(("python3", "-m", "pytest", "-k", "brummer"))
    assert not identity.runs_brummer(("sleep", "brummer"))
    assert not identity.runs_brummer(("python3", "-c", "brummer"))
    me = identity.inspect(os.getpid())
    assert me is not None and me.uid == os.getuid() and me.start
    assert identity.inspect(0) is None
    assert identity.check(os.getpid(), me.start) is identity.Trust.BELIEVED
    assert identity.check(os.getpid(), "another start") is identity.Trust.GONE
    assert identity.check(1, identity.fingerprint(1)) is identity.Trust.FOREIGN  # init: not brummer
    if identity.LINUX:  # the path macOS takes, checked against /proc
        by_ps = identity._from_ps(os.getpid())
        assert by_ps is not None and by_ps.uid == me.uid and by_ps.argv == tuple(" ".join(me.argv).split())
