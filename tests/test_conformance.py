"""Conformance: run every program of the corpus through the ``simple`` CLI.

A case is ``NAME.spl`` plus ``NAME.out`` (exact stdout), optionally ``NAME.code``
(exit code, default 0), ``NAME.status`` (``compile-error`` or ``runtime-error``)
and ``NAME.stderr`` (lines that must each appear in stderr).  Cases come from
``tests/programs/{tier1,tier2,errors}`` and, when it exists, from
``../shared/conformance`` next to the repository (skipped cleanly otherwise).

COVERAGE below is the single place that says what is tested today.  Adding a
backend (``"llvm"``, ``"cranelift"``) or turning tier 2 on is an edit of that
table and nothing else.

Subprocesses are started in a thread pool as soon as the first test of this
module runs (only for the tests pytest actually collected), so the module
keeps both cores busy without pytest-xdist.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

# ---------------------------------------------------------------------------
# What is covered today: (backend, tier) -> mode.
#   "run"   compile and run with that backend at every level of OPT_LEVELS and
#           compare stdout, exit code and stderr with the expectation files;
#   "check" only `simple check`: it must produce no diagnostic other than
#           ones saying "not yet supported" (for tiers the checker lacks).
# Tier "errors" holds the tier-1 error programs; tier-2 error programs live in
# tier2/ (with a .status file) so that they follow tier 2's row.
# Backend "aot" means `simple build` (LLVM, ahead of time) and then running
# the executable it wrote.
COVERAGE: dict[tuple[str, str], str] = {
    ("interpreter", "tier1"): "run",
    ("interpreter", "errors"): "run",
    ("interpreter", "tier2"): "run",
    ("llvm", "tier1"): "run",
    ("llvm", "errors"): "run",
    ("llvm", "tier2"): "run",
    ("aot", "tier1"): "run",
    ("aot", "errors"): "run",
    ("aot", "tier2"): "run",
    ("cranelift", "tier1"): "run",
    ("cranelift", "errors"): "run",
    ("cranelift", "tier2"): "run",
}
OPT_LEVELS: tuple[str, ...] = ("-O0", "-O2")
# ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
OWN_DIR = ROOT / "tests" / "programs"
SHARED_DIR = ROOT.parent / "shared" / "conformance"
TIERS = ("tier1", "tier2", "errors")
# Programs of the shared errors/ folder that need tier-2 features.
SHARED_TIER2_ERRORS = frozenset({"index_oob"})

EXIT_COMPILE_ERROR = 1
EXIT_RUNTIME_ERROR = 101
TIMEOUT = 300.0
DIAGNOSTIC = re.compile(r":\d+:\d+: (?:runtime )?error:")


@dataclass(frozen=True)
class Case:
    origin: str  # "own" or "shared"
    tier: str  # effective tier: "tier1", "tier2" or "errors"
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem

    def sibling(self, ext: str) -> Path:
        return self.path.with_suffix(ext)

    def read(self, ext: str) -> str | None:
        p = self.sibling(ext)
        return p.read_text(encoding="utf-8") if p.exists() else None


@dataclass(frozen=True)
class Job:
    case: Case
    mode: str  # "run" or "check"
    backend: str
    opt: str  # "" for check

    @property
    def id(self) -> str:
        base = f"{self.case.origin}/{self.case.tier}/{self.case.name}"
        if self.mode == "check":
            return f"{base}-check"
        return f"{base}-{self.backend}{self.opt}"

    def argv(self) -> list[str]:
        cli = [sys.executable, "-m", "simple_jit.cli"]
        file = display_path(self.case.path)
        if self.mode == "check":
            return [*cli, "check", file]
        return [*cli, "run", "--backend", self.backend, self.opt, file]


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: bytes
    stderr: str


def display_path(path: Path) -> str:
    """The path handed to the CLI: relative to the repo when possible."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def discover(base: Path, origin: str) -> list[Case]:
    cases = []
    for tier in TIERS:
        for spl in sorted((base / tier).glob("*.spl")):
            eff = tier
            if origin == "shared" and tier == "errors" and spl.stem in SHARED_TIER2_ERRORS:
                eff = "tier2"
            cases.append(Case(origin, eff, spl))
    return cases


def all_jobs() -> list[Job]:
    cases = discover(OWN_DIR, "own")
    if SHARED_DIR.is_dir():
        cases += discover(SHARED_DIR, "shared")
    jobs = []
    for case in cases:
        for (backend, tier), mode in COVERAGE.items():
            if tier != case.tier:
                continue
            if mode == "check":
                jobs.append(Job(case, "check", backend, ""))
            else:
                jobs.extend(Job(case, "run", backend, opt) for opt in OPT_LEVELS)
    # one `check` per program is enough even if several backends list it
    unique = {(j.case, j.mode, "" if j.mode == "check" else j.backend, j.opt): j for j in jobs}
    return list(unique.values())


JOBS = all_jobs()


def execute(job: Job) -> Result:
    if job.backend == "aot" and job.mode == "run":
        return execute_aot(job)
    return _run(job.argv())


