"""A generator of random, valid, terminating tier-1 Simple programs.

``generate(seed)`` returns the text of one program; the same seed always gives
the same program.  ``program_strategy()`` offers the same to hypothesis.  The
programs are meant for differential testing (interpreter vs. optimisation
levels vs. LLVM JIT vs. AOT executables), so they print a lot of intermediate
values and are built to hit the places where backends tend to disagree:

* i64 arithmetic with wrap-around (big constants, ``*`` overflow, ``**``,
  ``i64::MIN / -1``), ``/`` and ``%`` (a few programs divide by values that
  can be zero, or use negative ``**`` exponents: the runtime error, with its
  line and column, is then part of the expected behaviour), shifts by
  arbitrary counts, bitwise operators, unary ``- ~``;
* f64 arithmetic with infinities, NaN, ``-0``, division by zero, ``%``
  (fmod), ``**``, casts both ways (saturation, NaN -> 0), ``sqrt``,
  ``min``/``max``, ``.abs()`` and the shortest-digits display of f64;
* comparisons, chained comparisons whose operands have side effects,
  ``and``/``or``/``not`` (also ``&& || !``) with side-effecting calls that
  show short-circuiting in the output;
* texts: literals with escapes, raw strings, ``\"\"\"`` strings, interpolation
  of every type (also nested string literals), concatenation, ``.len()``,
  ``.upper()``, ``.lower()``, ``.trim()``, ``.repeat(n)``, ``.contains``,
  ``.starts_with``, ``.ends_with``, ``.to_text()``, comparisons (ASCII only);
* if/elif/else statements, one-line and block if-expressions, ``while``,
  ``loop`` and ``for`` (``..`` and ``..=``) with ``break``/``continue``,
  ``val``/``var`` with and without annotations (i64 -> f64 promotion),
  compound assignment, shadowing in inner blocks;
* helper functions with typed parameters, generic ones (untyped parameters,
  called with several type tuples: numeric ones instantiated at i64 and f64,
  "any" ones at every tier-1 type), declared and inferred return types, early
  returns, bounded (also mutual and tree) recursion, globals read and written
  by functions, top-level statements, ``main`` returning an exit code or
  nothing, or no ``main`` at all.

Termination is by construction: loops run over small constant-bounded ranges
or count a fresh counter (that the body never assigns) up to a small bound,
recursion goes through a depth parameter that decreases to a base case, and
calls go only to functions generated earlier.  A cost model (statement
executions, multiplied by loop trip counts and callee costs) keeps every
program small.  Texts cannot grow without bound: the value assigned to a text
variable never reads another text variable.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from hypothesis import strategies as st

# --------------------------------------------------------------------- types


@dataclass(frozen=True)
class Ty:
    """A type during generation.

    ``num`` is the type of an expression built from untyped numeric parameters
    (``deps``): i64 when every parameter in ``deps`` is instantiated at i64,
    else f64.  ``any`` is the type of an untyped "any" parameter (``deps`` holds
    its one name): every tier-1 type.
    """

    kind: str
    deps: frozenset[str] = frozenset()
    # tier 2 (tests/progen2.py): element types of "arr", "opt" and "tup";
    # the declared name of a "struct" or "enum"
    args: tuple[Ty, ...] = ()
    name: str = ""

    def __str__(self) -> str:
        if self.kind in ("num", "any"):
            return f"{self.kind}({','.join(sorted(self.deps))})"
        if self.kind == "arr":
            return f"[{self.args[0]}]"
        if self.kind == "opt":
            return f"{self.args[0]}?"
        if self.kind == "tup":
            return "(" + ", ".join(str(a) for a in self.args) + ")"
        if self.kind in ("struct", "enum"):
            return self.name
        if self.kind == "unit":
            return "()"
        return self.kind


I64 = Ty("i64")
F64 = Ty("f64")
BOOL = Ty("bool")
TEXT = Ty("text")
UNIT = Ty("unit")
CONCRETE = (I64, F64, BOOL, TEXT)


def num(deps: frozenset[str]) -> Ty:
    return Ty("num", deps)


def is_numeric(t: Ty) -> bool:
    return t.kind in ("i64", "f64", "num")


def num_join(a: Ty, b: Ty) -> Ty:
    """The type of ``a + b`` for numeric ``a`` and ``b``."""
    if a == F64 or b == F64:
        return F64
    if a == I64:
        return b
    if b == I64:
        return a
    return num(a.deps | b.deps)


def num_fits(value: Ty, target: Ty) -> bool:
    """Whether a value of type ``value`` may be assigned to a ``target`` variable."""
    if value == target:
        return True
    if target == F64:
        return value == I64
    if target.kind == "num":
        return value == I64 or (value.kind == "num" and value.deps <= target.deps)
    return False


# --------------------------------------------------------------- expressions

# Precedence of the printed form of an expression (higher binds tighter).
P_IF = 0
P_OR = 1
P_AND = 2
P_EQ = 3
P_CMP = 4
P_BOR = 6
P_XOR = 7
P_BAND = 8
P_SHIFT = 9
P_ADD = 10
P_MUL = 11
P_POW = 12
P_UNARY = 13
P_POSTFIX = 14
P_ATOM = 15

BINARY_PREC = {
    "or": P_OR,
    "||": P_OR,
    "and": P_AND,
    "&&": P_AND,
    "==": P_EQ,
    "!=": P_EQ,
    "<": P_CMP,
    "<=": P_CMP,
    ">": P_CMP,
    ">=": P_CMP,
    "|": P_BOR,
    "^": P_XOR,
    "&": P_BAND,
    "<<": P_SHIFT,
    ">>": P_SHIFT,
    "+": P_ADD,
    "-": P_ADD,
    "*": P_MUL,
    "/": P_MUL,
    "%": P_MUL,
}


class Ex(NamedTuple):
    code: str
    prec: int


def paren(e: Ex, min_prec: int) -> str:
    return e.code if e.prec >= min_prec else f"({e.code})"


def binary(op: str, a: Ex, b: Ex) -> Ex:
    p = BINARY_PREC[op]
    if p in (P_EQ, P_CMP):  # never chain by accident
        return Ex(f"{paren(a, p + 1)} {op} {paren(b, p + 1)}", p)
    return Ex(f"{paren(a, p)} {op} {paren(b, p + 1)}", p)


def unary(op: str, a: Ex) -> Ex:
    inner = paren(a, P_UNARY)
    if op == "not":
        return Ex(f"not {inner}", P_UNARY)
    if inner[0] in "-~!":
        inner = f"({inner})"
    return Ex(f"{op}{inner}", P_UNARY)


def postfix(a: Ex, suffix: str) -> Ex:
    return Ex(f"{paren(a, P_POSTFIX)}{suffix}", P_POSTFIX)


def atom(code: str) -> Ex:
    return Ex(code, P_ATOM)


# ----------------------------------------------------------------- literals

I64_EDGES = (
    "9223372036854775807",
    "(-9223372036854775807 - 1)",
    "4611686018427387904",
    "0x7fffffffffffffff",
    "0x4000000000000000",
    "4294967296",
    "2147483647",
    "-1",
    "0",
    "1",
)
F64_LITERALS = (
    "0.0",
    "-0.0",
    "1.0",
    "0.5",
    "0.1",
    "0.2",
    "0.3",
    "2.5",
    "3.14159",
    "1e10",
    "2e-5",
    "1e300",
    "1e-300",
    "1e21",
    "1e22",
    "1e-7",
    "123456.789",
    "0.5e-3",
    "9223372036854775807.0",
    "9.2233720368547758e18",
    "-9.3e18",
    "1e19",
    "4503599627370496.5",
    "1.7976931348623157e308",
    "5e-324",
    "100.0f64",
    "(1.0 / 0.0)",
    "(-1.0 / 0.0)",
    "(0.0 / 0.0)",
)
TEXT_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?-_+*/=<>()[]@#$%&|^~`"
)
TEXT_WORDS = ("a", "ab", "abc", "x", "Hello", "World", " ", "  pad  ", "\\t", "-", "0", "42", "AbC")


# ------------------------------------------------------------------- context


@dataclass
class Var:
    name: str
    ty: Ty
    mutable: bool
    assignable: bool  # False for loop counters the body must not touch


@dataclass
class Param:
    name: str
    ty: Ty  # concrete, or num({name}) / any({name}) when untyped
    declared: bool  # whether the annotation is written


@dataclass
class Fn:
    name: str
    params: list[Param]
    ret: Ty  # abstract: may be num(...)/any(...) over the parameter names
    cost: int
    # how to build the argument list: None means "ordinary"; recursive
    # functions take their depth parameter first and choose it themselves.
    depth_param: int = 0  # max depth for recursive functions (0: not recursive)
    pure_text: bool = False  # returning text built without reading text state
    calls: int = 0  # call sites generated so far
    pushes: bool = False  # may push onto an array (tier 2): not inside for-in


@dataclass
class Scope:
    vars: dict[str, Var] = field(default_factory=dict)


# Budgets of the cost model (units: statement executions, roughly).
PROGRAM_BUDGET = 900
FN_BUDGET = 160
LOOP_MULT_CAP = 40


class Generator:
    def __init__(self, rng: random.Random, small: bool = False) -> None:
        self.r = rng
        self.small = small
        self.depth_max = rng.choice((2, 3, 3, 3, 4)) - (1 if small else 0)
        self.counter = 0
        self.funcs: list[Fn] = []
        self.globals: list[Var] = []
        self.scopes: list[Scope] = []
        # current function
        self.ret: Ty | None = None  # None: top level
        self.in_fn = False
        self.loop_depth = 0
        self.block_depth = 0
        self.mult = 1
        self.cost = 0
        self.budget = FN_BUDGET
        self.allow_calls = True
        self.interp_depth = 0
        # per-program knobs
        self.risky = rng.choice((0.0, 0.0, 0.0, 0.04, 0.12))
        self.call_rate = rng.choice((0.5, 1.0, 1.5))
        self.shadow_rate = rng.choice((0.0, 0.15))
        # how often a leaf is a variable rather than a literal: literal-heavy
        # programs give constant folding and inlining more to do
        self.var_rate = rng.choice((0.65, 0.65, 0.3))
        self.comment_rate = rng.choice((0.0, 0.03))
        self.probe_b = self.fresh("pb")
        self.probe_i = self.fresh("pi")
        self.probe_a = self.fresh("pa")
        self.probe_count = self.fresh("nprobe")

    # ----------------------------------------------------------- utilities

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, weighted: list[tuple[float, Callable[[], Ex]]]) -> Ex:
        total = sum(w for w, _ in weighted if w > 0)
        x = self.r.random() * total
        for w, f in weighted:
            if w <= 0:
                continue
            x -= w
            if x <= 0:
                return f()
        return weighted[-1][1]()

    def visible(self) -> list[Var]:
        seen: dict[str, Var] = {}
        for g in self.globals:
            seen[g.name] = g
        for s in self.scopes:
            seen.update(s.vars)
        return list(seen.values())

    def vars_of(self, t: Ty) -> list[Var]:
        return [v for v in self.visible() if v.ty == t]

    def declare(self, v: Var) -> None:
        self.scopes[-1].vars[v.name] = v

    def new_name(self, t: Ty) -> str:
        """A fresh name, or (sometimes) one that shadows an outer local."""
        if self.shadow_rate and len(self.scopes) > 1 and self.chance(self.shadow_rate):
            inner = self.scopes[-1].vars
            outer = [
                v
                for s in self.scopes[:-1]
                for v in s.vars.values()
                if v.ty.kind in ("i64", "f64", "bool", "text")
                and v.assignable
                and v.name not in inner
            ]
            if outer:
                return self.r.choice(outer).name
        return self.fresh("v")

    def add_cost(self, n: int) -> None:
        self.cost += n * self.mult

    def can_afford(self, n: int) -> bool:
        return self.cost + n * self.mult <= self.budget

    # ------------------------------------------------------------ literals

    def lit_i64(self) -> Ex:
        k = self.r.random()
        if k < 0.45:
            v = self.r.randint(0, 12)
        elif k < 0.7:
            v = self.r.randint(13, 1000)
        elif k < 0.8:
            v = self.r.getrandbits(self.r.choice((31, 32, 40, 62, 63)))
        else:
            code = self.r.choice(I64_EDGES)
            return atom(code) if code[0] != "-" else Ex(code, P_UNARY)
        form = self.r.random()
        if form < 0.08:
            code = hex(v)
        elif form < 0.11:
            code = bin(v) if v < 1 << 16 else hex(v)
        elif form < 0.14:
            code = "0o" + format(v, "o")
        elif form < 0.2 and v >= 1000:
            code = f"{v:_}"
        else:
            code = str(v)
        if self.chance(0.05):
            code += "i64"
        e = atom(code)
        if self.chance(0.15):
            return unary("-", e)
        return e

    def lit_f64(self) -> Ex:
        k = self.r.random()
        if k < 0.4:
            code = self.r.choice(F64_LITERALS)
        elif k < 0.75:
            code = f"{self.r.randint(0, 99)}.{self.r.randint(0, 999)}"
        elif k < 0.9:
            code = repr(round(self.r.uniform(0, 1000), self.r.randint(0, 17)))
            if "e" in code or "." not in code:
                code = "1.25"
        else:
            code = f"{self.r.randint(1, 9)}.{self.r.randint(0, 99)}e{self.r.randint(-30, 30)}"
        if code.startswith("-"):
            return Ex(code, P_UNARY)
        e = atom(code)
        if self.chance(0.1):
            return unary("-", e)
        return e

    def text_chars(self, n: int, raw: bool = False) -> str:
        out: list[str] = []
        for _ in range(n):
            k = self.r.random()
            if raw:
                c = self.r.choice(TEXT_CHARS + '{}"')
                out.append(c)
                continue
            if k < 0.82:
                c = self.r.choice(TEXT_CHARS)
                out.append(c)
            elif k < 0.88:
                out.append(self.r.choice(("\\n", "\\t", "\\\\", '\\"', "\\'")))
            elif k < 0.93:
                out.append(self.r.choice(("{{", "}}")))
            elif k < 0.97:
                out.append(f"\\x{self.r.randint(0x20, 0x7E):02x}")
            elif k < 0.995:
                out.append(f"\\u{{{self.r.randint(0x20, 0x7E):x}}}")
            else:
                out.append(self.r.choice(("\\0", "\\r")))
        return "".join(out)

    def lit_text(self) -> Ex:
        k = self.r.random()
        if k < 0.3:
            return atom('"' + self.r.choice(TEXT_WORDS) + '"')
        if k < 0.4:
            return atom("''") if self.chance(0.3) else atom('""')
        if k < 0.5:
            return atom("'" + self.text_chars(self.r.randint(1, 6), raw=True) + "'")
        if k < 0.53:
            body = self.text_chars(self.r.randint(0, 5), raw=True).replace('"', "q")
            return atom('"""' + body + "\n" + body + '"""')
        return atom('"' + self.text_chars(self.r.randint(1, 8)) + '"')

    # ---------------------------------------------------------- expressions

    def expr(self, t: Ty, d: int, clean: bool = False) -> Ex:
        self.add_cost(0)
        if t.kind == "i64":
            return self.e_i64(d)
        if t.kind == "f64":
            return self.e_f64(d)
        if t.kind == "bool":
            return self.e_bool(d)
        if t.kind == "text":
            return self.e_text(d, clean)
        if t.kind == "num":
            return self.e_num(t, d)
        if t.kind == "any":
            return self.e_any(t, d, clean)
        raise AssertionError(t)

    def var_leaf(self, t: Ty) -> Ex | None:
        vs = self.vars_of(t)
        if not vs:
            return None
        return atom(self.r.choice(vs).name)

    def leaf(self, t: Ty, clean: bool = False) -> Ex:
        if t.kind in ("num", "any"):
            return self.e_num(t, 0) if t.kind == "num" else self.e_any(t, 0, clean)
        if not (clean and t == TEXT) and self.chance(self.var_rate):
            v = self.var_leaf(t)
            if v is not None:
                return v
        if t == I64:
            return self.lit_i64()
        if t == F64:
            return self.lit_f64()
        if t == BOOL:
            return atom(self.r.choice(("true", "false")))
        return self.lit_text()

    def numeric_vars(self) -> list[Ty]:
        return sorted({v.ty for v in self.visible() if v.ty.kind == "num"}, key=str)

    def any_num(self, d: int) -> tuple[Ex, Ty]:
        """A numeric expression of a random numeric type."""
        nums = self.numeric_vars()
        k = self.r.random()
        if nums and k < 0.3:
            t = self.r.choice(nums)
        elif k < 0.65:
            t = I64
        else:
            t = F64
        return self.expr(t, d), t

    def divisor(self, t: Ty, d: int) -> Ex:
        """A divisor of type ``t``: nonzero unless the program is a risky one."""
        if self.chance(self.risky):
            if self.chance(0.3):
                return atom("0") if t != F64 else self.lit_f64()
            return self.expr(t, d)
        if t == I64:
            k = self.r.random()
            if k < 0.5:
                v = self.r.choice((1, 2, 3, 7, 10, 16, 100, -1, -2, -3, 1 << 32))
                return atom(str(v)) if v > 0 else Ex(str(v), P_UNARY)
            return Ex(f"({paren(self.e_i64(d), P_BOR + 1)} | 1)", P_ATOM)
        if t == F64:
            return self.expr(F64, d)
        # num: |x| + 1 is never zero for i64 (MIN.abs() + 1 == MIN + 1)
        inner = postfix(self.expr(t, d), ".abs()")
        return Ex(f"({inner.code} + 1)", P_ATOM)

    def exponent(self, d: int) -> Ex:
        if self.chance(self.risky):
            return Ex(f"({paren(self.e_i64(d), P_MUL + 1)} % 4)", P_ATOM)
        k = self.r.random()
        if k < 0.6:
            return atom(str(self.r.choice((0, 1, 2, 2, 3, 3, 4, 5, 7, 13, 63, 64))))
        return Ex(f"({paren(self.e_i64(d), P_BAND + 1)} & 7)", P_ATOM)

    def call_expr(self, t: Ty, d: int, clean: bool = False) -> Ex | None:
        """A call of an earlier function whose result has type ``t``."""
        if not self.allow_calls:
            return None
        options: list[tuple[Fn, dict[str, Ty]]] = []
        for f in self.funcs:
            if not self.can_afford(f.cost + 1):
                continue
            if clean and self.text_dependent(f.ret) and not f.pure_text:
                continue
            inst = self.instantiate(f, t)
            if inst is not None:
                options.append((f, inst))
        if not options:
            return None
        f, inst = self.r.choice(options)
        self.add_cost(f.cost + 1)
        return self.emit_call(f, inst, d)

    def text_dependent(self, t: Ty) -> bool:
        """Whether a value of type ``t`` may hold a text read from program state."""
        return t == TEXT or t.kind == "any"

    def instantiate(self, f: Fn, want: Ty) -> dict[str, Ty] | None:
        """Argument types for the generic parameters of ``f`` so that it returns ``want``."""
        r = f.ret
        inst: dict[str, Ty] = {}
        nums = self.numeric_vars()
        anys = sorted({v.ty for v in self.visible() if v.ty.kind == "any"}, key=str)
        for p in f.params:
            if p.ty.kind == "num":
                inst[p.name] = self.r.choice([I64, F64, *nums])
            elif p.ty.kind == "any":
                inst[p.name] = self.r.choice([*CONCRETE, *nums, *anys])
        if r.kind == "num":
            if not is_numeric(want):
                return None
            ps = sorted(r.deps)
            if want == I64:
                for q in ps:
                    inst[q] = I64
            elif want == F64:
                for q in ps:
                    inst[q] = self.r.choice((I64, F64))
                inst[self.r.choice(ps)] = F64
            else:
                for q in ps:
                    inst[q] = self.r.choice((I64, want))
                inst[self.r.choice(ps)] = want
            return inst
        if r.kind == "any":
            (only,) = r.deps
            inst[only] = want
            return inst
        return inst if r == want else None

    def emit_call(self, f: Fn, inst: dict[str, Ty], d: int) -> Ex:
        f.calls += 1
        args: list[str] = []
        for i, p in enumerate(f.params):
            if f.depth_param and i == 0:
                args.append(self.depth_arg(f.depth_param, d))
                continue
            t = inst.get(p.name, p.ty)
            if t == F64 and p.declared and self.chance(0.25):
                t = I64  # promotion of an argument for an f64 parameter
            args.append(self.expr(t, d - 1).code)
        return atom(f"{f.name}({', '.join(args)})")

    def depth_arg(self, max_depth: int, d: int) -> str:
        k = self.r.random()
        if k < 0.6:
            return str(self.r.randint(0, max_depth))
        if k < 0.8:
            mask = (1 << (max_depth + 1).bit_length() - 1) - 1
            return f"{paren(self.e_i64(d - 1), P_BAND + 1)} & {mask}"
        return f"{paren(self.e_i64(d - 1), P_MUL + 1)} % {max_depth + 1}"

    def if_expr(self, t: Ty, d: int, clean: bool = False) -> Ex:
        first = self.branch_value(t, d, clean, promote=True)
        parts = [f"if {self.e_bool(d - 1).code}: {first.code}"]
        for _ in range(self.r.choice((0, 0, 0, 1, 2))):
            parts.append(f"elif {self.e_bool(d - 1).code}: {self.branch_value(t, d, clean).code}")
        parts.append(f"else: {self.branch_value(t, d, clean).code}")
        return Ex(" ".join(parts), P_IF)

    def branch_value(self, t: Ty, d: int, clean: bool, promote: bool = False) -> Ex:
        if promote and t == F64 and self.chance(0.3):
            e = self.expr(I64, d - 1)  # joins with the f64 branches
        else:
            e = self.expr(t, d - 1, clean)
        return Ex(paren(e, P_OR), e.prec)

    def probe_i64(self, d: int) -> Ex:
        self.add_cost(1)
        return atom(f'{self.probe_i}("{self.fresh("i")}", {self.e_i64(d - 1).code})')

    def e_i64(self, d: int) -> Ex:
        if d <= 0:
            return self.leaf(I64)

        def arith() -> Ex:
            op = self.r.choice(("+", "-", "*", "*", "+", "-"))
            return binary(op, self.e_i64(d - 1), self.e_i64(d - 1))

        def divmod_() -> Ex:
            op = self.r.choice(("/", "%"))
            return binary(op, self.e_i64(d - 1), self.divisor(I64, d - 1))

        def power() -> Ex:
            base = self.e_i64(d - 1)
            return Ex(f"{paren(base, P_UNARY)} ** {paren(self.exponent(d - 1), P_UNARY)}", P_POW)

        def shift() -> Ex:
            if self.chance(0.5):
                cnt = atom(str(self.r.choice((0, 1, 3, 31, 32, 62, 63, 64, 65, 127, 200))))
            else:
                cnt = self.e_i64(d - 1)
            return binary(self.r.choice(("<<", ">>")), self.e_i64(d - 1), cnt)

        def bits() -> Ex:
            return binary(self.r.choice(("&", "|", "^")), self.e_i64(d - 1), self.e_i64(d - 1))

        def neg() -> Ex:
            return unary(self.r.choice(("-", "-", "~")), self.e_i64(d - 1))

        def cast() -> Ex:
            if self.chance(0.7):
                return postfix(self.e_f64(d - 1), " as i64")
            if self.chance(0.5):
                return postfix(self.e_bool(d - 1), " as i64")
            return postfix(self.e_i64(d - 1), " as i64")

        def num_cast() -> Ex:
            nums = self.numeric_vars()
            return postfix(self.e_num(self.r.choice(nums), d - 1), " as i64")

        def length() -> Ex:
            return postfix(self.e_text(d - 1), ".len()")

        def absminmax() -> Ex:
            k = self.r.random()
            if k < 0.4:
                return postfix(self.e_i64(d - 1), ".abs()")
            fn = "min" if k < 0.7 else "max"
            return atom(f"{fn}({self.e_i64(d - 1).code}, {self.e_i64(d - 1).code})")

        def call() -> Ex:
            return self.call_expr(I64, d) or self.leaf(I64)

        def ifx() -> Ex:
            return self.if_expr(I64, d)

        return self.pick(
            [
                (3, lambda: self.leaf(I64)),
                (4, arith),
                (2, divmod_),
                (0.8, power),
                (1.2, shift),
                (1.5, bits),
                (1, neg),
                (1, cast),
                (1 if self.numeric_vars() else 0, num_cast),
                (0.8, length),
                (1, absminmax),
                (2 * self.call_rate if self.allow_calls else 0, call),
                (0.6, ifx),
                (0.4 if self.allow_calls else 0, lambda: self.probe_i64(d)),
            ]
        )

    def e_f64(self, d: int) -> Ex:
        if d <= 0:
            return self.leaf(F64)

        def operands() -> tuple[Ex, Ex]:
            a, ta = self.any_num(d - 1)
            if ta == F64:
                b, _ = self.any_num(d - 1)
            else:
                b = self.e_f64(d - 1)
            return (a, b) if self.chance(0.5) else (b, a)

        def arith() -> Ex:
            a, b = operands()
            return binary(self.r.choice(("+", "-", "*", "/", "%", "*", "+")), a, b)

        def power() -> Ex:
            a, b = operands()
            if self.chance(0.5):
                a, b = self.e_f64(d - 1), self.exponent(d - 1)
            return Ex(f"{paren(a, P_UNARY)} ** {paren(b, P_UNARY)}", P_POW)

        def neg() -> Ex:
            return unary("-", self.e_f64(d - 1))

        def cast() -> Ex:
            if self.chance(0.2) and self.numeric_vars():
                return postfix(self.e_num(self.r.choice(self.numeric_vars()), d - 1), " as f64")
            return postfix(self.e_i64(d - 1), " as f64")

        def builtin() -> Ex:
            k = self.r.random()
            if k < 0.35:
                a, _ = self.any_num(d - 1)
                return atom(f"sqrt({a.code})")
            if k < 0.6:
                return postfix(self.e_f64(d - 1), ".abs()")
            a, b = operands()
            return atom(f"{self.r.choice(('min', 'max'))}({a.code}, {b.code})")

        def call() -> Ex:
            return self.call_expr(F64, d) or self.leaf(F64)

        return self.pick(
            [
                (3, lambda: self.leaf(F64)),
                (5, arith),
                (0.7, power),
                (0.7, neg),
                (1.2, cast),
                (1.5, builtin),
                (1.5 * self.call_rate if self.allow_calls else 0, call),
                (0.5, lambda: self.if_expr(F64, d)),
            ]
        )

    def e_num(self, t: Ty, d: int) -> Ex:
        """An expression of exactly type num(t.deps)."""
        deps = sorted(t.deps)
        exact = self.var_leaf(t)
        if d <= 0 or (exact is not None and self.chance(0.3)):
            if exact is not None:
                return exact
            if len(deps) == 1:
                return atom(deps[0])  # the parameter itself
            return self.num_split(deps, 0)

        def split() -> Ex:
            return self.num_split(deps, d - 1)

        def with_int() -> Ex:
            a = self.e_num(t, d - 1)
            b = self.e_i64(d - 1)
            op = self.r.choice(("+", "-", "*", "/", "%"))
            if op in "/%":
                return binary(op, a, self.divisor(t if self.chance(0.5) else I64, d - 1))
            return binary(op, a, b) if self.chance(0.5) else binary(op, b, a)

        def un() -> Ex:
            k = self.r.random()
            if k < 0.4:
                return unary("-", self.e_num(t, d - 1))
            if k < 0.7:
                return postfix(self.e_num(t, d - 1), ".abs()")
            a = self.e_num(t, d - 1)
            return Ex(f"{paren(a, P_UNARY)} ** {paren(self.exponent(d - 1), P_UNARY)}", P_POW)

        def minmax() -> Ex:
            a = self.e_num(t, d - 1)
            b = self.e_i64(d - 1) if self.chance(0.4) else self.e_num(t, d - 1)
            a, b = (a, b) if self.chance(0.5) else (b, a)
            return atom(f"{self.r.choice(('min', 'max'))}({a.code}, {b.code})")

        def call() -> Ex:
            return self.call_expr(t, d) or self.e_num(t, 0)

        def ifx() -> Ex:
            return self.if_expr(t, d)

        return self.pick(
            [
                (2, lambda: self.e_num(t, 0)),
                (2 if len(deps) > 1 else 0.5, split),
                (3, with_int),
                (1, un),
                (1, minmax),
                (1 * self.call_rate, call),
                (0.5, ifx),
            ]
        )

    def num_split(self, deps: list[str], d: int) -> Ex:
        if len(deps) == 1:
            a = self.e_num(num(frozenset(deps)), d)
            b = self.e_num(num(frozenset(deps)), d)
        else:
            cut = self.r.randint(1, len(deps) - 1)
            a = self.e_num(num(frozenset(deps[:cut])), d)
            b = self.e_num(num(frozenset(deps[cut:])), d)
        return binary(self.r.choice(("+", "-", "*")), a, b)

    def e_any(self, t: Ty, d: int, clean: bool = False) -> Ex:
        exact = self.var_leaf(t)
        if exact is None:
            exact = atom(next(iter(t.deps)))
        if d <= 0 or clean or self.chance(0.5):
            return exact
        k = self.r.random()
        if k < 0.3:
            return self.if_expr(t, d)
        if k < 0.5 and self.allow_calls:
            self.add_cost(1)
            return atom(f'{self.probe_a}("{self.fresh("a")}", {exact.code})')
        return self.call_expr(t, d) or exact

    def probe_bool(self, d: int) -> Ex:
        self.add_cost(1)
        return atom(f'{self.probe_b}("{self.fresh("b")}", {self.e_bool(d - 1).code})')

    def e_bool(self, d: int) -> Ex:
        if d <= 0:
            return self.leaf(BOOL)

        def num_cmp() -> Ex:
            a, _ = self.any_num(d - 1)
            b, _ = self.any_num(d - 1)
            return binary(self.r.choice(("<", "<=", ">", ">=", "==", "!=")), a, b)

        def chain() -> Ex:
            n = self.r.randint(3, 4)
            parts = []
            for _ in range(n):
                if self.chance(0.3) and self.allow_calls:
                    parts.append(self.probe_i64(d - 1))
                else:
                    parts.append(self.any_num(d - 1)[0])
            code = paren(parts[0], P_CMP + 1)
            for p in parts[1:]:
                code += f" {self.r.choice(('<', '<=', '>', '>='))} {paren(p, P_CMP + 1)}"
            return Ex(code, P_CMP)

        def text_cmp() -> Ex:
            a, b = self.e_text(d - 1), self.e_text(d - 1)
            return binary(self.r.choice(("<", "<=", ">", ">=", "==", "!=")), a, b)

        def eq_any() -> Ex:
            choices = [
                BOOL,
                TEXT,
                *sorted({v.ty for v in self.visible() if v.ty.kind == "any"}, key=str),
            ]
            t = self.r.choice(choices)
            return binary(self.r.choice(("==", "!=")), self.expr(t, d - 1), self.expr(t, d - 1))

        def logic() -> Ex:
            op = self.r.choice(("and", "or", "and", "or", "&&", "||"))
            a = self.probe_bool(d) if self.allow_calls and self.chance(0.4) else self.e_bool(d - 1)
            b = self.probe_bool(d) if self.allow_calls and self.chance(0.5) else self.e_bool(d - 1)
            return binary(op, a, b)

        def neg() -> Ex:
            return unary(self.r.choice(("not", "not", "!")), self.e_bool(d - 1))

        def text_pred() -> Ex:
            m = self.r.choice(("contains", "starts_with", "ends_with"))
            recv = self.e_text(d - 1)
            arg = (
                atom('"' + self.r.choice(TEXT_WORDS) + '"')
                if self.chance(0.5)
                else self.e_text(d - 1)
            )
            return postfix(recv, f".{m}({arg.code})")

        def call() -> Ex:
            return self.call_expr(BOOL, d) or self.leaf(BOOL)

        return self.pick(
            [
                (2, lambda: self.leaf(BOOL)),
                (4, num_cmp),
                (1, chain),
                (1.2, text_cmp),
                (1, eq_any),
                (3, logic),
                (1, neg),
                (1.2, text_pred),
                (1 * self.call_rate if self.allow_calls else 0, call),
                (0.4 if self.allow_calls else 0, lambda: self.probe_bool(d)),
                (0.3, lambda: self.if_expr(BOOL, d)),
            ]
        )

    def interpolation(self, d: int, clean: bool) -> Ex:
        pieces: list[str] = []
        self.interp_depth += 1
        for _ in range(self.r.randint(1, 3)):
            if self.chance(0.6):
                pieces.append(self.text_chars(self.r.randint(0, 4)))
            types = [I64, F64, F64, BOOL, *self.numeric_vars()]
            if not clean:
                types += [
                    TEXT,
                    *sorted({v.ty for v in self.visible() if v.ty.kind == "any"}, key=str),
                ]
            types += self.interpolated_types(clean)
            t = self.r.choice(types)
            if self.interp_depth > 1 and t == TEXT:
                t = I64
            e = self.expr(t, d - 1, clean)
            pieces.append("{" + e.code + "}")
        self.interp_depth -= 1
        if self.chance(0.5):
            pieces.append(self.text_chars(self.r.randint(0, 3)))
        return atom('"' + "".join(pieces) + '"')

    def interpolated_types(self, clean: bool) -> list[Ty]:
        """More types to interpolate (tier 2)."""
        return []

    def e_text(self, d: int, clean: bool = False) -> Ex:
        if d <= 0:
            return self.leaf(TEXT, clean)

        def concat() -> Ex:
            return binary("+", self.e_text(d - 1, clean), self.e_text(d - 1, clean))

        def method() -> Ex:
            m = self.r.choice(("upper", "lower", "trim", "trim", "repeat"))
            recv = self.e_text(d - 1, clean)
            if m == "repeat":
                k = self.r.random()
                if k < 0.6:
                    n = atom(str(self.r.randint(-1, 3)))
                elif k < 0.8:
                    n = Ex(f"{paren(self.e_i64(d - 1), P_BAND + 1)} & 3", P_BAND)
                else:
                    n = Ex(f"{paren(self.e_i64(d - 1), P_MUL + 1)} % 3", P_MUL)
                return postfix(recv, f".repeat({n.code})")
            return postfix(recv, f".{m}()")

        def to_text() -> Ex:
            types = [I64, F64, BOOL, *self.numeric_vars()]
            if not clean:
                types.append(TEXT)
            return postfix(self.expr(self.r.choice(types), d - 1), ".to_text()")

        def call() -> Ex:
            return self.call_expr(TEXT, d, clean) or self.leaf(TEXT, clean)

        return self.pick(
            [
                (3, lambda: self.leaf(TEXT, clean)),
                (3 if self.interp_depth < 2 else 0, lambda: self.interpolation(d, clean)),
                (2, concat),
                (2, method),
                (0.7, to_text),
                (1 * self.call_rate if self.allow_calls else 0, call),
                (0.4, lambda: self.if_expr(TEXT, d, clean)),
            ]
        )

    # ----------------------------------------------------------- statements

    def value_types(self) -> list[Ty]:
        return [I64, I64, F64, F64, BOOL, TEXT, TEXT, *self.numeric_vars()]

    def print_stmt(self, ind: str, out: list[str]) -> None:
        self.add_cost(1)
        k = self.r.random()
        if k < 0.03:
            out.append(f"{ind}print()")
            return
        if k < 0.4:
            out.append(f"{ind}print {self.interpolation(self.depth_max, False).code}")
            return
        types = self.value_types() + sorted(
            {v.ty for v in self.visible() if v.ty.kind == "any"}, key=str
        )
        e = self.expr(self.r.choice(types), self.r.randint(1, self.depth_max))
        if e.code.startswith("(") or e.prec == P_IF or self.chance(0.3):
            out.append(f"{ind}print({e.code})")
        else:
            out.append(f"{ind}print {e.code}")

    def decl_stmt(self, ind: str, out: list[str]) -> None:
        self.add_cost(1)
        anys = sorted({v.ty for v in self.visible() if v.ty.kind == "any"}, key=str)
        if anys and self.chance(0.15):
            t = self.r.choice(anys)
            name = self.fresh("v")
            out.append(f"{ind}val {name} = {self.e_any(t, 2).code}")
            self.declare(Var(name, t, False, False))
            return
        t = self.r.choice(self.value_types())
        d = self.r.randint(1, self.depth_max)
        mutable = self.chance(0.5)
        kw = "var" if mutable else "val"
        ann = ""
        if t.kind != "num" and self.chance(0.2):
            ann = f": {self.type_code(t)}"
            if t == F64 and self.chance(0.4):
                value = self.expr(I64, d)  # promoted by the annotation
            else:
                value = self.expr(t, d)
        elif t.kind != "num" and self.block_depth < 3 and self.chance(0.1):
            self.block_if(t, ind, out, d)
            return
        else:
            value = self.expr(t, d)
        name = self.new_name(t)
        out.append(f"{ind}{kw} {name}{ann} = {value.code}")
        self.declare(Var(name, t, mutable, mutable))

    def block_if(self, t: Ty, ind: str, out: list[str], d: int) -> None:
        """``val x = if c:`` with block branches that end in values."""
        name = self.new_name(t)
        kw = "val"
        lines = [f"{ind}{kw} {name} = if {self.e_bool(2).code}:"]
        self.block_value(t, ind + "    ", lines, d)
        if self.chance(0.4):
            lines.append(f"{ind}elif {self.e_bool(2).code}:")
            self.block_value(t, ind + "    ", lines, d)
        lines.append(f"{ind}else:")
        self.block_value(t, ind + "    ", lines, d)
        # A line starting with "-" or "(" right after the block would be
        # glued onto the if-expression by the parser (a known bug): print.
        lines.append(f"{ind}print {name}")
        out.extend(lines)
        self.declare(Var(name, t, False, False))

    def block_value(self, t: Ty, ind: str, out: list[str], d: int) -> None:
        self.scopes.append(Scope())
        self.block_depth += 1
        for _ in range(self.r.randint(0, 2)):
            self.simple_stmt(ind, out)
        out.append(f"{ind}{self.expr(t, d).code}")
        self.block_depth -= 1
        self.scopes.pop()

    def assignables(self) -> list[Var]:
        return [v for v in self.visible() if v.assignable]

    def assign_stmt(self, ind: str, out: list[str]) -> bool:
        vs = self.assignables()
        if not vs:
            return False
        self.add_cost(1)
        v = self.r.choice(vs)
        d = self.r.randint(1, 3)
        t = v.ty
        if t == TEXT:
            op = self.r.choice(("=", "+="))
            out.append(f"{ind}{v.name} {op} {self.e_text(d, clean=True).code}")
            return True
        if t == BOOL:
            out.append(f"{ind}{v.name} = {self.e_bool(d).code}")
            return True
        op = self.r.choice(("=", "+=", "-=", "*=", "/=", "%=", "+=", "="))
        if t == I64:
            value = self.divisor(I64, d) if op in ("/=", "%=") else self.e_i64(d)
        elif t == F64:
            value, _ = self.any_num(d)
        else:  # num
            if op in ("/=", "%="):
                value = self.divisor(t if self.chance(0.5) else I64, d)
            else:
                value = self.e_num(t, d) if self.chance(0.6) else self.e_i64(d)
        out.append(f"{ind}{v.name} {op} {value.code}")
        return True

    def call_stmt(self, ind: str, out: list[str]) -> bool:
        if not self.allow_calls:
            return False
        fs = [f for f in self.funcs if self.can_afford(f.cost + 1)]
        if not fs:
            return False
        f = self.r.choice(fs)
        inst = self.instantiate(f, f.ret if f.ret.kind not in ("num", "any") else I64)
        if inst is None:
            return False
        self.add_cost(f.cost + 1)
        out.append(f"{ind}{self.emit_call(f, inst, 2).code}")
        return True

    def dump_stmt(self, ind: str, out: list[str]) -> None:
        """Print the values of a few variables in scope."""
        vs = self.visible()
        if not vs:
            return self.print_stmt(ind, out)
        self.add_cost(1)
        chosen = self.r.sample(vs, min(len(vs), self.r.randint(1, 4)))
        out.append(f'{ind}print "' + " ".join(f"{v.name}={{{v.name}}}" for v in chosen) + '"')

    def simple_stmt(self, ind: str, out: list[str]) -> None:
        k = self.r.random()
        if k < 0.1:
            self.dump_stmt(ind, out)
        elif k < 0.45:
            self.print_stmt(ind, out)
        elif k < 0.7:
            self.decl_stmt(ind, out)
        elif k < 0.9:
            if not self.assign_stmt(ind, out):
                self.print_stmt(ind, out)
        elif not self.call_stmt(ind, out):
            self.print_stmt(ind, out)

    def block(
        self, ind: str, out: list[str], n: int, tail: Callable[[], str | None] | None = None
    ) -> None:
        """``n`` statements in a new scope; ``tail`` may end it with break/continue/return.

        ``tail`` is called after the statements, in their scope: a return value
        must see the declarations (and shadowings) of the block.
        """
        self.scopes.append(Scope())
        self.block_depth += 1
        start = len(out)
        for _ in range(n):
            self.stmt(ind, out)
        last = tail() if tail is not None else None
        if last is not None:
            out.append(f"{ind}{last}")
        if all(line.lstrip().startswith(("#", "/*")) for line in out[start:]):
            out.append(f"{ind}pass")
        self.block_depth -= 1
        self.scopes.pop()

    def stmt(self, ind: str, out: list[str]) -> None:
        if self.comment_rate and self.chance(self.comment_rate):
            out.append(f"{ind}# {self.text_chars(5, raw=True)}")
        if self.comment_rate and self.chance(self.comment_rate):
            out.append(f"{ind}/* block /* nested */ comment */")
        if self.cost >= self.budget:
            self.print_stmt(ind, out)
            return
        k = self.r.random()
        nested_ok = self.block_depth < 3
        if nested_ok and k < 0.14:
            self.if_stmt(ind, out)
        elif nested_ok and k < 0.24:
            self.loop_stmt(ind, out)
        elif k < 0.27 and self.in_fn and self.block_depth > 1:
            self.return_stmt(ind, out)
        else:
            self.simple_stmt(ind, out)

    def jump_tail(self) -> str | None:
        """A break/continue/return to end a branch with (or None)."""
        k = self.r.random()
        if self.loop_depth and k < 0.25:
            return self.r.choice(("break", "continue"))
        if self.in_fn and k < 0.32:
            return self.return_text()
        return None

    def return_text(self) -> str:
        assert self.ret is not None
        if self.ret == UNIT:
            return "return"
        t = self.ret
        if t == F64 and self.ret_declared and self.chance(0.3):
            t = I64
        return f"return {self.expr(t, 2).code}"

    def return_stmt(self, ind: str, out: list[str]) -> None:
        self.add_cost(1)
        cond = self.e_bool(2).code
        if self.chance(0.5):
            out.append(f"{ind}if {cond}: {self.return_text()}")
        else:
            out.append(f"{ind}if {cond}:")
            self.block(ind + "    ", out, self.r.randint(0, 1), self.return_text)

    def if_stmt(self, ind: str, out: list[str]) -> None:
        self.add_cost(1)
        cond = self.e_bool(self.r.randint(1, 3))
        if self.chance(0.2):
            out.append(f"{ind}if {cond.code}: {self.one_line_stmt()}")
            return
        out.append(f"{ind}if {cond.code}:")
        self.block(ind + "    ", out, self.r.randint(1, 3), self.jump_tail)
        for _ in range(self.r.choice((0, 0, 1, 2))):
            out.append(f"{ind}elif {self.e_bool(2).code}:")
            self.block(ind + "    ", out, self.r.randint(1, 2), self.jump_tail)
        if self.chance(0.5):
            out.append(f"{ind}else:")
            self.block(ind + "    ", out, self.r.randint(1, 2), self.jump_tail)

    def one_line_stmt(self) -> str:
        if self.loop_depth and self.chance(0.3):
            return self.r.choice(("break", "continue"))
        tmp: list[str] = []
        self.print_stmt("", tmp)
        return tmp[0]

    def loop_stmt(self, ind: str, out: list[str]) -> None:
        kind = self.r.choice(("for", "for", "while", "while_down", "loop"))
        trips = self.r.randint(0, 6)
        head: list[str] = []
        body_head: list[str] = []
        name = self.fresh({"for": "i", "loop": "c"}.get(kind, "w"))
        counter = Var(name, I64, kind != "for", False)
        if kind == "for":
            lo = self.r.randint(-3, 3)
            inclusive = self.chance(0.3)
            op = "..=" if inclusive else ".."
            k = self.r.random()
            if k < 0.2:  # start in -2..=2
                lo_code = f"{paren(self.e_i64(2), P_MUL + 1)} % 3"
                hi_code = str(trips - 1 if inclusive else trips)
                trips += 2
            elif k < 0.24:  # at the ends of i64 (..= must not overflow)
                trips = min(trips, 4)
                if self.chance(0.5):
                    lo_code = f"9223372036854775807 - {max(trips - 1, 0)}"
                    hi_code = "9223372036854775807"
                    op = "..="
                else:
                    lo_code = "(-9223372036854775807 - 1)"
                    hi_code = f"-9223372036854775807 + {trips - 1}"
            elif k < 0.3:  # end in 0..=3
                lo = self.r.randint(-1, 1)
                lo_code = str(lo)
                hi_code = f"{paren(self.e_i64(2), P_BAND + 1)} & 3"
                trips = 3 - lo + 1
            else:
                lo_code = str(lo)
                hi_code = str(lo + trips - 1 if inclusive else lo + trips)
            head.append(f"{ind}for {name} in {lo_code}{op}{hi_code}:")
        elif kind in ("while", "while_down"):
            if kind == "while":
                head.append(f"{ind}var {name} = 0")
                cond = f"{name} < {trips}"
                body_head.append(f"{name} += 1")
            else:
                head.append(f"{ind}var {name} = {trips}")
                cond = f"{name} > 0"
                body_head.append(f"{name} -= 1")
            if self.chance(0.3):
                cond += f" and {paren(self.e_bool(2), P_AND + 1)}"
            head.append(f"{ind}while {cond}:")
        else:
            head.append(f"{ind}var {name} = 0")
            head.append(f"{ind}loop:")
            body_head += [f"{name} += 1", f"if {name} > {trips}: break"]
        if self.mult * max(trips, 1) > LOOP_MULT_CAP or not self.can_afford(trips * 3):
            self.simple_stmt(ind, out)
            return
        self.add_cost(1)
        out.extend(head)
        self.scopes.append(Scope())  # the counter lives in a scope of its own
        self.declare(counter)
        self.loop_depth += 1
        saved = self.mult
        self.mult *= max(trips, 1)
        body: list[str] = [f"{ind}    {h}" for h in body_head]
        self.block(ind + "    ", body, self.r.randint(1, 4))
        if body_head and body[-1].strip() == "pass":
            body.pop()
        out.extend(body)
        self.mult = saved
        self.loop_depth -= 1
        self.scopes.pop()

    # ------------------------------------------------------------ functions

    ret_declared = False

    def begin_fn(self, params: list[Param], ret: Ty, declared: bool) -> None:
        self.scopes = [Scope()]
        for p in params:
            self.declare(Var(p.name, p.ty, False, False))
        self.ret = ret
        self.ret_declared = declared
        self.in_fn = True
        self.cost = 0
        self.mult = 1
        self.budget = FN_BUDGET
        self.loop_depth = 0
        self.block_depth = 0

    def type_code(self, t: Ty) -> str:
        return str(t)

    def param_types(self) -> tuple[Ty, ...]:
        """Types of declared parameters and return values."""
        return CONCRETE

    def gen_function(self) -> list[str]:
        k = self.r.random()
        if k < 0.15:
            return self.gen_recursive()
        if k < 0.2:
            return self.gen_mutual()
        name = self.fresh("f")
        params: list[Param] = []
        style = self.r.random()
        for _ in range(self.r.randint(0, 3)):
            pname = self.fresh("p")
            if style < 0.3:
                params.append(Param(pname, num(frozenset({pname})), False))
            elif style < 0.42:
                params.append(Param(pname, Ty("any", frozenset({pname})), False))
            else:
                params.append(Param(pname, self.r.choice(self.param_types()), True))
            if self.chance(0.2):
                style = self.r.random()
        nums = [p.name for p in params if p.ty.kind == "num"]
        anys = [p.name for p in params if p.ty.kind == "any"]
        k = self.r.random()
        if k < 0.2:
            ret = UNIT
        elif nums and k < 0.6:
            ret = num(frozenset(self.r.sample(nums, self.r.randint(1, len(nums)))))
        elif anys and k < 0.75:
            ret = Ty("any", frozenset({self.r.choice(anys)}))
        else:
            ret = self.r.choice(self.param_types())
        declared = ret.kind not in ("num", "any") and self.chance(0.5)
        self.begin_fn(params, ret, declared)
        one_line = ret != UNIT and self.chance(0.25)
        ps = ", ".join(
            f"{p.name}: {self.type_code(p.ty)}" if p.declared else p.name for p in params
        )
        head = f"fn {name}({ps})"
        if declared and (ret != UNIT or self.chance(0.5)):
            head += f" -> {self.type_code(ret)}"
        lines: list[str] = []
        if one_line:
            e = self.final_value(ret, self.r.randint(1, 3))
            lines.append(f"{head}: {e.code}")
        else:
            lines.append(f"{head}:")
            if self.chance(0.1):
                lines.append(
                    '    """A helper: ' + self.text_chars(4, raw=True).replace('"', "q") + '."""'
                )
            self.block_depth = 1
            for _ in range(self.r.randint(1, 5)):
                self.stmt("    ", lines)
            self.fn_tail(ret, lines)
        self.end_fn(Fn(name, params, ret, max(self.cost, 1)))
        return lines

    def final_value(self, ret: Ty, d: int) -> Ex:
        t = ret
        if ret == F64 and self.ret_declared and self.chance(0.3):
            t = I64
        return self.expr(t, d)

    def fn_tail(self, ret: Ty, lines: list[str]) -> None:
        if ret == UNIT:
            self.print_stmt("    ", lines)
            return
        k = self.r.random()
        if k < 0.15:
            # an if statement in tail position is the function's value
            lines.append(f"    if {self.e_bool(2).code}:")
            self.block_value(ret, "        ", lines, 2)
            lines.append("    else:")
            self.block_value(ret, "        ", lines, 2)
            return
        if k < 0.25:
            lines.append(f"    {self.if_expr(ret, 3).code}")
            return
        e = self.final_value(ret, self.r.randint(1, self.depth_max))
        lines.append(f"    {e.code}")

    def end_fn(self, f: Fn) -> None:
        self.funcs.append(f)
        self.in_fn = False
        self.ret = None
        self.scopes = []

    def gen_recursive(self) -> list[str]:
        name = self.fresh("r")
        dname, aname = self.fresh("d"), self.fresh("acc")
        generic = self.chance(0.35)
        acc_ty = num(frozenset({aname})) if generic else self.r.choice((I64, F64, TEXT))
        params = [Param(dname, I64, True), Param(aname, acc_ty, not generic)]
        max_depth = self.r.randint(1, 8)
        declared = not generic and self.chance(0.5)
        self.begin_fn(params, acc_ty, declared)
        self.allow_calls = False  # keep the body cheap and the call graph simple
        self.block_depth = 1
        ps = f"{dname}: i64, {aname}" + (f": {acc_ty.kind}" if not generic else "")
        head = f"fn {name}({ps})" + (f" -> {acc_ty.kind}" if declared else "")
        lines = [f"{head}:"]
        body: list[str] = []
        for _ in range(self.r.randint(0, 2)):
            self.simple_stmt("    ", body)
        lines.extend(body)
        if acc_ty == TEXT:
            step = f"{aname} + {self.e_text(2, clean=True).code}"
        else:
            step = binary(self.r.choice(("+", "-", "*")), atom(aname), self.expr(acc_ty, 2)).code
        return self.end_recursive(lines, name, params, acc_ty, max_depth, step)

    def end_recursive(
        self,
        lines: list[str],
        name: str,
        params: list[Param],
        acc_ty: Ty,
        max_depth: int,
        step: str,
    ) -> list[str]:
        """The tail of a recursive function: stop at depth 0, else recurse with ``step``."""
        dname, aname = params[0].name, params[1].name
        if self.chance(0.5):
            lines.append(f"    if {dname} <= 0:")
            lines.append(f"        return {aname}")
            lines.append(f"    {name}({dname} - 1, {step})")
        else:
            lines.append(f"    if {dname} <= 0: {aname} else: {name}({dname} - 1, {step})")
        self.allow_calls = True
        per_call = max(self.cost, 1) + 1
        self.end_fn(Fn(name, params, acc_ty, per_call * (max_depth + 1), depth_param=max_depth))
        return lines

    def gen_mutual(self) -> list[str]:
        a, b, d = self.fresh("ev"), self.fresh("od"), self.fresh("d")
        if self.chance(0.5):
            # mutual recursion with a printed trace
            max_depth = self.r.randint(1, 9)
            lines = [
                f"fn {a}({d}: i64) -> bool:",
                f'    print "{a} {{{d}}}"',
                f"    if {d} <= 0: true else: {b}({d} - 1)",
                "",
                f"fn {b}({d}: i64) -> bool:",
                f"    if {d} <= 0:",
                "        return false",
                f"    {a}({d} - 1)",
            ]
            params = [Param(d, I64, True)]
            self.funcs.append(Fn(a, params, BOOL, 2 * (max_depth + 1), depth_param=max_depth))
            return lines
        # tree recursion
        max_depth = self.r.randint(1, 7)
        x = self.fresh("x")
        k = self.r.choice(("+", "-", "^", "*"))
        lines = [
            f"fn {a}({d}: i64, {x}: i64) -> i64:",
            f"    if {d} < 2: {x} + {d} else: {a}({d} - 1, {x} {k} 3) {k} {a}({d} - 2, {x})",
        ]
        params = [Param(d, I64, True), Param(x, I64, True)]
        self.funcs.append(Fn(a, params, I64, 2 ** (max_depth + 1), depth_param=max_depth))
        return lines

    def probes(self) -> list[str]:
        pb, pi, pa, n = self.probe_b, self.probe_i, self.probe_a, self.probe_count
        lines = [
            f"fn {pb}(tag: text, v: bool) -> bool:",
            f"    {n} += 1",
            f'    print "{pb} {{tag}} {{v}} #{{{n}}}"',
            "    v",
            "",
            f"fn {pi}(tag: text, v: i64) -> i64:",
            f'    print "{pi} {{tag}}={{v}}"',
            "    v",
            "",
            f"fn {pa}(tag: text, v):",
            f"    {n} += 1",
            f'    print "{pa} {{tag}}: {{v}}"',
            "    v",
        ]
        self.globals.append(Var(n, I64, True, True))
        return lines

    def global_decl(self) -> str:
        t = self.r.choice(CONCRETE)
        name = self.fresh("g")
        mutable = self.chance(0.6)
        self.allow_calls = False
        self.scopes = [Scope()]
        ann = ""
        if self.chance(0.3):
            ann = f": {t.kind}"
            value = self.expr(I64 if t == F64 and self.chance(0.5) else t, 2)
        else:
            value = self.expr(t, 2)
        self.scopes = []
        self.allow_calls = True
        self.globals.append(Var(name, t, mutable, mutable))
        return f"{'var' if mutable else 'val'} {name}{ann} = {value.code}"

    def gen_main(self) -> list[str]:
        k = self.r.random()
        ret = I64 if k < 0.55 else UNIT
        declared = ret == I64 and self.chance(0.4)
        self.begin_fn([], ret, declared)
        self.budget = PROGRAM_BUDGET - self.top_cost
        lines = ["fn main()" + (" -> i64:" if declared else ":")]
        self.block_depth = 1
        self.main_body("    ", lines)
        if ret == I64:
            lines.append(f"    {self.exit_code()}")
        else:
            self.print_stmt("    ", lines)
        self.in_fn = False
        self.ret = None
        self.scopes = []
        return lines

    def main_body(self, ind: str, lines: list[str]) -> None:
        """Statements, then a call of every function not called yet."""
        for _ in range(self.r.randint(3, 6 if self.small else 10)):
            self.stmt(ind, lines)
        self.dump_stmt(ind, lines)
        for f in self.funcs:
            if f.calls:
                continue
            inst = self.instantiate(f, f.ret if f.ret.kind not in ("num", "any") else I64)
            assert inst is not None
            call = self.emit_call(f, inst, 2).code
            self.add_cost(f.cost + 1)
            if f.ret == UNIT and self.chance(0.7):
                lines.append(f"{ind}{call}")
            else:
                lines.append(f"{ind}print {call}")

    def exit_code(self) -> str:
        k = self.r.random()
        if k < 0.3:
            return str(self.r.randint(0, 255))
        if k < 0.45:
            return self.r.choice(("256", "300", "-1", "-256", "9223372036854775807"))
        e = self.e_i64(2)
        return e.code

    top_cost = 0

    def top_level(self) -> list[str]:
        """Top-level statements: run before main, may declare more globals."""
        self.scopes = [Scope()]
        self.ret = None
        self.in_fn = False
        self.cost = 0
        self.mult = 1
        self.budget = PROGRAM_BUDGET // 3
        self.block_depth = 1
        lines: list[str] = []
        for _ in range(self.r.randint(1, 3)):
            k = self.r.random()
            if k < 0.3:
                # a top-level val/var: a global of its own
                self.decl_stmt("", lines)
            else:
                self.stmt("", lines)
        self.top_cost += self.cost
        new_globals = list(self.scopes[0].vars.values())
        self.scopes = []
        self.globals.extend(new_globals)
        return lines

    def program(self) -> str:
        header = ["# generated by tests/progen.py"]
        probes = self.probes()
        globals_ = [f"var {self.probe_count} = 0"]
        globals_ += [self.global_decl() for _ in range(self.r.randint(0, 4))]
        fns: list[list[str]] = [probes]
        # Sometimes replace builtins (typed like them, so that the rest of
        # the generator need not know).
        if self.chance(0.05):
            fns.append(["fn min(a, b):", '    print "user min"', "    if a <= b: a else: b"])
        if self.chance(0.05):
            fns.append(["fn max(a, b): if b < a: a else: b"])
        if self.chance(0.04):
            fns.append(["fn sqrt(x): x * 0.5"])
        for _ in range(self.r.randint(1, 3 if self.small else 5)):
            fns.append(self.gen_function())
        # top-level code and main see the same functions; main is generated
        # after the top-level statements so that it sees their globals.
        tops: list[list[str]] = []
        if self.chance(0.7):
            for _ in range(self.r.randint(1, 3)):
                tops.append(self.top_level())
        main: list[str] = []
        if self.chance(0.9):
            main = self.gen_main()
        else:  # the program is its top-level statements
            chunk = self.top_level()
            self.scopes = [Scope()]
            self.budget = PROGRAM_BUDGET - self.top_cost
            self.main_body("", chunk)
            self.scopes = []
            tops.append(chunk)
        # layout: some functions, the globals, then functions and top-level
        # statements interleaved (top-level code keeps its order)
        self.r.shuffle(fns)
        if main:
            fns.insert(self.r.randint(0, len(fns)), main)
        cut = self.r.randint(0, len(fns))
        items: list[list[str]] = [*fns[:cut], globals_]
        rest: list[tuple[int, list[str]]] = [(0, f) for f in fns[cut:]]
        for t in tops:
            rest.insert(self.r.randint(0, len(rest)), (1, t))
        # keep the relative order of top-level chunks
        tops_iter = iter(tops)
        ordered = [next(tops_iter) if kind == 1 else f for kind, f in rest]
        items.extend(ordered)
        out = header
        for it in items:
            if it:
                out.extend(it)
                out.append("")
        return "\n".join(out) + "\n"


