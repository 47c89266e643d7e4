/* synth/internal.h - shared between the generator's files; not part of
 * the public contract (synth/synth.h). */
#ifndef MB_SYNTH_INTERNAL_H
#define MB_SYNTH_INTERNAL_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>

#include "core/rng.h"
#include "synth/synth.h"

/* ---- gesture vocabulary (vocab.c) ------------------------------------- */

/* The joint-motion primitives a gesture mixes (coefficient order). A
 * positive coefficient flexes / abducts / pronates; negative extends. */
enum { PR_TF, PR_TA, PR_I, PR_M, PR_R, PR_P, PR_SP, PR_WF, PR_WD, PR_PRON, SYNTH_N_PRIM };

/* How the pose moves while a gesture is held. */
enum { DYN_HOLD = 0, DYN_WIGGLE, DYN_ROTATE, DYN_FLEXOSC };

struct synth_gesture {
    const char *name;
    float c[SYNTH_N_PRIM];       /* primitive coefficients, roughly -1..1 */
    int dyn;
};

struct synth_stage {
    const char *name;
    int held_out;
    int n_moves;
    struct synth_gesture moves[5];
};

/* Gesture of native label 'label' (>= 1; 0 is rest) of (dev, group); NULL
 * if none. emg2pose has stages instead (synth_stage_get). */
const struct synth_gesture *synth_vocab_gesture(enum synth_device dev, int group, int label);
/* Number of non-rest labels of (dev, group): DB1 E2 -> 17, Myo -> 7, ... */
int synth_vocab_count(enum synth_device dev, int group);
/* First global label of NinaPro exercise e (DB2/DB5 store global labels). */
int synth_vocab_nina_offset(enum synth_device dev, int exercise);
const struct synth_stage *synth_stage_get(int stage);
#define SYNTH_N_STAGES 29

/* 1 if the gesture mixes two or more primitives. */
int synth_gesture_is_combination(const struct synth_gesture *g);

/* ---- model (model.c) -------------------------------------------------- */

/* The 23 degrees of freedom: the 20 emg2pose joints (formats.md §2.4 order),
 * wrist flexion (+) / extension, wrist radial (+) / ulnar deviation,
 * pronation (+) / supination. */
enum {
    J_TCMC_FE = 0, J_TCMC_AA, J_TMCP_FE, J_TIP_FE,
    J_IMCP_AA, J_IMCP_FE, J_IPIP_FE, J_IDIP_FE,
    J_MMCP_AA, J_MMCP_FE, J_MPIP_FE, J_MDIP_FE,
    J_RMCP_AA, J_RMCP_FE, J_RPIP_FE, J_RDIP_FE,
    J_PMCP_AA, J_PMCP_FE, J_PPIP_FE, J_PDIP_FE,
    J_WRIST_FE, J_WRIST_DEV, J_PRON
};

/* One keyframe of a pose trajectory: from t_k the pose moves smoothly to
 * the next keyframe's pose. osc: oscillation amplitude (rad) during the
 * segment starting here; osc_kind a DYN_* value. */
struct synth_key {
    double t;                    /* seconds from the recording start */
    float q[SYNTH_N_DOF];        /* pose at t */
    float osc;
    int osc_kind;
};

struct synth_traj {
    size_t n, cap;
    struct synth_key *k;         /* [n], t increasing */
    double osc_hz;               /* subject's oscillation rate */
};

/* ---- model v2 anatomy (muscles_v2.c) ---------------------------------- */

/* Forearm muscle compartments of model v2: one per finger for FDS, FDP and
 * EDC, the thumb's and index's own extrinsic muscles, the wrist movers and
 * the forearm rotators (docs/SYNTH.md "Model v2" gives the table). */
enum {
    C_FDS_I, C_FDS_M, C_FDS_R, C_FDS_L, C_FDP_I, C_FDP_M, C_FDP_R, C_FDP_L,
    C_EDC_I, C_EDC_M, C_EDC_R, C_EDC_L, C_EIP, C_EDM, C_FPL, C_EPL, C_EPB, C_APL,
    C_FCR, C_FCU, C_ECRL, C_ECRB, C_ECU, C_PL, C_PT, C_SUP, SYNTH_V2_N_COMP
};
#define SYNTH_V2_MAX_MAP 128     /* entries of the pose-to-activation map */

