/* synth/render.c - presets, the file list, and the pure rendering of one
 * native file: protocol schedule -> pose trajectory -> EMG at the device's
 * rate -> the numbers the file stores. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "synth/internal.h"

/* ---- presets ----------------------------------------------------------- */

enum {
    ST_ALLPINCH = 0, ST_COFFEE, ST_COUNT1, ST_COUNT2, ST_DOORKNOB, ST_PONG, ST_ABDUCTION, ST_FREEFORM,
    ST_PINCH2, ST_PALM, ST_WIGGLE1, ST_PUNCH, ST_GESTURE1, ST_DESK, ST_PINCH3, ST_WIGGLE2, ST_UNCON,
    ST_GESTURE2, ST_PINCH4, ST_POINTING, ST_FREE1, ST_CHESS, ST_DRAW, ST_POKE, ST_GESTURE3, ST_SWIPES,
    ST_THUMBROT, ST_FREE2, ST_WRISTFLEX
};

int synth_params_preset(struct synth_params *p, const char *preset, uint64_t seed)
{
    return synth_params_preset_model(p, preset, seed, SYNTH_MODEL_DEFAULT);
}

int synth_params_preset_model(struct synth_params *p, const char *preset, uint64_t seed, int model)
{
    memset(p, 0, sizeof *p);
    if (model != 1 && model != 2)
        return mb_error(MB_EINVAL, "unknown synth model %d (1 or 2)", model);
    p->seed = seed;
    p->model = model;
    p->devices = (1u << SYNTH_N_DEVICES) - 1;
    p->e2p_ik_fail = 0.01;
    p->subject_spread = 1.0;
    if (!strcmp(preset, "tiny")) {
        static const int st[] = { ST_POINTING, ST_WRISTFLEX, ST_GESTURE2, ST_GESTURE3 };
        p->n_subjects = 3;
        p->e2p_sessions = 1;
        p->e2p_n_stages = 4;
        memcpy(p->e2p_stages, st, sizeof st);
        p->e2p_stage_s = 3.0;
        p->e2p_held_out_users = 1;
        p->db1_exercises = p->db5_exercises = p->db2_exercises = 1;
        p->nina_move_s = 1.0;
        p->nina_rest_s = 0.7;
        p->db2_move_s = 0.5;
        p->db2_rest_s = 0.3;
        p->db2_subjects = 1;
        p->myo_sessions = 1;
        p->myo_file_s = 20.0;
        p->kauf_days = 2;
        p->kauf_file_s = 2.0;
        p->uci_gesture_s = 1.5;
        p->uci_pause_s = 1.5;
    } else if (!strcmp(preset, "default")) {
        static const int st[] = { ST_GESTURE1, ST_POINTING, ST_WRISTFLEX, ST_THUMBROT,
                                  ST_GESTURE2, ST_GESTURE3, ST_COUNT1, ST_COUNT2 };
        p->n_subjects = 8;
        p->e2p_sessions = 1;
        p->e2p_n_stages = 8;
        memcpy(p->e2p_stages, st, sizeof st);
        p->e2p_stage_s = 10.0;
        p->e2p_held_out_users = 2;
        p->db1_exercises = p->db5_exercises = 2;   /* E3 in "large": zlib in libmatio is the bottleneck */
        p->db2_exercises = 1;
        p->nina_move_s = 2.5;
        p->nina_rest_s = 1.5;
        p->db2_move_s = 0.8;
        p->db2_rest_s = 0.5;
        p->db2_subjects = 2;
        p->myo_sessions = 2;
        p->myo_file_s = 60.0;
        p->kauf_days = 2;
        p->kauf_file_s = 5.0;
        p->uci_gesture_s = 3.0;
        p->uci_pause_s = 3.0;
    } else if (!strcmp(preset, "large")) {
        p->n_subjects = 10;
        p->e2p_sessions = 1;
        p->e2p_n_stages = SYNTH_N_STAGES;
        for (int i = 0; i < SYNTH_N_STAGES; i++)
            p->e2p_stages[i] = i;
        p->e2p_stage_s = 30.0;
        p->e2p_held_out_users = 2;
        p->db1_exercises = p->db5_exercises = p->db2_exercises = 3;
        p->nina_move_s = 5.0;
        p->nina_rest_s = 3.0;
        p->db2_move_s = 2.5;     /* 2 kHz x 70 columns through libmatio's zlib: */
        p->db2_rest_s = 1.5;     /* about 5 min of CPU per subject already */
        p->db2_subjects = 2;
        p->myo_sessions = 3;
        p->myo_file_s = 60.0;
        p->kauf_days = 5;
        p->kauf_file_s = 6.0;
        p->uci_gesture_s = 3.0;
        p->uci_pause_s = 3.0;
    } else if (!strcmp(preset, "sessions")) {
        /* Many sessions per subject, for cross-session (source-free)
         * adaptation: emg2pose (pose, 16 channels at the wrist) and the Myo
         * readings (labelled gestures, 8 channels, the real corpus has
         * <id>-<session> folders). Each session re-dons the band. */
        static const int st[] = { ST_GESTURE1, ST_POINTING, ST_WRISTFLEX, ST_GESTURE3 };
        p->devices = (1u << SYNTH_EMG2POSE) | (1u << SYNTH_MYO);
        p->n_subjects = 6;
        p->e2p_sessions = 8;
        p->e2p_n_stages = 4;
        memcpy(p->e2p_stages, st, sizeof st);
        p->e2p_stage_s = 5.0;
        p->e2p_held_out_users = 1;
        p->myo_sessions = 8;
        p->myo_file_s = 20.0;
        /* Unused by the two devices, but checked: the tiny values. */
        p->nina_move_s = p->db2_move_s = 0.5;
        p->nina_rest_s = p->db2_rest_s = 0.3;
        p->kauf_file_s = 2.0;
        p->uci_gesture_s = p->uci_pause_s = 1.5;
    } else {
        return mb_error(MB_EINVAL, "unknown synth preset '%s' (tiny, default, large or sessions)", preset);
    }
    /* Model 2: emg2pose users recorded several sessions, taking the band
     * off in between (the emg2pose paper); the total duration of the
     * default preset stays the same (2 sessions of 5 s stages instead of
     * one of 10 s). NinaPro DB1/DB2/DB5 have one acquisition per subject
     * (exercises in a row, which model 2 renders as one session: fatigue
     * and sweat carry over from E1 to E2), and the Myo readings and
     * Kaufmann presets already have sessions/days. */
    if (model == 2) {
        if (!strcmp(preset, "tiny")) {
            p->e2p_sessions = 2;
        } else if (!strcmp(preset, "default")) {
            p->e2p_sessions = 2;
            p->e2p_stage_s = 5.0;
        } else if (!strcmp(preset, "large")) {
            p->e2p_sessions = 3;
            p->e2p_stage_s = 20.0;
        }
    }
    return MB_OK;
}

static int db2_subjects(const struct synth_params *p)
{
    return p->db2_subjects > 0 && p->db2_subjects < p->n_subjects ? p->db2_subjects : p->n_subjects;
}

/* ---- identities -------------------------------------------------------- */

static const char *const dev_names[SYNTH_N_DEVICES] = {
    "emg2pose", "ninapro_db1", "ninapro_db2", "ninapro_db5", "myo_readings", "kaufmann_multiday", "uci_gestures"
};

const char *synth_device_name(enum synth_device dev)
{
    return (unsigned)dev < SYNTH_N_DEVICES ? dev_names[dev] : NULL;
}

/* emg2pose user id: 10 lower-case hex digits, like "d387095792". */
static void e2p_user(char out[11], uint64_t seed, int subject)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_IDS, SYNTH_EMG2POSE, subject, 0, 0, 0));
    snprintf(out, 11, "%010llx", (unsigned long long)(mb_rng_u64(&r) & 0xffffffffffULL));
}

/* Session start (Unix s, integer) and its 5-hex tag. */
static void e2p_session(int64_t *unix_s, char hex5[6], uint64_t seed, int subject, int session)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_IDS, SYNTH_EMG2POSE, subject, session, 1, 0));
    /* Sessions between 2022-06-01 and 2023-05-31, during working hours (UTC). */
    int64_t day = 19144 + (int64_t)mb_rng_below(&r, 365);
    *unix_s = day * 86400 + 8 * 3600 + (int64_t)mb_rng_below(&r, 9 * 3600);
    snprintf(hex5, 6, "%05llx", (unsigned long long)(mb_rng_u64(&r) & 0xfffffULL));
}

