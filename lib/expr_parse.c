/*
 * expr_parse.c — recursive-descent parser of the expression language
 * (SPEC §2), producing a syntax tree (tsr_xnode) with source ranges.
 *
 * Grammar, lowest precedence first:
 *   cond    := or_expr [ "if" or_expr "else" cond ]        (right-associative)
 *   or_expr := and_expr { "or" and_expr }                  (flattened: n-ary)
 *   and_expr:= not_expr { "and" not_expr }                 (flattened: n-ary)
 *   not_expr:= "not" not_expr | cmp
 *   cmp     := add [ ("=="|"!="|"<"|"<="|">"|">="|"in"|"not" "in") add ]
 *   add     := mul { ("+"|"-") mul }
 *   mul     := unary { ("*"|"/"|"%") unary }
 *   unary   := "-" unary | postfix
 *   postfix := primary { "." NAME | "[" cond "]" }
 *   primary := literal | NAME | NAME "(" [cond {"," cond}] ")" | "(" cond ")"
 *            | "[" [cond {"," cond}] "]"
 *
 * Comparisons do not chain (`a < b < c` is an error that says so).  `not in`
 * is accepted as sugar for `not (a in b)`.  Nesting (parentheses, prefix
 * operators) and the height of the tree are bounded by TSR_EXPR_MAX_DEPTH so
 * that neither this parser nor the later recursive stages can exhaust the C
 * stack on hostile input.
 */
#include "expr_impl.h"

#include <stdio.h>

static const tsr_token *peek(tsr_xcx *cx)
{
    return &cx->toks[cx->pos];
}

static const tsr_token *peek2(tsr_xcx *cx)
{
    return cx->pos + 1 < cx->ntoks ? &cx->toks[cx->pos + 1] : &cx->toks[cx->ntoks - 1];
}

static const tsr_token *next(tsr_xcx *cx)
{
    const tsr_token *t = &cx->toks[cx->pos];
    if (t->kind != TK_EOF)
        cx->pos++;
    return t;
}

static int unexpected(tsr_xcx *cx, const tsr_token *t, const char *wanted)
{
    if (t->kind == TK_EOF)
        return tsr__xerr(cx, TSR_EPARSE, t->off, "expected %s, found the end of the expression",
                         wanted);
    return tsr__xerr(cx, TSR_EPARSE, t->off, "expected %s, found `%.*s`", wanted, (int)t->len,
                     cx->src + t->off);
}

static int too_deep(tsr_xcx *cx, size_t off)
{
    return tsr__xerr(cx, TSR_ELIMIT, off, "expression is nested too deeply (more than %d levels)",
                     TSR_EXPR_MAX_DEPTH);
}

static tsr_xnode *mk(tsr_xcx *cx, tsr_xkind kind, uint32_t off, uint32_t end)
{
    tsr_xnode *n = tsr__arena_calloc(&cx->scratch, 1, sizeof *n);
    if (!n) {
        tsr__err(cx->err, TSR_ENOMEM, "out of memory");
        return NULL;
    }
    n->kind = (uint8_t)kind;
    n->off = off;
    n->len = end - off;
    n->height = 1;
    return n;
}

static uint32_t end_of(const tsr_xnode *n)
{
    return n->off + n->len;
}

/* Record the height of `n` from its children; error when too tall. */
static int seal(tsr_xcx *cx, tsr_xnode *n)
{
    unsigned h = 0;
    const tsr_xnode *k[3] = { n->a, n->b, n->c };
    for (int i = 0; i < 3; i++)
        if (k[i] && k[i]->height > h)
            h = k[i]->height;
    for (uint32_t i = 0; i < n->nargs; i++)
        if (n->args[i]->height > h)
            h = n->args[i]->height;
    if (h + 1 > TSR_EXPR_MAX_DEPTH)
        return too_deep(cx, n->off);
    n->height = (uint16_t)(h + 1);
    return TSR_OK;
}

/* A growable list of nodes in the scratch arena. */
typedef struct nlist {
    tsr_xnode **v;
    uint32_t n, cap;
} nlist;

