/*
 * bindings_overhead.c — the C side of tests/bench/bindings_overhead.sh: the
 * exact C calls the Python and PHP bindings make for one evaluate()
 * (tsr_evaluate_text on the order's JSON text, tsr_result_json, free), timed
 * over the park10 orders, so that what the bindings add can be told apart.
 *
 *   bindings_overhead RULES ORDERS.jsonl      (BENCH_RUNS, BENCH_SECONDS)
 *
 * Prints one line per trace setting, the fastest of the runs (on a shared
 * machine the minimum is what the code costs; the rest is interference):
 *   c evaluate_text trace=off ns_per_call=...
 *
 * With BENCH_CALLS=N (and BENCH_TRACE=on|off) it makes exactly N calls and
 * prints nothing: bindings_overhead.sh counts their instructions.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tessera.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct orders {
    char **text;
    size_t *len;
    size_t n;
} orders;

static int read_orders(const char *path, orders *o)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t n;

    memset(o, 0, sizeof *o);
    if (!f)
        return -1;
    while ((n = getline(&buf, &cap, f)) > 0) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (n == 0)
            continue;
        if (o->n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            o->text = realloc(o->text, alloc * sizeof *o->text);
            o->len = realloc(o->len, alloc * sizeof *o->len);
            if (!o->text || !o->len)
                return -1;
        }
        o->len[o->n] = (size_t)n;
        o->text[o->n++] = strdup(buf);
    }
    free(buf);
    fclose(f);
    return o->n ? 0 : -1;
}

/* Evaluations per second over at least `secs`. */
static double run(const tsr_ruleset *rs, const orders *o, const tsr_eval_options *opts,
                  double secs, size_t *sink)
{
    size_t i = 0, count = 0;
    double t0 = now_s(), t;

    do {
        size_t k;
        for (k = 0; k < 256; k++, i++, count++) {
            tsr_result *r = NULL;
            size_t len = 0;
            size_t at = i % o->n;
            if (tsr_evaluate_text(&r, rs, o->text[at], o->len[at], opts, NULL) != TSR_OK)
                return -1;
            *sink += tsr_result_json(r, &len) ? len : 0;
            tsr_result_free(r);
        }
        t = now_s() - t0;
    } while (t < secs);
    return (double)count / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *runs_env = getenv("BENCH_RUNS"), *secs_env = getenv("BENCH_SECONDS");
    int runs = runs_env && *runs_env ? atoi(runs_env) : 9;
    double secs = secs_env && *secs_env ? strtod(secs_env, NULL) : 0.5;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    orders o;
    size_t sink = 0;
    int trace;

    if (argc != 3) {
        fprintf(stderr, "usage: bindings_overhead RULES ORDERS.jsonl\n");
        return 64;
    }
    if (runs < 1 || runs > 64)
        runs = 9;
    if (tsr_ruleset_load_file(&rs, argv[1], NULL, &err) != TSR_OK) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    if (read_orders(argv[2], &o) != 0) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    if (getenv("BENCH_CALLS")) {
        tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
        long calls = atol(getenv("BENCH_CALLS")), i;
        const char *tr = getenv("BENCH_TRACE");
        opts.no_trace = !(tr && strcmp(tr, "on") == 0);
        for (i = 0; i < calls; i++) {
            tsr_result *r = NULL;
            size_t len = 0;
            if (tsr_evaluate_text(&r, rs, o.text[(size_t)i % o.n], o.len[(size_t)i % o.n], &opts,
                                  NULL) != TSR_OK)
                return 1;
            sink += tsr_result_json(r, &len) ? len : 0;
            tsr_result_free(r);
        }
        tsr_ruleset_free(rs);
        return sink ? 0 : 1;
    }
    for (trace = 0; trace <= 1; trace++) {
        tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
        double eps[64];
        int r;
        opts.no_trace = !trace;
        run(rs, &o, &opts, 0.5, &sink);                    /* warm-up */
        for (r = 0; r < runs; r++)
            eps[r] = run(rs, &o, &opts, secs, &sink);
        qsort(eps, (size_t)runs, sizeof eps[0], cmp_double);
        printf("c evaluate_text trace=%s ns_per_call=%.0f median=%.0f\n", trace ? "on" : "off",
               1e9 / eps[runs - 1], 1e9 / eps[runs / 2]);
    }
    fprintf(stderr, "(sink %zu)\n", sink);
    tsr_ruleset_free(rs);
    return 0;
}
