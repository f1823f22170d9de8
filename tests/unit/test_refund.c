/*
 * test_refund.c — refunds (lib/refund.c, lib/receipt.c, lib/refund_case.c):
 * allowed and rejected lines with their reasons, fees (constant and
 * expression) and the floor at zero, points restored and revoked (line and
 * order-level), both destinations, every way a receipt can fail to match,
 * the request's own errors, re-pricing with clawback (a broken bundle, a
 * broken min_total, nothing broken, capped, across two refunds), the
 * result JSON and accessors, the §7 case hook, and out-of-memory handling.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "refund.h"
#include "alloc_fixture.h"

/* Prices: adult ticket 20.00, child ticket 10.00; the pair bundle sells one
 * of each for 25.00; fnb lines carry their price and get 10 % off when they
 * reach 30.00 together, gifts 10 % when they reach 10000.00.  1 point per
 * full 1.00 paid, 5 flat points per order; a point is worth 0.10. */
static const char base_rules[] =
    "tessera: 1\n"
    "ruleset: refund-test\n"
    "version: \"7\"\n"
    "currency: EUR\n"
    "schema:\n"
    "  item: { event_start: datetime, validated: bool }\n"
    "  customer: { member: bool }\n"
    "categories:\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 20.00 }\n"
    "  - { id: child, for: item.kind == \"kid\", price: 10.00 }\n"
    "discounts:\n"
    "  - id: pair\n"
    "    bundle:\n"
    "      - { for: item.category == \"adult\", quantity: 1 }\n"
    "      - { for: item.category == \"child\", quantity: 1 }\n"
    "    price: 25.00\n"
    "  - id: big-basket\n"
    "    for: item.kind == \"fnb\"\n"
    "    min_total: 30.00\n"
    "    percent: 10\n"
    "  - id: big-spender\n"
    "    for: item.kind == \"gift\"\n"
    "    min_total: 10000.00\n"
    "    percent: 10\n"
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  earn:\n"
    "    - { id: base, per: 1.00, points: 1 }\n"
    "    - { id: bonus, points: 5 }\n"
    "  redeem: { point_value: 0.10, max_percent: 50 }\n";

static const char default_refunds[] =
    "refunds:\n"
    "  allowed: 'not item.validated and now <= item.event_start - hours(24)'\n"
    "  fee: 2.00\n"
    "  to: account_credit\n"
    "  reprice: true\n";

#define SHOW "2026-06-20T19:00:00+02:00"
#define ORDER_TIME "2026-06-01T12:00:00+02:00"
#define EARLY "2026-06-10T10:00:00+02:00"    /* well before the show */
#define LATE "2026-06-20T10:00:00+02:00"     /* the day of the show */

/* One adult, one child (the pair), two drinks of 20.00 (the basket). */
static const char family_order[] =
    "{\"id\":\"A-1\",\"datetime\":\"" ORDER_TIME "\","
    "\"customer\":{\"id\":\"C-1\",\"member\":true},"
    "\"items\":["
    "{\"id\":\"a1\",\"kind\":\"ticket\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"c1\",\"kind\":\"kid\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"20.00\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"f2\",\"kind\":\"fnb\",\"price\":\"20.00\",\"event_start\":\"" SHOW "\"}]}";

typedef struct fixture {
    tsr_ruleset *rs;
    char *receipt;              /* of the last priced order */
    char *order;
    tsr_refund_result *res;
    tsr_error err;
} fixture;

static tsr_ruleset *load_with(const char *refunds, const tsr_load_options *opts)
{
    char text[4096];
    tsr_ruleset *rs = NULL;
    tsr_error err;

    snprintf(text, sizeof text, "%s%s", base_rules, refunds);
    if (tsr_ruleset_load_string(&rs, text, strlen(text), "refund-test.yaml", opts, &err) != TSR_OK)
        fail_msg("rules: %s:%d:%d: %s", err.file, err.line, err.column, err.message);
    return rs;
}

static char *dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    assert_non_null(p);
    strcpy(p, s);
    return p;
}

/* s with the first `from` replaced by `to` (which must be there). */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    size_t n;
    char *p;

    if (!at)
        fail_msg("`%s` is not in the text", from);
    n = strlen(s) - strlen(from) + strlen(to);
    p = malloc(n + 1);
    assert_non_null(p);
    memcpy(p, s, (size_t)(at - s));
    strcpy(p + (at - s), to);
    strcat(p, at + strlen(from));
    return p;
}

static void use_rules(fixture *f, const char *refunds)
{
    tsr_ruleset_free(f->rs);
    f->rs = load_with(refunds, NULL);
}

/* Price an order and keep it and its receipt. */
static void price(fixture *f, const char *order)
{
    tsr_result *r = NULL;
    const char *json;

    if (tsr_evaluate_text(&r, f->rs, order, strlen(order), NULL, &f->err) != TSR_OK)
        fail_msg("order: %s: %s", f->err.path, f->err.message);
    json = tsr_result_json(r, NULL);
    assert_non_null(json);
    free(f->receipt);
    free(f->order);
    f->receipt = dup(json);
    f->order = dup(order);
    tsr_result_free(r);
}

/* The request for the current order and a receipt, with extra keys. */
static char *request(const fixture *f, const char *receipt, const char *lines, const char *at,
                     const char *extra)
{
    size_t n = strlen(f->order) + strlen(receipt) + strlen(lines) + strlen(extra) + 128;
    char *q = malloc(n);
    assert_non_null(q);
    snprintf(q, n, "{\"order\":%s,\"receipt\":%s,\"lines\":%s,\"datetime\":\"%s\"%s}", f->order,
             receipt, lines, at, extra);
    return q;
}

static int refund_with(fixture *f, const char *receipt, const char *lines, const char *at,
                       const char *extra)
{
    char *q = request(f, receipt, lines, at, extra);
    int rc;

    tsr_refund_result_free(f->res);
    f->res = NULL;
    rc = tsr_refund(&f->res, f->rs, q, strlen(q), &f->err);
    free(q);
    if (rc != TSR_OK)
        assert_null(f->res);
    return rc;
}

static void refund_ok(fixture *f, const char *lines, const char *at, const char *extra)
{
    if (refund_with(f, f->receipt, lines, at, extra) != TSR_OK)
        fail_msg("refund: %s: %s", f->err.path, f->err.message);
}

static void refund_fails(fixture *f, const char *receipt, const char *lines, const char *extra,
                         int code, const char *path, const char *message)
{
    int rc = refund_with(f, receipt, lines, EARLY, extra);
    if (rc != code)
        fail_msg("expected code %d, got %d (%s: %s)", code, rc, f->err.path, f->err.message);
    assert_int_equal(f->err.code, code);
    if (strcmp(f->err.path, path) != 0)
        fail_msg("expected path `%s`, got `%s` (%s)", path, f->err.path, f->err.message);
    if (!strstr(f->err.message, message))
        fail_msg("expected a message containing \"%s\", got \"%s\"", message, f->err.message);
}

/* A tampered copy of the receipt. */
static void refund_fails_with_receipt(fixture *f, const char *from, const char *to,
                                      const char *path, const char *message)
{
    char *r = replace(f->receipt, from, to);
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, path, message);
    free(r);
}

static size_t line_index(const tsr_refund_result *r, const char *id)
{
    size_t i;
    for (i = 0; i < tsr_refund_result_line_count(r); i++)
        if (strcmp(tsr_refund_result_line_id(r, i), id) == 0)
            return i;
    fail_msg("no line `%s` in the refund", id);
    return 0;
}

static void assert_refunded(const fixture *f, const char *id, int64_t amount, int64_t fee,
                            int64_t restored, int64_t revoked)
{
    size_t i = line_index(f->res, id);
    if (tsr_refund_result_line_status(f->res, i) != TSR_REFUND_REFUNDED)
        fail_msg("line %s rejected: %s", id, tsr_refund_result_line_why(f->res, i));
    assert_null(tsr_refund_result_line_why(f->res, i));
    assert_int_equal(tsr_refund_result_line_amount(f->res, i), amount);
    assert_int_equal(tsr_refund_result_line_fee(f->res, i), fee);
    assert_int_equal(tsr_refund_result_line_points_restored(f->res, i), restored);
    assert_int_equal(tsr_refund_result_line_points_revoked(f->res, i), revoked);
}

static void assert_rejected(const fixture *f, const char *id, const char *why)
{
    size_t i = line_index(f->res, id);
    const char *w = tsr_refund_result_line_why(f->res, i);
    assert_int_equal(tsr_refund_result_line_status(f->res, i), TSR_REFUND_REJECTED);
    assert_non_null(w);
    if (!strstr(w, why))
        fail_msg("line %s: expected a reason containing \"%s\", got \"%s\"", id, why, w);
    assert_int_equal(tsr_refund_result_line_amount(f->res, i), 0);
    assert_int_equal(tsr_refund_result_line_fee(f->res, i), 0);
    assert_int_equal(tsr_refund_result_line_points_restored(f->res, i), 0);
    assert_int_equal(tsr_refund_result_line_points_revoked(f->res, i), 0);
}

static tsr_refund_totals totals(const fixture *f)
{
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    tsr_refund_result_totals(f->res, &t);
    return t;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->rs = load_with(default_refunds, NULL);
    price(f, family_order);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tsr_refund_result_free(f->res);
    tsr_ruleset_free(f->rs);
    free(f->receipt);
    free(f->order);
    free(f);
    return 0;
}

/* ---------------------------------------------------------------------
 * Allowed and rejected.
 */
static void a_line_in_time_is_refunded_less_the_fee(void **state)
{
    fixture *f = *state;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;

    /* f1 paid 18.00 (10 % basket discount), earned 18 points */
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_refunded(f, "f1", 1600, 200, 0, 18);
    t = totals(f);
    assert_int_equal(t.fee, 200);
    assert_int_equal(t.points_restored, 0);
    assert_int_equal(t.points_revoked, 18);
    assert_int_equal(t.order_points_revoked, 0);
    assert_string_equal(tsr_refund_result_order(f->res), "A-1");
}

static void a_late_refund_is_rejected_with_the_failing_condition(void **state)
{
    fixture *f = *state;

    refund_ok(f, "[\"f1\",\"a1\"]", LATE, "");
    assert_rejected(f, "f1", "allowed: `now <= item.event_start - hours(24)` was false");
    assert_rejected(f, "a1", "allowed: `now <= item.event_start - hours(24)` was false");
    assert_int_equal(totals(f).amount, 0);
    assert_int_equal(totals(f).clawback, 0);
    /* the lines come out in the order asked for */
    assert_string_equal(tsr_refund_result_line_id(f->res, 0), "f1");
    assert_string_equal(tsr_refund_result_line_id(f->res, 1), "a1");
}

static void a_used_ticket_is_rejected_naming_the_first_false_part(void **state)
{
    fixture *f = *state;
    char *order = replace(family_order, "\"kind\":\"ticket\",", "\"kind\":\"ticket\",\"validated\":true,");

    price(f, order);
    free(order);
    refund_ok(f, "[\"a1\",\"f1\"]", EARLY, "");
    assert_rejected(f, "a1", "allowed: `not item.validated` was false");
    assert_refunded(f, "f1", 1600, 200, 0, 18);
}

static void every_line_is_rejected_without_a_refunds_section(void **state)
{
    fixture *f = *state;

    use_rules(f, "");
    price(f, family_order);
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_rejected(f, "f1", "no `refunds:` section");
}

static void allowed_may_be_left_out(void **state)
{
    fixture *f = *state;

    use_rules(f, "refunds: { fee: 1.00 }\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\"]", LATE, "");
    assert_refunded(f, "f1", 1700, 100, 0, 18);
}

/* ---------------------------------------------------------------------
 * Fees and the floor at zero.
 */
static void a_fee_expression_sees_the_line_and_the_refund_time(void **state)
{
    fixture *f = *state;

    /* 10 % of what was paid, doubled within 15 days of the show */
    use_rules(f, "refunds:\n"
                 "  fee: 'item.total * 0.1 * (2 if now > item.event_start - days(15) else 1)'\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\"]", "2026-06-01T18:00:00+02:00", "");
    assert_refunded(f, "f1", 1620, 180, 0, 18);
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_refunded(f, "f1", 1440, 360, 0, 18);
}

