/*
 * diff.c — comparing two rule sets over many orders: what `tessera diff`
 * reports, for the command, the bindings and batch engines alike.
 *
 * Owns the comparison of one order (priced under both sides; changed when
 * any total moved), what is kept of many (sums, counts, the first
 * rejections, the orders that moved most: memory independent of the number
 * of orders), the state of a comparison as JSON and merging such states
 * (partitions compared apart, on other machines, and reported as one), and
 * the report itself, as text and as JSON.  Sums are overflow-checked and
 * percentages computed in integers.
 *
 * Line numbers: a tsr_diff numbers the lines it is given from 1, blank ones
 * included, so that the report names the line of the input.  A merged state
 * continues after the lines the tsr_diff has seen, so states merged in the
 * input's order give the line numbers of one pass over the whole input.
 */
#include "eval.h"
#include "json_sax.h"

#include <stdio.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define MAX_EXAMPLES 5
#define ID_MAX 64
#define WHY_MAX 200
/* a state holds at most TSR_DIFF_MAX_TOP movers of ~250 bytes */
#define MAX_STATE (1u << 20)
/* Version 2 sums the tax too; a comparison of rule sets without `taxes`
 * writes and reads version 1, the shape before taxes, unchanged. */
#define STATE_VERSION_NO_TAX 1
#define STATE_VERSION_TAX 2

typedef struct sums {
    int64_t due, discount, earned, redeemed, tax;
} sums;

typedef struct mover {
    uint64_t line;
    char order[ID_MAX];         /* "" when the order has no id */
    int64_t due[2], points[2];  /* [0] old, [1] new */
} mover;

typedef struct example {
    uint64_t line;
    char why[2][WHY_MAX];       /* [0] old, [1] new: "" when that side priced it */
} example;

/* What a comparison keeps: a tsr_diff's, and a state read for merging. */
typedef struct tally {
    uint64_t lines, read, priced, changed, rejected[3];   /* old only, new only, both */
    sums side[2];
    mover *top;                 /* best first */
    size_t ntop;
    example examples[MAX_EXAMPLES];
    size_t nexamples;
} tally;

enum { ONLY_OLD = 0, ONLY_NEW = 1, BOTH = 2 };

struct tsr_diff {
    const tsr_alloc *alloc;
    const tsr_ruleset *rs[2];
    tsr_order *order[2];
    size_t max_top;
    tally t;
    tsr_buf out;                /* the last state or report */
};

/* ---------------------------------------------------------------------
 * Keeping: sums, movers, examples.
 */
static int add_sums(sums *s, const sums *t)
{
    sums r;
    if (!tsr__add(s->due, t->due, &r.due) || !tsr__add(s->discount, t->discount, &r.discount) ||
        !tsr__add(s->earned, t->earned, &r.earned) || !tsr__add(s->redeemed, t->redeemed, &r.redeemed) ||
        !tsr__add(s->tax, t->tax, &r.tax))
        return -1;
    *s = r;
    return 0;
}

static uint64_t magnitude(int64_t a, int64_t b)
{
    return a > b ? (uint64_t)a - (uint64_t)b : (uint64_t)b - (uint64_t)a;
}

/* Does m rank above n: larger change in due, then in points earned, then
 * the earlier line. */
static int ranks_above(const mover *m, const mover *n)
{
    uint64_t a = magnitude(m->due[0], m->due[1]), b = magnitude(n->due[0], n->due[1]);
    if (a != b)
        return a > b;
    a = magnitude(m->points[0], m->points[1]);
    b = magnitude(n->points[0], n->points[1]);
    if (a != b)
        return a > b;
    return m->line < n->line;
}

static void consider(tally *t, size_t max_top, const mover *m)
{
    size_t at;

    if (max_top == 0 || (t->ntop == max_top && !ranks_above(m, &t->top[t->ntop - 1])))
        return;
    if (t->ntop < max_top)
        t->ntop++;
    at = t->ntop - 1;
    while (at > 0 && ranks_above(m, &t->top[at - 1])) {
        t->top[at] = t->top[at - 1];
        at--;
    }
    t->top[at] = *m;
}

/* Keep a kept text valid UTF-8, for the state and the JSON report are JSON,
 * and fit for a terminal: cut between characters, any byte that starts no
 * valid character (a state file may hold anything) and any control
 * character shown as '?' (tsr__clean_in_place). */
