"""Make reference counting explicit: insert ``incref``/``decref`` into MIR.

Run last, after optimisation, for the native backends (the interpreter relies
on Python's memory management and ignores both operations).  After this pass
``copy``, ``gload`` and ``select`` are plain bit copies: every change to a
reference count is an instruction in the MIR.

The ownership discipline (managed = ``Type.is_managed``, texts in tier 1):

* every managed register owns one reference to the value it holds, or holds
  null (backends start managed registers as null, and ``decref`` ignores
  null);
* operations that produce a managed value (runtime text operations,
  ``totext``, calls) return a new reference; operands are borrowed;
* ``copy``, ``gload`` and ``select`` share a value, so an ``incref`` follows
  them;
* before a managed register is defined again its old value is released
  (when the instruction also reads the register, the old value is saved in a
  fresh register and released after it);
* ``gstore`` takes a reference for the global and releases the old value;
* parameters are borrowed from the caller and never released;
* at ``ret`` every owned register is released, except the one whose
  reference the ``ret`` hands to the caller; returning a borrowed value or a
  constant takes a new reference first.

So each register holds at most one reference at a time: a loop that builds
and drops texts runs in constant memory.
"""

from __future__ import annotations

from simple_jit.mir.ir import Const, Function, Instr, Module, Operand, Reg, Term
from simple_jit.mir.passes.manager import FunctionPass

_SHARES = frozenset({"copy", "gload", "select"})


class InsertRefcounts(FunctionPass):
    name = "refcount"

    def run_function(self, f: Function, module: Module) -> bool:
        managed = [r for r in f.regs if r.ty.is_managed]
        if not managed and not any(
            ins.op == "gstore" and ins.args[0].ty.is_managed
            for blk in f.blocks
            for ins in blk.instrs
        ):
            return False
        param_ids = {p.id for p in f.params}
        defined = {ins.dst.id for blk in f.blocks for ins in blk.instrs if ins.dst is not None}
        # A parameter that is assigned in the body is owned from the start.
        owned_params = [p for p in f.params if p.ty.is_managed and p.id in defined]
        borrowed = param_ids - {p.id for p in owned_params}
        owned = [r for r in managed if r.id not in borrowed]
        for blk in f.blocks:
            out: list[Instr] = []
            if blk.id == 0:
                out.extend(Instr("incref", None, [p]) for p in owned_params)
            for ins in blk.instrs:
                self._instr(f, ins, out)
            self._ret(blk.term, owned, borrowed, out)
            blk.instrs = out
        return True

    @staticmethod
    def _instr(f: Function, ins: Instr, out: list[Instr]) -> None:
        d = ins.dst
        if ins.op == "gstore" and ins.args[0].ty.is_managed:
            value = ins.args[0]
            old = f.new_reg(value.ty)
            out.append(Instr("gload", old, [], ins.extra))
            if isinstance(value, Reg):
                out.append(Instr("incref", None, [value]))
            out.append(ins)
            out.append(Instr("decref", None, [old]))
            return
        if d is None or not d.ty.is_managed:
            out.append(ins)
            return
        if any(a is d for a in ins.args):
            old = f.new_reg(d.ty)
            out.append(Instr("copy", old, [d]))
            out.append(ins)
            out.append(Instr("decref", None, [old]))
        else:
            out.append(Instr("decref", None, [d]))
            out.append(ins)
        if ins.op in _SHARES and not (ins.op == "copy" and isinstance(ins.args[0], Const)):
            out.append(Instr("incref", None, [d]))

    @staticmethod
    def _ret(term: Term, owned: list[Reg], borrowed: set[int], out: list[Instr]) -> None:
        if term.op != "ret":
            return
        handed: Operand | None = term.args[0] if term.args else None
        keep = -1
        if handed is not None and handed.ty.is_managed:
            if isinstance(handed, Reg) and handed.id not in borrowed:
                keep = handed.id
            elif isinstance(handed, Reg):
                out.append(Instr("incref", None, [handed]))
        out.extend(Instr("decref", None, [r]) for r in owned if r.id != keep)
