/* Unit tests for the evaluation plan (lib/plan.c): which rules are indexed
 * by the `item.kind` literals of their first conjunct and which stay in
 * the general list (`or`, `not`, a kind test later in the chain, `reward`,
 * `when`), the order a line visits them in, and that evaluating through
 * the plan gives byte for byte the result (trace included) of visiting
 * every rule, which the tests get by emptying the plan's routes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eval.h"
#include "plan.h"

#define HEADER "tessera: 1\nruleset: t\ncurrency: EUR\n"
#define DT "\"datetime\": \"2026-06-10T11:00:00+03:00\""
/* Eight more indexed rules, so that each section reaches
 * TSR_PLAN_MIN_INDEXED and is routed (after every other rule: the indexes
 * the tests name stay as written). */
#define PAD8(pre, post) pre "0" post pre "1" post pre "2" post pre "3" post \
                        pre "4" post pre "5" post pre "6" post pre "7" post
#define PAD_CATEGORIES PAD8("  - { id: p", ", for: item.kind == \"pad\", price: 1.00 }\n")
#define PAD_DISCOUNTS PAD8("  - { id: p", ", for: item.kind == \"pad\", percent: 1, priority: 300 }\n")
#define PAD_EARN PAD8("    - { id: p", ", for: item.kind == \"pad\", per: 1.00, points: 1 }\n")
#define PAD_RATES PAD8("    - { id: p", ", for: item.kind == \"pad\", rate: 1 }\n")
#define LINE(id, kind, price) "{\"id\": \"" id "\", \"kind\": \"" kind "\", \"price\": \"" price "\"}"

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

/* The result JSON of `order`, with or without the trace (a copy). */
static char *eval_json(const tsr_ruleset *rs, const char *order, bool trace)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_result *r = NULL;
    tsr_error err;
    char *copy;

    o.no_trace = !trace;
    if (tsr_evaluate_text(&r, rs, order, strlen(order), &o, &err) != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fail_msg("evaluation failed: %s", buf);
    }
    copy = strdup(tsr_result_json(r, NULL));
    assert_non_null(copy);
    tsr_result_free(r);
    return copy;
}

/* The result JSON gives line `id` of `kind` category `cat` (NULL: none). */
static void assert_line_category(const char *json, const char *id, const char *kind,
                                 const char *cat)
{
    char want[256];

    if (cat)
        snprintf(want, sizeof want, "\"id\":\"%s\",\"kind\":\"%s\",\"category\":\"%s\"", id,
                 kind, cat);
    else
        snprintf(want, sizeof want, "\"id\":\"%s\",\"kind\":\"%s\",\"category\":null", id, kind);
    if (!strstr(json, want))
        fail_msg("%s not in %s", want, json);
}

/* The rules a line of `kind` visits in route r, as "0 2 3 " */
static void visits(const tsr_ruleset *rs, const tsr_route *r, const char *kind, char *out,
                   size_t size)
{
    tsr_value v = tsr__missing();
    tsr_route_iter it;
    uint32_t i;
    size_t n = 0;

    v.type = TSR_T_STRING;
    v.u.s = kind;
    v.len = (uint32_t)strlen(kind);
    tsr__route_begin(&it, r, tsr__plan_kind(rs->plan, &v));
    out[0] = '\0';
    while (tsr__route_next(&it, &i) && n + 12 < size)
        n += (size_t)snprintf(out + n, size - n, "%u ", i);
}

/* The same order evaluated with rs's plan and with the plan as `change`
 * leaves it, with and without the trace, must give the same bytes. */
static void same_bytes_with(tsr_ruleset *rs, const char *order, void (*change)(tsr_plan *))
{
    tsr_plan saved = *rs->plan;
    char *planned[2], *changed[2];
    int t;

    for (t = 0; t < 2; t++)
        planned[t] = eval_json(rs, order, t);
    change(rs->plan);
    for (t = 0; t < 2; t++)
        changed[t] = eval_json(rs, order, t);
    *rs->plan = saved;
    for (t = 0; t < 2; t++) {
        assert_string_equal(planned[t], changed[t]);
        free(planned[t]);
        free(changed[t]);
    }
}

/* Past the plan: every rule visited. */
static void unroute(tsr_plan *p)
{
    p->categories.start = NULL;
    p->rates.start = NULL;
    p->discounts.start = NULL;
    p->earn.start = NULL;
}

/* Without the shortcuts the plan decides at load (no exclusive discount:
 * no line is claimed; no multiplier: no earn state per rule). */
static void full_steps(tsr_plan *p)
{
    p->any_exclusive = true;
    p->earn_multiply = true;
}

static void same_as_unrouted(tsr_ruleset *rs, const char *order)
{
    same_bytes_with(rs, order, unroute);
}

static void same_as_full_steps(tsr_ruleset *rs, const char *order)
{
    same_bytes_with(rs, order, full_steps);
}

static const char categories_rules[] =
    HEADER
    "schema: { item: { age: int, vip: bool } }\n"
    "categories:\n"
    "  - { id: tk, for: item.kind == \"ticket\" and item.age < 3, price: 0.00 }\n"     /* 0 */
    "  - { id: fd, for: 'item.kind in [\"food\", \"drink\"]', when: item.age < 18, price: 1.00 }\n"
    "  - { id: all, when: item.vip, price: 2.00 }\n"                                   /* 2 */
    "  - { id: either, for: item.kind == \"ticket\" or item.vip, when: item.age > 90, price: 3.00 }\n"
    "  - { id: nt, for: not (item.kind == \"ticket\"), when: item.age > 80, price: 4.00 }\n"
    "  - { id: late, for: item.age > 70 and item.kind == \"ticket\", price: 5.00 }\n"   /* 5 */
    "  - { id: w, when: item.kind == \"drink\", price: 6.00 }\n"                       /* 6 */
    "  - { id: tk2, for: item.kind == \"ticket\", price: 7.00 }\n"                     /* 7 */
    PAD_CATEGORIES;

