/*
 * fuzz_refund.c — libFuzzer harness for refunds (SPEC §4, Refund): the
 * request reader, the receipt check (the order evaluated again and compared
 * with the receipt), `refunds.allowed` and `fee`, points restored and revoked,
 * re-pricing with clawback, `previous`, and the refund result's JSON and
 * accessors.
 *
 * Each input is a refund request as tsr_refund reads it:
 *   {"order": {...}, "receipt": {...}, "lines": [...], "datetime": "...",
 *    "previous": {"lines": [...], "clawback": "..."}}
 * The low bit of the input's size picks the rule set (refund_rules.h, both
 * loaded once and kept): even, tests/rules/refunds/park.yaml (a bundle and a
 * threshold that re-pricing can break: clawback); odd, opera.yaml (a fee
 * expression, a table-priced category, a promo code, flat points, no
 * re-pricing).  A seed keeps its rule set by keeping the parity of its size.
 *
 * Checked: no crash, no sanitizer report, no leak, no hang; a refused request
 * carries a well-formed error and leaves *out NULL; a refund result's JSON is
 * as long as it says, every line has an id and a known status, a rejected line
 * and only a rejected line has a reason, and the totals add up as tessera.h
 * promises (amount = lines − clawback + clawback_returned, fee = lines' fees,
 * points = lines' + order-level), and the same request run twice gives the
 * same JSON.
 */
#include "fuzz_common.h"
#include "refund_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once, on the first input, and kept for the whole run. */
static tsr_ruleset *park, *opera;

static void free_rules(void)
{
    tsr_ruleset_free(park);
    tsr_ruleset_free(opera);
    park = opera = NULL;
}

static tsr_ruleset *load_fixed(const char *text, size_t len, const char *name)
{
    tsr_load_options opts;
    tsr_ruleset *rs = NULL;
    tsr_error err;

    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    if (tsr_ruleset_load_string(&rs, text, len, name, &opts, &err) != TSR_OK) {
        /* Without the rule set the harness tests nothing. */
        fprintf(stderr, "fuzz_refund: %s does not load: %s:%d:%d: %s\n", name, err.file,
                err.line, err.column, err.message);
        abort();
    }
    return rs;
}

static const tsr_ruleset *rules_for(size_t size)
{
    if (!park) {
        park = load_fixed(refund_park_rules, sizeof refund_park_rules - 1, "park.yaml");
        opera = load_fixed(refund_opera_rules, sizeof refund_opera_rules - 1, "opera.yaml");
        atexit(free_rules);
    }
    return (size & 1) ? opera : park;
}

static void touch(const char *s)
{
    if (s)
        (void)strlen(s);
}

