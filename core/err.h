/* core/err.h - status codes, error and log reporting for every module.
 *
 * Fallible functions return int: MB_OK (0) or a negative enum mb_err.
 * Constructors return NULL. The site that detects a failure reports it once,
 * with context (file, row, variable), through mb_error(), and returns the code:
 *
 *     if (ncols != expect)
 *         return mb_error(MB_EFORMAT, "'%s' line %zu: expected %zu columns, got %zu",
 *                         path, line, expect, ncols);
 *
 * Library code never calls exit(); only cli/ turns codes into exit statuses.
 * Messages: lower case, no trailing period, what failed first, paths quoted.
 */
#ifndef MB_CORE_ERR_H
#define MB_CORE_ERR_H

#include <stdarg.h>
#include <stdio.h>

enum mb_err {
    MB_OK      =  0,
    MB_ENOMEM  = -1,  /* allocation failed */
    MB_EIO     = -2,  /* open/read/write/rename failed; errno is meaningful */
    MB_EFORMAT = -3,  /* input is not what the reader expects */
    MB_EINVAL  = -4,  /* bad argument or configuration */
    MB_EH5     = -5,  /* an HDF5 call failed */
    MB_ECSV    = -6,  /* delimited text could not be parsed */
    MB_ERX     = -7,  /* regular expression compile/match error */
    MB_ENUM    = -8,  /* numeric failure: NaN/Inf, divergence */
    MB_ESCHEMA = -9,  /* unified file of another schema or version */
    MB_EMAT    = -10, /* a MAT file could not be read */
};

#define MB_MUST_CHECK __attribute__((warn_unused_result))
#define MB_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Static description of a status code; never NULL. */
const char *mb_strerror(int err);

enum mb_log_level { MB_LOG_QUIET = 0, MB_LOG_ERROR, MB_LOG_WARN, MB_LOG_INFO, MB_LOG_DEBUG };

/* Process-wide verbosity (default MB_LOG_WARN); set once by the CLI. */
void mb_log_set_level(enum mb_log_level level);
enum mb_log_level mb_log_get_level(void);

/* Writes "myobench: error: <msg>" to stderr (when the level allows) and
 * returns err. The message is also kept in a thread-local buffer that
 * mb_last_error() returns, so tests and callers can inspect it. */
int mb_error_at(const char *func, int err, const char *fmt, ...) MB_PRINTF(3, 4);
#define mb_error(err, ...) mb_error_at(__func__, (err), __VA_ARGS__)

/* Between mb_error_quiet_begin() and _end() (nestable, per thread),
 * mb_error() records its message for mb_last_error() but prints nothing:
 * for callers that handle a failure themselves and report it their own way
 * (e.g. non-finite features turned into a warning). */
void mb_error_quiet_begin(void);
void mb_error_quiet_end(void);

/* Last message recorded by mb_error() on this thread ("" if none). */
const char *mb_last_error(void);
/* Forgets it, so a caller can tell the next failure's message from an
 * older one. */
void mb_last_error_clear(void);

void mb_warn(const char *fmt, ...) MB_PRINTF(1, 2);
void mb_info(const char *fmt, ...) MB_PRINTF(1, 2);
void mb_debug(const char *fmt, ...) MB_PRINTF(1, 2);

/* Always-on check for programmer errors (shape mismatches in kernels):
 * prints the expression and location, then aborts. */
#define MB_ASSERT(x) \
    do { if (!(x)) mb_assert_fail(#x, __FILE__, __LINE__); } while (0)
void mb_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

#endif
