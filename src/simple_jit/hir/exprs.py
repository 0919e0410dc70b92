"""Type checking of statements and expressions (the per-specialization part).

``ExprChecker`` is a mixin of ``Checker`` (``check.py``), which provides the
context (``ctx``), diagnostics, type resolution and specialization.  Each
``ast`` node kind has one method; dispatch is a dict lookup on the node's
class, so checking stays linear in the size of the tree.

Numeric promotion: where an operator meets ``i64`` and ``f64``, the ``i64``
operand is converted (spec section 4).  The same promotion applies where a
value flows into a place of declared type ``f64`` (arguments, returns,
annotated bindings, assignments).  Nothing else converts implicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from simple_jit.diagnostics import Span
from simple_jit.hir import nodes as h
from simple_jit.hir.resolve import Binding, ModuleScope
from simple_jit.syntax import ast
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    NEVER,
    NIL,
    TEXT,
    UNIT,
    ArrayT,
    OptionT,
    Prim,
    Type,
)

if TYPE_CHECKING:
    from simple_jit.hir.check import FnCtx

UNKNOWN = Prim("<unknown>")  # result of a call whose return type is still being inferred

_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "rem", "**": "pow"}
_BITS = {"&": "iand", "|": "ior", "^": "ixor", "<<": "ishl", ">>": "ishr"}
_CMP = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_CMP_PREFIX = {I64: "i", F64: "f", BOOL: "b", TEXT: "t"}

_TEXT_METHODS: dict[str, tuple[str, tuple[Type, ...], Type]] = {
    "len": ("tlen", (), I64),
    "contains": ("tcontains", (TEXT,), BOOL),
    "starts_with": ("tstarts", (TEXT,), BOOL),
    "ends_with": ("tends", (TEXT,), BOOL),
    "trim": ("ttrim", (), TEXT),
    "upper": ("tupper", (), TEXT),
    "lower": ("tlower", (), TEXT),
    "repeat": ("trepeat", (I64,), TEXT),
}


def coerce_to(ch: ExprChecker, e: h.HExpr, ty: Type, span: Span, what: str = "") -> h.HExpr:
    """``e`` converted to ``ty`` where the language allows it, else an error.

    Besides ``i64`` -> ``f64``: ``nil`` and ``[]`` take their type from the
    place they flow into, and a ``T`` flowing into a ``T?`` becomes ``Some``.
    """
    if e.ty == ty or e.ty in (NEVER, UNKNOWN) or ty == UNKNOWN:
        return e
    if e.ty == I64 and ty == F64:
        return h.HOp("i2f", [e], F64, e.span)
    if e.ty == NIL and isinstance(ty, OptionT):
        return h.HOp("opt_none", [], ty, e.span, ty)
    if (
        isinstance(e, h.HOp)
        and e.op == "array_new"
        and e.ty == ArrayT(NIL)
        and isinstance(ty, ArrayT)
    ):
        e.ty, e.extra = ty, ty.elem
        # ``[nil]``, ``[[]]``: the elements take the element type in turn
        e.args = [coerce_to(ch, a, ty.elem, a.span, what) for a in e.args]
        return e
    if (
        isinstance(e, h.HOp)
        and e.op == "opt_some"
        and e.ty == OptionT(ArrayT(NIL))
        and isinstance(ty, OptionT)
        and isinstance(ty.inner, ArrayT)
    ):  # Some([]), Some([nil])
        e.args = [coerce_to(ch, e.args[0], ty.inner, span, what)]
        e.ty = ty
        return e
    if isinstance(ty, OptionT) and e.ty != NIL and not isinstance(e.ty, OptionT):
        inner = coerce_to(ch, e, ty.inner, span, what)
        if inner.ty == ty.inner:
            return h.HOp("opt_some", [inner], ty, e.span)
        return e
    ch.error(f"mismatched types: expected {ty}, found {e.ty}{what}", span)
    return e


class ExprChecker:
    # Provided by Checker:
    ctx: FnCtx
    scope: ModuleScope
    global_types: dict[str, Type]

    def error(self, message: str, span: Span, *notes: str) -> None:
        raise NotImplementedError

    def resolve_type(self, t: ast.TypeExpr) -> Type | None:
        raise NotImplementedError

    def specialize(
        self, decl: ast.FnDecl, arg_types: Sequence[Type], call_span: Span | None
    ) -> tuple[str, Type] | None:
        raise NotImplementedError

    def coerce(self, e: h.HExpr, ty: Type, span: Span) -> h.HExpr:
        return coerce_to(self, e, ty, span)

    # Provided by AggregateChecker (tier 2):
    def e_array(self, e: ast.ArrayLit) -> h.HExpr:
        raise NotImplementedError

    def match(self, e: ast.MatchExpr, want: str) -> h.HExpr:
        raise NotImplementedError

    def if_let(self, s: ast.IfLet, want: str) -> h.HExpr:
        raise NotImplementedError

    def destructure(
        self, pat: ast.Pattern, value: h.HExpr, mutable: bool, out: list[h.HStmt], glob: bool
    ) -> None:
        raise NotImplementedError

    def assign_place(
        self, target: ast.Expr, value_of: object, s: ast.Assign, out: list[h.HStmt]
    ) -> None:
        raise NotImplementedError

    def for_array(self, s: ast.For, seq: h.HExpr, out: list[h.HStmt]) -> None:
        raise NotImplementedError

    def enum_constructor(
        self, callee: ast.Field, call: ast.Call | None, args: list[h.HExpr]
    ) -> h.HExpr | None:
        raise NotImplementedError

    def construct_struct(self, name: str, e: ast.Call, args: list[h.HExpr]) -> h.HExpr:
        raise NotImplementedError

    def some(self, args: list[h.HExpr], e: ast.Call) -> h.HExpr:
        raise NotImplementedError

    def array_method(self, recv: h.HExpr, e: ast.MethodCall, args: list[h.HExpr]) -> h.HExpr:
        raise NotImplementedError

    # ============================================================ statements

    def block(self, b: ast.Block, want: str = "no") -> h.HBlock:
        """Check a block; ``want`` is "no", "optional" or "required" for its value."""
        stmts: list[h.HStmt] = []
        ctx = self.ctx
        ctx.depth += 1
        items = b.stmts
        last = len(items) - 1
        value: h.HExpr | None = None
        for i, s in enumerate(items):
            if i == last and want != "no":
                value = self.tail(s, want, stmts)
            else:
                self.stmt(s, stmts)
        ctx.depth -= 1
        ty = value.ty if value is not None else UNIT
        if value is None and want == "required" and _h_diverges(stmts):
            ty = NEVER
        return h.HBlock(stmts, value, ty, b.span)

    def tail(self, s: ast.Stmt, want: str, out: list[h.HStmt]) -> h.HExpr | None:
        """The last statement of a block that may produce the block's value."""
        if isinstance(s, ast.ExprStmt):
            e = s.expr
            if isinstance(e, ast.Call) and _is_print(e):
                self.stmt(s, out)
                return None
            if isinstance(e, ast.MatchExpr):
                m = self.match(e, want)
                if m.ty == UNIT:
                    out.append(h.HExprStmt(m, s.span))
                    return None
                return m
            return self.expr(e)
        if isinstance(s, ast.IfLet):
            node = self.if_let(s, want)
            if node.ty == UNIT:
                out.append(h.HExprStmt(node, s.span))
                return None
            return node
        if isinstance(s, ast.If):
            node = self.if_(s.branches, s.else_body, want, s.span)
            if node.ty == UNIT:
                out.append(h.HExprStmt(node, s.span))
                return None
            return node
        self.stmt(s, out)
        if want == "required" and not _h_diverges(out):
            self.error("expected a value at the end of this block", s.span)
        return None

    def stmt(self, s: ast.Stmt, out: list[h.HStmt]) -> None:
        method = _STMT_DISPATCH.get(type(s))
        if method is None:
            self.error("this statement is not yet supported", s.span)
            return
        method(self, s, out)

    def s_expr(self, s: ast.ExprStmt, out: list[h.HStmt]) -> None:
        e = s.expr
        if isinstance(e, ast.IfExpr):
            out.append(h.HExprStmt(self.if_(e.branches, e.else_body, "no", e.span), s.span))
            return
        if isinstance(e, ast.Call) and _is_print(e):
            self.print_call(e, out)
            return
        if isinstance(e, ast.MatchExpr):
            out.append(h.HExprStmt(self.match(e, "no"), s.span))
            return
        out.append(h.HExprStmt(self.expr(e), s.span))

    def s_let(self, s: ast.Let, out: list[h.HStmt]) -> None:
        value = self.expr(s.value)
        ty = value.ty
        if s.annotation is not None:
            declared = self.resolve_type(s.annotation)
            if declared is not None:
                value = coerce_to(self, value, declared, s.value.span)
                ty = declared
        elif ty == NIL or ty == ArrayT(NIL):
            what = (
                "nil"
                if ty == NIL
                else "this array"
                if isinstance(value, h.HOp) and value.args
                else "[]"
            )
            self.error(
                f"cannot infer the type of {what}; annotate the variable, e.g. 'val xs: [i64] = []'",
                s.value.span,
            )
            ty = UNKNOWN
            inside = s.value.span
            self.ctx.pending_arrays = [  # said once is enough
                n
                for n in self.ctx.pending_arrays
                if not (inside.start <= n.span.start and n.span.end <= inside.end)
            ]
        if ty == NEVER:
            ty = UNIT
        ctx = self.ctx
        if isinstance(s.target, ast.TuplePat):
            glob = ctx.is_init and ctx.depth == 0
            self.destructure(s.target, value, s.mutable, out, glob)
            return
        name = s.target.name
        if ctx.is_init and ctx.depth == 0:
            known = self.global_types.get(name)
            if known is not None and known != ty and s.annotation is None:
                value = coerce_to(self, value, known, s.value.span)
            self.global_types.setdefault(name, ty)
            out.append(h.HSetGlobal(name, value, s.span))
            return
        binding = self.scope.decls.get(id(s.target))
        var = ctx.new_var(name, ty, s.mutable)
        if binding is not None:
            ctx.vars[binding] = var
        out.append(h.HLet(var, value, s.span))

    def s_assign(self, s: ast.Assign, out: list[h.HStmt]) -> None:
        target = s.target
        if isinstance(target, ast.Field | ast.Index):
            self.assign_place(target, None, s, out)
            return
        if not isinstance(target, ast.Name):
            self.expr(s.value)
            return
        current = self.name(target)
        value = self.expr(s.value)
        if s.op is not None:
            value = self.binary_op(s.op, current, value, s.op_span)
        value = coerce_to(
            self, value, current.ty, s.value.span, f" in assignment to '{target.name}'"
        )
        if isinstance(current, h.HLocal):
            if not current.var.mutable:
                return  # reported by the resolver
            out.append(h.HLet(current.var, value, s.span))
        elif isinstance(current, h.HGlobal):
            b = target.binding
            if isinstance(b, Binding) and not b.mutable:
                return
            out.append(h.HSetGlobal(current.name, value, s.span))

    def s_if(self, s: ast.If, out: list[h.HStmt]) -> None:
        out.append(h.HExprStmt(self.if_(s.branches, s.else_body, "no", s.span), s.span))

    def s_while(self, s: ast.While, out: list[h.HStmt]) -> None:
        cond = self.condition(s.cond)
        body = self.block(s.body)
        out.append(h.HWhile(cond, body, s.span))

    def s_loop(self, s: ast.Loop, out: list[h.HStmt]) -> None:
        out.append(h.HWhile(None, self.block(s.body), s.span))

    def s_for(self, s: ast.For, out: list[h.HStmt]) -> None:
        it = s.iterable
        if not isinstance(it, ast.Range):
            seq = self.expr(it)
            if isinstance(seq.ty, ArrayT):
                self.for_array(s, seq, out)
            elif seq.ty != UNKNOWN:
                self.error(f"cannot iterate over a value of type {seq.ty}", it.span)
            return
        start = self.int_operand(self.expr(it.start), it.start.span, "range bound")
        end = self.int_operand(self.expr(it.end), it.end.span, "range bound")
        ctx = self.ctx
        end_var = ctx.new_var("$end", I64, False)
        out.append(h.HLet(end_var, end, it.end.span))
        var = ctx.new_var(s.var, I64, True)
        binding = self.scope.decls.get(id(s))
        if binding is not None:
            ctx.vars[binding] = var
        out.append(h.HLet(var, start, it.start.span))
        sp = s.var_span
        cur = h.HLocal(var, sp)
        lim = h.HLocal(end_var, sp)
        cond = h.HOp("ile" if it.inclusive else "ilt", [cur, lim], BOOL, sp)
        step: list[h.HStmt] = []
        if it.inclusive:  # stop before the increment can wrap past i64::MAX
            stop = h.HBlock([h.HBreak(sp)], None, UNIT, sp)
            eq = h.HOp("ieq", [cur, lim], BOOL, sp)
            step.append(h.HExprStmt(h.HIf(eq, stop, None, UNIT, sp), sp))
        one = h.HConst(1, I64, sp)
        step.append(h.HLet(var, h.HOp("iadd", [cur, one], I64, sp), sp))
        body = self.block(s.body)
        out.append(h.HWhile(cond, body, s.span, step))

    def s_break(self, s: ast.Break, out: list[h.HStmt]) -> None:
        out.append(h.HBreak(s.span))

    def s_continue(self, s: ast.Continue, out: list[h.HStmt]) -> None:
        out.append(h.HContinue(s.span))

    def s_pass(self, s: ast.Pass, out: list[h.HStmt]) -> None:
        pass

    def s_return(self, s: ast.Return, out: list[h.HStmt]) -> None:
        ctx = self.ctx
        value = self.expr(s.value) if s.value is not None else None
        ty = value.ty if value is not None else UNIT
        span = s.value.span if s.value is not None else s.span
        if ctx.declared_ret is not None:
            if ctx.declared_ret == UNIT and value is not None and ty not in (UNIT, NEVER):
                self.error(f"this function returns nothing, but 'return' has a {ty} value", span)
            elif ctx.declared_ret != UNIT:
                if value is None:
                    self.error(f"'return' needs a value of type {ctx.declared_ret}", s.span)
                else:
                    value = coerce_to(self, value, ctx.declared_ret, span, " in 'return'")
        else:
            ctx.returns.append((ty, span))
        node = h.HReturn(value, s.span)
        if ctx.declared_ret is None:
            ctx.return_nodes.append(node)
        out.append(node)

    # =========================================================== expressions

    def expr(self, e: ast.Expr) -> h.HExpr:
        method = _EXPR_DISPATCH.get(type(e))
        if method is None:
            self.error(f"{_describe(e)} are not yet supported", e.span)
            return h.HConst(None, UNKNOWN, e.span)
        result: h.HExpr = method(self, e)
        return result

    def condition(self, e: ast.Expr) -> h.HExpr:
        c = self.expr(e)
        if c.ty not in (BOOL, NEVER, UNKNOWN):
            self.error(f"mismatched types: condition must be bool, found {c.ty}", e.span)
        return c

    def int_operand(self, e: h.HExpr, span: Span, what: str) -> h.HExpr:
        if e.ty not in (I64, NEVER, UNKNOWN):
            self.error(f"mismatched types: {what} must be i64, found {e.ty}", span)
        return e

    def e_int(self, e: ast.IntLit) -> h.HExpr:
        return h.HConst(e.value, I64, e.span)

    def e_float(self, e: ast.FloatLit) -> h.HExpr:
        return h.HConst(e.value, F64, e.span)

    def e_bool(self, e: ast.BoolLit) -> h.HExpr:
        return h.HConst(e.value, BOOL, e.span)

    def e_str(self, e: ast.StrLit) -> h.HExpr:
        return h.HConst(e.value, TEXT, e.span)

    def e_unit(self, e: ast.UnitLit) -> h.HExpr:
        return h.HConst(None, UNIT, e.span)

    def e_interp(self, e: ast.InterpStr) -> h.HExpr:
        result: h.HExpr | None = None
        for part in e.parts:
            if isinstance(part, str):
                if not part:
                    continue
                piece: h.HExpr = h.HConst(part, TEXT, e.span)
            else:
                v = self.expr(part)
                piece = v if v.ty == TEXT else h.HOp("totext", [v], TEXT, part.span)
            result = piece if result is None else h.HOp("tconcat", [result, piece], TEXT, e.span)
        return result if result is not None else h.HConst("", TEXT, e.span)

    def e_name(self, e: ast.Name) -> h.HExpr:
        return self.name(e)

    def name(self, e: ast.Name) -> h.HExpr:
        b = e.binding
        if not isinstance(b, Binding):
            return h.HConst(None, UNKNOWN, e.span)  # undefined: reported by the resolver
        if b.kind in ("local", "param", "loopvar"):
            var = self.ctx.vars.get(b)
            if var is None:
                return h.HConst(None, UNKNOWN, e.span)
            return h.HLocal(var, e.span)
        if b.kind == "global":
            ty = self.global_types.get(b.name)
            if ty is None:
                self.error(
                    f"the type of global '{b.name}' is not known yet here",
                    e.span,
                    "annotate the global, or declare it before the code that first calls this",
                )
                return h.HConst(None, UNKNOWN, e.span)
            return h.HGlobal(b.name, ty, e.span)
        if b.kind in ("struct", "enum"):
            self.error(f"'{e.name}' is a type, not a value", e.span)
            return h.HConst(None, UNKNOWN, e.span)
        self.error(f"'{e.name}' is a function; functions are not values in Simple Core", e.span)
        return h.HConst(None, UNKNOWN, e.span)

    def e_unary(self, e: ast.Unary) -> h.HExpr:
        v = self.expr(e.operand)
        t = v.ty
        if t == UNKNOWN:
            return v
        if e.op == "-":
            if t == I64:
                return h.HOp("ineg", [v], I64, e.op_span)
            if t == F64:
                return h.HOp("fneg", [v], F64, e.op_span)
        elif e.op == "not":
            if t == BOOL:
                return h.HOp("not", [v], BOOL, e.op_span)
        elif e.op == "~":
            if t == I64:
                return h.HOp("inot", [v], I64, e.op_span)
        self.error(f"operator '{e.op}' cannot be applied to {t}", e.op_span)
        return h.HConst(None, UNKNOWN, e.span)

    def e_binary(self, e: ast.Binary) -> h.HExpr:
        op = e.op
        if op in ("and", "or"):
            left = self.condition(e.left)
            right = self.condition(e.right)
            return h.HLogic(op == "and", left, right, BOOL, e.span)
        return self.binary_op(op, self.expr(e.left), self.expr(e.right), e.op_span)

    def binary_op(self, op: str, left: h.HExpr, right: h.HExpr, span: Span) -> h.HExpr:
        lt, rt = left.ty, right.ty
        if UNKNOWN in (lt, rt):
            known = rt if lt == UNKNOWN else lt
            if op in _CMP:
                return h.HConst(None, BOOL, span)
            return h.HConst(None, known, span)
        if op in _ARITH:
            if lt == TEXT and rt == TEXT and op == "+":
                return h.HOp("tconcat", [left, right], TEXT, span)
            if lt.is_numeric and rt.is_numeric:
                if lt == I64 and rt == I64:
                    return h.HOp("i" + _ARITH[op], [left, right], I64, span)
                return h.HOp("f" + _ARITH[op], [self.to_f64(left), self.to_f64(right)], F64, span)
        elif op in _BITS:
            if lt == I64 and rt == I64:
                return h.HOp(_BITS[op], [left, right], I64, span)
        elif op in _CMP:
            if lt.is_numeric and rt.is_numeric:
                if lt == I64 and rt == I64:
                    return h.HOp("i" + _CMP[op], [left, right], BOOL, span)
                return h.HOp("f" + _CMP[op], [self.to_f64(left), self.to_f64(right)], BOOL, span)
            if lt == rt and lt in _CMP_PREFIX and (lt != BOOL or op in ("==", "!=")):
                return h.HOp(_CMP_PREFIX[lt] + _CMP[op], [left, right], BOOL, span)
        self.error(f"mismatched types: operator '{op}' cannot be applied to {lt} and {rt}", span)
        return h.HConst(None, UNKNOWN, span)

    @staticmethod
    def to_f64(e: h.HExpr) -> h.HExpr:
        return h.HOp("i2f", [e], F64, e.span) if e.ty == I64 else e

    def e_compare(self, e: ast.Compare) -> h.HExpr:
        # a < b < c  ==>  { t0 = a; t1 = b; t0 < t1 and { t2 = c ... } }: each
        # operand is evaluated once, in order, and only while the chain holds.
        ctx = self.ctx
        stmts: list[h.HStmt] = []
        first = self.expr(e.operands[0])
        prev: h.HExpr = first
        if len(e.operands) > 2:
            t = ctx.new_var("$cmp", first.ty, False)
            stmts.append(h.HLet(t, first, first.span))
            prev = h.HLocal(t, first.span)
        return self._chain(e, 1, prev, stmts)

    def _chain(self, e: ast.Compare, i: int, prev: h.HExpr, stmts: list[h.HStmt]) -> h.HExpr:
        operand = self.expr(e.operands[i])
        last = i == len(e.operands) - 1
        if not last:
            t = self.ctx.new_var("$cmp", operand.ty, False)
            stmts.append(h.HLet(t, operand, operand.span))
            operand = h.HLocal(t, operand.span)
        cmp = self.binary_op(e.ops[i - 1], prev, operand, e.op_spans[i - 1])
        if last:
            value = cmp
        else:
            rest = self._chain(e, i + 1, operand, [])
            value = h.HLogic(True, cmp, rest, BOOL, e.span)
        if not stmts:
            return value
        return h.HBlock(stmts, value, BOOL, e.span)

    def e_range(self, e: ast.Range) -> h.HExpr:
        self.error("ranges are only allowed in 'for' loops", e.span)
        return h.HConst(None, UNKNOWN, e.span)

    def e_cast(self, e: ast.Cast) -> h.HExpr:
        v = self.expr(e.expr)
        target = self.resolve_type(e.target)
        if target is None or v.ty == UNKNOWN:
            return h.HConst(None, target or UNKNOWN, e.span)
        src = v.ty
        if src == target:
            return v
        casts: dict[tuple[Type, Type], str] = {
            (I64, F64): "i2f",
            (F64, I64): "f2i",
            (BOOL, I64): "b2i",
        }
        op = casts.get((src, target))
        if op is None:
            self.error(f"cannot cast {src} to {target}", e.span)
            return h.HConst(None, target, e.span)
        return h.HOp(op, [v], target, e.span)

    def e_if(self, e: ast.IfExpr) -> h.HExpr:
        return self.if_(e.branches, e.else_body, "required", e.span)

    def if_(
        self,
        branches: list[tuple[ast.Expr, ast.Block]],
        else_body: ast.Block | None,
        want: str,
        span: Span,
    ) -> h.HExpr:
        """An if/elif/else chain as nested ``HIf`` nodes."""
        conds = [self.condition(c) for c, _ in branches[:1]]
        then = self.block(branches[0][1], want)
        if len(branches) > 1:
            rest = self.if_(branches[1:], else_body, want, branches[1][0].span)
            else_block: h.HBlock | None = h.HBlock([], rest, rest.ty, rest.span)
        elif else_body is not None:
            else_block = self.block(else_body, want)
        else:
            else_block = None
        return self.make_if(conds[0], then, else_block, want, span)

    def make_if(
        self, cond: h.HExpr, then: h.HBlock, else_block: h.HBlock | None, want: str, span: Span
    ) -> h.HExpr:
        """An ``HIf`` of checked branches: a value when ``want`` asks and types agree."""
        if want == "no":
            return h.HIf(cond, _as_stmt(then), _opt_stmt(else_block), UNIT, span)
        if else_block is None:
            if want == "required":
                self.error("an if-expression needs an 'else' branch", span)
                return h.HIf(cond, then, None, UNKNOWN, span)
            return h.HIf(cond, _as_stmt(then), None, UNIT, span)
        ty = self.join(then, else_block, span, want)
        if ty is None:
            return h.HIf(cond, _as_stmt(then), _opt_stmt(else_block), UNIT, span)
        if ty == F64:
            for blk in (then, else_block):
                if blk.value is not None and blk.value.ty == I64:
                    blk.value = self.to_f64(blk.value)
                    blk.ty = F64
        return h.HIf(cond, then, else_block, ty, span)

    def join(self, a: h.HBlock, b: h.HBlock, span: Span, want: str) -> Type | None:
        ta, tb = a.ty, b.ty
        if ta in (NEVER, UNKNOWN):
            return tb
        if tb in (NEVER, UNKNOWN):
            return ta
        if ta == tb:
            return ta
        if {ta, tb} == {I64, F64}:
            return F64
        if want == "optional" and UNIT in (ta, tb):
            return None
        if want == "optional":
            return None
        self.error(f"mismatched types: if branches have types {ta} and {tb}", span)
        return UNKNOWN

    # ------------------------------------------------------------------ calls

    def e_call(self, e: ast.Call) -> h.HExpr:
        callee = e.callee
        if isinstance(callee, ast.Field):
            args0 = [self.expr(a.value) for a in e.args]
            made = self.enum_constructor(callee, e, args0)
            if made is not None:
                return made
        if not isinstance(callee, ast.Name):
            for a in e.args:
                self.expr(a.value)
            self.error("only named functions can be called in Simple Core", callee.span)
            return h.HConst(None, UNKNOWN, e.span)
        args = [self.expr(a.value) for a in e.args]
        b = callee.binding
        if not isinstance(b, Binding):
            return h.HConst(None, UNKNOWN, e.span)
        if b.kind in ("function", "builtin"):
            for a in e.args:
                if a.name is not None:
                    self.error("named arguments are only for struct construction", a.span)
        if b.kind == "function":
            return self.call_user(callee.name, args, e)
        if b.kind == "builtin":
            return self.call_builtin(callee.name, args, e)
        if b.kind == "struct":
            return self.construct_struct(callee.name, e, args)
        if b.kind == "enum":
            self.error(f"use a variant: {callee.name}.VARIANT(...)", callee.span)
            return h.HConst(None, UNKNOWN, e.span)
        self.error(f"'{callee.name}' is not a function", callee.span)
        return h.HConst(None, UNKNOWN, e.span)

    def call_user(self, name: str, args: list[h.HExpr], e: ast.Call) -> h.HExpr:
        decl = self.fn_decl(name)
        if decl is None:  # from MIR text of an earlier unit: typed, one signature
            return self.call_earlier(name, args, e)
        if len(args) != len(decl.params):
            self.error(
                f"function '{name}' takes {len(decl.params)} argument"
                f"{'' if len(decl.params) == 1 else 's'} but {len(args)} were given",
                e.span,
            )
            return h.HConst(None, UNKNOWN, e.span)
        if decl.is_extern:
            sig = self.program_externs().get(name)
            if sig is None:
                return h.HConst(None, UNKNOWN, e.span)
            params, ret = sig
            conv = [coerce_to(self, a, t, a.span) for a, t in zip(args, params, strict=True)]
            return h.HCall(name, conv, ret, e.span, extern=True)
        if any(a.ty == UNKNOWN for a in args):
            # An argument whose type is still being inferred (recursion) puts
            # the call in doubt; one that is UNKNOWN after an error reported in
            # this function does not: the doubt would drop that error and leave
            # only "cannot infer the types" at the outermost caller.
            if not self.ctx.diags:
                self.ctx.tentative = True
            return h.HConst(None, UNKNOWN, e.span)
        types: list[Type] = []
        conv_args: list[h.HExpr] = []
        for a, p in zip(args, decl.params, strict=True):
            if p.annotation is not None:
                pty = self.resolve_type(p.annotation) or UNKNOWN
                a = coerce_to(self, a, pty, a.span, f" for parameter '{p.name}' of '{name}'")
                types.append(pty)
            else:
                if a.ty in (NEVER, UNIT):
                    self.error(f"argument for '{p.name}' has no value (type {a.ty})", a.span)
                    return h.HConst(None, UNKNOWN, e.span)
                types.append(a.ty)
            conv_args.append(a)
        spec = self.earlier_spec(name, tuple(types)) or self.specialize(decl, types, e.span)
        if spec is None:
            return h.HConst(None, UNKNOWN, e.span)
        mir_name, ret = spec
        if ret == UNKNOWN:
            return h.HConst(None, UNKNOWN, e.span)
        return h.HCall(mir_name, conv_args, ret, e.span)

    def program_externs(self) -> dict[str, tuple[list[Type], Type]]:
        raise NotImplementedError

    def fn_decl(self, name: str) -> ast.FnDecl | None:
        raise NotImplementedError

    def earlier_spec(self, name: str, types: tuple[Type, ...]) -> tuple[str, Type] | None:
        raise NotImplementedError

    def call_earlier(self, name: str, args: list[h.HExpr], e: ast.Call) -> h.HExpr:
        """A call of a function an earlier unit compiled from MIR text."""
        env = getattr(self, "env", None)
        envf = env.functions.get(name) if env is not None else None
        if envf is None or not envf.specs:
            self.error(f"undefined function '{name}'", e.span)
            return h.HConst(None, UNKNOWN, e.span)
        (params, (mir_name, ret)) = next(iter(envf.specs.items()))
        if len(args) != len(params):
            self.error(
                f"function '{name}' takes {len(params)} arguments but {len(args)} were given",
                e.span,
            )
            return h.HConst(None, UNKNOWN, e.span)
        conv = [coerce_to(self, a, t, a.span) for a, t in zip(args, params, strict=True)]
        self.earlier_spec(name, tuple(params))
        return h.HCall(mir_name, conv, ret, e.span)

    def call_builtin(self, name: str, args: list[h.HExpr], e: ast.Call) -> h.HExpr:
        if name != "Some" and any(a.ty == UNKNOWN for a in args):
            return h.HConst(None, F64 if name == "sqrt" else UNKNOWN, e.span)
        if name == "print":
            self.error("'print' is a statement and has no value", e.span)
            return h.HConst(None, UNIT, e.span)
        if name == "Some":
            return self.some(args, e)
        want = 1 if name == "sqrt" else 2
        if len(args) != want:
            self.error(f"'{name}' takes {want} argument{'s' if want > 1 else ''}", e.span)
            return h.HConst(None, UNKNOWN, e.span)
        if not all(a.ty.is_numeric for a in args):
            found = ", ".join(str(a.ty) for a in args)
            self.error(f"mismatched types: '{name}' needs numbers, found {found}", e.span)
            return h.HConst(None, UNKNOWN, e.span)
        if name == "sqrt":
            return h.HOp("fsqrt", [self.to_f64(args[0])], F64, e.span)
        if args[0].ty == I64 and args[1].ty == I64:
            return h.HOp("i" + name, args, I64, e.span)
        return h.HOp("f" + name, [self.to_f64(a) for a in args], F64, e.span)

    def print_call(self, e: ast.Call, out: list[h.HStmt]) -> None:
        for a in e.args:
            if a.name is not None:
                self.error("named arguments are only for struct construction", a.span)
        if len(e.args) > 1:
            self.error("'print' takes one argument", e.span)
            return
        if not e.args:
            out.append(h.HPrint(h.HConst("", TEXT, e.span), e.span))
            return
        value = self.expr(e.args[0].value)
        if value.ty == NEVER:
            out.append(h.HExprStmt(value, e.span))
            return
        out.append(h.HPrint(value, e.span))

    def e_method(self, e: ast.MethodCall) -> h.HExpr:
        r = e.receiver
        if isinstance(r, ast.Name) and isinstance(r.binding, Binding) and r.binding.kind == "enum":
            # `Shape.Circle(2.0)` parses as a method call on the enum's name
            field = ast.Field(r, e.method, Span(r.span.start, e.method_span.end), e.method_span)
            call = ast.Call(field, e.args, e.span)
            made = self.enum_constructor(field, call, [self.expr(a.value) for a in e.args])
            if made is not None:
                return made
        recv = self.expr(e.receiver)
        args = [self.expr(a.value) for a in e.args]
        t = recv.ty
        if t == UNKNOWN:
            return h.HConst(None, UNKNOWN, e.span)
        m = e.method
        if isinstance(t, ArrayT):
            return self.array_method(recv, e, args)
        if m == "to_text" and not args:
            return recv if t == TEXT else h.HOp("totext", [recv], TEXT, e.span)
        if m == "to_text" and t in (I64, F64, BOOL, TEXT) and not args:
            return recv if t == TEXT else h.HOp("totext", [recv], TEXT, e.span)
        if m == "abs" and t in (I64, F64) and not args:
            return h.HOp("iabs" if t == I64 else "fabs", [recv], t, e.span)
        if t == TEXT and m in _TEXT_METHODS:
            op, params, ret = _TEXT_METHODS[m]
            if len(args) != len(params):
                self.error(f"method '{m}' takes {len(params)} argument(s)", e.method_span)
                return h.HConst(None, ret, e.span)
            for a, p in zip(args, params, strict=True):
                if a.ty != p and a.ty != UNKNOWN:
                    self.error(f"mismatched types: expected {p}, found {a.ty}", a.span)
            return h.HOp(op, [recv, *args], ret, e.span)
        self.error(f"type {t} has no method '{m}'", e.method_span)
        return h.HConst(None, UNKNOWN, e.span)


