/* Unit tests for ruletest.c: partial matching of every `expect` key, the
 * diff text of a failure, expected order errors, coverage, refund cases,
 * and test files that are broken (unknown keys, unknown rule names, bad
 * values) — reported with their position and a suggestion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"
#include "alloc_fixture.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[512];
static char test_name[600];

static const char rules[] =
    "tessera: 1\n"
    "ruleset: shop\n"
    "version: \"1\"\n"
    "currency: EUR\n"
    "schema:\n"
    "  item: { height_cm: int }\n"
    "  customer: { member: bool }\n"
    "segments:\n"
    "  member: customer.member\n"
    "tiers:\n"
    "  - { id: gold, when: customer.member }\n"
    "categories:\n"
    "  - { id: child, for: item.kind == \"ticket\", when: item.height_cm < 130, price: 10.00 }\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 20.00 }\n"
    "promo_codes:\n"
    "  - { id: half, code: HALF }\n"
    "discounts:\n"
    "  - { id: half-off, requires: half, for: item.kind == \"ticket\", percent: 50 }\n"
    "  - { id: members-10, when: segment.member, percent: 10 }\n"
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  earn:\n"
    "    - { id: base, per: 1.00, points: 1 }\n"
    "  expire_days: 365\n"
    "offers:\n"
    "  - { id: join, when: not segment.member, message: Join the club }\n";

#define TEST_HEAD "tessera_test: 1\nrules: shop.yaml\ncases:\n"

/* A member buying an adult ticket with HALF: 20.00 - 10.00 - 1.00 = 9.00. */
#define MEMBER_ORDER                                                                     \
    "    order:\n"                                                                       \
    "      datetime: \"2026-06-10T11:00:00+03:00\"\n"                                   \
    "      customer: { id: C1, member: true }\n"                                         \
    "      items: [ { id: t1, kind: ticket, height_cm: 180 } ]\n"                        \
    "      promo_codes: [\" half \"]\n"

#define GUEST_ORDER                                                                      \
    "    order:\n"                                                                       \
    "      datetime: \"2026-06-10T11:00:00+03:00\"\n"                                   \
    "      items: [ { id: t1, kind: ticket, height_cm: 120 }, { id: f1, kind: fnb, price: \"3.50\", quantity: 2 } ]\n"