static int nl_push(tsr_xcx *cx, nlist *l, tsr_xnode *x)
{
    if (l->n == l->cap) {
        uint32_t ncap = l->cap ? l->cap * 2 : 4;
        tsr_xnode **nv = tsr__arena_alloc(&cx->scratch, ncap * sizeof *nv);
        if (!nv)
            return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
        if (l->n)
            memcpy(nv, l->v, l->n * sizeof *nv);
        l->v = nv;
        l->cap = ncap;
    }
    l->v[l->n++] = x;
    return TSR_OK;
}

static int parse_cond(tsr_xcx *cx, tsr_xnode **out);

/* Comma-separated expressions up to `close`; the opening token is consumed. */
static int parse_seq(tsr_xcx *cx, tsr_tok_kind close, const char *what, nlist *l,
                     const tsr_token **closing)
{
    int rc;
    if (peek(cx)->kind == close) {
        *closing = next(cx);
        return TSR_OK;
    }
    for (;;) {
        tsr_xnode *x = NULL;
        if ((rc = parse_cond(cx, &x)) != TSR_OK)
            return rc;
        if ((rc = nl_push(cx, l, x)) != TSR_OK)
            return rc;
        const tsr_token *t = next(cx);
        if (t->kind == close) {
            *closing = t;
            return TSR_OK;
        }
        if (t->kind != TK_COMMA)
            return unexpected(cx, t, what);
        /* A trailing comma before the closing bracket is allowed in lists. */
        if (close == TK_RBRACK && peek(cx)->kind == close) {
            *closing = next(cx);
            return TSR_OK;
        }
    }
}

static int parse_primary(tsr_xcx *cx, tsr_xnode **out)
{
    const tsr_token *t = next(cx);
    tsr_xnode *n;
    int rc;

    switch (t->kind) {
    case TK_INT:
        if (t->int_min_only)
            return tsr__xerr(cx, TSR_EVALUE, t->off, "integer `%.*s` is out of range",
                             (int)t->len, cx->src + t->off);
        /* fall through */
    case TK_DEC:
    case TK_STR:
    case TK_TRUE:
    case TK_FALSE:
        if (!(n = mk(cx, XK_LIT, t->off, t->off + t->len)))
            return TSR_ENOMEM;
        n->lit = tsr__missing();
        if (t->kind == TK_INT) {
            n->lit.type = TSR_T_INT;
            n->lit.u.i = t->num;
        } else if (t->kind == TK_DEC) {
            n->lit.type = TSR_T_DECIMAL;
            n->lit.u.i = t->num;
        } else if (t->kind == TK_STR) {
            n->lit.type = TSR_T_STRING;
            n->lit.u.s = t->str;
            n->lit.len = t->slen;
        } else {
            n->lit.type = TSR_T_BOOL;
            n->lit.u.i = t->kind == TK_TRUE;
        }
        n->tok_off = t->off;
        n->tok_len = t->len;
        *out = n;
        return TSR_OK;

    case TK_IDENT:
        if (peek(cx)->kind == TK_LPAREN) {
            next(cx);
            nlist args = { 0 };
            const tsr_token *close;
            if (++cx->depth > TSR_EXPR_MAX_DEPTH)
                return too_deep(cx, t->off);
            if ((rc = parse_seq(cx, TK_RPAREN, "`,` or `)` after an argument", &args, &close)) !=
                TSR_OK)
                return rc;
            cx->depth--;
            if (!(n = mk(cx, XK_CALL, t->off, close->off + close->len)))
                return TSR_ENOMEM;
            n->args = args.v;
            n->nargs = args.n;
        } else {
            if (!(n = mk(cx, XK_NAME, t->off, t->off + t->len)))
                return TSR_ENOMEM;
        }
        n->name = t->str;
        n->name_len = t->slen;
        n->tok_off = t->off;
        n->tok_len = t->len;
        if ((rc = seal(cx, n)) != TSR_OK)
            return rc;
        *out = n;
        return TSR_OK;

    case TK_LPAREN: {
        tsr_xnode *inner;
        if ((rc = parse_cond(cx, &inner)) != TSR_OK)
            return rc;
        const tsr_token *c = next(cx);
        if (c->kind != TK_RPAREN)
            return unexpected(cx, c, "`)`");
        /* The node covers the parentheses: traces quote `(a or b)` whole. */
        inner->off = t->off;
        inner->len = c->off + c->len - t->off;
        *out = inner;
        return TSR_OK;
    }

    case TK_LBRACK: {
        nlist elems = { 0 };
        const tsr_token *close;
        if (++cx->depth > TSR_EXPR_MAX_DEPTH)
            return too_deep(cx, t->off);
        if ((rc = parse_seq(cx, TK_RBRACK, "`,` or `]` in a list", &elems, &close)) != TSR_OK)
            return rc;
        cx->depth--;
        if (!(n = mk(cx, XK_LIST, t->off, close->off + close->len)))
            return TSR_ENOMEM;
        n->args = elems.v;
        n->nargs = elems.n;
        n->tok_off = t->off;
        n->tok_len = t->len;
        if ((rc = seal(cx, n)) != TSR_OK)
            return rc;
        *out = n;
        return TSR_OK;
    }

    default:
        if (t->kind == TK_NOT)
            /* `a == not b`: `not` binds more loosely than comparisons. */
            return tsr__xerr(cx, TSR_EPARSE, t->off,
                             "`not` cannot appear here; put it in parentheses: `(not …)`");
        return unexpected(cx, t, "an expression");
    }
}