struct synth_v2_comp {
    const char *name;
    double angle_deg;            /* around the right forearm: 0 dorsal, 90 radial, 180 volar, 270 ulnar */
    double depth_mm;             /* centroid below the muscle fascia */
    double pcsa_cm2;             /* physiological cross-sectional area: size */
    double z_belly, z_width;     /* belly along the forearm, 0 elbow .. 1 wrist */
    int antagonist;              /* co-contracting antagonist, -1 none */
};
extern const struct synth_v2_comp synth_v2_comps[SYNTH_V2_N_COMP];

/* A subject's forearm under model v2 (drawn from its own stream, so the v1
 * fields and habits are the same under both models). */
struct synth_anat2 {
    double angle[SYNTH_V2_N_COMP];           /* rad */
    double depth_mm[SYNTH_V2_N_COMP];
    double size[SYNTH_V2_N_COMP];            /* PCSA relative to the table */
    double map_scale[SYNTH_V2_MAX_MAP];      /* multiplies each map entry */
    double circ_cm;                          /* proximal forearm circumference */
    double fat_mm;                           /* subcutaneous fat thickness */
    double band_z;                           /* habitual band position shift, fraction of forearm length */
    double fatigability;                     /* scales the conduction-velocity drop */
    double cocontraction;                    /* antagonist co-activation */
    uint64_t mu_seed, mu_stream;             /* motor-unit pools */
};

/* A subject's fixed properties, shared by every device. */
struct synth_subject {
    double muscle_angle[SYNTH_N_MUSCLES];   /* rad, subject-jittered */
    double muscle_gain[SYNTH_N_MUSCLES];
    double muscle_fc[SYNTH_N_MUSCLES];      /* spectral centre, Hz */
    double map_scale[SYNTH_N_MUSCLES][SYNTH_N_DOF][2]; /* multiplies the anatomical map */
    double cocontraction;
    double rotation;                         /* armband rotation habit, rad */
    double tissue_fc;                        /* Hz */
    double powerline_hz;
    double ramp_s, react_s, pace;            /* execution timing */
    double amp;                              /* overall effort */
    float rest_q[SYNTH_N_DOF];               /* relaxed pose */
    double osc_hz;
    struct synth_anat2 v2;                   /* model v2 only (synth_subject_make_v2) */
};

/* spread: synth_params.subject_spread; the random draws are the same for any spread,
 * so spread 1 gives the population of earlier versions bit for bit. */
void synth_subject_make(struct synth_subject *s, uint64_t seed, int subject, double spread);

/* Fills s->v2 (model v2 anatomy); s's other fields stay as synth_subject_make left them. */
void synth_subject_make_v2(struct synth_subject *s, uint64_t seed, int subject, double spread);
/* Excitation (0..1) of every v2 compartment from the pose and its velocity. */
void synth_v2_activations(double e[SYNTH_V2_N_COMP], const struct synth_subject *s,
                          const float q[SYNTH_N_DOF], const float dq[SYNTH_N_DOF]);

/* The subject's version of gesture g (rep-level jitter from r if not NULL):
 * target pose in q[SYNTH_N_DOF]. */
void synth_gesture_pose(float q[SYNTH_N_DOF], const struct synth_subject *s, uint64_t seed,
                        int subject, const struct synth_gesture *g, struct mb_rng *rep_rng);

int  synth_traj_add(struct synth_traj *tr, double t, const float q[SYNTH_N_DOF], float osc, int osc_kind);
void synth_traj_free(struct synth_traj *tr);

/* Electrode placement of a device. */
enum synth_level { LEVEL_PROXIMAL = 0, LEVEL_DISTAL = 1, LEVEL_WRIST = 2 };

struct synth_rig {
    int n_channels;
    double angle[32];            /* electrode angle before rotation, rad */
    int level[32];               /* enum synth_level */
    int anchored[32];            /* 1: placed on a muscle by palpation (no armband rotation) */
    int anchor_muscle[32];
    int special[32];             /* 0 normal; 1 biceps-like; 2 triceps-like (DB2 upper arm) */
    int mirror;                  /* left arm */
    double ied_mm, size_mm;      /* model v2: inter-electrode distance and electrode size */
};

/* EMG of one recording before device quantisation, [n x C] row-major in
 * the device's physical units before 'scale'. rng drives the noise. */
