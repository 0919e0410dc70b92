/* capi.c -- the C side of libsimple_jit.so (see simple_jit.h).
 *
 * Compiled by cffi's embedding support together with the Python callbacks
 * declared in simple_jit/capi/__init__.py (capi_py_*, implemented in
 * simple_jit/capi/embedded.py). This file owns everything a hot call needs,
 * so that a call into code compiled by the LLVM backend never enters Python
 * once its (name, argument kinds) pair has been resolved:
 *
 *   - the handle table: handle -> Manager. Manager structs are allocated
 *     from a pool and never freed (only recycled), so a thread may keep a
 *     pointer to one in its per-thread handle cache and validate it after
 *     taking a reference (refs is "increment if not zero"; the id is checked
 *     after). The global map (for cache misses, create and cleanup) is under
 *     a mutex. A manager is destroyed (Python's ExecManager.close()) when its
 *     last reference goes: cleanup drops the table's reference, calls in
 *     flight keep theirs.
 *   - per handle, a hash table (name, kinds) -> native entry point, read
 *     without locks (entries and replaced tables live until the manager is
 *     destroyed), written under the manager's mutex, emptied after every
 *     successful compile.
 *   - the last errors: per thread, a small list handle -> message.
 *
 * The runtime's functions (rt_run_protected, ...) are reached through
 * pointers set by the embedded Python at initialisation
 * (simple_capi_set_runtime), so this library does not link the runtime.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simple_jit.h"

/* ---- the Python side (extern "Python" callbacks, see embedded.py) -------
 * Every callback returns 0 when Python could not run it at all (failed
 * initialisation): callers treat 0 as an internal error. */
static int capi_py_create(int64_t id, uintptr_t mgr, const char *backend, char *backend_out,
                          int64_t *opt_level, char **err);
static void capi_py_destroy(int64_t id);
static int capi_py_check_backend(const char *backend);
static char *capi_py_compile(int64_t id, int what, const char *text, size_t len);
/* addr[0]: a trampoline (native_fn), addr[1]: its target; or wasm[]: a cranelift entry */
static int capi_py_lookup(int64_t id, const char *name, const char *kinds, uint64_t *addr,
                          uint64_t *wasm, char *ret, char *params, char **err);
static char *capi_py_wasm_failure(int64_t id, uintptr_t trap, uintptr_t error);
static int capi_py_call(int64_t id, const char *name, const char *kinds, const int64_t *slots,
                        size_t nargs, const char *accept, char *ret, int64_t *result, char **err);
static int capi_py_has_function(int64_t id, const char *name);
static char *capi_py_list_functions(int64_t id);
static int capi_py_set_opt_level(int64_t id, int64_t level, char **err);
static int capi_py_set_time_limit(int64_t id, int64_t ms, char **err);

/* ---- starting Python --------------------------------------------------------
 * cffi would start the interpreter itself on the first callback, but as a
 * plain embedded interpreter: it would guess its prefix from the PATH and
 * miss the build's virtual environment (where _cffi_backend, llvmlite and
 * simple_jit live). So the interpreter is started here, before the first
 * callback, as the build's Python executable (SIMPLE_CAPI_PYTHON: the venv's
 * python, whose pyvenv.cfg gives the right prefix and site-packages). A host
 * that already runs Python keeps its interpreter. */
#ifndef SIMPLE_CAPI_PYTHON
#define SIMPLE_CAPI_PYTHON ""
#endif

static pthread_once_t g_python_once = PTHREAD_ONCE_INIT;

static void start_python(void) {
    if (Py_IsInitialized() || SIMPLE_CAPI_PYTHON[0] == 0) return;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 0; /* the host's signals stay the host's */
    config.parse_argv = 0;
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, SIMPLE_CAPI_PYTHON);
    if (!PyStatus_Exception(st)) st = PyConfig_SetBytesString(&config, &config.executable,
                                                              SIMPLE_CAPI_PYTHON);
    if (!PyStatus_Exception(st)) st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st)) return; /* cffi will try its own way and report */
    PyEval_SaveThread(); /* release the GIL: callbacks take it per call */
}

static void ensure_python(void) { pthread_once(&g_python_once, start_python); }

/* ---- the runtime (function pointers set at initialisation) -------------- */
typedef struct SimpleText {
    int64_t rc;
    int64_t len;
    char data[];
} SimpleText;

static int (*p_run_protected)(int64_t (*)(void *), void *, int64_t *);
static const char *(*p_last_error)(void);
static uintptr_t (*p_stack_limit_here)(void);
static void (*p_flush)(void);
static SimpleText *(*p_text_new)(const char *, int64_t);
static void (*p_text_decref)(SimpleText *);
static SimpleText *(*p_text_from_f64)(double);

void simple_capi_set_runtime(uintptr_t run_protected, uintptr_t last_error,
                             uintptr_t stack_limit_here, uintptr_t flush, uintptr_t text_new,
                             uintptr_t text_decref, uintptr_t text_from_f64) {
    p_run_protected = (int (*)(int64_t (*)(void *), void *, int64_t *))run_protected;
    p_last_error = (const char *(*)(void))last_error;
    p_stack_limit_here = (uintptr_t(*)(void))stack_limit_here;
    p_flush = (void (*)(void))flush;
    p_text_new = (SimpleText * (*)(const char *, int64_t)) text_new;
    p_text_decref = (void (*)(SimpleText *))text_decref;
    p_text_from_f64 = (SimpleText * (*)(double)) text_from_f64;
}

