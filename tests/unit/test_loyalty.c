/* Unit tests for loyalty.c: redemption (SPEC §4 step 6) and earning (step 7),
 * through the public API (load a rule set from text, evaluate order text),
 * peeking into struct tsr_result for the details the accessors do not
 * expose: entries, dates, lots used, the redeem reason and the trace. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eval.h"
#include "alloc_fixture.h"
#include "answer_fixture.h"

/* ---------------------------------------------------------------------
 * Helpers.
 */
static tsr_ruleset *load(const char *text)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc = tsr_ruleset_load_string(&rs, text, strlen(text), "loyalty.yaml", NULL, &err);
    if (rc != TSR_OK)
        fail_msg("rule set did not load: %s:%d:%d: %s", err.file, err.line, err.column,
                 err.message);
    return rs;
}

static tsr_result *eval(const tsr_ruleset *rs, const char *order)
{
    tsr_result *r = NULL;
    tsr_error err;
    int rc = tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err);
    if (rc != TSR_OK)
        fail_msg("evaluation failed (%d): %s %s", rc, err.path, err.message);
    return r;
}

static const tsr_res_line *line(const tsr_result *r, const char *id)
{
    for (size_t i = 0; i < r->nlines; i++)
        if (strcmp(r->lines[i].id, id) == 0)
            return &r->lines[i];
    fail_msg("no line %s", id);
    return NULL;
}

static int line_index(const tsr_result *r, const char *id)
{
    return (int)(line(r, id) - r->lines);
}

/* The entry of earn rule `rule` on line `id` (NULL: the order-level one). */
static const tsr_points_entry *entry(const tsr_result *r, const char *rule, const char *id)
{
    int want = id ? line_index(r, id) : -1;
    for (size_t i = 0; i < r->nentries; i++) {
        const tsr_points_entry *e = &r->entries[i];
        if (strcmp(r->rs->loyalty.earn[e->earn].id, rule) == 0 && e->line == want)
            return e;
    }
    return NULL;
}

static int64_t entry_points(const tsr_result *r, const char *rule, const char *id)
{
    const tsr_points_entry *e = entry(r, rule, id);
    return e ? e->points : 0;
}

static const tsr_trace_entry *trace(const tsr_result *r, const char *section, const char *id)
{
    for (size_t i = 0; i < r->ntrace; i++)
        if (strcmp(r->trace[i].section, section) == 0 && strcmp(r->trace[i].id, id) == 0)
            return &r->trace[i];
    return NULL;
}

static void assert_applied(const tsr_result *r, const char *section, const char *id)
{
    const tsr_trace_entry *t = trace(r, section, id);
    if (!t)
        fail_msg("%s.%s is not in the trace", section, id);
    if (!t->applied)
        fail_msg("%s.%s not applied: %s", section, id, t->why ? t->why : "(no why)");
}

static void assert_not_applied(const tsr_result *r, const char *section, const char *id,
                               const char *why)
{
    const tsr_trace_entry *t = trace(r, section, id);
    if (!t)
        fail_msg("%s.%s is not in the trace", section, id);
    assert_false(t->applied);
    assert_non_null(t->why);
    if (why)
        assert_string_equal(t->why, why);
}


static void assert_date(int64_t days, const char *want)
{
    char buf[16];
    tsr__format_date(buf, days);
    assert_string_equal(buf, want);
}

/* The points of every entry add up to the lines' and the order's total. */
static void assert_points_consistent(const tsr_result *r)
{
    int64_t sum = 0, lines = 0, order_level = 0;
    for (size_t i = 0; i < r->nentries; i++) {
        assert_true(r->entries[i].points > 0);
        sum += r->entries[i].points;
        if (r->entries[i].line < 0)
            order_level += r->entries[i].points;
    }
    for (size_t i = 0; i < r->nlines; i++)
        lines += r->lines[i].points_earned;
    assert_int_equal(sum, r->points_earned);
    assert_int_equal(lines + order_level, r->points_earned);
}

#define HEAD \
    "tessera: 1\n" \
    "ruleset: loyalty-test\n" \
    "version: \"1\"\n" \
    "currency: EUR\n" \
    "schema:\n" \
    "  customer: { member: bool, gold: bool }\n"

#define MEMBER "\"customer\":{\"id\":\"C1\",\"member\":true}"
#define WHEN "\"datetime\":\"2026-06-10T11:00:00+03:00\""

/* ---------------------------------------------------------------------
 * Earning: per/points.
 */
static const char per_rules[] = HEAD
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  earn:\n"
    "    - { id: base, per: 20.00, points: 3 }\n";

static void test_per_rule_earns_points_for_every_full_per_only(void **state)
{
    tsr_ruleset *rs = load(per_rules);
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"59.99\"}]}");
    assert_int_equal(r->points_earned, 6);               /* floor(2.9995) x 3 */
    assert_int_equal(line(r, "a")->points_earned, 6);
    assert_points_consistent(r);
    tsr_result_free(r);

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"60.00\"}]}");
    assert_int_equal(r->points_earned, 9);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_per_rule_allocates_points_to_lines_by_largest_remainder(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  earn:\n"
        "    - { id: base, per: 3.00, points: 10 }\n");
    tsr_result *r;
    (void)state;

    /* 10 points over 1.00 and 2.00: 3.33 and 6.67, the leftover point to b. */
    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"2.00\"}]}");
    assert_int_equal(r->points_earned, 10);
    assert_int_equal(entry_points(r, "base", "a"), 3);
    assert_int_equal(entry_points(r, "base", "b"), 7);
    assert_int_equal(r->nentries, 2);
    assert_points_consistent(r);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_allocation_ties_go_to_the_earlier_line_and_empty_entries_are_omitted(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  earn:\n"
        "    - { id: base, per: 10.00, points: 1 }\n");
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"5.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"5.00\"}]}");
    assert_int_equal(r->points_earned, 1);
    assert_int_equal(line(r, "a")->points_earned, 1);
    assert_int_equal(line(r, "b")->points_earned, 0);
    assert_int_equal(r->nentries, 1);
    assert_null(entry(r, "base", "b"));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_per_rule_with_too_little_paid_says_so_in_the_trace(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  earn:\n"
        "    - { id: base, per: 20.00, points: 1 }\n");
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"15.00\"}]}");
    assert_int_equal(r->points_earned, 0);
    assert_int_equal(r->nentries, 0);
    assert_not_applied(r, "earn", "base", "0 points: paid total 15.00 below per 20.00");
    tsr_result_free(r);

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"20.00\"}]}");
    assert_applied(r, "earn", "base");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* on: paid (the default) counts what is left after redeemed points; on:
 * price counts the total after discounts, before redemption. */
#define ON_RULES(on) HEAD \
    "loyalty:\n" \
    "  member_when: customer.member\n" \
    "  on: " on "\n" \
    "  earn:\n" \
    "    - { id: base, per: 20.00, points: 1 }\n" \
    "  redeem: { point_value: 1.00, max_percent: 50 }\n"
#define ON_ORDER "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"points_balance\":500}," \
    "\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"100.00\"}],\"redeem_points\":40}"

static void test_earning_on_paid_counts_after_redemption(void **state)
{
    tsr_ruleset *rs = load(ON_RULES("paid"));
    tsr_result *r = eval(rs, ON_ORDER);
    (void)state;

    assert_int_equal(r->points_redeemed, 40);
    assert_int_equal(line(r, "a")->total, 6000);
    assert_int_equal(r->points_earned, 3);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_earning_on_price_counts_before_redemption(void **state)
{
    tsr_ruleset *rs = load(ON_RULES("price"));
    tsr_result *r = eval(rs, ON_ORDER);
    (void)state;

    assert_int_equal(r->points_redeemed, 40);
    assert_int_equal(line(r, "a")->total, 6000);
    assert_int_equal(r->points_earned, 5);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_earn_for_limits_the_lines_that_earn(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  earn:\n"
        "    - { id: food, for: item.kind == \"fnb\", per: 20.00, points: 1 }\n");
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":["
                 "{\"id\":\"t\",\"kind\":\"ticket\",\"price\":\"100.00\"},"
                 "{\"id\":\"f\",\"kind\":\"fnb\",\"price\":\"20.00\",\"quantity\":2}]}");
    assert_int_equal(r->points_earned, 2);
    assert_int_equal(line(r, "f")->points_earned, 2);
    assert_int_equal(line(r, "t")->points_earned, 0);
    tsr_result_free(r);

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"t\",\"kind\":\"ticket\",\"price\":\"100.00\"}]}");
    assert_int_equal(r->points_earned, 0);
    assert_not_applied(r, "earn", "food", "0 points: no line matches `item.kind == \"fnb\"`");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A rule without `for` takes every line without building the list of
 * them, and equal weights are split without a division per line: the
 * same entries as a `for` that holds on every line (the general path),
 * for equal, unequal, zero and single lines. */
