/*
 * order.c — an order in memory: its lifetime (init, clear, fini), the
 * checks every input path shares (value conversion, string checks, the
 * rules of the built-in fields, limits, required fields, unique line ids),
 * and the event reader that the JSON and YAML readers drive, so that both
 * read orders by the same rules and fail at the same JSON paths.
 *
 * The reader is schema-driven: every key is resolved against the built-in
 * fields of SPEC §5 and the rule set's schema when it arrives, and every
 * value is checked against its field's type before it is stored.  A
 * container the order's shape does not allow is refused at its first
 * bracket, so nothing deeper is ever looked at.
 *
 * No floating point: numbers arrive as their text and are parsed exactly.
 */
#include "keys.h"
#include "order.h"

#include <stdio.h>

/* ---------------------------------------------------------------------
 * The built-in input fields of SPEC §5, by slot.  Item subtotal and total
 * are computed by the evaluator and are not input.
 */
static const tsr_field order_fields[] = {
    { "id", TSR_T_STRING, 0, TSR_ORDER_ID, 0, 0 },
    { "datetime", TSR_T_DATETIME, 0, TSR_ORDER_DATETIME, 0, 0 },
    { "channel", TSR_T_STRING, 0, TSR_ORDER_CHANNEL, 0, 0 },
    { "promo_codes", TSR_T_LIST, TSR_T_STRING, TSR_ORDER_PROMO_CODES, 0, 0 },
    { "redeem_points", TSR_T_INT, 0, TSR_ORDER_REDEEM_POINTS, 0, 0 },
};
static const tsr_field customer_fields[] = {
    { "id", TSR_T_STRING, 0, TSR_CUST_ID, 0, 0 },
    { "tags", TSR_T_LIST, TSR_T_STRING, TSR_CUST_TAGS, 0, 0 },
    { "points_balance", TSR_T_INT, 0, TSR_CUST_POINTS_BALANCE, 0, 0 },
};
static const tsr_field item_fields[] = {
    { "id", TSR_T_STRING, 0, TSR_ITEM_ID, 0, 0 },
    { "kind", TSR_T_STRING, 0, TSR_ITEM_KIND, 0, 0 },
    { "sku", TSR_T_STRING, 0, TSR_ITEM_SKU, 0, 0 },
    { "quantity", TSR_T_INT, 0, TSR_ITEM_QUANTITY, 0, 0 },
    { "price", TSR_T_MONEY, 0, TSR_ITEM_PRICE, 0, 0 },
    { "category", TSR_T_STRING, 0, TSR_ITEM_CATEGORY, 0, 0 },
};
/* A points lot is not a record; its fields only lend their types. */
static const tsr_field lot_fields[] = {
    { "id", TSR_T_STRING, 0, 0, 0, 0 },
    { "points", TSR_T_INT, 0, 1, 0, 0 },
    { "expires_on", TSR_T_DATE, 0, 2, 0, 0 },
};

typedef struct builtin_set {
    const tsr_field *fields;
    size_t ninput;          /* input fields, slots 0 .. ninput-1 */
    size_t nbuiltin;        /* slots the evaluator reserves (schema fields follow) */
    const char *what;       /* for messages */
} builtin_set;

static const builtin_set builtins[TSR_REC__COUNT] = {
    { order_fields, TSR_ARRAY_LEN(order_fields), TSR_ORDER__BUILTIN, "the order" },
    { customer_fields, TSR_ARRAY_LEN(customer_fields), TSR_CUST__BUILTIN, "the customer" },
    { item_fields, TSR_ARRAY_LEN(item_fields), TSR_ITEM__BUILTIN, "a line" },
};

/* What a value at the reader's position must be. */
enum {
    X_ROOT,
    X_FIELD,            /* a record field (scalar, or a list) */
    X_CUSTOMER,         /* the record specials, in this order (seen indexes) */
    X_ITEMS,
    X_PROMO_USES,
    X_PROMO_TOTAL,
    X_LOTS,
    X_PROMO_CODES,      /* order.promo_codes (also a field slot) */
    X_LOT_FIELD,        /* id / points / expires_on of a points lot */
    X_PROMO_COUNT,      /* a value of promo_uses / promo_total_uses */
    X_ITEM,             /* an element of items */
    X_PROMO_CODE,       /* an element of promo_codes */
    X_LOT,              /* an element of points_lots */
    X_ELEM              /* an element of a list field */
};
#define NSPECIAL (X_LOTS - X_CUSTOMER + 1)

/* The keys of each object of an order (keys.h), and what each names for
 * the reader: its tag is X_* << 8 | slot (X_FIELD, X_PROMO_CODES: record
 * slot; X_LOT_FIELD: lot field).  Null is always allowed: the key is then
 * absent. */
#define OTAG(target, slot) .tag = (uint16_t)((unsigned)(target) << 8 | (unsigned)(slot))
#define TAG_TARGET(k) ((uint8_t)((k)->tag >> 8))
#define TAG_SLOT(k) ((uint8_t)((k)->tag & 0xFFu))
#define OPT TSR_KF_NULL

static const tsr_key lot_keys[] = {
    { "id", TSR_KS_STRING, OPT, OTAG(X_LOT_FIELD, 0), .example = "L-2026-01",
      .desc = "The lot's id, listed in `points.lots_used` of the result." },
    { "points", TSR_KS_INT, OPT, OTAG(X_LOT_FIELD, 1), TSR_K_AT_LEAST(0), .example = "500",
      .desc = "The points in the lot." },
    { "expires_on", TSR_KS_DATE, OPT, OTAG(X_LOT_FIELD, 2), .example = "2027-01-01",
      .desc = "The first day its points can no longer be used; without it, they do not expire." },
};
TSR_KEYSET(tsr__keys_points_lot, "points_lot", "A lot of points with its expiry.", lot_keys);

static const tsr_key customer_keys[] = {
    { "id", TSR_KS_STRING, OPT, OTAG(X_FIELD, TSR_CUST_ID), .example = "C-77",
      .desc = "The customer's id; by default only customers with one earn and redeem points." },
    { "tags", TSR_KS_STRING_LIST, OPT, OTAG(X_FIELD, TSR_CUST_TAGS), .example = "[\"season_pass\"]",
      .desc = "Free tags, read as `customer.tags` (`\"season_pass\" in customer.tags`)." },
    { "points_balance", TSR_KS_INT, OPT, OTAG(X_FIELD, TSR_CUST_POINTS_BALANCE), TSR_K_AT_LEAST(0),
      .example = "1200", .desc = "The points the customer holds and may redeem." },
    { "points_lots", TSR_KS_LIST, OPT, OTAG(X_LOTS, 0), .sub = &tsr__keys_points_lot,
      .desc = "The points the customer holds by lot, instead of a bare balance." },
};
TSR_KEYSET(tsr__keys_customer, "customer",
           "The customer; fields beyond these must be declared in `schema.customer`.",
           customer_keys);

static const tsr_key item_keys[] = {
    { "id", TSR_KS_STRING, TSR_KF_REQUIRED, OTAG(X_FIELD, TSR_ITEM_ID), .example = "t1",
      .desc = "The line's id, unique in the order." },
    { "kind", TSR_KS_STRING, TSR_KF_REQUIRED, OTAG(X_FIELD, TSR_ITEM_KIND), .example = "ticket",
      .desc = "What the line sells, in the venue's own words: ticket, fnb, merch, ..." },
    { "quantity", TSR_KS_INT, OPT, OTAG(X_FIELD, TSR_ITEM_QUANTITY), TSR_K_AT_LEAST(1),
      .dflt = "1", .example = "2", .desc = "The number of units on the line." },
    { "price", TSR_KS_MONEY, OPT, OTAG(X_FIELD, TSR_ITEM_PRICE), TSR_K_AT_LEAST(0),
      .example = "150.00", .desc = "The unit price, for a line that no category prices." },
    { "sku", TSR_KS_STRING, OPT, OTAG(X_FIELD, TSR_ITEM_SKU), .example = "COLA-05",
      .desc = "The product code." },
    { "category", TSR_KS_STRING, OPT, OTAG(X_FIELD, TSR_ITEM_CATEGORY), .ids = TSR_KI_CATEGORY,
      .example = "student", .desc = "A category the order names for the line itself: only one declared `selectable: true` whose conditions hold for the line." },
};
TSR_KEYSET(tsr__keys_item, "item",
           "A line of an order; fields beyond these must be declared in `schema.item`.", item_keys);

static const tsr_key order_keys[] = {
    { "id", TSR_KS_STRING, OPT, OTAG(X_FIELD, TSR_ORDER_ID), .example = "A-1001",
      .desc = "The order's id, echoed in the result." },
    { "datetime", TSR_KS_DATETIME, TSR_KF_REQUIRED, OTAG(X_FIELD, TSR_ORDER_DATETIME),
      .example = "2026-06-13T14:30:00+03:00",
      .desc = "When the order is placed: `now` in the rules." },
    { "channel", TSR_KS_STRING, OPT, OTAG(X_FIELD, TSR_ORDER_CHANNEL), .example = "web",
      .desc = "The sales channel, for `channels:` and `order.channel`." },
    { "customer", TSR_KS_MAP, OPT, OTAG(X_CUSTOMER, 0), .sub = &tsr__keys_customer,
      .desc = "Who orders." },
    { "items", TSR_KS_LIST, TSR_KF_REQUIRED | TSR_KF_NONEMPTY, OTAG(X_ITEMS, 0),
      .sub = &tsr__keys_item, .desc = "The order's lines." },
    { "promo_codes", TSR_KS_STRING_LIST, OPT, OTAG(X_PROMO_CODES, TSR_ORDER_PROMO_CODES),
      .example = "[\"DOC-123456\"]", .desc = "The promo codes entered, in the order entered." },
    { "promo_uses", TSR_KS_COUNTS, OPT, OTAG(X_PROMO_USES, 0), .example = "{\"doctors\": 0}",
      .desc = "By promo code id: how often this customer used it before (`max_uses_per_customer`)." },
    { "promo_total_uses", TSR_KS_COUNTS, OPT, OTAG(X_PROMO_TOTAL, 0),
      .example = "{\"doctors\": 17}",
      .desc = "By promo code id: how often it was used in all before (`max_uses`)." },
    { "redeem_points", TSR_KS_INT, OPT, OTAG(X_FIELD, TSR_ORDER_REDEEM_POINTS), TSR_K_AT_LEAST(0),
      .example = "300", .desc = "The points the customer asks to pay with." },
};
TSR_KEYSET(tsr__keys_order, "order",
           "An order, in JSON or YAML; fields beyond these must be declared in `schema.order`.",
           order_keys);
