"""MIR text form: round trips, golden files, parse errors and random modules.

``random_modules()`` is a hypothesis strategy building well-formed MIR modules
with every op of ``OPS``; ``test_mir_passes`` reuses it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golden import check_golden
from simple_jit.diagnostics import Loc
from simple_jit.mir.ir import (
    OPS,
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
from simple_jit.mir.parser import MirParseError, parse_module
from simple_jit.mir.printer import print_module
from simple_jit.mir.verify import verify_module
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    PRIMS,
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

DATA = Path(__file__).parent / "data" / "mir"

# ----------------------------------------------------------------- helpers


def structure(m: Module) -> object:
    """A comparable snapshot of everything in a module (exact float reprs)."""

    def op(a: Operand) -> object:
        if isinstance(a, Reg):
            return ("reg", a.id)
        return ("const", type(a.value).__name__, repr(a.value), a.ty)

    fns = []
    for f in m.functions.values():
        regs = [(r.id, r.name, r.ty) for r in f.regs]
        blocks = [
            (
                b.id,
                [
                    (i.op, i.dst.id if i.dst else None, [op(a) for a in i.args], i.extra, i.loc)
                    for i in b.instrs
                ],
                (b.term.op, [op(a) for a in b.term.args], b.term.targets, b.term.loc),
            )
            for b in f.blocks
        ]
        fns.append((f.name, len(f.params), f.ret, f.loc, regs, blocks))
    return (
        m.source_name,
        list(m.structs.items()),
        list(m.enums.items()),
        [(g.name, g.ty) for g in m.globals.values()],
        [(x.name, x.params, x.ret) for x in m.externs.values()],
        fns,
    )


def roundtrip(m: Module) -> str:
    text = print_module(m)
    back = parse_module(text)
    assert print_module(back) == text
    assert structure(back) == structure(m)
    return text


# ------------------------------------------------------- hand-written texts

EXAMPLES = sorted(p for p in DATA.glob("*.mir") if not p.name.startswith(("pass_", "err_")))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_golden_text_roundtrips(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    m = parse_module(text)
    assert print_module(m) == text  # golden files are in canonical form
    assert verify_module(m) == []
    roundtrip(m)


def test_example_contents() -> None:
    m = parse_module((DATA / "example.mir").read_text(encoding="utf-8"))
    f = m.functions["steps"]
    assert f.params[0].name == "start" and f.loc == Loc(1, 1)
    consts = [a for b in f.blocks for i in b.instrs for a in i.args if isinstance(a, Const)]
    reprs = {repr(c.value) for c in consts}
    assert {"inf", "-inf", "nan", "-0.0", "1e+16"} <= reprs
    assert Const(None, OptionT(I64)) in consts
    assert 'a"b\\c\n\t\x01 é 😀' in {c.value for c in consts}
    assert "add<i64, f64>" in m.functions
    assert isinstance(m.structs["Point"], StructDef)
    assert f.regs[6].ty == EnumT("Shape") and f.regs[5].ty == StructT("Point")


def test_weird_names_and_consts_roundtrip() -> None:
    m = Module('dir/"quoted"\\file.spl')
    f = Function("$init", [], UNIT)
    m.add(f)
    g = Function("f<[i64]?, (a b)>", [Reg(0, TEXT, "x y")], TEXT, Loc(3, 4))
    g.regs = list(g.params)
    m.add(g)
    t = g.new_reg(TEXT, "inf")
    b = g.new_block()
    b.instrs.append(Instr("tconcat", t, [g.params[0], Const("\u2028\x00\ud800\U0010ffff", TEXT)]))
    b.term = Term("ret", [t], [], Loc(9, 1))
    e = f.new_block()
    r = f.new_reg(F64, "bb3")
    e.instrs.append(Instr("fadd", r, [Const(-0.0, F64), Const(float("nan"), F64)]))
    e.instrs.append(Instr("call", None, [Const("", TEXT)], "f<[i64]?, (a b)>", Loc(2, 2)))
    e.term = Term("ret", [], [])
    assert verify_module(m) == []
    text = roundtrip(m)
    assert '@"f<[i64]?, (a b)>"' in text and '%1 "inf": text' in text


# ------------------------------------------------------------ parse errors

BAD = [
    ("fn @f() -> i64 {\nbb0:\n    ret 1\n", 4, "unterminated function"),
    ("fn @f() -> i64 {\nbb0:\n    %0 = iadd 1, 2\n    ret 1\n}\n", 3, "undeclared register"),
    ("fn @f() -> i64 {\n    %0: i64\nbb0:\n    %0 = frob 1\n    ret %0\n}\n", 4, "unknown opcode"),
    ("fn @f() -> i64 {\nbb1:\n    ret 1\n}\n", 2, "out of order"),
    ("fn @f() -> i64 {\nbb0:\n    %0 = iadd\n}\n", 3, "undeclared register"),
    ("source 'x'\n", 1, "unexpected character"),
    ('source "x\n', 1, "unterminated string"),
    ('fn @f() -> i64 {\nbb0:\n    ret "\\q"\n}\n', 3, "unknown escape"),
    ("struct P { x i64 }\n", 1, "expected ':'"),
    ("fn @f() -> i64 {\nbb0:\n    jump bb1\nbb1:\n}\n", 5, "no terminator"),
    ("fn @f() -> [i64 {\n}\n", 1, "expected ']'"),
    ("frobnicate\n", 1, "unknown declaration"),
    ("fn @f() -> i64 {\n    %1: i64\n}\n", 2, "out of order"),
    ("fn @f() -> i64 {\n    ret 1\n}\n", 2, "outside a block"),
    ("fn @f() -> i64 !x:1 {\n}\n", 1, "line number"),
    ("fn @f() -> i64 {\nbb0:\n    ret 1 extra\n}\n", 3, "end of line"),
    ("global @g: i64\nglobal @g: i64\n", 2, "duplicate global"),
    ("fn @f() -> i64 {\nbb0:\n    ret 99999999999999999999" + "9" * 5000 + "\n}\n", 3, "too long"),
    ("fn @f() -> " + "[" * 500 + "i64" + "]" * 500 + " {\n}\n", 1, "too deeply"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_parse_errors(text: str, line: int, words: str) -> None:
    with pytest.raises(MirParseError) as info:
        parse_module(text)
    assert info.value.line == line, str(info.value)
    assert words in info.value.message
    assert str(info.value).startswith(f"{line}:")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_random_text_only_raises_parse_errors(text: str) -> None:
    with contextlib.suppress(MirParseError):
        parse_module(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_text_only_raises_parse_errors(data: st.DataObject) -> None:
    text = (DATA / "example.mir").read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["del", "ins", "dup"]))
        if kind == "del":
            text = text[:pos] + text[pos + data.draw(st.integers(1, 10)) :]
        elif kind == "ins":
            text = text[:pos] + data.draw(st.text(max_size=5)) + text[pos:]
        else:
            text = text[:pos] + text[pos : pos + 20] + text[pos:]
    try:
        m = parse_module(text)
    except MirParseError:
        return
    verify_module(m)  # must not crash either
    print_module(m)


# ------------------------------------------------ random well-formed modules

_NAME = st.one_of(
    st.from_regex(r"[a-z_$][a-z0-9_.]{0,6}", fullmatch=True),
    st.text(st.characters(exclude_categories=()), max_size=6),
)
_FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, float("inf"), float("-inf"), float("nan"), 1e300, 5e-324]),
)
_TEXTS = st.text(st.characters(exclude_categories=()), max_size=10)
_LOCS = st.builds(Loc, st.integers(1, 500), st.integers(1, 120))


class _Gen:
    def __init__(self, draw: st.DrawFn, m: Module) -> None:
        self.draw = draw
        self.m = m
        self.f: Function | None = None

    def scalar(self) -> Type:
        return self.draw(st.sampled_from([I64, F64, BOOL, TEXT]))

    def type(self, depth: int = 0) -> Type:
        choices: list[Type] = [I64, F64, BOOL, TEXT, UNIT]
        choices += [StructT(n) for n in self.m.structs] + [EnumT(n) for n in self.m.enums]
        kind = self.draw(st.integers(0, 9 if depth < 2 else 5))
        if kind <= 5:
            return self.draw(st.sampled_from(choices))
        if kind == 6:
            return ArrayT(self.type(depth + 1))
        if kind == 7:
            return OptionT(self.type(depth + 1))
        return TupleT(tuple(self.type(depth + 1) for _ in range(self.draw(st.integers(1, 3)))))

    def const(self, ty: Type) -> Const | None:
        if ty == I64:
            return Const(self.draw(st.integers(-(2**63), 2**63 - 1)), I64)
        if ty == F64:
            return Const(self.draw(_FLOATS), F64)
        if ty == BOOL:
            return Const(self.draw(st.booleans()), BOOL)
        if ty == TEXT:
            return Const(self.draw(_TEXTS), TEXT)
        if ty == UNIT:
            return Const(None, UNIT)
        if isinstance(ty, OptionT):
            return Const(None, ty)
        return None

    def reg(self, ty: Type) -> Reg:
        assert self.f is not None
        pool = [r for r in self.f.regs if r.ty == ty]
        if pool and self.draw(st.integers(0, 3)) > 0:
            return self.draw(st.sampled_from(pool))
        return self.f.new_reg(ty, self.draw(st.none() | _NAME))

    def operand(self, ty: Type) -> Operand:
        c = self.const(ty)
        if c is not None and self.draw(st.booleans()):
            return c
        return self.reg(ty)

    def instr(self, op: str) -> Instr | None:
        info = OPS[op]
        m, d = self.m, self.draw
        extra: object = None
        if info.args is not None and "*" not in info.args and info.result != "*":
            args = [self.operand(PRIMS[a]) for a in info.args]
            dst = self.reg(PRIMS[info.result]) if info.result else None
            return Instr(op, dst, args, None, d(_LOCS) if info.can_fail else d(st.none() | _LOCS))
        t = self.type()
        rty: Type | None
        if op in ("copy", "opt_some"):
            args, rty = [self.operand(t)], (t if op == "copy" else OptionT(t))
        elif op == "select":
            args, rty = [self.operand(BOOL), self.operand(t), self.operand(t)], t
        elif op in ("totext", "print", "incref", "decref"):
            args, rty = [self.operand(t)], (TEXT if op == "totext" else None)
        elif op in ("call", "callext"):
            table = (
                {n: ([p.ty for p in g.params], g.ret) for n, g in m.functions.items()}
                if op == "call"
                else {n: (x.params, x.ret) for n, x in m.externs.items()}
            )
            if not table:
                return None
            extra = d(st.sampled_from(sorted(table)))
            params, rty = table[str(extra)]
            args = [self.operand(p) for p in params]
        elif op in ("gload", "gstore"):
            if not m.globals:
                return None
            g = m.globals[d(st.sampled_from(sorted(m.globals)))]
            extra = g.name
            args, rty = ([], g.ty) if op == "gload" else ([self.operand(g.ty)], None)
        elif op == "array_new":
            extra = t
            args, rty = [self.operand(t) for _ in range(d(st.integers(0, 3)))], ArrayT(t)
        elif op.startswith("array_"):
            arr = self.reg(ArrayT(t))
            table2: dict[str, tuple[list[Operand], Type | None]] = {
                "array_get": ([arr, self.operand(I64)], t),
                "array_set": ([arr, self.operand(I64), self.operand(t)], None),
                "array_len": ([arr], I64),
                "array_push": ([arr, self.operand(t)], None),
                "array_pop": ([arr], t),
            }
            args, rty = table2[op]
        elif op in ("struct_new", "field_get", "field_set"):
            live = [s for s in m.structs.values() if s.fields or op == "struct_new"]
            if not live:
                return None
            s = d(st.sampled_from(live))
            if op == "struct_new":
                extra = s.name
                args, rty = [self.operand(ft) for _, ft in s.fields], StructT(s.name)
            else:
                extra = d(st.integers(0, len(s.fields) - 1))
                fty = s.fields[int(extra)][1]
                sreg = self.reg(StructT(s.name))
                if op == "field_get":
                    args, rty = [sreg], fty
                else:
                    args, rty = [sreg, self.operand(fty)], StructT(s.name)
        elif op in ("tuple_new", "tuple_get"):
            elems = tuple(self.type(1) for _ in range(d(st.integers(1, 3))))
            if op == "tuple_new":
                args, rty = [self.operand(e) for e in elems], TupleT(elems)
            else:
                extra = d(st.integers(0, len(elems) - 1))
                args, rty = [self.reg(TupleT(elems))], elems[int(extra)]
        elif op in ("enum_new", "enum_tag", "enum_field"):
            if not m.enums:
                return None
            e = m.enums[d(st.sampled_from(sorted(m.enums)))]
            vi = d(st.integers(0, len(e.variants) - 1))
            vname, payload = e.variants[vi]
            if op == "enum_new":
                extra = f"{e.name}.{vname}"
                args, rty = [self.operand(p) for p in payload], EnumT(e.name)
            elif op == "enum_tag":
                args, rty = [self.reg(EnumT(e.name))], I64
            else:
                if not payload:
                    return None
                fi = d(st.integers(0, len(payload) - 1))
                extra = f"{vi}.{fi}"
                args, rty = [self.reg(EnumT(e.name))], payload[fi]
        elif op == "opt_none":
            extra, args, rty = OptionT(t), [], OptionT(t)
        elif op in ("opt_is_some", "opt_get"):
            args, rty = [self.reg(OptionT(t))], (BOOL if op == "opt_is_some" else t)
        else:  # pragma: no cover - a new op needs a case here
            raise AssertionError(f"no generator for {op}")
        dst = self.reg(rty) if rty is not None else None
        if op in ("call", "callext", "array_pop") and d(st.booleans()):
            dst = None
        loc = d(_LOCS) if info.can_fail else d(st.none() | _LOCS)
        return Instr(op, dst, args, extra, loc)  # type: ignore[arg-type]


@st.composite
def random_modules(draw: st.DrawFn) -> Module:
    m = Module(draw(_TEXTS))
    g = _Gen(draw, m)
    for i in range(draw(st.integers(0, 2))):
        m.structs[f"S{i}"] = StructDef(f"S{i}", ())
    for i in range(draw(st.integers(0, 2))):
        m.enums[f"E{i}"] = EnumDef(f"E{i}", ())
    for name in list(m.structs):
        fields = tuple((f"f{k}", g.type(1)) for k in range(draw(st.integers(0, 3))))
        m.structs[name] = StructDef(name, fields)
    for name in list(m.enums):
        variants = tuple(
            (f"V{k}", tuple(g.type(1) for _ in range(draw(st.integers(0, 2)))))
            for k in range(draw(st.integers(1, 3)))
        )
        m.enums[name] = EnumDef(name, variants)
    for _ in range(draw(st.integers(0, 2))):
        gname = draw(_NAME)
        m.globals[gname] = Global(gname, g.type())
    for _ in range(draw(st.integers(0, 2))):
        xname = draw(_NAME)
        m.externs[xname] = Extern(
            xname, [g.type() for _ in range(draw(st.integers(0, 2)))], g.type()
        )
    for _ in range(draw(st.integers(1, 3))):
        fname = draw(st.just("$init") | _NAME)
        params = [Reg(k, g.type(), draw(st.none() | _NAME)) for k in range(draw(st.integers(0, 3)))]
        f = Function(fname, params, g.type(), draw(st.none() | _LOCS))
        m.add(f)
    for f in m.functions.values():
        g.f = f
        nblocks = draw(st.integers(1, 4))
        for _ in range(nblocks):
            f.new_block()
        for b in f.blocks:
            for _ in range(draw(st.integers(0, 5))):
                ins = g.instr(draw(st.sampled_from(sorted(OPS))))
                if ins is not None:
                    b.instrs.append(ins)
            b.term = _term(draw, g, f, nblocks)
    return m


def _term(draw: st.DrawFn, g: _Gen, f: Function, nblocks: int) -> Term:
    kind = draw(st.sampled_from(["jump", "br", "ret", "unreachable"]))
    loc = draw(st.none() | _LOCS)
    target = st.integers(0, nblocks - 1)
    if kind == "jump":
        return Term("jump", [], [draw(target)], loc)
    if kind == "br":
        return Term("br", [g.operand(BOOL)], [draw(target), draw(target)], loc)
    if kind == "ret":
        if f.ret == UNIT and draw(st.booleans()):
            return Term("ret", [], [], loc)
        return Term("ret", [g.operand(f.ret)], [], loc)
    return Term("unreachable", [], [], loc)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_modules())
def test_random_modules_roundtrip_and_verify(m: Module) -> None:
    assert verify_module(m) == []
    roundtrip(m)


def test_all_ops_have_syntax() -> None:
    """Every op prints and parses (guards against ops added to OPS later)."""
    m = parse_module((DATA / "all_ops.mir").read_text(encoding="utf-8"))
    used = {i.op for f in m.functions.values() for b in f.blocks for i in b.instrs}
    assert used == set(OPS)
    assert verify_module(m) == []


def test_golden_all_ops_printer() -> None:
    """The printer's output for a module built in code (not parsed) is stable."""
    m = Module("ops.spl")
    f = m.add(Function("f", [Reg(0, I64, "n")], I64, Loc(1, 1)))
    x = f.new_reg(I64)
    b = f.new_block()
    b.instrs.append(Instr("idiv", x, [f.params[0], Const(3, I64)], None, Loc(2, 7)))
    b.term = Term("ret", [x], [], Loc(3, 5))
    check_golden(DATA / "printer_simple.txt", print_module(m))
