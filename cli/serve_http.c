/*
 * serve_http.c — the routes of `tessera serve` on libmicrohttpd
 * (docs/decisions/http-server.md says why that library and this threading).
 *
 *   POST /v1/rulesets/ID/evaluate   an order -> what `tessera eval` prints;
 *                                   with Content-Type: application/x-ndjson,
 *                                   orders as JSON lines -> what `tessera
 *                                   eval --jsonl` prints
 *   POST /v1/rulesets/ID/refund     a refund request -> what `tessera refund` prints
 *   POST /v1/rulesets/ID/segments   one profile -> the line `tessera segments` prints
 *   GET  /v1/rulesets               what is loaded, digests, reload errors
 *   GET  /healthz                   200 while serving, 503 while draining
 *   GET  /metrics                   Prometheus text
 *
 * A request is answered from the thread that read it: the library is
 * thread-safe for a shared rule set, and an evaluation takes microseconds,
 * so a pool of event-loop threads (one per core by default) is the whole
 * concurrency model.  Bodies are collected up to --max-body and refused
 * beyond it (early, from Content-Length, when the client declares it).
 * Everything a client can send maps to a 4xx with a JSON error; a 5xx
 * means the server itself is short of memory.
 */
#include "serve.h"
#include "batch.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

struct serve_http {
    struct MHD_Daemon *d;
    serve_config cfg;
    serve_rules *rules;
    atomic_int draining;
    atomic_int started;
    char start_error[256];              /* libmicrohttpd's reason a start failed */
};

/* One request, from its headers to its completion. */
typedef struct request {
    struct timespec start;
    serve_route route;
    char id[128];                       /* the rule set id in the URL */
    char method[16];
    char *url;                          /* for the log line only */
    /* query options */
    int explain, no_trace, customer_safe;
    char at[64];
    outbuf body;                        /* up to --max-body */
    int too_large;
    /* the answer */
    int answered;
    unsigned status;
    const char *error;                  /* error code, NULL when none */
    char version[128];                  /* the rule set version that answered */
} request;

static uint64_t elapsed_us(const struct timespec *since)
{
    struct timespec now;
    int64_t ns;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ns = (int64_t)(now.tv_sec - since->tv_sec) * 1000000000 + (now.tv_nsec - since->tv_nsec);
    return ns > 0 ? (uint64_t)ns / 1000u : 0;
}

/* ---------------------------------------------------------------------
 * Answers.
 */
/* The headers every answer gets besides its body's type. */
static void add_headers(serve_http *h, struct MHD_Response *resp, unsigned status,
                        const char *type, const char *allow)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"tessera\"");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    /* while draining, every answer ends its connection, so that clients
     * reconnect to an instance that stays */
    if (atomic_load(&h->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* Queue `resp` (NULL: out of memory) as the answer, and let it go. */
static enum MHD_Result send_response(serve_http *h, struct MHD_Connection *c, request *q,
                                     unsigned status, const char *type,
                                     struct MHD_Response *resp, const char *allow)
{
    enum MHD_Result rc;

    if (!resp)
        return MHD_NO;
    add_headers(h, resp, status, type, allow);
    rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    q->answered = 1;
    q->status = status;
    return rc;
}

static enum MHD_Result queue(serve_http *h, struct MHD_Connection *c, request *q,
                             unsigned status, const char *type, char *body, size_t len,
                             const char *allow)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body,
                                                                MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(body);
    return send_response(h, c, q, status, type, resp, allow);
}

/* A body that outlives every request (a constant). */
static enum MHD_Result queue_static(serve_http *h, struct MHD_Connection *c, request *q,
                                    unsigned status, const char *type, const char *text,
                                    size_t len)
{
    /* PERSISTENT: libmicrohttpd only reads the buffer, but its prototype
     * takes void *; the union drops const without a cast (-Wcast-qual) */
    union { const char *in; void *out; } buf;

    buf.in = text;
    return send_response(h, c, q, status, type,
                         MHD_create_response_from_buffer(len, buf.out, MHD_RESPMEM_PERSISTENT),
                         NULL);
}

static const char json_type[] = "application/json";

/* {"error":{"code":CODE,"message":MESSAGE,"path":PATH|null}} */
static enum MHD_Result fail(serve_http *h, struct MHD_Connection *c, request *q,
                            unsigned status, const char *code, const char *message,
                            const char *path, const char *allow)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    q->error = code;
    if (!f)
        return MHD_NO;
    fputs("{\"error\":{\"code\":", f);
    batch_json_string(f, code);
    fputs(",\"message\":", f);
    batch_json_string(f, message);
    fputs(",\"path\":", f);
    if (path && path[0])
        batch_json_string(f, path);
    else
        fputs("null", f);
    fputs("}}\n", f);
    if (fclose(f) != 0) {
        free(text);
        return MHD_NO;
    }
    return queue(h, c, q, status, json_type, text, len, allow);
}

