/* capi_client.c -- a C host of libsimple_jit.so (run by tests/test_capi.py).
 *
 *   capi_client functional MIR_FILE   every function of simple_jit.h, every backend
 *   capi_client stress [BACKEND]      8+ threads on separate and shared handles
 *   capi_client memory N [BACKEND [OPT]]  N create/compile/call/cleanup cycles, RSS
 *
 * Prints "FAIL file:line: ..." for each failed check and ends with
 * "capi_client: N checks, M failed"; exits 1 when a check failed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simple_jit.h"

static atomic_long g_checks, g_failed;

#define CHECK(cond, ...)                                      \
    do {                                                      \
        atomic_fetch_add(&g_checks, 1);                       \
        if (!(cond)) {                                        \
            atomic_fetch_add(&g_failed, 1);                   \
            flockfile(stdout);                                \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);       \
            printf(__VA_ARGS__);                              \
            printf("\n");                                     \
            fflush(stdout);                                   \
            funlockfile(stdout);                              \
        }                                                     \
    } while (0)

/* Compares a returned string with want, then frees it. */
#define CHECK_STR(expr, want)                                                               \
    do {                                                                                    \
        char *got_ = (expr);                                                                \
        const char *want_ = (want);                                                         \
        CHECK(got_ != NULL && strcmp(got_, want_) == 0, "%s == \"%s\", got \"%s\"", #expr,  \
              want_, got_ ? got_ : "(null)");                                               \
        rt_string_free(got_);                                                               \
    } while (0)

