"""Make reference counting explicit: insert ``incref``/``decref`` into MIR.

Run last, after optimisation, for the native backends (the interpreter relies
on Python's memory management and ignores both operations).  After this pass
``copy``, ``gload`` and ``select`` are plain bit copies: every change to a
reference count is an instruction in the MIR.

The ownership discipline (managed = ``needs_rc``: texts and every tier-2
type, including options and tuples of scalars, which are heap objects in the
native backends):

* every managed register owns one reference to the value it holds, or holds
  null (backends start managed registers as null, and ``decref`` ignores
  null);
* operations that produce a managed value (runtime text operations,
  ``totext``, calls) return a new reference; operands are borrowed;
* ``copy``, ``gload`` and ``select`` share a value, so an ``incref`` follows
  them;
* operations that read a managed value out of an aggregate (``array_get``,
  ``field_get``, ``tuple_get``, ``enum_field``, ``opt_get``) yield a pointer
  the aggregate still owns, so an ``incref`` follows them too (before the
  old value of the destination is released: it may be that aggregate);
  ``array_pop`` hands the element's own reference to its destination;
* operations that store a managed value into an aggregate (``array_new``,
  ``struct_new``, ``tuple_new``, ``enum_new``, ``opt_some``, ``array_set``,
  ``array_push``, ``field_set``) are preceded by an ``incref`` of the stored
  register: the aggregate owns one reference to each child.  (``array_set``
  and ``field_set`` release the replaced element themselves; ``field_set``'s
  copy takes its own references to the fields it keeps.)
* before a managed register is defined again its old value is released
  (when the instruction also reads the register, the old value is saved in a
  fresh register and released after it);
* ``gstore`` takes a reference for the global and releases the old value;
* parameters are borrowed from the caller and never released;
* at ``ret`` every owned register is released, except the one whose
  reference the ``ret`` hands to the caller; returning a borrowed value or a
  constant takes a new reference first.

One exception removes most of the counting of tier-2 loops: a register
defined once by a read out of an aggregate and used only in its block, with
nothing in between that could release a reference, borrows from the
aggregate instead (``borrowed_reads``; renamed ``rc.borrowed`` so backends
know it owns nothing).

So each register holds at most one reference at a time: a loop that builds
and drops texts runs in constant memory.
"""

from __future__ import annotations

from simple_jit.mir.ir import Const, Function, Instr, Module, Operand, Reg, Term
from simple_jit.mir.passes.manager import FunctionPass
from simple_jit.types import TEXT, ArrayT, EnumT, OptionT, StructT, TupleT, Type

# Name of the registers this pass adds to hold a value about to be released
# (they alias a register that still owns it; not a Simple identifier).
OLD_VALUE_REG = "rc.old"
# New name of the registers this pass decides to leave borrowed (see
# ``borrowed_reads``); they own no reference, so backends do not release them.
BORROWED_REG = "rc.borrowed"

_READS = frozenset({"array_get", "field_get", "tuple_get", "enum_field", "opt_get"})
# Operations that may release a reference some aggregate holds (besides the
# definition of a counted register, which first releases its old value).
_MAY_RELEASE = frozenset(
    {"array_set", "array_pop", "call", "callext", "gstore", "decref", "field_set"}
)

# What may release the reference a global holds: a store to it, or a call.
_ENDS_GLOBAL = frozenset({"gstore", "call", "callext"})

_SHARES = frozenset(
    {"copy", "gload", "select", "array_get", "field_get", "tuple_get", "enum_field", "opt_get"}
)
# op -> index of the first stored operand (all operands from there on are stored)
_STORES: dict[str, int] = {
    "array_new": 0,
    "struct_new": 0,
    "tuple_new": 0,
    "enum_new": 0,
    "opt_some": 0,
    "array_set": 2,
    "array_push": 1,
    "field_set": 1,
}


def needs_rc(ty: Type) -> bool:
    """Whether values of ``ty`` are reference counted by the native backends.

    Texts, and every tier-2 type: arrays, structs, tuples and enum values are
    heap objects, and an option is null (``nil``) or a heap box (``Some``),
    whatever its inner type.
    """
    return ty is TEXT or isinstance(ty, _COUNTED)  # types are interned: TEXT is the only text


_COUNTED = (ArrayT, StructT, TupleT, EnumT, OptionT)  # a tuple: isinstance is faster than with a|b


