/* tests/test_conv_emg2pose.c - the emg2pose session-file reader
 * (converters/emg2pose_h5.c) and the emg2pose converter. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "converters/conv_emg2pose.h"
#include "converters/emg2pose_h5.h"
#include "core/version.h"
#include "format/mbh5.h"
#include "synth/synth.h"
#include "core/fs.h"
#include "tests/testutil.h"

#define ASSET "emg2pose_format/test_data.hdf5"
#define ASSET_STEM "2022-12-06-1670313600-e3096-cv-emg-pose-train@2-recording-9_left"

/* ---- helpers ------------------------------------------------------------ */

/* The whole content of an emg2pose file, read with the reader. */
struct e2p_data {
    size_t T;
    int C;
    double *time;    /* [T] */
    double *joints;  /* [T x 20] */
    float *emg;      /* [T x C] */
};

static void e2p_load_all(struct e2p_data *d, const char *path)
{
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, path), MB_OK, "%s", mb_last_error());
    d->T = f->n_rows;
    d->C = f->n_emg;
    d->time = malloc(d->T * sizeof *d->time);
    d->joints = malloc(d->T * CONV_E2P_JOINTS * sizeof *d->joints);
    d->emg = malloc(d->T * (size_t)d->C * sizeof *d->emg);
    cr_assert_eq(conv_e2p_read(f, 0, d->T, d->time, d->joints, d->emg), MB_OK, "%s", mb_last_error());
    conv_e2p_close(f);
}

static void e2p_data_free(struct e2p_data *d)
{
    free(d->time);
    free(d->joints);
    free(d->emg);
}

static struct conv_e2p_attrs no_attrs(void)
{
    return (struct conv_e2p_attrs){ .start = NAN, .end = NAN, .sample_rate = NAN, .num_channels = -1 };
}

/* Copies the first 'bytes' bytes of src to dst (bytes < 0: all). */
static void copy_prefix(const char *dst, const char *src, long bytes)
{
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    cr_assert(in && out, "cannot copy '%s' to '%s'", src, dst);
    char buf[4096];
    size_t n;
    long left = bytes < 0 ? (long)1 << 40 : bytes;
    while (left > 0 && (n = fread(buf, 1, sizeof buf < (size_t)left ? sizeof buf : (size_t)left, in)) > 0) {
        fwrite(buf, 1, n, out);
        left -= (long)n;
    }
    fclose(in);
    fclose(out);
}

static long file_size(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0, "stat '%s'", p);
    return (long)st.st_size;
}

/* ---- reader: the official asset ------------------------------------------ */

Test(conv_emg2pose, reader_reads_the_official_test_asset, .timeout = 20)
{
    TU_NEED_REAL(ASSET);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, tu_real(ASSET)), MB_OK, "%s", mb_last_error());
    cr_assert_eq(f->n_rows, 100);
    cr_assert_eq(f->n_emg, 16);
    cr_assert_eq(f->joints_f64, 1);
    cr_assert_eq(f->emg_f64, 0);
    cr_assert_str_eq(f->attrs.filename, ASSET_STEM);
    cr_assert_str_eq(f->attrs.side, "right", "the asset's side attribute contradicts its _left stem");
    cr_assert_str_eq(f->attrs.stage, "IndividualFingerPointingSnap_both");
    cr_assert_str_eq(f->attrs.user, "d387095792");
    cr_assert_str_eq(f->attrs.session, "2022-12-06-1670313600-e3096-cv-emg-pose-train@2-recording-9");
    cr_assert_eq(f->attrs.num_channels, 16);
    cr_assert_eq(f->attrs.sample_rate, 2000.0);
    cr_assert_eq(f->attrs.start, 1670313313.1833334);
    cr_assert_eq(f->attrs.end, 1670313374.1);
    double time[100], joints[100 * 20];
    float emg[100 * 16];
    cr_assert_eq(conv_e2p_read(f, 0, 100, time, joints, emg), MB_OK);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(time[i], (double)i, "time is the row number in the asset");
    /* First values as h5dump prints them (6 significant digits). */
    cr_assert_float_eq(joints[0], 0.741417, 1e-6);
    cr_assert_float_eq(joints[19], 0.995957, 1e-6);
    cr_assert_float_eq(emg[0], 0.971696f, 1e-6);
    cr_assert_float_eq(emg[15], 0.830474f, 1e-6);
    cr_assert_float_eq(emg[16], -1.61528f, 1e-5);
    conv_e2p_close(f);
}

Test(conv_emg2pose, reader_blocks_equal_one_whole_read, .timeout = 20)
{
    TU_NEED_REAL(ASSET);
    struct e2p_data all;
    e2p_load_all(&all, tu_real(ASSET));
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, tu_real(ASSET)), MB_OK);
    double t[7], j[7 * 20];
    float e[7 * 16];
    for (size_t s = 0; s < 100; s += 7) {
        size_t n = 100 - s < 7 ? 100 - s : 7;
        cr_assert_eq(conv_e2p_read(f, s, n, t, j, e), MB_OK);
        cr_assert_eq(memcmp(t, all.time + s, n * sizeof *t), 0);
        cr_assert_eq(memcmp(j, all.joints + s * 20, n * 20 * sizeof *j), 0);
        cr_assert_eq(memcmp(e, all.emg + s * 16, n * 16 * sizeof *e), 0);
    }
    cr_assert_eq(conv_e2p_read(f, 0, 0, NULL, NULL, NULL), MB_OK);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(conv_e2p_read(f, 95, 6, t, j, e), MB_EINVAL);
    cr_assert(strstr(mb_last_error(), "test_data.hdf5"), "%s", mb_last_error());
    conv_e2p_close(f);
    e2p_data_free(&all);
}

Test(conv_emg2pose, reader_gives_the_same_values_for_f32_chunked_gzip_storage, .timeout = 20)
{
    TU_NEED_REAL(ASSET);
    struct e2p_data a;
    e2p_load_all(&a, tu_real(ASSET));
    struct conv_e2p_file *orig;
    cr_assert_eq(conv_e2p_open(&orig, tu_real(ASSET)), MB_OK);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/v.hdf5", dir);
    struct conv_e2p_spec s = { .n_rows = a.T, .n_emg = a.C, .time = a.time, .joints = a.joints,
                               .emg = a.emg, .joints_f32 = 1, .chunk_rows = 17, .gzip = 4,
                               .attrs = orig->attrs };
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK, "%s", mb_last_error());
    conv_e2p_close(orig);
    struct e2p_data b;
    e2p_load_all(&b, p);
    cr_assert_eq(b.T, a.T);
    cr_assert_eq(b.C, a.C);
    cr_assert_eq(memcmp(b.time, a.time, a.T * sizeof *a.time), 0);
    cr_assert_eq(memcmp(b.emg, a.emg, a.T * 16 * sizeof *a.emg), 0);
    for (size_t i = 0; i < a.T * 20; i++)
        cr_assert_eq(b.joints[i], (double)(float)a.joints[i], "joint value %zu", i);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_OK);
    cr_assert_eq(f->joints_f64, 0);
    cr_assert_str_eq(f->attrs.side, "right");
    cr_assert_eq(f->attrs.num_channels, 16);
    conv_e2p_close(f);
    e2p_data_free(&a);
    e2p_data_free(&b);
}

