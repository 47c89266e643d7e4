/* harness/report.h - a results database (harness/store.h) turned into the
 * paper-ready outputs of reports/: a results cube with one block per
 * (dataset, protocol variant), methods as rows, metrics balanced accuracy,
 * macro-F1 and accuracy; a subject's value is the mean over the folds,
 * seeds and episodes that tested it (summed in a fixed order: seed, fold,
 * key). A method whose jobs of a block are n/a, failed, still pending or
 * missing a subject gets an n/a cell (info.txt says which and why).
 *
 * Layout under OUT (docs/RESULTS.md §3):
 *   all.{md,tex,csv,json}, all-wide.csv       every block in one table
 *   <dataset>/<protocol>/table.{md,tex,csv,json}, table-wide.csv
 *   <dataset>/<protocol>/cd-bacc.svg           (two or more ranked methods)
 *   <dataset>/<protocol>/subjects-bacc.svg
 *   <dataset>/<protocol>/confusion-<method>.svg
 *   info.txt                                   versions, machines, threads, hashes
 *
 * No output holds a timing or a wall-clock time, so a report of a resumed
 * run equals the report of an uninterrupted run byte for byte.
 */
#ifndef MB_HARNESS_REPORT_H
#define MB_HARNESS_REPORT_H

#include <stdio.h>

#include "core/err.h"

#define HN_FMT_MD    1u
#define HN_FMT_LATEX 2u
#define HN_FMT_CSV   4u
#define HN_FMT_JSON  8u
#define HN_FMT_ALL   15u

/* Writes the tables of 'formats' plus figures and info.txt under out_dir
 * (created if needed); every file is built under a temporary name. */
int hn_report_write(const char *db_path, const char *out_dir, unsigned formats) MB_MUST_CHECK;

/* Prints the Markdown table of every (dataset, protocol) block to fp. */
int hn_report_print_md(FILE *fp, const char *db_path) MB_MUST_CHECK;

#endif
