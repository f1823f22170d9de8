/* Unit tests for keys.c and schema.c: the key sets the readers check keys
 * with are well formed, and the JSON Schemas generated from them are valid
 * JSON, list every key of every set, refuse unknown keys, know a rule set's
 * fields and ids when given one, and follow the snprintf contract, out of
 * memory included. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include <yajl/yajl_tree.h>

#include "alloc_fixture.h"
#include "keys.h"
#include "rules.h"

static const char rules[] =
    "tessera: 1\n"
    "ruleset: zoo\n"
    "currency: EUR\n"
    "schema:\n"
    "  item: { height_cm: int, event_start: datetime, allergens: list<string> }\n"
    "  customer: { member: bool }\n"
    "segments: { member: customer.member }\n"
    "categories:\n"
    "  - { id: child, when: item.height_cm < 130, price: 9.00 }\n"
    "  - { id: adult, price: 14.00 }\n"
    "discounts:\n"
    "  - { id: members-10, when: segment.member, percent: 10 }\n"
    "offers:\n"
    "  - { id: join, when: not segment.member, message: Join }\n";

/* The schema text, checked to be JSON and to end as documented. */
static char *schema_text(tsr_schema_kind kind, const tsr_ruleset *rs)
{
    char err[256];
    int n = tsr_schema_json(NULL, 0, kind, rs);
    char *text;
    yajl_val v;

    assert_true(n > 0);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(tsr_schema_json(text, (size_t)n + 1, kind, rs), n);
    assert_int_equal(strlen(text), (size_t)n);
    assert_int_equal(text[0], '{');
    assert_string_equal(text + n - 2, "}\n");
    v = yajl_tree_parse(text, err, sizeof err);
    if (!v)
        fail_msg("not JSON: %s", err);
    yajl_tree_free(v);
    return text;
}

static tsr_ruleset *load(void)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), "zoo.yaml", NULL, &err),
                     TSR_OK);
    return rs;
}

/* ---------------------------------------------------------------------
 * Key sets.
 */
#define MAX_SETS 64

typedef struct sets {
    const tsr_keyset *set[MAX_SETS];
    size_t n;
} sets;

static void collect(sets *s, const tsr_keyset *ks)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        if (s->set[i] == ks)
            return;
    assert_true(s->n < MAX_SETS);
    s->set[s->n++] = ks;
    for (i = 0; i < ks->n; i++)
        if (ks->keys[i].sub)
            collect(s, ks->keys[i].sub);
}

static sets all_sets(void)
{
    sets s;
    memset(&s, 0, sizeof s);
    collect(&s, &tsr__keys_rules);
    collect(&s, &tsr__keys_order);
    collect(&s, &tsr__keys_test);
    return s;
}

static void test_every_key_set_is_well_formed(void **state)
{
    sets s = all_sets();
    size_t i, j, k;
    (void)state;

    assert_true(s.n >= 20);
    for (i = 0; i < s.n; i++) {
        const tsr_keyset *ks = s.set[i];
        assert_non_null(ks->name);
        assert_true(ks->desc && ks->desc[0]);
        assert_true(ks->n > 0 && ks->n <= 64);
        for (k = 0; k < i; k++)
            if (strcmp(s.set[k]->name, ks->name) == 0)
                fail_msg("two key sets are named `%s`", ks->name);
        for (j = 0; j < ks->n; j++) {
            const tsr_key *key = &ks->keys[j];
            size_t dl = key->desc ? strlen(key->desc) : 0;
            if (dl == 0 || dl > 130 || key->desc[dl - 1] != '.')
                fail_msg("%s.%s: a one-line description ending in a full stop is needed",
                         ks->name, key->name);
            for (k = 0; k < j; k++)
                assert_string_not_equal(ks->keys[k].name, key->name);
            switch (key->shape) {
            case TSR_KS_MAP: case TSR_KS_LIST: case TSR_KS_MAP_OF: case TSR_KS_LINE_TAX:
                assert_non_null(key->sub);
                break;
            case TSR_KS_ENUM:
                assert_non_null(key->values);
                assert_true(key->nvalues > 0);
                break;
            case TSR_KS_INT: case TSR_KS_DECIMAL:
                assert_true(key->min <= key->max);
                break;
            default:
                assert_null(key->sub);
            }
            /* only the rule file's header is main-file-only */
            if (key->flags & TSR_KF_MAIN)
                assert_ptr_equal(ks, &tsr__keys_rules);
        }
    }
}

