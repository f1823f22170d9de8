/*
 * expr.h — the expression language of SPEC §1–2: values, static types, the
 * compiler (lex, parse, resolve names, type-check, fold constants, emit a
 * compact program) and the evaluator that runs it.
 *
 * Names are resolved at compile time into slots and indexes; evaluation never
 * looks anything up by string and never allocates (except PCRE2 match data,
 * created once per evaluation context).
 */
#ifndef TSR_EXPR_H
#define TSR_EXPR_H

#include "datetime.h"
#include "internal.h"
#include "money.h"
#include "tz.h"
#include "yaml_tree.h"

/* ---------------------------------------------------------------------
 * Types and values.
 */
typedef enum tsr_type {
    TSR_T_MISSING = 0,  /* runtime only: the value is missing */
    TSR_T_BOOL,
    TSR_T_INT,
    TSR_T_DECIMAL,      /* int64 scaled by 10^6 */
    TSR_T_MONEY,        /* int64 minor units of the rule set's currency */
    TSR_T_STRING,
    TSR_T_DATE,         /* days since 1970-01-01 */
    TSR_T_DATETIME,     /* usec since epoch + offset */
    TSR_T_DURATION,     /* usec */
    TSR_T_LIST,         /* elements of one scalar type (see tsr_value.elem) */
    TSR_T_ITEMS,        /* the order's lines: only in count/sum/any/all */
    TSR_T_MAP,          /* a map table: only indexed, or as the right side of `in` */
    TSR_T__COUNT
} tsr_type;

/* "money", "date", ...: a type as messages name it (expr_ctx.c). */
const char *tsr__type_name(tsr_type t);

typedef struct tsr_value tsr_value;

struct tsr_value {
    uint8_t type;       /* tsr_type; TSR_T_MISSING when missing */
    uint8_t elem;       /* element type of a list */
    uint16_t flags;     /* string: TSR_VF_LOWER / TSR_VF_UPPER (below); else 0 */
    int32_t offset;     /* datetime: offset east of UTC in seconds */
    uint32_t len;       /* string: bytes; list: elements */
    uint32_t pad;
    union {
        int64_t i;      /* bool (0/1), int, decimal, money, date, datetime, duration */
        const char *s;  /* string (not NUL-terminated in general) */
        const tsr_value *list;
    } u;
};

/* A string value whose flags say TSR_VF_LOWER (or _UPPER) is to be read
 * through ASCII case mapping: lower()/upper() produce such views instead of
 * allocating a copy at evaluation time.  Constants are always stored
 * mapped, with flags 0; only run-time results of lower()/upper() carry them,
 * and every operator of the language honours them.  A caller that takes a
 * string result out of tsr__expr_eval should apply tsr__vf_map to each byte. */
#define TSR_VF_LOWER 1u
#define TSR_VF_UPPER 2u

static inline unsigned char tsr__vf_map(unsigned char c, unsigned flags)
{
    if ((flags & TSR_VF_LOWER) && c >= 'A' && c <= 'Z')
        return (unsigned char)(c + ('a' - 'A'));
    if ((flags & TSR_VF_UPPER) && c >= 'a' && c <= 'z')
        return (unsigned char)(c - ('a' - 'A'));
    return c;
}

static inline tsr_value tsr__missing(void)
{
    tsr_value v;
    memset(&v, 0, sizeof v);
    return v;
}

/* Truthiness in a boolean context: missing is false. */
static inline bool tsr__truthy(const tsr_value *v)
{
    return v->type == TSR_T_BOOL && v->u.i != 0;
}

/* ---------------------------------------------------------------------
 * Records.  An order, its customer and each line are arrays of tsr_value
 * indexed by slot.  Slots of built-in fields are fixed (below); schema
 * fields follow them in declaration order.  Computed item fields
 * (category, price, subtotal, total) are written by the evaluator.
 */
enum {
    TSR_ORDER_ID = 0, TSR_ORDER_DATETIME, TSR_ORDER_CHANNEL, TSR_ORDER_PROMO_CODES,
    TSR_ORDER_REDEEM_POINTS, TSR_ORDER__BUILTIN
};
enum {
    TSR_CUST_ID = 0, TSR_CUST_TAGS, TSR_CUST_POINTS_BALANCE, TSR_CUST__BUILTIN
};
enum {
    TSR_ITEM_ID = 0, TSR_ITEM_KIND, TSR_ITEM_SKU, TSR_ITEM_QUANTITY, TSR_ITEM_PRICE,
    TSR_ITEM_CATEGORY, TSR_ITEM_SUBTOTAL, TSR_ITEM_TOTAL, TSR_ITEM__BUILTIN
};

typedef enum tsr_record_kind { TSR_REC_ORDER, TSR_REC_CUSTOMER, TSR_REC_ITEM, TSR_REC__COUNT } tsr_record_kind;

typedef struct tsr_field {
    const char *name;
    uint8_t type;       /* tsr_type */
    uint8_t elem;       /* list element type */
    uint16_t slot;
    int line, col;      /* where the schema declares it (0 for built-ins) */
} tsr_field;

typedef struct tsr_record_schema {
    tsr_field *fields;  /* built-ins first, in slot order, then the schema's */
    size_t len;
} tsr_record_schema;

/* ---------------------------------------------------------------------
 * Tables: constant lists and maps from the rule file's `tables:`.
 */
