/* simple_rt.h -- the C runtime library called by code generated for Simple.
 *
 * Used both by JIT-compiled code (the runtime is loaded into the host process
 * as a shared library) and by AOT executables (simple_rt.c is compiled with
 * -DSIMPLE_RT_AOT_MAIN and linked with the generated object; link with
 * -lpthread -lm).
 *
 * Conventions
 *   - bool arguments and results are C int, 0 or 1.
 *   - A text value is a SimpleText*, never NULL while live (NULL is accepted
 *     only by rt_text_incref / rt_text_decref, which ignore it).
 *   - Every function returning a text returns a NEW reference (+1); every
 *     function taking texts BORROWS them.
 *   - rc < 0 marks an immortal text (string literals emitted as constant
 *     globals with rc = -1): never freed, never modified.
 *   - Reference counts are updated atomically, so texts may be shared
 *     between threads.
 */
#ifndef SIMPLE_RT_H
#define SIMPLE_RT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SIMPLE_RT_API __attribute__((visibility("default")))
#else
#define SIMPLE_RT_API
#endif

#if defined(__cplusplus)
#define SIMPLE_RT_NORETURN [[noreturn]]
#else
#define SIMPLE_RT_NORETURN _Noreturn
#endif

typedef struct SimpleText {
    int64_t rc;   /* reference count; < 0 means immortal */
    int64_t len;  /* length in bytes, excluding the terminating NUL */
    char data[];  /* UTF-8, data[len] == 0 */
} SimpleText;

/* ---- reference counting ------------------------------------------------ */
SIMPLE_RT_API void rt_text_incref(SimpleText *t);
SIMPLE_RT_API void rt_text_decref(SimpleText *t);
/* Texts allocated minus texts freed (immortal texts are never counted). */
extern SIMPLE_RT_API int64_t rt_live_texts;
SIMPLE_RT_API int64_t rt_live_text_count(void);

/* ---- construction -------------------------------------------------------- */
/* Copies len bytes (which must be valid UTF-8); len < 0 means strlen(bytes). */
SIMPLE_RT_API SimpleText *rt_text_new(const char *bytes, int64_t len);
/* A fresh text (rc 1) of len bytes, contents uninitialised except the
 * terminating NUL; the caller fills data[0..len) before sharing it. */
SIMPLE_RT_API SimpleText *rt_text_alloc(int64_t len);
SIMPLE_RT_API SimpleText *rt_text_from_i64(int64_t v);
SIMPLE_RT_API SimpleText *rt_text_from_f64(double v);
SIMPLE_RT_API SimpleText *rt_text_from_bool(int b);
SIMPLE_RT_API SimpleText *rt_text_from_unit(void);

/* ---- text operations ----------------------------------------------------- */
SIMPLE_RT_API SimpleText *rt_text_concat(SimpleText *a, SimpleText *b);
/* a + b, consuming the caller's reference to a (b is borrowed): when the
 * caller holds a's only reference the bytes are appended in place, into
 * spare room that grows geometrically (the code generator uses these for
 * `x += ...` and `x = x + ...`). */
SIMPLE_RT_API SimpleText *rt_text_append(SimpleText *a, SimpleText *b);
/* a + the display form of v, consuming a as rt_text_append does. */
SIMPLE_RT_API SimpleText *rt_text_append_i64(SimpleText *a, int64_t v);
SIMPLE_RT_API SimpleText *rt_text_append_f64(SimpleText *a, double v);
/* The concatenation of n pieces in one allocation: parts holds n pairs
 * (kind, value), a borrowed SimpleText* (RT_PIECE_TEXT), an i64
 * (RT_PIECE_I64) or the bits of an f64 (RT_PIECE_F64), numbers in their
 * display form.  Used for `a + b.to_text() + c` and interpolation. */
