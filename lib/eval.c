/*
 * eval.c — the evaluation driver (SPEC §4): sets up one evaluation, calls
 * the steps in order (segments, tier, categories, promo codes, discounts
 * and the promo codes' verdict on them, redemption, earning, offers,
 * taxes), and sums the totals.  Steps 2, 3 and 8 are short enough to live
 * here; the others have a file each (see eval.h), and none of them calls
 * back here.
 *
 * All memory of an evaluation comes from one arena that the result owns;
 * the result struct itself is the arena's first allocation, so a typical
 * evaluation makes a single call to the allocator.
 */
#include "eval.h"
#include "plan.h"

#include <stdio.h>

int tsr__eval_ctx_limits(tsr_expr_ctx *x, const tsr_ruleset *rs, tsr_arena *arena)
{
    tsr__expr_ctx_budget(x, rs->limits.max_eval_steps);
    x->aggs = NULL;
    x->naggs = 0;
    /* generation 1: a slot that was never filled (all zero) is never fresh */
    x->lines_gen = 1;
    x->flags_gen = 1;
    if (rs->naggs) {
        x->aggs = tsr__arena_calloc(arena, rs->naggs, sizeof *x->aggs);
        if (!x->aggs)
            return TSR_ENOMEM;
        x->naggs = rs->naggs;
    }
    return TSR_OK;
}

/* Zero the n bytes at p, n a compile-time constant (a struct's size): in
 * fixed 64-byte pieces the compiler turns into vector stores, where one
 * memset of a few hundred bytes becomes `rep stos`, a store per 8 bytes
 * after a start-up cost.  Same bytes zeroed either way. */
static inline __attribute__((always_inline)) void zero_fixed(void *p, size_t n)
{
    unsigned char *b = p;
    size_t o;
#if defined(__GNUC__)
#pragma GCC unroll 16
#endif
    for (o = 0; o + 64 <= n; o += 64)
        memset(b + o, 0, 64);
    if (n > o)
        memset(b + o, 0, n - o);
}

/* Zero the n bytes at p: up to 32 (the flags and memo rows of a short
 * order) with two overlapping fixed-size stores, where a call to memset
 * cost more than the zeroing. */
static inline void zero_short(void *p, size_t n)
{
    unsigned char *b = p;

    if (n >= 8 && n <= 16) {
        memset(b, 0, 8);
        memset(b + n - 8, 0, 8);
    } else if (n > 16 && n <= 32) {
        memset(b, 0, 16);
        memset(b + n - 16, 0, 16);
    } else {
        memset(b, 0, n);
    }
}

/* ---------------------------------------------------------------------
 * Steps 2 and 3: segments, tier, categories.
 */

/* A segment's condition as tsr__eval_test answers it (no line in scope, so
 * no memo cell): one list or birthday conjunct (park10's two segments,
 * `"season_pass" in customer.tags`, `birthday_within(customer.birthday,
 * date(now), 0)`) answered here, without the call to tsr__expr_fast_call,
 * and charged as there; anything else, a field of another type or a budget
 * about to run out go to tsr__eval_test. */
static inline int segment_test(tsr_eval *ev, const tsr_expr *e, bool *holds)
{
    if (e && e->nfast == 1 && TSR_LIKELY(ev->x.steps_left >= (int64_t)e->cost)) {
        const tsr_fast_cmp *f = e->fast;
        int r = f->kind == TSR_FAST_IN ? tsr__fast_in(f, &ev->x, holds)
                : f->kind == TSR_FAST_BDAY ? tsr__fast_bday(f, &ev->x, holds) : 0;
        if (r) {
            ev->x.steps_left -= e->cost;
            return TSR_OK;
        }
    }
    return tsr__eval_test(ev, e, holds, NULL);
}

/* Out of line: inlined, it grew evaluate_in and cost more than its call. */
static __attribute__((noinline)) int eval_segments(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    size_t i;

    ev->x.item = NULL;
    for (i = 0; i < rs->nsegments; i++) {
        bool holds;
        int rc = segment_test(ev, rs->segments[i].when, &holds);
        if (rc != TSR_OK)
            return rc;
        ev->res->segments[i] = holds;
    }
    tsr__eval_flags_changed(ev);
    ev->res->tier = -1;
    for (i = 0; i < rs->ntiers; i++) {
        bool holds;
        int rc = tsr__eval_test(ev, rs->tiers[i].when, &holds, NULL);
        if (rc != TSR_OK)
            return rc;
        if (holds) {
            ev->res->tier = (int)i;
            ev->x.tier.type = TSR_T_STRING;
            ev->x.tier.u.s = rs->tiers[i].id;
            ev->x.tier.len = (uint32_t)strlen(rs->tiers[i].id);
            tsr__eval_flags_changed(ev);
            break;
        }
    }
    return TSR_OK;
}

static int line_error(tsr_eval *ev, size_t i, const char *field, const char *fmt, ...)
    TSR_PRINTF(4, 5);

/* An order error about line i (or one of its fields), with its JSON path. */
static int line_error(tsr_eval *ev, size_t i, const char *field, const char *fmt, ...)
{
    char path[64];
    va_list ap;

    snprintf(path, sizeof path, "items[%zu]%s%s", i, field ? "." : "", field ? field : "");
    va_start(ap, fmt);
    tsr__err_pathv(ev->err, TSR_EORDER, path, fmt, ap);
    va_end(ap);
    return TSR_EORDER;
}

static int category_index(const tsr_ruleset *rs, const tsr_value *name)
{
    size_t i;
    for (i = 0; i < rs->ncategories; i++)
        if (strlen(rs->categories[i].id) == name->len &&
            memcmp(rs->categories[i].id, name->u.s, name->len) == 0)
            return (int)i;
    return -1;
}

/* The name of item field `slot`, for messages. */
static const char *item_field_name(const tsr_ruleset *rs, int slot)
{
    const tsr_record_schema *r = &rs->records[TSR_REC_ITEM];
    size_t k;
    for (k = 0; k < r->len; k++)
        if (r->fields[k].slot == slot)
            return r->fields[k].name;
    return "?";
}

/* Does the chosen category's `for` or `when` (e, written as `key`) hold for
 * line i?  If not, the order error says which part failed, and when that
 * part reads a field the line does not carry, that the field is missing
 * (a missing field makes a condition false). */
