"""Constant propagation and folding.

Within a block, a register assigned a constant stands for that constant until
it is reassigned; across blocks only registers with exactly one definition
(lowering temporaries) are propagated, because every use of such a register is
dominated by its definition.  An instruction whose operands are all constants
is evaluated with ``simple_jit.semantics.eval_pure`` -- the interpreter's own
semantics -- and becomes ``copy CONST``; when evaluation fails at run time
(``OpError``: division by zero, negative exponent) the instruction is left
for run time so the error is still reported at its location.  Also:

* ``select`` on a constant condition becomes a ``copy`` of the chosen arm;
* i64 identities exact under wrapping: ``x+0``, ``0+x``, ``x-0``, ``x*1``,
  ``1*x``, ``x/1``, ``x|0``, ``x^0``, ``x<<0``, ``x>>0`` become ``copy x``
  (never for f64, where ``-0.0`` and NaN make them wrong);
* ``br`` on a constant condition becomes ``jump``.

Folded texts longer than ``MAX_TEXT`` characters (``trepeat``...) are not
materialised, to keep the IR and compile time small.
"""

from __future__ import annotations

from simple_jit import semantics
from simple_jit.mir.ir import OPS, Const, Function, Instr, Module, Operand, Reg, Term
from simple_jit.mir.passes.manager import FunctionPass
from simple_jit.mir.passes.util import def_counts
from simple_jit.mir.verify import const_fits
from simple_jit.types import I64

__all__ = ["MAX_TEXT", "ConstFold", "fold_instr"]

MAX_TEXT = 256

# op -> (identity value of the right operand, whether the left one works too)
_IDENTITIES: dict[str, tuple[int, bool]] = {
    "iadd": (0, True),
    "isub": (0, False),
    "imul": (1, True),
    "idiv": (1, False),
    "ior": (0, True),
    "ixor": (0, True),
    "ishl": (0, False),
    "ishr": (0, False),
}


def _is_i64(a: Operand, value: int) -> bool:
    return isinstance(a, Const) and type(a.value) is int and a.value == value and a.ty == I64


def fold_instr(ins: Instr) -> Operand | None:
    """The constant or register ``ins`` computes, when known at compile time."""
    op = ins.op
    info = OPS.get(op)
    if info is None or not info.pure or ins.dst is None:
        return None
    args = ins.args
    if op == "copy":
        return args[0] if len(args) == 1 else None
    if op == "select" and len(args) == 3 and isinstance(args[0], Const):
        if isinstance(args[0].value, bool):
            return args[1] if args[0].value else args[2]
        return None
    ident = _IDENTITIES.get(op)
    if ident is not None and len(args) == 2:
        value, commutative = ident
        if _is_i64(args[1], value):
            return args[0]
        if commutative and _is_i64(args[0], value):
            return args[1]
    if not all(isinstance(a, Const) for a in args) or op not in semantics.PURE_OPS:
        return None
    values: list[object] = [a.value for a in args if isinstance(a, Const)]
    extra: object = ins.extra
    if op == "totext":
        extra = args[0].ty
    try:
        result = semantics.eval_pure(op, values, extra)
    except semantics.OpError:
        return None  # fails at run time: keep it there, with its location
    except Exception:  # not foldable (aggregates, unexpected operands)
        return None
    if isinstance(result, str) and len(result) > MAX_TEXT:
        return None
    if result is not None and not isinstance(result, int | float | str):
        return None
    c = Const(result, ins.dst.ty)
    return c if const_fits(c) else None


def _subst(args: list[Operand], env: dict[int, Const], glob: dict[int, Const]) -> bool:
    changed = False
    for k, a in enumerate(args):
        if isinstance(a, Reg):
            c = env.get(a.id) or glob.get(a.id)
            if c is not None:
                args[k] = c
                changed = True
    return changed


class ConstFold(FunctionPass):
    """Propagate constants and fold pure operations on them."""

    name = "constfold"

    def run_function(self, f: Function, module: Module) -> bool:
        defs = def_counts(f)
        params = {p.id for p in f.params}
        single = [n == 1 and i not in params for i, n in enumerate(defs)]
        glob: dict[int, Const] = {}
        # Seed the cross-block map with single definitions that are constant copies.
        for b in f.blocks:
            for ins in b.instrs:
                if (
                    ins.op == "copy"
                    and ins.dst is not None
                    and single[ins.dst.id]
                    and isinstance(ins.args[0], Const)
                ):
                    glob[ins.dst.id] = ins.args[0]
        changed = False
        for b in f.blocks:
            env: dict[int, Const] = {}
            for k, ins in enumerate(b.instrs):
                changed |= _subst(ins.args, env, glob)
                dst = ins.dst
                if dst is None:
                    continue
                result = fold_instr(ins)
                if result is not None and ins.op != "copy":
                    b.instrs[k] = Instr("copy", dst, [result], None, ins.loc)
                    changed = True
                if isinstance(result, Const):
                    env[dst.id] = result
                    if single[dst.id]:
                        glob[dst.id] = result
                else:
                    env.pop(dst.id, None)
            changed |= _subst(b.term.args, env, glob)
            t = b.term
            if t.op == "br" and len(t.args) == 1 and isinstance(t.args[0], Const):
                cond = t.args[0].value
                if isinstance(cond, bool) and len(t.targets) == 2:
                    target = t.targets[0] if cond else t.targets[1]
                    b.term = Term("jump", [], [target], t.loc)
                    changed = True
        return changed
