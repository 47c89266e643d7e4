/* bench/bench_baselines.c - fit and predict time of every classical
 * classifier (baselines/classifier.h) on synthetic Gaussian classes:
 * N training rows (default 20000) x 40 features, 10 classes, predicting
 * NT rows (default 5000), BLAS on the caller's thread count. Each run's
 * test accuracy is printed beside its times, as a sanity check.
 * SVMs train 6 times (libsvm's 5-fold Platt scaling plus the final fit),
 * so they get their own row cap (-S, default 2000) to keep the default
 * run short; their row count is printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baselines/classifier.h"
#include "bench/bench.h"
#include "core/rng.h"

static void make_data(float *X, int32_t *y, size_t n, size_t D, size_t K, const float *means, uint64_t stream)
{
    struct mb_rng r;
    mb_rng_seed(&r, 2024, stream);
    for (size_t i = 0; i < n; i++) {
        y[i] = (int32_t)mb_rng_below(&r, K);
        for (size_t j = 0; j < D; j++)
            X[i * D + j] = means[(size_t)y[i] * D + j] + (float)mb_rng_normal(&r);
    }
}

int bench_baselines(int argc, char **argv)
{
    long n = 20000, nt = 5000, nsvm = 2000;
    const size_t D = 40, K = 10;
    const char *only = NULL;
    int opt;
    optind = 1;
    while ((opt = getopt(argc, argv, "n:t:S:m:h")) != -1) {
        switch (opt) {
        case 'n': n = atol(optarg); break;
        case 't': nt = atol(optarg); break;
        case 'S': nsvm = atol(optarg); break;
        case 'm': only = optarg; break;
        default:
            fprintf(opt == 'h' ? stdout : stderr,
                    "usage: baselines [-n TRAIN_ROWS] [-t TEST_ROWS] [-S SVM_TRAIN_ROWS] [-m CLASSIFIER]\n");
            return opt == 'h' ? 0 : 2;
        }
    }
    if (n < (long)K || nt < 1 || nsvm < (long)K) { fprintf(stderr, "baselines: too few rows\n"); return 2; }
    float *means = malloc(K * D * sizeof *means);
    float *X = malloc((size_t)n * D * sizeof *X), *Xt = malloc((size_t)nt * D * sizeof *Xt);
    int32_t *y = malloc((size_t)n * sizeof *y), *yt = malloc((size_t)nt * sizeof *yt);
    float *P = malloc((size_t)nt * K * sizeof *P);
    if (!means || !X || !Xt || !y || !yt || !P) { fprintf(stderr, "baselines: out of memory\n"); return 1; }
    struct mb_rng r;
    mb_rng_seed(&r, 2024, 0);
    /* Class means 0.35 standard deviations apart per feature: overlapping
     * classes, so accuracy is informative (neither chance nor 1). */
    for (size_t t = 0; t < K * D; t++) means[t] = (float)(0.35 * mb_rng_normal(&r));
    make_data(X, y, (size_t)n, D, K, means, 1);
    make_data(Xt, yt, (size_t)nt, D, K, means, 2);
    printf("%-12s %8s %8s %10s %12s %9s\n", "classifier", "rows", "features", "fit_s", "predict_s", "accuracy");
    int status = 0;
    for (const struct base_classifier *const *c = base_classifiers; *c; c++) {
        if (only && strcmp(only, (*c)->name)) continue;
        size_t rows = (size_t)n;
        if (!strncmp((*c)->name, "svm", 3) && (size_t)nsvm < rows) rows = (size_t)nsvm;
        struct base_model *m = NULL;
        double t0 = bench_now();
        if (base_fit_text(&m, *c, X, y, rows, D, K, NULL, 1)) { status = 1; continue; }
        double t1 = bench_now();
        int err = (*c)->predict_proba(P, m, Xt, (size_t)nt);
        double t2 = bench_now();
        (*c)->free(m);
        if (err) { status = 1; continue; }
        size_t ok = 0;
        for (size_t i = 0; i < (size_t)nt; i++) {
            size_t a = 0;
            for (size_t k = 1; k < K; k++) if (P[i * K + k] > P[i * K + a]) a = k;
            ok += a == (size_t)yt[i];
        }
        printf("%-12s %8zu %8zu %10.3f %12.3f %9.4f\n", (*c)->name, rows, D, t1 - t0, t2 - t1,
               (double)ok / (double)nt);
        fflush(stdout);
    }
    free(means); free(X); free(Xt); free(y); free(yt); free(P);
    return status;
}