static void a_fee_above_what_was_paid_keeps_only_what_was_paid(void **state)
{
    fixture *f = *state;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;

    use_rules(f, "refunds: { fee: 50.00 }\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\",\"f2\"]", EARLY, "");
    assert_refunded(f, "f1", 0, 1800, 0, 18);
    assert_refunded(f, "f2", 0, 1800, 0, 18);
    t = totals(f);
    assert_int_equal(t.amount, 0);
    assert_int_equal(t.fee, 3600);
}

static void a_free_line_is_refunded_with_nothing_to_pay_back(void **state)
{
    fixture *f = *state;
    char *order = replace(family_order, "\"price\":\"20.00\"", "\"price\":\"0.00\"");

    price(f, order);
    free(order);
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_refunded(f, "f1", 0, 0, 0, 0);
}

static void a_fee_without_value_or_below_zero_rejects_the_line(void **state)
{
    fixture *f = *state;

    use_rules(f, "refunds: { fee: 'item.total if item.kind == \"ticket\" else item.price - 30.00' }\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_rejected(f, "f1", "fee: `item.total if item.kind == \"ticket\" else item.price - 30.00` "
                             "is negative (-10.00) for this line");
    use_rules(f, "tables: { fees: { ticket: 1.00 } }\nrefunds: { fee: 'tables.fees[item.kind]' }\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\",\"a1\"]", EARLY, "");
    assert_rejected(f, "f1", "fee: `tables.fees[item.kind]` has no value for this line");
    assert_int_equal(tsr_refund_result_line_status(f->res, 1), TSR_REFUND_REFUNDED);
}

/* A fee that cannot be computed (an overflow) stops the refund with the
 * rule's place and the line, as a path into the request's order. */
static void a_fee_that_overflows_names_the_rule_and_the_line(void **state)
{
    fixture *f = *state;

    use_rules(f, "refunds:\n  fee: item.total * 1000000000000000000\n");
    price(f, family_order);
    refund_fails(f, f->receipt, "[\"f2\"]", "", TSR_EEVAL, "order.items[3]",
                 "arithmetic overflow in `item.total * 1000000000000000000`");
    assert_string_equal(f->err.file, "refund-test.yaml");
    /* the line after `refunds:`, which follows base_rules */
    {
        int line = 2;
        const char *c;
        for (c = base_rules; *c; c++)
            line += *c == '\n';
        assert_int_equal(f->err.line, line);
    }
    assert_int_equal(f->err.column, 8);
}

/* ---------------------------------------------------------------------
 * Points.
 */
static const char paid_with_points[] =
    "{\"id\":\"P-1\",\"datetime\":\"" ORDER_TIME "\","
    "\"customer\":{\"id\":\"C-1\",\"member\":true,\"points_balance\":1000},"
    "\"items\":["
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"12.00\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"f2\",\"kind\":\"fnb\",\"price\":\"8.00\",\"event_start\":\"" SHOW "\"}],"
    "\"redeem_points\":50}";

static void redeemed_points_come_back_and_earned_ones_go(void **state)
{
    fixture *f = *state;

    /* 50 points (5.00) over 12.00 and 8.00: 30 and 20 points; paid 9.00 and
     * 6.00, earning 9 and 6 points */
    price(f, paid_with_points);
    assert_non_null(strstr(f->receipt, "\"redeemed\":{\"points\":30,\"value\":\"3.00\"}"));
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_refunded(f, "f1", 700, 200, 30, 9);
    assert_int_equal(totals(f).order_points_revoked, 0);
    assert_int_equal(totals(f).points_revoked, 9);
}

static void order_points_go_with_the_last_line(void **state)
{
    fixture *f = *state;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    char previous[96];

    price(f, paid_with_points);
    refund_ok(f, "[\"f1\",\"f2\"]", EARLY, "");
    t = totals(f);
    assert_int_equal(t.points_restored, 50);
    assert_int_equal(t.order_points_revoked, 5);     /* the flat `bonus` */
    assert_int_equal(t.points_revoked, 9 + 6 + 5);
    /* in two refunds: the second takes them */
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_int_equal(totals(f).order_points_revoked, 0);
    t = totals(f);
    snprintf(previous, sizeof previous, ",\"previous\":{\"lines\":[\"f1\"],\"clawback\":\"%d.%02d\"}",
             (int)(t.clawback / 100), (int)(t.clawback % 100));
    refund_ok(f, "[\"f2\"]", EARLY, previous);
    assert_int_equal(totals(f).order_points_revoked, 5);
    assert_int_equal(totals(f).points_revoked, 6 + 5);
    /* not when the last line is rejected */
    refund_ok(f, "[\"f2\"]", LATE, previous);
    assert_int_equal(totals(f).order_points_revoked, 0);
}

/* ---------------------------------------------------------------------
 * Destinations and the JSON.
 */
static void money_goes_where_the_rule_set_says(void **state)
{
    fixture *f = *state;

    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_string_equal(tsr_refund_result_to(f->res), "account_credit");
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL), "\"to\":\"account_credit\""));
    use_rules(f, "refunds: { to: original_payment }\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_string_equal(tsr_refund_result_to(f->res), "original_payment");
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL), "\"to\":\"original_payment\""));
}

static void the_json_identifies_what_was_refunded(void **state)
{
    fixture *f = *state;
    size_t len;
    const char *json;

    use_rules(f, "refunds:\n  allowed: 'not item.validated'\n  fee: 2.00\n");
    price(f, family_order);
    refund_ok(f, "[\"f1\",\"f2\"]", "2026-06-10T10:00:00Z", ",\"previous\":{\"lines\":[\"f2\"]}");
    json = tsr_refund_result_json(f->res, &len);
    assert_non_null(json);
    assert_int_equal(strlen(json), len);
    assert_string_equal(json,
        "{\"order\":\"A-1\",\"ruleset\":{\"id\":\"refund-test\",\"version\":\"7\"},"
        "\"currency\":\"EUR\",\"datetime\":\"2026-06-10T10:00:00Z\",\"to\":\"account_credit\","
        "\"lines\":[{\"id\":\"f1\",\"status\":\"refunded\",\"amount\":\"16.00\",\"fee\":\"2.00\","
        "\"points_restored\":0,\"points_revoked\":18},"
        "{\"id\":\"f2\",\"status\":\"rejected\",\"why\":\"already refunded\"}],"
        "\"totals\":{\"amount\":\"16.00\",\"fee\":\"2.00\",\"clawback\":\"0.00\","
        "\"clawback_returned\":\"0.00\",\"points_restored\":0,\"points_revoked\":18,\"order_points_revoked\":0}}");
    /* the same call again gives the same bytes */
    assert_ptr_equal(tsr_refund_result_json(f->res, NULL), json);
}

static void accessors_are_null_safe(void **state)
{
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    (void)state;

    tsr_refund_result_free(NULL);
    assert_null(tsr_refund_result_json(NULL, NULL));
    assert_null(tsr_refund_result_order(NULL));
    assert_null(tsr_refund_result_to(NULL));
    assert_int_equal(tsr_refund_result_line_count(NULL), 0);
    assert_null(tsr_refund_result_line_id(NULL, 0));
    assert_int_equal(tsr_refund_result_line_status(NULL, 0), TSR_EINVAL);
    assert_null(tsr_refund_result_line_why(NULL, 0));
    assert_int_equal(tsr_refund_result_line_amount(NULL, 0), 0);
    memset(&t, 0xff, sizeof t);
    t.version = TSR_REFUND_TOTALS_VERSION;
    assert_int_equal(tsr_refund_result_totals(NULL, &t), TSR_EINVAL);
    assert_int_equal(t.amount, 0);
    assert_int_equal(t.clawback_returned, 0);
    assert_int_equal(t.version, TSR_REFUND_TOTALS_VERSION);
    assert_int_equal(tsr_refund_result_totals(NULL, NULL), TSR_EINVAL);
    assert_string_equal(tsr_strerror(TSR_ERECEIPT), "receipt does not match");
}

static void an_order_without_id_refunds_with_a_null_order(void **state)
{
    fixture *f = *state;
    char *order = replace(family_order, "\"id\":\"A-1\",", "");

    price(f, order);
    free(order);
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_null(tsr_refund_result_order(f->res));
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL), "{\"order\":null,"));
}

/* ---------------------------------------------------------------------
 * Receipts that do not match.
 */
static void a_receipt_of_another_rule_set_or_version_is_refused(void **state)
{
    fixture *f = *state;
    refund_fails_with_receipt(f, "\"id\":\"refund-test\"", "\"id\":\"other\"",
                              "receipt.ruleset.id", "priced by rule set `other`");
    refund_fails_with_receipt(f, "\"version\":\"7\"", "\"version\":\"6\"",
                              "receipt.ruleset.version", "version \"6\" of `refund-test`");
    refund_fails_with_receipt(f, "\"currency\":\"EUR\"", "\"currency\":\"USD\"",
                              "receipt.currency", "the receipt is in USD");
}

static void a_receipt_of_another_order_is_refused(void **state)
{
    fixture *f = *state;
    refund_fails_with_receipt(f, "\"order\":\"A-1\"", "\"order\":\"A-2\"", "receipt.order",
                              "for order `A-2`, not for `A-1`");
    refund_fails_with_receipt(f, "\"order\":\"A-1\"", "\"order\":null", "receipt.order",
                              "for order null");
}

/* The receipt's lines, cut apart, to drop or swap whole lines. */
static char *without_line(const char *receipt, const char *id, const char *next)
{
    char from[32], to[32];
    const char *a, *b;
    char *out;

    snprintf(from, sizeof from, "{\"id\":\"%s\"", id);
    snprintf(to, sizeof to, "{\"id\":\"%s\"", next);
    a = strstr(receipt, from);
    b = strstr(receipt, to);
    assert_non_null(a);
    assert_non_null(b);
    out = malloc(strlen(receipt) + 1);
    memcpy(out, receipt, (size_t)(a - receipt));
    strcpy(out + (a - receipt), b);
    return out;
}

static void missing_extra_and_reordered_lines_are_refused(void **state)
{
    fixture *f = *state;
    char *r, *r2;

    /* f2 dropped: sums no longer add up, so lines are checked first by sums;
     * drop f2 and fix the totals so that only the line count differs */
    r = without_line(f->receipt, "c1", "f1");
    r2 = replace(r, "\"subtotal\":\"70.00\",\"discount\":\"9.00\",\"redeemed_value\":\"0.00\",\"due\":\"61.00\"",
                 "\"subtotal\":\"60.00\",\"discount\":\"7.33\",\"redeemed_value\":\"0.00\",\"due\":\"52.67\"");
    free(r);
    r = dup(r2);
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[1].id",
                 "the receipt lists line `f1` here, the order lists `c1`");
    free(r);
    free(r2);

    /* the same with c1 renamed: not in the order at all */
    r = replace(f->receipt, "{\"id\":\"c1\"", "{\"id\":\"zz\"");
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[1].id",
                 "line `zz` is not in the order");
    free(r);

    /* a1 and c1 swapped: the ids say so before any amount does */
    r = replace(f->receipt, "{\"id\":\"a1\"", "{\"id\":\"QQ\"");
    r2 = replace(r, "{\"id\":\"c1\"", "{\"id\":\"a1\"");
    free(r);
    r = replace(r2, "{\"id\":\"QQ\"", "{\"id\":\"c1\"");
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[0].id",
                 "the lines are out of order");
    free(r);
    free(r2);
}

