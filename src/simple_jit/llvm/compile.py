"""Driving LLVM through llvmlite: optimisation, the JIT, object files and executables.

One ``LLVMBackend`` per process initialises LLVM once and keeps a target
machine per optimisation level.  ``compile_ir`` turns the IR of
``codegen.ModuleCodegen`` into an optimised ``llvmlite.binding`` module;
``jit`` loads it into MCJIT (resolving the C runtime's symbols) and ``emit_object``
writes an object file that ``build_executable`` links with the runtime.

Only this module and the runtime loader touch native memory.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import Any

from simple_jit.diagnostics import Loc, SimpleRuntimeError
from simple_jit.mir.ir import Module

_lock = threading.Lock()
_backend: LLVMBackend | None = None
# LLVM's global context is not thread-safe: every parse, optimisation and
# code-emission step in the process holds this lock.  Running compiled code
# does not.
LLVM_LOCK = threading.RLock()

# The optimisation pipelines, built from individual passes (``_pipeline``).
# Not LLVM's default ``default<O2>`` pipeline: with llvmlite 0.50 every
# pipeline built by ``PassBuilder.getModulePassManager`` leaks 30-60 KB when
# disposed and cannot be run twice, which a long-lived execution manager
# compiling unit after unit would feel.  A pipeline of our own is built once
# per process and opt level and reused for every module (the passes below keep
# no state between runs; analyses live in per-run analysis managers).  On this
# compiler's IR (already inlined and simplified in MIR) it produces code as
# fast as ``default<O2>`` on bench/suite and runs 2-7x faster.
_O1_PASSES = ("sroa", "instruction_combine", "simplify_cfg", "aggressive_dce")
_O2_PASSES = (
    "post_order_function_attributes",
    "ipsccp",
    "global_opt",
    "sroa",
    "instruction_combine",
    "simplify_cfg",
    "reassociate",
    # GVN before loop rotation: in `while zr*zr + zi*zi <= 4.0: ... zr*zr - zi*zi`
    # the header's squares dominate the body's and are reused; once rotated,
    # they are only partially redundant (NewGVN does no PRE) and computed twice.
    "new_gvn",
    "loop_simplify",
    "lcssa",
    "loop_rotate",
    "mem_copy_opt",
    "instruction_combine",
    "jump_threading",
    "dead_store_elimination",
    "instruction_combine",
    "simplify_cfg",
    "aggressive_dce",
    "tail_call_elimination",
)
# -O3 adds loop unrolling (left out of -O2: no gain on bench/suite, and a
# quarter of the -O2 compile time of bench/programs/complex.spl) and a second
# round of scalar clean-up.
_O3_PASSES = (
    "post_order_function_attributes",
    "argument_promotion",
    *_O2_PASSES[1:-1],
    "loop_unroll",
    "aggressive_instcombine",
    "new_gvn",
    "instruction_combine",
    "simplify_cfg",
    "aggressive_dce",
    "tail_call_elimination",
)
PIPELINES: dict[int, tuple[str, ...]] = {1: _O1_PASSES, 2: _O2_PASSES, 3: _O3_PASSES}

# Programs run on a thread with this much stack (virtual memory, committed
# lazily): recursion 100,000 deep needs far less, and the stack-limit check
# turns anything deeper into the "stack overflow" runtime error.
PROGRAM_STACK_BYTES = 256 << 20


def backend() -> LLVMBackend:
    global _backend
    with _lock:
        if _backend is None:
            _backend = LLVMBackend()
        return _backend


class LLVMBackend:
    def __init__(self) -> None:
        import llvmlite.binding as llvm

        self.llvm = llvm
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        self.target = llvm.Target.from_default_triple()
        self.triple = llvm.get_process_triple()
        self._machines: dict[tuple[int, bool], Any] = {}
        self._pipelines: dict[tuple[int, bool], tuple[Any, Any]] = {}
        self._cpu = llvm.get_host_cpu_name()
        self._features = llvm.get_host_cpu_features().flatten()
        from simple_jit.runtime import load_runtime

        # also makes the runtime's symbols visible to MCJIT (load_library_permanently)
        self.runtime = load_runtime()
        # The data layout does not depend on the opt level: take it from the
        # machine of the default -O2, which `simple run` then optimises with
        # (it came from an -O0 machine made only for this).
        self.data_layout = str(self.machine(2).target_data)

    def machine(self, opt_level: int, jit: bool = True) -> Any:
        """A shared target machine for optimisation and object emission."""
        key = (opt_level, jit)
        tm = self._machines.get(key)
        if tm is None:
            tm = self._machines[key] = self.new_machine(opt_level, jit)
        return tm

    def new_machine(self, opt_level: int, jit: bool = True) -> Any:
        """A target machine of one's own: an MCJIT engine takes ownership of its machine."""
        return self.target.create_target_machine(
            cpu=self._cpu if jit else "",
            features=self._features if jit else "",
            opt=min(opt_level, 3),
            reloc="default" if jit else "pic",
            codemodel="jitdefault" if jit else "small",
        )

    def _pipeline(self, opt_level: int, jit: bool) -> tuple[Any, Any]:
        """The pass manager for ``opt_level`` and its pass builder, built once (under LLVM_LOCK)."""
        key = (opt_level, jit)
        built = self._pipelines.get(key)
        if built is None:
            llvm = self.llvm
            pto = llvm.create_pipeline_tuning_options(speed_level=opt_level)
            pb = llvm.create_pass_builder(self.machine(opt_level, jit), pto)
            mpm = llvm.create_new_module_pass_manager()
            for name in PIPELINES[opt_level]:
                getattr(mpm, f"add_{name}_pass")()
            built = self._pipelines[key] = (mpm, pb)
        return built

    def generate_ir(self, module: Module) -> str:
        from simple_jit.llvm.codegen import ModuleCodegen

        return str(ModuleCodegen(module, self.triple, self.data_layout).generate())

    def compile_ir(
        self,
        ir_text: str,
        opt_level: int,
        *,
        jit: bool = True,
        timings: dict[str, float] | None = None,
    ) -> Any:
        llvm = self.llvm
        t0 = time.perf_counter()
        with LLVM_LOCK:
            mod = llvm.parse_assembly(ir_text)
            mod.verify()
            t1 = time.perf_counter()
            if opt_level > 0:
                mpm, pb = self._pipeline(min(opt_level, 3), jit)
                mpm.run(mod, pb)
        if timings is not None:
            timings["llvm parse"] = t1 - t0
            timings["llvm opt"] = time.perf_counter() - t1
        return mod

    def jit(self, mod: Any, opt_level: int) -> JitProgram:
        with LLVM_LOCK:
            ee = self.llvm.create_mcjit_compiler(mod, self.new_machine(opt_level, True))
            ee.finalize_object()
            return JitProgram(self, ee)

    def emit_object(self, mod: Any, opt_level: int) -> bytes:
        with LLVM_LOCK:
            data: bytes = self.machine(opt_level, jit=False).emit_object(mod)
        return data

    def emit_assembly(self, mod: Any, opt_level: int) -> str:
        with LLVM_LOCK:
            text: str = self.machine(opt_level, jit=False).emit_assembly(mod)
        return text


