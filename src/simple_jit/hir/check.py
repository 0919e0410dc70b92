"""Type checking and inference: AST (with resolved names) -> HIR.

Every function is checked.  A function whose parameters are all annotated
(or that has none) is checked once, called or not.  A function with untyped
parameters is *generic*: each distinct tuple of argument types it is called
with gets its own specialization, checked and named ``name<T1, T2>``.

Return types left out are inferred from the body on demand, when a call
needs them.  Recursion through a function whose return type is still being
inferred yields a provisional ``UNKNOWN`` type; a specialization that saw one
is checked again once its own return type is known (see ``_check_spec``).

Expressions are checked by ``ExprChecker`` (``exprs.py``); this module owns
the program-level work: signatures, globals, specializations, statements.
"""

from __future__ import annotations

from collections.abc import Sequence

from simple_jit.diagnostics import DiagnosticBag, SourceFile, Span
from simple_jit.hir import nodes as h
from simple_jit.hir.aggregates import AggregateChecker
from simple_jit.hir.env import UnitEnv
from simple_jit.hir.exprs import UNKNOWN, ExprChecker, coerce_to
from simple_jit.hir.resolve import Binding, ModuleScope
from simple_jit.syntax import ast
from simple_jit.types import (
    F64,
    I64,
    NEVER,
    NIL,
    PRIMS,
    UNIT,
    UNSUPPORTED_TYPE_NAMES,
    ArrayT,
    EnumDef,
    EnumT,
    OptionT,
    StructDef,
    StructT,
    TupleT,
    Type,
)

INIT_NAME = "$init"


class Spec:
    """One specialization of a function: its MIR name and (maybe provisional) result."""

    __slots__ = ("decl", "done", "name", "param_types", "ret")

    def __init__(self, decl: ast.FnDecl, name: str, param_types: tuple[Type, ...]) -> None:
        self.decl = decl
        self.name = name
        self.param_types = param_types
        self.ret: Type | None = None
        self.done = False


class FnCtx:
    """State of the specialization being checked."""

    def __init__(
        self,
        name: str,
        declared_ret: Type | None,
        diags: DiagnosticBag,
        is_init: bool = False,
        note: str | None = None,
    ) -> None:
        self.name = name
        self.declared_ret = declared_ret
        self.diags = diags
        self.is_init = is_init
        self.note = note
        self.vars: dict[Binding, h.LocalVar] = {}
        self.n_vars = 0
        self.returns: list[tuple[Type, Span]] = []
        self.return_nodes: list[h.HReturn] = []  # with inferred results: converted at the end
        self.tentative = False
        # array literals of nil / [] elements only: typed by where they flow
        self.pending_arrays: list[h.HOp] = []
        self.depth = 0  # block nesting, to tell top-level lets in $init

    def new_var(self, name: str, ty: Type, mutable: bool) -> h.LocalVar:
        var = h.LocalVar(self.n_vars, name, ty, mutable)
        self.n_vars += 1
        return var


