"""The Cranelift backend (MIR -> WebAssembly -> wasmtime): encoder, ops, control flow, limits.

* the binary encoder (LEB128, a hand-built module that wasmtime accepts);
* every scalar and text operation against ``semantics.eval_pure`` on random
  inputs, at Cranelift "none" and "speed", including the in-module display
  of floats (shortest round-trip digits) on random doubles;
* control-flow shapes (compared with the interpreter), the dispatch-loop
  fallback on every function and on a hand-made irreducible graph;
* deep recursion, ``stack overflow`` at the call's position, runtime errors
  with positions and output flushed before them;
* ``--time-limit`` and ``--fuel`` (API and CLI), ``.cwasm`` artifacts;
* generated programs (``progen``) against the interpreter;
* tier 2: the corpus and random programs against the interpreter with
  nothing left allocated, display forms, packed ``[bool]``, zero-valued
  globals, linear memory that stays flat over 200,000 and 2,000,000
  iterations, and runtime errors (nested calls, stack overflow, manager
  calls) that release what every frame owns.
"""

from __future__ import annotations

import io
import math
import os
import random
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simple_jit import semantics
from simple_jit.diagnostics import Loc, SimpleRuntimeError
from simple_jit.driver import compile_source, run_module
from simple_jit.mir.ir import OPS, Const, Function, Instr, Module, Reg, Term
from simple_jit.types import BOOL, F64, I64, TEXT, UNIT, Type
from simple_jit.wasm import compile_program, to_wasm
from simple_jit.wasm.encoder import (
    I32,
    Code,
    EncodeError,
    ModuleBuilder,
    read_sleb,
    read_uleb,
    sleb,
    uleb,
)
from simple_jit.wasm.encoder import I64 as WI64

ROOT = Path(__file__).resolve().parent.parent
I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1


# --------------------------------------------------------------------------
# helpers


def run_wasm(
    source: str,
    opt: int = 2,
    *,
    name: str = "t.spl",
    force_dispatch: bool = False,
    fuel: int | None = None,
    time_limit: float | None = None,
) -> tuple[str, int | None, str | None]:
    """(stdout, exit code or None, rendered runtime error or None)."""
    program = compile_program(
        compile_source(source, name, opt),
        opt,
        fuel=fuel is not None,
        epochs=time_limit is not None,
        force_dispatch=force_dispatch,
    )
    out = io.BytesIO()
    try:
        code = program.run(out, fuel=fuel, time_limit=time_limit)
    except SimpleRuntimeError as err:
        return out.getvalue().decode(), None, err.render()
    return out.getvalue().decode(), code, None


def run_interp(source: str, *, name: str = "t.spl") -> tuple[str, int | None, str | None]:
    out = io.StringIO()
    try:
        code = run_module(compile_source(source, name, 0), out=out)
    except SimpleRuntimeError as err:
        return out.getvalue(), None, err.render()
    return out.getvalue(), code, None


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "simple_jit.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------
# encoder


def test_leb128_known_values_and_round_trips() -> None:
    assert uleb(0) == b"\x00"
    assert uleb(127) == b"\x7f"
    assert uleb(128) == b"\x80\x01"
    assert uleb(624485) == b"\xe5\x8e\x26"
    assert sleb(-1) == b"\x7f"
    assert sleb(63) == b"\x3f"
    assert sleb(64) == b"\xc0\x00"
    assert sleb(-64) == b"\x40"
    assert sleb(-123456) == b"\xc0\xbb\x78"
    rng = random.Random(1)
    for _ in range(2000):
        n = rng.getrandbits(rng.randint(1, 64))
        assert read_uleb(uleb(n), 0) == (n, len(uleb(n)))
        s = n - (1 << 63) if rng.random() < 0.5 else n >> 1
        assert read_sleb(sleb(s), 0) == (s, len(sleb(s)))
    with pytest.raises(EncodeError):
        uleb(-1)


def test_hand_built_module_runs_in_wasmtime() -> None:
    import wasmtime

    m = ModuleBuilder()
    add = m.func("add", [WI64, WI64], [WI64], ["$a", "$b"], export="add")
    add.asm("local.get $a\nlocal.get $b\ni64.add")
    # a loop with named labels: sum 1..n
    s = m.func("sum", [WI64], [WI64], ["$n"], export="sum")
    s.local(WI64, "$acc")
    s.asm(
        """
        block $done
          loop $next
            local.get $n
            i64.eqz
            br_if $done
            local.get $acc
            local.get $n
            i64.add
            local.set $acc
            local.get $n
            i64.const 1
            i64.sub
            local.set $n
            br $next
          end
        end
        local.get $acc  ;; the result
        """
    )
    m.global_("g", I32, 7, export="g")
    m.data = [(16, b"hi")]
    binary = m.encode()
    assert binary[:8] == b"\0asm\x01\0\0\0"
    wasmtime.Module.validate(wasmtime.Engine(), binary)
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module(store.engine, binary), [])
    ex = inst.exports(store)
    add_f, sum_f, mem = ex["add"], ex["sum"], ex["memory"]
    assert isinstance(add_f, wasmtime.Func) and isinstance(sum_f, wasmtime.Func)
    assert add_f(store, I64_MAX, 1) == I64_MIN
    assert sum_f(store, 100) == 5050
    assert isinstance(mem, wasmtime.Memory)
    assert mem.read(store, 16, 18) == b"hi"