def generate_program(rng: random.Random, small: bool = False) -> str:
    """One program from the state of ``rng``; ``small`` ones compile faster."""
    return Generator(rng, small).program()


def generate(seed: int, small: bool = False, tier: int = 1) -> str:
    """The program for ``seed`` (deterministic); ``tier=2`` adds compound data (progen2.py)."""
    if tier == 2:
        from progen2 import generate2

        return generate2(seed, small)
    return generate_program(random.Random(seed), small)


def program_strategy(small: bool = False) -> st.SearchStrategy[str]:
    """A hypothesis strategy of program texts."""
    from hypothesis import strategies as st

    return st.randoms(use_true_random=False).map(lambda r: generate_program(r, small))


# ------------------------------------------------------------------ running
#
# Shared by the differential tests: run a program on one backend and record
# everything observable about it.

# Far more than any generated program needs; a hang in the interpreter ends
# as an "out of fuel" error, which then differs from the other backends.
FUEL = 50_000_000


@dataclass(frozen=True)
class Outcome:
    stdout: str
    exit_code: int | None  # None when the program stopped with a runtime error
    error: str | None  # SimpleRuntimeError.render()

    def describe(self) -> str:
        end = f"runtime error {self.error!r}" if self.error else f"exit code {self.exit_code}"
        return f"{end}, {len(self.stdout)} chars of stdout"


