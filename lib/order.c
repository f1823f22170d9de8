/*
 * order.c — an order in memory: its lifetime (init, clear, fini), the
 * built-in fields of each record, and the rules every value passes on its
 * way in, whoever brings it (the builder of tessera.h, the JSON and YAML
 * readers through the event reader): conversion of scalars, string
 * checks, the rules of the built-in fields, limits, required fields and
 * unique line ids, and the JSON path of a field for errors.
 *
 * No floating point: numbers arrive as their text and are parsed exactly.
 */
#include "idmap.h"
#include "order_impl.h"

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

const tsr_builtin_set tsr__order_builtins[TSR_REC__COUNT] = {
    { order_fields, TSR_ARRAY_LEN(order_fields), TSR_ORDER__BUILTIN, "the order" },
    { customer_fields, TSR_ARRAY_LEN(customer_fields), TSR_CUST__BUILTIN, "the customer" },
    { item_fields, TSR_ARRAY_LEN(item_fields), TSR_ITEM__BUILTIN, "a line" },
};

const tsr_field *tsr__order_input_field(const tsr_ruleset *rs, tsr_record_kind rec, size_t slot)
{
    return tsr__order_input_field_of(rs, rec, slot);
}

/* ---------------------------------------------------------------------
 * The hash sets of an order (idmap.c): their entries are lines and promo
 * uses, read by these.
 */
static const tsr_value *line_id(const tsr_order *o, size_t line)
{
    return &o->lines[line * o->stride + TSR_ITEM_ID];
}

static void line_id_key(const void *ctx, size_t i, const char **s, size_t *n)
{
    const tsr_value *v = line_id(ctx, i);
    *s = v->u.s;
    *n = v->len;
}

static void promo_id_key(const void *ctx, size_t i, const char **s, size_t *n)
{
    const tsr_order *o = ctx;
    *s = o->promo_uses[i].id;
    *n = o->promo_uses[i].id_len;
}

size_t tsr__order_line_id_bucket(const tsr_order *o, const char *s, size_t n)
{
    return o->nlines <= 16 ? SIZE_MAX : tsr__idmap_bucket(&o->line_map, s, n);
}

/* ---------------------------------------------------------------------
 * Lifetime.
 */
int tsr__order_init(tsr_order *o, const tsr_ruleset *rs)
{
    int k, i;

    memset(o, 0, sizeof *o);
    /* no guess yet: masks that take nothing, compared with a word that
     * nothing under them equals */
    for (k = 0; k < TSR_REC__COUNT; k++)
        for (i = 0; i < TSR_ORDER_KEY_GUESSES; i++)
            o->key_next[k][i].w[0] = 1;
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
        o->seen_len[k] = rs->records[k].len + TSR_ORDER_NSPECIAL;
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
    tsr__idmap_begin(&o->promo_map);
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
    tsr__idmap_free(&o->promo_map, &o->alloc);
    tsr__idmap_free(&o->line_map, &o->alloc);
    o->rs = NULL;
}

/* ---------------------------------------------------------------------
 * Messages.
 */

const char *tsr__order_type_want(uint8_t type)
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

int tsr__order_type_error(const char *want, tsr_otok tok, const char *s, size_t n, bool yaml,
                          tsr_error *err)
{
    char sn[64];
    switch (tok) {
    case TSR_OT_NULL:
        return tsr__err(err, TSR_EORDER, "expected %s, got null", want);
    case TSR_OT_TRUE:
    case TSR_OT_FALSE:
        return tsr__err(err, TSR_EORDER, "expected %s, got %s", want,
                        tok == TSR_OT_TRUE ? "true" : "false");
    case TSR_OT_NUMBER:
        return tsr__err(err, TSR_EORDER, "expected %s, got the number %s%s", want,
                        tsr__order_snippet(sn, sizeof sn, s, n),
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

int tsr__order_int_from_text(const char *s, size_t n, int64_t *out, tsr_error *err)
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
                            tsr__order_snippet(sn, sizeof sn, s, n));
        return tsr__err(err, TSR_EORDER, "expected an integer, got %s",
                        tsr__order_snippet(sn, sizeof sn, s, n));
    }
    limit = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (i = neg ? 1 : 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10u)
            return tsr__err(err, TSR_EORDER, "integer %s is out of range (64-bit signed)",
                            tsr__order_snippet(sn, sizeof sn, s, n));
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
                        tsr__order_snippet(sn, sizeof sn, s, n));
    if (rc == TSR_EPARSE)
        return tsr__err(err, TSR_EORDER, "expected %s, got \"%s\"", tsr__order_type_want(type),
                        tsr__order_snippet(sn, sizeof sn, s, n));
    if (significant_decimals(s, n) > digits) {
        if (type == TSR_T_MONEY)
            return tsr__err(err, TSR_EORDER, "%s has more decimals than %s allows (%u)",
                            tsr__order_snippet(sn, sizeof sn, s, n),
                            o->rs->currency ? o->rs->currency : "the currency",
                            digits);
        return tsr__err(err, TSR_EORDER, "%s has more than %u decimals",
                        tsr__order_snippet(sn, sizeof sn, s, n), digits);
    }
    return tsr__err(err, TSR_EORDER, "%s is out of range", tsr__order_snippet(sn, sizeof sn, s, n));
}

