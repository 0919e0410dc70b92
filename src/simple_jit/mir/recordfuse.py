"""Records changed in place: struct stores into arrays, field assignments.

Patterns of the native code generators (LLVM and Cranelift), found in MIR
after the refcount pass; the MIR itself does not change (the interpreter
has no records to reuse).

**Stores into array elements.**
A struct variable kept in registers (``mir/passes/unbox.py``) is stored back
into an array as::

    t = struct_new S (f0, f1, ...)
    incref t
    array_set a, i, t

with ``t`` used nowhere else but in its ``decref``s.  The code generator
builds no record for ``t`` then (``store_record`` in each backend): when the
record the element holds has reference count 1, the array holds the only
reference, so nobody can see it change and its fields are overwritten in
place; otherwise a record is allocated as ``struct_new`` would, stored, and
the old one released.  ``var b = a[i]; b.x += 1.0; a[i] = b`` then costs
no allocation at all.  (A borrowed read of the element cannot be live across
the ``array_set``: ``refcount.borrowed_reads`` ends them before any
``array_set``.)

Only structs whose fields are all ``i64``, ``f64`` or ``bool``: there is no
reference to take or drop when a field is overwritten.

**Field assignments.**  ``x.f = v`` on a struct variable that ``unbox`` left
as a record (a field that is a text, say) is, after the refcount pass::

    old = copy x            # rc.old: x's reference, released below
    x = field_set #k x, v   # a copy of the record with field k replaced
    decref old

The code generator makes it one step (``field_set_in_place``):
when the record's count is 1 (``x`` holds the only reference, so nobody can
see it change) field k is replaced in the record itself; otherwise the record
is cloned as before and ``x``'s reference to the original dropped.  The
``copy`` and the ``decref`` go.
"""

from __future__ import annotations

from collections.abc import Mapping

from simple_jit._record import field, record
from simple_jit.mir.ir import Function, Instr, Reg
from simple_jit.mir.passes.refcount import OLD_VALUE_REG
from simple_jit.types import BOOL, F64, I64, StructDef, StructT

__all__ = ["RecordPlan", "plan_records"]


@record
class RecordPlan:
    """What the code generator does differently in one function."""

    # (block id, index) of each array_set -> the struct_new it absorbs
    stores: dict[tuple[int, int], Instr] = field(default_factory=dict)
    # (block id, index) of the absorbed struct_new and its incref
    skip: set[tuple[int, int]] = field(default_factory=set)
    # the registers those struct_new defined: never created, own nothing
    fused: set[int] = field(default_factory=set)
    # (block id, index) of each field_set of a variable into itself, done in
    # place when the record is not shared (its rc.old copy and decref are in skip)
    field_sets: set[tuple[int, int]] = field(default_factory=set)


def plan_records(f: Function, structs: Mapping[str, StructDef]) -> RecordPlan:
    plan = RecordPlan()
    defs: dict[int, int] = {}
    uses: dict[int, int] = {}  # uses other than incref/decref
    for blk in f.blocks:
        for ins in blk.instrs:
            if ins.dst is not None:
                defs[ins.dst.id] = defs.get(ins.dst.id, 0) + 1
            if ins.op in ("incref", "decref"):
                continue
            for a in ins.args:
                if isinstance(a, Reg):
                    uses[a.id] = uses.get(a.id, 0) + 1
        for a in blk.term.args:
            if isinstance(a, Reg):
                uses[a.id] = uses.get(a.id, 0) + 1
    for blk in f.blocks:
        instrs = blk.instrs
        for i in range(len(instrs) - 2):
            new, inc, store = instrs[i], instrs[i + 1], instrs[i + 2]
            t = new.dst
            if (
                new.op != "struct_new"
                or t is None
                or not isinstance(t.ty, StructT)
                or defs.get(t.id) != 1
                or uses.get(t.id) != 1
                or inc.op != "incref"
                or not _is(inc.args[0], t)
                or store.op != "array_set"
                or not _is(store.args[2], t)
                or not _scalar_struct(structs.get(t.ty.name))
            ):
                continue
            plan.stores[(blk.id, i + 2)] = new
            plan.skip.update({(blk.id, i), (blk.id, i + 1)})
            plan.fused.add(t.id)
        for i in range(1, len(instrs) - 1):
            save, ins, drop = instrs[i - 1], instrs[i], instrs[i + 1]
            x, old = ins.dst, save.dst
            if (
                ins.op == "field_set"
                and x is not None
                and _is(ins.args[0], x)
                and save.op == "copy"
                and old is not None
                and old.name == OLD_VALUE_REG
                and _is(save.args[0], x)
                and drop.op == "decref"
                and _is(drop.args[0], old)
                and uses.get(old.id) is None  # nothing but the decref reads it
            ):
                plan.field_sets.add((blk.id, i))
                plan.skip.update({(blk.id, i - 1), (blk.id, i + 1)})
    return plan


def _is(a: object, r: Reg) -> bool:
    return isinstance(a, Reg) and a.id == r.id


def _scalar_struct(sdef: StructDef | None) -> bool:
    return sdef is not None and all(t in (I64, F64, BOOL) for _, t in sdef.fields)
