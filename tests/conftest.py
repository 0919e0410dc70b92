"""Shared pytest configuration: the ``--bless`` flag re-writes golden files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Several tests start processes from worker threads while other threads run
# JIT code.  With vfork (CPython's default) the child borrows the parent's
# memory while the parent's other threads keep running; under load we saw
# rare "OSError: [Errno 14] Bad address" spawning the interpreter.  fork()
# gives the child its own copy, at a small cost per process.
if hasattr(subprocess, "_USE_VFORK"):
    setattr(subprocess, "_USE_VFORK", False)  # noqa: B010 (typeshed marks it Final)
sys.path.insert(0, str(ROOT / "tests"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--bless",
        action="store_true",
        default=False,
        help="rewrite golden files with the actual output instead of comparing",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--bless"):
        os.environ["SIMPLE_BLESS"] = "1"
