"""Run conformance programs through the ``simple`` CLI; print a summary line.

Used by ``scripts/conformance`` (which sets up .venv first).  A case is
``NAME.spl`` with ``NAME.out`` (exact stdout), optional ``NAME.code`` (exit
code, default 0), ``NAME.status`` (``compile-error`` -> exit 1 and empty
stdout, ``runtime-error`` -> exit 101) and ``NAME.stderr`` (lines that must
each appear in stderr).  Exits 0 when every selected case passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIERS = ("tier1", "tier2", "errors")
EXIT_COMPILE_ERROR = 1
EXIT_RUNTIME_ERROR = 101
# An errors/ program that uses tier-2 features counts as tier 2.
TIER2_HINT = re.compile(r"^\s*(?:struct|enum)\b|\bmatch\b|\[|\?\?|\bSome\(|\bnil\b", re.M)


@dataclass(frozen=True)
class Case:
    path: Path
    tier: str


@dataclass(frozen=True)
class Outcome:
    case: Case
    backend: str
    opt: str
    ok: bool
    why: str
    seconds: float


def tier_of(spl: Path) -> str:
    tier = spl.parent.name
    if tier == "errors" and TIER2_HINT.search(spl.read_text(encoding="utf-8", errors="replace")):
        return "tier2"
    return tier if tier in TIERS else "tier1"


def collect(paths: list[Path], tiers: set[str]) -> list[Case]:
    cases: list[Case] = []
    for p in paths:
        if p.is_file():
            cases.append(Case(p, tier_of(p)))  # explicit files ignore --tier
            continue
        if not p.is_dir():
            raise SystemExit(f"conformance: no such file or directory: {p}")
        dirs = [p] if p.name in TIERS else [p / t for t in TIERS]
        for d in dirs:
            for spl in sorted(d.glob("*.spl")):
                case = Case(spl, tier_of(spl))
                if case.tier in tiers:
                    cases.append(case)
    return cases


def simple_command() -> list[str]:
    exe = Path(sys.executable).parent / "simple"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "simple_jit.cli"]


def shown(path: Path) -> str:
    try:
        return os.path.relpath(path, Path.cwd())
    except ValueError:
        return str(path)


def run_case(case: Case, backend: str, opt: str, timeout: float) -> Outcome:
    spl = case.path
    status_file = spl.with_suffix(".status")
    status = status_file.read_text().strip() if status_file.exists() else ""
    out_file = spl.with_suffix(".out")
    expected_out = out_file.read_bytes() if out_file.exists() else b""
    code_file = spl.with_suffix(".code")
    if status == "compile-error":
        expected_code, expected_out = EXIT_COMPILE_ERROR, b""
    elif status == "runtime-error":
        expected_code = EXIT_RUNTIME_ERROR
    else:
        expected_code = int(code_file.read_text().strip()) if code_file.exists() else 0
    stderr_file = spl.with_suffix(".stderr")
    needles = stderr_file.read_text(encoding="utf-8").splitlines() if stderr_file.exists() else []

    start = time.perf_counter()
    try:
        if backend == "aot":  # `simple build`, then run the executable
            with tempfile.TemporaryDirectory(prefix="simple-aot-") as tmp:
                exe = os.path.join(tmp, spl.stem)
                build = [*simple_command(), "build", f"-O{opt}", "-o", exe, shown(spl)]
                proc = subprocess.run(
                    build, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout
                )
                if proc.returncode == 0:
                    proc = subprocess.run(
                        [exe], capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout
                    )
        else:
            argv = [*simple_command(), "run", "--backend", backend, f"-O{opt}", shown(spl)]
            proc = subprocess.run(
                argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout
            )
    except subprocess.TimeoutExpired:
        return Outcome(case, backend, opt, False, f"timeout after {timeout:.0f}s", timeout)
    secs = time.perf_counter() - start
    err = proc.stderr.decode("utf-8", "replace")
    problems = []
    if "Traceback" in err:
        problems.append("Python traceback on stderr")
    if proc.returncode != expected_code:
        problems.append(f"exit code {proc.returncode}, expected {expected_code}")
    if proc.stdout != expected_out:
        got = proc.stdout.decode("utf-8", "replace").splitlines()
        want = expected_out.decode("utf-8", "replace").splitlines()
        for i in range(max(len(got), len(want))):
            g = got[i] if i < len(got) else "<missing>"
            w = want[i] if i < len(want) else "<missing>"
            if g != w:
                problems.append(f"stdout line {i + 1}: got {g!r}, expected {w!r}")
                break
        else:
            problems.append("stdout differs (trailing newline or line endings)")
    problems += [f"stderr lacks {n!r}" for n in needles if n.strip() and n not in err]
    if problems and err.strip():
        problems.append("stderr: " + err.strip().splitlines()[0][:200])
    return Outcome(case, backend, opt, not problems, "; ".join(problems), secs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/conformance", description=__doc__)
    ap.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    ap.add_argument(
        "--backend",
        action="append",
        help="interpreter, llvm, or aot (simple build, then run the executable); repeatable",
    )
    ap.add_argument("-O", dest="opts", action="append", metavar="N", help="opt level (repeatable)")
    ap.add_argument("--tier", action="append", choices=TIERS, help="tier to run (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=max(2, os.cpu_count() or 2))
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per program")
    ap.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    args = ap.parse_args(argv)

    paths: list[Path] = args.paths
    if not paths:
        shared = ROOT.parent / "shared" / "conformance"
        paths = ([shared] if shared.is_dir() else []) + [ROOT / "tests" / "programs"]
    backends = args.backend or ["interpreter"]
    opts = args.opts or ["0", "2"]
    tiers = set(args.tier or ["tier1", "errors"])
    cases = collect(paths, tiers)
    if not cases:
        print("conformance: no programs selected", file=sys.stderr)
        return 1

    jobs = [(c, b, o) for c in cases for b in backends for o in opts]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda j: run_case(j[0], j[1], j[2], args.timeout), jobs))
    failed = [o for o in outcomes if not o.ok]
    for o in outcomes:
        if not o.ok or args.verbose:
            mark = "PASS" if o.ok else "FAIL"
            line = f"{mark} {shown(o.case.path)} [{o.backend} -O{o.opt}] {o.seconds:.2f}s"
            print(line + (f": {o.why}" if o.why else ""))
    print(
        f"conformance: {len(outcomes) - len(failed)} passed, {len(failed)} failed "
        f"({len(cases)} programs x backends {','.join(backends)} x "
        f"{' '.join('-O' + o for o in opts)}; tiers {','.join(sorted(tiers))}) "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