static int choice_holds(tsr_eval *ev, size_t i, const tsr_category *cat, const tsr_expr *e,
                        const char *key)
{
    const char *w = NULL;
    size_t wl = 0;
    bool holds;
    int rc, slot;

    if (!e)
        return TSR_OK;
    if ((rc = tsr__expr_test(e, &ev->x, &holds, &w, &wl)) != TSR_OK || holds)
        return rc;
    if (!w) {
        w = e->src;
        wl = e->src_len;
    }
    slot = tsr__expr_missing_item_field(e, ev->x.item, (uint32_t)(w - e->src), (uint32_t)wl);
    wl = tsr__utf8_prefix(w, wl, TSR_QUOTE_MAX);
    if (slot >= 0)
        return line_error(ev, i, "category",
                          "category \"%s\" cannot be chosen for this line: its `%s` does not "
                          "hold (`%.*s` is false: the line has no `%s`)",
                          cat->id, key, (int)wl, w, item_field_name(ev->rs, slot));
    return line_error(ev, i, "category",
                      "category \"%s\" cannot be chosen for this line: its `%s` does not hold "
                      "(`%.*s` is false)", cat->id, key, (int)wl, w);
}

/* A category the order names for line i: only one declared selectable
 * whose `valid`, `for` and `when` hold for the line, exactly as if matching
 * had reached it; anything else is an order error at items[i].category, so
 * that an order can never choose its own price.  Unknown and non-selectable
 * names never get this far: every way into an order (the readers, the
 * builder's setters) refuses them with a did-you-mean (order.c); checked
 * again here all the same, as this is what sets the price. */
static int chosen_category(tsr_eval *ev, size_t i, int *out)
{
    const tsr_ruleset *rs = ev->rs;
    const tsr_value *name = ev->recs + i * ev->stride + TSR_ITEM_CATEGORY;
    const tsr_category *cat;
    int c = category_index(rs, name), rc;

    if (c < 0 || !rs->categories[c].selectable)
        return line_error(ev, i, "category", "category \"%.*s\" may not be named by an order",
                          (int)(name->len > 64 ? 64 : name->len), name->u.s);
    cat = &rs->categories[c];
    if (!tsr__validity_holds(ev, &cat->valid, NULL)) {
        /* the reason, also when the caller asked for no trace */
        tsr_eval_options traced = *ev->opts;
        const tsr_eval_options *saved = ev->opts;
        const char *w = NULL;
        traced.no_trace = false;
        ev->opts = &traced;
        (void)tsr__validity_check(ev, &cat->valid, &w);
        ev->opts = saved;
        return line_error(ev, i, "category",
                          "category \"%s\" cannot be chosen for this line: %s", cat->id,
                          w ? w : "its `valid` does not hold");
    }
    if ((rc = choice_holds(ev, i, cat, cat->for_, "for")) != TSR_OK ||
        (rc = choice_holds(ev, i, cat, cat->when, "when")) != TSR_OK)
        return rc;
    *out = c;
    return TSR_OK;
}

/* Per category, its order-level price (price_order_level) once computed
 * and found valid in this step: such a price is the same for every line
 * (`70.00 if weekday(now) >= 6 else 60.00`), so it is evaluated for the
 * first line that takes the category only.  NULL: no cache. */
typedef struct price_cache {
    int64_t *price;
    uint8_t *have;
} price_cache;

/* Set line i's category and unit price; `c` is -1 for "keep the price".
 * rec is the line's working record (ev->recs + i * ev->stride). */
static int price_line(tsr_eval *ev, size_t i, tsr_value *rec, int c, price_cache *pc)
{
    tsr_res_line *l = &ev->res->lines[i];
    const tsr_ruleset *rs = ev->rs;
    const tsr_category *cat = c >= 0 ? &rs->categories[c] : NULL;
    int64_t price;

    l->category = c;
    l->category_name = cat ? cat->id : NULL;
    if (cat && pc->price && pc->have[c]) {
        price = pc->price[c];
    } else if (cat && cat->price) {
        tsr_value v;
        int rc;
        if (!tsr__expr_value_fast(cat->price, &ev->x, &v) &&
            (rc = tsr__expr_eval(cat->price, &ev->x, &v)) != TSR_OK)
            return rc;
        if (v.type != TSR_T_MONEY)
            return line_error(ev, i, NULL, "the price of category `%s` is missing for this line",
                              cat->id);
        if (v.u.i < 0)
            return line_error(ev, i, NULL, "the price of category `%s` is negative for this line",
                              cat->id);
        price = v.u.i;
        if (pc->price && cat->price_order_level) {
            pc->price[c] = price;
            pc->have[c] = 1;
        }
    } else if (rec[TSR_ITEM_PRICE].type == TSR_T_MONEY) {
        price = rec[TSR_ITEM_PRICE].u.i;
    } else if (cat) {
        return line_error(ev, i, "price", "category `%s` has no price and the line gives none",
                          cat->id);
    } else {
        return line_error(ev, i, NULL, "the line has no price and matches no category");
    }
    l->unit_price = price;
    if (!tsr__mul(price, l->quantity, &l->subtotal))
        return line_error(ev, i, NULL, "price × quantity overflows");
    l->total = l->subtotal;
    if (cat) {
        rec[TSR_ITEM_CATEGORY].type = TSR_T_STRING;
        rec[TSR_ITEM_CATEGORY].u.s = cat->id;
        rec[TSR_ITEM_CATEGORY].len = rs->plan->cat_id_len[c];
    }
    /* tsr__eval_sync_line, with the record and the line at hand */
    tsr__line_rec_sync(rec, l);
    ev->x.lines_gen++;
    return TSR_OK;
}

/* Does category c take the current line (its `valid`, `for`, `when`)?
 * A tsr_route_try (plan.h) with ctx the evaluation. */
