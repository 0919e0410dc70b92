"""HIR: the typed, resolved tree of one function specialization.

The type checker builds one HIR function per specialization (a function with
untyped parameters gets one per tuple of argument types), so HIR nodes carry
concrete types and resolved targets and no longer need scopes.  Sugar is gone:
compound assignment, comparison chains, string interpolation, ``print``,
methods and numeric promotion are all explicit here.  Operators are already
named by the MIR operation they become (``iadd``, ``fdiv``, ``tconcat`` ...),
so lowering to MIR is a direct walk.
"""

from __future__ import annotations

from simple_jit.diagnostics import Span
from simple_jit.types import EnumDef, StructDef, Type

Extra = str | int | Type | None


class LocalVar:
    """A local variable or parameter of one specialization."""

    __slots__ = ("id", "mutable", "name", "ty")

    def __init__(self, id: int, name: str, ty: Type, mutable: bool) -> None:
        self.id = id
        self.name = name
        self.ty = ty
        self.mutable = mutable


# ---------------------------------------------------------------- expressions


class HExpr:
    __slots__ = ("span", "ty")

    def __init__(self, ty: Type, span: Span) -> None:
        self.ty = ty
        self.span = span


class HConst(HExpr):
    __slots__ = ("value",)

    def __init__(self, value: int | float | bool | str | None, ty: Type, span: Span) -> None:
        super().__init__(ty, span)
        self.value = value


class HLocal(HExpr):
    __slots__ = ("var",)

    def __init__(self, var: LocalVar, span: Span) -> None:
        super().__init__(var.ty, span)
        self.var = var


class HGlobal(HExpr):
    __slots__ = ("name",)

    def __init__(self, name: str, ty: Type, span: Span) -> None:
        super().__init__(ty, span)
        self.name = name


class HOp(HExpr):
    """A MIR operation applied to operands (arithmetic, comparison, casts, text ops).

    ``op`` is a key of ``simple_jit.mir.ir.OPS``; ``span`` points at the
    operator, which is where a runtime error of the operation is reported.
    """

    __slots__ = ("args", "extra", "op")

    def __init__(
        self, op: str, args: list[HExpr], ty: Type, span: Span, extra: Extra = None
    ) -> None:
        super().__init__(ty, span)
        self.op = op
        self.args = args
        self.extra = extra  # the MIR instruction's extra (field index, variant ...)


class HLogic(HExpr):
    """Short-circuit ``and`` / ``or``."""

    __slots__ = ("is_and", "left", "right")

    def __init__(self, is_and: bool, left: HExpr, right: HExpr, ty: Type, span: Span) -> None:
        super().__init__(ty, span)
        self.is_and = is_and
        self.left = left
        self.right = right


class HCall(HExpr):
    """A call of a user function specialization (``func`` is its MIR name)."""

    __slots__ = ("args", "extern", "func")

    def __init__(
        self, func: str, args: list[HExpr], ty: Type, span: Span, extern: bool = False
    ) -> None:
        super().__init__(ty, span)
        self.func = func
        self.args = args
        self.extern = extern


class HIf(HExpr):
    """``if``/``else`` as expression or statement; ``ty`` is ``()`` for statements."""

    __slots__ = ("cond", "else_", "then")

    def __init__(
        self, cond: HExpr, then: HBlock, else_: HBlock | None, ty: Type, span: Span
    ) -> None:
        super().__init__(ty, span)
        self.cond = cond
        self.then = then
        self.else_ = else_


class HBlock(HExpr):
    """Statements followed by an optional value expression (the block's result)."""

    __slots__ = ("stmts", "value")

    def __init__(self, stmts: list[HStmt], value: HExpr | None, ty: Type, span: Span) -> None:
        super().__init__(ty, span)
        self.stmts = stmts
        self.value = value


# ----------------------------------------------------------------- statements


class HStmt:
    __slots__ = ("span",)

    def __init__(self, span: Span) -> None:
        self.span = span


class HExprStmt(HStmt):
    __slots__ = ("expr",)

    def __init__(self, expr: HExpr, span: Span) -> None:
        super().__init__(span)
        self.expr = expr


class HLet(HStmt):
    """Declare ``var`` and initialise it (also used for plain assignment to a local)."""

    __slots__ = ("value", "var")

    def __init__(self, var: LocalVar, value: HExpr, span: Span) -> None:
        super().__init__(span)
        self.var = var
        self.value = value


class HSetGlobal(HStmt):
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: HExpr, span: Span) -> None:
        super().__init__(span)
        self.name = name
        self.value = value


class HPrint(HStmt):
    __slots__ = ("value",)

    def __init__(self, value: HExpr, span: Span) -> None:
        super().__init__(span)
        self.value = value


class HWhile(HStmt):
    """``while cond`` (``cond`` None for ``loop``); ``step`` runs before each re-test.

    ``step`` is how ``for`` loops increment their counter: ``continue`` jumps
    to it rather than straight back to the condition.
    """

    __slots__ = ("body", "cond", "step")

    def __init__(
        self, cond: HExpr | None, body: HBlock, span: Span, step: list[HStmt] | None = None
    ) -> None:
        super().__init__(span)
        self.cond = cond
        self.body = body
        self.step = step or []


class HBreak(HStmt):
    __slots__ = ()


class HContinue(HStmt):
    __slots__ = ()


class HReturn(HStmt):
    __slots__ = ("value",)

    def __init__(self, value: HExpr | None, span: Span) -> None:
        super().__init__(span)
        self.value = value


# ------------------------------------------------------------------ functions


class HFunction:
    """One specialization: ``name`` is its unique MIR name (``add<i64, i64>``)."""

    __slots__ = ("body", "name", "params", "ret", "source_name", "span")

    def __init__(
        self,
        name: str,
        source_name: str,
        params: list[LocalVar],
        ret: Type,
        body: HBlock,
        span: Span,
    ) -> None:
        self.name = name
        self.source_name = source_name
        self.params = params
        self.ret = ret
        self.body = body
        self.span = span


class HProgram:
    """Every specialization of a unit, the globals and the entry information."""

    __slots__ = ("enums", "externs", "functions", "globals", "has_main", "imports", "structs")

    def __init__(self) -> None:
        self.functions: dict[str, HFunction] = {}
        self.globals: dict[str, Type] = {}
        self.externs: dict[str, tuple[list[Type], Type]] = {}
        self.imports: dict[str, tuple[list[Type], Type]] = {}  # earlier units' functions
        self.structs: dict[str, StructDef] = {}
        self.enums: dict[str, EnumDef] = {}
        self.has_main = False
