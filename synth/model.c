/* synth/model.c - the generative model shared by every device: subjects,
 * gesture execution, pose trajectories, muscle activations and EMG.
 * docs/SYNTH.md explains the choices; comments here say why a number is
 * what it is when that is not obvious. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "synth/internal.h"

/* ---- joints and primitives --------------------------------------------- */

/* The J_* degrees of freedom are in synth/internal.h (model v2 maps them too). */

/* Joint motion (rad) of each primitive at coefficient 1. */
static const struct { int j; float v; } prim_joints[SYNTH_N_PRIM][4] = {
    [PR_TF]   = { { J_TCMC_FE, .35f }, { J_TMCP_FE, .6f }, { J_TIP_FE, .7f }, { -1, 0 } },
    [PR_TA]   = { { J_TCMC_AA, .7f }, { -1, 0 } },
    [PR_I]    = { { J_IMCP_FE, 1.1f }, { J_IPIP_FE, 1.3f }, { J_IDIP_FE, .8f }, { -1, 0 } },
    [PR_M]    = { { J_MMCP_FE, 1.1f }, { J_MPIP_FE, 1.4f }, { J_MDIP_FE, .9f }, { -1, 0 } },
    [PR_R]    = { { J_RMCP_FE, 1.1f }, { J_RPIP_FE, 1.4f }, { J_RDIP_FE, .9f }, { -1, 0 } },
    [PR_P]    = { { J_PMCP_FE, 1.0f }, { J_PPIP_FE, 1.3f }, { J_PDIP_FE, .8f }, { -1, 0 } },
    [PR_SP]   = { { J_IMCP_AA, -.25f }, { J_RMCP_AA, .2f }, { J_PMCP_AA, .35f }, { J_MMCP_AA, .05f } },
    [PR_WF]   = { { J_WRIST_FE, 1.0f }, { -1, 0 } },
    [PR_WD]   = { { J_WRIST_DEV, .45f }, { -1, 0 } },
    [PR_PRON] = { { J_PRON, 1.2f }, { -1, 0 } },
};

/* ---- muscles ----------------------------------------------------------- */

enum { MU_EDC, MU_EIP, MU_APL, MU_ECR, MU_SUP, MU_PT, MU_FCR, MU_FPL, MU_FDS, MU_FDP, MU_FCU, MU_ECU };

/* Angular position around the right forearm (deg; 0 dorsal midline, 90
 * radial, 180 volar, 270 ulnar), depth (0 superficial .. 1 deep), and
 * amplitude seen at the proximal, distal and wrist levels (bellies are
 * proximal; at the wrist mostly tendons pass, so everything is weaker and
 * the pronator/supinator almost vanish). */
static const struct {
    const char *name;
    double angle, depth, level[3], fc;
} muscles[SYNTH_N_MUSCLES] = {
    [MU_EDC] = { "extensor digitorum",        10, .20, { 1.0, .7, .35 }, 95 },
    [MU_EIP] = { "extensor indicis/pollicis", 45, .50, {  .3, .8, .45 }, 85 },
    [MU_APL] = { "abductor pollicis longus",  75, .50, {  .4, .9, .40 }, 80 },
    [MU_ECR] = { "extensor carpi radialis",  100, .25, { 1.0, .6, .30 }, 90 },
    [MU_SUP] = { "supinator/brachioradialis",125, .55, { 1.0, .2, .05 }, 70 },
    [MU_PT]  = { "pronator teres",           150, .35, { 1.0, .2, .05 }, 75 },
    [MU_FCR] = { "flexor carpi radialis",    170, .25, { 1.0, .6, .30 }, 100 },
    [MU_FPL] = { "flexor pollicis longus",   195, .65, {  .4, .8, .45 }, 85 },
    [MU_FDS] = { "flexor digitorum superf.", 215, .30, { 1.0, .8, .40 }, 105 },
    [MU_FDP] = { "flexor digitorum profund.",240, .60, {  .6, .9, .45 }, 90 },
    [MU_FCU] = { "flexor carpi ulnaris",     275, .25, { 1.0, .7, .35 }, 100 },
    [MU_ECU] = { "extensor carpi ulnaris",   320, .25, { 1.0, .7, .35 }, 95 },
};