/* ---------------------------------------------------------------------
 * Bodies that are not what the library reads.
 */

/* NULL when text is well-formed JSON, else yajl's reason, in the words the
 * library uses for a malformed order ("invalid JSON near byte N: ..."). */
static char *json_syntax_error(const char *text, size_t len)
{
    yajl_handle y = yajl_alloc(NULL, NULL, NULL);
    yajl_status st;
    char *out = NULL;

    if (!y)
        return strdup("out of memory");
    /* strings are checked by the library itself, with their path */
    yajl_config(y, yajl_dont_validate_strings, 1);
    st = yajl_parse(y, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(y);
    if (st != yajl_status_ok) {
        unsigned char *msg = yajl_get_error(y, 0, NULL, 0);
        size_t n = msg ? strlen((const char *)msg) : 0, at = yajl_get_bytes_consumed(y);
        char buf[256];
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
            n--;
        snprintf(buf, sizeof buf, "invalid JSON near byte %zu: %.*s", at, (int)n,
                 msg ? (const char *)msg : "syntax error");
        if (msg)
            yajl_free_error(y, msg);
        out = strdup(buf);
    }
    yajl_free(y);
    return out;
}

/* Over HTTP the body is JSON: YAML, which `tessera eval` also reads from
 * files, is not taken (a body that does not start with '{' would be read
 * as YAML by the library).  Answers and returns 1 when the body is not a
 * JSON object; 0 lets the library read it. */
static int refuse_non_object(serve_http *h, struct MHD_Connection *c, request *q,
                             const char *invalid, enum MHD_Result *rc)
{
    const char *b = q->body.data;
    size_t i = 0, n = q->body.len;
    char *why;

    while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    if (i == n) {
        *rc = fail(h, c, q, MHD_HTTP_BAD_REQUEST, "bad_json",
                   "the body is empty: send a JSON object", NULL, NULL);
        return 1;
    }
    if (b[i] == '{')
        return 0;
    if ((why = json_syntax_error(b, n)) != NULL) {
        *rc = fail(h, c, q, MHD_HTTP_BAD_REQUEST, "bad_json", why, NULL, NULL);
        free(why);
    } else {
        *rc = fail(h, c, q, MHD_HTTP_UNPROCESSABLE_CONTENT, invalid,
                   "the body must be a JSON object", "$", NULL);
    }
    return 1;
}

/* A library error about the request: 400 when the body is not even JSON,
 * 422 when it is JSON the rule set refuses, 503 when memory ran out. */
static enum MHD_Result refuse(serve_http *h, struct MHD_Connection *c, request *q,
                              const tsr_error *err, const char *invalid)
{
    const char *code = invalid;
    char *why;
    enum MHD_Result rc;

    switch (err->code) {
    case TSR_ENOMEM:
        return fail(h, c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                    "the server is out of memory; try again", NULL, NULL);
    case TSR_ERECEIPT:
        code = "receipt_mismatch";
        break;
    case TSR_EEVAL:
        code = "evaluation_failed";
        break;
    case TSR_ELIMIT:
        code = "limit_exceeded";
        break;
    case TSR_EORDER:
        if ((why = json_syntax_error(q->body.data, q->body.len)) != NULL) {
            rc = fail(h, c, q, MHD_HTTP_BAD_REQUEST, "bad_json", why, NULL, NULL);
            free(why);
            return rc;
        }
        break;
    default:
        break;
    }
    return fail(h, c, q, MHD_HTTP_UNPROCESSABLE_CONTENT, code, err->message, err->path, NULL);
}

/* ---------------------------------------------------------------------
 * The rule-set routes.
 */
static enum MHD_Result out_of_memory(serve_http *h, struct MHD_Connection *c, request *q)
{
    return fail(h, c, q, MHD_HTTP_SERVICE_UNAVAILABLE, "out_of_memory",
                "the server is out of memory; try again", NULL, NULL);
}

/* 200 with a result's JSON and the newline the command line ends it with;
 * NULL JSON is out of memory.  The JSON is copied: a result must not
 * outlive its rule set, which a reload may free before the answer is sent
 * (the copy costs nothing measurable beside the evaluation). */
static enum MHD_Result answer_json(serve_http *h, struct MHD_Connection *c, request *q,
                                   const char *json, size_t len)
{
    char *body;

    if (!json || !(body = malloc(len + 1)))
        return out_of_memory(h, c, q);
    memcpy(body, json, len);
    body[len] = '\n';
    return queue(h, c, q, MHD_HTTP_OK, json_type, body, len + 1, NULL);
}

static enum MHD_Result evaluate(serve_http *h, struct MHD_Connection *c, request *q,
                                serve_version *v)
{
    tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    serve_kept k;
    tsr_result *res;
    tsr_error err;
    enum MHD_Result rc;

    opts.customer_safe = q->customer_safe;
    opts.no_trace = q->no_trace;
    if (refuse_non_object(h, c, q, "invalid_order", &rc))
        return rc;
    if (serve_version_take(v, &k) != 0)
        return out_of_memory(h, c, q);
    /* evaluated into the kept result: its memory is reused, and the answer
     * is copied out of it before it is given back */
    if (tsr_order_parse(k.order, q->body.data, q->body.len, &err) != TSR_OK ||
        tsr_evaluate_into(&k.result, v->rs, k.order, &opts, &err) != TSR_OK) {
        serve_version_give(v, &k);
        return refuse(h, c, q, &err, "invalid_order");
    }
    res = k.result;
    if (q->explain) {
        int n = tsr_result_explain(NULL, 0, res);
        char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
        if (text) {
            tsr_result_explain(text, (size_t)n + 1, res);
            rc = queue(h, c, q, MHD_HTTP_OK, "text/plain; charset=utf-8", text, (size_t)n, NULL);
        } else {
            rc = out_of_memory(h, c, q);
        }
    } else {
        size_t len;
        const char *json = tsr_result_json(res, &len);
        rc = answer_json(h, c, q, json, len);
    }
    serve_version_give(v, &k);
    return rc;
}

static enum MHD_Result refund(serve_http *h, struct MHD_Connection *c, request *q,
                              const tsr_ruleset *rs)
{
    tsr_refund_result *res = NULL;
    tsr_error err;
    enum MHD_Result rc;
    const char *json;
    size_t len = 0;

    if (refuse_non_object(h, c, q, "invalid_request", &rc))
        return rc;
    if (tsr_refund(&res, rs, q->body.data, q->body.len, &err) != TSR_OK) {
        rc = refuse(h, c, q, &err, "invalid_request");
    } else {
        json = tsr_refund_result_json(res, &len);
        rc = answer_json(h, c, q, json, len);
    }
    tsr_refund_result_free(res);
    return rc;
}

static enum MHD_Result segments(serve_http *h, struct MHD_Connection *c, request *q,
                                const tsr_ruleset *rs)
{
    tsr_profile *p = NULL;
    tsr_error err;
    enum MHD_Result rc;
    const char *json;
    char now[32];
    size_t len;

    if (refuse_non_object(h, c, q, "invalid_profile", &rc))
        return rc;
    if (!q->at[0]) {
        /* as `tessera segments` without --at: the time of the request */
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    /* NOLINTNEXTLINE(bugprone-branch-clone): a profile refused when made or when read */
    if (tsr_profile_new(&p, rs, &err) != TSR_OK) {
        rc = refuse(h, c, q, &err, "invalid_profile");
    } else if (tsr_profile_set_datetime(p, q->at[0] ? q->at : now, &err) != TSR_OK) {
        char msg[TSR_ERROR_TEXT_MAX + 16];
        snprintf(msg, sizeof msg, "at: %s", err.message);
        rc = fail(h, c, q, MHD_HTTP_BAD_REQUEST, "bad_query", msg, NULL, NULL);
    } else if (tsr_profile_parse(p, q->body.data, q->body.len, &err) != TSR_OK) {
        rc = refuse(h, c, q, &err, "invalid_profile");
    } else {
        json = tsr_profile_json(p, &len);
        rc = answer_json(h, c, q, json, len);
    }
    tsr_profile_free(p);
    return rc;
}

/* ---------------------------------------------------------------------
 * JSON lines: several orders a request, answered as `tessera eval --jsonl`
 * answers them, line for line.  An answer of up to LINES_BUFFERED bytes
 * (some 40 park10 results) is built whole and sent with its length, in
 * one write with the headers; a longer one is produced as libmicrohttpd
 * sends it (chunked), a block of lines per call, so that memory holds the
 * body and about a block of results however many orders the body has.
 * The version is held until the last line is answered.
 */
#define LINES_BUFFERED ((size_t)64 * 1024)

typedef struct lines_answer {
    serve_version *v;
    tsr_eval_options opts;
    char *body;                 /* the request's, taken over */
    size_t len, pos;            /* lines before pos are answered */
    size_t lineno;
    outbuf out;                 /* answers not yet handed over */
    size_t sent;                /* bytes of out handed over */
    int failed;                 /* out of memory: the answer ends short */
} lines_answer;

/* Evaluate lines until about `want` bytes of answers wait in s->out. */
static void lines_fill(lines_answer *s, size_t want)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    serve_kept k = { NULL, NULL };
    uint64_t priced = 0, rejected = 0;

    while (s->out.len < want && s->pos < s->len) {
        const char *line = s->body + s->pos;
        const char *nl = memchr(line, '\n', s->len - s->pos);
        size_t n = nl ? (size_t)(nl - line) : s->len - s->pos;
        int r;

        s->pos += n + (nl != NULL);
        s->lineno++;
        if (n > limits.max_order_size) {
            /* what `tessera eval --jsonl` says of a line it does not keep */
            r = batch_eval_too_long(&s->out, s->lineno, limits.max_order_size) == 0 ? 1 : -1;
        } else if (batch_is_blank(line, n)) {
            continue;
        } else if (!k.order && serve_version_take(s->v, &k) != 0) {
            r = -1;
        } else {
            r = batch_eval_line(s->v->rs, k.order, &k.result, &s->opts, &s->out, line, n,
                                s->lineno);
        }
        if (r < 0) {
            s->failed = 1;
            break;
        }
        if (r == 0)
            priced++;
        else
            rejected++;
    }
    serve_version_give(s->v, &k);
    serve_metrics_lines(priced, rejected);
}

static ssize_t lines_read(void *cls, uint64_t at, char *buf, size_t max)
{
    lines_answer *s = cls;
    size_t n;

    (void)at;
    if (s->sent == s->out.len) {
        s->out.len = s->sent = 0;
        if (!s->failed)
            lines_fill(s, max);
        if (s->out.len == 0)
            return s->failed ? MHD_CONTENT_READER_END_WITH_ERROR
                             : MHD_CONTENT_READER_END_OF_STREAM;
    }
    n = s->out.len - s->sent < max ? s->out.len - s->sent : max;
    memcpy(buf, s->out.data + s->sent, n);
    s->sent += n;
    return (ssize_t)n;
}

static void lines_free(void *cls)
{
    lines_answer *s = cls;
    serve_version_release(s->v);
    free(s->body);
    free(s->out.data);
    free(s);
}

static enum MHD_Result evaluate_lines(serve_http *h, struct MHD_Connection *c, request *q,
                                      serve_version *v)
{
    static const tsr_eval_options init = TSR_EVAL_OPTIONS_INIT;
    static const char type[] = "application/x-ndjson";
    lines_answer *s = calloc(1, sizeof *s);
    struct MHD_Response *resp;

    if (!s)
        return out_of_memory(h, c, q);
    s->opts = init;
    s->opts.customer_safe = q->customer_safe;
    s->opts.no_trace = q->no_trace;
    s->v = v;
    s->body = q->body.data;
    s->len = q->body.len;
    lines_fill(s, LINES_BUFFERED);
    if (s->failed || s->pos >= s->len) {
        /* answered whole, or nothing sent yet that a 503 would contradict */
        char *text = s->out.data;
        size_t len = s->out.len;
        int failed = s->failed;
        free(s);
        if (failed) {
            free(text);
            return out_of_memory(h, c, q);
        }
        return queue(h, c, q, MHD_HTTP_OK, type, text, len, NULL);
    }
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, (size_t)32 * 1024, lines_read, s,
                                             lines_free);
    if (!resp) {
        free(s->out.data);
        free(s);
        return out_of_memory(h, c, q);
    }
    /* the answer holds the version and the body until it is sent */
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    memset(&q->body, 0, sizeof q->body);
    return send_response(h, c, q, MHD_HTTP_OK, type, resp, NULL);
}

