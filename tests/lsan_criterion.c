/* tests/lsan_criterion.c - keeps LeakSanitizer on the code under test only.
 *
 * Criterion 2.4's runner process (the parent that schedules the tests)
 * leaks a 48-byte record now and then when tests that set .timeout run in
 * parallel (--jobs 2, as 'make asan' does); the stack is calloc inside
 * libcriterion.so and nothing else, and the leak disappears with --jobs 1
 * or without .timeout. The runner runs no myobench code, so leak checking
 * is turned off there. Each test runs in a worker that BoxFort (Criterion's
 * sandbox) starts with BXFI_MAP in its environment; leak checking stays on
 * in those, where every test's allocations live. Without sanitizers LSan
 * never calls this hook. */
#include <stdlib.h>

int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
    return getenv("BXFI_MAP") == NULL;
}
