/* tests/corpus_util.h - hand-built corpora: the samples of n windows of
 * [W x C] back to back in one recording (window i starts at row i W), the
 * layout cp_window reads (corpus/corpus.h). */
#ifndef MB_TESTS_CORPUS_UTIL_H
#define MB_TESTS_CORPUS_UTIL_H

#include <stdlib.h>

#include "corpus/corpus.h"

/* Sets c->n_recordings = 1 and allocates c->emg [n W x C] (uninitialised;
 * fill window i through tu_window), c->rec (zeros), c->start (i W) and
 * c->rec_off {0, n W} for the c->n windows of c->W x c->C. MB_OK or MB_ENOMEM.
 * tu_corpus_unpack frees them. */
static inline int tu_corpus_pack(struct cp_corpus *c)
{
    c->n_recordings = 1;
    c->emg = malloc((c->n * c->W + 1) * c->C * sizeof *c->emg);
    c->rec = calloc(c->n + 1, sizeof *c->rec);
    c->start = malloc((c->n + 1) * sizeof *c->start);
    c->rec_off = malloc(2 * sizeof *c->rec_off);
    if (!c->emg || !c->rec || !c->start || !c->rec_off)
        return MB_ENOMEM;
    for (size_t i = 0; i < c->n; i++)
        c->start[i] = (int64_t)(i * c->W);
    c->rec_off[0] = 0;
    c->rec_off[1] = c->n * c->W;
    return MB_OK;
}

/* Window i of a packed corpus, writable: [W x C]. */
static inline float *tu_window(struct cp_corpus *c, size_t i)
{
    return c->emg + cp_window_row(c, i) * c->C;
}

static inline void tu_corpus_unpack(struct cp_corpus *c)
{
    free(c->emg);
    free(c->rec);
    free(c->start);
    free(c->rec_off);
    c->emg = NULL;
    c->rec = NULL;
    c->start = NULL;
    c->rec_off = NULL;
}

#endif
