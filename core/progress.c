/* core/progress.c - the progress meter of core/progress.h. */
#include "core/progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

double mb_progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void mb_progress_clock(char *buf, size_t cap, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, cap, "%02ld:%02ld", t / 60, t % 60);
}

void mb_progress_start(struct mb_progress *p, FILE *fp, const char *what, const char *unit, size_t total,
                       double now)
{
    memset(p, 0, sizeof *p);
    p->fp = fp;
    snprintf(p->what, sizeof p->what, "%s", what);
    p->unit = unit;
    p->total = total;
    p->tty = isatty(fileno(fp));
    p->t0 = now;
    p->last = now;
}

static void print_line(struct mb_progress *p, double now, int final)
{
    char el[32], eta[32];
    mb_progress_clock(el, sizeof el, now - p->t0);
    if (final)
        fprintf(p->fp, "%s%s: %zu/%zu %s in %s%s", p->tty ? "\r" : "", p->what, p->done, p->total, p->unit, el,
                p->tty ? " \n" : "\n");
    else {
        snprintf(eta, sizeof eta, "--:--");
        if (p->done)
            mb_progress_clock(eta, sizeof eta, (now - p->t0) / (double)p->done * (double)(p->total - p->done));
        /* the trailing blank covers a longer previous line's last character */
        fprintf(p->fp, "%s%s: %zu/%zu %s, %s elapsed, ETA %s%s", p->tty ? "\r" : "", p->what, p->done, p->total,
                p->unit, el, eta, p->tty ? " " : "\n");
    }
    p->n_lines++;
    p->last = now;
    fflush(p->fp);
}

void mb_progress_update(struct mb_progress *p, size_t done, double now)
{
    p->done = done;
    /* On a terminal every step redraws; elsewhere the first step (an early
     * ETA) and then one line per interval. */
    if (p->tty || p->n_lines == 0 || now - p->last >= MB_PROGRESS_INTERVAL)
        print_line(p, now, 0);
}

void mb_progress_end(struct mb_progress *p, double now)
{
    print_line(p, now, 1);
}