def test_assembler_rejects_unknown_names() -> None:
    code = Code([])
    with pytest.raises(EncodeError):
        code.asm("br $nowhere")
    with pytest.raises(EncodeError):
        code.asm("i64.frobnicate")
    m = ModuleBuilder()
    f = m.func("f", [], [])
    f.asm("call $missing")
    with pytest.raises(EncodeError):
        m.encode()


# --------------------------------------------------------------------------
# operations against semantics.eval_pure

_SPECIAL_I = [0, 1, -1, 2, -2, 3, 7, 10, 63, 64, 65, -64, 100, I64_MIN, I64_MAX, I64_MIN + 1]
_SPECIAL_F: list[float] = [
    0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 0.1, 1e-7, 123.456, 1e21, 1e300, 5e-324,
    2.0**53, 2.0**63, -(2.0**63), 9.3e18, math.inf, -math.inf, math.nan,
]  # fmt: skip
_TEXTS = [
    "", "a", "abc", "ABC", "Hello, World", "  pad  ", "\t\n x \r\n", "abcabc", "bc",
    "héllo", "ÉCOLE", "straße", "ǅ", "\u00a0nbsp\u3000", " \u2003 mixed \u00a0", "日本語",
    "a\x00b", "~`!@#", "zz", "é",
]  # fmt: skip


def _rand_i(rng: random.Random) -> int:
    if rng.random() < 0.3:
        return rng.choice(_SPECIAL_I)
    return semantics.wrap(rng.getrandbits(rng.choice([3, 8, 20, 40, 64])) - (1 << 62))


def _rand_f(rng: random.Random) -> float:
    r = rng.random()
    if r < 0.25:
        return rng.choice(_SPECIAL_F)
    if r < 0.5:
        bits: float = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        return bits
    if r < 0.75:
        scale: int = 10 ** rng.randint(0, 8)
        return rng.randint(-(10**6), 10**6) / scale
    return rng.uniform(-1e6, 1e6)


def _rand_b(rng: random.Random) -> bool:
    return rng.random() < 0.5


def _rand_t(rng: random.Random) -> str:
    return "".join(rng.choice(_TEXTS) for _ in range(rng.randint(0, 3)))


_TYPES = {"i64": I64, "f64": F64, "bool": BOOL, "text": TEXT}


def _args_for(op: str, rng: random.Random) -> list[object]:
    info = OPS[op]
    assert info.args is not None
    if op == "select":
        kind = rng.choice(["i64", "f64", "text", "bool"])
        gen: dict[str, Callable[[random.Random], object]] = {
            "i64": _rand_i,
            "f64": _rand_f,
            "text": _rand_t,
            "bool": _rand_b,
        }
        return [rng.random() < 0.5, gen[kind](rng), gen[kind](rng)]
    args: list[object] = []
    for a in info.args:
        if a == "i64":
            args.append(_rand_i(rng))
        elif a == "f64":
            args.append(_rand_f(rng))
        elif a == "bool":
            args.append(rng.random() < 0.5)
        else:
            args.append(_rand_t(rng))
    if op in ("idiv", "irem") and args[1] == 0:
        args[1] = rng.choice([-1, 1, 7])
    if op == "ipow":
        args[1] = rng.choice([0, 1, 2, 3, 5, 17, 63, 64, 1000, rng.getrandbits(40)])
    if op == "trepeat":
        args[1] = rng.randint(-2, 5)
    if op in ("tcontains", "tstarts", "tends") and rng.random() < 0.5:
        hay = args[0]
        assert isinstance(hay, str)
        i = rng.randint(0, len(hay))
        args[1] = hay[i : rng.randint(i, len(hay))]
    return args


def _type_of(v: object) -> Type:
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return I64
    if isinstance(v, float):
        return F64
    assert isinstance(v, str)
    return TEXT


def _ops_module(cases: list[tuple[str, list[object]]]) -> Module:
    """``$init`` computes each case from registers (not constants) and prints it."""
    m = Module("<ops>")
    f = Function(Module.INIT, [], UNIT)
    blk = f.new_block()
    for op, args in cases:
        regs: list[Reg | Const] = []
        for a in args:
            r = f.new_reg(_type_of(a))
            assert isinstance(a, int | float | str)
            blk.instrs.append(Instr("copy", r, [Const(a, r.ty)]))
            regs.append(r)
        result = OPS[op].result
        ty = _type_of(args[1]) if result == "*" else _TYPES[str(result)]
        dst = f.new_reg(ty)
        blk.instrs.append(Instr(op, dst, list(regs), loc=Loc(1, 1)))
        blk.instrs.append(Instr("print", None, [dst]))
    blk.term = Term("ret", [], [])
    m.add(f)
    return m


