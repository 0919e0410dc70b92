"""Lowering: HIR specializations -> a MIR module.

A direct walk: each HIR variable gets one register, each temporary a fresh
register assigned once, control flow becomes blocks.  Instructions that can
fail at run time get the ``Loc`` of the operator or call that HIR recorded,
which is where a runtime error is reported.

After ``return``, ``break`` or ``continue`` lowering keeps going in a fresh
block that nothing jumps to; CFG simplification removes such blocks, and at
``-O0`` they are simply never executed.
"""

from __future__ import annotations

from simple_jit.diagnostics import Loc, SourceFile, Span
from simple_jit.hir import nodes as h
from simple_jit.mir.ir import OPS, Const, Extra, Function, Global, Instr, Module, Operand, Reg, Term
from simple_jit.mir.ir import Extern as MirExtern
from simple_jit.types import BOOL, NEVER, UNIT, Type


def lower_program(prog: h.HProgram, source: SourceFile) -> Module:
    module = Module(source.name)
    for name, ty in prog.globals.items():
        module.globals[name] = Global(name, ty)
    for name, (params, ret) in prog.externs.items():
        module.externs[name] = MirExtern(name, list(params), ret)
    for name, (params, ret) in prog.imports.items():
        module.imports[name] = MirExtern(name, list(params), ret)
    module.structs.update(prog.structs)
    module.enums.update(prog.enums)
    locs = LocCache(source)
    for hf in prog.functions.values():
        module.add(FnLowering(hf, locs).lower())
    return module


class LocCache:
    """Span -> Loc, computed once per offset (many instructions share one)."""

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.cache: dict[int, Loc] = {}

    def __call__(self, span: Span) -> Loc:
        loc = self.cache.get(span.start)
        if loc is None:
            line, col = self.source.line_col(span.start)
            loc = self.cache[span.start] = Loc(line, col)
        return loc


def _trivial(e: h.HExpr, depth: int = 0) -> bool:
    """Whether evaluating ``e`` cannot assign a local variable."""
    if isinstance(e, h.HConst | h.HLocal | h.HGlobal):
        return True
    if depth > 4:
        return False
    if isinstance(e, h.HOp | h.HCall):
        return all(_trivial(a, depth + 1) for a in e.args)
    if isinstance(e, h.HLogic):
        return _trivial(e.left, depth + 1) and _trivial(e.right, depth + 1)
    return False


