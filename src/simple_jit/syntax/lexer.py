"""The lexer: source text to a list of tokens with INDENT/DEDENT/NEWLINE.

One compiled regular expression recognises every ordinary token; strings,
block comments and line starts (indentation) are handled by small dedicated
scanners that also work on whole runs of characters with regexes.  The lexer
never raises: problems are reported to the ``DiagnosticBag`` and lexing goes on.

Interpolated strings are not parsed here: an ``ISTR`` token carries its text
parts and the absolute ``(start, end)`` offsets of each ``{expr}``; the parser
lexes and parses those regions on demand (``tokenize(..., interp=True)``), so
every span in the AST points into the original file.

Choices where the spec is silent: a tab adds 4 columns; a line ending with a
binary operator, ``,``, ``=``/``op=`` or ``->`` continues (``>``/``>>`` only
when the next line is indented deeper, so ``x: Box<T>`` ends its line);
triple-quoted text is verbatim text (no escapes); in ``'raw'`` strings only ``\\'``
is an escape; a lone ``}`` in a double-quoted string is a literal brace; a
raw newline ends (and so leaves unterminated) a one-line string; ``\\xNN`` is
any code point up to U+00FF; ``1f64`` is a float, ``1.5i64`` an error; after a
``.`` only digits are lexed, so ``t.0.1`` is two tuple indexes.
"""

from __future__ import annotations

import re

from simple_jit.diagnostics import DiagnosticBag, Span
from simple_jit.syntax.tokens import (
    CONTINUATION,
    DEDENT,
    EOF,
    FLOAT,
    INDENT,
    INT,
    ISTR,
    KEYWORDS,
    NAME,
    NEWLINE,
    STR,
    Token,
)

