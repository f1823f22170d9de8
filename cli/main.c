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
      "Files that load are then linted.  Warnings point at rules that are\n"
      "probably not what you meant, and do not change the exit status:\n"
      "\n"
      "  park.yaml:31:5: warning: category bands on `item.height_cm` leave a gap: 130–139\n"
      "      gets no category (`child` ends below it, `adult` starts above it)\n"
      "  park.yaml:12:3: warning: segment `lapsed` is never used: no rule reads `segment.lapsed`\n"
      "\n"
      "Lint looks for: category bands on one numeric field (`item.height_cm < 100`,\n"
      "`>= 100 and < 130`, ...) that leave gaps or overlap; categories and\n"
      "discounts that can never apply because an earlier rule takes their lines;\n"
      "segments, tables and promo codes that nothing uses.\n"
      "\n"
      "Options:\n"
      "  --strict    exit 1 on warnings too (for CI)\n"
      "\n"
      "Exit status: 0 when every file loads, 1 when any has errors (or, with\n"
      "--strict, warnings).\n"
      "\n"
      "Example:\n"
      "  tessera check rules/park/park.yaml\n",
      cmd_check },
    { "eval", "RULES [ORDER|-]",
      "evaluate an order: JSON, --explain, --jsonl",
      "Evaluates one order (JSON, or YAML of the same shape) against a rule file\n"
      "and prints the result JSON on one line.  ORDER is a file; `-` or nothing\n"
      "reads standard input.\n"
      "\n"
      "  tessera eval rules/park/park.yaml order.json\n"
      "  echo '{\"datetime\": \"2026-06-10T11:00:00+03:00\", \"items\": [{\"id\": \"t1\",\n"
      "         \"kind\": \"ticket\", \"event_start\": \"2026-06-13T10:00:00+03:00\",\n"
      "         \"height_cm\": 118}]}' | tessera eval --explain rules/park/park.yaml\n"
      "\n"
      "Options:\n"
      "  --explain        print the result for people: every line with its category,\n"
      "                   unit price, discounts, redeemed points and total; the totals;\n"
      "                   promo codes with reasons; points; offers; and why each rule\n"
      "                   applied or not:\n"
      "                     ✓ discounts.family-pack\n"
      "                     ✗ discounts.season-pass-10: `segment.season_pass` was false\n"
      "  --jsonl          a streaming filter: one JSON order per input line, one result\n"
      "                   per output line, in order.  Blank lines are skipped.  A line\n"
      "                   that is not a valid order gives, in its place,\n"
      "                     {\"error\":{\"line\":7,\"path\":\"items[1].id\",\"message\":\"...\"}}\n"
      "                   (path is null when the error has none) and the stream goes on.\n"
      "  --customer-safe  report every rejected promo code as `not_applicable`, so the\n"
      "                   output can go to the customer without revealing which codes exist\n"
      "  --no-trace       leave the trace out (faster; --explain then shows no reasons)\n"
      "\n"
      "  tessera eval --jsonl rules/park/park.yaml orders.jsonl > results.jsonl\n"
      "  tessera eval --explain rules/park/park.yaml order.json\n"
      "\n"
      "Exit status: 0 evaluated; 1 the rule file is broken (printed as\n"
      "file:line:col: error: ...); 2 the order is invalid, printed with its JSON\n"
      "path (items[1].id: error: duplicate line id `t1`).  With --jsonl, 2 when\n"
      "any line was rejected -- reported after every line has been processed.\n",
      cmd_eval },
    { "test", "TESTS...",
      "run rule tests: diffs and rule coverage",
      "Runs rule-test files.  A test file names a rule file and lists cases, each\n"
      "an order and the parts of its result that matter (only what is written is\n"
      "compared):\n"
      "\n"
      "  tessera_test: 1\n"
      "  rules: park.yaml                  # relative to the test file\n"
      "  cases:\n"
      "    - name: a toddler rides free\n"
      "      order: { datetime: \"2026-06-10T11:00:00+03:00\",\n"
      "               items: [ { id: t1, kind: ticket, height_cm: 95 } ] }\n"
      "      expect:\n"
      "        lines: { t1: { category: toddler, total: \"0.00\" } }\n"
      "        totals: { due: \"0.00\" }\n"
      "        applied: [ categories.toddler ]\n"
      "        not_applied: [ discounts.family-pack ]\n"
      "\n"
      "expect may hold: lines (by id: category, unit_price, subtotal, discount,\n"
      "discounts, redeemed, total, points_earned, quantity, kind), totals (subtotal,\n"
      "discount, redeemed_value, due), points (earned, redeemed, redeem_reason,\n"
      "entries, lots_used), promo_codes ({CODE: accepted | rejected/REASON}),\n"
      "applied / not_applied (SECTION.ID from the trace), segments and offers\n"
      "(exact sets), tier (or ~), error (a part of the expected order error).\n"
      "\n"
      "Each failure is shown with what differs:\n"
      "\n"
      "  FAIL park.test.yaml:84: family pack of two adults and two children\n"
      "    lines.a1.total: expected \"2034.88\", got \"2900.00\"\n"
      "\n"
      "then, per file, the rules no case applied (`not covered: discounts.x, ...`)\n"
      "and the percentage applied, and last `N passed, N failed` over all files.\n"
      "\n"
      "Options:\n"
      "  -v, --verbose    also list the cases that pass\n"
      "  --no-coverage    leave out the coverage lines\n"
      "\n"
      "Exit status: 0 when every case passes; 1 otherwise.  A test file or rule\n"
      "file that cannot be read is printed as file:line:col: error: ... and counts\n"
      "as one failed case.\n"
      "\n"
      "Example:\n"
      "  tessera test rules/park/park.test.yaml\n",
      cmd_test },
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