def run_interpreter(source: str, opt_level: int = 0, name: str = "<source>") -> Outcome:
    """Compile ``source`` at ``opt_level`` and run it with the reference interpreter."""
    from simple_jit.driver import compile_source

    module = compile_source(source, name, opt_level)
    return run_interpreter_module(module)


def run_interpreter_module(module: object) -> Outcome:
    from simple_jit.diagnostics import SimpleRuntimeError
    from simple_jit.driver import run_module
    from simple_jit.mir.ir import Module

    assert isinstance(module, Module)
    out = io.StringIO()
    try:
        code = run_module(module, out=out, fuel=FUEL)
    except SimpleRuntimeError as err:
        return Outcome(out.getvalue(), None, err.render())
    return Outcome(out.getvalue(), code, None)


@contextlib.contextmanager
def captured_fd1() -> Iterator[Callable[[], str]]:
    """Redirect file descriptor 1 (where the C runtime writes) to a temporary file.

    Yields a function that returns what was written so far (call it after the
    ``with`` block, or at least after the runtime flushed).
    """
    sys.stdout.flush()
    with tempfile.TemporaryFile() as tmp:
        saved = os.dup(1)
        os.dup2(tmp.fileno(), 1)
        result: list[str] = []

        def read() -> str:
            if not result:
                tmp.seek(0)
                result.append(tmp.read().decode("utf-8", "surrogateescape"))
            return result[0]

        try:
            yield read
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            read()


