/*
 * expr_check.c — name resolution, type checking and constant folding.
 *
 * Walks the syntax tree once and builds typed ops (tsr_op) in cx->ops:
 * every name becomes a slot or an index, every operator an op specialised
 * for its operand types, every function an opcode.  Implicit conversions
 * are made explicit here so the evaluator never dispatches on types:
 *
 *   int next to decimal   the int side is converted (OP_I2D, or folded)
 *   numeric constant next to money, or in a money context
 *                         converted to money at compile time, exactly: a
 *                         literal with more fractional digits than the
 *                         currency is a load error (`1800.005` with 2 digits)
 *   decimal/int table next to money
 *                         its values are converted (a copy in the arena),
 *                         with the same exactness check
 *
 * Arithmetic decisions (SPEC leaves them open; documented in docs too):
 *   int / int             decimal, rounded to 6 digits with the rule set's mode
 *   decimal * decimal     rounded to 6 digits with the rule set's mode
 *   money * decimal, money / int, money / decimal
 *                         money, rounded to the minor unit with that mode
 *   money / money         decimal
 *   date - date           duration (whole days); days_between gives an int
 *   duration * or / int or decimal, duration / duration   allowed
 *   %                     ints only
 *
 * After an op is built, if it is pure and all its operands are constants it
 * is evaluated right away with the evaluator itself (so folding and run time
 * can never disagree) and replaced by a constant; an overflow found then is
 * a load error.  Ops that depend on the order, the lines or the rule set's
 * time zone are never folded.
 */
#include "expr_impl.h"

#include <stdio.h>

/* ---------------------------------------------------------------------
 * Op buffer.
 */
static int add_op(tsr_xcx *cx, const tsr_op *o, uint32_t *out)
{
    if (cx->nops >= UINT32_MAX - 1)
        return tsr__err(cx->err, TSR_ELIMIT, "expression too large");
    if (tsr__grow(cx->arena->alloc, (void **)&cx->ops, &cx->capops, cx->nops + 1, sizeof *o) !=
        TSR_OK)
        return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
    cx->ops[cx->nops] = *o;
    *out = (uint32_t)cx->nops++;
    return TSR_OK;
}

static tsr_op mkop(uint8_t opc, tsr_type type, const tsr_xnode *n)
{
    tsr_op o;
    memset(&o, 0, sizeof o);
    o.op = opc;
    o.type = (uint8_t)type;
    o.off = n->off;
    o.len = n->len;
    return o;
}

static tsr_op mkconst(const tsr_value *v, uint32_t off, uint32_t len)
{
    tsr_op o;
    memset(&o, 0, sizeof o);
    o.op = OP_K;
    o.type = v->type;
    o.elem = v->elem;
    o.k = *v;
    o.off = off;
    o.len = len;
    return o;
}

#define OPT(cx, i) ((tsr_type)(cx)->ops[i].type)
#define IS_K(cx, i) ((cx)->ops[i].op == OP_K)

static int nomem(tsr_xcx *cx)
{
    return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
}

/* "int `item.height_cm`": an operand described for a message. */
static const char *desc(tsr_xcx *cx, uint32_t i, char *buf, size_t size)
{
    const tsr_op *o = &cx->ops[i];
    char tn[48];
    if (o->type == TSR_T_LIST)
        snprintf(tn, sizeof tn, "list of %s",
                 o->elem == TSR_T_MISSING ? "nothing" : tsr__type_name((tsr_type)o->elem));
    else
        snprintf(tn, sizeof tn, "%s", tsr__type_name((tsr_type)o->type));
    size_t n = tsr__utf8_prefix(cx->src + o->off, o->len, 80);
    snprintf(buf, size, "%s `%.*s%s`", tn, (int)n, cx->src + o->off, n < o->len ? "…" : "");
    return buf;
}

static bool is_num(tsr_type t)
{
    return t == TSR_T_INT || t == TSR_T_DECIMAL;
}

static bool is_scalar(tsr_type t)
{
    return t != TSR_T_LIST && t != TSR_T_MAP && t != TSR_T_ITEMS;
}

/* ---------------------------------------------------------------------
 * Folding.
 */
static bool foldable(uint8_t op)
{
    switch (op) {
    case OP_K: case OP_FIELD: case OP_SEGMENT: case OP_PROMO: case OP_TIER: case OP_TABLE:
    case OP_COUNT: case OP_SUM: case OP_ANY: case OP_ALL: case OP_LEN_ITEMS:
    /* Local dates and times depend on the rule set's zone, which is known
     * only to the evaluation context. */
    case OP_DT_DATE: case OP_HOUR: case OP_MINUTE:
    case OP_CMP_FK: case OP_HAS_F:
        return false;
    default:
        return true;
    }
}

static bool kids_const(tsr_xcx *cx, const tsr_op *o)
{
    int ar = tsr__op_arity(o->op);
    if (ar < 0) {
        for (uint32_t i = 0; i < o->b; i++)
            if (!IS_K(cx, cx->kids[o->a + i]))
                return false;
        return true;
    }
    const uint32_t k[3] = { o->a, o->b, o->c };
    for (int i = 0; i < ar; i++)
        if (!IS_K(cx, k[i]))
            return false;
    return true;
}

/* Store a case-mapped string constant as plain bytes (constants carry no
 * view flags). */
static int materialise(tsr_xcx *cx, tsr_value *v)
{
    if (v->type != TSR_T_STRING || !v->flags)
        return TSR_OK;
    char *d = tsr__arena_alloc(cx->arena, (size_t)v->len + 1);
    if (!d)
        return nomem(cx);
    for (uint32_t i = 0; i < v->len; i++)
        d[i] = (char)tsr__vf_map((unsigned char)v->u.s[i], v->flags);
    d[v->len] = '\0';
    v->u.s = d;
    v->flags = 0;
    return TSR_OK;
}

static int fold(tsr_xcx *cx, uint32_t i)
{
    tsr_op *o = &cx->ops[i];
    if (!foldable(o->op) || !kids_const(cx, o))
        return TSR_OK;

    tsr_prog p = { cx->ops, cx->kids, (uint32_t)cx->nops, (uint32_t)cx->nkids, i, 0, 0 };
    tsr_error e;
    memset(&e, 0, sizeof e);
    tsr_expr_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.alloc = cx->arena->alloc;
    ctx.minor_units = cx->env->minor_units;
    ctx.rounding = cx->env->rounding;
    ctx.regex_scratch = cx->fold_scratch;
    ctx.err = &e;
    tsr_value v;
    int rc = tsr__prog_eval(&p, i, cx->src, &ctx, &v);
    cx->fold_scratch = ctx.regex_scratch;
    if (rc == TSR_ENOMEM)
        return nomem(cx);
    if (rc != TSR_OK)
        return tsr__xerr(cx, TSR_EVALUE, cx->ops[i].off, "%s", e.message);
    if ((rc = materialise(cx, &v)) != TSR_OK)
        return rc;
    o = &cx->ops[i];
    tsr_op k = mkconst(&v, o->off, o->len);
    /* Keep the static type (a constant list keeps its element type even
     * when empty). */
    k.type = o->type;
    k.elem = o->elem;
    *o = k;
    return TSR_OK;
}

/* Build an op and fold it. */
static int emit_op(tsr_xcx *cx, const tsr_op *o, uint32_t *out)
{
    int rc = add_op(cx, o, out);
    if (rc == TSR_OK)
        rc = fold(cx, *out);
    return rc;
}

static int unop(tsr_xcx *cx, uint8_t opc, tsr_type type, const tsr_xnode *n, uint32_t a,
                uint32_t *out)
{
    tsr_op o = mkop(opc, type, n);
    o.a = a;
    return emit_op(cx, &o, out);
}

static int binop(tsr_xcx *cx, uint8_t opc, tsr_type type, const tsr_xnode *n, uint32_t a,
                 uint32_t b, uint32_t *out)
{
    tsr_op o = mkop(opc, type, n);
    o.a = a;
    o.b = b;
    return emit_op(cx, &o, out);
}

/* ---------------------------------------------------------------------
 * Conversions.
 */

/* int -> decimal, in place for constants, else through OP_I2D. */
static int promote(tsr_xcx *cx, uint32_t *i)
{
    tsr_op *o = &cx->ops[*i];
    if (o->type != TSR_T_INT)
        return TSR_OK;
    if (o->op == OP_K) {
        int64_t d;
        if (!tsr__mul(o->k.u.i, TSR_DEC_SCALE, &d))
            return tsr__xerr(cx, TSR_EVALUE, o->off, "`%.*s` is too large for a decimal",
                             (int)o->len, cx->src + o->off);
        o->k.u.i = d;
        o->k.type = TSR_T_DECIMAL;
        o->type = TSR_T_DECIMAL;
        return TSR_OK;
    }
    tsr_op c;
    memset(&c, 0, sizeof c);
    c.op = OP_I2D;
    c.type = TSR_T_DECIMAL;
    c.a = *i;
    c.off = o->off;
    c.len = o->len;
    return add_op(cx, &c, i);
}

