"""Slotted record classes that import in microseconds.

``@record`` is the subset of ``@dataclass(slots=True)`` this project uses:
an ``__init__`` in field order (defaults and ``field(default_factory=...)``
allowed), ``__repr__``, ``__eq__``, ``__slots__``, ``__match_args__`` and
``_fields``; ``frozen=True`` adds ``__hash__`` and forbids assignment.
``__eq__`` and ``__hash__`` are generated per class (field by field, no
generator), as they are hot: the compiler compares types constantly.

``interned=True`` (frozen records whose fields are hashable and equal only
to equal values, like the semantic types) hash-conses instances: building a
record equal to an existing one returns that one, so equality is identity
and comparing two such records (``ty == I64``, ``t in (I64, F64)``) runs no
Python code.  The hash is the one a frozen record has (that of the tuple of
its fields), computed once; copying returns the instance and pickling
rebuilds through the constructor, so every instance stays the canonical one.

Why not dataclasses: importing ``dataclasses`` pulls in ``inspect`` and
building each class execs generated code with a lot of machinery; on the
start-up path of ``simple run`` (about 70 classes) that cost a third of
the process's time.  Here each class costs one small ``exec``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")


class _Field:
    __slots__ = ("default_factory",)

    def __init__(self, default_factory: Callable[[], Any]) -> None:
        self.default_factory = default_factory


def field(*, default_factory: Callable[[], _T]) -> _T:
    """A field whose default is made by ``default_factory`` for each instance."""
    return _Field(default_factory)  # type: ignore[return-value]


def _repr(self: Any) -> str:
    parts = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
    return f"{type(self).__name__}({parts})"


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise AttributeError(f"cannot assign to field '{name}' of a frozen {type(self).__name__}")


def _self(self: Any, memo: Any = None) -> Any:
    return self


def _methods(names: tuple[str, ...], frozen: bool) -> str:
    """Source of ``__eq__`` (and for frozen records ``__hash__``) for these fields.

    Fields are compared with ``==`` one by one, stopping at the first unequal
    pair, and the result is a bool: what ``all(a == b ...)`` gave, without its
    generator.  No identity shortcut: a record holding a NaN is not equal to
    itself, as before.
    """
    both = " and ".join(f"self.{n} == other.{n}" for n in names) or "True"
    src = (
        "def __eq__(self, other):\n"
        "    if _type(other) is not _type(self):\n"
        "        return NotImplemented\n"
        f"    return True if {both} else False\n"
    )
    if frozen:
        src += f"def __hash__(self):\n    return _hash(({''.join(f'self.{n}, ' for n in names)}))\n"
    return src


def _build(cls: type, frozen: bool, interned: bool = False) -> type:
    # not inspect.get_annotations: importing inspect is the cost this module avoids
    ann = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    names = tuple(ann)
    if interned:
        return _build_interned(cls, names)
    params: list[str] = []
    body: list[str] = []
    env: dict[str, Any] = {
        "_MISSING": _MISSING,
        "_set": object.__setattr__,
        "_type": type,
        "_hash": hash,
    }
    for n in names:
        default = cls.__dict__.get(n, _MISSING)
        if isinstance(default, _Field):
            env[f"_f_{n}"] = default.default_factory
            params.append(f"{n}=_MISSING")
            value = f"_f_{n}() if {n} is _MISSING else {n}"
        elif default is not _MISSING:
            env[f"_d_{n}"] = default
            params.append(f"{n}=_d_{n}")
            value = n
        else:
            params.append(n)
            value = n
        body.append(f"_set(self, {n!r}, {value})" if frozen else f"self.{n} = {value}")
    src = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"])
    src += "\n" + _methods(names, frozen)
    scope: dict[str, Any] = {}
    exec(src, env, scope)
    generated = {
        "__slots__": names,
        "__init__": scope["__init__"],
        "__eq__": scope["__eq__"],
        "__hash__": scope["__hash__"] if frozen else None,
    }
    return _finish(cls, names, generated, frozen)


def _finish(cls: type, names: tuple[str, ...], generated: dict[str, Any], frozen: bool) -> type:
    """The record class: ``cls``'s own namespace minus its field defaults, plus ``generated``."""
    ns = {
        k: v
        for k, v in cls.__dict__.items()
        if k not in names and k not in ("__dict__", "__weakref__")
    }
    ns.update(generated, __match_args__=names, _fields=names)
    if "__repr__" not in cls.__dict__:
        ns["__repr__"] = _repr
    if frozen:
        ns["__setattr__"] = _frozen_setattr
    new = type(cls)(cls.__name__, cls.__bases__, ns)
    new.__qualname__ = cls.__qualname__
    return new


def _build_interned(cls: type, names: tuple[str, ...]) -> type:
    """A frozen record whose instances are hash-consed (see the module docstring).

    ``__new__`` looks the tuple of fields up in the class's table and builds
    an instance only for a new one (``setdefault``: two threads building the
    same record get the same instance).  ``__eq__`` is object's (identity, in
    C), ``__hash__`` returns the hash of the fields computed at construction.
    """
    if getattr(cls, "__eq__") is not getattr(object, "__eq__"):  # noqa: B009
        raise TypeError(f"interned record {cls.__name__}: equality must be identity")
    params: list[str] = []
    for n in names:
        default = cls.__dict__.get(n, _MISSING)
        if isinstance(default, _Field):
            raise TypeError(f"interned record {cls.__name__}: no default_factory fields")
        params.append(n if default is _MISSING else f"{n}={n}_default")
    key = "".join(f"{n}, " for n in names)
    sets = "".join(f"        _set(self, {n!r}, {n})\n" for n in names)
    src = (
        f"def __new__(cls, {''.join(p + ', ' for p in params)}):\n"
        f"    self = _table.get((cls, {key}))\n"
        "    if self is None:\n"
        "        self = _new(cls)\n"
        f"{sets}"
        f"        _set(self, '_hash_value', _hash(({key})))\n"
        f"        self = _table.setdefault((cls, {key}), self)\n"
        "    return self\n"
        "def __hash__(self):\n"
        "    return self._hash_value\n"
        "def __reduce__(self):\n"
        f"    return (_type(self), ({''.join(f'self.{n}, ' for n in names)}))\n"
    )
    env: dict[str, Any] = {
        "_table": {},
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_hash": hash,
        "_type": type,
    }
    env.update({f"{n}_default": cls.__dict__[n] for n in names if n in cls.__dict__})
    scope: dict[str, Any] = {}
    exec(src, env, scope)
    generated = {
        "__slots__": (*names, "_hash_value"),
        "__new__": scope["__new__"],
        "__hash__": scope["__hash__"],
        "__reduce__": scope["__reduce__"],
        "__copy__": _self,
        "__deepcopy__": _self,
    }
    return _finish(cls, names, generated, True)


_MISSING: Any = object()


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(*, frozen: bool = False, interned: bool = False) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[_T] | None = None, /, *, frozen: bool = False, interned: bool = False) -> Any:
    """Turn an annotated class into a slotted record (see the module docstring)."""
    if interned and not frozen:
        raise TypeError("an interned record must be frozen")
    if cls is not None:
        return _build(cls, frozen)
    return lambda c: _build(c, frozen, interned)
