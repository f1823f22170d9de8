/*
 * discounts.c — step 5 of evaluation (SPEC §4.5): discounts in application
 * order (ascending priority, then file order; rs->discounts is already in
 * that order), stacking sequentially on the lines' current totals.
 *
 * Each discount (or each group of discounts, at its first member's place) is
 * first evaluated into an outcome — a rounded saving per line and the lines
 * whose units it counted — without touching the lines; then the savings are
 * applied (for a group: per line only the largest), exclusive discounts
 * claim their lines, and the trace says what happened.  At the end the
 * driver learns which promo codes the discounts requiring them used (for
 * tsr__promos_settle).
 *
 * The unit-level mechanics — exact unit prices and savings on k of a line's
 * q units, bundle forming — live in discount_units.c; this file decides
 * what applies where, applies it and explains it.
 */
#include "discounts.h"
#include "plan.h"

#include <stdio.h>

/* What one discount would do, before anything is applied. */
typedef struct outcome {
    int64_t *saving;     /* per line: rounded, capped, <= the line's total */
    uint8_t *counted;    /* per line: units counted for every/bundle/min_quantity */
    bool stopped;        /* it does not apply; `why` says why */
    /* Stopped at its order-level gates (when/valid/channels/requires):
     * saving[] and counted[] were not cleared and must not be read; they
     * stand for all zeros (see evaluate, best_member, apply_members). */
    bool gated;
    const char *why;
    const char *note;    /* for the trace when it applies ("percent 150 capped at 100") */
} outcome;

/* run_simple keeps a line's eligibility and saving on the stack: orders of
 * more lines take the general path. */
#define SIMPLE_MAX_LINES 64

/* Scratch for the whole step, allocated once from the result arena. */
typedef struct step {
    tsr_eval *ev;
    size_t nlines;
    uint8_t *eligible, *reward;   /* per line, for the discount being evaluated */
    tsr_unit_run *runs;           /* nlines */
    int64_t *w, *share;           /* compact weights and their allocation */
    size_t *idx;                  /* compact -> line index */
    outcome *out;                 /* one per member of the largest group */
    size_t *members;
    uint8_t *changed;             /* per member: kept on some line */
    uint8_t *group_done;          /* per group */
    /* per entered code (an index of res->promos, so its size is the
     * order's, not the rule set's): TSR_PROMO_EFFECT_*; NULL when the
     * order has no accepted code (tsr__promos_settle then reads none) */
    uint8_t *promo_effect;
    bool claims;                  /* some discount of the rule set is exclusive */
    bool quiet;                   /* no trace */
    bool simple;                  /* no trace and at most SIMPLE_MAX_LINES lines:
                                     simple discounts take run_simple */
    bool ready;                   /* the per-line scratch above is allocated */
    /* room for two discount records per line (record_simple), NULL until a
     * simple discount first changes a line */
    tsr_line_discount *room;
    size_t nnone;                 /* slots of promo_effect at TSR_PROMO_EFFECT_NONE */
} step;

/* ---------------------------------------------------------------------
 * Small helpers.
 */
/* Why a discount whose gates hold did not apply, the general path's
 * (evaluate) and the simple one's (simple_traced) alike. */
static const char WHY_NO_LINES[] = "no eligible lines";
static const char WHY_SAVES_NOTHING[] = "saves nothing on the current totals";

static int stop(outcome *o, const char *why)
{
    o->stopped = true;
    o->why = why;
    return why ? TSR_OK : TSR_ENOMEM;   /* tsr__why returns NULL only on OOM */
}

/* An amount of d overflows, on line `line` (-1: not one line's). */
static int overflow_at(tsr_eval *ev, const tsr_discount *d, size_t line)
{
    char path[40] = "";

    if (line != SIZE_MAX)
        snprintf(path, sizeof path, "items[%zu]", line);
    tsr__err(ev->err, TSR_EEVAL, "discount `%s`: an amount overflows", d->id);
    return tsr__eval_locate(ev, TSR_EEVAL, &d->pos, path);
}

static int overflow(tsr_eval *ev, const tsr_discount *d)
{
    return overflow_at(ev, d, SIZE_MAX);
}

static const char *money_text(const tsr_eval *ev, char buf[32], int64_t v)
{
    tsr__format_fixed(buf, v, ev->rs->minor_units);
    return buf;
}

/* The saving of d's effect on k of line's units (see tsr__units_saving),
 * computed on the line's current total, or with `base: original` on its
 * subtotal (evaluate() then keeps it within the current total). */
