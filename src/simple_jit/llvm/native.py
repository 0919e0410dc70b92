"""Calling LLVM-compiled code of an execution manager from Python.

One MCJIT engine per manager holds a base module (the *thunk*) and one module
per unit.  Every call from the host builds one buffer
``{trampoline, function slot, arg0, arg1, ...}`` and goes

    rt_call_host(thunk, buffer)      # rt_run_protected + flush; the result lands in buffer[0]

so that a runtime error longjmps back to the runtime's recovery point and
comes out here as ``SimpleRuntimeError``; the thunk fetches the calling
thread's stack limit, and the trampoline of the function's host signature
unpacks the 64-bit argument slots and calls the function through its slot
(see ``codegen.UnitLinkage``).  Trampolines are shared by signature across
the manager's units: a unit compiles only those of signatures that are new.
cffi makes the call: it is the cheapest way from Python into C here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simple_jit.diagnostics import SimpleRuntimeError
from simple_jit.errors import SignatureError
from simple_jit.mir.ir import Module

if TYPE_CHECKING:
    from simple_jit.manager import NativeEntry

Value = int | float | bool | str | None

_CDEF = """
typedef struct { int64_t rc; int64_t len; char data[]; } SimpleText;
int rt_call_host(int64_t (*fn)(void *), int64_t *buf);
const char *rt_last_error(void);
void rt_flush(void);
SimpleText *rt_text_new(const char *bytes, int64_t len);
void rt_text_decref(SimpleText *t);
"""

_THUNK_IR = """
declare i64 @rt_stack_limit_here()

