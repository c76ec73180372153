"""The command line. Every command is ``async`` and runs under ``trio.run``; errors become exit codes here.

Exit codes: 0 success; 1 a process failed (or another brummer error, or a tool a remote command called failed);
2 usage or configuration error, or another brummer already runs the project; 3 a remote command found no running
``brummer up`` to talk to; 124 ``brummer wait`` timed out, or ``brummer smoke`` was not up within its timeout;
128 + N after signal N (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).

::

    base.py    the group and shared options        up.py      up, smoke, ls, completion
    mcp.py     mcp (stdio, --all: the hub), config  remote.py  ps, logs, start/stop/restart, errors, urls,
                                                               requests, wait: commands against a running brummer up

Imports stay light on the path to the first child's exec: no rich, hypercorn, httpx or mcp here, and each command
imports what it needs when it runs (a remote command must start in well under 1.5x ``import trio``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import asyncclick as click
import trio

from brummer.cli import mcp, remote, up
from brummer.cli.base import cli
from brummer.cli.mcp import MCP_CLIENTS, MCP_SCOPES
from brummer.errors import BrummerError

__all__ = ["MCP_CLIENTS", "MCP_SCOPES", "cli", "main", "mcp", "remote", "run", "up"]


async def _run(argv: Sequence[str]) -> int:
    try:
        result = await cli.main(args=list(argv), prog_name="brummer", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return 2
    except click.Abort:
        return 130
    except BrummerError as exc:
        if str(exc):
            from brummer.sanitize import for_pipe  # a message may quote the project's files

            print(f"brummer: {for_pipe(str(exc))}", file=sys.stderr)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def run(argv: Sequence[str]) -> int:
    """The command's exit code (130 if Ctrl-C ends it); ``brummer.entry`` is the console script around it."""
    try:
        return trio.run(_run, argv)
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(sys.argv[1:] if argv is None else argv))