static void test_earn_without_for_matches_a_for_that_always_holds(void **state)
{
    static const char *const orders[] = {
        "{" WHEN "," MEMBER ",\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"7.00\"},"
        "{\"id\":\"b\",\"kind\":\"fnb\",\"price\":\"7.00\"},"
        "{\"id\":\"c\",\"kind\":\"ticket\",\"price\":\"7.00\"}]}",
        "{" WHEN "," MEMBER ",\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"19.99\"},"
        "{\"id\":\"b\",\"kind\":\"fnb\",\"price\":\"40.00\"},"
        "{\"id\":\"c\",\"kind\":\"ticket\",\"price\":\"0.00\"},"
        "{\"id\":\"d\",\"kind\":\"merch\",\"price\":\"3.01\",\"quantity\":3}]}",
        "{" WHEN "," MEMBER ",\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"0.00\"},"
        "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"9.00\"},"
        "{\"id\":\"c\",\"kind\":\"ticket\",\"price\":\"9.00\"}]}",
        "{" WHEN "," MEMBER ",\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"31.00\"}]}",
    };
    tsr_ruleset *all = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  expire_days: 30\n"
        "  earn:\n"
        "    - { id: base, per: 3.00, points: 1 }\n");
    tsr_ruleset *tested = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  expire_days: 30\n"
        "  earn:\n"
        "    - { id: base, for: item.kind != \"none\", per: 3.00, points: 1 }\n");
    (void)state;

    for (size_t o = 0; o < TSR_ARRAY_LEN(orders); o++) {
        tsr_result *a = eval(all, orders[o]), *b = eval(tested, orders[o]);
        assert_true(a->points_earned > 0);
        assert_int_equal(a->points_earned, b->points_earned);
        assert_int_equal(a->nentries, b->nentries);
        for (size_t i = 0; i < a->nentries; i++) {
            assert_int_equal(a->entries[i].line, b->entries[i].line);
            assert_int_equal(a->entries[i].points, b->entries[i].points);
            assert_int_equal(a->entries[i].available_on, b->entries[i].available_on);
            assert_int_equal(a->entries[i].expires_on, b->entries[i].expires_on);
        }
        for (size_t i = 0; i < a->nlines; i++)
            assert_int_equal(a->lines[i].points_earned, b->lines[i].points_earned);
        assert_points_consistent(a);
        tsr_result_free(a);
        tsr_result_free(b);
    }
    /* equal lines: 21.00 / 3.00 = 7 points, 7 / 3 each and the leftover
     * to the first line */
    {
        tsr_result *r = eval(all, orders[0]);
        assert_int_equal(line(r, "a")->points_earned, 3);
        assert_int_equal(line(r, "b")->points_earned, 2);
        assert_int_equal(line(r, "c")->points_earned, 2);
        tsr_result_free(r);
    }
    tsr_ruleset_free(all);
    tsr_ruleset_free(tested);
}

/* ---------------------------------------------------------------------
 * Earning: flat and multiply.
 */
static const char bonus_rules[] = HEAD
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  earn:\n"
    "    - { id: base, per: 2.00, points: 1 }\n"
    "    - { id: bonus, points: 10 }\n"
    "    - { id: gold-double, when: customer.gold, multiply: 2, rules: [base] }\n"
    "    - { id: gold-triple, when: customer.gold, multiply: 3, rules: [base, bonus] }\n";

static void test_flat_rule_gives_its_points_once_to_the_order(void **state)
{
    tsr_ruleset *rs = load(bonus_rules);
    tsr_result *r;
    const tsr_points_entry *e;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"1.00\"}]}");
    e = entry(r, "bonus", NULL);
    assert_non_null(e);
    assert_int_equal(e->line, -1);
    assert_int_equal(e->points, 10);
    assert_int_equal(r->points_earned, 11);
    assert_int_equal(line(r, "a")->points_earned, 1);
    assert_int_equal(line(r, "b")->points_earned, 0);
    assert_not_applied(r, "earn", "gold-double", "`customer.gold` was false");
    assert_points_consistent(r);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_multipliers_scale_order_points_before_allocation_and_compose(void **state)
{
    tsr_ruleset *rs = load(bonus_rules);
    tsr_result *r;
    (void)state;

    /* base earns 1 point on 2.00; x2 x3 = 6 points, allocated as 6 (3 and
     * 3), not as 6 x the allocation of 1 (6 and 0). bonus: 10 x 3. */
    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":true},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"1.00\"}]}");
    assert_int_equal(entry_points(r, "base", "a"), 3);
    assert_int_equal(entry_points(r, "base", "b"), 3);
    assert_int_equal(entry_points(r, "bonus", NULL), 30);
    assert_int_equal(r->points_earned, 36);
    assert_applied(r, "earn", "gold-double");
    assert_applied(r, "earn", "gold-triple");
    assert_points_consistent(r);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_multiplier_with_nothing_to_multiply_is_not_applied(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  earn:\n"
        "    - { id: base, per: 20.00, points: 1 }\n"
        "    - { id: double, multiply: 2, rules: [base] }\n");
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"5.00\"}]}");
    assert_int_equal(r->points_earned, 0);
    assert_not_applied(r, "earn", "double",
                       "nothing to multiply: the rules it names earned no points");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Earning: conditions.
 */
static void test_earn_rule_when_false_is_traced_with_its_source(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  earn:\n"
        "    - { id: gold-only, when: customer.member and customer.gold, points: 5 }\n");
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"5.00\"}]}");
    assert_int_equal(r->points_earned, 0);
    assert_not_applied(r, "earn", "gold-only", "`customer.gold` was false");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A long condition is quoted in the trace as every rule's is: its first
 * TSR_QUOTE_MAX bytes, by an earn rule as by a discount. */
static void test_earn_rule_long_when_is_quoted_like_any_rule(void **state)
{
    char text[1024], id[260];
    tsr_ruleset *rs;
    tsr_result *r;
    const tsr_trace_entry *earn, *disc;
    (void)state;

    memset(id, 'X', 250);
    id[250] = '\0';
    snprintf(text, sizeof text, HEAD
             "discounts:\n"
             "  - { id: d, when: 'customer.id == \"%s\"', percent: 10 }\n"
             "loyalty:\n"
             "  earn:\n"
             "    - { id: e, when: 'customer.id == \"%s\"', points: 5 }\n", id, id);
    rs = load(text);
    r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"5.00\"}]}");
    earn = trace(r, "earn", "e");
    disc = trace(r, "discounts", "d");
    assert_non_null(earn);
    assert_non_null(disc);
    assert_false(earn->applied);
    assert_string_equal(earn->why, disc->why);
    assert_int_equal(strlen(earn->why), TSR_QUOTE_MAX + strlen("`` was false"));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_earn_rule_valid_window_and_channels_gate_it(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  earn:\n"
        "    - { id: next-year, valid: { from: 2027-01-01 }, points: 5 }\n"
        "    - { id: app-only, channels: [app], points: 7 }\n"
        "    - { id: june, valid: { from: 2026-06-01, until: 2026-06-30 }, points: 11 }\n");
    tsr_result *r;
    const tsr_trace_entry *t;
    (void)state;

    r = eval(rs, "{" WHEN ",\"channel\":\"web\"," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"5.00\"}]}");
    assert_int_equal(r->points_earned, 11);
    assert_not_applied(r, "earn", "next-year", NULL);
    t = trace(r, "earn", "next-year");
    assert_non_null(strstr(t->why, "2027-01-01"));
    assert_not_applied(r, "earn", "app-only", NULL);
    t = trace(r, "earn", "app-only");
    assert_non_null(strstr(t->why, "channel"));
    assert_applied(r, "earn", "june");
    tsr_result_free(r);

    r = eval(rs, "{" WHEN ",\"channel\":\"app\"," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"5.00\"}]}");
    assert_int_equal(r->points_earned, 18);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Without a trace an earn rule's gate is asked inline (no sentence for the
 * trace): `when`, `valid` (dates, weekdays, hours) and `channels` must
 * decide as they do with the trace, rule by rule. */
/* The order earns `want` points with a trace and without one (where the
 * gates are answered inline), entry by entry the same. */
static void assert_quiet_earns_as_traced(const tsr_ruleset *rs, const char *order, int64_t want)
{
    tsr_eval_options quiet = TSR_EVAL_OPTIONS_INIT;
    tsr_result *traced = eval(rs, order), *r = NULL;
    tsr_error err;

    quiet.no_trace = 1;
    assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), &quiet, &err), TSR_OK);
    assert_int_equal(traced->points_earned, want);
    assert_int_equal(r->points_earned, want);
    assert_int_equal(r->nentries, traced->nentries);
    for (size_t k = 0; k < r->nentries; k++) {
        assert_int_equal(r->entries[k].earn, traced->entries[k].earn);
        assert_int_equal(r->entries[k].line, traced->entries[k].line);
        assert_int_equal(r->entries[k].points, traced->entries[k].points);
    }
    tsr_result_free(r);
    tsr_result_free(traced);
}

/* `rules` loaded with a work budget of `budget` steps, `order` evaluated
 * with a trace (*traced, returning *rt) and without one (*quiet, *rq); the
 * caller frees the results and the rule set returned. */
static tsr_ruleset *eval_both_with_budget(const char *rules, const char *order, uint64_t budget,
                                          tsr_result **traced, int *rt, tsr_result **quiet,
                                          int *rq)
{
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_eval_options no_trace = TSR_EVAL_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;

    lo.max_eval_steps = budget;
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), "loyalty.yaml", &lo, &err),
                     TSR_OK);
    no_trace.no_trace = 1;
    *traced = *quiet = NULL;
    *rt = tsr_evaluate_text(traced, rs, order, strlen(order), NULL, &err);
    *rq = tsr_evaluate_text(quiet, rs, order, strlen(order), &no_trace, &err);
    return rs;
}

static void test_earn_gates_without_a_trace_decide_as_with_it(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  earn:\n"
        "    - { id: gold, when: customer.gold, points: 1 }\n"
        "    - { id: next-year, valid: { from: 2027-01-01 }, points: 2 }\n"
        "    - { id: app-only, channels: [app], points: 4 }\n"
        "    - { id: june, valid: { from: 2026-06-01, until: 2026-06-30 }, points: 8 }\n"
        "    - { id: weekend, valid: { weekdays: [6, 7] }, points: 16 }\n"
        "    - { id: morning, valid: { hours: \"09:00-12:00\" }, points: 32 }\n"
        "    - { id: gold-per, when: customer.gold, per: 1.00, points: 64 }\n");
    static const char *const orders[] = {
        "{" WHEN ",\"channel\":\"web\"," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"channel\":\"app\",\"customer\":{\"id\":\"C1\",\"gold\":true},"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"},"
        "{\"id\":\"b\",\"kind\":\"t\",\"price\":\"2.50\"}]}",
        "{\"datetime\":\"2026-06-13T13:00:00+03:00\",\"customer\":{\"id\":\"C1\",\"gold\":false},"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{\"datetime\":\"2027-01-03T09:30:00+03:00\",\"channel\":\"app\","
        "\"customer\":{\"id\":\"C1\",\"gold\":true},"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
    };
    static const int64_t want[] = { 8 + 32, 1 + 4 + 8 + 32 + 64 * 7, 8 + 16, 1 + 2 + 4 + 16 + 32 + 64 * 5 };
    (void)state;

    for (size_t i = 0; i < TSR_ARRAY_LEN(orders); i++)
        assert_quiet_earns_as_traced(rs, orders[i], want[i]);
    tsr_ruleset_free(rs);
}

