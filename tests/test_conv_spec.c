/* tests/test_conv_spec.c - the declarative converter: spec parsing, the
 * text/MAT/HDF5 readers, the time-column handling, and conversions of the
 * real text corpora through the shipped specs. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "converters/spec.h"
#include "format/mbh5.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static __attribute__((unused)) void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static struct spec *parse_ok(const char *text)
{
    struct spec *s = NULL;
    int rc = spec_parse(&s, "t.yaml", text, strlen(text));
    cr_assert_eq(rc, MB_OK, "spec should parse: %s", mb_last_error());
    return s;
}

/* Expects the spec to fail, with a message containing each of the
 * NULL-terminated needles. */
static void parse_fails(const char *text, const char *n1, const char *n2)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct spec *s = NULL;
    int rc = spec_parse(&s, "t.yaml", text, strlen(text));
    cr_assert_lt(rc, 0, "spec should fail: %s", text);
    cr_assert_null(s);
    cr_assert(strstr(mb_last_error(), "'t.yaml'"), "message names the spec: %s", mb_last_error());
    if (n1)
        cr_assert(strstr(mb_last_error(), n1), "expected '%s' in: %s", n1, mb_last_error());
    if (n2)
        cr_assert(strstr(mb_last_error(), n2), "expected '%s' in: %s", n2, mb_last_error());
}

/* A small csv spec that error tests vary. */
#define BASE_HEAD \
    "name: t\n" \
    "files:\n" \
    "  pattern: '^(?<subject>s\\d+)/(?<name>\\w+)\\.csv$'\n"
/* The same with the gesture in the file name. */
#define HEAD_G \
    "name: t\n" \
    "files:\n" \
    "  pattern: '^(?<subject>s\\d+)/(?<gesture>\\d+)\\.csv$'\n"
#define BASE_CSV \
    "format:\n" \
    "  type: csv\n" \
    "columns:\n" \
    "  emg: 0..1\n" \
    "  label: 2\n" \
    "sampling:\n" \
    "  rate_hz: 100\n" \
    "values:\n" \
    "  type: int\n" \
    "  units: counts\n" \
    "labels:\n" \
    "  unlabelled: 9\n" \
    "  map:\n" \
    "    0: rest\n" \
    "    1: {id: 5, name: fist}\n" \
    "device:\n" \
    "  name: dev\n"

static const struct spec_read_opts no_opts = {0};

static int read_text(struct spec_table *t, const struct spec *s, const char *text, const struct spec_read_opts *o)
{
    return spec_read_text(t, s, "data.csv", text, strlen(text), o ? o : &no_opts);
}

/* ---- spec parsing ------------------------------------------------------- */

Test(conv_spec, spec_parses_every_field_of_a_csv_spec)
{
    struct spec *s = parse_ok(BASE_HEAD BASE_CSV);
    cr_assert_str_eq(s->name, "t");
    cr_assert_str_eq(s->dataset, "t", "dataset defaults to the name");
    cr_assert_eq(s->container, SPEC_CSV);
    cr_assert_eq(s->delimiter, ',');
    cr_assert(s->emg.is_range);
    cr_assert_eq(s->emg.from, 0);
    cr_assert_eq(s->emg.to, 1);
    cr_assert(s->has_label_col);
    cr_assert_eq(s->label_col.index, 2);
    cr_assert_eq(s->rate_hz, 100);
    cr_assert(s->value_int);
    cr_assert_eq(s->label_source, SPEC_LABELS_COLUMN, "a label column is the default source");
    int32_t id;
    cr_assert_eq(spec_label_lookup(s, "1", 1, &id), MB_OK);
    cr_assert_eq(id, 5);
    cr_assert_eq(spec_label_lookup(s, " 1.0 ", 5, &id), MB_OK, "numeric labels compare by value");
    cr_assert_eq(id, 5);
    cr_assert_eq(spec_label_lookup(s, "9", 1, &id), MB_OK);
    cr_assert_eq(id, MBH5_UNLABELLED);
    cr_assert_eq(spec_label_lookup(s, "2", 1, &id), MB_EFORMAT);
    char buf[32];
    cr_assert_str_eq(spec_label_name(s, 5, buf, sizeof buf), "fist");
    cr_assert_str_eq(s->dev_name, "dev");
    cr_assert_eq(strlen(s->sha256), 64);
    spec_free(s);
}

Test(conv_spec, every_shipped_spec_parses)
{
    const char *names[] = { "myo_readings", "uci_gestures", "kaufmann_multiday", "onechannel_5khz", "sh2024" };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char p[256];
        snprintf(p, sizeof p, "converters/specs/%s.yaml", names[i]);
        struct spec *s = NULL;
        cr_assert_eq(spec_load(&s, p), MB_OK, "%s: %s", p, mb_last_error());
        spec_free(s);
    }
}

Test(conv_spec, unknown_key_is_an_error_naming_file_line_and_key)
{
    parse_fails(BASE_HEAD BASE_CSV "colour: blue\n", "line 21", "unknown key 'colour'");
    parse_fails(BASE_HEAD "format:\n  type: csv\n  delimeter: ','\n" "columns: {emg: 0}\n",
                "line 6", "'delimeter' in 'format'");
}

Test(conv_spec, missing_required_key_is_an_error_naming_file_line_and_key)
{
    /* no device */
    const char *no_dev = BASE_HEAD
        "format: {type: csv}\ncolumns: {emg: 0}\nsampling: {rate_hz: 1}\nvalues: {type: int, units: x}\n";
    parse_fails(no_dev, "line 1", "missing required key 'device'");
    /* no pattern, reported at the 'files' mapping */
    parse_fails("name: t\nfiles:\n  defaults: {subject: a}\n", "line 3", "'files' has no 'pattern'");
    /* no label map although there is a label column */
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 0, label: 1}\nsampling: {rate_hz: 1}\n"
                "values: {type: int, units: x}\nlabels: {unlabelled: 0}\ndevice: {name: d}\n",
                "line 8", "no 'map'");
}

Test(conv_spec, wrong_types_and_values_are_errors_with_lines)
{
    parse_fails(BASE_HEAD "format: {type: xls}\n", "line 4", "must be one of csv, whitespace, mat, hdf5");
    parse_fails(BASE_HEAD "format:\n  type: csv\n  header_lines: many\n", "line 6", "header_lines");
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 0}\nsampling: {rate_hz: fast}\n",
                "line 6", "'sampling.rate_hz' must be a number");
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: [0, [1]]}\n", "line 5", "must be a scalar");
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 3..1}\n", "line 5", "is empty");
    parse_fails(BASE_HEAD "format: [csv]\n", "line 4", "'format' must be a mapping");
    parse_fails("name: [\n", "line", NULL);   /* libyaml's own syntax error, with its line */
    parse_fails("", "empty spec", NULL);
    parse_fails("just text\n", "'the spec' must be a mapping", NULL);
}

Test(conv_spec, inconsistent_combinations_are_errors)
{
    /* duplicate key */
    parse_fails("name: a\nname: b\n", "line 2", "appears twice");
    /* pattern without a subject */
    parse_fails("name: t\nfiles:\n  pattern: '^(?<gesture>\\d+)\\.csv$'\n", "line 3", "no named group 'subject'");
    /* pattern that does not compile */
    parse_fails("name: t\nfiles:\n  pattern: '(?<subject>['\n", "line 3", "does not compile");
    /* a text format with binary-container keys */
    parse_fails(BASE_HEAD "format:\n  type: csv\n  emg: data\n", "line 6", "applies to mat and hdf5");
    /* no rate and no time column */
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 0}\nvalues: {type: int, units: x}\ndevice: {name: d}\n",
                "no sampling rate", NULL);
    /* a time column without unit */
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 0, time: 1}\nvalues: {type: int, units: x}\n"
                "device: {name: d}\n", "time_unit", NULL);
    /* channel count disagreeing with the columns */
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 0..3}\nsampling: {rate_hz: 1}\n"
                "values: {type: float, units: x}\ndevice: {name: d, channels: 8}\n", "'device.channels' is 8", "4 columns");
    /* the same raw label twice */
    parse_fails(BASE_HEAD "format: {type: csv}\ncolumns: {emg: 0, label: 1}\nsampling: {rate_hz: 1}\n"
                "values: {type: float, units: x}\nlabels:\n  unlabelled: 0\n  map: {0: rest}\ndevice: {name: d}\n",
                "given twice", NULL);
    /* mismatch rules need both label sources */
    parse_fails("name: t\nfiles: {pattern: '(?<subject>x)'}\nformat: {type: csv}\ncolumns: {emg: 0, label: 1}\n"
                "sampling: {rate_hz: 1}\nvalues: {type: float, units: x}\n"
                "labels: {map: identity, mismatch: error}\ndevice: {name: d}\n", "mismatch", "gesture");
    /* a second YAML document */
    parse_fails(BASE_HEAD BASE_CSV "---\nname: u\n", "second", NULL);
}