/* The string contains needle (freed after). */
#define CHECK_HAS(expr, needle)                                                             \
    do {                                                                                    \
        char *got_ = (expr);                                                                \
        const char *n_ = (needle);                                                          \
        CHECK(got_ != NULL && strstr(got_, n_) != NULL, "%s contains \"%s\", got \"%s\"",   \
              #expr, n_, got_ ? got_ : "(null)");                                           \
        rt_string_free(got_);                                                               \
    } while (0)

#define INVALID "Invalid execution manager"

static char *last_error(int64_t h) { return rt_exec_manager_get_last_error(h); }

static int no_error(int64_t h) {
    char *e = last_error(h);
    int ok = e != NULL && e[0] == 0;
    if (!ok) printf("  (last error: %s)\n", e ? e : "(null)");
    rt_string_free(e);
    return ok;
}

/* "LINE:COL: runtime error: MESSAGE" with no FILE: prefix. */
static int is_runtime_error(const char *s, const char *message) {
    if (s == NULL) return 0;
    const char *p = s;
    for (int field = 0; field < 2; field++) {
        if (*p < '0' || *p > '9') return 0;
        while (*p >= '0' && *p <= '9') p++;
        if (*p++ != ':') return 0;
    }
    if (strncmp(p, " runtime error: ", 16) != 0) return 0;
    return strcmp(p + 16, message) == 0;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = 0;
    fclose(f);
    return buf;
}

/* ---- invalid handles --------------------------------------------------------- */
static void check_invalid(int64_t h) {
    CHECK(!rt_exec_manager_is_valid(h), "is_valid(%lld) is false", (long long)h);
    CHECK_STR(rt_exec_manager_compile_source(h, "fn f(): 1"), INVALID);
    CHECK_STR(rt_exec_manager_compile(h, "fn f(): 1"), INVALID);
    CHECK_STR(rt_exec_manager_compile_mir(h, "fn @f() -> () {\nbb0:\n    ret\n}\n"), INVALID);
    CHECK_STR(rt_exec_manager_compile_file(h, "/nonexistent.spl"), INVALID);
    CHECK_STR(rt_exec_manager_compile_source(h, NULL), INVALID);
    int64_t args[2] = {1, 2};
    CHECK(rt_exec_manager_execute(h, "add", args, 2) == 0, "execute on invalid handle is 0");
    CHECK(rt_exec_manager_execute(h, NULL, NULL, 5) == 0, "execute(NULL) on invalid is 0");
    const char *sargs[1] = {"x"};
    CHECK(rt_exec_manager_execute_string(h, "f", sargs, 1) == NULL, "execute_string is NULL");
    CHECK(!rt_exec_manager_execute_void(h, "f"), "execute_void is false");
    CHECK(!rt_exec_manager_has_function(h, "add"), "has_function is false");
    CHECK_STR(rt_exec_manager_list_functions(h), "");
    CHECK_STR(rt_exec_manager_backend_name(h), "unknown");
    CHECK(!rt_exec_manager_set_opt_level(h, 1), "set_opt_level is false");
    CHECK(!rt_exec_manager_set_time_limit_ms(h, 1000), "set_time_limit_ms is false");
    CHECK(rt_exec_manager_get_opt_level(h) == -1, "get_opt_level is -1");
    CHECK_STR(rt_exec_manager_get_last_error(h), INVALID);
    rt_exec_manager_clear_error(h); /* no-op */
    CHECK_STR(rt_exec_manager_get_last_error(h), INVALID);
    rt_value v = {.type = RT_I64, .i = 1}, res;
    CHECK(!rt_exec_manager_call(h, "f", &v, 1, &res), "call is false");
    rt_exec_manager_cleanup(h); /* no-op */
    rt_exec_manager_cleanup(h);
}

/* ---- per-thread last errors --------------------------------------------------- */
typedef struct {
    int64_t h;
    int ok;
} ErrThread;

static void *err_thread(void *p) {
    ErrThread *t = (ErrThread *)p;
    char *e = last_error(t->h); /* the main thread's error is not ours */
    t->ok = e != NULL && e[0] == 0;
    rt_string_free(e);
    int64_t zero[2] = {1, 0};
    rt_exec_manager_execute(t->h, "div", zero, 2);
    e = last_error(t->h);
    t->ok = t->ok && is_runtime_error(e, "division by zero");
    rt_string_free(e);
    return NULL;
}

/* ---- one backend ----------------------------------------------------------------- */
static const char *UNIT1 =
    "fn add(x, y): x + y\n"
    "fn div(a: i64, b: i64) -> i64: a / b\n"
    "fn base() -> i64: 1\n"
    "fn is_pos(x: i64) -> bool: x > 0\n"
    "fn half(x: f64) -> f64: x / 2.0\n"
    "fn floor_half(x: f64) -> i64: (x / 2.0) as i64\n"
    "fn greet(name: text) -> text: \"hello, \" + name\n"
    "fn join3(a: text, b: text, c: text) -> text: a + b + c\n"
    "fn nothing(): pass\n"
    "fn hello(): print \"hello from simple\"\n"
    "fn deep(n: i64) -> i64: deep(n + 1) + 1\n"
    "fn fmul(x: f64, n: i64) -> f64: x * n\n"
    "fn flip(b: bool) -> bool: not b\n"
    "fn shout(s: text) -> text: s + \"!\"\n"
    "fn mix(x: f64, flag: bool, s: text, n: i64) -> text: \"{s}/{x}/{flag}/{n}\"\n"
    "fn count() -> i64: 7\n"
    "fn twice(n): n * 2\n";

static void run_backend(const char *backend, const char *mir_file, char **div_msg) {
    printf("backend %s\n", backend);
    int64_t h = rt_exec_manager_create(backend);
    CHECK(h != 0, "create(%s)", backend);
    if (h == 0) return;
    CHECK(rt_exec_manager_is_valid(h), "is_valid");
    CHECK_STR(rt_exec_manager_backend_name(h), backend);
    CHECK(rt_exec_manager_get_opt_level(h) == 2, "default opt level 2");
    CHECK(rt_exec_manager_set_opt_level(h, 0), "set_opt_level(0)");
    CHECK(rt_exec_manager_get_opt_level(h) == 0, "opt level now 0");
    CHECK(!rt_exec_manager_set_opt_level(h, 4), "set_opt_level(4) fails");
    CHECK(!rt_exec_manager_set_opt_level(h, -1), "set_opt_level(-1) fails");
    CHECK(rt_exec_manager_get_opt_level(h) == 0, "opt level still 0");
    CHECK_STR(rt_exec_manager_list_functions(h), "");

    rt_value r0;
    /* compile + execute */
    CHECK_STR(rt_exec_manager_compile_source(h, UNIT1), "");
    CHECK(no_error(h), "no error after compile");
    int64_t a[2] = {10, 32};
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "add(10, 32) == 42");
    CHECK(no_error(h), "no error after add");
    int64_t neg[2] = {-5, 3};
    CHECK(rt_exec_manager_execute(h, "add", neg, 2) == -2, "add(-5, 3)");
    int64_t big[2] = {INT64_MAX, 1};
    CHECK(rt_exec_manager_execute(h, "add", big, 2) == INT64_MIN, "add wraps");
    CHECK(rt_exec_manager_execute(h, "count", NULL, 0) == 7, "count() with NULL args, 0");
    int64_t one = 21;
    CHECK(rt_exec_manager_execute(h, "twice", &one, 1) == 42, "generic twice(21)");
    CHECK(rt_exec_manager_execute(h, "is_pos", &one, 1) == 1, "bool true is 1");
    int64_t m1 = -1;
    CHECK(rt_exec_manager_execute(h, "is_pos", &m1, 1) == 0, "bool false is 0");
    CHECK(no_error(h), "bool false is not an error");
    CHECK(rt_exec_manager_execute(h, "nothing", NULL, 0) == 0, "unit result is 0");
    CHECK(no_error(h), "unit result is not an error");
    int64_t nine = 9;
    CHECK(rt_exec_manager_execute(h, "floor_half", &nine, 1) == 4, "i64 arg to f64 param");
    CHECK(no_error(h), "floor_half ok");

    /* functions */
    CHECK(rt_exec_manager_has_function(h, "add"), "has add");
    CHECK(!rt_exec_manager_has_function(h, "nope"), "has no nope");
    CHECK(!rt_exec_manager_has_function(h, NULL), "has(NULL) false");
    CHECK(!rt_exec_manager_has_function(h, "\xff\xfe"), "has(invalid UTF-8) false");
    CHECK_STR(rt_exec_manager_list_functions(h),
              "add\nbase\ncount\ndeep\ndiv\nflip\nfloor_half\nfmul\ngreet\nhalf\nhello\nis_pos\n"
              "join3\nmix\nnothing\nshout\ntwice");

    /* execute failures */
    CHECK(rt_exec_manager_execute(h, "nope", a, 2) == 0, "not found is 0");
    CHECK_STR(last_error(h), "Function 'nope' not found");
    CHECK(rt_exec_manager_execute(h, "add", a, 0) == 0, "wrong count is 0");
    CHECK_HAS(last_error(h), "argument");
    int64_t a3[3] = {1, 2, 3};
    CHECK(rt_exec_manager_execute(h, "add", a3, 3) == 0, "wrong count (3) is 0");
    CHECK_HAS(last_error(h), "argument");
    CHECK(rt_exec_manager_execute(h, "half", a, 1) == 0, "f64 result cannot be served");
    CHECK_HAS(last_error(h), "half");
    CHECK(rt_exec_manager_execute(h, "greet", a, 1) == 0, "text param cannot be served");
    CHECK_HAS(last_error(h), "greet");
    CHECK(rt_exec_manager_execute(h, NULL, a, 2) == 0, "NULL name");
    CHECK_HAS(last_error(h), "NULL");
    CHECK(rt_exec_manager_execute(h, "add", NULL, 2) == 0, "NULL args with nargs 2");
    CHECK_HAS(last_error(h), "NULL");
    CHECK(rt_exec_manager_execute(h, "add", a, SIZE_MAX) == 0, "absurd nargs");
    CHECK_HAS(last_error(h), "too many");
    const char *one_text[1] = {"x"};
    CHECK(rt_exec_manager_execute_string(h, "greet", one_text, SIZE_MAX / 2) == NULL, "absurd");
    CHECK_HAS(last_error(h), "too many");
    rt_value one_value = {.type = RT_I64, .i = 1};
    CHECK(!rt_exec_manager_call(h, "add", &one_value, SIZE_MAX, &r0), "absurd nargs");
    CHECK_HAS(last_error(h), "too many");
    CHECK(rt_exec_manager_execute(h, "\xc3\x28", a, 2) == 0, "invalid UTF-8 name");
    CHECK_HAS(last_error(h), "UTF-8");
    rt_exec_manager_clear_error(h);
    CHECK(no_error(h), "clear_error clears");
    /* a successful call clears the previous error */
    rt_exec_manager_execute(h, "nope", a, 2);
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "add after an error");
    CHECK(no_error(h), "success clears the error");

    /* runtime errors */
    int64_t dz[2] = {1, 0};
    CHECK(rt_exec_manager_execute(h, "div", dz, 2) == 0, "division by zero is 0");
    char *e = last_error(h);
    CHECK(is_runtime_error(e, "division by zero"), "div error is LINE:COL: ..., got \"%s\"", e);
    *div_msg = e;
    int64_t ok2[2] = {84, 2};
    CHECK(rt_exec_manager_execute(h, "div", ok2, 2) == 42, "the next call succeeds");
    CHECK(no_error(h), "no error after the recovered call");
    int64_t zero = 0;
    CHECK(rt_exec_manager_execute(h, "deep", &zero, 1) == 0, "stack overflow is 0");
    e = last_error(h);
    CHECK(is_runtime_error(e, "stack overflow"), "stack overflow error, got \"%s\"", e);
    rt_string_free(e);
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "call after stack overflow");
    CHECK(rt_exec_manager_execute(h, "deep", &zero, 1) == 0, "stack overflow again");
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "call after 2nd stack overflow");
    CHECK(no_error(h), "no error");

    /* time limits */
    CHECK(!rt_exec_manager_set_time_limit_ms(h, -1), "set_time_limit_ms(-1) fails");
    CHECK_HAS(last_error(h), "milliseconds");
    if (strcmp(backend, "llvm") == 0) {
        CHECK(!rt_exec_manager_set_time_limit_ms(h, 1000), "llvm has no time limits");
        CHECK_HAS(last_error(h), "time limit");
    } else {
        CHECK_STR(rt_exec_manager_compile(h, "fn spin():\n    while true:\n        pass\n"), "");
        CHECK(rt_exec_manager_set_time_limit_ms(h, 1000), "set_time_limit_ms(1000)");
        CHECK(no_error(h), "set_time_limit_ms clears the error");
        for (int round = 0; round < 2; round++) {
            struct timespec t0, t1;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            CHECK(!rt_exec_manager_execute_void(h, "spin"), "spin stops");
            clock_gettime(CLOCK_MONOTONIC, &t1);
            double secs = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
            CHECK(secs >= 0.9 && secs < 2.0, "spin under a 1 s limit took %.2f s", secs);
            e = last_error(h);
            CHECK(is_runtime_error(e, "time limit exceeded"), "time limit error, got \"%s\"", e);
            rt_string_free(e);
            CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "call after the time limit");
            CHECK(no_error(h), "no error after the time limit");
        }
        CHECK(rt_exec_manager_set_time_limit_ms(h, 0), "set_time_limit_ms(0) removes it");
        CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "call without a limit");
    }

    /* last error per thread */
    rt_exec_manager_execute(h, "nope", a, 2);
    ErrThread et = {h, 0};
    pthread_t th;
    pthread_create(&th, NULL, err_thread, &et);
    pthread_join(th, NULL);
    CHECK(et.ok, "another thread has its own last error");
    CHECK_STR(last_error(h), "Function 'nope' not found");

    /* execute_string */
    const char *w[1] = {"world"};
    const char *ab[2] = {"a", "b"};
    CHECK_STR(rt_exec_manager_execute_string(h, "greet", w, 1), "hello, world");
    CHECK(no_error(h), "greet ok");
    const char *u[1] = {"w\xc3\xb6rld \xe2\x82\xac"};
    CHECK_STR(rt_exec_manager_execute_string(h, "greet", u, 1), "hello, w\xc3\xb6rld \xe2\x82\xac");
    const char *three[3] = {"a", "", "c"};
    CHECK_STR(rt_exec_manager_execute_string(h, "join3", three, 3), "ac");
    const char *bad[1] = {"\xff"};
    CHECK(rt_exec_manager_execute_string(h, "greet", bad, 1) == NULL, "invalid UTF-8 arg");
    CHECK_HAS(last_error(h), "UTF-8");
    const char *nul[1] = {NULL};
    CHECK(rt_exec_manager_execute_string(h, "greet", nul, 1) == NULL, "NULL arg");
    CHECK_HAS(last_error(h), "NULL");
    CHECK(rt_exec_manager_execute_string(h, "greet", NULL, 1) == NULL, "NULL args");
    CHECK(rt_exec_manager_execute_string(h, NULL, w, 1) == NULL, "NULL name");
    CHECK(rt_exec_manager_execute_string(h, "nope", w, 1) == NULL, "not found");
    CHECK_STR(last_error(h), "Function 'nope' not found");
    CHECK(rt_exec_manager_execute_string(h, "greet", ab, 2) == NULL, "wrong count");
    CHECK_STR(rt_exec_manager_execute_string(h, "add", ab, 2), "ab"); /* (text, text) */
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "add(i64, i64) still there");
    rt_exec_manager_clear_error(h);
    CHECK_STR(rt_exec_manager_execute_string(h, "count", NULL, 0), "7");
    CHECK(no_error(h), "execute_string of an i64 result");

    /* execute_void */
    CHECK(rt_exec_manager_execute_void(h, "nothing"), "execute_void(nothing)");
    fflush(stdout);
    CHECK(rt_exec_manager_execute_void(h, "hello"), "execute_void(hello)");
    CHECK(rt_exec_manager_execute_void(h, "count"), "execute_void ignores a result");
    CHECK(!rt_exec_manager_execute_void(h, "nope"), "execute_void(nope)");
    CHECK_STR(last_error(h), "Function 'nope' not found");
    CHECK(!rt_exec_manager_execute_void(h, "add"), "execute_void(add) lacks args");
    CHECK(!rt_exec_manager_execute_void(h, NULL), "execute_void(NULL)");
    CHECK(rt_exec_manager_execute_void(h, "nothing"), "execute_void after errors");
    CHECK(no_error(h), "execute_void clears the error");

    /* typed call */
    rt_value r;
    rt_value fa[2] = {{.type = RT_F64, .f = 1.25}, {.type = RT_I64, .i = 4}};
    CHECK(rt_exec_manager_call(h, "fmul", fa, 2, &r), "call fmul");
    CHECK(r.type == RT_F64 && r.f == 5.0, "fmul -> 5.0 (type %d)", (int)r.type);
    rt_value ba = {.type = RT_BOOL, .b = true};
    CHECK(rt_exec_manager_call(h, "flip", &ba, 1, &r) && r.type == RT_BOOL && !r.b, "flip");
    rt_value ta = {.type = RT_TEXT, .s = "hey"};
    CHECK(rt_exec_manager_call(h, "shout", &ta, 1, &r) && r.type == RT_TEXT, "shout");
    if (r.type == RT_TEXT) CHECK_STR((char *)r.s, "hey!");
    rt_value mx[4] = {{.type = RT_F64, .f = 2.5},
                      {.type = RT_BOOL, .b = false},
                      {.type = RT_TEXT, .s = "s"},
                      {.type = RT_I64, .i = -3}};
    CHECK(rt_exec_manager_call(h, "mix", mx, 4, &r) && r.type == RT_TEXT, "mix");
    if (r.type == RT_TEXT) CHECK_STR((char *)r.s, "s/2.5/false/-3");
    rt_value ia[2] = {{.type = RT_I64, .i = 40}, {.type = RT_I64, .i = 2}};
    CHECK(rt_exec_manager_call(h, "add", ia, 2, &r) && r.type == RT_I64 && r.i == 42, "call add");
    CHECK(rt_exec_manager_call(h, "nothing", NULL, 0, &r) && r.type == RT_UNIT, "unit result");
    CHECK(rt_exec_manager_call(h, "is_pos", ia, 1, &r) && r.type == RT_BOOL && r.b, "is_pos");
    CHECK(!rt_exec_manager_call(h, "fmul", &ta, 1, &r), "call with wrong count");
    rt_value wrong[2] = {{.type = RT_TEXT, .s = "x"}, {.type = RT_I64, .i = 1}};
    CHECK(!rt_exec_manager_call(h, "fmul", wrong, 2, &r), "call with a wrong type");
    CHECK_HAS(last_error(h), "fmul");
    rt_value unit_arg = {.type = RT_UNIT};
    CHECK(!rt_exec_manager_call(h, "flip", &unit_arg, 1, &r), "RT_UNIT argument");
    rt_value junk = {.type = (rt_type)99};
    CHECK(!rt_exec_manager_call(h, "flip", &junk, 1, &r), "invalid type tag");
    rt_value nulltext = {.type = RT_TEXT, .s = NULL};
    CHECK(!rt_exec_manager_call(h, "shout", &nulltext, 1, &r), "NULL text");
    rt_value badtext = {.type = RT_TEXT, .s = "\xed\xa0\x80"}; /* a surrogate */
    CHECK(!rt_exec_manager_call(h, "shout", &badtext, 1, &r), "invalid UTF-8 text");
    CHECK(!rt_exec_manager_call(h, "shout", &ta, 1, NULL), "NULL result");
    CHECK(!rt_exec_manager_call(h, "shout", NULL, 1, &r), "NULL args");
    CHECK(!rt_exec_manager_call(h, NULL, &ta, 1, &r), "NULL name");
    CHECK(!rt_exec_manager_call(h, "div", (rt_value[]){{.type = RT_I64, .i = 1},
                                                       {.type = RT_I64, .i = 0}}, 2, &r),
          "call: division by zero");
    e = last_error(h);
    CHECK(is_runtime_error(e, "division by zero"), "call: runtime error, got \"%s\"", e);
    rt_string_free(e);
    CHECK(rt_exec_manager_call(h, "add", ia, 2, &r) && r.i == 42, "call after error");
    CHECK(no_error(h), "call clears the error");

    /* compile errors: diagnostics, atomic units */
    e = rt_exec_manager_compile_source(h, "fn good() -> i64: 1\nfn bad() -> i64: nope\n");
    CHECK(e != NULL && strncmp(e, "<source>:2:", 11) == 0 && strstr(e, ": error: ") != NULL,
          "diagnostics, got \"%s\"", e);
    rt_string_free(e);
    CHECK(!rt_exec_manager_has_function(h, "good"), "a failed unit adds nothing");
    CHECK_HAS(rt_exec_manager_compile_source(h, "fn add(x: f64) -> f64: x\n"), "error");
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42, "add unchanged after refused change");
    CHECK_HAS(rt_exec_manager_compile_source(h, NULL), "NULL");
    CHECK_HAS(rt_exec_manager_compile_source(h, "fn x() -> i64: 1\n\xff\n"),
              "<source>:2:1: error: source is not valid UTF-8");
    CHECK_HAS(rt_exec_manager_compile(h, "fn y( -> i64: 1\n"), "<source>:1:");
    CHECK_HAS(rt_exec_manager_compile_file(h, "/nonexistent/dir/x.spl"), "x.spl");
    CHECK_HAS(rt_exec_manager_compile_file(h, NULL), "NULL");
    CHECK_HAS(rt_exec_manager_compile_file(h, "\xff.spl"), "UTF-8");
    CHECK_HAS(rt_exec_manager_compile_mir(h, "this is not MIR"), "error");
    CHECK_HAS(rt_exec_manager_compile_mir(h, NULL), "NULL");

    /* redefinition: callers compiled in an earlier unit use the new body */
    CHECK_STR(rt_exec_manager_compile(h, "fn caller() -> i64: base() * 10\n"), "");
    CHECK(rt_exec_manager_execute(h, "caller", NULL, 0) == 10, "caller uses base 1");
    CHECK(rt_exec_manager_execute(h, "base", NULL, 0) == 1, "base 1");
    CHECK_STR(rt_exec_manager_compile(h, "fn base() -> i64: 5\n"), "");
    CHECK(rt_exec_manager_execute(h, "caller", NULL, 0) == 50, "caller uses base 5");
    CHECK(rt_exec_manager_execute(h, "base", NULL, 0) == 5, "base 5 (cache refreshed)");
    CHECK_STR(rt_exec_manager_compile(h, "fn twice(n): n * 3\n"), "");
    CHECK(rt_exec_manager_execute(h, "twice", &one, 1) == 63, "generic redefined");
    CHECK_HAS(rt_exec_manager_compile(h, "fn base() -> bool: true\n"), "error");
    CHECK(rt_exec_manager_execute(h, "caller", NULL, 0) == 50, "still base 5");

    /* compile_file */
    char path[] = "/tmp/capi_client_XXXXXX.spl";
    int fd = mkstemps(path, 4);
    CHECK(fd >= 0, "mkstemps");
    if (fd >= 0) {
        const char *src = "fn from_file(x: i64) -> i64: x * x\n";
        CHECK(write(fd, src, strlen(src)) == (ssize_t)strlen(src), "write");
        close(fd);
        CHECK_STR(rt_exec_manager_compile_file(h, path), "");
        int64_t seven = 7;
        CHECK(rt_exec_manager_execute(h, "from_file", &seven, 1) == 49, "from_file(7)");
        unlink(path);
    }

    /* compile_mir (the text `simple run --emit mir` prints) */
    char *mir = read_file(mir_file);
    CHECK(mir != NULL, "read %s", mir_file);
    if (mir) {
        CHECK_STR(rt_exec_manager_compile_mir(h, mir), "");
        CHECK(rt_exec_manager_has_function(h, "mir_add"), "mir_add defined");
        int64_t ma[2] = {40, 2};
        CHECK(rt_exec_manager_execute(h, "mir_add", ma, 2) == 42, "mir_add(40, 2)");
        free(mir);
    }

    /* opt level affects later compiles; every level works */
    for (int level = 0; level <= 3; level++) {
        char src[128];
        CHECK(rt_exec_manager_set_opt_level(h, level), "set_opt_level(%d)", level);
        snprintf(src, sizeof src, "fn at_level_%d(x: i64) -> i64: x + %d\n", level, level);
        CHECK_STR(rt_exec_manager_compile(h, src), "");
        char name[32];
        snprintf(name, sizeof name, "at_level_%d", level);
        int64_t x = 100;
        CHECK(rt_exec_manager_execute(h, name, &x, 1) == 100 + level, "%s", name);
    }

    /* cleanup: the handle becomes invalid, forever */
    rt_exec_manager_cleanup(h);
    check_invalid(h);
    int64_t h2 = rt_exec_manager_create(backend);
    CHECK(h2 != 0 && h2 != h, "a new handle is never an old one");
    CHECK(!rt_exec_manager_has_function(h2, "add"), "a new manager starts empty");
    rt_exec_manager_cleanup(h2);
    check_invalid(h2);
}