static int setup(void **state)
{
    FILE *f;
    const char *base = getenv("TMPDIR");
    (void)state;
    snprintf(dir, sizeof dir, "%s/tsr-ruletest-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(test_name, sizeof test_name, "%s/shop.test.yaml", dir);
    {
        char path[600];
        snprintf(path, sizeof path, "%s/shop.yaml", dir);
        f = fopen(path, "w");
        if (!f)
            return -1;
        fputs(rules, f);
        fclose(f);
    }
    return 0;
}

static int teardown(void **state)
{
    char path[600];
    (void)state;
    snprintf(path, sizeof path, "%s/shop.yaml", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}

static tsr_test_report *run_ok(const char *text)
{
    tsr_test_report *rep = NULL;
    tsr_error err;
    int rc = tsr_test_run_string(&rep, text, strlen(text), test_name, NULL, &err);
    if (rc != TSR_OK)
        fprintf(stderr, "run failed: %s:%d:%d: %s\n", err.file, err.line, err.column, err.message);
    assert_int_equal(rc, TSR_OK);
    assert_non_null(rep);
    return rep;
}

/* The run fails on the test file itself at line:col with `text` in the message. */
static void run_broken(const char *test, int line, int col, const char *text)
{
    tsr_test_report *rep = (tsr_test_report *)1;
    tsr_error err;
    int rc = tsr_test_run_string(&rep, test, strlen(test), test_name, NULL, &err);
    if (rc == TSR_OK || !strstr(err.message, text) || err.line != line || err.column != col)
        fprintf(stderr, "got rc %d: %s:%d:%d: %s\n", rc, err.file, err.line, err.column,
                err.message);
    assert_int_not_equal(rc, TSR_OK);
    assert_null(rep);
    assert_string_equal(err.file, test_name);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
    assert_non_null(strstr(err.message, text));
}

static void expect_diff(const tsr_test_report *rep, size_t i, const char *diff)
{
    const char *got = tsr_test_report_case_diff(rep, i);
    if (strcmp(got, diff) != 0)
        fprintf(stderr, "diff of case %zu:\n%s---- expected:\n%s", i, got, diff);
    assert_string_equal(got, diff);
    assert_int_equal(tsr_test_report_case_passed(rep, i), diff[0] == '\0');
}

static void test_every_expect_key_matches_a_correct_result(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: a member with a code\n"
        MEMBER_ORDER
        "    expect:\n"
        "      lines:\n"
        "        t1: { category: adult, kind: ticket, quantity: 1, unit_price: 20, subtotal: \"20.00\",\n"
        "              discount: 11.00, discounts: { half-off: \"10.00\", members-10: \"1.00\" },\n"
        "              redeemed: { points: 0, value: \"0.00\" }, total: \"9.00\", points_earned: 9 }\n"
        "      totals: { subtotal: \"20.00\", discount: \"11.00\", redeemed_value: \"0.00\", due: \"9.00\" }\n"
        "      points:\n"
        "        earned: 9\n"
        "        redeemed: 0\n"
        "        entries: [ { rule: base, line: t1, points: 9, available_on: 2026-06-10, expires_on: 2027-06-10 } ]\n"
        "      promo_codes: { \"HALF\": accepted }\n"
        "      applied: [ categories.adult, discounts.half-off, discounts.members-10, earn.base ]\n"
        "      not_applied: [ categories.child, offers.join ]\n"
        "      segments: [ member ]\n"
        "      offers: []\n"
        "      tier: gold\n"
        "      error: ~\n");
    (void)state;
    expect_diff(rep, 0, "");
    assert_int_equal(tsr_test_report_passed(rep), 1);
    assert_int_equal(tsr_test_report_failed(rep), 0);
    assert_string_equal(tsr_test_report_case_name(rep, 0), "a member with a code");
    tsr_test_report_free(rep);
}

static void test_only_what_is_written_is_compared(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: just the due\n"
        GUEST_ORDER
        "    expect: { totals: { due: 17 } }\n"
        "  - name: no expectations at all\n"
        GUEST_ORDER);
    (void)state;
    expect_diff(rep, 0, "");
    expect_diff(rep, 1, "");
    tsr_test_report_free(rep);
}

static void test_a_mismatch_reads_as_a_diff_line_per_field(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: wrong on purpose\n"
        GUEST_ORDER
        "    expect:\n"
        "      lines:\n"
        "        t1: { category: adult, total: \"25.00\" }\n"
        "        t9: { total: 1 }\n"
        "      totals: { due: \"17.00\", discount: 1 }\n"
        "      points: { earned: 3 }\n"
        "      tier: gold\n");
    (void)state;
    expect_diff(rep, 0,
        "  lines.t1.category: expected \"adult\", got \"child\"\n"
        "  lines.t1.total: expected \"25.00\", got \"10.00\"\n"
        "  lines.t9: the order has no line `t9`\n"
        "  totals.discount: expected \"1.00\", got \"0.00\"\n"
        "  points.earned: expected 3, got 0\n"
        "  tier: expected \"gold\", got none\n");
    assert_int_equal(tsr_test_report_failed(rep), 1);
    tsr_test_report_free(rep);
}

static void test_sets_show_what_is_missing_and_what_is_extra(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: sets\n"
        GUEST_ORDER
        "    expect:\n"
        "      segments: [ member ]\n"
        "      offers: []\n");
    (void)state;
    expect_diff(rep, 0,
        "  segments: expected [member], got []; missing member\n"
        "  offers: expected [], got [join]; unexpected join\n");
    tsr_test_report_free(rep);
}

/* The report is printed on terminals and read by programs: a line id with
 * escape sequences shows them as '?', and a path past its buffer is cut
 * without leaving half a character. */
static void test_diffs_are_clean_text(void **state)
{
    char text[4096], id[400];
    tsr_test_report *rep;
    const char *diff;
    size_t i, n = 0;
    (void)state;

    for (i = 0; i < 130; i++)
        n += (size_t)sprintf(id + n, "\xD0\x96");   /* 260 bytes: past the 256-byte path */
    snprintf(text, sizeof text, TEST_HEAD
             "  - name: escapes\n"
             "    order:\n"
             "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
             "      items: [ { id: \"t\\e[2J\", kind: ticket, height_cm: 180 },"
             " { id: \"x%s\", kind: ticket, height_cm: 180 } ]\n"
             "    expect:\n"
             "      lines: { \"t\\e[2J\": { total: \"1.00\" }, \"x%s\": { total: \"1.00\" } }\n",
             id, id);
    rep = run_ok(text);
    diff = tsr_test_report_case_diff(rep, 0);
    assert_non_null(strstr(diff, "  lines.t?[2J.total: expected \"1.00\", got \"20.00\"\n"));
    assert_null(strchr(diff, '\x1b'));
    assert_true(tsr__utf8_valid(diff, strlen(diff)));
    assert_true(tsr__utf8_valid(tsr_test_report_text(rep), strlen(tsr_test_report_text(rep))));
    tsr_test_report_free(rep);
}