Test(conv_spec, pattern_groups_fill_subject_session_side_day_repetition_and_tags)
{
    struct spec *s = parse_ok(
        "name: t\nfiles:\n"
        "  pattern: '^(?<split>train|test)/S(?<subject>\\d+)_D(?<day>\\d+)_(?<side>[LR])_R(?<rep>\\d+)_(?<gesture>\\w+)\\.txt$'\n"
        "  defaults: {session: one, position: up}\n"
        "format: {type: whitespace}\ncolumns: {emg: 0}\nsampling: {rate_hz: 10}\nvalues: {type: float, units: V}\n"
        "labels: {map: {open: {id: 1, name: hand open}}}\ndevice: {name: d}\n");
    cr_assert_eq(s->label_source, SPEC_LABELS_FILENAME, "group 'gesture' is the default label source");
    void *md = spec_match_data_new(s);
    struct spec_match m;
    cr_assert_eq(spec_match_path(s, md, "README.txt", &m), 0);
    cr_assert_eq(spec_match_path(s, md, "train/S07_D120_L_R3_open.txt", &m), 1);
    cr_assert_str_eq(m.subject, "07");
    cr_assert_str_eq(m.session, "one");
    cr_assert_str_eq(m.side, "left");
    cr_assert_eq(m.day, 120);
    cr_assert_eq(m.repetition, 3);
    cr_assert_str_eq(m.gesture, "open");
    cr_assert_eq(m.n_tags, 2);
    cr_assert_str_eq(m.tags[0].key, "split");
    cr_assert_str_eq(m.tags[0].value, "train");
    cr_assert_str_eq(m.tags[1].key, "position");
    cr_assert_str_eq(m.tags[1].value, "up");
    spec_match_release(&m);
    spec_match_data_free(md);
    spec_free(s);
}

Test(conv_spec, a_bad_group_value_names_the_path)
{
    struct spec *s = parse_ok(
        "name: t\nfiles:\n  pattern: '^(?<subject>\\w+)/(?<side>\\w+)\\.txt$'\n"
        "format: {type: whitespace}\ncolumns: {emg: 0}\nsampling: {rate_hz: 10}\nvalues: {type: float, units: V}\n"
        "device: {name: d}\n");
    void *md = spec_match_data_new(s);
    struct spec_match m;
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(spec_match_path(s, md, "a/up.txt", &m), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'a/up.txt'") && strstr(mb_last_error(), "side"), "%s", mb_last_error());
    spec_match_data_free(md);
    spec_free(s);
}

/* ---- text readers ------------------------------------------------------- */

Test(conv_spec, csv_reader_reads_values_labels_comments_and_quotes)
{
    struct spec *s = parse_ok(BASE_HEAD
        "format: {type: csv, header_lines: 1, comment: '#'}\n"
        "columns: {emg: [a, b], label: -1}\nsampling: {rate_hz: 100}\nvalues: {type: int, units: counts}\n"
        "labels: {unlabelled: 9, map: {0: rest, 1: {id: 5, name: fist}}}\ndevice: {name: d}\n");
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "a,b,c\n# a comment\n1, 2 ,0\n\n\"3\",-4,1\r\n5,6,9", NULL), MB_OK, "%s",
                 mb_last_error());
    cr_assert_eq(t.n, 3);
    cr_assert_eq(t.C, 2);
    float want[] = { 1, 2, 3, -4, 5, 6 };
    for (int i = 0; i < 6; i++)
        cr_assert_eq(t.emg[i], want[i]);
    cr_assert_eq(t.labels[0], 0);
    cr_assert_eq(t.labels[1], 5);
    cr_assert_eq(t.labels[2], MBH5_UNLABELLED);
    cr_assert_eq(t.n_warn, 0);
    spec_table_release(&t);
    spec_free(s);
}

Test(conv_spec, whitespace_reader_splits_on_runs_of_spaces_and_tabs)
{
    struct spec *s = parse_ok(BASE_HEAD
        "format: {type: whitespace, comment: '%'}\ncolumns: {emg: 0..-1}\nsampling: {rate_hz: 2048}\n"
        "values: {type: float, units: a.u.}\nlabels: {source: none}\ndevice: {name: d}\n");
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "% header\n  1.5e+00 \t-2.0e-01   3\n\n4 5 6\n", NULL), MB_OK, "%s", mb_last_error());
    cr_assert_eq(t.n, 2);
    cr_assert_eq(t.C, 3);
    cr_assert_float_eq(t.emg[0], 1.5f, 0);
    cr_assert_float_eq(t.emg[1], -0.2f, 1e-7);
    cr_assert_eq(t.emg[5], 6.0f);
    cr_assert_null(t.labels);
    spec_table_release(&t);
    spec_free(s);
}

static void read_fails(const struct spec *s, const char *text, const struct spec_read_opts *o, int code,
                       const char *n1, const char *n2)
{
    mb_log_set_level(MB_LOG_QUIET);
    struct spec_table t;
    int rc = read_text(&t, s, text, o);
    cr_assert_eq(rc, code, "expected %d, got %d (%s) for: %s", code, rc, mb_last_error(), text);
    cr_assert_null(t.emg);
    cr_assert(strstr(mb_last_error(), "'data.csv'"), "message names the file: %s", mb_last_error());
    if (n1)
        cr_assert(strstr(mb_last_error(), n1), "expected '%s' in: %s", n1, mb_last_error());
    if (n2)
        cr_assert(strstr(mb_last_error(), n2), "expected '%s' in: %s", n2, mb_last_error());
}

Test(conv_spec, ragged_row_is_an_error_with_file_and_line)
{
    struct spec *s = parse_ok(BASE_HEAD BASE_CSV);
    read_fails(s, "1,2,0\n3,4,0\n5,6\n", NULL, MB_ECSV, "line 3", "2 fields");
    read_fails(s, "1,2,0\n3,4,0,7\n", NULL, MB_ECSV, "line 2", "4 fields");
    read_fails(s, "1,2\n", NULL, MB_ECSV, "line 1", "columns.label is column 2");
    read_fails(s, "1,2,0\n\"3,4,0\n", NULL, MB_ECSV, "line 2", NULL);   /* unterminated quote */
    spec_free(s);
}

Test(conv_spec, non_numeric_field_is_an_error_with_file_line_and_column)
{
    struct spec *s = parse_ok(BASE_HEAD BASE_CSV);
    read_fails(s, "1,2,0\n3,x4,0\n", NULL, MB_EFORMAT, "line 2 column 2", "'x4' is not a number");
    read_fails(s, "1,,0\n", NULL, MB_EFORMAT, "line 1 column 2", NULL);
    read_fails(s, "1,2.5,0\n", NULL, MB_EFORMAT, "line 1 column 2", "not an integer");
    spec_free(s);
}

Test(conv_spec, empty_file_is_an_error)
{
    struct spec *s = parse_ok(BASE_HEAD BASE_CSV);
    read_fails(s, "", NULL, MB_EFORMAT, "no data rows", NULL);
    read_fails(s, "\n\n", NULL, MB_EFORMAT, "no data rows", NULL);
    spec_free(s);
}

Test(conv_spec, nonfinite_sample_is_reported_and_kept_only_when_allowed)
{
    struct spec *s = parse_ok(BASE_HEAD
        "format: {type: csv}\ncolumns: {emg: 0..1}\nsampling: {rate_hz: 10}\nvalues: {type: float, units: V}\n"
        "device: {name: d}\n");
    read_fails(s, "1,2\n3,nan\n", NULL, MB_ENUM, "line 2 column 2", "--allow-nonfinite");
    read_fails(s, "inf,2\n", NULL, MB_ENUM, "line 1 column 1", NULL);
    struct spec_read_opts o = { .allow_nonfinite = 1 };
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "1,2\n3,nan\n-inf,4\n", &o), MB_OK);
    cr_assert(isnan(t.emg[3]));
    cr_assert(isinf(t.emg[4]));
    cr_assert_eq(t.n_warn, 1);
    cr_assert(strstr(t.warn[0], "2 non-finite samples") && strstr(t.warn[0], "line 2 column 2"), "%s", t.warn[0]);
    spec_table_release(&t);
    spec_free(s);
}

Test(conv_spec, label_outside_the_map_is_an_error_with_file_line_and_value)
{
    struct spec *s = parse_ok(BASE_HEAD BASE_CSV);
    read_fails(s, "1,2,0\n3,4,1\n5,6,7\n", NULL, MB_EFORMAT, "line 3 column 3", "label '7' is not in the label map");
    spec_free(s);
}

