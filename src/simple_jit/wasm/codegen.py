"""MIR -> WebAssembly: one module per program, runtime library included.

Conventions of the generated module:

* every Simple function ``F`` is wasm function ``spl.F`` with its MIR
  parameters (unit parameters dropped) and its result (none for unit);
* registers are wasm locals: ``i64`` -> i64, ``f64`` -> f64, ``bool`` ->
  i32 (0/1), ``text`` -> i32 (a pointer into linear memory, see
  ``runtime``); text registers start as 0 (null), which ``decref`` ignores;
* globals are wasm globals; text globals start as the immortal ``""``;
* control flow is recovered by ``structure`` (block/loop/if/br);
* a call inside a call-graph cycle checks a depth counter first and raises
  ``stack overflow`` at the call's position past ``runtime.MAX_DEPTH``
  (wasmtime's own stack limit stays a backstop: each such call's code
  offset is recorded, so a stack-exhaustion trap can still be positioned);
* runtime errors call the ``error(kind, line, col)`` import, which traps;
* ``run() -> i64`` (exported) runs ``$init`` then ``main`` and flushes the
  output buffer; its result is the exit code.

Architecture invariant: this module sees only MIR, never the AST or HIR.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from simple_jit.diagnostics import Loc
from simple_jit.mir.callgraph import strongly_connected
from simple_jit.mir.ir import Const, Function, Instr, Module, Operand, Reg
from simple_jit.types import BOOL, F64, I64, TEXT, UNIT, Type
from simple_jit.wasm import runtime as rt
from simple_jit.wasm.encoder import F64 as WF64
from simple_jit.wasm.encoder import I32 as WI32
from simple_jit.wasm.encoder import I64 as WI64
from simple_jit.wasm.encoder import Code, ModuleBuilder
from simple_jit.wasm.structure import structure


class UnsupportedByBackend(Exception):
    """A MIR construct this backend cannot compile yet."""


def wasm_type(ty: Type) -> int:
    if ty == I64:
        return WI64
    if ty == F64:
        return WF64
    if ty in (BOOL, TEXT):
        return WI32
    raise UnsupportedByBackend(f"type {ty} is not supported by the cranelift backend yet")


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


class ModuleCodegen:
    def __init__(self, mir: Module, *, force_dispatch: bool = False) -> None:
        self.mir = mir
        self.m = ModuleBuilder()
        self.force_dispatch = force_dispatch
        self.literals: dict[str, int] = {}
        self._data = bytearray()
        self.recursive = strongly_connected(mir)[1]
        self.dispatch_fallbacks = 0
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

    def generate(self) -> WasmModule:
        mir, m = self.mir, self.m
        if mir.externs:
            raise UnsupportedByBackend(
                "extern functions are not supported by the cranelift backend"
            )
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
        return WasmModule(binary, mir.source_name, sites, self.dispatch_fallbacks)

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
        init = self.mir.functions.get(Module.INIT)
        if init is not None:
            code.op("call", symbol(init.name))
            if init.ret != UNIT:
                code.op("drop")
        main = self.mir.functions.get("main")
        result = False
        if main is not None and not main.params:
            code.op("call", symbol("main"))
            if main.ret == I64:
                result = True
            elif main.ret != UNIT:
                code.op("drop")
        if not result:
            code.op("i64.const", 0)
        code.op("call", "rt_flush")


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

    def generate(self) -> None:
        f, c = self.f, self.c
        n = 0
        for p in f.params:
            if p.ty != UNIT:
                self.local[p.id] = n
                n += 1
        for reg in f.regs:
            if reg.id in self.local or reg.ty == UNIT:
                continue
            self.local[reg.id] = c.local(wasm_type(reg.ty))
        if not structure(f, self, force_dispatch=self.mc.force_dispatch):
            self.mc.dispatch_fallbacks += 1
        c.op("unreachable")

    # ------------------------------------------------------------ emitter

    def op(self, name: str, imm: object = None) -> None:
        self.c.op(name, imm)

    def label_local(self) -> int:
        return self.c.local(WI32)

    def body(self, bid: int) -> None:
        for ins in self.f.blocks[bid].instrs:
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
        else:
            raise UnsupportedByBackend(f"constants of type {ty}")

    def store(self, dst: Reg | None) -> None:
        """Pop the value on the stack into ``dst`` (or drop it)."""
        if dst is None or dst.ty == UNIT:
            self.c.op("drop")
        else:
            self.c.op("local.set", self.local[dst.id])

    def temp(self, ty: int) -> int:
        """A scratch local of type ``ty``, private to one instruction."""
        pool = self._temps.setdefault(ty, [])
        if not pool:
            pool.append(self.c.local(ty))
        return pool[0]

    def error(self, kind: int, loc: Loc | None) -> None:
        line, col = (loc.line, loc.col) if loc is not None else (0, 0)
        c = self.c
        c.op("i32.const", kind)
        c.op("i32.const", line)
        c.op("i32.const", col)
        c.op("call", "host_error")
        c.op("unreachable")

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
        if arg.ty != TEXT or isinstance(arg, Const):
            return
        self.push(arg)
        self.c.op("call", "rt_incref" if ins.op == "incref" else "rt_decref")


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
}


def generate(mir: Module, *, force_dispatch: bool = False) -> WasmModule:
    """Translate a refcounted MIR module (see ``mir.passes.refcount``) to wasm."""
    return ModuleCodegen(mir, force_dispatch=force_dispatch).generate()
