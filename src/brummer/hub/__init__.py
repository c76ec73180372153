"""``brummer mcp --all``: one stdio MCP server that reaches every ``brummer up`` of this user on the machine.

::

    upstreams.py  the running instances (from the registry, kept in step by inotify) and a connection to each
    tools.py      the tool list (the instances' tools plus a ``project`` argument, and projects_list)
    server.py     the SDK server: routing calls, resources and subscriptions to the right instance

It only relays (over each instance's loopback ``/ws``, with the token from its registry entry): it never starts,
stops or registers anything, so closing it leaves every project as it was.
"""
