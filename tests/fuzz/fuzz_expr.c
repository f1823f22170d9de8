/*
 * fuzz_expr.c — libFuzzer harness for the expression lexer, parser, name
 * resolver, type checker, compiler and evaluator.
 *
 * The input is one expression.  It is escaped for a single-quoted YAML scalar
 * and spliced into a fixed rule file in three places in turn, each a different
 * context the language gives an expression:
 *   - a segment (bool, order level: no `item` in scope),
 *   - a category's `price` (money, `item` in scope),
 *   - a discount's `for` (bool, `item` in scope, `item.category` known).
 * The schema, tables, promo code and tier give every name of SPEC §2 and
 * every value type something to resolve to.  When the rule file loads, a
 * fixed order that fills every schema field is evaluated against it, so the
 * compiled program also runs, and the result JSON is built.
 *
 * Checked: no crash, no sanitizer report, no leak, no hang; a load error is
 * well formed.  Returns 0 always.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longer inputs only retest the length limit (max_expression_length is 2 KiB
 * in fuzz_load_options) at a quadratic price in YAML escaping. */
#define MAX_EXPR 4096

/* "@@" marks where the expression goes. */
static const char *const templates[] = {
    /* a segment, used by an offer so that it is evaluated */
    "segments:\n"
    "  probe: '@@'\n"
    "categories:\n"
    "  - id: any\n"
    "    price: 2.00\n"
    "offers:\n"
    "  - id: probe-offer\n"
    "    when: segment.probe\n"
    "    message: probe\n",

    /* a category price, item in scope, money expected */
    "categories:\n"
    "  - id: probe\n"
    "    for: item.kind == \"ticket\"\n"
    "    price: '@@'\n"
    "  - id: other\n"
    "    price: 1.00\n",

    /* a discount's `for`, item in scope, after categories ran */
    "categories:\n"
    "  - id: adult\n"
    "    for: item.kind == \"ticket\"\n"
    "    price: 25.00\n"
    "discounts:\n"
    "  - id: probe\n"
    "    for: '@@'\n"
    "    percent: 10\n",
};

/* Everything the expressions may name: fields of every type, tables, a
 * segment, a tier and a promo code. */
static const char head[] =
    "tessera: 1\n"
    "ruleset: fuzz-expr\n"
    "version: \"1\"\n"
    "currency: EUR\n"
    "rounding: half_up\n"
    "timezone: Europe/Berlin\n"
    "schema:\n"
    "  item: { height_cm: int, zone: string, event_start: datetime, validated: bool,\n"
    "          weight: decimal, deposit: money, visit_on: date, extras: list<string> }\n"
    "  customer: { visits: int, last_visit: date, birthday: date, member: bool,\n"
    "              spend_12m: money, ratio: decimal, joined: datetime, nick: string }\n"
    "tables:\n"
    "  zone_price: { A: 120.00, B: 95.00, C: 60.00 }\n"
    "  zone_rank: { A: 1, B: 2, C: 3 }\n"
    "  holidays: [2026-12-24, 2026-12-25, 2027-01-01]\n"
    "  kinds: [\"ticket\", \"fnb\"]\n"
    "tiers:\n"
    "  - { id: gold, when: customer.spend_12m >= 500.00 }\n"
    "promo_codes:\n"
    "  - id: doctors\n"
    "    match: '^DOC-[0-9]{6}$'\n"
    "  - id: summer\n"
    "    code: SUMMER10\n";

/* A fixed order: every schema field present on the first line and the
 * customer, absent on the second line so missing-value paths run too. */
static const char order[] =
    "{\"id\":\"X-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\",\"channel\":\"web\","
    "\"customer\":{\"id\":\"C-1\",\"tags\":[\"season_pass\",\"vip\"],\"points_balance\":1200,"
    "\"visits\":3,\"last_visit\":\"2025-01-02\",\"birthday\":\"2016-02-29\",\"member\":true,"
    "\"spend_12m\":\"812.50\",\"ratio\":\"0.125\",\"joined\":\"2020-03-01T09:00:00Z\","
    "\"nick\":\"Ünïcødé\"},"
    "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"sku\":\"PARK-DAY\",\"quantity\":2,"
    "\"height_cm\":118,\"zone\":\"B\",\"event_start\":\"2026-06-20T19:00:00+02:00\","
    "\"validated\":false,\"weight\":\"1.5\",\"deposit\":\"5.00\",\"visit_on\":\"2026-06-20\","
    "\"extras\":[\"locker\"]},"
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"sku\":\"COLA-05\",\"quantity\":3,\"price\":\"1.50\"}],"
    "\"promo_codes\":[\"doc-123456\",\"SUMMER10\"],\"redeem_points\":0}";

/* The rule file for template t with the expression spliced in, escaped for a
 * single-quoted scalar: a quote is doubled.  Line breaks become spaces: YAML
 * folds them inside a quoted scalar anyway, and a break at the wrong indent
 * only produces a YAML error, which spends the fuzzer's time on libyaml
 * instead of the expression grammar (fuzz_ruleset covers libyaml). */
static char *build_rules(size_t t, const uint8_t *data, size_t size, size_t *out_len)
{
    const char *tpl = templates[t];
    const char *mark = strstr(tpl, "@@");
    size_t head_len = sizeof head - 1;
    size_t pre = (size_t)(mark - tpl), post = strlen(mark + 2);
    char *buf = malloc(head_len + pre + 2 * size + post + 1);
    char *p;
    size_t i;

    if (!buf)
        return NULL;
    p = buf;
    memcpy(p, head, head_len);
    p += head_len;
    memcpy(p, tpl, pre);
    p += pre;
    for (i = 0; i < size; i++) {
        char c = (char)data[i];
        if (c == '\'')
            *p++ = '\'';
        *p++ = (c == '\n' || c == '\r') ? ' ' : c;
    }
    memcpy(p, mark + 2, post);
    p += post;
    *p = '\0';
    *out_len = (size_t)(p - buf);
    return buf;
}

static void run_one(size_t t, const uint8_t *data, size_t size)
{
    tsr_load_options opts;
    tsr_ruleset *rs = NULL;
    tsr_result *res = NULL;
    tsr_error err;
    size_t len = 0, before = fuzz_live_bytes;
    char *text = build_rules(t, data, size, &len);
    int rc;

    if (!text)
        return;   /* out of memory in the harness: not the library's fault */
    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    rc = tsr_ruleset_load_string(&rs, text, len, "expr.yaml", &opts, &err);
    fuzz_say(t == 0 ? "segment" : t == 1 ? "price" : "for", rc, &err);
    if (rc != TSR_OK) {
        fuzz_check_error(rc, &err);
    } else {
        rc = tsr_evaluate_text(&res, rs, order, sizeof order - 1, NULL, &err);
        fuzz_say("  evaluate", rc, &err);
        if (rc == TSR_OK) {
            size_t jlen = 0;
            const char *json = tsr_result_json(res, &jlen);
            if (json && strlen(json) != jlen)
                fuzz_die("result JSON length disagrees with its text", strlen(json), jlen);
            tsr_result_free(res);
        } else {
            /* An evaluation error (overflow, regex limit, a missing price) is
             * a legitimate outcome for an arbitrary expression. */
            if (res)
                fuzz_die("failed evaluation left a result in *out", 0, 0);
            fuzz_check_error(rc, &err);
        }
        tsr_ruleset_free(rs);
    }
    free(text);
    fuzz_check_balance(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t t;

    if (size > MAX_EXPR)
        return 0;
    for (t = 0; t < sizeof templates / sizeof templates[0]; t++)
        run_one(t, data, size);
    return 0;
}
