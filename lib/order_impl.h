/*
 * order_impl.h — what the files of an order share beyond order.h: the
 * built-in fields (order.c), the key tables and the reader's targets
 * (order_keys.c), the value rules a stored value passes (order.c), and the
 * path helpers.  For order.c, order_keys.c, order_read.c, the builder's
 * setters (order_build.c) and the JSON reader's fast path (order_json.c);
 * the YAML reader uses order.h.
 */
#ifndef TSR_ORDER_IMPL_H
#define TSR_ORDER_IMPL_H

#include "keys.h"
#include "order.h"

/* ---------------------------------------------------------------------
 * The built-in input fields of each record (order.c), by slot.
 */
typedef struct tsr_builtin_set {
    const tsr_field *fields;
    size_t ninput;          /* input fields, slots 0 .. ninput-1 */
    size_t nbuiltin;        /* slots the evaluator reserves (schema fields follow) */
    const char *what;       /* for messages */
} tsr_builtin_set;

extern const tsr_builtin_set tsr__order_builtins[TSR_REC__COUNT];

/* tsr__order_input_field, inline for the setters (one call per value). */
static inline const tsr_field *tsr__order_input_field_of(const tsr_ruleset *rs,
                                                         tsr_record_kind rec, size_t slot)
{
    const tsr_builtin_set *b;
    if (!rs || (unsigned)rec >= TSR_REC__COUNT)
        return NULL;
    b = &tsr__order_builtins[rec];
    if (slot < b->nbuiltin)
        return slot < b->ninput ? &b->fields[slot] : NULL;
    if (slot < rs->records[rec].len)
        return &rs->records[rec].fields[slot];
    return NULL;
}

/* ---------------------------------------------------------------------
 * What a value at the reader's position must be (order_read.c).  A key of
 * an order's object (order_keys.c) names one in its tag, with a slot.
 */
enum {
    TSR_X_ROOT,
    TSR_X_FIELD,            /* a record field (scalar, or a list) */
    TSR_X_CUSTOMER,         /* the record specials, in this order (seen indexes) */
    TSR_X_ITEMS,
    TSR_X_PROMO_USES,
    TSR_X_PROMO_TOTAL,
    TSR_X_LOTS,
    TSR_X_PROMO_CODES,      /* order.promo_codes (also a field slot) */
    TSR_X_LOT_FIELD,        /* id / points / expires_on of a points lot */
    TSR_X_PROMO_COUNT,      /* a value of promo_uses / promo_total_uses */
    TSR_X_ITEM,             /* an element of items */
    TSR_X_PROMO_CODE,       /* an element of promo_codes */
    TSR_X_LOT,              /* an element of points_lots */
    TSR_X_ELEM              /* an element of a list field */
};
/* The specials a record's seen[] holds after its fields. */
#define TSR_ORDER_NSPECIAL (TSR_X_LOTS - TSR_X_CUSTOMER + 1)

/* A key's tag is X_* << 8 | slot (X_FIELD, X_PROMO_CODES: record slot;
 * X_LOT_FIELD: lot field). */
#define TSR_OTAG(target, slot) .tag = (uint16_t)((unsigned)(target) << 8 | (unsigned)(slot))
#define TSR_OTAG_TARGET(k) ((uint8_t)((k)->tag >> 8))
#define TSR_OTAG_SLOT(k) ((uint8_t)((k)->tag & 0xFFu))

/* The key sets of the records, by record (order_keys.c). */
extern const tsr_keyset *const tsr__order_record_keys[TSR_REC__COUNT];

/* The entry of a key in a record's index, or NULL (order_keys.c). */
const tsr_okey_slot *tsr__okey_find(const tsr_okey_index *ix, const char *key, size_t n);

/* ---------------------------------------------------------------------
 * Values (order.c).
 */
static inline tsr_value *tsr__order_record(tsr_order *o, tsr_record_kind rec, size_t line)
{
    switch (rec) {
    case TSR_REC_ORDER: return o->order;
    case TSR_REC_CUSTOMER: return o->customer;
    default: return o->lines + line * o->stride;
    }
}

/* tsr__order_new_line once it has checked the limit and made room (nlines <
 * lines_cap): the next line, blank; its index. */
static inline size_t tsr__order_line_blank(tsr_order *o)
{
    tsr_value *line = o->lines + o->nlines * o->stride;

    memset(line, 0, o->stride * sizeof *line);
    /* SPEC §5: quantity defaults to 1.  Set at birth, so that checking an
     * order never has to fill it in (tsr__order_ready writes nothing). */
    line[TSR_ITEM_QUANTITY].type = TSR_T_INT;
    line[TSR_ITEM_QUANTITY].u.i = 1;
    o->finished = false;
    return o->nlines++;
}

