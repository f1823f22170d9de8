/*
 * serve_bench.c — `tessera serve` under load, beside the in-process JSON
 * path it wraps (docs/performance.md).
 *
 *   serve_bench TESSERA RULES ORDERS.jsonl
 *
 * Environment: BENCH_THREADS (server threads and in-process threads,
 * default 2), BENCH_CONNECTIONS (keep-alive client connections, each on
 * its own thread, default 4), BENCH_SECONDS (per timed run, default 3).
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
 *      machine's cores, so requests per second also pays for the client.
 * After a 1 s warm-up each; every answer must be 200 (else exit 1).
 * Timings are printed, never asserted.
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
    const char *addr, *path;
    const orders *o;
    size_t first;
    atomic_int *go, *stop;
    uint32_t *lat_us;           /* one per request while timing */
    size_t nlat, cap;
    uint64_t failed;
} client;

static void *client_run(void *arg)
{
    client *c = arg;
    http_conn conn;
    size_t i = c->first;

    http_init(&conn, c->addr);
    while (!atomic_load(c->stop)) {
        http_response r;
        size_t at = i++ % c->o->n;
        double t0 = now_s();
        int timing = atomic_load(c->go);
        if (http_request(&conn, "POST", c->path, NULL, c->o->v[at], c->o->len[at], &r) != 0 ||
            r.status != 200)
            c->failed++;
        http_response_free(&r);
        if (timing && c->nlat < c->cap)
            c->lat_us[c->nlat++] = (uint32_t)((now_s() - t0) * 1e6);
    }
    http_close(&conn);
    return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int over_http(const serve_proc *p, const orders *o, int no_trace, int conns,
                     double secs)
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
        c[i].o = o;
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
    printf("  over HTTP, %d keep-alive connections: %.0f requests/s, p50 %u us, p99 %u us; "
           "server CPU %.2f us per request\n",
           conns, (double)n / wall, n ? all[n / 2] : 0, n ? all[n * 99 / 100] : 0,
           n ? cpu / (double)n * 1e6 : 0.0);
    free(all);
    if (failed)
        printf("  %llu requests failed\n", (unsigned long long)failed);
    return failed ? -1 : 0;
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
    double secs = env_int("BENCH_SECONDS", 3, 1, 600);
    char threads_s[16], log[64];
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
    printf("serve_bench: %s, %zu orders, %d threads (server and in-process), %.0f s runs, "
           "%ld CPUs\n", argv[2], o.n, threads, secs, sysconf(_SC_NPROCESSORS_ONLN));
    for (trace = 1; trace >= 0; trace--) {
        double eps, cpu_per;
        printf("trace %s:\n", trace ? "on (the default)" : "off (?trace=0, --no-trace)");
        in_process(rs, &o, !trace, threads, 1.0, &eps, &cpu_per);   /* warm-up */
        if (in_process(rs, &o, !trace, threads, secs, &eps, &cpu_per) != 0) {
            fprintf(stderr, "serve_bench: an order failed in process\n");
            rc = 1;
        }
        printf("  in process (parse + evaluate + result JSON): %.0f evaluations/s, "
               "CPU %.2f us per evaluation\n", eps, cpu_per * 1e6);
        if (over_http(&p, &o, !trace, conns, secs) != 0)
            rc = 1;
    }
    if (serve_proc_stop(&p, 20000) != 0)
        rc = 1;
    unlink(log);
    tsr_ruleset_free(rs);
    return rc;
}
