/* The evaluation driver's reuse of memory (eval.c, order_pool.c):
 * tsr_evaluate_into and tsr_evaluate_text_into give byte for byte what a
 * fresh tsr_evaluate gives, across many orders and across rule sets, with
 * no allocation in steady state, and fail cleanly at every allocation. */
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

#define MAX_ORDERS 1100

static const char *const park10 = TSR_SOURCE_DIR "/rules/park10/park10.yaml";
static const char *const park10_orders = TSR_SOURCE_DIR "/../shared/bench/park10/orders.jsonl";
static const char *const park = TSR_SOURCE_DIR "/../shared/scenarios/park/park.yaml";

/* A park order with everything the result JSON writes: segments, a tier,
 * points redeemed and earned, lots, offers. */
static const char park_order[] =
    "{\"id\":\"A-7\",\"datetime\":\"2026-06-10T11:00:00+03:00\","
    "\"customer\":{\"id\":\"C5\",\"visits\":4,\"member\":true,\"points_balance\":1200,"
    "\"last_visit\":\"2025-11-01\"},"
    "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":180},"
    "{\"id\":\"t2\",\"kind\":\"ticket\",\"height_cm\":120},"
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"price\":\"150.00\",\"quantity\":2}],"
    "\"redeem_points\":1000}";

typedef struct orders {
    char *v[MAX_ORDERS];
    size_t n;
} orders;

static void read_orders(orders *o)
{
    FILE *f = fopen(park10_orders, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    o->n = 0;
    if (!f)
        return;
    while (o->n < MAX_ORDERS && (len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > 0)
            o->v[o->n++] = strdup(line);
    }
    free(line);
    fclose(f);
}

static void free_orders(orders *o)
{
    size_t i;
    for (i = 0; i < o->n; i++)
        free(o->v[i]);
    o->n = 0;
}

/* The JSON of a fresh evaluation (tsr_evaluate on a new order), copied. */
static char *fresh_json(const tsr_ruleset *rs, const char *text, const tsr_eval_options *opts)
{
    tsr_order *o = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    char *copy;

    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    if (tsr_order_parse(o, text, strlen(text), &err) != TSR_OK ||
        tsr_evaluate(&r, rs, o, opts, &err) != TSR_OK)
        fail_msg("fresh evaluation failed: %s (%s)", err.message, err.path);
    copy = strdup(tsr_result_json(r, NULL));
    assert_non_null(copy);
    tsr_result_free(r);
    tsr_order_free(o);
    return copy;
}

static void assert_json(tsr_result *r, const char *want)
{
    size_t len;
    const char *got = tsr_result_json(r, &len);

    assert_non_null(got);
    assert_int_equal(len, strlen(want));
    assert_string_equal(got, want);
}

/* Every park10 order, trace on and off, through one kept result (prepared
 * orders and text), each interleaved with the park scenario's order under
 * its own rule set: the bytes of a fresh evaluation every time. */
static void test_reused_result_gives_the_bytes_of_a_fresh_one_across_orders_and_rule_sets(void **state)
{
    static orders o;
    tsr_ruleset *rs10 = NULL, *rsp = NULL;
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    tsr_result *kept = NULL, *kept_text = NULL;
    tsr_order *order = NULL;
    tsr_error err;
    char *park_want[2];
    int trace;
    size_t i;
    (void)state;

    read_orders(&o);
    if (o.n == 0)
        skip();
    assert_int_equal(tsr_ruleset_load_file(&rs10, park10, NULL, &err), TSR_OK);
    assert_int_equal(tsr_ruleset_load_file(&rsp, park, NULL, &err), TSR_OK);
    assert_int_equal(tsr_order_new(&order, rs10, &err), TSR_OK);
    for (trace = 0; trace < 2; trace++) {
        opts.no_trace = !trace;
        park_want[trace] = fresh_json(rsp, park_order, &opts);
        for (i = 0; i < o.n; i++) {
            char *want = fresh_json(rs10, o.v[i], &opts);

            assert_int_equal(tsr_order_parse(order, o.v[i], strlen(o.v[i]), &err), TSR_OK);
            assert_int_equal(tsr_evaluate_into(&kept, rs10, order, &opts, &err), TSR_OK);
            assert_json(kept, want);
            assert_int_equal(tsr_evaluate_text_into(&kept_text, rs10, o.v[i], strlen(o.v[i]),
                                                    &opts, &err), TSR_OK);
            assert_json(kept_text, want);
            free(want);
            if (i % 97 == 0) {
                /* another rule set into the same results */
                assert_int_equal(tsr_evaluate_text_into(&kept, rsp, park_order,
                                                        sizeof park_order - 1, &opts, &err),
                                 TSR_OK);
                assert_json(kept, park_want[trace]);
                assert_string_equal(tsr_result_order_id(kept), "A-7");
            }
        }
    }
    free(park_want[0]);
    free(park_want[1]);
    tsr_result_free(kept);
    tsr_result_free(kept_text);
    tsr_order_free(order);
    tsr_ruleset_free(rsp);
    tsr_ruleset_free(rs10);
    free_orders(&o);
}

/* After one pass over the orders, a second pass through the kept result
 * and the rule set's spare order makes no call to the allocator. */
static void test_reuse_allocates_nothing_in_steady_state(void **state)
{
    static orders o;
    counting c = { 0 };
    tsr_allocator a = { counting_realloc, &c };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_result *kept = NULL;
    tsr_order *order = NULL;
    size_t i, pass, calls = 0;
    (void)state;

    read_orders(&o);
    if (o.n == 0)
        skip();
    lo.allocator = &a;
    assert_int_equal(tsr_ruleset_load_file(&rs, park10, &lo, NULL), TSR_OK);
    assert_int_equal(tsr_order_new(&order, rs, NULL), TSR_OK);
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            calls = c.calls;
        for (i = 0; i < o.n; i++) {
            opts.no_trace = (int)(i & 1);
            assert_int_equal(tsr_evaluate_text_into(&kept, rs, o.v[i], strlen(o.v[i]), &opts,
                                                    NULL), TSR_OK);
            assert_non_null(tsr_result_json(kept, NULL));
            assert_int_equal(tsr_order_parse(order, o.v[i], strlen(o.v[i]), NULL), TSR_OK);
            assert_int_equal(tsr_evaluate_into(&kept, rs, order, &opts, NULL), TSR_OK);
            assert_non_null(tsr_result_json(kept, NULL));
        }
    }
    assert_int_equal(c.calls, calls);
    /* tsr_evaluate_text itself reuses the spare order: one result a call */
    calls = c.calls;
    for (i = 0; i < o.n; i++) {
        tsr_result *r = NULL;
        assert_int_equal(tsr_evaluate_text(&r, rs, o.v[i], strlen(o.v[i]), NULL, NULL), TSR_OK);
        tsr_result_free(r);
    }
    assert_int_equal(c.calls - calls, o.n);
    tsr_result_free(kept);
    tsr_order_free(order);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
    free_orders(&o);
}

