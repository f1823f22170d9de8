/*
 * main.c — `tessera`: argument dispatch, --help and --version.  Each
 * subcommand lives in its own cmd_*.c.
 */
#include "cli.h"

#include <string.h>

static const cli_command commands[] = {
    { "check", "[-q] [--strict] RULES...",
      "load, type-check and lint rule files",
      "Loads every rule file (and what it includes), resolves every name and\n"
      "type-checks every expression.  Problems are printed like a compiler's, every\n"
      "error of a file in one run (up to 50), each at its own place, then a summary:\n"
      "\n"
      "  park.yaml:14:11: error: unknown field `item.heigth_cm`; did you mean `item.height_cm`?\n"
      "  park.yaml:31:41: error: unknown category `chlid`: no category has this id, so this\n"
      "      comparison never holds; did you mean `child`?\n"
      "  park.yaml: 2 errors\n"
      "\n"
      "A rule with an error is left out and the next one is checked; what only\n"
      "follows from an error (a rule naming a field whose declaration failed) is\n"
      "not reported again.  Errors in the YAML itself, in an include and in the\n"
      "currency stop the file.\n"
      "\n"
      "Files that load are then linted.  Warnings point at rules that are\n"
      "probably not what you meant, and do not change the exit status; then\n"
      "`FILE: ok` says what was loaded:\n"
      "\n"
      "  park.yaml:31:5: warning: category bands on `item.height_cm` leave a gap: 130–139\n"
      "      gets no category (`child` ends below it, `adult` starts above it)\n"
      "  park.yaml:12:3: warning: segment `lapsed` is never used: no rule reads `segment.lapsed`\n"
      "  park.yaml: ok (ruleset island-park 2026-11-22: 5 categories, 7 discounts), 2 warnings\n"
      "\n"
      "Lint looks for: category bands on one numeric value (`item.height_cm < 100`,\n"
      "`>= 100 and < 130`, `age(...) < 16`, in any spelling) that leave a gap, also\n"
      "one a catch-all category takes when it is no wider than the bands beside\n"
      "it, or where a band starts or ends inside an earlier one; categories and\n"
      "discounts that can never apply because an earlier rule takes their lines;\n"
      "segments, tables and promo codes that nothing uses; count/sum/any/all in a\n"
      "category that read item.category or item.price, and so are computed again\n"
      "for every line (their cost grows with the square of the number of lines);\n"
      "`valid:` (the time of the order) on ticket lines, whose visit day is\n"
      "item.event_start.  The rule language pages list every warning.\n"
      "\n"
      "Options:\n"
      "  -q, --quiet  no `FILE: ok` line (errors and warnings are still printed)\n"
      "  --strict     exit 1 on warnings too (for CI)\n"
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
      "                   Control characters in ids, codes and labels are shown as `?`,\n"
      "                   so an order cannot send escape sequences to the terminal.\n"
      "  --jsonl          a streaming filter: one JSON order per input line, one result\n"
      "                   per output line, in order.  Blank lines are skipped.  A line\n"
      "                   that is not a valid order gives, in its place,\n"
      "                     {\"error\":{\"line\":7,\"path\":\"items[1].id\",\"message\":\"...\"}}\n"
      "                   (path is null when the error has none) and the stream goes on.\n"
      "                   An order the rules cannot evaluate (a pattern past its limit,\n"
      "                   an overflow) adds \"rule\":\"FILE:LINE:COL\", where in the rule\n"
      "                   file it failed; path is then the order's part (items[3]).\n"
      "                   When stderr is a terminal (and neither the input nor the\n"
      "                   results are), a progress line shows orders done and per second.\n"
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
      "(exact sets), tier (or ~), error (a part of the expected order error),\n"
      "refund (what the case's `refund:` gives).  docs/rule-tests.md lists every\n"
      "key; `tessera schema test` is the same as a JSON Schema for editors.\n"
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
    { "refund", "RULES [REQUEST|-]",
      "refund lines of an order against its receipt",
      "Refunds lines of an order priced earlier.  The request is one JSON object:\n"
      "the original order, its receipt (the result JSON `tessera eval` printed for\n"
      "it), the ids of the lines to refund, the refund time, and what earlier\n"
      "refunds of the same order did (optional):\n"
      "\n"
      "  {\"order\":    {\"id\": \"A-1001\", \"datetime\": \"2026-11-18T19:00:00+02:00\", \"items\": [...]},\n"
      "   \"receipt\":  {\"ruleset\": {\"id\": \"opera\", \"version\": \"2026-11\"}, \"order\": \"A-1001\", ...},\n"
      "   \"lines\":    [\"t1\"],\n"
      "   \"datetime\": \"2026-11-20T10:00:00+02:00\",\n"
      "   \"previous\": {\"lines\": [\"t2\"], \"clawback\": \"0.00\"}}\n"
      "\n"
      "The receipt is checked against the order priced again under RULES: rule set\n"
      "id and version, line ids in order, every amount.  One that does not match is\n"
      "refused with the path of the first difference:\n"
      "\n"
      "  receipt.ruleset.version: error: the receipt was priced by version \"2026-10\" ...\n"
      "\n"
      "Each line is refunded or rejected by the rule set's `refunds:` section; the\n"
      "result is one JSON line:\n"
      "\n"
      "  {\"order\":\"A-1001\",...,\"to\":\"account_credit\",\n"
      "   \"lines\":[{\"id\":\"t1\",\"status\":\"refunded\",\"amount\":\"118.00\",\"fee\":\"2.00\",\n"
      "             \"points_restored\":0,\"points_revoked\":12}],\n"
      "   \"totals\":{\"amount\":\"118.00\",\"fee\":\"2.00\",\"clawback\":\"0.00\",...}}\n"
      "\n"
      "The library keeps no record of refunds: store the lines refunded and what\n"
      "was withheld (totals.clawback minus clawback_returned), and pass them\n"
      "from your records as `previous.lines` and `previous.clawback` next time; a\n"
      "line refunded before is then rejected as \"already refunded\".  With\n"
      "`refunds.reprice`, `previous.clawback` is required once lines were\n"
      "refunded, and one above the most those refunds can have withheld is\n"
      "refused (docs/refunds.md).\n"
      "\n"
      "A request from an order file and its receipt, with jq:\n"
      "  tessera eval rules/opera/opera.yaml order.json > receipt.json\n"
      "  jq -n --slurpfile o order.json --slurpfile r receipt.json \\\n"
      "     '{order: $o[0], receipt: $r[0], lines: [\"t1\"], datetime: \"2026-11-20T10:00:00+02:00\"}' \\\n"
      "    | tessera refund rules/opera/opera.yaml -\n"
      "\n"
      "Exit status: 0 refunded (rejected lines included: see their \"why\"); 1 the\n"
      "rule file is broken; 2 the request is invalid or its receipt does not match.\n",
      cmd_refund },
    { "segments", "RULES [PROFILES|-]",
      "segments and tier of customer profiles",
      "Reads one customer profile per line (JSON lines; `-` or nothing reads\n"
      "standard input) and writes one line per profile: its id, segments and tier.\n"
      "\n"
      "  {\"customer\": {\"id\": \"C-77\", \"visits\": 6, \"member\": true}}\n"
      "  -> {\"id\":\"C-77\",\"segments\":[\"frequent\"],\"tier\":null}\n"
      "\n"
      "A profile is an order without items: a `customer` object as in an order,\n"
      "and, when the segments need them, `datetime` and other order fields.  Every\n"
      "line of `tessera eval --jsonl` input is a profile too.  A plain customer\n"
      "export becomes profiles with jq:\n"
      "\n"
      "  jq -c '{customer: .}' customers.jsonl | tessera segments rules/park/park.yaml -\n"
      "\n"
      "Options:\n"
      "  --at DATETIME   the time of profiles that give none (default: now, read once\n"
      "                  at the start); segments like `birthday` or `lapsed` depend on it\n"
      "\n"
      "A line that is not a valid profile gives, in its place,\n"
      "  {\"error\":{\"line\":7,\"path\":\"customer.visits\",\"message\":\"...\"}}\n"
      "and the stream goes on.  Memory stays constant however many lines are read;\n"
      "when stderr is a terminal, a progress line shows profiles and profiles per\n"
      "second.\n"
      "\n"
      "  tessera segments --at 2026-12-01T00:00:00+03:00 rules/park/park.yaml crm.jsonl > out.jsonl\n"
      "\n"
      "Exit status: 0 every profile was read; 1 the rule file is broken; 2 some\n"
      "profile was invalid (reported after the whole stream).\n",
      cmd_segments },
    { "diff", "OLD NEW ORDERS",
      "compare two rule sets over real orders",
      "Prices every order of ORDERS (JSON lines, e.g. last month's orders; `-`\n"
      "reads standard input) under both rule files and reports what the change\n"
      "would have done, before it goes live:\n"
      "\n"
      "  tessera diff rules/park/park.yaml park-winter.yaml orders-2026-11.jsonl\n"
      "\n"
      "                                  old              new           change\n"
      "    revenue (due)          1234567.00       1200000.00        -34567.00    -2.80%\n"
      "    discounts               100000.00        134567.00        +34567.00   +34.57%\n"
      "    points earned               61728            60000            -1728    -2.80%\n"
      "    points redeemed              5000             5000                0     0.00%\n"
      "\n"
      "    orders: 1200 read, 1190 priced under both, 340 changed (28.57% of those priced)\n"
      "    rejected: 0 only by old, 10 only by new, 0 by both\n"
      "      line 17: new: items[0]: the line has no price and matches no category\n"
      "\n"
      "  followed by the orders that moved most: line, order id, due old -> new\n"
      "  and points earned old -> new.\n"
      "\n"
      "Revenue is the sum of `due`, what customers pay.  Only orders priced under\n"
      "both rule sets count in the totals; orders rejected by either are counted\n"
      "apart, with the first reasons (an order the new rules reject is usually a\n"
      "mistake in them).  An order changed when its due, discount, redeemed value\n"
      "or points differ; the most moved come first by the size of the change in\n"
      "due, then in points earned.\n"
      "\n"
      "Options:\n"
      "  --top N    how many of the most moved orders to list (default 10; 0: none)\n"
      "  --json     one JSON object instead of the table, for scripts and dashboards\n"
      "\n"
      "Both rule files must price in the same currency.  Memory stays constant\n"
      "however many orders are read; when stderr is a terminal, a progress line\n"
      "shows orders and orders per second.\n"
      "\n"
      "Exit status: 0 compared (changes and rejections are the report, not a\n"
      "failure); 1 a rule file is broken or the currencies differ; 2 the orders\n"
      "cannot be read.\n",
      cmd_diff },
    { "serve", "[OPTIONS] RULES...",
      "serve the rule sets over HTTP/JSON",
      "Serves rule sets over HTTP, for tills, ticketing systems and sites in any\n"
      "language: the same rule files, the same results byte for byte as the\n"
      "commands above, and rule changes without a restart.\n"
      "\n"
      "  tessera serve rules/park/park.yaml rules/opera/opera.yaml\n"
      "  curl --data-binary @order.json 127.0.0.1:8080/v1/rulesets/island-park/evaluate\n"
      "\n"
      "Routes (ID is the rule file's `ruleset:` id):\n"
      "  POST /v1/rulesets/ID/evaluate   an order -> what `tessera eval` prints;\n"
      "                                  ?explain=1, ?trace=0, ?customer_safe=1 as\n"
      "                                  --explain, --no-trace, --customer-safe;\n"
      "                                  with Content-Type: application/x-ndjson,\n"
      "                                  orders as JSON lines -> what `tessera eval\n"
      "                                  --jsonl` prints (one answer a line, an\n"
      "                                  {\"error\":...} line for a refused order)\n"
      "  POST /v1/rulesets/ID/refund     a refund request -> what `tessera refund` prints\n"
      "  POST /v1/rulesets/ID/segments   one profile -> its `tessera segments` line;\n"
      "                                  ?at=DATETIME as --at (default: now)\n"
      "  GET  /v1/rulesets               id, version, SHA-256 of the files, loaded_at,\n"
      "                                  the last reload error\n"
      "  GET  /healthz                   200 while serving, 503 while draining\n"
      "  GET  /metrics                   Prometheus text: requests and errors by route\n"
      "                                  and status, latency, reloads\n"
      "\n"
      "Bodies are JSON (or JSON lines).  Refusals are JSON too,\n"
      "  {\"error\":{\"code\":\"invalid_order\",\"message\":\"...\",\"path\":\"items[1].id\"}}\n"
      "with 400 (not JSON), 422 (JSON the rule set refuses), 401 (no or wrong\n"
      "token), 404 (unknown route or rule set), 405 (wrong method), 413 (body\n"
      "over --max-body); 503 only when the server itself runs out of memory.\n"
      "\n"
      "Rule files are reloaded on SIGHUP and when they (or files they include)\n"
      "change on disk: the new version is loaded and checked first and then\n"
      "replaces the old one at once; requests in flight finish on the old one.\n"
      "A broken file is not loaded: the old version keeps serving and the error\n"
      "is logged and shown in GET /v1/rulesets.  SIGTERM (or SIGINT) stops\n"
      "accepting connections, answers the requests in flight, and exits 0.\n"
      "\n"
      "Options:\n"
      "  --listen ADDR:PORT     where to listen (default 127.0.0.1:8080; port 0: any\n"
      "                         free port, logged at start)\n"
      "  --threads N            threads answering requests (default: one per CPU)\n"
      "  --token-file F         require `Authorization: Bearer TOKEN`, TOKEN being the\n"
      "                         first line of F (GET /healthz stays open)\n"
      "  --max-body BYTES       the largest request body (default 1048576)\n"
      "  --max-connections N    open connections at most (default 256)\n"
      "  --timeout SECONDS      close a connection idle this long (default 10); also\n"
      "                         the longest SIGTERM waits for requests in flight\n"
      "  --poll MS              how often to look at the rule files (default 1000;\n"
      "                         0: only on SIGHUP)\n"
      "  --log                  one JSON line per request on stderr: time, method,\n"
      "                         path, route, status, ruleset, version, latency_us\n"
      "\n"
      "Starts, reloads and stops are logged as JSON lines on stderr always.  For\n"
      "TLS, put a reverse proxy (nginx) in front; see docs/serve.md.\n"
      "\n"
      "Exit status: 0 stopped by SIGTERM or SIGINT; 1 a rule file is broken or\n"
      "the address cannot be used; 64 a wrong command line.\n",
      cmd_serve },
    { "schema", "KIND [RULES]",
      "JSON Schema of rule files, orders or tests",
      "Prints the JSON Schema (draft 2020-12) of rule files (KIND `rules`),\n"
      "orders (`order`) or rule-test files (`test`).  It is generated from the\n"
      "tables the readers check keys with, so an editor that knows it (VS Code\n"
      "with the YAML extension, or any yaml-language-server client) completes\n"
      "every key, shows its description and default, and flags a misspelt key\n"
      "where `tessera check` would refuse it.  Expressions are text to the\n"
      "schema; `tessera check` type-checks them.\n"
      "\n"
      "  tessera schema rules > rules.schema.json\n"
      "\n"
      "With RULES, the order schema holds exactly the fields that rule set's\n"
      "`schema:` declares, and offers its category ids; the test schema's\n"
      "orders do the same, and it offers the rule set's segments, tiers, offers\n"
      "and rule names.  Without RULES, orders may carry further fields.\n"
      "\n"
      "  tessera schema order rules/park/park.yaml > park-order.schema.json\n"
      "\n"
      "A YAML file names its schema in a comment, relative to the file:\n"
      "\n"
      "  # yaml-language-server: $schema=../../docs/schema/rules.schema.json\n"
      "\n"
      "docs/schema/ holds the three schemas without RULES; docs/editors.md\n"
      "shows the set-up.\n"
      "\n"
      "Exit status: 0 printed; 1 RULES is broken; 64 no such KIND.\n",
      cmd_schema },
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
            "  --allow-path DIR        (any command) also read included rule files from DIR\n"
            "  tessera --version       the library version\n"
            "\n"
            "The rule language (docs/reference/), the C API and the rest are\n"
            "described in docs/.\n");
}

