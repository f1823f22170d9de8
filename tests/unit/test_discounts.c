/* Unit tests for step 5, discounts (lib/discounts.c): every effect, the
 * thresholds, caps, claiming, groups, gating, stacking and rounding —
 * through the public API, peeking at struct tsr_result for the trace and
 * the per-line discount records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eval.h"
#include "discounts.h"
#include "alloc_fixture.h"
#include "answer_fixture.h"

#define HEADER "tessera: 1\nruleset: t\ncurrency: EUR\n"

static tsr_ruleset *load(const char *yaml)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc = tsr_ruleset_load_string(&rs, yaml, strlen(yaml), "test.yaml", NULL, &err);
    if (rc != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fail_msg("rule set did not load: %s", buf);
    }
    return rs;
}

static tsr_result *eval_opts(const tsr_ruleset *rs, const char *order, const tsr_eval_options *o)
{
    tsr_result *r = NULL;
    tsr_error err;
    int rc = tsr_evaluate_text(&r, rs, order, strlen(order), o, &err);
    if (rc != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fail_msg("evaluation failed: %s", buf);
    }
    return r;
}

static tsr_result *eval(const tsr_ruleset *rs, const char *order)
{
    return eval_opts(rs, order, NULL);
}

static const tsr_trace_entry *trace_of(const tsr_result *r, const char *section, const char *id)
{
    size_t i;
    for (i = 0; i < r->ntrace; i++)
        if (strcmp(r->trace[i].section, section) == 0 && strcmp(r->trace[i].id, id) == 0)
            return &r->trace[i];
    fail_msg("no trace entry %s.%s", section, id);
    return NULL;
}

static void assert_applied(const tsr_result *r, const char *id)
{
    const tsr_trace_entry *t = trace_of(r, "discounts", id);
    if (!t->applied)
        fail_msg("discounts.%s not applied: %s", id, t->why);
}

static void assert_not_applied(const tsr_result *r, const char *id, const char *why)
{
    const tsr_trace_entry *t = trace_of(r, "discounts", id);
    assert_false(t->applied);
    if (why)
        assert_string_equal(t->why, why);
}

/* The id of the k-th discount recorded on line i. */
static const char *line_discount(const tsr_result *r, size_t i, size_t k)
{
    assert_true(k < r->lines[i].ndiscounts);
    return r->rs->discounts[r->lines[i].discounts[k].discount].id;
}

static void assert_totals(const tsr_result *r, const int64_t *want, size_t n)
{
    size_t i;
    assert_int_equal(tsr_result_line_count(r), n);
    for (i = 0; i < n; i++)
        if (tsr_result_line_total(r, i) != want[i])
            fail_msg("line %zu: total %lld, want %lld", i, (long long)tsr_result_line_total(r, i),
                     (long long)want[i]);
}

#define ASSERT_TOTALS(r, ...) do { \
        const int64_t want_[] = { __VA_ARGS__ }; \
        assert_totals((r), want_, sizeof want_ / sizeof want_[0]); \
    } while (0)

#define DT "\"datetime\": \"2026-06-10T11:00:00+03:00\""

/* ---------------------------------------------------------------------
 * Effects.
 */
static void test_percent_comes_off_each_reward_line(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: ten, for: item.kind == \"ticket\", percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"25.00\"},"
                         "{\"id\": \"b\", \"kind\": \"ticket\", \"price\": \"10.00\", \"quantity\": 3},"
                         "{\"id\": \"c\", \"kind\": \"fnb\", \"price\": \"4.00\"}]}");
    tsr_totals t = TSR_TOTALS_INIT;
    (void)state;

    ASSERT_TOTALS(r, 2250, 2700, 400);
    assert_int_equal(r->lines[0].discount, 250);
    assert_int_equal(r->lines[0].ndiscounts, 1);
    assert_string_equal(line_discount(r, 0, 0), "ten");
    assert_int_equal(r->lines[2].ndiscounts, 0);
    tsr_result_totals(r, &t);
    assert_int_equal(t.subtotal, 5900);
    assert_int_equal(t.discount, 550);
    assert_int_equal(t.due, 5350);
    assert_applied(r, "ten");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* 12.5 % of 8.20 saves 1.025; of 8.60, 1.075; of 8.30, 1.0375. */
