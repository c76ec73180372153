"""What every MCP transport shares about raw messages, without importing the SDK (the stdio relay starts fast).

The size limit of one message from a client, the JSON-RPC error frames brummer writes itself (the SDK never sees
what they answer), and ``TooBig``, what a transport's reader gives for a message over the limit that it discarded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_MESSAGE = 16 * 1024 * 1024  # one message from a client: /ws frames, /mcp bodies, stdio lines
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
TOO_MANY_REQUESTS = -32029  # from JSON-RPC's implementation-defined server error range (-32000..-32099)


@dataclass(frozen=True, slots=True)
class TooBig:
    """A message over ``limit`` bytes, already discarded by the transport's reader."""

    limit: int

    def error(self) -> str:
        return error_frame(INVALID_REQUEST, f"Invalid request: message too big (the limit is {self.limit:,} bytes)")


def error_frame(code: int, message: str, request_id: str | int | None = None) -> str:
    """A JSON-RPC error response, as text."""
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}})