/* Read everything the refund result offers and check what tessera.h says of it. */
static void read_refund(tsr_refund_result *r)
{
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    int64_t amount = 0, fee = 0, restored = 0, revoked = 0;
    size_t i, n, jlen = 0;
    const char *json, *to;

    json = tsr_refund_result_json(r, &jlen);
    if (json && strlen(json) != jlen)
        fuzz_die("refund JSON length disagrees with its text", strlen(json), jlen);
    if (json && tsr_refund_result_json(r, NULL) != json)
        fuzz_die("refund JSON changed between two calls", 0, 0);
    touch(tsr_refund_result_order(r));
    to = tsr_refund_result_to(r);
    if (!to || (strcmp(to, "account_credit") != 0 && strcmp(to, "original_payment") != 0))
        fuzz_die("refund without a known `to`", 0, 0);
    n = tsr_refund_result_line_count(r);
    for (i = 0; i < n; i++) {
        const char *id = tsr_refund_result_line_id(r, i);
        const char *why = tsr_refund_result_line_why(r, i);
        int status = tsr_refund_result_line_status(r, i);

        if (!id)
            fuzz_die("refund line without an id", i, n);
        touch(id);
        touch(why);
        if (status == TSR_REFUND_REFUNDED) {
            if (why)
                fuzz_die("refunded line with a rejection reason", i, n);
        } else if (status == TSR_REFUND_REJECTED) {
            if (!why || !*why)
                fuzz_die("rejected line without a reason", i, n);
        } else {
            fuzz_die("refund line with an unknown status", i, (size_t)status);
        }
        amount += tsr_refund_result_line_amount(r, i);
        fee += tsr_refund_result_line_fee(r, i);
        restored += tsr_refund_result_line_points_restored(r, i);
        revoked += tsr_refund_result_line_points_revoked(r, i);
    }
    /* Out of range: NULL, 0 and TSR_EINVAL, never a read past the lines. */
    if (tsr_refund_result_line_id(r, n) != NULL || tsr_refund_result_line_why(r, n) != NULL ||
        tsr_refund_result_line_status(r, n) != TSR_EINVAL ||
        tsr_refund_result_line_amount(r, n) != 0 || tsr_refund_result_line_fee(r, n) != 0 ||
        tsr_refund_result_line_points_restored(r, (size_t)-1) != 0 ||
        tsr_refund_result_line_points_revoked(r, n + 1) != 0)
        fuzz_die("refund line accessor out of range returned something", n, n);

    memset(&t, 0xa5, sizeof t);
    t.version = TSR_REFUND_TOTALS_VERSION;
    if (tsr_refund_result_totals(r, &t) != TSR_OK)
        fuzz_die("tsr_refund_result_totals refused a refund result", 0, 0);
    if (t.amount != amount - t.clawback + t.clawback_returned)
        fuzz_die("totals.amount != lines - clawback + clawback_returned", (size_t)t.amount,
                 (size_t)(amount - t.clawback + t.clawback_returned));
    if (t.fee != fee)
        fuzz_die("totals.fee != the lines' fees", (size_t)t.fee, (size_t)fee);
    if (t.points_restored != restored)
        fuzz_die("totals.points_restored != the lines'", (size_t)t.points_restored,
                 (size_t)restored);
    if (t.points_revoked != revoked + t.order_points_revoked)
        fuzz_die("totals.points_revoked != lines' + order-level", (size_t)t.points_revoked,
                 (size_t)(revoked + t.order_points_revoked));
    if (t.amount < 0 || t.fee < 0 || t.clawback < 0 || t.clawback_returned < 0)
        fuzz_die("negative refund total", 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const tsr_ruleset *rs = rules_for(size);
    tsr_refund_result *res = NULL;
    tsr_error err;
    size_t before = fuzz_live_bytes;
    int rc;

    memset(&err, 0, sizeof err);
    /* No terminating NUL: the request reader must respect `size`. */
    res = (tsr_refund_result *)&err;   /* must come back NULL on failure */
    rc = tsr_refund(&res, rs, (const char *)data, size, &err);
    fuzz_say("refund", rc, &err);
    if (rc == TSR_OK) {
        tsr_refund_result *again = NULL;
        const char *a, *b;
        size_t alen = 0, blen = 0;

        if (!res)
            fuzz_die("TSR_OK without a refund result", 0, 0);
        read_refund(res);
        /* The library keeps no state: the same request gives the same bytes. */
        if (tsr_refund(&again, rs, (const char *)data, size, &err) != TSR_OK || !again)
            fuzz_die("the same refund request failed the second time", 0, 0);
        a = tsr_refund_result_json(res, &alen);
        b = tsr_refund_result_json(again, &blen);
        if (a && b && (alen != blen || memcmp(a, b, alen) != 0))
            fuzz_die("the same refund request gave different JSON", alen, blen);
        tsr_refund_result_free(again);
        tsr_refund_result_free(res);
    } else {
        if (res)
            fuzz_die("failed refund left a result in *out", 0, 0);
        fuzz_check_error(rc, &err);
    }
    fuzz_check_balance(before);
    return 0;
}
