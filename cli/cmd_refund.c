/*
 * cmd_refund.c — `tessera refund RULES [REQUEST|-]`: refund lines of an
 * order (SPEC §4, Refund) and print the refund JSON on one line.
 *
 * The request holds the original order, its receipt (the result JSON that
 * `tessera eval` printed for it), the line ids and the refund time; the
 * library checks the receipt and decides every line.  Exit status: 0
 * refunded (even when some lines were rejected: the JSON says which);
 * 1 the rule file is broken; 2 the request is invalid or its receipt does
 * not match, printed with its JSON path; 64 a wrong command line.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Read all of `f`, refusing more than `max` bytes. */
static int read_request(FILE *f, const char *name, size_t max, char **out, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);

    while (buf) {
        size_t got;
        if (n == cap) {
            char *p = cap <= max ? realloc(buf, cap * 2) : NULL;
            if (!p && cap > max) {
                fprintf(stderr, "%s: error: the request is larger than the limit of %zu bytes\n",
                        name, max);
                free(buf);
                return CLI_BAD_INPUT;
            }
            if (!p)
                break;
            buf = p;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0 && ferror(f)) {
            fprintf(stderr, "%s: error: cannot read the request: %s\n", name, strerror(errno));
            free(buf);
            return CLI_BAD_INPUT;
        }
        if (got == 0) {
            if (n > max) {
                fprintf(stderr, "%s: error: the request is larger than the limit of %zu bytes\n",
                        name, max);
                free(buf);
                return CLI_BAD_INPUT;
            }
            *out = buf;
            *len = n;
            return CLI_OK;
        }
    }
    free(buf);
    fprintf(stderr, "tessera refund: out of memory\n");
    return CLI_ERRORS;
}

static int parse_args(int argc, char **argv, const char **rules, const char **request)
{
    int i, npos = 0, options = 1;

    *rules = *request = NULL;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
        } else if (options && s[0] == '-' && s[1]) {
            fprintf(stderr, "tessera refund: unknown option `%s`; try `tessera help refund`\n", s);
            return CLI_USAGE;
        } else if (npos == 0) {
            *rules = s;
            npos++;
        } else if (npos == 1) {
            *request = s;
            npos++;
        } else {
            fprintf(stderr, "tessera refund: too many arguments (`%s`)\n", s);
            return CLI_USAGE;
        }
    }
    if (!*rules) {
        fprintf(stderr, "usage: tessera refund RULES [REQUEST|-]\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cmd_refund(int argc, char **argv)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    const char *rules, *path, *json;
    tsr_ruleset *rs = NULL;
    tsr_refund_result *res = NULL;
    char *text = NULL;
    size_t len = 0;
    tsr_error err;
    FILE *f;
    int rc;

    if ((rc = parse_args(argc, argv, &rules, &path)) != CLI_OK)
        return rc;
    if ((rc = batch_load_rules(&rs, rules)) != CLI_OK)
        return rc;
    if (!(f = batch_open(path, "refund"))) {
        tsr_ruleset_free(rs);
        return CLI_BAD_INPUT;
    }
    rc = read_request(f, f == stdin ? "<stdin>" : path, limits.max_order_size * 4, &text, &len);
    batch_close(f);
    if (rc == CLI_OK) {
        if (tsr_refund(&res, rs, text, len, &err) != TSR_OK) {
            cli_print_error("error", &err);
            rc = err.code == TSR_ENOMEM ? CLI_ERRORS : CLI_BAD_INPUT;
        } else if (!(json = tsr_refund_result_json(res, &len))) {
            fprintf(stderr, "tessera refund: out of memory\n");
            rc = CLI_ERRORS;
        } else if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF ||
                   fflush(stdout) != 0) {
            fprintf(stderr, "tessera refund: cannot write the result: %s\n", strerror(errno));
            rc = CLI_ERRORS;
        }
    }
    tsr_refund_result_free(res);
    free(text);
    tsr_ruleset_free(rs);
    return rc;
}
