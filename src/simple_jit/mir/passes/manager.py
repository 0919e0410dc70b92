"""The pass manager: pipelines per optimisation level, timing, verification, dumps.

A pass is any object with a ``name`` and ``run(module) -> bool`` (True when
it changed something); ``FunctionPass`` adapts a per-function
``run_function(f, module) -> bool``.  ``Repeat`` groups passes that run again
while they change something, for at most ``rounds`` rounds, so compile time
stays bounded.  ``PassManager`` runs a pipeline and records

* ``timings``: pass name -> total seconds (what ``simple run --time`` shows),
* optionally verifies the module after every pass (``verify=True``; raises
  ``InternalCompilerError`` naming the pass that broke it),
* optionally dumps the MIR text before/after the passes named in
  ``dump_before`` / ``dump_after`` through ``dump`` (stderr by default).

Pipelines (``pipeline_for(level)``):

* O0: ``unreachable`` only (drop dead blocks; no analysis, fast);
* O1: ``Repeat(constfold, copyprop, dce, simplifycfg, unbox; rounds=2)``
  (``unbox``: mutated structs of scalars in registers; when it changes
  something, the next round cleans up after it);
* O2: the cleanup, ``inline`` (callees of at most 40 instructions, never
  recursive), then the cleanup and ``unbox`` again (3 rounds);
* O3: as O2 with a 120-instruction inline threshold and 4 cleanup rounds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, runtime_checkable

from simple_jit.mir.ir import Function, Module
from simple_jit.mir.passes.util import remove_unreachable
from simple_jit.mir.printer import print_module
from simple_jit.mir.verify import check_module

__all__ = [
    "FunctionPass",
    "Pass",
    "PassManager",
    "RemoveUnreachable",
    "Repeat",
    "pipeline_for",
]


@runtime_checkable
class Pass(Protocol):
    """A module transformation; ``run`` returns whether it changed anything."""

    name: str

    def run(self, module: Module) -> bool: ...


class FunctionPass:
    """Base of passes that transform each function independently."""

    name = "function-pass"

    def run(self, module: Module) -> bool:
        changed = False
        for f in module.functions.values():
            if f.blocks and self.run_function(f, module):
                changed = True
        return changed

    def run_function(self, f: Function, module: Module) -> bool:
        raise NotImplementedError


class RemoveUnreachable(FunctionPass):
    """Drop blocks unreachable from the entry and renumber the remaining ones."""

    name = "unreachable"

    def run_function(self, f: Function, module: Module) -> bool:
        return remove_unreachable(f)


class Repeat:
    """Run ``passes`` in order, again while any changed, at most ``rounds`` times."""

    def __init__(self, passes: Sequence[Pass], rounds: int = 2) -> None:
        self.passes = list(passes)
        self.rounds = rounds
        self.name = "repeat(" + ", ".join(p.name for p in self.passes) + ")"

    def run(self, module: Module) -> bool:  # used when not run by a PassManager
        changed = False
        for _ in range(self.rounds):
            round_changed = False
            for p in self.passes:
                round_changed |= p.run(module)
            changed |= round_changed
            if not round_changed:
                break
        return changed


def cleanup_passes() -> list[Pass]:
    from simple_jit.mir.passes.constfold import ConstFold
    from simple_jit.mir.passes.copyprop import CopyProp
    from simple_jit.mir.passes.dce import DeadCodeElim
    from simple_jit.mir.passes.simplifycfg import SimplifyCfg

    return [ConstFold(), CopyProp(), DeadCodeElim(), SimplifyCfg()]


def pipeline_for(opt_level: int, *, inline: bool = True) -> list[Pass]:
    """The passes of optimisation level 0..3 (levels above 3 act as 3).

    ``inline=False`` leaves every call in place: an execution manager may
    redefine a callee later, and an inlined copy would not follow.
    """
    from simple_jit.mir.passes.inline import Inline, InlineSelf
    from simple_jit.mir.passes.unbox import UnboxStructs

    if opt_level <= 0:
        return [RemoveUnreachable()]
    if opt_level == 1 or not inline:
        return [Repeat([*cleanup_passes(), UnboxStructs()], rounds=2)]
    if opt_level == 2:
        return [
            Repeat(cleanup_passes(), rounds=2),
            InlineSelf(threshold=30),
            Repeat(cleanup_passes(), rounds=1),
            InlineSelf(threshold=120, max_calls=4),
            Inline(threshold=40),
            Repeat([*cleanup_passes(), UnboxStructs()], rounds=3),
        ]
    return [
        Repeat(cleanup_passes(), rounds=2),
        InlineSelf(threshold=60),
        Inline(threshold=120),
        Repeat([*cleanup_passes(), UnboxStructs()], rounds=4),
    ]


def _names(spec: str | Iterable[str] | None) -> frozenset[str]:
    if spec is None:
        return frozenset()
    if isinstance(spec, str):
        return frozenset(s.strip() for s in spec.split(",") if s.strip())
    return frozenset(spec)


class PassManager:
    """Runs a pipeline of passes with optional verification, timing and dumps.

    ``PassManager(passes)`` or ``PassManager.for_level(2)``; ``run(module)``
    returns whether anything changed; ``timings`` maps pass names to seconds
    accumulated over every ``run``.  ``dump_before`` / ``dump_after`` take
    pass names (a comma-separated string or an iterable; ``"*"`` for all).
    """

    def __init__(
        self,
        passes: Sequence[Pass] = (),
        *,
        verify: bool = False,
        dump_before: str | Iterable[str] | None = None,
        dump_after: str | Iterable[str] | None = None,
        dump: Callable[[str], None] | None = None,
    ) -> None:
        self.passes: list[Pass] = list(passes)
        self.verify = verify
        self.dump_before = _names(dump_before)
        self.dump_after = _names(dump_after)
        self.dump: Callable[[str], None] = dump or (lambda s: print(s, file=sys.stderr))
        self.timings: dict[str, float] = {}

    @classmethod
    def for_level(
        cls,
        opt_level: int,
        *,
        verify: bool = False,
        dump_before: str | Iterable[str] | None = None,
        dump_after: str | Iterable[str] | None = None,
        dump: Callable[[str], None] | None = None,
    ) -> PassManager:
        return cls(
            pipeline_for(opt_level),
            verify=verify,
            dump_before=dump_before,
            dump_after=dump_after,
            dump=dump,
        )

    def add(self, p: Pass) -> PassManager:
        self.passes.append(p)
        return self

    def run(self, module: Module) -> bool:
        if self.verify:
            check_module(module, "lowering (before any pass)")
        changed = False
        for p in self.passes:
            changed |= self._run(p, module)
        return changed

    def _wants(self, names: frozenset[str], p: Pass) -> bool:
        return "*" in names or p.name in names

    def _run(self, p: Pass, module: Module) -> bool:
        if isinstance(p, Repeat):
            changed = False
            for _ in range(p.rounds):
                round_changed = False
                for sub in p.passes:
                    round_changed |= self._run(sub, module)
                changed |= round_changed
                if not round_changed:
                    break
            return changed
        if self._wants(self.dump_before, p):
            self.dump(f"; ---- MIR before {p.name} ----\n{print_module(module)}")
        start = time.perf_counter()
        changed = p.run(module)
        self.timings[p.name] = self.timings.get(p.name, 0.0) + time.perf_counter() - start
        if self._wants(self.dump_after, p):
            self.dump(f"; ---- MIR after {p.name} ----\n{print_module(module)}")
        if self.verify:
            check_module(module, f"pass {p.name}")
        return changed
