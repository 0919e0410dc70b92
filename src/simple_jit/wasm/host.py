"""Running generated modules with wasmtime: engines, limits, errors, artifacts.

* One ``wasmtime.Engine`` per (Cranelift opt level, fuel, epochs) triple,
  made on first use.  Fuel metering and epoch interruption (what
  ``--time-limit`` uses) are compiled into the code only when asked for:
  the epoch check at every loop header and function entry costs up to 75%
  on tight float loops (mandelbrot: 0.30 s without, 0.53 s with).
* Programs run on a thread of their own with a large stack
  (``THREAD_STACK``): wasmtime runs wasm on the calling thread's native
  stack, and ``max_wasm_stack`` (``WASM_STACK``) must stay below it.
  Recursion is bounded first by the generated depth check (``stack
  overflow`` at the call), and the wasm stack limit is only a backstop.
* Runtime errors reach the host through the ``error`` import, which raises
  ``_Panic``; wasmtime hands that exception back from the call, and the
  host turns it (or a trap: fuel, time limit, stack exhaustion) into a
  ``SimpleRuntimeError`` with the spec's message and position.
* A ``.cwasm`` artifact is a small header (magic, JSON metadata: source
  name, opt level, call sites, section sizes), the wasm binary, and
  ``Module.serialize()``'s machine code twice: without and with epoch
  interruption.  Loading it deserializes the variant the run needs - no
  compilation - unless fuel is asked for or this wasmtime cannot read it,
  in which case the embedded wasm is compiled again.  Like an executable, an artifact
  must come from a trusted source: deserialization trusts its input.
"""

from __future__ import annotations

import json
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import wasmtime
from wasmtime import _ffi as wasmtime_ffi

from simple_jit import semantics
from simple_jit.diagnostics import InternalCompilerError, Loc, SimpleRuntimeError
from simple_jit.mir.ir import MSG_DIV_ZERO, MSG_INDEX, MSG_NEG_EXP, MSG_POP_EMPTY, MSG_STACK
from simple_jit.wasm import runtime as rt
from simple_jit.wasm.codegen import WasmModule, block_start_at

MSG_FUEL = "out of fuel"
MSG_TIME = "time limit exceeded"

WASM_STACK = 384 << 20
THREAD_STACK = WASM_STACK + (64 << 20)

OPT_LEVELS = {0: "none", 1: "speed", 2: "speed", 3: "speed_and_size"}

ARTIFACT_MAGIC = b"SPLCWASM"
ARTIFACT_VERSION = 1

_MESSAGES = {
    rt.ERR_DIV_ZERO: MSG_DIV_ZERO,
    rt.ERR_NEG_EXP: MSG_NEG_EXP,
    rt.ERR_INDEX: MSG_INDEX,
    rt.ERR_POP_EMPTY: MSG_POP_EMPTY,
    rt.ERR_STACK: MSG_STACK,
    rt.ERR_MEMORY: semantics.MSG_MEMORY,
}

_engines: dict[tuple[int, bool, bool], wasmtime.Engine] = {}
_engines_lock = threading.Lock()


def engine(opt_level: int, fuel: bool = False, epochs: bool = False) -> wasmtime.Engine:
    key = (min(max(opt_level, 0), 3), fuel, epochs)
    with _engines_lock:
        eng = _engines.get(key)
        if eng is None:
            cfg = wasmtime.Config()
            cfg.cranelift_opt_level = OPT_LEVELS[key[0]]
            cfg.epoch_interruption = epochs
            cfg.consume_fuel = fuel
            # wasmtime refuses a wasm stack larger than its async stack size,
            # which the Python API does not expose; the C API does.
            wasmtime_ffi.wasmtime_config_async_stack_size_set(cfg.ptr(), WASM_STACK + (1 << 20))
            cfg.max_wasm_stack = WASM_STACK
            eng = wasmtime.Engine(cfg)
            _engines[key] = eng
        return eng


class _Panic(Exception):
    """Raised by the ``error`` import; carries the error kind and position."""

    def __init__(self, kind: int, line: int, col: int) -> None:
        super().__init__(kind, line, col)
        self.kind = kind
        self.line = line
        self.col = col


