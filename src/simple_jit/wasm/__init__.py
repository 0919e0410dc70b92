"""The Cranelift backend: MIR -> WebAssembly, compiled and run by wasmtime.

``compile_program`` finishes a MIR module for native code (explicit reference
counting), translates it to a wasm module (``codegen``, with the runtime
library of ``runtime`` inside and control flow from ``structure``) and
compiles it with wasmtime's Cranelift at the opt level that matches ours
(0 -> none, 1-2 -> speed, 3 -> speed_and_size).  ``Program.run`` executes it
in a sandbox with optional fuel and time limits; ``write_artifact`` and
``read_artifact`` store and load precompiled ``.cwasm`` files.

Importing this package does not import wasmtime: the CLI stays fast.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simple_jit.wasm.codegen import UnsupportedByBackend

if TYPE_CHECKING:
    from simple_jit.mir.ir import Module
    from simple_jit.wasm.codegen import WasmModule
    from simple_jit.wasm.host import Program


def to_wasm(
    module: Module, *, timings: dict[str, float] | None = None, force_dispatch: bool = False
) -> WasmModule:
    """Refcount the MIR (in place) and translate it to a wasm module."""
    from simple_jit.mir.passes.refcount import InsertRefcounts
    from simple_jit.wasm.codegen import generate

    t0 = time.perf_counter()
    InsertRefcounts().run(module)
    wm = generate(module, force_dispatch=force_dispatch)
    if timings is not None:
        timings["wasm codegen"] = time.perf_counter() - t0
    return wm


def compile_program(
    module: Module,
    opt_level: int,
    *,
    fuel: bool = False,
    epochs: bool = False,
    timings: dict[str, float] | None = None,
    force_dispatch: bool = False,
) -> Program:
    """MIR -> a runnable ``Program``.

    ``fuel=True`` compiles in fuel metering (``run(fuel=N)``), ``epochs=True``
    epoch interruption (``run(time_limit=S)``); both cost run time.
    """
    from simple_jit.wasm.host import compile_wasm

    wm = to_wasm(module, timings=timings, force_dispatch=force_dispatch)
    return compile_wasm(wm, opt_level, fuel=fuel, epochs=epochs, timings=timings)


def is_artifact(data: bytes) -> bool:
    from simple_jit.wasm.host import ARTIFACT_MAGIC

    return data.startswith(ARTIFACT_MAGIC)


# --------------------------------------------------------------------------
# command-line entry points (called by ``simple_jit.cli``)


def run_cli(module: Module, args: Any, timings: dict[str, float]) -> int:
    """``simple run --backend cranelift``: compile and run; SimpleRuntimeError escapes."""
    fuel = getattr(args, "fuel", None)
    limit = getattr(args, "time_limit", None)
    try:
        program = compile_program(
            module, args.opt_level, fuel=fuel is not None, epochs=limit is not None, timings=timings
        )
    except UnsupportedByBackend as exc:
        return _unsupported(module, exc)
    t0 = time.perf_counter()
    try:
        return program.run(time_limit=limit, fuel=fuel)
    finally:
        timings["wasm run"] = time.perf_counter() - t0


def build_cli(module: Module, args: Any, timings: dict[str, float], default_out: str) -> int:
    """``simple build --backend cranelift``: write a precompiled ``.cwasm`` artifact."""
    import sys

    from simple_jit.wasm.host import write_artifact

    try:
        program = compile_program(module, args.opt_level, timings=timings)
    except UnsupportedByBackend as exc:
        return _unsupported(module, exc)
    out = args.output or default_out
    t0 = time.perf_counter()
    try:
        with open(out, "wb") as f:
            f.write(write_artifact(program))
    except OSError as exc:
        print(f"simple: error: cannot write '{out}': {exc.strerror}", file=sys.stderr)
        return 1
    timings["write artifact"] = time.perf_counter() - t0
    return 0


def _unsupported(module: Module, exc: Exception) -> int:
    """A construct this backend lacks (extern functions): a compile error, not a crash."""
    import sys

    print(f"{module.source_name}: error: {exc}", file=sys.stderr)
    return 1


def run_artifact_cli(
    data: bytes,
    args: Any,
    report_times: Callable[[Any, dict[str, float], float], None],
    t_start: float,
) -> int:
    """``simple run FILE.cwasm``: load the machine code (no compilation) and run it."""
    import sys

    from simple_jit.cli import EXIT_COMPILE_ERROR, EXIT_RUNTIME_ERROR
    from simple_jit.diagnostics import SimpleRuntimeError
    from simple_jit.wasm.host import ArtifactError, read_artifact

    timings: dict[str, float] = {}
    fuel = getattr(args, "fuel", None)
    limit = getattr(args, "time_limit", None)
    t0 = time.perf_counter()
    try:
        program = read_artifact(data, fuel=fuel is not None, epochs=limit is not None)
    except ArtifactError as exc:
        print(f"simple: error: {args.file}: {exc}", file=sys.stderr)
        return EXIT_COMPILE_ERROR
    t1 = time.perf_counter()
    timings["load artifact"] = t1 - t0
    try:
        code = program.run(time_limit=limit, fuel=fuel)
    except SimpleRuntimeError as err:
        sys.stdout.flush()
        print(err.render(), file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    finally:
        timings["wasm run"] = time.perf_counter() - t1
        report_times(args, timings, t_start)
    return code & 0xFF