static void categories_are_indexed_by_their_first_kind_conjunct_only(void **state)
{
    tsr_ruleset *rs = load(categories_rules);
    char buf[128];

    (void)state;
    assert_non_null(rs->plan->categories.start);
    /* indexed: tk (0), fd (1, both kinds), w (6, by `when`: no `for`), tk2
     * (7); general: all (2), either (3, `or`), nt (4, `not`), late (5, the
     * kind test is not first) */
    visits(rs, &rs->plan->categories, "ticket", buf, sizeof buf);
    assert_string_equal(buf, "0 2 3 4 5 7 ");
    visits(rs, &rs->plan->categories, "food", buf, sizeof buf);
    assert_string_equal(buf, "1 2 3 4 5 ");
    visits(rs, &rs->plan->categories, "drink", buf, sizeof buf);
    assert_string_equal(buf, "1 2 3 4 5 6 ");
    /* a kind no rule names visits the general list only */
    visits(rs, &rs->plan->categories, "parking", buf, sizeof buf);
    assert_string_equal(buf, "2 3 4 5 ");
    tsr_ruleset_free(rs);
}

static void categories_through_the_plan_answer_and_trace_as_before(void **state)
{
    tsr_ruleset *rs = load(categories_rules);
    static const char order[] =
        "{" DT ", \"items\": ["
        "{\"id\": \"p\", \"kind\": \"parking\", \"price\": \"9.00\"},"
        "{\"id\": \"t1\", \"kind\": \"ticket\", \"age\": 2},"
        "{\"id\": \"f\", \"kind\": \"food\", \"age\": 30, \"price\": \"8.00\"},"
        "{\"id\": \"d\", \"kind\": \"drink\", \"age\": 30},"
        "{\"id\": \"t2\", \"kind\": \"ticket\", \"age\": 75},"
        "{\"id\": \"v\", \"kind\": \"merch\", \"vip\": true},"
        "{\"id\": \"t3\", \"kind\": \"ticket\", \"age\": 40}]}";
    char *json;

    (void)state;
    json = eval_json(rs, order, true);
    /* first match per line: t1 free, d by `when` (w), t2 late, v all, t3 tk2 */
    assert_line_category(json, "t1", "ticket", "tk");
    assert_line_category(json, "d", "drink", "w");
    assert_line_category(json, "t2", "ticket", "late");
    assert_line_category(json, "v", "merch", "all");
    assert_line_category(json, "t3", "ticket", "tk2");
    /* fd's first reason is the first line's (parking: its kind), though
     * the plan never routed that line there; the food and drink lines
     * that reached it later failed its `when` */
    assert_non_null(strstr(json, "{\"rule\":\"categories.fd\",\"applied\":false,\"why\":"
                                 "\"`item.kind in [\\\"food\\\", \\\"drink\\\"]` was false\"}"));
    assert_non_null(strstr(json, "{\"rule\":\"categories.w\",\"applied\":true}"));
    free(json);
    same_as_unrouted(rs, order);
    tsr_ruleset_free(rs);
}

static void a_rule_set_without_kind_tests_has_an_empty_plan(void **state)
{
    tsr_ruleset *rs = load(HEADER "categories:\n  - { id: a, for: item.quantity > 1, price: 1.00 }\n"
                                  "  - { id: b, price: 2.00 }\n");

    (void)state;
    assert_non_null(rs->plan);
    assert_null(rs->plan->categories.start);
    assert_null(rs->plan->discounts.start);
    assert_int_equal(rs->plan->nkinds, 0);
    tsr_ruleset_free(rs);
}

static void a_section_with_few_kind_tests_is_not_routed(void **state)
{
    /* routed from TSR_PLAN_MIN_INDEXED indexed categories on; below it
     * every line visits every category, and no kind is looked up */
    tsr_ruleset *rs = load(HEADER "categories:\n"
                           PAD8("  - { id: c", ", for: item.kind == \"x\", price: 1.00 }\n")
                           "  - { id: d, for: item.kind == \"y\", price: 2.00 }\n");
    tsr_ruleset *more = load(HEADER "categories:\n"
                             PAD8("  - { id: c", ", for: item.kind == \"x\", price: 1.00 }\n"));

    (void)state;
    assert_int_equal(TSR_PLAN_MIN_INDEXED, 8);
    assert_non_null(rs->plan->categories.start);     /* 9 indexed */
    assert_non_null(more->plan->categories.start);   /* 8 indexed */
    tsr_ruleset_free(more);
    more = load(HEADER "categories:\n"
                "  - { id: a, for: item.kind == \"x\", price: 1.00 }\n"
                "  - { id: b, for: item.kind == \"y\", price: 2.00 }\n");
    assert_null(more->plan->categories.start);
    assert_int_equal(more->plan->nkinds, 0);
    tsr_ruleset_free(more);
    tsr_ruleset_free(rs);
}

