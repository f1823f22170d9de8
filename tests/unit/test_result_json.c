/* The result through its accessors and as JSON: what a caller reads back
 * agrees with SPEC §6, the JSON is byte-identical across evaluations, and
 * subtotal − discount − redeemed_value = due. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tessera.h"

static const char *const park = TSR_SOURCE_DIR "/../shared/scenarios/park/park.yaml";

static tsr_result *eval(const tsr_ruleset *rs, const char *order, const tsr_eval_options *o)
{
    tsr_result *r = NULL;
    tsr_error err;
    int rc = tsr_evaluate_text(&r, rs, order, strlen(order), o, &err);
    if (rc != TSR_OK)
        fail_msg("evaluation failed: %s (%s)", err.message, err.path);
    return r;
}

static void test_promo_codes_segments_and_trace_are_readable(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_result *r;
    const char *code, *id, *reason, *why;
    char rule[64];
    int status, applied;
    size_t i, found = 0;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    r = eval(rs, "{\"datetime\":\"2026-06-10T11:00:00+03:00\","
                 "\"customer\":{\"id\":\"C3\",\"visits\":0,\"tags\":[\"season_pass\"]},"
                 "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180}],"
                 "\"promo_codes\":[\" doc-123456 \",\"SUMMER\"],\"promo_uses\":{\"doctors\":0}}",
             NULL);
    assert_int_equal(tsr_result_promo_count(r), 2);
    assert_int_equal(tsr_result_promo(r, 0, &code, &id, &status, &reason), TSR_OK);
    assert_string_equal(code, "DOC-123456");
    assert_string_equal(id, "doctors");
    assert_int_equal(status, TSR_PROMO_STATUS_ACCEPTED);
    assert_string_equal(reason, "");
    assert_int_equal(tsr_result_promo(r, 1, &code, &id, &status, &reason), TSR_OK);
    assert_string_equal(code, "SUMMER");
    assert_null(id);
    assert_int_equal(status, TSR_PROMO_STATUS_REJECTED);
    assert_string_equal(reason, "unknown");
    assert_int_equal(tsr_result_promo(r, 2, &code, &id, &status, &reason), TSR_EINVAL);

    assert_int_equal(tsr_result_segment_count(r), 2);
    assert_string_equal(tsr_result_segment(r, 0), "first_timer");
    assert_string_equal(tsr_result_segment(r, 1), "season_pass");
    assert_null(tsr_result_segment(r, 2));
    assert_null(tsr_result_tier(r));

    for (i = 0; i < tsr_result_trace_count(r); i++) {
        assert_int_equal(tsr_result_trace(r, i, rule, sizeof rule, &applied, &why), TSR_OK);
        if (strcmp(rule, "discounts.season-pass-10") == 0) {
            /* the doctors' discount is exclusive and took the ticket first */
            assert_false(applied);
            assert_non_null(why);
            found++;
        }
        if (strcmp(rule, "discounts.doctors-99") == 0) {
            assert_true(applied);
            assert_null(why);
            found++;
        }
    }
    assert_int_equal(found, 2);
    assert_int_equal(tsr_result_offer_count(r), 1);
    assert_int_equal(tsr_result_offer(r, 0, &id, &why), TSR_OK);
    assert_string_equal(id, "meal-voucher");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_customer_safe_mode_hides_which_codes_exist(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_result *r;
    const char *code, *id, *reason;
    int status;
    (void)state;

    o.customer_safe = 1;
    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    /* 2027: the doctors' code has expired; SUMMER never existed */
    r = eval(rs, "{\"datetime\":\"2027-01-05T12:00:00+03:00\",\"customer\":{\"id\":\"C4\"},"
                 "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180}],"
                 "\"promo_codes\":[\"DOC-654321\",\"SUMMER\"]}", &o);
    assert_int_equal(tsr_result_promo(r, 0, &code, &id, &status, &reason), TSR_OK);
    assert_null(id);
    assert_string_equal(reason, "not_applicable");
    assert_int_equal(tsr_result_promo(r, 1, &code, &id, &status, &reason), TSR_OK);
    assert_null(id);
    assert_string_equal(reason, "not_applicable");
    assert_null(strstr(tsr_result_json(r, NULL), "\"doctors\""));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_json_is_byte_identical_and_totals_add_up(void **state)
{
    static const char order[] =
        "{\"id\":\"A-7\",\"datetime\":\"2026-06-10T11:00:00+03:00\","
        "\"customer\":{\"id\":\"C5\",\"visits\":4,\"member\":true,\"points_balance\":1200,"
        "\"last_visit\":\"2025-11-01\"},"
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180},"
        "{\"id\":\"t2\",\"kind\":\"ticket\",\"height_cm\":120},"
        "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"150.00\",\"quantity\":2}],"
        "\"redeem_points\":1000}";
    tsr_ruleset *rs = NULL;
    tsr_result *a, *b;
    tsr_totals t = TSR_TOTALS_INIT;
    size_t la, lb, i;
    int64_t due = 0;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    a = eval(rs, order, NULL);
    b = eval(rs, order, NULL);
    assert_non_null(tsr_result_json(a, &la));
    assert_non_null(tsr_result_json(b, &lb));
    assert_int_equal(la, lb);
    assert_memory_equal(tsr_result_json(a, NULL), tsr_result_json(b, NULL), la);
    /* the same pointer on a second call: built once */
    assert_ptr_equal(tsr_result_json(a, NULL), tsr_result_json(a, NULL));

    tsr_result_totals(a, &t);
    assert_int_equal(t.subtotal - t.discount - t.redeemed_value, t.due);
    for (i = 0; i < tsr_result_line_count(a); i++)
        due += tsr_result_line_total(a, i);
    assert_int_equal(due, t.due);
    /* welcome-back 500.00 off the tickets (4300.00 ≥ 3000.00), then points */
    assert_int_equal(t.discount, 50000);
    assert_true(t.points_redeemed > 0);
    assert_string_equal(tsr_result_line_id(a, 2), "f1");
    assert_null(tsr_result_line_category(a, 2));
    assert_null(tsr_result_line_id(a, 3));
    tsr_result_free(a);
    tsr_result_free(b);
    tsr_ruleset_free(rs);
}

