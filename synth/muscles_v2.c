/* synth/muscles_v2.c - model v2's forearm: the muscle compartments, a
 * subject's anatomy, and the map from the pose trajectory to each
 * compartment's excitation. docs/SYNTH.md "Model v2" explains the numbers;
 * comments here say where they come from when that is not obvious. */
#include <math.h>
#include <string.h>

#include "synth/internal.h"

/* Angles around the right forearm at its proximal third (0 dorsal midline,
 * 90 radial, 180 volar, 270 ulnar), read off cross-sectional anatomy atlases:
 * the radial wrist extensors and brachioradialis group on the radial side,
 * the finger extensors dorsally with their slips from radial (index) to
 * ulnar (little), the superficial flexors volarly from radial (PT, FCR) to
 * ulnar (FCU), FDS beneath them, FDP and FPL on the ulna and radius.
 * Depth (mm below the fascia to the centroid): superficial layer 5-7,
 * FDS (intermediate layer) 9-12, deep layer 12-18. PCSA (cm^2), roughly
 * after Lieber et al. 1992 (J Hand Surg 17A:787) and Jacobson et al. 1992;
 * where a per-finger value is not reported the muscle's total is split by
 * the tendons' usual share. z: belly centre and spread along the forearm
 * (0 elbow, 1 wrist): the wrist and forearm rotators and the radial
 * extensors are proximal, the thumb extensors and EIP distal. */
const struct synth_v2_comp synth_v2_comps[SYNTH_V2_N_COMP] = {
    [C_FDS_I] = { "FDS index",       185, 12.0, 1.4, .45, .20, C_EDC_I },
    [C_FDS_M] = { "FDS middle",      195,  9.0, 1.9, .45, .20, C_EDC_M },
    [C_FDS_R] = { "FDS ring",        205,  9.0, 1.0, .45, .20, C_EDC_R },
    [C_FDS_L] = { "FDS little",      215, 12.0, 0.4, .50, .18, C_EDC_L },
    [C_FDP_I] = { "FDP index",       205, 17.0, 1.8, .45, .22, C_EDC_I },
    [C_FDP_M] = { "FDP middle",      220, 16.0, 2.2, .45, .22, C_EDC_M },
    [C_FDP_R] = { "FDP ring",        235, 14.0, 1.7, .45, .22, C_EDC_R },
    [C_FDP_L] = { "FDP little",      248, 12.0, 1.8, .45, .22, C_EDC_L },
    [C_EDC_I] = { "EDC index",        45,  6.0, 0.5, .40, .20, C_FDS_I },
    [C_EDC_M] = { "EDC middle",       35,  6.0, 1.0, .40, .20, C_FDS_M },
    [C_EDC_R] = { "EDC ring",         25,  6.0, 0.9, .40, .20, C_FDS_R },
    [C_EDC_L] = { "EDC little",       15,  6.0, 0.4, .40, .20, C_FDS_L },
    [C_EIP]   = { "EIP",              30, 15.0, 0.6, .70, .15, C_FDS_I },
    [C_EDM]   = { "EDM",               0,  6.0, 0.4, .40, .20, C_FDS_L },
    [C_FPL]   = { "FPL",             155, 17.0, 2.1, .60, .20, C_EPL },
    [C_EPL]   = { "EPL",              40, 14.0, 0.9, .60, .15, C_FPL },
    [C_EPB]   = { "EPB",              55, 12.0, 0.5, .65, .15, C_FPL },
    [C_APL]   = { "APL",              60, 12.0, 1.9, .55, .15, -1 },
    [C_FCR]   = { "FCR",             160,  6.0, 2.0, .35, .18, C_ECRL },
    [C_FCU]   = { "FCU",             255,  6.0, 3.4, .40, .22, C_ECU },
    [C_ECRL]  = { "ECRL",            100,  6.0, 1.5, .25, .15, C_FCR },
    [C_ECRB]  = { "ECRB",             75,  7.0, 2.7, .35, .18, C_FCR },
    [C_ECU]   = { "ECU",             330,  6.0, 2.6, .40, .20, C_FCU },
    [C_PL]    = { "PL",              180,  5.0, 0.6, .30, .15, -1 },
    [C_PT]    = { "pronator teres",  135,  7.0, 3.5, .20, .12, C_SUP },
    [C_SUP]   = { "supinator",        95, 18.0, 3.4, .15, .10, C_PT },
};

