/*
 * schema.c — JSON Schemas (draft 2020-12) of rule files, orders and rule
 * tests, generated from the key sets the readers check keys with (keys.h),
 * for editors (yaml-language-server) and other tools: `tessera schema`.
 *
 * Every mapping becomes an object with `additionalProperties: false`, so a
 * misspelt key is flagged where the reader would refuse it; each property
 * carries the key's description, a title saying its type in words (what
 * the reference's type column shows), its default and an example.
 * Expressions are text (or a plain number or bool, which YAML gives for
 * `price: 2500.00` and `when: true`).  The schema checks shapes, not
 * meaning: whether an expression type-checks is for `tessera check`.
 *
 * Given a rule set, the order schema knows the fields its `schema:`
 * declares (and no others), and names in orders and tests (categories,
 * segments, tiers, offers, rules) are offered from its ids; without one,
 * orders may carry further fields of any scalar type.
 *
 * The text is built compact and then indented (two spaces), so the
 * committed docs/schema files diff well.
 */
#include "keys.h"
#include "rules.h"

#include <stdio.h>

#define MAX_DEFS 64

typedef struct gen {
    tsr_buf *b;
    const tsr_ruleset *rs;              /* NULL: a schema for any rule set */
    const tsr_keyset *defs[MAX_DEFS];   /* key sets under $defs, in order found */
    size_t ndefs;
    int rc;
} gen;

static const char *const scalar_types = "[\"string\", \"number\", \"boolean\"]";
static const char *const decimal_pattern = "^-?[0-9]+(\\\\.[0-9]+)?$";
static const char *const date_pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
static const char *const datetime_pattern =
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\\\.[0-9]{1,6})?)?"
    "([Zz]|[+-][0-9]{2}:?[0-9]{2})$";
static const char *const name_pattern = "^[A-Za-z_][A-Za-z0-9_]*$";

static void put(gen *g, const char *s)
{
    tsr__buf_puts(g->b, s);
}

static void str(gen *g, const char *s)
{
    tsr__buf_json_string(g->b, s, strlen(s));
}

/* "name": */
static void key(gen *g, const char *name)
{
    str(g, name);
    tsr__buf_putc(g->b, ':');
}

/* ---------------------------------------------------------------------
 * Key sets to put under $defs.
 */
static void add_def(gen *g, const tsr_keyset *ks)
{
    size_t i;
    for (i = 0; i < g->ndefs; i++)
        if (g->defs[i] == ks)
            return;
    if (g->ndefs == MAX_DEFS) {
        g->rc = TSR_ELIMIT;
        return;
    }
    g->defs[g->ndefs++] = ks;
}

static void ref(gen *g, const tsr_keyset *ks)
{
    add_def(g, ks);
    tsr__buf_printf(g->b, "{\"$ref\":\"#/$defs/%s\"}", ks->name);
}

/* ---------------------------------------------------------------------
 * Ids of the rule set that a value may name (TSR_KI_*).
 */
static size_t id_count(const tsr_ruleset *rs, int ids)
{
    switch (ids) {
    case TSR_KI_CATEGORY: return rs->ncategories;
    case TSR_KI_SEGMENT: return rs->nsegments;
    case TSR_KI_TIER: return rs->ntiers;
    case TSR_KI_OFFER: return rs->noffers;
    case TSR_KI_DISCOUNT: return rs->ndiscounts;
    case TSR_KI_EARN: return rs->loyalty.nearn;
    case TSR_KI_TAX: return rs->taxes.nrates;
    default: return 0;
    }
}

static const char *id_at(const tsr_ruleset *rs, int ids, size_t i)
{
    switch (ids) {
    case TSR_KI_CATEGORY: return rs->categories[i].id;
    case TSR_KI_SEGMENT: return rs->segments[i].id;
    case TSR_KI_TIER: return rs->tiers[i].id;
    case TSR_KI_OFFER: return rs->offers[i].id;
    case TSR_KI_DISCOUNT: return rs->discounts[i].id;
    case TSR_KI_TAX: return rs->taxes.rates[i].id;
    default: return rs->loyalty.earn[i].id;
    }
}