Test(conv_spec, column_label_disagreeing_with_the_file_name_follows_the_rule)
{
    const char *body = "format: {type: csv}\ncolumns: {emg: 0, label: 1}\nsampling: {rate_hz: 10}\n"
                       "values: {type: float, units: V}\n";
    char text[1024];
    /* warn (default): the column wins, one warning */
    snprintf(text, sizeof text, "%s%slabels: {map: identity, mismatch_allowed: 0}\ndevice: {name: d}\n", HEAD_G, body);
    struct spec *s = parse_ok(text);
    struct spec_read_opts o = { .has_file_gesture = 1, .file_gesture = 2 };
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "1,0\n2,2\n3,3\n4,3\n", &o), MB_OK);
    cr_assert_eq(t.labels[2], 3, "the column wins");
    cr_assert_eq(t.n_warn, 1, "0 is allowed, 3 is not");
    cr_assert(strstr(t.warn[0], "2 samples") && strstr(t.warn[0], "line 3"), "%s", t.warn[0]);
    spec_table_release(&t);
    spec_free(s);
    /* error */
    snprintf(text, sizeof text, "%s%slabels: {map: identity, mismatch: error}\ndevice: {name: d}\n", HEAD_G, body);
    s = parse_ok(text);
    read_fails(s, "1,2\n2,0\n", &o, MB_EFORMAT, "line 2", "disagrees");
    spec_free(s);
    /* ignore */
    snprintf(text, sizeof text, "%s%slabels: {map: identity, mismatch: ignore}\ndevice: {name: d}\n", HEAD_G, body);
    s = parse_ok(text);
    cr_assert_eq(read_text(&t, s, "1,2\n2,0\n", &o), MB_OK);
    cr_assert_eq(t.n_warn, 0);
    spec_table_release(&t);
    spec_free(s);
}

Test(conv_spec, column_names_need_a_header_that_has_them)
{
    struct spec *s = parse_ok(BASE_HEAD
        "format: {type: csv, header_lines: 1}\ncolumns: {emg: [a, zz]}\nsampling: {rate_hz: 10}\n"
        "values: {type: float, units: V}\ndevice: {name: d}\n");
    read_fails(s, "a,b\n1,2\n", NULL, MB_EFORMAT, "no column named 'zz'", NULL);
    read_fails(s, "a,zz\n", NULL, MB_EFORMAT, "no data rows", NULL);
    spec_free(s);
}

/* ---- time column -------------------------------------------------------- */

static struct spec *time_spec(const char *rate)
{
    char text[1024];
    snprintf(text, sizeof text, BASE_HEAD
             "format: {type: csv}\ncolumns: {time: 0, emg: 1, label: 2}\nsampling: {%s time_unit: ms}\n"
             "values: {type: float, units: V}\nlabels: {map: identity}\ndevice: {name: d}\n", rate);
    return parse_ok(text);
}

Test(conv_spec, irregular_time_is_resampled_linearly_with_previous_labels_and_reported)
{
    struct spec *s = time_spec("");
    struct spec_table t;
    /* steps 1,1,3,1 ms: median 1 ms -> 1000 Hz; grid 10..16 ms */
    cr_assert_eq(read_text(&t, s, "10,0,1\n11,1,1\n12,2,2\n15,8,3\n16,10,3\n", NULL), MB_OK);
    cr_assert_eq(spec_regularise(&t, s, "data.csv"), MB_OK);
    cr_assert_eq(t.rate_hz, 1000);
    cr_assert_eq(t.n, 7);
    float want[] = { 0, 1, 2, 4, 6, 8, 10 };
    int32_t wl[] = { 1, 1, 2, 2, 2, 3, 3 };
    for (int i = 0; i < 7; i++) {
        cr_assert_float_eq(t.emg[i], want[i], 1e-5, "sample %d", i);
        cr_assert_eq(t.labels[i], wl[i], "label %d", i);
        cr_assert_float_eq(t.time[i], 0.010 + i * 0.001, 1e-12);
    }
    cr_assert_eq(t.n_warn, 1);
    cr_assert(strstr(t.warn[0], "estimated rate 1000 Hz") && strstr(t.warn[0], "1 of 4 steps") &&
              strstr(t.warn[0], "largest gap 3 ms"), "%s", t.warn[0]);
    spec_table_release(&t);
    spec_free(s);
}

Test(conv_spec, regular_time_keeps_samples_and_nominal_rate_sets_the_grid)
{
    struct spec *s = time_spec("");
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "0,1,0\n5,2,0\n10,3,0\n", NULL), MB_OK);
    cr_assert_eq(spec_regularise(&t, s, "data.csv"), MB_OK);
    cr_assert_eq(t.rate_hz, 200);
    cr_assert_eq(t.n, 3);
    cr_assert_eq(t.n_warn, 0);
    spec_table_release(&t);
    spec_free(s);
    /* the nominal rate (1 kHz) wins over the 5 ms steps: 11 grid samples */
    s = time_spec("rate_hz: 1000,");
    cr_assert_eq(read_text(&t, s, "0,0,0\n5,5,0\n10,10,0\n", NULL), MB_OK);
    cr_assert_eq(spec_regularise(&t, s, "data.csv"), MB_OK);
    cr_assert_eq(t.rate_hz, 1000);
    cr_assert_eq(t.n, 11);
    cr_assert_float_eq(t.emg[7], 7.0f, 1e-6);
    cr_assert_eq(t.n_warn, 1);
    spec_table_release(&t);
    spec_free(s);
}

Test(conv_spec, time_going_backwards_is_an_error_naming_the_sample)
{
    struct spec *s = time_spec("");
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "0,1,0\n5,2,0\n4,3,0\n", NULL), MB_OK);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(spec_regularise(&t, s, "data.csv"), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'data.csv' sample 3") && strstr(mb_last_error(), "backwards"), "%s",
              mb_last_error());
    spec_table_release(&t);
    spec_free(s);
}

/* ---- conversions -------------------------------------------------------- */

#include <hdf5.h>
#include <matio.h>

#include "converters/converter.h"
#include "core/fs.h"

static int convert(const char *conv, const char *spec, const char *src, const char *out, int threads,
                   int keep_going, int limit, struct mb_convert_result *res)
{
    const struct mb_converter *c = mb_converter_find(conv);
    cr_assert_not_null(c, "converter '%s' registered", conv);
    struct conv_spec_opts so = { .spec = spec };
    struct mb_convert_opts o = { .src = src, .out = out, .threads = threads, .keep_going = keep_going,
                                 .limit_subjects = limit, .conv_opts = &so };
    memset(res, 0, sizeof *res);
    return c->convert(&o, res);
}

static struct mbh5_file *open_valid(const char *path)
{
    long problems = mbh5_validate(path, stderr);
    cr_assert_eq(problems, 0, "'%s' validates with %ld problems", path, problems);
    struct mbh5_file *f = NULL;
    cr_assert_eq(mbh5_open(&f, path), MB_OK, "%s", mb_last_error());
    return f;
}

/* The whole of a delimited text file as doubles, split independently of
 * the converter: [*rows x *cols]. sep 0 = runs of whitespace. */
static double *reparse(const char *path, char sep, int skip, size_t *rows, size_t *cols)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t cap = 1 << 16, n = 0;
    double *v = malloc(cap * sizeof *v);
    char line[4096];
    *rows = *cols = 0;
    while (fgets(line, sizeof line, f)) {
        if (skip > 0) { skip--; continue; }
        size_t c = 0;
        char delim[8] = { sep, '\r', '\n', 0 };
        if (!sep) strcpy(delim, " \t\r\n");
        char *save = NULL;
        for (char *tok = strtok_r(line, delim, &save); tok; tok = strtok_r(NULL, delim, &save)) {
            if (n == cap) { cap *= 2; v = realloc(v, cap * sizeof *v); }
            v[n++] = strtod(tok, NULL);
            c++;
        }
        if (c == 0) continue;
        if (*cols == 0) *cols = c;
        cr_assert_eq(c, *cols, "%s row %zu", path, *rows + 1);
        (*rows)++;
    }
    fclose(f);
    return v;
}

/* snprintf that must not truncate (and says so to the compiler). */
#define SPRINTF(buf, ...) cr_assert_lt((size_t)snprintf(buf, sizeof buf, __VA_ARGS__), sizeof buf)

static const char *spec_file(const char *name)
{
    static _Thread_local char p[256];
    snprintf(p, sizeof p, "converters/specs/%s.yaml", name);
    return p;
}

static int recording_of(const struct mbh5_file *f, const char *source)
{
    for (size_t r = 0; r < f->n_recordings; r++)
        if (!strcmp(f->recordings[r].info.source, source))
            return (int)r;
    return -1;
}

