"""Differential testing: generated programs on the interpreter, the LLVM JIT and AOT.

Thousands of random valid tier-1 programs (``progen.py``) run on the
reference interpreter (MIR at -O0) and on the LLVM JIT (MIR and LLVM at -O0
for even seeds, -O2 for odd ones); stdout, the exit code and the rendered
runtime error (message, line and column) must be identical.  A smaller set is
built into executables with ``simple build -O2`` and compared the same way
(exit status 101 and ``FILE:L:C: runtime error: MSG`` on stderr for a runtime
error).

Tier-2 programs (``progen2.py``: arrays, structs, enums and ``match``,
tuples, options, and their display) run the same way on every backend listed
in ``TIER2_BACKENDS`` and as AOT executables (-O0 for even seeds, -O2 for odd
ones; exit status, stdout and the whole of stderr must match).

The programs are chosen by seed, so a run is reproducible, and every failure
message holds the seed and the whole program.  Environment:

* ``SIMPLE_DIFF_CASES``: number of JIT programs (default 2000; the AOT set is
  1/80 of it, at least 30; tier 2 runs 1/16 of it per backend, at least 60,
  and 1/80 as AOT executables, at least 16);
* ``SIMPLE_DIFF_SEED``: first seed (default 0), to explore other programs.

Work is spread over worker processes (one per core): a crash in native code
then fails the test with the seed instead of killing pytest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import progen
from progen import (
    Outcome,
    SeedRunner,
    check_aot2,
    check_jit,
    failure_report,
    generate,
    run_interpreter,
)

CASES = int(os.environ.get("SIMPLE_DIFF_CASES", "2000"))
FIRST_SEED = int(os.environ.get("SIMPLE_DIFF_SEED", "0"))
CHUNKS = 12
AOT_CASES = max(30, CASES // 80)
# JIT seeds and AOT seeds come from disjoint ranges.
AOT_SEED_OFFSET = 10_000_000
EXIT_RUNTIME_ERROR = 101
PER_SEED = 10.0  # seconds: generous, the machine may be busy
TIMEOUT = 120.0  # seconds for one AOT build or run
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runner() -> Iterator[SeedRunner]:
    r = SeedRunner()
    yield r
    r.close()


def chunk_seeds(chunk: int) -> list[int]:
    lo = FIRST_SEED + chunk * CASES // CHUNKS
    hi = FIRST_SEED + (chunk + 1) * CASES // CHUNKS
    return list(range(lo, hi))


def report(failures: list[str], total: int) -> str:
    shown = "\n\n".join(failures[:3])
    more = f"\n\n... and {len(failures) - 3} more" if len(failures) > 3 else ""
    return f"{len(failures)} of {total} programs failed:\n\n{shown}{more}"


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_interpreter_vs_jit(runner: SeedRunner, chunk: int) -> None:
    seeds = chunk_seeds(chunk)
    failures = runner.run(check_jit, seeds, PER_SEED)
    assert not failures, report(failures, len(seeds))


def test_check_jit_reports_seed_and_program() -> None:
    """A passing seed gives None; the failure report carries seed and source."""
    assert check_jit(FIRST_SEED) is None
    text = failure_report(7, "fn main():\n    print 1\n", "differ", {"a": Outcome("1\n", 0, None)})
    assert "seed 7" in text and "print 1" in text


# ----------------------------------------------------------------------- AOT


def aot_outcome(source: str, tmp: str, name: str) -> tuple[Outcome, str]:
    """Build ``source`` with ``simple build -O2`` and run it; (outcome, raw stderr)."""
    path = os.path.join(tmp, f"{name}.spl")
    exe = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    cli = [sys.executable, "-m", "simple_jit.cli"]
    built = subprocess.run(
        [*cli, "build", "-O2", "-o", exe, path],
        cwd=ROOT,
        capture_output=True,
        timeout=TIMEOUT,
    )
    if built.returncode != 0:
        err = built.stderr.decode("utf-8", "replace")
        return Outcome("", built.returncode, f"build failed: {err}"), err
    ran = subprocess.run([exe], capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    stdout = ran.stdout.decode("utf-8", "surrogateescape")
    stderr = ran.stderr.decode("utf-8", "replace")
    if ran.returncode == EXIT_RUNTIME_ERROR:
        lines = [ln for ln in stderr.splitlines() if ": runtime error: " in ln]
        return Outcome(stdout, None, lines[-1] if lines else f"no error line: {stderr}"), stderr
    return Outcome(stdout, ran.returncode, None), stderr


def check_aot(seed: int) -> str | None:
    source = generate(seed)
    with tempfile.TemporaryDirectory(prefix="simple-diff-") as tmp:
        name = f"prog{seed}"
        path = os.path.join(tmp, f"{name}.spl")
        ref = run_interpreter(source, 0, name=path)
        if ref.exit_code is not None:
            # the operating system keeps the low 8 bits of main's result
            ref = Outcome(ref.stdout, ref.exit_code & 0xFF, None)
        aot, stderr = aot_outcome(source, tmp, name)
        if aot != ref:
            return failure_report(
                seed,
                source,
                f"interpreter and AOT executable differ (stderr: {stderr[-500:]!r})",
                {"interp -O0": ref, "aot -O2": aot},
            )
    return None


def test_interpreter_vs_aot() -> None:
    seeds = [FIRST_SEED + AOT_SEED_OFFSET + i for i in range(AOT_CASES)]
    workers = max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(check_aot, seeds))
    failures = [r for r in results if r is not None]
    assert not failures, report(failures, len(seeds))


# -------------------------------------------------------------------- tier 2

# The hook for backends: a backend is listed (with its check in progen.py)
# once it runs tier 2; each runs the same TIER2_CASES programs.  A program
# that fails on one backend is a bug to report, never one to filter out.
TIER2_BACKENDS: dict[str, str] = {
    "llvm": "check_jit2",
    "cranelift": "check_cranelift2",
}
TIER2_CASES = max(60, CASES // 16)
TIER2_AOT_CASES = max(16, CASES // 80)
TIER2_CHUNKS = 3
TIER2_SEED_OFFSET = 20_000_000
TIER2_AOT_SEED_OFFSET = 30_000_000


@pytest.mark.parametrize("chunk", range(TIER2_CHUNKS))
@pytest.mark.parametrize("backend", sorted(TIER2_BACKENDS))
def test_tier2_interpreter_vs_backend(runner: SeedRunner, backend: str, chunk: int) -> None:
    check = getattr(progen, TIER2_BACKENDS[backend])
    first = FIRST_SEED + TIER2_SEED_OFFSET
    seeds = list(
        range(
            first + chunk * TIER2_CASES // TIER2_CHUNKS,
            first + (chunk + 1) * TIER2_CASES // TIER2_CHUNKS,
        )
    )
    failures = runner.run(check, seeds, PER_SEED)
    assert not failures, report(failures, len(seeds))


def test_tier2_interpreter_vs_aot(runner: SeedRunner) -> None:
    """Built in the worker processes (no interpreter start-up per program), -O0 and -O2."""
    first = FIRST_SEED + TIER2_AOT_SEED_OFFSET
    seeds = list(range(first, first + TIER2_AOT_CASES))
    failures = runner.run(check_aot2, seeds, PER_SEED)
    assert not failures, report(failures, len(seeds))


def test_tier2_checks_report_seed_and_program() -> None:
    """A check names the seed, the backends, and holds the program."""
    seed = FIRST_SEED + TIER2_SEED_OFFSET
    assert progen.check_jit2(seed) is None
    bad = progen.tier2_against(seed, "check_jit2", "broken", lambda src, opt: Outcome("", 3, None))
    assert bad is not None and f"seed {seed}" in bad and "broken -O0" in bad
    assert progen.source_for("check_jit2", seed) in bad
