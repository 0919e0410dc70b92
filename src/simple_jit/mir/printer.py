"""The MIR text form: a readable, exactly re-parseable rendering of modules.

``print_module`` and ``print_function`` produce the text that
``simple_jit.mir.parser.parse_module`` reads back; for every module ``m``,
``print_module(parse_module(print_module(m))) == print_module(m)``.  The
syntax (one declaration or instruction per line, ``;`` starts a comment)::

    source "prog.spl"
    struct Point { x: i64, y: i64 }
    enum Shape { Circle(f64), Rect(f64, f64), Empty }
    global @calls: i64
    extern fn @c_abs(i64) -> i64
    import fn @helper(i64) -> i64      ; defined by an earlier unit

    fn @steps(%0 start: i64) -> i64 !1:1 {
        %1 n: i64
        %2: bool
    bb0:
        %1 = copy %0
        %2 = ine %1, 1
        br %2, bb1, bb2
    bb1:
        %1 = idiv %1, 2 !5:21
        %3 = call @"add<i64, f64>"(%1, 2.0) !6:9
        jump bb2
    bb2:
        ret %1
    }

Names (functions, globals, externs, registers, fields, variants) print bare
when they are identifiers and JSON-style quoted otherwise.  Constants:
``12``/``-3`` (i64), ``1.5``/``1e+16``/``inf``/``-inf``/``nan``/``-0.0`` (f64,
Python ``repr``), ``true``/``false``, ``"text"`` (escapes ``\\" \\\\ \\n \\t \\r
\\uXXXX \\UXXXXXXXX``), ``()`` (unit) and ``nil:T`` (the empty option of
type ``T``); a constant whose type is not the natural type of its value is
written ``VALUE:TYPE``.  Op-specific extras follow the op name:
``call @f(args)``, ``callext @sym(args)``, ``gload @g``, ``gstore @g, v``,
``array_new [T] (args)`` (the array type), ``opt_none T?``,
``struct_new Point (args)``, ``enum_new Shape.Circle (args)``,
``tuple_new (args)``, ``field_get #0 %1``, ``field_set #0 %1, %2``,
``tuple_get #1 %1``, ``enum_field #1.0 %1``.  Any other extra is printed in a
generic ``#N`` / ``#"str"`` / ``#:TYPE`` form.  A location prints as a
`` !LINE:COL`` suffix on instructions, terminators and function headers.
"""

from __future__ import annotations

import re

from simple_jit.mir.ir import OPS, Block, Const, Extra, Function, Instr, Module, Operand, Reg, Term
from simple_jit.types import BOOL, F64, I64, TEXT, UNIT, Type

__all__ = [
    "SYMBOL_OPS",
    "print_const",
    "print_function",
    "print_instr",
    "print_module",
    "print_name",
    "print_operand",
    "print_term",
    "quote",
]

_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.]*\Z")
_RESERVED = frozenset({"inf", "nan", "true", "false", "nil"})
_BLOCK_LABEL = re.compile(r"bb[0-9]+\Z")
_VI = re.compile(r"[0-9]+\.[0-9]+\Z")

# Ops whose extra is a symbol name, printed as ``@name``.
SYMBOL_OPS = frozenset({"call", "callext", "gload", "gstore"})
# Ops whose arguments are a parenthesised, variable-length list.
VARIADIC_OPS = frozenset(name for name, info in OPS.items() if info.args is None)

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote(text: str) -> str:
    """A double-quoted literal of ``text`` (printable characters kept as is)."""
    out = ['"']
    for ch in text:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def is_plain_name(name: str) -> bool:
    return bool(_IDENT.match(name)) and name not in _RESERVED and not _BLOCK_LABEL.match(name)


def print_name(name: str) -> str:
    """A name bare when it is an identifier, quoted otherwise."""
    return name if is_plain_name(name) else quote(name)


def _natural_type(value: object) -> Type | None:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return I64
    if isinstance(value, float):
        return F64
    if isinstance(value, str):
        return TEXT
    if value is None:
        return UNIT
    return None


