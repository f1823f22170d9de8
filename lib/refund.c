/*
 * refund.c — the refund itself (SPEC §4, Refund): the lines asked for
 * matched with the order and its receipt, the refund of each line (`allowed`,
 * `fee`, points, tax), re-pricing what remains and the clawback, and the C
 * entry point tsr_refund_order.  The request JSON is read by
 * refund_request.c, the receipt by receipt.c; the result's JSON and
 * accessors are in refund_json.c.
 *
 * A refund is a pure function of its inputs, like an evaluation: the
 * library keeps no record of refunds made.  What earlier refunds of the
 * same order did comes in with the request (`previous`), and the result
 * says exactly what this refund did, so the caller can record it and pass
 * it back next time (docs/refunds.md).
 *
 * Money never passes through floating point: amounts are read as text and
 * kept in minor units, and every sum is overflow-checked.
 */
#include "refund.h"

#include <stdio.h>
#include <stdlib.h>

int tsr__refund_prefix_path(tsr_error *err, const char *prefix, int code)
{
    char path[2 * TSR_ERROR_PATH_MAX];
    size_t n;

    if (!err)
        return code;
    if (err->path[0] == '\0' || strcmp(err->path, "$") == 0)
        snprintf(path, sizeof path, "%s", prefix);
    else
        snprintf(path, sizeof path, "%s.%s", prefix, err->path);
    n = tsr__utf8_prefix(path, strlen(path), sizeof err->path - 1);
    memcpy(err->path, path, n);
    err->path[n] = '\0';
    return code;
}

/* ---------------------------------------------------------------------
 * The refund.
 */

/* Line ids to line indexes, by binary search over the order's ids. */
typedef struct id_index {
    const char *id;
    size_t line;
} id_index;

static int cmp_index(const void *a, const void *b)
{
    return strcmp(((const id_index *)a)->id, ((const id_index *)b)->id);
}

static size_t lookup(const id_index *ix, size_t n, const char *id)
{
    id_index key;
    const id_index *hit;
    key.id = id;
    key.line = 0;
    hit = n ? bsearch(&key, ix, n, sizeof *ix, cmp_index) : NULL;
    return hit ? hit->line : SIZE_MAX;
}

/* Everything one refund works with; freed at the end but for the result. */
typedef struct refund {
    const tsr_ruleset *rs;
    const tsr_refund_input *in;
    tsr_error *err;
    tsr_arena work;             /* receipt, indexes, records */
    tsr_result *res;            /* the order evaluated again */
    tsr_receipt receipt;
    id_index *index;
    uint8_t *requested;         /* per order line: named by this refund */
    uint8_t *before;            /* per order line: refunded before */
    uint8_t *refunded;          /* per order line: refunded by this refund */
    size_t *line_of;            /* per requested line: its order line */
    int64_t most_before;        /* the most the refunds of `previous` can have
                                   withheld: what the lines they left owe,
                                   re-priced, and what their own lines paid */
    int64_t withheld_before;    /* what they withheld: the caller's figure, checked
                                   against most_before (0 when nothing can be) */
    tsr_expr_ctx x;             /* `allowed` and `fee`: item in scope, now = refund time */
    tsr_refund_result *out;
} refund;

static int nomem(refund *r)
{
    return tsr__err(r->err, TSR_ENOMEM, NULL);
}

/* Map the request's line ids to lines: each must be in the order, once. */
static int resolve_ids(refund *r, const char *const *ids, size_t n, uint8_t *marks,
                       const char *what, size_t *line_of)
{
    size_t i, nl = r->res->nlines;
    char path[64];

    for (i = 0; i < n; i++) {
        size_t li = ids[i] ? lookup(r->index, nl, ids[i]) : SIZE_MAX;
        snprintf(path, sizeof path, "%s[%zu]", what, i);
        if (!ids[i])
            return tsr__err_path(r->err, TSR_EINVAL, path, "a line id is NULL");
        if (li == SIZE_MAX)
            return tsr__err_path(r->err, TSR_EORDER, path, "line `%s` is not in the order",
                                 ids[i]);
        if (marks[li])
            return tsr__err_path(r->err, TSR_EORDER, path, "line `%s` is named twice", ids[i]);
        marks[li] = 1;
        if (line_of)
            line_of[i] = li;
    }
    return TSR_OK;
}

