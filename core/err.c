/* core/err.c - error and log reporting (see err.h). */
#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static enum mb_log_level log_level = MB_LOG_WARN;
static _Thread_local char last_error[1024];

const char *mb_strerror(int err)
{
    switch (err) {
    case MB_OK:      return "success";
    case MB_ENOMEM:  return "out of memory";
    case MB_EIO:     return "input/output error";
    case MB_EFORMAT: return "unexpected input format";
    case MB_EINVAL:  return "invalid argument";
    case MB_EH5:     return "HDF5 error";
    case MB_ECSV:    return "delimited-text parse error";
    case MB_ERX:     return "regular expression error";
    case MB_ENUM:    return "numeric error";
    case MB_ESCHEMA: return "schema mismatch";
    case MB_EMAT:    return "MAT file error";
    }
    return "unknown error";
}

void mb_log_set_level(enum mb_log_level level) { log_level = level; }
enum mb_log_level mb_log_get_level(void) { return log_level; }

/* Per thread: a caller that turns an error into its own report (a
 * warning, a skipped file) must not leave a stray "error:" line behind. */
static _Thread_local int quiet_depth;

void mb_error_quiet_begin(void) { quiet_depth++; }
void mb_error_quiet_end(void) { if (quiet_depth > 0) quiet_depth--; }

int mb_error_at(const char *func, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (log_level >= MB_LOG_ERROR && !quiet_depth) {
        if (log_level >= MB_LOG_DEBUG)
            fprintf(stderr, "myobench: error: %s (in %s)\n", last_error, func);
        else
            fprintf(stderr, "myobench: error: %s\n", last_error);
    }
    return err;
}

const char *mb_last_error(void) { return last_error; }
void mb_last_error_clear(void) { last_error[0] = '\0'; }

static void vlog(enum mb_log_level lvl, const char *tag, const char *fmt, va_list ap)
{
    if (log_level < lvl)
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "myobench: %s%s\n", tag, msg);
}

void mb_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(MB_LOG_WARN, "warning: ", fmt, ap);
    va_end(ap);
}

void mb_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(MB_LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void mb_debug(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(MB_LOG_DEBUG, "debug: ", fmt, ap);
    va_end(ap);
}

void mb_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "myobench: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}