static void e2p_session_name(char *out, size_t cap, int64_t unix_s, const char *hex5)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, cap, "%04d-%02d-%02d-%lld-%s-cv-emg-pose-train@2", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, (long long)unix_s, hex5);
}

/* Myo participant id: a random 5-digit number, unique in the population. */
static int myo_id(uint64_t seed, int subject)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_IDS, SYNTH_MYO, 0, 0, 0, 0));
    /* A random permutation step: ids 10000 + (a*subject + b) mod 90000 with
     * a coprime to 90000 never collide. */
    uint64_t a = 7919, b = mb_rng_below(&r, 90000);
    return 10000 + (int)((a * (uint64_t)subject + b) % 90000);
}

static int myo_left(int subject) { return subject % 4 == 3; }

static int kauf_day(const struct synth_params *p, int d)
{
    if (p->kauf_days <= 1)
        return 1;
    return 1 + (int)lround((double)d * 119.0 / (p->kauf_days - 1));
}

static int uci_has_palm(int subject) { return subject % 3 != 2; }

struct uci_stamp { int hh, mm, dd, mo, yy; };

static struct uci_stamp uci_stamp(uint64_t seed, int subject, int series)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_IDS, SYNTH_UCI, subject, 0, 0, 0));
    struct uci_stamp s;
    s.hh = 9 + (int)mb_rng_below(&r, 8);
    s.mm = (int)mb_rng_below(&r, 58) + (series - 1);
    s.dd = 1 + (int)mb_rng_below(&r, 28);
    s.mo = 3 + (int)mb_rng_below(&r, 2);
    s.yy = 16;
    return s;
}

/* ---- the file list ----------------------------------------------------- */

struct flist { struct synth_file *v; size_t n, cap; };

static int fl_add(struct flist *l, enum synth_device dev, int subject, int session, int group, int side)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        struct synth_file *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return mb_error(MB_ENOMEM, "synth file list: out of memory");
        l->v = v;
        l->cap = cap;
    }
    struct synth_file *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    f->dev = dev;
    f->subject = subject;
    f->session = session;
    f->group = group;
    f->side = side;
    return MB_OK;
}

static void relpath(struct synth_file *f, const struct synth_params *p)
{
    char *o = f->relpath;
    size_t cap = sizeof f->relpath;
    int s = f->subject;
    switch (f->dev) {
    case SYNTH_EMG2POSE: {
        int64_t u;
        char hex[6], sess[80];
        e2p_session(&u, hex, p->seed, s, f->session);
        e2p_session_name(sess, sizeof sess, u, hex);
        snprintf(o, cap, "emg2pose/%s-recording-%d_%s.hdf5", sess, f->group + 1, f->side ? "right" : "left");
        break;
    }
    case SYNTH_DB1:
        snprintf(o, cap, "ninapro_db1/s%d/S%d_A1_E%d.mat", s + 1, s + 1, f->group);
        break;
    case SYNTH_DB2:
        snprintf(o, cap, "ninapro_db2/DB2_s%d/S%d_E%d_A1.mat", s + 1, s + 1, f->group);
        break;
    case SYNTH_DB5:
        snprintf(o, cap, "ninapro_db5/s%d/S%d_E%d_A1.mat", s + 1, s + 1, f->group);
        break;
    case SYNTH_MYO:
        snprintf(o, cap, "myo_readings/_readings_%s_hand/%05d-%d/%d.txt", myo_left(s) ? "left" : "right",
                 myo_id(p->seed, s), f->session + 1, f->group);
        break;
    case SYNTH_KAUFMANN:
        snprintf(o, cap, "kaufmann_multiday/S%d_D%d_C%d.csv", s, kauf_day(p, f->session), f->group);
        break;
    case SYNTH_UCI: {
        struct uci_stamp st = uci_stamp(p->seed, s, f->group);
        snprintf(o, cap, "uci_gestures/%02d/%d_raw_data_%02d-%02d_%02d.%02d.%02d.txt", s + 1, f->group,
                 st.hh, st.mm, st.dd, st.mo, st.yy);
        break;
    }
    default:
        o[0] = '\0';
    }
}

int synth_params_check(const struct synth_params *p)
{
    if (p->n_subjects < 1 || p->n_subjects > 9999)
        return mb_error(MB_EINVAL, "synth: %d subjects (1 to 9999)", p->n_subjects);
    if (p->e2p_n_stages < 0 || p->e2p_n_stages > SYNTH_N_STAGES)
        return mb_error(MB_EINVAL, "synth: e2p_n_stages %d (0 to %d)", p->e2p_n_stages, SYNTH_N_STAGES);
    for (int i = 0; i < p->e2p_n_stages; i++)
        if (!synth_stage_get(p->e2p_stages[i]))
            return mb_error(MB_EINVAL, "synth: e2p_stages[%d] = %d is not a stage (0 to %d)", i,
                            p->e2p_stages[i], SYNTH_N_STAGES - 1);
    if (p->e2p_sessions < 0 || p->e2p_sessions > 255 || p->myo_sessions < 0 || p->myo_sessions > 255 ||
        p->kauf_days < 0 || p->kauf_days > 120)
        return mb_error(MB_EINVAL, "synth: sessions %d/%d or days %d out of range", p->e2p_sessions,
                        p->myo_sessions, p->kauf_days);
    if (p->e2p_held_out_users < 0 || p->e2p_held_out_users > p->n_subjects)
        return mb_error(MB_EINVAL, "synth: e2p_held_out_users %d with %d subjects", p->e2p_held_out_users,
                        p->n_subjects);
    if (p->db1_exercises < 0 || p->db1_exercises > 3 || p->db2_exercises < 0 || p->db2_exercises > 3 ||
        p->db5_exercises < 0 || p->db5_exercises > 3)
        return mb_error(MB_EINVAL, "synth: NinaPro exercises must be 0 to 3 (%d, %d, %d)", p->db1_exercises,
                        p->db2_exercises, p->db5_exercises);
    const double d[] = { p->e2p_stage_s, p->nina_move_s, p->nina_rest_s, p->db2_move_s, p->db2_rest_s,
                         p->myo_file_s, p->kauf_file_s, p->uci_gesture_s, p->uci_pause_s };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
        if (!(d[i] > 0.0 && d[i] < 1e5))
            return mb_error(MB_EINVAL, "synth: duration %zu of the parameters is %g s (must be > 0)", i, d[i]);
    if (!(p->subject_spread >= 0.0 && p->subject_spread <= 2.0))
        return mb_error(MB_EINVAL, "synth: subject_spread %g (0 to 2)", p->subject_spread);
    if (p->model != 1 && p->model != 2)
        return mb_error(MB_EINVAL, "synth: model %d (1 or 2)", p->model);
    if (!(p->e2p_ik_fail >= 0.0 && p->e2p_ik_fail <= 0.5))
        return mb_error(MB_EINVAL, "synth: e2p_ik_fail %g (0 to 0.5)", p->e2p_ik_fail);
    return MB_OK;
}

int synth_list(struct synth_file **out, size_t *n, const struct synth_params *p)
{
    struct flist l = {0};
    *out = NULL;
    *n = 0;
    int rc = synth_params_check(p);
    if (rc != MB_OK)
        return rc;
    for (int d = 0; d < SYNTH_N_DEVICES && rc == MB_OK; d++) {
        if (!(p->devices & (1u << d)))
            continue;
        for (int s = 0; s < p->n_subjects && rc == MB_OK; s++) {
            switch (d) {
            case SYNTH_EMG2POSE:
                for (int se = 0; se < p->e2p_sessions && rc == MB_OK; se++)
                    for (int g = 0; g < p->e2p_n_stages && rc == MB_OK; g++)
                        for (int side = 0; side < 2 && rc == MB_OK; side++)
                            rc = fl_add(&l, d, s, se, g, side);
                break;
            case SYNTH_DB1:
                for (int e = 1; e <= p->db1_exercises && rc == MB_OK; e++)
                    rc = fl_add(&l, d, s, 0, e, 0);
                break;
            case SYNTH_DB2:
                if (s < db2_subjects(p))
                    for (int e = 1; e <= p->db2_exercises && rc == MB_OK; e++)
                        rc = fl_add(&l, d, s, 0, e, 0);
                break;
            case SYNTH_DB5:
                for (int e = 1; e <= p->db5_exercises && rc == MB_OK; e++)
                    rc = fl_add(&l, d, s, 0, e, 0);
                break;
            case SYNTH_MYO:
                for (int se = 0; se < p->myo_sessions && rc == MB_OK; se++)
                    for (int g = 0; g <= 7 && rc == MB_OK; g++)
                        rc = fl_add(&l, d, s, se, g, 0);
                break;
            case SYNTH_KAUFMANN:
                for (int day = 0; day < p->kauf_days && rc == MB_OK; day++)
                    for (int g = 0; g <= 10 && rc == MB_OK; g++)
                        rc = fl_add(&l, d, s, day, g, 0);
                break;
            case SYNTH_UCI:
                for (int g = 1; g <= 2 && rc == MB_OK; g++)
                    rc = fl_add(&l, d, s, 0, g, 0);
                break;
            }
        }
    }
    if (rc != MB_OK) {
        free(l.v);
        return rc;
    }
    for (size_t i = 0; i < l.n; i++)
        relpath(&l.v[i], p);
    *out = l.v;
    *n = l.n;
    return MB_OK;
}

