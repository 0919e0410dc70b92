"""The runtime library inside every generated module, written in wasm assembly.

Memory layout (linear memory 0, addresses in bytes):

* ``0 .. 256``: never used (0 is the null text);
* ``FREE_LISTS``: 32 heads of free lists, one per power-of-two size class;
* ``SCRATCH .. SCRATCH_END``: digits of numbers being formatted;
* ``OUT .. OUT + OUT_CAP``: the output buffer; ``print`` appends to it and the
  host's ``flush(ptr, len)`` import is called only when it is full and when
  the program ends (or fails);
* ``DATA_START ..``: immortal text literals (active data segments);
* the heap after them, growing with ``memory.grow``.

A text is ``{i32 rc, i32 len, u8 data[len]}``; literals have ``rc = -1`` and
are never freed.  ``rt_alloc`` rounds ``8 + len`` up to a power of two (at
least 16) and takes a block from that class's free list, or from the top of
the heap; ``rt_decref`` puts a block back on its list when the count drops to
zero, so loops that build and drop texts run in constant memory.

Tier 2.  Objects come from the same allocator and share the text header's
first word, the reference count (so ``rt_incref`` serves texts and objects):

* records (structs, tuples, enum values, ``Some`` boxes) are ``{i32 rc, i32
  size, i32 desc, i32 tag, slots...}`` with 8-byte slots from offset 16;
* arrays are ``{i32 rc, i32 size, i32 desc, i32 len, i32 cap, i32 data}``;
  ``data`` is a separate block (its header's second word is its byte size)
  whose slots start at offset 8, or 0 while the capacity is 0.  Arrays are
  shared and mutated in place; growth doubles the capacity (at least 3)
  and rounds it up to fill the data block's size class;
* a slot holds an i64, an f64, or an i32 (bool 0/1, a text or an object
  pointer) in its low half; ``[bool]`` arrays are packed, one byte (0/1)
  per element;
* an option is 0 (``nil``) or a one-slot ``Some`` box, whatever its inner
  type;
* ``desc`` points at a constant descriptor that the code generator lays out
  in the data segment once per type: ``{kind, name, nvariants, variants}``,
  each variant ``{name, nslots, kinds, fields}`` (``kinds``: one ``SLOT_*``
  byte per slot; ``fields``: text pointers to struct field names; names are
  immortal texts).  ``rt_obj_decref`` frees a tree of objects iteratively:
  objects whose count reaches zero are chained through their (now unused)
  count word, so no stack or extra memory is needed.  ``rt_obj_print`` and
  ``rt_obj_totext`` display a value by walking it with the descriptors
  (``rt_disp_obj``, recursive like the value) into one growable string
  buffer (``sb``) that the instance keeps; it is not counted as live.

Runtime errors do not trap where they happen: ``rt_set_error`` records the
kind and position in globals and the generated code unwinds (see
``codegen``); the entry point then calls ``rt_raise``, which calls the
``error`` import.

Host imports (module ``env``), kept off hot paths:

* ``error(kind, line, col)``: records a runtime error and traps (never returns);
* ``flush(ptr, len)``: writes output bytes;
* ``f64_text(x) -> text``: the display form of floats the in-module fast
  path cannot prove shortest;
* ``text_op(op, t) -> text``: upper (1), lower (2) and trim (3) of non-ASCII
  texts, with the Unicode tables of ``semantics``;
* ``pow(a, b)``: C's ``pow`` (the interpreter's ``math.pow``: glibc's pow
  is not correctly rounded, so even ``x ** 2.0`` is not always ``x * x``);
  ``rt_pow`` answers in-module only the cases exact by definition.

``fmod`` is exact in C, and ``rt_fmod`` computes it exactly in the module:
binary long division of ``|x|`` by ``|y| * 2**k``, each subtraction exact by
Sterbenz's lemma (``t <= r < 2t``).  The ``fmod`` import is kept for tests.
"""

from __future__ import annotations

from simple_jit.wasm.encoder import F64, I32, I64, ModuleBuilder

FREE_LISTS = 256
SCRATCH = 512
SCRATCH_END = 600  # the digits of a u64 end here; a newline may follow
SCRATCH2 = 640  # formatted floats are assembled here (at most 64 bytes)
OUT = 1024
OUT_CAP = 65536
DATA_START = OUT + OUT_CAP
MAX_LEN = 0x7FFFFF00

# error kinds of the ``error`` import
ERR_DIV_ZERO = 1
ERR_NEG_EXP = 2
ERR_INDEX = 3
ERR_POP_EMPTY = 4
ERR_STACK = 5
ERR_MEMORY = 6

# Tier-2 objects (see "Tier 2" above); byte offsets.
OBJ_DESC = 8
OBJ_TAG = 12
OBJ_SLOTS = 16
ARR_LEN = 12
ARR_CAP = 16
ARR_DATA = 20
ARR_SIZE = 16  # payload bytes of an array header (desc, len, cap, data)
DATA_SLOTS = 8  # slots of an array's data block start after its 8-byte header
MAX_DATA = 0x40000000  # an array whose data has this many bytes cannot grow
# descriptor {kind, name, nvariants, variants}, variant {name, nslots, kinds, fields}
DESC_SIZE = 16
VARIANT_SIZE = 16
SLOT_I64, SLOT_F64, SLOT_BOOL, SLOT_UNIT, SLOT_TEXT, SLOT_OBJ = range(6)
DESC_ARRAY, DESC_STRUCT, DESC_TUPLE, DESC_ENUM, DESC_SOME = range(1, 6)

TEXT_UPPER = 1
TEXT_LOWER = 2
TEXT_TRIM = 3

# The depth of Simple calls inside a recursive cycle at which ``stack
# overflow`` is raised (the interpreter's limit).
MAX_DEPTH = 200_000

# literals the runtime itself returns
RUNTIME_LITERALS = ("", "NaN", "inf", "-inf", "true", "false", "()", "nil")


def declare_imports(m: ModuleBuilder) -> None:
    m.import_func("env", "error", "host_error", [I32, I32, I32], [])
    m.import_func("env", "flush", "host_flush", [I32, I32], [])
    m.import_func("env", "f64_text", "host_f64_text", [F64], [I32])
    m.import_func("env", "text_op", "host_text_op", [I32, I32], [I32])
    m.import_func("env", "fmod", "host_fmod", [F64, F64], [F64])
    m.import_func("env", "pow", "host_pow", [F64, F64], [F64])


def declare_globals(m: ModuleBuilder, heap_start: int) -> None:
    m.global_("heap", I32, heap_start, export="heap")
    m.global_("out_len", I32, 0, export="out_len")
    m.global_("depth", I32, 0, export="depth")
    m.global_("live", I32, 0, export="live_texts")
    # the pending runtime error (kind 0: none), see ``rt_set_error``
    m.global_("err", I32, 0, export="err")
    m.global_("err_line", I32, 0)
    m.global_("err_col", I32, 0)
    # the display buffer: a heap block (0 until first used), its capacity, its length
    m.global_("sb", I32, 0)
    m.global_("sb_cap", I32, 0)
    m.global_("sb_len", I32, 0)


