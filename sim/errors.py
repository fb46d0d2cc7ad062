"""Errors a user can cause, and how they read.

    SimError                 base of every error gpusim raises on purpose
     +-- UserError           a mistake in what the user gave us: exit status 2, one line
          +-- ScenarioError  a scenario YAML file or a --set override
          +-- TraceError     a row or column of a trace file
          +-- PolicyError    an unknown policy name or a bad policy parameter

Every UserError renders as ``<file>:<line>: <field>: <what> must <rule> (got <value>)``;
the CLI prefixes ``gpusim: `` and exits 2 without a traceback. Bugs are any other
exception: they keep their traceback and exit 1.
"""

from __future__ import annotations


class SimError(Exception):
    """Base of every error gpusim raises on purpose."""


class UserError(SimError):
    """A mistake in the user's input, located as precisely as we can.

    ``source`` is a file path (or ``--set``), ``line`` a 1-based line number or None,
    ``field`` a dotted path or column name, ``message`` the rule that was broken.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self.render())

    def render(self) -> str:
        """The one-line form (``located``)."""
        return located(self.message, self.source, self.line, self.field)


def located(
    message: str, source: str | None = None, line: int | None = None, field: str | None = None
) -> str:
    """``<source>:<line>: <field>: <message>``, the parts that are known; a line break or
    control character the user wrote (a key "a\\nb") shows as its escape sequence."""
    parts = []
    if source is not None:
        parts.append(source if line is None else f"{source}:{line}")
    if field:
        parts.append(field)
    parts.append(message)
    return one_line(": ".join(parts))


# Control characters (a tab aside) and every character str.splitlines() breaks a line at
# (\n, \r, \x85, \u2028...), as their escape sequences: a message stays one readable line.
_LINE_BREAKS = {
    code: repr(chr(code))[1:-1] for code in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029] if code != 0x09
}


def one_line(text: str) -> str:
    """``text`` with every control character and line break escaped: ``a\\nb`` for a newline."""
    return text.translate(_LINE_BREAKS)


class ScenarioError(UserError):
    """A scenario file or override breaks the schema."""


class TraceError(UserError):
    """A trace file is missing, unreadable or has a malformed row."""


class PolicyError(UserError):
    """An unknown policy name or a bad policy parameter."""


def show(value: object) -> str:
    """Render a user's value for an error message, briefly."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