typedef struct tsr_table {
    const char *name;
    bool is_map;
    uint8_t elem;            /* type of list elements / map values */
    uint8_t key;             /* map keys: TSR_T_STRING (YAML keys are strings) */
    bool money_ok;           /* numeric values written as decimals that fit the
                                currency: usable where money is expected */
    tsr_value *values;       /* list elements or map values, len entries */
    const char **keys;       /* map keys, sorted for binary search */
    uint32_t *key_lens;
    size_t len;
    int line, col;
    bool used;               /* set by the compiler, for lint */
} tsr_table;

/* ---------------------------------------------------------------------
 * Regular expressions (PCRE2, compiled at load).  A pool owns them; the
 * rule set frees the pool.  Matching uses the pool's match context (limits).
 */
typedef struct tsr_regex_pool tsr_regex_pool;
typedef struct tsr_regex tsr_regex;

int tsr__regex_pool_new(tsr_regex_pool **out, const tsr_alloc *alloc, uint32_t match_limit,
                        uint32_t depth_limit, uint32_t heap_limit_kib);
void tsr__regex_pool_free(tsr_regex_pool *pool);
/* Compile `pattern` (UTF-8).  `caseless`: case-insensitive; `full`: must
 * match the whole subject.  On a bad pattern: TSR_EPARSE with the PCRE2
 * message and the offset of the error in *erroffset. */
int tsr__regex_compile(tsr_regex_pool *pool, tsr_regex **out, const char *pattern, size_t len,
                       bool caseless, bool full, size_t *erroffset, char *msg, size_t msgsize);

/* Per-evaluation scratch for matching (one per thread). */
typedef struct tsr_regex_scratch tsr_regex_scratch;
void tsr__regex_scratch_free(tsr_regex_scratch *s, const tsr_alloc *alloc);
/* 1 match, 0 no match, TSR_EEVAL when a limit was hit (fails closed: the
 * caller treats it as an error, reported), TSR_ENOMEM. */
int tsr__regex_match(const tsr_regex *re, const char *subject, size_t len,
                     tsr_regex_scratch **scratch, const tsr_alloc *alloc);
/* The pattern as compiled (for messages). */
const char *tsr__regex_source(const tsr_regex *re, size_t *len);
/* The literal prefix of a full, case-insensitive pattern, upper-cased
 * ASCII (at most cap bytes, not NUL-terminated): a subject PCRE2 matches
 * starts with it, each letter in either case, and K or S also as U+212A or
 * U+017F, the two non-ASCII characters that fold to them.  Under the
 * pool's limits, a subject that does not start with it gets no match and
 * no limit error either, so a caller may skip the pattern for it.  0: no
 * prefix (none, the scan is unsure, another kind of pattern, or limits too
 * small to tell). */
#define TSR_REGEX_PREFIX_MAX 32
size_t tsr__regex_prefix(const tsr_regex *re, char *out, size_t cap);
/* The reading of pattern text alone that tsr__regex_prefix starts from. */
size_t tsr__regex_text_prefix(const char *pattern, size_t len, char *out, size_t cap);
/* After tsr__regex_match returned TSR_EEVAL: which limit was hit ("match
 * limit", "depth limit", "heap limit") or PCRE2's message for other errors. */
const char *tsr__regex_last_error(const tsr_regex_scratch *s);
/* Whether the last TSR_EEVAL of tsr__regex_match was a limit (else another
 * matching error, e.g. invalid UTF-8 in the subject). */
bool tsr__regex_hit_limit(const tsr_regex_scratch *s);

/* ---------------------------------------------------------------------
 * Compilation environment: what names an expression may use.
 */
enum {
    TSR_ENV_ITEM     = 1u << 0,  /* `item.*` is in scope */
    TSR_ENV_SEGMENTS = 1u << 1,  /* `segment.NAME` */
    TSR_ENV_TIER     = 1u << 2,  /* `tier` */
    TSR_ENV_PROMO    = 1u << 3,  /* `promo.ID` */
    TSR_ENV_ITEMS    = 1u << 4,  /* `items` and count/sum/any/all */
    TSR_ENV_LINE_TOTALS = 1u << 5  /* item.subtotal / item.total (every step after the
                                      categories: promo codes and later) */
};

typedef struct tsr_expr_env {
    const char *file;                                   /* for errors */
    const tsr_record_schema *records[TSR_REC__COUNT];
    const char *const *segments;   /* names visible here (may be a prefix of all) */
    size_t nsegments;
    bool *segment_used;            /* optional: set when a segment is referenced */
    tsr_table *tables;
    size_t ntables;
    const char *const *promos;     /* promo code ids */
    size_t npromos;
    bool *promo_used;              /* optional */
    unsigned flags;                /* TSR_ENV_* */
    unsigned minor_units;          /* the currency's */
    tsr_rounding rounding;
    tsr_regex_pool *regexes;
    size_t max_length;             /* bytes per expression (0: no limit) */
    /* Why `item` is not in scope here, for the error message (e.g. "segments
     * are computed per order"); NULL: a generic reason. */
    const char *item_note;
    /* The ids `item.category` and `tier` can hold, sorted bytewise (strcmp):
     * a string literal compared with either (==, !=, `in` a list) must be
     * one of them, since such a comparison could never hold.  NULL: not
     * checked (the ids are not all known). */
    const char *const *category_ids;
    size_t ncategory_ids;
    const char *const *tier_ids;
    size_t ntier_ids;
    /* The rule set's count of aggregate cache slots (see tsr_expr.agg_base):
     * each compiled count/sum/any/all takes the next one.  NULL: the
     * expression's aggregates are never cached. */
    uint32_t *agg_slots;
} tsr_expr_env;

