/* The result through its accessors and as JSON: what a caller reads back
 * agrees with SPEC §6, the JSON is byte-identical across evaluations, and
 * subtotal − discount − redeemed_value = due. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tessera.h"
#include "alloc_fixture.h"
#include "internal.h"   /* tsr__buf_json_string: the general escaper, as the oracle */

static const char *const park = TSR_SOURCE_DIR "/../shared/scenarios/park/park.yaml";

/* Park orders: points redeemed, earned, a welcome-back discount (A-7);
 * promo codes accepted and rejected, segments, an offer. */
static const char order_a7[] =
    "{\"id\":\"A-7\",\"datetime\":\"2026-06-10T11:00:00+03:00\","
    "\"customer\":{\"id\":\"C5\",\"visits\":4,\"member\":true,\"points_balance\":1200,"
    "\"last_visit\":\"2025-11-01\"},"
    "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180},"
    "{\"id\":\"t2\",\"kind\":\"ticket\",\"height_cm\":120},"
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"150.00\",\"quantity\":2}],"
    "\"redeem_points\":1000}";
static const char order_promos[] =
    "{\"datetime\":\"2026-06-10T11:00:00+03:00\","
    "\"customer\":{\"id\":\"C3\",\"visits\":0,\"tags\":[\"season_pass\"]},"
    "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180}],"
    "\"promo_codes\":[\" doc-123456 \",\"SUMMER\"],\"promo_uses\":{\"doctors\":0}}";

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
    r = eval(rs, order_promos, NULL);
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
    const char *order = order_a7;
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

/* Ids are tested for escaping eight bytes at a time (shorter ones as two
 * overlapping halves or three bytes): every byte that needs an escape, and
 * the plain bytes next to them in value, at every position of ids of 1 to
 * 20 bytes, i.e. everywhere relative to an eight-byte word.  The order
 * text carries the id escaped as the writer escapes it, so the result must
 * give it back byte for byte, as the order id and as the line id. */
static void test_ids_are_escaped_at_every_position_in_a_word(void **state)
{
    static const char *const odd[] = {
        "\\\"", "\\\\", "\\n", "\\t", "\\u0001", "\\u001f",     /* escaped */
        " ", "!", "#", "[", "]", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "a", /* plain */
    };
    static const char raw1[] = { '"', '\\', '\n', '\t', 1, 0x1f };
    tsr_ruleset *rs = NULL;
    char id[64], order[512], want[256];
    size_t k, n, pos, runs = 0;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    for (k = 0; k < sizeof odd / sizeof *odd; k++) {
        for (n = 1; n <= 20; n++) {
            for (pos = 0; pos < n; pos++) {
                tsr_result *r;
                const char *json;
                size_t i, len;
                int w;

                /* n - 1 'a's with odd[k] at pos (one byte, when decoded,
                 * for the escapes; its own bytes for the rest) */
                w = snprintf(id, sizeof id, "%.*s%s%.*s", (int)pos, "aaaaaaaaaaaaaaaaaaaa",
                             odd[k], (int)(n - 1 - pos), "aaaaaaaaaaaaaaaaaaaa");
                assert_true(w > 0 && (size_t)w < sizeof id);
                snprintf(order, sizeof order,
                         "{\"id\":\"%s\",\"datetime\":\"2026-06-10T11:00:00+03:00\","
                         "\"customer\":{\"id\":\"C3\"},"
                         "\"items\":[{\"id\":\"%s\",\"kind\":\"ticket\",\"height_cm\":180}]}",
                         id, id);
                r = eval(rs, order, NULL);
                if (k < sizeof raw1) {   /* the decoded id: the escape's one byte */
                    assert_int_equal(strlen(tsr_result_line_id(r, 0)), n);
                    assert_int_equal(tsr_result_line_id(r, 0)[pos], raw1[k]);
                }
                json = tsr_result_json(r, &len);
                assert_non_null(json);
                assert_int_equal(strlen(json), len);
                snprintf(want, sizeof want, "},\"order\":\"%s\",\"currency\"", id);
                if (!strstr(json, want))
                    fail_msg("order id %s: %s", id, json);
                snprintf(want, sizeof want, "\"lines\":[{\"id\":\"%s\",\"kind\":\"ticket\"", id);
                if (!strstr(json, want))
                    fail_msg("line id %s: %s", id, json);
                for (i = 0; i < len; i++)   /* nothing raw below 0x20 in the JSON */
                    assert_true((unsigned char)json[i] >= 0x20);
                tsr_result_free(r);
                runs++;
            }
        }
    }
    assert_int_equal(runs, 15 * 210);
    tsr_ruleset_free(rs);
}