class FnLowering:
    def __init__(self, hf: h.HFunction, locs: LocCache) -> None:
        self.hf = hf
        self.locs = locs
        params = [Reg(i, v.ty, v.name) for i, v in enumerate(hf.params)]
        self.fn = Function(hf.name, params, hf.ret, locs(hf.span))
        self.vars: dict[int, Reg] = {v.id: r for v, r in zip(hf.params, params, strict=True)}
        self.var_regs: set[int] = {r.id for r in params}
        self.cur = self.fn.new_block()
        self.loops: list[tuple[int, int]] = []  # (continue target, break target)

    # ---------------------------------------------------------------- helpers

    def emit(
        self,
        op: str,
        ty: Type | None,
        args: list[Operand],
        extra: Extra = None,
        span: Span | None = None,
    ) -> Reg | None:
        dst = self.fn.new_reg(ty) if ty is not None and ty not in (UNIT, NEVER) else None
        loc = self.locs(span) if span is not None and OPS[op].can_fail else None
        self.cur.instrs.append(Instr(op, dst, args, extra, loc))
        return dst

    def terminate(self, term: Term) -> None:
        self.cur.term = term
        self.cur = self.fn.new_block()  # unreachable until something jumps here

    def jump(self, target: int, loc: Loc | None = None) -> None:
        self.cur.term = Term("jump", [], [target], loc)

    def var_reg(self, var: h.LocalVar) -> Reg:
        reg = self.vars.get(var.id)
        if reg is None:
            reg = self.fn.new_reg(var.ty, None if var.name.startswith("$") else var.name)
            self.vars[var.id] = reg
            self.var_regs.add(reg.id)
        return reg

    # ------------------------------------------------------------------- entry

    def lower(self) -> Function:
        hf = self.hf
        value = self.block(hf.body)
        if hf.ret in (UNIT, NEVER):
            self.cur.term = Term("ret", [], [])
        elif hf.body.value is not None and value is not None:
            self.cur.term = Term("ret", [value], [])
        else:
            self.cur.term = Term("unreachable", [], [])
        return self.fn

    # -------------------------------------------------------------- statements

    def block(self, b: h.HBlock) -> Operand | None:
        for s in b.stmts:
            self.stmt(s)
        if b.value is None:
            return None
        return self.expr(b.value)

    def stmt(self, s: h.HStmt) -> None:
        if isinstance(s, h.HLet):
            self.assign(self.var_reg(s.var), s.value)
        elif isinstance(s, h.HExprStmt):
            self.expr(s.expr)
        elif isinstance(s, h.HPrint):
            self.emit("print", None, [self.expr(s.value)])
        elif isinstance(s, h.HSetGlobal):
            self.emit("gstore", None, [self.expr(s.value)], s.name)
        elif isinstance(s, h.HWhile):
            self.while_(s)
        elif isinstance(s, h.HBreak):
            self.terminate(Term("jump", [], [self.loops[-1][1]]))
        elif isinstance(s, h.HContinue):
            self.terminate(Term("jump", [], [self.loops[-1][0]]))
        elif isinstance(s, h.HReturn):
            args = [] if s.value is None else [self.expr(s.value)]
            if s.value is not None and s.value.ty in (UNIT, NEVER):
                args = []
            self.terminate(Term("ret", args, []))
        else:  # pragma: no cover - the checker builds only the kinds above
            raise AssertionError(f"unknown HIR statement {type(s).__name__}")

    def assign(self, reg: Reg, value: h.HExpr) -> None:
        v = self.expr(value)
        if reg.ty in (UNIT, NEVER):
            return
        instrs = self.cur.instrs
        # Retarget the instruction that produced a fresh temporary instead of
        # emitting a copy (keeps -O0 code small without a pass).
        if (
            isinstance(v, Reg)
            and instrs
            and instrs[-1].dst is v
            and v.id not in self.var_regs
            and v.ty == reg.ty
        ):
            instrs[-1].dst = reg
            return
        instrs.append(Instr("copy", reg, [v]))

    def while_(self, s: h.HWhile) -> None:
        fn = self.fn
        head = fn.new_block()
        self.jump(head.id)
        self.cur = head
        body = fn.new_block()
        exit_ = fn.new_block()
        # The loop's edges carry its position: a fuel or time-limit stop at
        # the loop header (interpreter, Cranelift) is reported there.
        loc = self.locs(s.span)
        if s.cond is not None:
            c = self.expr(s.cond)
            self.cur.term = Term("br", [c], [body.id, exit_.id], loc)
        else:
            self.jump(body.id, loc)
        step = fn.new_block() if s.step else head
        self.loops.append((step.id, exit_.id))
        self.cur = body
        self.block(s.body)
        self.jump(step.id, loc)
        if s.step:
            self.cur = step
            for st in s.step:
                self.stmt(st)
            self.jump(head.id, loc)
        self.loops.pop()
        self.cur = exit_

    # ------------------------------------------------------------- expressions

    def expr(self, e: h.HExpr) -> Operand:
        if isinstance(e, h.HConst):
            return Const(e.value, e.ty)
        if isinstance(e, h.HLocal):
            return self.var_reg(e.var)
        if isinstance(e, h.HOp):
            args = self.operands(e.args)
            dst = self.emit(e.op, e.ty, args, e.extra, e.span)
            return dst if dst is not None else Const(None, UNIT)
        if isinstance(e, h.HGlobal):
            dst = self.emit("gload", e.ty, [], e.name)
            return dst if dst is not None else Const(None, UNIT)
        if isinstance(e, h.HCall):
            args = self.operands(e.args)
            op = "callext" if e.extern else "call"
            dst = self.emit(op, e.ty, args, e.func, e.span)
            return dst if dst is not None else Const(None, UNIT)
        if isinstance(e, h.HLogic):
            return self.logic(e)
        if isinstance(e, h.HIf):
            return self.if_(e)
        if isinstance(e, h.HBlock):
            v = self.block(e)
            return v if v is not None else Const(None, UNIT)
        raise AssertionError(f"unknown HIR expression {type(e).__name__}")  # pragma: no cover

    def operands(self, args: list[h.HExpr]) -> list[Operand]:
        out: list[Operand] = []
        n = len(args)
        for i, a in enumerate(args):
            v = self.expr(a)
            # A variable read must not see an assignment made by a later operand.
            if (
                isinstance(v, Reg)
                and v.id in self.var_regs
                and i + 1 < n
                and not all(_trivial(b) for b in args[i + 1 :])
            ):
                tmp = self.fn.new_reg(v.ty)
                self.cur.instrs.append(Instr("copy", tmp, [v]))
                v = tmp
            out.append(v)
        return out

    def logic(self, e: h.HLogic) -> Operand:
        fn = self.fn
        result = fn.new_reg(BOOL)
        left = self.expr(e.left)
        self.cur.instrs.append(Instr("copy", result, [left]))
        rhs = fn.new_block()
        done = fn.new_block()
        targets = [rhs.id, done.id] if e.is_and else [done.id, rhs.id]
        self.cur.term = Term("br", [result], targets)
        self.cur = rhs
        right = self.expr(e.right)
        self.cur.instrs.append(Instr("copy", result, [right]))
        self.jump(done.id)
        self.cur = done
        return result

    def if_(self, e: h.HIf) -> Operand:
        fn = self.fn
        cond = self.expr(e.cond)
        has_value = e.ty not in (UNIT, NEVER)
        result = fn.new_reg(e.ty) if has_value else None
        then = fn.new_block()
        else_blk = fn.new_block() if e.else_ is not None else None
        done = fn.new_block()
        else_ = else_blk if else_blk is not None else done
        self.cur.term = Term("br", [cond], [then.id, else_.id])
        for blk, body in ((then, e.then), (else_, e.else_)):
            if body is None:
                continue
            self.cur = blk
            v = self.block(body)
            if result is not None and v is not None and body.value is not None:
                if body.value.ty not in (NEVER,):
                    self.cur.instrs.append(Instr("copy", result, [v]))
            self.jump(done.id)
        self.cur = done
        return result if result is not None else Const(None, UNIT)
