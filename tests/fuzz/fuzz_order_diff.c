/*
 * fuzz_order_diff.c — differential harness for the JSON order reader: the
 * same bytes go to the library's reader (lib/order_json.c) and to the
 * former yajl reader it replaced (oracle_json_yajl.c), and any difference
 * aborts: in the verdict, in the error (code, message, path, position) or,
 * when both accept, in the order they built (order_oracle.h's canonical
 * dump of every slot, line, promo code and use, and points lot).  Both are
 * then finished (required fields, unique line ids) and compared again.
 *
 * Three rule sets, each loaded once on the first input and kept:
 *   park   the shared park scenario (park_rules.h), the fuzzers' limits;
 *   types  a field of every type orders carry (lists of each included),
 *          selectable and assigned categories, JPY (no minor unit) and
 *          small limits (strings, lines, promo codes, order size), so the
 *          limits and the refusals are reached often;
 *   wide   KWD (three decimals) and more schema fields than the key index
 *          makes a perfect hash for, with names its hash cannot tell
 *          apart, so the probing fallback is read too.
 * The input is given to each as it is: not only text starting with '{',
 * as tsr_order_parse would, so the root's refusals are compared too.
 *
 * Internal API: links the static library (or its fuzzing copy) and sees
 * lib/.  Checked besides: no crash, no sanitizer report, no leak.
 */
#include "fuzz_common.h"
#include "order_oracle.h"
#include "park_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char types_rules[] =
    "tessera: 1\nruleset: diff-types\nversion: \"1\"\ncurrency: JPY\n"
    "schema:\n"
    "  item: { height_cm: int, zone: string, event_start: datetime, validated: bool,"
    " ratio: decimal, fee: money, day: date, labels: list<string>, flags: list<bool>,"
    " sizes: list<int>, ratios: list<decimal>, fees: list<money>, days: list<date>,"
    " times: list<datetime>, axxb: int, ayxb: string }\n"
    "  customer: { visits: int, birthday: date, member: bool, spend_12m: money,"
    " score: decimal, seen_at: datetime, nick: string, codes: list<string> }\n"
    "  order: { note: string, source: string, weight: decimal, total_hint: money,"
    " urgent: bool, due_on: date, placed_at: datetime, refs: list<int> }\n"
    "categories:\n"
    "  - { id: child, for: item.kind == \"ticket\", when: item.height_cm < 130, price: 1000 }\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 2000 }\n"
    "  - { id: student, for: item.kind == \"ticket\", selectable: true, price: 1500 }\n"
    "  - { id: senior, for: item.kind == \"ticket\", selectable: true, price: 1200 }\n";

typedef struct ruleset_case {
    const char *name;
    tsr_ruleset *rs;
} ruleset_case;

static ruleset_case cases[3] = { { "park", NULL }, { "types", NULL }, { "wide", NULL } };

static void free_rulesets(void)
{
    size_t i;
    for (i = 0; i < TSR_ARRAY_LEN(cases); i++) {
        tsr_ruleset_free(cases[i].rs);
        cases[i].rs = NULL;
    }
}

static tsr_ruleset *load(const char *name, const char *text, size_t len,
                         const tsr_load_options *opts)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;

    memset(&err, 0, sizeof err);
    if (tsr_ruleset_load_string(&rs, text, len, name, opts, &err) != TSR_OK) {
        fprintf(stderr, "fuzz_order_diff: %s does not load: %d:%d: %s\n", name, err.line,
                err.column, err.message);
        abort();
    }
    return rs;
}

/* The wide rule set: 72 item fields (more than the key index hashes
 * perfectly), among them pairs of names of one length with the same first,
 * middle and last byte. */
static tsr_ruleset *load_wide(const tsr_load_options *opts)
{
    static const char *const types[] = { "int", "string", "money", "decimal", "bool", "date",
                                         "datetime", "list<string>", "list<money>" };
    char text[8192];
    size_t used, i;

    used = (size_t)snprintf(text, sizeof text,
                            "tessera: 1\nruleset: diff-wide\nversion: \"1\"\ncurrency: KWD\n"
                            "schema:\n  item:\n");
    for (i = 0; i < 64; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "    f%zu_x: %s\n", i,
                                 types[i % TSR_ARRAY_LEN(types)]);
    used += (size_t)snprintf(text + used, sizeof text - used,
                             "    paxb: int\n    pbxb: string\n    pcxb: money\n"
                             "    qaxyb: decimal\n    qbxyb: date\n    qcxyb: bool\n"
                             "    raab: datetime\n    rbab: list<int>\n"
                             "  customer: { visits: int, pvxq: int, pwxq: string }\n");
    return load("wide.yaml", text, used, opts);
}

