/*
 * Unit tests for the limits yaml_tree.c enforces while it streams: nesting
 * depth (100,000-deep flow and block documents), alias bombs, scalar length,
 * input size and node count.  No timings are asserted: a limit that were only
 * checked after parsing would show up as a ctest timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "yaml_tree.h"

/* The load defaults (TSR_LOAD_OPTIONS_INIT). */
static const tsr_ylimits defaults = { 4u << 20, 64, 64u << 10, 200000, 0 };

#define DEEP 100000

typedef struct fixture {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_error err;
    tsr_ynode *root;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    tsr__alloc_init(&fx->alloc, NULL);
    tsr__arena_init(&fx->arena, &fx->alloc, 4096);
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

static int parse(fixture *fx, const char *text, size_t len, const tsr_ylimits *lim)
{
    tsr__error_clear(&fx->err);
    fx->root = NULL;
    return tsr__yaml_parse(&fx->root, text, len, "limits.yaml", lim, &fx->arena, &fx->err);
}

static void check_err(const fixture *fx, int rc, int code, int line, int col, const char *needle)
{
    const tsr_error *e = &fx->err;
    if (rc != code || e->code != code || e->line != line || e->column != col ||
        !strstr(e->message, needle)) {
        print_error("got rc %d code %d at %d:%d \"%s\",\nwant code %d at %d:%d containing \"%s\"\n",
                    rc, e->code, e->line, e->column, e->message, code, line, col, needle);
        fail();
    }
    assert_null(fx->root);
}

/* `head`, then `unit` repeated n times, then `tail`; malloc'd. */
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

static void expect_deep_refused(fixture *fx, const char *unit, const char *tail, int line, int col)
{
    size_t len;
    char *text = repeat("", unit, DEEP, tail, &len);
    check_err(fx, parse(fx, text, len, &defaults), TSR_ELIMIT, line, col,
              "nesting deeper than 64");
    free(text);
}

/* ---------------------------------------------------------------------
 * Depth.
 */
static void test_deep_flow_sequences_are_refused_at_level_65(void **state)
{
    expect_deep_refused(*state, "[", "", 1, 65);
}

static void test_closed_deep_flow_sequences_are_refused_too(void **state)
{
    fixture *fx = *state;
    size_t len, i;
    char *text = malloc(2 * DEEP + 2);

    assert_non_null(text);
    for (i = 0; i < DEEP; i++) {
        text[i] = '[';
        text[DEEP + i] = ']';
    }
    text[2 * DEEP] = '\n';
    len = 2 * DEEP + 1;
    check_err(fx, parse(fx, text, len, &defaults), TSR_ELIMIT, 1, 65, "nesting deeper than 64");
    free(text);
}

static void test_deep_flow_mappings_are_refused_at_level_65(void **state)
{
    expect_deep_refused(*state, "{a: ", "", 1, 4 * 64 + 1);
}

static void test_deep_block_sequences_are_refused_at_level_65(void **state)
{
    expect_deep_refused(*state, "- ", "x\n", 1, 2 * 64 + 1);
}

static void test_deep_block_mappings_are_refused_at_level_65(void **state)
{
    fixture *fx = *state;
    /* Indentation grows by one per level: 100,000 levels would be 5 GB of
     * spaces, so this one stops at 1,000 (the limit is crossed at 65). */
    size_t cap = 1000 * 1004, len = 0;
    char *text = malloc(cap);
    int i;

    assert_non_null(text);
    for (i = 0; i < 1000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%*sa:\n", i, "");
    check_err(fx, parse(fx, text, len, &defaults), TSR_ELIMIT, 65, 65, "nesting deeper than 64");
    free(text);
}

static void test_mixed_deep_nesting_is_refused(void **state)
{
    /* Level 65 is the `[` of the 33rd "[{a: ". */
    expect_deep_refused(*state, "[{a: ", "", 1, 5 * 32 + 1);
}

static void test_nesting_at_the_limit_is_accepted(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    char text[256];
    int i;

    for (i = 0; i < 64; i++) {
        text[i] = '[';
        text[64 + i] = ']';
    }
    assert_int_equal(parse(fx, text, 128, &defaults), TSR_OK);
    lim.max_depth = 63;
    check_err(fx, parse(fx, text, 128, &lim), TSR_ELIMIT, 1, 64, "nesting deeper than 63");
}

static void test_aliases_cannot_nest_past_the_limit(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    const char *text = "a: &x [[1]]\nb: [*x]\n";

    lim.max_depth = 3;
    lim.max_aliases = 10;
    check_err(fx, parse(fx, text, strlen(text), &lim), TSR_ELIMIT, 2, 5,
              "nesting deeper than 3");
    lim.max_depth = 4;
    assert_int_equal(parse(fx, text, strlen(text), &lim), TSR_OK);
}

/* ---------------------------------------------------------------------
 * Aliases.
 */
static const char billion_laughs[] =
    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

static void test_billion_laughs_is_refused_when_aliases_are_off(void **state)
{
    fixture *fx = *state;
    check_err(fx, parse(fx, billion_laughs, strlen(billion_laughs), &defaults), TSR_ELIMIT, 2, 8,
              "aliases are not allowed");
}

static void test_billion_laughs_is_refused_with_ten_aliases_allowed(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;

    lim.max_aliases = 10;
    check_err(fx, parse(fx, billion_laughs, strlen(billion_laughs), &lim), TSR_ELIMIT, 3, 11,
              "more than 10 aliases");
}

static void test_billion_laughs_is_refused_by_node_count_with_any_alias_allowance(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;

    /* Every copy counts: level e is 66,430 nodes, so its second copy passes
     * 200,000. */
    lim.max_aliases = 4000000000u;
    check_err(fx, parse(fx, billion_laughs, strlen(billion_laughs), &lim), TSR_ELIMIT, 6, 11,
              "more than 200000 YAML nodes");
}

static void test_ten_aliases_cannot_copy_past_the_node_limit(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    /* 1,000 scalars doubled by each of five levels of two aliases: 63,127
     * nodes in all, the 20,000th reached by the first copy of d. */
    char *text = repeat("a: &a [", "x,", 999,
                        "x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\n"
                        "e: &e [*d, *d]\nf: [*e, *e]\n", &len);

    lim.max_aliases = 10;
    lim.max_nodes = 20000;
    check_err(fx, parse(fx, text, len, &lim), TSR_ELIMIT, 5, 8, "more than 20000 YAML nodes");
    lim.max_nodes = 63127;
    assert_int_equal(parse(fx, text, len, &lim), TSR_OK);
    lim.max_nodes = 63126;
    check_err(fx, parse(fx, text, len, &lim), TSR_ELIMIT, 6, 9, "more than 63126 YAML nodes");
    free(text);
}

/* ---------------------------------------------------------------------
 * Sizes and counts.
 */
static void test_huge_scalar_is_refused_by_the_size_limit(void **state)
{
    fixture *fx = *state;
    size_t len;
    char *text = repeat("a: ", "x", 20u << 20, "\n", &len);

    check_err(fx, parse(fx, text, len, &defaults), TSR_ELIMIT, 0, 0,
              "larger than the limit of 4194304 bytes");
    free(text);
}

static void test_huge_scalar_is_refused_by_the_scalar_limit(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    char *text = repeat("a: ", "x", 20u << 20, "\n", &len);

    lim.max_size = 32u << 20;
    check_err(fx, parse(fx, text, len, &lim), TSR_ELIMIT, 1, 4,
              "scalar longer than 65536 bytes");
    /* Quoted, and as a key, the same. */
    memcpy(text, "- '", 3);
    text[len - 1] = '\'';
    check_err(fx, parse(fx, text, len, &lim), TSR_ELIMIT, 1, 3, "scalar longer than 65536 bytes");
    free(text);
}

static void test_scalar_at_the_limit_is_accepted(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    char *text = repeat("a: ", "y", 100, "\n", &len);

    lim.max_scalar = 100;
    assert_int_equal(parse(fx, text, len, &lim), TSR_OK);
    lim.max_scalar = 99;
    check_err(fx, parse(fx, text, len, &lim), TSR_ELIMIT, 1, 4, "scalar longer than 99 bytes");
    free(text);
}

static void test_node_count_limit_counts_every_node(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    const char *map = "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}";
    /* One sequence and 499 scalars. */
    char *text = repeat("[", "1, ", 498, "1]", &len);

    lim.max_nodes = 500;
    assert_int_equal(parse(fx, text, len, &lim), TSR_OK);
    lim.max_nodes = 499;
    check_err(fx, parse(fx, text, len, &lim), TSR_ELIMIT, 1, 1496, "more than 499 YAML nodes");
    free(text);

    /* Keys count: a mapping of 10 pairs is 21 nodes. */
    lim.max_nodes = 21;
    assert_int_equal(parse(fx, map, strlen(map), &lim), TSR_OK);
    lim.max_nodes = 20;
    check_err(fx, parse(fx, map, strlen(map), &lim), TSR_ELIMIT, 1, 59, "more than 20 YAML nodes");
}

static void test_file_size_limit_is_checked_before_parsing(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    char text[128];

    memset(text, 'z', sizeof text);
    memcpy(text, "a: ", 3);
    lim.max_size = 100;
    assert_int_equal(parse(fx, text, 100, &lim), TSR_OK);
    check_err(fx, parse(fx, text, 101, &lim), TSR_ELIMIT, 0, 0,
              "input of 101 bytes is larger than the limit of 100 bytes");
    /* Even invalid input is refused for its size first. */
    text[50] = '\xff';
    check_err(fx, parse(fx, text, 101, &lim), TSR_ELIMIT, 0, 0, "larger than the limit");
}

/* Wide documents stay linear: libyaml's simple-key bookkeeping and our
 * duplicate-key check both scale. */
static void test_wide_documents_are_accepted(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t cap = 100000 * 24, len = 1, i;
    char *text = malloc(cap);

    assert_non_null(text);
    lim.max_nodes = 1000000;
    text[0] = '{';
    for (i = 0; i < 100000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%sk%zu: %zu", i ? ", " : "", i, i);
    text[len++] = '}';
    assert_int_equal(parse(fx, text, len, &lim), TSR_OK);
    assert_int_equal(fx->root->u.map.len, 100000);
    assert_string_equal(tsr__ymap_get(fx->root, "k99999")->u.scalar.text, "99999");

    /* The same with one key repeated at the very end. */
    len--;
    len += (size_t)snprintf(text + len, cap - len, ", k77: again}");
    check_err(fx, parse(fx, text, len, &lim), TSR_EPARSE, 1, (int)(len - 10),
              "duplicate key `k77` (first at line 1)");
    free(text);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_deep_flow_sequences_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_deep_flow_sequences_are_refused_too, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_flow_mappings_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_block_sequences_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_block_mappings_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_deep_nesting_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_at_the_limit_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases_cannot_nest_past_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_billion_laughs_is_refused_when_aliases_are_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_billion_laughs_is_refused_with_ten_aliases_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_billion_laughs_is_refused_by_node_count_with_any_alias_allowance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ten_aliases_cannot_copy_past_the_node_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_scalar_is_refused_by_the_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_scalar_is_refused_by_the_scalar_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_at_the_limit_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_count_limit_counts_every_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit_is_checked_before_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_documents_are_accepted, setup, teardown),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
