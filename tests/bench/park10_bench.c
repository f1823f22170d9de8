/*
 * park10_bench.c — Tessera on the shared park10 workload, following the
 * ENGINE_CMD contract of ../shared/bench/README.md:
 *
 *   park10_bench RULES            (BENCH_* variables set by compare.sh)
 *
 * 1. loads the rule set once (load_ms),
 * 2. parses every order of BENCH_ORDERS into a tsr_order (not timed),
 * 3. checks all 1024 orders and the 3 samples against the expected answers,
 * 4. times evaluate + read categories/due/points + free, median of runs,
 * 5. prints `engine tessera ...` lines: the prepared-order path (builder
 *    API) and the JSON path (parse + evaluate + result JSON, as
 *    `tessera eval --jsonl` does).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tessera.h"

typedef struct lines {
    char **v;
    size_t n;
} lines;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_lines(const char *path, lines *out)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t n;

    out->v = NULL;
    out->n = 0;
    if (!f) {
        fprintf(stderr, "park10_bench: cannot open %s\n", path);
        return -1;
    }
    while ((n = getline(&buf, &cap, f)) > 0) {
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        if (n == 0)
            continue;
        if (out->n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            out->v = realloc(out->v, alloc * sizeof *out->v);
            if (!out->v)
                return -1;
        }
        out->v[out->n++] = strdup(buf);
    }
    free(buf);
    fclose(f);
    return 0;
}

static void free_lines(lines *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* The canonical answer line of park10's expected.jsonl for one result. */
static void answer(const tsr_result *r, const char *id, char *out, size_t size)
{
    tsr_totals t = TSR_TOTALS_INIT;
    size_t i, n = tsr_result_line_count(r), len;
    int first = 1;
    int64_t due;

    len = (size_t)snprintf(out, size, "{\"id\":\"%s\",\"categories\":[", id);
    for (i = 0; i < n; i++) {
        const char *c = tsr_result_line_category(r, i);
        if (!c)
            continue;   /* fnb and merch lines take no category */
        len += (size_t)snprintf(out + len, size - len, "%s\"%s\"", first ? "" : ",", c);
        first = 0;
    }
    tsr_result_totals(r, &t);
    due = t.due;
    snprintf(out + len, size - len, "],\"due\":\"%" PRId64 ".%02d\",\"points\":%" PRId64 "}",
             due / 100, (int)(due % 100), t.points_earned);
}

