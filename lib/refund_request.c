/*
 * refund_request.c — a refund request in JSON (SPEC §4, Refund) and
 * tsr_refund, which reads it and runs the refund (refund.c): {"order",
 * "receipt", "lines", "datetime", "previous"}.
 */
#include "refund.h"

#include <stdio.h>
#include <yajl/yajl_parse.h>

/* The request holds the order and its receipt (which, with a trace, is
 * several times the order's size). */
#define REQUEST_SIZE_FACTOR 4

/* ---------------------------------------------------------------------
 * The request: {"order", "receipt", "lines", "datetime", "previous"}.  The
 * order and the receipt are cut out of the text as they are and read by
 * their own readers (order_json.c, receipt.c), so their errors and limits
 * are the same as anywhere else.
 */
enum { RK_NONE = 0, RK_ORDER, RK_RECEIPT, RK_LINES, RK_DATETIME, RK_PREVIOUS };
static const char *const request_keys[] = { "order", "receipt", "lines", "datetime", "previous" };
enum { SUB_NONE = 0, SUB_LINES, SUB_CLAWBACK };

typedef struct idlist {
    const char **ids;
    size_t n, cap;
} idlist;

typedef struct req {
    const tsr_ruleset *rs;
    const char *text;
    tsr_json_parse jp;
    tsr_arena *arena;
    tsr_error *err;
    int rc;
    unsigned depth;             /* open containers */
    int key;                    /* the top-level key being read (RK_*) */
    int sub;                    /* inside `previous`: SUB_* */
    unsigned capture;           /* > 0: inside the order or the receipt */
    size_t capture_start;
    unsigned seen, previous_seen;
    const char *order, *receipt;
    size_t order_len, receipt_len;
    idlist lines, previous;
    const char *datetime;
    int64_t clawback;
} req;

static int req_fail(req *q, const char *path, const char *fmt, ...) TSR_PRINTF(3, 4);

static int req_fail(req *q, const char *path, const char *fmt, ...)
{
    va_list ap;

    if (q->rc != TSR_OK)
        return q->rc;
    va_start(ap, fmt);
    q->rc = tsr__err_pathv(q->err, TSR_EORDER, path, fmt, ap);
    va_end(ap);
    return q->rc;
}

static int req_nomem(req *q)
{
    return q->rc = tsr__err(q->err, TSR_ENOMEM, NULL);
}

/* The path of the value being read, for messages. */
static const char *req_path(const req *q, char *buf, size_t size)
{
    const char *base = q->key > 0 ? request_keys[q->key - 1] : "";
    if (q->key == RK_LINES && q->depth >= 2)
        snprintf(buf, size, "lines[%zu]", q->lines.n);
    else if (q->key == RK_PREVIOUS && q->sub == SUB_LINES && q->depth == 3)
        snprintf(buf, size, "previous.lines[%zu]", q->previous.n);
    else if (q->key == RK_PREVIOUS && q->sub != SUB_NONE)
        snprintf(buf, size, "previous.%s", q->sub == SUB_LINES ? "lines" : "clawback");
    else
        snprintf(buf, size, "%s", base);
    return buf;
}

/* What belongs at the position being read, for messages. */
static const char *req_expected(const req *q)
{
    if (q->depth == 1)
        return q->key == RK_LINES      ? "expected a list of line ids"
               : q->key == RK_DATETIME ? "expected the refund time, ISO 8601 with a UTC offset"
                                       : "expected an object";
    if (q->key == RK_PREVIOUS && q->depth == 2)
        return q->sub == SUB_CLAWBACK ? "expected a money amount such as \"12.00\""
                                      : "expected a list of line ids";
    return "expected a line id (a string)";
}

static int add_id(req *q, idlist *l, const char *s, size_t n)
{
    char path[64];
    char *copy;

    if (l->n >= q->rs->limits.max_order_lines)
        return req_fail(q, req_path(q, path, sizeof path),
                        "more line ids than an order may have lines (%zu)",
                        q->rs->limits.max_order_lines);
    if (n == 0 || memchr(s, '\0', n))
        return req_fail(q, req_path(q, path, sizeof path), "not a line id");
    if (l->n == l->cap) {
        void *p = l->ids;
        if (tsr__arena_grow(q->arena, &p, &l->cap, l->n, sizeof *l->ids, 8) != TSR_OK)
            return req_nomem(q);
        l->ids = p;
    }
    if (!(copy = tsr__arena_strndup(q->arena, s, n)))
        return req_nomem(q);
    l->ids[l->n++] = copy;
    return TSR_OK;
}

