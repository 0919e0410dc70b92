"""Texts are reclaimed: building and dropping texts in a loop keeps memory flat.

Each program runs in a fresh process (JIT through the CLI, and as an AOT
executable) that reports its peak RSS; ten times more iterations must not
need noticeably more memory.  In-process, the runtime's live-text counter
must come back to where it started after a manager call that builds
millions of texts.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PROGRAM = textwrap.dedent(
    """\
    fn build(i: i64) -> text:
        val s = "item " + i.to_text()
        s + "/" + (i % 7).to_text()

    fn main():
        var total = 0
        var i = 0
        while i < {n}:
            total += build(i).len()
            i += 1
        print total
    """
)

_MEASURE = textwrap.dedent(
    """\
    import resource, sys
    from simple_jit.cli import main
    code = main(sys.argv[1:])
    sys.stdout.flush()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
    sys.exit(code)
    """
)


def _peak_rss_kib(argv: list[str]) -> tuple[int, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.strip().splitlines()[-1]), proc.stdout


def _expected_total(n: int) -> int:
    return sum(len(f"item {i}/{i % 7}") for i in range(n))


def test_jit_text_loop_memory_is_flat(tmp_path: Path) -> None:
    peaks = []
    for n in (1_000_000, 10_000_000):
        src = tmp_path / f"loop{n}.spl"
        src.write_text(PROGRAM.format(n=n))
        peak, out = _peak_rss_kib([sys.executable, "-c", _MEASURE, "run", "-O2", str(src)])
        if n == 1_000_000:
            assert out == f"{_expected_total(n)}\n"
        peaks.append(peak)
    small, large = peaks
    assert large <= small * 1.10, f"peak RSS grew from {small} KiB to {large} KiB"


def test_aot_text_loop_memory_is_flat(tmp_path: Path) -> None:
    peaks = []
    for n in (1_000_000, 10_000_000):
        src = tmp_path / f"loop{n}.spl"
        src.write_text(PROGRAM.format(n=n))
        exe = tmp_path / f"loop{n}"
        subprocess.run(
            [sys.executable, "-m", "simple_jit.cli", "build", "-O2", "-o", str(exe), str(src)],
            check=True,
            timeout=300,
        )
        measure = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, subprocess, sys\n"
                "subprocess.run([sys.argv[1]], stdout=subprocess.DEVNULL, check=True)\n"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)",
                str(exe),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        peaks.append(int(measure.stdout.strip()))
    small, large = peaks
    assert large <= small * 1.10, f"peak RSS grew from {small} KiB to {large} KiB"


def test_manager_calls_leave_no_live_texts() -> None:
    pytest.importorskip("llvmlite")
    from simple_jit.manager import ExecManager
    from simple_jit.runtime import load_runtime

    rt = load_runtime()
    with ExecManager("llvm") as m:
        m.compile_source(
            PROGRAM.format(n=0) + "\nfn spin(n: i64) -> i64:\n"
            "    var total = 0\n    for i in 0..n:\n"
            "        total += build(i).len()\n    total\n"
        )
        before = rt.rt_live_text_count()
        assert m.call("spin", 2_000_000) == _expected_total(2_000_000)
        assert m.call("build", 42) == "item 42/0"
        assert rt.rt_live_text_count() == before
