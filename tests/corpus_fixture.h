/* tests/corpus_fixture.h - a small hand-made unified corpus for the protocol
 * tests: S subjects, a rest class (id 0) and 6 gestures (ids 1..6), each
 * repeated 10 times (NinaPro-like repetition stream, rest carries 0), and
 * a 3-joint pose stream. Each gesture has a distinct pose; the EMG
 * amplitude of each channel is a positive linear map of the pose (plus a
 * per-subject channel gain), so a feature -> pose regression generalises to
 * gestures it never saw. */
#ifndef MB_TESTS_PR_FIXTURE_H
#define MB_TESTS_PR_FIXTURE_H

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "format/mbh5.h"

#define CPF_C 4
#define CPF_J 3
#define CPF_G 6            /* gestures besides rest */
#define CPF_RATE 200.0
#define CPF_MOVE 200       /* samples per repetition (1 s) */
#define CPF_REST 100       /* samples of rest after each repetition */

struct cpf_opts {
    int subjects;          /* default 4 */
    int reps;              /* repetitions per gesture, default 10 */
    int with_reps;         /* write the repetition stream (default 1; -1 = none) */
    int sessions;          /* recordings (sessions) per subject, default 1 */
    int no_pose;           /* 1: no pose stream */
    int stages;            /* 1: emg2pose-like official split: gestures 5, 6 are held-out stages
                            * (vocabulary flag) recorded in a second recording per subject
                            * tagged held_out_stage = "true", without rest labels */
    int two_sides;         /* 1: every session recorded twice, side "left" and "right" (emg2pose's
                            * two bands), with another channel gain per side */
};

static const float cpf_pose[CPF_G + 1][CPF_J] = {
    { 0, 0, 0 }, { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 1, 1, 0 }, { 0, 1, 1 }, { 1, 0, 1 },
};
static const float cpf_mix[CPF_C][CPF_J] = {
    { 1.0f, 0.2f, 0.1f }, { 0.1f, 1.0f, 0.3f }, { 0.2f, 0.1f, 1.0f }, { 0.6f, 0.6f, 0.2f },
};