/* "enum":[ids...] (with null when `null`). */
static void id_enum(gen *g, int ids, bool null)
{
    size_t i, n = id_count(g->rs, ids);
    put(g, "\"enum\":[");
    for (i = 0; i < n; i++) {
        if (i)
            put(g, ",");
        str(g, id_at(g->rs, ids, i));
    }
    if (null)
        put(g, n ? ",null" : "null");
    put(g, "]");
}

static bool restrict_ids(const gen *g, const tsr_key *k)
{
    return g->rs && k->ids != TSR_KI_NONE;
}

/* The rule names of the trace a rule test may expect: SECTION.ID. */
static void rule_names(gen *g, const tsr_key *k)
{
    static const int section_ids[] = { TSR_KI_CATEGORY, -1, TSR_KI_DISCOUNT, TSR_KI_EARN,
                                       TSR_KI_OFFER, TSR_KI_TAX };
    const tsr_ruleset *rs = g->rs;
    size_t s, i;
    bool first = true;

    put(g, "\"type\":\"array\",\"items\":{");
    if (!rs) {
        /* ^(categories|promo_codes|...)\.[^.]+$ or loyalty.redeem */
        put(g, "\"type\":\"string\",\"pattern\":\"^((");
        for (s = 0; s < k->nvalues; s++)
            tsr__buf_printf(g->b, "%s%s", s ? "|" : "", k->values[s]);
        put(g, ")\\\\..+|loyalty\\\\.redeem)$\"}");
        return;
    }
    put(g, "\"enum\":[");
    for (s = 0; s < k->nvalues && s < TSR_ARRAY_LEN(section_ids); s++) {
        size_t n = section_ids[s] < 0 ? rs->npromos : id_count(rs, section_ids[s]);
        for (i = 0; i < n; i++) {
            const char *id = section_ids[s] < 0 ? rs->promos[i].id : id_at(rs, section_ids[s], i);
            put(g, first ? "\"" : ",\"");
            tsr__buf_json_escaped(g->b, k->values[s], strlen(k->values[s]));
            put(g, ".");
            tsr__buf_json_escaped(g->b, id, strlen(id));
            put(g, "\"");
            first = false;
        }
    }
    if (rs->loyalty.has_redeem)
        put(g, first ? "\"loyalty.redeem\"" : ",\"loyalty.redeem\"");
    put(g, "]}");
}

/* ---------------------------------------------------------------------
 * One key.
 */

/* The type of a key in words: the property's title and the reference's
 * type column. */