SCALAR_OPS = sorted(op for op in semantics.PURE_OPS if op not in ("copy", "totext"))


@pytest.mark.parametrize("opt", [0, 2])
def test_every_op_matches_semantics(opt: int) -> None:
    rng = random.Random(opt)
    cases = [(op, _args_for(op, rng)) for op in SCALAR_OPS for _ in range(60)]
    cases += [("totext", [v]) for v in [*_SPECIAL_I, *_SPECIAL_F, True, False, "t"]]
    program = compile_program(_ops_module(cases), opt)
    out = io.BytesIO()
    program.run(out)
    got = out.getvalue().decode()
    pos = 0
    for op, args in cases:  # results may contain newlines: walk by lengths
        expected = semantics.display_scalar(semantics.eval_pure(op, list(args))) + "\n"
        actual = got[pos : pos + len(expected)]
        assert actual == expected, f"{op}{tuple(args)!r}: wasm {actual!r}, semantics {expected!r}"
        pos += len(expected)
    assert pos == len(got)
    assert program.live_texts == 0, "texts leaked"


def test_float_display_matches_format_f64() -> None:
    rng = random.Random(7)
    values = [_rand_f(rng) for _ in range(3000)]
    values += [float(f"{rng.randint(1, 999)}e{rng.randint(-30, 30)}") for _ in range(500)]
    values += [rng.randint(-(10**9), 10**9) / 1000 for _ in range(500)]
    values += [2.0**k for k in range(-60, 70)] + [-(2.0**k) for k in range(-5, 5)]
    values += [0.1 * k for k in range(100)]
    program = compile_program(_ops_module([("fadd", [v, 0.0]) for v in values]), 2)
    out = io.BytesIO()
    program.run(out)
    got = out.getvalue().decode().split("\n")[:-1]
    for v, line in zip(values, got, strict=True):
        assert line == semantics.format_f64(v + 0.0), repr(v)


def test_fmod_in_the_module_is_exact() -> None:
    rng = random.Random(3)
    pairs = [(a, b) for a in _SPECIAL_F for b in _SPECIAL_F]
    tiny = [5e-324, 1.5e-320, 2.2250738585072014e-308, 1e-300]
    pairs += [(rng.choice([1e308, 1.7976931348623157e308, 12345.678]), t) for t in tiny]
    pairs += [(_rand_f(rng), _rand_f(rng)) for _ in range(3000)]
    pairs += [(rng.uniform(-1e6, 1e6), rng.choice([7.5, -0.1, 3.0, 1e-3])) for _ in range(1000)]
    pairs += [(float(i), y) for i in range(-20, 20) for y in (2.0, -3.0, 0.75)]
    program = compile_program(_ops_module([("frem", [a, b]) for a, b in pairs]), 2)
    out = io.BytesIO()
    program.run(out)
    got = out.getvalue().decode().split("\n")[:-1]
    for (a, b), line in zip(pairs, got, strict=True):
        assert line == semantics.format_f64(semantics.frem(a, b)), (a, b)


def test_division_and_power_errors_carry_positions() -> None:
    for src, msg, where in [
        ("fn f(a: i64, b: i64) -> i64:\n    a / b\nprint 1\nprint f(1, 0)\n", "division", "2:7"),
        ("fn f(a: i64, b: i64) -> i64:\n    a % b\nprint f(5, 0)\n", "division", "2:7"),
        ("var x = 3\nvar z = 0\nx %= z\n", "division by zero", "3:3"),
        ("fn p(a: i64, b: i64) -> i64: a ** b\nprint p(2, -1)\n", "negative exponent", ""),
        ("print -9223372036854775807 - 1 / -1\n", "", ""),
    ]:
        for opt in (0, 2):
            got = run_wasm(src, opt)
            assert got == run_interp(src), src
            if msg:
                assert got[2] is not None and msg in got[2] and f"t.spl:{where}" in got[2]


def test_min_division_by_minus_one_wraps() -> None:
    src = (
        "fn d(a: i64, b: i64) -> i64: a / b\nfn r(a: i64, b: i64) -> i64: a % b\n"
        "val m = -9223372036854775807 - 1\nprint d(m, -1)\nprint r(m, -1)\nprint d(7, -1)\n"
    )
    assert run_wasm(src, 0)[0] == "-9223372036854775808\n0\n-7\n"
    assert run_wasm(src, 2)[0] == "-9223372036854775808\n0\n-7\n"


# --------------------------------------------------------------------------
# control flow

