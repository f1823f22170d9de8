/*
 * cmd_check.c — `tessera check RULES...`: load every file and report
 * problems the way a compiler does: errors that stop a file from loading,
 * then lint warnings (SPEC §8) for the files that load.  Warnings alone
 * leave the exit status 0 unless --strict asks otherwise.
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

int cmd_check(int argc, char **argv)
{
    int i, failed = 0, files = 0, strict = 0;
    size_t warnings = 0;

    for (i = 1; i < argc; i++)
        if (strcmp(argv[i], "--") == 0)
            break;
        else if (strcmp(argv[i], "--strict") == 0)
            strict = 1;

    for (i = 1; i < argc; i++) {
        tsr_ruleset *rs = NULL;
        tsr_error err;
        int rc;

        if (strcmp(argv[i], "--") == 0 || strcmp(argv[i], "--strict") == 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "tessera check: unknown option `%s`\n", argv[i]);
            return CLI_USAGE;
        }
        files++;
        rc = tsr_ruleset_load_file(&rs, argv[i], cli_load_options(), &err);
        if (rc != TSR_OK) {
            if (!err.file[0] && !err.path[0]) {
                /* an error with no place (a file that cannot be opened) */
                fprintf(stderr, "%s: error: %s\n", argv[i], err.message);
            } else {
                cli_print_error("error", &err);
            }
            failed = 1;
            continue;
        }
        warnings += print_warnings(rs);
        tsr_ruleset_free(rs);
    }
    if (files == 0) {
        fprintf(stderr, "usage: tessera check RULES...\n");
        return CLI_USAGE;
    }
    return failed || (strict && warnings) ? CLI_ERRORS : CLI_OK;
}
