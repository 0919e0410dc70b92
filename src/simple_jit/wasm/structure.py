"""Structured control flow from a MIR control-flow graph.

WebAssembly has no ``goto``: a function body is nested ``block``/``loop``/
``if`` constructs and ``br N`` leaves the N-th enclosing one (to its end for
``block``/``if``, to its start for ``loop``).  ``structure`` turns the CFG of
a MIR function into such a nest with the algorithm of Norman Ramsey's
"Beyond Relooper" (ICFP 2022), which is sound for every *reducible* graph:

* blocks are numbered in reverse postorder (RPO) and the dominator tree is
  computed (Cooper, Harvey and Kennedy's iterative algorithm);
* an edge ``u -> v`` with ``rpo(v) <= rpo(u)`` is a back edge; its target is
  a *loop header* and is emitted as ``loop``; a back edge becomes ``br`` to
  that ``loop``;
* a block with two or more forward predecessors is a *merge node*; the merge
  nodes a block ``x`` immediately dominates are placed right after ``block``
  constructs wrapped around ``x``'s code (the one with the highest RPO
  number outermost), and forward edges to them are ``br`` out of those
  blocks;
* any other successor has ``x`` as its only forward predecessor and is
  emitted inline, where the branch is.

A graph is reducible when every back edge's target dominates its source;
MIR lowered from Simple source always is, and the passes keep it so.  For
anything else, ``structure`` falls back to a dispatch loop (a ``label``
local and ``br_table`` inside ``loop``), which is sound for any graph.

The output is driven through an ``Emitter`` (the code generator), and the
traversal keeps an explicit work stack: no Python recursion proportional to
the size of the function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from simple_jit.mir.ir import Function


class Emitter(Protocol):
    def body(self, bid: int) -> None:
        """The block's instructions (not its terminator)."""

    def cond(self, bid: int) -> None:
        """Push the ``br`` terminator's condition (an i32)."""

    def ret(self, bid: int) -> None:
        """The ``ret`` terminator: return from the function."""

    def op(self, name: str, imm: object = None) -> None:
        """A structural instruction: block, loop, if, else, end, br, br_table, unreachable,
        and local.get/local.set/i32.const on the dispatch label."""

    def label_local(self) -> int:
        """A fresh i32 local for the dispatch fallback."""

    def loop_header(self, bid: int) -> None:
        """Called just before the ``loop`` that block ``bid`` heads is opened
        (the engine's interruption check sits on the ``loop`` itself)."""


def successors(f: Function, bid: int) -> list[int]:
    t = f.blocks[bid].term
    if t.op == "jump":
        return [t.targets[0]]
    if t.op == "br":
        return list(t.targets)
    return []


def reverse_postorder(f: Function) -> list[int]:
    """Blocks reachable from the entry, in reverse postorder (iterative DFS)."""
    seen = {0}
    order: list[int] = []
    stack: list[tuple[int, int]] = [(0, 0)]
    while stack:
        node, i = stack.pop()
        succ = successors(f, node)
        if i < len(succ):
            stack.append((node, i + 1))
            nxt = succ[i]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, 0))
        else:
            order.append(node)
    order.reverse()
    return order


def dominators(f: Function, rpo: list[int]) -> dict[int, int]:
    """Immediate dominators (the entry maps to itself), Cooper-Harvey-Kennedy."""
    index = {b: i for i, b in enumerate(rpo)}
    preds: dict[int, list[int]] = {b: [] for b in rpo}
    for b in rpo:
        for s in successors(f, b):
            preds[s].append(b)
    idom: dict[int, int] = {rpo[0]: rpo[0]}

    def intersect(a: int, b: int) -> int:
        while a != b:
            while index[a] > index[b]:
                a = idom[a]
            while index[b] > index[a]:
                b = idom[b]
        return a

    changed = True
    while changed:
        changed = False
        for b in rpo[1:]:
            new: int | None = None
            for p in preds[b]:
                if p in idom:
                    new = p if new is None else intersect(p, new)
            assert new is not None
            if idom.get(b) != new:
                idom[b] = new
                changed = True
    return idom


def _dominates(idom: dict[int, int], a: int, b: int) -> bool:
    while True:
        if a == b:
            return True
        up = idom[b]
        if up == b:
            return False
        b = up


# context entries: ("if", -1), ("block", follower), ("loop", header)
_Ctx = tuple[tuple[str, int], "_Ctx"] | None