static int64_t pow10u(unsigned n)
{
    int64_t p = 1;
    while (n--)
        p *= 10;
    return p;
}

/* Convert a numeric scalar to `to` (decimal or money) exactly.  Returns
 * TSR_OK, or TSR_EVALUE when digits would be lost or it overflows. */
static int convert_num(const tsr_value *v, tsr_type to, unsigned minor, tsr_value *out)
{
    *out = *v;
    out->type = (uint8_t)to;
    if (v->type == to)
        return TSR_OK;
    if (v->type == TSR_T_INT) {
        int64_t scale = to == TSR_T_DECIMAL ? TSR_DEC_SCALE : pow10u(minor);
        return tsr__mul(v->u.i, scale, &out->u.i) ? TSR_OK : TSR_EVALUE;
    }
    if (v->type == TSR_T_DECIMAL && to == TSR_T_MONEY)
        return tsr__decimal_to_money(v->u.i, minor, &out->u.i) == TSR_OK ? TSR_OK : TSR_EVALUE;
    return TSR_EVALUE;
}

static void fmt_num(const tsr_value *v, char *buf)
{
    if (v->type == TSR_T_DECIMAL)
        tsr__format_decimal(buf, v->u.i);
    else
        snprintf(buf, 32, "%lld", (long long)v->u.i);
}

/* Convert n values to `to`; the copy lives in the rule set arena.  `what`
 * names their origin for the error (at `off`). */
static int convert_values(tsr_xcx *cx, const tsr_value *vals, size_t n, tsr_type to,
                          const tsr_table *table, size_t off, tsr_value **out)
{
    tsr_value *c = n ? tsr__arena_calloc(cx->arena, n, sizeof *c) : NULL;
    if (n && !c)
        return nomem(cx);
    for (size_t i = 0; i < n; i++) {
        if (convert_num(&vals[i], to, cx->env->minor_units, &c[i]) != TSR_OK) {
            char num[32];
            fmt_num(&vals[i], num);
            const char *why = to == TSR_T_MONEY
                ? "has more fractional digits than the currency allows or is out of range"
                : "is out of range";
            if (table && table->is_map)
                return tsr__xerr(cx, TSR_EVALUE, off, "table `%s`: value %s of key `%.*s` %s (%u)",
                                 table->name, num, (int)table->key_lens[i], table->keys[i], why,
                                 cx->env->minor_units);
            if (table)
                return tsr__xerr(cx, TSR_EVALUE, off, "table `%s`: element %s %s (%u)",
                                 table->name, num, why, cx->env->minor_units);
            return tsr__xerr(cx, TSR_EVALUE, off, "list element %s %s (%u)", num, why,
                             cx->env->minor_units);
        }
    }
    *out = c;
    return TSR_OK;
}

/* Could this numeric operand become money at compile time? */
static bool coercible(tsr_xcx *cx, uint32_t i)
{
    const tsr_op *o = &cx->ops[i];
    if (o->type == TSR_T_MONEY)
        return true;
    if (!is_num((tsr_type)o->type))
        return false;
    switch (o->op) {
    case OP_K:
    case OP_TABLE_GET:
        return true;
    case OP_COND:
        return coercible(cx, o->b) && coercible(cx, o->c);
    case OP_MIN:
    case OP_MAX:
        return coercible(cx, o->a) && coercible(cx, o->b);
    /* Arithmetic on a table price where money is expected
     * (`tables.zone_price[item.zone] * 0.5`): SPEC §3 makes table numbers
     * money there, and money × decimal, money ± money and money / decimal
     * are all money. */
    case OP_ADD:
    case OP_SUB:
        return o->type == TSR_T_DECIMAL && coercible(cx, o->a) && coercible(cx, o->b);
    case OP_MUL_SCALED:
        return o->type == TSR_T_DECIMAL && (coercible(cx, o->a) || coercible(cx, o->b));
    case OP_DIV_RATIO:
        return o->type == TSR_T_DECIMAL && coercible(cx, o->a);
    default:
        return false;
    }
}

/* Make a coercible operand money (see coercible()). */
static int to_money(tsr_xcx *cx, uint32_t i)
{
    tsr_op *o = &cx->ops[i];
    int rc;
    if (o->type == TSR_T_MONEY)
        return TSR_OK;
    switch (o->op) {
    case OP_K: {
        tsr_value m;
        if (convert_num(&o->k, TSR_T_MONEY, cx->env->minor_units, &m) != TSR_OK)
            return tsr__xerr(cx, TSR_EVALUE, o->off,
                             "money `%.*s` has more fractional digits than the currency allows "
                             "(%u) or is out of range",
                             (int)o->len, cx->src + o->off, cx->env->minor_units);
        o->k = m;
        break;
    }
    case OP_TABLE_GET: {
        const tsr_table *t = o->p;
        tsr_value *c;
        if ((rc = convert_values(cx, t->values, t->len, TSR_T_MONEY, t, o->off, &c)) != TSR_OK)
            return rc;
        o = &cx->ops[i];
        o->k.u.list = c;
        break;
    }
    case OP_COND:
        if ((rc = to_money(cx, o->b)) != TSR_OK || (rc = to_money(cx, cx->ops[i].c)) != TSR_OK)
            return rc;
        break;
    case OP_MIN:
    case OP_MAX:
    case OP_ADD:
    case OP_SUB:
        if ((rc = to_money(cx, o->a)) != TSR_OK || (rc = to_money(cx, cx->ops[i].b)) != TSR_OK)
            return rc;
        break;
    case OP_MUL_SCALED:
        /* a·b/10^6 is money × decimal once one factor is money (in minor
         * units): convert one factor only. */
        if ((rc = to_money(cx, coercible(cx, o->a) ? o->a : o->b)) != TSR_OK)
            return rc;
        break;
    case OP_DIV_RATIO:
        /* a·10^6/b: money / decimal is money once the dividend is */
        if ((rc = to_money(cx, o->a)) != TSR_OK)
            return rc;
        break;
    default:
        return tsr__xerr(cx, TSR_ETYPE, o->off, "internal error: cannot convert to money");
    }
    cx->ops[i].type = TSR_T_MONEY;
    return TSR_OK;
}

/* Bring two operands to one type: int/decimal promote, numeric constants
 * next to money become money.  `fmt` gets the two descriptions. */
static int unify(tsr_xcx *cx, uint32_t *l, uint32_t *r, size_t err_off, const char *pre,
                 const char *mid)
{
    tsr_type tl = OPT(cx, *l), tr = OPT(cx, *r);
    if (tl == tr && tl != TSR_T_MAP)
        return TSR_OK;
    if (is_num(tl) && is_num(tr)) {
        int rc = promote(cx, l);
        return rc == TSR_OK ? promote(cx, r) : rc;
    }
    if (tl == TSR_T_MONEY && is_num(tr) && coercible(cx, *r))
        return to_money(cx, *r);
    if (tr == TSR_T_MONEY && is_num(tl) && coercible(cx, *l))
        return to_money(cx, *l);
    char a[160], b[160];
    const char *hint = "";
    if ((tl == TSR_T_MONEY && is_num(tr)) || (tr == TSR_T_MONEY && is_num(tl)))
        hint = " (only numeric constants and decimal tables convert to money)";
    else if ((tl == TSR_T_DATE && tr == TSR_T_DATETIME) ||
             (tl == TSR_T_DATETIME && tr == TSR_T_DATE))
        hint = " (take the date of the datetime with `date(...)`)";
    return tsr__xerr(cx, TSR_ETYPE, err_off, "%s%s%s%s%s", pre, desc(cx, *l, a, sizeof a), mid,
                     desc(cx, *r, b, sizeof b), hint);
}

/* ---------------------------------------------------------------------
 * Names.
 */
static const char *const top_names[] = {
    "order", "customer", "item", "items", "now", "segment", "tier", "tables", "promo",
};

typedef struct fninfo {
    const char *name;
    uint8_t nargs;
} fninfo;

enum {
    FN_HAS, FN_COUNT, FN_SUM, FN_ANY, FN_ALL, FN_MIN, FN_MAX, FN_ABS, FN_FLOOR, FN_LEN,
    FN_LOWER, FN_UPPER, FN_STARTS_WITH, FN_MATCHES, FN_DATE, FN_DATETIME, FN_WEEKDAY,
    FN_HOUR, FN_MINUTE, FN_DAYS, FN_HOURS, FN_MINUTES, FN_DAYS_BETWEEN, FN_AGE,
    FN_BIRTHDAY_WITHIN, FN__COUNT
};