static void load_all(void)
{
    tsr_load_options opts;

    if (cases[0].rs)
        return;
    fuzz_load_options(&opts);
    cases[0].rs = load("park.yaml", park_rules, sizeof park_rules - 1, &opts);
    fuzz_load_options(&opts);
    opts.max_string_length = 12;
    opts.max_order_lines = 3;
    opts.max_promo_codes = 2;
    opts.max_order_size = 2048;
    cases[1].rs = load("types.yaml", types_rules, sizeof types_rules - 1, &opts);
    fuzz_load_options(&opts);
    cases[2].rs = load_wide(&opts);
    atexit(free_rulesets);
}

typedef int (*reader_fn)(tsr_order *o, const char *text, size_t len, tsr_error *err);

/* Read (and, when that succeeds, finish) one order; its dump, or NULL. */
static int read_one(reader_fn read, tsr_order *o, const char *text, size_t len, tsr_error *err,
                    char **dump)
{
    int rc;

    memset(err, 0, sizeof *err);
    *dump = NULL;
    tsr__order_clear(o);
    rc = read(o, text, len, err);
    if (rc == TSR_OK)
        rc = tsr__order_finish(o, err);
    if (rc == TSR_OK) {
        *dump = tsr_oracle_order_dump(o);
        if (!*dump)
            fuzz_die("out of memory dumping an order", 0, 0);
    }
    return rc;
}

static void differ(const char *rs, const char *what, const char *mine, const char *oracle)
{
    fprintf(stderr, "fuzz_order_diff [%s]: %s differs\n  reader: %s\n  yajl:   %s\n", rs, what,
            mine, oracle);
    fflush(stderr);
    abort();
}

static void compare(const ruleset_case *c, const char *text, size_t len)
{
    tsr_order *mine = NULL, *oracle = NULL;
    tsr_error e1, e2;
    char *d1, *d2, a[32], b[32];
    int rc1, rc2;

    memset(&e1, 0, sizeof e1);
    if (tsr_order_new(&mine, c->rs, &e1) != TSR_OK || tsr_order_new(&oracle, c->rs, &e1) != TSR_OK)
        fuzz_die("tsr_order_new failed", 0, 0);
    rc1 = read_one(tsr__order_read_json, mine, text, len, &e1, &d1);
    rc2 = read_one(tsr_oracle_order_read_json, oracle, text, len, &e2, &d2);
    if (fuzz_verbose())
        fprintf(stderr, "  %s:", c->name);
    fuzz_say("read", rc1, &e1);
    snprintf(a, sizeof a, "%d", rc1);
    snprintf(b, sizeof b, "%d", rc2);
    if (rc1 != rc2)
        differ(c->name, "the verdict", a, b);
    if (rc1 != TSR_OK) {
        if (e1.code != e2.code)
            differ(c->name, "the error code", a, b);
        if (strcmp(e1.message, e2.message) != 0)
            differ(c->name, "the message", e1.message, e2.message);
        if (strcmp(e1.path, e2.path) != 0)
            differ(c->name, "the path", e1.path, e2.path);
        if (strcmp(e1.file, e2.file) != 0 || e1.line != e2.line || e1.column != e2.column)
            differ(c->name, "the position", e1.file, e2.file);
        fuzz_check_error(rc1, &e1);
    } else if (strcmp(d1, d2) != 0) {
        differ(c->name, "the order", d1, d2);
    }
    free(d2);
    /* Again into the same order: the reader now guesses each key from the
     * first read (o->key_next), and must read exactly as before. */
    rc2 = read_one(tsr__order_read_json, mine, text, len, &e2, &d2);
    snprintf(b, sizeof b, "%d", rc2);
    if (rc1 != rc2)
        differ(c->name, "the verdict read again", a, b);
    if (rc1 != TSR_OK && (e1.code != e2.code || strcmp(e1.message, e2.message) != 0 ||
                          strcmp(e1.path, e2.path) != 0))
        differ(c->name, "the error read again", e1.message, e2.message);
    if (rc1 == TSR_OK && strcmp(d1, d2) != 0)
        differ(c->name, "the order read again", d1, d2);
    free(d1);
    free(d2);
    tsr_order_free(mine);
    tsr_order_free(oracle);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t before, i;

    load_all();
    before = fuzz_live_bytes;
    for (i = 0; i < TSR_ARRAY_LEN(cases); i++)
        compare(&cases[i], (const char *)data, size);
    fuzz_check_balance(before);
    return 0;
}