static int functional(const char *mir_file) {
    /* the process-wide default backend */
    CHECK_STR(rt_get_jit_backend(), "auto");
    CHECK(!rt_set_jit_backend(NULL), "set_jit_backend(NULL)");
    CHECK(!rt_set_jit_backend("bogus"), "set_jit_backend(bogus)");
    CHECK(!rt_set_jit_backend("\xff"), "set_jit_backend(invalid UTF-8)");
    CHECK_STR(rt_get_jit_backend(), "auto");
    CHECK(rt_exec_manager_create("bogus") == 0, "create(bogus) is 0");
    CHECK(rt_exec_manager_create("\xc3") == 0, "create(invalid UTF-8) is 0");
    CHECK(rt_set_jit_backend("cranelift"), "set_jit_backend(cranelift)");
    CHECK_STR(rt_get_jit_backend(), "cranelift");
    int64_t h = rt_exec_manager_create(NULL);
    CHECK_STR(rt_exec_manager_backend_name(h), "cranelift");
    rt_exec_manager_cleanup(h);
    CHECK(rt_set_jit_backend("interpreter"), "set_jit_backend(interpreter)");
    CHECK_STR(rt_get_jit_backend(), "interpreter");
    h = rt_exec_manager_create(NULL);
    CHECK_STR(rt_exec_manager_backend_name(h), "interpreter");
    rt_exec_manager_cleanup(h);
    h = rt_exec_manager_create("auto");
    CHECK_STR(rt_exec_manager_backend_name(h), "interpreter");
    rt_exec_manager_cleanup(h);
    CHECK(rt_set_jit_backend("llvm"), "set_jit_backend(llvm)");
    h = rt_exec_manager_create(NULL);
    CHECK_STR(rt_exec_manager_backend_name(h), "llvm");
    rt_exec_manager_cleanup(h);
    CHECK(rt_set_jit_backend("auto"), "set_jit_backend(auto)");
    CHECK_STR(rt_get_jit_backend(), "auto");
    h = rt_exec_manager_create("auto");
    CHECK_STR(rt_exec_manager_backend_name(h), "llvm");
    rt_exec_manager_cleanup(h);
    rt_string_free(NULL);

    int64_t never[] = {0, -1, 1, 999999, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) check_invalid(never[i]);

    char *div_llvm = NULL, *div_interp = NULL, *div_cranelift = NULL;
    run_backend("llvm", mir_file, &div_llvm);
    run_backend("interpreter", mir_file, &div_interp);
    run_backend("cranelift", mir_file, &div_cranelift);
    CHECK(div_llvm && div_interp && strcmp(div_llvm, div_interp) == 0,
          "same runtime error on both backends: \"%s\" vs \"%s\"", div_llvm, div_interp);
    CHECK(div_llvm && div_cranelift && strcmp(div_llvm, div_cranelift) == 0,
          "same runtime error on llvm and cranelift: \"%s\" vs \"%s\"", div_llvm,
          div_cranelift);
    rt_string_free(div_llvm);
    rt_string_free(div_interp);
    rt_string_free(div_cranelift);
    return 0;
}

