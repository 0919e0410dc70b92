"""Run the benchmark suite (bench/suite) under every engine; write a section of BENCHMARKS.md.

    bench/compare                      # sets up luajit, tcc and numba, then runs this
    .venv/bin/python bench/compare.py [--reps N] [--skip-cpython] [--only fib,loop] [--quick]

Each program exists as NAME.spl (Simple), NAME.c, NAME.lua, NAME.py (CPython) and,
where it fits, NAME_numba.py, and prints the same checksum in every language.
For each program the engines run in alternation, round after round, so that load
on this shared machine hits them alike; a cell is the median wall time of whole
processes (start, compile where the engine compiles, run).  The output of every
run is compared with gcc -O2's; a difference is reported as an error.

CPython runs the same N as everyone else, but only --cpython-reps times
(default 1: at 30-100x slower it would dominate the run time, and its noise is
small next to those ratios), each with a --cpython-limit (default 60 s) time
limit: a run that hits it is stopped and reported as "> 60 s", and its speedup
as a lower bound.  --skip-cpython leaves it out.

The section between <!-- compare:begin --> and <!-- compare:end --> of
BENCHMARKS.md is rewritten (appended with its markers if missing); the rest of
the file is left alone.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "bench" / "suite"
PY = (
    str(ROOT / ".venv" / "bin" / "python")
    if (ROOT / ".venv" / "bin" / "python").exists()
    else sys.executable
)
_SIMPLE_BIN = ROOT / ".venv" / "bin" / "simple"
SIMPLE = [str(_SIMPLE_BIN)] if _SIMPLE_BIN.exists() else [PY, "-m", "simple_jit.cli"]

PROGRAMS = ["fib", "loop", "collatz", "mandelbrot", "nbody", "sieve", "sort", "text"]
RUN_TIMEOUT = 300.0

# Column order of the tables; "key": header.
ENGINES = {
    "simple-jit": "Simple JIT -O2",
    "simple-aot": "Simple AOT -O2",
    "simple-cranelift": "Simple Cranelift",
    "gcc-O2": "gcc -O2",
    "gcc-O0": "gcc -O0",
    "tcc": "tcc",
    "luajit": "LuaJIT",
    "numba": "Numba",
    "cpython": "CPython",
}
SIMPLE_ENGINES = ("simple-jit", "simple-aot", "simple-cranelift")


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the text between <!-- NAME:begin --> and <!-- NAME:end --> in path."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.exists() else ""
    i, j = text.find(begin), text.find(end)
    if i >= 0 and j > i:
        text = text[:i] + block + text[j + len(end) :]
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    path.write_text(text)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Outcome:
    """One engine on one program."""

    times: list[float] = field(default_factory=list)
    run_phase: list[float] = field(default_factory=list)  # in-process run time, when reported
    status: str = "ok"  # ok | pending | unavailable | error | mismatch | timeout
    note: str = ""
    lower_bound: float = 0.0  # for timeouts

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and self.status == "ok" else None

    @property
    def run_median(self) -> float | None:
        return statistics.median(self.run_phase) if self.run_phase and self.status == "ok" else None


def sh(argv: list[str], timeout: float = RUN_TIMEOUT) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=SUITE)
    except subprocess.TimeoutExpired:
        return -999, "", "timeout", time.perf_counter() - t0
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0


def first_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else ""


def reason(stderr: str) -> str:
    """The line of a failing command's stderr that says why (not --time's phase lines)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    for pat in (r"not (yet )?supported|UnsupportedByBackend", r"error"):
        for ln in lines:
            if re.search(pat, ln):
                return ln
    return lines[-1] if lines else ""


def not_supported(stderr: str) -> bool:
    return bool(re.search(r"not (yet )?supported|UnsupportedByBackend", stderr))


def version(argv: list[str], pattern: str | None = None) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    out = (p.stdout + p.stderr).strip()
    if pattern:
        m = re.search(pattern, out)
        return m.group(0) if m else first_line(out)
    return first_line(out)


def have_numba() -> bool:
    return subprocess.run([PY, "-c", "import numba"], capture_output=True).returncode == 0


