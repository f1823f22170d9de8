/*
 * Hostile input through the public API only (tessera.h): what an attacker
 * who controls a rule file or an order can send, and what the library must
 * answer — a refusal with the right status code, a message that names the
 * problem, and for orders the JSON path where it was found.  Nothing here
 * reaches into lib/: these are the guarantees a caller can rely on.
 *
 * No timings are asserted; a limit that only held after doing the expensive
 * work would show up as a ctest timeout or an out-of-memory kill.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tessera.h"

#define DEEP 100000
#define MIB (1024u * 1024u)

static const char header[] = "tessera: 1\nruleset: hostile\ncurrency: EUR\n";

/* A rule set small enough to check orders against: one schema field of each
 * kind an order string can land in. */
static const char order_rules[] =
    "tessera: 1\n"
    "ruleset: hostile-orders\n"
    "currency: EUR\n"
    "schema:\n"
    "  item: { note: string }\n"
    "categories:\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 10.00 }\n";

/* `head`, then `unit` n times, then `tail`, NUL-terminated; malloc'd. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail), i;
    char *s = malloc(h + u * n + t + 1);

    assert_non_null(s);
    memcpy(s, head, h);
    for (i = 0; i < n; i++)
        memcpy(s + h + i * u, unit, u);
    memcpy(s + h + n * u, tail, t + 1);
    *len = h + u * n + t;
    return s;
}

/* rc and err agree on `code`, and the message mentions `needle`. */
static void check_refused(int rc, const tsr_error *err, int code, const char *needle)
{
    if (rc != code || err->code != code || !strstr(err->message, needle)) {
        print_error("got rc %d (%s) code %d \"%s\" path \"%s\",\nwant %d (%s) containing \"%s\"\n",
                    rc, tsr_strerror(rc), err->code, err->message, err->path, code,
                    tsr_strerror(code), needle);
        fail();
    }
}

static void load_refused(const char *text, size_t len, const tsr_load_options *opts, int code,
                         const char *needle)
{
    tsr_ruleset *rs = (tsr_ruleset *)&rs;   /* not NULL: the call must clear it */
    tsr_error err;
    int rc;

    memset(&err, 0, sizeof err);
    rc = tsr_ruleset_load_string(&rs, text, len, "hostile.yaml", opts, &err);
    check_refused(rc, &err, code, needle);
    assert_null(rs);
    assert_string_equal(err.file, "hostile.yaml");
}

/* ------------------------------------------------------------ rule files */

static void test_rule_file_nested_100000_deep_in_flow_style_is_refused(void **state)
{
    size_t len;
    char *s = repeat("tessera: 1\nruleset: hostile\ncurrency: EUR\ntables:\n  t: ", "[", DEEP,
                     "", &len);
    (void)state;
    load_refused(s, len, NULL, TSR_ELIMIT, "nesting deeper than 64 levels");
    free(s);
}

static void test_rule_file_nested_100000_deep_in_block_style_is_refused(void **state)
{
    /* "- " per level: each level is a block sequence one column deeper. */
    size_t len;
    char *s = repeat("tessera: 1\nruleset: hostile\ncurrency: EUR\ntables:\n  t:\n    ", "- ",
                     DEEP, "x\n", &len);
    (void)state;
    load_refused(s, len, NULL, TSR_ELIMIT, "nesting deeper than");
    free(s);
}

static void test_rule_file_alias_bomb_is_refused(void **state)
{
    /* Billion laughs: nine levels of nine aliases each, 9^9 nodes expanded. */
    char text[2048];
    size_t n = 0;
    int i;

    (void)state;
    n += (size_t)snprintf(text + n, sizeof text - n, "%stables:\n  a: &a [x, x, x, x, x, x, x, x, x]\n",
                          header);
    for (i = 1; i < 10; i++)
        n += (size_t)snprintf(text + n, sizeof text - n,
                              "  %c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
                              'a' + i, 'a' + i, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
                              'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1, 'a' + i - 1,
                              'a' + i - 1);
    assert_true(n < sizeof text);
    /* Aliases are off by default, so the first one is the refusal... */
    load_refused(text, n, NULL, TSR_ELIMIT, "alias");
    /* ...and with aliases allowed, the expansion still cannot get past the
     * node limit. */
    {
        tsr_load_options o;
        assert_int_equal(tsr_load_options_init(&o, TSR_LOAD_OPTIONS_VERSION), TSR_OK);
        o.max_aliases = 1000;
        load_refused(text, n, &o, TSR_ELIMIT, "");
    }
}

