/*
 * test_expr_lex.c — the expression tokenizer (lib/expr_lex.c): token kinds,
 * exact byte positions, literal decoding and the errors (with columns)
 * for malformed numbers, strings and characters from other languages.
 */
#include "expr_fixture.h"

typedef struct lx {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_expr_env env;
    tsr_error err;
    tsr_xcx cx;
} lx;

static int lx_setup(void **state)
{
    lx *l = calloc(1, sizeof *l);
    assert_non_null(l);
    tsr__alloc_init(&l->alloc, NULL);
    tsr__arena_init(&l->arena, &l->alloc, 1024);
    l->env.file = "rules.yaml";
    *state = l;
    return 0;
}

static int lx_teardown(void **state)
{
    lx *l = *state;
    tsr__xcx_fini(&l->cx);
    tsr__arena_free(&l->arena);
    free(l);
    return 0;
}

static int lex(lx *l, const char *src)
{
    tsr__xcx_fini(&l->cx);
    memset(&l->err, 0, sizeof l->err);
    assert_int_equal(tsr__xcx_init(&l->cx, src, strlen(src), NULL, &l->env, &l->arena, &l->err),
                     TSR_OK);
    return tsr__expr_lex(&l->cx);
}

static void expect_tok(lx *l, size_t i, tsr_tok_kind kind, unsigned off, unsigned len)
{
    assert_true(i < l->cx.ntoks);
    const tsr_token *t = &l->cx.toks[i];
    if (t->kind != kind || t->off != off || t->len != len)
        fail_msg("token %zu: want kind %d at %u+%u, got kind %d at %u+%u", i, kind, off, len,
                 t->kind, t->off, t->len);
}

static void tokens_of_a_condition_have_exact_positions(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "item.height_cm >= 100 and item.height_cm<130"), TSR_OK);
    assert_int_equal(l->cx.ntoks, 12);
    expect_tok(l, 0, TK_IDENT, 0, 4);
    expect_tok(l, 1, TK_DOT, 4, 1);
    expect_tok(l, 2, TK_IDENT, 5, 9);
    expect_tok(l, 3, TK_GE, 15, 2);
    expect_tok(l, 4, TK_INT, 18, 3);
    assert_int_equal(l->cx.toks[4].num, 100);
    expect_tok(l, 5, TK_AND, 22, 3);
    expect_tok(l, 6, TK_IDENT, 26, 4);
    expect_tok(l, 9, TK_LT, 40, 1);
    expect_tok(l, 10, TK_INT, 41, 3);
    expect_tok(l, 11, TK_EOF, 44, 0);
}

static void every_operator_and_punctuation_is_a_token(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "( ) [ ] , . == != < <= > >= + - * / %"), TSR_OK);
    static const tsr_tok_kind want[] = {
        TK_LPAREN, TK_RPAREN, TK_LBRACK, TK_RBRACK, TK_COMMA, TK_DOT, TK_EQ, TK_NE,
        TK_LT, TK_LE, TK_GT, TK_GE, TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_PERCENT, TK_EOF,
    };
    assert_int_equal(l->cx.ntoks, TSR_ARRAY_LEN(want));
    for (size_t i = 0; i < TSR_ARRAY_LEN(want); i++)
        assert_int_equal(l->cx.toks[i].kind, want[i]);
}

static void keywords_are_whole_words_only(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "and or not in if else true false android order_in notes"), TSR_OK);
    static const tsr_tok_kind want[] = {
        TK_AND, TK_OR, TK_NOT, TK_IN, TK_IF, TK_ELSE, TK_TRUE, TK_FALSE,
        TK_IDENT, TK_IDENT, TK_IDENT, TK_EOF,
    };
    for (size_t i = 0; i < TSR_ARRAY_LEN(want); i++)
        assert_int_equal(l->cx.toks[i].kind, want[i]);
    assert_int_equal(l->cx.toks[8].slen, 7);
    assert_memory_equal(l->cx.toks[8].str, "android", 7);
}

static void integers_are_checked_against_int64(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "9223372036854775807"), TSR_OK);
    assert_int_equal(l->cx.toks[0].num, INT64_MAX);
    assert_false(l->cx.toks[0].int_min_only);
    /* 2^63 lexes (it is valid negated); the parser refuses it otherwise. */
    assert_int_equal(lex(l, "9223372036854775808"), TSR_OK);
    assert_true(l->cx.toks[0].int_min_only);
    assert_int_equal(lex(l, "x + 9223372036854775809"), TSR_EVALUE);
    assert_int_equal(l->err.column, 5);
    assert_non_null(strstr(l->err.message, "out of range"));
    assert_int_equal(lex(l, "123456789012345678901234567890"), TSR_EVALUE);
}

static void decimals_are_exact_with_six_digits(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "12.5 0.000001 1800.00"), TSR_OK);
    assert_int_equal(l->cx.toks[0].kind, TK_DEC);
    assert_int_equal(l->cx.toks[0].num, 12500000);
    assert_int_equal(l->cx.toks[1].num, 1);
    assert_int_equal(l->cx.toks[2].num, INT64_C(1800000000));
    assert_int_equal(lex(l, "a == 0.1234567"), TSR_EVALUE);
    assert_int_equal(l->err.column, 6);
    assert_non_null(strstr(l->err.message, "6 fractional digits"));
}