Test(conv_spec, myo_readings_every_file_converts_with_its_label_sequence_intact, .timeout = 60)
{
    TU_NEED_REAL("myo_readings");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/myo.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("myo_readings"), tu_real("myo_readings"), out, 2, 0, 0, &res), MB_OK,
                 "%s", mb_last_error());
    cr_assert_eq(res.n_files, 40);
    cr_assert_eq(res.n_recordings, 40);
    cr_assert_eq(res.n_warnings, 0, "labels are 0 or the file's gesture in every file");
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->n_recordings, 40);
    cr_assert_eq(f->n_subjects, 5);
    cr_assert_eq(f->n_gestures, 8);
    cr_assert_eq(f->n_sources, 40);
    cr_assert_eq(f->n_devices, 1);
    cr_assert_eq(f->devices[0].n_channels, 8);
    cr_assert_eq(f->devices[0].rate_hz, 200);
    for (size_t r = 0; r < f->n_recordings; r++) {
        const struct mbh5_recording *rec = &f->recordings[r];
        char rel[256];
        snprintf(rel, sizeof rel, "myo_readings/%s", rec->info.source);
        size_t rows, cols;
        double *v = reparse(tu_real(rel), ',', 0, &rows, &cols);
        cr_assert_eq(cols, 9);
        cr_assert_eq(rec->n_samples, rows, "%s: %zu samples, %zu lines", rel, rec->n_samples, rows);
        cr_assert_eq(rec->info.n_channels, 8);
        cr_assert_eq(rec->info.rate_hz, 200);
        cr_assert_str_eq(rec->info.side, strstr(rel, "left") ? "left" : "right");
        cr_assert_str_eq(rec->info.session, "1");
        int32_t *lab = malloc(rows * sizeof *lab);
        float *emg = malloc(rows * 8 * sizeof *emg);
        cr_assert_eq(mbh5_read_labels(f, r, 0, rows, lab, NULL), MB_OK);
        cr_assert_eq(mbh5_read_emg(f, r, 0, rows, emg), MB_OK);
        for (size_t i = 0; i < rows; i++) {
            cr_assert_eq(lab[i], (int32_t)v[i * 9 + 8], "%s line %zu", rel, i + 1);
            for (size_t c = 0; c < 8; c++)
                cr_assert_eq(emg[i * 8 + c], (float)v[i * 9 + c], "%s line %zu ch %zu", rel, i + 1, c);
        }
        free(lab);
        free(emg);
        free(v);
    }
    cr_assert_str_eq(f->subjects[0].name, "44444", "subjects in first-use (sorted path) order");
    mbh5_close(f);
}

Test(conv_spec, uci_irregular_ms_time_is_resampled_to_1khz_and_reported, .timeout = 60)
{
    TU_NEED_REAL("uci_gestures");
    mb_log_set_level(MB_LOG_ERROR);   /* the six expected warnings are checked below */
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/uci.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("uci_gestures"), tu_real("uci_gestures"), out, 2, 0, 0, &res), MB_OK,
                 "%s", mb_last_error());
    cr_assert_eq(res.n_recordings, 6);
    cr_assert_eq(res.n_warnings, 6, "every file has irregular steps");
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->n_subjects, 3);
    cr_assert_eq(f->n_gestures, 7, "classes 1-7; 0 is unmarked");
    size_t irregular_notes = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        irregular_notes += strstr(f->notes[i], "irregular time column") != NULL;
    cr_assert_eq(irregular_notes, 6);
    for (size_t r = 0; r < f->n_recordings; r++) {
        const struct mbh5_recording *rec = &f->recordings[r];
        char rel[256];
        snprintf(rel, sizeof rel, "uci_gestures/%s", rec->info.source);
        size_t rows, cols;
        double *v = reparse(tu_real(rel), '\t', 1, &rows, &cols);
        cr_assert_eq(cols, 10);
        double t0 = v[0], t1 = v[(rows - 1) * 10];
        cr_assert_eq(rec->info.rate_hz, 1000);
        cr_assert_eq(rec->n_samples, (size_t)(t1 - t0) + 1, "%s: one sample per ms from %g to %g", rel, t0, t1);
        cr_assert(rec->info.has_time);
        /* Labels nearest-previous: the grid sample at each source time
         * carries that row's class (0 -> unlabelled). */
        int32_t *lab = malloc(rec->n_samples * sizeof *lab);
        cr_assert_eq(mbh5_read_labels(f, r, 0, rec->n_samples, lab, NULL), MB_OK);
        for (size_t i = 0; i < rows; i++) {
            size_t k = (size_t)(v[i * 10] - t0);
            int32_t want = v[i * 10 + 9] == 0 ? -1 : (int32_t)v[i * 10 + 9];
            cr_assert_eq(lab[k], want, "%s row %zu (t=%g ms)", rel, i + 1, v[i * 10]);
        }
        free(lab);
        free(v);
    }
    mbh5_close(f);
}

Test(conv_spec, kaufmann_class_and_day_come_from_the_file_name, .timeout = 60)
{
    TU_NEED_REAL("kaufmann_multiday");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/k.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("kaufmann_multiday"), tu_real("kaufmann_multiday"), out, 2, 0, 0, &res),
                 MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_recordings, 22);
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->n_gestures, 11);
    cr_assert_eq(f->n_subjects, 1);
    for (size_t r = 0; r < f->n_recordings; r++) {
        const struct mbh5_recording *rec = &f->recordings[r];
        int day, cls;
        cr_assert_eq(sscanf(rec->info.source, "S0_D%d_C%d.csv", &day, &cls), 2);
        cr_assert_eq(rec->info.day, day);
        cr_assert_eq(rec->info.rate_hz, 2048);
        cr_assert_eq(rec->info.n_channels, 4);
        char rel[256];
        snprintf(rel, sizeof rel, "kaufmann_multiday/%s", rec->info.source);
        size_t rows, cols;
        double *v = reparse(tu_real(rel), 0, 0, &rows, &cols);
        cr_assert_eq(cols, 4);
        cr_assert_eq(rec->n_samples, rows);
        cr_assert_eq(rec->n_segments, 1, "one gesture per file");
        cr_assert_eq(rec->segments[0].gesture, cls);
        cr_assert_eq(rec->segments[0].start, 0);
        cr_assert_eq(rec->segments[0].end, (int64_t)rows);
        float e[4];
        cr_assert_eq(mbh5_read_emg(f, r, rows - 1, 1, e), MB_OK);
        for (int c = 0; c < 4; c++)
            cr_assert_eq(e[c], (float)v[(rows - 1) * 4 + c]);
        free(v);
    }
    mbh5_close(f);
}

Test(conv_spec, onechannel_regular_5khz_time_keeps_every_sample, .timeout = 60)
{
    TU_NEED_REAL("onechannel_5khz");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/o.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("onechannel_5khz"), tu_real("onechannel_5khz"), out, 1, 0, 0, &res),
                 MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_recordings, 2);
    cr_assert_eq(res.n_warnings, 0, "the 0.2 ms steps are regular");
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->n_gestures, 4, "labels 0-3 under the identity map");
    cr_assert_str_eq(f->devices[0].units, "V");
    for (size_t r = 0; r < f->n_recordings; r++) {
        const struct mbh5_recording *rec = &f->recordings[r];
        char rel[256];
        snprintf(rel, sizeof rel, "onechannel_5khz/%s", rec->info.source);
        size_t rows, cols;
        double *v = reparse(tu_real(rel), ',', 0, &rows, &cols);
        cr_assert_eq(rows, 70000);
        cr_assert_eq(rec->n_samples, 70000);
        cr_assert_eq(rec->info.rate_hz, 5000);
        cr_assert_eq(rec->info.n_channels, 1);
        float *emg = malloc(rows * sizeof *emg);
        int32_t *lab = malloc(rows * sizeof *lab);
        double *tm = malloc(rows * sizeof *tm);
        cr_assert_eq(mbh5_read_emg(f, r, 0, rows, emg), MB_OK);
        cr_assert_eq(mbh5_read_labels(f, r, 0, rows, lab, NULL), MB_OK);
        cr_assert_eq(mbh5_read_time(f, r, 0, rows, tm), MB_OK);
        for (size_t i = 0; i < rows; i++) {
            cr_assert_eq(tm[i], v[i * 3]);
            cr_assert_eq(emg[i], (float)v[i * 3 + 1]);
            cr_assert_eq(lab[i], (int32_t)v[i * 3 + 2]);
        }
        free(emg);
        free(lab);
        free(tm);
        free(v);
    }
    mbh5_close(f);
}

