/*
 * expr_compile.c — the compiler driver: tsr__expr_compile runs lex → parse
 * → check (resolve, type-check, fold) → emit over one compile context
 * (expr_ctx.c), then fills the tsr_expr the evaluator reads: its pre-decoded
 * inline comparison and the trace sentences of its failure sites.
 */
#include "expr_impl.h"

#include <limits.h>
#include <stdio.h>

/* Fill one site of e: src[off .. off+len) and its trace sentence. */
static int why_site(tsr_why_site *site, const tsr_expr *e, uint32_t off, uint32_t len,
                    tsr_arena *arena)
{
    /* a long condition is quoted in part, never splitting a character */
    int n = (int)tsr__utf8_prefix(e->src + off, len, TSR_QUOTE_MAX);
    char *t = tsr__arena_alloc(arena, (size_t)n + sizeof "`` was false");
    if (!t)
        return TSR_ENOMEM;
    snprintf(t, (size_t)n + sizeof "`` was false", "`%.*s` was false", n, e->src + off);
    site->off = off;
    site->len = len;
    site->text = t;
    return TSR_OK;
}

/* The trace sentences of a bool expression, one per range tsr__expr_test
 * can name when it fails (expr_test in expr_eval.c): the whole text (a
 * constant, or a caller's fallback), the root op, each operand of a root
 * `and`.  Formatting them here keeps vsnprintf out of traced evaluations. */
static int why_sites(tsr_expr *e, const tsr_prog *prog, tsr_arena *arena)
{
    const tsr_op *r = &prog->ops[prog->root];
    uint32_t n = 2 + (r->op == OP_AND ? r->b : 0), k = 0, i;
    tsr_why_site *sites = tsr__arena_alloc(arena, n * sizeof *sites);

    if (!sites || why_site(&sites[k++], e, 0, (uint32_t)e->src_len, arena) != TSR_OK ||
        why_site(&sites[k++], e, r->off, r->len, arena) != TSR_OK)
        return TSR_ENOMEM;
    for (i = 0; r->op == OP_AND && i < r->b; i++) {
        const tsr_op *kid = &prog->ops[prog->kids[r->a + i]];
        if (why_site(&sites[k++], e, kid->off, kid->len, arena) != TSR_OK)
            return TSR_ENOMEM;
    }
    e->whys = sites;
    e->nwhys = k;
    return TSR_OK;
}

/* Op i of prog as a field of record/slot/type (types from `want` only),
 * read by a fused conjunct. */
static bool fast_field_op(const tsr_prog *prog, uint32_t i, uint8_t want, uint8_t *record,
                          uint16_t *slot, uint8_t *type)
{
    const tsr_op *o = &prog->ops[i];

    if (o->op != OP_FIELD || o->type != want || o->aux >= TSR_REC__COUNT || o->a > UINT16_MAX)
        return false;
    *record = o->aux;
    *slot = (uint16_t)o->a;
    *type = o->type;
    return true;
}

/* Op i as a date argument read from a field: a date field, or the local
 * date of a datetime field (OP_DT_DATE). */
static bool fast_date_op(const tsr_prog *prog, uint32_t i, uint8_t *record, uint16_t *slot,
                         uint8_t *type)
{
    const tsr_op *o = &prog->ops[i];

    if (o->op == OP_DT_DATE)
        return fast_field_op(prog, o->a, TSR_T_DATETIME, record, slot, type);
    return fast_field_op(prog, i, TSR_T_DATE, record, slot, type);
}

/* A scalar constant (not a list, table or missing). */
static bool is_scalar_const(const tsr_value *k)
{
    return k->type != TSR_T_MISSING && k->type != TSR_T_LIST && k->type != TSR_T_MAP &&
           k->type != TSR_T_ITEMS;
}

/* Op i as a non-missing constant. */
static bool fast_const_op(const tsr_prog *prog, uint32_t i)
{
    return prog->ops[i].op == OP_K && prog->ops[i].k.type != TSR_T_MISSING;
}

/* OP_CMP o as a calendar function of a field compared with a constant:
 * `weekday(now) >= 6`, `hour(now) < 12`, `date(now) <= date("2026-06-30")`
 * (the constant on either side). */