static void a_receipt_with_a_line_more_or_less_is_refused(void **state)
{
    fixture *f = *state;
    char *r, *order;

    /* priced with three lines, refunded against the order with four */
    order = dup(f->order);
    {
        char *three = replace(family_order, ",{\"id\":\"f2\",\"kind\":\"fnb\",\"price\":\"20.00\","
                                            "\"event_start\":\"" SHOW "\"}", "");
        price(f, three);
        free(three);
    }
    r = dup(f->receipt);
    free(f->order);
    f->order = order;
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines",
                 "the receipt has 3 lines, the order 4: line `f2` (items[3]) is missing");
    /* and the other way round */
    price(f, family_order);
    free(r);
    r = dup(f->receipt);
    {
        char *three = replace(family_order, ",{\"id\":\"f2\",\"kind\":\"fnb\",\"price\":\"20.00\","
                                            "\"event_start\":\"" SHOW "\"}", "");
        free(f->order);
        f->order = three;
    }
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[3].id",
                 "line `f2` is not in the order (it has 3 lines)");
    free(r);
}

static void an_edited_amount_is_refused(void **state)
{
    fixture *f = *state;
    char *r, *r2;

    /* a line total that does not add up */
    refund_fails_with_receipt(f, "\"total\":\"18.00\"", "\"total\":\"19.00\"",
                              "receipt.lines[2].total", "is not its subtotal − discounts − redeemed value");
    /* totals that do not add up */
    refund_fails_with_receipt(f, "\"due\":\"61.00\"", "\"due\":\"62.00\"", "receipt.totals.due",
                              "the amount due is 62.00, but the lines add up to 61.00");
    refund_fails_with_receipt(f, "\"earned\":66", "\"earned\":10", "receipt.points.earned",
                              "10 points earned, but the lines alone earned 61");
    /* an edit that adds up but is not what the rule set gives */
    r = replace(f->receipt, "\"subtotal\":\"20.00\",\"discounts\":[{\"id\":\"big-basket\",\"amount\":\"2.00\"}]",
                "\"subtotal\":\"20.00\",\"discounts\":[{\"id\":\"big-basket\",\"amount\":\"1.00\"}]");
    r2 = replace(r, "\"total\":\"18.00\"", "\"total\":\"19.00\"");
    free(r);
    r = replace(r2, "\"discount\":\"9.00\",\"redeemed_value\":\"0.00\",\"due\":\"61.00\"",
                "\"discount\":\"8.00\",\"redeemed_value\":\"0.00\",\"due\":\"62.00\"");
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[2].discounts",
                 "the receipt says 1.00, the rule set gives 2.00 for this order");
    free(r);
    free(r2);
    /* points edited consistently */
    r = replace(f->receipt, "\"points_earned\":17", "\"points_earned\":27");
    r2 = replace(r, "\"earned\":66", "\"earned\":76");
    refund_fails(f, r2, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[0].points_earned",
                 "the receipt says 27, the rule set gives 17");
    free(r);
    free(r2);
}

static void a_receipt_priced_by_changed_rules_is_refused(void **state)
{
    fixture *f = *state;
    char *receipt = dup(f->receipt);

    /* same id and version, different prices: the amounts give it away */
    tsr_ruleset_free(f->rs);
    {
        char *rules = replace(base_rules, "price: 20.00", "price: 22.00");
        char text[4096];
        snprintf(text, sizeof text, "%s%s", rules, default_refunds);
        assert_int_equal(tsr_ruleset_load_string(&f->rs, text, strlen(text), NULL, NULL, &f->err),
                         TSR_OK);
        free(rules);
    }
    refund_fails(f, receipt, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[0].subtotal",
                 "a rule file changed without a new version");
    free(receipt);
}

static void a_malformed_receipt_is_refused_at_its_path(void **state)
{
    fixture *f = *state;

    refund_fails_with_receipt(f, "\"total\":\"18.00\"", "\"total\":\"18.005\"",
                              "receipt.lines[2].total", "more decimals than EUR has");
    refund_fails_with_receipt(f, "\"total\":\"18.00\"", "\"total\":true", "receipt.lines[2].total",
                              "expected a money amount");
    refund_fails_with_receipt(f, "\"total\":\"18.00\",", "", "receipt.lines[2]",
                              "the line has no `total`");
    refund_fails_with_receipt(f, "\"points_earned\":17", "\"points_earned\":17,\"total\":\"1.00\"",
                              "receipt.lines[0].total", "`total` is given twice");
    refund_fails_with_receipt(f, "\"points_earned\":17", "\"points_earned\":-17",
                              "receipt.lines[0].points_earned", "must not be negative");
    refund_fails_with_receipt(f, "\"lines\":[", "\"lines\":[7,", "receipt.lines[0]",
                              "expected an object");
    refund_fails_with_receipt(f, "\"ruleset\":{\"id\":\"refund-test\",\"version\":\"7\"},", "",
                              "receipt", "the receipt has no `ruleset`");
    /* keys a refund does not read are skipped, whatever they hold */
    {
        char *r = replace(f->receipt, "\"offers\":[]", "\"offers\":[{\"x\":[1,{\"y\":null}]}],\"new_key\":{}");
        assert_int_equal(refund_with(f, r, "[\"f1\"]", EARLY, ""), TSR_OK);
        free(r);
    }
}

static void the_low_level_call_checks_a_bare_receipt(void **state)
{
    fixture *f = *state;
    const char *ids[] = { "f1" };
    tsr_order *o = NULL;

    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, "{\"lines\":", 9, ids, 1, EARLY, NULL,
                                      &f->err), TSR_ERECEIPT);
    assert_string_equal(f->err.path, "receipt");
    assert_non_null(strstr(f->err.message, "invalid JSON"));
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, "[]", 2, ids, 1, EARLY, NULL, &f->err),
                     TSR_ERECEIPT);
    assert_non_null(strstr(f->err.message, "a receipt is a JSON object"));
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      "yesterday", NULL, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "datetime");
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, NULL, &f->err), TSR_OK);
    assert_refunded(f, "f1", 1600, 200, 0, 18);
    tsr_order_free(o);
}

/* ---------------------------------------------------------------------
 * Taxes: what a line cost includes tax added on top; each refunded line
 * says the tax its amount contains; receipts are checked with their tax.
 */
#define TAX_RATES "  rates:\n" \
    "    - { id: culture, for: item.kind == \"ticket\", rate: 10 }\n" \
    "    - { id: food, for: item.kind == \"fnb\", rate: 14 }\n"

static void use_taxes(fixture *f, const char *prices)
{
    char text[1024];
    snprintf(text, sizeof text, "%staxes:\n  prices: %s\n" TAX_RATES, default_refunds, prices);
    use_rules(f, text);
    price(f, family_order);
}

static void a_refund_reports_the_tax_its_amount_contains(void **state)
{
    fixture *f = *state;
    const char *id, *rate;
    int64_t tax;
    size_t i;

    /* inclusive: f1 paid 18.00, less 2.00: 16.00 back, of which tax
     * 16 × 14 / 114 = 1.9649… -> 1.96 */
    use_taxes(f, "inclusive");
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_refunded(f, "f1", 1600, 200, 0, 18);
    i = line_index(f->res, "f1");
    assert_int_equal(tsr_refund_result_line_tax(f->res, i, &id, &rate, &tax), 1);
    assert_string_equal(id, "food");
    assert_string_equal(rate, "14");
    assert_int_equal(tax, 196);
    assert_int_equal(totals(f).tax, 196);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"fee\":\"2.00\",\"tax\":{\"id\":\"food\",\"rate\":\"14\",\"amount\":"
                           "\"1.96\"},\"points_restored\""));
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"fee\":\"2.00\",\"tax\":\"1.96\",\"clawback\""));
    assert_int_equal(tsr_refund_result_line_tax(f->res, 1, NULL, NULL, NULL), TSR_EINVAL);
}

static void with_tax_added_a_line_gives_back_its_tax_too(void **state)
{
    fixture *f = *state;
    const char *id = "x";
    int64_t tax = -1;
    struct { tsr_refund_totals t; unsigned char guard[8]; } box;

    /* exclusive: f1 cost 18.00 + 2.52 tax = 20.52; less 2.00: 18.52 back,
     * of which tax 18.52 × 14 / 114 = 2.2743… -> 2.27 */
    use_taxes(f, "exclusive");
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_refunded(f, "f1", 1852, 200, 0, 18);
    assert_int_equal(tsr_refund_result_line_tax(f->res, 0, NULL, NULL, &tax), 1);
    assert_int_equal(tax, 227);
    /* f2 alone no longer makes the 30.00 basket: 20.00 now, 18.00 paid,
     * 2.00 withheld (re-priced before tax, as the lines' totals are) */
    assert_int_equal(totals(f).clawback, 200);
    assert_int_equal(totals(f).amount, 1652);

    /* c1 took no rate: no tax in its refund; the kept a1 and f2 lose the
     * pair and the basket: 20.00 + 20.00 now against 16.67 + 18.00 paid */
    refund_ok(f, "[\"c1\",\"f1\"]", EARLY, "");
    assert_refunded(f, "c1", 633, 200, 0, 8);
    assert_int_equal(tsr_refund_result_line_tax(f->res, 0, &id, NULL, &tax), 0);
    assert_null(id);
    assert_int_equal(tax, 0);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL), "\"fee\":\"2.00\",\"tax\":null,"));
    assert_int_equal(totals(f).tax, 227);
    assert_int_equal(totals(f).clawback, 533);
    assert_int_equal(totals(f).amount, 633 + 1852 - 533);

    /* a caller of version 1 has no `tax`: nothing is written past it */
    memset(&box, 0x5a, sizeof box);
    box.t.version = 1;
    assert_int_equal(tsr_refund_result_totals(f->res, &box.t), TSR_OK);
    assert_int_equal((uint64_t)box.t.tax, 0x5a5a5a5a5a5a5a5aull);
    box.t.version = 2;
    assert_int_equal(tsr_refund_result_totals(f->res, &box.t), TSR_OK);
    assert_int_equal(box.t.tax, 227);
}

static void a_receipt_with_a_wrong_tax_is_refused_at_its_path(void **state)
{
    fixture *f = *state;
    char *r, *r2, *r3, *r4;

    use_taxes(f, "exclusive");
    /* the receipt's own sums: a line's tax that totals.tax does not add */
    refund_fails_with_receipt(f, "\"tax\":{\"id\":\"food\",\"rate\":\"14\",\"amount\":\"2.52\"}",
                              "\"tax\":{\"id\":\"food\",\"rate\":\"14\",\"amount\":\"2.62\"}",
                              "receipt.totals.tax", "the tax is 6.71, but the lines add up to 6.81");
    /* with tax added on top, due is the lines' totals and their tax */
    refund_fails_with_receipt(f, "\"tax\":\"6.71\",\"due\":\"67.71\"",
                              "\"tax\":\"6.71\",\"due\":\"61.00\"", "receipt.totals.due",
                              "the amount due is 61.00, but the lines add up to 67.71");
    /* edited consistently, the amount gives it away against the rule set */
    r = replace(f->receipt, "\"tax\":{\"id\":\"food\",\"rate\":\"14\",\"amount\":\"2.52\"}",
                "\"tax\":{\"id\":\"food\",\"rate\":\"14\",\"amount\":\"2.62\"}");
    r2 = replace(r, "\"tax\":\"6.71\",\"due\":\"67.71\"", "\"tax\":\"6.81\",\"due\":\"67.81\"");
    r3 = replace(r2, "\"base\":\"36.00\",\"amount\":\"5.04\"", "\"base\":\"36.00\",\"amount\":\"5.14\"");
    refund_fails(f, r3, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[2].tax.amount",
                 "the receipt says 2.62, the rule set gives 2.52 for this order");
    free(r);
    free(r2);
    free(r3);
    /* another rate for the line */
    refund_fails_with_receipt(f, "\"tax\":{\"id\":\"food\",\"rate\":\"14\"",
                              "\"tax\":{\"id\":\"food\",\"rate\":\"13\"", "receipt.lines[2].tax",
                              "the receipt says tax rate `food` at 13 %, the rule set gives "
                              "`food` at 14 %");
    refund_fails_with_receipt(f, "\"total\":\"8.33\",\"tax\":null",
                              "\"total\":\"8.33\",\"tax\":{\"id\":\"food\",\"rate\":\"14\",\"amount\":\"0.00\"}",
                              "receipt.lines[1].tax", "the receipt says tax rate `food`, the rule "
                              "set gives the line no rate");
    /* the summary a fiscal receipt prints */
    refund_fails_with_receipt(f, "\"base\":\"36.00\"", "\"base\":\"35.00\"",
                              "receipt.taxes[1].base", "the receipt says 35.00, the rule set gives 36.00");
    r = replace(f->receipt, ",{\"id\":\"food\",\"rate\":\"14\",\"base\":\"36.00\",\"amount\":\"5.04\"}", "");
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.taxes[1]",
                 "the receipt lists 1 tax rate; the rule set gives rate `food` too");
    free(r);
    refund_fails_with_receipt(f, "\"taxes\":[", "\"taxes\":[7,", "receipt.taxes[0]",
                              "expected an object");
    refund_fails_with_receipt(f, "\"amount\":\"5.04\"", "\"amount\":\"5.04\",\"base\":\"1.00\"",
                              "receipt.taxes[1].base", "`base` is given twice");
    /* tax keys missing for a rule set with taxes... */
    refund_fails_with_receipt(f, ",\"tax\":{\"id\":\"culture\",\"rate\":\"10\",\"amount\":\"1.67\"}", "",
                              "receipt.lines[0]", "the line has no `tax`, but the rule set has `taxes`");
    refund_fails_with_receipt(f, "\"rate\":\"10\",\"amount\":\"1.67\"}", "\"rate\":\"10\"}",
                              "receipt.lines[0].tax", "the object has no `amount`");
    /* ... and present for one without */
    r4 = dup(f->receipt);
    use_rules(f, default_refunds);
    price(f, family_order);
    refund_fails(f, r4, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.taxes[0]",
                 "the receipt lists taxes, but the rule set has no `taxes`");
    r = replace(r4, "\"taxes\":[{\"id\":\"culture\",\"rate\":\"10\",\"base\":\"16.67\",\"amount\":\"1.67\"},"
                "{\"id\":\"food\",\"rate\":\"14\",\"base\":\"36.00\",\"amount\":\"5.04\"}],", "");
    refund_fails(f, r, "[\"a1\"]", "", TSR_ERECEIPT, "receipt.lines[0]",
                 "the line carries a `tax`, but the rule set has no `taxes`");
    free(r);
    free(r4);
}