/* A failed evaluation frees the kept result and says why; the next call
 * starts a new one.  A NULL `result` is refused. */
static void test_failed_evaluation_into_frees_the_result(void **state)
{
    counting c = { 0 };
    tsr_allocator a = { counting_realloc, &c };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_result *kept = NULL;
    tsr_error err;
    static const char bad[] =
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\",\"kind\":7}]}";
    (void)state;

    lo.allocator = &a;
    assert_int_equal(tsr_ruleset_load_file(&rs, park, &lo, NULL), TSR_OK);
    assert_int_equal(tsr_evaluate_text_into(&kept, rs, park_order, sizeof park_order - 1, NULL,
                                            &err), TSR_OK);
    assert_non_null(kept);
    assert_int_equal(tsr_evaluate_text_into(&kept, rs, bad, sizeof bad - 1, NULL, &err),
                     TSR_EORDER);
    assert_null(kept);
    assert_string_equal(err.path, "items[0].kind");
    assert_int_equal(tsr_evaluate_text_into(&kept, rs, park_order, sizeof park_order - 1, NULL,
                                            &err), TSR_OK);
    assert_int_equal(tsr_evaluate_into(&kept, rs, NULL, NULL, &err), TSR_EINVAL);
    assert_null(kept);
    assert_int_equal(tsr_evaluate_into(NULL, rs, NULL, NULL, &err), TSR_EINVAL);
    assert_int_equal(tsr_evaluate_text_into(NULL, rs, park_order, sizeof park_order - 1, NULL,
                                            &err), TSR_EINVAL);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

/* A result made under one allocator, reused for a rule set with another:
 * its memory goes back to its own allocator and a new result is made from
 * the rule set's. */
static void test_result_of_another_allocator_is_made_anew(void **state)
{
    counting c = { 0 };
    tsr_allocator a = { counting_realloc, &c };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *counted = NULL, *plain = NULL;
    tsr_result *kept = NULL;
    char *want;
    (void)state;

    lo.allocator = &a;
    assert_int_equal(tsr_ruleset_load_file(&counted, park, &lo, NULL), TSR_OK);
    assert_int_equal(tsr_ruleset_load_file(&plain, park, NULL, NULL), TSR_OK);
    want = fresh_json(plain, park_order, NULL);
    assert_int_equal(tsr_evaluate_text_into(&kept, counted, park_order, sizeof park_order - 1,
                                            NULL, NULL), TSR_OK);
    assert_json(kept, want);
    /* the counted rule set is freed: the result is not looked at, only freed */
    tsr_ruleset_free(counted);
    assert_true(c.live > 0);
    assert_int_equal(tsr_evaluate_text_into(&kept, plain, park_order, sizeof park_order - 1,
                                            NULL, NULL), TSR_OK);
    assert_int_equal(c.live, 0);
    assert_json(kept, want);
    tsr_result_free(kept);
    tsr_ruleset_free(plain);
    free(want);
}

/* Fail allocation 1, 2, 3, ... of evaluating into a new and into a kept
 * result (a small order, then one of 40 lines that outgrows the kept
 * memory): every failure is TSR_ENOMEM with the result freed, nothing
 * leaked, and the first success gives the right bytes. */
static void test_evaluate_into_fails_cleanly_at_every_allocation(void **state)
{
    counting c = { 0 };
    tsr_allocator a = { counting_realloc, &c };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    char big[8192], *want_small, *want_big;
    size_t n, len = 0;
    int i, kind;
    (void)state;

    len += (size_t)snprintf(big + len, sizeof big - len,
                            "{\"id\":\"B-1\",\"datetime\":\"2026-06-10T11:00:00+03:00\","
                            "\"customer\":{\"id\":\"C5\",\"visits\":4,\"member\":true},\"items\":[");
    for (i = 0; i < 40; i++)
        len += (size_t)snprintf(big + len, sizeof big - len,
                                "%s{\"id\":\"l%d\",\"kind\":\"ticket\",\"height_cm\":%d}",
                                i ? "," : "", i, 100 + i);
    len += (size_t)snprintf(big + len, sizeof big - len, "]}");
    assert_true(len < sizeof big - 1);

    lo.allocator = &a;
    assert_int_equal(tsr_ruleset_load_file(&rs, park, &lo, NULL), TSR_OK);
    want_small = fresh_json(rs, park_order, NULL);
    want_big = fresh_json(rs, big, NULL);
    for (kind = 0; kind < 4; kind++) {
        for (n = 1;; n++) {
            tsr_result *kept = NULL;
            int rc;

            /* kind 0: a new result; 1: a kept one of a small order given a
             * big one; 2: a kept one given the same order again; 3: a kept
             * one of the big order after a small one, in several chunks,
             * given it again (the chunks become one) */
            if (kind > 0)
                assert_int_equal(tsr_evaluate_text_into(&kept, rs, park_order,
                                                        sizeof park_order - 1, NULL, NULL),
                                 TSR_OK);
            if (kind == 3)
                assert_int_equal(tsr_evaluate_text_into(&kept, rs, big, len, NULL, NULL), TSR_OK);
            c.calls = 0;
            c.fail_at = n;
            c.fail_once = false;
            if (kind == 2)
                rc = tsr_evaluate_text_into(&kept, rs, park_order, sizeof park_order - 1, NULL,
                                            NULL);
            else
                rc = tsr_evaluate_text_into(&kept, rs, big, len, NULL, NULL);
            if (rc != TSR_OK) {
                /* a failed evaluation frees the result */
                assert_int_equal(rc, TSR_ENOMEM);
                assert_null(kept);
            } else if (tsr_result_json(kept, NULL) == NULL) {
                /* a failed JSON leaves the result whole, to be freed */
                rc = TSR_ENOMEM;
                assert_int_equal(tsr_result_line_count(kept), kind == 2 ? 3 : 40);
            }
            c.fail_at = 0;
            if (rc == TSR_OK) {
                assert_json(kept, kind == 2 ? want_small : want_big);
                tsr_result_free(kept);
                break;
            }
            tsr_result_free(kept);
            assert_true(n < 500);
        }
    }
    /* nothing leaked by any attempt: what is left is the rule set's, with
     * its spare orders, and goes with it */
    free(want_small);
    free(want_big);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

/* Setup copies each line's id and kind and the order id into the result
 * (strings of up to 16 bytes with inline fixed-size moves, longer ones
 * with memcpy): every length from 1 to 40, each string at its own offset
 * in the result's block, must come back exactly, NUL-terminated. */
static void test_result_keeps_ids_and_kinds_of_every_length(void **state)
{
    static const char rules[] = "tessera: 1\nruleset: lengths\nversion: \"1\"\ncurrency: EUR\n";
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    tsr_ruleset *rs = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    char order[8192], want[64];
    size_t len = 0, n = 40;
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&rs, rules, sizeof rules - 1, "lengths.yaml", NULL,
                                             &err), TSR_OK);
    for (size_t k = 1; k <= n; k++) {
        len = (size_t)snprintf(order, sizeof order,
                               "{\"id\":\"%.*s\",\"datetime\":\"2026-06-10T11:00:00Z\",\"items\":[",
                               (int)k, alphabet);
        for (size_t i = 1; i <= n; i++)
            len += (size_t)snprintf(order + len, sizeof order - len,
                                    "%s{\"id\":\"%.*s\",\"kind\":\"%.*s\",\"price\":\"1.00\"}",
                                    i > 1 ? "," : "", (int)i, alphabet + (k % 7),
                                    (int)((i + k) % n + 1), alphabet + 3);
        snprintf(order + len, sizeof order - len, "]}");
        assert_int_equal(tsr_evaluate_text_into(&r, rs, order, strlen(order), NULL, &err), TSR_OK);
        snprintf(want, sizeof want, "%.*s", (int)k, alphabet);
        assert_string_equal(tsr_result_order_id(r), want);
        assert_int_equal(tsr_result_line_count(r), n);
        for (size_t i = 1; i <= n; i++) {
            snprintf(want, sizeof want, "%.*s", (int)i, alphabet + (k % 7));
            assert_string_equal(tsr_result_line_id(r, i - 1), want);
            snprintf(want, sizeof want, "\"kind\":\"%.*s\"", (int)((i + k) % n + 1),
                     alphabet + 3);
            if (!strstr(tsr_result_json(r, NULL), want))
                fail_msg("order id length %zu: no %s in the result", k, want);
            /* the writer takes the id's length from the result line */
            snprintf(want, sizeof want, "{\"id\":\"%.*s\",\"kind\"", (int)i, alphabet + (k % 7));
            if (!strstr(tsr_result_json(r, NULL), want))
                fail_msg("order id length %zu: no %s in the result", k, want);
        }
    }
    /* ids and kinds that need escapes or are not ASCII: their lengths are
     * bytes of the text as read, written escaped in full */
    snprintf(order, sizeof order, "%s",
             "{\"datetime\":\"2026-06-10T11:00:00Z\",\"items\":["
             "{\"id\":\"a\\\"b\\\\c\\u00e9\",\"kind\":\"k\\u2603\\n\",\"price\":\"1.00\"}]}");
    assert_int_equal(tsr_evaluate_text_into(&r, rs, order, strlen(order), NULL, &err), TSR_OK);
    assert_string_equal(tsr_result_line_id(r, 0), "a\"b\\c\xc3\xa9");
    assert_non_null(strstr(tsr_result_json(r, NULL),
                           "{\"id\":\"a\\\"b\\\\c\xc3\xa9\",\"kind\":\"k\xe2\x98\x83\\n\","));
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* Setup zeroes the segment flags and the lines' condition memo (park10:
 * one row per line) with fixed-size stores up to 32 bytes: orders of 1 to
 * 20 lines, their kinds swapped from one order to the next, through one
 * kept result give the bytes of a fresh evaluation (a memo byte left from
 * the order before would keep a line in the wrong category). */