static void copy_text(char *dst, size_t size, const char *s, size_t n)
{
    n = tsr__utf8_prefix(s, n, size - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
    tsr__clean_in_place(dst);
}

static void note_error(char *buf, size_t size, const tsr_error *err)
{
    char text[TSR_ERROR_PATH_MAX + TSR_ERROR_TEXT_MAX + 2];

    if (err->path[0])
        snprintf(text, sizeof text, "%s: %s", err->path, err->message);
    else
        snprintf(text, sizeof text, "%s", err->message);
    copy_text(buf, size, text, strlen(text));
}

/* Does either rule set have `taxes`: the report shows tax, the state sums it. */
static bool with_tax(const tsr_diff *d)
{
    return d->rs[0]->taxes.present || d->rs[1]->taxes.present;
}

/* ---------------------------------------------------------------------
 * Comparing one order.
 */
int tsr_diff_new(tsr_diff **out, const tsr_ruleset *old_rs, const tsr_ruleset *new_rs, size_t top,
                 tsr_error *err)
{
    tsr_diff *d;
    int rc, i;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "out is NULL");
    *out = NULL;
    if (!old_rs || !new_rs)
        return tsr__err(err, TSR_EINVAL, "a rule set is NULL");
    if (top > TSR_DIFF_MAX_TOP)
        return tsr__err(err, TSR_EINVAL, "top is %zu; at most %d orders that moved most are kept",
                        top, TSR_DIFF_MAX_TOP);
    if (strcmp(old_rs->currency, new_rs->currency) != 0 || old_rs->minor_units != new_rs->minor_units)
        return tsr__err(err, TSR_EINVAL, "the old rule set prices in %s, the new one in %s: only "
                        "rule sets in one currency can be compared", old_rs->currency, new_rs->currency);
    if (!(d = tsr__calloc(&old_rs->alloc, 1, sizeof *d)))
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    d->alloc = &old_rs->alloc;
    d->rs[0] = old_rs;
    d->rs[1] = new_rs;
    d->max_top = top;
    tsr__buf_init(&d->out, d->alloc);
    if (top && !(d->t.top = tsr__calloc(d->alloc, top, sizeof *d->t.top))) {
        tsr_diff_free(d);
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    }
    for (i = 0; i < 2; i++) {
        if ((rc = tsr_order_new(&d->order[i], d->rs[i], err)) != TSR_OK) {
            tsr_diff_free(d);
            return rc;
        }
    }
    *out = d;
    return TSR_OK;
}

void tsr_diff_free(tsr_diff *d)
{
    if (!d)
        return;
    tsr_order_free(d->order[0]);
    tsr_order_free(d->order[1]);
    tsr__buf_free(&d->out);
    if (d->t.top)
        tsr__free(d->alloc, d->t.top, d->max_top * sizeof *d->t.top);
    tsr__free(d->alloc, d, sizeof *d);
}

/* Price one line under side i: 0 priced, 1 rejected, -1 out of memory. */
static int price(tsr_diff *d, int i, const char *text, size_t len, tsr_result **res, tsr_error *why)
{
    static const tsr_eval_options quiet = { TSR_EVAL_OPTIONS_VERSION, 0, 1 };

    *res = NULL;
    tsr_order_reset(d->order[i]);
    if (tsr_order_parse(d->order[i], text, len, why) == TSR_OK &&
        tsr_evaluate(res, d->rs[i], d->order[i], &quiet, why) == TSR_OK)
        return 0;
    return why->code == TSR_ENOMEM ? -1 : 1;
}

static int overflow(tsr_error *err)
{
    return tsr__err(err, TSR_EVALUE, "the sums overflow: too many orders for one report");
}

static int compare(tsr_diff *d, tsr_result *const res[2], tsr_error *err)
{
    tsr_totals t[2] = { TSR_TOTALS_INIT, TSR_TOTALS_INIT };
    sums s[2];
    mover m;
    const char *id;
    int i;

    for (i = 0; i < 2; i++) {
        if (tsr_result_totals(res[i], &t[i]) != TSR_OK)
            return tsr__err(err, TSR_EINVAL, "internal error: totals not readable");
        s[i].due = t[i].due;
        s[i].discount = t[i].discount;
        s[i].earned = t[i].points_earned;
        s[i].redeemed = t[i].points_redeemed;
        s[i].tax = t[i].tax;
    }
    {
        sums before = d->t.side[0], after = d->t.side[1];
        if (add_sums(&before, &s[0]) != 0 || add_sums(&after, &s[1]) != 0)
            return overflow(err);
        d->t.side[0] = before;
        d->t.side[1] = after;
    }
    d->t.priced++;
    if (t[0].due == t[1].due && t[0].discount == t[1].discount &&
        t[0].redeemed_value == t[1].redeemed_value && t[0].points_earned == t[1].points_earned &&
        t[0].points_redeemed == t[1].points_redeemed && t[0].tax == t[1].tax)
        return TSR_OK;
    d->t.changed++;
    memset(&m, 0, sizeof m);
    m.line = d->t.lines;
    id = tsr_result_order_id(res[0]);
    copy_text(m.order, sizeof m.order, id ? id : "", id ? strlen(id) : 0);
    for (i = 0; i < 2; i++) {
        m.due[i] = t[i].due;
        m.points[i] = t[i].points_earned;
    }
    consider(&d->t, d->max_top, &m);
    return TSR_OK;
}

