"""Log records of the SDK and hypercorn, kept as brummer notes instead of printed.

Their loggers would otherwise reach stderr through Python's last-resort handler, and stderr is the user's panel in
``brummer up`` (and must stay quiet in ``brummer mcp``). As notes (process "brummer") they show up where brummer's
own messages do, and an agent can read them with ``logs_tail name=brummer``. The token is masked, just in case.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import trio

from brummer.logs.store import LogStore

FOREIGN_LOGGERS = ("mcp", "hypercorn.error")


class NoteHandler(logging.Handler):
    def __init__(self, store: LogStore, token: str) -> None:
        super().__init__(logging.WARNING)
        self.store = store
        self.token = token

    def emit(self, record: logging.LogRecord) -> None:
        try:
            trio.lowlevel.current_trio_token()
        except RuntimeError:
            return  # a worker thread: the store belongs to the Trio thread
        text = self.format(record)
        if self.token:
            text = text.replace(self.token, "<token>")
        self.store.note(f"mcp: {text}", level="error" if record.levelno >= logging.ERROR else "warn")


@contextlib.contextmanager
def foreign_logs_to_notes(store: LogStore, token: str = "") -> Iterator[None]:
    """While inside, warnings of the SDK and hypercorn become notes in ``store`` and nothing else."""
    handler = NoteHandler(store, token)
    saved: list[tuple[logging.Logger, bool]] = []
    for name in FOREIGN_LOGGERS:
        logger = logging.getLogger(name)
        saved.append((logger, logger.propagate))
        logger.addHandler(handler)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, propagate in saved:
            logger.removeHandler(handler)
            logger.propagate = propagate
