/* tests/test_conv_emg2pose.c - the emg2pose session-file reader
 * (converters/emg2pose_h5.c) and the emg2pose converter. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <hdf5.h>

#include "converters/emg2pose_h5.h"
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