/* The totals go into the caller's struct as its version declares it: a
 * version the library does not know gets nothing written, and no byte
 * after the struct is touched. */
static void refund_totals_are_written_as_the_callers_version_says(void **state)
{
    fixture *f = *state;
    struct { tsr_refund_totals t; unsigned char guard[32]; } box;
    unsigned v;
    size_t i;

    refund_ok(f, "[\"f2\"]", EARLY, "");
    memset(&box, 0x5a, sizeof box);
    box.t.version = TSR_REFUND_TOTALS_VERSION;
    assert_int_equal(tsr_refund_result_totals(f->res, &box.t), TSR_OK);
    assert_int_equal(box.t.version, TSR_REFUND_TOTALS_VERSION);
    assert_int_equal(box.t.amount, 1400);
    assert_int_equal(box.t.clawback, 200);
    assert_int_equal(box.t.clawback_returned, 0);
    for (i = 0; i < sizeof box.guard; i++)
        assert_int_equal(box.guard[i], 0x5a);
    for (v = 0; v <= TSR_REFUND_TOTALS_VERSION + 1; v += TSR_REFUND_TOTALS_VERSION + 1) {
        memset(&box, 0x5a, sizeof box);
        box.t.version = v;
        assert_int_equal(tsr_refund_result_totals(f->res, &box.t), TSR_EINVAL);
        assert_int_equal(box.t.version, v);
        assert_int_equal((uint64_t)box.t.amount, 0x5a5a5a5a5a5a5a5aull);
    }
}

/* Options: a version the library does not know is refused with a message
 * that says where to start from; _init gives the defaults of a version. */
static void refund_options_are_versioned(void **state)
{
    fixture *f = *state;
    const char *ids[] = { "f1" };
    tsr_refund_options ro;
    tsr_order *o = NULL;

    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    memset(&ro, 0x5a, sizeof ro);
    assert_int_equal(tsr_refund_options_init(&ro, TSR_REFUND_OPTIONS_VERSION), TSR_OK);
    assert_int_equal(ro.version, TSR_REFUND_OPTIONS_VERSION);
    assert_null(ro.previous_lines);
    assert_int_equal(ro.nprevious_lines, 0);
    assert_true(ro.previous_clawback == TSR_REFUND_CLAWBACK_UNSTATED);
    assert_int_equal(tsr_refund_options_init(&ro, 0), TSR_EINVAL);
    assert_int_equal(tsr_refund_options_init(&ro, TSR_REFUND_OPTIONS_VERSION + 1), TSR_EINVAL);
    assert_int_equal(tsr_refund_options_init(NULL, TSR_REFUND_OPTIONS_VERSION), TSR_EINVAL);

    ro.version = TSR_REFUND_OPTIONS_VERSION + 1;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &ro, &f->err), TSR_EINVAL);
    assert_null(f->res);
    assert_non_null(strstr(f->err.message, "refund options version 2 is not supported"));
    assert_non_null(strstr(f->err.message, "TSR_REFUND_OPTIONS_INIT"));
    ro.version = 0;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &ro, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_refund_options_init(&ro, TSR_REFUND_OPTIONS_VERSION), TSR_OK);
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &ro, &f->err), TSR_OK);
    assert_refunded(f, "f1", 1600, 200, 0, 18);
    tsr_order_free(o);
}

/* ---------------------------------------------------------------------
 * The request's own errors.
 */
static void line_ids_must_be_in_the_order_and_named_once(void **state)
{
    fixture *f = *state;

    refund_fails(f, f->receipt, "[\"a1\",\"zz\"]", "", TSR_EORDER, "lines[1]",
                 "line `zz` is not in the order");
    refund_fails(f, f->receipt, "[\"a1\",\"f1\",\"a1\"]", "", TSR_EORDER, "lines[2]",
                 "line `a1` is named twice");
    refund_fails(f, f->receipt, "[]", "", TSR_EORDER, "lines", "name at least one line");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"lines\":[\"a1\",\"q\"]}", TSR_EORDER,
                 "previous.lines[1]", "line `q` is not in the order");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"lines\":[\"f1\",\"f1\"]}", TSR_EORDER,
                 "previous.lines[1]", "named twice");
}

static void a_line_refunded_before_is_rejected(void **state)
{
    fixture *f = *state;

    refund_ok(f, "[\"f1\",\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"f1\"],\"clawback\":\"2.00\"}");
    assert_rejected(f, "f1", "already refunded");
    /* the basket broke with f1, and that refund withheld 2.00; with f2
     * back too no drink is kept, so it comes back */
    assert_refunded(f, "f2", 1600, 200, 0, 18);
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).clawback_returned, 200);
    assert_int_equal(totals(f).amount, 1800);
}

static void the_request_is_checked_with_paths(void **state)
{
    fixture *f = *state;
    const char *q;

    refund_fails(f, f->receipt, "[\"a1\"]", ",\"lnes\":[]", TSR_EORDER, "lnes",
                 "did you mean `lines`?");
    refund_fails(f, f->receipt, "\"a1\"", "", TSR_EORDER, "lines", "expected a list of line ids");
    refund_fails(f, f->receipt, "[1]", "", TSR_EORDER, "lines[0]", "expected a line id");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"clawback\":\"x\"}", TSR_EORDER,
                 "previous.clawback", "not a money amount");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"clawback\":\"-1.00\"}", TSR_EORDER,
                 "previous.clawback", "`-1.00` is negative");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"\\u001b[2J\":[]}", TSR_EORDER,
                 "previous", "unknown key `?[2J`");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"lins\":[]}", TSR_EORDER,
                 "previous", "unknown key `lins`");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"lines\":{}}", TSR_EORDER,
                 "previous.lines", "expected a list of line ids");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"lines\":[[]]}", TSR_EORDER,
                 "previous.lines[0]", "expected a line id");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":{\"clawback\":{}}", TSR_EORDER,
                 "previous.clawback", "expected a money amount");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"previous\":[]", TSR_EORDER, "previous",
                 "expected an object");
    refund_fails(f, f->receipt, "[{}]", "", TSR_EORDER, "lines[0]", "expected a line id");
    refund_fails(f, f->receipt, "[\"a1\"]", ",\"datetime\":\"x\"", TSR_EORDER, "datetime",
                 "given twice");
    refund_fails(f, "7", "[\"a1\"]", "", TSR_EORDER, "receipt", "expected an object");
    assert_int_equal(refund_with(f, f->receipt, "[\"a1\"]", "2026-06-10", ""), TSR_EORDER);
    assert_string_equal(f->err.path, "datetime");
    /* before the order was placed */
    assert_int_equal(refund_with(f, f->receipt, "[\"a1\"]", "2026-05-01T10:00:00Z", ""), TSR_EORDER);
    assert_non_null(strstr(f->err.message, "before the order's time"));
    /* the order's errors keep their own path under `order` */
    {
        char *bad = replace(f->order, "\"kind\":\"kid\"", "\"kind\":7");
        char *keep = f->order;
        f->order = bad;
        refund_fails(f, f->receipt, "[\"a1\"]", "", TSR_EORDER, "order.items[1].kind", "");
        f->order = keep;
        free(bad);
    }
    q = "{\"order\":{},\"lines\":[]}";
    assert_int_equal(tsr_refund(&f->res, f->rs, q, strlen(q), &f->err), TSR_EORDER);
    assert_non_null(strstr(f->err.message, "has no `receipt`"));
    q = "{\"order\":";
    assert_int_equal(tsr_refund(&f->res, f->rs, q, strlen(q), &f->err), TSR_EORDER);
    assert_non_null(strstr(f->err.message, "not valid JSON"));
    assert_int_equal(tsr_refund(NULL, f->rs, q, strlen(q), &f->err), TSR_EINVAL);
    assert_int_equal(tsr_refund(&f->res, NULL, q, strlen(q), &f->err), TSR_EINVAL);
}

/* ---------------------------------------------------------------------
 * Re-pricing and clawback.
 */
static void a_broken_bundle_is_clawed_back(void **state)
{
    fixture *f = *state;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    const char *json;

    /* the pair: 30.00 for 25.00, 5.00 saved: 3.33 on the adult, 1.67 on
     * the child; the child goes, the adult alone costs 20.00, not 16.67 */
    assert_non_null(strstr(f->receipt, "\"total\":\"16.67\""));
    refund_ok(f, "[\"c1\"]", EARLY, "");
    assert_refunded(f, "c1", 633, 200, 0, 8);
    t = totals(f);
    assert_int_equal(t.clawback, 333);
    assert_int_equal(t.amount, 300);
    json = tsr_refund_result_json(f->res, NULL);
    assert_non_null(strstr(json, "\"reprice\":{\"lines\":[\"a1\",\"f1\",\"f2\"],\"paid\":\"52.67\","
                                 "\"now\":\"56.00\"}"));
}

static void a_broken_threshold_is_clawed_back(void **state)
{
    fixture *f = *state;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;

    /* two drinks reach 30.00 and get 10 %; one alone does not */
    refund_ok(f, "[\"f2\"]", EARLY, "");
    assert_refunded(f, "f2", 1600, 200, 0, 18);
    t = totals(f);
    assert_int_equal(t.clawback, 200);
    assert_int_equal(t.amount, 1400);
}

static void nothing_broken_means_no_clawback(void **state)
{
    fixture *f = *state;

    /* the pair and the basket: refunding both drinks leaves the pair whole */
    refund_ok(f, "[\"f1\",\"f2\"]", EARLY, "");
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).amount, 3200);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"reprice\":{\"lines\":[\"a1\",\"c1\"],\"paid\":\"25.00\",\"now\":\"25.00\"}"));
    /* nothing remains: nothing to re-price */
    refund_ok(f, "[\"a1\",\"c1\",\"f1\",\"f2\"]", EARLY, "");
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).amount, 1467 + 633 + 1600 + 1600);
    assert_null(strstr(tsr_refund_result_json(f->res, NULL), "\"reprice\""));
    /* without reprice nothing is re-priced at all */
    use_rules(f, "refunds: { fee: 2.00 }\n");
    price(f, family_order);
    refund_ok(f, "[\"c1\"]", EARLY, "");
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).amount, 633);
    assert_null(strstr(tsr_refund_result_json(f->res, NULL), "\"reprice\""));
}