static int req_start(req *q, bool is_map)
{
    char path[64];

    if (q->rc != TSR_OK)
        return q->rc;
    if (q->capture) {
        q->capture++;
        q->depth++;
        return TSR_OK;
    }
    if (q->depth == 0) {
        if (!is_map)
            return req_fail(q, "", "a refund request is a JSON object: "
                                   "{\"order\", \"receipt\", \"lines\", \"datetime\"}");
        q->depth = 1;
        return TSR_OK;
    }
    if (q->depth == 1 && is_map && (q->key == RK_ORDER || q->key == RK_RECEIPT)) {
        /* yajl's offset is just past the `{` it reports */
        q->capture_start = tsr__json_offset(&q->jp) - 1;
        q->capture = 1;
        q->depth++;
        return TSR_OK;
    }
    if (q->depth == 1 && ((q->key == RK_LINES && !is_map) || (q->key == RK_PREVIOUS && is_map))) {
        q->depth++;
        return TSR_OK;
    }
    if (q->depth == 2 && q->key == RK_PREVIOUS && q->sub == SUB_LINES && !is_map) {
        q->depth++;
        return TSR_OK;
    }
    return req_fail(q, req_path(q, path, sizeof path), "%s", req_expected(q));
}

static int req_end(req *q)
{
    if (q->rc != TSR_OK)
        return q->rc;
    q->depth--;
    if (q->capture && --q->capture == 0) {
        size_t end = tsr__json_offset(&q->jp);
        const char *start = q->text + q->capture_start;
        if (q->key == RK_ORDER) {
            q->order = start;
            q->order_len = end - q->capture_start;
        } else {
            q->receipt = start;
            q->receipt_len = end - q->capture_start;
        }
    }
    return TSR_OK;
}

static int req_key(req *q, const char *s, size_t n)
{
    size_t i;

    if (q->rc != TSR_OK || q->capture)
        return q->rc;
    if (q->depth == 1) {
        for (i = 0; i < TSR_ARRAY_LEN(request_keys); i++)
            if (strlen(request_keys[i]) == n && memcmp(request_keys[i], s, n) == 0)
                break;
        if (i == TSR_ARRAY_LEN(request_keys)) {
            char path[64], hint[64];
            tsr__clip(path, sizeof path, s, n, 40);
            return req_fail(q, path, "unknown key in a refund request%s",
                            tsr__suggest(hint, sizeof hint, s, n, request_keys,
                                         TSR_ARRAY_LEN(request_keys)));
        }
        if (q->seen & (1u << i))
            return req_fail(q, request_keys[i], "`%s` is given twice", request_keys[i]);
        q->seen |= 1u << i;
        q->key = (int)i + 1;
        q->sub = SUB_NONE;
        return TSR_OK;
    }
    /* depth 2: inside `previous` */
    if (n == 5 && memcmp(s, "lines", 5) == 0)
        q->sub = SUB_LINES;
    else if (n == 8 && memcmp(s, "clawback", 8) == 0)
        q->sub = SUB_CLAWBACK;
    else {
        char shown[64];
        return req_fail(q, "previous", "unknown key `%s`: `previous` holds `lines` (the line "
                                       "ids refunded before) and `clawback` (what was withheld)",
                        tsr__clip(shown, sizeof shown, s, n, 40));
    }
    if (q->previous_seen & (1u << q->sub))
        return req_fail(q, "previous", "`%s` is given twice", q->sub == SUB_LINES ? "lines" : "clawback");
    q->previous_seen |= 1u << q->sub;
    return TSR_OK;
}

static int req_clawback(req *q, tsr_otok tok, const char *s, size_t n)
{
    char shown[64];
    int rc;
    if (tok != TSR_OT_STRING && tok != TSR_OT_NUMBER)
        return req_fail(q, "previous.clawback", "%s", req_expected(q));
    rc = tsr__parse_fixed(s, n, q->rs->minor_units, &q->clawback);
    if (rc != TSR_OK)
        return req_fail(q, "previous.clawback", "`%s` is not a money amount in %s",
                        tsr__clip(shown, sizeof shown, s, n, 40), q->rs->currency);
    if (q->clawback < 0)
        return req_fail(q, "previous.clawback", "`%s` is negative: a clawback is what earlier "
                        "refunds withheld, 0 or more", tsr__clip(shown, sizeof shown, s, n, 40));
    return TSR_OK;
}

static int req_scalar(req *q, tsr_otok tok, const char *s, size_t n)
{
    char path[64];

    if (q->rc != TSR_OK || q->capture)
        return q->rc;
    if (q->depth == 0)
        return req_fail(q, "", "a refund request is a JSON object: "
                               "{\"order\", \"receipt\", \"lines\", \"datetime\"}");
    req_path(q, path, sizeof path);
    if (q->depth == 1 && q->key == RK_DATETIME) {
        if (tok != TSR_OT_STRING)
            return req_fail(q, path, "%s", req_expected(q));
        if (!(q->datetime = tsr__arena_strndup(q->arena, s, n)))
            return req_nomem(q);
        return TSR_OK;
    }
    if (q->depth == 2 && q->key == RK_LINES)
        return tok == TSR_OT_STRING ? add_id(q, &q->lines, s, n)
                                    : req_fail(q, path, "expected a line id (a string)");
    if (q->depth == 3)
        return tok == TSR_OT_STRING ? add_id(q, &q->previous, s, n)
                                    : req_fail(q, path, "expected a line id (a string)");
    if (q->depth == 2 && q->sub == SUB_CLAWBACK)
        return req_clawback(q, tok, s, n);
    return req_fail(q, path, "%s", req_expected(q));
}