static const char discount_rules[] =
    HEADER
    "promo_codes: [ { id: p, code: P }, { id: q, code: Q } ]\n"
    "discounts:\n"
    "  - { id: both, for: 'item.kind in [\"ticket\", \"kid\"]', amount: 1.00 }\n"      /* 0 */
    "  - { id: food, for: item.kind == \"food\", requires: p, percent: 10 }\n"         /* 1 */
    "  - { id: gated, when: 'count(items, true) > 1', for: item.kind == \"food\", percent: 5 }\n"
    "  - { id: rew, for: item.kind == \"ticket\", reward: item.kind == \"food\", percent: 5 }\n"
    "  - { id: g1, group: g, for: item.kind == \"food\", percent: 20 }\n"              /* 4 */
    "  - { id: g2, group: g, for: item.kind == \"kid\", percent: 30 }\n"               /* 5 */
    "  - { id: any, percent: 1, priority: 200 }\n"                                     /* 6 */
    "  - { id: tq, for: item.kind == \"ticket\", requires: q, percent: 50, exclusive: true }\n"
    PAD_DISCOUNTS;

static void only_discounts_decided_by_their_for_alone_are_indexed(void **state)
{
    tsr_ruleset *rs = load(discount_rules);
    char buf[128];

    (void)state;
    /* application order: priority 100 in file order, then `any` (200) last */
    assert_string_equal(rs->discounts[6].id, "tq");
    assert_string_equal(rs->discounts[7].id, "any");
    /* indexed: both (0), food (1), tq (6); general: gated (`when`), rew
     * (`reward`), the group's members, any (no `for`) */
    visits(rs, &rs->plan->discounts, "ticket", buf, sizeof buf);
    assert_string_equal(buf, "0 2 3 4 5 6 7 ");
    visits(rs, &rs->plan->discounts, "kid", buf, sizeof buf);
    assert_string_equal(buf, "0 2 3 4 5 7 ");
    visits(rs, &rs->plan->discounts, "food", buf, sizeof buf);
    assert_string_equal(buf, "1 2 3 4 5 7 ");
    /* the codes indexed discounts require, each once */
    assert_int_equal(rs->plan->nrequired_promos, 2);
    tsr_ruleset_free(rs);
}

static void discounts_through_the_plan_answer_as_before(void **state)
{
    tsr_ruleset *rs = load(discount_rules);
    /* a kid and a ticket line: `both` is listed under both kinds and must
     * apply once; P is required by `food`, skipped (no food line), so it
     * has no effect; Q's `tq` applies */
    static const char mixed[] = "{" DT ", \"promo_codes\": [\"P\", \"Q\"], \"items\": ["
                                LINE("k", "kid", "10.00") "," LINE("t", "ticket", "20.00") "]}";
    static const char food[] = "{" DT ", \"promo_codes\": [\"P\"], \"items\": ["
                               LINE("f", "food", "10.00") "," LINE("m", "merch", "3.00") "]}";
    char *json;

    (void)state;
    json = eval_json(rs, mixed, false);
    assert_non_null(strstr(json, "{\"id\":\"both\",\"amount\":\"1.00\"}"));
    assert_null(strstr(json, "{\"id\":\"both\",\"amount\":\"2.00\"}"));
    assert_non_null(strstr(json, "\"code\":\"P\",\"id\":\"p\",\"status\":\"rejected\",\"reason\":\"no_effect\""));
    assert_non_null(strstr(json, "\"code\":\"Q\",\"id\":\"q\",\"status\":\"accepted\""));
    free(json);
    same_as_unrouted(rs, mixed);
    same_as_unrouted(rs, food);
    tsr_ruleset_free(rs);
}

static const char earn_rules[] =
    HEADER "loyalty:\n  redeem: { point_value: 0.01 }\n  earn:\n"
    "    - { id: both, for: 'item.kind in [\"kid\", \"ticket\"]', per: 10.00, points: 1 }\n"
    "    - { id: food, for: item.kind == \"food\", per: 5.00, points: 2 }\n"
    "    - { id: gated, when: 'count(items, item.kind == \"kid\") > 0', for: item.kind == \"kid\", per: 1.00, points: 1 }\n"
    "    - { id: flat, points: 5 }\n"
    "    - { id: triple, multiply: 3, rules: [food] }\n"
    "    - { id: tick, for: item.kind == \"ticket\", per: 20.00, points: 1 }\n"
    PAD_EARN;

static void only_per_rules_decided_by_their_for_alone_are_indexed(void **state)
{
    tsr_ruleset *rs = load(earn_rules);
    char buf[128];

    (void)state;
    /* indexed: both (0), food (1), tick (5) and the pads; general: gated
     * (`when`), flat (no `for`), triple (a multiplier) */
    visits(rs, &rs->plan->earn, "ticket", buf, sizeof buf);
    assert_string_equal(buf, "0 2 3 4 5 ");
    visits(rs, &rs->plan->earn, "food", buf, sizeof buf);
    assert_string_equal(buf, "1 2 3 4 ");
    visits(rs, &rs->plan->earn, "merch", buf, sizeof buf);
    assert_string_equal(buf, "2 3 4 ");
    tsr_ruleset_free(rs);
}

