"""Unboxing struct variables: a mutated struct of scalars lives in registers.

A struct is a value: ``b.vx -= d`` gives ``b`` a new struct with one field
changed (``b = field_set #3 b, ...``), which the native backends build by
cloning the heap record, an allocation per field assignment.  This pass
gives each struct register that is assigned a field (and is not a
parameter), when every field of its struct is an ``i64``, ``f64`` or
``bool``, one register per field instead, and rewrites

* ``r = struct_new S (a, b)`` to ``r.0 = copy a; r.1 = copy b``;
* ``r = field_set #k r, v`` to ``r.k = copy v``;
* ``x = field_get #k r`` to ``x = copy r.k``;
* ``r = copy s`` (``s`` unboxed too) to copies of the fields;
* any other definition ``r = OP ...`` to ``t = OP ...`` followed by
  ``r.k = field_get #k t`` for every field (``t`` a fresh register: a read
  out of an array is then borrowed, see ``refcount.borrowed_reads``);
* any other use of ``r`` (a call argument, a store, ``ret``) to a use of
  ``t = struct_new S (r.0, r.1, ...)`` built just before it.

The field registers are defined wherever ``r`` was, so they hold ``r``'s
value at every point whatever the control flow; copy propagation and dead
code elimination then remove the copies and unused fields.

Storing an unboxed struct back into an array (``t = struct_new ...;
array_set a, i, t``) still builds a record in MIR; both native backends
write the fields into the element's record in place when the array holds
the only reference to it (``mir/recordfuse.py``), so that a loop like
``var b = bodies[i]; b.vx -= ...; bodies[i] = b`` allocates nothing.

A register is unboxed only when it is assigned fields at least as often as
it escapes other than into an array element (a static count): each escape
builds a record, where each field assignment cloned one before.
"""

from __future__ import annotations

from simple_jit.mir.ir import Function, Instr, Module, Operand, Reg, Term
from simple_jit.mir.passes.manager import FunctionPass
from simple_jit.types import BOOL, F64, I64, StructT

__all__ = ["UnboxStructs"]

_SCALARS = (I64, F64, BOOL)


class UnboxStructs(FunctionPass):
    """Keep mutated struct variables of scalar fields in one register per field."""

    name = "unbox"

    def run_function(self, f: Function, module: Module) -> bool:
        fields = self._candidates(f, module)
        if not fields:
            return False
        for blk in f.blocks:
            out: list[Instr] = []
            for ins in blk.instrs:
                self._rewrite(f, ins, fields, out)
            blk.instrs = out
            self._box_uses(f, blk.term, fields, blk.instrs)
        return True

    def _candidates(self, f: Function, module: Module) -> dict[int, list[Reg]]:
        params = {p.id for p in f.params}
        sets: dict[int, int] = {}
        escapes: dict[int, int] = {}
        regs: dict[int, Reg] = {}
        for blk in f.blocks:
            for ins in blk.instrs:
                d = ins.dst
                if (
                    ins.op == "field_set"
                    and d is not None
                    and isinstance(ins.args[0], Reg)
                    and ins.args[0].id == d.id
                ):
                    sets[d.id] = sets.get(d.id, 0) + 1
                    regs[d.id] = d
                    continue
                for k, a in enumerate(ins.args):
                    if isinstance(a, Reg) and isinstance(a.ty, StructT):
                        if ins.op == "field_get" or (ins.op == "array_set" and k == 2):
                            continue
                        escapes[a.id] = escapes.get(a.id, 0) + 1
            for a in blk.term.args:
                if isinstance(a, Reg):
                    escapes[a.id] = escapes.get(a.id, 0) + 1
        result: dict[int, list[Reg]] = {}
        for rid, n in sets.items():
            r = regs[rid]
            assert isinstance(r.ty, StructT)
            sdef = module.structs.get(r.ty.name)
            if (
                rid in params
                or sdef is None
                or not sdef.fields
                or any(t not in _SCALARS for _, t in sdef.fields)
                or escapes.get(rid, 0) > n
            ):
                continue
            base = r.name or f"r{rid}"
            result[rid] = [f.new_reg(t, f"{base}.{name}") for name, t in sdef.fields]
        return result

    def _box(self, f: Function, r: Reg, fields: list[Reg], out: list[Instr]) -> Reg:
        """A record of ``r``'s current field values, built into a fresh register."""
        assert isinstance(r.ty, StructT)
        tmp = f.new_reg(r.ty)
        values: list[Operand] = list(fields)
        out.append(Instr("struct_new", tmp, values, r.ty.name))
        return tmp

    def _box_uses(
        self, f: Function, node: Instr | Term, cand: dict[int, list[Reg]], out: list[Instr]
    ) -> None:
        boxed: dict[int, Reg] = {}
        for k, a in enumerate(node.args):
            if isinstance(a, Reg) and a.id in cand:
                tmp = boxed.get(a.id)
                if tmp is None:
                    tmp = boxed[a.id] = self._box(f, a, cand[a.id], out)
                node.args[k] = tmp

    def _rewrite(
        self, f: Function, ins: Instr, cand: dict[int, list[Reg]], out: list[Instr]
    ) -> None:
        d = ins.dst
        args = ins.args
        src = args[0] if args and isinstance(args[0], Reg) and args[0].id in cand else None
        if ins.op == "field_get" and src is not None:
            assert isinstance(ins.extra, int)
            if d is not None:
                out.append(Instr("copy", d, [cand[src.id][ins.extra]], loc=ins.loc))
            return
        if ins.op == "field_set" and src is not None and d is not None and d.id == src.id:
            assert isinstance(ins.extra, int)
            out.append(Instr("copy", cand[d.id][ins.extra], [args[1]], loc=ins.loc))
            return
        if d is None or d.id not in cand:
            self._box_uses(f, ins, cand, out)
            out.append(ins)
            return
        dst_fields = cand[d.id]
        if ins.op == "struct_new":
            for fr, a in zip(dst_fields, args, strict=True):
                out.append(Instr("copy", fr, [a], loc=ins.loc))
            return
        if ins.op == "copy" and src is not None:
            if src.id != d.id:
                for fr, sr in zip(dst_fields, cand[src.id], strict=True):
                    out.append(Instr("copy", fr, [sr], loc=ins.loc))
            return
        # any other definition: compute the record, then read its fields
        self._box_uses(f, ins, cand, out)
        tmp = f.new_reg(d.ty)
        ins.dst = tmp
        out.append(ins)
        for k, fr in enumerate(dst_fields):
            out.append(Instr("field_get", fr, [tmp], k, loc=ins.loc))