/* Anatomical map: drive of muscle m per radian of joint deviation from
 * the relaxed pose, for flexion-side (+) and extension-side (-) motion.
 * Finger weights are per joint of a three-joint chain, so one finger
 * contributes about w x (sum of its joint angles) / 3. */
struct map_entry { int m; int dof; float pos, neg; };
static const struct map_entry amap[] = {
    /* thumb */
    { MU_FPL, J_TCMC_FE, .9f, 0 }, { MU_FPL, J_TMCP_FE, .9f, 0 }, { MU_FPL, J_TIP_FE, .9f, 0 },
    { MU_EIP, J_TCMC_FE, 0, .6f }, { MU_EIP, J_TMCP_FE, 0, .6f }, { MU_EIP, J_TIP_FE, 0, .6f },
    { MU_APL, J_TCMC_FE, 0, .4f }, { MU_APL, J_TCMC_AA, 1.4f, 0 }, { MU_FPL, J_TCMC_AA, 0, .5f },
    /* index */
    { MU_FDS, J_IMCP_FE, .25f, 0 }, { MU_FDS, J_IPIP_FE, .25f, 0 }, { MU_FDP, J_IDIP_FE, .45f, 0 },
    { MU_FDP, J_IPIP_FE, .1f, 0 },
    { MU_EDC, J_IMCP_FE, 0, .5f }, { MU_EIP, J_IMCP_FE, 0, .7f }, { MU_EIP, J_IPIP_FE, 0, .3f },
    /* middle */
    { MU_FDS, J_MMCP_FE, .28f, 0 }, { MU_FDS, J_MPIP_FE, .28f, 0 }, { MU_FDP, J_MDIP_FE, .45f, 0 },
    { MU_FDP, J_MPIP_FE, .1f, 0 }, { MU_EDC, J_MMCP_FE, 0, .9f }, { MU_EDC, J_MPIP_FE, 0, .3f },
    /* ring */
    { MU_FDS, J_RMCP_FE, .25f, 0 }, { MU_FDS, J_RPIP_FE, .25f, 0 }, { MU_FDP, J_RDIP_FE, .5f, 0 },
    { MU_FDP, J_RPIP_FE, .1f, 0 }, { MU_EDC, J_RMCP_FE, 0, .8f }, { MU_EDC, J_RPIP_FE, 0, .2f },
    /* little */
    { MU_FDS, J_PMCP_FE, .22f, 0 }, { MU_FDS, J_PPIP_FE, .22f, 0 }, { MU_FDP, J_PDIP_FE, .45f, 0 },
    { MU_FCU, J_PMCP_FE, .2f, 0 }, { MU_EDC, J_PMCP_FE, 0, .5f }, { MU_ECU, J_PMCP_FE, 0, .5f },
    /* spreading: extensors assist abduction, flexors adduction */
    { MU_EDC, J_IMCP_AA, .3f, .8f }, { MU_EDC, J_PMCP_AA, .8f, .3f }, { MU_FDS, J_RMCP_AA, 0, .5f },
    { MU_ECU, J_PMCP_AA, .4f, 0 },
    /* wrist flexion / extension */
    { MU_FCR, J_WRIST_FE, 1.0f, 0 }, { MU_FCU, J_WRIST_FE, .9f, 0 }, { MU_FDS, J_WRIST_FE, .25f, 0 },
    { MU_ECR, J_WRIST_FE, 0, 1.0f }, { MU_ECU, J_WRIST_FE, 0, .8f }, { MU_EDC, J_WRIST_FE, 0, .3f },
    /* wrist radial (+) / ulnar (-) deviation */
    { MU_FCR, J_WRIST_DEV, 1.2f, 0 }, { MU_ECR, J_WRIST_DEV, 1.5f, 0 }, { MU_APL, J_WRIST_DEV, .6f, 0 },
    { MU_FCU, J_WRIST_DEV, 0, 1.6f }, { MU_ECU, J_WRIST_DEV, 0, 1.6f },
    /* pronation (+) / supination (-) */
    { MU_PT, J_PRON, 1.0f, 0 }, { MU_FCR, J_PRON, .2f, 0 }, { MU_SUP, J_PRON, 0, 1.0f },
    { MU_APL, J_PRON, 0, .15f },
};
#define N_AMAP (sizeof amap / sizeof amap[0])

