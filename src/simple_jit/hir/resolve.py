"""Name resolution: the checks that need no types, done once per function.

Every ``Name`` node gets a ``Binding`` (local, global, function or builtin),
which the type checker later maps to a typed variable for each
specialization.  Doing this once, apart from type checking, is what lets a
generic function that is never called still be checked for undefined names,
assignments to ``val`` and misplaced ``break`` (spec section 8).

Architecture invariant: this module knows scopes, not types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simple_jit.diagnostics import DiagnosticBag, Span
from simple_jit.syntax import ast

if TYPE_CHECKING:
    from simple_jit.hir.env import UnitEnv

BUILTINS = frozenset({"print", "sqrt", "min", "max", "Some"})


class Binding:
    """What a name refers to.  For locals the object identity is the variable."""

    __slots__ = ("kind", "mutable", "name", "span")

    def __init__(self, kind: str, name: str, mutable: bool, span: Span) -> None:
        self.kind = kind  # "local" | "param" | "global" | "function" | "builtin" | "loopvar"
        self.name = name
        self.mutable = mutable
        self.span = span

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


class ModuleScope:
    """The names declared at the top of a unit."""

    def __init__(self) -> None:
        self.functions: dict[str, ast.FnDecl] = {}
        self.structs: dict[str, ast.StructDecl] = {}
        self.enums: dict[str, ast.EnumDecl] = {}
        self.globals: dict[str, Binding] = {}
        self.fn_bindings: dict[str, Binding] = {}
        self.builtin_bindings = {n: Binding("builtin", n, False, Span(0, 0)) for n in BUILTINS}
        self.type_bindings: dict[str, Binding] = {}
        # id(declaring node) -> Binding: a Param, a let's BindPat, a For or an IfLet
        self.decls: dict[int, Binding] = {}


class Resolver:
    def __init__(
        self, module: ast.Module, diags: DiagnosticBag, env: UnitEnv | None = None
    ) -> None:
        self.module = module
        self.diags = diags
        self.env = env
        self.scope = ModuleScope()
        if env is not None:
            self.scope.decls = env.decls  # shared, so earlier bodies can be re-checked
        self.scopes: list[dict[str, Binding]] = []
        self.loop_depth = 0
        self.in_function = False
        # top-level code sees a global only after its declaration
        self.visible_globals: set[str] | None = None

    # ------------------------------------------------------------ declarations

    def collect(self) -> ModuleScope:
        sc = self.scope
        for item in self.module.items:
            if isinstance(item, ast.FnDecl):
                if item.name in sc.functions:
                    self.diags.error(f"function '{item.name}' is defined twice", item.name_span)
                    continue
                sc.functions[item.name] = item
                sc.fn_bindings[item.name] = Binding("function", item.name, False, item.name_span)
            elif isinstance(item, ast.StructDecl | ast.EnumDecl):
                kind = "struct" if isinstance(item, ast.StructDecl) else "enum"
                table: dict[str, ast.StructDecl] | dict[str, ast.EnumDecl]
                table = sc.structs if isinstance(item, ast.StructDecl) else sc.enums
                if item.name in sc.structs or item.name in sc.enums:
                    self.diags.error(f"type '{item.name}' is defined twice", item.name_span)
                    continue
                table[item.name] = item  # type: ignore[assignment]
                sc.type_bindings[item.name] = Binding(kind, item.name, False, item.name_span)
            elif isinstance(item, ast.Let):
                for pat in _bind_pats(item.target):
                    if pat.name in sc.globals:
                        self.diags.error(f"global '{pat.name}' is declared twice", pat.span)
                        continue
                    if self.env is not None and pat.name in self.env.globals:
                        self.diags.error(
                            f"global '{pat.name}' is already declared by an earlier unit",
                            pat.span,
                        )
                        continue
                    sc.globals[pat.name] = Binding("global", pat.name, item.mutable, pat.span)
        return sc

    def resolve(self) -> ModuleScope:
        self.collect()
        # top-level statements, in order
        self.visible_globals = set()
        self.in_function = False
        self.scopes = []
        for item in self.module.items:
            if isinstance(item, ast.FnDecl | ast.StructDecl | ast.EnumDecl):
                continue
            self.stmt(item, top=True)
        self.visible_globals = None
        for item in self.module.items:
            if isinstance(item, ast.FnDecl) and item.body is not None:
                self.function(item)
        return self.scope

    def function(self, fn: ast.FnDecl) -> None:
        assert fn.body is not None
        self.in_function = True
        params: dict[str, Binding] = {}
        for p in fn.params:
            if p.name in params:
                self.diags.error(f"parameter '{p.name}' is declared twice", p.span)
            b = Binding("param", p.name, False, p.span)
            params[p.name] = b
            self.scope.decls[id(p)] = b
        self.scopes = [params]
        self.loop_depth = 0
        self.block(fn.body, new_scope=False)
        self.scopes = []
        self.in_function = False

    # -------------------------------------------------------------- statements

    def block(self, b: ast.Block, new_scope: bool = True) -> None:
        if new_scope:
            self.scopes.append({})
        for s in b.stmts:
            self.stmt(s)
        if new_scope:
            self.scopes.pop()

    def declare(self, key: object, name: str, kind: str, mutable: bool, span: Span) -> None:
        b = Binding(kind, name, mutable, span)
        self.scopes[-1][name] = b
        self.scope.decls[id(key)] = b

    def stmt(self, s: ast.Stmt, top: bool = False) -> None:
        if isinstance(s, ast.ExprStmt):
            self.expr(s.expr)
        elif isinstance(s, ast.Let):
            self.expr(s.value)
            if top and not self.scopes:
                for pat in _bind_pats(s.target):
                    if self.visible_globals is not None:
                        self.visible_globals.add(pat.name)
                    # the Binding made by collect() is the global itself
            else:
                for pat in _bind_pats(s.target):
                    self.declare(pat, pat.name, "local", s.mutable, pat.span)
        elif isinstance(s, ast.Assign):
            self.expr(s.value)
            self.assign_target(s.target)
        elif isinstance(s, ast.If):
            for cond, body in s.branches:
                self.expr(cond)
                self.block(body)
            if s.else_body is not None:
                self.block(s.else_body)
        elif isinstance(s, ast.IfLet):
            self.expr(s.value)
            self.scopes.append({})
            self.declare(s, s.name, "local", False, s.name_span)
            self.block(s.then_body, new_scope=False)
            self.scopes.pop()
            if s.else_body is not None:
                self.block(s.else_body)
        elif isinstance(s, ast.While):
            self.expr(s.cond)
            self.loop_body(s.body)
        elif isinstance(s, ast.Loop):
            self.loop_body(s.body)
        elif isinstance(s, ast.For):
            self.expr(s.iterable)
            self.scopes.append({})
            self.declare(s, s.var, "loopvar", False, s.var_span)
            self.loop_body(s.body)
            self.scopes.pop()
        elif isinstance(s, ast.Break | ast.Continue):
            if self.loop_depth == 0:
                word = "break" if isinstance(s, ast.Break) else "continue"
                self.diags.error(f"'{word}' outside of a loop", s.span)
        elif isinstance(s, ast.Return):
            if not self.in_function:
                self.diags.error("'return' outside of a function", s.span)
            if s.value is not None:
                self.expr(s.value)
        elif isinstance(s, ast.Pass):
            pass

    def loop_body(self, body: ast.Block) -> None:
        self.loop_depth += 1
        self.block(body)
        self.loop_depth -= 1

    def assign_target(self, target: ast.Expr) -> None:
        if isinstance(target, ast.Name):
            b = self.lookup(target)
            if b is None:
                return
            if b.kind == "function" or b.kind == "builtin":
                self.diags.error(f"cannot assign to function '{target.name}'", target.span)
            elif not b.mutable:
                what = {"param": "a parameter", "loopvar": "a loop variable"}.get(
                    b.kind, "declared with 'val'"
                )
                self.diags.error(
                    f"cannot assign to '{target.name}': it is {what}",
                    target.span,
                    "declare it with 'var' to make it mutable",
                )
        elif isinstance(target, ast.Field | ast.Index):
            self.expr(target)
        else:
            self.diags.error("invalid assignment target", _span(target))

    # ------------------------------------------------------------- expressions

    def lookup(self, name: ast.Name) -> Binding | None:
        n = name.name
        for scope in reversed(self.scopes):
            b = scope.get(n)
            if b is not None:
                name.binding = b
                return b
        sc = self.scope
        g = sc.globals.get(n)
        if g is not None and (self.visible_globals is None or n in self.visible_globals):
            name.binding = g
            return g
        f = sc.fn_bindings.get(n)
        if f is not None:
            name.binding = f
            return f
        env = self.env
        if env is not None:
            eb = env.global_binding(n) or env.function_binding(n)
            if eb is not None:
                name.binding = eb
                return eb
        tb = sc.type_bindings.get(n)
        if tb is not None:
            name.binding = tb
            return tb
        bi = sc.builtin_bindings.get(n)
        if bi is not None:
            name.binding = bi
            return bi
        if g is not None:
            self.diags.error(f"global '{n}' is used before its declaration", name.span)
            return None
        self.diags.error(f"undefined name '{n}'", name.span)
        return None

    def expr(self, e: ast.Expr) -> None:
        # An explicit stack keeps deep expressions from exhausting Python's stack.
        stack: list[object] = [e]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                self.lookup(node)
            elif isinstance(node, ast.Binary):
                stack.append(node.right)
                stack.append(node.left)
            elif isinstance(node, ast.Unary):
                stack.append(node.operand)
            elif isinstance(node, ast.Call):
                if isinstance(node.callee, ast.Name):
                    self.lookup(node.callee)
                elif isinstance(node.callee, ast.Field) and isinstance(node.callee.obj, ast.Name):
                    # Enum.Variant(...) constructor: resolve lazily in the checker
                    if node.callee.obj.name not in self.scope.enums:
                        stack.append(node.callee)
                else:
                    stack.append(node.callee)
                stack.extend(a.value for a in reversed(node.args))
            elif isinstance(node, ast.MethodCall):
                stack.extend(a.value for a in reversed(node.args))
                stack.append(node.receiver)
            elif isinstance(node, ast.Field):
                if isinstance(node.obj, ast.Name) and node.obj.name in self.scope.enums:
                    continue
                stack.append(node.obj)
            elif isinstance(node, ast.Index):
                stack.append(node.index)
                stack.append(node.obj)
            elif isinstance(node, ast.Compare):
                stack.extend(reversed(node.operands))
            elif isinstance(node, ast.Range):
                stack.append(node.end)
                stack.append(node.start)
            elif isinstance(node, ast.Cast):
                stack.append(node.expr)
            elif isinstance(node, ast.InterpStr):
                stack.extend(p for p in reversed(node.parts) if not isinstance(p, str))
            elif isinstance(node, ast.IfExpr):
                for cond, body in node.branches:
                    self.expr(cond)
                    self.block(body)
                if node.else_body is not None:
                    self.block(node.else_body)
            elif isinstance(node, ast.ArrayLit | ast.TupleLit):
                stack.extend(reversed(node.elems))
            elif isinstance(node, ast.Coalesce):
                stack.append(node.default)
                stack.append(node.opt)
            elif isinstance(node, ast.MatchExpr):
                self.expr(node.subject)
                for arm in node.arms:
                    self.scopes.append({})
                    for pat in _pattern_binds(arm.pattern):
                        self.declare(pat, pat.name, "local", False, pat.span)
                    if arm.guard is not None:
                        self.expr(arm.guard)
                    self.block(arm.body, new_scope=False)
                    self.scopes.pop()


def _bind_pats(target: ast.BindPat | ast.TuplePat) -> list[ast.BindPat]:
    out: list[ast.BindPat] = []
    todo: list[ast.Pattern] = [target]
    while todo:
        p = todo.pop()
        if isinstance(p, ast.BindPat):
            out.append(p)
        elif isinstance(p, ast.TuplePat):
            todo.extend(reversed(p.elems))
    return out


def _pattern_binds(p: ast.Pattern) -> list[ast.BindPat]:
    out: list[ast.BindPat] = []
    todo: list[ast.Pattern] = [p]
    while todo:
        q = todo.pop()
        if isinstance(q, ast.BindPat):
            out.append(q)
        elif isinstance(q, ast.TuplePat):
            todo.extend(reversed(q.elems))
        elif isinstance(q, ast.VariantPat) and q.args:
            todo.extend(reversed(q.args))
    return out


def _span(e: ast.Expr) -> Span:
    return e.span