#undef OPT

static const tsr_keyset *const record_keys[TSR_REC__COUNT] = {
    &tsr__keys_order, &tsr__keys_customer, &tsr__keys_item,
};

/* Frames of the reader. */
enum { F_ORDER, F_CUSTOMER, F_ITEM, F_LOT, F_PROMO_MAP, F_ITEMS, F_PROMO_CODES, F_LOTS, F_LIST };

static bool is_map(uint8_t kind)
{
    return kind <= F_PROMO_MAP;
}

const tsr_field *tsr__order_input_field(const tsr_ruleset *rs, tsr_record_kind rec, size_t slot)
{
    const builtin_set *b;
    if (!rs || (unsigned)rec >= TSR_REC__COUNT)
        return NULL;
    b = &builtins[rec];
    if (slot < b->nbuiltin)
        return slot < b->ninput ? &b->fields[slot] : NULL;
    if (slot < rs->records[rec].len)
        return &rs->records[rec].fields[slot];
    return NULL;
}

static tsr_value *record_of(tsr_order *o, tsr_record_kind rec, size_t line)
{
    switch (rec) {
    case TSR_REC_ORDER: return o->order;
    case TSR_REC_CUSTOMER: return o->customer;
    default: return o->lines + line * o->stride;
    }
}

/* ---------------------------------------------------------------------
 * String -> index sets (unique line ids, promo ids).  Entries are always
 * indexes 0 .. count-1 of an array the caller owns; key_fn reads them.
 */
typedef void (*key_fn)(const tsr_order *o, size_t i, const char **s, size_t *n);

static void line_id_key(const tsr_order *o, size_t i, const char **s, size_t *n)
{
    const tsr_value *v = &o->lines[i * o->stride + TSR_ITEM_ID];
    *s = v->u.s;
    *n = v->len;
}

static void promo_id_key(const tsr_order *o, size_t i, const char **s, size_t *n)
{
    *s = o->promo_uses[i].id;
    *n = o->promo_uses[i].id_len;
}

static uint32_t hash_bytes(const tsr_idmap *m, const char *s, size_t n)
{
    return (uint32_t)tsr__hash(&m->key, s, n);
}

static void idmap_begin(tsr_idmap *m)
{
    m->count = 0;
    if (++m->gen == 0) {
        /* Wrapped after 2^32 orders: really empty the table once. */
        if (m->gens)
            memset(m->gens, 0, m->cap * sizeof *m->gens);
        m->gen = 1;
    }
}

static void idmap_free(tsr_idmap *m, const tsr_alloc *a)
{
    tsr__free(a, m->slots, m->cap * sizeof *m->slots);
    tsr__free(a, m->gens, m->cap * sizeof *m->gens);
    memset(m, 0, sizeof *m);
}

static void idmap_place(tsr_idmap *m, uint32_t h, size_t index)
{
    size_t mask = m->cap - 1, i = h & mask;
    while (m->gens[i] == m->gen)
        i = (i + 1) & mask;
    m->gens[i] = m->gen;
    m->slots[i] = (uint32_t)(index + 1);
}

/* Room for one more entry (load factor <= 1/2), so insert cannot fail.
 * Only `m` changes: the order is read for its allocator and keys. */
static int idmap_reserve(const tsr_order *o, tsr_idmap *m, key_fn key)
{
    size_t cap, i;
    uint32_t *slots, *gens;

    /* A new key for every order that fills the set: the table is empty
     * now (gen was bumped), so nothing placed under the old key remains. */
    if (m->count == 0)
        tsr__hash_key_init(&m->key, m, ++m->keys_drawn);
    if ((m->count + 1) * 2 <= m->cap)
        return TSR_OK;
    cap = m->cap ? m->cap * 2 : 16;
    if (cap > UINT32_MAX / 2)
        return TSR_ENOMEM;
    slots = tsr__malloc(&o->alloc, cap * sizeof *slots);
    gens = tsr__calloc(&o->alloc, cap, sizeof *gens);
    if (!slots || !gens) {
        tsr__free(&o->alloc, slots, cap * sizeof *slots);
        tsr__free(&o->alloc, gens, cap * sizeof *gens);
        return TSR_ENOMEM;
    }
    tsr__free(&o->alloc, m->slots, m->cap * sizeof *m->slots);
    tsr__free(&o->alloc, m->gens, m->cap * sizeof *m->gens);
    m->slots = slots;
    m->gens = gens;
    m->cap = cap;
    m->gen = 1;
    for (i = 0; i < m->count; i++) {
        const char *s;
        size_t n;
        key(o, i, &s, &n);
        idmap_place(m, hash_bytes(m, s, n), i);
    }
    return TSR_OK;
}

/* The index of key s, or SIZE_MAX. */
static size_t idmap_find(const tsr_order *o, const tsr_idmap *m, const char *s, size_t n,
                         key_fn key)
{
    size_t mask, i;
    if (m->cap == 0)
        return SIZE_MAX;
    mask = m->cap - 1;
    for (i = hash_bytes(m, s, n) & mask; m->gens[i] == m->gen; i = (i + 1) & mask) {
        const char *ks;
        size_t kn, idx = m->slots[i] - 1;
        key(o, idx, &ks, &kn);
        if (kn == n && memcmp(ks, s, n) == 0)
            return idx;
    }
    return SIZE_MAX;
}

/* After idmap_reserve: add entry m->count, whose key is s. */
static void idmap_insert(tsr_idmap *m, const char *s, size_t n)
{
    idmap_place(m, hash_bytes(m, s, n), m->count);
    m->count++;
}

size_t tsr__order_line_id_bucket(const tsr_order *o, const char *s, size_t n)
{
    const tsr_idmap *m = &o->line_map;
    if (m->cap == 0 || o->nlines <= 16)
        return SIZE_MAX;
    return hash_bytes(m, s, n) & (m->cap - 1);
}

/* ---------------------------------------------------------------------
 * Lifetime.
 */
int tsr__order_init(tsr_order *o, const tsr_ruleset *rs)
{
    int k;

    memset(o, 0, sizeof *o);
    o->rs = rs;
    o->alloc = rs->alloc;
    /* A park-sized order (a few hundred bytes of strings) fits the first
     * chunk; reset keeps the largest chunk, so bigger orders settle too. */
    tsr__arena_init(&o->arena, &o->alloc, 2048);
    tsr__arena_init(&o->scratch, &o->alloc, 4096);
    o->stride = rs->records[TSR_REC_ITEM].len;
    o->order = tsr__calloc(&o->alloc, rs->records[TSR_REC_ORDER].len + 1, sizeof(tsr_value));
    o->customer = tsr__calloc(&o->alloc, rs->records[TSR_REC_CUSTOMER].len + 1, sizeof(tsr_value));
    if (!o->order || !o->customer)
        return TSR_ENOMEM;
    for (k = 0; k < TSR_REC__COUNT; k++) {
        o->seen_len[k] = rs->records[k].len + NSPECIAL;
        o->seen[k] = tsr__calloc(&o->alloc, o->seen_len[k], 1);
        if (!o->seen[k])
            return TSR_ENOMEM;
    }
    return TSR_OK;
}

void tsr__order_clear(tsr_order *o)
{
    tsr__arena_reset(&o->arena);
    tsr__arena_reset(&o->scratch);
    memset(o->order, 0, o->rs->records[TSR_REC_ORDER].len * sizeof(tsr_value));
    memset(o->customer, 0, o->rs->records[TSR_REC_CUSTOMER].len * sizeof(tsr_value));
    o->has_customer = false;
    o->nlines = 0;
    o->npromo_codes = 0;
    o->npromo_uses = 0;
    o->has_redeem = false;
    o->redeem_points = 0;
    o->nlots = 0;
    o->has_lots = false;
    o->has_items = false;
    o->finished = false;
    idmap_begin(&o->promo_map);
}

void tsr__order_fini(tsr_order *o)
{
    const tsr_ruleset *rs = o->rs;
    int k;

    if (!rs)
        return;
    tsr__arena_free(&o->arena);
    tsr__arena_free(&o->scratch);
    tsr__free(&o->alloc, o->order, (rs->records[TSR_REC_ORDER].len + 1) * sizeof(tsr_value));
    tsr__free(&o->alloc, o->customer, (rs->records[TSR_REC_CUSTOMER].len + 1) * sizeof(tsr_value));
    tsr__free(&o->alloc, o->lines, o->lines_cap * o->stride * sizeof(tsr_value));
    tsr__free(&o->alloc, o->promo_codes, o->promo_codes_cap * sizeof *o->promo_codes);
    tsr__free(&o->alloc, o->promo_values, o->promo_values_cap * sizeof *o->promo_values);
    tsr__free(&o->alloc, o->promo_uses, o->promo_uses_cap * sizeof *o->promo_uses);
    tsr__free(&o->alloc, o->lots, o->lots_cap * sizeof *o->lots);
    for (k = 0; k < TSR_REC__COUNT; k++)
        tsr__free(&o->alloc, o->seen[k], o->seen_len[k]);
    idmap_free(&o->promo_map, &o->alloc);
    idmap_free(&o->line_map, &o->alloc);
    o->rs = NULL;
}

