/*
 * eval.h — evaluation of one order against one rule set (SPEC §4) and the
 * result it produces (SPEC §6).
 *
 * The driver, eval.c, sets an evaluation up and calls each step in turn:
 * segments and tier, categories and prices (eval.c), promo codes (promo.c),
 * discounts (discounts.c, with discount_units.c), the promo codes' verdict
 * after the discounts (promo.c), redemption and earning (loyalty.c), offers
 * (eval.c), taxes (taxes.c), then the totals.  The steps call no step and
 * not the driver: what they share is the kit below, gate.c (does a rule apply now:
 * conditions, `valid:`, `channels:`, `requires:`) and trace.c (the trace,
 * its sentences, where an evaluation error happened); the plan built at
 * load (plan.h) says which categories, tax rates and discounts a line's
 * kind can reach.  result_json.c reads
 * a result out: its JSON text and the accessors; explain.c renders it for
 * people.  All of an evaluation's memory is the result's arena: one
 * allocation in the common case.
 */
#ifndef TSR_EVAL_H
#define TSR_EVAL_H

#include "order.h"

typedef enum tsr_promo_status {
    TSR_PROMO_ACCEPTED = 0,
    TSR_PROMO_REJECTED
} tsr_promo_status;

typedef enum tsr_promo_reason {
    TSR_PR_NONE = 0,
    TSR_PR_UNKNOWN,
    TSR_PR_EXPIRED,
    TSR_PR_NOT_YET_VALID,
    TSR_PR_NOT_ELIGIBLE,
    TSR_PR_USAGE_LIMIT,
    TSR_PR_NOT_COMBINABLE,
    TSR_PR_NO_EFFECT,
    TSR_PR_NOT_APPLICABLE       /* customer-safe mode */
} tsr_promo_reason;

/* The reason as the result and the JSON write it ("" for none; result_json.c). */
const char *tsr__promo_reason_name(tsr_promo_reason r);

typedef struct tsr_res_promo {
    const char *code;           /* normalised */
    size_t code_len;
    int promo;                  /* index into rs->promos, -1 when unknown */
    tsr_promo_status status;
    tsr_promo_reason reason;
} tsr_res_promo;

/* One discount's effect on one line. */
typedef struct tsr_line_discount {
    int discount;               /* index into rs->discounts */
    int64_t amount;             /* saving, minor units, > 0 */
} tsr_line_discount;

typedef struct tsr_res_line {
    const char *id;             /* NUL-terminated, id_len bytes */
    const char *kind;           /* NUL-terminated, kind_len bytes */
    int category;               /* index into rs->categories, -1 none (or preset by
                                   the order, see category_name) */
    uint32_t id_len;            /* bytes of id (kind_len: of kind), set by
                                   setup: the result writer measures nothing */
    const char *category_name;  /* NULL when none */
    int64_t quantity;
    int64_t unit_price;
    int64_t subtotal;           /* unit_price * quantity */
    int64_t total;              /* after discounts (current total during step 5),
                                   then after redemption: what the customer pays */
    int64_t discount;           /* sum of discounts */
    tsr_line_discount *discounts;
    size_t ndiscounts, discounts_cap;
    int64_t redeemed_points;
    int64_t redeemed_value;
    int64_t points_earned;
    bool claimed;               /* by an exclusive discount */
    uint32_t kind_len;          /* (both lengths sit in padding: a line is
                                   128 bytes with them as without) */
} tsr_res_line;

/* One line's tax (step 10; rule sets with `taxes` only). */
typedef struct tsr_res_tax {
    int rate;                   /* index into rs->taxes.rates, -1: no rate took the line */
    int64_t base;               /* its tax base: total, or total + redeemed value */
    int64_t amount;             /* its tax, minor units (included or added) */
} tsr_res_tax;

/* One rate over the order: what a fiscal receipt prints. */
typedef struct tsr_rate_tax {
    int64_t base, amount;       /* of the lines that took it */
    size_t nlines;              /* how many took it; 0: the rate is not used */
} tsr_rate_tax;

