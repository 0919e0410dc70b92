"""Golden files per phase, and MIR round trips over every program.

* ``tests/data/phases/NAME.spl`` -> ``NAME.hir`` (typed HIR), ``NAME.O0.mir``
  (lowered MIR) and ``NAME.O2.mir`` (after the -O2 pipeline, verifier on);
* ``tests/data/diagnostics/NAME.spl`` -> ``NAME.diag``: every diagnostic as
  the CLI renders it (the front end reports more than the first error);
* every program of the corpus, at -O0 and -O2: the MIR text parses back and
  prints identically (what ``simple run --emit mir`` shows is the IR).

``pytest --bless`` rewrites the golden files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from golden import check_golden
from simple_jit.diagnostics import CompileError, SourceFile
from simple_jit.driver import compile_unit
from simple_jit.hir.dump import dump_program
from simple_jit.mir.parser import parse_module
from simple_jit.mir.printer import print_module

DATA = Path(__file__).parent / "data"
PHASES = sorted((DATA / "phases").glob("*.spl"))
DIAGNOSTICS = sorted((DATA / "diagnostics").glob("*.spl"))
ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = sorted((ROOT / "tests" / "programs").glob("*/*.spl"))
SHARED = ROOT.parent / "shared" / "conformance"
if SHARED.is_dir():
    PROGRAMS += sorted(SHARED.glob("*/*.spl"))


def _source(path: Path) -> SourceFile:
    return SourceFile(path.name, path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", PHASES, ids=lambda p: p.stem)
def test_phase_goldens(path: Path) -> None:
    hir = compile_unit(_source(path), 0, stop_after="hir").hir
    assert hir is not None
    check_golden(path.with_suffix(".hir"), dump_program(hir))
    for level in (0, 2):
        mir = compile_unit(_source(path), level, verify=True).mir
        assert mir is not None
        check_golden(path.with_suffix(f".O{level}.mir"), print_module(mir))


@pytest.mark.parametrize("path", DIAGNOSTICS, ids=lambda p: p.stem)
def test_diagnostic_goldens(path: Path) -> None:
    with pytest.raises(CompileError) as info:
        compile_unit(_source(path), 0)
    rendered = info.value.render() + "\n"
    check_golden(path.with_suffix(".diag"), rendered)
    assert rendered.count(": error: ") == len(info.value.diagnostics)


def test_front_end_reports_several_errors() -> None:
    with pytest.raises(CompileError) as info:
        compile_unit(_source(DATA / "diagnostics" / "several.spl"), 0)
    assert len(info.value.diagnostics) >= 4


@pytest.mark.parametrize("level", [0, 2])
@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_mir_text_round_trips(path: Path, level: int) -> None:
    try:
        mir = compile_unit(_source(path), level).mir
    except CompileError:
        return  # error programs have no MIR; their diagnostics are tested elsewhere
    assert mir is not None
    text = print_module(mir)
    assert print_module(parse_module(text)) == text