static void test_applied_and_not_applied_quote_the_trace(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: trace\n"
        GUEST_ORDER
        "    expect:\n"
        "      applied: [ discounts.members-10 ]\n"
        "      not_applied: [ offers.join ]\n");
    const char *diff;
    (void)state;
    diff = tsr_test_report_case_diff(rep, 0);
    assert_non_null(strstr(diff, "  applied: discounts.members-10 did not apply: "));
    assert_non_null(strstr(diff, "segment.member"));
    assert_non_null(strstr(diff, "  not_applied: offers.join applied\n"));
    tsr_test_report_free(rep);
}

static void test_promo_codes_match_by_status_or_status_and_reason(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: codes\n"
        "    order:\n"
        "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
        "      items: [ { id: t1, kind: ticket, height_cm: 180 } ]\n"
        "      promo_codes: [\"nope\", \"HALF\"]\n"
        "    expect:\n"
        "      promo_codes: { NOPE: rejected, \"half\": accepted }\n"
        "  - name: codes wrong\n"
        "    order:\n"
        "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
        "      items: [ { id: t1, kind: ticket, height_cm: 180 } ]\n"
        "      promo_codes: [\"NOPE\"]\n"
        "    expect:\n"
        "      promo_codes: { NOPE: rejected/expired, HALF: accepted }\n");
    (void)state;
    expect_diff(rep, 0, "");
    expect_diff(rep, 1,
        "  promo_codes.NOPE: expected rejected/expired, got rejected/unknown\n"
        "  promo_codes.HALF: expected accepted, but the order did not enter this code\n");
    tsr_test_report_free(rep);
}

static void test_points_entries_match_partially_or_list_what_there_is(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: entries\n"
        MEMBER_ORDER
        "    expect:\n"
        "      points:\n"
        "        entries: [ { rule: base, points: 9 }, { rule: base, line: t1, points: 10 } ]\n");
    (void)state;
    expect_diff(rep, 0,
        "  points.entries[1]: no entry matches {rule: base, line: t1, points: 10}; entries: "
        "{rule: base, line: t1, points: 9, available_on: 2026-06-10, expires_on: 2027-06-10}\n");
    tsr_test_report_free(rep);
}

static void test_an_expected_order_error_is_matched_against_path_and_message(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: duplicate ids\n"
        "    order:\n"
        "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
        "      items: [ { id: t1, kind: ticket }, { id: t1, kind: ticket } ]\n"
        "    expect: { error: \"items[1].id\" }\n"
        "  - name: a different error was expected\n"
        "    order:\n"
        "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
        "      items: [ { id: t1, kind: ticket }, { id: t1, kind: ticket } ]\n"
        "    expect: { error: \"no such thing\" }\n"
        "  - name: an error that did not happen\n"
        GUEST_ORDER
        "    expect: { error: duplicate }\n"
        "  - name: an error nobody expected\n"
        "    order:\n"
        "      datetime: \"2026-06-10T11:00:00+03:00\"\n"
        "      items: [ { id: t1, kind: ticket }, { id: t1, kind: ticket } ]\n"
        "    expect: { totals: { due: 0 } }\n");
    const char *d;
    (void)state;
    expect_diff(rep, 0, "");
    d = tsr_test_report_case_diff(rep, 1);
    assert_non_null(strstr(d, "  error: expected \"no such thing\", got \"items[1].id: "));
    expect_diff(rep, 2,
        "  error: expected the order to be rejected with \"duplicate\", but it was evaluated\n");
    d = tsr_test_report_case_diff(rep, 3);
    assert_non_null(strstr(d, "  error: the order was rejected: items[1].id: "));
    assert_int_equal(tsr_test_report_passed(rep), 1);
    assert_int_equal(tsr_test_report_failed(rep), 3);
    tsr_test_report_free(rep);
}

