/* Unit tests for lib/error.c: rendering errors as file:line:col, the
 * snprintf contract of tsr_error_format, and messages cut on a character
 * and clean whatever text they quote. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static void test_error_format_renders_file_line_col(void **state)
{
    tsr_error err;
    char buf[256];
    (void)state;

    tsr__err_at(&err, TSR_ENAME, "park.yaml", 12, 9, "unknown field `%s`", "item.heigth_cm");
    tsr_error_format(buf, sizeof buf, &err);
    assert_string_equal(buf, "park.yaml:12:9: unknown field `item.heigth_cm`");
    assert_int_equal(err.code, TSR_ENAME);

    tsr__err_path(&err, TSR_EORDER, "items[1].id", "duplicate line id `t1`");
    tsr_error_format(buf, sizeof buf, &err);
    assert_string_equal(buf, "items[1].id: duplicate line id `t1`");
}

static void test_error_format_truncates_like_snprintf(void **state)
{
    tsr_error err;
    char small[8];
    int n;
    (void)state;

    tsr__err(&err, TSR_EIO, "cannot read");
    n = tsr_error_format(small, sizeof small, &err);
    assert_int_equal(n, (int)strlen("cannot read"));
    assert_string_equal(small, "cannot ");
    assert_string_equal(tsr_strerror(TSR_ENOMEM), "out of memory");
    assert_string_equal(tsr_strerror(12345), "unknown error");
}

/* Every message is valid UTF-8 without control characters, however long
 * the text it quotes and whatever that text holds: cut on a character
 * boundary, control characters and stray bytes shown as '?'. */
static void test_error_text_is_cut_on_characters_and_clean(void **state)
{
    char zh[3 * 300 + 1], buf[32], wide[128];
    tsr_error err;
    size_t i;
    int n;
    (void)state;

    /* 300 three-byte characters after one ASCII byte: the 511-byte cut of
     * the message falls inside a character */
    for (i = 0; i < 300; i++)
        memcpy(zh + 3 * i, "\xE6\x96\x87", 3);   /* U+6587 */
    zh[900] = '\0';
    tsr__err(&err, TSR_EEVAL, "x%s", zh);
    assert_true(strlen(err.message) <= TSR_ERROR_TEXT_MAX - 1);
    assert_true(strlen(err.message) >= TSR_ERROR_TEXT_MAX - 4);
    assert_true(tsr__utf8_valid(err.message, strlen(err.message)));

    tsr__err_path(&err, TSR_EORDER, "items[0].id\x1b[2J", "id `\x1b]0;owned\x07\xC2\x9B\xFF`");
    assert_string_equal(err.message, "id `?]0;owned???`");
    assert_string_equal(err.path, "items[0].id?[2J");

    /* a short buffer never ends in half a character */
    tsr__err(&err, TSR_EEVAL, "ab\xE6\x96\x87\xE6\x96\x87");
    n = tsr_error_format(buf, 6, &err);
    assert_int_equal(n, 8);
    assert_string_equal(buf, "ab\xE6\x96\x87");

    /* both places: the rule's and the order's */
    tsr__err_at(&err, TSR_EEVAL, "park.yaml", 3, 7, "arithmetic overflow in `x * y`");
    tsr__err_locate(&err, NULL, 0, 0, "items[3]");
    tsr_error_format(wide, sizeof wide, &err);
    assert_string_equal(wide, "park.yaml:3:7: arithmetic overflow in `x * y` (at items[3])");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_format_renders_file_line_col),
        cmocka_unit_test(test_error_format_truncates_like_snprintf),
        cmocka_unit_test(test_error_text_is_cut_on_characters_and_clean),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
