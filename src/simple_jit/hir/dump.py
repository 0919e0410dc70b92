"""A readable, stable text form of HIR, for ``--emit hir`` and golden tests."""

from __future__ import annotations

from simple_jit.hir import nodes as h


def dump_program(prog: h.HProgram) -> str:
    out: list[str] = []
    for name, ty in prog.globals.items():
        out.append(f"global {name}: {ty}")
    for name, (ptypes, ret) in prog.externs.items():
        out.append(f"extern fn {name}({', '.join(map(str, ptypes))}) -> {ret}")
    for fn in prog.functions.values():
        params = ", ".join(f"{_var(p)}: {p.ty}" for p in fn.params)
        out.append(f"fn {fn.name}({params}) -> {fn.ret}:")
        _block(fn.body, 1, out)
    return "\n".join(out) + "\n"


def _var(v: h.LocalVar) -> str:
    return f"{v.name}#{v.id}"


def _block(b: h.HBlock, depth: int, out: list[str]) -> None:
    pad = "    " * depth
    if not b.stmts and b.value is None:
        out.append(pad + "pass")
    for s in b.stmts:
        _stmt(s, depth, out)
    if b.value is not None:
        out.append(pad + "value " + _expr(b.value, depth))


def _stmt(s: h.HStmt, depth: int, out: list[str]) -> None:
    pad = "    " * depth
    if isinstance(s, h.HLet):
        out.append(f"{pad}{_var(s.var)}: {s.var.ty} = {_expr(s.value, depth)}")
    elif isinstance(s, h.HSetGlobal):
        out.append(f"{pad}global {s.name} = {_expr(s.value, depth)}")
    elif isinstance(s, h.HPrint):
        out.append(f"{pad}print {_expr(s.value, depth)}")
    elif isinstance(s, h.HExprStmt):
        out.append(pad + _expr(s.expr, depth))
    elif isinstance(s, h.HWhile):
        cond = "true" if s.cond is None else _expr(s.cond, depth)
        out.append(f"{pad}while {cond}:")
        _block(s.body, depth + 1, out)
        if s.step:
            out.append(f"{pad}step:")
            for st in s.step:
                _stmt(st, depth + 1, out)
    elif isinstance(s, h.HBreak):
        out.append(pad + "break")
    elif isinstance(s, h.HContinue):
        out.append(pad + "continue")
    elif isinstance(s, h.HReturn):
        out.append(pad + "return" + ("" if s.value is None else " " + _expr(s.value, depth)))


def _expr(e: h.HExpr, depth: int) -> str:
    if isinstance(e, h.HConst):
        return f"{e.value!r}:{e.ty}"
    if isinstance(e, h.HLocal):
        return _var(e.var)
    if isinstance(e, h.HGlobal):
        return f"global {e.name}"
    if isinstance(e, h.HOp):
        return f"{e.op}({', '.join(_expr(a, depth) for a in e.args)})"
    if isinstance(e, h.HLogic):
        word = "and" if e.is_and else "or"
        return f"({_expr(e.left, depth)} {word} {_expr(e.right, depth)})"
    if isinstance(e, h.HCall):
        return f"call {e.func}({', '.join(_expr(a, depth) for a in e.args)}): {e.ty}"
    if isinstance(e, h.HIf | h.HBlock):
        lines: list[str] = []
        if isinstance(e, h.HIf):
            lines.append(f"if {_expr(e.cond, depth)}: {e.ty}")
            _block(e.then, depth + 1, lines)
            if e.else_ is not None:
                lines.append("    " * depth + "else:")
                _block(e.else_, depth + 1, lines)
        else:
            lines.append(f"block: {e.ty}")
            _block(e, depth + 1, lines)
        return "\n".join(lines)
    return f"<{type(e).__name__}>"
