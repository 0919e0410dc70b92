"""Token kinds and the ``Token`` record produced by the lexer.

A token's ``kind`` is a plain string: one of the special kinds below, or the
keyword / operator text itself (``"fn"``, ``"+="``, ``"("``).  Keeping kinds as
interned strings makes the parser's dispatch a dictionary or equality test.
"""

from __future__ import annotations

from typing import Any

NAME = "NAME"  # value: the identifier (str)
INT = "INT"  # value: int (already range-checked; 0 after an error)
FLOAT = "FLOAT"  # value: float
STR = "STR"  # value: str (plain, raw or triple-quoted literal)
ISTR = "ISTR"  # value: list[str | tuple[int, int]]: text and (start, end) of {expr}
NEWLINE = "NEWLINE"
INDENT = "INDENT"
DEDENT = "DEDENT"
EOF = "EOF"

KEYWORDS: frozenset[str] = frozenset(
    [
        "fn",
        "val",
        "var",
        "if",
        "elif",
        "else",
        "while",
        "loop",
        "for",
        "in",
        "break",
        "continue",
        "return",
        "pass",
        "true",
        "false",
        "nil",
        "and",
        "or",
        "not",
        "struct",
        "enum",
        "match",
        "case",
        "extern",
        "as",
    ]
)

# Tokens that, when they end a line, make the next line a continuation of it
# (binary operators, ``,`` and assignment operators).
CONTINUATION: frozenset[str] = frozenset(
    [
        "+",
        "-",
        "*",
        "/",
        "%",
        "**",
        "&",
        "|",
        "^",
        "<<",
        ">>",
        "==",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "and",
        "or",
        "&&",
        "||",
        "..",
        "..=",
        "??",
        ",",
        "=",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "->",
    ]
)


class Token:
    """One token: its kind, a literal value (or None) and a half-open span."""

    __slots__ = ("end", "kind", "start", "value")

    def __init__(self, kind: str, value: Any, start: int, end: int) -> None:
        self.kind = kind
        self.value = value
        self.start = start
        self.end = end

    def __repr__(self) -> str:
        if self.value is None:
            return f"Token({self.kind}, {self.start}..{self.end})"
        return f"Token({self.kind}, {self.value!r}, {self.start}..{self.end})"
