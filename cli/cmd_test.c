/*
 * cmd_test.c — `tessera test TESTS...`: run rule-test files (SPEC §7) and
 * report failures with their diffs, rule coverage per file, and a last line
 * `N passed, N failed` over all files.
 *
 * A test file or rule file that cannot be used (bad YAML, an unknown key, a
 * rule name that does not exist) is reported like a compiler error and
 * counts as one failed case, so a broken file can never look like success.
 */
#include "cli.h"

#include <string.h>

typedef struct test_args {
    int verbose;
    int coverage;
    int nfiles;
} test_args;

static int parse_args(test_args *a, int argc, char **argv)
{
    int i, options = 1;

    a->verbose = 0;
    a->coverage = 1;
    a->nfiles = 0;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0)
            options = 0;
        else if (options && (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0))
            a->verbose = 1;
        else if (options && strcmp(s, "--no-coverage") == 0)
            a->coverage = 0;
        else if (options && s[0] == '-' && s[1]) {
            fprintf(stderr, "tessera test: unknown option `%s`; try `tessera help test`\n", s);
            return CLI_USAGE;
        } else
            a->nfiles++;
    }
    if (a->nfiles == 0) {
        fprintf(stderr, "usage: tessera test [-v] [--no-coverage] TESTS...\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void print_report(const tsr_test_report *rep, const test_args *a)
{
    size_t i;
    if (a->verbose)
        for (i = 0; i < tsr_test_report_case_count(rep); i++)
            if (tsr_test_report_case_passed(rep, i))
                printf("ok   %s\n", tsr_test_report_case_name(rep, i));
    fputs(tsr_test_report_failures_text(rep), stdout);
    if (a->coverage)
        fputs(tsr_test_report_coverage_text(rep), stdout);
}

int cmd_test(int argc, char **argv)
{
    size_t passed = 0, failed = 0;
    test_args a;
    int i, rc, options = 1;

    if ((rc = parse_args(&a, argc, argv)) != CLI_OK)
        return rc;
    for (i = 1; i < argc; i++) {
        tsr_test_report *rep = NULL;
        tsr_error err;

        if (options && strcmp(argv[i], "--") == 0) {
            options = 0;
            continue;
        }
        if (options && argv[i][0] == '-' && argv[i][1])
            continue;
        if (tsr_test_run_file(&rep, argv[i], cli_load_options(), &err) != TSR_OK) {
            /* stdout first: the error belongs after what was already printed */
            fflush(stdout);
            if (!err.file[0] && !err.path[0])
                fprintf(stderr, "%s: error: %s\n", argv[i], err.message);
            else
                cli_print_error("error", &err);
            failed++;
            continue;
        }
        print_report(rep, &a);
        passed += tsr_test_report_passed(rep);
        failed += tsr_test_report_failed(rep);
        tsr_test_report_free(rep);
    }
    printf("%zu passed, %zu failed\n", passed, failed);
    if (fflush(stdout) != 0)
        return CLI_ERRORS;
    return failed ? CLI_ERRORS : CLI_OK;
}
