/* capi_bench.c -- what the C ABI costs (run: bench/capi_bench.sh [ITERATIONS [BACKEND]]).
 *
 * Prints one line per measurement: NAME VALUE UNIT. Times are the best of a
 * few repetitions (a shared machine is noisy).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simple_jit.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile int64_t sink;

static double bench_execute(int64_t h, long n) {
    int64_t args[2] = {10, 32};
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            args[0] = i;
            sink = rt_exec_manager_execute(h, "add", args, 2);
        }
        double dt = (now() - t0) / (double)n;
        if (dt < best) best = dt;
    }
    return best * 1e9;
}

static double bench_call(int64_t h, long n) {
    rt_value args[2] = {{.type = RT_I64, .i = 10}, {.type = RT_I64, .i = 32}}, r;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            args[0].i = i;
            rt_exec_manager_call(h, "add", args, 2, &r);
            sink = r.i;
        }
        double dt = (now() - t0) / (double)n;
        if (dt < best) best = dt;
    }
    return best * 1e9;
}

typedef struct {
    int64_t h;
    long n;
    double ns;
} ThreadArg;

static void *exec_thread(void *p) {
    ThreadArg *a = (ThreadArg *)p;
    a->ns = bench_execute(a->h, a->n);
    return NULL;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    const char *backend = argc > 2 ? argv[2] : "llvm"; /* of every handle but "hi" */
    double t0 = now();
    int64_t h = rt_exec_manager_create(backend);
    printf("first_create_incl_python_start %.1f ms\n", (now() - t0) * 1e3);
    rt_exec_manager_set_opt_level(h, 0);
    t0 = now();
    char *e = rt_exec_manager_compile_source(h, "fn add(x, y): x + y\n");
    printf("compile_add_O0 %.2f ms\n", (now() - t0) * 1e3);
    if (e[0]) {
        fprintf(stderr, "compile failed: %s\n", e);
        return 1;
    }
    rt_string_free(e);
    int64_t args[2] = {10, 32};
    t0 = now();
    int64_t r = rt_exec_manager_execute(h, "add", args, 2);
    printf("first_execute_add_incl_specialization %.2f ms (= %lld)\n", (now() - t0) * 1e3,
           (long long)r);
    printf("execute_add %.1f ns/call\n", bench_execute(h, n));
    printf("call_add %.1f ns/call\n", bench_call(h, n));

    /* throughput: threads calling on one shared handle and on separate handles */
    int64_t own[8];
    for (int i = 0; i < 8; i++) {
        own[i] = rt_exec_manager_create(backend);
        rt_string_free(rt_exec_manager_compile_source(own[i], "fn add(x, y): x + y\n"));
        sink = rt_exec_manager_execute(own[i], "add", args, 2);
    }
    for (int shared = 1; shared >= 0; shared--) {
        for (int T = 2; T <= 8; T *= 2) {
            pthread_t th[8];
            ThreadArg ta[8];
            double w0 = now();
            for (int i = 0; i < T; i++) {
                ta[i] = (ThreadArg){shared ? h : own[i], n / 8, 0};
                pthread_create(&th[i], NULL, exec_thread, &ta[i]);
            }
            for (int i = 0; i < T; i++) pthread_join(th[i], NULL);
            double total = (double)T * (double)(n / 8) * 5; /* 5 repetitions each */
            printf("execute_add_%d_threads_%s %.1f ns/call wall (aggregate, %ld CPUs)\n", T,
                   shared ? "one_handle" : "own_handles", (now() - w0) / total * 1e9,
                   sysconf(_SC_NPROCESSORS_ONLN));
        }
    }
    for (int i = 0; i < 8; i++) rt_exec_manager_cleanup(own[i]);

    /* create + cleanup (no compile) */
    long m = 2000;
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        t0 = now();
        for (long i = 0; i < m; i++) rt_exec_manager_cleanup(rt_exec_manager_create(backend));
        double dt = (now() - t0) / (double)m;
        if (dt < best) best = dt;
    }
    printf("create_cleanup %.1f us\n", best * 1e6);

    /* create + compile O0 + first call + cleanup */
    m = 100;
    t0 = now();
    for (long i = 0; i < m; i++) {
        int64_t k = rt_exec_manager_create(backend);
        rt_exec_manager_set_opt_level(k, 0);
        rt_string_free(rt_exec_manager_compile_source(k, "fn add(x: i64, y: i64) -> i64: x + y\n"));
        sink = rt_exec_manager_execute(k, "add", args, 2);
        rt_exec_manager_cleanup(k);
    }
    printf("create_compile_O0_call_cleanup %.2f ms\n", (now() - t0) / (double)m * 1e3);

    /* the interpreter backend (every call enters Python) */
    int64_t hi = rt_exec_manager_create("interpreter");
    rt_string_free(rt_exec_manager_compile_source(hi, "fn add(x, y): x + y\n"));
    sink = rt_exec_manager_execute(hi, "add", args, 2);
    printf("execute_add_interpreter %.1f ns/call\n", bench_execute(hi, 20000));
    rt_exec_manager_cleanup(hi);
    rt_exec_manager_cleanup(h);
    return 0;
}