enum { RT_PIECE_TEXT = 0, RT_PIECE_I64 = 1, RT_PIECE_F64 = 2 };
SIMPLE_RT_API SimpleText *rt_text_build(int64_t n, const int64_t *parts);
SIMPLE_RT_API int64_t rt_text_len(SimpleText *t); /* code points */
SIMPLE_RT_API int rt_text_contains(SimpleText *hay, SimpleText *needle);
SIMPLE_RT_API int rt_text_starts_with(SimpleText *t, SimpleText *prefix);
SIMPLE_RT_API int rt_text_ends_with(SimpleText *t, SimpleText *suffix);
SIMPLE_RT_API SimpleText *rt_text_trim(SimpleText *t);  /* ASCII " \t\n\r\f\v" */
SIMPLE_RT_API SimpleText *rt_text_upper(SimpleText *t); /* ASCII letters only */
SIMPLE_RT_API SimpleText *rt_text_lower(SimpleText *t); /* ASCII letters only */
SIMPLE_RT_API SimpleText *rt_text_repeat(SimpleText *t, int64_t n); /* n <= 0 -> "" */
/* Byte-wise lexicographic: -1, 0 or 1. */
SIMPLE_RT_API int64_t rt_text_cmp(SimpleText *a, SimpleText *b);
SIMPLE_RT_API int rt_text_eq(SimpleText *a, SimpleText *b);

/* ---- f64 display --------------------------------------------------------- */
/* Writes the display form of x (semantics.format_f64) to out, which must hold
 * at least RT_F64_BUF bytes; returns the length (out is NUL-terminated). */
#define RT_F64_BUF 400
SIMPLE_RT_API int rt_format_f64(char *out, double x);

/* ---- output (buffered stdout, thread-safe) ------------------------------- */
SIMPLE_RT_API void rt_print_i64(int64_t v);
SIMPLE_RT_API void rt_print_f64(double v);
SIMPLE_RT_API double rt_fpow(double a, double b);
SIMPLE_RT_API void rt_print_bool(int b);
SIMPLE_RT_API void rt_print_text(SimpleText *t);
SIMPLE_RT_API void rt_print_unit(void);
SIMPLE_RT_API void rt_flush(void);

/* ---- runtime errors ------------------------------------------------------ */
enum {
    RT_ERR_DIV_ZERO = 1,     /* "division by zero" */
    RT_ERR_NEG_EXP = 2,      /* "negative exponent" */
    RT_ERR_INDEX = 3,        /* "index out of range" */
    RT_ERR_POP_EMPTY = 4,    /* "pop from empty array" */
    RT_ERR_STACK = 5,        /* "stack overflow" */
    RT_ERR_FUEL = 6          /* "out of fuel" */
};
/* Flushes stdout, formats "FILE:LINE:COL: runtime error: MESSAGE"; jumps to
 * the innermost recovery point of the current thread, or, without one,
 * writes the message and "\n" to stderr and _exit(101)s. */
SIMPLE_RT_API SIMPLE_RT_NORETURN void rt_panic(int32_t kind, const char *file, int32_t line,
                                              int32_t col);
/* Same with an explicit MESSAGE. */
SIMPLE_RT_API SIMPLE_RT_NORETURN void rt_panic_msg(const char *message, const char *file,
                                                  int32_t line, int32_t col);

/* Two halves of rt_panic for code that unwinds its own frames first (the
 * LLVM backend's functions release what they own and return an error flag):
 * rt_error_set flushes stdout and records the message of the error at
 * FILE:LINE:COL for the current thread; rt_error_raise then reports the
 * recorded error exactly as rt_panic would (jump to the innermost recovery
 * point, or print it and _exit(101)). */
SIMPLE_RT_API void rt_error_set(int32_t kind, const char *file, int32_t line, int32_t col);
SIMPLE_RT_API SIMPLE_RT_NORETURN void rt_error_raise(void);

/* ---- recovery and entry -------------------------------------------------- */
/* Calls fn(arg) under a recovery point of the current thread (nestable).
 * Returns 0 and stores fn's result in *result (if result is not NULL), or 1
 * after an rt_panic, with the message in rt_last_error(). */
SIMPLE_RT_API int rt_run_protected(int64_t (*fn)(void *), void *arg, int64_t *result);
/* rt_run_protected(fn, buf, buf), then rt_flush(): a host call of the manager. */
SIMPLE_RT_API int rt_call_host(int64_t (*fn)(void *), int64_t *buf);
/* The last runtime error message of the current thread ("" if none). */
SIMPLE_RT_API const char *rt_last_error(void);
/* Lowest usable stack address of the current thread plus a 256 KiB margin:
 * generated code panics with "stack overflow" when its frame address drops
 * below this. */
SIMPLE_RT_API uintptr_t rt_stack_limit_here(void);
/* Runs entry(stack_limit) on a new thread with stack_size bytes of stack
 * (0 means 1 GiB), under a recovery point. Returns 0 with *exit_code set, or
 * 1 after a runtime error with the message in rt_main_error(). Always
 * flushes stdout before returning. */
