/*
 * plan.h — the evaluation plan, compiled once at load (plan.c): the rules
 * of each per-line section indexed by the `item.kind` literals their
 * conditions test, so that evaluation visits, for a line, only the rules
 * that can apply to it.
 *
 * A rule is indexed under kinds k1..kn when the first conjunct of its
 * condition (its `for`; a category without `for`, its `when`) is
 * `item.kind == "k"` or `item.kind in ["k1", ...]`: the condition is then
 * false, without any error, for every line of another kind, since that
 * conjunct is the first thing evaluated.  Every other rule (no such test,
 * the test later in the chain, under `or`, negated) stays in the general
 * list.  A line visits its kind's list merged with the general list in the
 * original order, so first-match answers are those of visiting every rule.
 */
#ifndef TSR_PLAN_H
#define TSR_PLAN_H

#include "expr.h"

/* A section is routed only when at least this many of its rules are
 * indexed: below it, visiting every rule (whose kind test the line's memo
 * answers in a few instructions) costs less than merging two lists. */
#define TSR_PLAN_MIN_INDEXED 8

/* tsr__plan_kind's answer for a line whose kind no rule names. */
#define TSR_PLAN_NO_KIND UINT32_MAX

/* One section's rules by kind. */
typedef struct tsr_route {
    /* Per kind id k, the rules indexed under it are idx[start[k] ..
     * start[k + 1]), ascending.  start is NULL when no rule of the section
     * is indexed: evaluation then visits every rule, as it always did. */
    uint32_t *start;
    uint32_t *idx;
    uint32_t *general;          /* the rules of no kind, ascending */
    size_t ngeneral;
} tsr_route;

/* One category of a band run: its `when` as the values of the field it
 * takes, lo .. hi inclusive (compared as tsr_value.u.i, as the inline
 * comparisons do; lo > hi: none), or every line (`always`: no `when`). */
typedef struct tsr_band {
    int64_t lo, hi;
    bool always;
    /* The steps matching charges up to and including this category: the
     * costs of the `when`s tried from the first of the run on. */
    uint64_t steps;
} tsr_band;

/* A run of n >= 2 adjacent categories first .. first + n - 1 that share one
 * memoised `for`, have no `valid`/`channels` of their own, and whose `when`
 * is absent or an `and` chain of comparisons of one item field (slot, of
 * declared type `type`) with constants, none `!=` (the bands
 * `item.height_cm < 100`, `item.height_cm >= 100 and item.height_cm < 130`,
 * and a catch-all).  Without a trace, a line that passes the `for` takes
 * the first band that holds its value, read once (eval_categories). */
typedef struct tsr_band_run {
    uint32_t first, n;
    uint16_t slot;
    uint8_t type;
    const tsr_band *bands;      /* n, in the categories' order */
    /* The `for` when it is one string comparison of an item field with a
     * constant (`item.kind == "ticket"`), answered in the step; NULL: it is
     * tested as any condition. */
    const tsr_fast_cmp *for_str;
    const tsr_expr *for_;       /* the shared `for` (it has a memo slot) */
} tsr_band_run;

typedef struct tsr_plan {
    const char **kinds;         /* the distinct kind literals, by kind id */
    uint32_t *kind_lens;
    size_t nkinds;              /* 0 when no section is routed */
    uint32_t *table;            /* open addressing, mask + 1 slots: kind id + 1, 0 empty */
    uint32_t mask;
    tsr_route categories;       /* by `for` (or `when` without `for`) */
    /* Per category c, the first category after it whose `for` is not
     * c's memoised one (the same memo slot): a line whose memo says c's
     * `for` is false fails every category before it, without a trace.
     * NULL when no two adjacent categories share a memoised `for`. */
    uint32_t *cat_next_for;
    /* Band runs (tsr_band_run): per category c, 0, or 1 + the index in
     * band_runs of the run that starts at c.  NULL when there is none. */
    uint32_t *cat_band;
    const struct tsr_band_run *band_runs;
    size_t nband_runs;
    /* Per band run, the trace text of its `for` answered false from the
     * memo (tsr__expr_memo_why); NULL: it is asked as any condition.  Apart
     * from tsr_band_run, which the step without a trace reads. */
    const char **band_for_why;
    /* Per category of a band run with a `when`, per conjunct of it
     * (when->fast), the trace text of that conjunct failing
     * (tsr__expr_why_false; NULL: formatted then); NULL elsewhere. */
    const char ***band_when_why;
    /* Per category, strlen of its id (the line's item.category once
     * matched); NULL when there are no categories. */
    uint32_t *cat_id_len;
    tsr_route rates;            /* tax rates, by `for` */
    /* Discounts that an order with none of their kinds cannot change, and
     * whose skipping cannot hide an error nor a trace entry: indexed by
     * `for`, with no `reward`, no bundle, no group, and no `when` (a `when`
     * is evaluated before the lines are, and could stop the evaluation with
     * an error).  Used when no trace is wanted (a trace names every rule). */
    tsr_route discounts;
    /* Earn rules that an order with none of their kinds cannot give points:
     * `per` rules indexed by `for`, without `when` (it could end the
     * evaluation with an error).  Used when no trace is wanted. */
    tsr_route earn;
    /* The promo codes some indexed discount `requires`, each once: an
     * order that skips such a discount still learns that the code was
     * required (TSR_PROMO_EFFECT_NONE unless another discount used it). */
    uint32_t *required_promos;
    size_t nrequired_promos;
    /* Machinery the rule set uses, so that the steps skip what it does not:
     * some discount is `exclusive` (claims lines); some earn rule is a
     * multiplier (other rules read its state). */
    bool any_exclusive;
    bool earn_multiply;
} tsr_plan;