static void check_rounding(const char *mode, int64_t a, int64_t b, int64_t c)
{
    char yaml[256];
    tsr_ruleset *rs;
    tsr_result *r;

    snprintf(yaml, sizeof yaml, HEADER "rounding: %s\ndiscounts:\n  - { id: p, percent: 12.5 }\n",
             mode);
    rs = load(yaml);
    r = eval(rs, "{" DT ", \"items\": ["
             "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"8.20\"},"
             "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"8.60\"},"
             "{\"id\": \"c\", \"kind\": \"x\", \"price\": \"8.30\"}]}");
    assert_int_equal(r->lines[0].discount, a);
    assert_int_equal(r->lines[1].discount, b);
    assert_int_equal(r->lines[2].discount, c);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_percent_saving_is_rounded_half_up(void **state)
{
    (void)state;
    check_rounding("half_up", 103, 108, 104);
}

static void test_percent_saving_is_rounded_half_even(void **state)
{
    (void)state;
    check_rounding("half_even", 102, 108, 104);
}

static void test_percent_saving_is_rounded_down(void **state)
{
    (void)state;
    check_rounding("down", 102, 107, 103);
}

static void test_amount_comes_off_each_unit_and_never_below_zero(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: two-off, for: item.kind == \"fnb\", amount: 2.00 }\n"
                           "  - { id: seven-off, for: item.kind == \"merch\", amount: 7.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"fnb\", \"price\": \"5.00\", \"quantity\": 3},"
                         "{\"id\": \"b\", \"kind\": \"merch\", \"price\": \"5.00\", \"quantity\": 2}]}");
    (void)state;

    ASSERT_TOTALS(r, 900, 0);
    assert_int_equal(r->lines[1].discount, 1000);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_price_sets_the_unit_price_only_where_lower(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n  - { id: flat, price: 3.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"5.00\", \"quantity\": 2},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"2.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 600, 200);
    assert_int_equal(r->lines[1].ndiscounts, 0);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* The park's welcome-back: 500.00 over 2500.00 and 1800.00. */
static void test_order_amount_is_allocated_by_largest_remainder(void **state)
{
    tsr_ruleset *rs = load("tessera: 1\nruleset: t\ncurrency: RUB\ndiscounts:\n"
                           "  - { id: back, for: item.kind == \"ticket\", order_amount: 500.00,"
                           " min_total: 3000.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"t1\", \"kind\": \"ticket\", \"price\": \"2500.00\"},"
                         "{\"id\": \"t2\", \"kind\": \"ticket\", \"price\": \"1800.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 220930, 159070);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_order_amount_leftover_unit_goes_to_the_earlier_line_on_a_tie(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n  - { id: cent, order_amount: 0.01 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"10.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 999, 1000);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_order_amount_never_takes_more_than_the_lines_total(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n  - { id: big, order_amount: 100.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"3.00\"}]}");
    tsr_totals t = TSR_TOTALS_INIT;
    (void)state;

    ASSERT_TOTALS(r, 0, 0);
    tsr_result_totals(r, &t);
    assert_int_equal(t.discount, 1300);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * every / discounted.
 */
static void test_buy_three_get_one_makes_the_two_cheapest_of_six_free(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: b3g1, every: 3, discounted: 1, percent: 100 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"p4\", \"kind\": \"x\", \"price\": \"4.00\"},"
                         "{\"id\": \"p1\", \"kind\": \"x\", \"price\": \"1.00\"},"
                         "{\"id\": \"p6\", \"kind\": \"x\", \"price\": \"6.00\"},"
                         "{\"id\": \"p2\", \"kind\": \"x\", \"price\": \"2.00\"},"
                         "{\"id\": \"p5\", \"kind\": \"x\", \"price\": \"5.00\"},"
                         "{\"id\": \"p3\", \"kind\": \"x\", \"price\": \"3.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 400, 0, 600, 0, 500, 300);
    assert_applied(r, "b3g1");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_every_counts_units_across_one_line(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: b3g1, every: 3, discounted: 1, percent: 100 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"1.50\", \"quantity\": 7}]}");
    (void)state;

    ASSERT_TOTALS(r, 750);   /* 2 of 7 free */
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_every_ties_go_to_the_earlier_line(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: half, every: 2, discounted: 1, percent: 50 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"4.00\"},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"4.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 200, 400);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_max_applications_caps_the_groups(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: once, every: 3, discounted: 1, percent: 100,"
                           " max_applications: 1 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"2.00\", \"quantity\": 3},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"1.00\", \"quantity\": 3}]}");
    (void)state;

    ASSERT_TOTALS(r, 600, 200);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Cross-sell: groups are counted on tickets, the effect goes to drinks. */
static void test_every_rewards_other_lines_than_it_counts(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - id: tickets-get-a-drink\n"
                           "    for: item.kind == \"ticket\"\n"
                           "    reward: item.sku == \"DRINK\"\n"
                           "    every: 2\n    discounted: 1\n    percent: 100\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"t\", \"kind\": \"ticket\", \"price\": \"20.00\", \"quantity\": 5},"
                         "{\"id\": \"d\", \"kind\": \"fnb\", \"sku\": \"DRINK\", \"price\": \"3.00\", \"quantity\": 3},"
                         "{\"id\": \"c\", \"kind\": \"fnb\", \"sku\": \"COLA\", \"price\": \"2.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 10000, 300, 200);   /* 2 groups of 2 tickets: 2 drinks free */
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_every_with_amount_and_price_effects(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: off, for: item.kind == \"a\", every: 2, discounted: 1, amount: 1.00 }\n"
                           "  - { id: at, for: item.kind == \"b\", every: 2, discounted: 1, price: 1.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a1\", \"kind\": \"a\", \"price\": \"5.00\", \"quantity\": 4},"
                         "{\"id\": \"b1\", \"kind\": \"b\", \"price\": \"5.00\"},"
                         "{\"id\": \"b2\", \"kind\": \"b\", \"price\": \"3.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 1800, 500, 100);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* After a 0.01 order_amount the line's unit price is 2.99/3: 50 % of one
 * unit is 0.49833…, rounded once. */
static void test_unit_effects_compute_on_the_exact_share_of_the_line_total(void **state)
{
    const char *order = "{" DT ", \"items\": ["
                        "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"1.00\", \"quantity\": 3}]}";
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: cent, order_amount: 0.01, priority: 1 }\n"
                           "  - { id: half, every: 3, discounted: 1, percent: 50 }\n");
    tsr_ruleset *rs_down = load(HEADER "rounding: down\ndiscounts:\n"
                                "  - { id: cent, order_amount: 0.01, priority: 1 }\n"
                                "  - { id: half, every: 3, discounted: 1, percent: 50 }\n");
    tsr_result *r = eval(rs, order), *rd = eval(rs_down, order);
    (void)state;

    ASSERT_TOTALS(r, 249);
    ASSERT_TOTALS(rd, 250);
    tsr_result_free(r);
    tsr_result_free(rd);
    tsr_ruleset_free(rs);
    tsr_ruleset_free(rs_down);
}

static void test_every_not_reached_is_reported(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: b3g1, every: 4, discounted: 1, percent: 100 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"1.00\", \"quantity\": 3}]}");
    (void)state;

    ASSERT_TOTALS(r, 300);
    assert_not_applied(r, "b3g1", "every 4 not reached: 3 eligible units");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Bundles.
 */
#define FAMILY_PACK(max) \
    "tessera: 1\nruleset: t\ncurrency: RUB\ndiscounts:\n" \
    "  - id: family-pack\n    bundle:\n" \
    "      - { for: item.kind == \"adult\", quantity: 2 }\n" \
    "      - { for: item.kind == \"child\", quantity: 2 }\n" \
    "    price: 7000.00\n" max

static void test_bundle_family_pack_allocates_the_saving_by_unit_prices(void **state)
{
    tsr_ruleset *rs = load(FAMILY_PACK("    max_applications: 2\n"));
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a1\", \"kind\": \"adult\", \"price\": \"2500.00\"},"
                         "{\"id\": \"a2\", \"kind\": \"adult\", \"price\": \"2500.00\"},"
                         "{\"id\": \"c1\", \"kind\": \"child\", \"price\": \"1800.00\"},"
                         "{\"id\": \"c2\", \"kind\": \"child\", \"price\": \"1800.00\"}]}");
    tsr_totals t = TSR_TOTALS_INIT;
    (void)state;

    ASSERT_TOTALS(r, 203488, 203488, 146512, 146512);
    tsr_result_totals(r, &t);
    assert_int_equal(t.discount, 160000);
    assert_int_equal(t.due, 700000);
    assert_applied(r, "family-pack");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_bundle_takes_the_dearest_units_and_leaves_the_rest(void **state)
{
    tsr_ruleset *rs = load(FAMILY_PACK(""));
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a0\", \"kind\": \"adult\", \"price\": \"2000.00\"},"
                         "{\"id\": \"a\", \"kind\": \"adult\", \"price\": \"2500.00\", \"quantity\": 2},"
                         "{\"id\": \"c\", \"kind\": \"child\", \"price\": \"1800.00\", \"quantity\": 3}]}");
    (void)state;

    /* one bundle: both 2500 adults and two children; saving 1600 over
     * 5000/3600 → 930.23 / 669.77 */
    ASSERT_TOTALS(r, 200000, 406977, 473023);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_bundle_incomplete_is_reported_with_the_missing_part(void **state)
{
    tsr_ruleset *rs = load(FAMILY_PACK(""));
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"c\", \"kind\": \"child\", \"price\": \"1800.00\", \"quantity\": 2}]}");
    (void)state;

    ASSERT_TOTALS(r, 360000);
    assert_not_applied(r, "family-pack", "bundle incomplete: 0 of 2 `item.kind == \"adult\"`");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_bundle_that_would_not_save_does_not_form(void **state)
{
    tsr_ruleset *rs = load("tessera: 1\nruleset: t\ncurrency: RUB\ndiscounts:\n"
                           "  - id: pack\n    exclusive: true\n    bundle:\n"
                           "      - { for: item.kind == \"adult\", quantity: 2 }\n"
                           "    price: 9000.00\n"
                           "  - { id: ten, percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"adult\", \"price\": \"2500.00\", \"quantity\": 2}]}");
    (void)state;

    ASSERT_TOTALS(r, 450000);   /* not claimed: the 10 % still applies */
    assert_not_applied(r, "pack", "bundle price 9000.00 is not below its units' current total 5000.00");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A billion bundles: formed in phases, never unit by unit. */
static void test_bundle_handles_huge_quantities_without_iterating_units(void **state)
{
    tsr_ruleset *rs = load(FAMILY_PACK(""));
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"adult\", \"price\": \"2500.00\", \"quantity\": 2000000000},"
                         "{\"id\": \"c\", \"kind\": \"child\", \"price\": \"1800.00\", \"quantity\": 2000000000}]}");
    (void)state;

    /* per bundle: 930.23 off the adults, 669.77 off the children */
    ASSERT_TOTALS(r, INT64_C(406977000000000), INT64_C(293023000000000));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Thresholds and caps.
 */
static void test_min_quantity_counts_eligible_units(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: group-of-10, for: item.kind == \"ticket\", min_quantity: 10,"
                           " percent: 15 }\n");
    tsr_result *nine = eval(rs, "{" DT ", \"items\": ["
                            "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"10.00\", \"quantity\": 4},"
                            "{\"id\": \"b\", \"kind\": \"ticket\", \"price\": \"10.00\", \"quantity\": 5},"
                            "{\"id\": \"f\", \"kind\": \"fnb\", \"price\": \"1.00\", \"quantity\": 5}]}");
    tsr_result *ten = eval(rs, "{" DT ", \"items\": ["
                           "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"10.00\", \"quantity\": 4},"
                           "{\"id\": \"b\", \"kind\": \"ticket\", \"price\": \"10.00\", \"quantity\": 6}]}");
    (void)state;

    ASSERT_TOTALS(nine, 4000, 5000, 500);
    assert_not_applied(nine, "group-of-10", "min_quantity 10 not reached: 9");
    ASSERT_TOTALS(ten, 3400, 5100);
    tsr_result_free(nine);
    tsr_result_free(ten);
    tsr_ruleset_free(rs);
}

static void test_min_total_uses_the_eligible_current_total(void **state)
{
    tsr_ruleset *rs = load("tessera: 1\nruleset: t\ncurrency: RUB\ndiscounts:\n"
                           "  - { id: back, for: item.kind == \"ticket\", order_amount: 500.00,"
                           " min_total: 3000.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"t\", \"kind\": \"ticket\", \"price\": \"2500.00\"},"
                         "{\"id\": \"f\", \"kind\": \"fnb\", \"price\": \"900.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 250000, 90000);
    assert_not_applied(r, "back", "min_total 3000.00 not reached: 2500.00");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_limit_max_amount_caps_and_reallocates_the_saving(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: half, percent: 50, limit: { max_amount: 10.00 } }\n");
    tsr_ruleset *rs2 = load(HEADER "discounts:\n"
                            "  - { id: half, percent: 50, limit: { max_amount: 0.03 } }\n");
    const char *order = "{" DT ", \"items\": ["
                        "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"},"
                        "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"30.00\"}]}";
    tsr_result *r = eval(rs, order), *r2 = eval(rs2, order);
    (void)state;

    ASSERT_TOTALS(r, 750, 2250);
    /* 0.03 over savings 5.00 / 15.00: 0.75 and 2.25 → the larger remainder wins */
    ASSERT_TOTALS(r2, 999, 2998);
    tsr_result_free(r);
    tsr_result_free(r2);
    tsr_ruleset_free(rs);
    tsr_ruleset_free(rs2);
}

/* ---------------------------------------------------------------------
 * Claiming, groups, gating, order.
 */
static void test_exclusive_discount_claims_the_lines_it_changed(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: big, for: item.kind == \"ticket\", percent: 50, exclusive: true }\n"
                           "  - { id: ten, percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"t\", \"kind\": \"ticket\", \"price\": \"20.00\"},"
                         "{\"id\": \"f\", \"kind\": \"fnb\", \"price\": \"10.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 1000, 900);
    assert_true(r->lines[0].claimed);
    assert_false(r->lines[1].claimed);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Tickets counted for the groups are claimed though their totals stay. */
static void test_exclusive_every_claims_counted_lines_without_changing_them(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: drink, for: item.kind == \"ticket\", reward: item.kind == \"drink\","
                           " every: 2, discounted: 1, percent: 100, exclusive: true }\n"
                           "  - { id: ten, percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"t\", \"kind\": \"ticket\", \"price\": \"20.00\", \"quantity\": 2},"
                         "{\"id\": \"d\", \"kind\": \"drink\", \"price\": \"3.00\", \"quantity\": 2},"
                         "{\"id\": \"m\", \"kind\": \"merch\", \"price\": \"10.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 4000, 300, 900);
    assert_true(r->lines[0].claimed);
    assert_true(r->lines[1].claimed);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_exclusive_min_quantity_claims_but_min_total_alone_does_not(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: count, for: item.kind == \"a\", min_quantity: 2, percent: 0,"
                           " exclusive: true }\n"
                           "  - { id: total, for: item.kind == \"b\", min_total: 1.00, percent: 0,"
                           " exclusive: true }\n"
                           "  - { id: unmet, for: item.kind == \"c\", min_quantity: 5, percent: 50,"
                           " exclusive: true }\n"
                           "  - { id: ten, percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"a\", \"price\": \"10.00\", \"quantity\": 2},"
                         "{\"id\": \"b\", \"kind\": \"b\", \"price\": \"10.00\"},"
                         "{\"id\": \"c\", \"kind\": \"c\", \"price\": \"10.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 2000, 900, 900);
    assert_not_applied(r, "count", "saves nothing on the current totals");
    assert_not_applied(r, "unmet", "min_quantity 5 not reached: 1");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* B (earlier in the file, applied later) ties with A on line c: B wins. */
static void test_group_keeps_the_largest_saving_per_line_ties_to_the_file_order(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: B, amount: 3.00, group: g }\n"
                           "  - { id: A, percent: 10, group: g, priority: 50 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"20.00\"},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"50.00\"},"
                         "{\"id\": \"c\", \"kind\": \"x\", \"price\": \"30.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 1700, 4500, 2700);
    assert_int_equal(r->lines[0].ndiscounts, 1);
    assert_string_equal(line_discount(r, 0, 0), "B");
    assert_string_equal(line_discount(r, 1, 0), "A");
    assert_string_equal(line_discount(r, 2, 0), "B");
    assert_applied(r, "A");
    assert_applied(r, "B");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* The group sits at its first member's place (priority 10), before `half`
 * (20), though member `twenty` alone would come after it. */
static void test_group_is_evaluated_at_its_first_members_place(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: ten, percent: 10, group: g, priority: 10 }\n"
                           "  - { id: half, percent: 50, priority: 20 }\n"
                           "  - { id: twenty, amount: 20.00, group: g, priority: 30 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"100.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 4000);
    assert_string_equal(line_discount(r, 0, 0), "twenty");
    assert_string_equal(line_discount(r, 0, 1), "half");
    assert_not_applied(r, "ten", "group `g`: another member saved more on every line");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_priorities_decide_the_stacking_order(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: ten, percent: 10, priority: 200 }\n"
                           "  - { id: five, amount: 5.00, priority: 50 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"100.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 8550);   /* 100 − 5, then 10 % of 95 */
    assert_string_equal(line_discount(r, 0, 0), "five");
    assert_string_equal(line_discount(r, 0, 1), "ten");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* `for` sees item.total after the discounts before it, and item.price and
 * item.subtotal as the categories left them, with a trace and without
 * (where a discount keeps only item.total in step), after an amount and
 * after a constant percent (the one-pass percent without a trace). */
static void test_for_sees_the_current_total(void **state)
{
    static const char *const first[] = { "amount: 10.00", "percent: 10" };
    static const int64_t want[][2] = { { 4400, 2900 }, { 4850, 3050 } };
    tsr_eval_options o;
    size_t f;
    int quiet;
    (void)state;

    for (f = 0; f < 2; f++) {
        char yaml[1024];
        tsr_ruleset *rs;

        snprintf(yaml, sizeof yaml,
                 HEADER "discounts:\n"
                 "  - { id: first, %s }\n"
                 "  - { id: big-only, for: item.total >= 50.00, percent: 50 }\n"
                 "  - { id: by-price, for: item.price >= 55.00 and item.subtotal >= 55.00,"
                 " amount: 1.00 }\n", first[f]);
        rs = load(yaml);
        for (quiet = 0; quiet < 2; quiet++) {
            tsr_result *r;

            o = (tsr_eval_options)TSR_EVAL_OPTIONS_INIT;
            o.no_trace = quiet;
            r = eval_opts(rs, "{" DT ", \"items\": ["
                          "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"55.00\"},"
                          "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"70.00\"}]}", &o);
            ASSERT_TOTALS(r, want[f][0], want[f][1]);
            tsr_result_free(r);
        }
        tsr_ruleset_free(rs);
    }
}

static void test_when_valid_and_channels_gate_a_discount(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: web, percent: 10, channels: [web] }\n"
                           "  - { id: weekend, percent: 10, valid: { weekdays: [6, 7] } }\n"
                           "  - { id: later, percent: 10, valid: { from: 2027-01-01 } }\n"
                           "  - { id: never, percent: 10, when: order.channel == \"kiosk\" }\n"
                           "  - { id: ok, percent: 10, valid: { weekdays: [3], until: 2026-12-31 } }\n");
    tsr_result *r = eval(rs, "{" DT ", \"channel\": \"app\", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"100.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 9000);
    assert_not_applied(r, "web", "channels: not on channel `app`");
    assert_not_applied(r, "weekend", NULL);
    assert_not_applied(r, "later", "valid.from 2027-01-01 not reached");
    assert_not_applied(r, "never", "`order.channel == \"kiosk\"` was false");
    assert_applied(r, "ok");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_no_eligible_lines_is_reported(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: tickets, for: item.kind == \"ticket\", percent: 10 }\n"
                           "  - { id: drinks, reward: item.kind == \"drink\", percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"100.00\"}]}");
    (void)state;

    assert_not_applied(r, "tickets", "no eligible lines");
    assert_not_applied(r, "drinks", "no reward lines");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_overflowing_sums_fail_the_evaluation(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n  - { id: big, order_amount: 1.00 }\n");
    const char *order = "{" DT ", \"items\": ["
                        "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"50000000000000000.00\"},"
                        "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"50000000000000000.00\"}]}";
    tsr_result *r = NULL;
    tsr_error err;
    (void)state;

    assert_int_equal(tsr_evaluate_text(&r, rs, order, strlen(order), NULL, &err), TSR_EEVAL);
    assert_null(r);
    tsr_ruleset_free(rs);
}

static void test_no_trace_gives_the_same_prices(void **state)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_ruleset *rs = load(FAMILY_PACK(""));
    tsr_result *r;
    (void)state;

    o.no_trace = 1;
    r = eval_opts(rs, "{" DT ", \"items\": ["
                  "{\"id\": \"a1\", \"kind\": \"adult\", \"price\": \"2500.00\", \"quantity\": 2},"
                  "{\"id\": \"c1\", \"kind\": \"child\", \"price\": \"1800.00\", \"quantity\": 1}]}", &o);
    ASSERT_TOTALS(r, 500000, 180000);
    assert_int_equal(r->ntrace, 0);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* One unit cannot serve two components, even when it matches both. */
static void test_bundle_unit_serves_one_component_of_one_bundle(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - id: pair\n    bundle:\n"
                           "      - { for: item.kind == \"x\", quantity: 1 }\n"
                           "      - { for: item.price >= 5.00, quantity: 1 }\n"
                           "    price: 8.00\n");
    tsr_result *one = eval(rs, "{" DT ", \"items\": ["
                           "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"5.00\"}]}");
    tsr_result *three = eval(rs, "{" DT ", \"items\": ["
                             "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"5.00\", \"quantity\": 3}]}");
    (void)state;

    ASSERT_TOTALS(one, 500);
    assert_not_applied(one, "pair", "bundle incomplete: 0 of 1 `item.price >= 5.00`");
    ASSERT_TOTALS(three, 1300);   /* one bundle of two units at 8.00, one unit left */
    tsr_result_free(one);
    tsr_result_free(three);
    tsr_ruleset_free(rs);
}

/* Phases: the first bundles take the dearer line, then mix lines. */
static void test_bundles_span_lines_as_units_run_out(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - id: trio\n    bundle:\n"
                           "      - { for: item.kind == \"x\", quantity: 3 }\n"
                           "    price: 10.00\n    max_applications: 3\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"cheap\", \"kind\": \"x\", \"price\": \"4.00\", \"quantity\": 10},"
                         "{\"id\": \"dear\", \"kind\": \"x\", \"price\": \"6.00\", \"quantity\": 4}]}");
    (void)state;

    /* bundle 1: 3 dear (18 → 10, saves 8); bundle 2: 1 dear + 2 cheap
     * (14 → 10: 6.00 / 8.00 of 4.00 → 1.71 / 2.29); bundle 3: 3 cheap
     * (12 → 10, saves 2) */
    ASSERT_TOTALS(r, 4000 - 229 - 200, 2400 - 800 - 171);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_effect_values_may_be_expressions(void **state)
{
    tsr_ruleset *rs = load(HEADER "schema:\n  customer: { member: bool }\n"
                           "tables:\n  off: { A: 2.00 }\n"
                           "discounts:\n"
                           "  - { id: pct, percent: '20 if customer.member else 5' }\n"
                           "  - { id: none, amount: 'tables.off[order.channel]' }\n");
    tsr_result *m = eval(rs, "{" DT ", \"channel\": \"B\", \"customer\": {\"id\": \"c\", \"member\": true},"
                         " \"items\": [{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"}]}");
    tsr_result *n = eval(rs, "{" DT ", \"customer\": {\"id\": \"c\", \"member\": false},"
                         " \"items\": [{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"}]}");
    (void)state;

    ASSERT_TOTALS(m, 800);
    ASSERT_TOTALS(n, 950);
    assert_not_applied(m, "none", "`tables.off[order.channel]` is missing");
    tsr_result_free(m);
    tsr_result_free(n);
    tsr_ruleset_free(rs);
}

