"""The MIR verifier: checks the structural and typing invariants of MIR.

``verify_function(f, module)`` and ``verify_module(m)`` return a list of
problems (empty when the MIR is well formed); ``check_module(m)`` raises
``InternalCompilerError`` listing them.  The pass manager runs the verifier
after every pass when asked to (always in tests).

Invariants checked:

* Functions: ``module.functions[name].name == name``; registers satisfy
  ``f.regs[i].id == i``; the parameters are ``f.regs[0:n]`` (same objects);
  there is at least one block and ``f.blocks[i].id == i`` (block 0 is entry).
* Every block ends in one terminator (``Block.term``) and ``Block.instrs``
  holds no terminator.  ``jump`` has no operand and one target; ``br`` has one
  ``bool`` operand and two targets; ``ret`` has no target and one operand whose
  type is ``f.ret`` (or none, only when ``f.ret`` is ``()``); ``unreachable``
  has neither.  Every target is a block index of the function.
* Every operand is a ``Reg`` that is the very object ``f.regs[reg.id]`` or a
  ``Const`` whose value fits its type (int in range: i64, float: f64, bool: bool,
  str: text, None: ``()`` or an option type).
* Every instruction's op is in ``OPS``; operand count and types match the
  signature; a destination is present exactly when the op has a result (the
  result of ``call``, ``callext`` and ``array_pop`` may be dropped) and its
  type is the result type.  Ops with ``"*"`` types follow op-specific rules:
  ``copy`` keeps the type, ``select`` needs equal arm types, ``call`` and
  ``callext`` match the callee's signature (the callee of ``call`` is a
  function of the module or an extern; of ``callext`` an extern), ``gload`` /
  ``gstore`` match the global's type, and the aggregate ops match the array
  element / struct field / tuple element / enum payload / option types.
* Only the ops that take an extra have one, of the right kind (see ``ir``).
* Every ``can_fail`` op carries a ``Loc``.
* Struct and enum types that are used are declared in the module.
"""

from __future__ import annotations

from collections.abc import Callable

from simple_jit.diagnostics import InternalCompilerError
from simple_jit.mir.ir import OPS, TERMINATORS, Const, Function, Instr, Module, Reg
from simple_jit.types import (
    BOOL,
    I64,
    PRIMS,
    UNIT,
    ArrayT,
    EnumT,
    OptionT,
    StructT,
    TupleT,
    Type,
)

__all__ = ["check_function", "check_module", "verify_function", "verify_module"]

_DROPPABLE = frozenset({"call", "callext", "array_pop"})
_EXTRA_KIND: dict[str, type] = {
    "call": str,
    "callext": str,
    "gload": str,
    "gstore": str,
    "array_new": Type,
    "opt_none": Type,
    "struct_new": str,
    "enum_new": str,
    "field_get": int,
    "field_set": int,
    "tuple_get": int,
    "enum_field": str,
}


def const_fits(c: Const) -> bool:
    """Whether a constant's Python value is a valid value of its type."""
    v, ty = c.value, c.ty
    if isinstance(v, bool):
        return ty == BOOL
    if isinstance(v, int):
        return ty == I64 and -(1 << 63) <= v < (1 << 63)
    if isinstance(v, float):
        return ty == PRIMS["f64"]
    if isinstance(v, str):
        return ty == PRIMS["text"]
    if v is None:
        return ty == UNIT or isinstance(ty, OptionT)
    return False


