/* reports/analysis.c - summaries, tests and ranks behind every report
 * (see analysis.h). */
#include "reports/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void rep_opts_default(struct rep_opts *o)
{
    memset(o, 0, sizeof *o);
    o->alpha = 0.05;
    o->ci_level = 0.95;
    o->n_boot = STAT_BOOT_DEFAULT;
    o->seed = 20240501;
    o->test = REP_TEST_WILCOXON;
    o->rank_metric = 0;
    o->show = REP_SHOW_STD | REP_SHOW_CI;
    o->tex_float = 1;
}

static struct rep_cell *cell_at(struct rep_analysis *a, size_t b, size_t k, size_t m)
{
    return &a->cell[(b * a->cube->n_metrics + k) * a->cube->n_methods + m];
}

static int is_oracle(const struct rep_cube *c, size_t m) { return (c->method[m].flags & REP_ORACLE) != 0; }

/* 1 if a is a better mean than b for this metric */
static int better(const struct rep_metric *mt, double a, double b)
{
    return mt->higher_is_better ? a > b : a < b;
}

double rep_design_rank(const struct rep_design *d, size_t m)
{
    if (!d->valid)
        return NAN;
    for (size_t i = 0; i < d->k; i++)
        if (d->methods[i] == m)
            return d->avg_rank[i];
    return NAN;
}

static void design_release(struct rep_design *d)
{
    free(d->methods);
    free(d->avg_rank);
    free(d->p_pair);
    free(d->p_pair_holm);
    memset(d, 0, sizeof *d);
}

/* Friedman design over the subjects of blocks[nb] for metric k and the
 * given methods (all of which must have values in those blocks). */
static int design_build(struct rep_design *d, const struct rep_cube *c, const size_t *blocks,
                        size_t nb, size_t k, const size_t *methods, size_t nm)
{
    memset(d, 0, sizeof *d);
    d->k = nm;
    d->cd = NAN;
    for (size_t i = 0; i < nb; i++)
        d->n_units += c->block[blocks[i]].n_subjects;
    d->methods = malloc((nm ? nm : 1) * sizeof *d->methods);
    if (!d->methods)
        return mb_error(MB_ENOMEM, "rep_analyse: design of %zu methods", nm);
    memcpy(d->methods, methods, nm * sizeof *methods);
    if (nm < 2 || d->n_units == 0)
        return MB_OK;

    size_t N = d->n_units, npair = nm * (nm - 1) / 2;
    double *X = malloc(N * nm * sizeof *X);          /* [N x nm] units x methods */
    double *col = malloc(2 * N * sizeof *col);       /* [2 x N] one pair's columns */
    double *pp = malloc(npair * sizeof *pp);         /* [npair] */
    d->avg_rank = malloc(nm * sizeof *d->avg_rank);  /* [nm] */
    d->p_pair = malloc(nm * nm * sizeof *d->p_pair); /* [nm x nm] */
    d->p_pair_holm = malloc(nm * nm * sizeof *d->p_pair_holm);
    int rc = MB_OK;
    if (!X || !col || !pp || !d->avg_rank || !d->p_pair || !d->p_pair_holm) {
        rc = mb_error(MB_ENOMEM, "rep_analyse: design of %zu units x %zu methods", N, nm);
        goto done;
    }
    size_t u = 0;
    for (size_t i = 0; i < nb; i++) {
        const struct rep_block *bl = &c->block[blocks[i]];
        for (size_t s = 0; s < bl->n_subjects; s++, u++)
            for (size_t j = 0; j < nm; j++)
                X[u * nm + j] = rep_cube_values(c, blocks[i], methods[j], k)[s];
    }
    rc = stat_friedman(&d->fr, d->avg_rank, X, N, nm, c->metric[k].higher_is_better);
    if (rc)
        goto done;
    if (nm <= STAT_NEMENYI_KMAX && stat_nemenyi_cd(&d->cd, nm, N, 0.05) != MB_OK)
        d->cd = NAN;
    size_t q = 0;
    for (size_t i = 0; i < nm; i++)
        for (size_t j = i + 1; j < nm; j++) {
            for (size_t t = 0; t < N; t++) {
                col[t] = X[t * nm + i];
                col[N + t] = X[t * nm + j];
            }
            struct stat_wilcoxon w;
            rc = stat_wilcoxon(&w, col, col + N, N, STAT_TWO_SIDED);
            if (rc)
                goto done;
            pp[q++] = w.p;
        }
    double *adj = malloc(npair * sizeof *adj); /* [npair] */
    if (!adj) {
        rc = mb_error(MB_ENOMEM, "rep_analyse: %zu pairs", npair);
        goto done;
    }
    rc = stat_holm(adj, pp, npair);
    if (rc == MB_OK) {
        q = 0;
        for (size_t i = 0; i < nm; i++) {
            d->p_pair[i * nm + i] = d->p_pair_holm[i * nm + i] = NAN;
            for (size_t j = i + 1; j < nm; j++, q++) {
                d->p_pair[i * nm + j] = d->p_pair[j * nm + i] = pp[q];
                d->p_pair_holm[i * nm + j] = d->p_pair_holm[j * nm + i] = adj[q];
            }
        }
        d->valid = 1;
    }
    free(adj);
done:
    free(X);
    free(col);
    free(pp);
    return rc;
}

