/* tests/lsan_suppressions.c - LeakSanitizer suppressions for the test
 * runner, compiled into build-asan/tests/run_unit by the tests/ wildcard.
 *
 * Criterion 2.4's runner process (not a test) sometimes leaks two 48-byte
 * blocks when --jobs 2 workers report at the same moment; which tests run
 * together decides it, so 'make asan' failed at random. Only leaks whose
 * stack is inside libcriterion are ignored; ours are still reported. */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}
