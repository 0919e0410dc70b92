"""The equality and hashing contract of the semantic types and of ``@record``.

Types are interned (``@record(interned=True)``): equality is identity, which
must stay what it was when records compared field by field: two types built
apart are equal exactly when their structure is, their hashes agree with
equality (and are the hash of the tuple of their fields, as before), and
copying or pickling gives back the canonical instance.
"""

from __future__ import annotations

import copy
import math
import pickle
import threading
from typing import Any

import pytest

from simple_jit._record import field, record
from simple_jit.types import (
    BOOL,
    F64,
    I64,
    NEVER,
    NIL,
    PRIMS,
    TEXT,
    UNIT,
    ArrayT,
    EnumDef,
    EnumT,
    NeverT,
    NilT,
    OptionT,
    Prim,
    StructDef,
    StructT,
    TupleT,
    Type,
)


def samples() -> list[Type]:
    """Fresh instances of every type class, structurally all different."""
    return [
        Prim("i64"),
        Prim("f64"),
        Prim("text"),
        Prim("()"),
        ArrayT(Prim("i64")),
        ArrayT(ArrayT(Prim("i64"))),
        ArrayT(StructT("P")),
        TupleT((Prim("i64"), Prim("text"))),
        TupleT((Prim("text"), Prim("i64"))),
        TupleT(()),
        OptionT(Prim("i64")),
        OptionT(TupleT((ArrayT(Prim("bool")), EnumT("E")))),
        StructT("P"),
        StructT("Q"),
        EnumT("P"),
        EnumT("E"),
        NilT(),
        NeverT(),
    ]


def test_equal_structure_is_equal_and_the_same_instance() -> None:
    for a, b in zip(samples(), samples(), strict=True):
        assert a == b
        assert (a != b) is False
        assert a is b  # interned
        assert hash(a) == hash(b)


def test_different_structure_is_unequal() -> None:
    values = samples()
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert (a == b) is (i == j), (a, b)
            assert (a != b) is (i != j), (a, b)


def test_same_fields_of_different_classes_are_unequal() -> None:
    pairs: list[tuple[object, object]] = [
        (StructT("P"), EnumT("P")),
        (Prim("i64"), StructT("i64")),
        (ArrayT(I64), OptionT(I64)),
        (NilT(), NeverT()),
    ]
    for a, b in pairs:
        assert a != b and b != a
    assert len({StructT("P"), EnumT("P")}) == 2


def test_hash_is_that_of_the_fields() -> None:
    # what frozen records hashed before interning, so iteration orders of
    # sets of types do not change
    for t in samples():
        assert hash(t) == hash(tuple(getattr(t, n) for n in t._fields))  # type: ignore[attr-defined]


def test_module_constants_are_the_interned_ones() -> None:
    assert Prim("i64") is I64 and Prim("f64") is F64 and Prim("bool") is BOOL
    assert Prim("text") is TEXT and Prim("()") is UNIT
    assert NilT() is NIL and NeverT() is NEVER
    assert all(Prim(n) is t for n, t in PRIMS.items())


def test_types_in_containers() -> None:
    d: dict[Type, str] = {I64: "i", ArrayT(I64): "a", TupleT((I64, F64)): "t"}
    assert d[Prim("i64")] == "i"
    assert d[ArrayT(Prim("i64"))] == "a"
    assert d[TupleT((Prim("i64"), Prim("f64")))] == "t"
    assert TupleT((I64, F64)) in (BOOL, TupleT((I64, F64)))
    assert ArrayT(TEXT) not in (ArrayT(I64), OptionT(TEXT))
    assert {ArrayT(I64), ArrayT(Prim("i64"))} == {ArrayT(I64)}


def test_copy_and_pickle_give_the_canonical_instance() -> None:
    for t in samples():
        assert copy.copy(t) is t
        assert copy.deepcopy(t) is t
        for proto in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(t, proto)) is t
    nested = {"sig": (ArrayT(I64), [OptionT(TEXT)])}
    back = pickle.loads(pickle.dumps(nested))
    assert back == nested and back["sig"][0] is nested["sig"][0]


