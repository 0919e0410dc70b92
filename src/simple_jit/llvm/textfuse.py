"""Appending to texts in place: which ``tconcat`` instructions become appends.

A pattern of the code generator, found in MIR after the refcount pass; the
MIR itself does not change, so no other backend is concerned.

``x += y`` and ``x = x + y`` lower to ``x = tconcat x, y``, which the
refcount pass turns into::

    old = copy x          # rc.old: the value about to be released
    x = tconcat x, y
    decref old

(``x = x + a + b`` is ``t = tconcat x, a; decref x; x = tconcat t, b``,
which becomes appends of ``a`` and ``b`` when ``t`` is fused as below.)
The code generator emits ``x = rt_text_append(x, y)`` instead: the call
consumes ``x``'s reference (so the ``copy`` and the ``decref`` go) and, when
that reference is the only one (rc 1), appends in place into spare room
that grows geometrically.  A loop that builds a text by appending then costs
amortised O(1) allocations and copies per append instead of a copy of the
whole text each time.

The right-hand side is fused as well: when ``y`` is a text temporary built
by ``tconcat`` and ``totext`` (of an ``i64`` or ``f64``) used only by this
append, its pieces are appended one by one (``x + (a + b.to_text())`` is
``(x + a) + b.to_text()``), and the temporaries are never created:
``rt_text_append_i64`` formats the number straight into ``x``.  Operands are
read where the fused instructions stood (the code generator keeps their
LLVM values), and fusion is refused when anything between the first fused
instruction and the append could release a text (a call, a ``decref`` of
another register, a store into an aggregate, a counted definition), or when
a piece is ``x`` itself (which the append may move).

Any other ``tconcat`` with such a tree under it (``a + n.to_text() + b``,
string interpolation) becomes one ``rt_text_build``: the pieces are passed
as (kind, value) pairs and the result is allocated once, at its exact
size, with the numbers formatted straight into it.
"""

from __future__ import annotations

from simple_jit._record import field, record
from simple_jit.mir.ir import Block, Function, Instr, Operand, Reg
from simple_jit.mir.passes.refcount import OLD_VALUE_REG, needs_rc
from simple_jit.types import F64, I64, TEXT

# Operations that may release a reference (see refcount._MAY_RELEASE), plus
# the explicit counting operations, which are handled one by one.
_MAY_RELEASE = frozenset(
    {"array_set", "array_pop", "call", "callext", "gstore", "decref", "field_set"}
)


@record
class AppendPlan:
    """What the code generator does differently in one function."""

    # (block id, instruction index) of each tconcat that becomes an append
    appends: set[tuple[int, int]] = field(default_factory=set)
    # (block id, instruction index) of the rc.old copy/decref pairs that go
    skip: set[tuple[int, int]] = field(default_factory=set)
    # text temporaries that are never created: their pieces feed an append
    fused: set[int] = field(default_factory=set)
    # (block id, instruction index) of each other tconcat whose fused tree
    # is built in one allocation (rt_text_build)
    builds: set[tuple[int, int]] = field(default_factory=set)


def plan_appends(f: Function) -> AppendPlan:
    return _Planner(f).plan