uint64_t synth_stream(int purpose, int dev, int subject, int session, int group, int rep)
{
    /* One 64-bit id per tuple; mb_rng_seed mixes it further. Fields are
     * small, so packing them into disjoint bit ranges keeps ids unique. */
    uint64_t x = (uint64_t)(purpose & 0xff);
    x = (x << 8)  | (uint64_t)(dev & 0xff);
    x = (x << 16) | (uint64_t)(subject & 0xffff);
    x = (x << 8)  | (uint64_t)(session & 0xff);
    x = (x << 8)  | (uint64_t)(group & 0xff);
    x = (x << 16) | (uint64_t)(rep & 0xffff);
    return x;
}

static double uniform(struct mb_rng *r, double a, double b)
{
    return a + (b - a) * mb_rng_uniform(r);
}

void synth_subject_make(struct synth_subject *s, uint64_t seed, int subject, double spread)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_SUBJECT, 0, subject, 0, 0, 0));
    memset(s, 0, sizeof *s);
    for (int m = 0; m < SYNTH_N_MUSCLES; m++) {
        /* Anatomy differs between people by a few tens of degrees around
         * the forearm and by a factor of about 1.5 in muscle size. */
        s->muscle_angle[m] = (muscles[m].angle + spread * 14.0 * mb_rng_normal(&r)) * M_PI / 180.0;
        s->muscle_gain[m] = synth_lognormal(&r, spread * 0.35);
        s->muscle_fc[m] = muscles[m].fc * synth_lognormal(&r, spread * 0.15);
        for (int j = 0; j < SYNTH_N_DOF; j++)
            for (int k = 0; k < 2; k++)
                s->map_scale[m][j][k] = synth_lognormal(&r, spread * 0.3);
    }
    s->cocontraction = uniform(&r, 0.05, 0.3);
    /* Where a subject habitually places an armband: strong between-subject
     * rotation is what makes cross-subject recognition hard. */
    s->rotation = spread * uniform(&r, -0.75, 0.75);
    s->tissue_fc = uniform(&r, 150, 400);
    s->powerline_hz = mb_rng_uniform(&r) < 0.5 ? 50.0 : 60.0;
    s->ramp_s = uniform(&r, 0.25, 0.5);
    s->react_s = uniform(&r, 0.2, 0.6);
    s->pace = uniform(&r, 0.8, 1.25);
    s->amp = uniform(&r, 0.75, 1.25);
    s->osc_hz = uniform(&r, 1.5, 3.0);
    for (int j = 0; j < SYNTH_N_DOF; j++)
        s->rest_q[j] = 0.0f;
    /* Relaxed hand: fingers slightly curled, thumb a little abducted. */
    static const int fe[] = { J_IMCP_FE, J_IPIP_FE, J_IDIP_FE, J_MMCP_FE, J_MPIP_FE, J_MDIP_FE,
                              J_RMCP_FE, J_RPIP_FE, J_RDIP_FE, J_PMCP_FE, J_PPIP_FE, J_PDIP_FE };
    for (size_t i = 0; i < sizeof fe / sizeof fe[0]; i++)
        s->rest_q[fe[i]] = (float)uniform(&r, 0.15, 0.4);
    s->rest_q[J_TCMC_FE] = (float)uniform(&r, 0.1, 0.25);
    s->rest_q[J_TMCP_FE] = (float)uniform(&r, 0.1, 0.3);
    s->rest_q[J_TIP_FE] = (float)uniform(&r, 0.05, 0.25);
    s->rest_q[J_TCMC_AA] = (float)uniform(&r, 0.1, 0.3);
    s->rest_q[J_IMCP_AA] = (float)uniform(&r, -0.08, -0.02);
    s->rest_q[J_MMCP_AA] = (float)uniform(&r, -0.03, 0.03);
    s->rest_q[J_RMCP_AA] = (float)uniform(&r, 0.02, 0.08);
    s->rest_q[J_PMCP_AA] = (float)uniform(&r, 0.05, 0.15);
    s->rest_q[J_WRIST_FE] = (float)uniform(&r, -0.1, 0.1);
}

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