static void earn_rules_through_the_plan_answer_as_before(void **state)
{
    tsr_ruleset *rs = load(earn_rules);
    /* a kid and a ticket: `both` (listed under both kinds) earns once,
     * 30.00 / 10.00 = 3 points; gated 10; flat 5; tick 20.00 / 20.00 = 1 */
    static const char mixed[] = "{" DT ", \"customer\": {\"id\": \"C1\"}, \"items\": ["
                                LINE("k", "kid", "10.00") "," LINE("t", "ticket", "20.00") "]}";
    static const char food[] = "{" DT ", \"customer\": {\"id\": \"C1\"}, \"items\": ["
                               LINE("f", "food", "10.00") "," LINE("m", "merch", "3.00") "]}";
    char *json;

    (void)state;
    json = eval_json(rs, mixed, false);
    assert_non_null(strstr(json, "\"earned\":19"));
    free(json);
    /* food: 10.00 / 5.00 * 2 = 4, tripled 12, and flat 5 */
    json = eval_json(rs, food, false);
    assert_non_null(strstr(json, "\"earned\":17"));
    free(json);
    same_as_unrouted(rs, mixed);
    same_as_unrouted(rs, food);
    tsr_ruleset_free(rs);
}

static void tax_rates_through_the_plan_answer_and_trace_as_before(void **state)
{
    tsr_ruleset *rs = load(HEADER "schema: { item: { alcohol: bool } }\n"
                                  "taxes:\n  prices: inclusive\n  rates:\n"
                                  "    - { id: alcohol, for: item.kind == \"fnb\" and item.alcohol, rate: 25.5 }\n"
                                  "    - { id: food, for: item.kind == \"fnb\", rate: 14 }\n"
                                  "    - { id: any, for: item.alcohol, rate: 20 }\n"
                                  "    - { id: culture, for: item.kind == \"ticket\", rate: 10 }\n" PAD_RATES);
    static const char order[] =
        "{" DT ", \"items\": [" LINE("m", "merch", "5.00") "," LINE("t", "ticket", "89.00") ","
        "{\"id\": \"w\", \"kind\": \"fnb\", \"alcohol\": true, \"price\": \"9.00\"},"
        LINE("b", "fnb", "4.00") "]}";
    char buf[128];
    char *json;

    (void)state;
    visits(rs, &rs->plan->rates, "fnb", buf, sizeof buf);
    assert_string_equal(buf, "0 1 2 ");
    visits(rs, &rs->plan->rates, "ticket", buf, sizeof buf);
    assert_string_equal(buf, "2 3 ");
    json = eval_json(rs, order, true);
    assert_non_null(strstr(json, "\"rate\":\"10\""));
    assert_non_null(strstr(json, "\"rate\":\"25.5\""));
    free(json);
    same_as_unrouted(rs, order);
    tsr_ruleset_free(rs);
}

#define STEP_RULES(excl, mult) \
    HEADER "discounts:\n" \
    "  - { id: half, for: item.kind == \"ticket\", percent: 50" excl " }\n" \
    "  - { id: off, amount: 1.00 }\n" \
    "  - { id: g1, group: g, percent: 10 }\n" \
    "  - { id: g2, group: g, for: item.kind == \"food\", percent: 20 }\n" \
    "loyalty:\n  redeem: { point_value: 0.01 }\n  earn:\n" \
    "    - { id: base, per: 10.00, points: 1 }\n" \
    "    - { id: flat, when: 'count(items, true) > 1', points: 5 }\n" \
    "    - { id: none, for: item.kind == \"none\", per: 1.00, points: 1 }\n" mult

static const char step_order[] = "{" DT ", \"customer\": {\"id\": \"C1\"}, \"items\": ["
                                 LINE("t", "ticket", "20.00") "," LINE("f", "food", "10.00") "]}";

/* step_order's amount due and points earned, without the trace. */
static void assert_due_and_earned(const tsr_ruleset *rs, const char *due, const char *earned)
{
    char *json = eval_json(rs, step_order, false);
    assert_non_null(strstr(json, due));
    assert_non_null(strstr(json, earned));
    free(json);
}

static void step_shortcuts_are_decided_at_load(void **state)
{
    tsr_ruleset *plain = load(STEP_RULES("", ""));
    tsr_ruleset *full = load(STEP_RULES(", exclusive: true",
                                        "    - { id: twice, multiply: 2, rules: [base] }\n"));

    (void)state;
    assert_false(plain->plan->any_exclusive);
    assert_false(plain->plan->earn_multiply);
    assert_true(full->plan->any_exclusive);
    assert_true(full->plan->earn_multiply);
    tsr_ruleset_free(plain);
    tsr_ruleset_free(full);
}

static void steps_without_claims_or_multipliers_answer_as_the_full_steps(void **state)
{
    tsr_ruleset *rs = load(STEP_RULES("", ""));
    static const char one[] = "{" DT ", \"customer\": {\"id\": \"C1\"}, \"items\": ["
                              LINE("t", "ticket", "20.00") "]}";
    static const char guest[] = "{" DT ", \"items\": [" LINE("t", "ticket", "20.00") "]}";

    (void)state;
    /* ticket 20.00 - half 10.00 - off 1.00 - g1 0.90 = 8.10; food 10.00 -
     * off 1.00 - g2 1.80 = 7.20; base: 15.30 / 10.00 = 1 point, flat 5 */
    assert_due_and_earned(rs, "\"due\":\"15.30\"", "\"earned\":6");
    same_as_full_steps(rs, step_order);
    same_as_full_steps(rs, one);
    same_as_full_steps(rs, guest);
    tsr_ruleset_free(rs);
}