/* A `when` of one conjunct (a segment, a bool field, a number compared
 * with a constant) is answered without the conjunct loop when there is no
 * trace (earn_gate_one); with a trace the general gate answers.  Both must
 * give the same points rule by rule, a missing field counting as false,
 * and a field of another type than declared the same error. */
static void test_earn_gates_of_one_conjunct_decide_as_the_general_gate(void **state)
{
    tsr_ruleset *rs = load(
        "tessera: 1\n"
        "ruleset: one-conjunct\n"
        "currency: EUR\n"
        "schema:\n"
        "  customer: { member: bool, gold: bool, visits: int }\n"
        "  order: { party: int }\n"
        "segments:\n"
        "  regular: customer.visits >= 3\n"
        "loyalty:\n"
        "  earn:\n"
        "    - { id: member, when: customer.member, per: 1.00, points: 1 }\n"
        "    - { id: regular, when: segment.regular, points: 2 }\n"
        "    - { id: not-gold, when: not customer.gold, points: 4 }\n"
        "    - { id: visits, when: customer.visits > 5, points: 8 }\n"
        "    - { id: small, when: order.party < 3, points: 16 }\n"
        "    - { id: few, when: customer.visits != 4, points: 32 }\n");
    static const char *const orders[] = {
        "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":false,\"visits\":7},"
        "\"party\":2,\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":false,\"gold\":true,\"visits\":4},"
        "\"party\":3,\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"id\":\"C1\",\"visits\":2,\"gold\":true},\"party\":0,"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"2.00\"}]}",
    };
    static const int64_t want[] = { 5 + 2 + 4 + 8 + 16 + 32, 2, 4, 16 + 32 };
    (void)state;

    for (size_t i = 0; i < TSR_ARRAY_LEN(orders); i++)
        assert_quiet_earns_as_traced(rs, orders[i], want[i]);
    tsr_ruleset_free(rs);
}

/* The gates earning answers in the rules' loop without a trace, their
 * shape decided at load (tsr_earn.gate): no `when`, a segment, a promo code,
 * a bool field of the customer or of the order.  Each rule (points 1 .. 16)
 * has a twin that the general gate must answer (an always-open `valid`,
 * points 32 .. 512): without a trace both give the same answer, and the
 * points are those of the traced evaluation, a missing field false. */
/* Earn rules of each gate shape decided at load (tsr_earn.gate), points
 * 1 .. 16, and orders that hold and miss each gate. */
#define GATE_SHAPES \
    "tessera: 1\n" \
    "ruleset: gate-shapes\n" \
    "currency: EUR\n" \
    "schema:\n" \
    "  customer: { member: bool, gold: bool }\n" \
    "  order: { gift: bool }\n" \
    "segments:\n" \
    "  gold: customer.gold\n" \
    "promo_codes:\n" \
    "  - { id: bonus, code: BONUS }\n" \
    "loyalty:\n" \
    "  earn:\n" \
    "    - { id: open, points: 1 }\n" \
    "    - { id: seg, when: segment.gold, points: 2 }\n" \
    "    - { id: code, when: promo.bonus, points: 4 }\n" \
    "    - { id: member, when: customer.member, per: 1.00, points: 8 }\n" \
    "    - { id: gift, when: order.gift, points: 16 }\n"
static const char *const GATE_ORDERS[] = {
    "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":true},\"gift\":true,"
    "\"promo_codes\":[\"BONUS\"],\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
    "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":false,\"gold\":false},\"gift\":false,"
    "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
    "{" WHEN ",\"customer\":{\"id\":\"C1\",\"gold\":true},"
    "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
    "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true},\"promo_codes\":[\"BONUS\"],"
    "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
    "{" WHEN ",\"gift\":true,\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
    "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"gift\":true,"
    "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
};

static void test_earn_gates_decided_at_load_answer_as_the_general_gate(void **state)
{
    tsr_ruleset *rs = load(GATE_SHAPES
        "    - { id: open2, valid: { from: 2000-01-01 }, points: 32 }\n"
        "    - { id: seg2, when: segment.gold, valid: { from: 2000-01-01 }, points: 64 }\n"
        "    - { id: code2, when: promo.bonus, valid: { from: 2000-01-01 }, points: 128 }\n"
        "    - { id: member2, when: customer.member, valid: { from: 2000-01-01 },"
        " per: 1.00, points: 256 }\n"
        "    - { id: gift2, when: order.gift, valid: { from: 2000-01-01 }, points: 512 }\n");
    static const uint8_t gates[] = {
        TSR_EARN_GATE_OPEN, TSR_EARN_GATE_SEGMENT, TSR_EARN_GATE_PROMO,
        TSR_EARN_GATE_CUSTOMER_TRUE, TSR_EARN_GATE_ORDER_TRUE,
    };
    static const int64_t fast[] = { 1 + 2 + 4 + 8 + 16, 1, 1 + 2, 1 + 4 + 8, 0, 1 + 16 };
    (void)state;

    for (size_t i = 0; i < TSR_ARRAY_LEN(gates); i++) {
        assert_int_equal(rs->loyalty.earn[i].gate, gates[i]);
        assert_int_equal(rs->loyalty.earn[i + 5].gate, TSR_EARN_GATE_GENERAL);
    }
    assert_int_equal(TSR_ARRAY_LEN(fast), TSR_ARRAY_LEN(GATE_ORDERS));
    for (size_t i = 0; i < TSR_ARRAY_LEN(GATE_ORDERS); i++)
        assert_quiet_earns_as_traced(rs, GATE_ORDERS[i], fast[i] * 33);
    tsr_ruleset_free(rs);
}

/* With a trace, the gates of the shapes decided at load are answered
 * inline too (earn_gate_traced), with the sentence of the conjunct that
 * failed: the same result, trace and steps as the general gate
 * (tsr__rule_gate, every rule's shape set to GENERAL), under every
 * budget. */
static void test_earn_gates_with_a_trace_answer_as_the_general_gate(void **state)
{
    static const char rules[] = GATE_SHAPES;
    int limited = 0;
    (void)state;

    for (uint64_t budget = 0; budget <= 40; budget++) {
        tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
        tsr_ruleset *rs = NULL;
        tsr_error err;
        uint8_t saved[5];

        lo.max_eval_steps = budget;   /* 0: the default */
        assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), "l.yaml", &lo, &err),
                         TSR_OK);
        assert_int_equal(rs->loyalty.nearn, TSR_ARRAY_LEN(saved));
        for (size_t i = 0; i < TSR_ARRAY_LEN(GATE_ORDERS); i++) {
            uint64_t fast_steps, slow_steps;
            char *fast = tsr_test_answer(rs, GATE_ORDERS[i], false, &fast_steps), *slow;
            for (size_t r = 0; r < rs->loyalty.nearn; r++) {
                saved[r] = rs->loyalty.earn[r].gate;
                rs->loyalty.earn[r].gate = TSR_EARN_GATE_GENERAL;
            }
            slow = tsr_test_answer(rs, GATE_ORDERS[i], false, &slow_steps);
            for (size_t r = 0; r < rs->loyalty.nearn; r++)
                rs->loyalty.earn[r].gate = saved[r];
            assert_string_equal(fast, slow);
            assert_int_equal(fast_steps, slow_steps);
            limited += strncmp(fast, "error", 5) == 0;
            free(fast);
            free(slow);
        }
        tsr_ruleset_free(rs);
    }
    assert_true(limited > 0);   /* some budget ran out */
}

/* Earn rules' states live on the stack for a few rules and in the arena
 * beyond (EARN_SMALL_RULES): with 7, 8, 9 and 12 rules, the traced and the
 * quiet evaluation give every rule its points, the multiplier included,
 * and the trace names every rule in file order. */
static void test_earn_states_for_few_and_many_rules(void **state)
{
    static const size_t counts[] = { 7, 8, 9, 12 };
    (void)state;

    for (size_t c = 0; c < TSR_ARRAY_LEN(counts); c++) {
        char rules[2048], *p = rules;
        size_t n = counts[c], left = sizeof rules;
        tsr_eval_options q = TSR_EVAL_OPTIONS_INIT;
        tsr_result *r, *quiet = NULL;
        tsr_ruleset *rs;
        tsr_error err;
        int64_t want = 0;
        int k;

        k = snprintf(p, left, HEAD "loyalty:\n  earn:\n");
        p += k, left -= (size_t)k;
        /* rule i gives 1 << i points; the last one doubles rule 0 */
        for (size_t i = 0; i + 1 < n; i++) {
            k = snprintf(p, left, "    - { id: r%zu, points: %lld }\n", i, 1LL << i);
            p += k, left -= (size_t)k;
            want += 1LL << i;
        }
        k = snprintf(p, left, "    - { id: twice, multiply: 2, rules: [r0] }\n");
        assert_true(k > 0 && (size_t)k < left);
        want += 1;   /* r0 doubled */
        rs = load(rules);
        r = eval(rs, "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"t\","
                 "\"price\":\"1.00\"}]}");
        assert_int_equal(r->points_earned, want);
        q.no_trace = 1;
        assert_int_equal(tsr_evaluate_text(&quiet, rs, "{" WHEN "," MEMBER ",\"items\":[{"
                                           "\"id\":\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}",
                                           strlen("{" WHEN "," MEMBER ",\"items\":[{\"id\":"
                                                  "\"a\",\"kind\":\"t\",\"price\":\"1.00\"}]}"),
                                           &q, &err),
                         TSR_OK);
        assert_int_equal(quiet->points_earned, want);
        {
            size_t seen = 0;
            for (size_t t = 0; t < r->ntrace; t++) {
                if (strcmp(r->trace[t].section, "earn") != 0)
                    continue;
                assert_true(r->trace[t].applied);
                if (seen + 1 < n) {
                    char id[16];
                    snprintf(id, sizeof id, "r%zu", seen);
                    assert_string_equal(r->trace[t].id, id);
                } else {
                    assert_string_equal(r->trace[t].id, "twice");
                }
                seen++;
            }
            assert_int_equal(seen, n);
        }
        tsr_result_free(quiet);
        tsr_result_free(r);
        tsr_ruleset_free(rs);
    }
}

