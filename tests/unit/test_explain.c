/* Unit tests for explain.c: the readable rendering of a result (what
 * `tessera eval --explain` prints), its snprintf-like contract, and the
 * customer-safe promo codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

#include <string.h>

static const char rules[] =
    "tessera: 1\n"
    "ruleset: shop\n"
    "version: \"7\"\n"
    "currency: EUR\n"
    "schema: { customer: { member: bool } }\n"
    "segments: { member: customer.member }\n"
    "categories:\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 20.00 }\n"
    "promo_codes:\n"
    "  - { id: half, code: HALF }\n"
    "discounts:\n"
    "  - { id: half-off, requires: half, for: item.kind == \"ticket\", percent: 50 }\n"
    "  - { id: members-10, when: segment.member, percent: 10 }\n"
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  earn: [ { id: base, per: 1.00, points: 1 } ]\n"
    "offers:\n"
    "  - { id: join, when: not segment.member, message: Join the club }\n";

static const char member_order[] =
    "{\"id\": \"A-2\", \"datetime\": \"2026-06-10T11:00:00+03:00\","
    " \"customer\": {\"id\": \"C1\", \"member\": true},"
    " \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\"}], \"promo_codes\": [\"HALF\", \"NOPE\"]}";

typedef struct fixture {
    tsr_ruleset *rs;
    tsr_result *res;
    char *text;
} fixture;

static fixture evaluate(const char *order, int customer_safe, int no_trace)
{
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    fixture f;
    tsr_error err;
    int n;

    eo.customer_safe = customer_safe;
    eo.no_trace = no_trace;
    assert_int_equal(tsr_ruleset_load_string(&f.rs, rules, strlen(rules), "shop.yaml", NULL, &err),
                     TSR_OK);
    assert_int_equal(tsr_evaluate_text(&f.res, f.rs, order, strlen(order), &eo, &err), TSR_OK);
    n = tsr_result_explain(NULL, 0, f.res);
    assert_true(n > 0);
    f.text = malloc((size_t)n + 1);
    assert_non_null(f.text);
    assert_int_equal(tsr_result_explain(f.text, (size_t)n + 1, f.res), n);
    assert_int_equal(strlen(f.text), (size_t)n);
    return f;
}

static void release(fixture *f)
{
    free(f->text);
    tsr_result_free(f->res);
    tsr_ruleset_free(f->rs);
}

static void expect_text(const fixture *f, const char *part)
{
    if (!strstr(f->text, part))
        fprintf(stderr, "explanation lacks:\n%s\n---- in:\n%s", part, f->text);
    assert_non_null(strstr(f->text, part));
}

static void test_lines_read_like_a_receipt_with_aligned_amounts(void **state)
{
    fixture f = evaluate(member_order, 0, 0);
    (void)state;
    expect_text(&f, "Order A-2, priced by shop (version 7), in EUR\n"
                    "Segments: member\n");
    expect_text(&f, "Lines\n"
                    "  t1  ticket, adult: 1 \xc3\x97 20.00   20.00\n"
                    "      - half-off                -10.00\n"
                    "      - members-10               -1.00\n"
                    "      = total                     9.00   earns 9 points\n");
    expect_text(&f, "Totals\n"
                    "  subtotal   20.00\n"
                    "  discount  -11.00\n"
                    "  redeemed    0.00\n"
                    "  due         9.00\n");
    release(&f);
}

static void test_promo_codes_points_and_trace_are_explained(void **state)
{
    fixture f = evaluate(member_order, 0, 0);
    (void)state;
    expect_text(&f, "Promo codes\n"
                    "  HALF  accepted (promo code `half`)\n"
                    "  NOPE  rejected: unknown\n");
    expect_text(&f, "Points: earned 9, redeemed 0\n"
                    "  base on t1  9   available 2026-06-10\n");
    expect_text(&f, "Trace\n  \xe2\x9c\x93 categories.adult\n");
    expect_text(&f, "  \xe2\x9c\x93 discounts.half-off\n");
    expect_text(&f, "  \xe2\x9c\x97 offers.join: `not segment.member` was false\n");
    release(&f);
}

static void test_customer_safe_explanations_do_not_name_codes(void **state)
{
    static const char order[] =
        "{\"datetime\": \"2026-06-10T11:00:00+03:00\", \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\"}],"
        " \"promo_codes\": [\"HALF\", \"HALF\"]}";
    fixture f = evaluate(order, 1, 1);
    (void)state;
    expect_text(&f, "An order without id, priced by shop");
    expect_text(&f, "  HALF  rejected: not_applicable\n");
    assert_null(strstr(f.text, "rejected: not_applicable (promo code"));
    expect_text(&f, "Offers\n  join: Join the club\n");
    expect_text(&f, "Trace: left out (evaluated without a trace)\n");
    release(&f);
}

static void test_a_small_buffer_gets_a_truncated_terminated_prefix(void **state)
{
    fixture f = evaluate(member_order, 0, 0);
    char small[10];
    (void)state;
    memset(small, 'x', sizeof small);
    assert_int_equal(tsr_result_explain(small, sizeof small, f.res), (int)strlen(f.text));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, f.text, sizeof small - 1);
    assert_int_equal(tsr_result_explain(NULL, 0, NULL), TSR_EINVAL);
    release(&f);
}

/* Ids and codes come from the order: an explanation printed on a terminal
 * must not carry their escape sequences (retitle the window, clear the
 * screen) nor let an id start a line of its own. */