SIMPLE_RT_API int rt_run_main(int64_t (*entry)(uintptr_t stack_limit), size_t stack_size,
                              int64_t *exit_code);
/* The message of the last runtime error reported by rt_run_main (process-wide). */
SIMPLE_RT_API const char *rt_main_error(void);

/* ---- tier-2 heap objects (arrays, structs, tuples, enums, Some boxes) ----
 * Every tier-2 value is a pointer to a reference-counted object whose header
 * is {int64 rc; const RtDesc *desc}.  The descriptor, a constant emitted by
 * the code generator once per type, says which slots hold references (so
 * rt_obj_decref can release children) and carries the names the display
 * forms need.  Every slot is 64 bits: i64, f64 bits, bool 0/1, unit 0, a
 * SimpleText* or an object pointer -- except the elements of a [bool]
 * array, packed one byte (0/1) each; rt_array_push/rt_array_pop still take
 * and give them as 64-bit slot values.  An option is NULL (nil) or a Some box
 * (RT_DESC_SOME, one slot).  Same conventions as texts: results are new
 * references, arguments are borrowed, NULL is ignored by incref/decref. */
enum { RT_SLOT_I64 = 0, RT_SLOT_F64 = 1, RT_SLOT_BOOL = 2, RT_SLOT_UNIT = 3, RT_SLOT_TEXT = 4,
       RT_SLOT_OBJ = 5 };
enum { RT_DESC_ARRAY = 1, RT_DESC_STRUCT = 2, RT_DESC_TUPLE = 3, RT_DESC_ENUM = 4,
       RT_DESC_SOME = 5 };

typedef struct RtVariant {
    const char *name;           /* enum variant name (NULL otherwise) */
    int64_t nslots;             /* payload / field / element-kind count */
    const uint8_t *kinds;       /* RT_SLOT_* of each slot (arrays: of every element) */
    const char *const *fields;  /* struct field names, or NULL */
} RtVariant;

typedef struct RtDesc {
    int64_t kind;               /* RT_DESC_* */
    const char *name;           /* struct or enum name, or NULL */
    int64_t nvariants;          /* enums: variant count; others: 1 */
    const RtVariant *variants;  /* indexed by tag */
} RtDesc;

typedef struct RtObj {          /* struct, tuple, enum value, Some box */
    int64_t rc;
    const RtDesc *desc;
    int64_t tag;                /* enum variant index; 0 otherwise */
    int64_t slots[];
} RtObj;

typedef struct RtArray {
    int64_t rc;
    const RtDesc *desc;
    int64_t len;
    int64_t cap;
    void *data;                 /* len elements: uint8_t 0/1 for [bool], else 64-bit slots */
} RtArray;

/* A record object of desc with nslots uninitialised slots (rc 1). */
SIMPLE_RT_API RtObj *rt_obj_alloc(const RtDesc *desc, int64_t tag, int64_t nslots);
/* A copy of a record object; the copy owns new references to the children. */
SIMPLE_RT_API RtObj *rt_obj_clone(RtObj *o);
/* An array of len uninitialised elements (rc 1). */
SIMPLE_RT_API RtArray *rt_array_new(const RtDesc *desc, int64_t len);
/* Appends a slot; the array takes over the caller's reference to it. */
SIMPLE_RT_API void rt_array_push(RtArray *a, int64_t slot);
/* Removes the last slot and hands its reference to the caller; an empty
 * array is the "pop from empty array" runtime error at FILE:LINE:COL. */
SIMPLE_RT_API int64_t rt_array_pop(RtArray *a, const char *file, int32_t line, int32_t col);
SIMPLE_RT_API void rt_obj_incref(void *obj);
SIMPLE_RT_API void rt_obj_decref(void *obj);
/* Display form of an object (NULL: "nil"), as print writes it / as a text. */
SIMPLE_RT_API void rt_obj_print(void *obj);
SIMPLE_RT_API SimpleText *rt_obj_totext(void *obj);
/* Objects allocated minus objects freed. */
SIMPLE_RT_API int64_t rt_live_object_count(void);

/* The SHA-256 (hex) of simple_rt.c + simple_rt.h this library was built from
 * ("unknown" if the build did not say). */
SIMPLE_RT_API const char *rt_source_hash(void);

#ifdef SIMPLE_RT_AOT_MAIN
/* Provided by the generated object file of an AOT program. */
extern int64_t simple_program_main(uintptr_t stack_limit);
#endif

#ifdef __cplusplus
}
#endif

#endif /* SIMPLE_RT_H */
