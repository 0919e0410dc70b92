"""The semantic types shared by HIR and MIR.

Types are immutable and interned (hash-consed, ``@record(interned=True)``):
building a type equal in structure to an existing one returns that one, so
``ArrayT(I64) == ArrayT(I64)`` holds as before but compares identities, in C,
as do ``t in (I64, F64)`` and ``t is I64``; this comparing is a large share
of the compiler's work.  Their ``str`` is the Simple spelling, which is also the MIR
text syntax: ``i64``, ``f64``, ``bool``, ``text``, ``()``, ``[i64]``,
``(i64, text)``, ``i64?``, ``Point`` and ``Shape``.

Scalars (``i64``, ``f64``, ``bool``, ``()``) are values.  ``text`` and arrays
are heap references; structs and tuples are values made of their fields;
enums and options are values that may hold references.  ``is_managed`` says
whether a value of the type owns heap memory that the memory-management
operations of MIR must account for.
"""

from __future__ import annotations

from collections.abc import Mapping

from simple_jit._record import record


class Type:
    """Base class of all types."""

    __slots__ = ()

    @property
    def is_managed(self) -> bool:
        return False

    @property
    def is_numeric(self) -> bool:
        return False


@record(frozen=True, interned=True)
class Prim(Type):
    """A primitive type: ``i64``, ``f64``, ``bool``, ``text`` or ``()``."""

    name: str

    def __str__(self) -> str:
        return self.name

    @property
    def is_managed(self) -> bool:
        return self.name == "text"

    @property
    def is_numeric(self) -> bool:
        return self.name in ("i64", "f64")


I64 = Prim("i64")
F64 = Prim("f64")
BOOL = Prim("bool")
TEXT = Prim("text")
UNIT = Prim("()")

PRIMS: dict[str, Prim] = {"i64": I64, "f64": F64, "bool": BOOL, "text": TEXT}

# Type names of the full Simple language that Simple Core rejects with a
# "not supported" diagnostic rather than "unknown type".
UNSUPPORTED_TYPE_NAMES = frozenset(
    {
        "i8",
        "i16",
        "i32",
        "u8",
        "u16",
        "u32",
        "u64",
        "f32",
        "char",
        "str",
        "String",
        "Dict",
        "List",
        "Option",
        "Result",
        "Any",
        "int",
        "float",
        "string",
        "usize",
        "isize",
    }
)


@record(frozen=True, interned=True)
class ArrayT(Type):
    elem: Type

    def __str__(self) -> str:
        return f"[{self.elem}]"

    @property
    def is_managed(self) -> bool:
        return True


@record(frozen=True, interned=True)
class TupleT(Type):
    elems: tuple[Type, ...]

    def __str__(self) -> str:
        return "(" + ", ".join(str(e) for e in self.elems) + ")"

    @property
    def is_managed(self) -> bool:
        return any(e.is_managed for e in self.elems)


@record(frozen=True, interned=True)
class OptionT(Type):
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"

    @property
    def is_managed(self) -> bool:
        return self.inner.is_managed


@record(frozen=True, interned=True)
class StructT(Type):
    """A struct type by name; its fields live in the module's declarations."""

    name: str

    def __str__(self) -> str:
        return self.name

    @property
    def is_managed(self) -> bool:
        return True  # conservatively: fields may hold references


@record(frozen=True, interned=True)
class EnumT(Type):
    """An enum type by name; its variants live in the module's declarations."""

    name: str

    def __str__(self) -> str:
        return self.name

    @property
    def is_managed(self) -> bool:
        return True


@record(frozen=True, interned=True)
class NilT(Type):
    """The type of ``nil`` before it meets an option type."""

    def __str__(self) -> str:
        return "nil"


@record(frozen=True, interned=True)
class NeverT(Type):
    """The type of expressions that do not produce a value (``return``, ``break``)."""

    def __str__(self) -> str:
        return "!"


NIL = NilT()
NEVER = NeverT()


@record(frozen=True)
class StructDef:
    name: str
    fields: tuple[tuple[str, Type], ...]

    def field_index(self, name: str) -> int:
        for i, (fname, _) in enumerate(self.fields):
            if fname == name:
                return i
        return -1


@record(frozen=True)
class EnumDef:
    name: str
    variants: tuple[tuple[str, tuple[Type, ...]], ...]

    def variant_index(self, name: str) -> int:
        for i, (vname, _) in enumerate(self.variants):
            if vname == name:
                return i
        return -1


def zero_variant(
    name: str,
    enums: Mapping[str, EnumDef],
    structs: Mapping[str, StructDef],
    building: frozenset[str] = frozenset(),
) -> int | None:
    """The variant of enum ``name`` that its zero value (a global's value
    before its declaration runs) uses: the first one whose payload has a zero
    value without building again an enum being built (``building``); None when
    no variant ends, or ``name`` is unknown.  Every backend uses this.
    """
    edef = enums.get(name)
    if edef is None or name in building:
        return None
    inner = building | {name}
    for i, (_, payload) in enumerate(edef.variants):
        if all(_has_zero(t, enums, structs, inner) for t in payload):
            return i
    return None


def _has_zero(
    t: Type,
    enums: Mapping[str, EnumDef],
    structs: Mapping[str, StructDef],
    building: frozenset[str],
) -> bool:
    if isinstance(t, EnumT):
        return zero_variant(t.name, enums, structs, building) is not None
    if isinstance(t, TupleT):
        return all(_has_zero(e, enums, structs, building) for e in t.elems)
    if isinstance(t, StructT) and t.name in structs:
        return all(_has_zero(f, enums, structs, building) for _, f in structs[t.name].fields)
    return True  # scalars, texts, arrays ([]) and options (nil)
