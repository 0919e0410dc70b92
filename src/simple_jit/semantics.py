"""The exact scalar semantics of MIR operations, shared by every Python consumer.

The reference interpreter and the MIR constant folder both evaluate operations
through this module (the interpreter inlines the cheap cases and calls the
helpers here for the rest), so a folded constant can never disagree with the
value the program would have computed at run time.

Runtime values (the interpreter's representation, also used by the folder):

* ``i64``  -- a Python ``int``, always normalised to ``[-2**63, 2**63)``;
* ``f64``  -- a Python ``float``;
* ``bool`` -- a Python ``bool``;
* ``text`` -- a Python ``str``;
* ``()``   -- ``None``.

Tier-2 aggregates (interpreter only; see ``display``):

* arrays ``[T]`` -- a Python ``list`` (shared, mutable reference);
* structs and tuples -- a Python ``tuple`` of the fields in order (values:
  ``field_set`` builds a new tuple);
* enums -- a ``tuple`` ``(variant_index, *payload)``;
* options ``T?`` -- ``None`` is ``nil``; ``Some(x)`` is ``x`` itself unless
  ``x`` may itself be ``None`` (inner type ``()`` or another option), in which
  case it is the 1-tuple ``(x,)`` (see ``some_is_boxed``).

``eval_pure`` raises ``OpError`` (carrying one of the ``MSG_*`` messages of
``simple_jit.mir.ir``) for operations that fail at run time, and ``KeyError``
or ``ValueError`` for operations it does not evaluate (aggregates, effects).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Protocol

from simple_jit.mir.ir import MSG_DIV_ZERO, MSG_NEG_EXP
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

I64_MIN = -(1 << 63)
I64_MAX = (1 << 63) - 1
_MASK = (1 << 64) - 1
_BIAS = 1 << 63
_INF = math.inf
_NAN = math.nan

# The ASCII part of the Unicode White_Space set that ``ttrim`` removes.
ASCII_WS = " \t\n\r\f\v"


# Runtime error for a result no backend could allocate (e.g. a huge ``repeat``).
MSG_MEMORY = "out of memory"
MAX_TEXT_LEN = 1 << 30  # characters


class OpError(Exception):
    """An operation failed at run time; ``message`` is the runtime error text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------
# i64


def wrap(x: int) -> int:
    """Reduce an integer to i64 two's complement range."""
    return ((x + _BIAS) & _MASK) - _BIAS


def idiv(a: int, b: int) -> int:
    """i64 ``/``: truncates toward zero; ``MIN / -1`` wraps to ``MIN``."""
    if b == 0:
        raise OpError(MSG_DIV_ZERO)
    q = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        q = -q
    return wrap(q)


def irem(a: int, b: int) -> int:
    """i64 ``%``: the sign of the dividend; ``MIN % -1 == 0``."""
    if b == 0:
        raise OpError(MSG_DIV_ZERO)
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def ipow(a: int, b: int) -> int:
    """i64 ``**``: wrapping (exponentiation by squaring modulo 2**64)."""
    if b < 0:
        raise OpError(MSG_NEG_EXP)
    return wrap(pow(a, b, 1 << 64))


def ishl(a: int, b: int) -> int:
    return wrap(a << (b & 63))


def ishr(a: int, b: int) -> int:
    return a >> (b & 63)


def f2i(x: float) -> int:
    """``f64 as i64``: truncate toward zero, saturate, NaN -> 0."""
    if x != x:
        return 0
    if x >= 9223372036854775807.0:  # == 2**63 as a float
        return I64_MAX
    if x <= -9223372036854775808.0:
        return I64_MIN
    return int(x)


# --------------------------------------------------------------------------
# f64


def fdiv(a: float, b: float) -> float:
    """IEEE division: by zero gives a signed infinity or NaN."""
    if b != 0.0:
        return a / b
    if a != a or a == 0.0:
        return _NAN
    return math.copysign(_INF, math.copysign(1.0, a) * math.copysign(1.0, b))


def frem(a: float, b: float) -> float:
    """C ``fmod``: the sign of the dividend; NaN for ``x % 0`` and ``inf % y``."""
    try:
        return math.fmod(a, b)
    except ValueError:
        return _NAN


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and abs(y) < 2.0**53 and int(y) % 2 == 1


