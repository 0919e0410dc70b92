"""The C runtime library (src/simple_jit/runtime/simple_rt.c), driven through ctypes.

Text operations and f64 formatting are checked against ``simple_jit.semantics``
(the reference), byte for byte. C-side behaviour that cannot run through a
Python callback (longjmp out of ``rt_panic``, deep recursion) is exercised by a
small helper library compiled here with ``cc``.
"""

from __future__ import annotations

import ctypes
import math
import os
import shutil
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from simple_jit import semantics
from simple_jit.runtime import (
    aot_link_flags,
    aot_runtime_object,
    load_runtime,
    runtime_library_path,
    runtime_source_dir,
    source_hash,
)

pytestmark = pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")

ROOT = Path(__file__).resolve().parent.parent
SRC_DIR = Path(runtime_source_dir())
RT_C = SRC_DIR / "simple_rt.c"

# --------------------------------------------------------------------------
# fixtures

HELPER_C = r"""
#include "simple_rt.h"
#include <string.h>

/* 1,000,000 concat + decref cycles (plus the other allocating ops). */
int64_t churn(int64_t n) {
    SimpleText *a = rt_text_new("ab", 2), *b = rt_text_new("h\xc3\xa9llo", -1);
    for (int64_t i = 0; i < n; i++) {
        SimpleText *c = rt_text_concat(a, b);
        SimpleText *d = rt_text_upper(c);
        SimpleText *e = rt_text_repeat(d, 3);
        SimpleText *f = rt_text_from_i64(i);
        rt_text_decref(c);
        rt_text_decref(d);
        rt_text_decref(e);
        rt_text_decref(f);
    }
    rt_text_decref(a);
    rt_text_decref(b);
    return 0;
}

int64_t panic_div(void *arg) {
    (void)arg;
    rt_print_i64(1);
    rt_panic(1, "prog.spl", 3, 7);
}

int64_t panic_kind(void *arg) {
    rt_panic((int32_t)(intptr_t)arg, "k.spl", 1, 2);
}

int64_t add_one(void *arg) { return *(int64_t *)arg + 1; }

/* Nested recovery points: the inner one catches, the outer call goes on. */
int64_t nested(void *arg) {
    (void)arg;
    int64_t r = 0;
    int st = rt_run_protected(panic_div, NULL, &r);
    int64_t x = 41;
    int st2 = rt_run_protected(add_one, &x, &r);
    return st * 1000 + st2 * 100 + r; /* 1000 + 0 + 42 */
}

__attribute__((noinline)) static int64_t recurse(int64_t depth, uintptr_t limit) {
    volatile char pad[64];
    pad[0] = (char)depth;
    if ((uintptr_t)__builtin_frame_address(0) < limit) rt_panic(5, "deep.spl", 2, 5);
    if (depth == 0) return pad[0];
    return recurse(depth - 1, limit) + 1 + pad[0] * 0;
}

static int64_t wanted_depth = 0;
void set_depth(int64_t d) { wanted_depth = d; }

/* An rt_run_main entry: recursion to wanted_depth (< 0: forever). */
int64_t deep_main(uintptr_t limit) {
    return recurse(wanted_depth < 0 ? INT64_MAX : wanted_depth, limit);
}

/* Under rt_run_protected on the calling thread, with rt_stack_limit_here(). */
int64_t deep_here(void *arg) {
    (void)arg;
    return recurse(wanted_depth < 0 ? INT64_MAX : wanted_depth, rt_stack_limit_here());
}

uintptr_t frame_address(void) { return (uintptr_t)__builtin_frame_address(0); }
"""


