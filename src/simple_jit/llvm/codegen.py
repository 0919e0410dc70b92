"""MIR -> LLVM IR, written once and used by both the JIT and AOT executables.

Conventions of the generated code:

* Every Simple function becomes ``internal`` function ``spl.NAME`` taking its
  parameters plus one hidden last argument, the stack limit (an ``i64``
  address).  Calls into a function of the caller's own call-graph cycle check
  ``stack address < limit`` first and raise the ``stack overflow`` runtime
  error at the call's position; calls that cannot recurse pay nothing.
* ``simple_program_main(i64 limit) -> i64`` runs ``$init`` then ``main`` and
  returns the exit code.  The C runtime's ``rt_run_main`` calls it on a large
  stack inside a recovery point, in the JIT and in AOT executables alike.
* Registers become allocas in the entry block (``mem2reg`` promotes them from
  -O1); counted registers (texts and tier-2 values) start as null so that
  the explicit ``decref`` of a not-yet-assigned register is harmless.
* Runtime errors unwind through the frames instead of jumping over them: the
  failing instruction records the error (``rt_error_set(kind, file, line,
  col)``) and branches to its function's ``cleanup`` block, which releases
  every register the frame owns and returns with the error flag set.  Every
  Simple function returns ``{result, i1 failed}`` (``i1 failed`` for unit
  results), and every call tests the flag and, when set, leaves through its
  own cleanup block.  The entry points (``simple_program_main``, manager
  trampolines and unit initialisers) turn a set flag into ``rt_error_raise``,
  the longjmp to the runtime's recovery point -- by then no frame of
  generated code holds anything.  For this, every counted register has a
  stack slot (mem2reg promotes it from -O1), starts null, and is cleared by
  the ``decref`` that precedes a redefinition, so at any instruction that can
  fail each owned register holds exactly one reference or null.  Parameters
  that are never assigned are borrowed and not released; the refcount pass's
  ``rc.old`` and ``rc.borrowed`` registers own nothing and are not released
  either.  (Only "out of memory" inside the runtime still longjmps
  over frames.)
* Text literals are immortal constants laid out as the runtime's
  ``SimpleText`` (``{i64 rc = -1, i64 len, [len+1 x i8]}``).

Tier 2 (arrays, structs, tuples, enums, options).  Every tier-2 value is a
pointer to a reference-counted heap object of the C runtime (``simple_rt.h``)
starting with the header ``{i64 rc, ptr desc}``:

* arrays ``{rc, desc, i64 len, i64 cap, ptr data}``, the data a growable
  buffer of 64-bit slots (of bytes 0/1 for ``[bool]``: eight times less
  memory traffic for arrays of flags); records ``{rc, desc, i64 tag, slots...}`` for
  structs, tuples, enum values (``tag`` = variant index, one slot per
  payload value) and ``Some`` boxes.  A slot holds an i64, the bits of an
  f64, a bool as 0/1, unit as 0, or a pointer (text or object).
* An option is NULL for ``nil`` or a one-slot ``Some`` box, whatever its
  inner type, so ``i64?`` and ``i64??`` need no special case; options are
  counted like every other tier-2 value (``refcount.needs_rc``).
* ``desc`` points at a constant ``RtDesc`` that this module emits once per
  type (``ModuleCodegen.desc``): the kind (array, struct, tuple, enum, some),
  the struct or enum name, and per variant its name, the ``RT_SLOT_*`` kind
  of each slot (so ``rt_obj_decref`` knows which children to release) and the
  struct field names (for display).  ``rt_obj_incref``/``rt_obj_decref`` are
  uniform for all objects; freeing is iterative, so dropping a long chain of
  enum values does not recurse on the C stack.  ``print`` and ``totext`` of
  any tier-2 value go to ``rt_obj_print``/``rt_obj_totext``.
* Structs, tuples and enum values are immutable once built: ``field_set``
  clones the record (``rt_obj_clone`` takes references to the children) and
  replaces one slot, which is the value semantics of structs; arrays are
  mutated in place (they are shared references).
* Reads (``array_get``, ``field_get``, ``tuple_get``, ``enum_field``,
  ``opt_get``) and sizes are inline loads; ``array_get``/``array_set`` adjust
  a negative index by the length and compare unsigned against the length
  (``index out of range`` at the instruction's position); ``array_pop``
  checks for an empty array inline, then ``rt_array_pop`` hands the element's
  reference to the destination; ``array_push`` calls ``rt_array_push``
  (doubling growth).  Reference counts of children follow the refcount
  pass's rules: reads are followed by an ``incref`` in MIR, stores are
  preceded by one; ``array_set`` and ``field_set`` release the slot they
  overwrite; an ``array_set`` that fails releases the value it was given.
  Reads the refcount pass leaves borrowed (``rc.borrowed``: block-local, and
  nothing in between can release a reference) cost no counting at all.

Architecture invariant: this module sees only MIR, never the AST or HIR.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from simple_jit._record import field, record
from simple_jit.diagnostics import Loc
from simple_jit.llvm import irtext as ir
from simple_jit.llvm.textfuse import plan_appends
from simple_jit.mir.callgraph import strongly_connected
from simple_jit.mir.ir import (
    Const,
    Function,
    Instr,
    Module,
    Operand,
    Reg,
)
from simple_jit.mir.passes.refcount import BORROWED_REG, OLD_VALUE_REG, needs_rc
from simple_jit.mir.recordfuse import plan_records
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    TEXT,
    UNIT,
    ArrayT,
    EnumT,
    OptionT,
    StructT,
    TupleT,
    Type,
    zero_variant,
)

I1 = ir.IntType(1)
I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64T = ir.IntType(64)
F64T = ir.DoubleType()
PTR = ir.PointerType()
VOID = ir.VoidType()

ENTRY_SYMBOL = "simple_program_main"

# rt_panic kinds (the C runtime maps them to the spec's messages)
PANIC_DIV_ZERO = 1
PANIC_NEG_EXP = 2
PANIC_INDEX = 3
PANIC_POP_EMPTY = 4
PANIC_STACK = 5

# Tier-2 object layout (simple_rt.h): every object starts {i64 rc, ptr desc};
# records (struct, tuple, enum value, Some box) continue {i64 tag, slots...},
# arrays {i64 len, i64 cap, ptr data}.  Indices are of 64-bit words.
OBJ_TAG = 2
OBJ_SLOTS = 3
ARR_LEN = 2
ARR_DATA = 4
# RT_SLOT_* and RT_DESC_* of simple_rt.h
SLOT_I64, SLOT_F64, SLOT_BOOL, SLOT_UNIT, SLOT_TEXT, SLOT_OBJ = range(6)
DESC_ARRAY, DESC_STRUCT, DESC_TUPLE, DESC_ENUM, DESC_SOME = range(1, 6)
# RtVariant {name, nslots, kinds, fields} and RtDesc {kind, name, nvariants, variants}
VARIANT_T = ir.LiteralStructType([PTR, I64T, PTR, PTR])
DESC_T = ir.LiteralStructType([I64T, PTR, I64T, PTR])
# How the host enters compiled code: ``i64 (ptr slots, i64 stack_limit, ptr fn_slot)``.
TRAMPOLINE_T = ir.FunctionType(I64T, [PTR, I64T, PTR])


class UnsupportedByBackend(Exception):
    """A MIR construct this backend cannot compile yet."""


@record
class UnitLinkage:
    """How one unit of an execution manager links with the units before it.

    Every function ``F`` is reached through a slot ``slot.F`` (a global
    holding its address), so a later unit can redefine ``F`` and every caller
    compiled earlier follows.  ``prefix`` keeps this unit's symbols apart from
    other units'.  Slots and globals that earlier units defined are declared
    here, not defined.  The host enters a function through a trampoline
    shared by every function of its host signature (``host_signature``),
    ``tramp.PREFIX.SIG``, which takes the arguments as an array of 64-bit
    slots and the function's slot (see ``_trampoline``); a unit defines the
    trampolines of the signatures no earlier unit has (``earlier_trampolines``).
    """

    prefix: str
    earlier_slots: set[str] = field(default_factory=set)
    earlier_globals: set[str] = field(default_factory=set)
    earlier_trampolines: set[str] = field(default_factory=set)


class _FnPtr:
    """A function pointer value with a known function type, for ``IRBuilder.call``."""

    def __init__(self, value: ir.Value, fnty: ir.FunctionType) -> None:
        self.ref = value.ref
        self.function_type = fnty


def llvm_type(ty: Type) -> ir.Type:
    if ty == I64:
        return I64T
    if ty == F64:
        return F64T
    if ty == BOOL:
        return I1
    if ty == TEXT:
        return PTR
    if ty == UNIT:
        return VOID
    if isinstance(ty, ArrayT | StructT | TupleT | EnumT | OptionT):
        return PTR  # a tier-2 object (an option: NULL for nil)
    raise UnsupportedByBackend(f"type {ty} is not supported by the LLVM backend yet")


def slot_kind(ty: Type) -> int:
    """How the runtime treats a 64-bit slot holding a value of ``ty`` (``RT_SLOT_*``)."""
    if ty == I64:
        return SLOT_I64
    if ty == F64:
        return SLOT_F64
    if ty == BOOL:
        return SLOT_BOOL
    if ty == UNIT:
        return SLOT_UNIT
    if ty == TEXT:
        return SLOT_TEXT
    return SLOT_OBJ


def symbol(name: str) -> str:
    return "spl." + name


# name -> (return type, parameter types); bool is passed to C as i32.
_RUNTIME: dict[str, tuple[ir.Type, tuple[ir.Type, ...]]] = {
    "rt_panic": (VOID, (I32, PTR, I32, I32)),
    "rt_print_i64": (VOID, (I64T,)),
    "rt_print_f64": (VOID, (F64T,)),
    "rt_fpow": (F64T, (F64T, F64T)),
    "rt_print_bool": (VOID, (I32,)),
    "rt_print_text": (VOID, (PTR,)),
    "rt_print_unit": (VOID, ()),
    "rt_text_incref": (VOID, (PTR,)),
    "rt_text_decref": (VOID, (PTR,)),
    "rt_text_concat": (PTR, (PTR, PTR)),
    "rt_text_append": (PTR, (PTR, PTR)),
    "rt_text_build": (PTR, (I64T, PTR)),
    "rt_text_append_i64": (PTR, (PTR, I64T)),
    "rt_text_append_f64": (PTR, (PTR, F64T)),
    "rt_text_len": (I64T, (PTR,)),
    "rt_text_contains": (I32, (PTR, PTR)),
    "rt_text_starts_with": (I32, (PTR, PTR)),
    "rt_text_ends_with": (I32, (PTR, PTR)),
    "rt_text_trim": (PTR, (PTR,)),
    "rt_text_upper": (PTR, (PTR,)),
    "rt_text_lower": (PTR, (PTR,)),
    "rt_text_repeat": (PTR, (PTR, I64T)),
    "rt_text_cmp": (I64T, (PTR, PTR)),
    "rt_text_eq": (I32, (PTR, PTR)),
    "rt_text_from_i64": (PTR, (I64T,)),
    "rt_text_from_f64": (PTR, (F64T,)),
    "rt_text_from_bool": (PTR, (I32,)),
    "rt_text_from_unit": (PTR, ()),
    "rt_obj_alloc": (PTR, (PTR, I64T, I64T)),
    "rt_obj_clone": (PTR, (PTR,)),
    "rt_array_new": (PTR, (PTR, I64T)),
    "rt_array_push": (VOID, (PTR, I64T)),
    "rt_array_pop": (I64T, (PTR, PTR, I32, I32)),
    "rt_obj_incref": (VOID, (PTR,)),
    "rt_obj_decref": (VOID, (PTR,)),
    "rt_obj_print": (VOID, (PTR,)),
    "rt_obj_totext": (PTR, (PTR,)),
    "rt_error_set": (VOID, (I32, PTR, I32, I32)),
    "rt_error_raise": (VOID, ()),
}

_TEXT_UNARY = {"ttrim": "rt_text_trim", "tupper": "rt_text_upper", "tlower": "rt_text_lower"}
_TEXT_PRED = {
    "tcontains": "rt_text_contains",
    "tstarts": "rt_text_starts_with",
    "tends": "rt_text_ends_with",
}
_ICMP = {"ieq": "==", "ine": "!=", "ilt": "<", "ile": "<=", "igt": ">", "ige": ">="}
_FCMP = {"feq": "==", "fne": "!=", "flt": "<", "fle": "<=", "fgt": ">", "fge": ">="}
_TCMP = {"tlt": "<", "tle": "<=", "tgt": ">", "tge": ">="}
_IBIN = {"iadd": "add", "isub": "sub", "imul": "mul", "iand": "and_", "ior": "or_", "ixor": "xor"}
_FBIN = {"fadd": "fadd", "fsub": "fsub", "fmul": "fmul", "fdiv": "fdiv", "frem": "frem"}


class ModuleCodegen:
    """Translates one MIR module into one LLVM module (``irtext.Module``)."""

    def __init__(
        self, mir: Module, triple: str = "", data_layout: str = "", unit: UnitLinkage | None = None
    ) -> None:
        self.mir = mir
        self.unit = unit
        self.slots: dict[str, ir.GlobalVariable] = {}
        self.fn_types: dict[str, ir.FunctionType] = {}
        self.module = ir.Module(name=mir.source_name)
        if triple:
            self.module.triple = triple
        if data_layout:
            self.module.data_layout = data_layout
        self.functions: dict[str, ir.Function] = {}
        # manager units: each function the host can call -> its trampoline's signature
        self.host_sigs: dict[str, str] = {}
        self.runtime: dict[str, ir.Function] = {}
        self.globals: dict[str, ir.GlobalVariable] = {}
        self.texts: dict[str, ir.GlobalVariable] = {}
        self.descs: dict[Type, ir.GlobalVariable] = {}
        self.intrinsics: dict[str, ir.Function] = {}
        self.recursive: dict[str, frozenset[str]] = strongly_connected(mir)[1]
        self.file_name = self._cstring(".file", mir.source_name)
        self._ipow: ir.Function | None = None
        self.tbaa_root: ir.MDValue | None = None
        self.tbaa_tags: dict[str, ir.MDValue] = {}

    # ----------------------------------------------------------------- module

    def generate(self) -> ir.Module:
        mir = self.mir
        for ext in mir.externs.values():
            fnty = ir.FunctionType(llvm_type(ext.ret), [_abi_type(t) for t in ext.params])
            self.functions["extern:" + ext.name] = ir.Function(self.module, fnty, ext.name)
        unit = self.unit
        for g in mir.globals.values():
            gv = ir.GlobalVariable(self.module, llvm_type(g.ty), "g." + g.name)
            if unit is None:
                gv.linkage = "internal"
            if unit is None or g.name not in unit.earlier_globals:
                gv.initializer = self._zero(g.ty)
            self.globals[g.name] = gv
        for f in mir.functions.values():
            fnty = _fn_type([p.ty for p in f.params], f.ret)
            self.fn_types[f.name] = fnty
            name = symbol(f.name) if unit is None else f"spl.{unit.prefix}.{f.name}"
            fn = ir.Function(self.module, fnty, name)
            if unit is None:
                fn.linkage = "internal"
            self.functions[f.name] = fn
        if unit is not None:
            for imp in mir.imports.values():
                self.fn_types[imp.name] = _fn_type(imp.params, imp.ret)
            for name in [*mir.functions, *mir.imports]:
                slot = ir.GlobalVariable(self.module, PTR, "slot." + name)
                if name in mir.functions and name not in unit.earlier_slots:
                    slot.initializer = self.functions[name]
                self.slots[name] = slot
        for f in mir.functions.values():
            FunctionCodegen(self, f).generate()
        if unit is None:
            self._entry()
        else:
            self._unit_init(unit)
            made = set(unit.earlier_trampolines)
            for f in mir.functions.values():
                sig = host_signature([p.ty for p in f.params], f.ret)
                if f.name != Module.INIT and sig is not None:
                    self.host_sigs[f.name] = sig
                    if sig not in made:
                        made.add(sig)
                        self._trampoline(f, sig, unit)
        return self.module

    def _unit_init(self, unit: UnitLinkage) -> None:
        # Same signature as a trampoline, so the host runs it the same way.
        fn = ir.Function(self.module, TRAMPOLINE_T, f"init.{unit.prefix}")
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        self._zero_globals(b, unit.earlier_globals)
        init = self.functions.get(Module.INIT)
        if init is not None:
            _call_checked(b, b.call(init, [fn.args[1]]), UNIT, _raise_block(self, fn))
        b.ret(ir.Constant(I64T, 0))

    def _trampoline(self, f: Function, sig: str, unit: UnitLinkage) -> None:
        """``i64 tramp(ptr slots, i64 limit, ptr slot)``: the host's way into a function.

        One per host signature ``sig`` (of ``f`` and every function like it),
        called with the function's slot, so a trampoline stays right after
        the function is redefined.  Arguments arrive as 64-bit slots (i64 as
        is, f64 as its bits, bool as 0/1, text as a borrowed pointer); the
        result leaves the same way (a text result is a new reference).
        """
        fn = ir.Function(self.module, TRAMPOLINE_T, f"tramp.{unit.prefix}.{sig}")
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        slots, limit, slot = fn.args
        args: list[ir.Value] = []
        for i, p in enumerate(p for p in f.params if p.ty != UNIT):
            raw = b.load(b.gep(slots, [ir.Constant(I64T, i)], source_etype=I64T), typ=I64T)
            args.append(_from_slot(b, raw, p.ty))
        target = b.load(slot, typ=PTR)
        result = b.call(_FnPtr(target, self.fn_types[f.name]), [*args, limit])
        value = _call_checked(b, result, f.ret, _raise_block(self, fn))
        b.ret(_to_slot(b, value if value is not None else ir.Constant(I64T, 0), f.ret))

    def _entry(self) -> None:
        fn = ir.Function(self.module, ir.FunctionType(I64T, [I64T]), ENTRY_SYMBOL)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        limit = fn.args[0]
        failed = fn.append_basic_block("raise")
        self._zero_globals(b, ())
        init = self.functions.get(Module.INIT)
        if init is not None:
            _call_checked(b, b.call(init, [limit]), UNIT, failed)
        main = self.mir.functions.get("main")
        result: ir.Value = ir.Constant(I64T, 0)
        if main is not None and not main.params:
            value = _call_checked(b, b.call(self.functions["main"], [limit]), main.ret, failed)
            if main.ret == I64 and value is not None:
                result = value
        self._release_globals(b)
        b.ret(result)
        # a runtime error: the same, then report it (AOT: print, exit 101)
        b = ir.IRBuilder(failed)
        self._release_globals(b)
        b.call(self.rt("rt_error_raise"), [])
        b.unreachable()

    def _release_globals(self, b: ir.IRBuilder) -> None:
        """At the end of a program, drop what its globals hold: nothing is left alive."""
        for g in self.mir.globals.values():
            if needs_rc(g.ty):
                gv = self.globals[g.name]
                name = "rt_text_decref" if g.ty == TEXT else "rt_obj_decref"
                b.call(self.rt(name), [b.load(gv, typ=PTR)])
                b.store(ir.Constant(PTR, None), gv)

    def _zero_globals(self, b: ir.IRBuilder, earlier: Collection[str]) -> None:
        """Give the tier-2 globals of this module (not ``earlier`` ones) their zero values.

        A function may read a global before the top-level code assigns it; the
        interpreter (``interp.machine.zero_value``) and the Cranelift backend
        then see ``[]``, records of zeros or an enum's first variant, never a
        null pointer.  (Options start as ``nil``: null is right for them.)
        """
        for g in self.mir.globals.values():
            if g.name not in earlier and isinstance(g.ty, ArrayT | TupleT | StructT | EnumT):
                b.store(self._zero_value(b, g.ty, frozenset()), self.globals[g.name])

    def _zero_value(self, b: ir.IRBuilder, ty: Type, enums: frozenset[str]) -> ir.Value:
        """A new zero value of ``ty`` (as a 64-bit slot holds it for records)."""
        if isinstance(ty, ArrayT):
            return b.call(self.rt("rt_array_new"), [self.desc(ty), ir.Constant(I64T, 0)])
        tag = 0
        if isinstance(ty, EnumT):
            found = zero_variant(ty.name, self.mir.enums, self.mir.structs, enums)
            if found is None:
                return ir.Constant(PTR, None)  # no variant can be built
            tag, enums = found, enums | {ty.name}
            fields = list(self.mir.enums[ty.name].variants[tag][1])
        elif isinstance(ty, TupleT):
            fields = list(ty.elems)
        elif isinstance(ty, StructT) and ty.name in self.mir.structs:
            fields = [t for _, t in self.mir.structs[ty.name].fields]
        elif ty in (UNIT, BOOL):  # as a slot holds them
            return ir.Constant(I64T, 0)
        else:
            return self._zero(ty)  # numbers, "" (immortal), options (nil)
        count = ir.Constant(I64T, len(fields))
        obj = b.call(self.rt("rt_obj_alloc"), [self.desc(ty), ir.Constant(I64T, tag), count])
        for i, fty in enumerate(fields):
            slot = b.gep(obj, [ir.Constant(I64T, OBJ_SLOTS + i)], source_etype=I64T)
            b.store(self._zero_value(b, fty, enums), slot)
        return obj

    def _zero(self, ty: Type) -> ir.Value:
        if ty == TEXT:
            return self.text_const("")
        if ty == F64:
            return ir.Constant(F64T, 0.0)
        if llvm_type(ty) == PTR:
            return ir.Constant(PTR, None)
        return ir.Constant(llvm_type(ty), 0)

    # ------------------------------------------------------------- descriptors

    def _const_global(self, name: str, init: ir.Constant) -> ir.GlobalVariable:
        gv = ir.GlobalVariable(self.module, init.type, name)
        gv.linkage = "internal"
        gv.global_constant = True
        gv.initializer = init
        return gv

    def _variant(
        self, key: str, name: str | None, slots: list[Type], fields: list[str] | None
    ) -> ir.Constant:
        null = ir.Constant(PTR, None)
        kinds: ir.Value = null
        if slots:
            arr = ir.ArrayType(I8, len(slots))
            kinds = self._const_global(
                f"{key}.kinds", ir.Constant(arr, bytearray(slot_kind(t) for t in slots))
            )
        names: ir.Value = null
        if fields is not None and fields:
            strs = [self._cstring(f"{key}.f{i}", fname) for i, fname in enumerate(fields)]
            names = self._const_global(
                f"{key}.fields", ir.Constant(ir.ArrayType(PTR, len(strs)), strs)
            )
        vname = self._cstring(f"{key}.name", name) if name is not None else null
        return ir.Constant(VARIANT_T, [vname, ir.Constant(I64T, len(slots)), kinds, names])

    def desc(self, ty: Type) -> ir.GlobalVariable:
        """The runtime descriptor (``RtDesc``) of a tier-2 type, one constant per type."""
        found = self.descs.get(ty)
        if found is not None:
            return found
        key = f".desc{len(self.descs)}"
        name: str | None = None
        variants: list[ir.Constant]
        if isinstance(ty, ArrayT):
            kind, variants = DESC_ARRAY, [self._variant(key + ".v0", None, [ty.elem], None)]
        elif isinstance(ty, OptionT):
            kind, variants = DESC_SOME, [self._variant(key + ".v0", None, [ty.inner], None)]
        elif isinstance(ty, TupleT):
            kind, variants = DESC_TUPLE, [self._variant(key + ".v0", None, list(ty.elems), None)]
        elif isinstance(ty, StructT):
            sdef = self.mir.structs.get(ty.name)
            if sdef is None:
                raise UnsupportedByBackend(f"struct {ty.name} is not declared in this unit")
            kind, name = DESC_STRUCT, ty.name
            variants = [
                self._variant(
                    key + ".v0", None, [t for _, t in sdef.fields], [n for n, _ in sdef.fields]
                )
            ]
        elif isinstance(ty, EnumT):
            edef = self.mir.enums.get(ty.name)
            if edef is None:
                raise UnsupportedByBackend(f"enum {ty.name} is not declared in this unit")
            kind, name = DESC_ENUM, ty.name
            variants = [
                self._variant(f"{key}.v{i}", vname, list(ptys), None)
                for i, (vname, ptys) in enumerate(edef.variants)
            ]
        else:
            raise UnsupportedByBackend(f"no runtime descriptor for {ty}")
        null = ir.Constant(PTR, None)
        varr: ir.Value = null
        if variants:
            vty = ir.ArrayType(VARIANT_T, len(variants))
            varr = self._const_global(key + ".variants", ir.Constant(vty, variants))
        cname = self._cstring(key + ".name", name) if name is not None else null
        init = ir.Constant(
            DESC_T,
            [ir.Constant(I64T, kind), cname, ir.Constant(I64T, max(1, len(variants))), varr],
        )
        gv = self._const_global(key, init)
        self.descs[ty] = gv
        return gv

    def _cstring(self, name: str, s: str) -> ir.GlobalVariable:
        data = bytearray(s.encode("utf-8") + b"\0")
        gv = ir.GlobalVariable(self.module, ir.ArrayType(I8, len(data)), name)
        gv.linkage = "internal"
        gv.global_constant = True
        gv.initializer = ir.Constant(ir.ArrayType(I8, len(data)), data)
        return gv

    def text_const(self, s: str) -> ir.GlobalVariable:
        """An immortal ``SimpleText`` constant for a literal."""
        found = self.texts.get(s)
        if found is not None:
            return found
        data = bytearray(s.encode("utf-8") + b"\0")
        arr = ir.ArrayType(I8, len(data))
        sty = ir.LiteralStructType([I64T, I64T, arr])
        gv = ir.GlobalVariable(self.module, sty, f".text{len(self.texts)}")
        gv.linkage = "internal"
        gv.global_constant = True
        gv.unnamed_addr = True
        gv.align = 8
        gv.initializer = ir.Constant(
            sty, [ir.Constant(I64T, -1), ir.Constant(I64T, len(data) - 1), ir.Constant(arr, data)]
        )
        self.texts[s] = gv
        return gv

    def tbaa(self, kind: str) -> ir.MDValue:
        """The TBAA access tag of one kind of field of the runtime's objects.

        Each kind of memory the generated code reads and writes inline gets a
        type of its own under one root: array length, capacity and data
        pointer, array elements, record slots and enum tags.  A location is
        only ever accessed under its one kind, so LLVM may assume that a
        store to an element does not change an array's length or data
        pointer, and keep both in registers across a loop of stores.
        """
        tag = self.tbaa_tags.get(kind)
        if tag is None:
            m = self.module
            if self.tbaa_root is None:
                self.tbaa_root = m.add_metadata([ir.MetaDataString(m, "simple tbaa")])
            zero = ir.Constant(I64T, 0)
            ty = m.add_metadata([ir.MetaDataString(m, kind), self.tbaa_root, zero])
            tag = self.tbaa_tags[kind] = m.add_metadata([ty, ty, zero])
        return tag

    def rt(self, name: str) -> ir.Function:
        fn = self.runtime.get(name)
        if fn is None:
            ret, params = _RUNTIME[name]
            fn = ir.Function(self.module, ir.FunctionType(ret, params), name)
            if name in ("rt_panic", "rt_error_raise"):
                fn.attributes.add("noreturn")
                fn.attributes.add("cold")
            self.runtime[name] = fn
        return fn

    def intrinsic(self, name: str, ret: ir.Type, params: list[ir.Type]) -> ir.Function:
        fn = self.intrinsics.get(name)
        if fn is None:
            fn = ir.Function(self.module, ir.FunctionType(ret, params), name)
            self.intrinsics[name] = fn
        return fn

    def ipow(self) -> ir.Function:
        """``spl.rt.ipow(base, exp)``: wrapping exponentiation by squaring, exp >= 0."""
        if self._ipow is not None:
            return self._ipow
        fn = ir.Function(self.module, ir.FunctionType(I64T, [I64T, I64T]), "spl.rt.ipow")
        fn.linkage = "internal"
        base, exp = fn.args
        entry = fn.append_basic_block("entry")
        loop = fn.append_basic_block("loop")
        done = fn.append_basic_block("done")
        b = ir.IRBuilder(entry)
        b.branch(loop)
        b.position_at_end(loop)
        acc = b.phi(I64T)
        bb = b.phi(I64T)
        ee = b.phi(I64T)
        acc.add_incoming(ir.Constant(I64T, 1), entry)
        bb.add_incoming(base, entry)
        ee.add_incoming(exp, entry)
        odd = b.trunc(ee, I1)
        acc2 = b.select(odd, b.mul(acc, bb), acc)
        bb2 = b.mul(bb, bb)
        ee2 = b.lshr(ee, ir.Constant(I64T, 1))
        acc.add_incoming(acc2, loop)
        bb.add_incoming(bb2, loop)
        ee.add_incoming(ee2, loop)
        b.cbranch(b.icmp_unsigned("==", ee2, ir.Constant(I64T, 0)), done, loop)
        b.position_at_end(done)
        # exp == 0 enters the loop once: odd is false, acc stays 1
        b.ret(acc2)
        self._ipow = fn
        return fn


def _abi_type(ty: Type) -> ir.Type:
    return llvm_type(ty)


def host_signature(params: Collection[Type], ret: Type) -> str | None:
    """The key of the trampoline that runs a function of this shape for the host.

    One letter per argument slot and one for the result, as ``_from_slot``
    and ``_to_slot`` convert them (``p``: a pointer, text or tier-2), e.g.
    ``iif.i``; None when the host cannot call such a function.
    """
    try:
        kinds = "".join(_SLOT_LETTER[_slot_class(t)] for t in params if t != UNIT)
        return f"{kinds}.{_SLOT_LETTER[_slot_class(ret)]}"
    except (KeyError, UnsupportedByBackend):
        return None


def _slot_class(ty: Type) -> Type | str:
    return "p" if ty not in (I64, F64, BOOL, UNIT) and llvm_type(ty) == PTR else ty


_SLOT_LETTER: dict[Type | str, str] = {I64: "i", F64: "f", BOOL: "b", UNIT: "u", "p": "p"}


def _fn_type(params: list[Type], ret: Type) -> ir.FunctionType:
    """A Simple function's LLVM type: its parameters plus the stack limit.

    It returns ``{result, i1 failed}`` (just ``i1 failed`` for a unit result):
    a function that hits a runtime error releases what it owns and returns
    ``failed = 1`` (see ``FunctionCodegen.cleanup``).
    """
    return ir.FunctionType(_ret_type(ret), [llvm_type(t) for t in params if t != UNIT] + [I64T])


def _ret_type(ret: Type) -> ir.Type:
    if ret == UNIT:
        return I1
    return ir.LiteralStructType([llvm_type(ret), I1])


def _call_checked(
    b: ir.IRBuilder, result: ir.Value, ret: Type, on_error: ir.Block
) -> ir.Value | None:
    """Split a Simple call's result; branch to ``on_error`` if the callee failed."""
    if ret == UNIT:
        failed, value = result, None
    else:
        failed, value = b.extract_value(result, 1), b.extract_value(result, 0)
    ok = b.append_basic_block("call.ok")
    b.cbranch(failed, on_error, ok)
    b.position_at_end(ok)
    return value


