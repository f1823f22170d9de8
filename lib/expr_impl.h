/*
 * expr_impl.h — private structures of the expression compiler and
 * evaluator (expr_ctx.c, expr_lex.c, expr_parse.c, expr_check.c,
 * expr_emit.c, expr_compile.c, expr_eval.c, regex.c).  Nothing outside
 * expr*.c and regex.c includes it, except the unit tests of those files.
 *
 * Pipeline:  text --lex--> tokens --parse--> syntax tree (tsr_xnode)
 *            --check--> typed op tree (tsr_op, folded) --emit--> tsr_prog
 *
 * The compiled form (tsr_prog) is a flat array of typed nodes ("ops") whose
 * children are indexes into the same array, emitted in post-order (children
 * before parents, the root last).  Each op is specialised by type at compile
 * time (no run-time type dispatch on the hot path), the commonest shape
 * `FIELD <op> CONSTANT` is fused into one op, and every op keeps the source
 * range it came from so that errors and traces can quote it.  The evaluator
 * is a recursive walk over this array; the recursion is bounded because the
 * parser bounds the height of the tree (TSR_EXPR_MAX_DEPTH).
 */
#ifndef TSR_EXPR_IMPL_H
#define TSR_EXPR_IMPL_H

#include "expr.h"

/* Nesting of parentheses / prefix operators and height of the syntax tree. */
#define TSR_EXPR_MAX_DEPTH 256

/* ---------------------------------------------------------------------
 * Tokens (expr_lex.c).
 */
typedef enum tsr_tok_kind {
    TK_EOF = 0,
    TK_IDENT, TK_INT, TK_DEC, TK_STR,
    TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK, TK_COMMA, TK_DOT,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
    TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT,
    TK_AND, TK_OR, TK_NOT, TK_IN, TK_IF, TK_ELSE, TK_TRUE, TK_FALSE,
    TK__COUNT
} tsr_tok_kind;

typedef struct tsr_token {
    uint8_t kind;           /* tsr_tok_kind */
    bool int_min_only;      /* TK_INT 9223372036854775808: valid only negated */
    uint32_t off, len;      /* bytes of the source the token covers */
    int64_t num;            /* TK_INT value; TK_DEC value scaled by 10^6 */
    const char *str;        /* TK_STR: decoded text (arena); TK_IDENT: in the source */
    uint32_t slen;
} tsr_token;

const char *tsr__tok_name(tsr_tok_kind k);

/* ---------------------------------------------------------------------
 * Syntax tree (expr_parse.c).  Allocated in the compile scratch arena.
 */
typedef enum tsr_xkind {
    XK_LIT,       /* lit */
    XK_NAME,      /* name */
    XK_MEMBER,    /* a.name */
    XK_INDEX,     /* a[b] */
    XK_CALL,      /* name(args) */
    XK_LIST,      /* [args] */
    XK_NEG,       /* -a */
    XK_NOT,       /* not a */
    XK_BIN,       /* a binop b (arithmetic, comparison, in) */
    XK_AND,       /* args[0] and args[1] and ... */
    XK_OR,
    XK_COND       /* a if b else c */
} tsr_xkind;

typedef struct tsr_xnode tsr_xnode;

struct tsr_xnode {
    uint8_t kind;           /* tsr_xkind */
    uint8_t binop;          /* XK_BIN: the operator's tsr_tok_kind */
    uint16_t height;        /* 1 for leaves */
    uint32_t off, len;      /* source range of the whole node (parentheses included) */
    uint32_t tok_off, tok_len;  /* the operator, or the name of a member / call */
    tsr_value lit;          /* XK_LIT: bool, int, decimal or string */
    const char *name;       /* XK_NAME, XK_MEMBER, XK_CALL */
    uint32_t name_len;
    tsr_xnode *a, *b, *c;
    tsr_xnode **args;       /* XK_CALL, XK_LIST, XK_AND, XK_OR */
    uint32_t nargs;
};

/* ---------------------------------------------------------------------
 * Compiled ops (expr_check.c builds them, expr_emit.c lays them out,
 * expr_eval.c runs them).
 */
