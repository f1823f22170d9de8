/*
 * test_budget.c — bounded evaluation: the aggregate cache that computes each
 * count/sum/any/all once while what it reads stays the same (so nested
 * aggregates and aggregates in per-line rules cost one pass over the lines),
 * and the work budget (tsr_load_options.max_eval_steps) that stops any
 * evaluation, refund or rule test past it with TSR_ELIMIT naming the rule.
 *
 * "Small" is asserted through the step counter an evaluation keeps
 * (tsr_result.steps) and through evaluations that succeed under a budget
 * the uncached evaluator would exceed by orders of magnitude — never
 * through timings.  Cached and uncached evaluations are compared byte for
 * byte by evaluating once more with the rule set's cache slots hidden
 * (rs->naggs = 0 gives an evaluation no cache: every aggregate is computed
 * where it is met, as before the cache existed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eval.h"
#include "rules.h"

#include <string.h>
#include <unistd.h>

#define HEAD "tessera: 1\nruleset: budget\ncurrency: EUR\nschema:\n  item: { n: int }\n"

static tsr_ruleset *load(const char *text, uint64_t budget)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc;

    opts.max_eval_steps = budget;
    rc = tsr_ruleset_load_string(&rs, text, strlen(text), "budget.yaml", &opts, &err);
    if (rc != TSR_OK)
        fprintf(stderr, "load: %s:%d:%d: %s\n", err.file, err.line, err.column, err.message);
    assert_int_equal(rc, TSR_OK);
    return rs;
}

/* An order of n ticket lines l0, l1, ...: item.n = n_of(i), price p_of(i)
 * minor units (negative: no price). */
static tsr_order *lines(const tsr_ruleset *rs, int n, int64_t (*n_of)(int),
                        int64_t (*p_of)(int))
{
    tsr_order *o = NULL;
    tsr_error err;
    int fn = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "n");
    int fp = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "price");
    int fdt = tsr_ruleset_field(rs, TSR_RECORD_ORDER, "datetime");
    int i, at;
    char id[32];

    assert_true(fn >= 0 && fp >= 0 && fdt >= 0);
    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, fdt, "2026-06-10T11:00:00+03:00",
                                        25, &err), TSR_OK);
    for (i = 0; i < n; i++) {
        snprintf(id, sizeof id, "l%d", i);
        assert_int_equal(tsr_order_add_line(o, id, "ticket", 1, &at, &err), TSR_OK);
        assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, at, fn, n_of(i), &err), TSR_OK);
        if (p_of(i) >= 0)
            assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, at, fp, p_of(i), &err),
                             TSR_OK);
    }
    return o;
}

static int64_t one(int i)
{
    (void)i;
    return 1;
}

static int64_t odd(int i)
{
    return i % 2;
}

static int64_t euro(int i)
{
    (void)i;
    return 100;
}

static int64_t no_price(int i)
{
    (void)i;
    return -1;
}

static tsr_result *evaluate(const tsr_ruleset *rs, const tsr_order *o)
{
    tsr_result *r = NULL;
    tsr_error err;
    int rc = tsr_evaluate(&r, rs, o, NULL, &err);
    if (rc != TSR_OK)
        fprintf(stderr, "evaluate: %s:%d:%d: %s\n", err.file, err.line, err.column, err.message);
    assert_int_equal(rc, TSR_OK);
    return r;
}

/* The result JSON of evaluating o with the cache, and again without it:
 * they must be the same bytes. */
static void same_cached_or_not(tsr_ruleset *rs, const tsr_order *o)
{
    tsr_result *cached = evaluate(rs, o), *plain;
    uint32_t naggs = rs->naggs;
    size_t a, b;
    const char *ja, *jb;

    assert_true(naggs > 0);
    rs->naggs = 0;          /* no cache slots: every aggregate computed where met */
    plain = evaluate(rs, o);
    rs->naggs = naggs;
    ja = tsr_result_json(cached, &a);
    jb = tsr_result_json(plain, &b);
    assert_non_null(ja);
    assert_non_null(jb);
    assert_string_equal(ja, jb);
    assert_int_equal(a, b);
    /* the cache is what makes the difference in work */
    assert_true(cached->steps <= plain->steps);
    tsr_result_free(cached);
    tsr_result_free(plain);
}