/* ---- concurrency stress ------------------------------------------------------------ */
#define ROUNDS 3
#define CALLS 20000

static int64_t g_shared;
static atomic_int g_stop;
static const char *g_backend = "llvm"; /* of the shared handles and half the own ones */

static void *own_handle_thread(void *p) {
    long t = (long)(intptr_t)p;
    for (int round = 0; round < ROUNDS; round++) {
        int64_t h = rt_exec_manager_create(
            t % 2 ? "llvm" : (strcmp(g_backend, "llvm") == 0 ? "auto" : g_backend));
        CHECK(h != 0, "thread %ld: create", t);
        char src[256];
        snprintf(src, sizeof src,
                 "fn f(x, y): x * y + %ld\nfn g(s: text) -> text: s + \"-%ld\"\n"
                 "fn d(x: i64) -> i64: 100 / x\n",
                 t, t);
        CHECK_STR(rt_exec_manager_compile_source(h, src), "");
        int bad = 0;
        for (int i = 0; i < CALLS; i++) {
            int64_t a[2] = {i, 3};
            if (rt_exec_manager_execute(h, "f", a, 2) != (int64_t)i * 3 + t) bad++;
            if (i % 1000 == 0) {
                int64_t z = 0;
                rt_exec_manager_execute(h, "d", &z, 1);
                char *e = last_error(h);
                if (!is_runtime_error(e, "division by zero")) bad++;
                rt_string_free(e);
                if (rt_exec_manager_execute(h, "f", a, 2) != (int64_t)i * 3 + t || !no_error(h))
                    bad++;
            }
        }
        CHECK(bad == 0, "thread %ld: %d bad results", t, bad);
        const char *s[1] = {"x"};
        char want[32];
        snprintf(want, sizeof want, "x-%ld", t);
        CHECK_STR(rt_exec_manager_execute_string(h, "g", s, 1), want);
        rt_exec_manager_cleanup(h);
        CHECK(!rt_exec_manager_is_valid(h), "thread %ld: cleaned up", t);
    }
    return NULL;
}