int tsr__order_convert(const tsr_order *o, uint8_t type, tsr_otok tok, const char *s, size_t n,
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
        if ((rc = tsr__order_int_from_text(s, n, &out->u.i, err)) != TSR_OK)
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
                            tsr__order_snippet(sn, sizeof sn, s, n));
        out->type = TSR_T_DATE;
        return TSR_OK;
    case TSR_T_DATETIME:
        if (tok != TSR_OT_STRING)
            break;
        if (tsr__parse_datetime(s, n, &out->u.i, &out->offset) != TSR_OK)
            return tsr__err(err, TSR_EORDER,
                            "\"%s\" is not an ISO 8601 datetime with a UTC offset "
                            "(like 2026-06-13T14:30:00+03:00)",
                            tsr__order_snippet(sn, sizeof sn, s, n));
        out->type = TSR_T_DATETIME;
        return TSR_OK;
    default:
        return tsr__err(err, TSR_EORDER, "a field of type %s cannot be given in an order",
                        tsr__type_name((tsr_type)type));
    }
    return tsr__order_type_error(tsr__order_type_want(type), tok, s, n, yaml, err);
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

int tsr__order_own_string(tsr_order *o, tsr_value *v, tsr_error *err)
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
int tsr__order_check_category(const tsr_order *o, const char *s, size_t n, tsr_error *err)
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
                 tsr__order_snippet(sn, sizeof sn, s, n), best);
    else
        tsr__err(err, TSR_EORDER, "unknown category \"%s\": the rule set has no such category%s",
                 tsr__order_snippet(sn, sizeof sn, s, n), selectable_note(rs, note, sizeof note));
    tsr__free(&o->alloc, names, rs->ncategories * sizeof *names);
    return TSR_EORDER;
}

/* Working in place spares a copy of every value (the reader's hot path). */
int tsr__order_settle(tsr_order *o, tsr_record_kind rec, unsigned slot, tsr_value *v,
                      tsr_error *err)
{
    int rc;

    if (v->type == TSR_T_STRING && (rc = tsr__order_own_string(o, v, err)) != TSR_OK)
        return rc;
    return tsr__order_settle_owned(o, rec, slot, v, err);
}

int tsr__order_store(tsr_order *o, tsr_record_kind rec, size_t line, const tsr_field *f,
                     const tsr_value *v, tsr_error *err)
{
    tsr_value *slot = &tsr__order_record(o, rec, line)[f->slot], old = *slot;
    int rc;

    *slot = *v;
    if ((rc = tsr__order_settle(o, rec, f->slot, slot, err)) != TSR_OK)
        *slot = old;   /* a refused value changes nothing */
    return rc;
}

/* A list's elements live in the order's arena behind a note of where they
 * are.  The list value holds them const, as it holds everything the
 * evaluator reads; appending finds them writable again through the note
 * instead of casting const away. */
typedef struct list_block {
    tsr_value *items;          /* == first */
    tsr_value first[];         /* capacity: the length's next power of two */
} list_block;

static tsr_value *list_items(const tsr_value *list)
{
    const list_block *b = (const void *)((const char *)list->u.list -
                                         offsetof(list_block, first));
    return b->items;
}

/* tsr__order_list_append; `owned`: a string element is the order's already
 * (valid UTF-8 without NUL, in its arena, NUL-terminated), kept as it is. */
