/*
 * The C reference of sketchbox's bulk update: what this CPU can do for the same work.
 *
 *   gcc -O3 -march=native -pthread -o bulk_reference bulk_reference.c
 *   ./bulk_reference DATA N REPEAT REGS_OUT THETA_OUT
 *
 * DATA holds N little-endian int64 items. Both sketches hash each item as Apache
 * DataSketches (and sketchbox's rust/core/src/hash.rs) does: MurmurHash3_x64_128 of the
 * item's 8 little-endian bytes, seed 9001.
 *
 * - HLL, lg_k 12: the coupon of an item is `value << 26 | (h1 & (2^26 - 1))` with value =
 *   min(leading zeros of h2, 62) + 1; its register is the low lg_k bits of h1 and keeps
 *   the largest value (plus the HIP and KxQ accumulators DataSketches keeps per raise).
 * - Theta, lg_k 12: the QuickSelect update sketch. An item's hash is h1 >> 1; it is kept
 *   if non-zero and below theta, in an open-addressing table that grows by 8x up to 2k
 *   slots and, past 15/16 full, is rebuilt to its k smallest hashes with theta lowered
 *   to the (k+1)-th: the same rules as rust/core/src/theta/table.rs, so the same items
 *   in the same order retain the same hashes and reach the same theta.
 *
 * The bulk loop mirrors sketchbox's (rust/core/src/bulk.rs): the input is cut into
 * sub-blocks; two threads each take half of a sub-block, hash it 256 items at a time
 * (a loop of its own, which gcc vectorises: with AVX-512DQ the 64-bit multiplies become
 * vpmullq, with AVX-512CD the leading-zero count vplzcntq), and keep only the items that
 * might change the sketch as it was at the start of the sub-block (a register below the
 * item's value, a hash below theta); the calling thread then applies the kept items in
 * input order. The result equals updating one item at a time. Each thread prefetches the
 * input 16 KiB ahead of the chunk it hashes: the loop is compute-heavy enough that the
 * hardware prefetcher alone falls behind DRAM latency.
 *
 * Output: one JSON object on stdout (rates are the best of REPEAT runs, each on a fresh
 * sketch, per second of wall time and per second of CPU time of all threads; build with
 * -DTHREADS=1 for one thread); REGS_OUT receives the 2^12 HLL registers (one byte each), THETA_OUT theta
 * then the retained hashes in increasing order (uint64 each), so that a caller can
 * check that sketchbox reached the same state.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SEED 9001ULL
#define LG_K 12
#define CHUNK 256
#ifndef THREADS
#define THREADS 2
#endif
#define SUB_BLOCK (1u << 20)
/* Bytes of input prefetched ahead of the chunk being hashed. */
#define PREFETCH_AHEAD 16384
#define HUGE_PAGE ((size_t)2 << 20)
#define KEY_MASK_26 ((1u << 26) - 1)
#define MAX_THETA 0x7fffffffffffffffULL

/* ---- MurmurHash3_x64_128 of one 8-byte key ---- */

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/* The 16-byte block loop never runs for 8 bytes; the tail mixes the key into h1 only. */
static inline void murmur3_u64(uint64_t key, uint64_t *out1, uint64_t *out2) {
    uint64_t k1 = key * 0x87c37b91114253d5ULL;
    k1 = rotl64(k1, 31);
    k1 *= 0x4cf5ad432745937fULL;
    uint64_t h1 = SEED ^ k1, h2 = SEED;
    h1 ^= 8;
    h2 ^= 8;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    *out1 = h1;
    *out2 = h2;
}

/* ---- the two-thread driver: filter in parallel, apply in order ---- */

typedef void (*filter_fn)(const int64_t *data, size_t lo, size_t hi, const void *state,
                          void *kept, size_t *n_kept);

/* One part of a sub-block and the items its filter kept. */
struct part {
    size_t lo, hi;
    void *kept;
    size_t n_kept;
};

/* The calling thread and THREADS - 1 workers take the parts of a job by number, as long
 * as any is left, so that a worker the OS has not yet scheduled holds nothing up: the
 * calling thread then does its part too (as rayon's work stealing does for sketchbox). */
