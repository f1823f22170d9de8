/* Unit tests for orders (lib/order*.c): the JSON and YAML readers, the
 * checks every input path shares (types, built-in rules, limits, required
 * fields, unique line ids) with the exact JSON path of each error, the
 * builder API, reuse without allocation, and out-of-memory handling. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "order.h"
#include "alloc_fixture.h"

static const char rules[] =
    "tessera: 1\nruleset: order-test\nversion: \"1\"\ncurrency: EUR\n"
    "schema:\n"
    "  item: { height_cm: int, zone: string, event_start: datetime, validated: bool,"
    " ratio: decimal, labels: list<string> }\n"
    "  customer: { visits: int, birthday: date, member: bool, spend_12m: money }\n"
    "  order: { note: string }\n"
    "categories:\n"
    "  - { id: child, for: item.kind == \"ticket\", when: item.height_cm < 130, price: 10.00 }\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 20.00 }\n"
    "  - { id: student, for: item.kind == \"ticket\", selectable: true, price: 15.00 }\n";

/* SPEC §5's example order, with every built-in and schema field. */
static const char full_json[] =
    "{\n"
    "  \"id\": \"A-1001\",\n"
    "  \"datetime\": \"2026-06-13T14:30:00+03:00\",\n"
    "  \"channel\": \"web\",\n"
    "  \"note\": \"gift\",\n"
    "  \"customer\": { \"id\": \"C-77\", \"tags\": [\"season_pass\", \"vip\"], \"points_balance\": 1200,\n"
    "                \"visits\": 3, \"birthday\": \"2015-06-15\", \"member\": true,\n"
    "                \"spend_12m\": \"1500.50\",\n"
    "                \"points_lots\": [ { \"id\": \"L1\", \"points\": 100, \"expires_on\": \"2026-12-31\" },\n"
    "                                 { \"id\": \"L2\", \"points\": 50 } ] },\n"
    "  \"items\": [\n"
    "    { \"id\": \"t1\", \"kind\": \"ticket\", \"sku\": \"PARK-DAY\", \"quantity\": 1, \"height_cm\": 118,\n"
    "      \"zone\": \"A\", \"event_start\": \"2026-06-14T10:00:00Z\", \"validated\": false,\n"
    "      \"ratio\": 0.25, \"labels\": [\"x\", \"y\"] },\n"
    "    { \"id\": \"f1\", \"kind\": \"fnb\", \"sku\": \"COLA-05\", \"quantity\": 2, \"price\": \"150.00\" },\n"
    "    { \"id\": \"t2\", \"kind\": \"ticket\", \"category\": \"student\", \"price\": 24.5 }\n"
    "  ],\n"
    "  \"promo_codes\": [\"DOC-123456\", \"SUMMER\"],\n"
    "  \"promo_uses\": { \"doctors\": 0 },\n"
    "  \"promo_total_uses\": { \"doctors\": 17, \"summer\": 3 },\n"
    "  \"redeem_points\": 300\n"
    "}\n";

/* The same order in YAML, plain and quoted scalars as a person writes them. */
static const char full_yaml[] =
    "id: A-1001\n"
    "datetime: 2026-06-13T14:30:00+03:00\n"
    "channel: web\n"
    "note: gift\n"
    "customer:\n"
    "  id: C-77\n"
    "  tags: [season_pass, vip]\n"
    "  points_balance: 1200\n"
    "  visits: 3\n"
    "  birthday: 2015-06-15\n"
    "  member: true\n"
    "  spend_12m: 1500.50\n"
    "  points_lots:\n"
    "    - { id: L1, points: 100, expires_on: 2026-12-31 }\n"
    "    - { id: L2, points: 50 }\n"
    "items:\n"
    "  - { id: t1, kind: ticket, sku: PARK-DAY, quantity: 1, height_cm: 118, zone: A,\n"
    "      event_start: '2026-06-14T10:00:00Z', validated: false, ratio: 0.25, labels: [x, y] }\n"
    "  - { id: f1, kind: fnb, sku: COLA-05, quantity: 2, price: \"150.00\" }\n"
    "  - { id: t2, kind: ticket, category: student, price: 24.5 }\n"
    "promo_codes: [DOC-123456, SUMMER]\n"
    "promo_uses: { doctors: 0 }\n"
    "promo_total_uses: { doctors: 17, summer: 3 }\n"
    "redeem_points: 300\n";

static const char park10_line[] =
    "{\"id\":\"P-0001\",\"datetime\":\"2026-10-20T05:00:00+03:00\",\"customer\":{\"id\":\"C-0001\","
    "\"tags\":[],\"member\":true,\"birthday\":\"1980-04-25\"},\"items\":[{\"id\":\"i1\",\"kind\":"
    "\"ticket\",\"quantity\":2,\"height_cm\":126},{\"id\":\"i2\",\"kind\":\"fnb\",\"quantity\":3,"
    "\"price\":\"24.99\"},{\"id\":\"i3\",\"kind\":\"fnb\",\"quantity\":1,\"price\":\"12.50\"}],"
    "\"promo_codes\":[\"DOC2022\"]}";

/* ---------------------------------------------------------------------
 * Fixture: a rule set (default limits) and an order for it.
 */
typedef struct fixture {
    tsr_ruleset *rs;
    tsr_order *order;
    tsr_error err;
    int height_cm, zone, event_start, validated, ratio, labels, visits, birthday, member, spend;
} fixture;

static tsr_ruleset *load(const tsr_load_options *opts)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    if (tsr_ruleset_load_string(&rs, rules, strlen(rules), "order-test.yaml", opts, &err) != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fprintf(stderr, "rule set did not load: %s\n", buf);
        return NULL;
    }
    return rs;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || !(f->rs = load(NULL)) || tsr_order_new(&f->order, f->rs, &f->err) != TSR_OK)
        return -1;
    f->height_cm = tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "height_cm");
    f->zone = tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "zone");
    f->event_start = tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "event_start");
    f->validated = tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "validated");
    f->ratio = tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "ratio");
    f->labels = tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "labels");
    f->visits = tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "visits");
    f->birthday = tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "birthday");
    f->member = tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "member");
    f->spend = tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "spend_12m");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tsr_order_free(f->order);
    tsr_ruleset_free(f->rs);
    free(f);
    return 0;
}

static int parse(fixture *f, const char *text)
{
    return tsr_order_parse(f->order, text, strlen(text), &f->err);
}

static const tsr_value *line_value(const tsr_order *o, size_t line, int slot)
{
    return &o->lines[line * o->stride + (size_t)slot];
}

static void assert_string_value(const tsr_value *v, const char *s)
{
    assert_int_equal(v->type, TSR_T_STRING);
    assert_int_equal(v->len, strlen(s));
    assert_memory_equal(v->u.s, s, v->len);
    assert_int_equal(v->u.s[v->len], '\0');   /* copies are NUL-terminated */
}

/* The parse fails with this code at this path, its message containing `msg`;
 * and the order is left cleared. */
static void expect_error(fixture *f, const char *text, int code, const char *path, const char *msg)
{
    int rc = parse(f, text);
    if (rc != code || strcmp(f->err.path, path) != 0 || !strstr(f->err.message, msg)) {
        fprintf(stderr, "text: %s\nwant %d at '%s' containing '%s'\n got %d at '%s': %s\n", text,
                code, path, msg, rc, f->err.path, f->err.message);
        fail();
    }
    assert_int_equal(f->err.code, code);
    assert_int_equal(f->order->nlines, 0);
    assert_int_equal(f->order->order[TSR_ORDER_DATETIME].type, TSR_T_MISSING);
    assert_int_equal(f->order->npromo_codes, 0);
    assert_false(f->order->has_customer);
}

/* An order with one line holding the given extra item fields. */
static const char *with_item(char *buf, size_t size, const char *fields)
{
    snprintf(buf, size,
             "{\"datetime\":\"2026-06-13T14:30:00+03:00\",\"items\":[{\"id\":\"t1\",\"kind\":"
             "\"ticket\"%s%s}]}", fields[0] ? "," : "", fields);
    return buf;
}

/* An order with the given customer fields. */
static const char *with_customer(char *buf, size_t size, const char *fields)
{
    snprintf(buf, size,
             "{\"datetime\":\"2026-06-13T14:30:00+03:00\",\"customer\":{%s},"
             "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}]}", fields);
    return buf;
}

static void expect_item_error(fixture *f, const char *fields, int code, const char *path,
                              const char *msg)
{
    char buf[4096];
    expect_error(f, with_item(buf, sizeof buf, fields), code, path, msg);
}

static void expect_customer_error(fixture *f, const char *fields, int code, const char *path,
                                  const char *msg)
{
    char buf[4096];
    expect_error(f, with_customer(buf, sizeof buf, fields), code, path, msg);
}