/* A rule set in the given currency scale with nothing but lines: what the
 * JSON writes is the order's own prices and quantities. */
static tsr_ruleset *bare_rules(unsigned scale, const tsr_allocator *a)
{
    tsr_load_options lo;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    char text[128];
    int n = snprintf(text, sizeof text,
                     "tessera: 1\nruleset: w\ncurrency: XYZ\nminor_units: %u\n", scale);

    assert_int_equal(tsr_load_options_init(&lo, TSR_LOAD_OPTIONS_VERSION), TSR_OK);
    lo.allocator = a;
    if (tsr_ruleset_load_string(&rs, text, (size_t)n, "w.yaml", &lo, &err) != TSR_OK)
        fail_msg("load: %s", err.message);
    return rs;
}

/* v minor units in `scale` digits as the general formatter (and SPEC) has
 * it, written here independently with printf. */
static void ref_money(char *out, size_t size, int64_t v, unsigned scale)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 1;
    unsigned k;

    for (k = 0; k < scale; k++)
        p *= 10;
    if (scale)
        snprintf(out, size, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(m / p),
                 (int)scale, (unsigned long long)(m % p));
    else
        snprintf(out, size, "%s%llu", v < 0 ? "-" : "", (unsigned long long)m);
}

/* One line of price v and quantity q through the builder, as JSON. */
static const char *one_line_json(const tsr_ruleset *rs, tsr_result **r, int64_t v, int64_t q)
{
    tsr_order *o = NULL;
    tsr_error err;
    int fp = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "price");
    int fdt = tsr_ruleset_field(rs, TSR_RECORD_ORDER, "datetime");
    int line;
    const char *json;

    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, fdt, "2026-06-10T11:00:00+03:00",
                                        25, &err), TSR_OK);
    assert_int_equal(tsr_order_add_line(o, "l", "k", q, &line, &err), TSR_OK);
    if (tsr_order_set_money(o, TSR_RECORD_ITEM, line, fp, v, &err) != TSR_OK)
        fail_msg("price %lld: %s", (long long)v, err.message);
    if (tsr_evaluate(r, rs, o, NULL, &err) != TSR_OK)
        fail_msg("price %lld x %lld: %s", (long long)v, (long long)q, err.message);
    tsr_order_free(o);
    json = tsr_result_json(*r, NULL);
    assert_non_null(json);
    return json;
}

/* The writer formats numbers itself (forwards, a digit pair at a time, a
 * constant for zero at two decimals, another path for other scales): every
 * digit count and its edges, at each scale a currency can have, must come
 * out as the general formatter writes them. */
