/*
 * cmd_schema.c — `tessera schema rules|order|test [RULES]`: print the JSON
 * Schema of rule files, orders or rule-test files (tsr_schema_json), for
 * editors and for validating files in other tools.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_schema(int argc, char **argv)
{
    static const char *const kinds[] = { "rules", "order", "test" };
    tsr_ruleset *rs = NULL;
    tsr_error err;
    char *text;
    int kind = -1, i, n, rc;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: tessera schema rules|order|test [RULES]\n");
        return CLI_USAGE;
    }
    for (i = 0; i < 3; i++)
        if (strcmp(argv[1], kinds[i]) == 0)
            kind = i;
    if (kind < 0) {
        fprintf(stderr, "tessera schema: no schema `%s`; give rules, order or test\n", argv[1]);
        return CLI_USAGE;
    }
    if (argc == 3) {
        if (kind == TSR_SCHEMA_RULES) {
            fprintf(stderr, "tessera schema: the rules schema is the same for every rule set; "
                            "give no RULES\n");
            return CLI_USAGE;
        }
        if (tsr_ruleset_load_file(&rs, argv[2], NULL, &err) != TSR_OK) {
            if (!err.file[0])
                fprintf(stderr, "%s: error: %s\n", argv[2], err.message);
            else
                cli_print_error("error", &err);
            return CLI_ERRORS;
        }
    }
    n = tsr_schema_json(NULL, 0, (tsr_schema_kind)kind, rs);
    text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!text) {
        fprintf(stderr, "tessera schema: %s\n", tsr_strerror(n < 0 ? n : TSR_ENOMEM));
        tsr_ruleset_free(rs);
        return CLI_ERRORS;
    }
    rc = tsr_schema_json(text, (size_t)n + 1, (tsr_schema_kind)kind, rs);
    if (rc >= 0)
        fwrite(text, 1, (size_t)rc, stdout);
    free(text);
    tsr_ruleset_free(rs);
    return rc >= 0 ? CLI_OK : CLI_ERRORS;
}