/* Drive of compartment c per radian of deviation of degree of freedom dof
 * from the relaxed pose, on the positive (flexion, abduction, radial
 * deviation, pronation) and negative side. Each finger's flexors and
 * extensors follow only that finger: FDS flexes the PIP (and MCP) joint,
 * FDP the DIP (and PIP), EDC and EIP/EDM extend the MCP. */
struct v2_map { int c, dof; float pos, neg; };
static const struct v2_map vmap[] = {
    /* index */
    { C_FDS_I, J_IMCP_FE, .30f, 0 }, { C_FDS_I, J_IPIP_FE, .50f, 0 },
    { C_FDP_I, J_IDIP_FE, .60f, 0 }, { C_FDP_I, J_IPIP_FE, .20f, 0 }, { C_FDP_I, J_IMCP_FE, .10f, 0 },
    { C_EDC_I, J_IMCP_FE, 0, .60f }, { C_EDC_I, J_IPIP_FE, 0, .20f }, { C_EDC_I, J_IMCP_AA, 0, .40f },
    { C_EIP,   J_IMCP_FE, 0, .70f }, { C_EIP,   J_IPIP_FE, 0, .20f },
    /* middle */
    { C_FDS_M, J_MMCP_FE, .30f, 0 }, { C_FDS_M, J_MPIP_FE, .50f, 0 },
    { C_FDP_M, J_MDIP_FE, .60f, 0 }, { C_FDP_M, J_MPIP_FE, .20f, 0 }, { C_FDP_M, J_MMCP_FE, .10f, 0 },
    { C_EDC_M, J_MMCP_FE, 0, .80f }, { C_EDC_M, J_MPIP_FE, 0, .20f },
    /* ring */
    { C_FDS_R, J_RMCP_FE, .30f, 0 }, { C_FDS_R, J_RPIP_FE, .50f, 0 },
    { C_FDP_R, J_RDIP_FE, .60f, 0 }, { C_FDP_R, J_RPIP_FE, .20f, 0 }, { C_FDP_R, J_RMCP_FE, .10f, 0 },
    { C_EDC_R, J_RMCP_FE, 0, .80f }, { C_EDC_R, J_RPIP_FE, 0, .20f }, { C_EDC_R, J_RMCP_AA, .20f, 0 },
    /* little */
    { C_FDS_L, J_PMCP_FE, .30f, 0 }, { C_FDS_L, J_PPIP_FE, .50f, 0 },
    { C_FDP_L, J_PDIP_FE, .60f, 0 }, { C_FDP_L, J_PPIP_FE, .20f, 0 }, { C_FDP_L, J_PMCP_FE, .10f, 0 },
    { C_EDC_L, J_PMCP_FE, 0, .50f }, { C_EDC_L, J_PMCP_AA, .30f, 0 },
    { C_EDM,   J_PMCP_FE, 0, .70f }, { C_EDM,   J_PPIP_FE, 0, .20f }, { C_EDM, J_PMCP_AA, .40f, 0 },
    /* thumb: FPL flexes the IP joint, EPL extends it, EPB the MCP, APL abducts */
    { C_FPL, J_TIP_FE, .80f, 0 }, { C_FPL, J_TMCP_FE, .30f, 0 }, { C_FPL, J_TCMC_FE, .20f, 0 },
    { C_EPL, J_TIP_FE, 0, .70f }, { C_EPL, J_TMCP_FE, 0, .30f }, { C_EPL, J_TCMC_AA, 0, .30f },
    { C_EPB, J_TMCP_FE, 0, .70f }, { C_EPB, J_TCMC_FE, 0, .30f },
    { C_APL, J_TCMC_AA, .90f, 0 }, { C_APL, J_TCMC_FE, 0, .30f }, { C_APL, J_WRIST_DEV, .30f, 0 },
    /* wrist flexion (+) / extension (-): the finger flexors and extensors help */
    { C_FCR, J_WRIST_FE, 1.0f, 0 }, { C_FCU, J_WRIST_FE, .90f, 0 }, { C_PL, J_WRIST_FE, .50f, 0 },
    { C_FDS_M, J_WRIST_FE, .10f, 0 }, { C_FDS_R, J_WRIST_FE, .10f, 0 },
    { C_ECRL, J_WRIST_FE, 0, .70f }, { C_ECRB, J_WRIST_FE, 0, 1.0f }, { C_ECU, J_WRIST_FE, 0, .70f },
    { C_EDC_M, J_WRIST_FE, 0, .15f }, { C_EDC_R, J_WRIST_FE, 0, .15f },
    /* radial (+) / ulnar (-) deviation */
    { C_FCR, J_WRIST_DEV, .60f, 0 }, { C_ECRL, J_WRIST_DEV, 1.0f, 0 }, { C_ECRB, J_WRIST_DEV, .40f, 0 },
    { C_FCU, J_WRIST_DEV, 0, 1.0f }, { C_ECU, J_WRIST_DEV, 0, 1.0f },
    /* pronation (+) / supination (-) */
    { C_PT, J_PRON, 1.0f, 0 }, { C_FCR, J_PRON, .10f, 0 }, { C_SUP, J_PRON, 0, 1.0f },
};
#define N_VMAP (sizeof vmap / sizeof vmap[0])
_Static_assert(N_VMAP <= SYNTH_V2_MAX_MAP, "SYNTH_V2_MAX_MAP too small");

