/* corpus/corpus.c - a unified file seen as windows at one view (see
 * corpus.h and docs/PROTOCOLS.md "Corpus").
 *
 * Each recording is read whole at its native rate and, when the view rate
 * differs, resampled (kernels/resample; labels and repetitions take the value
 * of the latest native sample at or before the output instant, so they stay
 * causal) into its place in the corpus's one block of EMG. Its windows
 * (kernels/window: unlabelled and straddling windows dropped) are views into
 * that block, never copies: the corpus holds each sample once, whatever the
 * window overlap. Labels and pose are read one recording at a time. A lazy
 * corpus (cp_corpus_open) builds the same windows without reading any EMG
 * and reads a recording into a block of its own when a reader pins it. */
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fs.h"
#include "format/mbh5.h"
#include "kernels/resample.h"
#include "kernels/window.h"
#include "corpus/corpus.h"

/* The per-window arrays (window metadata only: the samples stay in c->emg)
 * resized to cap windows. */
static int resize_windows(struct cp_corpus *c, size_t cap)
{
    int32_t **i32[] = { &c->label, &c->rep, &c->subject, &c->rec, &c->session, &c->seg, &c->trial, &c->reach,
                        &c->block };
    for (size_t k = 0; k < sizeof i32 / sizeof i32[0]; k++) {
        int32_t *p = realloc(*i32[k], cap * sizeof *p);
        if (!p)
            return mb_error(MB_ENOMEM, "'%s': out of memory for %zu windows", c->path, cap);
        *i32[k] = p;
    }
    int64_t *st = realloc(c->start, cap * sizeof *st);
    if (!st)
        return mb_error(MB_ENOMEM, "'%s': out of memory for %zu windows", c->path, cap);
    c->start = st;
    if (c->J) {
        float *p = realloc(c->pose, cap * c->J * sizeof *p);
        if (p) c->pose = p;
        uint8_t *v = realloc(c->pose_valid, cap);
        if (v) c->pose_valid = v;
        float *q = realloc(c->pose_seq, cap * c->Wp * c->J * sizeof *q);
        if (q) c->pose_seq = q;
        if (!p || !v || !q)
            return mb_error(MB_ENOMEM, "'%s': out of memory for %zu pose rows", c->path, cap);
    }
    return MB_OK;
}

/* Room for 'need' windows, growing by doubling; *cap is the current room. */
static int reserve(struct cp_corpus *c, size_t *cap, size_t need)
{
    if (need <= *cap)
        return MB_OK;
    size_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    int rc = resize_windows(c, n);
    if (!rc)
        *cap = n;
    return rc;
}

/* The stream used as pose: the first of kind "pose", else the first "glove". */
static int pose_stream(const struct mbh5_recording *r)
{
    static const char *const kinds[] = { "pose", "glove" };
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < r->n_streams; i++)
            if (r->streams[i].info.kind && !strcmp(r->streams[i].info.kind, kinds[k]))
                return (int)i;
    return -1;
}

static char *dupstr(const char *s)
{
    return strdup(s ? s : "");
}

static char *tags_json(const struct mbh5_recording *r)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < r->n_tags; i++)
        json_object_set_new(o, r->tags[i].key, json_string(r->tags[i].value ? r->tags[i].value : ""));
    char *s = o ? json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* A label outside the vocabulary would become a class of its own and change
 * the metrics silently: refuse it with the same check as mbh5_validate.
 * lab holds samples [t0, t0 + n) of recording ri. */
static int check_labels(const struct mbh5_file *f, size_t ri, const int32_t *lab, size_t t0, size_t n)
{
    size_t i = mbh5_find_unknown_label(f, lab, n);
    if (i == n)
        return MB_OK;
    return mb_error(MB_EFORMAT, "'%s' recording '%s' sample %zu: label %d is neither -1 nor a gesture id of the "
                    "file's vocabulary ('myobench validate' lists every problem of the file)",
                    f->path, f->recordings[ri].id, t0 + i + 1, (int)lab[i]);
}

/* Resamplers of one load, one per native rate (a corpus has few), so the
 * lengths at the view rate and the samples come from the same filter. */
struct resamplers {
    size_t n;
    double *rate_in;             /* [n] */
    struct kern_resampler *rs;   /* [n] */
    double rate_out;
};

static void resamplers_release(struct resamplers *s)
{
    for (size_t i = 0; i < s->n; i++)
        kern_resampler_free(&s->rs[i]);
    free(s->rs);
    free(s->rate_in);
    memset(s, 0, sizeof *s);
}

/* The resampler from recording ri's native rate to the view rate; *out =
 * NULL at the native rate (the samples are used as they are). *out is valid
 * until the next call (the array may move). */