/* A compiled expression.  Immutable; lives in the rule set's arena. */
typedef struct tsr_expr tsr_expr;

/* A place a condition can fail at, as tsr__expr_test names it: the source
 * range src[off .. off+len) and its trace sentence "`text` was false" (text
 * cut at TSR_QUOTE_MAX bytes on a character boundary), formatted once at
 * load so that a traced evaluation does not format it again for every rule
 * that fails. */
typedef struct tsr_why_site {
    uint32_t off, len;
    const char *text;        /* NUL-terminated, in the rule set's arena */
} tsr_why_site;

/* One conjunct of a condition answered inline (tsr_expr.fast, see
 * tsr__expr_fast_test): what fk_holds in expr_eval.c reads for the fused
 * `FIELD <rel> CONSTANT`, or a segment / promo flag. */
enum {
    TSR_FAST_NUM = 1,   /* FIELD <rel> k, compared through u.i (a bool field alone: != 0) */
    TSR_FAST_STR_EQ,    /* string FIELD == k (k without case-mapping flags) */
    TSR_FAST_STR_NE,    /* string FIELD != k */
    TSR_FAST_SEGMENT,   /* segment number `slot` holds */
    TSR_FAST_PROMO,     /* promo code number `slot` is accepted */
    /* Answered out of line (tsr__expr_fast_call, expr_eval.c): */
    TSR_FAST_IN,        /* constant k `in` list FIELD (rel: the comparison class) */
    TSR_FAST_WEEKDAY,   /* weekday(FIELD) <rel> k: a date field, or a datetime's local date */
    TSR_FAST_HOUR,      /* hour(FIELD) <rel> k: a datetime field */
    TSR_FAST_MINUTE,    /* minute(FIELD) <rel> k: a datetime field */
    TSR_FAST_DATE,      /* date(FIELD) <rel> k: a datetime field's local date */
    TSR_FAST_BDAY       /* birthday_within(FIELD, FIELD2, k): each a date field or a
                           datetime's local date; k >= 0 */
};
#define TSR_FAST_MAX 8

typedef struct tsr_fast_cmp {
    uint8_t kind;            /* TSR_FAST_* */
    uint8_t record;          /* tsr_record_kind (fields) */
    uint8_t type;            /* the field's declared type */
    uint8_t rel;             /* tsr_rel (TSR_FAST_NUM) */
    uint16_t slot;           /* field slot, segment or promo index */
    uint8_t record2, type2;  /* TSR_FAST_BDAY: the second argument's field */
    uint16_t slot2;
    uint32_t off, len;       /* its source range in e->src: the trace text of a false
                                answer, as tsr__expr_test names it */
    tsr_value k;             /* the constant */
} tsr_fast_cmp;

struct tsr_expr {
    uint8_t type;            /* static result type (tsr_type) */
    uint8_t elem;            /* for lists */
    bool is_const;           /* folded to a constant */
    tsr_value constant;      /* when is_const */
    const char *src;         /* the source text, NUL-terminated (for traces) */
    size_t src_len;
    const void *code;        /* the compiled program (private to expr*.c) */
    size_t code_len;
    /* 0, or 1 + this condition's slot in the per-line memo of an
     * evaluation (see tsr__expr_memo_same and memo_assign in ruleset.c):
     * set at load, then read-only. */
    uint32_t memo;
    /* Bool expressions: the sites tsr__expr_test can name (the whole text,
     * the root, each operand of a top-level `and`); see tsr__expr_why_false. */
    const tsr_why_site *whys;
    uint32_t nwhys;
    /* A pre-decoded copy of a condition that is one comparison of a field
     * with a constant (OP_CMP_FK), a bool field, a segment or promo flag,
     * or an `and` chain of up to TSR_FAST_MAX of these (a band such as
     * `item.height_cm >= 100 and item.height_cm < 130`): set at load by
     * tsr__expr_compile, then read-only.  Most `for`/`when` conditions are
     * these shapes, and answering them inline (tsr__expr_fast_test) costs
     * a few instructions per comparison where the call into expr_eval.c
     * through tsr__expr_test costs ~100.  nfast 0: none. */
    uint8_t nfast;
    const tsr_fast_cmp *fast;    /* nfast entries, in the chain's order */
    /* The same for a value `K1 if CONDITION else K2` whose branches are
     * constants and whose condition has such a form (`50.00 if weekday(now)
     * >= 6 else 40.00`): tsr__expr_eval answers it without the walker.
     * ncond_fast 0: none. */
    uint8_t ncond_fast;
    const tsr_fast_cmp *cond_fast;
    tsr_value cond_k[2];         /* the value when the condition holds, when not */
    /* The work budget (see tsr_expr_ctx.steps_left): steps one evaluation
     * of the expression is charged, its operations outside the bodies of
     * count/sum/any/all (a body is charged per line it visits). */
    uint32_t cost;
    /* Its aggregates use the cache slots agg_base .. agg_base + naggs - 1
     * of an evaluation's tsr_expr_ctx.aggs (naggs 0: none, or not cached). */
    uint32_t agg_base, naggs;
    /* Where the expression is, for messages about its evaluation: the file,
     * line and column of its first byte, and the rule that holds it
     * ("discounts" + "family" + "for"; section NULL when unknown, id NULL
     * for a singleton section such as `refunds`).  Set at load. */
    const char *file;
    int line, col;
    const char *section, *rule_id, *key;
    /* src sits on `line` byte for byte (no escapes, no folding), so byte
     * `off` of src is at column col + off: an evaluation error points at
     * the sub-expression that failed; otherwise at the start. */
    bool pos_exact;
};

