/* A program built against an installed libtessera: loads a rule file. */
#include <stdio.h>
#include <string.h>
#include <tessera.h>

int main(int argc, char **argv)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    char msg[600];

    if (argc < 2)
        return 2;
    if (strcmp(tsr_version(), TSR_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", TSR_VERSION_STRING, tsr_version());
        return 1;
    }
    if (tsr_ruleset_load_file(&rs, argv[1], NULL, &err) != TSR_OK) {
        tsr_error_format(msg, sizeof msg, &err);
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    printf("loaded %s (%s), currency %s\n", tsr_ruleset_id(rs), tsr_ruleset_version(rs),
           tsr_ruleset_currency(rs));
    tsr_ruleset_free(rs);
    return 0;
}
