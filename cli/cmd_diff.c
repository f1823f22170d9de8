/*
 * cmd_diff.c — `tessera diff OLD NEW ORDERS.jsonl`: price every order under
 * two rule sets and report how revenue, discounts and points move, how
 * many orders changed or were rejected, and the orders that moved most.
 * The check a marketer runs before a new scenario goes live.
 *
 * A thin layer over the library's tsr_diff (tessera.h), which prices the
 * orders, keeps what the report needs and writes it: the same report the
 * bindings and batch engines get (docs/scale-out.md).  Streams: one order
 * per input line; memory is the top-N list and a few counters, whatever
 * the number of orders.
 *
 * Exit status: 0 the comparison ran (changes and rejections are part of
 * the report, not failures); 1 a rule file is broken, the two differ in
 * currency, or output failed; 2 the orders cannot be read; 64 a wrong
 * command line.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct diff_args {
    const char *old_file, *new_file, *orders;
    size_t top;
    int json;
} diff_args;

static int parse_args(diff_args *a, int argc, char **argv)
{
    int i, npos = 0, options = 1;
    const char **pos[3];

    memset(a, 0, sizeof *a);
    a->top = 10;
    pos[0] = &a->old_file;
    pos[1] = &a->new_file;
    pos[2] = &a->orders;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
        } else if (options && strcmp(s, "--json") == 0) {
            a->json = 1;
        } else if (options && (strcmp(s, "--top") == 0 || strncmp(s, "--top=", 6) == 0)) {
            const char *v = s[5] == '=' ? s + 6 : i + 1 < argc ? argv[++i] : "";
            char *end;
            unsigned long n;
            errno = 0;
            n = strtoul(v, &end, 10);
            if (!*v || *end || errno || n > TSR_DIFF_MAX_TOP) {
                fprintf(stderr, "tessera diff: --top takes a number from 0 to %d\n", TSR_DIFF_MAX_TOP);
                return CLI_USAGE;
            }
            a->top = n;
        } else if (options && s[0] == '-' && s[1]) {
            fprintf(stderr, "tessera diff: unknown option `%s`; try `tessera help diff`\n", s);
            return CLI_USAGE;
        } else if (npos < 3) {
            *pos[npos++] = s;
        } else {
            fprintf(stderr, "tessera diff: too many arguments (`%s`)\n", s);
            return CLI_USAGE;
        }
    }
    if (npos < 3) {
        fprintf(stderr, "usage: tessera diff [--top N] [--json] OLD NEW ORDERS.jsonl\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Every line of `in` into the comparison. */
static int run(tsr_diff *d, FILE *in, const char *name)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    char *line = NULL;
    size_t len, lineno = 0;
    line_reader lr;
    lr_status got;
    progress pg;
    tsr_error err;
    int rc = CLI_OK;

    if (lr_init(&lr, fileno(in), limits.max_order_size) != 0) {
        fprintf(stderr, "tessera diff: out of memory\n");
        return CLI_ERRORS;
    }
    progress_init(&pg, "orders");
    while ((got = lr_next(&lr, &line, &len)) == LR_LINE || got == LR_TOO_LONG) {
        lineno++;
        if ((got == LR_LINE ? tsr_diff_add_line(d, line, len, &err)
                            : tsr_diff_add_unread_line(d, &err)) != TSR_OK) {
            fprintf(stderr, "tessera diff: %s (line %zu)\n", err.message, lineno);
            rc = CLI_ERRORS;
            break;
        }
        progress_tick(&pg);
    }
    progress_done(&pg);
    if (got == LR_ERROR) {
        fprintf(stderr, "%s: error: cannot read: %s\n", name, strerror(errno));
        rc = CLI_BAD_INPUT;
    }
    lr_free(&lr);
    return rc;
}

int cmd_diff(int argc, char **argv)
{
    diff_args a;
    tsr_ruleset *old_rs = NULL, *new_rs = NULL;
    tsr_diff *d = NULL;
    tsr_error err;
    const char *report;
    FILE *in;
    int rc;

    if ((rc = parse_args(&a, argc, argv)) != CLI_OK)
        return rc;
    if ((rc = batch_load_rules(&old_rs, a.old_file)) == CLI_OK &&
        (rc = batch_load_rules(&new_rs, a.new_file)) == CLI_OK) {
        if (tsr_diff_new(&d, old_rs, new_rs, a.top, &err) != TSR_OK) {
            fprintf(stderr, "tessera diff: %s\n", err.message);
            rc = CLI_ERRORS;
        } else if (!(in = batch_open(a.orders, "diff"))) {
            rc = CLI_BAD_INPUT;
        } else {
            rc = run(d, in, in == stdin ? "<stdin>" : a.orders);
            batch_close(in);
        }
    }
    if (rc == CLI_OK) {
        if (!(report = tsr_diff_report(d, a.json ? TSR_DIFF_JSON : TSR_DIFF_TEXT, a.old_file,
                                       a.new_file, NULL))) {
            fprintf(stderr, "tessera diff: out of memory\n");
            rc = CLI_ERRORS;
        } else if (fputs(report, stdout) == EOF || fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "tessera diff: cannot write: %s\n", strerror(errno));
            rc = CLI_ERRORS;
        }
    }
    tsr_diff_free(d);
    tsr_ruleset_free(old_rs);
    tsr_ruleset_free(new_rs);
    return rc;
}
