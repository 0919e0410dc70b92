"""Copy propagation: reads of ``d`` after ``d = copy s`` read ``s`` instead.

Registers are not SSA, so a copy is forwarded block-locally until either side
is reassigned; across blocks only when ``d`` has exactly one definition and
``s`` is a constant, a parameter never reassigned, or a register with exactly
one definition (then ``s`` cannot change between ``d``'s definition and any
use of ``d``, since every use is dominated by a definition).  Chains of copies
are followed.  Self copies ``x = copy x`` are removed.
"""

from __future__ import annotations

from simple_jit.mir.ir import Const, Function, Instr, Module, Operand, Reg
from simple_jit.mir.passes.manager import FunctionPass
from simple_jit.mir.passes.util import def_counts

__all__ = ["CopyProp"]


class CopyProp(FunctionPass):
    """Forward copies to their uses."""

    name = "copyprop"

    def run_function(self, f: Function, module: Module) -> bool:
        defs = def_counts(f)
        params = {p.id for p in f.params}
        # A register is "stable" when its value never changes after its single
        # definition (a parameter never reassigned counts).
        stable = [n == 1 for n in defs]
        glob: dict[int, Operand] = {}
        for b in f.blocks:
            for ins in b.instrs:
                d = ins.dst
                if ins.op != "copy" or d is None or len(ins.args) != 1:
                    continue
                src = ins.args[0]
                if d.id in params or not stable[d.id]:
                    continue
                if isinstance(src, Const) or (stable[src.id] and src.id != d.id):
                    glob[d.id] = src

        def resolve(a: Operand, env: dict[int, Operand]) -> Operand:
            seen = 0
            while isinstance(a, Reg) and seen < 16:
                nxt = env.get(a.id) or glob.get(a.id)
                if nxt is None:
                    break
                a = nxt
                seen += 1
            return a

        changed = False
        for b in f.blocks:
            env: dict[int, Operand] = {}
            readers: dict[int, list[int]] = {}  # source reg -> copies forwarding it
            kept: list[Instr] = []
            for ins in b.instrs:
                for k, a in enumerate(ins.args):
                    if isinstance(a, Reg):
                        r = resolve(a, env)
                        if r is not a:
                            ins.args[k] = r
                            changed = True
                d = ins.dst
                if d is not None:
                    # d changes: forget what d stood for and what stood for d.
                    env.pop(d.id, None)
                    for dep in readers.pop(d.id, ()):
                        cur = env.get(dep)
                        if isinstance(cur, Reg) and cur.id == d.id:
                            del env[dep]
                    if ins.op == "copy" and len(ins.args) == 1:
                        src = ins.args[0]
                        if isinstance(src, Reg) and src.id == d.id:
                            changed = True
                            continue  # x = copy x
                        env[d.id] = src
                        if isinstance(src, Reg):
                            readers.setdefault(src.id, []).append(d.id)
                kept.append(ins)
            b.instrs[:] = kept
            for k, a in enumerate(b.term.args):
                if isinstance(a, Reg):
                    r = resolve(a, env)
                    if r is not a:
                        b.term.args[k] = r
                        changed = True
        return changed