static void test_rule_file_with_a_20_mib_scalar_is_refused(void **state)
{
    size_t len;
    char *s = repeat("tessera: 1\nruleset: hostile\ncurrency: EUR\nversion: \"", "x", 20 * MIB,
                     "\"\n", &len);
    tsr_load_options o;

    (void)state;
    /* Default limits: the 4 MiB file limit refuses it before parsing. */
    load_refused(s, len, NULL, TSR_ELIMIT, "larger than the limit");
    /* With the file limit lifted, the 64 KiB scalar limit must. */
    assert_int_equal(tsr_load_options_init(&o, TSR_LOAD_OPTIONS_VERSION), TSR_OK);
    o.max_file_size = 32 * MIB;
    load_refused(s, len, &o, TSR_ELIMIT, "scalar");
    free(s);
}

static void test_rule_file_with_invalid_utf8_is_refused(void **state)
{
    static const char text[] = "tessera: 1\nruleset: hostile\ncurrency: EUR\nversion: \"a\xC3\x28z\"\n";
    static const char overlong[] = "tessera: 1\nruleset: hostile\ncurrency: EUR\nversion: \"\xC0\xAF\"\n";
    static const char surrogate[] = "tessera: 1\nruleset: hostile\ncurrency: EUR\nversion: \"\xED\xA0\x80\"\n";
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc;

    (void)state;
    load_refused(text, sizeof text - 1, NULL, TSR_EPARSE, "UTF-8");
    load_refused(overlong, sizeof overlong - 1, NULL, TSR_EPARSE, "UTF-8");
    load_refused(surrogate, sizeof surrogate - 1, NULL, TSR_EPARSE, "UTF-8");
    /* And it says where: line 4, inside the version scalar. */
    memset(&err, 0, sizeof err);
    rc = tsr_ruleset_load_string(&rs, text, sizeof text - 1, "hostile.yaml", NULL, &err);
    assert_int_equal(rc, TSR_EPARSE);
    assert_int_equal(err.line, 4);
    assert_true(err.column >= 1);
}

static void test_rule_file_with_a_nul_byte_is_refused(void **state)
{
    static const char text[] = "tessera: 1\nruleset: hostile\ncurrency: EUR\nversion: a\0b\n";
    (void)state;
    load_refused(text, sizeof text - 1, NULL, TSR_EPARSE, "NUL");
}

/* ---------------------------------------------------------------- orders */

typedef struct fixture {
    tsr_ruleset *rs;
} fixture;

