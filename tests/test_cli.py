"""The command-line contract of ``simple``: commands, options and exit codes.

Exit codes: main's i64 result (low 8 bits) or 0; 1 compile error; 101 runtime
error; 2 command-line usage error; 70 internal compiler error.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HELLO = "tests/programs/tier1/hello.spl"
GLOBALS = "tests/programs/tier1/script_globals.spl"
GOOD = "tests/programs/tier1/fib.spl"
BAD = "tests/programs/errors/type_mismatch.spl"
RUNTIME_BAD = "tests/programs/errors/div_zero.spl"
CARET_LINE = re.compile(r"^[ \d|]*\^+\s*$", re.MULTILINE)

# A program whose output cannot appear in a dump of its own AST/HIR/MIR: the
# text is built by a loop at run time, and main's result is a non-zero exit code.
EMIT_PROGRAM = """\
fn main() -> i64:
    var s = ""
    for i in 0..3:
        s += "q"
    print "[" + s + "]"
    7
"""


def simple(
    *args: str, stdin: bytes | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simple_jit.cli", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout


@pytest.fixture
def emit_file(tmp_path: Path) -> Path:
    p = tmp_path / "emit_me.spl"
    p.write_text(EMIT_PROGRAM, encoding="utf-8")
    return p


def test_help_explains_commands() -> None:
    proc = simple("--help")
    assert proc.returncode == 0, proc.stderr
    for word in ("run", "check", "eval"):
        assert word in proc.stdout
    no_traceback(proc)


def test_run_help_lists_options() -> None:
    proc = simple("run", "--help")
    assert proc.returncode == 0, proc.stderr
    for word in ("--backend", "-O", "--emit", "--time", "--fuel", "FILE"):
        assert word in proc.stdout, word


def test_check_and_eval_help() -> None:
    for cmd in ("check", "eval"):
        proc = simple(cmd, "--help")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip()


def test_run_hello() -> None:
    proc = simple("run", HELLO)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "Hello, Simple!\n", "")


@pytest.mark.parametrize("path", [HELLO, GLOBALS, RUNTIME_BAD, BAD])
def test_bare_file_equals_run(path: str) -> None:
    a = simple(path)
    b = simple("run", path)
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


def test_main_result_is_exit_code() -> None:
    proc = simple("run", GLOBALS)
    assert proc.returncode == 43
    assert proc.stdout == "start\ncalls = 2\n"


def test_check_good_program_is_silent() -> None:
    proc = simple("check", GOOD)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_check_does_not_run(tmp_path: Path) -> None:
    p = tmp_path / "prints.spl"
    p.write_text('print "side effect"\nfn main() -> i64: 9\n', encoding="utf-8")
    proc = simple("check", str(p))
    assert (proc.returncode, proc.stdout) == (0, "")


def test_check_bad_program_reports_with_caret() -> None:
    proc = simple("check", BAD)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"{BAD}:4:" in proc.stderr
    assert ": error: " in proc.stderr
    assert "print n + s" in proc.stderr, "the source line is quoted"
    assert CARET_LINE.search(proc.stderr), proc.stderr
    no_traceback(proc)


def test_compile_error_format_and_nothing_runs() -> None:
    path = "tests/programs/errors/nothing_runs.spl"
    proc = simple("run", path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    first = proc.stderr.splitlines()[0]
    assert re.match(rf"^{re.escape(path)}:\d+:\d+: error: .+", first), first
    assert CARET_LINE.search(proc.stderr), proc.stderr


def test_runtime_error_format() -> None:
    proc = simple("run", RUNTIME_BAD)
    assert proc.returncode == 101
    assert proc.stdout == "before\n"
    assert re.search(
        rf"^{re.escape(RUNTIME_BAD)}:2:7: runtime error: .*division by zero",
        proc.stderr,
        re.MULTILINE,
    ), proc.stderr
    no_traceback(proc)


def test_file_name_as_given(tmp_path: Path) -> None:
    (tmp_path / "oops.spl").write_text("fn main():\n    print nope\n", encoding="utf-8")
    proc = simple("run", "oops.spl", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith("oops.spl:2:11: error:"), proc.stderr


@pytest.mark.parametrize(
    ("expr", "out"),
    [
        ("1 + 2", "3\n"),
        ('"a" + "b"', "ab\n"),
        ("2 ** 10", "1024\n"),
        ("7 / 2.0", "3.5\n"),
        ("1 < 2 < 3", "true\n"),
        ("-2 ** 2", "4\n"),
        ("sqrt(16.0)", "4\n"),
        ('"x".repeat(3)', "xxx\n"),
    ],
)
def test_eval(expr: str, out: str) -> None:
    proc = simple("eval", expr)
    assert (proc.returncode, proc.stdout) == (0, out), proc.stderr


def test_eval_errors() -> None:
    proc = simple("eval", "1 / 0")
    assert proc.returncode == 101
    assert "division by zero" in proc.stderr
    assert "<source>" in proc.stderr or "<eval>" in proc.stderr
    proc = simple("eval", "1 + true")
    assert proc.returncode == 1
    assert ": error:" in proc.stderr
    proc = simple("eval", "nope")
    assert proc.returncode == 1
    assert "nope" in proc.stderr
    no_traceback(proc)


def test_missing_file() -> None:
    proc = simple("run", "no/such/file.spl")
    assert proc.returncode in (1, 2)
    assert "no/such/file.spl" in proc.stderr
    assert proc.stdout == ""
    no_traceback(proc)


def test_directory_instead_of_file(tmp_path: Path) -> None:
    proc = simple("run", str(tmp_path))
    assert proc.returncode in (1, 2)
    assert proc.stderr.strip()
    no_traceback(proc)


def test_invalid_utf8_is_a_diagnostic(tmp_path: Path) -> None:
    p = tmp_path / "bad.spl"
    p.write_bytes(b'fn main():\n    print "caf\xe9"\n')
    proc = simple("run", str(p))
    assert proc.returncode == 1
    assert f"{p}:2:" in proc.stderr
    assert proc.stdout == ""
    no_traceback(proc)


def test_empty_and_binary_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.spl"
    empty.write_bytes(b"")
    proc = simple("run", str(empty))
    assert (proc.returncode, proc.stdout) == (0, "")
    junk = tmp_path / "junk.spl"
    junk.write_bytes(bytes(range(256)) * 2)
    proc = simple("run", str(junk))
    assert proc.returncode == 1
    no_traceback(proc)


def test_stdin_source() -> None:
    proc = simple("run", "-", stdin=b'print "from stdin"\n')
    assert (proc.returncode, proc.stdout) == (0, "from stdin\n"), proc.stderr


@pytest.mark.parametrize("stage", ["ast", "hir", "mir"])
def test_emit_prints_stage_without_running(stage: str, emit_file: Path) -> None:
    proc = simple("run", "--emit", stage, str(emit_file))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), f"--emit {stage} printed nothing"
    assert "[qqq]" not in proc.stdout, "--emit must not run the program"
    no_traceback(proc)


def test_emit_bad_program_is_compile_error() -> None:
    proc = simple("run", "--emit", "mir", BAD)
    assert proc.returncode == 1
    assert ": error:" in proc.stderr


def test_emit_ast_of_parse_only_program(tmp_path: Path) -> None:
    """--emit ast stops after parsing: a type error does not matter."""
    p = tmp_path / "typo.spl"
    p.write_text('fn main():\n    print 1 + "a"\n', encoding="utf-8")
    proc = simple("run", "--emit", "ast", str(p))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_time_reports_phases(emit_file: Path) -> None:
    proc = simple("run", "--time", str(emit_file))
    assert proc.returncode == 7
    assert proc.stdout == "[qqq]\n", "timings go to stderr, not stdout"
    assert "parse" in proc.stderr.lower(), proc.stderr
    assert re.search(r"\d", proc.stderr)


@pytest.mark.parametrize("level", ["-O0", "-O1", "-O2", "-O3"])
def test_opt_levels(level: str, emit_file: Path) -> None:
    proc = simple("run", level, "--backend", "interpreter", str(emit_file))
    assert (proc.returncode, proc.stdout) == (7, "[qqq]\n"), proc.stderr


def test_fuel_stops_infinite_loop(tmp_path: Path) -> None:
    p = tmp_path / "spin.spl"
    p.write_text("fn main():\n    var i = 0\n    loop:\n        i += 1\n", encoding="utf-8")
    proc = simple("run", "--backend", "interpreter", "--fuel", "10000", str(p))
    assert proc.returncode == 101
    assert "runtime error" in proc.stderr
    no_traceback(proc)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--bogus", HELLO],
        ["run", "--backend", "nonexistent", HELLO],
        ["run", "-O9", HELLO],
        ["run", "--emit", "bytecode", HELLO],
        ["frobnicate", HELLO, "extra"],
        ["run"],
        ["run", "--fuel", "lots", HELLO],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    proc = simple(*argv)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.strip()
    assert proc.stdout == ""
    no_traceback(proc)


def test_version() -> None:
    proc = simple("--version")
    assert proc.returncode == 0
    assert "simple" in proc.stdout


def test_console_script_installed() -> None:
    """The `simple` entry point sits next to the interpreter running the tests."""
    exe = Path(sys.executable).parent / "simple"
    if not exe.exists():
        pytest.skip("no console script next to sys.executable (not an installed venv)")
    proc = subprocess.run(
        [str(exe), "run", HELLO], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (proc.returncode, proc.stdout) == (0, "Hello, Simple!\n")


def test_examples_run() -> None:
    """The README's main command, and every showcase example exits cleanly."""
    proc = simple("run", "examples/hello.spl")
    assert (proc.returncode, proc.stdout) == (0, "Hello, Simple!\n"), proc.stderr
    for ex in sorted((ROOT / "examples").glob("*.spl")):
        proc = simple("run", str(ex.relative_to(ROOT)))
        assert proc.returncode == 0, (ex, proc.stderr)
        assert proc.stdout.strip(), ex
        no_traceback(proc)