Test(conv_emg2pose, reader_tolerates_missing_attributes, .timeout = 20)
{
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/x.hdf5", dir);
    double time[3] = { 0, 1, 2 }, joints[3 * 20] = { 0 };
    float emg[3 * 4] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    struct conv_e2p_spec s = { .n_rows = 3, .n_emg = 4, .time = time, .joints = joints, .emg = emg,
                               .attrs = no_attrs() };
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_OK, "%s", mb_last_error());
    cr_assert_null(f->attrs.side);
    cr_assert_null(f->attrs.user);
    cr_assert(isnan(f->attrs.sample_rate));
    cr_assert_eq(f->attrs.num_channels, -1);
    cr_assert_eq(f->n_emg, 4);
    float e[12];
    cr_assert_eq(conv_e2p_read(f, 0, 3, NULL, NULL, e), MB_OK);
    cr_assert_eq(memcmp(e, emg, sizeof e), 0);
    conv_e2p_close(f);
}

/* ---- reader: error paths ------------------------------------------------ */

Test(conv_emg2pose, reader_reports_a_missing_file, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct conv_e2p_file *f = (void *)1;
    cr_assert_eq(conv_e2p_open(&f, "/nonexistent/s_left.hdf5"), MB_EIO);
    cr_assert_null(f);
    cr_assert(strstr(mb_last_error(), "'/nonexistent/s_left.hdf5'"), "%s", mb_last_error());
}

Test(conv_emg2pose, reader_reports_a_truncated_file, .timeout = 20)
{
    TU_NEED_REAL(ASSET);
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/cut.hdf5", dir);
    long sizes[3] = { file_size(tu_real(ASSET)) / 2, 1000, 0 };
    for (int k = 0; k < 3; k++) {
        copy_prefix(p, tu_real(ASSET), sizes[k]);
        struct conv_e2p_file *f;
        int rc = conv_e2p_open(&f, p);
        cr_assert(rc == MB_EIO || rc == MB_EFORMAT, "truncated to %ld bytes: %d", sizes[k], rc);
        cr_assert(strstr(mb_last_error(), "cut.hdf5"), "%s", mb_last_error());
    }
}

Test(conv_emg2pose, reader_reports_a_text_file_named_hdf5, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/t.hdf5", dir);
    FILE *fp = fopen(p, "w");
    fputs("time,emg\n0,1\n", fp);
    fclose(fp);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_EIO);
    cr_assert(strstr(mb_last_error(), "t.hdf5"), "%s", mb_last_error());
    cr_assert_eq(conv_e2p_is_emg2pose(p), 0);
}

Test(conv_emg2pose, reader_lists_the_members_when_emg_is_missing, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/noemg.hdf5", dir);
    double time[2] = { 0, 1 }, joints[2 * 20] = { 0 };
    float emg[2 * 16] = { 0 };
    struct conv_e2p_spec s = { .n_rows = 2, .n_emg = 16, .time = time, .joints = joints, .emg = emg,
                               .omit_emg = 1, .attrs = no_attrs() };
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK);
    cr_assert_eq(conv_e2p_is_emg2pose(p), 1, "the group is there; only the member is missing");
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_EFORMAT);
    const char *m = mb_last_error();
    cr_assert(strstr(m, "noemg.hdf5"), "%s", m);
    cr_assert(strstr(m, "no member 'emg'"), "%s", m);
    cr_assert(strstr(m, "'time', 'joint_angles'"), "lists what the file has: %s", m);
}

Test(conv_emg2pose, reader_rejects_a_file_without_the_emg2pose_group, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/other.hdf5", dir);
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(fid, "emg2qwerty", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
    H5Fclose(fid);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "other.hdf5"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "'emg2pose'"), "%s", mb_last_error());
    cr_assert_eq(conv_e2p_is_emg2pose(p), 0);
}

Test(conv_emg2pose, reader_rejects_attributes_of_the_wrong_type, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/badattr.hdf5", dir);
    double time[1] = { 0 }, joints[20] = { 0 };
    float emg[16] = { 0 };
    struct conv_e2p_spec s = { .n_rows = 1, .n_emg = 16, .time = time, .joints = joints, .emg = emg,
                               .attrs = no_attrs() };
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK);
    /* A side given as a number, and a rate given as text. */
    hid_t fid = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(fid, "emg2pose", H5P_DEFAULT);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(g, "side", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int one = 1;
    H5Awrite(a, H5T_NATIVE_INT, &one);
    H5Aclose(a);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(fid);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "badattr.hdf5"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "'emg2pose/side' is not a string"), "%s", mb_last_error());
}