static void test_money_and_counts_are_written_as_the_general_formatter_writes_them(void **state)
{
    static const unsigned scales[] = { 0, 1, 2, 3, 6 };
    static const int64_t quantities[] = { 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001, 9999,
                                          10000, 10001, 123456 };
    int64_t values[64];
    size_t nvalues = 0, si, k;
    int64_t p;
    (void)state;

    values[nvalues++] = 0;
    for (p = 1; p <= INT64_C(100000000000000); p *= 10) {   /* 1 .. 10^14 and neighbours */
        values[nvalues++] = p;
        if (p > 1)
            values[nvalues++] = p - 1;
        values[nvalues++] = p + 1;
        values[nvalues++] = p * 5 + 7;
    }
    assert_true(nvalues <= sizeof values / sizeof *values);
    for (si = 0; si < sizeof scales / sizeof *scales; si++) {
        tsr_ruleset *rs = bare_rules(scales[si], NULL);
        for (k = 0; k < nvalues + sizeof quantities / sizeof *quantities; k++) {
            int64_t v = k < nvalues ? values[k] : 1;
            int64_t q = k < nvalues ? 1 : quantities[k - nvalues];
            tsr_result *r = NULL;
            const char *json = one_line_json(rs, &r, v, q);
            char m[32], sub[32], zero[32], want[160];

            ref_money(m, sizeof m, v, scales[si]);
            ref_money(sub, sizeof sub, v * q, scales[si]);
            snprintf(want, sizeof want,
                     "\"quantity\":%lld,\"unit_price\":\"%s\",\"subtotal\":\"%s\",\"discounts\":[]",
                     (long long)q, m, sub);
            if (!strstr(json, want))
                fail_msg("scale %u, %lld x %lld: want %s in %s", scales[si], (long long)v,
                         (long long)q, want, json);
            /* at two decimals an undiscounted line's zeros are one constant */
            ref_money(zero, sizeof zero, 0, scales[si]);
            snprintf(want, sizeof want,
                     "\"discounts\":[],\"redeemed\":{\"points\":0,\"value\":\"%s\"},"
                     "\"total\":\"%s\",\"points_earned\":0}", zero, sub);
            if (!strstr(json, want))
                fail_msg("scale %u: want %s in %s", scales[si], want, json);
            snprintf(want, sizeof want, "\"due\":\"%s\"}", sub);
            if (!strstr(json, want))
                fail_msg("scale %u: want %s in %s", scales[si], want, json);
            tsr_result_free(r);
        }
        tsr_ruleset_free(rs);
    }
}

/* Points entries keep the last date formatted: dates that change from
 * entry to entry and between available_on and expires_on must each be
 * written as they are (the ticket's visit day, then the order day). */
static void test_points_dates_change_from_entry_to_entry(void **state)
{
    static const char order[] =
        "{\"datetime\":\"2026-07-10T11:00:00+03:00\","
        "\"customer\":{\"id\":\"C8\",\"visits\":3,\"member\":true,\"points_balance\":1500},"
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180,"
        "\"event_start\":\"2026-07-15T10:00:00+03:00\"},"
        "{\"id\":\"f1\",\"kind\":\"fnb\",\"sku\":\"COLA\",\"price\":\"150.00\",\"quantity\":2},"
        "{\"id\":\"m1\",\"kind\":\"merch\",\"sku\":\"CAP\",\"price\":\"1200.00\"}],"
        "\"redeem_points\":1000}";
    static const char entries[] =
        "\"entries\":["
        "{\"rule\":\"base\",\"line\":\"t1\",\"points\":94,"
        "\"available_on\":\"2026-07-16\",\"expires_on\":\"2027-07-16\"},"
        "{\"rule\":\"base\",\"line\":\"f1\",\"points\":11,"
        "\"available_on\":\"2026-07-11\",\"expires_on\":\"2027-07-11\"},"
        "{\"rule\":\"base\",\"line\":\"m1\",\"points\":45,"
        "\"available_on\":\"2026-07-11\",\"expires_on\":\"2027-07-11\"}]";
    tsr_ruleset *rs = NULL;
    tsr_result *r;
    const char *json;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, TSR_SOURCE_DIR "/rules/park/park.yaml", NULL,
                                           NULL), TSR_OK);
    r = eval(rs, order, NULL);
    json = tsr_result_json(r, NULL);
    assert_non_null(json);
    if (!strstr(json, entries))
        fail_msg("want %s in %s", entries, json);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Ids that escape to six bytes a byte make the text far longer than the
 * buffer sized up front, so it grows while lines are written.  Failing
 * each allocation in turn: tsr_result_json returns NULL and keeps nothing,
 * a later call builds the same bytes as an evaluation that never failed,
 * and nothing leaks. */