void synth_gesture_pose(float q[SYNTH_N_DOF], const struct synth_subject *s, uint64_t seed,
                        int subject, const struct synth_gesture *g, struct mb_rng *rep_rng)
{
    /* A subject's style for a gesture is keyed by the gesture's name, so
     * the same person makes "wrist flexion" the same way on every device. */
    struct mb_rng r;
    mb_rng_seed(&r, seed ^ name_hash(g->name), synth_stream(ST_STYLE, 0, subject, 0, 0, 0));
    double c[SYNTH_N_PRIM];
    /* Repetitions differ in effort (about 18 %), in the mix (15 % per
     * primitive) and by small involuntary motion of the other primitives. */
    double effort = rep_rng ? synth_lognormal(rep_rng, 0.18) : 1.0;
    for (int k = 0; k < SYNTH_N_PRIM; k++) {
        double v = g->c[k] * synth_lognormal(&r, 0.22) + 0.08 * mb_rng_normal(&r) * (g->c[k] != 0.0f ? 1.0 : 0.5);
        if (rep_rng)
            v = v * effort * (1.0 + 0.15 * mb_rng_normal(rep_rng)) + 0.06 * mb_rng_normal(rep_rng);
        c[k] = v * s->amp;
    }
    for (int j = 0; j < SYNTH_N_DOF; j++)
        q[j] = s->rest_q[j];
    for (int k = 0; k < SYNTH_N_PRIM; k++)
        for (int i = 0; i < 4 && prim_joints[k][i].j >= 0; i++) {
            int j = prim_joints[k][i].j;
            /* Flexion starts from the relaxed curl, so full flexion is not
             * pushed beyond the anatomical range by the rest offset. */
            q[j] += (float)(c[k] * prim_joints[k][i].v);
        }
}

int synth_traj_add(struct synth_traj *tr, double t, const float q[SYNTH_N_DOF], float osc, int osc_kind)
{
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? 2 * tr->cap : 64;
        struct synth_key *k = realloc(tr->k, cap * sizeof *k);
        if (!k)
            return mb_error(MB_ENOMEM, "pose trajectory: out of memory (%zu keyframes)", cap);
        tr->k = k;
        tr->cap = cap;
    }
    /* Keyframes must not go back in time; a crowded schedule (very short
     * presets) collapses onto the previous keyframe instead. */
    if (tr->n && t < tr->k[tr->n - 1].t)
        t = tr->k[tr->n - 1].t;
    struct synth_key *k = &tr->k[tr->n++];
    k->t = t;
    memcpy(k->q, q, sizeof k->q);
    k->osc = osc;
    k->osc_kind = osc_kind;
    return MB_OK;
}

void synth_traj_free(struct synth_traj *tr)
{
    free(tr->k);
    memset(tr, 0, sizeof *tr);
}