/* Two drinks for a threshold: 26.00 and a cheap 4.00 reach the basket's
 * 30.00 together and get 10 % off. */
static const char drinks_order[] =
    "{\"id\":\"A-2\",\"datetime\":\"" ORDER_TIME "\","
    "\"customer\":{\"id\":\"C-1\",\"member\":true},"
    "\"items\":["
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"26.00\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"f3\",\"kind\":\"fnb\",\"price\":\"4.00\",\"event_start\":\"" SHOW "\"}]}";

static void a_refund_that_cannot_pay_for_the_discount_it_breaks_withholds_what_it_pays(void **state)
{
    fixture *f = *state;

    /* By hand.  The receipt: 26.00 + 4.00 = 30.00 reaches min_total 30.00,
     * 10 % off: f1 23.40, f3 3.60 (points: the 27 for 27.00 paid shared as
     * 23 and 4, the larger remainder first, and 5 for the order).
     * f3 back with the 2.00 fee pays 3.60 − 2.00 = 1.60.  f1 kept is priced
     * again alone: 26.00 is under 30.00, no discount, so it now costs 26.00
     * against 23.40 on the receipt: 2.60 owed.  The refund withholds what it
     * can, 1.60 (never below zero), and pays 0.00: refunded, not rejected. */
    price(f, drinks_order);
    assert_non_null(strstr(f->receipt, "\"total\":\"23.40\""));
    assert_non_null(strstr(f->receipt, "\"total\":\"3.60\""));
    refund_ok(f, "[\"f3\"]", EARLY, "");
    assert_refunded(f, "f3", 160, 200, 0, 4);
    assert_int_equal(totals(f).clawback, 160);
    assert_int_equal(totals(f).clawback_returned, 0);
    assert_int_equal(totals(f).amount, 0);
    assert_int_equal(totals(f).points_revoked, 4);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"totals\":{\"amount\":\"0.00\",\"fee\":\"2.00\",\"clawback\":\"1.60\","
                           "\"clawback_returned\":\"0.00\""));
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"reprice\":{\"lines\":[\"f1\"],\"paid\":\"23.40\",\"now\":\"26.00\"}"));
    /* f1 next, with the ledger's 1.60 (the recomputed 2.60 is the most it
     * could be): nothing is kept, the 1.60 comes back with f1's 23.40 −
     * 2.00 = 21.40: 23.00, with its 23 points and the order's 5 */
    refund_ok(f, "[\"f1\"]", EARLY, ",\"previous\":{\"lines\":[\"f3\"],\"clawback\":\"1.60\"}");
    assert_refunded(f, "f1", 2140, 200, 0, 23);
    assert_int_equal(totals(f).clawback_returned, 160);
    assert_int_equal(totals(f).amount, 2300);
    assert_int_equal(totals(f).points_revoked, 28);
    /* 0.00 + 23.00 is what one refund of both pays: 1.60 + 21.40 */
    refund_ok(f, "[\"f1\",\"f3\"]", EARLY, "");
    assert_int_equal(totals(f).amount, 2300);
    assert_int_equal(totals(f).clawback, 0);
    /* the most the request may say is 2.60 (f1 owes 2.60; f3 paid 3.60),
     * and with it the 1.00 never withheld is paid out too: 24.00.  No
     * default is right: left out, the figure is refused, and the caller
     * passes its ledger's. */
    refund_ok(f, "[\"f1\"]", EARLY, ",\"previous\":{\"lines\":[\"f3\"],\"clawback\":\"2.60\"}");
    assert_int_equal(totals(f).clawback_returned, 260);
    assert_int_equal(totals(f).amount, 2400);
    refund_fails(f, f->receipt, "[\"f1\"]", ",\"previous\":{\"lines\":[\"f3\"]}", TSR_EORDER,
                 "previous.clawback", "pass `clawback`, what your records say they withheld");

    /* A bundle: a fee of 7.00 leaves 1.33 of the child (8.33 in the pair),
     * but the adult kept costs 20.00 instead of 16.67: 3.33 owed, 1.33
     * withheld, 0.00 paid */
    use_rules(f, "refunds: { fee: 7.00, reprice: true }\n");
    price(f, family_order);
    refund_ok(f, "[\"c1\"]", EARLY, "");
    assert_refunded(f, "c1", 133, 700, 0, 8);
    assert_int_equal(totals(f).clawback, 133);
    assert_int_equal(totals(f).amount, 0);
    /* the next refund withholds the rest, given what was really withheld:
     * f1 back (18.00 − 7.00 = 11.00) leaves the adult at 20.00 (paid 16.67)
     * and f2 at 20.00 (paid 18.00): 5.33 owed, 1.33 withheld, 4.00 now */
    refund_ok(f, "[\"f1\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"1.33\"}");
    assert_refunded(f, "f1", 1100, 700, 0, 18);
    assert_int_equal(totals(f).clawback, 400);
    assert_int_equal(totals(f).amount, 1100 - 400);
    /* and the pair together breaks nothing: 1.33 + 9.67, nothing owed */
    refund_ok(f, "[\"c1\",\"a1\"]", EARLY, "");
    assert_refunded(f, "c1", 133, 700, 0, 8);
    assert_refunded(f, "a1", 967, 700, 0, 17);
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).amount, 1100);
}

static void a_second_refund_withholds_only_what_is_new(void **state)
{
    fixture *f = *state;

    refund_ok(f, "[\"c1\"]", EARLY, "");
    assert_int_equal(totals(f).clawback, 333);
    /* then f2: the basket breaks too; 3.33 was withheld already */
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.33\"}");
    assert_int_equal(totals(f).clawback, 200);
    assert_int_equal(totals(f).clawback_returned, 0);
    /* 0.00 would withhold the 3.33 again */
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"0.00\"}");
    assert_int_equal(totals(f).clawback, 533);
}

static void one_at_a_time_ends_where_all_at_once_does(void **state)
{
    fixture *f = *state;
    int64_t at_once, first, second;

    /* c1 and a1 together: nothing of the pair remains, nothing is owed */
    refund_ok(f, "[\"c1\",\"a1\"]", EARLY, "");
    at_once = totals(f).amount;
    assert_int_equal(at_once, 633 + 1467);
    assert_int_equal(totals(f).clawback, 0);
    /* c1 first withholds what the adult now costs more; when the adult
     * comes back too, that is paid back */
    refund_ok(f, "[\"c1\"]", EARLY, "");
    first = totals(f).amount;
    assert_int_equal(totals(f).clawback, 333);
    refund_ok(f, "[\"a1\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.33\"}");
    second = totals(f).amount;
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).clawback_returned, 333);
    assert_refunded(f, "a1", 1467, 200, 0, 17);
    assert_int_equal(first + second, at_once);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"clawback\":\"0.00\",\"clawback_returned\":\"3.33\""));
    /* the last lines of the order: everything withheld comes back */
    refund_ok(f, "[\"a1\",\"f1\",\"f2\"]", EARLY,
              ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.33\"}");
    assert_int_equal(totals(f).clawback_returned, 333);
    assert_int_equal(totals(f).amount, 1467 + 1600 + 1600 + 333);
    /* a refund that refunds nothing moves nothing */
    refund_ok(f, "[\"a1\"]", LATE, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.33\"}");
    assert_int_equal(totals(f).clawback_returned, 0);
    assert_int_equal(totals(f).amount, 0);
}

/* ---------------------------------------------------------------------
 * `previous`: the clawback withheld before is recomputed, not trusted.
 */
static void a_forged_previous_clawback_is_refused(void **state)
{
    fixture *f = *state;
    const char *ids[] = { "a1", "f1", "f2" }, *before[] = { "c1" };
    tsr_refund_options opts = TSR_REFUND_OPTIONS_INIT;
    tsr_order *o = NULL;

    /* c1 back withheld 3.33 (the adult kept costs 20.00, not 16.67); a
     * request that says 1000000.00 was withheld would be paid it back */
    refund_fails(f, f->receipt, "[\"a1\",\"f1\",\"f2\"]",
                 ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"1000000.00\"}", TSR_ERECEIPT,
                 "previous.clawback",
                 "the refunds of `previous.lines` withheld at most 3.33: the 3 lines they "
                 "left cost 56.00 re-priced, 52.67 on the receipt (you passed 1000000.00: "
                 "check `previous` against your records)");
    /* a cent above the most is refused too */
    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.34\"}",
                 TSR_ERECEIPT, "previous.clawback", "withheld at most 3.33: the 3 lines they "
                 "left cost 56.00 re-priced, 52.67 on the receipt (you passed 3.34");
    /* the same through the C call */
    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    opts.previous_lines = before;
    opts.nprevious_lines = 1;
    opts.previous_clawback = 100000000;
    f->res = (tsr_refund_result *)&opts;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 3,
                                      EARLY, &opts, &f->err), TSR_ERECEIPT);
    assert_null(f->res);
    assert_string_equal(f->err.path, "previous.clawback");
    assert_non_null(strstr(f->err.message, "withheld at most 3.33: "));
    assert_non_null(strstr(f->err.message, "(you passed 1000000.00: "));
    tsr_order_free(o);
}

static void a_misplaced_previous_clawback_is_refused(void **state)
{
    fixture *f = *state;

    /* c1 and a1 back together left nothing of the pair owed */
    refund_fails(f, f->receipt, "[\"f2\"]",
                 ",\"previous\":{\"lines\":[\"c1\",\"a1\"],\"clawback\":\"3.33\"}", TSR_ERECEIPT,
                 "previous.clawback", "withheld at most 0.00: the 2 lines they left cost "
                                      "36.00 re-priced, 36.00 on the receipt (you passed 3.33");
    /* nothing refunded before, nothing withheld */
    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"clawback\":\"1.00\"}", TSR_ERECEIPT,
                 "previous.clawback", "no line was refunded before (`previous.lines` is empty), "
                                      "so 0.00 was withheld, not 1.00: pass 0.00");
    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"lines\":[],\"clawback\":\"0.01\"}",
                 TSR_ERECEIPT, "previous.clawback", "so 0.00 was withheld, not 0.01");
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[],\"clawback\":\"0.00\"}");
    /* without re-pricing nothing is ever withheld */
    use_rules(f, "refunds: { fee: 2.00 }\n");
    price(f, family_order);
    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.33\"}",
                 TSR_ERECEIPT, "previous.clawback",
                 "the rule set does not re-price (`refunds.reprice` is false), so earlier refunds "
                 "withheld 0.00, not 3.33");
}

/* Gifts: 10 % off when they reach 10000.00 together.  9999.99 and 0.01
 * reach it: g1 gets 1000.00 off and pays 8999.99, g2 pays 0.01.  An adult
 * ticket (20.00) breaks nothing. */
static const char gift_order[] =
    "{\"id\":\"G-1\",\"datetime\":\"" ORDER_TIME "\","
    "\"customer\":{\"id\":\"C-1\",\"member\":false},"
    "\"items\":["
    "{\"id\":\"a1\",\"kind\":\"ticket\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"g1\",\"kind\":\"gift\",\"price\":\"9999.99\",\"event_start\":\"" SHOW "\"},"
    "{\"id\":\"g2\",\"kind\":\"gift\",\"price\":\"0.01\",\"event_start\":\"" SHOW "\"}]}";

/* A refund withholds no more than it pays back, so the refunds of
 * `previous.lines` withheld at most what those lines paid: g2 (0.01) back
 * first breaks the 1000.00 discount and withholds 0.01, and a later
 * request may not say it withheld the 1000.00 that g1 kept owes. */