static int load_order_rules(void **state, const tsr_load_options *opts)
{
    fixture *fx = calloc(1, sizeof *fx);
    tsr_error err;

    if (!fx)
        return -1;
    if (tsr_ruleset_load_string(&fx->rs, order_rules, sizeof order_rules - 1, "orders.yaml",
                                opts, &err) != TSR_OK) {
        print_error("order rules do not load: %s:%d:%d: %s\n", err.file, err.line, err.column,
                    err.message);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int setup(void **state)
{
    return load_order_rules(state, NULL);
}

/* The order size limit lifted to 64 MiB, so that the per-string limit is the
 * one a 20 MiB string meets. */
static int setup_big_orders(void **state)
{
    tsr_load_options o;
    tsr_load_options_init(&o, TSR_LOAD_OPTIONS_VERSION);
    o.max_order_size = 64 * MIB;
    return load_order_rules(state, &o);
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tsr_ruleset_free(fx->rs);
    free(fx);
    return 0;
}

/* Evaluate `text`; it must be refused with `code` (or, where either is
 * right, `alt`), a message containing `needle`, and a non-empty path
 * starting with `path` (NULL: any path, even none). */
static void order_refused(const fixture *fx, const char *text, size_t len, int code, int alt,
                          const char *needle, const char *path)
{
    tsr_result *res = (tsr_result *)&res;   /* not NULL: the call must clear it */
    tsr_error err;
    int rc;

    memset(&err, 0, sizeof err);
    rc = tsr_evaluate_text(&res, fx->rs, text, len, NULL, &err);
    if (rc == alt && alt != TSR_OK)
        code = alt;
    check_refused(rc, &err, code, needle);
    assert_null(res);
    if (path && (strncmp(err.path, path, strlen(path)) != 0 || err.path[0] == '\0')) {
        print_error("path \"%s\", want it to start with \"%s\" (message \"%s\")\n", err.path, path,
                    err.message);
        fail();
    }
}

static const char order_head[] =
    "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\",\"items\":[";

/* Orders have a fixed shape, so a deep structure is refused either by the
 * depth limit or, sooner, because a field of a known type gets a container;
 * either way at the path where it starts, without reading on. */
static void test_order_json_nested_100000_deep_is_refused(void **state)
{
    size_t len;
    char *s = repeat("{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
                     "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"note\":",
                     "[", DEEP, "", &len);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_EORDER, "", "items[0].note");
    free(s);
}

static void test_order_json_nested_100000_deep_at_the_top_is_refused(void **state)
{
    size_t len;
    char *s = repeat("{\"customer\":", "{\"id\":", DEEP, "", &len);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_EORDER, "", "customer");
    free(s);
}

static void test_order_json_nested_100000_deep_in_an_array_is_refused(void **state)
{
    /* items[0] must be an object: an array there is refused at items[0]. */
    size_t len;
    char *s = repeat("{\"id\":\"H-1\",\"items\":", "[", DEEP, "", &len);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_EORDER, "", "items[0]");
    free(s);
}

static void test_order_yaml_nested_100000_deep_is_refused(void **state)
{
    size_t len;
    char *s = repeat("id: H-1\ndatetime: 2026-06-13T14:30:00+03:00\nitems: ", "[", DEEP, "", &len);
    /* The YAML reader checks depth while it builds its tree, before it
     * knows the field, so the path may be just the root ("$"). */
    order_refused(*state, s, len, TSR_ELIMIT, TSR_EORDER, "", "");
    free(s);
}

static void test_order_larger_than_the_size_limit_is_refused(void **state)
{
    /* 20 MiB against the default 16 MiB limit: refused before parsing. */
    size_t len;
    char *s = repeat("{\"id\":\"", "x", 20 * MIB, "\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
                     "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}]}", &len);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_OK, "limit", NULL);
    free(s);
}

static void test_order_with_a_20_mib_string_is_refused_at_its_path(void **state)
{
    size_t len;
    char *s = repeat("{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
                     "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"note\":\"",
                     "x", 20 * MIB, "\"}]}", &len);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_OK, "long", "items[0].note");
    free(s);
}

static void test_order_with_a_20_mib_string_in_yaml_is_refused(void **state)
{
    size_t len;
    char *s = repeat("id: H-1\ndatetime: 2026-06-13T14:30:00+03:00\n"
                     "items:\n  - id: t1\n    kind: ticket\n    note: \"",
                     "x", 20 * MIB, "\"\n", &len);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_OK, "", NULL);
    free(s);
}

static void test_order_with_20000_lines_is_refused_at_line_10000(void **state)
{
    /* Every line is valid; only the count is wrong.  The ids are unique so
     * the refusal cannot be about duplicates. */
    const size_t n = 20000;
    size_t cap = sizeof order_head + n * 48 + 8, len, i;
    char *s = malloc(cap);

    assert_non_null(s);
    len = (size_t)snprintf(s, cap, "%s", order_head);
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%s{\"id\":\"t%zu\",\"kind\":\"ticket\"}",
                                i ? "," : "", i);
    len += (size_t)snprintf(s + len, cap - len, "]}");
    assert_true(len < cap);
    order_refused(*state, s, len, TSR_ELIMIT, TSR_OK, "10000", "items[10000]");
    free(s);
}