/* A UTF-8 byte order mark, which some systems (1C among them) put before
 * a JSON body, is not part of the JSON: dropped. */
static void drop_bom(request *q)
{
    if (q->body.len >= 3 && memcmp(q->body.data, "\xef\xbb\xbf", 3) == 0) {
        memmove(q->body.data, q->body.data + 3, q->body.len - 3);
        q->body.len -= 3;
    }
}

/* The body is complete: answer with the rule set current now.  The
 * version is held until the answer is built, so a reload meanwhile only
 * affects the requests that come after it. */
static enum MHD_Result answer_rules(serve_http *h, struct MHD_Connection *c, request *q)
{
    serve_version *v = serve_rules_acquire(h->rules, q->id);
    enum MHD_Result rc;

    if (!v)
        return fail(h, c, q, MHD_HTTP_NOT_FOUND, "unknown_ruleset",
                    "no rule set has this id; GET /v1/rulesets lists them", NULL, NULL);
    snprintf(q->version, sizeof q->version, "%s", tsr_ruleset_version(v->rs));
    drop_bom(q);
    if (q->route == ROUTE_EVALUATE)
        rc = evaluate(h, c, q, v);
    else if (q->route == ROUTE_EVALUATE_JSONL)
        rc = evaluate_lines(h, c, q, v);
    else if (q->route == ROUTE_REFUND)
        rc = refund(h, c, q, v->rs);
    else
        rc = segments(h, c, q, v->rs);
    serve_version_release(v);
    return rc;
}

