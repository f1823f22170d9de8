/*
 * test_expr_parse.c — the expression parser (lib/expr_parse.c): precedence and
 * associativity of every level, the conditional form, `not in`, n-ary
 * and/or chains, source ranges, syntax errors with their columns, and the
 * nesting limit that keeps hostile input off the C stack.
 */
#include "expr_fixture.h"

typedef struct px {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_expr_env env;
    tsr_error err;
    tsr_xcx cx;
    tsr_xnode *tree;
    char dump[4096];
} px;

static int px_setup(void **state)
{
    px *p = calloc(1, sizeof *p);
    assert_non_null(p);
    tsr__alloc_init(&p->alloc, NULL);
    tsr__arena_init(&p->arena, &p->alloc, 1024);
    p->env.file = "rules.yaml";
    *state = p;
    return 0;
}

static int px_teardown(void **state)
{
    px *p = *state;
    tsr__xcx_fini(&p->cx);
    tsr__arena_free(&p->arena);
    free(p);
    return 0;
}

static int parse(px *p, const char *src)
{
    tsr__xcx_fini(&p->cx);
    memset(&p->err, 0, sizeof p->err);
    p->tree = NULL;
    assert_int_equal(tsr__xcx_init(&p->cx, src, strlen(src), NULL, &p->env, &p->arena, &p->err),
                     TSR_OK);
    return tsr__expr_parse(&p->cx, &p->tree);
}

/* Parse and render as an S-expression. */
static const char *sexp(px *p, const char *src)
{
    int rc = parse(p, src);
    if (rc != TSR_OK)
        fail_msg("parsing `%s`: %d %s", src, rc, p->err.message);
    tsr_buf b;
    tsr__buf_init(&b, &p->alloc);
    tsr__xnode_dump(p->tree, &b);
    assert_false(b.failed);
    snprintf(p->dump, sizeof p->dump, "%.*s", (int)b.len, b.data);
    tsr__buf_free(&b);
    return p->dump;
}

static void parse_fails(px *p, const char *src, int code, const char *msg, int col)
{
    int rc = parse(p, src);
    if (rc != code || !strstr(p->err.message, msg) || p->err.column != col)
        fail_msg("parsing `%s`: want %d `%s` at col %d, got %d `%s` at col %d", src, code, msg,
                 col, rc, p->err.message, p->err.column);
}

static void arithmetic_binds_tighter_than_comparison_and_logic(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_string_equal(sexp(p, "(1 + 2) * 3"), "(* (+ 1 2) 3)");
    assert_string_equal(sexp(p, "a + b < c * d"), "(< (+ a b) (* c d))");
    assert_string_equal(sexp(p, "a or b and c"), "(or a (and b c))");
    assert_string_equal(sexp(p, "a and b or c and d"), "(or (and a b) (and c d))");
    assert_string_equal(sexp(p, "not a == b"), "(not (== a b))");
    assert_string_equal(sexp(p, "not a and b"), "(and (not a) b)");
    assert_string_equal(sexp(p, "a % b * c / d"), "(/ (* (% a b) c) d)");
}

static void binary_operators_associate_to_the_left(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_string_equal(sexp(p, "8 / 4 / 2"), "(/ (/ 8 4) 2)");
}

static void and_or_chains_are_flattened(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "a and b and c"), "(and a b c)");
    assert_string_equal(sexp(p, "a or b or c or d"), "(or a b c d)");
    assert_string_equal(sexp(p, "(a and b) and c"), "(and (and a b) c)");
}

static void unary_minus_binds_tighter_than_multiplication_and_looser_than_members(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "-a * b"), "(* (neg a) b)");
    assert_string_equal(sexp(p, "-item.price"), "(neg (. item price))");
    assert_string_equal(sexp(p, "- -a"), "(neg (neg a))");
    /* A negative literal is folded into the literal. */
    assert_string_equal(sexp(p, "-5 + 2"), "(+ -5 2)");
    assert_string_equal(sexp(p, "-9223372036854775808"), "-9223372036854775808");
    assert_string_equal(sexp(p, "-1.25"), "-1.25");
    assert_string_equal(sexp(p, "2 - -3"), "(- 2 -3)");
}

