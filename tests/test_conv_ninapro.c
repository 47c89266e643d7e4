/* tests/test_conv_ninapro.c - the NinaPro MAT reader (converters/ninapro_mat.c)
 * and the NinaPro converter: real DB1 and DB5 files, a synthetic DB1/DB2/DB5
 * round trip, thread-count independence, and every error path. */
#include <criterion/criterion.h>
#include <math.h>
#include <matio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "converters/conv_ninapro.h"
#include "converters/converter.h"
#include "converters/ninapro_mat.h"
#include "core/fs.h"
#include "format/mbh5.h"
#include "synth/synth.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static int run_convert(const char *src, const char *out, const struct mb_convert_opts *extra,
                       struct mb_convert_result *res)
{
    struct mb_convert_opts o = { .threads = 1 };
    if (extra)
        o = *extra;
    o.src = src;
    o.out = out;
    if (!o.threads)
        o.threads = 1;
    const struct mb_converter *c = mb_converter_find("ninapro");
    cr_assert_not_null(c, "ninapro converter not registered");
    struct mb_convert_result r = {0};
    int rc = c->convert(&o, res ? res : &r);
    return rc;
}

static void mkdirs(const char *d)
{
    cr_assert_eq(mb_fs_mkdirs(d), MB_OK);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

static void copy_prefix(const char *dst, const char *src, long bytes)
{
    size_t n;
    char *b = slurp(src, &n);
    if (bytes >= 0 && (size_t)bytes < n)
        n = (size_t)bytes;
    FILE *f = fopen(dst, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);
}

/* A MAT variable for the test writer: rows x cols doubles, column-major. */
struct tvar {
    const char *name;
    size_t rows, cols;
    const double *x;
};

static void write_mat(const char *path, enum mat_ft ver, const struct tvar *v, size_t n)
{
    mat_t *m = Mat_CreateVer(path, NULL, ver);
    cr_assert_not_null(m, "cannot create '%s'", path);
    for (size_t i = 0; i < n; i++) {
        size_t dims[2] = { v[i].rows, v[i].cols };
        matvar_t *mv = Mat_VarCreate(v[i].name, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, (void *)v[i].x,
                                     MAT_F_DONT_COPY_DATA);
        cr_assert_not_null(mv);
        cr_assert_eq(Mat_VarWrite(m, mv, ver == MAT_FT_MAT73 ? MAT_COMPRESSION_NONE : MAT_COMPRESSION_ZLIB), 0);
        Mat_VarFree(mv);
    }
    Mat_Close(m);
}

/* A small DB1-like file: n rows, C channels, labels 0/1..k blocks, reps. */
struct small {
    size_t n;
    int C;
    double *emg, *lab, *rep, *glove;
};

static void small_make(struct small *s, size_t n, int C, int max_label)
{
    s->n = n;
    s->C = C;
    s->emg = malloc(n * (size_t)C * sizeof *s->emg);
    s->lab = malloc(n * sizeof *s->lab);
    s->rep = malloc(n * sizeof *s->rep);
    s->glove = malloc(n * 3 * sizeof *s->glove);
    for (size_t i = 0; i < n * (size_t)C; i++)
        s->emg[i] = 0.001 * (double)(i % 997);
    for (size_t i = 0; i < n; i++) {
        size_t blk = i / 10;
        s->lab[i] = blk % 2 ? (double)(1 + (blk / 2) % (size_t)max_label) : 0;
        s->rep[i] = blk % 2 ? (double)(1 + (blk / 2) / (size_t)max_label) : 0;
    }
    for (size_t i = 0; i < n * 3; i++)
        s->glove[i] = (double)(i % 255);
}

static void small_free(struct small *s)
{
    free(s->emg);
    free(s->lab);
    free(s->rep);
    free(s->glove);
}

static void small_write(const char *path, const struct small *s, enum mat_ft ver)
{
    const double one = 1;
    struct tvar v[] = {
        { "emg", s->n, (size_t)s->C, s->emg },
        { "restimulus", s->n, 1, s->lab },
        { "rerepetition", s->n, 1, s->rep },
        { "stimulus", s->n, 1, s->lab },
        { "repetition", s->n, 1, s->rep },
        { "glove", s->n, 3, s->glove },
        { "subject", 1, 1, &one },
        { "exercise", 1, 1, &one },
    };
    write_mat(path, ver, v, sizeof v / sizeof *v);
}

/* Index of the recording whose source is 'rel', -1 if none. */
static long rec_by_source(const struct mbh5_file *f, const char *rel)
{
    for (size_t i = 0; i < f->n_recordings; i++)
        if (!strcmp(f->recordings[i].info.source, rel))
            return (long)i;
    return -1;
}

static int stream_index(const struct mbh5_recording *r, const char *name)
{
    for (size_t k = 0; k < r->n_streams; k++)
        if (!strcmp(r->streams[k].info.name, name))
            return (int)k;
    return -1;
}

static int has_note(const struct mbh5_file *f, const char *needle)
{
    for (size_t i = 0; i < f->n_notes; i++)
        if (strstr(f->notes[i], needle))
            return 1;
    return 0;
}

/* ---- names and table ---------------------------------------------------- */

Test(conv_ninapro, file_name_patterns_of_db1_to_db8)
{
    struct conv_np_name nm;
    cr_assert(conv_np_parse_name(&nm, "s1/S1_A1_E1.mat"));
    cr_assert(nm.style == CONV_NP_NAME_S_A_E && nm.subject == 1 && nm.exercise == 1 && nm.acquisition == 1);
    cr_assert(conv_np_parse_name(&nm, "DB2_s12/S12_E3_A1.mat"));
    cr_assert(nm.db_hint == 2 && nm.subject == 12 && nm.exercise == 3 && nm.style == CONV_NP_NAME_S_E_A);
    cr_assert(conv_np_parse_name(&nm, "DB8_s3/S3_E1_A3.mat"));
    cr_assert(nm.db_hint == 8 && nm.acquisition == 3);
    cr_assert(conv_np_parse_name(&nm, "S7_D4_T2.mat"));
    cr_assert(nm.style == CONV_NP_NAME_S_D_T && nm.day == 4 && nm.time == 2 && nm.exercise == -1);
    cr_assert(conv_np_parse_name(&nm, "x/s5/s5_e2_a1.MAT"), "case-insensitive");
    cr_assert_not(conv_np_parse_name(&nm, "s1/S1_A1_E1.txt"));
    cr_assert_not(conv_np_parse_name(&nm, "s1/S1_A1_X1.mat"));
    cr_assert_not(conv_np_parse_name(&nm, "s1/S1_A1_E.mat"));
    cr_assert_not(conv_np_parse_name(&nm, "README.mat"));
}

Test(conv_ninapro, database_table_offsets)
{
    const struct conv_np_db *d1 = conv_np_db(1), *d2 = conv_np_db(2), *d5 = conv_np_db(5);
    cr_assert(d1 && d2 && d5 && !conv_np_db(0) && !conv_np_db(9));
    cr_assert_eq(conv_np_ex_offset(d1, 1), 0);
    cr_assert_eq(conv_np_ex_offset(d1, 2), 12);
    cr_assert_eq(conv_np_ex_offset(d1, 3), 29);
    cr_assert_eq(conv_np_n_movements(d1), 52);
    cr_assert_eq(conv_np_ex_offset(d2, 3), 40);
    cr_assert_eq(conv_np_n_movements(d2), 49);
    cr_assert_eq(d1->rate_hz, 100.0);
    cr_assert_eq(d5->rate_hz, 200.0);
    cr_assert_str_eq(d1->train_reps, "1,3,4,6,8,9,10");
    cr_assert_str_eq(d1->test_reps, "2,5,7");
    cr_assert(strstr(d1->hw_filters, "RMS"), "DB1 records its hardware RMS rectification");
}

/* ---- real files ----------------------------------------------------------- */

Test(conv_ninapro, real_db1_s1_has_the_known_facts, .timeout = 120)
{
    TU_NEED_REAL("ninapro_db1/s1/S1_A1_E1.mat");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/db1.h5", dir);
    struct mb_convert_result res = {0};
    cr_assert_eq(run_convert(tu_real("ninapro_db1"), out, NULL, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_files, 4);
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK, "%s", mb_last_error());
    cr_assert_str_eq(f->corpus.name, "ninapro-db1");
    cr_assert_eq(f->n_recordings, 4);
    cr_assert_eq(f->n_gestures, 53, "rest + 52 movements of E1-E3");
    cr_assert_eq(f->n_devices, 1);
    cr_assert_eq(f->devices[0].rate_hz, 100.0);
    cr_assert(strstr(f->devices[0].hw_filters, "RMS"));
    long r0 = rec_by_source(f, "s1/S1_A1_E1.mat");
    cr_assert_eq(r0, 0, "subject 1 first");
    const struct mbh5_recording *r = &f->recordings[r0];
    cr_assert_eq(r->n_samples, 101014);
    cr_assert_eq(r->info.n_channels, 10);
    cr_assert_eq(r->info.rate_hz, 100.0);
    cr_assert_str_eq(f->subjects[r->subject].name, "1");
    cr_assert_str_eq(mbh5_tag(r, "train_reps"), "1,3,4,6,8,9,10");
    cr_assert_str_eq(mbh5_tag(r, "test_reps"), "2,5,7");
    cr_assert_str_eq(mbh5_tag(r, "exercise"), "1");
    cr_assert_str_eq(mbh5_tag(r, "labels"), "restimulus");
    int32_t *lab = malloc(r->n_samples * sizeof *lab), *rep = malloc(r->n_samples * sizeof *rep);
    cr_assert_eq(mbh5_read_labels(f, 0, 0, r->n_samples, lab, rep), MB_OK);
    int seen_l[64] = {0}, seen_r[64] = {0};
    for (size_t i = 0; i < r->n_samples; i++) {
        cr_assert(lab[i] >= 0 && lab[i] <= 12, "row %zu label %d", i, lab[i]);
        cr_assert(rep[i] >= 0 && rep[i] <= 10, "row %zu rep %d", i, rep[i]);
        seen_l[lab[i]] = 1;
        seen_r[rep[i]] = 1;
    }
    for (int g = 0; g <= 12; g++)
        cr_assert(seen_l[g], "gesture %d present", g);
    for (int k = 1; k <= 10; k++)
        cr_assert(seen_r[k], "repetition %d present", k);
    /* formats.md §3.1: channel 1 starts 0.0684, 0.0586, 0.0562; channel 2 0.0024. */
    float e[2 * 10];
    cr_assert_eq(mbh5_read_emg(f, 0, 0, 2, e), MB_OK);
    cr_assert_eq(e[0], (float)0.0684);
    cr_assert_eq(e[10], (float)0.0586);
    cr_assert_eq(e[1], (float)0.0024);
    int g = stream_index(r, "glove");
    cr_assert(g >= 0);
    cr_assert_eq(r->streams[g].info.n_channels, 22);
    cr_assert_str_eq(r->streams[g].info.kind, "pose");
    cr_assert_eq(r->streams[g].info.f64, 1);
    cr_assert_eq(r->streams[g].n_samples, 101014);
    /* The raw protocol vectors are kept too. */
    cr_assert(stream_index(r, "stimulus") >= 0 && stream_index(r, "repetition") >= 0);
    free(lab);
    free(rep);
    mbh5_close(f);
}

Test(conv_ninapro, real_db5_has_16_channels_at_200_hz_and_the_exercise_quirk, .timeout = 120)
{
    TU_NEED_REAL("ninapro_db5/s1/S1_E1_A1.mat");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/db5.h5", dir);
    struct mb_convert_result res = {0};
    cr_assert_eq(run_convert(tu_real("ninapro_db5"), out, NULL, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert_str_eq(f->corpus.name, "ninapro-db5");
    cr_assert_eq(f->n_recordings, 2);
    for (size_t i = 0; i < f->n_recordings; i++) {
        const struct mbh5_recording *r = &f->recordings[i];
        cr_assert_eq(r->info.n_channels, 16);
        cr_assert_eq(r->info.rate_hz, 200.0);
        cr_assert_str_eq(mbh5_tag(r, "exercise"), "1", "the file name wins over exercise = 3");
        cr_assert_str_eq(mbh5_tag(r, "sensor"), "Double Myo");
        cr_assert_str_eq(mbh5_tag(r, "train_reps"), "1,3,4,6");
        cr_assert(stream_index(r, "acc") >= 0 && stream_index(r, "glove") >= 0);
    }
    cr_assert_eq(f->recordings[0].n_samples, 130267);
    cr_assert_eq(f->recordings[1].n_samples, 151664);
    cr_assert_not_null(f->devices[0].channels);
    cr_assert(strstr(f->devices[0].channels[0].placement, "proximal"));
    cr_assert(strstr(f->devices[0].channels[8].placement, "distal"));
    /* Said once for the first file, then counted at the end. */
    size_t said = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        said += strstr(f->notes[i], "'exercise' variable says 3") != NULL;
    cr_assert_eq(said, 1);
    cr_assert(has_note(f, "2 files have an 'exercise' variable"));
    mbh5_close(f);
}

Test(conv_ninapro, auto_picks_ninapro_and_validate_passes, .timeout = 120)
{
    TU_NEED_REAL("ninapro_db1/s1/S1_A1_E1.mat");
    const struct mb_converter *c = mb_converter_detect(tu_real("ninapro_db1"));
    cr_assert_not_null(c);
    cr_assert_str_eq(c->name, "ninapro");
    cr_assert_null(mb_converter_detect(tu_real("kaufmann_multiday")));
    char dir[64], args[8192], *err = NULL;
    tu_tmpdir(dir, sizeof dir);
    snprintf(args, sizeof args, "convert auto %s -o %s/a.h5 --limit-subjects 2 --no-progress",
             tu_real("ninapro_db1"), dir);
    cr_assert_eq(tu_run(NULL, &err, args), 0, "%s", err);
    cr_assert(strstr(err, "'ninapro' converter"), "%s", err);
    cr_assert(strstr(err, "2 files, 2 recordings"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "validate %s/a.h5", dir);
    cr_assert_eq(tu_run(NULL, NULL, args), 0);
}

Test(conv_ninapro, stimulus_option_reads_the_raw_vectors, .timeout = 120)
{
    TU_NEED_REAL("ninapro_db1/s1/S1_A1_E1.mat");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/st.h5", dir);
    struct conv_ninapro_opts no = { .labels = "stimulus" };
    struct mb_convert_opts o = { .threads = 1, .limit_subjects = 1, .conv_opts = &no };
    cr_assert_eq(run_convert(tu_real("ninapro_db1"), out, &o, NULL), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    const struct mbh5_recording *r = &f->recordings[0];
    cr_assert_str_eq(mbh5_tag(r, "labels"), "stimulus");
    cr_assert_str_eq(mbh5_tag(r, "repetitions"), "repetition");
    int k = stream_index(r, "restimulus");
    cr_assert(k >= 0, "the unused refined vector is kept as a stream");
    /* labels == the stimulus vector; the restimulus stream differs somewhere. */
    int32_t *lab = malloc(r->n_samples * sizeof *lab);
    double *re = malloc(r->n_samples * sizeof *re);
    cr_assert_eq(mbh5_read_labels(f, 0, 0, r->n_samples, lab, NULL), MB_OK);
    cr_assert_eq(mbh5_read_stream_f64(f, 0, k, 0, r->n_samples, re, NULL), MB_OK);
    size_t differ = 0;
    for (size_t i = 0; i < r->n_samples; i++)
        differ += lab[i] != (int32_t)re[i];
    cr_assert(differ > 0);
    free(lab);
    free(re);
    mbh5_close(f);
}

/* ---- synthetic round trip --------------------------------------------------- */

static void round_trip(enum synth_device dev, const char *folder)
{
    struct synth_params p;
    cr_assert_eq(synth_params_preset(&p, "tiny", 7), MB_OK);
    p.devices = 1u << dev;
    p.n_subjects = 2;
    p.db2_subjects = 1;
    p.db1_exercises = 2;
    p.db5_exercises = 2;
    p.db2_exercises = 3;
    char dir[64], src[128], out[160];
    tu_tmpdir(dir, sizeof dir);
    cr_assert_eq(synth_write(dir, &p, NULL), MB_OK, "%s", mb_last_error());
    snprintf(src, sizeof src, "%s/%s", dir, folder);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    cr_assert_eq(run_convert(src, out, NULL, NULL), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    struct synth_file *files;
    size_t nf;
    cr_assert_eq(synth_list(&files, &nf, &p), MB_OK);
    size_t checked = 0;
    for (size_t i = 0; i < nf; i++) {
        if (files[i].dev != dev)
            continue;
        struct synth_recording s;
        cr_assert_eq(synth_render(&s, &p, &files[i]), MB_OK);
        const char *rel = strchr(files[i].relpath, '/') + 1;
        long ri = rec_by_source(f, rel);
        cr_assert(ri >= 0, "no recording for '%s'", rel);
        const struct mbh5_recording *r = &f->recordings[ri];
        cr_assert_eq(r->n_samples, s.n, "%s", rel);
        cr_assert_eq(r->info.n_channels, s.n_channels);
        cr_assert_eq(r->info.rate_hz, s.rate_hz);
        size_t n = s.n, C = (size_t)s.n_channels;
        float *emg = malloc(n * C * sizeof *emg);
        int32_t *lab = malloc(n * sizeof *lab), *rep = malloc(n * sizeof *rep);
        cr_assert_eq(mbh5_read_emg(f, (size_t)ri, 0, n, emg), MB_OK);
        cr_assert_eq(mbh5_read_labels(f, (size_t)ri, 0, n, lab, rep), MB_OK);
        for (size_t k = 0; k < n * C; k++)
            cr_assert_eq(emg[k], (float)s.emg[k], "%s emg[%zu]", rel, k);
        for (size_t k = 0; k < n; k++) {
            int32_t want = s.label[k] ? s.label[k] + s.label_offset : 0;
            cr_assert_eq(lab[k], want, "%s label row %zu", rel, k);
            cr_assert_eq(rep[k], s.rep[k], "%s rep row %zu", rel, k);
        }
        int g = stream_index(r, "glove");
        cr_assert(g >= 0);
        double *gl = malloc(n * (size_t)s.n_glove * sizeof *gl);
        cr_assert_eq(r->streams[g].info.n_channels, s.n_glove);
        cr_assert_eq(mbh5_read_stream_f64(f, (size_t)ri, g, 0, n, gl, NULL), MB_OK);
        for (size_t k = 0; k < n * (size_t)s.n_glove; k++) {
            /* DB5 stores single: the file holds (float)glove. */
            double want = dev == SYNTH_DB5 ? (double)(float)s.glove[k] : s.glove[k];
            cr_assert_eq(gl[k], want, "%s glove[%zu]", rel, k);
        }
        if (s.acc) {
            int a = stream_index(r, "acc");
            cr_assert(a >= 0);
            double *ac = malloc(n * (size_t)s.n_acc * sizeof *ac);
            cr_assert_eq(mbh5_read_stream_f64(f, (size_t)ri, a, 0, n, ac, NULL), MB_OK);
            for (size_t k = 0; k < n * (size_t)s.n_acc; k++)
                cr_assert_eq(ac[k], dev == SYNTH_DB5 ? (double)(float)s.acc[k] : s.acc[k]);
            free(ac);
        }
        free(gl);
        free(emg);
        free(lab);
        free(rep);
        synth_recording_free(&s);
        checked++;
    }
    cr_assert(checked >= 2);
    cr_assert_eq(f->n_recordings, checked);
    free(files);
    mbh5_close(f);
}

Test(conv_ninapro, synthetic_db1_round_trips_exactly, .timeout = 240)
{
    round_trip(SYNTH_DB1, "ninapro_db1");
}

Test(conv_ninapro, synthetic_db2_round_trips_exactly, .timeout = 240)
{
    round_trip(SYNTH_DB2, "ninapro_db2");
}

Test(conv_ninapro, synthetic_db5_round_trips_exactly, .timeout = 240)
{
    round_trip(SYNTH_DB5, "ninapro_db5");
}

Test(conv_ninapro, output_bytes_do_not_depend_on_thread_count, .timeout = 240)
{
    struct synth_params p;
    cr_assert_eq(synth_params_preset(&p, "tiny", 3), MB_OK);
    p.devices = 1u << SYNTH_DB1;
    p.db1_exercises = 2;
    char dir[64], src[128], o1[160], o2[160];
    tu_tmpdir(dir, sizeof dir);
    cr_assert_eq(synth_write(dir, &p, NULL), MB_OK);
    snprintf(src, sizeof src, "%s/ninapro_db1", dir);
    snprintf(o1, sizeof o1, "%s/j1.h5", dir);
    snprintf(o2, sizeof o2, "%s/j2.h5", dir);
    struct mb_convert_opts o = { .threads = 1 };
    cr_assert_eq(run_convert(src, o1, &o, NULL), MB_OK);
    o.threads = 2;
    cr_assert_eq(run_convert(src, o2, &o, NULL), MB_OK);
    size_t n1, n2;
    char *b1 = slurp(o1, &n1), *b2 = slurp(o2, &n2);
    cr_assert_eq(n1, n2);
    cr_assert(memcmp(b1, b2, n1) == 0, "-j1 and -j2 outputs differ");
    free(b1);
    free(b2);
}

/* ---- quirks and errors ---------------------------------------------------- */

Test(conv_ninapro, v73_file_reads_like_v5, .timeout = 60)
{
    char dir[64], d5[128], d73[128], p[192];
    tu_tmpdir(dir, sizeof dir);
    struct small s;
    small_make(&s, 500, 10, 12);
    snprintf(d5, sizeof d5, "%s/v5/s1", dir);
    snprintf(d73, sizeof d73, "%s/v73/s1", dir);
    mkdirs(d5);
    mkdirs(d73);
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", d5);
    small_write(p, &s, MAT_FT_MAT5);
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", d73);
    small_write(p, &s, MAT_FT_MAT73);
    const struct conv_np_load_opts lo = { .db = conv_np_db(1), .exercise = 1 };
    struct conv_np_file a, b;
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", d5);
    cr_assert_eq(conv_np_load(&a, p, "v5", &lo), MB_OK, "%s", mb_last_error());
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", d73);
    cr_assert_eq(conv_np_load(&b, p, "v73", &lo), MB_OK, "%s", mb_last_error());
    cr_assert(b.v73 && !a.v73);
    cr_assert_eq(a.n, 500);
    cr_assert_eq(b.n, 500);
    cr_assert(!memcmp(a.labels, b.labels, 500 * sizeof *a.labels));
    cr_assert(!memcmp(a.reps, b.reps, 500 * sizeof *a.reps));
    float ea[500 * 10], eb[500 * 10];
    conv_np_emg_rows(&a, 0, 500, ea);
    conv_np_emg_rows(&b, 0, 500, eb);
    cr_assert(!memcmp(ea, eb, sizeof ea));
    cr_assert_eq(ea[1], (float)s.emg[500], "column-major emg becomes row-major");
    conv_np_release(&a);
    conv_np_release(&b);
    /* And the whole conversion of the v7.3 folder, with two threads. */
    char out[160];
    snprintf(out, sizeof out, "%s/v73.h5", dir);
    snprintf(p, sizeof p, "%s/v73", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .threads = 2, .conv_opts = &db1 };
    cr_assert_eq(run_convert(p, out, &o, NULL), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    small_free(&s);
}

Test(conv_ninapro, length_mismatch_truncates_and_warns_with_both_lengths, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/src/s1", dir);
    mkdirs(sub);
    struct small s;
    small_make(&s, 400, 10, 12);
    const double one = 1;
    struct tvar v[] = {
        { "emg", 400, 10, s.emg },
        { "restimulus", 390, 1, s.lab },
        { "rerepetition", 390, 1, s.rep },
        { "glove", 400, 3, s.glove },
        { "exercise", 1, 1, &one },
    };
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    write_mat(p, MAT_FT_MAT5, v, sizeof v / sizeof *v);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    snprintf(p, sizeof p, "%s/src", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    struct mb_convert_result res = {0};
    cr_assert_eq(run_convert(p, out, &o, &res), MB_OK, "%s", mb_last_error());
    cr_assert(res.n_warnings >= 1);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert_eq(f->recordings[0].n_samples, 390);
    cr_assert(has_note(f, "'s1/S1_A1_E1.mat': 'emg' has 400 rows, 'restimulus' 390"));
    cr_assert(has_note(f, "glove"), "the longer glove is truncated too, and said");
    cr_assert_eq(f->recordings[0].streams[stream_index(&f->recordings[0], "glove")].n_samples, 390);
    mbh5_close(f);
    small_free(&s);
}

/* Was: 'restimulus' with 1,000 of 101,014 rows cut the whole recording to
 * 1,000 samples, exit 0 and a warning. Losing more than 0.1 % (at least 10
 * samples) is now an error unless --allow-truncation; the label vectors and
 * an auxiliary stream follow the same rule. */
Test(conv_ninapro, a_vector_much_shorter_or_longer_than_emg_is_an_error_unless_allowed, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192], src[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/src/s1", dir);
    mkdirs(sub);
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct small s;
    small_make(&s, 5000, 10, 12);
    const double one = 1;
    struct tvar short_labels[] = {
        { "emg", 5000, 10, s.emg },
        { "restimulus", 1000, 1, s.lab },
        { "rerepetition", 5000, 1, s.rep },
        { "exercise", 1, 1, &one },
    };
    write_mat(p, MAT_FT_MAT5, short_labels, 4);
    mb_log_set_level(MB_LOG_QUIET);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    cr_assert_eq(run_convert(src, out, &o, NULL), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'s1/S1_A1_E1.mat': 'emg' has 5000 rows, 'restimulus' 1000 and "
                     "'rerepetition' 5000: cutting to the shortest (1000) would drop 4000 samples (80.0 % of the "
                     "recording); use --allow-truncation"), "%s", mb_last_error());
    cr_assert_neq(access(out, F_OK), 0, "no output");
    /* The command line: exit 1 without the flag, 0 and a note with it. */
    char args[512], *err;
    snprintf(args, sizeof args, "convert ninapro %s -o %s --db 1 --no-progress", src, out);
    cr_assert_eq(tu_run(NULL, &err, args), 1, "%s", err);
    cr_assert(strstr(err, "--allow-truncation"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "convert ninapro %s -o %s --db 1 --no-progress --allow-truncation", src, out);
    cr_assert_eq(tu_run(NULL, &err, args), 0, "%s", err);
    free(err);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert_eq(f->recordings[0].n_samples, 1000);
    cr_assert(has_note(f, "'restimulus' 1000 and 'rerepetition' 5000; truncated to the shortest, 1000 "
                          "(--allow-truncation)"));
    cr_assert(strstr(f->corpus.params_json, "\"allow_truncation\":true"), "%s", f->corpus.params_json);
    mbh5_close(f);
    remove(out);
    /* A glove five times longer than emg and labels: the same rule. */
    struct tvar long_glove[] = {
        { "emg", 1000, 10, s.emg },
        { "restimulus", 1000, 1, s.lab },
        { "rerepetition", 1000, 1, s.rep },
        { "glove", 5000, 3, s.glove },
        { "exercise", 1, 1, &one },
    };
    write_mat(p, MAT_FT_MAT5, long_glove, 5);
    cr_assert_eq(run_convert(src, out, &o, NULL), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'glove' has 5000 rows but the recording 1000: cutting it would drop 4000 "
                     "rows (80.0 %)"), "%s", mb_last_error());
    db1.allow_truncation = 1;
    cr_assert_eq(run_convert(src, out, &o, NULL), MB_OK, "%s", mb_last_error());
    /* Ten samples of 5,000 is within the tolerance: a warning only. */
    struct tvar few[] = {
        { "emg", 5000, 10, s.emg },
        { "restimulus", 4990, 1, s.lab },
        { "rerepetition", 4990, 1, s.rep },
        { "exercise", 1, 1, &one },
    };
    write_mat(p, MAT_FT_MAT5, few, 4);
    remove(out);
    db1.allow_truncation = 0;
    struct mb_convert_result res = {0};
    cr_assert_eq(run_convert(src, out, &o, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_warnings, 1);
    small_free(&s);
}

Test(conv_ninapro, missing_emg_is_an_error_naming_file_and_variable, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdirs(sub);
    struct small s;
    small_make(&s, 100, 10, 12);
    struct tvar v[] = { { "restimulus", 100, 1, s.lab }, { "emgx", 100, 10, s.emg } };
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    write_mat(p, MAT_FT_MAT5, v, 2);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    cr_assert_eq(run_convert(dir, out, &o, NULL), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "'s1/S1_A1_E1.mat': no variable 'emg'"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "'emgx'"), "lists what the file has: %s", mb_last_error());
    cr_assert_neq(access(out, F_OK), 0, "no output on failure");
    small_free(&s);
}

Test(conv_ninapro, missing_labels_is_an_error, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdirs(sub);
    struct small s;
    small_make(&s, 100, 10, 12);
    struct tvar v[] = { { "emg", 100, 10, s.emg } };
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    write_mat(p, MAT_FT_MAT5, v, 1);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    cr_assert_eq(run_convert(dir, out, &o, NULL), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "no variable 'restimulus' or 'stimulus'"), "%s", mb_last_error());
    small_free(&s);
}

Test(conv_ninapro, truncated_real_file_is_an_error_naming_it_or_skipped, .timeout = 120)
{
    TU_NEED_REAL("ninapro_db1/s1/S1_A1_E1.mat");
    char dir[64], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    for (int s = 1; s <= 2; s++) {
        char sub[128], src[128];
        snprintf(sub, sizeof sub, "%s/s%d", dir, s);
        mkdirs(sub);
        snprintf(p, sizeof p, "%s/S%d_A1_E1.mat", sub, s);
        snprintf(src, sizeof src, "ninapro_db1/s%d/S%d_A1_E1.mat", s, s);
        copy_prefix(p, tu_real(src), s == 2 ? 1000000 : -1);
    }
    snprintf(out, sizeof out, "%s/o.h5", dir);
    cr_assert_eq(run_convert(dir, out, NULL, NULL), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "'s2/S2_A1_E1.mat': truncated MAT file"), "%s", mb_last_error());
    cr_assert_neq(access(out, F_OK), 0);
    struct mb_convert_opts o = { .keep_going = 1 };
    struct mb_convert_result res = {0};
    cr_assert_eq(run_convert(dir, out, &o, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_skipped, 1);
    cr_assert_eq(res.n_files, 1);
    cr_assert_eq(mbh5_validate(out, stderr), 0);
}

Test(conv_ninapro, not_a_mat_file_is_an_error_naming_it, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdirs(sub);
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    FILE *fp = fopen(p, "w");
    for (int i = 0; i < 40; i++)
        fputs("this is not a MAT file at all\n", fp);
    fclose(fp);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    cr_assert_eq(run_convert(dir, out, &o, NULL), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "'s1/S1_A1_E1.mat' is not a MAT"), "%s", mb_last_error());
}

Test(conv_ninapro, nonfinite_samples_fail_unless_allowed, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdirs(sub);
    struct small s;
    small_make(&s, 200, 10, 12);
    s.emg[3 * 200 + 17] = NAN;      /* channel 4, row 18 */
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    small_write(p, &s, MAT_FT_MAT5);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    cr_assert_eq(run_convert(dir, out, &o, NULL), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "'s1/S1_A1_E1.mat' sample 18: non-finite 'emg' value in channel 4"), "%s",
              mb_last_error());
    o.allow_nonfinite = 1;
    cr_assert_eq(run_convert(dir, out, &o, NULL), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert(has_note(f, "1 non-finite 'emg' values"));
    /* the note and 'validate' name the same place as the error did (both
     * counted from 1; validate counted from 0 before) */
    cr_assert(has_note(f, "first at sample 18, channel 4"));
    mbh5_close(f);
    char *rep = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&rep, &len);
    cr_assert_eq(mbh5_validate(out, mf), 1);
    fclose(mf);
    cr_assert(strstr(rep, "/emg: 1 NaN/Inf values, first at sample 18 channel 4"), "%s", rep);
    free(rep);
    small_free(&s);
}

Test(conv_ninapro, labels_outside_the_exercise_are_an_error, .timeout = 60)
{
    char dir[64], sub[128], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdirs(sub);
    struct small s;
    small_make(&s, 300, 10, 13);   /* 13 > the 12 movements of DB1 E1 */
    snprintf(p, sizeof p, "%s/S1_A1_E1.mat", sub);
    small_write(p, &s, MAT_FT_MAT5);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct conv_ninapro_opts db1 = { .db = 1 };
    struct mb_convert_opts o = { .conv_opts = &db1 };
    cr_assert_eq(run_convert(dir, out, &o, NULL), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "restimulus value 13 is outside exercise 1's movements 1..12"), "%s",
              mb_last_error());
    small_free(&s);
}

Test(conv_ninapro, db1_local_labels_get_the_exercise_offset, .timeout = 60)
{
    char dir[64], sub[128], p[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/s1", dir);
    mkdirs(sub);
    struct small s;
    small_make(&s, 400, 10, 23);
    snprintf(p, sizeof p, "%s/S1_A1_E3.mat", sub);
    small_write(p, &s, MAT_FT_MAT5);
    const struct conv_np_load_opts lo = { .db = conv_np_db(1), .exercise = 3 };
    struct conv_np_file f;
    cr_assert_eq(conv_np_load(&f, p, "x", &lo), MB_OK, "%s", mb_last_error());
    for (size_t i = 0; i < f.n; i++)
        cr_assert_eq(f.labels[i], s.lab[i] ? (int32_t)s.lab[i] + 29 : 0);
    conv_np_release(&f);
    small_free(&s);
}

Test(conv_ninapro, old_db2_exercise3_coding_is_remapped_and_stimulus_used, .timeout = 60)
{
    char dir[64], sub[128], p[192];
    tu_tmpdir(dir, sizeof dir);
    snprintf(sub, sizeof sub, "%s/DB2_s1", dir);
    mkdirs(sub);
    static const int codes[9] = { 1, 2, 4, 6, 8, 9, 16, 32, 40 };
    const size_t n = 180;
    double *emg = calloc(n * 12, sizeof *emg), *st = calloc(n, sizeof *st), *rp = calloc(n, sizeof *rp);
    for (size_t i = 0; i < n; i++) {
        size_t blk = i / 10;
        st[i] = blk % 2 ? codes[blk / 2] : 0;
        rp[i] = blk % 2 ? 1 : 0;
    }
    struct tvar v[] = { { "emg", n, 12, emg }, { "stimulus", n, 1, st }, { "repetition", n, 1, rp } };
    snprintf(p, sizeof p, "%s/S1_E3_A1.mat", sub);
    write_mat(p, MAT_FT_MAT5, v, 3);
    const struct conv_np_load_opts lo = { .db = conv_np_db(2), .exercise = 3 };
    struct conv_np_file f;
    cr_assert_eq(conv_np_load(&f, p, "S1_E3_A1.mat", &lo), MB_OK, "%s", mb_last_error());
    cr_assert_str_eq(f.label_var, "stimulus");
    for (size_t i = 0; i < n; i++) {
        size_t blk = i / 10;
        cr_assert_eq(f.labels[i], blk % 2 ? (int32_t)(41 + blk / 2) : 0, "row %zu", i);
    }
    int said_fallback = 0, said_remap = 0;
    for (size_t k = 0; k < f.n_warn; k++) {
        said_fallback |= strstr(f.warn[k], "no 'restimulus'; labels taken from 'stimulus'") != NULL;
        said_remap |= strstr(f.warn[k], "old exercise-3 coding") != NULL;
    }
    cr_assert(said_fallback && said_remap);
    conv_np_release(&f);
    /* The converter finds DB2 from the folder name alone. */
    char out[192];
    snprintf(out, sizeof out, "%s/o.h5", dir);
    cr_assert_eq(run_convert(dir, out, NULL, NULL), MB_OK, "%s", mb_last_error());
    struct mbh5_file *h;
    cr_assert_eq(mbh5_open(&h, out), MB_OK);
    cr_assert_str_eq(h->corpus.name, "ninapro-db2");
    cr_assert_eq(h->n_gestures, 50);
    mbh5_close(h);
    cr_assert_eq(mbh5_validate(out, stderr), 0);
    free(emg);
    free(st);
    free(rp);
}

Test(conv_ninapro, a_folder_without_ninapro_names_is_an_error, .timeout = 60)
{
    char dir[64], p[192], out[192];
    tu_tmpdir(dir, sizeof dir);
    struct small s;
    small_make(&s, 50, 10, 12);
    snprintf(p, sizeof p, "%s/recording.mat", dir);
    small_write(p, &s, MAT_FT_MAT5);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    cr_assert_eq(run_convert(dir, out, NULL, NULL), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "no .mat file is named like a NinaPro file"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "recording.mat"), "%s", mb_last_error());
    small_free(&s);
}

/* Inputs found by tests/fuzz/fuzz_ninapro_mat.c: corrupt array headers that
 * made libmatio request 4-8 GB or spin for minutes. The container check
 * now refuses them at once, naming the file. */
Test(conv_ninapro, fuzz_regressions_fail_fast_with_a_message, .timeout = 30)
{
    static const char *const files[] = {
        "tests/fuzz/regress_ninapro/compressed_huge_dims.mat",
        "tests/fuzz/regress_ninapro/plain_huge_dims.mat",
        "tests/fuzz/regress_ninapro/compressed_slow.mat",
        "tests/fuzz/regress_ninapro/junk_elements_timeout.mat",
        "tests/fuzz/regress_ninapro/plain_huge_name.mat",
        "tests/fuzz/regress_ninapro/compressed_bad_stream_dims.mat",
        "tests/fuzz/regress_ninapro/compressed_bad_stream.mat",
        "tests/fuzz/regress_ninapro/compressed_odd_subelements.mat",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        for (int db = 1; db <= 8; db++) {
            const struct conv_np_load_opts lo = { .db = conv_np_db(db), .exercise = 1 };
            struct conv_np_file f;
            int rc = conv_np_load(&f, files[i], files[i], &lo);
            if (rc == MB_OK) {
                cr_assert(f.n > 0);
                conv_np_release(&f);
            } else {
                cr_assert(strstr(mb_last_error(), files[i]), "%s", mb_last_error());
            }
        }
        struct conv_np_peek pk;
        cr_assert_neq(conv_np_peek(&pk, files[i], 1), MB_OK, "%s is corrupt", files[i]);
    }
    /* The truncated-dims files are refused by the container check itself. */
    const struct conv_np_load_opts lo = { .db = conv_np_db(1), .exercise = 1 };
    struct conv_np_file f;
    cr_assert_eq(conv_np_load(&f, files[1], "plain", &lo), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "'plain': corrupt MAT file"), "%s", mb_last_error());
}

/* --compression none changes how the samples are stored, never what they
 * are: same recordings, same EMG, a larger file; a bad value is a usage error. */
Test(conv_ninapro, compression_none_keeps_every_sample, .timeout = 120)
{
    TU_NEED_REAL("ninapro_db1/s1/S1_A1_E1.mat");
    char dir[64], args[8192], a[128], b[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/deflate.h5", dir);
    snprintf(b, sizeof b, "%s/none.h5", dir);
    snprintf(args, sizeof args, "convert ninapro %s -o %s --limit-subjects 1 --no-progress",
             tu_real("ninapro_db1"), a);
    cr_assert_eq(tu_run(NULL, NULL, args), 0);
    snprintf(args, sizeof args, "convert ninapro %s -o %s --limit-subjects 1 --no-progress --compression none",
             tu_real("ninapro_db1"), b);
    cr_assert_eq(tu_run(NULL, NULL, args), 0);
    struct stat sa, sb;
    cr_assert_eq(stat(a, &sa), 0);
    cr_assert_eq(stat(b, &sb), 0);
    cr_assert_gt(sb.st_size, sa.st_size, "uncompressed %lld <= compressed %lld", (long long)sb.st_size,
                 (long long)sa.st_size);
    struct mbh5_file *fa, *fb;
    cr_assert_eq(mbh5_open(&fa, a), MB_OK, "%s", mb_last_error());
    cr_assert_eq(mbh5_open(&fb, b), MB_OK, "%s", mb_last_error());
    cr_assert_eq(fa->n_recordings, fb->n_recordings);
    for (size_t r = 0; r < fa->n_recordings; r++) {
        size_t T = fa->recordings[r].n_samples, C = fa->recordings[r].info.n_channels;
        cr_assert_eq(T, fb->recordings[r].n_samples);
        float *xa = malloc(T * C * sizeof *xa), *xb = malloc(T * C * sizeof *xb);
        cr_assert_eq(mbh5_read_emg(fa, r, 0, T, xa), MB_OK);
        cr_assert_eq(mbh5_read_emg(fb, r, 0, T, xb), MB_OK);
        cr_assert_eq(memcmp(xa, xb, T * C * sizeof *xa), 0, "recording %zu differs", r);
        free(xa);
        free(xb);
    }
    mbh5_close(fa);
    mbh5_close(fb);
    snprintf(args, sizeof args, "convert ninapro %s -o %s/c.h5 --compression lz4", tu_real("ninapro_db1"), dir);
    cr_assert_eq(tu_run(NULL, NULL, args), 2);
}
