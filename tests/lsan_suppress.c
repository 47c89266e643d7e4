/* tests/lsan_suppress.c - LeakSanitizer suppressions for the test runner.
 *
 * Criterion 2.4's runner process leaks a few 48-byte blocks when tests with
 * .timeout run under --jobs > 1 (measured: the conv_spec suite leaks 48-240
 * bytes per run with --jobs 2 and none with the timeouts removed; every
 * frame is inside libcriterion). The leak is in the runner, not in code
 * under test, which runs in forked workers; so it is suppressed by module.
 * LeakSanitizer looks this hook up in the main executable; without ASan the
 * function is never called. */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libcriterion.so\n";
}