static void members_indexes_and_calls_chain(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "tables.zone_price[item.zone]"),
                        "([] (. tables zone_price) (. item zone))");
    assert_string_equal(sexp(p, "count(items, item.kind == \"ticket\")"),
                        "(call count items (== (. item kind) \"ticket\"))");
    assert_string_equal(sexp(p, "f()"), "(call f)");
    assert_string_equal(sexp(p, "a.b.c"), "(. (. a b) c)");
    /* Keywords may be field names after `.`. */
    assert_string_equal(sexp(p, "item.in"), "(. item in)");
}

static void list_literals_and_in(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "item.kind in [\"ticket\", \"fnb\"]"),
                        "(in (. item kind) (list \"ticket\" \"fnb\"))");
    assert_string_equal(sexp(p, "x in []"), "(in x (list))");
    assert_string_equal(sexp(p, "x in [1, 2,]"), "(in x (list 1 2))");
    assert_string_equal(sexp(p, "x not in [1]"), "(not (in x (list 1)))");
    assert_string_equal(sexp(p, "not x in y"), "(not (in x y))");
    assert_string_equal(sexp(p, "a + 1 in b"), "(in (+ a 1) b)");
}

static void the_conditional_form_is_lowest_and_right_associative(void **state)
{
    px *p = *state;
    assert_string_equal(sexp(p, "2200.00 if weekday(now) >= 6 else 1800.00"),
                        "(if (>= (call weekday now) 6) 2200.0 1800.0)");
    assert_string_equal(sexp(p, "a if c or d else b"), "(if (or c d) a b)");
    assert_string_equal(sexp(p, "x if c1 else y if c2 else z"), "(if c1 x (if c2 y z))");
    assert_string_equal(sexp(p, "a + 1 if c else b * 2"), "(if c (+ a 1) (* b 2))");
    assert_string_equal(sexp(p, "(x if c else y) + 1"), "(+ (if c x y) 1)");
}

static void nodes_remember_their_source_ranges(void **state)
{
    px *p = *state;
    assert_int_equal(parse(p, "  a and (b or c)  "), TSR_OK);
    assert_int_equal(p->tree->kind, XK_AND);
    assert_int_equal(p->tree->off, 2);
    assert_int_equal(p->tree->len, 14);
    assert_int_equal(p->tree->args[1]->off, 8);     /* the parentheses are included */
    assert_int_equal(p->tree->args[1]->len, 8);
    assert_int_equal(parse(p, "item.height_cm >= 100"), TSR_OK);
    assert_int_equal(p->tree->tok_off, 15);          /* the operator */
    assert_int_equal(p->tree->a->tok_off, 5);        /* the member name */
}

static void syntax_errors_name_what_was_expected_and_where(void **state)
{
    px *p = *state;
    parse_fails(p, "a <", TSR_EPARSE, "expected an expression, found the end", 4);
    parse_fails(p, "(a", TSR_EPARSE, "expected `)`", 3);
    parse_fails(p, "a b", TSR_EPARSE, "expected an operator or the end of the expression, found `b`", 3);
    parse_fails(p, "f(a,)", TSR_EPARSE, "expected an expression, found `)`", 5);
    parse_fails(p, "f(a b)", TSR_EPARSE, "expected `,` or `)` after an argument, found `b`", 5);
    parse_fails(p, "x if y", TSR_EPARSE, "expected `else`", 7);
    parse_fails(p, "a)", TSR_EPARSE, "unbalanced `)`", 2);
    parse_fails(p, "   ", TSR_EPARSE, "empty expression", 1);
    parse_fails(p, "item.", TSR_EPARSE, "expected a name after `.`", 6);
    parse_fails(p, "[1, 2", TSR_EPARSE, "expected `,` or `]` in a list", 6);
    parse_fails(p, "t[1", TSR_EPARSE, "expected `]`", 4);
    parse_fails(p, "a and", TSR_EPARSE, "expected an expression", 6);
    parse_fails(p, "9223372036854775808", TSR_EVALUE, "out of range", 1);
    parse_fails(p, "a == not b", TSR_EPARSE, "put it in parentheses: `(not …)`", 6);
    assert_string_equal(sexp(p, "a == (not b)"), "(== a (not b))");
}

