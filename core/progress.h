/* core/progress.h - a progress meter on stderr for long commands (convert).
 *
 * On a terminal it is one line rewritten in place ("\r"); anywhere else (a
 * log file, a pipe, a batch job) it is one line now and then: after the
 * first step, then at most one every MB_PROGRESS_INTERVAL seconds, and a
 * last one at the end, so a log shows how far a long job got without a line
 * per step. Every line has done/total, the elapsed time and an ETA (the
 * mean time per step so far times the steps left).
 *
 * Times are passed in (mb_progress_now() in real use), so tests can check
 * which lines appear without waiting.
 */
#ifndef MB_CORE_PROGRESS_H
#define MB_CORE_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

#define MB_PROGRESS_INTERVAL 5.0   /* seconds between lines when not on a terminal */

struct mb_progress {
    FILE *fp;
    char what[128];                /* prefix, e.g. "myobench: convert ninapro" */
    const char *unit;              /* "files" */
    size_t total, done;
    int tty;                       /* 1: rewrite one line in place */
    double t0;                     /* seconds (mb_progress_now) at start */
    double last;                   /* time of the last line printed */
    size_t n_lines;                /* lines printed so far */
};

/* Monotonic seconds. */
double mb_progress_now(void);

/* Starts a meter of 'total' steps on fp; tty is taken from isatty(fp).
 * Borrows 'unit' (a literal); copies 'what'. Prints nothing yet. */
void mb_progress_start(struct mb_progress *p, FILE *fp, const char *what, const char *unit, size_t total,
                       double now);
/* 'done' steps are complete at time 'now'. */
void mb_progress_update(struct mb_progress *p, size_t done, double now);
/* The last line (with the total time) and, on a terminal, its newline. */
void mb_progress_end(struct mb_progress *p, double now);

/* "mm:ss", or "h:mm:ss" from an hour on. */
void mb_progress_clock(char *buf, size_t cap, double seconds);

#endif