static void test_memo_zeroed_for_every_order_size(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_result *kept = NULL;
    tsr_order *o = NULL;
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    tsr_error err;
    char text[4096];
    size_t n, i, swap;
    int at;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, park10, NULL, &err), TSR_OK);
    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    opts.no_trace = 1;
    for (n = 1; n <= 20; n++)
        for (swap = 0; swap < 2; swap++) {
            char *want;
            at = snprintf(text, sizeof text, "{\"id\":\"M\",\"datetime\":"
                          "\"2026-06-13T11:00:00+03:00\",\"items\":[");
            for (i = 0; i < n; i++)
                at += snprintf(text + at, sizeof text - (size_t)at,
                               (i + swap) % 2 ? "%s{\"id\":\"l%zu\",\"kind\":\"ticket\","
                                                "\"height_cm\":%zu}"
                                              : "%s{\"id\":\"l%zu\",\"kind\":\"fnb\","
                                                "\"price\":\"2.50\",\"height_cm\":%zu}",
                               i ? "," : "", i, 90 + 5 * i);
            snprintf(text + at, sizeof text - (size_t)at, "]}");
            want = fresh_json(rs, text, &opts);
            assert_int_equal(tsr_order_parse(o, text, strlen(text), &err), TSR_OK);
            assert_int_equal(tsr_evaluate_into(&kept, rs, o, &opts, &err), TSR_OK);
            assert_json(kept, want);
            free(want);
        }
    tsr_result_free(kept);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* A finished order (one read) is evaluated without checking it again; one
 * changed since by a setter is checked again at each evaluation: a
 * duplicate line id made after the read is reported, into a kept result
 * and a new one, and evaluating the order read again is fine. */
