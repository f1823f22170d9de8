/*
 * loyalty.c — SPEC §4 steps 6 and 7: redeeming the customer's points
 * against the order, and earning new points on what is paid.
 *
 * Owns: membership (`member_when`), the redemption request and its limits
 * (balance or usable lots, max_percent, step, min_points) with the reason
 * reported when fewer points are redeemed than asked, the spending of points
 * lots, and the earn rules (per/points, flat, multiply) with their entries,
 * available_on / expires_on dates and trace.
 *
 * Decisions where the SPEC leaves room (also to be written in docs/):
 *
 *   - Redemption limits are applied in the SPEC's order: balance,
 *     max_percent, step, min_points.  The reason reported is the LAST limit
 *     that lowered the amount; min_points is reported only when it is what
 *     zeroes a still positive amount.  So a customer with no points at all
 *     hears `balance`, not `min_points`, and a request capped by both
 *     balance and max_percent names the tighter one (the later to lower it;
 *     on a tie the earlier, balance).
 *   - A line's redeemed value is points x point_value, so a point worth more
 *     than the minor unit could pay more than a small line costs.  A line
 *     can therefore take at most floor(total / point_value) points, and the
 *     redemption is capped by the sum of those too (reported as
 *     `max_percent`: both limits are "the share of the eligible lines points
 *     may pay").  With a point worth one minor unit that cap never binds.
 *   - When an order carries `points_lots`, the lots are the balance and
 *     customer.points_balance is not consulted.
 *   - Several `multiply` rules naming the same rule compose by
 *     multiplication (x2 and x3 make x6), whatever their order in the file.
 *     They may name flat rules too.
 *   - Flat (order-level) entries have no line, hence no event_start: their
 *     service date is the order's local date.
 *   - An earn rule is "applied" in the trace when it earned points; a
 *     multiply rule when its conditions held and a rule it names earned
 *     points.  The redemption appears as `loyalty.redeem` when the order
 *     asked for points.
 *
 * No floating point: money in minor units, percentages as scale-6
 * decimals, every product and sum checked.  All memory from ev->arena.
 */
#include "eval.h"
#include "plan.h"

#include <inttypes.h>
#include <stdio.h>

static int overflow(tsr_eval *ev, const char *what)
{
    return tsr__err(ev->err, TSR_EEVAL, "loyalty: %s overflows", what);
}

static int nomem(tsr_eval *ev)
{
    return tsr__err(ev->err, TSR_ENOMEM, "out of memory");
}

/* A trace sentence; only built when a trace is wanted, so that no_trace
 * evaluations do not spend arena memory on text nobody reads. */
#define WHY(ev, ...) (tsr__tracing(ev) ? tsr__why((ev), __VA_ARGS__) : "")

/* ---------------------------------------------------------------------
 * Membership.
 */

typedef struct membership {
    bool member;
    const char *src;        /* failing condition's source text, if any */
    size_t src_len;
} membership;

/* Membership without `member_when`: the order names a customer id. */
static inline bool customer_has_id(const tsr_value *cust)
{
    return cust != NULL && cust[TSR_CUST_ID].type != TSR_T_MISSING;
}

/* Settled by redemption (step 6), which every evaluation runs just before
 * earning and which stores the answer in res->member; earning settles it
 * again only for its trace, which names the failing condition (the
 * condition is pure: the same answer). */
static int settle_membership(tsr_eval *ev, membership *m)
{
    const tsr_loyalty *L = &ev->rs->loyalty;
    int rc;

    m->member = false;
    m->src = NULL;
    m->src_len = 0;
    if (!L->present)
        return TSR_OK;
    ev->x.item = NULL;      /* order level */
    if (L->member_when == NULL) {
        m->member = customer_has_id(ev->x.customer);
        return TSR_OK;
    }
    rc = tsr__expr_test(L->member_when, &ev->x, &m->member, &m->src, &m->src_len);
    if (rc != TSR_OK)
        return rc;
    if (!m->member && m->src == NULL) {
        m->src = L->member_when->src;
        m->src_len = L->member_when->src_len;
    }
    return TSR_OK;
}

static const char *not_member_why(tsr_eval *ev, const membership *m)
{
    if (!ev->rs->loyalty.present)
        return WHY(ev, "the rule set has no loyalty program");
    if (m->src == NULL)
        return WHY(ev, "not a member: the order has no customer.id");
    return WHY(ev, "not a member: `%.*s` was false", (int)m->src_len, m->src);
}

