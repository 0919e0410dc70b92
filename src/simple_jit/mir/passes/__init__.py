"""MIR optimisation passes and the pass manager that sequences them.

See ``manager`` for the ``Pass`` protocol, ``PassManager`` and the pipelines
per optimisation level.
"""

from simple_jit.mir.passes.manager import (
    FunctionPass,
    Pass,
    PassManager,
    Repeat,
    pipeline_for,
)

__all__ = ["FunctionPass", "Pass", "PassManager", "Repeat", "pipeline_for"]