/* ---------------------------------------------------------------------
 * The other routes.
 */
static enum MHD_Result answer_stream(serve_http *h, struct MHD_Connection *c, request *q,
                                     const char *type, void (*write)(serve_http *, FILE *))
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return out_of_memory(h, c, q);
    write(h, f);
    if (fclose(f) != 0) {
        free(text);
        return out_of_memory(h, c, q);
    }
    return queue(h, c, q, MHD_HTTP_OK, type, text, len, NULL);
}

static void write_rulesets(serve_http *h, FILE *out)
{
    serve_rules_describe(h->rules, out);
}

static void write_metrics(serve_http *h, FILE *out)
{
    serve_metrics_write(out);
    serve_rules_metrics(h->rules, out);
}

static enum MHD_Result answer_get(serve_http *h, struct MHD_Connection *c, request *q)
{
    static const char ok[] = "{\"status\":\"ok\"}\n", draining[] = "{\"status\":\"draining\"}\n";

    switch (q->route) {
    case ROUTE_HEALTHZ:
        if (atomic_load(&h->draining))
            return queue_static(h, c, q, MHD_HTTP_SERVICE_UNAVAILABLE, json_type, draining,
                                sizeof draining - 1);
        return queue_static(h, c, q, MHD_HTTP_OK, json_type, ok, sizeof ok - 1);
    case ROUTE_RULESETS:
        return answer_stream(h, c, q, json_type, write_rulesets);
    default:
        return answer_stream(h, c, q, "text/plain; version=0.0.4; charset=utf-8", write_metrics);
    }
}

