"""Commands against a running ``brummer up``: ``ps``, ``logs``, ``start``/``stop``/``restart``, ``errors``, ``urls``,
``requests``, ``wait``. Each calls the instance's MCP tools over its ``/ws`` (``brummer.remote``); the work is in
``brummer.remote.commands``, imported when a command runs. No instance: exit 3; a tool's error: exit 1."""

from __future__ import annotations

from pathlib import Path

import asyncclick as click

from brummer.cli.base import DIR_OPTION, JSON_OPTION, cli, complete_process_names
from brummer.errors import UsageError
from brummer.logs.kinds import LEVELS


@cli.command("ps")
@DIR_OPTION
@JSON_OPTION
@click.option("--all", "all_instances", is_flag=True, help="Every running brummer of yours, in any project.")
async def ps(directory: Path, as_json: bool, all_instances: bool) -> int:
    """The processes of the project's running `brummer up`: state, pid, uptime, restarts, readiness, errors, URLs."""
    from brummer.remote import commands

    if all_instances:
        return await commands.interruptible(commands.ps_all(as_json))
    return await commands.interruptible(commands.ps(directory, as_json))


@cli.command("logs")
@click.argument("name", required=False, shell_complete=complete_process_names)
@DIR_OPTION
@JSON_OPTION
@click.option("-n", "--lines", type=click.IntRange(1, 10_000), default=100, show_default=True, help="How many.")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--grep", "pattern", metavar="REGEX", default=None, help="Only lines matching this (Python regex).")
@click.option("--since", type=click.IntRange(0), metavar="CURSOR", default=None, help="Lines after this seq.")
@click.option("--level", type=click.Choice(LEVELS), default=None, help="Only lines at this level or above.")
async def logs(
    name: str | None,
    directory: Path,
    as_json: bool,
    lines: int,
    follow: bool,
    pattern: str | None,
    since: int | None,
    level: str | None,
) -> int:
    """Log lines of a process (or of all), printed as `brummer up --plain` does; -f follows.

    Following survives the connection dropping and brummer up's MCP server restarting: it resumes where it was.
    """
    from brummer.remote import commands
    from brummer.remote.logs import Query, show_logs

    query = Query(name, lines, pattern, since, level, follow, as_json)
    return await commands.interruptible(show_logs(directory, query))


def _control(command: str, tool: str, summary: str) -> None:
    @cli.command(command, help=summary)
    @click.argument("names", nargs=-1, required=True, shell_complete=complete_process_names)
    @DIR_OPTION
    @JSON_OPTION
    async def control(names: tuple[str, ...], directory: Path, as_json: bool) -> int:
        from brummer.remote import commands

        return await commands.interruptible(commands.control(directory, tool, names, as_json))


_control("start", "scripts_run", "Start processes (and what they depend on) in the running brummer up.")
_control("stop", "scripts_stop", "Stop processes in the running brummer up (stop signal, grace, SIGKILL).")
_control("restart", "scripts_restart", "Restart processes in the running brummer up (start them if stopped).")


@cli.command("errors")
@click.argument("name", required=False, shell_complete=complete_process_names)
@DIR_OPTION
@JSON_OPTION
@click.option("--all", "include_resolved", is_flag=True, help="Resolved errors too, not only open ones.")
async def errors(name: str | None, directory: Path, as_json: bool, include_resolved: bool) -> int:
    """Errors found in the logs, grouped, newest first."""
    from brummer.remote import commands

    return await commands.interruptible(commands.errors(directory, name, include_resolved, as_json))


@cli.command("urls")
@DIR_OPTION
@JSON_OPTION
async def urls(directory: Path, as_json: bool) -> int:
    """The URLs the processes announced, with their proxy URLs."""
    from brummer.remote import commands

    return await commands.interruptible(commands.simple(directory, "urls_list", {}, as_json))


@cli.command("requests")
@click.argument("name", required=False, shell_complete=complete_process_names)
@DIR_OPTION
@JSON_OPTION
@click.option("--status", default=None, metavar="CLASS", help="Only this status class: 2xx, 3xx, 4xx, 5xx, error.")
@click.option("--path", default=None, metavar="REGEX", help="Only paths matching this.")
async def requests(name: str | None, directory: Path, as_json: bool, status: str | None, path: str | None) -> int:
    """HTTP requests recorded by brummer's proxy."""
    from brummer.remote import commands

    arguments = {"name": name, "status": status, "path": path}
    return await commands.interruptible(commands.simple(directory, "proxy_requests", arguments, as_json))


@cli.command("wait")
@click.argument("name", shell_complete=complete_process_names)
@DIR_OPTION
@JSON_OPTION
@click.option("--ready", "condition", flag_value="ready", default=True, help="Until it is ready (the default).")
@click.option("--exited", "condition", flag_value="exited", help="Until it has exited.")
@click.option("--url", "condition", flag_value="url", help="Until it has announced a URL.")
@click.option("--log", "pattern", metavar="REGEX", default=None, help="Until it prints a line matching this.")
@click.option(
    "--timeout", "timeout_s", type=click.FloatRange(0), default=60.0, show_default=True, help="Seconds; then exit 124."
)
async def wait(name: str, directory: Path, as_json: bool, condition: str, pattern: str | None, timeout_s: float) -> int:
    """Block until a process is ready (or has exited, announced a URL, printed a line): exit 0, or 124 on timeout.

    Exit 1 if it can no longer happen (the process ended, or is not running).
    """
    from brummer.remote import commands

    if pattern is not None:
        if condition != "ready":
            raise UsageError(f"--log REGEX waits for a line; it cannot be combined with --{condition}")
        condition = "log"
    return await commands.interruptible(commands.wait(directory, name, condition, pattern, timeout_s, as_json))
