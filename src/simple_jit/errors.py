"""The exceptions of the public API, in one place.

``SimpleError`` is the root.  ``CompileError`` carries diagnostics with
positions; ``SimpleRuntimeError`` a message and a source position;
``FunctionNotFound`` and ``SignatureError`` come from the execution manager.
No other exception leaves the API for any input (anything else is an
``InternalCompilerError``: a bug).
"""

from __future__ import annotations

from simple_jit.diagnostics import (
    CompileError,
    InternalCompilerError,
    SimpleError,
    SimpleRuntimeError,
)


class FunctionNotFound(SimpleError, LookupError):
    """No callable function of that name: ``Function 'NAME' not found``."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"Function '{name}' not found")


class SignatureError(SimpleError, TypeError):
    """The call cannot be served: wrong argument count, types or result type."""


class UnsupportedLimit(SimpleError, ValueError):
    """A limit (time) that the manager's backend cannot enforce."""


__all__ = [
    "CompileError",
    "FunctionNotFound",
    "InternalCompilerError",
    "SignatureError",
    "SimpleError",
    "SimpleRuntimeError",
    "UnsupportedLimit",
]
