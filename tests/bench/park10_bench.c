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
 *
 * BENCH_BUILD=1 adds the builder path: each order is turned (untimed) into
 * the calls a till makes — tsr_order_reset, tsr_order_add_line, the typed
 * setters with handles looked up once, tsr_order_add_promo_code — which are
 * replayed on one reused order before each evaluation (`tessera-build`
 * lines; its answers are checked against BENCH_EXPECTED too).  For
 * instruction counts of the setters alone, callgrind --toggle-collect=build.
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

/* ---------------------------------------------------------------------
 * The builder path: an order as the setter calls that make it.
 */
enum { OP_LINE, OP_STRING, OP_TEXT, OP_INT, OP_BOOL, OP_MONEY, OP_LIST, OP_PROMO };

typedef struct op {
    int kind, record, line, field;
    const char *s, *s2;   /* into the order's text copy (NUL-terminated) */
    size_t len;
    int64_t i;
} op;

typedef struct built {
    char *text;   /* the order's text, cut into NUL-terminated strings */
    op *ops;
    size_t n;
} built;

/* A string at *p (no escapes in park10's orders): NUL-terminated in place. */
static char *take_string(char **p, size_t *len)
{
    char *s = ++*p, *e = strchr(s, '"');
    if (!e)
        return NULL;
    *e = '\0';
    *len = (size_t)(e - s);
    *p = e + 1;
    return s;
}

static int add_op(built *b, op o)
{
    op *v = realloc(b->ops, (b->n + 1) * sizeof *v);
    if (!v)
        return -1;
    b->ops = v;
    b->ops[b->n++] = o;
    return 0;
}

/* Money "24.99" in minor units (park10: two decimals). */
static int64_t money_minor(const char *s)
{
    int64_t v = 0;
    int frac = -1;
    for (; *s; s++) {
        if (*s == '.') {
            frac = 0;
            continue;
        }
        v = v * 10 + (*s - '0');
        if (frac >= 0)
            frac++;
    }
    for (; frac < 2; frac = frac < 0 ? 1 : frac + 1)
        v *= 10;
    return v;
}

/* One object's members (record rec, line ln); items and nested customer recurse. */
static int build_object(const tsr_ruleset *rs, built *b, char **p, int rec, int ln);

static int build_value(const tsr_ruleset *rs, built *b, char **p, int rec, int ln, const char *key)
{
    op o;
    int field;

    memset(&o, 0, sizeof o);
    o.record = rec;
    o.line = ln;
    if (rec == TSR_RECORD_ORDER && strcmp(key, "customer") == 0)
        return build_object(rs, b, p, TSR_RECORD_CUSTOMER, 0);
    if (rec == TSR_RECORD_ORDER && strcmp(key, "items") == 0) {
        int n = 0;
        for (++*p; **p != ']';) {
            if (**p == ',')
                ++*p;
            if (build_object(rs, b, p, TSR_RECORD_ITEM, n++))
                return -1;
        }
        ++*p;
        return 0;
    }
    if (**p == '[') {   /* a list of strings: promo codes or a list field */
        field = rec == TSR_RECORD_ORDER && strcmp(key, "promo_codes") == 0
                    ? -1 : tsr_ruleset_field(rs, (tsr_record)rec, key);
        for (++*p; **p != ']';) {
            if (**p == ',')
                ++*p;
            o.kind = field < 0 ? OP_PROMO : OP_LIST;
            o.field = field;
            if (!(o.s = take_string(p, &o.len)) || add_op(b, o))
                return -1;
        }
        ++*p;
        return 0;
    }
    if ((field = tsr_ruleset_field(rs, (tsr_record)rec, key)) < 0) {
        fprintf(stderr, "park10_bench: no field %s\n", key);
        return -1;
    }
    o.field = field;
    if (**p == '"') {
        if (!(o.s = take_string(p, &o.len)))
            return -1;
        o.kind = strcmp(key, "price") == 0 ? OP_MONEY
                 : strcmp(key, "datetime") == 0 || strcmp(key, "birthday") == 0 ? OP_TEXT
                                                                                 : OP_STRING;
        if (o.kind == OP_MONEY)
            o.i = money_minor(o.s);
    } else if (**p == 't' || **p == 'f') {
        o.kind = OP_BOOL;
        o.i = **p == 't';
        *p += o.i ? 4 : 5;
    } else {
        o.kind = OP_INT;
        o.i = strtoll(*p, p, 10);
    }
    return add_op(b, o);
}

static int build_object(const tsr_ruleset *rs, built *b, char **p, int rec, int ln)
{
    op line;

    memset(&line, 0, sizeof line);
    line.kind = OP_LINE;
    if (**p != '{')
        return -1;
    for (++*p; **p != '}';) {
        char *key;
        size_t klen;
        if (**p == ',')
            ++*p;
        if (!(key = take_string(p, &klen)) || *(*p)++ != ':')
            return -1;
        if (rec == TSR_RECORD_ITEM && (strcmp(key, "id") == 0 || strcmp(key, "kind") == 0 ||
                                       strcmp(key, "quantity") == 0)) {
            /* id, kind and quantity are tsr_order_add_line's; park10 gives them first */
            if (key[0] == 'q') {
                line.i = strtoll(*p, p, 10);
                if (add_op(b, line))
                    return -1;
            } else if (!(*(key[0] == 'i' ? &line.s : &line.s2) = take_string(p, &klen))) {
                return -1;
            }
            continue;
        }
        if (build_value(rs, b, p, rec, ln, key))
            return -1;
    }
    ++*p;
    return 0;
}