static void test_key_lookup_is_exact_and_suggests_the_closest(void **state)
{
    (void)state;
    assert_non_null(tsr__key_find(&tsr__keys_rules, "currency", 8));
    assert_null(tsr__key_find(&tsr__keys_rules, "currencyX", 9));
    assert_null(tsr__key_find(&tsr__keys_rules, "curr", 4));
    /* a key with a NUL in it is not the key before the NUL */
    assert_null(tsr__key_find(&tsr__keys_rules, "currency\0x", 10));
    assert_string_equal(tsr__keys_closest(&tsr__keys_rules, "currancy", 8), "currency");
    assert_null(tsr__keys_closest(&tsr__keys_rules, "zzzzzzzz", 8));
}

/* Each key set a reader uses refuses a key it does not list, at the key,
 * with the closest one suggested: one rule file, one order, one test file. */
static void test_readers_refuse_keys_their_sets_do_not_list(void **state)
{
    static const char bad_rules[] =
        "tessera: 1\nruleset: r\ncurrency: EUR\n"
        "discounts:\n  - { id: d, precent: 10 }\n";
    static const char bad_order[] =
        "{\"datetime\": \"2026-06-10T11:00:00+03:00\", \"items\": [{\"id\": \"t1\", "
        "\"kind\": \"ticket\", \"quantiti\": 2}]}";
    tsr_ruleset *rs = NULL;
    tsr_result *res = NULL;
    tsr_error err;
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&rs, bad_rules, strlen(bad_rules), "r.yaml", NULL,
                                             &err), TSR_ESCHEMA);
    assert_int_equal(err.line, 5);
    assert_int_equal(err.column, 14);
    assert_string_equal(err.message,
                        "unknown key `precent` in discounts.d; did you mean `percent`?");
    rs = load();
    assert_int_equal(tsr_evaluate_text(&res, rs, bad_order, strlen(bad_order), NULL, &err),
                     TSR_EORDER);
    assert_string_equal(err.path, "items[0].quantiti");
    assert_non_null(strstr(err.message, "did you mean \"quantity\"?"));
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Schemas.
 */
static void test_schema_json_is_snprintf_like(void **state)
{
    char small[16];
    int n = tsr_schema_json(NULL, 0, TSR_SCHEMA_RULES, NULL);
    (void)state;

    assert_true(n > 1000);
    memset(small, 'x', sizeof small);
    assert_int_equal(tsr_schema_json(small, sizeof small, TSR_SCHEMA_RULES, NULL), n);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(strncmp(small, "{\n  \"$schema\"", 13), 0);
    assert_int_equal(tsr_schema_json(NULL, 0, (tsr_schema_kind)3, NULL), TSR_EINVAL);
    assert_int_equal(tsr_schema_json(NULL, 0, (tsr_schema_kind)-1, NULL), TSR_EINVAL);
}

/* Every key of every set of a schema is a property, every mapping refuses
 * keys it does not list. */
static void test_schemas_describe_every_key_of_every_set(void **state)
{
    static const tsr_schema_kind kinds[] = { TSR_SCHEMA_RULES, TSR_SCHEMA_ORDER,
                                             TSR_SCHEMA_TEST };
    static const tsr_keyset *const roots[] = { &tsr__keys_rules, &tsr__keys_order,
                                               &tsr__keys_test };
    size_t r, i, j;
    (void)state;

    for (r = 0; r < 3; r++) {
        sets s;
        char *text = schema_text(kinds[r], NULL);
        memset(&s, 0, sizeof s);
        collect(&s, roots[r]);
        if (roots[r] == &tsr__keys_test)
            collect(&s, &tsr__keys_order);     /* a case's order */
        for (i = 0; i < s.n; i++) {
            char def[96];
            snprintf(def, sizeof def, "\n    \"%s\": {\n", s.set[i]->name);
            if (i > 0 && !strstr(text, def))
                fail_msg("no $defs entry for `%s`", s.set[i]->name);
            for (j = 0; j < s.set[i]->n; j++) {
                char prop[96];
                snprintf(prop, sizeof prop, "\"%s\": {", s.set[i]->keys[j].name);
                if (!strstr(text, prop))
                    fail_msg("no property `%s` of `%s`", s.set[i]->keys[j].name,
                             s.set[i]->name);
            }
        }
        assert_non_null(strstr(text, "\"additionalProperties\": false"));
        assert_non_null(strstr(text, "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\""));
        free(text);
    }
}

