/* The runner behind TEST_MAIN: runs each case, prints a line per case and the
 * totals in the form CTest logs and CI reads ("N passed, N failed"). */
#include "test.h"

jmp_buf test_abort_jmp;
int test_case_status;

/* setjmp lives in its own frame so that the caller's counters are never
 * clobbered by the longjmp of a failing assertion. */
static void run_one(const test_case_t *test)
{
    test_case_status = 0;
    if (setjmp(test_abort_jmp) == 0)
        test->run();
}

int test_run_cases(int argc, char **argv, const test_case_t *cases, size_t count)
{
    unsigned passed = 0, failed = 0, skipped = 0;
    for (size_t i = 0; i < count; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
            continue;
        fprintf(stderr, "[ RUN  ] %s\n", cases[i].name);
        run_one(&cases[i]);
        switch (test_case_status) {
        case 0:
            passed++;
            fprintf(stderr, "[  OK  ] %s\n", cases[i].name);
            break;
        case 2:
            skipped++;
            fprintf(stderr, "[ SKIP ] %s\n", cases[i].name);
            break;
        default:
            failed++;
            fprintf(stderr, "[ FAIL ] %s\n", cases[i].name);
            break;
        }
    }
    if (argc > 1 && passed + failed + skipped == 0) {
        fprintf(stderr, "no case named %s\n", argv[1]);
        return 2;
    }
    printf("%u passed, %u failed, %u skipped\n", passed, failed, skipped);
    return failed == 0 ? 0 : 1;
}