class Checker(AggregateChecker, ExprChecker):
    def __init__(
        self,
        module: ast.Module,
        scope: ModuleScope,
        source: SourceFile,
        diags: DiagnosticBag,
        env: UnitEnv | None = None,
        requests: Sequence[tuple[str, tuple[Type, ...]]] = (),
    ) -> None:
        self.module = module
        self.scope = scope
        self.source = source
        self.global_diags = diags
        self.env = env
        self.requests = requests
        self.program = h.HProgram()
        self.specs: dict[tuple[str, tuple[Type, ...]], Spec] = {}
        self.global_types: dict[str, Type] = {}
        self.structs: dict[str, StructDef] = {}
        self.enums: dict[str, EnumDef] = {}
        if env is not None:
            self.global_types.update({n: ty for n, (ty, _) in env.globals.items()})
        self.ctx_stack: list[FnCtx] = []
        self.ctx: FnCtx = FnCtx("<none>", UNIT, diags)

    # ------------------------------------------------------------ diagnostics

    def error(self, message: str, span: Span, *notes: str) -> None:
        ctx = self.ctx
        if ctx.note is not None:
            notes = (*notes, ctx.note)
        ctx.diags.error(message, span, *notes)

    # ------------------------------------------------------------------ types

    def resolve_type(self, t: ast.TypeExpr) -> Type | None:
        if isinstance(t, ast.TypeName):
            prim = PRIMS.get(t.name)
            if prim is not None:
                return prim
            if t.name in self.scope.structs:
                return StructT(t.name)
            if t.name in self.scope.enums:
                return EnumT(t.name)
            if t.name in UNSUPPORTED_TYPE_NAMES:
                self.error(f"type '{t.name}' is not supported in Simple Core", t.span)
            else:
                self.error(f"unknown type '{t.name}'", t.span)
            return None
        if isinstance(t, ast.UnitType):
            return UNIT
        if isinstance(t, ast.GenericType):
            self.error(f"generic type '{t.name}<...>' is not supported in Simple Core", t.span)
            return None
        if isinstance(t, ast.ArrayType):
            elem = self.resolve_type(t.elem)
            return ArrayT(elem) if elem is not None else None
        if isinstance(t, ast.OptionType):
            inner = self.resolve_type(t.inner)
            return OptionT(inner) if inner is not None else None
        assert isinstance(t, ast.TupleType)
        elems = [self.resolve_type(x) for x in t.elems]
        if any(x is None for x in elems):
            return None
        return TupleT(tuple(x for x in elems if x is not None))

    # ---------------------------------------------------------------- program

    def check_program(self) -> h.HProgram:
        sc = self.scope
        for item in self.module.items:
            if isinstance(item, ast.StructDecl):
                fields = []
                seen: set[str] = set()
                for fld in item.fields:
                    if fld.name in seen:
                        self.error(f"field '{fld.name}' is declared twice", fld.span)
                    seen.add(fld.name)
                    fty = self.resolve_type(fld.annotation)
                    if fty == StructT(item.name):
                        self.error(
                            f"struct {item.name} cannot contain itself (use an array)", fld.span
                        )
                    fields.append((fld.name, fty or UNKNOWN))
                self.structs[item.name] = StructDef(item.name, tuple(fields))
            elif isinstance(item, ast.EnumDecl):
                variants = []
                vseen: set[str] = set()
                for v in item.variants:
                    if v.name in vseen:
                        self.error(f"variant '{v.name}' is declared twice", v.span)
                    vseen.add(v.name)
                    payload = tuple(self.resolve_type(p) or UNKNOWN for p in v.payload)
                    variants.append((v.name, payload))
                self.enums[item.name] = EnumDef(item.name, tuple(variants))
            elif isinstance(item, ast.Let) and item.annotation is not None:
                ty = self.resolve_type(item.annotation)
                if ty is not None and isinstance(item.target, ast.BindPat):
                    self.global_types[item.target.name] = ty
        for decl in sc.functions.values():
            if decl.is_extern:
                self._declare_extern(decl)
        self._check_init()
        for decl in sc.functions.values():
            if decl.body is not None and not self.is_generic(decl):
                self.specialize(decl, self._declared_param_types(decl), None)
        for name, types in self.requests:
            wanted = self.fn_decl(name)
            if wanted is not None and wanted.body is not None:
                self.specialize(wanted, types, None)
        main = sc.functions.get("main")
        if main is not None and main.body is not None:
            if main.params:
                self.ctx.diags.error("'main' must not take parameters", main.name_span)
            else:
                self.program.has_main = True
        self.program.globals = dict(self.global_types)
        self.program.structs = dict(self.structs)
        self.program.enums = dict(self.enums)
        return self.program

    def fn_decl(self, name: str) -> ast.FnDecl | None:
        """The declaration a call of ``name`` reaches: this unit's, else an earlier unit's."""
        decl = self.scope.functions.get(name)
        if decl is None and self.env is not None:
            envf = self.env.functions.get(name)
            if envf is not None:
                decl = envf.decl
        return decl

    def earlier_spec(self, name: str, types: tuple[Type, ...]) -> tuple[str, Type] | None:
        """An existing specialization from an earlier unit (recorded as an import)."""
        if self.env is None or name in self.scope.functions:
            return None
        envf = self.env.functions.get(name)
        if envf is None:
            return None
        found = envf.specs.get(types)
        if found is not None:
            self.program.imports[found[0]] = (list(types), found[1])
        return found

    def _declare_extern(self, decl: ast.FnDecl) -> None:
        params: list[Type] = []
        for p in decl.params:
            if p.annotation is None:
                self.ctx.diags.error("extern function parameters need a type", p.span)
                return
            ty = self.resolve_type(p.annotation)
            if ty is None:
                return
            params.append(ty)
        ret = UNIT if decl.ret is None else self.resolve_type(decl.ret)
        if ret is None:
            return
        for ty in [*params, ret]:
            if ty not in (I64, F64, UNIT) and ty != PRIMS["bool"]:
                self.ctx.diags.error(
                    "extern functions take and return only i64, f64 and bool", decl.name_span
                )
                return
        self.program.externs[decl.name] = (params, ret)

    def program_externs(self) -> dict[str, tuple[list[Type], Type]]:
        return self.program.externs

    @staticmethod
    def is_generic(decl: ast.FnDecl) -> bool:
        return any(p.annotation is None for p in decl.params)

    def _declared_param_types(self, decl: ast.FnDecl) -> tuple[Type, ...]:
        out: list[Type] = []
        for p in decl.params:
            assert p.annotation is not None
            out.append(self.resolve_type(p.annotation) or UNKNOWN)
        return tuple(out)

    def _check_init(self) -> None:
        ctx = FnCtx(INIT_NAME, UNIT, self.global_diags, is_init=True)
        self._push(ctx)
        stmts: list[h.HStmt] = []
        for item in self.module.items:
            if isinstance(item, ast.FnDecl | ast.StructDecl | ast.EnumDecl):
                continue
            self.stmt(item, stmts)
        self._pop()
        span = Span(0, 0)
        body = h.HBlock(stmts, None, UNIT, span)
        self.program.functions[INIT_NAME] = h.HFunction(INIT_NAME, INIT_NAME, [], UNIT, body, span)

    def _push(self, ctx: FnCtx) -> None:
        self.ctx_stack.append(self.ctx)
        self.ctx = ctx

    def _pop(self) -> None:
        for node in self.ctx.pending_arrays:
            if node.ty == ArrayT(NIL):  # no place gave it a type
                self.ctx.diags.error(
                    "cannot infer the element type of this array; annotate it", node.span
                )
        self.ctx = self.ctx_stack.pop()

    # -------------------------------------------------------- specialization

    def specialize(
        self, decl: ast.FnDecl, arg_types: Sequence[Type], call_span: Span | None
    ) -> tuple[str, Type] | None:
        """The MIR name and result type of ``decl`` called with ``arg_types``."""
        types = tuple(arg_types)
        key = (decl.name, types)
        spec = self.specs.get(key)
        if spec is not None:
            if spec.done or spec.ret is not None:
                return spec.name, spec.ret if spec.ret is not None else UNKNOWN
            self.ctx.tentative = True
            return spec.name, UNKNOWN
        if self.is_generic(decl):
            name = f"{decl.name}<{', '.join(str(t) for t in types)}>"
        else:
            name = decl.name
        spec = Spec(decl, name, types)
        if decl.ret is not None:
            # an unusable annotation has been reported; UNKNOWN stops cascades
            spec.ret = self.resolve_type(decl.ret) or UNKNOWN
        self.specs[key] = spec
        note = None
        if self.is_generic(decl) and call_span is not None:
            line, col = self.source.line_col(call_span.start)
            sig = ", ".join(str(t) for t in types)
            note = f"in '{decl.name}' specialized for ({sig}), called at {line}:{col}"
        return self._check_spec(key, spec, note)

    def _check_spec(
        self, key: tuple[str, tuple[Type, ...]], spec: Spec, note: str | None
    ) -> tuple[str, Type] | None:
        declared = spec.ret if spec.decl.ret is not None else None
        for attempt in range(3):
            bag = DiagnosticBag()
            ctx = FnCtx(spec.name, declared, bag, note=note)
            self._push(ctx)
            func = self._check_body(spec, ctx)
            self._pop()
            ret = func.ret
            if not ctx.tentative:
                self.ctx.diags.items.extend(bag.items)
                spec.ret = ret
                spec.done = True
                self.program.functions[spec.name] = func
                return spec.name, ret
            if ret == UNKNOWN:
                self.ctx.diags.error(
                    f"cannot infer the return type of recursive function '{spec.decl.name}'",
                    spec.decl.name_span,
                    "annotate it, for example '-> i64'",
                )
                spec.ret = UNIT
                spec.done = True
                return None
            if attempt == 0 and spec.ret is None:
                spec.ret = ret  # provisional: check again with it known
                continue
            if not self.ctx_stack:
                # Nothing encloses this check that could settle the doubt later:
                # keep what was found, and never let a function vanish silently.
                self.ctx.diags.items.extend(bag.items)
                if not bag.items:
                    self.ctx.diags.error(
                        f"cannot infer the types in '{spec.decl.name}'", spec.decl.name_span
                    )
                spec.ret = ret
                spec.done = True
                return spec.name, ret
            # Still waiting on another specialization that is being inferred:
            # forget this one (it is checked again later) and pass the doubt up.
            del self.specs[key]
            self.ctx.tentative = True
            return spec.name, ret
        raise AssertionError("unreachable")

    def _check_body(self, spec: Spec, ctx: FnCtx) -> h.HFunction:
        decl = spec.decl
        assert decl.body is not None
        params: list[h.LocalVar] = []
        for p, ty in zip(decl.params, spec.param_types, strict=True):
            var = ctx.new_var(p.name, ty, False)
            params.append(var)
        self._bind_params(decl, params)
        want = (
            "no"
            if ctx.declared_ret == UNIT
            else "optional"
            if ctx.declared_ret is None
            else "required"
        )
        body = self.block(decl.body, want)
        ret = self._result_type(ctx, body, decl)
        if ret != UNIT and body.value is not None and body.value.ty not in (NEVER, UNKNOWN):
            body.value = coerce_to(self, body.value, ret, body.value.span)
        if ret not in (UNIT, UNKNOWN):
            for node in ctx.return_nodes:  # e.g. `return 1` where the result is f64
                if node.value is not None and node.value.ty != ret:
                    node.value = coerce_to(self, node.value, ret, node.value.span)
        return h.HFunction(spec.name, decl.name, params, ret, body, decl.span)

    def _bind_params(self, decl: ast.FnDecl, params: list[h.LocalVar]) -> None:
        decls = self.scope.decls
        for p, var in zip(decl.params, params, strict=True):
            b = decls.get(id(p))
            if b is not None:
                self.ctx.vars[b] = var

    def _result_type(self, ctx: FnCtx, body: h.HBlock, decl: ast.FnDecl) -> Type:
        tail_span = body.value.span if body.value is not None else decl.name_span
        if body.value is not None:
            tail: Type = body.value.ty
        elif h_diverges(body.stmts):
            tail = NEVER
        else:
            tail = UNIT
        if ctx.declared_ret == UNKNOWN:
            return UNKNOWN
        if ctx.declared_ret is not None:
            ret = ctx.declared_ret
            if tail == UNIT and ret != UNIT:
                self.error(
                    f"function '{decl.name}' must return a value of type {ret}",
                    decl.name_span,
                    "the body ends without a value; end it with an expression or 'return'",
                )
            elif tail not in (NEVER, UNKNOWN, UNIT) and ret != UNIT:
                if not _assignable(tail, ret):
                    self.error(
                        f"mismatched types: function '{decl.name}' returns {ret}, "
                        f"but its body ends with a value of type {tail}",
                        tail_span,
                    )
            return ret
        candidates = [*ctx.returns, (tail, tail_span)]
        ret_ty: Type | None = None
        for ty, span in candidates:
            if ty in (NEVER, UNKNOWN):
                continue
            if ret_ty is None:
                ret_ty = ty
            elif ty != ret_ty:
                if {ty, ret_ty} == {I64, F64}:
                    ret_ty = F64
                    continue
                self.error(f"mismatched return types in '{decl.name}': {ret_ty} and {ty}", span)
        if ret_ty is None:
            if any(ty == UNKNOWN for ty, _ in candidates):
                return UNKNOWN
            return UNIT
        return ret_ty


