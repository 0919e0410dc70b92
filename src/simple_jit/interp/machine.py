"""The reference MIR interpreter: lazy translation to Python plus a frame driver.

Each MIR function is translated once, on its first call, to a Python function
(``codegen.py``) and executed in a namespace private to the ``Interpreter``
instance (functions ``F<k>``, globals ``G<k>``, helpers such as ``_idiv``).

Calls: a function that makes calls is a Python generator that ``yield``\\ s the
callee's (not yet started) generator; ``_drive`` keeps an explicit stack of
suspended generators and sends each callee's return value back to its caller.
Simple recursion therefore never recurses in Python: 100,000 frames deep is
fine, and one frame costs one suspended generator (a few hundred bytes).  Leaf
functions (no calls) are plain Python functions called directly.

Externs (``callext``): host C symbols with i64/f64/bool parameters and
results are called through ``ctypes``; any other extern fails at the call with
"extern functions are not available in the interpreter".

Errors: a failing operation raises a Python exception (``OpError`` from the
helpers of ``simple_jit.semantics``, ``IndexError`` from an array access...);
the driver finds the innermost translated frame in the traceback and maps its
line number to the instruction's ``Loc``.  Stack overflow is reported at the
``call`` instruction where the caller is suspended.

Fuel: when ``fuel`` is given, every executed basic block costs one unit
(leaf and non-leaf functions alike); the budget is shared by all calls made
through one ``Interpreter`` and, once spent, every further block fails with
``out of fuel`` - unless a ``refuel`` callback is given: it is called instead
and returns the next budget (or raises, e.g. ``time limit exceeded``), which
is how the execution manager checks a time limit every few thousand blocks.
"""

from __future__ import annotations

import ctypes
import math
import sys
from collections.abc import Callable, Generator
from types import FrameType, TracebackType
from typing import TextIO

from simple_jit.diagnostics import InternalCompilerError, Loc, SimpleRuntimeError
from simple_jit.interp.codegen import Env, translate
from simple_jit.mir.ir import MSG_DIV_ZERO, MSG_INDEX, MSG_POP_EMPTY, MSG_STACK, Module
from simple_jit.semantics import (
    ASCII_WS,
    MSG_MEMORY,
    OpError,
    display,
    f2i,
    fdiv,
    format_f64,
    fpow,
    frem,
    idiv,
    ipow,
    irem,
    tlower,
    trepeat,
    tupper,
    wrap,
)
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    TEXT,
    UNIT,
    ArrayT,
    EnumT,
    StructT,
    TupleT,
    Type,
    zero_variant,
)

MSG_FUEL = "out of fuel"
MSG_TIME = "time limit exceeded"
MSG_EXTERN = "extern functions are not available in the interpreter"

_FLUSH_EVERY = 4096  # buffered output lines before a write to ``out``

_Frame = Generator[object, object, object]


class _Overflow(Exception):
    def __init__(self, caller: _Frame) -> None:
        super().__init__(MSG_STACK)
        self.caller = caller


def _unreachable() -> None:
    raise InternalCompilerError("interpreter: reached an 'unreachable' terminator")


def _nofuel() -> None:
    raise OpError(MSG_FUEL)


def _nofunc(name: str) -> object:
    raise OpError(f"undefined function '{name}'")


_CTYPES: dict[Type, type] = {I64: ctypes.c_int64, F64: ctypes.c_double, BOOL: ctypes.c_bool}


def _resolve_extern(module: Module, name: str) -> Callable[..., object]:
    """A host (C) symbol with a scalar signature, called through ``ctypes``.

    Externs with text or aggregate parameters, or symbols the process does not
    export, fail at the call with ``MSG_EXTERN``.
    """
    ext = module.externs.get(name)
    try:
        if ext is None or any(t not in _CTYPES for t in ext.params):
            raise AttributeError(name)
        if ext.ret not in _CTYPES and ext.ret != UNIT:
            raise AttributeError(name)
        cfn = getattr(ctypes.CDLL(None), name)
    except (AttributeError, OSError):

        def unavailable(*args: object) -> object:
            raise OpError(f"{MSG_EXTERN} ('{name}')")

        return unavailable
    cfn.argtypes = [_CTYPES[t] for t in ext.params]
    cfn.restype = _CTYPES.get(ext.ret)
    ret = ext.ret

    def call(*args: object) -> object:
        result = cfn(*args)
        return float(result) if ret == F64 else (None if ret == UNIT else result)

    return call


