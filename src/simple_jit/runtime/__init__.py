"""Locating, building and loading the C runtime library (``simple_rt.c``).

The runtime is built when the package is installed: ``setup.py`` compiles
``simple_rt.c`` as the extension module ``simple_jit._simple_rt`` (a real
extension with a trivial ``PyInit``, so setuptools builds and installs it like
any other). The JIT loads that shared object with ``ctypes`` (``RTLD_GLOBAL``)
so that LLVM can resolve the ``rt_*`` symbols in the process.

The built library embeds the SHA-256 of its sources (``simple_rt.c``,
``simple_rt.h`` and the generated ``unicode_tables.h``); when it is missing (a
source tree that was never built) or stale (the sources changed after an
editable install), the library is compiled with ``cc`` into the cache
directory instead, keyed by that hash.

AOT executables compile the runtime themselves: ``aot_runtime_object()`` gives
an object file of ``simple_rt.c`` with its ``main`` (``-DSIMPLE_RT_AOT_MAIN``);
link it with the program's object and ``aot_link_flags()``.

Environment:

* ``SIMPLE_JIT_RUNTIME_LIB`` -- use this shared library, no questions asked;
* ``SIMPLE_JIT_CACHE_DIR`` -- the cache directory (default
  ``$XDG_CACHE_HOME/simple_jit`` or ``~/.cache/simple_jit``).
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.util
import os
import threading
from pathlib import Path
from typing import Protocol

# subprocess, shlex and tempfile are imported where a build needs them: a
# `simple run` that finds its runtime built does not pay for them.

__all__ = [
    "RuntimeBuildError",
    "aot_link_flags",
    "aot_runtime_object",
    "cache_dir",
    "load_runtime",
    "runtime_library_path",
    "runtime_source_dir",
    "source_hash",
]

# Every file the runtime is compiled from: a change to any of them means a rebuild.
_SOURCES = ("simple_rt.c", "simple_rt.h", "unicode_tables.h")
_MARKER = b"SIMPLE_RT_SOURCE_HASH="
_EXTENSION = "simple_jit._simple_rt"

_lock = threading.Lock()
_library_path: str | None = None
_library: ctypes.CDLL | None = None


class RuntimeBuildError(RuntimeError):
    """Compiling the C runtime failed (the message carries the compiler output)."""


def runtime_source_dir() -> str:
    """The directory holding the runtime sources (``simple_rt.c`` and its headers)."""
    return str(Path(__file__).resolve().parent)


class _Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def hexdigest(self) -> str: ...


def _sha256() -> _Hasher:
    """A SHA-256 hash object, without importing ``hashlib`` when CPython has its own.

    Importing ``hashlib`` loads OpenSSL's libcrypto and the BLAKE2 module:
    about 3.5 ms of CPU on every ``simple run``, which only hashes the 170 KB
    of runtime sources once.  CPython's built-in SHA-256 (``_sha2`` from 3.12,
    ``_sha256`` before) gives the same digest for about 0.5 ms more hashing.
    """
    for name in ("_sha2", "_sha256"):
        try:
            h: _Hasher = importlib.import_module(name).sha256()
        except ImportError:
            continue
        return h
    import hashlib

    return hashlib.sha256()


def source_hash() -> str:
    """SHA-256 (hex) of the runtime sources (``_SOURCES``), as embedded in builds."""
    h = _sha256()
    src = Path(runtime_source_dir())
    for name in _SOURCES:
        h.update(name.encode())
        h.update(b"\0")
        h.update((src / name).read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def hash_define(digest: str | None = None) -> str:
    """The ``-D`` flag that embeds ``source_hash()`` (or ``digest``) in a build."""
    return f'-DSIMPLE_RT_SOURCE_HASH="{digest or source_hash()}"'


def cache_dir() -> Path:
    """Where runtime builds are cached (created on demand)."""
    env = os.environ.get("SIMPLE_JIT_CACHE_DIR")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = (Path(xdg) if xdg else Path.home() / ".cache") / "simple_jit"
    base.mkdir(parents=True, exist_ok=True)
    return base


def aot_link_flags() -> list[str]:
    """Libraries an executable linked with ``aot_runtime_object()`` needs."""
    return ["-lpthread", "-lm"]


def _build_key(kind: str, cc: str, flags: list[str], digest: str) -> str:
    h = _sha256()
    h.update("\0".join([kind, cc, *flags, digest]).encode())
    return h.hexdigest()[:24]


def _compile(cc: str, args: list[str], out: Path) -> None:
    """Run ``cc args -o tmp`` and move the result to ``out`` atomically."""
    import shlex
    import subprocess
    import tempfile

    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=out.name + ".", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    cmd = [*shlex.split(cc), *args, "-o", str(tmp)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeBuildError(
                f"compiling the Simple runtime failed ({shlex.join(cmd)}):\n"
                f"{proc.stdout}{proc.stderr}"
            )
        os.replace(tmp, out)
    except FileNotFoundError as e:
        raise RuntimeBuildError(f"C compiler not found: {cc!r}") from e
    finally:
        tmp.unlink(missing_ok=True)


def aot_runtime_object(cc: str = "cc") -> str:
    """Path of ``simple_rt.c`` compiled with ``-O2 -DSIMPLE_RT_AOT_MAIN -c``.

    Cached by source hash, compiler and flags; reused when present.
    """
    digest = source_hash()
    flags = ["-O2", "-fPIC", "-DSIMPLE_RT_AOT_MAIN", hash_define(digest)]
    out = cache_dir() / f"simple_rt_aot-{_build_key('aot', cc, flags, digest)}.o"
    if not out.exists():
        src = Path(runtime_source_dir()) / "simple_rt.c"
        _compile(cc, [*flags, "-c", str(src)], out)
    return str(out)


def _embedded_hash_matches(path: str, digest: str) -> bool:
    try:
        data = Path(path).read_bytes()
    except OSError:
        return False
    return _MARKER + digest.encode() + b";" in data


def _built_extension(digest: str) -> str | None:
    """The installed ``_simple_rt`` extension, if it exists and is current."""
    try:
        spec = importlib.util.find_spec(_EXTENSION)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not os.path.isfile(spec.origin):
        return None
    return spec.origin if _embedded_hash_matches(spec.origin, digest) else None


def _cached_shared_library(digest: str, cc: str = "cc") -> str:
    flags = ["-O2", "-shared", "-fPIC", hash_define(digest)]
    out = cache_dir() / f"simple_rt-{_build_key('shared', cc, flags, digest)}.so"
    if not out.exists():
        src = Path(runtime_source_dir()) / "simple_rt.c"
        _compile(cc, [*flags, str(src), *aot_link_flags()], out)
    return str(out)


def runtime_library_path() -> str:
    """Path of the runtime shared library (built on demand if necessary)."""
    global _library_path
    with _lock:
        if _library_path is None:
            env = os.environ.get("SIMPLE_JIT_RUNTIME_LIB")
            if env:
                _library_path = env
            else:
                # hashed once: the sources are 170 KB (and it was done three
                # times when the installed extension was stale)
                digest = source_hash()
                _library_path = _built_extension(digest) or _cached_shared_library(digest)
        return _library_path


def _declare(lib: ctypes.CDLL) -> None:
    """ctypes signatures of the exported functions (text values are ``c_void_p``)."""
    i64, i32, ptr, dbl, cint = (
        ctypes.c_int64,
        ctypes.c_int32,
        ctypes.c_void_p,
        ctypes.c_double,
        ctypes.c_int,
    )
    sigs: dict[str, tuple[object, list[object]]] = {
        "rt_text_incref": (None, [ptr]),
        "rt_text_decref": (None, [ptr]),
        "rt_live_text_count": (i64, []),
        "rt_text_new": (ptr, [ctypes.c_char_p, i64]),
        "rt_text_alloc": (ptr, [i64]),
        "rt_text_from_i64": (ptr, [i64]),
        "rt_text_from_f64": (ptr, [dbl]),
        "rt_text_from_bool": (ptr, [cint]),
        "rt_text_from_unit": (ptr, []),
        "rt_text_concat": (ptr, [ptr, ptr]),
        "rt_text_len": (i64, [ptr]),
        "rt_text_contains": (cint, [ptr, ptr]),
        "rt_text_starts_with": (cint, [ptr, ptr]),
        "rt_text_ends_with": (cint, [ptr, ptr]),
        "rt_text_trim": (ptr, [ptr]),
        "rt_text_upper": (ptr, [ptr]),
        "rt_text_lower": (ptr, [ptr]),
        "rt_text_repeat": (ptr, [ptr, i64]),
        "rt_text_cmp": (i64, [ptr, ptr]),
        "rt_text_eq": (cint, [ptr, ptr]),
        "rt_format_f64": (cint, [ctypes.c_char_p, dbl]),
        "rt_print_i64": (None, [i64]),
        "rt_print_f64": (None, [dbl]),
        "rt_fpow": (dbl, [dbl, dbl]),
        "rt_print_bool": (None, [cint]),
        "rt_print_text": (None, [ptr]),
        "rt_print_unit": (None, []),
        "rt_flush": (None, []),
        "rt_panic": (None, [i32, ctypes.c_char_p, i32, i32]),
        "rt_panic_msg": (None, [ctypes.c_char_p, ctypes.c_char_p, i32, i32]),
        "rt_run_protected": (cint, [ptr, ptr, ctypes.POINTER(i64)]),
        "rt_last_error": (ctypes.c_char_p, []),
        "rt_stack_limit_here": (ctypes.c_size_t, []),
        "rt_run_main": (cint, [ptr, ctypes.c_size_t, ctypes.POINTER(i64)]),
        "rt_main_error": (ctypes.c_char_p, []),
        "rt_source_hash": (ctypes.c_char_p, []),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def load_runtime() -> ctypes.CDLL:
    """Load the runtime once (``RTLD_GLOBAL``) and make it visible to LLVM's JIT.

    The returned library has ctypes signatures set for every ``rt_*`` function.
    """
    global _library
    path = runtime_library_path()
    with _lock:
        if _library is None:
            lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
            _declare(lib)
            try:  # lazily, and only if llvmlite is installed
                llvm = importlib.import_module("llvmlite.binding")
            except ImportError:
                pass
            else:
                llvm.load_library_permanently(path)
            _library = lib
        return _library
