/*
 * fuzz_ruleset.c — libFuzzer harness for the rule loader.
 *
 * The input is a whole rule file, loaded from memory with small limits, a
 * checking allocator and an include resolver that refuses every include, so
 * that no input can reach the file system or run for long.  What is checked:
 * no crash, no sanitizer report, no leak (the allocator's live byte count
 * comes back to where it was), and on failure a well-formed error.  A rule
 * set that loads is also linted, since lint walks the loaded model in ways
 * evaluation does not, and a fixed order is evaluated against it, so that
 * mutated discounts, bundles, loyalty and offers run too.  The same input is
 * then checked (tsr_ruleset_check_string), which goes on building after an
 * error over whatever the broken rules left: it must agree with the load
 * (same status, same first error) and report only well-formed errors.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Built-in fields only (SPEC section 5), so that any rule set accepts it
 * whatever its schema; every line has a price, so it needs no category.
 * The promo codes are those of the seed rule files. */
static const char order[] =
    "{\"id\":\"R-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\",\"channel\":\"web\","
    "\"customer\":{\"id\":\"C-1\",\"tags\":[\"season_pass\"],\"points_balance\":1200},"
    "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"sku\":\"PARK-DAY\",\"quantity\":3,\"price\":\"25.00\"},"
    "{\"id\":\"t2\",\"kind\":\"ticket\",\"quantity\":2,\"price\":\"12.50\"},"
    "{\"id\":\"f1\",\"kind\":\"fnb\",\"sku\":\"DRINK\",\"quantity\":5,\"price\":\"1.99\"},"
    "{\"id\":\"m1\",\"kind\":\"merch\",\"quantity\":1,\"price\":\"0.00\"}],"
    "\"promo_codes\":[\"DOC-123456\",\"SUMMER10\",\"DOC2022\"],"
    "\"promo_uses\":{\"doctors\":0},\"redeem_points\":300}";

/* Evaluate the fixed order and read the result back. */
static void evaluate(const tsr_ruleset *rs)
{
    tsr_result *res = NULL;
    tsr_error err;
    int rc;

    memset(&err, 0, sizeof err);
    rc = tsr_evaluate_text(&res, rs, order, sizeof order - 1, NULL, &err);
    fuzz_say("  evaluate", rc, &err);
    if (rc == TSR_OK) {
        tsr_totals t = TSR_TOTALS_INIT;
        size_t jlen = 0;
        const char *json = tsr_result_json(res, &jlen);

        if (json && strlen(json) != jlen)
            fuzz_die("result JSON length disagrees with its text", strlen(json), jlen);
        tsr_result_totals(res, &t);
        if (t.subtotal - t.discount - t.redeemed_value != t.due)
            fuzz_die("subtotal - discount - redeemed_value != due (SPEC section 6)",
                     (size_t)t.due, (size_t)(t.subtotal - t.discount - t.redeemed_value));
        tsr_result_free(res);
    } else {
        /* A rule set may legitimately refuse this order (a category whose
         * price is missing for a line, an overflow). */
        if (res)
            fuzz_die("failed evaluation left a result in *out", 0, 0);
        fuzz_check_error(rc, &err);
    }
}

/* The check of the same input agrees with the load (rc, err). */
static void check(const uint8_t *data, size_t size, const tsr_load_options *opts, int load_rc,
                  const tsr_error *load_err)
{
    tsr_ruleset *rs = NULL;
    tsr_check_report *report = NULL;
    tsr_error err;
    size_t i, n;
    int rc;

    memset(&err, 0, sizeof err);
    rc = tsr_ruleset_check_string(&rs, &report, (const char *)data, size, "fuzz.yaml", opts,
                                  &err);
    fuzz_say("check", rc, &err);
    n = tsr_check_report_count(report);
    if (rc == TSR_ENOMEM || load_rc == TSR_ENOMEM) {
        /* the limits may run out on one path and not the other */
    } else if (rc != load_rc) {
        fuzz_die("check and load disagree", (size_t)-rc, (size_t)-load_rc);
    } else if (rc != TSR_OK && (strcmp(err.message, load_err->message) != 0 ||
                                err.line != load_err->line || err.column != load_err->column)) {
        fuzz_die("the check's first error is not the load's", (size_t)err.line,
                 (size_t)load_err->line);
    }
    if (rc == TSR_OK) {
        if (!rs || n != 0)
            fuzz_die("checked OK without a rule set, or with errors", n, 0);
        tsr_ruleset_free(rs);
    } else {
        if (rs)
            fuzz_die("failed check left a rule set in *out", 0, 0);
        fuzz_check_error(rc, &err);
        if (rc != TSR_ENOMEM && (n == 0 || n > TSR_CHECK_MAX_ERRORS))
            fuzz_die("failed check with no errors, or too many", n, TSR_CHECK_MAX_ERRORS);
        for (i = 0; i < n; i++) {
            tsr_error e;
            if (tsr_check_report_error(report, i, &e) != TSR_OK)
                fuzz_die("report error out of range", i, n);
            fuzz_check_error(e.code, &e);
        }
    }
    tsr_check_report_free(report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tsr_load_options opts;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    size_t before = fuzz_live_bytes;
    char line[TSR_ERROR_TEXT_MAX + 2 * TSR_ERROR_PATH_MAX + 64];
    int rc;

    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    /* The loader must not need a terminating NUL; libFuzzer's buffer has none
     * and ASan flags any read past `size`. */
    rc = tsr_ruleset_load_string(&rs, (const char *)data, size, "fuzz.yaml", &opts, &err);
    fuzz_say("load", rc, &err);
    if (rc == TSR_OK) {
        tsr_lint_report *lint = NULL;

        if (!rs)
            fuzz_die("TSR_OK without a rule set", 0, 0);
        /* Touch the borrowed strings so ASan sees them read. */
        (void)strlen(tsr_ruleset_id(rs));
        if (tsr_ruleset_version(rs))
            (void)strlen(tsr_ruleset_version(rs));
        if (tsr_ruleset_currency(rs))
            (void)strlen(tsr_ruleset_currency(rs));
        if (tsr_ruleset_lint(&lint, rs, &err) == TSR_OK) {
            size_t i, n = tsr_lint_report_count(lint);
            for (i = 0; i < n; i++) {
                tsr_error w;
                if (tsr_lint_report_warning(lint, i, &w) == TSR_OK)
                    (void)tsr_error_format(line, sizeof line, &w);
                (void)tsr_lint_report_kind(lint, i);
            }
            tsr_lint_report_free(lint);
        }
        evaluate(rs);
        tsr_ruleset_free(rs);
    } else {
        if (rs)
            fuzz_die("failed load left a rule set in *out", 0, 0);
        fuzz_check_error(rc, &err);
        (void)tsr_error_format(line, sizeof line, &err);
    }
    check(data, size, &opts, rc, &err);
    fuzz_check_balance(before);
    return 0;
}