static int index_lines(refund *r)
{
    size_t n = r->res->nlines, i;

    r->index = tsr__arena_alloc(&r->work, n * sizeof *r->index);
    r->requested = tsr__arena_calloc(&r->work, n, 1);
    r->before = tsr__arena_calloc(&r->work, n, 1);
    r->refunded = tsr__arena_calloc(&r->work, n, 1);
    r->line_of = tsr__arena_alloc(&r->work, (r->in->nlines + 1) * sizeof *r->line_of);
    if (!r->index || !r->requested || !r->before || !r->refunded || !r->line_of)
        return nomem(r);
    for (i = 0; i < n; i++) {
        r->index[i].id = r->res->lines[i].id;
        r->index[i].line = i;
    }
    return tsr__sort_stable(&r->work, r->index, n, sizeof *r->index, cmp_index) == TSR_OK
               ? TSR_OK
               : nomem(r);
}

static int check_request(refund *r)
{
    const tsr_refund_input *in = r->in;
    const tsr_value *dt = &in->order->order[TSR_ORDER_DATETIME];
    int rc;

    if (in->nlines == 0)
        return tsr__err_path(r->err, TSR_EORDER, "lines", "name at least one line to refund");
    if (in->previous_clawback_stated && in->previous_clawback < 0)
        return tsr__err_path(r->err, TSR_EINVAL, "previous.clawback", "must not be negative");
    if ((rc = index_lines(r)) != TSR_OK ||
        (rc = resolve_ids(r, in->lines, in->nlines, r->requested, "lines", r->line_of)) != TSR_OK ||
        (rc = resolve_ids(r, in->previous, in->nprevious, r->before, "previous.lines", NULL)) != TSR_OK)
        return rc;
    if (in->at < dt->u.i) {
        char a[40], b[40];
        tsr__format_datetime(a, in->at, in->at_offset);
        tsr__format_datetime(b, dt->u.i, dt->offset);
        return tsr__err_path(r->err, TSR_EORDER, "datetime",
                             "the refund time %s is before the order's time %s", a, b);
    }
    return TSR_OK;
}

/* The expression context of `allowed` and `fee`: the order's records as
 * evaluation left them (category, price, subtotal; item.total is what the
 * customer paid for the line), segments, tier and promo codes of the
 * original evaluation, and `now` the refund time. */
static int setup_context(refund *r)
{
    const tsr_ruleset *rs = r->rs;
    const tsr_order *o = r->in->order;
    const tsr_result *res = r->res;
    size_t nfields = rs->records[TSR_REC_ORDER].len, i;
    tsr_value *order_rec = tsr__arena_alloc(&r->work, (nfields + 1) * sizeof *order_rec);
    tsr_value *recs = tsr__arena_alloc(&r->work, (res->nlines * o->stride + 1) * sizeof *recs);

    if (!order_rec || !recs)
        return nomem(r);
    memcpy(order_rec, o->order, nfields * sizeof *order_rec);
    order_rec[TSR_ORDER_DATETIME].type = TSR_T_DATETIME;
    order_rec[TSR_ORDER_DATETIME].u.i = r->in->at;
    order_rec[TSR_ORDER_DATETIME].offset = r->in->at_offset;
    memcpy(recs, o->lines, res->nlines * o->stride * sizeof *recs);
    for (i = 0; i < res->nlines; i++) {
        tsr_value *rec = recs + i * o->stride;
        const tsr_res_line *l = &res->lines[i];
        if (l->category_name) {
            rec[TSR_ITEM_CATEGORY].type = TSR_T_STRING;
            rec[TSR_ITEM_CATEGORY].u.s = l->category_name;
            rec[TSR_ITEM_CATEGORY].len = (uint32_t)strlen(l->category_name);
        }
        tsr__line_rec_sync(rec, l);
    }
    memset(&r->x, 0, sizeof r->x);
    r->x.alloc = &rs->alloc;
    r->x.order = order_rec;
    r->x.customer = o->customer;
    r->x.lines = recs;
    r->x.line_stride = o->stride;
    r->x.nlines = res->nlines;
    r->x.segments = res->segments;
    r->x.tier = tsr__missing();
    if (res->tier >= 0) {
        r->x.tier.type = TSR_T_STRING;
        r->x.tier.u.s = rs->tiers[res->tier].id;
        r->x.tier.len = (uint32_t)strlen(rs->tiers[res->tier].id);
    }
    r->x.promo_accepted = res->promo_accepted;
    r->x.tz = rs->tz;
    r->x.minor_units = rs->minor_units;
    r->x.rounding = rs->rounding;
    r->x.err = r->err;
    /* the same work budget as an evaluation, for all its `allowed` and `fee` */
    if (tsr__eval_ctx_limits(&r->x, rs, &r->work) != TSR_OK)
        return nomem(r);
    return TSR_OK;
}

