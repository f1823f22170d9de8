/*
 * yaml_tree.h — a YAML document read with libyaml's event API into a small
 * tree of nodes that remember where they came from, with every limit of the
 * load options enforced while reading (so a hostile file is refused early).
 *
 * The tree is allocated in an arena owned by the caller; it is the input of
 * the rule-file model (rules_load.c), of rule tests (ruletest*.c,
 * refund_case.c) and of the YAML order reader.
 *
 * yaml_tree.c reads the tree; yaml_check.c holds the one kit those readers
 * check its shape with (the end of this file), so that a mapping where a
 * list belongs reads the same way, at the same line:col, in every file.
 */
#ifndef TSR_YAML_TREE_H
#define TSR_YAML_TREE_H

#include "internal.h"

typedef enum tsr_ynode_kind {
    TSR_Y_SCALAR,
    TSR_Y_SEQ,
    TSR_Y_MAP
} tsr_ynode_kind;

typedef enum tsr_yscalar_style {
    TSR_YS_PLAIN,
    TSR_YS_SINGLE,      /* 'quoted' */
    TSR_YS_DOUBLE,      /* "quoted" */
    TSR_YS_LITERAL,     /* | */
    TSR_YS_FOLDED       /* > */
} tsr_yscalar_style;

/* An explicit core-schema tag on a scalar (`!!str 42`, `!!int "7"`).  Any
 * other tag is refused by the parser.  The non-specific tag `!` counts as
 * TSR_YT_STR, as the YAML spec says.  A tagged scalar's content has been
 * checked to match its tag (`!!int abc` is refused). */
typedef enum tsr_ytag {
    TSR_YT_NONE,        /* no tag: plain scalars resolve by content */
    TSR_YT_STR,         /* a string whatever it looks like */
    TSR_YT_INT,
    TSR_YT_FLOAT,
    TSR_YT_BOOL,
    TSR_YT_NULL
} tsr_ytag;

typedef struct tsr_ynode tsr_ynode;

typedef struct tsr_ypair {
    tsr_ynode *key;     /* always a scalar: non-scalar keys are refused */
    tsr_ynode *value;
} tsr_ypair;

struct tsr_ynode {
    tsr_ynode_kind kind;
    int line, col;                 /* 1-based start of the node (its first character,
                                      the opening quote for quoted scalars).  For a
                                      scalar with an anchor or tag this is the scalar
                                      itself (where `raw` starts); for a collection it
                                      is libyaml's start, its properties included.
                                      A copy made for an alias keeps the positions of
                                      the anchored original. */
    union {
        struct {
            const char *text;      /* content, NUL-terminated, `len` bytes (a scalar
                                      holding a NUL is refused) */
            size_t len;
            tsr_yscalar_style style;
            /* The scalar as written in the source (quotes, escapes, block
             * indicators included): text[raw_offset .. raw_offset+raw_len) of
             * the parsed input.  tsr__yaml_scalar_pos re-scans it to map a
             * content byte back to its exact line and column.  Valid only as
             * long as the input text is. */
            const char *raw;
            size_t raw_len;
            tsr_ytag tag;          /* explicit tag, TSR_YT_NONE when untagged */
        } scalar;
        struct {
            tsr_ynode **items;
            size_t len;
        } seq;
        struct {
            tsr_ypair *pairs;      /* in document order; keys unique (checked) */
            size_t len;
        } map;
    } u;
};

typedef struct tsr_ylimits {
    size_t max_size;         /* bytes of input */
    unsigned max_depth;      /* nesting of sequences and mappings */
    size_t max_scalar;       /* bytes per scalar */
    size_t max_nodes;        /* nodes in the document */
    unsigned max_aliases;    /* 0: any alias is an error */
} tsr_ylimits;

/* Parse exactly one YAML document from text[0..len).  `file` names the source
 * in errors.  Refuses: more than one document, an empty document (no content,
 * or only an empty plain scalar), duplicate keys, non-scalar keys, `<<` merge
 * keys, tags other than the core schema's (!!str, !!int, !!float, !!bool,
 * !!null, !!map, !!seq), aliases beyond max_aliases (aliases are expanded by
 * copy, every copied node counted in max_nodes and its nesting in max_depth),
 * invalid UTF-8, NUL bytes (also from a "\0" escape), and every limit above.
 * `limits` NULL means the defaults of TSR_LOAD_OPTIONS_INIT.
 * On error: *out is NULL, TSR_EPARSE / TSR_ELIMIT / TSR_ENOMEM with err's
 * file/line/column set (1-based, columns in bytes).  The arena may hold
 * partial results; the caller frees it.  libyaml's own buffers come from
 * malloc (libyaml has no allocator hook) and are always released. */
