"""Tier 2 in the LLVM backend: memory management of arrays, structs, enums,
tuples and options (the conformance corpus checks their results).

* Every program of the tier-2 corpus, run in-process by the JIT, leaves the
  runtime's live-text and live-object counters where they were, including
  programs that end in a runtime error: a failing function releases what its
  frame owns and returns an error flag to its caller, which does the same
  (see ``llvm/codegen.py``), so nothing leaks.
* A program that creates and drops a million arrays and a million texts and
  then fails deep inside calls holding arrays, texts, structs, enums and
  options leaks nothing (JIT program and execution manager).
* ``memory_flat`` (the shared conformance program) has the same peak RSS at
  200,000 and 2,000,000 iterations (within 10%), JIT and AOT.
* Random programs that share, copy, pop and overwrite tier-2 values print
  what the interpreter prints and release everything.
"""

from __future__ import annotations

import ctypes
import random
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("llvmlite")

from simple_jit.diagnostics import SourceFile
from simple_jit.driver import compile_unit
from simple_jit.errors import CompileError, SimpleRuntimeError
from simple_jit.llvm import jit_program
from simple_jit.runtime import load_runtime

ROOT = Path(__file__).resolve().parent.parent
OWN = ROOT / "tests" / "programs"
SHARED = ROOT.parent / "shared" / "conformance"


def _programs() -> list[Path]:
    found = sorted((OWN / "tier2").glob("*.spl")) + sorted((OWN / "errors").glob("*.spl"))
    if SHARED.is_dir():
        found += sorted((SHARED / "tier2").glob("*.spl"))
        found += [SHARED / "errors" / "index_oob.spl"]
    return found


@pytest.fixture(scope="module")
def rt() -> ctypes.CDLL:
    lib = load_runtime()
    lib.rt_live_object_count.restype = ctypes.c_int64
    lib.rt_live_object_count.argtypes = []
    return lib


def _live(rt: ctypes.CDLL) -> tuple[int, int]:
    return int(rt.rt_live_text_count()), int(rt.rt_live_object_count())


def _run(source: str, name: str, opt: int) -> SimpleRuntimeError | None:
    """Compile and run a program in this process; its runtime error, if any."""
    mir = compile_unit(SourceFile(name, source), opt).mir
    assert mir is not None
    prog = jit_program(mir, opt)
    try:
        prog.run(name)
    except SimpleRuntimeError as e:
        return e
    return None


@pytest.mark.parametrize("opt", [0, 2])
def test_corpus_programs_release_everything(
    rt: ctypes.CDLL, opt: int, capfd: pytest.CaptureFixture[str]
) -> None:
    ran = 0
    for path in _programs():
        source = path.read_text(encoding="utf-8")
        before = _live(rt)
        try:
            _run(source, str(path), opt)
        except CompileError:
            continue  # compile-error cases of the corpus
        ran += 1
        assert _live(rt) == before, (
            f"{path} at -O{opt} left (texts, objects) {_live(rt)} != {before}"
        )
    capfd.readouterr()
    assert ran >= 20


LEAKY_FAILURE = textwrap.dedent(
    """\
    struct Holder:
        items: [text]
        label: text

    enum Shape:
        Named(text, [i64])
        Empty

    fn churn(n: i64) -> i64:
        var total = 0
        for i in 0..n:
            val a = [i, i + 1, i + 2]
            val t = "item " + i.to_text()
            total += a.len() + t.len()
        total

    fn fail(xs: [i64], depth: i64) -> i64:
        val h = Holder(items: ["a" + depth.to_text(), "b"], label: "h" + depth.to_text())
        val s = Shape.Named("s" + depth.to_text(), [depth])
        val o: [i64]? = Some([depth, depth])
        if depth == 0:
            return xs[xs.len() + 10]
        val local = [depth, depth * 2]
        fail(local, depth - 1) + h.items.len()

    fn main():
        print churn(1_000_000)
        val keep = ["x" + "y", "z"]
        print fail([1, 2, 3], 20)
    """
)


@pytest.mark.parametrize("opt", [0, 2])
def test_million_arrays_and_texts_then_error_leaks_nothing(
    rt: ctypes.CDLL, opt: int, capfd: pytest.CaptureFixture[str]
) -> None:
    before = _live(rt)
    err = _run(LEAKY_FAILURE, "<leaky>", opt)
    assert err is not None and "index out of range" in str(err)
    assert err.loc is not None and err.loc.line == 22
    assert _live(rt) == before
    out = capfd.readouterr().out
    assert out.splitlines()[0] == str(sum(3 + len(f"item {i}") for i in range(1_000_000)))