/* Two orders hold the same values. */
static void assert_values_equal(const tsr_value *a, const tsr_value *b)
{
    uint32_t i;
    assert_int_equal(a->type, b->type);
    switch (a->type) {
    case TSR_T_MISSING:
        return;
    case TSR_T_STRING:
        assert_int_equal(a->len, b->len);
        assert_memory_equal(a->u.s, b->u.s, a->len);
        return;
    case TSR_T_LIST:
        assert_int_equal(a->elem, b->elem);
        assert_int_equal(a->len, b->len);
        for (i = 0; i < a->len; i++)
            assert_values_equal(&a->u.list[i], &b->u.list[i]);
        return;
    case TSR_T_DATETIME:
        assert_int_equal(a->offset, b->offset);
        /* fall through */
    default:
        assert_int_equal(a->u.i, b->u.i);
    }
}

static void assert_orders_equal(const tsr_order *a, const tsr_order *b)
{
    const tsr_ruleset *rs = a->rs;
    size_t i;

    assert_int_equal(a->nlines, b->nlines);
    for (i = 0; i < rs->records[TSR_REC_ORDER].len; i++)
        assert_values_equal(&a->order[i], &b->order[i]);
    assert_int_equal(a->has_customer, b->has_customer);
    for (i = 0; i < rs->records[TSR_REC_CUSTOMER].len; i++)
        assert_values_equal(&a->customer[i], &b->customer[i]);
    for (i = 0; i < a->nlines * a->stride; i++)
        assert_values_equal(&a->lines[i], &b->lines[i]);
    assert_int_equal(a->npromo_codes, b->npromo_codes);
    for (i = 0; i < a->npromo_codes; i++)
        assert_string_equal(a->promo_codes[i].code, b->promo_codes[i].code);
    assert_int_equal(a->npromo_uses, b->npromo_uses);
    for (i = 0; i < a->npromo_uses; i++) {
        assert_string_equal(a->promo_uses[i].id, b->promo_uses[i].id);
        assert_int_equal(a->promo_uses[i].uses, b->promo_uses[i].uses);
        assert_int_equal(a->promo_uses[i].total_uses, b->promo_uses[i].total_uses);
    }
    assert_int_equal(a->has_redeem, b->has_redeem);
    assert_int_equal(a->redeem_points, b->redeem_points);
    assert_int_equal(a->has_lots, b->has_lots);
    assert_int_equal(a->nlots, b->nlots);
    for (i = 0; i < a->nlots; i++) {
        assert_string_equal(a->lots[i].id, b->lots[i].id);
        assert_int_equal(a->lots[i].points, b->lots[i].points);
        assert_int_equal(a->lots[i].has_expires, b->lots[i].has_expires);
        assert_int_equal(a->lots[i].expires_on, b->lots[i].expires_on);
    }
}

/* ---------------------------------------------------------------------
 * Reading valid orders.
 */
static void test_full_order_fills_every_slot(void **state)
{
    fixture *f = *state;
    tsr_order *o = f->order;
    const tsr_value *v;
    int64_t day;

    assert_int_equal(parse(f, full_json), TSR_OK);
    assert_string_value(&o->order[TSR_ORDER_ID], "A-1001");
    v = &o->order[TSR_ORDER_DATETIME];
    assert_int_equal(v->type, TSR_T_DATETIME);
    assert_int_equal(v->offset, 3 * 3600);
    /* 2026-06-13T11:30:00Z */
    assert_int_equal(v->u.i, (tsr__days_from_civil(2026, 6, 13) * 86400 + 11 * 3600 + 30 * 60) *
                                 INT64_C(1000000));
    assert_string_value(&o->order[TSR_ORDER_CHANNEL], "web");
    assert_string_value(&o->order[tsr_ruleset_field(f->rs, TSR_RECORD_ORDER, "note")], "gift");
    v = &o->order[TSR_ORDER_PROMO_CODES];
    assert_int_equal(v->type, TSR_T_LIST);
    assert_int_equal(v->elem, TSR_T_STRING);
    assert_int_equal(v->len, 2);
    assert_string_value(&v->u.list[0], "DOC-123456");
    assert_string_value(&v->u.list[1], "SUMMER");
    assert_int_equal(o->npromo_codes, 2);
    assert_string_equal(o->promo_codes[1].code, "SUMMER");
    assert_int_equal(o->order[TSR_ORDER_REDEEM_POINTS].u.i, 300);
    assert_true(o->has_redeem);
    assert_int_equal(o->redeem_points, 300);
    assert_int_equal(o->npromo_uses, 2);
    assert_string_equal(o->promo_uses[0].id, "doctors");
    assert_int_equal(o->promo_uses[0].uses, 0);
    assert_int_equal(o->promo_uses[0].total_uses, 17);
    assert_string_equal(o->promo_uses[1].id, "summer");
    assert_int_equal(o->promo_uses[1].uses, -1);
    assert_int_equal(o->promo_uses[1].total_uses, 3);

    assert_true(o->has_customer);
    assert_string_value(&o->customer[TSR_CUST_ID], "C-77");
    v = &o->customer[TSR_CUST_TAGS];
    assert_int_equal(v->type, TSR_T_LIST);
    assert_int_equal(v->elem, TSR_T_STRING);
    assert_int_equal(v->len, 2);
    assert_string_value(&v->u.list[1], "vip");
    assert_int_equal(o->customer[TSR_CUST_POINTS_BALANCE].u.i, 1200);
    assert_int_equal(o->customer[f->visits].type, TSR_T_INT);
    assert_int_equal(o->customer[f->visits].u.i, 3);
    assert_int_equal(tsr__parse_date("2015-06-15", 10, &day), TSR_OK);
    assert_int_equal(o->customer[f->birthday].type, TSR_T_DATE);
    assert_int_equal(o->customer[f->birthday].u.i, day);
    assert_int_equal(o->customer[f->member].type, TSR_T_BOOL);
    assert_int_equal(o->customer[f->member].u.i, 1);
    assert_int_equal(o->customer[f->spend].type, TSR_T_MONEY);
    assert_int_equal(o->customer[f->spend].u.i, 150050);
    assert_true(o->has_lots);
    assert_int_equal(o->nlots, 2);
    assert_string_equal(o->lots[0].id, "L1");
    assert_int_equal(o->lots[0].points, 100);
    assert_true(o->lots[0].has_expires);
    assert_false(o->lots[1].has_expires);

    assert_int_equal(o->nlines, 3);
    assert_string_value(line_value(o, 0, TSR_ITEM_ID), "t1");
    assert_string_value(line_value(o, 0, TSR_ITEM_KIND), "ticket");
    assert_string_value(line_value(o, 0, TSR_ITEM_SKU), "PARK-DAY");
    assert_int_equal(line_value(o, 0, TSR_ITEM_QUANTITY)->u.i, 1);
    assert_int_equal(line_value(o, 0, TSR_ITEM_PRICE)->type, TSR_T_MISSING);
    assert_int_equal(line_value(o, 0, f->height_cm)->type, TSR_T_INT);
    assert_int_equal(line_value(o, 0, f->height_cm)->u.i, 118);
    assert_string_value(line_value(o, 0, f->zone), "A");
    assert_int_equal(line_value(o, 0, f->event_start)->type, TSR_T_DATETIME);
    assert_int_equal(line_value(o, 0, f->event_start)->offset, 0);
    assert_int_equal(line_value(o, 0, f->validated)->type, TSR_T_BOOL);
    assert_int_equal(line_value(o, 0, f->validated)->u.i, 0);
    assert_int_equal(line_value(o, 0, f->ratio)->type, TSR_T_DECIMAL);
    assert_int_equal(line_value(o, 0, f->ratio)->u.i, 250000);
    assert_int_equal(line_value(o, 0, f->labels)->len, 2);
    assert_int_equal(line_value(o, 1, TSR_ITEM_QUANTITY)->u.i, 2);
    assert_int_equal(line_value(o, 1, TSR_ITEM_PRICE)->type, TSR_T_MONEY);
    assert_int_equal(line_value(o, 1, TSR_ITEM_PRICE)->u.i, 15000);
    assert_int_equal(line_value(o, 1, f->height_cm)->type, TSR_T_MISSING);
    assert_string_value(line_value(o, 2, TSR_ITEM_CATEGORY), "student");
    assert_int_equal(line_value(o, 2, TSR_ITEM_PRICE)->u.i, 2450);   /* a JSON number */
    assert_int_equal(line_value(o, 2, TSR_ITEM_QUANTITY)->u.i, 1);   /* the default */
    /* computed fields are the evaluator's */
    assert_int_equal(line_value(o, 0, TSR_ITEM_SUBTOTAL)->type, TSR_T_MISSING);
    assert_int_equal(line_value(o, 0, TSR_ITEM_TOTAL)->type, TSR_T_MISSING);
}