static void malformed_numbers_are_errors_with_columns(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "1 + 2."), TSR_EPARSE);
    assert_int_equal(l->err.column, 7);
    assert_int_equal(lex(l, "x * .5"), TSR_EPARSE);
    assert_int_equal(l->err.column, 5);
    assert_int_equal(lex(l, "1e5"), TSR_EPARSE);
    assert_non_null(strstr(l->err.message, "invalid number `1e5`"));
    assert_int_equal(lex(l, "height >= 100cm"), TSR_EPARSE);
    assert_int_equal(l->err.column, 11);
    assert_int_equal(lex(l, "1.2.3"), TSR_EPARSE);
}

static void strings_decode_their_escapes(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "\"a\\\"b\" 'it\\'s' \"t\\tn\\n\\\\\" 'plain'"), TSR_OK);
    assert_int_equal(l->cx.toks[0].kind, TK_STR);
    assert_int_equal(l->cx.toks[0].slen, 3);
    assert_memory_equal(l->cx.toks[0].str, "a\"b", 3);
    assert_memory_equal(l->cx.toks[1].str, "it's", 4);
    assert_int_equal(l->cx.toks[2].slen, 5);
    assert_memory_equal(l->cx.toks[2].str, "t\tn\n\\", 5);
    assert_memory_equal(l->cx.toks[3].str, "plain", 5);
    expect_tok(l, 3, TK_STR, 26, 7);
    /* A double-quoted string may hold single quotes and vice versa. */
    assert_int_equal(lex(l, "\"it's\" 'say \"hi\"'"), TSR_OK);
    assert_memory_equal(l->cx.toks[0].str, "it's", 4);
    assert_memory_equal(l->cx.toks[1].str, "say \"hi\"", 8);
}

static void unknown_escapes_are_kept_for_regular_expressions(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "\"^\\d{6}$\""), TSR_OK);
    assert_int_equal(l->cx.toks[0].slen, 7);
    assert_memory_equal(l->cx.toks[0].str, "^\\d{6}$", 7);
    /* Mapping a decoded offset back to the source skips real escapes only. */
    assert_int_equal(lex(l, "\"a\\\\b\\d\""), TSR_OK);   /* "a\\b\d" -> a \ b \ d */
    assert_int_equal(l->cx.toks[0].slen, 5);
    assert_int_equal(tsr__str_src_offset(l->cx.src, 0, 0), 1);
    assert_int_equal(tsr__str_src_offset(l->cx.src, 0, 2), 4);
    assert_int_equal(tsr__str_src_offset(l->cx.src, 0, 3), 5);
}

static void an_unterminated_string_points_at_its_quote(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "item.zone == 'A"), TSR_EPARSE);
    assert_int_equal(l->err.line, 1);
    assert_int_equal(l->err.column, 14);
    assert_non_null(strstr(l->err.message, "unterminated string"));
    assert_string_equal(l->err.file, "rules.yaml");
    assert_int_equal(lex(l, "\"abc\\\""), TSR_EPARSE);
}

static void operators_from_other_languages_name_the_right_one(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "a = 1"), TSR_EPARSE);
    assert_int_equal(l->err.column, 3);
    assert_non_null(strstr(l->err.message, "did you mean `==`?"));
    assert_int_equal(lex(l, "a && b"), TSR_EPARSE);
    assert_non_null(strstr(l->err.message, "use `and`"));
    assert_int_equal(lex(l, "a || b"), TSR_EPARSE);
    assert_non_null(strstr(l->err.message, "use `or`"));
    assert_int_equal(lex(l, "!a"), TSR_EPARSE);
    assert_non_null(strstr(l->err.message, "use `not`"));
    assert_int_equal(lex(l, "a != b"), TSR_OK);
}

static void stray_characters_are_quoted_whole(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "a @ b"), TSR_EPARSE);
    assert_int_equal(l->err.column, 3);
    assert_non_null(strstr(l->err.message, "unexpected character `@`"));
    /* Columns count bytes: "é" is two. */
    assert_int_equal(lex(l, "'é' == x → y"), TSR_EPARSE);
    assert_int_equal(l->err.column, 11);
    assert_non_null(strstr(l->err.message, "`→`"));
    assert_int_equal(lex(l, "a\x01"), TSR_EPARSE);
    assert_non_null(strstr(l->err.message, "control character"));
}

static void whitespace_and_newlines_separate_tokens(void **state)
{
    lx *l = *state;
    assert_int_equal(lex(l, "  a\n\tand\r\n b  "), TSR_OK);
    assert_int_equal(l->cx.ntoks, 4);
    expect_tok(l, 0, TK_IDENT, 2, 1);
    expect_tok(l, 1, TK_AND, 5, 3);
    expect_tok(l, 2, TK_IDENT, 11, 1);
    expect_tok(l, 3, TK_EOF, 14, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(tokens_of_a_condition_have_exact_positions, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(every_operator_and_punctuation_is_a_token, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(keywords_are_whole_words_only, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(integers_are_checked_against_int64, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(decimals_are_exact_with_six_digits, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(malformed_numbers_are_errors_with_columns, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(strings_decode_their_escapes, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(unknown_escapes_are_kept_for_regular_expressions, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(an_unterminated_string_points_at_its_quote, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(operators_from_other_languages_name_the_right_one, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(stray_characters_are_quoted_whole, lx_setup, lx_teardown),
        cmocka_unit_test_setup_teardown(whitespace_and_newlines_separate_tokens, lx_setup, lx_teardown),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