static void test_order_changed_after_reading_is_checked_again(void **state)
{
    static const char rules[] = "tessera: 1\nruleset: ready\nversion: \"1\"\ncurrency: EUR\n";
    static const char text[] =
        "{\"datetime\":\"2026-06-10T11:00:00Z\",\"items\":["
        "{\"id\":\"a\",\"kind\":\"k\",\"price\":\"1.00\"},"
        "{\"id\":\"b\",\"kind\":\"k\",\"price\":\"2.00\"}]}";
    tsr_ruleset *rs = NULL;
    tsr_order *o = NULL;
    tsr_result *kept = NULL, *r = NULL;
    tsr_error err;
    int id;
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&rs, rules, sizeof rules - 1, "ready.yaml", NULL,
                                             &err), TSR_OK);
    id = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "id");
    assert_true(id >= 0);
    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    assert_int_equal(tsr_order_parse(o, text, sizeof text - 1, &err), TSR_OK);
    assert_int_equal(tsr_evaluate_into(&kept, rs, o, NULL, &err), TSR_OK);
    assert_string_equal(tsr_result_line_id(kept, 1), "b");
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, 1, id, "a", 1, &err), TSR_OK);
    assert_int_equal(tsr_evaluate_into(&kept, rs, o, NULL, &err), TSR_EORDER);
    assert_null(kept);
    assert_string_equal(err.path, "items[1].id");
    assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_EORDER);
    assert_null(r);
    assert_int_equal(tsr_order_parse(o, text, sizeof text - 1, &err), TSR_OK);
    assert_int_equal(tsr_evaluate_into(&kept, rs, o, NULL, &err), TSR_OK);
    assert_int_equal(tsr_result_line_count(kept), 2);
    tsr_result_free(kept);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* Setup converts `now` to local time once and hands the conversion to the
 * expressions (their memo of the last instant converted): date, weekday,
 * hour and minute of `now`, answered inline from it and through the
 * expression walker (`+ 0` keeps them off the inline path), must be those
 * of the local time in the rule set's zone, whatever the order's own
 * offset, around local and UTC midnights, in summer and winter time. */
