"""The abstract syntax tree of Simple Core (tiers 1 and 2).

The AST mirrors the source closely and knows nothing about types: every node
carries a ``Span`` and nothing else beyond its syntax.  Desugaring (compound
assignment, comparison chains, string interpolation, ``print``) happens in the
HIR builder, not here, so that ``--emit ast`` shows what the user wrote.

Nodes are slotted records (``_record.record``): a program of ten thousand functions builds
hundreds of thousands of them, and compile latency is a product feature.
"""

from __future__ import annotations

from simple_jit._record import field, record
from simple_jit.diagnostics import Span

# --------------------------------------------------------------------------
# Type expressions (as written; resolved to ``simple_jit.types`` by the HIR)


@record
class TypeName:
    """A named type: ``i64``, ``f64``, ``bool``, ``text``, a struct or enum name."""

    name: str
    span: Span


@record
class UnitType:
    """The unit type ``()``."""

    span: Span


@record
class ArrayType:
    """``[T]``."""

    elem: TypeExpr
    span: Span


@record
class TupleType:
    """``(A, B, ...)`` with at least two elements."""

    elems: list[TypeExpr]
    span: Span


@record
class OptionType:
    """``T?``."""

    inner: TypeExpr
    span: Span


@record
class GenericType:
    """``Name<T, ...>``: parsed so that it can be rejected as not supported."""

    name: str
    args: list[TypeExpr]
    span: Span


TypeExpr = TypeName | UnitType | ArrayType | TupleType | OptionType | GenericType

# --------------------------------------------------------------------------
# Expressions


@record
class IntLit:
    value: int  # already range-checked by the parser (fits in i64 after negation rules)
    span: Span


@record
class FloatLit:
    value: float
    span: Span


@record
class BoolLit:
    value: bool
    span: Span


@record
class NilLit:
    span: Span


@record
class UnitLit:
    """``()``."""

    span: Span


@record
class StrLit:
    """A string literal without interpolation (raw, triple-quoted or plain)."""

    value: str
    span: Span


@record
class InterpStr:
    """An interpolated string: ``parts`` alternate literal text and expressions."""

    parts: list[str | Expr]
    span: Span


@record
class Name:
    """A use of an identifier.  ``binding`` is filled in by name resolution."""

    name: str
    span: Span
    binding: object | None = None


@record
class Unary:
    """``op`` is one of ``-``, ``not`` (``!`` is normalised to ``not``), ``~``."""

    op: str
    operand: Expr
    span: Span
    op_span: Span


@record
class Binary:
    """A binary operator.

    ``op`` is one of ``+ - * / % ** & | ^ << >> == != < <= > >= and or``
    (``&&`` and ``||`` are normalised to ``and`` and ``or``).
    ``op_span`` covers the operator token: runtime errors point at it.
    """

    op: str
    left: Expr
    right: Expr
    span: Span
    op_span: Span


@record
class Compare:
    """A comparison chain of two or more comparisons: ``a < b < c``.

    ``ops[i]`` compares ``operands[i]`` with ``operands[i + 1]``.  A single
    comparison is a ``Binary``; the parser builds ``Compare`` only for chains.
    """

    operands: list[Expr]
    ops: list[str]
    op_spans: list[Span]
    span: Span


@record
class Range:
    """``start..end`` or ``start..=end`` (only meaningful in ``for``)."""

    start: Expr
    end: Expr
    inclusive: bool
    span: Span


@record
class Arg:
    """A call argument, optionally named (``Point(x: 1)``)."""

    name: str | None
    value: Expr
    span: Span


@record
class Call:
    """``callee(args)``; ``print x`` is parsed as ``Call(Name('print'), [x])``."""

    callee: Expr
    args: list[Arg]
    span: Span


@record
class MethodCall:
    """``receiver.method(args)``."""

    receiver: Expr
    method: str
    args: list[Arg]
    span: Span
    method_span: Span


@record
class Field:
    """``obj.name`` or a tuple index ``obj.0`` (then ``name`` is ``"0"``)."""

    obj: Expr
    name: str
    span: Span
    name_span: Span


@record
class Index:
    """``obj[index]``."""

    obj: Expr
    index: Expr
    span: Span


@record
class Cast:
    """``expr as T``."""

    expr: Expr
    target: TypeExpr
    span: Span


@record
class IfExpr:
    """``if c: a elif d: b else: e`` in expression position.

    ``branches`` holds (condition, body) pairs for ``if`` and each ``elif``;
    bodies are ``Block`` nodes (a one-line branch is a block of one statement).
    """

    branches: list[tuple[Expr, Block]]
    else_body: Block | None
    span: Span