/* ---------------------------------------------------------------------
 * Routing.
 */

/* The route of a URL path; the rule set id goes to q->id.  IDs never name
 * files: they are only compared with the ids of the loaded rule sets. */
static serve_route route_of(const char *url, request *q)
{
    static const char prefix[] = "/v1/rulesets/";
    const char *id, *slash;

    if (strcmp(url, "/healthz") == 0)
        return ROUTE_HEALTHZ;
    if (strcmp(url, "/metrics") == 0)
        return ROUTE_METRICS;
    if (strcmp(url, "/v1/rulesets") == 0)
        return ROUTE_RULESETS;
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return ROUTE_OTHER;
    id = url + sizeof prefix - 1;
    slash = strchr(id, '/');
    if (!slash || slash == id || (size_t)(slash - id) >= sizeof q->id)
        return ROUTE_OTHER;
    memcpy(q->id, id, (size_t)(slash - id));
    q->id[slash - id] = '\0';
    if (strcmp(slash, "/evaluate") == 0)
        return ROUTE_EVALUATE;
    if (strcmp(slash, "/refund") == 0)
        return ROUTE_REFUND;
    if (strcmp(slash, "/segments") == 0)
        return ROUTE_SEGMENTS;
    return ROUTE_OTHER;
}

static int is_post_route(serve_route r)
{
    return r == ROUTE_EVALUATE || r == ROUTE_EVALUATE_JSONL || r == ROUTE_REFUND ||
           r == ROUTE_SEGMENTS;
}

/* Content-Type: application/x-ndjson (parameters such as charset aside)
 * asks for the JSON-lines evaluation. */