static void test_local_time_of_now_from_setup_is_the_zones(void **state)
{
    static const char rules[] =
        "tessera: 1\nruleset: now\nversion: \"1\"\ncurrency: EUR\ntimezone: Europe/Vienna\n"
        "segments:\n"
        "  wd_fast: weekday(now) >= 6\n"
        "  wd_walk: weekday(now) + 0 >= 6\n"
        "  h_fast: hour(now) < 1\n"
        "  h_walk: hour(now) + 0 < 1\n"
        "  m_fast: minute(now) >= 30\n"
        "  m_walk: minute(now) + 0 >= 30\n"
        "  d_fast: date(now) >= date(\"2026-03-29\")\n"
        "  d_walk: days_between(date(\"2026-03-29\"), date(now)) >= 0\n";
    static const char *const names[8] = { "wd_fast", "wd_walk", "h_fast", "h_walk",
                                          "m_fast", "m_walk", "d_fast", "d_walk" };
    /* the instant, then whether (weekend, hour 0, minute >= 30, from
     * 2026-03-29) hold at its local time in Vienna */
    static const struct { const char *at, *want; } cases[] = {
        { "2026-03-28T22:59:00Z", "1010" },        /* Sat 23:59 CET */
        { "2026-03-28T23:00:00Z", "1101" },        /* Sun 00:00 CET */
        { "2026-03-29T00:30:00+02:00", "1010" },   /* Sat 23:30 CET */
        { "2026-03-28T23:45:00+00:00", "1111" },   /* Sun 00:45 CET */
        { "2026-03-29T01:59:00+01:00", "1011" },   /* Sun 01:59 CET, before the change */
        { "2026-10-24T22:30:00Z", "1111" },        /* Sun 00:30 CEST */
        { "2026-10-25T00:15:00+05:30", "1011" },   /* Sat 20:45 CEST */
        { "2026-12-31T23:30:00-10:00", "0011" },   /* Fri 2027-01-01 10:30 CET */
        { "2027-01-02T23:40:00Z", "1111" },        /* Sun 2027-01-03 00:40 CET */
        { "2026-06-10T09:05:00Z", "0001" },        /* Wed 11:05 CEST */
    };
    tsr_ruleset *rs = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    char order[256];
    size_t i, j, k;
    (void)state;

    if (tsr_ruleset_load_string(&rs, rules, sizeof rules - 1, "now.yaml", NULL, &err) != TSR_OK)
        fail_msg("%s", err.message);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool in[8] = { false };
        snprintf(order, sizeof order,
                 "{\"datetime\":\"%s\",\"items\":[{\"id\":\"l\",\"kind\":\"k\","
                 "\"price\":\"1.00\"}]}", cases[i].at);
        if (tsr_evaluate_text_into(&r, rs, order, strlen(order), NULL, &err) != TSR_OK)
            fail_msg("%s: %s", cases[i].at, err.message);
        for (k = 0; k < tsr_result_segment_count(r); k++)
            for (j = 0; j < 8; j++)
                if (strcmp(tsr_result_segment(r, k), names[j]) == 0)
                    in[j] = true;
        for (j = 0; j < 8; j++)
            if (in[j] != (cases[i].want[j / 2] == '1'))
                fail_msg("%s: %s is %d", cases[i].at, names[j], in[j]);
    }
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A category price `K1 if weekday(now) >= 6 else K2` reads the weekday
 * of the local date setup keeps (no call); `+ 0` keeps its twin on the
 * expression walker: both give the same price at every instant around
 * local midnights of the rule set's zone, into one kept result, and
 * keep the line totals in step.  (That the inline answer charges what the
 * walk charges: test_expr_eval.c, fused_lists_and_calendar_answer_as_the_walker,
 * where the same memo is set by the walk before the inline answer.) */
