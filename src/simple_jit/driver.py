"""The compiler driver: one pipeline shared by every mode.

    source text --parse--> AST --resolve/check--> HIR --lower--> MIR --passes--> MIR

``compile_unit`` runs the pipeline and returns a ``Compilation`` holding every
stage (so ``--emit`` can print any of them) or raises ``CompileError`` with
all diagnostics; nothing partial escapes a failed compile.  Backends (the
interpreter today) take the final MIR ``Module``.

Typical use::

    from simple_jit.driver import compile_source, run_source
    module = compile_source("fn add(x, y): x + y", opt_level=2)
    exit_code = run_source('print "hi"')
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from simple_jit._record import field, record
from simple_jit.diagnostics import (
    CompileError,
    Diagnostic,
    DiagnosticBag,
    SourceFile,
    Span,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simple_jit.hir.env import UnitEnv
    from simple_jit.hir.nodes import HProgram
    from simple_jit.mir.ir import Module
    from simple_jit.syntax.ast import Module as AstModule
    from simple_jit.types import Type

# Deeply nested (but accepted) programs recurse in the checker and lowering;
# Python 3.11 keeps pure-Python recursion off the C stack, so this is safe.
_RECURSION_LIMIT = 20_000


@record
class Compilation:
    """Every stage of one compiled unit."""

    source: SourceFile
    ast: AstModule | None = None
    hir: HProgram | None = None
    mir: Module | None = None
    timings: dict[str, float] = field(default_factory=dict)


def source_from_bytes(name: str, data: bytes) -> SourceFile:
    """Decode UTF-8 source; invalid bytes are a compile error with a position."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8", errors="replace")
        src = SourceFile(name, data.decode("utf-8", errors="replace"))
        diag = Diagnostic("source is not valid UTF-8", Span(len(good), len(good) + 1))
        raise CompileError([diag], src) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return SourceFile(name, text)


def compile_unit(
    source: SourceFile,
    opt_level: int = 0,
    *,
    stop_after: str | None = None,
    verify: bool = False,
    env: UnitEnv | None = None,
    requests: Sequence[tuple[str, tuple[Type, ...]]] = (),
    inline: bool = True,
) -> Compilation:
    """Run the pipeline on one unit, up to ``stop_after`` ("ast", "hir" or "mir").

    Raises ``CompileError`` carrying every diagnostic when the unit is invalid.
    ``env`` describes earlier units (execution manager); ``requests`` asks for
    specializations of generic functions that the host wants to call;
    ``inline=False`` keeps every call (callees may be redefined later).
    """
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    # The compiler allocates many small objects and creates no garbage cycles
    # worth collecting mid-compile; the cyclic collector re-scanning them made
    # per-function compile time grow with program size (bench/scaling.py).
    with paused_gc():
        return _compile_unit(source, opt_level, stop_after, verify, env, requests, inline)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector off for a compile (the code generators use it too)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc_was_enabled:
            gc.enable()


def _compile_unit(
    source: SourceFile,
    opt_level: int,
    stop_after: str | None,
    verify: bool,
    env: UnitEnv | None,
    requests: Sequence[tuple[str, tuple[Type, ...]]],
    inline: bool,
) -> Compilation:
    comp = Compilation(source)
    timings = comp.timings
    diags = DiagnosticBag()

    t_import = time.perf_counter()
    # Imported here, not at module level, so `simple --help` stays fast; timed
    # apart so the phase timings measure the phases themselves.
    from simple_jit.hir.check import Checker
    from simple_jit.hir.resolve import Resolver
    from simple_jit.mir.lower import lower_program
    from simple_jit.mir.passes.manager import PassManager, pipeline_for
    from simple_jit.syntax import parse

    t0 = time.perf_counter()
    timings["import compiler"] = t0 - t_import
    tree = parse(source, diags)
    t1 = time.perf_counter()
    timings["parse"] = t1 - t0
    comp.ast = tree
    if diags:
        raise CompileError(diags.sorted(), source)
    if stop_after == "ast":
        return comp

    scope = Resolver(tree, diags, env).resolve()
    t2 = time.perf_counter()
    timings["resolve"] = t2 - t1
    prog = Checker(tree, scope, source, diags, env, requests).check_program()
    t3 = time.perf_counter()
    timings["check"] = t3 - t2
    if diags:
        raise CompileError(diags.sorted(), source)
    comp.hir = prog
    if stop_after == "hir":
        return comp

    module = lower_program(prog, source)
    t4 = time.perf_counter()
    timings["lower"] = t4 - t3

    pm = PassManager(pipeline_for(opt_level, inline=inline), verify=verify)
    pm.run(module)
    timings["mir passes"] = time.perf_counter() - t4
    for name, secs in pm.timings.items():
        timings[f"  pass {name}"] = secs
    comp.mir = module
    return comp


def compile_source(
    text: str, name: str = "<source>", opt_level: int = 0, *, verify: bool = False
) -> Module:
    """Compile source text to optimised MIR or raise ``CompileError``."""
    comp = compile_unit(SourceFile(name, text), opt_level, verify=verify)
    assert comp.mir is not None
    return comp.mir


def run_module(
    module: Module,
    *,
    out: TextIO | None = None,
    fuel: int | None = None,
    time_limit: float | None = None,
) -> int:
    """Run a program with the reference interpreter; returns the exit code.

    Raises ``SimpleRuntimeError`` for a runtime error (``time limit
    exceeded`` after ``time_limit`` seconds: the clock is read every
    ``_CLOCK_EVERY`` blocks, when a slice of fuel runs out).
    """
    from simple_jit.interp import Interpreter

    if time_limit is None:
        return Interpreter(module, out=out, fuel=fuel).run_program()
    from simple_jit.interp.machine import MSG_FUEL, MSG_TIME
    from simple_jit.semantics import OpError

    deadline = time.monotonic() + time_limit
    left = [fuel]  # the budget not handed out yet (None: no budget)

    def refuel() -> int:
        if time.monotonic() > deadline:
            raise OpError(MSG_TIME)
        budget = left[0]
        if budget is None:
            return _CLOCK_EVERY
        if budget <= 0:
            raise OpError(MSG_FUEL)
        n = min(_CLOCK_EVERY, budget)
        left[0] = budget - n
        return n - 1  # the block that ran out is charged, too

    first = _CLOCK_EVERY if fuel is None else min(_CLOCK_EVERY, fuel)
    if fuel is not None:
        left[0] = fuel - first
    return Interpreter(module, out=out, fuel=first, refuel=refuel).run_program()


_CLOCK_EVERY = 20_000  # interpreter blocks between two looks at the clock


def run_source(
    text: str,
    name: str = "<source>",
    opt_level: int = 0,
    *,
    out: TextIO | None = None,
    fuel: int | None = None,
) -> int:
    """Compile and run a program with the interpreter; returns the exit code."""
    return run_module(compile_source(text, name, opt_level), out=out, fuel=fuel)
