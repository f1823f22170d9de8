/* Unit tests for step 10, taxes (lib/taxes.c), and how the tax reaches
 * the totals, the JSON and the accessors: inclusive and exclusive prices,
 * rounding per line and per rate (with the allocation's tie rule), the tax
 * base with redeemed points, lines no rate takes, the trace, overflow, and
 * out-of-memory.  Figures are worked by hand in the comments. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eval.h"
#include "alloc_fixture.h"

#define HEADER "tessera: 1\nruleset: t\ncurrency: EUR\n"
#define DT "\"datetime\": \"2026-06-10T11:00:00+03:00\""

/* The rates of SPEC §3's example: alcohol 25.5, food 14, tickets 10. */
#define RATES "  rates:\n" \
    "    - { id: alcohol, for: item.kind == \"fnb\" and item.alcohol, rate: 25.5 }\n" \
    "    - { id: food, for: item.kind == \"fnb\", rate: 14 }\n" \
    "    - { id: culture, for: item.kind == \"ticket\", rate: 10 }\n"
#define SCHEMA "schema: { item: { alcohol: bool } }\n"

#define LINE(id, kind, price, qty) "{\"id\": \"" id "\", \"kind\": \"" kind "\", \"price\": \"" \
                                   price "\", \"quantity\": " #qty "}"

static tsr_ruleset *load(const char *yaml)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    if (tsr_ruleset_load_string(&rs, yaml, strlen(yaml), "test.yaml", NULL, &err) != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fail_msg("rule set did not load: %s", buf);
    }
    return rs;
}

static tsr_result *eval(const tsr_ruleset *rs, const char *order)
{
    tsr_result *r = NULL;
    tsr_error err;
    if (tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err) != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fail_msg("evaluation failed: %s", buf);
    }
    return r;
}

static tsr_totals totals_of(const tsr_result *r)
{
    tsr_totals t = TSR_TOTALS_INIT;
    assert_int_equal(tsr_result_totals(r, &t), TSR_OK);
    return t;
}

/* Line i's tax through the accessor: the rate's id (NULL for none). */
static const char *line_rate(const tsr_result *r, size_t i, int64_t *amount)
{
    const char *id = NULL, *rate = NULL;
    int has = tsr_result_line_tax(r, i, &id, &rate, amount);
    assert_true(has == 0 || has == 1);
    assert_int_equal(has, id != NULL);
    assert_int_equal(has, rate != NULL);
    return id;
}

static const tsr_trace_entry *trace_of(const tsr_result *r, const char *id)
{
    size_t i;
    for (i = 0; i < r->ntrace; i++)
        if (strcmp(r->trace[i].section, "taxes") == 0 && strcmp(r->trace[i].id, id) == 0)
            return &r->trace[i];
    fail_msg("no trace entry taxes.%s", id);
    return NULL;
}

static bool json_has(tsr_result *r, const char *s)
{
    const char *json = tsr_result_json(r, NULL);
    assert_non_null(json);
    return strstr(json, s) != NULL;
}

/* ---------------------------------------------------------------------
 * Inclusive prices, rounded per line.
 */