class Text:
    """Helpers for SimpleText* values (plain ints from ctypes)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self._literals: list[ctypes.Array[ctypes.c_char]] = []

    def new(self, s: str | bytes) -> int:
        b = s.encode() if isinstance(s, str) else s
        p = self.lib.rt_text_new(b, len(b))
        assert p
        return int(p)

    def literal(self, s: str) -> int:
        """An immortal text (rc = -1), laid out as the compiler emits literals."""
        b = s.encode()
        buf = ctypes.create_string_buffer(struct.pack("<qq", -1, len(b)) + b + b"\0")
        self._literals.append(buf)
        return ctypes.addressof(buf)

    @staticmethod
    def rc(p: int) -> int:
        return ctypes.c_int64.from_address(p).value

    @staticmethod
    def raw(p: int) -> bytes:
        n = ctypes.c_int64.from_address(p + 8).value
        data = ctypes.string_at(p + 16, n + 1)
        assert data[n] == 0, "data must be NUL-terminated"
        return data[:n]

    def take(self, p: int) -> str:
        """The value of a returned (+1) text, which is released."""
        assert p
        s = self.raw(p).decode()
        self.lib.rt_text_decref(p)
        return s


@pytest.fixture(scope="session")
def rt() -> ctypes.CDLL:
    return load_runtime()


@pytest.fixture(scope="session")
def txt(rt: ctypes.CDLL) -> Text:
    return Text(rt)


@pytest.fixture(scope="session")
def helper(rt: ctypes.CDLL, tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    d = tmp_path_factory.mktemp("rt_helper")
    src = d / "helper.c"
    src.write_text(HELPER_C)
    out = d / "helper.so"
    subprocess.run(
        ["cc", "-O1", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror",
         f"-I{SRC_DIR}", str(src), "-o", str(out)],
        check=True,
    )  # fmt: skip
    # rt_* symbols resolve against the runtime, already loaded RTLD_GLOBAL.
    h = ctypes.CDLL(str(out))
    h.churn.argtypes = [ctypes.c_int64]
    h.churn.restype = ctypes.c_int64
    h.set_depth.argtypes = [ctypes.c_int64]
    h.set_depth.restype = None
    h.frame_address.restype = ctypes.c_size_t
    return h


def fnptr(f: object) -> int:
    v = ctypes.cast(f, ctypes.c_void_p).value  # type: ignore[arg-type]
    assert v is not None
    return v


@pytest.fixture
def live(rt: ctypes.CDLL) -> Iterator[None]:
    """The test must not leak texts."""
    before = rt.rt_live_text_count()
    yield
    assert rt.rt_live_text_count() == before


def run_py(code: str) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


# --------------------------------------------------------------------------
# build and location


def test_library_is_current_build(rt: ctypes.CDLL) -> None:
    path = runtime_library_path()
    assert os.path.isfile(path)
    assert rt.rt_source_hash().decode() == source_hash()


@pytest.mark.parametrize(
    "flags",
    [
        ["-shared", "-fPIC"],
        ["-DSIMPLE_RT_AOT_MAIN", "-c"],
        ["-shared", "-fPIC", "-DSIMPLE_RT_PYTHON_MODULE"],
    ],
    ids=["shared", "aot", "pymodule"],
)
def test_compiles_cleanly(tmp_path: Path, flags: list[str]) -> None:
    import sysconfig

    inc = sysconfig.get_paths()["include"]
    proc = subprocess.run(
        ["cc", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{inc}", *flags, str(RT_C),
         "-o", str(tmp_path / "out")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_aot_object_is_cached() -> None:
    a = aot_runtime_object()
    assert os.path.isfile(a)
    assert aot_runtime_object() == a


# --------------------------------------------------------------------------
# texts


UNARY = {
    "tlen": "rt_text_len",
    "ttrim": "rt_text_trim",
    "tupper": "rt_text_upper",
    "tlower": "rt_text_lower",
}
BINARY = {
    "tconcat": "rt_text_concat",
    "tcontains": "rt_text_contains",
    "tstarts": "rt_text_starts_with",
    "tends": "rt_text_ends_with",
}
SAMPLES = [
    "",
    "a",
    "héllo",
    "HÉLLO wörld",
    "  \t\n\r\f\v x y \v\f\r\n\t ",
    "\u00a0nbsp\u00a0",
    "\u2003em space\u3000",
    "日本語テキスト",
    "🎉 emoji 🎉",
    "abcabc",
    "ABC xyz 123 [\\]^_`{|}~@",
    "ß",
    "ﬁ",
    "nul\0inside",
    "naïve café",
    "ÅNGSTRÖM",
    "straße STRASSE ẞ",
    "Ὀδυσσεύς ΣΊΣΥΦΟΣ ΐ ᾳ",
    "Привет, МИР",
    "İstanbul \u0131sparta",
    "ǅ ŉ Ω K Å",
    "\u0085\u2028 x\u202f\u3000",
    "\x1c\x1fx\x1e\x1d",
    "\u200bx\ufeff",
]

utf8_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=24)


def check_text_ops(rt: ctypes.CDLL, txt: Text, a: str, b: str, n: int) -> None:
    pa, pb = txt.new(a), txt.new(b)
    ev = semantics.eval_pure
    for op, fn in UNARY.items():
        r = getattr(rt, fn)(pa)
        got: object = r if op == "tlen" else txt.take(r)
        assert got == ev(op, [a]), (op, a)
    for op, fn in BINARY.items():
        r = getattr(rt, fn)(pa, pb)
        got = txt.take(r) if op == "tconcat" else bool(r)
        assert got == ev(op, [a, b]), (op, a, b)
    assert txt.take(rt.rt_text_repeat(pa, n)) == ev("trepeat", [a, n])
    c = rt.rt_text_cmp(pa, pb)
    assert c in (-1, 0, 1)
    assert c == (a > b) - (a < b)
    assert rt.rt_text_eq(pa, pb) == (a == b)
    assert rt.rt_text_eq(pa, pa) == 1
    assert rt.rt_text_cmp(pa, pa) == 0
    rt.rt_text_decref(pa)
    rt.rt_text_decref(pb)


@pytest.mark.parametrize("a", SAMPLES)
@pytest.mark.parametrize("b", ["", "l", "é", "abc", " ", "x y", "🎉", "héllo"])
def test_text_ops_samples(rt: ctypes.CDLL, txt: Text, live: None, a: str, b: str) -> None:
    for n in (-2, 0, 1, 3):
        check_text_ops(rt, txt, a, b, n)


@settings(max_examples=400, deadline=None)
@given(a=utf8_text, b=utf8_text, n=st.integers(-3, 6))
def test_text_ops_hypothesis(rt: ctypes.CDLL, txt: Text, a: str, b: str, n: int) -> None:
    before = rt.rt_live_text_count()
    check_text_ops(rt, txt, a, b, n)
    check_text_ops(rt, txt, a + b, b, n)
    check_text_ops(rt, txt, b + a + b, b, n)
    assert rt.rt_live_text_count() == before


# Unicode upper/lower/trim: the C runtime and semantics share unicode_tables.

WHITE_SPACE = (
    "".join(map(chr, [*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B)]))
    + "\u2028\u2029\u202f\u205f\u3000"
)


def c_unary(rt: ctypes.CDLL, txt: Text, fn: str, s: str | bytes) -> bytes:
    p = txt.new(s)
    r = getattr(rt, fn)(p)
    out = txt.raw(r)
    rt.rt_text_decref(r)
    rt.rt_text_decref(p)
    return out


@pytest.mark.parametrize(
    ("text", "upper", "lower"),
    [
        ("naïve café", "NAÏVE CAFÉ", "naïve café"),
        ("ÅNGSTRÖM", "ÅNGSTRÖM", "ångström"),
        ("straße", "STRASSE", "straße"),
        ("ẞ", "ẞ", "ß"),
        ("ὈΔΥΣΣΕΎΣ", "ὈΔΥΣΣΕΎΣ", "ὀδυσσεύ\u03c3"),  # per character: no final sigma
        ("ΐ ᾳ", "\u0399\u0308\u0301 \u0391\u0399", "ΐ ᾳ"),
        ("Привет, МИР", "ПРИВЕТ, МИР", "привет, мир"),
        ("İ \u0131 i I", "İ I I I", "i\u0307 \u0131 i i"),
        ("ﬃ ŉ ǅ", "FFI \u02bcN Ǆ", "ﬃ ŉ ǆ"),
        ("𞤀𞤢 🎉", "𞤀𞤀 🎉", "𞤢𞤢 🎉"),
    ],
)
def test_unicode_case_examples(
    rt: ctypes.CDLL, txt: Text, live: None, text: str, upper: str, lower: str
) -> None:
    assert c_unary(rt, txt, "rt_text_upper", text).decode() == upper
    assert c_unary(rt, txt, "rt_text_lower", text).decode() == lower
    assert semantics.tupper(text) == upper
    assert semantics.tlower(text) == lower


def test_unicode_trim(rt: ctypes.CDLL, txt: Text, live: None) -> None:
    assert len(WHITE_SPACE) == 25
    for ch in WHITE_SPACE:
        assert c_unary(rt, txt, "rt_text_trim", f"{ch}{ch}é{ch}x{ch}").decode() == f"é{ch}x"
        assert c_unary(rt, txt, "rt_text_trim", ch * 3) == b""
    for ch in "\x1c\x1d\x1e\x1f\u200b\ufeff\u180e":  # not White_Space
        assert c_unary(rt, txt, "rt_text_trim", f" {ch}x{ch} ").decode() == f"{ch}x{ch}"
    assert c_unary(rt, txt, "rt_text_trim", "  ünïcödé  ").decode() == "ünïcödé"


def test_unicode_every_code_point(rt: ctypes.CDLL, txt: Text, live: None) -> None:
    # Per-character mapping: mapping a run of characters maps each one.
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for i in range(0, len(chars), 8192):
        chunk = "".join(chars[i : i + 8192])
        for op in ("tupper", "tlower"):
            got = c_unary(rt, txt, UNARY[op], chunk).decode()
            assert got == semantics.eval_pure(op, [chunk]), (op, hex(ord(chunk[0])))
        assert c_unary(rt, txt, "rt_text_trim", chunk).decode() == semantics.ttrim(chunk)


def test_unicode_ill_formed_bytes_pass_through(rt: ctypes.CDLL, txt: Text, live: None) -> None:
    # Texts are UTF-8 by construction; bytes that are not decode as themselves.
    up, lo, trim = "rt_text_upper", "rt_text_lower", "rt_text_trim"
    assert c_unary(rt, txt, up, b"a\xffb\xc3") == b"A\xffB\xc3"  # stray / truncated
    assert c_unary(rt, txt, up, b"\xc3\xa9\xa9z") == b"\xc3\x89\xa9Z"  # extra continuation
    assert c_unary(rt, txt, up, b"\xc1\xa1") == b"\xc1\xa1"  # overlong 'a'
    assert c_unary(rt, txt, lo, b"\xed\xa0\x80A") == b"\xed\xa0\x80a"  # surrogate
    assert c_unary(rt, txt, lo, b"\xf4\x90\x80\x80A") == b"\xf4\x90\x80\x80a"  # > U+10FFFF
    assert c_unary(rt, txt, trim, b" \xa0 ") == b"\xa0"  # lone continuation byte
    assert c_unary(rt, txt, trim, b"\xe3\x80 x \xe3\x80") == b"\xe3\x80 x \xe3\x80"
    assert c_unary(rt, txt, trim, b"\x80\x80\x80\xe3\x80\x80") == b"\x80\x80\x80"
    assert c_unary(rt, txt, trim, b"\xe3\x80\x80\x80") == b"\x80"


# Random text rich in case-mapped characters and White_Space.
_special = st.sampled_from(
    [
        *WHITE_SPACE,
        *"\x1c\x1f\u200bßẞİ\u0131Σς\u03c3ΐᾳŉǅﬃÅÖéÉ",
        *("\U0001e900", "\U0001e922", "\U00010400", "\U00010428"),
    ]
)
unicode_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), _special, st.characters(max_codepoint=0x24F)),
    max_size=40,
)


@settings(max_examples=1000, deadline=None)
@given(s=unicode_text)
def test_unicode_ops_match_semantics(rt: ctypes.CDLL, txt: Text, s: str) -> None:
    before = rt.rt_live_text_count()
    for op in ("tupper", "tlower", "ttrim"):
        got = c_unary(rt, txt, UNARY[op], s).decode()
        assert got == semantics.eval_pure(op, [s]), (op, s)
    assert rt.rt_live_text_count() == before


def test_source_hash_covers_unicode_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import simple_jit.runtime as runtime

    for name in ("simple_rt.c", "simple_rt.h", "unicode_tables.h"):
        shutil.copy(SRC_DIR / name, tmp_path / name)
    original = runtime.source_hash()
    monkeypatch.setattr(runtime, "runtime_source_dir", lambda: str(tmp_path))
    before = runtime.source_hash()
    assert before == original
    with (tmp_path / "unicode_tables.h").open("a") as f:
        f.write("/* changed */\n")
    assert runtime.source_hash() != before


def test_text_examples(rt: ctypes.CDLL, txt: Text, live: None) -> None:
    p = txt.new("héllo")
    assert rt.rt_text_len(p) == 5
    assert txt.raw(p) == "héllo".encode()
    assert txt.take(rt.rt_text_upper(p)) == "HÉLLO"
    assert txt.take(rt.rt_text_lower(txt.literal("HÉLLO"))) == "héllo"
    assert txt.take(rt.rt_text_trim(txt.literal(" \t\u00a0x\v\f "))) == "x"
    assert txt.take(rt.rt_text_repeat(p, 0)) == ""
    assert txt.take(rt.rt_text_repeat(p, -5)) == ""
    assert txt.take(rt.rt_text_repeat(txt.literal("ab"), 1000)) == "ab" * 1000
    assert rt.rt_text_cmp(txt.literal("ab"), txt.literal("abc")) == -1
    assert rt.rt_text_cmp(txt.literal("b"), txt.literal("abc")) == 1
    assert rt.rt_text_cmp(txt.literal("é"), txt.literal("z")) == 1  # bytes, not locale
    assert rt.rt_text_contains(p, txt.literal("")) == 1
    assert rt.rt_text_contains(txt.literal(""), txt.literal("")) == 1
    assert rt.rt_text_contains(txt.literal(""), txt.literal("a")) == 0
    rt.rt_text_decref(p)
    assert txt.take(rt.rt_text_new(b"abc", -1)) == "abc"  # len < 0: strlen
    assert txt.take(rt.rt_text_from_bool(1)) == "true"
    assert txt.take(rt.rt_text_from_bool(0)) == "false"
    assert txt.take(rt.rt_text_from_unit()) == "()"


@pytest.mark.parametrize("v", [0, 1, -1, 42, -9223372036854775808, 9223372036854775807, 10**18])
def test_text_from_i64(rt: ctypes.CDLL, txt: Text, live: None, v: int) -> None:
    assert txt.take(rt.rt_text_from_i64(v)) == str(v)


def test_results_are_new_references(rt: ctypes.CDLL, txt: Text, live: None) -> None:
    a = txt.new("abc")
    empty = txt.new("")
    lit = txt.literal("  lit  ")
    # Every result is +1, even when an operation shares its argument.
    results = [
        rt.rt_text_concat(a, empty),
        rt.rt_text_concat(empty, a),
        rt.rt_text_trim(a),
        rt.rt_text_repeat(a, 1),
        rt.rt_text_upper(a),
        rt.rt_text_trim(lit),
        rt.rt_text_concat(lit, empty),
    ]
    for r in results:
        rc = txt.rc(r)
        assert rc >= 1 or rc < 0
    assert txt.rc(a) == 1 + sum(1 for r in results if r == a)
    for r in results:
        rt.rt_text_decref(r)
    assert txt.rc(a) == 1
    assert txt.rc(lit) == -1
    rt.rt_text_decref(a)
    rt.rt_text_decref(empty)


def test_refcounting_and_immortals(rt: ctypes.CDLL, txt: Text) -> None:
    base = rt.rt_live_text_count()
    p = txt.new("x")
    assert txt.rc(p) == 1
    assert rt.rt_live_text_count() == base + 1
    rt.rt_text_incref(p)
    assert txt.rc(p) == 2
    rt.rt_text_decref(p)
    assert txt.rc(p) == 1
    assert rt.rt_live_text_count() == base + 1
    rt.rt_text_decref(p)  # freed
    assert rt.rt_live_text_count() == base
    lit = txt.literal("immortal")
    for _ in range(3):
        rt.rt_text_incref(lit)
        rt.rt_text_decref(lit)
        rt.rt_text_decref(lit)
    assert txt.rc(lit) == -1
    assert txt.raw(lit) == b"immortal"
    rt.rt_text_incref(None)
    rt.rt_text_decref(None)
    assert rt.rt_live_text_count() == base


def test_million_cycles_do_not_leak(rt: ctypes.CDLL, helper: ctypes.CDLL) -> None:
    base = rt.rt_live_text_count()
    helper.churn(1_000_000)
    assert rt.rt_live_text_count() == base


def test_concat_decref_cycles_via_ctypes(rt: ctypes.CDLL, txt: Text) -> None:
    a, b = txt.new("foo"), txt.literal("bar")
    base = rt.rt_live_text_count()
    concat, decref = rt.rt_text_concat, rt.rt_text_decref
    for _ in range(100_000):
        decref(concat(a, b))
    assert rt.rt_live_text_count() == base
    rt.rt_text_decref(a)


# --------------------------------------------------------------------------
# f64 display


def fmt(rt: ctypes.CDLL, x: float) -> str:
    buf = ctypes.create_string_buffer(400)
    n = rt.rt_format_f64(buf, x)
    assert buf.raw[n] == 0
    return buf.raw[:n].decode()


F64_EDGES = [
    0.0, -0.0, 3.0, -3.0, 0.1 + 0.2, 0.1, 1 / 3, 2 / 3, 1e21, 1e22, 1e23, 1e-7, 1e-5,
    123.456, -123.456, 1e15, 1e16, 1e17, 9007199254740992.0, 9007199254740994.0,
    4503599627370495.5, 1e300, 1.7976931348623157e308, -1.7976931348623157e308,
    5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, 9.5, 0.5,
    math.pi, math.e, 7.120236347223045e-307, math.inf, -math.inf, math.nan,
]  # fmt: skip


def test_f64_examples(rt: ctypes.CDLL) -> None:
    assert fmt(rt, 3.0) == "3"
    assert fmt(rt, 0.1 + 0.2) == "0.30000000000000004"
    assert fmt(rt, 1e21) == "1000000000000000000000"
    assert fmt(rt, 1e-7) == "0.0000001"
    assert fmt(rt, -0.0) == "-0"
    assert fmt(rt, math.inf) == "inf"
    assert fmt(rt, -math.inf) == "-inf"
    assert fmt(rt, math.nan) == "NaN"
    assert fmt(rt, -math.nan) == "NaN"
    assert fmt(rt, 1e300) == "1" + "0" * 300
    assert fmt(rt, 5e-324) == "0." + "0" * 323 + "5"


@pytest.mark.parametrize("x", F64_EDGES)
def test_f64_edges(rt: ctypes.CDLL, txt: Text, live: None, x: float) -> None:
    assert fmt(rt, x) == semantics.format_f64(x)
    assert txt.take(rt.rt_text_from_f64(x)) == semantics.format_f64(x)


def test_f64_powers_of_two(rt: ctypes.CDLL) -> None:
    # At a power of two the rounding interval is asymmetric: the case where
    # the nearest p-digit decimal is not the one that reads back.
    for e in range(-1074, 1024):
        x = math.ldexp(1.0, e)
        for v in (x, -x, math.nextafter(x, 0.0), math.nextafter(x, math.inf)):
            assert fmt(rt, v) == semantics.format_f64(v), v


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
@example(0.30000000000000004)
@example(5e-324)
def test_f64_hypothesis(rt: ctypes.CDLL, x: float) -> None:
    assert fmt(rt, x) == semantics.format_f64(x)


@settings(max_examples=3000, deadline=None)
@given(st.integers(0, 2**64 - 1))
def test_f64_random_bits(rt: ctypes.CDLL, bits: int) -> None:
    (x,) = struct.unpack("<d", bits.to_bytes(8, "little"))
    assert fmt(rt, x) == semantics.format_f64(x)


# --------------------------------------------------------------------------
# printing


def test_print_forms_buffering_and_flush() -> None:
    proc = run_py(
        """
        import ctypes, os, struct
        from simple_jit.runtime import load_runtime
        rt = load_runtime()
        rt.rt_print_i64(-9223372036854775808)
        rt.rt_print_f64(0.1 + 0.2)
        rt.rt_print_f64(1e21)
        rt.rt_print_bool(1)
        rt.rt_print_bool(0)
        rt.rt_print_unit()
        t = rt.rt_text_new("héllo".encode(), 6)
        rt.rt_print_text(t)
        rt.rt_text_decref(t)
        os.write(1, b"direct\\n")   # the prints above are still buffered
        rt.rt_flush()
        os.write(1, b"after flush\\n")
        rt.rt_print_i64(7)         # flushed at exit
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode() == (
        "direct\n-9223372036854775808\n0.30000000000000004\n1000000000000000000000\n"
        "true\nfalse\n()\nhéllo\nafter flush\n7\n"
    )


