"""The Python side of ``libsimple_jit.so``: the callbacks its C code calls.

The library built by :mod:`simple_jit.capi` is a cffi *embedding* library.
Its C part (``capi.c``) owns the handle table, the last errors and the cache
of native entry points; it calls the functions below (``extern "Python"``
callbacks, run under the GIL) for everything that needs the compiler:
creating and closing managers, compiling, resolving a (name, argument kinds)
pair to native code, and calling functions of backends without native code.

Every callback catches ``BaseException``: nothing escapes into C. A callback
that fails returns its error status with a message in ``*err`` (a ``malloc``'d
C string, freed by the C side).

Status codes (``int`` results): 1 success, 2 "no" (a negative answer that is
not an error), 3 error (``*err`` set). cffi returns 0 when Python cannot run
the callback at all; the C side reads 0 as an internal error.
"""

from __future__ import annotations

import contextlib
import functools
import struct
import threading
from collections.abc import Callable
from typing import Any

from simple_jit.errors import CompileError, SimpleError, SimpleRuntimeError
from simple_jit.manager import ExecManager

OK, NO, ERROR = 1, 2, 3
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class _State:
    """One live manager: the ExecManager and the lock serialising its compiles."""

    __slots__ = ("lock", "manager")

    def __init__(self, manager: ExecManager) -> None:
        self.manager = manager
        self.lock = threading.Lock()


_managers: dict[int, _State] = {}
_installed = False
_callbacks: list[Any] = []


class _Failure(Exception):
    """A callback's answer is an error with this message (see ``status_callback``)."""


def _internal(exc: BaseException) -> str:
    return f"internal error: {type(exc).__name__}: {exc}"


def _message(exc: BaseException) -> str:
    """The text the C ABI reports for an exception raised by a call."""
    if isinstance(exc, _Failure):
        return str(exc)
    if isinstance(exc, SimpleRuntimeError):
        return exc.render_short()
    if isinstance(exc, SimpleError):
        return str(exc)
    return _internal(exc)