def probe_cranelift() -> tuple[bool, str]:
    """Whether `simple run --backend cranelift` works (probed once, on hello.spl)."""
    hello = ROOT / "examples" / "hello.spl"
    rc, out, err, _ = sh([*SIMPLE, "run", "--backend", "cranelift", str(hello)], timeout=120)
    rc_ref, ref, _, _ = sh([*SIMPLE, "run", str(hello)], timeout=120)
    if rc == 0 and rc_ref == 0 and out == ref:
        return True, ""
    return False, reason(err) or f"exit {rc}"


def machine_lines(engines: dict[str, bool]) -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    rev = (
        subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
        ).stdout.strip()
        or "unknown"
    )
    llvm = subprocess.run(
        [
            PY,
            "-c",
            "import llvmlite, llvmlite.binding as b; print(llvmlite.__version__,"
            " '.'.join(map(str, b.llvm_version_info)))",
        ],
        capture_output=True,
        text=True,
    ).stdout.split()
    numba = (
        subprocess.run(
            [PY, "-c", "import numba; print(numba.__version__)"], capture_output=True, text=True
        ).stdout.strip()
        if engines.get("numba")
        else "not available"
    )
    lines = [
        f"- CPU: {cpu}, {os.cpu_count()} cores (a shared machine: expect a few % of noise)",
        f"- OS: {platform.platform()}",
        f"- Simple: {version([*SIMPLE, '--version'])} at git {rev}, llvmlite "
        f"{llvm[0] if llvm else '?'} (LLVM {llvm[1] if len(llvm) > 1 else '?'})",
        f"- {version(['gcc', '--version'])}",
        f"- tcc: {version(['tcc', '-v'])}",
        f"- {version(['luajit', '-v'])}",
        f"- CPython {version([PY, '-c', 'import platform; print(platform.python_version())'])}"
        f" (the project's venv interpreter), Numba {numba}",
        f"- measured {time.strftime('%Y-%m-%d %H:%M')}",
    ]
    return lines


