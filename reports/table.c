/* reports/table.c - Markdown, LaTeX and CSV writers (see table.h). */
#include "reports/table.h"

#include <math.h>
#include <string.h>

#include "reports/fmt.h"

enum flavour { MD, TEX };

/* ---- escaping ------------------------------------------------------------- */

static void put_md(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_|<>[]", *s))
            fputc('\\', f);
        fputc(*s, f);
    }
}

static void put_tex(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\': fputs("\\textbackslash{}", f); break;
        case '~':  fputs("\\textasciitilde{}", f); break;
        case '^':  fputs("\\textasciicircum{}", f); break;
        case '&': case '%': case '$': case '#': case '_': case '{': case '}':
            fputc('\\', f);
            fputc(*s, f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void put_esc(FILE *f, const char *s, enum flavour fl)
{
    if (fl == TEX)
        put_tex(f, s);
    else
        put_md(f, s);
}

/* ---- shared pieces ------------------------------------------------------------ */

static const struct rep_design *rank_design(const struct rep_analysis *a)
{
    return &a->pooled[a->opts.rank_metric].d;
}

/* Lowest pooled mean rank (bold in the rank column); NaN if none. */
static double best_avg_rank(const struct rep_analysis *a)
{
    const struct rep_design *d = rank_design(a);
    double best = NAN;
    for (size_t i = 0; d->valid && i < d->k; i++)
        if (isnan(best) || d->avg_rank[i] < best)
            best = d->avg_rank[i];
    return best;
}

/* "mean ± std" with marks, then the CI; "n/a" or "missing" for cells without values. */
static void put_cell(FILE *f, const struct rep_analysis *a, size_t b, size_t k, size_t m, enum flavour fl)
{
    const struct rep_cell *ce = rep_cell_at(a, b, k, m);
    const struct rep_metric *mt = &a->cube->metric[k];
    if (ce->state != REP_VALUE) {
        fputs(rep_state_word(ce->state), f);
        return;
    }
    char x[REP_NUM_CAP], y[REP_NUM_CAP];
    int oracle = (a->cube->method[m].flags & REP_ORACLE) != 0;
    const char *open = "", *close = "";
    if (ce->mark & REP_BEST)
        open = fl == TEX ? "\\textbf{" : "**", close = fl == TEX ? "}" : "**";
    else if (ce->mark & REP_SECOND)
        open = fl == TEX ? "\\underline{" : "<ins>", close = fl == TEX ? "}" : "</ins>";
    else if (oracle && fl == TEX)
        open = "\\textit{", close = "}";
    fputs(open, f);
    fputs(rep_fmt_fixed(x, ce->s.mean * mt->scale, mt->decimals), f);
    if ((a->opts.show & REP_SHOW_STD) && isfinite(ce->s.std))
        fprintf(f, "%s%s", fl == TEX ? " $\\pm$ " : " ± ", rep_fmt_fixed(y, ce->s.std * mt->scale, mt->decimals));
    fputs(close, f);
    if (ce->mark & REP_WORSE)
        fputs(fl == TEX ? "$^\\dagger$" : "†", f);
    if (a->opts.show & REP_SHOW_CI) {
        rep_fmt_fixed(x, ce->ci_lo * mt->scale, mt->decimals);
        rep_fmt_fixed(y, ce->ci_hi * mt->scale, mt->decimals);
        fprintf(f, fl == TEX ? " {\\scriptsize [%s, %s]}" : " [%s, %s]", x, y);
    }
}

static void put_rank(FILE *f, const struct rep_analysis *a, size_t m, enum flavour fl)
{
    double r = rep_design_rank(rank_design(a), m);
    if (isnan(r)) {
        fputs(fl == TEX ? "--" : "–", f);
        return;
    }
    char x[REP_NUM_CAP];
    rep_fmt_fixed(x, r, 2);
    if (r == best_avg_rank(a))
        fprintf(f, fl == TEX ? "\\textbf{%s}" : "**%s**", x);
    else
        fputs(x, f);
}

/* Across several blocks, each method against the pooled reference (lowest average
 * rank): Stouffer's weighted Z over the blocks' one-sided Wilcoxon p-values, so a
 * paper can say whether a method is worse across datasets, not only within each. */
static void put_stouffer(FILE *f, const struct rep_analysis *a, enum flavour fl)
{
    const struct rep_cube *c = a->cube;
    const struct rep_pooled *po = &a->pooled[a->opts.rank_metric];
    if (c->n_blocks < 2 || po->reference == REP_NONE)
        return;
    int tex = fl == TEX, any = 0;
    if (po->shared_subjects) {
        fputs("Across blocks: not combined (Stouffer's Z needs independent blocks, and some blocks "
              "share a dataset's subjects; the per-protocol tables combine datasets). ", f);
        return;
    }
    for (size_t m = 0; m < c->n_methods; m++) {
        const struct rep_meta *me = &po->meta[m];
        if (m == po->reference || me->n_blocks < 2 || isnan(me->z))
            continue;
        char z[REP_NUM_CAP], p[REP_NUM_CAP];
        if (!any) {
            fputs("Across blocks (Stouffer's weighted Z, weights ", f);
            fputs(tex ? "$\\sqrt{N}$" : "√N", f);
            fputs(", of one-sided Wilcoxon mid-p values of ", f);
            put_esc(f, c->metric[a->opts.rank_metric].label, fl);
            fputs(" against ", f);
            put_esc(f, c->method[po->reference].name, fl);
            fputs(", the method of lowest average rank): ", f);
        }
        fputs(any ? "; " : "", f);
        put_esc(f, c->method[m].name, fl);
        if (me->p < 0.001)
            snprintf(p, sizeof p, tex ? "<0.001" : "< 0.001");
        else
            rep_fmt_fixed(p, me->p, 3);
        fprintf(f, tex ? " $Z=%s$, $p%s%s$ (%zu blocks)" : " Z = %s, p %s%s (%zu blocks)",
                rep_fmt_fixed(z, me->z, 2), me->p < 0.001 ? "" : (tex ? "=" : "= "), p, me->n_blocks);
        any = 1;
    }
    if (any)
        fputs(". ", f);
}

/* The legend: what the cells, marks, tests and ranks mean. */
static void put_legend(FILE *f, const struct rep_analysis *a, enum flavour fl)
{
    const struct rep_opts *o = &a->opts;
    const struct rep_cube *c = a->cube;
    int tex = fl == TEX;
    fprintf(f, "Mean%s over subjects", (o->show & REP_SHOW_STD) ? (tex ? " $\\pm$ std" : " ± std") : "");
    if (o->show & REP_SHOW_CI)
        fprintf(f, " [%g%s percentile bootstrap CI of the mean, %zu resamples]", 100.0 * o->ci_level,
                tex ? "\\%" : "%", o->n_boot);
    fprintf(f, ". %s: best mean; %s: second; %s: significantly worse than the best (%s, Holm over "
            "each column, %s = %g). ",
            tex ? "\\textbf{Bold}" : "**Bold**", tex ? "\\underline{underlined}" : "<ins>underlined</ins>",
            tex ? "$^\\dagger$" : "†",
            o->test == REP_TEST_SIGNFLIP ? "two-sided paired sign-flip permutation test on the mean difference"
                                         : "two-sided Wilcoxon signed-rank test",
            tex ? "$\\alpha$" : "α", o->alpha);
    const struct rep_pooled *po = &a->pooled[o->rank_metric];
    if (po->d.valid) {
        fputs(tex ? "Avg.\\ rank: mean Friedman rank of " : "Avg. rank: mean Friedman rank of ", f);
        put_esc(f, c->metric[o->rank_metric].label, fl);
        fprintf(f, " over %zu (dataset, subject) units from the %zu of %zu blocks where every ranked method "
                "has results (1 = best; a method n/a in every block is not ranked). ", po->d.n_units, po->n_blocks_used, c->n_blocks);
    } else {
        fputs("Avg. rank: not available (no block where every method has results). ", f);
    }
    put_stouffer(f, a, fl);
    fputs("Oracle rows are upper bounds, neither ranked nor tested. n/a: the method cannot run the "
          "protocol, or no plan paired them.", f);
    /* A paired test of N subjects cannot give a two-sided p below 2 / 2^N (every
     * subject on one side), so with few subjects no † can appear however large the
     * gap; the reader must not take its absence as "no difference". */
    size_t n_small = 0;
    for (size_t b = 0; b < c->n_blocks; b++)
        n_small += c->block[b].n_subjects >= 1 && ldexp(2.0, -(int)c->block[b].n_subjects) > o->alpha;
    if (n_small) {
        size_t need = 2;
        while (ldexp(2.0, -(int)need) > o->alpha)
            need++;
        fprintf(f, " %s needs at least %zu subjects at %s = %g (an exact paired test of N subjects gives no "
                "two-sided p below 2/2%sN%s), more than %s has.", tex ? "$^\\dagger$" : "†", need,
                tex ? "$\\alpha$" : "α", o->alpha, tex ? "$^{" : "^", tex ? "}$" : "",
                n_small == c->n_blocks ? (c->n_blocks == 1 ? "this block" : "any block here") : "some blocks here");
    }
    /* only when needed, so tables without missing cells read as before */
    if (rep_cube_has_missing(c))
        fputs(" missing: no result although the method can run the protocol (its jobs failed or did not "
              "finish; the CSV and JSON reports give the reason); left out of marks, tests and ranks like "
              "n/a.", f);
}

static void put_block_title(FILE *f, const struct rep_block *bl, enum flavour fl)
{
    put_esc(f, bl->dataset, fl);
    fputs(" / ", f);
    put_esc(f, bl->protocol, fl);
    fprintf(f, fl == TEX ? " ($N=%zu$)" : " (N = %zu)", bl->n_subjects);
}

static int same_group(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- Markdown -------------------------------------------------------------------- */

static void md_table(FILE *f, const struct rep_analysis *a)
{
    const struct rep_cube *c = a->cube;
    /* Markdown has no column groups: one block gets its title above the table and
     * plain metric columns; several repeat the block title in each column. */
    int one = c->n_blocks == 1;
    if (one) {
        put_block_title(f, &c->block[0], MD);
        fputs("\n\n", f);
    }
    fputs("| Method |", f);
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t k = 0; k < c->n_metrics; k++) {
            fputc(' ', f);
            if (!one) {
                put_block_title(f, &c->block[b], MD);
                fputs(": ", f);
            }
            put_md(f, c->metric[k].label);
            fputs(" |", f);
        }
    fputs(" Avg. rank |\n|:--|", f);
    for (size_t i = 0; i < c->n_blocks * c->n_metrics; i++)
        fputs("--:|", f);
    fputs("--:|\n", f);
    for (size_t m = 0; m < c->n_methods; m++) {
        fputs("| ", f);
        put_md(f, c->method[m].name);
        if (c->method[m].flags & REP_ORACLE)
            fputs(" (oracle)", f);
        fputs(" |", f);
        for (size_t b = 0; b < c->n_blocks; b++)
            for (size_t k = 0; k < c->n_metrics; k++) {
                fputc(' ', f);
                put_cell(f, a, b, k, m, MD);
                fputs(" |", f);
            }
        fputc(' ', f);
        put_rank(f, a, m, MD);
        fputs(" |\n", f);
    }
    fputc('\n', f);
    put_legend(f, a, MD);
    fputc('\n', f);
}

void rep_print_md(FILE *f, const struct rep_analysis *a)
{
    md_table(f, a);
}

int rep_write_md(const char *path, const struct rep_analysis *a)
{
    struct rep_out o;
    int rc = rep_out_open(&o, path);
    if (rc)
        return rc;
    md_table(o.f, a);
    return rep_out_close(&o);
}

/* ---- LaTeX ---------------------------------------------------------------------------- */

static void tex_table(FILE *f, const struct rep_analysis *a)
{
    const struct rep_cube *c = a->cube;
    const struct rep_opts *o = &a->opts;
    size_t nm = c->n_metrics;
    fputs("% generated by myobench from the results cube; regenerate rather than edit\n", f);
    if (o->tex_float) {
        fputs("\\begin{table*}[t]\n\\centering\n\\small\n\\caption{", f);
        if (o->caption) {
            put_tex(f, o->caption);
            fputc(' ', f);
        }
        put_legend(f, a, TEX);
        fputs("}\n", f);
        if (o->label) {
            fputs("\\label{", f);
            fputs(o->label, f);  /* labels are keys, not text: written as given */
            fputs("}\n", f);
        }
    } else {
        fputs("% ", f);
        put_legend(f, a, TEX);
        fputc('\n', f);
    }
    fputs("\\begin{tabular}{l", f);
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t k = 0; k < nm; k++)
            fputc('c', f);
    fputs("r}\n\\toprule\n", f);
    for (size_t b = 0; b < c->n_blocks; b++) {
        fprintf(f, " & \\multicolumn{%zu}{c}{", nm);
        put_block_title(f, &c->block[b], TEX);
        fputc('}', f);
    }
    fputs(" & \\\\\n", f);
    for (size_t b = 0; b < c->n_blocks; b++)
        fprintf(f, "%s\\cmidrule(lr){%zu-%zu}", b ? " " : "", 2 + b * nm, 1 + (b + 1) * nm);
    fputs("\nMethod", f);
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t k = 0; k < nm; k++) {
            fputs(" & ", f);
            put_tex(f, c->metric[k].label);
        }
    fputs(" & Avg.\\ rank \\\\\n\\midrule\n", f);
    for (size_t m = 0; m < c->n_methods; m++) {
        if (m > 0 && !same_group(c->method[m].group, c->method[m - 1].group))
            fputs("\\midrule\n", f);
        int oracle = (c->method[m].flags & REP_ORACLE) != 0;
        if (oracle)
            fputs("\\textit{", f);
        put_tex(f, c->method[m].name);
        if (oracle)
            fputc('}', f);
        for (size_t b = 0; b < c->n_blocks; b++)
            for (size_t k = 0; k < nm; k++) {
                fputs(" & ", f);
                put_cell(f, a, b, k, m, TEX);
            }
        fputs(" & ", f);
        put_rank(f, a, m, TEX);
        fputs(" \\\\\n", f);
    }
    fputs("\\bottomrule\n\\end{tabular}\n", f);
    if (o->tex_float)
        fputs("\\end{table*}\n", f);
}