def install(ffi: Any, lib: Any) -> None:
    """Register the callbacks with cffi and hand the runtime to the C side."""
    global _installed
    if _installed:
        return
    _installed = True

    import ctypes

    from simple_jit.runtime import load_runtime

    rt = load_runtime()

    def addr(name: str) -> int:
        value = ctypes.cast(getattr(rt, name), ctypes.c_void_p).value
        assert value is not None
        return value

    lib.simple_capi_set_runtime(
        addr("rt_run_protected"),
        addr("rt_last_error"),
        addr("rt_stack_limit_here"),
        addr("rt_flush"),
        addr("rt_text_new"),
        addr("rt_text_decref"),
        addr("rt_text_from_f64"),
    )

    def c_string(text: str) -> Any:
        data = text.encode("utf-8", errors="replace")
        return lib.simple_capi_strdup(data, len(data))

    def set_err(err: Any, text: str) -> None:
        # Out of memory: the C side falls back to a generic message.
        with contextlib.suppress(BaseException):
            err[0] = c_string(text)

    def text_arg(value: Any) -> str:
        s = ffi.string(value)
        assert isinstance(s, bytes)
        return s.decode("utf-8")

    def state(ident: int) -> _State | None:
        return _managers.get(int(ident))

    def live(ident: int) -> _State:
        st = _managers.get(int(ident))
        if st is None:
            raise _Failure("Invalid execution manager")
        return st

    def status_callback(name: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
        """``ffi.def_extern`` for a callback returning a status whose last argument is ``err``.

        An exception becomes ``ERROR`` with its message in ``*err``: nothing
        escapes into C.
        """

        def wrap(fn: Callable[..., int]) -> Callable[..., int]:
            @functools.wraps(fn)
            def callback(*args: Any) -> int:
                try:
                    return fn(*args)
                except BaseException as exc:
                    set_err(args[-1], _message(exc))
                    return ERROR

            _callbacks.append(callback)  # never collected while C may call it
            ffi.def_extern(name=name)(callback)
            return callback

        return wrap

    class StoreLock:
        """The C side's lock of a cranelift manager's store (see capi.c)."""

        __slots__ = ("mgr",)

        def __init__(self, mgr: int) -> None:
            self.mgr = mgr

        def __enter__(self) -> StoreLock:
            lib.simple_capi_store_lock(self.mgr)
            return self

        def __exit__(self, *exc: object) -> None:
            lib.simple_capi_store_unlock(self.mgr)

    @status_callback("capi_py_create")
    def _create(
        ident: int, mgr: int, backend: Any, backend_out: Any, opt_out: Any, err: Any
    ) -> int:
        manager = ExecManager(backend=text_arg(backend))
        try:
            # C calls cranelift code itself, under the same lock
            manager._share_store_lock(StoreLock(int(mgr)))
            name = manager.backend.encode()[:31]
            ffi.memmove(backend_out, name + b"\0", len(name) + 1)
            opt_out[0] = int(manager.opt_level)
            _managers[int(ident)] = _State(manager)
        except BaseException:
            manager.close()
            raise
        return OK

    @ffi.def_extern(name="capi_py_destroy")  # type: ignore[untyped-decorator]
    def _destroy(ident: int) -> None:
        try:
            st = _managers.pop(int(ident), None)
            if st is not None:
                with st.lock:
                    st.manager.close()
        except BaseException:
            pass

    @ffi.def_extern(name="capi_py_check_backend")  # type: ignore[untyped-decorator]
    def _check_backend(backend: Any) -> int:
        try:
            ExecManager(backend=text_arg(backend)).close()
            return OK
        except BaseException:
            return NO

    @ffi.def_extern(name="capi_py_compile")  # type: ignore[untyped-decorator]
    def _compile(ident: int, what: int, text: Any, length: int) -> Any:
        try:
            return c_string(_compile_impl(int(ident), int(what), ffi.unpack(text, length)))
        except BaseException as exc:
            try:
                return c_string("error: " + _internal(exc))
            except BaseException:
                return ffi.NULL

    def _compile_impl(ident: int, what: int, data: bytes) -> str:
        st = state(ident)
        if st is None:
            return "Invalid execution manager"
        try:
            with st.lock:
                if what == 0:
                    try:
                        source = data.decode("utf-8")
                    except UnicodeDecodeError:
                        from simple_jit.driver import source_from_bytes

                        source_from_bytes("<source>", data)  # raises CompileError
                        raise
                    st.manager.compile_source(source, "<source>")
                elif what == 1:
                    try:
                        mir = data.decode("utf-8")
                    except UnicodeDecodeError:
                        return "error: the MIR text is not valid UTF-8"
                    st.manager.compile_mir(mir)
                else:
                    path = data.decode("utf-8")
                    try:
                        st.manager.compile_file(path)
                    except OSError as exc:
                        reason = exc.strerror or str(exc)
                        return f"error: cannot read '{path}': {reason}"
        except CompileError as exc:
            text = exc.render()
            return text if text else "error: compile failed"
        except SimpleError as exc:
            return str(exc) or "error: compile failed"
        return ""

    @status_callback("capi_py_lookup")
    def _lookup(
        ident: int,
        name: Any,
        kinds: Any,
        addr_out: Any,
        wasm_out: Any,
        ret_out: Any,
        params_out: Any,
        err: Any,
    ) -> int:
        st = live(ident)
        wanted = text_arg(kinds)
        with st.lock:
            entry = st.manager.native_entry(text_arg(name), wanted)
            wasm = None
            if entry is None and st.manager.backend == "cranelift":
                wasm = st.manager.wasm_entry(text_arg(name), wanted)
        found = wasm if wasm is not None else entry
        if found is None:
            return NO
        if len(found.kinds) != len(wanted):
            raise _Failure(f"internal error: entry kinds {found.kinds!r} for {wanted!r}")
        ffi.memmove(params_out, found.kinds.encode() + b"\0", len(wanted) + 1)
        if wasm is not None:
            for i, word in enumerate(wasm.words):
                wasm_out[i] = word
        elif entry is not None:
            addr_out[0] = int(entry.address)
            addr_out[1] = int(entry.target)
        ret_out[0] = found.ret.encode()[:1]
        return OK

    def decode_arg(kind: str, slot: int) -> Any:
        if kind == "i":
            return slot
        if kind == "f":
            return struct.unpack("<d", struct.pack("<q", slot))[0]
        if kind == "b":
            return slot != 0
        return text_arg(ffi.cast("char *", slot))

    @status_callback("capi_py_call")
    def _call(
        ident: int,
        name: Any,
        kinds: Any,
        slots: Any,
        nargs: int,
        accept: Any,
        ret_out: Any,
        result_out: Any,
        err: Any,
    ) -> int:
        st = live(ident)
        fname = text_arg(name)
        ks = text_arg(kinds)
        args = [decode_arg(ks[i], int(slots[i])) for i in range(int(nargs))]
        value = st.manager.call(fname, *args)
        if isinstance(value, bool):
            kind, bits = "b", int(value)
        elif isinstance(value, int):
            if not _I64_MIN <= value <= _I64_MAX:
                raise _Failure(f"Function '{fname}' returned an integer out of the i64 range")
            kind, bits = "i", value
        elif isinstance(value, float):
            kind, bits = "f", struct.unpack("<q", struct.pack("<d", value))[0]
        elif isinstance(value, str):
            kind, bits = "t", 0
        else:
            kind, bits = "u", 0
        if accept != ffi.NULL and kind not in text_arg(accept):
            names = {"i": "i64", "f": "f64", "b": "bool", "t": "text", "u": "unit"}
            raise _Failure(
                f"Function '{fname}' returns {names[kind]}, "
                "which rt_exec_manager_execute cannot return"
            )
        if kind == "t":
            assert isinstance(value, str)
            bits = int(ffi.cast("intptr_t", c_string(value)))
        ret_out[0] = kind.encode()
        result_out[0] = bits
        return OK

    @ffi.def_extern(name="capi_py_wasm_failure")  # type: ignore[untyped-decorator]
    def _wasm_failure(ident: int, trap: int, error: int) -> Any:
        """The message of a failed call of cranelift code (under the store lock)."""
        try:
            st = state(ident)
            if st is None:
                return c_string("Invalid execution manager")
            return c_string(_message(st.manager._wasm_failure(int(trap), int(error))))
        except BaseException as exc:
            try:
                return c_string(_internal(exc))
            except BaseException:
                return ffi.NULL

    @ffi.def_extern(name="capi_py_has_function")  # type: ignore[untyped-decorator]
    def _has_function(ident: int, name: Any) -> int:
        try:
            st = state(ident)
            return OK if st is not None and st.manager.has_function(text_arg(name)) else NO
        except BaseException:
            return NO

    @ffi.def_extern(name="capi_py_list_functions")  # type: ignore[untyped-decorator]
    def _list_functions(ident: int) -> Any:
        try:
            st = state(ident)
            names = st.manager.functions() if st is not None else []
            return c_string("\n".join(names))
        except BaseException:
            return ffi.NULL

    @status_callback("capi_py_set_opt_level")
    def _set_opt_level(ident: int, level: int, err: Any) -> int:
        st = live(ident)
        with st.lock:
            st.manager.opt_level = int(level)
        return OK

    @status_callback("capi_py_set_time_limit")
    def _set_time_limit(ident: int, ms: int, err: Any) -> int:
        live(ident).manager.set_time_limit(int(ms) / 1000.0 if ms > 0 else None)
        return OK

    # Keep references so the callbacks are never collected.
    _callbacks.extend(
        (
            _destroy,
            _check_backend,
            _compile,
            _has_function,
            _list_functions,
            _wasm_failure,
        )
    )