static void reject(tally *t, int rejected_old, int rejected_new, const tsr_error why[2])
{
    example *x;

    t->rejected[rejected_old && rejected_new ? BOTH : rejected_old ? ONLY_OLD : ONLY_NEW]++;
    if (!why || t->nexamples == MAX_EXAMPLES)
        return;
    x = &t->examples[t->nexamples++];
    x->line = t->lines;
    x->why[0][0] = x->why[1][0] = '\0';
    if (rejected_old)
        note_error(x->why[0], sizeof x->why[0], &why[0]);
    if (rejected_new)
        note_error(x->why[1], sizeof x->why[1], &why[1]);
}

static int is_blank(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

int tsr_diff_add_unread_line(tsr_diff *d, tsr_error *err)
{
    tsr_error why[2];

    tsr__error_clear(err);
    if (!d)
        return tsr__err(err, TSR_EINVAL, "the diff is NULL");
    d->t.lines++;
    d->t.read++;
    /* neither side could read it: the reason is the same for both */
    tsr__err(&why[0], TSR_ELIMIT, "the line is longer than the limit of %zu bytes",
             d->rs[0]->limits.max_order_size);
    why[1] = why[0];
    reject(&d->t, 1, 1, why);
    return TSR_OK;
}

int tsr_diff_add_line(tsr_diff *d, const char *text, size_t len, tsr_error *err)
{
    tsr_result *res[2] = { NULL, NULL };
    tsr_error why[2];
    int r[2], rc = TSR_OK;

    tsr__error_clear(err);
    if (!d || (!text && len))
        return tsr__err(err, TSR_EINVAL, "the diff or the text is NULL");
    if (len > d->rs[0]->limits.max_order_size)     /* what a bounded reader does not keep */
        return tsr_diff_add_unread_line(d, err);
    d->t.lines++;
    if (is_blank(text, len))
        return TSR_OK;
    d->t.read++;
    r[0] = price(d, 0, text, len, &res[0], &why[0]);
    r[1] = r[0] < 0 ? -1 : price(d, 1, text, len, &res[1], &why[1]);
    if (r[0] < 0 || r[1] < 0)
        rc = tsr__err(err, TSR_ENOMEM, "out of memory");
    else if (r[0] == 0 && r[1] == 0)
        rc = compare(d, res, err);
    else
        reject(&d->t, r[0], r[1], why);
    tsr_result_free(res[0]);
    tsr_result_free(res[1]);
    return rc;
}

/* ---------------------------------------------------------------------
 * The state, written.
 */
static void put_sums(tsr_buf *b, const char *key, const sums *s, bool tax)
{
    tsr__buf_printf(b, ",\"%s\":[%lld,%lld,%lld,%lld", key, (long long)s->due,
                    (long long)s->discount, (long long)s->earned, (long long)s->redeemed);
    if (tax)
        tsr__buf_printf(b, ",%lld", (long long)s->tax);
    tsr__buf_putc(b, ']');
}

static void put_text_or_null(tsr_buf *b, const char *s)
{
    if (s[0])
        tsr__buf_json_string(b, s, strlen(s));
    else
        tsr__buf_puts(b, "null");
}

/* d->out emptied for the next state or report (a failed one is sticky). */
static tsr_buf *fresh_out(tsr_diff *d)
{
    if (d->out.failed) {
        tsr__buf_free(&d->out);
        tsr__buf_init(&d->out, d->alloc);
    }
    d->out.len = 0;
    return &d->out;
}

static const char *finish(tsr_buf *b, size_t *len)
{
    tsr__buf_put(b, "", 0);             /* the NUL, even for nothing written */
    if (b->failed || !b->data)
        return NULL;
    if (len)
        *len = b->len;
    return b->data;
}

const char *tsr_diff_state_json(tsr_diff *d, size_t *len)
{
    const tally *t;
    tsr_buf *b;
    size_t i;

    if (!d)
        return NULL;
    t = &d->t;
    b = fresh_out(d);
    tsr__buf_printf(b, "{\"tessera_diff_state\":%d,\"old\":",
                    with_tax(d) ? STATE_VERSION_TAX : STATE_VERSION_NO_TAX);
    tsr__buf_json_string(b, d->rs[0]->id, strlen(d->rs[0]->id));
    tsr__buf_puts(b, ",\"old_version\":");
    tsr__buf_json_string(b, d->rs[0]->version, strlen(d->rs[0]->version));
    tsr__buf_puts(b, ",\"new\":");
    tsr__buf_json_string(b, d->rs[1]->id, strlen(d->rs[1]->id));
    tsr__buf_puts(b, ",\"new_version\":");
    tsr__buf_json_string(b, d->rs[1]->version, strlen(d->rs[1]->version));
    tsr__buf_printf(b, ",\"top\":%zu,\"counts\":[%llu,%llu,%llu,%llu,%llu,%llu,%llu]", d->max_top,
                    (unsigned long long)t->lines, (unsigned long long)t->read,
                    (unsigned long long)t->priced, (unsigned long long)t->changed,
                    (unsigned long long)t->rejected[0], (unsigned long long)t->rejected[1],
                    (unsigned long long)t->rejected[2]);
    put_sums(b, "old_sums", &t->side[0], with_tax(d));
    put_sums(b, "new_sums", &t->side[1], with_tax(d));
    tsr__buf_puts(b, ",\"movers\":[");
    for (i = 0; i < t->ntop; i++) {
        const mover *m = &t->top[i];
        tsr__buf_printf(b, "%s[%llu,", i ? "," : "", (unsigned long long)m->line);
        put_text_or_null(b, m->order);
        tsr__buf_printf(b, ",%lld,%lld,%lld,%lld]", (long long)m->due[0], (long long)m->due[1],
                        (long long)m->points[0], (long long)m->points[1]);
    }
    tsr__buf_puts(b, "],\"rejected\":[");
    for (i = 0; i < t->nexamples; i++) {
        const example *x = &t->examples[i];
        tsr__buf_printf(b, "%s[%llu,", i ? "," : "", (unsigned long long)x->line);
        put_text_or_null(b, x->why[0]);
        tsr__buf_putc(b, ',');
        put_text_or_null(b, x->why[1]);
        tsr__buf_putc(b, ']');
    }
    tsr__buf_puts(b, "]}");
    return finish(b, len);
}

/* ---------------------------------------------------------------------
 * The state, read.  A fixed shape: an object of scalars and of arrays
 * (one level of arrays of scalars, or of arrays of scalars for the movers
 * and rejections); anything else is refused.
 */
typedef enum skey {
    K_NONE, K_VERSION, K_OLD, K_OLD_VERSION, K_NEW, K_NEW_VERSION, K_TOP, K_COUNTS,
    K_OLD_SUMS, K_NEW_SUMS, K_MOVERS, K_REJECTED, K_COUNT
} skey;

static const char *const skey_names[K_COUNT] = {
    "", "tessera_diff_state", "old", "old_version", "new", "new_version", "top", "counts",
    "old_sums", "new_sums", "movers", "rejected"
};

/* Scalars per key: 0 a scalar; else an array of that many (counts, sums:
 * one more, the tax, in version 2), or of entries of that many (movers,
 * rejected). */
static const size_t skey_width[K_COUNT] = { 0, 0, 0, 0, 0, 0, 0, 7, 4, 4, 6, 3 };


typedef struct sreader {
    const tsr_diff *d;
    tally t;                    /* t.top: d->max_top of them */
    unsigned seen;              /* bit per skey */
    skey key;
    int depth;                  /* 1 in the object, 2 in an array, 3 in a mover/rejection */
    size_t index, field;        /* element of the key's array; field of the element */
    int64_t version, top_n;
    char why[160];
} sreader;

static size_t width(const sreader *r, skey k)
{
    return skey_width[k] + ((k == K_OLD_SUMS || k == K_NEW_SUMS) && with_tax(r->d));
}

/* Stop the parse: why it is not a state (returns 0, yajl's "cancel"). */
static int stop(sreader *r, const char *why)
{
    snprintf(r->why, sizeof r->why, "%s", why);
    return 0;
}

/* The same, about the current key: "<why> in `movers`". */
static int stop_in(sreader *r, const char *why)
{
    snprintf(r->why, sizeof r->why, "%s in `%s`", why, skey_names[r->key]);
    return 0;
}

/* Where the next scalar goes: checked against the shape; returns the
 * field's index, or -1 after stop(). */
static int scalar_at(sreader *r, size_t *field)
{
    size_t w = width(r, r->key);

    if (r->depth == 1 && w == 0) {
        *field = 0;
        return 0;
    }
    if (r->depth == 2 && (r->key == K_COUNTS || r->key == K_OLD_SUMS || r->key == K_NEW_SUMS) &&
        r->index < w) {
        *field = r->index++;
        return 0;
    }
    if (r->depth == 3 && (r->key == K_MOVERS || r->key == K_REJECTED) && r->field < w) {
        *field = r->field++;
        return 0;
    }
    stop_in(r, "an unexpected value");
    return -1;
}

static int number_value(sreader *r, const char *s, size_t n, int64_t *v)
{
    if (tsr__parse_fixed(s, n, 0, v) != TSR_OK)
        return stop_in(r, "a number that is not a whole number in range");
    return 1;
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    sreader *r = ctx;
    size_t f;
    int64_t v;

    if (scalar_at(r, &f) < 0 || !number_value(r, s, n, &v))
        return 0;
    switch (r->key) {
    case K_VERSION:
        r->version = v;
        return 1;
    case K_TOP:
        r->top_n = v;
        return 1;
    case K_COUNTS: {
        uint64_t *c[7] = { &r->t.lines, &r->t.read, &r->t.priced, &r->t.changed,
                           &r->t.rejected[0], &r->t.rejected[1], &r->t.rejected[2] };
        if (v < 0)
            return stop_in(r, "a negative count");
        *c[f] = (uint64_t)v;
        return 1;
    }
    case K_OLD_SUMS:
    case K_NEW_SUMS: {
        sums *side = &r->t.side[r->key == K_NEW_SUMS];
        int64_t *p[5] = { &side->due, &side->discount, &side->earned, &side->redeemed,
                          &side->tax };
        *p[f] = v;
        return 1;
    }
    case K_MOVERS: {
        mover *m = &r->t.top[r->index];
        int64_t *p[6] = { NULL, NULL, &m->due[0], &m->due[1], &m->points[0], &m->points[1] };
        if (f == 0 && v > 0)
            m->line = (uint64_t)v;
        else if (f >= 2)
            *p[f] = v;
        else
            return stop_in(r, "a bad line or order");
        return 1;
    }
    case K_REJECTED:
        if (f != 0 || v <= 0)
            return stop_in(r, "a bad line");
        r->t.examples[r->index].line = (uint64_t)v;
        return 1;
    default:
        return stop_in(r, "an unexpected number");
    }
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    sreader *r = ctx;
    const char *str = (const char *)s;
    size_t f;

    if (scalar_at(r, &f) < 0)
        return 0;
    if (r->key == K_OLD || r->key == K_OLD_VERSION || r->key == K_NEW || r->key == K_NEW_VERSION) {
        const tsr_ruleset *rs = r->d->rs[r->key == K_NEW || r->key == K_NEW_VERSION];
        const char *want = r->key == K_OLD || r->key == K_NEW ? rs->id : rs->version;
        if (strlen(want) != n || memcmp(want, str, n) != 0)
            return stop_in(r, "the state compares other rule sets: another value");
        return 1;
    }
    if (r->key == K_MOVERS && f == 1 && n > 0 && n < ID_MAX) {
        copy_text(r->t.top[r->index].order, ID_MAX, str, n);
        return 1;
    }
    if (r->key == K_REJECTED && f >= 1 && n > 0 && n < WHY_MAX) {
        copy_text(r->t.examples[r->index].why[f - 1], WHY_MAX, str, n);
        return 1;
    }
    return stop_in(r, "an unexpected string");
}

static int cb_null(void *ctx)
{
    sreader *r = ctx;
    size_t f;

    if (scalar_at(r, &f) < 0)
        return 0;
    if ((r->key == K_MOVERS && f == 1) || (r->key == K_REJECTED && f >= 1))
        return 1;                       /* no order id; that side priced it */
    return stop_in(r, "an unexpected null");
}

static int cb_bool(void *ctx, int b)
{
    (void)b;
    return stop(ctx, "an unexpected true or false");
}

static int cb_start_map(void *ctx)
{
    sreader *r = ctx;
    if (r->depth != 0)
        return stop_in(r, "an unexpected object");
    r->depth = 1;
    return 1;
}

static int cb_key(void *ctx, const unsigned char *s, size_t n)
{
    sreader *r = ctx;
    int k;

    for (k = 1; k < K_COUNT; k++) {
        if (strlen(skey_names[k]) == n && memcmp(skey_names[k], s, n) == 0) {
            r->key = (skey)k;
            if (r->seen & (1u << k))
                return stop_in(r, "a key given twice");
            r->seen |= 1u << k;
            r->index = 0;
            return 1;
        }
    }
    snprintf(r->why, sizeof r->why, "unknown key `%.*s`", (int)(n > 60 ? 60 : n), (const char *)s);
    return 0;
}

static int cb_start_array(void *ctx)
{
    sreader *r = ctx;

    if (r->depth == 1 && r->key >= K_COUNTS) {
        r->depth = 2;
        return 1;
    }
    if (r->depth == 2 && (r->key == K_MOVERS || r->key == K_REJECTED)) {
        size_t cap = r->key == K_MOVERS ? r->d->max_top : MAX_EXAMPLES;
        if (r->index >= cap)
            return stop_in(r, "more entries than a report keeps");
        r->depth = 3;
        r->field = 0;
        if (r->key == K_MOVERS)
            memset(&r->t.top[r->index], 0, sizeof r->t.top[r->index]);
        else
            memset(&r->t.examples[r->index], 0, sizeof r->t.examples[r->index]);
        return 1;
    }
    return stop_in(r, "an unexpected list");
}

static int cb_end(void *ctx)
{
    sreader *r = ctx;

    if (r->depth == 3) {
        if (r->field != width(r, r->key))
            return stop_in(r, "an entry of the wrong length");
        r->index++;
        if (r->key == K_MOVERS)
            r->t.ntop = r->index;
        else
            r->t.nexamples = r->index;
    } else if (r->depth == 2 && r->key != K_MOVERS && r->key != K_REJECTED &&
               r->index != width(r, r->key)) {
        return stop_in(r, "the wrong number of values");
    }
    r->depth--;
    return 1;
}

static const yajl_callbacks state_callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_key, cb_end, cb_start_array, cb_end
};