Test(conv_emg2pose, reader_rejects_joint_angles_of_another_length, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    char dir[64], p[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/j19.hdf5", dir);
    hsize_t d19 = 19, d16 = 16, n = 1;
    hid_t aj = H5Tarray_create2(H5T_IEEE_F64LE, 1, &d19), ae = H5Tarray_create2(H5T_IEEE_F32LE, 1, &d16);
    hid_t t = H5Tcreate(H5T_COMPOUND, 8 + 19 * 8 + 64);
    H5Tinsert(t, "time", 0, H5T_IEEE_F64LE);
    H5Tinsert(t, "joint_angles", 8, aj);
    H5Tinsert(t, "emg", 8 + 19 * 8, ae);
    hid_t fid = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(fid, "emg2pose", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t sp = H5Screate_simple(1, &n, NULL);
    hid_t d = H5Dcreate2(g, "timeseries", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Sclose(sp);
    H5Gclose(g);
    H5Fclose(fid);
    H5Tclose(t);
    H5Tclose(aj);
    H5Tclose(ae);
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'joint_angles'"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "19 values per row, expected 20"), "%s", mb_last_error());
}

/* Fuzzing regressions, inputs in tests/fuzz/regress_emg2pose/ (mutations
 * of our own seeds). unfiltered_short_chunk.hdf5: the gzip filter of a
 * chunked dataset was corrupted away, so each stored chunk is shorter than
 * an unfiltered chunk; libhdf5 then copies a whole chunk out of the short
 * buffer (heap overflow inside H5Dread). The reader must refuse it at open. */
Test(conv_emg2pose, reader_rejects_an_unfiltered_chunk_shorter_than_the_chunk, .timeout = 20)
{
    mb_log_set_level(MB_LOG_QUIET);
    const char *p = "tests/fuzz/regress_emg2pose/unfiltered_short_chunk.hdf5";
    cr_assert_eq(access(p, R_OK), 0, "run the tests from the repository root");
    struct conv_e2p_file *f;
    cr_assert_eq(conv_e2p_open(&f, p), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "unfiltered_short_chunk.hdf5"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "unfiltered chunk at sample 1 "), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "holds 951 bytes, expected 1216"), "%s", mb_last_error());
}

/* Issue 12's fuzzing run (tests/fuzz/README.md), inputs in
 * tests/fuzz/regress_emg2pose/:
 * - huge_rows_small_chunks.hdf5: 2.8e14 rows in unfiltered 16-row chunks; the
 *   chunk-size check walked every chunk (each lookup itself a walk of the
 *   chunk index), hanging the open;
 * - chunk_at_address_0.hdf5: an unfiltered chunk whose address is 0, the
 *   superblock: H5Dread overflowed a heap buffer (H5VM_memcpyvv);
 * - compact_with_deflate.hdf5: compact storage (which cannot be filtered)
 *   with a deflate filter and no stored bytes: H5Dread crashed (SEGV).
 * Each is refused at open, quickly, naming the file. */
Test(conv_emg2pose, reader_rejects_storage_that_cannot_hold_the_rows, .timeout = 20)
{
    static const struct {
        const char *file, *want;
    } cases[] = {
        { "tests/fuzz/regress_emg2pose/huge_rows_small_chunks.hdf5",
          "has 281466386776104 rows of 232 bytes unfiltered, more than the file's 15669 bytes" },
        { "tests/fuzz/regress_emg2pose/chunk_at_address_0.hdf5",
          "the unfiltered chunk at row 16 of 'emg2pose/timeseries' lies at byte 0, outside the file's data" },
        { "tests/fuzz/regress_emg2pose/compact_with_deflate.hdf5",
          "'emg2pose/timeseries' has a filter but compact storage (filters need chunks)" },
    };
    mb_log_set_level(MB_LOG_QUIET);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_assert_eq(access(cases[i].file, R_OK), 0, "run the tests from the repository root");
        struct conv_e2p_file *f;
        cr_assert_eq(conv_e2p_open(&f, cases[i].file), MB_EFORMAT, "%s opened", cases[i].file);
        cr_assert(strstr(mb_last_error(), cases[i].file), "%s", mb_last_error());
        cr_assert(strstr(mb_last_error(), cases[i].want), "'%s' not in '%s'", cases[i].want, mb_last_error());
    }
}

