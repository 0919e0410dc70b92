"""llvm/irtext.py: the LLVM IR text it writes parses, verifies and means what was built.

Every program of the corpus goes through it in the other LLVM tests; these
check the corners those programs rarely reach: names that need quoting,
string bytes that need escaping, exact doubles, metadata, phis and the
builder's positioning.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

pytest.importorskip("llvmlite")

from simple_jit.llvm import irtext as ir
from simple_jit.llvm.compile import backend

I1, I8, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(64)
F64, PTR = ir.DoubleType(), ir.PointerType()


def parsed(module: ir.Module) -> Any:
    """The module as LLVM reads it back, verified."""
    llvm = backend().llvm
    mod = llvm.parse_assembly(str(module))
    mod.verify()
    return mod


def test_odd_names_are_quoted() -> None:
    m = ir.Module("odd")
    names = ['spl.f[i64, "x"]', "spl.\\é", "0digit", "plain.name$-_"]
    for name in names:
        fn = ir.Function(m, ir.FunctionType(I64, [I64]), name)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        b.ret(fn.args[0])
    gv = ir.GlobalVariable(m, I64, "g v")
    gv.initializer = ir.Constant(I64, -5)
    mod = parsed(m)
    for name in names:
        assert mod.get_function(name).name == name
    assert "i64 -5" in str(mod.get_global_variable("g v"))


def test_constants() -> None:
    m = ir.Module()
    data = bytes(range(256))
    arr = ir.GlobalVariable(m, ir.ArrayType(I8, len(data)), "bytes")
    arr.initializer = ir.Constant(ir.ArrayType(I8, len(data)), bytearray(data))
    arr.global_constant = True
    values = [0.1, -0.0, math.inf, math.nan, 1e308, 5e-324]
    for i, v in enumerate(values):
        ir.GlobalVariable(m, F64, f"d{i}").initializer = ir.Constant(F64, v)
    sty = ir.LiteralStructType([I64, PTR, I1, ir.ArrayType(PTR, 2)])
    s = ir.GlobalVariable(m, sty, "s")
    s.linkage = "internal"
    s.unnamed_addr = True
    s.align = 8
    s.initializer = ir.Constant(
        sty,
        [
            ir.Constant(I64, -1),
            arr,
            ir.Constant(I1, 1),
            ir.Constant(ir.ArrayType(PTR, 2), [ir.Constant(PTR, None), s]),
        ],
    )
    mod = parsed(m)
    text = str(mod)
    # LLVM prints the bytes as we write them, except a backslash as \\ (we write \5C)
    escaped = "".join(
        "\\\\" if c == 92 else chr(c) if 32 <= c < 127 and c != 34 else f"\\{c:02X}" for c in data
    )
    assert f'c"{escaped}"' in text
    assert "double 1.000000e-01" in str(mod.get_global_variable("d0"))
    assert "double -0.000000e+00" in str(mod.get_global_variable("d1"))
    assert "0x7FF0000000000000" in str(mod.get_global_variable("d2"))
    assert "0x7FF8000000000000" in str(mod.get_global_variable("d3"))
    # (LLVM finds internal globals by name only through the text)
    line = next(t for t in text.splitlines() if t.startswith("@s = "))
    assert "internal unnamed_addr global" in line and "align 8" in line
    assert "i1 true" in line and "[ptr null, ptr @s]" in line


def test_builder_and_metadata() -> None:
    m = ir.Module()
    callee = ir.Function(m, ir.FunctionType(ir.VoidType(), [PTR]), "sink")
    callee.attributes.add("cold")
    fn = ir.Function(m, ir.FunctionType(I64, [I64, F64]), "f")
    fn.linkage = "internal"
    n, x = fn.args
    entry = fn.append_basic_block("entry")
    loop = fn.append_basic_block("loop")
    done = fn.append_basic_block("done")
    b = ir.IRBuilder(entry)
    slot = b.alloca(I64, name="slot")
    b.store(n, slot)
    b.branch(loop)
    b.position_at_end(loop)
    i = b.phi(I64)
    i.add_incoming(ir.Constant(I64, 0), entry)
    root = m.add_metadata([ir.MetaDataString(m, "root")])
    tyd = m.add_metadata([ir.MetaDataString(m, "len"), root, ir.Constant(I64, 0)])
    tag = m.add_metadata([tyd, tyd, ir.Constant(I64, 0)])
    assert m.add_metadata([tyd, tyd, ir.Constant(I64, 0)]) is tag
    cur = b.load(slot)
    cur.set_metadata("tbaa", tag)
    with b.if_else(b.icmp_signed("<", cur, ir.Constant(I64, 10)), likely=True) as (then, other):
        with then:
            b.store(b.add(cur, ir.Constant(I64, 1)), slot).set_metadata("tbaa", tag)
        with other:
            b.call(callee, [ir.Constant(PTR, None)], tail="notail")
    with b.if_then(b.fcmp_unordered("!=", x, x), likely=False):
        b.unreachable()
    # an alloca placed at the start of the entry block after the fact
    top = ir.IRBuilder(entry)
    top.position_at_start(entry)
    pair = top.alloca(ir.ArrayType(I64, 2))
    at = b.gep(pair, [ir.Constant(ir.IntType(32), 0), ir.Constant(ir.IntType(32), 1)])
    b.store(b.bitcast(x, I64), at)
    nxt = b.add(i, ir.Constant(I64, 1))
    i.add_incoming(nxt, b.block)
    b.cbranch(b.icmp_unsigned(">=", nxt, n), done, loop)
    b.position_at_end(done)
    agg = b.insert_value(ir.Constant(ir.LiteralStructType([I64, I1]), ir.Undefined), nxt, 0)
    b.ret(b.extract_value(agg, 0))
    text = str(parsed(m))
    assert "!tbaa" in text and "!prof" in text and "notail call void @sink(ptr null)" in text
    assert "phi i64 [ 0, %entry ]" in text
    assert text.index("alloca [2 x i64]") < text.index("br label %loop")
