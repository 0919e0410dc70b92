"""Struct variables in registers (mir/passes/unbox.py), in-place element stores
(mir/recordfuse.py) and borrowed global reads (refcount.borrowed_reads).

Behaviour is covered by tests/programs/tier2/struct_unbox_store.spl on every
backend; these tests pin down what each transformation does and refuses.
"""

from __future__ import annotations

from simple_jit.mir.ir import Module
from simple_jit.mir.parser import parse_module
from simple_jit.mir.passes import PassManager
from simple_jit.mir.passes.manager import cleanup_passes
from simple_jit.mir.passes.refcount import BORROWED_REG, InsertRefcounts, borrowed_reads
from simple_jit.mir.passes.unbox import UnboxStructs
from simple_jit.mir.recordfuse import plan_records
from simple_jit.mir.verify import verify_module

HEAD = """\
struct P { x: f64, n: i64 }
struct T { s: text, n: i64 }
global @ps: [P]
"""

STEP = (
    HEAD
    + """
fn @step(%0 i: i64) -> () !1:1 {
    %1 b: P
    %2: [P]
    %3: f64
    %4: f64
    %5: [P]
bb0:
    %2 = gload @ps
    %1 = array_get %2, %0 !2:5
    %3 = field_get #0 %1
    %4 = fadd %3, 1.0
    %1 = field_set #0 %1, %4
    %1 = field_set #1 %1, 7
    %5 = gload @ps
    array_set %5, %0, %1 !3:5
    ret
}
"""
)


def ops(m: Module, fn: str) -> list[str]:
    return [ins.op for blk in m.functions[fn].blocks for ins in blk.instrs]


def optimise(text: str) -> Module:
    m = parse_module(text)
    verify_module(m)
    UnboxStructs().run(m)
    verify_module(m)
    PassManager(cleanup_passes(), verify=True).run(m)
    return m


def test_mutated_struct_lives_in_registers() -> None:
    m = optimise(STEP)
    seen = ops(m, "step")
    assert "field_set" not in seen
    # read once out of the array, built once to be stored back
    assert seen.count("array_get") == 1 and seen.count("struct_new") == 1
    # only x is read: n is assigned before any read, so its load is dead
    assert seen.count("field_get") == 1


def test_struct_with_text_field_is_not_unboxed() -> None:
    text = (
        HEAD
        + """
fn @f(%0 t: T) -> T !1:1 {
    %1 b: T
    %2: text
    %3: text
bb0:
    %1 = copy %0
    %2 = field_get #0 %1
    %3 = tconcat %2, "!"
    %1 = field_set #0 %1, %3
    %1 = field_set #1 %1, 7
    ret %1
}
"""
    )
    m = parse_module(text)
    verify_module(m)
    assert UnboxStructs().run(m) is False
    assert ops(m, "f").count("field_set") == 2


def test_struct_that_escapes_more_than_it_changes_stays_boxed() -> None:
    text = (
        HEAD
        + """
fn @use(%0 p: P) -> () !1:1 {
bb0:
    ret
}

fn @f(%0 q: P) -> () !1:1 {
    %1 b: P
bb0:
    %1 = copy %0
    %1 = field_set #1 %1, 3
    call @use(%1)
    call @use(%1)
    ret
}
"""
    )
    m = parse_module(text)
    verify_module(m)
    assert UnboxStructs().run(m) is False


def test_store_of_a_fresh_record_is_fused_after_refcounts() -> None:
    m = optimise(STEP)
    InsertRefcounts().run(m)
    f = m.functions["step"]
    plan = plan_records(f, m.structs)
    assert len(plan.stores) == 1
    (bid, idx), new = next(iter(plan.stores.items()))
    assert f.blocks[bid].instrs[idx].op == "array_set"
    assert new.op == "struct_new" and new.dst is not None and new.dst.id in plan.fused
    assert len(plan.skip) == 2  # the struct_new and its incref


def test_record_used_twice_is_not_fused() -> None:
    text = (
        HEAD
        + """
fn @f(%0 i: i64) -> () !1:1 {
    %1: P
    %2: [P]
bb0:
    %2 = gload @ps
    %1 = struct_new P (1.0, 2)
    array_set %2, %0, %1 !2:5
    array_set %2, 0, %1 !3:5
    ret
}
"""
    )
    m = parse_module(text)
    verify_module(m)
    InsertRefcounts().run(m)
    assert plan_records(m.functions["f"], m.structs).stores == {}


def test_gload_is_borrowed_until_a_call() -> None:
    text = (
        HEAD
        + """
fn @g() -> () !1:1 {
bb0:
    ret
}

fn @f() -> i64 !1:1 {
    %0: [P]
    %1: i64
    %2: [P]
    %3: i64
bb0:
    %0 = gload @ps
    %1 = array_len %0
    %2 = gload @ps
    call @g()
    %3 = array_len %2
    %1 = iadd %1, %3
    ret %1
}
"""
    )
    m = parse_module(text)
    verify_module(m)
    f = m.functions["f"]
    assert borrowed_reads(f) == {0}  # %2 lives across a call, which may store @ps
    InsertRefcounts().run(m)
    assert f.regs[0].name == BORROWED_REG
    counted = [i.args[0] for b in f.blocks for i in b.instrs if i.op in ("incref", "decref")]
    assert all(getattr(a, "id", None) == 2 for a in counted) and counted


def test_returned_global_takes_a_reference() -> None:
    # the function has no counted register of its own: only the borrowed read
    m = parse_module(
        """\
global @g: text

fn @f(%0 x: i64) -> text !1:1 {
    %1: text
bb0:
    %1 = gload @g
    ret %1
}
"""
    )
    verify_module(m)
    InsertRefcounts().run(m)
    f = m.functions["f"]
    last = f.blocks[0].instrs[-1]
    assert last.op == "incref" and last.args == [f.regs[1]]


def test_field_assignment_to_itself_is_planned_in_place() -> None:
    m = parse_module(
        HEAD
        + """
fn @f(%0 t: T) -> T !1:1 {
    %1 b: T
    %2: text
bb0:
    %1 = copy %0
    %2 = field_get #0 %1
    %1 = field_set #1 %1, 7
    %1 = field_set #0 %1, %2
    ret %1
}
"""
    )
    verify_module(m)
    InsertRefcounts().run(m)
    f = m.functions["f"]
    plan = plan_records(f, m.structs)
    sets = sorted(plan.field_sets)
    assert len(sets) == 2
    for bid, i in sets:
        instrs = f.blocks[bid].instrs
        assert instrs[i].op == "field_set"
        # the rc.old copy before and its decref after are dropped
        assert {(bid, i - 1), (bid, i + 1)} <= plan.skip
        assert (instrs[i - 1].op, instrs[i + 1].op) == ("copy", "decref")