typedef enum tsr_opcode {
    OP_K = 0,          /* the constant k */
    OP_FIELD,          /* aux: record kind, a: slot; type/elem: declared type */
    OP_SEGMENT,        /* a: segment index */
    OP_PROMO,          /* a: promo index */
    OP_TIER,
    OP_TABLE,          /* a map table (compile time only: indexed or `in`); p: table */
    OP_TABLE_GET,      /* a: key; p: table; k.u.list: the values to return (maybe a
                          converted copy); aux: 1 when keys are not sorted (linear search) */
    OP_I2D,            /* int -> decimal */
    OP_NOT, OP_AND, OP_OR,  /* AND/OR: kids[a .. a+b) */
    OP_COND,           /* a: condition, b: then, c: else */
    OP_HAS,
    OP_NEG,            /* int64 negation (int, decimal, money, duration) */
    OP_ADD, OP_SUB,    /* checked int64 (same scale on both sides) */
    OP_MUL,            /* checked int64 product (int*int, money*int, duration*int) */
    OP_MUL_SCALED,     /* a*b/10^6 rounded (decimal*decimal, money*decimal, duration*decimal) */
    OP_DIV_RATIO,      /* a*10^6/b rounded (int/int, decimal/decimal, money/money,
                          money/decimal, duration/duration) */
    OP_DIV_INT,        /* a/b rounded (money/int, duration/int) */
    OP_MOD,
    OP_DT_ADD, OP_DT_SUB,     /* datetime +/- duration, keeping the offset */
    OP_DT_DIFF,               /* datetime - datetime -> duration */
    OP_DATE_ADD, OP_DATE_SUB, /* date +/- duration of whole days */
    OP_DATE_DIFF,             /* date - date -> duration */
    OP_CMP,            /* aux: class, aux2: relation */
    OP_CMP_FK,         /* fused FIELD <rel> K: aux: record kind, a: slot, b: field type,
                          c: class, aux2: relation, k: the constant */
    OP_HAS_F,          /* fused has(FIELD): aux: record kind, a: slot */
    OP_IN_LIST,        /* a: needle; k: the constant list; aux: class */
    OP_IN_MAP,         /* a: key (string); p: table; aux: 1 = linear search */
    OP_IN_DYN,         /* a: needle; b: list-valued child; aux: class */
    OP_COUNT, OP_SUM, OP_ANY, OP_ALL,  /* a: body, run once per line; b: the body's
                          cost (steps per line); c: 1 + the cache slot relative to
                          tsr_expr.agg_base (0: not cached); aux: AGG_* (what the
                          body reads that evaluation changes) */
    OP_MIN, OP_MAX,    /* aux: class */
    OP_ABS,
    OP_FLOOR_D,        /* decimal -> int */
    OP_FLOOR_M,        /* money -> money, whole currency units */
    OP_LEN_S, OP_LEN_L, OP_LEN_ITEMS,
    OP_LOWER, OP_UPPER,
    OP_STARTS_WITH,
    OP_MATCHES,        /* a: subject; p: tsr_regex */
    OP_DT_DATE,        /* local date of a datetime (rule set zone or own offset) */
    OP_WEEKDAY,        /* of a date */
    OP_HOUR, OP_MINUTE,
    OP_DURATION,       /* a: int; k.u.i: microseconds per unit */
    OP_DURATION_D,     /* a: decimal; k.u.i: microseconds per unit */
    OP_DAYS_BETWEEN, OP_AGE, OP_BDAY_WITHIN,
    OP__COUNT
} tsr_opcode;

/* What the body of an aggregate reads that can change during one
 * evaluation (its cache slot is then valid only for one generation of it,
 * see tsr_expr_ctx.lines_gen / flags_gen).  Anything else it can read (the
 * order, the customer, the fixed fields of the lines, tables, constants)
 * is the same all through an evaluation. */
enum {
    AGG_LINES = 1u << 0,   /* item.category, item.price, item.subtotal, item.total */
    AGG_FLAGS = 1u << 1    /* segment.NAME, tier, promo.ID */
};

/* Comparison classes: every type but string compares through u.i. */
enum { CLS_NUM = 0, CLS_STR = 1 };
/* Relations (the values of tsr_rel). */
enum { REL_EQ = TSR_REL_EQ, REL_NE = TSR_REL_NE, REL_LT = TSR_REL_LT, REL_LE = TSR_REL_LE,
       REL_GT = TSR_REL_GT, REL_GE = TSR_REL_GE };

typedef struct tsr_op {
    uint8_t op;             /* tsr_opcode */
    uint8_t type;           /* static result type */
    uint8_t elem;           /* element type of list results */
    uint8_t aux, aux2;
    uint8_t pad[3];
    uint32_t a, b, c;       /* children or operands, see tsr_opcode */
    uint32_t off, len;      /* source range */
    tsr_value k;
    const void *p;
} tsr_op;

