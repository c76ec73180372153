"""Reading a child's stdout and stderr into the log store, in bulk.

Under a flood, reading each 4-8 KiB write as it lands costs a loop iteration per write. After a big read that
emptied the pipe, pausing a moment lets the (1 MiB) pipe collect ~100 KiB first: a tenth of the iterations, and
even at 100 MB/s the pipe stays far from full, so the child never blocks on it. A full read means more is waiting:
no pause then.
"""

from __future__ import annotations

import trio

from brummer.logs.kinds import Stream
from brummer.logs.lines import LineSplitter
from brummer.logs.store import LogStore

READ_SIZE = 256 * 1024  # per read: ~4000 lines of a flood; bounds a batch, and so what a bus event can hold
FLOOD_CHUNK = 16 * 1024
FLOOD_PAUSE = 0.001


async def read_pipes(
    proc: trio.Process, store: LogStore, process: str, run: int, scope: trio.CancelScope, done: trio.Event
) -> None:
    """Read both pipes to end-of-file inside ``scope`` (shielded by the caller so that a stopping process's last
    words are kept; cancelled by it once the process tree is gone), then set ``done``."""
    with scope:
        async with trio.open_nursery() as readers:
            readers.start_soon(read_pipe, proc.stdout, store, process, Stream.STDOUT, run)
            readers.start_soon(read_pipe, proc.stderr, store, process, Stream.STDERR, run)
    done.set()


async def read_pipe(
    stream: trio.abc.ReceiveStream | None, store: LogStore, process: str, name: Stream, run: int
) -> None:
    if stream is None:
        return
    splitter = LineSplitter()
    try:
        while chunk := await stream.receive_some(READ_SIZE):
            block = splitter.feed(chunk)
            if block is not None:
                store.append(process, name, block[0], block[1], run)
            if FLOOD_CHUNK <= len(chunk) < READ_SIZE:
                await trio.sleep(FLOOD_PAUSE)  # a flood that we caught up with: let the pipe fill a little
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        if (block := splitter.finish()) is not None:
            store.append(process, name, block[0], block[1], run)