static int resampler_of(const struct kern_resampler **out, struct resamplers *s, const struct mbh5_file *f,
                        size_t ri)
{
    const struct mbh5_recording *r = &f->recordings[ri];
    *out = NULL;
    if (r->info.rate_hz == s->rate_out)
        return MB_OK;
    for (size_t i = 0; i < s->n; i++)
        if (s->rate_in[i] == r->info.rate_hz) {
            *out = &s->rs[i];
            return MB_OK;
        }
    double *ri2 = realloc(s->rate_in, (s->n + 1) * sizeof *ri2);
    if (ri2)
        s->rate_in = ri2;
    struct kern_resampler *rs = ri2 ? realloc(s->rs, (s->n + 1) * sizeof *rs) : NULL;
    if (!rs)
        return mb_error(MB_ENOMEM, "'%s': out of memory for a resampler", f->path);
    s->rs = rs;
    int rc = kern_resampler_init(&s->rs[s->n], r->info.rate_hz, s->rate_out);
    if (rc)
        return mb_error(rc, "'%s' recording '%s': cannot resample %g Hz to %g Hz", f->path, r->id,
                        r->info.rate_hz, s->rate_out);
    s->rate_in[s->n] = r->info.rate_hz;
    *out = &s->rs[s->n++];
    return MB_OK;
}

/* Places every recording at the view rate in one block: c->rec_off from the
 * lengths, c->emg allocated (not yet read) unless the corpus is lazy. */
static int alloc_emg(struct cp_corpus *c, const struct mbh5_file *f, struct resamplers *rsv, int lazy)
{
    if (!(c->rec_off = malloc((f->n_recordings + 1) * sizeof *c->rec_off)))
        return mb_error(MB_ENOMEM, "'%s': out of memory for the recording table", c->path);
    size_t T = 0;
    for (size_t ri = 0; ri < f->n_recordings; ri++) {
        const struct kern_resampler *rs;
        int rc = resampler_of(&rs, rsv, f, ri);
        if (rc)
            return rc;
        size_t Tn = f->recordings[ri].n_samples;
        c->rec_off[ri] = T;
        T += rs ? kern_resample_length(rs, Tn) : Tn;
    }
    c->rec_off[f->n_recordings] = T;
    if (lazy)
        return MB_OK;
    if (!(c->emg = malloc((T ? T : 1) * c->C * sizeof *c->emg)))
        return mb_error(MB_ENOMEM, "'%s': out of memory for %zu samples of %zu channels at %g Hz", c->path, T,
                        c->C, c->view.rate_hz);
    return MB_OK;
}

/* Recording ri's EMG at the view rate into dst [rec_off[ri + 1] - rec_off[ri] x C]. */
static int read_emg(float *dst, const struct cp_corpus *c, struct mbh5_file *f, size_t ri,
                    const struct kern_resampler *rs)
{
    const struct mbh5_recording *r = &f->recordings[ri];
    size_t Tn = r->n_samples, C = c->C;
    if (!Tn)
        return MB_OK;
    if (!rs)
        return mbh5_read_emg(f, ri, 0, Tn, dst);
    float *x = malloc(Tn * C * sizeof *x);   /* [Tn x C] native */
    if (!x)
        return mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory for %zu samples", f->path, r->id, Tn);
    int rc = mbh5_read_emg(f, ri, 0, Tn, x);
    if (!rc)
        kern_resample_f32(dst, x, 0, Tn, Tn, 0, c->rec_off[ri + 1] - c->rec_off[ri], C, rs);
    free(x);
    return rc;
}

/* Labels of one recording at the view rate. */
struct reclab {
    size_t T;
    int32_t *lab;      /* [T] */
    int32_t *rep;      /* [T] or NULL */
    size_t reach;      /* resampler reach in view samples, 0 at the native rate */
};

static void reclab_free(struct reclab *b)
{
    free(b->lab);
    free(b->rep);
    memset(b, 0, sizeof *b);
}

/* Labels and repetitions of recording ri, checked against the vocabulary,
 * at the view rate: output j takes the latest native sample at or before
 * its instant (causal). */
static int read_labels(struct reclab *b, struct mbh5_file *f, size_t ri, const struct kern_resampler *rs)
{
    const struct mbh5_recording *r = &f->recordings[ri];
    size_t Tn = r->n_samples;
    int32_t *lab = malloc((Tn ? Tn : 1) * sizeof *lab);
    int32_t *rep = r->info.has_repetition ? malloc((Tn ? Tn : 1) * sizeof *rep) : NULL;
    memset(b, 0, sizeof *b);
    if (!lab || (r->info.has_repetition && !rep)) {
        free(lab); free(rep);
        return mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory for %zu labels", f->path, r->id, Tn);
    }
    int rc = Tn ? mbh5_read_labels(f, ri, 0, Tn, lab, rep) : MB_OK;
    if (!rc)
        rc = check_labels(f, ri, lab, 0, Tn);
    if (rc) {
        free(lab); free(rep);
        return rc;
    }
    if (!rs || !Tn) {
        *b = (struct reclab){ Tn, lab, rep, 0 };
        return MB_OK;
    }
    size_t T = kern_resample_length(rs, Tn);
    int32_t *l2 = malloc((T ? T : 1) * sizeof *l2);
    int32_t *r2 = rep ? malloc((T ? T : 1) * sizeof *r2) : NULL;
    if (!l2 || (rep && !r2)) {
        free(l2); free(r2); free(lab); free(rep);
        return mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory resampling the labels", f->path, r->id);
    }
    for (size_t j = 0; j < T; j++) {
        /* output j is at the instant of native sample j*down/up */
        size_t k = (size_t)((unsigned long long)j * (unsigned long long)rs->down / (unsigned long long)rs->up);
        if (k >= Tn)
            k = Tn - 1;
        l2[j] = lab[k];
        if (r2)
            r2[j] = rep[k];
    }
    free(lab); free(rep);
    *b = (struct reclab){ T, l2, r2, kern_resample_reach(rs) };
    return MB_OK;
}

