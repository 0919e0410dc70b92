"""LLVM IR built directly as text: the part of ``llvmlite.ir``'s API that codegen.py uses.

Why not ``llvmlite.ir``: its builder makes a Python object per instruction
and operand, checks and re-derives types as it goes, and formats the whole
module again when it is printed; LLVM then parses that text anyway
(``llvmlite.binding.parse_assembly``).  Printing cost as much as building
(about 9 ms each for the 300-line unit of bench/programs/complex.spl, 0.3 ms
per function each at -O0 in bench/scaling.py).  Here a value is a tiny
object holding its type and its reference (``%.12``, ``@"spl.main"``,
``42``), formatted once when it is made; each instruction is formatted into
its block's list of lines when it is emitted, and ``str(module)`` only
joins lists.  The few things that change
after they are emitted keep an object until printing (phi nodes gain
incoming edges) or patch their own line (``set_metadata``).

The names and signatures follow ``llvmlite.ir`` (``IRBuilder.icmp_signed``,
``Constant(type, value)``, ``if_then`` ...), so codegen.py reads the same;
only what it needs is here, written for LLVM 15+ opaque pointers (``ptr``).
Local names are unique per function: values without a name are ``%.N``,
function arguments ``%.aN``; names that are asked for (allocas, blocks)
get a ``.N`` suffix when taken.  ``IRBuilder.if_then``/``if_else`` name
their blocks ``if``, ``else``, ``endif`` (llvmlite derives them from the
current block's name).  This module does not check types: LLVM's
parser and verifier do, on every compile.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Protocol

# ------------------------------------------------------------------ text helpers

# bytes printed as themselves inside "..." (LLVM escapes the rest as \XX)
_ESCAPE = {i: f"\\{i:02X}" for i in range(256) if not (32 <= i < 127) or i in (34, 92)}
_IDENT = re.compile(r"[-a-zA-Z$._][-a-zA-Z$._0-9]*")
_DOUBLE = struct.Struct("<d")


def _quoted(data: bytes) -> str:
    """``data`` as the inside of an LLVM string literal."""
    return data.decode("latin-1").translate(_ESCAPE)


def _name(sigil: str, name: str) -> str:
    """A global (``@``) or local (``%``) reference, quoted unless a plain identifier."""
    if _IDENT.fullmatch(name):
        return sigil + name
    return f'{sigil}"{_quoted(name.encode("utf-8"))}"'


# ------------------------------------------------------------------------- types


class Type:
    """An LLVM type; ``s`` is its spelling, which is also what equality compares."""

    __slots__ = ("s",)

    def __init__(self, s: str) -> None:
        self.s = s

    def __str__(self) -> str:
        return self.s

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.s}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Type) and other.s == self.s

    def __hash__(self) -> int:
        return hash(self.s)

    def format_constant(self, value: object) -> str:
        """The text of a constant of this type (``Constant`` calls it once)."""
        if value is None:
            return "zeroinitializer"
        raise TypeError(f"no constant of type {self.s} from {value!r}")


class _UndefinedType:
    """The value of ``Constant(ty, Undefined)``: LLVM's ``undef``."""

    __slots__ = ()


Undefined = _UndefinedType()


class IntType(Type):
    __slots__ = ("width",)

    def __init__(self, width: int) -> None:
        super().__init__(f"i{width}")
        self.width = width

    def format_constant(self, value: object) -> str:
        if value is Undefined:
            return "undef"
        if isinstance(value, bool) or self.width == 1:
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        return super().format_constant(value)


class DoubleType(Type):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("double")

    def format_constant(self, value: object) -> str:
        if value is Undefined:
            return "undef"
        if isinstance(value, float | int):
            # the exact bits, as LLVM's hexadecimal double syntax
            return f"0x{int.from_bytes(_DOUBLE.pack(float(value)), 'little'):016X}"
        return super().format_constant(value)


class VoidType(Type):
    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("void")


