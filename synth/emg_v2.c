/* synth/emg_v2.c - model v2's EMG: motor-unit pools per compartment
 * (recruitment, rate coding, MUAP trains), volume conduction to each
 * electrode (depth, fat, distance, electrode size and spacing), and the
 * session's drift (re-donning, fatigue, sweat). docs/SYNTH.md "Model v2"
 * gives every number and its source.
 *
 * Cost: per compartment one source signal from its spikes (spikes x MUAP
 * length), then per (channel, compartment) a gain (channels x
 * compartments x samples), as in v1's mixing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "synth/internal.h"

/* ---- motor units --------------------------------------------------------- */

/* Recruitment thresholds span a 30-fold range (Fuglevand et al. 1993, J
 * Neurophysiol 70:2470), exponentially distributed so most units are small
 * and recruited early (Henneman's size principle); the last is recruited at
 * 60 % of maximal excitation (forearm muscles recruit over most of their
 * range, unlike small hand muscles). */
static const double RR = 30.0, THR_MAX = 0.6;
/* Rate coding: 8 Hz at recruitment, rising to a peak of 35 Hz for the
 * earliest units and 25 Hz for the last (Fuglevand 1993: minimum 8 Hz,
 * peak 35 Hz minus 10 Hz across the pool); inter-spike intervals vary with
 * a coefficient of variation of 0.2 (Clamann 1969, as Fuglevand used). */
static const double FR_MIN = 8.0, PFR_FIRST = 35.0, PFR_DROP = 10.0, ISI_CV = 0.2;
/* Muscle-fibre conduction velocity 3.5-5 m/s, faster in larger
 * (later-recruited) units (Andreassen & Arendt-Nielsen 1987). */
static const double CV_LO = 3.5, CV_HI = 5.0;
/* MUAP width: the depolarised zone of a fibre travels at the conduction
 * velocity, so the temporal width is a length over a velocity. The volume
 * conductor passes spatial frequency k as exp(-k h) for a source h below
 * the skin (Lindstrom & Magnusson 1977), which widens the surface
 * potential of a deeper source; with h = depth + fat, the width grows by
 * 100 % per WIDTH_DIST_MM. This is the only place where distance lowers
 * the frequency (the untuned model also low-passed each path by distance,
 * counting depth twice; docs/SYNTH.md "Model v2"). SRC_LEN_MM puts a
 * superficial compartment's surface mean frequency at 2 kHz in the 80-120
 * Hz reported for forearm surface EMG. */
static const double SRC_LEN_MM = 4.0, WIDTH_DIST_MM = 15.0;
/* Per path: an electrode farther from a compartment than one straight
 * above it sees a wider MUAP (the same exp(-k h) with h the path's
 * length). Each compartment's source is made at two widths, the nearest
 * electrode's (h = depth + fat) and FAR_MM farther; a path mixes the two
 * by its own distance (conduction()). Depth enters once: through h. */
static const double FAR_MM = 40.0;
/* RMS of a compartment's source at maximal excitation (unfatigued), in
 * the units of v1's mixing. The untuned model had 1; with gestures now at
 * 5-25 % of maximal excitation that left the Myo armbands' counts below
 * the real recordings', and 3 puts the Myo readings inside their range
 * (docs/SYNTH.md "Model v2, tuned": one scale for every device, whose
 * unit conversions are v1's). */
static const double MVC_RMS = 3.0;
/* Fatigue: during a session the conduction velocity falls, MUAPs widen and
 * the spectrum moves down (Lindstrom et al. 1970; Merletti et al. 1990).
 * Gesture protocols are intermittent and submaximal, so the drop is mild:
 * at most 15 % (times the subject's fatigability, 0.5-1.5), approached with
 * a time constant of 20 min. */
static const double FATIGUE_MAX = 0.15, FATIGUE_TAU_S = 1200.0;
/* Sweat under the electrodes lowers the skin impedance over the first
 * minutes of wear (dry electrodes such as the Myo's above all): gain rises
 * by up to o->sweat and the noise floor falls by up to half, with a time
 * constant of 10 min. */
static const double SWEAT_TAU_S = 600.0;