static struct {
    pthread_t workers[THREADS];
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint job;    /* incremented for each job (and to quit) */
    atomic_uint next;   /* the next part to take */
    atomic_uint done;   /* parts finished */
    int quit;
    struct part parts[THREADS];
    const int64_t *data;
    const void *state;
    filter_fn filter;
} pool;

/* Takes and filters parts of the current job until none is left. */
static void take_parts(void) {
    for (;;) {
        unsigned p = atomic_fetch_add(&pool.next, 1);
        if (p >= THREADS) return;
        struct part *w = &pool.parts[p];
        pool.filter(pool.data, w->lo, w->hi, pool.state, w->kept, &w->n_kept);
        atomic_fetch_add(&pool.done, 1);
    }
}

static void *worker_main(void *arg) {
    (void)arg;
    unsigned seen = 0;
    for (;;) {
        /* Jobs come every few hundred microseconds: spin a little before sleeping. */
        for (int spin = 0; spin < 2000 && atomic_load(&pool.job) == seen; spin++)
            __builtin_ia32_pause();
        pthread_mutex_lock(&pool.lock);
        while (atomic_load(&pool.job) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
        seen = atomic_load(&pool.job);
        int quit = pool.quit;
        pthread_mutex_unlock(&pool.lock);
        if (quit) return NULL;
        take_parts();
    }
}

/* Filters data[lo, hi) in THREADS parts; the kept items are then parts[0].kept,
 * parts[1].kept, ... in input order. */
static void run_parallel(filter_fn filter, const int64_t *data, size_t lo, size_t hi,
                         const void *state) {
    size_t per = (hi - lo + THREADS - 1) / THREADS;
    for (int t = 0; t < THREADS; t++) {
        size_t a = lo + t * per < hi ? lo + t * per : hi;
        size_t b = a + per < hi ? a + per : hi;
        pool.parts[t].lo = a;
        pool.parts[t].hi = b;
        pool.parts[t].n_kept = 0;
    }
    pool.filter = filter;
    pool.data = data;
    pool.state = state;
    atomic_store(&pool.done, 0);
    /* A worker still taking parts of the last job finds none left (next >= THREADS) until
     * this store; the job's fields above are written before it. */
    atomic_store(&pool.next, 0);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add(&pool.job, 1);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    take_parts();
    /* A worker that took a part finishes it; on a busy machine it may have to wait for a
     * processor, so after a short spin this thread yields its own. */
    for (int spin = 0; atomic_load(&pool.done) < THREADS; spin++) {
        if (spin < 2000) __builtin_ia32_pause();
        else sched_yield();
    }
}

static void pool_start(size_t kept_bytes) {
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    atomic_store(&pool.next, THREADS);
    for (int t = 0; t < THREADS; t++) {
        pool.parts[t].kept = malloc(kept_bytes);
        if (!pool.parts[t].kept) {
            perror("malloc");
            exit(1);
        }
    }
    for (int t = 1; t < THREADS; t++) pthread_create(&pool.workers[t], NULL, worker_main, NULL);
}

static void pool_stop(void) {
    pthread_mutex_lock(&pool.lock);
    pool.quit = 1;
    atomic_fetch_add(&pool.job, 1);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int t = 1; t < THREADS; t++) pthread_join(pool.workers[t], NULL);
    for (int t = 0; t < THREADS; t++) free(pool.parts[t].kept);
}

/* The length of the chunk at `in`, `left` items before the end of the part, after
 * prefetching the input PREFETCH_AHEAD bytes past it. Prefetch never faults, so addresses
 * past the input are harmless; they are computed as integers so that no out-of-bounds
 * pointer is formed. */
static inline size_t next_chunk(const int64_t *in, size_t left) {
    uintptr_t a = (uintptr_t)in + PREFETCH_AHEAD;
    for (int line = 0; line < CHUNK * 8; line += 64)
        __builtin_prefetch((const void *)(a + line), 0, 3);
    return left < CHUNK ? left : CHUNK;
}

/* ---- HLL ---- */

struct hll {
    uint8_t regs[1 << LG_K];
    double kxq0, kxq1, hip;
    uint32_t num_zeros;
};