def run_jit(source: str, opt_level: int, name: str = "<source>") -> Outcome:
    """Compile ``source`` (MIR and LLVM at ``opt_level``) and run it in the LLVM JIT."""
    from simple_jit.diagnostics import SimpleRuntimeError
    from simple_jit.driver import compile_source
    from simple_jit.llvm import jit_program

    program = jit_program(compile_source(source, name, opt_level), opt_level)
    with captured_fd1() as output:
        try:
            code = program.run(name)
        except SimpleRuntimeError as err:
            return Outcome(output(), None, err.render())
    return Outcome(output(), code, None)


# ------------------------------------------------------- checks of one seed
#
# Module-level functions, so that worker processes can run them.  Each returns
# None when all is well, else a report naming the seed and holding the program.


def failure_report(seed: int, source: str, what: str, outcomes: dict[str, Outcome]) -> str:
    lines = [f"seed {seed}: {what}"]
    for label, o in outcomes.items():
        lines.append(f"  {label}: {o.describe()}")
    items = list(outcomes.items())
    ref_label, ref = items[0]
    for label, o in items[1:]:
        if o.stdout != ref.stdout:
            a, b = ref.stdout.splitlines(), o.stdout.splitlines()
            n = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            lines.append(f"  first stdout difference at line {n + 1}:")
            lines.append(f"    {ref_label}: {a[n] if n < len(a) else '<end>'}")
            lines.append(f"    {label}: {b[n] if n < len(b) else '<end>'}")
    lines.append("--- program ---")
    lines.append(source)
    return "\n".join(lines)


