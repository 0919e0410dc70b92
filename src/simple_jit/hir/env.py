"""What later units of an execution manager know about earlier ones.

A unit is type-checked against a ``UnitEnv``: the functions and globals that
earlier units defined.  A call to an earlier typed function becomes a call of
its existing specialization (an *import* in MIR); a call to an earlier
generic function with new argument types specializes the earlier body inside
the new unit.  Bindings made by the resolver live in one dictionary shared
by every unit (``decls``), so an earlier body can be checked again later.
"""

from __future__ import annotations

from simple_jit._record import field, record
from simple_jit.diagnostics import SourceFile, Span
from simple_jit.hir.resolve import Binding
from simple_jit.syntax import ast
from simple_jit.types import Type


@record
class EnvFunction:
    """A function defined by an earlier unit.

    ``decl`` is None for functions that came from MIR text (typed, never
    generic).  ``specs`` maps argument types to (MIR name, result type).
    """

    name: str
    decl: ast.FnDecl | None
    source: SourceFile | None
    specs: dict[tuple[Type, ...], tuple[str, Type]] = field(default_factory=dict)
    binding: Binding | None = None

    @property
    def generic(self) -> bool:
        return self.decl is not None and any(p.annotation is None for p in self.decl.params)


@record
class UnitEnv:
    functions: dict[str, EnvFunction] = field(default_factory=dict)
    globals: dict[str, tuple[Type, bool]] = field(default_factory=dict)
    decls: dict[int, Binding] = field(default_factory=dict)
    global_bindings: dict[str, Binding] = field(default_factory=dict)

    def function_binding(self, name: str) -> Binding | None:
        fn = self.functions.get(name)
        if fn is None:
            return None
        if fn.binding is None:
            fn.binding = Binding("function", name, False, Span(0, 0))
        return fn.binding

    def global_binding(self, name: str) -> Binding | None:
        info = self.globals.get(name)
        if info is None:
            return None
        b = self.global_bindings.get(name)
        if b is None:
            b = self.global_bindings[name] = Binding("global", name, info[1], Span(0, 0))
        return b