static void title(gen *g, const tsr_key *k)
{
    char t[128];
    size_t i;

    switch ((tsr_kshape)k->shape) {
    case TSR_KS_TEXT: snprintf(t, sizeof t, "text"); break;
    case TSR_KS_STRING: snprintf(t, sizeof t, "string"); break;
    case TSR_KS_INT:
        if (k->min == k->max)
            snprintf(t, sizeof t, "integer: %lld", (long long)k->min);
        else if (k->min == INT64_MIN && k->max == INT64_MAX)
            snprintf(t, sizeof t, "integer");
        else if (k->max == INT64_MAX || k->max == INT32_MAX)
            snprintf(t, sizeof t, "integer, at least %lld", (long long)k->min);
        else
            snprintf(t, sizeof t, "integer, %lld to %lld", (long long)k->min, (long long)k->max);
        break;
    case TSR_KS_BOOL: snprintf(t, sizeof t, "true or false"); break;
    case TSR_KS_DECIMAL: {
        char lo[32], hi[32];
        tsr__format_decimal(lo, k->min);
        tsr__format_decimal(hi, k->max);
        snprintf(t, sizeof t, "number, %s to %s", lo, hi);
        break;
    }
    case TSR_KS_MONEY:
        snprintf(t, sizeof t, "%s", k->min >= 1 ? "amount above 0"
                                    : k->min == 0 ? "amount, 0 or more" : "amount");
        break;
    case TSR_KS_ENUM:
        t[0] = '\0';
        for (i = 0; i < k->nvalues; i++)
            snprintf(t + strlen(t), sizeof t - strlen(t), "%s%s",
                     i == 0 ? "" : i + 1 == k->nvalues ? " or " : ", ", k->values[i]);
        break;
    case TSR_KS_DATE: snprintf(t, sizeof t, "date"); break;
    case TSR_KS_DATETIME: snprintf(t, sizeof t, "datetime"); break;
    case TSR_KS_CURRENCY: snprintf(t, sizeof t, "currency code"); break;
    case TSR_KS_HOURS: snprintf(t, sizeof t, "time window"); break;
    case TSR_KS_CONDITION: snprintf(t, sizeof t, "condition"); break;
    case TSR_KS_LINE_CONDITION: snprintf(t, sizeof t, "condition per line"); break;
    case TSR_KS_AMOUNT: snprintf(t, sizeof t, "amount expression"); break;
    case TSR_KS_LINE_AMOUNT: snprintf(t, sizeof t, "amount expression per line"); break;
    case TSR_KS_PERCENT: snprintf(t, sizeof t, "percent expression"); break;
    case TSR_KS_TEXT_LIST: snprintf(t, sizeof t, "list of text"); break;
    case TSR_KS_STRING_LIST: snprintf(t, sizeof t, "list of strings"); break;
    case TSR_KS_WEEKDAYS: snprintf(t, sizeof t, "list of weekdays"); break;
    case TSR_KS_MAP: snprintf(t, sizeof t, "mapping: %s", k->sub->name); break;
    case TSR_KS_LIST: snprintf(t, sizeof t, "list of %s", k->sub->name); break;
    case TSR_KS_MAP_OF: snprintf(t, sizeof t, "mapping of ids to %s", k->sub->name); break;
    case TSR_KS_TABLES: snprintf(t, sizeof t, "mapping of tables"); break;
    case TSR_KS_SEGMENTS: snprintf(t, sizeof t, "mapping of conditions"); break;
    case TSR_KS_FIELDS: snprintf(t, sizeof t, "mapping of field types"); break;
    case TSR_KS_COUNTS: snprintf(t, sizeof t, "mapping of counts"); break;
    case TSR_KS_ORDER: snprintf(t, sizeof t, "order"); break;
    case TSR_KS_PROMO_STATUSES: snprintf(t, sizeof t, "mapping of codes to statuses"); break;
    case TSR_KS_RULE_NAMES: snprintf(t, sizeof t, "list of rule names"); break;
    case TSR_KS_LINE_DISCOUNTS: snprintf(t, sizeof t, "mapping or list of discount ids"); break;
    case TSR_KS_LINE_TAX: snprintf(t, sizeof t, "amount, ~, or mapping: %s", k->sub->name); break;
    case TSR_KS_AMOUNTS: snprintf(t, sizeof t, "mapping of ids to amounts"); break;
    }
    if (k->flags & TSR_KF_NULL && (k->shape == TSR_KS_TEXT || k->shape == TSR_KS_ENUM ||
                                   k->shape == TSR_KS_DATE))
        snprintf(t + strlen(t), sizeof t - strlen(t), ", or ~");
    key(g, "title");
    str(g, t);
}

/* "type":[T, "null"] or "type":T. */
static void type(gen *g, const char *types, bool null)
{
    put(g, "\"type\":");
    if (!null) {
        put(g, types);
        return;
    }
    if (types[0] == '[')
        tsr__buf_printf(g->b, "%.*s, \"null\"]", (int)strlen(types) - 1, types);
    else
        tsr__buf_printf(g->b, "[%s, \"null\"]", types);
}

static void int_range(gen *g, int64_t min, int64_t max)
{
    if (min != INT64_MIN)
        tsr__buf_printf(g->b, ",\"minimum\":%lld", (long long)min);
    if (max != INT64_MAX)
        tsr__buf_printf(g->b, ",\"maximum\":%lld", (long long)max);
}