static void a_clawback_above_what_the_lines_before_paid_is_refused(void **state)
{
    fixture *f = *state;

    use_rules(f, "refunds: { reprice: true }\n");
    price(f, gift_order);
    assert_non_null(strstr(f->receipt, "\"total\":\"8999.99\""));
    refund_ok(f, "[\"g2\"]", EARLY, "");
    assert_int_equal(totals(f).clawback, 1);
    assert_int_equal(totals(f).amount, 0);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"reprice\":{\"lines\":[\"a1\",\"g1\"],\"paid\":\"9019.99\","
                           "\"now\":\"10019.99\"}"));
    refund_fails(f, f->receipt, "[\"g1\"]",
                 ",\"previous\":{\"lines\":[\"g2\"],\"clawback\":\"1000.00\"}", TSR_ERECEIPT,
                 "previous.clawback",
                 "the refunds of `previous.lines` withheld at most 0.01: their 1 line paid 0.01 "
                 "on the receipt, and a refund withholds no more than it pays back (you passed "
                 "1000.00: check `previous` against your records)");
    refund_fails(f, f->receipt, "[\"g1\"]",
                 ",\"previous\":{\"lines\":[\"g2\"],\"clawback\":\"0.02\"}", TSR_ERECEIPT,
                 "previous.clawback", "withheld at most 0.01: their 1 line paid 0.01");
    /* the ledger's 0.01 comes back with g1's 8999.99: the order's 9000.00 */
    refund_ok(f, "[\"g1\"]", EARLY, ",\"previous\":{\"lines\":[\"g2\"],\"clawback\":\"0.01\"}");
    assert_int_equal(totals(f).clawback_returned, 1);
    assert_int_equal(totals(f).amount, 900000);
    /* the 1000.00 g1 owes is the smaller bound after the ticket and g2:
     * they paid 20.01 */
    refund_fails(f, f->receipt, "[\"g1\"]",
                 ",\"previous\":{\"lines\":[\"a1\",\"g2\"],\"clawback\":\"20.02\"}",
                 TSR_ERECEIPT, "previous.clawback", "withheld at most 20.01: their 2 lines paid 20.01");
}

/* What the bounds cannot rule out.  The ticket back first withholds
 * nothing and pays 20.00; g2 back then breaks the discount and withholds
 * 0.01 of the 1000.00 g1 now owes.  For g1, the refunds of a1 and g2 can
 * have withheld up to 20.01 as far as the receipt and the lines show
 * (their lines paid 20.01; g1 owes 1000.00): a request saying 20.01 is
 * accepted and pays 20.00 more than the order paid.  Only the ledger's
 * figure (0.01) is right; this is the trust docs/refunds.md describes. */
static void a_figure_within_the_bounds_can_still_be_above_the_truth(void **state)
{
    fixture *f = *state;
    int64_t step1, step2;

    use_rules(f, "refunds: { reprice: true }\n");
    price(f, gift_order);
    refund_ok(f, "[\"a1\"]", EARLY, "");
    step1 = totals(f).amount;
    assert_int_equal(step1, 2000);
    refund_ok(f, "[\"g2\"]", EARLY, ",\"previous\":{\"lines\":[\"a1\"],\"clawback\":\"0.00\"}");
    step2 = totals(f).amount;
    assert_int_equal(step2, 0);
    assert_int_equal(totals(f).clawback, 1);
    /* the ledger: 0.01; the three refunds pay back the 9020.00 paid */
    refund_ok(f, "[\"g1\"]", EARLY,
              ",\"previous\":{\"lines\":[\"a1\",\"g2\"],\"clawback\":\"0.01\"}");
    assert_int_equal(step1 + step2 + totals(f).amount, 902000);
    /* the most the request may say: 20.01, and 20.00 too much is paid */
    refund_ok(f, "[\"g1\"]", EARLY,
              ",\"previous\":{\"lines\":[\"a1\",\"g2\"],\"clawback\":\"20.01\"}");
    assert_int_equal(step1 + step2 + totals(f).amount, 902000 + 2000);
}

/* An earlier refund that could not pay for what it broke withheld less
 * than the lines it left owe, so any figure from 0 to the recomputed one
 * may be the caller's true record and is accepted; a smaller one only
 * makes this refund withhold more or return less. */
static void a_smaller_previous_clawback_is_accepted_and_can_only_lower_the_payout(void **state)
{
    fixture *f = *state;
    static const char *const lines[] = { "[\"f2\"]", "[\"a1\"]", "[\"a1\",\"f1\",\"f2\"]" };
    /* c1 back left 3.33 owed.  With W withheld before: f2 back leaves 5.33
     * owed (a1 3.33, f1 2.00), so it withholds 5.33 − W of its 16.00; a1
     * back leaves the basket whole, 0.00 owed, so it returns W with its
     * 14.67; the last three lines return W with 14.67 + 16.00 + 16.00 */
    static const int64_t paid[] = { 1600, 1467, 4667 }, owed[] = { 533, 0, 0 };
    static const int64_t withheld[] = { 0, 1, 100, 200, 332, 333 };
    char extra[128];
    size_t k, i;
    int64_t w, last;

    for (k = 0; k < 3; k++) {
        last = -1;
        for (i = 0; i < sizeof withheld / sizeof *withheld; i++) {
            w = withheld[i];
            snprintf(extra, sizeof extra, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"%d.%02d\"}",
                     (int)(w / 100), (int)(w % 100));
            refund_ok(f, lines[k], EARLY, extra);
            assert_int_equal(totals(f).amount, paid[k] - owed[k] + w);
            assert_int_equal(totals(f).clawback, owed[k] > w ? owed[k] - w : 0);
            assert_int_equal(totals(f).clawback_returned, owed[k] < w ? w - owed[k] : 0);
            /* never more than with the recomputed figure */
            assert_true(totals(f).amount <= paid[k] - owed[k] + 333);
            assert_true(totals(f).amount > last);
            last = totals(f).amount;
        }
        /* left out, it is refused: no figure is right for every history */
        refund_fails(f, f->receipt, lines[k], ",\"previous\":{\"lines\":[\"c1\"]}", TSR_EORDER,
                     "previous.clawback", "may have withheld a clawback");
    }
}

static void the_previous_clawback_is_required_when_something_can_have_been_withheld(void **state)
{
    fixture *f = *state;
    const char *ids[] = { "f2" }, *before[] = { "c1" };
    tsr_refund_options opts = TSR_REFUND_OPTIONS_INIT;
    tsr_order *o = NULL;
    char *stated;

    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"3.33\"}");
    stated = dup(tsr_refund_result_json(f->res, NULL));
    assert_int_equal(totals(f).clawback, 200);
    /* with re-pricing and lines refunded before, no default is right (the
     * most overpays after a capped refund, 0 withholds twice): left out is
     * an error that says what to pass */
    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"lines\":[\"c1\"]}", TSR_EORDER,
                 "previous.clawback",
                 "the refunds of `previous.lines` may have withheld a clawback, and this refund "
                 "settles against it: pass `clawback`, what your records say they withheld (the "
                 "sum of their `totals.clawback` minus their `totals.clawback_returned`)");
    /* with nothing refunded before it may be left out and is 0 */
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[]}");
    assert_int_equal(totals(f).clawback, 200);
    /* the C call: the figure, or TSR_REFUND_CLAWBACK_UNSTATED, which
     * TSR_REFUND_OPTIONS_INIT sets */
    assert_true(opts.previous_clawback == TSR_REFUND_CLAWBACK_UNSTATED);
    tsr_refund_result_free(f->res);
    f->res = NULL;
    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    opts.previous_lines = before;
    opts.nprevious_lines = 1;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_EORDER);
    assert_null(f->res);
    assert_string_equal(f->err.path, "previous.clawback");
    assert_non_null(strstr(f->err.message, "pass `clawback`"));
    opts.previous_clawback = 333;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_OK);
    assert_string_equal(tsr_refund_result_json(f->res, NULL), stated);
    tsr_refund_result_free(f->res);
    f->res = NULL;
    /* 0 is a figure like any other: nothing withheld before, so f2
     * withholds all 5.33 the kept lines owe */
    opts.previous_clawback = 0;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_OK);
    assert_int_equal(totals(f).clawback, 533);
    assert_int_equal(totals(f).amount, 1600 - 533);
    tsr_refund_result_free(f->res);
    f->res = NULL;
    opts.previous_clawback = 334;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_ERECEIPT);
    assert_non_null(strstr(f->err.message, "withheld at most 3.33: "));
    opts.previous_clawback = -1;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_EINVAL);
    assert_string_equal(f->err.path, "previous.clawback");
    /* no previous lines: unstated is 0 */
    opts.previous_clawback = TSR_REFUND_CLAWBACK_UNSTATED;
    opts.nprevious_lines = 0;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_OK);
    assert_int_equal(totals(f).clawback, 200);
    tsr_refund_result_free(f->res);
    f->res = NULL;
    tsr_order_free(o);
    /* without re-pricing nothing can have been withheld: left out is 0 */
    use_rules(f, "refunds: { fee: 2.00 }\n");
    price(f, family_order);
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"]}");
    assert_int_equal(totals(f).amount, 1600);
    tsr_refund_result_free(f->res);
    f->res = NULL;
    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    opts.nprevious_lines = 1;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_OK);
    assert_int_equal(totals(f).amount, 1600);
    assert_int_equal(totals(f).clawback, 0);
    tsr_order_free(o);
    free(stated);
}

static void previous_lines_must_be_lines_of_the_receipt_once(void **state)
{
    fixture *f = *state;
    const char *ids[] = { "f2" }, *unknown[] = { "c1", "t9" }, *twice[] = { "c1", "a1", "c1" };
    tsr_refund_options opts = TSR_REFUND_OPTIONS_INIT;
    tsr_order *o = NULL;

    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"lines\":[\"t9\"],\"clawback\":\"0.00\"}",
                 TSR_EORDER, "previous.lines[0]", "line `t9` is not in the order");
    refund_fails(f, f->receipt, "[\"f2\"]", ",\"previous\":{\"lines\":[\"c1\",\"c1\"]}", TSR_EORDER,
                 "previous.lines[1]", "line `c1` is named twice");
    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    opts.previous_clawback = TSR_REFUND_CLAWBACK_UNSTATED;
    opts.previous_lines = unknown;
    opts.nprevious_lines = 2;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "previous.lines[1]");
    opts.previous_lines = twice;
    opts.nprevious_lines = 3;
    assert_int_equal(tsr_refund_order(&f->res, f->rs, o, f->receipt, strlen(f->receipt), ids, 1,
                                      EARLY, &opts, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "previous.lines[2]");
    assert_null(f->res);
    tsr_order_free(o);
}

/* Refund the order's lines in steps, in every order and grouping, keeping
 * a ledger as docs/refunds.md asks (lines refunded, clawback withheld net)
 * and passing it as `previous`.  Each refund pays back at most what the
 * receipt says its lines paid plus the clawback it returns, which is at
 * most the ledger's figure, which is at most the most: what the lines kept
 * owe or what the lines refunded before paid, whichever is less.  A figure
 * above that is refused, and so is none.  At every step all refunds
 * together pay back at most what the refunded lines paid and at least what
 * one refund of the same lines does, exactly that when no step withheld
 * less than was owed (capped at what it paid back); at the end exactly
 * what one refund of every line pays, nothing held.
 *
 * Beside the ledger, the same steps each stating the most they may (any
 * figure in between pays back in between): what those refunds pay back in
 * total, and by how much it exceeds what was paid. */
typedef struct ledger {
    const char *const *ids;     /* the order's lines */
    size_t n;
    int64_t totals[8];          /* and their totals on the receipt */
    int64_t at_once[256];       /* one refund of the lines of a mask; -1: not yet */
    char previous[256];         /* "\"c1\",\"a1\"" */
    unsigned mask;              /* the lines refunded so far */
    int64_t withheld;           /* Σ clawback − Σ clawback_returned */
    int64_t owed;               /* what the lines kept owe, re-priced */
    int64_t paid_back, paid;    /* by the refunds; what their lines paid */
    size_t capped;              /* steps that withheld less than was owed */
    int64_t most_paid_back;     /* by the refunds each stating the most */
    int64_t over;               /* the most that exceeded what was paid, so far */
} ledger;