static void exclusive_discounts_and_multipliers_still_take_effect(void **state)
{
    tsr_ruleset *rs = load(STEP_RULES(", exclusive: true",
                                      "    - { id: twice, multiply: 2, rules: [base] }\n"));

    (void)state;
    /* `half` claims the ticket: 10.00 there; food 10.00 - off 1.00 - g2
     * 1.80 = 7.20; base: 17.20 / 10.00 = 1 point, doubled, flat 5 */
    assert_due_and_earned(rs, "\"due\":\"17.20\"", "\"earned\":7");
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Categories that repeat a memoised `for` (tsr_plan.cat_next_for).
 */
static const char repeated_for_rules[] =
    HEADER
    "schema: { item: { age: int } }\n"
    "categories:\n"
    "  - { id: baby, for: item.kind == \"ticket\", when: item.age < 3, price: 0.00 }\n"  /* 0 */
    "  - { id: kid, for: item.kind == \"ticket\", when: item.age < 12,"
    " valid: { weekdays: [6, 7] }, price: 4.00 }\n"
    "  - { id: adult, for: item.kind == \"ticket\", when: item.age < 65, price: 9.00 }\n"
    "  - { id: old, when: item.age >= 65, price: 5.00 }\n"                                /* 3 */
    "  - { id: snack, for: item.kind == \"food\", when: item.age < 12, price: 1.00 }\n"
    "  - { id: meal, for: item.kind == \"food\", price: 2.00 }\n"                        /* 5 */
    "  - { id: late, for: item.kind == \"ticket\", price: 7.00 }\n";

static const char repeated_for_order[] =
    "{" DT ", \"items\": ["
    "{\"id\": \"a\", \"kind\": \"ticket\", \"age\": 2},"
    "{\"id\": \"b\", \"kind\": \"ticket\", \"age\": 8},"
    "{\"id\": \"c\", \"kind\": \"ticket\", \"age\": 70},"
    "{\"id\": \"d\", \"kind\": \"food\", \"age\": 70},"
    "{\"id\": \"e\", \"kind\": \"food\", \"age\": 5},"
    "{\"id\": \"f\", \"kind\": \"food\", \"age\": 30},"
    "{\"id\": \"g\", \"kind\": \"parking\", \"age\": 30, \"price\": \"4.00\"},"
    "{\"id\": \"h\", \"kind\": \"ticket\"}]}";

/* Every category tried in turn. */
static void no_for_skips(tsr_plan *p)
{
    p->cat_next_for = NULL;
}

static void categories_that_repeat_a_failed_for_are_skipped_as_before(void **state)
{
    tsr_ruleset *rs = load(repeated_for_rules);
    const uint32_t *next;
    char *json;

    (void)state;
    next = rs->plan->cat_next_for;
    assert_non_null(next);
    /* the three tickets, then old (no `for`), the two foods, late */
    assert_int_equal(next[0], 3);
    assert_int_equal(next[1], 3);
    assert_int_equal(next[2], 3);
    assert_int_equal(next[3], 4);
    assert_int_equal(next[4], 6);
    assert_int_equal(next[5], 6);
    assert_int_equal(next[6], 7);
    json = eval_json(rs, repeated_for_order, false);
    /* a Wednesday: kid is not valid; a baby, an adult, old (as a ticket
     * past its age bands and as food), a snack, a meal, parking keeps its
     * price, a ticket without age: late */
    assert_line_category(json, "a", "ticket", "baby");
    assert_line_category(json, "b", "ticket", "adult");
    assert_line_category(json, "c", "ticket", "old");
    assert_line_category(json, "d", "food", "old");
    assert_line_category(json, "e", "food", "snack");
    assert_line_category(json, "f", "food", "meal");
    assert_line_category(json, "g", "parking", NULL);
    assert_line_category(json, "h", "ticket", "late");
    free(json);
    same_bytes_with(rs, repeated_for_order, no_for_skips);
    tsr_ruleset_free(rs);

    /* no two adjacent categories share a memoised `for`: nothing to skip */
    rs = load(HEADER "categories:\n"
                     "  - { id: a, for: item.kind == \"ticket\", price: 1.00 }\n"
                     "  - { id: b, when: item.kind == \"ticket\", price: 1.00 }\n"
                     "  - { id: c, for: item.kind == \"ticket\", price: 1.00 }\n");
    assert_null(rs->plan->cat_next_for);
    tsr_ruleset_free(rs);
}

/* The error of an evaluation of `order` that must fail (formatted). */
static char *eval_error(const tsr_ruleset *rs, const char *order)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_result *r = NULL;
    tsr_error err;
    char buf[1024];

    o.no_trace = true;
    assert_int_not_equal(tsr_evaluate_text(&r, rs, order, strlen(order), &o, &err), TSR_OK);
    tsr_error_format(buf, sizeof buf, &err);
    return strdup(buf);
}

/* A skipped category would have cost nothing (its `for` answered by the
 * memo): a budget runs out at the same place with and without skips. */
static void skipping_categories_spends_the_budget_as_before(void **state)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    uint64_t budget;

    (void)state;
    for (budget = 1; budget <= 16; budget++) {
        char *with, *without;
        tsr_plan saved;
        opts.max_eval_steps = budget;
        assert_int_equal(tsr_ruleset_load_string(&rs, repeated_for_rules,
                                                 strlen(repeated_for_rules), "test.yaml", &opts,
                                                 &err), TSR_OK);
        saved = *rs->plan;
        with = eval_error(rs, repeated_for_order);
        no_for_skips(rs->plan);
        without = eval_error(rs, repeated_for_order);
        *rs->plan = saved;
        assert_string_equal(with, without);
        assert_non_null(strstr(with, "max_eval_steps"));
        free(with);
        free(without);
        tsr_ruleset_free(rs);
    }
}

