"""Recursive-descent parser for Simple Core (tiers 1 and 2).

``parse(source, diags)`` never raises: syntax errors are reported to ``diags``
and the parser resynchronises at the next statement, so one run reports many
errors.  Internally an error is reported once and then a ``_ParseError`` unwinds
to the innermost statement list, which skips to the end of the broken
statement (parsing any indented block below it, for more errors).

Expressions use precedence climbing (one loop for the binary levels 1-11 of
the spec's table), so the Python stack grows with nesting, not with length;
nesting is capped at ``MAX_DEPTH`` with a diagnostic.

Choices where the spec is silent (see also the lexer's docstring):

- Only level 4 (``< <= > >=``) chains into a ``Compare``; ``a == b == c`` is
  left-associative ``Binary``.  ``a..b..c`` is an error.
- Postfix binds tighter than unary, so ``-7.9 as i64`` is ``-(7.9 as i64)``;
  ``??`` is postfix with a unary right operand and so right-associative:
  ``a ?? b ?? c`` is ``a ?? (b ?? c)``.
- ``print`` at the start of a statement followed by anything but ``(`` or the
  end of the line takes the rest of the statement as its argument; a bare
  ``print`` is just the name ``print``.
- A one-line body is any single statement (``if k > 10: break``); ``elif`` /
  ``else`` after a one-line branch may be on the same line or start the next.
- ``if val x = e:`` may be followed by ``elif``/``else``; an ``elif`` there
  becomes an ``If`` (or ``IfLet``) inside ``else_body``.
- ``InterpStr.parts`` strictly alternates text and expressions, starting and
  ending with (possibly empty) text.
- Patterns: ``_``, names, ``Enum.Variant[(p, ...)]``, ``Name(p, ...)`` (enum
  None, e.g. ``Some(x)``), literals incl. negative numbers, tuples.
- Nested ``fn``/``struct``/``enum`` are errors; ``(a,)`` is an error (a tuple
  needs two elements).
- An out-of-range integer literal is reported and becomes ``IntLit(0)``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

from simple_jit.diagnostics import DiagnosticBag, SourceFile, Span
from simple_jit.syntax import ast
from simple_jit.syntax.lexer import tokenize
from simple_jit.syntax.tokens import (
    DEDENT,
    EOF,
    FLOAT,
    INDENT,
    INT,
    ISTR,
    NAME,
    NEWLINE,
    STR,
    Token,
)

_T = TypeVar("_T")

MAX_DEPTH = 200
_RECURSION_LIMIT = 12_000  # enough Python frames for MAX_DEPTH nesting levels

# Binary operator levels from the spec's table (1 = lowest).
_BINARY_LEVEL: dict[str, int] = {
    "or": 1,
    "||": 1,
    "and": 2,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "..": 5,
    "..=": 5,
    "|": 6,
    "^": 7,
    "&": 8,
    "<<": 9,
    ">>": 9,
    "+": 10,
    "-": 10,
    "*": 11,
    "/": 11,
    "%": 11,
}
_COMPARE_LEVEL = 4
_RANGE_LEVEL = 5
_NORMALISE = {"||": "or", "&&": "and", "!": "not"}
_UNARY = frozenset(("-", "not", "!", "~"))
_ASSIGN_OPS: dict[str, str | None] = {
    "=": None,
    "+=": "+",
    "-=": "-",
    "*=": "*",
    "/=": "/",
    "%=": "%",
}
_PRINT_CALL_FOLLOW = frozenset(("(", NEWLINE, EOF, DEDENT))
_RETURN_END = frozenset((NEWLINE, EOF, DEDENT, "elif", "else"))
_ITEM_KEYWORDS = frozenset(("fn", "extern", "struct", "enum"))
_ELSE_KEYWORDS = frozenset(("elif", "else"))
# Inside brackets the lexer emits no NEWLINE, so meeting one means a bracket
# was never closed.
_UNCLOSED = frozenset((EOF, NEWLINE, INDENT, DEDENT))


def parse(source: SourceFile, diags: DiagnosticBag) -> ast.Module:
    """Parse a whole file.  Never raises; errors go to ``diags``."""
    module = ast.Module()
    old_limit = sys.getrecursionlimit()
    raised = False
    try:
        if old_limit < _RECURSION_LIMIT:
            sys.setrecursionlimit(_RECURSION_LIMIT)
            raised = True
        toks = tokenize(source.text, diags)
        _Parser(source.text, toks, diags).parse_module(module.items)
    except RecursionError:
        diags.error("program nested too deeply", Span(0, 0))
    except Exception as exc:  # a bug in the parser, reported rather than raised
        diags.error(f"internal parser error: {type(exc).__name__}: {exc}", Span(0, 0))
    finally:
        if raised:
            sys.setrecursionlimit(old_limit)
    return module


class _ParseError(Exception):
    """Unwinds to the enclosing statement list; the error is already reported."""


def _describe(tok: Token, text: str) -> str:
    kind = tok.kind
    if kind == NEWLINE:
        return "end of line"
    if kind == EOF:
        return "end of file"
    if kind == INDENT:
        return "indentation"
    if kind == DEDENT:
        return "end of block"
    if kind in (STR, ISTR):
        return "string literal"
    if kind == NAME:
        return f"token '{tok.value}'"
    if kind in (INT, FLOAT):
        return f"number {text[tok.start : tok.end]}"
    return f"token '{kind}'"


class _Parser:
    __slots__ = ("depth", "diags", "nest", "pos", "prev", "text", "tok", "toks")

    def __init__(self, text: str, toks: list[Token], diags: DiagnosticBag) -> None:
        self.text = text
        self.toks = toks
        self.diags = diags
        self.pos = 0
        self.tok = toks[0]
        self.prev = Token(NEWLINE, None, 0, 0)
        self.depth = 0  # nesting of expressions, blocks, types, patterns
        self.nest = 0  # INDENTs consumed minus DEDENTs consumed

    # --------------------------------------------------------------- helpers

    def advance(self) -> Token:
        tok = self.tok
        if tok.kind != EOF:
            self.pos += 1
            self.tok = self.toks[self.pos]
        self.prev = tok
        return tok

    def peek(self) -> Token:
        toks = self.toks
        return toks[min(self.pos + 1, len(toks) - 1)]

    def fail(self, message: str, span: Span | None = None) -> NoReturn:
        if span is None:
            span = Span(self.tok.start, self.tok.end)
        self.diags.error(message, span)
        raise _ParseError

    def fail_expected(self, what: str) -> NoReturn:
        self.fail(f"expected {what}, found {_describe(self.tok, self.text)}")

    def expect(self, kind: str, what: str) -> Token:
        if self.tok.kind != kind:
            self.fail_expected(what)
        return self.advance()

    def enter(self, what: str = "expression") -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"{what} nested too deeply (more than {MAX_DEPTH} levels)")

    def span_from(self, start: int) -> Span:
        return Span(start, max(start, self.prev.end))

    # ------------------------------------------------------ statement lists

    def parse_module(self, items: list[ast.Item]) -> None:
        self.parse_stmt_list(items, top=True)  # type: ignore[arg-type]

    def parse_stmt_list(self, out: list[ast.Stmt], top: bool) -> None:
        """Parse statements (or items, at the top) up to the block's DEDENT."""
        while True:
            kind = self.tok.kind
            if kind == EOF:
                return
            if kind == DEDENT:
                if not top:
                    return
                self.advance()
                continue
            if kind == NEWLINE:
                self.advance()
                continue
            start_pos = self.pos
            depth0 = self.depth
            nest0 = self.nest
            try:
                if kind == INDENT:
                    self.diags.error("unexpected indent", Span(self.tok.start, self.tok.start + 1))
                    out.extend(self.parse_block().stmts)
                    continue
                if top and kind in _ITEM_KEYWORDS:
                    out.append(self.parse_item())  # type: ignore[arg-type]
                else:
                    out.append(self.parse_statement())
                self.end_statement()
            except _ParseError:
                self.depth = depth0
                self.sync(nest0)
            if self.pos == start_pos and self.tok.kind not in (EOF, DEDENT):
                self.advance()

    def end_statement(self) -> None:
        kind = self.tok.kind
        if kind == NEWLINE:
            self.advance()
        elif self.prev.kind == DEDENT or kind in (EOF, DEDENT):
            return
        else:
            self.fail(f"unexpected {_describe(self.tok, self.text)}")

    def sync(self, nest0: int) -> None:
        """Skip the rest of a broken statement, including the blocks below it."""
        while True:
            kind = self.tok.kind
            if kind == EOF:
                return
            if kind == INDENT:
                self.nest += 1
                self.advance()
            elif kind == DEDENT:
                if self.nest <= nest0:
                    return
                self.nest -= 1
                self.advance()
                if self.nest == nest0 and self.tok.kind not in _ELSE_KEYWORDS:
                    return
            elif kind == NEWLINE:
                self.advance()
                if self.nest == nest0:
                    if self.tok.kind == INDENT and self.depth < MAX_DEPTH:
                        # The block of a broken header: parse it for more errors.
                        try:
                            self.parse_block()
                        except _ParseError:
                            continue
                    if self.tok.kind not in _ELSE_KEYWORDS:
                        return
            else:
                self.advance()

    def parse_block(self) -> ast.Block:
        """INDENT statements DEDENT (the current token is the INDENT)."""
        self.enter("block")
        self.advance()
        self.nest += 1
        start = self.tok.start
        stmts: list[ast.Stmt] = []
        self.parse_stmt_list(stmts, top=False)
        if self.tok.kind == DEDENT:
            self.advance()
            self.nest -= 1
        self.depth -= 1
        end = stmts[-1].span.end if stmts else start
        return ast.Block(stmts, Span(start, end))

    def parse_body(self) -> tuple[ast.Block, bool]:
        """The body after a ``:``: an indented block or a one-line statement.

        Returns the block and whether it was an indented block.
        """
        tok = self.tok
        if tok.kind == NEWLINE:
            self.advance()
            if self.tok.kind != INDENT:
                self.fail_expected("an indented block")
            return self.parse_block(), True
        if tok.kind == EOF or tok.kind == DEDENT:
            self.fail_expected("a statement after ':'")
        self.enter("block")
        stmt = self.parse_statement()
        self.depth -= 1
        return ast.Block([stmt], Span(tok.start, self.prev.end)), False

    def continues_with_else(self, was_block: bool) -> bool:
        """Is the current if-chain continued by ``elif``/``else``?

        After a one-line branch the ``elif``/``else`` may be on the same line or
        start the next line; after an indented block it follows the DEDENT.
        """
        kind = self.tok.kind
        if kind in _ELSE_KEYWORDS:
            return True
        if not was_block and kind == NEWLINE and self.peek().kind in _ELSE_KEYWORDS:
            self.advance()
            return True
        return False

    # ----------------------------------------------------------------- items

    def parse_item(self) -> ast.FnDecl | ast.StructDecl | ast.EnumDecl:
        kind = self.tok.kind
        if kind == "fn":
            return self.parse_fn(self.tok.start, extern=False)
        if kind == "extern":
            start = self.advance().start
            if self.tok.kind != "fn":
                self.fail_expected("'fn' after 'extern'")
            return self.parse_fn(start, extern=True)
        if kind == "struct":
            return self.parse_struct()
        return self.parse_enum()

    def parse_fn(self, start: int, extern: bool) -> ast.FnDecl:
        self.advance()  # fn
        name = self.expect(NAME, "a function name after 'fn'")
        self.expect("(", "'(' after the function name")
        params: list[ast.Param] = []
        while self.tok.kind != ")":
            if self.tok.kind == EOF:
                self.fail_expected("')' to close the parameter list")
            ptok = self.expect(NAME, "a parameter name")
            annotation = None
            if self.tok.kind == ":":
                self.advance()
                annotation = self.parse_type()
            params.append(ast.Param(ptok.value, annotation, self.span_from(ptok.start)))
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != ")":
                self.fail_expected("',' or ')' in the parameter list")
        self.advance()
        ret = None
        if self.tok.kind == "->":
            self.advance()
            ret = self.parse_type()
        body = None
        if extern:
            if self.tok.kind == ":":
                self.fail("an extern function has no body")
        else:
            self.expect(":", "':' after the function signature")
            body = self.parse_body()[0]
        return ast.FnDecl(
            name.value,
            params,
            ret,
            body,
            self.span_from(start),
            Span(name.start, name.end),
            is_extern=extern,
        )

    def open_decl_body(self, what: str) -> int:
        """After ``struct Name:``/``enum Name:``: consume NEWLINE INDENT."""
        if self.tok.kind != NEWLINE:
            self.fail_expected(f"a new line and indented {what}")
        self.advance()
        if self.tok.kind != INDENT:
            self.fail_expected(f"indented {what}")
        self.enter("block")
        self.advance()
        self.nest += 1
        return self.nest

    def close_decl_body(self) -> None:
        if self.tok.kind == DEDENT:
            self.advance()
            self.nest -= 1
        self.depth -= 1

    def decl_lines(self, nest0: int, parse_line: Callable[[], None]) -> None:
        """Run ``parse_line()`` for each line of a declaration body, with recovery."""
        while True:
            kind = self.tok.kind
            if kind in (EOF, DEDENT):
                return
            if kind == NEWLINE:
                self.advance()
                continue
            start_pos = self.pos
            depth0 = self.depth
            try:
                if kind == INDENT:
                    self.fail("unexpected indent")
                if kind == "pass" or kind == STR:
                    self.advance()
                else:
                    parse_line()
                self.end_statement()
            except _ParseError:
                self.depth = depth0
                self.sync(nest0)
            if self.pos == start_pos and self.tok.kind not in (EOF, DEDENT):
                self.advance()

    def parse_struct(self) -> ast.StructDecl:
        start = self.advance().start
        name = self.expect(NAME, "a struct name after 'struct'")
        self.expect(":", "':' after the struct name")
        fields: list[ast.StructField] = []
        if self.tok.kind == "pass":
            self.advance()
        else:
            nest0 = self.open_decl_body("struct fields")

            def field() -> None:
                ftok = self.expect(NAME, "a field name")
                self.expect(":", "':' and a type after the field name")
                annotation = self.parse_type()
                fields.append(ast.StructField(ftok.value, annotation, self.span_from(ftok.start)))

            self.decl_lines(nest0, field)
            self.close_decl_body()
        return ast.StructDecl(name.value, fields, self.span_from(start), Span(name.start, name.end))

    def parse_enum(self) -> ast.EnumDecl:
        start = self.advance().start
        name = self.expect(NAME, "an enum name after 'enum'")
        self.expect(":", "':' after the enum name")
        variants: list[ast.Variant] = []
        if self.tok.kind == "pass":
            self.advance()
        else:
            nest0 = self.open_decl_body("enum variants")

            def variant_line() -> None:
                while True:
                    vtok = self.expect(NAME, "a variant name")
                    payload: list[ast.TypeExpr] = []
                    if self.tok.kind == "(":
                        self.advance()
                        while self.tok.kind != ")":
                            payload.append(self.parse_type())
                            if self.tok.kind == ",":
                                self.advance()
                            elif self.tok.kind != ")":
                                self.fail_expected("',' or ')' in the variant payload")
                        self.advance()
                    variants.append(ast.Variant(vtok.value, payload, self.span_from(vtok.start)))
                    if self.tok.kind != ",":
                        return
                    self.advance()
                    if self.tok.kind == NEWLINE:
                        return

            self.decl_lines(nest0, variant_line)
            self.close_decl_body()
        return ast.EnumDecl(name.value, variants, self.span_from(start), Span(name.start, name.end))

    # ------------------------------------------------------------ statements

    def parse_statement(self) -> ast.Stmt:
        tok = self.tok
        kind = tok.kind
        if kind == "val" or kind == "var":
            return self.parse_let()
        if kind == "if":
            self.advance()
            return self.parse_if_stmt(tok.start)
        if kind == "while":
            self.advance()
            cond = self.parse_expr()
            self.expect(":", "':' after the while condition")
            body = self.parse_body()[0]
            return ast.While(cond, body, self.span_from(tok.start))
        if kind == "loop":
            self.advance()
            self.expect(":", "':' after 'loop'")
            body = self.parse_body()[0]
            return ast.Loop(body, self.span_from(tok.start))
        if kind == "for":
            return self.parse_for()
        if kind == "break":
            self.advance()
            return ast.Break(Span(tok.start, tok.end))
        if kind == "continue":
            self.advance()
            return ast.Continue(Span(tok.start, tok.end))
        if kind == "pass":
            self.advance()
            return ast.Pass(Span(tok.start, tok.end))
        if kind == "return":
            self.advance()
            value = None if self.tok.kind in _RETURN_END else self.parse_expr()
            return ast.Return(value, self.span_from(tok.start))
        if kind in _ELSE_KEYWORDS:
            self.fail(f"'{kind}' without a matching 'if'")
        if kind == "case":
            self.fail("'case' outside of a 'match'")
        if kind in _ITEM_KEYWORDS:
            self.fail(f"'{kind}' declarations are only allowed at the top level of a file")
        return self.parse_simple_stmt()

    def parse_simple_stmt(self) -> ast.Stmt:
        """An expression statement, an assignment or the ``print x`` form."""
        tok = self.tok
        start = tok.start
        if tok.kind == NAME and tok.value == "print" and self.peek().kind not in _PRINT_CALL_FOLLOW:
            self.advance()
            arg_start = self.tok.start
            arg = self.parse_expr()
            arg_span = self.span_from(arg_start)
            call = ast.Call(
                ast.Name("print", Span(tok.start, tok.end)),
                [ast.Arg(None, arg, arg_span)],
                self.span_from(start),
            )
            return ast.ExprStmt(call, call.span)
        expr = self.parse_expr()
        op_tok = self.tok
        if op_tok.kind in _ASSIGN_OPS:
            self.advance()
            value = self.parse_expr()
            if not isinstance(expr, (ast.Name, ast.Field, ast.Index)):
                self.diags.error("invalid assignment target", expr.span)
            return ast.Assign(
                expr,
                _ASSIGN_OPS[op_tok.kind],
                value,
                self.span_from(start),
                Span(op_tok.start, op_tok.end),
            )
        return ast.ExprStmt(expr, self.span_from(start))

    def parse_let(self) -> ast.Let:
        tok = self.advance()
        mutable = tok.kind == "var"
        target: ast.BindPat | ast.TuplePat
        if self.tok.kind == NAME:
            name = self.advance()
            target = ast.BindPat(name.value, Span(name.start, name.end))
        elif self.tok.kind == "(":
            pat = self.parse_pattern()
            if not isinstance(pat, (ast.BindPat, ast.TuplePat)):
                self.fail("expected a name or a tuple of names", pat.span)
            target = pat
        else:
            self.fail_expected(f"a name after '{tok.kind}'")
        annotation = None
        if self.tok.kind == ":":
            self.advance()
            annotation = self.parse_type()
        self.expect("=", f"'=' and a value in the '{tok.kind}' declaration")
        value = self.parse_expr()
        return ast.Let(mutable, target, annotation, value, self.span_from(tok.start))

    def parse_if_stmt(self, start: int) -> ast.If | ast.IfLet:
        """After ``if`` (or ``elif``): the rest of an if statement."""
        if self.tok.kind == "val":
            self.advance()
            name = self.expect(NAME, "a name after 'if val'")
            self.expect("=", "'=' after the name in 'if val'")
            value = self.parse_expr()
            self.expect(":", "':' after the 'if val' value")
            then_body, was_block = self.parse_body()
            return ast.IfLet(
                name.value,
                Span(name.start, name.end),
                value,
                then_body,
                self.parse_else(was_block),
                self.span_from(start),
            )
        cond = self.parse_expr()
        self.expect(":", "':' after if condition")
        body, was_block = self.parse_body()
        branches = [(cond, body)]
        else_body = None
        while self.continues_with_else(was_block):
            if self.tok.kind == "elif" and self.peek().kind == "val":
                else_body = self.parse_else(was_block)
                break
            if self.tok.kind == "elif":
                self.advance()
                cond = self.parse_expr()
                self.expect(":", "':' after elif condition")
                body, was_block = self.parse_body()
                branches.append((cond, body))
                continue
            self.advance()
            self.expect(":", "':' after 'else'")
            else_body = self.parse_body()[0]
            break
        return ast.If(branches, else_body, self.span_from(start))

    def parse_else(self, was_block: bool) -> ast.Block | None:
        """An optional ``elif ...``/``else: ...`` tail, as a block."""
        if not self.continues_with_else(was_block):
            return None
        tok = self.advance()
        if tok.kind == "elif":
            nested = self.parse_if_stmt(tok.start)
            return ast.Block([nested], nested.span)
        self.expect(":", "':' after 'else'")
        return self.parse_body()[0]

    def parse_for(self) -> ast.For:
        start = self.advance().start
        var = self.expect(NAME, "a loop variable name after 'for'")
        self.expect("in", "'in' after the loop variable")
        iterable = self.parse_expr()
        self.expect(":", "':' after the for iterable")
        body = self.parse_body()[0]
        return ast.For(var.value, Span(var.start, var.end), iterable, body, self.span_from(start))

    # ----------------------------------------------------------- expressions

    def parse_expr(self) -> ast.Expr:
        return self.parse_binary(1)

    def parse_binary(self, min_level: int) -> ast.Expr:
        start = self.tok.start
        left = self.parse_power()
        levels = _BINARY_LEVEL
        while True:
            tok = self.tok
            level = levels.get(tok.kind)
            if level is None or level < min_level or self.prev.kind == DEDENT:
                # After a block-bodied if/match the expression has ended: an
                # operator on the next line starts a new statement.
                return left
            if level == _COMPARE_LEVEL:
                operands = [left]
                ops: list[str] = []
                op_spans: list[Span] = []
                while levels.get(self.tok.kind) == _COMPARE_LEVEL:
                    op = self.advance()
                    ops.append(op.kind)
                    op_spans.append(Span(op.start, op.end))
                    operands.append(self.parse_binary(_COMPARE_LEVEL + 1))
                if len(ops) == 1:
                    left = ast.Binary(ops[0], left, operands[1], self.span_from(start), op_spans[0])
                else:
                    left = ast.Compare(operands, ops, op_spans, self.span_from(start))
            elif level == _RANGE_LEVEL:
                self.advance()
                right = self.parse_binary(_RANGE_LEVEL + 1)
                left = ast.Range(left, right, tok.kind == "..=", self.span_from(start))
                if levels.get(self.tok.kind) == _RANGE_LEVEL:
                    self.fail("range operators cannot be chained")
            else:
                self.advance()
                right = self.parse_binary(level + 1)
                left = ast.Binary(
                    _NORMALISE.get(tok.kind, tok.kind),
                    left,
                    right,
                    self.span_from(start),
                    Span(tok.start, tok.end),
                )

    def parse_power(self) -> ast.Expr:
        """``unary ('**' unary)*``, right-associative."""
        start = self.tok.start
        base = self.parse_unary()
        if self.tok.kind != "**" or self.prev.kind == DEDENT:
            return base
        operands = [base]
        starts = [start]
        op_spans: list[Span] = []
        while self.tok.kind == "**":
            op = self.advance()
            op_spans.append(Span(op.start, op.end))
            starts.append(self.tok.start)
            operands.append(self.parse_unary())
        end = self.prev.end
        result = operands[-1]
        for i in range(len(op_spans) - 1, -1, -1):
            result = ast.Binary("**", operands[i], result, Span(starts[i], end), op_spans[i])
        return result

    def parse_unary(self) -> ast.Expr:
        self.enter()
        tok = self.tok
        node: ast.Expr
        if tok.kind in _UNARY:
            self.advance()
            operand = self.parse_unary()
            node = ast.Unary(
                _NORMALISE.get(tok.kind, tok.kind),
                operand,
                self.span_from(tok.start),
                Span(tok.start, tok.end),
            )
        else:
            node = self.parse_postfix()
        self.depth -= 1
        return node

    def parse_postfix(self) -> ast.Expr:
        start = self.tok.start
        expr = self.parse_primary()
        while self.prev.kind != DEDENT:  # a block-bodied expression ends the chain
            kind = self.tok.kind
            if kind == "(":
                args = self.parse_args()
                expr = ast.Call(expr, args, self.span_from(start))
            elif kind == ".":
                self.advance()
                name = self.tok
                if name.kind == NAME:
                    self.advance()
                    name_span = Span(name.start, name.end)
                    if self.tok.kind == "(":
                        args = self.parse_args()
                        expr = ast.MethodCall(
                            expr, name.value, args, self.span_from(start), name_span
                        )
                    else:
                        expr = ast.Field(expr, name.value, self.span_from(start), name_span)
                elif name.kind == INT:
                    self.advance()
                    expr = ast.Field(
                        expr, str(name.value), self.span_from(start), Span(name.start, name.end)
                    )
                else:
                    self.fail_expected("a field or method name after '.'")
            elif kind == "[":
                open_tok = self.advance()
                if self.tok.kind == "]":
                    self.fail_expected("an index expression")
                index = self.parse_expr()
                self.close("]", open_tok, "']' after the index")
                expr = ast.Index(expr, index, self.span_from(start))
            elif kind == "as":
                self.advance()
                target = self.parse_type(allow_generic=False)
                expr = ast.Cast(expr, target, self.span_from(start))
            elif kind == "??":
                self.advance()
                default = self.parse_unary()
                expr = ast.Coalesce(expr, default, self.span_from(start))
            else:
                return expr
        return expr

    def close(self, kind: str, open_tok: Token, what: str) -> None:
        if self.tok.kind == kind:
            self.advance()
        elif self.tok.kind in _UNCLOSED:
            self.fail(f"'{open_tok.kind}' was never closed", Span(open_tok.start, open_tok.end))
        else:
            self.fail_expected(what)

    def parse_args(self) -> list[ast.Arg]:
        open_tok = self.advance()
        args: list[ast.Arg] = []
        while self.tok.kind != ")":
            if self.tok.kind in _UNCLOSED:
                self.close(")", open_tok, "')'")
            start = self.tok.start
            name = None
            if self.tok.kind == NAME and self.peek().kind == ":":
                name = self.advance().value
                self.advance()
            value = self.parse_expr()
            args.append(ast.Arg(name, value, self.span_from(start)))
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != ")":
                self.close(")", open_tok, "',' or ')' in the argument list")
        self.advance()
        return args

    def parse_primary(self) -> ast.Expr:
        tok = self.tok
        kind = tok.kind
        span = Span(tok.start, tok.end)
        if kind == NAME:
            self.advance()
            return ast.Name(tok.value, span)
        if kind == INT:
            self.advance()
            return ast.IntLit(tok.value, span)
        if kind == FLOAT:
            self.advance()
            return ast.FloatLit(tok.value, span)
        if kind == STR:
            self.advance()
            return ast.StrLit(tok.value, span)
        if kind == ISTR:
            self.advance()
            return self.parse_interp(tok)
        if kind == "true" or kind == "false":
            self.advance()
            return ast.BoolLit(kind == "true", span)
        if kind == "nil":
            self.advance()
            return ast.NilLit(span)
        if kind == "(":
            return self.parse_paren()
        if kind == "[":
            return self.parse_array()
        if kind == "if":
            return self.parse_if_expr()
        if kind == "match":
            return self.parse_match()
        self.fail_expected("an expression")

    def parse_paren(self) -> ast.Expr:
        open_tok = self.advance()
        start = open_tok.start
        if self.tok.kind == ")":
            self.advance()
            return ast.UnitLit(self.span_from(start))
        elems = self.paren_items(open_tok, self.parse_expr, "tuple")
        if len(elems) == 1:
            return elems[0]
        return ast.TupleLit(elems, self.span_from(start))

    def paren_items(self, open_tok: Token, parse_item: Callable[[], _T], what: str) -> list[_T]:
        """``(a)`` or ``(a, b, ...)`` after ``open_tok``: one item, or a tuple's items.

        A trailing comma is allowed; ``(a,)`` is an error (a tuple needs two).
        """
        start = open_tok.start
        items = [parse_item()]
        if self.tok.kind != ",":
            self.close(")", open_tok, "')'")
            return items
        while self.tok.kind == ",":
            self.advance()
            if self.tok.kind == ")":
                break
            items.append(parse_item())
        self.close(")", open_tok, f"',' or ')' in the {what}")
        if len(items) < 2:
            self.diags.error(f"a {what} needs at least two elements", self.span_from(start))
        return items

    def parse_array(self) -> ast.ArrayLit:
        open_tok = self.advance()
        elems: list[ast.Expr] = []
        while self.tok.kind != "]":
            if self.tok.kind in _UNCLOSED:
                self.close("]", open_tok, "']'")
            elems.append(self.parse_expr())
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != "]":
                self.close("]", open_tok, "',' or ']' in the array literal")
        self.advance()
        return ast.ArrayLit(elems, self.span_from(open_tok.start))

    def parse_if_expr(self) -> ast.IfExpr:
        start = self.advance().start
        if self.tok.kind == "val":
            self.fail("'if val' can only be used as a statement")
        branches: list[tuple[ast.Expr, ast.Block]] = []
        else_body = None
        cond = self.parse_expr()
        self.expect(":", "':' after if condition")
        body, was_block = self.parse_body()
        branches.append((cond, body))
        while self.continues_with_else(was_block):
            if self.advance().kind == "elif":
                cond = self.parse_expr()
                self.expect(":", "':' after elif condition")
                body, was_block = self.parse_body()
                branches.append((cond, body))
            else:
                self.expect(":", "':' after 'else'")
                else_body = self.parse_body()[0]
                break
        return ast.IfExpr(branches, else_body, self.span_from(start))

    def parse_match(self) -> ast.MatchExpr:
        start = self.advance().start
        subject = self.parse_expr()
        self.expect(":", "':' after the match subject")
        nest0 = self.open_decl_body("'case' arms")
        arms: list[ast.MatchArm] = []

        def arm_line() -> None:
            if self.tok.kind != "case":
                self.fail_expected("'case'")
            arms.append(self.parse_arm())

        self.decl_lines(nest0, arm_line)
        self.close_decl_body()
        return ast.MatchExpr(subject, arms, self.span_from(start))

    def parse_arm(self) -> ast.MatchArm:
        start = self.advance().start
        pattern = self.parse_pattern()
        guard = None
        if self.tok.kind == "if":
            self.advance()
            guard = self.parse_expr()
        self.expect(":", "':' after the case pattern")
        body = self.parse_body()[0]
        return ast.MatchArm(pattern, guard, body, self.span_from(start))

    def parse_interp(self, tok: Token) -> ast.Expr:
        parts: list[str | ast.Expr] = []
        for part in tok.value:
            if isinstance(part, str):
                parts.append(part)
            else:
                parts.append(self.parse_embedded(part[0], part[1]))
        return ast.InterpStr(parts, Span(tok.start, tok.end))

    def parse_embedded(self, start: int, end: int) -> ast.Expr:
        """Parse the expression inside ``{...}`` of a string (absolute offsets)."""
        sub = tokenize(self.text, self.diags, start, end, interp=True)
        placeholder = ast.StrLit("", Span(start, end))
        if sub[0].kind == EOF:
            self.diags.error("empty expression in string interpolation", Span(start - 1, end + 1))
            return placeholder
        saved = (self.toks, self.pos, self.tok, self.prev)
        depth0 = self.depth
        self.toks = sub
        self.pos = 0
        self.tok = sub[0]
        try:
            expr = self.parse_expr()
            if self.tok.kind != EOF:
                self.fail(f"unexpected {_describe(self.tok, self.text)} in string interpolation")
            return expr
        except _ParseError:
            self.depth = depth0
            return placeholder
        finally:
            self.toks, self.pos, self.tok, self.prev = saved

    # ----------------------------------------------------------------- types

    def parse_type(self, allow_generic: bool = True) -> ast.TypeExpr:
        self.enter("type")
        start = self.tok.start
        kind = self.tok.kind
        if kind != NAME and kind != "(" and kind != "[":
            self.fail_expected("a type")
        tok = self.advance()
        result: ast.TypeExpr
        if kind == NAME:
            if allow_generic and self.tok.kind == "<":
                open_tok = self.advance()
                args = [self.parse_type()]
                while self.tok.kind == ",":
                    self.advance()
                    args.append(self.parse_type())
                if self.tok.kind == ">>":  # Name<A<B>>: split the token
                    t = self.tok
                    self.toks[self.pos] = self.tok = Token(">", None, t.start + 1, t.end)
                    self.prev = Token(">", None, t.start, t.start + 1)
                else:
                    self.close(">", open_tok, "'>' to close the type arguments")
                result = ast.GenericType(tok.value, args, self.span_from(start))
            else:
                result = ast.TypeName(tok.value, Span(tok.start, tok.end))
        elif kind == "(":
            if self.tok.kind == ")":
                self.advance()
                result = ast.UnitType(self.span_from(start))
            else:
                first = self.parse_type()
                if self.tok.kind == ",":
                    elems = [first]
                    while self.tok.kind == ",":
                        self.advance()
                        if self.tok.kind == ")":
                            break
                        elems.append(self.parse_type())
                    self.close(")", tok, "',' or ')' in the tuple type")
                    if len(elems) < 2:
                        self.diags.error(
                            "a tuple type needs at least two elements", self.span_from(start)
                        )
                        result = first
                    else:
                        result = ast.TupleType(elems, self.span_from(start))
                else:
                    self.close(")", tok, "')'")
                    result = first
        else:
            elem = self.parse_type()
            self.close("]", tok, "']' after the array element type")
            result = ast.ArrayType(elem, self.span_from(start))
        while self.tok.kind == "?":
            self.advance()
            result = ast.OptionType(result, self.span_from(start))
        self.depth -= 1
        return result

    # -------------------------------------------------------------- patterns

    def parse_pattern(self) -> ast.Pattern:
        self.enter("pattern")
        pat = self.parse_pattern_inner()
        self.depth -= 1
        return pat

    def parse_pattern_inner(self) -> ast.Pattern:
        tok = self.tok
        kind = tok.kind
        start = tok.start
        span = Span(tok.start, tok.end)
        if kind == NAME:
            self.advance()
            nxt = self.tok.kind
            if nxt == ".":
                self.advance()
                variant = self.expect(NAME, "a variant name after '.'")
                args = self.parse_pattern_args() if self.tok.kind == "(" else None
                return ast.VariantPat(tok.value, variant.value, args, self.span_from(start))
            if nxt == "(":
                args = self.parse_pattern_args()
                return ast.VariantPat(None, tok.value, args, self.span_from(start))
            if tok.value == "_":
                return ast.WildcardPat(span)
            return ast.BindPat(tok.value, span)
        if kind == "-":
            self.advance()
            num = self.tok
            if num.kind == INT:
                self.advance()
                lit: ast.IntLit | ast.FloatLit = ast.IntLit(-num.value, self.span_from(start))
            elif num.kind == FLOAT:
                self.advance()
                lit = ast.FloatLit(-num.value, self.span_from(start))
            else:
                self.fail_expected("a number after '-' in the pattern")
            return ast.LiteralPat(lit, lit.span)
        if kind == INT:
            self.advance()
            return ast.LiteralPat(ast.IntLit(tok.value, span), span)
        if kind == FLOAT:
            self.advance()
            return ast.LiteralPat(ast.FloatLit(tok.value, span), span)
        if kind == STR:
            self.advance()
            return ast.LiteralPat(ast.StrLit(tok.value, span), span)
        if kind == "true" or kind == "false":
            self.advance()
            return ast.LiteralPat(ast.BoolLit(kind == "true", span), span)
        if kind == "nil":
            self.advance()
            return ast.LiteralPat(ast.NilLit(span), span)
        if kind == ISTR:
            self.fail("a string pattern cannot be interpolated")
        if kind == "(":
            open_tok = self.advance()
            if self.tok.kind == ")":
                self.fail_expected("a pattern")
            pats = self.paren_items(open_tok, self.parse_pattern, "tuple pattern")
            if len(pats) == 1:
                return pats[0]
            return ast.TuplePat(pats, self.span_from(start))
        self.fail_expected("a pattern")

    def parse_pattern_args(self) -> list[ast.Pattern]:
        open_tok = self.advance()
        args: list[ast.Pattern] = []
        while self.tok.kind != ")":
            if self.tok.kind in _UNCLOSED:
                self.close(")", open_tok, "')'")
            args.append(self.parse_pattern())
            if self.tok.kind == ",":
                self.advance()
            elif self.tok.kind != ")":
                self.close(")", open_tok, "',' or ')' in the pattern")
        self.advance()
        return args