_I32 = wasmtime.ValType.i32()
_F64 = wasmtime.ValType.f64()


@dataclass
class Program:
    """A compiled (or deserialized) module, ready to run any number of times."""

    module: wasmtime.Module
    engine: wasmtime.Engine
    source_name: str
    opt_level: int
    fuel_metering: bool
    epochs: bool
    wasm: bytes
    call_sites: list[tuple[int, Loc]] = field(default_factory=list)
    block_starts: list[tuple[int, Loc]] = field(default_factory=list)  # sorted
    # heap blocks (texts, tier-2 objects, array buffers) still allocated, and
    # the size of linear memory in 64 KiB pages, when the last run ended
    live_texts: int = 0
    memory_pages: int = 0

    def run(
        self,
        out: BinaryIO | None = None,
        *,
        time_limit: float | None = None,
        fuel: int | None = None,
    ) -> int:
        """Run ``$init`` and ``main``; returns the exit code (main's i64 or 0).

        Raises ``SimpleRuntimeError`` for a runtime error, including ``out of
        fuel`` and ``time limit exceeded``.
        """
        if fuel is not None and not self.fuel_metering:
            raise ValueError("this program was compiled without fuel metering")
        if time_limit is not None and not self.epochs:
            raise ValueError("this program was compiled without epoch interruption")
        result: dict[str, Any] = {}

        def target() -> None:
            try:
                result["code"] = self._run_here(out, time_limit, fuel)
            except BaseException as exc:
                result["exc"] = exc

        old = threading.stack_size()
        threading.stack_size(THREAD_STACK)
        try:
            thread = threading.Thread(target=target, name="simple-wasm", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old)
        thread.join()
        if "exc" in result:
            raise result["exc"]
        code = result["code"]
        assert isinstance(code, int)
        return code

    def _run_here(self, out: BinaryIO | None, time_limit: float | None, fuel: int | None) -> int:
        sink = out if out is not None else sys.stdout.buffer
        store = wasmtime.Store(self.engine)
        if self.fuel_metering:
            store.set_fuel(fuel if fuel is not None else (1 << 63) - 1)
        timer: threading.Timer | None = None
        if time_limit is not None:
            store.set_epoch_deadline(1)
            timer = threading.Timer(max(time_limit, 0.0), self.engine.increment_epoch)
            timer.daemon = True
        elif self.epochs:
            store.set_epoch_deadline(1 << 62)
        holder: dict[str, Any] = {}
        imports = self._imports(store, sink, holder)
        instance = wasmtime.Instance(store, self.module, imports)
        exports = instance.exports(store)
        memory = exports["memory"]
        assert isinstance(memory, wasmtime.Memory)
        holder["memory"] = memory
        holder["alloc"] = exports["alloc"]
        run = exports["run"]
        assert isinstance(run, wasmtime.Func)
        out_len = exports["out_len"]
        assert isinstance(out_len, wasmtime.Global)
        if timer is not None:
            timer.start()
        try:
            code = run(store)
        except _Panic as p:
            loc = Loc(p.line, p.col) if p.line > 0 else None
            raise SimpleRuntimeError(
                _MESSAGES.get(p.kind, "runtime error"), loc, self.source_name
            ) from None
        except wasmtime.Trap as trap:
            raise self._trap_error(trap) from None
        finally:
            if timer is not None:
                timer.cancel()
            # output still buffered (a runtime error or a trap) goes out first
            pending = out_len.value(store)
            if isinstance(pending, int) and pending > 0:
                sink.write(bytes(memory.read(store, rt.OUT, rt.OUT + pending)))
                out_len.set_value(store, wasmtime.Val.i32(0))
            sink.flush()
            self.memory_pages = memory.size(store)
            live = exports["live_texts"]
            if isinstance(live, wasmtime.Global):
                value = live.value(store)
                self.live_texts = value if isinstance(value, int) else 0
        assert isinstance(code, int)
        return code

    def _trap_error(self, trap: wasmtime.Trap) -> SimpleRuntimeError | InternalCompilerError:
        code = trap.trap_code
        if code == wasmtime.TrapCode.OUT_OF_FUEL:
            return SimpleRuntimeError(MSG_FUEL, self._stopped_at(trap), self.source_name)
        if code == wasmtime.TrapCode.INTERRUPT:
            return SimpleRuntimeError(MSG_TIME, self._stopped_at(trap), self.source_name)
        if code == wasmtime.TrapCode.STACK_OVERFLOW:
            return SimpleRuntimeError(MSG_STACK, self._stack_loc(trap), self.source_name)
        return InternalCompilerError(f"cranelift backend: unexpected wasm trap: {trap.message}")

    def _stopped_at(self, trap: wasmtime.Trap) -> Loc | None:
        """Where an interruption stopped: the block the innermost frame was in."""
        for frame in trap.frames:
            at = frame.module_offset
            loc = block_start_at(self.block_starts, at - frame.func_offset, at)
            if loc is not None:
                return loc
        return None

    def _stack_loc(self, trap: wasmtime.Trap) -> Loc | None:
        """The position of the innermost recorded call on the trap's backtrace."""
        sites = dict(self.call_sites)
        for frame in trap.frames:
            loc = sites.get(frame.module_offset)
            if loc is not None:
                return loc
        return None

    def _imports(
        self, store: wasmtime.Store, sink: BinaryIO, holder: dict[str, Any]
    ) -> list[wasmtime.Func]:
        def error(kind: int, line: int, col: int) -> None:
            raise _Panic(kind, line, col)

        def flush(caller: wasmtime.Caller, ptr: int, n: int) -> None:
            mem: wasmtime.Memory = holder["memory"]
            sink.write(bytes(mem.read(caller, ptr, ptr + n)))

        def new_text(caller: wasmtime.Caller, s: str) -> int:
            data = s.encode("utf-8")
            if len(data) > rt.MAX_LEN:
                raise _Panic(rt.ERR_MEMORY, 0, 0)
            ptr = holder["alloc"](caller, len(data))
            assert isinstance(ptr, int)
            if data:
                holder["memory"].write(caller, data, ptr + 8)
            return ptr

        def read_text(caller: wasmtime.Caller, ptr: int) -> str:
            mem: wasmtime.Memory = holder["memory"]
            (n,) = struct.unpack("<I", bytes(mem.read(caller, ptr + 4, ptr + 8)))
            return bytes(mem.read(caller, ptr + 8, ptr + 8 + n)).decode("utf-8", "replace")

        def f64_text(caller: wasmtime.Caller, x: float) -> int:
            return new_text(caller, semantics.format_f64(x))

        ops: dict[int, Callable[[str], str]] = {
            rt.TEXT_UPPER: semantics.tupper,
            rt.TEXT_LOWER: semantics.tlower,
            rt.TEXT_TRIM: semantics.ttrim,
        }

        def text_op(caller: wasmtime.Caller, op: int, ptr: int) -> int:
            return new_text(caller, ops[op](read_text(caller, ptr)))

        def fmod(a: float, b: float) -> float:
            return semantics.frem(a, b)

        def fpow(a: float, b: float) -> float:
            return semantics.fpow(a, b)

        ft = wasmtime.FuncType
        return [
            wasmtime.Func(store, ft([_I32, _I32, _I32], []), error),
            wasmtime.Func(store, ft([_I32, _I32], []), flush, access_caller=True),
            wasmtime.Func(store, ft([_F64], [_I32]), f64_text, access_caller=True),
            wasmtime.Func(store, ft([_I32, _I32], [_I32]), text_op, access_caller=True),
            wasmtime.Func(store, ft([_F64, _F64], [_F64]), fmod),
            wasmtime.Func(store, ft([_F64, _F64], [_F64]), fpow),
        ]