static void test_park10_order_lines_fill_their_slots(void **state)
{
    fixture *f = *state;
    tsr_order *o = f->order;

    assert_int_equal(parse(f, park10_line), TSR_OK);
    assert_int_equal(o->nlines, 3);
    assert_int_equal(line_value(o, 0, TSR_ITEM_QUANTITY)->u.i, 2);
    assert_int_equal(line_value(o, 0, f->height_cm)->u.i, 126);
    assert_int_equal(line_value(o, 0, TSR_ITEM_PRICE)->type, TSR_T_MISSING);
    assert_string_value(line_value(o, 1, TSR_ITEM_KIND), "fnb");
    assert_int_equal(line_value(o, 1, TSR_ITEM_PRICE)->u.i, 2499);
    assert_int_equal(line_value(o, 2, TSR_ITEM_PRICE)->u.i, 1250);
    assert_int_equal(o->customer[TSR_CUST_TAGS].type, TSR_T_LIST);   /* present, empty */
    assert_int_equal(o->customer[TSR_CUST_TAGS].len, 0);
    assert_int_equal(o->customer[f->member].u.i, 1);
    assert_int_equal(o->order[TSR_ORDER_PROMO_CODES].len, 1);
    assert_false(o->has_redeem);
    assert_false(o->has_lots);
}

static void test_park10_workload_parses_completely(void **state)
{
    fixture *f = *state;
    FILE *in = fopen(TSR_SOURCE_DIR "/../shared/bench/park10/orders.jsonl", "r");
    tsr_ruleset *rs;
    tsr_order *o;
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t got;
    static const char park_rules[] =
        "tessera: 1\nruleset: park10\ncurrency: EUR\n"
        "schema:\n  item: { height_cm: int }\n  customer: { birthday: date, member: bool }\n";

    if (!in)
        skip();   /* the shared workload lives beside the repository */
    assert_int_equal(tsr_ruleset_load_string(&rs, park_rules, strlen(park_rules), NULL, NULL,
                                             &f->err), TSR_OK);
    assert_int_equal(tsr_order_new(&o, rs, &f->err), TSR_OK);
    while ((got = getline(&line, &cap, in)) > 0) {
        if (tsr_order_parse(o, line, (size_t)got, &f->err) != TSR_OK)
            fail_msg("order %zu: %s: %s", n + 1, f->err.path, f->err.message);
        n++;
    }
    assert_int_equal(n, 1024);
    free(line);
    fclose(in);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

static void test_yaml_order_equals_json_order(void **state)
{
    fixture *f = *state;
    tsr_order *json;

    assert_int_equal(tsr_order_new(&json, f->rs, &f->err), TSR_OK);
    assert_int_equal(tsr_order_parse(json, full_json, strlen(full_json), &f->err), TSR_OK);
    if (parse(f, full_yaml) != TSR_OK)
        fail_msg("%s: %s", f->err.path, f->err.message);
    assert_orders_equal(f->order, json);
    tsr_order_free(json);
}

static void test_yaml_scalars_are_typed_by_how_they_are_written(void **state)
{
    fixture *f = *state;
    const char *base = "datetime: 2026-06-13T14:30:00+03:00\ncustomer: { birthday: '2015-06-15' }\n";
    char buf[512];

    /* a quoted date is a date too */
    snprintf(buf, sizeof buf, "%sitems: [ { id: t1, kind: ticket, height_cm: 118 } ]\n", base);
    assert_int_equal(parse(f, buf), TSR_OK);
    assert_int_equal(f->order->customer[f->birthday].type, TSR_T_DATE);
    assert_int_equal(line_value(f->order, 0, f->height_cm)->u.i, 118);
    /* a plain number where a string is expected: quote it */
    snprintf(buf, sizeof buf, "%sitems: [ { id: t1, kind: ticket, zone: 118 } ]\n", base);
    expect_error(f, buf, TSR_EORDER, "items[0].zone", "quote it");
    /* a quoted number where an integer is expected */
    snprintf(buf, sizeof buf, "%sitems: [ { id: t1, kind: ticket, height_cm: \"118\" } ]\n", base);
    expect_error(f, buf, TSR_EORDER, "items[0].height_cm", "expected an integer, got a string");
    /* an id must be a string: a plain 7 is a number */
    snprintf(buf, sizeof buf, "%sitems: [ { id: 7, kind: ticket } ]\n", base);
    expect_error(f, buf, TSR_EORDER, "items[0].id", "expected a string, got the number 7");
    /* ~ is null: the field is absent */
    snprintf(buf, sizeof buf, "%sitems: [ { id: t1, kind: ticket, zone: ~, quantity: +3 } ]\n", base);
    assert_int_equal(parse(f, buf), TSR_OK);
    assert_int_equal(line_value(f->order, 0, f->zone)->type, TSR_T_MISSING);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_QUANTITY)->u.i, 3);
}

static void test_yaml_errors_carry_path_and_position(void **state)
{
    fixture *f = *state;
    const char *text = "datetime: 2026-06-13T14:30:00+03:00\n"
                       "items:\n"
                       "  - id: t1\n"
                       "    kind: ticket\n"
                       "    heigth_cm: 120\n";
    assert_int_equal(parse(f, text), TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].heigth_cm");
    assert_non_null(strstr(f->err.message, "did you mean \"height_cm\""));
    assert_int_equal(f->err.line, 5);
    assert_int_equal(f->err.column, 5);
    /* a syntax error is an order error with a line and column */
    assert_int_equal(parse(f, "datetime: [\n"), TSR_EORDER);
    assert_true(f->err.line > 0);
    /* the root must be a mapping */
    expect_error(f, "- 1\n- 2\n", TSR_EORDER, "$", "must be a mapping");
}

static void test_null_means_absent_and_quantity_defaults_to_one(void **state)
{
    fixture *f = *state;
    char buf[1024];

    assert_int_equal(parse(f, with_item(buf, sizeof buf,
                                        "\"quantity\":null,\"zone\":null,\"price\":null")), TSR_OK);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_QUANTITY)->type, TSR_T_INT);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_QUANTITY)->u.i, 1);
    assert_int_equal(line_value(f->order, 0, f->zone)->type, TSR_T_MISSING);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_PRICE)->type, TSR_T_MISSING);
    assert_int_equal(parse(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"customer\":null,"
                              "\"promo_codes\":null,\"items\":[{\"id\":\"a\",\"kind\":\"b\"}]}"),
                     TSR_OK);
    assert_false(f->order->has_customer);
    assert_int_equal(f->order->order[TSR_ORDER_PROMO_CODES].type, TSR_T_MISSING);
}

static void test_money_is_exact_in_the_currency(void **state)
{
    fixture *f = *state;
    char buf[1024];

    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"price\":\"1.500\"")), TSR_OK);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_PRICE)->u.i, 150);
    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"price\":24.99")), TSR_OK);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_PRICE)->u.i, 2499);
    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"price\":0")), TSR_OK);
    assert_int_equal(line_value(f->order, 0, TSR_ITEM_PRICE)->u.i, 0);
    expect_item_error(f, "\"price\":\"1.505\"", TSR_EORDER, "items[0].price",
                      "1.505 has more decimals than EUR allows (2)");
    expect_item_error(f, "\"price\":1.505", TSR_EORDER, "items[0].price", "more decimals");
    expect_item_error(f, "\"price\":-1", TSR_EORDER, "items[0].price", "price must be >= 0");
    expect_item_error(f, "\"price\":\"-0.01\"", TSR_EORDER, "items[0].price", ">= 0");
    expect_item_error(f, "\"price\":\"12,50\"", TSR_EORDER, "items[0].price",
                      "expected an amount of money");
}

/* ---------------------------------------------------------------------
 * Invalid orders: each error class with its path.
 */
static void test_missing_datetime_is_refused(void **state)
{
    fixture *f = *state;
    expect_error(f, "{\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}]}", TSR_EORDER, "datetime",
                 "needs a datetime");
    expect_error(f, "{\"datetime\":null,\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}]}",
                 TSR_EORDER, "datetime", "needs a datetime");
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00\",\"items\":[]}", TSR_EORDER, "datetime",
                 "not an ISO 8601 datetime with a UTC offset");
}

static void test_items_must_be_a_non_empty_list(void **state)
{
    fixture *f = *state;
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[]}", TSR_EORDER, "items",
                 "at least one line");
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\"}", TSR_EORDER, "items",
                 "needs items");
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":{}}", TSR_EORDER, "items",
                 "expected an array, got an object");
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[null]}", TSR_EORDER,
                 "items[0]", "expected an object, got null");
}

