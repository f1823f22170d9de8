/*
 * expr_eval.c — runs compiled expressions (tsr_prog) against an order.
 *
 * A recursive walk over the flat op array.  Two entry points per op:
 * ev() produces a value, test() produces the truthiness directly, so
 * conditions (`when`, `for`, ...) never build bool values for their
 * and/or/not/comparison nodes.  Nothing is looked up by name and nothing is
 * allocated, except the PCRE2 match data (and a buffer for case-mapped
 * subjects), created once per evaluation context in ctx->regex_scratch.
 *
 * Missing values (SPEC §1): arithmetic and functions of a missing operand
 * are missing; comparisons and `in` with a missing operand are false; in a
 * boolean context missing is false; has(x) is whether x is present.
 * sum(items, x) skips lines where x is missing (as SQL's SUM does) and is 0
 * over no lines.  Every int64 operation is checked: an overflow is
 * TSR_EEVAL naming the sub-expression that overflowed.
 */
#include "expr_impl.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

typedef struct est {
    const tsr_op *ops;
    const uint32_t *kids;
    tsr_expr_ctx *ctx;
    const char *src;
    const tsr_expr *e;      /* where src is written; NULL when folding constants at load */
} est;

static const tsr_value missing_value;

/* Give the error just set the places it happened at: the rule's file, line
 * and column of op o (see tsr_expr.pos_exact), and items[k] when it was
 * evaluated for line record `item` of the order.  Returns TSR_EEVAL. */
static int locate(const est *s, const tsr_op *o, const tsr_value *item)
{
    const tsr_expr_ctx *ctx = s->ctx;
    const tsr_expr *e = s->e;
    char path[40] = "";

    if (!ctx->err)
        return TSR_EEVAL;
    if (item && ctx->lines && ctx->line_stride) {
        uintptr_t at = (uintptr_t)item, base = (uintptr_t)ctx->lines;
        size_t k = (size_t)(at - base) / (ctx->line_stride * sizeof *item);
        if (at >= base && k < ctx->nlines)
            snprintf(path, sizeof path, "items[%zu]", k);
    }
    if (e && e->line > 0)
        tsr__err_locate(ctx->err, e->file, e->line,
                        e->col + (e->pos_exact && o->off <= (uint32_t)(INT_MAX - e->col)
                                      ? (int)o->off : 0), path);
    else
        tsr__err_locate(ctx->err, NULL, 0, 0, path);
    return TSR_EEVAL;
}

/* what, at op o, quoting o's source text (cut at TSR_QUOTE_MAX bytes). */
static int fail(const est *s, const tsr_op *o, const tsr_value *item, const char *what)
{
    tsr__err(s->ctx->err, TSR_EEVAL, "%s in `%.*s`", what,
             (int)tsr__utf8_prefix(s->src + o->off, o->len, TSR_QUOTE_MAX), s->src + o->off);
    return locate(s, o, item);
}

static int overflow(const est *s, const tsr_op *o, const tsr_value *item)
{
    return fail(s, o, item, "arithmetic overflow");
}

/* ---------------------------------------------------------------------
 * The work budget (tsr_expr_ctx.steps_left).  Charging is a subtraction
 * and a sign test; only running out takes this call.
 */
static int out_of_steps(const est *s)
{
    tsr_expr_ctx *ctx = s->ctx;
    const tsr_expr *e = s->e;
    char rule[160];

    if (!ctx->max_steps) {   /* a context without a budget */
        ctx->steps_left = INT64_MAX;
        return TSR_OK;
    }
    ctx->steps_left = -1;    /* stays spent: every later charge fails too */
    if (!e)
        return tsr__err(ctx->err, TSR_ELIMIT,
                        "the evaluation took more than %" PRId64 " expression steps "
                        "(max_eval_steps) and was stopped", ctx->max_steps);
    /* " in `for` of discounts.family", " in segments.vip", " in `fee` of refunds" */
    if (!e->section)
        rule[0] = '\0';
    else
        snprintf(rule, sizeof rule, " in %s%s%s%s%s%s", e->key ? "`" : "", e->key ? e->key : "",
                 e->key ? "` of " : "", e->section, e->rule_id ? "." : "",
                 e->rule_id ? e->rule_id : "");
    return tsr__err_at(ctx->err, TSR_ELIMIT, e->file ? e->file : "", e->line, e->col,
                       "the evaluation took more than %" PRId64 " expression steps "
                       "(max_eval_steps) and was stopped%s: `%.*s%s`", ctx->max_steps, rule,
                       (int)tsr__utf8_prefix(e->src, e->src_len, 120), e->src,
                       e->src_len > 120 ? "…" : "");
}

static inline int charge(const est *s, uint32_t steps)
{
    if (TSR_LIKELY((s->ctx->steps_left -= steps) >= 0))
        return TSR_OK;
    return out_of_steps(s);
}

static inline tsr_value mkval(uint8_t type, int64_t i)
{
    tsr_value v = tsr__missing();
    v.type = type;
    v.u.i = i;
    return v;
}