static const fninfo fns[FN__COUNT] = {
    [FN_HAS] = { "has", 1 }, [FN_COUNT] = { "count", 2 }, [FN_SUM] = { "sum", 2 },
    [FN_ANY] = { "any", 2 }, [FN_ALL] = { "all", 2 }, [FN_MIN] = { "min", 2 },
    [FN_MAX] = { "max", 2 }, [FN_ABS] = { "abs", 1 }, [FN_FLOOR] = { "floor", 1 },
    [FN_LEN] = { "len", 1 }, [FN_LOWER] = { "lower", 1 }, [FN_UPPER] = { "upper", 1 },
    [FN_STARTS_WITH] = { "starts_with", 2 }, [FN_MATCHES] = { "matches", 2 },
    [FN_DATE] = { "date", 1 }, [FN_DATETIME] = { "datetime", 1 },
    [FN_WEEKDAY] = { "weekday", 1 }, [FN_HOUR] = { "hour", 1 }, [FN_MINUTE] = { "minute", 1 },
    [FN_DAYS] = { "days", 1 }, [FN_HOURS] = { "hours", 1 }, [FN_MINUTES] = { "minutes", 1 },
    [FN_DAYS_BETWEEN] = { "days_between", 2 }, [FN_AGE] = { "age", 2 },
    [FN_BIRTHDAY_WITHIN] = { "birthday_within", 3 },
};

/* lit may be NULL: a name whose rule failed while a check goes on
 * (tsr_ruleset_check_file), which nothing can name. */
static bool name_is(const char *s, size_t n, const char *lit)
{
    return lit && strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static int find_fn(const char *s, size_t n)
{
    for (int i = 0; i < FN__COUNT; i++)
        if (name_is(s, n, fns[i].name))
            return i;
    return -1;
}

/* Append "; did you mean `PREFIX<best>`?" when a candidate is close. */
static void suggest(char *buf, size_t size, const char *name, size_t len,
                    const char *const *cands, size_t n, const char *prefix)
{
    const char *best = n ? tsr__closest(name, len, cands, n) : NULL;
    if (best)
        snprintf(buf, size, "; did you mean `%s%s`?", prefix, best);
    else
        buf[0] = '\0';
}

static const char *const rec_names[TSR_REC__COUNT] = { "order", "customer", "item" };

static int field_op(tsr_xcx *cx, const tsr_xnode *n, tsr_record_kind rk, const char *fname,
                    size_t flen, size_t foff, uint32_t *out)
{
    const tsr_expr_env *env = cx->env;
    const tsr_record_schema *s = env->records[rk];
    const tsr_field *f = NULL;
    if (s)
        for (size_t i = 0; i < s->len; i++)
            if (name_is(fname, flen, s->fields[i].name)) {
                f = &s->fields[i];
                break;
            }
    if (!f) {
        char sug[160] = "";
        if (s && s->len) {
            const char **c = tsr__arena_alloc(&cx->scratch, s->len * sizeof *c);
            if (!c)
                return nomem(cx);
            for (size_t i = 0; i < s->len; i++)
                c[i] = s->fields[i].name;
            char prefix[16];
            snprintf(prefix, sizeof prefix, "%s.", rec_names[rk]);
            suggest(sug, sizeof sug, fname, flen, c, s->len, prefix);
        }
        return tsr__xerr(cx, TSR_ENAME, foff, "unknown field `%s.%.*s`%s", rec_names[rk],
                         (int)flen, fname, sug);
    }
    if (rk == TSR_REC_ITEM && (f->slot == TSR_ITEM_SUBTOTAL || f->slot == TSR_ITEM_TOTAL) &&
        !(env->flags & TSR_ENV_LINE_TOTALS))
        return tsr__xerr(cx, TSR_ENAME, n->off,
                         "`item.%s` is not known while categories set the price: line "
                         "totals exist once every line has its price (from the promo codes "
                         "on)", f->name);
    tsr_op o = mkop(OP_FIELD, (tsr_type)f->type, n);
    o.elem = f->elem;
    o.aux = (uint8_t)rk;
    o.a = f->slot;
    return add_op(cx, &o, out);
}

static bool table_keys_sorted(const tsr_table *t)
{
    for (size_t i = 1; i < t->len; i++) {
        size_t la = t->key_lens[i - 1], lb = t->key_lens[i];
        int c = memcmp(t->keys[i - 1], t->keys[i], la < lb ? la : lb);
        if (c > 0 || (c == 0 && la >= lb))
            return false;
    }
    return true;
}

/* segment.NAME, promo.NAME, tables.NAME (also written ns["NAME"]). */
static int ns_member(tsr_xcx *cx, const tsr_xnode *n, const char *ns, const char *name,
                     size_t len, size_t off, uint32_t *out)
{
    const tsr_expr_env *env = cx->env;
    char sug[160];
    if (strcmp(ns, "segment") == 0) {
        if (!(env->flags & TSR_ENV_SEGMENTS))
            return tsr__xerr(cx, TSR_ENAME, n->off,
                             "`segment.%.*s` is not available here: segments are not computed "
                             "yet at this point", (int)len, name);
        for (size_t i = 0; i < env->nsegments; i++)
            if (name_is(name, len, env->segments[i])) {
                if (env->segment_used)
                    env->segment_used[i] = true;
                tsr_op o = mkop(OP_SEGMENT, TSR_T_BOOL, n);
                o.a = (uint32_t)i;
                return add_op(cx, &o, out);
            }
        suggest(sug, sizeof sug, name, len, env->segments, env->nsegments, "segment.");
        return tsr__xerr(cx, TSR_ENAME, off, "unknown segment `%.*s`%s", (int)len, name, sug);
    }
    if (strcmp(ns, "promo") == 0) {
        if (!(env->flags & TSR_ENV_PROMO))
            return tsr__xerr(cx, TSR_ENAME, n->off,
                             "`promo.%.*s` is not available here: promo codes are not checked "
                             "yet at this point", (int)len, name);
        for (size_t i = 0; i < env->npromos; i++)
            if (name_is(name, len, env->promos[i])) {
                if (env->promo_used)
                    env->promo_used[i] = true;
                tsr_op o = mkop(OP_PROMO, TSR_T_BOOL, n);
                o.a = (uint32_t)i;
                return add_op(cx, &o, out);
            }
        suggest(sug, sizeof sug, name, len, env->promos, env->npromos, "promo.");
        return tsr__xerr(cx, TSR_ENAME, off, "unknown promo code `%.*s`%s", (int)len, name, sug);
    }
    /* tables */
    for (size_t i = 0; i < env->ntables; i++) {
        tsr_table *t = &env->tables[i];
        if (!name_is(name, len, t->name))
            continue;
        t->used = true;
        if (!t->is_map) {
            /* A list table is a constant list. */
            tsr_value v = tsr__missing();
            v.type = TSR_T_LIST;
            v.elem = t->elem;
            v.len = (uint32_t)t->len;
            v.u.list = t->values;
            tsr_op o = mkconst(&v, n->off, n->len);
            o.p = t;
            return add_op(cx, &o, out);
        }
        tsr_op o = mkop(OP_TABLE, TSR_T_MAP, n);
        o.elem = t->elem;
        o.p = t;
        return add_op(cx, &o, out);
    }
    const char **c = env->ntables ? tsr__arena_alloc(&cx->scratch, env->ntables * sizeof *c)
                                  : NULL;
    if (env->ntables && !c)
        return nomem(cx);
    for (size_t i = 0; i < env->ntables; i++)
        c[i] = env->tables[i].name;
    suggest(sug, sizeof sug, name, len, c, env->ntables, "tables.");
    return tsr__xerr(cx, TSR_ENAME, off, "unknown table `%.*s`%s", (int)len, name, sug);
}

static int item_scope(tsr_xcx *cx, size_t off)
{
    if ((cx->env->flags & TSR_ENV_ITEM) || cx->in_agg)
        return TSR_OK;
    const char *note = cx->env->item_note ? cx->env->item_note
                                          : "this expression is evaluated once per order; "
                                            "use count/sum/any/all over `items`";
    return tsr__xerr(cx, TSR_ENAME, off, "`item` is not available here: %s", note);
}

static int unknown_name(tsr_xcx *cx, const tsr_xnode *n)
{
    if (find_fn(n->name, n->name_len) >= 0)
        return tsr__xerr(cx, TSR_ENAME, n->tok_off, "`%.*s` is a function: call it as `%.*s(…)`",
                         (int)n->name_len, n->name, (int)n->name_len, n->name);
    char sug[160];
    suggest(sug, sizeof sug, n->name, n->name_len, top_names, TSR_ARRAY_LEN(top_names), "");
    return tsr__xerr(cx, TSR_ENAME, n->tok_off, "unknown name `%.*s`%s", (int)n->name_len,
                     n->name, sug);
}

static int check(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out);

static int check_name(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    const char *s = n->name;
    size_t l = n->name_len;
    if (name_is(s, l, "now")) {
        tsr_op o = mkop(OP_FIELD, TSR_T_DATETIME, n);
        o.aux = TSR_REC_ORDER;
        o.a = TSR_ORDER_DATETIME;
        return add_op(cx, &o, out);
    }
    if (name_is(s, l, "tier")) {
        if (!(cx->env->flags & TSR_ENV_TIER))
            return tsr__xerr(cx, TSR_ENAME, n->off,
                             "`tier` is not available here: tiers are not computed yet at this "
                             "point");
        tsr_op o = mkop(OP_TIER, TSR_T_STRING, n);
        return add_op(cx, &o, out);
    }
    if (name_is(s, l, "items"))
        return tsr__xerr(cx, TSR_ETYPE, n->off,
                         "`items` can only be the first argument of count, sum, any, all or len");
    if (name_is(s, l, "item")) {
        int rc = item_scope(cx, n->off);
        if (rc != TSR_OK)
            return rc;
    }
    for (size_t i = 0; i < TSR_ARRAY_LEN(top_names); i++)
        if (name_is(s, l, top_names[i]))
            return tsr__xerr(cx, TSR_EPARSE, n->off + n->len, "`%.*s` needs a name after it: "
                             "`%.*s.NAME`", (int)l, s, (int)l, s);
    return unknown_name(cx, n);
}

static int check_member(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    const tsr_xnode *obj = n->a;
    if (obj->kind != XK_NAME) {
        uint32_t i;
        int rc = check(cx, obj, &i);
        if (rc != TSR_OK)
            return rc;
        char d[160];
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "%s has no field `%.*s`",
                         desc(cx, i, d, sizeof d), (int)n->name_len, n->name);
    }
    const char *s = obj->name;
    size_t l = obj->name_len;
    for (int rk = 0; rk < TSR_REC__COUNT; rk++) {
        if (!name_is(s, l, rec_names[rk]))
            continue;
        if (rk == TSR_REC_ITEM) {
            int rc = item_scope(cx, obj->off);
            if (rc != TSR_OK)
                return rc;
        }
        return field_op(cx, n, (tsr_record_kind)rk, n->name, n->name_len, n->tok_off, out);
    }
    if (name_is(s, l, "segment") || name_is(s, l, "promo") || name_is(s, l, "tables"))
        return ns_member(cx, n, name_is(s, l, "segment") ? "segment"
                                : name_is(s, l, "promo") ? "promo" : "tables",
                         n->name, n->name_len, n->tok_off, out);
    if (name_is(s, l, "now") || name_is(s, l, "tier") || name_is(s, l, "items"))
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "`%.*s` has no fields", (int)l, s);
    return unknown_name(cx, obj);
}