def _is_print(e: ast.Call) -> bool:
    c = e.callee
    return (
        isinstance(c, ast.Name)
        and c.name == "print"
        and (not isinstance(c.binding, Binding) or c.binding.kind == "builtin")
    )


def _opt_stmt(b: h.HBlock | None) -> h.HBlock | None:
    return None if b is None else _as_stmt(b)


def _as_stmt(b: h.HBlock) -> h.HBlock:
    """A block used as a statement: its value (if any) becomes a statement."""
    if b.value is None:
        b.ty = UNIT
        return b
    b.stmts.append(h.HExprStmt(b.value, b.value.span))
    b.value = None
    b.ty = UNIT
    return b


def _h_diverges(stmts: list[h.HStmt]) -> bool:
    from simple_jit.hir.check import h_diverges

    return h_diverges(stmts)


def _describe(e: ast.Expr) -> str:
    return {
        ast.NilLit: "nil values",
        ast.Field: "field and tuple accesses",
        ast.Index: "array indexing expressions",
        ast.ArrayLit: "array literals",
        ast.TupleLit: "tuples",
        ast.Coalesce: "'??' expressions",
        ast.MatchExpr: "match expressions",
    }.get(type(e), f"{type(e).__name__} expressions")


_Handler = Callable[[Any, Any, Any], None]
_STMT_DISPATCH: dict[type, _Handler] = {
    ast.ExprStmt: ExprChecker.s_expr,
    ast.Let: ExprChecker.s_let,
    ast.Assign: ExprChecker.s_assign,
    ast.If: ExprChecker.s_if,
    ast.While: ExprChecker.s_while,
    ast.Loop: ExprChecker.s_loop,
    ast.For: ExprChecker.s_for,
    ast.Break: ExprChecker.s_break,
    ast.Continue: ExprChecker.s_continue,
    ast.Pass: ExprChecker.s_pass,
    ast.Return: ExprChecker.s_return,
    ast.IfLet: lambda self, s, out: out.append(h.HExprStmt(self.if_let(s, "no"), s.span)),
}