/* ---------------------------------------------------------------------
 * Messages.
 */

/* Up to 40 bytes of s for a message, as tsr__clip shows outside text. */
static const char *snippet(char *buf, size_t size, const char *s, size_t n)
{
    return tsr__clip(buf, size, s, n, 40);
}

static const char *type_want(uint8_t type)
{
    switch (type) {
    case TSR_T_BOOL: return "true or false";
    case TSR_T_INT: return "an integer";
    case TSR_T_DECIMAL: return "a number";
    case TSR_T_MONEY: return "an amount of money";
    case TSR_T_STRING: return "a string";
    case TSR_T_DATE: return "a date (YYYY-MM-DD)";
    case TSR_T_DATETIME: return "a datetime (ISO 8601 with a UTC offset)";
    case TSR_T_LIST: return "a list";
    default: return "a value of a type orders cannot carry";
    }
}

static bool has_exponent(const char *s, size_t n)
{
    return memchr(s, 'e', n) || memchr(s, 'E', n);
}

/* "expected X, got Y" for a scalar of the wrong kind. */
static int scalar_type_error(const tsr_order *o, const char *want, tsr_otok tok, const char *s,
                             size_t n, bool yaml, tsr_error *err)
{
    char sn[64];
    (void)o;
    switch (tok) {
    case TSR_OT_NULL:
        return tsr__err(err, TSR_EORDER, "expected %s, got null", want);
    case TSR_OT_TRUE:
    case TSR_OT_FALSE:
        return tsr__err(err, TSR_EORDER, "expected %s, got %s", want,
                        tok == TSR_OT_TRUE ? "true" : "false");
    case TSR_OT_NUMBER:
        return tsr__err(err, TSR_EORDER, "expected %s, got the number %s%s", want,
                        snippet(sn, sizeof sn, s, n),
                        yaml && strcmp(want, "a string") == 0 ? " (quote it to make it a string)"
                                                              : "");
    default:
        return tsr__err(err, TSR_EORDER, "expected %s, got a string%s", want,
                        yaml && tok == TSR_OT_STRING &&
                        (strcmp(want, "an integer") == 0 || strcmp(want, "true or false") == 0)
                            ? " (remove the quotes)" : "");
    }
}

/* ---------------------------------------------------------------------
 * Conversion of scalars.
 */

/* A JSON integer (optional '-', digits) to int64, refusing fractions,
 * exponents and anything beyond int64. */
static int int_from_text(const char *s, size_t n, int64_t *out, tsr_error *err)
{
    char sn[64];
    uint64_t v = 0, limit;
    bool neg = false;
    size_t i = 0;

    if (n > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == (neg ? 1u : 0u) || i < n) {
        /* Not all digits.  An exponent is named first, as it always was;
         * looking for one only here spares the scan on valid numbers. */
        if (has_exponent(s, n))
            return tsr__err(err, TSR_EORDER,
                            "numbers with an exponent are not accepted: %s (write the digits out)",
                            snippet(sn, sizeof sn, s, n));
        return tsr__err(err, TSR_EORDER, "expected an integer, got %s", snippet(sn, sizeof sn, s, n));
    }
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (i = neg ? 1 : 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10u)
            return tsr__err(err, TSR_EORDER, "integer %s is out of range (64-bit signed)",
                            snippet(sn, sizeof sn, s, n));
        v = v * 10u + d;
    }
    if (!neg)
        *out = (int64_t)v;
    else if (v == (uint64_t)INT64_MAX + 1u)
        *out = INT64_MIN;
    else
        *out = -(int64_t)v;
    return TSR_OK;
}

/* Fractional digits of a decimal text that matter (trailing zeros do not). */
static size_t significant_decimals(const char *s, size_t n)
{
    const char *dot = memchr(s, '.', n);
    size_t k;
    if (!dot)
        return 0;
    k = n - (size_t)(dot - s) - 1;
    while (k > 0 && dot[k] == '0')
        k--;
    return k;
}

/* A decimal (scale 6) or money (the currency's minor units) from a number
 * or a numeric string. */
static int fixed_from_text(const tsr_order *o, uint8_t type, tsr_otok tok, const char *s, size_t n,
                           int64_t *out, tsr_error *err)
{
    unsigned digits = type == TSR_T_MONEY ? o->rs->minor_units : TSR_DEC_DIGITS;
    char sn[64];
    int rc;

    rc = tsr__parse_fixed(s, n, digits, out);
    if (rc == TSR_OK)   /* only [-]digits[.digits] parse: no exponent */
        return TSR_OK;
    /* The exponent is looked for only now, on the error path, and named
     * before any other fault, as it always was. */
    if (tok == TSR_OT_NUMBER && has_exponent(s, n))
        return tsr__err(err, TSR_EORDER,
                        "numbers with an exponent are not accepted: %s (write the digits out)",
                        snippet(sn, sizeof sn, s, n));
    if (rc == TSR_EPARSE)
        return tsr__err(err, TSR_EORDER, "expected %s, got \"%s\"", type_want(type),
                        snippet(sn, sizeof sn, s, n));
    if (significant_decimals(s, n) > digits) {
        if (type == TSR_T_MONEY)
            return tsr__err(err, TSR_EORDER, "%s has more decimals than %s allows (%u)",
                            snippet(sn, sizeof sn, s, n), o->rs->currency ? o->rs->currency : "the currency",
                            digits);
        return tsr__err(err, TSR_EORDER, "%s has more than %u decimals",
                        snippet(sn, sizeof sn, s, n), digits);
    }
    return tsr__err(err, TSR_EORDER, "%s is out of range", snippet(sn, sizeof sn, s, n));
}

static int convert(const tsr_order *o, uint8_t type, tsr_otok tok, const char *s, size_t n,
                   bool yaml, tsr_value *out, tsr_error *err)
{
    char sn[64];
    int rc;

    memset(out, 0, sizeof *out);
    switch (type) {
    case TSR_T_BOOL:
        if (tok != TSR_OT_TRUE && tok != TSR_OT_FALSE)
            break;
        out->type = TSR_T_BOOL;
        out->u.i = tok == TSR_OT_TRUE;
        return TSR_OK;
    case TSR_T_INT:
        if (tok != TSR_OT_NUMBER)
            break;
        if ((rc = int_from_text(s, n, &out->u.i, err)) != TSR_OK)
            return rc;
        out->type = TSR_T_INT;
        return TSR_OK;
    case TSR_T_DECIMAL:
    case TSR_T_MONEY:
        if (tok != TSR_OT_NUMBER && tok != TSR_OT_STRING)
            break;
        if ((rc = fixed_from_text(o, type, tok, s, n, &out->u.i, err)) != TSR_OK)
            return rc;
        out->type = type;
        return TSR_OK;
    case TSR_T_STRING:
        if (tok != TSR_OT_STRING)
            break;
        if (n > UINT32_MAX)
            return tsr__err(err, TSR_ELIMIT, "string of %zu bytes is too long", n);
        out->type = TSR_T_STRING;
        out->u.s = s;
        out->len = (uint32_t)n;
        return TSR_OK;
    case TSR_T_DATE:
        if (tok != TSR_OT_STRING)
            break;
        if (tsr__parse_date(s, n, &out->u.i) != TSR_OK)
            return tsr__err(err, TSR_EORDER, "\"%s\" is not a date (YYYY-MM-DD)",
                            snippet(sn, sizeof sn, s, n));
        out->type = TSR_T_DATE;
        return TSR_OK;
    case TSR_T_DATETIME:
        if (tok != TSR_OT_STRING)
            break;
        if (tsr__parse_datetime(s, n, &out->u.i, &out->offset) != TSR_OK)
            return tsr__err(err, TSR_EORDER,
                            "\"%s\" is not an ISO 8601 datetime with a UTC offset "
                            "(like 2026-06-13T14:30:00+03:00)", snippet(sn, sizeof sn, s, n));
        out->type = TSR_T_DATETIME;
        return TSR_OK;
    default:
        return tsr__err(err, TSR_EORDER, "a field of type %s cannot be given in an order",
                        tsr__type_name((tsr_type)type));
    }
    return scalar_type_error(o, type_want(type), tok, s, n, yaml, err);
}

int tsr__order_convert(const tsr_order *o, uint8_t type, tsr_otok tok, const char *s, size_t n,
                       tsr_value *out, tsr_error *err)
{
    return convert(o, type, tok, s, n, false, out, err);
}

/* ---------------------------------------------------------------------
 * Storing values.
 */
int tsr__order_check_string(const tsr_order *o, const char *s, size_t n, tsr_error *err)
{
    size_t limit = o->rs->limits.max_string_length, i;

    if (n > limit || n > UINT32_MAX)
        return tsr__err(err, TSR_ELIMIT, "string of %zu bytes is longer than the limit (%zu bytes)",
                        n, limit);
    /* Most order strings are short ASCII ids: one pass settles them. */
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0 || c >= 0x80)
            break;
    }
    if (i == n)
        return TSR_OK;
    /* Ids and codes end up in C strings and JSON output: a NUL would cut them. */
    if (memchr(s + i, '\0', n - i))
        return tsr__err(err, TSR_EORDER, "string contains a NUL character");
    if (!tsr__utf8_valid(s + i, n - i))
        return tsr__err(err, TSR_EORDER, "string is not valid UTF-8");
    return TSR_OK;
}

/* Check a string and copy it into the arena (NUL-terminated). */
static int own_string(tsr_order *o, tsr_value *v, tsr_error *err)
{
    char *copy;
    int rc = tsr__order_check_string(o, v->u.s, v->len, err);
    if (rc != TSR_OK)
        return rc;
    copy = tsr__arena_strndup(&o->arena, v->u.s, v->len);
    if (!copy)
        return tsr__err(err, TSR_ENOMEM, NULL);
    v->u.s = copy;
    return TSR_OK;
}