static void hll_filter(const int64_t *data, size_t lo, size_t hi, const void *state,
                       void *kept_v, size_t *n_kept) {
    const uint8_t *regs = ((const struct hll *)state)->regs;
    uint32_t *kept = kept_v;
    size_t n = *n_kept;
    uint32_t coupons[CHUNK];
    for (size_t start = lo; start < hi; start += CHUNK) {
        const int64_t *in = data + start;
        size_t len = next_chunk(in, hi - start);
        for (size_t j = 0; j < len; j++) {
            uint64_t h1, h2;
            murmur3_u64((uint64_t)in[j], &h1, &h2);
            /* clz(h2 | 1) is clz(h2) except for h2 = 0 (64) and 1 (63): both cap to 62. */
            uint32_t lz = (uint32_t)__builtin_clzll(h2 | 1);
            uint32_t value = (lz < 62 ? lz : 62) + 1;
            coupons[j] = (value << 26) | ((uint32_t)h1 & KEY_MASK_26);
        }
        for (size_t j = 0; j < len; j++) {
            uint32_t c = coupons[j];
            if ((c >> 26) > regs[c & ((1u << LG_K) - 1)]) kept[n++] = c;
        }
    }
    *n_kept = n;
}

static inline double inv_pow2(uint32_t v) { return 1.0 / (double)(1ULL << v); }

static void hll_apply(struct hll *s, uint32_t c) {
    uint32_t slot = c & ((1u << LG_K) - 1), value = c >> 26;
    uint32_t old = s->regs[slot];
    if (value <= old) return;
    s->regs[slot] = (uint8_t)value;
    s->hip += (double)(1u << LG_K) / (s->kxq0 + s->kxq1);
    if (old < 32) s->kxq0 -= inv_pow2(old);
    else s->kxq1 -= inv_pow2(old);
    if (value < 32) s->kxq0 += inv_pow2(value);
    else s->kxq1 += inv_pow2(value);
    if (old == 0) s->num_zeros--;
}

static void hll_update(struct hll *s, const int64_t *data, size_t n) {
    memset(s, 0, sizeof *s);
    s->kxq0 = (double)(1u << LG_K);
    s->num_zeros = 1u << LG_K;
    /* Short sub-blocks while most registers are 0 (most items pass), then doubling. */
    size_t sub = (size_t)4 << LG_K;
    for (size_t i = 0; i < n;) {
        size_t hi = i + sub < n ? i + sub : n;
        sub = sub * 2 < SUB_BLOCK ? sub * 2 : SUB_BLOCK;
        run_parallel(hll_filter, data, i, hi, s);
        for (int t = 0; t < THREADS; t++) {
            const uint32_t *kept = pool.parts[t].kept;
            for (size_t j = 0; j < pool.parts[t].n_kept; j++) hll_apply(s, kept[j]);
        }
        i = hi;
    }
}

/* ---- Theta (QuickSelect) ---- */

struct theta {
    uint64_t *slots;
    uint32_t lg_cur, num_entries, capacity;
    uint64_t theta;
};

static uint32_t theta_capacity(uint32_t lg_cur) {
    uint64_t size = 1ULL << lg_cur;
    return (uint32_t)(lg_cur <= LG_K ? size / 2 : size * 15 / 16);
}

static size_t theta_find(const uint64_t *slots, uint32_t lg_size, uint64_t key) {
    uint64_t mask = (1ULL << lg_size) - 1;
    uint64_t stride = 2 * ((key >> lg_size) & 127) + 1;
    uint64_t index = key & mask;
    while (slots[index] != 0 && slots[index] != key) index = (index + stride) & mask;
    return (size_t)index;
}

static void theta_reinsert(struct theta *s, const uint64_t *keys, size_t n, uint32_t lg) {
    free(s->slots);
    s->slots = calloc((size_t)1 << lg, sizeof(uint64_t));
    s->lg_cur = lg;
    s->capacity = theta_capacity(lg);
    for (size_t i = 0; i < n; i++) s->slots[theta_find(s->slots, lg, keys[i])] = keys[i];
}