Test(conv_spec, output_bytes_are_identical_for_any_thread_count, .timeout = 60)
{
    TU_NEED_REAL("myo_readings");
    char dir[64], a[128], b[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/j1.h5", dir);
    snprintf(b, sizeof b, "%s/j2.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("myo_readings"), tu_real("myo_readings"), a, 1, 0, 0, &res), MB_OK);
    cr_assert_eq(convert("spec", spec_file("myo_readings"), tu_real("myo_readings"), b, 2, 0, 0, &res), MB_OK);
    char ha[65], hb[65];
    cr_assert_eq(mb_fs_sha256(ha, NULL, a), MB_OK);
    cr_assert_eq(mb_fs_sha256(hb, NULL, b), MB_OK);
    cr_assert_str_eq(ha, hb, "-j1 and -j2 outputs differ");
}

/* A tiny Myo-like corpus in a temporary folder. */
static void small_myo(const char *dir, int bad)
{
    char p[256];
    const char *subs[] = { "_readings_right_hand", "_readings_right_hand/10001-1", "_readings_right_hand/2222-1",
                           "_readings_right_hand/30000-1", "_readings_left_hand", "_readings_left_hand/12345-2" };
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        mkdir(p, 0777);
    }
    snprintf(p, sizeof p, "%s/_readings_right_hand/10001-1/1.txt", dir);
    write_text(p, "1,2,3,4,5,6,7,8,0\n1,2,3,4,5,6,7,8,1\n");
    snprintf(p, sizeof p, "%s/_readings_right_hand/30000-1/2.txt", dir);
    write_text(p, "1,2,3,4,5,6,7,8,2\n");
    snprintf(p, sizeof p, "%s/_readings_left_hand/12345-2/3.txt", dir);
    write_text(p, bad ? "1,2,3,4,5,6,7,8,3\n1,2,3\n" : "1,2,3,4,5,6,7,8,3\n");
    snprintf(p, sizeof p, "%s/_readings_right_hand/2222-1/7.txt", dir);   /* 4 digits: not a Myo id */
    write_text(p, "1,2,3,4,5,6,7,8,7\n");
}

Test(conv_spec, keep_going_skips_bad_files_and_failure_leaves_no_output, .timeout = 30)
{
    char dir[64], src[128], out[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src", dir);
    mkdir(src, 0777);
    small_myo(src, 1);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    mb_log_set_level(MB_LOG_QUIET);
    struct mb_convert_result res;
    /* One thread: mb_last_error() is per thread, and loads run on workers. */
    cr_assert_eq(convert("spec", spec_file("myo_readings"), src, out, 1, 0, 0, &res), MB_ECSV);
    cr_assert(strstr(mb_last_error(), "3.txt' line 2"), "%s", mb_last_error());
    cr_assert_eq(convert("spec", spec_file("myo_readings"), src, out, 2, 0, 0, &res), MB_ECSV);
    cr_assert_eq(mb_fs_is_file(out), 0, "a failed conversion leaves no output");
    struct stat st;
    char tmp[200];
    snprintf(tmp, sizeof tmp, "%s/.out.h5.part-%ld", dir, (long)getpid());
    cr_assert_neq(stat(tmp, &st), 0, "nor a temporary file");
    cr_assert_eq(convert("spec", spec_file("myo_readings"), src, out, 2, 1, 0, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_skipped, 1);
    cr_assert_eq(res.n_recordings, 2);
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->n_recordings, 2);
    int skipped_note = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        skipped_note |= strstr(f->notes[i], "1 bad source files were skipped") != NULL;
    cr_assert(skipped_note);
    mbh5_close(f);
}

Test(conv_spec, limit_subjects_keeps_the_first_subjects_in_numeric_order, .timeout = 30)
{
    char dir[64], src[128], out[160];
    tu_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src", dir);
    mkdir(src, 0777);
    small_myo(src, 0);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("myo_readings"), src, out, 1, 0, 2, &res), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->n_subjects, 2);
    cr_assert_eq(f->n_recordings, 2);
    cr_assert_eq(recording_of(f, "_readings_right_hand/30000-1/2.txt"), -1, "30000 is the third subject");
    cr_assert_geq(recording_of(f, "_readings_left_hand/12345-2/3.txt"), 0);
    cr_assert_str_eq(f->recordings[recording_of(f, "_readings_left_hand/12345-2/3.txt")].info.session, "2");
    mbh5_close(f);
}

Test(conv_spec, a_pattern_matching_no_file_names_the_pattern_folder_and_examples, .timeout = 30)
{
    TU_NEED_REAL("kaufmann_multiday");
    char dir[64], out[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/x.h5", dir);
    mb_log_set_level(MB_LOG_QUIET);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("myo_readings"), tu_real("kaufmann_multiday"), out, 1, 0, 0, &res),
                 MB_EFORMAT);
    const char *m = mb_last_error();
    cr_assert(strstr(m, "pattern '^_readings_") && strstr(m, "matches none of the 23 files") &&
              strstr(m, "kaufmann_multiday'") && strstr(m, "e.g. 'S0_D120_C0.csv'"), "%s", m);
    cr_assert_eq(mb_fs_is_file(out), 0);
}

