"""Inlining of small, non-recursive functions.

A ``call @g(args)`` is replaced by a copy of ``g``'s body when ``g`` is a
function of the module (not an extern), is not part of a recursive cycle of
the call graph, and has at most ``threshold`` instructions (terminators
included).  Functions are processed callees first, so a callee's own small
calls are already inlined when it is copied; the copied blocks are not
scanned again, and each caller may grow by at most ``growth`` instructions.

The call block is split at the call: its prefix copies the arguments into
fresh registers standing for ``g``'s parameters and jumps to the copy of
``g``'s entry; every ``ret v`` becomes ``dst = copy v; jump CONT`` where
``CONT`` holds the rest of the original block.  Copied instructions keep
their own locations, so a runtime error inside the inlined body still reports
the position in ``g``'s source.  The callee function itself is kept (it may be
called from outside, e.g. through the embedding API).
"""

from __future__ import annotations

from simple_jit.mir.callgraph import strongly_connected
from simple_jit.mir.ir import Block, Const, Function, Instr, Module, Operand, Reg, Term
from simple_jit.mir.passes.util import instr_count
from simple_jit.types import UNIT

__all__ = ["Inline", "InlineSelf", "recursive_functions"]


def _postorder_and_recursive(module: Module) -> tuple[list[str], set[str]]:
    """Functions callees-first, and the names on a call-graph cycle."""
    order, cycles = strongly_connected(module)
    return order, {name for name, members in cycles.items() if members}


def recursive_functions(module: Module) -> set[str]:
    """Names of the functions that can (directly or not) call themselves."""
    return _postorder_and_recursive(module)[1]


class Inline:
    """Inline calls to small non-recursive functions."""

    name = "inline"

    def __init__(self, threshold: int = 40, growth: int = 2000) -> None:
        self.threshold = threshold
        self.growth = growth

    def run(self, module: Module) -> bool:
        order, recursive = _postorder_and_recursive(module)
        changed = False
        for name in order:
            f = module.functions[name]
            if f.blocks:
                changed |= self._inline_into(f, module, recursive)
        return changed

    def _candidate(
        self, ins: Instr, f: Function, module: Module, recursive: set[str]
    ) -> Function | None:
        if ins.op != "call" or not isinstance(ins.extra, str):
            return None
        g = module.functions.get(ins.extra)
        if g is None or g is f or g.name in recursive or not g.blocks:
            return None
        if len(ins.args) != len(g.params) or instr_count(g) > self.threshold:
            return None
        return g

    def _inline_into(self, f: Function, module: Module, recursive: set[str]) -> bool:
        budget = self.growth
        changed = False
        bi = 0
        n_original = len(f.blocks)
        scan = list(range(n_original))  # blocks to scan (original ones and continuations)
        while bi < len(scan):
            b = f.blocks[scan[bi]]
            bi += 1
            for k, ins in enumerate(b.instrs):
                g = self._candidate(ins, f, module, recursive)
                if g is None:
                    continue
                size = instr_count(g)
                if size > budget:
                    continue
                budget -= size
                cont = self._splice(f, b, k, ins, g)
                scan.append(cont.id)
                changed = True
                break
        return changed

    def _splice(self, f: Function, b: Block, k: int, call: Instr, g: Function) -> Block:
        """Inline ``call`` (``b.instrs[k]``) of ``g``; return the continuation block."""
        rmap: list[Reg] = [f.new_reg(r.ty, r.name) for r in g.regs]
        base = len(f.blocks)

        def op(a: Operand) -> Operand:
            return rmap[a.id] if isinstance(a, Reg) else a

        # Continuation: the rest of b.
        cont_id = base + len(g.blocks)
        rest = b.instrs[k + 1 :]
        prefix = b.instrs[:k]
        for p, a in zip(g.params, call.args, strict=True):
            prefix.append(Instr("copy", rmap[p.id], [a], None, call.loc))
        old_term = b.term
        b.instrs = prefix
        b.term = Term("jump", [], [base], call.loc)
        for gb in g.blocks:
            nb = Block(base + gb.id)
            nb.instrs = [
                Instr(
                    i.op,
                    rmap[i.dst.id] if i.dst is not None else None,
                    [op(a) for a in i.args],
                    i.extra,
                    i.loc,
                )
                for i in gb.instrs
            ]
            t = gb.term
            if t.op == "ret":
                if call.dst is not None:
                    value: Operand = op(t.args[0]) if t.args else Const(None, UNIT)
                    nb.instrs.append(Instr("copy", call.dst, [value], None, t.loc))
                nb.term = Term("jump", [], [cont_id], t.loc)
            else:
                nb.term = Term(t.op, [op(a) for a in t.args], [base + x for x in t.targets], t.loc)
            f.blocks.append(nb)
        cont = Block(cont_id, rest, old_term)
        f.blocks.append(cont)
        return cont


class InlineSelf:
    """Inline a small self-recursive function into itself, once per call site.

    Each direct self-call in the original body is replaced by a copy of that
    original body (whose own self-calls stay calls), so the function does
    the work of two levels of recursion per call: fewer calls, and the two
    levels optimise together (what gcc's recursive inlining does for
    ``fib``).  Recursion is still recursion: unbounded recursion still ends in
    the stack-overflow error, and copied instructions keep their locations.
    """

    name = "inline-self"

    def __init__(self, threshold: int = 30, max_calls: int = 2) -> None:
        self.threshold = threshold
        self.max_calls = max_calls

    def run(self, module: Module) -> bool:
        changed = False
        for f in module.functions.values():
            if not f.blocks or instr_count(f) > self.threshold:
                continue
            sites = [
                (b.id, k)
                for b in f.blocks
                for k, ins in enumerate(b.instrs)
                if ins.op == "call" and ins.extra == f.name and len(ins.args) == len(f.params)
            ]
            if not sites or len(sites) > self.max_calls:
                continue
            snapshot = _snapshot(f)
            splicer = Inline()
            # Splice from the last site backwards: a splice moves the rest of its
            # block into a new continuation block, so earlier sites stay put.
            for bid, k in reversed(sites):
                b = f.blocks[bid]
                splicer._splice(f, b, k, b.instrs[k], snapshot)
            changed = True
        return changed


def _snapshot(f: Function) -> Function:
    """A copy of ``f``'s blocks (sharing registers) that later edits of ``f`` do not touch."""
    g = Function(f.name, list(f.params), f.ret, f.loc)
    g.regs = list(f.regs)
    for b in f.blocks:
        g.blocks.append(
            Block(
                b.id,
                list(b.instrs),
                Term(b.term.op, list(b.term.args), list(b.term.targets), b.term.loc),
            )
        )
    return g