/* What a state claims must hold together: lines numbered within the
 * partition, movers best first, rejections in line order. */
static int check_state(sreader *r)
{
    const tally *t = &r->t;
    size_t i;

    if (r->seen != ((1u << K_COUNT) - 2))
        return stop(r, "a key is missing");
    if (r->version != (with_tax(r->d) ? STATE_VERSION_TAX : STATE_VERSION_NO_TAX))
        return stop(r, with_tax(r->d)
                           ? "the state is of another version (a comparison of rule sets with "
                             "`taxes` reads version 2)"
                           : "the state is of another version (a comparison of rule sets "
                             "without `taxes` reads version 1)");
    if (r->top_n != (int64_t)r->d->max_top)
        return stop(r, "the state keeps another number of orders that moved most (top)");
    if (t->read > t->lines || t->priced > t->read || t->changed > t->priced ||
        t->rejected[0] > t->read || t->rejected[1] > t->read || t->rejected[2] > t->read ||
        t->rejected[0] + t->rejected[1] + t->rejected[2] + t->priced != t->read ||
        t->ntop > t->changed)
        return stop(r, "the counts do not add up");
    for (i = 0; i < t->ntop; i++)
        if (t->top[i].line > t->lines || (i > 0 && ranks_above(&t->top[i], &t->top[i - 1])))
            return stop(r, "the orders that moved most are out of order");
    for (i = 0; i < t->nexamples; i++)
        if (t->examples[i].line > t->lines || (i > 0 && t->examples[i].line <= t->examples[i - 1].line))
            return stop(r, "the rejections are out of order");
    return 1;
}

