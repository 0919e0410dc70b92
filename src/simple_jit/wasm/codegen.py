"""MIR -> WebAssembly: one module per program, runtime library included.

Conventions of the generated module:

* every Simple function ``F`` is wasm function ``spl.F`` with its MIR
  parameters (unit parameters dropped) and its result (none for unit);
* registers are wasm locals: ``i64`` -> i64, ``f64`` -> f64, ``bool`` ->
  i32 (0/1), ``text`` and every tier-2 type -> i32 (a pointer into linear
  memory, see ``runtime``; an option is 0 for ``nil``); counted registers
  start as 0 (null), which ``decref`` ignores;
* globals are wasm globals; text globals start as the immortal ``""``,
  tier-2 globals as 0;
* reference counting follows ``mir.passes.refcount`` exactly; tier-2
  operations are inline loads and stores on the object layouts of
  ``runtime`` (bounds checks adjust a negative index by the length and
  compare unsigned), with runtime calls for allocation, ``push`` growth,
  ``field_set``'s clone, releasing and display; the code generator lays
  out one constant descriptor per tier-2 type in the data segment
  (``ModuleCodegen.desc``);
* control flow is recovered by ``structure`` (block/loop/if/br);
* a call inside a call-graph cycle checks a depth counter first and raises
  ``stack overflow`` at the call's position past ``runtime.MAX_DEPTH``
  (wasmtime's own stack limit stays a backstop: each such call's code
  offset is recorded, so a stack-exhaustion trap can still be positioned);
* runtime errors unwind, as in the LLVM backend, but with a flag in a
  global instead of a second result: the failing instruction records the
  kind and position (``rt_set_error``) and branches out of a ``block``
  wrapped around the function body to its cleanup, which releases every
  register the frame owns (parameters never assigned, ``rc.old`` and
  ``rc.borrowed`` registers own nothing) and returns a dummy value; a call
  of a function that may fail (``functions_that_may_fail``, over the call
  graph) tests the ``err`` global right after it and leaves the same way.
  A ``decref`` of an owned register in such a function also clears it, so
  the cleanup never releases a value twice.  Only entry points turn a
  pending error into a trap (``ModuleCodegen.raise_pending``: ``rt_raise``
  calls the host's ``error`` import); "out of memory" still traps at once;
* ``run() -> i64`` (exported) runs ``$init`` then ``main`` and flushes the
  output buffer; its result is the exit code.

Architecture invariant: this module sees only MIR, never the AST or HIR.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from simple_jit.diagnostics import Loc
from simple_jit.mir.callgraph import strongly_connected
from simple_jit.mir.ir import OPS, Const, Function, Instr, Module, Operand, Reg
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
from simple_jit.wasm import runtime as rt
from simple_jit.wasm.encoder import F64 as WF64
from simple_jit.wasm.encoder import I32 as WI32
from simple_jit.wasm.encoder import I64 as WI64
from simple_jit.wasm.encoder import Code, ModuleBuilder
from simple_jit.wasm.structure import structure


@dataclass(frozen=True)
class BlockStart:
    """A code mark: a function or block of the source starts here."""

    loc: Loc


def block_start_at(starts: list[tuple[int, Loc]], func_start: int, offset: int) -> Loc | None:
    """The position of the last block starting at or before ``offset`` in the
    function whose body starts at ``func_start`` (``starts`` sorted by offset)."""
    i = bisect.bisect_right(starts, offset, key=lambda s: s[0])
    if i > 0 and starts[i - 1][0] >= func_start:
        return starts[i - 1][1]
    return None


class UnsupportedByBackend(Exception):
    """A MIR construct this backend cannot compile yet."""


def wasm_type(ty: Type) -> int:
    if ty == I64:
        return WI64
    if ty == F64:
        return WF64
    if ty in (BOOL, TEXT) or isinstance(ty, ArrayT | StructT | TupleT | EnumT | OptionT):
        return WI32
    raise UnsupportedByBackend(f"type {ty} is not supported by the cranelift backend yet")


def slot_kind(ty: Type) -> int:
    """The ``runtime.SLOT_*`` kind of a value of ``ty`` stored in an 8-byte slot."""
    if ty == I64:
        return rt.SLOT_I64
    if ty == F64:
        return rt.SLOT_F64
    if ty == BOOL:
        return rt.SLOT_BOOL
    if ty == UNIT:
        return rt.SLOT_UNIT
    if ty == TEXT:
        return rt.SLOT_TEXT
    wasm_type(ty)
    return rt.SLOT_OBJ


_LOAD = {WI64: "i64.load", WF64: "f64.load", WI32: "i32.load"}
_STORE = {WI64: "i64.store", WF64: "f64.store", WI32: "i32.store"}


def elem_shift(aty: ArrayT) -> int:
    """log2 of an array's element size: ``[bool]`` is packed (1 byte), the rest 8."""
    return 0 if aty.elem == BOOL else 3


def elem_load(ty: Type) -> str:
    return "i32.load8_u" if ty == BOOL else _LOAD[wasm_type(ty)]


def elem_store(ty: Type) -> str:
    return "i32.store8" if ty == BOOL else _STORE[wasm_type(ty)]


def symbol(name: str) -> str:
    return "spl." + name


@dataclass
class WasmModule:
    """The binary and what the host needs to know about it."""

    binary: bytes
    source_name: str
    # module offset of each recursive call instruction -> its source position
    call_sites: list[tuple[int, Loc]] = field(default_factory=list)
    dispatch_fallbacks: int = 0
    # module offsets where functions and blocks start, with their positions
    # (where a fuel or time-limit interruption stopped: ``block_start_at``)
    block_starts: list[tuple[int, Loc]] = field(default_factory=list)