void synth_subject_make_v2(struct synth_subject *s, uint64_t seed, int subject, double spread)
{
    struct mb_rng r;
    mb_rng_seed(&r, seed, synth_stream(ST_ANAT2, 0, subject, 0, 0, 0));
    struct synth_anat2 *a = &s->v2;
    memset(a, 0, sizeof *a);
    /* Whole-forearm sizes first: proximal circumference 26 cm, sd 2 cm
     * (adult anthropometry: about 23-25 cm in women, 27-29 cm in men);
     * subcutaneous fat over the forearm 2-9 mm by ultrasound, median about
     * 4 mm (lognormal sd 0.35). */
    a->circ_cm = 26.0 + spread * 2.0 * mb_rng_normal(&r);
    a->fat_mm = 4.0 * synth_lognormal(&r, spread * 0.35);
    /* Where the band habitually sits along the forearm: sd about 1 cm of a
     * 25 cm forearm. */
    a->band_z = spread * 0.04 * mb_rng_normal(&r);
    a->fatigability = 0.5 + mb_rng_uniform(&r);
    a->cocontraction = 0.05 + 0.2 * mb_rng_uniform(&r);
    for (int c = 0; c < SYNTH_V2_N_COMP; c++) {
        /* Compartment positions differ between people by about 10 degrees
         * around the forearm (less than v1's 14: the compartments are
         * smaller and their order is fixed), depths by about 15 %, and
         * sizes by a factor of about 1.3. */
        a->angle[c] = (synth_v2_comps[c].angle_deg + spread * 10.0 * mb_rng_normal(&r)) * M_PI / 180.0;
        a->depth_mm[c] = synth_v2_comps[c].depth_mm * synth_lognormal(&r, spread * 0.15);
        a->size[c] = synth_lognormal(&r, spread * 0.25);
    }
    for (size_t e = 0; e < SYNTH_V2_MAX_MAP; e++)
        a->map_scale[e] = synth_lognormal(&r, spread * 0.3);
    a->mu_seed = seed;
    a->mu_stream = synth_stream(ST_ANAT2, 1, subject, 0, 0, 0);
}

