"""The Cranelift backend of the execution manager: units sharing one wasmtime store.

A manager's code lives in one ``wasmtime.Store`` (``UnitStore``):

* a *runtime instance*, made once from the runtime library of ``runtime``
  alone, owns the linear memory, the runtime's globals (heap top, output
  buffer length, depth counter...) and its functions, all exported;
* a ``funcref`` table with one slot per Simple function;
* one *unit instance* per compiled unit.  A unit module imports the host
  functions, every runtime function, the memory, the table, the runtime's
  globals and the Simple globals (host-made ``wasmtime.Global`` objects
  shared by all units), and defines only its own functions.

Every call between Simple functions, inside a unit or across units, is a
``call_indirect`` through the callee's slot, and checks the depth counter
(any call may become recursive once a later unit redefines its callee).
Redefining ``F`` is therefore one ``table.set``: callers compiled earlier
follow, as with the LLVM backend's slots.  The unit's top-level code runs
after its slots are set; if it fails they are restored, so a unit either
loads completely or changes nothing.

A unit's text literals are immortal texts placed at the top of the heap,
which is moved past them before the unit is instantiated (its active data
segment writes them).  Host calls enter through ``entry.F``, exported by
the unit that compiled ``F``: it resets the depth counter, calls through
the slot (so redefinitions are followed), turns a pending runtime error
into a trap and flushes the output buffer.  Calls use
``wasmtime_func_call_unchecked`` with raw 64-bit values, and the store's
lock: a store is not thread-safe, so calls on one manager are serialised;
managers do not share stores or locks.

Runtime errors reach ``error(kind, line, col)``, which here records the
error in the store's state and returns; the ``unreachable`` after every
call of it traps, and the caller turns the trap into ``SimpleRuntimeError``.
(Raising from a host function would go through wasmtime-py's process-wide
``LAST_EXCEPTION``, which concurrent managers would race on.)  The wasm
stack of manager engines (``UNIT_WASM_STACK``) is small enough for the stack
of any thread that calls in; a call that exhausts it is a positioned
``stack overflow`` (the trap's frames name the unit module and the call).

Time limits use epoch interruption, compiled into every manager unit: one
process-wide ticker thread advances the manager engines' epoch every
``TICK`` seconds while a limit is set, and each call sets its store's
deadline.  The engine (so Cranelift's opt level) is chosen by the first
unit, as the LLVM backend chooses its machine-code level.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import struct
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

import wasmtime
from wasmtime import _bindings as wbind
from wasmtime import _ffi as wffi

from simple_jit.diagnostics import InternalCompilerError, Loc, SimpleError, SimpleRuntimeError
from simple_jit.mir.ir import Function, Module
from simple_jit.types import TEXT, UNIT, Type
from simple_jit.wasm import runtime as rt
from simple_jit.wasm.codegen import (
    BlockStart,
    FunctionCodegen,
    ModuleCodegen,
    UnsupportedByBackend,
    block_start_at,
    symbol,
    wasm_type,
)
from simple_jit.wasm.encoder import F64 as WF64
from simple_jit.wasm.encoder import I32 as WI32
from simple_jit.wasm.encoder import I64 as WI64
from simple_jit.wasm.encoder import Code

__all__ = ["MSG_TIME", "TICK", "UNIT_WASM_STACK", "UnitStore"]

MSG_TIME = "time limit exceeded"
TICK = 0.005  # seconds per epoch while a time limit is in force
UNIT_WASM_STACK = 4 << 20  # fits the 8 MiB default stack of a calling thread
_NO_DEADLINE = 1 << 62

_RT = "rt"  # import module of the runtime instance's exports
_GLOBALS = "g"  # import module of Simple globals

_VALTYPE = {
    WI32: wasmtime.ValType.i32(),
    WI64: wasmtime.ValType.i64(),
    WF64: wasmtime.ValType.f64(),
}


# --------------------------------------------------------------------------
# engines and the epoch ticker

_engines: dict[int, wasmtime.Engine] = {}
_engines_lock = threading.Lock()


def unit_engine(opt_level: int) -> wasmtime.Engine:
    """The engine of manager stores compiled at ``opt_level`` (epochs on)."""
    from simple_jit.wasm.host import OPT_LEVELS

    level = min(max(opt_level, 0), 3)
    with _engines_lock:
        eng = _engines.get(level)
        if eng is None:
            cfg = wasmtime.Config()
            cfg.cranelift_opt_level = OPT_LEVELS[level]
            cfg.epoch_interruption = True
            # wasmtime refuses a wasm stack larger than its async stack size
            wffi.wasmtime_config_async_stack_size_set(cfg.ptr(), UNIT_WASM_STACK + (1 << 20))
            cfg.max_wasm_stack = UNIT_WASM_STACK
            eng = _engines[level] = wasmtime.Engine(cfg)
        return eng


def _write_stdout(data: bytes) -> None:
    """Output of Simple code: after anything Python buffered, and at once (a C
    host may never finalise the embedded interpreter)."""
    # a closed or replaced stdout loses the output, not the call
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _func(item: object) -> wasmtime.Func:
    assert isinstance(item, wasmtime.Func)
    return item


class _Ticker:
    """Advances every manager engine's epoch every ``TICK`` s while limits are in use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0
        self.thread: threading.Thread | None = None
        self.wake = threading.Event()

    def acquire(self) -> None:
        with self.lock:
            self.users += 1
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="simple-epochs", daemon=True)
                self.thread.start()

    def release(self) -> None:
        with self.lock:
            self.users -= 1

    def _run(self) -> None:
        start = time.monotonic()
        ticks = 0
        while True:
            time.sleep(TICK)
            with self.lock:
                if self.users <= 0:
                    self.thread = None
                    return
            with _engines_lock:
                engines = list(_engines.values())
            # one epoch per TICK of real time, however late this thread wakes
            due = int((time.monotonic() - start) / TICK)
            while ticks < due:
                ticks += 1
                for eng in engines:
                    eng.increment_epoch()