void synth_v2_pool(struct synth_v2_pool *pool, const struct synth_subject *s, int comp)
{
    const struct synth_anat2 *a = &s->v2;
    struct mb_rng r;
    mb_rng_seed(&r, a->mu_seed, a->mu_stream + (uint64_t)comp + 1);
    /* 20 to 60 units per compartment, scaled to its size (the simulated
     * pool stands for the units the electrodes see, not the hundreds a
     * forearm muscle has: more add cost, not a different signal). */
    double rel = synth_v2_comps[comp].pcsa_cm2 * a->size[comp] / 3.4;
    int n = 20 + (int)lround(40.0 * (rel > 1.0 ? 1.0 : rel));
    pool->n = n;
    for (int i = 0; i < n; i++) {
        struct synth_v2_mu *u = &pool->mu[i];
        double f = ((double)i + 0.5) / n;
        u->thr = THR_MAX * exp(log(RR) * (f - 1.0));
        u->pfr = PFR_FIRST - PFR_DROP * f;
        /* Amplitude grows with threshold: larger units have more and larger
         * fibres; the spread per unit is about 20 %. */
        u->amp = sqrt(u->thr / THR_MAX) * exp(0.2 * mb_rng_normal(&r));
        u->cv = (CV_LO + (CV_HI - CV_LO) * f) * exp(0.05 * mb_rng_normal(&r));
    }
}

double synth_v2_rate(const struct synth_v2_mu *u, double e)
{
    if (e < u->thr)
        return 0.0;
    double x = (e - u->thr) / (1.0 - u->thr);
    if (x > 1.0)
        x = 1.0;
    return FR_MIN + (u->pfr - FR_MIN) * x;
}

/* MUAP seen by one pole: the second derivative of Rosenfalck's
 * intracellular action potential, V(x) ~ x^3 exp(-x) with x in units of
 * length along the fibre (Rosenfalck 1969, Acta Physiol Scand Suppl 321;
 * the line-source model of Nandedkar & Stalberg 1983 and Merletti et al.
 * 1999, IEEE Trans Biomed Eng 46:810, where the transmembrane current is
 * the IAP's second spatial derivative). Its fast depolarisation and slow
 * repolarisation give a short positive phase, a negative phase and a slow
 * positive tail: a spectrum that rises as f^2 and falls as f^-4 (power),
 * broader on both sides than the Gaussian-derived Mexican hat the tuned
 * model had, whose power fell as exp(-f^2). The bipolar pair sees
 * h(t) - h(t - tau) with tau = inter-electrode distance / conduction
 * velocity. Zero mean and zero first moment, so no DC. */
static double muap(double x)
{
    if (x <= 0.0)
        return 0.0;
    return exp(-x) * x * (x * x - 6.0 * x + 6.0);
}

/* muap() tabulated on [0, HAT_SPAN] length units (cut where it is 0.2 % of
 * its peak), HAT_RES points per unit, read with linear interpolation: the
 * spikes need millions of evaluations, and exp() was most of v2's time. */
#define HAT_SPAN 14
#define HAT_RES 64
#define HAT_N (HAT_SPAN * HAT_RES + 2)
struct hat_table { double v[HAT_N]; };

static void hat_table_init(struct hat_table *h)
{
    for (int k = 0; k < HAT_N; k++)
        h->v[k] = muap((double)k / HAT_RES);
    h->v[HAT_N - 1] = h->v[HAT_N - 2] = 0.0;
}

static double hat_lookup(const struct hat_table *h, double u)
{
    double x = u * HAT_RES;
    if (x <= 0.0 || x >= HAT_N - 2)
        return 0.0;
    int k = (int)x;
    double f = x - k;
    return h->v[k] + f * (h->v[k + 1] - h->v[k]);
}

/* Per compartment, what the spikes need. */
struct comp_src {
    struct synth_v2_pool pool;
    double next[SYNTH_V2_MAX_MU];   /* next spike time of each unit, < 0 if not recruited */
    double width[2];                /* length multiplier for distance: nearest electrode, FAR_MM farther */
    double norm[2];                 /* 1 / RMS of each source at full excitation, unfatigued */
};

/* ---- the device's anti-aliasing filter ------------------------------------ */

/* A device sampling below 1 kHz (the Myo at 200 Hz) low-passes its input
 * before it samples: an 8th-order Butterworth (four biquads, poles at
 * Q = 1 / (2 cos((2k - 1) pi / 16))) with its corner at AA_CUTOFF of the
 * output rate, run at the source rate and read every src_k-th sample. Its
 * corner is not published for the Myo; 0.4 fs puts -3 dB at 80 Hz and
 * about -20 dB at 110 Hz (which would alias onto 90 Hz). Without it the
 * sources were averaged down (a single boxcar, 4 dB down at the Nyquist
 * frequency), which folded the MUAP's 100-200 Hz power onto 0-100 Hz and
 * put the Myo's mean frequency at 74 Hz against the real 55-63. */