/* "; an order may name `student`, `young`" (cut short when long), or that
 * it may name none: what an integrator needs to fix a refused category. */
static const char *selectable_note(const tsr_ruleset *rs, char *buf, size_t size)
{
    size_t i, used = 0, k = 0;

    for (i = 0; i < rs->ncategories && used < size; i++) {
        int w;
        if (!rs->categories[i].selectable)
            continue;
        w = snprintf(buf + used, size - used, "%s`%s`", k++ ? ", " : "; an order may name ",
                     rs->categories[i].id);
        if (w < 0 || (size_t)w >= size - used) {
            /* cut after the last whole name */
            snprintf(buf + used, size - used, "%s...", k > 1 ? ", " : "; an order may name ");
            return buf;
        }
        used += (size_t)w;
    }
    if (k == 0)
        snprintf(buf, size, "; no category of this rule set may be named by an order");
    return buf;
}

/* An order may name only a category declared `selectable: true`: an order
 * never chooses its own price.  Whether the category's `for`, `when` and
 * `valid` hold for the line is known only when the order is evaluated
 * (eval.c checks it there); this refuses what no line could name. */
#if defined(__GNUC__)
__attribute__((noinline))   /* its buffers would weigh on the readers' fast path */
#endif
static int check_category(const tsr_order *o, const char *s, size_t n, tsr_error *err)
{
    const tsr_ruleset *rs = o->rs;
    const char **names, *best = NULL;
    char sn[64], note[160];
    size_t i, nsel = 0;

    for (i = 0; i < rs->ncategories; i++)
        if (strlen(rs->categories[i].id) == n && memcmp(rs->categories[i].id, s, n) == 0) {
            if (rs->categories[i].selectable)
                return TSR_OK;
            return tsr__err(err, TSR_EORDER,
                            "category \"%s\" is not selectable: the rules assign it, an order "
                            "cannot name it%s", rs->categories[i].id,
                            selectable_note(rs, note, sizeof note));
        }
    /* suggest only what the order could name */
    names = rs->ncategories ? tsr__calloc(&o->alloc, rs->ncategories, sizeof *names) : NULL;
    if (names) {
        for (i = 0; i < rs->ncategories; i++)
            if (rs->categories[i].selectable)
                names[nsel++] = rs->categories[i].id;
        best = tsr__closest(s, n, names, nsel);
    }
    if (best)
        tsr__err(err, TSR_EORDER, "unknown category \"%s\"; did you mean \"%s\"?",
                 snippet(sn, sizeof sn, s, n), best);
    else
        tsr__err(err, TSR_EORDER, "unknown category \"%s\": the rule set has no such category%s",
                 snippet(sn, sizeof sn, s, n), selectable_note(rs, note, sizeof note));
    tsr__free(&o->alloc, names, rs->ncategories * sizeof *names);
    return TSR_EORDER;
}

/* The rules of the built-in fields beyond their types. */
static int check_builtin(const tsr_order *o, tsr_record_kind rec, unsigned slot, const tsr_value *v,
                         tsr_error *err)
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
            return check_category(o, v->u.s, v->len, err);
        break;
    }
    return TSR_OK;
}

/* Apply the built-in rules to a value whose string (if any) the order
 * owns, and note what the slot means for the order.  Nothing changes when
 * a rule refuses the value. */
