"""The Python API of the execution manager, on every backend it offers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from simple_jit.errors import (
    CompileError,
    FunctionNotFound,
    SignatureError,
    SimpleError,
    SimpleRuntimeError,
    UnsupportedLimit,
)
from simple_jit.manager import ExecManager, set_default_backend

BACKENDS = ["llvm", "interpreter", "cranelift"]


@pytest.fixture(params=BACKENDS)
def m(request: pytest.FixtureRequest) -> ExecManager:
    mgr = ExecManager(request.param, opt_level=2)
    request.addfinalizer(mgr.close)
    return mgr


def test_add_and_generic_specializations(m: ExecManager) -> None:
    m.compile_source("fn add(x, y): x + y")
    assert m.call("add", 10, 32) == 42
    assert m.call("add", 1.5, 2.0) == 3.5
    assert m.call("add", "ab", "cd") == "abcd"
    assert m.has_function("add") and not m.has_function("nope")
    assert m.functions() == ["add"]


def test_value_conversions(m: ExecManager) -> None:
    m.compile_source(
        "fn half(x: f64) -> f64: x / 2.0\n"
        "fn neg(b: bool) -> bool: not b\n"
        'fn shout(t: text) -> text: t.upper() + "!"\n'
        "fn nothing(x: i64): pass\n"
        "fn big() -> i64: 9223372036854775807\n"
    )
    assert m.call("half", 3.0) == 1.5
    assert m.call("half", 3) == 1.5  # i64 promotes to f64
    assert m.call("neg", True) is False
    assert m.call("shout", "héllo") == "HÉLLO!"
    assert m.call("nothing", 1) is None
    assert m.call("big") == 2**63 - 1


def test_errors_are_exceptions_with_positions(m: ExecManager) -> None:
    m.compile_source(
        "fn div(a: i64, b: i64) -> i64:\n    a / b\nfn down(n: i64) -> i64: down(n + 1) + 1"
    )
    with pytest.raises(SimpleRuntimeError) as info:
        m.call("div", 1, 0)
    assert info.value.message == "division by zero"
    assert info.value.loc is not None and (info.value.loc.line, info.value.loc.col) == (2, 7)
    assert info.value.render_short() == "2:7: runtime error: division by zero"
    assert m.call("div", 10, 3) == 3  # the manager stays usable
    with pytest.raises(SimpleRuntimeError, match="stack overflow"):
        m.call("down", 0)
    assert m.call("div", 9, 3) == 3
    with pytest.raises(FunctionNotFound, match="Function 'nope' not found"):
        m.call("nope")
    with pytest.raises(SignatureError):
        m.call("div", 1)
    with pytest.raises(SignatureError):
        m.call("div", "a", "b")
    with pytest.raises(SignatureError):
        m.call("div", 2**64, 1)
    with pytest.raises(SignatureError):
        m.call("div", [1], 2)  # type: ignore[arg-type]


def test_failed_compile_changes_nothing(m: ExecManager) -> None:
    m.compile_source("fn keep() -> i64: 1")
    with pytest.raises(CompileError) as info:
        m.compile_source("fn keep() -> i64: 2\nfn broken() -> i64: undefined_name")
    assert "undefined name 'undefined_name'" in info.value.render()
    assert m.call("keep") == 1
    assert not m.has_function("broken")


def test_later_units_call_earlier_ones_and_redefinition_updates_callers(m: ExecManager) -> None:
    m.compile_source("fn helper(x: i64) -> i64: x + 1")
    m.compile_source("fn caller(x: i64) -> i64: helper(x) * 10")
    assert m.call("caller", 1) == 20
    m.compile_source("fn helper(x: i64) -> i64: x + 2")
    assert m.call("caller", 1) == 30  # the caller compiled earlier uses the new body
    with pytest.raises(CompileError, match="changes its signature"):
        m.compile_source("fn helper(x: f64) -> i64: 0")
    assert m.call("caller", 1) == 30


def test_generic_redefinition_respecializes(m: ExecManager) -> None:
    m.compile_source("fn twice(v): v + v")
    m.compile_source("fn use(n: i64) -> i64: twice(n)")
    assert m.call("use", 4) == 8
    m.compile_source("fn twice(v): v * 3")
    assert m.call("use", 4) == 12
    assert m.call("twice", 2.0) == 6.0


def test_globals_and_top_level_code(m: ExecManager) -> None:
    m.compile_source("var count = 10\nfn bump() -> i64:\n    count += 1\n    count")
    assert m.call("bump") == 11
    m.compile_source("fn peek() -> i64: count")
    assert m.call("bump") == 12
    assert m.call("peek") == 12
    with pytest.raises(SimpleRuntimeError, match="division by zero"):
        m.compile_source("fn later() -> i64: 1\nval oops = 1 / 0")
    assert not m.has_function("later")


def test_get_function_and_mir_units(m: ExecManager) -> None:
    m.compile_source("fn sq(x: i64) -> i64: x * x")
    sq = m.get_function("sq")
    assert [sq(i) for i in range(5)] == [0, 1, 4, 9, 16]
    m.compile_mir(
        'source "<mir>"\n\nfn @inc(%0 x: i64) -> i64 {\nbb0:\n    %1 = iadd %0, 1\n    ret %1\n}\n'.replace(
            "    %1 = iadd", "    %1: i64\nbb0:\n    %1 = iadd"
        ).replace("{\nbb0:\n    %1: i64", "{\n    %1: i64")
    )
    assert m.call("inc", 41) == 42
    m.compile_source("fn inc2(x: i64) -> i64: inc(inc(x))")
    assert m.call("inc2", 1) == 3
    with pytest.raises(CompileError):
        m.compile_mir("fn @bad(")


def test_compile_file(m: ExecManager, tmp_path: Path) -> None:
    p = tmp_path / "lib.spl"
    p.write_text("fn answer() -> i64: 42\n", encoding="utf-8")
    m.compile_file(str(p))
    assert m.call("answer") == 42
    with pytest.raises(OSError):
        m.compile_file(str(tmp_path / "missing.spl"))


def test_output_is_flushed_when_a_call_returns(capfd: pytest.CaptureFixture[str]) -> None:
    for backend in BACKENDS:
        with ExecManager(backend) as mgr:
            mgr.compile_source('fn hello(): print "hello from {1 + 1}"')
            mgr.call("hello")
            out = capfd.readouterr().out
            assert out == "hello from 2\n", backend


def test_bad_construction_and_closed_manager() -> None:
    with pytest.raises(ValueError):
        ExecManager("no-such-backend")
    with pytest.raises(ValueError):
        ExecManager("llvm", opt_level=7)
    mgr = ExecManager("llvm")
    mgr.compile_source("fn one() -> i64: 1")
    fast = mgr.get_function("one")
    mgr.close()
    with pytest.raises(SimpleError):
        mgr.call("one")
    with pytest.raises(SimpleError):
        fast()
    assert set_default_backend("interpreter")
    try:
        assert ExecManager("auto").backend == "interpreter"
    finally:
        assert set_default_backend("llvm")
    assert not set_default_backend("bogus")


@pytest.mark.parametrize("backend", ["llvm", "cranelift"])
def test_threads_compile_and_call_concurrently(backend: str) -> None:
    shared = ExecManager(backend)
    shared.compile_source("fn base(x: i64) -> i64: x * 2")
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            own = ExecManager(("llvm", "interpreter", "cranelift")[k % 3])
            own.compile_source(f"fn f{k}(x: i64) -> i64: x + {k}")
            shared.compile_source(f"fn g{k}(x: i64) -> i64: base(x) + {k}")
            for i in range(200):
                assert own.call(f"f{k}", i) == i + k
                assert shared.call(f"g{k}", i) == 2 * i + k
                assert shared.call("base", i) == 2 * i
            own.close()
        except BaseException as exc:  # collected and re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    shared.close()
    assert not errors, errors


def test_tier2_signatures_from_the_host(m: ExecManager) -> None:
    try:
        m.compile_source(
            "fn total(xs: [i64]) -> i64:\n    var t = 0\n    for x in xs:\n        t += x\n    t\n"
            "fn mk(n: i64) -> [i64]: [n, n]\n"
            "fn inner(n: i64) -> i64: total(mk(n))\n"
        )
    except CompileError as err:
        if m.backend == "cranelift" and "not supported by the cranelift backend" in str(err):
            pytest.skip("this cranelift backend has no tier 2 yet")
        raise
    assert m.call("inner", 21) == 42  # tier-2 values inside compiled code
    with pytest.raises(SignatureError):
        m.call("total", [1, 2])  # type: ignore[arg-type]
    if m.backend in ("llvm", "cranelift"):
        with pytest.raises(SignatureError, match=r"\[i64\]"):
            m.call("mk", 3)
    else:
        assert m.call("mk", 3) == [3, 3]  # type: ignore[comparison-overlap]


def test_time_limit(m: ExecManager) -> None:
    m.compile_source("fn spin():\n    while true:\n        pass\nfn one() -> i64: 1\n")
    if m.backend == "llvm":
        with pytest.raises(UnsupportedLimit, match="time limits"):
            m.set_time_limit(1.0)
        assert m.time_limit is None
        return
    with pytest.raises(ValueError):
        m.set_time_limit(0)
    m.set_time_limit(1.0)
    assert m.time_limit == 1.0
    for _ in range(2):
        t0 = time.monotonic()
        with pytest.raises(SimpleRuntimeError) as info:
            m.call("spin")
        elapsed = time.monotonic() - t0
        assert 0.9 <= elapsed < 2.0, elapsed
        assert info.value.message == "time limit exceeded"
        loc = info.value.loc  # where it stopped: the loop
        assert loc is not None and (loc.line, loc.col) == (2, 5), loc
        assert m.call("one") == 1  # the manager stays usable
    m.set_time_limit(None)
    assert m.call("one") == 1
    # top-level code is limited, too, and a unit that runs out adds nothing
    m.set_time_limit(0.3)
    with pytest.raises(SimpleRuntimeError, match="time limit exceeded"):
        m.compile_source("fn later() -> i64: 2\nspin()\n")
    assert not m.has_function("later")


@pytest.mark.parametrize("backend", ["cranelift", "interpreter"])
def test_time_limit_from_the_constructor(backend: str) -> None:
    with ExecManager(backend, time_limit=0.5) as mgr:
        mgr.compile_source(
            "fn spin(n: i64) -> i64:\n    var i = n\n    while i >= 0:\n        i += 1\n    i"
        )
        with pytest.raises(SimpleRuntimeError, match="time limit exceeded"):
            mgr.call("spin", 0)
        assert mgr.call("spin", -5) == -5


def test_cranelift_handles_do_not_block_each_other() -> None:
    busy, free = ExecManager("cranelift", time_limit=1.5), ExecManager("cranelift")
    busy.compile_source("fn spin():\n    while true:\n        pass\n")
    free.compile_source("fn add(a: i64, b: i64) -> i64: a + b\n")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            busy.call("spin")
        except SimpleRuntimeError:
            pass
        except BaseException as exc:
            errors.append(exc)

    th = threading.Thread(target=run)
    th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    add = free.get_function("add")
    assert [add(i, 1) for i in range(1000)] == list(range(1, 1001))
    assert time.monotonic() - t0 < 1.0  # not waiting for the spinning handle
    assert th.is_alive()
    th.join()
    assert not errors
    busy.close()
    free.close()


def test_cranelift_units_share_globals_texts_and_slots() -> None:
    with ExecManager("cranelift", opt_level=0) as mgr:
        mgr.compile_source('var tag = "a"\nfn get() -> text: tag\nfn put(t: text): tag = t + tag\n')
        mgr.compile_source('fn shout() -> text: get().upper() + "!"\n')
        mgr.call("put", "b")
        assert mgr.call("shout") == "BA!"
        mgr.opt_level = 2  # later units: MIR at -O2 on the same engine
        mgr.compile_source('fn get() -> text: "<" + tag + ">"\n')
        assert mgr.call("shout") == "<BA>!"
        # recursion through a redefined function across units
        mgr.compile_source(
            "fn even(n: i64) -> bool: n == 0 or odd(n - 1)\nfn odd(n: i64) -> bool: false\n"
        )
        assert mgr.call("even", 3) is False
        mgr.compile_source("fn odd(n: i64) -> bool: n != 0 and even(n - 1)\n")
        assert mgr.call("even", 10) is True and mgr.call("even", 7) is False
        assert mgr.call("even", 20001) is False


def test_public_names_import_from_the_package() -> None:
    import simple_jit
    from simple_jit import ExecManager as Exported
    from simple_jit import SimpleError, SimpleRuntimeError

    assert Exported is ExecManager
    assert issubclass(SimpleRuntimeError, SimpleError)
    for name in simple_jit.__all__:
        assert getattr(simple_jit, name) is not None
    with pytest.raises(AttributeError):
        _ = simple_jit.no_such_name