def execute_aot(job: Job) -> Result:
    """Build an executable with `simple build`, then run it."""
    with tempfile.TemporaryDirectory(prefix="simple-aot-") as tmp:
        exe = os.path.join(tmp, job.case.name)
        cli = [sys.executable, "-m", "simple_jit.cli"]
        built = _run([*cli, "build", job.opt, "-o", exe, display_path(job.case.path)])
        if built.returncode != 0 or built.stdout:
            return built
        ran = _run([exe])
        return Result(ran.returncode, ran.stdout, built.stderr + ran.stderr)


def _run(argv: list[str]) -> Result:
    try:
        proc = subprocess.run(
            argv,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=TIMEOUT,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        return Result(-999, out, f"TIMEOUT after {TIMEOUT}s")
    return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))


class _Pool:
    """Starts every collected job of this module at once; tests wait on theirs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._futures: dict[Job, Future[Result]] = {}

    def prime(self, jobs: list[Job]) -> None:
        with self._lock:
            if self._executor is None:
                workers = max(2, os.cpu_count() or 2)
                self._executor = ThreadPoolExecutor(max_workers=workers)
            for job in jobs:
                if job not in self._futures:
                    self._futures[job] = self._executor.submit(execute, job)

    def result(self, job: Job) -> Result:
        self.prime([job])
        return self._futures[job].result()

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


@pytest.fixture(scope="module")
def pool(request: pytest.FixtureRequest) -> Iterator[_Pool]:
    p = _Pool()
    collected = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("job"), Job):
            collected.append(callspec.params["job"])
    p.prime(collected)
    yield p
    p.shutdown()


def _params() -> list[object]:
    params: list[object] = [pytest.param(j, id=j.id) for j in JOBS]
    if not SHARED_DIR.is_dir():
        params.append(
            pytest.param(
                None,
                id="shared-conformance",
                marks=pytest.mark.skip(reason=f"{SHARED_DIR} does not exist"),
            )
        )
    return params


def _describe(job: Job, res: Result) -> str:
    return (
        f"\n$ {' '.join(job.argv())}\nexit code: {res.returncode}\n"
        f"--- stdout ---\n{res.stdout.decode('utf-8', 'replace')}"
        f"--- stderr ---\n{res.stderr}"
    )


def check_run(job: Job, res: Result) -> None:
    case = job.case
    status = (case.read(".status") or "").strip()
    expected_out = case.sibling(".out").read_bytes() if case.sibling(".out").exists() else b""
    code_text = case.read(".code")
    if status == "compile-error":
        expected_code = EXIT_COMPILE_ERROR
        expected_out = b""
    elif status == "runtime-error":
        expected_code = EXIT_RUNTIME_ERROR
    else:
        assert status == "", f"unknown status {status!r} in {case.sibling('.status')}"
        expected_code = int(code_text.strip()) if code_text else 0
    info = _describe(job, res)
    assert "Traceback" not in res.stderr, "the CLI leaked a Python traceback" + info
    assert res.stdout == expected_out, (
        "stdout differs\n--- expected ---\n" + expected_out.decode("utf-8", "replace") + info
    )
    assert res.returncode == expected_code, f"exit code {res.returncode} != {expected_code}" + info
    for line in (case.read(".stderr") or "").splitlines():
        if line.strip():
            assert line in res.stderr, f"stderr lacks {line!r}" + info
    if status == "runtime-error":
        assert "runtime error:" in res.stderr, info
    if status == "compile-error":
        assert ": error:" in res.stderr, info


def check_only(job: Job, res: Result) -> None:
    info = _describe(job, res)
    assert "Traceback" not in res.stderr, "the CLI leaked a Python traceback" + info
    assert res.returncode in (0, EXIT_COMPILE_ERROR), info
    assert res.stdout == b"", "`simple check` must not run the program" + info
    diags = [ln for ln in res.stderr.splitlines() if DIAGNOSTIC.search(ln)]
    unexpected = [d for d in diags if "not yet supported" not in d]
    assert not unexpected, "diagnostics other than 'not yet supported'" + info
    if res.returncode == EXIT_COMPILE_ERROR:
        assert diags, "exit code 1 without any diagnostic" + info


@pytest.mark.parametrize("job", _params())
def test_conformance(job: Job, pool: _Pool) -> None:
    res = pool.result(job)
    if job.mode == "check":
        check_only(job, res)
    else:
        check_run(job, res)


def test_corpus_is_complete() -> None:
    """Every case has its .out file and well-formed expectation files."""
    cases = discover(OWN_DIR, "own")
    assert len([c for c in cases if c.tier == "tier1"]) >= 60
    assert len([c for c in cases if c.tier == "errors"]) >= 25
    assert len([c for c in cases if c.tier == "tier2"]) >= 15
    for case in cases:
        assert case.sibling(".out").exists(), f"{case.path} has no .out"
        status = (case.read(".status") or "").strip()
        assert status in ("", "compile-error", "runtime-error"), case.path
        if case.tier == "errors":
            assert status, f"{case.path}: programs in errors/ must have a .status"
            assert case.read(".stderr"), f"{case.path}: error programs need a .stderr"
        if status == "compile-error":
            assert case.sibling(".out").read_bytes() == b"", case.path
        if case.sibling(".code").exists():
            assert not status, f"{case.path}: .code and .status exclude each other"
            assert 0 <= int((case.read(".code") or "").strip()) <= 255