def _raise_block(mc: ModuleCodegen, fn: ir.Function) -> ir.Block:
    """A block reporting the error recorded by a failed callee (``rt_error_raise``)."""
    blk = fn.append_basic_block("raise")
    b = ir.IRBuilder(blk)
    b.call(mc.rt("rt_error_raise"), [])
    b.unreachable()
    return blk


def _from_slot(b: ir.IRBuilder, raw: ir.Value, ty: Type) -> ir.Value:
    if ty == I64:
        return raw
    if ty == F64:
        return b.bitcast(raw, F64T)
    if ty == BOOL:
        return b.icmp_unsigned("!=", raw, ir.Constant(I64T, 0))
    if llvm_type(ty) == PTR:  # text or tier-2 object: borrowed from the host
        return b.inttoptr(raw, PTR)
    raise UnsupportedByBackend(f"host calls with {ty} arguments")


def _to_slot(b: ir.IRBuilder, v: ir.Value, ty: Type) -> ir.Value:
    if ty == UNIT:
        return ir.Constant(I64T, 0)
    if ty == I64:
        return v
    if ty == F64:
        return b.bitcast(v, I64T)
    if ty == BOOL:
        return b.zext(v, I64T)
    if llvm_type(ty) == PTR:  # a new reference for the host
        return b.ptrtoint(v, I64T)
    raise UnsupportedByBackend(f"host calls returning {ty}")