def _depth(ctx: _Ctx, kind: str, target: int) -> int:
    d = 0
    while ctx is not None:
        (k, b), ctx = ctx
        if k == kind and b == target:
            return d
        d += 1
    raise AssertionError(f"no enclosing {kind} for block {target}")


def structure(f: Function, em: Emitter, *, force_dispatch: bool = False) -> bool:
    """Emit ``f``'s control flow through ``em``; returns False if the dispatch
    fallback was used (irreducible graph, or ``force_dispatch``)."""
    rpo = reverse_postorder(f)
    index = {b: i for i, b in enumerate(rpo)}
    idom = dominators(f, rpo)
    headers: set[int] = set()
    forward_preds: dict[int, int] = dict.fromkeys(rpo, 0)
    reducible = True
    for b in rpo:
        for s in successors(f, b):
            if index[s] <= index[b]:
                headers.add(s)
                if not _dominates(idom, s, b):
                    reducible = False
            else:
                forward_preds[s] += 1
    if force_dispatch or not reducible:
        _dispatch(f, em, rpo)
        return False
    children: dict[int, list[int]] = {b: [] for b in rpo}
    for b in rpo[1:]:
        children[idom[b]].append(b)
    merge = {b for b in rpo if forward_preds[b] >= 2}
    merge_children = {
        b: sorted((c for c in children[b] if c in merge), key=lambda c: -index[c]) for b in rpo
    }

    Task = Callable[[], None]
    work: list[Task] = []

    def do_tree(x: int, ctx: _Ctx) -> None:
        ys = merge_children[x]
        if x in headers:
            em.loop_header(x)
            em.op("loop")
            inner: _Ctx = (("loop", x), ctx)
            work.append(lambda: em.op("end"))
            work.append(lambda: node_within(x, ys, 0, inner))
        else:
            node_within(x, ys, 0, ctx)

    def node_within(x: int, ys: list[int], i: int, ctx: _Ctx) -> None:
        if i < len(ys):
            y = ys[i]
            em.op("block")
            work.append(lambda: do_tree(y, ctx))
            work.append(lambda: em.op("end"))
            inner: _Ctx = (("block", y), ctx)
            work.append(lambda: node_within(x, ys, i + 1, inner))
            return
        em.body(x)
        t = f.blocks[x].term
        if t.op == "jump":
            do_branch(x, t.targets[0], ctx)
        elif t.op == "br":
            then, other = t.targets
            if then == other:
                em.cond(x)
                em.op("drop")
                do_branch(x, then, ctx)
                return
            em.cond(x)
            em.op("if")
            inner_if: _Ctx = (("if", -1), ctx)
            work.append(lambda: em.op("end"))
            work.append(lambda: do_branch(x, other, inner_if))
            work.append(lambda: em.op("else"))
            work.append(lambda: do_branch(x, then, inner_if))
        elif t.op == "ret":
            em.ret(x)
        else:
            em.op("unreachable")

    def do_branch(x: int, y: int, ctx: _Ctx) -> None:
        if index[y] <= index[x]:
            em.op("br", _depth(ctx, "loop", y))
        elif y in merge:
            em.op("br", _depth(ctx, "block", y))
        else:
            do_tree(y, ctx)

    do_tree(rpo[0], None)
    while work:
        work.pop()()
    return True


def _dispatch(f: Function, em: Emitter, rpo: list[int]) -> None:
    """``loop { block*n { br_table } code(b0) ... }``: sound for any graph."""
    n = len(rpo)
    slot = {b: i for i, b in enumerate(rpo)}
    label = em.label_local()
    em.op("loop")
    for _ in range(n):
        em.op("block")
    em.op("local.get", label)
    em.op("br_table", [*range(n), n - 1])
    for i, b in enumerate(rpo):
        em.op("end")
        # open here: blocks i+1 .. n-1, then the loop
        to_loop = n - 1 - i
        em.body(b)
        t = f.blocks[b].term

        def goto(target: int, extra: int, to_loop: int = to_loop) -> None:
            em.op("i32.const", slot[target])
            em.op("local.set", label)
            em.op("br", to_loop + extra)

        if t.op == "jump":
            goto(t.targets[0], 0)
        elif t.op == "br":
            em.cond(b)
            em.op("if")
            goto(t.targets[0], 1)
            em.op("else")
            goto(t.targets[1], 1)
            em.op("end")
            em.op("unreachable")
        elif t.op == "ret":
            em.ret(b)
        else:
            em.op("unreachable")
    em.op("end")
