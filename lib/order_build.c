/*
 * order_build.c — the public order API of tessera.h: field handles by
 * name, creating and reusing orders, typed setters that check each value
 * against its field's declared type at once (a refused value changes
 * nothing), and tsr_order_parse, which tells JSON from YAML and hands the
 * text to its reader.  The checks themselves live in order.c, shared with
 * the JSON and YAML readers, so a built order obeys exactly the rules a
 * parsed one does.
 */
#include "datetime.h"
#include "order_impl.h"

#include <limits.h>
#include <stdio.h>

static const char *const record_names[TSR_REC__COUNT] = { "order", "customer", "item" };

int tsr_ruleset_field(const tsr_ruleset *rs, tsr_record record, const char *name)
{
    const tsr_record_schema *rec;
    size_t i;

    if (!rs || !name || (unsigned)record >= TSR_REC__COUNT)
        return TSR_EINVAL;
    rec = &rs->records[record];
    for (i = 0; i < rec->len; i++)
        if (strcmp(rec->fields[i].name, name) == 0)
            /* computed fields (item subtotal, total) have no handle */
            return tsr__order_input_field(rs, (tsr_record_kind)record, rec->fields[i].slot)
                       ? (int)rec->fields[i].slot : TSR_ENAME;
    return TSR_ENAME;
}

int tsr_order_new(tsr_order **out, const tsr_ruleset *rs, tsr_error *err)
{
    tsr_order *o;
    int rc;

    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_order_new: out is NULL");
    *out = NULL;
    if (!rs)
        return tsr__err(err, TSR_EINVAL, "tsr_order_new: rule set is NULL");
    o = tsr__malloc(&rs->alloc, sizeof *o);
    if (!o)
        return tsr__err(err, TSR_ENOMEM, NULL);
    if ((rc = tsr__order_init(o, rs)) != TSR_OK) {
        tsr__order_fini(o);
        tsr__free(&rs->alloc, o, sizeof *o);
        return tsr__err(err, rc, NULL);
    }
    *out = o;
    return TSR_OK;
}

void tsr_order_reset(tsr_order *order)
{
    if (order)
        tsr__order_clear(order);
}

void tsr_order_free(tsr_order *order)
{
    tsr_alloc a;
    if (!order)
        return;
    a = order->alloc;   /* the order holds its own allocator: copy it out first */
    tsr__order_fini(order);
    tsr__free(&a, order, sizeof *order);
}

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

int tsr_order_parse(tsr_order *order, const char *text, size_t len, tsr_error *err)
{
    if (!order)
        return tsr__err(err, TSR_EINVAL, "tsr_order_parse: order is NULL");
    return tsr__order_parse_text(order, text, len, err);
}

/* ---------------------------------------------------------------------
 * Setters.
 */

/* An error about a field gets the field's JSON path. */
static int at_field(tsr_error *err, int rc, tsr_record record, size_t line, const tsr_field *f)
{
    if (err)
        tsr__order_field_path(err->path, sizeof err->path, (tsr_record_kind)record, line, f->name);
    return rc;
}

/* Find the field a setter names; TSR_EINVAL for a bad handle or line. */
static int resolve(tsr_order *o, tsr_record record, int line, int field, const char *fn,
                   const tsr_field **f, size_t *ln, tsr_error *err)
{
    if (!o)
        return tsr__err(err, TSR_EINVAL, "%s: order is NULL", fn);
    if ((unsigned)record >= TSR_REC__COUNT)
        return tsr__err(err, TSR_EINVAL, "%s: %d is not a record", fn, (int)record);
    *f = field >= 0 ? tsr__order_input_field_of(o->rs, (tsr_record_kind)record, (size_t)field) : NULL;
    if (!*f)
        return tsr__err(err, TSR_EINVAL, "%s: %d is not a field handle of the %s record", fn,
                        field, record_names[record]);
    *ln = 0;
    if (record == TSR_RECORD_ITEM) {
        if (line < 0 || (size_t)line >= o->nlines)
            return tsr__err(err, TSR_EINVAL, "%s: no line %d (the order has %zu)", fn, line,
                            o->nlines);
        *ln = (size_t)line;
    }
    return TSR_OK;
}

static int type_mismatch(tsr_error *err, tsr_record record, size_t line, const tsr_field *f,
                         const char *given)
{
    if (f->type == TSR_T_LIST)
        tsr__err(err, TSR_EORDER, "%s is a list of %s; add elements with tsr_order_add_to_list",
                 f->name, tsr__type_name((tsr_type)f->elem));
    else
        tsr__err(err, TSR_EORDER, "%s is declared %s; got %s", f->name,
                 tsr__type_name((tsr_type)f->type), given);
    return at_field(err, TSR_EORDER, record, line, f);
}