static void test_line_needs_id_and_kind(void **state)
{
    fixture *f = *state;
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[{\"kind\":\"ticket\"}]}",
                 TSR_EORDER, "items[0].id", "needs an id");
    expect_error(f,
                 "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"b\"},"
                 "{\"id\":\"t1\"}]}", TSR_EORDER, "items[1].kind", "needs a kind");
}

static void test_duplicate_line_id_names_the_first(void **state)
{
    fixture *f = *state;
    char buf[65536];
    size_t len, i;

    expect_error(f,
                 "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[{\"id\":\"t1\",\"kind\":\"a\"},"
                 "{\"id\":\"t1\",\"kind\":\"b\"}]}",
                 TSR_EORDER, "items[1].id", "duplicate line id \"t1\": items[0] has it already");
    /* past 16 lines the check hashes: same answer */
    len = (size_t)snprintf(buf, sizeof buf, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[");
    for (i = 0; i < 40; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s{\"id\":\"l%zu\",\"kind\":\"k\"}",
                                i ? "," : "", i == 33 ? (size_t)7 : i);
    snprintf(buf + len, sizeof buf - len, "]}");
    expect_error(f, buf, TSR_EORDER, "items[33].id", "duplicate line id \"l7\": items[7]");
}

/* Up to 16 lines, ids are first told apart by their lengths and last
 * bytes: ids that share them, or fall on one bit of the filter, are still
 * compared in full, and the first duplicate is the one named. */
static void test_line_ids_alike_at_the_end_are_compared_whole(void **state)
{
    fixture *f = *state;
    /* distinct ids, many alike at the end ("i1", "j1", "k1": one length,
     * one last byte), and the empty id */
    static const char *const ok[] = { "i1", "j1", "k1", "1", "ab1", "xx1", "yyyyyyyy1", "zzzzzzzzz",
                                      "", "A", "B", "C", "D", "E", "F", "G" };
    char buf[4096];
    size_t len, i, dup;

    for (dup = 0; dup <= 15; dup++) {
        /* 16 lines; with dup < 15, line 15 repeats line dup's id */
        len = (size_t)snprintf(buf, sizeof buf, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[");
        for (i = 0; i < 16; i++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s{\"id\":\"%s\",\"kind\":\"k\"}",
                                    i ? "," : "", ok[i == 15 && dup < 15 ? dup : i]);
        snprintf(buf + len, sizeof buf - len, "]}");
        if (dup == 15) {
            assert_int_equal(parse(f, buf), TSR_OK);
            assert_int_equal(f->order->nlines, 16);
        } else {
            char msg[64];
            snprintf(msg, sizeof msg, "\": items[%zu] has it already", dup);
            expect_error(f, buf, TSR_EORDER, "items[15].id", msg);
        }
    }
    /* two duplicates: the first line that repeats an earlier id is named */
    expect_error(f,
                 "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"k\"},"
                 "{\"id\":\"b\",\"kind\":\"k\"},{\"id\":\"b\",\"kind\":\"k\"},"
                 "{\"id\":\"a\",\"kind\":\"k\"}]}",
                 TSR_EORDER, "items[2].id", "duplicate line id \"b\": items[1] has it already");
}

/* Plain FNV-1a, 32 bits: the hash line ids used to be put in buckets by. */
static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

#define CRAFTED 1000

/* Ids an attacker can compute offline to fall into one bucket of any table
 * of up to 2^14 slots under plain FNV-1a: equal in their 14 low bits. */
static char (*crafted_ids(void))[16]
{
    char (*ids)[16] = calloc(CRAFTED, sizeof *ids);
    unsigned long u;
    size_t n = 0;

    assert_non_null(ids);
    for (u = 0; n < CRAFTED; u++) {
        snprintf(ids[n], sizeof ids[n], "c%lu", u);
        if ((fnv1a(ids[n]) & 0x3FFF) == 0)
            n++;
    }
    return ids;
}

static size_t distinct(const size_t *b, size_t n)
{
    size_t i, j, d = 0;
    for (i = 0; i < n; i++) {
        for (j = 0; j < i && b[j] != b[i]; j++)
            ;
        d += j == i;
    }
    return d;
}

/* Line ids are checked for duplicates in a hash set keyed afresh for every
 * order: ids crafted to share a bucket under FNV-1a spread out (no
 * quadratic probing), and the next order puts them elsewhere again. */
static void test_crafted_colliding_line_ids_do_not_collide(void **state)
{
    fixture *f = *state;
    char (*ids)[16] = crafted_ids();
    size_t *first = calloc(CRAFTED, sizeof *first), *again = calloc(CRAFTED, sizeof *again);
    size_t cap = 64 + CRAFTED * 40, len, i, moved = 0, max = 0;
    char *text = malloc(cap);

    assert_non_null(first);
    assert_non_null(again);
    assert_non_null(text);
    len = (size_t)snprintf(text, cap, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[");
    for (i = 0; i < CRAFTED; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s{\"id\":\"%s\",\"kind\":\"k\"}",
                                i ? "," : "", ids[i]);
    snprintf(text + len, cap - len, "]}");

    /* the attack as it was: every id in one bucket of a 2048-slot table */
    for (i = 0; i < CRAFTED; i++)
        first[i] = fnv1a(ids[i]) & 2047;
    assert_int_equal(distinct(first, CRAFTED), 1);

    assert_int_equal(parse(f, text), TSR_OK);
    for (i = 0; i < CRAFTED; i++) {
        first[i] = tsr__order_line_id_bucket(f->order, ids[i], strlen(ids[i]));
        assert_true(first[i] < 2048);
    }
    /* 1000 keys thrown at random into 2048 buckets fill about 790 of them,
     * the fullest holding a handful */
    assert_true(distinct(first, CRAFTED) > 600);
    for (i = 0; i < CRAFTED; i++) {
        size_t j, load = 0;
        for (j = 0; j < CRAFTED; j++)
            load += first[j] == first[i];
        if (load > max)
            max = load;
    }
    assert_true(max < 12);

    /* the next order draws a new key */
    tsr_order_reset(f->order);
    assert_int_equal(parse(f, text), TSR_OK);
    for (i = 0; i < CRAFTED; i++) {
        again[i] = tsr__order_line_id_bucket(f->order, ids[i], strlen(ids[i]));
        moved += again[i] != first[i];
    }
    assert_true(moved > CRAFTED / 2);
    free(text);
    free(again);
    free(first);
    free(ids);
}

static void test_quantity_must_be_at_least_one(void **state)
{
    fixture *f = *state;
    expect_item_error(f, "\"quantity\":0", TSR_EORDER, "items[0].quantity", "at least 1, got 0");
    expect_item_error(f, "\"quantity\":-1", TSR_EORDER, "items[0].quantity", "at least 1, got -1");
    expect_item_error(f, "\"quantity\":1.5", TSR_EORDER, "items[0].quantity",
                      "expected an integer, got 1.5");
}

static void test_unknown_field_suggests_the_closest(void **state)
{
    fixture *f = *state;
    char buf[1024];

    expect_item_error(f, "\"heigth_cm\":120", TSR_EORDER, "items[0].heigth_cm",
                      "unknown field \"heigth_cm\" in a line; did you mean \"height_cm\"?");
    expect_item_error(f, "\"quantty\":1", TSR_EORDER, "items[0].quantty", "did you mean \"quantity\"");
    expect_item_error(f, "\"colour\":\"red\"", TSR_EORDER, "items[0].colour",
                      "must be declared in the rule set's schema");
    expect_customer_error(f, "\"vists\":1", TSR_EORDER, "customer.vists", "did you mean \"visits\"");
    expect_error(f, "{\"datetme\":\"2026-06-13T14:30:00Z\"}", TSR_EORDER, "datetme",
                 "did you mean \"datetime\"");
    /* computed fields are not input */
    expect_item_error(f, "\"subtotal\":\"1.00\"", TSR_EORDER, "items[0].subtotal", "unknown field");
    expect_customer_error(f, "\"points_lots\":[{\"id\":\"L\",\"pionts\":1}]", TSR_EORDER,
                          "customer.points_lots[0].pionts", "did you mean \"points\"");
    /* a key with a NUL byte is no known key, and the path stays printable */
    expect_item_error(f, "\"zone\\u0000\":\"A\"", TSR_EORDER, "items[0].zone?",
                      "unknown field \"zone?\"");
    expect_item_error(f, "\"height_cm\\u0000x\":1", TSR_EORDER, "items[0].height_cm?x",
                      "unknown field");
    (void)buf;
}

static void test_wrong_type_for_every_schema_type(void **state)
{
    fixture *f = *state;
    expect_item_error(f, "\"height_cm\":\"118\"", TSR_EORDER, "items[0].height_cm",
                      "expected an integer, got a string");
    expect_item_error(f, "\"height_cm\":true", TSR_EORDER, "items[0].height_cm",
                      "expected an integer, got true");
    expect_item_error(f, "\"zone\":118", TSR_EORDER, "items[0].zone",
                      "expected a string, got the number 118");
    expect_item_error(f, "\"zone\":[\"A\"]", TSR_EORDER, "items[0].zone",
                      "expected a string, got an array");
    expect_item_error(f, "\"event_start\":\"2026-06-14\"", TSR_EORDER, "items[0].event_start",
                      "not an ISO 8601 datetime");
    expect_item_error(f, "\"event_start\":1718000000", TSR_EORDER, "items[0].event_start",
                      "expected a datetime");
    expect_item_error(f, "\"validated\":\"yes\"", TSR_EORDER, "items[0].validated",
                      "expected true or false, got a string");
    expect_item_error(f, "\"validated\":1", TSR_EORDER, "items[0].validated",
                      "expected true or false, got the number 1");
    expect_item_error(f, "\"ratio\":true", TSR_EORDER, "items[0].ratio", "expected a number");
    expect_item_error(f, "\"ratio\":0.1234567", TSR_EORDER, "items[0].ratio",
                      "more than 6 decimals");
    expect_item_error(f, "\"labels\":\"x\"", TSR_EORDER, "items[0].labels",
                      "expected an array, got a string");
    expect_item_error(f, "\"labels\":[\"x\",2]", TSR_EORDER, "items[0].labels[1]",
                      "expected a string, got the number 2");
    expect_item_error(f, "\"labels\":{}", TSR_EORDER, "items[0].labels",
                      "expected an array, got an object");
    expect_customer_error(f, "\"visits\":1.5", TSR_EORDER, "customer.visits",
                          "expected an integer, got 1.5");
    expect_customer_error(f, "\"birthday\":\"15/06/2015\"", TSR_EORDER, "customer.birthday",
                          "is not a date (YYYY-MM-DD)");
    expect_customer_error(f, "\"member\":\"true\"", TSR_EORDER, "customer.member",
                          "expected true or false");
    expect_customer_error(f, "\"spend_12m\":false", TSR_EORDER, "customer.spend_12m",
                          "expected an amount of money, got false");
    expect_customer_error(f, "\"tags\":[\"a\",null]", TSR_EORDER, "customer.tags[1]",
                          "expected a string, got null");
    expect_customer_error(f, "\"points_balance\":-5", TSR_EORDER, "customer.points_balance",
                          ">= 0");
    expect_error(f, "{\"customer\":[]}", TSR_EORDER, "customer", "expected an object, got an array");
    expect_error(f, "{\"redeem_points\":-1}", TSR_EORDER, "redeem_points", ">= 0");
    expect_error(f, "{\"promo_codes\":[\"A\",7]}", TSR_EORDER, "promo_codes[1]",
                 "expected a string");
    expect_error(f, "{\"promo_uses\":{\"doctors\":-1}}", TSR_EORDER, "promo_uses.doctors",
                 "must be >= 0");
    expect_error(f, "{\"promo_total_uses\":{\"doctors\":\"3\"}}", TSR_EORDER,
                 "promo_total_uses.doctors", "expected an integer");
    expect_customer_error(f, "\"points_lots\":[{\"id\":\"L\"}]", TSR_EORDER,
                          "customer.points_lots[0].points", "needs points");
    expect_customer_error(f, "\"points_lots\":[{\"id\":\"L\",\"points\":1,\"expires_on\":\"soon\"}]",
                          TSR_EORDER, "customer.points_lots[0].expires_on", "not a date");
}

static void test_invalid_utf8_is_refused(void **state)
{
    fixture *f = *state;
    /* a broken sequence, an overlong '/', an encoded surrogate: yajl's own
     * check lets the last two through */
    expect_customer_error(f, "\"tags\":[\"ok\",\"a\xC3\x28\"]", TSR_EORDER, "customer.tags[1]",
                          "not valid UTF-8");
    expect_customer_error(f, "\"tags\":[\"\xC0\xAF\"]", TSR_EORDER, "customer.tags[0]",
                          "not valid UTF-8");
    expect_item_error(f, "\"zone\":\"\xED\xA0\x80\"", TSR_EORDER, "items[0].zone", "not valid UTF-8");
    /* escapes: a lone surrogate, and a NUL */
    expect_customer_error(f, "\"tags\":[\"ok\",\"x\\ud800y\"]", TSR_EORDER, "customer.tags[1]",
                          "lone UTF-16 surrogate");
    expect_item_error(f, "\"zone\":\"\\udc00\"", TSR_EORDER, "items[0].zone", "lone UTF-16 surrogate");
    expect_item_error(f, "\"zone\":\"a\\u0000b\"", TSR_EORDER, "items[0].zone", "NUL");
    /* a proper pair is fine */
    {
        char buf[1024];
        assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"zone\":\"\\ud83d\\ude00\\\\ud800\"")),
                         TSR_OK);
        assert_int_equal(line_value(f->order, 0, f->zone)->len, 4 + 6);
    }
}

static void test_numbers_with_exponents_or_beyond_int64_are_refused(void **state)
{
    fixture *f = *state;
    char buf[1024];

    expect_item_error(f, "\"height_cm\":1e2", TSR_EORDER, "items[0].height_cm", "exponent");
    expect_item_error(f, "\"price\":1.5E1", TSR_EORDER, "items[0].price", "exponent");
    expect_item_error(f, "\"ratio\":2e-1", TSR_EORDER, "items[0].ratio", "exponent");
    expect_item_error(f, "\"height_cm\":9223372036854775808", TSR_EORDER, "items[0].height_cm",
                      "out of range");
    expect_item_error(f, "\"height_cm\":-9223372036854775809", TSR_EORDER, "items[0].height_cm",
                      "out of range");
    expect_item_error(f, "\"price\":92233720368547758.08", TSR_EORDER, "items[0].price",
                      "out of range");
    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"height_cm\":-9223372036854775808")),
                     TSR_OK);
    assert_true(line_value(f->order, 0, f->height_cm)->u.i == INT64_MIN);
    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"height_cm\":9223372036854775807")),
                     TSR_OK);
    assert_true(line_value(f->order, 0, f->height_cm)->u.i == INT64_MAX);
}

/* An order may name only a selectable category: an unknown one is refused
 * with the closest name it could have meant, one the rules assign (child,
 * adult) as not selectable; both list what the order may name. */
static void test_unknown_preset_category_suggests_the_closest(void **state)
{
    fixture *f = *state;
    char buf[1024];

    expect_item_error(f, "\"category\":\"stduent\"", TSR_EORDER, "items[0].category",
                      "unknown category \"stduent\"; did you mean \"student\"?");
    expect_item_error(f, "\"category\":\"senior\"", TSR_EORDER, "items[0].category",
                      "unknown category \"senior\": the rule set has no such category; an order "
                      "may name `student`");
    /* not suggested: the order could not name it either */
    expect_item_error(f, "\"category\":\"chlid\"", TSR_EORDER, "items[0].category",
                      "unknown category \"chlid\": the rule set has no such category");
    expect_item_error(f, "\"category\":\"child\"", TSR_EORDER, "items[0].category",
                      "category \"child\" is not selectable: the rules assign it, an order cannot "
                      "name it; an order may name `student`");
    expect_item_error(f, "\"category\":\"adult\"", TSR_EORDER, "items[0].category",
                      "is not selectable");
    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"category\":\"student\"")), TSR_OK);
}