def differential_seed(seed: int) -> bool:
    """Whether the JIT check of ``seed`` uses a small program (they compile faster)."""
    return seed % 3 != 0


TIER2_CHECKS = frozenset({"check_jit2", "check_cranelift2", "check_aot2", "check_levels2"})


def source_for(check: str, seed: int) -> str:
    """The program that ``check`` (a function name of this module) runs for ``seed``."""
    if check in TIER2_CHECKS:
        return generate(seed, small=check != "check_levels2" and differential_seed(seed), tier=2)
    return generate(seed, small=check == "check_jit" and differential_seed(seed))


def check_jit(seed: int) -> str | None:
    """Interpreter (-O0, the reference) vs. the LLVM JIT (-O0 or -O2 by seed)."""
    source = generate(seed, small=differential_seed(seed))
    opt = 2 if seed % 2 else 0
    ref = run_interpreter(source, 0)
    try:
        jit = run_jit(source, opt)
    except Exception as exc:  # an internal compiler error is a failure too
        return failure_report(seed, source, f"LLVM -O{opt} raised {exc!r}", {"interp -O0": ref})
    if jit != ref:
        return failure_report(
            seed, source, "interpreter and JIT differ", {"interp -O0": ref, f"jit -O{opt}": jit}
        )
    return None


