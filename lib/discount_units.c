/*
 * discount_units.c — the unit-level mechanics of step 5 (SPEC §4.5), for
 * discounts.c: ordering units by their current unit price, the exact saving
 * of an effect on k of a line's q units, and forming bundles.
 *
 * Units are never materialised (a quantity may be any int64): a line is one
 * run of q units at the unit price total/q, a fraction in general once an
 * order_amount or a bundle has been allocated to it.  Prices are compared
 * and savings computed on that exact fraction; only the final saving is
 * rounded.  Nothing here knows about the trace or the evaluation state.
 */
#include "discounts.h"

#include <stdlib.h>

/* ---------------------------------------------------------------------
 * Exact savings.
 */

/* round(total · k/q · pct / (100·10^6)) exactly, where total·k·pct may need
 * ~150 bits: split it as x + r/q = total·k/q, then x·pct/S = q2 + r2/S and
 * r·pct/q = q3 + r3/q, so the result is q2 + (r2 + q3 + r3/q) / S. */
static bool percent_of_units(int64_t total, int64_t q, int64_t k, int64_t pct,
                             tsr_rounding mode, int64_t *out)
{
    const int64_t s = 100 * TSR_DEC_SCALE;
    int64_t x, r, q2, r2, q3, r3, t;

    if (k == q && total >= 0 && q > 0) {
        /* every unit (the common case): x = total, r = 0, so q3 = r3 = 0 */
        if (tsr__percent_all_fits(total, q, pct)) {
            *out = tsr__percent_all(total, pct, mode);
            return true;
        }
        if (!tsr__muldiv_floor_rem(total, pct, s, &q2, &r2))
            return false;
        q3 = r3 = 0;
    } else if (!tsr__muldiv_floor_rem(total, k, q, &x, &r) ||
               !tsr__muldiv_floor_rem(x, pct, s, &q2, &r2) ||
               !tsr__muldiv_floor_rem(r, pct, q, &q3, &r3)) {
        return false;
    }
    t = r2 + q3;   /* r2 < s, q3 < pct <= s */
    if (t >= s) {
        q2++;
        t -= s;
    }
    if (tsr__round_up(mode, q2, tsr__against_half(t, r3, q, s)))
        q2++;
    *out = q2;
    return true;
}

/* `amount` off each of k units, but never more than the units are worth. */
static bool amount_of_units(int64_t total, int64_t q, int64_t k, int64_t amount,
                            tsr_rounding mode, int64_t *out)
{
    int64_t all;

    if (!tsr__mul(amount, q, &all) || all >= total)
        return tsr__muldiv(total, k, q, mode, out);   /* the units' whole value */
    return tsr__mul(amount, k, out);
}

/* k units' price becomes `price` where that is lower: saving
 * k·(total/q − price) = k·(total − price·q)/q. */
static bool price_of_units(int64_t total, int64_t q, int64_t k, int64_t price,
                           tsr_rounding mode, int64_t *out)
{
    int64_t all;

    if (!tsr__mul(price, q, &all) || all >= total) {
        *out = 0;
        return true;
    }
    return tsr__muldiv(k, total - all, q, mode, out);
}

bool tsr__units_saving(tsr_effect effect, int64_t value, int64_t total, int64_t q, int64_t k,
                       tsr_rounding mode, int64_t *out)
{
    bool ok;

    switch (effect) {
    case TSR_EFFECT_PERCENT:
        ok = percent_of_units(total, q, k, value, mode, out);
        break;
    case TSR_EFFECT_AMOUNT:
        ok = amount_of_units(total, q, k, value, mode, out);
        break;
    case TSR_EFFECT_PRICE:
        ok = price_of_units(total, q, k, value, mode, out);
        break;
    default:
        *out = 0;
        ok = true;
        break;
    }
    if (ok && *out > total)   /* a line total never goes below zero */
        *out = total;
    return ok;
}

/* ---------------------------------------------------------------------
 * Ordering runs.
 */

/* a's unit price against b's: a.total/a.qty against b.total/b.qty. */
static int cmp_unit_price(const tsr_unit_run *a, const tsr_unit_run *b)
{
    int64_t q, r;

    if (!tsr__muldiv_floor_rem(a->total, b->qty, a->qty, &q, &r))
        return 1;   /* a.total·b.qty/a.qty beyond int64: above any total */
    if (q != b->total)
        return q < b->total ? -1 : 1;
    return r > 0;
}

static int cmp_line(const tsr_unit_run *a, const tsr_unit_run *b)
{
    return (a->line > b->line) - (a->line < b->line);
}

/* Ties always go to the earlier line, whichever way prices sort. */
static int cheapest_first(const void *pa, const void *pb)
{
    int c = cmp_unit_price(pa, pb);
    return c ? c : cmp_line(pa, pb);
}