static int reject(refund *r, tsr_refund_line *l, const char *why)
{
    l->status = TSR_REFUND_REJECTED;
    l->why = why;
    return why ? TSR_OK : nomem(r);
}

/* `refunds.fee` for the current line: *fee, or a rejection reason. */
static int line_fee(refund *r, tsr_refund_line *l, int64_t *fee, bool *ok)
{
    const tsr_expr *e = r->rs->refunds.fee;
    tsr_arena *ar = &r->out->arena;
    char buf[40];
    tsr_value v;
    int rc, quoted;

    *fee = 0;
    *ok = true;
    if (!e)
        return TSR_OK;
    if ((rc = tsr__expr_eval(e, &r->x, &v)) != TSR_OK)   /* items[k] is in the order */
        return rc == TSR_EEVAL ? tsr__refund_prefix_path(r->err, "order", rc) : rc;
    /* a fee that cannot be computed, or would add money, refunds nothing */
    quoted = (int)tsr__utf8_prefix(e->src, e->src_len, TSR_QUOTE_MAX);
    if (v.type != TSR_T_MONEY) {
        *ok = false;
        return reject(r, l, tsr__arena_printf(ar, "fee: `%.*s` has no value for this line",
                                              quoted, e->src));
    }
    if (v.u.i < 0) {
        *ok = false;
        tsr__format_fixed(buf, v.u.i, r->rs->minor_units);
        return reject(r, l, tsr__arena_printf(ar, "fee: `%.*s` is negative (%s) for this line",
                                              quoted, e->src, buf));
    }
    *fee = v.u.i;
    return TSR_OK;
}

/* What the customer paid for line i: its total, and with taxes added on
 * top (`prices: exclusive`) its tax too. */
static bool line_paid(const refund *r, size_t i, int64_t *paid)
{
    const tsr_result *res = r->res;

    *paid = res->lines[i].total;
    if (res->line_tax && r->rs->taxes.prices == TSR_TAX_EXCLUSIVE)
        return tsr__add(*paid, res->line_tax[i].amount, paid);
    return true;
}

/* With taxes: the rate of line li and the tax the refunded amount
 * contains, amount × rate / (100 + rate) (what a refund receipt prints,
 * whether the prices included the tax or had it added). */
static int refund_tax(refund *r, size_t li, tsr_refund_line *l)
{
    const tsr_res_tax *lt;
    const tsr_tax_rate *t;
    tsr_arena *ar = &r->out->arena;

    if (!r->res->line_tax || (lt = &r->res->line_tax[li])->rate < 0)
        return TSR_OK;
    t = &r->rs->taxes.rates[lt->rate];
    if (!tsr__tax_of(l->amount, t->rate, true, r->rs->rounding, &l->tax))
        return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    l->tax_id = tsr__arena_strndup(ar, t->id, strlen(t->id));
    l->tax_rate = tsr__arena_strndup(ar, t->rate_text, strlen(t->rate_text));
    return l->tax_id && l->tax_rate ? TSR_OK : nomem(r);
}

/* Refund one line, or say why not. */
static int refund_line(refund *r, size_t k, tsr_refund_line *l)
{
    const tsr_refunds *R = &r->rs->refunds;
    size_t li = r->line_of[k];
    const tsr_res_line *rl = &r->res->lines[li];
    tsr_arena *ar = &r->out->arena;
    int64_t fee, paid;
    bool holds, ok;
    int rc;

    l->id = tsr__arena_strndup(ar, rl->id, strlen(rl->id));
    if (!l->id)
        return nomem(r);
    if (!R->present)
        return reject(r, l, "the rule set has no `refunds:` section, so nothing is refundable");
    if (r->before[li])
        return reject(r, l, "already refunded");
    r->x.item = r->x.lines + li * r->x.line_stride;
    if (R->allowed) {
        const char *w = NULL;
        size_t wl = 0;
        if ((rc = tsr__expr_test(R->allowed, &r->x, &holds, &w, &wl)) != TSR_OK)
            return rc == TSR_EEVAL ? tsr__refund_prefix_path(r->err, "order", rc) : rc;
        if (!holds) {
            if (!w) {
                w = R->allowed->src;
                wl = R->allowed->src_len;
            }
            return reject(r, l, tsr__arena_printf(ar, "allowed: `%.*s` was false",
                                                  (int)tsr__utf8_prefix(w, wl, TSR_QUOTE_MAX), w));
        }
    }
    if ((rc = line_fee(r, l, &fee, &ok)) != TSR_OK || !ok)
        return rc;
    /* what the customer paid, less the fee; the fee kept is what was there */
    if (!line_paid(r, li, &paid))
        return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    l->status = TSR_REFUND_REFUNDED;
    l->fee = fee < paid ? fee : paid;
    l->amount = paid - l->fee;
    l->points_restored = rl->redeemed_points;
    l->points_revoked = rl->points_earned;
    r->refunded[li] = 1;
    return refund_tax(r, li, l);
}