/* A run-time percent past 100 takes the whole line, as 100 would, and the
 * trace says it was capped (as it says a negative one stopped). */
static void test_a_run_time_percent_above_100_is_capped_and_says_so(void **state)
{
    tsr_ruleset *rs = load(HEADER "schema:\n  customer: { pct: decimal }\n"
                           "discounts:\n"
                           "  - { id: pct, percent: customer.pct }\n");
    tsr_result *big = eval(rs, "{" DT ", \"customer\": {\"id\": \"c\", \"pct\": 150.5},"
                           " \"items\": [{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"}]}");
    tsr_result *neg = eval(rs, "{" DT ", \"customer\": {\"id\": \"c\", \"pct\": -5},"
                           " \"items\": [{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"}]}");
    tsr_result *ok = eval(rs, "{" DT ", \"customer\": {\"id\": \"c\", \"pct\": 100},"
                          " \"items\": [{\"id\": \"a\", \"kind\": \"x\", \"price\": \"10.00\"}]}");
    char text[2048];
    (void)state;

    ASSERT_TOTALS(big, 0);
    assert_applied(big, "pct");
    assert_non_null(trace_of(big, "discounts", "pct")->note);
    assert_string_equal(trace_of(big, "discounts", "pct")->note, "percent 150.5 capped at 100");
    assert_non_null(strstr(tsr_result_json(big, NULL),
                           "{\"rule\":\"discounts.pct\",\"applied\":true,"
                           "\"note\":\"percent 150.5 capped at 100\"}"));
    assert_true(tsr_result_explain(text, sizeof text, big) > 0);
    assert_non_null(strstr(text, "\xe2\x9c\x93 discounts.pct: percent 150.5 capped at 100\n"));
    assert_not_applied(neg, "pct", "`customer.pct` is negative");
    ASSERT_TOTALS(ok, 0);
    assert_null(trace_of(ok, "discounts", "pct")->note);
    assert_non_null(strstr(tsr_result_json(ok, NULL),
                           "{\"rule\":\"discounts.pct\",\"applied\":true}"));
    tsr_result_free(big);
    tsr_result_free(neg);
    tsr_result_free(ok);
    tsr_ruleset_free(rs);
}

