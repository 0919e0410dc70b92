"""Build the C runtime library (everything else is configured in pyproject.toml).

``simple_rt.c`` is compiled as the extension module ``simple_jit._simple_rt``
(it defines a trivial ``PyInit__simple_rt`` under ``SIMPLE_RT_PYTHON_MODULE``),
so ``pip install .`` and ``pip install -e .`` build the runtime that JIT-compiled
code calls. ``simple_jit.runtime`` loads it with ctypes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from setuptools import Extension, setup  # type: ignore[import-untyped,unused-ignore]

HERE = Path(__file__).resolve().parent
RUNTIME = HERE / "src" / "simple_jit" / "runtime"


def _source_hash() -> str:
    # Same hash as simple_jit.runtime.source_hash(), which checks it at load
    # time to detect a stale build; the module is loaded by path because the
    # package is not importable while it is being built.
    spec = importlib.util.spec_from_file_location("_simple_rt_locator", RUNTIME / "__init__.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    digest = mod.source_hash()
    assert isinstance(digest, str)
    return digest


setup(
    ext_modules=[
        Extension(
            "simple_jit._simple_rt",
            sources=["src/simple_jit/runtime/simple_rt.c"],
            depends=["src/simple_jit/runtime/simple_rt.h"],
            define_macros=[
                ("SIMPLE_RT_PYTHON_MODULE", "1"),
                ("SIMPLE_RT_SOURCE_HASH", f'"{_source_hash()}"'),
            ],
            libraries=["pthread", "m"],
        )
    ],
)