/* Without a trace earning takes membership as redemption settled it (one
 * evaluation of member_when): the same points as with a trace, and never a
 * budget error where the traced evaluation has none. */
static void test_earning_reads_the_membership_redemption_settled(void **state)
{
    static const char rules[] = HEAD
        "loyalty:\n"
        "  member_when: customer.gold\n"
        "  earn:\n"
        "    - { id: base, per: 1.00, points: 1 }\n"
        "    - { id: bonus, when: customer.member, points: 10 }\n";
    static const char *const orders[] = {
        "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":true},"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":false},"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true},"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
    };
    static const int64_t want[] = { 15, 0, 0 };
    int ok_traced = 0;
    tsr_ruleset *rs = load(rules);
    (void)state;

    for (size_t i = 0; i < TSR_ARRAY_LEN(orders); i++)
        assert_quiet_earns_as_traced(rs, orders[i], want[i]);
    tsr_ruleset_free(rs);
    for (uint64_t budget = 1; budget <= 20; budget++) {
        tsr_result *traced, *r;
        int rt, rq;
        rs = eval_both_with_budget(rules, orders[0], budget, &traced, &rt, &r, &rq);
        if (rt == TSR_OK) {
            assert_int_equal(rq, TSR_OK);
            assert_int_equal(traced->points_earned, 15);
            ok_traced++;
        }
        if (rq == TSR_OK)
            assert_int_equal(r->points_earned, 15);
        else
            assert_int_equal(rq, TSR_ELIMIT);
        tsr_result_free(traced);
        tsr_result_free(r);
        tsr_ruleset_free(rs);
    }
    assert_true(ok_traced > 0 && ok_traced < 20);   /* the budget both cut and let through */
}

/* ---------------------------------------------------------------------
 * Membership.
 */
/* Earn gates answered inline without a trace (a `when` of fields and
 * segments, no `valid`) charge the work budget as the traced path does:
 * under every budget both succeed or both fail with TSR_ELIMIT, with the
 * same points. */
static void test_earn_gates_without_a_trace_charge_the_same_steps(void **state)
{
    static const char rules[] = HEAD
        "segments:\n"
        "  gold: customer.gold and customer.member\n"
        "loyalty:\n"
        "  earn:\n"
        "    - { id: base, when: customer.member, per: 1.00, points: 1 }\n"
        "    - { id: gold, when: segment.gold, points: 10 }\n"
        "    - { id: both, when: customer.gold and customer.member, points: 100 }\n"
        "    - { id: not-gold, when: not customer.gold, points: 1000 }\n";
    static const char order[] = "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,"
        "\"gold\":true},\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}";
    int ok_traced = 0, ok_quiet = 0;
    (void)state;

    for (uint64_t budget = 1; budget <= 40; budget++) {
        tsr_result *traced, *r;
        int rt, rq;
        tsr_ruleset *rs = eval_both_with_budget(rules, order, budget, &traced, &rt, &r, &rq);
        if (rt != rq)
            fail_msg("budget %llu: traced %d, without a trace %d", (unsigned long long)budget,
                     rt, rq);
        if (rt == TSR_OK) {
            assert_int_equal(traced->points_earned, 5 + 10 + 100);
            assert_int_equal(r->points_earned, traced->points_earned);
            ok_traced++;
        } else {
            assert_int_equal(rt, TSR_ELIMIT);
        }
        ok_quiet += rq == TSR_OK;
        tsr_result_free(traced);
        tsr_result_free(r);
        tsr_ruleset_free(rs);
    }
    /* the budget both cut and let through */
    assert_true(ok_traced > 0 && ok_traced < 40);
    assert_int_equal(ok_quiet, ok_traced);
}

static void test_member_when_false_earns_nothing_and_says_why(void **state)
{
    tsr_ruleset *rs = load(per_rules);
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":false},"
                 "\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"100.00\"}]}");
    assert_false(r->member);
    assert_int_equal(r->points_earned, 0);
    assert_int_equal(r->nentries, 0);
    assert_not_applied(r, "earn", "base", "not a member: `customer.member` was false");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* park10 (R9, R10): without member_when everyone with a customer id takes
 * part; the base rule asks for customer.member itself, the birthday bonus
 * goes to non-members too. */
static const char park10_rules[] = HEAD
    "loyalty:\n"
    "  earn:\n"
    "    - { id: base, when: customer.member, per: 20.00, points: 1 }\n"
    "    - { id: birthday-bonus, when: customer.gold, points: 100 }\n";

static void test_default_membership_is_having_a_customer_id(void **state)
{
    tsr_ruleset *rs = load(park10_rules);
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":true},"
                 "\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"169.99\"}]}");
    assert_true(r->member);
    assert_int_equal(r->points_earned, 108);
    tsr_result_free(r);

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C2\",\"member\":false,\"gold\":true},"
                 "\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"169.99\"}]}");
    assert_true(r->member);
    assert_int_equal(r->points_earned, 100);
    assert_not_applied(r, "earn", "base", "`customer.member` was false");
    tsr_result_free(r);

    r = eval(rs, "{" WHEN ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"169.99\"}]}");
    assert_false(r->member);
    assert_int_equal(r->points_earned, 0);
    assert_not_applied(r, "earn", "birthday-bonus", "not a member: the order has no customer.id");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Dates of entries.
 */
#define DATE_RULES(extra) HEAD \
    "loyalty:\n" \
    "  earn:\n" \
    "    - { id: base, per: 1.00, points: 1 }\n" \
    "    - { id: bonus, points: 5 }\n" \
    extra

static tsr_result *eval_at(const tsr_ruleset *rs, const char *datetime)
{
    char order[512];
    snprintf(order, sizeof order,
             "{\"datetime\":\"%s\"," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\"}]}",
             datetime);
    return eval(rs, order);
}

static void test_available_on_is_pending_days_after_the_order_date_across_month_ends(void **state)
{
    tsr_ruleset *rs = load(DATE_RULES("  pending_days: 1\n"));
    tsr_result *r;
    (void)state;

    r = eval_at(rs, "2026-01-31T10:00:00+01:00");
    assert_date(entry(r, "base", "a")->available_on, "2026-02-01");
    assert_date(entry(r, "bonus", NULL)->available_on, "2026-02-01");
    assert_false(entry(r, "base", "a")->has_expires);
    tsr_result_free(r);

    r = eval_at(rs, "2026-12-31T10:00:00+01:00");
    assert_date(entry(r, "base", "a")->available_on, "2027-01-01");
    tsr_result_free(r);

    r = eval_at(rs, "2027-02-28T10:00:00+01:00");
    assert_date(entry(r, "base", "a")->available_on, "2027-03-01");
    tsr_result_free(r);

    r = eval_at(rs, "2028-02-28T10:00:00+01:00");          /* leap year */
    assert_date(entry(r, "base", "a")->available_on, "2028-02-29");
    tsr_result_free(r);

    /* The order's local date, not the UTC one (23:30 at -05:00 is already
     * 11 June in UTC). */
    r = eval_at(rs, "2026-06-10T23:30:00-05:00");
    assert_date(entry(r, "base", "a")->available_on, "2026-06-11");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_expires_on_is_expire_days_after_available_on_across_leap_years(void **state)
{
    tsr_ruleset *rs = load(DATE_RULES("  pending_days: 1\n  expire_days: 365\n"));
    tsr_result *r;
    const tsr_points_entry *e;
    (void)state;

    r = eval_at(rs, "2027-02-28T10:00:00+01:00");
    e = entry(r, "base", "a");
    assert_date(e->available_on, "2027-03-01");
    assert_true(e->has_expires);
    assert_date(e->expires_on, "2028-02-29");    /* 2028 is a leap year */
    tsr_result_free(r);

    r = eval_at(rs, "2028-02-28T10:00:00+01:00");
    e = entry(r, "bonus", NULL);
    assert_date(e->available_on, "2028-02-29");
    assert_date(e->expires_on, "2029-02-28");
    tsr_result_free(r);

    r = eval_at(rs, "2026-06-10T11:00:00+03:00");
    e = entry(r, "base", "a");
    assert_date(e->available_on, "2026-06-11");
    assert_date(e->expires_on, "2027-06-11");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static const char event_rules[] =
    "tessera: 1\n"
    "ruleset: events\n"
    "currency: EUR\n"
    "schema:\n"
    "  item: { event_start: datetime }\n"
    "loyalty:\n"
    "  pending_days: 1\n"
    "  earn:\n"
    "    - { id: base, per: 1.00, points: 1 }\n"
    "    - { id: bonus, points: 5 }\n";

/* An entry's dates must stay printable: past 9999-12-31 the evaluation
 * fails and says which date, whether the dates come from the order (one
 * computation for all the entries of a rule) or from each line's
 * event_start. */
static void assert_eval_fails_with(const tsr_ruleset *rs, const char *order, const char *what)
{
    tsr_result *r = NULL;
    tsr_error err;
    assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err), TSR_EEVAL);
    assert_null(r);
    if (!strstr(err.message, what))
        fail_msg("error `%s` does not say `%s`", err.message, what);
}