static int wants_lines(struct MHD_Connection *c)
{
    static const char ndjson[] = "application/x-ndjson";
    const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_TYPE);
    size_t n = sizeof ndjson - 1;

    if (!t || strncasecmp(t, ndjson, n) != 0)
        return 0;
    while (t[n] == ' ' || t[n] == '\t')
        n++;
    return t[n] == '\0' || t[n] == ';';
}

/* The bearer token, compared through digests of equal length in constant
 * time: neither the token's bytes nor its length leak through timing. */
static int authorized(const serve_http *h, struct MHD_Connection *c)
{
    const char *a;
    unsigned char d[32];
    unsigned diff = 0;
    size_t i;

    if (!h->cfg.has_token)
        return 1;
    a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!a || strncasecmp(a, "Bearer ", 7) != 0)
        return 0;
    a += 7;
    while (*a == ' ')
        a++;
    serve_sha256(a, strlen(a), d);
    for (i = 0; i < sizeof d; i++)
        diff |= (unsigned)(d[i] ^ h->cfg.token_sha256[i]);
    return diff == 0;
}

/* Query options, as the command line's: ?explain=1 (--explain), ?trace=0
 * (--no-trace), ?customer_safe=1 (--customer-safe), ?at=DATETIME
 * (segments --at).  Unknown options are refused, so that a misspelt one
 * is not silently ignored. */
typedef struct query_scan {
    request *q;
    char bad[200];
} query_scan;

static int flag_value(const char *v, int *out)
{
    if (!v || !v[0] || strcmp(v, "1") == 0 || strcmp(v, "true") == 0)
        *out = 1;
    else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    query_scan *s = cls;
    request *q = s->q;
    int on = 0, rc = 0;
    int evaluating = q->route == ROUTE_EVALUATE || q->route == ROUTE_EVALUATE_JSONL;

    (void)kind;
    if (q->route == ROUTE_EVALUATE && strcmp(key, "explain") == 0) {
        rc = flag_value(value, &q->explain);
    } else if (q->route == ROUTE_EVALUATE_JSONL && strcmp(key, "explain") == 0) {
        if ((rc = flag_value(value, &on)) == 0 && on) {
            snprintf(s->bad, sizeof s->bad, "explain does not go with JSON lines (nor does "
                     "`tessera eval --explain` with --jsonl): send one order as application/json");
            return MHD_NO;
        }
    } else if (evaluating && strcmp(key, "trace") == 0) {
        rc = flag_value(value, &on);
        q->no_trace = !on;
    } else if (evaluating && strcmp(key, "customer_safe") == 0) {
        rc = flag_value(value, &q->customer_safe);
    } else if (q->route == ROUTE_SEGMENTS && strcmp(key, "at") == 0) {
        if (!value || strlen(value) >= sizeof q->at)
            rc = -1;
        else
            strcpy(q->at, value);
    } else {
        snprintf(s->bad, sizeof s->bad, "unknown query option `%.60s`%s", key,
                 q->route == ROUTE_EVALUATE ? "; evaluate takes explain, trace and customer_safe"
                 : q->route == ROUTE_EVALUATE_JSONL ? "; evaluate takes trace and customer_safe "
                                                      "with JSON lines"
                 : q->route == ROUTE_SEGMENTS ? "; segments takes at"
                 : q->route == ROUTE_REFUND ? "; refund takes none" : "");
        return MHD_NO;
    }
    if (rc != 0) {
        snprintf(s->bad, sizeof s->bad, "query option `%.60s` %s", key,
                 strcmp(key, "at") == 0 ? "needs a datetime such as 2026-12-01T00:00:00+03:00"
                                        : "takes 1 or 0 (true or false)");
        return MHD_NO;
    }
    return MHD_YES;
}