/* Decisions the SPEC leaves open (implemented in expr_check.c / expr_eval.c):
 *   - int / int is a decimal (7 / 2 == 3.5), rounded to 6 digits with the
 *     rule set's rounding; decimal * decimal likewise; `%` is for ints only
 *     and takes the sign of the dividend.
 *   - money * decimal, money / int and money / decimal are money, rounded to
 *     the minor unit with the rule set's rounding; money / money is a decimal.
 *   - A numeric constant (literal or folded) next to money, or where money is
 *     wanted, becomes money at compile time, exactly (`1800.005` with 2 minor
 *     digits is a load error); so do decimal/int tables (a converted copy).
 *     Non-constant decimals never convert implicitly.
 *   - date - date is a duration of whole days; durations scale by numbers and
 *     divide into decimals; date +/- a duration that is not whole days is an
 *     evaluation error (a load error when the duration is constant).
 *   - sum(items, x) skips lines where x is missing and is 0 over no lines.
 *   - Functions of a missing argument are missing (so `matches(missing, p)`
 *     is missing, i.e. false in a boolean context); has() is never missing.
 *   - lower/upper map ASCII letters only; len(string) counts code points.
 *   - String escapes: \" \' \\ \n \t \r; any other backslash is kept as
 *     written, so regexes read naturally ("^\d+$").
 *   - `a not in b` is accepted as `not (a in b)`; comparisons do not chain.
 *   - segment["id-with-dashes"], promo["…"], tables["…"] reach ids that are
 *     not identifiers.
 *   - A constant key missing from a map table is a load error (a typo).
 *
 * Compile src[0..len) expecting a value of type `want` (TSR_T_MISSING: any).
 * `want` == TSR_T_MONEY accepts money expressions and numeric literals /
 * decimal tables that are exact in the currency (converted at compile time);
 * TSR_T_BOOL requires a bool.  `node` is the YAML scalar the text came from
 * (for exact error positions; NULL: positions are line 1, column offset+1).
 * Errors: TSR_EPARSE (syntax), TSR_ENAME (unknown name, with did-you-mean),
 * TSR_ETYPE, TSR_EVALUE (literal overflow, money precision), TSR_ELIMIT. */
int tsr__expr_compile(tsr_expr **out, const char *src, size_t len, tsr_type want,
                      const tsr_ynode *node, const tsr_expr_env *env, tsr_arena *arena,
                      tsr_error *err);

/* ---------------------------------------------------------------------
 * Introspection of compiled conditions (for lint).
 */
typedef enum tsr_rel { TSR_REL_EQ = 0, TSR_REL_NE, TSR_REL_LT, TSR_REL_LE, TSR_REL_GT,
                       TSR_REL_GE, TSR_REL_IN } tsr_rel;

/* What one conjunct of a condition is (tsr_expr_cmp.kind). */
enum {
    TSR_CMP_OTHER = 0,        /* anything but a comparison of a value with a constant */
    TSR_CMP_FIELD,            /* FIELD <rel> CONSTANT */
    TSR_CMP_EXPR              /* SUBJECT <rel> CONSTANT, the subject an expression:
                                 `age(item.birthday, date(item.event_start)) < 16` */
};

/* One conjunct of a condition, read from the compiled program, so that
 * every spelling the compiler takes to one form reads alike: the subject
 * always on the left (`100 <= item.h` is `item.h >= 100`), `not` folded
 * into the relation (`not (item.h < 110)` is `item.h >= 110`: the same
 * lines among those that carry the field; a line without it satisfies the
 * `not` form only, since a comparison with a missing value is false — the
 * readers, lint's bands and the plan's kind index on the always-present
 * `item.kind`, reason about lines that carry the field), constant
 * arithmetic folded (`100 + 10` is 110), parentheses gone, and an int
 * subject compared with a decimal (`item.h < 99.5`) read as the int. */
typedef struct tsr_expr_cmp {
    uint8_t kind;             /* TSR_CMP_* */
    uint8_t rel;              /* tsr_rel; TSR_REL_IN: `constant` is a list */
    uint8_t record;           /* TSR_CMP_FIELD: tsr_record_kind */
    uint8_t type;             /* the subject's static type (a field's declared type) */
    uint16_t slot;            /* TSR_CMP_FIELD: the field's slot */
    uint32_t subject;         /* TSR_CMP_EXPR: private to the expression module */
    tsr_value constant;       /* int, decimal, money, string, ...; a list for IN */
    const char *src;          /* the conjunct's source text (in e->src) */
    size_t src_len;
    const char *subject_src;  /* TSR_CMP_EXPR: the subject's source text (in e->src);
                                 a field is named from the schema */
    size_t subject_len;
} tsr_expr_cmp;

/* The conjuncts of condition e: its top-level `and` operands (through
 * `not`: `not (a or b)` is `not a and not b`), each described in
 * out[0 .. min(n, max)) in source order; returns n, their number (0 for a
 * NULL or constant e).  A conjunct that is no comparison with a constant
 * is TSR_CMP_OTHER. */
size_t tsr__expr_conjuncts(const tsr_expr *e, tsr_expr_cmp *out, size_t max);