static void test_entry_dates_past_9999_are_evaluation_errors(void **state)
{
    tsr_ruleset *pending = load(DATE_RULES("  pending_days: 10\n"));
    tsr_ruleset *expiring = load(DATE_RULES("  pending_days: 1\n  expire_days: 30\n"));
    tsr_ruleset *events = load(event_rules);
    tsr_result *r;
    (void)state;

    assert_eval_fails_with(pending, "{\"datetime\":\"9999-12-25T10:00:00Z\"," MEMBER ",\"items\":["
                           "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\"},"
                           "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"3.00\"}]}",
                           "available_on is past 9999-12-31");
    assert_eval_fails_with(expiring, "{\"datetime\":\"9999-12-20T10:00:00Z\"," MEMBER ",\"items\":["
                           "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\"}]}",
                           "expires_on is past 9999-12-31");
    r = eval_at(expiring, "9999-11-30T10:00:00Z");   /* the last day that fits */
    assert_date(entry(r, "base", "a")->expires_on, "9999-12-31");
    assert_date(entry(r, "bonus", NULL)->expires_on, "9999-12-31");
    tsr_result_free(r);
    /* The second line's event is on the last day: its entry cannot be dated. */
    assert_eval_fails_with(events, "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"items\":["
                           "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\"},"
                           "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"3.00\","
                           "\"event_start\":\"9999-12-31T20:00:00Z\"}]}",
                           "available_on is past 9999-12-31");
    tsr_ruleset_free(pending);
    tsr_ruleset_free(expiring);
    tsr_ruleset_free(events);
}

static void test_event_start_is_the_service_date_of_its_line(void **state)
{
    tsr_ruleset *rs = load(event_rules);
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\",\"event_start\":\"2026-12-30T20:00:00+03:00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"3.00\"}]}");
    assert_date(entry(r, "base", "a")->available_on, "2026-12-31");
    assert_date(entry(r, "base", "b")->available_on, "2026-06-11");
    /* the flat entry has no line: the order date */
    assert_date(entry(r, "bonus", NULL)->available_on, "2026-06-11");
    tsr_result_free(r);

    /* Without a zone, the event's own offset gives its date: 23:30 at -02:00
     * is still 30 December, though 31 December in UTC. */
    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\",\"event_start\":\"2026-12-30T23:30:00-02:00\"}]}");
    assert_date(entry(r, "base", "a")->available_on, "2026-12-31");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_event_start_date_is_taken_in_the_rule_set_timezone(void **state)
{
    tsr_ruleset *rs = load(
        "tessera: 1\n"
        "ruleset: events\n"
        "currency: RUB\n"
        "timezone: Europe/Moscow\n"
        "schema:\n"
        "  item: { event_start: datetime }\n"
        "loyalty:\n"
        "  earn:\n"
        "    - { id: base, per: 1.00, points: 1 }\n");
    tsr_result *r;
    (void)state;

    /* 2026-12-30T23:30-02:00 is 2026-12-31T04:30 in Moscow. */
    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.00\",\"event_start\":\"2026-12-30T23:30:00-02:00\"}]}");
    assert_date(entry(r, "base", "a")->available_on, "2026-12-31");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Redemption.
 */
static const char redeem_rules[] = HEAD
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  redeem:\n"
    "    point_value: 1.00\n"
    "    for: item.kind == \"ticket\"\n"
    "    max_percent: 50\n"
    "    min_points: 100\n"
    "    step: 10\n";

/* A member with `balance` points asking for `request`, a 1000.00 ticket and
 * 500.00 of food (not payable with points). */
static tsr_result *redeem(const tsr_ruleset *rs, const char *balance, const char *request)
{
    char order[768];
    snprintf(order, sizeof order,
             "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true%s%s},"
             "\"items\":[{\"id\":\"t\",\"kind\":\"ticket\",\"price\":\"1000.00\"},"
             "{\"id\":\"f\",\"kind\":\"fnb\",\"price\":\"500.00\"}]%s%s}",
             balance ? ",\"points_balance\":" : "", balance ? balance : "",
             request ? ",\"redeem_points\":" : "", request ? request : "");
    return eval(rs, order);
}

static void assert_redeemed(const tsr_result *r, int64_t points, tsr_redeem_reason reason)
{
    int64_t value = 0;
    assert_int_equal(r->points_redeemed, points);
    assert_int_equal(r->redeem_reason, reason);
    for (size_t i = 0; i < r->nlines; i++) {
        const tsr_res_line *l = &r->lines[i];
        assert_int_equal(l->redeemed_value, l->redeemed_points * 100);
        assert_int_equal(l->total, l->subtotal - l->discount - l->redeemed_value);
        assert_true(l->total >= 0);
        value += l->redeemed_value;
    }
    assert_int_equal(value, points * 100);
    assert_int_equal(r->totals.redeemed_value, value);
    assert_int_equal(r->totals.points_redeemed, points);
}