int tsr__yaml_parse(tsr_ynode **out, const char *text, size_t len, const char *file,
                    const tsr_ylimits *limits, tsr_arena *arena, tsr_error *err);

/* Lookup in a mapping; NULL when absent. */
tsr_ynode *tsr__ymap_get(const tsr_ynode *map, const char *key);

/* Scalar accessors for code that checks a tree's shape: is n a scalar
 * (NULL is not), is it the scalar s (exactly, any style), and its text (""
 * for anything but a scalar). */
static inline bool tsr__yscalar(const tsr_ynode *n)
{
    return n && n->kind == TSR_Y_SCALAR;
}

static inline bool tsr__yscalar_is(const tsr_ynode *n, const char *s)
{
    return tsr__yscalar(n) && n->u.scalar.len == strlen(s) &&
           memcmp(n->u.scalar.text, s, n->u.scalar.len) == 0;
}

static inline const char *tsr__ytext(const tsr_ynode *n)
{
    return tsr__yscalar(n) ? n->u.scalar.text : "";
}

/* Source position (1-based line and column, columns counted in bytes) of
 * byte `offset` of a scalar's content, exact for every style: plain, single-
 * and double-quoted (escapes, '' and folded lines) and block scalars.
 * offset == len gives the position just after the content. */
void tsr__yaml_scalar_pos(const tsr_ynode *scalar, size_t offset, int *line, int *col);

/* Whether re-scanning the scalar's raw text reproduces its content byte for
 * byte: the check tsr__yaml_scalar_pos relies on (when it fails, positions
 * fall back to the scalar's start).  For tests. */
bool tsr__yaml_scalar_rescan_ok(const tsr_ynode *scalar);

/* The plain-scalar reading of YAML 1.2 core schema: is this scalar `null`
 * (~, null, empty plain), a bool (true/false), an integer, a number? Quoted
 * scalars are always strings.
 *
 * tsr__yaml_is_plain: true when the scalar's type comes from its content by
 * the core schema: written plain and untagged, or tagged !!int, !!float,
 * !!bool or !!null in any style.  False for quoted and block scalars, for
 * !!str and `!` tags, for collections and for NULL.
 * tsr__yaml_is_null: an absent node (NULL), a !!null scalar, or a plain
 * untagged `~`, `null`, `Null`, `NULL` or empty scalar. */
bool tsr__yaml_is_null(const tsr_ynode *n);
bool tsr__yaml_is_plain(const tsr_ynode *n);

/* ---------------------------------------------------------------------
 * Checking a tree's shape (yaml_check.c).
 */
struct tsr_keyset;

/* Where the errors of a check go: the file they name and the error. */
typedef struct tsr_ycheck {
    const char *file;
    tsr_error *err;
} tsr_ycheck;

/* Set c->err to `code` and the message at node n (NULL: line and column 0,
 * no place in the file); returns code. */
int tsr__yfail(const tsr_ycheck *c, const tsr_ynode *n, int code, const char *fmt, ...)
    TSR_PRINTF(4, 5);

/* Refuse the first key of mapping `map` that `ks` does not list, at the key:
 * "unknown key `k` in WHERE; did you mean `x`?" (TSR_ESCHEMA, keys.h). */
int tsr__ycheck_keys(const tsr_ycheck *c, const tsr_ynode *map, const char *where,
                     const struct tsr_keyset *ks);

/* TSR_ESCHEMA "WHERE must be a mapping" / "WHERE must be a list" at n,
 * unless n is one (NULL is neither). */
int tsr__yneed_map(const tsr_ycheck *c, const tsr_ynode *n, const char *where);
int tsr__yneed_seq(const tsr_ycheck *c, const tsr_ynode *n, const char *where);

/* "a list", "a mapping" or "a scalar": for "must be ..., not a list". */
const char *tsr__ykind_name(const tsr_ynode *n);

/* Values written in a scalar of any style; false when n is not one (a
 * collection, NULL and null are none), *out then untouched.
 *   tsr__yint    an integer: optional sign, digits, within int64
 *   tsr__yfixed  a decimal with `scale` fractional digits, as
 *                tsr__parse_fixed reads it (money: the minor units; points:
 *                0; a percentage: TSR_DEC_DIGITS)
 *   tsr__ydate   a date YYYY-MM-DD, as a day number */
bool tsr__yint(const tsr_ynode *n, int64_t *out);
bool tsr__yfixed(const tsr_ynode *n, unsigned scale, int64_t *out);
bool tsr__ydate(const tsr_ynode *n, int64_t *out);

#endif /* TSR_YAML_TREE_H */
