"""MIR: the mid-level IR that every backend consumes.

MIR is a control-flow graph of basic blocks over typed *registers*, in the
style of Rust's MIR rather than SSA: a register may be assigned more than once
(source variables map to one register each), which keeps lowering free of phi
nodes and maps directly onto LLVM allocas (promoted by mem2reg), WebAssembly
locals and interpreter slots.  Temporaries produced by lowering are assigned
exactly once, and the optimisation passes exploit that.

Invariants (checked by ``simple_jit.mir.verify``):

* every block ends in exactly one terminator (``Block.term``), and no
  terminator appears inside ``Block.instrs``;
* every operand is a ``Reg`` of the same function or a ``Const``;
* operand and destination types match the opcode's signature in ``OPS``;
* every instruction that can fail at run time (``OpInfo.can_fail``) carries a
  ``Loc``, so every backend can report ``FILE:LINE:COL: runtime error``;
* block 0 is the entry; block ids are the blocks' indices in ``Function.blocks``.

Memory management is explicit: ``incref``/``decref`` operate on managed
values (texts, arrays, aggregates holding them).  Tier-2 aggregate operations
are part of the instruction set from the start, so no backend has to grow a
new kind of instruction later.
"""

from __future__ import annotations

from simple_jit._record import record
from simple_jit.diagnostics import Loc
from simple_jit.types import EnumDef, EnumT, OptionT, StructDef, StructT, TupleT, Type


class Reg:
    """A virtual register of one function.  Printed as ``%N``."""

    __slots__ = ("id", "name", "ty")

    def __init__(self, id: int, ty: Type, name: str | None = None) -> None:
        self.id = id
        self.ty = ty
        self.name = name  # source-level name, for readability only

    def __repr__(self) -> str:
        return f"%{self.id}"


class Const:
    """An immediate operand.

    ``value`` is an ``int`` (i64), ``float`` (f64), ``bool``, ``str`` (text),
    or ``None`` (unit, or ``nil`` of an option type).
    """

    __slots__ = ("ty", "value")

    def __init__(self, value: int | float | bool | str | None, ty: Type) -> None:
        self.value = value
        self.ty = ty

    def __repr__(self) -> str:
        return f"Const({self.value!r}: {self.ty})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Const)
            and self.ty == other.ty
            and type(self.value) is type(other.value)
            and (self.value == other.value or self.value != self.value)  # NaN == NaN here
        )

    def __hash__(self) -> int:
        return hash((self.ty, type(self.value), repr(self.value)))


Operand = Reg | Const

# Extra, op-specific data of an instruction:
#   call        -> callee function name (str)
#   callext     -> extern symbol name (str)
#   gload/gstore-> global name (str)
#   array_new   -> element type (Type)
#   opt_none    -> option type (Type)
#   struct_new  -> struct name (str)
#   enum_new    -> "Enum.Variant" (str)
#   field_get / field_set / tuple_get -> field index (int)
#   enum_field  -> (variant index, field index) as "V.I" (str)
Extra = str | int | Type | None


class Instr:
    """One non-terminator instruction: ``dst = op args`` with optional extra data."""

    __slots__ = ("args", "dst", "extra", "loc", "op")

    def __init__(
        self,
        op: str,
        dst: Reg | None,
        args: list[Operand],
        extra: Extra = None,
        loc: Loc | None = None,
    ) -> None:
        self.op = op
        self.dst = dst
        self.args = args
        self.extra = extra
        self.loc = loc

    def __repr__(self) -> str:
        return f"Instr({self.op}, {self.dst!r}, {self.args!r}, {self.extra!r})"


class Term:
    """A block terminator.

    * ``jump``: ``targets == [b]``, no args;
    * ``br``: ``args == [cond]``, ``targets == [then, else]``;
    * ``ret``: ``args == []`` (unit) or ``[value]``;
    * ``unreachable``: no args, no targets.
    """

    __slots__ = ("args", "loc", "op", "targets")

    def __init__(
        self, op: str, args: list[Operand], targets: list[int], loc: Loc | None = None
    ) -> None:
        self.op = op
        self.args = args
        self.targets = targets
        self.loc = loc

    def __repr__(self) -> str:
        return f"Term({self.op}, {self.args!r}, {self.targets!r})"


TERMINATORS = frozenset({"jump", "br", "ret", "unreachable"})


class Block:
    __slots__ = ("id", "instrs", "term")

    def __init__(
        self, id: int, instrs: list[Instr] | None = None, term: Term | None = None
    ) -> None:
        self.id = id
        self.instrs: list[Instr] = instrs if instrs is not None else []
        self.term: Term = term if term is not None else Term("unreachable", [], [])


