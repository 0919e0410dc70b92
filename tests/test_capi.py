"""The C ABI (libsimple_jit.so + simple_jit.h) from a real C host.

``simple capi DIR`` builds the library; tests/capi_client.c is compiled
against it and run in a clean environment (only PATH): the library must find
its Python package, llvmlite and cffi by itself. Also: a Python-threads stress
of ``ExecManager``, memory staying flat over create/compile/call/cleanup
cycles, and a smoke run of bench/capi_bench.c.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from simple_jit.manager import ExecManager

ROOT = Path(__file__).resolve().parent.parent
SIMPLE = [sys.executable, "-m", "simple_jit.cli"]
CC = shutil.which("cc") or shutil.which("gcc")

pytestmark = pytest.mark.skipif(CC is None, reason="needs a C compiler")


def _clean_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


@pytest.fixture(scope="module")
def capi_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("capi")
    cache = tmp_path_factory.mktemp("cache")  # a fresh build: its warnings are visible
    env = dict(os.environ, SIMPLE_JIT_CACHE_DIR=str(cache))
    proc = subprocess.run(
        [*SIMPLE, "capi", str(out)], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warning:" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    assert (out / "libsimple_jit.so").is_file()
    assert (out / "simple_jit.h").is_file()
    return out


def _compile_c(capi_dir: Path, source: Path, exe: Path) -> Path:
    assert CC is not None
    cmd = [
        CC,
        "-O1",
        "-std=gnu11",
        "-Wall",
        "-Wextra",
        "-Werror",
        f"-I{capi_dir}",
        str(source),
        f"-L{capi_dir}",
        "-lsimple_jit",
        "-lpthread",
        f"-Wl,-rpath,{capi_dir}",
        "-o",
        str(exe),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return exe


@pytest.fixture(scope="module")
def client(capi_dir: Path) -> Path:
    return _compile_c(capi_dir, ROOT / "tests" / "capi_client.c", capi_dir / "capi_client")


def _run(exe: Path, *args: str, timeout: float = 600) -> str:
    proc = subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        env=_clean_env(),
        cwd="/",
        timeout=timeout,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert re.search(r"capi_client: \d+ checks, 0 failed", out), out
    return out


def test_capi_writes_library_and_header_from_cache(capi_dir: Path, tmp_path: Path) -> None:
    # The header in DIR is the one shipped in the package.
    shipped = ROOT / "src" / "simple_jit" / "capi" / "simple_jit.h"
    assert (capi_dir / "simple_jit.h").read_bytes() == shipped.read_bytes()
    for _ in range(2):  # the second build comes from the cache
        t0 = time.perf_counter()
        proc = subprocess.run(
            [*SIMPLE, "capi", str(tmp_path / "out")], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr
    assert elapsed < 5, f"a cached 'simple capi' took {elapsed:.1f} s"
    assert (tmp_path / "out" / "libsimple_jit.so").is_file()


def test_capi_usage_error_without_dir() -> None:
    proc = subprocess.run([*SIMPLE, "capi"], capture_output=True, text=True, check=False)
    assert proc.returncode == 2


def test_header_is_plain_c_and_cxx(tmp_path: Path) -> None:
    header = ROOT / "src" / "simple_jit" / "capi" / "simple_jit.h"
    src = tmp_path / "h.c"
    src.write_text('#include "simple_jit.h"\nint main(void) { return 0; }\n')
    assert CC is not None
    includes = [f"-I{header.parent}", str(src)]
    for lang, std in (("c", "-std=c11"), ("c++", "-std=c++17")):
        proc = subprocess.run(
            [CC, "-x", lang, std, "-Wall", "-Wextra", "-Werror", "-fsyntax-only", *includes],
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr


def test_client_functional(client: Path, tmp_path: Path) -> None:
    spl = tmp_path / "m.spl"
    spl.write_text(
        "fn mir_add(a: i64, b: i64) -> i64: a + b\nfn main():\n    print mir_add(1, 2)\n"
    )
    mir = subprocess.run(
        [*SIMPLE, "run", str(spl), "--emit", "mir"], capture_output=True, text=True, check=True
    ).stdout
    mir_file = tmp_path / "m.mir"
    mir_file.write_text(mir)
    out = _run(client, "functional", str(mir_file))
    # execute_void of a printing function: its output reaches stdout.
    assert out.count("hello from simple") == 3, out  # one per backend


@pytest.mark.parametrize("backend", ["llvm", "cranelift"])
def test_client_concurrency_stress(client: Path, backend: str) -> None:
    _run(client, "stress", backend)


def _growth_kb(out: str) -> int:
    m = re.search(r"rss_growth_kb (-?\d+)", out)
    assert m, out
    return int(m.group(1))


def test_memory_flat_interpreter(client: Path) -> None:
    # 10,000 create/compile/call/cleanup cycles: the handle table, last errors
    # and Python-side managers are all released.
    out = _run(client, "memory", "10000", "interpreter")
    assert _growth_kb(out) < 4096, out


def test_memory_flat_llvm(client: Path) -> None:
    # Compiled code is freed by cleanup.
    out = _run(client, "memory", "1000", "llvm", "0")
    assert _growth_kb(out) < 4096, out


def test_memory_flat_cranelift(client: Path) -> None:
    # A manager's wasmtime store (memory, table, instances) goes with cleanup.
    out = _run(client, "memory", "1000", "cranelift", "0")
    assert _growth_kb(out) < 4096, out


def test_memory_flat_llvm_optimized(client: Path) -> None:
    # The optimising pipelines are built once per process and reused
    # (llvm/compile.py): llvmlite's default pipelines leaked ~55 KB a compile.
    out = _run(client, "memory", "2000", "llvm", "2")
    assert _growth_kb(out) < 4096, out


def test_bench_smoke(capi_dir: Path) -> None:
    exe = _compile_c(capi_dir, ROOT / "bench" / "capi_bench.c", capi_dir / "capi_bench")
    proc = subprocess.run(
        [str(exe), "20000"], capture_output=True, text=True, env=_clean_env(), timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    m = re.search(r"^execute_add ([\d.]+) ns/call", proc.stdout, re.M)
    assert m, proc.stdout
    assert float(m.group(1)) < 1000, proc.stdout  # the contract: < 1 us from C


# ---- ExecManager from Python threads ---------------------------------------------


@pytest.mark.parametrize("shared_backend", ["llvm", "cranelift"])
def test_python_threads_stress(shared_backend: str) -> None:
    errors: list[str] = []
    shared = ExecManager(shared_backend)
    shared.compile_source("fn add(x, y): x + y\nfn ver() -> i64: 0\n")
    stop = threading.Event()

    def own(t: int) -> None:
        try:
            for backend in ("llvm", "interpreter", "cranelift"):
                with ExecManager(backend) as m:
                    m.compile_source(f"fn f(x, y): x * y + {t}\n")
                    for i in range(300):
                        if m.call("f", i, 3) != i * 3 + t:
                            errors.append(f"own {t}: f({i}, 3)")
        except Exception as exc:
            errors.append(f"own {t}: {exc!r}")

    def caller(t: int) -> None:
        try:
            i = 0
            while not stop.is_set() or i < 2000:
                if shared.call("add", i, t) != i + t:
                    errors.append(f"caller {t}: add({i}, {t})")
                v = shared.call("ver")
                if not isinstance(v, int) or not 0 <= v <= 10:
                    errors.append(f"caller {t}: ver() = {v!r}")
                i += 1
        except Exception as exc:
            errors.append(f"caller {t}: {exc!r}")

    def compiler(t: int) -> None:
        try:
            for k in range(5):
                shared.compile_source(
                    f"fn extra_{t}_{k}(x: i64) -> i64: x + {k}\nfn ver() -> i64: {k + 1}\n"
                )
                if shared.call(f"extra_{t}_{k}", 10) != 10 + k:
                    errors.append(f"compiler {t}: extra_{t}_{k}")
        except Exception as exc:
            errors.append(f"compiler {t}: {exc!r}")

    threads = [threading.Thread(target=own, args=(t,)) for t in range(3)]
    threads += [threading.Thread(target=caller, args=(t,)) for t in range(3)]
    compilers = [threading.Thread(target=compiler, args=(t,)) for t in range(2)]
    for th in threads + compilers:
        th.start()
    for th in compilers:
        th.join()
    stop.set()
    for th in threads:
        th.join()
    assert errors == []
    assert 1 <= shared.call("ver") <= 5  # type: ignore[operator]
    assert len(shared.functions()) == 2 + 2 * 5
    shared.close()