class _Planner:
    def __init__(self, f: Function) -> None:
        self.plan = AppendPlan()
        self.defs: dict[int, list[tuple[int, int]]] = {}
        self.uses: dict[int, int] = {}
        for blk in f.blocks:
            for i, ins in enumerate(blk.instrs):
                if ins.dst is not None:
                    self.defs.setdefault(ins.dst.id, []).append((blk.id, i))
                if ins.op != "decref":
                    self._use(ins.args)
            self._use(blk.term.args)
        self.params = {p.id for p in f.params}
        for blk in f.blocks:
            for i in range(1, len(blk.instrs) - 1):
                self._site(blk, i)
        # Then the other concatenations, outermost first (a tree claims its
        # inner tconcats before they are considered on their own).
        for blk in f.blocks:
            for i in reversed(range(len(blk.instrs))):
                self._build(blk, i)

    def _use(self, args: list[Operand]) -> None:
        for a in args:
            if isinstance(a, Reg):
                self.uses[a.id] = self.uses.get(a.id, 0) + 1

    def _site(self, blk: Block, i: int) -> None:
        """Plan instruction ``i`` of ``blk`` if it is ``x = tconcat ...`` that can append."""
        instrs = blk.instrs
        ins = instrs[i]
        x = ins.dst
        if ins.op != "tconcat" or x is None or x.ty != TEXT:
            return
        cp, dec = instrs[i - 1], instrs[i + 1]
        old = cp.dst
        if (
            cp.op == "copy"
            and old is not None
            and old.name == OLD_VALUE_REG
            and _is_reg(cp.args[0], x.id)
            and dec.op == "decref"
            and _is_reg(dec.args[0], old.id)
        ):
            drop = [i - 1, i + 1]  # x read by the tconcat itself
        elif cp.op == "decref" and _is_reg(cp.args[0], x.id):
            drop = [i - 1]  # x read only inside the tree: `x = x + a + b`
        else:
            return
        tree = _Tree(self, blk)
        for a in ins.args:
            tree.walk(a, i)
        leaves = tree.leaves
        ok = _is_reg(leaves[0], x.id) and not any(_is_reg(a, x.id) for a in leaves[1:])
        if ok and tree.instrs:
            ok = _quiet(instrs, range(min(tree.instrs), i - 1), tree)
        if ok:
            self.plan.fused |= tree.temps
        elif len(drop) == 1 or not _is_reg(ins.args[0], x.id):
            return  # without fusion, only `x = tconcat x, y` appends
        self.plan.appends.add((blk.id, i))
        self.plan.skip.update((blk.id, j) for j in drop)

    def _build(self, blk: Block, i: int) -> None:
        """Plan ``t = tconcat ...`` (not an append) as one ``rt_text_build`` of its tree."""
        instrs = blk.instrs
        ins = instrs[i]
        t = ins.dst
        if (
            ins.op != "tconcat"
            or t is None
            or t.id in self.plan.fused
            or (blk.id, i) in self.plan.appends
        ):
            return
        tree = _Tree(self, blk)
        for a in ins.args:
            tree.walk(a, i)
        if not tree.instrs:
            return  # two plain texts: rt_text_concat is one allocation already
        stop = i
        if i > 0 and instrs[i - 1].op == "decref" and _is_reg(instrs[i - 1].args[0], t.id):
            # the release of t's old value just before: harmless unless t is a piece
            if any(_is_reg(a, t.id) for a in tree.leaves):
                return
            stop = i - 1
        if _quiet(instrs, range(min(tree.instrs), stop), tree):
            self.plan.fused |= tree.temps
            self.plan.builds.add((blk.id, i))


def _quiet(instrs: list[Instr], span: range, tree: _Tree) -> bool:
    """Whether nothing in ``span`` but the tree itself can release a text."""
    for j in span:
        if j in tree.instrs:
            continue
        other = instrs[j]
        if other.op == "decref":
            if not (isinstance(other.args[0], Reg) and other.args[0].id in tree.temps):
                return False
        elif other.op in _MAY_RELEASE or (other.dst is not None and needs_rc(other.dst.ty)):
            return False
    return True


class _Tree:
    """The fusible tree of tconcat/totext temporaries under one tconcat, and its leaves."""

    def __init__(self, planner: _Planner, blk: Block) -> None:
        self.p = planner
        self.blk = blk
        self.instrs: set[int] = set()  # indices of the fused instructions
        self.temps: set[int] = set()  # their destination registers
        self.leaves: list[Operand] = []  # operands in text order

    def fusible(self, op: Operand, parent: int) -> int | None:
        """The index of ``op``'s definition if that definition can be fused."""
        if not isinstance(op, Reg) or op.ty != TEXT or op.id in self.p.params:
            return None
        where = self.p.defs.get(op.id, [])
        if len(where) != 1 or self.p.uses.get(op.id) != 1:
            return None
        b, d = where[0]
        if b != self.blk.id or d >= parent:
            return None
        dins = self.blk.instrs[d]
        if dins.op == "tconcat" or (dins.op == "totext" and dins.args[0].ty in (I64, F64)):
            return d
        return None

    def walk(self, op: Operand, parent: int) -> None:
        d = self.fusible(op, parent)
        if d is None:
            self.leaves.append(op)
            return
        assert isinstance(op, Reg)
        self.instrs.add(d)
        self.temps.add(op.id)
        dins = self.blk.instrs[d]
        if dins.op == "tconcat":
            for a in dins.args:
                self.walk(a, d)
        else:
            self.leaves.append(dins.args[0])


def _is_reg(op: Operand, reg_id: int) -> bool:
    return isinstance(op, Reg) and op.id == reg_id