class PointerType(Type):
    """The opaque pointer ``ptr`` (address space 0)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__("ptr")

    def format_constant(self, value: object) -> str:
        if value is None:
            return "null"
        if value is Undefined:
            return "undef"
        return super().format_constant(value)


def _typed(v: Value) -> str:
    return f"{v.type.s} {v.ref}"


class LiteralStructType(Type):
    __slots__ = ("elements",)

    def __init__(self, elements: Sequence[Type]) -> None:
        super().__init__("{" + ", ".join(e.s for e in elements) + "}")
        self.elements = tuple(elements)

    def format_constant(self, value: object) -> str:
        if value is Undefined:
            return "undef"
        if isinstance(value, list | tuple):
            return "{" + ", ".join(_typed(v) for v in value) + "}"
        return super().format_constant(value)


class ArrayType(Type):
    __slots__ = ("count", "element")

    def __init__(self, element: Type, count: int) -> None:
        super().__init__(f"[{count} x {element.s}]")
        self.element = element
        self.count = count

    def format_constant(self, value: object) -> str:
        if value is Undefined:
            return "undef"
        if isinstance(value, bytes | bytearray) and self.element.s == "i8":
            return f'c"{_quoted(bytes(value))}"'
        if isinstance(value, list | tuple):
            return "[" + ", ".join(_typed(v) for v in value) + "]"
        return super().format_constant(value)


class FunctionType(Type):
    __slots__ = ("args", "return_type")

    def __init__(self, return_type: Type, args: Sequence[Type]) -> None:
        super().__init__(f"{return_type.s} ({', '.join(a.s for a in args)})")
        self.return_type = return_type
        self.args = tuple(args)


_I1 = IntType(1)
_I32 = IntType(32)
_PTR = PointerType()
_VOID = VoidType()

# ------------------------------------------------------------------------ values


class Value:
    """A value: its type and how instructions refer to it (``%.3``, ``@g``, ``7``)."""

    __slots__ = ("ref", "type")

    def __init__(self, type: Type, ref: str) -> None:
        self.type = type
        self.ref = ref

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type.s} {self.ref}>"


class Constant(Value):
    """``Constant(ty, value)``: ints, floats, ``None`` (null / zero), ``Undefined``,
    a ``bytearray`` for ``[N x i8]``, or a list of values for arrays and structs."""

    __slots__ = ()

    def __init__(self, typ: Type, value: object) -> None:
        self.type = typ
        self.ref = typ.format_constant(value)


class Argument(Value):
    __slots__ = ()


class AllocaInstr(Value):
    """A stack slot; ``load``/``gep`` without an explicit type use ``allocated_type``."""

    __slots__ = ("allocated_type",)

    def __init__(self, ref: str, allocated_type: Type) -> None:
        self.type = _PTR
        self.ref = ref
        self.allocated_type = allocated_type


class MDValue:
    """A numbered metadata node (``!N``), see ``Module.add_metadata``."""

    __slots__ = ("ref",)

    def __init__(self, ref: str) -> None:
        self.ref = ref


class MetaDataString:
    __slots__ = ("ref",)

    def __init__(self, module: Module, s: str) -> None:
        self.ref = f'!"{_quoted(s.encode("utf-8"))}"'


class Instruction(Value):
    """An emitted instruction that may still get metadata (loads, stores, branches)."""

    __slots__ = ("_index", "_lines")

    def __init__(self, type: Type, ref: str, lines: list[str]) -> None:
        self.type = type
        self.ref = ref
        self._lines = lines
        self._index = len(lines)

    def set_metadata(self, name: str, node: MDValue) -> None:
        self._lines[self._index] += f", !{name} {node.ref}"


class PhiInstr(Value):
    """A phi node; formatted when the module is printed, after ``add_incoming``."""

    __slots__ = ("incoming",)

    def __init__(self, type: Type, ref: str) -> None:
        super().__init__(type, ref)
        self.incoming: list[tuple[Value, Block]] = []

    def add_incoming(self, value: Value, block: Block) -> None:
        self.incoming.append((value, block))

    def text(self) -> str:
        edges = ", ".join(f"[{v.ref}, {b.ref}]" for v, b in self.incoming)
        return f"  {self.ref} = phi {self.type.s} {edges}"


# ---------------------------------------------------------------- module level


class GlobalValue(Value):
    __slots__ = ("linkage", "module", "name")

    def __init__(self, module: Module, name: str) -> None:
        super().__init__(_PTR, _name("@", name))
        self.module = module
        self.name = name
        self.linkage = ""
        module._add(self)

    def text(self) -> str:
        raise NotImplementedError


class GlobalVariable(GlobalValue):
    """``@name = [linkage] [unnamed_addr] global|constant TYPE [INIT][, align N]``."""

    __slots__ = ("align", "global_constant", "initializer", "unnamed_addr", "value_type")

    def __init__(self, module: Module, typ: Type, name: str) -> None:
        super().__init__(module, name)
        self.value_type = typ
        self.initializer: Value | None = None
        self.global_constant = False
        self.unnamed_addr = False
        self.align: int | None = None

    def text(self) -> str:
        parts = [self.ref, "="]
        if self.initializer is None:
            parts.append(self.linkage or "external")
        elif self.linkage:
            parts.append(self.linkage)
        if self.unnamed_addr:
            parts.append("unnamed_addr")
        parts.append("constant" if self.global_constant else "global")
        parts.append(self.value_type.s)
        if self.initializer is not None:
            parts.append(self.initializer.ref)
        line = " ".join(parts)
        return line if self.align is None else f"{line}, align {self.align}"


class _Attributes:
    """Function attributes (``noreturn``, ``cold`` ...), in the order added."""

    __slots__ = ("names",)

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)


class Function(GlobalValue):
    """A function: a declaration until it has blocks."""

    __slots__ = ("_ntemp", "_used", "args", "attributes", "blocks", "function_type")

    def __init__(self, module: Module, ftype: FunctionType, name: str) -> None:
        super().__init__(module, name)
        self.function_type = ftype
        self.args = tuple(Argument(t, f"%.a{i}") for i, t in enumerate(ftype.args))
        self.attributes = _Attributes()
        self.blocks: list[Block] = []
        self._ntemp = 0
        self._used: dict[str, int] = {}

    @property
    def entry_basic_block(self) -> Block:
        return self.blocks[0]

    def append_basic_block(self, name: str = "") -> Block:
        blk = Block(self, self.local(name))
        self.blocks.append(blk)
        return blk

    def temp(self) -> str:
        """A fresh unnamed local (``%.N``)."""
        self._ntemp += 1
        return f"%.{self._ntemp}"

    def local(self, name: str) -> str:
        """A fresh local reference named after ``name`` (``name``, ``name.1`` ...)."""
        if not name:
            return self.temp()
        if name[0] == ".":  # ".N" and ".aN" are ours
            name = "_" + name
        used = self._used
        if name in used:
            n = used[name]
            while True:
                n += 1
                cand = f"{name}.{n}"
                if cand not in used:
                    break
            used[name] = n
            name = cand
        used[name] = 0
        return _name("%", name)

    def text(self) -> str:
        ft = self.function_type
        head = "define" if self.blocks else "declare"
        if self.linkage:
            head += " " + self.linkage
        if self.blocks:
            params = ", ".join(f"{a.type.s} {a.ref}" for a in self.args)
        else:
            params = ", ".join(t.s for t in ft.args)
        line = f"{head} {ft.return_type.s} {self.ref}({params})"
        if self.attributes.names:
            line += " " + " ".join(self.attributes.names)
        if not self.blocks:
            return line
        out = [line + " {"]
        for blk in self.blocks:
            out.append(blk.ref[1:] + ":")
            out.extend(p.text() for p in blk.phis)
            for seg in blk.head:
                out.extend(seg)
            out.extend(blk.lines)
        out.append("}")
        return "\n".join(out)


class Block:
    """A basic block: its label and its instructions' lines (phis kept apart, see PhiInstr)."""

    __slots__ = ("function", "head", "is_terminated", "lines", "phis", "ref")

    def __init__(self, function: Function, ref: str) -> None:
        self.function = function
        self.ref = ref  # "%label", as branches name it
        self.lines: list[str] = []
        self.head: list[list[str]] = []  # inserted with IRBuilder.position_at_start
        self.phis: list[PhiInstr] = []
        self.is_terminated = False