static void test_duplicate_keys_are_refused_in_every_object(void **state)
{
    fixture *f = *state;
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"datetime\":\"2026-06-13T14:30:00Z\"}",
                 TSR_EORDER, "datetime", "duplicate key \"datetime\"");
    /* null counts as given */
    expect_error(f, "{\"channel\":null,\"channel\":\"web\"}", TSR_EORDER, "channel", "duplicate key");
    expect_item_error(f, "\"kind\":\"x\"", TSR_EORDER, "items[0].kind", "duplicate key \"kind\"");
    expect_item_error(f, "\"zone\":\"A\",\"zone\":\"B\"", TSR_EORDER, "items[0].zone",
                      "duplicate key");
    expect_customer_error(f, "\"id\":\"a\",\"id\":\"b\"", TSR_EORDER, "customer.id", "duplicate");
    expect_error(f, "{\"promo_uses\":{\"doctors\":1,\"doctors\":2}}", TSR_EORDER,
                 "promo_uses.doctors", "duplicate key \"doctors\"");
    expect_customer_error(f, "\"points_lots\":[{\"id\":\"a\",\"id\":\"b\"}]", TSR_EORDER,
                          "customer.points_lots[0].id", "duplicate");
}

static void test_syntax_errors_are_order_errors(void **state)
{
    fixture *f = *state;
    expect_error(f, "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[", TSR_EORDER, "items[0]",
                 "invalid JSON");
    expect_error(f, "{\"id\":\"a\"} x", TSR_EORDER, "$", "invalid JSON");
    /* a truncated order is placed at its end, not at byte 1 */
    expect_error(f, "{\"id\":\"abcdefghij\"", TSR_EORDER, "id", "near byte 18: ");
    expect_error(f, "{\"id\":\"a\",,}", TSR_EORDER, "id", "invalid JSON");
    expect_error(f, "{\"customer\":{\"tags\":[\"a\" \"b\"]}}", TSR_EORDER, "customer.tags[1]",
                 "invalid JSON");
    /* JSON text that is not an object */
    assert_int_equal(tsr__order_read_json(f->order, "[1]", 3, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "$");
    assert_non_null(strstr(f->err.message, "must be an object"));
}

static void test_nesting_is_refused_at_the_first_bracket_it_does_not_fit(void **state)
{
    fixture *f = *state;
    char buf[4096], yaml[4096];
    size_t i, n = 0, m = 0;

    /* JSON: the reader follows the order's shape, so deep nesting is a
     * wrong type at its first bracket; nothing deeper is read. */
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\"zone\":");
    for (i = 0; i < 1000; i++)
        buf[n++] = '[';
    for (i = 0; i < 1000; i++)
        buf[n++] = ']';
    buf[n] = '\0';
    expect_item_error(f, buf, TSR_EORDER, "items[0].zone", "expected a string, got an array");
    /* YAML: the parser's depth limit applies before the tree is walked */
    m += (size_t)snprintf(yaml, sizeof yaml, "datetime: 2026-06-13T14:30:00Z\nitems: ");
    for (i = 0; i < 40; i++)
        yaml[m++] = '[';
    for (i = 0; i < 40; i++)
        yaml[m++] = ']';
    yaml[m++] = '\n';
    yaml[m] = '\0';
    assert_int_equal(parse(f, yaml), TSR_ELIMIT);
    assert_int_equal(f->order->nlines, 0);
}