/* Best / second marks, tests against the best, and the column design. */
static int analyse_column(struct rep_analysis *a, size_t b, size_t k, size_t *ranked)
{
    const struct rep_cube *c = a->cube;
    const struct rep_metric *mt = &c->metric[k];
    struct rep_column *col = &a->col[b * c->n_metrics + k];
    col->best = col->second = REP_NONE;
    size_t nr = 0;
    for (size_t m = 0; m < c->n_methods; m++)
        if (!is_oracle(c, m) && rep_cube_state(c, b, m, k) == REP_VALUE)
            ranked[nr++] = m;
    for (size_t i = 0; i < nr; i++) {
        double v = cell_at(a, b, k, ranked[i])->s.mean;
        if (col->best == REP_NONE || better(mt, v, cell_at(a, b, k, col->best)->s.mean))
            col->best = ranked[i];
    }
    if (col->best == REP_NONE)
        return design_build(&col->d, c, &b, 1, k, ranked, 0);
    double best = cell_at(a, b, k, col->best)->s.mean;
    for (size_t i = 0; i < nr; i++) {
        double v = cell_at(a, b, k, ranked[i])->s.mean;
        if (v != best && (col->second == REP_NONE || better(mt, v, cell_at(a, b, k, col->second)->s.mean)))
            col->second = ranked[i];
    }
    double second = col->second != REP_NONE ? cell_at(a, b, k, col->second)->s.mean : NAN;
    for (size_t i = 0; i < nr; i++) {
        struct rep_cell *ce = cell_at(a, b, k, ranked[i]);
        if (ce->s.mean == best)
            ce->mark |= REP_BEST;
        else if (ce->s.mean == second)
            ce->mark |= REP_SECOND;
    }

    /* each other ranked method against the best, Holm over the column */
    size_t n = c->block[b].n_subjects, nt = 0;
    double *p = malloc((nr ? nr : 1) * sizeof *p);  /* [nr] */
    size_t *who = malloc((nr ? nr : 1) * sizeof *who);
    if (!p || !who) {
        free(p), free(who);
        return mb_error(MB_ENOMEM, "rep_analyse: column of %zu methods", nr);
    }
    const double *xb = rep_cube_values(c, b, col->best, k);
    double sgn = mt->higher_is_better ? 1.0 : -1.0;
    int rc = MB_OK;
    for (size_t i = 0; i < nr && rc == MB_OK; i++) {
        size_t m = ranked[i];
        if (m == col->best)
            continue;
        struct rep_cell *ce = cell_at(a, b, k, m);
        const double *xm = rep_cube_values(c, b, m, k);
        struct stat_wilcoxon w;
        rc = stat_wilcoxon(&w, xm, xb, n, STAT_TWO_SIDED);
        if (rc)
            break;
        ce->rank_biserial = sgn * w.rank_biserial;
        ce->d_z = sgn * stat_cohen_dz(xm, xb, n);
        ce->p = w.p;
        if (a->opts.test == REP_TEST_SIGNFLIP) {
            struct stat_perm sp;
            rc = stat_signflip(&sp, xm, xb, n, STAT_TWO_SIDED, STAT_PERM_DEFAULT, a->opts.seed);
            ce->p = sp.p;
        }
        p[nt] = ce->p;
        who[nt++] = m;
    }
    if (rc == MB_OK && nt > 0 && (rc = stat_holm(p, p, nt)) == MB_OK)
        for (size_t i = 0; i < nt; i++) {
            struct rep_cell *ce = cell_at(a, b, k, who[i]);
            ce->p_holm = p[i];
            if (p[i] < a->opts.alpha && better(mt, best, ce->s.mean))
                ce->mark |= REP_WORSE;
        }
    free(p);
    free(who);
    if (rc)
        return rc;
    rc = design_build(&col->d, c, &b, 1, k, ranked, nr);
    if (rc == MB_OK && col->d.valid)
        for (size_t i = 0; i < nr; i++)
            cell_at(a, b, k, ranked[i])->rank = col->d.avg_rank[i];
    return rc;
}