static void *shared_caller_thread(void *p) {
    long t = (long)(intptr_t)p;
    long bad = 0, calls = 0;
    while (!atomic_load(&g_stop) || calls < CALLS) {
        int64_t a[2] = {calls, t};
        int64_t r = rt_exec_manager_execute(g_shared, "add", a, 2);
        if (r != calls + t || !no_error(g_shared)) bad++;
        if (calls % 500 == 0) {
            int64_t v = rt_exec_manager_execute(g_shared, "ver", NULL, 0);
            if (v < 0 || v > 15 || !no_error(g_shared)) bad++;
        }
        calls++;
    }
    CHECK(bad == 0, "shared caller %ld: %ld bad of %ld", t, bad, calls);
    return NULL;
}

static void *shared_compiler_thread(void *p) {
    long t = (long)(intptr_t)p;
    for (int k = 0; k < 15; k++) {
        char src[256];
        snprintf(src, sizeof src, "fn extra_%ld_%d(x: i64) -> i64: x + %d\nfn ver() -> i64: %d\n",
                 t, k, k, k + 1);
        CHECK_STR(rt_exec_manager_compile_source(g_shared, src), "");
        char name[64];
        snprintf(name, sizeof name, "extra_%ld_%d", t, k);
        int64_t x = 1000;
        CHECK(rt_exec_manager_execute(g_shared, name, &x, 1) == 1000 + k, "%s", name);
        CHECK(rt_exec_manager_has_function(g_shared, name), "has %s", name);
    }
    return NULL;
}

