"""Tests of simple_jit.semantics: the scalar semantics shared by interpreter and folder."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simple_jit.semantics import (
    I64_MAX,
    I64_MIN,
    PURE_OPS,
    OpError,
    display,
    eval_pure,
    format_f64,
    wrap,
)
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
)

i64s = st.integers(min_value=I64_MIN, max_value=I64_MAX)


def ev(op: str, *args: object) -> object:
    return eval_pure(op, list(args), None)


# --------------------------------------------------------------------------- i64


def test_wrapping_arithmetic() -> None:
    assert ev("iadd", I64_MAX, 1) == I64_MIN
    assert ev("isub", I64_MIN, 1) == I64_MAX
    assert ev("imul", I64_MAX, 2) == -2
    assert ev("ineg", I64_MIN) == I64_MIN
    assert ev("iabs", I64_MIN) == I64_MIN
    assert ev("iabs", -5) == 5
    assert ev("inot", 0) == -1


@given(i64s, i64s)
def test_i64_results_in_range(a: int, b: int) -> None:
    for op in ("iadd", "isub", "imul", "iand", "ior", "ixor", "ishl", "ishr", "imin", "imax"):
        r = ev(op, a, b)
        assert isinstance(r, int) and I64_MIN <= r <= I64_MAX, op
    assert ev("iadd", a, b) == wrap(a + b)
    assert ev("imul", a, b) == (a * b + 2**63) % 2**64 - 2**63


def test_div_rem_corner_cases() -> None:
    assert ev("idiv", 7, 2) == 3
    assert ev("idiv", -7, 2) == -3
    assert ev("idiv", 7, -2) == -3
    assert ev("idiv", -7, -2) == 3
    assert ev("irem", 7, 2) == 1
    assert ev("irem", -7, 2) == -1
    assert ev("irem", 7, -2) == 1
    assert ev("irem", -7, -2) == -1
    assert ev("idiv", I64_MIN, -1) == I64_MIN
    assert ev("irem", I64_MIN, -1) == 0
    for op in ("idiv", "irem"):
        with pytest.raises(OpError) as info:
            ev(op, 1, 0)
        assert info.value.message == "division by zero"


@given(i64s, i64s.filter(lambda b: b != 0))
def test_div_rem_identity(a: int, b: int) -> None:
    q, r = ev("idiv", a, b), ev("irem", a, b)
    assert isinstance(q, int) and isinstance(r, int)
    assert wrap(q * b + r) == a
    assert abs(r) < abs(b)
    assert r == 0 or (r < 0) == (a < 0)


def test_pow() -> None:
    assert ev("ipow", 2, 10) == 1024
    assert ev("ipow", 0, 0) == 1
    assert ev("ipow", -3, 3) == -27
    assert ev("ipow", 2, 63) == I64_MIN
    assert ev("ipow", 2, 64) == 0
    assert ev("ipow", 3, 40) == wrap(3**40)
    assert ev("ipow", 7, I64_MAX) == wrap(pow(7, I64_MAX, 2**64))
    with pytest.raises(OpError, match="negative exponent"):
        ev("ipow", 2, -1)


def test_shifts() -> None:
    assert ev("ishl", 1, 65) == 2
    assert ev("ishl", 1, 63) == I64_MIN
    assert ev("ishl", 1, 64) == 1
    assert ev("ishl", 1, -1) == I64_MIN  # -1 & 63 == 63
    assert ev("ishr", -8, 1) == -4
    assert ev("ishr", -1, 63) == -1
    assert ev("ishr", 8, 66) == 2


def test_conversions() -> None:
    assert ev("f2i", 2.9) == 2
    assert ev("f2i", -2.9) == -2
    assert ev("f2i", math.nan) == 0
    assert ev("f2i", math.inf) == I64_MAX
    assert ev("f2i", -math.inf) == I64_MIN
    assert ev("f2i", 1e19) == I64_MAX
    assert ev("f2i", -1e19) == I64_MIN
    assert ev("f2i", 9223372036854775807.0) == I64_MAX
    assert ev("f2i", -9223372036854775808.0) == I64_MIN
    assert ev("f2i", 9.2233720368547748e18) == 9223372036854774784
    assert ev("i2f", 3) == 3.0
    assert ev("b2i", True) == 1 and type(ev("b2i", True)) is int


# --------------------------------------------------------------------------- f64


def test_float_ops() -> None:
    assert ev("fdiv", 1.0, 0.0) == math.inf
    assert ev("fdiv", -1.0, 0.0) == -math.inf
    assert ev("fdiv", 1.0, -0.0) == -math.inf
    assert math.isnan(ev("fdiv", 0.0, 0.0))  # type: ignore[arg-type]
    assert math.isnan(ev("fdiv", math.nan, 0.0))  # type: ignore[arg-type]
    assert ev("frem", -7.5, 2.0) == -1.5
    assert math.isnan(ev("frem", 1.0, 0.0))  # type: ignore[arg-type]
    assert math.isnan(ev("frem", math.inf, 2.0))  # type: ignore[arg-type]
    assert ev("frem", 1.5, math.inf) == 1.5
    assert math.isnan(ev("fsqrt", -1.0))  # type: ignore[arg-type]
    assert ev("fmin", 1.0, 2.0) == 1.0
    assert ev("fmax", 1.0, 2.0) == 2.0
    assert ev("fmin", math.nan, 2.0) == 2.0
    assert math.isnan(ev("fmin", 2.0, math.nan))  # type: ignore[arg-type]
    assert ev("fne", math.nan, math.nan) is True
    assert ev("feq", math.nan, math.nan) is False
    assert ev("flt", math.nan, 1.0) is False


def test_fpow_matches_c() -> None:
    assert ev("fpow", 0.0, -1.0) == math.inf
    assert ev("fpow", -0.0, -1.0) == -math.inf
    assert ev("fpow", -0.0, -2.0) == math.inf
    assert ev("fpow", 0.0, -0.5) == math.inf
    assert math.isnan(ev("fpow", -8.0, 1.0 / 3.0))  # type: ignore[arg-type]
    assert ev("fpow", 10.0, 400.0) == math.inf
    assert ev("fpow", -10.0, 309.0) == -math.inf
    assert ev("fpow", -10.0, 310.0) == math.inf
    assert ev("fpow", 10.0, -400.0) == 0.0
    assert ev("fpow", 1.0, math.nan) == 1.0
    assert ev("fpow", math.nan, 0.0) == 1.0
    assert ev("fpow", -1.0, math.inf) == 1.0
    assert ev("fpow", 2.0, 0.5) == math.sqrt(2.0)
    assert ev("fpow", -2.0, 3.0) == -8.0


# --------------------------------------------------------------------------- text


def test_text_ops() -> None:
    assert ev("tlen", "héllo") == 5
    assert ev("ttrim", " \t\n x y \r\f\v") == "x y"
    assert ev("ttrim", "\u00a0x\u00a0") == "\u00a0x\u00a0"  # not ASCII whitespace
    assert ev("tupper", "straße é") == "STRAßE é"
    assert ev("tlower", "ÀBC") == "Àbc"
    assert ev("trepeat", "ab", 3) == "ababab"
    assert ev("trepeat", "ab", 0) == ""
    assert ev("trepeat", "ab", -5) == ""
    assert ev("tconcat", "a", "b") == "ab"
    assert ev("tcontains", "hello", "ell") is True
    assert ev("tstarts", "hello", "he") is True
    assert ev("tends", "hello", "lo") is True
    assert ev("tlt", "a", "b") is True
    assert ev("tlt", "z", "é") is True  # UTF-8 byte order
    assert ev("tlt", "\uffff", "\U0001f600") is True


@given(st.text(), st.text())
def test_text_order_is_utf8_byte_order(a: str, b: str) -> None:
    try:
        ab, bb = a.encode(), b.encode()
    except UnicodeEncodeError:
        return
    assert ev("tlt", a, b) == (ab < bb)


def test_totext_and_unhandled_ops() -> None:
    assert ev("totext", 3) == "3"
    assert ev("totext", 3.0) == "3"
    assert ev("totext", True) == "true"
    assert ev("totext", "x") == "x"
    assert eval_pure("totext", [None], UNIT) == "()"
    assert eval_pure("totext", [None], OptionT(I64)) == "nil"
    with pytest.raises(ValueError):
        ev("totext", None)
    with pytest.raises(KeyError):
        ev("array_len", [1])
    assert "print" not in PURE_OPS and "call" not in PURE_OPS
    assert ev("select", True, 1, 2) == 1 and ev("select", False, 1, 2) == 2


# --------------------------------------------------------------------------- display

FORMAT_TABLE = [
    (3.0, "3"),
    (0.1 + 0.2, "0.30000000000000004"),
    (1e21, "1000000000000000000000"),
    (1e-7, "0.0000001"),
    (-0.0, "-0"),
    (0.0, "0"),
    (math.inf, "inf"),
    (-math.inf, "-inf"),
    (math.nan, "NaN"),
    (2.5e-3, "0.0025"),
    (1e300, "1" + "0" * 300),
    (-1.5, "-1.5"),
    (123.456, "123.456"),
    (1e16, "10000000000000000"),
    (1.5e-10, "0.00000000015"),
    (12345678.9, "12345678.9"),
    (5e-324, "0." + "0" * 323 + "5"),
]


@pytest.mark.parametrize(("x", "expected"), FORMAT_TABLE)
def test_format_f64_table(x: float, expected: str) -> None:
    assert format_f64(x) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_f64_round_trips(x: float) -> None:
    s = format_f64(x)
    assert "e" not in s and "E" not in s
    assert float(s) == x
    assert math.copysign(1.0, float(s)) == math.copysign(1.0, x)
    assert not s.endswith(".0")
    if "." in s:
        assert not s.endswith("0")


def test_display_forms() -> None:
    class Decls:
        structs = {"Point": StructDef("Point", (("x", I64), ("y", F64)))}
        enums = {
            "Shape": EnumDef("Shape", (("Circle", (F64,)), ("Empty", ()))),
            "Light": EnumDef("Light", (("Red", ()),)),
        }

    d = Decls()
    assert display(5, I64) == "5"
    assert display(2.0, F64) == "2"
    assert display(True, BOOL) == "true"
    assert display("hi", TEXT) == "hi"
    assert display(None, UNIT) == "()"
    assert display([1, 2, 3], ArrayT(I64)) == "[1, 2, 3]"
    assert display(["a", "b"], ArrayT(TEXT)) == "[a, b]"
    assert display([], ArrayT(TEXT)) == "[]"
    assert display((1, 2.5), StructT("Point"), d) == "Point(x: 1, y: 2.5)"
    assert display((0, 2.0), EnumT("Shape"), d) == "Shape.Circle(2)"
    assert display((1,), EnumT("Shape"), d) == "Shape.Empty"
    assert display((0,), EnumT("Light"), d) == "Light.Red"
    assert display((3, "a"), TupleT((I64, TEXT))) == "(3, a)"
    assert display(7, OptionT(I64)) == "7"
    assert display(None, OptionT(I64)) == "nil"
    assert display((None,), OptionT(OptionT(I64))) == "nil"
    assert display((4,), OptionT(OptionT(I64))) == "4"
    assert display([[1], [2, 3]], ArrayT(ArrayT(I64))) == "[[1], [2, 3]]"