/* ---------------------------------------------------------------------
 * Band runs (tsr_plan.band_runs): adjacent categories sharing a memoised
 * `for` whose `when`s compare one item field with constants.
 */
static const char band_rules[] =
    HEADER
    "schema: { item: { height_cm: int, age: int } }\n"
    "categories:\n"
    "  - { id: free, for: item.kind == \"ticket\", when: item.height_cm < 100, price: 0.00 }\n"
    "  - { id: child, for: item.kind == \"ticket\","
    " when: item.height_cm >= 100 and item.height_cm < 130,"
    " price: '50.00 if weekday(now) >= 6 else 40.00' }\n"
    "  - { id: pick, for: item.kind == \"ticket\", when: item.height_cm >= 200, selectable: true,"
    " price: 5.00 }\n"
    "  - { id: adult, for: item.kind == \"ticket\", selectable: true,"
    " price: '70.00 if weekday(now) >= 6 else 60.00' }\n"
    "  - { id: snack, for: item.kind == \"food\", when: item.age < 12, price: 1.00 }\n"
    "  - { id: meal, for: item.kind == \"food\", when: item.age != 12, price: 2.00 }\n"
    "  - { id: late, for: item.kind == \"food\", price: 3.00 }\n";

#define TICKET(id, h) "{\"id\": \"" id "\", \"kind\": \"ticket\", \"height_cm\": " #h "}"

static const char *const band_orders[] = {
    "{" DT ", \"items\": [" TICKET("a", 99) "," TICKET("b", 100) "," TICKET("c", 129) ","
    TICKET("d", 130) "," TICKET("e", 200) "]}",
    "{" DT ", \"items\": [" TICKET("a", -9223372036854775807) "," TICKET("b", 0) ","
    TICKET("c", 199) "," TICKET("d", 9223372036854775807) "]}",
    /* no height: every band is false, the catch-all takes it */
    "{" DT ", \"items\": [{\"id\": \"a\", \"kind\": \"ticket\"}," TICKET("b", 120) "]}",
    /* other kinds: the `for` fails and the run is skipped */
    "{" DT ", \"items\": [" LINE("f", "fnb", "2.00") ",{\"id\": \"g\", \"kind\": \"food\","
    " \"age\": 12}," "{\"id\": \"h\", \"kind\": \"food\", \"age\": 5},"
    "{\"id\": \"i\", \"kind\": \"food\"}," TICKET("j", 50) "]}",
    /* a line naming its own category: no matching */
    "{" DT ", \"items\": [{\"id\": \"a\", \"kind\": \"ticket\", \"height_cm\": 120,"
    " \"category\": \"adult\"}," TICKET("b", 120) "]}",
    /* a weekend: the other price of child and adult */
    "{\"datetime\": \"2026-06-13T11:00:00+03:00\", \"items\": [" TICKET("a", 120) ","
    TICKET("b", 150) "]}",
};

/* Every category tried in turn. */
static void no_bands(tsr_plan *p)
{
    p->cat_band = NULL;
}

/* The result JSON or the error of `order`, and the steps the evaluation
 * took, as "steps N: ...". */
static char *eval_outcome_with(const tsr_ruleset *rs, const char *order, bool trace)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_result *r = NULL;
    tsr_error err;
    char buf[1024], *out;
    const char *text;
    size_t n;

    o.no_trace = !trace;
    if (tsr_evaluate_text(&r, rs, order, strlen(order), &o, &err) != TSR_OK) {
        tsr_error_format(buf, sizeof buf, &err);
        text = buf;
    } else {
        text = tsr_result_json(r, NULL);
    }
    n = strlen(text) + 32;
    out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "steps %llu: %s", r ? (unsigned long long)r->steps : 0ull, text);
    tsr_result_free(r);
    return out;
}

/* eval_outcome_with, trace off. */
static char *eval_outcome(const tsr_ruleset *rs, const char *order)
{
    return eval_outcome_with(rs, order, false);
}

/* The same outcome, steps included, with and without the band runs, with
 * and without the trace. */
static void same_outcome_without_bands(tsr_ruleset *rs, const char *order)
{
    tsr_plan saved = *rs->plan;
    int t;

    for (t = 0; t < 2; t++) {
        char *with = eval_outcome_with(rs, order, t), *without;
        no_bands(rs->plan);
        without = eval_outcome_with(rs, order, t);
        *rs->plan = saved;
        assert_string_equal(with, without);
        free(with);
        free(without);
    }
}