def fpow(a: float, b: float) -> float:
    """C ``pow`` (C99 Annex F), including its poles, domain errors and overflow."""
    try:
        return math.pow(a, b)
    except OverflowError:
        if a < 0.0 and _is_odd_integer(b):
            return -_INF
        return _INF
    except ValueError:
        if a == 0.0:  # pole: pow(+-0, y < 0)
            if _is_odd_integer(b):
                return math.copysign(_INF, a)
            return _INF
        return _NAN  # negative finite base, non-integer exponent


def fsqrt(a: float) -> float:
    return math.sqrt(a) if a >= 0.0 else _NAN


# --------------------------------------------------------------------------
# text


# ``upper``/``lower``/``trim`` follow the generated Unicode 14 tables of
# ``simple_jit.unicode_tables`` (the C runtime has the same data), not the host
# Python's database: full per-character case mapping (``"ß"`` -> ``"SS"``), no
# context-dependent rules (U+03A3 always lowers to U+03C3: no final sigma),
# and trimming of the White_Space property (not ``str.isspace``). The tables
# are loaded on first use of a non-ASCII text; on ASCII the tables agree with
# ``str.upper``/``str.lower``/``strip(ASCII_WS)``.

_case_tables: dict[str, dict[int, str]] = {}
_white_space: list[str] = []


def _case_table(kind: str) -> dict[int, str]:
    table = _case_tables.get(kind)
    if table is None:
        from simple_jit import unicode_tables as u

        keys, values = (
            (u.UPPER_KEYS, u.UPPER_VALUES) if kind == "upper" else (u.LOWER_KEYS, u.LOWER_VALUES)
        )
        table = dict(zip(map(ord, keys), values.split(u.SEP), strict=True))
        _case_tables[kind] = table
    return table


def white_space() -> str:
    """The characters ``ttrim`` removes: Unicode 14's White_Space property."""
    if not _white_space:
        from simple_jit.unicode_tables import WHITE_SPACE

        _white_space.append(WHITE_SPACE)
    return _white_space[0]


def tupper(s: str) -> str:
    """``s.upper()``: each character by its full Unicode 14 uppercase mapping."""
    return s.upper() if s.isascii() else s.translate(_case_table("upper"))


def tlower(s: str) -> str:
    """``s.lower()``: each character by its full Unicode 14 lowercase mapping."""
    return s.lower() if s.isascii() else s.translate(_case_table("lower"))


def ttrim(s: str) -> str:
    """``s.trim()``: White_Space removed from both ends."""
    return s.strip(ASCII_WS) if s.isascii() else s.strip(white_space())


def trepeat(s: str, n: int) -> str:
    """``s.repeat(n)``: ``""`` for ``n <= 0``; a result too large to build fails."""
    if n <= 0:
        return ""
    if len(s) * n > MAX_TEXT_LEN:
        raise OpError(MSG_MEMORY)
    return s * n


# --------------------------------------------------------------------------
# display forms


def format_f64(x: float) -> str:
    """The display form of an f64: shortest round-trip digits, plain decimal.

    ``3.0 -> "3"``, ``1e21 -> "1000000000000000000000"``, ``1e-7 ->
    "0.0000001"``, ``-0.0 -> "-0"``, ``inf``, ``-inf``, ``NaN``.
    """
    if x != x:
        return "NaN"
    if x == _INF:
        return "inf"
    if x == -_INF:
        return "-inf"
    r = repr(x)
    sign = ""
    if r[0] == "-":
        sign = "-"
        r = r[1:]
    exp = 0
    epos = r.find("e")
    if epos >= 0:
        exp = int(r[epos + 1 :])
        r = r[:epos]
    dot = r.find(".")
    if dot >= 0:
        int_part, frac_part = r[:dot], r[dot + 1 :]
    else:
        int_part, frac_part = r, ""
    digits = int_part + frac_part
    point = len(int_part) + exp  # decimal point position within ``digits``
    if point <= 0:
        s = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        s = digits + "0" * (point - len(digits))
    else:
        s = digits[:point] + "." + digits[point:]
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    s = s.lstrip("0")
    if not s or s[0] == ".":
        s = "0" + s
    return sign + s


class Decls(Protocol):
    """What ``display`` needs to know about aggregates (``Module`` satisfies it)."""

    @property
    def structs(self) -> Mapping[str, StructDef]: ...

    @property
    def enums(self) -> Mapping[str, EnumDef]: ...