typedef struct tsr_points_entry {
    int earn;                   /* index into rs->loyalty.earn */
    int line;                   /* line index, -1 for order-level (flat) entries */
    int64_t points;
    int64_t available_on;       /* date */
    bool has_expires;
    int64_t expires_on;
} tsr_points_entry;

typedef struct tsr_lot_use {
    const char *id;
    int64_t points;
} tsr_lot_use;

typedef enum tsr_redeem_reason {
    TSR_RR_NONE = 0, TSR_RR_NOT_MEMBER, TSR_RR_BALANCE, TSR_RR_MAX_PERCENT, TSR_RR_STEP,
    TSR_RR_MIN_POINTS, TSR_RR_NO_REDEEM      /* the rule set has no `redeem:` */
} tsr_redeem_reason;

/* As the result and the JSON write it ("" for none; result_json.c). */
const char *tsr__redeem_reason_name(tsr_redeem_reason r);

/* One rule in the trace: applied or not, with why (source text of the first
 * failing condition, or a sentence). */
typedef struct tsr_trace_entry {
    const char *section;        /* "categories", "promo_codes", "discounts", "earn", "offers",
                                   "loyalty", "taxes" */
    const char *id;
    bool applied;
    const char *why;            /* NULL when applied */
    const char *note;           /* NULL, or a remark on how it applied
                                   ("percent 150 capped at 100") */
} tsr_trace_entry;

struct tsr_result {
    tsr_alloc alloc;
    tsr_arena arena;
    const tsr_ruleset *rs;      /* the rule set must outlive the result */

    /* An evaluation into a kept result zeroes order_id ... steps and keeps
     * the rest (result_rewind in eval.c): a field of one evaluation goes
     * in that range. */
    const char *order_id;       /* NULL when the order has none */
    uint8_t *segments;          /* 0/1 per rs->segments */
    int tier;                   /* index into rs->tiers, -1 none */
    tsr_res_line *lines;
    size_t nlines;
    tsr_res_promo *promos;
    size_t npromos;
    uint8_t *promo_accepted;    /* 0/1 per rs->promos (for promo.ID) */
    bool member;
    int64_t points_redeemed;
    tsr_redeem_reason redeem_reason;
    int64_t points_earned;
    tsr_points_entry *entries;
    size_t nentries, entries_cap;
    tsr_lot_use *lots_used;
    size_t nlots_used;
    int *offers;                /* indexes into rs->offers */
    size_t noffers;
    tsr_res_tax *line_tax;      /* per line; NULL when the rule set has no `taxes` */
    tsr_rate_tax *rate_tax;     /* per rs->taxes.rates; NULL likewise */
    tsr_trace_entry *trace;
    size_t ntrace, trace_cap;
    tsr_totals totals;
    uint64_t steps;             /* expression steps the evaluation took (budget) */

    char *json;                 /* tsr_result_json's buffer (kept by a reused result) */
    size_t json_len, json_cap;
    bool json_ready;            /* json holds this evaluation's text */
    /* A result evaluated into again keeps its promo_accepted flags here
     * (allocated with `alloc`, promo_flags_n = the rule set's promo code
     * rules + 1) and leaves them all zero after each evaluation by clearing
     * only those its entered codes set (clear_promo_flags): a rule set of
     * 100,000 codes then costs no 100 KB of zeroing per order.  NULL for a
     * new result, whose flags are carved from the arena. */
    uint8_t *promo_flags;
    size_t promo_flags_n;
};

/* The state of one evaluation, passed from step to step.  `recs` is a
 * private copy of the order's line records whose computed fields
 * (TSR_ITEM_CATEGORY, TSR_ITEM_PRICE, TSR_ITEM_SUBTOTAL, TSR_ITEM_TOTAL) the
 * steps keep current, so `for`/`reward` expressions see item.total as the
 * line's current total. */