static int dearest_first(const void *pa, const void *pb)
{
    int c = cmp_unit_price(pb, pa);
    return c ? c : cmp_line(pa, pb);
}

static int by_line(const void *pa, const void *pb)
{
    return cmp_line(pa, pb);
}

void tsr__units_sort(tsr_unit_run *runs, size_t n, bool dearest)
{
    qsort(runs, n, sizeof *runs, dearest ? dearest_first : cheapest_first);
}

void tsr__units_take(tsr_unit_run *runs, size_t n, int64_t units)
{
    size_t i;

    for (i = 0; i < n; i++) {
        runs[i].take = units < runs[i].qty ? units : runs[i].qty;
        units -= runs[i].take;
    }
}

/* ---------------------------------------------------------------------
 * Bundles.  The caller fills b->pos; positions index b->runs.
 */
int tsr__bundler_init(tsr_bundler *b, const tsr_discount *d, const tsr_unit_run *runs, size_t n,
                      tsr_arena *arena)
{
    size_t c, j;

    memset(b, 0, sizeof *b);
    b->d = d;
    b->runs = runs;
    b->n = n;
    b->pos = tsr__arena_calloc(arena, d->nbundle, sizeof *b->pos);
    b->npos = tsr__arena_calloc(arena, d->nbundle, sizeof *b->npos);
    b->cursor = tsr__arena_calloc(arena, d->nbundle, sizeof *b->cursor);
    b->rem = tsr__arena_calloc(arena, n + 1, sizeof *b->rem);
    b->use = tsr__arena_calloc(arena, n + 1, sizeof *b->use);
    b->parts = tsr__arena_calloc(arena, n + 1, sizeof *b->parts);
    if (!b->pos || !b->npos || !b->cursor || !b->rem || !b->use || !b->parts)
        return TSR_ENOMEM;
    for (c = 0; c < d->nbundle; c++)
        if (!(b->pos[c] = tsr__arena_calloc(arena, n + 1, sizeof **b->pos)))
            return TSR_ENOMEM;
    for (j = 0; j < n; j++)
        b->rem[j] = runs[j].qty;
    return TSR_OK;
}

static void use_units(tsr_bundler *b, size_t j, int64_t units)
{
    if (b->use[j] == 0) {
        b->parts[b->nparts] = b->runs[j];
        b->parts[b->nparts++].pos = j;
    }
    b->use[j] += units;
}

/* Fill one component from its matching units still free, dearest first;
 * the units it still needs (0: filled). */
static int64_t fill_component(tsr_bundler *b, size_t c)
{
    int64_t need = b->d->bundle[c].quantity;
    size_t p;

    /* positions used up for good are skipped once, not at every bundle */
    while (b->cursor[c] < b->npos[c] && b->rem[b->pos[c][b->cursor[c]]] == 0)
        b->cursor[c]++;
    for (p = b->cursor[c]; p < b->npos[c] && need > 0; p++) {
        size_t j = b->pos[c][p];
        int64_t free_units = b->rem[j] - b->use[j];
        if (free_units <= 0)
            continue;   /* taken by an earlier component of this bundle */
        if (free_units > need)
            free_units = need;
        use_units(b, j, free_units);
        need -= free_units;
    }
    return need;
}

long tsr__bundler_next(tsr_bundler *b, int64_t *found)
{
    size_t c, i;

    b->nparts = 0;
    for (c = 0; c < b->d->nbundle; c++) {
        int64_t need = fill_component(b, c);
        if (need > 0) {
            *found = b->d->bundle[c].quantity - need;
            tsr__bundler_commit(b, 0);
            return (long)c;
        }
    }
    qsort(b->parts, b->nparts, sizeof *b->parts, by_line);
    for (i = 0; i < b->nparts; i++)
        b->parts[i].take = b->use[b->parts[i].pos];
    return -1;
}

/* Repeating the bundle just formed is exactly what the greedy choice would
 * do next as long as every line it drew on still has the units it took:
 * the positions before them stay used up, so every component stops at the
 * same places again. */
int64_t tsr__bundler_repeats(const tsr_bundler *b, int64_t formed)
{
    int64_t times = INT64_MAX, max = b->d->max_applications;
    size_t i;

    for (i = 0; i < b->nparts; i++) {
        size_t j = b->parts[i].pos;
        if (b->rem[j] / b->use[j] < times)
            times = b->rem[j] / b->use[j];
    }
    if (max > 0 && times > max - formed)
        times = max - formed;
    return times;
}

void tsr__bundler_commit(tsr_bundler *b, int64_t times)
{
    size_t i;

    for (i = 0; i < b->nparts; i++) {
        size_t j = b->parts[i].pos;
        b->rem[j] -= b->use[j] * times;   /* use·times <= rem: no overflow */
        b->use[j] = 0;
    }
    b->nparts = 0;
}