static int parse_postfix(tsr_xcx *cx, tsr_xnode **out)
{
    tsr_xnode *n = NULL;
    int rc = parse_primary(cx, &n);
    if (rc != TSR_OK)
        return rc;
    for (;;) {
        const tsr_token *t = peek(cx);
        tsr_xnode *m;
        if (t->kind == TK_DOT) {
            next(cx);
            const tsr_token *name = next(cx);
            /* Keywords are valid member names (`item.in` would be odd, but
             * a schema field called `if` must stay reachable). */
            if (name->kind != TK_IDENT && !(name->kind >= TK_AND && name->kind <= TK_FALSE))
                return unexpected(cx, name, "a name after `.`");
            if (!(m = mk(cx, XK_MEMBER, n->off, name->off + name->len)))
                return TSR_ENOMEM;
            m->a = n;
            m->name = cx->src + name->off;
            m->name_len = name->len;
            m->tok_off = name->off;
            m->tok_len = name->len;
        } else if (t->kind == TK_LBRACK) {
            next(cx);
            tsr_xnode *key;
            if ((rc = parse_cond(cx, &key)) != TSR_OK)
                return rc;
            const tsr_token *c = next(cx);
            if (c->kind != TK_RBRACK)
                return unexpected(cx, c, "`]`");
            if (!(m = mk(cx, XK_INDEX, n->off, c->off + c->len)))
                return TSR_ENOMEM;
            m->a = n;
            m->b = key;
            m->tok_off = t->off;
            m->tok_len = t->len;
        } else {
            break;
        }
        if ((rc = seal(cx, m)) != TSR_OK)
            return rc;
        n = m;
    }
    *out = n;
    return TSR_OK;
}

/* The node of a prefix operator (`-x`, `not x`) at token t over x. */
static int prefix_node(tsr_xcx *cx, tsr_xkind kind, const tsr_token *t, tsr_xnode *x,
                       tsr_xnode **out)
{
    tsr_xnode *n = mk(cx, kind, t->off, end_of(x));
    int rc;

    if (!n)
        return TSR_ENOMEM;
    n->a = x;
    n->tok_off = t->off;
    n->tok_len = t->len;
    if ((rc = seal(cx, n)) != TSR_OK)
        return rc;
    *out = n;
    return TSR_OK;
}

static int parse_unary(tsr_xcx *cx, tsr_xnode **out)
{
    const tsr_token *t = peek(cx);
    int rc;
    if (t->kind != TK_MINUS)
        return parse_postfix(cx, out);
    next(cx);
    /* `-9223372036854775808` is the one literal that exists only negated. */
    const tsr_token *lit = peek(cx);
    if ((lit->kind == TK_INT || lit->kind == TK_DEC) && peek2(cx)->kind != TK_DOT &&
        peek2(cx)->kind != TK_LBRACK) {
        next(cx);
        tsr_xnode *n = mk(cx, XK_LIT, t->off, lit->off + lit->len);
        if (!n)
            return TSR_ENOMEM;
        n->lit = tsr__missing();
        n->lit.type = lit->kind == TK_INT ? TSR_T_INT : TSR_T_DECIMAL;
        n->lit.u.i = lit->int_min_only ? INT64_MIN : -lit->num;
        n->tok_off = t->off;
        n->tok_len = lit->off + lit->len - t->off;
        *out = n;
        return TSR_OK;
    }
    if (++cx->depth > TSR_EXPR_MAX_DEPTH)
        return too_deep(cx, t->off);
    tsr_xnode *x;
    if ((rc = parse_unary(cx, &x)) != TSR_OK)
        return rc;
    cx->depth--;
    return prefix_node(cx, XK_NEG, t, x, out);
}