def some_is_boxed(inner: Type) -> bool:
    """Whether ``Some(x)`` of an option with this inner type is stored as ``(x,)``."""
    return isinstance(inner, OptionT) or inner == UNIT


def display_scalar(value: object) -> str:
    """Display form of a tier-1 value, from its Python type alone.

    ``None`` is ambiguous (unit or nil) and raises ``ValueError``, as do
    aggregates.
    """
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_f64(value)
    if isinstance(value, str):
        return value
    raise ValueError(f"cannot display {type(value).__name__} without its type")


def display(value: object, ty: Type, decls: Decls | None = None) -> str:
    """The display form (spec section 6) of a runtime value of type ``ty``.

    ``decls`` (the module) supplies struct field names and enum variant names;
    without it, structs and enums display positionally.
    """
    if ty == I64:
        return str(value)
    if ty == F64:
        assert isinstance(value, float)
        return format_f64(value)
    if ty == BOOL:
        return "true" if value else "false"
    if ty == TEXT:
        assert isinstance(value, str)
        return value
    if ty == UNIT:
        return "()"
    if isinstance(ty, OptionT):
        if value is None:
            return "nil"
        if some_is_boxed(ty.inner):
            assert isinstance(value, tuple)
            value = value[0]
        return display(value, ty.inner, decls)
    if isinstance(ty, ArrayT):
        assert isinstance(value, list)
        return "[" + ", ".join(display(v, ty.elem, decls) for v in value) + "]"
    if isinstance(ty, TupleT):
        assert isinstance(value, tuple)
        parts = [display(v, t, decls) for v, t in zip(value, ty.elems, strict=True)]
        if len(parts) == 1:
            return "(" + parts[0] + ",)"
        return "(" + ", ".join(parts) + ")"
    if isinstance(ty, StructT):
        assert isinstance(value, tuple)
        sdef = decls.structs.get(ty.name) if decls is not None else None
        if sdef is None:
            return ty.name + "(" + ", ".join(display_scalar(v) for v in value) + ")"
        fields = ", ".join(
            f"{fname}: {display(v, fty, decls)}"
            for (fname, fty), v in zip(sdef.fields, value, strict=True)
        )
        return f"{ty.name}({fields})"
    if isinstance(ty, EnumT):
        assert isinstance(value, tuple)
        tag = value[0]
        assert isinstance(tag, int)
        edef = decls.enums.get(ty.name) if decls is not None else None
        if len(value) == 1:
            vname = edef.variants[tag][0] if edef is not None else str(tag)
            return f"{ty.name}.{vname}"
        if edef is None:
            vname, payload = str(tag), ", ".join(display_scalar(v) for v in value[1:])
        else:
            vname, ptys = edef.variants[tag]
            payload = ", ".join(display(v, t, decls) for v, t in zip(value[1:], ptys, strict=True))
        return f"{ty.name}.{vname}({payload})"
    return display_scalar(value)


def _totext(args: list[object], extra: object) -> str:
    if isinstance(extra, Type):
        return display(args[0], extra)
    return display_scalar(args[0])


# --------------------------------------------------------------------------
# eval_pure


def _b(f: Callable[[object, object], object]) -> Callable[[list[object], object], object]:
    return lambda a, _e: f(a[0], a[1])


_Impl = Callable[[list[object], object], object]

# Operands are trusted to have the types of the op's signature; ``_i``/``_f``/
# ``_s`` narrow them for mypy.
_PURE: dict[str, _Impl] = {}


def _def(name: str, fn: _Impl) -> None:
    _PURE[name] = fn


def _i(x: object) -> int:
    assert isinstance(x, int)
    return x


def _f(x: object) -> float:
    assert isinstance(x, float)
    return x


def _s(x: object) -> str:
    assert isinstance(x, str)
    return x