/* Whether conjuncts a (of expression ea) and b (of eb) compare the same
 * subject: the same field, or structurally the same expression. */
bool tsr__expr_same_subject(const tsr_expr *ea, const tsr_expr_cmp *a, const tsr_expr *eb,
                            const tsr_expr_cmp *b);

/* A hash of a conjunct's subject: equal for subjects tsr__expr_same_subject
 * finds the same. */
uint64_t tsr__expr_subject_hash(const tsr_expr *e, const tsr_expr_cmp *c);

/* Whether e reads field `slot` of record `record` anywhere. */
bool tsr__expr_reads_field(const tsr_expr *e, tsr_record_kind record, uint16_t slot);

/* ---------------------------------------------------------------------
 * Evaluation.
 */
typedef struct tsr_agg_memo tsr_agg_memo;

typedef struct tsr_expr_ctx {
    const tsr_alloc *alloc;
    const tsr_value *order;          /* order record */
    const tsr_value *customer;       /* customer record (all missing if none) */
    const tsr_value *item;           /* the current line's record, or NULL */
    const tsr_value *lines;          /* all line records, `line_stride` values each */
    size_t line_stride;
    size_t nlines;
    const uint8_t *segments;         /* 0/1 per segment, in declaration order */
    tsr_value tier;                  /* string or missing */
    const uint8_t *promo_accepted;   /* 0/1 per promo code */
    const tsr_tz *tz;                /* the rule set's zone, or NULL */
    unsigned minor_units;
    tsr_rounding rounding;
    tsr_regex_scratch *regex_scratch;
    tsr_error *err;                  /* filled on TSR_EEVAL */
    /* The per-line memo of conditions with e->memo (NULL: none).  memo_row
     * is the row of the line whose record is memo_item; it is used only
     * while item == memo_item, so a caller that sets `item` itself never
     * reads another line's row. */
    uint8_t *memo_row;               /* per memo slot: 0 unknown, 1 false, 2 true */
    const tsr_value *memo_item;
    /* The work budget: steps left before the evaluation stops with
     * TSR_ELIMIT, out of max_steps (tsr_load_options.max_eval_steps).  An
     * evaluation of an expression is charged its cost, an aggregate its
     * body's cost per line it visits, a condition answered inline
     * (tsr__expr_fast_test) its cost too; cached answers are free.  max_steps
     * 0 (a zeroed context): no budget. */
    int64_t steps_left;
    int64_t max_steps;
    /* The aggregate cache: the value of each count/sum/any/all of the rule
     * set (slots tsr_expr.agg_base ...), computed at most once for as long
     * as what it reads stays the same (NULL: no cache).  An aggregate reads
     * no line of the rule that evaluates it (`item` inside it is its own
     * line), so its value depends only on the order, the line records and
     * the flags; whoever changes a computed field of a line record
     * (category, price, subtotal, total) bumps lines_gen, whoever changes
     * segments, the tier or promo flags bumps flags_gen. */
    tsr_agg_memo *aggs;
    uint32_t naggs;
    uint64_t lines_gen, flags_gen;
    /* The local date and offset of the last datetime date(), hour() or
     * minute() read (most often `now`, asked by several rules of one
     * evaluation), so a zone's offset is looked up once per instant: valid
     * while local_set and the instant, its own offset and the zone are the
     * same.  A zeroed context starts empty. */
    bool local_set;
    int32_t local_own, local_off;
    int64_t local_usec, local_days;
    const tsr_tz *local_tz;
} tsr_expr_ctx;

/* One slot of the aggregate cache: the value (missing: never computed) and
 * the generations it was computed at. */
struct tsr_agg_memo {
    tsr_value v;
    uint64_t lines_gen, flags_gen;
};

/* Give ctx a budget of max steps (0: none). */
static inline void tsr__expr_ctx_budget(tsr_expr_ctx *ctx, uint64_t max)
{
    ctx->max_steps = max > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)max;
    ctx->steps_left = ctx->max_steps;
}

/* The steps ctx's evaluations have taken so far (0 without a budget). */
static inline uint64_t tsr__expr_ctx_steps(const tsr_expr_ctx *ctx)
{
    return ctx->max_steps ? (uint64_t)(ctx->max_steps - ctx->steps_left) : 0;
}

/* Evaluate.  Missing values propagate as SPEC §1 says.  Returns TSR_OK,
 * TSR_EEVAL (overflow, regex limit; err says which and where) or TSR_ENOMEM. */
int tsr__expr_eval(const tsr_expr *e, tsr_expr_ctx *ctx, tsr_value *out);

/* Evaluate a condition: *holds is its truthiness.  When it does not hold and
 * `why` is not NULL, *why / *why_len point at the source text of the first
 * failing operand of a top-level `and` chain (or the whole expression). */
int tsr__expr_test(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds, const char **why,
                   size_t *why_len);

/* The sentence "`w` was false" (w cut at TSR_QUOTE_MAX bytes) for a range w/wl that
 * tsr__expr_test gave for e, as formatted at load; NULL when w is not one of
 * e's sites (the caller formats the sentence itself). */
const char *tsr__expr_why_false(const tsr_expr *e, const char *w, size_t wl);

/* The sentence tsr__expr_test gives (through tsr__expr_why_false) when the
 * line's memo holds a memoised e false: its lone comparison's, as formatted
 * at load; NULL when e has no memo slot or no such sentence. */
const char *tsr__expr_memo_why(const tsr_expr *e);