static bool fast_calendar(const tsr_prog *prog, const tsr_op *o, tsr_fast_cmp *f)
{
    static const uint8_t flip[] = { [REL_EQ] = REL_EQ, [REL_NE] = REL_NE, [REL_LT] = REL_GT,
                                    [REL_LE] = REL_GE, [REL_GT] = REL_LT, [REL_GE] = REL_LE };
    uint32_t subj = o->a, k = o->b;
    const tsr_op *x;

    if (o->aux != CLS_NUM || o->aux2 > REL_GE)
        return false;
    f->rel = o->aux2;
    if (fast_const_op(prog, o->a) && !fast_const_op(prog, o->b)) {
        subj = o->b;
        k = o->a;
        f->rel = flip[o->aux2];
    }
    if (!fast_const_op(prog, k))
        return false;
    f->k = prog->ops[k].k;
    x = &prog->ops[subj];
    switch (x->op) {
    case OP_WEEKDAY:
        f->kind = TSR_FAST_WEEKDAY;
        return fast_date_op(prog, x->a, &f->record, &f->slot, &f->type);
    case OP_HOUR:
    case OP_MINUTE:
        f->kind = x->op == OP_HOUR ? TSR_FAST_HOUR : TSR_FAST_MINUTE;
        return fast_field_op(prog, x->a, TSR_T_DATETIME, &f->record, &f->slot, &f->type);
    case OP_DT_DATE:
        f->kind = TSR_FAST_DATE;
        return fast_field_op(prog, x->a, TSR_T_DATETIME, &f->record, &f->slot, &f->type);
    default:
        return false;
    }
}

/* Op o as one conjunct answered inline (tsr_fast_cmp): the fused
 * `FIELD <rel> CONSTANT` (string constants with case-mapping flags and
 * ordering relations on strings excepted), a bool field, a segment or a
 * promo flag; out of line, a constant in a list field (`"vip" in
 * customer.tags`), a calendar function of a field compared with a
 * constant, `birthday_within` of two date fields (or `date(now)`) and a
 * constant.  False for anything else. */
static bool fast_cmp(const tsr_prog *prog, const tsr_op *o, tsr_fast_cmp *f)
{
    memset(f, 0, sizeof *f);
    f->off = o->off;
    f->len = o->len;
    f->slot = (uint16_t)o->a;
    if (o->a > UINT16_MAX)
        return false;
    switch (o->op) {
    case OP_CMP_FK:
        if (o->b >= TSR_T__COUNT || o->b == TSR_T_MISSING || o->aux >= TSR_REC__COUNT)
            return false;
        if (o->c == CLS_NUM)
            f->kind = TSR_FAST_NUM;
        else if (o->c == CLS_STR && o->k.flags == 0 && o->aux2 == REL_EQ)
            f->kind = TSR_FAST_STR_EQ;
        else if (o->c == CLS_STR && o->k.flags == 0 && o->aux2 == REL_NE)
            f->kind = TSR_FAST_STR_NE;
        else
            return false;
        f->record = o->aux;
        f->type = (uint8_t)o->b;
        f->rel = o->aux2;
        f->k = o->k;
        return true;
    case OP_FIELD:
        /* a bool field's truthiness: `!= false` */
        if (o->type != TSR_T_BOOL || o->aux >= TSR_REC__COUNT)
            return false;
        f->kind = TSR_FAST_NUM;
        f->record = o->aux;
        f->type = TSR_T_BOOL;
        f->rel = REL_NE;
        f->k.type = TSR_T_BOOL;
        return true;
    case OP_IN_DYN:
        if (!fast_const_op(prog, o->a) || !is_scalar_const(&prog->ops[o->a].k))
            return false;
        f->kind = TSR_FAST_IN;
        f->rel = o->aux;
        f->k = prog->ops[o->a].k;
        return fast_field_op(prog, o->b, TSR_T_LIST, &f->record, &f->slot, &f->type);
    case OP_CMP:
        return fast_calendar(prog, o, f);
    case OP_BDAY_WITHIN:
        if (!fast_const_op(prog, o->c) || prog->ops[o->c].k.type != TSR_T_INT ||
            prog->ops[o->c].k.u.i < 0)
            return false;
        f->kind = TSR_FAST_BDAY;
        f->k = prog->ops[o->c].k;
        return fast_date_op(prog, o->a, &f->record, &f->slot, &f->type) &&
               fast_date_op(prog, o->b, &f->record2, &f->slot2, &f->type2);
    case OP_SEGMENT:
        f->kind = TSR_FAST_SEGMENT;
        return true;
    case OP_PROMO:
        f->kind = TSR_FAST_PROMO;
        return true;
    default:
        return false;
    }
}

/* The pre-decoded form of condition op `root` (tsr_expr.fast): the op
 * when it is one inline conjunct, or each operand of an `and` of up to
 * TSR_FAST_MAX of them, in order, into *out (arena) and *n.  Anything else
 * leaves *n 0 (the full path). */
