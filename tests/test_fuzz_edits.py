"""Robustness: random byte edits of the corpus never crash or hang the compiler.

Ten thousand mutants (random inserts, deletes and replacements of bytes and of
tokens that stress the lexer, including invalid UTF-8) of the programs in
tests/programs are compiled and, when they compile, run in-process with a fuel
limit.  Each must end in a ``CompileError`` (diagnostics) or a
``SimpleRuntimeError`` or a normal exit: any other exception, or a case that
runs longer than HANG_SECONDS, fails the test with a reproducer.

The seed is fixed, so a failure is reproducible: the message names the chunk,
the case number and the mutated source.  ``SIMPLE_FUZZ_CASES`` overrides the
number of cases (e.g. 200000 for a long local run).
"""

from __future__ import annotations

import io
import os
import random
import signal
import time
from pathlib import Path
from types import FrameType

import pytest

from simple_jit.diagnostics import CompileError, SimpleRuntimeError

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
SEED = 0x5EED_1E
TOTAL_CASES = int(os.environ.get("SIMPLE_FUZZ_CASES", "10000"))
CHUNKS = 20
FUEL = 20_000
HANG_SECONDS = 10.0
# Tokens that are more likely than random bytes to reach deep into the
# lexer, parser and checker.
SNIPPETS: tuple[bytes, ...] = (
    b"\n",
    b"    ",
    b"\t",
    b":",
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b'"',
    b"'",
    b'"""',
    b"\\",
    b"/*",
    b"*/",
    b"#",
    b"**",
    b"-",
    b"..",
    b"..=",
    b"??",
    b" as f64",
    b" as i64",
    b" as i32",
    b"9223372036854775808",
    b"0x",
    b"1e309",
    b"0.0",
    b" / 0",
    b" % 0",
    b"break",
    b"continue",
    b"return",
    b"fn f(x): x\n",
    b"val",
    b"var",
    b"if ",
    b"else:",
    b"elif ",
    b"while ",
    b"loop:",
    b"for i in 0..3:",
    b"print ",
    b"not ",
    b"and",
    b"or",
    b"nil",
    b"match",
    b"struct",
    b"\\u{1F600}",
    b"\\x4",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\x00",
    b"\r",
    "é".encode(),
)


class Hang(BaseException):
    """Raised by the alarm when one case runs too long (BaseException so that
    no ``except Exception`` in the compiler can swallow it)."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang()


def corpus() -> list[tuple[str, bytes]]:
    files = []
    for tier in ("tier1", "errors", "tier2"):
        for p in sorted((PROGRAMS / tier).glob("*.spl")):
            data = p.read_bytes()
            if data:
                files.append((f"{tier}/{p.name}", data))
    return files


def _line_bounds(buf: bytearray, pos: int) -> tuple[int, int]:
    start = buf.rfind(b"\n", 0, pos) + 1
    end = buf.find(b"\n", pos)
    return start, (len(buf) if end < 0 else end + 1)


def mutate_once(rng: random.Random, buf: bytearray) -> None:
    pos = rng.randrange(len(buf) + 1)
    op = rng.random()
    if op < 0.2:  # insert a stress token
        buf[pos:pos] = rng.choice(SNIPPETS)
    elif op < 0.35:  # insert printable ASCII
        buf[pos:pos] = bytes(rng.randrange(32, 127) for _ in range(rng.randint(1, 3)))
    elif op < 0.4:  # insert arbitrary bytes (mostly invalid UTF-8)
        buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 3)))
    elif op < 0.6:  # delete a short range
        del buf[pos : pos + rng.randint(1, 4)]
    elif op < 0.7 and buf:  # replace one byte with a syntax character
        buf[min(pos, len(buf) - 1)] = rng.choice(b" \n\t:()[]{}=+-*/%<>!&|^~.,\"'#_0123456789")
    elif op < 0.8 and buf:  # line edits: delete, duplicate or swap with the next
        start, end = _line_bounds(buf, min(pos, len(buf) - 1))
        line = bytes(buf[start:end])
        kind = rng.randrange(3)
        if kind == 0:
            del buf[start:end]
        elif kind == 1:
            buf[start:start] = line
        else:
            nstart, nend = _line_bounds(buf, min(end, len(buf)))
            if nstart == end and nend > nstart:
                buf[start:nend] = bytes(buf[nstart:nend]) + line
    elif op < 0.9 and buf:  # indentation: add or remove 4 columns on a line
        start, _ = _line_bounds(buf, min(pos, len(buf) - 1))
        if rng.random() < 0.5:
            buf[start:start] = b"    "
        elif buf[start : start + 4] == b"    ":
            del buf[start : start + 4]
    else:  # tweak a digit or an operator somewhere
        spots = [i for i, b in enumerate(buf) if chr(b) in "0123456789+-*/%<>=&|^"]
        if spots:
            i = rng.choice(spots)
            buf[i] = rng.choice(b"0123456789" if chr(buf[i]).isdigit() else b"+-*/%<>=&|^")


def mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 1, 2, 3))):
        mutate_once(rng, buf)
    return bytes(buf)


# ---------------------------------------------------------------------------
# THE PER-CASE ADAPTER: the only place that knows the driver API
# (simple_jit.driver, see its module docstring).  It must return normally or
# raise CompileError / SimpleRuntimeError.
def compile_and_run(name: str, data: bytes, opt_level: int) -> None:
    from simple_jit.driver import compile_unit, run_module, source_from_bytes

    source = source_from_bytes(name, data)
    comp = compile_unit(source, opt_level)
    assert comp.mir is not None
    run_module(comp.mir, out=io.StringIO(), fuel=FUEL)


# ---------------------------------------------------------------------------


def run_chunk(chunk: int) -> tuple[list[str], dict[str, int]]:
    files = corpus()
    per_chunk = max(1, TOTAL_CASES // CHUNKS)
    rng = random.Random(SEED * 1000 + chunk)
    failures: list[str] = []
    stats = {"ok": 0, "compile-error": 0, "runtime-error": 0}
    old = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for case in range(per_chunk):
            name, original = rng.choice(files)
            data = mutate(rng, original)
            opt = rng.choice((0, 2))
            started = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, HANG_SECONDS)
            try:
                compile_and_run(f"fuzz/{name}", data, opt)
                stats["ok"] += 1
            except CompileError as exc:
                stats["compile-error"] += 1
                assert exc.diagnostics, "CompileError without diagnostics"
                exc.render()  # rendering the diagnostics must not crash either
            except SimpleRuntimeError as exc:
                stats["runtime-error"] += 1
                exc.render()
            except Hang:
                failures.append(
                    f"chunk {chunk} case {case} (-O{opt}, from {name}): no result after "
                    f"{time.perf_counter() - started:.1f}s\n  source: {data!r}"
                )
            except Exception as exc:  # every other exception is a compiler bug
                failures.append(
                    f"chunk {chunk} case {case} (-O{opt}, from {name}): "
                    f"{type(exc).__name__}: {exc}\n  source: {data!r}"
                )
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
    finally:
        signal.signal(signal.SIGALRM, old)
    return failures, stats


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_edits_end_in_diagnostics_or_a_run(chunk: int) -> None:
    failures, stats = run_chunk(chunk)
    assert not failures, f"{len(failures)} crash(es) or hang(s), {stats}:\n" + "\n".join(
        failures[:5]
    )


def test_mutator_is_deterministic() -> None:
    a = random.Random(1)
    b = random.Random(1)
    src = b"fn main():\n    print 1\n"
    assert [mutate(a, src) for _ in range(50)] == [mutate(b, src) for _ in range(50)]