Test(conv_emg2pose, writer_output_is_byte_reproducible, .timeout = 20)
{
    char dir[64], p1[160], p2[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(p1, sizeof p1, "%s/a.hdf5", dir);
    snprintf(p2, sizeof p2, "%s/b.hdf5", dir);
    double time[4] = { 0, 1, 2, 3 }, joints[4 * 20] = { 0 };
    float emg[4 * 16] = { 0 };
    struct conv_e2p_spec s = { .n_rows = 4, .n_emg = 16, .time = time, .joints = joints, .emg = emg,
                               .chunk_rows = 2, .gzip = 1, .attrs = no_attrs() };
    s.attrs.user = "u";
    s.attrs.sample_rate = 2000;
    cr_assert_eq(conv_e2p_write(p1, &s), MB_OK);
    sleep(1);
    cr_assert_eq(conv_e2p_write(p2, &s), MB_OK);
    char h1[65], h2[65];
    cr_assert_eq(mb_fs_sha256(h1, NULL, p1), MB_OK);
    cr_assert_eq(mb_fs_sha256(h2, NULL, p2), MB_OK);
    cr_assert_str_eq(h1, h2);
}

/* ---- the converter ------------------------------------------------------ */

#define CSV_HEADER "user,session,stage,side,moving_hand,held_out_user,held_out_stage,split,generalization,filename,start,end\n"
#define ASSET_SESSION "2022-12-06-1670313600-e3096-cv-emg-pose-train@2"

static void write_text(const char *dir, const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

/* SRC with the official asset under its own file name and one metadata row. */
static void asset_src(char *src, size_t cap, const char *asset_path)
{
    tu_tmpdir(src, cap);
    char link[512];
    snprintf(link, sizeof link, "%s/%s.hdf5", src, ASSET_STEM);
    cr_assert_eq(symlink(asset_path, link), 0, "symlink %s", link);
    write_text(src, "metadata.csv", CSV_HEADER
               "d387095792," ASSET_SESSION ",IndividualFingerPointingSnap,left,both,False,False,train,,"
               ASSET_STEM ",1670313313.1833334,1670313374.1\n");
}

static struct mb_convert_opts opts_for(const char *src, const char *out)
{
    return (struct mb_convert_opts){ .src = src, .out = out, .threads = 1 };
}

static int has_note(const struct mbh5_file *f, const char *a, const char *b)
{
    for (size_t i = 0; i < f->n_notes; i++)
        if (strstr(f->notes[i], a) && (!b || strstr(f->notes[i], b)))
            return 1;
    return 0;
}

static void dump_notes(const struct mbh5_file *f)
{
    for (size_t i = 0; i < f->n_notes; i++)
        fprintf(stderr, "note: %s\n", f->notes[i]);
}

static int gesture_named(const struct mbh5_file *f, const char *name)
{
    for (size_t g = 0; g < f->n_gestures; g++)
        if (!strcmp(f->gestures[g].name, name))
            return f->gestures[g].id;
    return -100;
}

/* mbh5_validate must find nothing wrong in any output. */
static void assert_valid(const char *out)
{
    cr_assert_eq(mbh5_validate(out, stderr), 0, "'%s' does not validate", out);
}

static void sha_of(char hex[65], const char *p)
{
    cr_assert_eq(mb_fs_sha256(hex, NULL, p), MB_OK, "hash %s", p);
}

Test(conv_emg2pose, converts_the_official_test_asset, .timeout = 30)
{
    TU_NEED_REAL(ASSET);
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160];
    asset_src(src, sizeof src, tu_real(ASSET));
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/e2p.h5", dir);
    struct mb_convert_opts o = opts_for(src, out);
    struct mb_convert_result res = {0};
    cr_assert_eq(conv_emg2pose.convert(&o, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_files, 1);
    cr_assert_eq(res.n_recordings, 1);
    cr_assert_eq(res.n_skipped, 0);
    assert_valid(out);

    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK, "%s", mb_last_error());
    cr_assert_str_eq(f->corpus.converter, "emg2pose");
    cr_assert_str_eq(f->corpus.converter_version, MB_VERSION);
    cr_assert_eq(f->n_devices, 1);
    cr_assert_eq(f->devices[0].n_channels, 16);
    cr_assert_eq(f->devices[0].rate_hz, 2000.0);
    cr_assert(strstr(f->devices[0].sw_filters, "high-pass"));
    cr_assert_eq(f->n_subjects, 1);
    cr_assert_str_eq(f->subjects[0].name, "d387095792");
    cr_assert_eq(f->subjects[0].held_out, 0);
    cr_assert_eq(f->n_gestures, 1);
    cr_assert_str_eq(f->gestures[0].source_label, "IndividualFingerPointingSnap");
    cr_assert_eq(f->gestures[0].held_out, 0);

    /* Sources: metadata.csv and the session file, with their SHA-256. */
    cr_assert_eq(f->n_sources, 2);
    char want[65];
    sha_of(want, tu_real(ASSET));
    int found = 0;
    for (size_t i = 0; i < f->n_sources; i++)
        if (!strcmp(f->sources[i].path, ASSET_STEM ".hdf5")) {
            found = 1;
            cr_assert_str_eq(f->sources[i].sha256, want);
            cr_assert_eq(f->sources[i].bytes, (uint64_t)file_size(tu_real(ASSET)));
        }
    cr_assert(found);

    cr_assert_eq(f->n_recordings, 1);
    const struct mbh5_recording *r = &f->recordings[0];
    cr_assert_eq(r->n_samples, 100);
    cr_assert_eq(r->info.n_channels, 16);
    cr_assert_eq(r->info.rate_hz, 2000.0);
    cr_assert_str_eq(r->info.side, "left", "the file name and metadata.csv win over the attribute");
    cr_assert_str_eq(r->info.subject, "d387095792");
    cr_assert_str_eq(r->info.session, ASSET_SESSION);
    cr_assert_eq(r->info.start_time, 1670313313.1833334);
    cr_assert_eq(r->info.has_time, 1);
    cr_assert_str_eq(mbh5_tag(r, "split"), "train");
    cr_assert_str_eq(mbh5_tag(r, "held_out_user"), "false");
    cr_assert_str_eq(mbh5_tag(r, "held_out_stage"), "false");
    cr_assert_str_eq(mbh5_tag(r, "moving_hand"), "both");
    cr_assert_str_eq(mbh5_tag(r, "stage"), "IndividualFingerPointingSnap");
    cr_assert_str_eq(mbh5_tag(r, "recording"), "9");
    cr_assert_str_eq(mbh5_tag(r, "pair"), ASSET_SESSION "-recording-9");
    cr_assert_str_eq(mbh5_tag(r, "partner"), "2022-12-06-1670313600-e3096-cv-emg-pose-train@2-recording-9_right");
    cr_assert_null(mbh5_tag(r, "generalization"), "an empty cell is no tag");

    /* Samples: EMG, time, labels and pose equal the source exactly. */
    struct e2p_data d;
    e2p_load_all(&d, tu_real(ASSET));
    float emg[100 * 16];
    double time[100], pose[100 * 20];
    int32_t lab[100];
    uint8_t valid[100];
    cr_assert_eq(mbh5_read_emg(f, 0, 0, 100, emg), MB_OK);
    cr_assert_eq(memcmp(emg, d.emg, sizeof emg), 0);
    cr_assert_eq(mbh5_read_time(f, 0, 0, 100, time), MB_OK);
    cr_assert_eq(memcmp(time, d.time, sizeof time), 0);
    cr_assert_eq(mbh5_read_labels(f, 0, 0, 100, lab, NULL), MB_OK);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(lab[i], f->gestures[0].id, "every sample carries the stage");
    cr_assert_eq(r->n_streams, 1);
    cr_assert_str_eq(r->streams[0].info.name, "joint_angles");
    cr_assert_str_eq(r->streams[0].info.kind, "pose");
    cr_assert_str_eq(r->streams[0].info.units, "rad");
    cr_assert_eq(r->streams[0].info.f64, 1, "f8 source angles stay f8");
    cr_assert_str_eq(r->streams[0].info.channel_names[0], "THUMB_CMC_FE");
    cr_assert_str_eq(r->streams[0].info.channel_names[19], "PINKY_DIP_FE");
    cr_assert_eq(mbh5_read_stream_f64(f, 0, 0, 0, 100, pose, valid), MB_OK);
    cr_assert_eq(memcmp(pose, d.joints, sizeof pose), 0);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(valid[i], 1, "the asset has no IK failures");
    cr_assert_eq(r->n_segments, 1);
    cr_assert_eq(r->segments[0].end, 100);

    /* The asset's quirks are notes in the file. */
    if (!has_note(f, "attribute 'side' is 'right'", "kept 'left'"))
        dump_notes(f);
    cr_assert(has_note(f, "attribute 'side' is 'right'", "kept 'left'"));
    cr_assert(has_note(f, "attribute 'stage' is 'IndividualFingerPointingSnap_both'", "kept 'IndividualFingerPointingSnap'"));
    cr_assert(has_note(f, "attribute 'session'", NULL));
    cr_assert(has_note(f, "time advances 1 s per row", NULL));
    cr_assert(has_note(f, "time starts at 0", NULL));
    cr_assert(has_note(f, "the other side", "not in metadata.csv"));
    cr_assert_eq(res.n_warnings, f->n_notes);
    mbh5_close(f);
    e2p_data_free(&d);
}

Test(conv_emg2pose, f32_chunked_gzip_source_gives_the_same_samples, .timeout = 30)
{
    TU_NEED_REAL(ASSET);
    mb_log_set_level(MB_LOG_QUIET);
    struct e2p_data d;
    e2p_load_all(&d, tu_real(ASSET));
    struct conv_e2p_file *orig;
    cr_assert_eq(conv_e2p_open(&orig, tu_real(ASSET)), MB_OK);
    char dir[64], var[160], src[64], out[2][160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(var, sizeof var, "%s/variant.hdf5", dir);
    struct conv_e2p_spec s = { .n_rows = d.T, .n_emg = d.C, .time = d.time, .joints = d.joints,
                               .emg = d.emg, .joints_f32 = 1, .chunk_rows = 32, .gzip = 6,
                               .attrs = orig->attrs };
    cr_assert_eq(conv_e2p_write(var, &s), MB_OK);
    conv_e2p_close(orig);
    const char *inputs[2] = { tu_real(ASSET), var };
    for (int k = 0; k < 2; k++) {
        asset_src(src, sizeof src, inputs[k]);
        snprintf(out[k], sizeof out[k], "%s/out%d.h5", dir, k);
        struct mb_convert_opts o = opts_for(src, out[k]);
        struct mb_convert_result res = {0};
        conv_emg2pose_set_block_rows(k ? 13 : 0);
        cr_assert_eq(conv_emg2pose.convert(&o, &res), MB_OK, "%s", mb_last_error());
        assert_valid(out[k]);
    }
    struct mbh5_file *a, *b;
    cr_assert_eq(mbh5_open(&a, out[0]), MB_OK);
    cr_assert_eq(mbh5_open(&b, out[1]), MB_OK);
    cr_assert_eq(b->recordings[0].n_samples, 100);
    cr_assert_eq(b->recordings[0].streams[0].info.f64, 0, "f4 source angles are stored as f4");
    float ea[1600], eb[1600], pa[2000], pb[2000];
    cr_assert_eq(mbh5_read_emg(a, 0, 0, 100, ea), MB_OK);
    cr_assert_eq(mbh5_read_emg(b, 0, 0, 100, eb), MB_OK);
    cr_assert_eq(memcmp(ea, eb, sizeof ea), 0);
    cr_assert_eq(mbh5_read_stream(a, 0, 0, 0, 100, pa, NULL), MB_OK);
    cr_assert_eq(mbh5_read_stream(b, 0, 0, 0, 100, pb, NULL), MB_OK);
    cr_assert_eq(memcmp(pa, pb, sizeof pa), 0, "same pose values once both are seen as float32");
    double ta[100], tb[100];
    cr_assert_eq(mbh5_read_time(a, 0, 0, 100, ta), MB_OK);
    cr_assert_eq(mbh5_read_time(b, 0, 0, 100, tb), MB_OK);
    cr_assert_eq(memcmp(ta, tb, sizeof ta), 0);
    mbh5_close(a);
    mbh5_close(b);
    e2p_data_free(&d);
}

/* ---- a small generated corpus ------------------------------------------- */

/* Users A (2 recordings, both sides) and B (1 recording, left only; its
 * partner is missing). Stage 'WristFlexionAbduction' is held out. Rows 5
 * and 6 of every file are IK failures (all-zero joint angles). */
#define GEN_T 50
static const char *const gen_stems[5] = {
    "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-1_left",
    "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-1_right",
    "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-2_left",
    "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-2_right",
    "2022-02-02-1643760000-bbbbb-cv-emg-pose-train@2-recording-3_left",
};

static void gen_file(const char *src, int k, const char *user, const char *stage, int f32, size_t chunk)
{
    double time[GEN_T], joints[GEN_T * 20];
    float emg[GEN_T * 16];
    for (int i = 0; i < GEN_T; i++) {
        time[i] = 1640995200.0 + 100.0 * k + i / 2000.0;
        for (int j = 0; j < 20; j++)
            joints[i * 20 + j] = (i == 5 || i == 6) ? 0.0 : 0.01 * (k + 1) * (j + 1) + 0.001 * i;
        for (int c = 0; c < 16; c++)
            emg[i * 16 + c] = (float)(k * 1000 + i * 16 + c) * 0.125f;
    }
    const char *stem = gen_stems[k];
    const char *side = strstr(stem, "_left") ? "left" : "right";
    char session[128];
    snprintf(session, sizeof session, "%.*s", (int)(strstr(stem, "-recording-") - stem), stem);
    struct conv_e2p_spec s = { .n_rows = GEN_T, .n_emg = 16, .time = time, .joints = joints, .emg = emg,
                               .joints_f32 = f32, .chunk_rows = chunk, .gzip = chunk ? 1 : 0,
                               .attrs = { .filename = stem, .session = session, .side = side,
                                          .stage = stage, .user = user, .start = time[0],
                                          .end = time[GEN_T - 1], .sample_rate = 2000,
                                          .num_channels = 16 } };
    char p[512];
    snprintf(p, sizeof p, "%s/%s.hdf5", src, stem);
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK, "%s", mb_last_error());
}

static void gen_corpus(char *src, size_t cap)
{
    tu_tmpdir(src, cap);
    gen_file(src, 0, "userA", "FingerFreeform", 0, 0);
    gen_file(src, 1, "userA", "FingerFreeform", 0, 0);
    gen_file(src, 2, "userA", "WristFlexionAbduction", 1, 16);
    gen_file(src, 3, "userA", "WristFlexionAbduction", 0, 7);
    gen_file(src, 4, "userB", "FingerFreeform", 0, 0);
    /* Rows deliberately not in (user, file) order. */
    write_text(src, "metadata.csv",
        "session,user,stage,start,end,side,filename,moving_hand,held_out_user,held_out_stage,split,generalization\n"
        "2022-02-02-1643760000-bbbbb-cv-emg-pose-train@2,userB,FingerFreeform,,,left,"
        "2022-02-02-1643760000-bbbbb-cv-emg-pose-train@2-recording-3_left,both,True,False,test,user\n"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2,userA,WristFlexionAbduction,,,right,"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-2_right,both,False,True,val,stage\n"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2,userA,FingerFreeform,,,left,"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-1_left,both,False,False,train,\n"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2,userA,FingerFreeform,,,right,"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-1_right,both,False,False,train,\n"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2,userA,WristFlexionAbduction,,,left,"
        "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-2_left,both,False,True,val,stage\n");
}

Test(conv_emg2pose, converts_a_generated_corpus_with_pairs_splits_and_ik_failures, .timeout = 60)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160];
    gen_corpus(src, sizeof src);
    write_text(src, "stray.hdf5", "not listed");
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/gen.h5", dir);
    struct mb_convert_opts o = opts_for(src, out);
    struct mb_convert_result res = {0};
    conv_emg2pose_set_block_rows(7);
    cr_assert_eq(conv_emg2pose.convert(&o, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_recordings, 5);
    assert_valid(out);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert_eq(f->n_gestures, 2);
    int ff = gesture_named(f, "FingerFreeform"), wf = gesture_named(f, "WristFlexionAbduction");
    cr_assert_eq(ff, 0, "stages sorted by name");
    cr_assert_eq(wf, 1);
    cr_assert_eq(f->gestures[mbh5_gesture_index(f, wf)].held_out, 1);
    cr_assert_eq(f->gestures[mbh5_gesture_index(f, ff)].held_out, 0);
    cr_assert_eq(f->n_subjects, 2);
    for (size_t s = 0; s < f->n_subjects; s++)
        cr_assert_eq(f->subjects[s].held_out, !strcmp(f->subjects[s].name, "userB"));

    /* Order: user, then file name - whatever the CSV order. */
    const int order[5] = { 0, 1, 2, 3, 4 };
    for (int i = 0; i < 5; i++) {
        const struct mbh5_recording *r = &f->recordings[i];
        char want[256];
        snprintf(want, sizeof want, "%s.hdf5", gen_stems[order[i]]);
        cr_assert_str_eq(r->info.source, want);
        cr_assert_eq(r->n_samples, GEN_T);
        int32_t lab[GEN_T];
        uint8_t valid[GEN_T];
        float emg[GEN_T * 16];
        double pose[GEN_T * 20];
        cr_assert_eq(mbh5_read_labels(f, (size_t)i, 0, GEN_T, lab, NULL), MB_OK);
        cr_assert_eq(mbh5_read_emg(f, (size_t)i, 0, GEN_T, emg), MB_OK);
        cr_assert_eq(mbh5_read_stream_f64(f, (size_t)i, 0, 0, GEN_T, pose, valid), MB_OK);
        int32_t g = i < 2 || i == 4 ? ff : wf;
        for (int t = 0; t < GEN_T; t++) {
            cr_assert_eq(lab[t], g);
            cr_assert_eq(valid[t], t == 5 || t == 6 ? 0 : 1, "IK failure mask, row %d", t);
            for (int c = 0; c < 16; c++)
                cr_assert_eq(emg[t * 16 + c], (float)(i * 1000 + t * 16 + c) * 0.125f);
            double want_j = (t == 5 || t == 6) ? 0.0 : 0.01 * (i + 1) * 3 + 0.001 * t;
            if (i == 2)
                cr_assert_eq(pose[t * 20 + 2], (double)(float)want_j, "f32 source row %d", t);
            else
                cr_assert_eq(pose[t * 20 + 2], want_j, "f64 source row %d", t);
        }
        cr_assert_eq(r->streams[0].info.f64, i == 2 ? 0 : 1);
    }
    const struct mbh5_recording *a1l = &f->recordings[0], *a1r = &f->recordings[1], *b3 = &f->recordings[4];
    cr_assert_str_eq(mbh5_tag(a1l, "pair"), "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-1");
    cr_assert_str_eq(mbh5_tag(a1l, "pair"), mbh5_tag(a1r, "pair"), "both sides share the pair key");
    cr_assert_str_eq(mbh5_tag(a1l, "partner"), gen_stems[1]);
    cr_assert_str_eq(mbh5_tag(a1r, "partner"), gen_stems[0]);
    cr_assert_str_eq(a1r->info.side, "right");
    cr_assert_str_eq(mbh5_tag(&f->recordings[2], "split"), "val");
    cr_assert_str_eq(mbh5_tag(&f->recordings[2], "generalization"), "stage");
    cr_assert_str_eq(mbh5_tag(&f->recordings[2], "held_out_stage"), "true");
    cr_assert_str_eq(mbh5_tag(&f->recordings[2], "recording"), "2");
    cr_assert_str_eq(mbh5_tag(b3, "held_out_user"), "true");
    cr_assert_str_eq(mbh5_tag(b3, "generalization"), "user");
    cr_assert_str_eq(mbh5_tag(b3, "partner"), "2022-02-02-1643760000-bbbbb-cv-emg-pose-train@2-recording-3_right");
    cr_assert(has_note(f, "recording-3_right' is not in metadata.csv", "kept this side alone"));
    cr_assert(has_note(f, "1 HDF5 file not listed in metadata.csv", "stray.hdf5"));
    cr_assert_eq(f->n_sources, 6, "metadata.csv + 5 session files");
    mbh5_close(f);
}