static inline void swap_u64(uint64_t *x, uint64_t *y) {
    uint64_t t = *x;
    *x = *y;
    *y = t;
}

/* Puts the k-th smallest (from 0) of a[0, n) at a[k], the smaller ones before it
 * (quickselect, Lomuto partition around the middle element). */
static void select_nth(uint64_t *a, size_t n, size_t k) {
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        swap_u64(&a[lo + (hi - lo) / 2], &a[hi - 1]);
        uint64_t pivot = a[hi - 1];
        size_t store = lo;
        for (size_t i = lo; i < hi - 1; i++)
            if (a[i] < pivot) swap_u64(&a[i], &a[store++]);
        swap_u64(&a[store], &a[hi - 1]);
        if (k == store) return;
        if (k < store) hi = store;
        else lo = store + 1;
    }
}

static void theta_grow_or_rebuild(struct theta *s) {
    size_t size = (size_t)1 << s->lg_cur, n = 0;
    uint64_t *live = malloc(s->num_entries * sizeof(uint64_t));
    for (size_t i = 0; i < size; i++)
        if (s->slots[i]) live[n++] = s->slots[i];
    if (s->lg_cur <= LG_K) {
        uint32_t lg_new = s->lg_cur + 3 < LG_K + 1 ? s->lg_cur + 3 : LG_K + 1;
        theta_reinsert(s, live, n, lg_new);
    } else {
        size_t k = (size_t)1 << LG_K;
        select_nth(live, n, k);
        s->theta = live[k];
        theta_reinsert(s, live, k, s->lg_cur);
        s->num_entries = (uint32_t)k;
    }
    free(live);
}

static void theta_insert(struct theta *s, uint64_t key) {
    size_t i = theta_find(s->slots, s->lg_cur, key);
    if (s->slots[i] == key) return;
    s->slots[i] = key;
    if (++s->num_entries > s->capacity) theta_grow_or_rebuild(s);
}

static void theta_filter(const int64_t *data, size_t lo, size_t hi, const void *state,
                         void *kept_v, size_t *n_kept) {
    uint64_t theta = *(const uint64_t *)state;
    uint64_t *kept = kept_v;
    size_t n = *n_kept;
    uint64_t hashes[CHUNK];
    for (size_t start = lo; start < hi; start += CHUNK) {
        const int64_t *in = data + start;
        size_t len = next_chunk(in, hi - start);
        uint64_t min = UINT64_MAX;
        for (size_t j = 0; j < len; j++) {
            uint64_t h1, h2;
            murmur3_u64((uint64_t)in[j], &h1, &h2);
            hashes[j] = h1 >> 1;
            min = hashes[j] < min ? hashes[j] : min;
        }
        if (min >= theta) continue;
        for (size_t j = 0; j < len; j++)
            if (hashes[j] < theta && hashes[j] != 0) kept[n++] = hashes[j];
    }
    *n_kept = n;
}

