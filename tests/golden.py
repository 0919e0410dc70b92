"""Golden-file comparison shared by the data-driven tests.

``check_golden(path, actual)`` compares ``actual`` with the file's contents;
with ``pytest --bless`` (or ``SIMPLE_BLESS=1``) it writes the file instead.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path


def blessing() -> bool:
    return os.environ.get("SIMPLE_BLESS") == "1"


def check_golden(path: Path, actual: str) -> None:
    if blessing():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        raise AssertionError(f"missing golden file {path}; run pytest --bless to create it")
    expected = path.read_text(encoding="utf-8")
    if expected != actual:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=str(path),
                tofile="actual",
            )
        )
        raise AssertionError(f"golden mismatch (pytest --bless to accept):\n{diff}")
