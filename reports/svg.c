/* reports/svg.c - SVG figures (see svg.h). */
#include "reports/svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/fmt.h"

#define FONT "font-family=\"DejaVu Sans, Arial, sans-serif\""

static void put_xml(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void svg_open(FILE *f, double w, double h)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.2f\" height=\"%.2f\" "
            "viewBox=\"0 0 %.2f %.2f\" " FONT " font-size=\"12\">\n", w, h, w, h);
    fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%.2f\" height=\"%.2f\" fill=\"white\"/>\n", w, h);
}

static void block_title(FILE *f, const struct rep_analysis *a, size_t b, size_t k)
{
    const struct rep_cube *c = a->cube;
    if (b == REP_NONE) {
        fprintf(f, "%zu complete blocks pooled", a->pooled[k].n_blocks_used);
    } else {
        put_xml(f, c->block[b].dataset);
        fputs(" / ", f);
        put_xml(f, c->block[b].protocol);
    }
    fputs(": ", f);
    put_xml(f, c->metric[k].label);
}

/* ---- critical-difference diagram --------------------------------------------- */

struct ranked { size_t i; double r; };   /* index into the design, mean rank */

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->r != y->r)
        return x->r < y->r ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

int rep_write_cd_svg(const char *path, const struct rep_analysis *a, size_t b, size_t k)
{
    const struct rep_cube *c = a->cube;
    if (k >= c->n_metrics || (b != REP_NONE && b >= c->n_blocks))
        return mb_error(MB_EINVAL, "'%s': block %zu, metric %zu out of range", path, b, k);
    const struct rep_design *d = b == REP_NONE ? &a->pooled[k].d : &rep_column_at(a, b, k)->d;
    if (!d->valid)
        return mb_error(MB_EINVAL, "'%s': fewer than two ranked methods with results for metric '%s'",
                        path, c->metric[k].name);
    size_t K = d->k;
    struct ranked *o = malloc(K * sizeof *o);        /* [K] methods in rank order */
    size_t *clq = malloc(2 * K * sizeof *clq);       /* [K x 2] clique [first, last] in rank order */
    if (!o || !clq) {
        free(o), free(clq);
        return mb_error(MB_ENOMEM, "'%s': %zu methods", path, K);
    }
    for (size_t i = 0; i < K; i++)
        o[i] = (struct ranked){ i, d->avg_rank[i] };
    qsort(o, K, sizeof *o, cmp_ranked);

    /* maximal runs [i, j] in rank order whose pairs are all non-significant */
    size_t nclq = 0, last = 0;
    for (size_t i = 0; i < K; i++) {
        size_t j = i;
        for (size_t t = i + 1; t < K; t++) {
            int ok = 1;
            for (size_t s = i; s < t && ok; s++)
                ok = d->p_pair_holm[o[s].i * K + o[t].i] >= a->opts.alpha;
            if (!ok)
                break;
            j = t;
        }
        if (j > i && (nclq == 0 || j > last)) {
            clq[2 * nclq] = i;
            clq[2 * nclq + 1] = j;
            nclq++;
            last = j;
        }
    }

    const double W = 720.0, x0 = 200.0, x1 = 520.0, yaxis = 56.0;
    double span = (double)(K - 1);
    size_t nleft = (K + 1) / 2, nright = K - nleft;
    double ylab = yaxis + 14.0 + 8.0 * (double)nclq + 10.0;
    double H = ylab + 18.0 * (double)(nleft > nright ? nleft : nright) + 58.0;
#define XR(r) (x0 + ((r) - 1.0) / span * (x1 - x0))

    struct rep_out out;
    int rc = rep_out_open(&out, path);
    if (rc) {
        free(o), free(clq);
        return rc;
    }
    FILE *f = out.f;
    svg_open(f, W, H);
    fprintf(f, "<text x=\"%.2f\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">", W / 2);
    block_title(f, a, b, k);
    fputs(" - mean rank (1 = best)</text>\n", f);
    fprintf(f, "<g stroke=\"black\" stroke-width=\"1\">\n<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
            x0, yaxis, x1, yaxis);
    for (size_t t = 1; t <= K; t++) {
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", XR((double)t), yaxis - 6,
                XR((double)t), yaxis);
        if (t < K)
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", XR(t + 0.5), yaxis - 3,
                    XR(t + 0.5), yaxis);
    }
    fputs("</g>\n", f);
    for (size_t t = 1; t <= K; t++)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%zu</text>\n", XR((double)t),
                yaxis - 10, t);
    for (size_t q = 0; q < nclq; q++) {
        double y = yaxis + 10.0 + 8.0 * (double)q;
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\" stroke-width=\"4\" "
                "stroke-linecap=\"round\"/>\n", XR(o[clq[2 * q]].r) - 3, y, XR(o[clq[2 * q + 1]].r) + 3, y);
    }
    char num[REP_NUM_CAP];
    for (size_t s = 0; s < K; s++) {
        int left = s < nleft;
        size_t row = left ? s : K - 1 - s;       /* right side: worst on the top row */
        const struct ranked *m = &o[s];
        double x = XR(m->r), y = ylab + 18.0 * (double)row;
        double xe = left ? x0 - 12 : x1 + 12;
        fprintf(f, "<polyline points=\"%.2f,%.2f %.2f,%.2f %.2f,%.2f\" fill=\"none\" stroke=\"black\" "
                "stroke-width=\"1\"/>\n", x, yaxis, x, y, xe, y);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"%s\">", left ? xe - 4 : xe + 4, y + 4,
                left ? "end" : "start");
        put_xml(f, c->method[d->methods[m->i]].name);
        fprintf(f, " (%s)</text>\n", rep_fmt_fixed(num, m->r, 2));
    }
    double yf = H - 40.0;
    fprintf(f, "<text x=\"10\" y=\"%.2f\" font-size=\"10\">Bars join methods not significantly different: "
            "pairwise two-sided Wilcoxon signed-rank tests,</text>\n", yf);
    fprintf(f, "<text x=\"10\" y=\"%.2f\" font-size=\"10\">Holm over all %zu pairs, alpha = %g "
            "(Benavoli, Corani and Mangili 2016).</text>\n", yf + 14, K * (K - 1) / 2, a->opts.alpha);
    char chi[REP_NUM_CAP], pv[REP_NUM_CAP];
    snprintf(pv, sizeof pv, "%.3g", d->fr.p_chi2);
    fprintf(f, "<text x=\"10\" y=\"%.2f\" font-size=\"10\">Friedman chi2 = %s, p = %s; %zu methods, N = %zu %s.</text>\n",
            yf + 28, rep_fmt_fixed(chi, d->fr.chi2, 2), pv, K, d->n_units,
            b == REP_NONE ? "(dataset, subject) units" : "subjects");
    fputs("</svg>\n", f);
