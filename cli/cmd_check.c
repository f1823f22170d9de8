/*
 * cmd_check.c — `tessera check RULES...`: check every file the way a
 * compiler does: every error found in one run (tsr_ruleset_check_file),
 * each at its own file:line:col, then a summary line; the lint warnings
 * (SPEC §8) of the files that load, then `FILE: ok (what was loaded)`.
 * Warnings alone leave the exit status 0 unless --strict asks otherwise.
 */
#include "cli.h"

#include <string.h>

/* Print the lint warnings of a loaded rule set; returns how many. */
static size_t print_warnings(const tsr_ruleset *rs)
{
    tsr_lint_report *lint = NULL;
    tsr_error err;
    size_t i, n;

    if (tsr_ruleset_lint(&lint, rs, &err) != TSR_OK) {
        fprintf(stderr, "tessera check: cannot lint: %s\n", err.message);
        return 0;
    }
    n = tsr_lint_report_count(lint);
    for (i = 0; i < n; i++)
        if (tsr_lint_report_warning(lint, i, &err) == TSR_OK)
            cli_print_error("warning", &err);
    tsr_lint_report_free(lint);
    return n;
}

/* "ruleset island-park 2026-11-22: 3 categories, 2 promo codes, ..." */
static void print_ok(const char *path, const tsr_ruleset *rs, size_t warnings)
{
    static const struct { const char *section, *one, *many; } parts[] = {
        { "segments", "segment", "segments" },
        { "tiers", "tier", "tiers" },
        { "categories", "category", "categories" },
        { "promo_codes", "promo code", "promo codes" },
        { "discounts", "discount", "discounts" },
        { "earn", "earn rule", "earn rules" },
        { "offers", "offer", "offers" },
        { "taxes", "tax rate", "tax rates" },
    };
    const char *version = tsr_ruleset_version(rs);
    const char *sep = ": ";
    size_t i;

    printf("%s: ok (ruleset %s%s%s", path, tsr_ruleset_id(rs), version[0] ? " " : "", version);
    for (i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t n = tsr_ruleset_count(rs, parts[i].section);
        if (!n)
            continue;
        printf("%s%zu %s", sep, n, n == 1 ? parts[i].one : parts[i].many);
        sep = ", ";
    }
    printf(")");
    if (warnings)
        printf(", %zu warning%s", warnings, warnings == 1 ? "" : "s");
    printf("\n");
}

/* Every error of a file that does not load, and the summary line. */
static void print_errors(const char *path, const tsr_check_report *report, const tsr_error *err)
{
    size_t i, n = tsr_check_report_count(report);
    tsr_error e;

    if (n == 0) {
        /* no report (out of memory): the one error there is */
        cli_print_error("error", err);
        n = 1;
    }
    for (i = 0; i < tsr_check_report_count(report); i++)
        if (tsr_check_report_error(report, i, &e) == TSR_OK) {
            if (!e.file[0] && !e.path[0])   /* a file that cannot be read */
                fprintf(stderr, "%s: error: %s\n", path, e.message);
            else
                cli_print_error("error", &e);
        }
    if (tsr_check_report_truncated(report))
        fprintf(stderr, "%s: %zu errors; stopped there, fix these and check again\n", path, n);
    else
        fprintf(stderr, "%s: %zu error%s\n", path, n, n == 1 ? "" : "s");
}

int cmd_check(int argc, char **argv)
{
    int i, failed = 0, files = 0, strict = 0, quiet = 0, opts_done = 0;
    size_t warnings = 0;

    for (i = 1; i < argc && !opts_done; i++)
        if (strcmp(argv[i], "--") == 0)
            opts_done = 1;
        else if (strcmp(argv[i], "--strict") == 0)
            strict = 1;
        else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "tessera check: unknown option `%s`\n", argv[i]);
            return CLI_USAGE;
        }

    opts_done = 0;
    for (i = 1; i < argc; i++) {
        tsr_ruleset *rs = NULL;
        tsr_check_report *report = NULL;
        tsr_error err;
        size_t w;

        if (!opts_done && strcmp(argv[i], "--") == 0) {
            opts_done = 1;
            continue;
        }
        if (!opts_done && argv[i][0] == '-' && argv[i][1])
            continue;
        files++;
        if (tsr_ruleset_check_file(&rs, &report, argv[i], cli_load_options(), &err) != TSR_OK) {
            print_errors(argv[i], report, &err);
            tsr_check_report_free(report);
            failed = 1;
            continue;
        }
        tsr_check_report_free(report);
        w = print_warnings(rs);
        warnings += w;
        if (!quiet) {
            fflush(stderr);
            print_ok(argv[i], rs, w);
            fflush(stdout);
        }
        tsr_ruleset_free(rs);
    }
    if (files == 0) {
        fprintf(stderr, "usage: tessera check [-q] [--strict] RULES...\n");
        return CLI_USAGE;
    }
    return failed || (strict && warnings) ? CLI_ERRORS : CLI_OK;
}