void synth_traj_eval(float q[SYNTH_N_DOF], float dq[SYNTH_N_DOF], const struct synth_traj *tr,
                     size_t *cursor, double t)
{
    size_t i = *cursor;
    if (tr->n == 0) {
        memset(q, 0, SYNTH_N_DOF * sizeof *q);
        memset(dq, 0, SYNTH_N_DOF * sizeof *dq);
        return;
    }
    /* Times are evaluated in increasing order, so the cursor only moves on. */
    if (i >= tr->n || tr->k[i].t > t)
        i = 0;
    while (i + 1 < tr->n && tr->k[i + 1].t <= t)
        i++;
    *cursor = i;
    const struct synth_key *a = &tr->k[i];
    if (i + 1 >= tr->n || t <= a->t) {
        memcpy(q, a->q, SYNTH_N_DOF * sizeof *q);
        memset(dq, 0, SYNTH_N_DOF * sizeof *dq);
        return;
    }
    const struct synth_key *b = &tr->k[i + 1];
    double dt = b->t - a->t;
    double u = (t - a->t) / dt;
    /* Minimum-jerk profile: smooth start and stop, like real reaching. */
    double sm = u * u * u * (10.0 - 15.0 * u + 6.0 * u * u);
    double dsm = 30.0 * u * u * (1.0 - u) * (1.0 - u) / dt;
    for (int j = 0; j < SYNTH_N_DOF; j++) {
        q[j] = (float)(a->q[j] + sm * (b->q[j] - a->q[j]));
        dq[j] = (float)(dsm * (b->q[j] - a->q[j]));
    }
    if (a->osc > 0.0f && a->osc_kind != DYN_HOLD) {
        double w = sin(M_PI * u);       /* fades in and out within the segment */
        double ph = 2.0 * M_PI * tr->osc_hz * t;
        double amp = a->osc * w, damp = a->osc * w * 2.0 * M_PI * tr->osc_hz;
        switch (a->osc_kind) {
        case DYN_WIGGLE:
            for (int f = 0; f < 5; f++) {
                static const int base[5] = { J_TMCP_FE, J_IMCP_FE, J_MMCP_FE, J_RMCP_FE, J_PMCP_FE };
                double o = f * M_PI / 2.5;
                for (int k = 0; k < 2; k++) {
                    q[base[f] + k] += (float)(amp * sin(ph + o));
                    dq[base[f] + k] += (float)(damp * cos(ph + o));
                }
            }
            break;
        case DYN_ROTATE:
            q[J_PRON] += (float)(1.5 * amp * sin(ph));
            dq[J_PRON] += (float)(1.5 * damp * cos(ph));
            break;
        case DYN_FLEXOSC:
            q[J_WRIST_FE] += (float)(1.5 * amp * sin(ph));
            dq[J_WRIST_FE] += (float)(1.5 * damp * cos(ph));
            break;
        default:
            break;
        }
    }
}

/* Muscle activations (0..1) from pose and velocity. */
static void activations(double a[SYNTH_N_MUSCLES], const struct synth_subject *s,
                        const float q[SYNTH_N_DOF], const float dq[SYNTH_N_DOF])
{
    double drive[SYNTH_N_MUSCLES] = {0};
    for (size_t e = 0; e < N_AMAP; e++) {
        const struct map_entry *me = &amap[e];
        double d = q[me->dof] - s->rest_q[me->dof];
        double v = dq[me->dof];
        /* Tonic drive holds the posture; phasic drive (velocity) moves it. */
        if (d > 0)
            drive[me->m] += me->pos * d * s->map_scale[me->m][me->dof][0];
        else
            drive[me->m] -= me->neg * d * s->map_scale[me->m][me->dof][1];
        if (v > 0)
            drive[me->m] += 0.12 * me->pos * v * s->map_scale[me->m][me->dof][0];
        else
            drive[me->m] -= 0.12 * me->neg * v * s->map_scale[me->m][me->dof][1];
    }
    double tot = 0;
    for (int m = 0; m < SYNTH_N_MUSCLES; m++)
        tot += drive[m];
    for (int m = 0; m < SYNTH_N_MUSCLES; m++) {
        double x = drive[m] + s->cocontraction * tot / SYNTH_N_MUSCLES;
        a[m] = 0.01 + 0.99 * (1.0 - exp(-1.2 * x));
    }
}

/* ---- filters ----------------------------------------------------------- */

/* RBJ cookbook band-pass (constant 0 dB peak gain). */
static void bq_bandpass(struct synth_biquad *f, double fc, double q, double fs)
{
    double w = 2.0 * M_PI * fc / fs, al = sin(w) / (2.0 * q), a0 = 1.0 + al;
    *f = (struct synth_biquad){ al / a0, 0.0, -al / a0, -2.0 * cos(w) / a0, (1.0 - al) / a0, 0, 0 };
}

/* Output std of the filter for unit white input (sqrt of impulse energy). */
static double bq_gain(struct synth_biquad f)
{
    double e = 0;
    f.z1 = f.z2 = 0;
    for (int i = 0; i < 4000; i++) {
        double y = synth_bq_run(&f, i == 0 ? 1.0 : 0.0);
        e += y * y;
    }
    return sqrt(e);
}

