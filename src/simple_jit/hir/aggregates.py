"""Type checking of tier-2 data: arrays, structs, enums and match, tuples, options.

A mixin of ``Checker`` like ``ExprChecker``.  Everything is desugared into
HIR built from MIR operations (``array_get``, ``field_set``, ``enum_tag`` ...):

* ``match`` becomes a chain of ``if``s over a temporary holding the subject,
  with a ``matched`` flag so that an arm whose guard fails falls through to
  the next arm; patterns become tests joined by short-circuit ``and`` plus
  ``let`` bindings of the projections they name;
* ``p.x = v`` on a struct variable becomes ``p = field_set(p, x, v)`` (structs
  are values); ``xs[i] = v`` is ``array_set`` (arrays are shared references);
* ``opt ?? d``, ``if val x = opt``, ``for x in xs`` and ``val (a, b) = t``
  become temporaries, tests and projections.

Exhaustiveness: a ``match`` over an enum, an option or a bool must cover every
case with unguarded arms; over other types it needs a catch-all arm.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simple_jit.diagnostics import Span
from simple_jit.hir import nodes as h
from simple_jit.hir.resolve import Binding
from simple_jit.syntax import ast
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    NEVER,
    NIL,
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

if TYPE_CHECKING:
    from simple_jit.hir.exprs import ExprChecker as _Base
else:
    _Base = object


def _unknown() -> Type:
    from simple_jit.hir.exprs import UNKNOWN

    return UNKNOWN


class AggregateChecker(_Base):
    structs: dict[str, StructDef]
    enums: dict[str, EnumDef]

    # ------------------------------------------------------------ helpers

    def temp(self, value: h.HExpr, out: list[h.HStmt], name: str = "$tmp") -> h.HLocal:
        var = self.ctx.new_var(name, value.ty, False)
        out.append(h.HLet(var, value, value.span))
        return h.HLocal(var, value.span)

    def bad(self, span: Span) -> h.HExpr:
        return h.HConst(None, _unknown(), span)

    # ------------------------------------------------------------- arrays

    def e_array(self, e: ast.ArrayLit) -> h.HExpr:
        elems = [self.expr(x) for x in e.elems]
        if not elems:
            return h.HOp("array_new", [], ArrayT(NIL), e.span, NIL)  # typed by its context
        # The element type: the first element whose type is not a placeholder
        # (nil, [], an error); the others must convert to it.
        placeholders = (NIL, ArrayT(NIL), NEVER, _unknown())
        ty: Type | None = None
        for x in elems:
            if x.ty in placeholders:
                continue
            if ty is None:
                ty = x.ty
            elif {x.ty, ty} == {I64, F64}:
                ty = F64
            elif isinstance(x.ty, OptionT) and x.ty.inner == ty:
                ty = x.ty
        if ty is None:
            if any(x.ty == _unknown() for x in elems):
                return self.bad(e.span)
            if all(x.ty in (NIL, ArrayT(NIL)) for x in elems):
                # [nil], [[]]: typed by the place it flows into, as [] is;
                # an error at the end of the function if none does
                node = h.HOp("array_new", elems, ArrayT(NIL), e.span, NIL)
                self.ctx.pending_arrays.append(node)
                return node
            self.error("cannot infer the element type of this array; annotate it", e.span)
            return self.bad(e.span)
        if ty in (UNIT, NEVER):
            self.error("arrays of () are not supported", e.span)
        elif any(x.ty == NIL for x in elems) and not isinstance(ty, OptionT):
            ty = OptionT(ty)  # [nil, 5]: a T flowing into T? becomes Some
        conv = []
        for x in elems:
            c = self.coerce(x, ty, x.span)
            if c.ty != ty and c.ty not in (NEVER, _unknown()):
                return self.bad(e.span)  # coerce reported the mismatch
            conv.append(c)
        return h.HOp("array_new", conv, ArrayT(ty), e.span, ty)

    def e_index(self, e: ast.Index) -> h.HExpr:
        obj = self.expr(e.obj)
        idx = self.expr(e.index)
        if obj.ty == _unknown():
            return self.bad(e.span)
        if not isinstance(obj.ty, ArrayT):
            self.error(f"type {obj.ty} cannot be indexed", e.span)
            return self.bad(e.span)
        self.int_operand(idx, e.index.span, "an array index")
        return h.HOp("array_get", [obj, idx], obj.ty.elem, e.span)

    def array_method(self, recv: h.HExpr, e: ast.MethodCall, args: list[h.HExpr]) -> h.HExpr:
        assert isinstance(recv.ty, ArrayT)
        elem = recv.ty.elem
        m = e.method
        want = {"len": 0, "pop": 0, "push": 1}.get(m)
        if want is None:
            self.error(f"type {recv.ty} has no method '{m}'", e.method_span)
            return self.bad(e.span)
        if len(args) != want:
            self.error(f"method '{m}' takes {want} argument(s)", e.method_span)
            return self.bad(e.span)
        if m == "len":
            return h.HOp("array_len", [recv], I64, e.span)
        if m == "pop":
            return h.HOp("array_pop", [recv], elem, e.method_span)
        value = self.coerce(args[0], elem, e.args[0].value.span)
        return h.HOp("array_push", [recv, value], UNIT, e.span)

    # ------------------------------------------------------------ structs

    def construct_struct(self, name: str, e: ast.Call, args: list[h.HExpr]) -> h.HExpr:
        sdef = self.structs.get(name)
        if sdef is None:
            return self.bad(e.span)
        names = [a.name for a in e.args]
        fields = sdef.fields
        if any(n is not None for n in names):
            if not all(n is not None for n in names):
                self.error("use either all named or all positional fields", e.span)
                return self.bad(e.span)
            by_name = dict(zip(names, zip(args, e.args, strict=True), strict=True))
            ordered: list[h.HExpr] = []
            for fname, fty in fields:
                got = by_name.pop(fname, None)
                if got is None:
                    self.error(f"missing field '{fname}' in {name}(...)", e.span)
                    return self.bad(e.span)
                ordered.append(self.coerce(got[0], fty, got[1].span))
            for extra in by_name:
                self.error(f"struct {name} has no field '{extra}'", e.span)
            return h.HOp("struct_new", ordered, StructT(name), e.span, name)
        if len(args) != len(fields):
            self.error(f"{name} has {len(fields)} fields but {len(args)} values were given", e.span)
            return self.bad(e.span)
        conv = [
            self.coerce(a, fty, src.span)
            for a, (_, fty), src in zip(args, fields, e.args, strict=True)
        ]
        return h.HOp("struct_new", conv, StructT(name), e.span, name)

    def e_field(self, e: ast.Field) -> h.HExpr:
        enum_value = self.enum_constructor(e, None, [])
        if enum_value is not None:
            return enum_value
        obj = self.expr(e.obj)
        return self.project(obj, e.name, e.name_span, e.span)

    def project(self, obj: h.HExpr, name: str, name_span: Span, span: Span) -> h.HExpr:
        t = obj.ty
        if t == _unknown():
            return self.bad(span)
        if isinstance(t, TupleT):
            if not name.isdigit() or int(name) >= len(t.elems):
                self.error(f"tuple {t} has no element .{name}", name_span)
                return self.bad(span)
            i = int(name)
            return h.HOp("tuple_get", [obj], t.elems[i], span, i)
        if isinstance(t, StructT):
            sdef = self.structs[t.name]
            i = sdef.field_index(name)
            if i < 0:
                self.error(f"struct {t.name} has no field '{name}'", name_span)
                return self.bad(span)
            return h.HOp("field_get", [obj], sdef.fields[i][1], span, i)
        self.error(f"type {t} has no field '{name}'", name_span)
        return self.bad(span)

    def assign_place(
        self, target: ast.Expr, value_of: object, s: ast.Assign, out: list[h.HStmt]
    ) -> None:
        """``p.f.g = v`` (through a ``var``) and ``xs[i] = v``."""
        if isinstance(target, ast.Index):
            arr = self.expr(target.obj)
            idx = self.expr(target.index)
            if not isinstance(arr.ty, ArrayT):
                if arr.ty != _unknown():
                    self.error(f"type {arr.ty} cannot be indexed", target.span)
                return
            self.int_operand(idx, target.index.span, "an array index")
            a_tmp = self.temp(arr, out)
            i_tmp = self.temp(idx, out)
            current = h.HOp("array_get", [a_tmp, i_tmp], arr.ty.elem, target.span)
            value = self.assigned_value(s, current, arr.ty.elem)
            out.append(
                h.HExprStmt(h.HOp("array_set", [a_tmp, i_tmp, value], UNIT, target.span), s.span)
            )
            return
        assert isinstance(target, ast.Field)
        path: list[ast.Field] = []
        root: ast.Expr = target
        while isinstance(root, ast.Field):
            path.append(root)
            root = root.obj
        path.reverse()
        if isinstance(root, ast.Index):
            self.error("assign the element to a variable first, then its field", target.span)
            return
        if not isinstance(root, ast.Name):
            self.error("invalid assignment target", target.span)
            return
        base = self.name(root)
        b = root.binding
        if (
            isinstance(b, Binding)
            and b.kind in ("local", "param", "loopvar", "global")
            and not b.mutable
        ):
            self.error(
                f"cannot assign to a field of '{root.name}': structs are values, "
                "declare it with 'var'",
                target.span,
            )
            return
        # Read every level, then rebuild from the inside out.
        levels: list[tuple[h.HExpr, int, Type]] = []
        cur: h.HExpr = base
        for f in path:
            proj = self.project(cur, f.name, f.name_span, f.span)
            if not isinstance(proj, h.HOp):
                return
            assert isinstance(proj.extra, int)
            levels.append((cur, proj.extra, proj.ty))
            cur = proj
        value = self.assigned_value(s, cur, cur.ty)
        for holder, index, _ in reversed(levels):
            op = "tuple_set" if isinstance(holder.ty, TupleT) else "field_set"
            if op == "tuple_set":
                self.error("tuple elements cannot be assigned", target.span)
                return
            value = h.HOp("field_set", [holder, value], holder.ty, target.span, index)
        if isinstance(base, h.HLocal):
            out.append(h.HLet(base.var, value, s.span))
        elif isinstance(base, h.HGlobal):
            out.append(h.HSetGlobal(base.name, value, s.span))

    def assigned_value(self, s: ast.Assign, current: h.HExpr, ty: Type) -> h.HExpr:
        value = self.expr(s.value)
        if s.op is not None:
            value = self.binary_op(s.op, current, value, s.op_span)
        return self.coerce(value, ty, s.value.span)

    # -------------------------------------------------------------- enums

    def enum_constructor(
        self, callee: ast.Field, call: ast.Call | None, args: list[h.HExpr]
    ) -> h.HExpr | None:
        """``Enum.Variant`` or ``Enum.Variant(args)``; None if ``callee`` is not one."""
        obj = callee.obj
        if not isinstance(obj, ast.Name):
            return None
        b = obj.binding
        if not (isinstance(b, Binding) and b.kind == "enum") and not (
            b is None and obj.name in self.enums
        ):
            return None
        edef = self.enums.get(obj.name)
        span = call.span if call is not None else callee.span
        if edef is None:
            return self.bad(span)
        vi = edef.variant_index(callee.name)
        if vi < 0:
            self.error(f"enum {edef.name} has no variant '{callee.name}'", callee.name_span)
            return self.bad(span)
        payload = edef.variants[vi][1]
        if call is None and payload:
            self.error(f"{edef.name}.{callee.name} takes {len(payload)} value(s)", callee.name_span)
            return self.bad(span)
        if len(args) != len(payload):
            self.error(
                f"{edef.name}.{callee.name} takes {len(payload)} value(s), got {len(args)}", span
            )
            return self.bad(span)
        srcs = call.args if call is not None else []
        conv = [self.coerce(a, t, s.span) for a, t, s in zip(args, payload, srcs, strict=True)]
        return h.HOp("enum_new", conv, EnumT(edef.name), span, f"{edef.name}.{callee.name}")

    # ------------------------------------------------------- tuples, options

    def e_tuple(self, e: ast.TupleLit) -> h.HExpr:
        elems = [self.expr(x) for x in e.elems]
        if any(x.ty in (_unknown(), NEVER) for x in elems):
            return self.bad(e.span)
        return h.HOp("tuple_new", elems, TupleT(tuple(x.ty for x in elems)), e.span)

    def e_nil(self, e: ast.NilLit) -> h.HExpr:
        return h.HConst(None, NIL, e.span)  # typed by coerce() from its context

    def some(self, args: list[h.HExpr], e: ast.Call) -> h.HExpr:
        if len(args) != 1:
            self.error("'Some' takes one value", e.span)
            return self.bad(e.span)
        v = args[0]
        if v.ty in (_unknown(), NEVER, NIL):
            if v.ty == NIL:
                self.error("cannot infer the type of Some(nil)", e.span)
            return self.bad(e.span)
        return h.HOp("opt_some", [v], OptionT(v.ty), e.span)

    def e_coalesce(self, e: ast.Coalesce) -> h.HExpr:
        opt = self.expr(e.opt)
        if opt.ty == _unknown():
            return self.bad(e.span)
        if not isinstance(opt.ty, OptionT):
            self.error(f"'??' needs an option on its left, found {opt.ty}", e.opt.span)
            return self.bad(e.span)
        inner = opt.ty.inner
        default = self.coerce(self.expr(e.default), inner, e.default.span)
        stmts: list[h.HStmt] = []
        tmp = self.temp(opt, stmts)
        cond = h.HOp("opt_is_some", [tmp], BOOL, e.span)
        then = h.HBlock([], h.HOp("opt_get", [tmp], inner, e.span), inner, e.span)
        other = h.HBlock([], default, inner, e.span)
        return h.HBlock(stmts, h.HIf(cond, then, other, inner, e.span), inner, e.span)

    def s_iflet(self, s: ast.IfLet, out: list[h.HStmt]) -> None:
        out.append(h.HExprStmt(self.if_let(s, "no"), s.span))

    def if_let(self, s: ast.IfLet, want: str) -> h.HExpr:
        opt = self.expr(s.value)
        stmts: list[h.HStmt] = []
        if not isinstance(opt.ty, OptionT):
            if opt.ty != _unknown():
                self.error(f"'if val' needs an option, found {opt.ty}", s.value.span)
            return self.bad(s.span)
        tmp = self.temp(opt, stmts)
        var = self.ctx.new_var(s.name, opt.ty.inner, False)
        binding = self.scope.decls.get(id(s))
        if binding is not None:
            self.ctx.vars[binding] = var
        then = self.block(s.then_body, want)
        then.stmts.insert(0, h.HLet(var, h.HOp("opt_get", [tmp], opt.ty.inner, s.span), s.span))
        else_ = self.block(s.else_body, want) if s.else_body is not None else None
        cond = h.HOp("opt_is_some", [tmp], BOOL, s.span)
        node = self.make_if(cond, then, else_, want, s.span)
        return h.HBlock(stmts, node, node.ty, s.span)

    # -------------------------------------------------------------- loops

    def for_array(self, s: ast.For, seq: h.HExpr, out: list[h.HStmt]) -> None:
        assert isinstance(seq.ty, ArrayT)
        ctx = self.ctx
        arr = self.temp(seq, out, "$seq")
        i_var = ctx.new_var("$i", I64, True)
        sp = s.var_span
        out.append(h.HLet(i_var, h.HConst(0, I64, sp), sp))
        i = h.HLocal(i_var, sp)
        cond = h.HOp("ilt", [i, h.HOp("array_len", [arr], I64, sp)], BOOL, sp)
        var = ctx.new_var(s.var, seq.ty.elem, False)
        binding = self.scope.decls.get(id(s))
        if binding is not None:
            ctx.vars[binding] = var
        body = self.block(s.body)
        body.stmts.insert(0, h.HLet(var, h.HOp("array_get", [arr, i], seq.ty.elem, sp), sp))
        step: list[h.HStmt] = [h.HLet(i_var, h.HOp("iadd", [i, h.HConst(1, I64, sp)], I64, sp), sp)]
        out.append(h.HWhile(cond, body, s.span, step))

    # ----------------------------------------------------------- bindings

    def destructure(
        self, pat: ast.Pattern, value: h.HExpr, mutable: bool, out: list[h.HStmt], glob: bool
    ) -> None:
        """``val (a, (b, c)) = value``."""
        if isinstance(pat, ast.BindPat):
            if glob:
                self.global_types.setdefault(pat.name, value.ty)
                out.append(h.HSetGlobal(pat.name, value, pat.span))
                return
            var = self.ctx.new_var(pat.name, value.ty, mutable)
            binding = self.scope.decls.get(id(pat))
            if binding is not None:
                self.ctx.vars[binding] = var
            out.append(h.HLet(var, value, pat.span))
            return
        if isinstance(pat, ast.WildcardPat):
            return
        if not isinstance(pat, ast.TuplePat) or not isinstance(value.ty, TupleT):
            if value.ty != _unknown():
                self.error(f"cannot destructure a value of type {value.ty} here", pat.span)
            return
        if len(pat.elems) != len(value.ty.elems):
            self.error(
                f"the pattern has {len(pat.elems)} elements, the tuple {len(value.ty.elems)}",
                pat.span,
            )
            return
        tmp = self.temp(value, out)
        for i, (sub, ty) in enumerate(zip(pat.elems, value.ty.elems, strict=True)):
            self.destructure(sub, h.HOp("tuple_get", [tmp], ty, pat.span, i), mutable, out, glob)

    # -------------------------------------------------------------- match

    def match(self, e: ast.MatchExpr, want: str) -> h.HExpr:
        subject = self.expr(e.subject)
        if subject.ty == _unknown():
            return self.bad(e.span)
        ctx = self.ctx
        stmts: list[h.HStmt] = []
        subj = self.temp(subject, stmts, "$subject")
        matched = ctx.new_var("$matched", BOOL, True)
        sp = e.span
        stmts.append(h.HLet(matched, h.HConst(False, BOOL, sp), sp))
        arms: list[tuple[h.HExpr | None, list[h.HStmt], h.HExpr | None, h.HBlock]] = []
        for arm in e.arms:
            binds: list[h.HStmt] = []
            test = self.pattern(arm.pattern, subj, binds)
            guard = self.condition(arm.guard) if arm.guard is not None else None
            body = self.block(arm.body, want if want != "no" else "no")
            arms.append((test, binds, guard, body))
        self.check_exhaustive(e, subject.ty)
        result_ty: Type | None = None
        if want != "no":
            blocks = [a[3] for a in arms]
            result_ty = self.join_all(blocks, e.span, want)
        result = (
            ctx.new_var("$match", result_ty, True) if result_ty not in (None, UNIT, NEVER) else None
        )
        for test, binds, guard, body in arms:
            done = [h.HLet(matched, h.HConst(True, BOOL, sp), sp)]
            if result is not None and body.value is not None:
                assert result_ty is not None
                value = body.value
                if result_ty == F64 and value.ty == I64:
                    value = self.to_f64(value)
                body.stmts.append(h.HLet(result, value, value.span))
                body.value = None
            elif body.value is not None:
                body.stmts.append(h.HExprStmt(body.value, body.value.span))
                body.value = None
            body.stmts[:0] = done
            body.ty = UNIT
            inner: h.HBlock = body
            if guard is not None:
                inner = h.HBlock(
                    [h.HExprStmt(h.HIf(guard, body, None, UNIT, sp), sp)], None, UNIT, sp
                )
            arm_block = h.HBlock([*binds, *inner.stmts], None, UNIT, sp)
            not_matched = h.HOp("not", [h.HLocal(matched, sp)], BOOL, sp)
            cond: h.HExpr = (
                not_matched if test is None else h.HLogic(True, not_matched, test, BOOL, sp)
            )
            stmts.append(h.HExprStmt(h.HIf(cond, arm_block, None, UNIT, sp), sp))
        if result is None:
            return h.HBlock(stmts, None, UNIT, sp)
        return h.HBlock(stmts, h.HLocal(result, sp), result.ty, sp)

    def join_all(self, blocks: list[h.HBlock], span: Span, want: str) -> Type | None:
        ty: Type | None = None
        for b in blocks:
            t = b.ty
            if t in (NEVER, _unknown()):
                continue
            if ty is None or ty == t:
                ty = t
            elif {ty, t} == {I64, F64}:
                ty = F64
            else:
                if want == "required":
                    self.error(f"mismatched types: match arms have types {ty} and {t}", span)
                return None
        return ty if ty is not None else NEVER

    def pattern(self, pat: ast.Pattern, subj: h.HExpr, binds: list[h.HStmt]) -> h.HExpr | None:
        """The test that ``subj`` matches ``pat`` (None: always), adding its bindings."""
        t = subj.ty
        sp = pat.span
        if isinstance(pat, ast.WildcardPat):
            return None
        if isinstance(pat, ast.BindPat):
            var = self.ctx.new_var(pat.name, t, False)
            binding = self.scope.decls.get(id(pat))
            if binding is not None:
                self.ctx.vars[binding] = var
            binds.append(h.HLet(var, subj, sp))
            return None
        if isinstance(pat, ast.LiteralPat):
            lit = pat.value
            if isinstance(lit, ast.NilLit):
                if not isinstance(t, OptionT):
                    self.error(f"'nil' cannot match a value of type {t}", sp)
                    return None
                return h.HOp("not", [h.HOp("opt_is_some", [subj], BOOL, sp)], BOOL, sp)
            value = self.expr(lit)
            test = self.binary_op("==", subj, value, sp)
            return test
        if isinstance(pat, ast.TuplePat):
            if not isinstance(t, TupleT) or len(t.elems) != len(pat.elems):
                self.error(f"a tuple pattern of {len(pat.elems)} cannot match {t}", sp)
                return None
            tests = [
                self.pattern(sub, h.HOp("tuple_get", [subj], ty, sp, i), binds)
                for i, (sub, ty) in enumerate(zip(pat.elems, t.elems, strict=True))
            ]
            return _all(tests, sp)
        assert isinstance(pat, ast.VariantPat)
        if pat.enum is None and pat.variant == "Some":
            if not isinstance(t, OptionT):
                self.error(f"'Some(...)' cannot match a value of type {t}", sp)
                return None
            args = pat.args or []
            if len(args) != 1:
                self.error("'Some' takes one pattern", sp)
                return None
            is_some = h.HOp("opt_is_some", [subj], BOOL, sp)
            inner_binds: list[h.HStmt] = []
            inner = self.pattern(args[0], h.HOp("opt_get", [subj], t.inner, sp), inner_binds)
            binds.extend(inner_binds)
            return _all([is_some, inner], sp)
        if not isinstance(t, EnumT) or (pat.enum is not None and pat.enum != t.name):
            self.error(
                f"pattern {pat.enum or ''}.{pat.variant} cannot match a value of type {t}", sp
            )
            return None
        edef = self.enums[t.name]
        vi = edef.variant_index(pat.variant)
        if vi < 0:
            self.error(f"enum {t.name} has no variant '{pat.variant}'", sp)
            return None
        payload = edef.variants[vi][1]
        args = pat.args or []
        if len(args) != len(payload):
            self.error(
                f"{t.name}.{pat.variant} has {len(payload)} value(s), the pattern {len(args)}", sp
            )
            return None
        tag = h.HOp("ieq", [h.HOp("enum_tag", [subj], I64, sp), h.HConst(vi, I64, sp)], BOOL, sp)
        checks: list[h.HExpr | None] = [tag]
        for j, (sub, ty) in enumerate(zip(args, payload, strict=True)):
            field = h.HOp("enum_field", [subj], ty, sp, f"{vi}.{j}")
            checks.append(self.pattern(sub, field, binds))
        return _all(checks, sp)

    def check_exhaustive(self, e: ast.MatchExpr, t: Type) -> None:
        catch_all = False
        covered: set[str] = set()
        for arm in e.arms:
            if arm.guard is not None:
                continue
            p = arm.pattern
            if isinstance(p, ast.WildcardPat | ast.BindPat):
                catch_all = True
            elif isinstance(p, ast.VariantPat) and all(
                isinstance(a, ast.WildcardPat | ast.BindPat) for a in (p.args or [])
            ):
                covered.add(p.variant)
            elif isinstance(p, ast.LiteralPat):
                if isinstance(p.value, ast.NilLit):
                    covered.add("nil")
                elif isinstance(p.value, ast.BoolLit):
                    covered.add(str(p.value.value))
        if catch_all:
            return
        if isinstance(t, EnumT):
            every = [v for v, _ in self.enums[t.name].variants]
            missing = [f"{t.name}.{v}" for v in every if v not in covered]
        elif isinstance(t, OptionT):
            missing = [v for v in ("Some", "nil") if v not in covered]
        elif t == BOOL:
            missing = [v.lower() for v in ("True", "False") if v not in covered]
        else:
            self.error(f"non-exhaustive match on {t}: add a 'case _' arm", e.span)
            return
        if missing:
            self.error(f"non-exhaustive match: missing {', '.join(missing)}", e.span)


def _all(tests: list[h.HExpr | None], sp: Span) -> h.HExpr | None:
    real = [t for t in tests if t is not None]
    if not real:
        return None
    out = real[-1]
    for t in reversed(real[:-1]):
        out = h.HLogic(True, t, out, BOOL, sp)
    return out