static void money(gen *g, int64_t min, bool null)
{
    type(g, "[\"number\", \"string\"]", null);
    tsr__buf_printf(g->b, ",\"pattern\":\"%s\"", decimal_pattern);
    if (min >= 1)
        put(g, ",\"exclusiveMinimum\":0");
    else if (min == 0)
        put(g, ",\"minimum\":0");
}

static void condition(gen *g)
{
    put(g, "\"type\":[\"string\", \"boolean\"],\"minLength\":1");
}

static void expression(gen *g)
{
    put(g, "\"type\":[\"string\", \"number\"],\"minLength\":1");
}

static void order_value(gen *g, uint8_t type_, uint8_t elem);

/* What the value of key k may be (the schema's assertions). */
static void shape(gen *g, const tsr_key *k)
{
    bool null = (k->flags & TSR_KF_NULL) != 0;
    size_t i;

    switch ((tsr_kshape)k->shape) {
    case TSR_KS_TEXT:
        if (restrict_ids(g, k))
            id_enum(g, k->ids, null);
        else
            type(g, scalar_types, null);
        return;
    case TSR_KS_STRING:
        if (restrict_ids(g, k))
            id_enum(g, k->ids, null);
        else
            type(g, "\"string\"", null);
        return;
    case TSR_KS_INT:
        type(g, "\"integer\"", null);
        int_range(g, k->min, k->max);
        return;
    case TSR_KS_BOOL:
        type(g, "\"boolean\"", null);
        return;
    case TSR_KS_DECIMAL: {
        char lo[32], hi[32];
        tsr__format_decimal(lo, k->min);
        tsr__format_decimal(hi, k->max);
        type(g, "[\"number\", \"string\"]", null);
        tsr__buf_printf(g->b, ",\"pattern\":\"%s\",\"minimum\":%s,\"maximum\":%s",
                        decimal_pattern, lo, hi);
        return;
    }
    case TSR_KS_MONEY:
        money(g, k->min, null);
        return;
    case TSR_KS_ENUM:
        put(g, "\"enum\":[");
        for (i = 0; i < k->nvalues; i++) {
            if (i)
                put(g, ",");
            str(g, k->values[i]);
        }
        put(g, null ? ",null]" : "]");
        return;
    case TSR_KS_DATE:
        type(g, "\"string\"", null);
        tsr__buf_printf(g->b, ",\"pattern\":\"%s\"", date_pattern);
        return;
    case TSR_KS_DATETIME:
        type(g, "\"string\"", null);
        tsr__buf_printf(g->b, ",\"pattern\":\"%s\"", datetime_pattern);
        return;
    case TSR_KS_CURRENCY:
        put(g, "\"type\":\"string\",\"pattern\":\"^[A-Z]{3}$\"");
        return;
    case TSR_KS_HOURS:
        put(g, "\"type\":\"string\",\"pattern\":\"^[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}$\"");
        return;
    case TSR_KS_CONDITION:
    case TSR_KS_LINE_CONDITION:
        condition(g);
        return;
    case TSR_KS_AMOUNT:
    case TSR_KS_LINE_AMOUNT:
    case TSR_KS_PERCENT:
        expression(g);
        return;
    case TSR_KS_TEXT_LIST:
    case TSR_KS_STRING_LIST:
        type(g, "\"array\"", null);
        put(g, ",\"items\":{");
        if (restrict_ids(g, k))
            id_enum(g, k->ids, false);
        else
            type(g, k->shape == TSR_KS_TEXT_LIST ? scalar_types : "\"string\"", false);
        put(g, "}");
        if (k->flags & TSR_KF_NONEMPTY)
            put(g, ",\"minItems\":1");
        return;
    case TSR_KS_WEEKDAYS:
        put(g, "\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":7},"
               "\"minItems\":1");
        return;
    case TSR_KS_MAP:
        add_def(g, k->sub);
        tsr__buf_printf(g->b, "\"$ref\":\"#/$defs/%s\"", k->sub->name);
        return;
    case TSR_KS_LIST:
        put(g, "\"type\":\"array\",\"items\":");
        ref(g, k->sub);
        if (k->flags & TSR_KF_NONEMPTY)
            put(g, ",\"minItems\":1");
        return;
    case TSR_KS_MAP_OF:
        put(g, "\"type\":\"object\",\"additionalProperties\":");
        ref(g, k->sub);
        return;
    case TSR_KS_TABLES:
        tsr__buf_printf(g->b,
                        "\"type\":\"object\",\"propertyNames\":{\"pattern\":\"%s\"},"
                        "\"additionalProperties\":{\"anyOf\":["
                        "{\"type\":\"array\",\"items\":{\"type\":%s}},"
                        "{\"type\":\"object\",\"additionalProperties\":{\"type\":%s}}]}",
                        name_pattern, scalar_types, scalar_types);
        return;
    case TSR_KS_SEGMENTS:
        tsr__buf_printf(g->b, "\"type\":\"object\",\"propertyNames\":{\"pattern\":\"%s\"},"
                              "\"additionalProperties\":{",
                        name_pattern);
        condition(g);
        put(g, "}");
        return;
    case TSR_KS_FIELDS:
        tsr__buf_printf(g->b, "\"type\":\"object\",\"propertyNames\":{\"pattern\":\"%s\"},"
                              "\"additionalProperties\":{\"anyOf\":[{\"enum\":[",
                        name_pattern);
        for (i = 0; i < tsr__nfield_type_names; i++) {
            if (i)
                put(g, ",");
            str(g, tsr__field_type_names[i]);
        }
        /* [T]: a one-element list naming a scalar type (the names without "list<") */
        put(g, "]},{\"type\":\"array\",\"minItems\":1,\"maxItems\":1,\"items\":{\"enum\":[");
        for (i = 0; i < tsr__nfield_type_names; i++)
            if (strncmp(tsr__field_type_names[i], "list<", 5) != 0) {
                if (i)
                    put(g, ",");
                str(g, tsr__field_type_names[i]);
            }
        put(g, "]}}]}");
        return;
    case TSR_KS_COUNTS:
        put(g, "\"type\":\"object\",\"additionalProperties\":{\"type\":[\"integer\", \"null\"],"
               "\"minimum\":0}");
        return;
    case TSR_KS_ORDER:
        /* a mapping here; checked against the order schema by the case
         * (order_unless_error), as an order expected to fail may not fit it */
        put(g, "\"type\":\"object\"");
        return;
    case TSR_KS_PROMO_STATUSES:
        put(g, "\"type\":\"object\",\"additionalProperties\":{\"enum\":[\"accepted\",\"rejected\"");
        for (i = 0; i < k->nvalues; i++)
            tsr__buf_printf(g->b, ",\"rejected/%s\"", k->values[i]);
        put(g, "]}");
        return;
    case TSR_KS_RULE_NAMES:
        rule_names(g, k);
        return;
    case TSR_KS_LINE_DISCOUNTS:
        put(g, "\"anyOf\":[{\"type\":\"object\",\"additionalProperties\":{");
        money(g, INT64_MIN, false);
        put(g, "}},{\"type\":\"array\",\"items\":{");
        type(g, scalar_types, false);
        put(g, "}}]");
        return;
    case TSR_KS_LINE_TAX:
        /* an amount, ~ (with TSR_KF_NULL), or a mapping of `sub` */
        put(g, "\"anyOf\":[{");
        money(g, INT64_MIN, null);
        put(g, "},");
        ref(g, k->sub);
        put(g, "]");
        return;
    case TSR_KS_AMOUNTS:
        put(g, "\"type\":\"object\",");
        if (restrict_ids(g, k)) {
            put(g, "\"propertyNames\":{");
            id_enum(g, k->ids, false);
            put(g, "},");
        }
        put(g, "\"additionalProperties\":{");
        money(g, INT64_MIN, false);
        put(g, "}");
        return;
    }
}