/* ---------------------------------------------------------------------
 * Limits (set small at load).
 */
static void test_limits_apply_to_lines_codes_strings_and_size(void **state)
{
    fixture *f = *state;
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *small;
    tsr_order *o;
    char buf[4096];
    int rc;
    (void)state;

    opts.max_order_lines = 3;
    opts.max_promo_codes = 2;
    opts.max_string_length = 24;
    opts.max_order_size = 1024;
    assert_non_null(small = load(&opts));
    assert_int_equal(tsr_order_new(&o, small, &f->err), TSR_OK);

#define PARSE(t) tsr_order_parse(o, (t), strlen(t), &f->err)
#define ITEM(id) "{\"id\":\"" id "\",\"kind\":\"k\"}"
    rc = PARSE("{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[" ITEM("a") "," ITEM("b") ","
               ITEM("c") "]}");
    assert_int_equal(rc, TSR_OK);
    rc = PARSE("{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[" ITEM("a") "," ITEM("b") ","
               ITEM("c") "," ITEM("d") "]}");
    assert_int_equal(rc, TSR_ELIMIT);
    assert_string_equal(f->err.path, "items[3]");
    assert_non_null(strstr(f->err.message, "at most 3 lines"));
    assert_int_equal(o->nlines, 0);

    rc = PARSE("{\"promo_codes\":[\"A\",\"B\",\"C\"]}");
    assert_int_equal(rc, TSR_ELIMIT);
    assert_string_equal(f->err.path, "promo_codes[2]");
    assert_non_null(strstr(f->err.message, "at most 2 promo codes"));

    rc = PARSE("{\"customer\":{\"id\":\"0123456789abcdef01234567X\"}}");
    assert_int_equal(rc, TSR_ELIMIT);
    assert_string_equal(f->err.path, "customer.id");
    assert_non_null(strstr(f->err.message, "longer than the limit (24 bytes)"));
    rc = PARSE("{\"0123456789abcdef01234567X\":1}");
    assert_int_equal(rc, TSR_ELIMIT);

    memset(buf, ' ', sizeof buf);
    memcpy(buf, "{}", 2);
    assert_int_equal(tsr_order_parse(o, buf, 1025, &f->err), TSR_ELIMIT);
    assert_string_equal(f->err.path, "$");
    /* the YAML reader has the same limits */
    rc = PARSE("datetime: 2026-06-13T14:30:00Z\nitems: [{id: a, kind: k}, {id: b, kind: k},"
               " {id: c, kind: k}, {id: d, kind: k}]\n");
    assert_int_equal(rc, TSR_ELIMIT);
    assert_string_equal(f->err.path, "items[3]");
    assert_int_equal(PARSE("promo_codes: [A, B, C]\n"), TSR_ELIMIT);
    assert_string_equal(f->err.path, "promo_codes[2]");
    /* the builder too */
    {
        int line;
        assert_int_equal(tsr_order_add_line(o, "a", "k", 1, &line, &f->err), TSR_OK);
        assert_int_equal(tsr_order_add_line(o, "b", "k", 1, &line, &f->err), TSR_OK);
        assert_int_equal(tsr_order_add_line(o, "c", "k", 1, &line, &f->err), TSR_OK);
        assert_int_equal(tsr_order_add_line(o, "d", "k", 1, &line, &f->err), TSR_ELIMIT);
        assert_string_equal(f->err.path, "items[3]");
        assert_int_equal(tsr_order_add_promo_code(o, "0123456789abcdef01234567X", 25, &f->err), TSR_ELIMIT);
        assert_string_equal(f->err.path, "promo_codes[0]");
    }
#undef PARSE
#undef ITEM
    tsr_order_free(o);
    tsr_ruleset_free(small);
}

/* ---------------------------------------------------------------------
 * Builder.
 */
static void build_full_order(fixture *f, tsr_order *o)
{
    tsr_error *err = &f->err;
    int t1, f1, t2;
    int note = tsr_ruleset_field(f->rs, TSR_RECORD_ORDER, "note");

#define OK(call) if ((call) != TSR_OK) fail_msg("%s: %s: %s", #call, err->path, err->message)
    OK(tsr_order_set_string(o, TSR_RECORD_ORDER, 0, tsr_ruleset_field(f->rs, TSR_RECORD_ORDER, "id"),
                            "A-1001", 6, err));
    OK(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, tsr_ruleset_field(f->rs, TSR_RECORD_ORDER, "datetime"),
                          "2026-06-13T14:30:00+03:00", 25, err));
    OK(tsr_order_set_string(o, TSR_RECORD_ORDER, 0, tsr_ruleset_field(f->rs, TSR_RECORD_ORDER, "channel"),
                            "web", 3, err));
    OK(tsr_order_set_string(o, TSR_RECORD_ORDER, 0, note, "gift", 4, err));
    OK(tsr_order_set_string(o, TSR_RECORD_CUSTOMER, 0, tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "id"),
                            "C-77", 4, err));
    OK(tsr_order_add_to_list(o, TSR_RECORD_CUSTOMER, 0, tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "tags"),
                             "season_pass", 11, err));
    OK(tsr_order_add_to_list(o, TSR_RECORD_CUSTOMER, 0, tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "tags"),
                             "vip", 3, err));
    OK(tsr_order_set_int(o, TSR_RECORD_CUSTOMER, 0,
                         tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "points_balance"), 1200, err));
    OK(tsr_order_set_int(o, TSR_RECORD_CUSTOMER, 0, f->visits, 3, err));
    OK(tsr_order_set_text(o, TSR_RECORD_CUSTOMER, 0, f->birthday, "2015-06-15", 10, err));
    OK(tsr_order_set_bool(o, TSR_RECORD_CUSTOMER, 0, f->member, 1, err));
    OK(tsr_order_set_text(o, TSR_RECORD_CUSTOMER, 0, f->spend, "1500.5", 6, err));
    OK(tsr_order_add_points_lot(o, "L1", 100, "2026-12-31", err));
    OK(tsr_order_add_points_lot(o, "L2", 50, NULL, err));

    OK(tsr_order_add_line(o, "t1", "ticket", 1, &t1, err));
    OK(tsr_order_set_string(o, TSR_RECORD_ITEM, t1, TSR_ITEM_SKU, "PARK-DAY", 8, err));
    OK(tsr_order_set_int(o, TSR_RECORD_ITEM, t1, f->height_cm, 118, err));
    OK(tsr_order_set_string(o, TSR_RECORD_ITEM, t1, f->zone, "A", 1, err));
    OK(tsr_order_set_text(o, TSR_RECORD_ITEM, t1, f->event_start, "2026-06-14T10:00:00Z", 20, err));
    OK(tsr_order_set_bool(o, TSR_RECORD_ITEM, t1, f->validated, 0, err));
    OK(tsr_order_set_decimal(o, TSR_RECORD_ITEM, t1, f->ratio, 250000, err));
    OK(tsr_order_add_to_list(o, TSR_RECORD_ITEM, t1, f->labels, "x", 1, err));
    OK(tsr_order_add_to_list(o, TSR_RECORD_ITEM, t1, f->labels, "y", 1, err));
    OK(tsr_order_add_line(o, "f1", "fnb", 2, &f1, err));
    OK(tsr_order_set_string(o, TSR_RECORD_ITEM, f1, TSR_ITEM_SKU, "COLA-05", 7, err));
    OK(tsr_order_set_money(o, TSR_RECORD_ITEM, f1, TSR_ITEM_PRICE, 15000, err));
    OK(tsr_order_add_line(o, "t2", "ticket", 1, &t2, err));
    OK(tsr_order_set_string(o, TSR_RECORD_ITEM, t2, TSR_ITEM_CATEGORY, "student", 7, err));
    OK(tsr_order_set_text(o, TSR_RECORD_ITEM, t2, TSR_ITEM_PRICE, "24.50", 5, err));

    OK(tsr_order_add_promo_code(o, "DOC-123456", 10, err));
    OK(tsr_order_add_to_list(o, TSR_RECORD_ORDER, 0, TSR_ORDER_PROMO_CODES, "SUMMER", 6, err));
    OK(tsr_order_set_promo_uses(o, "doctors", 0, 17, err));
    OK(tsr_order_set_promo_uses(o, "summer", -1, 3, err));
    OK(tsr_order_set_redeem_points(o, 300, err));