def _block_local_temps(f: Function) -> set[int]:
    """Registers defined once and used only later in the same block.

    They need no stack slot: their LLVM value is used directly, which keeps
    the IR small (and LLVM fast) without waiting for mem2reg.
    """
    where: dict[int, tuple[int, int]] = {}
    defs: dict[int, int] = {}
    for blk in f.blocks:
        for i, ins in enumerate(blk.instrs):
            if ins.dst is not None:
                defs[ins.dst.id] = defs.get(ins.dst.id, 0) + 1
                where[ins.dst.id] = (blk.id, i)
    params = {p.id for p in f.params}
    local = {r for r, n in defs.items() if n == 1 and r not in params}
    for blk in f.blocks:
        n = len(blk.instrs)
        uses = [(i, a) for i, ins in enumerate(blk.instrs) for a in ins.args]
        uses.extend((n, a) for a in blk.term.args)
        for i, a in uses:
            if isinstance(a, Reg) and a.id in local:
                b, at = where[a.id]
                if b != blk.id or i <= at:
                    local.discard(a.id)
    return local


class FunctionCodegen:
    def __init__(self, mc: ModuleCodegen, f: Function) -> None:
        self.mc = mc
        self.f = f
        self.fn = mc.functions[f.name]
        self.limit = self.fn.args[-1]
        self.slots: list[ir.AllocaInstr | None] = []
        self.ssa: dict[int, ir.Value] = {}  # block-local temporaries kept as SSA values
        self.blocks: list[ir.Block] = []
        self.b = ir.IRBuilder()
        self.cycle = mc.recursive.get(f.name, frozenset())
        self._cleanup: ir.Block | None = None
        # Registers whose reference this frame owns: released by the cleanup
        # path of a runtime error.  Parameters never assigned are borrowed;
        # the refcount pass's "rc.old" registers alias a register that is
        # about to be redefined, and its "rc.borrowed" registers borrow from
        # an aggregate: neither owns a reference.
        defined = {ins.dst.id for blk in f.blocks for ins in blk.instrs if ins.dst is not None}
        borrowed = {p.id for p in f.params if p.id not in defined}
        # In-place appends (textfuse.py): fused text temporaries are never
        # created, so they own nothing and their decrefs are dropped.
        self.appends = plan_appends(f)
        # Struct stores into array elements in place (recordfuse.py): the
        # records they absorb are never created either.
        self.records = plan_records(f, mc.mir.structs)
        self.appends.skip |= self.records.skip
        self.appends.fused |= self.records.fused
        self.pieces: dict[int, list[tuple[str, ir.Value]]] = {}
        # needs_rc of each register, asked once (generate asks it twice more)
        self.counted = [needs_rc(r.ty) for r in f.regs]
        self.owned = [
            r
            for r in f.regs
            if self.counted[r.id]
            and r.id not in borrowed
            and r.id not in self.appends.fused
            and r.name not in (OLD_VALUE_REG, BORROWED_REG)
        ]

    def generate(self) -> None:
        f, fn, b = self.f, self.fn, self.b
        entry = fn.append_basic_block("entry")
        self.blocks = [fn.append_basic_block(f"bb{blk.id}") for blk in f.blocks]
        b.position_at_end(entry)
        # Counted registers always get a stack slot, so the cleanup path can
        # find them (mem2reg promotes them all the same).
        counted = self.counted
        local = _block_local_temps(f) - {r.id for r in f.regs if counted[r.id]}
        for reg in f.regs:
            if reg.ty is UNIT or reg.id in local:
                self.slots.append(None)
                continue
            slot = b.alloca(llvm_type(reg.ty), name=f"r{reg.id}")
            self.slots.append(slot)
            if counted[reg.id]:
                b.store(ir.Constant(PTR, None), slot)
        for p, arg in zip(f.params, fn.args, strict=False):
            pslot = self.slots[p.id]
            if pslot is not None:
                b.store(arg, pslot)
        b.branch(self.blocks[0])
        for blk, lblock in zip(f.blocks, self.blocks, strict=True):
            b.position_at_end(lblock)
            plan = self.appends
            for i, ins in enumerate(blk.instrs):
                if (blk.id, i) in plan.skip:
                    continue
                if (blk.id, i) in plan.appends:
                    self.append(ins)
                elif (blk.id, i) in plan.builds:
                    self.build(ins)
                elif (blk.id, i) in self.records.stores:
                    self.store_record(ins, self.records.stores[(blk.id, i)])
                elif (blk.id, i) in self.records.field_sets:
                    self.field_set_in_place(ins)
                elif ins.dst is not None and ins.dst.id in plan.fused:
                    self.pieces[ins.dst.id] = self.text_pieces(ins)
                else:
                    self.instr(ins)
            self.term(blk.term)
        if self._cleanup is not None:
            self._emit_cleanup(self._cleanup)

    def cleanup(self) -> ir.Block:
        """The block a runtime error branches to (after ``rt_error_set``)."""
        if self._cleanup is None:
            self._cleanup = self.fn.append_basic_block("cleanup")
        return self._cleanup

    def _emit_cleanup(self, blk: ir.Block) -> None:
        """Release every owned register and return ``failed = 1``.

        Owned registers hold exactly one reference or null at every point
        where an error can occur: registers start null, and a ``decref``
        before a redefinition also clears the register.
        """
        b = ir.IRBuilder(blk)
        for reg in self.owned:
            slot = self.slots[reg.id]
            if slot is not None:
                self.b = b
                self.release(b.load(slot), reg.ty)
        ret = _ret_type(self.f.ret)
        if self.f.ret == UNIT:
            b.ret(ir.Constant(I1, 1))
        else:
            assert isinstance(ret, ir.LiteralStructType)
            value = ir.Constant(ret.elements[0], ir.Undefined)
            b.ret(
                b.insert_value(
                    b.insert_value(ir.Constant(ret, ir.Undefined), value, 0), ir.Constant(I1, 1), 1
                )
            )

    # ---------------------------------------------------------------- values

    def value(self, op: Operand) -> ir.Value:
        if isinstance(op, Reg):
            slot = self.slots[op.id]
            if slot is None:
                v = self.ssa.get(op.id)
                if v is None:
                    raise UnsupportedByBackend("unit registers have no value")
                return v
            return self.b.load(slot)
        return self.const(op)

    def const(self, c: Const) -> ir.Value:
        ty, v = c.ty, c.value
        if ty == I64:
            assert isinstance(v, int)
            return ir.Constant(I64T, v)
        if ty == F64:
            assert isinstance(v, float)
            return ir.Constant(F64T, v)
        if ty == BOOL:
            return ir.Constant(I1, 1 if v else 0)
        if ty == TEXT:
            assert isinstance(v, str)
            return self.mc.text_const(v)
        if isinstance(ty, OptionT) and v is None:
            return ir.Constant(PTR, None)
        raise UnsupportedByBackend(f"constants of type {ty}")

    def store(self, dst: Reg | None, v: ir.Value) -> None:
        if dst is None:
            return
        slot = self.slots[dst.id]
        if slot is not None:
            self.b.store(v, slot)
        elif dst.ty != UNIT:
            self.ssa[dst.id] = v

    def panic_if(
        self,
        cond: ir.Value,
        kind: int,
        loc: Loc | None,
        release: tuple[ir.Value, Type] | None = None,
    ) -> None:
        """Raise runtime error ``kind`` at ``loc`` when ``cond`` holds.

        The error is recorded (``rt_error_set``) and the function leaves
        through its cleanup path; ``release`` is a reference the failing
        instruction was handed and must drop first.
        """
        b = self.b
        with b.if_then(cond, likely=False):
            line, col = (loc.line, loc.col) if loc is not None else (0, 0)
            b.call(
                self.mc.rt("rt_error_set"),
                [
                    ir.Constant(I32, kind),
                    self.mc.file_name,
                    ir.Constant(I32, line),
                    ir.Constant(I32, col),
                ],
            )
            if release is not None:
                self.release(*release)
            b.branch(self.cleanup())

    def to_c_bool(self, v: ir.Value) -> ir.Value:
        return self.b.zext(v, I32)

    def from_c_bool(self, v: ir.Value) -> ir.Value:
        return self.b.icmp_signed("!=", v, ir.Constant(I32, 0))

    # ---------------------------------------------------------- instructions

    def instr(self, ins: Instr) -> None:
        op = ins.op
        handler = _HANDLERS.get(op)
        if handler is not None:
            handler(self, ins)
            return
        b = self.b
        if op in _IBIN:
            a, c = (self.value(x) for x in ins.args)
            self.store(ins.dst, getattr(b, _IBIN[op])(a, c))
        elif op in _FBIN:
            a, c = (self.value(x) for x in ins.args)
            self.store(ins.dst, getattr(b, _FBIN[op])(a, c))
        elif op in _ICMP:
            a, c = (self.value(x) for x in ins.args)
            self.store(ins.dst, b.icmp_signed(_ICMP[op], a, c))
        elif op in _FCMP:
            a, c = (self.value(x) for x in ins.args)
            fcmp = b.fcmp_unordered if op == "fne" else b.fcmp_ordered
            self.store(ins.dst, fcmp(_FCMP[op], a, c))
        elif op in ("beq", "bne"):
            a, c = (self.value(x) for x in ins.args)
            self.store(ins.dst, b.icmp_unsigned("==" if op == "beq" else "!=", a, c))
        elif op in _TCMP:
            a, c = (self.value(x) for x in ins.args)
            r = b.call(self.mc.rt("rt_text_cmp"), [a, c])
            self.store(ins.dst, b.icmp_signed(_TCMP[op], r, ir.Constant(I64T, 0)))
        elif op in _TEXT_UNARY:
            self.store(ins.dst, b.call(self.mc.rt(_TEXT_UNARY[op]), [self.value(ins.args[0])]))
        elif op in _TEXT_PRED:
            a, c = (self.value(x) for x in ins.args)
            self.store(ins.dst, self.from_c_bool(b.call(self.mc.rt(_TEXT_PRED[op]), [a, c])))
        else:
            raise UnsupportedByBackend(
                f"MIR operation '{op}' is not supported by the LLVM backend yet"
            )

    def i_copy(self, ins: Instr) -> None:
        if ins.dst is not None and ins.dst.ty != UNIT:
            self.store(ins.dst, self.value(ins.args[0]))

    def i_divrem(self, ins: Instr) -> None:
        b = self.b
        a, c = ins.args
        av, cv = self.value(a), self.value(c)
        is_rem = ins.op == "irem"
        if isinstance(c, Const) and isinstance(c.value, int) and c.value not in (0, -1):
            self.store(ins.dst, b.srem(av, cv) if is_rem else b.sdiv(av, cv))
            return
        zero = ir.Constant(I64T, 0)
        self.panic_if(b.icmp_signed("==", cv, zero), PANIC_DIV_ZERO, ins.loc)
        # i64::MIN / -1 overflows in hardware; the language defines it to wrap.
        minus1 = b.icmp_signed("==", cv, ir.Constant(I64T, -1))
        safe = b.select(minus1, ir.Constant(I64T, 1), cv)
        if is_rem:
            self.store(ins.dst, b.select(minus1, zero, b.srem(av, safe)))
        else:
            self.store(ins.dst, b.select(minus1, b.sub(zero, av), b.sdiv(av, safe)))

    def i_ipow(self, ins: Instr) -> None:
        b = self.b
        av, ev = (self.value(x) for x in ins.args)
        self.panic_if(b.icmp_signed("<", ev, ir.Constant(I64T, 0)), PANIC_NEG_EXP, ins.loc)
        self.store(ins.dst, b.call(self.mc.ipow(), [av, ev]))

    def i_shift(self, ins: Instr) -> None:
        b = self.b
        av, cv = (self.value(x) for x in ins.args)
        count = b.and_(cv, ir.Constant(I64T, 63))
        self.store(ins.dst, b.shl(av, count) if ins.op == "ishl" else b.ashr(av, count))

    def i_unary_int(self, ins: Instr) -> None:
        b = self.b
        v = self.value(ins.args[0])
        zero = ir.Constant(I64T, 0)
        if ins.op == "ineg":
            self.store(ins.dst, b.sub(zero, v))
        elif ins.op == "inot":
            self.store(ins.dst, b.xor(v, ir.Constant(I64T, -1)))
        else:  # iabs
            self.store(ins.dst, b.select(b.icmp_signed("<", v, zero), b.sub(zero, v), v))

    def i_minmax(self, ins: Instr) -> None:
        b = self.b
        av, cv = (self.value(x) for x in ins.args)
        if ins.op in ("imin", "imax"):
            cmp = b.icmp_signed("<" if ins.op == "imin" else ">", av, cv)
        else:
            cmp = b.fcmp_ordered("<" if ins.op == "fmin" else ">", av, cv)
        self.store(ins.dst, b.select(cmp, av, cv))

    def i_float_unary(self, ins: Instr) -> None:
        b = self.b
        v = self.value(ins.args[0])
        if ins.op == "fneg":
            self.store(ins.dst, b.fneg(v))
            return
        name = {"fabs": "llvm.fabs.f64", "fsqrt": "llvm.sqrt.f64"}[ins.op]
        self.store(ins.dst, b.call(self.mc.intrinsic(name, F64T, [F64T]), [v]))

    def i_fpow(self, ins: Instr) -> None:
        # Not llvm.pow: LLVM would turn pow(8.0, x) into exp2(3.0 * x), which
        # rounds differently (see rt_fpow).
        av, cv = (self.value(x) for x in ins.args)
        self.store(ins.dst, self.b.call(self.mc.rt("rt_fpow"), [av, cv]))

    def i_not(self, ins: Instr) -> None:
        self.store(ins.dst, self.b.xor(self.value(ins.args[0]), ir.Constant(I1, 1)))

    def i_cast(self, ins: Instr) -> None:
        b = self.b
        v = self.value(ins.args[0])
        if ins.op == "i2f":
            self.store(ins.dst, b.sitofp(v, F64T))
        elif ins.op == "b2i":
            self.store(ins.dst, b.zext(v, I64T))
        else:  # f2i: truncate, saturate, NaN -> 0: exactly llvm.fptosi.sat
            fn = self.mc.intrinsic("llvm.fptosi.sat.i64.f64", I64T, [F64T])
            self.store(ins.dst, b.call(fn, [v]))

    def i_select(self, ins: Instr) -> None:
        c, x, y = (self.value(a) for a in ins.args)
        self.store(ins.dst, self.b.select(c, x, y))

    def i_text(self, ins: Instr) -> None:
        b, rt = self.b, self.mc.rt
        args = [self.value(a) for a in ins.args]
        if ins.op == "tconcat":
            self.store(ins.dst, b.call(rt("rt_text_concat"), args))
        elif ins.op == "tlen":
            self.store(ins.dst, b.call(rt("rt_text_len"), args))
        elif ins.op == "trepeat":
            self.store(ins.dst, b.call(rt("rt_text_repeat"), args))
        elif ins.op in ("teq", "tne"):
            eq = self.from_c_bool(b.call(rt("rt_text_eq"), args))
            self.store(ins.dst, eq if ins.op == "teq" else b.xor(eq, ir.Constant(I1, 1)))

    def text_pieces(self, ins: Instr) -> list[tuple[str, ir.Value]]:
        """The pieces of a fused ``tconcat``/``totext``, operands read here and now."""
        if ins.op == "totext":
            arg = ins.args[0]
            return [("i64" if arg.ty == I64 else "f64", self.value(arg))]
        return [p for a in ins.args for p in self.piece(a)]

    def piece(self, op: Operand) -> list[tuple[str, ir.Value]]:
        if isinstance(op, Reg) and op.id in self.pieces:
            return self.pieces.pop(op.id)
        return [("text", self.value(op))]

    def append(self, ins: Instr) -> None:
        """``x = tconcat x, y`` as in-place appends of y's pieces (textfuse.py)."""
        assert ins.dst is not None
        # The first piece is x itself (read where the fused tree began).
        pieces = self.piece(ins.args[0]) + self.piece(ins.args[1])
        acc = pieces[0][1]
        for kind, v in pieces[1:]:
            name = "rt_text_append" if kind == "text" else f"rt_text_append_{kind}"
            acc = self.b.call(self.mc.rt(name), [acc, v])
        self.store(ins.dst, acc)

    def build(self, ins: Instr) -> None:
        """``t = tconcat ...`` of a fused tree as one ``rt_text_build`` (textfuse.py)."""
        b = self.b
        pieces = self.piece(ins.args[0]) + self.piece(ins.args[1])
        # (kind, value) pairs in a stack array allocated once, in the entry block
        entry = ir.IRBuilder(self.fn.entry_basic_block)
        entry.position_at_start(self.fn.entry_basic_block)
        parts = entry.alloca(ir.ArrayType(I64T, 2 * len(pieces)))
        kinds = {"text": 0, "i64": 1, "f64": 2}  # RT_PIECE_* of simple_rt.h
        for i, (kind, v) in enumerate(pieces):
            if kind == "text":
                v = b.ptrtoint(v, I64T)
            elif kind == "f64":
                v = b.bitcast(v, I64T)
            at = b.gep(parts, [ir.Constant(I32, 0), ir.Constant(I32, 2 * i)])
            b.store(ir.Constant(I64T, kinds[kind]), at)
            b.store(v, b.gep(parts, [ir.Constant(I32, 0), ir.Constant(I32, 2 * i + 1)]))
        r = b.call(self.mc.rt("rt_text_build"), [ir.Constant(I64T, len(pieces)), parts])
        self.store(ins.dst, r)

    def i_totext(self, ins: Instr) -> None:
        b, rt = self.b, self.mc.rt
        arg = ins.args[0]
        ty = arg.ty
        if ty == UNIT:
            self.store(ins.dst, b.call(rt("rt_text_from_unit"), []))
            return
        v = self.value(arg)
        if ty == I64:
            r = b.call(rt("rt_text_from_i64"), [v])
        elif ty == F64:
            r = b.call(rt("rt_text_from_f64"), [v])
        elif ty == BOOL:
            r = b.call(rt("rt_text_from_bool"), [self.to_c_bool(v)])
        elif ty == TEXT:
            b.call(rt("rt_text_incref"), [v])  # the result is a new reference
            r = v
        elif llvm_type(ty) == PTR:
            r = b.call(rt("rt_obj_totext"), [v])
        else:
            raise UnsupportedByBackend(f"display of {ty}")
        self.store(ins.dst, r)

    def i_print(self, ins: Instr) -> None:
        b, rt = self.b, self.mc.rt
        arg = ins.args[0]
        ty = arg.ty
        if ty == UNIT:
            b.call(rt("rt_print_unit"), [])
            return
        v = self.value(arg)
        if ty == I64:
            b.call(rt("rt_print_i64"), [v])
        elif ty == F64:
            b.call(rt("rt_print_f64"), [v])
        elif ty == BOOL:
            b.call(rt("rt_print_bool"), [self.to_c_bool(v)])
        elif ty == TEXT:
            b.call(rt("rt_print_text"), [v])
        elif llvm_type(ty) == PTR:
            b.call(rt("rt_obj_print"), [v])
        else:
            raise UnsupportedByBackend(f"printing {ty}")

    def i_call(self, ins: Instr) -> None:
        b = self.b
        assert isinstance(ins.extra, str)
        args = [self.value(a) for a in ins.args if a.ty != UNIT]
        callee: ir.Function | _FnPtr
        if self.mc.unit is not None:
            # Through the slot (the callee may be redefined later); any call
            # may close a cycle across units, so every call checks the stack.
            target = b.load(self.mc.slots[ins.extra], typ=PTR)
            callee = _FnPtr(target, self.mc.fn_types[ins.extra])
        else:
            callee = self.mc.functions[ins.extra]
        if ins.extra in self.cycle or self.mc.unit is not None:
            # The return-address slot marks this frame's top without forcing a
            # frame pointer (llvm.frameaddress would).
            here = b.call(self.mc.intrinsic("llvm.addressofreturnaddress.p0", PTR, []), [])
            low = b.icmp_unsigned("<", b.ptrtoint(here, I64T), self.limit)
            self.panic_if(low, PANIC_STACK, ins.loc)
            # "notail": tail-recursion elimination would turn unbounded
            # recursion into an endless loop instead of a stack overflow.
            result = b.call(callee, [*args, self.limit], tail="notail")
        else:
            result = b.call(callee, [*args, self.limit])
        value = _call_checked(b, result, self.callee_ret(ins.extra), self.cleanup())
        if value is not None:
            self.store(ins.dst, value)

    def callee_ret(self, name: str) -> Type:
        f = self.mc.mir.functions.get(name)
        if f is not None:
            return f.ret
        return self.mc.mir.imports[name].ret

    def i_callext(self, ins: Instr) -> None:
        assert isinstance(ins.extra, str)
        callee = self.mc.functions["extern:" + ins.extra]
        args = [self.value(a) for a in ins.args]
        self.store(ins.dst, self.b.call(callee, args))

    def i_gload(self, ins: Instr) -> None:
        assert isinstance(ins.extra, str)
        if ins.dst is not None and ins.dst.ty != UNIT:
            gv = self.mc.globals[ins.extra]
            self.store(ins.dst, self.b.load(gv, typ=gv.value_type))

    def i_gstore(self, ins: Instr) -> None:
        assert isinstance(ins.extra, str)
        if ins.args[0].ty != UNIT:
            self.b.store(self.value(ins.args[0]), self.mc.globals[ins.extra])

    def i_refcount(self, ins: Instr) -> None:
        arg = ins.args[0]
        if not needs_rc(arg.ty) or isinstance(arg, Const):
            return
        if isinstance(arg, Reg) and arg.id in self.appends.fused:
            return  # never created (textfuse.py)
        if ins.op == "decref":
            self.release(self.value(arg), arg.ty)
        else:
            name = "rt_text_incref" if arg.ty == TEXT else "rt_obj_incref"
            self.b.call(self.mc.rt(name), [self.value(arg)])
        if ins.op == "decref" and isinstance(arg, Reg):
            slot = self.slots[arg.id]
            if slot is not None:  # released: the cleanup path must not see it again
                self.b.store(ir.Constant(PTR, None), slot)

    # ------------------------------------------------------- tier-2 objects

    def release(self, v: ir.Value, ty: Type) -> None:
        """Drop one reference to ``v`` (a value of ``ty``), if ``ty`` is counted.

        The null test is inline: registers that never got a value (or were
        released already) are null, and once LLVM sees the constant it drops
        the call, which it cannot know to be a no-op.
        """
        if not needs_rc(ty):
            return
        b = self.b
        name = "rt_text_decref" if ty == TEXT else "rt_obj_decref"
        with b.if_then(b.icmp_unsigned("!=", v, ir.Constant(PTR, None)), likely=True):
            b.call(self.mc.rt(name), [v])

    def slot_value(self, op: Operand) -> ir.Value:
        """An operand as it is stored in a 64-bit slot (bool widened, unit 0)."""
        if op.ty == UNIT:
            return ir.Constant(I64T, 0)
        v = self.value(op)
        if op.ty == BOOL:
            return self.b.zext(v, I64T)
        return v

    def slot_bits(self, op: Operand) -> ir.Value:
        """An operand as the i64 bits of its slot (for runtime calls)."""
        v = self.slot_value(op)
        if op.ty == F64:
            return self.b.bitcast(v, I64T)
        if v.type == PTR:
            return self.b.ptrtoint(v, I64T)
        return v

    def from_bits(self, raw: ir.Value, ty: Type) -> ir.Value | None:
        if ty == UNIT:
            return None
        if ty == F64:
            return self.b.bitcast(raw, F64T)
        if ty == BOOL:
            return self.b.trunc(raw, I1)
        if llvm_type(ty) == PTR:
            return self.b.inttoptr(raw, PTR)
        return raw

    def load_slot(self, addr: ir.Value, ty: Type, kind: str) -> ir.Value | None:
        if ty == UNIT:
            return None
        if ty == BOOL:
            return self.b.trunc(self.ld(addr, I64T, kind), I1)
        return self.ld(addr, llvm_type(ty), kind)

    def word(self, obj: ir.Value, index: ir.Value | int) -> ir.Value:
        """The address of 64-bit word ``index`` of an object."""
        idx = ir.Constant(I64T, index) if isinstance(index, int) else index
        return self.b.gep(obj, [idx], source_etype=I64T)

    def ld(self, addr: ir.Value, typ: ir.Type, kind: str) -> ir.Value:
        """Load a field of a runtime object, tagged with its TBAA ``kind``."""
        v = self.b.load(addr, typ=typ)
        v.set_metadata("tbaa", self.mc.tbaa(kind))
        return v

    def st(self, v: ir.Value, addr: ir.Value, kind: str) -> None:
        """Store a field of a runtime object, tagged with its TBAA ``kind``."""
        self.b.store(v, addr).set_metadata("tbaa", self.mc.tbaa(kind))

    def elem_addr(self, data: ir.Value, index: ir.Value | int, ety: Type) -> ir.Value:
        """The address of element ``index`` of an array's data (``[bool]``: one byte each)."""
        if ety == BOOL:
            idx = ir.Constant(I64T, index) if isinstance(index, int) else index
            return self.b.gep(data, [idx], source_etype=I8)
        return self.word(data, index)

    def elem_value(self, op: Operand) -> ir.Value:
        """An operand as an array element holds it (a bool as one byte 0/1)."""
        if op.ty == BOOL:
            return self.b.zext(self.value(op), I8)
        return self.slot_value(op)

    def put(self, dst: Reg | None, v: ir.Value | None) -> None:
        if dst is not None and v is not None and dst.ty != UNIT:
            self.store(dst, v)

    def new_record(self, ins: Instr, ty: Type, tag: int) -> None:
        b = self.b
        obj = b.call(
            self.mc.rt("rt_obj_alloc"),
            [self.mc.desc(ty), ir.Constant(I64T, tag), ir.Constant(I64T, len(ins.args))],
        )
        for i, a in enumerate(ins.args):
            self.st(self.slot_value(a), self.word(obj, OBJ_SLOTS + i), "slot")
        if ins.dst is None:  # its fields were counted for it: let it go
            b.call(self.mc.rt("rt_obj_decref"), [obj])
        else:
            self.store(ins.dst, obj)

    def i_record_new(self, ins: Instr) -> None:
        shape = self.mc.mir.record_shape(ins)
        if shape is None:
            enum = str(ins.extra).split(".", 1)[0]
            raise UnsupportedByBackend(f"enum {enum} is not declared in this unit")
        self.new_record(ins, *shape)

    def i_record_get(self, ins: Instr) -> None:
        if ins.dst is None:
            return
        if ins.op == "enum_field":
            assert isinstance(ins.extra, str)
            index = int(ins.extra.split(".")[1])
        elif ins.op == "opt_get":
            index = 0
        else:
            assert isinstance(ins.extra, int)
            index = ins.extra
        obj = self.value(ins.args[0])
        self.put(ins.dst, self.load_slot(self.word(obj, OBJ_SLOTS + index), ins.dst.ty, "slot"))

    def i_field_set(self, ins: Instr) -> None:
        b = self.b
        assert isinstance(ins.extra, int)
        src, new = ins.args
        copy = b.call(self.mc.rt("rt_obj_clone"), [self.value(src)])
        self.replace_slot(copy, ins.extra, new)
        if ins.dst is None:
            b.call(self.mc.rt("rt_obj_decref"), [copy])
        else:
            self.store(ins.dst, copy)

    def replace_slot(self, obj: ir.Value, index: int, new: Operand) -> None:
        """Store ``new`` into slot ``index`` of a record that owns its slots."""
        addr = self.word(obj, OBJ_SLOTS + index)
        if needs_rc(new.ty):
            old = self.ld(addr, PTR, "slot")
            self.st(self.slot_value(new), addr, "slot")
            self.release(old, new.ty)
        else:
            self.st(self.slot_value(new), addr, "slot")

    def field_set_in_place(self, ins: Instr) -> None:
        """``x = field_set #k x, v`` without its rc.old copy and decref (recordfuse.py)."""
        b = self.b
        assert isinstance(ins.extra, int) and ins.dst is not None
        src, new = ins.args
        obj = self.value(src)
        unique = b.icmp_signed("==", self.ld(obj, I64T, "rc"), ir.Constant(I64T, 1))
        with b.if_else(unique, likely=True) as (then, otherwise):
            with then:
                self.replace_slot(obj, ins.extra, new)
                shared = b.block
            with otherwise:
                copy = b.call(self.mc.rt("rt_obj_clone"), [obj])
                self.replace_slot(copy, ins.extra, new)
                b.call(self.mc.rt("rt_obj_decref"), [obj])  # x's reference to the original
                cloned = b.block
        result = b.phi(PTR)
        result.add_incoming(obj, shared)
        result.add_incoming(copy, cloned)
        self.store(ins.dst, result)

    def i_enum_tag(self, ins: Instr) -> None:
        obj = self.value(ins.args[0])
        self.put(ins.dst, self.ld(self.word(obj, OBJ_TAG), I64T, "tag"))

    def i_opt_none(self, ins: Instr) -> None:
        self.put(ins.dst, ir.Constant(PTR, None))

    def i_opt_is_some(self, ins: Instr) -> None:
        v = self.value(ins.args[0])
        self.put(ins.dst, self.b.icmp_unsigned("!=", v, ir.Constant(PTR, None)))

    def i_array_new(self, ins: Instr) -> None:
        b = self.b
        assert isinstance(ins.extra, Type)
        ty = ins.dst.ty if ins.dst is not None else ArrayT(ins.extra)
        arr = b.call(
            self.mc.rt("rt_array_new"), [self.mc.desc(ty), ir.Constant(I64T, len(ins.args))]
        )
        if ins.args:
            data = self.ld(self.word(arr, ARR_DATA), PTR, "data")
            for i, a in enumerate(ins.args):
                self.st(self.elem_value(a), self.elem_addr(data, i, ins.extra), "elem")
        if ins.dst is None:
            b.call(self.mc.rt("rt_obj_decref"), [arr])
        else:
            self.store(ins.dst, arr)

    def element(
        self, ins: Instr, release: tuple[ir.Value, Type] | None = None
    ) -> tuple[ir.Value, Type]:
        """Bounds-check ``ins.args[1]`` against array ``ins.args[0]``: (slot address, type)."""
        b = self.b
        aty = ins.args[0].ty
        assert isinstance(aty, ArrayT)
        arr = self.value(ins.args[0])
        idx = self.value(ins.args[1])
        length = self.ld(self.word(arr, ARR_LEN), I64T, "len")
        # 0 <= idx < len is one unsigned compare; a negative index counts
        # from the end, off the hot path.
        inside = b.icmp_unsigned("<", idx, length)
        here = b.block
        with b.if_then(b.not_(inside), likely=False):
            adjusted = b.add(idx, length)
            zero = ir.Constant(I64T, 0)
            bad = b.or_(b.icmp_signed(">=", idx, zero), b.icmp_signed("<", adjusted, zero))
            self.panic_if(bad, PANIC_INDEX, ins.loc, release)
            negative = b.block
        phi = b.phi(I64T)
        phi.add_incoming(idx, here)
        phi.add_incoming(adjusted, negative)
        idx = phi
        data = self.ld(self.word(arr, ARR_DATA), PTR, "data")
        return self.elem_addr(data, idx, aty.elem), aty.elem

    def i_array_get(self, ins: Instr) -> None:
        addr, ety = self.element(ins)
        if ins.dst is None:
            return
        if ety == BOOL:
            self.put(ins.dst, self.b.trunc(self.ld(addr, I8, "elem"), I1))
        else:
            self.put(ins.dst, self.load_slot(addr, ety, "elem"))

    def i_array_set(self, ins: Instr) -> None:
        aty = ins.args[0].ty
        assert isinstance(aty, ArrayT)
        stored = ins.args[2]
        release = None
        if needs_rc(aty.elem) and isinstance(stored, Reg):
            release = (self.value(stored), aty.elem)  # the pass counted it for the array
        addr, ety = self.element(ins, release)
        new = self.elem_value(stored)
        if needs_rc(ety):
            old = self.ld(addr, PTR, "elem")
            self.st(new, addr, "elem")
            self.release(old, ety)
        else:
            self.st(new, addr, "elem")

    def store_record(self, ins: Instr, new: Instr) -> None:
        """``array_set a, i, t`` of ``t = struct_new S (...)``, without building ``t``.

        Overwrites the fields of the element's record when the array holds
        the only reference to it; otherwise stores a new record (see
        ``recordfuse.py``).
        """
        b = self.b
        addr, ety = self.element(ins)
        old = self.ld(addr, PTR, "elem")
        unique = b.icmp_signed("==", self.ld(old, I64T, "rc"), ir.Constant(I64T, 1))
        with b.if_else(unique, likely=True) as (then, otherwise):
            with then:
                for k, a in enumerate(new.args):
                    self.st(self.slot_value(a), self.word(old, OBJ_SLOTS + k), "slot")
            with otherwise:
                obj = b.call(
                    self.mc.rt("rt_obj_alloc"),
                    [self.mc.desc(ety), ir.Constant(I64T, 0), ir.Constant(I64T, len(new.args))],
                )
                for k, a in enumerate(new.args):
                    self.st(self.slot_value(a), self.word(obj, OBJ_SLOTS + k), "slot")
                self.st(obj, addr, "elem")
                self.release(old, ety)

    def i_array_len(self, ins: Instr) -> None:
        arr = self.value(ins.args[0])
        self.put(ins.dst, self.ld(self.word(arr, ARR_LEN), I64T, "len"))

    def i_array_push(self, ins: Instr) -> None:
        """Inline when there is room (``len < cap``); ``rt_array_push`` grows the buffer."""
        b = self.b
        arr = self.value(ins.args[0])
        bits = self.slot_bits(ins.args[1])
        len_addr = self.word(arr, ARR_LEN)
        length = self.ld(len_addr, I64T, "len")
        cap = self.ld(self.word(arr, ARR_LEN + 1), I64T, "cap")
        room = b.icmp_signed("<", length, cap)
        with b.if_else(room, likely=True) as (then, otherwise):
            with then:
                data = self.ld(self.word(arr, ARR_DATA), PTR, "data")
                ety = ins.args[1].ty
                elem = b.trunc(bits, I8) if ety == BOOL else bits
                self.st(elem, self.elem_addr(data, length, ety), "elem")
                self.st(b.add(length, ir.Constant(I64T, 1)), len_addr, "len")
            with otherwise:
                b.call(self.mc.rt("rt_array_push"), [arr, bits])

    def i_array_pop(self, ins: Instr) -> None:
        aty = ins.args[0].ty
        assert isinstance(aty, ArrayT)
        line, col = (ins.loc.line, ins.loc.col) if ins.loc is not None else (0, 0)
        arr = self.value(ins.args[0])
        length = self.ld(self.word(arr, ARR_LEN), I64T, "len")
        self.panic_if(
            self.b.icmp_signed("==", length, ir.Constant(I64T, 0)), PANIC_POP_EMPTY, ins.loc
        )
        raw = self.b.call(
            self.mc.rt("rt_array_pop"),
            [
                self.value(ins.args[0]),
                self.mc.file_name,
                ir.Constant(I32, line),
                ir.Constant(I32, col),
            ],
        )
        v = self.from_bits(raw, aty.elem)
        if ins.dst is None or ins.dst.ty == UNIT:
            if v is not None:
                self.release(v, aty.elem)  # the popped reference is ours: drop it
            return
        self.put(ins.dst, v)

    # ----------------------------------------------------------- terminators

    def term(self, t: object) -> None:
        from simple_jit.mir.ir import Term

        assert isinstance(t, Term)
        b = self.b
        if t.op == "jump":
            b.branch(self.blocks[t.targets[0]])
        elif t.op == "br":
            b.cbranch(self.value(t.args[0]), self.blocks[t.targets[0]], self.blocks[t.targets[1]])
        elif t.op == "ret":
            if self.f.ret == UNIT:
                b.ret(ir.Constant(I1, 0))
            else:
                ret = _ret_type(self.f.ret)
                v = b.insert_value(ir.Constant(ret, ir.Undefined), self.value(t.args[0]), 0)
                b.ret(b.insert_value(v, ir.Constant(I1, 0), 1))
        else:
            b.unreachable()