_EXPR_DISPATCH: dict[type, Callable[[Any, Any], h.HExpr]] = {
    ast.IntLit: ExprChecker.e_int,
    ast.FloatLit: ExprChecker.e_float,
    ast.BoolLit: ExprChecker.e_bool,
    ast.StrLit: ExprChecker.e_str,
    ast.UnitLit: ExprChecker.e_unit,
    ast.InterpStr: ExprChecker.e_interp,
    ast.Name: ExprChecker.e_name,
    ast.Unary: ExprChecker.e_unary,
    ast.Binary: ExprChecker.e_binary,
    ast.Compare: ExprChecker.e_compare,
    ast.Range: ExprChecker.e_range,
    ast.Cast: ExprChecker.e_cast,
    ast.IfExpr: ExprChecker.e_if,
    ast.Call: ExprChecker.e_call,
    ast.MethodCall: ExprChecker.e_method,
    ast.ArrayLit: lambda self, e: self.e_array(e),
    ast.Index: lambda self, e: self.e_index(e),
    ast.Field: lambda self, e: self.e_field(e),
    ast.TupleLit: lambda self, e: self.e_tuple(e),
    ast.NilLit: lambda self, e: self.e_nil(e),
    ast.Coalesce: lambda self, e: self.e_coalesce(e),
    ast.MatchExpr: lambda self, e: self.match(e, "required"),
}