_ticker = _Ticker()


# --------------------------------------------------------------------------
# the runtime module


@dataclass
class _Runtime:
    """The runtime module's binary and what units import from it."""

    binary: bytes
    funcs: list[tuple[str, str, list[int], list[int]]]  # (name, export, params, results)
    globals: list[tuple[str, str, int, bool]]  # (name, export, type, mutable)
    host_imports: list[str]  # field names of the host imports, in order
    empty_text: int  # the immortal "" (text globals start as it)
    heap: int


_runtime_cache: _Runtime | None = None
_runtime_lock = threading.Lock()


def _runtime() -> _Runtime:
    global _runtime_cache
    with _runtime_lock:
        if _runtime_cache is None:
            mc = ModuleCodegen(Module("<runtime>"))
            m = mc.m
            rt.declare_imports(m)
            host_imports = [fname for _mod, fname, _f in m.imports]
            for lit in rt.RUNTIME_LITERALS:
                mc.literal(lit)
            rt.define(m, mc.literals)
            heap = (rt.DATA_START + len(mc._data) + 15) // 16 * 16
            rt.declare_globals(m, heap)
            funcs = []
            taken = {f.export for f in m.funcs if f.export} | {g.export for g in m.globals}
            for f in m.funcs:
                if f.export is None:
                    f.export = f.name if f.name not in taken else "rt." + f.name
                ft = m.types[f.type_index]
                funcs.append((f.name, f.export, list(ft.params), list(ft.results)))
            globals_ = []
            for g in m.globals:
                if g.export is None:
                    g.export = "g." + g.name
                globals_.append((g.name, g.export, g.ty, g.mutable))
            m.data = [(rt.DATA_START, bytes(mc._data))]
            m.memory_pages = (heap + 65535) // 65536 + 1
            _runtime_cache = _Runtime(
                m.encode(), funcs, globals_, host_imports, mc.literals[""], heap
            )
        return _runtime_cache


_compiled: dict[int, wasmtime.Module] = {}  # id(engine) -> the runtime module


def _runtime_module(eng: wasmtime.Engine, binary: bytes) -> wasmtime.Module:
    """The runtime module compiled for ``eng``, once per engine (engines live forever)."""
    with _runtime_lock:
        found = _compiled.get(id(eng))
        if found is None:
            found = _compiled[id(eng)] = wasmtime.Module(eng, binary)
        return found


# --------------------------------------------------------------------------
# code generation of a unit


@dataclass
class _Fn:
    """A function of the store: its table slot and signature."""

    slot: int
    params: tuple[Type, ...]
    ret: Type
    wparams: list[int]
    wresults: list[int]