/* ---- devices ----------------------------------------------------------- */

static void rig_for(struct synth_rig *rig, enum synth_device dev, int mirror)
{
    memset(rig, 0, sizeof *rig);
    rig->mirror = mirror;
    const double d45 = M_PI / 4;
    /* Electrode spacing and size (model v2 only): Delsys Trigno 4 silver
     * bars 5 x 1 mm, 10 mm apart (manufacturer); Kaufmann's MindMedia with
     * Ag/AgCl discs at the SENIAM spacing of 20 mm, 10 mm across; Myo pods
     * about 10 mm between bars, 5 mm wide; the Otto Bock 13E200 two domes
     * about 15 mm apart, 8 mm across, and the emg2pose wristband 10 mm
     * pairs of 5 mm contacts (both estimated from photographs, not
     * documented). */
    switch (dev) {
    case SYNTH_DB1:      rig->ied_mm = 15.0; rig->size_mm = 8.0; break;
    case SYNTH_DB2:      rig->ied_mm = 10.0; rig->size_mm = 5.0; break;
    case SYNTH_KAUFMANN: rig->ied_mm = 20.0; rig->size_mm = 10.0; break;
    default:             rig->ied_mm = 10.0; rig->size_mm = 5.0; break;
    }
    switch (dev) {
    case SYNTH_EMG2POSE:
        rig->n_channels = 16;
        for (int c = 0; c < 16; c++) {
            rig->angle[c] = c * M_PI / 8;
            rig->level[c] = LEVEL_WRIST;
        }
        break;
    case SYNTH_DB1:
    case SYNTH_DB2:
        /* 8 electrodes equally spaced around the forearm, 2 on the activity
         * spots of the finger flexor and extensor found by palpation, and
         * (DB2) 2 on biceps and triceps. */
        rig->n_channels = dev == SYNTH_DB1 ? 10 : 12;
        for (int c = 0; c < 8; c++)
            rig->angle[c] = c * d45;
        rig->anchored[8] = 1;
        rig->anchor_muscle[8] = 8;     /* FDS */
        rig->level[8] = LEVEL_DISTAL;
        rig->anchored[9] = 1;
        rig->anchor_muscle[9] = 0;     /* EDC */
        rig->level[9] = LEVEL_DISTAL;
        if (dev == SYNTH_DB2) {
            rig->special[10] = 1;
            rig->special[11] = 2;
        }
        break;
    case SYNTH_DB5:
        /* Two Myo armbands: proximal, and distal rotated by 22.5 degrees. */
        rig->n_channels = 16;
        for (int c = 0; c < 8; c++) {
            rig->angle[c] = c * d45;
            rig->angle[8 + c] = c * d45 + M_PI / 8;
            rig->level[8 + c] = LEVEL_DISTAL;
        }
        break;
    case SYNTH_MYO:
    case SYNTH_UCI:
        rig->n_channels = 8;
        for (int c = 0; c < 8; c++)
            rig->angle[c] = c * d45;
        break;
    case SYNTH_KAUFMANN:
        rig->n_channels = 4;
        for (int c = 0; c < 4; c++)
            rig->angle[c] = 0.35 + c * M_PI / 2;
        break;
    default:
        break;
    }
}

/* Per-session armband rotation and channel gains of one device. */
static void session_opts(struct synth_emg_opts *o, uint64_t seed, enum synth_device dev, int subject,
                         int session, int C)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_SESSION, dev, subject, session, 0, 0));
    o->session_rot = 0.12 * mb_rng_normal(&r);
    for (int c = 0; c < C; c++)
        o->gain[c] = exp(0.2 * mb_rng_normal(&r));
}

/* Model v2's session: re-donning (rotation and shift of the band), contact
 * gains and sweat, from their own stream, so model 1's draws stay as they
 * were. t: seconds since the band was put on at the file's sample 0. */
static void session_opts_v2(struct synth_emg_opts *o, const struct synth_params *p, enum synth_device dev,
                            int subject, int session, int C, double t)
{
    o->model = p->model;
    if (p->model != 2)
        return;
    struct mb_rng r;
    mb_rng_seed(&r, p->seed, synth_stream(ST_SESSION2, dev, subject, session, 0, 0));
    /* Re-donning: rotation sd 10 degrees (about 7 mm of a 26 cm forearm),
     * shift along the forearm sd 8 mm (the 1 cm displacements Hargrove et
     * al. 2008 found to matter), contact gains lognormal sd 0.2. */
    o->session_rot = 10.0 * M_PI / 180.0 * mb_rng_normal(&r);
    o->session_shift = 8.0 / 250.0 * mb_rng_normal(&r);
    for (int c = 0; c < C; c++)
        o->gain[c] = exp(0.2 * mb_rng_normal(&r));
    o->sweat = 0.3 * mb_rng_uniform(&r);
    o->session_t = t;
}

/* ---- schedules --------------------------------------------------------- */

/* One protocol trial and the movement that followed it. */
struct trial {
    double s0, s1;         /* stimulus (protocol) interval, s */
    double r0, r1;         /* interval where the movement is held: refined label */
    int label, rep;
};

/* Adds keyframes for one trial: the subject reacts, ramps to the gesture
 * pose, holds, and returns to rest. 'scale' shortens reaction and ramp for
 * short presets. Returns the refined interval in tr->r0/r1. */
static int add_trial(struct synth_traj *tj, struct trial *t, const struct synth_subject *s,
                     const float target[SYNTH_N_DOF], float osc, int osc_kind, struct mb_rng *r, double scale,
                     double limit)
{
    double react = scale * s->react_s * exp(0.2 * mb_rng_normal(r));
    double ramp = scale * s->ramp_s * exp(0.15 * mb_rng_normal(r));
    double on = t->s0 + react, off = t->s1 + scale * s->react_s * exp(0.2 * mb_rng_normal(r));
    if (on + ramp > off)
        off = on + ramp + 0.05;
    if (off + ramp > limit)
        off = limit - ramp;
    if (off < on + ramp)
        off = on + ramp;
    int rc = synth_traj_add(tj, on, s->rest_q, 0, 0);
    if (rc == MB_OK)
        rc = synth_traj_add(tj, on + ramp, target, osc, osc_kind);
    if (rc == MB_OK)
        rc = synth_traj_add(tj, off, target, 0, 0);
    if (rc == MB_OK)
        rc = synth_traj_add(tj, off + ramp, s->rest_q, 0, 0);
    /* Refined labels mark where the pose is within ~20 % of the target,
     * as the a-posteriori relabelling from the EMG does, plus an error of
     * a few tens of milliseconds. */
    t->r0 = on + 0.7 * ramp + 0.03 * mb_rng_normal(r);
    t->r1 = off + 0.3 * ramp + 0.03 * mb_rng_normal(r);
    if (t->r1 <= t->r0)
        t->r1 = t->r0 + 0.01;
    return rc;
}

static void recording_zero(struct synth_recording *r, const struct synth_file *f)
{
    memset(r, 0, sizeof *r);
    r->file = *f;
    r->unlabelled = SYNTH_NO_UNLABELLED;
    r->held_out_user = r->held_out_stage = -1;
    r->day = -1;
    r->start = r->end = NAN;
}

