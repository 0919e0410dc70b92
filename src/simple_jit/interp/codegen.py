"""Translation of one MIR function into the source of a Python function.

Each MIR function becomes a Python function whose locals are the registers
(``r<N>``).  A function that contains ``call`` instructions becomes a
*generator*: a call is ``rD = yield F<k>(args)``, and the interpreter's driver
(``machine.py``) keeps the stack of suspended generators, so Simple recursion
never uses Python recursion.  A *leaf* function (no ``call``) becomes a plain
function, and its callers call it directly, without the driver.

Control flow: blocks with exactly one incoming edge, and tiny blocks that
end in ``ret``, are inlined into their predecessors (a ``br`` becomes
``if``/``else``).  The remaining blocks, the
*roots* (the entry, merge points, loop headers), are dispatched from a
``while True`` loop on the local ``_b``; a root that jumps back to itself is
wrapped in its own ``while True`` so that the simplest loops never go through
the dispatcher.  Inline nesting is capped so the Python parser never sees
more than a few dozen indentation levels.

Every generated line is mapped to the ``Loc`` of the instruction it comes
from (``Translation.locs``), so a Python exception raised by a failing
operation is turned into a positioned runtime error from its traceback's line
number, at no run-time cost.  With fuel enabled, every executed block first
decrements the shared ``_fuel`` counter.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from simple_jit._record import record
from simple_jit.diagnostics import Loc
from simple_jit.mir.ir import Const, Function, Instr, Module, Operand, Reg
from simple_jit.semantics import some_is_boxed, ttrim
from simple_jit.types import BOOL, F64, I64, TEXT, OptionT, Type

_MAX = "0x7FFFFFFFFFFFFFFF"
_MIN = "-0x8000000000000000"
_TWO64 = "0x10000000000000000"
_MAX_INLINE_DEPTH = 32  # nested if levels from inlined branches
_DUP_MAX_INSTRS = 2  # returning blocks this small are copied into each predecessor


class Env:
    """Names shared by all translated functions of one interpreter instance.

    Functions are bound to ``F<k>``, globals to ``G<k>`` and other constant
    objects (types for ``totext``/``print`` of aggregates, helper functions) to
    ``K<k>`` in the interpreter's namespace.
    """

    def __init__(self, module: Module) -> None:
        self.module = module
        self.fn_names = {name: f"F{i}" for i, name in enumerate(module.functions)}
        self.global_names = {name: f"G{i}" for i, name in enumerate(module.globals)}
        self.consts: dict[str, object] = {}
        self._leaf: dict[str, bool] = {}
        self._const_ids: dict[object, str] = {}

    def is_leaf(self, name: str) -> bool:
        """A function with no ``call`` instruction: translated to a plain function."""
        leaf = self._leaf.get(name)
        if leaf is None:
            fn = self.module.functions[name]
            leaf = all(ins.op != "call" for blk in fn.blocks for ins in blk.instrs)
            self._leaf[name] = leaf
        return leaf

    def bind(self, obj: Type | Callable[[str], str]) -> str:
        name = self._const_ids.get(obj)
        if name is None:
            name = f"K{len(self.consts)}"
            self.consts[name] = obj
            self._const_ids[obj] = name
        return name


@record
class Translation:
    """Python source of one function, and the ``Loc`` of each of its lines."""

    pyname: str
    source: str
    locs: list[Loc | None]  # index: line number - 1
    is_leaf: bool


def _literal(c: Const) -> str:
    v = c.value
    if c.ty == I64 and isinstance(v, int):
        v = int(v)
        return repr(v) if v >= 0 else f"({v})"
    if c.ty == F64 and isinstance(v, int | float) and not isinstance(v, bool):
        f = float(v)
        if math.isnan(f):
            return "_NAN"
        if math.isinf(f):
            return "_INF" if f > 0 else "(-_INF)"
        return repr(f) if math.copysign(1.0, f) > 0 else f"({f!r})"
    if c.ty == BOOL:
        return "True" if v else "False"
    return repr(v)


class _Translator:
    def __init__(self, env: Env, fn: Function, fuel: bool) -> None:
        self.env = env
        self.fn = fn
        self.fuel = fuel
        self.lines: list[str] = []
        self.locs: list[Loc | None] = []
        self.globals_written: set[str] = set()
        blocks = fn.blocks
        # reachable blocks (reverse post-order) and incoming edge counts
        seen: set[int] = set()
        order: list[int] = []
        stack: list[tuple[int, int]] = [(0, 0)]
        seen.add(0)
        while stack:
            bid, i = stack.pop()
            targets = blocks[bid].term.targets
            if i < len(targets):
                stack.append((bid, i + 1))
                t = targets[i]
                if t not in seen:
                    seen.add(t)
                    stack.append((t, 0))
            else:
                order.append(bid)
        order.reverse()
        self.order = order
        self.preds: dict[int, list[int]] = {b: [] for b in order}
        for b in order:
            for t in blocks[b].term.targets:
                self.preds[t].append(b)
        # small returning blocks are duplicated into every predecessor instead
        # of being dispatched (the common ``if``-expression-then-return shape)
        small_ret = {
            b
            for b in order
            if b != 0 and blocks[b].term.op == "ret" and len(blocks[b].instrs) <= _DUP_MAX_INSTRS
        }
        self.roots: set[int] = {
            b for b in order if b == 0 or (len(self.preds[b]) != 1 and b not in small_ret)
        }
        self.region_of: dict[int, int] = {}
        self.self_loop: set[int] = set()
        self._plan()

    # -- planning -----------------------------------------------------------

    def _plan(self) -> None:
        """Assign every block to the root whose code inlines it; cap nesting."""
        blocks = self.fn.blocks
        work = sorted(self.roots)
        while work:
            root = work.pop()
            todo = [(root, 0)]
            while todo:
                bid, depth = todo.pop()
                self.region_of[bid] = root
                term = blocks[bid].term
                step = 1 if term.op == "br" and not isinstance(term.args[0], Const) else 0
                for t in term.targets:
                    if t in self.roots:
                        if t == root:
                            self.self_loop.add(root)
                    elif depth + step > _MAX_INLINE_DEPTH:
                        self.roots.add(t)
                        work.append(t)
                    else:
                        todo.append((t, depth + step))

    def _maybe_undefined(self) -> list[Reg]:
        """Registers that may be read before any assignment (need an initial value)."""
        blocks = self.fn.blocks
        full = (1 << len(self.fn.regs)) - 1
        params = 0
        for p in self.fn.params:
            params |= 1 << p.id
        defs: dict[int, int] = {}
        for b in self.order:
            m = 0
            for ins in blocks[b].instrs:
                if ins.dst is not None:
                    m |= 1 << ins.dst.id
            defs[b] = m
        out = {b: full for b in self.order}
        inn = {b: full for b in self.order}
        changed = True
        while changed:
            changed = False
            for b in self.order:
                if b == 0:
                    i = params
                else:
                    i = full
                    for pred in self.preds[b]:
                        i &= out[pred]
                o = i | defs[b]
                inn[b] = i
                if o != out[b]:
                    out[b] = o
                    changed = True
        need: dict[int, Reg] = {}
        for b in self.order:
            cur = inn[b]
            blk = blocks[b]
            for ins in blk.instrs:
                for a in ins.args:
                    if isinstance(a, Reg) and not (cur >> a.id) & 1:
                        need[a.id] = a
                if ins.dst is not None:
                    cur |= 1 << ins.dst.id
            for a in blk.term.args:
                if isinstance(a, Reg) and not (cur >> a.id) & 1:
                    need[a.id] = a
        return [need[k] for k in sorted(need)]

    # -- emission -----------------------------------------------------------

    def emit(self, indent: int, text: str, loc: Loc | None = None) -> None:
        self.lines.append("    " * indent + text)
        self.locs.append(loc)

    def opnd(self, a: Operand) -> str:
        return f"r{a.id}" if isinstance(a, Reg) else _literal(a)

    def block_loc(self, bid: int) -> Loc | None:
        blk = self.fn.blocks[bid]
        for ins in blk.instrs:
            if ins.loc is not None:
                return ins.loc
        return blk.term.loc or self.fn.loc

    def translate(self) -> Translation:
        fn = self.fn
        env = self.env
        pyname = env.fn_names[fn.name]
        is_leaf = env.is_leaf(fn.name)
        params = ", ".join(f"r{p.id}" for p in fn.params)
        self.emit(0, f"def {pyname}({params}):", fn.loc)
        header_at = len(self.lines)
        for reg in self._maybe_undefined():
            self.emit(1, f"r{reg.id} = {_zero_literal(reg.ty)}")
        roots = sorted(self.roots)
        if roots == [0]:
            self.emit_root(0, 1, in_dispatch=False)
        else:
            self.emit(1, "_b = 0")
            self.emit(1, "while True:")
            self.emit_dispatch(roots, 2)
        if not is_leaf and not any("yield" in line for line in self.lines):
            self.emit(1, "yield")  # unreachable calls only: still a generator
        decl = sorted(self.globals_written) + (["_fuel"] if self.fuel else [])
        if decl:
            self.lines.insert(header_at, "    global " + ", ".join(decl))
            self.locs.insert(header_at, None)
        return Translation(pyname, "\n".join(self.lines) + "\n", self.locs, is_leaf)

    def emit_dispatch(self, roots: list[int], indent: int) -> None:
        if len(roots) <= 3:
            for i, r in enumerate(roots):
                if len(roots) == 1:
                    self.emit_root(r, indent, in_dispatch=True)
                    return
                if i == 0:
                    self.emit(indent, f"if _b == {r}:")
                elif i < len(roots) - 1:
                    self.emit(indent, f"elif _b == {r}:")
                else:
                    self.emit(indent, "else:")
                self.emit_root(r, indent + 1, in_dispatch=True)
            return
        mid = len(roots) // 2
        self.emit(indent, f"if _b < {roots[mid]}:")
        self.emit_dispatch(roots[:mid], indent + 1)
        self.emit(indent, "else:")
        self.emit_dispatch(roots[mid:], indent + 1)

    def emit_root(self, root: int, indent: int, *, in_dispatch: bool) -> None:
        self.cur_root = root
        self.cur_looped = root in self.self_loop
        self.in_dispatch = in_dispatch
        if self.cur_looped:
            self.emit(indent, "while True:")
            indent += 1
        self.emit_block(root, indent)

    def goto(self, target: int, indent: int) -> None:
        if target not in self.roots:
            self.emit_block(target, indent)
        elif target == self.cur_root and self.cur_looped:
            self.emit(indent, "continue")
        else:
            self.emit(indent, f"_b = {target}")
            self.emit(indent, "break" if self.cur_looped else "continue")

    def emit_block(self, bid: int, indent: int) -> None:
        blk = self.fn.blocks[bid]
        if self.fuel:
            loc = self.block_loc(bid)
            self.emit(indent, "_fuel -= 1", loc)
            self.emit(indent, "if _fuel < 0: _nofuel()", loc)
        for ins in blk.instrs:
            self.emit_instr(ins, indent)
        term = blk.term
        if term.op == "jump":
            self.goto(term.targets[0], indent)
        elif term.op == "br":
            cond = term.args[0]
            then_t, else_t = term.targets
            if isinstance(cond, Const):
                self.goto(then_t if cond.value else else_t, indent)
            else:
                self.emit(indent, f"if {self.opnd(cond)}:", term.loc)
                self.goto(then_t, indent + 1)
                self.emit(indent, "else:", term.loc)
                self.goto(else_t, indent + 1)
        elif term.op == "ret":
            value = self.opnd(term.args[0]) if term.args else "None"
            self.emit(indent, f"return {value}", term.loc)
        else:
            self.emit(indent, "_unreachable()", term.loc or self.fn.loc)

    # -- instructions -------------------------------------------------------

    def text_of(self, a: Operand) -> str:
        """Python expression for the display form of operand ``a``."""
        x = self.opnd(a)
        ty = a.ty
        if ty == I64:
            return f"str({x})"
        if ty == F64:
            return f"_fmt({x})"
        if ty == BOOL:
            return f'("true" if {x} else "false")'
        if ty == TEXT:
            return x
        return f"_display({x}, {self.env.bind(ty)})"

    def emit_instr(self, ins: Instr, indent: int) -> None:
        op = ins.op
        loc = ins.loc
        a = [self.opnd(x) for x in ins.args]
        d = f"r{ins.dst.id}" if ins.dst is not None else None

        def put(expr: str) -> None:
            if d is None:
                self.emit(indent, expr, loc)
            else:
                self.emit(indent, f"{d} = {expr}", loc)

        simple = _SIMPLE.get(op)
        if simple is not None:
            if d is not None or op not in _VALUE_ONLY:
                put(simple.format(*a))
            return
        if op == "ttrim":  # White_Space from the Unicode tables, loaded on first use
            if d is not None:
                put(f"{self.env.bind(ttrim)}({a[0]})")
        elif op in ("iadd", "isub"):
            put(f"{a[0]} {'+' if op == 'iadd' else '-'} {a[1]}")
            if d is not None:
                c = ins.args[1]
                sign = 0
                if isinstance(c, Const) and isinstance(c.value, int):
                    sign = 1 if (c.value >= 0) == (op == "iadd") else -1
                if sign >= 0:
                    self.emit(indent, f"if {d} > {_MAX}: {d} -= {_TWO64}", loc)
                if sign <= 0:
                    kw = "elif" if sign == 0 else "if"
                    self.emit(indent, f"{kw} {d} < {_MIN}: {d} += {_TWO64}", loc)
        elif op in ("imul", "ishl", "ineg", "iabs"):
            if op == "imul":
                put(f"{a[0]} * {a[1]}")
            elif op == "ishl":
                sh = ins.args[1]
                if isinstance(sh, Const) and isinstance(sh.value, int):
                    count = str(sh.value & 63)
                else:
                    count = f"({a[1]} & 63)"
                put(f"{a[0]} << {count}")
            elif op == "ineg":
                put(f"-{a[0]}")
            else:
                put(f"abs({a[0]})")
            if d is not None:
                if op in ("ineg", "iabs"):
                    self.emit(indent, f"if {d} > {_MAX}: {d} = {_MIN}", loc)
                else:
                    self.emit(indent, f"if not {_MIN} <= {d} <= {_MAX}: {d} = _wrap({d})", loc)
        elif op in ("idiv", "irem"):
            pyop, helper = ("//", "_idiv") if op == "idiv" else ("%", "_irem")
            c = ins.args[1]
            if isinstance(c, Const) and isinstance(c.value, int) and c.value > 0:
                put(f"{a[0]} {pyop} {a[1]} if {a[0]} >= 0 else -(-{a[0]} {pyop} {a[1]})")
            else:
                put(
                    f"{a[0]} {pyop} {a[1]} if {a[0]} >= 0 and {a[1]} > 0 else {helper}({a[0]}, {a[1]})"
                )
        elif op == "fdiv":
            c = ins.args[1]
            if isinstance(c, Const) and c.value:
                put(f"{a[0]} / {a[1]}")
            else:
                put(f"{a[0]} / {a[1]} if {a[1]} else _fdiv({a[0]}, {a[1]})")
        elif op == "totext":
            put(self.text_of(ins.args[0]))
        elif op == "print":
            self.emit(indent, f"_print({self.text_of(ins.args[0])})", loc)
        elif op == "call":
            callee = ins.extra
            assert isinstance(callee, str)
            args = ", ".join(a)
            if callee not in self.env.fn_names:
                put(f"_nofunc({callee!r})")
            elif self.env.is_leaf(callee):
                put(f"{self.env.fn_names[callee]}({args})")
            else:
                put(f"(yield {self.env.fn_names[callee]}({args}))")
        elif op == "callext":
            put(f"_callext({ins.extra!r}, ({''.join(x + ', ' for x in a)}))")
        elif op == "gload":
            assert isinstance(ins.extra, str)
            put(self.env.global_names[ins.extra])
        elif op == "gstore":
            assert isinstance(ins.extra, str)
            g = self.env.global_names[ins.extra]
            self.globals_written.add(g)
            self.emit(indent, f"{g} = {a[0]}", loc)
        elif op in ("incref", "decref"):
            return
        elif op in ("array_new", "struct_new", "tuple_new"):
            items = "".join(x + ", " for x in a)
            put(f"[{items}]" if op == "array_new" else f"({items})")
        elif op in ("field_get", "tuple_get"):
            put(f"{a[0]}[{ins.extra}]")
        elif op == "field_set":
            i = ins.extra
            assert isinstance(i, int)
            put(f"{a[0]}[:{i}] + ({a[1]},) + {a[0]}[{i + 1}:]")
        elif op == "enum_new":
            assert isinstance(ins.extra, str)
            ename, vname = ins.extra.split(".", 1)
            tag = self.env.module.enums[ename].variant_index(vname)
            put(f"({tag}, {''.join(x + ', ' for x in a)})")
        elif op == "enum_field":
            assert isinstance(ins.extra, str)
            put(f"{a[0]}[{int(ins.extra.split('.')[1]) + 1}]")
        elif op == "opt_some":
            ty = ins.dst.ty if ins.dst is not None else None
            boxed = isinstance(ty, OptionT) and some_is_boxed(ty.inner)
            put(f"({a[0]},)" if boxed else a[0])
        elif op == "opt_get":
            ty = ins.args[0].ty
            boxed = isinstance(ty, OptionT) and some_is_boxed(ty.inner)
            put(f"{a[0]}[0]" if boxed else a[0])
        elif op == "array_pop":
            put(f"{a[0]}.pop()")
        else:
            raise NotImplementedError(f"interpreter: MIR op {op!r} not supported")


# Ops translated by one expression template (``{0}``, ``{1}``... are operands).
_SIMPLE: dict[str, str] = {
    "copy": "{0}",
    "ipow": "_ipow({0}, {1})",
    "iand": "{0} & {1}",
    "ior": "{0} | {1}",
    "ixor": "{0} ^ {1}",
    "ishr": "{0} >> ({1} & 63)",
    "inot": "~{0}",
    "imin": "{0} if {0} < {1} else {1}",
    "imax": "{0} if {0} > {1} else {1}",
    "fadd": "{0} + {1}",
    "fsub": "{0} - {1}",
    "fmul": "{0} * {1}",
    "frem": "_frem({0}, {1})",
    "fpow": "_fpow({0}, {1})",
    "fneg": "-{0}",
    "fabs": "abs({0})",
    "fsqrt": "_sqrt({0}) if {0} >= 0.0 else _NAN",
    "fmin": "{0} if {0} < {1} else {1}",
    "fmax": "{0} if {0} > {1} else {1}",
    "not": "not {0}",
    "i2f": "float({0})",
    "f2i": "_f2i({0})",
    "b2i": "1 if {0} else 0",
    "select": "{1} if {0} else {2}",
    "tconcat": "{0} + {1}",
    "tlen": "len({0})",
    "tcontains": "{1} in {0}",
    "tstarts": "{0}.startswith({1})",
    "tends": "{0}.endswith({1})",
    "tupper": "_tupper({0})",
    "tlower": "_tlower({0})",
    "trepeat": "_trepeat({0}, {1})",
    "array_get": "{0}[{1}]",
    "array_set": "{0}[{1}] = {2}",
    "array_len": "len({0})",
    "array_push": "{0}.append({1})",
    "enum_tag": "{0}[0]",
    "opt_none": "None",
    "opt_is_some": "{0} is not None",
}
for _p, _sym in (("eq", "=="), ("ne", "!="), ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">=")):
    for _k in "ift":
        _SIMPLE[_k + _p] = "{0} %s {1}" % _sym  # noqa: UP031
_SIMPLE["beq"] = "{0} == {1}"
_SIMPLE["bne"] = "{0} != {1}"

# Ops whose only effect is their value: skipped when the result is unused.
# (Ops that can fail, like ``ipow`` or ``array_get``, are still evaluated.)
_VALUE_ONLY = frozenset(
    k for k in _SIMPLE if k not in ("ipow", "array_get", "array_set", "array_push", "trepeat")
)


def _zero_literal(ty: Type) -> str:
    if ty == I64:
        return "0"
    if ty == F64:
        return "0.0"
    if ty == BOOL:
        return "False"
    if ty == TEXT:
        return "''"
    return "None"


def translate(env: Env, fn: Function, *, fuel: bool) -> Translation:
    """Translate ``fn`` to Python source (see the module docstring)."""
    return _Translator(env, fn, fuel).translate()