/* Of every ordered grouping of an order's lines. */
typedef struct groupings {
    size_t count;               /* groupings */
    size_t capped;              /* with a step capped */
    size_t over;                /* where refunds stating the most pay back more
                                   than their lines paid, at some step */
    int64_t most_over;          /* by at most */
    size_t over_at_end;         /* more than the order paid, in the end */
    size_t above;               /* where they pay back more than the ledger's */
    int64_t most_above;         /* by at most */
} groupings;

/* The receipt's line totals, in the order of `ids`. */
static void receipt_totals(const fixture *f, ledger *l)
{
    tsr_result *r = NULL;
    size_t i, k;

    assert_int_equal(tsr_evaluate_text(&r, f->rs, f->order, strlen(f->order), NULL, NULL), TSR_OK);
    for (k = 0; k < l->n; k++) {
        l->totals[k] = -1;
        for (i = 0; i < tsr_result_line_count(r); i++)
            if (strcmp(tsr_result_line_id(r, i), l->ids[k]) == 0)
                l->totals[k] = tsr_result_line_total(r, i);
        assert_true(l->totals[k] >= 0);
    }
    tsr_result_free(r);
}

/* "12.34" after `key` in the refund's JSON, in cents; 0 when absent. */
static int64_t json_cents(const char *json, const char *key)
{
    const char *at = strstr(json, key);
    long long units = 0, cents = 0;

    if (!at)
        return 0;
    assert_int_equal(sscanf(at + strlen(key), "\"%lld.%2lld\"", &units, &cents), 2);
    return units * 100 + cents;
}

/* What the lines this refund kept owe: its `reprice` now − paid, ≥ 0. */
static int64_t owed_after(const fixture *f)
{
    const char *json = tsr_refund_result_json(f->res, NULL);
    const char *at = strstr(json, "\"reprice\":");
    int64_t gap;

    if (!at)
        return 0;
    gap = json_cents(at, "\"now\":") - json_cents(at, "\"paid\":");
    return gap > 0 ? gap : 0;
}

static void lines_of(const ledger *l, unsigned mask, char *buf, size_t size)
{
    size_t i;

    snprintf(buf, size, "[");
    for (i = 0; i < l->n; i++)
        if (mask >> i & 1)
            snprintf(buf + strlen(buf), size - strlen(buf), "%s\"%s\"", buf[1] ? "," : "",
                     l->ids[i]);
    snprintf(buf + strlen(buf), size - strlen(buf), "]");
}

/* One refund of the lines of `mask`, nothing refunded before. */
static int64_t at_once(fixture *f, ledger *l, unsigned mask)
{
    char lines[256];

    if (l->at_once[mask] < 0) {
        lines_of(l, mask, lines, sizeof lines);
        refund_ok(f, lines, EARLY, "");
        l->at_once[mask] = totals(f).amount;
    }
    return l->at_once[mask];
}

static void previous_with(char *buf, size_t size, const ledger *l, int64_t clawback)
{
    if (clawback < 0)
        snprintf(buf, size, ",\"previous\":{\"lines\":[%s]}", l->previous);
    else
        snprintf(buf, size, ",\"previous\":{\"lines\":[%s],\"clawback\":\"%lld.%02lld\"}",
                 l->previous, (long long)(clawback / 100), (long long)(clawback % 100));
}

/* Refund the lines ids[group[0..n)] and check and record what was paid. */
static void refund_step(fixture *f, ledger *l, const size_t *group, size_t n)
{
    char lines[256], extra[400], *json;
    int64_t paid = 0, most, at_zero, at_most, owed;
    unsigned mask = 0;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    size_t i;

    for (i = 0; i < n; i++) {
        mask |= 1u << group[i];
        paid += l->totals[group[i]];
    }
    lines_of(l, mask, lines, sizeof lines);
    most = l->owed < l->paid ? l->owed : l->paid;
    /* left out: refused once lines were refunded before, else 0 */
    previous_with(extra, sizeof extra, l, -1);
    if (l->previous[0]) {
        assert_int_equal(refund_with(f, f->receipt, lines, EARLY, extra), TSR_EORDER);
        assert_string_equal(f->err.path, "previous.clawback");
    } else {
        refund_ok(f, lines, EARLY, extra);
    }
    /* a cent above the most is refused */
    previous_with(extra, sizeof extra, l, most + 1);
    assert_int_equal(refund_with(f, f->receipt, lines, EARLY, extra), TSR_ERECEIPT);
    assert_string_equal(f->err.path, "previous.clawback");
    /* 0.00 and the most are accepted: the least and the most it pays */
    previous_with(extra, sizeof extra, l, 0);
    refund_ok(f, lines, EARLY, extra);
    at_zero = totals(f).amount;
    previous_with(extra, sizeof extra, l, most);
    refund_ok(f, lines, EARLY, extra);
    json = dup(tsr_refund_result_json(f->res, NULL));
    at_most = totals(f).amount;
    assert_true(at_most <= paid + most);
    /* the ledger's figure: the same refund when it is the most, else one
     * that pays back no more, and less by no more than the difference */
    previous_with(extra, sizeof extra, l, l->withheld);
    refund_ok(f, lines, EARLY, extra);
    if (l->withheld == most)
        assert_string_equal(tsr_refund_result_json(f->res, NULL), json);
    free(json);
    for (i = 0; i < n; i++) {
        assert_int_equal(tsr_refund_result_line_status(f->res, i), TSR_REFUND_REFUNDED);
        snprintf(l->previous + strlen(l->previous), sizeof l->previous - strlen(l->previous),
                 "%s\"%s\"", l->previous[0] ? "," : "", l->ids[group[i]]);
    }
    t = totals(f);
    assert_true(at_zero <= t.amount && t.amount <= at_most);
    assert_true(at_most - t.amount <= most - l->withheld);
    /* the invariant of one refund */
    assert_true(t.amount >= 0 && t.clawback >= 0 && t.clawback_returned >= 0);
    assert_true(t.amount <= paid + t.clawback_returned);
    assert_true(t.clawback_returned <= l->withheld && l->withheld <= most);
    owed = owed_after(f);
    if (owed - l->withheld > t.clawback)
        l->capped++;   /* could not withhold all that was newly owed */
    l->withheld += t.clawback - t.clawback_returned;
    l->owed = owed;
    l->mask |= mask;
    l->paid_back += t.amount;
    l->paid += paid;
    l->most_paid_back += at_most;
    if (l->most_paid_back - l->paid > l->over)
        l->over = l->most_paid_back - l->paid;
    /* and of the refunds so far */
    assert_true(l->withheld >= 0 && l->withheld <= l->owed && l->withheld <= l->paid);
    assert_true(l->paid_back <= l->paid);
    assert_true(l->paid_back >= at_once(f, l, l->mask));
    if (!l->capped) {
        assert_int_equal(l->paid_back, at_once(f, l, l->mask));
        /* the ledger holds the most: nothing else can be said */
        assert_int_equal(l->most_paid_back, l->paid_back);
    }
}

/* Every ordered grouping of the order's n lines: step[i] is the refund
 * (0, 1, ...) that returns line i; the steps used are 0..k-1. */
static void every_ordered_grouping(fixture *f, const char *const *ids, size_t n, groupings *g)
{
    size_t step[8] = { 0 }, i, s, k;
    ledger base;

    memset(g, 0, sizeof *g);
    memset(&base, 0, sizeof base);
    base.ids = ids;
    base.n = n;
    for (i = 0; i < sizeof base.at_once / sizeof *base.at_once; i++)
        base.at_once[i] = -1;
    receipt_totals(f, &base);

    for (;;) {
        /* the steps used must be 0..k-1 with none skipped */
        size_t used = 0;
        for (i = 0; i < n; i++)
            used |= (size_t)1 << step[i];
        if ((used & (used + 1)) == 0) {
            ledger l = base;
            for (k = 0; (used >> k) & 1; k++) {
                size_t group[8], m = 0;
                for (i = 0; i < n; i++)
                    if (step[i] == k)
                        group[m++] = i;
                refund_step(f, &l, group, m);
            }
            assert_int_equal(l.withheld, 0);
            assert_int_equal(l.paid_back, at_once(f, &l, l.mask));
            /* stating more than the ledger only matters after a capped step */
            assert_true((l.over == 0 && l.most_paid_back == l.paid_back) || l.capped > 0);
            g->count++;
            g->capped += l.capped > 0;
            g->over += l.over > 0;
            g->over_at_end += l.most_paid_back > l.paid;
            g->above += l.most_paid_back > l.paid_back;
            if (l.most_paid_back - l.paid_back > g->most_above)
                g->most_above = l.most_paid_back - l.paid_back;
            if (l.over > g->most_over)
                g->most_over = l.over;
            base = l;   /* keep the refunds at once found */
            base.mask = 0;
            base.previous[0] = '\0';
            base.withheld = base.owed = base.paid_back = base.paid = 0;
            base.most_paid_back = base.over = 0;
            base.capped = 0;
        }
        /* next assignment, as an n-digit number in base n */
        for (s = 0; s < n && ++step[s] == n; s++)
            step[s] = 0;
        if (s == n)
            return;
    }
}

static void show(const char *what, const groupings *g)
{
    print_message("%s: %zu groupings, %zu with a capped step; stating the most: %zu pay back "
                  "more than the ledger's figure (by up to %lld.%02lld), %zu more than their "
                  "lines paid (by up to %lld.%02lld), %zu more than the order paid\n", what,
                  g->count, g->capped, g->above, (long long)(g->most_above / 100),
                  (long long)(g->most_above % 100), g->over, (long long)(g->most_over / 100),
                  (long long)(g->most_over % 100), g->over_at_end);
}

/* Every ordered grouping of the lines `ids` of `order`, under `refunds`. */
static void group(fixture *f, const char *what, const char *refunds, const char *order,
                  const char *const *ids, size_t n, groupings *g)
{
    use_rules(f, refunds);
    price(f, order);
    every_ordered_grouping(f, ids, n, g);
    show(what, g);
}

/* Some groupings have a capped step, and in each of them stating the most
 * pays back more than the ledger's figure, by up to `most_above`, never
 * more than the lines paid. */
static void assert_capped_but_never_over(const groupings *g, size_t count, int64_t most_above)
{
    assert_int_equal(g->count, count);
    assert_true(g->capped > 0);
    assert_int_equal(g->above, g->capped);
    assert_int_equal(g->most_above, most_above);
    assert_int_equal(g->over, 0);
}

static void refunds_in_any_order_and_grouping_pay_what_one_refund_does(void **state)
{
    fixture *f = *state;
    static const char *const four[] = { "a1", "c1", "f1", "f2" };
    static const char *const gifts[] = { "a1", "g1", "g2" };
    groupings g;

    /* the pair and the basket: 75 ways to return four lines; with a fee of
     * 2.00 every refund can pay for what it breaks, so the most is always
     * the ledger's figure */
    group(f, "fee 2.00", default_refunds, family_order, four, 4, &g);
    assert_int_equal(g.count, 75);
    assert_int_equal(g.capped, 0);
    assert_int_equal(g.above, 0);
    /* a fee of 7.00 leaves 1.33 of the child, who breaks the pair's 3.33:
     * the child's refund alone is capped.  After it, a request stating the
     * most is paid more than with the ledger's figure (up to 2.00), but
     * the fees kept cover it: never more than the lines paid. */
    group(f, "fee 7.00", "refunds: { fee: 7.00, reprice: true }\n", family_order, four, 4, &g);
    assert_capped_but_never_over(&g, 75, 200);
    /* a fee of 15.00: the child pays back nothing, the others 1.67 and 3.00 */
    group(f, "fee 15.00", "refunds: { fee: 15.00, reprice: true }\n", family_order, four, 4,
          &g);
    assert_capped_but_never_over(&g, 75, 333);
    /* the gifts and a ticket, no fee: 13 ways to return three lines.  One
     * pays back more than the order paid when each step states the most:
     * a1, then g2, then g1 (a_figure_within_the_bounds_can_still_be_above_
     * the_truth), by 20.00 */
    group(f, "gifts", "refunds: { reprice: true }\n", gift_order, gifts, 3, &g);
    assert_int_equal(g.count, 13);
    assert_true(g.capped > 0);
    assert_int_equal(g.above, 1);
    assert_int_equal(g.over, 1);
    assert_int_equal(g.over_at_end, 1);
    assert_int_equal(g.most_over, 2000);
}

