"""Random, valid, terminating tier-2 Simple programs, for differential testing.

``generate2(seed)`` extends the tier-1 generator of ``progen.py`` (everything
it generates stays in) with compound data:

* each program declares a few structs and enums; struct fields and enum
  payloads are scalars, texts, arrays, options, tuples and earlier structs
  and enums (nested data), and variables, globals, parameters and return
  values take these types and arrays, options and tuples of them;
* arrays: literals (also ``[]`` where the type is known), indexing with
  negative indices, index assignment (also compound), ``len``, ``push``,
  ``pop``, ``for x in xs`` (also over literals), arrays of arrays, arrays
  shared by two names, inside structs and passed to functions that push;
* structs: named (any order) and positional construction, field reads through
  nested structs, field assignment (also compound, also nested) on ``var``s,
  copies (``var c = s`` then changing ``c``, passing to functions) whose
  originals are printed to show value semantics;
* enums with and without payloads and ``match`` over enums, options, tuples,
  integers, texts and booleans: bindings, literal sub-patterns, ``Some``,
  ``nil``, ``_``, name arms, guards that fail and fall through; always
  exhaustive (a ``_`` or name arm ends a match that the variants do not
  cover); ``match`` as a value (``val x = match ...``) and as a statement;
* tuples, ``t.0``, ``val (a, _, c) = ...``; options: ``nil``, ``Some``,
  values converted into ``T?`` places, ``??``, ``if val x = opt`` with
  ``elif``/``else``;
* display of all of these by ``print``, by interpolation and through the
  generic probe function (one specialization per type);
* generic functions over tier-2 values (``fn last(xs, d)``, ``fn first(t)``
  destructuring a tuple, ``fn describe(o)`` matching an option, one that
  pushes onto its caller's array ...), specialized for many type tuples;
* recursion that carries a struct, array, tuple, option or enum accumulator;
* globals read and changed by functions (``var`` ones), some declared
  (annotated) at the end of the file, so that functions called by top-level
  code see and change their zero values (``[]``, records of zeros, an enum's
  first variant that can be built) before the declarations run;
* values moved within one container (``xs[i] = xs[0]``, ``xs.push(xs[-1])``,
  ``xs[0] = xs.pop()``, ``p.f = p.g``, ``s = s``), where reference counting
  goes wrong first.

Runtime errors happen on purpose in the "risky" programs (the knob of the
tier-1 generator): unguarded indexing with small constants (``index out of
range``) and ``pop`` of arrays that may be empty, besides division by zero.
Otherwise every index is guarded (``if xs.len() > 0: xs[k % xs.len()]``).

Termination and size: every tier-1 rule still holds.  A ``push`` costs
``PUSH_COST`` statements in the cost model (which already multiplies by loop
trips, callee costs and recursion depth), so a program pushes at most a few
dozen elements in all; a ``for x in xs`` body never pushes, directly or through
a call (``Fn.pushes``), so that loop ends.  Values stored into variables and
containers never read text held in program state (the tier-1 "clean" rule
extended to every type that contains text), so texts cannot double.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from progen import (
    BOOL,
    CONCRETE,
    F64,
    I64,
    LOOP_MULT_CAP,
    P_AND,
    P_ATOM,
    P_MUL,
    P_OR,
    P_UNARY,
    TEXT,
    TEXT_WORDS,
    Ex,
    Fn,
    Generator,
    Param,
    Scope,
    Ty,
    Var,
    atom,
    paren,
    postfix,
)

PUSH_COST = 12  # statements: bounds how many elements a program pushes
FOR_IN_TRIPS = 4  # the cost model's guess of an array's length in for-in
T2_KINDS = frozenset({"arr", "opt", "tup", "struct", "enum"})
VARIANT_NAMES = ("A", "B", "C", "D", "E")
# Characters whose case mapping, length or whitespace class is special
# (ß -> SS, İ -> i̇, ligatures, final sigma, titlecase, a combining accent,
# an emoji, no-break and other Unicode spaces that trim() removes).
UNICODE_CHARS = ("é", "ß", "İ", "ﬁ", "Σ", "ς", "ǅ", "Ω", "😀", "\\u{301}", "ŉ", "ΐ")
UNICODE_SPACES = ("\\u{a0}", "\\u{85}", "\\u{3000}", "\\u{2028}")


def arr(t: Ty) -> Ty:
    return Ty("arr", args=(t,))


def opt(t: Ty) -> Ty:
    return Ty("opt", args=(t,))


def tup(*ts: Ty) -> Ty:
    return Ty("tup", args=ts)


def is_t2(t: Ty) -> bool:
    return t.kind in T2_KINDS


Maker = Callable[[], Ex]


class Tier2Generator(Generator):
    def __init__(self, rng: random.Random, small: bool = False) -> None:
        super().__init__(rng, small)
        self.structs: dict[str, list[tuple[str, Ty]]] = {}
        self.enums: dict[str, list[tuple[str, list[Ty]]]] = {}
        self.type_decls: list[str] = []
        self.typed = False  # the next tier-2 value goes to a place of known type
        self.no_push = 0  # inside a for-in body
        self.fn_pushes = False
        self.t2_rate = rng.choice((0.35, 0.5, 0.65))
        self.proj_rate = rng.choice((0.15, 0.3))
        self._text: dict[Ty, bool] = {}
        self.make_types()
        # Globals declared (annotated) at the end of the file: functions that
        # top-level code calls read and change their zero values first.
        self.generics: list[tuple[str, str]] = []  # (name, kind): see gen_generic
        self.late: list[Var] = []
        for _ in range(rng.choice((0, 0, 1, 2))):
            mutable = self.chance(0.6)
            v = Var(self.fresh("gl"), self.r.choice(self.pool), mutable, mutable)
            self.late.append(v)
            self.globals.append(v)

    def text_chars(self, n: int, raw: bool = False) -> str:
        text = super().text_chars(n, raw)
        if self.chance(0.15):
            chars = UNICODE_CHARS if raw else UNICODE_CHARS + UNICODE_SPACES
            c = self.r.choice(chars)
            if raw and c.startswith("\\"):
                c = "é"
            # at an end: inside, it could split an escape or a "{{"
            text = c + text if self.chance(0.5) else text + c
        return text

    # ---------------------------------------------------------------- types

    def make_types(self) -> None:
        r = self.r
        declared: list[Ty] = []
        for _ in range(r.randint(2, 4)):
            if not self.enums or (self.structs and r.random() < 0.45):
                name = self.fresh("E")
                variants: list[tuple[str, list[Ty]]] = []
                names = list(VARIANT_NAMES[: r.randint(2, 4)])
                for vn in names:
                    payload: list[Ty] = []
                    if r.random() < 0.7:
                        for _ in range(r.randint(1, 2)):
                            payload.append(r.choice(self.member_types(declared, enum=True)))
                    variants.append((vn, payload))
                self.enums[name] = variants
                declared.append(Ty("enum", name=name))
                lines = [f"enum {name}:"]
                for vn, payload in variants:
                    args = f"({', '.join(str(t) for t in payload)})" if payload else ""
                    lines.append(f"    {vn}{args}")
            else:
                name = self.fresh("S")
                fields = [
                    (self.fresh("f"), r.choice(self.member_types(declared, enum=False)))
                    for _ in range(r.randint(1, 4))
                ]
                self.structs[name] = fields
                declared.append(Ty("struct", name=name))
                lines = [f"struct {name}:"] + [f"    {f}: {t}" for f, t in fields]
            self.type_decls.extend([*lines, ""])
        pool = list(declared)
        extra = [
            arr(I64),
            arr(I64),
            arr(TEXT),
            arr(F64),
            arr(BOOL),
            arr(arr(I64)),
            opt(I64),
            opt(TEXT),
            opt(F64),
            tup(I64, TEXT),
            tup(F64, BOOL, I64),
            tup(tup(I64, TEXT), BOOL),
            arr(tup(I64, TEXT)),
            arr(opt(I64)),
            opt(arr(I64)),
        ]
        for t in declared:
            extra += [arr(t), opt(t), tup(t, I64)]
        pool += r.sample(extra, r.randint(4, 8))
        self.pool = pool

    def member_types(self, declared: list[Ty], enum: bool) -> list[Ty]:
        base = [I64, I64, F64, BOOL, TEXT, TEXT, arr(I64), opt(I64)]
        if not enum:
            base += [arr(TEXT), tup(I64, TEXT)]
        return base + declared

    def has_text(self, t: Ty) -> bool:
        """Whether a value of type ``t`` can hold a text."""
        if t in self._text:
            return self._text[t]
        if t == TEXT:
            out = True
        elif t.kind in ("arr", "opt", "tup"):
            out = any(self.has_text(a) for a in t.args)
        elif t.kind == "struct":
            out = any(self.has_text(ft) for _, ft in self.structs[t.name])
        elif t.kind == "enum":
            out = any(self.has_text(pt) for _, ps in self.enums[t.name] for pt in ps)
        else:
            out = False
        self._text[t] = out
        return out

    def text_dependent(self, t: Ty) -> bool:
        return self.has_text(t) or t.kind == "any"

    def value_types(self) -> list[Ty]:
        base = super().value_types()
        if self.chance(self.t2_rate):
            return list(self.pool)
        return base

    def param_types(self) -> tuple[Ty, ...]:
        return CONCRETE + tuple(self.pool)

    def interpolated_types(self, clean: bool) -> list[Ty]:
        if not self.chance(0.3):
            return []
        return [t for t in self.pool if not (clean and self.has_text(t))]

    def instantiate(self, f: Fn, want: Ty) -> dict[str, Ty] | None:
        # "any" parameters stay tier 1: their bodies may compare them with ==
        if is_t2(want) and f.ret.kind == "any":
            return None
        return super().instantiate(f, want)

    def assignables(self) -> list[Var]:
        # tier-2 variables are assigned by t2_stmt
        return [v for v in super().assignables() if not is_t2(v.ty)]

    # ----------------------------------------------------------- functions

    def begin_fn(self, params: list[Param], ret: Ty, declared: bool) -> None:
        super().begin_fn(params, ret, declared)
        self.fn_pushes = False
        self.no_push = 0

    def end_fn(self, f: Fn) -> None:
        f.pushes = self.fn_pushes
        self.fn_pushes = False
        super().end_fn(f)

    # generic functions over tier-2 values: one specialization per type tuple

    GENERIC_KINDS = ("last", "len", "coalesce", "first", "show", "describe", "push")

    def gen_function(self) -> list[str]:
        if self.chance(0.2):
            return self.gen_generic()
        return super().gen_function()

    def gen_generic(self) -> list[str]:
        kind = self.r.choice(self.GENERIC_KINDS)
        name = self.fresh("gn")
        self.generics.append((name, kind))
        if kind == "last":  # ([T], T) -> T
            return [f"fn {name}(xs, d):", "    if xs.len() > 0: xs[-1] else: d"]
        if kind == "len":  # ([T]) -> i64
            return [f"fn {name}(xs): xs.len() * 10 + (if xs.len() > 1: 1 else: 0)"]
        if kind == "coalesce":  # (T?, T) -> T
            return [f"fn {name}(o, d):", "    val r = o ?? d", "    r"]
        if kind == "first":  # ((T, U)) -> T
            return [f"fn {name}(t):", "    val (a, _) = t", "    a"]
        if kind == "show":  # (T) -> T, printed
            return [f"fn {name}(v):", f'    print "{name} {{v}}"', "    v"]
        if kind == "describe":  # (T?) -> text
            return [
                f"fn {name}(o) -> text:",
                "    match o:",
                '        case Some(v): "some {v}"',
                '        case nil: "none"',
            ]
        # push: ([T], T) -> i64, changes the caller's array
        return [f"fn {name}(xs, v):", "    xs.push(v)", "    xs.len()"]

    def generic_call(self, want: Ty, d: int, clean: bool) -> Ex | None:
        """A call of a generic function (defined earlier) whose result is a ``want``."""
        if not self.allow_calls or (clean and self.has_text(want)):
            return None
        options: list[tuple[str, str]] = []
        for name, kind in self.generics:
            if kind in ("len", "push", "describe") and want != (
                TEXT if kind == "describe" else I64
            ):
                continue
            if kind == "describe" and clean:
                continue
            if kind == "push" and (self.no_push or not self.can_afford(PUSH_COST)):
                continue
            options.append((name, kind))
        if not options:
            return None
        name, kind = self.r.choice(options)
        sub = max(d - 1, 0)
        other = self.r.choice([*CONCRETE, *self.pool])
        self.add_cost(2)
        if kind == "last":
            args = [self.expr(arr(want), sub), self.expr(want, 0)]
        elif kind == "len":
            args = [self.expr(arr(other), sub)]
        elif kind == "coalesce":
            args = [self.expr(opt(want), sub), self.expr(want, 0)]
        elif kind == "first":
            args = [self.expr(tup(want, other), sub)]
        elif kind == "show":
            args = [self.expr(want, sub)]
        elif kind == "describe":
            inner = other if other.kind != "opt" else I64
            args = [self.expr(opt(inner), sub)]
        else:
            self.add_cost(PUSH_COST)
            self.fn_pushes = True
            elem = other if other.kind != "opt" else I64
            args = [self.expr(arr(elem), sub), self.expr(elem, sub, clean=True)]
        return atom(f"{name}({', '.join(a.code for a in args)})")

    def gen_recursive(self) -> list[str]:
        """Sometimes recursion that carries a tier-2 accumulator (copied or shared)."""
        if not self.chance(0.5):
            return super().gen_recursive()
        name = self.fresh("r")
        dname, aname = self.fresh("d"), self.fresh("acc")
        acc_ty = self.r.choice(self.pool)
        params = [Param(dname, I64, True), Param(aname, acc_ty, True)]
        max_depth = self.r.randint(1, 6)
        declared = self.chance(0.6)
        self.begin_fn(params, acc_ty, declared)
        self.allow_calls = False  # as in the tier-1 recursion: cheap, simple call graph
        self.block_depth = 1
        head = f"fn {name}({dname}: i64, {aname}: {acc_ty})" + (f" -> {acc_ty}" if declared else "")
        lines = [f"{head}:"]
        for _ in range(self.r.randint(0, 2)):
            self.simple_stmt("    ", lines)
        step = self.expr(acc_ty, 2)  # may read the accumulator: depth bounds the growth
        return self.end_recursive(lines, name, params, acc_ty, max_depth, step.code)

    def emit_call(self, f: Fn, inst: dict[str, Ty], d: int) -> Ex:
        if f.pushes:
            self.fn_pushes = True
        return super().emit_call(f, inst, d)

    # --------------------------------------------------------- expressions

    def expr(self, t: Ty, d: int, clean: bool = False) -> Ex:
        if is_t2(t):
            self.add_cost(0)
            return self.e_t2(t, d, clean)
        self.typed = False
        return super().expr(t, d, clean)

    def typed_expr(self, t: Ty, d: int, clean: bool = False) -> Ex:
        """A value for a place of type ``t`` (``[]``, ``nil`` and ``T`` for ``T?`` work)."""
        self.typed = True
        e = self.expr(t, d, clean)
        self.typed = False
        return e

    def e_t2(self, t: Ty, d: int, clean: bool) -> Ex:
        typed, self.typed = self.typed, False
        readable = not (clean and self.has_text(t))
        choices: list[tuple[float, Maker]] = [(3, lambda: self.construct(t, d, clean, typed))]
        if readable:
            vs = self.vars_of(t)
            if vs:
                choices.append((4 if d <= 0 else 3, lambda: atom(self.r.choice(vs).name)))
            if d > 0:
                choices.append(
                    (1.5, lambda: self.project(t, d, clean) or self.construct(t, 0, clean, typed))
                )
        if d > 0:
            if self.allow_calls:
                choices.append(
                    (
                        1.5 * self.call_rate,
                        lambda: (
                            self.call_expr(t, d, clean) or self.construct(t, d - 1, clean, typed)
                        ),
                    )
                )
                choices.append((0.3, lambda: self.probe_t2(t, d, clean)))
                choices.append(
                    (
                        0.6,
                        lambda: (
                            self.generic_call(t, d, clean) or self.construct(t, d - 1, clean, typed)
                        ),
                    )
                )
            choices.append((0.4, lambda: self.if_expr(t, d, clean)))
        return self.pick(choices)

    def probe_t2(self, t: Ty, d: int, clean: bool) -> Ex:
        self.add_cost(1)
        return atom(f'{self.probe_a}("{self.fresh("a")}", {self.expr(t, d - 1, clean).code})')

    def construct(self, t: Ty, d: int, clean: bool, typed: bool) -> Ex:
        r = self.r
        sub = max(d - 1, 0)
        if t.kind == "arr":
            n = r.randint(0 if typed else 1, 4 if d > 0 else 2)
            elem = t.args[0]
            if typed and elem.kind in ("arr", "opt") and self.chance(0.5):
                # the literal's type comes from its place: [nil], [[], [1]] ...
                return atom(
                    "[" + ", ".join(self.typed_elem(elem, sub, clean) for _ in range(n)) + "]"
                )
            return atom("[" + ", ".join(self.expr(elem, sub, clean).code for _ in range(n)) + "]")
        if t.kind == "opt":
            k = r.random()
            if typed and k < 0.25:
                return atom("nil")
            if typed and k < 0.4:
                return self.expr(t.args[0], sub, clean)  # becomes Some(value)
            return atom(f"Some({self.expr(t.args[0], sub, clean).code})")
        if t.kind == "tup":
            return atom("(" + ", ".join(self.expr(a, sub, clean).code for a in t.args) + ")")
        if t.kind == "struct":
            fields = self.structs[t.name]
            values = [(f, self.typed_expr(ft, sub, clean).code) for f, ft in fields]
            if self.chance(0.5):
                r.shuffle(values)
                return atom(f"{t.name}(" + ", ".join(f"{f}: {v}" for f, v in values) + ")")
            return atom(f"{t.name}(" + ", ".join(v for _, v in values) + ")")
        assert t.kind == "enum", t
        vn, payload = r.choice(self.enums[t.name])
        if not payload:
            return atom(f"{t.name}.{vn}")
        args = ", ".join(self.typed_expr(pt, sub, clean).code for pt in payload)
        return atom(f"{t.name}.{vn}({args})")

    def typed_elem(self, t: Ty, d: int, clean: bool) -> str:
        """An element of an array literal in a typed place: ``nil``, ``[]`` or a value."""
        if t.kind == "opt" and self.chance(0.35):
            return "nil"
        if t.kind == "arr":
            return self.typed_expr(t, d, clean).code
        return self.expr(t, d, clean).code

    # projections: values read out of variables of tier-2 types

    def paths(self, code: Ex, ty: Ty, depth: int, out: list[tuple[Ty, Maker]]) -> None:
        if ty.kind == "struct":
            for fname, fty in self.structs[ty.name]:
                e = postfix(code, f".{fname}")
                out.append((fty, lambda e=e: e))  # type: ignore[misc]
                if depth > 0:
                    self.paths(e, fty, depth - 1, out)
        elif ty.kind == "tup":
            for i, ety in enumerate(ty.args):
                e = postfix(code, f".{i}")
                out.append((ety, lambda e=e: e))  # type: ignore[misc]
                if depth > 0:
                    self.paths(e, ety, depth - 1, out)
        elif ty.kind == "arr":
            elem = ty.args[0]
            out.append((I64, lambda: postfix(code, ".len()")))
            out.append((elem, lambda: self.index_read(code.code, elem)))
        elif ty.kind == "opt":
            inner = ty.args[0]
            out.append((inner, lambda: self.coalesce(code, inner)))

    def roots(self) -> list[Var]:
        return [v for v in self.visible() if is_t2(v.ty)]

    def project(self, t: Ty, d: int, clean: bool) -> Ex | None:
        if clean and self.has_text(t):
            return None
        cands: list[tuple[Ty, Maker]] = []
        for v in self.roots():
            self.paths(atom(v.name), v.ty, 1, cands)
        makers = [m for ty, m in cands if ty == t]
        if not makers:
            return None
        return self.r.choice(makers)()

    def index_code(self, code: str) -> str:
        k = self.r.random()
        if k < 0.5:
            return f"{paren(self.e_i64(1), P_MUL + 1)} % {code}.len()"
        if k < 0.75:
            return "-1" if self.chance(0.6) else f"-{code}.len()"
        return "0"

    def index_read(self, code: str, elem: Ty) -> Ex:
        if self.risky and self.chance(self.risky):
            return atom(f"{code}[{self.r.randint(-4, 4)}]")
        idx = self.index_code(code)
        dflt = self.default(elem)
        return atom(f"(if {code}.len() > 0: {code}[{idx}] else: {dflt.code})")

    def default(self, t: Ty) -> Ex:
        """A small value of type ``t`` that reads no text state."""
        return self.construct(t, 0, True, False) if is_t2(t) else self.leaf(t, True)

    def coalesce(self, code: Ex, inner: Ty) -> Ex:
        dflt = self.typed_expr(inner, 0, True)
        return atom(f"({paren(code, P_ATOM)} ?? {paren(dflt, P_UNARY)})")

    def t2_scalar(self, t: Ty, d: int, clean: bool) -> Ex | None:
        """A value of tier-1 type ``t`` computed from tier-2 data."""
        k = self.r.random()
        if k < 0.1:
            return self.generic_call(t, d, clean)
        if k < 0.55:
            return self.project(t, d, clean)
        if clean and t == TEXT:
            return None
        if k < 0.65 and t == I64:
            arrays = [a for a in self.pool if a.kind == "arr"] or [arr(I64)]
            return postfix(self.expr(self.r.choice(arrays), d - 1), ".len()")
        if k < 0.75:
            o = opt(t)
            return self.coalesce(self.expr(o, d - 1), t)
        if k < 0.85:
            other = self.r.choice(CONCRETE)
            items = [t, other] if self.chance(0.5) else [other, t]
            tt = tup(*items)
            return postfix(self.construct(tt, d - 1, clean, False), f".{items.index(t)}")
        # pop as a value (guarded, or not in risky programs)
        popped = [v for v in self.roots() if v.ty.kind == "arr" and v.ty.args[0] == t]
        if not popped:
            return None
        v = self.r.choice(popped)
        if self.risky and self.chance(self.risky * 2):
            return postfix(atom(v.name), ".pop()")
        dflt = self.default(t)
        return atom(f"(if {v.name}.len() > 0: {v.name}.pop() else: {dflt.code})")

    def e_i64(self, d: int) -> Ex:
        if d > 0 and self.chance(self.proj_rate):
            e = self.t2_scalar(I64, d, False)
            if e is not None:
                return e
        return super().e_i64(d)

    def e_f64(self, d: int) -> Ex:
        if d > 0 and self.chance(self.proj_rate):
            e = self.t2_scalar(F64, d, False)
            if e is not None:
                return e
        return super().e_f64(d)

    def e_bool(self, d: int) -> Ex:
        if d > 0 and self.chance(self.proj_rate):
            e = self.t2_scalar(BOOL, d, False)
            if e is not None:
                return e
        return super().e_bool(d)

    def e_text(self, d: int, clean: bool = False) -> Ex:
        if d > 0 and self.chance(self.proj_rate):
            e = self.t2_scalar(TEXT, d, clean)
            if e is not None:
                return e
        return super().e_text(d, clean)

    # ----------------------------------------------------------- statements

    def array_targets(self) -> list[tuple[Ty, str | None, str]]:
        """Arrays that statements may change: (type, guard, code)."""
        out: list[tuple[Ty, str | None, str]] = []
        cands: list[tuple[Ty, Maker]] = []
        for v in self.roots():
            if v.ty.kind == "arr":
                out.append((v.ty, None, v.name))
                elem = v.ty.args[0]
                if elem.kind == "arr":
                    out.append(
                        (elem, f"{v.name}.len() > 0", f"{v.name}[{self.index_code(v.name)}]")
                    )
            elif v.ty.kind in ("struct", "tup"):
                self.paths(atom(v.name), v.ty, 1, cands)
        for ty, m in cands:
            if ty.kind == "arr":
                out.append((ty, None, m().code))
        return out

    def struct_targets(self) -> list[tuple[Ty, str]]:
        """Fields assignable through ``var``s: (type, code)."""
        out: list[tuple[Ty, str]] = []

        def walk(code: str, ty: Ty, depth: int) -> None:
            for fname, fty in self.structs[ty.name]:
                c = f"{code}.{fname}"
                out.append((fty, c))
                if fty.kind == "struct" and depth > 0:
                    walk(c, fty, depth - 1)

        for v in self.visible():
            if v.ty.kind == "struct" and v.assignable:
                walk(v.name, v.ty, 1)
        return out

    def guarded(self, ind: str, out: list[str], guard: str | None, stmt: str) -> None:
        out.append(f"{ind}if {guard}: {stmt}" if guard else f"{ind}{stmt}")

    def push_stmt(self, ind: str, out: list[str]) -> bool:
        if self.no_push or not self.can_afford(PUSH_COST):
            return False
        targets = self.array_targets()
        if not targets:
            return False
        ty, guard, code = self.r.choice(targets)
        self.add_cost(PUSH_COST)
        self.fn_pushes = True
        v = self.typed_expr(ty.args[0], self.r.randint(0, 2), clean=True)
        self.guarded(ind, out, guard, f"{code}.push({v.code})")
        return True

    def pop_stmt(self, ind: str, out: list[str]) -> bool:
        targets = self.array_targets()
        if not targets:
            return False
        _, guard, code = self.r.choice(targets)
        self.add_cost(1)
        if self.risky and self.chance(self.risky * 2):
            conds = guard
        else:
            conds = f"{guard} and {code}.len() > 0" if guard else f"{code}.len() > 0"
        body = f"print {code}.pop()" if self.chance(0.6) else f"{code}.pop()"
        self.guarded(ind, out, conds, body)
        return True

    def index_assign_stmt(self, ind: str, out: list[str]) -> bool:
        targets = self.array_targets()
        if not targets:
            return False
        ty, guard, code = self.r.choice(targets)
        elem = ty.args[0]
        self.add_cost(1)
        if self.risky and self.chance(self.risky):
            idx = str(self.r.randint(-4, 4))
            conds = guard
        else:
            idx = self.index_code(code)
            conds = f"{guard} and {code}.len() > 0" if guard else f"{code}.len() > 0"
        op = "="
        if elem == I64 and self.chance(0.3):
            op = self.r.choice(("+=", "-=", "*="))
        elif elem in (F64, TEXT) and self.chance(0.3):
            op = "+="
        value = self.typed_expr(elem, self.r.randint(0, 2), clean=True)
        self.guarded(ind, out, conds, f"{code}[{idx}] {op} {value.code}")
        return True

    def field_assign_stmt(self, ind: str, out: list[str]) -> bool:
        targets = self.struct_targets()
        if not targets:
            return False
        ty, code = self.r.choice(targets)
        self.add_cost(1)
        op = "="
        if ty == I64 and self.chance(0.35):
            op = self.r.choice(("+=", "-=", "*="))
        elif ty in (F64, TEXT) and self.chance(0.35):
            op = "+="
        value = self.typed_expr(ty, self.r.randint(0, 2), clean=True)
        out.append(f"{ind}{code} {op} {value.code}")
        return True

    def assign_t2_stmt(self, ind: str, out: list[str]) -> bool:
        vs = [v for v in self.visible() if v.assignable and is_t2(v.ty)]
        if not vs:
            return False
        v = self.r.choice(vs)
        self.add_cost(1)
        value = self.typed_expr(v.ty, self.r.randint(1, 2), clean=True)
        out.append(f"{ind}{v.name} = {value.code}")
        return True

    def copy_stmt(self, ind: str, out: list[str]) -> bool:
        """``var c = s``, change ``c``, print both: structs are values."""
        structs = [t for t in self.pool if t.kind == "struct"]
        if not structs:
            return False
        t = self.r.choice(structs)
        vs = self.vars_of(t)
        src = atom(self.r.choice(vs).name) if vs and self.chance(0.8) else self.expr(t, 1)
        name = self.fresh("c")
        self.add_cost(3)
        out.append(f"{ind}var {name} = {src.code}")
        self.declare(Var(name, t, True, True))
        fields = self.structs[t.name]
        fname, fty = self.r.choice(fields)
        value = self.typed_expr(fty, 1, clean=True)
        out.append(f"{ind}{name}.{fname} = {value.code}")
        shown = f"{{{src.code}}} " if src.code.isidentifier() else ""
        out.append(f'{ind}print "copy {shown}-> {{{name}}}"')
        return True

    def decl_t2_stmt(self, ind: str, out: list[str]) -> bool:
        t = self.r.choice(self.pool)
        self.add_cost(1)
        mutable = self.chance(0.5)
        name = self.fresh("v")
        if self.chance(0.4):
            value = self.typed_expr(t, self.r.randint(1, 2))
            out.append(f"{ind}{'var' if mutable else 'val'} {name}: {t} = {value.code}")
        else:
            value = self.expr(t, self.r.randint(1, 2))
            out.append(f"{ind}{'var' if mutable else 'val'} {name} = {value.code}")
        self.declare(Var(name, t, mutable, mutable))
        return True

    def destructure_stmt(self, ind: str, out: list[str]) -> bool:
        tuples = [t for t in self.pool if t.kind == "tup"] or [tup(I64, TEXT)]
        t = self.r.choice(tuples)
        value = self.expr(t, 2)
        mutable = self.chance(0.3)
        declared: list[Var] = []
        pattern = self.tuple_pattern(t, mutable, declared)
        if not declared:
            return False
        self.add_cost(1)
        out.append(f"{ind}{'var' if mutable else 'val'} {pattern} = {value.code}")
        for v in declared:
            self.declare(v)
        return True

    def element_update_stmt(self, ind: str, out: list[str]) -> bool:
        """Change a field of a struct in an array: take it out, change it, put it back."""
        targets = [x for x in self.array_targets() if x[0].args[0].kind == "struct"]
        if not targets:
            return False
        ty, guard, code = self.r.choice(targets)
        st = ty.args[0]
        self.add_cost(4)
        cond = f"{guard} and {code}.len() > 0" if guard else f"{code}.len() > 0"
        i, e = self.fresh("i"), self.fresh("e")
        fname, fty = self.r.choice(self.structs[st.name])
        out.append(f"{ind}if {cond}:")
        out.append(f"{ind}    val {i} = {self.index_code(code)}")
        out.append(f"{ind}    var {e} = {code}[{i}]")
        out.append(f"{ind}    {e}.{fname} = {self.typed_expr(fty, 1, clean=True).code}")
        out.append(f"{ind}    {code}[{i}] = {e}")
        return True

    def tuple_pattern(self, t: Ty, mutable: bool, declared: list[Var]) -> str:
        """``(a, _, (b, c))`` for a ``t``, adding the names it binds to ``declared``."""
        parts: list[str] = []
        for et in t.args:
            if et.kind == "tup" and self.chance(0.6):
                parts.append(self.tuple_pattern(et, mutable, declared))
            elif self.chance(0.25):
                parts.append("_")
            else:
                n = self.fresh("v")
                parts.append(n)
                declared.append(Var(n, et, mutable, mutable))
        return f"({', '.join(parts)})"

    def self_ref_stmt(self, ind: str, out: list[str]) -> bool:
        """Values moved within one array, struct or variable (plain reads never grow texts)."""
        targets = self.array_targets()
        k = self.r.random()
        if targets and k < 0.6:
            _, guard, code = self.r.choice(targets)
            self.add_cost(2)
            cond = f"{guard} and {code}.len() > 1" if guard else f"{code}.len() > 1"
            i, j = self.index_code(code), self.r.choice(("0", "-1", "1"))
            kk = self.r.random()
            if kk < 0.4:
                stmt = f"{code}[{i}] = {code}[{j}]"
            elif kk < 0.6:
                stmt = f"{code}[{self.r.choice(('0', '-1'))}] = {code}.pop()"
            elif kk < 0.8 and not self.no_push and self.can_afford(PUSH_COST):
                self.add_cost(PUSH_COST)
                self.fn_pushes = True
                stmt = f"{code}.push({code}[{j}])"
            else:
                stmt = f"{code}[{j}] = {code}[{j}]"
            self.guarded(ind, out, cond, stmt)
            return True
        fields = [(ty, c) for ty, c in self.struct_targets()]
        if fields and k < 0.85:
            ty, code = self.r.choice(fields)
            same = [c for t2, c in fields if t2 == ty]
            self.add_cost(1)
            out.append(f"{ind}{code} = {self.r.choice(same)}")
            return True
        vs = [v for v in self.visible() if v.assignable and is_t2(v.ty)]
        if not vs:
            return False
        v = self.r.choice(vs)
        others = [w.name for w in self.vars_of(v.ty)]
        self.add_cost(1)
        out.append(f"{ind}{v.name} = {self.r.choice(others)}")
        return True

    def t2_stmt(self, ind: str, out: list[str]) -> bool:
        k = self.r.random()
        if k < 0.04:
            return self.element_update_stmt(ind, out)
        if k < 0.1:
            return self.self_ref_stmt(ind, out)
        if k < 0.18:
            return self.push_stmt(ind, out)
        if k < 0.28:
            return self.pop_stmt(ind, out)
        if k < 0.42:
            return self.index_assign_stmt(ind, out)
        if k < 0.56:
            return self.field_assign_stmt(ind, out)
        if k < 0.66:
            return self.assign_t2_stmt(ind, out)
        if k < 0.74:
            return self.copy_stmt(ind, out)
        if k < 0.82:
            return self.destructure_stmt(ind, out)
        return self.decl_t2_stmt(ind, out)

    def simple_stmt(self, ind: str, out: list[str]) -> None:
        if self.chance(self.t2_rate) and self.t2_stmt(ind, out):
            return
        super().simple_stmt(ind, out)

    def stmt(self, ind: str, out: list[str]) -> None:
        if self.cost < self.budget and self.block_depth < 3 and self.chance(self.t2_rate * 0.3):
            k = self.r.random()
            if k < 0.35:
                done = self.for_in_stmt(ind, out)
            elif k < 0.75:
                done = self.match_stmt(ind, out)
            else:
                done = self.if_val_stmt(ind, out)
            if done:
                return
        super().stmt(ind, out)

    # compound statements

    def for_in_stmt(self, ind: str, out: list[str]) -> bool:
        arrays = [a for a in self.pool if a.kind == "arr"] or [arr(I64)]
        t = self.r.choice(arrays)
        k = self.r.random()
        targets = [x for x in self.array_targets() if x[1] is None]
        if targets and k < 0.6:
            t, _, src = self.r.choice(targets)
            trips = FOR_IN_TRIPS
        else:
            lit = self.construct(t, 1, False, False)
            src = lit.code
            trips = lit.code.count(",") + 1
        if self.mult * trips > LOOP_MULT_CAP or not self.can_afford(trips * 3):
            return False
        self.add_cost(1)
        name = self.fresh("x")
        out.append(f"{ind}for {name} in {src}:")
        self.scopes.append(Scope())
        self.declare(Var(name, t.args[0], False, False))
        self.loop_depth += 1
        self.no_push += 1
        saved_mult, saved_funcs = self.mult, self.funcs
        self.mult *= trips
        self.funcs = [f for f in saved_funcs if not f.pushes]
        self.block(ind + "    ", out, self.r.randint(1, 3), self.jump_tail)
        self.mult, self.funcs = saved_mult, saved_funcs
        self.no_push -= 1
        self.loop_depth -= 1
        self.scopes.pop()
        return True

    def if_val_stmt(self, ind: str, out: list[str]) -> bool:
        opts = [t for t in self.pool if t.kind == "opt"] or [opt(I64)]
        t = self.r.choice(opts)
        src = self.expr(t, 2)
        name = self.fresh("u")
        self.add_cost(1)
        out.append(f"{ind}if val {name} = {src.code}:")
        self.scopes.append(Scope())
        self.declare(Var(name, t.args[0], False, False))
        self.block(ind + "    ", out, self.r.randint(1, 2), self.jump_tail)
        self.scopes.pop()
        if self.chance(0.25):
            out.append(f"{ind}elif {self.e_bool(2).code}:")
            self.block(ind + "    ", out, 1, self.jump_tail)
        if self.chance(0.6):
            out.append(f"{ind}else:")
            self.block(ind + "    ", out, self.r.randint(1, 2), self.jump_tail)
        return True

    # match

    def literal_pattern(self, t: Ty) -> str | None:
        if t == I64:
            return str(self.r.choice((0, 1, 2, 3, 7, 42, -1, -7)))
        if t == F64:
            return self.r.choice(("0.0", "-0.0", "0.5", "1.0", "-2.5", "3.14159"))
        if t == TEXT:
            return '"' + self.r.choice(TEXT_WORDS) + '"'
        if t == BOOL:
            return self.r.choice(("true", "false"))
        return None

    def sub_pattern(self, t: Ty, binds: list[Var]) -> tuple[str, bool]:
        """A pattern for a value of type ``t`` and whether it matches every value."""
        k = self.r.random()
        if k < 0.2:
            return "_", True
        if k < 0.35:
            lit = self.literal_pattern(t)
            if lit is not None:
                return lit, False
        if t.kind == "tup" and k < 0.55:
            subs = [self.sub_pattern(a, binds) for a in t.args]
            return f"({', '.join(p for p, _ in subs)})", all(full for _, full in subs)
        if t.kind == "opt" and k < 0.55:
            if self.chance(0.3):
                return "nil", False
            inner, _ = self.sub_pattern(t.args[0], binds)
            return f"Some({inner})", False
        name = self.fresh("b")
        binds.append(Var(name, t, False, False))
        return name, True

    def arms(self, t: Ty) -> list[tuple[str, list[Var], bool]]:
        """Patterns (code, bindings, whether a guard may be added) ending exhaustively."""
        arms: list[tuple[str, list[Var], bool]] = []
        if t.kind == "enum":
            variants = list(self.enums[t.name])
            self.r.shuffle(variants)
            missing = {vn for vn, _ in variants}
            for vn, payload in variants:
                for _ in range(self.r.choice((1, 1, 1, 2))):
                    if vn not in missing or self.chance(0.2):
                        break
                    binds: list[Var] = []
                    subs = [self.sub_pattern(pt, binds) for pt in payload]
                    code = f"{t.name}.{vn}" + (f"({', '.join(s for s, _ in subs)})" if subs else "")
                    guard = self.chance(0.25)
                    if all(full for _, full in subs) and not guard:
                        missing.discard(vn)
                    arms.append((code, binds, guard))
            if not missing:
                return arms
        elif t.kind == "opt":
            binds = []
            inner, full = self.sub_pattern(t.args[0], binds)
            some = (f"Some({inner})", binds, self.chance(0.25))
            none: tuple[str, list[Var], bool] = ("nil", [], False)
            arms += [some, none] if self.chance(0.5) else [none, some]
            if full and not some[2]:
                return arms
        elif t == BOOL:
            arms += [("true", [], self.chance(0.3)), ("false", [], False)]
            if not arms[0][2] and self.chance(0.7):
                return arms
        elif t.kind == "tup":
            for _ in range(self.r.randint(1, 2)):
                binds = []
                subs = [self.sub_pattern(a, binds) for a in t.args]
                arms.append((f"({', '.join(s for s, _ in subs)})", binds, self.chance(0.4)))
        else:  # i64, f64, text
            for _ in range(self.r.randint(1, 3)):
                lit = self.literal_pattern(t)
                assert lit is not None
                arms.append((lit, [], self.chance(0.2)))
        if self.chance(0.5):
            arms.append(("_", [], False))
        else:
            name = self.fresh("m")
            arms.append((name, [Var(name, t, False, False)], False))
        return arms

    def match_subject_type(self) -> Ty:
        enums = [t for t in self.pool if t.kind == "enum"]
        others = [t for t in self.pool if t.kind in ("opt", "tup")]
        k = self.r.random()
        if enums and k < 0.55:
            return self.r.choice(enums)
        if others and k < 0.8:
            return self.r.choice(others)
        return self.r.choice((I64, TEXT, BOOL, F64))

    def match_stmt(self, ind: str, out: list[str]) -> bool:
        t = self.match_subject_type()
        subject = self.expr(t, 2)
        self.add_cost(2)
        if self.chance(0.5):
            name = self.fresh("v")
            rt = self.r.choice([*CONCRETE, *self.pool])
            out.append(f"{ind}val {name} = match {subject.code}:")
            self.match_arms(ind, t, out, rt)
            self.declare(Var(name, rt, False, False))
            if self.chance(0.6):
                out.append(f"{ind}print {name}")
        else:
            out.append(f"{ind}match {subject.code}:")
            self.match_arms(ind, t, out, None)
        return True

    def match_arms(self, ind: str, t: Ty, out: list[str], value: Ty | None) -> None:
        """The arms of a match over a ``t``: values of type ``value``, or statements."""
        for code, binds, may_guard in self.arms(t):
            self.scopes.append(Scope())
            for b in binds:
                self.declare(b)
            guard = f" if {paren(self.e_bool(2), P_AND)}" if may_guard else ""
            if value is not None:
                e = self.expr(value, 2)
                out.append(f"{ind}    case {code}{guard}: {paren(e, P_OR)}")
            elif self.chance(0.4):
                out.append(f"{ind}    case {code}{guard}: {self.one_line_stmt()}")
            else:
                out.append(f"{ind}    case {code}{guard}:")
                self.block(ind + "        ", out, self.r.randint(1, 2), self.jump_tail)
            self.scopes.pop()

    def fn_tail(self, ret: Ty, lines: list[str]) -> None:
        if ret.kind in ("unit", "num", "any") or not self.chance(0.12):
            return super().fn_tail(ret, lines)
        # a match in tail position is the function's value
        t = self.match_subject_type()
        lines.append(f"    match {self.expr(t, 2).code}:")
        self.match_arms("    ", t, lines, ret)

    # -------------------------------------------------------------- program

    def global_decl(self) -> str:
        return self.without_late(lambda: [self.early_global()])[0]

    def early_global(self) -> str:
        if not self.chance(0.35):
            return super().global_decl()
        t = self.r.choice(self.pool)
        name = self.fresh("g")
        mutable = self.chance(0.6)
        self.allow_calls = False
        self.scopes = [Scope()]
        if self.chance(0.4):
            code = f"{name}: {t} = {self.typed_expr(t, 2).code}"
        else:
            code = f"{name} = {self.expr(t, 2).code}"
        self.scopes = []
        self.allow_calls = True
        self.globals.append(Var(name, t, mutable, mutable))
        return f"{'var' if mutable else 'val'} {code}"

    def without_late(self, make: Callable[[], list[str]]) -> list[str]:
        """Top-level code must not name a global declared after it."""
        late = [g for g in self.globals if g in self.late]
        self.globals = [g for g in self.globals if g not in self.late]
        try:
            return make()
        finally:
            self.globals.extend(late)

    def top_level(self) -> list[str]:
        return self.without_late(super().top_level)

    def main_body(self, ind: str, lines: list[str]) -> None:
        if self.in_fn:
            return super().main_body(ind, lines)
        self.without_late(lambda: super(Tier2Generator, self).main_body(ind, lines) or [])
        return None

    def program(self) -> str:
        text = super().program()
        head, _, rest = text.partition("\n")
        tail: list[str] = []
        for v in self.late:

            def decl(v: Var = v) -> list[str]:
                self.scopes = [Scope()]
                self.allow_calls = False
                value = self.typed_expr(v.ty, 2)
                self.allow_calls = True
                self.scopes = []
                return [f"{'var' if v.mutable else 'val'} {v.name}: {v.ty} = {value.code}"]

            tail += self.without_late(decl)
        return head + "\n" + "\n".join(self.type_decls) + "\n" + rest + "\n".join(tail) + "\n"


def generate2(seed: int, small: bool = False) -> str:
    """The tier-2 program for ``seed`` (deterministic)."""
    return Tier2Generator(random.Random(seed), small).program()


if __name__ == "__main__":
    import sys

    print(generate2(int(sys.argv[1]) if len(sys.argv) > 1 else 0, "--small" in sys.argv), end="")
