/*
 * plan_scaling — the cost of one order as unrelated rules are added (the
 * evaluation plan, lib/plan.c; docs/performance.md).  A rule set of a
 * ticket category, a ticket discount and two tax rates gains N categories,
 * N discounts and N tax rates for kinds the order never has (N = 10 ..
 * 10,000); the order (three ticket and two fnb lines) is read once, then
 * evaluated repeatedly with the trace off and on.  Timings are printed,
 * never asserted.
 *
 *   plan_scaling [SECONDS per row, default 0.3]
 */
#include <tessera.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char order_text[] =
    "{\"datetime\": \"2026-06-10T11:00:00+03:00\", \"items\": ["
    "{\"id\": \"a\", \"kind\": \"ticket\", \"quantity\": 2},"
    "{\"id\": \"b\", \"kind\": \"ticket\"},"
    "{\"id\": \"c\", \"kind\": \"ticket\", \"quantity\": 3},"
    "{\"id\": \"d\", \"kind\": \"fnb\", \"price\": \"4.50\"},"
    "{\"id\": \"e\", \"kind\": \"fnb\", \"price\": \"3.00\", \"quantity\": 2}]}";

/* The rule set with n unrelated rules per section (malloc'd text). */
static char *rules(unsigned n)
{
    size_t cap = 4096 + (size_t)n * 200, len = 0;
    char *t = malloc(cap);
    unsigned i;

    if (!t)
        return NULL;
    len += (size_t)snprintf(t + len, cap - len,
                            "tessera: 1\nruleset: scaling\ncurrency: EUR\n"
                            "categories:\n  - { id: ticket, for: item.kind == \"ticket\", price: 30.00 }\n");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "  - { id: c%u, for: item.kind == \"k%u\", price: 1.00 }\n", i, i);
    len += (size_t)snprintf(t + len, cap - len,
                            "discounts:\n  - { id: tickets, for: item.kind == \"ticket\", percent: 10 }\n");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "  - { id: d%u, for: item.kind == \"k%u\", percent: 5 }\n", i, i);
    len += (size_t)snprintf(t + len, cap - len,
                            "taxes:\n  prices: inclusive\n  rates:\n"
                            "    - { id: culture, for: item.kind == \"ticket\", rate: 10 }\n"
                            "    - { id: food, for: item.kind == \"fnb\", rate: 14 }\n");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len,
                                "    - { id: t%u, for: item.kind == \"k%u\", rate: 20 }\n", i, i);
    return t;
}

static double ns_per_eval(const tsr_ruleset *rs, const tsr_order *o, bool trace, double secs)
{
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    unsigned long n = 0;
    double t0 = now(), t;

    opts.no_trace = !trace;
    do {
        unsigned k;
        for (k = 0; k < 64; k++) {
            tsr_result *r = NULL;
            if (tsr_evaluate(&r, rs, o, &opts, NULL) != TSR_OK) {
                fprintf(stderr, "evaluation failed\n");
                exit(1);
            }
            tsr_result_free(r);
        }
        n += 64;
        t = now() - t0;
    } while (t < secs);
    return t * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
    static const unsigned ns[] = { 10, 100, 1000, 10000 };
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    double secs = argc > 1 ? atof(argv[1]) : 0.3;
    size_t k;

    lo.max_file_size = 64u << 20;
    lo.max_nodes = 2000000;
    printf("| unrelated categories + discounts + tax rates | ns/eval, trace off | ns/eval, trace on |\n");
    printf("|---:|---:|---:|\n");
    for (k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        char *text = rules(ns[k]);
        tsr_ruleset *rs = NULL;
        tsr_order *o = NULL;
        tsr_error err;

        if (!text)
            return 1;
        if (tsr_ruleset_load_string(&rs, text, strlen(text), "scaling.yaml", &lo, &err) != TSR_OK ||
            tsr_order_new(&o, rs, &err) != TSR_OK ||
            tsr_order_parse(o, order_text, strlen(order_text), &err) != TSR_OK) {
            char buf[1024];
            tsr_error_format(buf, sizeof buf, &err);
            fprintf(stderr, "%s\n", buf);
            return 1;
        }
        printf("| %u × 3 | %.0f | %.0f |\n", ns[k],
               ns_per_eval(rs, o, false, secs), ns_per_eval(rs, o, true, secs));
        tsr_order_free(o);
        tsr_ruleset_free(rs);
        free(text);
    }
    return 0;
}