#undef XR
    free(o);
    free(clq);
    return rep_out_close(&out);
}

/* ---- strip plot --------------------------------------------------------------------- */

/* Tick step of 1, 2 or 5 times a power of ten giving about five intervals. */
static double nice_step(double range)
{
    double raw = range / 5.0, p = pow(10.0, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

static int tick_decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

int rep_write_strip_svg(const char *path, const struct rep_analysis *a, size_t b, size_t k)
{
    const struct rep_cube *c = a->cube;
    if (b >= c->n_blocks || k >= c->n_metrics)
        return mb_error(MB_EINVAL, "'%s': block %zu, metric %zu out of range", path, b, k);
    const struct rep_metric *mt = &c->metric[k];
    const struct rep_block *bl = &c->block[b];
    double lo = INFINITY, hi = -INFINITY;
    for (size_t m = 0; m < c->n_methods; m++) {
        if (rep_cube_state(c, b, m, k) != REP_VALUE)
            continue;
        const struct rep_cell *ce = rep_cell_at(a, b, k, m);
        const double *v = rep_cube_values(c, b, m, k);
        for (size_t s = 0; s < bl->n_subjects; s++) {
            lo = fmin(lo, v[s] * mt->scale);
            hi = fmax(hi, v[s] * mt->scale);
        }
        lo = fmin(lo, ce->ci_lo * mt->scale);
        hi = fmax(hi, ce->ci_hi * mt->scale);
    }
    if (!isfinite(lo)) {  /* every method n/a or missing: an empty axis */
        lo = 0.0;
        hi = 1.0;
    }
    double range = hi - lo;
    if (range <= 0.0)
        range = fabs(hi) > 0.0 ? fabs(hi) * 0.1 : 1.0;
    double step = nice_step(range);
    double ymin = floor(lo / step + 1e-9) * step, ymax = ceil(hi / step - 1e-9) * step;
    if (ymax <= ymin)
        ymax = ymin + step;
    int td = tick_decimals(step);

    const double colw = 90.0, left = 70.0, top = 40.0, ph = 260.0;
    double W = left + colw * (double)c->n_methods + 20.0, H = top + ph + 110.0;
    double bottom = top + ph;
#define YV(v) (bottom - ((v) - ymin) / (ymax - ymin) * ph)

    struct rep_out out;
    int rc = rep_out_open(&out, path);
    if (rc)
        return rc;
    FILE *f = out.f;
    svg_open(f, W, H);
    fprintf(f, "<text x=\"%.2f\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">", W / 2);
    block_title(f, a, b, k);
    fprintf(f, " - per subject (N = %zu)</text>\n", bl->n_subjects);
    char num[REP_NUM_CAP];
    fputs("<g stroke=\"#cccccc\" stroke-width=\"1\">\n", f);
    for (double t = ymin; t <= ymax + 1e-9 * step; t += step)
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", left, YV(t), W - 20.0, YV(t));
    fputs("</g>\n", f);
    for (double t = ymin; t <= ymax + 1e-9 * step; t += step)
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", left - 6, YV(t) + 4,
                rep_fmt_fixed(num, t, td));
    fprintf(f, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"black\"/>\n", left, top, left, bottom);
    fprintf(f, "<text x=\"16\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 16 %.2f)\">",
            top + ph / 2, top + ph / 2);
    put_xml(f, mt->label);
    fputs("</text>\n", f);

    for (size_t m = 0; m < c->n_methods; m++) {
        double xc = left + colw * ((double)m + 0.5);
        int oracle = (c->method[m].flags & REP_ORACLE) != 0;
        const char *col = oracle ? "#7f7f7f" : "#1f77b4";
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\" transform=\"rotate(-30 %.2f %.2f)\">",
                xc, bottom + 16, xc, bottom + 16);
        put_xml(f, c->method[m].name);
        fputs("</text>\n", f);
        if (rep_cube_state(c, b, m, k) != REP_VALUE) {
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#7f7f7f\">%s</text>\n",
                    xc, top + ph / 2, rep_state_word(rep_cube_state(c, b, m, k)));
            continue;
        }
        const struct rep_cell *ce = rep_cell_at(a, b, k, m);
        const double *v = rep_cube_values(c, b, m, k);
        fprintf(f, "<g fill=\"%s\" fill-opacity=\"0.6\">\n", col);
        for (size_t s = 0; s < bl->n_subjects; s++) {
            /* golden-ratio jitter: spread without a random generator */
            double j = fmod((double)s * 0.6180339887498949, 1.0) - 0.5;
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\"><title>", xc + 36.0 * j, YV(v[s] * mt->scale));
            put_xml(f, bl->subject[s]);
            fprintf(f, ": %s</title></circle>\n", rep_fmt_fixed(num, v[s] * mt->scale, mt->decimals));
        }
        fputs("</g>\n", f);
        double ym = YV(ce->s.mean * mt->scale), yl = YV(ce->ci_lo * mt->scale), yh = YV(ce->ci_hi * mt->scale);
        fprintf(f, "<g stroke=\"black\" stroke-width=\"1.5\">\n"
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n"
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n"
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n"
                "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke-width=\"3\"/>\n</g>\n",
                xc + 28, yl, xc + 28, yh, xc + 24, yl, xc + 32, yl, xc + 24, yh, xc + 32, yh,
                xc - 22, ym, xc + 22, ym);
    }
    fprintf(f, "<text x=\"10\" y=\"%.2f\" font-size=\"10\">Dots: subjects; thick bar: mean; whisker: %g%% "
            "percentile bootstrap CI of the mean.</text>\n", H - 10, 100.0 * a->opts.ci_level);
    fputs("</svg>\n", f);