static inline int try_category(void *ctx, size_t c, const char **why, int *found)
{
    tsr_eval *ev = ctx;
    const tsr_category *cat = &ev->rs->categories[c];
    const char *w = NULL;
    /* only the first reason per category is kept: ask for one only while
     * the category has none */
    bool holds = true, want = why && !why[c];
    int rc;

    if (!tsr__validity_holds(ev, &cat->valid, want ? &w : NULL))
        holds = false;
    if (holds && (rc = tsr__eval_test(ev, cat->for_, &holds, want ? &w : NULL)) != TSR_OK)
        return rc;
    if (holds && (rc = tsr__eval_test(ev, cat->when, &holds, want ? &w : NULL)) != TSR_OK)
        return rc;
    if (holds)
        *found = (int)c;
    else if (want)
        why[c] = w;
    return TSR_OK;
}

/* The shared `for` of band run r on the current line, as tsr__eval_test
 * answers it (memo, steps), a string comparison answered here. */
static inline int band_for(tsr_eval *ev, const tsr_band_run *r, bool *holds)
{
    const tsr_expr *f = r->for_;
    /* the line's memo row is in place (tsr__eval_at_line) and f has a slot */
    uint8_t *cell = ev->x.memo_row ? &ev->x.memo_row[f->memo - 1] : NULL;

    if (cell && *cell) {
        *holds = *cell == 2;
        return TSR_OK;
    }
    if (r->for_str && TSR_LIKELY(ev->x.steps_left >= (int64_t)f->cost) &&
        tsr__fast_str(r->for_str, &ev->x.item[r->for_str->slot], holds)) {
        ev->x.steps_left -= f->cost;
        if (cell)
            *cell = *holds ? 2 : 1;
        return TSR_OK;
    }
    return tsr__eval_test(ev, f, holds, NULL);
}

/* Band run r (plan.h) on the current line, without a trace: its shared
 * `for` tested once (as the first category would test it), then the first
 * band that holds the line's value, read once.  *next is where matching
 * goes on (past the run, or past the categories repeating a `for` that
 * failed; found or not), or 0 when the run must be tried category by
 * category: a field of another type than declared (the walker reports it
 * where it reads it), or a budget that would run out on the way (the walker
 * stops where it does).  It charges what trying the categories in turn
 * charges, and the `for`'s memo cell is kept by tsr__eval_test as then. */
static inline __attribute__((always_inline))   /* out of line, the step left evaluate_in */
int band_match(tsr_eval *ev, const tsr_band_run *r, int *found, size_t *next)
{
    const tsr_band *b = r->bands;
    const tsr_value *v = &ev->x.item[r->slot];
    uint32_t j, n = r->n;
    uint64_t steps;
    bool holds;
    int rc;

    *next = 0;
    if ((rc = band_for(ev, r, &holds)) != TSR_OK)
        return rc;
    if (!holds) {
        /* the memo now holds it false (band_for, tsr__expr_test keep it):
         * the walk would go on past the categories that repeat it */
        *next = ev->rs->plan->cat_next_for[r->first];
        return TSR_OK;
    }
    if (TSR_LIKELY(v->type == r->type)) {
        int64_t x = v->u.i;
        for (j = 0; j < n && !(b[j].lo <= x && x <= b[j].hi); j++)
            ;
    } else if (v->type == TSR_T_MISSING) {
        /* every comparison of a missing field is false */
        for (j = 0; j < n && !b[j].always; j++)
            ;
    } else {
        return TSR_OK;
    }
    steps = b[j < n ? j : n - 1].steps;
    if (TSR_UNLIKELY(ev->x.steps_left < 0 || (uint64_t)ev->x.steps_left < steps))
        return TSR_OK;
    ev->x.steps_left -= (int64_t)steps;
    *found = j < n ? (int)(r->first + j) : -1;
    *next = (size_t)r->first + n;
    return TSR_OK;
}

/* Band run r on the current line with a trace (why: per category, the
 * first reason one did not take a line): what trying its categories in
 * turn with try_category does, from what the run knows.  The `for` is
 * tested as the first category tests it; when it fails, every category of
 * the run that still lacks a reason asks for the `for`'s (from the memo,
 * charging nothing, as try_category does).  When it holds, the first band
 * that holds the line's value is the match, and each category before it
 * failed its `when` on the first conjunct its band rules out: its reason
 * is that conjunct's, as the inline test writes it.  *next as band_match
 * (the end of the run), 0 when the categories must be tried in turn. */
static int band_match_traced(tsr_eval *ev, const tsr_band_run *r, const char **why, int *found,
                             size_t *next)
{
    const tsr_category *cats = ev->rs->categories;
    const tsr_band *b = r->bands;
    const tsr_value *v = &ev->x.item[r->slot];
    uint32_t j, k, n = r->n;
    uint64_t steps;
    bool holds;
    int rc;

    *next = 0;
    if (!why[r->first]) {
        const char *w = NULL;
        if ((rc = tsr__eval_test(ev, r->for_, &holds, &w)) != TSR_OK)
            return rc;
        if (!holds)
            why[r->first] = w;
    } else if ((rc = band_for(ev, r, &holds)) != TSR_OK) {
        return rc;
    }
    if (!holds) {
        /* asked again, the memo gives every later category the same text,
         * the one prepared at load when the memo holds the answer */
        const char *w = NULL, **wr = why + r->first;
        for (k = 1; k < n; k++) {
            if (wr[k])
                continue;
            if (!w && tsr__expr_memo_get(r->for_, &ev->x) == 1)
                w = ev->rs->plan->band_for_why[r - ev->rs->plan->band_runs];
            if (!w && (rc = tsr__eval_test(ev, r->for_, &holds, &w)) != TSR_OK)
                return rc;
            wr[k] = w;
        }
        *next = (size_t)r->first + n;
        return TSR_OK;
    }
    /* band_match's search, written again: one inline helper for both cost
     * the step without a trace 45 instructions an order (measured) */
    if (TSR_LIKELY(v->type == r->type)) {
        int64_t x = v->u.i;
        for (j = 0; j < n && !(b[j].lo <= x && x <= b[j].hi); j++)
            ;
    } else if (v->type == TSR_T_MISSING) {
        for (j = 0; j < n && !b[j].always; j++)
            ;
    } else {
        return TSR_OK;
    }
    steps = b[j < n ? j : n - 1].steps;
    if (ev->x.steps_left < 0 || (uint64_t)ev->x.steps_left < steps)
        return TSR_OK;
    for (k = 0; k < j && k < n; k++) {
        const tsr_expr *e = cats[r->first + k].when;
        const char *w;
        uint32_t failed = 0;
        if (why[r->first + k])
            continue;
        /* a band before the match has a `when` of comparisons of the field
         * with constants (band_read, plan.c): the first that is false on
         * its value (any, on a missing field) is the one that failed */
        if (!e)
            return TSR_OK;
        if (v->type == r->type)
            while (failed < e->nfast &&
                   tsr__fast_rel(v->u.i, e->fast[failed].k.u.i, e->fast[failed].rel))
                failed++;
        if (failed == e->nfast)
            return TSR_OK;
        /* the sentence tsr__why_false would find, prepared at load */
        w = ev->rs->plan->band_when_why[r->first + k][failed];
        why[r->first + k] = w ? w : tsr__why_false(ev, e, e->src + e->fast[failed].off,
                                                   e->fast[failed].len);
    }
    ev->x.steps_left -= (int64_t)steps;
    *found = j < n ? (int)(r->first + j) : -1;
    *next = (size_t)r->first + n;
    return TSR_OK;
}