static int table_get(tsr_xcx *cx, const tsr_xnode *n, uint32_t ti, uint32_t key,
                     uint32_t *out)
{
    const tsr_table *t = cx->ops[ti].p;
    if (OPT(cx, key) != TSR_T_STRING) {
        char d[160];
        return tsr__xerr(cx, TSR_ETYPE, cx->ops[key].off, "keys of table `%s` are strings, got %s",
                         t->name, desc(cx, key, d, sizeof d));
    }
    if (IS_K(cx, key)) {
        /* A constant key must exist: a lookup that can only ever be
         * missing is a typo. */
        const tsr_value *k = &cx->ops[key].k;
        for (size_t i = 0; i < t->len; i++)
            if (t->key_lens[i] == k->len && memcmp(t->keys[i], k->u.s, k->len) == 0) {
                tsr_op o = mkconst(&t->values[i], n->off, n->len);
                return add_op(cx, &o, out);
            }
        char sug[160] = "";
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)tsr__utf8_prefix(k->u.s, k->len, 100), k->u.s);
        /* Keys are often codes where only the case differs (`b` for `B`):
         * prefer such a key over the closest by edit distance. */
        for (size_t i = 0; i < t->len && !sug[0]; i++) {
            if (t->key_lens[i] != k->len)
                continue;
            size_t j = 0;
            while (j < k->len && tsr__vf_map((unsigned char)t->keys[i][j], TSR_VF_LOWER) ==
                                     tsr__vf_map((unsigned char)k->u.s[j], TSR_VF_LOWER))
                j++;
            if (j == k->len)
                snprintf(sug, sizeof sug, "; did you mean `%s`?", t->keys[i]);
        }
        /* keys are NUL-terminated (YAML scalars) */
        if (!sug[0])
            suggest(sug, sizeof sug, name, strlen(name), t->keys, t->len, "");
        return tsr__xerr(cx, TSR_ENAME, cx->ops[key].off, "table `%s` has no key `%s`%s", t->name,
                         name, sug);
    }
    tsr_op o = mkop(OP_TABLE_GET, (tsr_type)t->elem, n);
    o.a = key;
    o.p = t;
    o.k.u.list = t->values;
    o.k.len = (uint32_t)t->len;
    o.aux = table_keys_sorted(t) ? 0 : 1;
    return add_op(cx, &o, out);
}

static int check_index(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    const tsr_xnode *obj = n->a;
    int rc;
    /* segment["late-night"], promo["summer-10"], tables["zone-price"]: ids
     * that are not identifiers. */
    if (obj->kind == XK_NAME && n->b->kind == XK_LIT && n->b->lit.type == TSR_T_STRING) {
        const char *s = obj->name;
        size_t l = obj->name_len;
        if (name_is(s, l, "segment") || name_is(s, l, "promo") || name_is(s, l, "tables"))
            return ns_member(cx, n, name_is(s, l, "segment") ? "segment"
                                    : name_is(s, l, "promo") ? "promo" : "tables",
                             n->b->lit.u.s, n->b->lit.len, n->b->off, out);
    }
    uint32_t o, key;
    if ((rc = check(cx, obj, &o)) != TSR_OK)
        return rc;
    if (cx->ops[o].op == OP_TABLE) {
        if ((rc = check(cx, n->b, &key)) != TSR_OK)
            return rc;
        return table_get(cx, n, o, key, out);
    }
    if (cx->ops[o].op == OP_K && cx->ops[o].p)
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off,
                         "table `%s` is a list: test membership with `in`",
                         ((const tsr_table *)cx->ops[o].p)->name);
    char d[160];
    return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "only map tables can be indexed, not %s",
                     desc(cx, o, d, sizeof d));
}

/* ---------------------------------------------------------------------
 * Operators.
 */
static int want_bool(tsr_xcx *cx, uint32_t i, const char *what)
{
    if (OPT(cx, i) == TSR_T_BOOL)
        return TSR_OK;
    char d[160];
    return tsr__xerr(cx, TSR_ETYPE, cx->ops[i].off, "%s needs a bool, got %s", what,
                     desc(cx, i, d, sizeof d));
}

static int check_list(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    tsr_type elem = TSR_T_MISSING;
    uint32_t *idx = n->nargs ? tsr__arena_alloc(&cx->scratch, n->nargs * sizeof *idx) : NULL;
    int rc;
    if (n->nargs && !idx)
        return nomem(cx);
    for (uint32_t i = 0; i < n->nargs; i++) {
        if ((rc = check(cx, n->args[i], &idx[i])) != TSR_OK)
            return rc;
        const tsr_op *e = &cx->ops[idx[i]];
        if (e->op != OP_K || !is_scalar((tsr_type)e->type))
            return tsr__xerr(cx, TSR_ETYPE, e->off, "list elements must be constant values");
        tsr_type t = (tsr_type)e->type;
        if (elem == TSR_T_MISSING || elem == t)
            elem = t;
        else if (is_num(elem) && is_num(t))
            elem = TSR_T_DECIMAL;
        else
            return tsr__xerr(cx, TSR_ETYPE, e->off, "list mixes %s and %s values",
                             tsr__type_name(elem), tsr__type_name(t));
    }
    tsr_value *vals = n->nargs ? tsr__arena_calloc(cx->arena, n->nargs, sizeof *vals) : NULL;
    if (n->nargs && !vals)
        return nomem(cx);
    for (uint32_t i = 0; i < n->nargs; i++) {
        if (elem == TSR_T_DECIMAL && (rc = promote(cx, &idx[i])) != TSR_OK)
            return rc;
        vals[i] = cx->ops[idx[i]].k;
    }
    tsr_value v = tsr__missing();
    v.type = TSR_T_LIST;
    v.elem = (uint8_t)elem;
    v.len = n->nargs;
    v.u.list = vals;
    tsr_op o = mkconst(&v, n->off, n->len);
    return add_op(cx, &o, out);
}

