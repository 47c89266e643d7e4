/* cli/cmd_info.c - 'myobench info': what a unified file holds, as a table
 * or (--json) as one JSON object with the same content. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "format/mbh5.h"

static const char *const info_usage[] = {
    "usage: myobench info FILE [--json]",
    "",
    "Summarises a unified HDF5 file: corpus and converter, subjects, sessions,",
    "recordings and hours, devices with rates and channel counts, gestures with",
    "held-out marks and segment counts, split tags with their value counts,",
    "sources, and the conversion notes in full.",
    "",
    "options:",
    "  --json      one JSON object on stdout instead of the table",
    "  -h, --help  this text",
    "",
    "exit status: 0 printed, 1 the file cannot be opened, 2 usage error",
    NULL
};

/* Value counts of one split-tag key, in first-seen order. */
struct tagcount {
    const char *key;
    size_t n;
    const char **values;
    size_t *counts;
};

struct summary {
    size_t n_sessions;
    double hours;
    uint64_t samples;
    uint64_t source_bytes;
    size_t n_held_subjects;
    size_t n_held_gestures;
    size_t *dev_recs;       /* [n_devices] */
    double *dev_hours;      /* [n_devices] */
    size_t *gest_segs;      /* [n_gestures] */
    size_t n_keys;
    struct tagcount *keys;
};

static int summarise(struct summary *s, const struct mbh5_file *f)
{
    memset(s, 0, sizeof *s);
    s->dev_recs = calloc(f->n_devices + 1, sizeof *s->dev_recs);
    s->dev_hours = calloc(f->n_devices + 1, sizeof *s->dev_hours);
    s->gest_segs = calloc(f->n_gestures + 1, sizeof *s->gest_segs);
    /* Every recording's tags: at most sum(n_tags) keys and values. */
    size_t ntags = 0;
    for (size_t i = 0; i < f->n_recordings; i++)
        ntags += f->recordings[i].n_tags;
    s->keys = calloc(ntags + 1, sizeof *s->keys);
    if (!s->dev_recs || !s->dev_hours || !s->gest_segs || !s->keys)
        return -1;
    for (size_t i = 0; i < f->n_sources; i++)
        s->source_bytes += f->sources[i].bytes;
    for (size_t i = 0; i < f->n_subjects; i++)
        s->n_held_subjects += f->subjects[i].held_out == 1;
    for (size_t i = 0; i < f->n_gestures; i++)
        s->n_held_gestures += f->gestures[i].held_out == 1;
    for (size_t i = 0; i < f->n_recordings; i++) {
        const struct mbh5_recording *r = &f->recordings[i];
        double h = (double)r->n_samples / r->info.rate_hz / 3600.0;
        s->hours += h;
        s->samples += r->n_samples;
        s->dev_recs[r->device]++;
        s->dev_hours[r->device] += h;
        /* Sessions are (subject, session) pairs; count first occurrences. */
        size_t j = 0;
        for (; j < i; j++)
            if (f->recordings[j].subject == r->subject && !strcmp(f->recordings[j].info.session, r->info.session))
                break;
        s->n_sessions += j == i;
        for (size_t k = 0; k < r->n_segments; k++) {
            int g = mbh5_gesture_index(f, r->segments[k].gesture);
            if (g >= 0)
                s->gest_segs[g]++;
        }
        for (size_t t = 0; t < r->n_tags; t++) {
            const struct mbh5_tag *tag = &r->tags[t];
            size_t k = 0;
            while (k < s->n_keys && strcmp(s->keys[k].key, tag->key))
                k++;
            struct tagcount *tc = &s->keys[k];
            if (k == s->n_keys) {
                tc->key = tag->key;
                tc->values = calloc(f->n_recordings, sizeof *tc->values);
                tc->counts = calloc(f->n_recordings, sizeof *tc->counts);
                if (!tc->values || !tc->counts)
                    return -1;
                s->n_keys++;
            }
            size_t v = 0;
            while (v < tc->n && strcmp(tc->values[v], tag->value))
                v++;
            if (v == tc->n)
                tc->values[tc->n++] = tag->value;
            tc->counts[v]++;
        }
    }
    return 0;
}