static const char *order_id(const char *json, char *buf, size_t size)
{
    const char *p = strstr(json, "\"id\":\"");
    size_t n = 0;
    if (!p)
        return "";
    p += 6;
    while (p[n] && p[n] != '"' && n + 1 < size)
        n++;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

static int check(const tsr_ruleset *rs, const char *orders_path, const char *expected_path,
                 const tsr_eval_options *opts)
{
    lines in, want;
    size_t i;
    int ok = 1;

    if (read_lines(orders_path, &in) || read_lines(expected_path, &want))
        return 0;
    if (in.n != want.n) {
        fprintf(stderr, "park10_bench: %zu orders but %zu answers\n", in.n, want.n);
        return 0;
    }
    for (i = 0; i < in.n; i++) {
        tsr_result *r = NULL;
        tsr_error err;
        char got[1024], id[64];
        if (tsr_evaluate_text(&r, rs, in.v[i], strlen(in.v[i]), opts, &err) != TSR_OK) {
            char msg[700];
            tsr_error_format(msg, sizeof msg, &err);
            fprintf(stderr, "park10_bench: order %zu: %s\n", i + 1, msg);
            ok = 0;
            continue;
        }
        answer(r, order_id(in.v[i], id, sizeof id), got, sizeof got);
        if (strcmp(got, want.v[i]) != 0) {
            if (ok)
                fprintf(stderr, "park10_bench: first mismatch at line %zu\n  want %s\n  got  %s\n",
                        i + 1, want.v[i], got);
            ok = 0;
        }
        tsr_result_free(r);
    }
    free_lines(&in);
    free_lines(&want);
    return ok;
}

typedef struct bench {
    const tsr_ruleset *rs;
    tsr_order **orders;     /* prepared (parsed) orders */
    lines text;             /* the same orders as JSON text */
    tsr_order *scratch;     /* reused for the JSON path */
    const tsr_eval_options *opts;
    int json;               /* time the JSON path */
    int reuse;              /* tsr_evaluate_into one kept result (BENCH_REUSE=1) */
    tsr_result *kept;
    int64_t sink;
    uint64_t evals;         /* evaluations made, for per-call profiles */
} bench;

/* Evaluate order o: into the kept result with BENCH_REUSE=1, else a new one. */
static int evaluate(bench *b, tsr_result **r, const tsr_order *o)
{
    if (b->reuse) {
        int rc = tsr_evaluate_into(&b->kept, b->rs, o, b->opts, NULL);
        *r = b->kept;
        return rc;
    }
    return tsr_evaluate(r, b->rs, o, b->opts, NULL);
}

/* One evaluation: evaluate, read categories, due and points, free (or keep). */
static int one(bench *b, size_t i)
{
    tsr_result *r = NULL;
    tsr_totals t = TSR_TOTALS_INIT;
    size_t k, n;

    b->evals++;
    if (b->json) {
        size_t len;
        const char *out;
        if (tsr_order_parse(b->scratch, b->text.v[i], strlen(b->text.v[i]), NULL) != TSR_OK)
            return -1;
        if (evaluate(b, &r, b->scratch) != TSR_OK)
            return -1;
        out = tsr_result_json(r, &len);
        b->sink += (int64_t)len + (out ? out[0] : 0);
    } else if (evaluate(b, &r, b->orders[i]) != TSR_OK) {
        return -1;
    }
    n = tsr_result_line_count(r);
    for (k = 0; k < n; k++) {
        const char *c = tsr_result_line_category(r, k);
        b->sink += c ? c[0] : 0;
    }
    tsr_result_totals(r, &t);
    b->sink += t.due + t.points_earned;
    if (!b->reuse)
        tsr_result_free(r);
    return 0;
}

/* Evaluate orders i mod N for at least `secs`; returns evaluations per second. */
static double run(bench *b, double secs)
{
    size_t n = b->text.n, i = 0, count = 0;
    double t0 = now_s(), t;

    do {
        size_t k;
        for (k = 0; k < 256; k++, i++, count++)
            if (one(b, i % n) != 0)
                return -1;
        t = now_s() - t0;
    } while (t < secs);
    return (double)count / t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median_eps(bench *b, int runs, double secs)
{
    double eps[64];
    int r;
    if (runs > 64)
        runs = 64;
    run(b, 1.0);   /* warm-up */
    for (r = 0; r < runs; r++)
        eps[r] = run(b, secs);
    qsort(eps, (size_t)runs, sizeof eps[0], cmp_double);
    return eps[runs / 2];
}

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

int main(int argc, char **argv)
{
    const char *orders = getenv("BENCH_ORDERS"), *expected = getenv("BENCH_EXPECTED");
    const char *samples = getenv("BENCH_SAMPLES"), *samples_exp = getenv("BENCH_SAMPLES_EXPECTED");
    int runs = atoi(env_or("BENCH_RUNS", "7"));
    double secs = strtod(env_or("BENCH_SECONDS", "1.5"), NULL);
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    bench b;
    double t0, load_ms, eps, eps_json;
    size_t i;
    int ok;

    if (argc < 2 || !orders || !expected) {
        fprintf(stderr, "usage: BENCH_ORDERS=... BENCH_EXPECTED=... park10_bench RULES\n"
                        "(run it through ../shared/bench/compare.sh, see its README)\n");
        return 64;
    }
    if (runs < 0)
        runs = 0;
    t0 = now_s();
    if (tsr_ruleset_load_file(&rs, argv[1], NULL, &err) != TSR_OK) {
        char msg[700];
        tsr_error_format(msg, sizeof msg, &err);
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    load_ms = (now_s() - t0) * 1e3;

    /* The answers are checked with the trace on (the default result).
     * BENCH_CHECK=0 skips the check (for instruction-count profiles of the
     * timed loop alone). */
    if (strcmp(env_or("BENCH_CHECK", "1"), "0") == 0) {
        ok = 0;
    } else {
        ok = check(rs, orders, expected, &opts);
        if (samples && samples_exp)
            ok = check(rs, samples, samples_exp, &opts) && ok;
    }

    memset(&b, 0, sizeof b);
    b.rs = rs;
    b.opts = &opts;
    b.reuse = strcmp(env_or("BENCH_REUSE", "0"), "1") == 0;
    if (read_lines(orders, &b.text))
        return 1;
    b.orders = calloc(b.text.n, sizeof *b.orders);
    for (i = 0; i < b.text.n; i++) {
        if (tsr_order_new(&b.orders[i], rs, &err) != TSR_OK ||
            tsr_order_parse(b.orders[i], b.text.v[i], strlen(b.text.v[i]), &err) != TSR_OK) {
            fprintf(stderr, "park10_bench: order %zu: %s\n", i + 1, err.message);
            return 1;
        }
    }
    if (tsr_order_new(&b.scratch, rs, &err) != TSR_OK)
        return 1;

    if (runs == 0) {
        /* BENCH_RUNS=0: check the answers only (the ctest smoke run) */
        printf("park10_bench: answers=%s\n", ok ? "ok" : "bad");
        goto out;
    }
    /* The peers return no explanation, so the timed runs skip the trace. */
    opts.no_trace = 1;
    b.json = 0;
    eps = median_eps(&b, runs, secs);
    fprintf(stderr, "(prepared path: %" PRIu64 " evaluations)\n", b.evals);
    b.json = 1;
    eps_json = median_eps(&b, runs, secs);

    printf("engine tessera%s %s ns_per_eval=%.2f evals_per_s=%.0f load_ms=%.3f answers=%s "
           "input=prepared trace=off ns_per_eval_json=%.2f\n", b.reuse ? "-reuse" : "",
           tsr_version(), 1e9 / eps, eps, load_ms, ok ? "ok" : "bad", 1e9 / eps_json);
    printf("engine tessera-jsonl%s %s ns_per_eval=%.2f evals_per_s=%.0f load_ms=%.3f answers=%s "
           "input=json output=json trace=off\n", b.reuse ? "-reuse" : "",
           tsr_version(), 1e9 / eps_json, eps_json, load_ms, ok ? "ok" : "bad");
    fprintf(stderr, "(%" PRIu64 " evaluations, sink %" PRId64 ")\n", b.evals, b.sink);
out:
    for (i = 0; i < b.text.n; i++)
        tsr_order_free(b.orders[i]);
    free(b.orders);
    tsr_order_free(b.scratch);
    tsr_result_free(b.kept);
    free_lines(&b.text);
    tsr_ruleset_free(rs);
    return ok ? 0 : 1;
}