int tsr_diff_merge_json(tsr_diff *d, const char *state, size_t len, tsr_error *err)
{
    tsr_json_parse jp;
    sreader r;
    char msg[TSR_ERROR_TEXT_MAX];
    sums before, after;
    size_t i;
    int rc;

    tsr__error_clear(err);
    if (!d || !state)
        return tsr__err(err, TSR_EINVAL, "the diff or the state is NULL");
    if (len > MAX_STATE)
        return tsr__err(err, TSR_ELIMIT, "the state is larger than %u bytes", MAX_STATE);
    memset(&r, 0, sizeof r);
    r.d = d;
    r.version = r.top_n = -1;
    if (d->max_top && !(r.t.top = tsr__calloc(d->alloc, d->max_top, sizeof *r.t.top)))
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    jp.alloc = d->alloc;
    rc = tsr__json_parse(&jp, &state_callbacks, &r, state, len, TSR_JSON_CANCELLED, msg, sizeof msg);
    if (rc == TSR_OK && !check_state(&r))
        rc = TSR_JSON_CANCELLED;
    if (rc == TSR_JSON_CANCELLED)
        rc = tsr__err(err, TSR_EINVAL, "not a state of this comparison: %s", r.why);
    else if (rc == TSR_EPARSE)
        rc = tsr__err(err, TSR_EPARSE, "the state is not JSON: %s", msg);
    else if (rc != TSR_OK)
        rc = tsr__err(err, rc, "out of memory");
    if (rc == TSR_OK) {
        before = d->t.side[0];
        after = d->t.side[1];
        if (add_sums(&before, &r.t.side[0]) != 0 || add_sums(&after, &r.t.side[1]) != 0 ||
            d->t.lines > UINT64_MAX - r.t.lines)
            rc = overflow(err);
    }
    if (rc == TSR_OK) {
        uint64_t shift = d->t.lines;
        d->t.side[0] = before;
        d->t.side[1] = after;
        d->t.lines += r.t.lines;
        d->t.read += r.t.read;
        d->t.priced += r.t.priced;
        d->t.changed += r.t.changed;
        for (i = 0; i < 3; i++)
            d->t.rejected[i] += r.t.rejected[i];
        for (i = 0; i < r.t.ntop; i++) {
            r.t.top[i].line += shift;
            consider(&d->t, d->max_top, &r.t.top[i]);
        }
        for (i = 0; i < r.t.nexamples && d->t.nexamples < MAX_EXAMPLES; i++) {
            d->t.examples[d->t.nexamples] = r.t.examples[i];
            d->t.examples[d->t.nexamples++].line += shift;
        }
    }
    if (r.t.top)
        tsr__free(d->alloc, r.t.top, d->max_top * sizeof *r.t.top);
    return rc;
}