/* ---- strings --------------------------------------------------------------- */
#define MSG_INVALID "Invalid execution manager"

/* A malloc'd copy of n bytes plus a NUL (NULL only when out of memory). */
char *simple_capi_strdup(const char *s, size_t n) {
    char *p = (char *)malloc(n + 1);
    if (p == NULL) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static char *dup_str(const char *s) { return simple_capi_strdup(s, strlen(s)); }

/* Returned strings are never NULL: out of memory aborts, as malloc failing
 * on a few bytes leaves nothing sensible to return. */
static char *ret_str(const char *s) {
    char *p = dup_str(s);
    if (p == NULL) abort();
    return p;
}

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned min;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4, min = 0x10000, cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i < len) return 0;
        for (size_t k = 1; k < len; k++) {
            unsigned d = s[i + k];
            if ((d & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

static int cstr_valid(const char *s) { return utf8_valid((const unsigned char *)s, strlen(s)); }

/* ---- managers and the handle table --------------------------------------- */
/* A trampoline (llvm/codegen.py): unpacks the slots and calls the function in
 * `target`, its slot, which follows redefinitions. */
typedef int64_t (*native_fn)(const int64_t *slots, uintptr_t stack_limit, void *target);

/* A cranelift entry point: wasmtime_func_call_unchecked(ctx, &func, values,
 * n, &trap) on the manager's store (see wasm/units.py), under its store_lock. */
typedef union {
    int32_t i32;
    int64_t i64;
    double f64;
    unsigned char v128[16];
} WasmRaw; /* wasmtime_val_raw_t */
typedef void *(*wasm_call_fn)(void *ctx, const uint64_t *func, WasmRaw *values, size_t n,
                              void **trap);

typedef struct Entry {
    struct Entry *next_all; /* every entry of the manager, freed at destroy */
    uint64_t hash;
    native_fn fn;
    void *target;     /* llvm: the function's slot, passed to fn */
    uint64_t wasm[4]; /* cranelift: store context, func (2 words), call; else 0 */
    char ret;     /* 'i', 'f', 'b', 't' or 'u' */
    char convert; /* the slots need converting: texts, or i64 passed to f64 */
    char *name;   /* name '\0' kinds '\0' params '\0' */
    char *kinds;  /* the kinds the caller passes */
    char *params; /* the kinds the code takes (an 'i' may become 'f') */
} Entry;

typedef struct Table {
    struct Table *next_retired;
    size_t mask;
    size_t count;
    _Atomic(Entry *) slots[];
} Table;

typedef struct Manager {
    _Atomic int64_t id;    /* 0 while in the pool */
    _Atomic int64_t refs;  /* the table's reference + calls in flight */
    _Atomic int closing;   /* set by cleanup */
    struct Manager *next;  /* map bucket chain, or the pool's free list */
    pthread_mutex_t lock;  /* entry inserts and table swaps */
    _Atomic(Table *) table;
    Table *retired;
    Entry *entries;
    uint64_t generation;   /* bumped by each successful compile (under lock) */
    _Atomic int native;    /* 0: the backend has no native code, use Python */
    _Atomic int limited;   /* a time limit is set: cranelift calls go through Python */
    pthread_mutex_t store_lock; /* recursive: serialises all use of a wasmtime store */
    _Atomic int64_t opt_level;
    char backend[32];
} Manager;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* map, pool, default */
static Manager **g_buckets = NULL;
static size_t g_nbuckets = 0, g_count = 0;
static Manager *g_pool = NULL;
static _Atomic int64_t g_next_id = 1;
static char g_default_backend[32] = "auto";

#define HCACHE 8
typedef struct {
    int64_t id;
    Manager *m;
} HCacheSlot;
static _Thread_local HCacheSlot tls_hcache[HCACHE];

static Manager *map_find_locked(int64_t id) {
    if (g_nbuckets == 0) return NULL;
    for (Manager *m = g_buckets[(uint64_t)id & (g_nbuckets - 1)]; m; m = m->next)
        if (atomic_load_explicit(&m->id, memory_order_relaxed) == id) return m;
    return NULL;
}

static int map_insert_locked(Manager *m) {
    if (g_count + 1 > g_nbuckets) {
        size_t nb = g_nbuckets ? g_nbuckets * 2 : 16;
        Manager **b = (Manager **)calloc(nb, sizeof *b);
        if (b == NULL) return 0;
        for (size_t i = 0; i < g_nbuckets; i++) {
            Manager *e = g_buckets[i];
            while (e) {
                Manager *next = e->next;
                size_t k = (uint64_t)atomic_load(&e->id) & (nb - 1);
                e->next = b[k];
                b[k] = e;
                e = next;
            }
        }
        free(g_buckets);
        g_buckets = b;
        g_nbuckets = nb;
    }
    size_t k = (uint64_t)atomic_load(&m->id) & (g_nbuckets - 1);
    m->next = g_buckets[k];
    g_buckets[k] = m;
    g_count++;
    return 1;
}

static void map_remove_locked(Manager *m) {
    if (g_nbuckets == 0) return;
    Manager **pp = &g_buckets[(uint64_t)atomic_load(&m->id) & (g_nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            m->next = NULL;
            g_count--;
            return;
        }
    }
}

static Table *table_new(size_t size) {
    Table *t = (Table *)calloc(1, sizeof(Table) + size * sizeof(_Atomic(Entry *)));
    if (t == NULL) return NULL;
    t->mask = size - 1;
    for (size_t i = 0; i < size; i++) atomic_init(&t->slots[i], NULL);
    return t;
}

static Manager *pool_get(void) {
    pthread_mutex_lock(&g_lock);
    Manager *m = g_pool;
    if (m) g_pool = m->next;
    pthread_mutex_unlock(&g_lock);
    if (m == NULL) {
        m = (Manager *)calloc(1, sizeof *m);
        if (m == NULL) return NULL;
        atomic_init(&m->id, 0);
        atomic_init(&m->refs, 0);
        pthread_mutex_init(&m->lock, NULL);
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&m->store_lock, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    m->next = NULL;
    return m;
}

static void pool_put(Manager *m) {
    pthread_mutex_lock(&g_lock);
    m->next = g_pool;
    g_pool = m;
    pthread_mutex_unlock(&g_lock);
}

static void manager_free_tables(Manager *m) {
    Table *t = atomic_load(&m->table);
    if (t) free(t);
    atomic_store(&m->table, NULL);
    while (m->retired) {
        Table *n = m->retired->next_retired;
        free(m->retired);
        m->retired = n;
    }
    while (m->entries) {
        Entry *n = m->entries->next_all;
        free(m->entries->name);
        free(m->entries);
        m->entries = n;
    }
}

static void destroy(Manager *m) {
    int64_t id = atomic_load(&m->id);
    capi_py_destroy(id); /* ExecManager.close(): frees the compiled code */
    manager_free_tables(m);
    atomic_store(&m->id, 0);
    pool_put(m);
}

static int try_ref(Manager *m) {
    int64_t r = atomic_load_explicit(&m->refs, memory_order_relaxed);
    while (r > 0) {
        if (atomic_compare_exchange_weak_explicit(&m->refs, &r, r + 1, memory_order_acquire,
                                                  memory_order_relaxed))
            return 1;
    }
    return 0;
}

static void release(Manager *m) {
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) destroy(m);
}

/* The live manager of handle h with a reference taken, or NULL. */
static Manager *acquire(int64_t h) {
    if (h <= 0) return NULL;
    HCacheSlot *slot = &tls_hcache[(uint64_t)h % HCACHE];
    Manager *m = slot->m;
    if (m != NULL && slot->id == h) {
        if (try_ref(m)) {
            if (atomic_load(&m->id) == h && !atomic_load(&m->closing)) return m;
            release(m);
        }
        slot->m = NULL;
    }
    pthread_mutex_lock(&g_lock);
    m = map_find_locked(h);
    if (m) atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&g_lock);
    if (m) {
        slot->id = h;
        slot->m = m;
    }
    return m;
}

static int handle_live(int64_t h) {
    pthread_mutex_lock(&g_lock);
    int live = map_find_locked(h) != NULL;
    pthread_mutex_unlock(&g_lock);
    return live;
}

/* ---- last errors: per thread, per handle ---------------------------------- */
typedef struct {
    int64_t id;
    char *msg;
} ErrSlot;
typedef struct {
    ErrSlot *v;
    size_t n, cap;
} ErrList;

static _Thread_local ErrList *tls_errs = NULL;
static pthread_key_t g_errs_key;
static pthread_once_t g_errs_once = PTHREAD_ONCE_INIT;

static void errs_free(void *p) {
    ErrList *l = (ErrList *)p;
    if (tls_errs == l) tls_errs = NULL; /* runs on the exiting thread */
    for (size_t i = 0; i < l->n; i++) free(l->v[i].msg);
    free(l->v);
    free(l);
}

static void errs_key_init(void) { pthread_key_create(&g_errs_key, errs_free); }

static void err_remove_at(ErrList *l, size_t i) {
    free(l->v[i].msg);
    l->v[i] = l->v[--l->n];
}

static void clear_error(int64_t id) {
    ErrList *l = tls_errs;
    if (l == NULL || l->n == 0) return;
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].id == id) {
            err_remove_at(l, i);
            return;
        }
    }
}