static void test_redemption_within_every_limit_is_granted_in_full(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r = redeem(rs, "1200", "300");
    (void)state;

    assert_redeemed(r, 300, TSR_RR_NONE);
    assert_int_equal(line(r, "t")->redeemed_points, 300);
    assert_int_equal(line(r, "t")->total, 70000);
    assert_int_equal(line(r, "f")->redeemed_points, 0);
    assert_int_equal(line(r, "f")->total, 50000);
    assert_applied(r, "loyalty", "redeem");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_is_capped_by_the_balance(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r = redeem(rs, "300", "400");
    (void)state;

    assert_redeemed(r, 300, TSR_RR_BALANCE);
    assert_applied(r, "loyalty", "redeem");
    tsr_result_free(r);

    /* No points at all: the balance binds, not min_points. */
    r = redeem(rs, NULL, "400");
    assert_redeemed(r, 0, TSR_RR_BALANCE);
    assert_not_applied(r, "loyalty", "redeem", NULL);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_is_capped_by_max_percent_of_the_eligible_lines(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r = redeem(rs, "5000", "800");      /* 50 % of the 1000.00 ticket */
    (void)state;

    assert_redeemed(r, 500, TSR_RR_MAX_PERCENT);
    assert_int_equal(line(r, "t")->total, 50000);
    assert_int_equal(line(r, "f")->total, 50000);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_reason_names_the_tighter_of_balance_and_max_percent(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r;
    (void)state;

    r = redeem(rs, "600", "800");
    assert_redeemed(r, 500, TSR_RR_MAX_PERCENT);
    tsr_result_free(r);
    r = redeem(rs, "400", "800");
    assert_redeemed(r, 400, TSR_RR_BALANCE);
    tsr_result_free(r);
    r = redeem(rs, "500", "800");                  /* a tie: the earlier limit */
    assert_redeemed(r, 500, TSR_RR_BALANCE);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_rounds_down_to_a_multiple_of_step(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r;
    (void)state;

    r = redeem(rs, "5000", "255");
    assert_redeemed(r, 250, TSR_RR_STEP);
    tsr_result_free(r);
    /* step applies after the balance */
    r = redeem(rs, "455", "800");
    assert_redeemed(r, 450, TSR_RR_STEP);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_below_min_points_redeems_nothing(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r;
    (void)state;

    r = redeem(rs, "5000", "90");
    assert_redeemed(r, 0, TSR_RR_MIN_POINTS);
    assert_int_equal(line(r, "t")->total, 100000);
    assert_not_applied(r, "loyalty", "redeem", "min_points: 90 points is below min_points 100");
    tsr_result_free(r);
    /* reduced below min_points by the balance: min_points zeroes it */
    r = redeem(rs, "95", "300");
    assert_redeemed(r, 0, TSR_RR_MIN_POINTS);
    tsr_result_free(r);
    r = redeem(rs, "5000", "100");
    assert_redeemed(r, 100, TSR_RR_NONE);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_is_refused_to_non_members(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":false,\"points_balance\":5000},"
                 "\"items\":[{\"id\":\"t\",\"kind\":\"ticket\",\"price\":\"1000.00\"}],\"redeem_points\":200}");
    assert_false(r->member);
    assert_redeemed(r, 0, TSR_RR_NOT_MEMBER);
    assert_not_applied(r, "loyalty", "redeem", "not a member: `customer.member` was false");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_no_request_redeems_nothing_and_gives_no_reason(void **state)
{
    tsr_ruleset *rs = load(redeem_rules);
    tsr_result *r;
    (void)state;

    r = redeem(rs, "5000", NULL);
    assert_redeemed(r, 0, TSR_RR_NONE);
    assert_null(trace(r, "loyalty", "redeem"));
    tsr_result_free(r);
    r = redeem(rs, "5000", "0");
    assert_redeemed(r, 0, TSR_RR_NONE);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Without a request and without member_when redemption settles its fields
 * and membership in a short path (tsr__eval_redeem); `member_when:
 * has(customer.id)`, the same membership written out, takes the general
 * one.  Into a kept result that has just redeemed points, with a trace and
 * without, both must leave the same membership and nothing redeemed; a rule
 * set without `loyalty` no member. */
static void test_redemption_without_a_request_settles_as_the_general_path(void **state)
{
#define SHORT_RULES HEAD "loyalty:\n%s  redeem: { point_value: 1.00 }\n" \
    "  earn:\n    - { id: base, per: 1.00, points: 1 }\n"
    static const char *const orders[] = {
        "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"id\":\"C1\"},\"redeem_points\":0,"
        "\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
        "{" WHEN ",\"customer\":{\"member\":true},\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}",
    };
    static const bool member[] = { true, true, false, false };
    static const char redeeming[] = "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_balance\":50},"
        "\"redeem_points\":2,\"items\":[{\"id\":\"a\",\"kind\":\"t\",\"price\":\"5.00\"}]}";
    char text[2][512];
    tsr_ruleset *rs[3];
    (void)state;

    snprintf(text[0], sizeof text[0], SHORT_RULES, "");
    snprintf(text[1], sizeof text[1], SHORT_RULES, "  member_when: has(customer.id)\n");
#undef SHORT_RULES
    rs[0] = load(text[0]);
    rs[1] = load(text[1]);
    rs[2] = load(HEAD);
    assert_null(rs[0]->loyalty.member_when);
    assert_non_null(rs[1]->loyalty.member_when);
    for (int quiet = 0; quiet < 2; quiet++) {
        tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
        opts.no_trace = quiet;
        for (size_t i = 0; i < TSR_ARRAY_LEN(orders); i++) {
            for (size_t k = 0; k < 3; k++) {
                tsr_result *r = NULL;
                tsr_error err;
                assert_int_equal(tsr_evaluate_text_into(&r, rs[k], redeeming, strlen(redeeming),
                                                        &opts, &err), TSR_OK);
                if (k < 2)
                    assert_int_equal(r->points_redeemed, 2);
                assert_int_equal(tsr_evaluate_text_into(&r, rs[k], orders[i], strlen(orders[i]),
                                                        &opts, &err), TSR_OK);
                assert_int_equal(r->member, k < 2 && member[i]);
                assert_int_equal(r->points_earned, k < 2 && member[i] ? 5 : 0);
                assert_redeemed(r, 0, TSR_RR_NONE);
                assert_int_equal(r->lines[0].redeemed_points, 0);
                assert_int_equal(r->lines[0].redeemed_value, 0);
                assert_null(r->lots_used);
                assert_int_equal(r->nlots_used, 0);
                tsr_result_free(r);
            }
        }
    }
    for (size_t k = 0; k < 3; k++)
        tsr_ruleset_free(rs[k]);
}

static const char redeem_all_rules[] = HEAD
    "loyalty:\n"
    "  redeem: { point_value: 1.00 }\n";

static void test_redeemed_points_are_allocated_by_line_totals_ties_to_the_earlier_line(void **state)
{
    tsr_ruleset *rs = load(redeem_all_rules);
    tsr_result *r;
    (void)state;

    /* 101 points over 300.00 and 100.00: 75.75 and 25.25. */
    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_balance\":5000},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"300.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"100.00\"}],\"redeem_points\":101}");
    assert_redeemed(r, 101, TSR_RR_NONE);
    assert_int_equal(line(r, "a")->redeemed_points, 76);
    assert_int_equal(line(r, "b")->redeemed_points, 25);
    assert_int_equal(line(r, "a")->total, 22400);
    assert_int_equal(line(r, "b")->total, 7500);
    tsr_result_free(r);

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_balance\":5000},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"100.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"100.00\"}],\"redeem_points\":101}");
    assert_int_equal(line(r, "a")->redeemed_points, 51);
    assert_int_equal(line(r, "b")->redeemed_points, 50);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A point worth 1.00 cannot pay part of a 0.50 line: such lines take no
 * points, and the redemption is capped by what the lines can take. */
static void test_points_worth_more_than_a_line_never_push_it_below_zero(void **state)
{
    tsr_ruleset *rs = load(redeem_all_rules);
    tsr_result *r;
    (void)state;

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_balance\":5000},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"100.00\"},"
                 "{\"id\":\"b\",\"kind\":\"fnb\",\"price\":\"0.50\"},"
                 "{\"id\":\"c\",\"kind\":\"fnb\",\"price\":\"0.50\"},"
                 "{\"id\":\"d\",\"kind\":\"fnb\",\"price\":\"0.50\"}],\"redeem_points\":101}");
    assert_redeemed(r, 100, TSR_RR_MAX_PERCENT);
    assert_int_equal(line(r, "a")->redeemed_points, 100);
    assert_int_equal(line(r, "a")->total, 0);
    assert_int_equal(line(r, "b")->total, 50);
    tsr_result_free(r);

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_balance\":5000},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"0.60\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"0.60\"}],\"redeem_points\":1}");
    assert_redeemed(r, 0, TSR_RR_MAX_PERCENT);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_redemption_uses_line_totals_after_discounts(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "discounts:\n"
        "  - { id: half, for: item.id == \"a\", percent: 50 }\n"
        "loyalty:\n"
        "  redeem: { point_value: 0.01, max_percent: 50 }\n");
    tsr_result *r;
    (void)state;

    /* a: 200.00 -> 100.00; b: 100.00.  50 % of 200.00 = 10000 points of 0.01. */
    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_balance\":50000},\"items\":["
                 "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"200.00\"},"
                 "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"100.00\"}],\"redeem_points\":20000}");
    assert_int_equal(r->points_redeemed, 10000);
    assert_int_equal(r->redeem_reason, TSR_RR_MAX_PERCENT);
    assert_int_equal(line(r, "a")->redeemed_points, 5000);
    assert_int_equal(line(r, "a")->redeemed_value, 5000);
    assert_int_equal(line(r, "a")->total, 5000);
    assert_int_equal(line(r, "b")->total, 5000);
    assert_int_equal(r->totals.due, 10000);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Points lots.
 */
static const char lots_rules[] = HEAD
    "loyalty:\n"
    "  redeem: { point_value: 0.01 }\n";

static tsr_result *redeem_lots(const tsr_ruleset *rs, const char *lots, const char *request)
{
    char order[1024];
    snprintf(order, sizeof order,
             "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_lots\":[%s]},"
             "\"items\":[{\"id\":\"t\",\"kind\":\"ticket\",\"price\":\"100.00\"}],"
             "\"redeem_points\":%s}", lots, request);
    return eval(rs, order);
}

static void test_lots_expiring_on_the_order_date_are_ignored(void **state)
{
    tsr_ruleset *rs = load(lots_rules);
    tsr_result *r;
    (void)state;

    r = redeem_lots(rs,
        "{\"id\":\"L1\",\"points\":100,\"expires_on\":\"2026-06-10\"},"
        "{\"id\":\"L0\",\"points\":70,\"expires_on\":\"2026-06-01\"},"
        "{\"id\":\"L2\",\"points\":50,\"expires_on\":\"2026-06-11\"}", "150");
    assert_int_equal(r->points_redeemed, 50);
    assert_int_equal(r->redeem_reason, TSR_RR_BALANCE);
    assert_int_equal(r->nlots_used, 1);
    assert_string_equal(r->lots_used[0].id, "L2");
    assert_int_equal(r->lots_used[0].points, 50);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_lots_are_spent_soonest_expiring_first_and_listed(void **state)
{
    tsr_ruleset *rs = load(lots_rules);
    tsr_result *r;
    (void)state;

    r = redeem_lots(rs,
        "{\"id\":\"forever\",\"points\":100},"
        "{\"id\":\"dec\",\"points\":100,\"expires_on\":\"2026-12-31\"},"
        "{\"id\":\"jul-a\",\"points\":100,\"expires_on\":\"2026-07-01\"},"
        "{\"id\":\"jul-b\",\"points\":50,\"expires_on\":\"2026-07-01\"}", "220");
    assert_int_equal(r->points_redeemed, 220);
    assert_int_equal(r->redeem_reason, TSR_RR_NONE);
    assert_int_equal(r->nlots_used, 3);
    assert_string_equal(r->lots_used[0].id, "jul-a");      /* ties: the order given */
    assert_int_equal(r->lots_used[0].points, 100);
    assert_string_equal(r->lots_used[1].id, "jul-b");
    assert_int_equal(r->lots_used[1].points, 50);
    assert_string_equal(r->lots_used[2].id, "dec");
    assert_int_equal(r->lots_used[2].points, 70);
    tsr_result_free(r);

    /* lots that never expire go last */
    r = redeem_lots(rs,
        "{\"id\":\"forever\",\"points\":100},"
        "{\"id\":\"dec\",\"points\":100,\"expires_on\":\"2026-12-31\"}", "150");
    assert_int_equal(r->nlots_used, 2);
    assert_string_equal(r->lots_used[0].id, "dec");
    assert_int_equal(r->lots_used[0].points, 100);
    assert_string_equal(r->lots_used[1].id, "forever");
    assert_int_equal(r->lots_used[1].points, 50);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Thousands of lots, most sharing an expiry date with hundreds of others:
 * spent soonest first, ties in the order given, lots that never expire
 * last, the whole list exactly. */
static void test_many_lots_are_spent_in_expiry_then_given_order(void **state)
{
    enum { N = 3000, ASKED = N - 3 };
    tsr_ruleset *rs = load(lots_rules);
    char *order = malloc(N * 64 + 512), id[16];
    size_t len, i, k = 0, used = 0;
    int day;
    tsr_result *r;
    (void)state;

    assert_non_null(order);
    len = (size_t)sprintf(order, "{" WHEN ",\"customer\":{\"id\":\"C1\",\"points_lots\":[");
    for (i = 0; i < N; i++)
        len += i % 10 == 9
                   ? (size_t)sprintf(order + len, "%s{\"id\":\"L%zu\",\"points\":1}", i ? "," : "", i)
                   : (size_t)sprintf(order + len,
                                     "%s{\"id\":\"L%zu\",\"points\":1,\"expires_on\":\"2026-07-%02d\"}",
                                     i ? "," : "", i, (int)(1 + i * 7 % 28));
    sprintf(order + len, "]},\"items\":[{\"id\":\"t\",\"kind\":\"ticket\",\"price\":\"100.00\"}],"
                         "\"redeem_points\":%d}", ASKED);
    r = eval(rs, order);
    assert_int_equal(r->points_redeemed, ASKED);
    assert_int_equal(r->nlots_used, ASKED);
    /* the expected order: each day's lots as given, then the ones that never expire */
    for (day = 1; day <= 29; day++)
        for (i = 0; i < N && used < ASKED; i++) {
            bool never = i % 10 == 9;
            if (day <= 28 ? never || (int)(1 + i * 7 % 28) != day : !never)
                continue;
            snprintf(id, sizeof id, "L%zu", i);
            if (strcmp(r->lots_used[k].id, id) != 0)
                fail_msg("lot %zu spent is %s, want %s", k, r->lots_used[k].id, id);
            assert_int_equal(r->lots_used[k].points, 1);
            k++;
            used++;
        }
    assert_int_equal(k, ASKED);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
    free(order);
}

/* ---------------------------------------------------------------------
 * The park scenario (shared/scenarios/park): points pay half a ticket at
 * most, and what is paid earns points.
 */
static void test_park_points_pay_half_a_ticket_and_paid_money_earns(void **state)
{
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  earn:\n"
        "    - { id: base, per: 100.00, points: 5 }\n"
        "    - { id: birthday-bonus, when: customer.gold, points: 100 }\n"
        "  pending_days: 1\n"
        "  expire_days: 365\n"
        "  redeem:\n"
        "    point_value: 1.00\n"
        "    for: item.kind == \"ticket\"\n"
        "    max_percent: 50\n"
        "    min_points: 100\n"
        "    step: 1\n");
    tsr_result *r;
    const tsr_points_entry *e;
    (void)state;

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C5\",\"member\":true,\"points_balance\":1200},"
                 "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"price\":\"2500.00\"},"
                 "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"150.00\",\"quantity\":2}],"
                 "\"redeem_points\":1000}");
    assert_int_equal(r->points_redeemed, 1000);
    assert_int_equal(r->redeem_reason, TSR_RR_NONE);
    assert_int_equal(line(r, "t1")->total, 150000);
    assert_int_equal(line(r, "t1")->points_earned, 75);
    assert_int_equal(line(r, "f1")->total, 30000);
    assert_int_equal(line(r, "f1")->points_earned, 15);
    assert_int_equal(r->points_earned, 90);
    assert_int_equal(r->totals.redeemed_value, 100000);
    assert_int_equal(r->totals.due, 180000);
    e = entry(r, "base", "t1");
    assert_date(e->available_on, "2026-06-11");
    assert_date(e->expires_on, "2027-06-11");
    tsr_result_free(r);

    r = eval(rs, "{" WHEN ",\"customer\":{\"id\":\"C6\",\"member\":true,\"gold\":true},"
                 "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"price\":\"1800.00\"}]}");
    assert_int_equal(r->points_earned, 190);
    assert_int_equal(line(r, "t1")->points_earned, 90);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Overflow and memory.
 */
static void test_points_overflow_is_an_evaluation_error(void **state)
{
    tsr_ruleset *rs;
    tsr_result *r = NULL;
    tsr_error err;
    const char *order = "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"}]}";
    (void)state;

    rs = load(HEAD
        "loyalty:\n"
        "  earn:\n"
        "    - { id: base, per: 0.01, points: 4611686018427387904 }\n");
    assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err), TSR_EEVAL);
    assert_null(r);
    tsr_ruleset_free(rs);

    rs = load(HEAD
        "loyalty:\n"
        "  earn:\n"
        "    - { id: bonus, points: 4611686018427387904 }\n"
        "    - { id: double, multiply: 2, rules: [bonus] }\n");
    assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err), TSR_EEVAL);
    assert_null(r);
    tsr_ruleset_free(rs);
}

