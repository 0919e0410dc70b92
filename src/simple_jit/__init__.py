"""Simple JIT: a compiler pipeline and execution engine for the Simple language.

The pipeline is source -> AST (``simple_jit.syntax``) -> HIR (``simple_jit.hir``)
-> MIR (``simple_jit.mir``) -> a backend (``simple_jit.interp``,
``simple_jit.llvm``, ``simple_jit.wasm``).  ``simple_jit.driver`` strings the
phases together; ``simple_jit.cli`` is the ``simple`` command.

The embedding API is importable from the package itself::

    from simple_jit import ExecManager

    with ExecManager("llvm") as m:
        m.compile_source("fn add(x, y): x + y")
        assert m.call("add", 10, 32) == 42

Those names are loaded on first use, so ``import simple_jit`` (and the
``simple`` command's start-up) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from simple_jit.errors import (
        CompileError,
        FunctionNotFound,
        InternalCompilerError,
        SignatureError,
        SimpleError,
        SimpleRuntimeError,
        UnsupportedLimit,
    )
    from simple_jit.manager import ExecManager

__all__ = [
    "CompileError",
    "ExecManager",
    "FunctionNotFound",
    "InternalCompilerError",
    "SignatureError",
    "SimpleError",
    "SimpleRuntimeError",
    "UnsupportedLimit",
    "__version__",
]

_LAZY = {name: "simple_jit.errors" for name in __all__[:-1]}
_LAZY["ExecManager"] = "simple_jit.manager"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'simple_jit' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