class Module:
    """A module; ``str(module)`` is its LLVM assembly."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.triple = ""
        self.data_layout = ""
        self._globals: list[GlobalValue] = []
        self._names: set[str] = set()
        self._metadata: dict[str, MDValue] = {}
        self._weights: dict[bool, MDValue] = {}

    def _add(self, g: GlobalValue) -> None:
        if g.name in self._names:
            raise KeyError(f"duplicate global name {g.name!r}")
        self._names.add(g.name)
        self._globals.append(g)

    def add_metadata(self, operands: Iterable[Value | MDValue | MetaDataString]) -> MDValue:
        """A metadata node ``!{...}`` of the operands; equal nodes are shared."""
        body = ", ".join(_typed(op) if isinstance(op, Value) else op.ref for op in operands)
        node = self._metadata.get(body)
        if node is None:
            node = self._metadata[body] = MDValue(f"!{len(self._metadata)}")
        return node

    def branch_weights(self, likely: bool) -> MDValue:
        """The ``!prof`` node of a branch whose first target is (un)likely."""
        node = self._weights.get(likely)
        if node is None:
            w = (99, 1) if likely else (1, 99)
            node = self._weights[likely] = self.add_metadata(
                [MetaDataString(self, "branch_weights"), Constant(_I32, w[0]), Constant(_I32, w[1])]
            )
        return node

    def __str__(self) -> str:
        out = [f"; ModuleID = {self.name!r}"]  # a comment: repr has no line break
        if self.triple:
            out.append(f'target triple = "{_quoted(self.triple.encode())}"')
        if self.data_layout:
            out.append(f'target datalayout = "{_quoted(self.data_layout.encode())}"')
        out.append("")
        out.extend(g.text() for g in self._globals)
        out.append("")
        out.extend(f"{node.ref} = !{{{body}}}" for body, node in self._metadata.items())
        out.append("")
        return "\n".join(out)


# ----------------------------------------------------------------------- builder

_SIGNED = {"==": "eq", "!=": "ne", "<": "slt", "<=": "sle", ">": "sgt", ">=": "sge"}
_UNSIGNED = {"==": "eq", "!=": "ne", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge"}
_ORDERED = {"==": "oeq", "!=": "one", "<": "olt", "<=": "ole", ">": "ogt", ">=": "oge"}
_UNORDERED = {"==": "ueq", "!=": "une", "<": "ult", "<=": "ule", ">": "ugt", ">=": "uge"}


class Callee(Protocol):
    """What ``IRBuilder.call`` calls: a ``Function`` or a pointer of known function type."""

    @property
    def ref(self) -> str: ...

    @property
    def function_type(self) -> FunctionType: ...


def _pointee(ptr: Value) -> Type:
    if isinstance(ptr, AllocaInstr):
        return ptr.allocated_type
    if isinstance(ptr, GlobalVariable):
        return ptr.value_type
    raise TypeError(f"the type behind {ptr!r} must be given")


class IRBuilder:
    """Appends instructions, formatted at once, to the end (or start) of a block."""

    __slots__ = ("_fn", "_lines", "block")

    def __init__(self, block: Block | None = None) -> None:
        if block is not None:
            self.position_at_end(block)

    def position_at_end(self, block: Block) -> None:
        self.block = block
        self._lines = block.lines
        self._fn = block.function

    def position_at_start(self, block: Block) -> None:
        """Insert before the block's instructions (after its phis) from now on."""
        self.block = block
        self._lines = []
        block.head.insert(0, self._lines)  # before what an earlier builder put there
        self._fn = block.function

    def append_basic_block(self, name: str = "") -> Block:
        return self._fn.append_basic_block(name)

    # ------------------------------------------------------------ arithmetic

    def _binop(self, op: str, a: Value, b: Value) -> Value:
        fn = self._fn
        fn._ntemp += 1
        name = f"%.{fn._ntemp}"
        self._lines.append(f"  {name} = {op} {a.type.s} {a.ref}, {b.ref}")
        return Value(a.type, name)

    def add(self, a: Value, b: Value) -> Value:
        return self._binop("add", a, b)

    def sub(self, a: Value, b: Value) -> Value:
        return self._binop("sub", a, b)

    def mul(self, a: Value, b: Value) -> Value:
        return self._binop("mul", a, b)

    def sdiv(self, a: Value, b: Value) -> Value:
        return self._binop("sdiv", a, b)

    def srem(self, a: Value, b: Value) -> Value:
        return self._binop("srem", a, b)

    def and_(self, a: Value, b: Value) -> Value:
        return self._binop("and", a, b)

    def or_(self, a: Value, b: Value) -> Value:
        return self._binop("or", a, b)

    def xor(self, a: Value, b: Value) -> Value:
        return self._binop("xor", a, b)

    def shl(self, a: Value, b: Value) -> Value:
        return self._binop("shl", a, b)

    def lshr(self, a: Value, b: Value) -> Value:
        return self._binop("lshr", a, b)

    def ashr(self, a: Value, b: Value) -> Value:
        return self._binop("ashr", a, b)

    def fadd(self, a: Value, b: Value) -> Value:
        return self._binop("fadd", a, b)

    def fsub(self, a: Value, b: Value) -> Value:
        return self._binop("fsub", a, b)

    def fmul(self, a: Value, b: Value) -> Value:
        return self._binop("fmul", a, b)

    def fdiv(self, a: Value, b: Value) -> Value:
        return self._binop("fdiv", a, b)

    def frem(self, a: Value, b: Value) -> Value:
        return self._binop("frem", a, b)

    def not_(self, v: Value) -> Value:
        """Bitwise not (``xor`` with all ones)."""
        return self._binop("xor", v, Constant(v.type, -1))

    def fneg(self, v: Value) -> Value:
        name = self._fn.temp()
        self._lines.append(f"  {name} = fneg {v.type.s} {v.ref}")
        return Value(v.type, name)

    def _cmp(self, op: str, pred: str, a: Value, b: Value) -> Value:
        fn = self._fn
        fn._ntemp += 1
        name = f"%.{fn._ntemp}"
        self._lines.append(f"  {name} = {op} {pred} {a.type.s} {a.ref}, {b.ref}")
        return Value(_I1, name)

    def icmp_signed(self, cmpop: str, a: Value, b: Value) -> Value:
        return self._cmp("icmp", _SIGNED[cmpop], a, b)

    def icmp_unsigned(self, cmpop: str, a: Value, b: Value) -> Value:
        return self._cmp("icmp", _UNSIGNED[cmpop], a, b)

    def fcmp_ordered(self, cmpop: str, a: Value, b: Value) -> Value:
        return self._cmp("fcmp", _ORDERED[cmpop], a, b)

    def fcmp_unordered(self, cmpop: str, a: Value, b: Value) -> Value:
        return self._cmp("fcmp", _UNORDERED[cmpop], a, b)

    def select(self, cond: Value, a: Value, b: Value) -> Value:
        name = self._fn.temp()
        self._lines.append(
            f"  {name} = select {cond.type.s} {cond.ref}, {a.type.s} {a.ref}, {b.type.s} {b.ref}"
        )
        return Value(a.type, name)

    # ----------------------------------------------------------------- casts

    def _cast(self, op: str, v: Value, typ: Type) -> Value:
        fn = self._fn
        fn._ntemp += 1
        name = f"%.{fn._ntemp}"
        self._lines.append(f"  {name} = {op} {v.type.s} {v.ref} to {typ.s}")
        return Value(typ, name)

    def trunc(self, v: Value, typ: Type) -> Value:
        return self._cast("trunc", v, typ)

    def zext(self, v: Value, typ: Type) -> Value:
        return self._cast("zext", v, typ)

    def sitofp(self, v: Value, typ: Type) -> Value:
        return self._cast("sitofp", v, typ)

    def bitcast(self, v: Value, typ: Type) -> Value:
        return self._cast("bitcast", v, typ)

    def inttoptr(self, v: Value, typ: Type) -> Value:
        return self._cast("inttoptr", v, typ)

    def ptrtoint(self, v: Value, typ: Type) -> Value:
        return self._cast("ptrtoint", v, typ)

    # ------------------------------------------------------------ aggregates

    def extract_value(self, agg: Value, idx: int) -> Value:
        aty = agg.type
        ety = aty.elements[idx] if isinstance(aty, LiteralStructType) else _element(aty)
        name = self._fn.temp()
        self._lines.append(f"  {name} = extractvalue {aty.s} {agg.ref}, {idx}")
        return Value(ety, name)

    def insert_value(self, agg: Value, v: Value, idx: int) -> Value:
        name = self._fn.temp()
        self._lines.append(
            f"  {name} = insertvalue {agg.type.s} {agg.ref}, {v.type.s} {v.ref}, {idx}"
        )
        return Value(agg.type, name)

    # ---------------------------------------------------------------- memory

    def alloca(self, typ: Type, name: str = "") -> AllocaInstr:
        ref = self._fn.local(name)
        self._lines.append(f"  {ref} = alloca {typ.s}")
        return AllocaInstr(ref, typ)

    def load(self, ptr: Value, typ: Type | None = None, align: int | None = None) -> Instruction:
        if typ is None:
            typ = ptr.allocated_type if type(ptr) is AllocaInstr else _pointee(ptr)
        fn = self._fn
        fn._ntemp += 1
        name = f"%.{fn._ntemp}"
        lines = self._lines
        ins = Instruction(typ, name, lines)
        if align is None:
            lines.append(f"  {name} = load {typ.s}, ptr {ptr.ref}")
        else:
            lines.append(f"  {name} = load {typ.s}, ptr {ptr.ref}, align {align}")
        return ins

    def store(self, value: Value, ptr: Value, align: int | None = None) -> Instruction:
        lines = self._lines
        ins = Instruction(_VOID, "", lines)
        if align is None:
            lines.append(f"  store {value.type.s} {value.ref}, ptr {ptr.ref}")
        else:
            lines.append(f"  store {value.type.s} {value.ref}, ptr {ptr.ref}, align {align}")
        return ins

    def gep(
        self,
        ptr: Value,
        indices: Sequence[Value],
        inbounds: bool = False,
        source_etype: Type | None = None,
    ) -> Value:
        if source_etype is None:
            source_etype = _pointee(ptr)
        name = self._fn.temp()
        op = "getelementptr inbounds" if inbounds else "getelementptr"
        idx = "".join(f", {i.type.s} {i.ref}" for i in indices)
        self._lines.append(f"  {name} = {op} {source_etype.s}, ptr {ptr.ref}{idx}")
        return Value(_PTR, name)

    # ------------------------------------------------------------------ calls

    def call(self, fn: Callee, args: Sequence[Value], tail: str | bool = False) -> Value:
        """``call``; ``tail`` is False, True (``tail``), ``"musttail"`` or ``"notail"``."""
        ret = fn.function_type.return_type
        prefix = "" if not tail else "tail " if tail is True else f"{tail} "
        text = f"{prefix}call {ret.s} {fn.ref}({', '.join([f'{a.type.s} {a.ref}' for a in args])})"
        if ret.s == "void":
            self._lines.append("  " + text)
            return Value(ret, "")
        f = self._fn
        f._ntemp += 1
        name = f"%.{f._ntemp}"
        self._lines.append(f"  {name} = {text}")
        return Value(ret, name)

    # ------------------------------------------------------------ control flow

    def phi(self, typ: Type) -> PhiInstr:
        phi = PhiInstr(typ, self._fn.temp())
        self.block.phis.append(phi)
        return phi

    def _terminate(self, text: str) -> Instruction:
        lines = self._lines
        ins = Instruction(_VOID, "", lines)
        lines.append(text)
        self.block.is_terminated = True
        return ins

    def branch(self, target: Block) -> Instruction:
        return self._terminate(f"  br label {target.ref}")

    def cbranch(self, cond: Value, truebr: Block, falsebr: Block) -> Instruction:
        return self._terminate(
            f"  br {cond.type.s} {cond.ref}, label {truebr.ref}, label {falsebr.ref}"
        )

    def ret(self, v: Value) -> Instruction:
        return self._terminate(f"  ret {v.type.s} {v.ref}")

    def ret_void(self) -> Instruction:
        return self._terminate("  ret void")

    def unreachable(self) -> Instruction:
        return self._terminate("  unreachable")

    def _weighted_branch(self, cond: Value, a: Block, b: Block, likely: bool | None) -> None:
        br = self.cbranch(cond, a, b)
        if likely is not None:
            br.set_metadata("prof", self._fn.module.branch_weights(likely))

    def if_then(self, pred: Value, likely: bool | None = None) -> _IfThen:
        """``with b.if_then(c): ...`` emits the body in a block run only when ``c``.

        Afterwards the builder is at the end of the join block; a body that
        does not end in a terminator falls through to it.
        """
        then = self.append_basic_block("if")
        join = self.append_basic_block("endif")
        self._weighted_branch(pred, then, join, likely)
        return _IfThen(self, then, join)

    def if_else(self, pred: Value, likely: bool | None = None) -> _IfElse:
        """``with b.if_else(c) as (then, otherwise): with then: ... with otherwise: ...``"""
        then = self.append_basic_block("if")
        other = self.append_basic_block("else")
        join = self.append_basic_block("endif")
        self._weighted_branch(pred, then, other, likely)
        return _IfElse(self, _IfThen(self, then, join), _IfThen(self, other, join), join)


def _element(t: Type) -> Type:
    if isinstance(t, ArrayType):
        return t.element
    raise TypeError(f"{t.s} is not an aggregate")


class _IfThen:
    """Emits into ``body``, then branches to ``join`` (unless terminated) and stays there."""

    __slots__ = ("b", "body", "join")

    def __init__(self, b: IRBuilder, body: Block, join: Block) -> None:
        self.b, self.body, self.join = b, body, join

    def __enter__(self) -> Block:
        self.b.position_at_end(self.body)
        return self.join

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            b = self.b
            if not b.block.is_terminated:
                b.branch(self.join)
            b.position_at_end(self.join)


class _IfElse:
    __slots__ = ("b", "join", "other", "then")

    def __init__(self, b: IRBuilder, then: _IfThen, other: _IfThen, join: Block) -> None:
        self.b, self.then, self.other, self.join = b, then, other, join

    def __enter__(self) -> tuple[_IfThen, _IfThen]:
        return self.then, self.other

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            self.b.position_at_end(self.join)