static void test_json_grows_and_fails_cleanly_at_every_allocation(void **state)
{
    counting c = { 0 };
    tsr_allocator a = { counting_realloc, &c };
    tsr_ruleset *rs;
    tsr_order *o = NULL;
    tsr_error err;
    char id[64];
    const char *want, *json;
    size_t want_len, len, n, i;
    int line, fp;
    tsr_result *ref = NULL;
    (void)state;

    rs = bare_rules(2, &a);
    fp = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "price");
    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0,
                                        tsr_ruleset_field(rs, TSR_RECORD_ORDER, "datetime"),
                                        "2026-06-10T11:00:00+03:00", 25, &err), TSR_OK);
    for (i = 0; i < 40; i++) {
        memset(id, 1, sizeof id - 1);   /* "\u0001" × 63 */
        id[sizeof id - 1] = '\0';
        id[0] = (char)('A' + i % 26);
        id[1] = (char)('a' + i / 26);
        assert_int_equal(tsr_order_add_line(o, id, "k\x1fk", 3, &line, &err), TSR_OK);
        assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, line, fp, 1234567, &err),
                         TSR_OK);
    }
    assert_int_equal(tsr_evaluate(&ref, rs, o, NULL, &err), TSR_OK);
    want = tsr_result_json(ref, &want_len);
    assert_non_null(want);
    assert_true(want_len > 1024 + 40 * 320);   /* more than sized up front */

    for (n = 1;; n++) {
        tsr_result *r = NULL;
        assert_true(n < 50);
        c.calls = 0;
        c.fail_at = 0;
        assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_OK);
        c.calls = 0;
        c.fail_at = n;
        json = tsr_result_json(r, &len);
        c.fail_at = 0;
        if (!json) {
            /* a failed call keeps nothing: the next one builds it whole */
            json = tsr_result_json(r, &len);
            assert_non_null(json);
            assert_int_equal(len, want_len);
            assert_memory_equal(json, want, len);
            tsr_result_free(r);
            continue;
        }
        assert_int_equal(len, want_len);
        assert_memory_equal(json, want, len);
        assert_int_equal(json[len], '\0');
        tsr_result_free(r);
        break;
    }
    assert_true(n > 2);   /* it grew at least once after the first buffer */
    tsr_result_free(ref);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

/* raw as the general escaper writes it, quoted, into out. */
static void oracle_json_string(char *out, size_t size, const char *raw)
{
    tsr_alloc a;
    tsr_buf b;

    tsr__alloc_init(&a, NULL);
    tsr__buf_init(&b, &a);
    tsr__buf_json_string(&b, raw, strlen(raw));
    assert_false(b.failed);
    assert_true(b.len < size);
    memcpy(out, b.data, b.len + 1);
    tsr__buf_free(&b);
}

/* The writer escapes at its cursor, a word at a time (whole words while
 * plain, then up to the first byte that needs an escape): every byte that
 * needs one, and plain bytes next to them in value, at every position of
 * ids of 1 to 40 bytes, must come out as the general escaper writes them,
 * as the order id and as a line's id.  (UTF-8 is plain to both:
 * test_ids_are_escaped_at_every_position_in_a_word has it.) */