static void mixing(double mix[32][SYNTH_N_MUSCLES], const struct synth_subject *s,
                   const struct synth_rig *rig, double session_rot)
{
    for (int c = 0; c < rig->n_channels; c++) {
        for (int m = 0; m < SYNTH_N_MUSCLES; m++) {
            double phi = s->muscle_angle[m];
            if (rig->special[c] == 1) {
                /* Biceps: supinates the forearm; otherwise far from the
                 * forearm muscles, so only weak volume conduction. */
                mix[c][m] = m == MU_SUP ? 0.6 : 0.04;
                continue;
            }
            if (rig->special[c] == 2) {
                mix[c][m] = 0.05;      /* triceps: stabilising co-contraction only */
                continue;
            }
            double th = rig->anchored[c] ? s->muscle_angle[rig->anchor_muscle[c]] + rig->angle[c]
                                         : rig->angle[c] + s->rotation + session_rot;
            if (rig->mirror)
                phi = -phi;
            double d = synth_wrap_angle(th - phi);
            double w = 0.45 + 0.4 * muscles[m].depth;
            mix[c][m] = muscles[m].level[rig->level[c]] * (1.0 - 0.5 * muscles[m].depth)
                        * exp(-d * d / (2.0 * w * w)) + 0.03;
        }
    }
}