Test(conv_emg2pose, output_bytes_do_not_depend_on_thread_count, .timeout = 60)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[3][160];
    gen_corpus(src, sizeof src);
    tu_tmpdir(dir, sizeof dir);
    char h[3][65];
    for (int k = 0; k < 3; k++) {
        snprintf(out[k], sizeof out[k], "%s/j%d.h5", dir, k + 1);
        struct mb_convert_opts o = opts_for(src, out[k]);
        o.threads = k + 1;
        struct mb_convert_result res = {0};
        cr_assert_eq(conv_emg2pose.convert(&o, &res), MB_OK, "%s", mb_last_error());
        assert_valid(out[k]);
        sha_of(h[k], out[k]);
    }
    cr_assert_str_eq(h[0], h[1], "-j1 and -j2 give the same bytes");
    cr_assert_str_eq(h[0], h[2], "-j1 and -j3 give the same bytes");
}

Test(conv_emg2pose, limit_subjects_keeps_the_first_users_and_the_whole_vocabulary, .timeout = 60)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160];
    gen_corpus(src, sizeof src);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/l.h5", dir);
    struct mb_convert_opts o = opts_for(src, out);
    o.limit_subjects = 1;
    struct mb_convert_result res = {0};
    cr_assert_eq(conv_emg2pose.convert(&o, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_recordings, 4);
    assert_valid(out);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert_eq(f->n_subjects, 1);
    cr_assert_str_eq(f->subjects[0].name, "userA");
    cr_assert_eq(f->n_gestures, 2);
    mbh5_close(f);
}

