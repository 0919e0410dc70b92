/* simple_rt.c -- the C runtime library of the Simple compiler (see simple_rt.h).
 *
 * Build variants:
 *   cc -O2 -shared -fPIC simple_rt.c -lpthread -lm          JIT runtime (shared library)
 *   cc -O2 -DSIMPLE_RT_AOT_MAIN -c simple_rt.c               AOT runtime with main()
 *   -DSIMPLE_RT_PYTHON_MODULE                                 also a (trivial) CPython
 *                                                             extension module, so that
 *                                                             setuptools can build it
 *   -DSIMPLE_RT_SOURCE_HASH='"hex"'                           embedded source hash
 */
#ifdef SIMPLE_RT_PYTHON_MODULE
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* first: it sets feature macros */
#endif

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "simple_rt.h"
#include "unicode_tables.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__GLIBC__) || defined(__linux__)
#include <malloc.h> /* malloc_usable_size: the spare room of a text's block */
#define RT_HAVE_USABLE_SIZE 1
#endif

/* Stack for a program run (virtual memory, committed as it is touched):
   recursion 100,000 deep needs a few MiB; the stack-limit check turns any
   deeper recursion into the "stack overflow" error well before the end. */
#define RT_PROGRAM_STACK ((size_t)256 << 20)

#ifndef SIMPLE_RT_SOURCE_HASH
#define SIMPLE_RT_SOURCE_HASH "unknown"
#endif

/* The Python helper finds this marker in the library file to detect a stale build. */
__attribute__((used)) static const char rt_source_hash_marker[] =
    "SIMPLE_RT_SOURCE_HASH=" SIMPLE_RT_SOURCE_HASH ";";

const char *rt_source_hash(void) {
    (void)rt_source_hash_marker;
    return SIMPLE_RT_SOURCE_HASH;
}

#define RT_LIKELY(x) __builtin_expect(!!(x), 1)
#define RT_UNLIKELY(x) __builtin_expect(!!(x), 0)

static void rt_write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return; /* nowhere to report it; drop the output */
        }
        p += w;
        n -= (size_t)w;
    }
}

/* ======================================================================== */
/* texts                                                                    */

int64_t rt_live_texts = 0;

int64_t rt_live_text_count(void) { return __atomic_load_n(&rt_live_texts, __ATOMIC_RELAXED); }

