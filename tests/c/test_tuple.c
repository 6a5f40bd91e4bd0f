/* The tuple-sketch entry points of sketchbox.h from C: keys with values (bulk numeric,
 * strings, one at a time), Spark's summaries, bounds, set operations with tuple and
 * Theta operands, images, compact immutability and argument errors. Plain C99; prints
 * "N passed, M failed" last and exits non-zero on failure. Built and run (plain and
 * under valgrind) by tests/c/run.sh. */
#include "sketchbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define SEED 9001u

static SkTuple *new_tuple(int32_t summary, int32_t mode) {
    SkTuple *t = NULL;
    if (sk_tuple_new(summary, 12, mode, SEED, &t) != SK_OK || t == NULL) {
        printf("FATAL: sk_tuple_new: %s\n", sk_last_error());
        exit(2);
    }
    return t;
}

static double estimate(const SkTuple *t) {
    double e = -1.0;
    CHECK_OK(sk_tuple_estimate(t, &e));
    return e;
}

static double dsum(const SkTuple *t, int32_t mode) {
    double s = NAN;
    CHECK_OK(sk_tuple_summary_double(t, mode, &s));
    return s;
}

/* Keys lo..hi-1, value key % 10 each, in one bulk call. */
static SkTuple *range_double(int64_t lo, int64_t hi, int32_t mode) {
    SkTuple *t = new_tuple(SK_TUPLE_DOUBLE, mode);
    size_t n = (size_t)(hi - lo), i;
    int64_t *k = malloc(n * sizeof *k);
    double *v = malloc(n * sizeof *v);
    for (i = 0; i < n; i++) {
        k[i] = lo + (int64_t)i;
        v[i] = (double)(k[i] % 10);
    }
    CHECK_OK(sk_tuple_update_i64(t, k, n, v, SK_DTYPE_F64, NULL, NULL));
    free(k);
    free(v);
    return t;
}

static void test_updates_and_summaries(void) {
    SkTuple *bulk = range_double(0, 100, SK_TUPLE_SUM);
    SkTuple *one = new_tuple(SK_TUPLE_DOUBLE, SK_TUPLE_SUM);
    int64_t k;
    for (k = 0; k < 100; k++) CHECK_OK(sk_tuple_update_one_i64(one, k, (double)(k % 10)));
    CHECK(estimate(bulk) == 100.0 && estimate(one) == 100.0);
    CHECK(dsum(bulk, SK_TUPLE_SUM) == 450.0 && dsum(one, SK_TUPLE_SUM) == 450.0);
    CHECK(dsum(bulk, SK_TUPLE_MAX) == 9.0 && dsum(bulk, SK_TUPLE_ALWAYSONE) == 100.0);
    SkBytes a = {NULL, 0}, b = {NULL, 0};
    CHECK_OK(sk_tuple_serialize(bulk, &a));
    CHECK_OK(sk_tuple_serialize(one, &b));
    CHECK(a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0);
    sk_bytes_free(a);
    sk_bytes_free(b);

    /* Strings in Arrow layout: "a", "", "b", "a" with int32 values; the empty key and
     * its value are skipped. */
    SkTuple *ints = new_tuple(SK_TUPLE_INTEGER, SK_TUPLE_SUM);
    const char *data = "aba";
    int32_t offsets[5] = {0, 1, 1, 2, 3};
    int32_t values[4] = {1, 100, 2, 4};
    CHECK_OK(sk_tuple_update_strings(ints, (const uint8_t *)data, 3, offsets, 4, 4, NULL, 0,
                                     values, SK_DTYPE_I32, NULL, NULL));
    int64_t isum = 0;
    CHECK_OK(sk_tuple_summary_integer(ints, SK_TUPLE_SUM, &isum));
    CHECK(isum == 7 && estimate(ints) == 2.0);
    /* Wrong value dtype, wrong summary query, a non-int32 one-item value. */
    CHECK_STATUS(sk_tuple_update_strings(ints, (const uint8_t *)data, 3, offsets, 4, 4, NULL,
                                         0, values, SK_DTYPE_F64, NULL, NULL),
                 SK_ERR_INVALID_ARGUMENT);
    double d = 0.0;
    CHECK_STATUS(sk_tuple_summary_double(ints, SK_TUPLE_SUM, &d), SK_ERR_INCOMPATIBLE);
    CHECK_STATUS(sk_tuple_update_one_bytes(ints, (const uint8_t *)"c", 1, 0.5),
                 SK_ERR_INVALID_ARGUMENT);
    sk_tuple_free(bulk);
    sk_tuple_free(one);
    sk_tuple_free(ints);
}

static void test_estimation_mode(void) {
    SkTuple *t = range_double(0, 200000, SK_TUPLE_SUM);
    double e = estimate(t), lb = -1.0, ub = -1.0, theta = 2.0;
    CHECK_OK(sk_tuple_lower_bound(t, 3, &lb));
    CHECK_OK(sk_tuple_upper_bound(t, 3, &ub));
    CHECK_OK(sk_tuple_theta(t, &theta));
    CHECK(theta < 1.0 && fabs(e - 200000.0) <= 3.0 / 64.0 * 200000.0);
    CHECK(lb <= 200000.0 && 200000.0 <= ub);
    sk_tuple_free(t);
}