/* Build rs->plan in rs's arena (once, at load, after the model is built).
 * TSR_OK or TSR_ENOMEM. */
int tsr__plan_build(tsr_ruleset *rs);

/* The kind id of a line's `item.kind` value, TSR_PLAN_NO_KIND when no rule
 * names it (or it is not a string). */
uint32_t tsr__plan_kind(const tsr_plan *p, const tsr_value *kind);

/* Walks a kind's rules merged with the general list, ascending. */
typedef struct tsr_route_iter {
    const uint32_t *a, *a_end, *b, *b_end;
} tsr_route_iter;

static inline void tsr__route_begin(tsr_route_iter *it, const tsr_route *r, uint32_t kind)
{
    it->a = it->a_end = NULL;
    if (kind != TSR_PLAN_NO_KIND) {
        it->a = r->idx + r->start[kind];
        it->a_end = r->idx + r->start[kind + 1];
    }
    it->b = r->general;
    it->b_end = r->general + r->ngeneral;
}

/* The next rule index into *out; false at the end. */
static inline bool tsr__route_next(tsr_route_iter *it, uint32_t *out)
{
    bool a = it->a != it->a_end, b = it->b != it->b_end;

    if (a && (!b || *it->a < *it->b))
        *out = *it->a++;
    else if (b)
        *out = *it->b++;
    else
        return false;
    return true;
}

/* Tries rule `rule` on the current line: sets *found to it when it takes
 * the line; when not and `why` is not NULL (a trace is wanted), keeps the
 * first reason in why[rule] if it has none.  TSR_OK or an error. */
typedef int (*tsr_route_try)(void *ctx, size_t rule, const char **why, int *found);

/* The first of a routed section's n rules (r->start not NULL) that takes
 * the current line (*found, -1 for none), for a first-match section
 * (categories, tax rates; an unrouted one tries its rules in order, in the
 * step itself, where `try` is inlined): the rules of the line's kind and
 * the general ones, in order; with a trace, the rules
 * skipped before the one found then get the reason they would have given,
 * tested in full — every earlier line that reached a rule gave it its
 * reason, so only rules from *filled on can lack one, and this is the
 * first line that reaches them (their kind test, the first thing they
 * evaluate, fails: no error, no match).  *filled starts at 0 for each
 * evaluation. */
static inline int tsr__route_first(const tsr_route *r, uint32_t kind, size_t n, const char **why,
                                   size_t *filled, int *found, tsr_route_try try, void *ctx)
{
    tsr_route_iter it;
    uint32_t k;
    size_t c, limit;
    int rc, none = -1;

    *found = -1;
    tsr__route_begin(&it, r, kind);
    while (*found < 0 && tsr__route_next(&it, &k))
        if ((rc = try(ctx, k, why, found)) != TSR_OK)
            return rc;
    if (!why)
        return TSR_OK;
    limit = *found >= 0 ? (size_t)*found : n;
    for (c = *filled; c < limit; c++)
        if (!why[c] && (rc = try(ctx, c, why, &none)) != TSR_OK)
            return rc;
    if (limit > *filled)
        *filled = limit;
    return TSR_OK;
}

/* Walks the rules of route r that an order's lines can reach: the lists
 * of the order's kinds merged with the general list, ascending, each rule
 * once (a rule indexed under two of the order's kinds included).  For the
 * sections skipped whole when they cannot apply (discounts, earn rules). */
#define TSR_ROUTE_KINDS 8

typedef struct tsr_route_walk {
    const uint32_t *at[TSR_ROUTE_KINDS + 1], *end[TSR_ROUTE_KINDS + 1];
    size_t n;                   /* lists: the order's kinds, then the general one */
} tsr_route_walk;

/* Begin a walk of r for lines of kinds line_kinds[0 .. nlines).  False when
 * the order has more than TSR_ROUTE_KINDS kinds that r indexes: the caller
 * then visits every rule. */
bool tsr__route_walk_begin(tsr_route_walk *w, const tsr_route *r, const uint32_t *line_kinds,
                           size_t nlines);

/* The next rule into *out; false at the end. */
bool tsr__route_walk_next(tsr_route_walk *w, uint32_t *out);

#endif /* TSR_PLAN_H */
