/* Unit tests for the JSON order reader (lib/order_json.c): the cases where
 * a hand-written JSON reader goes wrong first — escapes (\u surrogate
 * pairs), UTF-8 at each position a byte can be wrong, duplicate keys at
 * every level, numbers at the edges of int64, money precision, exponents,
 * nesting, text that ends early (errors placed at its end), a byte order
 * mark, white space, limits — each asserted against the exact code,
 * message and JSON path that the former yajl reader gave (its messages are
 * part of the contract).  Every case is also run through that reader, kept
 * as the oracle (tests/fuzz/oracle_json_yajl.c), and where both accept,
 * the two orders must be identical slot for slot. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "order_oracle.h"

static const char rules[] =
    "tessera: 1\nruleset: order-json-test\nversion: \"1\"\ncurrency: EUR\n"
    "schema:\n"
    "  item: { height_cm: int, zone: string, event_start: datetime, validated: bool,"
    " ratio: decimal, labels: list<string> }\n"
    "  customer: { visits: int, birthday: date, member: bool, spend_12m: money }\n"
    "  order: { note: string }\n"
    "categories:\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 20.00 }\n"
    "  - { id: student, for: item.kind == \"ticket\", selectable: true, price: 15.00 }\n";

typedef struct fixture {
    tsr_ruleset *rs, *small;     /* small: tight limits on strings, lines, codes, size */
    tsr_order *order, *oracle;
    tsr_error err, oracle_err;
} fixture;

static tsr_ruleset *load(const tsr_load_options *opts)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    if (tsr_ruleset_load_string(&rs, rules, strlen(rules), "order-json-test.yaml", opts, &err) !=
        TSR_OK) {
        fprintf(stderr, "rule set did not load: %d:%d: %s\n", err.line, err.column, err.message);
        return NULL;
    }
    return rs;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;

    opts.max_string_length = 32;
    opts.max_order_lines = 2;
    opts.max_promo_codes = 1;
    opts.max_order_size = 300;
    if (!f || !(f->rs = load(NULL)) || !(f->small = load(&opts)))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tsr_order_free(f->order);
    tsr_order_free(f->oracle);
    tsr_ruleset_free(f->rs);
    tsr_ruleset_free(f->small);
    free(f);
    return 0;
}

/* Read `text` with the library's reader and with the oracle, each into a
 * fresh order of rs (`reuse`: the library's into its order of the last
 * call, reset, as `tessera eval --jsonl` reads its orders), and finish
 * both when read: the library's status. */
static int read_both_into(fixture *f, const tsr_ruleset *rs, const char *text, size_t len,
                          bool reuse)
{
    int rc, orc;

    if (reuse && f->order) {
        tsr_order_reset(f->order);
    } else {
        tsr_order_free(f->order);
        f->order = NULL;
        assert_int_equal(tsr_order_new(&f->order, rs, &f->err), TSR_OK);
    }
    tsr_order_free(f->oracle);
    f->oracle = NULL;
    assert_int_equal(tsr_order_new(&f->oracle, rs, &f->err), TSR_OK);
    memset(&f->err, 0, sizeof f->err);
    memset(&f->oracle_err, 0, sizeof f->oracle_err);
    rc = tsr__order_read_json(f->order, text, len, &f->err);
    if (rc == TSR_OK)
        rc = tsr__order_finish(f->order, &f->err);
    orc = tsr_oracle_order_read_json(f->oracle, text, len, &f->oracle_err);
    if (orc == TSR_OK)
        orc = tsr__order_finish(f->oracle, &f->oracle_err);
    /* the oracle is what the expectations were taken from */
    if (rc != orc)
        fail_msg("reader %d [%s] %s, oracle %d [%s] %s", rc, f->err.path, f->err.message, orc,
                 f->oracle_err.path, f->oracle_err.message);
    if (rc != TSR_OK) {
        assert_int_equal(f->err.code, f->oracle_err.code);
        assert_string_equal(f->err.message, f->oracle_err.message);
        assert_string_equal(f->err.path, f->oracle_err.path);
    } else {
        char *a = tsr_oracle_order_dump(f->order), *b = tsr_oracle_order_dump(f->oracle);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a, b);
        free(a);
        free(b);
    }
    return rc;
}

/* A rule set whose lines have an int field of each name. */
static tsr_ruleset *load_item_ints(fixture *f, const char *const *names, size_t n)
{
    char text[4096];
    size_t used, i;
    tsr_ruleset *rs = NULL;

    used = (size_t)snprintf(text, sizeof text, "tessera: 1\nruleset: ints\nversion: \"1\"\n"
                            "currency: EUR\nschema:\n  item:\n");
    for (i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "    %s: int\n", names[i]);
    assert_true(used < sizeof text);
    assert_int_equal(tsr_ruleset_load_string(&rs, text, used, "ints.yaml", NULL, &f->err),
                     TSR_OK);
    return rs;
}

/* Free a rule set a test loaded, and the fixture's orders, which may be
 * of it. */
static void drop_rules(fixture *f, tsr_ruleset *rs)
{
    tsr_order_free(f->order);
    tsr_order_free(f->oracle);
    f->order = f->oracle = NULL;
    tsr_ruleset_free(rs);
}

static int read_both(fixture *f, const tsr_ruleset *rs, const char *text, size_t len)
{
    return read_both_into(f, rs, text, len, false);
}

static int read_str(fixture *f, const tsr_ruleset *rs, const char *text)
{
    return read_both(f, rs, text, strlen(text));
}

typedef struct jcase {
    const char *text;
    size_t len;              /* 0: strlen(text) */
    int code;
    const char *path;        /* errors */
    const char *message;
} jcase;

/* With TSR_TEST_PRINT set, print what each case gave instead of checking
 * it (for writing the expectations of a new case; review before use). */
static void run_cases(fixture *f, const tsr_ruleset *rs, const jcase *cases, size_t n)
{
    bool print = getenv("TSR_TEST_PRINT") != NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        const jcase *c = &cases[i];
        size_t len = c->len ? c->len : strlen(c->text);
        int rc = read_both(f, rs, c->text, len);
        if (print) {
            printf("case %zu: %d \"%s\" \"%s\"\n", i, rc, rc ? f->err.path : "",
                   rc ? f->err.message : "");
            continue;
        }
        if (rc != c->code || (rc != TSR_OK && (strcmp(f->err.path, c->path) != 0 ||
                                              strcmp(f->err.message, c->message) != 0)))
            fail_msg("case %zu: want %d [%s] %s\n got %d [%s] %s", i, c->code,
                     c->path ? c->path : "", c->message ? c->message : "", rc, f->err.path,
                     f->err.message);
    }
}

#define OK_CASE(t) { t, 0, TSR_OK, NULL, NULL }
#define DT "\"datetime\":\"2026-06-13T14:30:00+03:00\""
#define LINE "{\"id\":\"t1\",\"kind\":\"ticket\"}"
#define LINE2 "{\"id\":\"t2\",\"kind\":\"ticket\"}"
/* an order with one line, plus `more` at the top level */
#define ORDER(more) "{" DT ",\"items\":[" LINE "]" more "}"
/* an order whose one line holds `fields` too */
#define ITEM(fields) "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"," fields "}]}"
#define CUSTOMER(fields) "{" DT ",\"customer\":{" fields "},\"items\":[" LINE "]}"

static const tsr_value *item_value(const fixture *f, int slot)
{
    return &f->order->lines[(size_t)slot];
}

static void assert_bytes(const tsr_value *v, const char *s, size_t n)
{
    assert_int_equal(v->type, TSR_T_STRING);
    assert_int_equal(v->len, n);
    assert_memory_equal(v->u.s, s, n);
    assert_int_equal(v->u.s[n], '\0');
}

/* ---------------------------------------------------------------------
 * Escapes.
 */