static void test_set_operations_and_images(void) {
    SkTuple *a = range_double(0, 60, SK_TUPLE_SUM), *b = range_double(40, 100, SK_TUPLE_SUM);
    SkTheta *th = NULL;
    CHECK_OK(sk_theta_new(12, 1.0f, SEED, &th));
    int64_t k;
    for (k = 50; k < 150; k++) CHECK_OK(sk_theta_update_one_i64(th, k));
    const SkTuple *pair[2] = {a, b};
    SkTuple *u = NULL, *i = NULL, *d = NULL, *ut = NULL, *dt = NULL;
    CHECK_OK(sk_tuple_union_many(pair, NULL, 2, 0, SK_TUPLE_SUM, SEED, &u));
    CHECK_OK(sk_tuple_intersection_many(pair, NULL, 2, SK_TUPLE_SUM, SEED, &i));
    CHECK_OK(sk_tuple_a_not_b(a, b, NULL, SEED, &d));
    const SkTuple *with_theta[2] = {a, NULL};
    const SkTheta *thetas[2] = {NULL, th};
    CHECK_OK(sk_tuple_union_many(with_theta, thetas, 2, 12, SK_TUPLE_SUM, SEED, &ut));
    CHECK_OK(sk_tuple_a_not_b(a, NULL, th, SEED, &dt));
    CHECK(estimate(u) == 100.0 && estimate(i) == 20.0 && estimate(d) == 40.0);
    CHECK(estimate(ut) == 150.0 && estimate(dt) == 50.0);
    CHECK(dsum(i, SK_TUPLE_SUM) == 180.0); /* keys 40..59 twice: 2 * 90 */
    CHECK_STATUS(sk_tuple_update_one_i64(u, 1, 1.0), SK_ERR_READ_ONLY);

    SkBytes img = {NULL, 0}, again = {NULL, 0};
    SkTuple *back = NULL;
    CHECK_OK(sk_tuple_serialize(u, &img));
    CHECK_OK(sk_tuple_deserialize(img.ptr, img.len, SK_TUPLE_DOUBLE, -1, SEED, &back));
    CHECK_OK(sk_tuple_serialize(back, &again));
    CHECK(img.len == again.len && memcmp(img.ptr, again.ptr, img.len) == 0);
    CHECK_STATUS(sk_tuple_deserialize(img.ptr, img.len, SK_TUPLE_INTEGER, -1, SEED, &back),
                 SK_ERR_CORRUPT_DATA);
    CHECK_STATUS(sk_tuple_deserialize(img.ptr, img.len - 1, SK_TUPLE_DOUBLE, -1, SEED, &back),
                 SK_ERR_CORRUPT_DATA);
    const uint8_t *ptrs[1] = {img.ptr};
    size_t lens[1] = {img.len};
    SkTuple *ui = NULL;
    CHECK_OK(sk_tuple_union_images(ptrs, lens, 1, SK_TUPLE_DOUBLE, 0, SK_TUPLE_SUM, SEED, &ui));
    CHECK(estimate(ui) == 100.0);
    SkBytes json = {NULL, 0};
    CHECK_OK(sk_tuple_to_json(ui, &json));
    CHECK(json.len > 0 && memchr(json.ptr, '{', json.len) != NULL);
    sk_bytes_free(json);
    sk_bytes_free(img);
    sk_bytes_free(again);
    SkTuple *all[] = {a, b, u, i, d, ut, dt, back, ui};
    size_t j;
    for (j = 0; j < sizeof all / sizeof all[0]; j++) sk_tuple_free(all[j]);
    sk_theta_free(th);
}

/* An update sketch brought back from its compact image (what unpickling does): the
 * same answers, and further updates continue as in the original. */
static void test_restore_update(void) {
    SkTuple *t = range_double(0, 20000, SK_TUPLE_SUM), *compact = NULL, *back = NULL;
    SkBytes img = {0};
    CHECK_OK(sk_tuple_serialize(t, &img));
    CHECK_OK(sk_tuple_deserialize(img.ptr, img.len, SK_TUPLE_DOUBLE, -1, SEED, &compact));
    CHECK_STATUS(sk_tuple_restore_update(compact, 3, &back), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_tuple_restore_update(t, 12, &back), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_tuple_restore_update(NULL, 12, &back), SK_ERR_INVALID_ARGUMENT);
    CHECK(back == NULL);
    CHECK_OK(sk_tuple_restore_update(compact, 12, &back));
    uint8_t lg = 0;
    CHECK_OK(sk_tuple_lg_k(back, &lg));
    CHECK(lg == 12 && estimate(back) == estimate(t));
    for (int64_t k = 20000; k < 30000; k++) {
        CHECK_OK(sk_tuple_update_one_i64(t, k, 1.0));
        CHECK_OK(sk_tuple_update_one_i64(back, k, 1.0));
    }
    CHECK(estimate(back) == estimate(t) && dsum(back, SK_TUPLE_SUM) == dsum(t, SK_TUPLE_SUM));
    CHECK_STATUS(sk_tuple_update_one_i64(compact, 1, 1.0), SK_ERR_READ_ONLY);
    sk_bytes_free(img);
    sk_tuple_free(t);
    sk_tuple_free(compact);
    sk_tuple_free(back);
}

static void test_arguments(void) {
    SkTuple *out = NULL;
    double d;
    CHECK_STATUS(sk_tuple_new(3, 12, SK_TUPLE_SUM, SEED, &out), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_tuple_new(SK_TUPLE_DOUBLE, 3, SK_TUPLE_SUM, SEED, &out),
                 SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_tuple_new(SK_TUPLE_DOUBLE, 12, 4, SEED, &out), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_tuple_estimate(NULL, &d), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_tuple_intersection_many(NULL, NULL, 0, SK_TUPLE_SUM, SEED, &out),
                 SK_ERR_INVALID_ARGUMENT);
    CHECK(out == NULL);
    sk_tuple_free(NULL);
}

int main(void) {
    test_updates_and_summaries();
    test_estimation_mode();
    test_set_operations_and_images();
    test_restore_update();
    test_arguments();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