static int binary(tsr_xcx *cx, const tsr_token *op, tsr_xnode *l, tsr_xnode *r,
                  tsr_xnode **out)
{
    tsr_xnode *n = mk(cx, XK_BIN, l->off, end_of(r));
    if (!n)
        return TSR_ENOMEM;
    n->binop = op->kind;
    n->a = l;
    n->b = r;
    n->tok_off = op->off;
    n->tok_len = op->len;
    int rc = seal(cx, n);
    if (rc == TSR_OK)
        *out = n;
    return rc;
}

static int parse_mul(tsr_xcx *cx, tsr_xnode **out)
{
    tsr_xnode *l, *r;
    int rc = parse_unary(cx, &l);
    while (rc == TSR_OK) {
        const tsr_token *t = peek(cx);
        if (t->kind != TK_STAR && t->kind != TK_SLASH && t->kind != TK_PERCENT)
            break;
        next(cx);
        if ((rc = parse_unary(cx, &r)) != TSR_OK)
            break;
        rc = binary(cx, t, l, r, &l);
    }
    if (rc == TSR_OK)
        *out = l;
    return rc;
}

static int parse_add(tsr_xcx *cx, tsr_xnode **out)
{
    tsr_xnode *l, *r;
    int rc = parse_mul(cx, &l);
    while (rc == TSR_OK) {
        const tsr_token *t = peek(cx);
        if (t->kind != TK_PLUS && t->kind != TK_MINUS)
            break;
        next(cx);
        if ((rc = parse_mul(cx, &r)) != TSR_OK)
            break;
        rc = binary(cx, t, l, r, &l);
    }
    if (rc == TSR_OK)
        *out = l;
    return rc;
}

static bool is_cmp(tsr_tok_kind k)
{
    return (k >= TK_EQ && k <= TK_GE) || k == TK_IN;
}

static int parse_cmp(tsr_xcx *cx, tsr_xnode **out)
{
    tsr_xnode *l, *r;
    int rc = parse_add(cx, &l);
    if (rc != TSR_OK)
        return rc;
    const tsr_token *t = peek(cx);
    bool negate = false;
    if (t->kind == TK_NOT && peek2(cx)->kind == TK_IN) {
        negate = true;
        next(cx);
        t = peek(cx);
    } else if (!is_cmp(t->kind)) {
        *out = l;
        return TSR_OK;
    }
    const tsr_token *first = negate ? &cx->toks[cx->pos - 1] : t;
    next(cx);
    if ((rc = parse_add(cx, &r)) != TSR_OK)
        return rc;
    if ((rc = binary(cx, t, l, r, &l)) != TSR_OK)
        return rc;
    if (negate) {
        tsr_xnode *n = mk(cx, XK_NOT, l->off, end_of(l));
        if (!n)
            return TSR_ENOMEM;
        n->a = l;
        n->tok_off = first->off;
        n->tok_len = t->off + t->len - first->off;
        if ((rc = seal(cx, n)) != TSR_OK)
            return rc;
        l = n;
    }
    const tsr_token *again = peek(cx);
    if (is_cmp(again->kind) || (again->kind == TK_NOT && peek2(cx)->kind == TK_IN))
        return tsr__xerr(cx, TSR_EPARSE, again->off,
                         "comparisons cannot be chained; combine them with `and`");
    *out = l;
    return TSR_OK;
}