class _FnVerifier:
    def __init__(self, f: Function, module: Module) -> None:
        self.f = f
        self.m = module
        self.problems: list[str] = []
        self.where = f"@{f.name}"

    def err(self, msg: str) -> None:
        self.problems.append(f"{self.where}: {msg}")

    def check_type(self, ty: object, what: str) -> None:
        if not isinstance(ty, Type):
            self.err(f"{what}: {ty!r} is not a type")
            return
        if isinstance(ty, StructT) and ty.name not in self.m.structs:
            self.err(f"{what}: undeclared struct {ty.name}")
        elif isinstance(ty, EnumT) and ty.name not in self.m.enums:
            self.err(f"{what}: undeclared enum {ty.name}")
        elif isinstance(ty, ArrayT):
            self.check_type(ty.elem, what)
        elif isinstance(ty, OptionT):
            self.check_type(ty.inner, what)
        elif isinstance(ty, TupleT):
            for e in ty.elems:
                self.check_type(e, what)

    def operand(self, a: object, what: str) -> Type | None:
        """The operand's type, or None (after reporting) when it is invalid."""
        if isinstance(a, Reg):
            if not (0 <= a.id < len(self.f.regs)) or self.f.regs[a.id] is not a:
                self.err(f"{what}: register %{a.id} does not belong to the function")
                return None
            return a.ty
        if isinstance(a, Const):
            if not const_fits(a):
                self.err(f"{what}: constant {a.value!r} does not fit type {a.ty}")
                return None
            return a.ty
        self.err(f"{what}: operand {a!r} is neither a register nor a constant")
        return None

    def run(self) -> list[str]:
        f = self.f
        for i, r in enumerate(f.regs):
            if not isinstance(r, Reg) or r.id != i:
                self.err(f"register at index {i} has id {getattr(r, 'id', '?')}")
                continue
            self.check_type(r.ty, f"register %{i}")
        if f.regs[: len(f.params)] != f.params or any(
            a is not b for a, b in zip(f.regs, f.params, strict=False)
        ):
            self.err("parameters are not the first registers")
        self.check_type(f.ret, "return type")
        if not f.blocks:
            self.err("function has no blocks")
        nblocks = len(f.blocks)
        for bi, b in enumerate(f.blocks):
            self.where = f"@{f.name} bb{bi}"
            if b.id != bi:
                self.err(f"block id {b.id} differs from its index {bi}")
            for ii, ins in enumerate(b.instrs):
                if not isinstance(ins, Instr):
                    self.err(f"instruction {ii} is {ins!r}")
                    continue
                self.instr(ins, f"{ins.op} (#{ii})")
            t = b.term
            if t.op not in TERMINATORS:
                self.err(f"bad terminator {t.op!r}")
                continue
            for tgt in t.targets:
                if not (isinstance(tgt, int) and 0 <= tgt < nblocks):
                    self.err(f"{t.op}: target bb{tgt} out of range")
            ntg, nargs = len(t.targets), len(t.args)
            if t.op == "jump" and (ntg != 1 or nargs):
                self.err("jump needs exactly one target and no operand")
            elif t.op == "br":
                if ntg != 2 or nargs != 1:
                    self.err("br needs one operand and two targets")
                elif (ty := self.operand(t.args[0], "br")) is not None and ty != BOOL:
                    self.err(f"br condition has type {ty}, expected bool")
            elif t.op == "ret":
                if ntg or nargs > 1:
                    self.err("ret takes at most one operand and no target")
                elif nargs == 0:
                    if f.ret != UNIT:
                        self.err(f"ret without value in a function returning {f.ret}")
                elif (ty := self.operand(t.args[0], "ret")) is not None and ty != f.ret:
                    self.err(f"ret value has type {ty}, function returns {f.ret}")
            elif t.op == "unreachable" and (ntg or nargs):
                self.err("unreachable takes no operand or target")
        return self.problems

    # ------------------------------------------------------------------ instrs

    def instr(self, ins: Instr, what: str) -> None:
        op = ins.op
        if op in TERMINATORS:
            self.err(f"{what}: terminator inside the block body")
            return
        info = OPS.get(op)
        if info is None:
            self.err(f"{what}: unknown op")
            return
        kind = _EXTRA_KIND.get(op)
        if kind is None:
            if ins.extra is not None:
                self.err(f"{what}: unexpected extra {ins.extra!r}")
        elif not isinstance(ins.extra, kind) or isinstance(ins.extra, bool):
            self.err(f"{what}: extra {ins.extra!r} should be a {kind.__name__}")
            return
        if info.can_fail and ins.loc is None:
            self.err(f"{what}: an op that can fail needs a location")
        types: list[Type] = []
        for k, a in enumerate(ins.args):
            ty = self.operand(a, f"{what} operand {k}")
            if ty is None:
                return
            types.append(ty)
        dst = ins.dst
        if dst is not None:
            if self.operand(dst, f"{what} destination") is None:
                return
            if info.result is None:
                self.err(f"{what}: op has no result but a destination")
                return
        elif info.result is not None and op not in _DROPPABLE:
            self.err(f"{what}: missing destination")
            return
        if info.args is not None:
            if len(types) != len(info.args):
                self.err(f"{what}: expected {len(info.args)} operands, got {len(types)}")
                return
            for k, (want, got) in enumerate(zip(info.args, types, strict=True)):
                if want != "*" and PRIMS[want] != got:
                    self.err(f"{what}: operand {k} has type {got}, expected {want}")
        if dst is not None and info.result not in (None, "*") and dst.ty != PRIMS[info.result]:
            self.err(f"{what}: destination has type {dst.ty}, expected {info.result}")
        special = _SPECIAL.get(op)
        if special is not None:
            special(self, ins, types, what)

    def want_dst(self, ins: Instr, ty: Type, what: str) -> None:
        if ins.dst is not None and ins.dst.ty != ty:
            self.err(f"{what}: destination has type {ins.dst.ty}, expected {ty}")

    def want_args(self, types: list[Type], want: list[Type] | tuple[Type, ...], what: str) -> None:
        if len(types) != len(want):
            self.err(f"{what}: expected {len(want)} operands, got {len(types)}")
            return
        for k, (w, g) in enumerate(zip(want, types, strict=True)):
            if w != g:
                self.err(f"{what}: operand {k} has type {g}, expected {w}")