/* ---------------------------------------------------------------------
 * The report.
 */
/* Minor units with `minor` fractional digits ("-12.50"); a sign always
 * when `sign` ("+12.50").  buf: 32 bytes. */
static const char *money(char *buf, int64_t v, unsigned minor, int sign)
{
    if (sign && v > 0) {
        buf[0] = '+';
        tsr__format_fixed(buf + 1, v, minor);
    } else {
        tsr__format_fixed(buf, v, minor);
    }
    return buf;
}

/* delta / base as a signed percentage with two decimals ("+12.34%"), or
 * "n/a" when base is 0.  buf: 32 bytes. */
static const char *percent(char *buf, int64_t delta, int64_t base)
{
    uint64_t dd = delta < 0 ? (uint64_t)0 - (uint64_t)delta : (uint64_t)delta;
    uint64_t b = base < 0 ? (uint64_t)0 - (uint64_t)base : (uint64_t)base;
    uint64_t x100;      /* the percentage times 100, rounded half up */

    if (b == 0) {
        snprintf(buf, 32, "n/a");
        return buf;
    }
    /* dd * 10000 / b in integers: shrink both while the product would not
     * fit (the digits lost are far below the two decimals shown) */
    while (dd > (UINT64_MAX - b) / 10000) {
        dd >>= 1;
        b >>= 1;
        if (b == 0) {
            snprintf(buf, 32, "%s>999999%%", delta < 0 ? "-" : "+");
            return buf;
        }
    }
    x100 = (dd * 10000 + b / 2) / b;
    snprintf(buf, 32, "%s%llu.%02llu%%", delta < 0 ? "-" : x100 ? "+" : "",
             (unsigned long long)(x100 / 100), (unsigned long long)(x100 % 100));
    return buf;
}

