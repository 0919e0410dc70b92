"""A WebAssembly binary encoder: LEB128, sections, and an instruction assembler.

The backend emits the binary format itself (no text-format toolchain): a
``ModuleBuilder`` collects types, imports, functions, one memory, globals,
exports and data segments, and ``encode`` lays them out as sections in the
order the specification requires.

Function bodies are written with ``Code``, either instruction by instruction
(``code.op("i64.add")``, ``code.op("local.get", 3)``) or as assembly text
(``code.asm(...)``), one instruction per line, with named locals, globals,
functions and block labels::

    local.get $n
    i64.eqz
    if $done
      ...
      br $done
    end

Names are resolved when the module is encoded, so functions can refer to
each other in any order.  Only the instructions this backend needs are in
``OPCODES`` (MVP integer/float/memory/control, saturating truncation and the
bulk-memory copy/fill).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

I32 = 0x7F
I64 = 0x7E
F64 = 0x7C
VALTYPE_NAMES = {"i32": I32, "i64": I64, "f64": F64}
EMPTY_BLOCK = 0x40

MAGIC = b"\0asm"
VERSION = b"\x01\0\0\0"


class EncodeError(Exception):
    """A malformed instruction or an unresolved name (a bug in the code generator)."""


# --------------------------------------------------------------------------
# LEB128


def uleb(n: int) -> bytes:
    """Unsigned LEB128."""
    if n < 0:
        raise EncodeError(f"uleb of negative {n}")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def sleb(n: int) -> bytes:
    """Signed LEB128."""
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        done = (n == 0 and not byte & 0x40) or (n == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    """Decode an unsigned LEB128 at ``pos``; returns (value, next position)."""
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def read_sleb(data: bytes, pos: int) -> tuple[int, int]:
    """Decode a signed LEB128 at ``pos``; returns (value, next position)."""
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            if byte & 0x40:
                result -= 1 << shift
            return result, pos


def vec(items: list[bytes]) -> bytes:
    return uleb(len(items)) + b"".join(items)


def name(s: str) -> bytes:
    data = s.encode("utf-8")
    return uleb(len(data)) + data


# --------------------------------------------------------------------------
# instructions

# immediate kinds: "" none, "l" local, "g" global, "f" function, "b" label
# depth, "bt" block type, "i32"/"i64"/"f64" constants, "m<align>" memarg,
# "mem" a memory index byte, "mem2" two of them, "tbl" br_table, "ci" a
# call_indirect's type index (table 0).
OPCODES: dict[str, tuple[bytes, str]] = {
    "unreachable": (b"\x00", ""),
    "nop": (b"\x01", ""),
    "block": (b"\x02", "bt"),
    "loop": (b"\x03", "bt"),
    "if": (b"\x04", "bt"),
    "else": (b"\x05", ""),
    "end": (b"\x0b", ""),
    "br": (b"\x0c", "b"),
    "br_if": (b"\x0d", "b"),
    "br_table": (b"\x0e", "tbl"),
    "return": (b"\x0f", ""),
    "call": (b"\x10", "f"),
    "call_indirect": (b"\x11", "ci"),  # immediate: a type index; table 0
    "drop": (b"\x1a", ""),
    "select": (b"\x1b", ""),
    "local.get": (b"\x20", "l"),
    "local.set": (b"\x21", "l"),
    "local.tee": (b"\x22", "l"),
    "global.get": (b"\x23", "g"),
    "global.set": (b"\x24", "g"),
    "i32.load": (b"\x28", "m2"),
    "i64.load": (b"\x29", "m3"),
    "f64.load": (b"\x2b", "m3"),
    "i32.load8_s": (b"\x2c", "m0"),
    "i32.load8_u": (b"\x2d", "m0"),
    "i32.load16_u": (b"\x2f", "m1"),
    "i64.load8_u": (b"\x31", "m0"),
    "i32.store": (b"\x36", "m2"),
    "i64.store": (b"\x37", "m3"),
    "f64.store": (b"\x39", "m3"),
    "i32.store8": (b"\x3a", "m0"),
    "i32.store16": (b"\x3b", "m1"),
    "i64.store8": (b"\x3c", "m0"),
    "memory.size": (b"\x3f", "mem"),
    "memory.grow": (b"\x40", "mem"),
    "i32.const": (b"\x41", "i32"),
    "i64.const": (b"\x42", "i64"),
    "f64.const": (b"\x44", "f64"),
    "i32.trunc_sat_f64_s": (b"\xfc\x02", ""),
    "i64.trunc_sat_f64_s": (b"\xfc\x06", ""),
    "memory.copy": (b"\xfc\x0a", "mem2"),
    "memory.fill": (b"\xfc\x0b", "mem"),
}

_SIMPLE = {
    0x45: "i32.eqz i32.eq i32.ne i32.lt_s i32.lt_u i32.gt_s i32.gt_u i32.le_s i32.le_u "
    "i32.ge_s i32.ge_u i64.eqz i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u "
    "i64.le_s i64.le_u i64.ge_s i64.ge_u",
    0x61: "f64.eq f64.ne f64.lt f64.gt f64.le f64.ge i32.clz i32.ctz i32.popcnt i32.add "
    "i32.sub i32.mul i32.div_s i32.div_u i32.rem_s i32.rem_u i32.and i32.or i32.xor "
    "i32.shl i32.shr_s i32.shr_u i32.rotl i32.rotr i64.clz i64.ctz i64.popcnt i64.add "
    "i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor "
    "i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr",
    0x99: "f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt f64.add "
    "f64.sub f64.mul f64.div f64.min f64.max f64.copysign i32.wrap_i64",
    0xAA: "i32.trunc_f64_s",
    0xAC: "i64.extend_i32_s i64.extend_i32_u",
    0xB0: "i64.trunc_f64_s",
    0xB7: "f64.convert_i32_s f64.convert_i32_u f64.convert_i64_s f64.convert_i64_u",
    0xBD: "i64.reinterpret_f64",
    0xBF: "f64.reinterpret_i64",
}
for _start, _names in _SIMPLE.items():
    for _i, _n in enumerate(_names.split()):
        OPCODES[_n] = (bytes([_start + _i]), "")

_BLOCK_OPS = frozenset({"block", "loop", "if"})


@dataclass
class FuncType:
    params: tuple[int, ...]
    results: tuple[int, ...]

    def encode(self) -> bytes:
        return (
            b"\x60"
            + uleb(len(self.params))
            + bytes(self.params)
            + uleb(len(self.results))
            + bytes(self.results)
        )


class Code:
    """The body of one function: typed locals and an instruction stream.

    Parameters are locals ``0 .. len(params)-1``; ``local(ty, name)`` adds
    more.  Instructions are kept symbolically (names are resolved by the
    module at encoding time), and ``offsets`` records, for callers that ask
    (``mark``), where an instruction starts within the encoded body.
    """

    def __init__(self, params: list[int], param_names: list[str] | None = None) -> None:
        self.params = list(params)
        self.local_types: list[int] = []
        self.local_names: dict[str, int] = {}
        for i, pname in enumerate(param_names or []):
            self.local_names[pname] = i
        self.instrs: list[tuple[str, object]] = []
        self._labels: list[str | None] = []
        self.marks: list[tuple[int, object]] = []  # (instruction index, tag)
        # constructs (block/loop/if) opened by ``op`` and not yet ended
        self.depth = 0

    def local(self, ty: int, lname: str | None = None) -> int:
        index = len(self.params) + len(self.local_types)
        self.local_types.append(ty)
        if lname is not None:
            self.local_names[lname] = index
        return index

    def op(self, opname: str, imm: object = None) -> None:
        if opname not in OPCODES:
            raise EncodeError(f"unknown instruction {opname}")
        if opname in _BLOCK_OPS:
            self.depth += 1
        elif opname == "end":
            self.depth -= 1
        self.instrs.append((opname, imm))

    def mark(self, tag: object) -> None:
        """Remember that the next instruction carries ``tag`` (e.g. a source position)."""
        self.marks.append((len(self.instrs), tag))

    # assembly text ------------------------------------------------------

    def asm(self, text: str, **consts: int) -> None:
        """Append instructions written one per line (``;;`` starts a comment).

        ``$name`` immediates name locals (``local.*``), globals (``global.*``),
        functions (``call``) or enclosing labels (``br*``).  Keyword arguments
        substitute ``@KEY`` tokens with integers.
        """
        for raw in text.splitlines():
            line = raw.split(";;", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            opname = parts[0]
            args = [self._subst(a, consts) for a in parts[1:]]
            if opname not in OPCODES:
                raise EncodeError(f"unknown instruction {opname!r} in {raw!r}")
            kind = OPCODES[opname][1]
            if opname in _BLOCK_OPS:
                label = None
                bt: object = None
                for a in args:
                    if a.startswith("$"):
                        label = a
                    elif a.startswith("(result"):
                        pass
                    else:
                        bt = a.rstrip(")")
                self._labels.append(label)
                self.instrs.append((opname, bt))
            elif opname == "end":
                if self._labels:
                    self._labels.pop()
                self.instrs.append((opname, None))
            elif kind == "":
                self.instrs.append((opname, None))
            elif kind == "b":
                self.instrs.append((opname, self._label_depth(args[0])))
            elif kind == "l":
                a = args[0]
                self.instrs.append((opname, self.local_names[a] if a.startswith("$") else int(a)))
            elif kind in ("g", "f"):
                self.instrs.append((opname, args[0]))
            elif kind.startswith("m") and kind not in ("mem", "mem2"):
                offset = 0
                for a in args:
                    if a.startswith("offset="):
                        offset = int(a[7:], 0)
                self.instrs.append((opname, offset))
            elif kind in ("i32", "i64"):
                self.instrs.append((opname, int(args[0], 0)))
            elif kind == "f64":
                self.instrs.append((opname, float(args[0])))
            elif kind in ("mem", "mem2"):
                self.instrs.append((opname, None))
            else:
                raise EncodeError(f"cannot assemble {line!r}")

    @staticmethod
    def _subst(token: str, consts: dict[str, int]) -> str:
        if token.startswith("@"):
            return str(consts[token[1:]])
        if token.startswith("offset=@"):
            return "offset=" + str(consts[token[8:]])
        return token

    def _label_depth(self, a: str) -> int:
        if not a.startswith("$"):
            return int(a)
        for depth, label in enumerate(reversed(self._labels)):
            if label == a:
                return depth
        raise EncodeError(f"unknown label {a}")

    # encoding -------------------------------------------------------------

    def encode(self, mod: ModuleBuilder) -> tuple[bytes, list[tuple[int, object]]]:
        """The body (locals + instructions + end) and the byte offsets of marks."""
        runs: list[bytes] = []
        i = 0
        while i < len(self.local_types):
            j = i
            while j < len(self.local_types) and self.local_types[j] == self.local_types[i]:
                j += 1
            runs.append(uleb(j - i) + bytes([self.local_types[i]]))
            i = j
        head = vec(runs)
        out = bytearray(head)
        marks = dict(self.marks) if self.marks else {}
        found: list[tuple[int, object]] = []
        for index, (opname, imm) in enumerate(self.instrs):
            if index in marks:
                found.append((len(out), marks[index]))
            code, kind = OPCODES[opname]
            out += code
            if kind == "":
                pass
            elif kind == "bt":
                out.append(EMPTY_BLOCK if imm is None else VALTYPE_NAMES[str(imm)])
            elif kind in ("b", "l"):
                assert isinstance(imm, int)
                out += uleb(imm)
            elif kind == "g":
                out += uleb(mod.global_index(imm))
            elif kind == "f":
                out += uleb(mod.func_index(imm))
            elif kind == "ci":
                assert isinstance(imm, int)
                out += uleb(imm) + b"\x00"
            elif kind == "i32":
                assert isinstance(imm, int)
                out += sleb(((imm + (1 << 31)) & 0xFFFFFFFF) - (1 << 31))
            elif kind == "i64":
                assert isinstance(imm, int)
                out += sleb(((imm + (1 << 63)) & ((1 << 64) - 1)) - (1 << 63))
            elif kind == "f64":
                assert isinstance(imm, float)
                out += struct.pack("<d", imm)
            elif kind == "mem":
                out.append(0)
            elif kind == "mem2":
                out += b"\0\0"
            elif kind == "tbl":
                assert isinstance(imm, list)
                out += vec([uleb(d) for d in imm[:-1]]) + uleb(imm[-1])
            else:  # memarg
                assert isinstance(imm, int)
                out += uleb(int(kind[1:])) + uleb(imm)
        out.append(0x0B)
        return bytes(out), found


@dataclass
class _Func:
    name: str
    type_index: int
    code: Code | None = None  # None for imports
    export: str | None = None


@dataclass
class _Global:
    name: str
    ty: int
    mutable: bool
    init: int | float
    export: str | None = None


@dataclass
class ModuleBuilder:
    """Collects the parts of one module; ``encode()`` returns its binary form."""

    types: list[FuncType] = field(default_factory=list)
    imports: list[tuple[str, str, _Func]] = field(default_factory=list)
    funcs: list[_Func] = field(default_factory=list)
    globals: list[_Global] = field(default_factory=list)
    data: list[tuple[int, bytes]] = field(default_factory=list)
    memory_pages: int = 1
    memory_export: str | None = "memory"
    # Imported instead of defined (modules sharing one store, see wasm/units.py):
    # (module, field) of memory 0 and of table 0 (funcref, ``table_min`` slots),
    # and imported globals, which come first in the global index space.
    memory_import: tuple[str, str] | None = None
    table_import: tuple[str, str] | None = None
    table_min: int = 0
    global_imports: list[tuple[str, str, _Global]] = field(default_factory=list)
    module_name: str | None = None  # written to a "name" custom section
    _func_names: dict[str, int] = field(default_factory=dict)
    _global_names: dict[str, int] = field(default_factory=dict)
    # after encode(): function name -> offset of its body in the module, and
    # (module offset, tag) of every marked instruction
    body_offsets: dict[str, int] = field(default_factory=dict)
    marks: list[tuple[int, object]] = field(default_factory=list)

    def type_index(self, params: list[int], results: list[int]) -> int:
        ft = FuncType(tuple(params), tuple(results))
        for i, t in enumerate(self.types):
            if t == ft:
                return i
        self.types.append(ft)
        return len(self.types) - 1

    def import_func(
        self, module: str, field_name: str, fname: str, params: list[int], results: list[int]
    ) -> None:
        if self.funcs:
            raise EncodeError("imports must be declared before functions")
        f = _Func(fname, self.type_index(params, results))
        self._func_names[fname] = len(self.imports)
        self.imports.append((module, field_name, f))

    def func(
        self,
        fname: str,
        params: list[int],
        results: list[int],
        param_names: list[str] | None = None,
        export: str | None = None,
    ) -> Code:
        code = Code(params, param_names)
        f = _Func(fname, self.type_index(params, results), code, export)
        self._func_names[fname] = len(self.imports) + len(self.funcs)
        self.funcs.append(f)
        return code

    def import_global(
        self, module: str, field_name: str, gname: str, ty: int, *, mutable: bool = True
    ) -> None:
        if self.globals:
            raise EncodeError("global imports must be declared before globals")
        self._global_names[gname] = len(self.global_imports)
        self.global_imports.append((module, field_name, _Global(gname, ty, mutable, 0)))

    def global_(
        self,
        gname: str,
        ty: int,
        init: int | float,
        *,
        mutable: bool = True,
        export: str | None = None,
    ) -> None:
        self._global_names[gname] = len(self.global_imports) + len(self.globals)
        self.globals.append(_Global(gname, ty, mutable, init, export))

    def has_func(self, fname: str) -> bool:
        return fname in self._func_names

    def func_index(self, ref: object) -> int:
        key = str(ref)
        if key.startswith("$"):
            key = key[1:]
        try:
            return self._func_names[key]
        except KeyError:
            raise EncodeError(f"unknown function {ref}") from None

    def global_index(self, ref: object) -> int:
        key = str(ref)
        if key.startswith("$"):
            key = key[1:]
        try:
            return self._global_names[key]
        except KeyError:
            raise EncodeError(f"unknown global {ref}") from None

    def encode(self) -> bytes:
        out = bytearray(MAGIC + VERSION)

        def section(sid: int, payload: bytes) -> None:
            out.append(sid)
            out.extend(uleb(len(payload)))
            out.extend(payload)

        section(1, vec([t.encode() for t in self.types]))
        entries = [name(m) + name(n) + b"\x00" + uleb(f.type_index) for m, n, f in self.imports]
        if self.table_import is not None:
            m, n = self.table_import
            entries.append(name(m) + name(n) + b"\x01\x70\x00" + uleb(self.table_min))
        if self.memory_import is not None:
            m, n = self.memory_import
            entries.append(name(m) + name(n) + b"\x02\x00" + uleb(self.memory_pages))
        for m, n, g in self.global_imports:
            entries.append(name(m) + name(n) + b"\x03" + bytes([g.ty, 1 if g.mutable else 0]))
        if entries:
            section(2, vec(entries))
        section(3, vec([uleb(f.type_index) for f in self.funcs]))
        if self.memory_import is None:
            section(5, vec([b"\x00" + uleb(self.memory_pages)]))
        if self.globals:
            items = []
            for g in self.globals:
                if g.ty == I32:
                    init = b"\x41" + sleb(int(g.init))
                elif g.ty == I64:
                    init = b"\x42" + sleb(int(g.init))
                else:
                    init = b"\x44" + struct.pack("<d", float(g.init))
                items.append(bytes([g.ty, 1 if g.mutable else 0]) + init + b"\x0b")
            section(6, vec(items))
        exports: list[bytes] = []
        for i, f in enumerate(self.funcs):
            if f.export is not None:
                exports.append(name(f.export) + b"\x00" + uleb(len(self.imports) + i))
        if self.memory_export is not None:
            exports.append(name(self.memory_export) + b"\x02" + uleb(0))
        for i, g in enumerate(self.globals):
            if g.export is not None:
                exports.append(name(g.export) + b"\x03" + uleb(len(self.global_imports) + i))
        section(7, vec(exports))
        # code section: its payload offset is known once the header is written
        bodies: list[tuple[bytes, list[tuple[int, object]]]] = []
        for f in self.funcs:
            assert f.code is not None
            bodies.append(f.code.encode(self))
        payload = bytearray(uleb(len(bodies)))
        rel: list[tuple[str, int, list[tuple[int, object]]]] = []
        for f, (body, marks) in zip(self.funcs, bodies, strict=True):
            payload += uleb(len(body))
            rel.append((f.name, len(payload), marks))
            payload += body
        out.append(10)
        out.extend(uleb(len(payload)))
        base = len(out)
        out.extend(payload)
        self.body_offsets = {}
        self.marks = []
        for fname, off, marks in rel:
            self.body_offsets[fname] = base + off
            self.marks.extend((base + off + m, tag) for m, tag in marks)
        if self.data:
            section(
                11,
                vec(
                    [
                        b"\x00\x41" + sleb(offset) + b"\x0b" + uleb(len(blob)) + blob
                        for offset, blob in self.data
                    ]
                ),
            )
        if self.module_name is not None:
            sub = name(self.module_name)
            section(0, name("name") + b"\x00" + uleb(len(sub)) + sub)
        return bytes(out)