/* An exclusive member claims only where it was kept (or counted). */
static void test_exclusive_group_member_claims_only_the_lines_it_won(void **state)
{
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: pct, percent: 10, group: g, exclusive: true }\n"
                           "  - { id: amt, amount: 3.00, group: g }\n"
                           "  - { id: after, amount: 1.00 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"price\": \"50.00\"},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"price\": \"20.00\"}]}");
    (void)state;

    ASSERT_TOTALS(r, 4500, 1600);
    assert_true(r->lines[0].claimed);
    assert_false(r->lines[1].claimed);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Fail allocation 1, 2, 3, ... of an evaluation with many discounts and a
 * large order: every failure is TSR_ENOMEM, with nothing leaked. */
static void test_evaluation_fails_cleanly_out_of_memory(void **state)
{
    static const char yaml[] = HEADER "discounts:\n"
        "  - { id: b3g1, every: 3, discounted: 1, percent: 100, exclusive: true }\n"
        "  - id: pack\n    bundle:\n      - { for: item.kind == \"y\", quantity: 2 }\n"
        "    price: 1.00\n"
        "  - { id: p, percent: 10, group: g, limit: { max_amount: 0.05 } }\n"
        "  - { id: q, amount: 0.10, group: g }\n"
        "  - { id: o, order_amount: 1.00 }\n";
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_order *order = NULL;
    tsr_result *r = NULL;
    char text[64 * 1024];
    size_t len, i, baseline, n;
    int rc = TSR_ENOMEM;
    (void)state;

    lo.allocator = &user;
    assert_int_equal(tsr_ruleset_load_string(&rs, yaml, strlen(yaml), "oom.yaml", &lo, NULL),
                     TSR_OK);
    len = (size_t)snprintf(text, sizeof text, "{" DT ", \"items\": [");
    for (i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "%s{\"id\": \"l%zu\", \"kind\": \"%s\", \"price\": \"%zu.%02zu\","
                                " \"quantity\": %zu}", i ? "," : "", i, i % 2 ? "x" : "y",
                                i % 7 + 1, i % 100, i % 4 + 1);
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
    c.fail_at = 0;
    assert_int_equal(rc, TSR_OK);
    assert_true(n > 2);
    tsr_result_free(r);
    tsr_order_free(order);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

/* ---------------------------------------------------------------------
 * `base: original` and `pick: most_expensive`.
 */
#define ITEM(id, price, qty) "{\"id\": \"" id "\", \"kind\": \"ticket\", \"price\": \"" price \
                             "\", \"quantity\": " #qty "}"

static void test_base_original_percent_computes_on_the_subtotal(void **state)
{
    /* 100.00 - 20 % = 80.00; then 10 % of the original 100.00 = 10.00 (on
     * the current total it would be 8.00) */
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: first, percent: 20 }\n"
                           "  - { id: woo, percent: 10, base: original }\n"
                           "  - { id: plain, percent: 10 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "100.00", 1) "]}");
    (void)state;

    assert_true(rs->discounts[1].base_original);
    assert_false(rs->discounts[2].base_original);
    assert_int_equal(r->lines[0].discounts[1].amount, 1000);
    /* a later discount on the current total again: 10 % of 70.00 */
    assert_int_equal(r->lines[0].discounts[2].amount, 700);
    ASSERT_TOTALS(r, 6300);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_base_original_amount_and_price_never_go_below_zero(void **state)
{
    /* two units of 100.00 after 50 % off: 100.00 left.
     * amount 30.00 per unit on the original: 60.00 off -> 40.00;
     * price 60.00 per unit on the original 100.00: 80.00 off -> 20.00;
     * 80 % of the original 200.00 is 160.00, more than the 100.00 left:
     * the saving stops at the current total, 0.00. */
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: half, percent: 50 }\n"
                           "  - { id: amt, for: item.sku == \"A\", amount: 30.00, base: original }\n"
                           "  - { id: prc, for: item.sku == \"P\", price: 60.00, base: original }\n"
                           "  - { id: big, for: item.sku == \"B\", percent: 80, base: original }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": ["
                         "{\"id\": \"a\", \"kind\": \"x\", \"sku\": \"A\", \"price\": \"100.00\", \"quantity\": 2},"
                         "{\"id\": \"p\", \"kind\": \"x\", \"sku\": \"P\", \"price\": \"100.00\", \"quantity\": 2},"
                         "{\"id\": \"b\", \"kind\": \"x\", \"sku\": \"B\", \"price\": \"100.00\", \"quantity\": 2}]}");
    (void)state;

    ASSERT_TOTALS(r, 4000, 2000, 0);
    assert_int_equal(r->lines[2].discounts[1].amount, 10000);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_base_original_with_exclusive_group_and_limit(void **state)
{
#define ORIG_RULES(limit) HEADER "discounts:\n" \
        "  - { id: half, percent: 50 }\n" \
        "  - { id: cur, percent: 10, group: g }\n" \
        "  - { id: orig, percent: 8, base: original, group: g, exclusive: true" limit " }\n" \
        "  - { id: after, percent: 50 }\n"
    tsr_ruleset *rs;
    tsr_result *r;
    (void)state;

    /* Two lines of 100.00, 50 % off first: 50.00 each.  In the group,
     * `cur` saves 10 % of 50.00 = 5.00, `orig` 8 % of 100.00 = 8.00 per
     * line: `orig` wins both; it is exclusive, so `after` sees nothing. */
    rs = load(ORIG_RULES(""));
    r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "100.00", 1) "," ITEM("b", "100.00", 1) "]}");
    ASSERT_TOTALS(r, 4200, 4200);
    assert_string_equal(line_discount(r, 0, 1), "orig");
    assert_not_applied(r, "cur", "group `g`: another member saved more on every line");
    assert_not_applied(r, "after", "no eligible lines");
    tsr_result_free(r);
    tsr_ruleset_free(rs);

    /* Capped at 10.00, `orig` saves 5.00 a line (8 : 8), as much as `cur`:
     * ties go to the earlier discount in the file, `cur`, which claims
     * nothing, so `after` halves what is left: 45.00 -> 22.50. */
    rs = load(ORIG_RULES(", limit: { max_amount: 10.00 }"));
    r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "100.00", 1) "," ITEM("b", "100.00", 1) "]}");
    assert_applied(r, "cur");
    assert_applied(r, "after");
    ASSERT_TOTALS(r, 2250, 2250);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
#undef ORIG_RULES
}

