"""hypercorn's WebSocket stream, bounded: the one place that reaches into hypercorn's internals.

hypercorn 0.18's ``WSStream`` cannot hold the line against one hostile client, so ``install()`` puts this subclass
in its place (for HTTP/1.1 and HTTP/2 connections alike). What it changes, and why:

- Size before buffering. ``WebsocketBuffer.extend`` appends a received part and only then compares the length, and
  after refusing a message it goes on appending the rest of it: a 64 MiB frame cost 64 MiB however low the limit.
  Here a part that would cross ``websocket_max_message_size`` is never appended; the connection is closed with 1009
  and whatever the client still sends is dropped.
- The whole chunk is handled. hypercorn stops handling a received chunk's events at the first oversize part, so a
  close reply in the same chunk waited for data that might never come: the closing handshake hung. If the client
  does not complete the closing handshake within ``CLOSE_TIMEOUT`` anyway, the connection is ended.
- No compression. With permessage-deflate wsproto inflates each received chunk without a bound (64 KiB can become
  64 MiB before any size check); JSON-RPC on loopback gains little from it, so it is never negotiated.
- An abort. hypercorn writes to the socket in a shielded, unbounded ``send_all``, so a client that stops reading
  blocks every later send, a close frame included, and nothing the app does can end that connection. The ASGI
  message ``{"type": ABORT}`` ends it at once: the socket is closed (which wakes a stuck send), and the app gets
  ``websocket.disconnect``.
"""

from __future__ import annotations

import dataclasses
from typing import cast

import hypercorn.protocol.h2
import hypercorn.protocol.h11
from hypercorn.protocol.events import Event, Request, StreamClosed
from hypercorn.protocol.ws_stream import WSStream
from hypercorn.typing import ASGISendEvent
from wsproto.connection import ConnectionState
from wsproto.events import CloseConnection, Message, Ping
from wsproto.frame_protocol import CloseReason

ABORT = "brummer.websocket.abort"  # an ASGI message our server understands: drop this client now
# ... as the app sends it: our own extension of the ASGI events, so not one of the types hypercorn declares
ABORT_MESSAGE = cast(ASGISendEvent, {"type": ABORT})
CLOSE_TIMEOUT = 5.0  # seconds a client gets to answer our close frame before the connection is ended


class BoundedWSStream(WSStream):
    """``WSStream`` that refuses oversize messages before buffering them, and can be aborted (see the module)."""

    async def handle(self, event: Event) -> None:
        if isinstance(event, Request):
            headers = [(name, value) for name, value in event.headers if name.lower() != b"sec-websocket-extensions"]
            event = dataclasses.replace(event, headers=headers)
        await super().handle(event)

    async def app_send(self, message: ASGISendEvent | None) -> None:
        if message is not None and message["type"] == ABORT:
            await self._abort()
            return
        await super().app_send(message)

    async def _handle_events(self) -> None:
        for event in self.connection.events():
            if isinstance(event, Message):
                if self.connection.state is not ConnectionState.OPEN:
                    continue  # we are closing: what the client still sends is dropped
                if self.buffer.length + len(event.data) > self.buffer.max_length:
                    self.buffer.clear()
                    limit = f"message too big: the limit is {self.buffer.max_length // 2**20} MiB"
                    await self._send_wsproto_event(CloseConnection(code=CloseReason.MESSAGE_TOO_BIG, reason=limit))
                    self.task_group.spawn(self._close_timeout)
                    continue
                self.buffer.extend(event)
                if event.message_finished:
                    assert self.app_put is not None
                    await self.app_put(self.buffer.to_message())
                    self.buffer.clear()
            elif isinstance(event, Ping):
                await self._send_wsproto_event(event.response())
            elif isinstance(event, CloseConnection):
                if self.connection.state == ConnectionState.REMOTE_CLOSING:
                    await self._send_wsproto_event(event.response())
                await self.send(StreamClosed(stream_id=self.stream_id))

    async def _close_timeout(self) -> None:
        await self.context.sleep(CLOSE_TIMEOUT)
        await self._abort()

    async def _abort(self) -> None:
        if not self.closed:
            await self.send(StreamClosed(stream_id=self.stream_id))


def install() -> None:
    """Make hypercorn's HTTP/1.1 and HTTP/2 protocols create ``BoundedWSStream``s (idempotent)."""
    hypercorn.protocol.h11.WSStream = BoundedWSStream  # type: ignore[attr-defined]
    hypercorn.protocol.h2.WSStream = BoundedWSStream  # type: ignore[attr-defined]