static int list_append(tsr_order *o, tsr_value *list, const tsr_value *elem, bool owned,
                       tsr_error *err)
{
    tsr_value val = *elem, *items;
    uint32_t n = list->len;
    int rc;

    if (val.type == TSR_T_STRING && !owned && (rc = tsr__order_own_string(o, &val, err)) != TSR_OK)
        return rc;
    if (n == UINT32_MAX)
        return tsr__err(err, TSR_ELIMIT, "list too long");
    /* Capacity is implied by the length (the next power of two), so lists
     * grow by doubling in the arena without storing a capacity anywhere. */
    if (n == 0 || (n & (n - 1)) == 0) {
        size_t cap = n ? (size_t)n * 2 : 1;
        list_block *b = tsr__arena_alloc(&o->arena, sizeof *b + cap * sizeof *b->first);
        if (!b)
            return tsr__err(err, TSR_ENOMEM, NULL);
        b->items = b->first;
        if (n)
            memcpy(b->first, list->u.list, n * sizeof *b->first);
        list->u.list = b->first;
    }
    items = list_items(list);
    items[n] = val;
    list->len = n + 1;
    o->finished = false;
    return TSR_OK;
}

int tsr__order_list_append(tsr_order *o, tsr_value *list, const tsr_value *elem, tsr_error *err)
{
    return list_append(o, list, elem, false, err);
}

int tsr__order_list_append_owned(tsr_order *o, tsr_value *list, const tsr_value *elem,
                                 tsr_error *err)
{
    return list_append(o, list, elem, true, err);
}

