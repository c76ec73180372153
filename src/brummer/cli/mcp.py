"""``brummer mcp``: MCP on stdio for one project (relay or headless), ``--all`` for the hub across projects, and
``brummer mcp config`` to set up a client."""

from __future__ import annotations

from pathlib import Path

import asyncclick as click

from brummer.cli.base import DIR_OPTION, cli
from brummer.errors import UsageError

# The values of brummer.mcp.clients.Client and Scope (that module is imported only when it is used).
MCP_CLIENTS = ("claude-code", "cursor", "vscode", "codex", "json")
MCP_SCOPES = ("project", "user")


@cli.group("mcp", invoke_without_command=True)
@DIR_OPTION
@click.option("--all", "all_projects", is_flag=True, help="One server for every running brummer up (the hub).")
@click.pass_context
async def mcp(ctx: click.Context, directory: Path, all_projects: bool) -> int:
    """Serve MCP on stdin/stdout, for agents that launch a command.

    Relays to the project's running `brummer up` if there is one; otherwise runs the project's processes itself,
    starting nothing until the agent asks, and stops them when the agent disconnects.
    `--all` serves every project a `brummer up` runs on this machine (it only relays; it never starts anything).
    `brummer mcp config` sets up an MCP client to start it.
    """
    if ctx.invoked_subcommand is not None:
        return 0
    if all_projects:
        if ctx.get_parameter_source("directory") is not click.core.ParameterSource.DEFAULT:
            raise UsageError("--all serves every project: leave out --dir")
        from brummer.hub.server import serve_hub

        return await serve_hub()
    from brummer.mcp.stdio import run_stdio

    return await run_stdio(directory)


@mcp.command("config")
@DIR_OPTION
@click.option(
    "--client",
    type=click.Choice(MCP_CLIENTS),
    default=MCP_CLIENTS[0],
    show_default=True,
    help="Which client's configuration.",
)
@click.option("--all", "all_projects", is_flag=True, help="The hub (`brummer mcp --all`) instead of this project.")
@click.option("--write", is_flag=True, help="Merge it into the client's file instead of printing it.")
@click.option(
    "--scope",
    type=click.Choice(MCP_SCOPES),
    default=MCP_SCOPES[0],
    show_default=True,
    help="The project's file or the user's.",
)
async def mcp_config(directory: Path, client: str, all_projects: bool, write: bool, scope: str) -> int:
    """Print (or --write) an MCP client's configuration for `brummer mcp`: no token needed."""
    import os

    from brummer.mcp.client_files import configure
    from brummer.mcp.clients import Client, Scope

    said, hint = configure(
        directory, Client(client), Scope(scope), all_projects=all_projects, write=write, environ=os.environ
    )
    click.echo(said, nl=False)
    if hint:
        click.echo(hint, err=True)
    return 0