/* ---- converter: error paths --------------------------------------------- */

static void assert_no_output(const char *out)
{
    cr_assert_neq(access(out, F_OK), 0, "no file under the output name after a failure");
    char dir[256], cmd[512];
    snprintf(dir, sizeof dir, "%s", out);
    *strrchr(dir, '/') = '\0';
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -q part", dir);
    cr_assert_neq(system(cmd), 0, "no temporary file left in '%s'", dir);
}

static int convert_gen(const char *src, const char *out, int keep_going, int allow_nonfinite,
                       struct mb_convert_result *res)
{
    struct mb_convert_opts o = opts_for(src, out);
    o.keep_going = keep_going;
    o.allow_nonfinite = allow_nonfinite;
    memset(res, 0, sizeof *res);
    return conv_emg2pose.convert(&o, res);
}

Test(conv_emg2pose, a_missing_session_file_fails_or_is_skipped_under_keep_going, .timeout = 60)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160], p[512];
    gen_corpus(src, sizeof src);
    snprintf(p, sizeof p, "%s/%s.hdf5", src, gen_stems[3]);
    cr_assert_eq(unlink(p), 0);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/m.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert_gen(src, out, 0, 0, &res), MB_EIO);
    cr_assert(strstr(mb_last_error(), "recording-2_right.hdf5"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "line 3"), "names the metadata.csv line: %s", mb_last_error());
    assert_no_output(out);
    cr_assert_eq(convert_gen(src, out, 1, 0, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_skipped, 1);
    cr_assert_eq(res.n_recordings, 4);
    assert_valid(out);
}

Test(conv_emg2pose, a_header_without_split_is_an_error_naming_the_column, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160];
    gen_corpus(src, sizeof src);
    write_text(src, "metadata.csv",
               "session,user,stage,side,filename,moving_hand,held_out_user,held_out_stage,generalization\n"
               "s,userA,FingerFreeform,left,"
               "2022-01-01-1640995200-aaaaa-cv-emg-pose-train@2-recording-1_left,both,False,False,\n");
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/h.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert_gen(src, out, 1, 0, &res), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "metadata.csv"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "no column 'split'"), "%s", mb_last_error());
    assert_no_output(out);
}

