/*
 * expr_emit.c — lays the checked op tree out as the compiled program
 * (tsr_prog) in the rule set's arena.
 *
 * Only ops reachable from the root are kept (folding orphans the operands
 * it replaced), in post-order, so children sit just before their parents.
 * Two shapes are fused into single ops because they dominate real rule
 * files and are worth the dispatch they save:
 *   FIELD <rel> CONSTANT   (item.height_cm >= 100, item.kind == "ticket")
 *   has(FIELD)
 * It also works out, once, what the evaluator needs for the work budget
 * and the aggregate cache (annotate).
 */
#include "expr_impl.h"

typedef struct em {
    tsr_xcx *cx;
    tsr_op *ops;
    uint32_t n;
    uint32_t *kids;
    uint32_t nk;
} em;

static uint8_t swap_rel(uint8_t rel)
{
    switch (rel) {
    case REL_LT: return REL_GT;
    case REL_LE: return REL_GE;
    case REL_GT: return REL_LT;
    case REL_GE: return REL_LE;
    default: return rel;
    }
}

static bool fuse(const tsr_xcx *cx, const tsr_op *o, tsr_op *f)
{
    if (o->op == OP_CMP) {
        const tsr_op *l = &cx->ops[o->a], *r = &cx->ops[o->b];
        uint8_t rel = o->aux2;
        if (l->op == OP_K && r->op == OP_FIELD) {
            const tsr_op *t = l;
            l = r;
            r = t;
            rel = swap_rel(rel);
        }
        if (l->op != OP_FIELD || r->op != OP_K)
            return false;
        *f = *o;
        f->op = OP_CMP_FK;
        f->aux = l->aux;
        f->a = l->a;
        f->b = l->type;
        f->c = o->aux;
        f->aux2 = rel;
        f->k = r->k;
        return true;
    }
    if (o->op == OP_HAS && cx->ops[o->a].op == OP_FIELD) {
        const tsr_op *l = &cx->ops[o->a];
        *f = *o;
        f->op = OP_HAS_F;
        f->aux = l->aux;
        f->a = l->a;
        f->b = l->type;
        return true;
    }
    return false;
}

static int emit(em *e, uint32_t i, uint32_t *out)
{
    tsr_xcx *cx = e->cx;
    tsr_op c;
    int rc;

    if (!fuse(cx, &cx->ops[i], &c)) {
        c = cx->ops[i];
        int ar = tsr__op_arity(c.op);
        if (ar < 0) {
            uint32_t *tmp = tsr__arena_alloc(&cx->scratch, (c.b ? c.b : 1) * sizeof *tmp);
            if (!tmp)
                return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
            for (uint32_t k = 0; k < c.b; k++)
                if ((rc = emit(e, cx->kids[c.a + k], &tmp[k])) != TSR_OK)
                    return rc;
            memcpy(e->kids + e->nk, tmp, c.b * sizeof *tmp);
            c.a = e->nk;
            e->nk += c.b;
        } else {
            uint32_t *f[3] = { &c.a, &c.b, &c.c };
            for (int k = 0; k < ar; k++)
                if ((rc = emit(e, *f[k], f[k])) != TSR_OK)
                    return rc;
        }
    }
    e->ops[e->n] = c;
    *out = e->n++;
    return TSR_OK;
}

/* What op o itself reads that evaluation changes (AGG_*). */
static unsigned reads(const tsr_op *o)
{
    switch (o->op) {
    case OP_FIELD: case OP_CMP_FK: case OP_HAS_F:
        return o->aux == TSR_REC_ITEM &&
                       (o->a == TSR_ITEM_CATEGORY || o->a == TSR_ITEM_PRICE ||
                        o->a == TSR_ITEM_SUBTOTAL || o->a == TSR_ITEM_TOTAL)
                   ? AGG_LINES : 0;
    case OP_SEGMENT: case OP_TIER: case OP_PROMO:
        return AGG_FLAGS;
    default:
        return 0;
    }
}

/* The work budget and the aggregate cache, decided here once: each op's
 * cost is 1 plus its operands' (an aggregate counts 1, its body being
 * charged per line it visits), and each aggregate gets its body's cost, a
 * cache slot and what its body reads that can change (AGG_*).  The ops are
 * in post-order, so operands come before the ops that use them.  Nothing
 * in this language can name an enclosing line from inside an aggregate
 * (`item` there is the aggregate's own line), so every aggregate's value is
 * the same for every line of a rule and for every line of an enclosing
 * aggregate: caching it is the loop-invariant hoisting that keeps nested
 * aggregates linear in the number of lines. */