/* ---------------------------------------------------------------------
 * Re-pricing what remains.
 */

/* Gone from the order: refunded before, or (with_this) by this refund. */
static bool gone(const refund *r, size_t i, bool with_this)
{
    return r->before[i] || (with_this && r->refunded[i]);
}

/* A copy of the order with only the remaining lines and no redemption: the
 * records are copied as values (their strings stay in the original order,
 * which outlives the copy), promo codes and their usage counts as given. */
static int remaining_order(refund *r, tsr_order *sub, bool with_this)
{
    const tsr_ruleset *rs = r->rs;
    const tsr_order *o = r->in->order;
    size_t i, line;
    int rc;

    if ((rc = tsr__order_init(sub, rs)) != TSR_OK)
        return nomem(r);
    memcpy(sub->order, o->order, rs->records[TSR_REC_ORDER].len * sizeof(tsr_value));
    memcpy(sub->customer, o->customer, rs->records[TSR_REC_CUSTOMER].len * sizeof(tsr_value));
    sub->has_customer = o->has_customer;
    sub->order[TSR_ORDER_REDEEM_POINTS] = tsr__missing();
    sub->order[TSR_ORDER_PROMO_CODES] = tsr__missing();
    sub->has_redeem = false;
    sub->has_items = true;
    for (i = 0; i < o->nlines; i++) {
        if (gone(r, i, with_this))
            continue;
        if ((rc = tsr__order_new_line(sub, &line, r->err)) != TSR_OK)
            return rc;
        memcpy(sub->lines + line * sub->stride, o->lines + i * o->stride,
               o->stride * sizeof(tsr_value));
    }
    for (i = 0; i < o->npromo_codes; i++)
        if ((rc = tsr__order_add_promo(sub, o->promo_codes[i].code, o->promo_codes[i].len,
                                       r->err)) != TSR_OK)
            return rc;
    for (i = 0; i < o->npromo_uses; i++) {
        const tsr_promo_use *u = &o->promo_uses[i];
        size_t at;
        bool created;
        if ((rc = tsr__order_promo_use(sub, u->id, u->id_len, &at, &created, r->err)) != TSR_OK)
            return rc;
        sub->promo_uses[at].uses = u->uses;
        sub->promo_uses[at].total_uses = u->total_uses;
        sub->promo_uses[at].seen = u->seen;
    }
    return tsr__order_finish(sub, r->err);
}

/* What the lines that remain cost, re-priced and on the receipt. */
typedef struct repriced {
    size_t nremaining;
    int64_t paid;               /* their totals after discounts on the receipt */
    int64_t now;                /* and re-priced without the lines gone */
    int64_t owed;               /* now − paid, never below zero */
} repriced;

/* Re-price the lines that remain once the lines refunded before and (with
 * `with_this`) those of this refund are gone, and say what they now cost
 * above what they cost on the receipt before redemption (their total +
 * redeemed value: the points stay spent on them, so only the discounts are
 * compared).  The owed amount is never below zero: a cheaper price for what
 * is kept is not paid out.  Nothing remaining owes nothing.
 *
 * Without `with_this` it bounds the clawback's state: the refunds of a set
 * of lines withheld, net, at most what the lines they left owe (each
 * withholds what is newly owed, or less when it cannot pay for it). */