int tsr__order_new_line(tsr_order *o, size_t *line, tsr_error *err)
{
    void *p = o->lines;

    if (o->nlines >= o->rs->limits.max_order_lines)
        return tsr__err(err, TSR_ELIMIT, "an order may have at most %zu lines",
                        o->rs->limits.max_order_lines);
    if (o->nlines >= o->lines_cap &&   /* a reset order keeps its lines */
        tsr__grow(&o->alloc, &p, &o->lines_cap, o->nlines + 1, o->stride * sizeof(tsr_value)) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->lines = p;
    *line = tsr__order_line_blank(o);
    return TSR_OK;
}

/* tsr__order_add_promo; `owned` as for list_append. */
static int add_promo(tsr_order *o, const char *code, size_t len, bool owned, tsr_error *err)
{
    void *p;
    const char *copy;
    tsr_value *slot = &o->order[TSR_ORDER_PROMO_CODES];
    size_t n = o->npromo_codes;
    int rc;

    if (n >= o->rs->limits.max_promo_codes)
        return tsr__err(err, TSR_ELIMIT, "an order may carry at most %zu promo codes",
                        o->rs->limits.max_promo_codes);
    if (!owned && (rc = tsr__order_check_string(o, code, len, err)) != TSR_OK)
        return rc;
    p = o->promo_codes;   /* a reset order keeps its arrays */
    if (n >= o->promo_codes_cap &&
        tsr__grow(&o->alloc, &p, &o->promo_codes_cap, n + 1, sizeof *o->promo_codes) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->promo_codes = p;
    p = o->promo_values;
    if (n >= o->promo_values_cap &&
        tsr__grow(&o->alloc, &p, &o->promo_values_cap, n + 1, sizeof *o->promo_values) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    o->promo_values = p;
    if (!(copy = owned ? code : tsr__arena_strndup(&o->arena, code, len)))
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

int tsr__order_add_promo(tsr_order *o, const char *code, size_t len, tsr_error *err)
{
    return add_promo(o, code, len, false, err);
}

int tsr__order_add_promo_owned(tsr_order *o, const char *code, size_t len, tsr_error *err)
{
    return add_promo(o, code, len, true, err);
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
    if (tsr__idmap_reserve(&o->promo_map, &o->alloc, promo_id_key, o) != TSR_OK)
        return tsr__err(err, TSR_ENOMEM, NULL);
    found = tsr__idmap_find(&o->promo_map, id, len, promo_id_key, o);
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
    tsr__idmap_insert(&o->promo_map, copy, len);
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
void tsr__path_put(tsr_pathbuf *p, const char *s, size_t n)
{
    n = tsr__utf8_prefix(s, n, p->size - 1 - p->len);
    memcpy(p->buf + p->len, s, n);
    p->len += n;
    p->buf[p->len] = '\0';
}

void tsr__path_key(tsr_pathbuf *p, const char *key, size_t n)
{
    char shown[TSR_ERROR_PATH_MAX];
    if (p->len)
        tsr__path_put(p, ".", 1);
    /* A key may hold any byte; a path is printed, so control bytes (a NUL
     * above all) are shown as '?'. */
    tsr__clip(shown, sizeof shown, key, n, sizeof shown);
    tsr__path_put(p, shown, strlen(shown));
}

void tsr__path_index(tsr_pathbuf *p, size_t i)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "[%zu]", i);
    tsr__path_put(p, tmp, (size_t)n);
}

void tsr__order_field_path(char *buf, size_t size, tsr_record_kind rec, size_t line,
                           const char *name)
{
    tsr_pathbuf p = { buf, size, 0 };
    buf[0] = '\0';
    if (rec == TSR_REC_CUSTOMER)
        tsr__path_key(&p, "customer", 8);
    else if (rec == TSR_REC_ITEM) {
        tsr__path_key(&p, "items", 5);
        tsr__path_index(&p, line);
    }
    if (name)
        tsr__path_key(&p, name, strlen(name));
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
 * order that must not change.  `alike`: for up to 16 lines, whether two
 * ids fell on one bit of line_id_bit (if not, they all differ). */
static int unique_line_ids(const tsr_order *o, tsr_idmap *ids, bool alike, tsr_error *err)
{
    char path[64], sn[64];
    size_t i, j, first = SIZE_MAX;

    if (o->nlines <= 16) {
        /* Few lines (the common case): comparing them all is cheaper than
         * hashing, and needed only when the filter saw two ids alike. */
        if (!alike)
            return TSR_OK;
        for (i = 1; i < o->nlines && first == SIZE_MAX; i++) {
            const tsr_value *a = line_id(o, i);
            for (j = 0; j < i; j++) {
                const tsr_value *b = line_id(o, j);
                /* ids tend to differ at the end ("i1", "i2"): that byte
                 * first, memcmp only for ids that may be equal */
                if (a->len == b->len &&
                    (a->len == 0 || (a->u.s[a->len - 1] == b->u.s[a->len - 1] &&
                                     memcmp(a->u.s, b->u.s, a->len) == 0))) {
                    first = j;
                    break;
                }
            }
        }
        if (first == SIZE_MAX)
            return TSR_OK;
        i--;
    } else {
        tsr__idmap_begin(ids);
        for (i = 0; i < o->nlines; i++) {
            const tsr_value *a = line_id(o, i);
            if (tsr__idmap_reserve(ids, &o->alloc, line_id_key, o) != TSR_OK)
                return tsr__err(err, TSR_ENOMEM, NULL);
            first = tsr__idmap_find(ids, a->u.s, a->len, line_id_key, o);
            if (first != SIZE_MAX)
                break;
            tsr__idmap_insert(ids, a->u.s, a->len);
        }
        if (first == SIZE_MAX)
            return TSR_OK;
    }
    snprintf(path, sizeof path, "items[%zu].id", i);
    return finish_error(err, path, "duplicate line id \"%s\": items[%zu] has it already",
                        tsr__order_snippet(sn, sizeof sn, line_id(o, i)->u.s, line_id(o, i)->len),
                        first);
}

/* A 64-bit filter of line ids by their lengths and last bytes (ids tend
 * to differ there: "i1", "i2"): different bits, different ids. */
static inline uint64_t line_id_bit(const tsr_value *id)
{
    unsigned h = id->len ? (unsigned char)id->u.s[id->len - 1] + 7u * id->len : 0u;
    return (uint64_t)1 << (h & 63u);
}

/* Everything finishing checks, without changing the order.  The default
 * quantity needs no filling here: a line is born with quantity 1
 * (tsr__order_new_line) and neither the builder nor the readers can leave
 * it without one. */
static int check_order(const tsr_order *o, tsr_idmap *ids, tsr_error *err)
{
    char path[64];
    size_t i;
    uint64_t bits = 0;
    bool alike = false;
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
        alike |= (bits & line_id_bit(&rec[TSR_ITEM_ID])) != 0;
        bits |= line_id_bit(&rec[TSR_ITEM_ID]);
    }
    if ((rc = unique_line_ids(o, ids, alike, err)) != TSR_OK)
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
    tsr__idmap_free(&ids, &o->alloc);
    return rc;
}