static void test_escape_sequences_in_order_text_are_shown_clean(void **state)
{
    static const char order[] =
        "{\"id\": \"A\\u001b]0;owned\\u0007\", \"datetime\": \"2026-06-10T11:00:00+03:00\","
        " \"items\": [{\"id\": \"t1\\u001b[2J\\n\\u009b1;1H\", \"kind\": \"ticket\"}],"
        " \"promo_codes\": [\"\\u001b[31mRED\", \"HALF\"]}";
    fixture f = evaluate(order, 0, 0);
    const unsigned char *p;
    size_t k;
    (void)state;

    for (p = (const unsigned char *)f.text; *p; p++) {
        if (*p < 0x20 && *p != '\n')
            fail_msg("control byte 0x%02x at %ld:\n%s", *p, (long)(p - (const unsigned char *)f.text),
                     f.text);
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0)
            fail_msg("C1 control at %ld", (long)(p - (const unsigned char *)f.text));
    }
    expect_text(&f, "Order A?]0;owned?, priced by shop");
    expect_text(&f, "  t1?[2J??1;1H  ticket, adult: 1 \xc3\x97 20.00");
    expect_text(&f, "  ?[31MRED  rejected: unknown\n");
    /* a short buffer holds a prefix that splits no character */
    for (k = 1; k < 200; k++) {
        char buf[200];
        tsr_result_explain(buf, k, f.res);
        assert_true(strlen(buf) < k);
        assert_memory_equal(buf, f.text, strlen(buf));
        assert_true(tsr__utf8_valid(buf, strlen(buf)));
        assert_true(strlen(buf) + 4 > k);   /* at most a character's bytes short */
    }
    release(&f);
}

/* The explanation of an order under other rules (a fixture of its own). */
static char *explain_with(const char *yaml, const char *order)
{
    tsr_ruleset *rs = NULL;
    tsr_result *res = NULL;
    tsr_error err;
    char *text;
    int n;

    assert_int_equal(tsr_ruleset_load_string(&rs, yaml, strlen(yaml), "tax.yaml", NULL, &err),
                     TSR_OK);
    assert_int_equal(tsr_evaluate_text(&res, rs, order, strlen(order), NULL, &err), TSR_OK);
    n = tsr_result_explain(NULL, 0, res);
    assert_true(n > 0);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(tsr_result_explain(text, (size_t)n + 1, res), n);
    tsr_result_free(res);
    tsr_ruleset_free(rs);
    return text;
}

static void expect_in(const char *text, const char *part)
{
    if (!strstr(text, part))
        fprintf(stderr, "explanation lacks:\n%s\n---- in:\n%s", part, text);
    assert_non_null(strstr(text, part));
}

static void test_taxes_are_shown_per_line_and_summed_like_a_fiscal_receipt(void **state)
{
#define TAX_RULES(prices) "tessera: 1\nruleset: bar\ncurrency: EUR\n" \
        "taxes:\n  prices: " prices "\n  rates:\n" \
        "    - { id: culture, for: item.kind == \"ticket\", rate: 10, label: Reduced rate }\n" \
        "    - { id: alcohol, for: item.kind == \"wine\", rate: 25.5 }\n"
    static const char order[] =
        "{\"datetime\": \"2026-06-10T11:00:00+03:00\", \"items\": ["
        "{\"id\": \"t1\", \"kind\": \"ticket\", \"price\": \"89.00\"},"
        "{\"id\": \"w1\", \"kind\": \"wine\", \"price\": \"9.00\"},"
        "{\"id\": \"m1\", \"kind\": \"cap\", \"price\": \"5.00\"}]}";
    char *text;
    (void)state;

    /* included: 8.09 and 1.83 (89 × 10 / 110, 9 × 25.5 / 125.5) */
    text = explain_with(TAX_RULES("inclusive"), order);
    expect_in(text, "  t1  ticket, no category: 1 \xc3\x97 89.00  89.00\n"
                    "      = total                         89.00\n"
                    "      incl. tax culture 10 %           8.09   Reduced rate\n"
                    "  w1  wine, no category: 1 \xc3\x97 9.00      9.00\n"
                    "      = total                          9.00\n"
                    "      incl. tax alcohol 25.5 %         1.83\n"
                    "  m1  cap, no category: 1 \xc3\x97 5.00       5.00\n"
                    "      = total                          5.00\n"
                    "      no tax\n");
    expect_in(text, "  due        103.00\n  incl. tax    9.92\n");
    expect_in(text, "Taxes (included in the prices)\n"
                    "  culture 10 %   on 89.00  8.09   Reduced rate\n"
                    "  alcohol 25.5 % on  9.00  1.83\n");
    expect_in(text, "Trace\n  \xe2\x9c\x93 taxes.culture\n  \xe2\x9c\x93 taxes.alcohol\n");
    free(text);

    /* added: 8.90 and 2.30 (9 × 25.5 % = 2.295) on top of the totals */
    text = explain_with(TAX_RULES("exclusive"), order);
    expect_in(text, "      + tax culture 10 %               8.90   Reduced rate\n");
    expect_in(text, "  redeemed    0.00\n  tax        11.20   added\n  due       114.20\n");
    expect_in(text, "Taxes (added to the prices)\n");
    free(text);
#undef TAX_RULES
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_read_like_a_receipt_with_aligned_amounts),
        cmocka_unit_test(test_promo_codes_points_and_trace_are_explained),
        cmocka_unit_test(test_customer_safe_explanations_do_not_name_codes),
        cmocka_unit_test(test_a_small_buffer_gets_a_truncated_terminated_prefix),
        cmocka_unit_test(test_escape_sequences_in_order_text_are_shown_clean),
        cmocka_unit_test(test_taxes_are_shown_per_line_and_summed_like_a_fiscal_receipt),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