static void test_strings_are_escaped_as_the_general_escaper_escapes_them(void **state)
{
    static const char odd[] = { '"', '\\', '\n', '\r', '\t', '\b', '\f', 1, 0x1f, ' ', '!',
                                '#', '[', ']', 0x7f, '/' };
    tsr_ruleset *rs = bare_rules(2, NULL);
    int fid = tsr_ruleset_field(rs, TSR_RECORD_ORDER, "id");
    int fdt = tsr_ruleset_field(rs, TSR_RECORD_ORDER, "datetime");
    int fp = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "price");
    size_t k, n, pos, runs = 0;
    (void)state;

    assert_true(fid >= 0 && fdt >= 0 && fp >= 0);
    for (k = 0; k < sizeof odd; k++) {
        for (n = 1; n <= 40; n++) {
            for (pos = 0; pos < n; pos++) {
                char id[48], want[400], frag[480];
                tsr_order *o = NULL;
                tsr_result *r = NULL;
                tsr_error err;
                const char *json;
                int line;

                memset(id, 'a', n);
                id[pos] = odd[k];
                id[(pos + 3) % n] = odd[(k + 5) % sizeof odd];   /* a second one, when n > 3 */
                id[n] = '\0';
                assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
                assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, fdt,
                                                    "2026-06-10T11:00:00+03:00", 25, &err), TSR_OK);
                if (tsr_order_set_string(o, TSR_RECORD_ORDER, 0, fid, id, strlen(id), &err) !=
                    TSR_OK)
                    fail_msg("order id: %s", err.message);
                assert_int_equal(tsr_order_add_line(o, id, "k", 1, &line, &err), TSR_OK);
                assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, line, fp, 100, &err),
                                 TSR_OK);
                if (tsr_evaluate(&r, rs, o, NULL, &err) != TSR_OK)
                    fail_msg("evaluate: %s", err.message);
                json = tsr_result_json(r, NULL);
                assert_non_null(json);
                oracle_json_string(want, sizeof want, id);
                snprintf(frag, sizeof frag, "\"order\":%s,\"currency\"", want);
                if (!strstr(json, frag))
                    fail_msg("order id: want %s in %s", frag, json);
                snprintf(frag, sizeof frag, "\"lines\":[{\"id\":%s,\"kind\":\"k\",", want);
                if (!strstr(json, frag))
                    fail_msg("line: want %s in %s", frag, json);
                tsr_result_free(r);
                tsr_order_free(o);
                runs++;
            }
        }
    }
    assert_int_equal(runs, sizeof odd * 820);
    tsr_ruleset_free(rs);
}

/* Every trace entry of r reads in its JSON as the accessors give it,
 * escaped by the general escaper; returns how many were checked and adds
 * up in seen[k] how many sentences hold want[k]. */
static size_t trace_matches_accessors(tsr_result *r, const char *const *want, size_t nwant,
                                      size_t *seen)
{
    const char *json = tsr_result_json(r, NULL), *at;
    size_t i, k;

    assert_non_null(json);
    at = strstr(json, ",\"trace\":[");
    assert_non_null(at);
    for (i = 0; i < tsr_result_trace_count(r); i++) {
        char rule[256], qrule[512], qwhy[1024], frag[1600];
        const char *why;
        int applied;

        assert_int_equal(tsr_result_trace(r, i, rule, sizeof rule, &applied, &why), TSR_OK);
        oracle_json_string(qrule, sizeof qrule, rule);
        if (applied && !why) {
            snprintf(frag, sizeof frag, "{\"rule\":%s,\"applied\":true}", qrule);
        } else {
            oracle_json_string(qwhy, sizeof qwhy, why);
            snprintf(frag, sizeof frag, "{\"rule\":%s,\"applied\":%s,\"%s\":%s}", qrule,
                     applied ? "true" : "false", applied ? "note" : "why", qwhy);
            for (k = 0; k < nwant; k++)
                seen[k] += strstr(why, want[k]) != NULL;
        }
        if (!(at = strstr(at, frag)))
            fail_msg("trace %zu: want %s in %s", i, frag, json);
    }
    return i;
}

/* Trace entries name rules through a table of the rule set's ids
 * prepared at load (an id outside it, "loyalty.redeem", the general way)
 * and quote their sentences escaped at the cursor: each entry of traced
 * evaluations must read in the JSON as the accessors give it, escaped by
 * the general escaper. */
static void test_trace_entries_read_as_the_accessors_give_them(void **state)
{
    const char *const orders[] = { order_a7, order_promos };
    const char *const want[] = { "\"" };   /* a sentence that quotes a string */
    tsr_ruleset *rs = NULL;
    size_t o, checked = 0, redeem = 0, quoted = 0;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, park, NULL, NULL), TSR_OK);
    for (o = 0; o < sizeof orders / sizeof *orders; o++) {
        tsr_result *r = eval(rs, orders[o], NULL);

        checked += trace_matches_accessors(r, want, 1, &quoted);
        redeem += strstr(tsr_result_json(r, NULL), "{\"rule\":\"loyalty.redeem\",") != NULL;
        tsr_result_free(r);
    }
    assert_true(checked > 10);
    assert_int_equal(redeem, 1);
    assert_true(quoted > 0);
    tsr_ruleset_free(rs);
}