/* A line's object ends: a quantity given as null is the default again. */
static inline void tsr__order_line_end(tsr_order *o, size_t line)
{
    tsr_value *q = &o->lines[line * o->stride + TSR_ITEM_QUANTITY];

    if (q->type == TSR_T_MISSING) {   /* SPEC §5: quantity defaults to 1 */
        q->type = TSR_T_INT;
        q->u.i = 1;
    }
}

/* Up to 40 bytes of outside text s for a message, as tsr__clip shows it. */
static inline const char *tsr__order_snippet(char *buf, size_t size, const char *s, size_t n)
{
    return tsr__clip(buf, size, s, n, 40);
}
/* What a value of `type` is, in words ("an integer"). */
const char *tsr__order_type_want(uint8_t type);
/* "expected `want`, got ..." for a scalar of the wrong kind; returns
 * TSR_EORDER.  `yaml`: hint at quoting. */
int tsr__order_type_error(const char *want, tsr_otok tok, const char *s, size_t n, bool yaml,
                          tsr_error *err);
/* A JSON integer (optional '-', digits) to int64, refusing fractions,
 * exponents and anything beyond int64. */
int tsr__order_int_from_text(const char *s, size_t n, int64_t *out, tsr_error *err);
/* Check v's string (tsr__order_check_string) and copy it into the arena. */
int tsr__order_own_string(tsr_order *o, tsr_value *v, tsr_error *err);
/* An order may name only a category declared `selectable: true`. */
int tsr__order_check_category(const tsr_order *o, const char *s, size_t n, tsr_error *err);
/* The value is in its slot already: own its string, then as
 * tsr__order_settle_owned. */
int tsr__order_settle(tsr_order *o, tsr_record_kind rec, unsigned slot, tsr_value *v,
                      tsr_error *err);

/* The rules of the built-in fields beyond their types. */
static inline int tsr__order_check_builtin(const tsr_order *o, tsr_record_kind rec, unsigned slot,
                                           const tsr_value *v, tsr_error *err)
{
    if (v->type == TSR_T_MISSING)
        return TSR_OK;
    switch (rec) {
    case TSR_REC_ORDER:
        if (slot == TSR_ORDER_REDEEM_POINTS && v->u.i < 0)
            return tsr__err(err, TSR_EORDER, "redeem_points must be >= 0, got %lld",
                            (long long)v->u.i);
        break;
    case TSR_REC_CUSTOMER:
        if (slot == TSR_CUST_POINTS_BALANCE && v->u.i < 0)
            return tsr__err(err, TSR_EORDER, "points_balance must be >= 0, got %lld",
                            (long long)v->u.i);
        break;
    default:
        if (slot == TSR_ITEM_QUANTITY && v->u.i < 1)
            return tsr__err(err, TSR_EORDER, "quantity must be at least 1, got %lld",
                            (long long)v->u.i);
        if (slot == TSR_ITEM_PRICE && v->u.i < 0)
            return tsr__err(err, TSR_EORDER, "price must be >= 0");
        if (slot == TSR_ITEM_CATEGORY)
            return tsr__order_check_category(o, v->u.s, v->len, err);
        break;
    }
    return TSR_OK;
}

/* Apply the built-in rules to a value whose string (if any) the order
 * owns, and note what the slot means for the order.  Nothing changes when
 * a rule refuses the value.  Inline: the JSON reader's fast path runs it
 * for every built-in number. */
static inline int tsr__order_settle_owned(tsr_order *o, tsr_record_kind rec, unsigned slot,
                                          const tsr_value *v, tsr_error *err)
{
    int rc;

    if (slot < tsr__order_builtins[rec].nbuiltin) {
        if ((rc = tsr__order_check_builtin(o, rec, slot, v, err)) != TSR_OK)
            return rc;
        if (rec == TSR_REC_ORDER && slot == TSR_ORDER_REDEEM_POINTS) {
            o->has_redeem = v->type == TSR_T_INT;
            o->redeem_points = o->has_redeem ? v->u.i : 0;
        }
    }
    if (rec == TSR_REC_CUSTOMER)
        o->has_customer = true;
    o->finished = false;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * JSON paths (order.c): appended to buf[0..size), cut short (at a whole
 * UTF-8 character) when full.
 */
typedef struct tsr_pathbuf {
    char *buf;
    size_t size, len;
} tsr_pathbuf;

void tsr__path_put(tsr_pathbuf *p, const char *s, size_t n);
/* ".key" (no dot first), control bytes shown as '?'. */
void tsr__path_key(tsr_pathbuf *p, const char *key, size_t n);
/* "[i]" */
void tsr__path_index(tsr_pathbuf *p, size_t i);

#endif /* TSR_ORDER_IMPL_H */