static int reprice(refund *r, bool with_this, repriced *p)
{
    static const tsr_eval_options quiet = { TSR_EVAL_OPTIONS_VERSION, 0, 1 };
    const tsr_result *res = r->res;
    tsr_result *now = NULL;
    tsr_order sub;
    int64_t gap;
    size_t i;
    int rc;

    memset(p, 0, sizeof *p);
    for (i = 0; i < res->nlines; i++) {
        const tsr_res_line *l = &res->lines[i];
        if (gone(r, i, with_this))
            continue;
        p->nremaining++;
        if (!tsr__add(p->paid, l->total, &p->paid) ||
            !tsr__add(p->paid, l->redeemed_value, &p->paid))
            return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    }
    if (p->nremaining == 0)
        return TSR_OK;
    rc = remaining_order(r, &sub, with_this);
    if (rc == TSR_OK)
        rc = tsr_evaluate(&now, r->rs, &sub, &quiet, r->err);
    tsr__order_fini(&sub);
    if (rc != TSR_OK)
        return rc == TSR_ENOMEM ? rc : tsr__refund_prefix_path(r->err, "reprice", rc);
    /* the lines' totals, as `paid` counts them: tax added on top is not a
     * discount the kept lines lost */
    p->now = now->totals.due;
    if (now->line_tax && r->rs->taxes.prices == TSR_TAX_EXCLUSIVE)
        p->now -= now->totals.tax;   /* due = the lines' totals + tax: no overflow */
    tsr_result_free(now);
    if (!tsr__sub(p->now, p->paid, &gap))
        return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    p->owed = gap > 0 ? gap : 0;
    return TSR_OK;
}

static const char *money_text(const refund *r, char buf[32], int64_t v)
{
    tsr__format_fixed(buf, v, r->rs->minor_units);
    return buf;
}

/* What the lines of `previous.lines` paid on the receipt (before fees). */
static int paid_before(const refund *r, int64_t *paid)
{
    size_t i;

    *paid = 0;
    for (i = 0; i < r->res->nlines; i++) {
        int64_t line;
        if (r->before[i] && (!line_paid(r, i, &line) || !tsr__add(*paid, line, paid)))
            return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    }
    return TSR_OK;
}

/* What the refunds of `previous.lines` withheld, net, has two bounds that
 * follow from the receipt and the line ids: what the lines they left owe,
 * re-priced (each refund withholds what is newly owed, or less when it
 * cannot pay for it), and what those refunds paid back before clawback,
 * at most what their lines paid on the receipt (a refund never withholds
 * more than it pays back: a 0.01 line that broke a 1000.00 discount
 * withheld 0.01).  A stated `previous.clawback` above the smaller is
 * refused: it would be paid back as clawback_returned.  One at or below it
 * is the caller's record of what was withheld and is used; a smaller
 * figure only makes this refund withhold more or return less.
 *
 * No default is safe when something can have been withheld (the most
 * overpays after a capped refund, 0 withholds twice after an uncapped
 * one), so with `refunds.reprice` and `previous.lines` the figure is
 * required.  Otherwise nothing can have been withheld: left out means 0. */
static int check_withheld_before(refund *r)
{
    const tsr_refund_input *in = r->in;
    bool can_have = r->rs->refunds.reprice && in->nprevious > 0;
    char said[32], most[32], now[32], was[32];
    int64_t paid = 0;
    repriced p;
    int rc;

    memset(&p, 0, sizeof p);
    if (can_have && ((rc = reprice(r, false, &p)) != TSR_OK ||
                     (rc = paid_before(r, &paid)) != TSR_OK))
        return rc;
    r->most_before = p.owed < paid ? p.owed : paid;
    r->withheld_before = 0;
    if (!in->previous_clawback_stated) {
        if (!can_have)
            return TSR_OK;
        return tsr__err_path(r->err, TSR_EORDER, "previous.clawback",
                             "the refunds of `previous.lines` may have withheld a clawback, and "
                             "this refund settles against it: pass `clawback`, what your records "
                             "say they withheld (the sum of their `totals.clawback` minus their "
                             "`totals.clawback_returned`)");
    }
    if (in->previous_clawback >= 0 && in->previous_clawback <= r->most_before) {
        r->withheld_before = in->previous_clawback;
        return TSR_OK;
    }
    money_text(r, said, in->previous_clawback);
    money_text(r, most, r->most_before);
    if (in->nprevious == 0)
        return tsr__err_path(r->err, TSR_ERECEIPT, "previous.clawback",
                             "no line was refunded before (`previous.lines` is empty), so %s "
                             "was withheld, not %s: pass %s, or leave `clawback` out",
                             most, said, most);
    if (!r->rs->refunds.reprice)
        return tsr__err_path(r->err, TSR_ERECEIPT, "previous.clawback",
                             "the rule set does not re-price (`refunds.reprice` is false), so "
                             "earlier refunds withheld %s, not %s: pass %s, or leave "
                             "`clawback` out", most, said, most);
    if (p.owed <= paid)
        return tsr__err_path(r->err, TSR_ERECEIPT, "previous.clawback",
                             "the refunds of `previous.lines` withheld at most %s: the %zu "
                             "line%s they left cost %s re-priced, %s on the receipt (you passed "
                             "%s: check `previous` against your records)", most, p.nremaining,
                             p.nremaining == 1 ? "" : "s", money_text(r, now, p.now),
                             money_text(r, was, p.paid), said);
    return tsr__err_path(r->err, TSR_ERECEIPT, "previous.clawback",
                         "the refunds of `previous.lines` withheld at most %s: their %zu "
                         "line%s paid %s on the receipt, and a refund withholds no more than "
                         "it pays back (you passed %s: check `previous` against your records)",
                         most, in->nprevious, in->nprevious == 1 ? "" : "s", most, said);
}