_HANDLERS: dict[str, Callable[[FunctionCodegen, Instr], None]] = {
    "copy": FunctionCodegen.i_copy,
    "idiv": FunctionCodegen.i_divrem,
    "irem": FunctionCodegen.i_divrem,
    "ipow": FunctionCodegen.i_ipow,
    "ishl": FunctionCodegen.i_shift,
    "ishr": FunctionCodegen.i_shift,
    "ineg": FunctionCodegen.i_unary_int,
    "inot": FunctionCodegen.i_unary_int,
    "iabs": FunctionCodegen.i_unary_int,
    "imin": FunctionCodegen.i_minmax,
    "imax": FunctionCodegen.i_minmax,
    "fmin": FunctionCodegen.i_minmax,
    "fmax": FunctionCodegen.i_minmax,
    "fneg": FunctionCodegen.i_float_unary,
    "fabs": FunctionCodegen.i_float_unary,
    "fsqrt": FunctionCodegen.i_float_unary,
    "fpow": FunctionCodegen.i_fpow,
    "not": FunctionCodegen.i_not,
    "i2f": FunctionCodegen.i_cast,
    "f2i": FunctionCodegen.i_cast,
    "b2i": FunctionCodegen.i_cast,
    "select": FunctionCodegen.i_select,
    "tconcat": FunctionCodegen.i_text,
    "tlen": FunctionCodegen.i_text,
    "trepeat": FunctionCodegen.i_text,
    "teq": FunctionCodegen.i_text,
    "tne": FunctionCodegen.i_text,
    "totext": FunctionCodegen.i_totext,
    "print": FunctionCodegen.i_print,
    "call": FunctionCodegen.i_call,
    "callext": FunctionCodegen.i_callext,
    "gload": FunctionCodegen.i_gload,
    "gstore": FunctionCodegen.i_gstore,
    "incref": FunctionCodegen.i_refcount,
    "decref": FunctionCodegen.i_refcount,
    "array_new": FunctionCodegen.i_array_new,
    "array_get": FunctionCodegen.i_array_get,
    "array_set": FunctionCodegen.i_array_set,
    "array_len": FunctionCodegen.i_array_len,
    "array_push": FunctionCodegen.i_array_push,
    "array_pop": FunctionCodegen.i_array_pop,
    "struct_new": FunctionCodegen.i_record_new,
    "tuple_new": FunctionCodegen.i_record_new,
    "enum_new": FunctionCodegen.i_record_new,
    "opt_some": FunctionCodegen.i_record_new,
    "field_get": FunctionCodegen.i_record_get,
    "tuple_get": FunctionCodegen.i_record_get,
    "enum_field": FunctionCodegen.i_record_get,
    "opt_get": FunctionCodegen.i_record_get,
    "field_set": FunctionCodegen.i_field_set,
    "enum_tag": FunctionCodegen.i_enum_tag,
    "opt_none": FunctionCodegen.i_opt_none,
    "opt_is_some": FunctionCodegen.i_opt_is_some,
}