/* How many of a, b, c are child op indexes (AND/OR: -1, children in kids). */
static inline int tsr__op_arity(uint8_t op)
{
    switch (op) {
    case OP_K: case OP_FIELD: case OP_SEGMENT: case OP_PROMO: case OP_TIER: case OP_TABLE:
    case OP_LEN_ITEMS: case OP_HAS_F: case OP_CMP_FK:
        return 0;
    case OP_AND: case OP_OR:
        return -1;
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_MUL_SCALED: case OP_DIV_RATIO:
    case OP_DIV_INT: case OP_MOD: case OP_DT_ADD: case OP_DT_SUB: case OP_DT_DIFF:
    case OP_DATE_ADD: case OP_DATE_SUB: case OP_DATE_DIFF: case OP_CMP: case OP_IN_DYN:
    case OP_MIN: case OP_MAX: case OP_STARTS_WITH: case OP_DAYS_BETWEEN: case OP_AGE:
        return 2;
    case OP_COND: case OP_BDAY_WITHIN:
        return 3;
    default:
        return 1;
    }
}

typedef struct tsr_prog {
    const tsr_op *ops;
    const uint32_t *kids;   /* children of AND / OR */
    uint32_t nops, nkids;
    uint32_t root;
    uint32_t cost;          /* steps of one evaluation outside aggregate bodies */
    uint32_t naggs;         /* aggregates (cache slots 1..naggs in their ops' c) */
} tsr_prog;

/* Evaluate op `idx` of a program (also used for constant folding).  `src`
 * is the source text the ops' ranges refer to. */
int tsr__prog_eval(const tsr_prog *p, uint32_t idx, const char *src, tsr_expr_ctx *ctx,
                   tsr_value *out);

/* ---------------------------------------------------------------------
 * Compile context, shared by the compiler stages (expr_ctx.c).
 */
typedef struct tsr_xcx {
    const char *src;            /* NUL-terminated copy in the rule set arena */
    size_t len;
    const tsr_ynode *node;
    const tsr_expr_env *env;
    tsr_arena *arena;           /* the rule set's: what outlives compilation */
    tsr_arena scratch;          /* tokens, syntax tree, temporary ops */
    tsr_error *err;

    tsr_token *toks;
    size_t ntoks;
    size_t pos;                 /* parser: next token */
    unsigned depth;             /* parser: current nesting */

    tsr_op *ops;                /* checker output (tsr__grow'n) */
    size_t nops, capops;
    uint32_t *kids;
    size_t nkids, capkids;
    unsigned in_agg;            /* checker: inside count/sum/any/all bodies */
    tsr_regex_scratch *fold_scratch;
} tsr_xcx;

/* Set up for compiling src[0..len): copies the source into `arena`. */
int tsr__xcx_init(tsr_xcx *cx, const char *src, size_t len, const tsr_ynode *node,
                  const tsr_expr_env *env, tsr_arena *arena, tsr_error *err);
void tsr__xcx_fini(tsr_xcx *cx);

/* A compile error at byte `off` of the source (exact line/column through
 * the YAML scalar when there is one).  Returns `code`. */
int tsr__xerr(tsr_xcx *cx, int code, size_t off, const char *fmt, ...) TSR_PRINTF(4, 5);

int tsr__expr_lex(tsr_xcx *cx);                         /* fills cx->toks */
int tsr__expr_parse(tsr_xcx *cx, tsr_xnode **out);      /* lexes if needed */
/* Print a syntax tree as an S-expression (tests). */
void tsr__xnode_dump(const tsr_xnode *n, tsr_buf *b);
/* Byte offset in the source of byte `index` of the decoded string literal
 * token starting at `tok_off` (for regex error positions). */
size_t tsr__str_src_offset(const char *src, size_t tok_off, size_t index);

/* Type-check `n`, resolve names and fold; *root is an index into cx->ops. */
int tsr__expr_check(tsr_xcx *cx, const tsr_xnode *n, tsr_type want, uint32_t *root);
/* Lay out the ops reachable from `root` into `arena` (with fusion). */
int tsr__expr_emit(tsr_xcx *cx, uint32_t root, tsr_prog **out);

/* Regex scratch: a byte buffer of at least n bytes, kept in the scratch
 * (subjects that need case mapping before matching). */
char *tsr__regex_scratch_buf(tsr_regex_scratch **s, const tsr_alloc *alloc, size_t n);

#endif /* TSR_EXPR_IMPL_H */