/* Show the re-pricing in the result: the lines kept, paid and now. */
static int show_reprice(refund *r, const repriced *p)
{
    tsr_refund_result *out = r->out;
    size_t i, k = 0;

    out->repriced = true;
    out->reprice_paid = p->paid;
    out->reprice_now = p->now;
    out->remaining = tsr__arena_alloc(&out->arena, (p->nremaining + 1) * sizeof *out->remaining);
    if (!out->remaining)
        return nomem(r);
    for (i = 0; i < r->res->nlines; i++) {
        const char *id = r->res->lines[i].id;
        if (gone(r, i, true))
            continue;
        if (!(out->remaining[k++] = tsr__arena_strndup(&out->arena, id, strlen(id))))
            return nomem(r);
    }
    out->nremaining = k;
    return TSR_OK;
}

/* Settle the clawback against what earlier refunds of the order withheld,
 * so that returning lines one at a time ends where returning them together
 * would: more owed than withheld is withheld now, never more than this
 * refund pays back (what it cannot withhold stays owed, and a later refund
 * of the order, withholding against what was really withheld, takes it);
 * less owed than withheld, because lines that carried part of it came back
 * too, is paid back. */
static int settle_clawback(refund *r, tsr_refund_totals *t)
{
    int64_t delta;
    repriced p;
    int rc;

    if ((rc = reprice(r, true, &p)) != TSR_OK)
        return rc;
    if (p.nremaining > 0 && (rc = show_reprice(r, &p)) != TSR_OK)
        return rc;
    if (!tsr__sub(p.owed, r->withheld_before, &delta))
        return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    if (delta >= 0) {
        t->clawback = delta < t->amount ? delta : t->amount;
        t->amount -= t->clawback;
    } else {
        t->clawback_returned = -delta;
        if (!tsr__add(t->amount, t->clawback_returned, &t->amount))
            return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    }
    return TSR_OK;
}

/* The invariant every refund keeps, checked on the result rather than
 * trusted to the arithmetic above: what it pays back is never below zero
 * and never more than the receipt says its lines paid plus the clawback it
 * returns, which is never more than the caller says was withheld before,
 * which is never more than the lines `previous` left owe, re-priced, nor
 * what those lines paid.  So a request can lower its own refund (a smaller
 * `previous.clawback`), never raise it past what its lines paid plus that
 * bound. */
static int check_payout(refund *r)
{
    const tsr_refund_totals *t = &r->out->totals;
    int64_t paid = 0, bound;
    char a[32], b[32], c[32];
    size_t i;

    for (i = 0; i < r->res->nlines; i++) {
        int64_t line;
        if (r->refunded[i] && (!line_paid(r, i, &line) || !tsr__add(paid, line, &paid)))
            return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    }
    if (!tsr__add(paid, t->clawback_returned, &bound))
        return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    if (t->amount >= 0 && t->amount <= bound && t->clawback >= 0 && t->clawback_returned >= 0 &&
        t->clawback_returned <= r->withheld_before && r->withheld_before >= 0 &&
        r->withheld_before <= r->most_before)
        return TSR_OK;
    return tsr__err(r->err, TSR_EEVAL,
                    "internal error: the refund would pay back %s, but its lines paid %s and "
                    "earlier refunds withheld at most %s; nothing was refunded",
                    money_text(r, a, t->amount), money_text(r, b, paid),
                    money_text(r, c, r->most_before));
}

/* ---------------------------------------------------------------------
 * Putting it together.
 */
