/* tests/test_window.c - kernels/window: sample counts, counts of windows,
 * labels (end and majority), straddling windows, optimised vs reference. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "kernels/window.h"

Test(window, sample_counts_are_rounded_products)
{
    size_t n;
    cr_assert_eq(kern_window_samples(&n, 200, 2000), MB_OK); cr_assert_eq(n, 400);
    cr_assert_eq(kern_window_samples(&n, 200, 1111.11), MB_OK); cr_assert_eq(n, 222);
    cr_assert_eq(kern_window_samples(&n, 2.5, 1000), MB_OK); cr_assert_eq(n, 3, "half away from zero");
    cr_assert_eq(kern_window_samples(&n, 50, 200), MB_OK); cr_assert_eq(n, 10);
    cr_assert_eq(kern_window_samples(&n, 250, 2048), MB_OK); cr_assert_eq(n, 512);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(kern_window_samples(&n, 1, 100), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "shorter than one sample"), "%s", mb_last_error());
    cr_assert_eq(kern_window_samples(&n, -5, 100), MB_EINVAL);
    cr_assert_eq(kern_window_samples(&n, 5, 0), MB_EINVAL);
}

Test(window, unlabelled_recording_gives_every_full_window_as_a_view)
{
    struct kern_window_spec sp = { .win_ms = 100, .stride_ms = 30 };
    struct kern_windows w;
    /* fs 100 Hz: W = 10, S = 3; T = 25 -> floor(15 / 3) + 1 = 6 windows */
    cr_assert_eq(kern_windows_make(&w, &sp, 100, NULL, NULL, 25), MB_OK);
    cr_assert_eq(w.W, 10);
    cr_assert_eq(w.S, 3);
    cr_assert_eq(w.n, 6);
    for (size_t i = 0; i < w.n; i++) {
        cr_assert_eq(w.start[i], 3 * i);
        cr_assert_eq(w.label[i], -1);
        cr_assert_eq(w.rep[i], -1);
    }
    float x[25 * 2];
    for (int i = 0; i < 50; i++) x[i] = (float)i;
    cr_assert_eq(kern_window_ptr(x, 2, &w, 2)[0], 12.0f, "window 2 starts at row 6 of 2 channels");
    kern_windows_free(&w);
    cr_assert_eq(kern_windows_make(&w, &sp, 100, NULL, NULL, 9), MB_OK);
    cr_assert_eq(w.n, 0, "recording shorter than a window");
    kern_windows_free(&w);
}

Test(window, straddling_windows_are_dropped_and_labels_are_causal)
{
    /* labels: 0 x6, 1 x6, -1 x3, 2 x5; W = 4, S = 2 */
    int32_t lab[20] = { 0,0,0,0,0,0, 1,1,1,1,1,1, -1,-1,-1, 2,2,2,2,2 };
    struct kern_window_spec sp = { .win_ms = 4, .stride_ms = 2 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, lab, NULL, 20), MB_OK);
    /* candidates start 0,2,...,16; keep [0,4) [2,6) [6,10) [8,12) [16,20) */
    size_t want_s[] = { 0, 2, 6, 8, 16 };
    int32_t want_l[] = { 0, 0, 1, 1, 2 };
    cr_assert_eq(w.n, 5);
    for (size_t i = 0; i < w.n; i++) {
        cr_assert_eq(w.start[i], want_s[i]);
        cr_assert_eq(w.label[i], want_l[i]);
    }
    kern_windows_free(&w);
    sp.keep_straddling = 1;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, lab, NULL, 20), MB_OK);
    /* window [4,8) ends in label 1; only [10,14), ending unlabelled, is dropped */
    cr_assert_eq(w.n, 8);
    cr_assert_eq(w.start[2], 4);
    cr_assert_eq(w.label[2], 1);
    kern_windows_free(&w);
    sp.label = KERN_LABEL_MAJORITY;
    sp.keep_unlabelled = 1;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, lab, NULL, 20), MB_OK);
    cr_assert_eq(w.n, 9);
    cr_assert_eq(w.label[2], 0, "[4,8) has two 0s and two 1s: tie goes to the smaller label");
    cr_assert_eq(w.label[6], -1, "[12,16) is three quarters unlabelled");
    kern_windows_free(&w);
}

Test(window, repetition_changes_split_segments_too)
{
    int32_t lab[12] = { 3,3,3,3,3,3,3,3,3,3,3,3 };
    int32_t rep[12] = { 1,1,1,1,1,2,2,2,2,2,2,2 };
    struct kern_window_spec sp = { .win_ms = 4, .stride_ms = 1 };
    struct kern_windows w;
    cr_assert_eq(kern_windows_make(&w, &sp, 1000, lab, rep, 12), MB_OK);
    /* starts 0..8; straddling: starts 2,3,4 */
    cr_assert_eq(w.n, 6);
    cr_assert_eq(w.start[2], 5);
    cr_assert_eq(w.rep[0], 1);
    cr_assert_eq(w.rep[2], 2);
    kern_windows_free(&w);
}

Test(window, one_pass_equals_brute_force_on_random_label_streams)
{
    struct mb_rng r;
    mb_rng_seed(&r, 11, 0);
    for (int trial = 0; trial < 200; trial++) {
        size_t T = 1 + mb_rng_below(&r, 300);
        int32_t *lab = malloc(T * sizeof *lab), *rep = malloc(T * sizeof *rep);
        int32_t l = -1, p = 0;
        for (size_t t = 0; t < T; t++) {
            if (mb_rng_below(&r, 20) == 0) l = (int32_t)mb_rng_below(&r, 5) - 1;
            if (mb_rng_below(&r, 30) == 0) p++;
            lab[t] = l;
            rep[t] = p;
        }
        struct kern_window_spec sp = {
            .win_ms = 1 + (double)mb_rng_below(&r, 40), .stride_ms = 1 + (double)mb_rng_below(&r, 15),
            .label = (enum kern_label_mode)mb_rng_below(&r, 2),
            .keep_straddling = (int)mb_rng_below(&r, 2), .keep_unlabelled = (int)mb_rng_below(&r, 2),
        };
        int use_rep = (int)mb_rng_below(&r, 2);
        struct kern_windows a, b;
        cr_assert_eq(kern_windows_make(&a, &sp, 1000, lab, use_rep ? rep : NULL, T), MB_OK);
        cr_assert_eq(kern_windows_make_ref(&b, &sp, 1000, lab, use_rep ? rep : NULL, T), MB_OK);
        cr_assert_eq(a.n, b.n, "trial %d", trial);
        cr_assert_eq(memcmp(a.start, b.start, a.n * sizeof *a.start), 0);
        cr_assert_eq(memcmp(a.label, b.label, a.n * sizeof *a.label), 0, "trial %d", trial);
        cr_assert_eq(memcmp(a.rep, b.rep, a.n * sizeof *a.rep), 0);
        kern_windows_free(&a);
        kern_windows_free(&b);
        free(lab);
        free(rep);
    }
}