void synth_recording_free(struct synth_recording *r)
{
    if (!r)
        return;
    free(r->emg);
    free(r->time);
    free(r->label);
    free(r->rep);
    free(r->stimulus);
    free(r->repetition);
    free(r->pose);
    free(r->pose_valid);
    free(r->glove);
    free(r->acc);
    memset(r, 0, sizeof *r);
}

static int alloc_common(struct synth_recording *r, size_t n, int C)
{
    r->n = n;
    r->n_channels = C;
    r->emg = malloc((n ? n : 1) * (size_t)C * sizeof *r->emg);
    r->label = calloc(n ? n : 1, sizeof *r->label);
    if (!r->emg || !r->label)
        return mb_error(MB_ENOMEM, "synth '%s': out of memory (%zu samples)", r->file.relpath, n);
    return MB_OK;
}

static size_t sec2idx(double t, double fs, size_t n)
{
    if (t <= 0)
        return 0;
    double x = ceil(t * fs - 1e-9);
    return x >= (double)n ? n : (size_t)x;
}

/* CyberGlove-like sensors (22) from the pose: each sensor bends with one
 * or two joints; fit (offset, gain) depends on subject and session. */
static void glove_values(double *g /* [22] */, const float q[SYNTH_N_DOF], const double off[22],
                         const double gain[22])
{
    static const signed char src[22][2] = {
        { 1, -1 }, { 2, -1 }, { 3, -1 }, { 0, 1 }, { 5, -1 }, { 6, -1 }, { 7, -1 }, { 9, -1 }, { 10, -1 },
        { 11, -1 }, { 4, 8 }, { 13, -1 }, { 14, -1 }, { 15, -1 }, { 8, 12 }, { 17, -1 }, { 18, -1 },
        { 19, -1 }, { 12, 16 }, { 17, 1 }, { 20, -1 }, { 21, -1 }
    };
    for (int k = 0; k < 22; k++) {
        double v = q[src[k][0]];
        if (src[k][1] >= 0)
            v = (k == 10 || k == 14 || k == 18) ? v - q[src[k][1]] : 0.5 * (v + q[src[k][1]]);
        g[k] = off[k] + gain[k] * v;
    }
}

/* ---- NinaPro ----------------------------------------------------------- */

/* One exercise file of a NinaPro database: what the database and the
 * preset fix before anything random is drawn. */
struct nina_layout {
    enum synth_device dev;
    int ex;                /* exercise (file group) */
    int G, R;              /* gestures of the exercise, repetitions of each */
    double fs;             /* EMG rate, Hz */
    double move, rest;     /* stimulus and rest durations, s */
    double scale;          /* < 1 shortens reaction and ramp for short presets */
    int off;               /* the exercise's first label in the database's numbering */
    int global;            /* labels are database-global (DB2, DB5), else exercise-local (DB1) */
    int ntr;               /* trials, G x R */
    double dur;            /* s */
    size_t n;              /* samples */
};

static int nina_layout(struct nina_layout *L, const struct synth_params *p, const struct synth_file *f)
{
    enum synth_device dev = f->dev;
    memset(L, 0, sizeof *L);   /* defined on a refusal too */
    L->dev = dev;
    L->ex = f->group;
    L->G = synth_vocab_count(dev, L->ex);
    if (L->G <= 0)
        return mb_error(MB_EINVAL, "synth: %s has no exercise %d", synth_device_name(dev), L->ex);
    L->R = dev == SYNTH_DB1 ? 10 : 6;
    L->fs = dev == SYNTH_DB1 ? 100.0 : dev == SYNTH_DB2 ? 2000.0 : 200.0;
    L->move = dev == SYNTH_DB2 ? p->db2_move_s : p->nina_move_s;
    L->rest = dev == SYNTH_DB2 ? p->db2_rest_s : p->nina_rest_s;
    L->scale = L->move < 2.5 ? L->move / 2.5 : 1.0;
    L->off = synth_vocab_nina_offset(dev, L->ex);
    L->global = dev != SYNTH_DB1;
    L->ntr = L->G * L->R;
    /* DB5 files end with the last stimulus, as the real ones do. */
    L->dur = L->rest + L->ntr * (L->move + L->rest) - (dev == SYNTH_DB5 ? L->rest : 0.0);
    L->n = (size_t)llround(L->dur * L->fs);
    return MB_OK;
}

/* The exercise's protocol: each gesture R times in a row, each trial a
 * stimulus then a rest, and the movement the subject makes of it as
 * keyframes of tj (rest pose before the first and after the last). */
static int nina_schedule(struct trial *tr /* [ntr] */, struct synth_traj *tj, const struct nina_layout *L,
                         const struct synth_params *p, const struct synth_file *f, const struct synth_subject *S)
{
    tj->osc_hz = S->osc_hz;
    int rc = synth_traj_add(tj, 0.0, S->rest_q, 0, 0);
    for (int g = 0; g < L->G && rc == MB_OK; g++) {
        const struct synth_gesture *ge = synth_vocab_gesture(L->dev, L->ex, g + 1);
        for (int k = 0; k < L->R && rc == MB_OK; k++) {
            int i = g * L->R + k;
            struct trial *t = &tr[i];
            struct mb_rng rr;
            mb_rng_seed(&rr, p->seed, synth_stream(ST_REP, L->dev, f->subject, L->ex, g + 1, k + 1));
            float q[SYNTH_N_DOF];
            synth_gesture_pose(q, S, p->seed, f->subject, ge, &rr);
            t->s0 = L->rest + i * (L->move + L->rest);
            t->s1 = t->s0 + L->move;
            t->label = (L->global ? L->off : 0) + g + 1;
            t->rep = k + 1;
            double limit = i + 1 < L->ntr ? t->s1 + L->rest + S->react_s * L->scale : L->dur + 2.0;
            rc = add_trial(tj, t, S, q, ge->dyn ? 0.25f : 0.0f, ge->dyn, &rr, L->scale, limit);
        }
    }
    if (rc == MB_OK)
        rc = synth_traj_add(tj, L->dur + 10.0, S->rest_q, 0, 0);
    return rc;
}

/* The recording's arrays: EMG and labels, raw stimulus and repetition,
 * 22 glove sensors, and the accelerometers of DB2 (12 x 3) and DB5 (3). */
static int nina_alloc(struct synth_recording *out, const struct nina_layout *L, int C, const char *relpath)
{
    size_t n = L->n;
    int rc = alloc_common(out, n, C);
    if (rc != MB_OK)
        return rc;
    out->rate_hz = L->fs;
    out->rep = calloc(n ? n : 1, sizeof *out->rep);
    out->stimulus = calloc(n ? n : 1, sizeof *out->stimulus);
    out->repetition = calloc(n ? n : 1, sizeof *out->repetition);
    out->n_glove = 22;
    out->glove = malloc((n ? n : 1) * 22 * sizeof *out->glove);
    out->n_acc = L->dev == SYNTH_DB2 ? 36 : L->dev == SYNTH_DB5 ? 3 : 0;
    if (out->n_acc)
        out->acc = malloc((n ? n : 1) * (size_t)out->n_acc * sizeof *out->acc);
    if (!out->rep || !out->stimulus || !out->repetition || !out->glove || (out->n_acc && !out->acc))
        return mb_error(MB_ENOMEM, "synth '%s': out of memory", relpath);
    return MB_OK;
}

/* Seconds from donning to the start of exercise file f: the exercises of
 * a database were recorded in a row in one acquisition; a minute of setup,
 * then each earlier exercise and a 2 min break. */
static double nina_session_t(const struct synth_params *p, const struct synth_file *f)
{
    double t = 60.0;
    for (int e = 1; e < f->group; e++) {
        struct synth_file g = *f;
        g.group = e;
        struct nina_layout L;
        if (nina_layout(&L, p, &g) == MB_OK)
            t += L.dur + 120.0;
    }
    return t;
}