static int new_result(refund *r)
{
    const tsr_ruleset *rs = r->rs;
    tsr_refund_result *out;
    tsr_arena arena;
    char dt[48];

    tsr__arena_init(&arena, &rs->alloc, 1024 + r->in->nlines * 96);
    out = tsr__arena_calloc(&arena, 1, sizeof *out);
    if (!out) {
        tsr__arena_free(&arena);
        return nomem(r);
    }
    out->alloc = rs->alloc;
    out->arena = arena;
    out->arena.alloc = &out->alloc;
    r->out = out;
    out->minor_units = rs->minor_units;
    out->to = rs->refunds.to;
    out->taxes = rs->taxes.present;
    tsr__format_datetime(dt, r->in->at, r->in->at_offset);
    out->datetime = tsr__arena_strndup(&out->arena, dt, strlen(dt));
    out->ruleset_id = tsr__arena_strndup(&out->arena, rs->id, strlen(rs->id));
    out->ruleset_version = tsr__arena_strndup(&out->arena, rs->version, strlen(rs->version));
    out->currency = tsr__arena_strndup(&out->arena, rs->currency, strlen(rs->currency));
    out->order_id = r->res->order_id
                        ? tsr__arena_strndup(&out->arena, r->res->order_id, strlen(r->res->order_id))
                        : NULL;
    out->lines = tsr__arena_calloc(&out->arena, r->in->nlines, sizeof *out->lines);
    if (!out->datetime || !out->ruleset_id || !out->ruleset_version || !out->currency ||
        (r->res->order_id && !out->order_id) || !out->lines)
        return nomem(r);
    out->nlines = r->in->nlines;
    return TSR_OK;
}

/* Order-level (flat) points belong to no line: they go with the refund
 * that leaves the order with no line unrefunded. */
static int64_t order_points_revoked(const refund *r, size_t nrefunded)
{
    int64_t lines = 0;
    size_t i;

    if (nrefunded == 0)
        return 0;
    for (i = 0; i < r->res->nlines; i++) {
        if (!r->refunded[i] && !r->before[i])
            return 0;
        lines += r->res->lines[i].points_earned;   /* cannot overflow: checked by receipt.c */
    }
    return r->res->points_earned - lines;
}

static int refund_all(refund *r)
{
    tsr_refund_totals *t;
    size_t k, nrefunded = 0;
    int rc;

    if ((rc = new_result(r)) != TSR_OK || (rc = setup_context(r)) != TSR_OK)
        return rc;
    t = &r->out->totals;
    for (k = 0; k < r->in->nlines; k++) {
        tsr_refund_line *l = &r->out->lines[k];
        if ((rc = refund_line(r, k, l)) != TSR_OK)
            return rc;
        if (l->status != TSR_REFUND_REFUNDED)
            continue;
        nrefunded++;
        if (!tsr__add(t->amount, l->amount, &t->amount) || !tsr__add(t->fee, l->fee, &t->fee) ||
            !tsr__add(t->tax, l->tax, &t->tax) ||
            !tsr__add(t->points_restored, l->points_restored, &t->points_restored) ||
            !tsr__add(t->points_revoked, l->points_revoked, &t->points_revoked))
            return tsr__err(r->err, TSR_EEVAL, "refund amounts overflow");
    }
    t->order_points_revoked = order_points_revoked(r, nrefunded);
    if (!tsr__add(t->points_revoked, t->order_points_revoked, &t->points_revoked))
        return tsr__err(r->err, TSR_EEVAL, "refund points overflow");
    /* a refund that refunds nothing moves no money, clawback included */
    if (r->rs->refunds.reprice && nrefunded > 0 && (rc = settle_clawback(r, t)) != TSR_OK)
        return rc;
    return check_payout(r);
}