/* The pose stream of one recording, read whole at its own rate. */
struct recpose {
    int s;             /* stream index, -1 if the recording has none */
    size_t Ns;         /* samples */
    double rate;       /* its rate */
    float *P;          /* [Ns x J] */
    uint8_t *V;        /* [Ns] 1 if valid */
};

static void recpose_free(struct recpose *p)
{
    free(p->P);
    free(p->V);
    memset(p, 0, sizeof *p);
    p->s = -1;
}

static int read_pose(struct recpose *p, struct mbh5_file *f, size_t ri, size_t J)
{
    memset(p, 0, sizeof *p);
    p->s = J ? pose_stream(&f->recordings[ri]) : -1;
    if (p->s < 0)
        return MB_OK;
    /* pose widths were checked by check_layout */
    const struct mbh5_stream *st = &f->recordings[ri].streams[p->s];
    size_t n = st->n_samples;
    p->Ns = n;
    p->rate = st->info.rate_hz;
    p->P = malloc((n ? n : 1) * J * sizeof *p->P);
    p->V = malloc(n ? n : 1);
    if (!p->P || !p->V)
        return mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory for the pose stream", f->path,
                        f->recordings[ri].id);
    if (!n)
        return MB_OK;
    int rc = mbh5_read_stream(f, ri, p->s, 0, n, p->P, st->info.has_valid ? p->V : NULL);
    if (!rc && !st->info.has_valid)
        memset(p->V, 1, n);
    return rc;
}

/* Pose of window i starting at view sample 'start': frame fr is the pose
 * sample at the instant of EMG view sample start + floor((fr + 1) W / Wp) - 1;
 * the last frame is the window's last sample, the pose the splits and ridge
 * use. Zero and invalid without a pose stream. */
static void window_pose(struct cp_corpus *c, size_t i, size_t start, const struct recpose *p)
{
    float *pi = c->pose + i * c->J, *qi = c->pose_seq + i * c->Wp * c->J;
    c->pose_valid[i] = 0;
    memset(pi, 0, c->J * sizeof *pi);
    memset(qi, 0, c->Wp * c->J * sizeof *qi);
    if (p->s < 0 || !p->Ns)
        return;
    int valid = 1;
    for (size_t fr = 0; fr < c->Wp; fr++) {
        size_t e = start + (fr + 1) * c->W / c->Wp - 1;
        double q = floor((double)e / c->view.rate_hz * p->rate + 1e-9);
        size_t si = q < 0 ? 0 : (size_t)q;
        if (si >= p->Ns)
            si = p->Ns - 1;
        memcpy(qi + fr * c->J, p->P + si * c->J, c->J * sizeof *qi);
        valid &= p->V[si] != 0;
    }
    memcpy(pi, qi + (c->Wp - 1) * c->J, c->J * sizeof *pi);
    c->pose_valid[i] = (uint8_t)valid;
}

/* Segments of one recording: runs of equal (label, rep), numbered from
 * 'base' corpus-wide. */
struct recsegs {
    int32_t base;      /* id of the recording's first segment */
    int32_t *of;       /* [T] segment id of each view sample */
    size_t n;          /* segments */
    size_t *first;     /* [n + 1] first sample of each segment, and T */
};

static void recsegs_free(struct recsegs *s)
{
    free(s->of);
    free(s->first);
    memset(s, 0, sizeof *s);
}

static int find_segments(struct recsegs *s, const struct reclab *b, int32_t base, const char *path,
                         const char *rec_id)
{
    memset(s, 0, sizeof *s);
    s->base = base;
    if (!(s->of = malloc((b->T ? b->T : 1) * sizeof *s->of)))
        return mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory for the segments", path, rec_id);
    int32_t sid = base - 1;
    for (size_t t = 0; t < b->T; t++) {
        if (t == 0 || b->lab[t] != b->lab[t - 1] || (b->rep && b->rep[t] != b->rep[t - 1]))
            sid++;
        s->of[t] = sid;
    }
    s->n = (size_t)(sid - base + 1);
    if (!(s->first = malloc((s->n + 1) * sizeof *s->first)))
        return mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory for %zu segments", path, rec_id, s->n);
    for (size_t t = 0; t < b->T; t++)
        if (t == 0 || s->of[t] != s->of[t - 1])
            s->first[s->of[t] - base] = t;
    s->first[s->n] = b->T;
    return MB_OK;
}

static int gesture_index(const struct cp_corpus *c, int32_t label)
{
    for (size_t g = 0; g < c->n_gestures; g++)
        if (c->gesture_ids[g] == label)
            return (int)g;
    return -1;
}

/* Side of a recording as an index: 0 unknown, 1 left, 2 right. */
static int side_index(const char *side)
{
    return side && !strcmp(side, "left") ? 1 : side && !strcmp(side, "right") ? 2 : 0;
}