/* A value given as YAML text (a default, an example) as JSON: numbers and
 * bools as they are where the key takes them, mappings and lists as the
 * JSON they are written in, everything else a string. */
static void value(gen *g, const tsr_key *k, const char *text)
{
    switch ((tsr_kshape)k->shape) {
    case TSR_KS_INT:
    case TSR_KS_BOOL:
    case TSR_KS_DECIMAL:
    case TSR_KS_MONEY:
        put(g, text);
        return;
    case TSR_KS_CONDITION:
    case TSR_KS_LINE_CONDITION:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
            put(g, text);
        else
            str(g, text);
        return;
    case TSR_KS_AMOUNT:
    case TSR_KS_LINE_AMOUNT:
    case TSR_KS_PERCENT: {
        int64_t v;
        if (tsr__parse_fixed(text, strlen(text), TSR_DEC_DIGITS, &v) == TSR_OK)
            put(g, text);
        else
            str(g, text);
        return;
    }
    case TSR_KS_TEXT:
    case TSR_KS_STRING:
    case TSR_KS_ENUM:
    case TSR_KS_DATE:
    case TSR_KS_DATETIME:
    case TSR_KS_CURRENCY:
    case TSR_KS_HOURS:
        str(g, text);
        return;
    default:
        put(g, text);
        return;
    }
}