typedef struct {
    int64_t h;
    long ok, invalid, bad;
} RaceArg;

static void *cleanup_race_thread(void *p) {
    RaceArg *r = (RaceArg *)p;
    for (long i = 0; i < 200000; i++) {
        int64_t a[2] = {i, 1};
        int64_t v = rt_exec_manager_execute(r->h, "add", a, 2);
        if (v == i + 1) {
            r->ok++;
        } else {
            char *e = last_error(r->h);
            if (strcmp(e, INVALID) == 0)
                r->invalid++;
            else
                r->bad++;
            rt_string_free(e);
            if (r->invalid > 100) break;
        }
    }
    return NULL;
}

static int stress(void) {
    enum { OWN = 4, CALLERS = 4, COMPILERS = 2, RACERS = 2 };
    pthread_t own[OWN], callers[CALLERS], compilers[COMPILERS], racers[RACERS];
    g_shared = rt_exec_manager_create(g_backend);
    CHECK_STR(rt_exec_manager_compile(g_shared, "fn add(x, y): x + y\nfn ver() -> i64: 0\n"), "");
    RaceArg race[RACERS];
    int64_t doomed = rt_exec_manager_create(g_backend);
    CHECK_STR(rt_exec_manager_compile(doomed, "fn add(x, y): x + y\n"), "");
    for (long t = 0; t < OWN; t++) pthread_create(&own[t], NULL, own_handle_thread, (void *)t);
    for (long t = 0; t < CALLERS; t++)
        pthread_create(&callers[t], NULL, shared_caller_thread, (void *)t);
    for (long t = 0; t < COMPILERS; t++)
        pthread_create(&compilers[t], NULL, shared_compiler_thread, (void *)t);
    for (int t = 0; t < RACERS; t++) {
        race[t] = (RaceArg){doomed, 0, 0, 0};
        pthread_create(&racers[t], NULL, cleanup_race_thread, &race[t]);
    }
    usleep(50000);
    rt_exec_manager_cleanup(doomed); /* while two threads call into it */
    for (int t = 0; t < RACERS; t++) {
        pthread_join(racers[t], NULL);
        CHECK(race[t].bad == 0, "cleanup race: %ld bad (%ld ok, %ld invalid)", race[t].bad,
              race[t].ok, race[t].invalid);
    }
    for (int t = 0; t < COMPILERS; t++) pthread_join(compilers[t], NULL);
    atomic_store(&g_stop, 1);
    for (int t = 0; t < CALLERS; t++) pthread_join(callers[t], NULL);
    for (int t = 0; t < OWN; t++) pthread_join(own[t], NULL);
    CHECK(rt_exec_manager_execute(g_shared, "ver", NULL, 0) == 15, "last ver is 15");
    char *list = rt_exec_manager_list_functions(g_shared);
    int lines = 1;
    for (char *c = list; *c; c++) lines += *c == '\n';
    CHECK(lines == 2 + COMPILERS * 15, "shared handle has %d functions", lines);
    rt_string_free(list);
    rt_exec_manager_cleanup(g_shared);
    CHECK(!rt_exec_manager_is_valid(doomed) && !rt_exec_manager_is_valid(g_shared), "cleaned");
    return 0;
}