/* ---------------------------------------------------------------------
 * Ids: `item.category` only ever holds a declared category, `tier` a
 * declared tier, so a literal naming anything else is a typo that makes
 * the comparison silently constant.
 */
typedef struct id_set {
    const char *what;                /* "category", "tier" */
    const char *const *ids;
    size_t n;
} id_set;

/* Is op i `item.category` or `tier`, with its ids known?  Fills *set. */
static bool id_subject(tsr_xcx *cx, uint32_t i, id_set *set)
{
    const tsr_op *o = &cx->ops[i];
    const tsr_expr_env *env = cx->env;

    if (o->op == OP_FIELD && o->aux == TSR_REC_ITEM && o->a == TSR_ITEM_CATEGORY &&
        env->category_ids) {
        set->what = "category";
        set->ids = env->category_ids;
        set->n = env->ncategory_ids;
        return true;
    }
    if (o->op == OP_TIER && env->tier_ids) {
        set->what = "tier";
        set->ids = env->tier_ids;
        set->n = env->ntier_ids;
        return true;
    }
    return false;
}

/* Binary search of the sorted ids for s[0..len). */
static bool id_known(const id_set *set, const char *s, size_t len)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *id = set->ids[mid];
        size_t il = strlen(id);
        int c = memcmp(id, s, il < len ? il : len);
        if (c == 0)
            c = il < len ? -1 : il > len;
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Where the literal v is written inside src[off .. off+len) (an element of
 * a list): the offset of its opening quote, or `off` when not found. */
static size_t literal_at(const tsr_xcx *cx, size_t off, size_t len, const tsr_value *v)
{
    for (size_t i = off; i + v->len + 2 <= off + len; i++) {
        char q = cx->src[i];
        if ((q == '"' || q == '\'') && cx->src[i + v->len + 1] == q &&
            (v->len == 0 || memcmp(cx->src + i + 1, v->u.s, v->len) == 0))
            return i;
    }
    return off;
}

/* A string constant v compared with an id subject (at source offset off)
 * must be one of set's ids.  `never`: the comparison would never hold
 * (==, in), else always (!=). */
static int check_id(tsr_xcx *cx, const id_set *set, const tsr_value *v, size_t off, bool never)
{
    char sug[160];

    if (v->type != TSR_T_STRING || v->flags || id_known(set, v->u.s, v->len))
        return TSR_OK;
    if (set->n)
        suggest(sug, sizeof sug, v->u.s, v->len, set->ids, set->n, "");
    else
        snprintf(sug, sizeof sug, " (no %s is declared)", set->what);
    return tsr__xerr(cx, TSR_ENAME, off,
                     "unknown %s `%.*s%s`: no %s has this id, so this comparison %s holds%s",
                     set->what, (int)tsr__utf8_prefix(v->u.s, v->len, 100), v->u.s,
                     v->len > 100 ? "…" : "", set->what, never ? "never" : "always", sug);
}

static int check_in(tsr_xcx *cx, const tsr_xnode *n, uint32_t l, uint32_t r, uint32_t *out)
{
    char a[160], b[160];
    tsr_type tl = OPT(cx, l);
    int rc;
    if (!is_scalar(tl))
        return tsr__xerr(cx, TSR_ETYPE, cx->ops[l].off, "`in` needs a single value on its left, "
                         "got %s", desc(cx, l, a, sizeof a));
    const tsr_op *ro = &cx->ops[r];
    if (ro->op == OP_TABLE) {
        const tsr_table *t = ro->p;
        if (tl != TSR_T_STRING)
            return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "keys of table `%s` are strings; "
                             "cannot look up %s", t->name, desc(cx, l, a, sizeof a));
        tsr_op o = mkop(OP_IN_MAP, TSR_T_BOOL, n);
        o.a = l;
        o.p = t;
        o.aux = table_keys_sorted(t) ? 0 : 1;
        return emit_op(cx, &o, out);
    }
    if (ro->type != TSR_T_LIST)
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off,
                         "`in` needs a list or a table on its right, got %s",
                         desc(cx, r, b, sizeof b));
    tsr_type elem = (tsr_type)ro->elem;
    bool ok = tl == elem || elem == TSR_T_MISSING;
    if (!ok && tl == TSR_T_INT && elem == TSR_T_DECIMAL) {
        if ((rc = promote(cx, &l)) != TSR_OK)
            return rc;
        ok = true;
    } else if (!ok && ro->op == OP_K && is_num(elem) &&
               (tl == TSR_T_DECIMAL || tl == TSR_T_MONEY)) {
        /* Convert the constant list to the needle's type (exactly). */
        tsr_value *c;
        const tsr_table *t = ro->p;
        if ((rc = convert_values(cx, ro->k.u.list, ro->k.len, tl, t, ro->off, &c)) != TSR_OK)
            return rc;
        tsr_op *w = &cx->ops[r];
        w->k.u.list = c;
        w->k.elem = (uint8_t)tl;
        w->elem = (uint8_t)tl;
        ok = true;
    }
    if (!ok)
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "cannot look for %s in %s",
                         desc(cx, l, a, sizeof a), desc(cx, r, b, sizeof b));
    uint8_t cls = tl == TSR_T_STRING ? CLS_STR : CLS_NUM;
    ro = &cx->ops[r];
    id_set set;
    if (ro->op == OP_K && !ro->p && id_subject(cx, l, &set)) {
        /* an inline list, not a table */
        for (uint32_t i = 0; i < ro->k.len; i++) {
            const tsr_value *v = &ro->k.u.list[i];
            if ((rc = check_id(cx, &set, v, literal_at(cx, ro->off, ro->len, v), true)) != TSR_OK)
                return rc;
        }
    }
    if (ro->op == OP_K) {
        tsr_op o = mkop(OP_IN_LIST, TSR_T_BOOL, n);
        o.a = l;
        o.k = ro->k;
        o.aux = cls;
        return emit_op(cx, &o, out);
    }
    tsr_op o = mkop(OP_IN_DYN, TSR_T_BOOL, n);
    o.a = l;
    o.b = r;
    o.aux = cls;
    return emit_op(cx, &o, out);
}

static uint8_t rel_of(uint8_t tk)
{
    switch (tk) {
    case TK_EQ: return REL_EQ;
    case TK_NE: return REL_NE;
    case TK_LT: return REL_LT;
    case TK_LE: return REL_LE;
    case TK_GT: return REL_GT;
    default: return REL_GE;
    }
}

static int check_cmp(tsr_xcx *cx, const tsr_xnode *n, uint32_t l, uint32_t r, uint32_t *out)
{
    char a[160], b[160];
    int rc;
    if (!is_scalar(OPT(cx, l)) || !is_scalar(OPT(cx, r)))
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "cannot compare %s with %s",
                         desc(cx, l, a, sizeof a), desc(cx, r, b, sizeof b));
    if ((rc = unify(cx, &l, &r, n->tok_off, "cannot compare ", " with ")) != TSR_OK)
        return rc;
    uint8_t rel = rel_of(n->binop);
    tsr_type t = OPT(cx, l);
    if (t == TSR_T_BOOL && rel != REL_EQ && rel != REL_NE)
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "bools cannot be ordered with `%.*s`",
                         (int)n->tok_len, cx->src + n->tok_off);
    id_set set;
    if (t == TSR_T_STRING && (rel == REL_EQ || rel == REL_NE)) {
        uint32_t subj = l, k = r;
        if (IS_K(cx, l)) {
            subj = r;
            k = l;
        }
        if (IS_K(cx, k) && !cx->ops[k].p && id_subject(cx, subj, &set) &&
            (rc = check_id(cx, &set, &cx->ops[k].k, cx->ops[k].off, rel == REL_EQ)) != TSR_OK)
            return rc;
    }
    tsr_op o = mkop(OP_CMP, TSR_T_BOOL, n);
    o.a = l;
    o.b = r;
    o.aux = t == TSR_T_STRING ? CLS_STR : CLS_NUM;
    o.aux2 = rel;
    return emit_op(cx, &o, out);
}