@record
class ArrayLit:
    elems: list[Expr]
    span: Span


@record
class TupleLit:
    """``(a, b, ...)`` with at least two elements (``(a)`` is a parenthesised expr)."""

    elems: list[Expr]
    span: Span


@record
class Coalesce:
    """``opt ?? default``."""

    opt: Expr
    default: Expr
    span: Span


@record
class MatchExpr:
    """``match`` used as an expression (also used as a statement via ExprStmt)."""

    subject: Expr
    arms: list[MatchArm]
    span: Span


Expr = (
    IntLit
    | FloatLit
    | BoolLit
    | NilLit
    | UnitLit
    | StrLit
    | InterpStr
    | Name
    | Unary
    | Binary
    | Compare
    | Range
    | Call
    | MethodCall
    | Field
    | Index
    | Cast
    | IfExpr
    | ArrayLit
    | TupleLit
    | Coalesce
    | MatchExpr
)

# --------------------------------------------------------------------------
# Patterns (tier 2)


@record
class WildcardPat:
    span: Span


@record
class BindPat:
    """A bare identifier in a pattern binds the matched value."""

    name: str
    span: Span


@record
class LiteralPat:
    """An integer (possibly negative), float, bool or string literal."""

    value: IntLit | FloatLit | BoolLit | StrLit | NilLit
    span: Span


@record
class VariantPat:
    """``Enum.Variant`` or ``Enum.Variant(p, ...)``; also ``Some(p)``."""

    enum: str | None  # None for ``Some(p)``
    variant: str
    args: list[Pattern] | None  # None when written without parentheses
    span: Span


@record
class TuplePat:
    elems: list[Pattern]
    span: Span


Pattern = WildcardPat | BindPat | LiteralPat | VariantPat | TuplePat


@record
class MatchArm:
    pattern: Pattern
    guard: Expr | None
    body: Block
    span: Span


# --------------------------------------------------------------------------
# Statements


@record
class Block:
    """A sequence of statements (an indented block or a one-line body)."""

    stmts: list[Stmt]
    span: Span


@record
class ExprStmt:
    expr: Expr
    span: Span


@record
class Let:
    """``val``/``var`` binding; ``target`` is a name or a tuple pattern."""

    mutable: bool
    target: BindPat | TuplePat
    annotation: TypeExpr | None
    value: Expr
    span: Span


@record
class Assign:
    """``target = value`` or ``target op= value`` (``op`` is ``"+"`` etc. or ``None``).

    ``target`` is a ``Name``, ``Field`` or ``Index`` expression.
    """

    target: Expr
    op: str | None
    value: Expr
    span: Span
    op_span: Span


@record
class If:
    """``if``/``elif``/``else`` in statement position (may be the tail value)."""

    branches: list[tuple[Expr, Block]]
    else_body: Block | None
    span: Span


@record
class IfLet:
    """``if val x = opt: ... else: ...``."""

    name: str
    name_span: Span
    value: Expr
    then_body: Block
    else_body: Block | None
    span: Span


@record
class While:
    cond: Expr
    body: Block
    span: Span


@record
class Loop:
    body: Block
    span: Span


@record
class For:
    """``for name in iterable:`` where ``iterable`` is a ``Range`` or an array."""

    var: str
    var_span: Span
    iterable: Expr
    body: Block
    span: Span


@record
class Break:
    span: Span


@record
class Continue:
    span: Span


@record
class Pass:
    span: Span


@record
class Return:
    value: Expr | None
    span: Span


Stmt = ExprStmt | Let | Assign | If | IfLet | While | Loop | For | Break | Continue | Pass | Return

# --------------------------------------------------------------------------
# Declarations


@record
class Param:
    name: str
    annotation: TypeExpr | None
    span: Span


@record
class FnDecl:
    """``fn name(params) -> ret: body``; ``body`` is None for ``extern fn``."""

    name: str
    params: list[Param]
    ret: TypeExpr | None
    body: Block | None
    span: Span
    name_span: Span
    is_extern: bool = False


@record
class StructField:
    name: str
    annotation: TypeExpr
    span: Span


@record
class StructDecl:
    name: str
    fields: list[StructField]
    span: Span
    name_span: Span


@record
class Variant:
    name: str
    payload: list[TypeExpr]
    span: Span


@record
class EnumDecl:
    name: str
    variants: list[Variant]
    span: Span
    name_span: Span


Item = FnDecl | StructDecl | EnumDecl | Stmt


@record
class Module:
    """A whole source file: declarations and top-level statements, in order."""

    items: list[Item] = field(default_factory=list)