class ModuleCodegen:
    def __init__(self, mir: Module, *, force_dispatch: bool = False) -> None:
        self.mir = mir
        self.m = ModuleBuilder()
        self.force_dispatch = force_dispatch
        self.literals: dict[str, int] = {}
        self._data = bytearray()
        self.recursive = strongly_connected(mir)[1]
        self.dispatch_fallbacks = 0
        self.descs: dict[Type, int] = {}
        self.may_fail: set[str] = set()  # computed by ``generate``
        self.data_start = rt.DATA_START  # where literals go (units place them elsewhere)

    def literal(self, s: str) -> int:
        """The address of the immortal text literal ``s``."""
        found = self.literals.get(s)
        if found is not None:
            return found
        while len(self._data) % 8:
            self._data.append(0)
        addr = self.data_start + len(self._data)
        data = s.encode("utf-8")
        self._data += struct.pack("<iI", -1, len(data)) + data
        self.literals[s] = addr
        return addr

    def blob(self, data: bytes) -> int:
        """The address of constant bytes in the data segment (8-aligned)."""
        while len(self._data) % 8:
            self._data.append(0)
        addr = self.data_start + len(self._data)
        self._data += data
        return addr

    def desc(self, ty: Type) -> int:
        """The address of the runtime descriptor of a tier-2 type (one per type)."""
        found = self.descs.get(ty)
        if found is not None:
            return found
        name: str | None = None
        variants: list[tuple[str | None, list[Type], list[str] | None]]
        if isinstance(ty, ArrayT):
            kind, variants = rt.DESC_ARRAY, [(None, [ty.elem], None)]
        elif isinstance(ty, OptionT):
            kind, variants = rt.DESC_SOME, [(None, [ty.inner], None)]
        elif isinstance(ty, TupleT):
            kind, variants = rt.DESC_TUPLE, [(None, list(ty.elems), None)]
        elif isinstance(ty, StructT):
            sdef = self.mir.structs.get(ty.name)
            if sdef is None:
                raise UnsupportedByBackend(f"struct {ty.name} is not declared in this unit")
            kind, name = rt.DESC_STRUCT, ty.name
            variants = [(None, [t for _, t in sdef.fields], [n for n, _ in sdef.fields])]
        elif isinstance(ty, EnumT):
            edef = self.mir.enums.get(ty.name)
            if edef is None:
                raise UnsupportedByBackend(f"enum {ty.name} is not declared in this unit")
            kind, name = rt.DESC_ENUM, ty.name
            variants = [(vname, list(ptys), None) for vname, ptys in edef.variants]
        else:
            raise UnsupportedByBackend(f"no runtime descriptor for {ty}")
        table = bytearray()
        for vname, slots, fields in variants:
            kinds = self.blob(bytes(slot_kind(t) for t in slots)) if slots else 0
            names = 0
            if fields:
                names = self.blob(b"".join(struct.pack("<I", self.literal(f)) for f in fields))
            vtext = self.literal(vname) if vname is not None else 0
            table += struct.pack("<IIII", vtext, len(slots), kinds, names)
        vaddr = self.blob(bytes(table))
        ntext = self.literal(name) if name is not None else 0
        addr = self.blob(struct.pack("<IIII", kind, ntext, max(1, len(variants)), vaddr))
        self.descs[ty] = addr
        return addr

    def generate(self) -> WasmModule:
        mir, m = self.mir, self.m
        if mir.externs:
            raise UnsupportedByBackend(
                "extern functions are not supported by the cranelift backend"
            )
        self.may_fail = functions_that_may_fail(mir, self.counts_depth)
        rt.declare_imports(m)
        for lit in rt.RUNTIME_LITERALS:
            self.literal(lit)
        for g in mir.globals.values():
            if g.ty == UNIT:
                continue
            wasm_type(g.ty)
        codes: list[tuple[Function, Code]] = []
        for f in mir.functions.values():
            params = [wasm_type(p.ty) for p in f.params if p.ty != UNIT]
            results = [] if f.ret == UNIT else [wasm_type(f.ret)]
            codes.append((f, m.func(symbol(f.name), params, results)))
        run = m.func("run", [], [WI64], export="run")
        rt.define(m, self.literals)
        gens = [FunctionCodegen(self, f, code) for f, code in codes]
        for fg in gens:
            fg.generate()
        self._run(run)
        # globals and the heap go last: literals are all known now
        for g in mir.globals.values():
            if g.ty == UNIT:
                continue
            if g.ty == TEXT:
                m.global_("g." + g.name, WI32, self.literals[""])
            elif g.ty == F64:
                m.global_("g." + g.name, WF64, 0.0)
            else:
                m.global_("g." + g.name, wasm_type(g.ty), 0)
        heap = (rt.DATA_START + len(self._data) + 15) // 16 * 16
        rt.declare_globals(m, heap)
        m.data = [(rt.DATA_START, bytes(self._data))] if self._data else []
        m.memory_pages = (heap + 65535) // 65536 + 1
        binary = m.encode()
        sites = [(off, tag) for off, tag in m.marks if isinstance(tag, Loc)]
        starts = [(off, tag.loc) for off, tag in m.marks if isinstance(tag, BlockStart)]
        return WasmModule(
            binary, mir.source_name, sites, self.dispatch_fallbacks, block_starts=starts
        )

    # Calls, overridden by the units of an execution manager (wasm/units.py),
    # which call every function through a table slot.

    def callee_ret(self, name: str) -> Type | None:
        """The result type of a function this module calls (None: unknown)."""
        f = self.mir.functions.get(name)
        return None if f is None else f.ret

    def counts_depth(self, caller: str, callee: str) -> bool:
        """Whether a call from ``caller`` to ``callee`` checks the depth counter."""
        return callee in self.recursive.get(caller, frozenset())

    def emit_call(self, code: Code, callee: str, loc: Loc | None) -> None:
        """The call instruction itself; ``loc`` marks it (recursive calls)."""
        if loc is not None:
            code.mark(loc)
        code.op("call", symbol(callee))

    def _run(self, code: Code) -> None:
        code.op("i32.const", 0)
        code.op("global.set", "depth")
        # tier-2 globals start as their zero values, as in the interpreter
        # (``interp.machine.zero_value``): a function may read one before
        # the top-level code assigns it
        temps: list[int] = []
        for g in self.mir.globals.values():
            if needs_rc(g.ty) and g.ty != TEXT:
                self.push_zero(code, g.ty, temps, 0, frozenset())
                code.op("global.set", "g." + g.name)
        init = self.mir.functions.get(Module.INIT)
        if init is not None:
            code.op("call", symbol(init.name))
            self.raise_pending(code, init.name)
            if init.ret != UNIT:
                code.op("drop")
        main = self.mir.functions.get("main")
        result = False
        if main is not None and not main.params:
            code.op("call", symbol("main"))
            self.raise_pending(code, "main")
            if main.ret == I64:
                result = True
            elif main.ret != UNIT:
                code.op("drop")
        if not result:
            code.op("i64.const", 0)
        code.op("call", "rt_flush")

    def push_zero(
        self, code: Code, ty: Type, temps: list[int], depth: int, enums: frozenset[str]
    ) -> None:
        """Push a new zero value of ``ty``: 0, ``""``, ``[]``, ``nil``, records of
        zeros, an enum's first variant that can be built (``types.zero_variant``)."""
        if ty == I64:
            code.op("i64.const", 0)
        elif ty == F64:
            code.op("f64.const", 0.0)
        elif ty == BOOL or isinstance(ty, OptionT):
            code.op("i32.const", 0)
        elif ty == TEXT:
            code.op("i32.const", self.literal(""))
        elif isinstance(ty, ArrayT):
            code.op("i32.const", self.desc(ty))
            code.op("i32.const", 0)
            code.op("i32.const", elem_shift(ty))
            code.op("call", "rt_array_new")
        elif isinstance(ty, TupleT | StructT | EnumT):
            tag = 0
            if isinstance(ty, EnumT):
                found = zero_variant(ty.name, self.mir.enums, self.mir.structs, enums)
                if found is None:  # no variant can be built
                    code.op("i32.const", 0)
                    return
                tag, enums = found, enums | {ty.name}
                fields = list(self.mir.enums[ty.name].variants[tag][1])
            elif isinstance(ty, TupleT):
                fields = list(ty.elems)
            else:
                sdef = self.mir.structs.get(ty.name)
                if sdef is None:
                    raise UnsupportedByBackend(f"struct {ty.name} is not declared in this unit")
                fields = [t for _, t in sdef.fields]
            while len(temps) <= depth:
                temps.append(code.local(WI32))
            obj = temps[depth]
            code.op("i32.const", self.desc(ty))
            code.op("i32.const", tag)
            code.op("i32.const", len(fields))
            code.op("call", "rt_obj_new")
            code.op("local.set", obj)
            for i, fty in enumerate(fields):
                code.op("local.get", obj)
                if fty == UNIT:
                    code.op("i64.const", 0)
                    code.op("i64.store", rt.OBJ_SLOTS + 8 * i)
                    continue
                self.push_zero(code, fty, temps, depth + 1, enums)
                code.op(_STORE[wasm_type(fty)], rt.OBJ_SLOTS + 8 * i)
            code.op("local.get", obj)
        # unit: nothing

    def raise_pending(self, code: Code, callee: str) -> None:
        """After a call from an entry point: raise the error ``callee`` may have left.

        Every exported entry into Simple code must do this: generated
        functions unwind on a runtime error and return normally with the
        ``err`` global set; ``rt_raise`` hands it to the host (and traps).
        """
        if callee in self.may_fail:
            code.op("global.get", "err")
            code.op("if")
            code.op("call", "rt_raise")
            code.op("end")