Test(conv_spec, cli_finds_specs_by_name_and_sh2024_runs_its_template, .timeout = 60)
{
    TU_NEED_REAL("onechannel_5khz");
    char dir[64], args[1024], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    /* a spec by name, one of the shipped (built-in) ones */
    SPRINTF(args, "convert spec kaufmann_multiday %s -o %s/k.h5 --limit-subjects 1",
             tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out); free(err);
    /* the SH2024 template fits a time,emg,label CSV layout in subject folders ... */
    SPRINTF(args, "convert sh2024 %s -o %s/sh.h5", tu_real("onechannel_5khz"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out); free(err);
    char p[128];
    SPRINTF(p, "%s/sh.h5", dir);
    struct mbh5_file *f = open_valid(p);
    cr_assert_str_eq(f->corpus.converter, "sh2024");
    cr_assert_eq(f->recordings[0].info.rate_hz, 5000, "rate estimated from the time column");
    int template_note = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        template_note |= strstr(f->notes[i], "TEMPLATE") != NULL;
    cr_assert(template_note, "the output says it came from the template");
    mbh5_close(f);
    /* ... and fails clearly on anything else */
    SPRINTF(args, "convert sh2024 %s -o %s/sh2.h5", tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 1);
    cr_assert(strstr(err, "matches none of the") && strstr(err, "sh2024.yaml") && strstr(err, "template"), "%s", err);
    free(out); free(err);
    /* the search path is reported when the spec is nowhere */
    SPRINTF(args, "convert spec no_such_spec %s -o %s/n.h5", tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 1);
    cr_assert(strstr(err, "no spec 'no_such_spec.yaml' found; tried") &&
              strstr(err, "the shipped specs (kaufmann_multiday, myo_readings"), "%s", err);
    free(out); free(err);
    /* $MYOBENCH_SPECS comes first, and is listed when nothing is found */
    SPRINTF(p, "%s/mine.yaml", dir);
    FILE *in = fopen(spec_file("kaufmann_multiday"), "rb"), *cp = fopen(p, "wb");
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, got, cp);
    fclose(in);
    fclose(cp);
    setenv("MYOBENCH_SPECS", dir, 1);
    SPRINTF(args, "convert spec mine %s -o %s/m.h5 --limit-subjects 1", tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    free(out); free(err);
    SPRINTF(args, "convert spec nothing.yaml %s -o %s/n.h5", tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 1);
    cr_assert(strstr(err, "nothing.yaml' ($MYOBENCH_SPECS)") && strstr(err, "the shipped specs ("), "%s", err);
    free(out); free(err);
    unsetenv("MYOBENCH_SPECS");
}

/* SHA-256 of a file, for byte comparisons of outputs. */
static void file_sha(char hex[65], const char *path)
{
    uint64_t n = 0;
    cr_assert_eq(mb_fs_sha256(hex, &n, path), MB_OK, "%s", path);
}

Test(conv_spec, auto_chooses_the_shipped_spec_that_fits_myo_and_kaufmann, .timeout = 120)
{
    TU_NEED_REAL("myo_readings");
    TU_NEED_REAL("kaufmann_multiday");
    const char *names[] = { "myo_readings", "kaufmann_multiday" };
    char dir[64], args[1024], p[128], q[128], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    for (size_t i = 0; i < 2; i++) {
        SPRINTF(args, "convert auto %s -o %s/auto.h5 --no-progress", tu_real(names[i]), dir);
        cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
        char want[128];
        SPRINTF(want, "fits the shipped spec '%s'", names[i]);
        cr_assert(strstr(err, want) && strstr(err, "using 'convert spec"), "auto says which spec it chose: %s", err);
        free(out); free(err);
        /* the same bytes as naming the spec */
        SPRINTF(args, "convert spec %s %s -o %s/named.h5 --no-progress", names[i], tu_real(names[i]), dir);
        cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
        free(out); free(err);
        char a[65], b[65];
        SPRINTF(p, "%s/auto.h5", dir);
        SPRINTF(q, "%s/named.h5", dir);
        file_sha(a, p);
        file_sha(b, q);
        cr_assert_str_eq(a, b, "%s: auto and 'convert spec %s' give the same file", names[i], names[i]);
        remove(p);
        remove(q);
    }
}

Test(conv_spec, auto_refuses_a_folder_two_shipped_specs_fit_and_names_them, .timeout = 30)
{
    TU_NEED_REAL("myo_readings");
    TU_NEED_REAL("kaufmann_multiday");
    char dir[64], src[128], args[1024], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    SPRINTF(src, "%s/both", dir);
    /* one Myo participant and one Kaufmann file side by side */
    char myo[512];
    SPRINTF(myo, "%s", tu_real("myo_readings/_readings_left_hand"));   /* tu_real's buffer is reused */
    SPRINTF(args, "mkdir -p %s && ln -s %s %s/ && ln -s %s %s/", src, myo, src,
            tu_real("kaufmann_multiday/S0_D1_C0.csv"), src);
    cr_assert_eq(system(args), 0);
    SPRINTF(args, "convert auto %s -o %s/x.h5 --no-progress", src, dir);
    cr_assert_eq(tu_run(&out, &err, args), 1, "%s", err);
    cr_assert(strstr(err, "fits 2 shipped specs") && strstr(err, "'kaufmann_multiday' (1 of 9 files)") &&
              strstr(err, "'myo_readings' (8 of 9 files)") && strstr(err, "myobench convert spec NAME"), "%s", err);
    free(out); free(err);
    char p[160];
    SPRINTF(p, "%s/x.h5", dir);
    cr_assert_eq(mb_fs_is_file(p), 0, "nothing written");
    /* a folder no spec fits lists the specs it tried */
    SPRINTF(args, "convert auto %s -o %s/x.h5 --no-progress", dir, dir);
    SPRINTF(p, "rm -rf %s && mkdir %s && touch %s/readme.txt", src, src, src);
    cr_assert_eq(system(p), 0);
    SPRINTF(args, "convert auto %s -o %s/x.h5 --no-progress", src, dir);
    cr_assert_eq(tu_run(&out, &err, args), 1, "%s", err);
    cr_assert(strstr(err, "no shipped spec (kaufmann_multiday, myo_readings, onechannel_5khz, uci_gestures)") &&
              !strstr(err, "sh2024"), "the template is never tried: %s", err);
    free(out); free(err);
}

/* The shipped specs are in the binary: a copy of it elsewhere, run from
 * another folder, finds them by name and in 'auto' (they were looked up
 * beside the binary, in ../converters/specs, before). */
Test(conv_spec, a_copy_of_the_binary_outside_the_repository_has_the_shipped_specs, .timeout = 60)
{
    TU_NEED_REAL("kaufmann_multiday");
    char dir[64], cmd[2048], p[160];
    tu_tmpdir(dir, sizeof dir);
    const char *bin = getenv("MB_BIN") ? getenv("MB_BIN") : "build/myobench";
    SPRINTF(cmd, "mkdir %s/bin && cp %s %s/bin/myobench", dir, bin, dir);
    cr_assert_eq(system(cmd), 0);
    SPRINTF(cmd, "cd / && env -u MYOBENCH_SPECS %s/bin/myobench convert spec kaufmann_multiday %s -o %s/k.h5 "
            "--limit-subjects 1 --no-progress 2>%s/e1", dir, tu_real("kaufmann_multiday"), dir, dir);
    cr_assert_eq(system(cmd), 0, "convert spec NAME from a copy of the binary");
    SPRINTF(cmd, "cd / && env -u MYOBENCH_SPECS %s/bin/myobench convert auto %s -o %s/a.h5 --no-progress 2>%s/e2",
            dir, tu_real("kaufmann_multiday"), dir, dir);
    cr_assert_eq(system(cmd), 0, "convert auto from a copy of the binary");
    SPRINTF(p, "%s/a.h5", dir);
    struct mbh5_file *f = open_valid(p);
    cr_assert_str_eq(f->corpus.name, "kaufmann-multiday");
    cr_assert(strstr(f->corpus.params_json, "\"spec_file\":\"kaufmann_multiday.yaml\""), "%s", f->corpus.params_json);
    mbh5_close(f);
    SPRINTF(cmd, "rm -rf %s/bin", dir);
    cr_assert_eq(system(cmd), 0);
}

Test(conv_spec, files_the_pattern_ignores_are_counted_in_a_warning, .timeout = 60)
{
    TU_NEED_REAL("kaufmann_multiday");
    char dir[64], args[1024], want[512], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    /* the real folder holds SOURCE.txt beside the 22 recordings */
    SPRINTF(args, "convert spec kaufmann_multiday %s -o %s/k.h5 --limit-subjects 1 --no-progress",
            tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    SPRINTF(want, "warning: 1 file in '%s' did not match the pattern of 'converters/specs/kaufmann_multiday.yaml' "
            "and was ignored, e.g. 'SOURCE.txt'", tu_real("kaufmann_multiday"));
    cr_assert(strstr(err, want), "%s", err);
    free(out); free(err);
}

/* stderr is a file here, not a terminal: progress is still shown, as
 * lines (the first after one file, with an ETA; the last with the total). */
Test(conv_spec, convert_prints_progress_with_an_eta_off_a_terminal, .timeout = 60)
{
    TU_NEED_REAL("kaufmann_multiday");
    char dir[64], args[1024], *out, *err;
    tu_tmpdir(dir, sizeof dir);
    SPRINTF(args, "convert spec kaufmann_multiday %s -o %s/k.h5 -j 1", tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    cr_assert(strstr(err, "myobench: convert spec: 1/22 files, ") && strstr(err, " elapsed, ETA "), "%s", err);
    cr_assert(strstr(err, "myobench: convert spec: 22/22 files in "), "%s", err);
    cr_assert(!strchr(err, '\r'), "no carriage returns in a log: %s", err);
    free(out); free(err);
    /* --no-progress silences it */
    SPRINTF(args, "convert spec kaufmann_multiday %s -o %s/k2.h5 --no-progress", tu_real("kaufmann_multiday"), dir);
    cr_assert_eq(tu_run(&out, &err, args), 0, "%s", err);
    cr_assert(!strstr(err, "/22 files") && !strstr(err, "ETA"), "%s", err);
    free(out); free(err);
}

Test(conv_spec, convert_help_lists_the_shipped_specs, .timeout = 30)
{
    char *out, *err;
    cr_assert_eq(tu_run(&out, &err, "convert --help"), 0);
    for (size_t i = 0; conv_spec_shipped(i); i++) {
        char want[128];
        SPRINTF(want, "\n  %-19s ", conv_spec_shipped(i)->name);
        cr_assert(strstr(out, want), "'%s' listed: %s", conv_spec_shipped(i)->name, out);
    }
    cr_assert(strstr(out, "myo-readings-dataset (aljazfrancic)") && strstr(out, "never chosen by auto"), "%s", out);
    free(out); free(err);
}

/* ---- MAT and HDF5 containers -------------------------------------------- */

#define MAT_SPEC \
    "name: matty\n" \
    "files: {pattern: '^s(?<subject>\\d+)/S\\d+_E(?<session>\\d)\\.mat$'}\n" \
    "format: {type: mat, emg: emg, label: restimulus}\n" \
    "columns: {emg: 1..2}\n" \
    "sampling: {rate_hz: 100}\n" \
    "values: {type: float, units: V, scale: 1}\n" \
    "labels: {unlabelled: 0, map: {1: one, 2: two}}\n" \
    "device: {name: box, channels: 2}\n"

/* s1/S1_E1.mat: emg [n x 3] (column-major as MATLAB stores it), channel c
 * of sample i = 10 i + c; restimulus [nl x 1] = i % 3. */
static void write_mat(const char *path, size_t n, size_t nl, int with_emg)
{
    mat_t *m = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    cr_assert_not_null(m, "cannot create %s", path);
    double *e = malloc(n * 3 * sizeof *e), *l = malloc(nl * sizeof *l);
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < 3; c++)
            e[i + c * n] = 10.0 * (double)i + (double)c;
    for (size_t i = 0; i < nl; i++)
        l[i] = (double)(i % 3);
    size_t de[2] = { n, 3 }, dl[2] = { nl, 1 };
    matvar_t *ve = Mat_VarCreate(with_emg ? "emg" : "EMG", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, de, e, 0);
    matvar_t *vl = Mat_VarCreate("restimulus", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dl, l, 0);
    cr_assert_eq(Mat_VarWrite(m, ve, MAT_COMPRESSION_ZLIB), 0);
    cr_assert_eq(Mat_VarWrite(m, vl, MAT_COMPRESSION_ZLIB), 0);
    Mat_VarFree(ve);
    Mat_VarFree(vl);
    Mat_Close(m);
    free(e);
    free(l);
}

static void truncate_copy(const char *dst, const char *src, double frac)
{
    FILE *in = fopen(src, "rb");
    fseek(in, 0, SEEK_END);
    long n = ftell(in);
    fseek(in, 0, SEEK_SET);
    char *b = malloc((size_t)n);
    cr_assert_eq(fread(b, 1, (size_t)n, in), (size_t)n);
    fclose(in);
    FILE *out = fopen(dst, "wb");
    fwrite(b, 1, (size_t)((double)n * frac), out);
    fclose(out);
    free(b);
}

static void make_dirs(char *src, size_t cap, const char *dir)
{
    snprintf(src, cap, "%s/src", dir);
    mkdir(src, 0777);
    char p[256];
    snprintf(p, sizeof p, "%s/s1", src);
    mkdir(p, 0777);
}

Test(conv_spec, mat_variables_convert_with_channel_selection_and_truncation_warning, .timeout = 30)
{
    char dir[64], src[128], p[256], spec[256], out[256];
    tu_tmpdir(dir, sizeof dir);
    make_dirs(src, sizeof src, dir);
    snprintf(p, sizeof p, "%s/s1/S1_E1.mat", src);
    write_mat(p, 50, 45, 1);
    snprintf(spec, sizeof spec, "%s/mat.yaml", dir);
    write_text(spec, MAT_SPEC);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    mb_log_set_level(MB_LOG_ERROR);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec, src, out, 1, 0, 0, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_warnings, 1, "emg 50 vs labels 45");
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->recordings[0].n_samples, 45, "truncated to the shorter");
    cr_assert_eq(f->recordings[0].info.n_channels, 2);
    float e[45 * 2];
    int32_t l[45];
    cr_assert_eq(mbh5_read_emg(f, 0, 0, 45, e), MB_OK);
    cr_assert_eq(mbh5_read_labels(f, 0, 0, 45, l, NULL), MB_OK);
    for (size_t i = 0; i < 45; i++) {
        cr_assert_eq(e[i * 2], 10.0f * (float)i + 1, "channel 1 is the first selected");
        cr_assert_eq(e[i * 2 + 1], 10.0f * (float)i + 2);
        cr_assert_eq(l[i], i % 3 == 0 ? -1 : (int32_t)(i % 3));
    }
    int noted = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        noted |= strstr(f->notes[i], "truncated to the shortest, 45") != NULL;
    cr_assert(noted, "the truncation is a note in the file");
    mbh5_close(f);
}