/* EMG activation -> what each database stores, on its device's grid. */
static double nina_emg_units(double x, enum synth_device dev)
{
    if (dev == SYNTH_DB1) {
        /* Volts: activation 1 gives about 2 V; 5/2048 V steps, then
         * the 4-decimal rounding seen in the real files. */
        double v = x * 2.0;
        long k = lround(v / (5.0 / 2048.0));
        if (k > 2047) k = 2047;
        if (k < 0) k = 0;
        return (double)lround(k * (5.0 / 2048.0) * 1e4) / 1e4;
    }
    if (dev == SYNTH_DB2) {
        /* Delsys Trigno: volts, around 1e-4 V for a strong
         * contraction, on a 2^-23 V (0.12 uV) grid. */
        return (double)llround(x * 1.2e-4 * 8388608.0) / 8388608.0;
    }
    /* Myo: int8 counts, floor() gives the -0.5 mean offset the
     * real DB5 files show. */
    double v = floor(x * 45.0);
    return v > 127 ? 127 : v < -128 ? -128 : v;
}

/* The EMG of the movement in tj, with each device's front end (Otto Bock
 * envelopes, Delsys raw with mains and baseline wander, Myo filtered on
 * board), in the database's units. */
static int nina_emg(struct synth_recording *out, const struct nina_layout *L, const struct synth_params *p,
                    const struct synth_file *f, const struct synth_subject *S, const struct synth_rig *rig,
                    const struct synth_traj *tj)
{
    struct synth_emg_opts o = { .fs = L->fs, .n = L->n, .t0 = 0.0 };
    session_opts(&o, p->seed, L->dev, f->subject, 0, rig->n_channels);
    session_opts_v2(&o, p, L->dev, f->subject, 0, rig->n_channels, nina_session_t(p, f));
    struct mb_rng nr;
    mb_rng_seed(&nr, p->seed, synth_stream(ST_NOISE, L->dev, f->subject, 0, L->ex, 0));
    if (L->dev == SYNTH_DB1) {
        o.envelope = 1;
        o.noise = 0.004;
    } else if (L->dev == SYNTH_DB2) {
        o.hp_hz = 20.0;
        o.noise = 0.01;
        o.powerline = 0.02;
        o.wander = 0.05;
    } else {
        o.hp_hz = 5.0;
        o.noise = 0.02;
        o.powerline = 0.0;   /* the Myo filters the mains out on board */
        o.wander = 0.02;
    }
    int rc = synth_emg(out->emg, S, rig, tj, &o, &nr);
    if (rc != MB_OK)
        return rc;
    size_t NC = L->n * (size_t)rig->n_channels;
    for (size_t i = 0; i < NC; i++)
        out->emg[i] = nina_emg_units(out->emg[i], L->dev);
    return MB_OK;
}

/* Labels: raw stimulus/repetition from the protocol, refined
 * restimulus/rerepetition from the movement. */
static void nina_labels(struct synth_recording *out, const struct trial *tr, const struct nina_layout *L)
{
    size_t n = L->n;
    for (int k = 0; k < L->ntr; k++) {
        const struct trial *t = &tr[k];
        for (size_t i = sec2idx(t->s0, L->fs, n), e = sec2idx(t->s1, L->fs, n); i < e; i++) {
            out->stimulus[i] = t->label;
            out->repetition[i] = t->rep;
        }
        for (size_t i = sec2idx(t->r0, L->fs, n), e = sec2idx(t->r1, L->fs, n); i < e; i++) {
            out->label[i] = t->label;
            out->rep[i] = t->rep;
        }
    }
    if (L->dev == SYNTH_DB5) {
        /* Real DB5 quirk: the rest before a movement carries that
         * movement's repetition in 'rerepetition'; the trailing rest 0. */
        int32_t next = 0;
        for (size_t i = n; i-- > 0;) {
            if (out->label[i] != 0)
                next = out->rep[i];
            else
                out->rep[i] = next;
        }
    }
    out->label_offset = L->global ? 0 : L->off;
}

/* The glove model: each sensor's offset and gain on this subject. The
 * glove, not the wearer, fixes each sensor's polarity, resting level and
 * sensitivity (one stream per database); the wearer's fit shifts the level
 * by about 10 and scales the sensitivity by about 15 % (one stream per
 * subject, shared by the exercises of the session; scaled by
 * --subject-spread like the anatomy). Measured on the real files in
 * shared/data/real: DB1 (raw 8-bit counts) rests at 74 to 140 by sensor,
 * within about 10 counts across its four subjects, sd 5-35 during
 * movements; DB5 (calibrated) rests at -25 to 75 by sensor, within about 15
 * across its two subjects, sd 3-32. A per-subject random sign (before
 * 2026-12-07) made the glove useless across subjects, unlike the real ones
 * (a pose probe on real DB1: 49 % balanced accuracy across subjects). */
static void nina_glove_fit(double off[22], double gain[22], const struct synth_params *p, enum synth_device dev,
                           int subject)
{
    struct mb_rng gd, gw;
    mb_rng_seed(&gd, p->seed, synth_stream(ST_GLOVE, dev, 0, 0, 0, 1));   /* the glove (rep 1: no noise stream) */
    mb_rng_seed(&gw, p->seed, synth_stream(ST_GLOVE_FIT, dev, subject, 0, 0, 0)); /* the fit */
    for (int k = 0; k < 22; k++) {
        double base = dev == SYNTH_DB1 ? 75 + 65 * mb_rng_uniform(&gd) : 30 * mb_rng_normal(&gd);
        double sign = mb_rng_uniform(&gd) < 0.5 ? -1 : 1, sens = 45 + 20 * mb_rng_uniform(&gd);
        off[k] = base + p->subject_spread * 10 * mb_rng_normal(&gw);
        gain[k] = sign * sens * exp(p->subject_spread * 0.15 * mb_rng_normal(&gw));
    }
}

/* One glove reading (22 sensors) of pose q, with reading noise from gr, in
 * the database's units: DB1 8-bit counts, DB2 and DB5 single floats. */
static void nina_glove_read(double *row /* [22] */, const float q[SYNTH_N_DOF], const double off[22],
                            const double gain[22], enum synth_device dev, struct mb_rng *gr)
{
    double g[22];
    glove_values(g, q, off, gain);
    for (int k = 0; k < 22; k++) {
        double v = g[k] + (dev == SYNTH_DB1 ? 0.4 : 1.5) * mb_rng_normal(gr);
        if (dev == SYNTH_DB1) {
            v = (double)lround(v);
            v = v < 0 ? 0 : v > 255 ? 255 : v;
        } else {
            v = (double)(float)v;      /* DB5 stores single; DB2 keeps the float grid too */
        }
        row[k] = v;
    }
}

/* One accelerometer reading of pose q: gravity seen by na/3 sensors around
 * the forearm (angles ang[]), turning with pronation, noise from gr, on a
 * 1/1024 g grid. */
static void nina_acc_read(double *row /* [na] */, size_t na, const float q[SYNTH_N_DOF], const double ang[12],
                          enum synth_device dev, struct mb_rng *gr)
{
    for (size_t k = 0; k < na / 3; k++) {
        double a = ang[k] + q[22];
        double v[3] = { -0.15 + 0.1 * q[20], sin(a), -cos(a) };
        for (int ax = 0; ax < 3; ax++) {
            double x = v[ax] + 0.01 * mb_rng_normal(gr);
            x = (double)lround(x * 1024.0) / 1024.0;
            row[3 * k + (size_t)ax] = dev == SYNTH_DB5 ? (double)(float)x : x;
        }
    }
}

/* Glove and accelerometers follow the same pose as the EMG. The real
 * databases upsample them to the EMG rate by holding each reading: DB2
 * glove at 25 Hz and accelerometers at 148 Hz, DB5 accelerometer (Myo IMU)
 * at 50 Hz. Both draw their noise from one stream, sample by sample, glove
 * first. */
