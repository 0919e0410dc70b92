"""Generate the Unicode tables behind ``.upper()``, ``.lower()`` and ``.trim()``.

Run with the project's Python 3.11 (its ``unicodedata`` is Unicode 14.0.0)::

    .venv/bin/python scripts/gen_unicode_tables.py          # rewrite both files
    .venv/bin/python scripts/gen_unicode_tables.py --check  # exit 1 if stale

One data source (this interpreter's Unicode 14 database) produces both
committed files, so the Python reference semantics and the C runtime agree
whatever Unicode version the host Python has:

* ``src/simple_jit/unicode_tables.py`` -- compact strings, loaded lazily by
  ``simple_jit.semantics``;
* ``src/simple_jit/runtime/unicode_tables.h`` -- sorted C arrays, binary
  searched by ``simple_rt.c``.

The mappings are per character and full: for every code point ``c`` (not a
surrogate), ``UPPER[c] = chr(c).upper()`` and ``LOWER[c] = chr(c).lower()``
when they differ from ``chr(c)``; a replacement may have several code points
(U+00DF sharp s -> ``SS``, U+0130 -> U+0069 U+0307). No context-dependent rule
applies (no final sigma: U+03A3 always lowers to U+03C3). ``WHITE_SPACE`` is the
Unicode ``White_Space`` property: ``str.isspace()`` minus U+001C..U+001F.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY_OUT = ROOT / "src" / "simple_jit" / "unicode_tables.py"
C_OUT = ROOT / "src" / "simple_jit" / "runtime" / "unicode_tables.h"

UNICODE_VERSION = "14.0.0"
SEP = ","  # separates the replacements in *_VALUES (never part of one)

# PropList.txt (Unicode 14.0.0), White_Space: checked against the derivation.
WHITE_SPACE_PROPLIST = [
    *range(0x0009, 0x000E),
    0x0020,
    0x0085,
    0x00A0,
    0x1680,
    *range(0x2000, 0x200B),
    0x2028,
    0x2029,
    0x202F,
    0x205F,
    0x3000,
]


def case_map(fn: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for c in range(0x110000):
        if 0xD800 <= c <= 0xDFFF:
            continue
        ch = chr(c)
        mapped: str = getattr(ch, fn)()
        if mapped != ch:
            out[c] = mapped
    return out


def white_space() -> list[int]:
    ws = [c for c in range(0x110000) if chr(c).isspace() and not 0x1C <= c <= 0x1F]
    assert ws == WHITE_SPACE_PROPLIST, "White_Space derivation disagrees with PropList.txt"
    return ws


def py_escape(s: str) -> str:
    """A double-quoted literal body: ASCII letters/digits as is, the rest escaped."""
    out = []
    for ch in s:
        c = ord(ch)
        if ch.isascii() and (ch.isalnum() or ch in SEP):
            out.append(ch)
        elif c < 0x100:
            out.append(f"\\x{c:02x}")
        elif c < 0x10000:
            out.append(f"\\u{c:04x}")
        else:
            out.append(f"\\U{c:08x}")
    return "".join(out)


def py_string(name: str, pieces: list[str], doc: str) -> list[str]:
    """``name = (...)``: implicitly concatenated literals of at most ~88 columns."""
    lines = [f"# {doc}", f"{name} = ("]
    cur = ""
    for p in pieces:
        e = py_escape(p)
        if cur and len(cur) + len(e) > 86:
            lines.append(f'    "{cur}"')
            cur = ""
        cur += e
    if cur or len(lines) == 2:
        lines.append(f'    "{cur}"')
    lines.append(")")
    return lines


def render_py(upper: dict[int, str], lower: dict[int, str], ws: list[int]) -> str:
    lines = [
        f'"""Unicode {UNICODE_VERSION} tables for ``upper``/``lower``/``trim`` (generated: do not edit).',
        "",
        "Written by ``scripts/gen_unicode_tables.py`` together with",
        "``runtime/unicode_tables.h`` (the C runtime's copy of the same data).",
        "",
        "``*_KEYS`` holds one character per mapped code point, in ascending order;",
        "``*_VALUES`` holds their replacements in the same order, separated by ``SEP``.",
        "The mapping is per character and full (``chr(c).upper()`` / ``chr(c).lower()``",
        "of Python 3.11), without context-dependent rules (no final sigma).",
        "``WHITE_SPACE`` is the Unicode White_Space property.",
        '"""',
        "",
        f'UNICODE_VERSION = "{UNICODE_VERSION}"',
        f'SEP = "{SEP}"',
        "",
    ]
    for name, m in (("UPPER", upper), ("LOWER", lower)):
        keys = sorted(m)
        lines += py_string(f"{name}_KEYS", [chr(k) for k in keys], f"{len(keys)} code points")
        values = [m[k] + (SEP if i < len(keys) - 1 else "") for i, k in enumerate(keys)]
        lines += py_string(f"{name}_VALUES", values, f"{name.lower()} of each key")
        lines.append("")
    lines += py_string("WHITE_SPACE", [chr(c) for c in ws], f"{len(ws)} code points")
    return "\n".join(lines) + "\n"