static void comparisons_do_not_chain(void **state)
{
    px *p = *state;
    parse_fails(p, "100 <= item.height_cm < 130", TSR_EPARSE,
                "comparisons cannot be chained; combine them with `and`", 23);
    parse_fails(p, "a == b in c", TSR_EPARSE, "cannot be chained", 8);
}

static char *repeat(const char *prefix, int n, const char *middle, const char *suffix)
{
    size_t lp = strlen(prefix), ls = strlen(suffix);
    char *s = malloc((size_t)n * (lp + ls) + strlen(middle) + 1);
    assert_non_null(s);
    char *w = s;
    for (int i = 0; i < n; i++, w += lp)
        memcpy(w, prefix, lp);
    strcpy(w, middle);
    w += strlen(middle);
    for (int i = 0; i < n; i++, w += ls)
        memcpy(w, suffix, ls);
    *w = '\0';
    return s;
}

static void nesting_is_bounded(void **state)
{
    px *p = *state;
    char *ok = repeat("(", 200, "x", ")");
    assert_int_equal(parse(p, ok), TSR_OK);
    free(ok);
    char *deep = repeat("(", 100000, "x", ")");
    assert_int_equal(parse(p, deep), TSR_ELIMIT);
    assert_non_null(strstr(p->err.message, "nested too deeply"));
    free(deep);
    char *nots = repeat("not ", 5000, "x", "");
    assert_int_equal(parse(p, nots), TSR_ELIMIT);
    free(nots);
    char *negs = repeat("-", 5000, "x", "");
    assert_int_equal(parse(p, negs), TSR_ELIMIT);
    free(negs);
    char *lists = repeat("[", 5000, "1", "]");
    assert_int_equal(parse(p, lists), TSR_ELIMIT);
    free(lists);
    char *calls = repeat("f(", 5000, "1", ")");
    assert_int_equal(parse(p, calls), TSR_ELIMIT);
    free(calls);
    char *conds = repeat("1 if c else ", 5000, "1", "");
    assert_int_equal(parse(p, conds), TSR_ELIMIT);
    free(conds);
}

static void long_operator_chains_are_bounded_but_and_chains_are_flat(void **state)
{
    px *p = *state;
    /* 1 + 1 + ... builds a left-leaning tree as tall as the chain. */
    char *sum = repeat("1 + ", 1000, "1", "");
    assert_int_equal(parse(p, sum), TSR_ELIMIT);
    free(sum);
    char *sum_ok = repeat("1 + ", 100, "1", "");
    assert_int_equal(parse(p, sum_ok), TSR_OK);
    free(sum_ok);
    /* A long and-chain is one node. */
    char *ands = repeat("a and ", 3000, "a", "");
    assert_int_equal(parse(p, ands), TSR_OK);
    assert_int_equal(p->tree->kind, XK_AND);
    assert_int_equal(p->tree->nargs, 3001);
    free(ands);
}

int main(int argc, char **argv)
{
#define T(f) cmocka_unit_test_setup_teardown(f, px_setup, px_teardown)
    const struct CMUnitTest tests[] = {
        T(arithmetic_binds_tighter_than_comparison_and_logic),
        T(binary_operators_associate_to_the_left),
        T(and_or_chains_are_flattened),
        T(unary_minus_binds_tighter_than_multiplication_and_looser_than_members),
        T(members_indexes_and_calls_chain),
        T(list_literals_and_in),
        T(the_conditional_form_is_lowest_and_right_associative),
        T(nodes_remember_their_source_ranges),
        T(syntax_errors_name_what_was_expected_and_where),
        T(comparisons_do_not_chain),
        T(nesting_is_bounded),
        T(long_operator_chains_are_bounded_but_and_chains_are_flat),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