static void test_without_a_trace_the_points_are_the_same(void **state)
{
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    tsr_ruleset *rs = load(bonus_rules);
    tsr_result *r = NULL;
    tsr_error err;
    const char *order = "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":true},\"items\":["
                        "{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"},"
                        "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"1.00\"}]}";
    (void)state;

    opts.no_trace = 1;
    assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), &opts, &err), TSR_OK);
    assert_int_equal(r->points_earned, 36);
    assert_int_equal(r->ntrace, 0);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Without an event_start in the schema every entry of a per rule is dated
 * from the order's date, written in one pass with the points earned added
 * once (push_order_dated); with one, each entry is dated and added on its
 * own.  An order whose lines carry no event_start takes the order's date
 * either way, so the two rule sets must give the same entries, field by
 * field, the same points per line and in all (rules with and without
 * `for`, shares of 0 omitted, two rules on the same lines), and the same
 * error when the points earned overflow on the second rule. */
#define SAME_DATED_EARN \
    "loyalty:\n" \
    "  pending_days: 3\n" \
    "  expire_days: 400\n" \
    "  earn:\n" \
    "    - { id: base, per: 1.00, points: 7 }\n" \
    "    - { id: tix, for: item.kind == \"ticket\", per: 0.30, points: 2 }\n" \
    "    - { id: bonus, points: 5 }\n"

static void test_entries_dated_from_the_order_match_entries_dated_per_line(void **state)
{
    tsr_ruleset *once = load(HEAD SAME_DATED_EARN);
    tsr_ruleset *each = load(HEAD "  item: { event_start: datetime }\n" SAME_DATED_EARN);
    static const char *const orders[] = {
        "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"3.35\"},"
        "{\"id\":\"b\",\"kind\":\"food\",\"price\":\"0.01\"},{\"id\":\"c\",\"kind\":\"ticket\",\"price\":\"1.70\"},"
        "{\"id\":\"d\",\"kind\":\"ticket\",\"price\":\"0.00\"},{\"id\":\"e\",\"kind\":\"gift\",\"price\":\"9.99\"}]}",
        "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"food\",\"price\":\"2.00\"}]}",
        "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"},"
        "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"1.00\"},{\"id\":\"c\",\"kind\":\"ticket\",\"price\":\"1.00\"}]}",
    };
    size_t o, i;
    (void)state;

    for (o = 0; o < sizeof orders / sizeof orders[0]; o++) {
        tsr_result *a = eval(once, orders[o]), *b = eval(each, orders[o]);
        assert_true(a->points_earned > 0);
        assert_int_equal(a->points_earned, b->points_earned);
        assert_int_equal(a->nentries, b->nentries);
        for (i = 0; i < a->nentries; i++) {
            assert_int_equal(a->entries[i].earn, b->entries[i].earn);
            assert_int_equal(a->entries[i].line, b->entries[i].line);
            assert_int_equal(a->entries[i].points, b->entries[i].points);
            assert_true(a->entries[i].points > 0);
            assert_int_equal(a->entries[i].available_on, b->entries[i].available_on);
            assert_true(a->entries[i].has_expires && b->entries[i].has_expires);
            assert_int_equal(a->entries[i].expires_on, b->entries[i].expires_on);
        }
        assert_int_equal(a->nlines, b->nlines);
        for (i = 0; i < a->nlines; i++)
            assert_int_equal(a->lines[i].points_earned, b->lines[i].points_earned);
        assert_points_consistent(a);
        tsr_result_free(a);
        tsr_result_free(b);
    }
    tsr_ruleset_free(once);
    tsr_ruleset_free(each);

    /* each rule's points fit; their sum does not */
#define OVER_EARN \
    "loyalty:\n" \
    "  earn:\n" \
    "    - { id: one, per: 1.00, points: 2305843009213693952 }\n" \
    "    - { id: two, per: 1.00, points: 2305843009213693952 }\n"
    {
        const char *order = "{" WHEN "," MEMBER ",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"price\":\"1.00\"},"
                            "{\"id\":\"b\",\"kind\":\"ticket\",\"price\":\"0.50\"},{\"id\":\"c\",\"kind\":\"ticket\",\"price\":\"0.50\"}]}";
        tsr_ruleset *sets[2];
        tsr_error err[2];
        tsr_result *r = NULL;
        sets[0] = load(HEAD OVER_EARN);
        sets[1] = load(HEAD "  item: { event_start: datetime }\n" OVER_EARN);
        for (i = 0; i < 2; i++) {
            assert_int_equal(tsr_evaluate_text(&r, sets[i], order, strlen(order), NULL, &err[i]), TSR_EEVAL);
            assert_null(r);
            tsr_ruleset_free(sets[i]);
        }
        assert_non_null(strstr(err[0].message, "points earned"));
        assert_string_equal(err[0].message, err[1].message);
        assert_string_equal(err[0].path, err[1].path);
    }
#undef OVER_EARN
}
#undef SAME_DATED_EARN

/* Earning keeps its per-line scratch on the stack up to 16 lines and in
 * the arena beyond; setup gives an order of up to 64 lines room for a
 * line's worth of entries and 8 more, and a rule reserves room for its
 * entries at once beyond that (the list doubling, earlier entries copied):
 * orders of 3 (in setup's room), 16, 17, 40, 64 (outgrowing it) and 65
 * lines (no room from setup) under two per rules and a flat one must give,
 * entry by entry, the largest-remainder shares of each rule's points, in
 * rule then line order, with and without a trace, into a new result and
 * into one kept across the orders. */