/* The bootstrap stream of a cell: FNV-1a 64 of "dataset\0protocol\0method\0metric\0",
 * so a cell's CI is the same in every table that shows it (one block, a protocol's
 * datasets, everything), whatever the other cells. */
static uint64_t cell_stream(const struct rep_cube *c, size_t b, size_t k, size_t m)
{
    const char *part[4] = { c->block[b].dataset, c->block[b].protocol, c->method[m].name, c->metric[k].name };
    uint64_t h = 0xcbf29ce484222325u;
    for (int i = 0; i < 4; i++) {
        for (const unsigned char *q = (const unsigned char *)part[i]; *q; q++)
            h = (h ^ *q) * 0x100000001b3u;
        h = (h ^ 0) * 0x100000001b3u;
    }
    return h;
}

/* Pooled design over complete blocks and the Stouffer meta-analysis. */
static int analyse_pooled(struct rep_analysis *a, size_t k, size_t *ranked)
{
    const struct rep_cube *c = a->cube;
    const struct rep_metric *mt = &c->metric[k];
    struct rep_pooled *po = &a->pooled[k];
    po->reference = REP_NONE;
    po->blocks_used = malloc((c->n_blocks ? c->n_blocks : 1) * sizeof *po->blocks_used);
    po->meta = calloc(c->n_methods, sizeof *po->meta);
    if (!po->blocks_used || !po->meta)
        return mb_error(MB_ENOMEM, "rep_analyse: pooled design of %zu blocks", c->n_blocks);
    for (size_t m = 0; m < c->n_methods; m++)
        po->meta[m].z = po->meta[m].p = po->meta[m].effect = NAN;
    /* a method n/a in every block has nothing to rank and must not void the blocks
     * (a one-block table with one n/a row would have no ranks at all); n/a in some
     * blocks only, it stays and those blocks are left out */
    size_t nr = 0;
    for (size_t m = 0; m < c->n_methods; m++) {
        int runs = 0;
        for (size_t b = 0; b < c->n_blocks && !runs; b++)
            runs = rep_cube_state(c, b, m, k) != REP_NA;
        if (!is_oracle(c, m) && runs)
            ranked[nr++] = m;
    }
    for (size_t b = 0; b < c->n_blocks; b++) {
        int complete = 1;
        for (size_t i = 0; i < nr; i++)
            complete &= rep_cube_state(c, b, ranked[i], k) == REP_VALUE;
        if (complete)
            po->blocks_used[po->n_blocks_used++] = b;
    }
    int rc = design_build(&po->d, c, po->blocks_used, po->n_blocks_used, k, ranked, nr);
    if (rc || !po->d.valid)
        return rc;
    size_t ref = 0;
    for (size_t i = 1; i < nr; i++)
        if (po->d.avg_rank[i] < po->d.avg_rank[ref])
            ref = i;
    po->reference = ranked[ref];

    double *pv = malloc(c->n_blocks * sizeof *pv); /* [n_blocks] one-sided p per block */
    double *w = malloc(c->n_blocks * sizeof *w);   /* [n_blocks] sqrt(n_subjects) */
    if (!pv || !w) {
        free(pv), free(w);
        return mb_error(MB_ENOMEM, "rep_analyse: meta-analysis over %zu blocks", c->n_blocks);
    }
    /* Stouffer assumes independent p-values: blocks of one dataset (two protocols on the
     * same subjects, as in the report's all-blocks table) are not */
    for (size_t b = 0; b < c->n_blocks && !po->shared_subjects; b++)
        for (size_t b2 = b + 1; b2 < c->n_blocks && !po->shared_subjects; b2++)
            po->shared_subjects = strcmp(c->block[b].dataset, c->block[b2].dataset) == 0;
    enum stat_alt alt = mt->higher_is_better ? STAT_GREATER : STAT_LESS;
    enum stat_alt opp = mt->higher_is_better ? STAT_LESS : STAT_GREATER;
    double sgn = mt->higher_is_better ? 1.0 : -1.0;
    for (size_t i = 0; i < nr && rc == MB_OK; i++) {
        size_t m = ranked[i];
        struct rep_meta *me = &po->meta[m];
        if (m == po->reference)
            continue;
        double ew = 0.0, es = 0.0;
        for (size_t b = 0; b < c->n_blocks; b++) {
            if (rep_cube_state(c, b, m, k) != REP_VALUE || rep_cube_state(c, b, po->reference, k) != REP_VALUE)
                continue;
            size_t n = c->block[b].n_subjects;
            const double *xr = rep_cube_values(c, b, po->reference, k), *xm = rep_cube_values(c, b, m, k);
            /* the mid-p P(T > t) + P(T = t) / 2 = (p_alt + 1 - p_opp) / 2 instead of the exact
             * p: with few subjects the exact one-sided p of a block is 1 whenever the
             * reference loses on every subject, Phi^-1(0) = -inf, and that one block would
             * force Z = -inf and p = 1 whatever the others say; the mid-p lies in (0, 1) */
            struct stat_wilcoxon sw, so;
            rc = stat_wilcoxon(&sw, xr, xm, n, alt);
            if (!rc)
                rc = stat_wilcoxon(&so, xr, xm, n, opp);
            if (rc)
                break;
            pv[me->n_blocks] = 0.5 * (sw.p + 1.0 - so.p);
            w[me->n_blocks++] = sqrt((double)n);
            double dz = sgn * stat_cohen_dz(xr, xm, n);
            if (isfinite(dz)) {
                es += sqrt((double)n) * dz;
                ew += sqrt((double)n);
            }
        }
        if (rc == MB_OK && me->n_blocks > 0 && !po->shared_subjects)
            rc = stat_stouffer(&me->z, &me->p, pv, w, me->n_blocks);
        me->effect = ew > 0.0 ? es / ew : NAN;
    }
    free(pv);
    free(w);
    return rc;
}