def _f(
    m: ModuleBuilder,
    fname: str,
    params: list[tuple[str, int]],
    results: list[int],
    locals_: list[tuple[str, int]],
    body: str,
    consts: dict[str, int],
    export: str | None = None,
) -> None:
    code = m.func(fname, [t for _, t in params], results, [n for n, _ in params], export=export)
    for n, t in locals_:
        code.local(t, n)
    code.asm(body, **consts)


def define(m: ModuleBuilder, lit: dict[str, int]) -> None:
    """Define every runtime function; ``lit`` maps ``RUNTIME_LITERALS`` to addresses."""
    c = {
        "FREE": FREE_LISTS,
        "SCRATCH_END": SCRATCH_END,
        "SCRATCH2": SCRATCH2,
        "OUT": OUT,
        "CAP": OUT_CAP,
        "MAX_LEN": MAX_LEN,
        "ERR_MEMORY": ERR_MEMORY,
        "UPPER": TEXT_UPPER,
        "LOWER": TEXT_LOWER,
        "TRIM": TEXT_TRIM,
        "EMPTY": lit[""],
        "NAN": lit["NaN"],
        "INF": lit["inf"],
        "NEG_INF": lit["-inf"],
    }
    _define_tier2(
        m, {**c, "TRUE": lit["true"], "FALSE": lit["false"], "UNIT": lit["()"], "NIL": lit["nil"]}
    )
    _f(
        m,
        "rt_oom",
        [],
        [],
        [],
        """
        i32.const @ERR_MEMORY
        i32.const 0
        i32.const 0
        call $host_error
        unreachable
    """,
        c,
    )
    _f(
        m,
        "rt_alloc",
        [("$len", I32)],
        [I32],
        [("$k", I32), ("$head", I32), ("$p", I32), ("$end", I64), ("$pages", I32)],
        """
        local.get $len
        i32.const @MAX_LEN
        i32.gt_u
        if
          call $rt_oom
        end
        i32.const 32
        local.get $len
        i32.const 7
        i32.add
        i32.clz
        i32.sub
        local.tee $k
        i32.const 4
        i32.lt_u
        if
          i32.const 4
          local.set $k
        end
        local.get $k
        i32.const 2
        i32.shl
        i32.const @FREE
        i32.add
        local.tee $head
        i32.load
        local.tee $p
        if
          local.get $head
          local.get $p
          i32.load
          i32.store
        else
          global.get $heap
          local.tee $p
          i64.extend_i32_u
          i64.const 1
          local.get $k
          i64.extend_i32_u
          i64.shl
          i64.add
          local.tee $end
          i64.const 0xFFFF0000
          i64.gt_u
          if
            call $rt_oom
          end
          local.get $end
          memory.size
          i64.extend_i32_u
          i64.const 16
          i64.shl
          i64.gt_u
          if
            local.get $end
            i64.const 65535
            i64.add
            i64.const 16
            i64.shr_u
            i32.wrap_i64
            memory.size
            i32.sub
            local.set $pages
            local.get $pages
            i32.const 16
            local.get $pages
            i32.const 16
            i32.gt_u
            select
            memory.grow
            i32.const -1
            i32.eq
            if
              local.get $pages
              memory.grow
              i32.const -1
              i32.eq
              if
                call $rt_oom
              end
            end
          end
          local.get $end
          i32.wrap_i64
          global.set $heap
        end
        local.get $p
        i32.const 1
        i32.store
        local.get $p
        local.get $len
        i32.store offset=4
        global.get $live
        i32.const 1
        i32.add
        global.set $live
        local.get $p
    """,
        c,
        export="alloc",
    )
    _f(
        m,
        "rt_free",
        [("$p", I32)],
        [],
        [("$k", I32), ("$head", I32)],
        """
        i32.const 32
        local.get $p
        i32.load offset=4
        i32.const 7
        i32.add
        i32.clz
        i32.sub
        local.tee $k
        i32.const 4
        i32.lt_u
        if
          i32.const 4
          local.set $k
        end
        local.get $k
        i32.const 2
        i32.shl
        i32.const @FREE
        i32.add
        local.set $head
        local.get $p
        local.get $head
        i32.load
        i32.store
        local.get $head
        local.get $p
        i32.store
        global.get $live
        i32.const 1
        i32.sub
        global.set $live
    """,
        c,
    )
    _f(
        m,
        "rt_incref",
        [("$p", I32)],
        [],
        [("$rc", I32)],
        """
        local.get $p
        if
          local.get $p
          i32.load
          local.tee $rc
          i32.const 0
          i32.ge_s
          if
            local.get $p
            local.get $rc
            i32.const 1
            i32.add
            i32.store
          end
        end
    """,
        c,
    )
    _f(
        m,
        "rt_decref",
        [("$p", I32)],
        [],
        [("$rc", I32)],
        """
        local.get $p
        if
          local.get $p
          i32.load
          local.tee $rc
          i32.const 1
          i32.eq
          if
            local.get $p
            call $rt_free
          else
            local.get $rc
            i32.const 1
            i32.gt_s
            if
              local.get $p
              local.get $rc
              i32.const 1
              i32.sub
              i32.store
            end
          end
        end
    """,
        c,
    )
    _f(
        m,
        "rt_new",
        [("$src", I32), ("$len", I32)],
        [I32],
        [("$r", I32)],
        """
        local.get $len
        call $rt_alloc
        local.tee $r
        i32.const 8
        i32.add
        local.get $src
        local.get $len
        memory.copy
        local.get $r
    """,
        c,
    )
    _f(
        m,
        "rt_concat",
        [("$a", I32), ("$b", I32)],
        [I32],
        [("$la", I32), ("$lb", I32), ("$r", I32)],
        """
        local.get $a
        i32.load offset=4
        local.tee $la
        i32.eqz
        if
          local.get $b
          call $rt_incref
          local.get $b
          return
        end
        local.get $b
        i32.load offset=4
        local.tee $lb
        i32.eqz
        if
          local.get $a
          call $rt_incref
          local.get $a
          return
        end
        local.get $la
        local.get $lb
        i32.add
        call $rt_alloc
        local.tee $r
        i32.const 8
        i32.add
        local.get $a
        i32.const 8
        i32.add
        local.get $la
        memory.copy
        local.get $r
        i32.const 8
        i32.add
        local.get $la
        i32.add
        local.get $b
        i32.const 8
        i32.add
        local.get $lb
        memory.copy
        local.get $r
    """,
        c,
    )
    _f(
        m,
        "rt_len",
        [("$t", I32)],
        [I64],
        [("$p", I32), ("$e", I32), ("$n", I32)],
        """
        local.get $t
        i32.const 8
        i32.add
        local.tee $p
        local.get $t
        i32.load offset=4
        i32.add
        local.set $e
        block $done
          loop $l
            local.get $p
            local.get $e
            i32.ge_u
            br_if $done
            local.get $p
            i32.load8_u
            i32.const 0xC0
            i32.and
            i32.const 0x80
            i32.ne
            local.get $n
            i32.add
            local.set $n
            local.get $p
            i32.const 1
            i32.add
            local.set $p
            br $l
          end
        end
        local.get $n
        i64.extend_i32_u
    """,
        c,
    )
    _f(
        m,
        "rt_memeq",
        [("$a", I32), ("$b", I32), ("$n", I32)],
        [I32],
        [],
        """
        block $done
          loop $l8
            local.get $n
            i32.const 8
            i32.lt_u
            br_if $done
            local.get $a
            i64.load
            local.get $b
            i64.load
            i64.ne
            if
              i32.const 0
              return
            end
            local.get $a
            i32.const 8
            i32.add
            local.set $a
            local.get $b
            i32.const 8
            i32.add
            local.set $b
            local.get $n
            i32.const 8
            i32.sub
            local.set $n
            br $l8
          end
        end
        block $done1
          loop $l1
            local.get $n
            i32.eqz
            br_if $done1
            local.get $a
            i32.load8_u
            local.get $b
            i32.load8_u
            i32.ne
            if
              i32.const 0
              return
            end
            local.get $a
            i32.const 1
            i32.add
            local.set $a
            local.get $b
            i32.const 1
            i32.add
            local.set $b
            local.get $n
            i32.const 1
            i32.sub
            local.set $n
            br $l1
          end
        end
        i32.const 1
    """,
        c,
    )
    _f(
        m,
        "rt_text_eq",
        [("$a", I32), ("$b", I32)],
        [I32],
        [],
        """
        local.get $a
        local.get $b
        i32.eq
        if
          i32.const 1
          return
        end
        local.get $a
        i32.load offset=4
        local.get $b
        i32.load offset=4
        i32.ne
        if
          i32.const 0
          return
        end
        local.get $a
        i32.const 8
        i32.add
        local.get $b
        i32.const 8
        i32.add
        local.get $a
        i32.load offset=4
        call $rt_memeq
    """,
        c,
    )
    _f(
        m,
        "rt_cmp",
        [("$a", I32), ("$b", I32)],
        [I32],
        [("$la", I32), ("$lb", I32), ("$n", I32), ("$i", I32), ("$ca", I32), ("$cb", I32)],
        """
        local.get $a
        i32.load offset=4
        local.tee $la
        local.get $b
        i32.load offset=4
        local.tee $lb
        local.get $la
        local.get $lb
        i32.lt_u
        select
        local.set $n
        block $done
          loop $l
            local.get $i
            local.get $n
            i32.ge_u
            br_if $done
            local.get $a
            local.get $i
            i32.add
            i32.load8_u offset=8
            local.tee $ca
            local.get $b
            local.get $i
            i32.add
            i32.load8_u offset=8
            local.tee $cb
            i32.ne
            if
              i32.const -1
              i32.const 1
              local.get $ca
              local.get $cb
              i32.lt_u
              select
              return
            end
            local.get $i
            i32.const 1
            i32.add
            local.set $i
            br $l
          end
        end
        local.get $la
        local.get $lb
        i32.gt_u
        local.get $la
        local.get $lb
        i32.lt_u
        i32.sub
    """,
        c,
    )
    _f(
        m,
        "rt_starts",
        [("$t", I32), ("$p", I32)],
        [I32],
        [("$lp", I32)],
        """
        local.get $p
        i32.load offset=4
        local.tee $lp
        local.get $t
        i32.load offset=4
        i32.gt_u
        if
          i32.const 0
          return
        end
        local.get $t
        i32.const 8
        i32.add
        local.get $p
        i32.const 8
        i32.add
        local.get $lp
        call $rt_memeq
    """,
        c,
    )
    _f(
        m,
        "rt_ends",
        [("$t", I32), ("$s", I32)],
        [I32],
        [("$ls", I32), ("$lt", I32)],
        """
        local.get $s
        i32.load offset=4
        local.tee $ls
        local.get $t
        i32.load offset=4
        local.tee $lt
        i32.gt_u
        if
          i32.const 0
          return
        end
        local.get $t
        i32.const 8
        i32.add
        local.get $lt
        i32.add
        local.get $ls
        i32.sub
        local.get $s
        i32.const 8
        i32.add
        local.get $ls
        call $rt_memeq
    """,
        c,
    )
    _f(
        m,
        "rt_contains",
        [("$h", I32), ("$n", I32)],
        [I32],
        [("$ln", I32), ("$last", I32), ("$i", I32), ("$first", I32)],
        """
        local.get $n
        i32.load offset=4
        local.tee $ln
        i32.eqz
        if
          i32.const 1
          return
        end
        local.get $ln
        local.get $h
        i32.load offset=4
        i32.gt_u
        if
          i32.const 0
          return
        end
        local.get $h
        i32.load offset=4
        local.get $ln
        i32.sub
        local.set $last
        local.get $n
        i32.load8_u offset=8
        local.set $first
        block $done
          loop $l
            local.get $i
            local.get $last
            i32.gt_u
            br_if $done
            local.get $h
            local.get $i
            i32.add
            i32.load8_u offset=8
            local.get $first
            i32.eq
            if
              local.get $h
              local.get $i
              i32.add
              i32.const 8
              i32.add
              local.get $n
              i32.const 8
              i32.add
              local.get $ln
              call $rt_memeq
              if
                i32.const 1
                return
              end
            end
            local.get $i
            i32.const 1
            i32.add
            local.set $i
            br $l
          end
        end
        i32.const 0
    """,
        c,
    )
    _f(
        m,
        "rt_repeat",
        [("$t", I32), ("$n", I64)],
        [I32],
        [("$l", I32), ("$total", I32), ("$r", I32), ("$filled", I32), ("$chunk", I32)],
        """
        local.get $n
        i64.const 0
        i64.le_s
        local.get $t
        i32.load offset=4
        local.tee $l
        i32.eqz
        i32.or
        if
          i32.const 0
          call $rt_alloc
          return
        end
        local.get $n
        i64.const 1
        i64.eq
        if
          local.get $t
          call $rt_incref
          local.get $t
          return
        end
        local.get $n
        i64.const @MAX_LEN
        i64.gt_s
        if
          call $rt_oom
        end
        local.get $l
        i64.extend_i32_u
        local.get $n
        i64.mul
        i64.const @MAX_LEN
        i64.gt_u
        if
          call $rt_oom
        end
        local.get $l
        local.get $n
        i32.wrap_i64
        i32.mul
        local.tee $total
        call $rt_alloc
        local.tee $r
        i32.const 8
        i32.add
        local.get $t
        i32.const 8
        i32.add
        local.get $l
        memory.copy
        local.get $l
        local.set $filled
        block $done
          loop $more
            local.get $filled
            local.get $total
            i32.ge_u
            br_if $done
            local.get $filled
            local.get $total
            local.get $filled
            i32.sub
            local.tee $chunk
            local.get $filled
            local.get $chunk
            i32.lt_u
            select
            local.set $chunk
            local.get $r
            i32.const 8
            i32.add
            local.get $filled
            i32.add
            local.get $r
            i32.const 8
            i32.add
            local.get $chunk
            memory.copy
            local.get $filled
            local.get $chunk
            i32.add
            local.set $filled
            br $more
          end
        end
        local.get $r
    """,
        c,
    )
    _f(
        m,
        "rt_ascii",
        [("$t", I32)],
        [I32],
        [("$p", I32), ("$e", I32)],
        """
        local.get $t
        i32.const 8
        i32.add
        local.tee $p
        local.get $t
        i32.load offset=4
        i32.add
        local.set $e
        block $done
          loop $l
            local.get $p
            local.get $e
            i32.ge_u
            br_if $done
            local.get $p
            i32.load8_u
            i32.const 0x80
            i32.ge_u
            if
              i32.const 0
              return
            end
            local.get $p
            i32.const 1
            i32.add
            local.set $p
            br $l
          end
        end
        i32.const 1
    """,
        c,
    )
    _f(
        m,
        "rt_case",
        [("$t", I32), ("$lo", I32), ("$delta", I32), ("$op", I32)],
        [I32],
        [("$l", I32), ("$r", I32), ("$i", I32), ("$ch", I32)],
        """
        local.get $t
        call $rt_ascii
        i32.eqz
        if
          local.get $op
          local.get $t
          call $host_text_op
          return
        end
        local.get $t
        i32.load offset=4
        local.tee $l
        call $rt_alloc
        local.set $r
        block $done
          loop $next
            local.get $i
            local.get $l
            i32.ge_u
            br_if $done
            local.get $r
            local.get $i
            i32.add
            local.get $t
            local.get $i
            i32.add
            i32.load8_u offset=8
            local.tee $ch
            local.get $delta
            i32.add
            local.get $ch
            local.get $ch
            local.get $lo
            i32.sub
            i32.const 26
            i32.lt_u
            select
            i32.store8 offset=8
            local.get $i
            i32.const 1
            i32.add
            local.set $i
            br $next
          end
        end
        local.get $r
    """,
        c,
    )
    _f(
        m,
        "rt_upper",
        [("$t", I32)],
        [I32],
        [],
        """
        local.get $t
        i32.const 97
        i32.const -32
        i32.const @UPPER
        call $rt_case
    """,
        c,
    )
    _f(
        m,
        "rt_lower",
        [("$t", I32)],
        [I32],
        [],
        """
        local.get $t
        i32.const 65
        i32.const 32
        i32.const @LOWER
        call $rt_case
    """,
        c,
    )
    _f(
        m,
        "rt_is_ws",
        [("$ch", I32)],
        [I32],
        [],
        """
        local.get $ch
        i32.const 32
        i32.eq
        local.get $ch
        i32.const 9
        i32.sub
        i32.const 5
        i32.lt_u
        i32.or
    """,
        c,
    )
    _f(
        m,
        "rt_trim",
        [("$t", I32)],
        [I32],
        [("$lo", I32), ("$hi", I32), ("$ch", I32)],
        """
        local.get $t
        i32.load offset=4
        local.set $hi
        block $done
          loop $l
            local.get $lo
            local.get $hi
            i32.ge_u
            br_if $done
            local.get $t
            local.get $lo
            i32.add
            i32.load8_u offset=8
            local.tee $ch
            i32.const 0x80
            i32.ge_u
            if
              i32.const @TRIM
              local.get $t
              call $host_text_op
              return
            end
            local.get $ch
            call $rt_is_ws
            i32.eqz
            br_if $done
            local.get $lo
            i32.const 1
            i32.add
            local.set $lo
            br $l
          end
        end
        block $done2
          loop $l2
            local.get $hi
            local.get $lo
            i32.le_u
            br_if $done2
            local.get $t
            local.get $hi
            i32.add
            i32.load8_u offset=7
            local.tee $ch
            i32.const 0x80
            i32.ge_u
            if
              i32.const @TRIM
              local.get $t
              call $host_text_op
              return
            end
            local.get $ch
            call $rt_is_ws
            i32.eqz
            br_if $done2
            local.get $hi
            i32.const 1
            i32.sub
            local.set $hi
            br $l2
          end
        end
        local.get $lo
        i32.eqz
        local.get $hi
        local.get $t
        i32.load offset=4
        i32.eq
        i32.and
        if
          local.get $t
          call $rt_incref
          local.get $t
          return
        end
        local.get $t
        i32.const 8
        i32.add
        local.get $lo
        i32.add
        local.get $hi
        local.get $lo
        i32.sub
        call $rt_new
    """,
        c,
    )
    _f(
        m,
        "rt_fmt_u64",
        [("$u", I64), ("$end", I32)],
        [I32],
        [],
        """
        loop $l
          local.get $end
          i32.const 1
          i32.sub
          local.tee $end
          local.get $u
          i64.const 10
          i64.rem_u
          i32.wrap_i64
          i32.const 48
          i32.add
          i32.store8
          local.get $u
          i64.const 10
          i64.div_u
          local.tee $u
          i64.const 0
          i64.ne
          br_if $l
        end
        local.get $end
    """,
        c,
    )
    _f(
        m,
        "rt_fmt_i64",
        [("$v", I64)],
        [I32],
        [("$s", I32)],
        """
        i64.const 0
        local.get $v
        i64.sub
        local.get $v
        local.get $v
        i64.const 0
        i64.lt_s
        select
        i32.const @SCRATCH_END
        call $rt_fmt_u64
        local.set $s
        local.get $v
        i64.const 0
        i64.lt_s
        if
          local.get $s
          i32.const 1
          i32.sub
          local.tee $s
          i32.const 45
          i32.store8
        end
        local.get $s
    """,
        c,
    )
    _f(
        m,
        "rt_text_from_i64",
        [("$v", I64)],
        [I32],
        [("$s", I32)],
        """
        local.get $v
        call $rt_fmt_i64
        local.tee $s
        i32.const @SCRATCH_END
        local.get $s
        i32.sub
        call $rt_new
    """,
        c,
    )
    # Floats: NaN, infinities and integral values below 2**53 directly; else
    # the fewest fractional digits k (1..17) for which m = round(|x| * 10**k)
    # is below 2**53 and m / 10**k == |x| exactly (both exact doubles, so
    # that division is the correctly rounded value of the decimal m e-k,
    # i.e. the decimal reads back as x).  Fewest fractional digits means
    # fewest significant digits; if m - 1 or m + 1 also reads back, repr
    # would pick the nearest of them, so the host decides.
    _f(
        m,
        "rt_text_from_f64",
        [("$x", F64)],
        [I32],
        [
            ("$a", F64),
            ("$s", I32),
            ("$p", F64),
            ("$k", I32),
            ("$mf", F64),
            ("$o", I32),
            ("$nd", I32),
            ("$ip", I32),
        ],
        """
        local.get $x
        local.get $x
        f64.ne
        if
          i32.const @NAN
          return
        end
        local.get $x
        f64.abs
        local.tee $a
        f64.const inf
        f64.eq
        if
          i32.const @NEG_INF
          i32.const @INF
          local.get $x
          f64.const 0
          f64.lt
          select
          return
        end
        local.get $a
        f64.const 9007199254740992
        f64.lt
        if
          local.get $a
          f64.trunc
          local.get $a
          f64.eq
          if
            local.get $a
            i64.trunc_f64_s
            i32.const @SCRATCH_END
            call $rt_fmt_u64
            local.set $s
            local.get $x
            i64.reinterpret_f64
            i64.const 0
            i64.lt_s
            if
              local.get $s
              i32.const 1
              i32.sub
              local.tee $s
              i32.const 45
              i32.store8
            end
            local.get $s
            i32.const @SCRATCH_END
            local.get $s
            i32.sub
            call $rt_new
            return
          end
          f64.const 1
          local.set $p
          block $host
            loop $try
              local.get $k
              i32.const 1
              i32.add
              local.tee $k
              i32.const 17
              i32.gt_u
              br_if $host
              local.get $p
              f64.const 10
              f64.mul
              local.set $p
              local.get $a
              local.get $p
              f64.mul
              f64.nearest
              local.tee $mf
              f64.const 9007199254740992
              f64.ge
              br_if $host
              local.get $mf
              local.get $p
              f64.div
              local.get $a
              f64.ne
              br_if $try
            end
            local.get $mf
            f64.const 1
            f64.sub
            local.get $p
            f64.div
            local.get $a
            f64.eq
            br_if $host
            local.get $mf
            f64.const 1
            f64.add
            local.get $p
            f64.div
            local.get $a
            f64.eq
            br_if $host
            local.get $mf
            i64.trunc_f64_s
            i32.const @SCRATCH_END
            call $rt_fmt_u64
            local.set $s
            i32.const @SCRATCH_END
            local.get $s
            i32.sub
            local.set $nd
            i32.const @SCRATCH2
            local.set $o
            local.get $x
            f64.const 0
            f64.lt
            if
              local.get $o
              i32.const 45
              i32.store8
              local.get $o
              i32.const 1
              i32.add
              local.set $o
            end
            local.get $nd
            local.get $k
            i32.le_u
            if
              local.get $o
              i32.const 0x2E30
              i32.store16
              local.get $o
              i32.const 2
              i32.add
              local.tee $o
              i32.const 48
              local.get $k
              local.get $nd
              i32.sub
              local.tee $ip
              memory.fill
              local.get $o
              local.get $ip
              i32.add
              local.tee $o
              local.get $s
              local.get $nd
              memory.copy
              local.get $o
              local.get $nd
              i32.add
              local.set $o
            else
              local.get $o
              local.get $s
              local.get $nd
              local.get $k
              i32.sub
              local.tee $ip
              memory.copy
              local.get $o
              local.get $ip
              i32.add
              local.tee $o
              i32.const 46
              i32.store8
              local.get $o
              i32.const 1
              i32.add
              local.tee $o
              local.get $s
              local.get $ip
              i32.add
              local.get $k
              memory.copy
              local.get $o
              local.get $k
              i32.add
              local.set $o
            end
            i32.const @SCRATCH2
            local.get $o
            i32.const @SCRATCH2
            i32.sub
            call $rt_new
            return
          end
        end
        local.get $x
        call $host_f64_text
    """,
        c,
    )
    _f(
        m,
        "rt_flush",
        [],
        [],
        [],
        """
        global.get $out_len
        if
          i32.const @OUT
          global.get $out_len
          call $host_flush
          i32.const 0
          global.set $out_len
        end
    """,
        c,
        export="flush",
    )
    _f(
        m,
        "rt_out_write",
        [("$p", I32), ("$n", I32)],
        [],
        [],
        """
        global.get $out_len
        local.get $n
        i32.add
        i32.const @CAP
        i32.gt_u
        if
          call $rt_flush
          local.get $n
          i32.const @CAP
          i32.gt_u
          if
            local.get $p
            local.get $n
            call $host_flush
            return
          end
        end
        global.get $out_len
        i32.const @OUT
        i32.add
        local.get $p
        local.get $n
        memory.copy
        global.get $out_len
        local.get $n
        i32.add
        global.set $out_len
    """,
        c,
    )
    _f(
        m,
        "rt_out_nl",
        [],
        [],
        [],
        """
        global.get $out_len
        i32.const @CAP
        i32.ge_u
        if
          call $rt_flush
        end
        global.get $out_len
        i32.const 10
        i32.store8 offset=@OUT
        global.get $out_len
        i32.const 1
        i32.add
        global.set $out_len
    """,
        c,
    )
    _f(
        m,
        "rt_print_text",
        [("$t", I32)],
        [],
        [],
        """
        local.get $t
        i32.const 8
        i32.add
        local.get $t
        i32.load offset=4
        call $rt_out_write
        call $rt_out_nl
    """,
        c,
    )
    _f(
        m,
        "rt_print_i64",
        [("$v", I64)],
        [],
        [("$s", I32)],
        """
        i32.const @SCRATCH_END
        i32.const 10
        i32.store8
        local.get $v
        call $rt_fmt_i64
        local.tee $s
        i32.const @SCRATCH_END
        i32.const 1
        i32.add
        local.get $s
        i32.sub
        call $rt_out_write
    """,
        c,
    )
    _f(
        m,
        "rt_print_f64",
        [("$x", F64)],
        [],
        [("$t", I32)],
        """
        local.get $x
        call $rt_text_from_f64
        local.tee $t
        call $rt_print_text
        local.get $t
        call $rt_decref
    """,
        c,
    )
    _f(
        m,
        "rt_fmod",
        [("$x", F64), ("$y", F64)],
        [F64],
        [("$r", F64), ("$m", F64), ("$t", F64)],
        """
        local.get $y
        f64.const 0
        f64.eq
        local.get $x
        local.get $x
        f64.ne
        i32.or
        local.get $y
        local.get $y
        f64.ne
        i32.or
        local.get $x
        f64.abs
        f64.const inf
        f64.eq
        i32.or
        if
          f64.const nan
          return
        end
        local.get $x
        f64.abs
        local.tee $r
        local.get $y
        f64.abs
        local.tee $m
        f64.lt
        if
          local.get $x
          return
        end
        local.get $m
        local.set $t
        block $up_done
          loop $up
            local.get $t
            f64.const 2
            f64.mul
            local.get $r
            f64.gt
            br_if $up_done
            local.get $t
            f64.const 2
            f64.mul
            local.set $t
            br $up
          end
        end
        block $down_done
          loop $down
            local.get $t
            local.get $m
            f64.lt
            br_if $down_done
            local.get $r
            local.get $t
            f64.ge
            if
              local.get $r
              local.get $t
              f64.sub
              local.set $r
            end
            local.get $t
            f64.const 0.5
            f64.mul
            local.set $t
            br $down
          end
        end
        local.get $r
        local.get $x
        f64.copysign
    """,
        c,
    )
    _f(
        m,
        "rt_pow",
        [("$x", F64), ("$y", F64)],
        [F64],
        [],
        """
        local.get $y
        f64.const 0
        f64.eq
        local.get $x
        f64.const 1
        f64.eq
        i32.or
        if
          f64.const 1
          return
        end
        local.get $y
        f64.const 1
        f64.eq
        if
          local.get $x
          return
        end
        local.get $x
        local.get $y
        call $host_pow
    """,
        c,
    )
    _f(
        m,
        "rt_ipow",
        [("$b", I64), ("$e", I64)],
        [I64],
        [("$acc", I64)],
        """
        i64.const 1
        local.set $acc
        block $done
          loop $l
            local.get $e
            i64.eqz
            br_if $done
            local.get $e
            i64.const 1
            i64.and
            i32.wrap_i64
            if
              local.get $acc
              local.get $b
              i64.mul
              local.set $acc
            end
            local.get $b
            local.get $b
            i64.mul
            local.set $b
            local.get $e
            i64.const 1
            i64.shr_u
            local.set $e
            br $l
          end
        end
        local.get $acc
    """,
        c,
    )


