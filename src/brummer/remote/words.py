"""The tools' hints in the command line's words: ``start it with scripts_run`` becomes ``start it with `brummer start
web```.

A tool's message is written for an agent, which calls tools; a person at a shell runs commands. The remote commands
print tool messages (errors, ``wait``'s outcome) through ``in_cli_words``, which rewrites each tool name, with the
arguments the hint gives it (``wait_for condition=exited``), as the command that does the same. Tools with no command
(``proxy_routes``, the browser tools) are left as they are: naming them is still true. A name inside quotes is a value
(a process called ``logs_tail``), not a hint, so it is left alone.
"""

from __future__ import annotations

import re

_TOOL = re.compile(
    r"(?<![\w'\"`])(scripts_run|scripts_stop|scripts_restart|scripts_list|scripts_status|logs_tail|logs_search"
    r"|errors_list|urls_list|proxy_requests|wait_for)((?: [a-z_]+=[\w@/:-]+(?:\.[\w@/:-]+)*)*)(?![\w'\"`])"
)
# Each tool's command, and whether it names a process: always (NAME when the hint does not say which), only when the
# hint does (``name=``), or never.
_COMMANDS: dict[str, tuple[str, str]] = {
    "scripts_run": ("start", "always"),
    "scripts_stop": ("stop", "always"),
    "scripts_restart": ("restart", "always"),
    "scripts_list": ("ps", "never"),
    "scripts_status": ("ps", "never"),
    "logs_tail": ("logs", "always"),
    "logs_search": ("logs --grep REGEX", "given"),
    "errors_list": ("errors", "given"),
    "urls_list": ("urls", "never"),
    "proxy_requests": ("requests", "given"),
    "wait_for": ("wait", "always"),
}
# A hint's other ``key=value`` arguments that the commands take as flags; the rest have no flag and are left out.
_FLAGS = {"condition": "--{value}", "status": "--status {value}", "since": "--since {value}"}


def in_cli_words(text: str, name: str | None = None) -> str:
    """``text`` with its tool hints as commands; ``name`` is the process the command was about (else ``NAME``)."""
    if "_" not in text:
        return text

    def command(match: re.Match[str]) -> str:
        words, names = _COMMANDS[match.group(1)]
        given = None
        flags = []
        for argument in match.group(2).split():
            key, _, value = argument.partition("=")
            if key == "name":
                given = value
            elif key in _FLAGS:
                flags.append(_FLAGS[key].format(value=value))
        verb, *rest = words.split()
        process = given or (name or "NAME" if names == "always" else None)
        if names == "never":
            process = None
        return "`" + " ".join(["brummer", verb, *([process] if process else []), *rest, *flags]) + "`"

    return _TOOL.sub(command, text)