static int rq_null(void *c) { return req_scalar(c, TSR_OT_NULL, NULL, 0) == TSR_OK; }
static int rq_bool(void *c, int b)
{
    return req_scalar(c, b ? TSR_OT_TRUE : TSR_OT_FALSE, NULL, 0) == TSR_OK;
}
static int rq_number(void *c, const char *s, size_t n)
{
    return req_scalar(c, TSR_OT_NUMBER, s, n) == TSR_OK;
}
static int rq_string(void *c, const unsigned char *s, size_t n)
{
    return req_scalar(c, TSR_OT_STRING, (const char *)s, n) == TSR_OK;
}
static int rq_start_map(void *c) { return req_start(c, true) == TSR_OK; }
static int rq_key(void *c, const unsigned char *s, size_t n)
{
    return req_key(c, (const char *)s, n) == TSR_OK;
}
static int rq_end(void *c) { return req_end(c) == TSR_OK; }
static int rq_start_array(void *c) { return req_start(c, false) == TSR_OK; }

static const yajl_callbacks request_callbacks = {
    rq_null, rq_bool, NULL, NULL, rq_number, rq_string,
    rq_start_map, rq_key, rq_end, rq_start_array, rq_end
};

static int read_request(req *q, const tsr_ruleset *rs, const char *text, size_t len,
                        tsr_arena *arena, tsr_error *err)
{
    static const char *const required[] = { "order", "receipt", "lines", "datetime" };
    char msg[TSR_ERROR_TEXT_MAX];
    size_t i;
    int rc;

    memset(q, 0, sizeof *q);
    q->rs = rs;
    q->text = text;
    q->arena = arena;
    q->err = err;
    q->jp.alloc = arena->alloc;
    if (rs->limits.max_order_size <= SIZE_MAX / REQUEST_SIZE_FACTOR &&
        len > rs->limits.max_order_size * REQUEST_SIZE_FACTOR)
        return tsr__err_path(err, TSR_ELIMIT, "", "a refund request may have at most %zu bytes",
                             rs->limits.max_order_size * REQUEST_SIZE_FACTOR);
    rc = tsr__json_parse(&q->jp, &request_callbacks, q, text, len, TSR_JSON_CANCELLED, msg, sizeof msg);
    if (rc == TSR_JSON_CANCELLED)
        return q->rc;
    if (rc == TSR_ENOMEM)
        return tsr__err(err, TSR_ENOMEM, NULL);
    if (rc != TSR_OK)
        return tsr__err_path(err, TSR_EORDER, "", "the refund request is not valid JSON: %s", msg);
    for (i = 0; i < TSR_ARRAY_LEN(required); i++)
        if (!(q->seen & (1u << i)))
            return tsr__err_path(err, TSR_EORDER, "", "the refund request has no `%s`", required[i]);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * The entry point.
 */
int tsr_refund(tsr_refund_result **out, const tsr_ruleset *rs, const char *request, size_t len,
               tsr_error *err)
{
    tsr_refund_input in;
    tsr_arena arena;
    tsr_order order;
    req q;
    int rc;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_refund: `out` is NULL");
    *out = NULL;
    if (!rs || (!request && len))
        return tsr__err(err, TSR_EINVAL, "tsr_refund: rule set or request is NULL");
    tsr__arena_init(&arena, &rs->alloc, 1024);
    memset(&order, 0, sizeof order);
    rc = read_request(&q, rs, request ? request : "", len, &arena, err);
    if (rc == TSR_OK && (rc = tsr__order_init(&order, rs)) != TSR_OK)
        tsr__err(err, rc, NULL);
    if (rc == TSR_OK && (rc = tsr__order_parse_text(&order, q.order, q.order_len, err)) != TSR_OK &&
        rc != TSR_ENOMEM)
        tsr__refund_prefix_path(err, "order", rc);
    if (rc == TSR_OK) {
        memset(&in, 0, sizeof in);
        in.order = &order;
        in.receipt = q.receipt;
        in.receipt_len = q.receipt_len;
        in.lines = q.lines.ids;
        in.nlines = q.lines.n;
        in.previous = q.previous.ids;
        in.nprevious = q.previous.n;
        in.previous_clawback = q.clawback;
        in.previous_clawback_stated = (q.previous_seen & (1u << SUB_CLAWBACK)) != 0;
        rc = tsr__refund_time(&in, q.datetime, strlen(q.datetime), err);
    }
    if (rc == TSR_OK)
        rc = tsr__refund_run(out, rs, &in, err);
    tsr__order_fini(&order);
    tsr__arena_free(&arena);
    return rc;
}