static int arith_error(tsr_xcx *cx, const tsr_xnode *n, uint32_t l, uint32_t r)
{
    char a[160], b[160];
    const char *verb;
    switch (n->binop) {
    case TK_PLUS: verb = "add"; break;
    case TK_MINUS: verb = "subtract"; break;
    case TK_STAR: verb = "multiply"; break;
    case TK_SLASH: verb = "divide"; break;
    default: verb = "take the remainder of";
    }
    const char *hint = "";
    tsr_type tl = OPT(cx, l), tr = OPT(cx, r);
    if (n->binop == TK_PERCENT)
        hint = " (`%` works on ints only)";
    else if ((tl == TSR_T_MONEY && is_num(tr)) || (tr == TSR_T_MONEY && is_num(tl)))
        hint = " (only numeric constants convert to money)";
    return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "cannot %s %s and %s%s", verb,
                     desc(cx, l, a, sizeof a), desc(cx, r, b, sizeof b), hint);
}

static int check_arith(tsr_xcx *cx, const tsr_xnode *n, uint32_t l, uint32_t r, uint32_t *out)
{
    tsr_type tl = OPT(cx, l), tr = OPT(cx, r);
    int rc;
    uint8_t tk = n->binop;

    /* A constant zero divisor is a load error even when the dividend is
     * only known at evaluation time. */
    if ((tk == TK_SLASH || tk == TK_PERCENT) && IS_K(cx, r) && is_scalar(tr) &&
        tr != TSR_T_STRING && cx->ops[r].k.u.i == 0)
        return tsr__xerr(cx, TSR_EVALUE, n->tok_off, "division by zero in `%.*s`", (int)n->len,
                         cx->src + n->off);

    if (is_num(tl) && is_num(tr)) {
        if (tk == TK_PERCENT) {
            if (tl != TSR_T_INT || tr != TSR_T_INT)
                return arith_error(cx, n, l, r);
            return binop(cx, OP_MOD, TSR_T_INT, n, l, r, out);
        }
        if (tk == TK_SLASH) {
            /* int / int is a decimal: 7 / 2 is 3.5, never 3. */
            if ((rc = promote(cx, &l)) != TSR_OK || (rc = promote(cx, &r)) != TSR_OK)
                return rc;
            return binop(cx, OP_DIV_RATIO, TSR_T_DECIMAL, n, l, r, out);
        }
        if (tl == TSR_T_INT && tr == TSR_T_INT)
            return binop(cx, tk == TK_PLUS ? OP_ADD : tk == TK_MINUS ? OP_SUB : OP_MUL,
                         TSR_T_INT, n, l, r, out);
        if ((rc = promote(cx, &l)) != TSR_OK || (rc = promote(cx, &r)) != TSR_OK)
            return rc;
        return binop(cx, tk == TK_PLUS ? OP_ADD : tk == TK_MINUS ? OP_SUB : OP_MUL_SCALED,
                     TSR_T_DECIMAL, n, l, r, out);
    }

    switch (tk) {
    case TK_PLUS:
    case TK_MINUS: {
        bool plus = tk == TK_PLUS;
        if (tl == TSR_T_MONEY || tr == TSR_T_MONEY) {
            if (tl == TSR_T_MONEY && is_num(tr) && coercible(cx, r))
                rc = to_money(cx, r);
            else if (tr == TSR_T_MONEY && is_num(tl) && coercible(cx, l))
                rc = to_money(cx, l);
            else if (tl == tr)
                rc = TSR_OK;
            else
                return arith_error(cx, n, l, r);
            if (rc != TSR_OK)
                return rc;
            return binop(cx, plus ? OP_ADD : OP_SUB, TSR_T_MONEY, n, l, r, out);
        }
        if (tl == TSR_T_DURATION && tr == TSR_T_DURATION)
            return binop(cx, plus ? OP_ADD : OP_SUB, TSR_T_DURATION, n, l, r, out);
        if (plus && tl == TSR_T_DURATION && (tr == TSR_T_DATETIME || tr == TSR_T_DATE)) {
            uint32_t t = l;
            l = r;
            r = t;
            tl = OPT(cx, l);
            tr = TSR_T_DURATION;
        }
        if (tl == TSR_T_DATETIME && tr == TSR_T_DURATION)
            return binop(cx, plus ? OP_DT_ADD : OP_DT_SUB, TSR_T_DATETIME, n, l, r, out);
        if (tl == TSR_T_DATE && tr == TSR_T_DURATION) {
            if (IS_K(cx, r) && cx->ops[r].k.u.i % TSR_USEC_PER_DAY != 0)
                return tsr__xerr(cx, TSR_EVALUE, cx->ops[r].off,
                                 "a date moves by whole days only; `%.*s` is not a whole "
                                 "number of days", (int)cx->ops[r].len, cx->src + cx->ops[r].off);
            return binop(cx, plus ? OP_DATE_ADD : OP_DATE_SUB, TSR_T_DATE, n, l, r, out);
        }
        if (!plus && tl == TSR_T_DATETIME && tr == TSR_T_DATETIME)
            return binop(cx, OP_DT_DIFF, TSR_T_DURATION, n, l, r, out);
        if (!plus && tl == TSR_T_DATE && tr == TSR_T_DATE)
            return binop(cx, OP_DATE_DIFF, TSR_T_DURATION, n, l, r, out);
        return arith_error(cx, n, l, r);
    }
    case TK_STAR:
        /* Scalable things (money, duration) times a number; put the number
         * on the right. */
        if (is_num(tl) && (tr == TSR_T_MONEY || tr == TSR_T_DURATION)) {
            uint32_t t = l;
            l = r;
            r = t;
            tl = OPT(cx, l);
            tr = OPT(cx, r);
        }
        if ((tl == TSR_T_MONEY || tl == TSR_T_DURATION) && tr == TSR_T_INT)
            return binop(cx, OP_MUL, tl, n, l, r, out);
        if ((tl == TSR_T_MONEY || tl == TSR_T_DURATION) && tr == TSR_T_DECIMAL)
            return binop(cx, OP_MUL_SCALED, tl, n, l, r, out);
        return arith_error(cx, n, l, r);
    case TK_SLASH:
        if ((tl == TSR_T_MONEY || tl == TSR_T_DURATION) && tr == tl)
            return binop(cx, OP_DIV_RATIO, TSR_T_DECIMAL, n, l, r, out);
        if ((tl == TSR_T_MONEY || tl == TSR_T_DURATION) && tr == TSR_T_INT)
            return binop(cx, OP_DIV_INT, tl, n, l, r, out);
        if ((tl == TSR_T_MONEY || tl == TSR_T_DURATION) && tr == TSR_T_DECIMAL)
            return binop(cx, OP_DIV_RATIO, tl, n, l, r, out);
        return arith_error(cx, n, l, r);
    default:
        return arith_error(cx, n, l, r);
    }
}

static int check_bin(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    uint32_t l, r;
    int rc;
    if ((rc = check(cx, n->a, &l)) != TSR_OK || (rc = check(cx, n->b, &r)) != TSR_OK)
        return rc;
    if (n->binop == TK_IN)
        return check_in(cx, n, l, r, out);
    if (n->binop >= TK_EQ && n->binop <= TK_GE)
        return check_cmp(cx, n, l, r, out);
    return check_arith(cx, n, l, r, out);
}

static int check_chain(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    uint32_t *idx = tsr__arena_alloc(&cx->scratch, n->nargs * sizeof *idx);
    int rc;
    if (!idx)
        return nomem(cx);
    const char *what = n->kind == XK_AND ? "`and`" : "`or`";
    for (uint32_t i = 0; i < n->nargs; i++) {
        if ((rc = check(cx, n->args[i], &idx[i])) != TSR_OK ||
            (rc = want_bool(cx, idx[i], what)) != TSR_OK)
            return rc;
    }
    if (tsr__grow(cx->arena->alloc, (void **)&cx->kids, &cx->capkids, cx->nkids + n->nargs,
                  sizeof *cx->kids) != TSR_OK)
        return nomem(cx);
    tsr_op o = mkop(n->kind == XK_AND ? OP_AND : OP_OR, TSR_T_BOOL, n);
    o.a = (uint32_t)cx->nkids;
    o.b = n->nargs;
    memcpy(cx->kids + cx->nkids, idx, n->nargs * sizeof *idx);
    cx->nkids += n->nargs;
    return emit_op(cx, &o, out);
}

static int check_cond(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    uint32_t t, c, e;
    int rc;
    if ((rc = check(cx, n->a, &t)) != TSR_OK || (rc = check(cx, n->b, &c)) != TSR_OK ||
        (rc = want_bool(cx, c, "the condition of `if`")) != TSR_OK ||
        (rc = check(cx, n->c, &e)) != TSR_OK)
        return rc;
    if ((rc = unify(cx, &t, &e, n->tok_off, "the branches of `if` have different types: ",
                    " and ")) != TSR_OK)
        return rc;
    tsr_op o = mkop(OP_COND, OPT(cx, t), n);
    o.elem = cx->ops[t].elem;
    o.a = c;
    o.b = t;
    o.c = e;
    return emit_op(cx, &o, out);
}