#undef OK
}

static void test_builder_builds_what_the_reader_reads(void **state)
{
    fixture *f = *state;
    tsr_order *built;

    assert_int_equal(parse(f, full_json), TSR_OK);
    assert_int_equal(tsr_order_new(&built, f->rs, &f->err), TSR_OK);
    build_full_order(f, built);
    assert_int_equal(tsr__order_finish(built, &f->err), TSR_OK);
    assert_orders_equal(built, f->order);
    /* reset and build again: the same order */
    tsr_order_reset(built);
    assert_int_equal(built->nlines, 0);
    build_full_order(f, built);
    assert_int_equal(tsr__order_ready(built, &f->err), TSR_OK);
    assert_orders_equal(built, f->order);
    tsr_order_free(built);
}

static void test_field_handles_cover_input_fields_only(void **state)
{
    fixture *f = *state;
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "id"), TSR_ITEM_ID);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "price"), TSR_ITEM_PRICE);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "category"), TSR_ITEM_CATEGORY);
    assert_true(f->height_cm >= TSR_ITEM__BUILTIN);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "subtotal"), TSR_ENAME);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "total"), TSR_ENAME);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "heigth_cm"), TSR_ENAME);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "height_cm"), TSR_ENAME);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_CUSTOMER, "points_balance"),
                     TSR_CUST_POINTS_BALANCE);
    assert_int_equal(tsr_ruleset_field(f->rs, TSR_RECORD_ORDER, "datetime"), TSR_ORDER_DATETIME);
    assert_int_equal(tsr_ruleset_field(NULL, TSR_RECORD_ORDER, "id"), TSR_EINVAL);
    assert_int_equal(tsr_ruleset_field(f->rs, (tsr_record)7, "id"), TSR_EINVAL);
}

/* A datetime or date given as text to tsr_order_set_text (which parses
 * it itself when it can) is what the JSON reader makes of the same text:
 * the same value, or the same error. */
static void test_builder_dates_as_text_are_what_the_reader_reads(void **state)
{
    static const char *const datetimes[] = {
        "2026-06-13T14:30:00+03:00", "2026-06-13T14:30:00Z", "2026-06-13T14:30:00.25-05:30",
        "2026-06-13 14:30:00+03:00", "2026-06-13T14:30:00", "2026-02-30T00:00:00Z",
        "2026-06-13T24:00:00Z", "", "2026-06-13",
    };
    static const char *const dates[] = {
        "1980-04-25", "2024-02-29", "2023-02-29", "1980-4-25", "1980-04-25T00:00:00Z", "", "x",
    };
    fixture *f = *state;
    size_t i, kind;

    for (kind = 0; kind < 2; kind++) {
        size_t n = kind ? TSR_ARRAY_LEN(dates) : TSR_ARRAY_LEN(datetimes);
        for (i = 0; i < n; i++) {
            const char *text = kind ? dates[i] : datetimes[i];
            char json[256];
            tsr_order *built = NULL, *read = NULL;
            tsr_error berr, rerr;
            const tsr_value *bv, *rv;
            int brc, rrc;

            memset(&berr, 0, sizeof berr);
            memset(&rerr, 0, sizeof rerr);
            assert_int_equal(tsr_order_new(&built, f->rs, &f->err), TSR_OK);
            assert_int_equal(tsr_order_new(&read, f->rs, &f->err), TSR_OK);
            if (kind) {
                brc = tsr_order_set_text(built, TSR_RECORD_CUSTOMER, 0, f->birthday, text,
                                         strlen(text), &berr);
                snprintf(json, sizeof json, "{\"customer\":{\"birthday\":\"%s\"}}", text);
            } else {
                brc = tsr_order_set_text(built, TSR_RECORD_ORDER, 0, TSR_ORDER_DATETIME, text,
                                         strlen(text), &berr);
                snprintf(json, sizeof json, "{\"datetime\":\"%s\"}", text);
            }
            /* read only: finishing would refuse the order's missing parts */
            rrc = tsr__order_read_json(read, json, strlen(json), &rerr);
            if (brc != rrc)
                fail_msg("%s: built %d (%s), read %d (%s)", text, brc, berr.message, rrc,
                         rerr.message);
            if (brc != TSR_OK) {
                assert_string_equal(berr.message, rerr.message);
                assert_string_equal(berr.path, rerr.path);
            } else {
                bv = kind ? &built->customer[f->birthday] : &built->order[TSR_ORDER_DATETIME];
                rv = kind ? &read->customer[f->birthday] : &read->order[TSR_ORDER_DATETIME];
                assert_int_equal(bv->type, kind ? TSR_T_DATE : TSR_T_DATETIME);
                assert_int_equal(bv->type, rv->type);
                assert_int_equal(bv->offset, rv->offset);
                assert_true(bv->u.i == rv->u.i);
            }
            tsr_order_free(built);
            tsr_order_free(read);
        }
    }
}