def borrowed_reads(f: Function) -> set[int]:
    """Registers that may borrow the value they read out of an aggregate or a global.

    A register defined once, by a read out of an aggregate (``array_get``,
    ``field_get``...), and used only later in the same block, need not own a
    reference when nothing between its definition and its last use (that use
    included) can release a reference: no call, no ``array_set``/``array_pop``/
    ``field_set``/``gstore``, and no definition of another counted register
    (which releases its old value).  The aggregate keeps the value alive for
    that whole stretch, so the ``incref`` after the read and the ``decref``
    before the next definition (or at ``ret``) are both dropped: a loop over
    an array of structs or texts does no reference counting at all.
    A ``gload`` borrows from its global the same way; only a ``gstore`` (or
    a call, which may make one) releases what a global holds, so nothing else
    ends its stretch.  Returning such a register still takes a new reference
    (as for a borrowed parameter), and storing it anywhere increfs it as
    usual.
    """
    defs: dict[int, int] = {}
    used_in: dict[int, int] = {}  # register -> the one block using it, or -1
    for blk in f.blocks:
        for ins in blk.instrs:
            if ins.dst is not None:
                defs[ins.dst.id] = defs.get(ins.dst.id, 0) + 1
            for a in ins.args:
                if isinstance(a, Reg) and used_in.setdefault(a.id, blk.id) != blk.id:
                    used_in[a.id] = -1
        for a in blk.term.args:
            if isinstance(a, Reg) and used_in.setdefault(a.id, blk.id) != blk.id:
                used_in[a.id] = -1
    params = {p.id for p in f.params}
    result: set[int] = set()
    for blk in f.blocks:
        instrs = blk.instrs
        last_use: dict[int, int] = {}
        for j, x in enumerate(instrs):
            for a in x.args:
                if isinstance(a, Reg):
                    last_use[a.id] = j
        for a in blk.term.args:
            if isinstance(a, Reg):
                last_use[a.id] = len(instrs)
        for i, ins in enumerate(instrs):
            d = ins.dst
            if (
                (ins.op not in _READS and ins.op != "gload")
                or d is None
                or not needs_rc(d.ty)
                or defs.get(d.id) != 1
                or d.id in params
                or used_in.get(d.id, blk.id) != blk.id
                or any(a is d for a in ins.args)
            ):
                continue
            last = max(last_use.get(d.id, i), i)
            if ins.op == "gload":
                ok = not any(x.op in _ENDS_GLOBAL for x in instrs[i + 1 : last + 1])
            else:
                ok = not any(
                    x.op in _MAY_RELEASE or (x.dst is not None and needs_rc(x.dst.ty))
                    for x in instrs[i + 1 : last + 1]
                )
            if ok:
                result.add(d.id)
    return result


class InsertRefcounts(FunctionPass):
    name = "refcount"

    def run_function(self, f: Function, module: Module) -> bool:
        reads = borrowed_reads(f)
        for r in f.regs:
            if r.id in reads:
                r.name = BORROWED_REG
        managed = [r for r in f.regs if needs_rc(r.ty) and r.id not in reads]
        # (a borrowed read may be returned, which takes a reference)
        if (
            not managed
            and not reads
            and not any(
                ins.op == "gstore" and needs_rc(ins.args[0].ty)
                for blk in f.blocks
                for ins in blk.instrs
            )
        ):
            return False
        param_ids = {p.id for p in f.params}
        defined = {ins.dst.id for blk in f.blocks for ins in blk.instrs if ins.dst is not None}
        # A parameter that is assigned in the body is owned from the start.
        owned_params = [p for p in f.params if needs_rc(p.ty) and p.id in defined]
        borrowed = (param_ids - {p.id for p in owned_params}) | reads
        owned = [r for r in managed if r.id not in borrowed]
        for blk in f.blocks:
            out: list[Instr] = []
            if blk.id == 0:
                out.extend(Instr("incref", None, [p]) for p in owned_params)
            for ins in blk.instrs:
                if ins.dst is not None and ins.dst.id in reads:
                    out.append(ins)  # borrowed: no decref before, no incref after
                else:
                    self._instr(f, ins, out)
            self._ret(blk.term, owned, borrowed, out)
            blk.instrs = out
        return True

    @staticmethod
    def _instr(f: Function, ins: Instr, out: list[Instr]) -> None:
        d = ins.dst
        first = _STORES.get(ins.op)
        if first is not None:
            out.extend(
                Instr("incref", None, [a])
                for a in ins.args[first:]
                if isinstance(a, Reg) and needs_rc(a.ty)
            )
        if ins.op == "gstore" and needs_rc(ins.args[0].ty):
            value = ins.args[0]
            old = f.new_reg(value.ty, OLD_VALUE_REG)
            out.append(Instr("gload", old, [], ins.extra))
            if isinstance(value, Reg):
                out.append(Instr("incref", None, [value]))
            out.append(ins)
            out.append(Instr("decref", None, [old]))
            return
        if d is None or not needs_rc(d.ty):
            out.append(ins)
            return
        shares = ins.op in _SHARES and not (ins.op == "copy" and isinstance(ins.args[0], Const))
        if any(a is d for a in ins.args):
            old = f.new_reg(d.ty, OLD_VALUE_REG)
            out.append(Instr("copy", old, [d]))
            out.append(ins)
            if shares:
                out.append(Instr("incref", None, [d]))
            out.append(Instr("decref", None, [old]))
        else:
            out.append(Instr("decref", None, [d]))
            out.append(ins)
            if shares:
                out.append(Instr("incref", None, [d]))

    @staticmethod
    def _ret(term: Term, owned: list[Reg], borrowed: set[int], out: list[Instr]) -> None:
        if term.op != "ret":
            return
        handed: Operand | None = term.args[0] if term.args else None
        keep = -1
        if handed is not None and needs_rc(handed.ty):
            if isinstance(handed, Reg) and handed.id not in borrowed:
                keep = handed.id
            elif isinstance(handed, Reg):
                out.append(Instr("incref", None, [handed]))
        out.extend(Instr("decref", None, [r]) for r in owned if r.id != keep)
