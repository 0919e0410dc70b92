"""The reference MIR interpreter (the semantics every other backend must match).

``Interpreter(module, out=..., max_depth=..., fuel=...)`` runs a MIR
``Module``: ``call(name, args)`` calls one function, ``run_program()`` runs
``$init`` and ``main``.  See ``machine.py`` for the design and
``codegen.py`` for the translation of MIR functions to Python.
"""

from simple_jit.interp.machine import MSG_EXTERN, MSG_FUEL, Interpreter

__all__ = ["MSG_EXTERN", "MSG_FUEL", "Interpreter"]