static int unit_saving(tsr_eval *ev, const tsr_discount *d, int64_t value, size_t line,
                       int64_t k, int64_t *out)
{
    const tsr_res_line *l = &ev->res->lines[line];
    int64_t on = d->base_original ? l->subtotal : l->total;

    if (!tsr__units_saving(d->effect, value, on, l->quantity, k, ev->rs->rounding, out))
        return overflow_at(ev, d, line);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Evaluating one discount into an outcome.
 */

/* `when`, `valid`, `channels`, `requires`, in the SPEC's order. */
static int check_gates(step *st, const tsr_discount *d, outcome *o, bool *ok)
{
    const char *why;
    int rc = tsr__rule_gate(st->ev, d->when, &d->valid, d->requires, d->requires_why, ok, &why);

    if (rc != TSR_OK || *ok)
        return rc;
    return stop(o, why);
}

/* Eligible lines (`for`) and reward lines (`reward`, default the eligible
 * ones), both without the lines claimed by earlier exclusive discounts. */
static int select_lines(step *st, const tsr_discount *d, size_t *ne, size_t *nr)
{
    tsr_eval *ev = st->ev;
    size_t i;
    int rc;

    *ne = *nr = 0;
    for (i = 0; i < st->nlines; i++) {
        bool e = false, r = false;
        if (!ev->res->lines[i].claimed) {
            tsr__eval_at_line(ev, i);
            if ((rc = tsr__eval_test(ev, d->for_, &e, NULL)) != TSR_OK)
                return rc;
            r = e;
            if (d->reward && (rc = tsr__eval_test(ev, d->reward, &r, NULL)) != TSR_OK)
                return rc;
        }
        st->eligible[i] = e;
        st->reward[i] = r;
        *ne += e;
        *nr += r;
    }
    ev->x.item = NULL;
    return TSR_OK;
}

static int sum_lines(step *st, const tsr_discount *d, const uint8_t *flags, int64_t *units,
                     int64_t *total)
{
    const tsr_res_line *lines = st->ev->res->lines;
    size_t i;

    *units = *total = 0;
    for (i = 0; i < st->nlines; i++)
        if (flags[i] && (!tsr__add(*units, lines[i].quantity, units) ||
                         !tsr__add(*total, lines[i].total, total)))
            return overflow(st->ev, d);
    return TSR_OK;
}

static int check_thresholds(step *st, const tsr_discount *d, outcome *o, bool *ok)
{
    tsr_eval *ev = st->ev;
    int64_t units, total;
    char a[32], b[32];
    int rc;

    *ok = false;
    if ((rc = sum_lines(st, d, st->eligible, &units, &total)) != TSR_OK)
        return rc;
    if (d->min_quantity > 0 && units < d->min_quantity)
        return stop(o, tsr__tracing(ev) ? tsr__why(ev, "min_quantity %lld not reached: %lld",
                                              (long long)d->min_quantity, (long long)units)
                                   : "");
    if (d->has_min_total && total < d->min_total)
        return stop(o, tsr__tracing(ev) ? tsr__why(ev, "min_total %s not reached: %s",
                                              money_text(ev, a, d->min_total),
                                              money_text(ev, b, total))
                                   : "");
    *ok = true;
    return TSR_OK;
}

/* What an effect's value v comes to (effect_value). */
typedef enum value_verdict {
    VALUE_OK,
    VALUE_CAPPED,       /* a percent above 100: to be capped at 100 % */
    VALUE_MISSING,
    VALUE_OVERFLOW,
    VALUE_INEXACT,      /* an amount or price not exact in the currency */
    VALUE_NEGATIVE
} value_verdict;

/* v as the effect's value of d in rs: a percent as a decimal (scale 6, at
 * most 100 %), an amount or price in minor units.  Depends on nothing but
 * v, d and rs, so a constant is judged once at load
 * (tsr__discounts_prepare). */
static value_verdict value_judge(const tsr_ruleset *rs, const tsr_discount *d,
                                 const tsr_value *v, int64_t *out)
{
    if (v->type == TSR_T_MISSING)
        return VALUE_MISSING;
    *out = v->u.i;
    if (d->effect == TSR_EFFECT_PERCENT && v->type == TSR_T_INT &&
        !tsr__mul(v->u.i, TSR_DEC_SCALE, out))
        return VALUE_OVERFLOW;
    if (d->effect != TSR_EFFECT_PERCENT && v->type == TSR_T_DECIMAL &&
        tsr__decimal_to_money(v->u.i, rs->minor_units, out) != TSR_OK)
        return VALUE_INEXACT;
    if (*out < 0)
        return VALUE_NEGATIVE;
    /* beyond 100 % a line could only fall below zero, which it never does */
    if (d->effect == TSR_EFFECT_PERCENT && *out > 100 * TSR_DEC_SCALE)
        return VALUE_CAPPED;
    return VALUE_OK;
}

/* The effect's value, evaluated once per order (value_judge). */
static int effect_value(step *st, const tsr_discount *d, outcome *o, int64_t *out,
                        bool *ok)
{
    tsr_eval *ev = st->ev;
    bool tr = tsr__tracing(ev);
    tsr_value v;
    int rc;

    *ok = false;
    if (!d->value)
        return stop(o, "no effect to apply");
    ev->x.item = NULL;
    if (d->value->is_const)
        v = d->value->constant;
    else if ((rc = tsr__expr_eval(d->value, &ev->x, &v)) != TSR_OK)
        return rc;
    switch (value_judge(ev->rs, d, &v, out)) {
    case VALUE_MISSING:
        return stop(o, tr ? tsr__why(ev, "`%s` is missing", d->value->src) : "");
    case VALUE_OVERFLOW:
        return overflow(ev, d);
    case VALUE_INEXACT:
        return stop(o, tr ? tsr__why(ev, "`%s` is not exact in the currency", d->value->src)
                          : "");
    case VALUE_NEGATIVE:
        return stop(o, tr ? tsr__why(ev, "`%s` is negative", d->value->src) : "");
    case VALUE_OK:
        break;
    case VALUE_CAPPED:
        /* the trace says so, as it says a negative value stopped the discount */
        if (tr) {
            char pct[32];
            tsr__format_decimal(pct, *out);
            if (!(o->note = tsr__why(ev, "percent %s capped at 100", pct)))
                return TSR_ENOMEM;
        }
        *out = 100 * TSR_DEC_SCALE;
        break;
    }
    *ok = true;
    return TSR_OK;
}

/* percent / amount / price on every unit of every reward line. */
static int effect_on_lines(step *st, const tsr_discount *d, int64_t value, outcome *o)
{
    size_t i;
    int rc;

    for (i = 0; i < st->nlines; i++)
        if (st->reward[i] &&
            (rc = unit_saving(st->ev, d, value, i, st->ev->res->lines[i].quantity,
                              &o->saving[i])) != TSR_OK)
            return rc;
    return TSR_OK;
}

/* order_amount: off the reward lines together, by largest remainder
 * weighted by their current totals.  Never more than those totals, so no
 * line's share exceeds its total. */
static int effect_order_amount(step *st, const tsr_discount *d, int64_t amount,
                               outcome *o)
{
    const tsr_res_line *lines = st->ev->res->lines;
    int64_t weight = 0;
    size_t i, m = 0;

    for (i = 0; i < st->nlines; i++) {
        if (!st->reward[i])
            continue;
        st->idx[m] = i;
        st->w[m++] = lines[i].total;
        if (!tsr__add(weight, lines[i].total, &weight))
            return overflow(st->ev, d);
    }
    if (weight == 0)
        return TSR_OK;   /* nothing to take off: "saves nothing" */
    if (!tsr__allocate(amount < weight ? amount : weight, st->w, m, st->share))
        return overflow(st->ev, d);
    for (i = 0; i < m; i++)
        o->saving[st->idx[i]] = st->share[i];
    return TSR_OK;
}

/* limit.max_amount: the capped saving goes back over the lines by largest
 * remainder, weighted by their uncapped savings. */
static int apply_limit(step *st, const tsr_discount *d, outcome *o)
{
    int64_t sum = 0;
    size_t i, m = 0;

    if (!d->has_limit)
        return TSR_OK;
    for (i = 0; i < st->nlines; i++)
        if (!tsr__add(sum, o->saving[i], &sum))
            return overflow(st->ev, d);
    if (sum <= d->limit_max_amount)
        return TSR_OK;
    for (i = 0; i < st->nlines; i++)
        if (o->saving[i] > 0) {
            st->idx[m] = i;
            st->w[m++] = o->saving[i];
        }
    if (!tsr__allocate(d->limit_max_amount, st->w, m, st->share))
        return overflow(st->ev, d);
    for (i = 0; i < m; i++)
        o->saving[st->idx[i]] = st->share[i];
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * every/discounted and bundles, on top of discount_units.c.
 */

/* The flagged lines as runs, in line order. */
static size_t fill_runs(step *st, const uint8_t *flags)
{
    const tsr_res_line *lines = st->ev->res->lines;
    size_t i, n = 0;

    for (i = 0; i < st->nlines; i++)
        if (flags[i]) {
            memset(&st->runs[n], 0, sizeof st->runs[n]);
            st->runs[n].line = i;
            st->runs[n].total = lines[i].total;
            st->runs[n++].qty = lines[i].quantity;
        }
    return n;
}

/* every N / discounted M: g = min(⌊E/N⌋, ⌈R/M⌉) groups, capped by
 * max_applications; the g·N cheapest eligible units are the groups' (they
 * count, for claiming), the min(g·M, R) cheapest reward units get the
 * effect — the dearest, with `pick: most_expensive`.  The reward units that
 * get it count too: they are in a group. */
static int effect_every(step *st, const tsr_discount *d, int64_t value, outcome *o)
{
    int64_t eunits, runits, total, g, reward_groups, k;
    size_t n, i;
    int rc;

    if ((rc = sum_lines(st, d, st->eligible, &eunits, &total)) != TSR_OK ||
        (rc = sum_lines(st, d, st->reward, &runits, &total)) != TSR_OK)
        return rc;
    reward_groups = runits / d->discounted + (runits % d->discounted != 0);
    g = eunits / d->every;
    if (g > reward_groups)
        g = reward_groups;
    if (d->max_applications > 0 && g > d->max_applications)
        g = d->max_applications;
    if (g == 0)
        return stop(o, tsr__tracing(st->ev) ? tsr__why(st->ev, "every %lld not reached: %lld "
                                                  "eligible units", (long long)d->every,
                                                  (long long)eunits) : "");
    n = fill_runs(st, st->eligible);
    tsr__units_sort(st->runs, n, d->pick_dearest);
    tsr__units_take(st->runs, n, g * d->every);   /* <= eunits: no overflow */
    for (i = 0; i < n; i++)
        if (st->runs[i].take > 0)
            o->counted[st->runs[i].line] = 1;
    /* g·M only overflows when g reaches ⌈R/M⌉, and then it covers all R */
    k = g == reward_groups ? runits : g * d->discounted;
    n = fill_runs(st, st->reward);
    tsr__units_sort(st->runs, n, d->pick_dearest);
    tsr__units_take(st->runs, n, k);
    for (i = 0; i < n; i++) {
        const tsr_unit_run *r = &st->runs[i];
        if (r->take == 0)
            continue;
        o->counted[r->line] = 1;
        if ((rc = unit_saving(st->ev, d, value, r->line, r->take, &o->saving[r->line])) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

/* The eligible runs dearest first, and the positions each component matches. */
static int bundle_prepare(step *st, const tsr_discount *d, tsr_bundler *b)
{
    tsr_eval *ev = st->ev;
    size_t n = fill_runs(st, st->eligible), c, j;
    int rc;

    tsr__units_sort(st->runs, n, true);
    if ((rc = tsr__bundler_init(b, d, st->runs, n, ev->arena)) != TSR_OK)
        return rc;
    for (c = 0; c < d->nbundle; c++)
        for (j = 0; j < n; j++) {
            bool holds;
            tsr__eval_at_line(ev, st->runs[j].line);
            if ((rc = tsr__eval_test(ev, d->bundle[c].for_, &holds, NULL)) != TSR_OK)
                return rc;
            if (holds)
                b->pos[c][b->npos[c]++] = j;
        }
    ev->x.item = NULL;
    return TSR_OK;
}

/* The current value of the bundle's units per line (rounded: a line's
 * unit price may be a fraction) into st->w, lines in order, and in all. */
static int bundle_value(step *st, const tsr_discount *d, const tsr_bundler *b, int64_t *value)
{
    size_t i;

    *value = 0;
    for (i = 0; i < b->nparts; i++) {
        const tsr_unit_run *r = &b->parts[i];
        if (!tsr__muldiv(r->total, r->take, r->qty, st->ev->rs->rounding, &st->w[i]) ||
            !tsr__add(*value, st->w[i], value))
            return overflow(st->ev, d);
    }
    return TSR_OK;
}

/* Form the bundle `times` times: its saving is allocated over the lines
 * that gave units, by largest remainder weighted by their units' value. */
static int bundle_form(step *st, const tsr_discount *d, tsr_bundler *b, int64_t saving,
                       int64_t times, outcome *o)
{
    size_t i;

    if (!tsr__allocate(saving, st->w, b->nparts, st->share))
        return overflow(st->ev, d);
    for (i = 0; i < b->nparts; i++) {
        size_t line = b->parts[i].line;
        int64_t s;
        if (!tsr__mul(st->share[i], times, &s) || !tsr__add(o->saving[line], s, &o->saving[line]))
            return overflow(st->ev, d);
        o->counted[line] = 1;
    }
    tsr__bundler_commit(b, times);
    return TSR_OK;
}

/* Why no bundle formed: the first component short of units. */
static int bundle_incomplete(step *st, const tsr_discount *d, long c, int64_t found, outcome *o)
{
    const tsr_expr *e = d->bundle[c].for_;

    if (!tsr__tracing(st->ev))
        return stop(o, "");
    return stop(o, tsr__why(st->ev, "bundle incomplete: %lld of %lld `%s`", (long long)found,
                            (long long)d->bundle[c].quantity, e ? e->src : "any line"));
}

/* bundle + price.  A bundle whose units are not worth more than the bundle
 * price does not form: it would save nothing, and an exclusive bundle
 * discount should not claim lines it gave nothing.  Units go dearest first,
 * so no later bundle could save either. */
static int effect_bundle(step *st, const tsr_discount *d, int64_t price, outcome *o)
{
    tsr_bundler b;
    int64_t formed = 0, found, value, times;
    char x[32], y[32];
    long missing;
    int rc;

    if ((rc = bundle_prepare(st, d, &b)) != TSR_OK)
        return rc;
    while (d->max_applications == 0 || formed < d->max_applications) {
        if ((missing = tsr__bundler_next(&b, &found)) >= 0)
            return formed ? TSR_OK : bundle_incomplete(st, d, missing, found, o);
        if ((rc = bundle_value(st, d, &b, &value)) != TSR_OK)
            return rc;
        if (value <= price) {
            if (formed)
                return TSR_OK;
            return stop(o, tsr__tracing(st->ev)
                               ? tsr__why(st->ev, "bundle price %s is not below its units' "
                                          "current total %s", money_text(st->ev, x, price),
                                          money_text(st->ev, y, value)) : "");
        }
        times = tsr__bundler_repeats(&b, formed);
        if ((rc = bundle_form(st, d, &b, value - price, times, o)) != TSR_OK)
            return rc;
        formed += times;
    }
    return TSR_OK;
}

static bool saves_anything(const step *st, const outcome *o)
{
    size_t i;
    for (i = 0; i < st->nlines; i++)
        if (o->saving[i] > 0)
            return true;
    return false;
}

static int apply_effect(step *st, const tsr_discount *d, int64_t value, outcome *o)
{
    if (d->nbundle > 0)
        return effect_bundle(st, d, value, o);
    if (d->every > 0)
        return effect_every(st, d, value, o);
    if (d->effect == TSR_EFFECT_ORDER_AMOUNT)
        return effect_order_amount(st, d, value, o);
    return effect_on_lines(st, d, value, o);
}

/* Everything a discount would do on the current totals, applied nowhere. */
static int evaluate(step *st, const tsr_discount *d, outcome *o)
{
    size_t ne, nr, i;
    int64_t value;
    bool ok;
    int rc;

    o->stopped = false;
    o->gated = false;
    o->why = NULL;
    o->note = NULL;
    /* The gates read no per-line scratch: check them before clearing it, so
     * that a discount that does not apply to this order (most of them)
     * costs no memsets; its outcome is marked `gated` (all zeros). */
    if ((rc = check_gates(st, d, o, &ok)) != TSR_OK)
        return rc;
    if (!ok) {
        o->gated = true;
        return TSR_OK;
    }
    memset(o->saving, 0, st->nlines * sizeof *o->saving);
    memset(o->counted, 0, st->nlines);
    if ((rc = select_lines(st, d, &ne, &nr)) != TSR_OK)
        return rc;
    if (ne == 0)
        return stop(o, WHY_NO_LINES);
    if ((rc = check_thresholds(st, d, o, &ok)) != TSR_OK || !ok)
        return rc;
    if (nr == 0 && d->nbundle == 0)
        return stop(o, "no reward lines");
    if ((rc = effect_value(st, d, o, &value, &ok)) != TSR_OK || !ok)
        return rc;
    if ((rc = apply_effect(st, d, value, o)) != TSR_OK || o->stopped)
        return rc;
    /* a line total never goes below zero, whatever the rounding of parts */
    for (i = 0; i < st->nlines; i++)
        if (o->saving[i] > st->ev->res->lines[i].total)
            o->saving[i] = st->ev->res->lines[i].total;
    /* min_quantity counted every eligible unit (claims even without a saving) */
    for (i = 0; d->min_quantity > 0 && i < st->nlines; i++)
        o->counted[i] |= st->eligible[i];
    if ((rc = apply_limit(st, d, o)) != TSR_OK)
        return rc;
    if (!saves_anything(st, o))
        return stop(o, WHY_SAVES_NOTHING);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Applying outcomes.
 */

/* tsr__eval_sync_line for a discount, which changes a line's total alone:
 * the record's item.price and item.subtotal have been in step since the
 * categories step set them, and item.total already holds a money value. */
static inline void sync_total(tsr_eval *ev, size_t line, int64_t total)
{
    ev->recs[line * ev->stride + TSR_ITEM_TOTAL].u.i = total;
    ev->x.lines_gen++;
}

/* Record d's saving `amount` on line `line`, l (= &ev->res->lines[line]). */
static inline int record_on(tsr_eval *ev, tsr_res_line *l, size_t line, size_t di,
                            int64_t amount)
{
    if (l->ndiscounts == l->discounts_cap) {
        void *p = l->discounts;
        if (tsr__arena_grow(ev->arena, &p, &l->discounts_cap, l->ndiscounts,
                            sizeof *l->discounts, 2) != TSR_OK)
            return TSR_ENOMEM;
        l->discounts = p;
    }
    if (!tsr__add(l->discount, amount, &l->discount))
        return overflow_at(ev, &ev->rs->discounts[di], line);
    l->discounts[l->ndiscounts].discount = (int)di;
    l->discounts[l->ndiscounts++].amount = amount;
    l->total -= amount;   /* amount <= total: never below zero */
    sync_total(ev, line, l->total);
    return TSR_OK;
}

static inline int record(tsr_eval *ev, size_t line, size_t di, int64_t amount)
{
    return record_on(ev, &ev->res->lines[line], line, di, amount);
}

/* Of the members that save on line i, the one kept: the largest saving,
 * ties to the earlier discount in the file.  -1 when none saves. */
static long best_member(const step *st, const size_t *members, size_t k, size_t i)
{
    const tsr_discount *ds = st->ev->rs->discounts;
    long best = -1;
    size_t m;

    for (m = 0; m < k; m++) {
        int64_t s;
        if (st->out[m].gated)
            continue;   /* saves nothing anywhere (its saving[] is not cleared) */
        s = st->out[m].saving[i];
        if (s <= 0)
            continue;
        if (best < 0 || s > st->out[best].saving[i] ||
            (s == st->out[best].saving[i] &&
             ds[members[m]].file_index < ds[members[best]].file_index))
            best = (long)m;
    }
    return best;
}

/* Apply the kept savings line by line, then let exclusive members claim
 * the lines they changed or counted. */
static int apply_members(step *st, const size_t *members, size_t k)
{
    tsr_eval *ev = st->ev;
    const tsr_discount *ds = ev->rs->discounts;
    size_t i, m;
    int rc;

    for (m = 0; m < k; m++)
        st->changed[m] = 0;
    /* every member stopped at its gates: no saving and no claim on any line */
    for (m = 0; m < k && st->out[m].gated; m++)
        ;
    if (m == k)
        return TSR_OK;
    for (i = 0; i < st->nlines; i++) {
        /* one member (no group): it is not gated (see above) */
        long best = k == 1 ? (st->out[0].saving[i] > 0 ? 0 : -1)
                           : best_member(st, members, k, i);
        if (best >= 0) {
            if ((rc = record(ev, i, members[best], st->out[best].saving[i])) != TSR_OK)
                return rc;
            st->changed[best] = 1;
        }
        for (m = 0; st->claims && m < k; m++)
            if (ds[members[m]].exclusive && !st->out[m].gated &&
                ((long)m == best || st->out[m].counted[i]))
                ev->res->lines[i].claimed = true;
    }
    return TSR_OK;
}

/* Room for two discount records per line (record_simple) and the effect
 * per promo code (effect_slot), zeroed, in one block allocated when either
 * is first needed (with a trace or without). */
static inline int quiet_block(step *st)
{
    tsr_eval *ev = st->ev;
    static const unsigned char zeros[16];
    size_t room = 2 * st->nlines * sizeof *st->room, n = ev->res->npromos + 1;
    unsigned char *b;

    if (st->room)
        return TSR_OK;
    /* a few codes (the usual case): the effects zeroed in one 16-byte
     * store, without a call */
    if (n < sizeof zeros)
        n = sizeof zeros;
    if (st->nlines > SIZE_MAX / (4 * sizeof *st->room) || n > SIZE_MAX / 2 - room ||
        !(b = tsr__arena_bump(ev->arena, room + n)))
        return TSR_ENOMEM;
    if (n == sizeof zeros)
        memcpy(b + room, zeros, sizeof zeros);
    else
        memset(b + room, 0, n);
    st->room = (tsr_line_discount *)(void *)b;
    if (!st->promo_effect)
        st->promo_effect = b + room;
    return TSR_OK;
}

/* The effect slot of promo code rule p, which the order has accepted: that
 * of the entry that was accepted (a rule is accepted once an order), in
 * the per-entry array allocated when it is first needed.  Only accepted
 * codes are ever settled (tsr__promos_settle reads none when it stays
 * NULL). */
static int effect_slot(step *st, int p, uint8_t **slot)
{
    const tsr_result *r = st->ev->res;
    size_t i;

    if (!st->promo_effect && quiet_block(st) != TSR_OK)
        return TSR_ENOMEM;
    for (i = 0; i < r->npromos; i++)
        if (r->promos[i].promo == p && r->promos[i].status == TSR_PROMO_ACCEPTED)
            break;
    /* i == npromos (the code was not accepted; callers ask only for
     * accepted ones) lands on the spare slot at the end, read by nobody */
    *slot = &st->promo_effect[i];
    return TSR_OK;
}

/* note_effect for a discount that requires an accepted code. */
static int note_code_effect(step *st, const tsr_discount *d, bool changed)
{
    uint8_t *e;

    if (effect_slot(st, d->requires, &e) != TSR_OK)
        return TSR_ENOMEM;
    if (*e == TSR_PROMO_EFFECT_SOME)
        return TSR_OK;
    /* count the slots at NONE: only those are settled */
    if (changed)
        st->nnone -= *e == TSR_PROMO_EFFECT_NONE;
    else
        st->nnone += *e == TSR_PROMO_EFFECT_UNUSED;
    *e = changed ? TSR_PROMO_EFFECT_SOME : TSR_PROMO_EFFECT_NONE;
    return TSR_OK;
}

/* What d did for the code it requires: SOME once a requiring discount
 * changed a line, else NONE.  Only for an accepted code: the others are
 * not settled.  Inline: most discounts require no code, or one the order
 * did not enter, and return at once. */
static inline int note_effect(step *st, const tsr_discount *d, bool changed)
{
    if (d->requires < 0 || !st->ev->res->promo_accepted[d->requires])
        return TSR_OK;
    return note_code_effect(st, d, changed);
}

/* d applied: its trace entry, with the note of a capped percent (or none). */
static int trace_applied(tsr_eval *ev, const tsr_discount *d, const char *note)
{
    int rc = tsr__trace(ev, "discounts", d->id, true, NULL);

    if (rc == TSR_OK)
        ev->res->trace[ev->res->ntrace - 1].note = note;
    return rc;
}

static int trace_member(step *st, size_t di, size_t m)
{
    tsr_eval *ev = st->ev;
    const tsr_discount *d = &ev->rs->discounts[di];
    const outcome *o = &st->out[m];
    const char *why;

    if (note_effect(st, d, st->changed[m]) != TSR_OK)
        return TSR_ENOMEM;
    if (!tsr__tracing(ev))
        return TSR_OK;
    if (st->changed[m])
        return trace_applied(ev, d, o->note);
    if (o->stopped)
        why = o->why;
    else
        why = tsr__why(ev, "group `%s`: another member saved more on every line", d->group);
    if (!why)
        return TSR_ENOMEM;
    return tsr__trace(ev, "discounts", d->id, false, why);
}

/* One discount, or a whole group at its first member's place: all members
 * see the same current totals and the same claimed lines. */
static int run_members(step *st, const size_t *members, size_t k)
{
    size_t m;
    int rc;

    for (m = 0; m < k; m++) {
        const tsr_discount *d = &st->ev->rs->discounts[members[m]];
        if ((rc = evaluate(st, d, &st->out[m])) != TSR_OK)
            return tsr__eval_locate(st->ev, rc, &d->pos, NULL);
    }
    if ((rc = apply_members(st, members, k)) != TSR_OK)
        return rc;
    for (m = 0; m < k; m++)
        if ((rc = trace_member(st, members[m], m)) != TSR_OK)
            return rc;
    return TSR_OK;
}

/* The members of discount `first`'s group, in application order. */
static size_t gather_group(const step *st, size_t first, size_t *members)
{
    const tsr_ruleset *rs = st->ev->rs;
    int g = rs->discounts[first].group_index;
    size_t i, k = 0;

    for (i = first; i < rs->ndiscounts; i++)
        if (rs->discounts[i].group_index == g)
            members[k++] = i;
    return k;
}

/* The largest group (at least 1), to size the outcomes. */
static int largest_group(tsr_eval *ev, size_t *out)
{
    const tsr_ruleset *rs = ev->rs;
    size_t *count, i, best = 1;

    if (rs->ngroups == 0) {
        *out = 1;
        return TSR_OK;
    }
    count = tsr__arena_calloc(ev->arena, rs->ngroups, sizeof *count);
    if (!count)
        return TSR_ENOMEM;
    for (i = 0; i < rs->ndiscounts; i++) {
        int g = rs->discounts[i].group_index;
        if (g >= 0 && (size_t)g < rs->ngroups && ++count[g] > best)
            best = count[g];
    }
    *out = best;
    return TSR_OK;
}

/* Reserve `count` items of `size` bytes at *off in the step's scratch block,
 * 8-byte aligned (as the arena aligns); false on overflow. */
static bool carve(size_t *off, size_t count, size_t size, size_t *at)
{
    size_t n, start = (*off + 7u) & ~(size_t)7u;

    if (start < *off || (size && count > SIZE_MAX / size))
        return false;
    n = count * size;
    if (n > SIZE_MAX - start)
        return false;
    *at = start;
    *off = start + n;
    return true;
}

/* The per-line scratch of the general path, sized by the line count once
 * and allocated when a discount that is not simple first needs it.  It is
 * one zeroed block from the arena rather than a dozen arena_calloc calls:
 * the calls would cost more than the work. */
static int scratch(step *st)
{
    tsr_eval *ev = st->ev;
    size_t n = st->nlines, k, m, off = 0;
    size_t o_elig, o_rew, o_runs, o_w, o_share, o_idx, o_out, o_members, o_changed, o_gdone,
        o_saving, o_counted;
    unsigned char *base;
    int rc;

    if (st->ready)
        return TSR_OK;
    if ((rc = largest_group(ev, &k)) != TSR_OK)
        return rc;
    /* the per-member savings and counts are k arrays laid end to end */
    if (k > SIZE_MAX / (n ? n : 1) ||
        !carve(&off, n, sizeof *st->runs, &o_runs) || !carve(&off, n, sizeof *st->w, &o_w) ||
        !carve(&off, n, sizeof *st->share, &o_share) || !carve(&off, n, sizeof *st->idx, &o_idx) ||
        !carve(&off, k, sizeof *st->out, &o_out) ||
        !carve(&off, k, sizeof *st->members, &o_members) ||
        !carve(&off, k * n, sizeof *st->out[0].saving, &o_saving) ||
        !carve(&off, n, 1, &o_elig) || !carve(&off, n, 1, &o_rew) ||
        !carve(&off, k, 1, &o_changed) || !carve(&off, ev->rs->ngroups + 1, 1, &o_gdone) ||
        !carve(&off, k * n, 1, &o_counted))
        return TSR_ENOMEM;
    base = tsr__arena_calloc(ev->arena, off, 1);
    if (!base)
        return TSR_ENOMEM;
    st->eligible = base + o_elig;
    st->reward = base + o_rew;
    st->runs = (tsr_unit_run *)(void *)(base + o_runs);
    st->w = (int64_t *)(void *)(base + o_w);
    st->share = (int64_t *)(void *)(base + o_share);
    st->idx = (size_t *)(void *)(base + o_idx);
    st->out = (outcome *)(void *)(base + o_out);
    st->members = (size_t *)(void *)(base + o_members);
    st->changed = base + o_changed;
    st->group_done = base + o_gdone;
    for (m = 0; m < k; m++) {
        st->out[m].saving = (int64_t *)(void *)(base + o_saving) + m * n;
        st->out[m].counted = base + o_counted + m * n;
    }
    st->ready = true;
    return TSR_OK;
}

/* The step's fields, no scratch yet (setup); quiet: no trace. */
static inline void step_init(tsr_eval *ev, step *st, bool quiet)
{
    /* the scratch pointers are set by scratch(), before anything reads them */
    st->ready = false;
    st->room = NULL;
    st->promo_effect = NULL;
    st->nnone = 0;
    st->ev = ev;
    st->nlines = ev->res->nlines;
    /* no exclusive discount (decided at load): no line is ever claimed */
    st->claims = !ev->rs->plan || ev->rs->plan->any_exclusive;
    st->quiet = quiet;
    st->simple = st->nlines <= SIMPLE_MAX_LINES;
}

/* The step's state.  The general path's scratch is allocated when a
 * discount that is not simple first needs it (run_discount), the effect
 * per promo code when a discount first requires an accepted code
 * (effect_slot), with a trace or without. */
static int setup(tsr_eval *ev, step *st)
{
    step_init(ev, st, !tsr__tracing(ev));
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Simple discounts without a trace.
 */

/* The memo's column for condition e (its answer for line i at [i *
 * ev->rs->nmemo]: 0 not known, 1 false, 2 true; see tsr__expr_memo_get),
 * NULL when e has none.  A known answer costs no step either way. */
static const uint8_t *memo_column(const tsr_eval *ev, const tsr_expr *e)
{
    return e && e->memo && ev->memo ? ev->memo + (e->memo - 1) : NULL;
}

/* Can SIMPLE_MAX_LINES values like v be added without overflow? */
static inline bool within_sum(int64_t v)
{
    return v <= INT64_MAX / SIMPLE_MAX_LINES && v >= -(INT64_MAX / SIMPLE_MAX_LINES);
}

/* The lines a simple discount changes: at[j] for j < n, with its saving. */
typedef struct simple_lines {
    uint8_t at[SIMPLE_MAX_LINES];
    int64_t saving[SIMPLE_MAX_LINES];
    size_t n;
} simple_lines;

/* simple_outcome for a percent with a constant value, in one pass over
 * the lines, when it cannot fail: the memo answers the `for` on every
 * unclaimed line (no step, no error), each eligible line's units and total
 * are within ±INT64_MAX / SIMPLE_MAX_LINES (their sums cannot overflow),
 * and each saving is the inline percent (tsr__percent_all_fits).  False,
 * having changed nothing but *sl, when one of these does not hold:
 * simple_outcome then takes the steps one by one. */
static inline __attribute__((always_inline)) bool
percent_pass_in(step *st, const tsr_discount *d, const uint8_t *memo, simple_lines *sl, bool *ok,
                tsr_rounding mode)
{
    const tsr_res_line *l = st->ev->res->lines;
    const size_t nmemo = st->ev->rs->nmemo;
    const int64_t value = d->quiet_value;
    size_t i, n = 0;

    for (i = 0; i < st->nlines; i++, l++, memo += nmemo) {
        int64_t s;
        if (*memo != 2) {
            if (*memo == 0 && !l->claimed)
                return false;   /* not known: the `for` must be evaluated */
            continue;
        }
        if (l->claimed)
            continue;
        /* tsr__percent_all_fits (the value, judged at load, is a percent
         * of 0 .. 100) and within_sum, which it implies for the total */
        if (l->quantity <= 0 || l->quantity > INT64_MAX / SIMPLE_MAX_LINES || l->total < 0 ||
            l->total > INT64_MAX / (100 * TSR_DEC_SCALE))
            return false;
        s = tsr__percent_all(l->total, value, mode);
        if (s > l->total)
            s = l->total;   /* a line total never goes below zero */
        /* only the lines it saves on: run_simple records no other */
        sl->at[n] = (uint8_t)i;
        sl->saving[n] = s;
        n += s > 0;
    }
    sl->n = n;
    *ok = n > 0;
    return true;
}

/* percent_pass_in with the rule set's rounding known in each copy: no
 * switch per line. */
static inline __attribute__((always_inline)) bool
simple_percent_pass(step *st, const tsr_discount *d, const uint8_t *memo, simple_lines *sl,
                    bool *ok)
{
    switch (st->ev->rs->rounding) {
    case TSR_ROUND_HALF_UP:
        return percent_pass_in(st, d, memo, sl, ok, TSR_ROUND_HALF_UP);
    case TSR_ROUND_HALF_EVEN:
        return percent_pass_in(st, d, memo, sl, ok, TSR_ROUND_HALF_EVEN);
    default:
        return percent_pass_in(st, d, memo, sl, ok, st->ev->rs->rounding);
    }
}

/* Up to the saving of each line: what evaluate() does for a simple
 * discount past its gates, in the same order (`for` on every unclaimed line;
 * the eligible units and totals; the effect's value; the savings), so the
 * same conditions are evaluated and the same error comes first.  *ok:
 * there is a saving to apply. */
static int simple_outcome(step *st, const tsr_discount *d, simple_lines *sl, bool *ok,
                          outcome *o)
{
    tsr_eval *ev = st->ev;
    const tsr_res_line *lines = ev->res->lines;
    const size_t nmemo = ev->rs->nmemo;
    const uint8_t *memo;
    int64_t units = 0, total = 0, value;
    bool over = false, any = false, pct, e;
    size_t i, j;
    int rc;

    *ok = false;
    memo = memo_column(ev, d->for_);
    sl->n = 0;
    for (i = 0; i < st->nlines; i++) {
        unsigned m;
        if (lines[i].claimed)
            continue;
        if (memo && (m = memo[i * nmemo]) != 0) {
            e = m == 2;
        } else {
            tsr__eval_at_line(ev, i);
            if ((rc = tsr__eval_test(ev, d->for_, &e, NULL)) != TSR_OK)
                return rc;
        }
        if (e)
            sl->at[sl->n++] = (uint8_t)i;
    }
    ev->x.item = NULL;
    if (sl->n == 0)
        return TSR_OK;   /* no eligible lines */
    /* the eligible units and totals must add up: they do when each is
     * within ±INT64_MAX / SIMPLE_MAX_LINES (one line always does); else
     * check */
    for (j = 0; sl->n > 1 && j < sl->n; j++)
        over |= !within_sum(lines[sl->at[j]].quantity) || !within_sum(lines[sl->at[j]].total);
    for (j = 0; over && j < sl->n; j++)
        if (!tsr__add(units, lines[sl->at[j]].quantity, &units) ||
            !tsr__add(total, lines[sl->at[j]].total, &total))
            return overflow(ev, d);
    /* with a trace, a capped percent takes effect_value for its note */
    if (d->has_quiet_value &&
        !(d->quiet_value == 100 * TSR_DEC_SCALE && tsr__tracing(ev))) {
        value = d->quiet_value;
    } else if ((rc = effect_value(st, d, o, &value, &e)) != TSR_OK || !e) {
        return rc;
    }
    /* the percent on all units inline, when the line's figures allow */
    pct = d->effect == TSR_EFFECT_PERCENT && !d->base_original &&
          tsr__percent_all_fits(0, 1, value);
    for (j = 0; j < sl->n; j++) {
        const tsr_res_line *l = &lines[sl->at[j]];
        int64_t *s = &sl->saving[j];
        if (pct && tsr__percent_all_fits(l->total, l->quantity, value))
            *s = tsr__percent_all(l->total, value, ev->rs->rounding);
        else if ((rc = unit_saving(ev, d, value, sl->at[j], l->quantity, s)) != TSR_OK)
            return rc;
        /* a line total never goes below zero */
        if (*s > l->total)
            *s = l->total;
        any |= *s > 0;
    }
    *ok = any;   /* else it saves nothing on the current totals */
    return TSR_OK;
}

/* Record the savings of a simple discount (run_simple): each line
 * without discount records yet gets its room for two from one block for
 * all lines, allocated before the first record (one allocation per
 * evaluation instead of one per line a discount changes; record() grows a
 * line's array from there as it always does).  Lines saving nothing are
 * skipped. */
static inline __attribute__((always_inline)) int
record_simple(step *st, size_t di, const simple_lines *sl)
{
    tsr_eval *ev = st->ev;
    tsr_res_line *lines = ev->res->lines;
    size_t j;
    int rc;

    if (!st->room && quiet_block(st) != TSR_OK)
        return TSR_ENOMEM;
    for (j = 0; j < sl->n; j++) {
        size_t i = sl->at[j];
        tsr_res_line *l = &lines[i];
        if (sl->saving[j] <= 0)
            continue;
        if (l->discounts_cap == 0) {
            l->discounts = st->room + 2 * i;
            l->discounts_cap = 2;
        }
        if ((rc = record_on(ev, l, i, di, sl->saving[j])) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

/* A simple discount (tsr_discount.simple) that passed its gates, without
 * a trace: the answer of run_members for it, without the per-line
 * scratch. */
static int run_simple(step *st, size_t di)
{
    const tsr_discount *d = &st->ev->rs->discounts[di];
    const uint8_t *memo;
    simple_lines sl;
    outcome o;
    bool ok;
    int rc;

    /* the one pass when it answers, else the steps one by one */
    if (!(d->quiet_percent && (memo = memo_column(st->ev, d->for_)) != NULL &&
          simple_percent_pass(st, d, memo, &sl, &ok)) &&
        (rc = simple_outcome(st, d, &sl, &ok, &o)) != TSR_OK)
        return tsr__eval_locate(st->ev, rc, &d->pos, NULL);
    if (ok && (rc = record_simple(st, di, &sl)) != TSR_OK)
        return rc;
    return note_effect(st, d, ok);
}

/* A simple discount with a trace: what run_members does for it and the
 * trace entry trace_member writes (applied, with the note of a capped
 * percent; or the why of the gate or step that stopped it), without the
 * per-line scratch. */
static int simple_traced(step *st, size_t di)
{
    tsr_eval *ev = st->ev;
    const tsr_discount *d = &ev->rs->discounts[di];
    simple_lines sl;
    outcome o;
    const char *why;
    bool ok;
    int rc;

    rc = tsr__rule_gate(ev, d->when, &d->valid, d->requires, d->requires_why, &ok, &why);
    if (rc != TSR_OK)
        return tsr__eval_locate(ev, rc, &d->pos, NULL);
    if (ok) {
        const uint8_t *memo;
        o.stopped = false;
        o.note = NULL;
        /* the one pass when it answers and saves (it tells no eligible
         * line from no saving, nor a capped percent: simple_outcome does,
         * at no step, the memo having answered every line) */
        if (!(d->quiet_percent && d->quiet_value < 100 * TSR_DEC_SCALE &&
              (memo = memo_column(ev, d->for_)) != NULL &&
              simple_percent_pass(st, d, memo, &sl, &ok) && ok) &&
            (rc = simple_outcome(st, d, &sl, &ok, &o)) != TSR_OK)
            return tsr__eval_locate(ev, rc, &d->pos, NULL);
        if (ok) {
            if ((rc = record_simple(st, di, &sl)) != TSR_OK ||
                (rc = note_effect(st, d, true)) != TSR_OK)
                return rc;
            return trace_applied(ev, d, o.note);
        }
        why = o.stopped ? o.why
              : sl.n == 0 ? WHY_NO_LINES
                          : WHY_SAVES_NOTHING;
    }
    if (note_effect(st, d, false) != TSR_OK)
        return TSR_ENOMEM;
    return tsr__trace(ev, "discounts", d->id, false, why);
}

/* How simple_gate reads d's gates (tsr_discount.quiet_gate). */
static void quiet_gate_prepare(tsr_discount *d)
{
    const tsr_expr *w = d->when;

    d->quiet_gate = TSR_QGATE_ANY;
    if (d->valid.any)
        return;
    if (!w) {
        d->quiet_gate = TSR_QGATE_OPEN;
    } else if (w->nfast == 1 && !w->memo &&
               (w->fast->kind == TSR_FAST_SEGMENT || w->fast->kind == TSR_FAST_PROMO)) {
        d->quiet_gate = w->fast->kind == TSR_FAST_SEGMENT ? TSR_QGATE_SEGMENT : TSR_QGATE_PROMO;
        d->quiet_gate_slot = w->fast->slot;
        d->quiet_gate_cost = w->cost;
    }
}

void tsr__discounts_prepare(tsr_ruleset *rs)
{
    size_t i;

    for (i = 0; i < rs->ndiscounts; i++) {
        tsr_discount *d = &rs->discounts[i];
        value_verdict v = VALUE_MISSING;

        if (d->value && d->value->is_const)
            v = value_judge(rs, d, &d->value->constant, &d->quiet_value);
        /* a constant's verdict is the same on every order; capped, only
         * the trace (which run_simple never writes) would note it */
        if (v == VALUE_CAPPED)
            d->quiet_value = 100 * TSR_DEC_SCALE;
        d->has_quiet_value = v == VALUE_OK || v == VALUE_CAPPED;
        d->simple = d->group_index < 0 && !d->exclusive && !d->has_limit && d->every == 0 &&
                    d->nbundle == 0 && !d->reward && d->min_quantity == 0 &&
                    !d->has_min_total && d->value != NULL &&
                    (d->effect == TSR_EFFECT_PERCENT || d->effect == TSR_EFFECT_AMOUNT ||
                     d->effect == TSR_EFFECT_PRICE);
        d->quiet_percent = d->simple && d->has_quiet_value && d->effect == TSR_EFFECT_PERCENT &&
                           !d->base_original;
        quiet_gate_prepare(d);
    }
    rs->discounts_simple = true;
    for (i = 0; i < rs->ndiscounts; i++)
        rs->discounts_simple &= rs->discounts[i].simple;
}

/* ---------------------------------------------------------------------
 * The step.
 */

/* A simple discount's gates without a trace: tsr__rule_gate_quiet, with
 * the shape of its `when` and `valid` read once at load.  Its callers have
 * left no line in scope (ev->x.item NULL), as tsr__rule_gate_quiet would. */
static inline int simple_gate(tsr_eval *ev, const tsr_discount *d, bool *ok)
{
    if (d->quiet_gate == TSR_QGATE_OPEN) {
        *ok = d->requires < 0 || ev->res->promo_accepted[d->requires];
        return TSR_OK;
    }
    /* tsr__when_inline's one flag: the same steps; a budget about to run
     * out takes the condition's own evaluation, which reports it */
    if (d->quiet_gate != TSR_QGATE_ANY && ev->x.steps_left >= (int64_t)d->quiet_gate_cost) {
        const uint8_t *flags = d->quiet_gate == TSR_QGATE_SEGMENT ? ev->x.segments
                                                              : ev->x.promo_accepted;
        ev->x.steps_left -= d->quiet_gate_cost;
        *ok = flags && flags[d->quiet_gate_slot] &&
              (d->requires < 0 || ev->res->promo_accepted[d->requires]);
        return TSR_OK;
    }
    return tsr__rule_gate_quiet(ev, d->when, &d->valid, d->requires, ok);
}

/* Simple discount i without a trace: its gates, then run_simple. */
static inline int simple_discount(step *st, size_t i)
{
    const tsr_discount *d = &st->ev->rs->discounts[i];
    bool ok;
    int rc;

    if ((rc = simple_gate(st->ev, d, &ok)) != TSR_OK)
        return tsr__eval_locate(st->ev, rc, &d->pos, NULL);
    if (ok)
        return run_simple(st, i);
    return note_effect(st, d, false);   /* stopped at its gates: changed nothing */
}

/* Discount i, or its whole group at the group's first member. */
static int run_discount(step *st, size_t i)
{
    const tsr_discount *d = &st->ev->rs->discounts[i];
    int g;
    size_t k = 1;
    int rc;

    if (st->simple && d->simple) {
        if (!st->quiet)
            return simple_traced(st, i);
        st->ev->x.item = NULL;   /* for simple_gate */
        return simple_discount(st, i);
    }
    if ((rc = scratch(st)) != TSR_OK)
        return rc;
    st->members[0] = i;
    g = d->group_index;
    if (g >= 0) {
        if (st->group_done[g])
            return TSR_OK;   /* evaluated at the group's first member */
        st->group_done[g] = 1;
        k = gather_group(st, i, st->members);
    }
    return run_members(st, st->members, k);
}

/* Without a trace: only the discounts that can change one of the order's
 * lines (plan.h), in application order: the general list merged with the
 * lists of the order's kinds.  The skipped ones would each have found no
 * eligible line and said so only in the trace; of what they do besides,
 * only the codes they require remain (required, so `no_effect` unless
 * another discount used them). */
static int run_routed(step *st, tsr_route_walk *w)
{
    const tsr_plan *plan = st->ev->rs->plan;
    uint32_t d;
    size_t j;
    int rc;

    while (tsr__route_walk_next(w, &d))
        if ((rc = run_discount(st, d)) != TSR_OK)
            return rc;
    for (j = 0; j < plan->nrequired_promos; j++) {
        uint32_t p = plan->required_promos[j];
        uint8_t *e;
        if (!st->ev->res->promo_accepted[p])
            continue;   /* not settled */
        if (effect_slot(st, (int)p, &e) != TSR_OK)
            return TSR_ENOMEM;
        if (*e == TSR_PROMO_EFFECT_UNUSED) {
            *e = TSR_PROMO_EFFECT_NONE;
            st->nnone++;
        }
    }
    return TSR_OK;
}

/* The step without a trace for an order of at most SIMPLE_MAX_LINES lines
 * when every discount is simple and none is routed (the loop of
 * tsr__eval_discounts for this case, in a frame of its own: each
 * discount's gates, then run_simple). */
static int run_all_simple(tsr_eval *ev, const uint8_t **effect)
{
    const tsr_ruleset *rs = ev->rs;
    step st;
    size_t i, n;
    int rc;

    /* quiet and simple: run_simple reads only these fields (no scratch,
     * no claims of its own) */
    st.ev = ev;
    st.nlines = ev->res->nlines;
    st.room = NULL;
    st.promo_effect = NULL;
    st.nnone = 0;
    /* no line in scope for simple_gate, nor after the step: run_simple
     * clears it again after a line's `for` */
    ev->x.item = NULL;
    for (i = 0, n = rs->ndiscounts; i < n; i++)
        if ((rc = simple_discount(&st, i)) != TSR_OK)
            return rc;
    *effect = st.nnone ? st.promo_effect : NULL;
    return TSR_OK;
}

/* The step on the general path (setup's state, groups, routes, a trace). */
__attribute__((noinline))   /* its frame only when the step takes it */
static int run_general(tsr_eval *ev, const uint8_t **effect)
{
    const tsr_ruleset *rs = ev->rs;
    tsr_route_walk w;
    size_t i;
    step st;
    int rc;

    if ((rc = setup(ev, &st)) != TSR_OK)
        return rc;
    if (st.quiet && ev->line_kinds && rs->plan->discounts.start &&
        tsr__route_walk_begin(&w, &rs->plan->discounts, ev->line_kinds, ev->res->nlines)) {
        if ((rc = run_routed(&st, &w)) != TSR_OK)
            return rc;
    } else {
        for (i = 0; i < rs->ndiscounts; i++)
            if ((rc = run_discount(&st, i)) != TSR_OK)
                return rc;
    }
    ev->x.item = NULL;
    /* no code left without effect: settling has nothing to do */
    *effect = st.nnone ? st.promo_effect : NULL;
    return TSR_OK;
}

int tsr__eval_discounts(tsr_eval *ev, const uint8_t **effect)
{
    const tsr_ruleset *rs = ev->rs;

    if (rs->discounts_simple && !tsr__tracing(ev) && ev->res->nlines <= SIMPLE_MAX_LINES &&
        !(ev->line_kinds && rs->plan->discounts.start))
        return run_all_simple(ev, effect);
    return run_general(ev, effect);
}