/* ---------------------------------------------------------------------
 * Functions.
 */
static int arg_error(tsr_xcx *cx, const char *fn, uint32_t i, const char *wanted)
{
    char d[160];
    return tsr__xerr(cx, TSR_ETYPE, cx->ops[i].off, "`%s` needs %s, got %s", fn, wanted,
                     desc(cx, i, d, sizeof d));
}

/* A date argument: a date as is, a datetime at its local date. */
static int date_arg(tsr_xcx *cx, const char *fn, const tsr_xnode *x, uint32_t *out)
{
    int rc = check(cx, x, out);
    if (rc != TSR_OK)
        return rc;
    if (OPT(cx, *out) == TSR_T_DATE)
        return TSR_OK;
    if (OPT(cx, *out) == TSR_T_DATETIME)
        return unop(cx, OP_DT_DATE, TSR_T_DATE, x, *out, out);
    return arg_error(cx, fn, *out, "a date or a datetime");
}

static bool is_str_lit(const tsr_xnode *x)
{
    return x->kind == XK_LIT && x->lit.type == TSR_T_STRING;
}

static int check_aggregate(tsr_xcx *cx, const tsr_xnode *n, int fn, uint32_t *out)
{
    const tsr_xnode *src = n->args[0];
    int rc;
    if (src->kind != XK_NAME || !name_is(src->name, src->name_len, "items"))
        return tsr__xerr(cx, TSR_ETYPE, src->off, "the first argument of `%s` must be `items`",
                         fns[fn].name);
    if (!(cx->env->flags & TSR_ENV_ITEMS))
        return tsr__xerr(cx, TSR_ENAME, src->off, "`items` is not available here");
    uint32_t body;
    cx->in_agg++;
    rc = check(cx, n->args[1], &body);
    cx->in_agg--;
    if (rc != TSR_OK)
        return rc;
    tsr_type bt = OPT(cx, body);
    if (fn == FN_SUM) {
        if (!is_num(bt) && bt != TSR_T_MONEY && bt != TSR_T_DURATION)
            return arg_error(cx, "sum", body, "a number, money or a duration per line");
        return unop(cx, OP_SUM, bt, n, body, out);
    }
    if ((rc = want_bool(cx, body, fn == FN_COUNT ? "the condition of `count`"
                                  : fn == FN_ANY ? "the condition of `any`"
                                                 : "the condition of `all`")) != TSR_OK)
        return rc;
    return unop(cx, fn == FN_COUNT ? OP_COUNT : fn == FN_ANY ? OP_ANY : OP_ALL,
                fn == FN_COUNT ? TSR_T_INT : TSR_T_BOOL, n, body, out);
}

static int check_matches(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    uint32_t s;
    int rc;
    if ((rc = check(cx, n->args[0], &s)) != TSR_OK)
        return rc;
    if (OPT(cx, s) != TSR_T_STRING)
        return arg_error(cx, "matches", s, "a string");
    const tsr_xnode *pat = n->args[1];
    if (!is_str_lit(pat))
        return tsr__xerr(cx, TSR_ETYPE, pat->off,
                         "the pattern of `matches` must be a string literal (it is compiled "
                         "when the rules are loaded)");
    if (!cx->env->regexes)
        return tsr__xerr(cx, TSR_EINVAL, pat->off, "internal error: no regex pool");
    tsr_regex *re;
    size_t eoff = 0;
    char msg[256];
    rc = tsr__regex_compile(cx->env->regexes, &re, pat->lit.u.s, pat->lit.len, false, false,
                            &eoff, msg, sizeof msg);
    if (rc == TSR_ENOMEM)
        return nomem(cx);
    if (rc != TSR_OK) {
        /* pat->off is the opening quote; map the decoded offset back. */
        size_t at = tsr__str_src_offset(cx->src, pat->off, eoff);
        return tsr__xerr(cx, TSR_EPARSE, at, "invalid pattern: %s", msg);
    }
    tsr_op o = mkop(OP_MATCHES, TSR_T_BOOL, n);
    o.a = s;
    o.p = re;
    return emit_op(cx, &o, out);
}