# Tier 2 (progen2.py): each seed runs one backend at -O0 (even seeds) or -O2
# (odd seeds) against the interpreter at -O0.


def run_cranelift(source: str, opt_level: int, name: str = "<source>") -> Outcome:
    """Compile ``source`` for the Cranelift backend (MIR -> wasm -> wasmtime) and run it."""
    from simple_jit.diagnostics import SimpleRuntimeError
    from simple_jit.driver import compile_source
    from simple_jit.wasm import compile_program

    program = compile_program(compile_source(source, name, opt_level), opt_level)
    out = io.BytesIO()
    try:
        code = program.run(out)
    except SimpleRuntimeError as err:
        return Outcome(out.getvalue().decode("utf-8", "surrogateescape"), None, err.render())
    return Outcome(out.getvalue().decode("utf-8", "surrogateescape"), code, None)


def run_aot(source: str, opt_level: int, name: str, timeout: float = 60.0) -> Outcome:
    """Build ``source`` (file name ``name``) into an executable, run it, and record all.

    A runtime error must be exit status 101 with exactly the rendered error
    line on stderr (``error`` holds stderr without its last newline); any
    other stderr output makes ``error`` non-None, so it shows as a difference.
    """
    import subprocess

    from simple_jit.driver import compile_source
    from simple_jit.llvm import object_code
    from simple_jit.llvm.compile import build_executable

    obj = object_code(compile_source(source, name, opt_level), opt_level)
    with tempfile.TemporaryDirectory(prefix="simple-aot-") as tmp:
        exe = os.path.join(tmp, "prog")
        build_executable(obj, exe)
        ran = subprocess.run([exe], capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    stdout = ran.stdout.decode("utf-8", "surrogateescape")
    stderr = ran.stderr.decode("utf-8", "surrogateescape")
    if ran.returncode == EXIT_RUNTIME_ERROR:
        return Outcome(stdout, None, stderr.removesuffix("\n"))
    return Outcome(stdout, ran.returncode, stderr or None)


EXIT_RUNTIME_ERROR = 101


def tier2_against(
    seed: int, check: str, label: str, run: Callable[[str, int], Outcome]
) -> str | None:
    source = source_for(check, seed)
    opt = 2 if seed % 2 else 0
    ref = run_interpreter(source, 0)
    try:
        got = run(source, opt)
    except Exception as exc:
        return failure_report(seed, source, f"{label} -O{opt} raised {exc!r}", {"interp -O0": ref})
    if got != ref:
        return failure_report(
            seed,
            source,
            f"interpreter and {label} differ",
            {"interp -O0": ref, f"{label} -O{opt}": got},
        )
    return None


def check_jit2(seed: int) -> str | None:
    """Tier 2: the interpreter against the LLVM JIT."""
    return tier2_against(seed, "check_jit2", "jit", run_jit)


def check_cranelift2(seed: int) -> str | None:
    """Tier 2: the interpreter against the Cranelift backend."""
    return tier2_against(seed, "check_cranelift2", "cranelift", run_cranelift)


def check_aot2(seed: int) -> str | None:
    """Tier 2: the interpreter against an AOT executable (stdout, exit status, stderr)."""
    name = f"prog{seed}.spl"
    source = source_for("check_aot2", seed)
    opt = 2 if seed % 2 else 0
    ref = run_interpreter(source, 0, name)
    if ref.exit_code is not None:  # the operating system keeps the low 8 bits
        ref = Outcome(ref.stdout, ref.exit_code & 0xFF, None)
    try:
        got = run_aot(source, opt, name)
    except Exception as exc:
        return failure_report(seed, source, f"aot -O{opt} raised {exc!r}", {"interp -O0": ref})
    if got != ref:
        return failure_report(
            seed, source, "interpreter and AOT differ", {"interp -O0": ref, f"aot -O{opt}": got}
        )
    return None


def check_levels(seed: int) -> str | None:
    """-O0..-O3 in the interpreter agree; MIR verifies after every pass and round-trips."""
    return levels_agree(seed, generate(seed))


def check_levels2(seed: int) -> str | None:
    """``check_levels`` for the tier-2 program of ``seed``."""
    return levels_agree(seed, source_for("check_levels2", seed))


def levels_agree(seed: int, source: str) -> str | None:
    from simple_jit.diagnostics import SourceFile
    from simple_jit.driver import compile_unit
    from simple_jit.mir.parser import parse_module
    from simple_jit.mir.printer import print_module

    outcomes: dict[str, Outcome] = {}
    for level in range(4):
        try:
            module = compile_unit(SourceFile("<source>", source), level, verify=True).mir
        except Exception as exc:
            return failure_report(seed, source, f"-O{level}: {exc}", outcomes)
        assert module is not None
        text = print_module(module)
        try:
            reparsed = parse_module(text)
            again = print_module(reparsed)
        except Exception as exc:
            return failure_report(seed, source, f"-O{level}: MIR text does not parse: {exc!r}", {})
        if again != text:
            return failure_report(seed, source, f"-O{level}: MIR text does not round-trip", {})
        outcomes[f"interp -O{level}"] = run_interpreter_module(module)
        if level == seed % 4:
            # the parsed module must mean the same as the printed one
            outcomes[f"reparsed -O{level}"] = run_interpreter_module(reparsed)
    if len(set(outcomes.values())) > 1:
        return failure_report(seed, source, "optimisation levels differ", outcomes)
    return None


# ------------------------------------------------------- parallel execution


class SeedRunner:
    """Runs a check over many seeds on every core, in worker processes.

    A worker that crashes (a segfault in native code) or hangs breaks the
    pool; the seeds of that batch are then run again, in order, in a
    subprocess that says which seed it starts, so that the report names the
    seed that did it (and the other seeds are still checked).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._pool: Any = None

    def _executor(self) -> Any:
        if self._pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx)
        return self._pool

    def close(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.kill()
        pool.shutdown(wait=not kill, cancel_futures=True)

    def run(
        self, check: Callable[[int], str | None], seeds: list[int], per_seed: float
    ) -> list[str]:
        """Failure reports of ``check`` over ``seeds`` (empty: all passed).

        ``per_seed`` is a generous bound on the seconds one seed may take; a
        batch that takes longer than that per seed is taken for a hang.
        """
        from concurrent.futures import BrokenExecutor
        from concurrent.futures import TimeoutError as FutureTimeout

        pool = self._executor()
        timeout = 60 + per_seed * len(seeds) / self.workers
        try:
            chunk = max(1, len(seeds) // (self.workers * 4))
            results = list(pool.map(check, seeds, chunksize=chunk, timeout=timeout))
        except (BrokenExecutor, FutureTimeout):
            self.close(kill=True)
            return isolate(check.__name__, seeds, per_seed)
        return [r for r in results if r is not None]


_ISOLATE = """
import json, sys
sys.path.insert(0, {tests!r})
import progen
check = getattr(progen, {name!r})
for seed in json.loads(sys.stdin.read()):
    print(json.dumps({{"start": seed}}), flush=True)
    report = check(seed)
    print(json.dumps({{"done": seed, "report": report}}), flush=True)
"""


def isolate(name: str, seeds: list[int], per_seed: float) -> list[str]:
    """Run check ``name`` over ``seeds`` in subprocesses; crashes and hangs name their seed."""
    import json
    import subprocess

    code = _ISOLATE.format(tests=os.path.dirname(os.path.abspath(__file__)), name=name)
    failures: list[str] = []
    remaining = list(seeds)
    while remaining:
        timeout = 60 + per_seed * len(remaining)
        status = "crashed the process"
        try:
            proc = subprocess.run(
                [sys.executable, "-c", code],
                input=json.dumps(remaining).encode(),
                capture_output=True,
                timeout=timeout,
            )
            stdout, stderr = proc.stdout, proc.stderr
            status += f" (exit status {proc.returncode})"
        except subprocess.TimeoutExpired as exc:
            stdout, stderr = exc.stdout or b"", exc.stderr or b""
            status = f"hangs (no end after {timeout:.0f} s)"
        started: int | None = None
        for line in stdout.decode("utf-8", "replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue  # output of the program under test
            if not isinstance(event, dict):
                continue
            if "start" in event:
                started = event["start"]
            elif "done" in event:
                started = None
                remaining.remove(event["done"])
                if event["report"]:
                    failures.append(event["report"])
        if started is None:
            if remaining:  # died before starting anything: give up on the rest
                failures.append(f"{name}: the subprocess failed: {stderr.decode()[-2000:]}")
            break
        remaining.remove(started)
        failures.append(
            f"seed {started}: {name} {status}\n{stderr.decode('utf-8', 'replace')[-2000:]}"
            f"\n--- program ---\n{source_for(name, started)}"
        )
    return failures


if __name__ == "__main__":
    print(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0, "--small" in sys.argv), end="")
