"""The execution manager: compile Simple code into memory and call it.

``ExecManager`` is a thin layer over the driver's pipeline (it parses, checks
and lowers nothing itself).  Each ``compile_*`` call adds a *unit*:

* later units may call functions of earlier ones (``hir.env.UnitEnv``);
* a unit that defines an existing function replaces it; with the LLVM
  backend every call goes through a per-function slot, with the Cranelift
  backend through a per-function table slot (``wasm/units.py``), so callers
  compiled earlier use the new body; a different signature is refused;
* a unit with any error adds nothing; its top-level statements run once it
  has compiled (a runtime error there undoes the unit, too).

Functions with untyped parameters are specialized for the argument types of
each host call, on first use.  ``set_time_limit`` bounds the running time of
each call (Cranelift: epoch interruption; interpreter: a clock check every
``_CHECK_EVERY`` blocks; LLVM: not supported).  The C ABI (``simple_jit.capi``) wraps the same
objects and reaches LLVM code through ``native_entry`` without Python.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from simple_jit._record import record
from simple_jit.diagnostics import (
    CompileError,
    Diagnostic,
    SimpleError,
    SimpleRuntimeError,
    SourceFile,
    Span,
)
from simple_jit.errors import FunctionNotFound, SignatureError, UnsupportedLimit
from simple_jit.hir.env import EnvFunction, UnitEnv
from simple_jit.mir.ir import Module
from simple_jit.types import BOOL, F64, I64, TEXT, UNIT, Type

__all__ = [
    "BACKENDS",
    "ExecManager",
    "NativeEntry",
    "WasmEntry",
    "default_backend",
    "set_default_backend",
]

BACKENDS = ("auto", "llvm", "cranelift", "interpreter")
_KIND_OF: dict[Type, str] = {I64: "i", F64: "f", BOOL: "b", TEXT: "t", UNIT: "u"}
_TYPE_OF: dict[str, Type] = {"i": I64, "f": F64, "b": BOOL, "t": TEXT}
Value = int | float | bool | str | None

_CHECK_EVERY = 20_000  # interpreter blocks between two looks at the clock

_default_lock = threading.Lock()
_default_backend: str | None = None


def _available(name: str) -> bool:
    if name == "interpreter":
        return True
    if name == "llvm":
        try:
            import llvmlite  # noqa: F401
        except ImportError:
            return False
        return True
    if name == "cranelift":
        try:
            import wasmtime  # noqa: F401
        except ImportError:
            return False
        return True
    return False


def default_backend() -> str:
    """The backend ``"auto"`` means: the process-wide default.

    LLVM unless it is missing: its code runs 2-4x faster than Cranelift's and
    its calls from Python cost half as much (measurements and reasons in
    docs/embedding.md); Cranelift is chosen explicitly.
    """
    global _default_backend
    with _default_lock:
        if _default_backend is None:
            _default_backend = "llvm" if _available("llvm") else "interpreter"
        return _default_backend


def set_default_backend(name: str) -> bool:
    """Set what ``"auto"`` means; False for an unknown or unavailable backend."""
    global _default_backend
    if name == "auto":
        return True
    if name not in BACKENDS or not _available(name):
        return False
    with _default_lock:
        _default_backend = name
    return True


@record(frozen=True)
class NativeEntry:
    """Machine code a host may call directly (see ``ExecManager.native_entry``)."""

    address: int  # the trampoline
    target: int  # the function's slot, the trampoline's third argument
    kinds: str
    ret: str


@record(frozen=True)
class WasmEntry:
    """Cranelift code a C host may call itself (see ``ExecManager.wasm_entry``)."""

    words: tuple[int, int, int, int]  # store context, wasmtime_func_t (2 words), call
    kinds: str
    ret: str


@record
class _Spec:
    mir_name: str
    params: tuple[Type, ...]
    ret: Type
    entry: NativeEntry | None = None


class ExecManager:
    """Compiles units of Simple code into memory and calls their functions."""

    def __init__(
        self, backend: str = "auto", opt_level: int = 2, *, time_limit: float | None = None
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend '{backend}'")
        actual = default_backend() if backend == "auto" else backend
        if not _available(actual):
            raise ValueError(f"backend '{actual}' is not available")
        self._check_level(opt_level)
        self._backend = actual
        self._opt_level = opt_level
        self._lock = threading.RLock()  # compiles are serialised
        self._env = UnitEnv()
        self._specs: dict[str, _Spec] = {}  # MIR name -> specialization
        self._units = 0
        self._closed = False
        # (name, argument Python types) -> callable: repeated calls skip dispatch
        self._bound: dict[tuple[object, ...], Callable[..., Value]] = {}
        self._impl: _Backend
        if actual == "llvm":
            self._impl = _LLVMBackend()
        elif actual == "cranelift":
            self._impl = _CraneliftBackend()
        else:
            self._impl = _InterpBackend()
        self._time_limit: float | None = None
        if time_limit is not None:
            self.set_time_limit(time_limit)

    # ----------------------------------------------------------- properties

    @property
    def backend(self) -> str:
        return self._backend

    @property
    def opt_level(self) -> int:
        return self._opt_level

    @opt_level.setter
    def opt_level(self, level: int) -> None:
        self._check_level(level)
        self._opt_level = level

    @property
    def time_limit(self) -> float | None:
        """Seconds a call (or a unit's top-level code) may run; None: no limit."""
        return self._time_limit

    def set_time_limit(self, seconds: float | None) -> None:
        """Limit every later call to ``seconds`` of running time (None: no limit).

        A call that runs longer fails with the runtime error ``time limit
        exceeded`` at the position it had reached; the manager stays usable.
        The cranelift backend interrupts generated code (epoch interruption)
        and the interpreter checks the clock every few thousand blocks; the
        llvm backend cannot stop machine code safely and raises
        ``UnsupportedLimit`` (a ``ValueError``).
        """
        if seconds is not None:
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ValueError(f"a time limit is a number of seconds, got {seconds!r}")
            if not seconds > 0 or seconds != seconds or seconds == float("inf"):
                raise ValueError(f"a time limit must be positive and finite, got {seconds!r}")
            seconds = float(seconds)
        with self._lock:
            self._alive()
            self._impl.set_time_limit(seconds)
            self._time_limit = seconds

    @staticmethod
    def _check_level(level: int) -> None:
        if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 3:
            raise ValueError(f"opt level must be 0..3, got {level!r}")

    def __enter__(self) -> ExecManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Free the compiled code; the manager cannot be used afterwards."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._impl.close()
                self._env = UnitEnv()
                self._specs.clear()
                self._bound.clear()

    def _alive(self) -> None:
        if self._closed:
            raise SimpleError("the execution manager is closed")

    # ------------------------------------------------------------ compiling

    def compile_source(self, source: str, name: str = "<source>") -> None:
        """Compile a unit of Simple source; raises ``CompileError``."""
        self._compile(SourceFile(name, source))

    def compile_file(self, path: str | os.PathLike[str]) -> None:
        from simple_jit.driver import source_from_bytes

        with open(path, "rb") as f:
            data = f.read()
        self._compile(source_from_bytes(os.fspath(path), data))

    def compile_mir(self, text: str) -> None:
        """Add a unit written as MIR text (what ``simple run --emit mir`` prints)."""
        from simple_jit.mir.parser import MirParseError, parse_module
        from simple_jit.mir.verify import verify_module

        src = SourceFile("<mir>", text)
        try:
            module = parse_module(text)
        except MirParseError as exc:
            raise _error_at(src, exc.line, exc.col, str(exc.args[0] if exc.args else exc)) from None
        problems = verify_module(module)
        if problems:
            raise _error_at(src, 1, 1, "invalid MIR: " + "; ".join(problems[:5])) from None
        with self._lock:
            self._alive()
            self._check_mir_redefinitions(module, src)
            self._install(module, {})

    def _compile(
        self, source: SourceFile, requests: Sequence[tuple[str, tuple[Type, ...]]] = ()
    ) -> None:
        from simple_jit.driver import compile_unit, paused_gc

        with self._lock:
            self._alive()
            env = self._env
            wanted = list(requests)
            if source.text and any(f.generic and f.specs for f in env.functions.values()):
                tree = compile_unit(source, 0, stop_after="ast").ast
                assert tree is not None
                from simple_jit.syntax import ast

                for item in tree.items:
                    if not isinstance(item, ast.FnDecl):
                        continue
                    envf = env.functions.get(item.name)
                    if envf is not None and envf.generic:
                        wanted.extend((item.name, types) for types in envf.specs)
            try:
                comp = compile_unit(source, self._opt_level, env=env, requests=wanted, inline=False)
            except CompileError as err:
                if len(wanted) > len(requests):
                    used = sorted({f"{n}({', '.join(map(str, t))})" for n, t in wanted})
                    err.diagnostics[-1].notes.append(
                        "a redefined generic function must still accept every argument "
                        "type tuple it was called with before: " + ", ".join(used)
                    )
                raise
            assert comp.mir is not None and comp.hir is not None and comp.ast is not None
            self._check_redefinitions(comp, source)
            from simple_jit.syntax import ast as syn

            decls = {i.name: i for i in comp.ast.items if isinstance(i, syn.FnDecl)}
            with paused_gc():
                self._install(comp.mir, {n: (d, source) for n, d in decls.items()})

    def _check_redefinitions(self, comp: Any, source: SourceFile) -> None:
        for hf in comp.hir.functions.values():
            old = self._specs.get(hf.name)
            if old is None or hf.name == Module.INIT:
                continue
            params = tuple(p.ty for p in hf.params)
            if params != old.params or hf.ret != old.ret:
                raise CompileError(
                    [
                        Diagnostic(
                            f"redefinition of '{hf.source_name}' changes its signature from "
                            f"{_sig(old.params, old.ret)} to {_sig(params, hf.ret)}",
                            Span(hf.span.start, hf.span.start + 2),
                        )
                    ],
                    source,
                )
        new_typed = {hf.source_name for hf in comp.hir.functions.values() if "<" not in hf.name}
        for name in new_typed:
            envf = self._env.functions.get(name)
            if envf is not None and envf.generic:
                raise CompileError(
                    [
                        Diagnostic(
                            f"redefinition of generic '{name}' with typed parameters", Span(0, 1)
                        )
                    ],
                    source,
                )

    def _check_mir_redefinitions(self, module: Module, source: SourceFile) -> None:
        for f in module.functions.values():
            old = self._specs.get(f.name)
            if old is not None and (tuple(p.ty for p in f.params), f.ret) != (old.params, old.ret):
                raise _error_at(source, 1, 1, f"redefinition of '{f.name}' changes its signature")

    def _install(self, module: Module, decls: dict[str, tuple[Any, SourceFile]]) -> None:
        """Load a compiled unit, run its top-level code, then record its functions."""
        if not _is_empty(module):
            self._units += 1
            prefix = f"u{self._units}"
            self._impl.load(
                module, prefix, self._opt_level, set(self._specs), set(self._env.globals)
            )
        env = self._env
        for name, g in module.globals.items():
            env.globals.setdefault(name, (g.ty, True))
        for name, (decl, src) in decls.items():
            if decl.is_extern:
                continue
            envf = env.functions.get(name)
            if envf is None:
                env.functions[name] = EnvFunction(name, decl, src)
            else:
                envf.decl, envf.source = decl, src  # redefined by this unit
        for f in module.functions.values():
            if f.name == Module.INIT:
                continue
            base = f.name.split("<", 1)[0]
            params = tuple(p.ty for p in f.params)
            self._specs[f.name] = _Spec(f.name, params, f.ret)
            envf = env.functions.get(base)
            if envf is None:  # from MIR text
                envf = env.functions[base] = EnvFunction(base, None, None)
            envf.specs[params] = (f.name, f.ret)

    # -------------------------------------------------------------- calling

    def has_function(self, name: str) -> bool:
        return name in self._env.functions

    def functions(self) -> list[str]:
        return sorted(self._env.functions)

    def _spec_for(self, name: str, kinds: str) -> _Spec:
        """The specialization a call with these argument kinds uses (compiled on demand)."""
        self._alive()
        envf = self._env.functions.get(name)
        if envf is None:
            raise FunctionNotFound(name)
        if not envf.generic:
            params, (mir_name, _ret) = next(iter(envf.specs.items()))
            if len(kinds) != len(params):
                raise SignatureError(
                    f"function '{name}' takes {len(params)} argument"
                    f"{'' if len(params) == 1 else 's'}, got {len(kinds)}"
                )
            for i, (k, p) in enumerate(zip(kinds, params, strict=True)):
                if _TYPE_OF.get(k) != p and not (k == "i" and p == F64):
                    raise SignatureError(
                        f"argument {i + 1} of '{name}' must be {p}, got {_TYPE_OF.get(k, k)}"
                    )
            return self._specs[mir_name]
        types = tuple(_TYPE_OF[k] for k in kinds)
        found = envf.specs.get(types)
        if found is None:
            assert envf.decl is not None
            if len(types) != len(envf.decl.params):
                raise SignatureError(
                    f"function '{name}' takes {len(envf.decl.params)} arguments, got {len(types)}"
                )
            try:
                self._compile(SourceFile(f"<call {name}>", ""), [(name, types)])
            except CompileError as err:
                raise SignatureError(
                    f"'{name}' cannot be called with ({', '.join(map(str, types))}):\n"
                    + err.render(snippet=False)
                ) from None
            found = envf.specs.get(types) or self._env.functions[name].specs.get(types)
            if found is None:
                raise SignatureError(f"'{name}' cannot be called with these arguments")
        return self._specs[found[0]]

    def call(self, name: str, *args: Value) -> Value:
        """Call a function with Python values; the result converts back."""
        key = (name, *map(type, args))
        bound = self._bound.get(key)
        if bound is None:
            kinds = "".join(_kind_of_value(a) for a in args)
            bound = self._bound[key] = self._impl.bind(self._spec_for(name, kinds))
        return bound(*args)

    def get_function(self, name: str) -> Callable[..., Value]:
        """A callable bound to ``name`` for fast repeated calls."""
        self._alive()
        if name not in self._env.functions:
            raise FunctionNotFound(name)
        envf = self._env.functions[name]
        if envf.generic:
            return lambda *args: self.call(name, *args)
        spec = self._spec_for(name, "".join(_KIND_OF[t] for t in next(iter(envf.specs))))
        return self._impl.bind(spec)

    def native_entry(self, name: str, kinds: str) -> NativeEntry | None:
        """Machine code for ``name`` called with argument ``kinds`` ('i','f','b','t').

        The address is ``int64_t fn(const int64_t *slots, uintptr_t stack_limit,
        void *target)``, called with ``target``; call it inside the runtime's
        ``rt_run_protected``.  None for backends without native code (then
        use ``call``).
        """
        with self._lock:
            spec = self._spec_for(name, kinds)
            return self._impl.entry(spec)

    def wasm_entry(self, name: str, kinds: str) -> WasmEntry | None:
        """Cranelift code for ``name`` called with argument ``kinds``, for C hosts.

        ``words`` are what ``wasmtime_func_call_unchecked(ctx, &func, values,
        n, &trap)`` needs; call it holding the lock given to
        ``_share_store_lock`` and turn a trap into an error with
        ``_wasm_failure``.  None when the signature has text or tier-2 values
        (use ``call``) or for other backends.
        """
        with self._lock:
            spec = self._spec_for(name, kinds)
            impl = self._impl
            if not isinstance(impl, _CraneliftBackend):
                return None
            return impl.wasm_entry(spec)

    def _share_store_lock(self, lock: Any) -> None:
        """Use ``lock`` (a context manager) for the cranelift store (the C ABI's)."""
        if isinstance(self._impl, _CraneliftBackend):
            self._impl.units.lock = lock

    def _wasm_failure(self, trap: int, error: int) -> SimpleError:
        """The error of a direct call that trapped or failed (C ABI)."""
        impl = self._impl
        if not isinstance(impl, _CraneliftBackend):
            return SimpleError("internal error: not a cranelift manager")
        return impl.units.failure(trap, error)


def _is_empty(module: Module) -> bool:
    """A unit with no code to load: only generic functions, no top-level code."""
    if module.globals or any(n != Module.INIT for n in module.functions):
        return False
    init = module.functions.get(Module.INIT)
    return init is None or (len(init.blocks) == 1 and not init.blocks[0].instrs)


def _sig(params: tuple[Type, ...], ret: Type) -> str:
    return f"({', '.join(map(str, params))}) -> {ret}"


def _kind_of_value(v: object) -> str:
    if isinstance(v, bool):
        return "b"
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise SignatureError(f"integer {v} does not fit in i64")
        return "i"
    if isinstance(v, float):
        return "f"
    if isinstance(v, str):
        return "t"
    raise SignatureError(f"cannot pass a {type(v).__name__} to Simple code")


def _error_at(src: SourceFile, line: int, col: int, message: str) -> CompileError:
    starts = src.line_starts()
    line = max(1, min(line, len(starts)))
    offset = starts[line - 1] + max(0, col - 1)
    return CompileError([Diagnostic(message, Span(offset, offset + 1))], src)


# ------------------------------------------------------------------ backends


class _Backend:
    def load(
        self, module: Module, prefix: str, opt: int, earlier: set[str], globals_: set[str]
    ) -> None:
        raise NotImplementedError

    def call(self, spec: _Spec, args: list[Value]) -> Value:
        raise NotImplementedError

    def bind(self, spec: _Spec) -> Callable[..., Value]:
        return lambda *args: self.call(spec, list(args))

    def entry(self, spec: _Spec) -> NativeEntry | None:
        return None

    def set_time_limit(self, seconds: float | None) -> None:
        raise UnsupportedLimit(f"the {self.name} backend does not support time limits")

    def close(self) -> None:
        pass

    name = "?"


class _InterpBackend(_Backend):
    """The reference interpreter over the union of all units."""

    name = "interpreter"

    def __init__(self) -> None:
        from simple_jit.interp import Interpreter

        self.merged = Module("<manager>")
        self.interp: Interpreter | None = None
        self.lock = threading.Lock()  # the interpreter is single-threaded
        self.limit: float | None = None
        self.deadline = 0.0

    def _refuel(self) -> int:
        """Fuel runs out every ``_CHECK_EVERY`` blocks: check the clock."""
        from simple_jit.interp.machine import MSG_TIME
        from simple_jit.semantics import OpError

        if time.monotonic() > self.deadline:
            raise OpError(MSG_TIME)
        return _CHECK_EVERY

    def _new_interp(self) -> Any:
        from simple_jit.interp import Interpreter

        if self.limit is None:
            return Interpreter(self.merged)
        return Interpreter(self.merged, fuel=_CHECK_EVERY, refuel=self._refuel)

    def set_time_limit(self, seconds: float | None) -> None:
        with self.lock:
            old, had = self.interp, self.limit is not None
            self.limit = seconds
            if old is not None and had != (seconds is not None):
                new = self._new_interp()  # with (or without) the clock checks
                for name in self.merged.globals:
                    new.set_global(name, old.get_global(name))
                self.interp = new

    def _run(self, interp: Any, name: str, args: list[object]) -> object:
        if self.limit is not None:
            self.deadline = time.monotonic() + self.limit
            interp.refill(_CHECK_EVERY)
        return interp.call(name, args)

    def load(
        self, module: Module, prefix: str, opt: int, earlier: set[str], globals_: set[str]
    ) -> None:

        merged = self.merged
        saved = dict(merged.functions)
        with self.lock:
            old = self.interp
            merged.source_name = module.source_name
            carried = list(merged.globals)  # globals the old interpreter holds
            merged.globals.update(module.globals)
            merged.functions.pop(Module.INIT, None)
            merged.functions.update(module.functions)  # this unit's $init too
            new = self._new_interp()
            if old is not None:
                for name in carried:
                    new.set_global(name, old.get_global(name))
            try:
                if Module.INIT in module.functions:
                    self._run(new, Module.INIT, [])
            except SimpleRuntimeError:
                merged.functions.clear()
                merged.functions.update(saved)
                raise
            self.interp = new

    def call(self, spec: _Spec, args: list[Value]) -> Value:
        if len(args) != len(spec.params):
            raise SignatureError(f"expected {len(spec.params)} arguments, got {len(args)}")
        conv: list[object] = []
        for i, (a, p) in enumerate(zip(args, spec.params, strict=True)):
            kind = _kind_of_value(a)  # also checks the i64 range
            if p == F64 and kind == "i":
                a = float(a)  # type: ignore[arg-type]
            elif _TYPE_OF.get(kind) != p:
                raise SignatureError(f"argument {i + 1} must be {p}, got {type(a).__name__}")
            conv.append(a)
        with self.lock:
            assert self.interp is not None
            result = self._run(self.interp, spec.mir_name, conv)
        return None if spec.ret == UNIT else result  # type: ignore[return-value]


class _LLVMBackend(_Backend):
    """Machine code from LLVM, one MCJIT engine per manager, one module per unit."""

    name = "llvm"

    def __init__(self) -> None:
        from simple_jit.llvm.native import NativeCaller

        self.native = NativeCaller()
        self.addresses: dict[str, tuple[int, int]] = {}  # MIR name -> trampoline, slot

    def load(
        self, module: Module, prefix: str, opt: int, earlier: set[str], globals_: set[str]
    ) -> None:
        self.addresses.update(self.native.load(module, prefix, opt, earlier, globals_))

    def entry(self, spec: _Spec) -> NativeEntry:
        if spec.entry is None:
            for t in (*spec.params, spec.ret):
                if t not in _KIND_OF:
                    raise SignatureError(
                        f"'{spec.mir_name}' takes or returns {t}: host calls of the llvm "
                        "backend pass only i64, f64, bool, text and () so far"
                    )
            kinds = "".join(_KIND_OF[t] for t in spec.params)
            tramp, slot = self.addresses[spec.mir_name]
            spec.entry = NativeEntry(tramp, slot, kinds, _KIND_OF[spec.ret])
        return spec.entry

    def call(self, spec: _Spec, args: list[Value]) -> Value:
        return self.native.call(self.entry(spec), args)

    def bind(self, spec: _Spec) -> Callable[..., Value]:
        return self.native.bind(self.entry(spec))

    def close(self) -> None:
        self.native.close()


class _CraneliftBackend(_Backend):
    """Machine code from Cranelift: one wasmtime store per manager (``wasm/units.py``)."""

    name = "cranelift"

    def __init__(self) -> None:
        from simple_jit.wasm.units import UnitStore

        self.units = UnitStore()

    def load(
        self, module: Module, prefix: str, opt: int, earlier: set[str], globals_: set[str]
    ) -> None:
        from simple_jit.wasm.codegen import UnsupportedByBackend

        try:
            self.units.load(module, prefix, opt)
        except UnsupportedByBackend as exc:
            src = SourceFile(module.source_name, "")
            raise CompileError([Diagnostic(str(exc), Span(0, 0))], src) from None

    def bind(self, spec: _Spec) -> Callable[..., Value]:
        for t in (*spec.params, spec.ret):
            if t not in _KIND_OF:
                raise SignatureError(
                    f"'{spec.mir_name}' takes or returns {t}: host calls of the cranelift "
                    "backend pass only i64, f64, bool, text and () so far"
                )
        units = self.units
        raw = units.entries[spec.mir_name]
        kinds = [_KIND_OF[t] for t in spec.params if t != UNIT]
        ret = _KIND_OF[spec.ret]
        n = len(spec.params)
        if all(k == "i" for k in kinds) and ret in "iu" and len(kinds) == n:
            want = ret == "i"

            def fast(*args: int) -> int | None:
                if len(args) != n:
                    raise SignatureError(f"expected {n} arguments, got {len(args)}")
                for a in args:
                    if type(a) is not int or not -(2**63) <= a < 2**63:
                        if isinstance(a, int) and not isinstance(a, bool):
                            raise SignatureError(f"integer {a} does not fit in i64")
                        if not isinstance(a, bool):
                            raise SignatureError(f"expected i64 arguments, got {a!r}")
                r: int = raw(list(args))
                return r if want else None

            return fast

        def general(*args: Value) -> Value:
            if len(args) != n:
                raise SignatureError(f"expected {n} arguments, got {len(args)}")
            conv: list[int | float] = []
            texts: list[int] = []
            try:
                for i, (k, a) in enumerate(zip(kinds, args, strict=True)):
                    kind = _kind_of_value(a)
                    if k == "f" and kind == "i":
                        a = float(a)  # type: ignore[arg-type]
                    elif kind != k:
                        raise SignatureError(
                            f"argument {i + 1} must be {_TYPE_OF[k]}, got {type(a).__name__}"
                        )
                    if k == "t":
                        assert isinstance(a, str)
                        try:
                            a.encode("utf-8")
                        except UnicodeEncodeError:
                            raise SignatureError("text arguments must be valid Unicode") from None
                        p = units.text_in(a)
                        texts.append(p)
                        conv.append(p)
                    elif k == "b":
                        conv.append(1 if a else 0)
                    else:
                        assert isinstance(a, int | float)
                        conv.append(a)
                r = raw(conv)
            finally:
                for p in texts:
                    units.release(p)
            if ret == "i":
                assert isinstance(r, int)
                return r
            if ret == "b":
                return bool(r)
            if ret == "f":
                assert isinstance(r, float)
                return r
            if ret == "t":
                assert isinstance(r, int)
                return units.text_out(r & 0xFFFFFFFF)
            return None

        return general

    def call(self, spec: _Spec, args: list[Value]) -> Value:
        return self.bind(spec)(*args)

    def wasm_entry(self, spec: _Spec) -> WasmEntry | None:
        kinds = "".join(_KIND_OF.get(t, "?") for t in spec.params)
        ret = _KIND_OF.get(spec.ret, "?")
        if not set(kinds) <= {"i", "f", "b"} or ret not in "ifbu" or UNIT in spec.params:
            return None
        return WasmEntry(self.units.raw_entry(spec.mir_name), kinds, ret)

    def set_time_limit(self, seconds: float | None) -> None:
        self.units.set_time_limit(seconds)

    def close(self) -> None:
        self.units.close()
