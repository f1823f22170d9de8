/*
 * fuzz_order.c — libFuzzer harness for the order reader (JSON and YAML) and,
 * behind it, the evaluator and the result writer.
 *
 * The park scenario's rule file (park_rules.h) is loaded once, on the first
 * input, and kept for the whole run, as a server would keep it.  Each input is
 * an order text: it is evaluated, the result is rendered as JSON and read
 * back through the accessors and the explanation, then freed.
 *
 * Checked: no crash, no sanitizer report, no leak (the live byte count after
 * an input equals the one before it: the rule set's own memory stays
 * constant), no hang; a refused order carries a well-formed error.
 */
#include "fuzz_common.h"
#include "park_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Loaded once, on the first input, and kept for the whole run. */
static tsr_ruleset *park;

/* Freed at exit so that valgrind (which counts the allocator's offset
 * pointers as only "possibly" reachable) has nothing to report. */
static void free_park(void)
{
    tsr_ruleset_free(park);
    park = NULL;
}

static const tsr_ruleset *park_ruleset(void)
{
    tsr_load_options opts;
    tsr_error err;

    if (park)
        return park;
    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    if (tsr_ruleset_load_string(&park, park_rules, sizeof park_rules - 1, "park.yaml", &opts,
                                &err) != TSR_OK) {
        /* Without the rule set the harness tests nothing; failing loudly
         * keeps a broken loader from passing as "no crash". */
        fprintf(stderr, "fuzz_order: park.yaml does not load: %s:%d:%d: %s\n", err.file,
                err.line, err.column, err.message);
        abort();
    }
    atexit(free_park);
    return park;
}

/* Read everything the result offers, so that ASan sees each borrowed string. */
static void read_result(tsr_result *res)
{
    tsr_totals t = TSR_TOTALS_INIT;
    size_t i, n, jlen = 0;
    const char *json;
    char small[64];
    int need;

    json = tsr_result_json(res, &jlen);
    if (json && strlen(json) != jlen)
        fuzz_die("result JSON length disagrees with its text", strlen(json), jlen);
    n = tsr_result_line_count(res);
    for (i = 0; i < n; i++) {
        const char *id = tsr_result_line_id(res, i), *cat = tsr_result_line_category(res, i);
        if (!id)
            fuzz_die("result line without an id", i, n);
        (void)strlen(id);
        if (cat)
            (void)strlen(cat);
        (void)tsr_result_line_total(res, i);
        (void)tsr_result_line_points(res, i);
    }
    tsr_result_totals(res, &t);
    if (t.subtotal - t.discount - t.redeemed_value != t.due)
        fuzz_die("subtotal - discount - redeemed_value != due (SPEC section 6)",
                 (size_t)t.due, (size_t)(t.subtotal - t.discount - t.redeemed_value));
    /* The explanation twice: into a too-small buffer (truncation path), then
     * into one of the size it asked for. */
    need = tsr_result_explain(small, sizeof small, res);
    if (need >= 0 && (size_t)need >= sizeof small) {
        char *buf = malloc((size_t)need + 1);
        if (buf) {
            int again = tsr_result_explain(buf, (size_t)need + 1, res);
            if (again != need)
                fuzz_die("tsr_result_explain length changed between calls", (size_t)again,
                         (size_t)need);
            if (strlen(buf) != (size_t)need)
                fuzz_die("tsr_result_explain text length differs from its return",
                         strlen(buf), (size_t)need);
            free(buf);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const tsr_ruleset *rs = park_ruleset();
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    tsr_result *res = NULL;
    tsr_error err;
    size_t before = fuzz_live_bytes;
    int rc;

    memset(&err, 0, sizeof err);
    /* No terminating NUL: the reader must respect `size`.  The low bit of the
     * size picks customer-safe mode, so both promo reporting paths run without
     * changing the meaning of the corpus files. */
    eo.customer_safe = (int)(size & 1);
    rc = tsr_evaluate_text(&res, rs, (const char *)data, size, &eo, &err);
    fuzz_say("evaluate", rc, &err);
    if (rc == TSR_OK) {
        if (!res)
            fuzz_die("TSR_OK without a result", 0, 0);
        read_result(res);
        tsr_result_free(res);
    } else {
        if (res)
            fuzz_die("failed evaluation left a result in *out", 0, 0);
        fuzz_check_error(rc, &err);
    }
    tsr_ruleset_release_memory(rs);   /* the spare order of tsr_evaluate_text */
    fuzz_check_balance(before);
    return 0;
}
