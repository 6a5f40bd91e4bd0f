/* What the C tests share: pass/fail counters and the CHECK macros, which print the
 * failed condition (or the status a call returned) with sk_last_error(). Each test
 * prints "N passed, M failed" last from these counters. */
#ifndef SKETCHBOX_TEST_CHECK_H
#define SKETCHBOX_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            printf("FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond,     \
                   sk_last_error());                                       \
        }                                                                  \
    } while (0)

/* A call returns the expected status; on mismatch prints both and the last error. */
#define CHECK_STATUS(call, want)                                                    \
    do {                                                                            \
        int32_t got_ = (call);                                                      \
        if (got_ == (want)) {                                                       \
            passed++;                                                               \
        } else {                                                                    \
            failed++;                                                               \
            printf("FAIL %s:%d: %s returned %d, expected %d (%s)\n", __FILE__,      \
                   __LINE__, #call, (int)got_, (int)(want), sk_last_error());       \
        }                                                                           \
    } while (0)
#define CHECK_OK(call) CHECK_STATUS(call, SK_OK)

#endif