Test(conv_emg2pose, bad_metadata_rows_are_errors_naming_the_line, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160];
    gen_corpus(src, sizeof src);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/b.h5", dir);
    struct { const char *csv; int rc; const char *msg; } cases[] = {
        { CSV_HEADER "u,s,st,left,both,False,False,train,,f1,0,1\nu,s,st,left\n", MB_ECSV, "line 3" },
        { CSV_HEADER "u,s,st,up,both,False,False,train,,f1,0,1\n", MB_EFORMAT, "line 2: side 'up'" },
        { CSV_HEADER "u,s,st,left,both,maybe,False,train,,f1,0,1\n", MB_EFORMAT, "line 2: held_out_user 'maybe'" },
        { CSV_HEADER ",s,st,left,both,False,False,train,,f1,0,1\n", MB_EFORMAT, "line 2: empty 'user'" },
        { CSV_HEADER "u,s,st,left,both,False,False,train,,f1,zero,1\n", MB_EFORMAT, "line 2: start 'zero'" },
        { CSV_HEADER "u,s,st,left,both,False,False,train,,f1,0,1\nu,s,st,left,both,False,False,train,,f1,0,1\n",
          MB_EFORMAT, "lines 2 and 3: file 'f1' listed twice" },
        { CSV_HEADER, MB_EFORMAT, "no rows" },
        { "", MB_ECSV, "empty" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_text(src, "metadata.csv", cases[k].csv);
        struct mb_convert_result res;
        cr_assert_eq(convert_gen(src, out, 1, 0, &res), cases[k].rc, "case %zu: %s", k, mb_last_error());
        cr_assert(strstr(mb_last_error(), "metadata.csv"), "case %zu: %s", k, mb_last_error());
        cr_assert(strstr(mb_last_error(), cases[k].msg), "case %zu: %s", k, mb_last_error());
        assert_no_output(out);
    }
}

Test(conv_emg2pose, a_folder_without_metadata_csv_is_an_error, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160], p[256];
    gen_corpus(src, sizeof src);
    snprintf(p, sizeof p, "%s/metadata.csv", src);
    unlink(p);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/n.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert_gen(src, out, 1, 0, &res), MB_EIO);
    cr_assert(strstr(mb_last_error(), "metadata.csv"), "%s", mb_last_error());
    assert_no_output(out);
}

Test(conv_emg2pose, a_compound_without_emg_is_an_error_listing_the_members, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160], p[512];
    gen_corpus(src, sizeof src);
    snprintf(p, sizeof p, "%s/%s.hdf5", src, gen_stems[1]);
    double time[2] = { 0, 1 }, joints[40] = { 0 };
    float emg[32] = { 0 };
    struct conv_e2p_spec s = { .n_rows = 2, .n_emg = 16, .time = time, .joints = joints, .emg = emg,
                               .omit_emg = 1, .attrs = no_attrs() };
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/e.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert_gen(src, out, 0, 0, &res), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "recording-1_right.hdf5"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "no member 'emg' (members: 'time', 'joint_angles')"), "%s", mb_last_error());
    assert_no_output(out);
}

Test(conv_emg2pose, a_truncated_session_file_is_an_error_naming_it, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160], p[512], tmp[600];
    gen_corpus(src, sizeof src);
    snprintf(p, sizeof p, "%s/%s.hdf5", src, gen_stems[4]);
    snprintf(tmp, sizeof tmp, "%s.full", p);
    rename(p, tmp);
    copy_prefix(p, tmp, file_size(tmp) * 2 / 3);
    unlink(tmp);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/t.h5", dir);
    struct mb_convert_result res;
    int rc = convert_gen(src, out, 0, 0, &res);
    cr_assert(rc == MB_EIO || rc == MB_EFORMAT || rc == MB_EH5, "rc %d", rc);
    cr_assert(strstr(mb_last_error(), "recording-3_left.hdf5"), "%s", mb_last_error());
    assert_no_output(out);
}

Test(conv_emg2pose, nonfinite_samples_fail_unless_allowed, .timeout = 30)
{
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], dir[64], out[160], p[512];
    gen_corpus(src, sizeof src);
    /* File 2 (userA, recording-2_left) gets a NaN at row index 9 (sample 10), channel index 3. */
    snprintf(p, sizeof p, "%s/%s.hdf5", src, gen_stems[2]);
    struct e2p_data d;
    e2p_load_all(&d, p);
    d.emg[9 * 16 + 3] = NAN;
    struct conv_e2p_spec s = { .n_rows = d.T, .n_emg = 16, .time = d.time, .joints = d.joints, .emg = d.emg,
                               .attrs = no_attrs() };
    cr_assert_eq(conv_e2p_write(p, &s), MB_OK);
    e2p_data_free(&d);
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/nan.h5", dir);
    struct mb_convert_result res;
    conv_emg2pose_set_block_rows(4);
    cr_assert_eq(convert_gen(src, out, 0, 0, &res), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "recording-2_left.hdf5' sample 10:"), "%s", mb_last_error());
    cr_assert(strstr(mb_last_error(), "'emg'"), "%s", mb_last_error());
    assert_no_output(out);
    cr_assert_eq(convert_gen(src, out, 0, 1, &res), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    cr_assert(has_note(f, "recording-2_left.hdf5': 1 non-finite emg", "kept"));
    mbh5_close(f);
}

/* ---- probe and command line --------------------------------------------- */

Test(conv_emg2pose, probe_wants_metadata_csv_and_an_emg2pose_file, .timeout = 30)
{
    TU_NEED_REAL(ASSET);
    mb_log_set_level(MB_LOG_QUIET);
    char src[64], other[64], p[256];
    asset_src(src, sizeof src, tu_real(ASSET));
    cr_assert_eq(conv_emg2pose.probe(src), 1);
    cr_assert_eq(mb_converter_detect(src), &conv_emg2pose);
    snprintf(p, sizeof p, "%s/metadata.csv", src);
    unlink(p);
    cr_assert_eq(conv_emg2pose.probe(src), 0, "no metadata.csv");
    tu_tmpdir(other, sizeof other);
    write_text(other, "metadata.csv", CSV_HEADER);
    write_text(other, "x.hdf5", "not hdf5");
    cr_assert_eq(conv_emg2pose.probe(other), 0, "no emg2pose file");
    cr_assert_eq(conv_emg2pose.probe("/nonexistent"), 0);
}