typedef struct tsr_eval {
    const tsr_ruleset *rs;
    const tsr_order *order;
    const tsr_eval_options *opts;
    tsr_result *res;
    tsr_arena *arena;           /* &res->arena */
    tsr_value *recs;            /* nlines * stride */
    size_t stride;
    tsr_expr_ctx x;             /* expression context; x.item set per line */
    uint8_t *memo;              /* nlines rows of rs->nmemo; NULL when rs->nmemo is 0 */
    int64_t today;              /* local date of `now` (rule set zone or own offset) */
    int64_t now_minutes;        /* local minutes since midnight */
    unsigned weekday;           /* of `today` */
    tsr_error *err;
    /* Per line, the kind id the plan gives its `item.kind` (plan.h), set by
     * the categories step for the steps after it; NULL when the rule set's
     * plan names no kind. */
    uint32_t *line_kinds;
} tsr_eval;

/* Point the expression context at line i (its record). */
static inline void tsr__eval_at_line(tsr_eval *ev, size_t i)
{
    ev->x.item = ev->recs + i * ev->stride;
    if (ev->memo) {   /* the line's row of the condition memo (tsr__expr_test) */
        ev->x.memo_row = ev->memo + i * ev->rs->nmemo;
        ev->x.memo_item = ev->x.item;
    }
}

/* The computed fields of a line's record (item.price, item.subtotal,
 * item.total) from its result line l: evaluation keeps them in step as it
 * goes, a refund sets them as evaluation left them. */
static inline void tsr__line_rec_sync(tsr_value *rec, const tsr_res_line *l)
{
    rec[TSR_ITEM_PRICE].type = TSR_T_MONEY;
    rec[TSR_ITEM_PRICE].u.i = l->unit_price;
    rec[TSR_ITEM_SUBTOTAL].type = TSR_T_MONEY;
    rec[TSR_ITEM_SUBTOTAL].u.i = l->subtotal;
    rec[TSR_ITEM_TOTAL].type = TSR_T_MONEY;
    rec[TSR_ITEM_TOTAL].u.i = l->total;
}

/* Keep the computed fields of line i's record in step with res->lines[i]
 * (and let the aggregate cache know they changed). */
static inline void tsr__eval_sync_line(tsr_eval *ev, size_t i)
{
    tsr__line_rec_sync(ev->recs + i * ev->stride, &ev->res->lines[i]);
    ev->x.lines_gen++;
}

/* Call after changing segments, the tier or a promo flag: aggregates that
 * read them are computed again (tsr_expr_ctx.flags_gen). */
static inline void tsr__eval_flags_changed(tsr_eval *ev)
{
    ev->x.flags_gen++;
}

/* Give x the work budget of rs (tsr_load_options.max_eval_steps) and an
 * aggregate cache for rs's aggregates, allocated from `arena`.  TSR_OK or
 * TSR_ENOMEM. */
int tsr__eval_ctx_limits(tsr_expr_ctx *x, const tsr_ruleset *rs, tsr_arena *arena);

/* Is a trace wanted (tsr_eval_options.no_trace not set)?  Steps build no
 * sentence for the trace without it. */
static inline bool tsr__tracing(const tsr_eval *ev)
{
    return !ev->opts->no_trace;
}

/* ---------------------------------------------------------------------
 * gate.c: does a rule apply now.
 */

/* "`text` was false" for a failing condition of e (text/len as
 * tsr__expr_test named it, quoted up to TSR_QUOTE_MAX bytes): prepared at
 * load when it is one of e's sites, else formatted.  "" with no_trace
 * (trace.c). */
const char *tsr__why_false(tsr_eval *ev, const tsr_expr *e, const char *text, size_t len);

/* tsr__eval_test when neither the memo nor the inline comparison answers. */
int tsr__eval_test_full(tsr_eval *ev, const tsr_expr *e, bool *holds, const char **why);

/* Evaluate a condition at the current line (NULL holds), answering
 * memoised and single-comparison conditions inline.  When it does not hold
 * and `why` is not NULL, *why is the trace text ("`x` was false"; "" with
 * no_trace, NULL when out of memory). */