CONTROL_FLOW = {
    "nested_loops": """
var total = 0
for i in 0..20:
    for j in 0..i:
        if (i + j) % 3 == 0:
            continue
        if j > 12:
            break
        total += i * j
    var k = 0
    while k < i and not (k * k > i or total % 7 == 0):
        k += 1
        total += k
print total
""",
    "early_returns": """
fn classify(n: i64) -> text:
    if n < 0:
        return "neg"
    var i = 0
    loop:
        if i * i == n:
            return "square"
        if i * i > n:
            break
        i += 1
    if n % 2 == 0:
        return "even"
    "odd"
for n in -2..30:
    print "{n} {classify(n)}"
""",
    "complex_conditions": """
fn f(a: i64, b: i64) -> bool:
    (a > b and b != 0) or (a == 3 and not (b < 0)) or a * b == 12
var n = 0
var i = 0
while (i < 40 and n < 1000) or (i < 50 and f(i, n % 5)):
    if f(i % 7, i % 5) and not f(i % 3, 2):
        n += i
    elif i % 4 == 0 or i % 9 == 0:
        n -= 1
    else:
        n += 2
    i += 1
print n
print i
""",
    "mutual_recursion_and_globals": """
var calls = 0
fn even(n: i64) -> bool:
    calls += 1
    if n == 0: true else: odd(n - 1)
fn odd(n: i64) -> bool:
    calls += 1
    if n == 0: false else: even(n - 1)
print even(1000)
print odd(77)
print calls
""",
    "texts_in_loops": """
var s = ""
for i in 0..50:
    s = s + i.to_text()
    if s.len() > 30:
        s = s.trim().upper() + "x"
        s = "{s.len()}"
print s
print "ab".repeat(3) + " Straße ".trim().upper() + "ÀB".lower()
print "abc" < "abd" and "b" > "abc" and "x".contains("") and "hello".ends_with("llo")
""",
}


@pytest.mark.parametrize("name", sorted(CONTROL_FLOW))
@pytest.mark.parametrize("opt", [0, 2])
def test_control_flow_shapes(name: str, opt: int) -> None:
    src = CONTROL_FLOW[name]
    expected = run_interp(src)
    assert run_wasm(src, opt) == expected
    assert run_wasm(src, opt, force_dispatch=True) == expected


def test_irreducible_graph_uses_the_dispatch_loop() -> None:
    # bb1 and bb2 form a loop with two entries (from bb0): not reducible
    f = Function(Module.INIT, [], UNIT)
    i, c, d = f.new_reg(I64), f.new_reg(BOOL), f.new_reg(BOOL)
    b0, b1, b2, b3 = (f.new_block() for _ in range(4))
    b0.instrs = [Instr("copy", i, [Const(0, I64)]), Instr("copy", c, [Const(False, BOOL)])]
    b0.term = Term("br", [c], [1, 2])
    b1.instrs = [
        Instr("iadd", i, [i, Const(1, I64)]),
        Instr("print", None, [i]),
        Instr("ige", d, [i, Const(50, I64)]),
    ]
    b1.term = Term("br", [d], [3, 2])
    b2.instrs = [
        Instr("iadd", i, [i, Const(10, I64)]),
        Instr("print", None, [i]),
        Instr("ige", d, [i, Const(40, I64)]),
    ]
    b2.term = Term("br", [d], [3, 1])
    b3.term = Term("ret", [], [])

    def module() -> Module:
        m = Module("<irreducible>")
        m.add(f)
        return m

    expected = io.StringIO()
    run_module(module(), out=expected)
    assert to_wasm(module()).dispatch_fallbacks == 1
    out = io.BytesIO()
    compile_program(module(), 2).run(out)
    assert out.getvalue().decode() == expected.getvalue()
    assert expected.getvalue().startswith("10\n11\n21\n22\n")


# --------------------------------------------------------------------------
# recursion and the stack


def test_recursion_100000_deep_works() -> None:
    src = "fn d(n: i64) -> i64:\n    if n == 0: 0 else: 1 + d(n - 1)\nprint d(100000)\n"
    for opt in (0, 2):
        assert run_wasm(src, opt) == ("100000\n", 0, None)


def test_infinite_recursion_is_a_stack_overflow_at_the_call() -> None:
    src = "fn f(n: i64) -> i64:\n    print n\n    f(n + 1) + 1\nf(0)\n"
    for opt in (0, 2):
        out, code, err = run_wasm(src, opt)
        assert code is None and err == "t.spl:3:5: runtime error: stack overflow"
        assert out.startswith("0\n1\n2\n") and int(out.split()[-1]) >= 100_000


def test_huge_frames_still_overflow_at_the_call() -> None:
    # Many floats live across the recursive call: big frames, so the wasm
    # stack may run out before the depth check; either way the error is
    # "stack overflow" at the call.
    names = [f"v{i}" for i in range(150)]
    body = "".join(f"    val {v} = x * {i}.5\n" for i, v in enumerate(names))
    total = " + ".join(names)
    src = f"fn g(x: f64) -> f64:\n{body}    g(x + 1.0) + {total}\nprint g(1.0)\n"
    _out, code, err = run_wasm(src, 0)
    line = 2 + len(names)
    assert code is None and err == f"t.spl:{line}:5: runtime error: stack overflow"