static void test_pick_most_expensive_takes_the_dearest_units_ties_to_the_earlier_line(void **state)
{
    /* At most two units at half price: 30.00 (a), 30.00 (c) rather than
     * 10.00 and 20.00; of the two at 30.00 the earlier line comes first. */
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: dear, every: 1, discounted: 1, max_applications: 2, percent: 50,\n"
                           "      pick: most_expensive }\n"
                           "  - { id: cheap, every: 1, discounted: 1, max_applications: 1, percent: 10,\n"
                           "      pick: cheapest, priority: 200 }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "30.00", 1) "," ITEM("b", "10.00", 1)
                         "," ITEM("c", "30.00", 1) "," ITEM("d", "20.00", 1) "," ITEM("e", "30.00", 1) "]}");
    (void)state;

    assert_true(rs->discounts[0].pick_dearest);
    assert_false(rs->discounts[1].pick_dearest);
    /* then `cheap` takes the cheapest unit: b, 10.00 -> 9.00 */
    ASSERT_TOTALS(r, 1500, 900, 1500, 2000, 3000);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_pick_most_expensive_buy_three_get_one(void **state)
{
    /* six items priced 1 to 6, every 4 get 1: the four dearest form the
     * group and the dearest of the reward units, 6.00, is free */
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: b3g1, every: 4, discounted: 1, percent: 100, pick: most_expensive }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" ITEM("p1", "1.00", 1) "," ITEM("p2", "2.00", 1)
                         "," ITEM("p3", "3.00", 1) "," ITEM("p4", "4.00", 1) "," ITEM("p5", "5.00", 1)
                         "," ITEM("p6", "6.00", 1) "]}");
    (void)state;

    ASSERT_TOTALS(r, 100, 200, 300, 400, 500, 0);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_pick_most_expensive_with_exclusive_group_and_limit(void **state)
{
    tsr_ruleset *rs;
    tsr_result *r;
    (void)state;

    /* exclusive: the group counts the dearest units (30.00 and 20.00); the
     * line of 10.00 is not claimed, and the later 10 % reaches it alone */
    rs = load(HEADER "discounts:\n"
              "  - { id: pair, every: 2, discounted: 1, percent: 100, pick: most_expensive,\n"
              "      exclusive: true }\n"
              "  - { id: ten, percent: 10 }\n");
    r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "10.00", 1) "," ITEM("b", "20.00", 1) ","
             ITEM("c", "30.00", 1) "]}");
    ASSERT_TOTALS(r, 900, 2000, 0);
    assert_true(r->lines[1].claimed && r->lines[2].claimed);
    assert_false(r->lines[0].claimed);
    tsr_result_free(r);
    tsr_ruleset_free(rs);

    /* group: the cheapest-first member saves on a, the dearest-first member
     * on c; per line the larger saving, so each keeps its own line */
    rs = load(HEADER "discounts:\n"
              "  - { id: low, every: 1, discounted: 1, max_applications: 1, percent: 50, group: g }\n"
              "  - { id: high, every: 1, discounted: 1, max_applications: 1, percent: 50, group: g,\n"
              "      pick: most_expensive }\n");
    r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "10.00", 1) "," ITEM("c", "30.00", 1) "]}");
    ASSERT_TOTALS(r, 500, 1500);
    assert_string_equal(line_discount(r, 0, 0), "low");
    assert_string_equal(line_discount(r, 1, 0), "high");
    tsr_result_free(r);
    tsr_ruleset_free(rs);

    /* limit: the two dearest at half price save 15.00 + 10.00; capped at
     * 10.00, shared 15 : 10 -> 6.00 and 4.00 */
    rs = load(HEADER "discounts:\n"
              "  - { id: half, every: 1, discounted: 1, max_applications: 2, percent: 50,\n"
              "      pick: most_expensive, limit: { max_amount: 10.00 } }\n");
    r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "10.00", 1) "," ITEM("b", "20.00", 1) ","
             ITEM("c", "30.00", 1) "]}");
    ASSERT_TOTALS(r, 1000, 1600, 2400);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_base_original_and_pick_on_every_groups(void **state)
{
    /* 40 % off everything, then the dearest unit at half its original
     * price: 30.00 -> 18.00 now, saving 15.00 (half of 30.00) -> 3.00 */
    tsr_ruleset *rs = load(HEADER "discounts:\n"
                           "  - { id: sale, percent: 40 }\n"
                           "  - { id: one, every: 1, discounted: 1, max_applications: 1, percent: 50,\n"
                           "      pick: most_expensive, base: original }\n");
    tsr_result *r = eval(rs, "{" DT ", \"items\": [" ITEM("a", "10.00", 1) "," ITEM("c", "30.00", 1) "]}");
    (void)state;

    ASSERT_TOTALS(r, 600, 300);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A percent on every unit of a line (k = q: total·k/q is not split) is
 * total·pct rounded once, as tsr__muldiv rounds it; on q - 1 of the units
 * it is never more. */
static void test_percent_on_every_unit_rounds_once(void **state)
{
    static const int64_t totals[] = { 0, 1, 5, 99, 1000, 1999, 123457, INT64_MAX / 3, INT64_MAX };
    static const int64_t qs[] = { 1, 2, 3, 7, 1000000007 };
    static const int64_t pcts[] = { 0, 1, 500000, 10000000, 33333333, 50000000, 99000000,
                                    100000000 };
    static const tsr_rounding modes[] = { TSR_ROUND_HALF_UP, TSR_ROUND_HALF_EVEN,
                                          TSR_ROUND_DOWN };
    size_t a, b, c, m;
    int64_t out;

    (void)state;
    for (a = 0; a < TSR_ARRAY_LEN(totals); a++)
        for (b = 0; b < TSR_ARRAY_LEN(qs); b++)
            for (c = 0; c < TSR_ARRAY_LEN(pcts); c++)
                for (m = 0; m < TSR_ARRAY_LEN(modes); m++) {
                    int64_t all, want, part;
                    assert_true(tsr__units_saving(TSR_EFFECT_PERCENT, pcts[c], totals[a], qs[b],
                                                  qs[b], modes[m], &all));
                    assert_true(tsr__muldiv(totals[a], pcts[c], 100 * TSR_DEC_SCALE, modes[m],
                                            &want));
                    assert_int_equal(all, want);
                    assert_true(tsr__units_saving(TSR_EFFECT_PERCENT, pcts[c], totals[a], qs[b],
                                                  qs[b] - 1, modes[m], &part));
                    assert_true(part <= all);
                }
    /* refused as before: a negative total or percent, no units */
    assert_false(tsr__units_saving(TSR_EFFECT_PERCENT, 1, -1, 2, 2, TSR_ROUND_HALF_UP, &out));
    assert_false(tsr__units_saving(TSR_EFFECT_PERCENT, -1, 100, 2, 2, TSR_ROUND_HALF_UP, &out));
    assert_false(tsr__units_saving(TSR_EFFECT_PERCENT, 1, 100, 0, 0, TSR_ROUND_HALF_UP, &out));
}

/* ---------------------------------------------------------------------
 * Simple discounts (tsr_discount.simple): without a trace they take a path
 * of their own, which must answer exactly what the general path does.
 */

static const tsr_discount *discount_named(const tsr_ruleset *rs, const char *id)
{
    size_t i;
    for (i = 0; i < rs->ndiscounts; i++)
        if (strcmp(rs->discounts[i].id, id) == 0)
            return &rs->discounts[i];
    fail_msg("no discount %s", id);
    return NULL;
}

static void test_simple_discounts_are_decided_at_load(void **state)
{
    static const char *const simple[] = { "pct", "amt", "prc", "orig", "expr", "gated" };
    static const char *const general[] = { "grp", "excl", "lim", "every", "rew", "minq",
                                           "mint", "ordamt", "bundle" };
    tsr_ruleset *rs = load(HEADER "schema:\n  customer: { pct: int }\n"
                           "promo_codes:\n  - { id: c, code: C }\n"
                           "discounts:\n"
                           "  - { id: pct, percent: 10 }\n"
                           "  - { id: amt, for: item.kind == \"a\", amount: 1.00 }\n"
                           "  - { id: prc, price: 2.00 }\n"
                           "  - { id: orig, percent: 5, base: original }\n"
                           "  - { id: expr, percent: 'customer.pct' }\n"
                           "  - { id: gated, when: customer.pct > 1, requires: c, percent: 1,\n"
                           "      valid: { weekdays: [1] } }\n"
                           "  - { id: grp, percent: 10, group: g }\n"
                           "  - { id: excl, percent: 10, exclusive: true }\n"
                           "  - { id: lim, percent: 10, limit: { max_amount: 5.00 } }\n"
                           "  - { id: every, every: 3, discounted: 1, percent: 100 }\n"
                           "  - { id: rew, for: item.kind == \"a\", reward: item.kind == \"b\","
                           " percent: 10 }\n"
                           "  - { id: minq, percent: 10, min_quantity: 2 }\n"
                           "  - { id: mint, percent: 10, min_total: 5.00 }\n"
                           "  - { id: ordamt, order_amount: 5.00 }\n"
                           "  - id: bundle\n"
                           "    bundle: [ { for: item.kind == \"a\", quantity: 1 } ]\n"
                           "    price: 1.00\n");
    size_t i;
    (void)state;

    for (i = 0; i < TSR_ARRAY_LEN(simple); i++)
        if (!discount_named(rs, simple[i])->simple)
            fail_msg("%s should be simple", simple[i]);
    for (i = 0; i < TSR_ARRAY_LEN(general); i++)
        if (discount_named(rs, general[i])->simple)
            fail_msg("%s should take the general path", general[i]);
    /* a constant value is judged at load; an expression per order */
    assert_true(discount_named(rs, "pct")->has_quiet_value);
    assert_int_equal(discount_named(rs, "pct")->quiet_value, 10 * TSR_DEC_SCALE);
    assert_true(discount_named(rs, "amt")->has_quiet_value);
    assert_int_equal(discount_named(rs, "amt")->quiet_value, 100);
    assert_false(discount_named(rs, "expr")->has_quiet_value);
    /* the one-pass percent: a constant percent of the current totals only */
    assert_true(discount_named(rs, "pct")->quiet_percent);
    assert_true(discount_named(rs, "gated")->quiet_percent);
    assert_false(discount_named(rs, "amt")->quiet_percent);
    assert_false(discount_named(rs, "orig")->quiet_percent);
    assert_false(discount_named(rs, "expr")->quiet_percent);
    assert_false(discount_named(rs, "grp")->quiet_percent);
    assert_false(rs->discounts_simple);
    tsr_ruleset_free(rs);
}

/* How the simple path reads each discount's gates is decided at load: a
 * discount with only `requires`, or whose `when` is one segment or code
 * flag, is read without the general gate; every other shape takes it.
 * (test_simple_path_gives_the_general_paths_answers and
 * test_simple_path_keeps_the_work_budget check the answers and steps.) */
static void test_simple_gates_are_decided_at_load(void **state)
{
    tsr_ruleset *rs = load(HEADER "schema:\n  customer: { pct: int }\n"
                           "segments:\n  vip: '\"vip\" in customer.tags'\n"
                           "promo_codes:\n  - { id: c, code: C }\n  - { id: g, code: G }\n"
                           "discounts:\n"
                           "  - { id: open, percent: 10 }\n"
                           "  - { id: req, requires: c, percent: 10 }\n"
                           "  - { id: seg, when: segment.vip, requires: c, percent: 10 }\n"
                           "  - { id: code, when: promo.g, percent: 10 }\n"
                           "  - { id: cmp, when: customer.pct > 1, percent: 10 }\n"
                           "  - { id: both, when: segment.vip and promo.g, percent: 10 }\n"
                           "  - { id: valid, when: segment.vip, percent: 10,\n"
                           "      valid: { weekdays: [1] } }\n"
                           "  - { id: chan, percent: 10, channels: [web] }\n");
    const tsr_discount *d;
    (void)state;

    assert_int_equal(discount_named(rs, "open")->quiet_gate, TSR_QGATE_OPEN);
    assert_int_equal(discount_named(rs, "req")->quiet_gate, TSR_QGATE_OPEN);
    d = discount_named(rs, "seg");
    assert_int_equal(d->quiet_gate, TSR_QGATE_SEGMENT);
    assert_int_equal(d->quiet_gate_slot, 0);
    assert_int_equal(d->quiet_gate_cost, d->when->cost);
    d = discount_named(rs, "code");
    assert_int_equal(d->quiet_gate, TSR_QGATE_PROMO);
    assert_int_equal(d->quiet_gate_slot, 1);
    assert_int_equal(discount_named(rs, "cmp")->quiet_gate, TSR_QGATE_ANY);
    assert_int_equal(discount_named(rs, "both")->quiet_gate, TSR_QGATE_ANY);
    assert_int_equal(discount_named(rs, "valid")->quiet_gate, TSR_QGATE_ANY);
    assert_int_equal(discount_named(rs, "chan")->quiet_gate, TSR_QGATE_ANY);
    tsr_ruleset_free(rs);
}

/* `order` through the simple path and, every discount's flag cleared,
 * through the general path: the same bytes (or error, or trace) and the
 * same count of steps.  The answer is returned (free it). */
static char *same_both_ways_as(tsr_ruleset *rs, const char *order, bool quiet)
{
    bool saved[32], all = rs->discounts_simple;
    uint64_t fast_steps, slow_steps;
    char *fast, *slow;
    size_t i, n = 0;

    assert_true(rs->ndiscounts <= TSR_ARRAY_LEN(saved));
    fast = tsr_test_answer(rs, order, quiet, &fast_steps);
    for (i = 0; i < rs->ndiscounts; i++) {
        saved[i] = rs->discounts[i].simple;
        n += saved[i];
        rs->discounts[i].simple = false;
    }
    rs->discounts_simple = false;
    assert_true(n > 0);   /* there was a simple path to compare */
    slow = tsr_test_answer(rs, order, quiet, &slow_steps);
    for (i = 0; i < rs->ndiscounts; i++)
        rs->discounts[i].simple = saved[i];
    rs->discounts_simple = all;
    assert_string_equal(fast, slow);
    assert_int_equal(fast_steps, slow_steps);
    free(slow);
    return fast;
}

/* same_both_ways_as with a trace (the simple path writes the entries the
 * general path writes: applied, or why not), then without: the answer
 * without a trace is returned (free it). */
static char *same_both_ways(tsr_ruleset *rs, const char *order)
{
    free(same_both_ways_as(rs, order, false));
    return same_both_ways_as(rs, order, true);
}

/* SIMPLE_RULES has an exclusive discount (the general path's) among simple
 * ones; ALL_SIMPLE_RULES, the same without it, only simple ones (their
 * step takes a loop of its own). */
#define SIMPLE_RULES SIMPLE_HEAD \
    "  - { id: claim, for: item.kind == \"locked\", percent: 1, exclusive: true }\n" \
    SIMPLE_DISCOUNTS
#define ALL_SIMPLE_RULES SIMPLE_HEAD SIMPLE_DISCOUNTS
#define SIMPLE_HEAD \
    "schema:\n  item: { n: int }\n  customer: { pct: int }\n" \
    "segments:\n  vip: '\"vip\" in customer.tags'\n" \
    "promo_codes:\n  - { id: doc, code: DOC2022 }\n  - { id: free, code: FREE }\n" \
    "  - { id: late, code: LATE }\n  - { id: gift, code: GIFT }\n" \
    "discounts:\n"
#define SIMPLE_DISCOUNTS \
    "  - { id: vip, when: segment.vip, for: item.kind == \"ticket\", percent: 12.5 }\n" \
    "  - { id: doc, requires: doc, for: item.kind == \"ticket\", percent: 99 }\n" \
    "  - { id: off, for: item.kind == \"merch\", amount: 0.35 }\n" \
    "  - { id: price, for: item.kind == \"food\", price: 2.99 }\n" \
    "  - { id: orig, for: item.kind == \"ticket\", percent: 3, base: original }\n" \
    "  - { id: expr, requires: free, for: item.kind == \"merch\", percent: 'customer.pct' }\n" \
    "  - { id: boom, for: 'item.kind == \"boom\" and 10 / item.n > 1', percent: 50 }\n" \
    "  - { id: late, when: segment.vip, requires: late, for: item.kind == \"ticket\"," \
    " percent: 5 }\n" \
    "  - { id: gift, when: promo.gift, for: item.kind == \"gift\", percent: 20 }\n" \
    "  - { id: over, for: item.kind == \"over\", percent: 100 }\n"

#define LINE(kind, price, q) \
    "{\"id\": \"" kind price "\", \"kind\": \"" kind "\", \"price\": \"" price "\"," \
    " \"quantity\": " #q "}"

static void test_simple_path_gives_the_general_paths_answers(void **state)
{
    static const char *const modes[] = { "half_up", "half_even", "down" };
    static const char *const orders[] = {
        /* park10's shape: a segment's percent, then a code's, stacked */
        "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"promo_codes\": [\"DOC2022\"],"
        " \"items\": [" LINE("ticket", "60.00", 1) "," LINE("ticket", "40.01", 3) ","
        LINE("food", "4.50", 2) "," LINE("merch", "0.20", 7) "]}",
        /* a code typed loosely; a code no discount can use (no_effect) */
        "{" DT ", \"promo_codes\": [\" doc2022 \"], \"items\": [" LINE("ticket", "0.05", 3) "]}",
        "{" DT ", \"promo_codes\": [\"DOC2022\", \"SUMMER\"], \"items\": ["
        LINE("food", "1.00", 1) "]}",
        /* a code whose only discount stops at its `when`: no_effect */
        "{" DT ", \"promo_codes\": [\"LATE\"], \"items\": [" LINE("ticket", "5.00", 1) "]}",
        /* the effect as an expression: a value, missing, negative, above 100 */
        "{" DT ", \"customer\": {\"pct\": 33}, \"promo_codes\": [\"FREE\"], \"items\": ["
        LINE("merch", "9.99", 3) "]}",
        "{" DT ", \"promo_codes\": [\"FREE\"], \"items\": [" LINE("merch", "9.99", 3) "]}",
        "{" DT ", \"customer\": {\"pct\": -5}, \"promo_codes\": [\"FREE\"], \"items\": ["
        LINE("merch", "9.99", 3) "]}",
        "{" DT ", \"customer\": {\"pct\": 150}, \"promo_codes\": [\"FREE\"], \"items\": ["
        LINE("merch", "9.99", 3) "]}",
        /* a line an exclusive discount claimed first */
        "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"items\": [" LINE("locked", "10.00", 1)
        "," LINE("ticket", "10.00", 1) "]}",
        /* a total too large for the 64-bit shortcut of a percent */
        "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"items\": ["
        LINE("ticket", "1000000000001.01", 3) "]}",
        /* eligible totals that overflow when added: the evaluation fails */
        "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"items\": ["
        "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"50000000000000000.00\"},"
        "{\"id\": \"b\", \"kind\": \"ticket\", \"price\": \"50000000000000000.00\"}]}",
        /* a `for` that fails on a line after eligible ones */
        "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"items\": ["
        LINE("ticket", "10.00", 1) ", {\"id\": \"b\", \"kind\": \"boom\", \"price\": \"1.00\","
        " \"n\": 0}]}",
        "{" DT ", \"items\": [" LINE("merch", "0.20", 1) "]}",
        /* a code's percent after the segment's, on a claimed line (its
         * `for` never asked) and on one too large for the one-pass percent */
        "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"promo_codes\": [\"DOC2022\"],"
        " \"items\": [" LINE("locked", "10.00", 1) "," LINE("ticket", "10.00", 1) ","
        LINE("ticket", "1000000000001.01", 3) "," LINE("ticket", "0.03", 1) "]}",
        /* eligible totals that overflow when added, for the code's percent */
        "{" DT ", \"promo_codes\": [\"DOC2022\"], \"items\": ["
        "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"50000000000000000.00\"},"
        "{\"id\": \"b\", \"kind\": \"ticket\", \"price\": \"50000000000000000.00\"}]}",
        /* a `when` on a code's flag; a code no discount requires */
        "{" DT ", \"promo_codes\": [\"GIFT\"], \"items\": [" LINE("gift", "7.77", 2) ","
        LINE("ticket", "3.00", 1) "]}",
        "{" DT ", \"promo_codes\": [\"GIFT\", \"LATE\"], \"items\": ["
        LINE("ticket", "3.00", 1) "]}",
        "{" DT ", \"items\": [" LINE("gift", "7.77", 2) "]}",
        /* a constant 100 % (with a trace, effect_value judges it again) */
        "{" DT ", \"items\": [" LINE("over", "7.77", 2) "," LINE("ticket", "0.00", 1) "]}",
    };
    char yaml[4096];
    size_t m, i;
    (void)state;

    for (m = 0; m < 2 * TSR_ARRAY_LEN(modes); m++) {
        tsr_ruleset *rs;
        /* with the exclusive discount, then every discount simple */
        snprintf(yaml, sizeof yaml, HEADER "rounding: %s\n%s", modes[m / 2],
                 m % 2 ? ALL_SIMPLE_RULES : SIMPLE_RULES);
        rs = load(yaml);
        assert_true(discount_named(rs, "vip")->simple);
        assert_true(rs->discounts_simple == (m % 2 == 1));
        for (i = 0; i < TSR_ARRAY_LEN(orders); i++)
            free(same_both_ways(rs, orders[i]));
        tsr_ruleset_free(rs);
    }
}

/* What the simple path answers is also right on its own (not only the same
 * as the general path): stacking, rounding, amount and price, no_effect. */
static void test_simple_path_answers(void **state)
{
    tsr_ruleset *rs = load(HEADER SIMPLE_RULES);
    char *json;
    (void)state;

    json = same_both_ways(rs, "{" DT ", \"customer\": {\"tags\": [\"vip\"]},"
                          " \"promo_codes\": [\"DOC2022\"], \"items\": ["
                          LINE("ticket", "40.01", 3) "," LINE("food", "4.50", 2) ","
                          LINE("merch", "0.20", 7) "]}");
    /* 120.03: vip 12.5 % = 15.00 (15.00375), leaves 105.03; doc 99 % = 103.98
     * (103.9797), leaves 1.05; orig 3 % of 120.03 = 3.60 (3.6009), capped at
     * 1.05: 0.00.  food 9.00 at 2.99 a unit: 5.98.  merch 1.40 - 7 × 0.35:
     * 0.00 */
    assert_non_null(strstr(json, "\"total\":\"0.00\""));
    assert_non_null(strstr(json, "\"total\":\"5.98\""));
    assert_non_null(strstr(json, "\"status\":\"accepted\""));
    free(json);
    json = same_both_ways(rs, "{" DT ", \"promo_codes\": [\"DOC2022\"], \"items\": ["
                          LINE("food", "1.00", 1) "]}");
    assert_non_null(strstr(json, "\"reason\":\"no_effect\""));
    free(json);
    json = same_both_ways(rs, "{" DT ", \"promo_codes\": [\"LATE\"], \"items\": ["
                          LINE("ticket", "5.00", 1) "]}");
    assert_non_null(strstr(json, "\"reason\":\"no_effect\""));
    free(json);
    /* GIFT opens `gift` through promo.gift (20 % of 15.54: 3.11), and stays
     * accepted: no discount requires it */
    json = same_both_ways(rs, "{" DT ", \"promo_codes\": [\"GIFT\"], \"items\": ["
                          LINE("gift", "7.77", 2) "]}");
    assert_non_null(strstr(json, "\"total\":\"12.43\""));
    assert_non_null(strstr(json, "\"status\":\"accepted\""));
    assert_null(strstr(json, "\"rejected\""));
    free(json);
    tsr_ruleset_free(rs);
}

/* The one-pass percent rounds each saving as the rule set says (it is
 * compiled once per rounding mode): exact halves of an even and an odd
 * result under each mode, the same both ways. */
static void test_simple_percent_rounds_as_the_rule_set_says(void **state)
{
    static const char *const modes[] = { "half_up", "half_even", "down" };
    /* 50 % of 0.05 = 0.025 and of 0.07 = 0.035, 12.5 % of 0.04 = 0.005
     * (0.00 leaves the code without effect) */
    static const char *const want[][3] = {
        { "\"amount\":\"0.03\"", "\"amount\":\"0.04\"", "\"amount\":\"0.01\"" },
        { "\"amount\":\"0.02\"", "\"amount\":\"0.04\"", "no_effect" },
        { "\"amount\":\"0.02\"", "\"amount\":\"0.03\"", "no_effect" },
    };
    char yaml[512];
    size_t m;
    (void)state;

    for (m = 0; m < TSR_ARRAY_LEN(modes); m++) {
        tsr_ruleset *rs;
        char *json;
        /* the category's `for` fills the per-line memo the one pass reads */
        snprintf(yaml, sizeof yaml, HEADER "rounding: %s\nschema:\n  item: { n: int }\n"
                 "categories:\n  - { id: never, for: item.kind == \"ticket\","
                 " when: item.n > 1, price: 0.00 }\n"
                 "promo_codes:\n  - { id: h, code: H }\n  - { id: e, code: E }\n"
                 "discounts:\n"
                 "  - { id: half, requires: h, for: item.kind == \"ticket\", percent: 50 }\n"
                 "  - { id: eighth, requires: e, for: item.kind == \"ticket\","
                 " percent: 12.5 }\n", modes[m]);
        rs = load(yaml);
        assert_true(rs->discounts_simple);
        json = same_both_ways(rs, "{" DT ", \"promo_codes\": [\"H\"], \"items\": ["
                              LINE("ticket", "0.05", 1) "]}");
        if (!strstr(json, want[m][0]))
            fail_msg("%s: %s", modes[m], json);
        free(json);
        json = same_both_ways(rs, "{" DT ", \"promo_codes\": [\"H\"], \"items\": ["
                              LINE("ticket", "0.07", 1) "]}");
        if (!strstr(json, want[m][1]))
            fail_msg("%s: %s", modes[m], json);
        free(json);
        json = same_both_ways(rs, "{" DT ", \"promo_codes\": [\"E\"], \"items\": ["
                              LINE("ticket", "0.04", 1) "]}");
        if (!strstr(json, want[m][2]))
            fail_msg("%s: %s", modes[m], json);
        free(json);
        tsr_ruleset_free(rs);
    }
}

/* The one-pass percent records only the lines it saves on (not a free
 * line, nor the lines a 0 % leaves as they were), and the effect per code sits after the
 * lines' room, zeroed: in one store for a few codes, else with memset (20
 * codes here; the code used is the last).  The same answers both ways. */
static void test_simple_percent_records_only_what_it_saves(void **state)
{
    static const char *const orders[] = {
        "{" DT ", \"promo_codes\": [\"C20\"], \"items\": [" LINE("ticket", "0.00", 2) ","
        LINE("ticket", "10.00", 1) "," LINE("food", "3.00", 1) "," LINE("ticket", "0.05", 1)
        "]}",
        "{" DT ", \"promo_codes\": [\"C20\"], \"items\": [" LINE("ticket", "0.00", 2) "]}",
        "{" DT ", \"promo_codes\": [\"C19\"], \"items\": [" LINE("ticket", "7.00", 1) "]}",
        "{" DT ", \"promo_codes\": [\"C19\", \"C20\"], \"items\": ["
        LINE("ticket", "7.00", 1) "]}",
    };
    char yaml[4096];
    size_t n, k, i;
    char *json;
    (void)state;

    for (k = 2; k <= 20; k += 18) {   /* few codes, then many */
        tsr_ruleset *rs;
        n = (size_t)snprintf(yaml, sizeof yaml, HEADER "promo_codes:\n");
        for (i = 1; i <= k; i++)
            n += (size_t)snprintf(yaml + n, sizeof yaml - n, "  - { id: c%zu, code: C%zu }\n",
                                  i + 20 - k, i + 20 - k);
        snprintf(yaml + n, sizeof yaml - n,
                 "discounts:\n"
                 "  - { id: half, requires: c20, for: item.kind == \"ticket\", percent: 50 }\n"
                 "  - { id: none, requires: c19, for: item.kind == \"ticket\", percent: 0 }\n");
        rs = load(yaml);
        assert_true(discount_named(rs, "half")->quiet_percent);
        assert_true(rs->discounts_simple);
        for (i = 0; i < TSR_ARRAY_LEN(orders); i++)
            free(same_both_ways(rs, orders[i]));
        /* 10.00 -> 5.00, 0.05 -> 0.02 (half up); the free line and the food
         * line untouched */
        json = same_both_ways(rs, orders[0]);
        assert_non_null(strstr(json, "\"total\":\"5.00\""));
        assert_non_null(strstr(json, "\"total\":\"0.02\""));
        assert_non_null(strstr(json, "\"total\":\"3.00\""));
        assert_non_null(strstr(json, "\"discount\":\"5.03\""));
        assert_non_null(strstr(json, "\"status\":\"accepted\""));
        free(json);
        /* nothing to save: the code had no effect */
        json = same_both_ways(rs, orders[1]);
        assert_non_null(strstr(json, "\"reason\":\"no_effect\""));
        free(json);
        json = same_both_ways(rs, orders[3]);
        assert_non_null(strstr(json, "\"status\":\"accepted\""));
        assert_non_null(strstr(json, "\"reason\":\"no_effect\""));
        free(json);
        tsr_ruleset_free(rs);
    }
}

/* More lines than the simple path keeps on its stack: the general path
 * answers, the same. */
static void test_simple_discount_on_a_long_order(void **state)
{
    tsr_ruleset *rs = load(HEADER SIMPLE_RULES);
    char order[16384];
    size_t n = 0, i;
    char *json;
    (void)state;

    n += (size_t)snprintf(order + n, sizeof order - n,
                          "{" DT ", \"customer\": {\"tags\": [\"vip\"]}, \"items\": [");
    for (i = 0; i < 70; i++)
        n += (size_t)snprintf(order + n, sizeof order - n,
                              "%s{\"id\": \"t%zu\", \"kind\": \"ticket\", \"price\": \"%zu.07\"}",
                              i ? "," : "", i, i + 1);
    snprintf(order + n, sizeof order - n, "]}");
    json = same_both_ways(rs, order);
    assert_non_null(strstr(json, "\"id\":\"t69\""));
    free(json);
    tsr_ruleset_free(rs);
    /* every discount simple: the same general path past 64 lines */
    rs = load(HEADER ALL_SIMPLE_RULES);
    json = same_both_ways(rs, order);
    assert_non_null(strstr(json, "\"id\":\"t69\""));
    free(json);
    tsr_ruleset_free(rs);
}

/* The work budget of `yaml` runs out at every point of evaluating `order`
 * in turn: the simple path stops where the general path does, with the
 * same message. */
static void check_budget_both_ways(const char *yaml, const char *order)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    uint64_t budget, full;
    size_t stopped = 0;
    bool last = true;
    char *answer;

    {
        tsr_ruleset *rs = load(yaml);
        free(tsr_test_answer(rs, order, true, &full));
        tsr_ruleset_free(rs);
    }
    assert_true(full > 0);
    for (budget = 1; budget <= full; budget++) {
        tsr_ruleset *rs = NULL;
        tsr_error err;
        opts.max_eval_steps = budget;
        assert_int_equal(tsr_ruleset_load_string(&rs, yaml, strlen(yaml), "test.yaml", &opts,
                                                 &err), TSR_OK);
        answer = same_both_ways(rs, order);
        last = strstr(answer, "max_eval_steps") != NULL;
        stopped += last;
        free(answer);
        tsr_ruleset_free(rs);
    }
    /* smaller budgets ran out, in the discount step among others; the
     * whole count did not */
    assert_true(stopped > 0);
    assert_false(last);
}