/* trial: see protocol.h. For corpora with repetitions, rest (repetition
 * <= 0) takes the repetition of the next movement segment in the same
 * recording (else the previous one). Otherwise occurrence numbers per
 * (subject, side, gesture), which finish_trials() may turn into time blocks. */
static void assign_trials(struct cp_corpus *c, size_t w0, size_t w1, int has_rep, int side, int32_t *occ)
{
    if (w0 == w1)
        return;
    if (has_rep) {
        /* per sample: rep of the next sample with rep >= 1 (scan backwards) */
        int32_t next = -1, prev = -1;
        /* windows are in increasing start order; walk them backwards */
        int32_t *nextrep = malloc((w1 - w0) * sizeof *nextrep);
        if (!nextrep) {
            for (size_t i = w0; i < w1; i++)
                c->trial[i] = c->rep[i] >= 1 ? c->rep[i] : -1;
            return;
        }
        for (size_t i = w1; i-- > w0;) {
            if (c->rep[i] >= 1)
                next = c->rep[i];
            nextrep[i - w0] = next;
        }
        /* segments of rest that contain no window still pass their reps
         * through the windows above; a rest run after the last movement
         * takes the previous repetition */
        for (size_t i = w0; i < w1; i++) {
            if (c->rep[i] >= 1) {
                c->trial[i] = prev = c->rep[i];
            } else {
                c->trial[i] = nextrep[i - w0] >= 1 ? nextrep[i - w0] : prev;
            }
        }
        free(nextrep);
        return;
    }
    /* occurrence of the segment among those of (subject, side, gesture):
     * occ[(subject * 3 + side) * G + g]; finished by finish_trials() */
    int32_t last_seg = -1, t = -1;
    for (size_t i = w0; i < w1; i++) {
        if (c->seg[i] != last_seg) {
            last_seg = c->seg[i];
            int gi = gesture_index(c, c->label[i]);
            t = gi < 0 ? -1 : ++occ[((size_t)c->subject[i] * 3 + (size_t)side) * c->n_gestures + (size_t)gi];
        }
        c->trial[i] = t;
    }
}

/* Time block (0..2) of the window [start, start + W) within its segment
 * [s0, s0 + L): sample t is in block floor(3 (t - s0) / L); -2 when the
 * window's first and last samples fall in different blocks. */
static int32_t time_block(size_t s0, size_t L, size_t start, size_t W)
{
    size_t last = start + W - 1;
    size_t b0 = 3 * (start - s0) / L, b1 = 3 * (last - s0) / L;
    return b0 == b1 ? (int32_t)b0 : -2;
}

/* Without repetitions, a gesture the subject made once per side (emg2pose:
 * each stage once per session and hand) has no second occurrence to test on;
 * its segments are cut into three time blocks, which become its trials
 * (docs/PROTOCOLS.md section 1). block[i] was set per window at load time
 * (-2 across a block boundary); occ holds the counts of assign_trials. */
static void finish_trials(struct cp_corpus *c, const int32_t *occ, const uint8_t *rec_has_rep)
{
    size_t G = c->n_gestures;
    for (size_t i = 0; i < c->n; i++) {
        int32_t b = c->block[i];
        c->block[i] = -1;
        if (rec_has_rep[c->rec[i]] || c->trial[i] < 0)
            continue;
        int gi = gesture_index(c, c->label[i]);
        int single = 1;
        for (size_t side = 0; side < 3; side++)
            single &= occ[((size_t)c->subject[i] * 3 + side) * G + (size_t)gi] <= 1;
        if (!single)
            continue;
        c->trial[i] = b >= 0 ? b + 1 : -1;
        c->block[i] = b >= 0 ? b : -1;
    }
}