static inline int tsr__eval_test(tsr_eval *ev, const tsr_expr *e, bool *holds, const char **why)
{
    uint32_t failed = 0;
    uint8_t *cell;
    unsigned m;

    if (!e) {
        *holds = true;
        return TSR_OK;
    }
    /* a memoised answer for this line: no call (see tsr__expr_memo_get);
     * a false one that needs its trace text asks the memo through the
     * full path, which charges nothing for it either */
    cell = tsr__expr_memo_cell(e, &ev->x);
    m = cell ? *cell : 0u;
    if (m == 2 || (m == 1 && !why)) {
        *holds = m == 2;
        return TSR_OK;
    }
    /* comparisons of fields with constants, flags, and `and` chains of
     * them answered inline (see tsr__expr_fast_test), with the trace text
     * of the conjunct that failed */
    if (!m && tsr__expr_fast_test_cell(e, &ev->x, holds, &failed, cell)) {
        if (!*holds && why)
            *why = tsr__why_false(ev, e, e->src + e->fast[failed].off, e->fast[failed].len);
        return TSR_OK;
    }
    return tsr__eval_test_full(ev, e, holds, why);
}

/* tsr__validity_holds for a validity that restricts something. */
bool tsr__validity_check(tsr_eval *ev, const tsr_validity *v, const char **why);

/* Does a rule's `valid:`/`channels:` hold now?  An empty one (v->any
 * false: the rule has neither) always does, at the cost of one test.  When
 * not, and `why` is not NULL and a trace is wanted, *why is a short
 * sentence for the trace ("valid.from 2026-01-01 not reached"). */
static inline bool tsr__validity_holds(tsr_eval *ev, const tsr_validity *v, const char **why)
{
    return !v->any || tsr__validity_check(ev, v, why);
}

/* The gates of an order-level rule, in the order the rule language gives
 * them: `when`, `valid` and `channels`, then `requires` (a promo code rule
 * index, -1 none; `requires_why` is its trace sentence).  Clears the line
 * in scope.  When they do not all hold, *why says why for the trace ("" with
 * no_trace).  TSR_OK, an evaluation error, or TSR_ENOMEM. */
int tsr__rule_gate(tsr_eval *ev, const tsr_expr *when, const tsr_validity *valid, int requires,
                   const char *requires_why, bool *holds, const char **why);

/* An order-level condition whose conjuncts are all answered inline
 * (flags such as `segment.vip`, `customer.member`, numbers compared with
 * constants; see tsr__expr_fast_conjs), without a memo slot: answered here
 * and charged as tsr__eval_test charges it: 1 and *holds, or 0 when it has
 * another shape, a field holds another type than declared, or the budget is
 * about to run out (tsr__eval_test then answers, and reports either). */
static inline int tsr__when_inline(tsr_eval *ev, const tsr_expr *e, bool *holds)
{
    const tsr_fast_cmp *f = e->fast;
    uint32_t failed;

    if (!e->nfast || e->memo || ev->x.steps_left < (int64_t)e->cost)
        return 0;
    /* one flag or number, what rule gates write most, without the call
     * and loop of tsr__expr_fast_conjs (gcc keeps that one out of line) */
    if (e->nfast == 1 && (f->kind == TSR_FAST_SEGMENT || f->kind == TSR_FAST_PROMO)) {
        const uint8_t *flags = f->kind == TSR_FAST_SEGMENT ? ev->x.segments
                                                           : ev->x.promo_accepted;
        *holds = flags && flags[f->slot];
    } else if (e->nfast == 1 && f->kind == TSR_FAST_NUM) {
        const tsr_value *rec = f->record == TSR_REC_ITEM ? ev->x.item
                               : f->record == TSR_REC_ORDER ? ev->x.order : ev->x.customer;
        const tsr_value *v = rec ? &rec[f->slot] : NULL;
        if (v && v->type == f->type)
            *holds = tsr__fast_rel(v->u.i, f->k.u.i, f->rel);
        else if (!v || v->type == TSR_T_MISSING)
            *holds = false;             /* missing: the comparison is false */
        else
            return 0;                   /* another type: the walker reports it */
    } else if (!tsr__expr_fast_conjs(f, e->nfast, &ev->x, holds, &failed)) {
        return 0;
    }
    ev->x.steps_left -= e->cost;
    return 1;
}