#define AA_SECTIONS 4
static const double AA_CUTOFF = 0.4;

static void aa_design(struct synth_biquad f[AA_SECTIONS], double fc, double fs)
{
    double w = 2.0 * M_PI * fc / fs, c = cos(w), sn = sin(w);
    for (int k = 0; k < AA_SECTIONS; k++) {
        double q = 1.0 / (2.0 * cos((2 * k + 1) * M_PI / (4.0 * AA_SECTIONS)));
        double al = sn / (2.0 * q), a0 = 1.0 + al;
        f[k] = (struct synth_biquad){ (1.0 - c) / 2.0 / a0, (1.0 - c) / a0, (1.0 - c) / 2.0 / a0,
                                      -2.0 * c / a0, (1.0 - al) / a0, 0, 0 };
    }
}

static double aa_run(struct synth_biquad f[AA_SECTIONS], double x)
{
    for (int k = 0; k < AA_SECTIONS; k++)
        x = synth_bq_run(&f[k], x);
    return x;
}

/* Conduction velocity relative to the rested one, t_session s after donning. */
static double fatigue_factor(double fatigability, double t_session)
{
    double t = t_session > 0 ? t_session : 0;
    return 1.0 - FATIGUE_MAX * fatigability * (1.0 - exp(-t / FATIGUE_TAU_S));
}

/* Energy of the bipolar MUAP of length unit sigma (s) and pole delay tau,
 * averaged over w seconds (the ADC's integration window when the source is
 * decimated; 0 none), by quadrature. */
static double muap_energy(const struct hat_table *ht, double sigma, double tau, double w)
{
    double dt = sigma / 16.0, hi = tau + HAT_SPAN * sigma + w, e = 0;
    int nw = w > 0 ? (int)ceil(w / dt) : 1;
    if (nw < 1)
        nw = 1;
    for (double t = 0; t < hi; t += dt) {
        double box = 0;
        for (int k = 0; k < nw; k++) {
            double u = nw > 1 ? t - (k + 0.5) * w / nw : t;
            box += hat_lookup(ht, u / sigma) - hat_lookup(ht, (u - tau) / sigma);
        }
        box /= nw;
        e += box * box * dt;
    }
    return e;
}

/* The same energy after the anti-aliasing filter of aa_design (corner fc
 * at source rate fs), in closed form per frequency: muap() is the second
 * derivative of x^3 exp(-x), whose Fourier transform is 6 / (1 + i w)^4, so
 * one pole's |U(f)|^2 = sigma^2 36 w^4 / (1 + w^2)^4 with w = 2 pi f sigma;
 * the pair multiplies it by 4 sin^2(pi f tau); the bilinear Butterworth's
 * |H|^2 = 1 / (1 + (tan(pi f / fs) / tan(pi fc / fs))^(4 AA_SECTIONS)).
 * Energy = 2 int_0^3fc of their product (|H|^2 < 1e-7 above 3 fc). Cheap
 * enough to take for every unit of a pool: the filter makes the energy
 * depend on the unit's width, not only scale with it. */
static double muap_energy_aa(double sigma, double tau, double fc, double fs)
{
    enum { NF = 384 };
    double fmax = 3.0 * fc < 0.5 * fs ? 3.0 * fc : 0.5 * fs, df = fmax / NF, e = 0;
    double tc = tan(M_PI * fc / fs);
    for (int k = 0; k < NF; k++) {
        double f = (k + 0.5) * df, w = 2.0 * M_PI * f * sigma, w2 = w * w, d = 1.0 + w2;
        double u2 = sigma * sigma * 36.0 * w2 * w2 / (d * d * d * d), sp = sin(M_PI * f * tau);
        double h2 = 1.0 / (1.0 + pow(tan(M_PI * f / fs) / tc, 4 * AA_SECTIONS));
        e += u2 * 4.0 * sp * sp * h2 * df;
    }
    return 2.0 * e;
}

/* w_box: the averaging window of a decimated source (0 none); aa_fc, aa_fs:
 * the anti-aliasing filter's corner and rate (aa_fc 0: none). */