/* Takes ownership of msg (malloc'd; NULL means out of memory). */
static void set_error_owned(int64_t id, char *msg) {
    if (msg == NULL) msg = dup_str("out of memory");
    if (msg == NULL) return;
    ErrList *l = tls_errs;
    if (l == NULL) {
        pthread_once(&g_errs_once, errs_key_init);
        l = (ErrList *)calloc(1, sizeof *l);
        if (l == NULL) {
            free(msg);
            return;
        }
        tls_errs = l;
        pthread_setspecific(g_errs_key, l);
    }
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i].id == id) {
            free(l->v[i].msg);
            l->v[i].msg = msg;
            return;
        }
    }
    if (l->n >= 32 && l->n == l->cap) { /* drop the errors of cleaned-up handles */
        for (size_t i = l->n; i-- > 0;)
            if (!handle_live(l->v[i].id)) err_remove_at(l, i);
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4;
        ErrSlot *v = (ErrSlot *)realloc(l->v, cap * sizeof *v);
        if (v == NULL) {
            free(msg);
            return;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n].id = id;
    l->v[l->n].msg = msg;
    l->n++;
}

static void set_error(int64_t id, const char *msg) { set_error_owned(id, dup_str(msg)); }

static const char *get_error(int64_t id) {
    ErrList *l = tls_errs;
    if (l == NULL) return "";
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].id == id) return l->v[i].msg;
    return "";
}

