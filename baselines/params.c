/* baselines/params.c - see params.h. */
#include "baselines/params.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 16

/* Copies [b, e) without surrounding spaces into buf (NUL-terminated). */
static void trim_copy(char *buf, size_t cap, const char *b, const char *e)
{
    while (b < e && isspace((unsigned char)*b)) b++;
    while (e > b && isspace((unsigned char)e[-1])) e--;
    size_t len = (size_t)(e - b);
    if (len >= cap) len = cap - 1;
    memcpy(buf, b, len);
    buf[len] = '\0';
}

static void known_keys(char *buf, size_t cap, const struct base_param *spec)
{
    size_t off = 0;
    buf[0] = '\0';
    for (const struct base_param *p = spec; p->key && off < cap; p++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", off ? ", " : "", p->key);
    if (!spec->key) snprintf(buf, cap, "none");
}

int base_params_parse(const char *params, const struct base_param *spec, const char *model)
{
    size_t nspec = 0;
    while (spec[nspec].key) nspec++;
    if (nspec > MAX_KEYS)
        return mb_error(MB_EINVAL, "%s: too many parameter keys in its table (%zu)", model, nspec);
    double val[MAX_KEYS];
    int seen[MAX_KEYS] = { 0 };
    if (!params) params = "";
    /* Values are collected first and stored only when the whole string is
     * valid, so a failed parse leaves the caller's defaults intact. */
    const char *s = params;
    int empty = 1;
    for (const char *t = params; *t; t++) if (!isspace((unsigned char)*t)) empty = 0;
    while (!empty) {
        const char *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        char key[64], v[64];
        trim_copy(key, sizeof key, s, eq ? eq : end);
        if (!eq) {
            if (!key[0])
                return mb_error(MB_EINVAL, "%s: empty item in parameters '%s'", model, params);
            return mb_error(MB_EINVAL, "%s: parameter '%s' has no '=value' (in '%s')", model, key, params);
        }
        trim_copy(v, sizeof v, eq + 1, end);
        size_t k = 0;
        while (k < nspec && strcmp(spec[k].key, key)) k++;
        if (k == nspec) {
            char kn[256];
            known_keys(kn, sizeof kn, spec);
            return mb_error(MB_EINVAL, "%s: unknown parameter '%s' (known: %s)", model, key, kn);
        }
        const struct base_param *p = &spec[k];
        if (seen[k])
            return mb_error(MB_EINVAL, "%s: parameter '%s' given twice", model, key);
        seen[k] = 1;
        if (p->word && !strcmp(v, p->word)) {
            val[k] = NAN;
        } else {
            char *e = NULL;
            double x = v[0] ? strtod(v, &e) : NAN;
            int ok = v[0] && e && *e == '\0' && isfinite(x) && x >= p->lo && x <= p->hi &&
                     (!p->integer || x == floor(x));
            if (!ok)
                return mb_error(MB_EINVAL, "%s: parameter '%s': '%s' is not %s in [%g, %g]%s%s%s", model,
                                key, v, p->integer ? "an integer" : "a number", p->lo, p->hi,
                                p->word ? " or '" : "", p->word ? p->word : "", p->word ? "'" : "");
            val[k] = x;
        }
        if (!*end) break;
        s = end + 1;
    }
    for (size_t k = 0; k < nspec; k++)
        if (seen[k]) *spec[k].val = val[k];
    return MB_OK;
}
