/*
 * count_distinct: estimates the number of distinct lines on stdin with a sketchbox
 * HyperLogLog sketch, through the C ABI of include/sketchbox.h.
 *
 * Build against an installed sketchbox (header and libsketchbox.so ship inside the
 * Python package):
 *
 *   INC=$(python -c 'import sketchbox; print(sketchbox.get_include())')
 *   LIB=$(dirname "$(python -c 'import sketchbox; print(sketchbox.get_library_path())')")
 *   gcc -std=c99 -Wall -Wextra -Werror -I"$INC" count_distinct.c \
 *       -L"$LIB" -lsketchbox -Wl,-rpath,"$LIB" -o count_distinct
 *
 * (or `make` in this folder, which does the same with $(PYTHON), default python3).
 *
 * Usage: count_distinct [lg_k] < lines
 *   lg_k: 4..21, default 12 (2^lg_k registers; about 1.3% standard error at 12).
 * Each line, without its "\n" or "\r\n", is one item (its bytes as they are, hashed
 * like a Python str or bytes of the same UTF-8 bytes); empty lines are not items.
 * Prints "estimate lower_bound upper_bound" with the bounds at 2 standard deviations,
 * e.g. `seq 1 100000 | ./count_distinct` prints
 *   98816.718407965294 96299.611242423562 101410.0672057405
 * All three are printed with 17 significant digits, so they read back as the exact
 * doubles sketchbox computed (the estimate equals Python's
 * sketchbox.HyperLogLog(12).update(lines).estimate() for the same lines as str).
 */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sketchbox.h"

/* Prints the library's message for a failed call and returns 1 (the exit status). */
static int fail(const char *what, int32_t status) {
    fprintf(stderr, "count_distinct: %s failed (status %d): %s\n", what, (int)status,
            sk_last_error());
    return 1;
}

int main(int argc, char **argv) {
    unsigned long lg_k = 12;
    if (argc > 2) {
        fprintf(stderr, "usage: %s [lg_k] < lines\n", argv[0]);
        return 2;
    }
    if (argc == 2) {
        char *end = NULL;
        errno = 0;
        lg_k = strtoul(argv[1], &end, 10);
        /* Range-checked by the library; only reject what does not fit an int32_t. */
        if (errno != 0 || end == argv[1] || *end != '\0' || lg_k > INT32_MAX) {
            fprintf(stderr, "count_distinct: lg_k must be an integer in 4..21, got '%s'\n",
                    argv[1]);
            return 2;
        }
    }

    SkHll *sketch = NULL;
    int32_t st = sk_hll_new((int32_t)lg_k, SK_HLL_8, &sketch);
    if (st != SK_OK) return fail("sk_hll_new", st);

    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    errno = 0;
    while ((n = getline(&line, &cap, stdin)) != -1) {
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            len--;
            if (len > 0 && line[len - 1] == '\r') len--;
        }
        st = sk_hll_update_one_bytes(sketch, (const uint8_t *)line, len);
        if (st != SK_OK) {
            rc = fail("sk_hll_update_one_bytes", st);
            break;
        }
    }
    if (rc == 0 && ferror(stdin)) {
        perror("count_distinct: reading stdin");
        rc = 1;
    }
    free(line);

    double estimate = 0.0, lower = 0.0, upper = 0.0;
    if (rc == 0 && (st = sk_hll_estimate(sketch, &estimate)) != SK_OK)
        rc = fail("sk_hll_estimate", st);
    if (rc == 0 && (st = sk_hll_lower_bound(sketch, 2, &lower)) != SK_OK)
        rc = fail("sk_hll_lower_bound", st);
    if (rc == 0 && (st = sk_hll_upper_bound(sketch, 2, &upper)) != SK_OK)
        rc = fail("sk_hll_upper_bound", st);
    if (rc == 0 && printf("%.17g %.17g %.17g\n", estimate, lower, upper) < 0) {
        perror("count_distinct: writing stdout");
        rc = 1;
    }
    sk_hll_free(sketch);
    if (rc == 0 && fflush(stdout) != 0) {
        perror("count_distinct: writing stdout");
        rc = 1;
    }
    return rc;
}