class Suite:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.programs = args.only.split(",") if args.only else PROGRAMS
        self.available: dict[str, bool] = {}
        self.why_unavailable: dict[str, str] = {}
        self.results: dict[str, dict[str, Outcome]] = {}
        self.compile: dict[str, dict[str, float | str]] = {}
        self.expected: dict[str, str] = {}
        self.errors: list[str] = []
        self.argv: dict[str, dict[str, list[str]]] = {}

    # ---- setup ----------------------------------------------------------

    def probe_engines(self) -> None:
        for tool, key in (
            ("gcc", "gcc-O2"),
            ("gcc", "gcc-O0"),
            ("tcc", "tcc"),
            ("luajit", "luajit"),
        ):
            self.available[key] = shutil.which(tool) is not None
            if not self.available[key]:
                self.why_unavailable[key] = f"{tool} not installed"
        self.available["simple-jit"] = self.available["simple-aot"] = True
        ok, why = probe_cranelift()
        self.available["simple-cranelift"] = ok
        if not ok:
            self.why_unavailable["simple-cranelift"] = (
                f"`simple run --backend cranelift` fails: {why}"
            )
        self.available["numba"] = have_numba()
        if not self.available["numba"]:
            self.why_unavailable["numba"] = "numba could not be imported"
        self.available["cpython"] = not self.args.skip_cpython
        if self.args.skip_cpython:
            self.why_unavailable["cpython"] = "skipped (--skip-cpython)"
        if not self.available["gcc-O2"]:
            raise SystemExit("gcc is needed: every ratio is to gcc -O2")

    def build(self, prog: str) -> None:
        """Compile the C and Simple versions (timing the compilers) and decide each argv."""
        res = self.results[prog] = {k: Outcome() for k in ENGINES}
        argv: dict[str, list[str]] = {}
        comp: dict[str, float | str] = {}
        c_src, spl = SUITE / f"{prog}.c", SUITE / f"{prog}.spl"
        exe = {
            k: self.tmp / f"{prog}.{k}"
            for k in ("gcc-O2", "gcc-O0", "tcc", "simple-aot", "simple-aot0")
        }
        commands = {
            "gcc-O2": ["gcc", "-O2", "-o", str(exe["gcc-O2"]), str(c_src), "-lm"],
            "gcc-O0": ["gcc", "-O0", "-o", str(exe["gcc-O0"]), str(c_src), "-lm"],
            "tcc": ["tcc", "-o", str(exe["tcc"]), str(c_src), "-lm"],
        }
        # Simple: tier-2 programs are pending until the checker accepts them.
        rc, _, err, _ = sh([*SIMPLE, "check", str(spl)])
        simple_state = "ok"
        if rc != 0:
            simple_state = "pending" if not_supported(err) else "error"
            for k in SIMPLE_ENGINES:
                res[k].status = simple_state
                res[k].note = reason(err)
            if simple_state == "error":
                self.errors.append(f"{prog}: `simple check` fails: {reason(err)}")
        else:
            commands["simple-aot"] = [
                *SIMPLE,
                "build",
                "-O2",
                "-o",
                str(exe["simple-aot"]),
                str(spl),
            ]
            commands["simple-aot0"] = [
                *SIMPLE,
                "build",
                "-O0",
                "-o",
                str(exe["simple-aot0"]),
                str(spl),
            ]
        samples: dict[str, list[float]] = {k: [] for k in commands}
        failed: dict[str, str] = {}
        for _ in range(self.args.compile_reps):
            for key, cmd in commands.items():
                if key in failed or not self.available.get(key.replace("-aot0", "-aot"), False):
                    continue
                rc, _, err, dt = sh(cmd)
                if rc != 0:
                    failed[key] = err
                else:
                    samples[key].append(dt)
        for key, ts in samples.items():
            if ts:
                comp[key] = statistics.median(ts)
            elif key in failed:
                comp[key] = "pending" if not_supported(failed[key]) else "error"
        self.compile[prog] = comp
        for key in ("gcc-O2", "gcc-O0", "tcc"):
            if not self.available[key]:
                res[key].status, res[key].note = "unavailable", self.why_unavailable[key]
            elif key in failed:
                res[key].status, res[key].note = "error", reason(failed[key])
                self.errors.append(f"{prog}: {ENGINES[key]} compile fails: {reason(failed[key])}")
            else:
                argv[key] = [str(exe[key])]
        if simple_state == "ok":
            if "simple-aot" in failed:
                res["simple-aot"].status = (
                    "pending" if not_supported(failed["simple-aot"]) else "error"
                )
                res["simple-aot"].note = reason(failed["simple-aot"])
                if res["simple-aot"].status == "error":
                    self.errors.append(
                        f"{prog}: `simple build -O2` fails: {res['simple-aot'].note}"
                    )
            else:
                argv["simple-aot"] = [str(exe["simple-aot"])]
            argv["simple-jit"] = [*SIMPLE, "run", "-O2", "--time", str(spl)]
            if self.available["simple-cranelift"]:
                argv["simple-cranelift"] = [*SIMPLE, "run", "--backend", "cranelift", str(spl)]
            else:
                res["simple-cranelift"].status = "unavailable"
        if self.available["luajit"]:
            argv["luajit"] = ["luajit", str(SUITE / f"{prog}.lua")]
        else:
            res["luajit"].status = "unavailable"
        numba_src = SUITE / f"{prog}_numba.py"
        if not numba_src.exists():
            res["numba"].status, res["numba"].note = (
                "n/a",
                "no Numba version (Numba has no fast text)",
            )
        elif self.available["numba"]:
            argv["numba"] = [PY, str(numba_src)]
        else:
            res["numba"].status = "unavailable"
        if self.available["cpython"]:
            argv["cpython"] = [PY, str(SUITE / f"{prog}.py")]
        else:
            res["cpython"].status = "unavailable"
        self.argv[prog] = argv

    # ---- running --------------------------------------------------------

    def run_once(self, prog: str, key: str, timeout: float) -> None:
        out = self.results[prog][key]
        if out.status != "ok":
            return
        rc, stdout, stderr, dt = sh(self.argv[prog][key], timeout=timeout)
        if rc == -999:
            out.status, out.lower_bound = "timeout", dt
            return
        if rc != 0:
            if key in SIMPLE_ENGINES and not_supported(stderr):
                out.status, out.note = "pending", reason(stderr)
            else:
                out.status, out.note = "error", reason(stderr) or f"exit {rc}"
                self.errors.append(f"{prog}: {ENGINES[key]} exits {rc}: {out.note}")
            return
        if prog not in self.expected:
            self.expected[prog] = stdout
        elif stdout != self.expected[prog]:
            out.status = "mismatch"
            out.note = f"printed {stdout.split()!r}, expected {self.expected[prog].split()!r}"
            self.errors.append(f"{prog}: {ENGINES[key]} output differs: {out.note}")
            return
        out.times.append(dt)
        m = re.search(r"^run\s+([0-9.]+) ms", stderr, re.M)  # simple run --time
        if m:
            out.run_phase.append(float(m.group(1)) / 1000)
        m = re.search(r"^run-time: ([0-9.]+)", stderr, re.M)  # the Numba programs
        if m:
            out.run_phase.append(float(m.group(1)))

    def run_program(self, prog: str) -> None:
        argv = self.argv[prog]
        # gcc -O2 first so that its output is the reference the others are checked against.
        order = [k for k in ENGINES if k in argv and k != "cpython"]
        if "gcc-O2" in order:
            order.remove("gcc-O2")
            order.insert(0, "gcc-O2")
        for r in range(self.args.reps):
            log(f"  {prog}: round {r + 1}/{self.args.reps}")
            for key in order:
                self.run_once(prog, key, RUN_TIMEOUT)
            if "cpython" in argv and r < self.args.cpython_reps:
                self.run_once(prog, "cpython", self.args.cpython_limit)

    # ---- report ---------------------------------------------------------

    def cell(self, prog: str, key: str, ratio_to: float | None = None) -> str:
        out = self.results[prog][key]
        if out.status == "ok":
            t = out.median
            assert t is not None
            return f"{t / ratio_to:.2f}x" if ratio_to else f"{t:.3f}"
        if out.status == "timeout":
            lb = out.lower_bound
            return f"> {lb / ratio_to:.0f}x" if ratio_to else f"> {lb:.0f}"
        if out.status == "pending":
            return "pending (tier 2)"
        return {"unavailable": "-", "n/a": "n/a", "mismatch": "**MISMATCH**", "error": "**ERROR**"}[
            out.status
        ]

    def report(self) -> str:
        progs = self.programs
        cols = list(ENGINES)
        L: list[str] = []
        L += [
            "## Simple against C, LuaJIT, CPython and Numba",
            "",
            "Regenerate with `bench/compare` (installs luajit, tcc and numba when missing; "
            "`--help` for options). Programs: `bench/suite/` — each written idiomatically in "
            "Simple, C, Lua and Python (plus Numba where it fits), all printing the same checksum, "
            "checked on every run against gcc -O2's output.",
            "",
            "### Machine",
            "",
            *machine_lines(self.available),
            "",
        ]
        L += [
            "### Method",
            "",
            f"- Whole-process wall time, median of {self.args.reps} runs; the engines run in "
            "alternation, round after round, for each program. JIT engines (Simple JIT, Numba) "
            "pay their start-up and compile time inside this number, as a user would; "
            "the *run phase* columns below take it out.",
            "- Simple JIT is `simple run -O2 --time FILE` (the run phase is the `run` line of "
            "`--time`); Simple AOT runs the executable from `simple build -O2`; C is compiled "
            "with `gcc -O2`, `gcc -O0` and `tcc` (linking `-lm`); Lua runs under `luajit`; "
            "Python under the project's CPython; the Numba variants compile with explicit "
            "signatures at import and print their own run time.",
            f"- CPython runs the same N as the others, {self.args.cpython_reps} time(s) per program "
            f"with a {self.args.cpython_limit:.0f} s limit; a run that hits the limit is stopped "
            "and reported as a lower bound (`> 60`).",
            "- Sizes are chosen so that gcc -O2 takes roughly 0.2-0.5 s. Checksums stay below "
            "2^53 so that LuaJIT's doubles compute them exactly.",
            "- `pending (tier 2)`: the program needs arrays (sieve, sort), which this compiler or "
            "backend does not compile yet; detected from `simple check`, `simple build` or the "
            'run saying "not supported", so the cell fills in by itself when tier 2 lands there. '
            "`-`: engine not available; `n/a`: no such variant.",
            "- The Simple nbody keeps the bodies in an array of `Body` structs and loops over "
            "the pairs like the C, Lua and Python versions; structs being values, it updates a "
            "body by copying it into a `var`, changing its fields and storing it back.",
            "",
        ]
        if not self.available["simple-cranelift"]:
            L += [
                f"- Simple Cranelift: {self.why_unavailable['simple-cranelift']} (probed once); "
                "the column fills in when the backend lands.",
                "",
            ]
        if self.args.skip_cpython:
            L += ["- CPython was skipped in this run (`--skip-cpython`).", ""]

        L += [
            "### Median wall time (seconds)",
            "",
            "| program | " + " | ".join(ENGINES[c] for c in cols) + " |",
            "| --- |" + " ---: |" * len(cols),
        ]
        for p in progs:
            L.append(f"| {p} | " + " | ".join(self.cell(p, c) for c in cols) + " |")
        L += [
            "",
            "### Ratio to gcc -O2 (lower is faster)",
            "",
            "| program | " + " | ".join(ENGINES[c] for c in cols if c != "gcc-O2") + " |",
            "| --- |" + " ---: |" * (len(cols) - 1),
        ]
        for p in progs:
            ref = self.results[p]["gcc-O2"].median
            if ref is None:
                L.append(f"| {p} | " + " | ".join("-" for c in cols if c != "gcc-O2") + " |")
                continue
            L.append(
                f"| {p} | " + " | ".join(self.cell(p, c, ref) for c in cols if c != "gcc-O2") + " |"
            )

        # Simple JIT against the others.
        L += [
            "",
            "### Simple JIT -O2 against the others",
            "",
            "Whole process unless marked *run phase* (the time `simple run --time` reports for "
            "running main, without Python start-up and compilation; for Numba, the time "
            "around the call to the compiled function).",
            "",
            "| program | JIT / gcc -O2 | JIT run phase / gcc -O2 | AOT / gcc -O2 | "
            "CPython / JIT (speedup) | LuaJIT / JIT | Numba / JIT | Numba run phase / JIT run phase |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        geo: dict[str, list[float]] = {"jit": [], "jit_run": [], "aot": []}
        speedups: list[tuple[str, float, bool]] = []
        for p in progs:
            r = self.results[p]
            jit, jit_run, gcc = (
                r["simple-jit"].median,
                r["simple-jit"].run_median,
                r["gcc-O2"].median,
            )
            aot = r["simple-aot"].median
            if jit is None or gcc is None:
                state = self.cell(p, "simple-jit")
                L.append(f"| {p} | {state} | | | | | | |")
                continue
            geo["jit"].append(jit / gcc)
            row = [f"{jit / gcc:.2f}x"]
            if jit_run is not None:
                geo["jit_run"].append(jit_run / gcc)
                row.append(f"{jit_run / gcc:.2f}x")
            else:
                row.append("-")
            if aot is not None:
                geo["aot"].append(aot / gcc)
                row.append(f"{aot / gcc:.2f}x")
            else:
                row.append(self.cell(p, "simple-aot"))
            cp = r["cpython"]
            if cp.median is not None:
                speedups.append((p, cp.median / jit, False))
                row.append(
                    f"{cp.median / jit:.1f}x" if cp.median < 10 * jit else f"{cp.median / jit:.0f}x"
                )
            elif cp.status == "timeout":
                speedups.append((p, cp.lower_bound / jit, True))
                row.append(f"> {cp.lower_bound / jit:.0f}x")
            else:
                row.append(self.cell(p, "cpython"))
            lj = r["luajit"].median
            row.append(f"{lj / jit:.2f}" if lj is not None else self.cell(p, "luajit"))
            nb = r["numba"]
            row.append(f"{nb.median / jit:.2f}" if nb.median is not None else self.cell(p, "numba"))
            if nb.run_median is not None and jit_run:
                row.append(f"{nb.run_median / jit_run:.2f}")
            else:
                row.append("-" if nb.status == "ok" else self.cell(p, "numba"))
            L.append(f"| {p} | " + " | ".join(row) + " |")

        def gm(xs: list[float]) -> str:
            return (
                (
                    f"{math.exp(sum(map(math.log, xs)) / len(xs)):.2f}x over {len(xs)} "
                    f"program{'s' if len(xs) != 1 else ''}"
                )
                if xs
                else "n/a"
            )

        L += [
            "",
            "LuaJIT / JIT and Numba / JIT above 1 mean Simple is faster.",
            "",
            "### Summary",
            "",
            f"- **Geometric mean, Simple JIT -O2 / gcc -O2 (whole process): {gm(geo['jit'])}** "
            "(target: within 1.3x)",
            f"- Geometric mean, Simple JIT run phase / gcc -O2: {gm(geo['jit_run'])}",
            f"- Geometric mean, Simple AOT -O2 / gcc -O2: {gm(geo['aot'])}",
        ]
        if speedups:
            worst = min(speedups, key=lambda s: s[1])
            L.append(
                f"- Speedup of Simple JIT over CPython: lowest {'> ' if worst[2] else ''}"
                f"{worst[1]:.1f}x ({worst[0]}), highest "
                f"{max(s[1] for s in speedups):.0f}x (target: at least 30x on every program)"
            )
            # What the best compiler reaches on the same programs: gcc -O2's own speedup.
            capped = []
            for p, _, _ in speedups:
                py_t = self.results[p]["cpython"].median
                c_t = self.results[p]["gcc-O2"].median
                if py_t is not None and c_t is not None and py_t / c_t < 30:
                    capped.append(f"{p} {py_t / c_t:.1f}x")
            if capped:
                L.append(
                    "- gcc -O2 itself is less than 30x faster than CPython on: "
                    + ", ".join(capped)
                    + " (no compiler meets the 30x target there; see *Why Simple loses*)"
                )
        pend = [p for p in progs if self.results[p]["simple-jit"].status == "pending"]
        if pend:
            L.append(f"- Pending in Simple (tier 2): {', '.join(pend)}")
        beaten = []
        for p in progs:
            r = self.results[p]
            jit, jit_run = r["simple-jit"].median, r["simple-jit"].run_median
            if jit is None:
                continue
            for key, label in (("luajit", "LuaJIT"), ("numba", "Numba")):
                other = r[key]
                if other.median is not None and other.median < jit:
                    beaten.append(f"{label} on {p} (whole process)")
                elif other.run_median is not None and jit_run and other.run_median < jit_run:
                    beaten.append(f"{label} on {p} (run phase)")
        L.append(
            "- Where LuaJIT or Numba beat Simple JIT: "
            + (", ".join(beaten) if beaten else "nowhere")
            + (" (see *Why Simple loses*)" if beaten else "")
        )

        # Compile times.
        L += [
            "",
            "### Compile time, source to executable (seconds, median)",
            "",
            "`simple build` is a whole process: Python start-up (~0.1 s), the front end, "
            "MIR passes, LLVM and the link; gcc and tcc include their link too.",
            "",
            "| program | gcc -O0 | gcc -O2 | tcc | simple build -O0 | simple build -O2 | "
            "simple -O2 / gcc -O2 |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for p in progs:
            c = self.compile.get(p, {})

            def fmt(v: float | str | None) -> str:
                if v is None:
                    return "-"
                if isinstance(v, str):
                    return "pending (tier 2)" if v == "pending" else "**ERROR**"
                return f"{v:.3f}"

            s2, g2 = c.get("simple-aot"), c.get("gcc-O2")
            ratio = f"{s2 / g2:.1f}x" if isinstance(s2, float) and isinstance(g2, float) else "-"
            L.append(
                f"| {p} | {fmt(c.get('gcc-O0'))} | {fmt(g2)} | {fmt(c.get('tcc'))} | "
                f"{fmt(c.get('simple-aot0'))} | {fmt(s2)} | {ratio} |"
            )

        L += [
            "",
            "### Why Simple loses where it loses",
            "",
            "Found by reading `simple run --emit llvm-ir` for the programs; the numbers above "
            "say how much each costs today.",
            "",
            "- Whole process vs run phase: `simple run` starts CPython, imports the compiler and "
            "llvmlite and compiles before main runs: about 0.06-0.1 s of CPU on these programs "
            "(`--time`), and roughly twice that in wall time when both cores are busy. On "
            "programs that run 0.2-0.4 s that is most of the difference between the JIT's "
            "whole-process ratio and its run-phase ratio (fib, sort, mandelbrot); the run phase "
            "and the AOT executable show the generated code itself. Where it goes, in CPU time "
            "for hello world (about 60 ms): CPython itself ~8 ms; importing `llvmlite.binding` "
            "~27 ms (its `importlib.resources` pulls in zipfile, tempfile and the compression "
            "modules, then the 180 MB `libllvmlite.so` is loaded); the compiler's imports and "
            "front end ~8 ms; loading the runtime and creating target machines ~4 ms; then IR "
            "generation, optimisation and MCJIT code generation, 10-50 ms here, growing with the "
            "program (sort and nbody are the largest). The process no longer pays for "
            "interpreter teardown and LLVM's static destructors (it ends with `os._exit` after "
            "flushing: ~10 ms CPU and up to 30 ms of wall time) nor for the cyclic GC while it "
            "compiles (~6 ms). What is left is llvmlite's import and LLVM's own work, which only "
            "a cache of compiled programs or a resident compiler process would remove. Since "
            "then `simple run` builds only its own subcommand's argument parser, hashes the "
            "runtime sources once with CPython's built-in SHA-256 instead of importing "
            "`hashlib` (which loads OpenSSL), and makes one target machine fewer: about 3 ms "
            "less CPU for hello world (61 -> 58 ms: `perf stat -e cpu-clock`, 4 alternating "
            "rounds of 20 runs each, every round 1.3-4 ms apart, on a loaded machine where "
            "importing `llvmlite.binding` alone took 47 ms).",
            '- text: `line += ":" + n.to_text()` appends in place: the line is held only by '
            "`line` (refcount 1), so `rt_text_append` writes into the spare room of its block, "
            "grown geometrically, and the right-hand side is fused into the append, so the number "
            "is formatted straight into the line with no temporary texts (`llvm/textfuse.py`). "
            "That is two or three allocations per line (one malloc, then reallocs that often "
            "grow in place) where there were 24; the run phase is below "
            "gcc -O2's (whose `snprintf` interprets its format for every number), and what is "
            "left of the whole-process gap is start-up.",
            "- sieve: `[bool]` elements are packed one byte each (as C's `bool`; they were 64-bit "
            "slots, eight times the memory traffic), and TBAA metadata lets LLVM keep the length "
            "and data pointer in registers across the strided stores, where it reloaded both "
            "after every store; the bounds check is one unsigned compare. What is left is the "
            "fill: 80 M pushes, each loading and storing the length through memory (a "
            "store-to-load chain from one iteration to the next) with the buffer regrown by "
            "doubling, where C makes one `calloc`; a `[v] * n`-style constructor or reserved "
            "capacity would remove it.",
            "- sort: every `a[i]` keeps a bounds check (one compare and a predictable branch) "
            "that C does not make; the length and data pointer stay in registers across the "
            "swaps (TBAA), negative indices are handled off the hot path, and the decrefs of "
            "registers LLVM can see are null no longer call the runtime, so the run phase is "
            "within a few % of gcc -O2.",
            "- nbody: structs are values, so `b.vx -= ...` on `var b = bodies[i]` gives `b` a "
            "new struct. Built as it reads, every field assignment cloned the heap record (a "
            "malloc, a copy and atomic reference counts: 225 M allocations, ~30x gcc -O2). "
            "Three changes make it C's loop: the MIR pass `unbox` keeps a mutated struct "
            "variable whose fields are scalars in one register per field (a record is built "
            "only where the value escapes); storing it back (`bodies[j] = b2`) overwrites the "
            "element's record in place when the array holds the only reference to it "
            "(`mir/recordfuse.py`); and reads of a global (`bodies`) borrow its reference "
            "instead of counting it, up to the next call or store of a global. What is left "
            "per access is a bounds check and a reference-count test.",
            "- Numba pays a start-up of its own (importing numba takes about 0.5 s) before "
            "it compiles; the *Numba run phase / JIT run phase* column compares the code alone.",
            "- CPython is less than 30x slower where the work is mostly in C inside CPython "
            "(text: str formatting and joining; sieve and sort: list indexing), and on loop, "
            "where even gcc -O2 is only ~15x faster than CPython: the loop is one 64-bit "
            "multiply-and-remainder dependency chain. On these four no compiler reaches 30x "
            "(the summary gives gcc -O2's own speedup). On mandelbrot gcc -O2 reaches ~36x and "
            "Simple's code is as fast as gcc's (run phase and AOT), but the JIT's start-up and "
            "compile (~70 ms of a 0.3 s process, first bullet) keep its whole-process speedup "
            "just under 30x.",
            "- LuaJIT on mandelbrot (whole process): LuaJIT starts in a few milliseconds and "
            "traces this float loop into code about as fast as gcc's; Simple's run phase is "
            "within a few % of gcc's, so what LuaJIT saves is Simple's start-up and compile.",
            "- Numba's run phase on nbody: Numba's bodies are one contiguous 2-D NumPy array of "
            "doubles indexed without bounds checks (Numba's default), and its `advance` loops "
            "over the steps inside compiled code. Simple's are an array of pointers to struct "
            "records; every `bodies[i]` is bounds-checked (an index error is a runtime error "
            "in Simple, never undefined behaviour) and every store back tests the record's "
            "count. (Both are ahead of gcc -O2 here, whose `b->vx -= ...` through two pointers "
            "into one array must reload fields that might alias; Simple's struct variables "
            "live in registers. The same C with each body copied into a local and stored "
            "back, as Simple's value semantics do, runs in about half gcc's time: 0.13 s "
            "against 0.25 s on this machine.)",
            "- Numba's run phase on mandelbrot: the same loop through LLVM in both; the two "
            "differ by a few %, about the noise of this machine, and trade places from run to "
            "run.",
        ]
        L += ["", "### Problems", ""]
        L += (
            [f"- **{e}**" for e in self.errors] if self.errors else ["- none: every output agreed."]
        )
        notes = sorted(
            {
                f"{ENGINES[k]}: {o.note}"
                for p in progs
                for k, o in self.results[p].items()
                if o.note and o.status in ("pending",)
            }
        )
        if notes:
            L += ["", "Pending reasons reported by the compiler:", ""] + [f"- {n}" for n in notes]
        return "\n".join(L) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--reps", type=int, default=5, help="rounds per program (default 5)")
    ap.add_argument("--quick", action="store_true", help="3 rounds, 1 compile rep")
    ap.add_argument("--compile-reps", type=int, default=3, help="compiler timings per program")
    ap.add_argument(
        "--cpython-reps", type=int, default=1, help="CPython runs per program (default 1)"
    )
    ap.add_argument(
        "--cpython-limit", type=float, default=60.0, help="seconds before a CPython run is stopped"
    )
    ap.add_argument("--skip-cpython", action="store_true", help="leave CPython out")
    ap.add_argument("--only", help="comma-separated program names")
    ap.add_argument(
        "-o", default=str(ROOT / "BENCHMARKS.md"), help="file whose compare section is rewritten"
    )
    ap.add_argument("--print-only", action="store_true", help="print the section, write no file")
    args = ap.parse_args()
    if args.quick:
        args.reps, args.compile_reps = 3, 1
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="simple-compare-") as tmp:
        suite = Suite(args, Path(tmp))
        suite.probe_engines()
        for prog in suite.programs:
            if not (SUITE / f"{prog}.spl").exists():
                raise SystemExit(f"no such program: {prog}")
            log(f"{prog}: compiling")
            suite.build(prog)
            suite.run_program(prog)
        text = suite.report()
    text += f"\nThis comparison took {time.perf_counter() - t0:.0f} s.\n"
    print(text)
    if not args.print_only:
        write_section(Path(args.o), "compare", text)
        log(f"wrote the compare section of {args.o}")
    return 1 if suite.errors else 0


if __name__ == "__main__":
    sys.exit(main())