def _assignable(src: Type, dst: Type) -> bool:
    """Whether ``coerce_to`` accepts a ``src`` value where ``dst`` is expected."""
    if src == dst or (src == I64 and dst == F64) or src in (NEVER, UNKNOWN):
        return True
    if isinstance(dst, OptionT):
        return src == NIL or _assignable(src, dst.inner)
    return src == ArrayT(NIL) and isinstance(dst, ArrayT)


def h_diverges(stmts: list[h.HStmt]) -> bool:
    """Whether control never reaches the end of these statements."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, h.HReturn):
        return True
    if isinstance(last, h.HWhile):
        infinite = last.cond is None or (
            isinstance(last.cond, h.HConst) and last.cond.value is True
        )
        return infinite and not _breaks(last.body.stmts)
    if isinstance(last, h.HExprStmt):
        e = last.expr
        if isinstance(e, h.HIf) and e.else_ is not None:
            return (
                e.then.value is None
                and e.else_.value is None
                and h_diverges(e.then.stmts)
                and h_diverges(e.else_.stmts)
            )
        if isinstance(e, h.HBlock):
            return e.value is None and h_diverges(e.stmts)
    return False


def _breaks(stmts: list[h.HStmt]) -> bool:
    """Whether a ``break`` for the enclosing loop appears (not inside inner loops)."""
    todo: list[object] = list(stmts)
    while todo:
        s = todo.pop()
        if isinstance(s, h.HBreak):
            return True
        if isinstance(s, h.HExprStmt):
            todo.append(s.expr)
        elif isinstance(s, h.HIf):
            todo.extend(s.then.stmts)
            if s.else_ is not None:
                todo.extend(s.else_.stmts)
        elif isinstance(s, h.HBlock):
            todo.extend(s.stmts)
    return False
