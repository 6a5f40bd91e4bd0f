/* The Theta entry points of sketchbox.h from C: parameters, bulk and single updates,
 * estimates and bounds, set operations, images (plain, compressed, from bytes and
 * corrupted), compact-sketch immutability, cancellation, JSON and NULL handling.
 * Plain C99, no framework; prints "N passed, M failed" last and exits non-zero on
 * failure. Built and run (plain and under valgrind) by tests/c/run.sh. */
#include "sketchbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SEED 9001u
#define LG_K 12
#define K (1u << LG_K)
#define RSE (1.0 / 64.0) /* 1 / sqrt(K) */

static SkTheta *new_theta(uint8_t lg_k, float p, uint64_t seed) {
    SkTheta *s = NULL;
    int32_t st = sk_theta_new(lg_k, p, seed, &s);
    if (st != SK_OK || s == NULL) {
        printf("FATAL: sk_theta_new(%u, %g, %llu): %d %s\n", lg_k, (double)p,
               (unsigned long long)seed, (int)st, sk_last_error());
        exit(2);
    }
    return s;
}

/* Serializes; ptr NULL on failure (counted as one). */
static SkBytes ser(const SkTheta *s, bool compressed) {
    SkBytes b = {NULL, 0};
    CHECK_OK(sk_theta_serialize(s, compressed, &b));
    return b;
}