static void property(gen *g, const tsr_key *k)
{
    key(g, k->name);
    put(g, "{");
    title(g, k);
    put(g, ",");
    key(g, "description");
    str(g, k->desc);
    put(g, ",");
    shape(g, k);
    if (k->dflt) {
        put(g, ",");
        key(g, "default");
        value(g, k, k->dflt);
    }
    if (k->example && !restrict_ids(g, k)) {
        put(g, ",");
        key(g, "examples");
        put(g, "[");
        value(g, k, k->example);
        put(g, "]");
    }
    put(g, "}");
}

/* ---------------------------------------------------------------------
 * Orders made for a rule set: the fields its schema declares.
 */

/* JSON Schema of an order value of a field type (expr.h). */
static void order_value(gen *g, uint8_t type_, uint8_t elem)
{
    switch ((tsr_type)type_) {
    case TSR_T_BOOL: type(g, "\"boolean\"", true); return;
    case TSR_T_INT: type(g, "\"integer\"", true); return;
    case TSR_T_DECIMAL:
    case TSR_T_MONEY: money(g, INT64_MIN, true); return;
    case TSR_T_DATE:
        type(g, "\"string\"", true);
        tsr__buf_printf(g->b, ",\"pattern\":\"%s\"", date_pattern);
        return;
    case TSR_T_DATETIME:
        type(g, "\"string\"", true);
        tsr__buf_printf(g->b, ",\"pattern\":\"%s\"", datetime_pattern);
        return;
    case TSR_T_LIST:
        type(g, "\"array\"", true);
        put(g, ",\"items\":{");
        order_value(g, elem, 0);
        put(g, "}");
        return;
    default:
        type(g, "\"string\"", true);
        return;
    }
}

static const tsr_record_schema *record_of(const gen *g, const tsr_keyset *ks, size_t *first)
{
    if (!g->rs)
        return NULL;
    if (ks == &tsr__keys_order) {
        *first = TSR_ORDER__BUILTIN;
        return &g->rs->records[TSR_REC_ORDER];
    }
    if (ks == &tsr__keys_customer) {
        *first = TSR_CUST__BUILTIN;
        return &g->rs->records[TSR_REC_CUSTOMER];
    }
    if (ks == &tsr__keys_item) {
        *first = TSR_ITEM__BUILTIN;
        return &g->rs->records[TSR_REC_ITEM];
    }
    return NULL;
}

static bool is_record(const tsr_keyset *ks)
{
    return ks == &tsr__keys_order || ks == &tsr__keys_customer || ks == &tsr__keys_item;
}

static void declared_fields(gen *g, const tsr_keyset *ks, const tsr_record_schema *rec,
                            size_t first)
{
    size_t i;
    char d[160];

    for (i = first; i < rec->len; i++) {
        const tsr_field *f = &rec->fields[i];
        put(g, ",");
        key(g, f->name);
        put(g, "{");
        key(g, "title");
        if (f->type == TSR_T_LIST)
            snprintf(d, sizeof d, "list<%s>", tsr__type_name((tsr_type)f->elem));
        else
            snprintf(d, sizeof d, "%s", tsr__type_name((tsr_type)f->type));
        str(g, d);
        put(g, ",");
        snprintf(d, sizeof d, "Declared by the rule set's `schema.%s`.",
                 ks == &tsr__keys_item ? "item" : ks->name);
        key(g, "description");
        str(g, d);
        put(g, ",");
        order_value(g, f->type, f->elem);
        put(g, "}");
    }
}