/* Can a and b share a memo slot: is each a single comparison of an item
 * field that evaluation never changes (id, kind, sku, quantity, schema
 * fields) with a constant, and are the two the same comparison?  Such a
 * condition gives the same answer for a line all through an evaluation,
 * so rules that repeat it (`for: item.kind == "ticket"`) can share it. */
bool tsr__expr_memo_same(const tsr_expr *a, const tsr_expr *b);

/* The memo's answer for e on the current line, without a call: 0 not
 * known (ask tsr__expr_test), 1 false, 2 true.  Conditions like
 * `item.kind == "ticket"` are asked by several rules per line, and the call
 * and wrappers around tsr__expr_test cost more than the answer.  A caller
 * that wants the trace text of a false answer still asks tsr__expr_test. */
static inline unsigned tsr__expr_memo_get(const tsr_expr *e, const tsr_expr_ctx *ctx)
{
    return e->memo && ctx->memo_row && ctx->item == ctx->memo_item
               ? ctx->memo_row[e->memo - 1] : 0u;
}

/* The current line's memo cell of e (what tsr__expr_memo_get reads), or
 * NULL when e has none there: for a caller that reads it and then answers
 * e inline (tsr__expr_fast_test_cell), so that the cell is found once. */
static inline uint8_t *tsr__expr_memo_cell(const tsr_expr *e, const tsr_expr_ctx *ctx)
{
    return e->memo && ctx->memo_row && ctx->item == ctx->memo_item
               ? &ctx->memo_row[e->memo - 1] : NULL;
}

/* One conjunct of a kind from TSR_FAST_IN on (a list, a calendar function
 * of `now` or of a date field): 1 and *holds as the walker answers it, 0
 * when a field holds another type than declared (the walker reports it).
 * Charges nothing. */
int tsr__expr_fast_call(const tsr_fast_cmp *f, tsr_expr_ctx *ctx, bool *holds);

/* The pieces of tsr__expr_fast_call that callers answering a conjunct
 * themselves share with it (the segments step answers park10's list and
 * birthday segments without the call). */

/* Convert datetime *a to local time into ctx's memo (local_*), out of
 * line (expr_eval.c): an evaluation asks it about one instant, `now`,
 * which setup converts. */
void tsr__expr_local_fill(tsr_expr_ctx *ctx, const tsr_value *a);

/* The local offset of datetime *a, with its local date in ctx->local_days:
 * looked up in the zone only when *a is not the instant asked last. */
static inline int32_t tsr__expr_local_time(tsr_expr_ctx *ctx, const tsr_value *a)
{
    if (!ctx->local_set || ctx->local_usec != a->u.i || ctx->local_own != a->offset ||
        ctx->local_tz != ctx->tz)
        tsr__expr_local_fill(ctx, a);
    return ctx->local_off;
}

/* The field (record rk, slot, declared type) of a fused conjunct: 1 and
 * *v when present, 0 when missing, -1 when it holds another type (the
 * walker reports it). */
static inline int tsr__fast_field(const tsr_expr_ctx *ctx, unsigned rk, uint32_t slot,
                                  uint8_t type, const tsr_value **v)
{
    const tsr_value *rec = rk == TSR_REC_ITEM ? ctx->item
                           : rk == TSR_REC_ORDER ? ctx->order : ctx->customer;
    const tsr_value *x;

    if (!rec)
        return 0;
    x = &rec[slot];
    if (TSR_LIKELY(x->type == type)) {
        *v = x;
        return 1;
    }
    return x->type == TSR_T_MISSING ? 0 : -1;
}

/* A date argument read from a field: a date as is, a datetime at its local
 * date (OP_DT_DATE).  As tsr__fast_field. */
static inline int tsr__fast_date(tsr_expr_ctx *ctx, unsigned rk, uint32_t slot, uint8_t type,
                                 int64_t *days)
{
    const tsr_value *v;
    int r = tsr__fast_field(ctx, rk, slot, type, &v);

    if (r <= 0)
        return r;
    if (type == TSR_T_DATE) {
        *days = v->u.i;
    } else {
        tsr__expr_local_time(ctx, v);
        *days = ctx->local_days;
    }
    return 1;
}

/* Compare two strings honouring case-mapping flags: <0, 0, >0 (expr_eval.c). */
int tsr__value_strcmp(const tsr_value *a, const tsr_value *b);

/* Are strings a and b equal (case-mapping flags honoured)? */
static inline bool tsr__str_eq(const tsr_value *a, const tsr_value *b)
{
    if (a->len != b->len)
        return false;
    if (!a->flags && !b->flags)
        return tsr__same_bytes(a->u.s, b->u.s, a->len);
    return tsr__value_strcmp(a, b) == 0;
}

/* Does list[0 .. n) hold x, compared as strings (str true) or numbers?
 * Missing elements hold nothing. */
static inline bool tsr__list_has(const tsr_value *list, size_t n, const tsr_value *x, bool str)
{
    for (size_t i = 0; i < n; i++) {
        const tsr_value *e = &list[i];
        if (e->type == TSR_T_MISSING)
            continue;
        if (str ? tsr__str_eq(x, e) : x->u.i == e->u.i)
            return true;
    }
    return false;
}

/* A TSR_FAST_IN or TSR_FAST_BDAY conjunct, as tsr__expr_fast_call answers
 * it (inline where the caller wants it so): 1 and *holds, 0 when a field
 * holds another type than declared (the walker reports it). */
