/* baselines/logreg.c - multinomial logistic regression with L2
 * (docs/BASELINES.md "logreg").
 *
 * Minimises, over the classes present in training (K' of them),
 *     f(W, b) = (1/n) sum_i -log softmax(W' x_i + b)[y_i] + |W|^2 / (2 C n),
 * sklearn's LogisticRegression(multi_class="multinomial", C) objective
 * divided by C n (same minimiser); the intercept b is not penalised.
 * Solver: GSL's vector_bfgs2 (quasi-Newton with Fletcher's line search),
 * stopped when |grad f|_2 < tol or after max_iter iterations; the products
 * X W and X' (P - Y) go through BLAS. Starts from zero, so no randomness. */
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* GSL's headers declare the CBLAS interface themselves (gsl_cblas.h, same
 * prototypes and enum values as OpenBLAS's cblas.h, which cannot be included
 * beside them); the Makefile links -lopenblas first, so these calls run
 * OpenBLAS, not GSL's reference CBLAS. */
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include "baselines/base_internal.h"

struct logreg_model {
    size_t D, K, Kp;          /* Kp: classes present in training */
    double *W;                /* [D x Kp] */
    double *b;                /* [Kp] */
    int32_t *cls;             /* [Kp] class of each column */
    unsigned char *present;   /* [K] */
};

struct problem {              /* what GSL's callbacks see */
    size_t n, D, Kp;
    double invC;              /* 1 / C */
    const double *X;          /* [n x D] */
    const int32_t *yc;        /* [n] labels mapped to columns [0, Kp) */
    double *Z;                /* [n x Kp] scratch: scores, then P - Y */
};

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;
/* GSL's default handler aborts the process; library code must not. */
static void gsl_quiet(void) { gsl_set_error_handler_off(); }

/* Objective at theta = [W (D x Kp, row-major), b (Kp)]; gradient into g if non-NULL. */
static double objective(const gsl_vector *th, void *arg, gsl_vector *g)
{
    const struct problem *p = arg;
    size_t n = p->n, D = p->D, Kp = p->Kp;
    const double *W = th->data, *b = th->data + D * Kp;
    double *Z = p->Z;
    for (size_t i = 0; i < n; i++) memcpy(Z + i * Kp, b, Kp * sizeof *Z);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)Kp, (int)D, 1.0, p->X, (int)D, W,
                (int)Kp, 1.0, Z, (int)Kp);
    double f = 0;
    for (size_t i = 0; i < n; i++) {
        double *z = Z + i * Kp, mx = -INFINITY, s = 0;
        for (size_t k = 0; k < Kp; k++) if (z[k] > mx) mx = z[k];
        double zy = z[p->yc[i]];
        for (size_t k = 0; k < Kp; k++) s += (z[k] = exp(z[k] - mx));   /* one exp per score */
        f += mx + log(s) - zy;
        if (g) {      /* turn the row into (P - Y) / n for the gradient */
            double inv = 1.0 / (s * (double)n);
            for (size_t k = 0; k < Kp; k++) z[k] *= inv;
            z[p->yc[i]] -= 1.0 / (double)n;
        }
    }
    double reg = 0;
    for (size_t t = 0; t < D * Kp; t++) reg += W[t] * W[t];
    double cn = p->invC / (double)n;
    f = f / (double)n + 0.5 * cn * reg;
    if (g) {
        double *gW = g->data, *gb = g->data + D * Kp;
        for (size_t t = 0; t < D * Kp; t++) gW[t] = cn * W[t];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)D, (int)Kp, (int)n, 1.0, p->X, (int)D, Z,
                    (int)Kp, 1.0, gW, (int)Kp);
        memset(gb, 0, Kp * sizeof *gb);
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < Kp; k++) gb[k] += Z[i * Kp + k];
    }
    return f;
}

static double obj_f(const gsl_vector *th, void *arg) { return objective(th, arg, NULL); }
static void obj_df(const gsl_vector *th, void *arg, gsl_vector *g) { (void)objective(th, arg, g); }
static void obj_fdf(const gsl_vector *th, void *arg, double *f, gsl_vector *g) { *f = objective(th, arg, g); }

static void logreg_free(struct base_model *bm)
{
    struct logreg_model *m = (struct logreg_model *)bm;
    if (!m) return;
    free(m->W); free(m->b); free(m->cls); free(m->present);
    free(m);
}

const struct mb_param base_logreg_params[] = {
    { "C", MB_PT_REAL, offsetof(struct base_logreg_hp, C), 1.0, 1e-12, 1e12, NULL, "inverse L2 strength (scikit-learn's C)" },
    { "max_iter", MB_PT_INT, offsetof(struct base_logreg_hp, max_iter), 1000, 1, 1e7, NULL, "BFGS iterations at most" },
    { "tol", MB_PT_REAL, offsetof(struct base_logreg_hp, tol), 1e-5, 1e-15, 1, NULL, "gradient-norm tolerance" },
    MB_PARAM_END
};

