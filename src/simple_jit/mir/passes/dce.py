"""Dead code elimination.

Removes instructions whose op is pure and cannot fail (``OPS[op].pure and not
OPS[op].can_fail``) and whose destination register is never read by anything
that is kept: liveness is marked from effectful instructions and terminators
back through the operands of pure definitions, so dead cycles such as
``x = iadd x, 1`` go too (linear in the function size).  Within a block, a
removable definition overwritten before any read is dropped as well (a dead
store to a multiply-assigned variable).  Ops that can fail
(``idiv``, ``irem``, ``ipow``, ...) are kept even when unused: their runtime
error is observable.  Registers are not renumbered.
"""

from __future__ import annotations

from simple_jit.mir.ir import OPS, Function, Instr, Module, Operand, Reg
from simple_jit.mir.passes.manager import FunctionPass

__all__ = ["DeadCodeElim", "removable"]


def removable(ins: Instr) -> bool:
    info = OPS.get(ins.op)
    return info is not None and info.pure and not info.can_fail and ins.dst is not None


class DeadCodeElim(FunctionPass):
    """Delete unused pure computations."""

    name = "dce"

    def run_function(self, f: Function, module: Module) -> bool:
        # Mark: registers read by kept instructions or terminators are live, and
        # so are the operands of every removable definition of a live register.
        # (A counting worklist would miss cycles such as ``x = iadd x, 1``.)
        live = [False] * len(f.regs)
        work: list[int] = []
        defs: dict[int, list[Instr]] = {}

        def mark(args: list[Operand]) -> None:
            for a in args:
                if isinstance(a, Reg) and not live[a.id]:
                    live[a.id] = True
                    work.append(a.id)

        for b in f.blocks:
            for ins in b.instrs:
                if ins.dst is not None and removable(ins):
                    defs.setdefault(ins.dst.id, []).append(ins)
                else:
                    mark(ins.args)
            mark(b.term.args)
        while work:
            for ins in defs.get(work.pop(), ()):
                mark(ins.args)
        changed = False
        for b in f.blocks:
            kept = [i for i in b.instrs if i.dst is None or live[i.dst.id] or not removable(i)]
            changed |= _dead_stores(kept)
            if len(kept) != len(b.instrs):
                b.instrs[:] = kept
                changed = True
        return changed


def _dead_stores(instrs: list[Instr]) -> bool:
    """Drop removable definitions overwritten later in the block before any read."""
    overwritten: set[int] = set()
    drop: list[int] = []
    for k in range(len(instrs) - 1, -1, -1):
        ins = instrs[k]
        if ins.dst is not None:
            if ins.dst.id in overwritten and removable(ins):
                drop.append(k)
                continue
            overwritten.add(ins.dst.id)
        for a in ins.args:
            if isinstance(a, Reg):
                overwritten.discard(a.id)
    for k in drop:  # descending indices
        del instrs[k]
    return bool(drop)