static inline int cpf_write(const char *path, const struct cpf_opts *o_in)
{
    struct cpf_opts o = o_in ? *o_in : (struct cpf_opts){ 0 };
    if (!o.subjects) o.subjects = 4;
    if (!o.reps) o.reps = 10;
    if (!o.sessions) o.sessions = 1;
    int has_rep = o.with_reps >= 0;
    struct mbh5_corpus corpus = { "fixture", "hand-made", "", "test", "0", "{}" };
    struct mbh5_writer *w;
    int rc = mbh5_create(&w, path, &corpus);
    if (rc)
        return rc;
    struct mbh5_device dev = { .name = "band", .n_channels = CPF_C, .rate_hz = CPF_RATE, .units = "V", .scale = 1 };
    static const char *const names[CPF_G + 1] = { "rest", "g1", "g2", "g3", "g4", "g5", "g6" };
    if ((rc = mbh5_add_device(w, &dev)))
        goto bad;
    for (int g = 0; g <= CPF_G; g++)
        if ((rc = mbh5_add_gesture(w, &(struct mbh5_gesture){ g, names[g], names[g], o.stages && g >= 5 })))
            goto bad;
    size_t per = (size_t)(CPF_MOVE + CPF_REST);
    size_t T = (size_t)CPF_G * (size_t)o.reps * per;
    float *e = malloc(T * CPF_C * sizeof *e), *pose = malloc(T * CPF_J * sizeof *pose);
    int32_t *lab = malloc(T * sizeof *lab), *rep = malloc(T * sizeof *rep);
    for (int s = 0; s < o.subjects; s++)
        for (int ss = 0; ss < o.sessions; ss++)
        for (int part = 0; part < (o.stages ? 2 : 1); part++)
        for (int side = 0; side < (o.two_sides ? 2 : 1); side++) {
            /* part 0: every gesture (stages: 1..4), part 1: the held-out stages 5, 6 */
            int g_lo = part ? 5 : 1, g_hi = o.stages && !part ? 4 : CPF_G;
            struct mb_rng r;
            mb_rng_seed(&r, 77 + (uint64_t)side, (uint64_t)(s * 16 + ss));
            float gain[CPF_C];
            for (int ch = 0; ch < CPF_C; ch++)
                gain[ch] = (float)(0.8 + 0.4 * mb_rng_uniform(&r));
            size_t t = 0;
            for (int k = 0; k < o.reps; k++)
                for (int g = g_lo; g <= g_hi; g++) {
                    /* each repetition at its own intensity: pose and EMG
                     * amplitude vary together inside a gesture */
                    double u = 0.6 + 0.8 * mb_rng_uniform(&r);
                    for (size_t q = 0; q < per; q++, t++) {
                        int gg = q < CPF_MOVE ? g : 0;
                        lab[t] = gg || !part ? gg : -1;
                        rep[t] = gg ? k + 1 : 0;
                        for (int j = 0; j < CPF_J; j++)
                            pose[t * CPF_J + j] = (float)(u * cpf_pose[gg][j] + 0.02 * mb_rng_normal(&r));
                        for (int ch = 0; ch < CPF_C; ch++) {
                            double a = 0.05;
                            for (int j = 0; j < CPF_J; j++)
                                a += cpf_mix[ch][j] * u * cpf_pose[gg][j];
                            e[t * CPF_C + ch] = (float)(gain[ch] * a * mb_rng_normal(&r));
                        }
                    }
                }
            char subj[16], sess[16];
            snprintf(subj, sizeof subj, "s%d", s + 1);
            snprintf(sess, sizeof sess, o.sessions > 1 ? "d%d" : "", ss + 1);
            struct mbh5_rec_info info = {
                .subject = subj, .session = sess, .side = o.two_sides ? (side ? "right" : "left") : "", .day = -1, .device = "band", .rate_hz = CPF_RATE,
                .n_channels = CPF_C, .source = "fixture", .start_time = NAN, .has_repetition = has_rep,
            };
            struct mbh5_rec *rr;
            int sid = -1;
            if ((rc = mbh5_rec_begin(w, &rr, &info)) || (rc = mbh5_rec_add_tag(rr, "held_out_user", s == o.subjects - 1 ? "true" : "false")))
                goto bad2;
            if (o.stages && (rc = mbh5_rec_add_tag(rr, "held_out_stage", part ? "true" : "false")))
                goto bad2;
            if (!o.no_pose &&
                (rc = mbh5_rec_add_stream(rr, &sid, &(struct mbh5_stream_info){ "joint_angles", "pose", CPF_J, CPF_RATE,
                                                                               "rad", NULL, 0, 0 })))
                goto bad2;
            if ((rc = mbh5_rec_append(rr, e, lab, has_rep ? rep : NULL, NULL, t)))
                goto bad2;
            if (!o.no_pose && (rc = mbh5_rec_append_stream(rr, sid, pose, NULL, t)))
                goto bad2;
            if ((rc = mbh5_rec_end(rr)))
                goto bad2;
        }
    free(e); free(pose); free(lab); free(rep);
    return mbh5_commit(w);
bad2:
    free(e); free(pose); free(lab); free(rep);
bad:
    mbh5_abort(w);
    return rc;
}

/* Overwrites label t (0-based) of recording 'rec' ("r000001", ...) in place,
 * as a damaged or hand-edited file would hold it: the segment table is left
 * as it was. */
static inline int cpf_poke_label(const char *path, const char *rec, size_t t, int32_t label)
{
    char obj[64];
    snprintf(obj, sizeof obj, "/recordings/%s/labels", rec);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t d = f < 0 ? -1 : H5Dopen2(f, obj, H5P_DEFAULT);
    hid_t fs = d < 0 ? -1 : H5Dget_space(d);
    hsize_t at = t, one = 1;
    hid_t ms = H5Screate_simple(1, &one, NULL);
    herr_t e = fs < 0 ? -1 : H5Sselect_hyperslab(fs, H5S_SELECT_SET, &at, NULL, &one, NULL);
    if (e >= 0)
        e = H5Dwrite(d, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, &label);
    H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    return e < 0 || d < 0 ? MB_EH5 : MB_OK;
}

#endif