FAILURES = {
    "array_set_text": (
        'fn main():\n    val a = ["x" + "y"]\n    val t = "new" + "!"\n    a[3] = t\n',
        "index out of range",
    ),
    "pop_empty_texts": (
        'fn main():\n    var a = ["x" + "y"]\n    a.pop()\n    val s = "k" + "l"\n    a.pop()\n',
        "pop from empty array",
    ),
    "div_zero_holding_values": (
        "struct S:\n    a: [text]\n    o: i64?\n\n"
        "fn f(n: i64) -> i64:\n"
        '    val s = S(a: ["p" + n.to_text()], o: Some(n))\n'
        "    var t = (s, [s, s])\n"
        "    t.1.len() / n\n\n"
        "fn main():\n    print f(0)\n",
        "division by zero",
    ),
    "stack_overflow_with_arrays_in_every_frame": (
        "fn deep(n: i64, acc: [text]) -> i64:\n"
        '    val mine = [n.to_text(), "x" + "y"]\n'
        "    deep(n + 1, mine) + mine.len()\n\n"
        'fn main():\n    print deep(0, ["start"])\n',
        "stack overflow",
    ),
}


@pytest.mark.parametrize("opt", [0, 2])
@pytest.mark.parametrize("name", sorted(FAILURES))
def test_runtime_errors_release_every_frame(
    rt: ctypes.CDLL, name: str, opt: int, capfd: pytest.CaptureFixture[str]
) -> None:
    source, message = FAILURES[name]
    before = _live(rt)
    err = _run(source, f"<{name}>", opt)
    assert err is not None and message in str(err)
    assert _live(rt) == before
    capfd.readouterr()


def test_manager_call_failing_in_the_jit_leaks_nothing(rt: ctypes.CDLL) -> None:
    from simple_jit.manager import ExecManager

    with ExecManager("llvm") as m:
        m.compile_source(LEAKY_FAILURE.replace("fn main():", "fn unused():"))
        m.compile_source("fn go(n: i64) -> i64:\n    churn(n) + fail([n], 5)\n")
        before = _live(rt)
        for _ in range(3):
            with pytest.raises(SimpleRuntimeError, match="index out of range"):
                m.call("go", 100_000)
        assert _live(rt) == before
        assert m.call("churn", 10) == sum(3 + len(f"item {i}") for i in range(10))
        assert _live(rt) == before


SEMANTICS = textwrap.dedent(
    """\
    enum List:
        Cons(i64, List)
        Nil

    struct Box:
        items: [text]
        name: text

    fn build(n: i64) -> List:
        var l = List.Nil
        for i in 0..n:
            l = List.Cons(i, l)
        l

    fn total(l: List) -> i64:
        var t = 0
        var cur = l
        var going = true
        while going:
            match cur:
                case List.Cons(h, rest):
                    t += h
                    cur = rest
                case List.Nil:
                    going = false
        t

    fn main():
        print total(build(300000))
        var b = Box(items: ["a", "b"], name: "box")
        var c = b
        c.name = "copy"
        c.items.push("c")
        print b
        print c
        val inner: i64? = nil
        print Some(inner)
        val t = ("x" + "y", [1.5, 2.0], Some("z"))
        print t
        print t.1
        var words = ["one", "two", "three"]
        words[1] = "TWO" + "!"
        val last = words.pop()
        words.pop()
        print last
        print words
        print words[-1]
        var grid = [[1, 2], [3, 4]]
        val row = grid[0]
        row.push(9)
        grid[1] = [7]
        grid[-1] = grid[0]
        print grid
        print [Some(1), nil]
        print "{grid} {b} {t}"
    """
)


@pytest.fixture(scope="module")
def semantics_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("tier2") / "semantics.spl"
    path.write_text(SEMANTICS, encoding="utf-8")
    yield path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simple_jit.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_sharing_copies_and_releases_match_the_interpreter(
    rt: ctypes.CDLL, semantics_file: Path, opt: str, capfd: pytest.CaptureFixture[str]
) -> None:
    ref = _cli("run", "--backend", "interpreter", str(semantics_file))
    assert ref.returncode == 0, ref.stderr
    jit = _cli("run", opt, str(semantics_file))
    assert (jit.returncode, jit.stdout) == (0, ref.stdout), jit.stderr
    before = _live(rt)
    assert _run(SEMANTICS, "<semantics>", int(opt[2:])) is None
    assert _live(rt) == before
    capfd.readouterr()


# ---------------------------------------------------------------------------
# memory_flat: peak RSS at 2,000,000 iterations within 10% of 200,000

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


def _memory_flat_source(n: int) -> str:
    path = SHARED / "tier2" / "memory_flat.spl"
    if not path.exists():
        path = OWN / "tier2" / "memory_flat.spl"
    source = path.read_text(encoding="utf-8")
    assert "2_000_000" in source
    return source.replace("2_000_000", f"{n:_}")


def _expected_memory_flat(n: int) -> str:
    return f"{sum(2 + len(str(i % 10)) for i in range(n))}\n"


SIZES = (200_000, 2_000_000)


