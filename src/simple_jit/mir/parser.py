"""Parser of the MIR text form written by ``simple_jit.mir.printer``.

``parse_module(text)`` is the exact inverse of ``print_module``: registers,
names, types, extras, locations and constants (including ``inf``, ``nan``,
``-0.0`` and texts with any characters) come back as they were.  Malformed
input raises ``MirParseError(message, line, col)`` and nothing else.  The
parser checks syntax and name resolution (registers declared, ops known);
typing rules are the verifier's job (``simple_jit.mir.verify``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from simple_jit.diagnostics import Loc, SimpleError
from simple_jit.mir.ir import (
    OPS,
    TERMINATORS,
    Block,
    Const,
    Extern,
    Extra,
    Function,
    Global,
    Instr,
    Module,
    Operand,
    Reg,
    Term,
)
from simple_jit.mir.printer import SYMBOL_OPS, VARIADIC_OPS
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    NEVER,
    NIL,
    PRIMS,
    TEXT,
    UNIT,
    ArrayT,
    EnumDef,
    EnumT,
    OptionT,
    StructDef,
    StructT,
    TupleT,
    Type,
)

__all__ = ["MirParseError", "parse_module"]

_MAX_DEPTH = 100


class MirParseError(SimpleError):
    """Malformed MIR text: a message and a 1-based line and column."""

    def __init__(self, message: str, line: int, col: int) -> None:
        self.message = message
        self.line = line
        self.col = col
        super().__init__(f"{line}:{col}: {message}")


@dataclass(slots=True)
class _Tok:
    kind: str  # "str", "num", "ident", "reg", "punct", "eol"
    text: str
    col: int
    value: object = None


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t]+)
  | (?P<comment>;.*)
  | (?P<str>")
  | (?P<reg>%\d+)
  | (?P<arrow>->)
  | (?P<num>-?(?:\d+\.\d*(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\d+|inf(?![A-Za-z0-9_$.])|nan(?![A-Za-z0-9_$.])))
  | (?P<ident>[A-Za-z_$][A-Za-z0-9_$.]*)
  | (?P<punct>[()\[\]{},:=?!\#@.])
    """,
    re.VERBOSE | re.ASCII,
)
_INT = re.compile(r"-?[0-9]+\Z")
_VI = re.compile(r"[0-9]+\.[0-9]+\Z")
_LABEL = re.compile(r"bb[0-9]+\Z")
_HEX = re.compile(r"[0-9a-fA-F]+\Z")
_SIMPLE_ESC = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.lineno = 0
        self.toks: list[_Tok] = []
        self.pos = 0
        self.module = Module()
        self.type_names: dict[str, Type] = {}
        self.fn: Function | None = None

    # ---------------------------------------------------------------- lexing

    def error(self, message: str, col: int | None = None) -> MirParseError:
        if col is None:
            col = self.peek().col if self.toks else 1
        return MirParseError(message, self.lineno, col)

    def _string(self, line: str, start: int) -> tuple[str, int]:
        """Decode the literal starting at ``line[start] == '"'``; return (value, end)."""
        out: list[str] = []
        i = start + 1
        n = len(line)
        while i < n:
            ch = line[i]
            if ch == '"':
                return "".join(out), i + 1
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= n:
                break
            esc = line[i + 1]
            if esc in _SIMPLE_ESC:
                out.append(_SIMPLE_ESC[esc])
                i += 2
            elif esc in "uU":
                width = 4 if esc == "u" else 8
                digits = line[i + 2 : i + 2 + width]
                if len(digits) != width or not _HEX.match(digits):
                    raise MirParseError(f"bad \\{esc} escape in string", self.lineno, i + 1)
                code = int(digits, 16)
                if code > 0x10FFFF:
                    raise MirParseError("escape out of Unicode range", self.lineno, i + 1)
                out.append(chr(code))
                i += 2 + width
            else:
                raise MirParseError(f"unknown escape \\{esc} in string", self.lineno, i + 1)
        raise MirParseError("unterminated string", self.lineno, start + 1)

    def tokenize(self, line: str) -> list[_Tok]:
        toks: list[_Tok] = []
        i = 0
        n = len(line)
        while i < n:
            m = _TOKEN.match(line, i)
            if m is None:
                raise MirParseError(f"unexpected character {line[i]!r}", self.lineno, i + 1)
            kind = m.lastgroup or ""
            if kind in ("ws", "comment"):
                i = m.end()
                continue
            if kind == "str":
                value, end = self._string(line, i)
                toks.append(_Tok("str", line[i:end], i + 1, value))
                i = end
                continue
            if kind == "arrow":
                kind = "punct"
            toks.append(_Tok(kind, m.group(), i + 1))
            i = m.end()
        toks.append(_Tok("eol", "", n + 1))
        return toks

    def next_line(self) -> bool:
        """Advance to the next non-blank line; False at end of input."""
        while self.lineno < len(self.lines):
            line = self.lines[self.lineno]
            self.lineno += 1
            if line.endswith("\r"):
                line = line[:-1]
            toks = self.tokenize(line)
            if len(toks) > 1:
                self.toks = toks
                self.pos = 0
                return True
        self.toks = [_Tok("eol", "", 1)]
        self.pos = 0
        return False

    # ------------------------------------------------------------- token utils

    def peek(self, k: int = 0) -> _Tok:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def advance(self) -> _Tok:
        tok = self.peek()
        if tok.kind != "eol":
            self.pos += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok.kind in ("punct", "ident") and tok.text == text

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.pos += 1
            return True
        return False

    def expect(self, text: str) -> _Tok:
        if not self.at(text):
            raise self.error(f"expected '{text}', found {self.describe(self.peek())}")
        return self.advance()

    @staticmethod
    def describe(tok: _Tok) -> str:
        return "end of line" if tok.kind == "eol" else repr(tok.text)

    def end_line(self) -> None:
        if self.peek().kind != "eol":
            raise self.error(f"unexpected {self.describe(self.peek())} at end of line")

    def name(self, what: str) -> str:
        tok = self.peek()
        if tok.kind == "ident":
            self.pos += 1
            return tok.text
        if tok.kind == "str":
            self.pos += 1
            assert isinstance(tok.value, str)
            return tok.value
        raise self.error(f"expected {what}, found {self.describe(tok)}")

    def symbol(self, what: str) -> str:
        self.expect("@")
        return self.name(what)

    def integer(self, what: str) -> int:
        tok = self.peek()
        if tok.kind != "num" or not _INT.match(tok.text):
            raise self.error(f"expected {what}, found {self.describe(tok)}")
        self.pos += 1
        return self._int(tok)

    def _int(self, tok: _Tok) -> int:
        try:
            return int(tok.text)
        except ValueError:
            raise self.error("integer literal too long", tok.col) from None

    # ------------------------------------------------------------------ types

    def type(self, depth: int = 0) -> Type:
        if depth > _MAX_DEPTH:
            raise self.error("type nested too deeply")
        tok = self.peek()
        ty: Type
        if tok.kind == "ident":
            self.pos += 1
            if tok.text in PRIMS:
                ty = PRIMS[tok.text]
            elif tok.text == "nil":
                ty = NIL
            else:
                ty = self.type_names.get(tok.text) or StructT(tok.text)
        elif self.accept("!"):
            ty = NEVER
        elif self.accept("["):
            ty = ArrayT(self.type(depth + 1))
            self.expect("]")
        elif self.accept("("):
            if self.accept(")"):
                ty = UNIT
            else:
                elems = [self.type(depth + 1)]
                while self.accept(","):
                    elems.append(self.type(depth + 1))
                self.expect(")")
                ty = TupleT(tuple(elems))
        else:
            raise self.error(f"expected a type, found {self.describe(tok)}")
        while self.accept("?"):
            ty = OptionT(ty)
        return ty

    def type_list(self, close: str) -> list[Type]:
        types: list[Type] = []
        if self.accept(close):
            return types
        types.append(self.type())
        while self.accept(","):
            types.append(self.type())
        self.expect(close)
        return types

    # ----------------------------------------------------------------- module

    def prescan(self) -> None:
        """Collect struct and enum names so types can refer to later declarations."""
        for raw in self.lines:
            words = raw.split(None, 2)
            if len(words) >= 2 and words[0] in ("struct", "enum"):
                name = words[1].rstrip("{")
                if name and re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$.]*", name):
                    self.type_names[name] = StructT(name) if words[0] == "struct" else EnumT(name)

    def parse(self) -> Module:
        self.prescan()
        m = self.module
        seen_source = False
        while self.next_line():
            tok = self.peek()
            if tok.kind != "ident":
                raise self.error(f"expected a declaration, found {self.describe(tok)}")
            self.pos += 1
            if tok.text == "source":
                if seen_source:
                    raise self.error("duplicate 'source' line", tok.col)
                seen_source = True
                s = self.peek()
                if s.kind != "str":
                    raise self.error("expected a quoted source name")
                self.pos += 1
                assert isinstance(s.value, str)
                m.source_name = s.value
                self.end_line()
            elif tok.text == "struct":
                self.struct_decl()
            elif tok.text == "enum":
                self.enum_decl()
            elif tok.text == "global":
                name = self.symbol("a global name")
                self.expect(":")
                ty = self.type()
                self.end_line()
                if name in m.globals:
                    raise self.error(f"duplicate global @{name}", tok.col)
                m.globals[name] = Global(name, ty)
            elif tok.text in ("extern", "import"):
                self.expect("fn")
                name = self.symbol(f"an {tok.text} name")
                self.expect("(")
                params = self.type_list(")")
                self.expect("->")
                ret = self.type()
                self.end_line()
                table = m.externs if tok.text == "extern" else m.imports
                if name in table:
                    raise self.error(f"duplicate {tok.text} @{name}", tok.col)
                table[name] = Extern(name, params, ret)
            elif tok.text == "fn":
                self.function(tok)
            else:
                raise self.error(f"unknown declaration {tok.text!r}", tok.col)
        return m

    def struct_decl(self) -> None:
        col = self.peek().col
        name = self.name("a struct name")
        self.expect("{")
        fields: list[tuple[str, Type]] = []
        if not self.accept("}"):
            while True:
                fname = self.name("a field name")
                self.expect(":")
                fields.append((fname, self.type()))
                if self.accept("}"):
                    break
                self.expect(",")
        self.end_line()
        if name in self.module.structs or name in self.module.enums:
            raise self.error(f"duplicate type {name}", col)
        self.module.structs[name] = StructDef(name, tuple(fields))
        self.type_names[name] = StructT(name)

    def enum_decl(self) -> None:
        col = self.peek().col
        name = self.name("an enum name")
        self.expect("{")
        variants: list[tuple[str, tuple[Type, ...]]] = []
        if not self.accept("}"):
            while True:
                vname = self.name("a variant name")
                payload: list[Type] = []
                if self.accept("("):
                    payload = self.type_list(")")
                variants.append((vname, tuple(payload)))
                if self.accept("}"):
                    break
                self.expect(",")
        self.end_line()
        if name in self.module.structs or name in self.module.enums:
            raise self.error(f"duplicate type {name}", col)
        self.module.enums[name] = EnumDef(name, tuple(variants))
        self.type_names[name] = EnumT(name)

    def loc(self) -> Loc | None:
        if not self.accept("!"):
            return None
        line = self.integer("a line number")
        self.expect(":")
        col = self.integer("a column number")
        return Loc(line, col)

    def reg_decl(self, f: Function) -> Reg:
        tok = self.peek()
        if tok.kind != "reg":
            raise self.error(f"expected a register, found {self.describe(tok)}")
        self.pos += 1
        rid = self._int(_Tok("num", tok.text[1:], tok.col))
        if rid != len(f.regs):
            raise self.error(
                f"register %{rid} declared out of order (expected %{len(f.regs)})", tok.col
            )
        name = None if self.at(":") else self.name("a register name")
        self.expect(":")
        return f.new_reg(self.type(), name)

    def function(self, start: _Tok) -> None:
        name = self.symbol("a function name")
        if name in self.module.functions:
            raise self.error(f"duplicate function @{name}", start.col)
        f = Function(name, [], UNIT)
        self.fn = f
        self.expect("(")
        if not self.accept(")"):
            while True:
                f.params.append(self.reg_decl(f))
                if self.accept(")"):
                    break
                self.expect(",")
        self.expect("->")
        f.ret = self.type()
        f.loc = self.loc()
        self.expect("{")
        self.end_line()
        block: Block | None = None
        while True:
            if not self.next_line():
                raise MirParseError(f"unterminated function @{name}", self.lineno, 1)
            tok = self.peek()
            if self.at("}"):
                self.pos += 1
                self.end_line()
                if block is not None:
                    raise self.error(f"block bb{block.id} has no terminator", tok.col)
                break
            if tok.kind == "reg" and self.peek(1).text != "=":
                if f.blocks:
                    raise self.error("register declarations must precede the blocks")
                self.reg_decl(f)
                self.end_line()
            elif tok.kind == "ident" and _LABEL.match(tok.text) and self.peek(1).text == ":":
                if block is not None:
                    raise self.error(f"block bb{block.id} has no terminator", tok.col)
                bid = int(tok.text[2:])
                if bid != len(f.blocks):
                    raise self.error(
                        f"block label bb{bid} out of order (expected bb{len(f.blocks)})"
                    )
                self.pos += 2
                self.end_line()
                block = f.new_block()
            else:
                if block is None:
                    raise self.error("instruction outside a block (missing 'bbN:' label)")
                if tok.kind == "ident" and tok.text in TERMINATORS:
                    block.term = self.terminator()
                    block = None
                else:
                    block.instrs.append(self.instr())
        self.module.functions[name] = f
        self.fn = None

    # ----------------------------------------------------------- instructions

    def reg(self, tok: _Tok) -> Reg:
        assert self.fn is not None
        rid = self._int(_Tok("num", tok.text[1:], tok.col))
        if rid >= len(self.fn.regs):
            raise self.error(f"undeclared register %{rid}", tok.col)
        return self.fn.regs[rid]

    def const_suffix(self, value: int | float | bool | str | None, ty: Type) -> Const:
        if self.accept(":"):
            ty = self.type()
        return Const(value, ty)

    def operand(self) -> Operand:
        tok = self.peek()
        if tok.kind == "reg":
            self.pos += 1
            return self.reg(tok)
        if tok.kind == "num":
            self.pos += 1
            if _INT.match(tok.text):
                return self.const_suffix(self._int(tok), I64)
            return self.const_suffix(float(tok.text), F64)
        if tok.kind == "str":
            self.pos += 1
            assert isinstance(tok.value, str)
            return self.const_suffix(tok.value, TEXT)
        if tok.kind == "ident" and tok.text in ("true", "false"):
            self.pos += 1
            return self.const_suffix(tok.text == "true", BOOL)
        if tok.kind == "ident" and tok.text == "nil":
            self.pos += 1
            return self.const_suffix(None, NIL)
        if self.at("(") and self.peek(1).text == ")":
            self.pos += 2
            return self.const_suffix(None, UNIT)
        raise self.error(f"expected an operand, found {self.describe(tok)}")

    def operands(self) -> list[Operand]:
        args: list[Operand] = []
        if self.peek().kind == "eol" or self.at("!"):
            return args
        args.append(self.operand())
        while self.accept(","):
            args.append(self.operand())
        return args

    def paren_operands(self) -> list[Operand]:
        self.expect("(")
        args: list[Operand] = []
        if self.accept(")"):
            return args
        args.append(self.operand())
        while self.accept(","):
            args.append(self.operand())
        self.expect(")")
        return args

    def extra(self, op: str) -> Extra:
        if self.accept("#"):
            tok = self.peek()
            if self.accept(":"):
                return self.type()
            if tok.kind == "num" and _INT.match(tok.text):
                self.pos += 1
                return self._int(tok)
            if tok.kind == "num" and _VI.match(tok.text):
                self.pos += 1
                return tok.text
            if tok.kind == "str":
                self.pos += 1
                assert isinstance(tok.value, str)
                return tok.value
            raise self.error(f"expected an extra after '#', found {self.describe(tok)}")
        if op in SYMBOL_OPS and self.at("@"):
            return self.symbol("a symbol name")
        if op == "array_new" and self.at("["):
            col = self.peek().col
            ty = self.type()
            if not isinstance(ty, ArrayT):
                raise self.error("array_new needs an array type", col)
            return ty.elem
        if op == "opt_none" and self.peek().kind != "eol" and not self.at("!"):
            return self.type()
        if op in ("struct_new", "enum_new") and self.peek().kind in ("ident", "str"):
            return self.name("a type name")
        return None

    def instr(self) -> Instr:
        dst: Reg | None = None
        tok = self.peek()
        if tok.kind == "reg":
            self.pos += 1
            dst = self.reg(tok)
            self.expect("=")
        optok = self.peek()
        if optok.kind != "ident":
            raise self.error(f"expected an opcode, found {self.describe(optok)}")
        op = optok.text
        if op not in OPS:
            if op in TERMINATORS:
                raise self.error(f"terminator {op!r} cannot have a destination", optok.col)
            raise self.error(f"unknown opcode {op!r}", optok.col)
        self.pos += 1
        extra = self.extra(op)
        if op in VARIADIC_OPS:
            args = self.paren_operands()
        else:
            if (
                op in SYMBOL_OPS
                and extra is not None
                and self.peek().kind != "eol"
                and not self.at("!")
            ):
                self.expect(",")
            args = self.operands()
        loc = self.loc()
        self.end_line()
        return Instr(op, dst, args, extra, loc)

    def terminator(self) -> Term:
        op = self.advance().text
        args: list[Operand] = []
        targets: list[int] = []
        if self.peek().kind != "eol" and not self.at("!"):
            while True:
                tok = self.peek()
                if tok.kind == "ident" and _LABEL.match(tok.text):
                    self.pos += 1
                    targets.append(self._int(_Tok("num", tok.text[2:], tok.col)))
                elif targets:
                    raise self.error("operands must precede block targets")
                else:
                    args.append(self.operand())
                if not self.accept(","):
                    break
        loc = self.loc()
        self.end_line()
        return Term(op, args, targets, loc)


def parse_module(text: str) -> Module:
    """Parse MIR text (as written by ``print_module``) into a ``Module``."""
    return _Parser(text).parse()