/* Neighbouring fingers are not fully independent: FDP's slips share a
 * muscle belly and the EDC tendons are tied by juncturae tendinum, so
 * moving one finger recruits its neighbours' compartments a little
 * ("enslaving", Kilbreath & Gandevia 1994; Zatsiorsky et al. 2000). FDS's
 * slips are more independent. */
/* Pose drive to excitation (docs/SYNTH.md "Model v2"): the gain puts
 * unloaded movements at 5-25 % of maximal voluntary contraction (untuned:
 * 1.2, which put them near 70 %). */
static const double EXC_GAIN = 0.12;

static const double enslave_fdp = 0.15, enslave_edc = 0.15, enslave_fds = 0.05;

void synth_v2_activations(double e[SYNTH_V2_N_COMP], const struct synth_subject *s,
                          const float q[SYNTH_N_DOF], const float dq[SYNTH_N_DOF])
{
    const struct synth_anat2 *a = &s->v2;
    double drive[SYNTH_V2_N_COMP] = {0};
    for (size_t k = 0; k < N_VMAP; k++) {
        const struct v2_map *m = &vmap[k];
        double d = q[m->dof] - s->rest_q[m->dof];
        double v = dq[m->dof];
        /* Tonic drive holds the posture; phasic drive (velocity, 0.12 s
         * per rad/s as in v1) moves it. */
        double x = d > 0 ? m->pos * d : -m->neg * d;
        x += v > 0 ? 0.12 * m->pos * v : -0.12 * m->neg * v;
        drive[m->c] += x * a->map_scale[k];
    }
    double own[SYNTH_V2_N_COMP];
    memcpy(own, drive, sizeof own);
    static const int fdp[4] = { C_FDP_I, C_FDP_M, C_FDP_R, C_FDP_L };
    static const int fds[4] = { C_FDS_I, C_FDS_M, C_FDS_R, C_FDS_L };
    static const int edc[4] = { C_EDC_I, C_EDC_M, C_EDC_R, C_EDC_L };
    for (int f = 0; f < 4; f++)
        for (int g = f - 1; g <= f + 1; g += 2) {
            if (g < 0 || g > 3)
                continue;
            drive[fdp[f]] += enslave_fdp * own[fdp[g]];
            drive[fds[f]] += enslave_fds * own[fds[g]];
            drive[edc[f]] += enslave_edc * own[edc[g]];
        }
    /* Gripping stabilises the wrist: the wrist extensors (ECRB above all)
     * co-activate with finger flexion. */
    double grip = 0;
    for (int f = 0; f < 4; f++)
        grip += own[fds[f]] + own[fdp[f]];
    drive[C_ECRB] += 0.15 * grip;
    drive[C_ECU] += 0.08 * grip;
    for (int c = 0; c < SYNTH_V2_N_COMP; c++) {
        int an = synth_v2_comps[c].antagonist;
        double x = drive[c] + (an >= 0 ? a->cocontraction * own[an] : 0.0);
        /* Excitation as a fraction of maximal voluntary: free finger and
         * wrist movements without load use about 5-25 % of MVC, so a full
         * unloaded fist (drive about 2) lands near 0.2; the curve still
         * saturates towards 1 for drives no gesture reaches. No tonic
         * level: relaxed forearm muscles are electrically silent
         * (Basmajian & De Luca 1985), and a tonic 2.5 % (the smallest
         * units firing) made the Myo recordings' rests too busy (kurtosis
         * 9 against the real 16-23). */
        e[c] = x > 0 ? 1.0 - exp(-EXC_GAIN * x) : 0.0;
    }
}
