/*
 * serve_bench.c — `tessera serve` under load, beside the in-process JSON
 * path it wraps (docs/performance.md).
 *
 *   serve_bench TESSERA RULES ORDERS.jsonl
 *
 * Environment: BENCH_THREADS (server threads and in-process threads,
 * default 2), BENCH_CONNECTIONS (keep-alive client connections, each on
 * its own thread, default 4), BENCH_SECONDS (per timed run, default 3),
 * BENCH_RUNS (timed runs of each measurement, default 3: the median is
 * the figure, the range shows how much the shared machine moved it),
 * BENCH_TRACE (on, off or both, default both), BENCH_BATCH (orders per
 * request of the JSON-lines runs, comma-separated, default "10,100"; 0:
 * none), BENCH_IN_PROCESS (0: skip the in-process runs, e.g. against the
 * HTTP floor programs).
 *
 * For each of trace on (the default result) and trace off (?trace=0):
 *   1. in-process: BENCH_THREADS threads each parse + evaluate + print
 *      (tsr_order_parse, tsr_evaluate, tsr_result_json: what `tessera eval
 *      --jsonl` does per line) orders i mod N: evaluations per second and
 *      CPU per evaluation;
 *   2. over HTTP: the server started with --threads BENCH_THREADS on a
 *      free loopback port, BENCH_CONNECTIONS clients posting the same
 *      orders back to back: requests per second, p50 and p99 latency, and
 *      the server's own CPU per request (from /proc), which is the figure
 *      to hold beside the in-process one: client and server share the
 *      machine's cores, so requests per second also pays for the client;
 *   3. (trace on) JSON lines: the same clients posting BENCH_BATCH orders
 *      per request as application/x-ndjson: the server's CPU per order.
 * After a 1 s warm-up each; every answer must be 200, with one line per
 * order in a batch (else exit 1).  Timings are printed, never asserted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_client.h"
#include "serve_proc.h"
#include "tessera.h"

typedef struct orders {
    char **v;
    size_t *len;
    size_t n;
} orders;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of a process, in seconds. */
static double proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut = 0, st = 0;
    FILE *f;
    int i;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    if (!(f = fopen(path, "r")))
        return 0;
    if (!fgets(buf, sizeof buf, f)) {
        fclose(f);
        return 0;
    }
    fclose(f);
    p = strrchr(buf, ')');      /* the command name may hold spaces */
    for (i = 2; p && i < 14; i++)
        p = strchr(p + 1, ' ');
    if (p)
        sscanf(p + 1, "%llu %llu", &ut, &st);
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int read_orders(const char *path, orders *o)
{
    size_t len = 0, i, start = 0, cap = 0;
    char *text = read_file(path, &len);

    memset(o, 0, sizeof *o);
    if (!text)
        return -1;
    for (i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        if (i > start) {
            if (o->n == cap) {
                cap = cap ? cap * 2 : 1024;
                o->v = realloc(o->v, cap * sizeof *o->v);
                o->len = realloc(o->len, cap * sizeof *o->len);
                if (!o->v || !o->len)
                    return -1;
            }
            o->v[o->n] = strndup(text + start, i - start);
            o->len[o->n++] = i - start;
        }
        start = i + 1;
    }
    free(text);
    return o->n ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * In process.
 */
typedef struct local {
    const tsr_ruleset *rs;
    const orders *o;
    tsr_eval_options opts;
    size_t first;
    double secs;
    uint64_t evals;
    int failed;
} local;

static void *local_run(void *arg)
{
    local *l = arg;
    tsr_order *order = NULL;
    size_t i = l->first;
    double t0 = now_s();

    if (tsr_order_new(&order, l->rs, NULL) != TSR_OK) {
        l->failed = 1;
        return NULL;
    }
    do {
        int k;
        for (k = 0; k < 64; k++, i++) {
            tsr_result *r = NULL;
            size_t len;
            size_t at = i % l->o->n;
            if (tsr_order_parse(order, l->o->v[at], l->o->len[at], NULL) != TSR_OK ||
                tsr_evaluate(&r, l->rs, order, &l->opts, NULL) != TSR_OK ||
                !tsr_result_json(r, &len)) {
                l->failed = 1;
                tsr_result_free(r);
                tsr_order_free(order);
                return NULL;
            }
            tsr_result_free(r);
            l->evals++;
        }
    } while (now_s() - t0 < l->secs);
    tsr_order_free(order);
    return NULL;
}

/* Evaluations per second and CPU seconds per evaluation, `threads` at once. */
static int in_process(const tsr_ruleset *rs, const orders *o, int no_trace, int threads,
                      double secs, double *eps, double *cpu_per)
{
    local l[64];
    pthread_t th[64];
    double t0, c0, wall;
    uint64_t total = 0;
    int i, failed = 0;

    for (i = 0; i < threads; i++) {
        memset(&l[i], 0, sizeof l[i]);
        l[i].rs = rs;
        l[i].o = o;
        l[i].opts.version = TSR_EVAL_OPTIONS_VERSION;
        l[i].opts.no_trace = no_trace;
        l[i].first = (size_t)i * o->n / (size_t)threads;
        l[i].secs = secs;
    }
    t0 = now_s();
    c0 = cpu_s();
    for (i = 0; i < threads; i++)
        pthread_create(&th[i], NULL, local_run, &l[i]);
    for (i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        total += l[i].evals;
        failed |= l[i].failed;
    }
    wall = now_s() - t0;
    *eps = (double)total / wall;
    *cpu_per = (cpu_s() - c0) / (double)total;
    return failed ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * Over HTTP.
 */
typedef struct client {
    const char *addr, *path, *headers;
    const orders *o;
    size_t first, batch;        /* batch: orders per request, 0 for one order */
    atomic_int *go, *stop;
    uint32_t *lat_us;           /* one per request while timing */
    size_t nlat, cap;
    uint64_t failed;
} client;

/* Orders at, at+1, ... as JSON lines into buf (large enough). */
static size_t join_orders(const orders *o, size_t at, size_t n, char *buf)
{
    size_t k, len = 0;
    for (k = 0; k < n; k++) {
        size_t i = (at + k) % o->n;
        memcpy(buf + len, o->v[i], o->len[i]);
        len += o->len[i];
        buf[len++] = '\n';
    }
    return len;
}

static size_t count_lines(const char *s, size_t n)
{
    size_t k = 0;
    for (; n > 0; n--)
        k += *s++ == '\n';
    return k;
}

static void *client_run(void *arg)
{
    client *c = arg;
    http_conn conn;
    size_t i = c->first, longest = 0, k;
    char *buf = NULL;

    for (k = 0; k < c->o->n; k++)
        longest = c->o->len[k] > longest ? c->o->len[k] : longest;
    if (c->batch && !(buf = malloc(c->batch * (longest + 1)))) {
        c->failed++;
        return NULL;
    }
    http_init(&conn, c->addr);
    while (!atomic_load(c->stop)) {
        http_response r;
        size_t at = i % c->o->n, len;
        const char *body;
        double t0 = now_s();
        int timing = atomic_load(c->go);

        if (c->batch) {
            len = join_orders(c->o, at, c->batch, buf);
            body = buf;
            i += c->batch;
        } else {
            body = c->o->v[at];
            len = c->o->len[at];
            i++;
        }
        if (http_request(&conn, "POST", c->path, c->headers, body, len, &r) != 0 ||
            r.status != 200 ||
            (c->batch && count_lines(r.body, r.body_len) != c->batch))
            c->failed++;
        http_response_free(&r);
        if (timing && c->nlat < c->cap)
            c->lat_us[c->nlat++] = (uint32_t)((now_s() - t0) * 1e6);
    }
    http_close(&conn);
    free(buf);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* One timed run's figures. */
typedef struct figures {
    double per_s;               /* requests (or evaluations) per second */
    double cpu_us;              /* CPU per request, or per order in a batch */
    uint32_t p50, p99;
} figures;

static int over_http(const serve_proc *p, const orders *o, int no_trace, int conns,
                     size_t batch, double secs, figures *out)
{
    client c[64];
    pthread_t th[64];
    atomic_int go, stop;
    uint32_t *all;
    size_t n = 0, k;
    uint64_t failed = 0;
    double t0, wall, cpu0, cpu;
    int i;

    atomic_init(&go, 0);
    atomic_init(&stop, 0);
    for (i = 0; i < conns; i++) {
        memset(&c[i], 0, sizeof c[i]);
        c[i].addr = p->addr;
        c[i].path = no_trace ? "/v1/rulesets/park10/evaluate?trace=0"
                             : "/v1/rulesets/park10/evaluate";
        c[i].headers = batch ? "Content-Type: application/x-ndjson\r\n"
                             : "Content-Type: application/json\r\n";
        c[i].o = o;
        c[i].batch = batch;
        c[i].first = (size_t)i * o->n / (size_t)conns;
        c[i].go = &go;
        c[i].stop = &stop;
        c[i].cap = (size_t)(secs * 200000) + 1024;
        c[i].lat_us = malloc(c[i].cap * sizeof *c[i].lat_us);
        pthread_create(&th[i], NULL, client_run, &c[i]);
    }
    sleep(1);   /* warm-up */
    cpu0 = proc_cpu_s(p->pid);
    t0 = now_s();
    atomic_store(&go, 1);
    while (now_s() - t0 < secs) {
        struct timespec nap = { 0, 10000000L };
        nanosleep(&nap, NULL);
    }
    atomic_store(&go, 0);
    wall = now_s() - t0;
    cpu = proc_cpu_s(p->pid) - cpu0;
    atomic_store(&stop, 1);
    for (i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        n += c[i].nlat;
        failed += c[i].failed;
    }
    all = malloc((n ? n : 1) * sizeof *all);
    for (i = 0, k = 0; i < conns; i++) {
        memcpy(all + k, c[i].lat_us, c[i].nlat * sizeof *all);
        k += c[i].nlat;
        free(c[i].lat_us);
    }
    qsort(all, n, sizeof *all, cmp_u32);
    out->per_s = (double)n / wall;
    out->p50 = n ? all[n / 2] : 0;
    out->p99 = n ? all[n * 99 / 100] : 0;
    out->cpu_us = n ? cpu / (double)n / (double)(batch ? batch : 1) * 1e6 : 0.0;
    free(all);
    if (failed)
        printf("  %llu requests failed\n", (unsigned long long)failed);
    return failed ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * Runs: the median of BENCH_RUNS, and every run's CPU figure beside it.
 */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The run whose CPU figure is the median (its other figures with it). */
static figures median(figures *f, int runs, char *spread, size_t size)
{
    double cpu[64];
    size_t used = 0;
    int i;

    for (i = 0; i < runs; i++)
        cpu[i] = f[i].cpu_us;
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
    for (i = 0; i < runs && used < size; i++) {
        int n = snprintf(spread + used, size - used, "%s%.2f", i ? " " : "", cpu[i]);
        used += n > 0 ? (size_t)n : 0;
    }
    for (i = 0; i < runs; i++)
        if (f[i].cpu_us == cpu[runs / 2])
            return f[i];
    return f[0];
}

static int env_int(const char *name, int dflt, int min, int max)
{
    const char *v = getenv(name);
    int n = v && *v ? atoi(v) : dflt;
    return n < min ? min : n > max ? max : n;
}

int main(int argc, char **argv)
{
    int threads = env_int("BENCH_THREADS", 2, 1, 64);
    int conns = env_int("BENCH_CONNECTIONS", 4, 1, 64);
    int runs = env_int("BENCH_RUNS", 3, 1, 64);
    int local_runs = env_int("BENCH_IN_PROCESS", 1, 0, 1);
    double secs = env_int("BENCH_SECONDS", 3, 1, 600);
    const char *trace_env = getenv("BENCH_TRACE"), *batch_env = getenv("BENCH_BATCH");
    char threads_s[16], log[64], spread[512];
    const char *args[] = { "--threads", threads_s, "--max-connections", "1024", NULL, NULL };
    tsr_ruleset *rs = NULL;
    tsr_error err;
    serve_proc p;
    orders o;
    int trace, rc = 0;

    if (argc != 4) {
        fprintf(stderr, "usage: serve_bench TESSERA RULES ORDERS.jsonl\n");
        return 64;
    }
    if (!trace_env || !*trace_env)
        trace_env = "both";
    if (!batch_env || !*batch_env)
        batch_env = "10,100";
    if (read_orders(argv[3], &o) != 0) {
        fprintf(stderr, "serve_bench: cannot read %s\n", argv[3]);
        return 1;
    }
    if (tsr_ruleset_load_file(&rs, argv[2], NULL, &err) != TSR_OK) {
        fprintf(stderr, "serve_bench: %s: %s\n", argv[2], err.message);
        return 1;
    }
    snprintf(threads_s, sizeof threads_s, "%d", threads);
    args[4] = argv[2];
    snprintf(log, sizeof log, "/tmp/serve_bench.%ld.log", (long)getpid());
    if (serve_proc_start(&p, argv[1], args, log) != 0) {
        fprintf(stderr, "serve_bench: the server did not start (see %s)\n", log);
        return 1;
    }
    printf("serve_bench: %s, %zu orders, %d threads (server and in-process), %d runs of "
           "%.0f s, %ld CPUs; CPU figures are medians, every run's in brackets\n",
           argv[2], o.n, threads, runs, secs, sysconf(_SC_NPROCESSORS_ONLN));
    for (trace = 1; trace >= 0; trace--) {
        figures f[64], m;
        const char *b;
        int i;

        if ((trace && strcmp(trace_env, "off") == 0) || (!trace && strcmp(trace_env, "on") == 0))
            continue;
        printf("trace %s:\n", trace ? "on (the default)" : "off (?trace=0, --no-trace)");
        if (local_runs) {
            double eps, cpu_per;
            in_process(rs, &o, !trace, threads, 1.0, &eps, &cpu_per);   /* warm-up */
            for (i = 0; i < runs; i++) {
                if (in_process(rs, &o, !trace, threads, secs, &eps, &cpu_per) != 0) {
                    fprintf(stderr, "serve_bench: an order failed in process\n");
                    rc = 1;
                }
                f[i].per_s = eps;
                f[i].cpu_us = cpu_per * 1e6;
            }
            m = median(f, runs, spread, sizeof spread);
            printf("  in process (parse + evaluate + result JSON): %.0f evaluations/s, "
                   "CPU %.2f us per evaluation [%s]\n", m.per_s, m.cpu_us, spread);
        }
        for (i = 0; i < runs; i++)
            if (over_http(&p, &o, !trace, conns, 0, secs, &f[i]) != 0)
                rc = 1;
        m = median(f, runs, spread, sizeof spread);
        printf("  over HTTP, %d keep-alive connections: %.0f requests/s, p50 %u us, p99 %u us; "
               "server CPU %.2f us per request [%s]\n",
               conns, m.per_s, m.p50, m.p99, m.cpu_us, spread);
        for (b = batch_env; trace && *b; ) {
            char *end;
            long batch = strtol(b, &end, 10);
            if (end == b)
                break;
            b = *end == ',' ? end + 1 : end;
            if (batch <= 0)
                continue;
            for (i = 0; i < runs; i++)
                if (over_http(&p, &o, !trace, conns, (size_t)batch, secs, &f[i]) != 0)
                    rc = 1;
            m = median(f, runs, spread, sizeof spread);
            printf("  JSON lines, %ld orders per request: %.0f requests/s (%.0f orders/s), "
                   "p50 %u us, p99 %u us; server CPU %.2f us per order [%s]\n",
                   batch, m.per_s, m.per_s * (double)batch, m.p50, m.p99, m.cpu_us, spread);
        }
    }
    if (serve_proc_stop(&p, 20000) != 0)
        rc = 1;
    unlink(log);
    tsr_ruleset_free(rs);
    return rc;
}
