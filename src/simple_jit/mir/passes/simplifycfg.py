"""Control-flow simplification.

* ``br c, X, X`` and ``br CONST, X, Y`` become ``jump``;
* jumps are threaded through empty blocks that only ``jump`` on;
* a ``jump`` to an empty block ending in ``ret``/``unreachable`` takes that
  terminator over;
* a block whose unique predecessor ends in ``jump`` to it is merged into
  that predecessor;
* unreachable blocks are removed and the rest renumbered (ids == indices).
"""

from __future__ import annotations

from simple_jit.mir.ir import Const, Function, Module, Term
from simple_jit.mir.passes.manager import FunctionPass
from simple_jit.mir.passes.util import predecessor_counts, remove_unreachable

__all__ = ["SimplifyCfg"]


class SimplifyCfg(FunctionPass):
    """Fold trivial branches, thread jumps, merge straight-line blocks."""

    name = "simplifycfg"

    def run_function(self, f: Function, module: Module) -> bool:
        changed = False
        blocks = f.blocks
        for b in blocks:
            t = b.term
            if t.op != "br" or len(t.targets) != 2:
                continue
            cond = t.args[0] if t.args else None
            if t.targets[0] == t.targets[1]:
                b.term = Term("jump", [], [t.targets[0]], t.loc)
                changed = True
            elif isinstance(cond, Const) and isinstance(cond.value, bool):
                b.term = Term("jump", [], [t.targets[0 if cond.value else 1]], t.loc)
                changed = True

        # Thread through empty forwarding blocks (not the entry: it has no label to skip).
        forward: list[int] = list(range(len(blocks)))
        for b in blocks:
            if b.id != 0 and not b.instrs and b.term.op == "jump":
                forward[b.id] = b.term.targets[0]

        def final(x: int) -> int:
            steps = 0
            while forward[x] != x and steps < len(blocks):
                x = forward[x]
                steps += 1
            return x

        for b in blocks:
            new = [final(t) for t in b.term.targets]
            if new != b.term.targets:
                b.term.targets = new
                changed = True
            t = b.term
            if t.op == "jump":
                tgt = blocks[t.targets[0]]
                if tgt is not b and not tgt.instrs and tgt.term.op in ("ret", "unreachable"):
                    b.term = Term(tgt.term.op, list(tgt.term.args), [], tgt.term.loc)
                    changed = True

        # Merge a block into its unique predecessor ending in a jump to it.
        preds = predecessor_counts(f)
        merged = [False] * len(blocks)
        for b in blocks:
            if merged[b.id]:
                continue
            while b.term.op == "jump":
                s = b.term.targets[0]
                if s == b.id or s == 0 or preds[s] != 1 or merged[s]:
                    break
                succ = blocks[s]
                b.instrs.extend(succ.instrs)
                b.term = succ.term
                succ.instrs = []
                succ.term = Term("unreachable", [], [])
                merged[s] = True
                preds[s] = 0
                changed = True
        changed |= remove_unreachable(f)
        return changed