static inline int settle_owned(tsr_order *o, tsr_record_kind rec, unsigned slot,
                               const tsr_value *v, tsr_error *err)
{
    int rc;

    if (slot < builtins[rec].nbuiltin) {
        if ((rc = check_builtin(o, rec, slot, v, err)) != TSR_OK)
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

/* The value is already in its slot: own its string, apply the built-in
 * rules, note what the slot means for the order.  Working in place spares
 * a copy of every value (the reader's hot path). */
static int settle(tsr_order *o, tsr_record_kind rec, unsigned slot, tsr_value *v, tsr_error *err)
{
    int rc;

    if (v->type == TSR_T_STRING && (rc = own_string(o, v, err)) != TSR_OK)
        return rc;
    return settle_owned(o, rec, slot, v, err);
}

int tsr__order_store(tsr_order *o, tsr_record_kind rec, size_t line, const tsr_field *f,
                     const tsr_value *v, tsr_error *err)
{
    tsr_value *slot = &record_of(o, rec, line)[f->slot], old = *slot;
    int rc;

    *slot = *v;
    if ((rc = settle(o, rec, f->slot, slot, err)) != TSR_OK)
        *slot = old;   /* a refused value changes nothing */
    return rc;
}

int tsr__order_list_append(tsr_order *o, tsr_value *list, const tsr_value *elem, tsr_error *err)
{
    tsr_value val = *elem;
    uint32_t n = list->len;
    int rc;

    if (val.type == TSR_T_STRING && (rc = own_string(o, &val, err)) != TSR_OK)
        return rc;
    if (n == UINT32_MAX)
        return tsr__err(err, TSR_ELIMIT, "list too long");
    /* Capacity is implied by the length (the next power of two), so lists
     * grow by doubling in the arena without storing a capacity anywhere. */
    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? (size_t)n * 2 : 1;
        tsr_value *items = tsr__arena_alloc(&o->arena, cap * sizeof *items);
        if (!items)
            return tsr__err(err, TSR_ENOMEM, NULL);
        if (n)
            memcpy(items, list->u.list, n * sizeof *items);
        list->u.list = items;
    }
    ((tsr_value *)list->u.list)[n] = val;
    list->len = n + 1;
    o->finished = false;
    return TSR_OK;
}

int tsr__order_new_line(tsr_order *o, size_t *line, tsr_error *err)
{
    void *p = o->lines;

    if (o->nlines >= o->rs->limits.max_order_lines)
        return tsr__err(err, TSR_ELIMIT, "an order may have at most %zu lines",
                        o->rs->limits.max_order_lines);
    if (tsr__grow(&o->alloc, &p, &o->lines_cap, o->nlines + 1, o->stride * sizeof(tsr_value)) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->lines = p;
    memset(o->lines + o->nlines * o->stride, 0, o->stride * sizeof(tsr_value));
    /* SPEC §5: quantity defaults to 1.  Set at birth, so that checking an
     * order never has to fill it in (tsr__order_ready writes nothing). */
    o->lines[o->nlines * o->stride + TSR_ITEM_QUANTITY].type = TSR_T_INT;
    o->lines[o->nlines * o->stride + TSR_ITEM_QUANTITY].u.i = 1;
    *line = o->nlines++;
    o->finished = false;
    return TSR_OK;
}

int tsr__order_add_promo(tsr_order *o, const char *code, size_t len, tsr_error *err)
{
    void *p;
    char *copy;
    tsr_value *slot = &o->order[TSR_ORDER_PROMO_CODES];
    size_t n = o->npromo_codes;
    int rc;

    if (n >= o->rs->limits.max_promo_codes)
        return tsr__err(err, TSR_ELIMIT, "an order may carry at most %zu promo codes",
                        o->rs->limits.max_promo_codes);
    if ((rc = tsr__order_check_string(o, code, len, err)) != TSR_OK)
        return rc;
    p = o->promo_codes;
    if (tsr__grow(&o->alloc, &p, &o->promo_codes_cap, n + 1, sizeof *o->promo_codes) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->promo_codes = p;
    p = o->promo_values;
    if (tsr__grow(&o->alloc, &p, &o->promo_values_cap, n + 1, sizeof *o->promo_values) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->promo_values = p;
    if (!(copy = tsr__arena_strndup(&o->arena, code, len)))
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->promo_codes[n].code = copy;
    o->promo_codes[n].len = len;
    memset(&o->promo_values[n], 0, sizeof o->promo_values[n]);
    o->promo_values[n].type = TSR_T_STRING;
    o->promo_values[n].u.s = copy;
    o->promo_values[n].len = (uint32_t)len;
    o->npromo_codes = n + 1;
    /* The order record mirrors the codes as a list for `order.promo_codes`;
     * the array may have moved, so the slot is re-pointed every time. */
    slot->type = TSR_T_LIST;
    slot->elem = TSR_T_STRING;
    slot->len = (uint32_t)(n + 1);
    slot->u.list = o->promo_values;
    o->finished = false;
    return TSR_OK;
}

int tsr__order_promo_use(tsr_order *o, const char *id, size_t len, size_t *index, bool *created,
                         tsr_error *err)
{
    size_t n = o->npromo_uses, found;
    tsr_promo_use *u;
    char *copy;
    void *p;
    int rc;

    if ((rc = tsr__order_check_string(o, id, len, err)) != TSR_OK)
        return rc;
    if (idmap_reserve(o, &o->promo_map, promo_id_key) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    found = idmap_find(o, &o->promo_map, id, len, promo_id_key);
    if (found != SIZE_MAX) {
        *index = found;
        *created = false;
        return TSR_OK;
    }
    p = o->promo_uses;
    if (tsr__grow(&o->alloc, &p, &o->promo_uses_cap, n + 1, sizeof *o->promo_uses) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->promo_uses = p;
    if (!(copy = tsr__arena_strndup(&o->arena, id, len)))
        return tsr__err(err, TSR_ENOMEM, NULL);
    u = &o->promo_uses[n];
    u->id = copy;
    u->id_len = len;
    u->uses = -1;
    u->total_uses = -1;
    u->seen = 0;
    idmap_insert(&o->promo_map, copy, len);
    o->npromo_uses = n + 1;
    *index = n;
    *created = true;
    o->finished = false;
    return TSR_OK;
}

int tsr__order_new_lot(tsr_order *o, size_t *index, tsr_error *err)
{
    void *p = o->lots;
    if (tsr__grow(&o->alloc, &p, &o->lots_cap, o->nlots + 1, sizeof *o->lots) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->lots = p;
    memset(&o->lots[o->nlots], 0, sizeof o->lots[o->nlots]);
    o->lots[o->nlots].points = -1;
    *index = o->nlots++;
    o->has_lots = true;
    o->has_customer = true;
    o->finished = false;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Paths.
 */
typedef struct pathbuf {
    char *buf;
    size_t size, len;
} pathbuf;

static void path_put(pathbuf *p, const char *s, size_t n)
{
    n = tsr__utf8_prefix(s, n, p->size - 1 - p->len);
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

static void path_key(pathbuf *p, const char *key, size_t n)
{
    char shown[TSR_ERROR_PATH_MAX];
    if (p->len)
        path_put(p, ".", 1);
    /* A key may hold any byte; a path is printed, so control bytes (a NUL
     * above all) are shown as '?'. */
    tsr__clip(shown, sizeof shown, key, n, sizeof shown);
    path_put(p, shown, strlen(shown));
}

static void path_index(pathbuf *p, size_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
    path_put(p, tmp, (size_t)n);
}

void tsr__order_field_path(char *buf, size_t size, tsr_record_kind rec, size_t line,
                           const char *name)
{
    pathbuf p = { buf, size, 0 };
    buf[0] = '\0';
    if (rec == TSR_REC_CUSTOMER)
        path_key(&p, "customer", 8);
    else if (rec == TSR_REC_ITEM) {
        path_key(&p, "items", 5);
        path_index(&p, line);
    }
    if (name)
        path_key(&p, name, strlen(name));
}

/* ---------------------------------------------------------------------
 * Finishing.
 */
static int finish_error(tsr_error *err, const char *path, const char *fmt, ...) TSR_PRINTF(3, 4);

static int finish_error(tsr_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr__errv(err, TSR_EORDER, fmt, ap);
    va_end(ap);
    if (err)
        snprintf(err->path, sizeof err->path, "%s", path);
    return TSR_EORDER;
}

/* `ids` is the hash set for orders of more than 16 lines: the order's own
 * (kept across orders) when finishing, a temporary one when checking an
 * order that must not change. */
static int unique_line_ids(const tsr_order *o, tsr_idmap *ids, tsr_error *err)
{
    char path[64], sn[64];
    size_t i, j, first = SIZE_MAX;

    if (o->nlines <= 16) {
        /* Few lines (the common case): comparing them all is cheaper than hashing. */
        for (i = 1; i < o->nlines && first == SIZE_MAX; i++) {
            const tsr_value *a = &o->lines[i * o->stride + TSR_ITEM_ID];
            for (j = 0; j < i; j++) {
                const tsr_value *b = &o->lines[j * o->stride + TSR_ITEM_ID];
                if (a->len == b->len && memcmp(a->u.s, b->u.s, a->len) == 0) {
                    first = j;
                    break;
                }
            }
        }
        if (first == SIZE_MAX)
            return TSR_OK;
        i--;
    } else {
        idmap_begin(ids);
        for (i = 0; i < o->nlines; i++) {
            const tsr_value *a = &o->lines[i * o->stride + TSR_ITEM_ID];
            if (idmap_reserve(o, ids, line_id_key) != TSR_OK)
                return tsr__err(err, TSR_ENOMEM, NULL);
            first = idmap_find(o, ids, a->u.s, a->len, line_id_key);
            if (first != SIZE_MAX)
                break;
            idmap_insert(ids, a->u.s, a->len);
        }
        if (first == SIZE_MAX)
            return TSR_OK;
    }
    snprintf(path, sizeof path, "items[%zu].id", i);
    return finish_error(err, path, "duplicate line id \"%s\": items[%zu] has it already",
                        snippet(sn, sizeof sn, o->lines[i * o->stride + TSR_ITEM_ID].u.s,
                                o->lines[i * o->stride + TSR_ITEM_ID].len),
                        first);
}

/* Everything finishing checks, without changing the order.  The default
 * quantity needs no filling here: a line is born with quantity 1
 * (tsr__order_new_line) and neither the builder nor the readers can leave
 * it without one. */
static int check_order(const tsr_order *o, tsr_idmap *ids, tsr_error *err)
{
    char path[64];
    size_t i;
    int rc;

    if (o->order[TSR_ORDER_DATETIME].type != TSR_T_DATETIME)
        return finish_error(err, "datetime",
                            "an order needs a datetime (ISO 8601 with a UTC offset)");
    if (o->nlines == 0)
        return finish_error(err, "items", o->has_items ? "an order needs at least one line"
                                                       : "an order needs items: a non-empty list of lines");
    for (i = 0; i < o->nlines; i++) {
        const tsr_value *rec = o->lines + i * o->stride;
        if (rec[TSR_ITEM_ID].type != TSR_T_STRING) {
            snprintf(path, sizeof path, "items[%zu].id", i);
            return finish_error(err, path, "a line needs an id");
        }
        if (rec[TSR_ITEM_KIND].type != TSR_T_STRING) {
            snprintf(path, sizeof path, "items[%zu].kind", i);
            return finish_error(err, path, "a line needs a kind");
        }
    }
    if ((rc = unique_line_ids(o, ids, err)) != TSR_OK)
        return rc;
    for (i = 0; i < o->nlots; i++) {
        if (!o->lots[i].id) {
            snprintf(path, sizeof path, "customer.points_lots[%zu].id", i);
            return finish_error(err, path, "a points lot needs an id");
        }
        if (o->lots[i].points < 0) {
            snprintf(path, sizeof path, "customer.points_lots[%zu].points", i);
            return finish_error(err, path, "a points lot needs points");
        }
    }
    return TSR_OK;
}

int tsr__order_finish(tsr_order *o, tsr_error *err)
{
    int rc = check_order(o, &o->line_map, err);
    if (rc == TSR_OK)
        o->finished = true;
    return rc;
}

int tsr__order_ready(const tsr_order *o, tsr_error *err)
{
    tsr_idmap ids;
    int rc;

    if (o->finished)
        return TSR_OK;
    /* A builder order nobody finished: check it without writing to it, so
     * any number of threads may evaluate one const order at once.  The
     * check is repeated per evaluation (parsed orders are finished once,
     * when read). */
    memset(&ids, 0, sizeof ids);
    rc = check_order(o, &ids, err);
    idmap_free(&ids, &o->alloc);
    return rc;
}

/* ---------------------------------------------------------------------
 * The event reader.
 */
void tsr__oread_init(tsr_oreader *r, tsr_order *o, bool yaml, tsr_error *err)
{
    /* Frames are set up when pushed: no need to clear them for every order. */
    r->rc = TSR_OK;
    r->done = false;
    r->depth = 0;
    r->o = o;
    r->yaml = yaml;
    r->err = err;
}

static tsr_oframe *top(tsr_oreader *r)
{
    return r->depth ? &r->frames[r->depth - 1] : NULL;
}

/* The JSON path of the reader's position.  `pending`: of the value about
 * to begin (in an array, the next element) rather than the current one. */
static void render_path(const tsr_oreader *r, bool pending, char *buf, size_t size)
{
    pathbuf p = { buf, size, 0 };
    unsigned i;

    buf[0] = '\0';
    for (i = 0; i < r->depth; i++) {
        const tsr_oframe *f = &r->frames[i];
        if (is_map(f->kind)) {
            if (f->key)
                path_key(&p, f->key, f->key_len);
        } else if (pending && i + 1 == r->depth) {
            path_index(&p, f->index);
        } else if (f->index > 0) {
            path_index(&p, f->index - 1);
        }
    }
    if (p.len == 0)
        path_put(&p, "$", 1);
}

/* The error in r->err (message set by a helper) happened here. */
static int fail(tsr_oreader *r, int rc)
{
    if (r->err) {
        r->err->code = rc;
        render_path(r, false, r->err->path, sizeof r->err->path);
    }
    r->rc = rc;
    return rc;
}

static int failf(tsr_oreader *r, int code, const char *fmt, ...) TSR_PRINTF(3, 4);

static int failf(tsr_oreader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr__errv(r->err, code, fmt, ap);
    va_end(ap);
    return fail(r, code);
}

int tsr__oread_fail(tsr_oreader *r, int code, const char *fmt, ...)
{
    va_list ap;
    if (r->rc)
        return r->rc;
    va_start(ap, fmt);
    tsr__errv(r->err, code, fmt, ap);
    va_end(ap);
    if (r->err)
        render_path(r, true, r->err->path, sizeof r->err->path);
    r->rc = code;
    return code;
}

static const char *object_word(const tsr_oreader *r)
{
    return r->yaml ? "a mapping" : "an object";
}

static const char *array_word(const tsr_oreader *r)
{
    return r->yaml ? "a sequence" : "an array";
}

/* What the value at position x must be, in words. */
static const char *want_of(const tsr_oreader *r, int x, const tsr_oframe *f)
{
    switch (x) {
    case X_ROOT:
    case X_CUSTOMER:
    case X_PROMO_USES:
    case X_PROMO_TOTAL:
    case X_ITEM:
    case X_LOT:
        return object_word(r);
    case X_ITEMS:
    case X_LOTS:
    case X_PROMO_CODES:
        return r->yaml ? "a sequence" : "an array";
    case X_PROMO_CODE:
        return "a string";
    case X_PROMO_COUNT:
        return "an integer";
    case X_ELEM:
        return type_want(f->list.elem);
    default:
        return f->field->type == TSR_T_LIST ? array_word(r) : type_want(f->field->type);
    }
}

/* The value is a container of the wrong kind. */
static int container_error(tsr_oreader *r, int x, const tsr_oframe *f, bool is_object)
{
    if (x == X_ROOT)
        return failf(r, TSR_EORDER, "an order must be %s", object_word(r));
    return failf(r, TSR_EORDER, "expected %s, got %s", want_of(r, x, f),
                 is_object ? object_word(r) : array_word(r));
}

static int push(tsr_oreader *r, uint8_t kind, tsr_oframe **out)
{
    tsr_oframe *f;
    if (r->depth == TSR_OREAD_DEPTH)   /* not reachable with the order's shape */
        return failf(r, TSR_ELIMIT, "nesting too deep");
    f = &r->frames[r->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    *out = f;
    return TSR_OK;
}

/* Start a value: bump the enclosing array's index (applying the line
 * limit) and say what the value must be. */
static int begin_value(tsr_oreader *r, int *x)
{
    tsr_oframe *f = top(r);

    if (!f) {
        if (r->done)
            return failf(r, TSR_EORDER, "unexpected text after the order");
        *x = X_ROOT;
        return TSR_OK;
    }
    switch (f->kind) {
    case F_ITEMS:
        f->index++;
        if (f->index > r->o->rs->limits.max_order_lines)
            return failf(r, TSR_ELIMIT, "an order may have at most %zu lines",
                         r->o->rs->limits.max_order_lines);
        *x = X_ITEM;
        return TSR_OK;
    case F_PROMO_CODES:
        f->index++;
        *x = X_PROMO_CODE;
        return TSR_OK;
    case F_LOTS:
        f->index++;
        *x = X_LOT;
        return TSR_OK;
    case F_LIST:
        f->index++;
        *x = X_ELEM;
        return TSR_OK;
    default:
        if (!f->key)   /* a well-formed event stream never does this */
            return failf(r, TSR_EORDER, "a value without a key");
        *x = f->target;
        return TSR_OK;
    }
}

static tsr_record_kind frame_record(const tsr_oframe *f)
{
    return f->kind == F_ORDER ? TSR_REC_ORDER : f->kind == F_CUSTOMER ? TSR_REC_CUSTOMER
                                                                       : TSR_REC_ITEM;
}

/* Store v in the field named by map frame f's current key. */
static int put_field(tsr_oreader *r, tsr_oframe *f, const tsr_value *v)
{
    int rc = tsr__order_store(r->o, frame_record(f), f->index, f->field, v, r->err);
    return rc == TSR_OK ? TSR_OK : fail(r, rc);
}

static int put_lot_field(tsr_oreader *r, tsr_oframe *f, const tsr_value *v)
{
    tsr_points_lot *lot = &r->o->lots[f->index];
    tsr_value val = *v;
    int rc;

    switch (f->field->slot) {
    case 0:
        if ((rc = own_string(r->o, &val, r->err)) != TSR_OK)
            return fail(r, rc);
        lot->id = val.u.s;
        break;
    case 1:
        if (val.u.i < 0)
            return failf(r, TSR_EORDER, "points must be >= 0, got %lld", (long long)val.u.i);
        lot->points = val.u.i;
        break;
    default:
        lot->has_expires = true;
        lot->expires_on = val.u.i;
        break;
    }
    return TSR_OK;
}

int tsr__oread_scalar(tsr_oreader *r, tsr_otok tok, const char *s, size_t n)
{
    tsr_order *o = r->o;
    tsr_oframe *f;
    tsr_value v;
    int x = X_ROOT, rc;

    if (r->rc)
        return r->rc;
    if ((rc = begin_value(r, &x)) != TSR_OK)
        return rc;
    /* Every string in the text counts against the limit, whatever it
     * becomes (the YAML parser limits every scalar the same way). */
    if (tok == TSR_OT_STRING && n > o->rs->limits.max_string_length)
        return failf(r, TSR_ELIMIT, "string of %zu bytes is longer than the limit (%zu bytes)", n,
                     o->rs->limits.max_string_length);
    f = top(r);
    switch (x) {
    case X_FIELD:
        if (tok == TSR_OT_NULL)   /* null: the field is absent */
            return put_field(r, f, &(tsr_value){ 0 });
        if (f->field->type == TSR_T_LIST) {
            scalar_type_error(o, want_of(r, x, f), tok, s, n, r->yaml, r->err);
            return fail(r, TSR_EORDER);
        }
        {
            tsr_record_kind rec = frame_record(f);
            tsr_value *slot = &record_of(o, rec, f->index)[f->field->slot];
            /* Straight into the slot: the reader clears the order on error. */
            if ((rc = convert(o, f->field->type, tok, s, n, r->yaml, slot, r->err)) != TSR_OK ||
                (rc = settle(o, rec, f->field->slot, slot, r->err)) != TSR_OK)
                return fail(r, rc);
            return TSR_OK;
        }
    case X_LOT_FIELD:
        if (tok == TSR_OT_NULL)
            return TSR_OK;
        if ((rc = convert(o, f->field->type, tok, s, n, r->yaml, &v, r->err)) != TSR_OK)
            return fail(r, rc);
        return put_lot_field(r, f, &v);
    case X_PROMO_COUNT: {
        tsr_promo_use *u = &o->promo_uses[f->index];
        if (tok == TSR_OT_NULL)
            return TSR_OK;
        if ((rc = convert(o, TSR_T_INT, tok, s, n, r->yaml, &v, r->err)) != TSR_OK)
            return fail(r, rc);
        if (v.u.i < 0)
            return failf(r, TSR_EORDER, "a use count must be >= 0, got %lld", (long long)v.u.i);
        if (f->rec == 1)
            u->uses = v.u.i;
        else
            u->total_uses = v.u.i;
        o->finished = false;
        return TSR_OK;
    }
    case X_PROMO_CODE:
        if (tok != TSR_OT_STRING) {
            scalar_type_error(o, "a string", tok, s, n, r->yaml, r->err);
            return fail(r, TSR_EORDER);
        }
        rc = tsr__order_add_promo(o, s, n, r->err);
        return rc == TSR_OK ? TSR_OK : fail(r, rc);
    case X_ELEM:
        if ((rc = convert(o, f->list.elem, tok, s, n, r->yaml, &v, r->err)) != TSR_OK)
            return fail(r, rc);
        rc = tsr__order_list_append(o, &f->list, &v, r->err);
        return rc == TSR_OK ? TSR_OK : fail(r, rc);
    case X_CUSTOMER:
    case X_ITEMS:
    case X_PROMO_USES:
    case X_PROMO_TOTAL:
    case X_LOTS:
    case X_PROMO_CODES:
        if (tok == TSR_OT_NULL)
            return TSR_OK;
        /* fall through */
    default:
        if (x == X_ROOT)
            return failf(r, TSR_EORDER, "an order must be %s", object_word(r));
        scalar_type_error(o, want_of(r, x, f), tok, s, n, r->yaml, r->err);
        return fail(r, TSR_EORDER);
    }
}

int tsr__oread_start_map(tsr_oreader *r)
{
    tsr_order *o = r->o;
    tsr_oframe *f, *nf = NULL;
    size_t index;
    int x = X_ROOT, rc;

    if (r->rc)
        return r->rc;
    if ((rc = begin_value(r, &x)) != TSR_OK)
        return rc;
    f = top(r);
    switch (x) {
    case X_ROOT:
        memset(o->seen[TSR_REC_ORDER], 0, o->seen_len[TSR_REC_ORDER]);
        return push(r, F_ORDER, &nf);
    case X_CUSTOMER:
        o->has_customer = true;
        memset(o->seen[TSR_REC_CUSTOMER], 0, o->seen_len[TSR_REC_CUSTOMER]);
        return push(r, F_CUSTOMER, &nf);
    case X_ITEM:
        if ((rc = tsr__order_new_line(o, &index, r->err)) != TSR_OK)
            return fail(r, rc);
        memset(o->seen[TSR_REC_ITEM], 0, o->seen_len[TSR_REC_ITEM]);
        if ((rc = push(r, F_ITEM, &nf)) != TSR_OK)
            return rc;
        nf->index = index;
        return TSR_OK;
    case X_PROMO_USES:
    case X_PROMO_TOTAL:
        if ((rc = push(r, F_PROMO_MAP, &nf)) != TSR_OK)
            return rc;
        nf->rec = x == X_PROMO_USES ? 1 : 2;
        return TSR_OK;
    case X_LOT:
        if ((rc = tsr__order_new_lot(o, &index, r->err)) != TSR_OK)
            return fail(r, rc);
        if ((rc = push(r, F_LOT, &nf)) != TSR_OK)
            return rc;
        nf->index = index;
        return TSR_OK;
    default:
        return container_error(r, x, f, true);
    }
}

int tsr__oread_start_array(tsr_oreader *r)
{
    tsr_order *o = r->o;
    tsr_oframe *f, *nf = NULL;
    int x = X_ROOT, rc;

    if (r->rc)
        return r->rc;
    if ((rc = begin_value(r, &x)) != TSR_OK)
        return rc;
    f = top(r);
    switch (x) {
    case X_ITEMS:
        o->has_items = true;
        return push(r, F_ITEMS, &nf);
    case X_PROMO_CODES: {
        /* present, even if empty: `order.promo_codes` is then an empty list */
        tsr_value *slot = &o->order[TSR_ORDER_PROMO_CODES];
        memset(slot, 0, sizeof *slot);
        slot->type = TSR_T_LIST;
        slot->elem = TSR_T_STRING;
        slot->u.list = o->promo_values;
        return push(r, F_PROMO_CODES, &nf);
    }
    case X_LOTS:
        o->has_lots = true;
        return push(r, F_LOTS, &nf);
    case X_FIELD:
        if (f->field->type == TSR_T_LIST) {
            uint8_t rec = (uint8_t)frame_record(f);
            size_t line = f->index;
            const tsr_field *field = f->field;
            if ((rc = push(r, F_LIST, &nf)) != TSR_OK)
                return rc;
            nf->rec = rec;
            nf->line = line;
            nf->field = field;
            nf->list.type = TSR_T_LIST;
            nf->list.elem = field->elem;
            return TSR_OK;
        }
        /* fall through */
    default:
        return container_error(r, x, f, false);
    }
}

/* The did-you-mean for an unknown key of a record: built-in keys and the
 * schema's fields (or a lot's keys). */
static int unknown_key(tsr_oreader *r, tsr_oframe *f, const char *key, size_t n)
{
    const tsr_ruleset *rs = r->o->rs;
    const char **names = NULL, *best = NULL, *what;
    const tsr_keyset *keys;
    size_t nkeys, nschema = 0, first = 0, total, i;
    char sn[64];

    if (f->kind == F_LOT) {
        keys = &tsr__keys_points_lot;
        nkeys = keys->n;
        what = "a points lot";
    } else {
        tsr_record_kind rec = frame_record(f);
        keys = record_keys[rec];
        nkeys = keys->n;
        what = builtins[rec].what;
        first = builtins[rec].nbuiltin;
        nschema = rs->records[rec].len > first ? rs->records[rec].len - first : 0;
    }
    total = nkeys + nschema;
    names = tsr__calloc(&r->o->alloc, total, sizeof *names);
    if (names) {
        for (i = 0; i < nkeys; i++)
            names[i] = keys->keys[i].name;
        for (i = 0; i < nschema; i++)
            names[nkeys + i] = rs->records[frame_record(f)].fields[first + i].name;
        best = tsr__closest(key, n, names, total);
    }
    f->key = key;     /* only for the path, rendered now */
    f->key_len = n;
    snippet(sn, sizeof sn, key, n);
    if (best)
        failf(r, TSR_EORDER, "unknown field \"%s\" in %s; did you mean \"%s\"?", sn, what, best);
    else if (f->kind == F_LOT)
        failf(r, TSR_EORDER, "unknown field \"%s\" in %s (it has id, points, expires_on)", sn,
              what);
    else
        failf(r, TSR_EORDER,
              "unknown field \"%s\" in %s: fields beyond the built-in ones must be declared "
              "in the rule set's schema", sn, what);
    tsr__free(&r->o->alloc, names, total * sizeof *names);
    return r->rc;
}

static int duplicate_key(tsr_oreader *r, tsr_oframe *f, const char *key, size_t n)
{
    char sn[64];
    f->key = key;
    f->key_len = n;
    return failf(r, TSR_EORDER, "duplicate key \"%s\"", snippet(sn, sizeof sn, key, n));
}

/* The first 8 bytes at p, of which only the first n count (the rest are
 * zeroed): 8 bytes must be readable at p.  Compared with a slot's head,
 * it tells a key from a name without a call to memcmp. */
static inline uint64_t head8(const char *p, size_t n)
{
    uint64_t x;

    memcpy(&x, p, 8);
    if (n >= 8)
        return x;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return n ? x & ~(~(uint64_t)0 >> (8 * n)) : 0;
#else
    return x & (((uint64_t)1 << (8 * n)) - 1);
#endif
}

/* The entry of a key, or NULL.  Probing to the next empty slot keeps this
 * right for any table; in a perfect one (okey_build) a known key is always
 * found at its home slot, so only unknown keys ever probe. */
static const tsr_okey_slot *okey_find(const tsr_okey_index *ix, const char *key, size_t n)
{
    uint32_t i = tsr__okey_hash(key, n, ix->seed) & ix->mask;

    for (;; i = (i + 1) & ix->mask) {
        const tsr_okey_slot *k = &ix->slots[i];
        if (!k->name)
            return NULL;
        /* a name holds no NUL, so equal bytes mean the key holds none either */
        if (k->len == n && memcmp(k->name, key, n) == 0)
            return k;
    }
}

/* Place every entry at its home slot for `seed`: false when two names
 * share one.  A name met again keeps its first entry (built-in keys come
 * first and win, as the reader's former scan of built-ins, then schema
 * fields, did). */
static bool okey_place_perfect(tsr_okey_index *ix, const tsr_okey_slot *e, size_t count,
                               uint32_t seed)
{
    size_t j;

    memset(ix->slots, 0, ((size_t)ix->mask + 1) * sizeof *ix->slots);
    ix->seed = seed;
    for (j = 0; j < count; j++) {
        tsr_okey_slot *home = &ix->slots[tsr__okey_hash(e[j].name, e[j].len, seed) & ix->mask];
        if (!home->name)
            *home = e[j];
        else if (home->len != e[j].len || memcmp(home->name, e[j].name, e[j].len) != 0)
            return false;
    }
    return true;
}

/* One record's index: every built-in key, then every schema field, in a
 * table at most half full, with a seed that gives every name a slot of
 * its own (a perfect hash: the JSON reader resolves a known key with one
 * hash and one compare).  Found at load by trying seeds, then doubling the
 * table a few times.  Records with very many names, or names the mixed
 * bytes cannot tell apart (same length, first, middle and last byte), get
 * the plain table, where a few keys probe. */
#define OKEY_PERFECT_MAX 64    /* names; beyond, finding a seed costs more than probing */
#define OKEY_SEEDS 64

static int okey_build(tsr_ruleset *rs, tsr_record_kind rec)
{
    const tsr_keyset *ks = record_keys[rec];
    const tsr_record_schema *schema = &rs->records[rec];
    size_t nb = builtins[rec].nbuiltin, total, count = 0, base = 8, cap, won = 0, i;
    tsr_okey_index *ix = &rs->okeys[rec], trial;
    tsr_okey_slot *e;
    uint32_t seed;
    int rc = TSR_ENOMEM;

    total = ks->n + (schema->len > nb ? schema->len - nb : 0);
    while (base < 2 * total)
        base *= 2;
    if (base > UINT32_MAX / 16 || !(e = tsr__calloc(&rs->alloc, total, sizeof *e)))
        return TSR_ENOMEM;
    for (i = 0; i < ks->n; i++) {
        const tsr_key *k = &ks->keys[i];
        uint8_t target = TAG_TARGET(k), slot = TAG_SLOT(k);
        e[count].name = k->name;
        e[count].len = (uint32_t)strlen(k->name);
        e[count].target = target;
        e[count].field = target == X_FIELD ? &builtins[rec].fields[slot] : NULL;
        e[count].seen_at = target == X_FIELD || target == X_PROMO_CODES
                               ? slot : (uint32_t)(schema->len + (size_t)(target - X_CUSTOMER));
        count++;
    }
    for (i = nb; i < schema->len; i++) {
        const tsr_field *fd = &schema->fields[i];
        e[count].name = fd->name;
        e[count].len = (uint32_t)strlen(fd->name);
        e[count].target = X_FIELD;
        e[count].field = fd;
        e[count].seen_at = fd->slot;
        count++;
    }
    for (i = 0; i < count; i++) {
        char head[16] = { 0 };
        memcpy(head, e[i].name, e[i].len < 16 ? e[i].len : 16);
        memcpy(e[i].head, head, sizeof head);
    }
    /* The trials share one scratch table; the index keeps the one that won. */
    trial.slots = tsr__calloc(&rs->alloc, base * 8, sizeof *trial.slots);
    if (!trial.slots)
        goto out;
    for (cap = base; count <= OKEY_PERFECT_MAX && cap <= base * 8 && !won; cap *= 2) {
        trial.mask = (uint32_t)(cap - 1);
        for (seed = 0; seed < OKEY_SEEDS && !won; seed++)
            if (okey_place_perfect(&trial, e, count, seed))
                won = cap;
    }
    if (!won) {
        won = base;
        trial.mask = (uint32_t)(base - 1);
        trial.seed = 0;
        memset(trial.slots, 0, base * sizeof *trial.slots);
        for (i = 0; i < count; i++)
            if (!okey_find(&trial, e[i].name, e[i].len)) {   /* the first entry of a name wins */
                uint32_t h = tsr__okey_hash(e[i].name, e[i].len, 0) & trial.mask;
                while (trial.slots[h].name)
                    h = (h + 1) & trial.mask;
                trial.slots[h] = e[i];
            }
    }
    ix->mask = trial.mask;
    ix->seed = trial.seed;
    if ((ix->slots = tsr__arena_alloc(&rs->arena, won * sizeof *ix->slots)) != NULL) {
        memcpy(ix->slots, trial.slots, won * sizeof *ix->slots);
        rc = TSR_OK;
    }
    tsr__free(&rs->alloc, trial.slots, base * 8 * sizeof *trial.slots);
out:
    tsr__free(&rs->alloc, e, total * sizeof *e);
    return rc;
}

int tsr__order_keys_build(tsr_ruleset *rs)
{
    int rec, rc;
    for (rec = 0; rec < TSR_REC__COUNT; rec++)
        if ((rc = okey_build(rs, (tsr_record_kind)rec)) != TSR_OK)
            return rc;
    return TSR_OK;
}

/* The key names entry k of the frame's record: note it for duplicates and
 * what its value must be. */
static void take_key(tsr_oframe *f, uint8_t *seen, const tsr_okey_slot *k, size_t n)
{
    seen[k->seen_at] = 1;
    f->target = k->target;
    f->field = k->field;
    f->key = k->name;
    f->key_len = n;
}

static int record_key(tsr_oreader *r, tsr_oframe *f, const char *key, size_t n)
{
    const tsr_okey_slot *k = okey_find(&r->o->rs->okeys[frame_record(f)], key, n);
    uint8_t *seen = r->o->seen[frame_record(f)];

    if (!k)
        return unknown_key(r, f, key, n);
    if (seen[k->seen_at])
        return duplicate_key(r, f, key, n);
    take_key(f, seen, k, n);
    return TSR_OK;
}

int tsr__oread_key(tsr_oreader *r, const char *key, size_t n)
{
    tsr_oframe *f = top(r);
    size_t i;
    int rc;

    if (r->rc)
        return r->rc;
    if (!f || !is_map(f->kind))
        return failf(r, TSR_EORDER, "a key outside an object");
    if (n > r->o->rs->limits.max_string_length)
        return failf(r, TSR_ELIMIT, "key of %zu bytes is longer than the limit (%zu bytes)", n,
                     r->o->rs->limits.max_string_length);
    switch (f->kind) {
    case F_LOT:
        for (i = 0; i < TSR_ARRAY_LEN(lot_keys); i++) {
            const tsr_key *k = &lot_keys[i];
            if (strlen(k->name) != n || memcmp(k->name, key, n) != 0)
                continue;
            if (f->lot_seen & (1u << i))
                return duplicate_key(r, f, key, n);
            f->lot_seen |= (uint8_t)(1u << i);
            f->target = X_LOT_FIELD;
            f->field = &lot_fields[TAG_SLOT(k)];
            f->key = k->name;
            f->key_len = n;
            return TSR_OK;
        }
        return unknown_key(r, f, key, n);
    case F_PROMO_MAP: {
        size_t index;
        bool created;
        tsr_promo_use *u;
        if ((rc = tsr__order_promo_use(r->o, key, n, &index, &created, r->err)) != TSR_OK)
            return fail(r, rc);
        u = &r->o->promo_uses[index];
        if (u->seen & f->rec)
            return duplicate_key(r, f, u->id, u->id_len);
        u->seen |= f->rec;
        f->target = X_PROMO_COUNT;
        f->index = index;
        f->key = u->id;
        f->key_len = u->id_len;
        return TSR_OK;
    }
    default:
        return record_key(r, f, key, n);
    }
}

int tsr__oread_end_map(tsr_oreader *r)
{
    tsr_oframe *f = top(r);

    if (r->rc)
        return r->rc;
    if (!f || !is_map(f->kind))
        return failf(r, TSR_EORDER, "unbalanced end of an object");
    if (f->kind == F_ITEM) {
        tsr_value *q = &r->o->lines[f->index * r->o->stride + TSR_ITEM_QUANTITY];
        if (q->type == TSR_T_MISSING) {   /* SPEC §5: quantity defaults to 1 */
            q->type = TSR_T_INT;
            q->u.i = 1;
        }
    }
    if (f->kind == F_ORDER)
        r->done = true;
    r->depth--;
    return TSR_OK;
}

int tsr__oread_end_array(tsr_oreader *r)
{
    tsr_oframe *f = top(r);

    if (r->rc)
        return r->rc;
    if (!f || is_map(f->kind))
        return failf(r, TSR_EORDER, "unbalanced end of an array");
    r->depth--;
    if (f->kind == F_LIST) {
        tsr_value list = f->list;
        return put_field(r, top(r), &list);
    }
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * The JSON reader's fast path (order_json.c).  For the common case -- a
 * key its record knows, met for the first time; a value its field's type
 * takes as it stands -- these do what tsr__oread_key and tsr__oread_scalar
 * do, without their generality.  Anything else (another kind of frame, a
 * key unknown or repeated, null, a value of another type, out of range or
 * too long, a category, a string not known to be clean) returns
 * TSR_OREAD_SLOW having changed nothing, and the caller makes the generic
 * call, which decides and words every error.  The differential fuzzer
 * (tests/fuzz/fuzz_order_diff.c) holds the JSON reader to the answers of
 * the former yajl reader, which made only generic calls.
 */
/* The fast paths run in the maps of the records only, whose frame kinds
 * are numbered as the records are: the kind is the record. */
_Static_assert(F_ORDER == (int)TSR_REC_ORDER && F_CUSTOMER == (int)TSR_REC_CUSTOMER &&
               F_ITEM == (int)TSR_REC_ITEM, "record frames are numbered as records");

int tsr__oread_key_fast(tsr_oreader *r, const char *key, size_t n)
{
    tsr_oframe *f = top(r);
    const tsr_okey_index *ix;
    const tsr_okey_slot *k;
    uint8_t *seen;

    /* kinds up to F_ITEM are the maps of the three records */
    if (r->rc || !f || f->kind > F_ITEM || n > r->o->rs->limits.max_string_length)
        return TSR_OREAD_SLOW;
    /* The home slot only: in a perfect index a known key is there (a key
     * that probes, in an index that is not perfect, goes the generic way). */
    ix = &r->o->rs->okeys[(tsr_record_kind)f->kind];
    k = &ix->slots[tsr__okey_hash(key, n, ix->seed) & ix->mask];
    if (!k->name || k->len != n || head8(key, n) != k->head[0] ||
        (n > 8 && head8(key + 8, n - 8) != k->head[1]) ||
        (n > 16 && memcmp(k->name + 16, key + 16, n - 16) != 0))
        return TSR_OREAD_SLOW;
    seen = r->o->seen[(tsr_record_kind)f->kind];
    if (seen[k->seen_at])
        return TSR_OREAD_SLOW;
    take_key(f, seen, k, n);
    return TSR_OK;
}

const tsr_okey_index *tsr__oread_key_index(const tsr_oreader *r)
{
    const tsr_oframe *f = r->depth ? &r->frames[r->depth - 1] : NULL;
    return !r->rc && f && f->kind <= F_ITEM ? &r->o->rs->okeys[(tsr_record_kind)f->kind] : NULL;
}

int tsr__oread_take_key(tsr_oreader *r, const tsr_okey_slot *k)
{
    tsr_oframe *f = top(r);
    uint8_t *seen = r->o->seen[(tsr_record_kind)f->kind];

    if (k->len > r->o->rs->limits.max_string_length || seen[k->seen_at])
        return TSR_OREAD_SLOW;
    take_key(f, seen, k, k->len);
    return TSR_OK;
}

int tsr__oread_field_fast(tsr_oreader *r, tsr_otok tok, const char *s, size_t n, unsigned hints,
                          int64_t ival)
{
    tsr_order *o = r->o;
    tsr_oframe *f;
    tsr_record_kind rec;
    unsigned slot;
    tsr_value v;

    /* Only a key of a record's map sets X_FIELD, and a frame pushed since
     * (a list) has none: so the top frame is that map, its key just read. */
    if (r->rc || !r->depth || (f = &r->frames[r->depth - 1])->target != X_FIELD ||
        (tok == TSR_OT_STRING && n > o->rs->limits.max_string_length))
        return TSR_OREAD_SLOW;
    rec = (tsr_record_kind)f->kind;
    slot = f->field->slot;
    switch (f->field->type) {
    case TSR_T_STRING:
        /* a category must be one of the rule set's: the generic way */
        if (tok != TSR_OT_STRING || !(hints & TSR_OHINT_OWNED) || n > UINT32_MAX ||
            (rec == TSR_REC_ITEM && slot == TSR_ITEM_CATEGORY))
            return TSR_OREAD_SLOW;
        /* valid, NUL-terminated, in the order's arena already */
        v = (tsr_value){ .type = TSR_T_STRING, .len = (uint32_t)n, .u.s = s };
        break;
    case TSR_T_INT:
        v = (tsr_value){ .type = TSR_T_INT };
        if (tok != TSR_OT_NUMBER)
            return TSR_OREAD_SLOW;
        if (hints & TSR_OHINT_INT)
            v.u.i = ival;
        else if (int_from_text(s, n, &v.u.i, NULL) != TSR_OK)
            return TSR_OREAD_SLOW;
        /* the built-in rules (quantity >= 1, redeem_points and
         * points_balance >= 0) are for built-in slots only */
        if (slot < builtins[rec].nbuiltin && settle_owned(o, rec, slot, &v, NULL) != TSR_OK)
            return TSR_OREAD_SLOW;
        break;
    case TSR_T_DECIMAL:
    case TSR_T_MONEY:
        v = (tsr_value){ .type = f->field->type };
        if ((tok != TSR_OT_NUMBER && tok != TSR_OT_STRING) ||
            tsr__parse_fixed(s, n, v.type == TSR_T_MONEY ? o->rs->minor_units : TSR_DEC_DIGITS,
                             &v.u.i) != TSR_OK)
            return TSR_OREAD_SLOW;
        if (slot < builtins[rec].nbuiltin && settle_owned(o, rec, slot, &v, NULL) != TSR_OK)
            return TSR_OREAD_SLOW;   /* price >= 0 */
        break;
    case TSR_T_DATE:
        v = (tsr_value){ .type = TSR_T_DATE };
        if (tok != TSR_OT_STRING || tsr__parse_date(s, n, &v.u.i) != TSR_OK)
            return TSR_OREAD_SLOW;
        break;
    case TSR_T_DATETIME:
        v = (tsr_value){ .type = TSR_T_DATETIME };
        if (tok != TSR_OT_STRING || tsr__parse_datetime(s, n, &v.u.i, &v.offset) != TSR_OK)
            return TSR_OREAD_SLOW;
        break;
    case TSR_T_BOOL:
        if (tok != TSR_OT_TRUE && tok != TSR_OT_FALSE)
            return TSR_OREAD_SLOW;
        v = (tsr_value){ .type = TSR_T_BOOL, .u.i = tok == TSR_OT_TRUE };
        break;
    default:   /* a list: elements come one by one, the generic way */
        return TSR_OREAD_SLOW;
    }
    /* what settle_owned notes besides (it ran above where a rule applies) */
    if (rec == TSR_REC_CUSTOMER)
        o->has_customer = true;
    o->finished = false;
    record_of(o, rec, f->index)[slot] = v;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Text in.
 */
int tsr__order_parse_text(tsr_order *o, const char *text, size_t len, tsr_error *err)
{
    size_t i = 0;
    int rc;

    tsr__order_clear(o);
    if (!text && len)
        return tsr__err(err, TSR_EINVAL, "order text is NULL");
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {   /* a UTF-8 byte order mark */
        text += 3;
        len -= 3;
    }
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i < len && text[i] == '{')
        rc = tsr__order_read_json(o, text, len, err);
    else
        rc = tsr__order_read_yaml(o, text ? text : "", len, err);
    if (rc == TSR_OK)
        rc = tsr__order_finish(o, err);
    if (rc != TSR_OK)
        tsr__order_clear(o);
    return rc;
}