static void test_refund_cases_refund_with_the_receipt_just_produced(void **state)
{
    /* shop.yaml has no `refunds:` section, so every line is rejected: the
     * first case expects that and passes, the second expects a refund and
     * fails with a diff naming the refund's line status. */
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: no refunds section, no refund\n"
        GUEST_ORDER
        "    refund: { lines: [t1], datetime: \"2026-06-11T10:00:00+03:00\" }\n"
        "    expect: { refund: { lines: { t1: { status: rejected } }, totals: { amount: \"0.00\" } } }\n"
        "  - name: expecting a refund that is not given\n"
        GUEST_ORDER
        "    refund: { lines: [t1], datetime: \"2026-06-11T10:00:00+03:00\" }\n"
        "    expect: { refund: { lines: { t1: { status: refunded } } } }\n");
    (void)state;
    assert_int_equal(tsr_test_report_passed(rep), 1);
    assert_int_equal(tsr_test_report_failed(rep), 1);
    assert_true(tsr_test_report_case_passed(rep, 0));
    assert_false(tsr_test_report_case_passed(rep, 1));
    assert_non_null(strstr(tsr_test_report_case_diff(rep, 1), "t1"));
    assert_non_null(strstr(tsr_test_report_case_diff(rep, 1), "status"));
    tsr_test_report_free(rep);
}

static void test_coverage_lists_the_rules_no_case_applied(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: a guest\n"
        GUEST_ORDER);
    size_t i, n;
    (void)state;
    /* 2 categories + 1 promo + 2 discounts + 1 earn + 1 offer */
    assert_int_equal(tsr_test_report_rule_count(rep), 7);
    n = tsr_test_report_uncovered_count(rep);
    assert_int_equal(n, 5);
    {
        static const char *const want[] = { "categories.adult", "promo_codes.half",
                                            "discounts.half-off", "discounts.members-10",
                                            "earn.base" };
        for (i = 0; i < n; i++)
            assert_string_equal(tsr_test_report_uncovered(rep, i), want[i]);
    }
    assert_string_equal(tsr_test_report_coverage_text(rep),
        "coverage of shop.yaml: 2 of 7 rules applied (28%)\n"
        "not covered: categories.adult, promo_codes.half, discounts.half-off, "
        "discounts.members-10, earn.base\n");
    tsr_test_report_free(rep);
}

static void test_the_report_text_ends_with_the_counts(void **state)
{
    tsr_test_report *rep = run_ok(TEST_HEAD
        "  - name: passes\n"
        GUEST_ORDER
        "  - name: fails\n"
        GUEST_ORDER
        "    expect: { totals: { due: 1 } }\n");
    const char *text;
    size_t len;
    (void)state;
    text = tsr_test_report_text(rep);
    len = strlen(text);
    assert_true(len > 20);
    assert_string_equal(text + len - strlen("1 passed, 1 failed\n"), "1 passed, 1 failed\n");
    assert_non_null(strstr(text, "FAIL "));
    assert_non_null(strstr(text, "shop.test.yaml:8: fails\n  totals.due: expected \"1.00\", got \"17.00\"\n"));
    assert_string_equal(tsr_test_report_failures_text(rep),
                        strstr(tsr_test_report_failures_text(rep), "FAIL "));
    tsr_test_report_free(rep);
}

/* A rule set with taxes beside shop.yaml, for the tax expectations. */
static const char bar_rules[] =
    "tessera: 1\nruleset: bar\ncurrency: EUR\n"
    "refunds: { fee: 1.00 }\n"
    "taxes:\n  rates:\n"
    "    - { id: culture, for: item.kind == \"ticket\", rate: 10 }\n"
    "    - { id: alcohol, for: item.kind == \"wine\", rate: 25.5 }\n"
    "    - { id: food, for: item.kind == \"food\", rate: 14 }\n";

#define BAR_HEAD "tessera_test: 1\nrules: bar.yaml\ncases:\n"
/* 89.00 at 10 % holds 8.09, 9.00 at 25.5 % holds 1.83; a cap takes no rate */
#define BAR_ORDER                                                                        \
    "    order:\n"                                                                       \
    "      datetime: \"2026-06-10T11:00:00+03:00\"\n"                                   \
    "      items: [ { id: t1, kind: ticket, price: \"89.00\" }, { id: w1, kind: wine, price: \"9.00\" },\n" \
    "               { id: m1, kind: cap, price: \"5.00\" } ]\n"

