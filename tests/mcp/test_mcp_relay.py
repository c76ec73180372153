"""`brummer mcp` as a relay when the `brummer up` it relays to dies while the relay sends: one line, exit 1.

The relay has two directions: frames to stdout, stdin lines to the socket. Which one notices a dead ``brummer up``
first used to be up to the scheduler, and when it was the send, the relay crashed with a traceback. Here the frames
direction is held up on purpose (the test does not read the relay's stdout, so a big answer fills the pipe), so it
is always the send that finds out.
"""

from __future__ import annotations

import fcntl
import subprocess
import termios
from pathlib import Path

import trio
from helpers_mcp import frame
from test_mcp_stdio import LEGACY, Raw

from helpers import PY, wait_until, write_project
from helpers_cli import Up

CHATTY = "import time\nfor i in range(20000):\n    print(str(i) * 100)\nprint('done', flush=True)\ntime.sleep(300)\n"


def unread(fd: int) -> int:
    """Bytes waiting in the pipe behind ``fd``."""
    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"), "little")


async def test_the_relay_says_one_line_when_brummer_up_dies_while_it_sends(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY)
    chatty = f'[processes.chatty]\ncmd = "{PY} {tmp_path / "chatty.py"}"\nready = "none"\n'
    root = write_project(tmp_path / "proj", brummer_toml=chatty)
    up = await Up.launch(root, tmp_path)
    relay: Raw | None = None
    try:
        await up.wait_output("| done")
        await up.serving()
        pipe = subprocess.PIPE
        command = [PY, "-m", "brummer", "mcp", "--dir", str(root)]
        relay = Raw(await trio.lowlevel.open_process(command, stdin=pipe, stdout=pipe, stderr=pipe))
        assert (await relay.request("initialize", 1, **LEGACY))["result"]["serverInfo"]["name"] == "brummer"

        # An answer of about a megabyte that nobody reads: the relay's frames direction blocks on its stdout.
        await relay.send(
            frame("tools/call", 2, name="logs_tail", arguments={"name": "chatty", "limit": 10000, "detail": True})
        )
        assert isinstance(relay.process.stdout, trio.lowlevel.FdStream)
        stdout = relay.process.stdout.fileno()
        await wait_until(lambda: unread(stdout) >= fcntl.fcntl(stdout, fcntl.F_GETPIPE_SZ), every=0.02)

        await up.kill()  # brummer up dies; the agent goes on sending
        with trio.fail_after(30):
            while relay.process.poll() is None:
                try:
                    await relay.send(frame("ping", 3))
                except trio.BrokenResourceError:
                    break  # the relay is gone
                await trio.sleep(0.05)
            code = await relay.process.wait()
        said = await relay.stderr()
        assert code == 1, said
        assert said.strip() == "brummer mcp: brummer up went away; exiting"  # one line, no traceback
    finally:
        await up.kill()
        if relay is not None:
            relay.process.kill()
            await relay.process.wait()