/* Was: labels of 100 samples for 1,000 of EMG cut the recording to 100,
 * with a warning only (whose text also ran the label's name into its
 * length). More than 0.1 % (at least 10 samples) lost is now an error
 * unless --allow-truncation. */
Test(conv_spec, mat_vectors_of_very_different_lengths_are_an_error_unless_allowed, .timeout = 30)
{
    char dir[64], src[128], p[256], spec[256], out[256];
    tu_tmpdir(dir, sizeof dir);
    make_dirs(src, sizeof src, dir);
    snprintf(p, sizeof p, "%s/s1/S1_E1.mat", src);
    write_mat(p, 1000, 100, 1);
    snprintf(spec, sizeof spec, "%s/mat.yaml", dir);
    write_text(spec, MAT_SPEC);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    mb_log_set_level(MB_LOG_QUIET);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec, src, out, 1, 0, 0, &res), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'emg' has 1000 samples, 'restimulus' 100: cutting to the shortest (100) "
                     "would drop 900 samples (90.0 % of the recording); use --allow-truncation"),
              "%s", mb_last_error());
    cr_assert_neq(access(out, F_OK), 0);
    const struct mb_converter *c = mb_converter_find("spec");
    struct conv_spec_opts so = { .spec = spec, .allow_truncation = 1 };
    struct mb_convert_opts o = { .src = src, .out = out, .threads = 1, .conv_opts = &so };
    memset(&res, 0, sizeof res);
    cr_assert_eq(c->convert(&o, &res), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f = open_valid(out);
    cr_assert_eq(f->recordings[0].n_samples, 100);
    int noted = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        noted |= strstr(f->notes[i], "'emg' has 1000 samples, 'restimulus' 100; truncated to the shortest, 100 "
                                     "(--allow-truncation)") != NULL;
    cr_assert(noted, "the cut is noted, with the flag that allowed it");
    mbh5_close(f);
}

Test(conv_spec, mat_errors_name_the_file_and_the_variable, .timeout = 30)
{
    char dir[64], p[256], bad[256];
    tu_tmpdir(dir, sizeof dir);
    struct spec *s = parse_ok(MAT_SPEC);
    struct spec_table t;
    mb_log_set_level(MB_LOG_QUIET);
    /* without 'emg' */
    snprintf(p, sizeof p, "%s/noemg.mat", dir);
    write_mat(p, 10, 10, 0);
    cr_assert_eq(spec_read_file(&t, s, p, &no_opts), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "noemg.mat': no variable 'emg'") && strstr(mb_last_error(), "'EMG'"), "%s",
              mb_last_error());
    /* truncated */
    snprintf(p, sizeof p, "%s/ok.mat", dir);
    write_mat(p, 2000, 2000, 1);
    for (double frac = 0.05; frac < 1; frac += 0.3) {
        snprintf(bad, sizeof bad, "%s/cut.mat", dir);
        truncate_copy(bad, p, frac);
        int rc = spec_read_file(&t, s, bad, &no_opts);
        cr_assert_eq(rc, MB_EMAT, "truncated at %.0f%%: %d %s", frac * 100, rc, mb_last_error());
        cr_assert(strstr(mb_last_error(), "cut.mat'"), "%s", mb_last_error());
    }
    /* not a MAT file at all, and an empty one */
    snprintf(bad, sizeof bad, "%s/text.mat", dir);
    write_text(bad, "1,2,3\n");
    cr_assert_eq(spec_read_file(&t, s, bad, &no_opts), MB_EMAT);
    cr_assert(strstr(mb_last_error(), "text.mat'"), "%s", mb_last_error());
    snprintf(bad, sizeof bad, "%s/empty.mat", dir);
    write_text(bad, "");
    cr_assert_eq(spec_read_file(&t, s, bad, &no_opts), MB_EMAT);
    /* a label outside the map names the sample */
    spec_free(s);
    s = parse_ok("name: m\nfiles: {pattern: '(?<subject>x)'}\nformat: {type: mat, emg: emg, label: restimulus}\n"
                 "sampling: {rate_hz: 1}\nvalues: {type: float, units: V}\nlabels: {map: {0: rest, 1: one}}\n"
                 "device: {name: d}\n");
    cr_assert_eq(spec_read_file(&t, s, p, &no_opts), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "ok.mat' sample 3: label '2' in 'restimulus'"), "%s", mb_last_error());
    spec_free(s);
}

#define H5_SPEC \
    "name: h5\n" \
    "files: {pattern: '^s(?<subject>\\d+)/rec_(?<repetition>\\d+)\\.h5$'}\n" \
    "format: {type: hdf5, emg: /data/emg, label: /data/labels, orientation: channels_by_samples}\n" \
    "sampling: {rate_hz: 2000}\n" \
    "values: {type: int, units: counts, scale: 1e-6}\n" \
    "labels: {map: identity}\n" \
    "device: {name: amp, channels: 3, adc_bits: 16, hw_filters: 20-450 Hz band-pass, power_line_hz: 50}\n"

/* /data/emg [3 x n] int16 (channels by samples), /data/labels [n] int32. */
static void write_h5(const char *path, size_t n)
{
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int16_t *e = malloc(3 * n * sizeof *e);
    int32_t *l = malloc(n * sizeof *l);
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < 3; c++)
            e[c * n + i] = (int16_t)(i * 3 + c);
        l[i] = (int32_t)(i / 10);
    }
    hsize_t de[2] = { 3, n }, dl[1] = { n };
    hid_t se = H5Screate_simple(2, de, NULL), sl = H5Screate_simple(1, dl, NULL);
    hid_t a = H5Dcreate2(g, "emg", H5T_STD_I16LE, se, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t b = H5Dcreate2(g, "labels", H5T_STD_I32LE, sl, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(a, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, e);
    H5Dwrite(b, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, l);
    H5Dclose(a);
    H5Dclose(b);
    H5Sclose(se);
    H5Sclose(sl);
    H5Gclose(g);
    H5Fclose(f);
    free(e);
    free(l);
}

Test(conv_spec, hdf5_datasets_convert_channels_by_samples_with_repetitions, .timeout = 30)
{
    char dir[64], src[128], p[256], spec[256], out[256];
    tu_tmpdir(dir, sizeof dir);
    make_dirs(src, sizeof src, dir);
    snprintf(p, sizeof p, "%s/s1/rec_2.h5", src);
    write_h5(p, 40);
    snprintf(spec, sizeof spec, "%s/h5.yaml", dir);
    write_text(spec, H5_SPEC);
    snprintf(out, sizeof out, "%s/out.h5", dir);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec, src, out, 2, 0, 0, &res), MB_OK, "%s", mb_last_error());
    struct mbh5_file *f = open_valid(out);
    const struct mbh5_recording *r = &f->recordings[0];
    cr_assert_eq(r->n_samples, 40);
    cr_assert(r->info.has_repetition);
    cr_assert_eq(f->n_gestures, 4, "labels 0-3 met in the file");
    cr_assert_eq(f->devices[0].scale, 1e-6);
    cr_assert_eq(f->devices[0].adc_bits, 16);
    cr_assert_str_eq(f->devices[0].hw_filters, "20-450 Hz band-pass");
    cr_assert_eq(r->n_segments, 4);
    cr_assert_eq(r->segments[3].gesture, 3);
    cr_assert_eq(r->segments[3].repetition, 2, "repetition from the file name");
    float e[40 * 3];
    cr_assert_eq(mbh5_read_emg(f, 0, 0, 40, e), MB_OK);
    for (size_t i = 0; i < 40 * 3; i++)
        cr_assert_eq(e[i], (float)i, "sample-major order after transposing");
    mbh5_close(f);
    /* a truncated copy, and a missing dataset, are errors naming the file */
    struct spec *s = parse_ok(H5_SPEC);
    struct spec_table t;
    char bad[256];
    snprintf(bad, sizeof bad, "%s/cut.h5", dir);
    truncate_copy(bad, p, 0.5);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(spec_read_file(&t, s, bad, &no_opts), MB_EH5);
    cr_assert(strstr(mb_last_error(), "cut.h5'"), "%s", mb_last_error());
    spec_free(s);
    s = parse_ok("name: h\nfiles: {pattern: '(?<subject>x)'}\nformat: {type: hdf5, emg: /nope}\n"
                 "sampling: {rate_hz: 1}\nvalues: {type: float, units: V}\ndevice: {name: d}\n");
    cr_assert_eq(spec_read_file(&t, s, p, &no_opts), MB_EH5);
    cr_assert(strstr(mb_last_error(), "rec_2.h5': no dataset '/nope'"), "%s", mb_last_error());
    spec_free(s);
}