static void with_bar(bool create)
{
    char path[600];
    snprintf(path, sizeof path, "%s/bar.yaml", dir);
    if (create) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bar_rules, f);
        fclose(f);
    } else {
        unlink(path);
    }
}

static void test_tax_expectations_match_lines_totals_rates_and_refunds(void **state)
{
    tsr_test_report *rep;
    (void)state;

    with_bar(true);
    rep = run_ok(BAR_HEAD
        "  - name: every form of tax expectation\n"
        BAR_ORDER
        "    refund: { lines: [t1, m1], datetime: \"2026-06-11T11:00:00+03:00\" }\n"
        "    expect:\n"
        "      lines:\n"
        "        t1: { tax: \"8.09\" }\n"
        "        w1: { tax: { id: alcohol, rate: 25.50, amount: 1.83 } }\n"
        "        m1: { tax: ~, total: \"5.00\" }\n"
        "      totals: { tax: \"9.92\", due: \"103.00\" }\n"
        "      taxes: { culture: \"8.09\", alcohol: \"1.83\" }\n"
        "      applied: [ taxes.culture, taxes.alcohol ]\n"
        "      not_applied: [ taxes.food ]\n"
        "      refund:\n"
        /* t1 back: 89.00 - 1.00 = 88.00, holding 88 × 10 / 110 = 8.00 */
        "        totals: { amount: \"92.00\", tax: \"8.00\" }\n"
        "        lines: { t1: { amount: \"88.00\", tax: \"8.00\" }, m1: { amount: \"4.00\", tax: \"0.00\" } }\n"
        "  - name: and each of them failing\n"
        BAR_ORDER
        "    refund: { lines: [t1], datetime: \"2026-06-11T11:00:00+03:00\" }\n"
        "    expect:\n"
        "      lines:\n"
        "        t1: { tax: { id: food, rate: \"14\", amount: \"8.10\" } }\n"
        "        w1: { tax: ~ }\n"
        "        m1: { tax: \"1.00\" }\n"
        "      totals: { tax: \"9.93\" }\n"
        "      taxes: { culture: \"8.00\", food: \"0.00\" }\n"
        "      refund: { lines: { t1: { tax: \"8.09\" } } }\n");
    expect_diff(rep, 0, "");
    expect_diff(rep, 1,
        "  lines.t1.tax.id: expected \"food\", got \"culture\"\n"
        "  lines.t1.tax.rate: expected 14, got 10\n"
        "  lines.t1.tax.amount: expected \"8.10\", got \"8.09\"\n"
        "  lines.w1.tax: expected no tax rate, got `alcohol` (25.5 %)\n"
        "  lines.m1.tax: expected a tax, but no tax rate took the line\n"
        "  totals.tax: expected \"9.93\", got \"9.92\"\n"
        "  taxes.culture: expected \"8.00\", got \"8.09\"\n"
        "  taxes.food: expected \"0.00\", but no line took this rate\n"
        "  refund.lines.t1.tax: expected \"8.09\", got \"8.00\"\n");
    /* tax rates count for coverage like any rule */
    assert_int_equal(tsr_test_report_rule_count(rep), 3);
    assert_int_equal(tsr_test_report_uncovered_count(rep), 1);
    assert_string_equal(tsr_test_report_uncovered(rep, 0), "taxes.food");
    tsr_test_report_free(rep);

    run_broken(BAR_HEAD "  - name: x\n" BAR_ORDER "    expect: { taxes: { cultur: 1 } }\n",
               9, 24, "the rule set has no tax rate `cultur`; did you mean `culture`?");
    run_broken(BAR_HEAD "  - name: x\n" BAR_ORDER "    expect: { lines: { t1: { tax: { id: x } } } }\n",
               9, 41, "the rule set has no tax rate `x`");
    run_broken(BAR_HEAD "  - name: x\n" BAR_ORDER "    expect: { lines: { t1: { tax: { rat: 1 } } } }\n",
               9, 37, "unknown key `rat` in expect.lines.t1.tax; did you mean `rate`?");
    run_broken(BAR_HEAD "  - name: x\n" BAR_ORDER "    expect: { lines: { t1: { tax: { rate: ten } } } }\n",
               9, 43, "expect.lines.t1.tax.rate must be a rate in percent, like 10 or 25.5");
    run_broken(BAR_HEAD "  - name: x\n" BAR_ORDER "    expect: { applied: [taxes.vat] }\n",
               9, 25, "the rule set has no rule `vat` in taxes");
    with_bar(false);
}