def c_table(name: str, m: dict[int, str]) -> list[str]:
    keys = sorted(m)
    blob: list[int] = []
    entries = []
    for k in keys:
        b = m[k].encode()
        assert len(b) < 256 and len(blob) < 65536
        entries.append(f"{{0x{k:05X}, {len(blob)}, {len(b)}}}")
        blob.extend(b)
    lines = [
        f"#define RT_{name.upper()}_COUNT {len(keys)}",
        f"static const rt_case_entry rt_{name}_map[RT_{name.upper()}_COUNT] = {{",
    ]
    for i in range(0, len(entries), 4):
        lines.append("    " + ", ".join(entries[i : i + 4]) + ",")
    lines += ["};", f"static const unsigned char rt_{name}_utf8[{len(blob)}] = {{"]
    for i in range(0, len(blob), 16):
        lines.append("    " + ", ".join(f"0x{x:02X}" for x in blob[i : i + 16]) + ",")
    lines += ["};", ""]
    return lines


def render_c(upper: dict[int, str], lower: dict[int, str], ws: list[int]) -> str:
    lines = [
        f"/* unicode_tables.h -- Unicode {UNICODE_VERSION} tables for rt_text_upper/lower/trim.",
        " *",
        " * GENERATED by scripts/gen_unicode_tables.py (with src/simple_jit/unicode_tables.py",
        " * from the same data): do not edit. Included by simple_rt.c only.",
        " *",
        " * rt_upper_map / rt_lower_map: code points in ascending order (binary search),",
        " * each with its full per-character mapping (chr(c).upper() / chr(c).lower()",
        " * of Python 3.11; no context-dependent rules, no final sigma) as the UTF-8",
        " * bytes rt_*_utf8[off .. off + len). rt_white_space: the White_Space property.",
        " */",
        "#ifndef SIMPLE_RT_UNICODE_TABLES_H",
        "#define SIMPLE_RT_UNICODE_TABLES_H",
        "",
        "#include <stdint.h>",
        "",
        f'#define RT_UNICODE_VERSION "{UNICODE_VERSION}"',
        "",
        "typedef struct {",
        "    uint32_t cp;  /* code point */",
        "    uint16_t off; /* its replacement: rt_*_utf8[off .. off + len) */",
        "    uint8_t len;",
        "} rt_case_entry;",
        "",
    ]
    lines += c_table("upper", upper)
    lines += c_table("lower", lower)
    lines += [
        f"#define RT_WHITE_SPACE_COUNT {len(ws)}",
        "static const uint32_t rt_white_space[RT_WHITE_SPACE_COUNT] = {",
    ]
    for i in range(0, len(ws), 8):
        lines.append("    " + ", ".join(f"0x{c:04X}" for c in ws[i : i + 8]) + ",")
    lines += ["};", "", "#endif /* SIMPLE_RT_UNICODE_TABLES_H */"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check the files are current")
    args = ap.parse_args(argv)
    if unicodedata.unidata_version != UNICODE_VERSION:
        print(
            f"needs Python's Unicode {UNICODE_VERSION} database (Python 3.11), "
            f"this one has {unicodedata.unidata_version}",
            file=sys.stderr,
        )
        return 2
    upper, lower, ws = case_map("upper"), case_map("lower"), white_space()
    for m in (upper, lower):
        assert all(SEP not in v for v in m.values())
    # The runtimes' ASCII fast paths assume exactly this about ASCII.
    assert {k: v for k, v in upper.items() if k < 0x80} == {
        c: chr(c - 32) for c in range(ord("a"), ord("z") + 1)
    }
    assert {k: v for k, v in lower.items() if k < 0x80} == {
        c: chr(c + 32) for c in range(ord("A"), ord("Z") + 1)
    }
    outputs = {PY_OUT: render_py(upper, lower, ws), C_OUT: render_c(upper, lower, ws)}
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
    if args.check:
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_text(outputs[p])
        print(f"wrote {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