# --------------------------------------------------------------------------
# limits

SPIN = "var n = 0\nwhile true:\n    n += 1\n"


def test_time_limit_stops_a_runaway_loop() -> None:
    t0 = time.perf_counter()
    _out, code, err = run_wasm(SPIN, 2, time_limit=0.3)
    assert time.perf_counter() - t0 < 2.0
    # positioned as the interpreter positions fuel errors: at the loop that
    # was running (its edges carry the loop statement's position)
    assert code is None and err == "t.spl:2:1: runtime error: time limit exceeded"
    # a program that finishes in time is not disturbed, then or later
    assert run_wasm("print 1\n", 2, time_limit=0.2) == ("1\n", 0, None)
    time.sleep(0.3)
    assert run_wasm("print 2\n", 2) == ("2\n", 0, None)


def test_fuel_stops_a_runaway_loop_and_is_enough_for_small_programs() -> None:
    assert run_wasm(SPIN, 0, fuel=100_000) == ("", None, "t.spl:2:1: runtime error: out of fuel")
    assert run_wasm("print 40 + 2\n", 0, fuel=100_000) == ("42\n", 0, None)
    src = "var i = 0\nwhile i < 1000000:\n    i += 1\nprint i\n"
    assert run_wasm(src, 2, fuel=1000)[2] == "t.spl:2:1: runtime error: out of fuel"


def test_cli_time_limit_ends_within_two_seconds(tmp_path: Path) -> None:
    spin = tmp_path / "spin.spl"
    spin.write_text(SPIN)
    t0 = time.perf_counter()
    proc = cli("run", "--backend", "cranelift", "--time-limit", "1", str(spin), timeout=30)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 101, proc.stderr
    assert f"{spin}:2:1: runtime error: time limit exceeded" in proc.stderr
    assert elapsed < 2.0, elapsed
    proc = cli("run", "--backend", "cranelift", "--fuel", "5000", str(spin))
    assert proc.returncode == 101 and "out of fuel" in proc.stderr


def test_cli_time_limit_on_the_interpreter(tmp_path: Path) -> None:
    spin = tmp_path / "spin.spl"
    spin.write_text(SPIN)
    t0 = time.perf_counter()
    proc = cli("run", "--backend", "interpreter", "--time-limit", "1", str(spin), timeout=30)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 101, proc.stderr
    assert f"{spin}:2:1: runtime error: time limit exceeded" in proc.stderr
    assert elapsed < 2.5, elapsed  # (interpreter start-up included)
    # fuel still counts under a time limit
    proc = cli("run", "--backend", "interpreter", "--time-limit", "9", "--fuel", "50000", str(spin))
    assert proc.returncode == 101 and f"{spin}:2:1: runtime error: out of fuel" in proc.stderr
    ok = tmp_path / "ok.spl"
    ok.write_text("var i = 0\nwhile i < 100000:\n    i += 1\nprint i\n")
    proc = cli("run", "--backend", "interpreter", "--time-limit", "30", str(ok))
    assert proc.returncode == 0 and proc.stdout == "100000\n", proc.stderr


def test_cli_time_limit_needs_cranelift(tmp_path: Path) -> None:
    spl = tmp_path / "a.spl"
    spl.write_text("print 1\n")
    proc = cli("run", "--backend", "llvm", "--time-limit", "1", str(spl))
    assert proc.returncode == 2 and "--time-limit needs --backend cranelift" in proc.stderr


# --------------------------------------------------------------------------
# artifacts


def test_cwasm_round_trip(tmp_path: Path) -> None:
    spl = tmp_path / "prog.spl"
    spl.write_text(
        "fn main() -> i64:\n    print 'hi'\n    print 2.5 * 2.0\n    print 10 / (3 - 3)\n    0\n"
    )
    out = tmp_path / "prog.cwasm"
    for opt in ("-O0", "-O2"):
        built = cli("build", "--backend", "cranelift", opt, str(spl), "-o", str(out))
        assert built.returncode == 0, built.stderr
        assert out.read_bytes().startswith(b"SPLCWASM")
        ran = cli("run", str(out))
        assert ran.stdout == "hi\n5\n"
        assert ran.returncode == 101
        assert f"{spl}:4:14: runtime error: division by zero" in ran.stderr
    # fuel needs metering compiled in: the embedded wasm is compiled again
    spin = tmp_path / "spin.spl"
    spin.write_text(SPIN)
    built = cli("build", "--backend", "cranelift", str(spin), "-o", str(out))
    assert built.returncode == 0
    ran = cli("run", "--fuel", "1000", str(out))
    assert ran.returncode == 101 and "out of fuel" in ran.stderr
    ran = cli("run", "--time-limit", "0.2", str(out))
    assert ran.returncode == 101 and "time limit exceeded" in ran.stderr


