/* core/params.c - see params.h. */
#include "core/params.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

size_t mb_params_count(const struct mb_param *t)
{
    size_t n = 0;
    while (t && t[n].key)
        n++;
    return n;
}

static void put(void *vals, const struct mb_param *p, double x)
{
    char *at = (char *)vals + p->off;
    switch (p->type) {
    case MB_PT_INT:  *(long *)(void *)at = (long)x; break;
    case MB_PT_REAL: *(double *)(void *)at = x; break;
    case MB_PT_BOOL: *(int *)(void *)at = x != 0; break;
    }
}

static double get(const void *vals, const struct mb_param *p)
{
    const char *at = (const char *)vals + p->off;
    switch (p->type) {
    case MB_PT_INT:  return (double)*(const long *)(const void *)at;
    case MB_PT_REAL: return *(const double *)(const void *)at;
    case MB_PT_BOOL: return *(const int *)(const void *)at;
    }
    return NAN;
}

void mb_params_defaults(void *vals, const struct mb_param *t)
{
    for (size_t k = 0; t && t[k].key; k++)
        put(vals, &t[k], t[k].def);
}

/* [b, e) without surrounding spaces. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && isspace((unsigned char)**b))
        (*b)++;
    while (*e > *b && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

static int eq(const char *b, const char *e, const char *word)
{
    size_t n = (size_t)(e - b);
    return strlen(word) == n && !memcmp(b, word, n);
}

static void known_keys(char *buf, size_t cap, const struct mb_param *t)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t k = 0; t && t[k].key && off < cap; k++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", k ? ", " : "", t[k].key);
    if (!buf[0])
        snprintf(buf, cap, "none");
}

static const char *type_word(const struct mb_param *p)
{
    return p->type == MB_PT_INT ? "an integer" : p->type == MB_PT_BOOL ? "0 or 1" : "a number";
}

int mb_params_parse(void *vals, const struct mb_param *t, const char *text, const char *owner)
{
    mb_params_defaults(vals, t);
    size_t n = mb_params_count(t);
    unsigned char *seen = calloc(n + 1, 1);
    if (!seen)
        return mb_error(MB_ENOMEM, "%s: out of memory parsing parameters", owner);
    int rc = MB_OK;
    const char *s = text ? text : "";
    const char *all_b = s, *all_e = s + strlen(s);
    trim(&all_b, &all_e);
    while (all_b < all_e) {
        const char *end = strchr(s, ',');
        if (!end)
            end = s + strlen(s);
        const char *eqp = memchr(s, '=', (size_t)(end - s));
        const char *kb = s, *ke = eqp ? eqp : end, *vb = eqp ? eqp + 1 : end, *ve = end;
        trim(&kb, &ke);
        trim(&vb, &ve);
        int keylen = (int)(ke - kb), vlen = (int)(ve - vb);
        if (!eqp) {
            rc = keylen ? mb_error(MB_EINVAL, "%s: parameter '%.*s' has no '=value' (in '%s')", owner, keylen, kb, text)
                        : mb_error(MB_EINVAL, "%s: empty item in parameters '%s'", owner, text);
            break;
        }
        size_t k = 0;
        while (k < n && !eq(kb, ke, t[k].key))
            k++;
        if (k == n) {
            char kn[1024];
            known_keys(kn, sizeof kn, t);
            rc = mb_error(MB_EINVAL, "%s: unknown parameter '%.*s' (known: %s)", owner, keylen, kb, kn);
            break;
        }
        const struct mb_param *p = &t[k];
        if (seen[k]) {
            rc = mb_error(MB_EINVAL, "%s: parameter '%s' given twice", owner, p->key);
            break;
        }
        seen[k] = 1;
        double x = NAN;
        int ok;
        if (p->type == MB_PT_REAL && p->word && eq(vb, ve, p->word))
            ok = 1;
        else {
            char num[64];
            ok = vlen > 0 && (size_t)vlen < sizeof num;
            if (ok) {
                memcpy(num, vb, (size_t)vlen);
                num[vlen] = '\0';
                char *e = NULL;
                x = strtod(num, &e);
                ok = e && *e == '\0' && isfinite(x) && x >= p->lo && x <= p->hi;
                if (ok && p->type != MB_PT_REAL)
                    ok = x == floor(x) && (p->type != MB_PT_BOOL || x == 0 || x == 1);
            }
        }
        if (!ok) {
            if (p->type == MB_PT_BOOL)
                rc = mb_error(MB_EINVAL, "%s: parameter '%s': '%.*s' is not 0 or 1", owner, p->key, vlen, vb);
            else
                rc = mb_error(MB_EINVAL, "%s: parameter '%s': '%.*s' is not %s in [%g, %g]%s%s%s", owner, p->key,
                              vlen, vb, type_word(p), p->lo, p->hi, p->word ? " or '" : "", p->word ? p->word : "",
                              p->word ? "'" : "");
            break;
        }
        put(vals, p, x);
        if (!*end)
            break;
        s = end + 1;
    }
    free(seen);
    if (rc)
        mb_params_defaults(vals, t);
    return rc;
}

/* Shortest text that reads back to x: plain decimals for magnitudes people
 * write that way (100, 0.05, 1000000), %g's exponent only outside them
 * (1e-07, 1e+20). This text is part of job keys: changing it changes keys. */
