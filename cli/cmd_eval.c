/*
 * cmd_eval.c — `tessera eval RULES [ORDER|-]`: evaluate one order and print
 * the result JSON, or a readable explanation (--explain), or act as a
 * streaming filter from JSON lines to JSON lines (--jsonl).
 *
 * Exit status: 0 evaluated; 1 the rule file is broken (or output failed);
 * 2 the order is invalid (with --jsonl: some line was, after the whole
 * stream has been processed); 64 a wrong command line.
 *
 * The --jsonl loop is built for batch engines: one tsr_order reused for
 * every line, each result freed before the next, input read with read(2)
 * into one growing buffer (lines are capped at the order size limit, so a
 * runaway line cannot exhaust memory), output written with one fwrite per
 * line and flushed only when the input has nothing more buffered — fast in
 * a pipe, and still answers line by line when driven interactively.
 */
#include "cli.h"
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct eval_args {
    const char *rules;
    const char *order;          /* NULL or "-": stdin */
    int explain;
    int jsonl;
    tsr_eval_options opts;
} eval_args;

static int parse_args(eval_args *a, int argc, char **argv)
{
    static const tsr_eval_options defaults = TSR_EVAL_OPTIONS_INIT;
    int i, npos = 0, options = 1;

    memset(a, 0, sizeof *a);
    a->opts = defaults;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
        } else if (options && strcmp(s, "--explain") == 0) {
            a->explain = 1;
        } else if (options && strcmp(s, "--jsonl") == 0) {
            a->jsonl = 1;
        } else if (options && strcmp(s, "--customer-safe") == 0) {
            a->opts.customer_safe = 1;
        } else if (options && strcmp(s, "--no-trace") == 0) {
            a->opts.no_trace = 1;
        } else if (options && s[0] == '-' && s[1]) {
            fprintf(stderr, "tessera eval: unknown option `%s`; try `tessera help eval`\n", s);
            return CLI_USAGE;
        } else if (npos == 0) {
            a->rules = s;
            npos++;
        } else if (npos == 1) {
            a->order = s;
            npos++;
        } else {
            fprintf(stderr, "tessera eval: too many arguments (`%s`); usage: tessera eval RULES "
                            "[ORDER|-]\n", s);
            return CLI_USAGE;
        }
    }
    if (!a->rules) {
        fprintf(stderr, "usage: tessera eval [--explain|--jsonl] [--customer-safe] [--no-trace] "
                        "RULES [ORDER|-]\n");
        return CLI_USAGE;
    }
    if (a->explain && a->jsonl) {
        fprintf(stderr, "tessera eval: --explain and --jsonl do not go together\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int write_out(const char *data, size_t len)
{
    if (len && fwrite(data, 1, len, stdout) != len) {
        fprintf(stderr, "tessera eval: cannot write the result: %s\n", strerror(errno));
        return CLI_ERRORS;
    }
    return CLI_OK;
}

/* ---------------------------------------------------------------------
 * One order.
 */

/* Read all of `fd`, refusing more than `max` bytes. */
static int read_all(int fd, const char *name, size_t max, char **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);

    if (!buf) {
        fprintf(stderr, "tessera eval: out of memory\n");
        return CLI_ERRORS;
    }
    for (;;) {
        ssize_t got;
        if (n == cap) {
            char *p;
            if (cap > max) {
                fprintf(stderr, "%s: error: the order is larger than the limit of %zu bytes\n",
                        name, max);
                free(buf);
                return CLI_BAD_INPUT;
            }
            p = realloc(buf, cap * 2);
            if (!p) {
                fprintf(stderr, "tessera eval: out of memory\n");
                free(buf);
                return CLI_ERRORS;
            }
            buf = p;
            cap *= 2;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "%s: error: cannot read the order: %s\n", name, strerror(errno));
            free(buf);
            return CLI_BAD_INPUT;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (n > max) {
        fprintf(stderr, "%s: error: the order is larger than the limit of %zu bytes\n", name, max);
        free(buf);
        return CLI_BAD_INPUT;
    }
    *out = buf;
    *len = n;
    return CLI_OK;
}

static int open_input(const char *order, int *fd, const char **name)
{
    if (!order || strcmp(order, "-") == 0) {
        *fd = STDIN_FILENO;
        *name = "<stdin>";
        return CLI_OK;
    }
    *name = order;
    *fd = open(order, O_RDONLY);
    if (*fd < 0) {
        fprintf(stderr, "%s: error: cannot open the order: %s\n", order, strerror(errno));
        return CLI_BAD_INPUT;
    }
    return CLI_OK;
}

static int print_result(tsr_result *res, int explain)
{
    const char *json;
    size_t len;
    char *text;
    int n, rc;

    if (!explain) {
        json = tsr_result_json(res, &len);
        if (!json) {
            fprintf(stderr, "tessera eval: out of memory\n");
            return CLI_ERRORS;
        }
        if ((rc = write_out(json, len)) != CLI_OK)
            return rc;
        return write_out("\n", 1);
    }
    n = tsr_result_explain(NULL, 0, res);
    if (n < 0 || !(text = malloc((size_t)n + 1))) {
        fprintf(stderr, "tessera eval: out of memory\n");
        return CLI_ERRORS;
    }
    tsr_result_explain(text, (size_t)n + 1, res);
    rc = write_out(text, (size_t)n);
    free(text);
    return rc;
}

/* An order that cannot be evaluated: 2, unless we ran out of memory. */
static int order_failed(const tsr_error *err)
{
    cli_print_error("error", err);
    return err->code == TSR_ENOMEM ? CLI_ERRORS : CLI_BAD_INPUT;
}

static int eval_one(const tsr_ruleset *rs, const eval_args *a)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    tsr_order *order = NULL;
    tsr_result *res = NULL;
    const char *name;
    char *text = NULL;
    size_t len = 0;
    tsr_error err;
    int fd, rc;

    if ((rc = open_input(a->order, &fd, &name)) != CLI_OK)
        return rc;
    rc = read_all(fd, name, limits.max_order_size, &text, &len);
    if (fd != STDIN_FILENO)
        close(fd);
    if (rc != CLI_OK)
        return rc;
    if (tsr_order_new(&order, rs, &err) != TSR_OK ||
        tsr_order_parse(order, text, len, &err) != TSR_OK ||
        tsr_evaluate(&res, rs, order, &a->opts, &err) != TSR_OK)
        rc = order_failed(&err);
    else
        rc = print_result(res, a->explain);
    tsr_result_free(res);
    tsr_order_free(order);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------
 * --jsonl: one order per line in, one result per line out.
 */
/* stdout's buffer while --jsonl runs (until exit: stdio flushes it then). */
static char out_buffer[(size_t)1 << 16];

static int eval_stream(const tsr_ruleset *rs, const eval_args *a)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    line_reader lr;
    outbuf o = { NULL, 0, 0 };
    tsr_order *order = NULL;
    tsr_result *kept = NULL;   /* evaluated into line after line */
    const char *name;
    size_t lineno = 0, bad = 0, total = 0;
    tsr_error err;
    int rc = CLI_OK;
    progress prog;

    memset(&lr, 0, sizeof lr);
    if ((rc = open_input(a->order, &lr.fd, &name)) != CLI_OK)
        return rc;
    /* A progress line for long batch runs: only when someone watches stderr
     * and neither the input nor the results are that same terminal. */
    progress_init(&prog, "orders");
    if (isatty(lr.fd) || isatty(STDOUT_FILENO))
        prog.on = 0;
    /* Into a pipe or a file, results leave in 64 KiB writes rather than
     * stdio's 4 KiB (a result is 1-2 KiB): a sixteenth of the system calls.
     * Still line by line when driven interactively: the reader flushes
     * before it waits for input (lr_fill).  The buffer is given: glibc
     * ignores the size asked for when setvbuf allocates it. */
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, out_buffer, _IOFBF, sizeof out_buffer);
    if (lr_init(&lr, lr.fd, limits.max_order_size) != 0 ||
        tsr_order_new(&order, rs, &err) != TSR_OK) {
        fprintf(stderr, "tessera eval: out of memory\n");
        rc = CLI_ERRORS;
        goto done;
    }
    for (;;) {
        char *line;
        size_t len;
        lr_status st = lr_next(&lr, &line, &len);
        int r = 0;

        if (st == LR_END)
            break;
        if (st == LR_ERROR) {
            fprintf(stderr, "%s: error: cannot read: %s\n", name, strerror(errno));
            rc = CLI_ERRORS;
            break;
        }
        lineno++;
        o.len = 0;
        if (st == LR_TOO_LONG) {
            r = batch_eval_too_long(&o, lineno, lr.max) == 0 ? 1 : -1;
        } else if (batch_is_blank(line, len)) {
            continue;
        } else {
            r = batch_eval_line(rs, order, &kept, &a->opts, &o, line, len, lineno);
        }
        if (r < 0) {
            fprintf(stderr, "tessera eval: out of memory at line %zu\n", lineno);
            rc = CLI_ERRORS;
            break;
        }
        total++;
        bad += (size_t)r;
        progress_tick(&prog);
        if ((rc = write_out(o.data, o.len)) != CLI_OK)
            break;
    }
    progress_done(&prog);
    if (rc == CLI_OK && bad) {
        fprintf(stderr, "tessera eval: %zu of %zu orders rejected (see the \"error\" lines)\n",
                bad, total);
        rc = CLI_BAD_INPUT;
    }
done:
    if (fflush(stdout) != 0 && rc == CLI_OK) {
        fprintf(stderr, "tessera eval: cannot write the results: %s\n", strerror(errno));
        rc = CLI_ERRORS;
    }
    if (lr.fd != STDIN_FILENO)
        close(lr.fd);
    tsr_result_free(kept);
    tsr_order_free(order);
    lr_free(&lr);
    free(o.data);
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    tsr_ruleset *rs = NULL;
    eval_args a;
    int rc;

    if ((rc = parse_args(&a, argc, argv)) != CLI_OK)
        return rc;
    if ((rc = batch_load_rules(&rs, a.rules)) != CLI_OK)
        return rc;
    rc = a.jsonl ? eval_stream(rs, &a) : eval_one(rs, &a);
    if (rc == CLI_OK && fflush(stdout) != 0) {
        fprintf(stderr, "tessera eval: cannot write the result: %s\n", strerror(errno));
        rc = CLI_ERRORS;
    }
    tsr_ruleset_free(rs);
    return rc;
}