int tsr__refund_run(tsr_refund_result **out, const tsr_ruleset *rs, const tsr_refund_input *in,
                    tsr_error *err)
{
    static const tsr_eval_options quiet = { TSR_EVAL_OPTIONS_VERSION, 0, 1 };
    refund r;
    int rc;

    memset(&r, 0, sizeof r);
    r.rs = rs;
    r.in = in;
    r.err = err;
    tsr__arena_init(&r.work, &rs->alloc, 4096);
    rc = tsr_evaluate(&r.res, rs, in->order, &quiet, err);
    if (rc != TSR_OK && rc != TSR_ENOMEM)
        tsr__refund_prefix_path(err, "order", rc);
    if (rc == TSR_OK)
        rc = tsr__receipt_read(&r.receipt, rs, in->receipt, in->receipt_len, &r.work, err);
    if (rc == TSR_OK)
        rc = tsr__receipt_verify(&r.receipt, r.res, err);
    if (rc == TSR_OK)
        rc = check_request(&r);
    if (rc == TSR_OK)
        rc = check_withheld_before(&r);
    if (rc == TSR_OK)
        rc = refund_all(&r);
    tsr__regex_scratch_free(r.x.regex_scratch, &rs->alloc);
    tsr_result_free(r.res);
    tsr__arena_free(&r.work);
    if (rc != TSR_OK) {
        if (rc == TSR_ENOMEM)
            tsr__err(err, TSR_ENOMEM, NULL);
        else if (err && err->code == TSR_OK)
            tsr__err(err, rc, "%s", tsr_strerror(rc));
        tsr_refund_result_free(r.out);
        return rc;
    }
    *out = r.out;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * The C entry point (tsr_refund, with a JSON request, is refund_request.c's).
 */
int tsr__refund_time(tsr_refund_input *in, const char *s, size_t n, tsr_error *err)
{
    if (!s || tsr__parse_datetime(s, n, &in->at, &in->at_offset) != TSR_OK)
        return tsr__err_path(err, TSR_EORDER, "datetime",
                             "the refund time must be ISO 8601 with a UTC offset, such as "
                             "\"2026-11-20T10:00:00+02:00\"");
    return TSR_OK;
}

/* Bytes of tsr_refund_options each version of the header declares.
 * Appending a field means a new TSR_REFUND_OPTIONS_VERSION and a new entry
 * here (the assert fails until both are done). */
static const size_t refund_options_size[TSR_REFUND_OPTIONS_VERSION + 1] = {
    0,
    TSR_END_OF(tsr_refund_options, previous_clawback),     /* version 1 */
};
_Static_assert(sizeof(tsr_refund_options) == TSR_END_OF(tsr_refund_options, previous_clawback),
               "a field was appended to tsr_refund_options: add a version and its size");

int tsr_refund_options_init(tsr_refund_options *opts, unsigned version)
{
    static const tsr_refund_options defaults = TSR_REFUND_OPTIONS_INIT;
    return tsr__init_versioned(opts, &defaults, version, refund_options_size,
                               TSR_ARRAY_LEN(refund_options_size));
}

int tsr_refund_order(tsr_refund_result **out, const tsr_ruleset *rs, const tsr_order *order,
                     const char *receipt, size_t receipt_len, const char *const *line_ids,
                     size_t nline_ids, const char *datetime, const tsr_refund_options *opts,
                     tsr_error *err)
{
    tsr_refund_input in;
    int rc;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_refund_order: `out` is NULL");
    *out = NULL;
    if (!rs || !order || !receipt || (nline_ids && !line_ids))
        return tsr__err(err, TSR_EINVAL, "tsr_refund_order: rule set, order, receipt or line "
                                         "ids are NULL");
    if (order->rs != rs)
        return tsr__err(err, TSR_EINVAL, "tsr_refund_order: the order was built for another "
                                         "rule set");
    if (opts && (rc = tsr__check_version(opts->version, TSR_ARRAY_LEN(refund_options_size),
                                         "tsr_refund_order: refund options",
                                         "TSR_REFUND_OPTIONS_INIT", err)) != TSR_OK)
        return rc;
    if (opts && opts->nprevious_lines && !opts->previous_lines)
        return tsr__err(err, TSR_EINVAL, "tsr_refund_order: previous_lines is NULL");
    if ((rc = tsr__order_ready(order, err)) != TSR_OK)
        return tsr__refund_prefix_path(err, "order", rc);
    memset(&in, 0, sizeof in);
    in.order = order;
    in.receipt = receipt;
    in.receipt_len = receipt_len;
    in.lines = line_ids;
    in.nlines = nline_ids;
    if (opts) {
        in.previous = opts->previous_lines;
        in.nprevious = opts->nprevious_lines;
        in.previous_clawback_stated = opts->previous_clawback != TSR_REFUND_CLAWBACK_UNSTATED;
        in.previous_clawback = in.previous_clawback_stated ? opts->previous_clawback : 0;
    }
    if ((rc = tsr__refund_time(&in, datetime, datetime ? strlen(datetime) : 0, err)) != TSR_OK)
        return rc;
    return tsr__refund_run(out, rs, &in, err);
}