int rep_analyse(struct rep_analysis **out, const struct rep_cube *c, const struct rep_opts *o)
{
    *out = NULL;
    struct rep_opts def;
    if (!o) {
        rep_opts_default(&def);
        o = &def;
    }
    if (!(o->alpha > 0.0 && o->alpha < 1.0))
        return mb_error(MB_EINVAL, "rep_analyse: alpha %g not in (0, 1)", o->alpha);
    if (o->rank_metric >= c->n_metrics)
        return mb_error(MB_EINVAL, "rep_analyse: rank metric %zu of %zu", o->rank_metric, c->n_metrics);
    if (c->n_blocks == 0)
        return mb_error(MB_EINVAL, "rep_analyse: the cube has no (dataset, protocol) block");
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t m = 0; m < c->n_methods; m++)
            for (size_t k = 0; k < c->n_metrics; k++)
                if (rep_cube_state(c, b, m, k) == REP_EMPTY)
                    return mb_error(MB_EINVAL, "rep_analyse: '%s' / '%s', method '%s', metric '%s' "
                                    "has neither values nor n/a nor missing", c->block[b].dataset,
                                    c->block[b].protocol, c->method[m].name, c->metric[k].name);

    struct rep_analysis *a = calloc(1, sizeof *a);
    size_t ncell = c->n_blocks * c->n_metrics * c->n_methods;
    size_t *ranked = malloc(c->n_methods * sizeof *ranked); /* [n_methods] scratch */
    if (a) {
        a->cube = c;
        a->opts = *o;
        a->cell = calloc(ncell, sizeof *a->cell);
        a->col = calloc(c->n_blocks * c->n_metrics, sizeof *a->col);
        a->pooled = calloc(c->n_metrics, sizeof *a->pooled);
    }
    if (!a || !ranked || !a->cell || !a->col || !a->pooled) {
        free(ranked);
        rep_analysis_free(a);
        return mb_error(MB_ENOMEM, "rep_analyse: %zu cells", ncell);
    }
    int rc = MB_OK;
    for (size_t b = 0; b < c->n_blocks && rc == MB_OK; b++)
        for (size_t k = 0; k < c->n_metrics && rc == MB_OK; k++)
            for (size_t m = 0; m < c->n_methods && rc == MB_OK; m++) {
                struct rep_cell *ce = cell_at(a, b, k, m);
                ce->state = rep_cube_state(c, b, m, k);
                ce->ci_lo = ce->ci_hi = ce->rank = NAN;
                ce->p = ce->p_holm = ce->d_z = ce->rank_biserial = NAN;
                if (ce->state != REP_VALUE)
                    continue;
                const double *v = rep_cube_values(c, b, m, k);
                size_t n = c->block[b].n_subjects;
                uint64_t stream = cell_stream(c, b, k, m);
                rc = stat_describe(&ce->s, v, n);
                if (rc == MB_OK)
                    rc = stat_bootstrap_mean_ci(&ce->ci_lo, &ce->ci_hi, v, n, o->n_boot, o->ci_level,
                                                o->seed, stream);
            }
    for (size_t b = 0; b < c->n_blocks && rc == MB_OK; b++)
        for (size_t k = 0; k < c->n_metrics && rc == MB_OK; k++)
            rc = analyse_column(a, b, k, ranked);
    for (size_t k = 0; k < c->n_metrics && rc == MB_OK; k++)
        rc = analyse_pooled(a, k, ranked);
    free(ranked);
    if (rc) {
        rep_analysis_free(a);
        return rc;
    }
    *out = a;
    return MB_OK;
}

void rep_analysis_free(struct rep_analysis *a)
{
    if (!a)
        return;
    const struct rep_cube *c = a->cube;
    if (a->col)
        for (size_t i = 0; i < c->n_blocks * c->n_metrics; i++)
            design_release(&a->col[i].d);
    if (a->pooled)
        for (size_t k = 0; k < c->n_metrics; k++) {
            design_release(&a->pooled[k].d);
            free(a->pooled[k].blocks_used);
            free(a->pooled[k].meta);
        }
    free(a->cell);
    free(a->col);
    free(a->pooled);
    free(a);
}