def test_types_are_frozen() -> None:
    with pytest.raises(AttributeError):
        I64.name = "f64"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        ArrayT(I64).elem = F64  # type: ignore[misc]
    assert I64.name == "i64"


def test_repr_str_and_match() -> None:
    t = OptionT(ArrayT(TupleT((I64, StructT("P")))))
    assert repr(t) == (
        "OptionT(inner=ArrayT(elem=TupleT(elems=(Prim(name='i64'), StructT(name='P')))))"
    )
    assert str(t) == "[(i64, P)]?"
    match t:
        case OptionT(ArrayT(TupleT((Prim("i64"), StructT(name))))):
            assert name == "P"
        case _:
            pytest.fail("no match")


def test_interning_is_thread_safe() -> None:
    # every thread builds the same new types at once: all get one instance
    barrier = threading.Barrier(4)
    got: list[list[Type]] = []

    def build() -> None:
        barrier.wait()
        got.append([ArrayT(StructT(f"Threaded{i}")) for i in range(2000)])

    threads = [threading.Thread(target=build) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(got) == 4
    for i in range(2000):
        assert len({id(g[i]) for g in got}) == 1


def test_struct_and_enum_defs_compare_by_structure() -> None:
    a = StructDef("P", (("x", Prim("i64")), ("y", ArrayT(Prim("f64")))))
    b = StructDef("P", (("x", I64), ("y", ArrayT(F64))))
    assert a == b and hash(a) == hash(b) and a is not b
    assert a != StructDef("P", (("x", I64),))
    assert a != StructDef("Q", b.fields)
    e1 = EnumDef("E", (("A", ()), ("B", (I64, TEXT))))
    e2 = EnumDef("E", (("A", ()), ("B", (Prim("i64"), Prim("text")))))
    assert e1 == e2 and hash(e1) == hash(e2)
    assert e1 != EnumDef("E", (("A", ()), ("B", (I64,))))
    other: object = a
    assert e1 != other and other != e1


# ------------------------------------------------------- @record in general


@record(frozen=True)
class _Pair:
    a: Any
    b: Any = 0


@record
class _Box:
    items: list[int] = field(default_factory=list)
    label: str = ""


def test_record_equality_is_field_by_field() -> None:
    assert _Pair(1, "x") == _Pair(1, "x")
    assert _Pair(1, "x") != _Pair(1, "y")
    assert _Pair(1, "x") != _Pair(2, "x")
    assert _Pair(1) == _Pair(1, 0)
    t: object = (1, 0)
    assert (_Pair(1) == t) is False
    assert _Pair(1).__eq__((1, 0)) is NotImplemented
    assert (_Pair(1, 2) == _Pair(1, 2)) is True
    assert (_Pair([1], 2) == _Pair([1], 2)) is True  # a bool, whatever the fields


def test_record_keeps_nan_unequal_to_itself() -> None:
    # no identity shortcut for ordinary records: float fields compare as floats
    p = _Pair(math.nan)
    assert p != p
    assert _Pair(math.nan) != _Pair(math.nan)


def test_frozen_record_hash_agrees_with_equality() -> None:
    assert hash(_Pair(1, "x")) == hash(_Pair(1, "x")) == hash((1, "x"))
    assert len({_Pair(1, "x"), _Pair(1, "x"), _Pair(2, "x")}) == 2


def test_mutable_record_is_unhashable_and_compares_current_fields() -> None:
    a, b = _Box(), _Box()
    assert a == b and a.items is not b.items
    a.items.append(1)
    assert a != b
    b.items.append(1)
    assert a == b
    with pytest.raises(TypeError):
        hash(a)


def test_interned_record_must_be_frozen() -> None:
    with pytest.raises(TypeError):

        @record(interned=True)
        class _Bad:
            x: int


def test_interned_record_with_default() -> None:
    @record(frozen=True, interned=True)
    class _Named:
        name: str
        size: int = 8

    assert _Named("a") is _Named("a", 8) is _Named(name="a", size=8)
    assert _Named("a") != _Named("a", 4)
    assert hash(_Named("a")) == hash(("a", 8))