static void test_escapes_decode_as_yajl_did(void **state)
{
    fixture *f = *state;

    assert_int_equal(read_str(f, f->rs, ITEM("\"zone\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"")),
                     TSR_OK);
    assert_bytes(item_value(f, tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "zone")),
                 "a\"b\\c/d\b\f\n\r\te", 13);
    /* \u: two, three and four bytes of UTF-8, the last from a surrogate pair */
    assert_int_equal(read_str(f, f->rs, ITEM("\"zone\":\"\\u00e9\\u20AC\\ud83d\\ude00\"")),
                     TSR_OK);
    assert_bytes(item_value(f, tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "zone")),
                 "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9);
    /* a key with escapes is the key it decodes to */
    assert_int_equal(read_str(f, f->rs, "{\"d\\u0061tetime\":\"2026-06-13T14:30:00Z\",\"items\":["
                               LINE "]}"), TSR_OK);
}

static void test_bad_escapes_are_refused_where_yajl_refused_them(void **state)
{
    static const jcase cases[] = {
        /* 0: lone surrogates, in a value and in a key */
        { ITEM("\"zone\":\"a\\ud800\""), 0, TSR_EORDER, "items[0].zone",
          "string has a \\u escape of a lone UTF-16 surrogate" },
        { ITEM("\"zone\":\"\\udc00b\""), 0, TSR_EORDER, "items[0].zone",
          "string has a \\u escape of a lone UTF-16 surrogate" },
        { ITEM("\"zone\":\"\\ud800\\u0041\""), 0, TSR_EORDER, "items[0].zone",
          "string has a \\u escape of a lone UTF-16 surrogate" },
        { ITEM("\"zone\":\"\\ud800\\\\udc00\""), 0, TSR_EORDER, "items[0].zone",
          "string has a \\u escape of a lone UTF-16 surrogate" },
        { ITEM("\"zone\":\"\\ud800\\ud800\""), 0, TSR_EORDER, "items[0].zone",
          "string has a \\u escape of a lone UTF-16 surrogate" },
        /* 5: a key's path is the previous key's, as yajl's reader had it */
        { ORDER(",\"\\udc00x\":1"), 0, TSR_EORDER, "items",
          "key has a \\u escape of a lone UTF-16 surrogate" },
        { ORDER(",\"promo_codes\":[\"A\",\"\\ud83d\"]"), 0, TSR_EORDER, "promo_codes[1]",
          "string has a \\u escape of a lone UTF-16 surrogate" },
        /* \u0000 decodes to a NUL, which no string may hold */
        { ITEM("\"zone\":\"a\\u0000b\""), 0, TSR_EORDER, "items[0].zone",
          "string contains a NUL character" },
        /* malformed escapes are syntax errors, at the offending byte */
        { ITEM("\"zone\":\"a\\xb\""), 0, TSR_EORDER, "items[0].zone",
          "invalid JSON near byte 86: lexical error: inside a string, '\\' occurs before a "
          "character which it may not" },
        { ITEM("\"zone\":\"\\u12G4\""), 0, TSR_EORDER, "items[0].zone",
          "invalid JSON near byte 88: lexical error: invalid (non-hex) character occurs after "
          "'\\u' inside string" },
        /* 10: a raw control byte inside a string */
        { ITEM("\"zone\":\"a\tb\""), 0, TSR_EORDER, "items[0].zone",
          "invalid JSON near byte 85: lexical error: invalid character inside string" },
        /* the surrogate check comes before the string's type */
        { ITEM("\"height_cm\":\"\\udfff\""), 0, TSR_EORDER, "items[0].height_cm",
          "string has a \\u escape of a lone UTF-16 surrogate" },
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

/* ---------------------------------------------------------------------
 * UTF-8: checked where a string is kept, at every kind of fault.
 */
static void test_invalid_utf8_is_refused_at_each_kind_of_fault(void **state)
{
    static const jcase cases[] = {
        /* 0: a continuation byte alone, a lead byte cut short (at the end
         * and before an ASCII byte) */
        { ITEM("\"zone\":\"a\x80\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        { ITEM("\"zone\":\"a\xC3\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        { ITEM("\"zone\":\"\xE2\x82x\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        /* overlong forms, an encoded surrogate, beyond U+10FFFF, 0xFF */
        { ITEM("\"zone\":\"\xC0\xAF\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        { ITEM("\"zone\":\"\xE0\x80\xAF\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        /* 5 */
        { ITEM("\"zone\":\"\xF0\x80\x80\xAF\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        { ITEM("\"zone\":\"\xED\xA0\x80\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        { ITEM("\"zone\":\"\xF4\x90\x80\x80\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        { ITEM("\"zone\":\"\xFF\""), 0, TSR_EORDER, "items[0].zone",
          "string is not valid UTF-8" },
        /* in a built-in string, a promo code, a list element, a promo id */
        { "{\"id\":\"A\x80\"," DT ",\"items\":[" LINE "]}", 0, TSR_EORDER, "id",
          "string is not valid UTF-8" },
        /* 10 */
        { ORDER(",\"promo_codes\":[\"\xC3\"]"), 0, TSR_EORDER, "promo_codes[0]",
          "string is not valid UTF-8" },
        { ITEM("\"labels\":[\"x\",\"\xF5\x80\x80\x80\"]"), 0, TSR_EORDER, "items[0].labels[1]",
          "string is not valid UTF-8" },
        { ORDER(",\"promo_uses\":{\"d\xC3\":1}"), 0, TSR_EORDER, "promo_uses",
          "string is not valid UTF-8" },
        /* in a key: an unknown field, shown with '?' */
        { ITEM("\"zo\xC3ne\":\"A\""), 0, TSR_EORDER, "items[0].zo?ne",
          "unknown field \"zo?ne\" in a line; did you mean \"zone\"?" },
        /* in a string of the wrong type: that is the error */
        { ITEM("\"height_cm\":\"\x80\""), 0, TSR_EORDER, "items[0].height_cm",
          "expected an integer, got a string" },
        /* 15: in a date: not a date */
        { CUSTOMER("\"birthday\":\"2015-06-1\xC3\""), 0, TSR_EORDER, "customer.birthday",
          "\"2015-06-1?\" is not a date (YYYY-MM-DD)" },
        /* outside a string: a syntax error */
        { "{\xC3\xA9:1}", 0, TSR_EORDER, "$",
          "invalid JSON near byte 2: lexical error: invalid char in json text" },
        /* valid: two, three and four bytes, with the NUL-free check */
        OK_CASE(ITEM("\"zone\":\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBF\"")),
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

/* ---------------------------------------------------------------------
 * Duplicate keys, at every level.
 */
static void test_duplicate_keys_are_refused_at_every_level(void **state)
{
    static const jcase cases[] = {
        /* 0: the order, written as it stands and through an escape */
        { "{" DT ",\"id\":\"a\",\"id\":\"b\"}", 0, TSR_EORDER, "id",
          "duplicate key \"id\"" },
        { "{" DT ",\"id\":\"a\",\"i\\u0064\":\"b\"}", 0, TSR_EORDER, "id",
          "duplicate key \"id\"" },
        /* a special key (customer, items, promo_codes) given twice */
        { ORDER(",\"customer\":{},\"customer\":{}"), 0, TSR_EORDER, "customer",
          "duplicate key \"customer\"" },
        { ORDER(",\"items\":[]"), 0, TSR_EORDER, "items",
          "duplicate key \"items\"" },
        { ORDER(",\"promo_codes\":[],\"promo_codes\":[]"), 0, TSR_EORDER, "promo_codes",
          "duplicate key \"promo_codes\"" },
        /* 5: the customer, a line, a schema field, a points lot, promo uses */
        { CUSTOMER("\"visits\":1,\"visits\":2"), 0, TSR_EORDER, "customer.visits",
          "duplicate key \"visits\"" },
        { ITEM("\"zone\":\"A\",\"zone\":null"), 0, TSR_EORDER, "items[0].zone",
          "duplicate key \"zone\"" },
        { "{" DT ",\"items\":[" LINE ",{\"id\":\"t2\",\"kind\":\"x\",\"kind\":\"y\"}]}", 0,
          TSR_EORDER, "items[1].kind",
          "duplicate key \"kind\"" },
        { CUSTOMER("\"points_lots\":[{\"id\":\"L\",\"points\":1,\"points\":2}]"), 0, TSR_EORDER,
          "customer.points_lots[0].points",
          "duplicate key \"points\"" },
        { ORDER(",\"promo_uses\":{\"a\":1,\"b\":2,\"a\":3}"), 0, TSR_EORDER, "promo_uses.a",
          "duplicate key \"a\"" },
        /* 10: one id in promo_uses and promo_total_uses is not a duplicate */
        OK_CASE(ORDER(",\"promo_uses\":{\"a\":1},\"promo_total_uses\":{\"a\":2}")),
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

/* ---------------------------------------------------------------------
 * Numbers.
 */
static void test_integers_at_the_edges_of_int64(void **state)
{
    static const jcase cases[] = {
        /* 0 */
        OK_CASE(CUSTOMER("\"visits\":9223372036854775807")),
        OK_CASE(CUSTOMER("\"visits\":-9223372036854775808")),
        { CUSTOMER("\"visits\":9223372036854775808"), 0, TSR_EORDER, "customer.visits",
          "integer 9223372036854775808 is out of range (64-bit signed)" },
        { CUSTOMER("\"visits\":-9223372036854775809"), 0, TSR_EORDER, "customer.visits",
          "integer -9223372036854775809 is out of range (64-bit signed)" },
        { CUSTOMER("\"visits\":123456789012345678901234567890"), 0, TSR_EORDER, "customer.visits",
          "integer 123456789012345678901234567890 is out of range (64-bit signed)" },
        /* 5: a fraction, an exponent, -0, a leading zero */
        { CUSTOMER("\"visits\":2.0"), 0, TSR_EORDER, "customer.visits",
          "expected an integer, got 2.0" },
        { CUSTOMER("\"visits\":1e3"), 0, TSR_EORDER, "customer.visits",
          "numbers with an exponent are not accepted: 1e3 (write the digits out)" },
        OK_CASE(CUSTOMER("\"visits\":-0")),
        { CUSTOMER("\"visits\":012"), 0, TSR_EORDER, "customer.visits",
          "invalid JSON near byte 62: parse error: after key and value, inside map, I expect ',' "
          "or '}'" },
        /* built-in rules on integers */
        { ITEM("\"quantity\":0"), 0, TSR_EORDER, "items[0].quantity",
          "quantity must be at least 1, got 0" },
        /* 10 */
        { ORDER(",\"redeem_points\":-1"), 0, TSR_EORDER, "redeem_points",
          "redeem_points must be >= 0, got -1" },
        { CUSTOMER("\"points_balance\":-9223372036854775808"), 0, TSR_EORDER,
          "customer.points_balance",
          "points_balance must be >= 0, got -9223372036854775808" },
        OK_CASE(ITEM("\"quantity\":1000000000000000000")),
        { ITEM("\"quantity\":\"2\""), 0, TSR_EORDER, "items[0].quantity",
          "expected an integer, got a string" },
        { CUSTOMER("\"points_lots\":[{\"id\":\"L\",\"points\":1.5}]"), 0, TSR_EORDER,
          "customer.points_lots[0].points",
          "expected an integer, got 1.5" },
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

static void test_money_and_decimals_are_exact(void **state)
{
    fixture *f = *state;
    static const jcase cases[] = {
        /* 0: EUR has two decimals; zeros beyond them are no precision */
        OK_CASE(ITEM("\"price\":1.5")),
        OK_CASE(ITEM("\"price\":\"1.500\"")),
        { ITEM("\"price\":1.505"), 0, TSR_EORDER, "items[0].price",
          "1.505 has more decimals than EUR allows (2)" },
        { ITEM("\"price\":\"1.505\""), 0, TSR_EORDER, "items[0].price",
          "1.505 has more decimals than EUR allows (2)" },
        OK_CASE(ITEM("\"price\":92233720368547758.07")),
        /* 5 */
        { ITEM("\"price\":92233720368547758.08"), 0, TSR_EORDER, "items[0].price",
          "92233720368547758.08 is out of range" },
        { ITEM("\"price\":-0.01"), 0, TSR_EORDER, "items[0].price",
          "price must be >= 0" },
        { ITEM("\"price\":1.5e2"), 0, TSR_EORDER, "items[0].price",
          "numbers with an exponent are not accepted: 1.5e2 (write the digits out)" },
        { ITEM("\"price\":\"1.5e2\""), 0, TSR_EORDER, "items[0].price",
          "expected an amount of money, got \"1.5e2\"" },
        { ITEM("\"price\":\" 1.50\""), 0, TSR_EORDER, "items[0].price",
          "expected an amount of money, got \" 1.50\"" },
        /* 10: decimals: six digits */
        OK_CASE(ITEM("\"ratio\":-0.123456")),
        { ITEM("\"ratio\":0.1234567"), 0, TSR_EORDER, "items[0].ratio",
          "0.1234567 has more than 6 decimals" },
        { ITEM("\"ratio\":1E-7"), 0, TSR_EORDER, "items[0].ratio",
          "numbers with an exponent are not accepted: 1E-7 (write the digits out)" },
        { CUSTOMER("\"spend_12m\":true"), 0, TSR_EORDER, "customer.spend_12m",
          "expected an amount of money, got true" },
    };
    run_cases(f, f->rs, cases, TSR_ARRAY_LEN(cases));
    assert_int_equal(read_str(f, f->rs, ITEM("\"price\":\"0024.90\",\"ratio\":12.5")), TSR_OK);
    assert_int_equal(item_value(f, TSR_ITEM_PRICE)->u.i, 2490);
    assert_int_equal(item_value(f, tsr_ruleset_field(f->rs, TSR_RECORD_ITEM, "ratio"))->u.i,
                     12500000);
}

/* ---------------------------------------------------------------------
 * Shape and syntax.
 */
static void test_nesting_is_refused_at_its_first_bracket(void **state)
{
    fixture *f = *state;
    char deep[2100];
    size_t i, n = 0;
    static const jcase cases[] = {
        /* 0 */
        { ORDER(",\"note\":[[[[1]]]]"), 0, TSR_EORDER, "note",
          "expected a string, got an array" },
        { ORDER(",\"note\":{\"a\":{\"b\":1}}"), 0, TSR_EORDER, "note",
          "expected a string, got an object" },
        { CUSTOMER("\"points_lots\":[{\"id\":{\"x\":[1]}}]"), 0, TSR_EORDER,
          "customer.points_lots[0].id",
          "expected a string, got an object" },
        { ITEM("\"labels\":[[\"x\"]]"), 0, TSR_EORDER, "items[0].labels[0]",
          "expected a string, got an array" },
        { ORDER(",\"promo_uses\":{\"a\":{}}"), 0, TSR_EORDER, "promo_uses.a",
          "expected an integer, got an object" },
        /* 5: not an object at all */
        { "[1]", 0, TSR_EORDER, "$",
          "an order must be an object" },
        { "\"order\"", 0, TSR_EORDER, "$",
          "an order must be an object" },
        { "12", 0, TSR_EORDER, "$",
          "an order must be an object" },
    };

    run_cases(f, f->rs, cases, TSR_ARRAY_LEN(cases));
    for (i = 0; i < 1000; i++)
        deep[n++] = '[';
    for (i = 0; i < 1000; i++)
        deep[n++] = ']';
    assert_int_equal(read_both(f, f->rs, deep, n), TSR_EORDER);
    assert_string_equal(f->err.message, "an order must be an object");
}

static void test_text_that_ends_early_is_refused_at_its_end(void **state)
{
    static const jcase cases[] = {
        /* 0 */
        { "{", 0, TSR_EORDER, "$",
          "invalid JSON near byte 1: parse error: premature EOF" },
        { "{\"id\":\"A-1", 0, TSR_EORDER, "id",
          "invalid JSON near byte 10: parse error: premature EOF" },
        { "{\"id\":\"A-1\"", 0, TSR_EORDER, "id",
          "invalid JSON near byte 11: parse error: premature EOF" },
        { "{\"redeem_points\":12", 0, TSR_EORDER, "redeem_points",
          "invalid JSON near byte 19: parse error: premature EOF" },
        { "{\"redeem_points\":-", 0, TSR_EORDER, "redeem_points",
          "invalid JSON near byte 18: lexical error: malformed number, a digit is required after "
          "the minus sign" },
        /* 5 */
        { "{\"redeem_points\":1.", 0, TSR_EORDER, "redeem_points",
          "invalid JSON near byte 19: lexical error: malformed number, a digit is required after "
          "the decimal point" },
        { "{\"redeem_points\":1e", 0, TSR_EORDER, "redeem_points",
          "invalid JSON near byte 19: lexical error: malformed number, a digit is required after "
          "the exponent" },
        { "{\"channel\":tr", 0, TSR_EORDER, "channel",
          "invalid JSON near byte 13: lexical error: invalid string in json text" },
        { "{\"channel\":\"ab\\", 0, TSR_EORDER, "channel",
          "invalid JSON near byte 15: lexical error: inside a string, '\\' occurs before a "
          "character which it may not" },
        { "{\"channel\":\"\\u12", 0, TSR_EORDER, "channel",
          "invalid JSON near byte 16: lexical error: invalid (non-hex) character occurs after "
          "'\\u' inside string" },
        /* 10: the value decides before the end does */
        { "{\"channel\":12", 0, TSR_EORDER, "channel",
          "expected a string, got the number 12" },
        { "{\"items\":[{\"id\":\"x\"}", 0, TSR_EORDER, "items[1]",
          "invalid JSON near byte 20: parse error: premature EOF" },
        { "{\"id\"", 0, TSR_EORDER, "id",
          "invalid JSON near byte 5: parse error: premature EOF" },
        { "{\"id\":", 0, TSR_EORDER, "id",
          "invalid JSON near byte 6: parse error: premature EOF" },
        { "", 0, TSR_EORDER, "$",
          "invalid JSON near byte 0: parse error: premature EOF" },
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

static void test_syntax_errors_say_what_yajl_said(void **state)
{
    static const jcase cases[] = {
        /* 0: missing colon, key not a string, value missing */
        { "{\"id\" \"x\"}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 9: parse error: object key and value must be separated by a "
          "colon (':')" },
        { "{1:2}", 0, TSR_EORDER, "$",
          "invalid JSON near byte 2: parse error: invalid object key (must be a string)" },
        { "{\"id\":}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 7: parse error: unallowed token at this point in JSON text" },
        { "{\"id\":\"a\",}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 11: parse error: invalid object key (must be a string)" },
        { "{\"id\":\"a\",,}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 11: parse error: invalid object key (must be a string)" },
        /* 5: after a value, each kind of token where ',' or '}' belongs
         * (yajl steps back by the token's length for this message) */
        { "{\"id\":\"a\" \"bcd\"}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 12: parse error: after key and value, inside map, I expect ',' "
          "or '}'" },
        { "{\"id\":\"a\" 12345}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 10: parse error: after key and value, inside map, I expect ',' "
          "or '}'" },
        { "{\"id\":\"a\" true}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 10: parse error: after key and value, inside map, I expect ',' "
          "or '}'" },
        { "{\"id\":\"a\":1}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 9: parse error: after key and value, inside map, I expect ',' "
          "or '}'" },
        { "{\"id\":\"a\"]", 0, TSR_EORDER, "id",
          "invalid JSON near byte 9: parse error: after key and value, inside map, I expect ',' "
          "or '}'" },
        /* 10: arrays */
        { ORDER(",\"promo_codes\":[\"A\",]"), 0, TSR_EORDER, "promo_codes[1]",
          "invalid JSON near byte 98: parse error: unallowed token at this point in JSON text" },
        { ORDER(",\"promo_codes\":[\"A\" \"B\"]"), 0, TSR_EORDER, "promo_codes[1]",
          "invalid JSON near byte 100: parse error: after array element, I expect ',' or ']'" },
        { ORDER(",\"promo_codes\":[,]"), 0, TSR_EORDER, "promo_codes[0]",
          "invalid JSON near byte 94: parse error: unallowed token at this point in JSON text" },
        /* literals, comments, stray bytes, numbers */
        { "{\"channel\":nul}", 0, TSR_EORDER, "channel",
          "invalid JSON near byte 14: lexical error: invalid string in json text" },
        { "{/* c */}", 0, TSR_EORDER, "$",
          "invalid JSON near byte 1: lexical error: probable comment found in input text, "
          "comments are not enabled" },
        /* 15 */
        { "{\"id\":'a'}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 7: lexical error: invalid char in json text" },
        { "{\"id\":-x}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 7: lexical error: malformed number, a digit is required after "
          "the minus sign" },
        { "{\"id\":1.e5}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 8: lexical error: malformed number, a digit is required after "
          "the decimal point" },
        { "{\"id\":1e+}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 9: lexical error: malformed number, a digit is required after "
          "the exponent" },
        { "{\"id\":+1}", 0, TSR_EORDER, "id",
          "invalid JSON near byte 7: lexical error: invalid char in json text" },
        /* 20: after the order: anything but white space, lexed once */
        { ORDER("") " x", 0, TSR_EORDER, "$",
          "invalid JSON near byte 80: parse error: trailing garbage" },
        { ORDER("") " 1", 0, TSR_EORDER, "$",
          "invalid JSON near byte 80: parse error: trailing garbage" },
        { ORDER("") "{}", 0, TSR_EORDER, "$",
          "invalid JSON near byte 79: parse error: trailing garbage" },
        { ORDER("") " tru", 0, TSR_EORDER, "$",
          "invalid JSON near byte 82: parse error: trailing garbage" },
        /* an unterminated string after the order is all yajl never saw */
        OK_CASE(ORDER("") " \"abc"),
        /* 25: a NUL byte outside a string */
        { "{\"id\":\"a\"\0}", 12, TSR_EORDER, "id",
          "invalid JSON near byte 10: lexical error: invalid char in json text" },
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

/* White space is JSON's plus \v and \f (yajl's); a byte order mark is
 * dropped by tsr_order_parse before the reader sees the text. */
static void test_white_space_and_a_byte_order_mark(void **state)
{
    fixture *f = *state;
    static const char spaced[] =
        " \t\r\n{ \"datetime\" \v:\f\"2026-06-13T14:30:00Z\" ,\n\"items\"\r:\t[ {\"id\" : \"t1\" ,"
        " \"kind\":\"ticket\" , \"quantity\" : 2 } ] , \"promo_codes\" : [ \"A\" , \"B\" ] } \n\t";
    static const char bom[] = "\xEF\xBB\xBF{" DT ",\"items\":[" LINE "]}";
    static const jcase cases[] = {
        OK_CASE(spaced),
        /* a mark inside the text is not white space */
        { "{\xEF\xBB\xBF" DT ",\"items\":[" LINE "]}", 0, TSR_EORDER, "$",
          "invalid JSON near byte 2: lexical error: invalid char in json text" },
        /* nor is a NBSP */
        { "{\xC2\xA0" DT ",\"items\":[" LINE "]}", 0, TSR_EORDER, "$",
          "invalid JSON near byte 2: lexical error: invalid char in json text" },
    };

    run_cases(f, f->rs, cases, TSR_ARRAY_LEN(cases));
    assert_int_equal(read_str(f, f->rs, spaced), TSR_OK);
    assert_int_equal(f->order->nlines, 1);
    assert_int_equal(item_value(f, TSR_ITEM_QUANTITY)->u.i, 2);
    assert_int_equal(f->order->npromo_codes, 2);
    assert_int_equal(tsr_order_parse(f->order, bom, strlen(bom), &f->err), TSR_OK);
    assert_int_equal(f->order->nlines, 1);
}

/* ---------------------------------------------------------------------
 * Limits, as they were.
 */
static void test_limits_are_enforced_as_before(void **state)
{
    fixture *f = *state;
    char big[400];
    static const jcase cases[] = {
        /* 0: strings (32 bytes): a value, a key, a promo id, a decoded string */
        { ITEM("\"zone\":\"123456789012345678901234567890123\""), 0, TSR_ELIMIT, "items[0].zone",
          "string of 33 bytes is longer than the limit (32 bytes)" },
        OK_CASE(ITEM("\"zone\":\"12345678901234567890123456789012\"")),
        { ORDER(",\"promo_total_uses_and_then_some_xy\":{}"), 0, TSR_ELIMIT, "items",
          "key of 33 bytes is longer than the limit (32 bytes)" },
        { ORDER(",\"promo_uses\":{\"123456789012345678901234567890123\":1}"), 0, TSR_ELIMIT,
          "promo_uses",
          "key of 33 bytes is longer than the limit (32 bytes)" },
        OK_CASE(ITEM("\"zone\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
                     "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"")),
        /* 5 */
        { ITEM("\"zone\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
               "\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9x\""), 0, TSR_ELIMIT,
                 "items[0].zone",
          "string of 33 bytes is longer than the limit (32 bytes)" },
        /* lines (2), promo codes (1) */
        { "{" DT ",\"items\":[" LINE "," LINE "," LINE "]}", 0, TSR_ELIMIT, "items[2]",
          "an order may have at most 2 lines" },
        { ORDER(",\"promo_codes\":[\"A\",\"B\"]"), 0, TSR_ELIMIT, "promo_codes[1]",
          "an order may carry at most 1 promo codes" },
        /* a date string over the limit: the limit speaks first */
        { CUSTOMER("\"birthday\":\"2015-06-15T00:00:00.000000000+03:00\""), 0, TSR_ELIMIT,
          "customer.birthday",
          "string of 35 bytes is longer than the limit (32 bytes)" },
    };

    run_cases(f, f->small, cases, TSR_ARRAY_LEN(cases));
    /* the order's size (300 bytes) */
    memset(big, ' ', sizeof big);
    memcpy(big, ORDER(""), strlen(ORDER("")));
    assert_int_equal(read_both(f, f->small, big, 300), TSR_OK);
    assert_int_equal(read_both(f, f->small, big, 301), TSR_ELIMIT);
    assert_string_equal(f->err.path, "$");
    assert_string_equal(f->err.message, "order of 301 bytes is larger than the limit (300 bytes)");
}

/* ---------------------------------------------------------------------
 * The key index.
 */

/* Every name of a record's index is found at its home slot: one hash, one
 * compare. */
static bool index_is_perfect(const tsr_okey_index *ix)
{
    uint32_t i;
    for (i = 0; i <= ix->mask; i++) {
        const tsr_okey_slot *k = &ix->slots[i];
        if (k->name && (tsr__okey_hash(k->name, k->len, ix->seed) & ix->mask) != i)
            return false;
    }
    return true;
}

static void test_key_index_is_a_perfect_hash_for_ordinary_schemas(void **state)
{
    fixture *f = *state;
    int rec;

    for (rec = 0; rec < TSR_REC__COUNT; rec++)
        assert_true(index_is_perfect(&f->rs->okeys[rec]));
}

/* More names than a perfect hash is looked for, some of them alike in
 * length and first, middle and last byte: the index probes, and every key
 * still reads. */
static void test_keys_of_a_wide_schema_read_as_before(void **state)
{
    fixture *f = *state;
    char text[4096], order[4096];
    size_t used = 0, o = 0;
    tsr_ruleset *rs = NULL;
    int i;

    used += (size_t)snprintf(text, sizeof text, "tessera: 1\nruleset: wide\nversion: \"1\"\n"
                             "currency: KWD\nschema:\n  item:\n");
    for (i = 0; i < 70; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "    f%d_x: int\n", i);
    used += (size_t)snprintf(text + used, sizeof text - used,
                             "    paxb: int\n    pbxb: string\n    pcxb: money\n");
    assert_int_equal(tsr_ruleset_load_string(&rs, text, used, "wide.yaml", NULL, &f->err),
                     TSR_OK);
    assert_false(index_is_perfect(&rs->okeys[TSR_REC_ITEM]));
    o += (size_t)snprintf(order, sizeof order, "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"k\"");
    for (i = 0; i < 70; i++)
        o += (size_t)snprintf(order + o, sizeof order - o, ",\"f%d_x\":%d", i, i);
    o += (size_t)snprintf(order + o, sizeof order - o,
                          ",\"paxb\":1,\"pbxb\":\"b\",\"pcxb\":\"1.234\",\"price\":0.5}]}");
    assert_int_equal(read_both(f, rs, order, o), TSR_OK);
    assert_int_equal(item_value(f, tsr_ruleset_field(rs, TSR_RECORD_ITEM, "f69_x"))->u.i, 69);
    assert_int_equal(item_value(f, tsr_ruleset_field(rs, TSR_RECORD_ITEM, "pcxb"))->u.i, 1234);
    assert_int_equal(item_value(f, TSR_ITEM_PRICE)->u.i, 500);
    /* a key alike to a name but not one is still unknown */
    o = (size_t)snprintf(order, sizeof order, ITEM("\"pdxb\":1"));
    assert_int_equal(read_both(f, rs, order, o), TSR_EORDER);
    assert_string_equal(f->err.path, "items[0].pdxb");
    drop_rules(f, rs);
}

/* an order placed at datetime `s`, and what refusing `s` says */
#define AT(s) "{\"datetime\":\"" s "\",\"items\":[" LINE "]}"
#define NOT_DT(s) \
    "\"" s "\" is not an ISO 8601 datetime with a UTC offset (like 2026-06-13T14:30:00+03:00)"

/* What the reader takes without the lexer -- a key found by its closing
 * quote, a value typed by its field (an integer, a date, a datetime read
 * where it lies), '{', '}' and ']' -- next to the forms that must still
 * go the generic way, at every edge of each. */
static void test_values_read_in_place_as_before(void **state)
{
    static const jcase cases[] = {
        /* 0: integers of integer fields */
        OK_CASE(ITEM("\"height_cm\":999999999999999999")),
        OK_CASE(ITEM("\"height_cm\":1000000000000000000")),
        OK_CASE(ITEM("\"height_cm\":7 ")),
        OK_CASE(ITEM("\"quantity\":3")),
        { ITEM("\"height_cm\":7.5"), 0, TSR_EORDER, "items[0].height_cm",
          "expected an integer, got 7.5" },
        /* 5 */
        { ITEM("\"height_cm\":7e2"), 0, TSR_EORDER, "items[0].height_cm",
          "numbers with an exponent are not accepted: 7e2 (write the digits out)" },
        { ITEM("\"height_cm\":7x"), 0, TSR_EORDER, "items[0].height_cm",
          "invalid JSON near byte 90: lexical error: invalid char in json text" },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"quantity\":12", 0,
          TSR_EORDER, "items[0].quantity",
          "invalid JSON near byte 89: parse error: premature EOF" },
        { ITEM("\"quantity\":-2"), 0, TSR_EORDER, "items[0].quantity",
          "quantity must be at least 1, got -2" },
        { ITEM("\"height_cm\":\"7\""), 0, TSR_EORDER, "items[0].height_cm",
          "expected an integer, got a string" },
        /* 10: dates */
        OK_CASE(CUSTOMER("\"birthday\":\"2000-02-29\"")),
        { CUSTOMER("\"birthday\":\"1900-02-29\""), 0, TSR_EORDER, "customer.birthday",
          "\"1900-02-29\" is not a date (YYYY-MM-DD)" },
        { CUSTOMER("\"birthday\":\"1980-4-25\""), 0, TSR_EORDER, "customer.birthday",
          "\"1980-4-25\" is not a date (YYYY-MM-DD)" },
        { CUSTOMER("\"birthday\":\"0000-01-01\""), 0, TSR_EORDER, "customer.birthday",
          "\"0000-01-01\" is not a date (YYYY-MM-DD)" },
        { CUSTOMER("\"birthday\":\"1980-04-25 \""), 0, TSR_EORDER, "customer.birthday",
          "\"1980-04-25 \" is not a date (YYYY-MM-DD)" },
        /* 15 */
        { CUSTOMER("\"birthday\":\"1980-04-2\""), 0, TSR_EORDER, "customer.birthday",
          "\"1980-04-2\" is not a date (YYYY-MM-DD)" },
        { CUSTOMER("\"birthday\":\"1980/04/25\""), 0, TSR_EORDER, "customer.birthday",
          "\"1980/04/25\" is not a date (YYYY-MM-DD)" },
        /* datetimes */
        OK_CASE(AT("2026-06-13t14:30Z")),
        OK_CASE(AT("2026-06-13 14:30:59.5-0330")),
        OK_CASE(AT("2026-06-13T14:30:00.123456+18:00")),
        /* 20 */
        { AT("2026-06-13T14:30:00.1234567Z"), 0, TSR_EORDER, "datetime",
          NOT_DT("2026-06-13T14:30:00.1234567Z") },
        { AT("2026-06-13T14:30:00.Z"), 0, TSR_EORDER, "datetime", NOT_DT("2026-06-13T14:30:00.Z") },
        { AT("2026-06-13T24:00:00Z"), 0, TSR_EORDER, "datetime", NOT_DT("2026-06-13T24:00:00Z") },
        { AT("2026-06-13T14:30:60Z"), 0, TSR_EORDER, "datetime", NOT_DT("2026-06-13T14:30:60Z") },
        { AT("2026-06-13T14:30:00+18:01"), 0, TSR_EORDER, "datetime",
          NOT_DT("2026-06-13T14:30:00+18:01") },
        /* 25 */
        { AT("2026-06-13T14:30:00+03:0"), 0, TSR_EORDER, "datetime",
          NOT_DT("2026-06-13T14:30:00+03:0") },
        { AT("2026-06-13T14:30"), 0, TSR_EORDER, "datetime", NOT_DT("2026-06-13T14:30") },
        { AT("2026-06-13T14:3Z"), 0, TSR_EORDER, "datetime", NOT_DT("2026-06-13T14:3Z") },
        { AT("2026-06-13T14:30:00+0300 "), 0, TSR_EORDER, "datetime",
          NOT_DT("2026-06-13T14:30:00+0300 ") },
        OK_CASE(AT("2026-06-13T14:30:00-03:00")),
        /* 30: arrays and objects, with and without white space */
        OK_CASE("{" DT ",\"items\":[ " LINE " ]}"),
        OK_CASE("{" DT ",\"items\":[" LINE ",{\"id\":\"t2\",\"kind\":\"fnb\"}]}"),
        OK_CASE("{" DT ",\"items\":[\n" LINE "\n,\n{\"id\":\"t2\",\"kind\":\"ticket\" }\n]\n}"),
        { "{" DT ",\"items\":[ ]}", 0, TSR_EORDER, "items",
          "an order needs at least one line" },
        { "{" DT ",\"items\":[" LINE ",]}", 0, TSR_EORDER, "items[1]",
          "invalid JSON near byte 78: parse error: unallowed token at this point in JSON text" },
        /* 35 */
        { "{" DT ",\"items\":[" LINE "}", 0, TSR_EORDER, "items[1]",
          "invalid JSON near byte 77: parse error: after array element, I expect ',' or ']'" },
        OK_CASE(ITEM("\"labels\":[ \"a\" , \"b\"]")),
        OK_CASE(ITEM("\"labels\":[]")),
        /* keys: what looks like a name but is not, or not plainly */
        { ITEM("\"i\\\"d\":\"x\""), 0, TSR_EORDER, "items[0].i\"d",
          "unknown field \"i\"d\" in a line; did you mean \"id\"?" },
        { ITEM("\"kin\\u0064\":\"x\""), 0, TSR_EORDER, "items[0].kind",
          "duplicate key \"kind\"" },
        /* 40 */
        { ITEM("\"height_cm_and_then_some\":1"), 0, TSR_EORDER,
          "items[0].height_cm_and_then_some",
          "unknown field \"height_cm_and_then_some\" in a line: fields beyond the built-in "
          "ones must be declared in the rule set's schema" },
        { ITEM("\"height_cm\xc3\xa9\":1"), 0, TSR_EORDER, "items[0].height_cm\xc3\xa9",
          "unknown field \"height_cm\xc3\xa9\" in a line; did you mean \"height_cm\"?" },
        { "{\"datetime\":\"2026-06-13T14:30:00Z\",\"items\":[{\"id", 0, TSR_EORDER, "items[0]",
          "invalid JSON near byte 48: parse error: premature EOF" },
    };
    run_cases(*state, ((fixture *)*state)->rs, cases, TSR_ARRAY_LEN(cases));
}

/* Compact pairs are read whole from the text where the key is guessed
 * from the order before (the order is reused, as `tessera eval --jsonl`
 * reuses it) or found by the key index: every way such a pair can fail to
 * be one -- an escape, a value its field does not take as it stands, a
 * value a rule refuses, a duplicate, white space, text that ends -- must
 * read as the oracle (the former yajl reader) reads it, and so must the
 * pairs after it.  Each case runs twice, so the second time every guess
 * is of the case itself. */
#define FULL_CUSTOMER(c) \
    "\"customer\":{\"id\":\"c1\",\"visits\":3," c ",\"member\":true,\"spend_12m\":\"12.50\"}"
#define FULL_LINE(l) \
    "{\"id\":\"t1\",\"kind\":\"ticket\",\"quantity\":2," l ",\"event_start\":" \
    "\"2026-06-13T18:00:00Z\",\"validated\":false,\"ratio\":\"0.125\"}"
#define FULL(c, l) \
    "{\"id\":\"o1\"," DT ",\"note\":\"hi\"," FULL_CUSTOMER(c) ",\"items\":[" FULL_LINE(l) \
    ",{\"id\":\"t2\",\"kind\":\"ticket\",\"height_cm\":95,\"zone\":\"B\"}]}"
#define GOOD_C "\"birthday\":\"1980-04-25\""
#define GOOD_L "\"height_cm\":120,\"zone\":\"A\""

/* A text and the status reading it must give. */
typedef struct rcase {
    const char *text;
    int code;
} rcase;

/* Each case read into the fixture's reused order of f->rs, twice in a row
 * (the second time every key is guessed from the first), the reader held
 * to the oracle's answer each time (read_both_into), in two passes. */
static void run_twice(fixture *f, const rcase *cases, size_t n)
{
    size_t pass, i;

    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < n; i++) {
            int rc = read_both_into(f, f->rs, cases[i].text, strlen(cases[i].text), true);
            if (rc != cases[i].code)
                fail_msg("case %zu: want %d, got %d [%s] %s", i, cases[i].code, rc, f->err.path,
                         f->err.message);
            assert_int_equal(read_both_into(f, f->rs, cases[i].text, strlen(cases[i].text),
                                            true), rc);
        }
}

static void test_pairs_read_whole_as_before(void **state)
{
    static const rcase cases[] = {
        { FULL(GOOD_C, GOOD_L), TSR_OK },
        /* strings a typed field's parser refuses as they lie: escapes, bytes */
        { FULL("\"birthday\":\"1980-04-2\\u0035\"", GOOD_L), TSR_OK },
        { FULL("\"birthday\":\"1980-04-25\\u0000\"", GOOD_L), TSR_EORDER },
        { FULL("\"birthday\":\"1980-04-2\x01\"", GOOD_L), TSR_EORDER },
        { FULL("\"birthday\":\"1980-04-25\xc3\xa9\"", GOOD_L), TSR_EORDER },
        { FULL("\"birthday\":\"1980-02-30\"", GOOD_L), TSR_EORDER },
        { FULL("\"birthday\":null", GOOD_L), TSR_OK },
        { FULL("\"birthday\":19800425", GOOD_L), TSR_EORDER },
        { FULL("\"birthday\":\"1980-04-25\\\"", GOOD_L), TSR_EORDER },
        /* money and decimals */
        { FULL(GOOD_C ",\"visits\":4", GOOD_L), TSR_EORDER },
        { "{" DT ",\"customer\":{\"spend_12m\":\"12.505\"},\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"customer\":{\"spend_12m\":12.5},\"items\":[" LINE "]}", TSR_OK },
        { "{" DT ",\"customer\":{\"spend_12m\":\"-0.01\"},\"items\":[" LINE "]}", TSR_OK },
        { FULL(GOOD_C, GOOD_L ",\"price\":\"-1.00\""), TSR_EORDER },
        { FULL(GOOD_C, GOOD_L ",\"price\":\"1.00\""), TSR_OK },
        { FULL(GOOD_C, "\"ratio\":\"1.1234567\""), TSR_EORDER },
        /* booleans */
        { "{" DT ",\"customer\":{\"member\":tru},\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"customer\":{\"member\":truex},\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"customer\":{\"member\":false ,\"id\":\"c\"},\"items\":[" LINE "]}",
          TSR_OK },
        { "{" DT ",\"customer\":{\"member\":\"true\"},\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"customer\":{\"member\":fals", TSR_EORDER },
        /* integers */
        { FULL(GOOD_C, "\"height_cm\":0,\"zone\":\"A\""), TSR_OK },
        { "{\"redeem_points\":250," DT ",\"items\":[" LINE "]}", TSR_OK },
        { "{\"redeem_points\":0," DT ",\"items\":[" LINE "]}", TSR_OK },
        { "{\"redeem_points\":-1," DT ",\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"customer\":{\"points_balance\":12,\"visits\":3},\"items\":[" LINE "]}",
          TSR_OK },
        { "{" DT ",\"customer\":{\"points_balance\":-12},\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"quantity\":3}]}", TSR_OK },
        { FULL(GOOD_C, "\"height_cm\":-5,\"zone\":\"A\""), TSR_OK },
        { FULL(GOOD_C, "\"height_cm\":12345678901234567890"), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":1234567890123456789"), TSR_OK },
        { FULL(GOOD_C, "\"height_cm\":1e2"), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":12.0"), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":12,\"quantity\":0"), TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"quantity\":0}]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"quantity\":7", TSR_EORDER },
        /* strings */
        { FULL(GOOD_C, "\"height_cm\":1,\"zone\":\"a\\nb\""), TSR_OK },
        { FULL(GOOD_C, "\"height_cm\":1,\"zone\":\"\xc3\xa9\""), TSR_OK },
        { FULL(GOOD_C, "\"height_cm\":1,\"zone\":\"\xff\""), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":1,\"zone\":7"), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":1,\"category\":\"student\""), TSR_OK },
        { FULL(GOOD_C, "\"height_cm\":1,\"category\":\"adult\""), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":1,\"labels\":[\"x\"]"), TSR_OK },
        /* empty lists */
        { FULL(GOOD_C, "\"labels\":[],\"height_cm\":1"), TSR_OK },
        { FULL(GOOD_C, "\"labels\":[ ],\"height_cm\":1"), TSR_OK },
        { FULL(GOOD_C, "\"labels\":[],\"labels\":[]"), TSR_EORDER },
        { FULL(GOOD_C, "\"labels\":[],\"labels\":[\"x\"]"), TSR_EORDER },
        { FULL(GOOD_C, "\"height_cm\":[]"), TSR_EORDER },
        { FULL("\"tags\":[]," GOOD_C, GOOD_L), TSR_OK },
        { FULL("\"tags\":[]", GOOD_L), TSR_OK },
        { FULL("\"tags\":[\"a\"],\"tags\":[]", GOOD_L), TSR_EORDER },
        { FULL("\"tags\":[]]", GOOD_L), TSR_EORDER },
        { FULL("\"tags\":[],", GOOD_L), TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"labels\":[", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"labels\":[]", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"labels\":[]}", TSR_EORDER },
        /* keys: duplicates, out of the guessed order, white space, escapes */
        { FULL(GOOD_C, GOOD_L ",\"zone\":\"B\""), TSR_EORDER },
        { FULL(GOOD_C ",\"id\":\"c2\"", GOOD_L), TSR_EORDER },
        { "{\"items\":[{\"kind\":\"ticket\",\"id\":\"t1\"}]," DT ",\"id\":\"o\"}", TSR_OK },
        { "{" DT ",\"items\":[{\"id\" :\"t1\",\"kind\": \"ticket\"}]}", TSR_OK },
        { "{" DT ",\"items\":[{\"id\":\"t1\" ,\"kind\":\"ticket\" }]}", TSR_OK },
        { "{" DT ",\"items\":[{\"i\\u0064\":\"t1\",\"kind\":\"ticket\"}]}", TSR_OK },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",}]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":,\"kind\":\"ticket\"}]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}x]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"\"x\":1}]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"zone\":\"A", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"zone\"", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"zone\":", TSR_EORDER },
        { "{\"datetime\":\"2026-06-13T14:30:00Z\"", TSR_EORDER },
        { "{\"datetime\":\"2026-06-13T14:30:00Z", TSR_EORDER },
        { FULL(GOOD_C, GOOD_L), TSR_OK },
    };
    fixture *f = *state;
    size_t i;

    run_twice(f, cases, TSR_ARRAY_LEN(cases));
    /* a string over the limit, guessed or not */
    for (i = 0; i < 2; i++)
        assert_int_equal(read_both_into(f, f->small,
                                        "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\","
                                        "\"zone\":\"0123456789012345678901234567890123\"}]}",
                                        strlen("{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":"
                                               "\"ticket\",\"zone\":\"01234567890123456789"
                                               "01234567890123\"}]}"), i > 0),
                         TSR_ELIMIT);
}

/* A promo code or a list's string written plainly (valid UTF-8, no escape)
 * is kept where it lies in the order's copy of the text, not checked and
 * copied again; one with an escape, a bad byte or over a limit goes the
 * general way.  Each must read as the oracle reads it. */
static void test_codes_and_list_strings_kept_as_they_lie(void **state)
{
    static const struct {
        const char *text;
        int code;
    } cases[] = {
        { ORDER(",\"promo_codes\":[\"SUMMER\",\"DOC2022\"]"), TSR_OK },
        { ORDER(",\"promo_codes\":[\"SUM\\u004dER\",\"caf\xc3\xa9\"]"), TSR_OK },
        { ORDER(",\"promo_codes\":[\"SUMMER\",\"\xc3\"]"), TSR_EORDER },
        { ORDER(",\"promo_codes\":[\"\\u0000\"]"), TSR_EORDER },
        { ORDER(",\"promo_codes\":[\"SUMMER\",7]"), TSR_EORDER },
        { ITEM("\"labels\":[\"a\",\"caf\xc3\xa9\",\"b\\\"c\"]"), TSR_OK },
        { ITEM("\"labels\":[\"a\",\"\xed\xa0\x80\"]"), TSR_EORDER },
        { ITEM("\"labels\":[\"a\",null]"), TSR_EORDER },
        /* straight from the array to the order */
        { ORDER(",\"promo_codes\":[\"A\",\"A\",\"\"]"), TSR_OK },
        { ORDER(",\"promo_codes\":[\"A\" ,\"B\"]"), TSR_OK },
        { ORDER(",\"promo_codes\":[\"A\",\"B"), TSR_EORDER },
        { ORDER(",\"promo_codes\":[\"A\"\"B\"]"), TSR_EORDER },
        { CUSTOMER("\"tags\":[\"vip\",\"season_pass\",\"x\\u0041\"]"), TSR_OK },
        { CUSTOMER("\"tags\":[\"vip\",1]"), TSR_EORDER },
        { ITEM("\"labels\":[\"a\",\"b\",\"c\",\"d\",\"e\"]"), TSR_OK },
    };
    fixture *f = *state;
    size_t i;
    const char *text;

    for (i = 0; i < TSR_ARRAY_LEN(cases); i++) {
        int rc = read_both_into(f, f->rs, cases[i].text, strlen(cases[i].text), true);
        if (rc != cases[i].code)
            fail_msg("case %zu: want %d, got %d [%s] %s", i, cases[i].code, rc, f->err.path,
                     f->err.message);
    }
    /* the limits: codes, string length */
    text = ORDER(",\"promo_codes\":[\"A\",\"B\"]");
    assert_int_equal(read_both(f, f->small, text, strlen(text)), TSR_ELIMIT);
    text = ORDER(",\"promo_codes\":[\"0123456789012345678901234567890123\"]");
    assert_int_equal(read_both(f, f->small, text, strlen(text)), TSR_ELIMIT);
    text = ITEM("\"labels\":[\"0123456789012345678901234567890123\"]");
    assert_int_equal(read_both(f, f->small, text, strlen(text)), TSR_ELIMIT);
    /* a kept code reads back as written */
    text = ORDER(",\"promo_codes\":[\"caf\xc3\xa9\"]");
    assert_int_equal(read_both(f, f->rs, text, strlen(text)), TSR_OK);
    assert_int_equal(f->order->npromo_codes, 1);
    assert_int_equal(f->order->promo_codes[0].len, 5);
    assert_string_equal(f->order->promo_codes[0].code, "caf\xc3\xa9");
}

/* The guess of the next key is matched with its closing quote under masks
 * made for its length: names of every length up to 15 bytes, names that
 * are prefixes of others, read in one order of keys and then in others,
 * into one reused order, as the oracle reads them. */
static void test_guessed_keys_of_every_length_read_as_before(void **state)
{
    static const char *const names[] = {
        "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "abcdefghi",
        "abcdefghij", "abcdefghijk", "abcdefghijkl", "abcdefghijklm", "abcdefghijklmn",
        "abcdefghijklmno", "abcdefghijklmnop", "b", "abcdefgi", "abcdefghijklmnp",
    };
    enum { N = sizeof names / sizeof names[0] };
    fixture *f = *state;
    char order[4096];
    size_t o, i, pass;
    tsr_ruleset *rs = load_item_ints(f, names, N);
    for (pass = 0; pass < 8; pass++) {
        /* pass 0, 1: in order; 2, 3: reversed; 4, 5: every other; 6, 7: a
         * key cut short ("abcdefgh" where "abcdefghi" was guessed) */
        o = (size_t)snprintf(order, sizeof order, "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"k\"");
        for (i = 0; i < N; i++) {
            size_t at = pass < 2 ? i : pass < 4 ? N - 1 - i : pass < 6 ? (i * 2) % N : i;
            if (pass >= 6 && at == 8)
                continue;   /* "abcdefghi" left out: "abcdefgh" is followed by "abcdefghij" */
            o += (size_t)snprintf(order + o, sizeof order - o, ",\"%s\":%zu", names[at], at + 1);
        }
        o += (size_t)snprintf(order + o, sizeof order - o, "}]}");
        assert_int_equal(read_both_into(f, rs, order, o, true), TSR_OK);
        for (i = 0; i < N; i++) {
            const tsr_value *v = item_value(f, tsr_ruleset_field(rs, TSR_RECORD_ITEM, names[i]));
            if (pass >= 6 && i == 8)
                assert_int_equal(v->type, TSR_T_MISSING);
            else
                assert_int_equal(v->u.i, (int64_t)i + 1);
        }
    }
    /* a key that is a guessed name plus more, or less */
    o = (size_t)snprintf(order, sizeof order, "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"k\","
                         "\"abcdefghijklmnopq\":1}]}");
    assert_int_equal(read_both_into(f, rs, order, o, true), TSR_EORDER);
    o = (size_t)snprintf(order, sizeof order, "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"k\","
                         "\"abcdefghijklmnopq\"");
    assert_int_equal(read_both_into(f, rs, order, o, true), TSR_EORDER);
    drop_rules(f, rs);
}

/* The customer's object and the items' and promo codes' arrays, met in
 * the order's pairs, are read from there (their key noted for the paths of
 * what fails inside them), and the pairs after them too: every case twice
 * into one reused order, so the second time every key is guessed, as the
 * oracle reads it. */
static void test_records_and_lists_inside_the_pairs_read_as_before(void **state)
{
    static const rcase cases[] = {
        { "{\"id\":\"o1\",\"customer\":{\"id\":\"c1\",\"visits\":2}," DT
          ",\"items\":[" LINE "],\"promo_codes\":[\"A\",\"B\"],\"note\":\"n\"}", TSR_OK },
        { "{" DT ",\"promo_codes\":[],\"items\":[" LINE "," LINE2 "],\"customer\":{}}", TSR_OK },
        { "{" DT ",\"items\":[],\"customer\":{\"id\":\"c1\"}}", TSR_EORDER },
        { "{" DT ",\"items\":[" LINE "],\"customer\":null}", TSR_OK },
        { "{" DT ",\"items\":{},\"customer\":{}}", TSR_EORDER },
        { "{" DT ",\"customer\":[],\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"promo_codes\":{},\"items\":[" LINE "]}", TSR_EORDER },
        /* errors inside, with their paths */
        { "{" DT ",\"customer\":{\"birthday\":\"1980-02-30\"},\"items\":[" LINE "]}",
          TSR_EORDER },
        { "{" DT ",\"customer\":{\"visits\":\"2\"},\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"quantity\":0}]}",
          TSR_EORDER },
        { "{" DT ",\"items\":[" LINE ",7]}", TSR_EORDER },
        { "{" DT ",\"items\":[" LINE "],\"promo_codes\":[\"A\",1]}", TSR_EORDER },
        { "{" DT ",\"customer\":{\"id\":\"c1\",\"id\":\"c2\"},\"items\":[" LINE "]}",
          TSR_EORDER },
        { "{" DT ",\"customer\":{\"id\":\"c1\"" , TSR_EORDER },
        { "{" DT ",\"items\":[" LINE, TSR_EORDER },
        { "{" DT ",\"items\":[" LINE "]", TSR_EORDER },
        { "{" DT ",\"items\":[" LINE "]x", TSR_EORDER },
        { "{" DT ",\"customer\":{", TSR_EORDER },
        { "{" DT ",\"customer\":", TSR_EORDER },
        /* twice, and after them what the pairs' loop does not take */
        { "{" DT ",\"customer\":{},\"items\":[" LINE "],\"customer\":{}}", TSR_EORDER },
        { "{" DT ",\"items\":[" LINE "],\"items\":[" LINE "]}", TSR_EORDER },
        { "{" DT ",\"promo_codes\":[],\"items\":[" LINE "],\"promo_codes\":[]}", TSR_EORDER },
        { "{" DT ",\"items\":[" LINE "] ,\"customer\":{} }", TSR_OK },
        { "{" DT ",\"items\":[" LINE "],\"promo_uses\":{\"A\":1},\"customer\":{}}", TSR_OK },
        { "{" DT ",\"items\":[" LINE "]}  ", TSR_OK },
        { "{" DT ",\"items\":[" LINE "]} {}", TSR_EORDER },
    };
    fixture *f = *state;
    size_t i;

    run_twice(f, cases, TSR_ARRAY_LEN(cases));
    /* the limits inside: lines, codes */
    for (i = 0; i < 2; i++) {
        const char *text = "{" DT ",\"items\":[" LINE "," LINE2 "," LINE "]}";
        assert_int_equal(read_both_into(f, f->small, text, strlen(text), i > 0), TSR_ELIMIT);
        text = "{" DT ",\"items\":[" LINE "],\"promo_codes\":[\"A\",\"B\"]}";
        assert_int_equal(read_both_into(f, f->small, text, strlen(text), true), TSR_ELIMIT);
    }
}

/* Keys far into a record (past the order's row of guesses, whose last
 * place they share) read in one order and then in others, into one reused
 * order, with a duplicate among them, as the oracle reads them. */
static void test_keys_past_the_row_of_guesses_read_as_before(void **state)
{
    enum { N = 48 };
    fixture *f = *state;
    char order[4096], names[N][8];
    const char *np[N];
    size_t o, i, pass;
    tsr_ruleset *rs;

    for (i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "g%zu", i);
        np[i] = names[i];
    }
    rs = load_item_ints(f, np, N);
    for (pass = 0; pass < 8; pass++) {
        /* 0, 1: in order; 2, 3: reversed; 4, 5: the far keys swapped in
         * pairs; 6, 7: in order, the last key twice */
        o = (size_t)snprintf(order, sizeof order, "{" DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"k\"");
        for (i = 0; i < N; i++) {
            size_t at = pass < 2 ? i : pass < 4 ? N - 1 - i : pass < 6 && i >= 30 ? i ^ 1 : i;
            o += (size_t)snprintf(order + o, sizeof order - o, ",\"g%zu\":%zu", at, at + 1);
        }
        if (pass >= 6)
            o += (size_t)snprintf(order + o, sizeof order - o, ",\"g%d\":1", N - 1);
        o += (size_t)snprintf(order + o, sizeof order - o, "}]}");
        if (pass >= 6) {
            assert_int_equal(read_both_into(f, rs, order, o, true), TSR_EORDER);
            continue;
        }
        assert_int_equal(read_both_into(f, rs, order, o, true), TSR_OK);
        for (i = 0; i < N; i++)
            assert_int_equal(item_value(f, tsr_ruleset_field(rs, TSR_RECORD_ITEM, np[i]))->u.i,
                             (int64_t)i + 1);
    }
    drop_rules(f, rs);
}

/* Under a limit on strings shorter than some keys, the keys over it are
 * refused as the oracle refuses them, guessed or not, and the rest read. */
static void test_keys_over_a_short_string_limit_read_as_before(void **state)
{
    static const char *const texts[] = {
        "{\"id\":\"o1\"," DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"tic\"}]}",
        "{\"id\":\"o1\"," DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"tic\",\"zone\":\"A\"}]}",
        "{\"id\":\"o1\"," DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"tic\",\"quantity\":2}]}",
        "{\"id\":\"o1\",\"customer\":{\"id\":\"c\"}}",
        /* a long key with a short value, which the pairs' loop could take */
        "{\"id\":\"o1\",\"redeem_points\":5,\"note\":\"x\"}",
        "{\"note\":\"x\",\"redeem_points\":5}",
    };
    fixture *f = *state;
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs;
    size_t i, pass;

    opts.max_string_length = 4;
    assert_non_null(rs = load(&opts));
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < TSR_ARRAY_LEN(texts); i++) {
            /* twice in a row: the second time with every key guessed */
            int rc = read_both_into(f, rs, texts[i], strlen(texts[i]), true);
            assert_int_equal(read_both_into(f, rs, texts[i], strlen(texts[i]), true), rc);
            assert_int_equal(rc, TSR_ELIMIT);   /* "datetime", "customer", ... */
        }
    drop_rules(f, rs);
}

/* A key the pairs' loop finds but does not take (a record, a list, a key
 * met before, a value to be read the general way) is handed on as found:
 * the same answers as the oracle's, with and without guesses. */
static void test_keys_handed_on_read_as_before(void **state)
{
    static const char *const cases[] = {
        "{\"id\":\"o\"," DT ",\"customer\":{\"id\":\"c\"},\"items\":[" LINE "],"
        "\"promo_codes\":[\"A\"]}",
        "{\"id\":\"o\"," DT ",\"customer\":{\"id\":\"c\"},\"customer\":{},\"items\":[" LINE "]}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"items\":[" LINE "]}",
        "{\"id\":\"o\"," DT ",\"customer\":null,\"items\":[" LINE "]}",
        "{\"id\":\"o\"," DT ",\"customer\":[],\"items\":[" LINE "]}",
        "{\"id\":\"o\"," DT ",\"items\":{}}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"promo_codes\":\"A\"}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"promo_codes\":[]}",
        "{\"id\":\"o\"," DT ",\"items\" :[" LINE "],\"promo_codes\": [\"A\" ]}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"promo_codes\":[\"A\",\"B\"],\"id\":\"p\"}",
        "{\"id\":\"o\",\"id\":\"p\"," DT ",\"items\":[" LINE "]}",
        "{\"id\":7," DT ",\"items\":[" LINE "]}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"customer\":{\"tags\":[\"a\"],"
        "\"tags\":[]}}",
        "{\"id\":\"o\"," DT ",\"items\":[{\"id\":\"t1\",\"labels\":[\"x\"],\"kind\":\"k\","
        "\"id\":\"t2\"}]}",
        "{\"id\":\"o\"," DT ",\"items\":[{\"id\":\"t1\",\"kind\":\"k\",\"category\":\"x\"}]}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"promo_uses\":{\"A\":1},\"redeem_points\":5}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"customer\":{\"id\":\"c\",\"points_lots\":"
        "[{\"id\":\"l\",\"points\":3}]}}",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"customer\":",
        "{\"id\":\"o\"," DT ",\"items\":[" LINE "],\"customer\"",
        "{\"id\":\"o\"," DT ",\"items\":[",
    };
    fixture *f = *state;
    size_t pass, i;

    for (pass = 0; pass < 3; pass++)
        for (i = 0; i < TSR_ARRAY_LEN(cases); i++)
            read_both_into(f, f->rs, cases[i], strlen(cases[i]), pass > 0);
    assert_int_equal(read_both_into(f, f->rs, cases[0], strlen(cases[0]), true), TSR_OK);
    assert_int_equal(read_both_into(f, f->rs, cases[1], strlen(cases[1]), true), TSR_EORDER);
    assert_string_equal(f->err.path, "customer");
}

/* A line of items is set up straight where its '{' is read, and the keys
 * met in an object are told by a generation that each object bumps (once
 * in 255 objects of a record the bytes are cleared): lines past the line
 * limit, duplicate keys after any number of objects, into a new order and
 * into a reused one, read as the oracle reads them. */
static void test_lines_and_their_keys_read_as_before(void **state)
{
    fixture *f = *state;
    char *buf = malloc(65536);
    size_t len, i, k;
    int rc;

    assert_non_null(buf);
    /* 600 lines in one order: the generation wraps twice inside it; then
     * the same with a key repeated in line 599, 256 and 255 */
    for (k = 0; k < 4; k++) {
        static const size_t dup_at[] = { SIZE_MAX, 599, 256, 255 };
        len = (size_t)snprintf(buf, 65536, "{" DT ",\"items\":[");
        for (i = 0; i < 600; i++)
            len += (size_t)snprintf(buf + len, 65536 - len,
                                    "%s{\"id\":\"t%zu\",\"kind\":\"ticket\",\"zone\":\"A\"%s}",
                                    i ? "," : "", i, i == dup_at[k] ? ",\"zone\":\"B\"" : "");
        len += (size_t)snprintf(buf + len, 65536 - len, "]}");
        for (i = 0; i < 2; i++) {   /* a new order, then the same reused */
            rc = read_both_into(f, f->rs, buf, len, i > 0);
            assert_int_equal(rc, k == 0 ? TSR_OK : TSR_EORDER);
            if (k == 0)
                assert_int_equal(f->order->nlines, 600);
            else
                assert_non_null(strstr(f->err.message, "duplicate key"));
        }
    }
    /* orders one after another into one order, a duplicate now and then:
     * every object's generation is its own */
    for (i = 0; i < 700; i++) {
        const char *text = i % 97 == 5 ? "{" DT ",\"customer\":{\"id\":\"c\",\"id\":\"d\"},"
                                         "\"items\":[" LINE "]}"
                           : i % 89 == 7 ? "{" DT ",\"items\":[" LINE ",{\"id\":\"t2\",\"kind\":"
                                           "\"ticket\",\"kind\":\"ticket\"}]}"
                           : i % 83 == 3 ? "{" DT ",\"items\":[" LINE "]," DT "}"
                                         : "{" DT ",\"customer\":{\"id\":\"c\"},\"items\":[" LINE
                                           ",{\"id\":\"t2\",\"kind\":\"ticket\"}]}";
        rc = read_both_into(f, f->rs, text, strlen(text), true);
        assert_int_equal(rc, i % 97 == 5 || i % 89 == 7 || i % 83 == 3 ? TSR_EORDER : TSR_OK);
    }
    /* the line limit (2), into a new order and a reused one that has room */
    for (i = 0; i < 3; i++) {
        const char *text = "{" DT ",\"items\":[" LINE ",{\"id\":\"t2\",\"kind\":\"ticket\"},"
                           "{\"id\":\"t3\",\"kind\":\"ticket\"}]}";
        assert_int_equal(read_both_into(f, f->small, text, strlen(text), i > 0), TSR_ELIMIT);
        assert_string_equal(f->err.path, "items[2]");
    }
    free(buf);
}

/* The park10 workload reads to the same orders through both readers. */
static void test_park10_orders_read_as_before(void **state)
{
    fixture *f = *state;
    tsr_ruleset *rs = NULL;
    FILE *in = fopen(TSR_SOURCE_DIR "/../shared/bench/park10/orders.jsonl", "r");
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t got;

    if (!in)
        skip();
    assert_int_equal(tsr_ruleset_load_file(&rs, TSR_SOURCE_DIR "/rules/park10/park10.yaml", NULL,
                                           &f->err), TSR_OK);
    while ((got = getline(&line, &cap, in)) > 0) {
        assert_int_equal(read_both(f, rs, line, (size_t)got), TSR_OK);
        n++;
    }
    free(line);
    fclose(in);
    tsr_order_free(f->order);
    tsr_order_free(f->oracle);
    f->order = f->oracle = NULL;
    tsr_ruleset_free(rs);
    assert_int_equal(n, 1024);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escapes_decode_as_yajl_did, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_escapes_are_refused_where_yajl_refused_them,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_is_refused_at_each_kind_of_fault, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_are_refused_at_every_level, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_integers_at_the_edges_of_int64, setup, teardown),
        cmocka_unit_test_setup_teardown(test_money_and_decimals_are_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_is_refused_at_its_first_bracket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_text_that_ends_early_is_refused_at_its_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors_say_what_yajl_said, setup, teardown),
        cmocka_unit_test_setup_teardown(test_white_space_and_a_byte_order_mark, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_are_enforced_as_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_index_is_a_perfect_hash_for_ordinary_schemas,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_of_a_wide_schema_read_as_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_values_read_in_place_as_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs_read_whole_as_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codes_and_list_strings_kept_as_they_lie, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_guessed_keys_of_every_length_read_as_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_records_and_lists_inside_the_pairs_read_as_before,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_past_the_row_of_guesses_read_as_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_keys_over_a_short_string_limit_read_as_before,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_handed_on_read_as_before, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lines_and_their_keys_read_as_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_park10_orders_read_as_before, setup, teardown),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
