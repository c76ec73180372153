"""Ctrl-C at any moment of a command's start-up ends it with exit 130 and no traceback.

The moment is made exact rather than guessed with sleeps: the child runs the ``brummer`` console script the way pip's
generated script does (the installed entry point, imported then called), with an import hook that sends the child a
SIGINT when a chosen module is first imported: during the import of the command line itself (``trio``), or inside
``trio.run`` once the command runs (``brummer.app``, imported by ``brummer up``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import write_project

CONSOLE_SCRIPT = """
import importlib, os, signal, sys
from importlib.metadata import entry_points

# As in a terminal: a shell script's background job (and everything it starts) ignores SIGINT, and Python then keeps
# ignoring it; here Ctrl-C must be what it is in a terminal.
signal.signal(signal.SIGINT, signal.default_int_handler)
(script,) = [e for e in entry_points(group="console_scripts") if e.name == "brummer"]
trigger = sys.argv[1]


class InterruptOnImport:
    def find_spec(self, name, path=None, target=None):
        if name == trigger:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None


sys.meta_path.insert(0, InterruptOnImport())
sys.argv = ["brummer", *sys.argv[2:]]
module, _, attribute = script.value.partition(":")
main = getattr(importlib.import_module(module), attribute)
sys.exit(main())
"""


@pytest.mark.parametrize("trigger", ["trio", "brummer.app"])
def test_sigint_during_start_up_exits_130_quietly(tmp_path: Path, trigger: str) -> None:
    root = write_project(tmp_path / "proj", Procfile="a: sleep 30\n")
    done = subprocess.run(
        [sys.executable, "-c", CONSOLE_SCRIPT, trigger, "up", "--plain", "--no-mcp"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert "KeyboardInterrupt" not in done.stderr
    assert done.returncode == 130, done.stdout + done.stderr