static void comp_setup(struct comp_src *cs, const struct synth_subject *s, int m, double ied_mm, double w_box,
                       double aa_fc, double aa_fs, const struct hat_table *ht)
{
    synth_v2_pool(&cs->pool, s, m);
    for (int i = 0; i < cs->pool.n; i++)
        cs->next[i] = -1.0;
    double h = s->v2.depth_mm[m] + s->v2.fat_mm;
    for (int b = 0; b < 2; b++) {
        cs->width[b] = 1.0 + (h + b * FAR_MM) / WIDTH_DIST_MM;
        /* Expected power at excitation 1: sum over units of amp^2 x rate x
         * energy of the bipolar MUAP (spikes at random phases). The energy
         * scales with the unit's length unit at a fixed tau / sigma
         * (= IED / (SRC_LEN_MM x width), the same for every unit), so one
         * quadrature serves the pool. */
        const struct synth_v2_mu *u0 = &cs->pool.mu[cs->pool.n / 2];
        double sig0 = 1e-3 * SRC_LEN_MM / u0->cv * cs->width[b];
        double e0 = aa_fc > 0 ? 0 : muap_energy(ht, sig0, 1e-3 * ied_mm / u0->cv, w_box) / sig0;
        double p = 0;
        for (int i = 0; i < cs->pool.n; i++) {
            const struct synth_v2_mu *u = &cs->pool.mu[i];
            double sigma = 1e-3 * SRC_LEN_MM / u->cv * cs->width[b];
            double en = aa_fc > 0 ? muap_energy_aa(sigma, 1e-3 * ied_mm / u->cv, aa_fc, aa_fs) : e0 * sigma;
            p += u->amp * u->amp * synth_v2_rate(u, 1.0) * en;
        }
        cs->norm[b] = p > 0 ? MVC_RMS / sqrt(p) : 0.0;
    }
}

/* Adds the spikes of [t0, t1) at excitation e to buf, the near source, and
 * buf + cap2, the far one (sample j at time tb + j / fs, cap samples); fat: conduction velocity relative to rested
 * (fatigue changes over minutes, so once per control step is enough). */
static void comp_spikes(struct comp_src *cs, double *buf, size_t cap, size_t cap2, double fs, double tb, double t0, double t1,
                        double e, double ied_mm, double fat, const struct hat_table *ht, struct synth_gauss *r)
{
    for (int i = 0; i < cs->pool.n; i++) {
        const struct synth_v2_mu *u = &cs->pool.mu[i];
        double rate = synth_v2_rate(u, e);
        if (rate <= 0.0) {
            cs->next[i] = -1.0;      /* derecruited; sorted, so are all later units */
            for (int k = i + 1; k < cs->pool.n; k++)
                cs->next[k] = -1.0;
            break;
        }
        double mean = 1.0 / rate;
        if (cs->next[i] < 0.0)
            cs->next[i] = t0 + mean * mb_rng_uniform(r->r);    /* recruited: random phase */
        while (cs->next[i] < t1) {
            double ts = cs->next[i];
            double cv = u->cv * fat;
            double tau = 1e-3 * ied_mm / cv;
            double x0 = (ts - tb) * fs;
            size_t j0 = x0 <= 0 ? 0 : (size_t)ceil(x0);
            for (int b = 0; b < 2; b++) {
                double sigma = 1e-3 * SRC_LEN_MM / cv * cs->width[b], amp = u->amp * cs->norm[b];
                double *bb = buf + (size_t)b * cap2;
                size_t j1 = (size_t)ceil(x0 + (HAT_SPAN * sigma + tau) * fs) + 1;
                if (j1 > cap)
                    j1 = cap;
                double inv = 1.0 / (sigma * fs), u0 = -x0 * inv, ut = tau / sigma;
                for (size_t j = j0; j < j1; j++) {
                    double x = u0 + (double)j * inv;
                    bb[j] += amp * (hat_lookup(ht, x) - hat_lookup(ht, x - ut));
                }
            }
            double isi = mean * (1.0 + ISI_CV * synth_gauss_next(r));
            if (isi < 0.25 * mean)
                isi = 0.25 * mean;   /* refractory: no doublets from the Gaussian tail */
            cs->next[i] = ts + isi;
        }
    }
}

/* ---- volume conduction --------------------------------------------------- */

