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
static uint8_t negate_rel(uint8_t rel)
{
    switch (rel) {
    case REL_EQ: return REL_NE;
    case REL_NE: return REL_EQ;
    case REL_LT: return REL_GE;
    case REL_LE: return REL_GT;
    case REL_GT: return REL_LE;
    default: return REL_LT;
    }
}

/* The subject of a comparison: an int converted for a decimal constant
 * is read as the int (the constant keeps its decimal value). */
static uint32_t strip_i2d(const tsr_prog *p, uint32_t i)
{
    while (p->ops[i].op == OP_I2D)
        i = p->ops[i].a;
    return i;
}

static void describe_subject(const tsr_expr *e, const tsr_prog *p, uint32_t s,
                             tsr_expr_cmp *c)
{
    const tsr_op *o = &p->ops[s];
    c->type = o->type;
    c->subject_src = e->src + o->off;
    c->subject_len = o->len;
    if (o->op == OP_FIELD) {
        c->kind = TSR_CMP_FIELD;
        c->record = o->aux;
        c->slot = (uint16_t)o->a;
    } else {
        c->kind = TSR_CMP_EXPR;
        c->subject = s;
    }
}

/* One conjunct: op o of e's program, negated when `neg`. */
static void describe(const tsr_expr *e, const tsr_prog *p, const tsr_op *o, bool neg,
                     tsr_expr_cmp *c)
{
    memset(c, 0, sizeof *c);
    c->kind = TSR_CMP_OTHER;
    c->src = e->src + o->off;
    c->src_len = o->len;
    if (o->op == OP_CMP_FK) {
        c->kind = TSR_CMP_FIELD;   /* fused: no op of its own for the field */
        c->record = o->aux;
        c->slot = (uint16_t)o->a;
        c->type = (uint8_t)o->b;
        c->rel = neg ? negate_rel(o->aux2) : o->aux2;
        c->constant = o->k;
        return;
    }
    if (o->op == OP_CMP) {
        uint32_t l = o->a, r = o->b;
        uint8_t rel = o->aux2;
        if (p->ops[l].op == OP_K && p->ops[r].op != OP_K) {
            uint32_t t = l;
            l = r;
            r = t;
            rel = swap_rel(rel);
        }
        if (p->ops[r].op != OP_K || p->ops[l].op == OP_K)
            return;
        describe_subject(e, p, strip_i2d(p, l), c);
        c->rel = neg ? negate_rel(rel) : rel;
        c->constant = p->ops[r].k;
        return;
    }
    if (o->op == OP_IN_LIST && !neg) {
        describe_subject(e, p, strip_i2d(p, o->a), c);
        c->rel = TSR_REL_IN;
        c->constant = o->k;
    }
}

/* Depth first through `and` (and `not (... or ...)`); the recursion is
 * bounded by the parser's limit on the height of the tree. */
static void walk(const tsr_expr *e, const tsr_prog *p, uint32_t i, bool neg, tsr_expr_cmp *out,
                 size_t max, size_t *n)
{
    const tsr_op *o = &p->ops[i];

    if (o->op == OP_NOT) {
        walk(e, p, o->a, !neg, out, max, n);
        return;
    }
    if ((o->op == OP_AND && !neg) || (o->op == OP_OR && neg)) {
        for (uint32_t k = 0; k < o->b; k++)
            walk(e, p, p->kids[o->a + k], neg, out, max, n);
        return;
    }
    if (*n < max)
        describe(e, p, o, neg, &out[*n]);
    (*n)++;
}

size_t tsr__expr_conjuncts(const tsr_expr *e, tsr_expr_cmp *out, size_t max)
{
    size_t n = 0;

    if (!e || e->is_const || !e->code)
        return 0;
    const tsr_prog *p = e->code;
    walk(e, p, p->root, false, out, max, &n);
    return n;
}

