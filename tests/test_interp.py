"""Tests of the reference MIR interpreter (simple_jit.interp), on hand-built MIR."""

from __future__ import annotations

import io
import itertools
import math
import time
from functools import partial
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simple_jit.diagnostics import Loc, SimpleRuntimeError
from simple_jit.interp import Interpreter
from simple_jit.mir.ir import (
    OPS,
    Block,
    Const,
    Extern,
    Function,
    Global,
    Instr,
    Module,
    Operand,
    Reg,
    Term,
)
from simple_jit.semantics import I64_MAX, I64_MIN, PURE_OPS, OpError, eval_pure
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    TEXT,
    UNIT,
    ArrayT,
    EnumDef,
    EnumT,
    OptionT,
    StructDef,
    StructT,
    TupleT,
    Type,
)


def ci(v: int) -> Const:
    return Const(v, I64)


def cf(v: float) -> Const:
    return Const(v, F64)


def cb(v: bool) -> Const:
    return Const(v, BOOL)


def ct(v: str) -> Const:
    return Const(v, TEXT)


class FB:
    """A tiny MIR function builder for tests."""

    def __init__(self, module: Module, name: str, params: list[Type], ret: Type) -> None:
        self.fn = module.add(Function(name, [Reg(i, t) for i, t in enumerate(params)], ret))
        self.cur = self.fn.new_block()

    def p(self, i: int) -> Reg:
        return self.fn.params[i]

    def reg(self, ty: Type) -> Reg:
        return self.fn.new_reg(ty)

    def op(
        self, op: str, ty: Type | None, *args: Operand, extra: Any = None, loc: Loc | None = None
    ) -> Reg:
        dst = self.fn.new_reg(ty) if ty is not None else None
        self.cur.instrs.append(Instr(op, dst, list(args), extra, loc))
        return dst  # type: ignore[return-value]

    def set(
        self, dst: Reg, op: str, *args: Operand, extra: Any = None, loc: Loc | None = None
    ) -> None:
        self.cur.instrs.append(Instr(op, dst, list(args), extra, loc))

    def block(self) -> Block:
        return self.fn.new_block()

    def at(self, b: Block) -> None:
        self.cur = b

    def jump(self, b: Block) -> None:
        self.cur.term = Term("jump", [], [b.id])

    def br(self, c: Operand, t: Block, e: Block) -> None:
        self.cur.term = Term("br", [c], [t.id, e.id])

    def ret(self, v: Operand | None = None) -> None:
        self.cur.term = Term("ret", [v] if v is not None else [], [])


def loop_sum_module() -> Module:
    """sum(n) = sum of i*3 % 1000003 for i < n, as a while loop."""
    m = Module("t.spl")
    b = FB(m, "sum", [I64], I64)
    acc, i = b.reg(I64), b.reg(I64)
    b.set(acc, "copy", ci(0))
    b.set(i, "copy", ci(0))
    head, body, done = b.block(), b.block(), b.block()
    b.jump(head)
    b.at(head)
    c = b.op("ilt", BOOL, i, b.p(0))
    b.br(c, body, done)
    b.at(body)
    t = b.op("imul", I64, i, ci(3))
    b.set(acc, "iadd", acc, t)
    b.set(acc, "irem", acc, ci(1000003), loc=Loc(3, 5))
    b.set(i, "iadd", i, ci(1))
    b.jump(head)
    b.at(done)
    b.ret(acc)
    return m


def rec_module() -> Module:
    """depth(n) = n via n-deep recursion; the call is at 7:9."""
    m = Module("rec.spl")
    b = FB(m, "depth", [I64], I64)
    c = b.op("ile", BOOL, b.p(0), ci(0))
    base, step = b.block(), b.block()
    b.br(c, base, step)
    b.at(base)
    b.ret(ci(0))
    b.at(step)
    n1 = b.op("isub", I64, b.p(0), ci(1))
    r = b.op("call", I64, n1, extra="depth", loc=Loc(7, 9))
    b.ret(b.op("iadd", I64, r, ci(1)))
    return m


