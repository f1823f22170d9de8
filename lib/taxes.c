/*
 * taxes.c — step 10 of evaluation (SPEC §4.10), for rule sets with
 * `taxes`: per line the first rate whose `for` holds, the line's tax base
 * and its tax, rounded per line (`rounding: line`) or once per rate over
 * the order and shared over the rate's lines by largest remainder
 * (`rounding: rate`).  Nothing here changes a line's total: with inclusive
 * prices the tax is part of it, with exclusive prices eval.c adds the tax
 * to what is due.
 *
 * A rule set without `taxes` pays one test for this step, and its results
 * carry no tax at all (res->line_tax stays NULL).
 */
#include "eval.h"
#include "plan.h"

#include <stdio.h>

bool tsr__tax_of(int64_t base, int64_t rate, bool included, tsr_rounding mode, int64_t *out)
{
    /* rate < 100 % with scale 10^6: the divisor stays far from overflow */
    return tsr__muldiv(base, rate, 100 * TSR_DEC_SCALE + (included ? rate : 0), mode, out);
}

/* An amount of rate t overflows, on line `line` (SIZE_MAX: the rate's sum). */
static int overflow_at(tsr_eval *ev, const tsr_tax_rate *t, size_t line)
{
    char path[40];

    tsr__err(ev->err, TSR_EEVAL, "tax rate `%s`: an amount overflows", t->id);
    if (line == SIZE_MAX)
        return tsr__eval_locate(ev, TSR_EEVAL, &t->pos, NULL);
    snprintf(path, sizeof path, "items[%zu]", line);
    return tsr__eval_locate(ev, TSR_EEVAL, &t->pos, path);
}

/* The line a rate is tried on (its index, for an error's path). */
typedef struct rate_try {
    tsr_eval *ev;
    size_t line;
} rate_try;

/* Does rate r take the current line?  A tsr_route_try (plan.h). */
static inline int try_rate(void *ctx, size_t r, const char **why, int *found)
{
    const rate_try *t = ctx;
    const tsr_taxes *tx = &t->ev->rs->taxes;
    const char *w = NULL;
    bool holds, want = why && !why[r];
    int rc;

    if ((rc = tsr__eval_test(t->ev, tx->rates[r].for_, &holds, want ? &w : NULL)) != TSR_OK) {
        char path[40];
        snprintf(path, sizeof path, "items[%zu]", t->line);
        return tsr__eval_locate(t->ev, rc, &tx->rates[r].pos, path);
    }
    if (holds)
        *found = (int)r;
    else if (want)
        why[r] = w;
    return TSR_OK;
}

/* The line's rate: the first whose `for` holds (-1 for none), visiting
 * only the rates the plan routes the line's kind to; each rate keeps the
 * first reason a line did not take it, for the trace (tsr__route_first). */
static int choose_rate(tsr_eval *ev, size_t i, const char **why, size_t *filled, int *found)
{
    rate_try t = { ev, i };
    size_t r;
    int rc;

    tsr__eval_at_line(ev, i);
    if (ev->rs->plan->rates.start)
        return tsr__route_first(&ev->rs->plan->rates, ev->line_kinds[i], ev->rs->taxes.nrates,
                                why, filled, found, try_rate, &t);
    *found = -1;
    for (r = 0; r < ev->rs->taxes.nrates && *found < 0; r++)
        if ((rc = try_rate(&t, r, why, found)) != TSR_OK)
            return rc;
    return TSR_OK;
}

/* `rounding: line`: each line's tax on its own base. */
static int round_lines(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    bool included = rs->taxes.prices == TSR_TAX_INCLUSIVE;
    tsr_result *res = ev->res;
    size_t i;

    for (i = 0; i < res->nlines; i++) {
        tsr_res_tax *lt = &res->line_tax[i];
        if (lt->rate < 0)
            continue;
        if (!tsr__tax_of(lt->base, rs->taxes.rates[lt->rate].rate, included, rs->rounding,
                         &lt->amount) ||
            !tsr__add(res->rate_tax[lt->rate].amount, lt->amount, &res->rate_tax[lt->rate].amount))
            return overflow_at(ev, &rs->taxes.rates[lt->rate], i);
    }
    return TSR_OK;
}

