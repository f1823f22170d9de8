/*
 * serve_metrics.c — what `tessera serve` counts, in the Prometheus text
 * format (version 0.0.4): requests by route and status, errors by route
 * and error code, a latency histogram per route, requests in flight, and
 * the orders of JSON-lines requests, priced and rejected.
 *
 * Every counter is a relaxed atomic added to by the request's own thread;
 * a scrape reads them without stopping anyone, so the figures of one
 * scrape may be a few requests apart from each other, as with any
 * Prometheus client.  Latency is kept in whole microseconds and printed
 * as seconds with integer arithmetic.
 */
#include "serve.h"

#include <string.h>

static const char *const route_names[ROUTE__COUNT] = {
    "evaluate", "evaluate_jsonl", "refund", "segments", "rulesets", "healthz", "metrics", "other"
};

/* The statuses the server answers with; 0 is a request that ended without
 * an answer (the client went away, or timed out sending its body), and
 * anything else (libmicrohttpd's own) counts as "other". */
static const unsigned statuses[] = { 200, 400, 401, 404, 405, 413, 422, 500, 503, 0 };
static const char *const status_labels[] = { "200", "400", "401", "404", "405", "413", "422",
                                             "500", "503", "none", "other" };
#define NSTATUS (sizeof status_labels / sizeof status_labels[0])

/* The error codes of the JSON error bodies (serve_http.c). */
static const char *const error_codes[] = {
    "bad_json", "bad_query", "invalid_order", "invalid_request", "invalid_profile",
    "receipt_mismatch", "evaluation_failed", "limit_exceeded", "unknown_ruleset",
    "not_found", "method_not_allowed", "body_too_large", "unauthorized", "out_of_memory",
    "internal"
};
#define NERROR (sizeof error_codes / sizeof error_codes[0])

/* Upper bounds of the latency buckets, in microseconds. */
static const uint64_t bounds_us[] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000
};
#define NBUCKET (sizeof bounds_us / sizeof bounds_us[0])

static struct {
    atomic_ullong requests[ROUTE__COUNT][NSTATUS];
    atomic_ullong errors[ROUTE__COUNT][NERROR];
    atomic_ullong buckets[ROUTE__COUNT][NBUCKET + 1];   /* last: above every bound */
    atomic_ullong sum_us[ROUTE__COUNT];
    atomic_ullong lines[2];             /* priced, rejected */
    atomic_llong in_flight;
} m;

const char *serve_route_name(serve_route r)
{
    return r < ROUTE__COUNT ? route_names[r] : "other";
}

static size_t status_index(unsigned status)
{
    size_t i;
    for (i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void serve_metrics_request(serve_route route, unsigned status, const char *error,
                           uint64_t latency_us)
{
    size_t i;

    if (route >= ROUTE__COUNT)
        route = ROUTE_OTHER;
    atomic_fetch_add_explicit(&m.requests[route][status_index(status)], 1, memory_order_relaxed);
    if (error && error[0])
        for (i = 0; i < NERROR; i++)
            if (strcmp(error_codes[i], error) == 0) {
                atomic_fetch_add_explicit(&m.errors[route][i], 1, memory_order_relaxed);
                break;
            }
    for (i = 0; i < NBUCKET && latency_us > bounds_us[i]; i++)
        ;
    atomic_fetch_add_explicit(&m.buckets[route][i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m.sum_us[route], latency_us, memory_order_relaxed);
}

void serve_metrics_lines(uint64_t priced, uint64_t rejected)
{
    if (priced)
        atomic_fetch_add_explicit(&m.lines[0], priced, memory_order_relaxed);
    if (rejected)
        atomic_fetch_add_explicit(&m.lines[1], rejected, memory_order_relaxed);
}

void serve_metrics_in_flight(int delta)
{
    atomic_fetch_add_explicit(&m.in_flight, delta, memory_order_acq_rel);
}

uint64_t serve_metrics_in_flight_now(void)
{
    long long n = atomic_load_explicit(&m.in_flight, memory_order_acquire);
    return n > 0 ? (uint64_t)n : 0;
}

static unsigned long long get(atomic_ullong *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* Microseconds as seconds: 1500 -> "0.0015". */
static void seconds(FILE *out, uint64_t us)
{
    char frac[8];
    int n = snprintf(frac, sizeof frac, "%06llu", (unsigned long long)(us % 1000000));
    while (n > 1 && frac[n - 1] == '0')
        frac[--n] = '\0';
    fprintf(out, "%llu.%s", (unsigned long long)(us / 1000000), frac);
}

/* One counter family of a route and one other label: the cells of a
 * [ROUTE__COUNT][width] table, those that are not zero. */
static void counters(FILE *out, const char *name, const char *help, const char *label,
                     atomic_ullong *cells, size_t width, const char *const *values)
{
    size_t r, i;
    fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
    for (r = 0; r < ROUTE__COUNT; r++)
        for (i = 0; i < width; i++) {
            unsigned long long n = get(&cells[r * width + i]);
            if (n)
                fprintf(out, "%s{route=\"%s\",%s=\"%s\"} %llu\n", name, route_names[r], label,
                        values[i], n);
        }
}

void serve_metrics_write(FILE *out)
{
    size_t r, i;

    counters(out, "tessera_http_requests_total", "HTTP requests answered, by route and status.",
             "status", &m.requests[0][0], NSTATUS, status_labels);
    counters(out, "tessera_http_errors_total", "Requests refused, by route and error code.",
             "code", &m.errors[0][0], NERROR, error_codes);
    fputs("# HELP tessera_http_request_duration_seconds Time from the request's headers to "
          "its response sent.\n"
          "# TYPE tessera_http_request_duration_seconds histogram\n", out);
    for (r = 0; r < ROUTE__COUNT; r++) {
        unsigned long long cum = 0;
        for (i = 0; i <= NBUCKET; i++) {
            cum += get(&m.buckets[r][i]);
            fprintf(out, "tessera_http_request_duration_seconds_bucket{route=\"%s\",le=\"",
                    route_names[r]);
            if (i < NBUCKET)
                seconds(out, bounds_us[i]);
            else
                fputs("+Inf", out);
            fprintf(out, "\"} %llu\n", cum);
        }
        fprintf(out, "tessera_http_request_duration_seconds_sum{route=\"%s\"} ", route_names[r]);
        seconds(out, get(&m.sum_us[r]));
        fprintf(out, "\ntessera_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                route_names[r], cum);
    }
    fprintf(out, "# HELP tessera_jsonl_orders_total Orders of JSON-lines requests, by "
                 "result.\n"
                 "# TYPE tessera_jsonl_orders_total counter\n"
                 "tessera_jsonl_orders_total{result=\"priced\"} %llu\n"
                 "tessera_jsonl_orders_total{result=\"rejected\"} %llu\n",
            get(&m.lines[0]), get(&m.lines[1]));
    fprintf(out, "# HELP tessera_http_requests_in_flight Requests being received, evaluated or "
                 "sent.\n"
                 "# TYPE tessera_http_requests_in_flight gauge\n"
                 "tessera_http_requests_in_flight %llu\n",
            (unsigned long long)serve_metrics_in_flight_now());
}