static int logreg_fit(struct base_model **out, const float *X, const int32_t *y, size_t n, size_t D, size_t K,
                      const void *hpv, uint64_t seed)
{
    *out = NULL;
    const struct base_logreg_hp hp = *(const struct base_logreg_hp *)hpv;
    int err;
    double C = hp.C, max_iter = (double)hp.max_iter, tol = hp.tol;
    pthread_once(&gsl_once, gsl_quiet);
    size_t *count = malloc(K * sizeof *count);
    int32_t *col = malloc(K * sizeof *col);      /* [K] column of each class, -1 if absent */
    if (!count || !col) { free(count); free(col); return mb_error(MB_ENOMEM, "logreg: %zu classes", K); }
    if ((err = base_fit_check(count, X, y, n, D, K, "logreg"))) { free(count); free(col); return err; }
    struct logreg_model *m = calloc(1, sizeof *m);
    double *Xd = NULL, *Z = NULL;
    int32_t *yc = NULL;
    gsl_vector *th = NULL;
    gsl_multimin_fdfminimizer *s = NULL;
    if (!m) { err = mb_error(MB_ENOMEM, "logreg: model"); goto out; }
    m->D = D; m->K = K;
    m->present = calloc(K, 1);
    m->cls = malloc(K * sizeof *m->cls);
    if (!m->present || !m->cls) { err = mb_error(MB_ENOMEM, "logreg: %zu classes", K); goto out; }
    for (size_t k = 0; k < K; k++) {
        col[k] = -1;
        if (!count[k]) continue;
        m->present[k] = 1;
        col[k] = (int32_t)m->Kp;
        m->cls[m->Kp++] = (int32_t)k;
    }
    size_t Kp = m->Kp, np = D * Kp + Kp;
    m->W = calloc(D * Kp, sizeof *m->W);
    m->b = calloc(Kp, sizeof *m->b);
    Xd = malloc(n * D * sizeof *Xd);
    Z = malloc(n * Kp * sizeof *Z);
    yc = malloc(n * sizeof *yc);
    th = gsl_vector_calloc(np);
    if (!m->W || !m->b || !Xd || !Z || !yc || !th) {
        err = mb_error(MB_ENOMEM, "logreg: %zu x %zu rows, %zu classes", n, D, Kp);
        goto out;
    }
    if (Kp > 1) {    /* one class needs no fit: its probability is 1 */
        for (size_t t = 0; t < n * D; t++) Xd[t] = X[t];
        for (size_t i = 0; i < n; i++) yc[i] = col[y[i]];
        struct problem pb = { n, D, Kp, 1.0 / C, Xd, yc, Z };
        gsl_multimin_function_fdf fn = { obj_f, obj_df, obj_fdf, np, &pb };
        s = gsl_multimin_fdfminimizer_alloc(gsl_multimin_fdfminimizer_vector_bfgs2, np);
        if (!s) { err = mb_error(MB_ENOMEM, "logreg: solver for %zu parameters", np); goto out; }
        gsl_multimin_fdfminimizer_set(s, &fn, th, 0.1, 0.1);
        size_t it = 0, restarts = 0;
        int st = GSL_CONTINUE;
        while (it < (size_t)max_iter && st == GSL_CONTINUE) {
            it++;
            if (gsl_multimin_fdfminimizer_iterate(s)) {
                /* The line search made no progress: restart from steepest
                 * descent a few times (the curvature estimate can be stale)
                 * before accepting the point as optimal to rounding. */
                if (++restarts > 3) break;
                gsl_multimin_fdfminimizer_restart(s);
                continue;
            }
            st = gsl_multimin_test_gradient(s->gradient, tol);
        }
        if (!isfinite(s->f))
            { err = mb_error(MB_ENUM, "logreg: objective is not finite after %zu iterations", it); goto out; }
        if (st != GSL_SUCCESS)
            mb_debug("logreg: stopped after %zu iterations with |grad| = %g (tol %g)", it,
                     cblas_dnrm2((int)np, s->gradient->data, (int)s->gradient->stride), tol);
        memcpy(m->W, s->x->data, D * Kp * sizeof *m->W);
        memcpy(m->b, s->x->data + D * Kp, Kp * sizeof *m->b);
    }
    *out = (struct base_model *)m;
    m = NULL;
out:
    logreg_free((struct base_model *)m);
    if (s) gsl_multimin_fdfminimizer_free(s);
    if (th) gsl_vector_free(th);
    free(count); free(col); free(Xd); free(Z); free(yc);
    return err;
}

#define ROWS 512   /* rows per block in predict: bounded scratch */

static int logreg_predict(float *P, const struct base_model *bm, const float *X, size_t n)
{
    const struct logreg_model *m = (const struct logreg_model *)bm;
    size_t D = m->D, K = m->K, Kp = m->Kp;
    int err = base_predict_check(X, n, D, "logreg");
    if (err) return err;
    double *Xd = malloc(ROWS * D * sizeof *Xd), *Zp = malloc(ROWS * Kp * sizeof *Zp),
           *S = malloc(ROWS * K * sizeof *S);
    if (!Xd || !Zp || !S) { free(Xd); free(Zp); free(S); return mb_error(MB_ENOMEM, "logreg: predict scratch"); }
    for (size_t i0 = 0; i0 < n; i0 += ROWS) {
        size_t b = n - i0 < ROWS ? n - i0 : ROWS;
        for (size_t t = 0; t < b * D; t++) Xd[t] = X[i0 * D + t];
        for (size_t r = 0; r < b; r++) memcpy(Zp + r * Kp, m->b, Kp * sizeof *Zp);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)Kp, (int)D, 1.0, Xd, (int)D, m->W,
                    (int)Kp, 1.0, Zp, (int)Kp);
        for (size_t r = 0; r < b; r++)
            for (size_t c = 0; c < Kp; c++) S[r * K + (size_t)m->cls[c]] = Zp[r * Kp + c];
        base_softmax_rows(P + i0 * K, S, b, K, m->present);
    }
    free(Xd); free(Zp); free(S);
    return MB_OK;
}

const struct base_classifier base_logreg = {
    .name = "logreg",
    .summary = "multinomial logistic regression, L2 on the weights (not the intercept), BFGS",
    .params = base_logreg_params,
    .hp_size = sizeof(struct base_logreg_hp),
    .fit = logreg_fit,
    .predict_proba = logreg_predict,
    .free = logreg_free,
};
