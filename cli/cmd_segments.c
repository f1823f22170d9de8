/*
 * cmd_segments.c — `tessera segments RULES [PROFILES.jsonl|-]`: one JSON
 * line per customer profile with its id, segments and tier, for exports to
 * a CRM or a mailing tool.
 *
 * Built to stream millions of lines in constant memory: one tsr_profile
 * and one line buffer are reused for every line, and each output line is
 * written as soon as it is computed.  A bad line gives an error object in
 * its place and the stream goes on.  When stderr is a terminal, a progress
 * line (profiles, profiles per second) is kept up to date there.
 *
 * Exit status: 0 every profile was read; 1 the rule file is broken or
 * output failed; 2 some profile was invalid (after the whole stream);
 * 64 a wrong command line.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct seg_args {
    const char *rules;
    const char *input;
    const char *at;             /* --at, NULL: now */
} seg_args;

static int parse_args(seg_args *a, int argc, char **argv)
{
    int i, npos = 0, options = 1;

    memset(a, 0, sizeof *a);
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
        } else if (options && strcmp(s, "--at") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tessera segments: --at needs a datetime, such as "
                                "2026-12-01T00:00:00+03:00\n");
                return CLI_USAGE;
            }
            a->at = argv[++i];
        } else if (options && strncmp(s, "--at=", 5) == 0) {
            a->at = s + 5;
        } else if (options && s[0] == '-' && s[1]) {
            fprintf(stderr, "tessera segments: unknown option `%s`; try `tessera help segments`\n", s);
            return CLI_USAGE;
        } else if (npos == 0) {
            a->rules = s;
            npos++;
        } else if (npos == 1) {
            a->input = s;
            npos++;
        } else {
            fprintf(stderr, "tessera segments: too many arguments (`%s`)\n", s);
            return CLI_USAGE;
        }
    }
    if (!a->rules) {
        fprintf(stderr, "usage: tessera segments [--at DATETIME] RULES [PROFILES.jsonl|-]\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The default time of profiles without one: --at, else the moment the
 * command started (one instant for the whole run, so that a long run does
 * not put profiles on both sides of midnight). */
static int set_default_time(tsr_profile *p, const char *at)
{
    char now[32];
    time_t t = time(NULL);
    struct tm tm;
    tsr_error err;

    if (!at) {
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
        at = now;
    }
    if (tsr_profile_set_datetime(p, at, &err) != TSR_OK) {
        fprintf(stderr, "tessera segments: --at: %s\n", err.message);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* One line: its profile JSON, or an error object.  1 rejected, 0 fine,
 * -1 out of memory. */
static int segment_line(tsr_profile *p, const char *line, size_t len, size_t lineno)
{
    const char *json;
    size_t jlen;
    tsr_error err;

    if (tsr_profile_parse(p, line, len, &err) != TSR_OK) {
        if (err.code == TSR_ENOMEM)
            return -1;
        batch_error_line(stdout, lineno, err.path, err.message);
        return 1;
    }
    if (!(json = tsr_profile_json(p, &jlen)))
        return -1;
    fwrite(json, 1, jlen, stdout);
    putchar('\n');
    return 0;
}

static int run(tsr_profile *p, FILE *in, const char *name, size_t max_line)
{
    char *line = NULL;
    size_t len, lineno = 0, bad = 0, total = 0;
    line_reader lr;
    lr_status got;
    progress pg;
    int rc = CLI_OK;

    if (lr_init(&lr, fileno(in), max_line) != 0) {
        fprintf(stderr, "tessera segments: out of memory\n");
        return CLI_ERRORS;
    }
    progress_init(&pg, "profiles");
    while ((got = lr_next(&lr, &line, &len)) == LR_LINE || got == LR_TOO_LONG) {
        int r;
        lineno++;
        if (got == LR_LINE && batch_is_blank(line, len))
            continue;
        if (got == LR_TOO_LONG) {
            batch_error_line(stdout, lineno, NULL, "the line is longer than the limit of an order");
            r = 1;
        } else {
            r = segment_line(p, line, len, lineno);
        }
        if (r < 0) {
            fprintf(stderr, "tessera segments: out of memory at line %zu\n", lineno);
            rc = CLI_ERRORS;
            break;
        }
        bad += (size_t)r;
        total++;
        progress_tick(&pg);
    }
    progress_done(&pg);
    if (got == LR_ERROR) {
        fprintf(stderr, "%s: error: cannot read: %s\n", name, strerror(errno));
        rc = CLI_ERRORS;
    }
    lr_free(&lr);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tessera segments: cannot write: %s\n", strerror(errno));
        return CLI_ERRORS;
    }
    if (rc == CLI_OK && bad) {
        fprintf(stderr, "tessera segments: %zu of %zu profiles rejected (see the \"error\" lines)\n",
                bad, total);
        rc = CLI_BAD_INPUT;
    }
    return rc;
}

int cmd_segments(int argc, char **argv)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_profile *p = NULL;
    tsr_error err;
    seg_args a;
    FILE *in;
    int rc;

    if ((rc = parse_args(&a, argc, argv)) != CLI_OK)
        return rc;
    if ((rc = batch_load_rules(&rs, a.rules)) != CLI_OK)
        return rc;
    if (tsr_profile_new(&p, rs, &err) != TSR_OK) {
        fprintf(stderr, "tessera segments: %s\n", err.message);
        tsr_ruleset_free(rs);
        return CLI_ERRORS;
    }
    if ((rc = set_default_time(p, a.at)) == CLI_OK) {
        if (!(in = batch_open(a.input, "segments"))) {
            rc = CLI_BAD_INPUT;
        } else {
            rc = run(p, in, in == stdin ? "<stdin>" : a.input, limits.max_order_size);
            batch_close(in);
        }
    }
    tsr_profile_free(p);
    tsr_ruleset_free(rs);
    return rc;
}
