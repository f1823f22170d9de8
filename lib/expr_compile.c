/*
 * expr_compile.c — the compiler driver: tsr__expr_compile runs lex → parse
 * → check (resolve, type-check, fold) → emit, and owns the compile context
 * and the mapping of source offsets to file positions for errors.
 */
#include "expr_impl.h"

#include <limits.h>
#include <stdio.h>

static const char *const type_names[TSR_T__COUNT] = {
    [TSR_T_MISSING] = "missing", [TSR_T_BOOL] = "bool", [TSR_T_INT] = "int",
    [TSR_T_DECIMAL] = "decimal", [TSR_T_MONEY] = "money", [TSR_T_STRING] = "string",
    [TSR_T_DATE] = "date", [TSR_T_DATETIME] = "datetime", [TSR_T_DURATION] = "duration",
    [TSR_T_LIST] = "list", [TSR_T_ITEMS] = "items", [TSR_T_MAP] = "table",
};

const char *tsr__type_name(tsr_type t)
{
    return (unsigned)t < TSR_T__COUNT ? type_names[t] : "?";
}

int tsr__xcx_init(tsr_xcx *cx, const char *src, size_t len, const tsr_ynode *node,
                  const tsr_expr_env *env, tsr_arena *arena, tsr_error *err)
{
    memset(cx, 0, sizeof *cx);
    cx->node = node;
    cx->env = env;
    cx->arena = arena;
    cx->err = err;
    tsr__arena_init(&cx->scratch, arena->alloc, 4096);
    char *copy = tsr__arena_strndup(arena, src, len);
    if (!copy)
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    cx->src = copy;
    cx->len = len;
    return TSR_OK;
}

void tsr__xcx_fini(tsr_xcx *cx)
{
    if (!cx->arena)
        return;   /* never initialised, or already finished */
    const tsr_alloc *a = cx->arena->alloc;
    if (cx->ops)
        tsr__free(a, cx->ops, cx->capops * sizeof *cx->ops);
    if (cx->kids)
        tsr__free(a, cx->kids, cx->capkids * sizeof *cx->kids);
    if (cx->fold_scratch)
        tsr__regex_scratch_free(cx->fold_scratch, a);
    tsr__arena_free(&cx->scratch);
    cx->ops = NULL;
    cx->kids = NULL;
    cx->fold_scratch = NULL;
    cx->arena = NULL;
}

int tsr__xerr(tsr_xcx *cx, int code, size_t off, const char *fmt, ...)
{
    char msg[TSR_ERROR_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    int line = 1, col = (int)off + 1;
    if (cx->node && cx->node->kind == TSR_Y_SCALAR)
        tsr__yaml_scalar_pos(cx->node, off, &line, &col);
    const char *file = cx->env && cx->env->file ? cx->env->file : "";
    return tsr__err_at(cx->err, code, file, line, col, "%s", msg);
}

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
    /* A lone fused comparison is pre-decoded for tsr__expr_fast_test (see
     * tsr_expr.fast): the same reads fk_holds makes, answered inline by the
     * callers.  String constants with case-mapping flags, ordering
     * relations on strings and unusual records stay on the full path. */
    if (r->op == OP_CMP_FK && r->a <= UINT16_MAX && r->b < TSR_T__COUNT &&
        r->b != TSR_T_MISSING &&
        (r->aux == TSR_REC_ORDER || r->aux == TSR_REC_CUSTOMER || r->aux == TSR_REC_ITEM)) {
        uint8_t fast = TSR_FAST_NONE;
        if (r->c == CLS_NUM)
            fast = TSR_FAST_NUM;
        else if (r->c == CLS_STR && r->k.flags == 0 && r->aux2 == REL_EQ)
            fast = TSR_FAST_STR_EQ;
        else if (r->c == CLS_STR && r->k.flags == 0 && r->aux2 == REL_NE)
            fast = TSR_FAST_STR_NE;
        if (fast != TSR_FAST_NONE) {
            e->fast = fast;
            e->fast_record = r->aux;
            e->fast_type = (uint8_t)r->b;
            e->fast_rel = r->aux2;
            e->fast_slot = (uint16_t)r->a;
            e->fast_k = r->k;
        }
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