# --------------------------------------------------------------------------- basics


def test_loop() -> None:
    it = Interpreter(loop_sum_module())
    expected = 0
    for i in range(1000):
        expected = (expected + 3 * i) % 1000003
    assert it.call("sum", [1000]) == expected
    assert it.call("sum", [0]) == 0


def test_loop_speed() -> None:
    it = Interpreter(loop_sum_module())
    t0 = time.perf_counter()
    it.call("sum", [2_000_000])
    assert time.perf_counter() - t0 < 10.0


def test_arithmetic_and_wrap() -> None:
    m = Module()
    b = FB(m, "f", [I64, I64], I64)
    s = b.op("iadd", I64, b.p(0), b.p(1))
    p = b.op("imul", I64, s, ci(2))
    q = b.op("idiv", I64, p, ci(-3))
    b.ret(b.op("isub", I64, q, ci(1)))
    it = Interpreter(m)
    assert it.call("f", [5, 6]) == (22 // -3 + 1) - 1  # trunc(-7.33) = -7, minus 1
    assert it.call("f", [I64_MAX, 1]) == eval_pure(
        "isub",
        [eval_pure("idiv", [eval_pure("imul", [I64_MIN, 2]), -3]), 1],
    )


def test_nested_loops_and_many_blocks() -> None:
    # count pairs (i, j), i < n, j < n, with (i ^ j) & 1 == 0, through a chain
    # of merge blocks so that the dispatcher has many roots
    m = Module()
    b = FB(m, "pairs", [I64], I64)
    cnt, i, j = b.reg(I64), b.reg(I64), b.reg(I64)
    b.set(cnt, "copy", ci(0))
    b.set(i, "copy", ci(0))
    oh, ob, ih, ib, iend, done = (b.block() for _ in range(6))
    b.jump(oh)
    b.at(oh)
    b.br(b.op("ilt", BOOL, i, b.p(0)), ob, done)
    b.at(ob)
    b.set(j, "copy", ci(0))
    b.jump(ih)
    b.at(ih)
    b.br(b.op("ilt", BOOL, j, b.p(0)), ib, iend)
    b.at(ib)
    x = b.op("iand", I64, b.op("ixor", I64, i, j), ci(1))
    yes, no, merge = b.block(), b.block(), b.block()
    b.br(b.op("ieq", BOOL, x, ci(0)), yes, no)
    b.at(yes)
    b.set(cnt, "iadd", cnt, ci(1))
    b.jump(merge)
    b.at(no)
    b.jump(merge)
    b.at(merge)
    b.set(j, "iadd", j, ci(1))
    b.jump(ih)
    b.at(iend)
    b.set(i, "iadd", i, ci(1))
    b.jump(oh)
    b.at(done)
    b.ret(cnt)
    assert Interpreter(m).call("pairs", [7]) == sum(
        1 for i in range(7) for j in range(7) if not (i ^ j) & 1
    )


def test_deep_if_chain() -> None:
    # classify(x) = index of the first k with x == k in a chain of 200 branches
    m = Module()
    b = FB(m, "classify", [I64], I64)
    for k in range(200):
        hit, miss = b.block(), b.block()
        b.br(b.op("ieq", BOOL, b.p(0), ci(k)), hit, miss)
        b.at(hit)
        b.ret(ci(k * 10))
        b.at(miss)
    b.ret(ci(-1))
    it = Interpreter(m)
    assert [it.call("classify", [k]) for k in (0, 5, 50, 199, 200)] == [0, 50, 500, 1990, -1]


def test_register_assigned_on_one_path_only() -> None:
    m = Module()
    b = FB(m, "f", [BOOL], I64)
    x = b.reg(I64)
    yes, join = b.block(), b.block()
    b.br(b.p(0), yes, join)
    b.at(yes)
    b.set(x, "copy", ci(4))
    b.jump(join)
    b.at(join)
    b.ret(x)
    it = Interpreter(m)
    assert it.call("f", [True]) == 4
    assert it.call("f", [False]) == 0


def test_text_ops_and_print() -> None:
    m = Module()
    b = FB(m, "main", [], UNIT)
    s = b.op("tconcat", TEXT, ct("  ab"), ct("c \t"))
    t = b.op("ttrim", TEXT, s)
    b.op("print", None, t)
    b.op("print", None, b.op("tlen", I64, t))
    b.op("print", None, b.op("trepeat", TEXT, b.op("tupper", TEXT, t), ci(2)))
    b.op("print", None, cf(0.1))
    b.op("print", None, b.op("fadd", F64, cf(0.1), cf(0.2)))
    b.op("print", None, b.op("fdiv", F64, cf(1.0), cf(0.0)))
    b.op("print", None, cf(1e21))
    b.op("print", None, cb(True))
    b.op("print", None, Const(None, UNIT))
    b.op("print", None, b.op("totext", TEXT, cf(-0.0)))
    b.ret()
    out = io.StringIO()
    assert Interpreter(m, out=out).run_program() == 0
    assert out.getvalue().split("\n") == [
        "abc", "3", "ABCABC", "0.1", "0.30000000000000004", "inf",
        "1000000000000000000000", "true", "()", "-0", "",
    ]  # fmt: skip


# --------------------------------------------------------------------------- calls


def test_recursion_100k_deep() -> None:
    it = Interpreter(rec_module())
    assert it.call("depth", [100_000]) == 100_000
    assert it.call("depth", [150_000]) == 150_000


def test_stack_overflow_reports_call_loc() -> None:
    it = Interpreter(rec_module())
    with pytest.raises(SimpleRuntimeError) as info:
        it.call("depth", [250_000])
    assert info.value.message == "stack overflow"
    assert info.value.loc == Loc(7, 9)
    assert str(info.value) == "rec.spl:7:9: runtime error: stack overflow"
    assert it.call("depth", [10]) == 10  # still usable


def test_max_depth_is_exact() -> None:
    it = Interpreter(rec_module(), max_depth=50)
    assert it.call("depth", [49]) == 49  # 50 frames
    with pytest.raises(SimpleRuntimeError, match="stack overflow"):
        it.call("depth", [50])


def test_mutual_recursion_and_leaf_calls() -> None:
    m = Module()
    for name, other, base in (("even", "odd", True), ("odd", "even", False)):
        b = FB(m, name, [I64], BOOL)
        zero, step = b.block(), b.block()
        b.br(b.op("ieq", BOOL, b.p(0), ci(0)), zero, step)
        b.at(zero)
        b.ret(cb(base))
        b.at(step)
        b.ret(b.op("call", BOOL, b.op("call", I64, b.p(0), extra="dec"), extra=other))
    d = FB(m, "dec", [I64], I64)
    d.ret(d.op("isub", I64, d.p(0), ci(1)))
    it = Interpreter(m)
    assert it.call("even", [10]) is True
    assert it.call("odd", [7]) is True
    assert it.call("even", [100_001]) is False
    assert it.call("dec", [5]) == 4


def test_division_by_zero_loc_in_nested_frames() -> None:
    m = Module("d.spl")
    leaf = FB(m, "div", [I64, I64], I64)
    leaf.ret(leaf.op("idiv", I64, leaf.p(0), leaf.p(1), loc=Loc(2, 14)))
    mid = FB(m, "mid", [I64], I64)
    mid.ret(mid.op("call", I64, ci(10), mid.p(0), extra="div", loc=Loc(5, 3)))
    top = FB(m, "top", [I64], I64)
    r = top.op("call", I64, top.p(0), extra="mid", loc=Loc(8, 3))
    top.ret(top.op("irem", I64, ci(7), r, loc=Loc(9, 11)))
    it = Interpreter(m)
    assert it.call("top", [3]) == 7 % 3
    with pytest.raises(SimpleRuntimeError) as info:
        it.call("top", [0])
    assert str(info.value) == "d.spl:2:14: runtime error: division by zero"
    with pytest.raises(SimpleRuntimeError) as info:
        it.call("top", [20])  # 10 / 20 == 0, then 7 % 0
    assert str(info.value) == "d.spl:9:11: runtime error: division by zero"


def test_negative_exponent_with_unused_result() -> None:
    m = Module()
    b = FB(m, "f", [I64], UNIT)
    b.cur.instrs.append(Instr("ipow", None, [ci(2), b.p(0)], None, Loc(1, 3)))
    b.ret()
    it = Interpreter(m)
    assert it.call("f", [3]) is None
    with pytest.raises(SimpleRuntimeError, match=r"1:3: runtime error: negative exponent"):
        it.call("f", [-1])


def test_callext() -> None:
    m = Module()
    m.externs["labs"] = Extern("labs", [I64], I64)
    m.externs["no_such_symbol_xyz"] = Extern("no_such_symbol_xyz", [I64], I64)
    m.externs["puts"] = Extern("puts", [TEXT], I64)
    b = FB(m, "f", [I64], I64)
    b.ret(b.op("callext", I64, b.p(0), extra="labs", loc=Loc(4, 4)))
    for name, arg in (("g", ci(1)), ("h", ct("x"))):
        g = FB(m, name, [], I64)
        sym = "no_such_symbol_xyz" if name == "g" else "puts"
        g.ret(g.op("callext", I64, arg, extra=sym, loc=Loc(6, 2)))
    it = Interpreter(m)
    assert it.call("f", [-42]) == 42
    for name in ("g", "h"):
        with pytest.raises(
            SimpleRuntimeError, match="6:2: runtime error: extern functions are not available"
        ):
            it.call(name, [])


def test_fuel() -> None:
    m = Module("loop.spl")
    b = FB(m, "spin", [], UNIT)
    head = b.block()
    b.jump(head)
    b.at(head)
    b.op("iadd", I64, ci(1), ci(2), loc=Loc(2, 5))
    b.jump(head)
    it = Interpreter(m, fuel=10_000)
    with pytest.raises(SimpleRuntimeError) as info:
        it.call("spin", [])
    assert info.value.message == "out of fuel"
    assert info.value.loc == Loc(2, 5)
    assert it.fuel == 0
    # fuel is counted per executed block, across calls
    it2 = Interpreter(loop_sum_module(), fuel=1000)
    it2.call("sum", [10])  # entry + 11 headers + 10 bodies + exit
    assert it2.fuel == 1000 - 23
    it3 = Interpreter(rec_module(), fuel=100)
    it3.call("depth", [10])  # 11 frames x 2 blocks
    assert it3.fuel == 100 - 22
    assert Interpreter(rec_module()).fuel is None


# --------------------------------------------------------------------------- programs


def test_globals_and_run_program() -> None:
    m = Module()
    m.globals["count"] = Global("count", I64)
    m.globals["name"] = Global("name", TEXT)
    m.globals["f"] = Global("f", F64)
    init = FB(m, Module.INIT, [], UNIT)
    init.op("print", None, init.op("gload", TEXT, extra="name"))  # "" initially
    init.op("gstore", None, ci(40), extra="count")
    init.ret()
    bump = FB(m, "bump", [], UNIT)
    bump.op(
        "gstore",
        None,
        bump.op("iadd", I64, bump.op("gload", I64, extra="count"), ci(1)),
        extra="count",
    )
    bump.ret()
    main = FB(m, "main", [], I64)
    main.op("call", UNIT, extra="bump")
    main.op("call", UNIT, extra="bump")
    main.op("print", None, main.op("gload", F64, extra="f"))
    main.ret(main.op("gload", I64, extra="count"))
    out = io.StringIO()
    it = Interpreter(m, out=out)
    assert it.run_program() == 42
    assert out.getvalue() == "\n0\n"
    assert it.get_global("count") == 42


def test_run_program_without_main_or_with_unit_main() -> None:
    m = Module()
    init = FB(m, Module.INIT, [], UNIT)
    init.op("print", None, ci(1))
    init.ret()
    out = io.StringIO()
    assert Interpreter(m, out=out).run_program() == 0
    assert out.getvalue() == "1\n"
    m2 = Module()
    FB(m2, "main", [], UNIT).ret()
    assert Interpreter(m2).run_program() == 0
    assert Interpreter(Module()).run_program() == 0


class RecordingOut(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


def test_output_is_buffered_and_flushed_before_errors() -> None:
    m = Module("o.spl")
    b = FB(m, "main", [I64], I64)
    b.op("print", None, ct("before"))
    r = b.op("call", I64, b.p(0), extra="inner")
    b.op("print", None, ct("after"))
    b.ret(r)
    inner = FB(m, "inner", [I64], I64)
    inner.op("print", None, ct("inner"))
    inner.ret(inner.op("idiv", I64, ci(1), inner.p(0), loc=Loc(3, 3)))
    out = RecordingOut()
    it = Interpreter(m, out=out)
    assert it.call("main", [1]) == 1
    assert out.getvalue() == "before\ninner\nafter\n"
    assert out.writes == 1  # one chunk
    with pytest.raises(SimpleRuntimeError) as info:
        it.call("main", [0])
    assert out.getvalue().endswith("after\nbefore\ninner\n")  # flushed, in order
    assert info.value.loc == Loc(3, 3)


def test_output_written_in_chunks() -> None:
    m = loop_sum_module()
    b = FB(m, "many", [I64], UNIT)
    i = b.reg(I64)
    b.set(i, "copy", ci(0))
    head, body, done = b.block(), b.block(), b.block()
    b.jump(head)
    b.at(head)
    b.br(b.op("ilt", BOOL, i, b.p(0)), body, done)
    b.at(body)
    b.op("print", None, i)
    b.set(i, "iadd", i, ci(1))
    b.jump(head)
    b.at(done)
    b.ret()
    out = RecordingOut()
    Interpreter(m, out=out).call("many", [10_000])
    assert out.getvalue() == "".join(f"{k}\n" for k in range(10_000))
    assert 1 < out.writes < 10


# --------------------------------------------------------------------------- tier 2


def test_arrays() -> None:
    m = Module("a.spl")
    arr = ArrayT(I64)
    b = FB(m, "f", [I64], I64)
    a = b.op("array_new", arr, ci(1), ci(2), extra=I64)
    b.op("array_push", None, a, ci(3))
    b.op("array_set", None, a, ci(0), ci(10), loc=Loc(1, 1))
    b.op("print", None, a)
    x = b.op("array_get", I64, a, b.p(0), loc=Loc(2, 7))
    y = b.op("array_pop", I64, a, loc=Loc(3, 1))
    n = b.op("array_len", I64, a)
    b.ret(b.op("iadd", I64, b.op("iadd", I64, x, y), n))
    e = FB(m, "g", [], I64)
    empty = e.op("array_new", arr, extra=I64)
    e.ret(e.op("array_pop", I64, empty, loc=Loc(5, 5)))
    out = io.StringIO()
    it = Interpreter(m, out=out)
    assert it.call("f", [1]) == 2 + 3 + 2
    assert it.call("f", [-1]) == 3 + 3 + 2  # negative index counts from the end
    assert out.getvalue() == "[10, 2, 3]\n[10, 2, 3]\n"
    with pytest.raises(SimpleRuntimeError, match=r"a.spl:2:7: runtime error: index out of range"):
        it.call("f", [3])
    with pytest.raises(SimpleRuntimeError, match=r"5:5: runtime error: pop from empty array"):
        it.call("g", [])


def test_structs_enums_tuples_options() -> None:
    m = Module()
    m.structs["Point"] = StructDef("Point", (("x", I64), ("y", I64)))
    m.enums["Shape"] = EnumDef("Shape", (("Circle", (F64,)), ("Rect", (F64, F64)), ("Empty", ())))
    pt, sh = StructT("Point"), EnumT("Shape")
    b = FB(m, "main", [], I64)
    p = b.op("struct_new", pt, ci(1), ci(2), extra="Point")
    p2 = b.op("field_set", pt, p, ci(5), extra=0)
    b.op("print", None, p)
    b.op("print", None, p2)
    c = b.op("enum_new", sh, cf(2.0), extra="Shape.Circle")
    r = b.op("enum_new", sh, cf(2.0), cf(3.5), extra="Shape.Rect")
    e = b.op("enum_new", sh, extra="Shape.Empty")
    for v in (c, r, e):
        b.op("print", None, v)
    tup = b.op("tuple_new", TupleT((I64, TEXT)), ci(3), ct("a"))
    b.op("print", None, tup)
    some = b.op("opt_some", OptionT(I64), ci(9))
    none = b.op("opt_none", OptionT(I64), extra=OptionT(I64))
    b.op("print", None, some)
    b.op("print", None, none)
    nested = b.op("opt_some", OptionT(OptionT(I64)), none)
    b.op("print", None, b.op("opt_is_some", BOOL, nested))
    b.op("print", None, b.op("opt_is_some", BOOL, b.op("opt_get", OptionT(I64), nested)))
    b.op(
        "print",
        None,
        b.op("totext", TEXT, b.op("array_new", ArrayT(TEXT), ct("x"), ct("y"), extra=TEXT)),
    )
    total = b.op(
        "iadd", I64, b.op("field_get", I64, p2, extra=0), b.op("tuple_get", I64, tup, extra=0)
    )
    total = b.op("iadd", I64, total, b.op("enum_tag", I64, r))
    w = b.op("f2i", I64, b.op("enum_field", F64, r, extra="1.1"))
    total = b.op("iadd", I64, total, w)
    total = b.op("iadd", I64, total, b.op("opt_get", I64, some))
    b.ret(total)
    out = io.StringIO()
    assert Interpreter(m, out=out).run_program() == 5 + 3 + 1 + 3 + 9
    assert out.getvalue().split("\n") == [
        "Point(x: 1, y: 2)", "Point(x: 5, y: 2)", "Shape.Circle(2)", "Shape.Rect(2, 3.5)",
        "Shape.Empty", "(3, a)", "9", "nil", "true", "false", "[x, y]", "",
    ]  # fmt: skip


# --------------------------------------------------------------------------- vs eval_pure

I64_EDGE = [0, 1, -1, 2, -2, 3, -7, 63, 64, 65, 1000003, I64_MIN, I64_MAX, I64_MIN + 1]
F64_EDGE = [0.0, -0.0, 1.0, -1.5, 0.5, 3.0, 1e308, -1e-320, math.inf, -math.inf, math.nan]
TEXT_EDGE = ["", "a", " ab \t", "héllo", "Ab"]
EDGE: dict[Type, list[object]] = {
    I64: list(I64_EDGE),
    F64: list(F64_EDGE),
    BOOL: [True, False],
    TEXT: list(TEXT_EDGE),
}
STRATS: dict[Type, st.SearchStrategy[Any]] = {
    I64: st.one_of(
        st.sampled_from(I64_EDGE), st.integers(I64_MIN, I64_MAX), st.integers(-100, 100)
    ),
    F64: st.floats(width=64),
    BOOL: st.booleans(),
    TEXT: st.text(max_size=8),
}
_TY = {"i64": I64, "f64": F64, "bool": BOOL, "text": TEXT}


def op_signatures(op: str) -> list[tuple[Type, ...]]:
    args = OPS[op].args
    assert args is not None
    if op == "copy":
        return [(I64,), (F64,), (TEXT,)]
    if op == "totext":
        return [(I64,), (F64,), (BOOL,), (TEXT,)]
    if op == "select":
        return [(BOOL, I64, I64), (BOOL, F64, F64)]
    return [tuple(_TY[a] for a in args)]


def result_type(op: str, sig: tuple[Type, ...]) -> Type:
    res = OPS[op].result
    assert res is not None
    return sig[-1] if res == "*" else _TY[res]


def outcome(fn: Any) -> tuple[str, object]:
    try:
        return ("ok", fn())
    except (OpError, SimpleRuntimeError) as e:
        return ("err", e.message)


def same(a: tuple[str, object], b: tuple[str, object]) -> bool:
    if a[0] != b[0] or type(a[1]) is not type(b[1]):
        return False
    x, y = a[1], b[1]
    if isinstance(x, float) and isinstance(y, float):
        if math.isnan(x) or math.isnan(y):
            return math.isnan(x) and math.isnan(y)
        return x == y and math.copysign(1, x) == math.copysign(1, y)
    return x == y


def op_module(op: str, sig: tuple[Type, ...], consts: list[list[object]]) -> Module:
    """f: all operands in registers; c<k>: operands from ``consts[k]`` (None = register)."""
    m = Module()
    res = result_type(op, sig)
    b = FB(m, "f", list(sig), res)
    b.ret(b.op(op, res, *[b.p(i) for i in range(len(sig))], loc=Loc(1, 1)))
    for k, vals in enumerate(consts):
        b = FB(m, f"c{k}", list(sig), res)
        args = [b.p(i) if v is None else Const(v, sig[i]) for i, v in enumerate(vals)]  # type: ignore[arg-type]
        b.ret(b.op(op, res, *args, loc=Loc(1, 1)))
    return m


DIFF_OPS = sorted(PURE_OPS)


OP_SIGS = [(op, sig) for op in DIFF_OPS for sig in op_signatures(op)]
_interp_cache: dict[tuple[str, tuple[Type, ...]], Interpreter] = {}


@pytest.mark.parametrize(
    ("op", "sig"), OP_SIGS, ids=[f"{o}-{'-'.join(map(str, s))}" for o, s in OP_SIGS]
)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_ops_match_eval_pure_random(op: str, sig: tuple[Type, ...], data: st.DataObject) -> None:
    it = _interp_cache.get((op, sig))
    if it is None:
        it = _interp_cache[(op, sig)] = Interpreter(op_module(op, sig, []))
    args = list(data.draw(st.tuples(*(STRATS[t] for t in sig))))
    expect = outcome(lambda: eval_pure(op, args, None))
    got = outcome(lambda: it.call("f", args))
    assert same(expect, got), (op, sig, args, expect, got)


@pytest.mark.parametrize("op", DIFF_OPS)
def test_ops_match_eval_pure_constant_operands(op: str) -> None:
    for sig in op_signatures(op):
        cases = list(itertools.product(*(EDGE[t] for t in sig)))
        consts: list[list[object]] = []
        for args in cases:  # each operand position as a constant in turn
            for pos in range(len(sig)):
                consts.append([v if i == pos else None for i, v in enumerate(args)])
        it = Interpreter(op_module(op, sig, consts))
        for args in cases:
            expect = outcome(partial(eval_pure, op, list(args), None))
            assert same(expect, outcome(partial(it.call, "f", list(args)))), (op, args)
        for k, vals in enumerate(consts):
            full = list(cases[k // len(sig)])  # the constant positions are ignored
            got = outcome(partial(it.call, f"c{k}", full))
            expect = outcome(partial(eval_pure, op, full, None))
            assert same(expect, got), (op, vals, full, expect, got)