static int same_bytes(SkBytes a, SkBytes b) {
    return a.ptr != NULL && b.ptr != NULL && a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* Two sketches serialize (plain) to the same bytes. */
static int same_sketch(const SkTheta *a, const SkTheta *b) {
    SkBytes x = ser(a, false), y = ser(b, false);
    int same = same_bytes(x, y);
    sk_bytes_free(x);
    sk_bytes_free(y);
    return same;
}

static double estimate(const SkTheta *s) {
    double e = -1.0;
    CHECK_OK(sk_theta_estimate(s, &e));
    return e;
}

/* The estimate is within 3 RSE of `truth` and `truth` within the 3-sd bounds. */
static int close_to(const SkTheta *s, double truth) {
    double e = estimate(s), lb = -1.0, ub = -1.0;
    CHECK_OK(sk_theta_lower_bound(s, 3, &lb));
    CHECK_OK(sk_theta_upper_bound(s, 3, &ub));
    int ok = fabs(e - truth) <= 3.0 * RSE * truth && lb <= truth && truth <= ub && lb <= e &&
             e <= ub;
    if (!ok) printf("  estimate %.1f, bounds [%.1f, %.1f], truth %.1f\n", e, lb, ub, truth);
    return ok;
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static SkTheta *range_i64(int64_t lo, int64_t hi) {
    SkTheta *s = new_theta(LG_K, 1.0f, SEED);
    size_t n = (size_t)(hi - lo), i;
    int64_t *v = malloc(n * sizeof *v);
    for (i = 0; i < n; i++) v[i] = lo + (int64_t)i;
    CHECK_OK(sk_theta_update_i64(s, v, n, NULL, NULL));
    free(v);
    return s;
}

static void test_new(void) {
    SkTheta *s = (SkTheta *)&s; /* not NULL: a failure leaves *out alone */
    CHECK_STATUS(sk_theta_new(4, 1.0f, SEED, &s), SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_last_error()[0] != '\0' && strstr(sk_last_error(), "lg_k") != NULL);
    CHECK_STATUS(sk_theta_new(27, 1.0f, SEED, &s), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_new(268, 1.0f, SEED, &s), SK_ERR_INVALID_ARGUMENT); /* not 12 */
    CHECK(strstr(sk_last_error(), "lg_k") != NULL);
    CHECK_STATUS(sk_theta_new(12, 0.0f, SEED, &s), SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_last_error()[0] != '\0');
    CHECK_STATUS(sk_theta_new(12, 1.5f, SEED, &s), SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_last_error()[0] != '\0');
    CHECK_STATUS(sk_theta_new(12, -0.5f, SEED, &s), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_new(12, NAN, SEED, &s), SK_ERR_INVALID_ARGUMENT);
    CHECK(s == (SkTheta *)&s);
    CHECK_STATUS(sk_theta_new(12, 1.0f, SEED, NULL), SK_ERR_INVALID_ARGUMENT);

    /* the extremes are accepted; a fresh sketch is empty, exact, seeded */
    s = NULL;
    CHECK_OK(sk_theta_new(5, 1.0f, SEED, &s));
    sk_theta_free(s);
    s = NULL;
    CHECK_OK(sk_theta_new(26, 1.0f, 42, &s));
    bool empty = false;
    double th = 0, e = -1;
    uint32_t r = 7;
    uint64_t seed = 0;
    CHECK_OK(sk_theta_is_empty(s, &empty));
    CHECK(empty);
    CHECK(sk_theta_theta(s, &th) == SK_OK && th == 1.0);
    CHECK(sk_theta_estimate(s, &e) == SK_OK && e == 0.0);
    CHECK(sk_theta_num_retained(s, &r) == SK_OK && r == 0);
    CHECK(sk_theta_seed(s, &seed) == SK_OK && seed == 42);
    sk_theta_free(s);

    /* up-front sampling: non-empty though it may retain nothing */
    s = new_theta(12, 0.5f, SEED);
    CHECK_OK(sk_theta_update_one_i64(s, 1));
    CHECK(sk_theta_is_empty(s, &empty) == SK_OK && !empty);
    CHECK(sk_theta_theta(s, &th) == SK_OK && th > 0.49 && th < 0.51);
    sk_theta_free(s);
}

/* Bulk numeric updates: 100000 distinct int64 / uint64 / double; exact below k;
   dtype conversions, alignment and canonicalisation. */
static void test_numeric(void) {
    enum { N = 100000 };
    int64_t *v = malloc(N * sizeof *v);
    double *d = malloc(N * sizeof *d);
    uint64_t *u = malloc(N * sizeof *u);
    size_t i;
    for (i = 0; i < N; i++) {
        v[i] = (int64_t)(i * 2654435761u) - 5000000000LL; /* distinct, some negative */
        d[i] = (double)i + 0.25;
        u[i] = (uint64_t)i;
    }
    SkTheta *a = new_theta(LG_K, 1.0f, SEED), *b = new_theta(LG_K, 1.0f, SEED),
            *c = new_theta(LG_K, 1.0f, SEED), *x = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_i64(a, v, N, NULL, NULL));
    CHECK_OK(sk_theta_update_i64(a, v, N, NULL, NULL)); /* duplicates change nothing */
    CHECK(close_to(a, N));
    CHECK_OK(sk_theta_update_f64(b, d, N, NULL, NULL));
    CHECK(close_to(b, N));
    CHECK_OK(sk_theta_update_u64(c, u, N, NULL, NULL));
    CHECK(close_to(c, N));
    double th = 0;
    uint32_t r = 0;
    CHECK(sk_theta_theta(a, &th) == SK_OK && th < 1.0 && th > 0.0);
    CHECK(sk_theta_num_retained(a, &r) == SK_OK && r >= K && r < 2 * K);
    double lb1, lb2, lb3, ub1, ub2, ub3;
    CHECK_OK(sk_theta_lower_bound(a, 1, &lb1));
    CHECK_OK(sk_theta_lower_bound(a, 2, &lb2));
    CHECK_OK(sk_theta_lower_bound(a, 3, &lb3));
    CHECK_OK(sk_theta_upper_bound(a, 1, &ub1));
    CHECK_OK(sk_theta_upper_bound(a, 2, &ub2));
    CHECK_OK(sk_theta_upper_bound(a, 3, &ub3));
    CHECK(lb3 < lb2 && lb2 < lb1 && lb1 < estimate(a) && estimate(a) < ub1 && ub1 < ub2 &&
          ub2 < ub3);
    CHECK_STATUS(sk_theta_lower_bound(a, 0, &lb1), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_upper_bound(a, 4, &ub1), SK_ERR_INVALID_ARGUMENT);

    /* one by one equals bulk */
    int bad = 0;
    for (i = 0; i < N; i++) bad += sk_theta_update_one_i64(x, v[i]) != SK_OK;
    CHECK(bad == 0 && same_sketch(a, x));
    sk_theta_free(x);
    x = new_theta(LG_K, 1.0f, SEED);
    for (i = 0; i < N; i++) bad += sk_theta_update_one_f64(x, d[i]) != SK_OK;
    CHECK(bad == 0 && same_sketch(b, x));
    sk_theta_free(x);
    /* uint64 below 2^63 hash as the same int64 */
    x = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_numeric(x, u, N, SK_DTYPE_I64, NULL, NULL));
    CHECK(same_sketch(c, x));
    sk_theta_free(x);

    /* exact below k: 1000 distinct, each twice */
    SkTheta *e = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_u64(e, u, 1000, NULL, NULL));
    CHECK_OK(sk_theta_update_u64(e, u, 1000, NULL, NULL));
    double est = 0, lb = 0, ub = 0;
    CHECK(sk_theta_estimate(e, &est) == SK_OK && est == 1000.0);
    CHECK(sk_theta_lower_bound(e, 2, &lb) == SK_OK && lb == 1000.0);
    CHECK(sk_theta_upper_bound(e, 2, &ub) == SK_OK && ub == 1000.0);
    CHECK(sk_theta_theta(e, &th) == SK_OK && th == 1.0);
    CHECK(sk_theta_num_retained(e, &r) == SK_OK && r == 1000);
    SkTheta *ed = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_f64(ed, d, 3000, NULL, NULL));
    CHECK(estimate(ed) == 3000.0);
    sk_theta_free(ed);

    /* every integer dtype hashes by value as int64: 0..999 as int32, uint16, ... */
    {
        int32_t i32[1000];
        uint16_t u16[1000];
        int8_t i8[100];
        uint8_t u8[100];
        for (i = 0; i < 1000; i++) i32[i] = (int32_t)i, u16[i] = (uint16_t)i;
        for (i = 0; i < 100; i++) i8[i] = (int8_t)i, u8[i] = (uint8_t)i;
        x = new_theta(LG_K, 1.0f, SEED);
        CHECK_OK(sk_theta_update_numeric(x, i32, 1000, SK_DTYPE_I32, NULL, NULL));
        CHECK(same_sketch(e, x));
        sk_theta_free(x);
        x = new_theta(LG_K, 1.0f, SEED);
        CHECK_OK(sk_theta_update_numeric(x, u16, 1000, SK_DTYPE_U16, NULL, NULL));
        CHECK(same_sketch(e, x));
        sk_theta_free(x);
        SkTheta *y = new_theta(LG_K, 1.0f, SEED);
        x = new_theta(LG_K, 1.0f, SEED);
        CHECK_OK(sk_theta_update_numeric(x, i8, 100, SK_DTYPE_I8, NULL, NULL));
        CHECK_OK(sk_theta_update_numeric(y, u8, 100, SK_DTYPE_U8, NULL, NULL));
        CHECK(same_sketch(x, y) && estimate(x) == 100.0);
        sk_theta_free(x);
        sk_theta_free(y);
        /* float32 values hash as the same doubles */
        float f32[3] = {0.25f, 1.25f, 2.25f};
        x = new_theta(LG_K, 1.0f, SEED);
        y = new_theta(LG_K, 1.0f, SEED);
        CHECK_OK(sk_theta_update_numeric(x, f32, 3, SK_DTYPE_F32, NULL, NULL));
        CHECK_OK(sk_theta_update_f64(y, d, 3, NULL, NULL));
        CHECK(same_sketch(x, y));
        sk_theta_free(x);
        sk_theta_free(y);
        /* bool: 0 and 1 */
        uint8_t bools[4] = {0, 7, 1, 0};
        x = new_theta(LG_K, 1.0f, SEED);
        y = new_theta(LG_K, 1.0f, SEED);
        CHECK_OK(sk_theta_update_numeric(x, bools, 4, SK_DTYPE_BOOL, NULL, NULL));
        CHECK_OK(sk_theta_update_u64(y, u, 2, NULL, NULL));
        CHECK(same_sketch(x, y));
        /* misaligned and unknown dtypes */
        CHECK_STATUS(sk_theta_update_numeric(x, (const char *)v + 1, 4, SK_DTYPE_I64, NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(sk_theta_update_numeric(x, v, 4, 99, NULL, NULL), SK_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(sk_theta_update_numeric(x, NULL, 4, SK_DTYPE_I64, NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        CHECK_OK(sk_theta_update_i64(x, NULL, 0, NULL, NULL));
        CHECK(same_sketch(x, y));
        sk_theta_free(x);
        sk_theta_free(y);
    }

    /* uint64 at or above 2^63 by bit pattern; -0.0 as 0.0; every NaN alike */
    {
        SkTheta *p = new_theta(LG_K, 1.0f, SEED), *q = new_theta(LG_K, 1.0f, SEED);
        CHECK_OK(sk_theta_update_one_u64(p, UINT64_MAX));
        CHECK_OK(sk_theta_update_one_u64(p, (uint64_t)1 << 63));
        CHECK_OK(sk_theta_update_one_i64(q, -1));
        CHECK_OK(sk_theta_update_one_i64(q, INT64_MIN));
        CHECK(same_sketch(p, q));
        sk_theta_free(p);
        sk_theta_free(q);
        p = new_theta(LG_K, 1.0f, SEED);
        q = new_theta(LG_K, 1.0f, SEED);
        uint64_t bits = 0x7FF8000000000123ULL;
        double nan2;
        memcpy(&nan2, &bits, sizeof nan2);
        CHECK_OK(sk_theta_update_one_f64(p, 0.0));
        CHECK_OK(sk_theta_update_one_f64(p, NAN));
        CHECK_OK(sk_theta_update_one_f64(q, -0.0));
        CHECK_OK(sk_theta_update_one_f64(q, nan2));
        CHECK(same_sketch(p, q) && estimate(p) == 2.0);
        sk_theta_free(p);
        sk_theta_free(q);
    }

    sk_theta_free(a);
    sk_theta_free(b);
    sk_theta_free(c);
    sk_theta_free(e);
    free(v);
    free(d);
    free(u);
}

/* Arrow strings with a validity bitmap, "\0"-joined strings, fixed-width strings and
   single byte strings all hash the same bytes. */
static void test_strings(void) {
    enum { N = 110000 }; /* items i % 11 == 10 are null: 100000 valid */
    char *data = malloc((size_t)N * 16);
    char *joined = malloc((size_t)N * 16 + 2);
    int32_t *off32 = malloc((N + 1) * sizeof *off32);
    int64_t *off64 = malloc((N + 1) * sizeof *off64);
    uint8_t *validity = calloc((N + 7) / 8, 1);
    size_t i, len = 0, jlen = 0, valid = 0;
    for (i = 0; i < N; i++) {
        off32[i] = (int32_t)len;
        off64[i] = (int64_t)len;
        int is_valid = i % 11 != 10;
        /* nulls carry bytes of their own, which must not be counted */
        int w = sprintf(data + len, is_valid ? "item-%zu" : "null-%zu", i);
        if (is_valid) {
            validity[i / 8] |= (uint8_t)(1u << (i % 8));
            memcpy(joined + jlen, data + len, (size_t)w);
            jlen += (size_t)w;
            joined[jlen++] = '\0';
            valid++;
        }
        len += (size_t)w;
    }
    off32[N] = (int32_t)len;
    off64[N] = (int64_t)len;
    joined[jlen++] = '\0'; /* an empty item at the end, skipped */
    CHECK(valid == 100000);

    SkTheta *a = new_theta(LG_K, 1.0f, SEED), *b = new_theta(LG_K, 1.0f, SEED),
            *c = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_strings(a, (const uint8_t *)data, len, off32, 4, N, validity, 0,
                                     NULL, NULL));
    CHECK(close_to(a, (double)valid));
    CHECK_OK(sk_theta_update_strings(b, (const uint8_t *)data, len, off64, 8, N, validity, 0,
                                     NULL, NULL));
    CHECK(same_sketch(a, b));
    CHECK_OK(sk_theta_update_delimited(c, (const uint8_t *)joined, jlen, '\0', NULL, NULL));
    CHECK(close_to(c, (double)valid));
    CHECK(same_sketch(a, c));
    /* without the bitmap every item counts */
    SkTheta *all = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_strings(all, (const uint8_t *)data, len, off32, 4, N, NULL, 0,
                                     NULL, NULL));
    CHECK(close_to(all, N));
    sk_theta_free(all);

    /* small, exact: bitmap offset, empty items, one-by-one equivalence */
    {
        const char sdata[] = "applebananacherrydateelder";
        const int32_t soff[8] = {0, 5, 11, 11, 17, 21, 26, 26}; /* 7 items: 2 empty */
        const uint8_t sval[1] = {(uint8_t)~(1u << 5)};          /* item 4 ("date") null */
        SkTheta *p = new_theta(LG_K, 1.0f, SEED), *q = new_theta(LG_K, 1.0f, SEED),
                *r = new_theta(LG_K, 1.0f, SEED), *f = new_theta(LG_K, 1.0f, SEED);
        /* validity_offset 1: item i's bit is bit i + 1 */
        CHECK_OK(sk_theta_update_strings(p, (const uint8_t *)sdata, 26, soff, 4, 7, sval, 1,
                                         NULL, NULL));
        CHECK(estimate(p) == 4.0);
        CHECK_OK(sk_theta_update_one_bytes(q, (const uint8_t *)"apple", 5));
        CHECK_OK(sk_theta_update_one_bytes(q, (const uint8_t *)"banana", 6));
        CHECK_OK(sk_theta_update_one_bytes(q, (const uint8_t *)"cherry", 6));
        CHECK_OK(sk_theta_update_one_bytes(q, (const uint8_t *)"elder", 5));
        CHECK_OK(sk_theta_update_one_bytes(q, (const uint8_t *)"", 0)); /* not an item */
        CHECK_OK(sk_theta_update_one_bytes(q, NULL, 0));
        CHECK(same_sketch(p, q));
        const char delim[] = "apple,banana,,cherry,elder,";
        CHECK_OK(sk_theta_update_delimited(r, (const uint8_t *)delim, sizeof delim - 1, ',',
                                           NULL, NULL));
        CHECK(same_sketch(p, r));
        /* fixed width: trailing NULs are padding, all-NUL items are skipped */
        const char fixed[] = "apple\0\0banana\0cherry\0\0\0\0\0\0\0\0elder\0\0"; /* 5 x 7 */
        CHECK_OK(sk_theta_update_fixed(f, fixed, 7, 5, SK_FIXED_BYTES, NULL, NULL));
        CHECK(same_sketch(p, f));
        /* UCS4 hashed as UTF-8 */
        SkTheta *g = new_theta(LG_K, 1.0f, SEED), *h = new_theta(LG_K, 1.0f, SEED);
        const uint32_t ucs[8] = {'c', 'a', 'f', 0xE9, 0x65E5, 0, 0, 0};
        CHECK_OK(sk_theta_update_fixed(g, ucs, 16, 2, SK_FIXED_UCS4, NULL, NULL));
        CHECK_OK(sk_theta_update_one_bytes(h, (const uint8_t *)"caf\xC3\xA9", 5));
        CHECK_OK(sk_theta_update_one_bytes(h, (const uint8_t *)"\xE6\x97\xA5", 3));
        CHECK(same_sketch(g, h));
        CHECK_STATUS(sk_theta_update_fixed(g, ucs, 16, 2, 3, NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        /* malformed Arrow input is rejected before any item is applied */
        const int32_t dec[4] = {0, 5, 3, 26};
        const int32_t past[3] = {0, 5, 27};
        CHECK_STATUS(sk_theta_update_strings(p, (const uint8_t *)sdata, 26, dec, 4, 3, NULL, 0,
                                             NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(sk_theta_update_strings(p, (const uint8_t *)sdata, 26, past, 4, 2, NULL, 0,
                                             NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(sk_theta_update_strings(p, (const uint8_t *)sdata, 26, soff, 2, 7, NULL, 0,
                                             NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        CHECK_STATUS(sk_theta_update_strings(p, (const uint8_t *)sdata, 26, NULL, 4, 7, NULL, 0,
                                             NULL, NULL),
                     SK_ERR_INVALID_ARGUMENT);
        CHECK(same_sketch(p, q));
        sk_theta_free(p);
        sk_theta_free(q);
        sk_theta_free(r);
        sk_theta_free(f);
        sk_theta_free(g);
        sk_theta_free(h);
    }

    sk_theta_free(a);
    sk_theta_free(b);
    sk_theta_free(c);
    free(data);
    free(joined);
    free(off32);
    free(off64);
    free(validity);
}

/* A = [0, 100000), B = [50000, 150000), C = [25000, 125000). */
static void test_set_operations(void) {
    SkTheta *a = range_i64(0, 100000), *b = range_i64(50000, 150000),
            *c = range_i64(25000, 125000);
    SkTheta *u = NULL, *in = NULL, *d = NULL;
    const SkTheta *ab[2] = {a, b};
    const SkTheta *abc[3] = {a, b, c};

    CHECK_OK(sk_theta_union_many(ab, 2, 0, SEED, &u));
    CHECK(close_to(u, 150000));
    CHECK_OK(sk_theta_intersection_many(ab, 2, SEED, &in));
    CHECK(close_to(in, 50000));
    CHECK_OK(sk_theta_a_not_b(a, b, SEED, &d));
    CHECK(close_to(d, 50000));
    double lo = -1, j = -1, hi = -1;
    CHECK_OK(sk_theta_jaccard(a, b, SEED, &lo, &j, &hi));
    CHECK(fabs(j - 1.0 / 3.0) <= 3.0 * RSE && lo <= 1.0 / 3.0 && 1.0 / 3.0 <= hi && lo <= j &&
          j <= hi);
    if (!(fabs(j - 1.0 / 3.0) <= 3.0 * RSE)) printf("  jaccard %f [%f, %f]\n", j, lo, hi);
    /* inputs may repeat (each is locked once at a time, so no deadlock) */
    {
        const SkTheta *aba[3] = {a, b, a};
        const SkTheta *aa[2] = {a, a};
        SkTheta *u2 = NULL, *in2 = NULL;
        CHECK_OK(sk_theta_union_many(aba, 3, 0, SEED, &u2));
        CHECK(same_sketch(u, u2));
        CHECK_OK(sk_theta_intersection_many(aa, 2, SEED, &in2));
        CHECK(estimate(in2) == estimate(a));
        sk_theta_free(u2);
        sk_theta_free(in2);
    }
    sk_theta_free(u);
    sk_theta_free(in);
    sk_theta_free(d);

    /* three inputs: union [0, 150000), intersection [50000, 100000) */
    u = in = d = NULL;
    CHECK_OK(sk_theta_union_many(abc, 3, 0, SEED, &u));
    CHECK(close_to(u, 150000));
    CHECK_OK(sk_theta_intersection_many(abc, 3, SEED, &in));
    CHECK(close_to(in, 50000));
    /* C \ (A n B) = [25000, 50000) u [100000, 125000) */
    CHECK_OK(sk_theta_a_not_b(c, in, SEED, &d));
    CHECK(close_to(d, 50000));
    sk_theta_free(d);
    d = NULL;
    /* results are compact and enter further set operations; a may be b */
    CHECK_OK(sk_theta_a_not_b(a, a, SEED, &d));
    CHECK(estimate(d) == 0.0);
    sk_theta_free(d);
    d = NULL;
    CHECK_OK(sk_theta_jaccard(a, a, SEED, &lo, &j, &hi));
    CHECK(lo == 1.0 && j == 1.0 && hi == 1.0);
    CHECK_OK(sk_theta_jaccard(u, in, SEED, &lo, &j, &hi));
    CHECK(fabs(j - 1.0 / 3.0) <= 3.0 * RSE);
    sk_theta_free(u);
    sk_theta_free(in);

    /* empty cases */
    SkTheta *e1 = new_theta(LG_K, 1.0f, SEED), *e2 = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_jaccard(e1, e2, SEED, &lo, &j, &hi));
    CHECK(lo == 1.0 && j == 1.0 && hi == 1.0);
    u = NULL;
    CHECK_OK(sk_theta_union_many(NULL, 0, 0, SEED, &u));
    bool empty = false;
    CHECK(u != NULL && sk_theta_is_empty(u, &empty) == SK_OK && empty && estimate(u) == 0.0);
    sk_theta_free(u);
    in = (SkTheta *)&in;
    CHECK_STATUS(sk_theta_intersection_many(NULL, 0, SEED, &in), SK_ERR_INVALID_ARGUMENT);
    CHECK(in == (SkTheta *)&in);

    /* seeds, lg_k and NULLs */
    SkTheta *other = new_theta(LG_K, 1.0f, 42);
    CHECK_OK(sk_theta_update_one_i64(other, 1));
    const SkTheta *mixed[2] = {a, other};
    u = NULL;
    CHECK_STATUS(sk_theta_union_many(mixed, 2, 0, SEED, &u), SK_ERR_INCOMPATIBLE);
    CHECK_STATUS(sk_theta_intersection_many(mixed, 2, SEED, &u), SK_ERR_INCOMPATIBLE);
    CHECK_STATUS(sk_theta_a_not_b(a, other, SEED, &u), SK_ERR_INCOMPATIBLE);
    CHECK_STATUS(sk_theta_jaccard(a, other, SEED, &lo, &j, &hi), SK_ERR_INCOMPATIBLE);
    CHECK(u == NULL);
    CHECK_STATUS(sk_theta_union_many(ab, 2, 4, SEED, &u), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_union_many(ab, 2, 27, SEED, &u), SK_ERR_INVALID_ARGUMENT);
    const SkTheta *with_null[2] = {a, NULL};
    CHECK_STATUS(sk_theta_union_many(with_null, 2, 0, SEED, &u), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_union_many(ab, 2, 0, SEED, NULL), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_a_not_b(NULL, b, SEED, &u), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_jaccard(a, b, SEED, NULL, &j, &hi), SK_ERR_INVALID_ARGUMENT);
    CHECK(u == NULL);
    /* a smaller union keeps at most its k */
    CHECK_OK(sk_theta_union_many(ab, 2, 10, SEED, &u));
    uint32_t r = 0;
    CHECK(sk_theta_num_retained(u, &r) == SK_OK && r <= 1024 && r > 900);
    sk_theta_free(u);

    sk_theta_free(e1);
    sk_theta_free(e2);
    sk_theta_free(other);
    sk_theta_free(a);
    sk_theta_free(b);
    sk_theta_free(c);
}

/* union_images equals union_many of the deserialized (and of the original) handles. */
static void test_union_images(void) {
    SkTheta *s[4];
    s[0] = range_i64(0, 100000);
    s[1] = range_i64(50000, 150000);
    s[2] = range_i64(140000, 141000); /* exact */
    s[3] = new_theta(LG_K, 1.0f, SEED);  /* empty */
    SkBytes img[4];
    const uint8_t *ptrs[4];
    size_t lens[4];
    SkTheta *h[4];
    int i;
    for (i = 0; i < 4; i++) {
        img[i] = ser(s[i], i == 1); /* one compressed image */
        ptrs[i] = img[i].ptr;
        lens[i] = img[i].len;
        h[i] = NULL;
        CHECK_OK(sk_theta_deserialize(img[i].ptr, img[i].len, SEED, &h[i]));
    }
    uint8_t lgs[2] = {0, 10};
    int l;
    for (l = 0; l < 2; l++) {
        SkTheta *ui = NULL, *um = NULL, *uo = NULL;
        CHECK_OK(sk_theta_union_images(ptrs, lens, 4, lgs[l], SEED, &ui));
        CHECK_OK(sk_theta_union_many((const SkTheta *const *)h, 4, lgs[l], SEED, &um));
        CHECK_OK(sk_theta_union_many((const SkTheta *const *)s, 4, lgs[l], SEED, &uo));
        SkBytes bi = ser(ui, false), bm = ser(um, false), bo = ser(uo, false);
        CHECK(same_bytes(bi, bm));
        CHECK(same_bytes(bm, bo));
        if (lgs[l] == 0) CHECK(close_to(ui, 150000));
        sk_bytes_free(bi);
        sk_bytes_free(bm);
        sk_bytes_free(bo);
        sk_theta_free(ui);
        sk_theta_free(um);
        sk_theta_free(uo);
    }
    SkTheta *u = NULL;
    CHECK_OK(sk_theta_union_images(NULL, NULL, 0, 0, SEED, &u));
    CHECK(u != NULL && estimate(u) == 0.0);
    sk_theta_free(u);
    u = NULL;
    CHECK_STATUS(sk_theta_union_images(ptrs, lens, 4, 0, 42, &u), SK_ERR_INCOMPATIBLE);
    size_t short_lens[4] = {lens[0], lens[1] - 1, lens[2], lens[3]};
    CHECK_STATUS(sk_theta_union_images(ptrs, short_lens, 4, 0, SEED, &u), SK_ERR_CORRUPT_DATA);
    CHECK_STATUS(sk_theta_union_images(ptrs, lens, 4, 27, SEED, &u), SK_ERR_INVALID_ARGUMENT);
    CHECK(u == NULL);
    for (i = 0; i < 4; i++) {
        sk_bytes_free(img[i]);
        sk_theta_free(h[i]);
        sk_theta_free(s[i]);
    }
}

/* serialize -> deserialize -> serialize is the identity, plain and compressed. */
static void round_trip(const SkTheta *s, const char *what) {
    int c;
    for (c = 0; c < 2; c++) {
        SkBytes b1 = ser(s, c == 1), b2 = {NULL, 0};
        SkTheta *r = NULL;
        CHECK_OK(sk_theta_deserialize(b1.ptr, b1.len, SEED, &r));
        if (r != NULL) {
            b2 = ser(r, c == 1);
            if (!same_bytes(b1, b2)) printf("  round trip of %s (compressed %d)\n", what, c);
            CHECK(same_bytes(b1, b2));
            double e1 = -1, e2 = -2;
            CHECK(sk_theta_estimate(s, &e1) == SK_OK && sk_theta_estimate(r, &e2) == SK_OK &&
                  e1 == e2);
        }
        sk_bytes_free(b1);
        sk_bytes_free(b2);
        sk_theta_free(r);
    }
    /* a compressed image reads back as the plain one */
    SkBytes p = ser(s, false), z = ser(s, true), p2 = {NULL, 0};
    SkTheta *r = NULL;
    CHECK_OK(sk_theta_deserialize(z.ptr, z.len, SEED, &r));
    if (r != NULL) p2 = ser(r, false);
    CHECK(same_bytes(p, p2));
    sk_bytes_free(p);
    sk_bytes_free(z);
    sk_bytes_free(p2);
    sk_theta_free(r);
}

/* Deserializing a damaged image returns one of the allowed statuses; a success is
   usable and freed. Returns the status. */
static int32_t read_damaged(const uint8_t *data, size_t len) {
    SkTheta *r = NULL;
    int32_t st = sk_theta_deserialize(data, len, SEED, &r);
    if (st == SK_OK) {
        double e;
        SkBytes b = {NULL, 0}, j = {NULL, 0};
        CHECK(r != NULL);
        if (r == NULL) return st;
        bool updatable = false;
        (void)sk_theta_estimate(r, &e);
        (void)sk_theta_upper_bound(r, 2, &e);
        CHECK_OK(sk_theta_is_updatable(r, &updatable));
        if (updatable) {
            /* an update sketch read from an updatable image keeps taking items */
            SkBytes u = {NULL, 0};
            int64_t i;
            for (i = 0; i < 200; i++) CHECK_OK(sk_theta_update_one_i64(r, i));
            CHECK_OK(sk_theta_serialize_updatable(r, &u));
            sk_bytes_free(u);
        }
        CHECK_OK(sk_theta_serialize(r, true, &b));
        CHECK_OK(sk_theta_to_json(r, &j));
        sk_bytes_free(b);
        sk_bytes_free(j);
        sk_theta_free(r);
    } else if (st != SK_ERR_CORRUPT_DATA && st != SK_ERR_INCOMPATIBLE) {
        failed++;
        printf("FAIL: damaged image of %zu bytes gave status %d (%s)\n", len, (int)st,
               sk_last_error());
    }
    /* the same bytes through union_images, next to an intact image */
    const uint8_t *ptrs[1] = {data};
    size_t lens[1] = {len};
    SkTheta *u = NULL;
    int32_t su = sk_theta_union_images(ptrs, lens, 1, 0, SEED, &u);
    if (su == SK_OK) {
        sk_theta_free(u);
    } else if (su != SK_ERR_CORRUPT_DATA && su != SK_ERR_INCOMPATIBLE) {
        failed++;
        printf("FAIL: union_images of a damaged image gave status %d (%s)\n", (int)su,
               sk_last_error());
    }
    return st;
}

static void test_images(void) {
    SkTheta *big = range_i64(0, 100000);
    SkTheta *small_est = new_theta(5, 1.0f, SEED); /* estimating, few entries */
    SkTheta *exact = new_theta(LG_K, 1.0f, SEED);
    SkTheta *one = new_theta(LG_K, 1.0f, SEED);
    SkTheta *empty = new_theta(LG_K, 1.0f, SEED);
    SkTheta *sampled = new_theta(LG_K, 0.25f, SEED);
    int64_t i;
    for (i = 0; i < 1000; i++) sk_theta_update_one_i64(small_est, i);
    for (i = 0; i < 300; i++) sk_theta_update_one_i64(exact, i * 3);
    sk_theta_update_one_bytes(one, (const uint8_t *)"x", 1);
    for (i = 0; i < 10; i++) sk_theta_update_one_i64(sampled, i);
    round_trip(big, "big");
    round_trip(small_est, "small estimating");
    round_trip(exact, "exact");
    round_trip(one, "single item");
    round_trip(empty, "empty");
    round_trip(sampled, "sampled");
    {
        /* a compact sketch (result of a set operation) round-trips too */
        SkTheta *u = NULL;
        const SkTheta *two[2] = {big, exact};
        CHECK_OK(sk_theta_union_many(two, 2, 0, SEED, &u));
        round_trip(u, "union");
        sk_theta_free(u);
    }

    /* the wrong seed */
    SkBytes b = ser(big, false), bz = ser(exact, true);
    SkTheta *r = (SkTheta *)&r;
    CHECK_STATUS(sk_theta_deserialize(b.ptr, b.len, 42, &r), SK_ERR_INCOMPATIBLE);
    CHECK(sk_last_error()[0] != '\0');
    CHECK_STATUS(sk_theta_deserialize(bz.ptr, bz.len, 42, &r), SK_ERR_INCOMPATIBLE);
    CHECK(r == (SkTheta *)&r);
    CHECK_STATUS(sk_theta_deserialize(NULL, 0, SEED, &r), SK_ERR_CORRUPT_DATA);
    CHECK_STATUS(sk_theta_deserialize(b.ptr, b.len, SEED, NULL), SK_ERR_INVALID_ARGUMENT);
    /* the image read with the right seed carries it */
    r = NULL;
    uint64_t seed = 0;
    CHECK_OK(sk_theta_deserialize(b.ptr, b.len, SEED, &r));
    CHECK(sk_theta_seed(r, &seed) == SK_OK && seed == SEED);
    sk_theta_free(r);
    sk_bytes_free(b);
    sk_bytes_free(bz);

    /* every prefix of every small image (and a sample of the big one's) */
    SkTheta *subjects[6] = {small_est, exact, one, empty, sampled, big};
    SkBytes imgs[18];
    size_t n_imgs = 0, k, len;
    for (k = 0; k < 6; k++) {
        imgs[n_imgs++] = ser(subjects[k], false);
        imgs[n_imgs++] = ser(subjects[k], true);
        SkBytes u = {NULL, 0};
        CHECK_OK(sk_theta_serialize_updatable(subjects[k], &u));
        imgs[n_imgs++] = u;
    }
    int strict = 1;
    for (k = 0; k < n_imgs; k++) {
        SkBytes im = imgs[k];
        if (im.ptr == NULL) continue;
        size_t step = im.len > 4096 ? 97 : 1;
        for (len = 0; len < im.len; len += (len < 64 ? 1 : step)) {
            /* a copy of exactly len bytes, so that valgrind sees any over-read */
            uint8_t *cp = malloc(len ? len : 1);
            memcpy(cp, im.ptr, len);
            int32_t st = read_damaged(cp, len);
            if (st != SK_ERR_CORRUPT_DATA && strict) {
                strict = 0;
                printf("  note: prefix %zu of image %zu (%zu bytes) gave %d\n", len, k,
                       im.len, (int)st);
            }
            free(cp);
        }
    }
    CHECK(strict); /* a proper prefix of an image is never a valid image */

    /* 2000 seeded random mutations of 1 to 4 bytes */
    uint64_t state = 12345;
    int m, ok_count = 0;
    for (m = 0; m < 2000; m++) {
        SkBytes im = imgs[splitmix64(&state) % n_imgs];
        if (im.ptr == NULL || im.len == 0) continue;
        uint8_t *cp = malloc(im.len);
        memcpy(cp, im.ptr, im.len);
        int flips = 1 + (int)(splitmix64(&state) % 4), f;
        for (f = 0; f < flips; f++) {
            uint64_t rnd = splitmix64(&state);
            /* half of the damage goes to the preamble, where the structure lives */
            size_t pos = (rnd & 1) ? (size_t)((rnd >> 8) % (im.len < 32 ? im.len : 32))
                                   : (size_t)((rnd >> 8) % im.len);
            cp[pos] = (rnd & 2) ? (uint8_t)(rnd >> 40) : (uint8_t)(cp[pos] ^ (1u << ((rnd >> 2) % 8)));
        }
        if (read_damaged(cp, im.len) == SK_OK) ok_count++;
        free(cp);
    }
    printf("  mutations: %d of 2000 still read\n", ok_count);
    for (k = 0; k < n_imgs; k++) sk_bytes_free(imgs[k]);

    sk_theta_free(big);
    sk_theta_free(small_est);
    sk_theta_free(exact);
    sk_theta_free(one);
    sk_theta_free(empty);
    sk_theta_free(sampled);
}

/* The updatable image: read back as an update sketch that continues as the original;
   a compact sketch has none. */
static void test_update_image(void) {
    SkTheta *s = new_theta(9, 1.0f, SEED), *twin = new_theta(9, 1.0f, SEED), *r = NULL;
    SkBytes img = {NULL, 0}, a = {NULL, 0}, b = {NULL, 0};
    bool updatable = false;
    int64_t i;
    for (i = 0; i < 3000; i++) {
        sk_theta_update_one_i64(s, i);
        sk_theta_update_one_i64(twin, i);
    }
    CHECK_OK(sk_theta_serialize_updatable(s, &img));
    CHECK(img.len == 24 + 8 * 1024 && img.ptr[2] == 2); /* family 2, 2^10 slots */
    CHECK_OK(sk_theta_deserialize(img.ptr, img.len, SEED, &r));
    CHECK_OK(sk_theta_is_updatable(r, &updatable));
    CHECK(updatable);
    for (i = 3000; i < 9000; i++) {
        CHECK_OK(sk_theta_update_one_i64(r, i));
        sk_theta_update_one_i64(twin, i);
    }
    a = ser(r, false);
    b = ser(twin, false);
    CHECK(same_bytes(a, b));
    sk_bytes_free(a);
    sk_bytes_free(b);
    sk_bytes_free(img);
    {
        SkTheta *c = NULL;
        const SkTheta *one[1] = {s};
        SkBytes none = {NULL, 0};
        CHECK_OK(sk_theta_union_many(one, 1, 0, SEED, &c));
        CHECK_OK(sk_theta_is_updatable(c, &updatable));
        CHECK(!updatable);
        CHECK_STATUS(sk_theta_serialize_updatable(c, &none), SK_ERR_READ_ONLY);
        CHECK(none.ptr == NULL);
        sk_theta_free(c);
    }
    CHECK_STATUS(sk_theta_serialize_updatable(NULL, &img), SK_ERR_INVALID_ARGUMENT);
    sk_theta_free(s);
    sk_theta_free(twin);
    sk_theta_free(r);
}

/* Compact sketches reject every update; copies keep the state. */
static void test_compact_immutable(void) {
    SkTheta *s = range_i64(0, 1000);
    SkBytes b = ser(s, false);
    SkTheta *c = NULL, *cc = NULL, *u = NULL, *sc = NULL;
    CHECK_OK(sk_theta_deserialize(b.ptr, b.len, SEED, &c));
    const SkTheta *one[1] = {s};
    CHECK_OK(sk_theta_union_many(one, 1, 0, SEED, &u));
    CHECK_OK(sk_theta_copy(c, &cc));
    SkTheta *compacts[3] = {c, cc, u};
    int64_t iv[2] = {1, 2};
    uint64_t uv[2] = {1, 2};
    double dv[2] = {1.5, 2.5};
    const int32_t off[3] = {0, 1, 2};
    int k;
    for (k = 0; k < 3; k++) {
        SkTheta *t = compacts[k];
        CHECK_STATUS(sk_theta_update_one_i64(t, 5000), SK_ERR_READ_ONLY);
        CHECK(strstr(sk_last_error(), "compact") != NULL);
        CHECK_STATUS(sk_theta_update_one_u64(t, 5000), SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_one_f64(t, 0.5), SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_one_bytes(t, (const uint8_t *)"ab", 2),
                     SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_i64(t, iv, 2, NULL, NULL), SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_u64(t, uv, 2, NULL, NULL), SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_f64(t, dv, 2, NULL, NULL), SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_numeric(t, iv, 2, SK_DTYPE_I64, NULL, NULL),
                     SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_strings(t, (const uint8_t *)"ab", 2, off, 4, 2, NULL, 0,
                                             NULL, NULL),
                     SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_fixed(t, "ab", 1, 2, SK_FIXED_BYTES, NULL, NULL),
                     SK_ERR_READ_ONLY);
        CHECK_STATUS(sk_theta_update_delimited(t, (const uint8_t *)"a,b", 3, ',', NULL, NULL),
                     SK_ERR_READ_ONLY);
        CHECK(same_sketch(t, s));
    }
    /* a copy of an update sketch is an independent update sketch */
    CHECK_OK(sk_theta_copy(s, &sc));
    CHECK_OK(sk_theta_update_one_i64(sc, 5000));
    CHECK(estimate(sc) == 1001.0 && estimate(s) == 1000.0);

    SkBytes js = {NULL, 0}, jc = {NULL, 0};
    CHECK_OK(sk_theta_to_json(s, &js));
    CHECK_OK(sk_theta_to_json(c, &jc));
    CHECK(js.ptr != NULL && js.len > 2 && js.ptr[0] == '{' && js.ptr[js.len - 1] == '}');
    CHECK(jc.ptr != NULL && jc.len > 2 && jc.ptr[0] == '{' && jc.ptr[jc.len - 1] == '}');
    if (js.ptr != NULL && jc.ptr != NULL) {
        char *a = malloc(js.len + 1), *z = malloc(jc.len + 1);
        memcpy(a, js.ptr, js.len);
        a[js.len] = '\0';
        memcpy(z, jc.ptr, jc.len);
        z[jc.len] = '\0';
        CHECK(strstr(a, "update") != NULL && strstr(z, "compact") != NULL);
        CHECK(strstr(a, "estimate") != NULL && strstr(z, "theta") != NULL);
        free(a);
        free(z);
    }
    sk_bytes_free(js);
    sk_bytes_free(jc);
    CHECK_STATUS(sk_theta_to_json(s, NULL), SK_ERR_INVALID_ARGUMENT);

    sk_bytes_free(b);
    sk_theta_free(s);
    sk_theta_free(c);
    sk_theta_free(cc);
    sk_theta_free(u);
    sk_theta_free(sc);
}

typedef struct {
    int calls, cancel_at, bad_args;
    uint64_t last_done, total;
} Progress;

static int32_t on_progress(void *user, uint64_t done, uint64_t total) {
    Progress *p = (Progress *)user;
    p->calls++;
    if (done <= p->last_done || done > total || (p->total != 0 && total != p->total))
        p->bad_args++;
    p->last_done = done;
    p->total = total;
    return p->cancel_at != 0 && p->calls >= p->cancel_at;
}

static void test_cancel(void) {
    enum { N = 5000000 };
    int64_t *v = malloc(N * sizeof *v);
    size_t i;
    for (i = 0; i < N; i++) v[i] = (int64_t)i;

    /* cancelled at the second call: the sketch holds the first two blocks */
    Progress p = {0, 2, 0, 0, 0};
    SkTheta *s = new_theta(LG_K, 1.0f, SEED), *ref = new_theta(LG_K, 1.0f, SEED);
    CHECK_STATUS(sk_theta_update_i64(s, v, N, on_progress, &p), SK_ERR_CANCELLED);
    CHECK(p.calls == 2 && p.bad_args == 0 && p.total == N &&
          p.last_done == 2 * (uint64_t)SK_PROGRESS_BLOCK);
    CHECK(strstr(sk_last_error(), "cancel") != NULL);
    CHECK_OK(sk_theta_update_i64(ref, v, 2 * (size_t)SK_PROGRESS_BLOCK, NULL, NULL));
    CHECK(same_sketch(s, ref));
    sk_theta_free(s);
    sk_theta_free(ref);

    /* a callback that goes on sees the whole input */
    Progress q = {0, 0, 0, 0, 0};
    s = new_theta(LG_K, 1.0f, SEED);
    CHECK_OK(sk_theta_update_i64(s, v, N, on_progress, &q));
    CHECK(q.calls >= 2 && q.bad_args == 0 && q.last_done <= N);
    CHECK(close_to(s, N));
    sk_theta_free(s);

    /* delimited strings cancel too */
    {
        const size_t ns = 3000000;
        uint8_t *d = malloc(2 * ns);
        for (i = 0; i < ns; i++) d[2 * i] = (uint8_t)('a' + i % 26), d[2 * i + 1] = 0;
        Progress c = {0, 1, 0, 0, 0};
        s = new_theta(LG_K, 1.0f, SEED);
        CHECK_STATUS(sk_theta_update_delimited(s, d, 2 * ns, 0, on_progress, &c),
                     SK_ERR_CANCELLED);
        CHECK(c.calls == 1);
        sk_theta_free(s);
        free(d);
    }
    free(v);
}

static void test_null_handles(void) {
    double e;
    uint32_t r;
    bool b;
    uint64_t seed;
    SkTheta *out = NULL;
    SkBytes bytes = {NULL, 0};
    sk_theta_free(NULL);
    CHECK_STATUS(sk_theta_estimate(NULL, &e), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_lower_bound(NULL, 2, &e), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_upper_bound(NULL, 2, &e), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_theta(NULL, &e), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_num_retained(NULL, &r), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_is_empty(NULL, &b), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_seed(NULL, &seed), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_copy(NULL, &out), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_serialize(NULL, false, &bytes), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_to_json(NULL, &bytes), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_update_one_i64(NULL, 1), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_update_i64(NULL, NULL, 0, NULL, NULL), SK_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL && bytes.ptr == NULL);
    SkTheta *s = new_theta(LG_K, 1.0f, SEED);
    CHECK_STATUS(sk_theta_estimate(s, NULL), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_serialize(s, false, NULL), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_theta_copy(s, NULL), SK_ERR_INVALID_ARGUMENT);
    sk_theta_free(s);
    sk_bytes_free(bytes); /* ptr NULL */
}

int main(void) {
    test_new();
    test_numeric();
    test_strings();
    test_set_operations();
    test_union_images();
    test_images();
    test_update_image();
    test_compact_immutable();
    test_cancel();
    test_null_handles();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