def test_cwasm_exit_code_and_corrupt_file(tmp_path: Path) -> None:
    spl = tmp_path / "code.spl"
    spl.write_text("fn main(): 300\n")
    out = tmp_path / "code.cwasm"
    assert cli("build", "--backend", "cranelift", str(spl), "-o", str(out)).returncode == 0
    assert cli("run", str(out)).returncode == 300 & 0xFF
    data = out.read_bytes()
    out.write_bytes(data[:20])
    ran = cli("run", str(out))
    assert ran.returncode == 1 and "Traceback" not in ran.stderr


def test_artifact_api_does_not_compile(tmp_path: Path) -> None:
    from simple_jit.wasm.host import read_artifact, write_artifact

    program = compile_program(compile_source("print 7 * 6\n", "a.spl", 2), 2)
    data = write_artifact(program)
    again = read_artifact(data)
    out = io.BytesIO()
    assert again.run(out) == 0 and out.getvalue() == b"42\n"
    assert again.source_name == "a.spl"
    limited = read_artifact(data, epochs=True)
    out = io.BytesIO()
    assert limited.run(out, time_limit=5.0) == 0 and out.getvalue() == b"42\n"
    with pytest.raises(ValueError):
        again.run(io.BytesIO(), time_limit=1.0)


# --------------------------------------------------------------------------
# memory


def test_text_loops_free_what_they_allocate() -> None:
    src = """
var keep = ""
for i in 0..20000:
    val a = "x" + i.to_text()
    val b = a.upper() + a.repeat(3)
    if b.contains("X19999"):
        keep = b.trim()
print keep.len()
"""
    program = compile_program(compile_source(src, "m.spl", 2), 2)
    out = io.BytesIO()
    program.run(out)
    assert out.getvalue() == b"24\n"
    assert program.live_texts == 1  # the global `keep`


# --------------------------------------------------------------------------
# generated programs