int rep_write_tex(const char *path, const struct rep_analysis *a)
{
    struct rep_out o;
    int rc = rep_out_open(&o, path);
    if (rc)
        return rc;
    tex_table(o.f, a);
    return rep_out_close(&o);
}

/* ---- CSV ------------------------------------------------------------------------------------ */

/* RFC 4180 field: quoted when it holds a comma, quote or line break. */
static void put_csv(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_csv_num(FILE *f, double v)
{
    char x[REP_NUM_CAP];
    if (isfinite(v))
        fputs(rep_fmt_real(x, v), f);
}

int rep_write_csv_long(const char *path, const struct rep_analysis *a)
{
    const struct rep_cube *c = a->cube;
    struct rep_out o;
    int rc = rep_out_open(&o, path);
    if (rc)
        return rc;
    FILE *f = o.f;
    fputs("dataset,protocol,method,metric,subject,value,status,reason\n", f);
    for (size_t b = 0; b < c->n_blocks; b++) {
        const struct rep_block *bl = &c->block[b];
        for (size_t m = 0; m < c->n_methods; m++)
            for (size_t k = 0; k < c->n_metrics; k++) {
                enum rep_state st = rep_cube_state(c, b, m, k);
                const char *why = st == REP_MISSING ? rep_cube_reason(c, b, m) : NULL;
                const double *v = rep_cube_values(c, b, m, k);
                for (size_t s = 0; s < bl->n_subjects; s++) {
                    put_csv(f, bl->dataset);
                    fputc(',', f);
                    put_csv(f, bl->protocol);
                    fputc(',', f);
                    put_csv(f, c->method[m].name);
                    fputc(',', f);
                    put_csv(f, c->metric[k].name);
                    fputc(',', f);
                    put_csv(f, bl->subject[s]);
                    fputc(',', f);
                    if (st == REP_VALUE)
                        put_csv_num(f, v[s]);
                    else
                        fputs(rep_state_word(st), f);
                    fputc(',', f);
                    fputs(st == REP_VALUE ? "ok" : rep_state_word(st), f);
                    fputc(',', f);
                    if (why)
                        put_csv(f, why);
                    fputc('\n', f);
                }
            }
    }
    return rep_out_close(&o);
}

static const char *const wide_stats[] = {
    "n", "mean", "std", "median", "q1", "q3", "ci_lo", "ci_hi", "rank", "p", "p_holm", "mark",
};
#define N_WIDE (sizeof wide_stats / sizeof wide_stats[0])

/* "best", "second", "worse" joined by '+' (second+worse is possible) */
static void put_mark(FILE *f, unsigned mark)
{
    static const struct { unsigned bit; const char *name; } marks[] = {
        { REP_BEST, "best" }, { REP_SECOND, "second" }, { REP_WORSE, "worse" },
    };
    const char *sep = "";
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (mark & marks[i].bit) {
            fprintf(f, "%s%s", sep, marks[i].name);
            sep = "+";
        }
}

int rep_write_csv_wide(const char *path, const struct rep_analysis *a)
{
    const struct rep_cube *c = a->cube;
    struct rep_out o;
    int rc = rep_out_open(&o, path);
    if (rc)
        return rc;
    FILE *f = o.f;
    fputs("method,group,oracle", f);
    char name[1024];
    for (size_t b = 0; b < c->n_blocks; b++)
        for (size_t k = 0; k < c->n_metrics; k++)
            for (size_t s = 0; s < N_WIDE; s++) {
                snprintf(name, sizeof name, "%s:%s:%s:%s", c->block[b].dataset, c->block[b].protocol,
                         c->metric[k].name, wide_stats[s]);
                fputc(',', f);
                put_csv(f, name);
            }
    fputs(",avg_rank\n", f);
    for (size_t m = 0; m < c->n_methods; m++) {
        put_csv(f, c->method[m].name);
        fputc(',', f);
        if (c->method[m].group)
            put_csv(f, c->method[m].group);
        fprintf(f, ",%d", (c->method[m].flags & REP_ORACLE) ? 1 : 0);
        for (size_t b = 0; b < c->n_blocks; b++)
            for (size_t k = 0; k < c->n_metrics; k++) {
                const struct rep_cell *ce = rep_cell_at(a, b, k, m);
                if (ce->state != REP_VALUE) {
                    for (size_t s = 0; s < N_WIDE; s++) {
                        fputc(',', f);
                        fputs(rep_state_word(ce->state), f);
                    }
                    continue;
                }
                const double v[] = { ce->s.mean, ce->s.std, ce->s.median, ce->s.q1, ce->s.q3,
                                     ce->ci_lo, ce->ci_hi, ce->rank, ce->p, ce->p_holm };
                fprintf(f, ",%zu", ce->s.n);
                for (size_t s = 0; s < sizeof v / sizeof v[0]; s++) {
                    fputc(',', f);
                    put_csv_num(f, v[s]);
                }
                fputc(',', f);
                put_mark(f, ce->mark);
            }
        fputc(',', f);
        put_csv_num(f, rep_design_rank(rank_design(a), m));
        fputc('\n', f);
    }
    return rep_out_close(&o);
}