def test_memory_flat_jit_peak_rss_is_flat(tmp_path: Path) -> None:
    peaks = []
    for n in SIZES:
        src = tmp_path / f"memory_flat_{n}.spl"
        src.write_text(_memory_flat_source(n), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-c", _MEASURE, "run", "-O2", str(src)],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == _expected_memory_flat(n)
        peaks.append(int(proc.stderr.strip().splitlines()[-1]))
    small, large = peaks
    assert large <= small * 1.10, f"peak RSS grew from {small} KiB to {large} KiB"


def test_memory_flat_aot_peak_rss_is_flat(tmp_path: Path) -> None:
    peaks = []
    for n in SIZES:
        src = tmp_path / f"memory_flat_{n}.spl"
        src.write_text(_memory_flat_source(n), encoding="utf-8")
        exe = tmp_path / f"memory_flat_{n}"
        built = _cli("build", "-O2", "-o", str(exe), str(src))
        assert built.returncode == 0, built.stderr
        measure = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource, subprocess, sys\n"
                "out = subprocess.run([sys.argv[1]], capture_output=True, check=True).stdout\n"
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
                "print(out.decode())",
                str(exe),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        lines = measure.stdout.splitlines()
        assert lines[1] + "\n" == _expected_memory_flat(n)
        peaks.append(int(lines[0]))
    small, large = peaks
    assert large <= small * 1.10, f"peak RSS grew from {small} KiB to {large} KiB"


# ---------------------------------------------------------------------------
# Random tier-2 programs: sharing, copies, pops and overwrites in any order;
# the JIT must print what the interpreter prints and release everything.

_GEN_HEADER = """struct S:
    name: text
    nums: [i64]
    tag: text?

enum E:
    Named(text, [text])
    Count(i64)
    Nothing

fn show(e: E) -> text:
    match e:
        case E.Named(n, xs): n + xs.len().to_text()
        case E.Count(c) if c > 3: "big"
        case E.Count(c): c.to_text()
        case _: "-"

fn main():
    var a: [text] = ["seed"]
    var s = S(name: "s", nums: [1], tag: nil)
    var t = s
    var o: text? = nil
    var log = ""
    var grid: [[text]] = []
    var es: [E] = []
"""

_GEN_STMTS = [
    'a.push("w{k}" + {k}.to_text())',
    "if a.len() > 0:\n    val p = a.pop()\n    log = log + p",
    'if a.len() > 0:\n    a[{i} % a.len()] = a[-1] + "x"',
    's.name = s.name + "{k}"',
    "s.nums.push({k})",
    "t = s",
    "t.nums.push({k})",
    't.tag = Some("g{k}")',
    "if a.len() > 0:\n    o = Some(a[0])",
    "o = nil",
    'log = log + (o ?? "none")',
    "for w in a:\n    log = log + w.len().to_text()",
    "grid.push(a)",
    'grid.push([s.name, "{k}"])',
    'if grid.len() > 0:\n    grid[0].push("q{k}")',
    'es.push(E.Named("n{k}", a))',
    "es.push(E.Count({k}))",
    "es.push(E.Nothing)",
    "if es.len() > 0:\n    log = log + show(es[{i} % es.len()])",
    "if val g = t.tag:\n    log = log + g",
    "val tup = (a.len(), s.name, o)\nlog = log + tup.1",
    "if grid.len() > 1:\n    val gone = grid.pop()\n    log = log + gone.len().to_text()",
    'a = [s.name + "!", "r{k}"]',
    "if es.len() > 2:\n    es[0] = es[-1]",
]


def _random_program(seed: int) -> str:
    """A random valid tier-2 program: arrays, structs, enums, options shared and dropped."""
    r = random.Random(seed)
    body = []
    for _ in range(r.randint(10, 40)):
        st = r.choice(_GEN_STMTS).format(k=r.randint(0, 9), i=r.randint(0, 9))
        body.append(textwrap.indent(st, "    "))
    tail = [
        "    print a",
        "    print s",
        "    print t",
        "    print o",
        "    print log.len()",
        "    print grid",
        "    print es.len()",
    ]
    return _GEN_HEADER + "\n".join(body) + "\n" + "\n".join(tail) + "\n"


@pytest.mark.parametrize("seed", range(12))
def test_random_programs_match_the_interpreter_and_release_everything(
    rt: ctypes.CDLL, seed: int, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    source = _random_program(seed)
    path = tmp_path / f"random{seed}.spl"
    path.write_text(source, encoding="utf-8")
    ref = _cli("run", "--backend", "interpreter", str(path))
    assert ref.returncode == 0, ref.stderr
    capfd.readouterr()
    for opt in (0, 2):
        before = _live(rt)
        assert _run(source, str(path), opt) is None
        assert _live(rt) == before, f"-O{opt} leaked"
        assert capfd.readouterr().out == ref.stdout, f"-O{opt} output differs\n{source}"