static void test_rules_schema_requires_the_header_of_a_main_file_only(void **state)
{
    char *text = schema_text(TSR_SCHEMA_RULES, NULL);
    (void)state;
    /* no `required` at the top (included files have no header), but a file
     * with one header key needs all the required ones */
    assert_non_null(strstr(text, "\"dependentRequired\": {\n    \"tessera\": [\"ruleset\", "
                                 "\"currency\"]"));
    assert_non_null(strstr(text, "\"rounding\": {\n      \"title\": \"half_up, half_even or down\""));
    free(text);
}

static void test_order_schema_without_rules_allows_further_fields(void **state)
{
    char *text = schema_text(TSR_SCHEMA_ORDER, NULL);
    (void)state;
    assert_non_null(strstr(text, "\"additionalProperties\": {\n        \"anyOf\""));
    assert_null(strstr(text, "height_cm"));
    free(text);
}

static void test_order_schema_for_a_rule_set_knows_its_fields_and_categories(void **state)
{
    tsr_ruleset *rs = load();
    char *text = schema_text(TSR_SCHEMA_ORDER, rs);
    (void)state;

    assert_non_null(strstr(text, "\"height_cm\": {\n          \"title\": \"int\""));
    assert_non_null(strstr(text, "\"allergens\": {\n          \"title\": \"list<string>\""));
    assert_non_null(strstr(text, "\"member\": {\n          \"title\": \"bool\""));
    assert_non_null(strstr(text, "\"enum\": [\"child\", \"adult\", null]"));
    /* nothing beyond the declared fields */
    assert_null(strstr(text, "\"additionalProperties\": {\n        \"anyOf\""));
    free(text);
    tsr_ruleset_free(rs);
}

static void test_test_schema_for_a_rule_set_offers_its_names(void **state)
{
    tsr_ruleset *rs = load();
    char *text = schema_text(TSR_SCHEMA_TEST, rs);
    (void)state;

    assert_non_null(strstr(text, "\"categories.child\""));
    assert_non_null(strstr(text, "\"discounts.members-10\""));
    assert_non_null(strstr(text, "\"offers.join\""));
    assert_non_null(strstr(text, "\"enum\": [\"member\"]"));
    free(text);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Out of memory.
 */
/* Fail allocation 1, 2, 3, ... of a schema for a rule set: TSR_ENOMEM each
 * time, nothing leaked, until it succeeds with the same text. */
static void test_out_of_memory_fails_cleanly(void **state)
{
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    size_t baseline, nth;
    int want, rc = TSR_ENOMEM;
    (void)state;

    opts.allocator = &user;
    assert_int_equal(tsr_ruleset_load_string(&rs, rules, strlen(rules), "zoo.yaml", &opts, &err),
                     TSR_OK);
    want = tsr_schema_json(NULL, 0, TSR_SCHEMA_TEST, rs);
    assert_true(want > 0);
    baseline = c.live;
    for (nth = 1; nth < 1000; nth++) {
        c.calls = 0;
        c.fail_at = nth;
        rc = tsr_schema_json(NULL, 0, TSR_SCHEMA_TEST, rs);
        c.fail_at = 0;
        assert_int_equal(c.live, baseline);
        if (rc >= 0)
            break;
        assert_int_equal(rc, TSR_ENOMEM);
    }
    assert_int_equal(rc, want);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_key_set_is_well_formed),
        cmocka_unit_test(test_key_lookup_is_exact_and_suggests_the_closest),
        cmocka_unit_test(test_readers_refuse_keys_their_sets_do_not_list),
        cmocka_unit_test(test_schema_json_is_snprintf_like),
        cmocka_unit_test(test_schemas_describe_every_key_of_every_set),
        cmocka_unit_test(test_rules_schema_requires_the_header_of_a_main_file_only),
        cmocka_unit_test(test_order_schema_without_rules_allows_further_fields),
        cmocka_unit_test(test_order_schema_for_a_rule_set_knows_its_fields_and_categories),
        cmocka_unit_test(test_test_schema_for_a_rule_set_offers_its_names),
        cmocka_unit_test(test_out_of_memory_fails_cleanly),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