/* Band positions along the forearm (0 elbow, 1 wrist): an armband sits on
 * the thickest part (about a third down), the distal ring and the DB1/DB2
 * palpation spots at the middle, the emg2pose band at the wrist. */
static const double level_z[3] = { 0.30, 0.55, 0.88 };

/* Skin radius (mm) at z: the forearm tapers from the proximal third to
 * about 60 % of that circumference at the wrist. */
static double radius_mm(const struct synth_anat2 *a, double z)
{
    double u = (z - 0.30) / 0.60;
    u = u < 0 ? 0 : u > 1 ? 1 : u;
    return a->circ_cm * 10.0 / (2.0 * M_PI) * (1.0 - 0.4 * u);
}

/* Attenuation of a compartment's potential at distance r (mm): a
 * dipole-like 1 / r^2 fall beyond the compartment's own radius r0, times
 * the bipolar pair's differential factor 1 - exp(-IED / r) (sources much
 * farther than the inter-electrode distance reach both poles alike). */
static double atten(double r, double r0, double ied)
{
    return 1.0 / (1.0 + (r / r0) * (r / r0)) * (1.0 - exp(-ied / r));
}

/* Gain of compartment m at electrode c, and the share of its far source
 * (0 for an electrode straight above it, 1 for FAR_MM or more farther). */
static void conduction(double *gain, double *far, const struct synth_subject *s, const struct synth_rig *rig,
                       const struct synth_emg_opts *o, int c, int m)
{
    const struct synth_anat2 *a = &s->v2;
    *far = 1.0;                 /* far-field paths: the widest MUAP */
    if (rig->special[c]) {
        /* Upper-arm electrodes (DB2): the biceps supinates, so it follows
         * the supinator; otherwise only far-field volume conduction. */
        *gain = rig->special[c] == 1 ? (m == C_SUP ? 0.6 : 0.04) : 0.05;
        return;
    }
    double ied = rig->ied_mm > 0 ? rig->ied_mm : 10.0, esize = rig->size_mm > 0 ? rig->size_mm : 5.0;
    /* Palpated electrodes sit on their muscle's spot at each session; bands
     * carry the subject's habit and the session's re-donning. */
    static const int anchor_v2[SYNTH_N_MUSCLES] = { [0] = C_EDC_M, [8] = C_FDS_M };
    double z = level_z[rig->level[c]], th;
    if (rig->anchored[c]) {
        int am = anchor_v2[rig->anchor_muscle[c]];
        th = (rig->mirror ? -a->angle[am] : a->angle[am]) + rig->angle[c];
    } else {
        z += a->band_z + o->session_shift;
        th = rig->angle[c] + s->rotation + o->session_rot;
    }
    double R = radius_mm(a, z), scale = R / radius_mm(a, 0.30);
    double phi = rig->mirror ? -a->angle[m] : a->angle[m];
    double size = synth_v2_comps[m].pcsa_cm2 * a->size[m];
    double r0 = sqrt(size * 100.0 / M_PI);          /* compartment radius, mm */
    double rho = R - a->fat_mm - a->depth_mm[m] * scale;
    if (rho < 2.0)
        rho = 2.0;
    /* The electrode's size averages the potential over its surface
     * (Simpson's rule across its width): a spatial low-pass. */
    double g = 0, r_mid = 0;
    static const double wts[3] = { 1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0 };
    for (int k = -1; k <= 1; k++) {
        double d = synth_wrap_angle(th + k * 0.5 * esize / R - phi);
        double r = sqrt(R * R + rho * rho - 2.0 * R * rho * cos(d));
        if (r < 0.5)
            r = 0.5;
        if (k == 0)
            r_mid = r;
        g += wts[k + 1] * atten(r, r0, ied);
    }
    /* The path's extra length over the nearest electrode's (depth + fat,
     * comp_setup's near source) sets how much of the far source it sees:
     * the width interpolated linearly between the two. */
    double extra = r_mid - (a->depth_mm[m] + a->fat_mm);
    *far = extra <= 0 ? 0.0 : extra >= FAR_MM ? 1.0 : extra / FAR_MM;
    /* Along the forearm: the belly, then tendons, which carry no EMG (a
     * 10 % floor of far-field from the belly). */
    double dz = (z - synth_v2_comps[m].z_belly) / synth_v2_comps[m].z_width;
    double along = 0.1 + 0.9 * exp(-0.5 * dz * dz);
    /* Reference: a 2 cm^2 superficial compartment (6 mm) under a 10 mm
     * bipolar pair on 4 mm of fat has gain 1, the scale of v1's mixing. */
    double r0_ref = sqrt(200.0 / M_PI), g_ref = atten(10.0, r0_ref, 10.0);
    *gain = along * g * sqrt(size / 2.0) / g_ref;
    /* No low-pass per path: the tissue's spectral effect is the MUAP's
     * widening with the path's distance (*far). A one-pole low-pass at v / (2 pi
     * r), as the untuned model had, counted depth a second time and, being
     * a 1/f skirt below the MUAP's band for any r, hardly told 6 mm from 16
     * mm apart (mean frequency 186 against 177 Hz). */
}