def _define_tier2(m: ModuleBuilder, c: dict[str, int]) -> None:
    """Errors, tier-2 objects and arrays (layouts in the module docstring)."""
    c = {
        **c,
        "ARRAY": DESC_ARRAY,
        "SLOT_TEXT": SLOT_TEXT,
        "SLOT_OBJ": SLOT_OBJ,
        "ARR_SIZE": ARR_SIZE,
        "MAX_DATA": MAX_DATA,
    }
    _f(
        m,
        "rt_set_error",
        [("$kind", I32), ("$line", I32), ("$col", I32)],
        [],
        [],
        """
        local.get $kind
        global.set $err
        local.get $line
        global.set $err_line
        local.get $col
        global.set $err_col
    """,
        c,
    )
    _f(
        m,
        "rt_raise",
        [],
        [],
        [("$kind", I32)],
        """
        global.get $err
        local.set $kind
        i32.const 0
        global.set $err
        local.get $kind
        global.get $err_line
        global.get $err_col
        call $host_error
        unreachable
    """,
        c,
    )
    _f(
        m,
        "rt_obj_new",
        [("$desc", I32), ("$tag", I32), ("$n", I32)],
        [I32],
        [("$p", I32)],
        """
        local.get $n
        i32.const 3
        i32.shl
        i32.const 8
        i32.add
        call $rt_alloc
        local.tee $p
        local.get $desc
        i32.store offset=8
        local.get $p
        local.get $tag
        i32.store offset=12
        local.get $p
    """,
        c,
    )
    # the variant record of a record object: variants[nvariants > 1 ? tag : 0]
    _f(
        m,
        "rt_variant",
        [("$p", I32)],
        [I32],
        [("$d", I32)],
        """
        local.get $p
        i32.load offset=8
        local.tee $d
        i32.load offset=12
        local.get $p
        i32.load offset=12
        i32.const 0
        local.get $d
        i32.load offset=8
        i32.const 1
        i32.gt_u
        select
        i32.const 4
        i32.shl
        i32.add
    """,
        c,
    )
    _f(
        m,
        "rt_obj_clone",
        [("$p", I32)],
        [I32],
        [("$v", I32), ("$n", I32), ("$r", I32), ("$i", I32), ("$kinds", I32)],
        """
        local.get $p
        call $rt_variant
        local.tee $v
        i32.load offset=4
        local.set $n
        local.get $v
        i32.load offset=8
        local.set $kinds
        local.get $p
        i32.load offset=8
        local.get $p
        i32.load offset=12
        local.get $n
        call $rt_obj_new
        local.tee $r
        i32.const 16
        i32.add
        local.get $p
        i32.const 16
        i32.add
        local.get $n
        i32.const 3
        i32.shl
        memory.copy
        block $done
          loop $l
            local.get $i
            local.get $n
            i32.ge_u
            br_if $done
            local.get $kinds
            local.get $i
            i32.add
            i32.load8_u
            i32.const @SLOT_TEXT
            i32.ge_u
            if
              local.get $r
              local.get $i
              i32.const 3
              i32.shl
              i32.add
              i32.load offset=16
              call $rt_incref
            end
            local.get $i
            i32.const 1
            i32.add
            local.set $i
            br $l
          end
        end
        local.get $r
    """,
        c,
    )
    _f(
        m,
        "rt_obj_decref",
        [("$p", I32)],
        [],
        [
            ("$rc", I32),
            ("$list", I32),
            ("$o", I32),
            ("$d", I32),
            ("$n", I32),
            ("$i", I32),
            ("$base", I32),
            ("$kinds", I32),
            ("$stride", I32),
            ("$k", I32),
            ("$v", I32),
            ("$arr", I32),
        ],
        """
        local.get $p
        i32.eqz
        if
          return
        end
        local.get $p
        i32.load
        local.tee $rc
        i32.const 1
        i32.ne
        if
          local.get $rc
          i32.const 1
          i32.gt_s
          if
            local.get $p
            local.get $rc
            i32.const 1
            i32.sub
            i32.store
          end
          return
        end
        ;; count 1 -> 0: free the tree; the work list is chained through
        ;; the count words of the objects on it
        local.get $p
        i32.const 0
        i32.store
        local.get $p
        local.set $list
        block $done
          loop $next
            local.get $list
            i32.eqz
            br_if $done
            local.get $list
            local.tee $o
            i32.load
            local.set $list
            local.get $o
            i32.load offset=8
            local.tee $d
            i32.load
            i32.const @ARRAY
            i32.eq
            local.tee $arr
            if
              local.get $d
              i32.load offset=12
              i32.load offset=8
              local.set $kinds
              i32.const 0
              local.set $stride
              ;; only elements that are references need visiting
              local.get $o
              i32.load offset=12
              i32.const 0
              local.get $kinds
              i32.load8_u
              i32.const @SLOT_TEXT
              i32.ge_u
              select
              local.set $n
              local.get $o
              i32.load offset=20
              local.set $base
            else
              local.get $o
              call $rt_variant
              local.tee $v
              i32.load offset=8
              local.set $kinds
              i32.const 1
              local.set $stride
              local.get $v
              i32.load offset=4
              local.set $n
              local.get $o
              i32.const 8
              i32.add
              local.set $base
            end
            i32.const 0
            local.set $i
            block $slots_done
              loop $slots
                local.get $i
                local.get $n
                i32.ge_u
                br_if $slots_done
                local.get $kinds
                local.get $i
                local.get $stride
                i32.mul
                i32.add
                i32.load8_u
                local.tee $k
                i32.const @SLOT_TEXT
                i32.ge_u
                if
                  local.get $base
                  local.get $i
                  i32.const 3
                  i32.shl
                  i32.add
                  i32.load offset=8
                  local.set $v
                  local.get $k
                  i32.const @SLOT_TEXT
                  i32.eq
                  if
                    local.get $v
                    call $rt_decref
                  else
                    local.get $v
                    if
                      local.get $v
                      i32.load
                      local.tee $rc
                      i32.const 1
                      i32.eq
                      if
                        local.get $v
                        local.get $list
                        i32.store
                        local.get $v
                        local.set $list
                      else
                        local.get $rc
                        i32.const 1
                        i32.gt_s
                        if
                          local.get $v
                          local.get $rc
                          i32.const 1
                          i32.sub
                          i32.store
                        end
                      end
                    end
                  end
                end
                local.get $i
                i32.const 1
                i32.add
                local.set $i
                br $slots
              end
            end
            local.get $arr
            if
              local.get $base
              if
                local.get $base
                call $rt_free
              end
            end
            local.get $o
            call $rt_free
            br $next
          end
        end
    """,
        c,
    )
    _f(
        m,
        "rt_array_new",
        [("$desc", I32), ("$n", I32), ("$shift", I32)],
        [I32],
        [("$a", I32)],
        """
        i32.const @ARR_SIZE
        call $rt_alloc
        local.tee $a
        local.get $desc
        i32.store offset=8
        local.get $a
        local.get $n
        i32.store offset=12
        local.get $a
        local.get $n
        i32.store offset=16
        local.get $a
        local.get $n
        if (result i32)
          local.get $n
          local.get $shift
          i32.shl
          call $rt_alloc
        else
          i32.const 0
        end
        i32.store offset=20
        local.get $a
    """,
        c,
    )
    # room for one more element (len == cap): twice the slots (at least 3),
    # rounded up to fill the new block's size class; returns the data block
    _f(
        m,
        "rt_array_grow",
        [("$a", I32), ("$shift", I32)],
        [I32],
        [("$len", I32), ("$cap", I32), ("$old", I32), ("$new", I32)],
        """
        local.get $a
        i32.load offset=12
        local.set $len
        local.get $a
        i32.load offset=16
        local.tee $cap
        local.get $shift
        i32.shl
        i32.const @MAX_DATA
        i32.ge_u
        if
          call $rt_oom
        end
        i32.const 1
        i32.const 32
        i32.const 3
        local.get $cap
        i32.const 1
        i32.shl
        local.tee $cap
        local.get $cap
        i32.const 3
        i32.lt_u
        select
        local.get $shift
        i32.shl
        i32.const 7
        i32.add
        i32.clz
        i32.sub
        i32.shl
        i32.const 8
        i32.sub
        local.tee $new
        local.get $shift
        i32.shr_u
        local.set $cap
        local.get $new
        call $rt_alloc
        local.set $new
        local.get $a
        i32.load offset=20
        local.tee $old
        if
          local.get $new
          i32.const 8
          i32.add
          local.get $old
          i32.const 8
          i32.add
          local.get $len
          local.get $shift
          i32.shl
          memory.copy
          local.get $old
          call $rt_free
        end
        local.get $a
        local.get $new
        i32.store offset=20
        local.get $a
        local.get $cap
        i32.store offset=16
        local.get $new
    """,
        c,
    )
    # [bool] arrays hold one byte per element, every other array a 64-bit slot
    _array_push(m, c, "rt_array_push", ("$bits", I64), 3, "i64.store")
    _array_push(m, c, "rt_array_push8", ("$v", I32), 0, "i32.store8")
    _define_display(m, c)