/* ---- memory ------------------------------------------------------------------------- */
static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int g_opt = 2;

static void cycle(const char *backend, long i) {
    int64_t h = rt_exec_manager_create(backend);
    CHECK(rt_exec_manager_set_opt_level(h, g_opt), "cycle %ld: set_opt_level", i);
    char src[128];
    snprintf(src, sizeof src, "fn add(x, y): x + y + %ld\nfn s(t: text) -> text: t + \"!\"\n", i);
    char *e = rt_exec_manager_compile_source(h, src);
    CHECK(e && !e[0], "cycle %ld: compile: %s", i, e ? e : "(null)");
    rt_string_free(e);
    int64_t a[2] = {10, 32};
    CHECK(rt_exec_manager_execute(h, "add", a, 2) == 42 + i, "cycle %ld: add", i);
    const char *ta[1] = {"x"};
    char *s = rt_exec_manager_execute_string(h, "s", ta, 1);
    CHECK(s && strcmp(s, "x!") == 0, "cycle %ld: s", i);
    rt_string_free(s);
    rt_exec_manager_execute(h, "nope", a, 2); /* leaves a last error behind */
    rt_exec_manager_cleanup(h);
}

static int memory(long n, const char *backend) {
    long warm = n / 10 > 200 ? n / 10 : 200;
    for (long i = 0; i < warm; i++) cycle(backend, i);
    long start = rss_kb();
    printf("rss_after_warmup_kb %ld\n", start);
    for (long i = 0; i < n; i++) {
        cycle(backend, i);
        if ((i + 1) % (n / 4 > 0 ? n / 4 : 1) == 0) printf("rss_kb %ld %ld\n", i + 1, rss_kb());
    }
    long end = rss_kb();
    printf("rss_end_kb %ld\n", end);
    printf("rss_growth_kb %ld\n", end - start);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && strcmp(argv[1], "functional") == 0)
        functional(argv[2]);
    else if (argc >= 2 && strcmp(argv[1], "stress") == 0) {
        if (argc >= 3) g_backend = argv[2];
        stress();
    }
    else if (argc >= 3 && strcmp(argv[1], "memory") == 0)
    {
        if (argc >= 5) g_opt = atoi(argv[4]);
        memory(atol(argv[2]), argc >= 4 ? argv[3] : "llvm");
    }
    else {
        fprintf(stderr, "usage: capi_client functional MIR_FILE | stress [BACKEND] | "
                        "memory N [BACKEND [OPT]]\n");
        return 2;
    }
    printf("capi_client: %ld checks, %ld failed\n", atomic_load(&g_checks),
           atomic_load(&g_failed));
    return atomic_load(&g_failed) ? 1 : 0;
}