static void band_runs_are_read_at_load(void **state)
{
    tsr_ruleset *rs = load(band_rules);
    const tsr_band_run *r;

    (void)state;
    /* the tickets; the foods' `!=` is no band */
    assert_int_equal(rs->plan->nband_runs, 1);
    r = &rs->plan->band_runs[0];
    assert_int_equal(rs->plan->cat_band[0], 1);
    assert_int_equal(rs->plan->cat_band[1], 0);
    assert_int_equal(rs->plan->cat_band[4], 0);
    assert_int_equal(r->first, 0);
    assert_int_equal(r->n, 4);
    assert_true(r->bands[0].lo == INT64_MIN && r->bands[0].hi == 99 && !r->bands[0].always);
    assert_true(r->bands[1].lo == 100 && r->bands[1].hi == 129);
    assert_true(r->bands[2].lo == 200 && r->bands[2].hi == INT64_MAX);
    assert_true(r->bands[3].always);
    /* the walker's steps: 1, then 3 more, then 1 more; the catch-all none */
    assert_int_equal(r->bands[0].steps, 1);
    assert_int_equal(r->bands[1].steps, 4);
    assert_int_equal(r->bands[2].steps, 5);
    assert_int_equal(r->bands[3].steps, 5);
    tsr_ruleset_free(rs);

    /* a `valid`, two fields, a list test: no run */
    rs = load(HEADER "schema: { item: { h: int, w: int } }\ncategories:\n"
                     "  - { id: a, for: item.kind == \"t\", when: item.h < 1, price: 1.00,"
                     " valid: { weekdays: [1] } }\n"
                     "  - { id: b, for: item.kind == \"t\", when: item.h < 2, price: 1.00 }\n"
                     "  - { id: c, for: item.kind == \"t\", when: item.w < 3, price: 1.00 }\n"
                     "  - { id: d, for: item.kind == \"t\", when: 'item.kind in [\"t\"]',"
                     " price: 1.00 }\n");
    assert_null(rs->plan->cat_band);
    tsr_ruleset_free(rs);
}

static void band_runs_answer_as_the_categories_tried_in_turn(void **state)
{
    tsr_ruleset *rs = load(band_rules);
    size_t k;
    char *json;

    (void)state;
    for (k = 0; k < sizeof band_orders / sizeof *band_orders; k++) {
        same_outcome_without_bands(rs, band_orders[k]);
        same_bytes_with(rs, band_orders[k], no_bands);
    }
    json = eval_outcome(rs, band_orders[0]);
    /* the bounds: 99 | 100 .. 129 | 130 | 200 */
    assert_line_category(json, "a", "ticket", "free");
    assert_line_category(json, "b", "ticket", "child");
    assert_line_category(json, "c", "ticket", "child");
    assert_line_category(json, "d", "ticket", "adult");
    assert_line_category(json, "e", "ticket", "pick");
    free(json);
    json = eval_outcome(rs, band_orders[2]);
    assert_line_category(json, "a", "ticket", "adult");
    free(json);
    json = eval_outcome(rs, band_orders[3]);
    assert_line_category(json, "f", "fnb", NULL);
    assert_line_category(json, "g", "food", "late");
    assert_line_category(json, "h", "food", "snack");
    assert_line_category(json, "j", "ticket", "free");
    free(json);
    tsr_ruleset_free(rs);

    /* a band run that is not the first try of its `for`, and one that
     * ends in no category: lines go on to the categories after it */
    rs = load(HEADER "schema: { item: { h: int } }\ncategories:\n"
                     "  - { id: x, for: item.kind == \"ticket\", when: item.h * 2 == 8,"
                     " price: 1.00 }\n"
                     "  - { id: lo, for: item.kind == \"ticket\", when: item.h < 3, price: 2.00 }\n"
                     "  - { id: mid, for: item.kind == \"ticket\", when: item.h == 5,"
                     " price: 3.00 }\n"
                     "  - { id: rest, when: item.h > 0, price: 4.00 }\n");
    assert_non_null(rs->plan->cat_band);
    assert_int_equal(rs->plan->cat_band[1], 1);
    for (k = 0; k < 2; k++) {
        const char *o = k ? "{" DT ", \"items\": [{\"id\": \"a\", \"kind\": \"ticket\", \"h\": 4},"
                            "{\"id\": \"b\", \"kind\": \"ticket\", \"h\": 5},"
                            "{\"id\": \"c\", \"kind\": \"ticket\", \"h\": 6},"
                            "{\"id\": \"d\", \"kind\": \"ticket\", \"h\": 2}]}"
                          : "{" DT ", \"items\": [" LINE("a", "ticket", "1.00") "]}";
        same_outcome_without_bands(rs, o);
        same_bytes_with(rs, o, no_bands);
    }
    json = eval_outcome(rs, "{" DT ", \"items\": [{\"id\": \"c\", \"kind\": \"ticket\", \"h\": 6}]}");
    assert_non_null(strstr(json, "\"category\":\"rest\""));
    free(json);
    tsr_ruleset_free(rs);
}

/* With a trace, a band run gives each category it passes over the reason
 * trying it would: the conjunct of its `when` that failed (the second one
 * too), or its `for`, the first line that failed it only. */
static void band_runs_with_a_trace_give_the_reasons_of_the_categories_in_turn(void **state)
{
    static const char *const orders[] = {
        /* child fails on its second conjunct, pick on its first */
        "{" DT ", \"items\": [" TICKET("a", 150) ",{\"id\": \"g\", \"kind\": \"food\","
        " \"age\": 5}," TICKET("b", 99) "]}",
        /* the `for` fails first (free tests it, child asks the memo), then
         * the `when`s: the first reason stays */
        "{" DT ", \"items\": [{\"id\": \"g\", \"kind\": \"food\", \"age\": 5},"
        TICKET("a", 150) "," TICKET("b", 250) "]}",
        /* a missing height fails every band on its first conjunct */
        "{" DT ", \"items\": [{\"id\": \"a\", \"kind\": \"ticket\"}," TICKET("b", 150) "]}",
    };
    tsr_ruleset *rs = load(band_rules);
    char *out;
    size_t k;

    (void)state;
    for (k = 0; k < sizeof orders / sizeof *orders; k++) {
        same_outcome_without_bands(rs, orders[k]);
        same_bytes_with(rs, orders[k], no_bands);
    }
    out = eval_outcome_with(rs, orders[0], true);
    assert_non_null(strstr(out, "\"rule\":\"categories.child\",\"applied\":false,"
                                "\"why\":\"`item.height_cm < 130` was false\""));
    assert_non_null(strstr(out, "\"rule\":\"categories.pick\",\"applied\":false,"
                                "\"why\":\"`item.height_cm >= 200` was false\""));
    free(out);
    out = eval_outcome_with(rs, orders[1], true);
    assert_non_null(strstr(out, "\"rule\":\"categories.free\",\"applied\":false,"
                                "\"why\":\"`item.kind == \\\"ticket\\\"` was false\""));
    assert_non_null(strstr(out, "\"rule\":\"categories.child\",\"applied\":false,"
                                "\"why\":\"`item.kind == \\\"ticket\\\"` was false\""));
    free(out);
    out = eval_outcome_with(rs, orders[2], true);
    assert_non_null(strstr(out, "\"rule\":\"categories.free\",\"applied\":false,"
                                "\"why\":\"`item.height_cm < 100` was false\""));
    assert_non_null(strstr(out, "\"rule\":\"categories.child\",\"applied\":false,"
                                "\"why\":\"`item.height_cm >= 100` was false\""));
    free(out);
    tsr_ruleset_free(rs);
}