static void test_inclusive_line_rounding_gives_the_contracts_example(void **state)
{
    /* 89.00 at 10 %: 89 × 10 / 110 = 8.0909… -> 8.09.
     * 9.00 at 25.5 %: 9 × 25.5 / 125.5 = 1.8287… -> 1.83.
     * A sandwich at 14 %: 5.70 × 14 / 114 = 0.7 exactly -> 0.70.
     * The shop's cap takes no rate: no tax. */
    tsr_ruleset *rs = load(HEADER SCHEMA "taxes:\n" RATES);
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" LINE("t1", "ticket", "89.00", 1) ","
                         "{\"id\": \"w1\", \"kind\": \"fnb\", \"alcohol\": true, \"price\": \"9.00\"},"
                         LINE("s1", "fnb", "5.70", 1) "," LINE("m1", "merch", "12.00", 1) "]}");
    tsr_totals t = totals_of(r);
    const char *id, *rate;
    int64_t amount, base;
    (void)state;

    assert_string_equal(line_rate(r, 0, &amount), "culture");
    assert_int_equal(amount, 809);
    assert_string_equal(line_rate(r, 1, &amount), "alcohol");
    assert_int_equal(amount, 183);
    assert_string_equal(line_rate(r, 2, &amount), "food");
    assert_int_equal(amount, 70);
    assert_null(line_rate(r, 3, &amount));
    assert_int_equal(amount, 0);
    /* the tax is part of the prices: totals and due as without taxes */
    assert_int_equal(t.tax, 809 + 183 + 70);
    assert_int_equal(t.due, 8900 + 900 + 570 + 1200);
    assert_int_equal(t.subtotal - t.discount - t.redeemed_value, t.due);
    assert_int_equal(tsr_result_line_total(r, 0), 8900);
    /* the summary: rates used, in `rates` order (alcohol, food, culture) */
    assert_int_equal(tsr_result_tax_count(r), 3);
    assert_int_equal(tsr_result_tax(r, 0, &id, &rate, &base, &amount), TSR_OK);
    assert_string_equal(id, "alcohol");
    assert_string_equal(rate, "25.5");
    assert_int_equal(base, 900);
    assert_int_equal(amount, 183);
    assert_int_equal(tsr_result_tax(r, 2, &id, &rate, &base, &amount), TSR_OK);
    assert_string_equal(id, "culture");
    assert_string_equal(rate, "10");
    assert_int_equal(base, 8900);
    assert_int_equal(tsr_result_tax(r, 3, &id, NULL, NULL, NULL), TSR_EINVAL);
    assert_int_equal(tsr_result_line_tax(r, 4, NULL, NULL, NULL), TSR_EINVAL);
    assert_true(json_has(r, "\"total\":\"89.00\",\"tax\":{\"id\":\"culture\",\"rate\":\"10\","
                            "\"amount\":\"8.09\"},\"points_earned\":0"));
    assert_true(json_has(r, "\"total\":\"12.00\",\"tax\":null,"));
    assert_true(json_has(r, "\"redeemed_value\":\"0.00\",\"tax\":\"10.62\",\"due\":\"115.70\"},"
                            "\"taxes\":[{\"id\":\"alcohol\",\"rate\":\"25.5\",\"base\":\"9.00\","
                            "\"amount\":\"1.83\"},{\"id\":\"food\",\"rate\":\"14\",\"base\":"
                            "\"5.70\",\"amount\":\"0.70\"},{\"id\":\"culture\",\"rate\":\"10\","
                            "\"base\":\"89.00\",\"amount\":\"8.09\"}],\"points\":"));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_tax_is_on_the_total_after_discounts(void **state)
{
    /* Two tickets of 45.00, 20 % off: 72.00, tax 72 × 10 / 110 = 6.545…
     * -> 6.55 (half_up), 6.55 again with half_even (not a tie). A rate's
     * `for` sees the current total: the free ticket takes `free`, 0 %. */
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: off, for: item.sku != \"F\", percent: 20 }\n"
                           "  - { id: gift, for: item.sku == \"F\", percent: 100 }\n"
                           "taxes:\n  rates:\n"
                           "    - { id: free, for: item.total == 0.00, rate: 0 }\n"
                           "    - { id: culture, for: item.subtotal > 0.00, rate: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"t1\", \"kind\": \"ticket\", \"sku\": \"T\", \"price\": \"45.00\", \"quantity\": 2},"
                         "{\"id\": \"g\", \"kind\": \"ticket\", \"sku\": \"F\", \"price\": \"45.00\"}]}");
    int64_t amount;
    (void)state;

    assert_string_equal(line_rate(r, 0, &amount), "culture");
    assert_int_equal(amount, 655);
    assert_string_equal(line_rate(r, 1, &amount), "free");
    assert_int_equal(amount, 0);
    assert_true(trace_of(r, "free")->applied);
    assert_true(json_has(r, "{\"id\":\"free\",\"rate\":\"0\",\"base\":\"0.00\",\"amount\":\"0.00\"}"));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Exclusive prices.
 */
