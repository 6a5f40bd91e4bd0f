/* The frequent-items entry points of sketchbox.h from C: bulk and one-item updates with
 * weights, the guarantee on every item, the two update orders, top rows, images, the
 * two int64 orders merging, and the errors a caller must tell apart. Plain C99; prints
 * "N passed, M failed" last and exits non-zero on failure. Built and run (plain and
 * under valgrind) by tests/c/run.sh. */
#include "sketchbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define N 20000
#define DISTINCT 997

static SkFrequent *new_sketch(int32_t lg, int32_t type) {
    SkFrequent *f = NULL;
    if (sk_frequent_new(lg, type, &f) != SK_OK || f == NULL) {
        printf("FATAL: sk_frequent_new: %s\n", sk_last_error());
        exit(2);
    }
    return f;
}

static int same_image(const SkFrequent *a, const SkFrequent *b) {
    SkBytes x = {0}, y = {0};
    int same;
    CHECK_OK(sk_frequent_serialize(a, &x));
    CHECK_OK(sk_frequent_serialize(b, &y));
    same = x.len == y.len && memcmp(x.ptr, y.ptr, x.len) == 0;
    sk_bytes_free(x);
    sk_bytes_free(y);
    return same;
}

/* A skewed stream: item i % 7 == 0 is one of 5 heavy values, else one of DISTINCT. */
static void make_stream(int32_t *items, uint64_t *weights, uint64_t *truth) {
    int i;
    memset(truth, 0, DISTINCT * sizeof *truth);
    for (i = 0; i < N; i++) {
        items[i] = i % 7 == 0 ? i % 5 : (int32_t)(((int64_t)i * 7919) % DISTINCT);
        weights[i] = (uint64_t)(i % 3);
        truth[items[i]] += weights[i];
    }
}

static void test_bulk_orders_and_bounds(void) {
    static int32_t items[N];
    static uint64_t weights[N], truth[DISTINCT];
    SkFrequent *combined = new_sketch(6, SK_FREQ_I64), *ordered = new_sketch(6, SK_FREQ_I64);
    SkFrequent *one = new_sketch(6, SK_FREQ_I64);
    SkFrequentStats st;
    bool in_order = true;
    int i, ok = 1;
    make_stream(items, weights, truth);
    CHECK_OK(sk_frequent_in_order(combined, &in_order));
    CHECK(!in_order);
    CHECK_OK(sk_frequent_set_in_order(ordered, true));
    CHECK_OK(sk_frequent_in_order(ordered, &in_order));
    CHECK(in_order);
    CHECK_OK(sk_frequent_update_numeric(combined, items, N, SK_DTYPE_I32, weights, NULL, NULL));
    CHECK_OK(sk_frequent_update_numeric(ordered, items, N, SK_DTYPE_I32, weights, NULL, NULL));
    for (i = 0; i < N; i++) CHECK_OK(sk_frequent_update_one_i64(one, items[i], weights[i]));
    /* In order: the bytes of one-item updates; combined: another sketch, same bounds. */
    CHECK(same_image(ordered, one));
    CHECK(!same_image(combined, one));
    for (i = 0; i < DISTINCT && ok; i++) {
        uint64_t est, lo, hi;
        CHECK_OK(sk_frequent_estimate_i64(combined, i, &est, &lo, &hi));
        ok = lo <= truth[i] && truth[i] <= hi && lo <= est && est <= hi;
    }
    CHECK(ok);
    CHECK_OK(sk_frequent_stats(combined, &st));
    CHECK(st.maximum_error > 0 && st.item_type == SK_FREQ_I64 && st.lg_max_map_size == 6);
    /* Combining purges subtract at most total / r, r = half the 48 counters. */
    CHECK(st.maximum_error <= st.total_weight / 24);
    sk_frequent_free(combined);
    sk_frequent_free(ordered);
    sk_frequent_free(one);
}

static void test_top_images_and_merges(void) {
    SkFrequent *f = new_sketch(8, SK_FREQ_I64), *back = NULL, *java = NULL, *copy = NULL;
    SkFrequent *str = new_sketch(8, SK_FREQ_STR);
    SkBytes top = {0}, img = {0};
    int64_t i;
    uint64_t n, first_estimate, first_item;
    for (i = 0; i < 100; i++) CHECK_OK(sk_frequent_update_one_i64(f, i % 10, (uint64_t)(i % 10)));
    CHECK_OK(sk_frequent_top(f, false, 0, &top));
    memcpy(&n, top.ptr, 8);
    memcpy(&first_estimate, top.ptr + 8, 8);
    memcpy(&first_item, top.ptr + 8 + 24 * n, 8);
    CHECK(n == 9 && first_estimate == 90 && first_item == 9); /* item 0 weighs 0 */
    sk_bytes_free(top);
    CHECK_OK(sk_frequent_serialize(f, &img));
    CHECK_OK(sk_frequent_deserialize(img.ptr, img.len, SK_FREQ_I64, &back));
    CHECK(same_image(f, back));
    /* Spark's order reads the same image; the orders merge both ways. */
    CHECK_OK(sk_frequent_deserialize(img.ptr, img.len, SK_FREQ_JAVA_I64, &java));
    CHECK_OK(sk_frequent_merge(back, java));
    CHECK_OK(sk_frequent_merge(java, f));
    {
        uint64_t est, lo, hi;
        CHECK_OK(sk_frequent_estimate_i64(java, 9, &est, &lo, &hi));
        CHECK(est == 180 && lo == 180 && hi == 180);
        CHECK_OK(sk_frequent_estimate_i64(back, 9, &est, &lo, &hi));
        CHECK(est == 180);
    }
    /* Bytes cut short, another item type, wrong inputs: statuses, nothing changed. */
    CHECK_STATUS(sk_frequent_deserialize(img.ptr, img.len - 3, SK_FREQ_I64, &copy),
                 SK_ERR_CORRUPT_DATA);
    CHECK(copy == NULL);
    CHECK_STATUS(sk_frequent_merge(f, str), SK_ERR_INCOMPATIBLE);
    CHECK_STATUS(sk_frequent_update_one_str(str, (const uint8_t *)"\xff\xfe", 2, 1),
                 SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_frequent_update_one_i64(str, 1, 1), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_frequent_new(27, SK_FREQ_I64, &copy), SK_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(sk_frequent_new(8, 9, &copy), SK_ERR_INVALID_ARGUMENT);
    CHECK(copy == NULL);
    CHECK_OK(sk_frequent_update_one_str(str, (const uint8_t *)"caf\xc3\xa9", 5, 3));
    {
        uint64_t est, lo, hi;
        CHECK_OK(sk_frequent_estimate_str(str, (const uint8_t *)"caf\xc3\xa9", 5, &est, &lo, &hi));
        CHECK(est == 3);
    }
    sk_bytes_free(img);
    sk_frequent_free(f);
    sk_frequent_free(back);
    sk_frequent_free(java);
    sk_frequent_free(str);
    sk_frequent_free(NULL);
}

int main(void) {
    test_bulk_orders_and_bounds();
    test_top_images_and_merges();
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