static int parse_not(tsr_xcx *cx, tsr_xnode **out)
{
    const tsr_token *t = peek(cx);
    int rc;
    if (t->kind != TK_NOT)
        return parse_cmp(cx, out);
    next(cx);
    if (++cx->depth > TSR_EXPR_MAX_DEPTH)
        return too_deep(cx, t->off);
    tsr_xnode *x;
    if ((rc = parse_not(cx, &x)) != TSR_OK)
        return rc;
    cx->depth--;
    return prefix_node(cx, XK_NOT, t, x, out);
}

/* and_expr / or_expr: collect the operands of a chain into one n-ary node,
 * so a long chain is one level deep and the trace can cite each operand. */
static int parse_chain(tsr_xcx *cx, tsr_tok_kind op, tsr_xnode **out)
{
    tsr_xnode *first;
    int rc = op == TK_AND ? parse_not(cx, &first) : parse_chain(cx, TK_AND, &first);
    if (rc != TSR_OK)
        return rc;
    if (peek(cx)->kind != op) {
        *out = first;
        return TSR_OK;
    }
    nlist l = { 0 };
    if ((rc = nl_push(cx, &l, first)) != TSR_OK)
        return rc;
    const tsr_token *t0 = peek(cx);
    while (peek(cx)->kind == op) {
        next(cx);
        tsr_xnode *x = NULL;
        rc = op == TK_AND ? parse_not(cx, &x) : parse_chain(cx, TK_AND, &x);
        if (rc != TSR_OK)
            return rc;
        if ((rc = nl_push(cx, &l, x)) != TSR_OK)
            return rc;
    }
    tsr_xnode *n = mk(cx, op == TK_AND ? XK_AND : XK_OR, first->off, end_of(l.v[l.n - 1]));
    if (!n)
        return TSR_ENOMEM;
    n->args = l.v;
    n->nargs = l.n;
    n->tok_off = t0->off;
    n->tok_len = t0->len;
    if ((rc = seal(cx, n)) != TSR_OK)
        return rc;
    *out = n;
    return TSR_OK;
}

static int parse_cond(tsr_xcx *cx, tsr_xnode **out)
{
    int rc;
    if (++cx->depth > TSR_EXPR_MAX_DEPTH)
        return too_deep(cx, peek(cx)->off);
    tsr_xnode *then;
    if ((rc = parse_chain(cx, TK_OR, &then)) != TSR_OK)
        return rc;
    const tsr_token *t = peek(cx);
    if (t->kind == TK_IF) {
        next(cx);
        tsr_xnode *cond, *els;
        if ((rc = parse_chain(cx, TK_OR, &cond)) != TSR_OK)
            return rc;
        const tsr_token *e = next(cx);
        if (e->kind != TK_ELSE)
            return unexpected(cx, e, "`else` after the condition of `if`");
        if ((rc = parse_cond(cx, &els)) != TSR_OK)
            return rc;
        tsr_xnode *n = mk(cx, XK_COND, then->off, end_of(els));
        if (!n)
            return TSR_ENOMEM;
        n->a = then;
        n->b = cond;
        n->c = els;
        n->tok_off = t->off;
        n->tok_len = t->len;
        if ((rc = seal(cx, n)) != TSR_OK)
            return rc;
        then = n;
    }
    cx->depth--;
    *out = then;
    return TSR_OK;
}