static void test_order_with_invalid_utf8_in_a_string_is_refused_at_its_path(void **state)
{
    static const char bad[] =
        "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"},"
        "{\"id\":\"t2\",\"kind\":\"ticket\",\"note\":\"a\xC3\x28z\"}]}";
    static const char overlong[] =
        "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"note\":\"\xC0\xAF\"}]}";
    static const char surrogate[] =
        "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"note\":\"\xED\xA0\x80\"}]}";
    static const char escaped[] =
        "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"note\":\"\\ud800\"}]}";

    order_refused(*state, bad, sizeof bad - 1, TSR_EORDER, TSR_OK, "UTF-8", "items[1].note");
    order_refused(*state, overlong, sizeof overlong - 1, TSR_EORDER, TSR_OK, "UTF-8",
                  "items[0].note");
    order_refused(*state, surrogate, sizeof surrogate - 1, TSR_EORDER, TSR_OK, "UTF-8",
                  "items[0].note");
    order_refused(*state, escaped, sizeof escaped - 1, TSR_EORDER, TSR_OK, "surrogate",
                  "items[0].note");
}

static void test_order_with_invalid_utf8_in_a_key_is_refused(void **state)
{
    static const char bad[] =
        "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"n\xFFte\":\"x\"}]}";
    order_refused(*state, bad, sizeof bad - 1, TSR_EORDER, TSR_OK, "", "items[0]");
}

static void test_order_with_invalid_utf8_in_yaml_is_refused(void **state)
{
    static const char bad[] =
        "id: H-1\ndatetime: 2026-06-13T14:30:00+03:00\n"
        "items:\n  - { id: t1, kind: ticket, note: \"a\xC3\x28z\" }\n";
    order_refused(*state, bad, sizeof bad - 1, TSR_EORDER, TSR_EPARSE, "UTF-8", NULL);
}

static void test_a_well_formed_order_still_evaluates(void **state)
{
    /* The fixture is sound: the refusals above are about the hostile part. */
    static const char ok[] =
        "{\"id\":\"H-1\",\"datetime\":\"2026-06-13T14:30:00+03:00\","
        "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"note\":\"\xC3\xA9t\xC3\xA9\"}]}";
    fixture *fx = *state;
    tsr_result *res = NULL;
    tsr_totals t = TSR_TOTALS_INIT;
    tsr_error err;

    assert_int_equal(tsr_evaluate_text(&res, fx->rs, ok, sizeof ok - 1, NULL, &err), TSR_OK);
    tsr_result_totals(res, &t);
    assert_int_equal(t.due, 1000);
    tsr_result_free(res);
}

/* ------------------------------------------------------------ evaluation */

/* An evaluation that cannot finish (a regex limit, an overflow) names the
 * rule where it failed (file:line:col of the sub-expression) and the order
 * line it was evaluating, so that one bad order in a batch can be found. */
static const char eval_rules[] =
    "tessera: 1\n"                                                             /* 1 */
    "ruleset: e\n"
    "currency: EUR\n"
    "schema: { item: { note: string } }\n"
    "categories:\n"                                                            /* 5 */
    "  - id: adult\n"
    "    for: item.kind == \"ticket\" and not matches(item.note, \"^(a+)+$\")\n"
    "    price: 10.00\n"
    "  - id: big\n"
    "    for: item.kind == \"big\"\n"                                          /* 10 */
    "    price: item.price * 1000000000\n"
    "loyalty:\n"
    "  earn:\n"
    "    - { id: base, per: 0.01, points: 1000000000000000000 }\n";          /* 14 */

static int evaluate_refused(const char *order, tsr_error *err)
{
    tsr_load_options lo;
    tsr_ruleset *rs = NULL;
    tsr_result *res = NULL;
    int rc;

    tsr_load_options_init(&lo, TSR_LOAD_OPTIONS_VERSION);
    lo.regex_match_limit = 1000;
    assert_int_equal(tsr_ruleset_load_string(&rs, eval_rules, sizeof eval_rules - 1, "e.yaml",
                                             &lo, err), TSR_OK);
    rc = tsr_evaluate_text(&res, rs, order, strlen(order), NULL, err);
    assert_null(res);
    tsr_ruleset_free(rs);
    return rc;
}