static inline int tsr__fast_in(const tsr_fast_cmp *f, tsr_expr_ctx *ctx, bool *holds)
{
    const tsr_value *v;
    int r;

    /* OP_IN_DYN: the constant needle, then the list */
    if ((r = tsr__fast_field(ctx, f->record, f->slot, f->type, &v)) < 0)
        return 0;
    *holds = r && tsr__list_has(v->u.list, v->len, &f->k, f->rel != 0);
    return 1;
}

static inline int tsr__fast_bday(const tsr_fast_cmp *f, tsr_expr_ctx *ctx, bool *holds)
{
    int64_t x, y;
    int r;

    /* OP_BDAY_WITHIN: a missing argument makes it missing (false), and
     * the second is not read when the first is missing */
    if ((r = tsr__fast_date(ctx, f->record, f->slot, f->type, &x)) <= 0 ||
        (r = tsr__fast_date(ctx, f->record2, f->slot2, f->type2, &y)) <= 0) {
        *holds = false;
        return r == 0;
    }
    /* on the day itself (k 0, the usual question): inline */
    *holds = f->k.u.i == 0 ? tsr__birthday_today(x, y) : tsr__birthday_within(x, y, f->k.u.i);
    return 1;
}

/* A TSR_FAST_STR_EQ / TSR_FAST_STR_NE conjunct f on the value v of its
 * field: 1 and *holds, or 0 when the walker must answer (a value of another
 * type than declared, or with case-mapping flags).  A missing value makes
 * the comparison false. */
static inline int tsr__fast_str(const tsr_fast_cmp *f, const tsr_value *v, bool *holds)
{
    bool eq;

    if (v->type != f->type || v->flags) {
        *holds = false;
        return v->type == TSR_T_MISSING;
    }
    eq = v->len == f->k.len && tsr__same_bytes(v->u.s, f->k.u.s, v->len);
    *holds = f->kind == TSR_FAST_STR_EQ ? eq : !eq;
    return 1;
}

/* Whether a three-way comparison c (<0, 0, >0) satisfies tsr_rel rel. */
static inline bool tsr__rel_holds(int c, uint8_t rel)
{
    switch (rel) {
    case TSR_REL_EQ: return c == 0;
    case TSR_REL_NE: return c != 0;
    case TSR_REL_LT: return c < 0;
    case TSR_REL_LE: return c <= 0;
    case TSR_REL_GT: return c > 0;
    default: return c >= 0;
    }
}

/* x <rel> y, for a TSR_FAST_NUM or calendar conjunct's tsr_rel. */
static inline bool tsr__fast_rel(int64_t x, int64_t y, uint8_t rel)
{
    return tsr__rel_holds((x > y) - (x < y), rel);
}

/* A TSR_FAST_WEEKDAY conjunct on a datetime field that holds the instant
 * whose local date ctx already keeps (tsr_expr_ctx.local_*: the
 * evaluation's setup stores `now` there): 1 and its weekday in *wd,
 * without the call (tsr__expr_fast_call would find the same memo and
 * answer the same).  0: ask tsr__expr_fast_call. */
static inline int tsr__fast_memo_weekday(const tsr_fast_cmp *f, const tsr_expr_ctx *ctx,
                                         int64_t *wd)
{
    const tsr_value *rec, *v;

    if (f->type != TSR_T_DATETIME || !ctx->local_set || ctx->local_tz != ctx->tz)
        return 0;
    rec = f->record == TSR_REC_ITEM ? ctx->item
          : f->record == TSR_REC_ORDER ? ctx->order : ctx->customer;
    if (!rec)
        return 0;
    v = &rec[f->slot];
    if (v->type != TSR_T_DATETIME || v->u.i != ctx->local_usec || v->offset != ctx->local_own)
        return 0;
    *wd = (int64_t)tsr__weekday(ctx->local_days);
    return 1;
}

/* The conjuncts fs[0 .. n) answered inline, in order, stopping at the
 * first that fails (its index in *failed): 1 and *holds, or 0 when one
 * must be left to the walker (a field of another type than declared).
 * Charges nothing. */
static inline int tsr__expr_fast_conjs(const tsr_fast_cmp *fs, uint32_t n, tsr_expr_ctx *ctx,
                                       bool *holds, uint32_t *failed)
{
    uint32_t j;
    bool h = true;

    for (j = 0; j < n && h; j++) {
        const tsr_fast_cmp *f = &fs[j];
        if (f->kind >= TSR_FAST_IN) {
            int64_t wd;
            if (f->kind == TSR_FAST_WEEKDAY && tsr__fast_memo_weekday(f, ctx, &wd))
                h = tsr__fast_rel(wd, f->k.u.i, f->rel);
            else if (!tsr__expr_fast_call(f, ctx, &h))
                return 0;
        } else if (f->kind >= TSR_FAST_SEGMENT) {
            const uint8_t *flags = f->kind == TSR_FAST_SEGMENT ? ctx->segments
                                                               : ctx->promo_accepted;
            h = flags && flags[f->slot];
        } else {
            const tsr_value *rec = f->record == TSR_REC_ITEM ? ctx->item
                                   : f->record == TSR_REC_ORDER ? ctx->order : ctx->customer;
            const tsr_value *v = rec ? &rec[f->slot] : NULL;
            if (!v || v->type != f->type) {
                if (v && v->type != TSR_T_MISSING)
                    return 0;       /* the full path reports the mismatch */
                h = false;          /* missing: the comparison is false */
            } else if (f->kind == TSR_FAST_NUM) {
                h = tsr__fast_rel(v->u.i, f->k.u.i, f->rel);
            } else if (!tsr__fast_str(f, v, &h)) {
                return 0;
            }
        }
        if (!h)
            *failed = j;
    }
    *holds = h;
    return 1;
}