static void text_row(tsr_buf *b, const char *what, int64_t a, int64_t c, unsigned minor)
{
    char x[32], y[32], z[32], p[32];
    tsr__buf_printf(b, "  %-17s %16s %16s %16s %9s\n", what, money(x, a, minor, 0),
                    money(y, c, minor, 0), money(z, c - a, minor, 1), percent(p, c - a, a));
}

static void text_movers(tsr_buf *b, const tsr_diff *d, unsigned minor)
{
    char a[32], c[32], e[32], f[32], g[32], h[32], due[100];
    size_t i;

    if (d->t.ntop == 0)
        return;
    tsr__buf_puts(b, "\nOrders that moved most (by the change in due, then in points earned):\n");
    tsr__buf_printf(b, "  %8s  %-16s %-44s %s\n", "line", "order", "due: old -> new (change)",
                    "points earned: old -> new (change)");
    for (i = 0; i < d->t.ntop; i++) {
        const mover *m = &d->t.top[i];
        snprintf(due, sizeof due, "%s -> %s (%s)", money(a, m->due[0], minor, 0),
                 money(c, m->due[1], minor, 0), money(e, m->due[1] - m->due[0], minor, 1));
        tsr__buf_printf(b, "  %8llu  %-16s %-44s %s -> %s (%s)\n", (unsigned long long)m->line,
                        m->order[0] ? m->order : "-", due, money(f, m->points[0], 0, 0),
                        money(g, m->points[1], 0, 0), money(h, m->points[1] - m->points[0], 0, 1));
    }
}

static void put_text(tsr_buf *b, const tsr_diff *d, const char *old_name, const char *new_name)
{
    const tally *t = &d->t;
    unsigned minor = d->rs[0]->minor_units;
    char s[32];
    size_t i;
    int side;

    tsr__buf_printf(b, "tessera diff: %s (%s, version %s) -> %s (%s, version %s), in %s\n", old_name,
                    d->rs[0]->id, d->rs[0]->version, new_name, d->rs[1]->id, d->rs[1]->version,
                    d->rs[0]->currency);
    tsr__buf_printf(b, "\n  %-17s %16s %16s %16s\n", "", "old", "new", "change");
    text_row(b, "revenue (due)", t->side[0].due, t->side[1].due, minor);
    text_row(b, "discounts", t->side[0].discount, t->side[1].discount, minor);
    if (with_tax(d))
        text_row(b, "tax", t->side[0].tax, t->side[1].tax, minor);
    text_row(b, "points earned", t->side[0].earned, t->side[1].earned, 0);
    text_row(b, "points redeemed", t->side[0].redeemed, t->side[1].redeemed, 0);
    percent(s, (int64_t)t->changed, (int64_t)t->priced);
    tsr__buf_printf(b, "\n  orders: %llu read, %llu priced under both, %llu changed (%s of those priced)\n",
                    (unsigned long long)t->read, (unsigned long long)t->priced,
                    (unsigned long long)t->changed, s[0] == '+' ? s + 1 : s);
    tsr__buf_printf(b, "  rejected: %llu only by old, %llu only by new, %llu by both\n",
                    (unsigned long long)t->rejected[0], (unsigned long long)t->rejected[1],
                    (unsigned long long)t->rejected[2]);
    for (i = 0; i < t->nexamples; i++)
        for (side = 0; side < 2; side++)
            if (t->examples[i].why[side][0])
                tsr__buf_printf(b, "    line %llu: %s: %s\n", (unsigned long long)t->examples[i].line,
                                side ? "new" : "old", t->examples[i].why[side]);
    text_movers(b, d, minor);
}