static int session_index(struct cp_corpus *c, const char *subject, const char *session, int32_t *out)
{
    size_t len = strlen(subject) + strlen(session) + 2;
    char *key = malloc(len);
    if (!key)
        return mb_error(MB_ENOMEM, "out of memory");
    snprintf(key, len, "%s/%s", subject, session);
    for (size_t i = 0; i < c->n_sessions; i++)
        if (!strcmp(c->session_names[i], key)) {
            free(key);
            *out = (int32_t)i;
            return MB_OK;
        }
    char **p = realloc(c->session_names, (c->n_sessions + 1) * sizeof *p);
    if (!p) {
        free(key);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    c->session_names = p;
    p[c->n_sessions] = key;
    *out = (int32_t)c->n_sessions++;
    return MB_OK;
}

/* What a view needs of the file's tables, checked by the loader and by
 * cp_corpus_check alike. */
struct layout {
    double rate;          /* view rate */
    size_t C, W;          /* channels, samples per window */
    size_t J;             /* pose width, 0 without a pose stream */
};

static int check_layout(struct layout *lo, const struct mbh5_file *f, const char *path,
                        const struct cp_view *v)
{
    int rc;
    memset(lo, 0, sizeof *lo);
    if (!f->n_recordings)
        return mb_error(MB_EINVAL, "'%s': no recordings", path);
    lo->C = (size_t)f->recordings[0].info.n_channels;
    for (size_t i = 0; i < f->n_recordings; i++) {
        const struct mbh5_recording *r = &f->recordings[i];
        if ((size_t)r->info.n_channels != lo->C)
            return mb_error(MB_EINVAL, "'%s' recording '%s': %d channels, recording '%s' has %zu; "
                            "a view needs one channel count", path, r->id, r->info.n_channels,
                            f->recordings[0].id, lo->C);
        if (v->rate_hz <= 0 && r->info.rate_hz != f->recordings[0].info.rate_hz)
            return mb_error(MB_EINVAL, "'%s' recording '%s': native rate %g Hz differs from %g Hz; "
                            "give a common view rate", path, r->id, r->info.rate_hz,
                            f->recordings[0].info.rate_hz);
    }
    lo->rate = v->rate_hz > 0 ? v->rate_hz : f->recordings[0].info.rate_hz;
    if ((rc = kern_window_samples(&lo->W, v->window_ms, lo->rate)) != MB_OK)
        return mb_error(rc, "'%s': window of %g ms at %g Hz", path, v->window_ms, lo->rate);
    /* pose width: the first recording that has a pose stream fixes J */
    for (size_t i = 0; i < f->n_recordings; i++) {
        const struct mbh5_recording *r = &f->recordings[i];
        int s = pose_stream(r);
        if (s < 0)
            continue;
        if (!lo->J)
            lo->J = (size_t)r->streams[s].info.n_channels;
        else if ((size_t)r->streams[s].info.n_channels != lo->J)
            return mb_error(MB_EINVAL, "'%s' recording '%s': pose stream '%s' has %d channels, expected %zu",
                            path, r->id, r->streams[s].info.name, r->streams[s].info.n_channels, lo->J);
    }
    return MB_OK;
}

/* The file's vocabulary, subjects and recording table; the per-recording
 * arrays are allocated (filled by load_recording). */
static int load_tables(struct cp_corpus *c, const struct mbh5_file *f)
{
    c->name = dupstr(f->corpus.name);
    c->n_gestures = f->n_gestures;
    c->gesture_ids = calloc(f->n_gestures + 1, sizeof *c->gesture_ids);
    c->gesture_names = calloc(f->n_gestures + 1, sizeof *c->gesture_names);
    c->gesture_held_out = calloc(f->n_gestures + 1, sizeof *c->gesture_held_out);
    c->n_subjects = f->n_subjects;
    c->subject_names = calloc(f->n_subjects + 1, sizeof *c->subject_names);
    c->subject_held_out = calloc(f->n_subjects + 1, sizeof *c->subject_held_out);
    c->n_recordings = f->n_recordings;
    c->rec_tags_json = calloc(f->n_recordings, sizeof *c->rec_tags_json);
    c->rec_ids = calloc(f->n_recordings, sizeof *c->rec_ids);
    c->rec_subject = calloc(f->n_recordings, sizeof *c->rec_subject);
    c->rec_session = calloc(f->n_recordings, sizeof *c->rec_session);
    if (!c->name || !c->gesture_ids || !c->gesture_names || !c->gesture_held_out || !c->subject_names ||
        !c->subject_held_out || !c->rec_tags_json || !c->rec_ids || !c->rec_subject || !c->rec_session)
        return mb_error(MB_ENOMEM, "'%s': out of memory for the tables", c->path);
    for (size_t g = 0; g < f->n_gestures; g++) {
        c->gesture_ids[g] = f->gestures[g].id;
        c->gesture_held_out[g] = f->gestures[g].held_out;
        if (!(c->gesture_names[g] = dupstr(f->gestures[g].name)))
            return mb_error(MB_ENOMEM, "'%s': out of memory", c->path);
    }
    for (size_t s = 0; s < f->n_subjects; s++) {
        c->subject_held_out[s] = f->subjects[s].held_out;
        if (!(c->subject_names[s] = dupstr(f->subjects[s].name)))
            return mb_error(MB_ENOMEM, "'%s': out of memory", c->path);
    }
    c->has_reps = 1;
    for (size_t i = 0; i < f->n_recordings; i++)
        if (!f->recordings[i].info.has_repetition)
            c->has_reps = 0;
    return MB_OK;
}

/* State of a load across recordings. */
struct loader {
    struct kern_window_spec spec;
    struct resamplers rsv;
    int32_t seg_base;          /* id of the next recording's first segment */
    size_t cap;                /* room of the per-window arrays, in windows */
    int32_t *occ;              /* [(n_subjects * 3 + side) * G + g] occurrences (assign_trials) */
    uint8_t *rec_has_rep;      /* [n_recordings] */
    int lazy;                  /* samples are read when pinned (cp_corpus_open) */
};

/* Window metadata for the windows w of recording ri, appended to the corpus:
 * no samples are copied (cp_window finds them in c->emg). */
static void add_windows(struct cp_corpus *c, size_t ri, int32_t subject, const struct kern_windows *w,
                        const struct reclab *b, const struct recsegs *sg, const struct recpose *p)
{
    for (size_t k = 0; k < w->n; k++) {
        size_t i = c->n++;
        c->label[i] = w->label[k];
        c->rep[i] = w->rep[k];
        c->subject[i] = subject;
        c->rec[i] = (int32_t)ri;
        c->session[i] = c->rec_session[ri];
        c->start[i] = (int64_t)w->start[k];
        c->reach[i] = (int32_t)b->reach;
        c->seg[i] = sg->of[w->start[k] + c->W - 1];
        int32_t sk = c->seg[i] - sg->base;
        c->block[i] = time_block(sg->first[sk], sg->first[sk + 1] - sg->first[sk], w->start[k], c->W);
        if (c->J)
            window_pose(c, i, w->start[k], p);
    }
}

/* Recording ri: its identity, its EMG into c->emg, its windows, segments,
 * trials and pose. */
static int load_recording(struct cp_corpus *c, struct loader *ld, struct mbh5_file *f, size_t ri)
{
    const struct mbh5_recording *r = &f->recordings[ri];
    int rc;
    c->rec_ids[ri] = dupstr(r->id);
    c->rec_tags_json[ri] = tags_json(r);
    c->rec_subject[ri] = r->subject;
    if (!c->rec_ids[ri] || !c->rec_tags_json[ri])
        return mb_error(MB_ENOMEM, "'%s': out of memory", c->path);
    if ((rc = session_index(c, f->subjects[r->subject].name, r->info.session ? r->info.session : "",
                            &c->rec_session[ri])) != MB_OK)
        return rc;
    const struct kern_resampler *rs;
    if ((rc = resampler_of(&rs, &ld->rsv, f, ri)) != MB_OK ||
        (!ld->lazy && (rc = read_emg(c->emg + c->rec_off[ri] * c->C, c, f, ri, rs)) != MB_OK))
        return rc;
    struct reclab b;
    if ((rc = read_labels(&b, f, ri, rs)) != MB_OK)
        return rc;
    struct kern_windows w = { 0 };
    struct recsegs sg = { 0 };
    struct recpose p = { .s = -1 };
    if ((rc = kern_windows_make(&w, &ld->spec, c->view.rate_hz, b.lab, b.rep, b.T)) != MB_OK)
        rc = mb_error(rc, "'%s' recording '%s': cannot cut windows", c->path, r->id);
    if (!rc)
        rc = find_segments(&sg, &b, ld->seg_base, c->path, r->id);
    if (!rc)
        rc = read_pose(&p, f, ri, c->J);
    if (!rc)
        rc = reserve(c, &ld->cap, c->n + w.n);
    if (!rc) {
        size_t w0 = c->n;
        add_windows(c, ri, r->subject, &w, &b, &sg, &p);
        ld->seg_base = sg.base + (int32_t)sg.n;
        ld->rec_has_rep[ri] = r->info.has_repetition ? 1 : 0;
        assign_trials(c, w0, c->n, r->info.has_repetition, side_index(r->info.side), ld->occ);
    }
    recpose_free(&p);
    recsegs_free(&sg);
    kern_windows_free(&w);
    reclab_free(&b);
    return rc;
}

static int load(struct cp_corpus *c, struct mbh5_file *f, const struct cp_view *v, int lazy)
{
    struct layout lo;
    int rc = check_layout(&lo, f, c->path, v);
    if (rc)
        return rc;
    c->C = lo.C;
    c->W = lo.W;
    c->J = lo.J;
    c->view = *v;
    c->view.rate_hz = lo.rate;
    /* pose frames per window: one per 20 ms (50 Hz: joint angles are smooth, and a
     * 100 ms patch keeps 5 frames), at most one per EMG sample */
    if (c->J) {
        size_t wp = (size_t)floor(v->window_ms / 20.0 + 0.5);
        c->Wp = wp < 1 ? 1 : wp > c->W ? c->W : wp;
    }
    struct loader ld = {
        .spec = { .win_ms = v->window_ms, .stride_ms = v->stride_ms,
                  .label = v->majority_label ? KERN_LABEL_MAJORITY : KERN_LABEL_END },
        .rsv = { .rate_out = lo.rate },
        .occ = calloc((f->n_subjects + 1) * 3 * (f->n_gestures + 1), sizeof(int32_t)),
        .rec_has_rep = calloc(f->n_recordings + 1, 1),
        .lazy = lazy,
    };
    if (!ld.occ || !ld.rec_has_rep)
        rc = mb_error(MB_ENOMEM, "'%s': out of memory for the tables", c->path);
    if (!rc)
        rc = load_tables(c, f);
    if (!rc)
        rc = alloc_emg(c, f, &ld.rsv, lazy);
    for (size_t ri = 0; ri < f->n_recordings && !rc; ri++)
        rc = load_recording(c, &ld, f, ri);
    if (!rc && c->n)
        finish_trials(c, ld.occ, ld.rec_has_rep);
    if (!rc && c->n && c->n < ld.cap)
        rc = resize_windows(c, c->n);   /* the corpus keeps no spare room: it lives as long as the plan */
    if (!rc && !c->n)
        rc = mb_error(MB_EINVAL, "'%s': no labelled window of %g ms at %g Hz", c->path, v->window_ms, lo.rate);
    free(ld.occ);
    free(ld.rec_has_rep);
    resamplers_release(&ld.rsv);
    return rc;
}

static struct cp_view view_defaults(const struct cp_view *v)
{
    struct cp_view vv = v ? *v : (struct cp_view){ 0, 200, 50, 0 };
    if (vv.window_ms <= 0)
        vv.window_ms = 200;
    if (vv.stride_ms <= 0)
        vv.stride_ms = 50;
    return vv;
}

int cp_corpus_check(const char *path, const struct cp_view *v)
{
    struct cp_view vv = view_defaults(v);
    struct mbh5_file *f;
    int rc = mbh5_open(&f, path);
    if (rc)
        return rc;
    struct layout lo;
    rc = check_layout(&lo, f, path, &vv);
    /* labels only, a block at a time: a fraction of the EMG's bytes */
    enum { BLOCK = 65536 };
    int32_t *lab = rc ? NULL : malloc(BLOCK * sizeof *lab);
    if (!rc && !lab)
        rc = mb_error(MB_ENOMEM, "'%s': out of memory checking the labels", path);
    for (size_t ri = 0; ri < f->n_recordings && !rc; ri++)
        for (size_t t0 = 0; t0 < f->recordings[ri].n_samples && !rc; t0 += BLOCK) {
            size_t k = f->recordings[ri].n_samples - t0 < BLOCK ? f->recordings[ri].n_samples - t0 : BLOCK;
            rc = mbh5_read_labels(f, ri, t0, k, lab, NULL);
            if (!rc)
                rc = check_labels(f, ri, lab, t0, k);
        }
    free(lab);
    mbh5_close(f);
    return rc;
}

/* ---- lazy corpora: recordings read when pinned ------------------------------------ */

/* The file stays open; a recording is read (and resampled) when first
 * pinned, kept while pinned, and kept afterwards while the unpinned ones
 * fit the budget, the least recently pinned going first. One lock: HDF5
 * serialises its calls anyway (a thread-safe build), and a read is
 * followed by the reader's own work on the samples. */
struct cp_lazy {
    pthread_mutex_t mu;
    struct mbh5_file *f;
    struct resamplers rsv;
    size_t budget, unpinned;     /* bytes allowed and held of resident, unpinned recordings */
    uint32_t *pins;              /* [n_recordings] */
    uint64_t *used, tick;        /* [n_recordings] tick of the last pin */
    struct cp_lazy_stats st;
};

static size_t rec_bytes(const struct cp_corpus *c, size_t r)
{
    return (c->rec_off[r + 1] - c->rec_off[r]) * c->C * sizeof(float);
}

static void lazy_evict(struct cp_corpus *c, struct cp_lazy *z)
{
    while (z->unpinned > z->budget) {
        size_t lru = SIZE_MAX;
        for (size_t r = 0; r < c->n_recordings; r++)
            if (c->rec_emg[r] && !z->pins[r] && (lru == SIZE_MAX || z->used[r] < z->used[lru]))
                lru = r;
        if (lru == SIZE_MAX)
            return;
        free(c->rec_emg[lru]);
        c->rec_emg[lru] = NULL;
        z->unpinned -= rec_bytes(c, lru);
        z->st.dropped++;
    }
}

int cp_pin(const struct cp_corpus *cc, size_t r)
{
    struct cp_corpus *c = (struct cp_corpus *)cc;   /* the lazy state is the corpus's cache, not its contents */
    struct cp_lazy *z = c->lazy;
    if (!z)
        return MB_OK;
    int rc = MB_OK;
    pthread_mutex_lock(&z->mu);
    if (c->rec_emg[r]) {
        if (!z->pins[r])
            z->unpinned -= rec_bytes(c, r);
    } else {
        size_t b = rec_bytes(c, r);
        float *x = malloc(b ? b : 1);
        const struct kern_resampler *rs = NULL;
        if (!x)
            rc = mb_error(MB_ENOMEM, "'%s' recording '%s': out of memory for %zu bytes of samples", c->path,
                          c->rec_ids[r], b);
        if (!rc)
            rc = resampler_of(&rs, &z->rsv, z->f, r);
        if (!rc)
            rc = read_emg(x, c, z->f, r, rs);
        if (rc)
            free(x);
        else {
            c->rec_emg[r] = x;
            z->st.reads++;
            z->st.bytes_read += b;
        }
    }
    if (!rc) {
        z->pins[r]++;
        z->used[r] = ++z->tick;
    }
    pthread_mutex_unlock(&z->mu);
    return rc;
}

void cp_unpin(const struct cp_corpus *cc, size_t r)
{
    struct cp_corpus *c = (struct cp_corpus *)cc;
    struct cp_lazy *z = c->lazy;
    if (!z)
        return;
    pthread_mutex_lock(&z->mu);
    if (z->pins[r] && !--z->pins[r]) {
        z->unpinned += rec_bytes(c, r);
        lazy_evict(c, z);
    }
    pthread_mutex_unlock(&z->mu);
}

/* Each recording of the set once, in order of first appearance. */
static int set_recordings(size_t **out, size_t *n, const struct cp_set *s)
{
    const struct cp_corpus *c = s->c;
    uint8_t *seen = calloc(c->n_recordings + 1, 1);
    size_t *r = malloc((c->n_recordings + 1) * sizeof *r);
    *out = NULL;
    *n = 0;
    if (!seen || !r) {
        free(seen);
        free(r);
        return mb_error(MB_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < s->n; k++) {
        size_t x = (size_t)c->rec[s->idx[k]];
        if (!seen[x]) {
            seen[x] = 1;
            r[(*n)++] = x;
        }
    }
    free(seen);
    *out = r;
    return MB_OK;
}

int cp_set_pin(const struct cp_set *s)
{
    if (!s->c->lazy)
        return MB_OK;
    size_t *r, n;
    int rc = set_recordings(&r, &n, s);
    size_t k = 0;
    for (; k < n && !rc; k++)
        rc = cp_pin(s->c, r[k]);
    if (rc)   /* nothing stays pinned */
        for (size_t j = 0; j + 1 < k; j++)
            cp_unpin(s->c, r[j]);
    free(r);
    return rc;
}

void cp_set_unpin(const struct cp_set *s)
{
    if (!s->c->lazy)
        return;
    size_t *r, n;
    if (set_recordings(&r, &n, s))
        return;   /* out of memory: the recordings stay pinned, which costs memory, not numbers */
    for (size_t k = 0; k < n; k++)
        cp_unpin(s->c, r[k]);
    free(r);
}

int cp_cursor_at(struct cp_cursor *k, const float **x, size_t i)
{
    const struct cp_corpus *c = k->c;
    if (c->lazy) {
        int32_t r = c->rec[i];
        if (r != k->rec) {
            int rc = cp_pin(c, (size_t)r);
            if (rc)
                return rc;
            if (k->rec >= 0)
                cp_unpin(c, (size_t)k->rec);
            k->rec = r;
        }
    }
    *x = cp_window(c, i);
    return MB_OK;
}

void cp_cursor_end(struct cp_cursor *k)
{
    if (k->c->lazy && k->rec >= 0)
        cp_unpin(k->c, (size_t)k->rec);
    k->rec = -1;
}

void cp_lazy_stats(struct cp_lazy_stats *st, const struct cp_corpus *c)
{
    memset(st, 0, sizeof *st);
    if (!c->lazy)
        return;
    pthread_mutex_lock(&c->lazy->mu);
    *st = c->lazy->st;
    pthread_mutex_unlock(&c->lazy->mu);
}

static void lazy_free(struct cp_corpus *c)
{
    struct cp_lazy *z = c->lazy;
    if (!z)
        return;
    for (size_t r = 0; c->rec_emg && r < c->n_recordings; r++)
        free(c->rec_emg[r]);
    free(c->rec_emg);
    if (z->f)
        mbh5_close(z->f);
    resamplers_release(&z->rsv);
    free(z->pins);
    free(z->used);
    pthread_mutex_destroy(&z->mu);
    free(z);
    c->lazy = NULL;
    c->rec_emg = NULL;
}

int cp_corpus_open(struct cp_corpus *c, const char *path, const struct cp_view *v, size_t budget)
{
    memset(c, 0, sizeof *c);
    struct cp_view vv = view_defaults(v);
    if (!(c->path = strdup(path)))
        return mb_error(MB_ENOMEM, "out of memory");
    int rc = mb_fs_sha256(c->sha256, NULL, path);
    if (rc)
        goto out;
    struct mbh5_file *f;
    if ((rc = mbh5_open(&f, path)) != MB_OK)
        goto out;
    int lazy = budget != CP_EAGER;
    rc = load(c, f, &vv, lazy);
    if (!lazy || rc) {
        mbh5_close(f);
        goto out;
    }
    struct cp_lazy *z = calloc(1, sizeof *z);
    if (z) {
        pthread_mutex_init(&z->mu, NULL);
        z->f = f;
        c->lazy = z;
    } else
        mbh5_close(f);
    if (!z || !(z->pins = calloc(c->n_recordings + 1, sizeof *z->pins)) ||
        !(z->used = calloc(c->n_recordings + 1, sizeof *z->used)) ||
        !(c->rec_emg = calloc(c->n_recordings + 1, sizeof *c->rec_emg)))
        rc = mb_error(MB_ENOMEM, "'%s': out of memory for the recording cache", path);
    else {
        z->budget = budget;
        z->rsv.rate_out = c->view.rate_hz;
    }
out:
    if (rc)
        cp_corpus_release(c);
    return rc;
}

int cp_corpus_load(struct cp_corpus *c, const char *path, const struct cp_view *v)
{
    return cp_corpus_open(c, path, v, CP_EAGER);
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void cp_corpus_release(struct cp_corpus *c)
{
    if (!c)
        return;
    lazy_free(c);
    free(c->path); free(c->name); free(c->emg); free(c->rec_off); free(c->label); free(c->rep); free(c->subject);
    free(c->rec); free(c->session); free(c->start); free(c->pose); free(c->pose_seq); free(c->pose_valid);
    free(c->seg); free(c->trial); free(c->reach); free(c->block);
    free_strv(c->subject_names, c->n_subjects);
    free_strv(c->session_names, c->n_sessions);
    free(c->gesture_ids);
    free_strv(c->gesture_names, c->n_gestures);
    free(c->gesture_held_out);
    free(c->subject_held_out);
    for (size_t i = 0; c->rec_tags_json && i < c->n_recordings; i++)
        free(c->rec_tags_json[i]);   /* jansson allocates with malloc by default */
    free(c->rec_tags_json);
    free_strv(c->rec_ids, c->n_recordings);
    free(c->rec_subject);
    free(c->rec_session);
    memset(c, 0, sizeof *c);
}