def _signature(params: tuple[Type, ...], ret: Type) -> tuple[list[int], list[int]]:
    return (
        [wasm_type(p) for p in params if p != UNIT],
        [] if ret == UNIT else [wasm_type(ret)],
    )


class UnitCodegen(ModuleCodegen):
    """One manager unit: calls through table slots, everything shared imported."""

    def __init__(
        self,
        mir: Module,
        prefix: str,
        fns: dict[str, _Fn],
        globals_: dict[str, int],
        data_start: int,
    ) -> None:
        super().__init__(mir)
        self.prefix = prefix
        self.fns = fns
        self.simple_globals = globals_
        self.data_start = data_start

    def callee_ret(self, name: str) -> Type | None:
        fn = self.fns.get(name)
        return None if fn is None else fn.ret

    def counts_depth(self, caller: str, callee: str) -> bool:
        return True

    def emit_call(self, code: Code, callee: str, loc: Loc | None) -> None:
        fn = self.fns[callee]
        code.op("i32.const", fn.slot)
        if loc is not None:
            code.mark(loc)
        code.op("call_indirect", self.m.type_index(fn.wparams, fn.wresults))

    def generate_unit(self) -> tuple[bytes, list[tuple[int, Loc]], list[tuple[int, Loc]]]:
        """The binary, its call sites and the starts of its blocks (module offsets)."""
        mir, m = self.mir, self.m
        if mir.externs:
            raise UnsupportedByBackend(
                "extern functions are not supported by the cranelift backend"
            )
        run = _runtime()
        # Any callee may be redefined into one that fails: every call checks.
        self.may_fail = set(mir.functions)
        rt.declare_imports(m)
        for name, field_name, params, results in run.funcs:
            m.import_func(_RT, field_name, name, params, results)
        for name, field_name, ty, mutable in run.globals:
            m.import_global(_RT, field_name, name, ty, mutable=mutable)
        for gname, ty in self.simple_globals.items():
            m.import_global(_GLOBALS, gname, "g." + gname, ty)
        m.memory_import = (_RT, "memory")
        m.memory_export = None
        m.memory_pages = 1
        m.table_import = (_RT, "table")
        m.table_min = 1 + max((fn.slot for fn in self.fns.values()), default=0)
        m.module_name = self.prefix
        codes: list[tuple[Function, Code]] = []
        for f in mir.functions.values():
            params = [wasm_type(p.ty) for p in f.params if p.ty != UNIT]
            results = [] if f.ret == UNIT else [wasm_type(f.ret)]
            export = None if f.name == Module.INIT else "fn." + f.name
            codes.append((f, m.func(symbol(f.name), params, results, export=export)))
        for f, _code in codes:
            if f.name != Module.INIT:
                self._entry(f.name)
            else:
                self._init_entry(f)
        for f, code in codes:
            FunctionCodegen(self, f, code).generate()
        m.data = [(self.data_start, bytes(self._data))] if self._data else []
        binary = m.encode()
        sites = [(off, tag) for off, tag in m.marks if isinstance(tag, Loc)]
        blocks = [(off, tag.loc) for off, tag in m.marks if isinstance(tag, BlockStart)]
        return binary, sites, blocks

    def _init_entry(self, init: Function) -> None:
        """``init``: runs the unit's top-level code."""
        code = self.m.func("init", [], [], export="init")
        code.op("i32.const", 0)
        code.op("global.set", "depth")
        code.op("call", symbol(init.name))
        if init.ret != UNIT:
            code.op("drop")
        self._raise_pending(code)
        code.op("call", "rt_flush")

    def _raise_pending(self, code: Code) -> None:
        """Trap on the runtime error a call left pending (runtimes that unwind)."""
        if self.m.has_func("rt_raise") and "err" in self.m._global_names:
            code.op("global.get", "err")
            code.op("if")
            code.op("call", "rt_raise")
            code.op("unreachable")
            code.op("end")

    def _entry(self, name: str) -> None:
        """``entry.F``: what the host calls (see the module docstring)."""
        fn = self.fns[name]
        code = self.m.func("entry." + name, fn.wparams, fn.wresults, export="entry." + name)
        code.op("i32.const", 0)
        code.op("global.set", "depth")
        for i in range(len(fn.wparams)):
            code.op("local.get", i)
        code.op("i32.const", fn.slot)
        code.op("call_indirect", self.m.type_index(fn.wparams, fn.wresults))
        self._raise_pending(code)
        code.op("call", "rt_flush")