static void test_weekday_price_from_setup_agrees_with_the_walker(void **state)
{
    static const char head[] =
        "tessera: 1\nruleset: wd\nversion: \"1\"\ncurrency: EUR\ntimezone: Europe/Vienna\n"
        "categories:\n"
        "  - id: fast\n    for: item.kind == \"a\"\n"
        "    price: 50.00 if weekday(now) >= 6 else 40.00\n"
        "  - id: walk\n    for: item.kind == \"b\"\n"
        "    price: 50.00 if weekday(now) + 0 >= 6 else 40.00\n";
    static const struct { const char *at; int64_t want; } cases[] = {
        { "2026-03-28T22:59:00Z", 5000 },          /* Sat 23:59 CET */
        { "2026-03-27T23:00:00Z", 5000 },          /* Sat 00:00 CET */
        { "2026-03-27T22:59:00Z", 4000 },          /* Fri 23:59 CET */
        { "2026-03-29T22:30:00+02:00", 5000 },     /* Sun 22:30 CEST */
        { "2026-03-29T22:30:00Z", 4000 },          /* Mon 00:30 CEST */
        { "2026-10-25T00:15:00+05:30", 5000 },     /* Sat 20:45 CEST */
        { "2026-12-31T23:30:00-10:00", 4000 },     /* Fri 2027-01-01 10:30 CET */
    };
    tsr_ruleset *rs = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    char order[256];
    size_t i;
    (void)state;

    if (tsr_ruleset_load_string(&rs, head, sizeof head - 1, "wd.yaml", NULL, &err) != TSR_OK)
        fail_msg("%s", err.message);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(order, sizeof order,
                 "{\"datetime\":\"%s\",\"items\":[{\"id\":\"x\",\"kind\":\"a\"},"
                 "{\"id\":\"y\",\"kind\":\"b\"},{\"id\":\"z\",\"kind\":\"a\"}]}",
                 cases[i].at);
        if (tsr_evaluate_text_into(&r, rs, order, strlen(order), NULL, &err) != TSR_OK)
            fail_msg("%s: %s", cases[i].at, err.message);
        assert_int_equal(tsr_result_line_total(r, 0), cases[i].want);
        assert_int_equal(tsr_result_line_total(r, 1), cases[i].want);
        assert_int_equal(tsr_result_line_total(r, 2), cases[i].want);
    }
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

/* A kept result keeps its promo code flags between evaluations and clears
 * only those its entered codes set (eval.c, clear_promo_flags): an order
 * after one that entered codes sees none of them accepted, whether they
 * were accepted, rejected, settled to no_effect or entered twice, and
 * across a rule set with another number of codes.  Each result is
 * compared with a fresh evaluation's bytes. */
