"""The ``simple`` command.

    simple run FILE [options]     compile and run a program (also: simple FILE)
    simple build FILE -o OUT      compile to a standalone native executable (AOT)
    simple check FILE             type-check only; print diagnostics
    simple eval EXPR              evaluate one expression and print its value
    simple capi DIR               write the C ABI (libsimple_jit.so, simple_jit.h) into DIR

Exit codes: the program's ``main`` result (low 8 bits) or 0 on success;
1 for compile errors; 101 for runtime errors; 2 for command-line mistakes;
70 for an internal compiler error (a bug: please report it).

Imports are lazy: ``simple --help`` must not pay for the compiler.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from simple_jit.driver import Compilation
    from simple_jit.mir.ir import Module

EXIT_COMPILE_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_RUNTIME_ERROR = 101

BACKENDS = ("llvm", "interpreter", "cranelift")
EMIT_STAGES = ("ast", "hir", "mir", "llvm-ir", "asm", "obj")

_DESCRIPTION = """\
Compile and run programs written in Simple.

commands:
  run FILE      compile FILE and run it (the default: 'simple FILE' works too)
  build FILE    compile FILE ahead of time into a native executable (-o OUT)
  check FILE    parse and type-check FILE, print diagnostics, run nothing
  eval EXPR     evaluate one expression and print its value
  capi DIR      write libsimple_jit.so and simple_jit.h (the C ABI) into DIR

backends:
  llvm          native code through LLVM (the default): JIT for run, AOT for build
  interpreter   the reference MIR interpreter
  cranelift     WebAssembly compiled by wasmtime's Cranelift, sandboxed; 'build'
                writes a precompiled .cwasm artifact that 'simple run' executes

exit codes:
  0..255  the program's main() result (low 8 bits), 0 when main returns nothing
  1       compile error (nothing ran)
  101     runtime error (FILE:LINE:COL: runtime error: ... on stderr)
  2       command-line usage error
  70      internal compiler error
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"simple: error: {message}\n")


