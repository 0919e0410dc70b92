"""Shared pytest configuration: the ``--bless`` flag re-writes golden files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
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