def test_print_large_output_in_order() -> None:
    # More than the 64 KiB buffer, including a text longer than the buffer.
    proc = run_py(
        """
        from simple_jit.runtime import load_runtime
        rt = load_runtime()
        for i in range(30000):
            rt.rt_print_i64(i)
        big = b"x" * 100000
        t = rt.rt_text_new(big, len(big))
        rt.rt_print_text(t)
        rt.rt_print_i64(-1)
        rt.rt_flush()
        """
    )
    assert proc.returncode == 0, proc.stderr
    expected = "".join(f"{i}\n" for i in range(30000)) + "x" * 100000 + "\n-1\n"
    assert proc.stdout.decode() == expected


def test_print_from_threads() -> None:
    proc = run_py(
        """
        import threading
        from simple_jit.runtime import load_runtime
        rt = load_runtime()
        def work(k):
            for i in range(5000):
                rt.rt_print_i64(k * 100000 + i)
        ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in ts: t.start()
        for t in ts: t.join()
        rt.rt_flush()
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().split("\n")
    assert lines[-1] == ""
    nums = [int(s) for s in lines[:-1]]
    assert sorted(nums) == sorted(k * 100000 + i for k in range(4) for i in range(5000))
    for k in range(4):  # each thread's lines stay in its order
        mine = [n for n in nums if n // 100000 == k]
        assert mine == sorted(mine)


# --------------------------------------------------------------------------
# runtime errors and recovery


def test_panic_inside_run_protected(rt: ctypes.CDLL, helper: ctypes.CDLL) -> None:
    result = ctypes.c_int64(-5)
    st = rt.rt_run_protected(fnptr(helper.panic_div), None, ctypes.byref(result))
    assert st == 1
    assert rt.rt_last_error() == b"prog.spl:3:7: runtime error: division by zero"
    assert result.value == -5
    # The process survives and the runtime stays usable.
    x = ctypes.c_int64(41)
    assert rt.rt_run_protected(fnptr(helper.add_one), ctypes.byref(x), ctypes.byref(result)) == 0
    assert result.value == 42
    assert rt.rt_run_protected(fnptr(helper.nested), None, ctypes.byref(result)) == 0
    assert result.value == 1042
    assert rt.rt_run_protected(fnptr(helper.add_one), ctypes.byref(x), None) == 0


@pytest.mark.parametrize(
    ("kind", "msg"),
    [
        (1, "division by zero"),
        (2, "negative exponent"),
        (3, "index out of range"),
        (4, "pop from empty array"),
        (5, "stack overflow"),
        (99, "runtime error"),
    ],
)
def test_panic_kinds(rt: ctypes.CDLL, helper: ctypes.CDLL, kind: int, msg: str) -> None:
    r = ctypes.c_int64()
    assert rt.rt_run_protected(fnptr(helper.panic_kind), kind, ctypes.byref(r)) == 1
    assert rt.rt_last_error().decode() == f"k.spl:1:2: runtime error: {msg}"


def test_panic_without_recovery_exits_101(rt: ctypes.CDLL) -> None:
    proc = run_py(
        """
        from simple_jit.runtime import load_runtime
        rt = load_runtime()
        rt.rt_print_i64(5)
        rt.rt_panic(3, b"a/b.spl", 10, 4)
        print("not reached")
        """
    )
    assert proc.returncode == 101
    assert proc.stdout == b"5\n"
    assert proc.stderr == b"a/b.spl:10:4: runtime error: index out of range\n"


# --------------------------------------------------------------------------
# stacks and rt_run_main

ENTRY = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_size_t)


def test_run_main_with_python_callback(rt: ctypes.CDLL) -> None:
    seen: list[int] = []

    def main(limit: int) -> int:
        seen.append(limit)
        return 300

    entry = ENTRY(main)

    code = ctypes.c_int64(0)
    assert rt.rt_run_main(ctypes.cast(entry, ctypes.c_void_p), 1 << 30, ctypes.byref(code)) == 0
    assert code.value == 300
    assert len(seen) == 1 and seen[0] > 0


def test_run_main_deep_recursion(rt: ctypes.CDLL, helper: ctypes.CDLL) -> None:
    code = ctypes.c_int64(0)
    # ~ 10 million frames of ~100 bytes: far beyond an 8 MiB stack.
    helper.set_depth(10_000_000)
    assert rt.rt_run_main(fnptr(helper.deep_main), 1 << 30, ctypes.byref(code)) == 0
    assert code.value == 10_000_000


def test_run_main_stack_overflow_is_reported(rt: ctypes.CDLL, helper: ctypes.CDLL) -> None:
    code = ctypes.c_int64(-1)
    helper.set_depth(-1)
    assert rt.rt_run_main(fnptr(helper.deep_main), 64 << 20, ctypes.byref(code)) == 1
    assert rt.rt_main_error() == b"deep.spl:2:5: runtime error: stack overflow"
    assert code.value == -1
    # and again, with the default size (0 -> 1 GiB)
    assert rt.rt_run_main(fnptr(helper.deep_main), 0, ctypes.byref(code)) == 1
    assert rt.rt_main_error() == b"deep.spl:2:5: runtime error: stack overflow"


def test_stack_limit_here_is_below_the_frame(rt: ctypes.CDLL, helper: ctypes.CDLL) -> None:
    limit = rt.rt_stack_limit_here()
    frame = helper.frame_address()
    assert 0 < limit < frame
    assert rt.rt_stack_limit_here() == limit


@pytest.mark.parametrize("where", ["main", "thread"])
def test_stack_overflow_on_ordinary_stacks(where: str, tmp_path: Path) -> None:
    # Unbounded recursion against rt_stack_limit_here() on the main thread
    # and on a Python thread ends in the error, not a crash.
    proc = run_py(
        f"""
        import ctypes, subprocess, sys, threading, os
        from simple_jit.runtime import load_runtime, runtime_source_dir
        rt = load_runtime()
        d = {str(tmp_path)!r}
        open(os.path.join(d, "h.c"), "w").write({HELPER_C!r})
        so = os.path.join(d, "h.so")
        subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-I" + runtime_source_dir(),
                        os.path.join(d, "h.c"), "-o", so], check=True)
        h = ctypes.CDLL(so)
        h.set_depth.argtypes = [ctypes.c_int64]
        def go(depth):
            h.set_depth(depth)
            r = ctypes.c_int64()
            fp = ctypes.cast(h.deep_here, ctypes.c_void_p)
            st = rt.rt_run_protected(fp, None, ctypes.byref(r))
            print(st, r.value, rt.rt_last_error().decode(), flush=True)
        def both():
            go(10000)
            go(-1)
            go(-1)
        if {where!r} == "main":
            both()
        else:
            t = threading.Thread(target=both)
            t.start()
            t.join()
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert lines[0] == "0 10000 "
    assert lines[1] == "1 0 deep.spl:2:5: runtime error: stack overflow"
    assert lines[2] == lines[1]