/* A band run whose `for` is another string comparison (`!=`), or no string
 * comparison at all (tested as any condition), answers as before too. */
static void band_runs_under_other_fors_answer_as_before(void **state)
{
    static const char *const fors[] = { "item.kind != \"food\"", "item.age >= 0",
                                        "item.id != \"b\"" };
    static const char order[] =
        "{" DT ", \"items\": [" TICKET("a", 99) "," TICKET("b", 100) ","
        "{\"id\": \"c\", \"kind\": \"food\", \"age\": 3, \"height_cm\": 100},"
        "{\"id\": \"d\", \"kind\": \"ticket\", \"age\": 30, \"height_cm\": 129},"
        "{\"id\": \"e\", \"kind\": \"ticket\", \"age\": -1, \"height_cm\": 1}]}";
    size_t k;

    (void)state;
    for (k = 0; k < sizeof fors / sizeof *fors; k++) {
        char yaml[1024];
        tsr_ruleset *rs;
        snprintf(yaml, sizeof yaml,
                 HEADER "schema: { item: { height_cm: int, age: int } }\ncategories:\n"
                        "  - { id: free, for: %s, when: item.height_cm < 100, price: 0.00 }\n"
                        "  - { id: child, for: %s, when: item.height_cm <= 129, price: 1.00 }\n"
                        "  - { id: adult, for: %s, price: 2.00 }\n"
                        "  - { id: other, price: 3.00 }\n",
                 fors[k], fors[k], fors[k]);
        rs = load(yaml);
        assert_int_equal(rs->plan->nband_runs, 1);
        /* only the string comparisons are answered in the step */
        assert_true((rs->plan->band_runs[0].for_str != NULL) == (k != 1));
        same_outcome_without_bands(rs, order);
        same_bytes_with(rs, order, no_bands);
        tsr_ruleset_free(rs);
    }
}

/* With every budget from 1 step up, the band runs stop an evaluation where
 * the categories tried in turn stop it, and with the same message. */
static void band_runs_spend_the_budget_as_before(void **state)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    uint64_t budget;
    size_t k, stopped = 0;

    (void)state;
    for (budget = 1; budget <= 40; budget++) {
        opts.max_eval_steps = budget;
        assert_int_equal(tsr_ruleset_load_string(&rs, band_rules, strlen(band_rules),
                                                 "test.yaml", &opts, &err), TSR_OK);
        for (k = 0; k < sizeof band_orders / sizeof *band_orders; k++) {
            char *out = eval_outcome(rs, band_orders[k]);
            stopped += strstr(out, "max_eval_steps") != NULL;
            free(out);
            same_outcome_without_bands(rs, band_orders[k]);
        }
        tsr_ruleset_free(rs);
    }
    assert_true(stopped > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(categories_are_indexed_by_their_first_kind_conjunct_only),
        cmocka_unit_test(categories_through_the_plan_answer_and_trace_as_before),
        cmocka_unit_test(a_rule_set_without_kind_tests_has_an_empty_plan),
        cmocka_unit_test(a_section_with_few_kind_tests_is_not_routed),
        cmocka_unit_test(only_discounts_decided_by_their_for_alone_are_indexed),
        cmocka_unit_test(discounts_through_the_plan_answer_as_before),
        cmocka_unit_test(tax_rates_through_the_plan_answer_and_trace_as_before),
        cmocka_unit_test(only_per_rules_decided_by_their_for_alone_are_indexed),
        cmocka_unit_test(earn_rules_through_the_plan_answer_as_before),
        cmocka_unit_test(step_shortcuts_are_decided_at_load),
        cmocka_unit_test(steps_without_claims_or_multipliers_answer_as_the_full_steps),
        cmocka_unit_test(exclusive_discounts_and_multipliers_still_take_effect),
        cmocka_unit_test(categories_that_repeat_a_failed_for_are_skipped_as_before),
        cmocka_unit_test(skipping_categories_spends_the_budget_as_before),
        cmocka_unit_test(band_runs_are_read_at_load),
        cmocka_unit_test(band_runs_answer_as_the_categories_tried_in_turn),
        cmocka_unit_test(band_runs_spend_the_budget_as_before),
        cmocka_unit_test(band_runs_under_other_fors_answer_as_before),
        cmocka_unit_test(band_runs_with_a_trace_give_the_reasons_of_the_categories_in_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
