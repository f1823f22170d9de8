/*
 * discounts.h — the unit-level mechanics of step 5 (discount_units.c),
 * shared with discounts.c: exact savings on k of q units, unit ordering,
 * and bundle forming.  Private to the two files.
 */
#ifndef TSR_DISCOUNTS_H
#define TSR_DISCOUNTS_H

#include "eval.h"

/* tsr_discount.quiet_gate: how a simple discount's gates are read without
 * a trace (simple_gate in discounts.c), decided at load. */
enum {
    TSR_QGATE_ANY = 0,   /* tsr__rule_gate_quiet */
    TSR_QGATE_OPEN,      /* no `when`, `valid` nor `channels`: `requires` alone */
    TSR_QGATE_SEGMENT,   /* `when` one segment flag, no `valid` nor `channels` */
    TSR_QGATE_PROMO      /* `when` one promo code flag, no `valid` nor `channels` */
};

/* The unit-level mechanics of step 5 (discount_units.c, used by
 * discounts.c).  A line is a run of `qty` units at its current unit price
 * total/qty, a fraction in general, always compared and used exactly. */
typedef struct tsr_unit_run {
    size_t line;
    int64_t total, qty;         /* the line's current total and its units */
    int64_t take;               /* units chosen from it */
    size_t pos;                 /* bundles: its position among the eligible runs */
} tsr_unit_run;

/* The saving of `effect` (PERCENT: value at scale 10^6; AMOUNT, PRICE: minor
 * units) on k of q units of a line whose current total is `total`: computed
 * on total·k/q exactly, rounded once with `mode`, at most `total`.  False
 * on overflow. */
bool tsr__units_saving(tsr_effect effect, int64_t value, int64_t total, int64_t q, int64_t k,
                       tsr_rounding mode, int64_t *out);
/* Where (t + r/q) / s lies against 1/2, for 0 <= t < s and 0 <= r < q:
 * -1 below, 0 exactly, 1 above. */
static inline int tsr__against_half(int64_t t, int64_t r, int64_t q, int64_t s)
{
    int64_t d = 2 * t - s;   /* t < s <= 10^8: no overflow */

    if (d >= 1)
        return 1;
    if (d <= -2)
        return -1;
    if (d == 0)
        return r > 0 ? 1 : 0;
    /* 2t = s - 1 (odd s): the rest decides, 2r/q against 1 */
    return r > q - r ? 1 : (r == q - r ? 0 : -1);
}

/* Whether a result q with `c` (tsr__against_half) rounds up to q + 1. */
static inline bool tsr__round_up(tsr_rounding mode, int64_t q, int c)
{
    switch (mode) {
    case TSR_ROUND_HALF_UP:
        return c >= 0;
    case TSR_ROUND_HALF_EVEN:
        return c > 0 || (c == 0 && (q & 1));
    default:
        return false;
    }
}

/* The common case of a percent on all q units of a line: q > 0, a total
 * of 0 .. ~9·10^10 minor units and a percent (scale 10^6) of 0 .. 100, so
 * that total·pct fits in 64 bits. */
static inline bool tsr__percent_all_fits(int64_t total, int64_t q, int64_t pct)
{
    return q > 0 && total >= 0 && total <= INT64_MAX / (100 * TSR_DEC_SCALE) && pct >= 0 &&
           pct <= 100 * TSR_DEC_SCALE;
}

/* tsr__units_saving(TSR_EFFECT_PERCENT, pct, total, q, q, mode) where
 * tsr__percent_all_fits(total, q, pct): round(total·pct / (100·10^6)),
 * inline for the discount step. */
static inline int64_t tsr__percent_all(int64_t total, int64_t pct, tsr_rounding mode)
{
    const int64_t s = 100 * TSR_DEC_SCALE;
    int64_t q = total * pct / s, r = total * pct % s;

    /* the remainder alone decides: s is even, so 2r - s is never -1 */
    return q + tsr__round_up(mode, q, tsr__against_half(r, 0, 1, s));
}

/* By current unit price, cheapest (or dearest) first, ties to the earlier line. */
void tsr__units_sort(tsr_unit_run *runs, size_t n, bool dearest_first);
/* The first `units` units of sorted runs go into .take. */
void tsr__units_take(tsr_unit_run *runs, size_t n, int64_t units);

/* Forming bundles: greedily, dearest matching units first, a unit serving
 * one component of one bundle; a bundle once formed is repeated as often as
 * its lines allow, so the work depends on lines, never on quantities. */
typedef struct tsr_bundler {
    const tsr_discount *d;
    const tsr_unit_run *runs;   /* the eligible runs, dearest first ("positions") */
    size_t n;
    size_t **pos, *npos;        /* per component: the positions it matches,
                                   ascending; filled by the caller after init */
    size_t *cursor;             /* per component: positions before it are used up */
    int64_t *rem, *use;         /* per position: units free; units in this bundle */
    tsr_unit_run *parts;        /* the bundle formed: its runs by line, .take units */
    size_t nparts;
} tsr_bundler;

int tsr__bundler_init(tsr_bundler *b, const tsr_discount *d, const tsr_unit_run *runs, size_t n,
                      tsr_arena *arena);
/* Form the next bundle into b->parts: -1, or the component short of units
 * (*found: the units it found; nothing is kept). */
long tsr__bundler_next(tsr_bundler *b, int64_t *found);
/* How often b->parts can be formed as it is: >= 1, within max_applications. */
int64_t tsr__bundler_repeats(const tsr_bundler *b, int64_t formed);
/* Form b->parts `times` times (0: drop it). */
void tsr__bundler_commit(tsr_bundler *b, int64_t times);

#endif /* TSR_DISCOUNTS_H */
