/* simple_jit.h -- C ABI of the Simple execution manager (libsimple_jit.so).
 *
 * Written by `simple capi DIR` next to libsimple_jit.so. The library embeds
 * the Python implementation of the execution manager (the `simple_jit`
 * package); it finds that package by itself, without environment variables.
 * Calls into code compiled by the LLVM backend (rt_exec_manager_execute,
 * rt_exec_manager_call, ...) run in C only, without entering Python, once a
 * function has been called with a given argument signature; so do calls of
 * Cranelift code whose arguments and result are i64, f64, bool or unit
 * (while no time limit is set on the handle).
 *
 * Conventions
 *   - A handle is a non-zero int64_t; 0 means failure. Handles are never
 *     reused within a process: a cleaned-up handle stays invalid.
 *   - Every char * returned is a new NUL-terminated UTF-8 string owned by the
 *     caller, freed with rt_string_free (which accepts NULL). No returned
 *     pointer is NULL except from rt_exec_manager_execute_string on error.
 *   - The compile functions return "" on success, the diagnostics otherwise
 *     ("FILE:LINE:COL: error: ..." lines; "<source>" is FILE for strings).
 *   - The execute functions and rt_exec_manager_call clear the calling
 *     thread's last error for the handle first; on failure they set it
 *     (rt_exec_manager_get_last_error returns "" after a success).
 *   - The last error is kept per handle and per calling thread.
 *   - Every function may be called from any thread. Compiles on one handle
 *     are serialised; calls into compiled code run concurrently.
 *   - On an invalid handle: compile and get_last_error return
 *     "Invalid execution manager", execute returns 0, the bool functions
 *     return false, backend_name returns "unknown", get_opt_level -1.
 */
#ifndef SIMPLE_JIT_H
#define SIMPLE_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SIMPLE_JIT_API __attribute__((visibility("default")))
#else
#define SIMPLE_JIT_API
#endif

/* Backend names: "auto", "cranelift", "llvm", "interpreter".
 * Sets the process-wide default used by create("auto") and create(NULL);
 * false for an unknown name or a backend that is not available. */
SIMPLE_JIT_API bool rt_set_jit_backend(const char *backend);
/* The process-wide default backend name ("auto" unless set). */
SIMPLE_JIT_API char *rt_get_jit_backend(void);

/* A new manager (0 for an unknown or unavailable backend). */
SIMPLE_JIT_API int64_t rt_exec_manager_create(const char *backend);
/* Releases the manager's compiled code and memory; invalid handles: no-op. */
SIMPLE_JIT_API void rt_exec_manager_cleanup(int64_t h);

SIMPLE_JIT_API char *rt_exec_manager_compile_source(int64_t h, const char *source);
SIMPLE_JIT_API char *rt_exec_manager_compile(int64_t h, const char *source);
/* Accepts the MIR text that `simple run --emit mir` prints. */
SIMPLE_JIT_API char *rt_exec_manager_compile_mir(int64_t h, const char *mir_text);
SIMPLE_JIT_API char *rt_exec_manager_compile_file(int64_t h, const char *path);

/* Calls NAME with i64 arguments (untyped parameters are specialised to i64);
 * the result is the i64, the bool (0/1) or 0 for unit. 0 and a last error on
 * failure. */
SIMPLE_JIT_API int64_t rt_exec_manager_execute(int64_t h, const char *name, const int64_t *args,
                                               size_t nargs);
/* Calls NAME with text arguments; returns its result as text (a non-text
 * result in its display form), or NULL and a last error on failure. */
SIMPLE_JIT_API char *rt_exec_manager_execute_string(int64_t h, const char *name,
                                                    const char *const *args, size_t nargs);
/* Calls NAME without arguments; true when the call ran to the end. */
SIMPLE_JIT_API bool rt_exec_manager_execute_void(int64_t h, const char *name);

SIMPLE_JIT_API bool rt_exec_manager_has_function(int64_t h, const char *name);
/* The callable names, sorted, one per line. */
SIMPLE_JIT_API char *rt_exec_manager_list_functions(int64_t h);
/* The backend actually in use ("llvm", "interpreter", ...); "unknown" for an
 * invalid handle. */
SIMPLE_JIT_API char *rt_exec_manager_backend_name(int64_t h);
SIMPLE_JIT_API bool rt_exec_manager_is_valid(int64_t h);
/* 0-3; affects later compiles. */
SIMPLE_JIT_API bool rt_exec_manager_set_opt_level(int64_t h, int64_t level);
SIMPLE_JIT_API int64_t rt_exec_manager_get_opt_level(int64_t h);
/* Limits every later call (and a unit's top-level code) to MS milliseconds of
 * running time; 0 removes the limit. A call that runs longer fails with the
 * last error "LINE:COL: runtime error: time limit exceeded" and the manager
 * stays usable. Backends "cranelift" and "interpreter"; false (and a last
 * error) for "llvm", which cannot stop machine code safely, for MS < 0 and
 * for an invalid handle. */
SIMPLE_JIT_API bool rt_exec_manager_set_time_limit_ms(int64_t h, int64_t ms);
/* The calling thread's last error for the handle ("" if none). */
SIMPLE_JIT_API char *rt_exec_manager_get_last_error(int64_t h);
SIMPLE_JIT_API void rt_exec_manager_clear_error(int64_t h);
SIMPLE_JIT_API void rt_string_free(char *s);

/* ---- typed call ---------------------------------------------------------- */
typedef enum { RT_I64, RT_F64, RT_BOOL, RT_TEXT, RT_UNIT } rt_type;
typedef struct {
    rt_type type;
    union {
        int64_t i;
        double f;
        bool b;
        const char *s;
    };
} rt_value;

/* Calls NAME with typed arguments (RT_UNIT is not an argument type). On
 * success stores the result in *result (type = the function's result type;
 * a RT_TEXT result's s is owned by the caller: rt_string_free((char *)s))
 * and returns true; false and a last error otherwise. */
SIMPLE_JIT_API bool rt_exec_manager_call(int64_t h, const char *name, const rt_value *args,
                                         size_t nargs, rt_value *result);

#ifdef __cplusplus
}
#endif

#endif /* SIMPLE_JIT_H */