/* Everything that can be decided from the headers alone. */
static enum MHD_Result first_call(serve_http *h, struct MHD_Connection *c, request *q,
                                  const char *method)
{
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    const char *length;
    query_scan scan;

    if (q->route != ROUTE_HEALTHZ && !authorized(h, c))
        return fail(h, c, q, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                    "this server needs `Authorization: Bearer TOKEN`", NULL, NULL);
    if (q->route == ROUTE_OTHER)
        return fail(h, c, q, MHD_HTTP_NOT_FOUND, "not_found",
                    "no such route; POST /v1/rulesets/ID/evaluate, /refund or /segments, "
                    "GET /v1/rulesets, /healthz or /metrics", NULL, NULL);
    if (is_post_route(q->route) && !post)
        return fail(h, c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                    "this route takes POST", NULL, "POST");
    if (!is_post_route(q->route) && !get)
        return fail(h, c, q, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                    "this route takes GET", NULL, "GET, HEAD");
    scan.q = q;
    scan.bad[0] = '\0';
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &scan);
    if (scan.bad[0])
        return fail(h, c, q, MHD_HTTP_BAD_REQUEST, "bad_query", scan.bad, NULL, NULL);
    if (!is_post_route(q->route))
        return MHD_YES;     /* answered on the next call: an answer queued
                               now would end a keep-alive connection */
    {
        serve_version *v = serve_rules_acquire(h->rules, q->id);
        if (!v)
            return fail(h, c, q, MHD_HTTP_NOT_FOUND, "unknown_ruleset",
                        "no rule set has this id; GET /v1/rulesets lists them", NULL, NULL);
        serve_version_release(v);
    }
    length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
        char *end;
        unsigned long long n;
        errno = 0;
        n = strtoull(length, &end, 10);
        if (errno == 0 && *end == '\0' && n > h->cfg.max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "the body is larger than the limit of %zu bytes",
                     h->cfg.max_body);
            return fail(h, c, q, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", msg, NULL, NULL);
        }
        /* the declared length, at once: no growing while it arrives */
        if (errno == 0 && *end == '\0' && n > 0) {
            if (!(q->body.data = malloc((size_t)n)))
                return out_of_memory(h, c, q);
            q->body.cap = (size_t)n;
        }
    }
    return MHD_YES;
}

/* Keep up to max_body bytes of the body; beyond that, drop the rest and
 * remember to answer 413. */
static int collect(serve_http *h, request *q, const char *data, size_t n)
{
    if (q->too_large || n > h->cfg.max_body - q->body.len) {
        q->too_large = 1;
        free(q->body.data);
        memset(&q->body, 0, sizeof q->body);
        return 0;
    }
    return ob_put(&q->body, data, n);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_size, void **req_cls)
{
    serve_http *h = cls;
    request *q = *req_cls;

    (void)version;
    if (!q) {
        if (!(q = calloc(1, sizeof *q)))
            return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &q->start);
        snprintf(q->method, sizeof q->method, "%s", method);
        if (h->cfg.log_requests)
            q->url = strndup(url, 200);
        *req_cls = q;
        serve_metrics_in_flight(1);
        q->route = route_of(url, q);
        if (q->route == ROUTE_EVALUATE && wants_lines(c))
            q->route = ROUTE_EVALUATE_JSONL;
        return first_call(h, c, q, method);
    }
    if (q->answered) {
        /* answered from the headers; whatever body follows is not read */
        *data_size = 0;
        return MHD_YES;
    }
    if (*data_size) {
        int rc = collect(h, q, data, *data_size);
        *data_size = 0;
        return rc == 0 ? MHD_YES : MHD_NO;
    }
    if (!is_post_route(q->route))
        return answer_get(h, c, q);
    if (q->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "the body is larger than the limit of %zu bytes",
                 h->cfg.max_body);
        return fail(h, c, q, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", msg, NULL, NULL);
    }
    return answer_rules(h, c, q);
}

/* ---------------------------------------------------------------------
 * Completion: metrics and the log line.
 */

/* What a client sent, for the log: bytes outside printable ASCII become
 * '?', so that the line is valid JSON (and UTF-8) whatever it was. */
static void printable(char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

static void log_request(request *q, uint64_t us, enum MHD_RequestTerminationCode toe)
{
    static const char *const ends[] = { "ok", "error", "timeout", "shutdown", "read_error",
                                        "client_abort" };
    char *text = NULL;
    size_t len = 0;
    FILE *f;

    printable(q->url);
    printable(q->method);
    printable(q->id);
    if (!(f = open_memstream(&text, &len)))
        return;
    fputs("\"method\":", f);
    batch_json_string(f, q->method);
    fputs(",\"path\":", f);
    batch_json_string(f, q->url ? q->url : "");
    fprintf(f, ",\"route\":\"%s\",\"status\":%u", serve_route_name(q->route), q->status);
    if (q->id[0]) {
        fputs(",\"ruleset\":", f);
        batch_json_string(f, q->id);
    }
    if (q->version[0]) {
        fputs(",\"version\":", f);
        batch_json_string(f, q->version);
    }
    if (q->error)
        fprintf(f, ",\"error\":\"%s\"", q->error);
    fprintf(f, ",\"latency_us\":%llu", (unsigned long long)us);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && (unsigned)toe < 6)
        fprintf(f, ",\"end\":\"%s\"", ends[toe]);
    if (fclose(f) == 0)
        serve_log_event("request", text);
    free(text);
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    serve_http *h = cls;
    request *q = *req_cls;
    uint64_t us;

    (void)c;
    if (!q)
        return;
    us = elapsed_us(&q->start);
    serve_metrics_request(q->route, q->answered ? q->status : 0, q->error, us);
    if (h->cfg.log_requests)
        log_request(q, us, toe);
    free(q->url);
    free(q->body.data);
    free(q);
    *req_cls = NULL;
    serve_metrics_in_flight(-1);
}