I64_MAX = (1 << 63) - 1
MAX_STRING_NESTING = 32

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\f\r]+)
  | (?P<nl>\n)
  | (?P<comment>\#[^\n]*)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<num>0[xX][0-9a-fA-F_]*|0[oO][0-7_]*|0[bB][01_]*
        |[0-9][0-9_]*(?:\.[0-9][0-9_]*)?(?:[eE][+-]?[0-9][0-9_]*)?)
  | (?P<bc>/\*)
  | (?P<str>["'])
  | (?P<op>\.\.=|\.\.|\*\*|->|<<|>>|<=|>=|==|!=|&&|\|\||\?\?|\+=|-=|\*=|/=|%=
        |[-+*/%&|^~!<>=()\[\],:.?])
  | (?P<bs>\\)
    """,
    re.VERBOSE,
)
_WS_RE = re.compile(r"[ \t\f]*")
_WS_CR_RE = re.compile(r"[ \t\f\r]*")
_DIGITS_RE = re.compile(r"[0-9]+")
_IDENT_TAIL_RE = re.compile(r"[A-Za-z0-9_]*")
_BLOCK_COMMENT_RE = re.compile(r"/\*|\*/")
_BACKSLASH_EOL_RE = re.compile(r"[ \t\f\r]*(?:#[^\n]*)?(?:\n|\Z)")
_DQ_TEXT_RE = re.compile(r'[^"\\{}\n]+')
_SQ_TEXT_RE = re.compile(r"[^'\\\n]+")
_INTERP_SKIP_RE = re.compile(r"""[^"'()\[\]{}\n]+""")
_HEX2_RE = re.compile(r"[0-9a-fA-F]{2}")
_UNICODE_RE = re.compile(r"\{([0-9a-fA-F]{1,6})\}")

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
_KEYWORD_KIND = {k: k for k in KEYWORDS}
_OPENERS = frozenset("([")
_CLOSERS = frozenset(")]")

Part = str | tuple[int, int]


class _NestedTooDeeply(Exception):
    """Strings nested inside interpolations beyond ``MAX_STRING_NESTING``."""


def tokenize(
    text: str,
    diags: DiagnosticBag,
    start: int = 0,
    end: int | None = None,
    *,
    interp: bool = False,
) -> list[Token]:
    """Tokenize ``text[start:end]`` (offsets stay absolute).

    With ``interp=True`` the range is the inside of a ``{...}`` in a string:
    no NEWLINE/INDENT/DEDENT tokens are produced.  The result always ends with
    an EOF token.
    """
    return _Lexer(text, diags, start, len(text) if end is None else end, interp).run()


class _Lexer:
    __slots__ = ("diags", "end", "indents", "interp", "quiet", "start", "text", "toks")

    def __init__(self, text: str, diags: DiagnosticBag, start: int, end: int, interp: bool):
        self.text = text
        self.diags = diags
        self.start = start
        self.end = end
        self.interp = interp
        self.toks: list[Token] = []
        self.indents = [0]
        self.quiet = 0  # > 0 while skimming nested strings (errors reported later)

    def error(self, message: str, start: int, end: int) -> None:
        if not self.quiet:
            self.diags.error(message, Span(start, end))

    # ------------------------------------------------------------------ main

    def run(self) -> list[Token]:
        text = self.text
        end = self.end
        toks = self.toks
        append = toks.append
        match = _TOKEN_RE.match
        keyword_kind = _KEYWORD_KIND
        interp = self.interp
        paren = 0
        backslash = False
        pos = self.start if interp else self._line_start(self.start)
        while pos < end:
            m = match(text, pos, end)
            if m is None:
                c = text[pos]
                if c == "{" or c == "}":
                    self.error(
                        f"unexpected character {c!r} (braces are only used in strings)",
                        pos,
                        pos + 1,
                    )
                else:
                    self.error(f"unexpected character {c!r}", pos, pos + 1)
                pos += 1
                continue
            kind = m.lastgroup
            s = pos
            pos = m.end()
            if kind == "ws" or kind == "comment":
                continue
            if kind == "name":
                word = m.group()
                kw = keyword_kind.get(word)
                if kw is None:
                    append(Token(NAME, word, s, pos))
                else:
                    append(Token(kw, None, s, pos))
            elif kind == "op":
                op = m.group()
                if op in _OPENERS:
                    paren += 1
                elif op in _CLOSERS and paren > 0:
                    paren -= 1
                append(Token(op, None, s, pos))
            elif kind == "num":
                pos = self._number(m.group(), s, pos)
            elif kind == "str":
                pos = self._string(s)
            elif kind == "nl":
                if interp:
                    continue
                if paren > 0 or backslash:
                    backslash = False
                    continue
                if toks and toks[-1].kind in CONTINUATION and not self._ends_type_args(pos):
                    continue
                if toks and toks[-1].kind != NEWLINE:
                    append(Token(NEWLINE, None, toks[-1].end, pos))
                pos = self._line_start(pos)
            elif kind == "bc":
                pos = self._block_comment(s)
            else:  # backslash
                if not interp and _BACKSLASH_EOL_RE.match(text, pos, end):
                    backslash = True
                else:
                    self.error("unexpected character '\\'", s, pos)
        if not interp:
            if toks and toks[-1].kind != NEWLINE:
                append(Token(NEWLINE, None, toks[-1].end, end))
            at = toks[-1].start if toks else end
            for _ in range(len(self.indents) - 1):
                append(Token(DEDENT, None, at, at))
        append(Token(EOF, None, end, end))
        return toks

    # ----------------------------------------------------------- indentation

    def _ends_type_args(self, pos: int) -> bool:
        """Does a line ending in ``>``/``>>`` close a generic type, not continue?

        ``x: Box<i64>`` in a struct ends with ``>``: the line continues only
        when the next line is indented deeper, as a continued comparison or
        shift would be.
        """
        if self.toks[-1].kind not in (">", ">>"):
            return False
        m = _WS_RE.match(self.text, pos, self.end)
        assert m is not None
        ws = m.group()
        return len(ws) + 3 * ws.count("\t") <= self.indents[-1]

    def _line_start(self, pos: int) -> int:
        """Skip blank and comment-only lines; emit INDENT/DEDENT for the next line."""
        text = self.text
        end = self.end
        while True:
            m = _WS_RE.match(text, pos, end)
            assert m is not None
            ws = m.group()
            p = m.end()
            while p < end:
                c = text[p]
                if c == "#":
                    p = text.find("\n", p, end)
                    if p < 0:
                        p = end
                elif c == "/" and text.startswith("/*", p):
                    p = self._block_comment(p)
                    m2 = _WS_CR_RE.match(text, p, end)
                    assert m2 is not None
                    p = m2.end()
                elif c == "\r":
                    p += 1
                else:
                    break
            if p >= end:
                return end
            if text[p] == "\n":
                pos = p + 1
                continue
            self._indent(len(ws) + 3 * ws.count("\t"), p)
            return p

    def _indent(self, width: int, p: int) -> None:
        indents = self.indents
        top = indents[-1]
        if width == top:
            return
        toks = self.toks
        if width > top:
            indents.append(width)
            toks.append(Token(INDENT, None, p, p))
            return
        popped = 0
        while width < indents[-1]:
            indents.pop()
            popped += 1
        if width != indents[-1]:
            self.error("inconsistent dedent: does not match any outer indentation level", p, p + 1)
            # Recover: the line stays in the innermost closed block, whose
            # indentation becomes this line's.
            indents.append(width)
            popped -= 1
        at = toks[-1].start if toks else p
        for _ in range(popped):
            toks.append(Token(DEDENT, None, at, at))

    # -------------------------------------------------------------- comments

    def _block_comment(self, s: int) -> int:
        """Skip a (nested) block comment starting at ``s``; return the end."""
        depth = 0
        for m in _BLOCK_COMMENT_RE.finditer(self.text, s, self.end):
            if m.group() == "/*":
                depth += 1
            else:
                depth -= 1
                if depth == 0:
                    return m.end()
        self.error("unterminated block comment", s, s + 2)
        return self.end

    # --------------------------------------------------------------- numbers

    def _number(self, lit: str, s: int, e: int) -> int:
        text = self.text
        toks = self.toks
        if toks and toks[-1].kind == ".":
            # A tuple index: ``t.0.1`` is t . 0 . 1, never the float 0.1.
            m = _DIGITS_RE.match(text, s, self.end)
            assert m is not None
            e = m.end()
            toks.append(Token(INT, _small_int(m.group()), s, e))
            return e
        m = _IDENT_TAIL_RE.match(text, e, self.end)
        assert m is not None
        suffix = m.group()
        if suffix:
            e = m.end()
            if suffix not in ("i64", "f64"):
                self.error(f"invalid number literal {text[s:e]!r}", s, e)
                toks.append(Token(INT, 0, s, e))
                return e
        prefix = lit[:2].lower()
        if prefix in ("0x", "0o", "0b"):
            digits = lit[2:].replace("_", "")
            if not digits:
                self.error(f"invalid number literal {text[s:e]!r}: no digits", s, e)
                toks.append(Token(INT, 0, s, e))
                return e
            if suffix == "f64":
                self.error("a hexadecimal, octal or binary literal cannot be f64", s, e)
            base = 16 if prefix == "0x" else 8 if prefix == "0o" else 2
            self._int_token(digits, base, s, e)
            return e
        digits = lit.replace("_", "")
        if "." in lit or "e" in lit or "E" in lit:
            if suffix == "i64":
                self.error("a float literal cannot have the suffix i64", s, e)
            toks.append(Token(FLOAT, float(digits), s, e))
        elif suffix == "f64":
            toks.append(Token(FLOAT, float(digits), s, e))
        else:
            self._int_token(digits, 10, s, e)
        return e

    def _int_token(self, digits: str, base: int, s: int, e: int) -> None:
        significant = digits.lstrip("0")
        # Guard before int(): long decimal strings are slow (and limited).
        if len(significant) > 64:
            value = I64_MAX + 1
        else:
            value = int(digits, base)
        if value > I64_MAX:
            self.error("integer literal out of range (does not fit in i64)", s, e)
            value = 0
        self.toks.append(Token(INT, value, s, e))

    # --------------------------------------------------------------- strings

    def _string(self, s: int) -> int:
        text = self.text
        if text[s] == "'":
            e, value = self._scan_sq(s)
            self.toks.append(Token(STR, value, s, e))
            return e
        if text.startswith('"""', s):
            e, value = self._scan_triple(s)
            self.toks.append(Token(STR, value, s, e))
            return e
        try:
            e, parts = self._scan_dq(s, 0)
        except _NestedTooDeeply:
            # Give up on the whole literal: skip to the end of its line.
            self.error("string interpolation nested too deeply", s, s + 1)
            e = text.find("\n", s, self.end)
            e = self.end if e < 0 else e
            parts = [""]
        if len(parts) == 1:
            self.toks.append(Token(STR, parts[0], s, e))
        else:
            self.toks.append(Token(ISTR, parts, s, e))
        return e

    def _scan_sq(self, s: int) -> tuple[int, str]:
        """A raw single-quoted string: only ``\\'`` is an escape."""
        text = self.text
        end = self.end
        p = s + 1
        buf: list[str] = []
        while True:
            m = _SQ_TEXT_RE.match(text, p, end)
            if m:
                buf.append(m.group())
                p = m.end()
            if p >= end or text[p] == "\n":
                self.error("unterminated string literal", s, p)
                return p, "".join(buf)
            c = text[p]
            if c == "'":
                return p + 1, "".join(buf)
            # backslash
            if text.startswith("'", p + 1):
                buf.append("'")
                p += 2
            else:
                buf.append("\\")
                p += 1

    def _scan_triple(self, s: int) -> tuple[int, str]:
        """``\"\"\"...\"\"\"``: verbatim text, may span lines, no interpolation."""
        q = self.text.find('"""', s + 3, self.end)
        if q < 0:
            self.error("unterminated triple-quoted string", s, s + 3)
            return self.end, self.text[s + 3 : self.end]
        return q + 3, self.text[s + 3 : q]

    def _scan_dq(self, s: int, nest: int) -> tuple[int, list[Part]]:
        """A double-quoted string at ``s``; returns (end, parts).

        ``parts`` strictly alternates text (possibly empty) and the absolute
        ``(start, end)`` range of an interpolated expression, beginning and
        ending with text; a string without ``{`` has exactly one part.
        """
        text = self.text
        end = self.end
        p = s + 1
        buf: list[str] = []
        parts: list[Part] = []
        while True:
            m = _DQ_TEXT_RE.match(text, p, end)
            if m:
                buf.append(m.group())
                p = m.end()
            if p >= end or text[p] == "\n":
                self.error("unterminated string literal", s, p)
                break
            c = text[p]
            if c == '"':
                p += 1
                break
            if c == "\\":
                p = self._escape(p, buf)
            elif c == "{":
                if text.startswith("{", p + 1):
                    buf.append("{")
                    p += 2
                    continue
                close = self._scan_interp(p + 1, nest + 1)
                parts.append("".join(buf))
                buf = []
                parts.append((p + 1, close))
                p = close + 1 if close < end and text[close] == "}" else close
            else:  # "}": "}}" is the documented spelling, a lone "}" is tolerated
                buf.append("}")
                p += 2 if text.startswith("}", p + 1) else 1
        parts.append("".join(buf))
        return p, parts

    def _scan_interp(self, p: int, nest: int) -> int:
        """Find the ``}`` closing an interpolation that starts at ``p``.

        Tracks nested brackets and nested string literals.  Returns the offset
        of the closing brace, or of the newline / end where the string is
        unterminated.
        """
        text = self.text
        end = self.end
        if nest > MAX_STRING_NESTING:
            raise _NestedTooDeeply
        depth = 0
        while True:
            m = _INTERP_SKIP_RE.match(text, p, end)
            if m:
                p = m.end()
            if p >= end:
                return p
            c = text[p]
            if c == "\n":
                return p
            if c in "([{":
                depth += 1
                p += 1
            elif c in ")]}":
                if depth == 0 and c == "}":
                    return p
                depth = max(0, depth - 1)
                p += 1
            else:
                self.quiet += 1
                try:
                    if c == "'":
                        p = self._scan_sq(p)[0]
                    elif text.startswith('"""', p):
                        p = self._scan_triple(p)[0]
                    else:
                        p = self._scan_dq(p, nest)[0]
                finally:
                    self.quiet -= 1

    def _escape(self, p: int, buf: list[str]) -> int:
        """Decode the escape at ``p`` (a backslash) into ``buf``; return the new offset."""
        text = self.text
        end = self.end
        c = text[p + 1] if p + 1 < end else ""
        simple = _ESCAPES.get(c)
        if simple is not None:
            buf.append(simple)
            return p + 2
        if c == "x":
            m = _HEX2_RE.match(text, p + 2, end)
            if m is None:
                self.error("invalid escape: '\\x' needs two hex digits", p, p + 2)
                return p + 2
            buf.append(chr(int(m.group(), 16)))
            return m.end()
        if c == "u":
            m = _UNICODE_RE.match(text, p + 2, end)
            if m is None:
                self.error("invalid escape: expected '\\u{NNNN}'", p, p + 2)
                return p + 2
            cp = int(m.group(1), 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                self.error(f"invalid unicode escape: U+{cp:X} is not a character", p, m.end())
            else:
                buf.append(chr(cp))
            return m.end()
        if c == "" or c == "\n":
            return p + 1  # the caller reports the unterminated string
        self.error(f"unknown escape sequence '\\{c}'", p, p + 2)
        return p + 2


def _small_int(digits: str) -> int:
    return int(digits) if len(digits) <= 64 else 0