def _copy(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    v.want_dst(ins, types[0], what)


def _select(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    if types[1] != types[2]:
        v.err(f"{what}: arms have different types {types[1]} and {types[2]}")
    v.want_dst(ins, types[1], what)


def _call(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    name = ins.extra
    assert isinstance(name, str)
    params: list[Type]
    callee = v.m.functions.get(name) if ins.op == "call" else None
    if callee is not None:
        params, ret = [p.ty for p in callee.params], callee.ret
    elif ins.op == "call" and name in v.m.imports:
        imp = v.m.imports[name]
        params, ret = imp.params, imp.ret
    elif ins.op == "callext" and name in v.m.externs:
        ext = v.m.externs[name]
        params, ret = ext.params, ext.ret
    else:
        v.err(f"{what}: unknown callee @{name}")
        return
    v.want_args(types, params, what)
    v.want_dst(ins, ret, what)


def _global(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    g = v.m.globals.get(ins.extra) if isinstance(ins.extra, str) else None
    if g is None:
        v.err(f"{what}: unknown global @{ins.extra}")
        return
    if ins.op == "gload":
        v.want_dst(ins, g.ty, what)
    else:
        v.want_args(types, [g.ty], what)


def _array_of(v: _FnVerifier, ty: Type, what: str) -> Type | None:
    if isinstance(ty, ArrayT):
        return ty.elem
    v.err(f"{what}: operand 0 has type {ty}, expected an array")
    return None


def _array(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    op = ins.op
    if op == "array_new":
        assert isinstance(ins.extra, Type)
        v.check_type(ins.extra, what)
        v.want_args(types, [ins.extra] * len(types), what)
        v.want_dst(ins, ArrayT(ins.extra), what)
        return
    elem = _array_of(v, types[0], what)
    if elem is None:
        return
    if op in ("array_get", "array_pop"):
        v.want_dst(ins, elem, what)
    elif op == "array_set" and types[2] != elem:
        v.err(f"{what}: stored value has type {types[2]}, expected {elem}")
    elif op == "array_push" and types[1] != elem:
        v.err(f"{what}: pushed value has type {types[1]}, expected {elem}")


def _struct(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    if ins.op == "struct_new":
        assert isinstance(ins.extra, str)
        sd = v.m.structs.get(ins.extra)
        if sd is None:
            v.err(f"{what}: unknown struct {ins.extra}")
            return
        v.want_args(types, [t for _, t in sd.fields], what)
        v.want_dst(ins, StructT(sd.name), what)
        return
    sty = types[0]
    if not isinstance(sty, StructT) or sty.name not in v.m.structs:
        v.err(f"{what}: operand 0 has type {sty}, expected a declared struct")
        return
    fields = v.m.structs[sty.name].fields
    idx = ins.extra
    assert isinstance(idx, int)
    if not 0 <= idx < len(fields):
        v.err(f"{what}: field index {idx} out of range for {sty.name}")
        return
    fty = fields[idx][1]
    if ins.op == "field_get":
        v.want_dst(ins, fty, what)
    else:
        if types[1] != fty:
            v.err(f"{what}: value has type {types[1]}, field has {fty}")
        v.want_dst(ins, sty, what)


def _tuple(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    if ins.op == "tuple_new":
        v.want_dst(ins, TupleT(tuple(types)), what)
        return
    tty = types[0]
    idx = ins.extra
    assert isinstance(idx, int)
    if not isinstance(tty, TupleT):
        v.err(f"{what}: operand 0 has type {tty}, expected a tuple")
    elif not 0 <= idx < len(tty.elems):
        v.err(f"{what}: element index {idx} out of range for {tty}")
    else:
        v.want_dst(ins, tty.elems[idx], what)


def _enum(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    if ins.op == "enum_new":
        assert isinstance(ins.extra, str)
        ename, _, vname = ins.extra.rpartition(".")
        ed = v.m.enums.get(ename)
        vi = ed.variant_index(vname) if ed is not None else -1
        if ed is None or vi < 0:
            v.err(f"{what}: unknown enum variant {ins.extra}")
            return
        v.want_args(types, ed.variants[vi][1], what)
        v.want_dst(ins, EnumT(ed.name), what)
        return
    ety = types[0]
    if not isinstance(ety, EnumT) or ety.name not in v.m.enums:
        v.err(f"{what}: operand 0 has type {ety}, expected a declared enum")
        return
    if ins.op == "enum_field":
        assert isinstance(ins.extra, str)
        a, _, b = ins.extra.partition(".")
        if not (a.isdigit() and b.isdigit() and a.isascii() and b.isascii()):
            v.err(f"{what}: extra {ins.extra!r} is not 'VARIANT.INDEX'")
            return
        variants = v.m.enums[ety.name].variants
        vi, fi = int(a), int(b)
        if vi >= len(variants) or fi >= len(variants[vi][1]):
            v.err(f"{what}: payload {ins.extra} out of range for {ety.name}")
            return
        v.want_dst(ins, variants[vi][1][fi], what)


def _option(v: _FnVerifier, ins: Instr, types: list[Type], what: str) -> None:
    op = ins.op
    if op == "opt_none":
        assert isinstance(ins.extra, Type)
        if not isinstance(ins.extra, OptionT):
            v.err(f"{what}: extra {ins.extra} is not an option type")
        v.want_dst(ins, ins.extra, what)
        return
    if op == "opt_some":
        v.want_dst(ins, OptionT(types[0]), what)
        return
    oty = types[0]
    if not isinstance(oty, OptionT):
        v.err(f"{what}: operand 0 has type {oty}, expected an option")
    elif op == "opt_get":
        v.want_dst(ins, oty.inner, what)


_Check = Callable[[_FnVerifier, Instr, list[Type], str], None]
_SPECIAL: dict[str, _Check] = {
    "copy": _copy,
    "select": _select,
    "call": _call,
    "callext": _call,
    "gload": _global,
    "gstore": _global,
    "array_new": _array,
    "array_get": _array,
    "array_set": _array,
    "array_len": _array,
    "array_push": _array,
    "array_pop": _array,
    "struct_new": _struct,
    "field_get": _struct,
    "field_set": _struct,
    "tuple_new": _tuple,
    "tuple_get": _tuple,
    "enum_new": _enum,
    "enum_tag": _enum,
    "enum_field": _enum,
    "opt_some": _option,
    "opt_none": _option,
    "opt_is_some": _option,
    "opt_get": _option,
}


def verify_function(f: Function, module: Module) -> list[str]:
    """The problems of one function (empty when it is well formed)."""
    return _FnVerifier(f, module).run()


def verify_module(m: Module) -> list[str]:
    """The problems of a whole module (empty when it is well formed)."""
    problems: list[str] = []
    dummy = Function("<module>", [], UNIT)
    decl = _FnVerifier(dummy, m)
    decl.where = "module"
    for key, s in m.structs.items():
        if s.name != key:
            decl.err(f"struct {key} is declared under the name {s.name}")
        for fname, fty in s.fields:
            decl.check_type(fty, f"struct {key} field {fname}")
    for key, e in m.enums.items():
        if e.name != key:
            decl.err(f"enum {key} is declared under the name {e.name}")
        for vname, payload in e.variants:
            for pty in payload:
                decl.check_type(pty, f"enum {key} variant {vname}")
    for key, g in m.globals.items():
        if g.name != key:
            decl.err(f"global {key} is declared under the name {g.name}")
        decl.check_type(g.ty, f"global @{key}")
    for kind, table in (("extern", m.externs), ("import", m.imports)):
        for key, x in table.items():
            if x.name != key:
                decl.err(f"{kind} {key} is declared under the name {x.name}")
            for pty in [*x.params, x.ret]:
                decl.check_type(pty, f"{kind} @{key}")
    problems.extend(decl.problems)
    for key, f in m.functions.items():
        if f.name != key:
            problems.append(f"function {key} is registered under the name {f.name}")
        problems.extend(verify_function(f, m))
    return problems


def check_function(f: Function, module: Module, context: str = "") -> None:
    """Raise ``InternalCompilerError`` when ``f`` is malformed."""
    problems = verify_function(f, module)
    if problems:
        head = f"invalid MIR{' after ' + context if context else ''}:"
        raise InternalCompilerError("\n  ".join([head, *problems]))


def check_module(m: Module, context: str = "") -> None:
    """Raise ``InternalCompilerError`` listing every problem of a malformed module."""
    problems = verify_module(m)
    if problems:
        head = f"invalid MIR{' after ' + context if context else ''}:"
        raise InternalCompilerError("\n  ".join([head, *problems]))