int synth_emg(double *out, const struct synth_subject *s, const struct synth_rig *rig,
              const struct synth_traj *tr, const struct synth_emg_opts *o, struct mb_rng *rng)
{
    /* The swap point: model v2 keeps the trajectory and replaces the
     * muscles and the EMG (synth/emg_v2.c). */
    if (o->model == 2)
        return synth_emg_v2(out, s, rig, tr, o, rng);
    const int C = rig->n_channels, M = SYNTH_N_MUSCLES;
    const double fs = o->fs;
    double mix[32][SYNTH_N_MUSCLES];
    mixing(mix, s, rig, o->session_rot);

    /* Activations change slowly (< 10 Hz), so they are evaluated on a
     * control grid of at most 200 Hz and interpolated in between. */
    size_t step = fs > 200.0 ? (size_t)(fs / 200.0) : 1;
    size_t nk = o->n / step + 2;
    double *act = malloc(nk * M * sizeof *act);   /* [nk x M] */
    if (!act)
        return mb_error(MB_ENOMEM, "emg synthesis: out of memory (%zu samples)", o->n);
    size_t cur = 0;
    for (size_t k = 0; k < nk; k++) {
        float q[SYNTH_N_DOF], dq[SYNTH_N_DOF];
        synth_traj_eval(q, dq, tr, &cur, o->t0 + (double)(k * step) / fs);
        activations(&act[k * M], s, q, dq);
    }

    if (o->envelope) {
        /* Otto Bock 13E200: the electrode outputs the RMS of the EMG. The
         * expected RMS follows from the activations; the estimate of a
         * finite window fluctuates around it (low-passed multiplicative
         * noise, about 12 % at 100 Hz). */
        double fl[32] = {0};
        for (size_t i = 0; i < o->n; i++) {
            const double *a = &act[(i / step) * M];
            for (int c = 0; c < C; c++) {
                double p = o->noise * o->noise;
                for (int m = 0; m < M; m++) {
                    double v = mix[c][m] * a[m] * s->muscle_gain[m];
                    p += v * v;
                }
                fl[c] = 0.7 * fl[c] + 0.3 * mb_rng_normal(rng);
                double rms = sqrt(p) * (1.0 + 0.22 * fl[c]);
                out[i * C + c] = (rms > 0 ? rms : 0) * o->gain[c];
            }
        }
        free(act);
        return MB_OK;
    }

    struct synth_biquad bp[SYNTH_N_MUSCLES], hp[32];
    double bpg[SYNTH_N_MUSCLES];
    for (int m = 0; m < M; m++) {
        double fc = s->muscle_fc[m];
        if (fc > 0.3 * fs)
            fc = 0.3 * fs;     /* low-rate devices see the aliased-down band */
        bq_bandpass(&bp[m], fc, 0.7, fs);
        bpg[m] = 1.0 / bq_gain(bp[m]);
    }
    for (int c = 0; c < C; c++)
        if (o->hp_hz > 0)
            synth_bq_highpass(&hp[c], o->hp_hz, fs);
    double lp_a = s->tissue_fc < 0.45 * fs ? 1.0 - exp(-2.0 * M_PI * s->tissue_fc / fs) : 1.0;
    double lp[32] = {0};
    double pl_amp[32], pl_ph[32], wd_amp[32][3], wd_ph[32][3], wd_f[3], wd_c[32][3], wd_s[32][3];
    for (int k = 0; k < 3; k++)
        wd_f[k] = 0.12 + 0.25 * k + 0.1 * mb_rng_uniform(rng);
    for (int c = 0; c < C; c++) {
        pl_amp[c] = o->powerline * (0.3 + mb_rng_uniform(rng));
        pl_ph[c] = 2.0 * M_PI * mb_rng_uniform(rng);
        for (int k = 0; k < 3; k++) {
            wd_amp[c][k] = o->wander * (0.2 + mb_rng_uniform(rng));
            wd_ph[c][k] = 2.0 * M_PI * mb_rng_uniform(rng);
        }
    }
    /* sin(wt + ph) = sin(wt) cos(ph) + cos(wt) sin(ph): one sin/cos pair
     * per sample and component instead of one per channel. */
    double pl_cos[32], pl_sin[32];
    for (int c = 0; c < C; c++) {
        pl_cos[c] = pl_amp[c] * cos(pl_ph[c]);
        pl_sin[c] = pl_amp[c] * sin(pl_ph[c]);
        for (int k = 0; k < 3; k++) {
            wd_c[c][k] = wd_amp[c][k] * cos(wd_ph[c][k]);
            wd_s[c][k] = wd_amp[c][k] * sin(wd_ph[c][k]);
        }
    }
    /* Wander starts from 0 at t0 (its value there is subtracted), so the
     * device high-pass sees no step and leaves no start-up transient. */
    double wd0[32];
    for (int c = 0; c < C; c++) {
        wd0[c] = 0;
        for (int k = 0; k < 3; k++)
            wd0[c] += wd_amp[c][k] * sin(2.0 * M_PI * wd_f[k] * o->t0 + wd_ph[c][k]);
    }
    struct synth_gauss gs = { rng, 0, 0.0 };
    for (size_t i = 0; i < o->n; i++) {
        double t = o->t0 + (double)i / fs;
        size_t k = i / step;
        double u = (double)(i - k * step) / (double)step;
        const double *a0 = &act[k * M], *a1 = &act[(k + 1) * M];
        double src[SYNTH_N_MUSCLES];
        for (int m = 0; m < M; m++) {
            double a = a0[m] + u * (a1[m] - a0[m]);
            src[m] = a * s->muscle_gain[m] * bpg[m] * synth_bq_run(&bp[m], synth_gauss_next(&gs));
        }
        double pls, plc, wsn[3], wcs[3];
        sincos(2.0 * M_PI * s->powerline_hz * t, &pls, &plc);
        for (int k2 = 0; k2 < 3; k2++)
            sincos(2.0 * M_PI * wd_f[k2] * t, &wsn[k2], &wcs[k2]);
        for (int c = 0; c < C; c++) {
            double x = 0;
            for (int m = 0; m < M; m++)
                x += mix[c][m] * src[m];
            lp[c] += lp_a * (x - lp[c]);
            x = lp[c] + pls * pl_cos[c] + plc * pl_sin[c] + o->noise * synth_gauss_next(&gs) - wd0[c];
            for (int k2 = 0; k2 < 3; k2++)
                x += wsn[k2] * wd_c[c][k2] + wcs[k2] * wd_s[c][k2];
            if (o->hp_hz > 0)
                x = synth_bq_run(&hp[c], x);
            out[i * C + c] = x * o->gain[c];
        }
    }
    free(act);
    return MB_OK;
}