static void test_accessors_are_null_safe(void **state)
{
    tsr_totals t = TSR_TOTALS_INIT;
    (void)state;
    assert_int_equal(tsr_result_line_count(NULL), 0);
    assert_null(tsr_result_json(NULL, NULL));
    assert_int_equal(tsr_result_trace_count(NULL), 0);
    assert_int_equal(tsr_result_promo(NULL, 0, NULL, NULL, NULL, NULL), TSR_EINVAL);
    t.due = 7;
    assert_int_equal(tsr_result_totals(NULL, &t), TSR_EINVAL);
    assert_int_equal(t.due, 0);
    assert_int_equal(t.version, TSR_TOTALS_VERSION);
    assert_int_equal(tsr_result_totals(NULL, NULL), TSR_EINVAL);
    tsr_result_free(NULL);
}

static const char *const small_order =
    "{\"datetime\":\"2026-06-10T11:00:00+03:00\","
    "\"items\":[{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"150.00\",\"quantity\":2}]}";

/* tsr_totals is written into the caller's memory: as much as the caller's
 * version declares and not a byte more; an unknown version gets nothing. */
static void test_totals_are_written_as_the_callers_version_says(void **state)
{
    struct { tsr_totals t; unsigned char guard[32]; } box;
    tsr_ruleset *rs = NULL;
    tsr_result *r;
    unsigned v;
    size_t i;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    r = eval(rs, small_order, NULL);
    memset(&box, 0x5a, sizeof box);
    box.t.version = TSR_TOTALS_VERSION;
    assert_int_equal(tsr_result_totals(r, &box.t), TSR_OK);
    assert_int_equal(box.t.version, TSR_TOTALS_VERSION);
    assert_int_equal(box.t.subtotal, 30000);
    assert_int_equal(box.t.due, 30000);
    assert_int_equal(box.t.discount, 0);
    assert_int_equal(box.t.points_redeemed, 0);
    for (i = 0; i < sizeof box.guard; i++)
        assert_int_equal(box.guard[i], 0x5a);
    for (v = 0; v <= TSR_TOTALS_VERSION + 1; v += TSR_TOTALS_VERSION + 1) {
        memset(&box, 0x5a, sizeof box);
        box.t.version = v;
        assert_int_equal(tsr_result_totals(r, &box.t), TSR_EINVAL);
        assert_int_equal(box.t.version, v);
        assert_int_equal((uint64_t)box.t.subtotal, 0x5a5a5a5a5a5a5a5aull);
    }
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Eval options: a version this library does not know is refused with a
 * message saying where to start; _init gives a version's defaults. */
static void test_eval_options_are_versioned(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_result *r = NULL;
    tsr_eval_options eo;
    tsr_error err;
    (void)state;

    memset(&eo, 0x5a, sizeof eo);
    assert_int_equal(tsr_eval_options_init(&eo, TSR_EVAL_OPTIONS_VERSION), TSR_OK);
    assert_int_equal(eo.version, TSR_EVAL_OPTIONS_VERSION);
    assert_int_equal(eo.customer_safe, 0);
    assert_int_equal(eo.no_trace, 0);
    assert_int_equal(tsr_eval_options_init(&eo, 0), TSR_EINVAL);
    assert_int_equal(tsr_eval_options_init(&eo, TSR_EVAL_OPTIONS_VERSION + 1), TSR_EINVAL);
    assert_int_equal(tsr_eval_options_init(NULL, TSR_EVAL_OPTIONS_VERSION), TSR_EINVAL);

    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    eo.version = TSR_EVAL_OPTIONS_VERSION + 1;
    assert_int_equal(tsr_evaluate_text(&r, rs, small_order, strlen(small_order), &eo, &err),
                     TSR_EINVAL);
    assert_null(r);
    assert_non_null(strstr(err.message, "eval options version 2 is not supported"));
    assert_non_null(strstr(err.message, "TSR_EVAL_OPTIONS_INIT"));
    eo.version = 0;
    assert_int_equal(tsr_evaluate_text(&r, rs, small_order, strlen(small_order), &eo, &err),
                     TSR_EINVAL);
    assert_int_equal(tsr_eval_options_init(&eo, TSR_EVAL_OPTIONS_VERSION), TSR_OK);
    eo.no_trace = 1;
    r = eval(rs, small_order, &eo);
    assert_int_equal(tsr_result_trace_count(r), 0);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promo_codes_segments_and_trace_are_readable),
        cmocka_unit_test(test_customer_safe_mode_hides_which_codes_exist),
        cmocka_unit_test(test_json_is_byte_identical_and_totals_add_up),
        cmocka_unit_test(test_accessors_are_null_safe),
        cmocka_unit_test(test_totals_are_written_as_the_callers_version_says),
        cmocka_unit_test(test_eval_options_are_versioned),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