static void nina_sensors(struct synth_recording *out, const struct nina_layout *L, const struct synth_params *p,
                         const struct synth_file *f, const struct synth_subject *S, const struct synth_traj *tj)
{
    enum synth_device dev = L->dev;
    struct mb_rng gr;
    mb_rng_seed(&gr, p->seed, synth_stream(ST_GLOVE, dev, f->subject, 0, L->ex, 0));   /* reading noise */
    double goff[22], ggain[22];
    nina_glove_fit(goff, ggain, p, dev, f->subject);
    double acc_ang[12];
    for (int k = 0; k < 12; k++)
        acc_ang[k] = k < 8 ? k * M_PI / 4 + S->rotation : (k == 8 ? 3.7 : k == 9 ? 0.2 : 1.5 * k);
    double fs = L->fs, glove_hz = dev == SYNTH_DB2 ? 25.0 : fs, acc_hz = dev == SYNTH_DB2 ? 148.0 : 50.0;
    size_t na = (size_t)out->n_acc;
    long last_g = -1, last_a = -1;
    size_t cur = 0;
    for (size_t i = 0; i < L->n; i++) {
        float q[SYNTH_N_DOF], dq[SYNTH_N_DOF];
        synth_traj_eval(q, dq, tj, &cur, (double)i / fs);
        long tg = (long)floor((double)i * glove_hz / fs);
        if (tg == last_g) {
            memcpy(&out->glove[i * 22], &out->glove[(i - 1) * 22], 22 * sizeof *out->glove);
        } else {
            last_g = tg;
            nina_glove_read(&out->glove[i * 22], q, goff, ggain, dev, &gr);
        }
        if (!na)
            continue;
        long ta = (long)floor((double)i * acc_hz / fs);
        if (ta == last_a) {
            memcpy(&out->acc[i * na], &out->acc[(i - 1) * na], na * sizeof *out->acc);
        } else {
            last_a = ta;
            nina_acc_read(&out->acc[i * na], na, q, acc_ang, dev, &gr);
        }
    }
}

/* One exercise file of DB1, DB2 or DB5: the protocol's trials, the
 * movement, then everything the file holds rendered from it. */
static int render_nina(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f,
                       const struct synth_subject *S)
{
    struct nina_layout L;
    int rc = nina_layout(&L, p, f);
    if (rc != MB_OK)
        return rc;
    struct trial *tr = calloc((size_t)L.ntr, sizeof *tr);
    struct synth_traj tj = {0};
    if (!tr)
        rc = mb_error(MB_ENOMEM, "synth '%s': out of memory", f->relpath);
    if (rc == MB_OK)
        rc = nina_schedule(tr, &tj, &L, p, f, S);
    struct synth_rig rig;
    rig_for(&rig, L.dev, 0);
    if (rc == MB_OK)
        rc = nina_alloc(out, &L, rig.n_channels, f->relpath);
    if (rc == MB_OK)
        rc = nina_emg(out, &L, p, f, S, &rig, &tj);
    if (rc == MB_OK) {
        nina_labels(out, tr, &L);
        nina_sensors(out, &L, p, f, S, &tj);
        snprintf(out->subject_name, sizeof out->subject_name, "%d", f->subject + 1);
    }
    free(tr);
    synth_traj_free(&tj);
    return rc;
}

/* ---- emg2pose ---------------------------------------------------------- */

static int e2p_held_out_user(const struct synth_params *p, int subject)
{
    return subject >= p->n_subjects - p->e2p_held_out_users;
}

static void e2p_tags(struct synth_recording *out, const struct synth_params *p, int subject, int slot)
{
    int stage = p->e2p_stages[slot];
    int hou = e2p_held_out_user(p, subject), hos = synth_e2p_stage_held_out(stage);
    out->held_out_user = hou;
    out->held_out_stage = hos;
    /* formats.md §2.7: training rows hold neither; held-out users and
     * stages alternate between test and val (first held-out one: test). */
    int hu = subject - (p->n_subjects - p->e2p_held_out_users);
    int hs = 0;
    for (int i = 0; i < slot; i++)
        hs += synth_e2p_stage_held_out(p->e2p_stages[i]);
    const char *user_split = hu % 2 == 0 ? "test" : "val";
    const char *stage_split = hs % 2 == 0 ? "test" : "val";
    if (!hou && !hos) {
        snprintf(out->split, sizeof out->split, "train");
        out->generalization[0] = '\0';
    } else if (hou && !hos) {
        snprintf(out->split, sizeof out->split, "%s", user_split);
        snprintf(out->generalization, sizeof out->generalization, "user");
    } else if (!hou && hos) {
        snprintf(out->split, sizeof out->split, "%s", stage_split);
        snprintf(out->generalization, sizeof out->generalization, "stage");
    } else {
        snprintf(out->split, sizeof out->split, "%s", user_split);
        snprintf(out->generalization, sizeof out->generalization, "user_stage");
    }
}

/* Identity, split tags and times of an emg2pose file, without signals. */
static int e2p_meta(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f)
{
    int slot = f->group;
    if (slot < 0 || slot >= p->e2p_n_stages)
        return mb_error(MB_EINVAL, "synth: emg2pose stage slot %d out of range", slot);
    const struct synth_stage *st = synth_stage_get(p->e2p_stages[slot]);
    if (!st)
        return mb_error(MB_EINVAL, "synth: emg2pose stage %d unknown", p->e2p_stages[slot]);
    size_t n = (size_t)llround(p->e2p_stage_s * 2000.0);
    int64_t u;
    char hex[6];
    e2p_session(&u, hex, p->seed, f->subject, f->session);
    /* Absolute time: the session start plus earlier stages and pauses. */
    struct mb_rng tr;
    mb_rng_seed(&tr, p->seed, synth_stream(ST_TIME, SYNTH_EMG2POSE, f->subject, f->session, 0, 0));
    double start = (double)u + 5.0 + mb_rng_uniform(&tr);
    for (int i = 0; i < slot; i++)
        start += p->e2p_stage_s + 20.0 + 40.0 * mb_rng_uniform(&tr);
    /* On a 1/6000 s grid, so start + i/2000 is as exact as f64 allows. */
    start = floor(start * 6000.0) / 6000.0;
    out->n = n;
    out->n_channels = 16;
    out->rate_hz = 2000.0;
    out->start = start;
    out->end = n ? start + (double)(n - 1) / 2000.0 : start;
    e2p_user(out->subject_name, p->seed, f->subject);
    e2p_session_name(out->session_name, sizeof out->session_name, u, hex);
    snprintf(out->stage, sizeof out->stage, "%s", st->name);
    snprintf(out->side, sizeof out->side, "%s", f->side ? "right" : "left");
    e2p_tags(out, p, f->subject, slot);
    return MB_OK;
}