/* tsr__rule_gate when no trace is wanted (no sentence for it), inline:
 * the same gates in the same order, the same errors and steps; a `when`
 * answered inline is read directly (tsr__when_inline). */
static inline int tsr__rule_gate_quiet(tsr_eval *ev, const tsr_expr *when,
                                       const tsr_validity *valid, int requires, bool *holds)
{
    int rc;

    ev->x.item = NULL;
    if (!when)
        *holds = true;
    else if (!tsr__when_inline(ev, when, holds) &&
             (rc = tsr__eval_test(ev, when, holds, NULL)) != TSR_OK)
        return rc;
    if (*holds && (!tsr__validity_holds(ev, valid, NULL) ||
                   (requires >= 0 && !ev->res->promo_accepted[requires])))
        *holds = false;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * trace.c: what an evaluation says about itself.
 */

/* Add a trace entry (copies nothing: section/id/why must outlive the result,
 * i.e. live in the rule set or the result arena).  No-op with no_trace. */
int tsr__trace(tsr_eval *ev, const char *section, const char *id, bool applied, const char *why);
/* A formatted why in the result arena ("`x` was false"); NULL when out of
 * memory. */
const char *tsr__why(tsr_eval *ev, const char *fmt, ...) TSR_PRINTF(2, 3);
/* (tsr__why_false, the sentence for a failing condition, is declared with
 * tsr__eval_test above.) */

/* Give an evaluation error (rc TSR_EEVAL) the rule it happened in (its
 * place; NULL: none) and the part of the order (path, e.g. items[3] or
 * promo_codes[1]; NULL: none), each unless the error names one already:
 * an error from an expression names its exact sub-expression and line.
 * Returns rc; other codes pass through untouched. */
int tsr__eval_locate(tsr_eval *ev, int rc, const tsr_srcpos *rule, const char *path);

/* ---------------------------------------------------------------------
 * The steps, in the order the driver (eval.c) calls them.
 */

/* Per promo code rule, what the discounts that `requires` it did (step 5's
 * verdict, handed by the driver to tsr__promos_settle). */
enum {
    TSR_PROMO_EFFECT_UNUSED = 0,   /* no discount requires it: its effect lies
                                      elsewhere (promo.ID in earn rules, offers),
                                      so it is never judged `no_effect` */
    TSR_PROMO_EFFECT_NONE,         /* required, but no requiring discount changed a line */
    TSR_PROMO_EFFECT_SOME
};

int tsr__eval_promos(tsr_eval *ev);          /* step 4 (promo.c) */
/* Step 5 (discounts.c).  *effect: per entered code (index of res->promos),
 * TSR_PROMO_EFFECT_* (in the result arena); NULL when no accepted code was left without
 * effect (nothing for tsr__promos_settle to turn into no_effect). */
int tsr__eval_discounts(tsr_eval *ev, const uint8_t **effect);
/* After step 5 (promo.c): accepted codes whose effect[] is
 * TSR_PROMO_EFFECT_NONE become rejected/no_effect (promo.ID false from
 * here on), customer-safe mode masks every rejection as not_applicable, and
 * the `promo_codes.ID` trace entries are brought up to date. */
int tsr__promos_settle(tsr_eval *ev, const uint8_t *effect);
int tsr__eval_redeem(tsr_eval *ev);          /* step 6 (loyalty.c) */
int tsr__eval_earn(tsr_eval *ev);            /* step 7 (loyalty.c) */
/* Step 10 (taxes.c): res->line_tax and res->rate_tax, with `taxes`; the
 * driver then adds the tax into the totals. */
int tsr__eval_taxes(tsr_eval *ev);

/* The tax in `base` minor units at `rate` (percent, decimal scale 10^6),
 * rounded with `mode`: base × rate / (100 + rate) when the base includes it,
 * base × rate / 100 when it is added on top.  False on overflow.  (taxes.c;
 * refunds use it for the tax their amounts contain.) */
bool tsr__tax_of(int64_t base, int64_t rate, bool included, tsr_rounding mode, int64_t *out);

#endif /* TSR_EVAL_H */