def _add_compile_options(p: argparse.ArgumentParser, *, run: bool) -> None:
    p.add_argument(
        "-O",
        dest="opt_level",
        type=int,
        choices=range(4),
        default=2,
        metavar="N",
        help="optimisation level 0-3 (default 2); -O0 compiles fastest",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="llvm",
        help="execution backend: llvm (default, native code), interpreter (reference) "
        "or cranelift (sandboxed WebAssembly)",
    )
    p.add_argument(
        "--emit",
        choices=EMIT_STAGES,
        help="print a compiler stage instead of running: ast, hir, mir, llvm-ir, asm, "
        "or obj (an object file, written to -o or FILE.o)",
    )
    p.add_argument("-o", dest="output", metavar="OUT", help="output file (build, --emit obj)")
    p.add_argument("--time", action="store_true", help="print the time each phase took to stderr")
    if run:
        p.add_argument(
            "--fuel",
            type=int,
            metavar="N",
            help="stop with a runtime error after about N executed instructions",
        )
        p.add_argument(
            "--time-limit",
            type=float,
            metavar="SECONDS",
            help="stop with a runtime error after SECONDS of run time (cranelift, interpreter)",
        )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``command``, only that subcommand's parser.

    Each ``argparse`` parser costs a few gettext look-ups (which search the
    locale directories every time) and a help formatter per argument:
    building all five subcommands was about 3 ms of CPU on every ``simple
    run``, which parses one of them.  ``simple --help`` and an unknown
    command still get the full parser.
    """
    parser = _Parser(
        prog="simple",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from simple_jit import __version__

    parser.add_argument("--version", action="version", version=f"simple {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_text, description, build_args) in _COMMANDS.items():
        if command is None or command == name:
            build_args(sub.add_parser(name, help=help_text, description=description))
    return parser


def _run_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="a .spl source file ('-' reads stdin)")
    _add_compile_options(p, run=True)


def _build_or_check_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE")
    _add_compile_options(p, run=False)


def _eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", metavar="EXPR")
    _add_compile_options(p, run=True)


def _capi_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", metavar="DIR")


# name -> (help in `simple --help`, description, adds the arguments)
_COMMANDS: dict[str, tuple[str, str, Callable[[argparse.ArgumentParser], None]]] = {
    "run": ("compile and run a program", "Compile FILE and run it.", _run_args),
    "build": (
        "compile to a native executable",
        "Compile FILE ahead of time into a standalone native executable that "
        "behaves exactly as 'simple run FILE' does.",
        _build_or_check_args,
    ),
    "check": (
        "type-check a program",
        "Parse and type-check FILE; run nothing.",
        _build_or_check_args,
    ),
    "eval": ("evaluate an expression", "Evaluate EXPR and print its value.", _eval_args),
    "capi": (
        "write the C ABI library and header",
        "Write libsimple_jit.so and simple_jit.h (the execution manager's C ABI) "
        "into DIR, which is created if needed. Builds are cached.",
        _capi_args,
    ),
}


def main(argv: list[str] | None = None) -> int:
    """Run one ``simple`` command; returns its exit code.

    Called without ``argv`` (the console script, ``python -m simple_jit.cli``)
    it is the process's entry point and does not return: once the command is
    done it flushes the standard streams and ends the process with
    ``os._exit``.  That skips the interpreter's teardown and LLVM's static
    destructors, which cost a ``simple run`` about 10 ms of CPU and up to
    30 ms of wall time after the program has finished.  The process also
    runs with the cyclic garbage collector off until a program runs in
    Python (interpreter, Cranelift host): compiling creates no garbage
    cycles worth collecting, and the collector rescanning every object while
    llvmlite and the compiler are imported cost about 7 ms of CPU.
    """
    if argv is None:
        gc.disable()
    code = _main(argv)
    if argv is not None:
        return code
    _flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    os._exit(code)


def _main(argv: list[str] | None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in _COMMANDS and not args_list[0].startswith("-"):
        args_list.insert(0, "run")  # `simple FILE` means `simple run FILE`
    parser = build_parser(args_list[0] if args_list and args_list[0] in _COMMANDS else None)
    args = parser.parse_args(args_list)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in the compiler, never the user's fault
        _flush()
        print(f"simple: internal compiler error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("  this is a bug in simple; set SIMPLE_DEBUG=1 for a traceback", file=sys.stderr)
        if os.environ.get("SIMPLE_DEBUG"):
            import traceback

            traceback.print_exc()
        return EXIT_INTERNAL


def _flush() -> None:
    with contextlib.suppress(Exception):  # stdout may be a closed pipe
        sys.stdout.flush()


def _read_source(path: str) -> tuple[str, bytes] | None:
    if path == "-":
        return "<stdin>", sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return path, f.read()
    except OSError as exc:
        print(f"simple: error: cannot read '{path}': {exc.strerror}", file=sys.stderr)
        return None


def _capi(out_dir: str) -> int:
    from simple_jit.capi import CapiBuildError, build

    try:
        lib, header = build(out_dir)
    except (CapiBuildError, OSError) as exc:
        print(f"simple: error: {exc}", file=sys.stderr)
        return 1
    print(lib)
    print(header)
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "capi":
        return _capi(args.dir)
    from simple_jit.diagnostics import CompileError, SimpleRuntimeError
    from simple_jit.driver import compile_unit, source_from_bytes

    t_start = time.perf_counter()
    if args.command == "eval":
        name, data = "<eval>", f"print({args.expr})\n".encode()
    else:
        got = _read_source(args.file)
        if got is None:
            return EXIT_USAGE
        name, data = got
        if args.command == "run" and data.startswith(b"SPLCWASM"):
            from simple_jit.wasm import run_artifact_cli

            gc.enable()
            return run_artifact_cli(data, args, _report_times, t_start)
    timings: dict[str, float] = {}
    try:
        source = source_from_bytes(name, data)
        stop = args.emit or ("hir" if args.command == "check" else None)
        comp = compile_unit(source, args.opt_level, stop_after=stop)
        timings = comp.timings
    except CompileError as err:
        print(err.render(), file=sys.stderr)
        n = len(err.diagnostics)
        print(f"simple: {n} error{'s' if n != 1 else ''}; nothing was run", file=sys.stderr)
        return EXIT_COMPILE_ERROR
    if args.emit:
        status = _emit(comp, args)
        _report_times(args, timings, t_start)
        return status
    if args.command == "check":
        _report_times(args, timings, t_start)
        return 0
    assert comp.mir is not None
    if args.command == "build":
        status = _build(comp.mir, args, timings)
        _report_times(args, timings, t_start)
        return status
    from simple_jit.driver import run_module

    t_run = time.perf_counter()
    try:
        if args.backend == "cranelift":
            from simple_jit.wasm import run_cli

            gc.enable()
            code = run_cli(comp.mir, args, timings)
        elif args.backend == "llvm":
            if getattr(args, "time_limit", None) is not None:
                print(
                    "simple: error: --time-limit needs --backend cranelift or interpreter",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            if args.fuel is not None:
                print("simple: error: --fuel needs --backend interpreter", file=sys.stderr)
                return EXIT_USAGE
            from simple_jit.llvm import jit_program

            program = jit_program(comp.mir, args.opt_level, timings)
            t_run = time.perf_counter()
            code = program.run(comp.mir.source_name)
        else:
            gc.enable()
            code = run_module(comp.mir, fuel=args.fuel, time_limit=args.time_limit)
    except SimpleRuntimeError as err:
        _flush()
        print(err.render(), file=sys.stderr)
        return EXIT_RUNTIME_ERROR
    finally:
        timings["run"] = time.perf_counter() - t_run
        _report_times(args, timings, t_start)
    _flush()
    return code & 0xFF


def _emit(comp: Compilation, args: argparse.Namespace) -> int:
    stage = args.emit
    if stage == "ast":
        from simple_jit.syntax.dump import dump_module

        assert comp.ast is not None
        sys.stdout.write(dump_module(comp.ast))
        return 0
    if stage == "hir":
        from simple_jit.hir.dump import dump_program

        assert comp.hir is not None
        sys.stdout.write(dump_program(comp.hir))
        return 0
    assert comp.mir is not None
    if stage == "mir":
        from simple_jit.mir.printer import print_module

        sys.stdout.write(print_module(comp.mir))
        return 0
    import simple_jit.llvm as backend

    if stage == "llvm-ir":
        sys.stdout.write(backend.llvm_ir(comp.mir, args.opt_level))
    elif stage == "asm":
        sys.stdout.write(backend.assembly(comp.mir, args.opt_level))
    else:
        out = args.output or _default_output(args.file, ".o")
        with open(out, "wb") as f:
            f.write(backend.object_code(comp.mir, args.opt_level))
    return 0


def _default_output(path: str, suffix: str) -> str:
    base = os.path.basename(path)
    stem = base[:-4] if base.endswith(".spl") else base
    return (stem or "a") + suffix


def _build(module: Module, args: argparse.Namespace, timings: dict[str, float]) -> int:
    if args.backend == "cranelift":
        from simple_jit.wasm import build_cli

        return build_cli(module, args, timings, _default_output(args.file, ".cwasm"))
    if args.backend != "llvm":
        print("simple: error: 'build' needs --backend llvm or cranelift", file=sys.stderr)
        return EXIT_USAGE
    import simple_jit.llvm as backend
    from simple_jit.llvm.compile import build_executable

    out = args.output or _default_output(args.file, "")
    obj = backend.object_code(module, args.opt_level, timings)
    t0 = time.perf_counter()
    try:
        build_executable(obj, out)
    except OSError as exc:
        print(f"simple: error: {exc}", file=sys.stderr)
        return EXIT_COMPILE_ERROR
    timings["link"] = time.perf_counter() - t0
    return 0


def _report_times(args: argparse.Namespace, timings: dict[str, float], t_start: float) -> None:
    if not args.time:
        return
    _flush()
    err = sys.stderr
    for phase, secs in timings.items():
        err.write(f"{phase:<24} {secs * 1000:9.3f} ms\n")
    err.write(f"{'total':<24} {(time.perf_counter() - t_start) * 1000:9.3f} ms\n")


if __name__ == "__main__":
    sys.exit(main())