@pytest.mark.parametrize("chunk", range(4))
def test_generated_programs_match_the_interpreter(chunk: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from progen import generate

    n = int(os.environ.get("SIMPLE_WASM_DIFF_CASES", "60"))
    for seed in range(20_000_000 + chunk * n, 20_000_000 + (chunk + 1) * n):
        src = generate(seed)
        expected = run_interp(src, name="<source>")
        opt = seed % 3  # 0, 1, 2
        got = run_wasm(src, opt, name="<source>", force_dispatch=seed % 7 == 0)
        assert got == expected, f"seed {seed} at -O{opt}:\n{src}"


def test_unsupported_constructs_are_errors_not_crashes(tmp_path: Path) -> None:
    spl = tmp_path / "ext.spl"
    spl.write_text("extern fn labs(x: i64) -> i64\nprint labs(-3)\n")
    for cmd in ("run", "build"):
        proc = cli(cmd, "--backend", "cranelift", str(spl), "-o", str(tmp_path / "a.cwasm"))
        if cmd == "run":
            proc = cli(cmd, "--backend", "cranelift", str(spl))
        assert proc.returncode == 1, proc.stderr
        assert "not supported by the cranelift backend" in proc.stderr, proc.stderr
        assert "internal compiler error" not in proc.stderr


# --------------------------------------------------------------------------
# tier 2: arrays, structs, enums, tuples, options


def _tier2_corpus() -> list[Path]:
    own = ROOT / "tests" / "programs"
    found = sorted((own / "tier2").glob("*.spl")) + sorted((own / "errors").glob("*.spl"))
    shared = ROOT.parent / "shared" / "conformance"
    if shared.is_dir():
        found += [*sorted((shared / "tier2").glob("*.spl")), shared / "errors" / "index_oob.spl"]
    return found


def _counted_globals(source: str, name: str) -> bool:
    from simple_jit.mir.passes.refcount import needs_rc

    mir = compile_source(source, name, 0)
    return any(needs_rc(g.ty) for g in mir.globals.values())


@pytest.mark.parametrize("opt", [0, 2])
def test_tier2_corpus_matches_the_interpreter_and_releases_everything(opt: int) -> None:
    from simple_jit.errors import CompileError

    ran = 0
    for path in _tier2_corpus():
        source = path.read_text(encoding="utf-8")
        try:
            expected = run_interp(source, name=str(path))
        except CompileError:
            continue  # the corpus's compile-error cases
        program = compile_program(compile_source(source, str(path), opt), opt)
        out = io.BytesIO()
        got: tuple[str, int | None, str | None]
        try:
            code = program.run(out)
            got = (out.getvalue().decode(), code, None)
        except SimpleRuntimeError as err:
            got = (out.getvalue().decode(), None, err.render())
        assert got == expected, f"{path} at -O{opt}"
        if not _counted_globals(source, str(path)):
            assert program.live_texts == 0, f"{path} at -O{opt} leaked {program.live_texts}"
        ran += 1
    assert ran >= 20


def _memory_flat(n: int) -> tuple[bytes, int, int]:
    source = """
fn build(i: i64) -> text:
    val parts = ["a", "b", i.to_text()]
    parts[0] + parts[1] + parts[2]

struct Box:
    items: [i64]
    name: text

fn churn(i: i64) -> i64:
    var b = Box(items: [i, i + 1], name: "b" + i.to_text())
    b.items.push(i)
    val o: Box? = Some(b)
    val t = (b, [b, b], o)
    t.1.len() + b.items.len()

fn main():
    var total = 0
    for i in 0..N:
        total += build(i % 10).len() + churn(i)
    print total
""".replace("N", str(n))
    program = compile_program(compile_source(source, "flat.spl", 2), 2)
    out = io.BytesIO()
    program.run(out)
    return out.getvalue(), program.memory_pages, program.live_texts


def test_memory_stays_flat_when_values_are_built_and_dropped_in_loops() -> None:
    small_out, small_pages, small_live = _memory_flat(200_000)
    large_out, large_pages, large_live = _memory_flat(2_000_000)
    assert small_out == b"%d\n" % (200_000 * 3 + 200_000 * 5)
    assert large_out == b"%d\n" % (2_000_000 * 3 + 2_000_000 * 5)
    assert small_live == large_live == 0
    assert large_pages == small_pages, f"memory grew from {small_pages} to {large_pages} pages"


def test_shared_memory_flat_program_keeps_its_memory_size() -> None:
    path = ROOT.parent / "shared" / "conformance" / "tier2" / "memory_flat.spl"
    if not path.exists():
        path = ROOT / "tests" / "programs" / "tier2" / "memory_flat.spl"
    source = path.read_text(encoding="utf-8")
    assert "2_000_000" in source
    pages = []
    for n in ("200_000", "2_000_000"):
        program = compile_program(compile_source(source.replace("2_000_000", n), "m.spl", 2), 2)
        out = io.BytesIO()
        program.run(out)
        assert out.getvalue() == b"%d\n" % (3 * int(n.replace("_", "")))
        assert program.live_texts == 0
        pages.append(program.memory_pages)
    assert pages[0] == pages[1], f"linear memory grew from {pages[0]} to {pages[1]} pages"


def _llvm_tier2_cases() -> object:
    sys.path.insert(0, str(ROOT / "tests"))
    import test_llvm_tier2

    return test_llvm_tier2


@pytest.mark.parametrize("opt", [0, 2])
def test_error_deep_in_nested_calls_releases_every_frame(opt: int) -> None:
    cases = _llvm_tier2_cases()
    source = cases.LEAKY_FAILURE  # type: ignore[attr-defined]
    program = compile_program(compile_source(source, "<leaky>", opt), opt)
    out = io.BytesIO()
    with pytest.raises(SimpleRuntimeError) as info:
        program.run(out)
    err = info.value
    assert "index out of range" in str(err)
    assert err.loc is not None and err.loc.line == 22
    assert program.live_texts == 0, f"{program.live_texts} blocks leaked"
    expected = sum(3 + len(f"item {i}") for i in range(1_000_000))
    assert out.getvalue().decode().splitlines()[0] == str(expected)


FAILURE_NAMES = (
    "array_set_text",
    "pop_empty_texts",
    "div_zero_holding_values",
    "stack_overflow_with_arrays_in_every_frame",
)


@pytest.mark.parametrize("opt", [0, 2])
@pytest.mark.parametrize("name", FAILURE_NAMES)
def test_runtime_errors_release_what_frames_own(name: str, opt: int) -> None:
    source, message = _llvm_tier2_cases().FAILURES[name]  # type: ignore[attr-defined]
    expected = run_interp(source, name=name)
    program = compile_program(compile_source(source, name, opt), opt)
    out = io.BytesIO()
    with pytest.raises(SimpleRuntimeError) as info:
        program.run(out)
    assert message in str(info.value)
    assert (out.getvalue().decode(), None, info.value.render()) == expected
    assert program.live_texts == 0, f"{program.live_texts} blocks leaked"


@pytest.mark.parametrize("seed", range(8))
def test_random_tier2_programs_match_the_interpreter_and_release_everything(seed: int) -> None:
    source = _llvm_tier2_cases()._random_program(seed)  # type: ignore[attr-defined]
    expected = run_interp(source, name="<random>")
    for opt in (0, 2):
        program = compile_program(compile_source(source, "<random>", opt), opt)
        out = io.BytesIO()
        assert program.run(out) == 0
        assert (out.getvalue().decode(), 0, None) == expected, f"-O{opt}\n{source}"
        assert program.live_texts == 0, f"-O{opt} leaked"


def test_tier2_display_forms() -> None:
    src = """
struct P:
    x: f64
    tag: text?
    kids: [P]

enum T:
    Leaf
    Node(T, i64, T)
    Pair((i64, bool), [text?])

fn main():
    val p = P(x: 1.5, tag: Some("a"), kids: [P(x: -0.0, tag: nil, kids: [])])
    print p
    print "{p} and {[1, 2]}"
    print T.Node(T.Leaf, 3, T.Node(T.Leaf, 4, T.Leaf))
    print T.Pair((7, true), [Some("x"), nil])
    print (1,)
    print [(1, 2.5), (3, 1e300)]
    val none: i64? = nil
    print [Some(none), Some(Some(2))]
    print Some(Some(3))
    print [[1.0], []]
"""
    got = run_wasm(src, 2)
    assert got == run_interp(src)
    assert got[0].splitlines()[0] == "P(x: 1.5, tag: a, kids: [P(x: -0, tag: nil, kids: [])])"


def test_deep_enum_chain_is_freed_and_displayed_without_recursion() -> None:
    src = """
enum L:
    Nil
    Cons(i64, L)

fn main():
    var l = L.Nil
    for i in 0..100000:
        l = L.Cons(i, l)
    var short = L.Nil
    for i in 0..3:
        short = L.Cons(i, short)
    print short
    l = L.Nil
    print l
"""
    program = compile_program(compile_source(src, "chain.spl", 2), 2)
    out = io.BytesIO()
    program.run(out)
    assert out.getvalue() == b"L.Cons(2, L.Cons(1, L.Cons(0, L.Nil)))\nL.Nil\n"
    assert program.live_texts == 0


def test_tier2_artifact_runs_like_the_jit(tmp_path: Path) -> None:
    spl = tmp_path / "t2.spl"
    spl.write_text(
        "struct S:\n    a: [i64]\n\nfn main() -> i64:\n"
        "    var s = S(a: [1, 2])\n    s.a.push(3)\n    print s\n"
        "    print s.a[-1]\n    s.a[7]\n"
    )
    art = tmp_path / "t2.cwasm"
    built = cli("build", "--backend", "cranelift", "-O0", str(spl), "-o", str(art))
    assert built.returncode == 0, built.stderr
    ran = cli("run", str(art))
    ref = cli("run", "--backend", "interpreter", str(spl))
    assert (ran.returncode, ran.stdout, ran.stderr) == (ref.returncode, ref.stdout, ref.stderr)
    assert ran.returncode == 101 and "index out of range" in ran.stderr


def test_tier2_globals_read_before_their_initializer_hold_zero_values() -> None:
    src = """
struct P:
    x: i64
    name: text
    tags: [text]
    o: f64?

enum C:
    Red
    Green

fn peek() -> text:
    "{arr} {p} {t} {c} {arr.len()}"

fn grow():
    arr.push(9)

print peek()
grow()
print peek()
var arr: [i64] = [1]
val p: P = P(x: 1, name: "n", tags: [], o: nil)
val t: (i64, [bool], text) = (1, [true], "z")
val c: C = C.Green
print peek()
"""
    expected = run_interp(src)
    assert expected[0].splitlines()[0] == "[] P(x: 0, name: , tags: [], o: nil) (0, [], ) C.Red 0"
    for opt in (0, 2):
        assert run_wasm(src, opt) == expected


def test_bool_arrays_are_packed_one_byte_per_element() -> None:
    src = """
fn main():
    var flags: [bool] = [true, false]
    for i in 0..1_000_000:
        flags.push(i % 3 == 0)
    flags[-1] = true
    var n = 0
    for f in flags:
        if f:
            n += 1
    print n
    val last = flags.pop()
    print last
    print flags.len()
    var small = [false, true]
    small[0] = true
    small.push(false)
    print small
    print((small, [small]))
"""
    expected = run_interp(src)
    program = compile_program(compile_source(src, "t.spl", 2), 2)
    out = io.BytesIO()
    program.run(out)
    assert (out.getvalue().decode(), 0, None) == expected
    assert program.live_texts == 0
    # 1,000,002 flags in 8-byte slots would need 8 MB (128 pages) on their own
    assert program.memory_pages < 64, program.memory_pages


def test_manager_calls_failing_in_cranelift_units_release_everything() -> None:
    """Units of an execution manager share one instance: a runtime error must
    not leave the frames' objects allocated (the memory outlives the call)."""
    from simple_jit.manager import ExecManager

    leaky = _llvm_tier2_cases().LEAKY_FAILURE  # type: ignore[attr-defined]
    with ExecManager("cranelift") as m:
        m.compile_source(leaky.replace("fn main():", "fn unused():"))
        m.compile_source("fn go(n: i64) -> i64:\n    churn(n) + fail([n], 5)\n")
        live = m._impl.units.rt_globals["live"]  # type: ignore[attr-defined]
        store = m._impl.units.store  # type: ignore[attr-defined]
        before = live.value(store)
        for _ in range(3):
            with pytest.raises(SimpleRuntimeError, match="index out of range"):
                m.call("go", 10_000)
        assert live.value(store) == before
        assert m.call("churn", 10) == sum(3 + len(f"item {i}") for i in range(10))
        assert live.value(store) == before