/* With an exclusive discount among the simple ones, and every discount
 * simple. */
static void test_simple_path_keeps_the_work_budget(void **state)
{
    static const char order[] =
        "{" DT ", \"customer\": {\"tags\": [\"vip\"], \"pct\": 20},"
        " \"promo_codes\": [\"DOC2022\", \"FREE\"], \"items\": ["
        LINE("ticket", "60.00", 1) "," LINE("merch", "3.10", 2) ","
        LINE("ticket", "40.01", 3) "]}";
    (void)state;

    check_budget_both_ways(HEADER SIMPLE_RULES, order);
    check_budget_both_ways(HEADER ALL_SIMPLE_RULES, order);
}

static void test_inline_percent_matches_units_saving(void **state)
{
    static const int64_t totals[] = { 0, 1, 5, 50, 99, 1999, 123457, 92233720367 };
    static const int64_t pcts[] = { 0, 1, 500000, 12500000, 50000000, 99000000, 100000000 };
    static const tsr_rounding modes[] = { TSR_ROUND_HALF_UP, TSR_ROUND_HALF_EVEN,
                                          TSR_ROUND_DOWN };
    size_t a, c, m;
    int64_t want;

    (void)state;
    for (a = 0; a < TSR_ARRAY_LEN(totals); a++)
        for (c = 0; c < TSR_ARRAY_LEN(pcts); c++)
            for (m = 0; m < TSR_ARRAY_LEN(modes); m++) {
                assert_true(tsr__percent_all_fits(totals[a], 3, pcts[c]));
                assert_true(tsr__muldiv(totals[a], pcts[c], 100 * TSR_DEC_SCALE, modes[m],
                                        &want));
                assert_int_equal(tsr__percent_all(totals[a], pcts[c], modes[m]), want);
            }
    /* outside its range it declines, and tsr__units_saving takes the wide way */
    assert_false(tsr__percent_all_fits(92233720369, 1, 1));
    assert_false(tsr__percent_all_fits(-1, 1, 1));
    assert_false(tsr__percent_all_fits(1, 0, 1));
    assert_false(tsr__percent_all_fits(1, 1, 100000001));
    assert_false(tsr__percent_all_fits(1, 1, -1));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_comes_off_each_reward_line),
        cmocka_unit_test(test_percent_saving_is_rounded_half_up),
        cmocka_unit_test(test_percent_saving_is_rounded_half_even),
        cmocka_unit_test(test_percent_saving_is_rounded_down),
        cmocka_unit_test(test_amount_comes_off_each_unit_and_never_below_zero),
        cmocka_unit_test(test_price_sets_the_unit_price_only_where_lower),
        cmocka_unit_test(test_order_amount_is_allocated_by_largest_remainder),
        cmocka_unit_test(test_order_amount_leftover_unit_goes_to_the_earlier_line_on_a_tie),
        cmocka_unit_test(test_order_amount_never_takes_more_than_the_lines_total),
        cmocka_unit_test(test_buy_three_get_one_makes_the_two_cheapest_of_six_free),
        cmocka_unit_test(test_every_counts_units_across_one_line),
        cmocka_unit_test(test_every_ties_go_to_the_earlier_line),
        cmocka_unit_test(test_max_applications_caps_the_groups),
        cmocka_unit_test(test_every_rewards_other_lines_than_it_counts),
        cmocka_unit_test(test_every_with_amount_and_price_effects),
        cmocka_unit_test(test_unit_effects_compute_on_the_exact_share_of_the_line_total),
        cmocka_unit_test(test_every_not_reached_is_reported),
        cmocka_unit_test(test_bundle_family_pack_allocates_the_saving_by_unit_prices),
        cmocka_unit_test(test_bundle_takes_the_dearest_units_and_leaves_the_rest),
        cmocka_unit_test(test_bundle_incomplete_is_reported_with_the_missing_part),
        cmocka_unit_test(test_bundle_that_would_not_save_does_not_form),
        cmocka_unit_test(test_bundle_handles_huge_quantities_without_iterating_units),
        cmocka_unit_test(test_min_quantity_counts_eligible_units),
        cmocka_unit_test(test_min_total_uses_the_eligible_current_total),
        cmocka_unit_test(test_limit_max_amount_caps_and_reallocates_the_saving),
        cmocka_unit_test(test_exclusive_discount_claims_the_lines_it_changed),
        cmocka_unit_test(test_exclusive_every_claims_counted_lines_without_changing_them),
        cmocka_unit_test(test_exclusive_min_quantity_claims_but_min_total_alone_does_not),
        cmocka_unit_test(test_group_keeps_the_largest_saving_per_line_ties_to_the_file_order),
        cmocka_unit_test(test_group_is_evaluated_at_its_first_members_place),
        cmocka_unit_test(test_priorities_decide_the_stacking_order),
        cmocka_unit_test(test_for_sees_the_current_total),
        cmocka_unit_test(test_when_valid_and_channels_gate_a_discount),
        cmocka_unit_test(test_no_eligible_lines_is_reported),
        cmocka_unit_test(test_overflowing_sums_fail_the_evaluation),
        cmocka_unit_test(test_no_trace_gives_the_same_prices),
        cmocka_unit_test(test_bundle_unit_serves_one_component_of_one_bundle),
        cmocka_unit_test(test_bundles_span_lines_as_units_run_out),
        cmocka_unit_test(test_effect_values_may_be_expressions),
        cmocka_unit_test(test_a_run_time_percent_above_100_is_capped_and_says_so),
        cmocka_unit_test(test_exclusive_group_member_claims_only_the_lines_it_won),
        cmocka_unit_test(test_evaluation_fails_cleanly_out_of_memory),
        cmocka_unit_test(test_base_original_percent_computes_on_the_subtotal),
        cmocka_unit_test(test_base_original_amount_and_price_never_go_below_zero),
        cmocka_unit_test(test_base_original_with_exclusive_group_and_limit),
        cmocka_unit_test(test_pick_most_expensive_takes_the_dearest_units_ties_to_the_earlier_line),
        cmocka_unit_test(test_pick_most_expensive_buy_three_get_one),
        cmocka_unit_test(test_pick_most_expensive_with_exclusive_group_and_limit),
        cmocka_unit_test(test_base_original_and_pick_on_every_groups),
        cmocka_unit_test(test_percent_on_every_unit_rounds_once),
        cmocka_unit_test(test_simple_discounts_are_decided_at_load),
        cmocka_unit_test(test_simple_gates_are_decided_at_load),
        cmocka_unit_test(test_simple_path_gives_the_general_paths_answers),
        cmocka_unit_test(test_simple_path_answers),
        cmocka_unit_test(test_simple_percent_records_only_what_it_saves),
        cmocka_unit_test(test_simple_percent_rounds_as_the_rule_set_says),
        cmocka_unit_test(test_simple_discount_on_a_long_order),
        cmocka_unit_test(test_simple_path_keeps_the_work_budget),
        cmocka_unit_test(test_inline_percent_matches_units_saving),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