static void real_text(char *buf, size_t cap, double x)
{
    double a = fabs(x);
    if (x == 0 || (a >= 1e-4 && a < 1e15))
        for (int dec = 0; dec <= 17; dec++) {
            snprintf(buf, cap, "%.*f", dec, x);
            if (strtod(buf, NULL) == x)
                return;
        }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

size_t mb_params_text(char *buf, size_t cap, const struct mb_param *t, const void *vals)
{
    size_t len = 0;
    if (cap)
        buf[0] = '\0';
    for (size_t k = 0; t && t[k].key; k++) {
        char v[64];
        double x = get(vals, &t[k]);
        if (t[k].type == MB_PT_REAL && isnan(x))
            snprintf(v, sizeof v, "%s", t[k].word ? t[k].word : "nan");
        else if (t[k].type == MB_PT_REAL)
            real_text(v, sizeof v, x);
        else
            snprintf(v, sizeof v, "%ld", (long)x);
        int w = snprintf(len < cap ? buf + len : NULL, len < cap ? cap - len : 0, "%s%s=%s", k ? "," : "",
                         t[k].key, v);
        len += (size_t)w;
    }
    return len;
}

char *mb_params_text_dup(const struct mb_param *t, const void *vals)
{
    size_t n = mb_params_text(NULL, 0, t, vals);
    char *s = malloc(n + 1);
    if (!s) {
        mb_error(MB_ENOMEM, "out of memory for a parameter text of %zu bytes", n);
        return NULL;
    }
    mb_params_text(s, n + 1, t, vals);
    return s;
}

void mb_params_print(FILE *f, const struct mb_param *t)
{
    if (!mb_params_count(t)) {
        fprintf(f, "  (no parameters)\n");
        return;
    }
    size_t wk = 3, wr = 5, wd = 7;
    char (*r)[96] = calloc(mb_params_count(t), sizeof *r);
    char (*d)[48] = calloc(mb_params_count(t), sizeof *d);
    if (!r || !d) {
        free(r);
        free(d);
        return;
    }
    for (size_t k = 0; t[k].key; k++) {
        const struct mb_param *p = &t[k];
        if (p->type == MB_PT_BOOL)
            snprintf(r[k], sizeof r[k], "bool");
        else if (p->type == MB_PT_INT)
            snprintf(r[k], sizeof r[k], "int %.0f..%.0f", p->lo, p->hi);
        else
            snprintf(r[k], sizeof r[k], "real %g..%g%s%s", p->lo, p->hi, p->word ? " or " : "", p->word ? p->word : "");
        if (p->type == MB_PT_REAL && isnan(p->def))
            snprintf(d[k], sizeof d[k], "%s", p->word ? p->word : "nan");
        else if (p->type == MB_PT_REAL)
            real_text(d[k], sizeof d[k], p->def);
        else
            snprintf(d[k], sizeof d[k], "%ld", (long)p->def);
        size_t l = strlen(p->key);
        wk = l > wk ? l : wk;
        wr = strlen(r[k]) > wr ? strlen(r[k]) : wr;
        wd = strlen(d[k]) > wd ? strlen(d[k]) : wd;
    }
    fprintf(f, "  %-*s  %-*s  %-*s  %s\n", (int)wk, "key", (int)wr, "type", (int)wd, "default", "meaning");
    for (size_t k = 0; t[k].key; k++)
        fprintf(f, "  %-*s  %-*s  %-*s  %s\n", (int)wk, t[k].key, (int)wr, r[k], (int)wd, d[k],
                t[k].doc ? t[k].doc : "");
    free(r);
    free(d);
}