# --------------------------------------------------------------------------
# AOT executables


def build_aot(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "prog.c"
    src.write_text('#include "simple_rt.h"\n' + body)
    exe = tmp_path / "prog"
    subprocess.run(
        ["cc", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{SRC_DIR}", str(src),
         aot_runtime_object(), *aot_link_flags(), "-o", str(exe)],
        check=True,
    )  # fmt: skip
    return exe


def test_aot_program(tmp_path: Path) -> None:
    exe = build_aot(
        tmp_path,
        """
        int64_t simple_program_main(uintptr_t stack_limit) {
            (void)stack_limit;
            rt_print_i64(42);
            return 3;
        }
        """,
    )
    proc = subprocess.run([str(exe)], capture_output=True, check=False)
    assert proc.stdout == b"42\n"
    assert proc.stderr == b""
    assert proc.returncode == 3


def test_aot_exit_code_low_byte(tmp_path: Path) -> None:
    exe = build_aot(
        tmp_path,
        "int64_t simple_program_main(uintptr_t l) { (void)l; rt_print_f64(0.5); return 258; }\n",
    )
    proc = subprocess.run([str(exe)], capture_output=True, check=False)
    assert (proc.returncode, proc.stdout) == (2, b"0.5\n")


def test_aot_runtime_error(tmp_path: Path) -> None:
    exe = build_aot(
        tmp_path,
        """
        int64_t simple_program_main(uintptr_t stack_limit) {
            (void)stack_limit;
            rt_print_i64(1);
            rt_panic(1, "prog.spl", 3, 7);
        }
        """,
    )
    proc = subprocess.run([str(exe)], capture_output=True, check=False)
    assert proc.returncode == 101
    assert proc.stdout == b"1\n"
    assert proc.stderr == b"prog.spl:3:7: runtime error: division by zero\n"


def test_aot_deep_recursion_and_overflow(tmp_path: Path) -> None:
    exe = build_aot(
        tmp_path,
        """
        #include <stdlib.h>
        __attribute__((noinline)) static int64_t f(int64_t n, uintptr_t limit) {
            volatile char pad[64];
            pad[0] = 0;
            if ((uintptr_t)__builtin_frame_address(0) < limit) rt_panic(5, "r.spl", 4, 9);
            return n == 0 ? 0 : f(n - 1, limit) + 1 + pad[0];
        }
        int64_t simple_program_main(uintptr_t stack_limit) {
            const char *d = getenv("DEPTH");
            rt_print_i64(f(d ? atoll(d) : 1000000, stack_limit));
            return 0;
        }
        """,
    )
    ok = subprocess.run([str(exe)], capture_output=True, check=False, env={"DEPTH": "1000000"})
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, b"1000000\n", b"")
    bad = subprocess.run([str(exe)], capture_output=True, check=False, env={"DEPTH": str(2**62)})
    assert bad.returncode == 101
    assert bad.stderr == b"r.spl:4:9: runtime error: stack overflow\n"
