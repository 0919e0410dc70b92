"""The LLVM backend: one code generator (``codegen.py``) for the JIT and AOT.

``prepare`` finishes a MIR module for native code (explicit reference
counting) and translates it to optimised LLVM; ``jit_program``, ``object_code``
and ``assembly`` take it from there.  Importing this package does not import
llvmlite: the CLI stays fast for the interpreter and ``--help``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simple_jit.llvm.compile import JitProgram
    from simple_jit.mir.ir import Module


def prepare(
    module: Module, opt_level: int, *, jit: bool = True, timings: dict[str, float] | None = None
) -> Any:
    """Refcount the MIR, generate LLVM IR and optimise it; returns a binding module."""
    from simple_jit.driver import paused_gc
    from simple_jit.llvm.compile import backend
    from simple_jit.mir.passes.refcount import InsertRefcounts

    t0 = time.perf_counter()
    be = backend()
    t1 = time.perf_counter()
    # Building IR allocates many objects that live until it is printed: the
    # cyclic collector re-scanning them made this phase superlinear in
    # program size (bench/scaling.py), as it did the front end.
    with paused_gc():
        InsertRefcounts().run(module)
        ir_text = be.generate_ir(module)
    t2 = time.perf_counter()
    if timings is not None:
        timings["llvm init"] = t1 - t0
        timings["llvm codegen"] = t2 - t1
    return be.compile_ir(ir_text, opt_level, jit=jit, timings=timings)


def jit_program(
    module: Module, opt_level: int, timings: dict[str, float] | None = None
) -> JitProgram:
    from simple_jit.llvm.compile import backend

    mod = prepare(module, opt_level, timings=timings)
    t0 = time.perf_counter()
    program = backend().jit(mod, opt_level)
    if timings is not None:
        timings["llvm jit"] = time.perf_counter() - t0
    return program


def llvm_ir(module: Module, opt_level: int) -> str:
    return str(prepare(module, opt_level))


def assembly(module: Module, opt_level: int) -> str:
    from simple_jit.llvm.compile import backend

    return backend().emit_assembly(prepare(module, opt_level, jit=False), opt_level)


def object_code(module: Module, opt_level: int, timings: dict[str, float] | None = None) -> bytes:
    from simple_jit.llvm.compile import backend

    mod = prepare(module, opt_level, jit=False, timings=timings)
    t0 = time.perf_counter()
    data = backend().emit_object(mod, opt_level)
    if timings is not None:
        timings["llvm object"] = time.perf_counter() - t0
    return data