static inline const tsr_value *record(const est *s, unsigned rk, const tsr_value *item)
{
    switch (rk) {
    case TSR_REC_ORDER: return s->ctx->order;
    case TSR_REC_CUSTOMER: return s->ctx->customer;
    default: return item;
    }
}

static const char *const rec_names[TSR_REC__COUNT] = { "order", "customer", "item" };

/* A field of a record; its run-time type must be the declared one (the
 * order reader guarantees it; anything else is a bug, reported, not read
 * through the wrong union member). */
static inline int load(const est *s, const tsr_op *o, unsigned rk, uint32_t slot, uint8_t type,
                       const tsr_value *item, const tsr_value **out)
{
    const tsr_value *rec = record(s, rk, item);
    const tsr_value *v = rec ? &rec[slot] : &missing_value;
    if (TSR_UNLIKELY(v->type != type && v->type != TSR_T_MISSING)) {
        tsr__err(s->ctx->err, TSR_EEVAL, "%s field %u holds a %s where a %s was declared in `%.*s`",
                 rk < TSR_REC__COUNT ? rec_names[rk] : "?", slot,
                 tsr__type_name((tsr_type)v->type), tsr__type_name((tsr_type)type),
                 (int)tsr__utf8_prefix(s->src + o->off, o->len, TSR_QUOTE_MAX), s->src + o->off);
        locate(s, o, item);
        return TSR_EEVAL;
    }
    *out = v;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Comparisons.
 */
static int bytes_cmp(const char *a, size_t an, unsigned af, const char *b, size_t bn,
                     unsigned bf)
{
    size_t n = an < bn ? an : bn;
    if (!af && !bf) {
        int c = n ? memcmp(a, b, n) : 0;
        if (c)
            return c;
    } else {
        for (size_t i = 0; i < n; i++) {
            unsigned char x = tsr__vf_map((unsigned char)a[i], af);
            unsigned char y = tsr__vf_map((unsigned char)b[i], bf);
            if (x != y)
                return x < y ? -1 : 1;
        }
    }
    return (an > bn) - (an < bn);
}

int tsr__value_strcmp(const tsr_value *a, const tsr_value *b)
{
    return bytes_cmp(a->u.s, a->len, a->flags, b->u.s, b->len, b->flags);
}

static inline bool compare(const tsr_value *a, const tsr_value *b, uint8_t cls, uint8_t rel)
{
    if (cls == CLS_STR) {
        if (rel == REL_EQ)
            return tsr__str_eq(a, b);
        if (rel == REL_NE)
            return !tsr__str_eq(a, b);
        return tsr__rel_holds(tsr__value_strcmp(a, b), rel);
    }
    int c = (a->u.i > b->u.i) - (a->u.i < b->u.i);
    return tsr__rel_holds(c, rel);
}

static bool map_has(const tsr_table *t, bool linear, const tsr_value *key, size_t *at)
{
    if (linear) {
        for (size_t i = 0; i < t->len; i++)
            if (bytes_cmp(key->u.s, key->len, key->flags, t->keys[i], t->key_lens[i], 0) == 0)
                return (*at = i, true);
        return false;
    }
    size_t lo = 0, hi = t->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bytes_cmp(key->u.s, key->len, key->flags, t->keys[mid], t->key_lens[mid], 0);
        if (c == 0)
            return (*at = mid, true);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

static bool list_has(const tsr_value *list, size_t n, const tsr_value *x, uint8_t cls)
{
    return tsr__list_has(list, n, x, cls == CLS_STR);
}

/* ---------------------------------------------------------------------
 * The walk.
 */
static int ev(const est *s, uint32_t i, const tsr_value *item, tsr_value *out);

static inline const tsr_value *line_at(const tsr_expr_ctx *ctx, size_t k)
{
    return ctx->lines + k * ctx->line_stride;
}

/* Convert instant *a to local time into ctx's memo (local_*): out of line,
 * as an evaluation asks it about one instant, `now`, converted in setup. */
void tsr__expr_local_fill(tsr_expr_ctx *ctx, const tsr_value *a)
{
    ctx->local_off = tsr__local_offset(ctx->tz, a->u.i, a->offset);
    ctx->local_days = tsr__local_days(a->u.i, ctx->local_off);
    ctx->local_usec = a->u.i;
    ctx->local_own = a->offset;
    ctx->local_tz = ctx->tz;
    ctx->local_set = true;
}

/* ---------------------------------------------------------------------
 * Aggregates and their cache (tsr_expr_ctx.aggs).
 */

/* Aggregate o's cache slot, or NULL when it has none. */
static inline tsr_agg_memo *agg_slot(const est *s, const tsr_op *o)
{
    const tsr_expr_ctx *ctx = s->ctx;
    uint64_t at;

    if (!ctx->aggs || !o->c || !s->e || o->c > s->e->naggs)
        return NULL;
    at = (uint64_t)s->e->agg_base + o->c - 1;
    return at < ctx->naggs ? &ctx->aggs[at] : NULL;
}

/* Whether slot m holds o's value now: computed (count/sum/any/all are
 * never missing) and nothing the body reads has changed since. */
static inline bool agg_fresh(const tsr_expr_ctx *ctx, const tsr_op *o, const tsr_agg_memo *m)
{
    return m->v.type != TSR_T_MISSING &&
           (!(o->aux & AGG_LINES) || m->lines_gen == ctx->lines_gen) &&
           (!(o->aux & AGG_FLAGS) || m->flags_gen == ctx->flags_gen);
}

static int test(const est *s, uint32_t i, const tsr_value *item, bool *out);

/* count/sum/any/all over the lines (any/all as a bool value): from the
 * cache when it still holds, else computed, charging the body's cost for
 * every line visited. */
static int aggregate(const est *s, const tsr_op *o, tsr_value *out)
{
    tsr_expr_ctx *ctx = s->ctx;
    tsr_agg_memo *m = agg_slot(s, o);
    bool any = o->op == OP_ANY, decided = false, t;
    int64_t n = 0;
    tsr_value a;
    int rc;

    if (m && agg_fresh(ctx, o, m)) {
        *out = m->v;
        return TSR_OK;
    }
    for (size_t k = 0; k < ctx->nlines && !decided; k++) {
        const tsr_value *line = line_at(ctx, k);
        if ((rc = charge(s, o->b)) != TSR_OK)
            return rc;
        if (o->op == OP_SUM) {
            if ((rc = ev(s, o->a, line, &a)) != TSR_OK)
                return rc;
            /* missing values are skipped (SQL's SUM) */
            if (a.type != TSR_T_MISSING && !tsr__add(n, a.u.i, &n))
                return overflow(s, o, line);   /* the line that made it overflow */
            continue;
        }
        if ((rc = test(s, o->a, line, &t)) != TSR_OK)
            return rc;
        if (o->op == OP_COUNT)
            n += t;
        else
            decided = t == any;
    }
    if (o->op == OP_SUM)
        *out = mkval(o->type, n);
    else if (o->op == OP_COUNT)
        *out = mkval(TSR_T_INT, n);
    else
        *out = mkval(TSR_T_BOOL, decided ? any : !any);
    if (m) {
        m->v = *out;
        m->lines_gen = ctx->lines_gen;
        m->flags_gen = ctx->flags_gen;
    }
    return TSR_OK;
}

/* Ops whose value is a bool that test() computes directly. */
#define CASE_TESTED                                                                        \
    case OP_NOT: case OP_AND: case OP_OR: case OP_CMP: case OP_CMP_FK: case OP_HAS:        \
    case OP_HAS_F: case OP_IN_LIST: case OP_IN_MAP: case OP_IN_DYN: case OP_ANY:           \
    case OP_ALL: case OP_SEGMENT: case OP_PROMO

/* The fused `FIELD <rel> CONSTANT`, the commonest condition of all: kept
 * small so that it inlines into test() and the and/or loops. */
static inline int fk_holds(const est *s, const tsr_op *o, const tsr_value *item, bool *out)
{
    const tsr_value *rec = record(s, o->aux, item);
    const tsr_value *v = rec ? &rec[o->a] : &missing_value;
    if (TSR_LIKELY(v->type == o->b)) {
        if (o->c == CLS_NUM) {
            int64_t x = v->u.i, y = o->k.u.i;
            *out = tsr__rel_holds((x > y) - (x < y), o->aux2);
        } else {
            *out = compare(v, &o->k, CLS_STR, o->aux2);
        }
        return TSR_OK;
    }
    *out = false;
    if (v->type == TSR_T_MISSING)
        return TSR_OK;
    return load(s, o, o->aux, o->a, (uint8_t)o->b, item, &v);   /* reports the mismatch */
}

static int test(const est *s, uint32_t i, const tsr_value *item, bool *out)
{
    const tsr_op *o = &s->ops[i];
    tsr_value a, b;
    bool r;
    int rc;

    switch (o->op) {
    case OP_CMP_FK:
        return fk_holds(s, o, item, out);
    case OP_AND:
        for (uint32_t k = 0; k < o->b; k++) {
            const tsr_op *kid = &s->ops[s->kids[o->a + k]];
            rc = kid->op == OP_CMP_FK ? fk_holds(s, kid, item, &r)
                                      : test(s, s->kids[o->a + k], item, &r);
            if (rc != TSR_OK)
                return rc;
            if (!r)
                return (*out = false, TSR_OK);
        }
        *out = true;
        return TSR_OK;
    case OP_OR:
        for (uint32_t k = 0; k < o->b; k++) {
            const tsr_op *kid = &s->ops[s->kids[o->a + k]];
            rc = kid->op == OP_CMP_FK ? fk_holds(s, kid, item, &r)
                                      : test(s, s->kids[o->a + k], item, &r);
            if (rc != TSR_OK)
                return rc;
            if (r)
                return (*out = true, TSR_OK);
        }
        *out = false;
        return TSR_OK;
    case OP_NOT:
        if ((rc = test(s, o->a, item, &r)) != TSR_OK)
            return rc;
        *out = !r;
        return TSR_OK;
    case OP_CMP:
        if ((rc = ev(s, o->a, item, &a)) != TSR_OK)
            return rc;
        if (a.type == TSR_T_MISSING)
            return (*out = false, TSR_OK);
        if ((rc = ev(s, o->b, item, &b)) != TSR_OK)
            return rc;
        *out = b.type != TSR_T_MISSING && compare(&a, &b, o->aux, o->aux2);
        return TSR_OK;
    case OP_HAS_F: {
        const tsr_value *v;
        if ((rc = load(s, o, o->aux, o->a, (uint8_t)o->b, item, &v)) != TSR_OK)
            return rc;
        *out = v->type != TSR_T_MISSING;
        return TSR_OK;
    }
    case OP_HAS:
        if ((rc = ev(s, o->a, item, &a)) != TSR_OK)
            return rc;
        *out = a.type != TSR_T_MISSING;
        return TSR_OK;
    case OP_IN_LIST:
        if ((rc = ev(s, o->a, item, &a)) != TSR_OK)
            return rc;
        *out = a.type != TSR_T_MISSING && list_has(o->k.u.list, o->k.len, &a, o->aux);
        return TSR_OK;
    case OP_IN_MAP: {
        size_t at;
        if ((rc = ev(s, o->a, item, &a)) != TSR_OK)
            return rc;
        *out = a.type != TSR_T_MISSING && map_has(o->p, o->aux, &a, &at);
        return TSR_OK;
    }
    case OP_IN_DYN:
        if ((rc = ev(s, o->a, item, &a)) != TSR_OK)
            return rc;
        if (a.type == TSR_T_MISSING)
            return (*out = false, TSR_OK);
        if ((rc = ev(s, o->b, item, &b)) != TSR_OK)
            return rc;
        *out = b.type == TSR_T_LIST && list_has(b.u.list, b.len, &a, o->aux);
        return TSR_OK;
    case OP_ANY:
    case OP_ALL:
        if ((rc = aggregate(s, o, &a)) != TSR_OK)
            return rc;
        *out = a.u.i != 0;
        return TSR_OK;
    case OP_SEGMENT:
        *out = s->ctx->segments && s->ctx->segments[o->a];
        return TSR_OK;
    case OP_PROMO:
        *out = s->ctx->promo_accepted && s->ctx->promo_accepted[o->a];
        return TSR_OK;
    case OP_COND:
        if ((rc = test(s, o->a, item, &r)) != TSR_OK)
            return rc;
        return test(s, r ? o->b : o->c, item, out);
    case OP_K:
        *out = tsr__truthy(&o->k);
        return TSR_OK;
    default:
        if ((rc = ev(s, i, item, &a)) != TSR_OK)
            return rc;
        *out = tsr__truthy(&a);
        return TSR_OK;
    }
}

/* Evaluate operand `idx` into `v`; a missing operand makes the op's result
 * missing. */
#define ARG(idx, v)                                                                        \
    do {                                                                                   \
        if ((rc = ev(s, (idx), item, &(v))) != TSR_OK)                                     \
            return rc;                                                                     \
        if ((v).type == TSR_T_MISSING) {                                                   \
            *out = tsr__missing();                                                         \
            return TSR_OK;                                                                 \
        }                                                                                  \
    } while (0)

static int64_t floor_div(int64_t a, int64_t d)
{
    int64_t q = a / d;
    if (a % d != 0 && a < 0)
        q--;
    return q;
}

static int matches(const est *s, const tsr_op *o, const tsr_value *item, const tsr_value *subj,
                   bool *out)
{
    tsr_expr_ctx *ctx = s->ctx;
    const char *p = subj->u.s;
    if (subj->flags) {
        char *buf = tsr__regex_scratch_buf(&ctx->regex_scratch, ctx->alloc, subj->len + 1);
        if (!buf)
            return tsr__err(ctx->err, TSR_ENOMEM, "out of memory");
        for (uint32_t k = 0; k < subj->len; k++)
            buf[k] = (char)tsr__vf_map((unsigned char)subj->u.s[k], subj->flags);
        p = buf;
    }
    int rc = tsr__regex_match(o->p, p ? p : "", subj->len, &ctx->regex_scratch, ctx->alloc);
    if (rc == 0 || rc == 1) {
        *out = rc == 1;
        return TSR_OK;
    }
    if (rc == TSR_ENOMEM)
        return tsr__err(ctx->err, TSR_ENOMEM, "out of memory");
    size_t plen;
    const char *pat = tsr__regex_source(o->p, &plen);
    tsr__err(ctx->err, TSR_EEVAL, "pattern `%.*s` %s %s in `%.*s`",
             (int)tsr__utf8_prefix(pat, plen, 100), pat,
             tsr__regex_hit_limit(ctx->regex_scratch) ? "hit the" : "failed:",
             tsr__regex_last_error(ctx->regex_scratch),
             (int)tsr__utf8_prefix(s->src + o->off, o->len, TSR_QUOTE_MAX), s->src + o->off);
    return locate(s, o, item);
}

static int ev(const est *s, uint32_t i, const tsr_value *item, tsr_value *out)
{
    const tsr_op *o = &s->ops[i];
    tsr_expr_ctx *ctx = s->ctx;
    tsr_value a, b, c;
    int64_t r;
    int rc;

    switch ((tsr_opcode)o->op) {
    case OP_K:
        *out = o->k;
        return TSR_OK;
    case OP_FIELD: {
        const tsr_value *v;
        if ((rc = load(s, o, o->aux, o->a, o->type, item, &v)) != TSR_OK)
            return rc;
        *out = *v;
        return TSR_OK;
    }
    CASE_TESTED: {
        bool t;
        if ((rc = test(s, i, item, &t)) != TSR_OK)
            return rc;
        *out = mkval(TSR_T_BOOL, t);
        return TSR_OK;
    }
    case OP_TIER:
        *out = ctx->tier.type == TSR_T_STRING ? ctx->tier : tsr__missing();
        return TSR_OK;
    case OP_TABLE:
        return fail(s, o, item, "internal error: a table used as a value");
    case OP_TABLE_GET: {
        size_t at;
        ARG(o->a, a);
        *out = map_has(o->p, o->aux, &a, &at) ? o->k.u.list[at] : tsr__missing();
        return TSR_OK;
    }
    case OP_I2D:
        ARG(o->a, a);
        if (!tsr__mul(a.u.i, TSR_DEC_SCALE, &r))
            return overflow(s, o, item);
        *out = mkval(TSR_T_DECIMAL, r);
        return TSR_OK;
    case OP_COND: {
        bool t;
        if ((rc = test(s, o->a, item, &t)) != TSR_OK)
            return rc;
        return ev(s, t ? o->b : o->c, item, out);
    }
    case OP_NEG:
        ARG(o->a, a);
        if (!tsr__sub(0, a.u.i, &r))
            return overflow(s, o, item);
        *out = mkval(o->type, r);
        return TSR_OK;
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DT_ADD:
    case OP_DT_SUB:
    case OP_DT_DIFF: {
        ARG(o->a, a);
        ARG(o->b, b);
        bool ok = o->op == OP_ADD || o->op == OP_DT_ADD ? tsr__add(a.u.i, b.u.i, &r)
                  : o->op == OP_MUL                     ? tsr__mul(a.u.i, b.u.i, &r)
                                                        : tsr__sub(a.u.i, b.u.i, &r);
        if (!ok)
            return overflow(s, o, item);
        *out = mkval(o->type, r);
        if (o->type == TSR_T_DATETIME)
            out->offset = a.offset;   /* the instant moves, the written offset stays */
        return TSR_OK;
    }
    case OP_MUL_SCALED:
        ARG(o->a, a);
        ARG(o->b, b);
        if (!tsr__muldiv(a.u.i, b.u.i, TSR_DEC_SCALE, ctx->rounding, &r))
            return overflow(s, o, item);
        *out = mkval(o->type, r);
        return TSR_OK;
    case OP_DIV_RATIO:
    case OP_DIV_INT:
    case OP_MOD:
        ARG(o->a, a);
        ARG(o->b, b);
        if (b.u.i == 0)
            return fail(s, o, item, "division by zero");
        if (o->op == OP_MOD)
            r = b.u.i == -1 ? 0 : a.u.i % b.u.i;   /* sign of the dividend, as in C and SQL */
        else if (!tsr__muldiv(a.u.i, o->op == OP_DIV_RATIO ? TSR_DEC_SCALE : 1, b.u.i,
                              ctx->rounding, &r))
            return overflow(s, o, item);
        *out = mkval(o->type, r);
        return TSR_OK;
    case OP_DATE_ADD:
    case OP_DATE_SUB: {
        ARG(o->a, a);
        ARG(o->b, b);
        if (b.u.i % TSR_USEC_PER_DAY != 0)
            return fail(s, o, item, "a date moves by whole days only");
        int64_t d = b.u.i / TSR_USEC_PER_DAY;
        if (!(o->op == OP_DATE_ADD ? tsr__add(a.u.i, d, &r) : tsr__sub(a.u.i, d, &r)) ||
            r < TSR_DATE_MIN_DAYS || r > TSR_DATE_MAX_DAYS)
            return fail(s, o, item, "date out of range (years 1 to 9999)");
        *out = mkval(TSR_T_DATE, r);
        return TSR_OK;
    }
    case OP_DATE_DIFF:
        ARG(o->a, a);
        ARG(o->b, b);
        if (!tsr__sub(a.u.i, b.u.i, &r) || !tsr__mul(r, TSR_USEC_PER_DAY, &r))
            return overflow(s, o, item);
        *out = mkval(TSR_T_DURATION, r);
        return TSR_OK;
    case OP_COUNT:
    case OP_SUM:
        return aggregate(s, o, out);
    case OP_MIN:
    case OP_MAX: {
        ARG(o->a, a);
        ARG(o->b, b);
        int cm = o->aux == CLS_STR ? tsr__value_strcmp(&a, &b)
                                   : (a.u.i > b.u.i) - (a.u.i < b.u.i);
        /* Ties keep the first operand. */
        *out = (o->op == OP_MIN ? cm <= 0 : cm >= 0) ? a : b;
        return TSR_OK;
    }
    case OP_ABS:
        ARG(o->a, a);
        if (a.u.i < 0 && !tsr__sub(0, a.u.i, &a.u.i))
            return overflow(s, o, item);
        *out = mkval(o->type, a.u.i);
        return TSR_OK;
    case OP_FLOOR_D:
        ARG(o->a, a);
        *out = mkval(TSR_T_INT, floor_div(a.u.i, TSR_DEC_SCALE));
        return TSR_OK;
    case OP_FLOOR_M: {
        ARG(o->a, a);
        int64_t unit = tsr__pow10(ctx->minor_units);
        if (!tsr__mul(floor_div(a.u.i, unit), unit, &r))
            return overflow(s, o, item);
        *out = mkval(TSR_T_MONEY, r);
        return TSR_OK;
    }
    case OP_LEN_S: {
        ARG(o->a, a);
        int64_t n = 0;
        for (uint32_t k = 0; k < a.len; k++)   /* code points, not bytes */
            n += ((unsigned char)a.u.s[k] & 0xC0) != 0x80;
        *out = mkval(TSR_T_INT, n);
        return TSR_OK;
    }
    case OP_LEN_L:
        ARG(o->a, a);
        *out = mkval(TSR_T_INT, a.len);
        return TSR_OK;
    case OP_LEN_ITEMS:
        *out = mkval(TSR_T_INT, (int64_t)ctx->nlines);
        return TSR_OK;
    case OP_LOWER:
    case OP_UPPER:
        ARG(o->a, a);
        /* A view, not a copy: the last mapping applied wins, which is what
         * applying both in turn to ASCII text gives. */
        a.flags = o->op == OP_LOWER ? TSR_VF_LOWER : TSR_VF_UPPER;
        *out = a;
        return TSR_OK;
    case OP_STARTS_WITH:
        ARG(o->a, a);
        ARG(o->b, b);
        *out = mkval(TSR_T_BOOL, b.len <= a.len &&
                                     bytes_cmp(a.u.s, b.len, a.flags, b.u.s, b.len, b.flags) == 0);
        return TSR_OK;
    case OP_MATCHES: {
        bool m = false;
        ARG(o->a, a);
        if ((rc = matches(s, o, item, &a, &m)) != TSR_OK)
            return rc;
        *out = mkval(TSR_T_BOOL, m);
        return TSR_OK;
    }
    case OP_DT_DATE:
        ARG(o->a, a);
        tsr__expr_local_time(ctx, &a);
        *out = mkval(TSR_T_DATE, ctx->local_days);
        return TSR_OK;
    case OP_WEEKDAY:
        ARG(o->a, a);
        *out = mkval(TSR_T_INT, tsr__weekday(a.u.i));
        return TSR_OK;
    case OP_HOUR:
    case OP_MINUTE: {
        ARG(o->a, a);
        int64_t tod = tsr__local_time_of_day(a.u.i, tsr__expr_local_time(ctx, &a));
        int64_t v = o->op == OP_HOUR ? tod / (3600 * TSR_USEC_PER_SEC)
                                     : tod / (60 * TSR_USEC_PER_SEC) % 60;
        *out = mkval(TSR_T_INT, v);
        return TSR_OK;
    }
    case OP_DURATION:
        ARG(o->a, a);
        if (!tsr__mul(a.u.i, o->k.u.i, &r))
            return overflow(s, o, item);
        *out = mkval(TSR_T_DURATION, r);
        return TSR_OK;
    case OP_DURATION_D:
        ARG(o->a, a);
        /* Exact: every unit is a whole number of seconds (10^6 us). */
        if (!tsr__muldiv(a.u.i, o->k.u.i, TSR_DEC_SCALE, ctx->rounding, &r))
            return overflow(s, o, item);
        *out = mkval(TSR_T_DURATION, r);
        return TSR_OK;
    case OP_DAYS_BETWEEN:
        ARG(o->a, a);
        ARG(o->b, b);
        if (!tsr__sub(b.u.i, a.u.i, &r))
            return overflow(s, o, item);
        *out = mkval(TSR_T_INT, r);
        return TSR_OK;
    case OP_AGE:
        ARG(o->a, a);
        ARG(o->b, b);
        *out = mkval(TSR_T_INT, tsr__age(a.u.i, b.u.i));
        return TSR_OK;
    case OP_BDAY_WITHIN:
        ARG(o->a, a);
        ARG(o->b, b);
        ARG(o->c, c);
        if (c.u.i < 0)
            return fail(s, o, item, "negative number of days");
        *out = mkval(TSR_T_BOOL, tsr__birthday_within(a.u.i, b.u.i, c.u.i));
        return TSR_OK;
    case OP__COUNT:
        break;
    }
    return fail(s, o, item, "internal error: unknown op");
}

/* ---------------------------------------------------------------------
 * Conjuncts answered without the walk (tsr_fast_cmp kinds from
 * TSR_FAST_IN on): each reads its fields as load() does and answers what
 * the ops it replaces answer, missing values included.
 */

int tsr__expr_fast_call(const tsr_fast_cmp *f, tsr_expr_ctx *ctx, bool *holds)
{
    const tsr_value *v;
    int64_t x;
    int r;

    switch (f->kind) {
    case TSR_FAST_IN:
        return tsr__fast_in(f, ctx, holds);
    case TSR_FAST_BDAY:
        return tsr__fast_bday(f, ctx, holds);
    case TSR_FAST_WEEKDAY:
    case TSR_FAST_DATE:
        if ((r = tsr__fast_date(ctx, f->record, f->slot, f->type, &x)) <= 0) {
            *holds = false;
            return r == 0;
        }
        if (f->kind == TSR_FAST_WEEKDAY)
            x = tsr__weekday(x);
        break;
    case TSR_FAST_HOUR:
    case TSR_FAST_MINUTE: {
        int64_t tod;
        if ((r = tsr__fast_field(ctx, f->record, f->slot, f->type, &v)) <= 0) {
            *holds = false;
            return r == 0;
        }
        tod = tsr__local_time_of_day(v->u.i, tsr__expr_local_time(ctx, v));
        x = f->kind == TSR_FAST_HOUR ? tod / (3600 * TSR_USEC_PER_SEC)
                                     : tod / (60 * TSR_USEC_PER_SEC) % 60;
        break;
    }
    default:
        return 0;
    }
    *holds = tsr__rel_holds((x > f->k.u.i) - (x < f->k.u.i), f->rel);
    return 1;
}

int tsr__prog_eval(const tsr_prog *p, uint32_t idx, const char *src, tsr_expr_ctx *ctx,
                   tsr_value *out)
{
    est s = { p->ops, p->kids, ctx, src, NULL };
    return ev(&s, idx, ctx->item, out);
}

int tsr__expr_eval(const tsr_expr *e, tsr_expr_ctx *ctx, tsr_value *out)
{
    if (tsr__expr_value_fast(e, ctx, out))
        return TSR_OK;
    const tsr_prog *p = e->code;
    est s = { p->ops, p->kids, ctx, e->src, e };
    int rc = charge(&s, e->cost);
    if (rc != TSR_OK)
        return rc;
    return ev(&s, p->root, ctx->item, out);
}

/* The root of a memoizable condition (see tsr__expr_memo_same), or NULL. */
static const tsr_op *memo_root(const tsr_expr *e)
{
    const tsr_prog *p;
    const tsr_op *o;

    if (!e || e->is_const || !e->code)
        return NULL;
    p = e->code;
    o = &p->ops[p->root];
    if (o->op != OP_CMP_FK || o->aux != TSR_REC_ITEM)
        return NULL;
    /* evaluation rewrites these in its copy of the line records */
    if (o->a == TSR_ITEM_PRICE || o->a == TSR_ITEM_CATEGORY || o->a == TSR_ITEM_SUBTOTAL ||
        o->a == TSR_ITEM_TOTAL)
        return NULL;
    return o;
}

bool tsr__expr_memo_same(const tsr_expr *a, const tsr_expr *b)
{
    const tsr_op *x = memo_root(a), *y = memo_root(b);

    if (!x || !y || x->a != y->a || x->b != y->b || x->c != y->c || x->aux2 != y->aux2 ||
        x->k.type != y->k.type)
        return false;
    /* fk_holds reads only these: the slot, its type, the class, the
     * relation and the constant */
    if (x->c == CLS_NUM)
        return x->k.u.i == y->k.u.i;
    return x->k.len == y->k.len && x->k.flags == y->k.flags &&
           (x->k.len == 0 || memcmp(x->k.u.s, y->k.u.s, x->k.len) == 0);
}

bool tsr__expr_order_level(const tsr_expr *e)
{
    const tsr_prog *p;
    uint32_t i;

    if (!e)
        return false;
    if (e->is_const)
        return true;
    if (!e->code)
        return false;
    p = e->code;
    for (i = 0; i < p->nops; i++) {
        const tsr_op *o = &p->ops[i];
        switch (o->op) {
        case OP_FIELD: case OP_CMP_FK: case OP_HAS_F:
            if (o->aux != TSR_REC_ORDER && o->aux != TSR_REC_CUSTOMER)
                return false;
            break;
        case OP_COUNT: case OP_SUM: case OP_ANY: case OP_ALL: case OP_LEN_ITEMS:
        case OP_PROMO:
            return false;
        default:
            break;
        }
    }
    return true;
}

static bool op_within(const tsr_op *o, uint32_t off, uint32_t len)
{
    return o->off >= off && o->off - off <= len && o->len <= len - (o->off - off);
}

int tsr__expr_missing_item_field(const tsr_expr *e, const tsr_value *item, uint32_t off,
                                 uint32_t len)
{
    const tsr_prog *p;
    uint32_t i, j;

    if (!e || e->is_const || !e->code || !item)
        return -1;
    p = e->code;
    for (i = 0; i < p->nops; i++) {
        const tsr_op *o = &p->ops[i];
        bool iterated = false;
        if ((o->op != OP_FIELD && o->op != OP_CMP_FK && o->op != OP_HAS_F) ||
            o->aux != TSR_REC_ITEM || !op_within(o, off, len) ||
            item[o->a].type != TSR_T_MISSING)
            continue;
        /* inside count/sum/any/all, `item` is the iterated line */
        for (j = 0; j < p->nops && !iterated; j++) {
            const tsr_op *g = &p->ops[j];
            iterated = (g->op == OP_COUNT || g->op == OP_SUM || g->op == OP_ANY ||
                        g->op == OP_ALL) && op_within(o, g->off, g->len);
        }
        if (!iterated)
            return (int)o->a;
    }
    return -1;
}

static int expr_test(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds, const char **why,
                     size_t *why_len);

/* The sentences themselves are prepared at compile time (why_sites in
 * expr_compile.c); this only finds the one for w/wl. */
const char *tsr__expr_why_false(const tsr_expr *e, const char *w, size_t wl)
{
    size_t off;
    uint32_t i;

    if (!e->whys || w < e->src || w > e->src + e->src_len)
        return NULL;
    off = (size_t)(w - e->src);
    for (i = 0; i < e->nwhys; i++)
        if (e->whys[i].off == off && e->whys[i].len == wl)
            return e->whys[i].text;
    return NULL;
}

const char *tsr__expr_memo_why(const tsr_expr *e)
{
    const tsr_prog *p = e->code;
    const tsr_op *root;

    if (!e->memo || !p)
        return NULL;
    /* what tsr__expr_test below answers from the memo */
    root = &p->ops[p->root];
    return tsr__expr_why_false(e, e->src + root->off, root->len);
}

int tsr__expr_test(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds, const char **why,
                   size_t *why_len)
{
    uint8_t *m;
    int rc;

    if (!e->memo || !ctx->memo_row || ctx->item != ctx->memo_item)
        return expr_test(e, ctx, holds, why, why_len);
    m = &ctx->memo_row[e->memo - 1];
    if (*m) {
        /* the memo's root is a lone comparison: `why` is its whole text,
         * as expr_test gives it */
        const tsr_prog *p = e->code;
        const tsr_op *root = &p->ops[p->root];
        *holds = *m == 2;
        if (!*holds && why) {
            *why = e->src + root->off;
            *why_len = root->len;
        }
        return TSR_OK;
    }
    rc = expr_test(e, ctx, holds, why, why_len);
    if (rc == TSR_OK)
        *m = *holds ? 2 : 1;
    return rc;
}

static int expr_test(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds, const char **why,
                     size_t *why_len)
{
    if (e->is_const) {
        *holds = tsr__truthy(&e->constant);
        if (!*holds && why) {
            *why = e->src;
            *why_len = e->src_len;
        }
        return TSR_OK;
    }
    const tsr_prog *p = e->code;
    est s = { p->ops, p->kids, ctx, e->src, e };
    const tsr_op *root = &p->ops[p->root];
    int rc;
    if ((rc = charge(&s, e->cost)) != TSR_OK)
        return rc;
    if (root->op == OP_CMP_FK) {
        if ((rc = fk_holds(&s, root, ctx->item, holds)) != TSR_OK)
            return rc;
        if (!*holds && why) {
            *why = e->src + root->off;
            *why_len = root->len;
        }
        return TSR_OK;
    }
    if (root->op == OP_AND) {
        /* Name the first operand of the chain that failed. */
        for (uint32_t k = 0; k < root->b; k++) {
            uint32_t kid = p->kids[root->a + k];
            bool r;
            rc = p->ops[kid].op == OP_CMP_FK ? fk_holds(&s, &p->ops[kid], ctx->item, &r)
                                             : test(&s, kid, ctx->item, &r);
            if (rc != TSR_OK)
                return rc;
            if (!r) {
                *holds = false;
                if (why) {
                    *why = e->src + p->ops[kid].off;
                    *why_len = p->ops[kid].len;
                }
                return TSR_OK;
            }
        }
        *holds = true;
        return TSR_OK;
    }
    if ((rc = test(&s, p->root, ctx->item, holds)) != TSR_OK)
        return rc;
    if (!*holds && why) {
        *why = e->src + root->off;
        *why_len = root->len;
    }
    return TSR_OK;
}