/* The categories of the current line, unrouted, when the step has band
 * runs but does not skip repeated `for`s (with a trace; without one, only
 * a plan a test left without cat_next_for): try_category in turn, band
 * runs matched whole with a trace. */
static __attribute__((noinline)) int match_traced(tsr_eval *ev, const char **why, int *found)
{
    const tsr_plan *plan = ev->rs->plan;
    size_t c = 0, ncat = ev->rs->ncategories;
    int rc, f = -1;

    if (TSR_UNLIKELY(!why)) {
        for (; c < ncat && f < 0; c++)
            if ((rc = try_category(ev, c, NULL, &f)) != TSR_OK)
                return rc;
        *found = f;
        return TSR_OK;
    }
    while (c < ncat && f < 0) {
        if (plan->cat_band[c]) {
            size_t next;
            if ((rc = band_match_traced(ev, &plan->band_runs[plan->cat_band[c] - 1], why, &f,
                                        &next)) != TSR_OK)
                return rc;
            if (next) {
                c = next;
                continue;
            }
        }
        if ((rc = try_category(ev, c, why, &f)) != TSR_OK)
            return rc;
        c++;
    }
    *found = f;
    return TSR_OK;
}

static int eval_categories(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    const tsr_plan *plan = rs->plan;
    size_t nlines = ev->res->nlines, ncat = rs->ncategories, i, c, filled = 0;
    bool routed = plan->categories.start != NULL;
    const uint32_t *next_for, *band;
    const tsr_band_run *run0;
    /* Per category: did any line take it, and the first reason one did not. */
    uint8_t *taken = NULL;
    const char **why = NULL;
    bool trace = tsr__tracing(ev) && rs->ncategories;
    /* up to 16 categories cached on the stack; more are priced per line */
    int64_t pprice[16];
    uint8_t phave[16] = { 0 };
    price_cache pc = { NULL, NULL };
    tsr_value *rec;
    const size_t stride = ev->stride, nmemo = rs->nmemo;
    uint8_t *const memo = ev->memo;

    if (rs->ncategories <= 16) {
        pc.price = pprice;
        pc.have = phave;
    }
    if (plan->nkinds) {
        /* each line's kind looked up once, for this step and the later ones */
        ev->line_kinds = tsr__arena_alloc(ev->arena, (nlines + 1) * sizeof *ev->line_kinds);
        if (!ev->line_kinds)
            return TSR_ENOMEM;
        for (i = 0; i < nlines; i++)
            ev->line_kinds[i] = tsr__plan_kind(plan, &ev->recs[i * ev->stride + TSR_ITEM_KIND]);
    }
    if (trace) {
        taken = tsr__arena_calloc(ev->arena, rs->ncategories, 1);
        why = tsr__arena_calloc(ev->arena, rs->ncategories, sizeof *why);
        if (!taken || !why)
            return TSR_ENOMEM;
    }
    /* without a trace, an unrouted step skips the categories that repeat
     * a `for` the line's memo holds false, and matches band runs whole */
    next_for = routed || why ? NULL : plan->cat_next_for;
    band = plan->cat_band;
    run0 = next_for && band && ncat && band[0] ? &plan->band_runs[band[0] - 1] : NULL;
    for (i = 0, rec = ev->recs; i < nlines; i++, rec += stride) {
        int found = -1, rc;

        /* tsr__eval_at_line, from locals */
        ev->x.item = rec;
        if (memo) {
            ev->x.memo_row = memo + i * nmemo;
            ev->x.memo_item = rec;
        }
        if (rec[TSR_ITEM_CATEGORY].type == TSR_T_STRING) {
            /* named by the order: no matching, but the same conditions */
            if ((rc = chosen_category(ev, i, &found)) != TSR_OK)
                return rc;
        } else if (routed) {
            if ((rc = tsr__route_first(&plan->categories, ev->line_kinds[i], ncat, why, &filled,
                                       &found, try_category, ev)) != TSR_OK)
                return rc;
        } else if (next_for) {
            c = 0;
            if (run0) {
                /* the loop's first turn when category 0 starts a band run
                 * (park10: the whole step is one run), without its tests;
                 * next 0 (a field of another type, a budget running out):
                 * the loop asks the run again, which charges nothing more
                 * (the `for` is in the memo) and gives 0 again */
                size_t next;
                if ((rc = band_match(ev, run0, &found, &next)) != TSR_OK)
                    return rc;
                c = next;
            }
            while (c < ncat && found < 0) {
                const tsr_expr *f = rs->categories[c].for_;
                if (band && band[c]) {
                    size_t next;
                    if ((rc = band_match(ev, &plan->band_runs[band[c] - 1], &found, &next)) !=
                        TSR_OK)
                        return rc;
                    if (next) {
                        c = next;
                        continue;
                    }
                }
                if ((rc = try_category(ev, c, NULL, &found)) != TSR_OK)
                    return rc;
                c = found < 0 && f && tsr__expr_memo_get(f, &ev->x) == 1 ? next_for[c] : c + 1;
            }
        } else if (!band) {
            for (c = 0; c < ncat && found < 0; c++)
                if ((rc = try_category(ev, c, why, &found)) != TSR_OK)
                    return rc;
        } else if ((rc = match_traced(ev, why, &found)) != TSR_OK) {
            return rc;
        }
        if ((rc = price_line(ev, i, rec, found, &pc)) != TSR_OK)
            return rc;
        if (trace && found >= 0)
            taken[found] = 1;
    }
    for (c = 0; trace && c < rs->ncategories; c++) {
        int rc = tsr__trace(ev, "categories", rs->categories[c].id, taken[c],
                            why[c] ? why[c] : "no line reached it: earlier categories took every line");
        if (rc != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Step 8: offers.  Then the totals.
 */
static int eval_offers(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    size_t i;

    ev->x.item = NULL;
    if (rs->noffers) {
        ev->res->offers = tsr__arena_alloc(ev->arena, rs->noffers * sizeof(int));
        if (!ev->res->offers)
            return TSR_ENOMEM;
    }
    for (i = 0; i < rs->noffers; i++) {
        const char *why = NULL;
        bool holds;
        int rc = tsr__eval_test(ev, rs->offers[i].when, &holds, &why);
        if (rc != TSR_OK)
            return rc;
        if (holds)
            ev->res->offers[ev->res->noffers++] = (int)i;
        if ((rc = tsr__trace(ev, "offers", rs->offers[i].id, holds, why)) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

/* The tax of every line (step 10) into totals.tax; with exclusive prices
 * it is added to what is due. */
static int sum_tax(tsr_eval *ev, tsr_totals *t)
{
    const tsr_result *r = ev->res;
    size_t i;

    for (i = 0; i < r->nlines; i++)
        if (!tsr__add(t->tax, r->line_tax[i].amount, &t->tax))
            return tsr__err(ev->err, TSR_EEVAL, "order totals overflow");
    if (ev->rs->taxes.prices == TSR_TAX_EXCLUSIVE && !tsr__add(t->due, t->tax, &t->due))
        return tsr__err(ev->err, TSR_EEVAL, "order totals overflow");
    return TSR_OK;
}

static int sum_totals(tsr_eval *ev)
{
    tsr_result *r = ev->res;
    tsr_totals *t = &r->totals;
    int64_t added = 0, subtotal = 0, discount = 0, redeemed = 0, due = 0;
    size_t i;
    int rc;

    /* Sums in locals (registers), every partial sum checked. */
    for (i = 0; i < r->nlines; i++) {
        const tsr_res_line *l = &r->lines[i];
        if (!tsr__add(subtotal, l->subtotal, &subtotal) ||
            !tsr__add(discount, l->discount, &discount) ||
            !tsr__add(redeemed, l->redeemed_value, &redeemed) ||
            !tsr__add(due, l->total, &due))
            return tsr__err(ev->err, TSR_EEVAL, "order totals overflow");
    }
    zero_fixed(t, sizeof *t);
    t->subtotal = subtotal;
    t->discount = discount;
    t->redeemed_value = redeemed;
    t->due = due;
    t->points_earned = r->points_earned;
    t->points_redeemed = r->points_redeemed;
    if (r->line_tax) {
        if ((rc = sum_tax(ev, t)) != TSR_OK)
            return rc;
        if (ev->rs->taxes.prices == TSR_TAX_EXCLUSIVE)
            added = t->tax;
    }
    /* subtotal − discount − redeemed_value (+ tax added on top) = due, by
     * construction of every step; a violation is a bug, reported rather
     * than returned as a price.  (Each part is at most the subtotal, and
     * the tax at most the due it was added to: no overflow.) */
    if (t->subtotal - t->discount - t->redeemed_value + added != t->due)
        return tsr__err(ev->err, TSR_EEVAL, "internal error: totals do not add up");
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Setup and the public entry points.
 */

/* Copy the n bytes at src to dst and a NUL after them; returns the byte
 * after the NUL.  Line ids and kinds are a few bytes long: up to 16 they
 * are copied with two (possibly overlapping) fixed-size moves the compiler
 * inlines (of 8, 4 or 2 bytes; one byte alone) where a call to memcpy per
 * string cost more than the copy. */
static inline char *copy_text(char *dst, const char *src, size_t n)
{
    if (n >= 8) {
        if (n <= 16) {
            memcpy(dst, src, 8);
            memcpy(dst + n - 8, src + n - 8, 8);
        } else {
            memcpy(dst, src, n);
        }
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n >= 2) {
        memcpy(dst, src, 2);
        memcpy(dst + n - 2, src + n - 2, 2);
    } else if (n) {
        dst[0] = src[0];
    }
    dst[n] = '\0';
    return dst + n + 1;
}

/* Orders of up to SETUP_ENTRIES_LINES lines get room for their lines'
 * points entries and SETUP_ENTRIES_MORE more in setup's block. */
#define SETUP_ENTRIES_LINES 64
#define SETUP_ENTRIES_MORE 8

/* Setup writes each field of a result line once: it sets id, kind, their
 * lengths, the quantity and the category, zeroes discount .. points_earned
 * and claimed; the categories step sets category_name, unit_price,
 * subtotal and total.  A field added to tsr_res_line goes in that range or
 * in one of those two places. */
_Static_assert(offsetof(tsr_res_line, total) < offsetof(tsr_res_line, discount) &&
               offsetof(tsr_res_line, points_earned) + sizeof(int64_t) ==
                   offsetof(tsr_res_line, claimed) &&
               offsetof(tsr_res_line, kind_len) + sizeof(uint32_t) == sizeof(tsr_res_line) &&
               sizeof(tsr_res_line) == 128,
               "setup writes every field of a result line");

/* Setup stores each field of the evaluation state (and of its expression
 * context) itself, without zeroing the whole first: a field added to either
 * must be set there too. */
#if UINTPTR_MAX == UINT64_MAX   /* the sizes of a 64-bit build */
_Static_assert(sizeof(tsr_eval) == 336 && sizeof(tsr_expr_ctx) == 232,
               "a new field of tsr_eval or tsr_expr_ctx: set it in setup");
#endif

static int setup(tsr_eval *ev, tsr_result *res, const tsr_ruleset *rs, const tsr_order *order,
                 const tsr_eval_options *opts, tsr_error *err)
{
    const tsr_value *dt = &order->order[TSR_ORDER_DATETIME];
    size_t n = order->nlines, i;
    int64_t tod;
    int32_t off;

    /* Each field of the state is stored once: setup sets every field but
     * these, which start at zero (no line in scope, no memo row, no regex
     * scratch, no kinds; the budget before it is set, for a failure below) */
    ev->x.item = NULL;
    ev->x.memo_row = NULL;
    ev->x.memo_item = NULL;
    ev->x.regex_scratch = NULL;
    ev->x.steps_left = ev->x.max_steps = 0;
    ev->line_kinds = NULL;
    ev->rs = rs;
    ev->order = order;
    ev->opts = opts;
    ev->res = res;
    ev->arena = &res->arena;
    ev->err = err;
    ev->stride = order->stride;

    res->nlines = n;
    /* One arena block for the line results, the working copy of the line
     * records, the segment and promo flags and the strings the result
     * reports (line ids and kinds, the order id): this runs on every
     * evaluation, and one allocation is cheaper than a dozen.  The result
     * outlives the order (tsr_evaluate_text frees it, a builder order may
     * be reset), so the strings are copied. */
    {
        size_t strings = 0, lines_sz, entries_n = 0, recs_sz, flags_sz, memo_sz, total;
        const tsr_value *oid = &order->order[TSR_ORDER_ID], *rec;
        const size_t stride = order->stride;   /* a local: stores below cannot change it */
        unsigned char *block;
        char *sp;

        for (i = 0, rec = order->lines; i < n; i++, rec += stride)
            strings += (size_t)rec[TSR_ITEM_ID].len + rec[TSR_ITEM_KIND].len + 2;
        if (oid->type == TSR_T_STRING)
            strings += (size_t)oid->len + 1;
        /* n and the stride are bounded by the order's limits: no overflow
         * below for any order a reader or the builder accepts; checked
         * anyway, as tsr__arena_calloc would. */
        if (n > SIZE_MAX / sizeof *res->lines || ev->stride > SIZE_MAX / sizeof(tsr_value) ||
            (ev->stride && n > SIZE_MAX / (ev->stride * sizeof(tsr_value))))
            return TSR_ENOMEM;
        lines_sz = (n * sizeof *res->lines + 7u) & ~(size_t)7u;
        /* Room for the points entries of a short order (a line each per
         * rule of `per`, one per flat rule: earning reserves more when
         * a rule needs it), so that earning need not ask the arena. */
        if (rs->loyalty.present && rs->loyalty.nearn && n <= SETUP_ENTRIES_LINES)
            entries_n = n + SETUP_ENTRIES_MORE;
        lines_sz += entries_n * sizeof *res->entries;
        recs_sz = n * ev->stride * sizeof(tsr_value);
        if (rs->nmemo && n > SIZE_MAX / rs->nmemo)
            return TSR_ENOMEM;
        memo_sz = n * rs->nmemo;
        /* the promo flags of a kept result live outside the arena, zero */
        flags_sz = (rs->nsegments + 1) + (res->promo_flags ? 0 : rs->npromos + 1) + memo_sz;
        total = lines_sz;
        if (recs_sz > SIZE_MAX - total || flags_sz > SIZE_MAX - total - recs_sz ||
            strings > SIZE_MAX - total - recs_sz - flags_sz)
            return TSR_ENOMEM;
        total += recs_sz + flags_sz + strings;
        /* inline: with the segments step out of line, evaluate_in keeps
         * the categories step inlined (docs/performance.md, round 6) */
        block = tsr__arena_bump(ev->arena, total);
        if (!block)
            return TSR_ENOMEM;
        res->lines = (tsr_res_line *)(void *)block;
        if (entries_n) {
            res->entries = (tsr_points_entry *)(void *)(block + lines_sz -
                                                        entries_n * sizeof *res->entries);
            res->entries_cap = entries_n;
        }
        ev->recs = (tsr_value *)(void *)(block + lines_sz);
        res->segments = block + lines_sz + recs_sz;
        if (res->promo_flags) {
            res->promo_accepted = res->promo_flags;
            ev->memo = memo_sz ? res->segments + rs->nsegments + 1 : NULL;
        } else {
            res->promo_accepted = res->segments + rs->nsegments + 1;
            ev->memo = memo_sz ? res->promo_accepted + rs->npromos + 1 : NULL;
        }
        zero_short(res->segments, flags_sz);
        sp = (char *)(res->segments + flags_sz);
        if (recs_sz)
            memcpy(ev->recs, order->lines, recs_sz);
        for (i = 0, rec = order->lines; i < n; i++, rec += stride) {
            tsr_res_line *l = &res->lines[i];
            /* What the steps after add to starts at zero; the category,
             * its name, the unit price, the subtotal and the total are
             * not zeroed: the categories step sets them on every line
             * (an evaluation that fails before is discarded whole). */
            memset(&l->discount, 0, offsetof(tsr_res_line, claimed) -
                                        offsetof(tsr_res_line, discount));
            l->claimed = false;
            l->id = sp;
            l->id_len = rec[TSR_ITEM_ID].len;
            sp = copy_text(sp, rec[TSR_ITEM_ID].u.s, rec[TSR_ITEM_ID].len);
            l->kind = sp;
            l->kind_len = rec[TSR_ITEM_KIND].len;
            sp = copy_text(sp, rec[TSR_ITEM_KIND].u.s, rec[TSR_ITEM_KIND].len);
            l->quantity = rec[TSR_ITEM_QUANTITY].type == TSR_T_INT ? rec[TSR_ITEM_QUANTITY].u.i : 1;
            l->category = -1;
        }
        if (oid->type == TSR_T_STRING) {
            res->order_id = sp;
            copy_text(sp, oid->u.s, oid->len);
        }
    }

    ev->x.alloc = &res->alloc;
    ev->x.order = order->order;
    ev->x.customer = order->customer;
    ev->x.lines = ev->recs;
    ev->x.line_stride = ev->stride;
    ev->x.nlines = n;
    ev->x.segments = res->segments;
    ev->x.tier = tsr__missing();
    ev->x.promo_accepted = res->promo_accepted;
    ev->x.tz = rs->tz;
    ev->x.minor_units = rs->minor_units;
    ev->x.rounding = rs->rounding;
    ev->x.err = err;
    if (tsr__eval_ctx_limits(&ev->x, rs, ev->arena) != TSR_OK)
        return TSR_ENOMEM;

    off = tsr__local_offset(rs->tz, dt->u.i, dt->offset);
    ev->today = tsr__local_day_time(dt->u.i, off, &tod);
    ev->now_minutes = tod / (60 * TSR_USEC_PER_SEC);
    ev->weekday = tsr__weekday(ev->today);
    /* What setup has just computed is what date(now), hour(now) and
     * minute(now) would compute again: the context's memo of the last
     * instant converted starts with `now` (the same values the expression
     * code would store: tsr_expr_ctx.local_*). */
    if (dt->type == TSR_T_DATETIME) {
        ev->x.local_set = true;
        ev->x.local_usec = dt->u.i;
        ev->x.local_own = dt->offset;
        ev->x.local_off = off;
        ev->x.local_days = ev->today;
        ev->x.local_tz = rs->tz;
    } else {
        ev->x.local_set = false;   /* the memo starts empty */
    }
    return TSR_OK;
}

static int run_steps(tsr_eval *ev)
{
    const uint8_t *effect;
    int rc;
    if ((rc = eval_segments(ev)) != TSR_OK) return rc;
    if ((rc = eval_categories(ev)) != TSR_OK) return rc;
    if ((rc = tsr__eval_promos(ev)) != TSR_OK) return rc;
    if ((rc = tsr__eval_discounts(ev, &effect)) != TSR_OK) return rc;
    if ((rc = tsr__promos_settle(ev, effect)) != TSR_OK) return rc;
    /* redemption settles membership (res->member), which earning reads */
    if ((rc = tsr__eval_redeem(ev)) != TSR_OK) return rc;
    if ((rc = tsr__eval_earn(ev)) != TSR_OK) return rc;
    if ((rc = eval_offers(ev)) != TSR_OK) return rc;
    /* a rule set without taxes pays this one test, not a call */
    if (ev->rs->taxes.present && (rc = tsr__eval_taxes(ev)) != TSR_OK) return rc;
    return sum_totals(ev);
}

/* Bytes of tsr_eval_options each version of the header declares (see
 * totals_size below). */
static const size_t eval_options_size[TSR_EVAL_OPTIONS_VERSION + 1] = {
    0,
    TSR_END_OF(tsr_eval_options, no_trace),     /* version 1 */
};
_Static_assert(sizeof(tsr_eval_options) == TSR_END_OF(tsr_eval_options, no_trace),
               "a field was appended to tsr_eval_options: add a version and its size");

int tsr_eval_options_init(tsr_eval_options *opts, unsigned version)
{
    static const tsr_eval_options defaults = TSR_EVAL_OPTIONS_INIT;
    return tsr__init_versioned(opts, &defaults, version, eval_options_size,
                               TSR_ARRAY_LEN(eval_options_size));
}

/* The checks every entry point makes before evaluating, and the options
 * read into `o` by the caller's version. */
static int check_call(const char *fn, const tsr_ruleset *rs, const tsr_order *order,
                      const tsr_eval_options *opts, tsr_eval_options *o, tsr_error *err)
{
    int rc;

    if (!rs || !order)
        return tsr__err(err, TSR_EINVAL, "%s: rule set or order is NULL", fn);
    if (order->rs != rs)
        return tsr__err(err, TSR_EINVAL, "%s: the order was built for another rule set", fn);
    if (opts && (rc = tsr__check_version(opts->version, TSR_ARRAY_LEN(eval_options_size),
                                         "tsr_evaluate: eval options", "TSR_EVAL_OPTIONS_INIT",
                                         err)) != TSR_OK)
        return rc;
    /* A builder order is checked as a whole here (required fields, unique
     * line ids), as the readers check theirs; a finished one (every order
     * read, a builder order finished) without the call. */
    if (!order->finished && (rc = tsr__order_ready(order, err)) != TSR_OK)
        return rc;
    if (opts) {
        /* Version 1.  Fields of a later version are read only when
         * opts->version says the caller's struct has them. */
        o->customer_safe = opts->customer_safe;
        o->no_trace = opts->no_trace;
    }
    return TSR_OK;
}

/* A new, empty result for rs: the struct is the first block of its own
 * arena, whose first chunk is sized so that a typical order of `nlines`
 * needs no second one.  NULL when out of memory. */
static tsr_result *result_new(const tsr_ruleset *rs, size_t nlines)
{
    tsr_arena arena;
    tsr_result *res;

    tsr__arena_init(&arena, &rs->alloc, 4096 + nlines * 512);
    res = tsr__arena_calloc(&arena, 1, sizeof *res);
    if (!res) {
        tsr__arena_free(&arena);
        return NULL;
    }
    res->alloc = rs->alloc;
    res->arena = arena;
    res->arena.alloc = &res->alloc;
    res->rs = rs;
    return res;
}

_Static_assert(offsetof(tsr_result, rs) < offsetof(tsr_result, order_id) &&
               offsetof(tsr_result, steps) < offsetof(tsr_result, json) &&
               offsetof(tsr_result, json) < offsetof(tsr_result, json_len) &&
               offsetof(tsr_result, json_len) < offsetof(tsr_result, json_cap) &&
               offsetof(tsr_result, json_cap) < offsetof(tsr_result, json_ready) &&
               offsetof(tsr_result, json_ready) < offsetof(tsr_result, promo_flags),
               "result_rewind zeroes order_id .. steps and keeps what lies outside");

/* After an evaluation into a kept result: the promo flags its entered
 * codes set back to zero (the flags of other rules were never set), so the
 * next evaluation finds them all zero without clearing every rule's. */
static void clear_promo_flags(tsr_result *res)
{
    size_t i;

    if (!res->promo_flags || res->promo_accepted != res->promo_flags)
        return;
    for (i = 0; i < res->npromos; i++)
        if (res->promos[i].promo >= 0)
            res->promo_flags[res->promos[i].promo] = 0;
}

/* Empty an evaluated result for the next evaluation against rs, keeping
 * its memory: the arena as one chunk as large as the last evaluation
 * needed, the JSON buffer, the promo flags (all zero; sized anew when rs
 * has another number of promo code rules).  NULL when out of memory (res
 * is still whole). */
static tsr_result *result_rewind(tsr_result *res, const tsr_ruleset *rs)
{
    tsr_result *r;

    if (res->promo_flags_n != rs->npromos + 1) {
        uint8_t *f = tsr__calloc(&res->alloc, rs->npromos + 1, 1);
        if (!f)
            return NULL;
        if (res->promo_flags)
            tsr__free(&res->alloc, res->promo_flags, res->promo_flags_n);
        res->promo_flags = f;
        res->promo_flags_n = rs->npromos + 1;
    }
    r = tsr__arena_rewind_holder(&res->arena, sizeof *res);
    if (!r)
        return NULL;
    /* The allocator and the arena stay (the arena's allocator is r->alloc,
     * moved with the holder), as do the JSON buffer and its size: what lies
     * between is the last evaluation's, zeroed as a new result has it. */
    zero_fixed(&r->order_id, offsetof(tsr_result, json) - offsetof(tsr_result, order_id));
    r->json_len = 0;
    r->json_ready = false;
    r->rs = rs;
    return r;
}

/* Evaluate into res (new or rewound).  On failure err is set and the
 * caller frees res. */
static int evaluate_in(tsr_result *res, const tsr_ruleset *rs, const tsr_order *order,
                       const tsr_eval_options *o, tsr_error *err)
{
    tsr_eval ev;
    int rc;

    rc = setup(&ev, res, rs, order, o, err);
    if (rc == TSR_OK)
        rc = run_steps(&ev);
    res->steps = tsr__expr_ctx_steps(&ev.x);
    clear_promo_flags(res);
    if (ev.x.regex_scratch) {   /* only a rule set with `matches` makes one */
        tsr__regex_scratch_free(ev.x.regex_scratch, &res->alloc);
        ev.x.regex_scratch = NULL;
    }
    if (rc != TSR_OK) {
        if (rc == TSR_ENOMEM)
            tsr__err(err, TSR_ENOMEM, "out of memory");
        else if (err && err->code == TSR_OK)
            tsr__err(err, rc, "%s", tsr_strerror(rc));
    }
    return rc;
}

/* tsr_evaluate (reuse false: *out is ignored) and tsr_evaluate_into (reuse
 * true: *out NULL or a result to evaluate into again).  On failure *out is
 * NULL, a result given freed. */
static int evaluate(tsr_result **out, bool reuse, const char *fn, const tsr_ruleset *rs,
                    const tsr_order *order, const tsr_eval_options *opts, tsr_error *err)
{
    static const tsr_eval_options defaults = TSR_EVAL_OPTIONS_INIT;
    tsr_eval_options o = defaults;
    tsr_result *res = reuse ? *out : NULL;
    int rc;

    *out = NULL;
    if ((rc = check_call(fn, rs, order, opts, &o, err)) != TSR_OK) {
        tsr_result_free(res);
        return rc;
    }
    /* memory from another allocator than the rule set's is not reused:
     * what the evaluation allocates must come from the rule set's */
    if (res && (res->alloc.fn != rs->alloc.fn || res->alloc.ud != rs->alloc.ud)) {
        tsr_result_free(res);
        res = NULL;
    }
    if (res) {
        tsr_result *r = result_rewind(res, rs);
        if (!r)
            tsr_result_free(res);
        res = r;
    } else {
        res = result_new(rs, order->nlines);
    }
    if (!res)
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    if ((rc = evaluate_in(res, rs, order, &o, err)) != TSR_OK) {
        tsr_result_free(res);
        return rc;
    }
    *out = res;
    return TSR_OK;
}

int tsr_evaluate(tsr_result **out, const tsr_ruleset *rs, const tsr_order *order,
                 const tsr_eval_options *opts, tsr_error *err)
{
    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_evaluate: `out` is NULL");
    return evaluate(out, false, "tsr_evaluate", rs, order, opts, err);
}

int tsr_evaluate_into(tsr_result **result, const tsr_ruleset *rs, const tsr_order *order,
                      const tsr_eval_options *opts, tsr_error *err)
{
    tsr__error_clear(err);
    if (!result)
        return tsr__err(err, TSR_EINVAL, "tsr_evaluate_into: `result` is NULL");
    return evaluate(result, true, "tsr_evaluate_into", rs, order, opts, err);
}

/* tsr_evaluate_text and tsr_evaluate_text_into: read the text into an
 * order from the rule set's pool of spare orders (order_pool.c), evaluate,
 * and give the order back: in steady state reading allocates nothing. */
static int evaluate_text(tsr_result **out, bool reuse, const tsr_ruleset *rs, const char *text,
                         size_t len, const tsr_eval_options *opts, tsr_error *err)
{
    tsr_order *order;
    int rc;

    if (!rs) {
        tsr__error_clear(err);
        rc = tsr__err(err, TSR_EINVAL, "tsr_evaluate_text: rule set is NULL");
    } else if ((rc = tsr__ruleset_take_order(rs, &order, err)) == TSR_OK) {
        rc = tsr_order_parse(order, text, len, err);
        if (rc == TSR_OK)   /* frees a reused result on failure */
            rc = reuse ? tsr_evaluate_into(out, rs, order, opts, err)
                       : tsr_evaluate(out, rs, order, opts, err);
        tsr__ruleset_give_order(rs, order);
    }
    if (rc != TSR_OK && reuse) {
        tsr_result_free(*out);
        *out = NULL;
    }
    return rc;
}

int tsr_evaluate_text(tsr_result **out, const tsr_ruleset *rs, const char *text, size_t len,
                      const tsr_eval_options *opts, tsr_error *err)
{
    if (out)
        *out = NULL;
    return evaluate_text(out, false, rs, text, len, opts, err);
}

int tsr_evaluate_text_into(tsr_result **result, const tsr_ruleset *rs, const char *text,
                           size_t len, const tsr_eval_options *opts, tsr_error *err)
{
    if (!result) {
        tsr__error_clear(err);
        return tsr__err(err, TSR_EINVAL, "tsr_evaluate_text_into: `result` is NULL");
    }
    return evaluate_text(result, true, rs, text, len, opts, err);
}

void tsr_result_free(tsr_result *r)
{
    if (!r)
        return;
    if (r->json)
        tsr__free(&r->alloc, r->json, r->json_cap);
    if (r->promo_flags)
        tsr__free(&r->alloc, r->promo_flags, r->promo_flags_n);
    tsr__arena_free_holder(&r->arena);   /* the result lives inside it */
}
