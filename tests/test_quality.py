"""Code quality gates: mypy (strict, configured in pyproject.toml) and ruff.

Each tool runs as a subprocess on src/ and tests/; a missing tool skips its
test (the ``dev`` extras install all of them).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ["src", "tests"]


def tool(name: str) -> list[str]:
    """The command for a tool: next to the running interpreter, else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return [str(local)]
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return [found]


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )


def test_mypy_strict() -> None:
    proc = run([*tool("mypy"), "src/simple_jit", "tests"])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_check() -> None:
    proc = run([*tool("ruff"), "check", *TARGETS])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = run([*tool("ruff"), "format", "--check", *TARGETS])
    assert proc.returncode == 0, proc.stdout + proc.stderr