static int store(tsr_order *o, tsr_record record, size_t line, const tsr_field *f,
                 const tsr_value *v, tsr_error *err)
{
    int rc = tsr__order_store(o, (tsr_record_kind)record, line, f, v, err);
    return rc == TSR_OK ? TSR_OK : at_field(err, rc, record, line, f);
}

/* A setter of a value of one type. */
static int set_typed(tsr_order *o, tsr_record record, int line, int field, uint8_t type,
                     int64_t i, const char *fn, const char *given, tsr_error *err)
{
    const tsr_field *f = NULL;
    tsr_value v;
    size_t ln = 0;
    int rc;

    if ((rc = resolve(o, record, line, field, fn, &f, &ln, err)) != TSR_OK)
        return rc;
    if (f->type != type)
        return type_mismatch(err, record, ln, f, given);
    memset(&v, 0, sizeof v);
    v.type = type;
    v.u.i = i;
    return store(o, record, ln, f, &v, err);
}

int tsr_order_set_int(tsr_order *order, tsr_record record, int line, int field, int64_t value,
                      tsr_error *err)
{
    return set_typed(order, record, line, field, TSR_T_INT, value, "tsr_order_set_int",
                     "an integer", err);
}

int tsr_order_set_bool(tsr_order *order, tsr_record record, int line, int field, int value,
                       tsr_error *err)
{
    return set_typed(order, record, line, field, TSR_T_BOOL, value != 0, "tsr_order_set_bool",
                     "a bool", err);
}

int tsr_order_set_money(tsr_order *order, tsr_record record, int line, int field,
                        int64_t minor_units, tsr_error *err)
{
    return set_typed(order, record, line, field, TSR_T_MONEY, minor_units, "tsr_order_set_money",
                     "money", err);
}

int tsr_order_set_decimal(tsr_order *order, tsr_record record, int line, int field, int64_t micro,
                          tsr_error *err)
{
    return set_typed(order, record, line, field, TSR_T_DECIMAL, micro, "tsr_order_set_decimal",
                     "a decimal", err);
}

int tsr_order_set_string(tsr_order *order, tsr_record record, int line, int field,
                         const char *value, size_t len, tsr_error *err)
{
    const tsr_field *f = NULL;
    tsr_value v;
    size_t ln = 0;
    int rc;

    if ((rc = resolve(order, record, line, field, "tsr_order_set_string", &f, &ln, err)) != TSR_OK)
        return rc;
    if (!value && len)
        return tsr__err(err, TSR_EINVAL, "tsr_order_set_string: value is NULL");
    if (f->type != TSR_T_STRING)
        return type_mismatch(err, record, ln, f, "a string");
    if (len > UINT32_MAX)
        return at_field(err, tsr__err(err, TSR_ELIMIT, "string too long"), record, ln, f);
    memset(&v, 0, sizeof v);
    v.type = TSR_T_STRING;
    v.u.s = value ? value : "";
    v.len = (uint32_t)len;
    return store(order, record, ln, f, &v, err);
}

/* How text reads as a scalar of `type`: the JSON kind it stands for. */
static tsr_otok text_token(uint8_t type, const char *text, size_t len)
{
    switch (type) {
    case TSR_T_INT:
        return TSR_OT_NUMBER;
    case TSR_T_BOOL:
        if (len == 4 && memcmp(text, "true", 4) == 0)
            return TSR_OT_TRUE;
        if (len == 5 && memcmp(text, "false", 5) == 0)
            return TSR_OT_FALSE;
        return TSR_OT_STRING;   /* refused by the conversion, with its message */
    default:
        return TSR_OT_STRING;
    }
}