/* `rounding: rate`: each rate's tax once on the sum of its lines' bases,
 * shared over those lines by largest remainder weighted by base (ties to
 * the earlier line).  The lines are bucketed by rate first, in line order,
 * so the work is linear in lines plus rates. */
static int round_rates(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    const tsr_taxes *tx = &rs->taxes;
    tsr_result *res = ev->res;
    size_t n = res->nlines, i, r, *start, *idx;
    int64_t *w, *share;

    start = tsr__arena_calloc(ev->arena, tx->nrates + 1, sizeof *start);
    idx = tsr__arena_alloc(ev->arena, n * sizeof *idx);
    w = tsr__arena_alloc(ev->arena, n * sizeof *w);
    share = tsr__arena_alloc(ev->arena, n * sizeof *share);
    if (!start || !idx || !w || !share)
        return TSR_ENOMEM;
    for (r = 0; r < tx->nrates; r++)
        start[r + 1] = start[r] + res->rate_tax[r].nlines;
    for (i = 0; i < n; i++) {
        int k = res->line_tax[i].rate;
        if (k >= 0)
            idx[start[k]++] = i;
    }
    /* start[r] now ends rate r's bucket; rate r begins where r - 1 ended */
    for (r = 0; r < tx->nrates; r++) {
        tsr_rate_tax *rt = &res->rate_tax[r];
        size_t from = start[r] - rt->nlines, m;
        if (rt->nlines == 0)
            continue;
        for (m = 0; m < rt->nlines; m++)
            w[m] = res->line_tax[idx[from + m]].base;
        if (!tsr__tax_of(rt->base, tx->rates[r].rate, tx->prices == TSR_TAX_INCLUSIVE,
                         rs->rounding, &rt->amount) ||
            !tsr__allocate(rt->amount, w, rt->nlines, share))
            return overflow_at(ev, &tx->rates[r], SIZE_MAX);
        for (m = 0; m < rt->nlines; m++)
            res->line_tax[idx[from + m]].amount = share[m];
    }
    return TSR_OK;
}

int tsr__eval_taxes(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    const tsr_taxes *tx = &rs->taxes;
    tsr_result *res = ev->res;
    const char **why = NULL;
    size_t i, r, filled = 0;
    int rc;

    if (!tx->present)
        return TSR_OK;
    res->line_tax = tsr__arena_alloc(ev->arena, res->nlines * sizeof *res->line_tax);
    res->rate_tax = tsr__arena_calloc(ev->arena, tx->nrates, sizeof *res->rate_tax);
    if (!res->line_tax || !res->rate_tax)
        return TSR_ENOMEM;
    if (tsr__tracing(ev) && !(why = tsr__arena_calloc(ev->arena, tx->nrates, sizeof *why)))
        return TSR_ENOMEM;
    for (i = 0; i < res->nlines; i++) {
        const tsr_res_line *l = &res->lines[i];
        tsr_res_tax *lt = &res->line_tax[i];
        int k;
        if ((rc = choose_rate(ev, i, why, &filled, &k)) != TSR_OK)
            return rc;
        lt->rate = k;
        lt->base = 0;
        lt->amount = 0;
        if (k < 0)
            continue;
        lt->base = l->total;
        if ((tx->base == TSR_TAX_BASE_PRICE && !tsr__add(lt->base, l->redeemed_value, &lt->base)) ||
            !tsr__add(res->rate_tax[k].base, lt->base, &res->rate_tax[k].base))
            return overflow_at(ev, &tx->rates[k], i);
        res->rate_tax[k].nlines++;
    }
    ev->x.item = NULL;
    rc = tx->rounding == TSR_TAX_ROUND_RATE ? round_rates(ev) : round_lines(ev);
    for (r = 0; rc == TSR_OK && why && r < tx->nrates; r++)
        rc = tsr__trace(ev, "taxes", tx->rates[r].id, res->rate_tax[r].nlines > 0,
                        why[r] ? why[r] : "no line reached it: earlier rates took every line");
    return rc;
}
