"""Key decoding and the key bindings, on a bare ``ViewState`` (no terminal, no runtime)."""

from __future__ import annotations

import pytest

from brummer.ui.keys import BACKSPACE, DOWN, ENTER, ESC, HELP, UNKNOWN, UP, Action, Command, KeyDecoder, handle_key
from brummer.ui.panel_model import ViewState

NAMES = ["api", "web", "watch"]


def press(view: ViewState, *keys: str, last_seq: int = 0) -> list[Command]:
    commands = []
    for key in keys:
        command = handle_key(view, key, NAMES, 100.0, last_seq)
        if command is not None:
            commands.append(command)
    return commands


@pytest.mark.parametrize(
    ("data", "keys"),
    [
        (b"\x1b[A\x1b[B", [UP, DOWN]),
        (b"\x1bOA\x1bOB", [UP, DOWN]),  # application cursor mode
        (b"jk\r\n", ["j", "k", ENTER, ENTER]),
        (b"\x1b", [ESC]),
        (b"\x1b\x1b", [ESC, ESC]),
        (b"\x7f\x08", [BACKSPACE, BACKSPACE]),
        (b"\x1b[5~\x1b[1;5A\x1bx", [UNKNOWN, UNKNOWN, UNKNOWN]),  # PgUp, Ctrl-Up, Alt-x: not bound
        ("é/".encode(), ["é", "/"]),
    ],
)
def test_decoding(data: bytes, keys: list[str]) -> None:
    assert KeyDecoder().feed(data) == keys


def test_utf8_split_across_reads() -> None:
    decoder = KeyDecoder()
    raw = "ü".encode()
    assert decoder.feed(raw[:1]) == []
    assert decoder.feed(raw[1:]) == ["ü"]


def test_selection_moves_and_clamps() -> None:
    view = ViewState()
    press(view, "j")
    assert view.selected == "api"  # nothing selected yet: the first row
    press(view, DOWN, "j", "j", "j")
    assert view.selected == "watch"
    press(view, UP, "k", "k", "k")
    assert view.selected == "api"


def test_enter_toggles_the_tail_and_e_the_errors_and_question_mark_the_help() -> None:
    view = ViewState()
    press(view, ENTER, "e", "?")
    assert (view.show_all, view.show_errors, view.show_help) == (False, False, True)
    press(view, ESC, ENTER, "e")
    assert (view.show_all, view.show_errors, view.show_help) == (True, True, False)
    press(view, "w")
    assert view.show_requests
    press(view, "w")
    assert not view.show_requests


def test_commands_act_on_the_selected_process() -> None:
    view = ViewState(selected="web")
    assert press(view, "r", "s") == [Command(Action.RESTART, "web"), Command(Action.TOGGLE, "web")]
    assert press(view, "q") == [Command(Action.QUIT)] and view.quitting
    assert press(ViewState(), "\x03") == []  # a raw byte that is not a key name is ignored
    assert press(ViewState(), "ctrl-c") == [Command(Action.QUIT)]


def test_c_clears_the_view_not_the_store() -> None:
    view = ViewState(selected="web")
    press(view, "c", last_seq=42)
    assert view.cleared == {"web": 42}
    assert view.message is not None and "keeps" in view.message.text


def test_filter_prompt() -> None:
    view = ViewState()
    press(view, "/", *"err(", ENTER)
    assert view.prompt == "err(" and view.prompt_error.startswith("invalid regex")  # stays open to fix
    assert view.pattern is None
    press(view, BACKSPACE, "|", "W", "a", "r", "n", ENTER)
    assert view.prompt is None and view.filter_text == "err|Warn" and view.pattern is not None
    assert view.pattern.search("Warn") and not view.pattern.search("warn")  # an upper-case letter: exact case
    press(view, "/", "x", ESC)
    assert view.prompt is None and view.filter_text == "err|Warn"  # Esc keeps the old filter
    press(view, "/", "ctrl-u", ENTER)
    assert view.filter_text == "" and view.pattern is None  # empty clears
    press(view, "/", *"q", ENTER)
    assert not view.quitting and view.filter_text == "q"  # in the prompt, q is a letter


def test_slash_then_enter_clears_the_filter() -> None:
    view = ViewState()
    press(view, "/", *"timeout", ENTER)
    assert view.filter_text == "timeout" and view.pattern is not None
    press(view, "/")
    assert view.prompt == ""  # a new filter: the field starts empty (the footer says what Enter does)
    press(view, ENTER)
    assert view.prompt is None and view.filter_text == "" and view.pattern is None


def test_a_filter_re2_cannot_run_is_refused_by_name() -> None:
    view = ViewState()
    press(view, "/", *"(a+)\\1", ENTER)
    assert view.prompt == "(a+)\\1" and view.pattern is None
    assert (
        view.prompt_error == "backreference `\\1` is not supported: brummer runs patterns on a linear-time engine (RE2)"
    )
    press(view, "ctrl-u", *"((a+)+)+$", ENTER)  # a backtracking bomb for Python's re: linear on RE2
    assert view.pattern is not None and not view.pattern.search("a" * 100_000 + "!")


def test_lower_case_filter_ignores_case() -> None:
    view = ViewState()
    press(view, "/", *"error", ENTER)
    assert view.pattern is not None and view.pattern.search("ERROR")


def test_every_advertised_key_is_bound() -> None:
    advertised = {"r", "s", "e", "w", "/", "c", "?", "q", "j", "k"}
    assert advertised <= {key for keys, _ in HELP for key in keys.split()}
    for key in advertised - {"q"}:
        view = ViewState(selected="web")  # a middle row: j and k both move
        before = repr(view)
        commands = press(view, key)
        assert commands or repr(view) != before, key