/* libmicrohttpd's own messages: kept as the reason when the start fails,
 * logged with --log afterwards (a client that resets its connection, ...). */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    serve_http *h = cls;
    char msg[256], *text = NULL;
    size_t len = 0, n;
    FILE *f;

    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    if (!atomic_load(&h->started)) {
        snprintf(h->start_error, sizeof h->start_error, "%s", msg);
        return;
    }
    if (!h->cfg.log_requests || !(f = open_memstream(&text, &len)))
        return;
    fputs("\"message\":", f);
    batch_json_string(f, msg);
    if (fclose(f) == 0)
        serve_log_event("http", text);
    free(text);
}

/* ---------------------------------------------------------------------
 * Start and stop.
 */

/* ADDR:PORT, [IPV6]:PORT or HOST:PORT into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *v6)
{
    char host[256];
    const char *colon = strrchr(listen, ':'), *port;
    struct addrinfo hints, *res = NULL;
    size_t n;

    if (!colon || colon == listen || !colon[1])
        return -1;
    port = colon + 1;
    n = (size_t)(colon - listen);
    if (listen[0] == '[') {
        if (n < 3 || listen[n - 1] != ']')
            return -1;
        listen++;
        n -= 2;
    }
    if (n >= sizeof host)
        return -1;
    memcpy(host, listen, n);
    host[n] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, port, &hints, &res) != 0 || !res)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *v6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return 0;
}

int serve_http_start(serve_http **out, const serve_config *cfg, serve_rules *rules,
                     char *bound, size_t bound_size)
{
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    char host[128];
    serve_http *h;
    int v6 = 0;

    *out = NULL;
    memset(&ss, 0, sizeof ss);
    if (parse_listen(cfg->listen, &ss, &v6) != 0) {
        fprintf(stderr, "tessera serve: --listen %s: expected ADDRESS:PORT, such as "
                        "127.0.0.1:8080 or [::1]:8080\n", cfg->listen);
        return CLI_USAGE;
    }
    if (!(h = calloc(1, sizeof *h))) {
        fprintf(stderr, "tessera serve: out of memory\n");
        return CLI_ERRORS;
    }
    h->cfg = *cfg;
    h->rules = rules;
    if (v6)
        flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_THREAD_POOL_SIZE, cfg->threads > 1 ? cfg->threads : 0u,
                            MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout_s,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_STRICT_FOR_CLIENT, 1,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
                            MHD_OPTION_END);
    if (!h->d) {
        fprintf(stderr, "tessera serve: cannot listen on %s%s%s\n", cfg->listen,
                h->start_error[0] ? ": " : "", h->start_error);
        free(h);
        return CLI_ERRORS;
    }
    atomic_store(&h->started, 1);
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (getnameinfo((struct sockaddr *)&ss, v6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in),
                    host, sizeof host, NULL, 0, NI_NUMERICHOST) != 0)
        snprintf(host, sizeof host, "?");
    snprintf(bound, bound_size, v6 ? "[%s]:%u" : "%s:%u", host,
             info ? (unsigned)info->port : 0u);
    *out = h;
    return CLI_OK;
}

void serve_http_quiesce(serve_http *h)
{
    MHD_socket s;
    atomic_store(&h->draining, 1);
    s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
}

int serve_http_drain(serve_http *h, unsigned ms)
{
    struct timespec nap = { 0, 10 * 1000000L };
    unsigned waited = 0;
    (void)h;
    while (serve_metrics_in_flight_now() > 0) {
        if (waited >= ms)
            return 0;
        nanosleep(&nap, NULL);
        waited += 10;
    }
    return 1;
}

void serve_http_stop(serve_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    free(h);
}