static void json_side(tsr_buf *b, const char *file, const tsr_ruleset *rs)
{
    tsr__buf_puts(b, "{\"file\":");
    tsr__buf_json_string(b, file, strlen(file));
    tsr__buf_puts(b, ",\"ruleset\":");
    tsr__buf_json_string(b, rs->id, strlen(rs->id));
    tsr__buf_puts(b, ",\"version\":");
    tsr__buf_json_string(b, rs->version, strlen(rs->version));
    tsr__buf_putc(b, '}');
}

static void json_change(tsr_buf *b, const char *key, int64_t a, int64_t c, unsigned minor, int first)
{
    char x[32], y[32], z[32], p[32];
    const char *q = minor ? "\"" : "";

    percent(p, c - a, a);
    tsr__buf_printf(b, "%s\"%s\":{\"old\":%s%s%s,\"new\":%s%s%s,\"change\":%s%s%s,\"percent\":",
                    first ? "" : ",", key, q, money(x, a, minor, 0), q, q, money(y, c, minor, 0), q,
                    q, money(z, c - a, minor, 0), q);
    if (strcmp(p, "n/a") == 0)
        tsr__buf_puts(b, "null}");
    else
        tsr__buf_printf(b, "\"%.*s\"}", (int)(strlen(p) - 1 - (p[0] == '+')), p[0] == '+' ? p + 1 : p);
}

static void put_json(tsr_buf *b, const tsr_diff *d, const char *old_name, const char *new_name)
{
    const tally *t = &d->t;
    unsigned minor = d->rs[0]->minor_units;
    size_t i;

    tsr__buf_puts(b, "{\"old\":");
    json_side(b, old_name, d->rs[0]);
    tsr__buf_puts(b, ",\"new\":");
    json_side(b, new_name, d->rs[1]);
    tsr__buf_puts(b, ",\"currency\":");
    tsr__buf_json_string(b, d->rs[0]->currency, strlen(d->rs[0]->currency));
    tsr__buf_printf(b, ",\"orders\":{\"read\":%llu,\"priced\":%llu,\"changed\":%llu,\"rejected_old\":%llu,"
                    "\"rejected_new\":%llu,\"rejected_both\":%llu}",
                    (unsigned long long)t->read, (unsigned long long)t->priced,
                    (unsigned long long)t->changed, (unsigned long long)t->rejected[0],
                    (unsigned long long)t->rejected[1], (unsigned long long)t->rejected[2]);
    tsr__buf_puts(b, ",\"totals\":{");
    json_change(b, "revenue", t->side[0].due, t->side[1].due, minor, 1);
    json_change(b, "discounts", t->side[0].discount, t->side[1].discount, minor, 0);
    if (with_tax(d))
        json_change(b, "tax", t->side[0].tax, t->side[1].tax, minor, 0);
    json_change(b, "points_earned", t->side[0].earned, t->side[1].earned, 0, 0);
    json_change(b, "points_redeemed", t->side[0].redeemed, t->side[1].redeemed, 0, 0);
    tsr__buf_puts(b, "},\"rejected\":[");
    for (i = 0; i < t->nexamples; i++) {
        tsr__buf_printf(b, "%s{\"line\":%llu,\"old\":", i ? "," : "",
                        (unsigned long long)t->examples[i].line);
        put_text_or_null(b, t->examples[i].why[0]);
        tsr__buf_puts(b, ",\"new\":");
        put_text_or_null(b, t->examples[i].why[1]);
        tsr__buf_putc(b, '}');
    }
    tsr__buf_puts(b, "],\"top\":[");
    for (i = 0; i < t->ntop; i++) {
        const mover *m = &t->top[i];
        tsr__buf_printf(b, "%s{\"line\":%llu,\"order\":", i ? "," : "", (unsigned long long)m->line);
        put_text_or_null(b, m->order);
        tsr__buf_putc(b, ',');
        json_change(b, "due", m->due[0], m->due[1], minor, 1);
        json_change(b, "points_earned", m->points[0], m->points[1], 0, 0);
        tsr__buf_putc(b, '}');
    }
    tsr__buf_puts(b, "]}\n");
}

const char *tsr_diff_report(tsr_diff *d, int format, const char *old_name, const char *new_name,
                            size_t *len)
{
    if (!d || (format != TSR_DIFF_TEXT && format != TSR_DIFF_JSON))
        return NULL;
    if (format == TSR_DIFF_TEXT)
        put_text(fresh_out(d), d, old_name ? old_name : "old", new_name ? new_name : "new");
    else
        put_json(fresh_out(d), d, old_name ? old_name : "old", new_name ? new_name : "new");
    return finish(&d->out, len);
}
