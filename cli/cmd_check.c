/*
 * cmd_check.c — `tessera check RULES...`: load every file and report
 * problems the way a compiler does.
 */
#include "cli.h"

#include <string.h>

int cmd_check(int argc, char **argv)
{
    int i, failed = 0, files = 0;

    for (i = 1; i < argc; i++) {
        tsr_ruleset *rs = NULL;
        tsr_error err;
        int rc;

        if (strcmp(argv[i], "--") == 0)
            continue;
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "tessera check: unknown option `%s`\n", argv[i]);
            return CLI_USAGE;
        }
        files++;
        rc = tsr_ruleset_load_file(&rs, argv[i], NULL, &err);
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
        tsr_ruleset_free(rs);
    }
    if (files == 0) {
        fprintf(stderr, "usage: tessera check RULES...\n");
        return CLI_USAGE;
    }
    return failed ? CLI_ERRORS : CLI_OK;
}