static void test_builder_refuses_wrong_types_with_a_path(void **state)
{
    fixture *f = *state;
    tsr_order *o = f->order;
    int line;

    assert_int_equal(tsr_order_add_line(o, "t1", "ticket", 1, &line, &f->err), TSR_OK);
    assert_int_equal(line, 0);
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, f->height_cm, "118", 3, &f->err),
                     TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].height_cm");
    assert_non_null(strstr(f->err.message, "height_cm is declared int; got a string"));
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, line, f->zone, 1, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].zone");
    assert_int_equal(tsr_order_set_money(o, TSR_RECORD_CUSTOMER, 0, f->visits, 1, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "customer.visits");
    assert_int_equal(tsr_order_set_decimal(o, TSR_RECORD_ITEM, line, TSR_ITEM_PRICE, 1, &f->err),
                     TSR_EORDER);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ITEM, line, f->height_cm, "12x", 3, &f->err),
                     TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].height_cm");
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ITEM, line, TSR_ITEM_PRICE, "1.505", 5, &f->err),
                     TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].price");
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ITEM, line, f->validated, "yes", 3, &f->err),
                     TSR_EORDER);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_CUSTOMER, 0, f->birthday, "2015-13-01", 10,
                                        &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "customer.birthday");
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, f->labels, "x", 1, &f->err),
                     TSR_EORDER);
    assert_non_null(strstr(f->err.message, "tsr_order_add_to_list"));
    assert_int_equal(tsr_order_add_to_list(o, TSR_RECORD_ITEM, line, f->zone, "x", 1, &f->err),
                     TSR_EORDER);
    /* built-in rules */
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, line, TSR_ITEM_QUANTITY, 0, &f->err),
                     TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].quantity");
    assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, line, TSR_ITEM_PRICE, -1, &f->err),
                     TSR_EORDER);
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, TSR_ITEM_CATEGORY, "studnet", 7,
                                          &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].category");
    assert_non_null(strstr(f->err.message, "did you mean \"student\""));
    /* the builder names only what the reader would accept: not a category
     * the rules assign */
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, TSR_ITEM_CATEGORY, "child", 5,
                                          &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].category");
    assert_non_null(strstr(f->err.message, "category \"child\" is not selectable"));
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ITEM, line, TSR_ITEM_CATEGORY, "adult", 5,
                                        &f->err), TSR_EORDER);
    assert_non_null(strstr(f->err.message, "category \"adult\" is not selectable"));
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, f->zone, "\xC0\xAF", 2, &f->err),
                     TSR_EORDER);
    assert_int_equal(tsr_order_set_redeem_points(o, -1, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "redeem_points");
    assert_int_equal(tsr_order_add_line(o, "t2", "ticket", 0, &line, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "items[1].quantity");
    assert_int_equal(tsr_order_add_line(o, NULL, "ticket", 1, &line, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "items[1].id");
    assert_int_equal(tsr_order_add_points_lot(o, "L", -1, NULL, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "customer.points_lots[0].points");
    assert_int_equal(tsr_order_add_points_lot(o, "L", 1, "never", &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "customer.points_lots[0].expires_on");
    /* refused values changed nothing */
    assert_int_equal(o->nlines, 1);
    assert_int_equal(o->nlots, 0);
    assert_int_equal(line_value(o, 0, f->height_cm)->type, TSR_T_MISSING);
    assert_int_equal(line_value(o, 0, TSR_ITEM_QUANTITY)->u.i, 1);
    assert_int_equal(line_value(o, 0, TSR_ITEM_PRICE)->type, TSR_T_MISSING);
    assert_int_equal(line_value(o, 0, TSR_ITEM_CATEGORY)->type, TSR_T_MISSING);
}

static void test_builder_refuses_bad_handles_and_lines(void **state)
{
    fixture *f = *state;
    tsr_order *o = f->order;
    int line;

    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, 0, f->height_cm, 1, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_add_line(o, "t1", "ticket", 1, &line, &f->err), TSR_OK);
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, 1, f->height_cm, 1, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, -1, f->height_cm, 1, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, 0, 999, 1, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, 0, -3, 1, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, 0, TSR_ITEM_SUBTOTAL, 1, &f->err),
                     TSR_EINVAL);
    assert_int_equal(tsr_order_set_int(o, (tsr_record)5, 0, 0, 1, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_set_int(NULL, TSR_RECORD_ITEM, 0, f->height_cm, 1, &f->err),
                     TSR_EINVAL);
    assert_int_equal(tsr_order_parse(NULL, "{}", 2, &f->err), TSR_EINVAL);
    assert_int_equal(tsr_order_new(NULL, f->rs, &f->err), TSR_EINVAL);
    tsr_order_free(NULL);
    tsr_order_reset(NULL);
}

static void test_builder_order_is_checked_when_finished(void **state)
{
    fixture *f = *state;
    tsr_order *o = f->order;
    int line;

    assert_int_equal(tsr_order_add_line(o, "t1", "ticket", 1, &line, &f->err), TSR_OK);
    assert_int_equal(tsr__order_ready(o, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "datetime");
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, TSR_ORDER_DATETIME,
                                        "2026-06-13T14:30:00Z", 20, &f->err), TSR_OK);
    assert_int_equal(tsr_order_add_line(o, "t1", "fnb", 1, &line, &f->err), TSR_OK);
    assert_int_equal(tsr__order_ready(o, &f->err), TSR_EORDER);
    assert_string_equal(f->err.path, "items[1].id");
    /* the caller can fix it: nothing was thrown away */
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, 1, TSR_ITEM_ID, "f1", 2, &f->err), TSR_OK);
    assert_int_equal(tsr__order_ready(o, &f->err), TSR_OK);
    /* checked, not written to: a const order stays as it was */
    assert_false(o->finished);
    assert_int_equal(tsr__order_finish(o, &f->err), TSR_OK);
    assert_true(o->finished);
}

/* ---------------------------------------------------------------------
 * Reuse and memory.
 */
static void test_reset_reuses_memory_without_allocating(void **state)
{
    counting c = { 0 };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs;
    tsr_order *o;
    tsr_error err;
    size_t before, i;
    const char *yaml = "datetime: 2026-06-13T14:30:00Z\nitems: [{id: a, kind: k, zone: Z}]\n";
    (void)state;

    opts.allocator = &hook;
    assert_non_null(rs = load(&opts));
    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    for (i = 0; i < 3; i++) {   /* warm up: arrays and arena reach their size */
        assert_int_equal(tsr_order_parse(o, full_json, strlen(full_json), &err), TSR_OK);
        assert_int_equal(tsr_order_parse(o, park10_line, strlen(park10_line), &err), TSR_OK);
    }
    before = c.allocs;
    for (i = 0; i < 100; i++) {
        assert_int_equal(tsr_order_parse(o, full_json, strlen(full_json), &err), TSR_OK);
        assert_int_equal(tsr_order_parse(o, park10_line, strlen(park10_line), &err), TSR_OK);
        tsr_order_reset(o);
    }
    assert_int_equal(c.allocs, before);
    /* The YAML reader keeps its tree in a scratch arena that reset keeps;
     * the YAML parser's own stacks are per parse, so only reuse is checked. */
    for (i = 0; i < 20; i++)
        assert_int_equal(tsr_order_parse(o, yaml, strlen(yaml), &err), TSR_OK);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

static void test_failed_parse_leaves_the_order_cleared_and_reusable(void **state)
{
    fixture *f = *state;
    char buf[1024];

    assert_int_equal(parse(f, full_json), TSR_OK);
    expect_item_error(f, "\"quantity\":0", TSR_EORDER, "items[0].quantity", "at least 1");
    assert_int_equal(f->order->npromo_uses, 0);
    assert_int_equal(f->order->nlots, 0);
    assert_false(f->order->has_redeem);
    assert_int_equal(parse(f, with_item(buf, sizeof buf, "\"zone\":\"B\"")), TSR_OK);
    assert_int_equal(f->order->nlines, 1);
    assert_int_equal(f->order->customer[TSR_CUST_ID].type, TSR_T_MISSING);
}

static void test_allocation_failures_fail_cleanly(void **state)
{
    counting c = { .fail_once = true };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    const char *texts[2] = { full_json, full_yaml };
    tsr_ruleset *rs;
    tsr_error err;
    size_t n, t;
    (void)state;

    opts.allocator = &hook;
    assert_non_null(rs = load(&opts));
    for (t = 0; t < 2; t++) {
        for (n = 1;; n++) {
            tsr_order *o = NULL;
            size_t live = c.live;
            int rc;
            c.calls = 0;
            c.fail_at = n;
            rc = tsr_order_new(&o, rs, &err);
            if (rc == TSR_OK) {
                rc = tsr_order_parse(o, texts[t], strlen(texts[t]), &err);
                if (rc == TSR_OK) {
                    int line;
                    rc = tsr_order_add_line(o, "z9", "k", 1, &line, &err);
                }
            }
            c.fail_at = 0;
            if (rc != TSR_OK && rc != TSR_ENOMEM)
                fail_msg("allocation %zu: %d %s: %s", n, rc, err.path, err.message);
            if (rc == TSR_ENOMEM && o)
                assert_int_equal(o->nlines, 0);   /* parse failed: cleared */
            tsr_order_free(o);
            assert_int_equal(c.live, live);
            if (rc == TSR_OK)
                break;
        }
        assert_true(n > 3);
    }
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_order_fills_every_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park10_order_lines_fill_their_slots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_park10_workload_parses_completely, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_order_equals_json_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_yaml_scalars_are_typed_by_how_they_are_written, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_yaml_errors_carry_path_and_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_means_absent_and_quantity_defaults_to_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_money_is_exact_in_the_currency, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_datetime_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_items_must_be_a_non_empty_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_needs_id_and_kind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_line_id_names_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_ids_alike_at_the_end_are_compared_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crafted_colliding_line_ids_do_not_collide, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_quantity_must_be_at_least_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_field_suggests_the_closest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_type_for_every_schema_type, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers_with_exponents_or_beyond_int64_are_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_preset_category_suggests_the_closest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_are_refused_in_every_object, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors_are_order_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_is_refused_at_the_first_bracket_it_does_not_fit,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_apply_to_lines_codes_strings_and_size, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_builder_builds_what_the_reader_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_handles_cover_input_fields_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builder_refuses_wrong_types_with_a_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_builder_refuses_bad_handles_and_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_builder_order_is_checked_when_finished, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_builder_dates_as_text_are_what_the_reader_reads, setup,
                                        teardown),
        cmocka_unit_test(test_reset_reuses_memory_without_allocating),
        cmocka_unit_test_setup_teardown(test_failed_parse_leaves_the_order_cleared_and_reusable,
                                        setup, teardown),
        cmocka_unit_test(test_allocation_failures_fail_cleanly),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