static int fast_conjs(const tsr_prog *prog, uint32_t root, tsr_arena *arena,
                      const tsr_fast_cmp **out, uint8_t *nout)
{
    const tsr_op *r = &prog->ops[root];
    tsr_fast_cmp v[TSR_FAST_MAX], *f;
    uint32_t n = 0, i;

    *nout = 0;
    if (r->op == OP_AND) {
        if (r->b < 2 || r->b > TSR_FAST_MAX)
            return TSR_OK;
        for (i = 0; i < r->b; i++)
            if (!fast_cmp(prog, &prog->ops[prog->kids[r->a + i]], &v[n++]))
                return TSR_OK;
    } else if (!fast_cmp(prog, r, &v[n++])) {
        return TSR_OK;
    }
    if (!(f = tsr__arena_alloc(arena, n * sizeof *f)))
        return TSR_ENOMEM;
    memcpy(f, v, n * sizeof *f);
    *out = f;
    *nout = (uint8_t)n;
    return TSR_OK;
}

/* The inline forms of e: a condition's (tsr__expr_fast_test), or a value
 * `K1 if CONDITION else K2`'s (tsr__expr_eval). */
static int fast_form(tsr_expr *e, const tsr_prog *prog, tsr_arena *arena)
{
    const tsr_op *r = &prog->ops[prog->root];

    if (e->is_const)
        return TSR_OK;
    if (e->type == TSR_T_BOOL)
        return fast_conjs(prog, prog->root, arena, &e->fast, &e->nfast);
    if (r->op != OP_COND || prog->ops[r->b].op != OP_K || prog->ops[r->c].op != OP_K)
        return TSR_OK;
    e->cond_k[0] = prog->ops[r->b].k;
    e->cond_k[1] = prog->ops[r->c].k;
    return fast_conjs(prog, r->a, arena, &e->cond_fast, &e->ncond_fast);
}

int tsr__expr_compile(tsr_expr **out, const char *src, size_t len, tsr_type want,
                      const tsr_ynode *node, const tsr_expr_env *env, tsr_arena *arena,
                      tsr_error *err)
{
    tsr_xcx cx;
    int rc;

    *out = NULL;
    if ((rc = tsr__xcx_init(&cx, src, len, node, env, arena, err)) != TSR_OK) {
        tsr__xcx_fini(&cx);
        return rc;
    }
    if (env->max_length && len > env->max_length) {
        rc = tsr__xerr(&cx, TSR_ELIMIT, 0, "expression is longer than %zu bytes",
                       env->max_length);
        goto done;
    }
    if (!tsr__utf8_valid(src, len)) {
        rc = tsr__xerr(&cx, TSR_EPARSE, 0, "expression is not valid UTF-8");
        goto done;
    }
    tsr_xnode *tree;
    uint32_t root;
    tsr_prog *prog;
    if ((rc = tsr__expr_parse(&cx, &tree)) != TSR_OK ||
        (rc = tsr__expr_check(&cx, tree, want, &root)) != TSR_OK ||
        (rc = tsr__expr_emit(&cx, root, &prog)) != TSR_OK)
        goto done;

    tsr_expr *e = tsr__arena_calloc(arena, 1, sizeof *e);
    if (!e) {
        rc = tsr__err(err, TSR_ENOMEM, "out of memory");
        goto done;
    }
    const tsr_op *r = &prog->ops[prog->root];
    e->type = r->type;
    e->elem = r->elem;
    e->is_const = r->op == OP_K;
    e->constant = e->is_const ? r->k : tsr__missing();
    e->src = cx.src;
    e->src_len = cx.len;
    e->code = prog;
    e->code_len = prog->nops;
    e->cost = prog->cost ? prog->cost : 1;
    /* the aggregates' cache slots, numbered across the rule set */
    if (prog->naggs && env->agg_slots) {
        if (*env->agg_slots > UINT32_MAX - prog->naggs) {
            rc = tsr__xerr(&cx, TSR_ELIMIT, 0, "too many count/sum/any/all in the rule set");
            goto done;
        }
        e->agg_base = *env->agg_slots;
        e->naggs = prog->naggs;
        *env->agg_slots += prog->naggs;
    }
    e->file = env->file;
    e->line = 1;
    e->col = 1;
    if (node && node->kind == TSR_Y_SCALAR) {
        int l2, c2;
        tsr__yaml_scalar_pos(node, 0, &e->line, &e->col);
        tsr__yaml_scalar_pos(node, len, &l2, &c2);
        /* content no longer than its source on one line: nothing escaped,
         * nothing folded (an escape is never shorter than what it means) */
        e->pos_exact = l2 == e->line && len <= INT_MAX && c2 - e->col == (int)len;
    }
    if (fast_form(e, prog, arena) != TSR_OK) {
        rc = tsr__err(err, TSR_ENOMEM, "out of memory");
        goto done;
    }
    if (e->type == TSR_T_BOOL && why_sites(e, prog, arena) != TSR_OK) {
        rc = tsr__err(err, TSR_ENOMEM, "out of memory");
        goto done;
    }
    *out = e;
done:
    tsr__xcx_fini(&cx);
    return rc;
}
