"""The ``brummer`` console script: Ctrl-C at any moment after this module runs is exit 130, never a traceback.

pip's generated script imports the entry point's module before it calls anything, so the entry point cannot live in
``brummer.cli``: importing that (click, trio, every command) takes a tenth of a second, and a Ctrl-C during it would
escape as a ``KeyboardInterrupt`` traceback. This module imports nothing heavy; the command line is imported inside
``main``, where the interrupt is caught. (Only the interpreter's own start-up, before this module, stays out of reach.)
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    try:
        from brummer.cli import run

        code = run(sys.argv[1:])
    except KeyboardInterrupt:
        code = 130
    except BaseExceptionGroup as group:
        if group.split(KeyboardInterrupt)[1] is not None:
            raise
        code = 130
    # The exit code is decided: a Ctrl-C during the interpreter's shutdown would only print a traceback now.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