int tsr__expr_parse(tsr_xcx *cx, tsr_xnode **out)
{
    int rc;
    if (!cx->toks && (rc = tsr__expr_lex(cx)) != TSR_OK)
        return rc;
    cx->pos = 0;
    cx->depth = 0;
    if (peek(cx)->kind == TK_EOF)
        return tsr__xerr(cx, TSR_EPARSE, 0, "empty expression");
    tsr_xnode *n;
    if ((rc = parse_cond(cx, &n)) != TSR_OK)
        return rc;
    const tsr_token *t = peek(cx);
    if (t->kind != TK_EOF) {
        if (t->kind == TK_RPAREN || t->kind == TK_RBRACK)
            return tsr__xerr(cx, TSR_EPARSE, t->off, "unbalanced `%.*s`", (int)t->len,
                             cx->src + t->off);
        return tsr__xerr(cx, TSR_EPARSE, t->off,
                         "expected an operator or the end of the expression, found `%.*s`",
                         (int)t->len, cx->src + t->off);
    }
    *out = n;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Dump (tests and debugging).
 */
static void dump_lit(const tsr_value *v, tsr_buf *b)
{
    char buf[32];
    switch (v->type) {
    case TSR_T_BOOL:
        tsr__buf_puts(b, v->u.i ? "true" : "false");
        break;
    case TSR_T_INT:
        tsr__buf_printf(b, "%lld", (long long)v->u.i);
        break;
    case TSR_T_DECIMAL: {
        /* Formatted here (not with money.c) so the parser tests need no
         * other module: integer part, '.', six digits, zeros trimmed. */
        uint64_t m = v->u.i < 0 ? (uint64_t)0 - (uint64_t)v->u.i : (uint64_t)v->u.i;
        int n = snprintf(buf, sizeof buf, "%s%llu.%06llu", v->u.i < 0 ? "-" : "",
                         (unsigned long long)(m / 1000000u), (unsigned long long)(m % 1000000u));
        while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
            buf[--n] = '\0';
        tsr__buf_puts(b, buf);
        break;
    }
    case TSR_T_STRING:
        tsr__buf_putc(b, '"');
        tsr__buf_put(b, v->u.s, v->len);
        tsr__buf_putc(b, '"');
        break;
    default:
        tsr__buf_puts(b, "?");
    }
}

void tsr__xnode_dump(const tsr_xnode *n, tsr_buf *b)
{
    switch (n->kind) {
    case XK_LIT:
        dump_lit(&n->lit, b);
        return;
    case XK_NAME:
        tsr__buf_put(b, n->name, n->name_len);
        return;
    case XK_MEMBER:
        tsr__buf_puts(b, "(. ");
        tsr__xnode_dump(n->a, b);
        tsr__buf_putc(b, ' ');
        tsr__buf_put(b, n->name, n->name_len);
        tsr__buf_putc(b, ')');
        return;
    case XK_INDEX:
        tsr__buf_puts(b, "([] ");
        tsr__xnode_dump(n->a, b);
        tsr__buf_putc(b, ' ');
        tsr__xnode_dump(n->b, b);
        tsr__buf_putc(b, ')');
        return;
    case XK_CALL:
    case XK_LIST:
    case XK_AND:
    case XK_OR:
        if (n->kind == XK_CALL) {
            tsr__buf_puts(b, "(call ");
            tsr__buf_put(b, n->name, n->name_len);
        } else {
            tsr__buf_puts(b, n->kind == XK_LIST ? "(list" : n->kind == XK_AND ? "(and" : "(or");
        }
        for (uint32_t i = 0; i < n->nargs; i++) {
            tsr__buf_putc(b, ' ');
            tsr__xnode_dump(n->args[i], b);
        }
        tsr__buf_putc(b, ')');
        return;
    case XK_NEG:
    case XK_NOT:
        tsr__buf_puts(b, n->kind == XK_NEG ? "(neg " : "(not ");
        tsr__xnode_dump(n->a, b);
        tsr__buf_putc(b, ')');
        return;
    case XK_BIN: {
        static const char *const ops[TK__COUNT] = {
            [TK_EQ] = "==", [TK_NE] = "!=", [TK_LT] = "<", [TK_LE] = "<=", [TK_GT] = ">",
            [TK_GE] = ">=", [TK_PLUS] = "+", [TK_MINUS] = "-", [TK_STAR] = "*",
            [TK_SLASH] = "/", [TK_PERCENT] = "%", [TK_IN] = "in",
        };
        tsr__buf_putc(b, '(');
        tsr__buf_puts(b, ops[n->binop] ? ops[n->binop] : "?");
        tsr__buf_putc(b, ' ');
        tsr__xnode_dump(n->a, b);
        tsr__buf_putc(b, ' ');
        tsr__xnode_dump(n->b, b);
        tsr__buf_putc(b, ')');
        return;
    }
    case XK_COND:
        tsr__buf_puts(b, "(if ");
        tsr__xnode_dump(n->b, b);
        tsr__buf_putc(b, ' ');
        tsr__xnode_dump(n->a, b);
        tsr__buf_putc(b, ' ');
        tsr__xnode_dump(n->c, b);
        tsr__buf_putc(b, ')');
        return;
    }
}