def compile_wasm(
    wm: WasmModule,
    opt_level: int,
    *,
    fuel: bool = False,
    epochs: bool = False,
    timings: dict[str, float] | None = None,
) -> Program:
    t0 = time.perf_counter()
    eng = engine(opt_level, fuel, epochs)
    module = wasmtime.Module(eng, wm.binary)
    if timings is not None:
        timings["wasmtime compile"] = time.perf_counter() - t0
    return Program(
        module,
        eng,
        wm.source_name,
        opt_level,
        fuel,
        epochs,
        wm.binary,
        wm.call_sites,
        sorted(wm.block_starts, key=lambda s: s[0]),
    )


# --------------------------------------------------------------------------
# artifacts


def is_artifact(data: bytes) -> bool:
    return data.startswith(ARTIFACT_MAGIC)


def write_artifact(program: Program) -> bytes:
    """The ``.cwasm`` bytes: header, wasm, and machine code without and with epochs."""
    plain = bytes(_variant(program, epochs=False).module.serialize())
    with_epochs = bytes(_variant(program, epochs=True).module.serialize())
    meta = {
        "source": program.source_name,
        "opt_level": program.opt_level,
        "sizes": [len(program.wasm), len(plain), len(with_epochs)],
        "call_sites": [[off, loc.line, loc.col] for off, loc in program.call_sites],
        "block_starts": [[off, loc.line, loc.col] for off, loc in program.block_starts],
    }
    header = json.dumps(meta).encode("utf-8")
    return (
        ARTIFACT_MAGIC
        + struct.pack("<II", ARTIFACT_VERSION, len(header))
        + header
        + program.wasm
        + plain
        + with_epochs
    )