_def("copy", lambda a, _e: a[0])
_def("iadd", lambda a, _e: wrap(_i(a[0]) + _i(a[1])))
_def("isub", lambda a, _e: wrap(_i(a[0]) - _i(a[1])))
_def("imul", lambda a, _e: wrap(_i(a[0]) * _i(a[1])))
_def("idiv", lambda a, _e: idiv(_i(a[0]), _i(a[1])))
_def("irem", lambda a, _e: irem(_i(a[0]), _i(a[1])))
_def("ipow", lambda a, _e: ipow(_i(a[0]), _i(a[1])))
_def("iand", lambda a, _e: _i(a[0]) & _i(a[1]))
_def("ior", lambda a, _e: _i(a[0]) | _i(a[1]))
_def("ixor", lambda a, _e: _i(a[0]) ^ _i(a[1]))
_def("ishl", lambda a, _e: ishl(_i(a[0]), _i(a[1])))
_def("ishr", lambda a, _e: ishr(_i(a[0]), _i(a[1])))
_def("ineg", lambda a, _e: wrap(-_i(a[0])))
_def("inot", lambda a, _e: ~_i(a[0]))
_def("iabs", lambda a, _e: wrap(abs(_i(a[0]))))
_def("imin", lambda a, _e: a[0] if _i(a[0]) < _i(a[1]) else a[1])
_def("imax", lambda a, _e: a[0] if _i(a[0]) > _i(a[1]) else a[1])
_def("fadd", lambda a, _e: _f(a[0]) + _f(a[1]))
_def("fsub", lambda a, _e: _f(a[0]) - _f(a[1]))
_def("fmul", lambda a, _e: _f(a[0]) * _f(a[1]))
_def("fdiv", lambda a, _e: fdiv(_f(a[0]), _f(a[1])))
_def("frem", lambda a, _e: frem(_f(a[0]), _f(a[1])))
_def("fpow", lambda a, _e: fpow(_f(a[0]), _f(a[1])))
_def("fneg", lambda a, _e: -_f(a[0]))
_def("fabs", lambda a, _e: abs(_f(a[0])))
_def("fsqrt", lambda a, _e: fsqrt(_f(a[0])))
_def("fmin", lambda a, _e: a[0] if _f(a[0]) < _f(a[1]) else a[1])
_def("fmax", lambda a, _e: a[0] if _f(a[0]) > _f(a[1]) else a[1])
for _name, _cmp in (
    ("eq", lambda x, y: x == y),
    ("ne", lambda x, y: x != y),
    ("lt", lambda x, y: x < y),
    ("le", lambda x, y: x <= y),
    ("gt", lambda x, y: x > y),
    ("ge", lambda x, y: x >= y),
):
    _def("i" + _name, _b(_cmp))
    _def("f" + _name, _b(_cmp))
    _def("t" + _name, _b(_cmp))
_def("beq", lambda a, _e: bool(a[0]) == bool(a[1]))
_def("bne", lambda a, _e: bool(a[0]) != bool(a[1]))
_def("not", lambda a, _e: not a[0])
_def("i2f", lambda a, _e: float(_i(a[0])))
_def("f2i", lambda a, _e: f2i(_f(a[0])))
_def("b2i", lambda a, _e: 1 if a[0] else 0)
_def("select", lambda a, _e: a[1] if a[0] else a[2])
_def("tconcat", lambda a, _e: _s(a[0]) + _s(a[1]))
_def("tlen", lambda a, _e: len(_s(a[0])))
_def("tcontains", lambda a, _e: _s(a[1]) in _s(a[0]))
_def("tstarts", lambda a, _e: _s(a[0]).startswith(_s(a[1])))
_def("tends", lambda a, _e: _s(a[0]).endswith(_s(a[1])))
_def("ttrim", lambda a, _e: ttrim(_s(a[0])))
_def("tupper", lambda a, _e: tupper(_s(a[0])))
_def("tlower", lambda a, _e: tlower(_s(a[0])))
_def("trepeat", lambda a, _e: trepeat(_s(a[0]), _i(a[1])))
_def("totext", _totext)

# The ops ``eval_pure`` evaluates (all of them pure in ``OPS``).
PURE_OPS: frozenset[str] = frozenset(_PURE)


def eval_pure(op: str, args: list[object], extra: object = None) -> object:
    """Evaluate a pure scalar/text MIR op on runtime values.

    Raises ``OpError`` when the operation fails at run time (division by zero,
    negative exponent), ``KeyError`` for ops it does not handle, and
    ``ValueError`` for ``totext`` of a value it cannot display without a type
    (pass the operand's ``Type`` as ``extra`` to display aggregates/nil).
    """
    return _PURE[op](args, extra)