/* The same over two pairs and the basket: 4683 ways to return six lines,
 * some seconds of work, so ctest runs it apart (unit.refund.six-lines,
 * label slow) and `ctest -L unit` stays quick. */
static void six_lines_in_any_order_and_grouping_pay_what_one_refund_does(void **state)
{
    fixture *f = *state;
    static const char *const six[] = { "a1", "c1", "a2", "c2", "f1", "f2" };
    char *order;
    groupings g;

    order = replace(family_order, "\"items\":[",
                    "\"items\":[{\"id\":\"a2\",\"kind\":\"ticket\",\"event_start\":\"" SHOW "\"},"
                    "{\"id\":\"c2\",\"kind\":\"kid\",\"event_start\":\"" SHOW "\"},");
    group(f, "six lines, fee 2.00", default_refunds, order, six, 6, &g);
    assert_int_equal(g.count, 4683);
    assert_int_equal(g.capped, 0);
    assert_int_equal(g.above, 0);
    free(order);
}

static void reprice_keeps_the_original_time_and_codes(void **state)
{
    fixture *f = *state;
    char *order;

    /* a June code takes 1.00 off each ticket; refunded in July, the
     * tickets that remain are re-priced as of the order, code and all */
    {
        char *rules = replace(base_rules, "discounts:\n",
                              "discounts:\n  - { id: june-tickets, requires: june, priority: 200, "
                              "for: 'item.kind in [\"ticket\", \"kid\"]', amount: 1.00 }\n");
        char text[4096];
        snprintf(text, sizeof text, "%spromo_codes: [ { id: june, code: JUNE, valid: { until: "
                                    "2026-06-30 } } ]\nrefunds: { fee: 0.00, reprice: true }\n", rules);
        tsr_ruleset_free(f->rs);
        assert_int_equal(tsr_ruleset_load_string(&f->rs, text, strlen(text), NULL, NULL, &f->err),
                         TSR_OK);
        free(rules);
    }
    order = replace(family_order, "\"items\":[", "\"promo_codes\":[\"june\"],\"items\":[");
    price(f, order);
    free(order);
    assert_non_null(strstr(f->receipt, "{\"id\":\"june-tickets\",\"amount\":\"1.00\"}"));
    refund_ok(f, "[\"f1\",\"f2\"]", "2026-07-05T10:00:00+02:00", "");
    assert_int_equal(totals(f).clawback, 0);
    assert_non_null(strstr(tsr_refund_result_json(f->res, NULL),
                           "\"reprice\":{\"lines\":[\"a1\",\"c1\"],\"paid\":\"23.00\",\"now\":\"23.00\"}"));
}

/* ---------------------------------------------------------------------
 * The §7 case hook.
 */
static void ruletest_hook_runs_and_compares(void **state)
{
    fixture *f = *state;
    static const char yaml[] =
        "refund: { lines: [c1, f1], datetime: \"" EARLY "\" }\n"
        "expect:\n"
        "  to: account_credit\n"
        "  totals: { amount: \"19.99\", clawback: 5.33, points_revoked: 26 }\n"
        "  lines: { c1: { status: refunded, amount: 6.33 }, f1: { status: rejected, why: nope } }\n";
    tsr_arena arena;
    tsr_ynode *root;
    tsr_order *o = NULL;
    tsr_result *res = NULL;
    tsr_buf diff;
    const tsr_ynode *refund, *expect;

    tsr__arena_init(&arena, &f->rs->alloc, 4096);
    assert_int_equal(tsr__yaml_parse(&root, yaml, strlen(yaml), "t.yaml", NULL, &arena, &f->err), TSR_OK);
    refund = tsr__ymap_get(root, "refund");
    expect = tsr__ymap_get(root, "expect");
    assert_int_equal(tsr__ruletest_refund_check(refund, expect, f->rs, "t.yaml", &f->err), TSR_OK);
    assert_int_equal(tsr_order_new(&o, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, f->order, strlen(f->order), &f->err), TSR_OK);
    assert_int_equal(tsr_evaluate(&res, f->rs, o, NULL, &f->err), TSR_OK);
    tsr__buf_init(&diff, &f->rs->alloc);
    assert_int_equal(tsr__ruletest_refund_case(f->rs, o, res, refund, expect, &diff), TSR_OK);
    assert_non_null(diff.data);
    assert_string_equal(diff.data,
        "  refund.totals.amount: expected \"19.99\", got \"17.00\"\n"
        "  refund.lines.f1.status: expected rejected, got refunded\n"
        "  refund.lines.f1.why: expected a reason containing \"nope\", got none (the line was refunded)\n");
    tsr__buf_free(&diff);
    tsr_result_free(res);
    tsr_order_free(o);
    tsr__arena_free(&arena);
}

static void ruletest_hook_checks_the_shape(void **state)
{
    fixture *f = *state;
    static const struct { const char *yaml, *message; int line, col; } cases[] = {
        { "refund: { lines: [t1] }\n", "`refund` needs `datetime`", 1, 9 },
        { "refund: { lines: t1, datetime: \"" EARLY "\" }\n", "refund.lines must be a list", 1, 18 },
        { "refund: { lines: [t1], datetime: tomorrow }\n", "refund.datetime must be ISO 8601", 1, 34 },
        { "refund: { lines: [t1], datetime: \"" EARLY "\", line: 1 }\n", "did you mean `lines`?", 1, 63 },
        { "refund: { lines: [t1], datetime: \"" EARLY "\" }\nexpect: { totals: { amount: x } }\n",
          "expect.refund.totals.amount must be a money amount", 2, 29 },
        { "refund: { lines: [t1], datetime: \"" EARLY "\" }\nexpect: { lines: { t1: { status: ok } } }\n",
          "is `refunded` or `rejected`", 2, 34 },
        { "refund: { lines: [t1], datetime: \"" EARLY "\" }\nexpect: { error: x, to: account_credit }\n",
          "nothing else in expect.refund", 2, 18 },
        { "expect: { to: account_credit }\n", "needs a `refund:` in the case", 1, 9 },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tsr_arena arena;
        tsr_ynode *root;
        tsr__arena_init(&arena, &f->rs->alloc, 4096);
        assert_int_equal(tsr__yaml_parse(&root, cases[i].yaml, strlen(cases[i].yaml), "t.yaml",
                                         NULL, &arena, &f->err), TSR_OK);
        assert_int_equal(tsr__ruletest_refund_check(tsr__ymap_get(root, "refund"),
                                                    tsr__ymap_get(root, "expect"), f->rs, "t.yaml",
                                                    &f->err), TSR_ESCHEMA);
        if (!strstr(f->err.message, cases[i].message) || f->err.line != cases[i].line ||
            f->err.column != cases[i].col)
            fail_msg("case %zu: %d:%d: %s", i, f->err.line, f->err.column, f->err.message);
        assert_string_equal(f->err.file, "t.yaml");
        tsr__arena_free(&arena);
    }
}

/* ---------------------------------------------------------------------
 * Memory.
 */
static void allocation_failures_fail_cleanly(void **state)
{
    fixture *f = *state;
    counting c = { .fail_once = true };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs;
    char *q = request(f, f->receipt, "[\"c1\",\"f1\"]", EARLY,
                      ",\"previous\":{\"lines\":[\"f2\"],\"clawback\":\"2.00\"}");
    size_t n, live;

    opts.allocator = &hook;
    rs = load_with(default_refunds, &opts);
    live = c.live;
    for (n = 1;; n++) {
        tsr_refund_result *res = NULL;
        int rc;
        c.calls = 0;
        c.fail_at = n;
        rc = tsr_refund(&res, rs, q, strlen(q), &f->err);
        if (rc != TSR_OK && rc != TSR_ENOMEM)
            fail_msg("allocation %zu: %d %s: %s", n, rc, f->err.path, f->err.message);
        if (rc != TSR_OK) {
            assert_null(res);
            assert_int_equal(f->err.code, TSR_ENOMEM);
        } else if (!tsr_refund_result_json(res, NULL)) {
            rc = TSR_ENOMEM;    /* the JSON is built on demand: its failure is its own */
        }
        c.fail_at = 0;
        tsr_refund_result_free(res);
        assert_int_equal(c.live, live);
        if (rc == TSR_OK)
            break;
    }
    assert_true(n > 10);
    free(q);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(a_line_in_time_is_refunded_less_the_fee),
        T(a_late_refund_is_rejected_with_the_failing_condition),
        T(a_used_ticket_is_rejected_naming_the_first_false_part),
        T(every_line_is_rejected_without_a_refunds_section),
        T(allowed_may_be_left_out),
        T(a_fee_expression_sees_the_line_and_the_refund_time),
        T(a_fee_above_what_was_paid_keeps_only_what_was_paid),
        T(a_free_line_is_refunded_with_nothing_to_pay_back),
        T(a_fee_without_value_or_below_zero_rejects_the_line),
        T(a_fee_that_overflows_names_the_rule_and_the_line),
        T(redeemed_points_come_back_and_earned_ones_go),
        T(order_points_go_with_the_last_line),
        T(money_goes_where_the_rule_set_says),
        T(the_json_identifies_what_was_refunded),
        T(accessors_are_null_safe),
        T(an_order_without_id_refunds_with_a_null_order),
        T(a_receipt_of_another_rule_set_or_version_is_refused),
        T(a_receipt_of_another_order_is_refused),
        T(missing_extra_and_reordered_lines_are_refused),
        T(a_receipt_with_a_line_more_or_less_is_refused),
        T(an_edited_amount_is_refused),
        T(a_receipt_priced_by_changed_rules_is_refused),
        T(a_malformed_receipt_is_refused_at_its_path),
        T(the_low_level_call_checks_a_bare_receipt),
        T(refund_totals_are_written_as_the_callers_version_says),
        T(a_refund_reports_the_tax_its_amount_contains),
        T(with_tax_added_a_line_gives_back_its_tax_too),
        T(a_receipt_with_a_wrong_tax_is_refused_at_its_path),
        T(refund_options_are_versioned),
        T(line_ids_must_be_in_the_order_and_named_once),
        T(a_line_refunded_before_is_rejected),
        T(the_request_is_checked_with_paths),
        T(a_broken_bundle_is_clawed_back),
        T(a_broken_threshold_is_clawed_back),
        T(nothing_broken_means_no_clawback),
        T(a_refund_that_cannot_pay_for_the_discount_it_breaks_withholds_what_it_pays),
        T(a_second_refund_withholds_only_what_is_new),
        T(one_at_a_time_ends_where_all_at_once_does),
        T(a_forged_previous_clawback_is_refused),
        T(a_misplaced_previous_clawback_is_refused),
        T(a_clawback_above_what_the_lines_before_paid_is_refused),
        T(a_figure_within_the_bounds_can_still_be_above_the_truth),
        T(a_smaller_previous_clawback_is_accepted_and_can_only_lower_the_payout),
        T(the_previous_clawback_is_required_when_something_can_have_been_withheld),
        T(previous_lines_must_be_lines_of_the_receipt_once),
        T(refunds_in_any_order_and_grouping_pay_what_one_refund_does),
        T(six_lines_in_any_order_and_grouping_pay_what_one_refund_does),
        T(reprice_keeps_the_original_time_and_codes),
        T(ruletest_hook_runs_and_compares),
        T(ruletest_hook_checks_the_shape),
        T(allocation_failures_fail_cleanly),
#undef T
    };
    /* `test_refund NAME` runs the cases NAME matches (a * wildcard) alone;
     * `test_refund --skip NAME` all but those */
    if (argc > 2 && strcmp(argv[1], "--skip") == 0)
        cmocka_set_skip_filter(argv[2]);
    else if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
