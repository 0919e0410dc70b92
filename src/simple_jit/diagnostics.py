"""Source positions, compile diagnostics and the errors every phase shares.

Positions are kept as character offsets into a ``SourceFile`` (a ``Span`` is a
half-open ``[start, end)`` range); lines and columns are computed only when a
diagnostic is rendered, so the lexer and parser never pay for them.  Columns
count characters from 1, as the language spec requires.

Phases never print: they append ``Diagnostic`` objects to a ``DiagnosticBag``
and the driver renders them at the edge in the ``FILE:LINE:COL: error: MSG``
form followed by the source line and a caret marker.
"""

from __future__ import annotations

import bisect

from simple_jit._record import field, record


class SourceFile:
    """A source text with a display name and a lazily built line index."""

    __slots__ = ("_line_starts", "name", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self._line_starts: list[int] | None = None

    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            starts = [0]
            find = self.text.find
            pos = find("\n")
            while pos >= 0:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        starts = self.line_starts()
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_text(self, line: int) -> str:
        starts = self.line_starts()
        if not 1 <= line <= len(starts):
            return ""
        begin = starts[line - 1]
        end = self.text.find("\n", begin)
        if end < 0:
            end = len(self.text)
        return self.text[begin:end].rstrip("\r")


@record(frozen=True)
class Span:
    """A half-open range of character offsets in one source file."""

    start: int
    end: int

    def to(self, other: Span) -> Span:
        """The span covering ``self`` through ``other``."""
        return Span(min(self.start, other.start), max(self.end, other.end))


@record(frozen=True)
class Loc:
    """A resolved 1-based line and column: what MIR instructions carry."""

    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


@record
class Diagnostic:
    """One compile error: a message, a primary span and optional notes."""

    message: str
    span: Span
    notes: list[str] = field(default_factory=list)
    severity: str = "error"

    def render(self, source: SourceFile, *, snippet: bool = True) -> str:
        line, col = source.line_col(self.span.start)
        head = f"{source.name}:{line}:{col}: {self.severity}: {self.message}"
        if not snippet:
            return head
        text = source.line_text(line)
        if not text and self.span.start >= len(source.text):
            return head + "".join(f"\n  = note: {n}" for n in self.notes)
        end_line, end_col = source.line_col(max(self.span.start, self.span.end - 1))
        width = (end_col - col + 1) if end_line == line else max(1, len(text) - col + 1)
        gutter = str(line)
        pad = " " * len(gutter)
        marker = " " * (col - 1) + "^" * max(1, width)
        out = [head, f"{pad} |", f"{gutter} | {text}", f"{pad} | {marker}"]
        out.extend(f"{pad} = note: {n}" for n in self.notes)
        return "\n".join(out)


class DiagnosticBag:
    """Collects diagnostics; phases keep going after an error where they can."""

    __slots__ = ("items", "limit")

    def __init__(self, limit: int = 100) -> None:
        self.items: list[Diagnostic] = []
        self.limit = limit

    def error(self, message: str, span: Span, *notes: str) -> None:
        if len(self.items) < self.limit:
            self.items.append(Diagnostic(message, span, list(notes)))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.span.start, d.span.end))


class SimpleError(Exception):
    """Base of every error the engine reports to its users."""


class CompileError(SimpleError):
    """A unit failed to compile; carries every diagnostic with positions."""

    def __init__(self, diagnostics: list[Diagnostic], source: SourceFile) -> None:
        self.diagnostics = diagnostics
        self.source = source
        super().__init__(self.render(snippet=False))

    def render(self, *, snippet: bool = True) -> str:
        return "\n".join(d.render(self.source, snippet=snippet) for d in self.diagnostics)


class SimpleRuntimeError(SimpleError):
    """A runtime error raised by Simple code: a message and a source position."""

    def __init__(self, message: str, loc: Loc | None, file: str = "<source>") -> None:
        self.message = message
        self.loc = loc
        self.file = file
        super().__init__(self.render())

    def render(self) -> str:
        where = f"{self.file}:{self.loc.line}:{self.loc.col}" if self.loc else self.file
        return f"{where}: runtime error: {self.message}"

    def render_short(self) -> str:
        """``LINE:COL: runtime error: MESSAGE``, the C ABI's form."""
        where = f"{self.loc.line}:{self.loc.col}: " if self.loc else ""
        return f"{where}runtime error: {self.message}"


class InternalCompilerError(SimpleError):
    """A bug in the compiler itself, never the user's fault."""
