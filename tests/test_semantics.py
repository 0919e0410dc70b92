"""Tests of simple_jit.semantics: the scalar semantics shared by interpreter and folder."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simple_jit.semantics import (
    ASCII_WS,
    I64_MAX,
    I64_MIN,
    PURE_OPS,
    OpError,
    display,
    eval_pure,
    format_f64,
    white_space,
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
    assert ev("ttrim", "\u00a0x\u00a0") == "x"  # White_Space, not only ASCII
    assert ev("tupper", "straße é") == "STRASSE É"
    assert ev("tlower", "ÀBC") == "àbc"
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


# Unicode 14 upper/lower/trim (simple_jit.unicode_tables): full per-character
# case mapping, no context-dependent rules, the White_Space property.

WHITE_SPACE_25 = [
    *range(0x09, 0x0E),
    0x20,
    0x85,
    0xA0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
]

CASE_EXAMPLES = [
    # (text, upper, lower)
    ("naïve café", "NAÏVE CAFÉ", "naïve café"),
    ("ÅNGSTRÖM", "ÅNGSTRÖM", "ångström"),
    ("straße", "STRASSE", "straße"),
    ("ẞ", "ẞ", "ß"),  # capital sharp s lowers to ß; ß uppers to SS
    ("ﬁ ﬃ", "FI FFI", "ﬁ ﬃ"),  # ligatures: full mapping, several code points
    ("ὀδυσσεύς", "ὈΔΥΣΣΕΎΣ", "ὀδυσσεύς"),
    ("ΐ", "\u0399\u0308\u0301", "ΐ"),  # one code point -> three
    ("ᾳ", "\u0391\u0399", "ᾳ"),  # iota subscript: full (not simple) mapping
    ("Привет, мир! Ёж", "ПРИВЕТ, МИР! ЁЖ", "привет, мир! ёж"),
    ("İstanbul", "İSTANBUL", "i\u0307stanbul"),  # U+0130 lowers to i + combining dot
    ("\u0131sparta", "ISPARTA", "\u0131sparta"),  # dotless i (U+0131) uppers to I
    ("i I", "I I", "i i"),  # no Turkish locale rules
    ("ǅ", "Ǆ", "ǆ"),  # titlecase digraph
    ("ŉ", "\u02bcN", "ŉ"),
    ("Ω K Å", "Ω K Å", "ω k å"),  # ohm, kelvin, angstrom signs (U+2126, U+212A, U+212B)
    ("日本語 🎉 123", "日本語 🎉 123", "日本語 🎉 123"),  # no case: unchanged
    ("Ꞔ ꞔ 𞤀 𞤢", "Ꞔ Ꞔ 𞤀 𞤀", "ꞔ ꞔ 𞤢 𞤢"),  # Unicode 7..9 additions, astral plane
]


@pytest.mark.parametrize(("text", "upper", "lower"), CASE_EXAMPLES)
def test_upper_lower_examples(text: str, upper: str, lower: str) -> None:
    assert ev("tupper", text) == upper
    assert ev("tlower", text) == lower


def test_case_mapping_is_per_character_without_final_sigma() -> None:
    # Python's str.lower() turns a word-final capital sigma into U+03C2; Simple
    # maps every character by itself, as the C runtime does.
    assert "ΟΔΥΣΣΕΥΣ".lower() == "οδυσσευς"
    assert ev("tlower", "ΟΔΥΣΣΕΥΣ") == "οδυσσευσ"
    assert ev("tlower", "Σ") == "\u03c3"
    assert ev("tupper", "\u03c2 \u03c3") == "Σ Σ"


def test_trim_removes_white_space_only() -> None:
    for c in WHITE_SPACE_25:
        ch = chr(c)
        assert ev("ttrim", ch + "x" + ch) == "x", hex(c)
        assert ev("ttrim", ch * 3) == ""
        assert ev("ttrim", f"x{ch}y") == f"x{ch}y"
    # str.isspace() also has U+001C..U+001F; not White_Space, not trimmed.
    for c in (0x1C, 0x1D, 0x1E, 0x1F, 0x200B, 0xFEFF, 0x180E):
        ch = chr(c)
        assert ev("ttrim", f" {ch}x{ch} ") == f"{ch}x{ch}", hex(c)
    assert ev("ttrim", "\u3000\u2029 ünïcödé\u00a0\u0085\t") == "ünïcödé"
    assert ev("ttrim", "  ünïcödé  ") == "ünïcödé"


def test_unicode_tables_contents() -> None:
    from simple_jit import unicode_tables as u

    assert u.UNICODE_VERSION == "14.0.0"
    assert [ord(c) for c in u.WHITE_SPACE] == WHITE_SPACE_25
    assert set(ASCII_WS) == {c for c in u.WHITE_SPACE if c.isascii()}
    assert white_space() == u.WHITE_SPACE
    for keys, values in ((u.UPPER_KEYS, u.UPPER_VALUES), (u.LOWER_KEYS, u.LOWER_VALUES)):
        vals = values.split(u.SEP)
        assert len(vals) == len(keys)
        assert list(keys) == sorted(set(keys))
        assert all(v and v != k for k, v in zip(keys, vals, strict=True))
        assert not any(0xD800 <= ord(k) <= 0xDFFF for k in keys)


@pytest.mark.skipif(
    unicodedata.unidata_version != "14.0.0", reason="needs Python 3.11's Unicode 14 database"
)
def test_unicode_tables_are_current() -> None:
    gen = Path(__file__).resolve().parent.parent / "scripts" / "gen_unicode_tables.py"
    proc = subprocess.run(
        [sys.executable, str(gen), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_unicode_tables_load_lazily() -> None:
    code = textwrap.dedent(
        """
        import sys
        from simple_jit import semantics
        from simple_jit.interp import machine
        assert "simple_jit.unicode_tables" not in sys.modules
        assert semantics.tupper("abc") == "ABC"
        assert semantics.tlower("ABC") == "abc"
        assert semantics.ttrim(" a ") == "a"
        assert "simple_jit.unicode_tables" not in sys.modules
        assert semantics.tupper("é") == "É"
        assert "simple_jit.unicode_tables" in sys.modules
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