def functions_that_may_fail(mir: Module, counts_depth: Callable[[str, str], bool]) -> set[str]:
    """Names of the functions that may end with a runtime error pending.

    A function may fail if it holds an instruction that can fail (a call
    that checks the depth counter, a call into another unit) or calls one
    that may.
    """
    fails: set[str] = set()
    callers: dict[str, list[str]] = {}
    for f in mir.functions.values():
        direct = False
        for blk in f.blocks:
            for ins in blk.instrs:
                if ins.op == "call":
                    assert isinstance(ins.extra, str)
                    callers.setdefault(ins.extra, []).append(f.name)
                    if ins.extra not in mir.functions or counts_depth(f.name, ins.extra):
                        direct = True
                elif OPS[ins.op].can_fail:
                    direct = True
        if direct:
            fails.add(f.name)
    work = list(fails)
    while work:
        name = work.pop()
        for caller in callers.get(name, ()):
            if caller not in fails:
                fails.add(caller)
                work.append(caller)
    return fails


_IBIN = {
    "iadd": "i64.add",
    "isub": "i64.sub",
    "imul": "i64.mul",
    "iand": "i64.and",
    "ior": "i64.or",
    "ixor": "i64.xor",
    "ishl": "i64.shl",  # wasm takes the count modulo 64, as Simple does
    "ishr": "i64.shr_s",
}
_FBIN = {"fadd": "f64.add", "fsub": "f64.sub", "fmul": "f64.mul", "fdiv": "f64.div"}
_ICMP = {
    "ieq": "i64.eq",
    "ine": "i64.ne",
    "ilt": "i64.lt_s",
    "ile": "i64.le_s",
    "igt": "i64.gt_s",
    "ige": "i64.ge_s",
}
_FCMP = {
    "feq": "f64.eq",
    "fne": "f64.ne",  # true when either is NaN, as in IEEE
    "flt": "f64.lt",
    "fle": "f64.le",
    "fgt": "f64.gt",
    "fge": "f64.ge",
}
_TCMP = {"tlt": "i32.lt_s", "tle": "i32.le_s", "tgt": "i32.gt_s", "tge": "i32.ge_s"}
_TEXT_CALL = {
    "tconcat": "rt_concat",
    "tlen": "rt_len",
    "tcontains": "rt_contains",
    "tstarts": "rt_starts",
    "tends": "rt_ends",
    "ttrim": "rt_trim",
    "tupper": "rt_upper",
    "tlower": "rt_lower",
    "trepeat": "rt_repeat",
}