class JitProgram:
    """A program loaded into memory; ``run`` executes ``$init`` and ``main``."""

    def __init__(self, backend: LLVMBackend, engine: Any) -> None:
        self.backend = backend
        self.engine = engine  # keeps the machine code alive
        from simple_jit.llvm.codegen import ENTRY_SYMBOL

        self.entry = engine.get_function_address(ENTRY_SYMBOL)

    def run(self, source_name: str) -> int:
        rt = self.backend.runtime
        code = ctypes.c_int64(0)
        status = rt.rt_run_main(
            ctypes.c_void_p(self.entry), ctypes.c_size_t(PROGRAM_STACK_BYTES), ctypes.byref(code)
        )
        if status != 0:
            raw = rt.rt_main_error()
            message = raw.decode("utf-8", "replace") if raw else "runtime error"
            raise runtime_error_from_text(message, source_name)
        return int(code.value)


def runtime_error_from_text(text: str, source_name: str) -> SimpleRuntimeError:
    """Rebuild the structured error from the runtime's ``FILE:L:C: runtime error: MSG``."""
    marker = ": runtime error: "
    head, sep, message = text.partition(marker)
    if not sep:
        return SimpleRuntimeError(text, None, source_name)
    parts = head.rsplit(":", 2)
    loc: Loc | None = None
    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
        line, col = int(parts[1]), int(parts[2])
        loc = Loc(line, col) if line > 0 else None
        source_name = parts[0]
    return SimpleRuntimeError(message, loc, source_name)


def build_executable(obj: bytes, output: str, cc: str = "cc") -> None:
    """Link an object file of a program with the C runtime into ``output``."""
    import subprocess  # here, not at the top: `simple run` never links
    import tempfile

    from simple_jit.runtime import aot_runtime_object

    rt_obj = aot_runtime_object(cc)
    with tempfile.TemporaryDirectory(prefix="simple-build-") as tmp:
        obj_path = os.path.join(tmp, "program.o")
        with open(obj_path, "wb") as f:
            f.write(obj)
        cmd = [cc, "-o", output, obj_path, rt_obj, "-lm", "-lpthread"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise OSError(f"linking failed ({' '.join(cmd)}):\n{proc.stderr.strip()}")