def _variant(program: Program, *, epochs: bool) -> Program:
    if program.epochs == epochs and not program.fuel_metering:
        return program
    eng = engine(program.opt_level, False, epochs)
    module = wasmtime.Module(eng, program.wasm)
    return Program(
        module,
        eng,
        program.source_name,
        program.opt_level,
        False,
        epochs,
        program.wasm,
        program.call_sites,
        program.block_starts,
    )


class ArtifactError(Exception):
    """A file that is not a usable ``.cwasm`` artifact."""


def read_artifact(data: bytes, *, fuel: bool = False, epochs: bool = False) -> Program:
    """Load an artifact for a run with (or without) fuel metering and epochs."""
    if not is_artifact(data) or len(data) < len(ARTIFACT_MAGIC) + 8:
        raise ArtifactError("not a Simple .cwasm artifact")
    pos = len(ARTIFACT_MAGIC)
    version, hlen = struct.unpack_from("<II", data, pos)
    if version != ARTIFACT_VERSION:
        raise ArtifactError(
            f"artifact format {version} is not supported (expected {ARTIFACT_VERSION})"
        )
    pos += 8
    try:
        meta = json.loads(data[pos : pos + hlen].decode("utf-8"))
        source = str(meta["source"])
        opt_level = int(meta["opt_level"])
        wasm_len, plain_len, epochs_len = (int(n) for n in meta["sizes"])
        sites = [(int(o), Loc(int(ln), int(c))) for o, ln, c in meta["call_sites"]]
        starts = [(int(o), Loc(int(ln), int(c))) for o, ln, c in meta.get("block_starts", [])]
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"corrupt artifact header: {exc}") from None
    pos += hlen
    if len(data) != pos + wasm_len + plain_len + epochs_len:
        raise ArtifactError("truncated or corrupt artifact")
    wasm = data[pos : pos + wasm_len]
    pos += wasm_len
    machine = data[pos : pos + plain_len] if not epochs else data[pos + plain_len :]
    eng = engine(opt_level, fuel, epochs)
    module: wasmtime.Module | None = None
    if not fuel:
        try:
            module = wasmtime.Module.deserialize(eng, machine)
        except wasmtime.WasmtimeError:
            module = None  # another wasmtime or another machine: compile the wasm
    if module is None:
        try:
            module = wasmtime.Module(eng, wasm)
        except wasmtime.WasmtimeError as exc:
            raise ArtifactError(f"corrupt artifact: {exc}") from None
    return Program(module, eng, source, opt_level, fuel, epochs, bytes(wasm), sites, sorted(starts))
