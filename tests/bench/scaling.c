/*
 * scaling.c — how the cost of one order grows with the order and with the
 * rule set (docs/performance.md, "Scaling"):
 *
 *   scaling [--new] [AXIS]   AXIS: lines, categories, discounts, earn, promo,
 *                            lots (default: all of them)
 *
 * Each row generates a rule file and one order, loads the rule set (load
 * ms), reads the order once, then times tsr_evaluate_into a kept result
 * (what the bindings, `tessera eval --jsonl` and `tessera serve` do) with
 * the trace off: the median of 5 runs of at least 50 ms, in ns per order.
 * With --new each evaluation makes a new result and frees it
 * (tsr_evaluate + tsr_result_free), so the figure includes the memory.
 * The axes:
 *
 *   lines       1 -> 5,000 ticket lines against a small park rule set;
 *   categories  10 -> 10,000 categories, all but the last for another kind
 *               of line (first match reaches the last one), 10 lines;
 *   discounts   10 -> 10,000 discounts, all but one for another kind;
 *   earn        10 -> 10,000 earn rules, all but one for another kind;
 *   promo       10 -> 100,000 promo codes, half exact codes, half patterns
 *               (^P<i>-[0-9]+$); the order enters an exact code and a
 *               pattern's code from the end of the list and an unknown one;
 *   lots        1 -> 10,000 points lots (28 expiry dates), half redeemed.
 *
 * Only the public API is used, so the same file measures an older build
 * (one without tsr_evaluate_into: with --new).
 * Timings are never asserted; this program is built, not run, by ctest.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tessera.h"

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            fprintf(stderr, "scaling: vsnprintf failed\n");
            exit(1);
        }
        if ((size_t)n < t->cap - t->len)
            break;
        t->cap = (t->cap + (size_t)n + 1) * 2;
        if (!(t->s = realloc(t->s, t->cap))) {
            fprintf(stderr, "scaling: out of memory\n");
            exit(1);
        }
    }
    t->len += (size_t)n;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char head[] =
    "tessera: 1\nruleset: scaling\ncurrency: EUR\nminor_units: 2\n"
    "schema:\n  customer: { member: bool }\n";

/* The rule file of one row. */
static void rules_for(text *r, const char *axis, size_t n)
{
    size_t i;

    put(r, "%s", head);
    put(r, "categories:\n");
    if (strcmp(axis, "categories") == 0)
        for (i = 0; i + 1 < n; i++)
            put(r, "  - { id: c%zu, for: item.kind == \"k%zu\", price: 1.00 }\n", i, i);
    put(r, "  - { id: adult, for: item.kind == \"ticket\", price: 60.00 }\n");
    if (strcmp(axis, "promo") == 0 && n > 0) {
        put(r, "promo_codes:\n");
        for (i = 0; i < n; i++)
            put(r, i % 2 ? "  - { id: p%zu, match: '^P%zu-[0-9]+$' }\n"
                         : "  - { id: p%zu, code: C%zu }\n", i, i);
    }
    put(r, "discounts:\n");
    if (strcmp(axis, "discounts") == 0)
        for (i = 0; i + 1 < n; i++)
            put(r, "  - { id: d%zu, for: item.kind == \"k%zu\", percent: 5 }\n", i, i);
    put(r, "  - { id: member-10, when: customer.member, for: item.kind == \"ticket\","
           " percent: 10 }\n");
    put(r, "loyalty:\n  redeem: { point_value: 0.01 }\n  earn:\n");
    if (strcmp(axis, "earn") == 0)
        for (i = 0; i + 1 < n; i++)
            put(r, "    - { id: e%zu, for: item.kind == \"k%zu\", per: 10.00, points: 1 }\n", i,
                i);
    put(r, "    - { id: base, for: item.kind == \"ticket\", per: 20.00, points: 1 }\n");
}

/* The order of one row. */
static void order_for(text *o, const char *axis, size_t n)
{
    size_t lines = strcmp(axis, "lines") == 0 ? n : 10, i;

    put(o, "{\"datetime\": \"2026-06-13T10:00:00+02:00\", \"customer\": {\"id\": \"C1\","
           " \"member\": true");
    if (strcmp(axis, "lots") == 0) {
        put(o, ", \"points_lots\": [");
        for (i = 0; i < n; i++)
            put(o, "%s{\"id\": \"L%zu\", \"points\": 2, \"expires_on\": \"2026-07-%02zu\"}",
                i ? ", " : "", i, 1 + i * 7 % 28);
        put(o, "]");
    }
    put(o, "}, \"items\": [");
    for (i = 0; i < lines; i++)
        put(o, "%s{\"id\": \"l%zu\", \"kind\": \"ticket\"}", i ? ", " : "", i);
    put(o, "]");
    if (strcmp(axis, "lots") == 0)
        put(o, ", \"redeem_points\": %zu", n);   /* half of 2n points */
    if (strcmp(axis, "promo") == 0)
        put(o, ", \"promo_codes\": [\"C%zu\", \"P%zu-42\", \"NOPE-1\"]",
            (n - 1) & ~(size_t)1, (n - 1) % 2 ? n - 1 : n - 2);   /* the last of each */
    put(o, "}");
}

