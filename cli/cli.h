/*
 * cli.h — the `tessera` command: one function per subcommand, all thin
 * layers over the public API in tessera.h.
 */
#ifndef TSR_CLI_H
#define TSR_CLI_H

#include <stdio.h>

#include "tessera.h"

/* Exit statuses shared by all subcommands (SPEC §8). */
enum {
    CLI_OK = 0,
    CLI_ERRORS = 1,       /* a rule file is broken, a test failed, a check found errors */
    CLI_BAD_INPUT = 2,    /* an order or request is invalid */
    CLI_USAGE = 64        /* wrong command line (sysexits EX_USAGE) */
};

typedef struct cli_command {
    const char *name;
    const char *args;        /* synopsis of the arguments */
    const char *summary;     /* one line for `tessera --help` */
    const char *help;        /* full text for `tessera help NAME` */
    int (*run)(int argc, char **argv);
} cli_command;

int cmd_check(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_refund(int argc, char **argv);
int cmd_segments(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_schema(int argc, char **argv);

/* The load options of every rule file and test file this run reads: the
 * defaults, with the directories given by --allow-path (main.c takes that
 * option out of any command's arguments). */
const tsr_load_options *cli_load_options(void);

/* "file:line:col: error: message" (or with the JSON path), into buf or
 * on stderr; CLI_ERROR_TEXT_MAX holds any. */
#define CLI_ERROR_TEXT_MAX (TSR_ERROR_TEXT_MAX + 2 * TSR_ERROR_PATH_MAX + 64)
void cli_format_error(char *buf, size_t size, const char *severity, const tsr_error *err);
void cli_print_error(const char *severity, const tsr_error *err);

/* True when argv[i] is -h or --help. */
int cli_wants_help(int argc, char **argv);
void cli_usage(const char *name);

#endif