static void theta_update(struct theta *s, const int64_t *data, size_t n) {
    s->slots = NULL;
    s->num_entries = 0;
    s->theta = MAX_THETA;
    theta_reinsert(s, NULL, 0, 7); /* DataSketches' starting size for lg_k 12, x8 */
    for (size_t i = 0; i < n;) {
        /* About 2k hashes of a sub-block pass a theta of fraction f if it holds 2k / f
         * items (as sketchbox sizes them). */
        double len = 2.0 * (1 << LG_K) / ((double)s->theta / (double)MAX_THETA);
        len = len < 65536 ? 65536 : len > SUB_BLOCK ? SUB_BLOCK : len;
        size_t hi = i + (size_t)len < n ? i + (size_t)len : n;
        uint64_t theta = s->theta;
        run_parallel(theta_filter, data, i, hi, &theta);
        for (int t = 0; t < THREADS; t++) {
            const uint64_t *kept = pool.parts[t].kept;
            for (size_t j = 0; j < pool.parts[t].n_kept; j++)
                if (kept[j] < s->theta) theta_insert(s, kept[j]);
        }
        i = hi;
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* ---- main ---- */

static double clock_s(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Wall and CPU seconds (all threads; waiting threads sleep in the barrier) of one run. */
struct timing {
    double wall, cpu;
};

static void start_timing(struct timing *t) {
    t->wall = clock_s(CLOCK_MONOTONIC);
    t->cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void keep_best(const struct timing *start, struct timing *best) {
    double wall = clock_s(CLOCK_MONOTONIC) - start->wall;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - start->cpu;
    best->wall = wall < best->wall ? wall : best->wall;
    best->cpu = cpu < best->cpu ? cpu : best->cpu;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s DATA N REPEAT REGS_OUT THETA_OUT\n", argv[0]);
        return 2;
    }
    size_t n = strtoull(argv[2], NULL, 10);
    int repeat = atoi(argv[3]);
    if (n == 0 || repeat < 1) {
        fprintf(stderr, "N and REPEAT must be positive\n");
        return 2;
    }
    /* In huge pages where the system gives them on request, as NumPy asks for its large
     * arrays (the input sketchbox reads): fewer TLB misses on a long stream. */
    size_t bytes = (n * 8 + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    int64_t *data = aligned_alloc(HUGE_PAGE, bytes);
#ifdef MADV_HUGEPAGE
    if (data) madvise(data, bytes, MADV_HUGEPAGE);
#endif
    FILE *f = fopen(argv[1], "rb");
    if (!data || !f || fread(data, 8, n, f) != n) {
        fprintf(stderr, "cannot read %zu int64 from %s\n", n, argv[1]);
        return 1;
    }
    fclose(f);
    /* Every item of a sub-block may be kept (the first ones, with all registers 0). */
    pool_start(((size_t)SUB_BLOCK / THREADS + CHUNK) * sizeof(uint64_t));

    static struct hll h;
    struct timing t, hll_best = {1e30, 1e30}, theta_best = {1e30, 1e30};
    for (int r = 0; r < repeat; r++) {
        start_timing(&t);
        hll_update(&h, data, n);
        keep_best(&t, &hll_best);
    }
    struct theta th;
    for (int r = 0; r < repeat; r++) {
        if (r > 0) free(th.slots);
        start_timing(&t);
        theta_update(&th, data, n);
        keep_best(&t, &theta_best);
    }
    pool_stop();

    FILE *out = fopen(argv[4], "wb");
    if (!out || fwrite(h.regs, 1, sizeof h.regs, out) != sizeof h.regs || fclose(out)) {
        fprintf(stderr, "cannot write %s\n", argv[4]);
        return 1;
    }
    size_t size = (size_t)1 << th.lg_cur, m = 0;
    uint64_t *retained = malloc((th.num_entries + 1) * sizeof(uint64_t));
    retained[m++] = th.theta;
    for (size_t i = 0; i < size; i++)
        if (th.slots[i]) retained[m++] = th.slots[i];
    qsort(retained + 1, m - 1, sizeof(uint64_t), cmp_u64);
    out = fopen(argv[5], "wb");
    if (!out || fwrite(retained, 8, m, out) != m || fclose(out)) {
        fprintf(stderr, "cannot write %s\n", argv[5]);
        return 1;
    }
#if defined(__AVX512DQ__)
    const char *isa = "avx512";
#elif defined(__AVX2__)
    const char *isa = "avx2";
#else
    const char *isa = "baseline";
#endif
    printf("{\"isa\": \"%s\", \"threads\": %d, \"items\": %zu, "
           "\"hll_items_per_s\": %.6e, \"hll_items_per_cpu_s\": %.6e, "
           "\"hll_estimate_hip\": %.17g, \"theta_items_per_s\": %.6e, "
           "\"theta_items_per_cpu_s\": %.6e, \"theta_estimate\": %.17g, \"theta\": %llu, "
           "\"theta_retained\": %u}\n",
           isa, THREADS, n, (double)n / hll_best.wall, (double)n / hll_best.cpu, h.hip,
           (double)n / theta_best.wall, (double)n / theta_best.cpu,
           (double)th.num_entries / ((double)th.theta / (double)MAX_THETA),
           (unsigned long long)th.theta, th.num_entries);
    free(retained);
    free(th.slots);
    free(data);
    return 0;
}