static void test_unknown_keys_are_errors_with_a_suggestion(void **state)
{
    (void)state;
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expcet: {}\n", 8, 5,
               "unknown key `expcet` in a case; did you mean `expect`?");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { total: {} }\n", 8, 15,
               "unknown key `total` in expect; did you mean `totals`?");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { lines: { t1: { totl: 1 } } }\n",
               8, 30, "unknown key `totl` in expect.lines.t1; did you mean `total`?");
    run_broken("tessera_test: 1\nrule: shop.yaml\ncases: []\n", 2, 1,
               "unknown key `rule` in a test file; did you mean `rules`?");
}

static void test_names_the_rule_set_lacks_are_errors(void **state)
{
    (void)state;
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { applied: [discounts.half-of] }\n",
               8, 25, "the rule set has no rule `half-of` in discounts; did you mean `half-off`?");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { applied: [discount.half-off] }\n",
               8, 25, "no rule section `discount`; did you mean `discounts`?");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { segments: [membr] }\n",
               8, 26, "the rule set has no segment `membr`; did you mean `member`?");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { tier: silver }\n",
               8, 21, "the rule set has no tier `silver`");
}

static void test_bad_values_are_errors(void **state)
{
    (void)state;
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { totals: { due: \"1.005\" } }\n",
               8, 30, "expect.totals.due must be an amount of EUR with at most 2 decimal places");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER "    expect: { promo_codes: { X: rejected/expird } }\n",
               8, 33, "no promo code reason `expird`; did you mean `expired`?");
    run_broken(TEST_HEAD "  - name: x\n" GUEST_ORDER
               "    expect: { error: dup, totals: { due: 1 } }\n",
               8, 27, "`totals` cannot be checked when the order is expected to fail");
    run_broken("tessera_test: 2\nrules: shop.yaml\ncases: []\n", 1, 15,
               "`tessera_test: 2` is not a version this library reads (1)");
    run_broken(TEST_HEAD "  - order: {}\n", 4, 5, "every case needs a `name`");
}

static void test_a_missing_rule_file_fails_the_run(void **state)
{
    tsr_test_report *rep = (tsr_test_report *)1;
    tsr_error err;
    static const char text[] = "tessera_test: 1\nrules: nowhere.yaml\ncases: []\n";
    (void)state;
    assert_int_not_equal(tsr_test_run_string(&rep, text, strlen(text), test_name, NULL, &err),
                         TSR_OK);
    assert_null(rep);
    assert_non_null(strstr(err.file, "nowhere.yaml"));
}

/* `rules:` leads into the test file's directory tree, as `include:` must
 * stay in the rule set's: a test file cannot load (and quote in errors)
 * any file the process may read, unless allow_paths says so. */