/* ---- the recording ------------------------------------------------------- */

/* One channel's (compartment) paths, as dense float lanes the compiler
 * vectorises: y = g src. Single
 * precision is ample (the files hold float32, int8 or 4 decimals), and the
 * mixing is most of v2's cost. Lanes past the last compartment, and
 * compartments under -60 dB of the channel's largest (less than the sensor
 * noise), have zero gain. */
#define LANES 52
_Static_assert(LANES >= 2 * SYNTH_V2_N_COMP && LANES % 4 == 0, "LANES");
struct lane { float g[LANES]; };

/* sin and cos of a phase advancing by a fixed step: a rotation per sample,
 * re-anchored exactly at each block so rounding cannot build up. */
struct osc { double s, c, ds, dc; };

static void osc_at(struct osc *q, double w, double t, double dt)
{
    sincos(w * t, &q->s, &q->c);
    sincos(w * dt, &q->ds, &q->dc);
}

static void osc_step(struct osc *q)
{
    double s = q->s * q->dc + q->c * q->ds;
    q->c = q->c * q->dc - q->s * q->ds;
    q->s = s;
}

int synth_emg_v2(double *out, const struct synth_subject *s, const struct synth_rig *rig,
                 const struct synth_traj *tr, const struct synth_emg_opts *o, struct mb_rng *rng)
{
    const int C = rig->n_channels, M = SYNTH_V2_N_COMP;
    /* Rates: the channels are mixed at fs_mix; the DB1 envelope is the RMS
     * of EMG mixed at 500 Hz (most surface EMG power lies below 250 Hz, and
     * the source normalisation keeps the RMS; mixing is most of the cost).
     * Below 1 kHz the sources are made at a multiple of the rate and
     * averaged down (an integrating ADC), so short MUAPs are not missed
     * between samples. */
    size_t up = 1, src_k = 1;
    if (o->envelope && o->fs < 500.0)
        up = (size_t)lround(500.0 / o->fs);
    double fs_mix = o->fs * (double)up;
    if (fs_mix < 1000.0)
        src_k = (size_t)ceil(1000.0 / fs_mix);
    double fs_src = fs_mix * (double)src_k;
    size_t n_mix = o->n * up;
    size_t step = fs_mix > 200.0 ? (size_t)(fs_mix / 200.0) : 1;
    double ied = rig->ied_mm > 0 ? rig->ied_mm : 10.0;
    /* A sampled device below 1 kHz (the Myo's 200 Hz) low-passes before
     * its ADC; the Otto Bock envelope is analog and keeps the averaging. */
    const int aa_on = src_k > 1 && !o->envelope;

    struct comp_src *cs = calloc((size_t)M, sizeof *cs);
    struct lane *ln = calloc((size_t)C, sizeof *ln);
    if (!cs || !ln) {
        free(cs); free(ln);
        return mb_error(MB_ENOMEM, "emg synthesis (model v2): out of memory (%zu samples)", o->n);
    }
    struct hat_table ht;
    hat_table_init(&ht);
    struct synth_gauss gs = { rng, 0, 0.0 };
    int active[SYNTH_V2_N_COMP];
    /* Block of mixed samples (a whole number of control steps), plus the
     * tail MUAPs spill into: 8 sigma + tau of the widest MUAP, fully
     * fatigued. Usually under 60 ms, but a deep compartment of a spread
     * subject (--subject-spread 2) is wider, and a MUAP cut at the block's
     * end would lose its tail. */
    double span = 0.06;
    const double fat_min = 1.0 - FATIGUE_MAX * s->v2.fatigability;
    for (int m = 0; m < M; m++) {
        active[m] = !o->solo || o->solo == m + 1;
        if (!active[m])
            continue;
        comp_setup(&cs[m], s, m, ied, src_k > 1 && !aa_on ? 1.0 / fs_mix : 0.0, aa_on ? AA_CUTOFF * o->fs : 0.0,
                   fs_src, &ht);
        for (int i = 0; i < cs[m].pool.n; i++) {
            double cv = cs[m].pool.mu[i].cv * fat_min;
            double len = HAT_SPAN * 1e-3 * SRC_LEN_MM / cv * cs[m].width[1] + 1e-3 * ied / cv;
            if (len > span)
                span = len;
        }
    }
    size_t B = step * 256, T = (size_t)ceil(span * fs_src) + 2;
    size_t cap = B * src_k + T;
    double *buf = calloc((size_t)(2 * M) * cap, sizeof *buf);
    struct synth_biquad (*aa)[AA_SECTIONS] = calloc((size_t)(2 * M), sizeof *aa);
    if (!buf || !aa) {
        free(buf); free(aa);
        free(cs); free(ln);
        return mb_error(MB_ENOMEM, "emg synthesis (model v2): out of memory (%zu samples)", o->n);
    }
    for (int c = 0; c < C; c++) {
        double g[SYNTH_V2_N_COMP], far[SYNTH_V2_N_COMP], gmax = 0;
        for (int m = 0; m < M; m++) {
            conduction(&g[m], &far[m], s, rig, o, c, m);
            if (active[m] && g[m] > gmax)
                gmax = g[m];
        }
        for (int m = 0; m < M; m++)
            if (active[m] && g[m] > 1e-3 * gmax) {
                ln[c].g[2 * m] = (float)(g[m] * (1.0 - far[m]));
                ln[c].g[2 * m + 1] = (float)(g[m] * far[m]);
            }
    }
    /* Mains, baseline wander and the device high-pass as in v1 (drawn in
     * the same order from the noise stream). */
    struct synth_biquad hp[32];
    double hp_hz = o->hp_hz;
    if (o->envelope && hp_hz <= 0)
        hp_hz = 20.0;          /* the Otto Bock electrode's own band starts above motion artefacts */
    for (int c = 0; c < C; c++)
        if (hp_hz > 0)
            synth_bq_highpass(&hp[c], hp_hz, fs_mix);
    if (aa_on)
        for (int m = 0; m < 2 * M; m++)
            aa_design(aa[m], AA_CUTOFF * o->fs, fs_src);
    double wd_f[3], pl_c[32], pl_s[32], wd_c[32][3], wd_s[32][3], wd0[32];
    for (int k = 0; k < 3; k++)
        wd_f[k] = 0.12 + 0.25 * k + 0.1 * mb_rng_uniform(rng);
    for (int c = 0; c < C; c++) {
        double amp = o->powerline * (0.3 + mb_rng_uniform(rng)), ph = 2.0 * M_PI * mb_rng_uniform(rng);
        pl_c[c] = amp * cos(ph);
        pl_s[c] = amp * sin(ph);
        wd0[c] = 0;
        for (int k = 0; k < 3; k++) {
            double wa = o->wander * (0.2 + mb_rng_uniform(rng)), wp = 2.0 * M_PI * mb_rng_uniform(rng);
            wd_c[c][k] = wa * cos(wp);
            wd_s[c][k] = wa * sin(wp);
            wd0[c] += wa * sin(2.0 * M_PI * wd_f[k] * o->t0 + wp);
        }
    }
    double pw[32] = {0};
    /* Otto Bock envelope: the electrode's RMS, smoothed with a 30 ms time
     * constant (not documented for the 13E200; chosen as a typical
     * myoelectric-control smoothing). */
    double env_a = 1.0 - exp(-1.0 / (0.030 * fs_mix));
    const double powerline_hz = s->powerline_hz;
    const int mains = o->powerline > 0, wander = o->wander > 0;
    struct osc opl = { 0, 1, 0, 1 }, owd[3] = { { 0, 1, 0, 1 }, { 0, 1, 0, 1 }, { 0, 1, 0, 1 } };
    double sw_g = 1.0, sw_n = 1.0;
    double e[SYNTH_V2_N_COMP];
    size_t cur = 0;
    int rc = MB_OK;
    for (size_t b0 = 0; b0 < n_mix && rc == MB_OK; b0 += B) {
        size_t nb = n_mix - b0 < B ? n_mix - b0 : B;
        double tb = o->t0 + (double)b0 / fs_mix;
        /* Spikes of this block, control step by control step. */
        for (size_t k0 = 0; k0 < nb; k0 += step) {
            float q[SYNTH_N_DOF], dq[SYNTH_N_DOF];
            double t0 = tb + (double)k0 / fs_mix, t1 = tb + (double)(k0 + step) / fs_mix;
            synth_traj_eval(q, dq, tr, &cur, t0);
            synth_v2_activations(e, s, q, dq);
            double fat = fatigue_factor(s->v2.fatigability, o->session_t + (t0 - o->t0));
            for (int m = 0; m < M; m++)
                if (active[m])
                    comp_spikes(&cs[m], &buf[(size_t)(2 * m) * cap], cap, cap, fs_src, tb, t0, t1, e[m], ied, fat, &ht, &gs);
        }
        if (mains)
            osc_at(&opl, 2.0 * M_PI * powerline_hz, tb, 1.0 / fs_mix);
        if (wander)
            for (int k = 0; k < 3; k++)
                osc_at(&owd[k], 2.0 * M_PI * wd_f[k], tb, 1.0 / fs_mix);
        for (size_t i = 0; i < nb; i++) {
            size_t ii = b0 + i;
            double t = o->t0 + (double)ii / fs_mix;
            if (i % step == 0) {
                /* Sweat: gain up, noise down, over the first minutes of wear. */
                double w = 1.0 - exp(-(o->session_t + (t - o->t0)) / SWEAT_TAU_S);
                sw_g = 1.0 + o->sweat * w;
                sw_n = 1.0 - 0.5 * (o->sweat > 0 ? o->sweat / 0.3 : 0) * w;
                if (sw_n < 0.5)
                    sw_n = 0.5;
            }
            float src[LANES] = { 0 };
            for (int m = 0; m < 2 * M; m++) {
                if (!active[m / 2])
                    continue;
                const double *bm = &buf[(size_t)m * cap + i * src_k];
                double v = 0;
                if (aa_on) {
                    for (size_t k = 0; k < src_k; k++)
                        v = aa_run(aa[m], bm[k]);
                    src[m] = (float)v;
                } else {
                    for (size_t k = 0; k < src_k; k++)
                        v += bm[k];
                    src[m] = (float)(v / (double)src_k);
                }
            }
            for (int c = 0; c < C; c++) {
                struct lane *L = &ln[c];
                float acc[4] = { 0, 0, 0, 0 };
                for (int m = 0; m < LANES; m += 4)
                    for (int k = 0; k < 4; k++) {
                        acc[k] += L->g[m + k] * src[m + k];
                    }
                double x = ((double)acc[0] + acc[1]) + ((double)acc[2] + acc[3]);
                x *= sw_g;
                if (mains)
                    x += opl.s * pl_c[c] + opl.c * pl_s[c];
                if (o->noise > 0)
                    x += o->noise * sw_n * synth_gauss_next(&gs);
                if (wander) {
                    x -= wd0[c];
                    for (int k = 0; k < 3; k++)
                        x += owd[k].s * wd_c[c][k] + owd[k].c * wd_s[c][k];
                }
                if (hp_hz > 0)
                    x = synth_bq_run(&hp[c], x);
                if (o->envelope) {
                    pw[c] += env_a * (x * x - pw[c]);
                    if ((ii + 1) % up == 0)
                        out[(ii / up) * (size_t)C + (size_t)c] = sqrt(pw[c]) * o->gain[c];
                } else {
                    out[ii * (size_t)C + (size_t)c] = x * o->gain[c];
                }
            }
            if (mains)
                osc_step(&opl);
            if (wander)
                for (int k = 0; k < 3; k++)
                    osc_step(&owd[k]);
        }
        /* Keep the tails that spill into the next block. */
        for (int m = 0; m < 2 * M; m++) {
            if (!active[m / 2])
                continue;
            double *bm = &buf[(size_t)m * cap];
            size_t used = nb * src_k;
            memmove(bm, bm + used, (cap - used) * sizeof *bm);
            memset(bm + (cap - used), 0, used * sizeof *bm);
        }
    }
    free(cs);
    free(buf);
    free(aa);
    free(ln);
    return rc;
}
