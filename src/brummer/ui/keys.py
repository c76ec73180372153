"""Keys: bytes from a cbreak terminal become key names, and key names become view changes or commands.

Every binding lives in ``handle_key`` and the help text is ``HELP`` right below it, so a key cannot be advertised
without being wired, and no key means two things (the Go TUI had both problems). ``handle_key`` is pure apart
from mutating the ``ViewState`` it is given; what needs the runtime (restart, stop/start, quit) comes back as a
``Command`` for the panel service to carry out.
"""

from __future__ import annotations

import codecs
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from brummer.errors import PatternError
from brummer.ui.panel_model import ViewState, compile_filter

UP, DOWN, LEFT, RIGHT = "up", "down", "left", "right"
ENTER, ESC, BACKSPACE, TAB, CTRL_C, CTRL_U = "enter", "esc", "backspace", "tab", "ctrl-c", "ctrl-u"
UNKNOWN = "unknown"

_CONTROL = {
    "\r": ENTER,
    "\n": ENTER,
    "\x7f": BACKSPACE,
    "\x08": BACKSPACE,
    "\t": TAB,
    "\x03": CTRL_C,
    "\x15": CTRL_U,
}
_CSI_FINAL = {"A": UP, "B": DOWN, "C": RIGHT, "D": LEFT}
# ESC [ params final | ESC O final (application cursor mode) | ESC alone or with one other character (Alt+x)
_ESCAPE = re.compile(r"\x1b(?:\[([0-?]*)[ -/]*([@-~])|O([@-~])|(.)?)", re.DOTALL)

HELP = (
    ("↑ ↓  j k", "select a process"),
    ("Enter", "log tail: selected process / all processes"),
    ("r", "restart the selected process"),
    ("s", "stop the selected process, or start it"),
    ("e", "show or hide the errors pane"),
    ("w", "requests through the proxy (selected process) instead of the log tail"),
    ("/", "filter the log tail by a regex (Enter applies, Esc cancels, empty clears)"),
    ("c", "clear the selected process's view (the log store keeps everything)"),
    ("?", "show or hide this help"),
    ("q  Ctrl-C", "stop every process and quit"),
)


class Action(enum.StrEnum):
    RESTART = "restart"
    TOGGLE = "toggle"  # stop it if it is active, else start it
    QUIT = "quit"


@dataclass(frozen=True, slots=True)
class Command:
    """Something only the panel service can do, to the selected process (none for ``quit``)."""

    action: Action
    process: str | None = None


class KeyDecoder:
    """Incremental decoder: UTF-8 text and escape sequences, split across reads or not.

    A lone ESC at the end of a read is the Esc key: terminals send a whole sequence in one write.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")

    def feed(self, data: bytes) -> list[str]:
        text = self._utf8.decode(data)
        keys: list[str] = []
        pos = 0
        while pos < len(text):
            ch = text[pos]
            if ch == "\x1b":
                match = _ESCAPE.match(text, pos)
                assert match is not None  # the pattern always matches at least the ESC
                params, final, ss3, other = match.groups()
                if final is not None:
                    keys.append(_CSI_FINAL.get(final, UNKNOWN) if not params or params == "1" else UNKNOWN)
                elif ss3 is not None:
                    keys.append(_CSI_FINAL.get(ss3, UNKNOWN))
                else:
                    keys.append(ESC if other is None or other == "\x1b" else UNKNOWN)
                    if other == "\x1b":  # two presses of Esc
                        keys.append(ESC)
                pos = match.end()
                continue
            keys.append(_CONTROL.get(ch, ch if ch.isprintable() else UNKNOWN))
            pos += 1
        return keys


def handle_key(view: ViewState, key: str, names: Sequence[str], now: float, last_seq: int) -> Command | None:
    """Apply ``key`` to ``view``; return the command it asks for, if any.

    ``names`` are the processes in table order; ``last_seq`` is the store's newest sequence number (``c`` hides
    everything up to it).
    """
    if view.prompt is not None:
        return _prompt_key(view, key, now)
    if key == CTRL_C or key == "q":
        view.quitting = True
        return Command(Action.QUIT)
    if key in (UP, "k"):
        view.select(list(names), -1)
    elif key in (DOWN, "j"):
        view.select(list(names), 1)
    elif key == ENTER:
        view.show_all = not view.show_all
    elif key == "e":
        view.show_errors = not view.show_errors
    elif key == "w":
        view.show_requests = not view.show_requests
    elif key == "?":
        view.show_help = not view.show_help
    elif key == ESC:
        view.show_help = False
    elif key == "/":
        view.prompt, view.prompt_error = "", ""  # a new filter; Enter on the empty field clears the current one
    elif key in ("r", "s", "c"):
        view.settle(list(names))
        if view.selected is None:
            view.say("no process to act on", now, "warn")
            return None
        if key == "c":
            view.cleared[view.selected] = last_seq
            view.say(f"cleared the view of {view.selected} (the log store keeps its lines)", now)
            return None
        return Command(Action.RESTART if key == "r" else Action.TOGGLE, view.selected)
    return None


def _prompt_key(view: ViewState, key: str, now: float) -> Command | None:
    assert view.prompt is not None
    if key == ESC:
        view.prompt, view.prompt_error = None, ""
    elif key == CTRL_C:
        view.quitting = True
        return Command(Action.QUIT)
    elif key == BACKSPACE:
        view.prompt, view.prompt_error = view.prompt[:-1], ""
    elif key == CTRL_U:
        view.prompt, view.prompt_error = "", ""
    elif key == ENTER:
        text = view.prompt
        if not text:
            view.filter_text, view.pattern, view.prompt = "", None, None
            view.say("filter cleared", now)
            return None
        try:
            pattern = compile_filter(text)
        except PatternError as exc:
            view.prompt_error = str(exc)  # the prompt stays open to fix it
            return None
        view.filter_text, view.pattern, view.prompt, view.prompt_error = text, pattern, None, ""
    elif len(key) == 1:
        view.prompt, view.prompt_error = view.prompt + key, ""
    return None