class Function:
    """A MIR function: parameters are the first registers, block 0 is the entry."""

    __slots__ = ("blocks", "loc", "name", "params", "regs", "ret")

    def __init__(self, name: str, params: list[Reg], ret: Type, loc: Loc | None = None) -> None:
        self.name = name
        self.params = params
        self.ret = ret
        self.regs: list[Reg] = list(params)
        self.blocks: list[Block] = []
        self.loc = loc

    def new_reg(self, ty: Type, name: str | None = None) -> Reg:
        reg = Reg(len(self.regs), ty, name)
        self.regs.append(reg)
        return reg

    def new_block(self) -> Block:
        block = Block(len(self.blocks))
        self.blocks.append(block)
        return block


@record
class Global:
    name: str
    ty: Type


@record
class Extern:
    name: str
    params: list[Type]
    ret: Type


class Module:
    """A compiled unit: functions, globals and type declarations.

    ``source_name`` is the FILE of ``FILE:LINE:COL`` in runtime errors.
    ``INIT`` runs the top-level statements; ``main`` (if present) runs after.
    """

    INIT = "$init"

    __slots__ = ("enums", "externs", "functions", "globals", "imports", "source_name", "structs")

    def __init__(self, source_name: str = "<source>") -> None:
        self.source_name = source_name
        self.functions: dict[str, Function] = {}
        self.globals: dict[str, Global] = {}
        self.externs: dict[str, Extern] = {}
        # functions of earlier units of an execution manager, called with `call`
        self.imports: dict[str, Extern] = {}
        self.structs: dict[str, StructDef] = {}
        self.enums: dict[str, EnumDef] = {}

    def add(self, fn: Function) -> Function:
        self.functions[fn.name] = fn
        return fn

    def record_shape(self, ins: Instr) -> tuple[Type, int] | None:
        """The object type and variant index that ``enum_new``, ``struct_new``,
        ``tuple_new`` or ``opt_some`` builds (None: its enum is not declared)."""
        if ins.op == "enum_new":
            assert isinstance(ins.extra, str)
            ename, vname = ins.extra.split(".", 1)
            edef = self.enums.get(ename)
            return None if edef is None else (EnumT(ename), edef.variant_index(vname))
        if ins.op == "struct_new":
            assert isinstance(ins.extra, str)
            return StructT(ins.extra), 0
        if ins.op == "tuple_new":
            return TupleT(tuple(a.ty for a in ins.args)), 0
        return OptionT(ins.args[0].ty), 0  # opt_some


# --------------------------------------------------------------------------
# The instruction set


@record(frozen=True)
class OpInfo:
    """What the verifier, the passes and the backends know about an opcode.

    ``sig`` gives operand type names and the result type name; ``"*"`` means
    "checked by op-specific rules" (aggregates, calls).  ``pure`` ops may be
    removed when their result is unused and folded when their operands are
    constant; ``can_fail`` ops carry a ``Loc``.
    """

    name: str
    args: tuple[str, ...] | None  # None: variadic / op-specific
    result: str | None  # None: no destination
    pure: bool = True
    can_fail: bool = False


def _ops(*infos: OpInfo) -> dict[str, OpInfo]:
    return {i.name: i for i in infos}