/* tsr__expr_eval's answers that need no walk: a constant, or `K1 if
 * CONDITION else K2` whose condition is answered inline (e->cond_fast),
 * charged the steps the walk would charge.  1 with *out, or 0 (nothing
 * charged): ask tsr__expr_eval. */
static inline int tsr__expr_value_fast(const tsr_expr *e, tsr_expr_ctx *ctx, tsr_value *out)
{
    bool h;
    uint32_t failed;

    if (e->is_const) {
        *out = e->constant;
        return 1;
    }
    if (e->ncond_fast == 1 && e->cond_fast->kind == TSR_FAST_WEEKDAY &&
        TSR_LIKELY(ctx->steps_left >= (int64_t)e->cost)) {
        /* `K1 if weekday(now) <rel> k else K2`, the weekday read from the
         * instant ctx keeps converted (setup stores `now` there) */
        int64_t wd;
        if (tsr__fast_memo_weekday(e->cond_fast, ctx, &wd)) {
            ctx->steps_left -= e->cost;
            *out = e->cond_k[!tsr__fast_rel(wd, e->cond_fast->k.u.i, e->cond_fast->rel)];
            return 1;
        }
    }
    if (e->ncond_fast && TSR_LIKELY(ctx->steps_left >= (int64_t)e->cost) &&
        tsr__expr_fast_conjs(e->cond_fast, e->ncond_fast, ctx, &h, &failed)) {
        ctx->steps_left -= e->cost;
        *out = e->cond_k[!h];
        return 1;
    }
    return 0;
}

/* Answer e inline when it has a pre-decoded form (e->nfast, see
 * tsr_expr.fast) and every field it reads holds a value of its declared
 * type or is missing (strings: without case-mapping flags): returns 1 and
 * sets *holds exactly as tsr__expr_test would, and, when it does not
 * hold, *failed to the conjunct that failed (e->fast[*failed] gives the
 * source range tsr__expr_test names).  It charges the budget what the full
 * path charges (e->cost) and keeps the line's memo as it does.  Returns 0,
 * having charged nothing, when it cannot answer (no fast form, a type
 * mismatch that must be reported, a budget about to run out): the caller
 * then asks tsr__expr_test. */
static inline int tsr__expr_fast_test_cell(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds,
                                           uint32_t *failed, uint8_t *cell);

static inline int tsr__expr_fast_test(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds,
                                      uint32_t *failed)
{
    return tsr__expr_fast_test_cell(e, ctx, holds, failed, tsr__expr_memo_cell(e, ctx));
}

/* tsr__expr_fast_test with e's memo cell on the current line already
 * found (tsr__expr_memo_cell; NULL: none). */
static inline int tsr__expr_fast_test_cell(const tsr_expr *e, tsr_expr_ctx *ctx, bool *holds,
                                           uint32_t *failed, uint8_t *cell)
{
    bool h;

    if (!e->nfast)
        return 0;
    /* the full path charges the cost and reports a spent budget */
    if (TSR_UNLIKELY(ctx->steps_left < (int64_t)e->cost))
        return 0;
    if (e->nfast == 1 && e->fast->kind >= TSR_FAST_IN && e->fast->kind != TSR_FAST_WEEKDAY) {
        /* one conjunct answered out of line (a list, `birthday_within`,
         * the hour, minute or date): its one call, without the loop over
         * conjuncts (a weekday goes there: of `now`, it is read inline) */
        if (!tsr__expr_fast_call(e->fast, ctx, &h))
            return 0;
        if (!h)
            *failed = 0;
    } else if (!tsr__expr_fast_conjs(e->fast, e->nfast, ctx, &h, failed)) {
        return 0;
    }
    ctx->steps_left -= e->cost;
    /* keep the line's memo as tsr__expr_test would (same answer, same
     * slot), so that later rules asking e on this line read it there */
    if (cell)
        *cell = h ? 2 : 1;
    *holds = h;
    return 1;
}

/* The slot of the first field of the line in scope (`item`, not a line
 * that count/sum/any/all iterate) that e's source range src[off .. off+len)
 * reads and that `item` does not carry, or -1: why a condition was false,
 * for an order error ("`item.height_cm` is missing"). */
int tsr__expr_missing_item_field(const tsr_expr *e, const tsr_value *item, uint32_t off,
                                 uint32_t len);

/* The first count/sum/any/all of e (in evaluation order) whose value
 * depends on a computed field of the lines read inside it (item.category,
 * item.price, item.subtotal, item.total): the aggregate cache keeps such a
 * value only until one of those fields changes.  Stores its source range
 * (in e->src) in *off / *len and returns true; false when there is none.
 * Used by lint. */
bool tsr__expr_line_state_aggregate(const tsr_expr *e, uint32_t *off, uint32_t *len);

/* Whether e reads nothing of the current line nor of any line (no item
 * field, no sum/count/any/all/len over items) and no promo flag: its value
 * is then the same for every line of one evaluation step.  Conservative: an
 * unknown case answers false.  Used at load (see tsr_category). */
bool tsr__expr_order_level(const tsr_expr *e);

#endif /* TSR_EXPR_H */