class FunctionCodegen:
    def __init__(self, mc: ModuleCodegen, f: Function, code: Code) -> None:
        self.mc = mc
        self.f = f
        self.c = code
        self.local: dict[int, int] = {}
        self.cycle = mc.recursive.get(f.name, frozenset())
        self._temps: dict[int, list[int]] = {}
        self.may_fail = f.name in mc.may_fail
        # depth of the ``block`` that a runtime error leaves through (None:
        # this function cannot fail)
        self.fail_depth: int | None = None
        # Registers whose reference this frame owns, released when a runtime
        # error unwinds it (as in the LLVM backend): parameters never assigned
        # are borrowed, and the refcount pass's "rc.old" and "rc.borrowed"
        # registers own nothing.
        defined = {ins.dst.id for blk in f.blocks for ins in blk.instrs if ins.dst is not None}
        borrowed = {p.id for p in f.params if p.id not in defined}
        # Records changed in place (mir/recordfuse.py): the records those
        # stores absorb are never built, so their registers own nothing.
        self.records = plan_records(f, mc.mir.structs)
        self.owned = [
            r
            for r in f.regs
            if needs_rc(r.ty)
            and r.id not in borrowed
            and r.id not in self.records.fused
            and r.name not in (OLD_VALUE_REG, BORROWED_REG)
        ]
        self.owned_ids = {r.id for r in self.owned}

    def generate(self) -> None:
        f, c = self.f, self.c
        if f.loc is not None:
            c.mark(BlockStart(f.loc))
        n = 0
        for p in f.params:
            if p.ty != UNIT:
                self.local[p.id] = n
                n += 1
        for reg in f.regs:
            if reg.id in self.local or reg.ty == UNIT:
                continue
            self.local[reg.id] = c.local(wasm_type(reg.ty))
        if self.may_fail:
            c.op("block")
            self.fail_depth = c.depth
        if not structure(f, self, force_dispatch=self.mc.force_dispatch):
            self.mc.dispatch_fallbacks += 1
        c.op("unreachable")
        if self.may_fail:
            # a runtime error: release what this frame owns and return with
            # the error pending (every counted register holds one reference
            # or 0: a ``decref`` before a redefinition also clears it)
            c.op("end")
            for reg in self.owned:
                c.op("local.get", self.local[reg.id])
                c.op("call", _decref_fn(reg.ty))
            if self.f.ret != UNIT:
                ty = wasm_type(self.f.ret)
                if ty == WF64:
                    c.op("f64.const", 0.0)
                else:
                    c.op("i64.const" if ty == WI64 else "i32.const", 0)

    # ------------------------------------------------------------ emitter

    def op(self, name: str, imm: object = None) -> None:
        self.c.op(name, imm)

    def label_local(self) -> int:
        return self.c.local(WI32)

    def block_loc(self, bid: int) -> Loc | None:
        """The interpreter's rule for a block's position (its ``block_loc``)."""
        blk = self.f.blocks[bid]
        loc = next((i.loc for i in blk.instrs if i.loc is not None), None)
        return loc or blk.term.loc or self.f.loc

    def loop_header(self, bid: int) -> None:
        # A time-limit or fuel stop on the loop's back edge is the loop's.
        loc = self.block_loc(bid)
        if loc is not None:
            self.c.mark(BlockStart(loc))

    def body(self, bid: int) -> None:
        blk = self.f.blocks[bid]
        loc = self.block_loc(bid)
        if loc is not None:
            self.c.mark(BlockStart(loc))
        plan = self.records
        for i, ins in enumerate(blk.instrs):
            if (bid, i) in plan.skip:
                continue
            if (bid, i) in plan.stores:
                self.store_record(ins, plan.stores[(bid, i)])
            elif (bid, i) in plan.field_sets:
                self.field_set_in_place(ins)
            else:
                self.instr(ins)

    def cond(self, bid: int) -> None:
        self.push(self.f.blocks[bid].term.args[0])

    def ret(self, bid: int) -> None:
        t = self.f.blocks[bid].term
        if self.f.ret != UNIT and t.args:
            self.push(t.args[0])
        self.c.op("return")

    # ------------------------------------------------------------- values

    def push(self, op: Operand) -> None:
        c = self.c
        if isinstance(op, Reg):
            if op.ty == UNIT:
                raise UnsupportedByBackend("unit registers have no value")
            c.op("local.get", self.local[op.id])
            return
        ty, v = op.ty, op.value
        if ty == I64:
            assert isinstance(v, int)
            c.op("i64.const", v)
        elif ty == F64:
            assert isinstance(v, float)
            c.op("f64.const", v)
        elif ty == BOOL:
            c.op("i32.const", 1 if v else 0)
        elif ty == TEXT:
            assert isinstance(v, str)
            c.op("i32.const", self.mc.literal(v))
        elif isinstance(ty, OptionT) and v is None:
            c.op("i32.const", 0)
        else:
            raise UnsupportedByBackend(f"constants of type {ty}")

    def store(self, dst: Reg | None) -> None:
        """Pop the value on the stack into ``dst`` (or drop it)."""
        if dst is None or dst.ty == UNIT:
            self.c.op("drop")
        else:
            self.c.op("local.set", self.local[dst.id])

    def temp(self, ty: int, k: int = 0) -> int:
        """Scratch local number ``k`` of type ``ty``, private to one instruction."""
        pool = self._temps.setdefault(ty, [])
        while len(pool) <= k:
            pool.append(self.c.local(ty))
        return pool[k]

    def error(self, kind: int, loc: Loc | None) -> None:
        """Record runtime error ``kind`` at ``loc`` and leave through the cleanup path."""
        line, col = (loc.line, loc.col) if loc is not None else (0, 0)
        c = self.c
        c.op("i32.const", kind)
        c.op("i32.const", line)
        c.op("i32.const", col)
        c.op("call", "rt_set_error")
        self.br_fail()

    def br_fail(self, cond: bool = False) -> None:
        """Branch (``br``, or ``br_if`` on the i32 on the stack) to the cleanup path."""
        assert self.fail_depth is not None, f"{self.f.name} was not expected to fail"
        self.c.op("br_if" if cond else "br", self.c.depth - self.fail_depth)

    # ------------------------------------------------------- instructions

    def instr(self, ins: Instr) -> None:
        op = ins.op
        handler = _HANDLERS.get(op)
        if handler is not None:
            handler(self, ins)
            return
        c = self.c
        if op in _IBIN or op in _FBIN or op in _ICMP or op in _FCMP:
            self.push(ins.args[0])
            self.push(ins.args[1])
            c.op((_IBIN | _FBIN | _ICMP | _FCMP)[op])
            self.store(ins.dst)
        elif op in _TEXT_CALL:
            for a in ins.args:
                self.push(a)
            c.op("call", _TEXT_CALL[op])
            self.store(ins.dst)
        elif op in _TCMP:
            self.push(ins.args[0])
            self.push(ins.args[1])
            c.op("call", "rt_cmp")
            c.op("i32.const", 0)
            c.op(_TCMP[op])
            self.store(ins.dst)
        else:
            raise UnsupportedByBackend(
                f"MIR operation '{op}' is not supported by the cranelift backend yet"
            )

    def i_copy(self, ins: Instr) -> None:
        if ins.dst is not None and ins.dst.ty != UNIT:
            self.push(ins.args[0])
            self.store(ins.dst)

    def i_divrem(self, ins: Instr) -> None:
        c = self.c
        a, b = ins.args
        is_rem = ins.op == "irem"
        if isinstance(b, Const) and isinstance(b.value, int) and b.value not in (0, -1):
            self.push(a)
            self.push(b)
            c.op("i64.rem_s" if is_rem else "i64.div_s")
            self.store(ins.dst)
            return
        self.push(b)
        c.op("i64.eqz")
        c.op("if")
        self.error(rt.ERR_DIV_ZERO, ins.loc)
        c.op("end")
        if is_rem:
            # i64.rem_s(MIN, -1) is 0 in wasm (no trap), as Simple wants
            self.push(a)
            self.push(b)
            c.op("i64.rem_s")
            self.store(ins.dst)
            return
        # MIN / -1 traps in wasm; Simple wraps it to MIN: divide by 1 and
        # negate instead.
        c.op("i64.const", 0)
        self.push(a)
        c.op("i64.sub")
        self.push(a)
        c.op("i64.const", 1)
        self.push(b)
        self.push(b)
        c.op("i64.const", -1)
        c.op("i64.eq")
        c.op("select")
        c.op("i64.div_s")
        self.push(b)
        c.op("i64.const", -1)
        c.op("i64.eq")
        c.op("select")
        self.store(ins.dst)

    def i_ipow(self, ins: Instr) -> None:
        c = self.c
        a, e = ins.args
        if not (isinstance(e, Const) and isinstance(e.value, int) and e.value >= 0):
            self.push(e)
            c.op("i64.const", 0)
            c.op("i64.lt_s")
            c.op("if")
            self.error(rt.ERR_NEG_EXP, ins.loc)
            c.op("end")
        self.push(a)
        self.push(e)
        c.op("call", "rt_ipow")
        self.store(ins.dst)

    def i_unary_int(self, ins: Instr) -> None:
        c = self.c
        v = ins.args[0]
        if ins.op == "ineg":
            c.op("i64.const", 0)
            self.push(v)
            c.op("i64.sub")
        elif ins.op == "inot":
            self.push(v)
            c.op("i64.const", -1)
            c.op("i64.xor")
        else:  # iabs: wraps, abs(MIN) == MIN
            c.op("i64.const", 0)
            self.push(v)
            c.op("i64.sub")
            self.push(v)
            self.push(v)
            c.op("i64.const", 0)
            c.op("i64.lt_s")
            c.op("select")
        self.store(ins.dst)

    def i_minmax(self, ins: Instr) -> None:
        # a < b ? a : b (fmin/fmax: NaN gives b), not f64.min/max, which
        # differ on NaN and signed zeros
        c = self.c
        a, b = ins.args
        self.push(a)
        self.push(b)
        self.push(a)
        self.push(b)
        lt = ins.op in ("imin", "fmin")
        if ins.op[0] == "i":
            c.op("i64.lt_s" if lt else "i64.gt_s")
        else:
            c.op("f64.lt" if lt else "f64.gt")
        c.op("select")
        self.store(ins.dst)

    def i_float_unary(self, ins: Instr) -> None:
        self.push(ins.args[0])
        self.c.op({"fneg": "f64.neg", "fabs": "f64.abs", "fsqrt": "f64.sqrt"}[ins.op])
        self.store(ins.dst)

    def i_float_call(self, ins: Instr) -> None:
        self.push(ins.args[0])
        self.push(ins.args[1])
        self.c.op("call", "rt_fmod" if ins.op == "frem" else "rt_pow")
        self.store(ins.dst)

    def i_bool(self, ins: Instr) -> None:
        c = self.c
        if ins.op == "not":
            self.push(ins.args[0])
            c.op("i32.eqz")
        else:
            self.push(ins.args[0])
            self.push(ins.args[1])
            c.op("i32.eq" if ins.op == "beq" else "i32.ne")
        self.store(ins.dst)

    def i_cast(self, ins: Instr) -> None:
        self.push(ins.args[0])
        self.c.op(
            {
                "i2f": "f64.convert_i64_s",
                "f2i": "i64.trunc_sat_f64_s",  # truncate, saturate, NaN -> 0
                "b2i": "i64.extend_i32_u",
            }[ins.op]
        )
        self.store(ins.dst)

    def i_select(self, ins: Instr) -> None:
        cond, x, y = ins.args
        if ins.dst is None or ins.dst.ty == UNIT:
            return
        self.push(x)
        self.push(y)
        self.push(cond)
        self.c.op("select")
        self.store(ins.dst)

    def i_text_eq(self, ins: Instr) -> None:
        self.push(ins.args[0])
        self.push(ins.args[1])
        self.c.op("call", "rt_text_eq")
        if ins.op == "tne":
            self.c.op("i32.eqz")
        self.store(ins.dst)

    def i_totext(self, ins: Instr) -> None:
        c = self.c
        arg = ins.args[0]
        ty = arg.ty
        if ty == UNIT:
            c.op("i32.const", self.mc.literal("()"))
        elif ty == I64:
            self.push(arg)
            c.op("call", "rt_text_from_i64")
        elif ty == F64:
            self.push(arg)
            c.op("call", "rt_text_from_f64")
        elif ty == BOOL:
            c.op("i32.const", self.mc.literal("true"))
            c.op("i32.const", self.mc.literal("false"))
            self.push(arg)
            c.op("select")
        elif ty == TEXT:
            self.push(arg)
            c.op("call", "rt_incref")  # the result is a new reference
            self.push(arg)
        elif needs_rc(ty):
            self.push(arg)
            c.op("call", "rt_obj_totext")
        else:
            raise UnsupportedByBackend(f"display of {ty}")
        self.store(ins.dst)

    def i_print(self, ins: Instr) -> None:
        c = self.c
        arg = ins.args[0]
        ty = arg.ty
        if ty == UNIT:
            c.op("i32.const", self.mc.literal("()"))
            c.op("call", "rt_print_text")
        elif ty == I64:
            self.push(arg)
            c.op("call", "rt_print_i64")
        elif ty == F64:
            self.push(arg)
            c.op("call", "rt_print_f64")
        elif ty == BOOL:
            c.op("i32.const", self.mc.literal("true"))
            c.op("i32.const", self.mc.literal("false"))
            self.push(arg)
            c.op("select")
            c.op("call", "rt_print_text")
        elif ty == TEXT:
            self.push(arg)
            c.op("call", "rt_print_text")
        elif needs_rc(ty):
            self.push(arg)
            c.op("call", "rt_obj_print")
        else:
            raise UnsupportedByBackend(f"printing {ty}")

    def i_call(self, ins: Instr) -> None:
        c = self.c
        assert isinstance(ins.extra, str)
        callee_ret = self.mc.callee_ret(ins.extra)
        if callee_ret is None:
            raise UnsupportedByBackend(f"call of '{ins.extra}' from another unit")
        recursive = self.mc.counts_depth(self.f.name, ins.extra)
        if recursive:
            c.op("global.get", "depth")
            c.op("i32.const", rt.MAX_DEPTH)
            c.op("i32.ge_u")
            c.op("if")
            self.error(rt.ERR_STACK, ins.loc)
            c.op("end")
            c.op("global.get", "depth")
            c.op("i32.const", 1)
            c.op("i32.add")
            c.op("global.set", "depth")
        for a in ins.args:
            if a.ty != UNIT:
                self.push(a)
        self.mc.emit_call(c, ins.extra, ins.loc if recursive else None)
        if recursive:
            c.op("global.get", "depth")
            c.op("i32.const", 1)
            c.op("i32.sub")
            c.op("global.set", "depth")
        if ins.extra in self.mc.may_fail or ins.extra not in self.mc.mir.functions:
            c.op("global.get", "err")
            self.br_fail(cond=True)
        if callee_ret != UNIT:
            self.store(ins.dst)

    def i_gload(self, ins: Instr) -> None:
        assert isinstance(ins.extra, str)
        if ins.dst is not None and ins.dst.ty != UNIT:
            self.c.op("global.get", "g." + ins.extra)
            self.store(ins.dst)

    def i_gstore(self, ins: Instr) -> None:
        assert isinstance(ins.extra, str)
        if ins.args[0].ty != UNIT:
            self.push(ins.args[0])
            self.c.op("global.set", "g." + ins.extra)

    def i_refcount(self, ins: Instr) -> None:
        arg = ins.args[0]
        if not needs_rc(arg.ty) or isinstance(arg, Const):
            return
        self.push(arg)
        if ins.op == "incref":
            self.c.op("call", "rt_incref")  # texts and objects alike
            return
        self.c.op("call", _decref_fn(arg.ty))
        if self.may_fail and arg.id in self.owned_ids:
            # released: the cleanup path must not release it again
            self.c.op("i32.const", 0)
            self.c.op("local.set", self.local[arg.id])

    # ------------------------------------------------------- tier-2 objects

    def release_top(self, ty: Type) -> None:
        """Drop the reference on top of the stack (a value of counted type ``ty``)."""
        self.c.op("call", _decref_fn(ty))

    def push_slot(self, op: Operand) -> int:
        """Push ``op`` (not unit) as stored in a slot; returns its wasm type."""
        self.push(op)
        return wasm_type(op.ty)

    def put(self, dst: Reg | None, ty: Type) -> None:
        """Store the value on the stack into ``dst``; without one, drop (or release) it."""
        if dst is not None and dst.ty != UNIT:
            self.store(dst)
        elif needs_rc(ty):
            self.release_top(ty)
        else:
            self.c.op("drop")

    def new_record(self, ins: Instr, ty: Type, tag: int) -> None:
        c = self.c
        obj = self.temp(WI32)
        c.op("i32.const", self.mc.desc(ty))
        c.op("i32.const", tag)
        c.op("i32.const", len(ins.args))
        c.op("call", "rt_obj_new")
        c.op("local.set", obj)
        for i, a in enumerate(ins.args):
            if a.ty == UNIT:
                continue
            c.op("local.get", obj)
            c.op(_STORE[self.push_slot(a)], rt.OBJ_SLOTS + 8 * i)
        c.op("local.get", obj)
        # without a destination its fields were counted for it: let it go
        self.put(ins.dst, ty)

    def i_record_new(self, ins: Instr) -> None:
        shape = self.mc.mir.record_shape(ins)
        if shape is None:
            enum = str(ins.extra).split(".", 1)[0]
            raise UnsupportedByBackend(f"enum {enum} is not declared in this unit")
        self.new_record(ins, *shape)

    def i_record_get(self, ins: Instr) -> None:
        d = ins.dst
        if d is None or d.ty == UNIT:
            return
        if ins.op == "enum_field":
            assert isinstance(ins.extra, str)
            index = int(ins.extra.split(".")[1])
        elif ins.op == "opt_get":
            index = 0
        else:
            assert isinstance(ins.extra, int)
            index = ins.extra
        self.push(ins.args[0])
        self.c.op(_LOAD[wasm_type(d.ty)], rt.OBJ_SLOTS + 8 * index)
        self.store(d)

    def i_field_set(self, ins: Instr) -> None:
        """Clone the record and replace one slot (structs have value semantics)."""
        c = self.c
        assert isinstance(ins.extra, int)
        src, new = ins.args
        copy = self.temp(WI32)
        self.push(src)
        c.op("call", "rt_obj_clone")
        c.op("local.set", copy)
        self.replace_slot(copy, ins.extra, new)
        c.op("local.get", copy)
        self.put(ins.dst, src.ty)

    def replace_slot(self, obj: int, index: int, new: Operand) -> None:
        """Store ``new`` into slot ``index`` of the record in local ``obj``, which owns
        its slots: the reference it held to a counted old value is dropped."""
        if new.ty == UNIT:
            return
        c = self.c
        offset = rt.OBJ_SLOTS + 8 * index
        old = self.temp(WI32, 1)
        counted = needs_rc(new.ty)
        if counted:
            c.op("local.get", obj)
            c.op("i32.load", offset)
            c.op("local.set", old)
        c.op("local.get", obj)
        c.op(_STORE[self.push_slot(new)], offset)
        if counted:
            c.op("local.get", old)
            self.release_top(new.ty)

    def store_fields(self, obj: int, values: list[Operand]) -> None:
        """Store ``values`` into the slots of the record in local ``obj``."""
        for k, a in enumerate(values):
            if a.ty != UNIT:
                self.c.op("local.get", obj)
                self.c.op(_STORE[self.push_slot(a)], rt.OBJ_SLOTS + 8 * k)

    def store_record(self, ins: Instr, new: Instr) -> None:
        """``array_set a, i, t`` of ``t = struct_new S (...)`` of scalars, without building ``t``:
        into the element's own record when the array holds the only reference."""
        c = self.c
        aty = ins.args[0].ty
        assert isinstance(aty, ArrayT)
        self.element(ins)
        addr, old, obj = self.temp(WI32), self.temp(WI32, 1), self.temp(WI32, 2)
        c.op("local.set", addr)
        c.op("local.get", addr)
        c.op("i32.load", rt.DATA_SLOTS)
        c.op("local.tee", old)
        c.op("i32.load", 0)  # the count
        c.op("i32.const", 1)
        c.op("i32.eq")
        c.op("if")
        self.store_fields(old, new.args)
        c.op("else")
        c.op("i32.const", self.mc.desc(aty.elem))
        c.op("i32.const", 0)
        c.op("i32.const", len(new.args))
        c.op("call", "rt_obj_new")
        c.op("local.set", obj)
        self.store_fields(obj, new.args)
        c.op("local.get", addr)
        c.op("local.get", obj)
        c.op("i32.store", rt.DATA_SLOTS)
        c.op("local.get", old)
        self.release_top(aty.elem)
        c.op("end")

    def field_set_in_place(self, ins: Instr) -> None:
        """``x = field_set #k x, v`` without its rc.old copy and decref: the slot is
        replaced in ``x``'s own record when ``x`` holds the only reference."""
        c = self.c
        assert isinstance(ins.extra, int) and ins.dst is not None
        src, new = ins.args
        obj = self.temp(WI32, 2)
        self.push(src)
        c.op("local.tee", obj)
        c.op("i32.load", 0)
        c.op("i32.const", 1)
        c.op("i32.ne")
        c.op("if")  # shared: clone it, and drop x's reference to the original
        self.push(src)
        c.op("call", "rt_obj_clone")
        c.op("local.set", obj)
        self.push(src)
        self.release_top(src.ty)
        c.op("end")
        self.replace_slot(obj, ins.extra, new)
        c.op("local.get", obj)
        self.store(ins.dst)

    def i_enum_tag(self, ins: Instr) -> None:
        if ins.dst is None:
            return
        self.push(ins.args[0])
        self.c.op("i32.load", rt.OBJ_TAG)
        self.c.op("i64.extend_i32_u")
        self.store(ins.dst)

    def i_opt_none(self, ins: Instr) -> None:
        if ins.dst is not None:
            self.c.op("i32.const", 0)
            self.store(ins.dst)

    def i_opt_is_some(self, ins: Instr) -> None:
        if ins.dst is not None:
            self.push(ins.args[0])
            self.c.op("i32.const", 0)
            self.c.op("i32.ne")
            self.store(ins.dst)

    def i_array_new(self, ins: Instr) -> None:
        c = self.c
        assert isinstance(ins.extra, Type)
        ty = ins.dst.ty if ins.dst is not None else ArrayT(ins.extra)
        assert isinstance(ty, ArrayT)
        shift = elem_shift(ty)
        arr = self.temp(WI32)
        c.op("i32.const", self.mc.desc(ty))
        c.op("i32.const", len(ins.args))
        c.op("i32.const", shift)
        c.op("call", "rt_array_new")
        c.op("local.set", arr)
        if any(a.ty != UNIT for a in ins.args):
            data = self.temp(WI32, 1)
            c.op("local.get", arr)
            c.op("i32.load", rt.ARR_DATA)
            c.op("local.set", data)
            for i, a in enumerate(ins.args):
                if a.ty == UNIT:
                    continue
                c.op("local.get", data)
                self.push(a)
                c.op(elem_store(a.ty), rt.DATA_SLOTS + (i << shift))
        c.op("local.get", arr)
        self.put(ins.dst, ty)

    def element(self, ins: Instr, release: Operand | None = None) -> None:
        """Bounds-check ``ins.args[1]`` against array ``ins.args[0]`` and push the
        address of its slot minus ``DATA_SLOTS``; ``release`` is dropped on failure."""
        c = self.c
        arr, idx = ins.args[0], ins.args[1]
        length, index = self.temp(WI64), self.temp(WI64, 1)
        # index + (index < 0 ? len : 0), then compared unsigned with len
        self.push(idx)
        self.push(arr)
        c.op("i32.load", rt.ARR_LEN)
        c.op("i64.extend_i32_u")
        c.op("local.tee", length)
        c.op("i64.const", 0)
        self.push(idx)
        c.op("i64.const", 0)
        c.op("i64.lt_s")
        c.op("select")
        c.op("i64.add")
        c.op("local.tee", index)
        c.op("local.get", length)
        c.op("i64.ge_u")
        c.op("if")
        if release is not None:
            self.push(release)
            self.release_top(release.ty)
        self.error(rt.ERR_INDEX, ins.loc)
        c.op("end")
        self.push(arr)
        c.op("i32.load", rt.ARR_DATA)
        c.op("local.get", index)
        c.op("i32.wrap_i64")
        aty = arr.ty
        assert isinstance(aty, ArrayT)
        if elem_shift(aty):
            c.op("i32.const", elem_shift(aty))
            c.op("i32.shl")
        c.op("i32.add")

    def i_array_get(self, ins: Instr) -> None:
        self.element(ins)
        d = ins.dst
        if d is None or d.ty == UNIT:
            self.c.op("drop")
            return
        self.c.op(elem_load(d.ty), rt.DATA_SLOTS)
        self.store(d)

    def i_array_set(self, ins: Instr) -> None:
        c = self.c
        stored = ins.args[2]
        counted = needs_rc(stored.ty)
        # the refcount pass counted the stored register for the array
        self.element(ins, stored if counted and isinstance(stored, Reg) else None)
        if stored.ty == UNIT:
            c.op("drop")
            return
        addr, old = self.temp(WI32), self.temp(WI32, 1)
        c.op("local.set", addr)
        if counted:
            c.op("local.get", addr)
            c.op("i32.load", rt.DATA_SLOTS)
            c.op("local.set", old)
        c.op("local.get", addr)
        self.push(stored)
        c.op(elem_store(stored.ty), rt.DATA_SLOTS)
        if counted:
            c.op("local.get", old)
            self.release_top(stored.ty)

    def i_array_len(self, ins: Instr) -> None:
        if ins.dst is None:
            return
        self.push(ins.args[0])
        self.c.op("i32.load", rt.ARR_LEN)
        self.c.op("i64.extend_i32_u")
        self.store(ins.dst)

    def i_array_push(self, ins: Instr) -> None:
        c = self.c
        arr, value = ins.args
        self.push(arr)
        if value.ty == BOOL:
            self.push(value)
            c.op("call", "rt_array_push8")
            return
        if value.ty == UNIT:
            c.op("i64.const", 0)
        else:
            wty = self.push_slot(value)
            if wty == WF64:
                c.op("i64.reinterpret_f64")
            elif wty == WI32:
                c.op("i64.extend_i32_u")
        c.op("call", "rt_array_push")

    def i_array_pop(self, ins: Instr) -> None:
        c = self.c
        arr = ins.args[0]
        aty = arr.ty
        assert isinstance(aty, ArrayT)
        n = self.temp(WI32)
        self.push(arr)
        c.op("i32.load", rt.ARR_LEN)
        c.op("local.tee", n)
        c.op("i32.eqz")
        c.op("if")
        self.error(rt.ERR_POP_EMPTY, ins.loc)
        c.op("end")
        self.push(arr)
        c.op("local.get", n)
        c.op("i32.const", 1)
        c.op("i32.sub")
        c.op("local.tee", n)
        c.op("i32.store", rt.ARR_LEN)
        if aty.elem == UNIT:
            return
        # the element's reference passes to the destination
        self.push(arr)
        c.op("i32.load", rt.ARR_DATA)
        c.op("local.get", n)
        if elem_shift(aty):
            c.op("i32.const", elem_shift(aty))
            c.op("i32.shl")
        c.op("i32.add")
        c.op(elem_load(aty.elem), rt.DATA_SLOTS)
        self.put(ins.dst, aty.elem)