/* ---- round trip through the synthetic generator ------------------------ */

#include "synth/synth.h"

/* The unified file holds exactly what the generator rendered: samples,
 * labels (native numbering; UCI 0 -> unlabelled) and identity, through the
 * shipped specs. UCI is resampled onto its 1 kHz grid, where every source
 * row sits on a grid point, so there the values must be exact too. */
Test(conv_spec, synthetic_text_corpora_round_trip_exactly, .timeout = 120)
{
    char dir[64];
    tu_tmpdir(dir, sizeof dir);
    struct synth_params p;
    cr_assert_eq(synth_params_preset(&p, "tiny", 7), MB_OK);
    p.n_subjects = 2;
    p.myo_file_s = 10.0;     /* still two rest/gesture alternations per file */
    p.kauf_file_s = 1.0;
    p.devices = (1u << SYNTH_MYO) | (1u << SYNTH_KAUFMANN) | (1u << SYNTH_UCI);
    cr_assert_eq(synth_write(dir, &p, NULL), MB_OK, "%s", mb_last_error());
    struct synth_file *files;
    size_t nf;
    cr_assert_eq(synth_list(&files, &nf, &p), MB_OK);
    static const struct { enum synth_device dev; const char *spec; } corp[] = {
        { SYNTH_MYO, "myo_readings" }, { SYNTH_KAUFMANN, "kaufmann_multiday" }, { SYNTH_UCI, "uci_gestures" },
    };
    mb_log_set_level(MB_LOG_ERROR);
    for (size_t k = 0; k < 3; k++) {
        const char *folder = synth_device_name(corp[k].dev);
        char src[256], out[256];
        snprintf(src, sizeof src, "%s/%s", dir, folder);
        snprintf(out, sizeof out, "%s/%s.h5", dir, folder);
        struct mb_convert_result res;
        cr_assert_eq(convert("spec", spec_file(corp[k].spec), src, out, 2, 0, 0, &res), MB_OK, "%s: %s", folder,
                     mb_last_error());
        struct mbh5_file *f = open_valid(out);
        size_t seen = 0;
        for (size_t i = 0; i < nf; i++) {
            if (files[i].dev != corp[k].dev)
                continue;
            seen++;
            const char *rel = files[i].relpath + strlen(folder) + 1;
            int ri = recording_of(f, rel);
            cr_assert_geq(ri, 0, "%s: no recording for '%s'", folder, rel);
            const struct mbh5_recording *rec = &f->recordings[ri];
            struct synth_recording r;
            cr_assert_eq(synth_render(&r, &p, &files[i]), MB_OK);
            size_t C = (size_t)r.n_channels;
            cr_assert_eq(rec->info.n_channels, r.n_channels);
            if (corp[k].dev == SYNTH_KAUFMANN)
                cr_assert_eq(rec->info.day, r.day);
            if (corp[k].dev == SYNTH_MYO)
                cr_assert_str_eq(rec->info.side, r.side);
            float *emg = malloc(rec->n_samples * C * sizeof *emg);
            int32_t *lab = malloc(rec->n_samples * sizeof *lab);
            cr_assert_eq(mbh5_read_emg(f, (size_t)ri, 0, rec->n_samples, emg), MB_OK);
            cr_assert_eq(mbh5_read_labels(f, (size_t)ri, 0, rec->n_samples, lab, NULL), MB_OK);
            if (r.time)
                cr_assert_eq(rec->n_samples, (size_t)(r.time[r.n - 1] - r.time[0]) + 1);
            else
                cr_assert_eq(rec->n_samples, r.n, "%s: %zu vs %zu", rel, rec->n_samples, r.n);
            for (size_t s = 0; s < r.n; s++) {
                size_t g = r.time ? (size_t)(r.time[s] - r.time[0]) : s;   /* grid row of source row s */
                int32_t want = r.unlabelled != SYNTH_NO_UNLABELLED && r.label[s] == r.unlabelled ? -1 : r.label[s];
                cr_assert_eq(lab[g], want, "%s row %zu: label %d, rendered %d", rel, s, lab[g], want);
                for (size_t c = 0; c < C; c++)
                    cr_assert_eq(emg[g * C + c], (float)r.emg[s * C + c], "%s row %zu ch %zu", rel, s, c);
            }
            free(emg);
            free(lab);
            synth_recording_free(&r);
        }
        cr_assert_eq(f->n_recordings, seen, "%s: one recording per file", folder);
        mbh5_close(f);
    }
    free(files);
}

Test(conv_spec, a_clock_jump_in_the_time_column_is_an_error_not_millions_of_samples)
{
    struct spec *s = time_spec("");
    struct spec_table t;
    cr_assert_eq(read_text(&t, s, "0,1,0\n1,2,0\n2,3,0\n3,4,0\n100000000,5,0\n", NULL), MB_OK);
    mb_log_set_level(MB_LOG_QUIET);
    cr_assert_eq(spec_regularise(&t, s, "data.csv"), MB_EFORMAT);
    cr_assert(strstr(mb_last_error(), "'data.csv'") && strstr(mb_last_error(), "jump"), "%s", mb_last_error());
    spec_table_release(&t);
    spec_free(s);
}

Test(conv_spec, nonfinite_samples_fail_the_conversion_unless_allowed_then_are_noted, .timeout = 30)
{
    char dir[64], src[128], p[256], out[256];
    tu_tmpdir(dir, sizeof dir);
    snprintf(src, sizeof src, "%s/src", dir);
    mkdir(src, 0777);
    snprintf(p, sizeof p, "%s/S0_D1_C3.csv", src);
    write_text(p, "1.0 2.0 3.0 4.0\n5.0 nan 7.0 8.0\n9.0 1.0 -inf 2.0\n");
    snprintf(out, sizeof out, "%s/out.h5", dir);
    mb_log_set_level(MB_LOG_QUIET);
    struct mb_convert_result res;
    cr_assert_eq(convert("spec", spec_file("kaufmann_multiday"), src, out, 1, 0, 0, &res), MB_ENUM);
    cr_assert(strstr(mb_last_error(), "S0_D1_C3.csv' line 2 column 2: non-finite sample 'nan'"), "%s",
              mb_last_error());
    cr_assert_eq(mb_fs_is_file(out), 0);
    const struct mb_converter *c = mb_converter_find("spec");
    struct conv_spec_opts so = { .spec = spec_file("kaufmann_multiday") };
    struct mb_convert_opts o = { .src = src, .out = out, .threads = 1, .allow_nonfinite = 1, .conv_opts = &so };
    memset(&res, 0, sizeof res);
    cr_assert_eq(c->convert(&o, &res), MB_OK, "%s", mb_last_error());
    cr_assert_eq(res.n_warnings, 1);
    struct mbh5_file *f = NULL;
    cr_assert_eq(mbh5_open(&f, out), MB_OK);
    int noted = 0;
    for (size_t i = 0; i < f->n_notes; i++)
        noted |= strstr(f->notes[i], "'S0_D1_C3.csv': 2 non-finite samples kept") != NULL;
    cr_assert(noted, "the kept samples are noted, with the file relative to the source folder");
    float e[12];
    cr_assert_eq(mbh5_read_emg(f, 0, 0, 3, e), MB_OK);
    cr_assert(isnan(e[5]) && isinf(e[10]));
    mbh5_close(f);
    cr_assert_gt(mbh5_validate(out, NULL), 0, "validation still flags them");
}