static void test_earning_on_short_and_long_orders_gives_every_entry_in_order(void **state)
{
    static const size_t sizes[] = {3, 16, 17, 40, 64, 65, 3};
    tsr_result *kept = NULL;
    tsr_ruleset *rs = load(HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  earn:\n"
        "    - { id: one, per: 1.00, points: 1 }\n"
        "    - { id: two, per: 0.70, points: 3 }\n"
        "    - { id: flat, points: 5 }\n");
    (void)state;

    for (size_t z = 0; z < TSR_ARRAY_LEN(sizes); z++) {
        size_t n = sizes[z], len = 0;
        char order[8192];
        int64_t w[65], want[65], base = 0;
        len += (size_t)snprintf(order + len, sizeof order - len, "{" WHEN "," MEMBER ",\"items\":[");
        for (size_t i = 0; i < n; i++) {
            w[i] = 100 + (int64_t)((i * 7919u) % 2000u);   /* 1.00 .. 20.99 */
            base += w[i];
            len += (size_t)snprintf(order + len, sizeof order - len,
                                    "%s{\"id\":\"l%zu\",\"kind\":\"ticket\",\"price\":\"%lld.%02lld\"}",
                                    i ? "," : "", i, (long long)(w[i] / 100), (long long)(w[i] % 100));
        }
        snprintf(order + len, sizeof order - len, "]}");
        for (int mode = 0; mode < 3; mode++) {   /* no trace, trace, kept result */
            tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
            tsr_result *r = NULL;
            tsr_error err;
            size_t e = 0;
            opts.no_trace = mode != 1;
            if (mode == 2) {
                assert_int_equal(tsr_evaluate_text_into(&kept, rs, order, strlen(order), &opts,
                                                        &err), TSR_OK);
                r = kept;
            } else {
                assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), &opts, &err),
                                 TSR_OK);
            }
            for (int rule = 0; rule < 2; rule++) {
                int64_t points = rule == 0 ? base / 100 : base / 70 * 3;
                assert_true(tsr__allocate(points, w, n, want));
                for (size_t i = 0; i < n; i++) {
                    if (want[i] == 0)
                        continue;
                    assert_true(e < r->nentries);
                    assert_int_equal(r->entries[e].earn, rule);
                    assert_int_equal(r->entries[e].line, (int)i);
                    assert_int_equal(r->entries[e].points, want[i]);
                    e++;
                }
            }
            assert_int_equal(r->nentries, e + 1);
            assert_int_equal(r->entries[e].earn, 2);
            assert_int_equal(r->entries[e].line, -1);
            assert_int_equal(r->entries[e].points, 5);
            assert_int_equal(r->points_earned, base / 100 + base / 70 * 3 + 5);
            assert_points_consistent(r);
            if (r != kept)
                tsr_result_free(r);
        }
    }
    tsr_result_free(kept);
    tsr_ruleset_free(rs);
}

/* Fail allocation 1, 2, 3, ... of an evaluation that redeems lots and earns
 * on many lines: each failure is a clean TSR_ENOMEM with nothing leaked.
 * Eight per-rules give every line eight entries, more than the evaluation
 * arena's first chunk holds, so the failures reach the entry list too. */
static void test_out_of_memory_during_loyalty_fails_cleanly(void **state)
{
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    const char *rules = HEAD
        "loyalty:\n"
        "  member_when: customer.member\n"
        "  pending_days: 1\n"
        "  expire_days: 30\n"
        "  earn:\n"
        "    - { id: e1, per: 1.00, points: 1 }\n"
        "    - { id: e2, per: 1.00, points: 2 }\n"
        "    - { id: e3, per: 1.00, points: 3 }\n"
        "    - { id: e4, per: 1.00, points: 4 }\n"
        "    - { id: e5, per: 1.00, points: 5 }\n"
        "    - { id: e6, per: 1.00, points: 6 }\n"
        "    - { id: e7, per: 1.00, points: 7 }\n"
        "    - { id: e8, per: 1.00, points: 8 }\n"
        "    - { id: bonus, points: 10 }\n"
        "    - { id: gold-double, when: customer.gold, multiply: 2, rules: [e1, bonus] }\n"
        "  redeem: { point_value: 0.01, max_percent: 50 }\n";
    enum { NLINES = 200 };
    char *order = malloc(64 * 1024);
    size_t n = 0, baseline, nth;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc = TSR_ENOMEM, i;
    (void)state;

    assert_non_null(order);
    n += (size_t)snprintf(order + n, 64 * 1024 - n,
                          "{" WHEN ",\"customer\":{\"id\":\"C1\",\"member\":true,\"gold\":true,"
                          "\"points_lots\":[{\"id\":\"L1\",\"points\":30,\"expires_on\":\"2026-07-01\"},"
                          "{\"id\":\"L2\",\"points\":30}]},\"redeem_points\":50,\"items\":[");
    for (i = 0; i < NLINES; i++)
        n += (size_t)snprintf(order + n, 64 * 1024 - n,
                              "%s{\"id\":\"l%d\",\"kind\":\"ticket\",\"price\":\"%d.00\"}",
                              i ? "," : "", i, i % 7 + 1);
    snprintf(order + n, 64 * 1024 - n, "]}");

    opts.allocator = &user;
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), "oom.yaml", &opts, &err),
                     TSR_OK);
    baseline = c.live;
    for (nth = 1; nth < 10000; nth++) {
        tsr_result *r = NULL;
        c.calls = 0;
        c.fail_at = nth;
        rc = tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err);
        c.fail_at = 0;
        tsr_ruleset_release_memory(rs);   /* the spare order of tsr_evaluate_text */
        if (rc == TSR_OK) {
            assert_non_null(r);
            assert_int_equal(r->nentries, NLINES * 8 + 1);
            assert_int_equal(r->points_redeemed, 50);
            assert_int_equal(r->nlots_used, 2);
            tsr_result_free(r);
            assert_int_equal(c.live, baseline);
            break;
        }
        assert_int_equal(rc, TSR_ENOMEM);
        assert_null(r);
        assert_int_equal(c.live, baseline);
    }
    assert_int_equal(rc, TSR_OK);
    free(order);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_per_rule_earns_points_for_every_full_per_only),
        cmocka_unit_test(test_per_rule_allocates_points_to_lines_by_largest_remainder),
        cmocka_unit_test(test_allocation_ties_go_to_the_earlier_line_and_empty_entries_are_omitted),
        cmocka_unit_test(test_per_rule_with_too_little_paid_says_so_in_the_trace),
        cmocka_unit_test(test_earning_on_paid_counts_after_redemption),
        cmocka_unit_test(test_earning_on_price_counts_before_redemption),
        cmocka_unit_test(test_earn_for_limits_the_lines_that_earn),
        cmocka_unit_test(test_earn_without_for_matches_a_for_that_always_holds),
        cmocka_unit_test(test_flat_rule_gives_its_points_once_to_the_order),
        cmocka_unit_test(test_multipliers_scale_order_points_before_allocation_and_compose),
        cmocka_unit_test(test_multiplier_with_nothing_to_multiply_is_not_applied),
        cmocka_unit_test(test_earn_rule_when_false_is_traced_with_its_source),
        cmocka_unit_test(test_earn_rule_long_when_is_quoted_like_any_rule),
        cmocka_unit_test(test_earn_rule_valid_window_and_channels_gate_it),
        cmocka_unit_test(test_earn_gates_without_a_trace_decide_as_with_it),
        cmocka_unit_test(test_earn_gates_without_a_trace_charge_the_same_steps),
        cmocka_unit_test(test_earn_gates_with_a_trace_answer_as_the_general_gate),
        cmocka_unit_test(test_earn_states_for_few_and_many_rules),
        cmocka_unit_test(test_earn_gates_of_one_conjunct_decide_as_the_general_gate),
        cmocka_unit_test(test_earn_gates_decided_at_load_answer_as_the_general_gate),
        cmocka_unit_test(test_earning_reads_the_membership_redemption_settled),
        cmocka_unit_test(test_member_when_false_earns_nothing_and_says_why),
        cmocka_unit_test(test_default_membership_is_having_a_customer_id),
        cmocka_unit_test(test_available_on_is_pending_days_after_the_order_date_across_month_ends),
        cmocka_unit_test(test_expires_on_is_expire_days_after_available_on_across_leap_years),
        cmocka_unit_test(test_event_start_is_the_service_date_of_its_line),
        cmocka_unit_test(test_entry_dates_past_9999_are_evaluation_errors),
        cmocka_unit_test(test_event_start_date_is_taken_in_the_rule_set_timezone),
        cmocka_unit_test(test_entries_dated_from_the_order_match_entries_dated_per_line),
        cmocka_unit_test(test_redemption_within_every_limit_is_granted_in_full),
        cmocka_unit_test(test_redemption_is_capped_by_the_balance),
        cmocka_unit_test(test_redemption_is_capped_by_max_percent_of_the_eligible_lines),
        cmocka_unit_test(test_redemption_reason_names_the_tighter_of_balance_and_max_percent),
        cmocka_unit_test(test_redemption_rounds_down_to_a_multiple_of_step),
        cmocka_unit_test(test_redemption_below_min_points_redeems_nothing),
        cmocka_unit_test(test_redemption_is_refused_to_non_members),
        cmocka_unit_test(test_no_request_redeems_nothing_and_gives_no_reason),
        cmocka_unit_test(test_redemption_without_a_request_settles_as_the_general_path),
        cmocka_unit_test(test_redeemed_points_are_allocated_by_line_totals_ties_to_the_earlier_line),
        cmocka_unit_test(test_points_worth_more_than_a_line_never_push_it_below_zero),
        cmocka_unit_test(test_redemption_uses_line_totals_after_discounts),
        cmocka_unit_test(test_lots_expiring_on_the_order_date_are_ignored),
        cmocka_unit_test(test_lots_are_spent_soonest_expiring_first_and_listed),
        cmocka_unit_test(test_many_lots_are_spent_in_expiry_then_given_order),
        cmocka_unit_test(test_park_points_pay_half_a_ticket_and_paid_money_earns),
        cmocka_unit_test(test_points_overflow_is_an_evaluation_error),
        cmocka_unit_test(test_without_a_trace_the_points_are_the_same),
        cmocka_unit_test(test_earning_on_short_and_long_orders_gives_every_entry_in_order),
        cmocka_unit_test(test_out_of_memory_during_loyalty_fails_cleanly),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
