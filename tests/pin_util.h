/* tests/pin_util.h - digests of output trees for the tests that pin a run's
 * files to the bytes an earlier build wrote (tests/test_pins.c, the demo's
 * reports in tests/test_demo.c). A digest is the SHA-256 of sorted lines
 * "<relative path> <SHA-256 of the file>\n": one hash pins a whole folder, and
 * on a mismatch the test prints the lines so the file that changed is named. */
#ifndef MB_TESTS_PIN_UTIL_H
#define MB_TESTS_PIN_UTIL_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fs.h"

/* Sorted lines, built then hashed; every string malloc'ed. */
struct pu_lines {
    char **v;
    size_t n, cap;
};

static inline void pu_add(struct pu_lines *l, const char *rel, const char *hex)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        cr_assert_not_null(l->v);
    }
    size_t m = strlen(rel) + strlen(hex) + 3;
    l->v[l->n] = malloc(m);
    cr_assert_not_null(l->v[l->n]);
    snprintf(l->v[l->n++], m, "%s %s\n", rel, hex);
}

static inline int pu_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines and writes their digest into hex; 'text' (may be NULL)
 * gets the joined lines, malloc'ed, for messages. */
static inline void pu_digest(char hex[65], char **text, struct pu_lines *l)
{
    qsort(l->v, l->n, sizeof *l->v, pu_cmp);
    size_t len = 0;
    for (size_t i = 0; i < l->n; i++)
        len += strlen(l->v[i]);
    char *all = malloc(len + 1);
    cr_assert_not_null(all);
    len = 0;
    for (size_t i = 0; i < l->n; i++) {
        size_t k = strlen(l->v[i]);
        memcpy(all + len, l->v[i], k);
        len += k;
    }
    all[len] = '\0';
    mb_sha256_hex(hex, all, len);
    if (text)
        *text = all;
    else
        free(all);
}

static inline void pu_release(struct pu_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Whole file into a NUL-terminated malloc'ed buffer; *n its length. */
static inline char *pu_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open '%s'", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    cr_assert_geq(len, 0, "'%s'", path);
    char *b = malloc((size_t)len + 1);
    cr_assert_not_null(b);
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    cr_assert_eq(got, (size_t)len, "short read of '%s'", path);
    b[got] = '\0';
    if (n)
        *n = got;
    return b;
}

#endif
