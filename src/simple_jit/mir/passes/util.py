"""Small CFG and def/use analyses shared by the MIR passes.

Registers are not SSA: ``def_counts`` tells which registers have exactly one
static definition (lowering temporaries), for which a value known at the
definition holds at every use (each use is dominated by a definition), and
``remove_unreachable`` keeps the block-id == index invariant.
"""

from __future__ import annotations

from simple_jit.mir.ir import Block, Function, Reg


def def_counts(f: Function) -> list[int]:
    """Number of instructions defining each register (parameters count once)."""
    counts = [0] * len(f.regs)
    for p in f.params:
        counts[p.id] += 1
    for b in f.blocks:
        for ins in b.instrs:
            if ins.dst is not None:
                counts[ins.dst.id] += 1
    return counts


def use_counts(f: Function) -> list[int]:
    """Number of operand reads of each register (instructions and terminators)."""
    counts = [0] * len(f.regs)
    for b in f.blocks:
        for ins in b.instrs:
            for a in ins.args:
                if isinstance(a, Reg):
                    counts[a.id] += 1
        for a in b.term.args:
            if isinstance(a, Reg):
                counts[a.id] += 1
    return counts


def instr_count(f: Function) -> int:
    """Instructions plus terminators: the size measure used by the inliner."""
    return sum(len(b.instrs) + 1 for b in f.blocks)


def predecessor_counts(f: Function) -> list[int]:
    """Number of CFG edges into each block (a ``br`` to X, X counts twice)."""
    preds = [0] * len(f.blocks)
    for b in f.blocks:
        for t in b.term.targets:
            preds[t] += 1
    return preds


def remove_unreachable(f: Function) -> bool:
    """Drop blocks unreachable from the entry and renumber the rest in order."""
    if not f.blocks:
        return False
    seen = [False] * len(f.blocks)
    seen[0] = True
    stack = [0]
    while stack:
        for t in f.blocks[stack.pop()].term.targets:
            if not seen[t]:
                seen[t] = True
                stack.append(t)
    if all(seen):
        return False
    new_id: list[int] = [-1] * len(f.blocks)
    kept: list[Block] = []
    for b in f.blocks:
        if seen[b.id]:
            new_id[b.id] = len(kept)
            kept.append(b)
    for b in kept:
        b.id = new_id[b.id]
        b.term.targets = [new_id[t] for t in b.term.targets]
    f.blocks = kept
    return True