def _decref_fn(ty: Type) -> str:
    return "rt_decref" if ty == TEXT else "rt_obj_decref"


_HANDLERS: dict[str, Callable[[FunctionCodegen, Instr], None]] = {
    "copy": FunctionCodegen.i_copy,
    "idiv": FunctionCodegen.i_divrem,
    "irem": FunctionCodegen.i_divrem,
    "ipow": FunctionCodegen.i_ipow,
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
    "frem": FunctionCodegen.i_float_call,
    "fpow": FunctionCodegen.i_float_call,
    "not": FunctionCodegen.i_bool,
    "beq": FunctionCodegen.i_bool,
    "bne": FunctionCodegen.i_bool,
    "i2f": FunctionCodegen.i_cast,
    "f2i": FunctionCodegen.i_cast,
    "b2i": FunctionCodegen.i_cast,
    "select": FunctionCodegen.i_select,
    "teq": FunctionCodegen.i_text_eq,
    "tne": FunctionCodegen.i_text_eq,
    "totext": FunctionCodegen.i_totext,
    "print": FunctionCodegen.i_print,
    "call": FunctionCodegen.i_call,
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


def generate(mir: Module, *, force_dispatch: bool = False) -> WasmModule:
    """Translate a refcounted MIR module (see ``mir.passes.refcount``) to wasm."""
    return ModuleCodegen(mir, force_dispatch=force_dispatch).generate()
