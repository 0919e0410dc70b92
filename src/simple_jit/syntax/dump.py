"""A stable, readable text dump of the AST (``simple run --emit ast``, golden tests).

Format: one node per line, indented by two spaces per level::

    FnDecl @0..25 name='add' name_span=3..6 is_extern=False
      params:
        Param @7..8 name='x'
      body: Block @14..25
        ExprStmt @14..19
          expr: Binary @14..19 op='+' op_span=16..17
            left: Name @14..15 name='x'
            right: Name @18..19 name='y'

``@start..end`` is the node's span (half-open character offsets); other spans
are shown as ``field=start..end``.  Scalar fields are shown with ``repr``;
fields that are ``None`` and empty lists are left out; ``Name.binding`` is not
shown.  The walk is iterative, so very deep trees (``1 + 2 + ... + 10000``) dump
without recursion.
"""

from __future__ import annotations

from typing import Any

from simple_jit.diagnostics import Span
from simple_jit.syntax import ast

_SKIP = frozenset(("span", "binding"))
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(n for n in getattr(cls, "_fields", ()) if n not in _SKIP)
        _FIELDS[cls] = names
    return names


def _scalar(v: object) -> str:
    return f"{v.start}..{v.end}" if isinstance(v, Span) else repr(v)


def dump_module(m: ast.Module) -> str:
    out = ["Module"]
    stack: list[tuple[int, str | None, Any]] = [(1, None, item) for item in reversed(m.items)]
    while stack:
        indent, label, node = stack.pop()
        pad = "  " * indent
        head = f"{pad}{label}: " if label else pad
        if isinstance(node, str):  # literal text part of an interpolated string
            out.append(f"{head}{node!r}")
            continue
        if isinstance(node, list):
            out.append(f"{pad}{label}:")
            for item in reversed(node):
                stack.append((indent + 1, None, item))
            continue
        if isinstance(node, tuple):  # an if branch: (condition, body)
            out.append(f"{head}branch")
            stack.append((indent + 1, "body", node[1]))
            stack.append((indent + 1, "cond", node[0]))
            continue
        span: Span = node.span
        words = [f"{head}{type(node).__name__} @{span.start}..{span.end}"]
        children: list[tuple[int, str | None, Any]] = []
        for name in _field_names(type(node)):
            value = getattr(node, name)
            if value is None:
                continue
            if isinstance(value, Span):
                words.append(f"{name}={value.start}..{value.end}")
            elif isinstance(value, (str, int, float, bool)):
                words.append(f"{name}={value!r}")
            elif isinstance(value, list):
                if (
                    value
                    and isinstance(value[0], (Span, str))
                    and not isinstance(node, ast.InterpStr)
                ):
                    words.append(f"{name}=[{', '.join(_scalar(v) for v in value)}]")
                elif value:
                    children.append((indent + 1, name, value))
            else:
                children.append((indent + 1, name, value))
        out.append(" ".join(words))
        stack.extend(reversed(children))
    out.append("")
    return "\n".join(out)