#undef YV
    return rep_out_close(&out);
}

/* ---- confusion-matrix heatmap ------------------------------------------------------------------ */

int rep_write_confusion_svg(const char *path, const size_t *cm, size_t K,
                            const char *const *class_names, const char *title)
{
    if (K == 0 || K > 200)
        return mb_error(MB_EINVAL, "'%s': %zu classes (need 1..200)", path, K);
    char idx[32];
    size_t maxlen = 1;
    for (size_t i = 0; i < K; i++) {
        size_t l = class_names ? strlen(class_names[i]) : (size_t)snprintf(idx, sizeof idx, "%zu", i);
        if (l > maxlen)
            maxlen = l;
    }
    const double cell = 36.0, lab = 12.0 + 7.0 * (double)(maxlen > 24 ? 24 : maxlen);
    double left = 30.0 + lab, top = 40.0 + lab * 0.75;
    double W = left + cell * (double)K + 20.0, H = top + cell * (double)K + 20.0;

    struct rep_out out;
    int rc = rep_out_open(&out, path);
    if (rc)
        return rc;
    FILE *f = out.f;
    svg_open(f, W, H);
    if (title) {
        fprintf(f, "<text x=\"%.2f\" y=\"18\" text-anchor=\"middle\" font-size=\"13\">", W / 2);
        put_xml(f, title);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"12\" y=\"%.2f\" text-anchor=\"middle\" transform=\"rotate(-90 12 %.2f)\">true</text>\n",
            top + cell * (double)K / 2, top + cell * (double)K / 2);
    fprintf(f, "<text x=\"%.2f\" y=\"34\" text-anchor=\"middle\">predicted</text>\n", left + cell * (double)K / 2);
    for (size_t i = 0; i < K; i++) {
        const char *name = class_names ? class_names[i] : (snprintf(idx, sizeof idx, "%zu", i), idx);
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">", left - 6, top + cell * ((double)i + 0.5) + 4);
        put_xml(f, name);
        fputs("</text>\n", f);
        double xc = left + cell * ((double)i + 0.5), yc = top - 6;
        fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"start\" transform=\"rotate(-45 %.2f %.2f)\">",
                xc, yc, xc, yc);
        put_xml(f, name);
        fputs("</text>\n", f);
    }
    for (size_t i = 0; i < K; i++) {
        double row = 0.0;
        for (size_t j = 0; j < K; j++)
            row += (double)cm[i * K + j];
        for (size_t j = 0; j < K; j++) {
            double v = row > 0.0 ? (double)cm[i * K + j] / row : 0.0;
            /* white to dark blue (#08306b) by the share of the row */
            int r = (int)lround(255.0 - v * (255.0 - 8.0));
            int g = (int)lround(255.0 - v * (255.0 - 48.0));
            int bl = (int)lround(255.0 - v * (255.0 - 107.0));
            double x = left + cell * (double)j, y = top + cell * (double)i;
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#%02x%02x%02x\" "
                    "stroke=\"#dddddd\"><title>%.1f%% of row</title></rect>\n", x, y, cell, cell, r, g, bl,
                    100.0 * v);
            fprintf(f, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"11\" fill=\"%s\">%zu</text>\n",
                    x + cell / 2, y + cell / 2 + 4, v > 0.5 ? "white" : "black", cm[i * K + j]);
        }
    }
    fputs("</svg>\n", f);
    return rep_out_close(&out);
}