def _array_push(
    m: ModuleBuilder,
    c: dict[str, int],
    name: str,
    value: tuple[str, int],
    shift: int,
    store: str,
) -> None:
    """``name(a, value)``: append to array ``a`` whose elements are ``1 << shift`` bytes.

    Grows the data block (``rt_array_grow``) when it is full; ``store`` writes
    one element.
    """
    grow = f"i32.const {shift}\n        i32.shl" if shift else ""
    _f(
        m,
        name,
        [("$a", I32), value],
        [],
        [("$len", I32), ("$data", I32)],
        f"""
        local.get $a
        i32.load offset=20
        local.set $data
        local.get $a
        i32.load offset=12
        local.tee $len
        local.get $a
        i32.load offset=16
        i32.eq
        if
          local.get $a
          i32.const {shift}
          call $rt_array_grow
          local.set $data
        end
        local.get $data
        local.get $len
        {grow}
        i32.add
        local.get {value[0]}
        {store} offset=8
        local.get $a
        local.get $len
        i32.const 1
        i32.add
        i32.store offset=12
    """,
        c,
    )


def _define_display(m: ModuleBuilder, c: dict[str, int]) -> None:
    """Display forms of tier-2 values, built in the ``sb`` buffer."""
    c = {
        **c,
        "SLOT_I64": SLOT_I64,
        "SLOT_F64": SLOT_F64,
        "SLOT_BOOL": SLOT_BOOL,
        "SLOT_UNIT": SLOT_UNIT,
        "STRUCT": DESC_STRUCT,
        "TUPLE": DESC_TUPLE,
        "ENUM": DESC_ENUM,
        "SOME": DESC_SOME,
    }
    # room for n more bytes in sb (doubling; the old block goes back to its list)
    _f(
        m,
        "rt_sb_reserve",
        [("$n", I32)],
        [],
        [("$need", I32), ("$cap", I32), ("$new", I32)],
        """
        global.get $sb_len
        local.get $n
        i32.add
        local.tee $need
        global.get $sb_cap
        i32.le_u
        if
          return
        end
        global.get $sb_cap
        i32.const 1
        i32.shl
        local.tee $cap
        i32.const 64
        local.get $cap
        i32.const 64
        i32.gt_u
        select
        local.tee $cap
        local.get $need
        local.get $cap
        local.get $need
        i32.gt_u
        select
        local.tee $cap
        call $rt_alloc
        local.tee $new
        i32.const 8
        i32.add
        global.get $sb
        i32.const 8
        i32.add
        global.get $sb_len
        memory.copy
        global.get $sb
        if
          global.get $live
          i32.const 1
          i32.add
          global.set $live
          global.get $sb
          call $rt_free
        end
        global.get $live
        i32.const 1
        i32.sub
        global.set $live
        local.get $new
        global.set $sb
        local.get $cap
        global.set $sb_cap
    """,
        c,
    )
    _f(
        m,
        "rt_sb_put",
        [("$p", I32), ("$n", I32)],
        [],
        [],
        """
        local.get $n
        call $rt_sb_reserve
        global.get $sb
        global.get $sb_len
        i32.add
        i32.const 8
        i32.add
        local.get $p
        local.get $n
        memory.copy
        global.get $sb_len
        local.get $n
        i32.add
        global.set $sb_len
    """,
        c,
    )
    _f(
        m,
        "rt_sb_text",
        [("$t", I32)],
        [],
        [],
        """
        local.get $t
        i32.const 8
        i32.add
        local.get $t
        i32.load offset=4
        call $rt_sb_put
    """,
        c,
    )
    _f(
        m,
        "rt_sb_byte",
        [("$b", I32)],
        [],
        [],
        """
        i32.const 1
        call $rt_sb_reserve
        global.get $sb
        global.get $sb_len
        i32.add
        local.get $b
        i32.store8 offset=8
        global.get $sb_len
        i32.const 1
        i32.add
        global.set $sb_len
    """,
        c,
    )
    _f(
        m,
        "rt_sb_sep",
        [],
        [],
        [],
        """
        i32.const 44
        call $rt_sb_byte
        i32.const 32
        call $rt_sb_byte
    """,
        c,
    )
    # the slot of kind $k at $a
    _f(
        m,
        "rt_disp_slot",
        [("$k", I32), ("$a", I32)],
        [],
        [("$s", I32)],
        """
        local.get $k
        i32.const @SLOT_I64
        i32.eq
        if
          local.get $a
          i64.load
          call $rt_fmt_i64
          local.tee $s
          i32.const @SCRATCH_END
          local.get $s
          i32.sub
          call $rt_sb_put
          return
        end
        local.get $k
        i32.const @SLOT_F64
        i32.eq
        if
          local.get $a
          f64.load
          call $rt_text_from_f64
          local.tee $s
          call $rt_sb_text
          local.get $s
          call $rt_decref
          return
        end
        local.get $k
        i32.const @SLOT_BOOL
        i32.eq
        if
          i32.const @TRUE
          i32.const @FALSE
          local.get $a
          i32.load8_u
          select
          call $rt_sb_text
          return
        end
        local.get $k
        i32.const @SLOT_UNIT
        i32.eq
        if
          i32.const @UNIT
          call $rt_sb_text
          return
        end
        local.get $k
        i32.const @SLOT_TEXT
        i32.eq
        if
          local.get $a
          i32.load
          call $rt_sb_text
          return
        end
        local.get $a
        i32.load
        call $rt_disp_obj
    """,
        c,
    )
    _f(
        m,
        "rt_disp_obj",
        [("$p", I32)],
        [],
        [
            ("$d", I32),
            ("$kind", I32),
            ("$v", I32),
            ("$n", I32),
            ("$i", I32),
            ("$kinds", I32),
            ("$fields", I32),
            ("$k", I32),
            ("$base", I32),
            ("$shift", I32),
        ],
        """
        local.get $p
        i32.eqz
        if
          i32.const @NIL
          call $rt_sb_text
          return
        end
        local.get $p
        i32.load offset=8
        local.tee $d
        i32.load
        local.tee $kind
        i32.const @ARRAY
        i32.eq
        if
          i32.const 91
          call $rt_sb_byte
          local.get $d
          i32.load offset=12
          i32.load offset=8
          i32.load8_u
          local.set $k
          local.get $p
          i32.load offset=12
          local.set $n
          local.get $p
          i32.load offset=20
          i32.const 8
          i32.add
          local.set $base
          ;; [bool] is packed: one byte per element
          i32.const 0
          i32.const 3
          local.get $k
          i32.const @SLOT_BOOL
          i32.eq
          select
          local.set $shift
          block $done
            loop $l
              local.get $i
              local.get $n
              i32.ge_u
              br_if $done
              local.get $i
              if
                call $rt_sb_sep
              end
              local.get $k
              local.get $base
              local.get $i
              local.get $shift
              i32.shl
              i32.add
              call $rt_disp_slot
              local.get $i
              i32.const 1
              i32.add
              local.set $i
              br $l
            end
          end
          i32.const 93
          call $rt_sb_byte
          return
        end
        local.get $p
        call $rt_variant
        local.tee $v
        i32.load offset=4
        local.set $n
        local.get $v
        i32.load offset=8
        local.set $kinds
        local.get $v
        i32.load offset=12
        local.set $fields
        local.get $p
        i32.const 16
        i32.add
        local.set $base
        local.get $kind
        i32.const @SOME
        i32.eq
        if
          local.get $kinds
          i32.load8_u
          local.get $base
          call $rt_disp_slot
          return
        end
        local.get $kind
        i32.const @ENUM
        i32.eq
        if
          local.get $d
          i32.load offset=4
          call $rt_sb_text
          i32.const 46
          call $rt_sb_byte
          local.get $v
          i32.load
          call $rt_sb_text
          local.get $n
          i32.eqz
          if
            return
          end
        end
        local.get $kind
        i32.const @STRUCT
        i32.eq
        if
          local.get $d
          i32.load offset=4
          call $rt_sb_text
        end
        i32.const 40
        call $rt_sb_byte
        block $done
          loop $l
            local.get $i
            local.get $n
            i32.ge_u
            br_if $done
            local.get $i
            if
              call $rt_sb_sep
            end
            local.get $fields
            if
              local.get $fields
              local.get $i
              i32.const 2
              i32.shl
              i32.add
              i32.load
              call $rt_sb_text
              i32.const 58
              call $rt_sb_byte
              i32.const 32
              call $rt_sb_byte
            end
            local.get $kinds
            local.get $i
            i32.add
            i32.load8_u
            local.get $base
            local.get $i
            i32.const 3
            i32.shl
            i32.add
            call $rt_disp_slot
            local.get $i
            i32.const 1
            i32.add
            local.set $i
            br $l
          end
        end
        local.get $kind
        i32.const @TUPLE
        i32.eq
        local.get $n
        i32.const 1
        i32.eq
        i32.and
        if
          i32.const 44
          call $rt_sb_byte
        end
        i32.const 41
        call $rt_sb_byte
    """,
        c,
    )
    _f(
        m,
        "rt_obj_totext",
        [("$p", I32)],
        [I32],
        [],
        """
        i32.const 0
        global.set $sb_len
        local.get $p
        call $rt_disp_obj
        global.get $sb
        i32.const 8
        i32.add
        global.get $sb_len
        call $rt_new
    """,
        c,
    )
    _f(
        m,
        "rt_obj_print",
        [("$p", I32)],
        [],
        [],
        """
        i32.const 0
        global.set $sb_len
        local.get $p
        call $rt_disp_obj
        global.get $sb
        i32.const 8
        i32.add
        global.get $sb_len
        call $rt_out_write
        call $rt_out_nl
    """,
        c,
    )