/* ---------------------------------------------------------------------
 * Objects.
 */

/* A test case's order must be an order, unless the case expects it to be
 * refused (`expect.error` is text): such an order is wrong on purpose. */
static void order_unless_error(gen *g, const tsr_keyset *ks)
{
    size_t i;
    for (i = 0; i < ks->n; i++)
        if (ks->keys[i].shape == TSR_KS_ORDER)
            break;
    if (i == ks->n)
        return;
    add_def(g, &tsr__keys_order);
    put(g, ",\"if\":{\"properties\":{\"expect\":{\"properties\":{\"error\":{\"type\":\"string\"}},"
           "\"required\":[\"error\"]}},\"required\":[\"expect\"]},\"else\":{\"properties\":{");
    key(g, ks->keys[i].name);
    put(g, "{\"$ref\":\"#/$defs/order\"}}}");
}

/* The body of the object of key set ks (without braces). */
static void object_body(gen *g, const tsr_keyset *ks)
{
    const tsr_record_schema *rec;
    size_t i, first = 0;
    bool any;

    put(g, "\"type\":\"object\",");
    key(g, "description");
    str(g, ks->desc);
    put(g, ",\"properties\":{");
    for (i = 0; i < ks->n; i++) {
        if (i)
            put(g, ",");
        property(g, &ks->keys[i]);
    }
    rec = record_of(g, ks, &first);
    if (rec)
        declared_fields(g, ks, rec, first);
    put(g, "}");
    for (i = 0, any = false; i < ks->n; i++)
        if (ks->keys[i].flags & TSR_KF_REQUIRED) {
            put(g, any ? "," : ",\"required\":[");
            str(g, ks->keys[i].name);
            any = true;
        }
    if (any)
        put(g, "]");
    /* A file with any header key is a main rule file: it needs all the
     * required ones.  An included file has none of them. */
    for (i = 0, any = false; i < ks->n; i++) {
        size_t j;
        bool more = false;
        if (!(ks->keys[i].flags & TSR_KF_MAIN))
            continue;
        put(g, any ? "," : ",\"dependentRequired\":{");
        key(g, ks->keys[i].name);
        put(g, "[");
        for (j = 0; j < ks->n; j++)
            if (j != i && (ks->keys[j].flags & TSR_KF_REQUIRED)) {
                if (more)
                    put(g, ",");
                str(g, ks->keys[j].name);
                more = true;
            }
        put(g, "]");
        any = true;
    }
    if (any)
        put(g, "}");
    order_unless_error(g, ks);
    if (is_record(ks) && !g->rs)
        tsr__buf_printf(g->b, ",\"additionalProperties\":{\"anyOf\":[{\"type\":%s},"
                              "{\"type\":\"array\",\"items\":{\"type\":%s}},{\"type\":\"null\"}]}",
                        scalar_types, scalar_types);
    else
        put(g, ",\"additionalProperties\":false");
}