static int64_t due(const tsr_result *r)
{
    tsr_totals t = TSR_TOTALS_INIT;
    assert_int_equal(tsr_result_totals(r, &t), TSR_OK);
    return t.due;
}

/* ---------------------------------------------------------------------
 * The cache: nested and per-line aggregates cost one pass each.
 */
#define SUM8(x) "sum(items, sum(items, sum(items, sum(items, sum(items, sum(items, " \
                "sum(items, sum(items, " x "))))))))"

static const char deep_rules[] = HEAD
    "offers:\n"
    "  - id: deep\n"
    "    when: '" SUM8("item.n") " == 25600000000'\n"
    "    message: twenty to the eighth\n";

static void eight_nested_sums_over_20_lines_take_a_few_hundred_steps(void **state)
{
    /* 20^8 = 25,600,000,000 body evaluations without the cache; with it
     * each level is one pass of 20 lines */
    tsr_ruleset *rs = load(deep_rules, 10000);
    tsr_order *o = lines(rs, 20, one, euro);
    tsr_result *r = evaluate(rs, o);
    const char *id = NULL;

    (void)state;
    assert_int_equal(tsr_result_offer_count(r), 1);
    assert_int_equal(tsr_result_offer(r, 0, &id, NULL), TSR_OK);
    assert_string_equal(id, "deep");
    assert_true(r->steps > 8 * 20);
    assert_true(r->steps < 400);
    tsr_result_free(r);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void eight_nested_sums_answer_as_without_the_cache(void **state)
{
    static const char rules[] = HEAD
        "offers:\n"
        "  - id: deep\n"
        "    when: '" SUM8("item.n") " == 6561'\n"
        "    message: three to the eighth\n";
    tsr_ruleset *rs = load(rules, 0);
    tsr_order *o = lines(rs, 3, one, euro);
    tsr_result *r = evaluate(rs, o);

    (void)state;
    assert_int_equal(tsr_result_offer_count(r), 1);
    tsr_result_free(r);
    same_cached_or_not(rs, o);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static const char per_line_rules[] = HEAD
    "categories:\n"
    "  - id: c\n"
    "    when: 'sum(items, count(items, item.n > 0)) == 50000000'\n"
    "    price: 1.00\n";

static void a_per_line_category_over_10000_lines_computes_its_aggregate_once(void **state)
{
    /* 10,000 lines, half with n > 0: count is 5,000, the sum 5·10^7.  The
     * uncached evaluator computes it for each line: 10^12 steps. */
    tsr_ruleset *rs = load(per_line_rules, 100000);
    tsr_order *o = lines(rs, 10000, odd, no_price);
    tsr_result *r = evaluate(rs, o);

    (void)state;
    assert_int_equal(due(r), 10000 * 100);
    assert_string_equal(tsr_result_line_category(r, 0), "c");
    assert_string_equal(tsr_result_line_category(r, 9999), "c");
    /* one pass for count, one for sum, a few steps per line */
    assert_true(r->steps < 60000);
    tsr_result_free(r);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void a_per_line_category_answers_as_without_the_cache(void **state)
{
    static const char rules[] = HEAD
        "categories:\n"
        "  - id: c\n"
        "    when: 'sum(items, count(items, item.n > 0)) == 6'\n"
        "    price: 1.00\n"
        "  - id: d\n"
        "    price: 2.00\n";
    tsr_ruleset *rs = load(rules, 0);
    tsr_order *o = lines(rs, 6, odd, no_price);   /* count 3, sum 18: category d */
    tsr_result *r = evaluate(rs, o);

    (void)state;
    assert_string_equal(tsr_result_line_category(r, 0), "d");
    assert_int_equal(due(r), 6 * 200);
    tsr_result_free(r);
    same_cached_or_not(rs, o);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * What the cache must not keep: values that evaluation changes.
 */
static void categories_see_the_category_of_each_line_as_it_is_set(void **state)
{
    /* count(...) changes after each line takes `first`: computed again */
    static const char rules[] = HEAD
        "categories:\n"
        "  - id: first\n"
        "    when: 'count(items, item.category == \"first\") < 2'\n"
        "    price: 5.00\n"
        "  - id: rest\n"
        "    price: 7.00\n";
    tsr_ruleset *rs = load(rules, 0);
    tsr_order *o = lines(rs, 4, one, no_price);
    tsr_result *r = evaluate(rs, o);

    (void)state;
    assert_string_equal(tsr_result_line_category(r, 0), "first");
    assert_string_equal(tsr_result_line_category(r, 1), "first");
    assert_string_equal(tsr_result_line_category(r, 2), "rest");
    assert_string_equal(tsr_result_line_category(r, 3), "rest");
    assert_int_equal(due(r), 500 + 500 + 700 + 700);
    tsr_result_free(r);
    same_cached_or_not(rs, o);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void categories_see_the_prices_set_so_far(void **state)
{
    /* four lines at 1.00; `double` doubles a line while the prices seen so
     * far add up to less than 6.00: 4.00 before line 0, 5.00 before line
     * 1 (line 0 now 2.00), 6.00 before lines 2 and 3.  A value kept from
     * line 0 would double them all. */
    static const char rules[] = HEAD
        "categories:\n"
        "  - id: double\n"
        "    when: 'sum(items, item.price) < 6.00'\n"
        "    price: item.price * 2\n"
        "  - id: keep\n"
        "    price: item.price\n";
    tsr_ruleset *rs = load(rules, 0);
    tsr_order *o = lines(rs, 4, one, euro);
    tsr_result *r = evaluate(rs, o);

    (void)state;
    assert_string_equal(tsr_result_line_category(r, 0), "double");
    assert_string_equal(tsr_result_line_category(r, 1), "double");
    assert_string_equal(tsr_result_line_category(r, 2), "keep");
    assert_string_equal(tsr_result_line_category(r, 3), "keep");
    assert_int_equal(due(r), 200 + 200 + 100 + 100);
    tsr_result_free(r);
    same_cached_or_not(rs, o);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void discounts_see_the_totals_earlier_discounts_left(void **state)
{
    /* a 100.00, b 50.00.  d0 halves a while the order is 150.00; d1 takes
     * 10 % off b only if it sees the 100.00 d0 left; d2 takes 10 % off the
     * lines worth more than half of what is left (a: 50.00 of 95.00). */
    static const char rules[] = HEAD
        "discounts:\n"
        "  - id: d0\n"
        "    priority: 1\n"
        "    when: 'sum(items, item.total) == 150.00'\n"
        "    for: item.id == \"l0\"\n"
        "    percent: 50\n"
        "  - id: d1\n"
        "    priority: 2\n"
        "    when: 'sum(items, item.total) == 100.00'\n"
        "    for: item.id == \"l1\"\n"
        "    percent: 10\n"
        "  - id: d2\n"
        "    priority: 3\n"
        "    for: 'item.total * 2 > sum(items, item.total)'\n"
        "    percent: 10\n";
    tsr_ruleset *rs = load(rules, 0);
    tsr_order *o = NULL;
    tsr_result *r;
    tsr_error err;
    static const char order[] =
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":["
        "{\"id\":\"l0\",\"kind\":\"t\",\"n\":1,\"price\":\"100.00\"},"
        "{\"id\":\"l1\",\"kind\":\"t\",\"n\":1,\"price\":\"50.00\"}]}";

    (void)state;
    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, order, sizeof order - 1, &err), TSR_OK);
    r = evaluate(rs, o);
    assert_int_equal(tsr_result_line_total(r, 0), 4500);
    assert_int_equal(tsr_result_line_total(r, 1), 4500);
    assert_int_equal(due(r), 9000);
    tsr_result_free(r);
    same_cached_or_not(rs, o);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void promo_flags_and_points_read_through_aggregates(void **state)
{
    /* an aggregate over promo.ID and item.total in discounts, earning and
     * offers, where `summer` is accepted, then judged no_effect */
    static const char rules[] = HEAD
        "promo_codes:\n"
        "  - { id: summer, code: SUMMER }\n"
        "discounts:\n"
        "  - id: never\n"
        "    requires: summer\n"
        "    for: 'any(items, promo.summer) and item.n > 5'\n"
        "    percent: 10\n"
        "  - id: big\n"
        "    when: 'count(items, item.total >= 1.00) == 3'\n"
        "    amount: 0.50\n"
        "loyalty:\n"
        "  earn:\n"
        "    - id: half\n"
        "      for: 'item.total * 2 > sum(items, item.total) / 3'\n"
        "      per: 0.10\n"
        "      points: 1\n"
        "offers:\n"
        "  - id: summer-gone\n"
        "    when: 'not any(items, promo.summer) and sum(items, item.total) == 1.50'\n"
        "    message: the code did nothing\n";
    tsr_ruleset *rs = load(rules, 0);
    tsr_order *o = lines(rs, 3, one, euro);
    tsr_result *r;
    tsr_error err;
    const char *id = NULL;
    int fcust = tsr_ruleset_field(rs, TSR_RECORD_CUSTOMER, "id");

    (void)state;
    assert_int_equal(tsr_order_add_promo_code(o, "SUMMER", 6, &err), TSR_OK);
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_CUSTOMER, 0, fcust, "C1", 2, &err),
                     TSR_OK);
    r = evaluate(rs, o);
    assert_int_equal(due(r), 150);
    assert_int_equal(tsr_result_offer_count(r), 1);
    assert_int_equal(tsr_result_offer(r, 0, &id, NULL), TSR_OK);
    assert_string_equal(id, "summer-gone");
    /* 0.50 per line: 5 points each (every line is worth more than a sixth) */
    assert_int_equal(tsr_result_line_points(r, 0), 5);
    tsr_result_free(r);
    same_cached_or_not(rs, o);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * The budget.
 */

/* Recomputed for every line (it reads item.price, which categories set
 * line by line): lines² steps, what the budget is for. */
static const char quadratic_rules[] = HEAD
    "categories:\n"
    "  - id: c\n"
    "    when: 'count(items, item.price > 0.50) >= 0'\n"
    "    price: 1.00\n";

static void an_evaluation_over_budget_stops_with_elimit_naming_the_rule(void **state)
{
    tsr_ruleset *rs = load(quadratic_rules, 1000);
    tsr_order *o = lines(rs, 100, one, euro);   /* 100 lines: ~10,000 steps */
    tsr_result *r = (tsr_result *)o;            /* must be set to NULL */
    tsr_error err;

    (void)state;
    assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_ELIMIT);
    assert_null(r);
    assert_int_equal(err.code, TSR_ELIMIT);
    assert_string_equal(err.file, "budget.yaml");
    assert_int_equal(err.line, 8);
    assert_int_equal(err.column, 12);   /* the expression, inside the quotes */
    assert_non_null(strstr(err.message, "more than 1000 expression steps"));
    assert_non_null(strstr(err.message, "max_eval_steps"));
    assert_non_null(strstr(err.message, "in `when` of categories.c"));
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void the_same_evaluation_fits_a_larger_budget_and_each_evaluation_has_its_own(void **state)
{
    tsr_ruleset *rs = load(quadratic_rules, 20000);
    tsr_order *o = lines(rs, 100, one, euro);
    tsr_result *a = evaluate(rs, o), *b = evaluate(rs, o);

    (void)state;
    /* 100 lines of 100 body steps each, a few more per line */
    assert_true(a->steps >= 100 * 100);
    assert_true(a->steps < 20000);
    assert_int_equal(a->steps, b->steps);
    assert_int_equal(due(b), 100 * 100);
    tsr_result_free(a);
    tsr_result_free(b);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void an_offer_over_budget_names_the_offer(void **state)
{
    /* a budget of 100 steps cannot take 8 passes over 20 lines */
    tsr_ruleset *rs = load(deep_rules, 100);
    tsr_result *r = NULL;
    tsr_error err;
    static const char order[] =
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":["
        "{\"id\":\"a\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"b\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"c\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"d\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"e\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"f\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"g\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"h\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"i\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"j\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"k\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"l\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"m\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"n\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"o\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"p\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"q\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"r\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"s\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"},"
        "{\"id\":\"t\",\"kind\":\"t\",\"n\":1,\"price\":\"1.00\"}]}";

    (void)state;
    assert_int_equal(tsr_evaluate_text(&r, rs, order, sizeof order - 1, NULL, &err),
                     TSR_ELIMIT);
    assert_null(r);
    assert_int_equal(err.line, 8);
    assert_int_equal(err.column, 12);
    assert_non_null(strstr(err.message, "in `when` of offers.deep"));
    tsr_ruleset_free(rs);
}

/* A refund evaluates the order again and then `allowed` / `fee` per line:
 * all of it within the budget. */
static void a_refund_respects_the_budget(void **state)
{
    static const char rules[] = HEAD
        "refunds:\n"
        "  fee: 'sum(items, item.total) * 0'\n";
    tsr_ruleset *rs;
    tsr_order *o;
    tsr_result *r;
    tsr_refund_result *rr = NULL;
    tsr_error err;
    const char *ids[] = { "l0", "l1" };
    char *receipt;
    size_t len;

    (void)state;
    /* fits: no other expression; the fee's sum is one pass over 100 lines */
    rs = load(rules, 1000);
    o = lines(rs, 100, one, euro);
    r = evaluate(rs, o);
    receipt = strdup(tsr_result_json(r, &len));
    assert_non_null(receipt);
    tsr_result_free(r);
    assert_int_equal(tsr_refund_order(&rr, rs, o, receipt, len, ids, 2,
                                      "2026-06-11T11:00:00+03:00", NULL, &err), TSR_OK);
    assert_int_equal(tsr_refund_result_line_count(rr), 2);
    assert_int_equal(tsr_refund_result_line_status(rr, 1), TSR_REFUND_REFUNDED);
    tsr_refund_result_free(rr);
    tsr_order_free(o);
    tsr_ruleset_free(rs);

    /* does not fit in 50 steps */
    rs = load(rules, 50);
    o = lines(rs, 100, one, euro);
    rr = NULL;
    assert_int_equal(tsr_refund_order(&rr, rs, o, receipt, len, ids, 2,
                                      "2026-06-11T11:00:00+03:00", NULL, &err), TSR_ELIMIT);
    assert_null(rr);
    assert_int_equal(err.line, 7);
    assert_int_equal(err.column, 9);
    assert_non_null(strstr(err.message, "in `fee` of refunds"));
    free(receipt);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* A rule test's case over the budget fails with the message; the run goes on. */
static void a_rule_test_over_budget_fails_its_case(void **state)
{
    char dir[512], path[600], *test;
    const char *base = getenv("TMPDIR");
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_test_report *rep = NULL;
    tsr_error err;
    size_t used = 0, cap = 8192;
    FILE *f;
    int i;

    (void)state;
    snprintf(dir, sizeof dir, "%s/tsr-budget-XXXXXX", base && base[0] ? base : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/budget.yaml", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(quadratic_rules, f);
    fclose(f);

    test = malloc(cap);
    assert_non_null(test);
    used += (size_t)snprintf(test + used, cap - used,
                             "tessera_test: 1\nrules: budget.yaml\ncases:\n"
                             "  - name: small\n"
                             "    order:\n"
                             "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
                             "      items: [ { id: a, kind: t, n: 1, price: \"1.00\" } ]\n"
                             "    expect: { totals: { due: \"1.00\" } }\n"
                             "  - name: large\n"
                             "    order:\n"
                             "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
                             "      items:\n");
    for (i = 0; i < 40; i++)
        used += (size_t)snprintf(test + used, cap - used,
                                 "        - { id: l%d, kind: t, n: 1, price: \"1.00\" }\n", i);
    used += (size_t)snprintf(test + used, cap - used,
                             "    expect: { totals: { due: \"40.00\" } }\n");
    assert_true(used < cap);
    snprintf(path, sizeof path, "%s/budget.test.yaml", dir);

    opts.max_eval_steps = 500;   /* 40 lines: ~1,600 steps */
    assert_int_equal(tsr_test_run_string(&rep, test, used, path, &opts, &err), TSR_OK);
    assert_int_equal(tsr_test_report_passed(rep), 1);
    assert_int_equal(tsr_test_report_failed(rep), 1);
    assert_string_equal(tsr_test_report_case_name(rep, 1), "large");
    assert_non_null(strstr(tsr_test_report_case_diff(rep, 1), "max_eval_steps"));
    tsr_test_report_free(rep);

    opts.max_eval_steps = 0;     /* the default has room */
    assert_int_equal(tsr_test_run_string(&rep, test, used, path, &opts, &err), TSR_OK);
    assert_int_equal(tsr_test_report_failed(rep), 0);
    tsr_test_report_free(rep);

    free(test);
    unlink(path);
    snprintf(path, sizeof path, "%s/budget.yaml", dir);
    unlink(path);
    rmdir(dir);
}

/* ---------------------------------------------------------------------
 * The load option.
 */
static void the_budget_defaults_for_old_and_zeroed_options(void **state)
{
    tsr_load_options v1;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    unsigned char *tail;
    size_t k;

    (void)state;
    /* version 1 callers know nothing of the field: init leaves it alone,
     * load reads the default */
    memset(&v1, 0xAB, sizeof v1);
    assert_int_equal(tsr_load_options_init(&v1, 1), TSR_OK);
    tail = (unsigned char *)&v1.max_eval_steps;
    for (k = 0; k < sizeof v1.max_eval_steps; k++)
        assert_int_equal(tail[k], 0xAB);
    assert_int_equal(tsr_ruleset_load_string(&rs, quadratic_rules, strlen(quadratic_rules),
                                             "budget.yaml", &v1, &err), TSR_OK);
    assert_true(rs->limits.max_eval_steps == 100000000u);
    tsr_ruleset_free(rs);

    assert_int_equal(tsr_load_options_init(&v1, 2), TSR_OK);
    assert_true(v1.max_eval_steps == 100000000u);
    v1.max_eval_steps = 0;   /* 0 is the default */
    assert_int_equal(tsr_ruleset_load_string(&rs, quadratic_rules, strlen(quadratic_rules),
                                             "budget.yaml", &v1, &err), TSR_OK);
    assert_true(rs->limits.max_eval_steps == 100000000u);
    tsr_ruleset_free(rs);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eight_nested_sums_over_20_lines_take_a_few_hundred_steps),
        cmocka_unit_test(eight_nested_sums_answer_as_without_the_cache),
        cmocka_unit_test(a_per_line_category_over_10000_lines_computes_its_aggregate_once),
        cmocka_unit_test(a_per_line_category_answers_as_without_the_cache),
        cmocka_unit_test(categories_see_the_category_of_each_line_as_it_is_set),
        cmocka_unit_test(categories_see_the_prices_set_so_far),
        cmocka_unit_test(discounts_see_the_totals_earlier_discounts_left),
        cmocka_unit_test(promo_flags_and_points_read_through_aggregates),
        cmocka_unit_test(an_evaluation_over_budget_stops_with_elimit_naming_the_rule),
        cmocka_unit_test(the_same_evaluation_fits_a_larger_budget_and_each_evaluation_has_its_own),
        cmocka_unit_test(an_offer_over_budget_names_the_offer),
        cmocka_unit_test(a_refund_respects_the_budget),
        cmocka_unit_test(a_rule_test_over_budget_fails_its_case),
        cmocka_unit_test(the_budget_defaults_for_old_and_zeroed_options),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