define i64 @simple.thunk(ptr %ctx) {
entry:
  %tramp = load ptr, ptr %ctx
  %at = getelementptr i64, ptr %ctx, i64 1
  %target = load ptr, ptr %at
  %args = getelementptr i64, ptr %ctx, i64 2
  %limit = call i64 @rt_stack_limit_here()
  %r = call i64 %tramp(ptr %args, i64 %limit, ptr %target)
  ret i64 %r
}
"""

_ffi_lock = threading.Lock()
_ffi: Any = None
_lib: Any = None


def _runtime() -> tuple[Any, Any]:
    global _ffi, _lib
    with _ffi_lock:
        if _ffi is None:
            import cffi

            from simple_jit.runtime import load_runtime, runtime_library_path

            load_runtime()  # RTLD_GLOBAL, so JIT code and cffi share one runtime
            ffi = cffi.FFI()
            ffi.cdef(_CDEF)
            _lib = ffi.dlopen(runtime_library_path())
            _ffi = ffi
        return _ffi, _lib


class NativeCaller:
    def __init__(self) -> None:
        from simple_jit.llvm.compile import backend

        self.be = backend()
        self.ffi, self.lib = _runtime()
        self._engine: Any = None  # created with the first unit: managers start cheaply
        self.thunk: Any = None
        self.closed = False
        self.codegen_level = 2
        self.trampolines: dict[str, int] = {}  # host signature -> its trampoline

    @property
    def engine(self) -> Any:
        """The MCJIT engine; its machine-code level is the opt level of the first unit."""
        from simple_jit.llvm.compile import LLVM_LOCK

        if self._engine is None:
            llvm = self.be.llvm
            with LLVM_LOCK:
                mod = llvm.parse_assembly(
                    f'target triple = "{self.be.triple}"\n'
                    f'target datalayout = "{self.be.data_layout}"\n' + _THUNK_IR
                )
                engine = llvm.create_mcjit_compiler(
                    mod, self.be.new_machine(self.codegen_level, True)
                )
                engine.finalize_object()
                address = engine.get_function_address("simple.thunk")
            self.thunk = self.ffi.cast("int64_t (*)(void *)", address)
            self._engine = engine
        return self._engine

    # ---------------------------------------------------------------- loading

    def load(
        self, module: Module, prefix: str, opt: int, earlier: set[str], globals_: set[str]
    ) -> dict[str, tuple[int, int]]:
        """Compile and link a unit; run its top-level code.

        Returns the addresses of each function's trampoline and slot (a
        function the host cannot call has none).
        """
        from simple_jit.llvm.codegen import ModuleCodegen, UnitLinkage
        from simple_jit.llvm.compile import LLVM_LOCK
        from simple_jit.mir.passes.refcount import InsertRefcounts

        if self._engine is None:
            self.codegen_level = opt
        InsertRefcounts().run(module)
        link = UnitLinkage(prefix, set(earlier), set(globals_), set(self.trampolines))
        mc = ModuleCodegen(module, self.be.triple, self.be.data_layout, link)
        ir_text = str(mc.generate())
        sigs = mc.host_sigs
        ffi = self.ffi
        with LLVM_LOCK:
            mod = self.be.compile_ir(ir_text, opt)
            self.engine.add_module(mod)
            self.engine.finalize_object()
            get_fn = self.engine.get_function_address
            for sig in set(sigs.values()) - self.trampolines.keys():
                self.trampolines[sig] = get_fn(f"tramp.{prefix}.{sig}")
            get_slot = self.engine.get_global_value_address
            entries = {n: (self.trampolines[sig], get_slot(f"slot.{n}")) for n, sig in sigs.items()}
            init = get_fn(f"init.{prefix}")
            # Redefinitions: point the existing slots at the new bodies.
            saved: list[tuple[Any, int]] = []
            for n in module.functions:
                if n in earlier and n != Module.INIT:
                    cell = ffi.cast("intptr_t *", get_slot(f"slot.{n}"))
                    saved.append((cell, cell[0]))
                    cell[0] = get_fn(f"spl.{prefix}.{n}")
        try:
            self._invoke(ffi.new("int64_t[2]", [init, 0]))
        except SimpleRuntimeError:
            for cell, old in saved:
                cell[0] = old
            raise
        return entries

    # ---------------------------------------------------------------- calling

    def _invoke(self, buf: Any) -> int:
        """Run the call described by ``buf`` (trampoline, function slot, argument slots)."""
        if self.lib.rt_call_host(self.thunk, buf):
            raise self._last_error()
        value: int = buf[0]
        return value

    def _last_error(self) -> SimpleRuntimeError:
        from simple_jit.llvm.compile import runtime_error_from_text

        raw = self.lib.rt_last_error()
        text = self.ffi.string(raw).decode("utf-8", "replace") if raw else "runtime error"
        return runtime_error_from_text(text, "<source>")

    def call(self, entry: NativeEntry, args: list[Value]) -> Value:
        if self.closed:
            raise SimpleRuntimeError("the execution manager is closed", None)
        ffi, lib = self.ffi, self.lib
        buf = ffi.new("int64_t[]", len(args) + 2)
        buf[0] = entry.address
        buf[1] = entry.target
        slots = buf + 2
        texts: list[Any] = []
        try:
            for i, (kind, arg) in enumerate(zip(entry.kinds, args, strict=True)):
                if kind == "i":
                    if not isinstance(arg, int) or not -(2**63) <= arg < 2**63:
                        raise SignatureError(f"argument {i + 1} must be an i64, got {arg!r}")
                    slots[i] = arg
                elif kind == "f":
                    ffi.cast("double *", slots)[i] = float(arg)  # type: ignore[arg-type]
                elif kind == "b":
                    slots[i] = 1 if arg else 0
                else:
                    assert isinstance(arg, str)
                    try:
                        data = arg.encode("utf-8")
                    except UnicodeEncodeError:
                        raise SignatureError("text arguments must be valid Unicode") from None
                    t = lib.rt_text_new(data, len(data))
                    texts.append(t)
                    slots[i] = int(ffi.cast("intptr_t", t))
            raw = self._invoke(buf)
        finally:
            for t in texts:
                lib.rt_text_decref(t)
        return self._result(entry.ret, raw)

    def _result(self, kind: str, raw: int) -> Value:
        if kind == "i":
            return raw
        if kind == "b":
            return raw != 0
        if kind == "u":
            return None
        ffi = self.ffi
        if kind == "f":
            value: float = ffi.cast("double *", ffi.new("int64_t *", raw))[0]
            return value
        t = ffi.cast("SimpleText *", raw)
        try:
            text: str = ffi.unpack(t.data, t.len).decode("utf-8", "replace")
        finally:
            self.lib.rt_text_decref(t)
        return text

    def bind(self, entry: NativeEntry) -> Callable[..., Value]:
        """A callable for repeated calls; integer-only signatures take a fast path."""
        if set(entry.kinds) <= {"i"} and entry.ret in "iu":
            new, call_host = self.ffi.new, self.lib.rt_call_host
            thunk, address, target = self.thunk, entry.address, entry.target
            n = len(entry.kinds)
            want_result = entry.ret == "i"
            last_error = self._last_error
            # One argument buffer per thread, reused: allocating it per call
            # was a third of the call's cost.  (Compiled code never calls back
            # into Python, so a thread cannot re-enter while its buffer is in use.)
            local = threading.local()
            caller = self

            def fast(*args: int) -> int | None:
                if len(args) != n or caller.closed:
                    raise SignatureError(
                        "the execution manager is closed"
                        if caller.closed
                        else f"expected {n} arguments, got {len(args)}"
                    )
                try:
                    buf = local.buf
                except AttributeError:
                    buf = local.buf = new("int64_t[]", n + 2)
                try:
                    buf[0 : n + 2] = (address, target, *args)
                except (OverflowError, TypeError):
                    raise SignatureError("arguments must be integers that fit in i64") from None
                if call_host(thunk, buf):
                    raise last_error()
                return buf[0] if want_result else None

            return fast
        return lambda *args: self.call(entry, list(args))

    def close(self) -> None:
        from simple_jit.llvm.compile import LLVM_LOCK

        if not self.closed:
            self.closed = True
            if self._engine is not None:
                with LLVM_LOCK:
                    self._engine.close()