/* ---- entry points: (name, kinds) -> native code --------------------------- */
static uint64_t key_hash(const char *name, const char *kinds) {
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0xFF) * 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)kinds; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static Entry *entry_find(Manager *m, const char *name, const char *kinds, uint64_t hash) {
    Table *t = atomic_load_explicit(&m->table, memory_order_acquire);
    if (t == NULL) return NULL;
    for (size_t i = hash & t->mask;; i = (i + 1) & t->mask) {
        Entry *e = atomic_load_explicit(&t->slots[i], memory_order_acquire);
        if (e == NULL) return NULL;
        if (e->hash == hash && strcmp(e->name, name) == 0 && strcmp(e->kinds, kinds) == 0)
            return e;
    }
}

static void table_put(Table *t, Entry *e) {
    size_t i = e->hash & t->mask;
    while (atomic_load_explicit(&t->slots[i], memory_order_relaxed) != NULL) i = (i + 1) & t->mask;
    atomic_store_explicit(&t->slots[i], e, memory_order_release);
    t->count++;
}

/* The store lock of a cranelift manager, also taken by its Python side
 * (UnitStore.lock). cffi releases the GIL around these calls; should a
 * caller hold it anyway, it is released while waiting, since the holder of
 * the lock may need the GIL (host functions) to finish. */
void simple_capi_store_lock(uintptr_t mgr) {
    Manager *m = (Manager *)mgr;
    if (pthread_mutex_trylock(&m->store_lock) == 0) return;
    if (PyGILState_Check()) {
        PyThreadState *ts = PyEval_SaveThread();
        pthread_mutex_lock(&m->store_lock);
        PyEval_RestoreThread(ts);
    } else {
        pthread_mutex_lock(&m->store_lock);
    }
}

void simple_capi_store_unlock(uintptr_t mgr) {
    pthread_mutex_unlock(&((Manager *)mgr)->store_lock);
}

/* Adds an entry unless a compile happened since `generation` was read. */
static Entry *entry_insert(Manager *m, uint64_t generation, const char *name, const char *kinds,
                           const char *params, uint64_t hash, native_fn fn, void *target,
                           const uint64_t *wasm, char ret) {
    size_t nl = strlen(name), kl = strlen(kinds);
    Entry *e = (Entry *)calloc(1, sizeof *e);
    char *key = (char *)malloc(nl + 2 * kl + 3);
    if (e == NULL || key == NULL) {
        free(e);
        free(key);
        return NULL;
    }
    memcpy(key, name, nl + 1);
    memcpy(key + nl + 1, kinds, kl + 1);
    memcpy(key + nl + kl + 2, params, kl + 1);
    e->name = key;
    e->kinds = key + nl + 1;
    e->params = key + nl + kl + 2;
    e->convert = strchr(params, 't') != NULL || strcmp(params, kinds) != 0;
    e->hash = hash;
    e->fn = fn;
    e->target = target;
    if (wasm != NULL) memcpy(e->wasm, wasm, sizeof e->wasm);
    e->ret = ret;
    pthread_mutex_lock(&m->lock);
    e->next_all = m->entries; /* freed at destroy even if not published */
    m->entries = e;
    if (m->generation == generation && entry_find(m, name, kinds, hash) == NULL) {
        Table *t = atomic_load(&m->table);
        if (t == NULL || (t->count + 1) * 2 > t->mask + 1) {
            size_t size = t ? (t->mask + 1) * 2 : 16;
            Table *nt = table_new(size);
            if (nt != NULL) {
                if (t) {
                    for (size_t i = 0; i <= t->mask; i++) {
                        Entry *x = atomic_load(&t->slots[i]);
                        if (x) table_put(nt, x);
                    }
                    t->next_retired = m->retired;
                    m->retired = t;
                }
                atomic_store_explicit(&m->table, nt, memory_order_release);
                t = nt;
            }
        }
        if (t != NULL && (t->count + 1) * 2 <= t->mask + 1) table_put(t, e);
    }
    pthread_mutex_unlock(&m->lock);
    return e;
}

/* After a successful compile: forget every entry (a redefinition may change
 * what a (name, kinds) pair resolves to). Readers may still hold the old
 * table: it is retired, not freed. */
static void entries_invalidate(Manager *m) {
    pthread_mutex_lock(&m->lock);
    m->generation++;
    Table *t = atomic_load(&m->table);
    if (t != NULL) {
        t->next_retired = m->retired;
        m->retired = t;
        atomic_store_explicit(&m->table, NULL, memory_order_release);
    }
    pthread_mutex_unlock(&m->lock);
}

#define KINDS_LOCAL 64
#define MAX_ARGS 65536 /* more arguments than any function can take */

/* ---- calling --------------------------------------------------------------- */
typedef struct {
    native_fn fn;
    void *target;
    const int64_t *slots;
} Thunk;

static int64_t thunk(void *p) {
    Thunk *t = (Thunk *)p;
    return t->fn(t->slots, p_stack_limit_here(), t->target);
}

/* "FILE:LINE:COL: runtime error: MESSAGE" -> "LINE:COL: runtime error: MESSAGE" */
static char *strip_file(const char *msg) {
    const char *p = strstr(msg, ": runtime error: ");
    if (p != NULL) {
        const char *q = p;
        int fields = 0;
        while (fields < 2) {
            const char *d = q;
            while (d > msg && d[-1] >= '0' && d[-1] <= '9') d--;
            if (d == q || d == msg || d[-1] != ':') break;
            q = d - 1;
            fields++;
        }
        if (fields == 2) return dup_str(q + 1);
    }
    return dup_str(msg);
}