static int build_prepare(const tsr_ruleset *rs, const char *json, built *b)
{
    char *p;
    memset(b, 0, sizeof *b);
    if (!(b->text = strdup(json)))
        return -1;
    p = b->text;
    return build_object(rs, b, &p, TSR_RECORD_ORDER, 0);
}

/* The timed part of the builder path (not static: callgrind's toggle-collect). */
int build(tsr_order *o, const built *b);
__attribute__((noinline)) int build(tsr_order *o, const built *b)
{
    size_t k;
    int rc = TSR_OK, line = 0;

    tsr_order_reset(o);
    for (k = 0; k < b->n && rc == TSR_OK; k++) {
        const op *x = &b->ops[k];
        tsr_record r = (tsr_record)x->record;
        switch (x->kind) {
        case OP_LINE:
            rc = tsr_order_add_line(o, x->s, x->s2, x->i, &line, NULL);
            break;
        case OP_STRING:
            rc = tsr_order_set_string(o, r, x->line, x->field, x->s, x->len, NULL);
            break;
        case OP_TEXT:
            rc = tsr_order_set_text(o, r, x->line, x->field, x->s, x->len, NULL);
            break;
        case OP_INT:
            rc = tsr_order_set_int(o, r, x->line, x->field, x->i, NULL);
            break;
        case OP_BOOL:
            rc = tsr_order_set_bool(o, r, x->line, x->field, (int)x->i, NULL);
            break;
        case OP_MONEY:
            rc = tsr_order_set_money(o, r, x->line, x->field, x->i, NULL);
            break;
        case OP_LIST:
            rc = tsr_order_add_to_list(o, r, x->line, x->field, x->s, x->len, NULL);
            break;
        default:
            rc = tsr_order_add_promo_code(o, x->s, x->len, NULL);
            break;
        }
    }
    return rc;
}

typedef struct bench {
    const tsr_ruleset *rs;
    tsr_order **orders;     /* prepared (parsed) orders */
    lines text;             /* the same orders as JSON text */
    tsr_order *scratch;     /* reused for the JSON path */
    const tsr_eval_options *opts;
    int json;               /* time the JSON path */
    built *builds;          /* BENCH_BUILD=1: the orders as setter calls */
    int building;           /* time the builder path */
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
    if (b->building) {
        if (build(b->scratch, &b->builds[i]) != TSR_OK || evaluate(b, &r, b->scratch) != TSR_OK)
            return -1;
    } else if (b->json) {
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
    if (strcmp(env_or("BENCH_BUILD", "0"), "1") == 0) {
        lines want;
        int built_ok = 1;
        b.builds = calloc(b.text.n, sizeof *b.builds);
        if (!b.builds || read_lines(expected, &want))
            return 1;
        for (i = 0; i < b.text.n; i++) {
            tsr_result *r = NULL;
            char got[1024], id[64];
            if (build_prepare(rs, b.text.v[i], &b.builds[i]) ||
                build(b.scratch, &b.builds[i]) != TSR_OK ||
                tsr_evaluate(&r, rs, b.scratch, &opts, &err) != TSR_OK) {
                fprintf(stderr, "park10_bench: order %zu does not build\n", i + 1);
                return 1;
            }
            answer(r, order_id(b.text.v[i], id, sizeof id), got, sizeof got);
            tsr_result_free(r);
            if (i >= want.n || strcmp(got, want.v[i]) != 0) {
                fprintf(stderr, "park10_bench: built order %zu: got %s\n", i + 1, got);
                built_ok = 0;
            }
        }
        free_lines(&want);
        printf("park10_bench: built orders=%s\n", built_ok ? "ok" : "bad");
        ok = ok && built_ok;
    }

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
    if (b.builds) {
        double eps_build;
        b.building = 1;
        eps_build = median_eps(&b, runs, secs);
        b.building = 0;
        fprintf(stderr, "(builder path: %" PRIu64 " evaluations in all)\n", b.evals);
        printf("engine tessera-build%s %s ns_per_eval=%.2f evals_per_s=%.0f load_ms=%.3f "
               "answers=%s input=setters trace=off\n", b.reuse ? "-reuse" : "", tsr_version(),
               1e9 / eps_build, eps_build, load_ms, ok ? "ok" : "bad");
    }
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
    for (i = 0; b.builds && i < b.text.n; i++) {
        free(b.builds[i].text);
        free(b.builds[i].ops);
    }
    free(b.builds);
    tsr_order_free(b.scratch);
    tsr_result_free(b.kept);
    free_lines(&b.text);
    tsr_ruleset_free(rs);
    return ok ? 0 : 1;
}