# --------------------------------------------------------------------------
# the store


Value = int | float | bool | str | None
_Marks = tuple[list[tuple[int, Loc]], list[tuple[int, Loc]]]  # call sites, block starts


@dataclass
class _Unit:
    instance: wasmtime.Instance
    call_sites: dict[int, Loc] = field(default_factory=dict)
    blocks: list[tuple[int, Loc]] = field(default_factory=list)  # sorted by offset


class UnitStore:
    """The wasm side of one execution manager (see the module docstring)."""

    def __init__(self, source_name: str = "<source>") -> None:
        # reentrant; the C ABI replaces it (before the first unit) with the
        # lock its own direct calls take (capi.c: store_lock)
        self.lock: Any = threading.RLock()
        self.source_name = source_name
        self.store: wasmtime.Store | None = None
        self.closed = False
        self.fns: dict[str, _Fn] = {}
        self.globals: dict[str, tuple[int, wasmtime.Global]] = {}
        self.units: dict[str, _Unit] = {}
        self.entries: dict[str, Callable[[list[Any]], Any]] = {}
        self.time_limit: float | None = None
        self._pending: tuple[int, int, int] | None = None
        self._slots = 0
        self.entry_funcs: dict[str, wasmtime.Func] = {}

    # ------------------------------------------------------------- setting up

    def _open(self, opt_level: int) -> wasmtime.Store:
        """The store, made with the first unit (so a manager starts cheaply)."""
        if self.store is not None:
            return self.store
        run = _runtime()
        eng = unit_engine(opt_level)
        store = wasmtime.Store(eng)
        store.set_epoch_deadline(_NO_DEADLINE)
        module = _runtime_module(eng, run.binary)
        holder: dict[str, Any] = {}
        imports = self._host_imports(store, holder)
        inst = wasmtime.Instance(store, module, imports)
        ex = inst.exports(store)
        memory = ex["memory"]
        assert isinstance(memory, wasmtime.Memory)
        self.memory = memory
        holder["memory"] = memory
        holder["alloc"] = ex["alloc"]
        self.table = wasmtime.Table(
            store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(16, None)), None
        )
        self.rt_exports: dict[str, Any] = {export: ex[export] for _n, export, _p, _r in run.funcs}
        self.rt_globals: dict[str, wasmtime.Global] = {}
        for name, export, _ty, _mut in run.globals:
            g = ex[export]
            assert isinstance(g, wasmtime.Global)
            self.rt_globals[name] = g
        exports_by_name = {name: export for name, export, _p, _r in run.funcs}
        self.imports_base: list[Any] = list(imports)
        for _name, export, _p, _r in run.funcs:
            self.imports_base.append(ex[export])
        self.imports_base.append(self.table)
        self.imports_base.append(self.memory)
        for name, _export, _ty, _mut in run.globals:
            self.imports_base.append(self.rt_globals[name])
        self._alloc = self._raw_caller(_func(ex["alloc"]), store)
        self._decref = self._raw_caller(_func(ex[exports_by_name["rt_decref"]]), store)
        self.instance = inst
        self.store = store
        if self.time_limit is not None:
            _ticker.acquire()
        return store

    def _host_imports(self, store: wasmtime.Store, holder: dict[str, Any]) -> list[wasmtime.Func]:
        """host.py's imports, but ``error`` records the error instead of raising."""
        from simple_jit.wasm.host import Program

        class _Stdout:
            def write(self, data: bytes) -> int:
                _write_stdout(data)
                return len(data)

            def flush(self) -> None:
                pass

        # host.py's import functions do not use their ``self``
        funcs = Program._imports(cast(Program, None), store, cast(BinaryIO, _Stdout()), holder)
        me = weakref.ref(self)

        def error(kind: int, line: int, col: int) -> None:
            this = me()
            if this is not None:
                this._pending = (kind, line, col)

        i32 = _VALTYPE[WI32]
        names = _runtime().host_imports
        funcs[names.index("error")] = wasmtime.Func(
            store, wasmtime.FuncType([i32, i32, i32], []), error
        )
        return funcs

    # ---------------------------------------------------------------- loading

    def load(self, module: Module, prefix: str, opt_level: int) -> None:
        """Compile and instantiate a unit, set its slots, run its top-level code."""
        from simple_jit.mir.passes.refcount import InsertRefcounts

        InsertRefcounts().run(module)
        with self.lock:
            store = self._open(opt_level)
            heap = self._heap()
        fns = dict(self.fns)
        new: dict[str, _Fn] = {}
        slots = self._slots
        for f in module.functions.values():
            if f.name == Module.INIT:
                continue
            params = tuple(p.ty for p in f.params)
            old = fns.get(f.name)
            if old is not None:
                new[f.name] = _Fn(old.slot, params, f.ret, old.wparams, old.wresults)
            else:
                wp, wr = _signature(params, f.ret)
                new[f.name] = _Fn(slots, params, f.ret, wp, wr)
                slots += 1
        fns.update(new)
        globals_ = {n: ty for n, (ty, _g) in self.globals.items()}
        for name, g in module.globals.items():
            if g.ty != UNIT and name not in globals_:
                globals_[name] = wasm_type(g.ty)
        eng = store.engine
        for _attempt in range(3):
            binary, marks, size = self._generate(module, prefix, fns, globals_, heap)
            wmod = wasmtime.Module(eng, binary)
            with self.lock:
                now = self._heap()
                if now == heap:
                    self._install(
                        module, prefix, wmod, marks, heap, size, fns, new, globals_, slots
                    )
                    return
                heap = now  # a call allocated meanwhile: place the literals again
        with self.lock:  # keep the heap still this time
            heap = self._heap()
            binary, marks, size = self._generate(module, prefix, fns, globals_, heap)
            wmod = wasmtime.Module(eng, binary)
            self._install(module, prefix, wmod, marks, heap, size, fns, new, globals_, slots)

    def _generate(
        self,
        module: Module,
        prefix: str,
        fns: dict[str, _Fn],
        globals_: dict[str, int],
        heap: int,
    ) -> tuple[bytes, _Marks, int]:
        gen = UnitCodegen(module, prefix, fns, globals_, heap)
        binary, sites, blocks = gen.generate_unit()
        return binary, (sites, blocks), len(gen._data)

    def _heap(self) -> int:
        assert self.store is not None
        value = self.rt_globals["heap"].value(self.store)
        assert isinstance(value, int)
        return value

    def _install(
        self,
        module: Module,
        prefix: str,
        wmod: wasmtime.Module,
        marks: _Marks,
        heap: int,
        size: int,
        fns: dict[str, _Fn],
        new: dict[str, _Fn],
        globals_: dict[str, int],
        slots: int,
    ) -> None:
        store = self.store
        assert store is not None
        # literals: move the heap past them (growing memory as needed)
        top = (heap + size + 15) // 16 * 16
        pages = (top + 65535) // 65536
        have = self.memory.size(store)
        if pages > have:
            self.memory.grow(store, pages - have)
        # table slots and new globals
        if slots > self.table.size(store):
            self.table.grow(
                store, max(slots, 2 * self.table.size(store)) - self.table.size(store), None
            )
        made: dict[str, tuple[int, wasmtime.Global]] = {}
        empty = _runtime().empty_text
        for name, ty in globals_.items():
            if name in self.globals:
                continue
            init = (
                wasmtime.Val.i32(empty)
                if module.globals[name].ty == TEXT
                else wasmtime.Val.i32(0)
                if ty == WI32
                else wasmtime.Val.i64(0)
                if ty == WI64
                else wasmtime.Val.f64(0.0)
            )
            gt = wasmtime.GlobalType(_VALTYPE[ty], True)
            made[name] = (ty, wasmtime.Global(store, gt, init))
        imports = list(self.imports_base)
        for name in globals_:
            imports.append((self.globals.get(name) or made[name])[1])
        self.rt_globals["heap"].set_value(store, wasmtime.Val.i32(top))
        try:
            inst = wasmtime.Instance(store, wmod, imports)
        except (wasmtime.WasmtimeError, wasmtime.Trap) as exc:
            self.rt_globals["heap"].set_value(store, wasmtime.Val.i32(heap))
            raise InternalCompilerError(f"cranelift backend: cannot load a unit: {exc}") from None
        ex = inst.exports(store)
        saved: list[tuple[int, Any]] = []
        for name, fn in new.items():
            if name in self.fns:
                saved.append((fn.slot, self.table.get(store, fn.slot)))
            self.table.set(store, fn.slot, _func(ex["fn." + name]))
        unit = _Unit(inst, dict(marks[0]), sorted(marks[1], key=lambda m: m[0]))
        self.units[prefix] = unit
        if Module.INIT in module.functions:
            try:
                self._raw_caller(_func(ex["init"]), store)([])
            except BaseException:
                for slot, old in saved:
                    self.table.set(store, slot, old)
                del self.units[prefix]
                raise
        # committed
        self.globals.update(made)
        self.fns = fns
        self._slots = slots
        for name in new:
            func = ex["entry." + name]
            assert isinstance(func, wasmtime.Func)
            self.entries[name] = self._raw_caller(func, store)
            self.entry_funcs[name] = func

    # ---------------------------------------------------------------- calling

    def _raw_caller(self, func: wasmtime.Func, store: wasmtime.Store) -> Callable[[list[Any]], Any]:
        """Call ``func`` with raw values (ints, floats) under the store's lock.

        The hot path of every host call: one buffer and one trap cell per
        caller, reused (the lock serialises their use), and the ctypes
        function of ``wasmtime_func_call_unchecked`` called directly.
        """
        ty = func.type(store)
        kinds = [str(t) for t in ty.params]
        rkinds = [str(t) for t in ty.results]
        n = max(len(kinds), len(rkinds), 1)
        buf = (wffi.wasmtime_val_raw_t * n)()
        ctx = store._context()
        fptr = ctypes.byref(func._func)
        call_unchecked = wbind._wasmtime_func_call_unchecked
        trap_t = ctypes.POINTER(wffi.wasm_trap_t)
        cell: list[Any] = [trap_t()]
        cell.append(ctypes.byref(cell[0]))
        fields = [{"i32": "i32", "i64": "i64", "f64": "f64"}.get(k, "i64") for k in kinds]
        rfield = {"i32": "i32", "i64": "i64", "f64": "f64"}.get(rkinds[0]) if rkinds else None
        lock = self.lock
        ticks = self._deadline_ticks
        only_i64 = all(f == "i64" for f in fields)
        slots = [buf[i] for i in range(n)]  # views into buf

        def call(args: list[Any]) -> Any:
            with lock:
                if self.closed:
                    raise SimpleRuntimeError("the execution manager is closed", None)
                if only_i64:
                    for slot, a in zip(slots, args, strict=False):
                        slot.i64 = a
                else:
                    for slot, f, a in zip(slots, fields, args, strict=False):
                        setattr(slot, f, a)
                limit = self.time_limit
                if limit is not None:
                    store.set_epoch_deadline(ticks(limit))
                err = call_unchecked(ctx, fptr, buf, n, cell[1])
                if limit is not None:
                    store.set_epoch_deadline(_NO_DEADLINE)
                if err:
                    raise InternalCompilerError(
                        "cranelift backend: " + str(wasmtime.WasmtimeError._from_ptr(err))
                    )
                trap = cell[0]
                if trap:
                    cell[0] = trap_t()
                    cell[1] = ctypes.byref(cell[0])
                    raise self._trap_error(wasmtime.Trap._from_ptr(trap))
                return getattr(slots[0], rfield) if rfield is not None else None

        return call

    def raw_entry(self, name: str) -> tuple[int, int, int, int]:
        """(store context, wasmtime_func_t as two words, address of
        ``wasmtime_func_call_unchecked``) of ``entry.NAME``, for C callers."""
        store = self.store
        if store is None or self.closed:
            raise SimpleRuntimeError("the execution manager is closed", None)
        func = self.entry_funcs[name]
        ctx = ctypes.cast(store._context(), ctypes.c_void_p).value or 0
        store_id, private = struct.unpack("<QQ", bytes(func._func))
        call = ctypes.cast(wbind._wasmtime_func_call_unchecked, ctypes.c_void_p).value or 0
        return ctx, store_id, private, call

    def failure(self, trap: int, error: int) -> SimpleError:
        """The error of a direct call (``raw_entry``) that failed; the caller
        holds the lock."""
        if error:
            eptr = ctypes.cast(error, ctypes.POINTER(wffi.wasmtime_error_t))
            return InternalCompilerError(
                "cranelift backend: " + str(wasmtime.WasmtimeError._from_ptr(eptr))
            )
        tptr = ctypes.cast(trap, ctypes.POINTER(wffi.wasm_trap_t))
        err = self._trap_error(wasmtime.Trap._from_ptr(tptr))
        if isinstance(err, SimpleError):
            return err
        return InternalCompilerError(f"cranelift backend: {err!r}")

    @staticmethod
    def _deadline_ticks(limit: float) -> int:
        return max(1, math.ceil(limit / TICK)) + 1

    def _trap_error(self, trap: wasmtime.Trap) -> BaseException:
        """The runtime error a trap stands for; flushes output and resets state."""
        from wasmtime import _func as wfunc

        from simple_jit.wasm.host import _MESSAGES, MSG_FUEL, _Panic

        store = self.store
        assert store is not None
        pending, self._pending = self._pending, None
        last = wfunc.LAST_EXCEPTION
        if isinstance(last, _Panic):  # a host function of host.py failed (out of memory)
            wfunc.LAST_EXCEPTION = None
            pending = (last.kind, last.line, last.col)
        self._flush_output()
        err = self.rt_globals.get("err")
        if err is not None:
            err.set_value(store, wasmtime.Val.i32(0))
        code = trap.trap_code
        if pending is not None:
            kind, line, col = pending
            loc = Loc(line, col) if line > 0 else None
            return SimpleRuntimeError(_MESSAGES.get(kind, "runtime error"), loc, self.source_name)
        if code == wasmtime.TrapCode.INTERRUPT:
            return SimpleRuntimeError(MSG_TIME, self._stopped_at(trap), self.source_name)
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            return SimpleRuntimeError(MSG_FUEL, None, self.source_name)
        if code == wasmtime.TrapCode.STACK_OVERFLOW:
            from simple_jit.mir.ir import MSG_STACK

            return SimpleRuntimeError(MSG_STACK, self._frame_loc(trap), self.source_name)
        return InternalCompilerError(f"cranelift backend: unexpected wasm trap: {trap.message}")

    def _frame_loc(self, trap: wasmtime.Trap) -> Loc | None:
        """The position of the innermost recorded call on the trap's backtrace."""
        for frame in trap.frames:
            unit = self.units.get(frame.module_name or "")
            if unit is None:
                continue
            loc = unit.call_sites.get(frame.module_offset)
            if loc is not None:
                return loc
        return None

    def _stopped_at(self, trap: wasmtime.Trap) -> Loc | None:
        """The start of the block the innermost Simple frame was running."""
        for frame in trap.frames:
            unit = self.units.get(frame.module_name or "")
            if unit is None:
                continue
            at = frame.module_offset
            loc = block_start_at(unit.blocks, at - frame.func_offset, at)
            if loc is not None:
                return loc
        return None

    def _flush_output(self) -> None:
        store = self.store
        assert store is not None
        out_len = self.rt_globals["out_len"]
        pending = out_len.value(store)
        if isinstance(pending, int) and pending > 0:
            data = bytes(self.memory.read(store, rt.OUT, rt.OUT + pending))
            out_len.set_value(store, wasmtime.Val.i32(0))
            _write_stdout(data)

    # ------------------------------------------------------------ host values

    def text_in(self, s: str) -> int:
        """A new text in linear memory holding ``s`` (the caller releases it)."""
        data = s.encode("utf-8")
        if len(data) > rt.MAX_LEN:
            raise SimpleRuntimeError("out of memory", None, self.source_name)
        ptr = self._alloc([len(data)])
        assert isinstance(ptr, int)
        if data:
            assert self.store is not None
            self.memory.write(self.store, data, ptr + 8)
        return ptr

    def text_out(self, ptr: int) -> str:
        """The text at ``ptr``; the reference is released."""
        store = self.store
        assert store is not None
        head = bytes(self.memory.read(store, ptr + 4, ptr + 8))
        n = int.from_bytes(head, "little")
        data = bytes(self.memory.read(store, ptr + 8, ptr + 8 + n)) if n else b""
        self._decref([ptr])
        return data.decode("utf-8", "replace")

    def release(self, ptr: int) -> None:
        self._decref([ptr])

    # ------------------------------------------------------------- limits

    def set_time_limit(self, seconds: float | None) -> None:
        with self.lock:
            was = self.time_limit is not None and self.store is not None
            self.time_limit = seconds
            now = seconds is not None and self.store is not None
            if now and not was:
                _ticker.acquire()
            elif was and not now:
                _ticker.release()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if self.time_limit is not None and self.store is not None:
                _ticker.release()
            self.entries.clear()
            self.units.clear()
            self.globals.clear()
            self.imports_base = []
            self.rt_exports = {}
            self.rt_globals = {}
            self.store = None
