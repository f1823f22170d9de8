/*
 * serve.h — `tessera serve`: the rule sets over HTTP.  Four parts, one job
 * each:
 *
 *   cmd_serve.c      options, start, signals (SIGHUP reload, SIGTERM drain),
 *                    the watch loop, shutdown;
 *   serve_rules.c    the loaded rule sets: versions shared by reference
 *                    count, files fingerprinted (SHA-256) and watched,
 *                    reload checked first and swapped in atomically;
 *   serve_http.c     the routes on libmicrohttpd: bounded bodies, bearer
 *                    token, errors as JSON, JSON lines answered as they are
 *                    priced, one log line per request;
 *   serve_metrics.c  counters and latency histograms, Prometheus text.
 *
 * The library does every rule semantic; none of this looks inside an order.
 */
#ifndef TSR_CLI_SERVE_H
#define TSR_CLI_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "cli.h"

#define SERVE_SHA256_HEX 65     /* 64 hex digits and a NUL */
#define SERVE_TIME_LEN 32       /* "2026-11-22T10:00:00.123Z" */

/* The current UTC time as RFC 3339 with milliseconds. */
void serve_now(char out[SERVE_TIME_LEN]);

/* A JSON line on stderr with one write(2), so lines from several threads
 * never interleave: {"time":"...","event":EVENT,FIELDS}.  `fields` is NULL
 * or JSON object members without the braces: "\"ruleset\":\"park\"". */
void serve_log_event(const char *event, const char *fields);

/* SHA-256 of a byte string (nettle), for the bearer token. */
void serve_sha256(const void *data, size_t len, unsigned char out[32]);

/* ---------------------------------------------------------------------
 * Rule sets (serve_rules.c).
 */

/* One file of a version: its name as the library read it and its digest. */
typedef struct serve_file {
    char *name;
    char sha256[SERVE_SHA256_HEX];      /* "" when it could not be read */
} serve_file;

#define SERVE_ORDER_POOL 64     /* orders kept for reuse, per version */

/* An order and a result kept for reuse (the result NULL until the first
 * evaluation into it, and again after a failed one). */
typedef struct serve_kept {
    tsr_order *order;
    tsr_result *result;
} serve_kept;

/* One loaded version of a rule file, immutable once published.  Requests
 * hold a reference while they use it, so a reload never frees a rule set
 * under a request: the last release frees it, with the orders it kept. */
typedef struct serve_version {
    tsr_ruleset *rs;
    atomic_uint refs;
    char loaded_at[SERVE_TIME_LEN];
    serve_file *files;                  /* files[0] is the main file */
    size_t nfiles;
    /* orders of this rule set, empty, and results to evaluate into, for
     * reuse: one pair taken per evaluation (or block of JSON lines) and
     * given back at once, so there are never more than evaluations run at
     * the same time (one per thread) */
    pthread_mutex_t pool_lock;
    serve_kept pool[SERVE_ORDER_POOL];
    size_t npool;
} serve_version;

typedef struct serve_entry serve_entry;

typedef struct serve_rules {
    pthread_mutex_t lock;               /* guards every entry's `current` and status */
    serve_entry *entries;
    size_t n;
} serve_rules;

/* Load every rule file; a broken one is printed compiler-style and fails
 * the start (CLI_ERRORS), as do two files with the same rule set id. */
int serve_rules_open(serve_rules *r, char **paths, size_t n);
void serve_rules_close(serve_rules *r);

/* The current version of rule set `id` with a reference taken, or NULL
 * when no rule set has that id.  Release it with serve_version_release. */
serve_version *serve_rules_acquire(serve_rules *r, const char *id);
void serve_version_release(serve_version *v);

/* An empty order of v's rule set and a result to evaluate into
 * (tsr_evaluate_into): a pair it kept (with the memory of earlier
 * evaluations, which spares the allocations of new ones) or a new order
 * and no result yet; -1 when out of memory.  Give them back with
 * serve_version_give before the version is released. */
int serve_version_take(serve_version *v, serve_kept *k);
void serve_version_give(serve_version *v, serve_kept *k);

/* Look at the files on disk: reload the rule sets whose files changed
 * (settled: unchanged since the previous look) or all of them when
 * `force` (SIGHUP).  Called from one thread only. */
void serve_rules_check(serve_rules *r, int force);

/* GET /v1/rulesets: {"rulesets":[...]} and a newline. */
void serve_rules_describe(serve_rules *r, FILE *out);
/* The rule-set part of /metrics. */
void serve_rules_metrics(serve_rules *r, FILE *out);

/* ---------------------------------------------------------------------
 * Metrics (serve_metrics.c).  Lock-free counters: every request adds to
 * them from its own thread.
 */
typedef enum serve_route {
    ROUTE_EVALUATE, ROUTE_EVALUATE_JSONL, ROUTE_REFUND, ROUTE_SEGMENTS, ROUTE_RULESETS,
    ROUTE_HEALTHZ, ROUTE_METRICS, ROUTE_OTHER, ROUTE__COUNT
} serve_route;

const char *serve_route_name(serve_route r);

/* A finished request: its route, HTTP status (0: none was sent), error
 * code (NULL when none) and latency in microseconds. */
void serve_metrics_request(serve_route route, unsigned status, const char *error,
                           uint64_t latency_us);
/* Orders answered in JSON-lines requests: priced and rejected. */
void serve_metrics_lines(uint64_t priced, uint64_t rejected);
void serve_metrics_in_flight(int delta);
uint64_t serve_metrics_in_flight_now(void);
/* The HTTP part of /metrics. */
void serve_metrics_write(FILE *out);

/* ---------------------------------------------------------------------
 * The HTTP server (serve_http.c).
 */
typedef struct serve_config {
    const char *listen;                 /* ADDR:PORT */
    unsigned threads;
    unsigned max_connections;
    unsigned timeout_s;                 /* idle connections are closed after it */
    size_t max_body;
    int log_requests;
    unsigned char token_sha256[32];     /* digest of the bearer token */
    int has_token;
} serve_config;

typedef struct serve_http serve_http;

/* Start listening and serving; prints why on failure (CLI_ERRORS).
 * `bound` receives the address actually bound ("127.0.0.1:8080"). */
int serve_http_start(serve_http **out, const serve_config *cfg, serve_rules *rules,
                     char *bound, size_t bound_size);
/* Stop accepting connections; requests already received are answered
 * (with Connection: close) and /healthz turns 503. */
void serve_http_quiesce(serve_http *h);
/* Wait up to `ms` milliseconds for requests in flight; 1 when none remain. */
int serve_http_drain(serve_http *h, unsigned ms);
void serve_http_stop(serve_http *h);

#endif