static int render_e2p(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f,
                      const struct synth_subject *S)
{
    const double fs = 2000.0;
    int slot = f->group;
    int rc = e2p_meta(out, p, f);
    if (rc != MB_OK)
        return rc;
    int stage = p->e2p_stages[slot];
    const struct synth_stage *st = synth_stage_get(stage);
    double dur = p->e2p_stage_s;
    size_t n = (size_t)llround(dur * fs);
    /* The stage's moves, cycled at the subject's pace; both hands follow
     * the same schedule (moving_hand "both"), so left and right files share
     * the trajectory. */
    struct synth_traj tj = { .osc_hz = S->osc_hz };
    struct mb_rng sr;
    mb_rng_seed(&sr, p->seed, synth_stream(ST_SCHED, SYNTH_EMG2POSE, f->subject, f->session, slot, 0));
    rc = synth_traj_add(&tj, 0.0, S->rest_q, 0, 0);
    double t = 0.2 + 0.3 * mb_rng_uniform(&sr);
    int k = (int)mb_rng_below(&sr, (uint64_t)st->n_moves);
    int rep = 0;
    while (t < dur && rc == MB_OK) {
        const struct synth_gesture *g = &st->moves[k % st->n_moves];
        struct mb_rng rr;
        mb_rng_seed(&rr, p->seed, synth_stream(ST_REP, SYNTH_EMG2POSE, f->subject, f->session, slot, ++rep));
        float q[SYNTH_N_DOF];
        synth_gesture_pose(q, S, p->seed, f->subject, g, &rr);
        double ramp = S->ramp_s * S->pace * exp(0.15 * mb_rng_normal(&rr));
        double hold = (g->dyn ? 1.4 : 0.7) * S->pace * exp(0.2 * mb_rng_normal(&rr));
        double pause = 0.15 + 0.25 * mb_rng_uniform(&rr);
        rc = synth_traj_add(&tj, t, S->rest_q, 0, 0);
        if (rc == MB_OK)
            rc = synth_traj_add(&tj, t + ramp, q, g->dyn ? 0.25f : 0.0f, g->dyn);
        if (rc == MB_OK)
            rc = synth_traj_add(&tj, t + ramp + hold, q, 0, 0);
        t += 2 * ramp + hold + pause;
        k++;
    }
    if (rc == MB_OK)
        rc = synth_traj_add(&tj, dur + 10.0, S->rest_q, 0, 0);
    struct synth_rig rig;
    rig_for(&rig, SYNTH_EMG2POSE, f->side == 0);
    if (rc == MB_OK)
        rc = alloc_common(out, n, 16);
    if (rc == MB_OK) {
        out->rate_hz = fs;
        out->time = malloc((n ? n : 1) * sizeof *out->time);
        out->pose = malloc((n ? n : 1) * SYNTH_N_JOINTS * sizeof *out->pose);
        out->pose_valid = malloc(n ? n : 1);
        if (!out->time || !out->pose || !out->pose_valid)
            rc = mb_error(MB_ENOMEM, "synth '%s': out of memory", f->relpath);
    }
    if (rc == MB_OK) {
        struct synth_emg_opts o = { .fs = fs, .n = n, .t0 = 0.0, .hp_hz = 20.0, .noise = 0.03,
                                    .powerline = 0.05, .wander = 0.3 };
        session_opts(&o, p->seed, SYNTH_EMG2POSE, f->subject, f->session * 2 + f->side, 16);
        /* Both hands put their bands on at the session's start. */
        int64_t u;
        char hex[6];
        e2p_session(&u, hex, p->seed, f->subject, f->session);
        session_opts_v2(&o, p, SYNTH_EMG2POSE, f->subject, f->session * 2 + f->side, 16, out->start - (double)u);
        struct mb_rng nr;
        mb_rng_seed(&nr, p->seed, synth_stream(ST_NOISE, SYNTH_EMG2POSE, f->subject, f->session, slot, f->side));
        rc = synth_emg(out->emg, S, &rig, &tj, &o, &nr);
    }
    if (rc == MB_OK) {
        for (size_t i = 0; i < n * 16; i++)
            out->emg[i] = (double)(float)(out->emg[i] * 30.0);
        /* Joint angles with motion-capture jitter; IK failures zero whole rows. */
        struct mb_rng jr;
        mb_rng_seed(&jr, p->seed, synth_stream(ST_IK, SYNTH_EMG2POSE, f->subject, f->session, slot, f->side));
        size_t cur = 0;
        for (size_t i = 0; i < n; i++) {
            float q[SYNTH_N_DOF], dq[SYNTH_N_DOF];
            synth_traj_eval(q, dq, &tj, &cur, (double)i / fs);
            for (int j = 0; j < SYNTH_N_JOINTS; j++) {
                double v = q[j] + 0.003 * mb_rng_normal(&jr);
                if (f->side == 0 && (j == 1 || j == 4 || j == 8 || j == 12 || j == 16))
                    v = -v;    /* abduction angles of a left hand are mirrored */
                out->pose[i * SYNTH_N_JOINTS + j] = p->e2p_f32 ? (double)(float)v : v;
            }
            out->pose_valid[i] = 1;
        }
        if (p->e2p_ik_fail > 0 && n > 0) {
            size_t target = (size_t)(p->e2p_ik_fail * (double)n), done = 0;
            while (done < target) {
                size_t len = 20 + mb_rng_below(&jr, 180);
                size_t a = mb_rng_below(&jr, n);
                for (size_t i = a; i < a + len && i < n; i++) {
                    if (out->pose_valid[i])
                        done++;
                    out->pose_valid[i] = 0;
                    memset(&out->pose[i * SYNTH_N_JOINTS], 0, SYNTH_N_JOINTS * sizeof *out->pose);
                }
            }
        }
        for (size_t i = 0; i < n; i++) {
            out->label[i] = stage;
            out->time[i] = out->start + (double)i / fs;
        }
    }
    synth_traj_free(&tj);
    return rc;
}

/* ---- text dialects ----------------------------------------------------- */

/* Myo counts of a whole recording at 200 Hz for a list of trials. */
static int myo_stream(double *emg /* [n x C] */, const struct synth_params *p, const struct synth_file *f,
                      const struct synth_subject *S, enum synth_device dev, const struct synth_traj *tj,
                      size_t n, int mirror, int session, double session_t)
{
    struct synth_rig rig;
    rig_for(&rig, dev, mirror);
    struct synth_emg_opts o = { .fs = 200.0, .n = n, .t0 = 0.0, .hp_hz = 5.0, .noise = 0.02, .wander = 0.02 };
    session_opts(&o, p->seed, dev, f->subject, session, rig.n_channels);
    session_opts_v2(&o, p, dev, f->subject, session, rig.n_channels, session_t);
    struct mb_rng nr;
    mb_rng_seed(&nr, p->seed, synth_stream(ST_NOISE, dev, f->subject, f->session, f->group, 0));
    int rc = synth_emg(emg, S, &rig, tj, &o, &nr);
    if (rc != MB_OK)
        return rc;
    for (size_t i = 0; i < n * (size_t)rig.n_channels; i++) {
        double v = floor(emg[i] * 45.0);
        emg[i] = v > 127 ? 127 : v < -128 ? -128 : v;
    }
    return MB_OK;
}

static int render_myo(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f,
                      const struct synth_subject *S)
{
    const double fs = 200.0, block = 5.0;
    double dur = p->myo_file_s;
    size_t n = (size_t)llround(dur * fs);
    int label = f->group;
    const struct synth_gesture *g = label ? synth_vocab_gesture(SYNTH_MYO, 0, label) : NULL;
    struct synth_traj tj = { .osc_hz = S->osc_hz };
    int rc = synth_traj_add(&tj, 0.0, S->rest_q, 0, 0);
    int nb = (int)ceil(dur / block);
    struct trial *tr = calloc((size_t)nb + 1, sizeof *tr);
    if (!tr)
        rc = mb_error(MB_ENOMEM, "synth '%s': out of memory", f->relpath);
    /* Labels alternate hibernation (0) and the file's gesture every 5 s,
     * starting with hibernation; 0.txt is hibernation throughout, with
     * small idle movements. */
    for (int b = 1; b < nb && rc == MB_OK; b += 2) {
        struct trial *t = &tr[b];
        struct mb_rng rr;
        mb_rng_seed(&rr, p->seed, synth_stream(ST_REP, SYNTH_MYO, f->subject, f->session, label, b));
        t->s0 = b * block;
        t->s1 = t->s0 + block < dur ? t->s0 + block : dur;
        t->label = label;
        float q[SYNTH_N_DOF];
        if (g) {
            synth_gesture_pose(q, S, p->seed, f->subject, g, &rr);
        } else {
            for (int j = 0; j < SYNTH_N_DOF; j++)
                q[j] = S->rest_q[j] + (float)(0.08 * mb_rng_normal(&rr));
        }
        rc = add_trial(&tj, t, S, q, 0, 0, &rr, 1.0, t->s1 + 1.0);
    }
    if (rc == MB_OK)
        rc = synth_traj_add(&tj, dur + 10.0, S->rest_q, 0, 0);
    if (rc == MB_OK)
        rc = alloc_common(out, n, 8);
    if (rc == MB_OK)
        rc = myo_stream(out->emg, p, f, S, SYNTH_MYO, &tj, n, myo_left(f->subject), f->session,
                        60.0 + f->group * (p->myo_file_s + 20.0));   /* labels 0..7 in a row */
    if (rc == MB_OK) {
        out->rate_hz = fs;
        for (int b = 1; b < nb; b += 2)
            for (size_t i = sec2idx(tr[b].s0, fs, n), e = sec2idx(tr[b].s1, fs, n); i < e; i++)
                out->label[i] = label;
        snprintf(out->subject_name, sizeof out->subject_name, "%05d", myo_id(p->seed, f->subject));
        snprintf(out->session_name, sizeof out->session_name, "%05d-%d", myo_id(p->seed, f->subject), f->session + 1);
        snprintf(out->side, sizeof out->side, "%s", myo_left(f->subject) ? "left" : "right");
    }
    free(tr);
    synth_traj_free(&tj);
    return rc;
}