static bool same_value(const tsr_value *a, const tsr_value *b)
{
    if (a->type != b->type || a->elem != b->elem || a->len != b->len || a->flags != b->flags ||
        a->offset != b->offset)
        return false;
    if (a->type == TSR_T_STRING)
        return a->len == 0 || memcmp(a->u.s, b->u.s, a->len) == 0;
    if (a->type == TSR_T_LIST) {
        for (uint32_t i = 0; i < a->len; i++)
            if (!same_value(&a->u.list[i], &b->u.list[i]))
                return false;
        return true;
    }
    return a->type == TSR_T_MISSING || a->u.i == b->u.i;
}

static bool is_aggregate(uint8_t op)
{
    return op == OP_COUNT || op == OP_SUM || op == OP_ANY || op == OP_ALL;
}

/* Are op x of program p and op y of program q the same computation?
 * Source positions aside; an aggregate's cost and cache slot aside. */
static bool same_tree(const tsr_prog *p, uint32_t x, const tsr_prog *q, uint32_t y)
{
    const tsr_op *a = &p->ops[x], *b = &q->ops[y];
    int ar = tsr__op_arity(a->op);

    if (a->op != b->op || a->type != b->type || a->elem != b->elem || a->aux != b->aux ||
        a->aux2 != b->aux2 || a->p != b->p || !same_value(&a->k, &b->k))
        return false;
    if (ar < 0) {
        if (a->b != b->b)
            return false;
        for (uint32_t k = 0; k < a->b; k++)
            if (!same_tree(p, p->kids[a->a + k], q, q->kids[b->a + k]))
                return false;
        return true;
    }
    if (is_aggregate(a->op))
        return same_tree(p, a->a, q, b->a);
    const uint32_t fa[3] = { a->a, a->b, a->c }, fb[3] = { b->a, b->b, b->c };
    for (int k = 0; k < 3; k++) {
        if (k < ar ? !same_tree(p, fa[k], q, fb[k]) : fa[k] != fb[k])
            return false;
    }
    return true;
}

bool tsr__expr_same_subject(const tsr_expr *ea, const tsr_expr_cmp *a, const tsr_expr *eb,
                            const tsr_expr_cmp *b)
{
    if (a->kind != b->kind || a->kind == TSR_CMP_OTHER)
        return false;
    if (a->kind == TSR_CMP_FIELD)
        return a->record == b->record && a->slot == b->slot;
    return same_tree(ea->code, a->subject, eb->code, b->subject);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
    return h;
}

static uint64_t hash_tree(const tsr_prog *p, uint32_t x)
{
    const tsr_op *o = &p->ops[x];
    int ar = tsr__op_arity(o->op);
    uint64_t h = mix(mix(o->op, o->type), (uint64_t)o->aux << 8 | o->aux2);

    if (o->k.type != TSR_T_STRING && o->k.type != TSR_T_LIST)
        h = mix(h, (uint64_t)o->k.u.i);
    if (ar < 0) {
        for (uint32_t k = 0; k < o->b; k++)
            h = mix(h, hash_tree(p, p->kids[o->a + k]));
        return h;
    }
    if (is_aggregate(o->op))
        return mix(h, hash_tree(p, o->a));
    const uint32_t f[3] = { o->a, o->b, o->c };
    for (int k = 0; k < 3; k++)
        h = mix(h, k < ar ? hash_tree(p, f[k]) : f[k]);
    return h;
}

uint64_t tsr__expr_subject_hash(const tsr_expr *e, const tsr_expr_cmp *c)
{
    if (c->kind == TSR_CMP_FIELD)
        return mix(mix(1, c->record), c->slot);
    if (c->kind == TSR_CMP_EXPR)
        return mix(2, hash_tree(e->code, c->subject));
    return 0;
}

bool tsr__expr_reads_field(const tsr_expr *e, tsr_record_kind record, uint16_t slot)
{
    if (!e || e->is_const || !e->code)
        return false;
    const tsr_prog *p = e->code;
    for (uint32_t i = 0; i < p->nops; i++) {
        const tsr_op *o = &p->ops[i];
        if ((o->op == OP_FIELD || o->op == OP_CMP_FK || o->op == OP_HAS_F) &&
            o->aux == record && o->a == slot)
            return true;
    }
    return false;
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