/* The sentences a rule set prepares at load (each condition site's, a
 * discount's required code) are quoted once at load and copied by the
 * writer: short and long ones, ones with quotes to escape, the same
 * sentence in two rules, an `and`'s operand, and "requires promo code":
 * each must read as the general escaper writes the accessor's sentence.
 * Entries name their rules by a head prepared at load, for the section
 * the id was prepared for: "s" is a category's id and a discount's. */
static void test_trace_sentences_prepared_at_load_read_as_escaped_in_full(void **state)
{
    static const char rules[] =
        "tessera: 1\nruleset: w\ncurrency: XYZ\nminor_units: 2\n"
        "schema:\n  item: { h: int }\n"
        "promo_codes:\n  - id: doc\n    match: '^DOC$'\n"
        "categories:\n"
        "  - id: q\n    for: item.kind == \"a\\\"\"\n    price: 1.00\n"
        "  - id: s\n    when: item.h < 1\n    price: 1.00\n"
        "  - id: l\n    when: item.h >= 100 and item.kind == \"long \\\"quoted\\\" kind\"\n"
        "    price: 1.00\n"
        "  - id: l2\n    when: item.h < 1\n    price: 1.00\n"
        "discounts:\n"
        "  - id: d\n    requires: doc\n    percent: 5\n"
        "  - id: e\n    when: customer.id == \"zz\"\n    percent: 5\n"
        "  - id: s\n    when: customer.id == \"zz\"\n    percent: 6\n"
        "loyalty:\n  earn:\n    - id: x\n      when: customer.id == \"\\\"\"\n      points: 1\n";
    static const char order[] =
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"customer\":{\"id\":\"c\"},"
        "\"items\":[{\"id\":\"t1\",\"kind\":\"k\",\"price\":\"5.00\",\"h\":150},"
        "{\"id\":\"t2\",\"kind\":\"k\",\"price\":\"5.00\",\"h\":50}]}";
    const char *const want[] = { "requires promo code `doc`, not accepted",
                                 "`item.h < 1` was false",
                                 "`item.kind == \"long \\\"quoted\\\" kind\"` was false" };
    size_t seen[3] = { 0 }, checked;
    tsr_ruleset *rs = NULL;
    tsr_result *r;
    tsr_error err;
    (void)state;

    if (tsr_ruleset_load_string(&rs, rules, sizeof rules - 1, "w.yaml", NULL, &err) != TSR_OK)
        fail_msg("load: %s (line %d)", err.message, err.line);
    r = eval(rs, order, NULL);
    checked = trace_matches_accessors(r, want, 3, seen);
    assert_true(checked >= 8);
    assert_true(seen[0] == 1 && seen[1] >= 2 && seen[2] == 1);
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Promo code entries name their codes by heads prepared at load while the
 * rule set has up to 256 codes, the general way past that: both read as
 * the accessors give them. */
static void test_promo_entries_read_alike_with_few_and_many_codes(void **state)
{
    static const char head[] = "tessera: 1\nruleset: w\ncurrency: XYZ\nminor_units: 2\n"
                               "promo_codes:\n";
    static const char order[] =
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"customer\":{\"id\":\"c\"},"
        "\"items\":[{\"id\":\"t1\",\"kind\":\"k\",\"price\":\"5.00\"}],"
        "\"promo_codes\":[\"P3\",\"nope\"]}";
    const size_t counts[] = { 4, 256, 257, 300 };
    size_t ci;
    (void)state;

    for (ci = 0; ci < sizeof counts / sizeof *counts; ci++) {
        char *rules = malloc(sizeof head + counts[ci] * 40);
        const char *const want[] = { "no entered code matches it" };
        size_t n = sizeof head - 1, k, seen = 0;
        tsr_ruleset *rs = NULL;
        tsr_result *r;
        tsr_error err;

        assert_non_null(rules);
        memcpy(rules, head, n);
        for (k = 0; k < counts[ci]; k++)
            n += (size_t)sprintf(rules + n, "  - id: c-%zu\n    match: '^P%zu$'\n", k, k);
        if (tsr_ruleset_load_string(&rs, rules, n, "w.yaml", NULL, &err) != TSR_OK)
            fail_msg("load: %s (line %d)", err.message, err.line);
        r = eval(rs, order, NULL);
        assert_true(trace_matches_accessors(r, want, 1, &seen) == counts[ci]);
        assert_int_equal(seen, counts[ci] - 1);
        assert_non_null(strstr(tsr_result_json(r, NULL), "{\"rule\":\"promo_codes.c-3\","
                                                         "\"applied\":true}"));
        tsr_result_free(r);
        tsr_ruleset_free(rs);
        free(rules);
    }
}

/* Points entries copy their line's id as the line's writer wrote it, for
 * the first 32 lines; later lines are written again from the id.  Both
 * must name the line as the general escaper writes its id: short, long
 * (more than 16 bytes) and escaped ids, before and past line 32. */
static void test_points_entries_name_their_lines_before_and_past_the_kept_ones(void **state)
{
    char order[16384], id[64];
    size_t len, i, named = 0;
    tsr_ruleset *rs = NULL;
    tsr_result *r;
    const char *json;
    (void)state;

    len = (size_t)snprintf(order, sizeof order, "{\"datetime\":\"2026-07-10T11:00:00+03:00\","
                           "\"customer\":{\"id\":\"C8\",\"visits\":3,\"member\":true},\"items\":[");
    for (i = 0; i < 40; i++) {
        if (i % 3 == 0)
            snprintf(id, sizeof id, "f%zu", i);
        else if (i % 3 == 1)   /* escaped, and longer than 16 bytes */
            snprintf(id, sizeof id, "q\\\"%zu-an-id-longer-than-16", i);
        else
            snprintf(id, sizeof id, "c\\u0001%zu", i);
        len += (size_t)snprintf(order + len, sizeof order - len,
                                "%s{\"id\":\"%s\",\"kind\":\"fnb\",\"sku\":\"COLA\","
                                "\"price\":\"150.00\"}", i ? "," : "", id);
    }
    len += (size_t)snprintf(order + len, sizeof order - len, "]}");
    assert_true(len < sizeof order);

    assert_int_equal(tsr_ruleset_load_file(&rs, TSR_SOURCE_DIR "/rules/park/park.yaml", NULL,
                                           NULL), TSR_OK);
    r = eval(rs, order, NULL);
    json = tsr_result_json(r, NULL);
    assert_non_null(json);
    json = strstr(json, "\"entries\":[");
    assert_non_null(json);
    for (i = 0; i < tsr_result_line_count(r); i++) {
        char want[256], frag[300];
        if (tsr_result_line_points(r, i) <= 0)
            continue;
        oracle_json_string(want, sizeof want, tsr_result_line_id(r, i));
        snprintf(frag, sizeof frag, "\"line\":%s,\"points\":%lld,", want,
                 (long long)tsr_result_line_points(r, i));
        if (!(json = strstr(json, frag)))   /* in line order */
            fail_msg("line %zu: want %s", i, frag);
        named += i >= 32;
    }
    assert_true(named >= 4);   /* past the kept ones too */
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
        cmocka_unit_test(test_ids_are_escaped_at_every_position_in_a_word),
        cmocka_unit_test(test_money_and_counts_are_written_as_the_general_formatter_writes_them),
        cmocka_unit_test(test_points_dates_change_from_entry_to_entry),
        cmocka_unit_test(test_json_grows_and_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_strings_are_escaped_as_the_general_escaper_escapes_them),
        cmocka_unit_test(test_trace_entries_read_as_the_accessors_give_them),
        cmocka_unit_test(test_trace_sentences_prepared_at_load_read_as_escaped_in_full),
        cmocka_unit_test(test_promo_entries_read_alike_with_few_and_many_codes),
        cmocka_unit_test(test_points_entries_name_their_lines_before_and_past_the_kept_ones),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
