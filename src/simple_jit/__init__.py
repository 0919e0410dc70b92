"""Simple JIT: a compiler pipeline and execution engine for the Simple language.

The pipeline is source -> AST (``simple_jit.syntax``) -> HIR (``simple_jit.hir``)
-> MIR (``simple_jit.mir``) -> a backend (``simple_jit.interp`` for now).
``simple_jit.driver`` strings the phases together; ``simple_jit.cli`` is the
``simple`` command.
"""

__version__ = "0.1.0"