static void test_kept_promo_flags_do_not_outlive_their_order(void **state)
{
    static const char head[] =
        "tessera: 1\nruleset: codes\nversion: \"1\"\ncurrency: EUR\nminor_units: 2\n"
        "rounding: half_up\n"
        "categories:\n"
        "  - { id: plain, price: 10.00 }\n"
        "discounts:\n"
        "  - { id: d7, when: promo.p7, for: item.kind == \"ticket\", percent: 10 }\n"
        "  - { id: d3, requires: p3, for: item.kind == \"ticket\", percent: 50 }\n"
        "  - { id: d5, requires: p5, for: item.kind == \"nothing\", percent: 50 }\n"
        "promo_codes:\n";
    static const char *const texts[] = {
        "{\"id\":\"o1\",\"datetime\":\"2026-06-10T11:00:00+02:00\",\"items\":"
        "[{\"id\":\"a\",\"kind\":\"ticket\"}],\"promo_codes\":[\"C7\",\"C3\",\"C5\"]}",
        "{\"id\":\"o2\",\"datetime\":\"2026-06-10T11:00:00+02:00\",\"items\":"
        "[{\"id\":\"a\",\"kind\":\"ticket\"}]}",
        "{\"id\":\"o3\",\"datetime\":\"2026-06-10T11:00:00+02:00\",\"items\":"
        "[{\"id\":\"a\",\"kind\":\"ticket\"}],\"promo_codes\":[\"C7\",\"C7\",\"NOPE\"]}",
        "{\"id\":\"o4\",\"datetime\":\"2026-06-10T11:00:00+02:00\",\"items\":"
        "[{\"id\":\"a\",\"kind\":\"ticket\"}],\"promo_codes\":[\"C39\"]}",
        "{\"id\":\"o5\",\"datetime\":\"2026-06-10T11:00:00+02:00\",\"items\":"
        "[{\"id\":\"a\",\"kind\":\"ticket\"}]}",
    };
    char rules[4096], few[1024];
    size_t len = 0, i, round;
    tsr_ruleset *rs = NULL, *rs_few = NULL;
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    tsr_result *kept = NULL;
    tsr_error err;
    (void)state;

    len = (size_t)snprintf(rules, sizeof rules, "%s", head);
    for (i = 0; i < 40; i++)
        len += (size_t)snprintf(rules + len, sizeof rules - len, "  - { id: p%zu, code: C%zu }\n",
                                i, i);
    assert_true(len < sizeof rules);
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, len, "codes.yaml", NULL, &err), TSR_OK);
    len = (size_t)snprintf(few, sizeof few, "%s  - { id: p3, code: C3 }\n  - { id: p5, code: C5 }\n"
                           "  - { id: p7, code: C7 }\n", head);
    assert_true(len < sizeof few);
    assert_int_equal(tsr_ruleset_load_string(&rs_few, few, len, "few.yaml", NULL, &err), TSR_OK);
    for (round = 0; round < 2; round++) {
        opts.no_trace = (int)round;
        for (i = 0; i < 2 * (sizeof texts / sizeof texts[0]); i++) {
            /* every third evaluation against the rule set of three codes */
            const tsr_ruleset *r = i % 3 == 2 ? rs_few : rs;
            const char *t = texts[i % (sizeof texts / sizeof texts[0])];
            char *want = fresh_json(r, t, &opts);

            assert_int_equal(tsr_evaluate_text_into(&kept, r, t, strlen(t), &opts, &err), TSR_OK);
            assert_json(kept, want);
            free(want);
        }
    }
    /* what the orders without codes say, spelled out */
    assert_int_equal(tsr_evaluate_text_into(&kept, rs, texts[0], strlen(texts[0]), &opts, &err),
                     TSR_OK);
    assert_non_null(strstr(tsr_result_json(kept, NULL), "{\"id\":\"d7\",\"amount\":\"1.00\"}"));
    assert_int_equal(tsr_evaluate_text_into(&kept, rs, texts[1], strlen(texts[1]), &opts, &err),
                     TSR_OK);
    assert_non_null(strstr(tsr_result_json(kept, NULL), "\"discounts\":[]"));
    assert_null(strstr(tsr_result_json(kept, NULL), "d7"));
    assert_null(strstr(tsr_result_json(kept, NULL), "d3"));
    tsr_result_free(kept);
    tsr_ruleset_free(rs_few);
    tsr_ruleset_free(rs);
}

/* Does the result (r) or the profile (p) hold segment `id`? */
static bool result_holds(const tsr_result *r, const char *id)
{
    size_t i;
    for (i = 0; i < tsr_result_segment_count(r); i++)
        if (strcmp(tsr_result_segment(r, i), id) == 0)
            return true;
    return false;
}

static bool profile_holds(const tsr_profile *p, const char *id)
{
    size_t i;
    for (i = 0; i < tsr_profile_segment_count(p); i++)
        if (strcmp(tsr_profile_segment(p, i), id) == 0)
            return true;
    return false;
}

/* The segments step answers a segment that is one list or birthday test
 * (`"vip" in customer.tags`, `birthday_within(customer.birthday,
 * date(now), 0)`) itself (eval.c, segment_test); a profile asks the
 * expression walker (profile.c).  Both give the same segments for lists
 * with and without the value, missing lists and fields, birthdays on and
 * off the day (29 February in leap and common years, the day of birth,
 * days before it, the calendar's ends), at `now` in a zone or its own
 * offset; and under every budget from 1 step on, the same outcome (the
 * limit reached or not; segments are the only step that charges here). */