Test(conv_emg2pose, cli_converts_with_auto_and_reports_the_side_conflict, .timeout = 60)
{
    TU_NEED_REAL(ASSET);
    char src[64], dir[64], args[512];
    asset_src(src, sizeof src, tu_real(ASSET));
    tu_tmpdir(dir, sizeof dir);
    snprintf(args, sizeof args, "convert auto %s -o %s/a.h5 -j 2 --no-progress", src, dir);
    char *err = NULL;
    int code = tu_run(NULL, &err, args);
    cr_assert_eq(code, 0, "%s", err);
    cr_assert(strstr(err, "using the 'emg2pose' converter"), "%s", err);
    cr_assert(strstr(err, "warning: '" ASSET_STEM ".hdf5': attribute 'side' is 'right'"), "%s", err);
    cr_assert(strstr(err, "1 files, 1 recordings"), "%s", err);
    free(err);
    /* A bad file under --keep-going: listed, the rest written, exit 1. */
    char bad[256];
    snprintf(bad, sizeof bad, "%s/metadata.csv", src);
    FILE *fp = fopen(bad, "a");
    fputs("d387095792," ASSET_SESSION ",IndividualFingerPointingSnap,right,both,False,False,train,,"
          ASSET_SESSION "-recording-9_right,,\n", fp);
    fclose(fp);
    snprintf(args, sizeof args, "convert emg2pose %s -o %s/k.h5 --keep-going --no-progress", src, dir);
    code = tu_run(NULL, &err, args);
    cr_assert_eq(code, 1, "%s", err);
    cr_assert(strstr(err, "skipped '" ASSET_SESSION "-recording-9_right'"), "%s", err);
    free(err);
    snprintf(args, sizeof args, "%s/k.h5", dir);
    cr_assert_eq(access(args, F_OK), 0, "the good file was written");
}

/* ---- round trip through the synthetic generator ------------------------- */

static const struct mbh5_recording *rec_from(const struct mbh5_file *f, const char *relpath, size_t *idx)
{
    const char *base = strrchr(relpath, '/');
    base = base ? base + 1 : relpath;
    for (size_t i = 0; i < f->n_recordings; i++)
        if (!strcmp(f->recordings[i].info.source, base)) {
            *idx = i;
            return &f->recordings[i];
        }
    return NULL;
}

static void synth_round_trip(int f32)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct synth_params p;
    cr_assert_eq(synth_params_preset(&p, "tiny", 7), MB_OK);
    p.devices = 1u << SYNTH_EMG2POSE;
    p.e2p_f32 = f32;
    char dir[64], src[128], out[160];
    tu_tmpdir(dir, sizeof dir);
    cr_assert_eq(synth_write(dir, &p, NULL), MB_OK, "%s", mb_last_error());
    snprintf(src, sizeof src, "%s/emg2pose", dir);
    snprintf(out, sizeof out, "%s/unified.h5", dir);
    struct mb_convert_opts o = opts_for(src, out);
    o.threads = 2;
    struct mb_convert_result res = {0};
    conv_emg2pose_set_block_rows(1000);   /* several blocks per 3 s file */
    cr_assert_eq(conv_emg2pose.convert(&o, &res), MB_OK, "%s", mb_last_error());
    assert_valid(out);

    struct synth_file *files;
    size_t nf;
    cr_assert_eq(synth_list(&files, &nf, &p), MB_OK);
    struct mbh5_file *f;
    cr_assert_eq(mbh5_open(&f, out), MB_OK, "%s", mb_last_error());
    size_t seen = 0;
    for (size_t k = 0; k < nf; k++) {
        if (files[k].dev != SYNTH_EMG2POSE)
            continue;
        seen++;
        struct synth_recording g;
        cr_assert_eq(synth_render(&g, &p, &files[k]), MB_OK);
        size_t ri;
        const struct mbh5_recording *r = rec_from(f, files[k].relpath, &ri);
        cr_assert_not_null(r, "no recording from '%s'", files[k].relpath);
        cr_assert_eq(r->n_samples, g.n, "%s", files[k].relpath);
        cr_assert_eq(r->info.n_channels, g.n_channels);
        cr_assert_eq(r->info.rate_hz, g.rate_hz);
        cr_assert_str_eq(r->info.subject, g.subject_name);
        cr_assert_str_eq(r->info.session, g.session_name);
        cr_assert_str_eq(r->info.side, g.side);
        cr_assert_eq(r->info.start_time, g.start);
        cr_assert_eq(r->info.has_repetition, 0, "emg2pose has no repetitions");
        cr_assert_str_eq(mbh5_tag(r, "stage"), g.stage);
        cr_assert_str_eq(mbh5_tag(r, "split"), g.split);
        cr_assert_str_eq(mbh5_tag(r, "held_out_user"), g.held_out_user ? "true" : "false");
        cr_assert_str_eq(mbh5_tag(r, "held_out_stage"), g.held_out_stage ? "true" : "false");
        if (g.generalization[0])
            cr_assert_str_eq(mbh5_tag(r, "generalization"), g.generalization);
        else
            cr_assert_null(mbh5_tag(r, "generalization"));
        int gi = mbh5_gesture_index(f, gesture_named(f, g.stage));
        cr_assert_geq(gi, 0, "stage '%s' in the vocabulary", g.stage);
        cr_assert_eq(f->gestures[gi].held_out, synth_e2p_stage_held_out(g.label[0]));
        cr_assert_str_eq(synth_e2p_stage_name(g.label[0]), g.stage);
        cr_assert_eq(r->streams[0].info.f64, !f32);

        const size_t n = g.n, C = (size_t)g.n_channels;
        float *emg = malloc(n * C * sizeof *emg);
        double *time = malloc(n * sizeof *time), *pose = malloc(n * 20 * sizeof *pose);
        int32_t *lab = malloc(n * sizeof *lab);
        uint8_t *valid = malloc(n);
        cr_assert_eq(mbh5_read_emg(f, ri, 0, n, emg), MB_OK);
        cr_assert_eq(mbh5_read_time(f, ri, 0, n, time), MB_OK);
        cr_assert_eq(mbh5_read_labels(f, ri, 0, n, lab, NULL), MB_OK);
        cr_assert_eq(mbh5_read_stream_f64(f, ri, 0, 0, n, pose, valid), MB_OK);
        size_t ik = 0;
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < C; c++)
                cr_assert_eq(emg[i * C + c], (float)g.emg[i * C + c], "%s emg row %zu ch %zu",
                             files[k].relpath, i, c);
            cr_assert_eq(time[i], g.time[i], "%s time row %zu", files[k].relpath, i);
            cr_assert_eq(lab[i], f->gestures[gi].id);
            cr_assert_eq(valid[i], g.pose_valid[i], "%s IK mask row %zu", files[k].relpath, i);
            ik += !valid[i];
            for (int j = 0; j < 20; j++)
                cr_assert_eq(pose[i * 20 + j], g.pose[i * 20 + j], "%s pose row %zu joint %d",
                             files[k].relpath, i, j);
        }
        (void)ik;
        free(emg);
        free(time);
        free(pose);
        free(lab);
        free(valid);
        synth_recording_free(&g);
    }
    cr_assert_eq(seen, f->n_recordings, "one recording per generated file");
    cr_assert_eq(res.n_recordings, seen);
    mbh5_close(f);
    free(files);
}

Test(conv_emg2pose, synthetic_corpus_round_trips_exactly, .timeout = 120)
{
    synth_round_trip(0);
}

Test(conv_emg2pose, synthetic_f32_gzip_corpus_round_trips_exactly, .timeout = 120)
{
    synth_round_trip(1);
}