static void summary_release(struct summary *s)
{
    free(s->dev_recs);
    free(s->dev_hours);
    free(s->gest_segs);
    for (size_t k = 0; k < s->n_keys; k++) {
        free(s->keys[k].values);
        free(s->keys[k].counts);
    }
    free(s->keys);
}

static void print_text(const struct mbh5_file *f, const struct summary *s)
{
    const struct mbh5_corpus *c = &f->corpus;
    printf("file        %s\n", f->path);
    printf("corpus      %s (%s%s%s)\n", c->name, c->source_dataset, *c->source_version ? " " : "", c->source_version);
    printf("converter   %s %s; schema %s %d\n", c->converter, c->converter_version, MBH5_SCHEMA_NAME,
           f->schema_version);
    printf("sources     %zu files, %.1f MB\n", f->n_sources, (double)s->source_bytes / 1e6);
    printf("subjects    %zu (%zu held out)\n", f->n_subjects, s->n_held_subjects);
    printf("sessions    %zu\n", s->n_sessions);
    printf("recordings  %zu, %.2f hours, %llu samples\n", f->n_recordings, s->hours, (unsigned long long)s->samples);
    printf("\ndevices\n  %-24s %8s %10s %10s %8s\n", "name", "channels", "rate_hz", "recordings", "hours");
    for (size_t i = 0; i < f->n_devices; i++)
        printf("  %-24s %8d %10g %10zu %8.2f\n", f->devices[i].name, f->devices[i].n_channels, f->devices[i].rate_hz,
               s->dev_recs[i], s->dev_hours[i]);
    printf("\ngestures    %zu (%zu held out, marked *)\n  %6s  %-32s %-32s %8s\n", f->n_gestures, s->n_held_gestures,
           "id", "name", "source_label", "segments");
    for (size_t i = 0; i < f->n_gestures; i++) {
        const struct mbh5_gesture *g = &f->gestures[i];
        printf("  %6d%c %-32s %-32s %8zu\n", (int)g->id, g->held_out == 1 ? '*' : ' ', g->name, g->source_label,
               s->gest_segs[i]);
    }
    printf("\nsplit tags  %zu keys\n", s->n_keys);
    for (size_t k = 0; k < s->n_keys; k++) {
        printf("  %s:", s->keys[k].key);
        /* Tags that identify recordings (pair keys, partner files) have as
         * many values as recordings; their list says nothing at a glance. */
        if (s->keys[k].n > 8) {
            printf(" %zu distinct values (--json lists them)\n", s->keys[k].n);
            continue;
        }
        for (size_t v = 0; v < s->keys[k].n; v++)
            printf("%s %s %zu", v ? "," : "", s->keys[k].values[v], s->keys[k].counts[v]);
        printf("\n");
    }
    /* Notes say what the conversion met or assumed (units, rates, skipped
     * or ignored files): a count alone would hide them. */
    printf("\nnotes       %zu\n", f->n_notes);
    for (size_t i = 0; i < f->n_notes; i++)
        printf("  %zu. %s\n", i + 1, f->notes[i]);
}

/* A JSON string of text; bytes that are not UTF-8 (a source file name in
 * another encoding) become '?' rather than the note being dropped. */