/* Lines whose `for` holds (NULL: all), as indexes into idx[]; *n their count. */
static int eligible_lines(tsr_eval *ev, const tsr_expr *for_, size_t *idx, size_t *n)
{
    size_t i, k = 0;
    int rc;

    if (!for_) {   /* every line, without a test per line */
        for (i = 0; i < ev->res->nlines; i++)
            idx[i] = i;
        ev->x.item = NULL;
        *n = ev->res->nlines;
        return TSR_OK;
    }
    for (i = 0; i < ev->res->nlines; i++) {
        bool holds;
        tsr__eval_at_line(ev, i);
        if ((rc = tsr__eval_test(ev, for_, &holds, NULL)) != TSR_OK) {
            ev->x.item = NULL;
            return rc;
        }
        if (holds)
            idx[k++] = i;
    }
    ev->x.item = NULL;
    *n = k;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Redemption (step 6).
 */

typedef struct rank {
    int64_t rem;
    size_t pos;
} rank;

/* Stable merge sort with its scratch from the evaluation's arena, like the
 * rest of its memory (qsort would malloc behind the allocator hook; a
 * separate scratch arena would cost an allocation per sort, even when the
 * result is evaluated into again). */
static int sort(tsr_eval *ev, void *base, size_t n, size_t size,
                int (*cmp)(const void *, const void *))
{
    return tsr__sort_stable(ev->arena, base, n, size, cmp) == TSR_OK ? TSR_OK : nomem(ev);
}

static int rank_cmp(const void *a, const void *b)
{
    const rank *x = a, *y = b;
    if (x->rem != y->rem)
        return x->rem > y->rem ? -1 : 1;       /* largest remainder first */
    return x->pos < y->pos ? -1 : x->pos > y->pos;   /* then the earlier line */
}

/* Largest remainder (SPEC §4.5) of `amount` over weights w[], each out[k]
 * at most cap[k].  Floors first (never above the cap, see the file comment:
 * they cannot exceed it while amount <= sum of caps and amount * w <= cap *
 * W), then one unit each to the largest remainders among the lines with
 * room, ties to the earlier line; whatever is still left (only when caps
 * bind) goes, in the same order, to lines with room, as much as each can
 * take.  Without binding caps this is exactly tsr__allocate.  Requires
 * amount <= sum(cap). */
static int allocate_capped(tsr_eval *ev, int64_t amount, const int64_t *w, const int64_t *cap,
                           size_t n, int64_t *out)
{
    int64_t total = 0, given = 0, left, q, r;
    rank *order;
    size_t k;
    int rc;

    for (k = 0; k < n; k++)
        if (!tsr__add(total, w[k], &total))
            return overflow(ev, "eligible total");
    if (amount == 0 || total == 0) {
        for (k = 0; k < n; k++)
            out[k] = 0;
        return amount == 0 ? TSR_OK
                           : tsr__err(ev->err, TSR_EEVAL, "loyalty: points with no weight");
    }
    order = tsr__arena_alloc(ev->arena, n * sizeof *order);
    if (!order)
        return nomem(ev);
    for (k = 0; k < n; k++) {
        if (!tsr__muldiv_floor_rem(amount, w[k], total, &q, &r))
            return overflow(ev, "points allocation");
        out[k] = q < cap[k] ? q : cap[k];
        given += out[k];            /* <= amount: no overflow */
        order[k].rem = r;
        order[k].pos = k;
    }
    if ((rc = sort(ev, order, n, sizeof *order, rank_cmp)) != TSR_OK)
        return rc;
    left = amount - given;
    for (k = 0; k < n && left > 0; k++) {
        size_t i = order[k].pos;
        if (out[i] < cap[i]) {
            out[i]++;
            left--;
        }
    }
    for (k = 0; k < n && left > 0; k++) {
        size_t i = order[k].pos;
        int64_t room = cap[i] - out[i];
        int64_t take = room < left ? room : left;
        out[i] += take;
        left -= take;
    }
    if (left != 0)
        return tsr__err(ev->err, TSR_EEVAL, "loyalty: redeemed points do not fit the lines");
    return TSR_OK;
}

typedef struct usable_lot {
    const tsr_points_lot *lot;
} usable_lot;

/* Soonest expiry first, lots that never expire last; the sort is stable,
 * so ties stay in the order the lots were given. */
static int lot_cmp(const void *a, const void *b)
{
    const usable_lot *x = a, *y = b;
    if (x->lot->has_expires != y->lot->has_expires)
        return x->lot->has_expires ? -1 : 1;
    if (x->lot->has_expires && x->lot->expires_on != y->lot->expires_on)
        return x->lot->expires_on < y->lot->expires_on ? -1 : 1;
    return 0;
}

/* The usable lots, sorted for spending, and their sum.  A lot whose
 * expires_on is on or before the order's local date is gone: expires_on is
 * the first day it can no longer be used.  O(n log n) in the lots. */
static int usable_lots(tsr_eval *ev, usable_lot **out, size_t *n, int64_t *sum)
{
    const tsr_order *o = ev->order;
    usable_lot *u;
    size_t i, k = 0;
    int rc;

    *out = NULL;
    *n = 0;
    *sum = 0;
    if (o->nlots == 0)
        return TSR_OK;
    u = tsr__arena_alloc(ev->arena, o->nlots * sizeof *u);
    if (!u)
        return nomem(ev);
    for (i = 0; i < o->nlots; i++) {
        const tsr_points_lot *lot = &o->lots[i];
        if (lot->points <= 0 || (lot->has_expires && lot->expires_on <= ev->today))
            continue;
        if (!tsr__add(*sum, lot->points, sum))
            return overflow(ev, "points lots");
        u[k++].lot = lot;
    }
    if ((rc = sort(ev, u, k, sizeof *u, lot_cmp)) != TSR_OK)
        return rc;
    *out = u;
    *n = k;
    return TSR_OK;
}

static int spend_lots(tsr_eval *ev, const usable_lot *u, size_t n, int64_t points)
{
    tsr_result *res = ev->res;
    size_t k, used = 0;

    for (k = 0; k < n && points > 0; k++) {
        int64_t take = u[k].lot->points < points ? u[k].lot->points : points;
        points -= take;
        used++;
    }
    if (used == 0)
        return TSR_OK;
    res->lots_used = tsr__arena_alloc(ev->arena, used * sizeof *res->lots_used);
    if (!res->lots_used)
        return nomem(ev);
    points = res->points_redeemed;
    for (k = 0; k < used; k++) {
        int64_t take = u[k].lot->points < points ? u[k].lot->points : points;
        const char *id = u[k].lot->id ? u[k].lot->id : "";
        /* The result outlives the order (tsr_evaluate_text frees it, and a
         * builder order may be reset): copy, never borrow. */
        res->lots_used[k].id = tsr__arena_strndup(ev->arena, id, strlen(id));
        if (!res->lots_used[k].id)
            return nomem(ev);
        res->lots_used[k].points = take;
        points -= take;
    }
    res->nlots_used = used;
    return TSR_OK;
}

/* The points requested: order.redeem_points, from the order struct or,
 * should a reader fill only the record slot, from there. */
static int64_t requested_points(const tsr_eval *ev)
{
    const tsr_order *o = ev->order;
    if (o->has_redeem)
        return o->redeem_points;
    if (ev->x.order && ev->x.order[TSR_ORDER_REDEEM_POINTS].type == TSR_T_INT)
        return ev->x.order[TSR_ORDER_REDEEM_POINTS].u.i;
    return 0;
}

static int trace_redeem(tsr_eval *ev, bool applied, const char *why)
{
    if (!tsr__tracing(ev))
        return TSR_OK;
    if (!applied && why == NULL)
        return nomem(ev);
    return tsr__trace(ev, "loyalty", "redeem", applied, applied ? NULL : why);
}

__attribute__((noinline))   /* its frame only when points are asked for */
static int redeem(tsr_eval *ev);

/* What redemption settles whether or not points are asked for: nothing
 * redeemed yet, and membership (res->member).  The lines' redeemed points
 * and value are zero: setup() zeroed the lines, and redemption is the only
 * step that writes them. */
static int redeem_start(tsr_eval *ev, membership *m)
{
    tsr_result *res = ev->res;
    int rc;

    res->points_redeemed = 0;
    res->redeem_reason = TSR_RR_NONE;
    res->lots_used = NULL;
    res->nlots_used = 0;
    rc = settle_membership(ev, m);
    if (rc == TSR_OK)
        res->member = m->member;
    return rc;
}

/* tsr__eval_redeem when points are asked for or membership has a
 * condition.  An error while redeeming names the loyalty section. */
__attribute__((noinline))
static int redeem_located(tsr_eval *ev)
{
    membership m;
    int rc;

    /* Nothing asked: nothing to explain, and none of redeem()'s frame to
     * set up. */
    if (requested_points(ev) <= 0) {
        rc = redeem_start(ev, &m);
        return rc == TSR_OK ? TSR_OK : tsr__eval_locate(ev, rc, &ev->rs->loyalty.pos, NULL);
    }
    return tsr__eval_locate(ev, redeem(ev), &ev->rs->loyalty.pos, NULL);
}

int tsr__eval_redeem(tsr_eval *ev)
{
    const tsr_loyalty *L = &ev->rs->loyalty;
    tsr_result *res = ev->res;

    /* Nothing asked (most orders) and membership without a condition:
     * redeem_start and settle_membership in a call without a frame.  The
     * result's fields are zero (nothing redeemed, no member, no lots): a
     * new result is zeroed and a kept one rewound (eval.c, result_rewind),
     * and no step before this one writes them. */
    if (TSR_LIKELY(L->member_when == NULL) && requested_points(ev) <= 0) {
        if (L->present) {
            ev->x.item = NULL;      /* order level */
            res->member = customer_has_id(ev->x.customer);
        }
        return TSR_OK;
    }
    return redeem_located(ev);
}

static int redeem(tsr_eval *ev)
{
    const tsr_loyalty *L = &ev->rs->loyalty;
    tsr_result *res = ev->res;
    membership m;
    int64_t request, balance = 0, eligible_total = 0, cap_money, by_percent, line_caps = 0;
    int64_t amount;
    usable_lot *lots = NULL;
    size_t nlots = 0, n = 0, k;
    size_t *idx;
    int64_t *w, *cap, *pts;
    char b1[32], b2[32];
    const char *why = NULL;
    int rc;

    if ((rc = redeem_start(ev, &m)) != TSR_OK)
        return rc;
    request = requested_points(ev);
    if (request <= 0)
        return TSR_OK;      /* nothing asked: nothing to explain */
    if (!L->present || !L->has_redeem) {
        res->redeem_reason = TSR_RR_NO_REDEEM;
        return trace_redeem(ev, false, WHY(ev, "the rule set has no `loyalty.redeem`"));
    }
    if (!m.member) {
        res->redeem_reason = TSR_RR_NOT_MEMBER;
        return trace_redeem(ev, false, not_member_why(ev, &m));
    }

    if (L->point_value <= 0)     /* the loader refuses it; never divide by it */
        return tsr__err(ev->err, TSR_EEVAL, "loyalty: point_value is not positive");

    /* Balance: the usable lots when the customer has them, else the bare
     * balance (missing or negative counts as none). */
    if (ev->order->has_lots) {
        rc = usable_lots(ev, &lots, &nlots, &balance);
        if (rc != TSR_OK)
            return rc;
    } else if (ev->x.customer && ev->x.customer[TSR_CUST_POINTS_BALANCE].type == TSR_T_INT &&
               ev->x.customer[TSR_CUST_POINTS_BALANCE].u.i > 0) {
        balance = ev->x.customer[TSR_CUST_POINTS_BALANCE].u.i;
    }

    /* The eligible lines and, per line, how many points its total can pay. */
    idx = tsr__arena_alloc(ev->arena, res->nlines * sizeof *idx);
    w = tsr__arena_alloc(ev->arena, res->nlines * sizeof *w);
    cap = tsr__arena_alloc(ev->arena, res->nlines * sizeof *cap);
    pts = tsr__arena_alloc(ev->arena, res->nlines * sizeof *pts);
    if (!idx || !w || !cap || !pts)
        return nomem(ev);
    rc = eligible_lines(ev, L->redeem_for, idx, &n);
    if (rc != TSR_OK)
        return rc;
    for (k = 0; k < n; k++) {
        int64_t t = res->lines[idx[k]].total;
        w[k] = t > 0 ? t : 0;
        cap[k] = w[k] / L->point_value;
        if (!tsr__add(eligible_total, w[k], &eligible_total) ||
            !tsr__add(line_caps, cap[k], &line_caps))
            return overflow(ev, "eligible total");
    }

    /* points * point_value <= max_percent/100 * eligible total, exactly:
     * floor(floor(E * p / 10^8) / v) == floor(E * p / (10^8 * v)) for
     * positive integers, and the two-step form cannot overflow the divisor. */
    if (!tsr__muldiv(eligible_total, L->max_percent, 100 * TSR_DEC_SCALE, TSR_ROUND_DOWN,
                     &cap_money))
        return overflow(ev, "max_percent of the eligible total");
    by_percent = cap_money / L->point_value;
    if (line_caps < by_percent)
        by_percent = line_caps;

    amount = request;
    if (balance < amount) {
        amount = balance;
        res->redeem_reason = TSR_RR_BALANCE;
        why = WHY(ev, "balance: %" PRId64 " of %" PRId64 " points requested available",
                  balance, request);
    }
    if (by_percent < amount) {
        amount = by_percent;
        res->redeem_reason = TSR_RR_MAX_PERCENT;
        tsr__format_decimal(b1, L->max_percent);
        tsr__format_fixed(b2, eligible_total, ev->rs->minor_units);
        why = WHY(ev, "max_percent: at most %" PRId64 " points (%s%% of eligible total %s)",
                  by_percent, b1, b2);
    }
    if (L->step > 1 && amount % L->step != 0) {
        amount -= amount % L->step;
        res->redeem_reason = TSR_RR_STEP;
        why = WHY(ev, "step: points are redeemed in multiples of %" PRId64, L->step);
    }
    if (amount > 0 && amount < L->min_points) {
        res->redeem_reason = TSR_RR_MIN_POINTS;
        why = WHY(ev, "min_points: %" PRId64 " points is below min_points %" PRId64, amount,
                  L->min_points);
        amount = 0;
    }
    if (amount == 0)
        return trace_redeem(ev, false, why);

    res->points_redeemed = amount;
    rc = allocate_capped(ev, amount, w, cap, n, pts);
    if (rc != TSR_OK)
        return rc;
    for (k = 0; k < n; k++) {
        tsr_res_line *line = &res->lines[idx[k]];
        int64_t value;
        if (pts[k] == 0)
            continue;
        if (!tsr__mul(pts[k], L->point_value, &value))
            return overflow(ev, "redeemed value");
        if (value > line->total)     /* excluded by the caps; never go below zero */
            return tsr__err(ev->err, TSR_EEVAL, "loyalty: redeemed value exceeds line `%s`",
                            line->id);
        line->redeemed_points = pts[k];
        line->redeemed_value = value;
        line->total -= value;
        tsr__eval_sync_line(ev, idx[k]);
    }
    if (ev->order->has_lots) {
        rc = spend_lots(ev, lots, nlots, amount);
        if (rc != TSR_OK)
            return rc;
    }
    return trace_redeem(ev, true, NULL);
}

/* ---------------------------------------------------------------------
 * Earning (step 7).
 */

typedef struct earn_state {
    bool gated;             /* when/valid/channels held (and member) */
    const char *why;        /* trace sentence when not applied */
    int64_t factor;         /* product of the multipliers naming this rule */
    bool factor_overflow;   /* the product does not fit: fatal only if points > 0 */
    const char *zeroed_by;  /* a multiply rule that made the points 0 */
    bool applied;
} earn_state;

static int64_t service_date(const tsr_eval *ev, int slot, int line)
{
    const tsr_value *v;

    if (slot < 0 || line < 0)
        return ev->today;
    v = ev->recs + (size_t)line * ev->stride + (size_t)slot;
    if (v->type != TSR_T_DATETIME)
        return ev->today;
    return tsr__local_days(v->u.i, tsr__local_offset(ev->rs->tz, v->u.i, v->offset));
}

/* Room for `more` entries past the last: a rule reserves once for all the
 * entries it may write, so that writing one checks nothing (doubling from
 * 8, like tsr__arena_grow; the entries written so far are copied). */
__attribute__((noinline))
static int grow_entries(tsr_eval *ev, size_t more)
{
    tsr_result *res = ev->res;
    size_t ncap;
    tsr_points_entry *p;

    if (more > SIZE_MAX - res->nentries)
        return nomem(ev);
    ncap = res->entries_cap ? res->entries_cap : 8;
    while (ncap < res->nentries + more) {
        if (ncap > SIZE_MAX / 2)
            return nomem(ev);
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / sizeof *p)
        return nomem(ev);
    p = tsr__arena_alloc(ev->arena, ncap * sizeof *p);
    if (!p)
        return nomem(ev);
    if (res->nentries)
        memcpy(p, res->entries, res->nentries * sizeof *p);
    res->entries = p;
    res->entries_cap = ncap;
    return TSR_OK;
}

/* The dates of an entry: available_on, pending_days after its service
 * date, and expires_on, expire_days after that.  Dates must stay printable
 * (years 1..9999), like all date arithmetic. */
typedef struct entry_dates {
    int64_t available_on, expires_on;
    bool has_expires;
} entry_dates;

/* Inline: dated from the order, an entry's dates are today's, without a
 * call.  The errors return TSR_EEVAL itself so that the callers, inlined,
 * see that *d is read only on success. */
static inline __attribute__((always_inline))
int entry_dates_of(tsr_eval *ev, int slot, int line, entry_dates *d)
{
    const tsr_loyalty *L = &ev->rs->loyalty;

    if (!tsr__add(service_date(ev, slot, line), L->pending_days, &d->available_on) ||
        d->available_on > TSR_DATE_MAX_DAYS) {
        (void)tsr__err(ev->err, TSR_EEVAL, "loyalty: available_on is past 9999-12-31");
        return TSR_EEVAL;
    }
    d->has_expires = L->has_expire_days;
    d->expires_on = 0;
    if (L->has_expire_days &&
        (!tsr__add(d->available_on, L->expire_days, &d->expires_on) ||
         d->expires_on > TSR_DATE_MAX_DAYS)) {
        (void)tsr__err(ev->err, TSR_EEVAL, "loyalty: expires_on is past 9999-12-31");
        return TSR_EEVAL;
    }
    return TSR_OK;
}

/* reserve_entries: room at hand (most rules) answered without a call. */
static inline int reserve_entries(tsr_eval *ev, size_t more)
{
    const tsr_result *res = ev->res;

    if (TSR_LIKELY(more <= res->entries_cap - res->nentries))
        return TSR_OK;
    return grow_entries(ev, more);
}

/* One entry with its dates, in room reserve_entries made. */
static inline int push_entry(tsr_eval *ev, int rule, int line, int64_t points,
                             const entry_dates *d)
{
    tsr_result *res = ev->res;
    tsr_points_entry *e = &res->entries[res->nentries];

    e->earn = rule;
    e->line = line;
    e->points = points;
    e->available_on = d->available_on;
    e->has_expires = d->has_expires;
    e->expires_on = d->expires_on;
    if (!tsr__add(res->points_earned, points, &res->points_earned))
        return overflow(ev, "points earned");
    if (line >= 0 && !tsr__add(res->lines[line].points_earned, points,
                                &res->lines[line].points_earned))
        return overflow(ev, "points earned");
    res->nentries++;
    return TSR_OK;
}

/* The entries of push_order_dated from o on, in line order: one per
 * nonzero share, with the lines' points.  Returns the end of what it
 * wrote, NULL when a line's points overflow. */
static inline __attribute__((always_inline))
tsr_points_entry *write_order_dated(tsr_res_line *lines, tsr_points_entry *o, int rule,
                                    const size_t *idx, const int64_t *alloc, size_t n,
                                    const entry_dates *d)
{
    for (size_t k = 0; k < n; k++) {
        int64_t a = alloc[k];
        size_t line = idx ? idx[k] : k;
        if (a == 0)
            continue;
        o->earn = rule;
        o->line = (int)line;
        o->points = a;
        o->available_on = d->available_on;
        o->has_expires = d->has_expires;
        o->expires_on = d->expires_on;
        o++;
        if (!tsr__add(lines[line].points_earned, a, &lines[line].points_earned))
            return NULL;
    }
    return o;
}

/* Rule r's shares alloc[0 .. n) of `points` (idx: their lines, NULL for
 * lines 0 .. n), every entry dated from the order's date, in room
 * reserve_entries made: the dates once (an error then is the first
 * entry's, as push_entry's would be), and the total checked once.  The
 * shares are >= 0 and add up to `points`, so the order's total overflows
 * exactly when one of push_entry's running sums would, and a line's
 * points, a part of that total, cannot overflow when it does not. */
static int push_order_dated(tsr_eval *ev, int rule, earn_state *s, const size_t *idx,
                            const int64_t *alloc, size_t n, int64_t points)
{
    tsr_result *res = ev->res;
    tsr_res_line *lines = res->lines;
    tsr_points_entry *out = res->entries;
    tsr_points_entry *end;
    entry_dates d;
    int rc;

    if ((rc = entry_dates_of(ev, -1, -1, &d)) != TSR_OK)
        return rc;
    if (!tsr__add(res->points_earned, points, &res->points_earned))
        return overflow(ev, "points earned");
    /* two copies of the loop: every line (the common case, no idx[] to
     * read), or the lines listed */
    end = idx ? write_order_dated(lines, out + res->nentries, rule, idx, alloc, n, &d)
              : write_order_dated(lines, out + res->nentries, rule, NULL, alloc, n, &d);
    if (!end)
        return overflow(ev, "points earned");   /* unreachable: see above */
    res->nentries = (size_t)(end - out);
    s->applied = true;
    return TSR_OK;
}

/* Multipliers first: their conditions are order level and do not depend on
 * what other rules earn, so each target's factor is known before it earns. */
static int settle_multipliers(tsr_eval *ev, earn_state *st)
{
    const tsr_loyalty *L = &ev->rs->loyalty;
    size_t r, j;
    int rc;

    for (r = 0; r < L->nearn; r++) {
        const tsr_earn *e = &L->earn[r];
        if (!e->is_multiply)
            continue;
        rc = tsr__rule_gate(ev, e->when, &e->valid, -1, NULL, &st[r].gated, &st[r].why);
        if (rc != TSR_OK)
            return rc;
        if (!st[r].gated)
            continue;
        for (j = 0; j < e->nrules; j++) {
            int t = e->rules[j];
            if (t < 0 || (size_t)t >= L->nearn || L->earn[t].is_multiply)
                continue;   /* the loader refuses these; never trust an index */
            if (!st[t].factor_overflow && !tsr__mul(st[t].factor, e->multiply, &st[t].factor))
                st[t].factor_overflow = true;
            if (e->multiply == 0)
                st[t].zeroed_by = e->id;
        }
    }
    return TSR_OK;
}

/* A per rule's weights w[0 .. n): the paid totals (on_price: before
 * redemption) of lines idx[0 .. n) (NULL: lines 0 .. n), negative ones
 * as 0, and their sum *base.  Locals: the stores to w[] would otherwise
 * reload them each line. */
static inline __attribute__((always_inline))
int earn_weights(tsr_eval *ev, const tsr_res_line *lines, const size_t *idx, size_t n,
                 bool on_price, int64_t *w, int64_t *base)
{
    int64_t sum = 0;

    for (size_t k = 0; k < n; k++) {
        const tsr_res_line *line = &lines[idx ? idx[k] : k];
        int64_t paid = line->total, wk;
        /* on: price = after discounts, before redemption. */
        if (on_price && !tsr__add(paid, line->redeemed_value, &paid))
            return overflow(ev, "line total");
        wk = paid > 0 ? paid : 0;
        w[k] = wk;
        if (!tsr__add(sum, wk, &sum))
            return overflow(ev, "earn base");
    }
    *base = sum;
    return TSR_OK;
}

/* A per rule's scratch for the order's lines (on the stack for a short
 * order), and where its entries take their dates from (slot: the line
 * field event_start, or -1: the order's date). */
typedef struct earn_scratch {
    size_t *idx;
    int64_t *w, *alloc;
    int slot;
} earn_scratch;

/* One per/points rule: base, points, multipliers, allocation, entries. */
__attribute__((noinline))   /* earn_one is inlined in the rules' loop, this is not */
static int earn_per(tsr_eval *ev, size_t r, earn_state *s, const earn_scratch *sc)
{
    size_t *idx = sc->idx;
    int64_t *w = sc->w, *alloc = sc->alloc;
    int slot = sc->slot;
    const tsr_loyalty *L = &ev->rs->loyalty;
    const tsr_earn *e = &L->earn[r];
    tsr_result *res = ev->res;
    int64_t base = 0, points;
    entry_dates dates;
    size_t n, k;
    char b1[32], b2[32];
    int rc;

    if (e->per <= 0)             /* the loader refuses it; never divide by it */
        return tsr__err(ev->err, TSR_EEVAL, "loyalty: `per` of earn rule `%s` is not positive",
                        e->id);
    /* a rule without `for` takes every line: no list of them to build */
    if (e->for_) {
        if ((rc = eligible_lines(ev, e->for_, idx, &n)) != TSR_OK)
            return rc;
    } else {
        ev->x.item = NULL;
        n = res->nlines;
    }
    /* two copies of the loop: every line paid (the common case), or
     * another shape */
    if (!e->for_ && L->on != TSR_EARN_ON_PRICE)
        rc = earn_weights(ev, res->lines, NULL, n, false, w, &base);
    else
        rc = earn_weights(ev, res->lines, e->for_ ? idx : NULL, n, L->on == TSR_EARN_ON_PRICE,
                          w, &base);
    if (rc != TSR_OK)
        return rc;
    if (n == 0) {
        s->why = WHY(ev, "0 points: no line matches `%s`", e->for_ ? e->for_->src : "");
        return TSR_OK;
    }
    if (!tsr__mul(base / e->per, e->points, &points))
        return overflow(ev, "earned points");
    if (points == 0) {
        if (!tsr__tracing(ev))
            return TSR_OK;      /* nobody reads the reason */
        tsr__format_fixed(b1, base, ev->rs->minor_units);
        tsr__format_fixed(b2, e->per, ev->rs->minor_units);
        if (e->points == 0)
            s->why = WHY(ev, "0 points: `points` is 0");
        else
            s->why = WHY(ev, "0 points: %s total %s below per %s",
                         L->on == TSR_EARN_ON_PRICE ? "price" : "paid", b1, b2);
        return TSR_OK;
    }
    if (s->factor_overflow)
        return overflow(ev, "multiplied points");
    if (!tsr__mul(points, s->factor, &points))
        return overflow(ev, "multiplied points");
    if (points == 0) {
        s->why = WHY(ev, "0 points: multiplied by 0 by `earn.%s`", s->zeroed_by);
        return TSR_OK;
    }
    /* base >= per > 0 here.  A till's order: the allocation inline, equal
     * weights without a test of their own (the same shares) */
    if (n <= TSR_ALLOCATE_SMALL_MAX && points <= INT32_MAX && base <= INT32_MAX) {
        tsr__allocate_small32(points, w, n, base, alloc);
    } else {
        bool equal = true;
        for (k = 1; k < n && equal; k++)
            equal = w[k] == w[0];
        if (!tsr__allocate_sum(points, w, n, base, equal, alloc))
            return overflow(ev, "points allocation");
    }
    if ((rc = reserve_entries(ev, n)) != TSR_OK)
        return rc;
    if (slot < 0)
        return push_order_dated(ev, (int)r, s, e->for_ ? idx : NULL, alloc, n, points);
    for (k = 0; k < n; k++) {
        int line = (int)(e->for_ ? idx[k] : k);
        if (alloc[k] == 0)
            continue;
        if ((rc = entry_dates_of(ev, slot, line, &dates)) != TSR_OK)
            return rc;
        if ((rc = push_entry(ev, (int)r, line, alloc[k], &dates)) != TSR_OK)
            return rc;
    }
    s->applied = true;
    return TSR_OK;
}

static inline __attribute__((always_inline))
int earn_flat(tsr_eval *ev, size_t r, earn_state *s, int slot)
{
    const tsr_earn *e = &ev->rs->loyalty.earn[r];
    int64_t points = e->points;
    entry_dates dates;
    int rc;

    if (points == 0) {
        s->why = WHY(ev, "0 points: `points` is 0");
        return TSR_OK;
    }
    if (s->factor_overflow || !tsr__mul(points, s->factor, &points))
        return overflow(ev, "multiplied points");
    if (points == 0) {
        s->why = WHY(ev, "0 points: multiplied by 0 by `earn.%s`", s->zeroed_by);
        return TSR_OK;
    }
    s->applied = true;
    if ((rc = reserve_entries(ev, 1)) != TSR_OK ||
        (rc = entry_dates_of(ev, slot, -1, &dates)) != TSR_OK)
        return rc;
    return push_entry(ev, (int)r, -1, points, &dates);
}

/* A multiply rule applies when its conditions held and some rule it names
 * earned points. */
static void settle_multiply_trace(tsr_eval *ev, size_t r, earn_state *st)
{
    const tsr_earn *e = &ev->rs->loyalty.earn[r];
    size_t j;

    if (!st[r].gated)
        return;
    for (j = 0; j < e->nrules; j++) {
        int t = e->rules[j];
        if (t >= 0 && (size_t)t < ev->rs->loyalty.nearn && st[t].applied) {
            st[r].applied = true;
            return;
        }
    }
    st[r].why = WHY(ev, "nothing to multiply: the rules it names earned no points");
}

/* Rule e's gate when its shape was decided at load (tsr_earn.gate): 1 with
 * the answer and the steps of tsr__rule_gate_quiet; 0 for the rest
 * (another shape, a field of another type than declared, the budget about
 * to run out: tsr__rule_gate_quiet or tsr__rule_gate then answers, and
 * reports either).  Leaves no line in scope. */
static inline __attribute__((always_inline))
int earn_gate_inline(tsr_eval *ev, const tsr_earn *e, bool *holds)
{
    const tsr_value *rec;
    const uint8_t *flags;

    ev->x.item = NULL;          /* order level */
    switch (e->gate) {
    case TSR_EARN_GATE_OPEN:
        *holds = true;
        return 1;
    case TSR_EARN_GATE_SEGMENT:
    case TSR_EARN_GATE_PROMO:
        if (ev->x.steps_left < (int64_t)e->gate_cost)
            break;
        flags = e->gate == TSR_EARN_GATE_SEGMENT ? ev->x.segments : ev->x.promo_accepted;
        *holds = flags && flags[e->gate_slot];
        ev->x.steps_left -= e->gate_cost;
        return 1;
    case TSR_EARN_GATE_CUSTOMER_TRUE:
    case TSR_EARN_GATE_ORDER_TRUE:
        if (ev->x.steps_left < (int64_t)e->gate_cost)
            break;
        rec = e->gate == TSR_EARN_GATE_CUSTOMER_TRUE ? ev->x.customer : ev->x.order;
        if (!rec || rec[e->gate_slot].type == TSR_T_MISSING)
            *holds = false;     /* missing: the comparison is false */
        else if (rec[e->gate_slot].type == TSR_T_BOOL)
            *holds = rec[e->gate_slot].u.i != 0;
        else
            break;              /* another type: the walker reports it */
        ev->x.steps_left -= e->gate_cost;
        return 1;
    default:
        break;
    }
    return 0;
}

/* Rule e's gate without a trace. */
static inline __attribute__((always_inline))
int earn_gate_quiet(tsr_eval *ev, const tsr_earn *e, bool *holds)
{
    if (earn_gate_inline(ev, e, holds))
        return TSR_OK;
    return tsr__rule_gate_quiet(ev, e->when, &e->valid, -1, holds);
}

/* Rule e's gate with a trace: tsr__rule_gate's answer, steps and why.  A
 * gate of one conjunct that earn_gate_inline answers fails at that
 * conjunct: its sentence, as tsr__eval_test names it. */
static int earn_gate_traced(tsr_eval *ev, const tsr_earn *e, earn_state *s)
{
    const tsr_expr *w = e->when;

    if (!earn_gate_inline(ev, e, &s->gated))
        return tsr__rule_gate(ev, w, &e->valid, -1, NULL, &s->gated, &s->why);
    s->why = NULL;
    if (s->gated)
        return TSR_OK;
    /* not OPEN (it holds): a `when` of one fast conjunct (earn_gate_form) */
    s->why = tsr__why_false(ev, w, w->src + w->fast[0].off, w->fast[0].len);
    return s->why ? TSR_OK : TSR_ENOMEM;
}

/* One earn rule (multipliers were settled before): its gate, then the
 * points it gives. */
static inline __attribute__((always_inline))   /* a call per rule cost more than its gate */
int earn_one(tsr_eval *ev, size_t r, earn_state *s, const earn_scratch *sc, bool plain)
{
    const tsr_earn *e = &ev->rs->loyalty.earn[r];
    int rc;

    /* plain (a constant where this is inlined): no trace and no multiply
     * rule in the rule set, so neither is asked again per rule */
    if (!plain && e->is_multiply)
        return TSR_OK;
    /* without a trace nothing reads s->why: the gate inline, without it */
    rc = !plain && tsr__tracing(ev) ? earn_gate_traced(ev, e, s)
                                    : earn_gate_quiet(ev, e, &s->gated);
    if (rc != TSR_OK || !s->gated)
        return rc;
    rc = e->has_per ? earn_per(ev, r, s, sc) : earn_flat(ev, r, s, sc->slot);
    return rc == TSR_OK ? TSR_OK : tsr__eval_locate(ev, rc, &e->pos, NULL);
}

/* earn_one with rule r's state: st[r], or with st NULL (no trace, no
 * multipliers: nothing else reads a rule's state) `one`, shared by all the
 * rules: its factor stays 1 (no multiplier settles it), and a rule reads
 * only what it writes first (its gate) or nothing of the rest.  The two
 * cases apart, so that each is compiled for itself. */
static inline __attribute__((always_inline))
int earn_rule(tsr_eval *ev, size_t r, earn_state *st, earn_state *one, const earn_scratch *sc)
{
    return st ? earn_one(ev, r, &st[r], sc, false) : earn_one(ev, r, one, sc, true);
}

/* Lines of an order whose earning scratch lives on the stack. */
#define EARN_SMALL_LINES 16
/* Earn rules of a rule set whose states live on the stack. */
#define EARN_SMALL_RULES 8

int tsr__eval_earn(tsr_eval *ev)
{
    const tsr_loyalty *L = &ev->rs->loyalty;
    tsr_result *res = ev->res;
    membership m;
    tsr_route_walk walk;
    earn_state *st, one, st_small[EARN_SMALL_RULES];
    size_t idx_small[EARN_SMALL_LINES];
    int64_t w_small[EARN_SMALL_LINES], alloc_small[EARN_SMALL_LINES];
    earn_scratch sc;
    size_t r;
    int rc;

    /* The lines' points_earned are zero: setup() zeroed the lines, and
     * earning is the only step that writes them; so are res->points_earned
     * and res->nentries (a new result is zeroed, a kept one rewound). */
    if (!L->present || L->nearn == 0)
        return TSR_OK;

    /* res->member: redemption's answer (settle_membership) */
    if (!res->member) {
        /* Every rule still appears in the trace, with the reason. */
        const char *why;
        if (!tsr__tracing(ev))
            return TSR_OK;
        if ((rc = settle_membership(ev, &m)) != TSR_OK)
            return rc;
        if ((why = not_member_why(ev, &m)) == NULL)
            return nomem(ev);
        for (r = 0; r < L->nearn; r++) {
            rc = tsr__trace(ev, "earn", L->earn[r].id, false, why);
            if (rc != TSR_OK)
                return rc;
        }
        return TSR_OK;
    }

    /* Scratch for the rules' lines: on the stack for a short order, else
     * from the arena. */
    sc.idx = idx_small;
    sc.w = w_small;
    sc.alloc = alloc_small;
    if (res->nlines > EARN_SMALL_LINES) {
        sc.idx = tsr__arena_alloc(ev->arena, res->nlines * sizeof *sc.idx);
        sc.w = tsr__arena_alloc(ev->arena, res->nlines * sizeof *sc.w);
        sc.alloc = tsr__arena_alloc(ev->arena, res->nlines * sizeof *sc.alloc);
        if (!sc.idx || !sc.w || !sc.alloc)
            return nomem(ev);
    }
    sc.slot = L->event_start_slot;

    /* Without a trace and without multipliers a rule's state is read by no
     * other rule and by no trace: no state per rule of the rule set (an
     * order then costs the same beside 10,000 earn rules it cannot reach). */
    st = NULL;
    memset(&one, 0, sizeof one);
    one.factor = 1;
    if (tsr__tracing(ev) || !ev->rs->plan || ev->rs->plan->earn_multiply) {
        /* a few rules (the usual case): their states on the stack */
        st = L->nearn <= EARN_SMALL_RULES ? st_small
                                          : tsr__arena_calloc(ev->arena, L->nearn, sizeof *st);
        if (!st)
            return nomem(ev);
        for (r = 0; r < L->nearn; r++)
            st[r] = one;   /* zeroed, factor 1 */
        if ((rc = settle_multipliers(ev, st)) != TSR_OK)
            return rc;
    }
    if (!tsr__tracing(ev) && ev->line_kinds && ev->rs->plan->earn.start &&
        tsr__route_walk_begin(&walk, &ev->rs->plan->earn, ev->line_kinds, res->nlines)) {
        /* Without a trace: only the rules that can give one of the order's
         * lines points (plan.h), in file order; the skipped ones would
         * have found no line and said so only in the trace. */
        uint32_t k;
        while (tsr__route_walk_next(&walk, &k))
            if ((rc = earn_rule(ev, k, st, &one, &sc)) != TSR_OK)
                return rc;
    } else if (!st) {
        /* the plain loop apart: no test of st per rule */
        for (r = 0; r < L->nearn; r++)
            if ((rc = earn_one(ev, r, &one, &sc, true)) != TSR_OK)
                return rc;
    } else {
        for (r = 0; r < L->nearn; r++)
            if ((rc = earn_one(ev, r, &st[r], &sc, false)) != TSR_OK)
                return rc;
    }
    if (!st)
        return TSR_OK;

    /* The trace in file order, multipliers included. */
    for (r = 0; r < L->nearn; r++) {
        if (L->earn[r].is_multiply)
            settle_multiply_trace(ev, r, st);
        if (!tsr__tracing(ev))
            continue;
        if (!st[r].applied && st[r].why == NULL)
            return nomem(ev);
        rc = tsr__trace(ev, "earn", L->earn[r].id, st[r].applied,
                        st[r].applied ? NULL : st[r].why);
        if (rc != TSR_OK)
            return rc;
    }
    return TSR_OK;
}