static void schema(gen *g, const tsr_keyset *root, const char *title_, const char *what)
{
    size_t i;

    put(g, "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",");
    key(g, "title");
    str(g, title_);
    put(g, ",");
    key(g, "$comment");
    tsr__buf_printf(g->b, "\"Generated by `tessera schema %s` from the key tables the "
                          "reader uses; do not edit.\",", what);
    object_body(g, root);
    put(g, ",\"$defs\":{");
    /* Defining one key set may find more: g->ndefs grows while we go. */
    for (i = 0; i < g->ndefs; i++) {
        if (i)
            put(g, ",");
        key(g, g->defs[i]->name);
        put(g, "{");
        object_body(g, g->defs[i]);
        put(g, "}");
    }
    put(g, "}}");
}

/* ---------------------------------------------------------------------
 * Indenting.
 */
static void indent(tsr_buf *out, int depth)
{
    int i;
    tsr__buf_putc(out, '\n');
    for (i = 0; i < depth; i++)
        tsr__buf_put(out, "  ", 2);
}

/* Two-space indentation of compact JSON text; empty objects and arrays
 * stay `{}` and `[]`, arrays of scalars stay on one line. */
static void pretty(tsr_buf *out, const char *s, size_t n)
{
    size_t i, j;
    int depth = 0;
    bool in_str = false;

    for (i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            tsr__buf_putc(out, c);
            if (c == '\\' && i + 1 < n)
                tsr__buf_putc(out, s[++i]);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            tsr__buf_putc(out, c);
            break;
        case '{':
        case '[':
            /* a flat array (no nested container) stays on one line */
            if (c == '[') {
                bool flat = true, q = false;
                for (j = i + 1; j < n; j++) {
                    if (q) {
                        if (s[j] == '\\')
                            j++;
                        else if (s[j] == '"')
                            q = false;
                    } else if (s[j] == '"') {
                        q = true;
                    } else if (s[j] == '{' || s[j] == '[') {
                        flat = false;
                        break;
                    } else if (s[j] == ']') {
                        break;
                    }
                }
                if (flat) {
                    for (q = false; i < n; i++) {
                        tsr__buf_putc(out, s[i]);
                        if (q) {
                            if (s[i] == '\\')
                                tsr__buf_putc(out, s[++i]);
                            else if (s[i] == '"')
                                q = false;
                        } else if (s[i] == '"') {
                            q = true;
                        } else if (s[i] == ',' && s[i + 1] != ' ') {
                            tsr__buf_putc(out, ' ');
                        } else if (s[i] == ']') {
                            break;
                        }
                    }
                    break;
                }
            }
            tsr__buf_putc(out, c);
            if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
                tsr__buf_putc(out, s[++i]);
                break;
            }
            indent(out, ++depth);
            break;
        case '}':
        case ']':
            indent(out, --depth);
            tsr__buf_putc(out, c);
            break;
        case ',':
            tsr__buf_putc(out, c);
            if (i + 1 < n && s[i + 1] == ' ')
                i++;
            indent(out, depth);
            break;
        case ':':
            tsr__buf_put(out, ": ", 2);
            break;
        default:
            tsr__buf_putc(out, c);
            break;
        }
    }
    tsr__buf_putc(out, '\n');
}

/* ---------------------------------------------------------------------
 * API.
 */
int tsr_schema_json(char *buf, size_t size, tsr_schema_kind kind, const tsr_ruleset *rs)
{
    tsr_alloc alloc;
    tsr_buf compact, text;
    gen g;
    int rc;

    if (kind != TSR_SCHEMA_RULES && kind != TSR_SCHEMA_ORDER && kind != TSR_SCHEMA_TEST)
        return TSR_EINVAL;
    if (rs)
        alloc = rs->alloc;
    else
        tsr__alloc_init(&alloc, NULL);
    tsr__buf_init(&compact, &alloc);
    tsr__buf_init(&text, &alloc);
    memset(&g, 0, sizeof g);
    g.b = &compact;
    g.rs = kind == TSR_SCHEMA_RULES ? NULL : rs;
    switch (kind) {
    case TSR_SCHEMA_RULES:
        schema(&g, &tsr__keys_rules, "Tessera rule file", "rules");
        break;
    case TSR_SCHEMA_ORDER:
        schema(&g, &tsr__keys_order, "Tessera order", "order");
        break;
    default:
        schema(&g, &tsr__keys_test, "Tessera rule-test file", "test");
        break;
    }
    if (!compact.failed)
        pretty(&text, compact.data, compact.len);
    rc = g.rc != TSR_OK ? g.rc : compact.failed ? TSR_ENOMEM
                                                : tsr__buf_copy_out(&text, buf, size);
    tsr__buf_free(&compact);
    tsr__buf_free(&text);
    return rc;
}
