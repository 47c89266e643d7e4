/* cli/cmd.h - the subcommands of the myobench binary.
 *
 * Adding a command:
 *   1. write cli/cmd_<name>.c with int cmd_<name>(int argc, char **argv);
 *      argv[0] is the command name; parse with getopt_long; print usage on
 *      --help (stdout, return 0) and on bad usage (stderr, return 2);
 *   2. declare it below and add a row to the commands[] table in cli/main.c;
 *   3. add its tests to tests/test_cli.c.
 * Exit statuses: 0 success, 1 failure, 2 usage error.
 */
#ifndef MB_CLI_CMD_H
#define MB_CLI_CMD_H

#include <stdio.h>

enum { MB_EXIT_OK = 0, MB_EXIT_FAIL = 1, MB_EXIT_USAGE = 2 };

int cmd_synth(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_describe(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_methods(int argc, char **argv);
int cmd_protocols(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_prune(int argc, char **argv);

/* Prints the lines of 'usage' (NULL-terminated) to 'fp' and returns
 * 'status' (git's usage_with_options, without the exit). */
int cli_usage(FILE *fp, const char *const *usage, int status);

/* Parses a non-negative integer option value; 0 on success. */
int cli_parse_long(long *out, const char *opt, const char *val);

#endif
