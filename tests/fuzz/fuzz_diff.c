/*
 * fuzz_diff.c — libFuzzer harness for comparing rule sets over many orders
 * (tsr_diff): the state reader above all (states come from other processes
 * and machines), merging, order lines, and both reports.
 *
 * Each input is lines: a line starting with `{"tessera_diff_state"` is a
 * state, merged (tsr_diff_merge_json); any other line is an order line
 * (tsr_diff_add_line).  Both sides are tests/rules/refunds/park.yaml
 * (refund_rules.h, loaded once), so a genuine state names park-refunds
 * 2026-11 twice; top is 3.
 *
 * Checked: no crash, no sanitizer report, no leak, no hang; a failed call
 * carries a well-formed error; a refused state changes nothing (the JSON
 * report is the same before and after); and the state of the comparison,
 * merged into a fresh one, gives the same reports (the state says all the
 * report needs).
 */
#include "fuzz_common.h"
#include "refund_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tsr_ruleset *park;

static void free_rules(void)
{
    tsr_ruleset_free(park);
    park = NULL;
}

static const tsr_ruleset *rules(void)
{
    if (!park) {
        tsr_load_options opts;
        tsr_error err;
        fuzz_load_options(&opts);
        memset(&err, 0, sizeof err);
        if (tsr_ruleset_load_string(&park, refund_park_rules, sizeof refund_park_rules - 1,
                                    "park.yaml", &opts, &err) != TSR_OK) {
            fprintf(stderr, "fuzz_diff: park.yaml does not load: %s\n", err.message);
            abort();
        }
        atexit(free_rules);
    }
    return park;
}

/* A copy of a report, or NULL (out of memory is not expected here). */
static char *report_of(tsr_diff *d, int format)
{
    size_t len;
    const char *r = tsr_diff_report(d, format, "old.yaml", "new.yaml", &len);
    char *copy;

    if (!r)
        fuzz_die("no report", 0, 0);
    if (strlen(r) != len)
        fuzz_die("report length", strlen(r), len);
    if (!(copy = malloc(len + 1)))
        abort();
    memcpy(copy, r, len + 1);
    return copy;
}

static void same_reports(tsr_diff *a, tsr_diff *b)
{
    int format;
    for (format = TSR_DIFF_TEXT; format <= TSR_DIFF_JSON; format++) {
        char *x = report_of(a, format), *y = report_of(b, format);
        if (strcmp(x, y) != 0)
            fuzz_die("the state does not give the same report", strlen(x), strlen(y));
        free(x);
        free(y);
    }
}

static void one_line(tsr_diff *d, const char *line, size_t len)
{
    static const char state_start[] = "{\"tessera_diff_state\"";
    tsr_error err;
    int rc;

    memset(&err, 0, sizeof err);
    if (len >= sizeof state_start - 1 && memcmp(line, state_start, sizeof state_start - 1) == 0) {
        char *before = report_of(d, TSR_DIFF_JSON), *after;
        rc = tsr_diff_merge_json(d, line, len, &err);
        fuzz_say("merge", rc, &err);
        if (rc != TSR_OK) {
            fuzz_check_error(rc, &err);
            after = report_of(d, TSR_DIFF_JSON);
            if (strcmp(before, after) != 0)
                fuzz_die("a refused state changed the comparison", 0, 0);
            free(after);
        }
        free(before);
        return;
    }
    rc = tsr_diff_add_line(d, line, len, &err);
    if (rc != TSR_OK)
        fuzz_check_error(rc, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *end = text + size;
    const tsr_ruleset *rs = rules();
    size_t live = fuzz_live_bytes;
    tsr_diff *d = NULL, *again = NULL;
    tsr_error err;
    const char *state;
    size_t len;

    memset(&err, 0, sizeof err);
    if (tsr_diff_new(&d, rs, rs, 3, &err) != TSR_OK)
        fuzz_die("tsr_diff_new", 0, 0);
    while (text < end) {
        const char *nl = memchr(text, '\n', (size_t)(end - text));
        size_t n = nl ? (size_t)(nl - text) : (size_t)(end - text);
        one_line(d, text, n);
        text += n + (nl != NULL);
    }
    if (!(state = tsr_diff_state_json(d, &len)) || strlen(state) != len)
        fuzz_die("no state", 0, 0);
    if (tsr_diff_new(&again, rs, rs, 3, &err) != TSR_OK ||
        tsr_diff_merge_json(again, state, len, &err) != TSR_OK) {
        fprintf(stderr, "fuzz_diff: its own state refused: %s\n%s\n", err.message, state);
        abort();
    }
    same_reports(d, again);
    tsr_diff_free(again);
    tsr_diff_free(d);
    fuzz_check_balance(live);
    return 0;
}
