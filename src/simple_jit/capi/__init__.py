"""The C ABI of the execution manager: ``libsimple_jit.so`` and ``simple_jit.h``.

``build(DIR)`` (the ``simple capi DIR`` command) writes both files into DIR.
The library is a cffi *embedding* library: C code (``capi.c``) exports the
``rt_exec_manager_*`` functions of ``simple_jit.h`` and serves the hot path
(calls into code compiled by the LLVM backend) on its own; everything else
calls into an embedded Python interpreter running
:mod:`simple_jit.capi.embedded`.

The embedded interpreter finds this package without environment variables:
the init code compiled into the library puts the directories that held
``simple_jit``, ``llvmlite`` and ``cffi`` at build time in front of
``sys.path`` and adds the build interpreter's site directories (with their
``.pth`` files); the library is linked with an rpath to the build
interpreter's ``libpython``.

Builds are cached in ``simple_jit.runtime.cache_dir()``, keyed by a hash of
everything they are built from (sources, paths, Python and cffi versions).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import site
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path

__all__ = ["CapiBuildError", "build", "build_key", "header_path", "source_dir"]

LIBRARY = "libsimple_jit.so"
HEADER = "simple_jit.h"
MODULE = "_simple_jit_capi"
_SOURCES = ("capi.c", "simple_jit.h", "embedded.py", "__init__.py")

# The callbacks capi.c calls (extern "Python", implemented in embedded.py) and
# the C helpers embedded.py calls. Must match the declarations in capi.c.
CDEF = """
extern "Python" {
    int capi_py_create(int64_t id, uintptr_t mgr, const char *backend, char *backend_out,
                       int64_t *opt_level, char **err);
    void capi_py_destroy(int64_t id);
    int capi_py_check_backend(const char *backend);
    char *capi_py_compile(int64_t id, int what, const char *text, size_t len);
    int capi_py_lookup(int64_t id, const char *name, const char *kinds, uint64_t *addr,
                       uint64_t *wasm, char *ret, char *params, char **err);
    char *capi_py_wasm_failure(int64_t id, uintptr_t trap, uintptr_t error);
    int capi_py_call(int64_t id, const char *name, const char *kinds, const int64_t *slots,
                     size_t nargs, const char *accept, char *ret, int64_t *result, char **err);
    int capi_py_has_function(int64_t id, const char *name);
    char *capi_py_list_functions(int64_t id);
    int capi_py_set_opt_level(int64_t id, int64_t level, char **err);
    int capi_py_set_time_limit(int64_t id, int64_t ms, char **err);
}
void simple_capi_set_runtime(uintptr_t run_protected, uintptr_t last_error,
                             uintptr_t stack_limit_here, uintptr_t flush, uintptr_t text_new,
                             uintptr_t text_decref, uintptr_t text_from_f64);
char *simple_capi_strdup(const char *s, size_t n);
void simple_capi_store_lock(uintptr_t mgr);
void simple_capi_store_unlock(uintptr_t mgr);
"""

_lock = threading.Lock()


class CapiBuildError(RuntimeError):
    """Building libsimple_jit.so failed (the message says why)."""


def source_dir() -> Path:
    """The directory holding ``capi.c``, ``simple_jit.h`` and ``embedded.py``."""
    return Path(__file__).resolve().parent


def header_path() -> Path:
    """The public header shipped in this package."""
    return source_dir() / HEADER


def _package_parent(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return None
    return str(Path(spec.origin).resolve().parent.parent)


def _search_paths() -> tuple[list[str], list[str]]:
    """(directories to put first on sys.path, site directories to add)."""
    front: list[str] = []
    for pkg in ("simple_jit", "llvmlite", "cffi"):
        parent = _package_parent(pkg)
        if parent is not None and parent not in front:
            front.append(parent)
    sites = [p for p in site.getsitepackages() if os.path.isdir(p)]
    user = site.getusersitepackages()
    if site.ENABLE_USER_SITE and os.path.isdir(user):
        sites.append(user)
    return front, sites


def init_code() -> str:
    """The Python code the library runs when it starts its interpreter."""
    front, sites = _search_paths()
    return f"""\
import sys, site
for _p in reversed({front!r}):
    if _p not in sys.path:
        sys.path.insert(0, _p)
for _p in {sites!r}:
    if _p not in sys.path:
        site.addsitedir(_p)
from {MODULE} import ffi, lib
from simple_jit.capi.embedded import install
install(ffi, lib)
"""


def _link_args() -> list[str]:
    args = ["-Wl,-soname," + LIBRARY, "-lpthread"]
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir and sysconfig.get_config_var("Py_ENABLE_SHARED"):
        args.append("-Wl,-rpath," + str(libdir))
    return args


_COMPILE_ARGS = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]


def build_key() -> str:
    """Hash of everything a build depends on (the cache key)."""
    import cffi

    h = hashlib.sha256()
    src = source_dir()
    for name in _SOURCES:
        h.update(name.encode() + b"\0" + (src / name).read_bytes() + b"\0")
    for part in (init_code(), CDEF, sys.version, sys.executable, cffi.__version__):
        h.update(part.encode() + b"\0")
    h.update("\0".join(_link_args() + _COMPILE_ARGS).encode())
    return h.hexdigest()[:24]


def _c_string(text: str) -> str:
    """A C string literal (for a -D value)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _compile_into(out_dir: Path) -> Path:
    """Run cffi's embedding build; returns the path of the built library."""
    import cffi

    ffibuilder = cffi.FFI()
    ffibuilder.embedding_api("")
    ffibuilder.cdef(CDEF)
    ffibuilder.set_source(
        MODULE,
        '#include "capi.c"\n',
        include_dirs=[str(source_dir())],
        define_macros=[("SIMPLE_CAPI_PYTHON", _c_string(sys.executable))],
        extra_compile_args=_COMPILE_ARGS,
        extra_link_args=_link_args(),
    )
    ffibuilder.embedding_init_code(init_code())
    with tempfile.TemporaryDirectory(prefix="simple_capi_build.") as tmp:
        try:
            built = ffibuilder.compile(tmpdir=tmp, target="libsimple_jit.*", verbose=False)
        except Exception as exc:  # distutils/setuptools errors carry the compiler output
            raise CapiBuildError(f"building {LIBRARY} failed: {exc}") from exc
        out = out_dir / LIBRARY
        tmp_out = out_dir / (LIBRARY + ".tmp")
        shutil.copyfile(built, tmp_out)
        os.replace(tmp_out, out)
    return out


def _cached_library() -> Path:
    from simple_jit.runtime import cache_dir

    with _lock:
        target = cache_dir() / f"capi-{build_key()}"
        lib = target / LIBRARY
        if not lib.exists():
            staging = Path(tempfile.mkdtemp(prefix="capi-build.", dir=cache_dir()))
            try:
                _compile_into(staging)
                try:
                    os.replace(staging, target)
                except OSError:  # another process won the race
                    if not lib.exists():
                        raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        return lib


def _install_file(src: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + f".{os.getpid()}.tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


def build(out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``libsimple_jit.so`` and ``simple_jit.h`` into out_dir (created if needed).

    Returns their paths. Raises ``CapiBuildError`` (or ``OSError``) on failure.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lib = _cached_library()
    lib_dest, header_dest = out / LIBRARY, out / HEADER
    _install_file(lib, lib_dest)
    _install_file(header_path(), header_dest)
    return lib_dest, header_dest