static const char *kind_name(char k) {
    switch (k) {
        case 'i': return "i64";
        case 'f': return "f64";
        case 'b': return "bool";
        case 't': return "text";
        case 'u': return "unit";
        default: return "?";
    }
}

static char *text_to_cstr(SimpleText *t) {
    char *s = simple_capi_strdup(t->data, (size_t)t->len);
    p_text_decref(t);
    return s;
}

/* A call of cranelift code: scalar arguments and results only (the lookup
 * gives no wasm entry otherwise). */
static int invoke_wasm(Manager *m, Entry *e, int64_t id, const char *kinds, const int64_t *slots,
                       size_t nargs, char *ret, int64_t *out) {
    WasmRaw local[8];
    size_t n = nargs > 1 ? nargs : 1;
    WasmRaw *v = n <= 8 ? local : (WasmRaw *)calloc(n, sizeof *v);
    if (v == NULL) {
        set_error(id, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < nargs; i++) {
        char p = e->params[i];
        if (p == 'f') {
            double d;
            if (kinds[i] == 'i')
                d = (double)slots[i];
            else
                memcpy(&d, &slots[i], sizeof d);
            v[i].f64 = d;
        } else if (p == 'b') {
            v[i].i64 = 0;
            v[i].i32 = slots[i] != 0;
        } else {
            v[i].i64 = slots[i];
        }
    }
    wasm_call_fn call = (wasm_call_fn)(uintptr_t)e->wasm[3];
    void *trap = NULL;
    pthread_mutex_lock(&m->store_lock);
    void *error = call((void *)(uintptr_t)e->wasm[0], &e->wasm[1], v, n, &trap);
    char *msg = NULL;
    if (error != NULL || trap != NULL)
        msg = capi_py_wasm_failure(id, (uintptr_t)trap, (uintptr_t)error);
    pthread_mutex_unlock(&m->store_lock);
    int64_t res = 0;
    if (error == NULL && trap == NULL) {
        if (e->ret == 'i')
            res = v[0].i64;
        else if (e->ret == 'b')
            res = v[0].i32 != 0;
        else if (e->ret == 'f')
            memcpy(&res, &v[0].f64, sizeof res);
    }
    if (v != local) free(v);
    if (error != NULL || trap != NULL) {
        set_error_owned(id, msg != NULL ? msg : dup_str("internal error: wasm call failed"));
        return 0;
    }
    *ret = e->ret;
    *out = res;
    return 1;
}

/* Calls NAME with slots encoded per kinds ('t' slots hold C strings, valid
 * UTF-8). `accept` (NULL: anything) lists the result kinds the caller can
 * serve. Returns 1 with *ret and *out (a 't' result is a malloc'd C string)
 * or 0 after setting the last error. */
static int invoke(Manager *m, const char *api, const char *name, const char *kinds,
                  const int64_t *slots, size_t nargs, const char *accept, char *ret,
                  int64_t *out) {
    int64_t id = atomic_load_explicit(&m->id, memory_order_relaxed);
    char *err = NULL;
    if (atomic_load_explicit(&m->native, memory_order_relaxed)) {
        uint64_t hash = key_hash(name, kinds);
        Entry *e = entry_find(m, name, kinds, hash);
        if (e == NULL) {
            if (!cstr_valid(name)) {
                set_error(id, "function name is not valid UTF-8");
                return 0;
            }
            pthread_mutex_lock(&m->lock);
            uint64_t generation = m->generation;
            pthread_mutex_unlock(&m->lock);
            uint64_t addr[2] = {0, 0}, wasm[4] = {0, 0, 0, 0};
            char r = 0;
            char local_params[KINDS_LOCAL];
            char *params = nargs < KINDS_LOCAL ? local_params : (char *)malloc(nargs + 1);
            if (params == NULL) {
                set_error(id, "out of memory");
                return 0;
            }
            memset(params, 0, nargs + 1);
            int st = capi_py_lookup(id, name, kinds, addr, wasm, &r, params, &err);
            if (st == 1 && (addr[0] != 0 || wasm[0] != 0) && strlen(params) == nargs) {
                e = entry_insert(m, generation, name, kinds, params, hash,
                                 (native_fn)(uintptr_t)addr[0], (void *)(uintptr_t)addr[1], wasm,
                                 r);
                if (params != local_params) free(params);
                if (e == NULL) {
                    set_error(id, "out of memory");
                    return 0;
                }
            } else if (st == 2) {
                if (params != local_params) free(params);
                atomic_store(&m->native, 0);
            } else {
                if (params != local_params) free(params);
                set_error_owned(id, err ? err : dup_str("internal error: lookup failed"));
                return 0;
            }
        }
        if (e != NULL) {
            if (accept != NULL && strchr(accept, e->ret) == NULL) {
                char buf[512];
                snprintf(buf, sizeof buf, "Function '%.200s' returns %s, which %s cannot return",
                         name, kind_name(e->ret), api);
                set_error(id, buf);
                return 0;
            }
            if (e->wasm[0] != 0) {
                if (!atomic_load_explicit(&m->limited, memory_order_relaxed))
                    return invoke_wasm(m, e, id, kinds, slots, nargs, ret, out);
                goto in_python; /* the limit is enforced by the Python side */
            }
            int64_t local[8];
            int64_t *conv = NULL;
            const int64_t *use = slots;
            if (e->convert) { /* C strings -> SimpleText*, i64 -> f64 */
                conv = nargs <= 8 ? local : (int64_t *)malloc(nargs * sizeof *conv);
                if (conv == NULL) {
                    set_error(id, "out of memory");
                    return 0;
                }
                for (size_t i = 0; i < nargs; i++) {
                    if (kinds[i] == 't') {
                        conv[i] = (int64_t)(intptr_t)p_text_new((const char *)(intptr_t)slots[i],
                                                                 -1);
                    } else if (kinds[i] == 'i' && e->params[i] == 'f') {
                        double d = (double)slots[i];
                        memcpy(&conv[i], &d, sizeof d);
                    } else {
                        conv[i] = slots[i];
                    }
                }
                use = conv;
            }
            Thunk t = {e->fn, e->target, use};
            int64_t res = 0;
            int failed = p_run_protected(thunk, &t, &res);
            p_flush();
            if (conv != NULL) {
                for (size_t i = 0; i < nargs; i++)
                    if (kinds[i] == 't') p_text_decref((SimpleText *)(intptr_t)conv[i]);
                if (conv != local) free(conv);
            }
            if (failed) {
                set_error_owned(id, strip_file(p_last_error()));
                return 0;
            }
            *ret = e->ret;
            if (e->ret == 't') {
                char *s = text_to_cstr((SimpleText *)(intptr_t)res);
                if (s == NULL) {
                    set_error(id, "out of memory");
                    return 0;
                }
                res = (int64_t)(intptr_t)s;
            } else if (e->ret == 'u') {
                res = 0;
            }
            *out = res;
            return 1;
        }
    }
    /* No native code (interpreter): the call runs in Python. */
in_python:
    if (!cstr_valid(name)) {
        set_error(id, "function name is not valid UTF-8");
        return 0;
    }
    char r = 0;
    int64_t res = 0;
    int st = capi_py_call(id, name, kinds, slots, nargs, accept, &r, &res, &err);
    if (st != 1) {
        set_error_owned(id, err ? err : dup_str("internal error: call failed"));
        return 0;
    }
    *ret = r;
    *out = res;
    return 1;
}

/* ---- the C ABI --------------------------------------------------------------- */
static int known_backend(const char *b) {
    return strcmp(b, "auto") == 0 || strcmp(b, "llvm") == 0 || strcmp(b, "interpreter") == 0 ||
           strcmp(b, "cranelift") == 0;
}

bool rt_set_jit_backend(const char *backend) {
    if (backend == NULL || !known_backend(backend)) return false;
    ensure_python();
    if (strcmp(backend, "auto") != 0 && capi_py_check_backend(backend) != 1) return false;
    pthread_mutex_lock(&g_lock);
    snprintf(g_default_backend, sizeof g_default_backend, "%s", backend);
    pthread_mutex_unlock(&g_lock);
    return true;
}

char *rt_get_jit_backend(void) {
    char buf[32];
    pthread_mutex_lock(&g_lock);
    memcpy(buf, g_default_backend, sizeof buf);
    pthread_mutex_unlock(&g_lock);
    return ret_str(buf);
}

int64_t rt_exec_manager_create(const char *backend) {
    char name[32];
    if (backend != NULL && !known_backend(backend)) return 0;
    if (backend == NULL || strcmp(backend, "auto") == 0) {
        pthread_mutex_lock(&g_lock);
        memcpy(name, g_default_backend, sizeof name);
        pthread_mutex_unlock(&g_lock);
    } else {
        snprintf(name, sizeof name, "%s", backend);
    }
    ensure_python();
    Manager *m = pool_get();
    if (m == NULL) return 0;
    int64_t id = atomic_fetch_add(&g_next_id, 1);
    char actual[32] = {0};
    int64_t opt = 0;
    char *err = NULL;
    if (capi_py_create(id, (uintptr_t)m, name, actual, &opt, &err) != 1) {
        free(err);
        pool_put(m);
        return 0;
    }
    actual[sizeof actual - 1] = 0;
    memcpy(m->backend, actual, sizeof actual);
    atomic_store(&m->opt_level, opt);
    atomic_store(&m->native, 1);
    atomic_store(&m->limited, 0);
    atomic_store(&m->closing, 0);
    atomic_store(&m->table, NULL);
    m->retired = NULL;
    m->entries = NULL;
    m->generation = 0;
    atomic_store(&m->id, id);
    atomic_store_explicit(&m->refs, 1, memory_order_release);
    pthread_mutex_lock(&g_lock);
    int ok = map_insert_locked(m);
    pthread_mutex_unlock(&g_lock);
    if (!ok) {
        release(m);
        return 0;
    }
    return id;
}

void rt_exec_manager_cleanup(int64_t h) {
    if (h <= 0) return;
    pthread_mutex_lock(&g_lock);
    Manager *m = map_find_locked(h);
    if (m != NULL) {
        map_remove_locked(m);
        atomic_store(&m->closing, 1);
    }
    pthread_mutex_unlock(&g_lock);
    if (m == NULL) return;
    clear_error(h);
    HCacheSlot *slot = &tls_hcache[(uint64_t)h % HCACHE];
    if (slot->id == h) slot->m = NULL;
    release(m); /* the table's reference: destroys now unless calls are in flight */
}

/* what: 0 source text, 1 MIR text, 2 file path */
static char *compile_any(int64_t h, const char *text, int what) {
    Manager *m = acquire(h);
    if (m == NULL) return ret_str(MSG_INVALID);
    char *res;
    if (text == NULL) {
        res = ret_str(what == 2 ? "error: the file path is NULL" : "error: the source is NULL");
    } else if (what == 2 && !cstr_valid(text)) {
        res = ret_str("error: the file path is not valid UTF-8");
    } else {
        res = capi_py_compile(h, what, text, strlen(text));
        if (res == NULL) res = ret_str("error: internal error: the compiler could not run");
    }
    if (res[0] == 0) {
        entries_invalidate(m);
        clear_error(h);
    } else {
        set_error(h, res);
    }
    release(m);
    return res;
}

char *rt_exec_manager_compile_source(int64_t h, const char *source) {
    return compile_any(h, source, 0);
}

char *rt_exec_manager_compile(int64_t h, const char *source) { return compile_any(h, source, 0); }

char *rt_exec_manager_compile_mir(int64_t h, const char *mir_text) {
    return compile_any(h, mir_text, 1);
}

char *rt_exec_manager_compile_file(int64_t h, const char *path) { return compile_any(h, path, 2); }

/* The checks every call entry makes on its arguments; false (and the
 * handle's last error set) when the call must not go on. */
static bool check_call(int64_t h, const char *name, const void *args, size_t nargs) {
    if (name == NULL) {
        set_error(h, "function name is NULL");
    } else if (args == NULL && nargs > 0) {
        set_error(h, "args is NULL but nargs > 0");
    } else if (nargs > MAX_ARGS) {
        set_error(h, "too many arguments");
    } else {
        return true;
    }
    return false;
}

int64_t rt_exec_manager_execute(int64_t h, const char *name, const int64_t *args, size_t nargs) {
    Manager *m = acquire(h);
    if (m == NULL) return 0;
    clear_error(h);
    int64_t out = 0;
    if (check_call(h, name, args, nargs)) {
        char local[KINDS_LOCAL];
        char *kinds = nargs < KINDS_LOCAL ? local : (char *)malloc(nargs + 1);
        if (kinds == NULL) {
            set_error(h, "out of memory");
        } else {
            memset(kinds, 'i', nargs);
            kinds[nargs] = 0;
            char ret = 0;
            int64_t v = 0;
            if (invoke(m, "rt_exec_manager_execute", name, kinds, args, nargs, "ibu", &ret, &v)) {
                out = ret == 'u' ? 0 : v;
                if (ret == 't') free((char *)(intptr_t)v); /* slow path: after the fact */
            }
            if (kinds != local) free(kinds);
        }
    }
    release(m);
    return out;
}

static char *display(char ret, int64_t v) {
    char buf[32];
    switch (ret) {
        case 't': return (char *)(intptr_t)v;
        case 'i': snprintf(buf, sizeof buf, "%lld", (long long)v); return dup_str(buf);
        case 'b': return dup_str(v ? "true" : "false");
        case 'f': {
            double d;
            memcpy(&d, &v, sizeof d);
            return text_to_cstr(p_text_from_f64(d));
        }
        default: return dup_str("()");
    }
}

char *rt_exec_manager_execute_string(int64_t h, const char *name, const char *const *args,
                                     size_t nargs) {
    Manager *m = acquire(h);
    if (m == NULL) return NULL;
    clear_error(h);
    char *out = NULL;
    int64_t local_slots[8];
    char local_kinds[KINDS_LOCAL];
    int64_t *slots = NULL;
    char *kinds = NULL;
    if (!check_call(h, name, args, nargs)) goto done;
    slots = nargs <= 8 ? local_slots : (int64_t *)malloc(nargs * sizeof *slots);
    kinds = nargs < KINDS_LOCAL ? local_kinds : (char *)malloc(nargs + 1);
    if (slots == NULL || kinds == NULL) {
        set_error(h, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nargs; i++) {
        char buf[96];
        if (args[i] == NULL) {
            snprintf(buf, sizeof buf, "argument %zu is NULL", i + 1);
            set_error(h, buf);
            goto done;
        }
        if (!cstr_valid(args[i])) {
            snprintf(buf, sizeof buf, "argument %zu is not valid UTF-8", i + 1);
            set_error(h, buf);
            goto done;
        }
        slots[i] = (int64_t)(intptr_t)args[i];
        kinds[i] = 't';
    }
    kinds[nargs] = 0;
    char ret = 0;
    int64_t v = 0;
    if (invoke(m, "rt_exec_manager_execute_string", name, kinds, slots, nargs, NULL, &ret, &v)) {
        out = display(ret, v);
        if (out == NULL) set_error(h, "out of memory");
    }
done:
    if (slots != local_slots) free(slots);
    if (kinds != local_kinds) free(kinds);
    release(m);
    return out;
}

bool rt_exec_manager_execute_void(int64_t h, const char *name) {
    Manager *m = acquire(h);
    if (m == NULL) return false;
    clear_error(h);
    bool ok = false;
    if (name == NULL) {
        set_error(h, "function name is NULL");
    } else {
        char ret = 0;
        int64_t v = 0;
        if (invoke(m, "rt_exec_manager_execute_void", name, "", NULL, 0, NULL, &ret, &v)) {
            if (ret == 't') free((char *)(intptr_t)v);
            ok = true;
        }
    }
    release(m);
    return ok;
}

bool rt_exec_manager_call(int64_t h, const char *name, const rt_value *args, size_t nargs,
                          rt_value *result) {
    Manager *m = acquire(h);
    if (m == NULL) return false;
    clear_error(h);
    bool ok = false;
    int64_t local_slots[8];
    char local_kinds[KINDS_LOCAL];
    int64_t *slots = NULL;
    char *kinds = NULL;
    if (!check_call(h, name, args, nargs)) goto done;
    if (result == NULL) {
        set_error(h, "result is NULL");
        goto done;
    }
    slots = nargs <= 8 ? local_slots : (int64_t *)malloc(nargs * sizeof *slots);
    kinds = nargs < KINDS_LOCAL ? local_kinds : (char *)malloc(nargs + 1);
    if (slots == NULL || kinds == NULL) {
        set_error(h, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nargs; i++) {
        char buf[96];
        switch (args[i].type) {
            case RT_I64: kinds[i] = 'i'; slots[i] = args[i].i; break;
            case RT_F64:
                kinds[i] = 'f';
                memcpy(&slots[i], &args[i].f, sizeof(double));
                break;
            case RT_BOOL: kinds[i] = 'b'; slots[i] = args[i].b ? 1 : 0; break;
            case RT_TEXT:
                if (args[i].s == NULL || !cstr_valid(args[i].s)) {
                    snprintf(buf, sizeof buf, "argument %zu: text is %s", i + 1,
                             args[i].s == NULL ? "NULL" : "not valid UTF-8");
                    set_error(h, buf);
                    goto done;
                }
                kinds[i] = 't';
                slots[i] = (int64_t)(intptr_t)args[i].s;
                break;
            default:
                snprintf(buf, sizeof buf, "argument %zu: invalid type (%d)", i + 1,
                         (int)args[i].type);
                set_error(h, buf);
                goto done;
        }
    }
    kinds[nargs] = 0;
    char ret = 0;
    int64_t v = 0;
    if (invoke(m, "rt_exec_manager_call", name, kinds, slots, nargs, NULL, &ret, &v)) {
        memset(result, 0, sizeof *result);
        switch (ret) {
            case 'i': result->type = RT_I64; result->i = v; break;
            case 'f': result->type = RT_F64; memcpy(&result->f, &v, sizeof(double)); break;
            case 'b': result->type = RT_BOOL; result->b = v != 0; break;
            case 't': result->type = RT_TEXT; result->s = (const char *)(intptr_t)v; break;
            default: result->type = RT_UNIT; break;
        }
        ok = true;
    }
done:
    if (slots != local_slots) free(slots);
    if (kinds != local_kinds) free(kinds);
    release(m);
    return ok;
}

bool rt_exec_manager_has_function(int64_t h, const char *name) {
    Manager *m = acquire(h);
    if (m == NULL) return false;
    bool yes = name != NULL && cstr_valid(name) && capi_py_has_function(h, name) == 1;
    release(m);
    return yes;
}

char *rt_exec_manager_list_functions(int64_t h) {
    Manager *m = acquire(h);
    if (m == NULL) return ret_str("");
    char *s = capi_py_list_functions(h);
    release(m);
    return s != NULL ? s : ret_str("");
}

char *rt_exec_manager_backend_name(int64_t h) {
    Manager *m = acquire(h);
    if (m == NULL) return ret_str("unknown");
    char *s = ret_str(m->backend);
    release(m);
    return s;
}

bool rt_exec_manager_is_valid(int64_t h) {
    Manager *m = acquire(h);
    if (m == NULL) return false;
    release(m);
    return true;
}

bool rt_exec_manager_set_opt_level(int64_t h, int64_t level) {
    Manager *m = acquire(h);
    if (m == NULL) return false;
    bool ok = false;
    if (level >= 0 && level <= 3) {
        char *err = NULL;
        if (capi_py_set_opt_level(h, level, &err) == 1) {
            atomic_store(&m->opt_level, level);
            ok = true;
        }
        free(err);
    }
    release(m);
    return ok;
}

bool rt_exec_manager_set_time_limit_ms(int64_t h, int64_t ms) {
    Manager *m = acquire(h);
    if (m == NULL) return false;
    clear_error(h);
    bool ok = false;
    if (ms < 0) {
        set_error(h, "a time limit is a number of milliseconds >= 0 (0: no limit)");
    } else {
        char *err = NULL;
        int st = capi_py_set_time_limit(h, ms, &err);
        if (st == 1) {
            atomic_store(&m->limited, ms > 0);
            ok = true;
        } else if (err != NULL) {
            set_error_owned(h, err);
            err = NULL;
        } else {
            set_error(h, "internal error: the time limit could not be set");
        }
        free(err);
    }
    release(m);
    return ok;
}

int64_t rt_exec_manager_get_opt_level(int64_t h) {
    Manager *m = acquire(h);
    if (m == NULL) return -1;
    int64_t level = atomic_load(&m->opt_level);
    release(m);
    return level;
}

char *rt_exec_manager_get_last_error(int64_t h) {
    Manager *m = acquire(h);
    if (m == NULL) return ret_str(MSG_INVALID);
    char *s = ret_str(get_error(h));
    release(m);
    return s;
}

void rt_exec_manager_clear_error(int64_t h) {
    Manager *m = acquire(h);
    if (m == NULL) return;
    clear_error(h);
    release(m);
}

void rt_string_free(char *s) { free(s); }