int tsr_order_set_text(tsr_order *order, tsr_record record, int line, int field, const char *text,
                       size_t len, tsr_error *err)
{
    const tsr_field *f = NULL;
    tsr_value v;
    size_t ln = 0;
    int rc;

    if ((rc = resolve(order, record, line, field, "tsr_order_set_text", &f, &ln, err)) != TSR_OK)
        return rc;
    if (!text && len)
        return tsr__err(err, TSR_EINVAL, "tsr_order_set_text: text is NULL");
    if (!text)
        text = "";
    if (f->type == TSR_T_LIST)
        return type_mismatch(err, record, ln, f, "text");
    if (f->type == TSR_T_DATETIME || f->type == TSR_T_DATE) {
        /* what tsr__order_convert makes of a date or datetime its parser
         * takes, without its dispatch; one it refuses goes there, which
         * words the error */
        int64_t x;
        int32_t offset = 0;
        if ((f->type == TSR_T_DATETIME ? tsr__parse_datetime(text, len, &x, &offset)
                                        : tsr__parse_date(text, len, &x)) == TSR_OK) {
            v = (tsr_value){ .type = f->type, .offset = offset, .u.i = x };
            return store(order, record, ln, f, &v, err);
        }
    }
    rc = tsr__order_convert(order, f->type, text_token(f->type, text, len), text, len, false, &v,
                            err);
    if (rc != TSR_OK)
        return at_field(err, rc, record, ln, f);
    return store(order, record, ln, f, &v, err);
}

int tsr_order_add_promo_code(tsr_order *order, const char *code, size_t len, tsr_error *err)
{
    int rc;
    if (!order)
        return tsr__err(err, TSR_EINVAL, "tsr_order_add_promo_code: order is NULL");
    if (!code && len)
        return tsr__err(err, TSR_EINVAL, "tsr_order_add_promo_code: code is NULL");
    rc = tsr__order_add_promo(order, code ? code : "", len, err);
    if (rc != TSR_OK && err)
        snprintf(err->path, sizeof err->path, "promo_codes[%zu]", order->npromo_codes);
    return rc;
}

int tsr_order_add_to_list(tsr_order *order, tsr_record record, int line, int field,
                          const char *value, size_t len, tsr_error *err)
{
    const tsr_field *f = NULL;
    tsr_value v, list;
    size_t ln = 0;
    int rc;

    if ((rc = resolve(order, record, line, field, "tsr_order_add_to_list", &f, &ln, err)) != TSR_OK)
        return rc;
    if (!value && len)
        return tsr__err(err, TSR_EINVAL, "tsr_order_add_to_list: value is NULL");
    if (!value)
        value = "";
    if (f->type != TSR_T_LIST)
        return type_mismatch(err, record, ln, f, "a list element");
    if (record == TSR_RECORD_ORDER && f->slot == TSR_ORDER_PROMO_CODES)
        return tsr_order_add_promo_code(order, value, len, err);
    rc = tsr__order_convert(order, f->elem, text_token(f->elem, value, len), value, len, false,
                            &v, err);
    if (rc != TSR_OK)
        return at_field(err, rc, record, ln, f);
    list = (record == TSR_RECORD_ORDER ? order->order
            : record == TSR_RECORD_CUSTOMER ? order->customer
                                            : order->lines + ln * order->stride)[f->slot];
    if (list.type != TSR_T_LIST) {
        memset(&list, 0, sizeof list);
        list.type = TSR_T_LIST;
        list.elem = f->elem;
    }
    if ((rc = tsr__order_list_append(order, &list, &v, err)) != TSR_OK)
        return at_field(err, rc, record, ln, f);
    return store(order, record, ln, f, &list, err);
}

int tsr_order_set_promo_uses(tsr_order *order, const char *promo_id, int64_t customer_uses,
                             int64_t total_uses, tsr_error *err)
{
    size_t index;
    bool created;
    int rc;

    if (!order || !promo_id)
        return tsr__err(err, TSR_EINVAL, "tsr_order_set_promo_uses: %s is NULL",
                        order ? "promo_id" : "order");
    rc = tsr__order_promo_use(order, promo_id, strlen(promo_id), &index, &created, err);
    if (rc != TSR_OK) {
        if (err)
            snprintf(err->path, sizeof err->path, "promo_uses");
        return rc;
    }
    /* A negative count means "not given": the promo's limit is then not checked. */
    order->promo_uses[index].uses = customer_uses < 0 ? -1 : customer_uses;
    order->promo_uses[index].total_uses = total_uses < 0 ? -1 : total_uses;
    order->finished = false;
    return TSR_OK;
}

int tsr_order_set_redeem_points(tsr_order *order, int64_t points, tsr_error *err)
{
    return set_typed(order, TSR_RECORD_ORDER, 0, TSR_ORDER_REDEEM_POINTS, TSR_T_INT, points,
                     "tsr_order_set_redeem_points", "an integer", err);
}