static void test_evaluation_errors_name_the_rule_and_the_order_line(void **state)
{
    static const char regex[] =
        "{\"datetime\":\"2026-06-13T14:30:00+03:00\",\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"note\":\"x\"},{\"id\":\"b\",\"kind\":\"ticket\",\"note\":\"y\"},"
        "{\"id\":\"c\",\"kind\":\"ticket\",\"note\":\"\"},"
        "{\"id\":\"d\",\"kind\":\"ticket\",\"note\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"}]}";
    static const char money[] =
        "{\"datetime\":\"2026-06-13T14:30:00+03:00\",\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"note\":\"\"},"
        "{\"id\":\"b\",\"kind\":\"big\",\"price\":\"99999999999.00\"}]}";
    static const char points[] =
        "{\"datetime\":\"2026-06-13T14:30:00+03:00\",\"customer\":{\"id\":\"C1\"},\"items\":["
        "{\"id\":\"a\",\"kind\":\"ticket\",\"note\":\"\"}]}";
    char text[1024];
    tsr_error err;
    (void)state;

    assert_int_equal(evaluate_refused(regex, &err), TSR_EEVAL);
    assert_non_null(strstr(err.message, "match limit"));
    assert_string_equal(err.file, "e.yaml");
    assert_int_equal(err.line, 7);
    /* `    for: ` is 9 columns; the call starts 30 bytes into the text */
    assert_int_equal(err.column, 10 + 30);
    assert_string_equal(err.path, "items[3]");
    tsr_error_format(text, sizeof text, &err);
    assert_non_null(strstr(text, "e.yaml:7:40: "));
    assert_non_null(strstr(text, " (at items[3])"));

    assert_int_equal(evaluate_refused(money, &err), TSR_EEVAL);
    assert_non_null(strstr(err.message, "overflow in `item.price * 1000000000`"));
    assert_int_equal(err.line, 11);
    assert_int_equal(err.column, 12);
    assert_string_equal(err.path, "items[1]");

    /* outside an expression: the earn rule */
    assert_int_equal(evaluate_refused(points, &err), TSR_EEVAL);
    assert_non_null(strstr(err.message, "overflows"));
    assert_string_equal(err.file, "e.yaml");
    assert_int_equal(err.line, 14);
    assert_int_equal(err.column, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_file_nested_100000_deep_in_flow_style_is_refused),
        cmocka_unit_test(test_rule_file_nested_100000_deep_in_block_style_is_refused),
        cmocka_unit_test(test_rule_file_alias_bomb_is_refused),
        cmocka_unit_test(test_rule_file_with_a_20_mib_scalar_is_refused),
        cmocka_unit_test(test_rule_file_with_invalid_utf8_is_refused),
        cmocka_unit_test(test_rule_file_with_a_nul_byte_is_refused),
        cmocka_unit_test(test_evaluation_errors_name_the_rule_and_the_order_line),
        cmocka_unit_test_setup_teardown(test_a_well_formed_order_still_evaluates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_json_nested_100000_deep_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_json_nested_100000_deep_at_the_top_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_json_nested_100000_deep_in_an_array_is_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_yaml_nested_100000_deep_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_larger_than_the_size_limit_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_order_with_a_20_mib_string_is_refused_at_its_path,
                                        setup_big_orders, teardown),
        cmocka_unit_test_setup_teardown(test_order_with_a_20_mib_string_in_yaml_is_refused,
                                        setup_big_orders, teardown),
        cmocka_unit_test_setup_teardown(test_order_with_20000_lines_is_refused_at_line_10000, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_order_with_invalid_utf8_in_a_string_is_refused_at_its_path,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_with_invalid_utf8_in_a_key_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_order_with_invalid_utf8_in_yaml_is_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
