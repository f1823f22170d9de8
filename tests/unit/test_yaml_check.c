/*
 * Unit tests for yaml_check.c: the kit rule files, rule tests and refund
 * cases check a YAML tree with — errors at the node's line:col, unknown
 * keys, "must be a mapping" / "must be a list", and the scalar readers
 * (integers, fixed-point amounts, dates) with what each refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "keys.h"

typedef struct fixture {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_error err;
    tsr_ycheck at;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    tsr__alloc_init(&fx->alloc, NULL);
    tsr__arena_init(&fx->arena, &fx->alloc, 4096);
    fx->at.file = "t.yaml";
    fx->at.err = &fx->err;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tsr__arena_free(&fx->arena);
    free(fx);
    return 0;
}

static tsr_ynode *tree(fixture *fx, const char *text)
{
    tsr_ynode *root = NULL;
    assert_int_equal(tsr__yaml_parse(&root, text, strlen(text), "t.yaml", NULL, &fx->arena,
                                     &fx->err), TSR_OK);
    return root;
}

static void test_fail_names_the_node_or_no_place(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "a:\n  b: 1\n");

    assert_int_equal(tsr__yfail(&fx->at, tsr__ymap_get(tsr__ymap_get(root, "a"), "b"),
                                TSR_EVALUE, "bad %s", "b"), TSR_EVALUE);
    assert_int_equal(fx->err.code, TSR_EVALUE);
    assert_string_equal(fx->err.file, "t.yaml");
    assert_int_equal(fx->err.line, 2);
    assert_int_equal(fx->err.column, 6);
    assert_string_equal(fx->err.message, "bad b");
    assert_int_equal(tsr__yfail(&fx->at, NULL, TSR_ESCHEMA, "nowhere"), TSR_ESCHEMA);
    assert_int_equal(fx->err.line, 0);
    assert_int_equal(fx->err.column, 0);
}

static void test_need_map_and_seq_word_the_shape(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "m: {x: 1}\nl: [1]\ns: text\n");

    assert_int_equal(tsr__yneed_map(&fx->at, tsr__ymap_get(root, "m"), "m"), TSR_OK);
    assert_int_equal(tsr__yneed_seq(&fx->at, tsr__ymap_get(root, "l"), "l"), TSR_OK);
    assert_int_equal(tsr__yneed_map(&fx->at, tsr__ymap_get(root, "l"), "`l`"), TSR_ESCHEMA);
    assert_string_equal(fx->err.message, "`l` must be a mapping");
    assert_int_equal(fx->err.line, 2);
    assert_int_equal(fx->err.column, 4);
    assert_int_equal(tsr__yneed_seq(&fx->at, tsr__ymap_get(root, "s"), "s"), TSR_ESCHEMA);
    assert_string_equal(fx->err.message, "s must be a list");
    assert_int_equal(tsr__yneed_map(&fx->at, NULL, "absent"), TSR_ESCHEMA);
    assert_string_equal(fx->err.message, "absent must be a mapping");
    assert_string_equal(tsr__ykind_name(tsr__ymap_get(root, "m")), "a mapping");
    assert_string_equal(tsr__ykind_name(tsr__ymap_get(root, "l")), "a list");
    assert_string_equal(tsr__ykind_name(tsr__ymap_get(root, "s")), "a scalar");
}

static void test_check_keys_refuses_the_first_unknown_key(void **state)
{
    static const tsr_key keys[] = {
        { "amount", TSR_KS_MONEY, 0, .desc = "An amount." },
        { "fee", TSR_KS_MONEY, 0, .desc = "A fee." },
    };
    static TSR_KEYSET(set, "t", "A test mapping.", keys);
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "amount: 1\nfe: 2\nzzz: 3\n");

    assert_int_equal(tsr__ycheck_keys(&fx->at, root, "totals", &set), TSR_ESCHEMA);
    assert_string_equal(fx->err.message, "unknown key `fe` in totals; did you mean `fee`?");
    assert_int_equal(fx->err.line, 2);
    assert_int_equal(fx->err.column, 1);
    root = tree(fx, "fee: 1\n");
    assert_int_equal(tsr__ycheck_keys(&fx->at, root, "totals", &set), TSR_OK);
}

static void test_int_reads_a_signed_whole_number_in_any_style(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "a: 12\nb: -7\nc: +5\nd: \"42\"\ne: 9223372036854775807\n"
                               "f: -9223372036854775808\n");
    int64_t v = 0;

    assert_true(tsr__yint(tsr__ymap_get(root, "a"), &v));
    assert_int_equal(v, 12);
    assert_true(tsr__yint(tsr__ymap_get(root, "b"), &v));
    assert_int_equal(v, -7);
    assert_true(tsr__yint(tsr__ymap_get(root, "c"), &v));
    assert_int_equal(v, 5);
    assert_true(tsr__yint(tsr__ymap_get(root, "d"), &v));
    assert_int_equal(v, 42);
    assert_true(tsr__yint(tsr__ymap_get(root, "e"), &v));
    assert_true(v == INT64_MAX);
    assert_true(tsr__yint(tsr__ymap_get(root, "f"), &v));
    assert_true(v == INT64_MIN);
}

static void test_int_refuses_what_is_no_whole_number(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "a: 1.0\nb: 9223372036854775808\nc: ~\nd: [1]\ne: \"-\"\n"
                               "f: 1e3\ng: ''\n");
    const char *keys[] = { "a", "b", "c", "d", "e", "f", "g" };
    int64_t v = 99;
    size_t i;

    for (i = 0; i < sizeof keys / sizeof *keys; i++)
        assert_false(tsr__yint(tsr__ymap_get(root, keys[i]), &v));
    assert_false(tsr__yint(NULL, &v));
    assert_int_equal(v, 99);
}

static void test_fixed_reads_amounts_at_a_scale(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "a: 118.00\nb: \"2.5\"\nc: 1.505\nd: null\ne: 12\n");
    int64_t v = 0;

    assert_true(tsr__yfixed(tsr__ymap_get(root, "a"), 2, &v));
    assert_int_equal(v, 11800);
    assert_true(tsr__yfixed(tsr__ymap_get(root, "b"), 2, &v));
    assert_int_equal(v, 250);
    assert_false(tsr__yfixed(tsr__ymap_get(root, "c"), 2, &v));
    assert_true(tsr__yfixed(tsr__ymap_get(root, "c"), 6, &v));
    assert_int_equal(v, 1505000);
    assert_false(tsr__yfixed(tsr__ymap_get(root, "d"), 2, &v));
    assert_true(tsr__yfixed(tsr__ymap_get(root, "e"), 0, &v));
    assert_int_equal(v, 12);
    assert_false(tsr__yfixed(root, 2, &v));
}

static void test_date_reads_iso_dates(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = tree(fx, "a: 2026-06-14\nb: \"1970-01-02\"\nc: 2026-02-30\nd: ~\n");
    int64_t v = 0;

    assert_true(tsr__ydate(tsr__ymap_get(root, "b"), &v));
    assert_int_equal(v, 1);
    assert_true(tsr__ydate(tsr__ymap_get(root, "a"), &v));
    assert_false(tsr__ydate(tsr__ymap_get(root, "c"), &v));
    assert_false(tsr__ydate(tsr__ymap_get(root, "d"), &v));
    assert_false(tsr__ydate(NULL, &v));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fail_names_the_node_or_no_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_need_map_and_seq_word_the_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_keys_refuses_the_first_unknown_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_int_reads_a_signed_whole_number_in_any_style, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_int_refuses_what_is_no_whole_number, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_fixed_reads_amounts_at_a_scale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_date_reads_iso_dates, setup, teardown),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