static void test_exclusive_tax_is_added_to_what_is_due(void **state)
{
    /* A US-style sales tax of 8.875 % on top: 19.99 × 8.875 % = 1.7741…
     * -> 1.77; 3 × 4.50 = 13.50 -> 1.198… -> 1.20; the gift card takes no
     * rate.  Line totals stay net; due = 58.49 + 2.97 = 61.46. */
    tsr_ruleset *rs = load(HEADER "taxes:\n  prices: exclusive\n"
                           "  rates: [{ id: sales, for: item.kind != \"gift_card\", rate: 8.875 }]\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" LINE("a", "book", "19.99", 1) ","
                         LINE("b", "pen", "4.50", 3) "," LINE("c", "gift_card", "25.00", 1) "]}");
    tsr_totals t = totals_of(r);
    int64_t amount;
    (void)state;

    line_rate(r, 0, &amount);
    assert_int_equal(amount, 177);
    line_rate(r, 1, &amount);
    assert_int_equal(amount, 120);
    assert_null(line_rate(r, 2, &amount));
    assert_int_equal(tsr_result_line_total(r, 0), 1999);   /* net */
    assert_int_equal(t.tax, 297);
    assert_int_equal(t.due, 1999 + 1350 + 2500 + 297);
    /* the identity of exclusive prices */
    assert_int_equal(t.subtotal - t.discount - t.redeemed_value + t.tax, t.due);
    assert_true(json_has(r, "\"tax\":\"2.97\",\"due\":\"61.46\""));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Rounding per rate.
 */
static void test_rate_rounding_rounds_once_and_ties_go_to_the_earlier_line(void **state)
{
    /* Three tickets of 0.05 at 10 %, exclusive.  Per line: 0.005 each,
     * 0.01 each with half_up: 0.03.  Per rate: 0.15 × 10 % = 0.015 ->
     * 0.02, shared 1 : 1 : 1 -> 0, 0, 0 and two cents left over, all three
     * remainders equal: the earlier lines get them, 0.01, 0.01, 0.00. */
    tsr_ruleset *line = load(HEADER "taxes:\n  prices: exclusive\n"
                             "  rates: [{ id: vat, rate: 10 }]\n");
    tsr_ruleset *rate = load(HEADER "taxes:\n  prices: exclusive\n  rounding: rate\n"
                             "  rates: [{ id: vat, rate: 10 }]\n");
    const char *order = "{" DT ", \"items\": [" LINE("a", "t", "0.05", 1) ","
                        LINE("b", "t", "0.05", 1) "," LINE("c", "t", "0.05", 1) "]}";
    tsr_result *r = eval(line, order);
    int64_t amount, base;
    (void)state;

    assert_int_equal(totals_of(r).tax, 3);
    tsr_result_free(r);
    r = eval(rate, order);
    assert_int_equal(totals_of(r).tax, 2);
    assert_int_equal(totals_of(r).due, 17);
    line_rate(r, 0, &amount);
    assert_int_equal(amount, 1);
    line_rate(r, 1, &amount);
    assert_int_equal(amount, 1);
    line_rate(r, 2, &amount);
    assert_int_equal(amount, 0);
    assert_int_equal(tsr_result_tax(r, 0, NULL, NULL, &base, &amount), TSR_OK);
    assert_int_equal(base, 15);
    assert_int_equal(amount, 2);
    tsr_result_free(r);
    tsr_ruleset_free(line);
    tsr_ruleset_free(rate);
}

static void test_rate_rounding_shares_by_base_rates_apart(void **state)
{
    /* Inclusive, per rate.  culture: 10.00 + 25.00 + 0.00 = 35.00 × 10 /
     * 110 = 3.1818… -> 3.18, shared 10 : 25 : 0: 0.90857… and 2.27142…
     * give 0.90 and 2.27, the cent left over to the larger remainder (the
     * first line): 0.91, 2.27, 0.00.  food, on its own line only: 2 × 5.70
     * = 11.40 × 14 / 114 = 1.40. */
    tsr_ruleset *rs = load(HEADER SCHEMA "taxes:\n  rounding: rate\n" RATES);
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" LINE("t1", "ticket", "10.00", 1) ","
                         LINE("f1", "fnb", "5.70", 2) "," LINE("t2", "ticket", "25.00", 1) ","
                         LINE("t3", "ticket", "0.00", 1) "]}");
    int64_t a[4];
    (void)state;

    line_rate(r, 0, &a[0]);
    line_rate(r, 1, &a[1]);
    line_rate(r, 2, &a[2]);
    line_rate(r, 3, &a[3]);
    assert_int_equal(a[0], 91);
    assert_int_equal(a[1], 140);
    assert_int_equal(a[2], 227);
    assert_int_equal(a[3], 0);
    assert_int_equal(totals_of(r).tax, 318 + 140);
    assert_int_equal(tsr_result_tax_count(r), 2);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_the_rule_sets_rounding_mode_rounds_the_tax(void **state)
{
    /* 0.55 at 10 % exclusive is 0.055: half_up 0.06, half_even 0.06 (the
     * even neighbour of 0.055 is 0.06), down 0.05; 0.45 -> 0.045: half_up
     * 0.05, half_even 0.04, down 0.04. */
    static const char *modes[] = { "half_up", "half_even", "down" };
    static const int64_t want[3][2] = { { 6, 5 }, { 6, 4 }, { 5, 4 } };
    size_t m;
    (void)state;

    for (m = 0; m < 3; m++) {
        char yaml[256];
        tsr_ruleset *rs;
        tsr_result *r;
        int64_t amount;
        snprintf(yaml, sizeof yaml, HEADER "rounding: %s\ntaxes:\n  prices: exclusive\n"
                 "  rates: [{ id: vat, rate: 10 }]\n", modes[m]);
        rs = load(yaml);
        r = eval(rs, "{" DT ", \"items\": [" LINE("a", "t", "0.55", 1) "," LINE("b", "t", "0.45", 1) "]}");
        line_rate(r, 0, &amount);
        assert_int_equal(amount, want[m][0]);
        line_rate(r, 1, &amount);
        assert_int_equal(amount, want[m][1]);
        tsr_result_free(r);
        tsr_ruleset_free(rs);
    }
}

/* ---------------------------------------------------------------------
 * The tax base with redeemed points.
 */
static void test_base_paid_or_price_with_redeemed_points(void **state)
{
#define LOYALTY "loyalty:\n  redeem: { point_value: 1.00 }\n"
#define ORDER "{" DT ", \"customer\": {\"id\": \"C\", \"points_balance\": 100}, " \
              "\"redeem_points\": 20, \"items\": [" LINE("t", "ticket", "100.00", 1) "]}"
    /* 100.00 with 20 points redeemed: the customer pays 80.00.
     * inclusive, base paid:  80 × 10 / 110 = 7.27;  base price: 100 -> 9.09.
     * exclusive, base paid:  8.00 on top (due 88.00); base price 10.00 (due 90.00). */
    static const struct {
        const char *taxes;
        int64_t tax, due;
    } cases[] = {
        { "taxes: { rates: [{ id: vat, rate: 10 }] }\n", 727, 8000 },
        { "taxes: { base: price, rates: [{ id: vat, rate: 10 }] }\n", 909, 8000 },
        { "taxes: { prices: exclusive, rates: [{ id: vat, rate: 10 }] }\n", 800, 8800 },
        { "taxes: { prices: exclusive, base: price, rates: [{ id: vat, rate: 10 }] }\n", 1000, 9000 },
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        tsr_ruleset *rs;
        tsr_result *r;
        tsr_totals t;
        int64_t base;
        snprintf(yaml, sizeof yaml, "%s%s%s", HEADER, LOYALTY, cases[i].taxes);
        rs = load(yaml);
        r = eval(rs, ORDER);
        t = totals_of(r);
        assert_int_equal(t.redeemed_value, 2000);
        assert_int_equal(t.tax, cases[i].tax);
        assert_int_equal(t.due, cases[i].due);
        assert_int_equal(tsr_result_tax(r, 0, NULL, NULL, &base, NULL), TSR_OK);
        assert_int_equal(base, strstr(cases[i].taxes, "base: price") ? 10000 : 8000);
        tsr_result_free(r);
        tsr_ruleset_free(rs);
    }
#undef LOYALTY
#undef ORDER
}

/* ---------------------------------------------------------------------
 * No rate, the trace.
 */
static void test_lines_no_rate_takes_carry_no_tax_and_the_trace_says_why(void **state)
{
    tsr_ruleset *rs = load(HEADER SCHEMA "taxes:\n" RATES);
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" LINE("m", "merch", "10.00", 1) "]}");
    tsr_totals t = totals_of(r);
    int64_t amount = -1;
    (void)state;

    assert_null(line_rate(r, 0, &amount));
    assert_int_equal(amount, 0);
    assert_int_equal(t.tax, 0);
    assert_int_equal(t.due, 1000);
    assert_int_equal(tsr_result_tax_count(r), 0);
    assert_true(json_has(r, "\"tax\":null"));
    assert_true(json_has(r, "\"tax\":\"0.00\",\"due\":\"10.00\"},\"taxes\":[],"));
    assert_false(trace_of(r, "alcohol")->applied);
    assert_string_equal(trace_of(r, "alcohol")->why, "`item.kind == \"fnb\"` was false");
    assert_string_equal(trace_of(r, "culture")->why, "`item.kind == \"ticket\"` was false");
    tsr_result_free(r);

    /* a ticket takes culture; food is never reached by a line it was
     * tested on, since the only fnb line took alcohol first */
    r = eval(rs, "{" DT ", \"items\": [" LINE("t", "ticket", "10.00", 1) ","
             "{\"id\": \"w\", \"kind\": \"fnb\", \"alcohol\": true, \"price\": \"9.00\"}]}");
    assert_true(trace_of(r, "culture")->applied);
    assert_true(trace_of(r, "alcohol")->applied);
    assert_false(trace_of(r, "food")->applied);
    assert_string_equal(trace_of(r, "food")->why, "`item.kind == \"fnb\"` was false");
    tsr_result_free(r);
    tsr_ruleset_free(rs);

    rs = load(HEADER "taxes: { rates: [{ id: all, rate: 20 }, { id: never, rate: 5 }] }\n");
    r = eval(rs, "{" DT ", \"items\": [" LINE("a", "x", "1.00", 1) "]}");
    assert_string_equal(trace_of(r, "never")->why,
                        "no line reached it: earlier rates took every line");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_without_taxes_the_result_has_no_tax(void **state)
{
    tsr_ruleset *rs = load(HEADER "categories: [{ id: a, price: 10.00 }]\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [{\"id\": \"t\", \"kind\": \"x\"}]}");
    tsr_totals t = totals_of(r);
    int64_t amount = -1;
    (void)state;

    assert_null(r->line_tax);
    assert_false(json_has(r, "tax"));
    assert_int_equal(t.tax, 0);
    assert_int_equal(tsr_result_tax_count(r), 0);
    assert_int_equal(tsr_result_line_tax(r, 0, NULL, NULL, &amount), 0);
    assert_int_equal(amount, 0);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_totals_version_1_is_written_without_the_tax(void **state)
{
    tsr_ruleset *rs = load(HEADER "taxes: { prices: exclusive, rates: [{ id: v, rate: 10 }] }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" LINE("a", "x", "10.00", 1) "]}");
    tsr_totals t;
    (void)state;

    /* a caller built against version 1 of the header has no `tax` field:
     * the byte after points_redeemed must stay as it was */
    memset(&t, 0x5a, sizeof t);
    t.version = 1;
    assert_int_equal(tsr_result_totals(r, &t), TSR_OK);
    assert_int_equal(t.due, 1100);
    assert_int_equal(t.tax, (int64_t)0x5a5a5a5a5a5a5a5aLL);
    t.version = 2;
    assert_int_equal(tsr_result_totals(r, &t), TSR_OK);
    assert_int_equal(t.tax, 100);
    t.version = 3;
    assert_int_equal(tsr_result_totals(r, &t), TSR_EINVAL);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_no_trace_gives_the_same_tax(void **state)
{
    tsr_ruleset *rs = load(HEADER SCHEMA "taxes:\n  rounding: rate\n" RATES);
    const char *order = "{" DT ", \"items\": [" LINE("t1", "ticket", "89.00", 1) ","
                        LINE("t2", "ticket", "11.00", 3) "]}";
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_result *a = eval(rs, order), *b = NULL;
    (void)state;

    o.no_trace = 1;
    assert_int_equal(tsr_evaluate_text(&b, rs, order, strlen(order), &o, NULL), TSR_OK);
    assert_int_equal(b->ntrace, 0);
    assert_int_equal(totals_of(a).tax, totals_of(b).tax);
    assert_int_equal(a->line_tax[1].amount, b->line_tax[1].amount);
    tsr_result_free(a);
    tsr_result_free(b);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Overflow and memory.
 */
static void test_overflowing_tax_amounts_fail_the_evaluation(void **state)
{
    tsr_ruleset *rs = load(HEADER "taxes: { prices: exclusive, rates: [{ id: vat, rate: 25.5 }] }\n");
    tsr_result *r = (tsr_result *)1;
    tsr_error err;
    /* two lines of 50,000,000,000,000,000.00 (5·10^18 cents): their bases
     * do not add up in 64 bits */
    const char *two = "{" DT ", \"items\": [" LINE("a", "x", "50000000000000000.00", 1) ","
                      LINE("b", "x", "50000000000000000.00", 1) "]}";
    /* one line of 9·10^18 cents: its tax, 2.3·10^18, fits, but due does not */
    const char *one = "{" DT ", \"items\": [" LINE("a", "x", "90000000000000000.00", 1) "]}";
    (void)state;

    assert_int_equal(tsr_evaluate_text(&r, rs, two, strlen(two), NULL, &err), TSR_EEVAL);
    assert_null(r);
    assert_string_equal(err.message, "tax rate `vat`: an amount overflows");
    assert_string_equal(err.path, "items[1]");
    assert_int_equal(err.line, 4);
    assert_int_equal(tsr_evaluate_text(&r, rs, one, strlen(one), NULL, &err), TSR_EEVAL);
    assert_null(r);
    assert_string_equal(err.message, "order totals overflow");
    tsr_ruleset_free(rs);

    /* per rate: the sum of the bases overflows the same way, at the rate */
    rs = load(HEADER "taxes: { rounding: rate, rates: [{ id: vat, rate: 25.5 }] }\n");
    assert_int_equal(tsr_evaluate_text(&r, rs, two, strlen(two), NULL, &err), TSR_EEVAL);
    assert_string_equal(err.message, "tax rate `vat`: an amount overflows");
    tsr_ruleset_free(rs);
}

static void test_evaluation_with_taxes_fails_cleanly_out_of_memory(void **state)
{
    static const char yaml[] = HEADER SCHEMA "taxes:\n  rounding: rate\n" RATES;
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_order *order = NULL;
    tsr_result *r = NULL;
    char text[32 * 1024];
    size_t len, i, baseline, n;
    int rc = TSR_ENOMEM;
    (void)state;

    lo.allocator = &user;
    assert_int_equal(tsr_ruleset_load_string(&rs, yaml, strlen(yaml), "oom.yaml", &lo, NULL),
                     TSR_OK);
    len = (size_t)snprintf(text, sizeof text, "{" DT ", \"items\": [");
    for (i = 0; i < 200; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "%s{\"id\": \"l%zu\", \"kind\": \"%s\", \"price\": \"%zu.%02zu\"}",
                                i ? "," : "", i, i % 3 ? "ticket" : "fnb", i % 7 + 1, i % 100);
    len += (size_t)snprintf(text + len, sizeof text - len, "]}");
    assert_int_equal(tsr_order_new(&order, rs, NULL), TSR_OK);
    assert_int_equal(tsr_order_parse(order, text, len, NULL), TSR_OK);
    baseline = c.live;
    for (n = 1; rc == TSR_ENOMEM && n < 10000; n++) {
        c.calls = 0;
        c.fail_at = n;
        rc = tsr_evaluate(&r, rs, order, NULL, NULL);
        if (rc == TSR_ENOMEM) {
            assert_null(r);
            assert_int_equal(c.live, baseline);
        }
    }
    assert_int_equal(rc, TSR_OK);
    assert_true(n > 2);
    c.fail_at = 0;
    assert_non_null(tsr_result_json(r, NULL));
    tsr_result_free(r);
    tsr_order_free(order);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inclusive_line_rounding_gives_the_contracts_example),
        cmocka_unit_test(test_tax_is_on_the_total_after_discounts),
        cmocka_unit_test(test_exclusive_tax_is_added_to_what_is_due),
        cmocka_unit_test(test_rate_rounding_rounds_once_and_ties_go_to_the_earlier_line),
        cmocka_unit_test(test_rate_rounding_shares_by_base_rates_apart),
        cmocka_unit_test(test_the_rule_sets_rounding_mode_rounds_the_tax),
        cmocka_unit_test(test_base_paid_or_price_with_redeemed_points),
        cmocka_unit_test(test_lines_no_rate_takes_carry_no_tax_and_the_trace_says_why),
        cmocka_unit_test(test_without_taxes_the_result_has_no_tax),
        cmocka_unit_test(test_totals_version_1_is_written_without_the_tax),
        cmocka_unit_test(test_no_trace_gives_the_same_tax),
        cmocka_unit_test(test_overflowing_tax_amounts_fail_the_evaluation),
        cmocka_unit_test(test_evaluation_with_taxes_fails_cleanly_out_of_memory),
    };
    /* `test_taxes NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