struct synth_emg_opts {
    double fs;
    size_t n;
    double t0;                   /* time of sample 0 on the trajectory clock */
    double hp_hz;                /* device high-pass, 0 = none */
    double noise;                /* sensor noise std (activation units) */
    double powerline;            /* powerline amplitude */
    double wander;               /* baseline wander amplitude */
    int envelope;                /* 1: Otto Bock RMS envelope instead of raw EMG */
    double session_rot;          /* extra rotation for this session, rad */
    double gain[32];             /* per-channel gain */
    /* model v2 only (synth/emg_v2.c); model v1 ignores them */
    int model;                   /* 1 or 2 */
    double session_t;            /* s since the band was put on, at sample 0 (fatigue, sweat) */
    double session_shift;        /* re-donning shift along the forearm, fraction of its length */
    double sweat;                /* impedance drop reached after long wear: gain up, noise down */
    int solo;                    /* 1 + compartment: render only that one (property tests); 0 all */
};

int synth_emg(double *out /* [n x C] */, const struct synth_subject *s, const struct synth_rig *rig,
              const struct synth_traj *tr, const struct synth_emg_opts *o, struct mb_rng *rng) MB_MUST_CHECK;

/* Model v2 behind synth_emg (o->model == 2): motor-unit trains per
 * compartment, volume conduction to each electrode. */
int synth_emg_v2(double *out /* [n x C] */, const struct synth_subject *s, const struct synth_rig *rig,
                 const struct synth_traj *tr, const struct synth_emg_opts *o, struct mb_rng *rng) MB_MUST_CHECK;

/* One compartment's motor-unit pool (synth/emg_v2.c): recruitment threshold
 * (excitation 0..1), peak firing rate, MUAP amplitude, conduction velocity. */
#define SYNTH_V2_MAX_MU 64
struct synth_v2_mu { double thr, pfr, amp, cv; };
struct synth_v2_pool { int n; struct synth_v2_mu mu[SYNTH_V2_MAX_MU]; };
void   synth_v2_pool(struct synth_v2_pool *pool, const struct synth_subject *s, int comp);
/* Mean firing rate (Hz) of unit u at excitation e; 0 below its threshold. */
double synth_v2_rate(const struct synth_v2_mu *u, double e);

/* Pose at time t (rad) and its velocity. */
void synth_traj_eval(float q[SYNTH_N_DOF], float dq[SYNTH_N_DOF], const struct synth_traj *tr,
                     size_t *cursor, double t);

/* ---- keys ------------------------------------------------------------- */

/* Stream id for mb_rng_seed from the tuple that names a piece of randomness. */
uint64_t synth_stream(int purpose, int dev, int subject, int session, int group, int rep);

enum { ST_SUBJECT = 1, ST_STYLE, ST_REP, ST_NOISE, ST_SESSION, ST_SCHED, ST_IK, ST_IDS, ST_TIME, ST_GLOVE,
       ST_GLOVE_FIT, ST_ANAT2, ST_SESSION2 };

/* ---- signal primitives shared by the models (model.c, emg_v2.c) -------- */

/* Normal deviates two at a time (Box-Muller keeps both halves): the EMG
 * sources need millions of them. Built on core/rng.h uniforms. */
struct synth_gauss { struct mb_rng *r; int have; double z; };

static inline double synth_gauss_next(struct synth_gauss *g)
{
    if (g->have) {
        g->have = 0;
        return g->z;
    }
    double u1 = mb_rng_uniform(g->r), u2 = mb_rng_uniform(g->r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double rad = sqrt(-2.0 * log(u1)), sn, cs;
    sincos(2.0 * M_PI * u2, &sn, &cs);
    g->z = rad * sn;
    g->have = 1;
    return rad * cs;
}

static inline double synth_lognormal(struct mb_rng *r, double sigma)
{
    return exp(sigma * mb_rng_normal(r));
}

static inline double synth_wrap_angle(double a)
{
    a = fmod(a + M_PI, 2.0 * M_PI);
    if (a < 0)
        a += 2.0 * M_PI;
    return a - M_PI;
}

struct synth_biquad { double b0, b1, b2, a1, a2, z1, z2; };

static inline double synth_bq_run(struct synth_biquad *f, double x)
{
    double y = f->b0 * x + f->z1;
    f->z1 = f->b1 * x - f->a1 * y + f->z2;
    f->z2 = f->b2 * x - f->a2 * y;
    return y;
}

/* RBJ high-pass, Q = 1/sqrt(2): second-order Butterworth. */
static inline void synth_bq_highpass(struct synth_biquad *f, double fc, double fs)
{
    double w = 2.0 * M_PI * fc / fs, al = sin(w) / (2.0 * M_SQRT1_2), c = cos(w), a0 = 1.0 + al;
    *f = (struct synth_biquad){ (1.0 + c) / 2.0 / a0, -(1.0 + c) / a0, (1.0 + c) / 2.0 / a0,
                                -2.0 * c / a0, (1.0 - al) / a0, 0, 0 };
}

#endif
