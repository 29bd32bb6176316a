/* A small test harness: each test program is a list of cases run in order.
 *
 *   static void test_something(void) { ASSERT_EQ_U(1 + 1, 2); }
 *   TEST_MAIN(TEST(test_something), TEST(test_other))
 *
 * An assertion that fails prints the file, line, expression and both values,
 * then ends the case (the program goes on with the next case and exits 1).
 * A case may SKIP("why"): the reason is printed, never silent.
 * Run one case by name: ./test_heap test_something
 */
#ifndef ILHEAP_TEST_H
#define ILHEAP_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct test_case {
    const char *name;
    void (*run)(void);
} test_case_t;

#define TEST(fn) {#fn, fn}

extern jmp_buf test_abort_jmp;
extern int test_case_status; /* 0 pass, 1 fail, 2 skip */

#define TEST_FAIL_(...)                                                \
    do {                                                               \
        fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__);         \
        fprintf(stderr, __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                         \
        test_case_status = 1;                                          \
        longjmp(test_abort_jmp, 1);                                    \
    } while (0)

#define ASSERT_TRUE(cond)                                              \
    do {                                                               \
        if (!(cond))                                                   \
            TEST_FAIL_("expected true: %s", #cond);                    \
    } while (0)

#define ASSERT_FALSE(cond) ASSERT_TRUE(!(cond))

#define ASSERT_CMP_(a, op, b, type, fmt)                                                  \
    do {                                                                                  \
        type a_ = (type)(a);                                                              \
        type b_ = (type)(b);                                                              \
        if (!(a_ op b_))                                                                  \
            TEST_FAIL_("%s %s %s: " fmt " vs " fmt, #a, #op, #b, a_, b_);                 \
    } while (0)

#define ASSERT_EQ_U(a, b) ASSERT_CMP_(a, ==, b, uint64_t, "%" PRIu64)
#define ASSERT_NE_U(a, b) ASSERT_CMP_(a, !=, b, uint64_t, "%" PRIu64)
#define ASSERT_LT_U(a, b) ASSERT_CMP_(a, <, b, uint64_t, "%" PRIu64)
#define ASSERT_LE_U(a, b) ASSERT_CMP_(a, <=, b, uint64_t, "%" PRIu64)
#define ASSERT_GT_U(a, b) ASSERT_CMP_(a, >, b, uint64_t, "%" PRIu64)
#define ASSERT_GE_U(a, b) ASSERT_CMP_(a, >=, b, uint64_t, "%" PRIu64)
#define ASSERT_EQ_X(a, b) ASSERT_CMP_(a, ==, b, uint64_t, "%#" PRIx64)
#define ASSERT_EQ_I(a, b) ASSERT_CMP_(a, ==, b, int64_t, "%" PRId64)
#define ASSERT_EQ_P(a, b) ASSERT_CMP_(a, ==, b, const void *, "%p")
#define ASSERT_NE_P(a, b) ASSERT_CMP_(a, !=, b, const void *, "%p")
#define ASSERT_NULL(a) ASSERT_EQ_P(a, NULL)
#define ASSERT_NOT_NULL(a) ASSERT_NE_P(a, NULL)

/* Compares status codes and prints their names. */
#define ASSERT_STATUS(a, b)                                                               \
    do {                                                                                  \
        int sa_ = (int)(a), sb_ = (int)(b);                                               \
        if (sa_ != sb_)                                                                   \
            TEST_FAIL_("%s == %s: %s (%d) vs %s (%d)", #a, #b, ilheap_status_name(sa_),   \
                       sa_, ilheap_status_name(sb_), sb_);                                \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                               \
    do {                                                                                  \
        const char *sa_ = (a), *sb_ = (b);                                                \
        if (strcmp(sa_, sb_) != 0)                                                        \
            TEST_FAIL_("%s == %s: \"%s\" vs \"%s\"", #a, #b, sa_, sb_);                   \
    } while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                            \
    do {                                                                                  \
        if (memcmp((a), (b), (n)) != 0)                                                   \
            TEST_FAIL_("%s and %s differ in their first %zu bytes", #a, #b, (size_t)(n)); \
    } while (0)

#define SKIP(...)                                                      \
    do {                                                               \
        fprintf(stderr, "  SKIP: ");                                   \
        fprintf(stderr, __VA_ARGS__);                                  \
        fprintf(stderr, "\n");                                         \
        test_case_status = 2;                                          \
        longjmp(test_abort_jmp, 1);                                    \
    } while (0)

int test_run_cases(int argc, char **argv, const test_case_t *cases, size_t count);

#define TEST_MAIN(...)                                                                    \
    int main(int argc, char **argv)                                                       \
    {                                                                                     \
        static const test_case_t cases[] = {__VA_ARGS__};                                 \
        return test_run_cases(argc, argv, cases, sizeof cases / sizeof cases[0]);         \
    }

#endif