static json_t *json_text(const char *text)
{
    json_t *j = json_string(text);
    if (j)
        return j;
    char *t = strdup(text);
    if (!t)
        return NULL;
    for (char *p = t; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(t);
    free(t);
    return j;
}

static int print_json(const struct mbh5_file *f, const struct summary *s)
{
    const struct mbh5_corpus *c = &f->corpus;
    json_t *o = json_object();
    json_object_set_new(o, "file", json_string(f->path));
    json_object_set_new(o, "schema", json_string(MBH5_SCHEMA_NAME));
    json_object_set_new(o, "schema_version", json_integer(f->schema_version));
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "source_dataset", json_string(c->source_dataset));
    json_object_set_new(o, "source_version", json_string(c->source_version));
    json_object_set_new(o, "converter", json_string(c->converter));
    json_object_set_new(o, "converter_version", json_string(c->converter_version));
    json_object_set_new(o, "n_sources", json_integer((json_int_t)f->n_sources));
    json_object_set_new(o, "source_bytes", json_integer((json_int_t)s->source_bytes));
    json_object_set_new(o, "n_subjects", json_integer((json_int_t)f->n_subjects));
    json_object_set_new(o, "n_held_out_subjects", json_integer((json_int_t)s->n_held_subjects));
    json_object_set_new(o, "n_sessions", json_integer((json_int_t)s->n_sessions));
    json_object_set_new(o, "n_recordings", json_integer((json_int_t)f->n_recordings));
    json_object_set_new(o, "hours", json_real(s->hours));
    json_object_set_new(o, "samples", json_integer((json_int_t)s->samples));
    json_object_set_new(o, "n_notes", json_integer((json_int_t)f->n_notes));
    json_t *notes = json_array();
    for (size_t i = 0; i < f->n_notes; i++)
        json_array_append_new(notes, json_text(f->notes[i]));
    json_object_set_new(o, "notes", notes);
    json_t *devs = json_array();
    for (size_t i = 0; i < f->n_devices; i++) {
        json_t *d = json_object();
        json_object_set_new(d, "name", json_string(f->devices[i].name));
        json_object_set_new(d, "n_channels", json_integer(f->devices[i].n_channels));
        json_object_set_new(d, "rate_hz", json_real(f->devices[i].rate_hz));
        json_object_set_new(d, "recordings", json_integer((json_int_t)s->dev_recs[i]));
        json_object_set_new(d, "hours", json_real(s->dev_hours[i]));
        json_array_append_new(devs, d);
    }
    json_object_set_new(o, "devices", devs);
    json_t *gs = json_array();
    for (size_t i = 0; i < f->n_gestures; i++) {
        const struct mbh5_gesture *g = &f->gestures[i];
        json_t *d = json_object();
        json_object_set_new(d, "id", json_integer(g->id));
        json_object_set_new(d, "name", json_string(g->name));
        json_object_set_new(d, "source_label", json_string(g->source_label));
        json_object_set_new(d, "held_out", json_boolean(g->held_out == 1));
        json_object_set_new(d, "segments", json_integer((json_int_t)s->gest_segs[i]));
        json_array_append_new(gs, d);
    }
    json_object_set_new(o, "gestures", gs);
    json_t *tags = json_object();
    for (size_t k = 0; k < s->n_keys; k++) {
        json_t *vals = json_object();
        for (size_t v = 0; v < s->keys[k].n; v++)
            json_object_set_new(vals, s->keys[k].values[v], json_integer((json_int_t)s->keys[k].counts[v]));
        json_object_set_new(tags, s->keys[k].key, vals);
    }
    json_object_set_new(o, "split_tags", tags);
    int rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    printf("\n");
    json_decref(o);
    return rc;
}

int cmd_info(int argc, char **argv)
{
    static const struct option options[] = {
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'h': return cli_usage(stdout, info_usage, MB_EXIT_OK);
        default:  return cli_usage(stderr, info_usage, MB_EXIT_USAGE);
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "myobench: info: expected one FILE\n");
        return cli_usage(stderr, info_usage, MB_EXIT_USAGE);
    }
    struct mbh5_file *f;
    if (mbh5_open(&f, argv[optind]) != MB_OK)
        return MB_EXIT_FAIL; /* the reason is already on stderr */
    struct summary s;
    int rc = MB_EXIT_OK;
    if (summarise(&s, f)) {
        fprintf(stderr, "myobench: info: out of memory\n");
        rc = MB_EXIT_FAIL;
    } else if (json) {
        if (print_json(f, &s)) {
            fprintf(stderr, "myobench: info: cannot write JSON\n");
            rc = MB_EXIT_FAIL;
        }
    } else
        print_text(f, &s);
    summary_release(&s);
    mbh5_close(f);
    return rc;
}