_unicode14 = pytest.mark.skipif(
    unicodedata.unidata_version != "14.0.0",
    reason="the tables are Unicode 14: compare with Python 3.11's database only",
)
# Surrogates cannot occur in Simple texts (UTF-8); everything else can.
unicode_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@_unicode14
@settings(max_examples=500)
@given(unicode_text)
def test_case_mapping_matches_python_per_character(s: str) -> None:
    assert ev("tupper", s) == "".join(ch.upper() for ch in s) == s.upper()
    assert ev("tlower", s) == "".join(ch.lower() for ch in s)


@_unicode14
def test_case_mapping_matches_python_for_every_code_point() -> None:
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        assert ev("tupper", ch) == ch.upper(), hex(c)
        assert ev("tlower", ch) == ch.lower(), hex(c)


@given(unicode_text)
def test_trim_is_strip_of_white_space(s: str) -> None:
    ws = "".join(map(chr, WHITE_SPACE_25))
    assert ev("ttrim", s) == s.strip(ws)
    assert ev("ttrim", " " + s + "\u3000") == s.strip(ws)


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=40))
def test_ascii_fast_paths_agree_with_tables(s: str) -> None:
    # A non-ASCII character that maps to itself (U+4E00) / is White_Space
    # (U+3000) forces the table path.
    assert ev("tupper", "\u4e00" + s) == "\u4e00" + s.upper()
    assert ev("tlower", "\u4e00" + s) == "\u4e00" + s.lower()
    assert ev("ttrim", "\u3000" + s + "\u3000") == ev("ttrim", s) == s.strip(ASCII_WS)


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
