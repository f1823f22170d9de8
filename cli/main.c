/*
 * main.c — `tessera`: argument dispatch, --help and --version.  Each
 * subcommand lives in its own cmd_*.c.
 */
#include "cli.h"

#include <string.h>

static const cli_command commands[] = {
    { "check", "RULES...",
      "load, type-check and lint rule files",
      "Loads every rule file (and what it includes), resolves every name and\n"
      "type-checks every expression.  Problems are printed like a compiler's:\n"
      "\n"
      "  park.yaml:14:11: error: unknown field `item.heigth_cm`; did you mean `item.height_cm`?\n"
      "\n"
      "Exit status: 0 when every file loads, 1 when any has errors.\n"
      "\n"
      "Example:\n"
      "  tessera check rules/park/park.yaml\n",
      cmd_check },
};

static void print_overview(FILE *out)
{
    size_t i;
    fprintf(out,
            "tessera %s: prices tickets and runs loyalty programs from YAML rule files\n"
            "\n"
            "usage: tessera COMMAND [ARGS...]\n"
            "\n"
            "commands:\n", tsr_version());
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %-22s %s\n", commands[i].name, commands[i].args, commands[i].summary);
    fprintf(out,
            "\n"
            "  tessera help COMMAND    more about one command\n"
            "  tessera --version       the library version\n"
            "\n"
            "The rule language and the C API are described in docs/.\n");
}

static const cli_command *find_command(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

void cli_usage(const char *name)
{
    const cli_command *c = find_command(name);
    if (!c)
        return;
    fprintf(stdout, "usage: tessera %s %s\n\n%s", c->name, c->args, c->help);
}

int cli_wants_help(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

void cli_print_error(const char *severity, const tsr_error *err)
{
    if (err->file[0] && err->line > 0)
        fprintf(stderr, "%s:%d:%d: %s: %s\n", err->file, err->line,
                err->column > 0 ? err->column : 1, severity, err->message);
    else if (err->file[0])
        fprintf(stderr, "%s: %s: %s\n", err->file, severity, err->message);
    else if (err->path[0])
        fprintf(stderr, "%s: %s: %s\n", err->path, severity, err->message);
    else
        fprintf(stderr, "tessera: %s: %s\n", severity, err->message);
}

int main(int argc, char **argv)
{
    const cli_command *c;

    if (argc < 2) {
        print_overview(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        print_overview(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("tessera %s\n", tsr_version());
        return CLI_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            print_overview(stdout);
            return CLI_OK;
        }
        if (!find_command(argv[2])) {
            fprintf(stderr, "tessera: no command `%s`; try `tessera --help`\n", argv[2]);
            return CLI_USAGE;
        }
        cli_usage(argv[2]);
        return CLI_OK;
    }
    c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "tessera: no command `%s`; try `tessera --help`\n", argv[1]);
        return CLI_USAGE;
    }
    if (cli_wants_help(argc - 1, argv + 1)) {
        cli_usage(c->name);
        return CLI_OK;
    }
    return c->run(argc - 1, argv + 1);
}