static int new_results;     /* --new: tsr_evaluate + tsr_result_free per order */

static void evaluate_n(tsr_result **res, const tsr_ruleset *rs, const tsr_order *order,
                       const tsr_eval_options *eo, long iters)
{
    long k;

    for (k = 0; k < iters; k++) {
        if (new_results) {
            tsr_evaluate(res, rs, order, eo, NULL);
            tsr_result_free(*res);
            *res = NULL;
        } else {
            tsr_evaluate_into(res, rs, order, eo, NULL);
        }
    }
}

static int row(const char *axis, size_t n)
{
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    text r = { 0 }, o = { 0 };
    tsr_ruleset *rs = NULL;
    tsr_order *order = NULL;
    tsr_result *res = NULL;
    tsr_error err;
    double t0, load_ms, runs[5];
    long iters = 1;
    int run;

    rules_for(&r, axis, n);
    order_for(&o, axis, n);
    lo.max_file_size = 256u << 20;
    lo.max_nodes = 50u * 1000 * 1000;
    eo.no_trace = 1;
    t0 = now_s();
    if (tsr_ruleset_load_string(&rs, r.s, r.len, "scaling.yaml", &lo, &err) != TSR_OK) {
        fprintf(stderr, "scaling: %s %zu: load: %s:%d:%d: %s\n", axis, n, err.file, err.line,
                err.column, err.message);
        return 1;
    }
    load_ms = (now_s() - t0) * 1e3;
    if (tsr_order_new(&order, rs, &err) != TSR_OK ||
        tsr_order_parse(order, o.s, o.len, &err) != TSR_OK ||
        tsr_evaluate(&res, rs, order, &eo, &err) != TSR_OK) {
        fprintf(stderr, "scaling: %s %zu: order: %s %s\n", axis, n, err.path, err.message);
        return 1;
    }
    if (new_results) {
        tsr_result_free(res);
        res = NULL;
    }
    /* calibrate: at least 50 ms a run */
    for (;;) {
        t0 = now_s();
        evaluate_n(&res, rs, order, &eo, iters);
        if (now_s() - t0 >= 0.05)
            break;
        iters *= 2;
    }
    for (run = 0; run < 5; run++) {
        t0 = now_s();
        evaluate_n(&res, rs, order, &eo, iters);
        runs[run] = (now_s() - t0) * 1e9 / (double)iters;
    }
    tsr_result_free(res);
    qsort(runs, 5, sizeof runs[0], cmp_double);
    printf("| %s | %zu | %.1f | %.0f | %.0f–%.0f |\n", axis, n, load_ms, runs[2], runs[0],
           runs[4]);
    fflush(stdout);
    tsr_order_free(order);
    tsr_ruleset_free(rs);
    free(r.s);
    free(o.s);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *axis;
        size_t n[6];
    } axes[] = {
        { "lines", { 1, 10, 100, 1000, 5000, 0 } },
        { "categories", { 10, 100, 1000, 10000, 0 } },
        { "discounts", { 10, 100, 1000, 10000, 0 } },
        { "earn", { 10, 100, 1000, 10000, 0 } },
        { "promo", { 10, 100, 1000, 10000, 100000, 0 } },
        { "lots", { 1, 10, 100, 1000, 10000, 0 } },
    };
    size_t a, i;
    int found = 0;

    if (argc > 1 && strcmp(argv[1], "--new") == 0) {
        new_results = 1;
        argc--;
        argv++;
    }
    printf("| axis | N | load ms | ns/order (median) | range of 5 |\n|---|---:|---:|---:|---|\n");
    for (a = 0; a < sizeof axes / sizeof axes[0]; a++) {
        if (argc > 1 && strcmp(argv[1], axes[a].axis) != 0)
            continue;
        found = 1;
        for (i = 0; i < 6 && axes[a].n[i]; i++)
            if (row(axes[a].axis, axes[a].n[i]) != 0)
                return 1;
    }
    if (!found) {
        fprintf(stderr, "usage: scaling [--new] [lines|categories|discounts|earn|promo|lots]\n");
        return 2;
    }
    return 0;
}