def print_const(c: Const) -> str:
    v = c.value
    if v is None:
        return "()" if c.ty == UNIT else f"nil:{c.ty}"
    if isinstance(v, bool):
        text = "true" if v else "false"
    elif isinstance(v, int | float):
        text = repr(v)
    else:
        text = quote(v)
    if _natural_type(v) != c.ty:
        text += f":{c.ty}"
    return text


def print_operand(a: Operand) -> str:
    if isinstance(a, Reg):
        return f"%{a.id}"
    return print_const(a)


def _loc(loc: object) -> str:
    return f" !{loc}" if loc is not None else ""


def _extra(op: str, extra: Extra) -> str:
    """The extra's text with a leading space, or ``""``."""
    if extra is None:
        return ""
    if op in SYMBOL_OPS and isinstance(extra, str):
        return f" @{print_name(extra)}"
    if op == "array_new" and isinstance(extra, Type):
        return f" [{extra}]"
    if op == "opt_none" and isinstance(extra, Type):
        return f" {extra}"
    if op in ("struct_new", "enum_new") and isinstance(extra, str):
        return f" {print_name(extra)}"
    if isinstance(extra, bool):  # not a valid extra; keep it readable
        return f" #{int(extra)}"
    if isinstance(extra, int):
        return f" #{extra}"
    if isinstance(extra, str):
        return f" #{extra}" if _VI.match(extra) else f" #{quote(extra)}"
    return f" #:{extra}"


def print_instr(ins: Instr) -> str:
    head = f"%{ins.dst.id} = {ins.op}" if ins.dst is not None else ins.op
    head += _extra(ins.op, ins.extra)
    args = ", ".join(print_operand(a) for a in ins.args)
    if ins.op in VARIADIC_OPS:
        sep = "" if ins.op in SYMBOL_OPS and ins.extra is not None else " "
        head += f"{sep}({args})"
    elif args:
        head += ("," if ins.op in SYMBOL_OPS and ins.extra is not None else "") + " " + args
    return head + _loc(ins.loc)


def print_term(t: Term) -> str:
    parts = [print_operand(a) for a in t.args] + [f"bb{b}" for b in t.targets]
    text = t.op + (" " + ", ".join(parts) if parts else "")
    return text + _loc(t.loc)


def _reg_decl(r: Reg) -> str:
    name = f" {print_name(r.name)}" if r.name is not None else ""
    return f"%{r.id}{name}: {r.ty}"


def _block(b: Block, out: list[str]) -> None:
    out.append(f"bb{b.id}:")
    for ins in b.instrs:
        out.append("    " + print_instr(ins))
    out.append("    " + print_term(b.term))


def print_function(f: Function) -> str:
    params = ", ".join(_reg_decl(p) for p in f.params)
    out = [f"fn @{print_name(f.name)}({params}) -> {f.ret}{_loc(f.loc)} {{"]
    n = len(f.params)
    for r in f.regs[n:]:
        out.append("    " + _reg_decl(r))
    for b in f.blocks:
        _block(b, out)
    out.append("}")
    return "\n".join(out) + "\n"


def print_module(m: Module) -> str:
    out = [f"source {quote(m.source_name)}"]
    for s in m.structs.values():
        fields = ", ".join(f"{print_name(n)}: {t}" for n, t in s.fields)
        out.append(
            f"struct {print_name(s.name)} {{ {fields} }}"
            if fields
            else f"struct {print_name(s.name)} {{}}"
        )
    for e in m.enums.values():
        variants = ", ".join(
            print_name(v) + ("(" + ", ".join(str(t) for t in ts) + ")" if ts else "")
            for v, ts in e.variants
        )
        out.append(
            f"enum {print_name(e.name)} {{ {variants} }}"
            if variants
            else f"enum {print_name(e.name)} {{}}"
        )
    for g in m.globals.values():
        out.append(f"global @{print_name(g.name)}: {g.ty}")
    for kind, table in (("extern", m.externs), ("import", m.imports)):
        for x in table.values():
            params = ", ".join(str(t) for t in x.params)
            out.append(f"{kind} fn @{print_name(x.name)}({params}) -> {x.ret}")
    text = "\n".join(out) + "\n"
    for f in m.functions.values():
        text += "\n" + print_function(f)
    return text