static int annotate(tsr_xcx *cx, tsr_op *ops, const uint32_t *kids, uint32_t n, tsr_prog *p)
{
    uint32_t *cost = tsr__arena_alloc(&cx->scratch, (n ? n : 1) * sizeof *cost);
    uint8_t *dep = tsr__arena_alloc(&cx->scratch, n ? n : 1);
    uint32_t i, naggs = 0;

    if (!cost || !dep)
        return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        tsr_op *o = &ops[i];
        uint64_t c = 1;
        unsigned d = reads(o);
        int ar = tsr__op_arity(o->op);
        if (ar < 0) {
            for (uint32_t k = 0; k < o->b; k++) {
                c += cost[kids[o->a + k]];
                d |= dep[kids[o->a + k]];
            }
        } else {
            const uint32_t f[3] = { o->a, o->b, o->c };
            for (int k = 0; k < ar; k++) {
                c += cost[f[k]];
                d |= dep[f[k]];
            }
        }
        if (o->op == OP_COUNT || o->op == OP_SUM || o->op == OP_ANY || o->op == OP_ALL) {
            o->b = cost[o->a];
            o->c = ++naggs;
            o->aux = (uint8_t)dep[o->a];
            c = 1;
        }
        cost[i] = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
        dep[i] = (uint8_t)d;
    }
    p->cost = n ? cost[p->root] : 1;
    p->naggs = naggs;
    return TSR_OK;
}

int tsr__expr_emit(tsr_xcx *cx, uint32_t root, tsr_prog **out)
{
    em e;
    int rc;
    memset(&e, 0, sizeof e);
    e.cx = cx;
    e.ops = tsr__arena_alloc(&cx->scratch, cx->nops * sizeof *e.ops);
    e.kids = tsr__arena_alloc(&cx->scratch, (cx->nkids ? cx->nkids : 1) * sizeof *e.kids);
    if (!e.ops || !e.kids)
        return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
    uint32_t r;
    if ((rc = emit(&e, root, &r)) != TSR_OK)
        return rc;

    tsr_prog *p = tsr__arena_calloc(cx->arena, 1, sizeof *p);
    tsr_op *ops = tsr__arena_alloc(cx->arena, e.n * sizeof *ops);
    uint32_t *kids = e.nk ? tsr__arena_alloc(cx->arena, e.nk * sizeof *kids) : NULL;
    if (!p || !ops || (e.nk && !kids))
        return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
    memcpy(ops, e.ops, e.n * sizeof *ops);
    if (e.nk)
        memcpy(kids, e.kids, e.nk * sizeof *kids);
    p->ops = ops;
    p->kids = kids;
    p->nops = e.n;
    p->nkids = e.nk;
    p->root = r;
    if ((rc = annotate(cx, ops, kids, e.n, p)) != TSR_OK)
        return rc;
    *out = p;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Introspection.
 */
static bool conjunct(const tsr_expr *e, const tsr_op *o, tsr_expr_cmp *c)
{
    if (o->op != OP_CMP_FK)
        return false;
    if (c) {
        c->record = o->aux;
        c->rel = o->aux2;
        c->slot = (uint16_t)o->a;
        c->constant = o->k;
        c->src = e->src + o->off;
        c->src_len = o->len;
    }
    return true;
}

size_t tsr__expr_conjuncts(const tsr_expr *e, tsr_expr_cmp *out, size_t max)
{
    if (!e || e->is_const || !e->code)
        return 0;
    const tsr_prog *p = e->code;
    const tsr_op *root = &p->ops[p->root];
    if (root->op != OP_AND)
        return conjunct(e, root, max ? out : NULL) ? 1 : 0;
    for (uint32_t k = 0; k < root->b; k++)
        if (p->ops[p->kids[root->a + k]].op != OP_CMP_FK)
            return 0;
    for (uint32_t k = 0; k < root->b; k++)
        conjunct(e, &p->ops[p->kids[root->a + k]], k < max ? &out[k] : NULL);
    return root->b;
}

bool tsr__expr_line_state_aggregate(const tsr_expr *e, uint32_t *off, uint32_t *len)
{
    const tsr_prog *p;
    const tsr_op *best = NULL;

    if (!e || e->is_const || !e->code)
        return false;
    p = e->code;
    /* the first in the source, and of nested ones the outermost */
    for (uint32_t i = 0; i < p->nops; i++) {
        const tsr_op *o = &p->ops[i];
        if ((o->op != OP_COUNT && o->op != OP_SUM && o->op != OP_ANY && o->op != OP_ALL) ||
            !(o->aux & AGG_LINES))
            continue;
        if (!best || o->off < best->off || (o->off == best->off && o->len > best->len))
            best = o;
    }
    if (!best)
        return false;
    *off = best->off;
    *len = best->len;
    return true;
}