static void test_rules_outside_the_test_files_directory_are_refused(void **state)
{
    static const char text[] = "tessera_test: 1\nrules: ../shop.yaml\ncases: []\n";
    static const char abs_text[] = "tessera_test: 1\nrules: /proc/self/status\ncases: []\n";
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_test_report *rep = (tsr_test_report *)1;
    char sub[600], name[700];
    const char *allow[2] = { dir, NULL };
    tsr_error err;
    (void)state;

    snprintf(sub, sizeof sub, "%s/sub", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(name, sizeof name, "%s/t.test.yaml", sub);
    assert_int_equal(tsr_test_run_string(&rep, text, strlen(text), name, NULL, &err), TSR_EINCLUDE);
    assert_null(rep);
    assert_string_equal(err.file, name);
    assert_int_equal(err.line, 2);
    assert_int_equal(err.column, 8);
    assert_string_equal(err.message, "`rules: ../shop.yaml` is outside the directory of the test "
                        "file (the load option allow_paths, or tessera --allow-path DIR, allows "
                        "more)");
    assert_int_equal(tsr_test_run_string(&rep, abs_text, strlen(abs_text), name, NULL, &err),
                     TSR_EINCLUDE);
    assert_null(strstr(err.message, "Name"));   /* nothing of the file is quoted */

    opts.allow_paths = allow;
    assert_int_equal(tsr_test_run_string(&rep, text, strlen(text), name, &opts, &err), TSR_OK);
    assert_int_equal(tsr_test_report_case_count(rep), 0);
    tsr_test_report_free(rep);
    rmdir(sub);
}

static void test_a_missing_test_file_fails_with_its_name(void **state)
{
    tsr_test_report *rep = (tsr_test_report *)1;
    tsr_error err;
    (void)state;
    assert_int_equal(tsr_test_run_file(&rep, "/nonexistent/x.test.yaml", NULL, &err), TSR_EIO);
    assert_null(rep);
    assert_string_equal(err.file, "/nonexistent/x.test.yaml");
}

/* Fail allocation 1, 2, 3, ... until the run succeeds: every failure is
 * TSR_ENOMEM with nothing leaked. */
static void test_running_out_of_memory_fails_cleanly_at_every_allocation(void **state)
{
    static const char text[] = TEST_HEAD
        "  - name: passes\n"
        MEMBER_ORDER
        "    expect: { totals: { due: 9 }, applied: [discounts.half-off] }\n"
        "  - name: fails\n"
        GUEST_ORDER
        "    expect: { totals: { due: 1 }, segments: [member] }\n";
    size_t n;
    (void)state;
    for (n = 1; n < 100000; n++) {
        counting c = { .fail_at = n };
        tsr_allocator a = { counting_realloc, &c };
        tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
        tsr_test_report *rep = NULL;
        tsr_error err;
        int rc;

        opts.allocator = &a;
        rc = tsr_test_run_string(&rep, text, strlen(text), test_name, &opts, &err);
        if (rc == TSR_OK) {
            assert_int_equal(tsr_test_report_passed(rep), 1);
            assert_int_equal(tsr_test_report_failed(rep), 1);
            tsr_test_report_free(rep);
            assert_int_equal(c.live, 0);
            break;
        }
        if (rc != TSR_ENOMEM)
            fprintf(stderr, "allocation %zu: %d %s:%d:%d: %s\n", n, rc, err.file, err.line,
                    err.column, err.message);
        assert_int_equal(rc, TSR_ENOMEM);
        assert_null(rep);
        assert_int_equal(c.live, 0);
    }
    assert_true(n < 100000);
}

static void test_the_report_api_is_null_safe(void **state)
{
    (void)state;
    tsr_test_report_free(NULL);
    assert_int_equal(tsr_test_report_passed(NULL), 0);
    assert_int_equal(tsr_test_report_failed(NULL), 0);
    assert_int_equal(tsr_test_report_case_count(NULL), 0);
    assert_null(tsr_test_report_case_name(NULL, 0));
    assert_null(tsr_test_report_uncovered(NULL, 0));
    assert_string_equal(tsr_test_report_text(NULL), "");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_expect_key_matches_a_correct_result),
        cmocka_unit_test(test_tax_expectations_match_lines_totals_rates_and_refunds),
        cmocka_unit_test(test_only_what_is_written_is_compared),
        cmocka_unit_test(test_a_mismatch_reads_as_a_diff_line_per_field),
        cmocka_unit_test(test_sets_show_what_is_missing_and_what_is_extra),
        cmocka_unit_test(test_applied_and_not_applied_quote_the_trace),
        cmocka_unit_test(test_promo_codes_match_by_status_or_status_and_reason),
        cmocka_unit_test(test_points_entries_match_partially_or_list_what_there_is),
        cmocka_unit_test(test_an_expected_order_error_is_matched_against_path_and_message),
        cmocka_unit_test(test_refund_cases_refund_with_the_receipt_just_produced),
        cmocka_unit_test(test_coverage_lists_the_rules_no_case_applied),
        cmocka_unit_test(test_the_report_text_ends_with_the_counts),
        cmocka_unit_test(test_unknown_keys_are_errors_with_a_suggestion),
        cmocka_unit_test(test_names_the_rule_set_lacks_are_errors),
        cmocka_unit_test(test_bad_values_are_errors),
        cmocka_unit_test(test_a_missing_rule_file_fails_the_run),
        cmocka_unit_test(test_a_missing_test_file_fails_with_its_name),
        cmocka_unit_test(test_rules_outside_the_test_files_directory_are_refused),
        cmocka_unit_test(test_diffs_are_clean_text),
        cmocka_unit_test(test_running_out_of_memory_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_the_report_api_is_null_safe),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, setup, teardown);
}