SimpleText *rt_text_alloc(int64_t len) {
    if (RT_UNLIKELY(len < 0 || (uint64_t)len > (uint64_t)INT64_MAX - sizeof(SimpleText) - 1))
        rt_panic_msg("out of memory", "<runtime>", 0, 0);
    SimpleText *t = (SimpleText *)malloc(sizeof(SimpleText) + (size_t)len + 1);
    if (RT_UNLIKELY(t == NULL)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    t->rc = 1;
    t->len = len;
    t->data[len] = 0;
    __atomic_fetch_add(&rt_live_texts, 1, __ATOMIC_RELAXED);
    return t;
}

void rt_text_incref(SimpleText *t) {
    if (t == NULL || t->rc < 0) return;
    __atomic_fetch_add(&t->rc, 1, __ATOMIC_RELAXED);
}

void rt_text_decref(SimpleText *t) {
    if (t == NULL || t->rc < 0) return;
    if (__atomic_sub_fetch(&t->rc, 1, __ATOMIC_ACQ_REL) == 0) {
        free(t);
        __atomic_fetch_sub(&rt_live_texts, 1, __ATOMIC_RELAXED);
    }
}

/* A new reference to t itself (used when an operation leaves a text unchanged). */
static SimpleText *rt_text_share(SimpleText *t) {
    rt_text_incref(t);
    return t;
}

SimpleText *rt_text_new(const char *bytes, int64_t len) {
    if (len < 0) len = (int64_t)strlen(bytes);
    SimpleText *t = rt_text_alloc(len);
    if (len > 0) memcpy(t->data, bytes, (size_t)len);
    return t;
}

SimpleText *rt_text_concat(SimpleText *a, SimpleText *b) {
    if (a->len == 0) return rt_text_share(b);
    if (b->len == 0) return rt_text_share(a);
    if (RT_UNLIKELY(a->len > INT64_MAX - b->len)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    SimpleText *t = rt_text_alloc(a->len + b->len);
    memcpy(t->data, a->data, (size_t)a->len);
    memcpy(t->data + a->len, b->data, (size_t)b->len);
    return t;
}

static int rt_fmt_i64(char *out, int64_t v);

/* ---- appending (x += y on a text this frame alone holds) ----------------
 * Values are immutable from the program's view, but a text whose only
 * reference is the caller's (rc == 1) can be extended in place: nobody else
 * can see the change.  Growth is geometric, so a loop of appends costs
 * amortised O(1) allocations and copies per append. */

/* Bytes of text (without the NUL) that t's block has room for. */
static inline int64_t rt_text_room(SimpleText *t) {
#ifdef RT_HAVE_USABLE_SIZE
    return (int64_t)malloc_usable_size(t) - (int64_t)sizeof(SimpleText) - 1;
#else
    return t->len;
#endif
}

/* A text holding a's bytes with room for `extra` more, owned by the caller
 * (rc 1): a itself when only the caller holds it, else a copy (a's reference
 * is consumed either way). The length stays a->len. */
static SimpleText *rt_text_reserve(SimpleText *a, int64_t extra) {
    int64_t len = a->len;
    if (RT_UNLIKELY(extra > INT64_MAX / 4 - len)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    int64_t need = len + extra;
    int unique = a->rc == 1;
    if (unique && need <= rt_text_room(a)) return a;
    int64_t cap = need + (need >> 1); /* geometric growth: amortised O(1) per byte */
    if (cap < 32) cap = 32;
    size_t size = sizeof(SimpleText) + (size_t)cap + 1;
    SimpleText *t;
    if (unique) {
        t = (SimpleText *)realloc(a, size);
        if (RT_UNLIKELY(t == NULL)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
        return t;
    }
    t = (SimpleText *)malloc(size);
    if (RT_UNLIKELY(t == NULL)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    t->rc = 1;
    t->len = len;
    memcpy(t->data, a->data, (size_t)len);
    __atomic_fetch_add(&rt_live_texts, 1, __ATOMIC_RELAXED);
    rt_text_decref(a);
    return t;
}

static SimpleText *rt_text_append_bytes(SimpleText *a, const char *p, int64_t n) {
    SimpleText *t = rt_text_reserve(a, n);
    memcpy(t->data + t->len, p, (size_t)n);
    t->len += n;
    t->data[t->len] = 0;
    return t;
}

SimpleText *rt_text_append(SimpleText *a, SimpleText *b) {
    int64_t n = b->len;
    if (n == 0) return a;
    if (a->len == 0) { /* "" + b is b itself */
        rt_text_decref(a);
        return rt_text_share(b);
    }
    if (a == b) { /* s += s: the source moves if the block does */
        SimpleText *t = rt_text_reserve(a, n);
        memcpy(t->data + n, t->data, (size_t)n);
        t->len = 2 * n;
        t->data[t->len] = 0;
        return t;
    }
    return rt_text_append_bytes(a, b->data, n);
}

SimpleText *rt_text_append_i64(SimpleText *a, int64_t v) {
    char buf[24];
    int n = rt_fmt_i64(buf, v);
    return rt_text_append_bytes(a, buf, n);
}

SimpleText *rt_text_append_f64(SimpleText *a, double v) {
    char buf[RT_F64_BUF];
    int n = rt_format_f64(buf, v);
    return rt_text_append_bytes(a, buf, n);
}

SimpleText *rt_text_build(int64_t n, const int64_t *parts) {
    char buf[RT_F64_BUF];
    int64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t kind = parts[2 * i], v = parts[2 * i + 1], len;
        if (kind == RT_PIECE_TEXT) {
            len = ((SimpleText *)(intptr_t)v)->len;
        } else if (kind == RT_PIECE_I64) {
            len = rt_fmt_i64(buf, v);
        } else {
            double d;
            memcpy(&d, &v, sizeof d);
            len = rt_format_f64(buf, d);
        }
        if (RT_UNLIKELY(len > INT64_MAX / 2 - total))
            rt_panic_msg("out of memory", "<runtime>", 0, 0);
        total += len;
    }
    SimpleText *t = rt_text_alloc(total);
    char *p = t->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t kind = parts[2 * i], v = parts[2 * i + 1];
        if (kind == RT_PIECE_TEXT) {
            SimpleText *s = (SimpleText *)(intptr_t)v;
            memcpy(p, s->data, (size_t)s->len);
            p += s->len;
        } else if (kind == RT_PIECE_I64) {
            p += rt_fmt_i64(p, v);
        } else {
            double d;
            memcpy(&d, &v, sizeof d);
            int len = rt_format_f64(buf, d);
            memcpy(p, buf, (size_t)len);
            p += len;
        }
    }
    return t;
}

int64_t rt_text_len(SimpleText *t) {
    /* Valid UTF-8: one code point per byte that is not a continuation byte. */
    const unsigned char *p = (const unsigned char *)t->data;
    int64_t n = t->len, count = 0;
    for (int64_t i = 0; i < n; i++) count += (p[i] & 0xC0) != 0x80;
    return count;
}

int rt_text_contains(SimpleText *hay, SimpleText *needle) {
    if (needle->len == 0) return 1;
    if (needle->len > hay->len) return 0;
    return memmem(hay->data, (size_t)hay->len, needle->data, (size_t)needle->len) != NULL;
}

int rt_text_starts_with(SimpleText *t, SimpleText *prefix) {
    return prefix->len <= t->len && memcmp(t->data, prefix->data, (size_t)prefix->len) == 0;
}

int rt_text_ends_with(SimpleText *t, SimpleText *suffix) {
    return suffix->len <= t->len &&
           memcmp(t->data + (t->len - suffix->len), suffix->data, (size_t)suffix->len) == 0;
}

/* ---- Unicode: upper/lower/trim (tables generated from Unicode 14.0.0) ---- */

/* Decodes the well-formed UTF-8 sequence at p[0 .. n) (n >= 1) into *cp and
   returns its length; anything else (a stray or truncated byte, an overlong
   form, a surrogate) is one byte with *cp = UINT32_MAX, which no table has. */
static int rt_utf8_decode(const unsigned char *p, int64_t n, uint32_t *cp) {
    unsigned char b = p[0];
    *cp = UINT32_MAX;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    int len;
    uint32_t c, min;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2, c = b & 0x1Fu, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3, c = b & 0x0Fu, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4, c = b & 0x07u, min = 0x10000;
    } else {
        return 1;
    }
    if (n < len) return 1;
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 1;
        c = (c << 6) | (p[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 1;
    *cp = c;
    return len;
}

static const rt_case_entry *rt_case_lookup(const rt_case_entry *map, size_t count, uint32_t cp) {
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (map[mid].cp < cp) {
            lo = mid + 1;
        } else if (map[mid].cp > cp) {
            hi = mid;
        } else {
            return &map[mid];
        }
    }
    return NULL;
}

static int rt_is_white_space(uint32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
    for (size_t i = 0; i < RT_WHITE_SPACE_COUNT; i++)
        if (rt_white_space[i] == cp) return 1;
    return 0;
}

/* Removes White_Space from both ends. */
SimpleText *rt_text_trim(SimpleText *t) {
    const unsigned char *p = (const unsigned char *)t->data;
    int64_t lo = 0, hi = t->len;
    while (lo < hi) {
        uint32_t cp;
        int n = rt_utf8_decode(p + lo, hi - lo, &cp);
        if (!rt_is_white_space(cp)) break;
        lo += n;
    }
    while (hi > lo) {
        /* the start of the last character: back over at most 3 continuation bytes */
        int64_t start = hi - 1;
        while (start > lo && hi - start < 4 && (p[start] & 0xC0) == 0x80) start--;
        uint32_t cp;
        int n = rt_utf8_decode(p + start, hi - start, &cp);
        if (start + n != hi || !rt_is_white_space(cp)) break;
        hi = start;
    }
    if (lo == 0 && hi == t->len) return rt_text_share(t);
    return rt_text_new(t->data + lo, hi - lo);
}

/* Maps each character through a full case mapping (ASCII: a-z/A-Z by delta);
   characters without an entry, and ill-formed bytes, are copied unchanged. */
static SimpleText *rt_text_case_map(SimpleText *t, const rt_case_entry *map, size_t count,
                                    const unsigned char *utf8, char from_lo, char from_hi,
                                    int delta) {
    const unsigned char *p = (const unsigned char *)t->data;
    int64_t n = t->len, i = 0;
    while (i < n && p[i] < 0x80) i++;
    if (i == n) { /* ASCII */
        SimpleText *r = rt_text_alloc(n);
        for (int64_t k = 0; k < n; k++) {
            char c = t->data[k];
            r->data[k] = (c >= from_lo && c <= from_hi) ? (char)(c + delta) : c;
        }
        return r;
    }
    /* Two passes: the length of the result, then the result. */
    int64_t out = i;
    for (int64_t k = i; k < n;) {
        uint32_t cp;
        int len = rt_utf8_decode(p + k, n - k, &cp);
        const rt_case_entry *e = rt_case_lookup(map, count, cp);
        out += e != NULL ? e->len : len;
        k += len;
    }
    SimpleText *r = rt_text_alloc(out);
    unsigned char *q = (unsigned char *)r->data;
    for (int64_t k = 0; k < i; k++) {
        char c = t->data[k];
        q[k] = (unsigned char)((c >= from_lo && c <= from_hi) ? (char)(c + delta) : c);
    }
    q += i;
    for (int64_t k = i; k < n;) {
        uint32_t cp;
        int len = rt_utf8_decode(p + k, n - k, &cp);
        const rt_case_entry *e = rt_case_lookup(map, count, cp);
        if (e != NULL) {
            memcpy(q, utf8 + e->off, e->len);
            q += e->len;
        } else {
            memcpy(q, p + k, (size_t)len);
            q += len;
        }
        k += len;
    }
    return r;
}

SimpleText *rt_text_upper(SimpleText *t) {
    return rt_text_case_map(t, rt_upper_map, RT_UPPER_COUNT, rt_upper_utf8, 'a', 'z', 'A' - 'a');
}

SimpleText *rt_text_lower(SimpleText *t) {
    return rt_text_case_map(t, rt_lower_map, RT_LOWER_COUNT, rt_lower_utf8, 'A', 'Z', 'a' - 'A');
}

SimpleText *rt_text_repeat(SimpleText *t, int64_t n) {
    if (n <= 0 || t->len == 0) return rt_text_alloc(0);
    if (n == 1) return rt_text_share(t);
    if (RT_UNLIKELY(t->len > INT64_MAX / n)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    int64_t total = t->len * n;
    SimpleText *r = rt_text_alloc(total);
    memcpy(r->data, t->data, (size_t)t->len);
    /* Doubling copies: O(log n) memcpy calls. */
    int64_t filled = t->len;
    while (filled < total) {
        int64_t chunk = filled < total - filled ? filled : total - filled;
        memcpy(r->data + filled, r->data, (size_t)chunk);
        filled += chunk;
    }
    return r;
}

int64_t rt_text_cmp(SimpleText *a, SimpleText *b) {
    int64_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->data, b->data, (size_t)n) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    return a->len < b->len ? -1 : (a->len > b->len ? 1 : 0);
}

int rt_text_eq(SimpleText *a, SimpleText *b) {
    return a == b || (a->len == b->len && memcmp(a->data, b->data, (size_t)a->len) == 0);
}

/* ======================================================================== */
/* display forms                                                            */

static const char rt_digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Writes the decimal form of v ending just before `end`; returns the start. */
static char *rt_fmt_u64_rev(char *end, uint64_t v) {
    char *p = end;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        *--p = rt_digit_pairs[k + 1];
        *--p = rt_digit_pairs[k];
    }
    if (v >= 10) {
        *--p = rt_digit_pairs[v * 2 + 1];
        *--p = rt_digit_pairs[v * 2];
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

/* Writes the decimal form of v to out (at least 21 bytes); returns the length. */
static int rt_fmt_i64(char *out, int64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = rt_fmt_u64_rev(end, u);
    if (v < 0) *--p = '-';
    int n = (int)(end - p);
    memcpy(out, p, (size_t)n);
    return n;
}

/* Parses "D.DDDDe[+-]XX" (the output of %.*e for a positive finite value)
 * into its digit string and decimal exponent. Only digits are taken, so the
 * locale's decimal point does not matter. */
static int rt_parse_sci(const char *s, char *digits, int *exp10) {
    int n = 0;
    const char *p = s;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[n++] = *p;
    *exp10 = (*p == 'e') ? atoi(p + 1) : 0;
    return n;
}

/* The value of the decimal digits[0].digits[1..k) * 10**exp10, correctly
 * rounded (written without a decimal point, so any locale reads it). */
static double rt_digits_value(const char *digits, int k, int exp10) {
    char buf[64];
    memcpy(buf, digits, (size_t)k);
    snprintf(buf + k, sizeof buf - (size_t)k, "e%d", exp10 - (k - 1));
    return strtod(buf, NULL);
}

/* Adds one unit in the last of the k digits (with carry; 99..9 becomes 10..0
 * with the exponent one higher). */
static void rt_digits_increment(char *d, int k, int *exp10) {
    int i = k - 1;
    while (i >= 0 && d[i] == '9') d[i--] = '0';
    if (i < 0) {
        d[0] = '1';
        *exp10 += 1;
    } else {
        d[i]++;
    }
}

/* The correctly rounded p-digit decimal of x into d (p digits) and *exp10.
 * d17/e17 are x's correctly rounded 17 digits; rounding them again is exact
 * except when the dropped digits are exactly 50..0 (x may lie on either side
 * of that tie), which asks printf for the p digits directly. */
static void rt_round_to(double x, const char *d17, int e17, int p, char *d, int *exp10) {
    memcpy(d, d17, (size_t)p);
    *exp10 = e17;
    if (p >= 17) return;
    int up;
    if (d17[p] != '5') {
        up = d17[p] > '5';
    } else {
        int rest_zero = 1;
        for (int i = p + 1; i < 17; i++) rest_zero &= d17[i] == '0';
        if (rest_zero) {
            char buf[64];
            snprintf(buf, sizeof buf, "%.*e", p - 1, x);
            rt_parse_sci(buf, d, exp10);
            return;
        }
        up = 1;
    }
    if (up) rt_digits_increment(d, p, exp10);
}

/* Whether some p-digit decimal reads back as x; if so, stores the one
 * Python's repr picks. */
static int rt_try_digits(double x, int asymmetric, const char *d17, int e17, int p, char *out,
                         int *exp10) {
    char d[32];
    int e;
    rt_round_to(x, d17, e17, p, d, &e);
    double y = rt_digits_value(d, p, e);
    if (y != x) {
        /* At a power of two the gap below x is half the gap above, so the
         * nearest p-digit decimal may lie just below the rounding interval
         * while the next one up lies inside it. */
        if (!(asymmetric && y < x)) return 0;
        rt_digits_increment(d, p, &e);
        if (rt_digits_value(d, p, e) != x) return 0;
    }
    memcpy(out, d, (size_t)p);
    *exp10 = e;
    return 1;
}

/* The shortest round-tripping digits of a positive finite double, as
 * Python's repr (David Gay's dtoa, mode 0) chooses them: the fewest digits
 * that read back as x, and among those the nearest to x. Whether p digits
 * suffice is monotonic in p (the nearest (p+1)-digit decimal is at least as
 * near as the nearest p-digit one), so p is found by binary search.
 * Returns the digit count, with trailing zeros removed. */
static int rt_shortest_digits(double x, char *digits, int *exp10) {
    char buf[64], d17[32];
    int e17;
    snprintf(buf, sizeof buf, "%.16e", x);
    rt_parse_sci(buf, d17, &e17);
    int e2;
    /* A power of two above the smallest normal (below it the spacing is even). */
    int asymmetric = frexp(x, &e2) == 0.5 && e2 > -1021;
    memcpy(digits, d17, 17); /* 17 digits always read back */
    *exp10 = e17;
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (rt_try_digits(x, asymmetric, d17, e17, mid, digits, exp10))
            hi = mid;
        else
            lo = mid + 1;
    }
    int n = hi;
    while (n > 1 && digits[n - 1] == '0') n--;
    return n;
}

int rt_format_f64(char *out, double x) {
    if (x != x) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    int len = 0;
    if (signbit(x)) {
        out[len++] = '-';
        x = -x;
    }
    if (isinf(x)) {
        memcpy(out + len, "inf", 4);
        return len + 3;
    }
    if (x < 9007199254740992.0 && x == (double)(uint64_t)x) {
        /* Integral and below 2**53: the integer's own digits are the shortest. */
        char tmp[24];
        char *end = tmp + sizeof tmp;
        char *p = rt_fmt_u64_rev(end, (uint64_t)x);
        memcpy(out + len, p, (size_t)(end - p));
        len += (int)(end - p);
        out[len] = 0;
        return len;
    }
    char digits[32];
    int e10;
    int n = rt_shortest_digits(x, digits, &e10);
    int point = e10 + 1; /* position of the decimal point within digits */
    if (point <= 0) {
        out[len++] = '0';
        out[len++] = '.';
        for (int i = 0; i < -point; i++) out[len++] = '0';
        memcpy(out + len, digits, (size_t)n);
        len += n;
    } else if (point >= n) {
        memcpy(out + len, digits, (size_t)n);
        len += n;
        for (int i = 0; i < point - n; i++) out[len++] = '0';
    } else {
        memcpy(out + len, digits, (size_t)point);
        len += point;
        out[len++] = '.';
        memcpy(out + len, digits + point, (size_t)(n - point));
        len += n - point;
    }
    out[len] = 0;
    return len;
}

SimpleText *rt_text_from_i64(int64_t v) {
    char buf[24];
    int n = rt_fmt_i64(buf, v);
    return rt_text_new(buf, n);
}

SimpleText *rt_text_from_f64(double v) {
    char buf[RT_F64_BUF];
    int n = rt_format_f64(buf, v);
    return rt_text_new(buf, n);
}

SimpleText *rt_text_from_bool(int b) { return b ? rt_text_new("true", 4) : rt_text_new("false", 5); }

SimpleText *rt_text_from_unit(void) { return rt_text_new("()", 2); }

/* ======================================================================== */
/* buffered output                                                          */

#define RT_OUT_CAP (64 * 1024)

static char rt_out_buf[RT_OUT_CAP];
static size_t rt_out_len = 0;

/* The buffer's lock: a test-and-set lock that yields the CPU while another
 * thread holds it. Uncontended it costs one atomic exchange and a plain
 * store, about half of a pthread mutex, which matters for print-heavy loops. */
static int rt_out_locked = 0;

static inline void rt_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline void rt_out_lock(void) {
    while (__atomic_exchange_n(&rt_out_locked, 1, __ATOMIC_ACQUIRE)) {
        for (int spins = 0; __atomic_load_n(&rt_out_locked, __ATOMIC_RELAXED); spins++) {
            if (spins < 64)
                rt_cpu_relax();
            else
                sched_yield();
        }
    }
}

static inline void rt_out_unlock(void) { __atomic_store_n(&rt_out_locked, 0, __ATOMIC_RELEASE); }

static void rt_flush_locked(void) {
    if (rt_out_len > 0) {
        rt_write_all(1, rt_out_buf, rt_out_len);
        rt_out_len = 0;
    }
}

void rt_flush(void) {
    rt_out_lock();
    rt_flush_locked();
    rt_out_unlock();
}

/* With the lock held: room for `need` more bytes (need <= RT_OUT_CAP). */
static inline char *rt_out_reserve(size_t need) {
    if (RT_UNLIKELY(rt_out_len + need > RT_OUT_CAP)) rt_flush_locked();
    return rt_out_buf + rt_out_len;
}

void rt_print_i64(int64_t v) {
    rt_out_lock();
    char *p = rt_out_reserve(24);
    int n = rt_fmt_i64(p, v);
    p[n] = '\n';
    rt_out_len += (size_t)n + 1;
    rt_out_unlock();
}

/* f64 `**`: libm's pow, behind a call LLVM cannot see into.  LLVM rewrites
 * llvm.pow (and a call of `pow` it recognises) with a constant power-of-two
 * base into exp2(n * x), which rounds n * x first: 8.0 ** 23.983 then differs
 * from pow in the last digits, and from the interpreter. */
double rt_fpow(double a, double b) { return pow(a, b); }

void rt_print_f64(double v) {
    char buf[RT_F64_BUF];
    int n = rt_format_f64(buf, v); /* outside the lock: it may take a while */
    buf[n] = '\n';
    rt_out_lock();
    memcpy(rt_out_reserve((size_t)n + 1), buf, (size_t)n + 1);
    rt_out_len += (size_t)n + 1;
    rt_out_unlock();
}

static void rt_print_bytes_nl(const char *s, size_t n) {
    rt_out_lock();
    if (n + 1 <= RT_OUT_CAP) {
        char *p = rt_out_reserve(n + 1);
        memcpy(p, s, n);
        p[n] = '\n';
        rt_out_len += n + 1;
    } else {
        rt_flush_locked();
        rt_write_all(1, s, n);
        rt_out_buf[rt_out_len++] = '\n';
    }
    rt_out_unlock();
}

void rt_print_bool(int b) {
    if (b)
        rt_print_bytes_nl("true", 4);
    else
        rt_print_bytes_nl("false", 5);
}

void rt_print_text(SimpleText *t) { rt_print_bytes_nl(t->data, (size_t)t->len); }

void rt_print_unit(void) { rt_print_bytes_nl("()", 2); }

/* Output still buffered when the process exits normally (or the library is
 * unloaded) is written out -- unless another thread is stuck holding the
 * lock, in which case waiting for it could hang the exit. */
__attribute__((destructor)) static void rt_fini(void) {
    for (int tries = 0; tries < 1000; tries++) {
        if (!__atomic_exchange_n(&rt_out_locked, 1, __ATOMIC_ACQUIRE)) {
            rt_flush_locked();
            rt_out_unlock();
            return;
        }
        sched_yield();
    }
}

/* ======================================================================== */
/* tier-2 heap objects                                                      */

static int64_t rt_live_objects = 0;

int64_t rt_live_object_count(void) { return __atomic_load_n(&rt_live_objects, __ATOMIC_RELAXED); }

static void *rt_obj_malloc(size_t size) {
    void *p = malloc(size);
    if (RT_UNLIKELY(p == NULL)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    __atomic_fetch_add(&rt_live_objects, 1, __ATOMIC_RELAXED);
    return p;
}

RtObj *rt_obj_alloc(const RtDesc *desc, int64_t tag, int64_t nslots) {
    RtObj *o = (RtObj *)rt_obj_malloc(sizeof(RtObj) + (size_t)nslots * sizeof(int64_t));
    o->rc = 1;
    o->desc = desc;
    o->tag = tag;
    return o;
}

static inline const RtVariant *rt_obj_variant(const RtObj *o) {
    return &o->desc->variants[o->desc->nvariants > 1 ? o->tag : 0];
}

static inline void rt_slot_incref(uint8_t kind, int64_t v) {
    if (kind == RT_SLOT_TEXT)
        rt_text_incref((SimpleText *)(intptr_t)v);
    else if (kind == RT_SLOT_OBJ)
        rt_obj_incref((void *)(intptr_t)v);
}

RtObj *rt_obj_clone(RtObj *o) {
    const RtVariant *var = rt_obj_variant(o);
    int64_t n = var->nslots;
    RtObj *c = rt_obj_alloc(o->desc, o->tag, n);
    for (int64_t i = 0; i < n; i++) {
        c->slots[i] = o->slots[i];
        rt_slot_incref(var->kinds[i], o->slots[i]);
    }
    return c;
}

/* Bytes per element: [bool] is packed one byte per flag, everything else
 * takes a 64-bit slot. */
static inline size_t rt_array_elem_size(const RtDesc *desc) {
    return desc->variants[0].kinds[0] == RT_SLOT_BOOL ? 1 : sizeof(int64_t);
}

/* Element i as a 64-bit slot value (a bool as 0/1). */
static inline int64_t rt_array_read(const RtArray *a, int64_t i) {
    if (rt_array_elem_size(a->desc) == 1) return ((const uint8_t *)a->data)[i];
    return ((const int64_t *)a->data)[i];
}

RtArray *rt_array_new(const RtDesc *desc, int64_t len) {
    if (RT_UNLIKELY(len < 0 || (uint64_t)len > ((uint64_t)1 << 56)))
        rt_panic_msg("out of memory", "<runtime>", 0, 0);
    RtArray *a = (RtArray *)rt_obj_malloc(sizeof(RtArray));
    a->rc = 1;
    a->desc = desc;
    a->len = len;
    a->cap = len;
    a->data = NULL;
    if (len > 0) {
        a->data = malloc((size_t)len * rt_array_elem_size(desc));
        if (RT_UNLIKELY(a->data == NULL)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
    }
    return a;
}

void rt_array_push(RtArray *a, int64_t slot) {
    if (RT_UNLIKELY(a->len == a->cap)) {
        int64_t cap = a->cap < 4 ? 4 : a->cap * 2;
        if (RT_UNLIKELY((uint64_t)cap > ((uint64_t)1 << 56)))
            rt_panic_msg("out of memory", "<runtime>", 0, 0);
        void *data = realloc(a->data, (size_t)cap * rt_array_elem_size(a->desc));
        if (RT_UNLIKELY(data == NULL)) rt_panic_msg("out of memory", "<runtime>", 0, 0);
        a->data = data;
        a->cap = cap;
    }
    if (rt_array_elem_size(a->desc) == 1)
        ((uint8_t *)a->data)[a->len++] = (uint8_t)slot;
    else
        ((int64_t *)a->data)[a->len++] = slot;
}

int64_t rt_array_pop(RtArray *a, const char *file, int32_t line, int32_t col) {
    if (RT_UNLIKELY(a->len == 0)) rt_panic(RT_ERR_POP_EMPTY, file, line, col);
    return rt_array_read(a, --a->len);
}

void rt_obj_incref(void *obj) {
    int64_t *rc = (int64_t *)obj;
    if (rc == NULL || *rc < 0) return;
    __atomic_fetch_add(rc, 1, __ATOMIC_RELAXED);
}

/* Releases one reference to every child of o; children that reach zero are
 * pushed on the work stack (freeing is iterative: a long chain of objects
 * does not recurse on the C stack). */
typedef struct {
    void **items;
    size_t len, cap;
    void *local[32];
} RtWork;

static void rt_work_push(RtWork *w, void *o) {
    if (w->len == w->cap) {
        size_t cap = w->cap * 2;
        void **items = (void **)malloc(cap * sizeof(void *));
        if (items == NULL) rt_panic_msg("out of memory", "<runtime>", 0, 0);
        memcpy(items, w->items, w->len * sizeof(void *));
        if (w->items != w->local) free(w->items);
        w->items = items;
        w->cap = cap;
    }
    w->items[w->len++] = o;
}

static void rt_release_slot(RtWork *w, uint8_t kind, int64_t v) {
    if (kind == RT_SLOT_TEXT) {
        rt_text_decref((SimpleText *)(intptr_t)v);
    } else if (kind == RT_SLOT_OBJ) {
        int64_t *rc = (int64_t *)(intptr_t)v;
        if (rc != NULL && *rc >= 0 && __atomic_sub_fetch(rc, 1, __ATOMIC_ACQ_REL) == 0)
            rt_work_push(w, rc);
    }
}

static void rt_obj_free_tree(void *root) {
    RtWork w;
    w.items = w.local;
    w.len = 0;
    w.cap = sizeof w.local / sizeof w.local[0];
    w.items[w.len++] = root;
    while (w.len > 0) {
        void *obj = w.items[--w.len];
        const RtDesc *desc = ((RtObj *)obj)->desc;
        if (desc->kind == RT_DESC_ARRAY) {
            RtArray *a = (RtArray *)obj;
            uint8_t kind = desc->variants[0].kinds[0];
            if (kind == RT_SLOT_TEXT || kind == RT_SLOT_OBJ)
                for (int64_t i = 0; i < a->len; i++)
                    rt_release_slot(&w, kind, ((int64_t *)a->data)[i]);
            free(a->data);
        } else {
            RtObj *o = (RtObj *)obj;
            const RtVariant *var = rt_obj_variant(o);
            for (int64_t i = 0; i < var->nslots; i++) rt_release_slot(&w, var->kinds[i], o->slots[i]);
        }
        free(obj);
        __atomic_fetch_sub(&rt_live_objects, 1, __ATOMIC_RELAXED);
    }
    if (w.items != w.local) free(w.items);
}

void rt_obj_decref(void *obj) {
    int64_t *rc = (int64_t *)obj;
    if (rc == NULL || *rc < 0) return;
    if (__atomic_sub_fetch(rc, 1, __ATOMIC_ACQ_REL) == 0) rt_obj_free_tree(obj);
}

/* ---- display ------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t len, cap;
} RtBuf;

static void rt_buf_put(RtBuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap < 64 ? 64 : b->cap;
        while (b->len + n + 1 > cap) cap *= 2;
        char *p = (char *)realloc(b->p, cap);
        if (p == NULL) rt_panic_msg("out of memory", "<runtime>", 0, 0);
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void rt_buf_puts(RtBuf *b, const char *s) { rt_buf_put(b, s, strlen(s)); }

static void rt_display_obj(RtBuf *b, void *obj, int depth);

static void rt_display_slot(RtBuf *b, uint8_t kind, int64_t v, int depth) {
    char tmp[RT_F64_BUF];
    switch (kind) {
        case RT_SLOT_I64: rt_buf_put(b, tmp, (size_t)rt_fmt_i64(tmp, v)); break;
        case RT_SLOT_F64: {
            double d;
            memcpy(&d, &v, sizeof d);
            rt_buf_put(b, tmp, (size_t)rt_format_f64(tmp, d));
            break;
        }
        case RT_SLOT_BOOL: rt_buf_puts(b, v ? "true" : "false"); break;
        case RT_SLOT_UNIT: rt_buf_puts(b, "()"); break;
        case RT_SLOT_TEXT: {
            SimpleText *t = (SimpleText *)(intptr_t)v;
            if (t != NULL) rt_buf_put(b, t->data, (size_t)t->len);
            break;
        }
        default: rt_display_obj(b, (void *)(intptr_t)v, depth + 1); break;
    }
}

static void rt_display_obj(RtBuf *b, void *obj, int depth) {
    if (obj == NULL) {
        rt_buf_puts(b, "nil");
        return;
    }
    if (RT_UNLIKELY(depth > 10000)) { /* values are trees: only a huge chain gets here */
        rt_buf_puts(b, "...");
        return;
    }
    const RtDesc *desc = ((RtObj *)obj)->desc;
    if (desc->kind == RT_DESC_ARRAY) {
        RtArray *a = (RtArray *)obj;
        uint8_t kind = desc->variants[0].kinds[0];
        rt_buf_puts(b, "[");
        for (int64_t i = 0; i < a->len; i++) {
            if (i > 0) rt_buf_puts(b, ", ");
            rt_display_slot(b, kind, rt_array_read(a, i), depth);
        }
        rt_buf_puts(b, "]");
        return;
    }
    RtObj *o = (RtObj *)obj;
    const RtVariant *var = rt_obj_variant(o);
    if (desc->kind == RT_DESC_SOME) {
        rt_display_slot(b, var->kinds[0], o->slots[0], depth);
        return;
    }
    if (desc->kind == RT_DESC_ENUM) {
        rt_buf_puts(b, desc->name);
        rt_buf_puts(b, ".");
        rt_buf_puts(b, var->name);
        if (var->nslots == 0) return;
    } else if (desc->kind == RT_DESC_STRUCT) {
        rt_buf_puts(b, desc->name);
    }
    rt_buf_puts(b, "(");
    for (int64_t i = 0; i < var->nslots; i++) {
        if (i > 0) rt_buf_puts(b, ", ");
        if (var->fields != NULL) {
            rt_buf_puts(b, var->fields[i]);
            rt_buf_puts(b, ": ");
        }
        rt_display_slot(b, var->kinds[i], o->slots[i], depth);
    }
    if (desc->kind == RT_DESC_TUPLE && var->nslots == 1) rt_buf_puts(b, ",");
    rt_buf_puts(b, ")");
}

void rt_obj_print(void *obj) {
    RtBuf b = {NULL, 0, 0};
    rt_display_obj(&b, obj, 0);
    rt_print_bytes_nl(b.p != NULL ? b.p : "", b.len);
    free(b.p);
}

SimpleText *rt_obj_totext(void *obj) {
    RtBuf b = {NULL, 0, 0};
    rt_display_obj(&b, obj, 0);
    SimpleText *t = rt_text_new(b.p != NULL ? b.p : "", (int64_t)b.len);
    free(b.p);
    return t;
}

/* ======================================================================== */
/* runtime errors and recovery                                              */

#define RT_ERR_CAP 4096

typedef struct RtRecovery {
    jmp_buf jb;
    struct RtRecovery *prev;
} RtRecovery;

static _Thread_local RtRecovery *rt_tls_recovery = NULL;
static _Thread_local char rt_tls_error[RT_ERR_CAP];

static const char *rt_kind_message(int32_t kind) {
    switch (kind) {
        case RT_ERR_DIV_ZERO: return "division by zero";
        case RT_ERR_NEG_EXP: return "negative exponent";
        case RT_ERR_INDEX: return "index out of range";
        case RT_ERR_POP_EMPTY: return "pop from empty array";
        case RT_ERR_STACK: return "stack overflow";
        case RT_ERR_FUEL: return "out of fuel";
        default: return "runtime error";
    }
}

void rt_panic_msg(const char *message, const char *file, int32_t line, int32_t col) {
    rt_flush();
    snprintf(rt_tls_error, RT_ERR_CAP, "%s:%d:%d: runtime error: %s", file ? file : "<unknown>",
             (int)line, (int)col, message ? message : "runtime error");
    RtRecovery *rec = rt_tls_recovery;
    if (rec != NULL) longjmp(rec->jb, 1);
    size_t n = strlen(rt_tls_error);
    rt_tls_error[n] = '\n'; /* snprintf left room: n < RT_ERR_CAP */
    rt_write_all(2, rt_tls_error, n + 1);
    rt_tls_error[n] = 0;
    _exit(101);
}

void rt_panic(int32_t kind, const char *file, int32_t line, int32_t col) {
    rt_panic_msg(rt_kind_message(kind), file, line, col);
}

void rt_error_set(int32_t kind, const char *file, int32_t line, int32_t col) {
    rt_flush();
    snprintf(rt_tls_error, RT_ERR_CAP, "%s:%d:%d: runtime error: %s", file ? file : "<unknown>",
             (int)line, (int)col, rt_kind_message(kind));
}

void rt_error_raise(void) {
    RtRecovery *rec = rt_tls_recovery;
    if (rec != NULL) longjmp(rec->jb, 1);
    size_t n = strlen(rt_tls_error);
    rt_tls_error[n] = '\n'; /* snprintf left room: n < RT_ERR_CAP */
    rt_write_all(2, rt_tls_error, n + 1);
    rt_tls_error[n] = 0;
    _exit(101);
}

const char *rt_last_error(void) { return rt_tls_error; }

int rt_run_protected(int64_t (*fn)(void *), void *arg, int64_t *result) {
    RtRecovery rec;
    rec.prev = rt_tls_recovery;
    if (setjmp(rec.jb) != 0) {
        /* rec.prev was set before setjmp and never changed: safe to read. */
        rt_tls_recovery = rec.prev;
        return 1;
    }
    rt_tls_recovery = &rec;
    int64_t r = fn(arg);
    rt_tls_recovery = rec.prev;
    if (result != NULL) *result = r;
    return 0;
}

/* A host call of the execution manager: run protected, then flush what the
 * call printed (one crossing from Python instead of two). */
int rt_call_host(int64_t (*fn)(void *), int64_t *buf) {
    int failed = rt_run_protected(fn, buf, buf);
    rt_flush();
    return failed;
}

/* ======================================================================== */
/* stacks                                                                   */

#define RT_STACK_MARGIN ((uintptr_t)256 * 1024)
#define RT_MAIN_GUARD_GAP ((uintptr_t)1024 * 1024) /* kernel stack_guard_gap */

static _Thread_local uintptr_t rt_tls_stack_limit = 0;

static uintptr_t rt_compute_stack_limit(void) {
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t fallback = sp > ((uintptr_t)7 << 20) ? sp - ((uintptr_t)7 << 20) : 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return fallback;
    void *addr = NULL;
    size_t size = 0, guard = 0;
    int ok = pthread_attr_getstack(&attr, &addr, &size) == 0;
    if (pthread_attr_getguardsize(&attr, &guard) != 0) guard = 0;
    pthread_attr_destroy(&attr);
    if (!ok || addr == NULL || size == 0) return fallback;
    uintptr_t lo = (uintptr_t)addr, hi = lo + size;
    if (sp < lo || sp >= hi) return fallback; /* not the stack we are running on */
    if (getpid() == (pid_t)syscall(SYS_gettid)) {
        /* The main thread: its stack grows on demand up to RLIMIT_STACK
         * (glibc reports the rlimit, clipped at the mapping below). */
        struct rlimit rl;
        uintptr_t avail = size;
        if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (uintptr_t)rl.rlim_cur < avail)
            avail = (uintptr_t)rl.rlim_cur;
        else if (avail > RT_MAIN_GUARD_GAP)
            avail -= RT_MAIN_GUARD_GAP; /* unlimited: stay clear of the mapping below */
        lo = hi - avail;
    } else {
        lo += guard;
    }
    uintptr_t limit = lo + RT_STACK_MARGIN;
    return limit < hi ? limit : fallback;
}

uintptr_t rt_stack_limit_here(void) {
    if (rt_tls_stack_limit == 0) rt_tls_stack_limit = rt_compute_stack_limit();
    return rt_tls_stack_limit;
}

/* ======================================================================== */
/* program entry on a big stack                                             */

static char rt_main_err[RT_ERR_CAP];
static pthread_mutex_t rt_main_err_lock = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    int64_t (*entry)(uintptr_t);
    int64_t code;
    int status;
} RtMainCtx;

static int64_t rt_main_trampoline(void *p) {
    RtMainCtx *ctx = (RtMainCtx *)p;
    return ctx->entry(rt_stack_limit_here());
}

static void *rt_main_thread(void *p) {
    RtMainCtx *ctx = (RtMainCtx *)p;
    int64_t code = 0;
    ctx->status = rt_run_protected(rt_main_trampoline, ctx, &code);
    if (ctx->status == 0) {
        ctx->code = code;
    } else {
        pthread_mutex_lock(&rt_main_err_lock);
        snprintf(rt_main_err, sizeof rt_main_err, "%s", rt_last_error());
        pthread_mutex_unlock(&rt_main_err_lock);
    }
    return NULL;
}

const char *rt_main_error(void) { return rt_main_err; }

int rt_run_main(int64_t (*entry)(uintptr_t), size_t stack_size, int64_t *exit_code) {
    RtMainCtx ctx = {entry, 0, 0};
    if (stack_size == 0) stack_size = RT_PROGRAM_STACK;
    int started = 0;
    pthread_t th;
    /* If the system refuses a stack this big, try smaller ones (down to 16 MiB). */
    size_t size = stack_size;
    for (;;) {
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0) break;
        if (pthread_attr_setstacksize(&attr, size) == 0 &&
            pthread_create(&th, &attr, rt_main_thread, &ctx) == 0)
            started = 1;
        pthread_attr_destroy(&attr);
        if (started || size / 2 < ((size_t)16 << 20)) break;
        size /= 2;
    }
    if (started)
        pthread_join(th, NULL);
    else
        rt_main_thread(&ctx); /* no thread: run on the current stack */
    rt_flush();
    if (ctx.status == 0 && exit_code != NULL) *exit_code = ctx.code;
    return ctx.status;
}

/* ======================================================================== */
/* AOT executable entry                                                     */

#ifdef SIMPLE_RT_AOT_MAIN
int main(int argc, char **argv) {
    (void)argc;
    (void)argv;
    int64_t code = 0;
    if (rt_run_main(simple_program_main, RT_PROGRAM_STACK, &code) != 0) {
        const char *msg = rt_main_error();
        rt_write_all(2, msg, strlen(msg));
        rt_write_all(2, "\n", 1);
        return 101;
    }
    rt_flush();
    return (int)(code & 0xFF);
}
#endif

/* ======================================================================== */
/* CPython extension module (lets setuptools build and install the library) */

#ifdef SIMPLE_RT_PYTHON_MODULE
static struct PyModuleDef rt_module = {
    PyModuleDef_HEAD_INIT,
    "_simple_rt",
    "The Simple C runtime library; use it through ctypes (simple_jit.runtime).",
    -1,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__simple_rt(void) {
    PyObject *m = PyModule_Create(&rt_module);
    if (m != NULL && PyModule_AddStringConstant(m, "SOURCE_HASH", SIMPLE_RT_SOURCE_HASH) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
#endif