def zero_value(ty: Type, module: Module, enums: frozenset[str] = frozenset()) -> object:
    """The initial value of a global of type ``ty``.

    An enum's zero is its first variant whose payload has zero values without
    building the enum again (``types.zero_variant``): ``L.Nil`` for ``enum L:
    Cons(i64, L); Nil``, where building ``L.Cons`` would never end.
    """
    if ty == I64:
        return 0
    if ty == F64:
        return 0.0
    if ty == BOOL:
        return False
    if ty == TEXT:
        return ""
    if isinstance(ty, ArrayT):
        return []
    if isinstance(ty, TupleT):
        return tuple(zero_value(t, module, enums) for t in ty.elems)
    if isinstance(ty, StructT) and ty.name in module.structs:
        return tuple(zero_value(t, module, enums) for _, t in module.structs[ty.name].fields)
    if isinstance(ty, EnumT):
        tag = zero_variant(ty.name, module.enums, module.structs, enums)
        if tag is not None:
            inner = enums | {ty.name}
            payload = module.enums[ty.name].variants[tag][1]
            return (tag, *(zero_value(t, module, inner) for t in payload))
    return None  # unit, options (nil)


class Interpreter:
    """Runs a MIR module.  See the module docstring for the design."""

    def __init__(
        self,
        module: Module,
        *,
        out: TextIO | None = None,
        max_depth: int = 200_000,
        fuel: int | None = None,
        refuel: Callable[[], int] | None = None,
    ) -> None:
        self.module = module
        self.out = out
        self.max_depth = max_depth
        self._use_fuel = fuel is not None
        self._env = Env(module)
        self._buf: list[str] = []
        self._locs: dict[str, list[Loc | None]] = {}  # code file name -> line locs
        buf = self._buf
        flush_buffer = self._flush_buffer

        def emit(text: str) -> None:
            buf.append(text)
            if len(buf) >= _FLUSH_EVERY:
                flush_buffer()

        def show(value: object, ty: Type) -> str:
            return display(value, ty, module)

        externs: dict[str, Callable[..., object]] = {}

        def callext(name: str, args: tuple[object, ...]) -> object:
            fn = externs.get(name)
            if fn is None:
                fn = externs[name] = _resolve_extern(module, name)
            return fn(*args)

        ns: dict[str, object] = {
            "__builtins__": __builtins__,
            "_fuel": fuel if fuel is not None else 0,
            "_print": emit,
            "_display": show,
            "_fmt": format_f64,
            "_wrap": wrap,
            "_idiv": idiv,
            "_irem": irem,
            "_ipow": ipow,
            "_fdiv": fdiv,
            "_frem": frem,
            "_fpow": fpow,
            "_sqrt": math.sqrt,
            "_f2i": f2i,
            "_tupper": tupper,
            "_tlower": tlower,
            "_trepeat": trepeat,
            "_WS": ASCII_WS,
            "_NAN": math.nan,
            "_INF": math.inf,
            "_callext": callext,
            "_unreachable": _unreachable,
            "_nofuel": _nofuel,
            "_nofunc": _nofunc,
        }
        if refuel is not None:

            def more_fuel() -> None:
                ns["_fuel"] = refuel()

            ns["_nofuel"] = more_fuel
        for name, pyname in self._env.fn_names.items():
            ns[pyname] = self._stub(name)
        for name, pyname in self._env.global_names.items():
            ns[pyname] = zero_value(module.globals[name].ty, module)
        self._ns = ns

    # -- public API ---------------------------------------------------------

    @property
    def fuel(self) -> int | None:
        """Remaining fuel (``None`` when unlimited)."""
        if not self._use_fuel:
            return None
        left = self._ns["_fuel"]
        assert isinstance(left, int)
        return max(left, 0)

    def refill(self, fuel: int) -> None:
        """Set the remaining fuel (only meaningful with fuel enabled)."""
        if self._use_fuel:
            self._ns["_fuel"] = fuel

    def get_global(self, name: str) -> object:
        """Current value of a global variable."""
        return self._ns[self._env.global_names[name]]

    def set_global(self, name: str, value: object) -> None:
        """Set a global variable (an execution manager carries globals across units)."""
        self._ns[self._env.global_names[name]] = value

    def call(self, name: str, args: list[object]) -> object:
        """Call a MIR function; runtime errors raise ``SimpleRuntimeError``."""
        fn = self.module.functions.get(name)
        if fn is None:
            raise SimpleRuntimeError(f"undefined function '{name}'", None, self.module.source_name)
        if len(args) != len(fn.params):
            raise SimpleRuntimeError(
                f"function '{name}' takes {len(fn.params)} arguments, got {len(args)}",
                fn.loc,
                self.module.source_name,
            )
        entry = self._ns[self._env.fn_names[name]]
        assert callable(entry)
        error: SimpleRuntimeError | None = None
        try:
            if self._env.is_leaf(name):
                return entry(*args)
            return self._drive(entry(*args))
        except Exception as exc:  # runtime errors are mapped; anything else propagates
            error = self._runtime_error(exc)
            if error is None:
                raise
        finally:
            self.flush()
        raise error

    def run_program(self) -> int:
        """Run ``$init`` then ``main``; main's i64 result is the exit code (else 0)."""
        funcs = self.module.functions
        if Module.INIT in funcs:
            self.call(Module.INIT, [])
        main = funcs.get("main")
        if main is None:
            return 0
        result = self.call("main", [])
        if main.ret == I64 and isinstance(result, int):
            return result
        return 0

    def flush(self) -> None:
        """Write buffered output to ``out`` and flush it."""
        self._flush_buffer()
        out = self.out if self.out is not None else sys.stdout
        out.flush()

    # -- internals ----------------------------------------------------------

    def _flush_buffer(self) -> None:
        buf = self._buf
        if buf:
            out = self.out if self.out is not None else sys.stdout
            buf.append("")
            text = "\n".join(buf)
            buf.clear()
            out.write(text)

    def _stub(self, name: str) -> Callable[..., object]:
        """A placeholder that translates ``name`` on its first call."""

        def stub(*args: object) -> object:
            real = self._compile(name)
            return real(*args)

        return stub

    def _compile(self, name: str) -> Callable[..., object]:
        fn = self.module.functions[name]
        tr = translate(self._env, fn, fuel=self._use_fuel)
        filename = f"<mir {fn.name}>"
        self._locs[filename] = tr.locs
        ns = self._ns
        ns.update(self._env.consts)
        try:
            code = compile(tr.source, filename, "exec")
        except (SyntaxError, RecursionError, MemoryError) as exc:  # pragma: no cover
            raise InternalCompilerError(f"interpreter: cannot translate {name!r}: {exc}") from exc
        exec(code, ns)
        real = ns[tr.pyname]
        assert callable(real)
        return real

    def _drive(self, gen: _Frame) -> object:
        """Run a generator frame and every frame it calls, with an explicit stack."""
        stack = [gen]
        push = stack.append
        pop = stack.pop
        limit = self.max_depth
        depth = 1
        send = gen.send
        value: object = None
        while True:
            try:
                callee = send(value)
            except StopIteration as stop:
                value = stop.value
                pop()
                depth -= 1
                if not depth:
                    return value
                send = stack[-1].send
                continue
            if depth >= limit:
                raise _Overflow(stack[-1])
            push(callee)  # type: ignore[arg-type]
            depth += 1
            send = callee.send  # type: ignore[attr-defined]
            value = None

    def _runtime_error(self, exc: Exception) -> SimpleRuntimeError | None:
        """The positioned runtime error for a Python exception, or None if it is a bug."""
        loc: Loc | None
        if isinstance(exc, _Overflow):
            frame: FrameType | None = getattr(exc.caller, "gi_frame", None)
            loc = None
            if frame is not None:
                loc = self._loc_at(frame.f_code.co_filename, frame.f_lineno)
            return SimpleRuntimeError(MSG_STACK, loc, self.module.source_name)
        if isinstance(exc, OpError):
            msg = exc.message
        elif isinstance(exc, IndexError):
            msg = MSG_POP_EMPTY if "pop" in str(exc) else MSG_INDEX
        elif isinstance(exc, ZeroDivisionError):
            msg = MSG_DIV_ZERO
        elif isinstance(exc, MemoryError | OverflowError):
            msg = MSG_MEMORY
        else:
            return None
        loc = self._loc_from_traceback(exc.__traceback__)
        return SimpleRuntimeError(msg, loc, self.module.source_name)

    def _loc_at(self, filename: str, lineno: int | None) -> Loc | None:
        locs = self._locs.get(filename)
        if locs is None or lineno is None or not 1 <= lineno <= len(locs):
            return None
        return locs[lineno - 1]

    def _loc_from_traceback(self, tb: TracebackType | None) -> Loc | None:
        found: tuple[str, int] | None = None
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if filename in self._locs:
                found = (filename, tb.tb_lineno)
            tb = tb.tb_next
        if found is None:
            return None
        return self._loc_at(*found)
