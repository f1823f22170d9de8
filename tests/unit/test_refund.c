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
#include <cmocka.h>

#include "refund.h"

/* Prices: adult ticket 20.00, child ticket 10.00; the pair bundle sells one
 * of each for 25.00; fnb lines carry their price and get 10 % off when they
 * reach 30.00 together.  1 point per full 1.00 paid, 5 flat points per
 * order; a point is worth 0.10. */
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

    price(f, paid_with_points);
    refund_ok(f, "[\"f1\",\"f2\"]", EARLY, "");
    t = totals(f);
    assert_int_equal(t.points_restored, 50);
    assert_int_equal(t.order_points_revoked, 5);     /* the flat `bonus` */
    assert_int_equal(t.points_revoked, 9 + 6 + 5);
    /* in two refunds: the second takes them */
    refund_ok(f, "[\"f1\"]", EARLY, "");
    assert_int_equal(totals(f).order_points_revoked, 0);
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"f1\"]}");
    assert_int_equal(totals(f).order_points_revoked, 5);
    assert_int_equal(totals(f).points_revoked, 6 + 5);
    /* not when the last line is rejected */
    refund_ok(f, "[\"f2\"]", LATE, ",\"previous\":{\"lines\":[\"f1\"]}");
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
    assert_int_equal(ro.previous_clawback, 0);
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

    refund_ok(f, "[\"f1\",\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"f1\"],\"clawback\":\"0.00\"}");
    assert_rejected(f, "f1", "already refunded");
    /* the basket broke with f1, and that refund withheld it: nothing new */
    assert_refunded(f, "f2", 1600, 200, 0, 18);
    assert_int_equal(totals(f).clawback, 0);
    assert_int_equal(totals(f).amount, 1600);
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

static void the_clawback_never_exceeds_the_refund(void **state)
{
    fixture *f = *state;

    /* a fee of 7.00 leaves 1.33 of the child; the 3.33 owed is capped there */
    use_rules(f, "refunds: { fee: 7.00, reprice: true }\n");
    price(f, family_order);
    refund_ok(f, "[\"c1\"]", EARLY, "");
    assert_refunded(f, "c1", 133, 700, 0, 8);
    assert_int_equal(totals(f).clawback, 133);
    assert_int_equal(totals(f).amount, 0);
    /* the next refund withholds the rest, given what was withheld */
    refund_ok(f, "[\"f1\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"],\"clawback\":\"1.33\"}");
    /* adult 20.00 (paid 16.67) + f2 20.00 (paid 18.00) now: 5.33 owed, 1.33 withheld */
    assert_int_equal(totals(f).clawback, 400);
    assert_int_equal(totals(f).amount, 1800 - 700 - 400);
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
    /* a caller that forgets the clawback withholds it twice */
    refund_ok(f, "[\"f2\"]", EARLY, ",\"previous\":{\"lines\":[\"c1\"]}");
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
        { "refund: { lines: t1, datetime: \"" EARLY "\" }\n", "refund.lines must be a sequence", 1, 18 },
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
typedef struct counting {
    size_t live, calls, fail_at;
} counting;

static void *counting_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    counting *c = ud;
    if (new_size == 0) {
        c->live -= old_size;
        free(ptr);
        return NULL;
    }
    c->calls++;
    if (c->fail_at && c->calls == c->fail_at)
        return NULL;
    ptr = realloc(ptr, new_size);
    if (ptr)
        c->live += new_size - old_size;
    return ptr;
}

static void allocation_failures_fail_cleanly(void **state)
{
    fixture *f = *state;
    counting c = { 0, 0, 0 };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs;
    char *q = request(f, f->receipt, "[\"c1\",\"f1\"]", EARLY, ",\"previous\":{\"lines\":[\"f2\"]}");
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

int main(void)
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
        T(refund_options_are_versioned),
        T(line_ids_must_be_in_the_order_and_named_once),
        T(a_line_refunded_before_is_rejected),
        T(the_request_is_checked_with_paths),
        T(a_broken_bundle_is_clawed_back),
        T(a_broken_threshold_is_clawed_back),
        T(nothing_broken_means_no_clawback),
        T(the_clawback_never_exceeds_the_refund),
        T(a_second_refund_withholds_only_what_is_new),
        T(one_at_a_time_ends_where_all_at_once_does),
        T(reprice_keeps_the_original_time_and_codes),
        T(ruletest_hook_runs_and_compares),
        T(ruletest_hook_checks_the_shape),
        T(allocation_failures_fail_cleanly),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
