"""Differential testing of the Cranelift backend against the interpreter.

The tier-1 programs of ``progen.py`` (the seeds ``test_differential.py``
gives the LLVM JIT) run on the reference interpreter (MIR at -O0) and

* through the execution manager, ``ExecManager("cranelift")`` (its unit
  mode: every call through a table slot, the store shared by all units):
  the program is compiled as one unit (its top-level code runs then) and
  ``main`` is called; -O0 for even seeds, -O2 for odd ones;
* through the command line, ``simple run --backend cranelift`` (one module
  per program, run on its own thread), for a smaller set.

Stdout, the exit code (main's result) and the rendered runtime error must be
identical.  ``SIMPLE_DIFF_CASES`` and ``SIMPLE_DIFF_SEED`` work as in
``test_differential.py``: the manager runs 1/4 of the cases, the CLI 1/40
(at least 30 each).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from progen import (
    Outcome,
    SeedRunner,
    differential_seed,
    failure_report,
    generate,
    run_interpreter,
)

CASES = int(os.environ.get("SIMPLE_DIFF_CASES", "2000"))
FIRST_SEED = int(os.environ.get("SIMPLE_DIFF_SEED", "0"))
MANAGER_CASES = max(30, CASES // 4)
CLI_CASES = max(30, CASES // 40)
CHUNKS = 4
PER_SEED = 10.0
TIMEOUT = 120.0
EXIT_RUNTIME_ERROR = 101
ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "simple_jit.cli"]


def run_manager(source: str, opt_level: int) -> Outcome:
    """``source`` as one unit of a cranelift ExecManager, then ``main()``."""
    from simple_jit.diagnostics import SimpleRuntimeError
    from simple_jit.manager import ExecManager

    saved = sys.stdout
    buf = io.BytesIO()
    out = io.TextIOWrapper(buf, encoding="utf-8", write_through=True)
    sys.stdout = out
    code: Any = 0
    error: str | None = None
    try:
        with ExecManager("cranelift", opt_level=opt_level) as mgr:
            try:
                mgr.compile_source(source)
                if mgr.has_function("main"):
                    code = mgr.call("main")
            except SimpleRuntimeError as err:
                error = err.render()
    finally:
        out.flush()
        sys.stdout = saved
        out.detach()  # keep buf open
    stdout = buf.getvalue().decode("utf-8", "surrogateescape")
    if error is not None:
        return Outcome(stdout, None, error)
    exit_code = code if isinstance(code, int) and not isinstance(code, bool) else 0
    return Outcome(stdout, exit_code, None)


def check_manager(seed: int) -> str | None:
    """Interpreter (-O0) vs. the cranelift execution manager (-O0 or -O2 by seed)."""
    source = generate(seed, small=differential_seed(seed))
    opt = 2 if seed % 2 else 0
    ref = run_interpreter(source, 0)
    try:
        got = run_manager(source, opt)
    except Exception as exc:  # an internal compiler error is a failure too
        return failure_report(
            seed, source, f"cranelift manager -O{opt} raised {exc!r}", {"interp -O0": ref}
        )
    if got != ref:
        return failure_report(
            seed,
            source,
            "interpreter and cranelift manager differ",
            {"interp -O0": ref, f"manager -O{opt}": got},
        )
    return None


def check_cli(seed: int, tmp: Path) -> str | None:
    """Interpreter (-O0) vs. ``simple run --backend cranelift`` (-O0 or -O2 by seed)."""
    source = generate(seed, small=differential_seed(seed))
    opt = 2 if seed % 2 else 0
    path = tmp / f"prog{seed}.spl"
    path.write_text(source, encoding="utf-8")
    ref = run_interpreter(source, 0, name=str(path))
    if ref.exit_code is not None:
        ref = Outcome(ref.stdout, ref.exit_code & 0xFF, None)
    ran = subprocess.run(
        [*CLI, "run", "--backend", "cranelift", f"-O{opt}", str(path)],
        cwd=ROOT,
        capture_output=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    stdout = ran.stdout.decode("utf-8", "surrogateescape")
    stderr = ran.stderr.decode("utf-8", "replace")
    if ran.returncode == EXIT_RUNTIME_ERROR:
        lines = [ln for ln in stderr.splitlines() if ": runtime error: " in ln]
        got = Outcome(stdout, None, lines[-1] if lines else f"no error line: {stderr}")
    else:
        got = Outcome(stdout, ran.returncode, None if not stderr else f"stderr: {stderr}")
    if got != ref:
        return failure_report(
            seed,
            source,
            "interpreter and `simple run --backend cranelift` differ",
            {"interp -O0": ref, f"cli -O{opt}": got},
        )
    return None


@pytest.fixture(scope="module")
def runner() -> Any:
    r = SeedRunner()
    yield r
    r.close()


def report(failures: list[str], total: int) -> str:
    shown = "\n\n".join(failures[:3])
    more = f"\n\n... and {len(failures) - 3} more" if len(failures) > 3 else ""
    return f"{len(failures)} of {total} programs failed:\n\n{shown}{more}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_interpreter_vs_cranelift_manager(runner: SeedRunner, chunk: int) -> None:
    lo = FIRST_SEED + chunk * MANAGER_CASES // CHUNKS
    hi = FIRST_SEED + (chunk + 1) * MANAGER_CASES // CHUNKS
    seeds = list(range(lo, hi))
    failures = runner.run(check_manager, seeds, PER_SEED)
    assert not failures, report(failures, len(seeds))


def test_interpreter_vs_cranelift_cli(tmp_path: Path) -> None:
    seeds = [FIRST_SEED + i for i in range(CLI_CASES)]
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda s: check_cli(s, tmp_path), seeds))
    failures = [r for r in results if r is not None]
    assert not failures, report(failures, len(seeds))


def test_check_manager_passes_a_seed() -> None:
    assert check_manager(FIRST_SEED) is None