static void test_segments_answered_in_the_step_agree_with_the_walker(void **state)
{
    static const char rules[] =
        "tessera: 1\nruleset: seg\nversion: \"1\"\ncurrency: EUR\ntimezone: Europe/Vienna\n"
        "schema:\n  customer: { birthday: date, visit: date, nums: [int] }\n"
        "segments:\n"
        "  vip: '\"vip\" in customer.tags'\n"
        "  three: 3 in customer.nums\n"
        "  bday: birthday_within(customer.birthday, date(now), 0)\n"
        "  visit: birthday_within(customer.birthday, customer.visit, 0)\n"
        "  near: birthday_within(customer.birthday, date(now), 2)\n";
    static const char *const ids[] = { "vip", "three", "bday", "visit", "near" };
    static const char *const customers[] = {
        "{\"id\":\"a\"}",
        "{\"id\":\"b\",\"tags\":[],\"nums\":[]}",
        "{\"id\":\"c\",\"tags\":[\"vip\"],\"nums\":[3]}",
        "{\"id\":\"d\",\"tags\":[\"a\",\"vipx\",\"vip\"],\"nums\":[1,2,3,4]}",
        "{\"id\":\"e\",\"tags\":[\"VIP\",\"vi\",\"season_pass\"],\"nums\":[30,-3]}",
        "{\"id\":\"f\",\"birthday\":\"1980-04-25\",\"visit\":\"2031-04-25\"}",
        "{\"id\":\"g\",\"birthday\":\"2000-02-29\",\"visit\":\"2027-02-28\"}",
        "{\"id\":\"h\",\"birthday\":\"2000-02-29\",\"visit\":\"2028-02-28\"}",
        "{\"id\":\"i\",\"birthday\":\"2000-02-29\",\"visit\":\"2028-02-29\"}",
        "{\"id\":\"j\",\"birthday\":\"2026-03-01\",\"visit\":\"2026-03-01\"}",
        "{\"id\":\"k\",\"birthday\":\"2027-03-01\",\"visit\":\"2026-03-01\"}",
        "{\"id\":\"l\",\"birthday\":\"0001-01-01\",\"visit\":\"9999-01-01\"}",
        "{\"id\":\"m\",\"birthday\":\"1999-12-31\",\"visit\":\"0001-12-31\"}",
        "{\"id\":\"n\",\"birthday\":\"1970-02-28\",\"visit\":\"2027-03-01\"}",
        "{\"id\":\"o\",\"birthday\":\"1964-02-29\"}",
        "{\"id\":\"p\",\"birthday\":\"2026-02-28\",\"visit\":\"2026-02-27\"}",
    };
    static const char *const nows[] = {
        "2026-04-25T10:00:00+02:00", "2026-02-28T23:30:00Z", "2026-03-01T00:30:00+01:00",
        "2028-02-28T12:00:00Z", "2028-02-29T12:00:00Z", "2026-12-31T23:30:00-10:00",
        "2026-01-01T00:00:00+14:00",
    };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_result *r = NULL;
    tsr_error err;
    char order[512];
    size_t c, n, k;
    uint64_t budget;
    unsigned held[5] = { 0 }, failed[5] = { 0 }, limited = 0;
    (void)state;

    for (budget = 0; budget <= 24; budget++) {
        tsr_ruleset *rs = NULL;
        tsr_profile *p = NULL;
        lo.max_eval_steps = budget;
        if (tsr_ruleset_load_string(&rs, rules, sizeof rules - 1, "seg.yaml", &lo, &err) != TSR_OK)
            fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
        assert_int_equal(tsr_profile_new(&p, rs, &err), TSR_OK);
        for (n = 0; n < sizeof nows / sizeof nows[0]; n++) {
            for (c = 0; c < sizeof customers / sizeof customers[0]; c++) {
                int rc, prc;
                snprintf(order, sizeof order,
                         "{\"datetime\":\"%s\",\"customer\":%s,"
                         "\"items\":[{\"id\":\"x\",\"kind\":\"a\",\"price\":\"1.00\"}]}",
                         nows[n], customers[c]);
                rc = tsr_evaluate_text_into(&r, rs, order, strlen(order), NULL, &err);
                prc = tsr_profile_parse(p, order, strlen(order), &err);
                if (rc != prc)
                    fail_msg("budget %u, %s: evaluation %d, profile %d", (unsigned)budget, order,
                             rc, prc);
                if (rc != TSR_OK) {
                    assert_int_equal(rc, TSR_ELIMIT);
                    limited++;
                    continue;
                }
                for (k = 0; k < sizeof ids / sizeof ids[0]; k++) {
                    bool h = result_holds(r, ids[k]);
                    if (h != profile_holds(p, ids[k]))
                        fail_msg("budget %u, segment %s: %s", (unsigned)budget, ids[k], order);
                    h ? held[k]++ : failed[k]++;
                }
            }
        }
        tsr_profile_free(p);
        tsr_ruleset_free(rs);
    }
    tsr_result_free(r);
    /* every segment both held and failed, and some budgets ran out */
    for (k = 0; k < sizeof ids / sizeof ids[0]; k++)
        if (!held[k] || !failed[k])
            fail_msg("segment %s held %u times, failed %u", ids[k], held[k], failed[k]);
    assert_true(limited > 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reused_result_gives_the_bytes_of_a_fresh_one_across_orders_and_rule_sets),
        cmocka_unit_test(test_reuse_allocates_nothing_in_steady_state),
        cmocka_unit_test(test_failed_evaluation_into_frees_the_result),
        cmocka_unit_test(test_result_of_another_allocator_is_made_anew),
        cmocka_unit_test(test_evaluate_into_fails_cleanly_at_every_allocation),
        cmocka_unit_test(test_result_keeps_ids_and_kinds_of_every_length),
        cmocka_unit_test(test_order_changed_after_reading_is_checked_again),
        cmocka_unit_test(test_memo_zeroed_for_every_order_size),
        cmocka_unit_test(test_local_time_of_now_from_setup_is_the_zones),
        cmocka_unit_test(test_weekday_price_from_setup_agrees_with_the_walker),
        cmocka_unit_test(test_kept_promo_flags_do_not_outlive_their_order),
        cmocka_unit_test(test_segments_answered_in_the_step_agree_with_the_walker),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
