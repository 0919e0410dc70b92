"""MIR passes: golden before/after files, verifier after every pass, soundness.

Soundness is checked by running random i64 programs (multiply-assigned
variables, single-assignment temporaries, loops, calls, failing ops) before
and after each pipeline with a small reference evaluator built on
``simple_jit.semantics`` (the interpreter's own op semantics), comparing the
result or the runtime error (message and location), the printed output and
the globals.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from golden import check_golden
from simple_jit import semantics
from simple_jit.diagnostics import InternalCompilerError, Loc
from simple_jit.mir.ir import Const, Function, Global, Instr, Module, Operand, Reg, Term
from simple_jit.mir.parser import parse_module
from simple_jit.mir.passes import PassManager, pipeline_for
from simple_jit.mir.passes.constfold import ConstFold
from simple_jit.mir.passes.copyprop import CopyProp
from simple_jit.mir.passes.dce import DeadCodeElim
from simple_jit.mir.passes.inline import Inline, recursive_functions
from simple_jit.mir.passes.manager import Pass, RemoveUnreachable
from simple_jit.mir.passes.simplifycfg import SimplifyCfg
from simple_jit.mir.printer import print_module
from simple_jit.mir.verify import verify_module
from simple_jit.types import BOOL, I64
from test_mir_text import random_modules

DATA = Path(__file__).parent / "data" / "mir"


def load(name: str) -> Module:
    return parse_module((DATA / name).read_text(encoding="utf-8"))


# ------------------------------------------------------- reference evaluator


class Trap(Exception):
    def __init__(self, message: str, loc: Loc | None) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc


class OutOfFuel(Exception):
    pass


def evaluate(m: Module, fname: str, args: list[object], fuel: int) -> tuple[object, ...]:
    """("ok", value, output, globals) or ("error", message, loc, output, globals)."""
    out: list[str] = []
    globs: dict[str, object] = {g: 0 for g in m.globals}
    budget = [fuel]

    def val(a: Operand, env: list[object]) -> object:
        return env[a.id] if isinstance(a, Reg) else a.value

    def call(f: Function, argv: list[object], depth: int) -> object:
        env: list[object] = [None] * len(f.regs)
        env[: len(argv)] = argv
        b = f.blocks[0]
        while True:
            for ins in b.instrs:
                budget[0] -= 1
                if budget[0] < 0:
                    raise OutOfFuel
                vs = [val(a, env) for a in ins.args]
                if ins.op == "print":
                    out.append(semantics.display_scalar(vs[0]))
                    continue
                if ins.op == "gstore":
                    globs[str(ins.extra)] = vs[0]
                    continue
                if ins.op == "gload":
                    r: object = globs[str(ins.extra)]
                elif ins.op == "call":
                    if depth > 50:
                        raise Trap("stack overflow", ins.loc)
                    r = call(m.functions[str(ins.extra)], vs, depth + 1)
                else:
                    extra = ins.args[0].ty if ins.op == "totext" else ins.extra
                    try:
                        r = semantics.eval_pure(ins.op, vs, extra)
                    except semantics.OpError as e:
                        raise Trap(e.message, ins.loc) from None
                if ins.dst is not None:
                    env[ins.dst.id] = r
            t = b.term
            budget[0] -= 1
            if budget[0] < 0:
                raise OutOfFuel
            if t.op == "ret":
                return val(t.args[0], env) if t.args else None
            if t.op == "jump":
                b = f.blocks[t.targets[0]]
            elif t.op == "br":
                b = f.blocks[t.targets[0] if val(t.args[0], env) else t.targets[1]]
            else:
                raise Trap("unreachable", t.loc)

    try:
        value = call(m.functions[fname], args, 0)
    except Trap as e:
        return ("error", e.message, e.loc, out, globs)
    return ("ok", value, out, globs)


# ------------------------------------------------------------ golden tests

SINGLE = {
    "constfold": ConstFold,
    "copyprop": CopyProp,
    "dce": DeadCodeElim,
    "simplifycfg": SimplifyCfg,
    "inline": Inline,
}


@pytest.mark.parametrize("name", sorted(SINGLE))
def test_single_pass_golden(name: str) -> None:
    m = load(f"pass_{name}.mir")
    pm = PassManager([SINGLE[name]()], verify=True)
    assert pm.run(m)
    check_golden(DATA / f"pass_{name}.{name}.out", print_module(m))


@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize("name", sorted(SINGLE))
def test_pipeline_golden(name: str, level: int) -> None:
    m = load(f"pass_{name}.mir")
    PassManager.for_level(level, verify=True).run(m)
    check_golden(DATA / f"pass_{name}.O{level}.out", print_module(m))


def test_constfold_keeps_failing_ops_and_float_identities() -> None:
    m = load("pass_constfold.mir")
    PassManager([ConstFold()], verify=True).run(m)
    text = print_module(m)
    assert "idiv 20, 0 !3:9" in text  # division by zero stays for run time
    assert "ipow 2, -1 !4:20" in text
    assert "fadd %1, 0.0" in text  # x + 0.0 is not x for x == -0.0
    assert "copy -9223372036854775808" in text  # MIN / -1 wraps
    assert '"abcd"' in text and "0.30000000000000004" in text


def test_dce_keeps_failing_and_effectful_ops() -> None:
    m = load("pass_dce.mir")
    PassManager([DeadCodeElim()], verify=True).run(m)
    ops = [i.op for b in m.functions["dead"].blocks for i in b.instrs]
    assert ops == ["iadd", "imul", "idiv", "call", "isub"]


def test_inline_skips_recursion_and_keeps_callee_locs() -> None:
    m = load("pass_inline.mir")
    assert recursive_functions(m) == {"fact"}
    PassManager([Inline()], verify=True).run(m)
    main = m.functions["main"]
    calls = [i.extra for b in main.blocks for i in b.instrs if i.op == "call"]
    assert calls == ["fact"]
    locs = [i.loc for b in main.blocks for i in b.instrs if i.op == "idiv"]
    assert locs == [Loc(2, 12), Loc(2, 12)]
    before = evaluate(load("pass_inline.mir"), "main", [], 10_000)
    assert evaluate(m, "main", [], 10_000) == before


def test_inline_threshold() -> None:
    m = load("pass_inline.mir")
    assert not PassManager([Inline(threshold=1)], verify=True).run(m)
    assert PassManager([Inline(threshold=2)], verify=True).run(m)  # only @log (2 instrs)
    calls = [i.extra for b in m.functions["main"].blocks for i in b.instrs if i.op == "call"]
    assert calls == ["add1", "add1", "fact"]


def test_timings_and_dumps() -> None:
    dumps: list[str] = []
    pm = PassManager.for_level(
        2, verify=True, dump_before="inline", dump_after="dce", dump=dumps.append
    )
    pm.run(load("pass_inline.mir"))
    assert {"constfold", "copyprop", "dce", "simplifycfg", "inline"} <= set(pm.timings)
    assert all(t >= 0.0 for t in pm.timings.values())
    heads = [d.splitlines()[0] for d in dumps]
    assert heads.count("; ---- MIR before inline ----") == 1
    assert "; ---- MIR after dce ----" in heads
    assert parse_module(dumps[0]).functions  # dumps are valid MIR text


def test_verifier_failure_names_the_pass() -> None:
    class Breaker:
        name = "breaker"

        def run(self, module: Module) -> bool:
            f = next(iter(module.functions.values()))
            f.blocks[0].term = Term("jump", [], [99])
            return True

    breaker: Pass = Breaker()
    with pytest.raises(InternalCompilerError, match="after pass breaker"):
        PassManager([breaker], verify=True).run(load("pass_dce.mir"))


def test_pipelines_shapes() -> None:
    assert [p.name for p in pipeline_for(0)] == ["unreachable"]
    assert isinstance(pipeline_for(0)[0], RemoveUnreachable)
    names1 = [p.name for p in pipeline_for(1)]
    assert names1 == ["repeat(constfold, copyprop, dce, simplifycfg, unbox)"]
    for level in (2, 3):
        names = [p.name for p in pipeline_for(level)]
        assert "inline" in names
        # structs are unboxed after inlining, with cleanup rounds after it
        assert names[-1] == "repeat(constfold, copyprop, dce, simplifycfg, unbox)"


# -------------------------------------------------- passes on random modules


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_modules(), st.sampled_from([0, 1, 2, 3]))
def test_pipelines_keep_random_modules_valid(m: Module, level: int) -> None:
    PassManager.for_level(level, verify=True).run(m)  # verifies after every pass
    assert verify_module(m) == []
    assert print_module(parse_module(print_module(m))) == print_module(m)


# ---------------------------------------------------- soundness (i64 code)

_SMALL = st.sampled_from([0, 1, -1, 2, 3, 7, 63, 64, -(2**63), 2**63 - 1])
_BIN = ["iadd", "isub", "imul", "idiv", "irem", "ipow", "iand", "ior", "ixor", "ishl", "ishr"]
_BIN += ["imin", "imax"]
_UN = ["ineg", "inot", "iabs"]
_CMP = ["ieq", "ine", "ilt", "ile", "igt", "ige"]


@st.composite
def i64_programs(draw: st.DrawFn) -> Module:
    m = Module("gen.spl")
    m.globals["g"] = Global("g", I64)
    nfns = draw(st.integers(1, 3))
    fns = []
    for k in range(nfns):
        nparams = draw(st.integers(0, 2))
        f = Function("main" if k == 0 else f"f{k}", [Reg(i, I64) for i in range(nparams)], I64)
        f.regs = list(f.params)
        m.add(f)
        fns.append(f)
    for k, f in enumerate(fns):
        nvars = draw(st.integers(1, 3))
        variables = [f.new_reg(I64, f"v{i}") for i in range(nvars)]
        nblocks = draw(st.integers(1, 5))
        for _ in range(nblocks):
            f.new_block()
        line = [k * 100]

        def loc(line: list[int] = line) -> Loc:
            line[0] += 1
            return Loc(line[0], 1)

        entry = f.blocks[0]
        for v in variables:
            src: Operand = (
                draw(st.sampled_from(f.params))
                if len(f.params) > 0 and draw(st.booleans())
                else Const(draw(_SMALL), I64)
            )
            entry.instrs.append(Instr("copy", v, [src]))
        for b in f.blocks:
            temps: list[Reg] = []
            bools: list[Reg] = []

            def operand(
                variables: list[Reg] = variables, temps: list[Reg] = temps, f: Function = f
            ) -> Operand:
                pool = variables + temps + f.params
                if draw(st.integers(0, 2)) == 0:
                    return Const(draw(_SMALL), I64)
                return draw(st.sampled_from(pool))

            for _ in range(draw(st.integers(0, 6))):
                kind = draw(st.integers(0, 9))
                if kind == 0 and k + 1 < nfns:
                    callee = fns[draw(st.integers(k + 1, nfns - 1))]
                    dst = f.new_reg(I64)
                    b.instrs.append(
                        Instr("call", dst, [operand() for _ in callee.params], callee.name, loc())
                    )
                    temps.append(dst)
                    continue
                if kind == 1:
                    b.instrs.append(Instr("print", None, [operand()]))
                    continue
                if kind == 2:
                    b.instrs.append(Instr("gstore", None, [operand()], "g"))
                    continue
                if kind == 3:
                    c = f.new_reg(BOOL)
                    b.instrs.append(Instr(draw(st.sampled_from(_CMP)), c, [operand(), operand()]))
                    bools.append(c)
                    continue
                if kind == 4 and bools:
                    op, args = "select", [draw(st.sampled_from(bools)), operand(), operand()]
                elif kind == 5:
                    op, args = draw(st.sampled_from(_UN)), [operand()]
                elif kind == 6:
                    op, args = "gload", []
                else:
                    op, args = draw(st.sampled_from(_BIN)), [operand(), operand()]
                if draw(st.booleans()):
                    pool_dst = variables + (f.params if draw(st.integers(0, 5)) == 0 else [])
                    dst = draw(st.sampled_from(pool_dst))
                else:
                    dst = f.new_reg(I64)
                    temps.append(dst)
                extra = "g" if op == "gload" else None
                b.instrs.append(
                    Instr(op, dst, args, extra, loc() if op in ("idiv", "irem", "ipow") else None)
                )
            target = st.integers(0, nblocks - 1)
            tk = draw(st.integers(0, 3))
            if tk == 0:
                b.term = Term("jump", [], [draw(target)])
            elif tk == 1:
                cond: Operand = (
                    draw(st.sampled_from(bools)) if bools else Const(draw(st.booleans()), BOOL)
                )
                b.term = Term("br", [cond], [draw(target), draw(target)])
            else:
                b.term = Term("ret", [operand()], [])
    return m


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(i64_programs(), st.lists(_SMALL, min_size=2, max_size=2), st.sampled_from([1, 2, 3]))
def test_pipelines_preserve_results(m: Module, args: list[int], level: int) -> None:
    assert verify_module(m) == []
    main = m.functions["main"]
    argv: list[object] = list(args[: len(main.params)])
    try:
        before = evaluate(m, "main", argv, 3000)
    except OutOfFuel:
        assume(False)
        return
    PassManager.for_level(level, verify=True).run(m)
    after = evaluate(m, "main", argv, 100_000)
    assert after == before, print_module(m)


# ------------------------------------------- soundness against the interpreter


def _interpret(m: Module, argv: list[object], fuel: int) -> tuple[object, ...]:
    import io

    from simple_jit.diagnostics import SimpleRuntimeError

    interp_mod = pytest.importorskip("simple_jit.interp")
    out = io.StringIO()
    it = interp_mod.Interpreter(m, out=out, fuel=fuel)
    try:
        result: tuple[object, ...] = ("ok", it.call("main", argv))
    except SimpleRuntimeError as e:
        result = ("error", e.message, e.loc)
    return (*result, out.getvalue(), it.get_global("g"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(i64_programs(), st.lists(_SMALL, min_size=2, max_size=2), st.sampled_from([1, 2, 3]))
def test_pipelines_preserve_interpreter_results(m: Module, args: list[int], level: int) -> None:
    main = m.functions["main"]
    argv: list[object] = list(args[: len(main.params)])
    before = _interpret(m, argv, 2000)
    assume(before[:2] != ("error", "out of fuel"))
    PassManager.for_level(level, verify=True).run(m)
    after = _interpret(m, argv, 1_000_000)
    assert after == before, print_module(m)
