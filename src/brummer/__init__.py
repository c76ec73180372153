"""brummer: run a project's dev processes under one Trio nursery tree.

The package is laid out by role: ``config`` (what to run), ``supervise`` (running it), ``logs`` (what it printed),
``bus`` (who hears about it), ``ui`` (showing it), ``mcp`` and ``proxy`` (serving it to agents).
"""

__version__ = "0.1.0"
