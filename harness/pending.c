/* harness/pending.c - stand-ins for the corpus and fold/result lifecycle
 * functions of protocols/protocol.h while the protocols branch (which
 * defines them) is not merged. They are weak: the real definitions win
 * as soon as they are linked, and this file is deleted at that merge. */
#include <stdlib.h>
#include <string.h>

#include "protocols/protocol.h"

__attribute__((weak)) int pr_corpus_load(struct pr_corpus *c, const char *path, const struct pr_view_settings *v)
{
    (void)v;
    memset(c, 0, sizeof *c);
    return mb_error(MB_EINVAL, "'%s': corpus loading is not built into this binary yet", path);
}

__attribute__((weak)) void pr_corpus_release(struct pr_corpus *c)
{
    (void)c;
}

__attribute__((weak)) void pr_fold_release(struct pr_fold *f)
{
    if (!f)
        return;
    free(f->id);
    free(f->manifest);
    free(f->train);
    free(f->test);
    free(f->ref);
    free(f->adapt);
    memset(f, 0, sizeof *f);
}

__attribute__((weak)) void pr_result_release(struct pr_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_subjects; i++) {
        free(r->subjects[i].classes);
        free(r->subjects[i].confusion);
    }
    free(r->subjects);
    r->subjects = NULL;
    r->n_subjects = 0;
}