static const cli_command *find_command(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Options every command takes: it reads rule files. */
static const char common_help[] =
    "\n"
    "Every command also takes:\n"
    "  --allow-path DIR  also read files from DIR and below it when a rule file\n"
    "                    includes them (`include:`) or a test file names its rule\n"
    "                    file (`rules:`); by default only files in the directory of\n"
    "                    the rule file (or test file) and below it are read, `..`\n"
    "                    and symbolic links resolved first, so that a rule file\n"
    "                    cannot read /etc/passwd.  May be given more than once;\n"
    "                    `--allow-path /` allows every file.\n";

void cli_usage(const char *name)
{
    const cli_command *c = find_command(name);
    if (!c)
        return;
    fprintf(stdout, "usage: tessera %s %s\n\n%s%s", c->name, c->args, c->help, common_help);
}

/* --allow-path DIR (or --allow-path=DIR) of any command, before `--`. */
static const char *allow_paths[64];
static tsr_load_options load_options = TSR_LOAD_OPTIONS_INIT;

const tsr_load_options *cli_load_options(void)
{
    return &load_options;
}

/* Take --allow-path out of argv[1..argc) (the command's arguments), keeping
 * the rest in order; returns the new argc, or -1 after a usage message. */
static int take_allow_paths(int argc, char **argv)
{
    int i, out = 1, n = 0, options = 1;

    for (i = 1; i < argc; i++) {
        const char *dir = NULL;
        if (options && strcmp(argv[i], "--") == 0)
            options = 0;
        if (options && strcmp(argv[i], "--allow-path") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tessera: --allow-path needs a directory\n");
                return -1;
            }
            dir = argv[++i];
        } else if (options && strncmp(argv[i], "--allow-path=", 13) == 0) {
            dir = argv[i] + 13;
        }
        if (!dir) {
            argv[out++] = argv[i];
            continue;
        }
        if (!dir[0] || n + 1 >= (int)(sizeof allow_paths / sizeof allow_paths[0])) {
            fprintf(stderr, "tessera: %s\n", dir[0] ? "too many --allow-path directories"
                                                     : "--allow-path needs a directory");
            return -1;
        }
        allow_paths[n++] = dir;
    }
    allow_paths[n] = NULL;
    load_options.allow_paths = n ? allow_paths : NULL;
    return out;
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

void cli_format_error(char *buf, size_t size, const char *severity, const tsr_error *err)
{
    if (err->file[0] && err->line > 0)
        snprintf(buf, size, "%s:%d:%d: %s: %s%s%s%s", err->file, err->line,
                 err->column > 0 ? err->column : 1, severity, err->message,
                 err->path[0] ? " (at " : "", err->path, err->path[0] ? ")" : "");
    else if (err->file[0])
        snprintf(buf, size, "%s: %s: %s", err->file, severity, err->message);
    else if (err->path[0])
        snprintf(buf, size, "%s: %s: %s", err->path, severity, err->message);
    else
        snprintf(buf, size, "tessera: %s: %s", severity, err->message);
}

void cli_print_error(const char *severity, const tsr_error *err)
{
    char buf[CLI_ERROR_TEXT_MAX];
    cli_format_error(buf, sizeof buf, severity, err);
    fprintf(stderr, "%s\n", buf);
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
    if ((argc = take_allow_paths(argc - 1, argv + 1)) < 0)
        return CLI_USAGE;
    return c->run(argc, argv + 1);
}