static int render_kauf(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f,
                       const struct synth_subject *S)
{
    const double fs = 2048.0;
    struct mb_rng rr;
    mb_rng_seed(&rr, p->seed, synth_stream(ST_REP, SYNTH_KAUFMANN, f->subject, f->session, f->group, 0));
    /* Files are cut from the held part of each movement: lengths vary by
     * a second or so around the nominal duration, as in the real set. */
    double dur = p->kauf_file_s * (0.85 + 0.3 * mb_rng_uniform(&rr));
    size_t n = (size_t)llround(dur * fs);
    const struct synth_gesture *g = f->group ? synth_vocab_gesture(SYNTH_KAUFMANN, 0, f->group) : NULL;
    float q[SYNTH_N_DOF];
    if (g)
        synth_gesture_pose(q, S, p->seed, f->subject, g, &rr);
    else
        memcpy(q, S->rest_q, sizeof q);
    struct synth_traj tj = { .osc_hz = S->osc_hz };
    int rc = synth_traj_add(&tj, -10.0, S->rest_q, 0, 0);
    if (rc == MB_OK)
        rc = synth_traj_add(&tj, -S->ramp_s, S->rest_q, 0, 0);
    if (rc == MB_OK)
        rc = synth_traj_add(&tj, 0.0, q, 0, 0);
    if (rc == MB_OK)
        rc = synth_traj_add(&tj, dur + 10.0, q, 0, 0);
    struct synth_rig rig;
    rig_for(&rig, SYNTH_KAUFMANN, 0);
    if (rc == MB_OK)
        rc = alloc_common(out, n, 4);
    if (rc == MB_OK) {
        struct synth_emg_opts o = { .fs = fs, .n = n, .t0 = 0.0, .hp_hz = 10.0, .noise = 0.01,
                                    .powerline = 0.03, .wander = 0.1 };
        /* Day-to-day electrode placement varies a little. */
        session_opts(&o, p->seed, SYNTH_KAUFMANN, f->subject, f->session, 4);
        session_opts_v2(&o, p, SYNTH_KAUFMANN, f->subject, f->session, 4,
                        60.0 + f->group * (p->kauf_file_s + 10.0));    /* classes in a row each day */
        struct mb_rng nr;
        mb_rng_seed(&nr, p->seed, synth_stream(ST_NOISE, SYNTH_KAUFMANN, f->subject, f->session, f->group, 0));
        rc = synth_emg(out->emg, S, &rig, &tj, &o, &nr);
    }
    if (rc == MB_OK) {
        out->rate_hz = fs;
        for (size_t i = 0; i < n * 4; i++)
            out->emg[i] = (double)llround(out->emg[i] * 300.0 * 1000.0) / 1000.0;
        for (size_t i = 0; i < n; i++)
            out->label[i] = f->group;
        out->day = kauf_day(p, f->session);
        snprintf(out->subject_name, sizeof out->subject_name, "S%d", f->subject);
        snprintf(out->session_name, sizeof out->session_name, "D%d", out->day);
    }
    synth_traj_free(&tj);
    return rc;
}

static int render_uci(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f,
                      const struct synth_subject *S)
{
    int ncls = uci_has_palm(f->subject) ? 7 : 6;
    int ntr = 2 * ncls;
    double cyc = p->uci_pause_s + p->uci_gesture_s;
    double dur = ntr * cyc + p->uci_pause_s;
    double scale = p->uci_gesture_s < 2.5 ? p->uci_gesture_s / 2.5 : 1.0;
    struct trial *tr = calloc((size_t)ntr, sizeof *tr);
    struct synth_traj tj = { .osc_hz = S->osc_hz };
    int rc = tr ? synth_traj_add(&tj, 0.0, S->rest_q, 0, 0) : mb_error(MB_ENOMEM, "synth '%s': out of memory", f->relpath);
    for (int k = 0; k < ntr && rc == MB_OK; k++) {
        struct trial *t = &tr[k];
        int cls = 1 + k % ncls;
        struct mb_rng rr;
        mb_rng_seed(&rr, p->seed, synth_stream(ST_REP, SYNTH_UCI, f->subject, f->group, cls, k / ncls + 1));
        const struct synth_gesture *g = synth_vocab_gesture(SYNTH_UCI, 0, cls);
        float q[SYNTH_N_DOF];
        synth_gesture_pose(q, S, p->seed, f->subject, g, &rr);
        t->s0 = p->uci_pause_s + k * cyc;
        t->s1 = t->s0 + p->uci_gesture_s;
        t->label = cls;
        rc = add_trial(&tj, t, S, q, 0, 0, &rr, scale, t->s1 + p->uci_pause_s);
    }
    if (rc == MB_OK)
        rc = synth_traj_add(&tj, dur + 10.0, S->rest_q, 0, 0);
    /* The Myo stream at 200 Hz, sampled by the logging software at
     * irregular millisecond ticks (mostly 1 ms, sometimes 2-9 ms). */
    size_t nm = (size_t)ceil(dur * 200.0) + 2;
    double *myo = rc == MB_OK ? malloc(nm * 8 * sizeof *myo) : NULL;
    if (rc == MB_OK && !myo)
        rc = mb_error(MB_ENOMEM, "synth '%s': out of memory", f->relpath);
    if (rc == MB_OK)
        rc = myo_stream(myo, p, f, S, SYNTH_UCI, &tj, nm, 0, f->group, 60.0);   /* each series a donning */
    size_t cap = (size_t)(dur * 1000.0) + 2, n = 0;
    if (rc == MB_OK)
        rc = alloc_common(out, cap, 8);
    if (rc == MB_OK) {
        out->time = malloc(cap * sizeof *out->time);
        if (!out->time)
            rc = mb_error(MB_ENOMEM, "synth '%s': out of memory", f->relpath);
    }
    if (rc == MB_OK) {
        struct mb_rng tr2;
        mb_rng_seed(&tr2, p->seed, synth_stream(ST_TIME, SYNTH_UCI, f->subject, 0, f->group, 0));
        long ms = 1;
        double end_ms = dur * 1000.0;
        while ((double)ms < end_ms && n < cap) {
            size_t k = (size_t)((double)ms / 5.0);
            if (k >= nm)
                k = nm - 1;
            for (int c = 0; c < 8; c++)
                out->emg[n * 8 + c] = myo[k * 8 + c] / 1e5;
            out->time[n] = (double)ms;
            double ts = (double)ms / 1000.0;
            int32_t lab = 0;
            for (int j = 0; j < ntr; j++)
                if (ts >= tr[j].r0 && ts < tr[j].r1)
                    lab = tr[j].label;
            out->label[n] = lab;
            n++;
            double u = mb_rng_uniform(&tr2);
            long step = u < 0.965 ? 1 : u < 0.988 ? 2 : u < 0.996 ? 3 : 4 + (long)mb_rng_below(&tr2, 6);
            ms += step;
        }
        out->n = n;
        out->rate_hz = 200.0;
        out->unlabelled = 0;
        snprintf(out->subject_name, sizeof out->subject_name, "%02d", f->subject + 1);
    }
    free(myo);
    free(tr);
    synth_traj_free(&tj);
    return rc;
}

int synth_describe(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f)
{
    recording_zero(out, f);
    relpath(&out->file, p);
    out->model = p->model;
    if (f->subject < 0 || f->subject >= p->n_subjects)
        return mb_error(MB_EINVAL, "synth: subject %d out of range (0..%d)", f->subject, p->n_subjects - 1);
    if (f->dev == SYNTH_EMG2POSE)
        return e2p_meta(out, p, &out->file);
    return MB_OK;
}

int synth_render(struct synth_recording *out, const struct synth_params *p, const struct synth_file *f)
{
    recording_zero(out, f);
    relpath(&out->file, p);
    f = &out->file;
    int rc = synth_params_check(p);
    if (rc != MB_OK)
        return rc;
    if (f->subject < 0 || f->subject >= p->n_subjects)
        return mb_error(MB_EINVAL, "synth: subject %d out of range (0..%d)", f->subject, p->n_subjects - 1);
    out->model = p->model;
    struct synth_subject S;
    synth_subject_make(&S, p->seed, f->subject, p->subject_spread);
    if (p->model == 2)
        synth_subject_make_v2(&S, p->seed, f->subject, p->subject_spread);
    switch (f->dev) {
    case SYNTH_EMG2POSE: rc = render_e2p(out, p, f, &S); break;
    case SYNTH_DB1: case SYNTH_DB2: case SYNTH_DB5:
                         rc = render_nina(out, p, f, &S); break;
    case SYNTH_MYO:      rc = render_myo(out, p, f, &S); break;
    case SYNTH_KAUFMANN: rc = render_kauf(out, p, f, &S); break;
    case SYNTH_UCI:      rc = render_uci(out, p, f, &S); break;
    default:             rc = mb_error(MB_EINVAL, "synth: unknown device %d", (int)f->dev);
    }
    if (rc != MB_OK)
        synth_recording_free(out);
    return rc;
}
