"""Slotted record classes that import in microseconds.

``@record`` is the subset of ``@dataclass(slots=True)`` this project uses:
an ``__init__`` in field order (defaults and ``field(default_factory=...)``
allowed), ``__repr__``, ``__eq__``, ``__slots__``, ``__match_args__`` and
``_fields``; ``frozen=True`` adds ``__hash__`` and forbids assignment.

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


def _eq(self: Any, other: Any) -> Any:
    if type(other) is not type(self):
        return NotImplemented
    return all(getattr(self, n) == getattr(other, n) for n in self._fields)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, n) for n in self._fields))


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise AttributeError(f"cannot assign to field '{name}' of a frozen {type(self).__name__}")


def _build(cls: type, frozen: bool) -> type:
    # not inspect.get_annotations: importing inspect is the cost this module avoids
    ann = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    names = tuple(ann)
    params: list[str] = []
    body: list[str] = []
    env: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
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
    scope: dict[str, Any] = {}
    exec(src, env, scope)
    ns = {
        k: v
        for k, v in cls.__dict__.items()
        if k not in names and k not in ("__dict__", "__weakref__")
    }
    ns.update(
        __slots__=names,
        __match_args__=names,
        _fields=names,
        __init__=scope["__init__"],
        __eq__=_eq,
        __hash__=_hash if frozen else None,
    )
    if "__repr__" not in cls.__dict__:
        ns["__repr__"] = _repr
    if frozen:
        ns["__setattr__"] = _frozen_setattr
    new = type(cls)(cls.__name__, cls.__bases__, ns)
    new.__qualname__ = cls.__qualname__
    return new


_MISSING: Any = object()


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(*, frozen: bool = False) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(field_specifiers=(field,))
def record(cls: type[_T] | None = None, /, *, frozen: bool = False) -> Any:
    """Turn an annotated class into a slotted record (see the module docstring)."""
    if cls is not None:
        return _build(cls, frozen)
    return lambda c: _build(c, frozen)