static int check_call(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    int fn = find_fn(n->name, n->name_len);
    int rc;
    if (fn < 0) {
        const char *cands[FN__COUNT];
        char sug[160];
        for (int i = 0; i < FN__COUNT; i++)
            cands[i] = fns[i].name;
        suggest(sug, sizeof sug, n->name, n->name_len, cands, FN__COUNT, "");
        return tsr__xerr(cx, TSR_ENAME, n->tok_off, "unknown function `%.*s`%s",
                         (int)n->name_len, n->name, sug);
    }
    if (n->nargs != fns[fn].nargs)
        return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "`%s` takes %u argument%s, got %u",
                         fns[fn].name, fns[fn].nargs, fns[fn].nargs == 1 ? "" : "s", n->nargs);
    const char *name = fns[fn].name;
    uint32_t a, b, c;
    tsr_type ta;

    switch (fn) {
    case FN_COUNT: case FN_SUM: case FN_ANY: case FN_ALL:
        return check_aggregate(cx, n, fn, out);
    case FN_MATCHES:
        return check_matches(cx, n, out);
    case FN_DATE:
    case FN_DATETIME:
        if (is_str_lit(n->args[0])) {
            const tsr_xnode *x = n->args[0];
            tsr_value v = tsr__missing();
            if (fn == FN_DATE) {
                v.type = TSR_T_DATE;
                rc = tsr__parse_date(x->lit.u.s, x->lit.len, &v.u.i);
            } else {
                v.type = TSR_T_DATETIME;
                rc = tsr__parse_datetime(x->lit.u.s, x->lit.len, &v.u.i, &v.offset);
            }
            if (rc != TSR_OK)
                return tsr__xerr(cx, TSR_EVALUE, x->off, fn == FN_DATE
                                 ? "invalid date `%.*s` (expected YYYY-MM-DD)"
                                 : "invalid datetime `%.*s` (expected YYYY-MM-DDTHH:MM:SS with "
                                   "an offset such as +03:00 or Z)",
                                 (int)x->lit.len, x->lit.u.s);
            tsr_op o = mkconst(&v, n->off, n->len);
            return add_op(cx, &o, out);
        }
        if (fn == FN_DATETIME)
            return tsr__xerr(cx, TSR_ETYPE, n->args[0]->off,
                             "`datetime` takes a string literal (nothing is parsed at "
                             "evaluation time)");
        if ((rc = check(cx, n->args[0], &a)) != TSR_OK)
            return rc;
        if (OPT(cx, a) == TSR_T_DATE)
            return (*out = a, TSR_OK);
        if (OPT(cx, a) == TSR_T_DATETIME)
            return unop(cx, OP_DT_DATE, TSR_T_DATE, n, a, out);
        if (OPT(cx, a) == TSR_T_STRING)
            return tsr__xerr(cx, TSR_ETYPE, n->args[0]->off,
                             "`date` parses only string literals (nothing is parsed at "
                             "evaluation time)");
        return arg_error(cx, name, a, "a datetime or a string literal");
    default:
        break;
    }

    if (fn == FN_LEN && n->args[0]->kind == XK_NAME &&
        name_is(n->args[0]->name, n->args[0]->name_len, "items")) {
        if (!(cx->env->flags & TSR_ENV_ITEMS))
            return tsr__xerr(cx, TSR_ENAME, n->args[0]->off, "`items` is not available here");
        tsr_op o = mkop(OP_LEN_ITEMS, TSR_T_INT, n);
        return add_op(cx, &o, out);
    }
    if (fn == FN_WEEKDAY || fn == FN_DAYS_BETWEEN || fn == FN_AGE || fn == FN_BIRTHDAY_WITHIN) {
        if ((rc = date_arg(cx, name, n->args[0], &a)) != TSR_OK)
            return rc;
        if (fn == FN_WEEKDAY)
            return unop(cx, OP_WEEKDAY, TSR_T_INT, n, a, out);
        if ((rc = date_arg(cx, name, n->args[1], &b)) != TSR_OK)
            return rc;
        if (fn != FN_BIRTHDAY_WITHIN)
            return binop(cx, fn == FN_AGE ? OP_AGE : OP_DAYS_BETWEEN, TSR_T_INT, n, a, b, out);
        if ((rc = check(cx, n->args[2], &c)) != TSR_OK)
            return rc;
        if (OPT(cx, c) != TSR_T_INT)
            return arg_error(cx, name, c, "an int number of days");
        if (IS_K(cx, c) && cx->ops[c].k.u.i < 0)
            return tsr__xerr(cx, TSR_EVALUE, cx->ops[c].off,
                             "`birthday_within` needs a number of days >= 0");
        tsr_op o = mkop(OP_BDAY_WITHIN, TSR_T_BOOL, n);
        o.a = a;
        o.b = b;
        o.c = c;
        return emit_op(cx, &o, out);
    }

    if ((rc = check(cx, n->args[0], &a)) != TSR_OK)
        return rc;
    ta = OPT(cx, a);
    switch (fn) {
    case FN_HAS:
        if (cx->ops[a].op == OP_TABLE) {
            tsr_value v = tsr__missing();
            v.type = TSR_T_BOOL;
            v.u.i = 1;
            tsr_op o = mkconst(&v, n->off, n->len);
            return add_op(cx, &o, out);
        }
        return unop(cx, OP_HAS, TSR_T_BOOL, n, a, out);
    case FN_MIN:
    case FN_MAX:
        if ((rc = check(cx, n->args[1], &b)) != TSR_OK)
            return rc;
        if ((rc = unify(cx, &a, &b, n->tok_off, fn == FN_MIN
                        ? "`min` needs two values of one type, got "
                        : "`max` needs two values of one type, got ", " and ")) != TSR_OK)
            return rc;
        ta = OPT(cx, a);
        if (ta == TSR_T_BOOL || !is_scalar(ta))
            return arg_error(cx, name, a, "numbers, money, strings, dates, datetimes or durations");
        {
            tsr_op o = mkop(fn == FN_MIN ? OP_MIN : OP_MAX, ta, n);
            o.a = a;
            o.b = b;
            o.aux = ta == TSR_T_STRING ? CLS_STR : CLS_NUM;
            return emit_op(cx, &o, out);
        }
    case FN_ABS:
        if (!is_num(ta) && ta != TSR_T_MONEY && ta != TSR_T_DURATION)
            return arg_error(cx, name, a, "a number, money or a duration");
        return unop(cx, OP_ABS, ta, n, a, out);
    case FN_FLOOR:
        if (ta == TSR_T_INT)
            return (*out = a, TSR_OK);
        if (ta == TSR_T_DECIMAL)
            return unop(cx, OP_FLOOR_D, TSR_T_INT, n, a, out);
        if (ta == TSR_T_MONEY)
            return unop(cx, OP_FLOOR_M, TSR_T_MONEY, n, a, out);
        return arg_error(cx, name, a, "a number or money");
    case FN_LEN:
        if (ta == TSR_T_STRING)
            return unop(cx, OP_LEN_S, TSR_T_INT, n, a, out);
        if (cx->ops[a].op == OP_TABLE || (ta == TSR_T_LIST && IS_K(cx, a))) {
            tsr_value v = tsr__missing();
            v.type = TSR_T_INT;
            v.u.i = cx->ops[a].op == OP_TABLE ? (int64_t)((const tsr_table *)cx->ops[a].p)->len
                                              : (int64_t)cx->ops[a].k.len;
            tsr_op o = mkconst(&v, n->off, n->len);
            return add_op(cx, &o, out);
        }
        if (ta == TSR_T_LIST)
            return unop(cx, OP_LEN_L, TSR_T_INT, n, a, out);
        return arg_error(cx, name, a, "a string, a list or `items`");
    case FN_LOWER:
    case FN_UPPER:
        if (ta != TSR_T_STRING)
            return arg_error(cx, name, a, "a string");
        return unop(cx, fn == FN_LOWER ? OP_LOWER : OP_UPPER, TSR_T_STRING, n, a, out);
    case FN_STARTS_WITH:
        if (ta != TSR_T_STRING)
            return arg_error(cx, name, a, "a string");
        if ((rc = check(cx, n->args[1], &b)) != TSR_OK)
            return rc;
        if (OPT(cx, b) != TSR_T_STRING)
            return arg_error(cx, name, b, "a string prefix");
        return binop(cx, OP_STARTS_WITH, TSR_T_BOOL, n, a, b, out);
    case FN_HOUR:
    case FN_MINUTE:
        if (ta != TSR_T_DATETIME)
            return arg_error(cx, name, a, "a datetime");
        return unop(cx, fn == FN_HOUR ? OP_HOUR : OP_MINUTE, TSR_T_INT, n, a, out);
    case FN_DAYS:
    case FN_HOURS:
    case FN_MINUTES: {
        if (!is_num(ta))
            return arg_error(cx, name, a, "an int or a decimal");
        tsr_op o = mkop(ta == TSR_T_INT ? OP_DURATION : OP_DURATION_D, TSR_T_DURATION, n);
        o.a = a;
        o.k.type = TSR_T_DURATION;
        o.k.u.i = fn == FN_DAYS ? TSR_USEC_PER_DAY
                  : fn == FN_HOURS ? 3600 * TSR_USEC_PER_SEC : 60 * TSR_USEC_PER_SEC;
        return emit_op(cx, &o, out);
    }
    default:
        return tsr__xerr(cx, TSR_ENAME, n->tok_off, "internal error: function `%s`", name);
    }
}

/* ---------------------------------------------------------------------
 * Dispatch.
 */
static int check(tsr_xcx *cx, const tsr_xnode *n, uint32_t *out)
{
    int rc;
    uint32_t a;
    switch ((tsr_xkind)n->kind) {
    case XK_LIT: {
        tsr_op o = mkconst(&n->lit, n->off, n->len);
        return add_op(cx, &o, out);
    }
    case XK_NAME:
        return check_name(cx, n, out);
    case XK_MEMBER:
        return check_member(cx, n, out);
    case XK_INDEX:
        return check_index(cx, n, out);
    case XK_CALL:
        return check_call(cx, n, out);
    case XK_LIST:
        return check_list(cx, n, out);
    case XK_NEG: {
        if ((rc = check(cx, n->a, &a)) != TSR_OK)
            return rc;
        tsr_type t = OPT(cx, a);
        if (!is_num(t) && t != TSR_T_MONEY && t != TSR_T_DURATION) {
            char d[160];
            return tsr__xerr(cx, TSR_ETYPE, n->tok_off, "cannot negate %s",
                             desc(cx, a, d, sizeof d));
        }
        return unop(cx, OP_NEG, t, n, a, out);
    }
    case XK_NOT:
        if ((rc = check(cx, n->a, &a)) != TSR_OK || (rc = want_bool(cx, a, "`not`")) != TSR_OK)
            return rc;
        return unop(cx, OP_NOT, TSR_T_BOOL, n, a, out);
    case XK_BIN:
        return check_bin(cx, n, out);
    case XK_AND:
    case XK_OR:
        return check_chain(cx, n, out);
    case XK_COND:
        return check_cond(cx, n, out);
    }
    return tsr__xerr(cx, TSR_EPARSE, n->off, "internal error: node kind %d", n->kind);
}

int tsr__expr_check(tsr_xcx *cx, const tsr_xnode *n, tsr_type want, uint32_t *root)
{
    uint32_t r;
    int rc = check(cx, n, &r);
    if (rc != TSR_OK)
        return rc;
    const tsr_op *o = &cx->ops[r];
    tsr_type t = (tsr_type)o->type;
    char d[160];
    if (o->op == OP_TABLE)
        return tsr__xerr(cx, TSR_ETYPE, o->off,
                         "table `%s` is not a value: index it (`tables.%s[key]`) or use `in`",
                         ((const tsr_table *)o->p)->name, ((const tsr_table *)o->p)->name);
    switch (want) {
    case TSR_T_MISSING:
        break;
    case TSR_T_MONEY:
        if (t == TSR_T_MONEY)
            break;
        if (is_num(t) && coercible(cx, r)) {
            if ((rc = to_money(cx, r)) != TSR_OK)
                return rc;
            break;
        }
        return tsr__xerr(cx, TSR_ETYPE, o->off, "expected money, got %s%s",
                         desc(cx, r, d, sizeof d),
                         is_num(t) ? " (only numeric constants and decimal tables convert to "
                                     "money)" : "");
    case TSR_T_DECIMAL:
        if (t == TSR_T_INT) {
            if ((rc = promote(cx, &r)) != TSR_OK)
                return rc;
            break;
        }
        if (t == TSR_T_DECIMAL)
            break;
        return tsr__xerr(cx, TSR_ETYPE, o->off, "expected a number, got %s",
                         desc(cx, r, d, sizeof d));
    default:
        if (t != want)
            return tsr__xerr(cx, TSR_ETYPE, o->off, "expected %s, got %s", tsr__type_name(want),
                             desc(cx, r, d, sizeof d));
    }
    *root = r;
    return TSR_OK;
}