int tsr_order_add_points_lot(tsr_order *order, const char *id, int64_t points,
                             const char *expires_on, tsr_error *err)
{
    char path[64];
    int64_t expires = 0;
    size_t index;
    char *copy;
    int rc;

    if (!order)
        return tsr__err(err, TSR_EINVAL, "tsr_order_add_points_lot: order is NULL");
    snprintf(path, sizeof path, "customer.points_lots[%zu]", order->nlots);
    if (!id)
        return tsr__err_path(err, TSR_EORDER, path, "a points lot needs an id");
    if ((rc = tsr__order_check_string(order, id, strlen(id), err)) != TSR_OK) {
        if (err)
            snprintf(err->path, sizeof err->path, "%s.id", path);
        return rc;
    }
    if (points < 0) {
        rc = tsr__err(err, TSR_EORDER, "points must be >= 0, got %lld", (long long)points);
        if (err)
            snprintf(err->path, sizeof err->path, "%s.points", path);
        return rc;
    }
    if (expires_on && tsr__parse_date(expires_on, strlen(expires_on), &expires) != TSR_OK) {
        rc = tsr__err(err, TSR_EORDER, "expires_on is not a date (YYYY-MM-DD)");
        if (err)
            snprintf(err->path, sizeof err->path, "%s.expires_on", path);
        return rc;
    }
    if (!(copy = tsr__arena_strndup(&order->arena, id, strlen(id))))
        return tsr__err(err, TSR_ENOMEM, NULL);
    if ((rc = tsr__order_new_lot(order, &index, err)) != TSR_OK)
        return rc;
    order->lots[index].id = copy;
    order->lots[index].points = points;
    order->lots[index].has_expires = expires_on != NULL;
    order->lots[index].expires_on = expires;
    return TSR_OK;
}

/* A string value the order owns (its bytes already in the arena). */
static void string_value(tsr_value *v, const char *s, size_t len)
{
    memset(v, 0, sizeof *v);
    v->type = TSR_T_STRING;
    v->u.s = s;
    v->len = (uint32_t)len;
}

int tsr_order_add_line(tsr_order *order, const char *id, const char *kind, int64_t quantity,
                       int *line, tsr_error *err)
{
    char path[64];
    tsr_value *slots;
    size_t n, index, id_len, kind_len;
    char *copy;
    int rc;

    if (!order)
        return tsr__err(err, TSR_EINVAL, "tsr_order_add_line: order is NULL");
    n = order->nlines;
    if (n >= order->rs->limits.max_order_lines || n >= INT_MAX) {
        snprintf(path, sizeof path, "items[%zu]", n);
        return tsr__err_path(err, TSR_ELIMIT, path, "an order may have at most %zu lines",
                             order->rs->limits.max_order_lines);
    }
    /* Everything is checked before the line exists, so a refusal adds nothing. */
    if (!id || !kind) {
        snprintf(path, sizeof path, "items[%zu].%s", n, id ? "kind" : "id");
        return tsr__err_path(err, TSR_EORDER, path, "a line needs %s", id ? "a kind" : "an id");
    }
    id_len = strlen(id);
    kind_len = strlen(kind);
    if ((rc = tsr__order_check_string(order, id, id_len, err)) != TSR_OK ||
        (rc = tsr__order_check_string(order, kind, kind_len, err)) != TSR_OK) {
        if (err)
            snprintf(err->path, sizeof err->path, "items[%zu].%s", n,
                     tsr__order_check_string(order, id, id_len, NULL) ? "id" : "kind");
        return rc;
    }
    if (quantity < 1) {
        snprintf(path, sizeof path, "items[%zu].quantity", n);
        return tsr__err_path(err, TSR_EORDER, path, "quantity must be at least 1, got %lld",
                             (long long)quantity);
    }
    /* Both strings in one block of the arena ("id\0kind\0"); the checks
     * above are all the built-in rules ask of id, kind and quantity, so
     * the three slots are written directly, as tsr__order_store would. */
    if (!(copy = tsr__arena_alloc(&order->arena, id_len + kind_len + 2)))
        return tsr__err(err, TSR_ENOMEM, NULL);
    memcpy(copy, id, id_len);
    copy[id_len] = '\0';
    memcpy(copy + id_len + 1, kind, kind_len);
    copy[id_len + 1 + kind_len] = '\0';
    if ((rc = tsr__order_new_line(order, &index, err)) != TSR_OK)
        return rc;
    slots = order->lines + index * order->stride;
    string_value(&slots[TSR_ITEM_ID], copy, id_len);
    string_value(&slots[TSR_ITEM_KIND], copy + id_len + 1, kind_len);
    slots[TSR_ITEM_QUANTITY].u.i = quantity;   /* new_line made it an int */
    if (line)
        *line = (int)index;
    return TSR_OK;
}