OPS: dict[str, OpInfo] = _ops(
    OpInfo("copy", ("*",), "*"),
    # i64 arithmetic: wrapping two's complement; idiv/irem/ipow check at run time
    OpInfo("iadd", ("i64", "i64"), "i64"),
    OpInfo("isub", ("i64", "i64"), "i64"),
    OpInfo("imul", ("i64", "i64"), "i64"),
    OpInfo("idiv", ("i64", "i64"), "i64", can_fail=True),
    OpInfo("irem", ("i64", "i64"), "i64", can_fail=True),
    OpInfo("ipow", ("i64", "i64"), "i64", can_fail=True),
    OpInfo("iand", ("i64", "i64"), "i64"),
    OpInfo("ior", ("i64", "i64"), "i64"),
    OpInfo("ixor", ("i64", "i64"), "i64"),
    OpInfo("ishl", ("i64", "i64"), "i64"),  # count taken modulo 64
    OpInfo("ishr", ("i64", "i64"), "i64"),  # arithmetic, count modulo 64
    OpInfo("ineg", ("i64",), "i64"),
    OpInfo("inot", ("i64",), "i64"),
    OpInfo("iabs", ("i64",), "i64"),  # wraps: abs(i64::MIN) == i64::MIN
    OpInfo("imin", ("i64", "i64"), "i64"),
    OpInfo("imax", ("i64", "i64"), "i64"),
    # f64 arithmetic: IEEE 754, never fails
    OpInfo("fadd", ("f64", "f64"), "f64"),
    OpInfo("fsub", ("f64", "f64"), "f64"),
    OpInfo("fmul", ("f64", "f64"), "f64"),
    OpInfo("fdiv", ("f64", "f64"), "f64"),
    OpInfo("frem", ("f64", "f64"), "f64"),  # C fmod: sign of the dividend
    OpInfo("fpow", ("f64", "f64"), "f64"),  # C pow
    OpInfo("fneg", ("f64",), "f64"),
    OpInfo("fabs", ("f64",), "f64"),
    OpInfo("fsqrt", ("f64",), "f64"),
    OpInfo("fmin", ("f64", "f64"), "f64"),  # a < b ? a : b  (NaN: b)
    OpInfo("fmax", ("f64", "f64"), "f64"),  # a > b ? a : b  (NaN: b)
    # comparisons
    OpInfo("ieq", ("i64", "i64"), "bool"),
    OpInfo("ine", ("i64", "i64"), "bool"),
    OpInfo("ilt", ("i64", "i64"), "bool"),
    OpInfo("ile", ("i64", "i64"), "bool"),
    OpInfo("igt", ("i64", "i64"), "bool"),
    OpInfo("ige", ("i64", "i64"), "bool"),
    OpInfo("feq", ("f64", "f64"), "bool"),
    OpInfo("fne", ("f64", "f64"), "bool"),  # true when either is NaN
    OpInfo("flt", ("f64", "f64"), "bool"),
    OpInfo("fle", ("f64", "f64"), "bool"),
    OpInfo("fgt", ("f64", "f64"), "bool"),
    OpInfo("fge", ("f64", "f64"), "bool"),
    OpInfo("beq", ("bool", "bool"), "bool"),
    OpInfo("bne", ("bool", "bool"), "bool"),
    OpInfo("teq", ("text", "text"), "bool"),
    OpInfo("tne", ("text", "text"), "bool"),
    OpInfo("tlt", ("text", "text"), "bool"),  # byte-wise lexicographic (UTF-8)
    OpInfo("tle", ("text", "text"), "bool"),
    OpInfo("tgt", ("text", "text"), "bool"),
    OpInfo("tge", ("text", "text"), "bool"),
    OpInfo("not", ("bool",), "bool"),
    # conversions
    OpInfo("i2f", ("i64",), "f64"),
    OpInfo("f2i", ("f64",), "i64"),  # truncate toward zero, saturate, NaN -> 0
    OpInfo("b2i", ("bool",), "i64"),
    OpInfo("select", ("bool", "*", "*"), "*"),
    # text (runtime library)
    OpInfo("tconcat", ("text", "text"), "text"),
    OpInfo("tlen", ("text",), "i64"),  # characters, not bytes
    OpInfo("tcontains", ("text", "text"), "bool"),
    OpInfo("tstarts", ("text", "text"), "bool"),
    OpInfo("tends", ("text", "text"), "bool"),
    OpInfo("ttrim", ("text",), "text"),  # ASCII whitespace
    OpInfo("tupper", ("text",), "text"),  # ASCII letters only
    OpInfo("tlower", ("text",), "text"),  # ASCII letters only
    OpInfo("trepeat", ("text", "i64"), "text"),  # n <= 0 gives ""
    OpInfo("totext", ("*",), "text"),  # display form of any value
    # effects
    OpInfo("print", ("*",), None, pure=False),  # display form + newline to stdout
    OpInfo("call", None, "*", pure=False, can_fail=True),  # extra: callee; may overflow the stack
    OpInfo("callext", None, "*", pure=False),  # extra: extern symbol
    OpInfo("gload", (), "*", pure=False),  # extra: global name
    OpInfo("gstore", ("*",), None, pure=False),  # extra: global name
    # memory management (explicit; inserted by a pass)
    OpInfo("incref", ("*",), None, pure=False),
    OpInfo("decref", ("*",), None, pure=False),
    # tier 2 aggregates
    OpInfo("array_new", None, "*"),  # extra: element type; args: initial elements
    OpInfo("array_get", ("*", "i64"), "*", pure=False, can_fail=True),
    OpInfo("array_set", ("*", "i64", "*"), None, pure=False, can_fail=True),
    OpInfo("array_len", ("*",), "i64", pure=False),
    OpInfo("array_push", ("*", "*"), None, pure=False),
    OpInfo("array_pop", ("*",), "*", pure=False, can_fail=True),
    OpInfo("struct_new", None, "*"),  # extra: struct name; args: fields in order
    OpInfo("field_get", ("*",), "*"),  # extra: field index
    OpInfo("field_set", ("*", "*"), "*"),  # extra: field index; returns the updated copy
    OpInfo("tuple_new", None, "*"),
    OpInfo("tuple_get", ("*",), "*"),  # extra: element index
    OpInfo("enum_new", None, "*"),  # extra: "Enum.Variant"; args: payload
    OpInfo("enum_tag", ("*",), "i64"),
    OpInfo("enum_field", ("*",), "*"),  # extra: "V.I" (variant index, payload index)
    OpInfo("opt_some", ("*",), "*"),
    OpInfo("opt_none", (), "*"),  # extra: the option type
    OpInfo("opt_is_some", ("*",), "bool"),
    OpInfo("opt_get", ("*",), "*"),
)

# Runtime error messages, shared by every backend (tests rely on the words).
MSG_DIV_ZERO = "division by zero"
MSG_NEG_EXP = "negative exponent"
MSG_INDEX = "index out of range"
MSG_POP_EMPTY = "pop from empty array"
MSG_STACK = "stack overflow"
