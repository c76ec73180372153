"""brummer: run a project's dev processes under one Trio nursery tree.

The package is laid out by role: ``config`` (what to run), ``core`` and ``supervise`` (running it), ``logs`` (what
it printed), ``bus`` (who hears about it), ``ui`` (showing it), ``mcp`` (serving it to agents), ``proxy`` (the
recording proxy in front of dev servers), ``registry`` (who runs which project), ``remote`` and ``hub`` (commands
and agents that talk to a running ``brummer up``), ``smoke`` (CI runs) and ``cli`` (the commands).
``docs/architecture.md`` walks through all of it.
"""

__version__ = "0.1.0"
