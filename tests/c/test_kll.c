/* The KLL entry points of sketchbox.h from C: status codes, out-pointers, caller-owned
 * query arrays, images, cancellation and NULL handling. Prints "N passed, M failed". */
#include "sketchbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static int32_t cancel_at_second(void *user, uint64_t done, uint64_t total) {
    int *calls = (int *)user;
    (void)done;
    (void)total;
    return ++*calls >= 2;
}

int main(void) {
    enum { N = 5000000 };
    double *data = malloc(N * sizeof(double));
    uint64_t i;
    for (i = 0; i < N; i++) data[i] = (double)((i * 7919u) % N);

    SkKll *s = NULL;
    CHECK(sk_kll_new(200, SK_KLL_F64, &s) == SK_OK && s != NULL);
    CHECK(sk_kll_update_f64(s, data, N, NULL, NULL) == SK_OK);
    uint64_t n = 0;
    CHECK(sk_kll_n(s, &n) == SK_OK && n == N);
    double lo, hi;
    CHECK(sk_kll_min(s, &lo) == SK_OK && lo == 0.0);
    CHECK(sk_kll_max(s, &hi) == SK_OK && hi == N - 1);

    /* bulk queries into caller-owned arrays */
    double ranks[101], q[101], back[101];
    for (i = 0; i <= 100; i++) ranks[i] = i / 100.0;
    CHECK(sk_kll_quantiles(s, ranks, 101, true, q) == SK_OK);
    double eps = 0;
    CHECK(sk_kll_normalized_rank_error(s, false, &eps) == SK_OK && eps > 0.013 && eps < 0.0134);
    int within = 1;
    for (i = 0; i <= 100; i++) within &= fabs(q[i] / N - ranks[i]) <= eps + 1e-6;
    CHECK(within);
    CHECK(sk_kll_ranks(s, q, 101, true, back) == SK_OK);
    double cdf[4], pmf[4], splits[3] = {1e6, 2e6, 4e6};
    CHECK(sk_kll_cdf(s, splits, 3, true, cdf) == SK_OK && cdf[3] == 1.0);
    CHECK(sk_kll_pmf(s, splits, 3, true, pmf) == SK_OK);
    CHECK(fabs(pmf[0] + pmf[1] + pmf[2] + pmf[3] - 1.0) < 1e-12);
    double one;
    CHECK(sk_kll_quantile(s, 0.5, false, &one) == SK_OK && fabs(one / N - 0.5) <= eps);
    CHECK(sk_kll_rank(s, 2.5e6, true, &one) == SK_OK && fabs(one - 0.5) <= eps);

    /* bad arguments leave outputs alone */
    double bad_ranks[2] = {0.5, 1.5};
    q[0] = -7.0;
    CHECK(sk_kll_quantiles(s, bad_ranks, 2, true, q) == SK_ERR_INVALID_ARGUMENT && q[0] == -7.0);
    double unsorted[2] = {2.0, 1.0};
    CHECK(sk_kll_cdf(s, unsorted, 2, true, cdf) == SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_kll_quantile(s, NAN, true, &one) == SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_kll_quantiles(s, ranks, 3, true, NULL) == SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_kll_new(7, SK_KLL_F64, &s) == SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_kll_new(65536, SK_KLL_F64, &s) == SK_ERR_INVALID_ARGUMENT);
    CHECK(sk_kll_new(200, 5, &s) == SK_ERR_INVALID_ARGUMENT);

    /* parameters */
    uint32_t k = 0, min_k = 0;
    SkKllType t = SK_KLL_F32;
    CHECK(sk_kll_params(s, &k, &min_k, &t) == SK_OK && k == 200 && min_k == 200 && t == SK_KLL_F64);
    CHECK(sk_kll_params(s, NULL, NULL, NULL) == SK_OK);

    /* images */
    SkBytes img = {NULL, 0};
    CHECK(sk_kll_serialize(s, &img) == SK_OK && img.len > 20);
    SkKll *r = NULL;
    CHECK(sk_kll_deserialize(img.ptr, img.len, SK_KLL_F64, &r) == SK_OK);
    SkBytes img2 = {NULL, 0};
    CHECK(sk_kll_serialize(r, &img2) == SK_OK && img2.len == img.len &&
          memcmp(img.ptr, img2.ptr, img.len) == 0);
    CHECK(sk_kll_deserialize(img.ptr, img.len - 1, SK_KLL_F64, &r) == SK_ERR_CORRUPT_DATA);
    sk_bytes_free(img);
    sk_bytes_free(img2);
    SkBytes json = {NULL, 0};
    CHECK(sk_kll_to_json(r, &json) == SK_OK && json.len > 0 && json.ptr[0] == '{');
    sk_bytes_free(json);

    /* item types do not mix */
    SkKll *f = NULL;
    CHECK(sk_kll_new_seeded(200, SK_KLL_F32, 42, &f) == SK_OK);
    CHECK(sk_kll_update_f64(f, data, 10, NULL, NULL) == SK_ERR_INVALID_ARGUMENT);
    float fl[3] = {1.5f, 2.5f, NAN};
    CHECK(sk_kll_update_f32(f, fl, 3, NULL, NULL) == SK_OK);
    CHECK(sk_kll_update_one(f, 3.5) == SK_OK);
    CHECK(sk_kll_n(f, &n) == SK_OK && n == 3);
    CHECK(sk_kll_merge(s, f) == SK_ERR_INCOMPATIBLE);
    CHECK(sk_kll_merge(r, s) == SK_OK && sk_kll_n(r, &n) == SK_OK && n == 2 * (uint64_t)N);

    /* empty sketches answer no quantile */
    SkKll *e = NULL;
    CHECK(sk_kll_new(200, SK_KLL_F64, &e) == SK_OK);
    CHECK(sk_kll_quantile(e, 0.5, true, &one) == SK_ERR_EMPTY);
    CHECK(strstr(sk_last_error(), "empty") != NULL);
    CHECK(sk_kll_min(e, &one) == SK_ERR_EMPTY);
    CHECK(sk_kll_max(e, &one) == SK_ERR_EMPTY);
    CHECK(sk_kll_rank(e, 1.0, true, &one) == SK_ERR_EMPTY);
    CHECK(sk_kll_cdf(e, &one, 1, true, cdf) == SK_ERR_EMPTY);

    /* any numeric column, converted to the sketch's item type */
    {
        const int32_t i32s[5] = {5, 1, 4, 2, 3};
        const uint8_t bools[3] = {0, 1, 7};
        SkKll *c = NULL;
        CHECK(sk_kll_new_seeded(200, SK_KLL_F32, 1, &c) == SK_OK);
        CHECK(sk_kll_update_numeric(c, i32s, 5, SK_DTYPE_I32, NULL, NULL) == SK_OK);
        CHECK(sk_kll_update_numeric(c, bools, 3, SK_DTYPE_BOOL, NULL, NULL) == SK_OK);
        CHECK(sk_kll_n(c, &n) == SK_OK && n == 8);
        CHECK(sk_kll_max(c, &one) == SK_OK && one == 5.0);
        CHECK(sk_kll_min(c, &one) == SK_OK && one == 0.0);
        CHECK(sk_kll_quantile(c, 0.5, true, &one) == SK_OK && one == 1.0);
        CHECK(sk_kll_update_numeric(c, i32s, 5, 99, NULL, NULL) == SK_ERR_INVALID_ARGUMENT);
        CHECK(strstr(sk_last_error(), "dtype") != NULL);
        CHECK(sk_kll_update_numeric(c, (const char *)i32s + 1, 2, SK_DTYPE_I32, NULL, NULL) ==
              SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_n(c, &n) == SK_OK && n == 8);
        sk_kll_free(c);
    }

    /* int64 sketches (Java's KllLongsSketch): exact int64 items through the _i64 calls */
    {
        const int64_t big = INT64_C(1) << 60;
        int64_t longs[1000];
        for (i = 0; i < 1000; i++) longs[i] = big + (int64_t)((i * 7919u) % 1000);
        SkKll *l = NULL;
        CHECK(sk_kll_new_seeded(1000, SK_KLL_I64, 3, &l) == SK_OK);
        CHECK(sk_kll_update_i64(l, longs, 1000, NULL, NULL) == SK_OK);
        CHECK(sk_kll_update_one_i64(l, big - 1) == SK_OK);
        int64_t lo64 = 0, hi64 = 0, q64[3] = {0, 0, 0};
        CHECK(sk_kll_min_i64(l, &lo64) == SK_OK && lo64 == big - 1);
        CHECK(sk_kll_max_i64(l, &hi64) == SK_OK && hi64 == big + 999);
        double r3[3] = {0.0, 0.5, 1.0};
        CHECK(sk_kll_quantiles_i64(l, r3, 3, true, q64) == SK_OK && q64[0] == big - 1 &&
              q64[1] == big + 499 && q64[2] == big + 999);
        int64_t probe[2] = {big - 1, big + 999};
        double pr[2], cdf3[3];
        CHECK(sk_kll_ranks_i64(l, probe, 2, true, pr) == SK_OK && pr[0] == 1.0 / 1001 &&
              pr[1] == 1.0);
        CHECK(sk_kll_cdf_i64(l, probe, 2, false, cdf3) == SK_OK && cdf3[0] == 0.0 &&
              cdf3[2] == 1.0);
        CHECK(sk_kll_pmf_i64(l, probe, 2, true, cdf3) == SK_OK && cdf3[0] == 1.0 / 1001);
        /* the double calls refuse an int64 sketch, naming the call to use, and back */
        CHECK(sk_kll_quantile(l, 0.5, true, &one) == SK_ERR_INVALID_ARGUMENT);
        CHECK(strstr(sk_last_error(), "sk_kll_quantiles_i64") != NULL);
        CHECK(sk_kll_min(l, &one) == SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_update_one(l, 1.0) == SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_update_f64(l, data, 3, NULL, NULL) == SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_quantiles_i64(s, r3, 3, true, q64) == SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_update_i64(s, longs, 3, NULL, NULL) == SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_merge(l, s) == SK_ERR_INCOMPATIBLE);
        /* integer columns convert exactly; floats and uint64 >= 2^63 are refused whole */
        const uint64_t too_big[2] = {1, UINT64_C(1) << 63};
        CHECK(sk_kll_update_numeric(l, too_big, 2, SK_DTYPE_U64, NULL, NULL) ==
              SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_update_numeric(l, data, 2, SK_DTYPE_F64, NULL, NULL) ==
              SK_ERR_INVALID_ARGUMENT);
        CHECK(sk_kll_n(l, &n) == SK_OK && n == 1001);
        SkBytes li = {NULL, 0};
        SkKll *l2 = NULL;
        CHECK(sk_kll_serialize(l, &li) == SK_OK);
        CHECK(sk_kll_deserialize(li.ptr, li.len, SK_KLL_I64, &l2) == SK_OK);
        CHECK(sk_kll_max_i64(l2, &hi64) == SK_OK && hi64 == big + 999);
        sk_bytes_free(li);
        sk_kll_free(l2);
        sk_kll_free(l);
    }

    /* cancellation leaves a prefix: the completed blocks */
    int calls = 0;
    CHECK(sk_kll_update_f64(e, data, N, cancel_at_second, &calls) == SK_ERR_CANCELLED);
    CHECK(sk_kll_n(e, &n) == SK_OK && n == 2 * (uint64_t)SK_PROGRESS_BLOCK);

    SkKll *c = NULL;
    CHECK(sk_kll_copy(f, &c) == SK_OK && sk_kll_n(c, &n) == SK_OK && n == 3);

    sk_kll_free(s);
    sk_kll_free(r);
    sk_kll_free(f);
    sk_kll_free(e);
    sk_kll_free(c);
    sk_kll_free(NULL);
    CHECK(sk_kll_n(NULL, &n) == SK_ERR_INVALID_ARGUMENT);
    free(data);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
