/* Unit tests for lib/utf8.c: UTF-8 validity, quotations cut on a character
 * boundary, and outside text shown clean. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static void test_utf8_validation_refuses_overlongs_and_surrogates(void **state)
{
    (void)state;
    assert_true(tsr__utf8_valid("Москва", strlen("Москва")));
    assert_true(tsr__utf8_valid("\xF0\x9F\x8E\xA2", 4));     /* U+1F3A2 */
    assert_false(tsr__utf8_valid("\xC0\xAF", 2));            /* overlong '/' */
    assert_false(tsr__utf8_valid("\xE0\x80\xAF", 3));        /* overlong */
    assert_false(tsr__utf8_valid("\xED\xA0\x80", 3));        /* surrogate */
    assert_false(tsr__utf8_valid("\xF4\x90\x80\x80", 4));    /* > U+10FFFF */
    assert_false(tsr__utf8_valid("\xFF", 1));
    assert_false(tsr__utf8_valid("\xD0", 1));                /* truncated */
}

static void test_utf8_prefix_never_cuts_a_character(void **state)
{
    static const char s[] = "ab\xD0\x9C\xF0\x9F\x8E\xA2";   /* a b М U+1F3A2 */
    (void)state;
    assert_int_equal(tsr__utf8_prefix(s, 8, 100), 8);   /* short enough: all of it */
    assert_int_equal(tsr__utf8_prefix(s, 8, 8), 8);
    assert_int_equal(tsr__utf8_prefix(s, 8, 7), 4);     /* not into the 4-byte one */
    assert_int_equal(tsr__utf8_prefix(s, 8, 5), 4);
    assert_int_equal(tsr__utf8_prefix(s, 8, 4), 4);
    assert_int_equal(tsr__utf8_prefix(s, 8, 3), 2);     /* not into М */
    assert_int_equal(tsr__utf8_prefix(s, 8, 0), 0);
}

static void test_utf8_cut_and_clip_never_split_a_character(void **state)
{
    const char *s = "a\xD0\x96\xD0\x96";          /* "aЖЖ" */
    char buf[16];
    (void)state;

    assert_int_equal(tsr__utf8_prefix(s, 5, 10), 5);
    assert_int_equal(tsr__utf8_prefix(s, 5, 4), 3);      /* not inside the second Ж */
    assert_int_equal(tsr__utf8_prefix(s, 5, 2), 1);
    assert_int_equal(tsr__utf8_prefix(s, 5, 0), 0);

    assert_string_equal(tsr__clip(buf, sizeof buf, s, 5, 4), "a\xD0\x96...");
    assert_string_equal(tsr__clip(buf, sizeof buf, "ok", 2, 40), "ok");
    assert_string_equal(tsr__clip(buf, sizeof buf, "\x1b[2J\tx", 6, 40), "?[2J?x");
    assert_string_equal(tsr__clip(buf, sizeof buf, "\xC2\x9B" "1;2H", 6, 40), "?1;2H");  /* C1 CSI */
    assert_string_equal(tsr__clip(buf, sizeof buf, "\xC2\xA0\xFF\xD0", 4, 40), "\xC2\xA0??");
    /* the buffer bounds it too, "..." included */
    assert_string_equal(tsr__clip(buf, 8, "abcdefghij", 10, 40), "abcd...");
    assert_string_equal(tsr__clip(buf, 3, "abcdefghij", 10, 40), "");

    /* in place, as explain cleans each line it writes */
    strcpy(buf, "t1\x1b]0;x\x07\xD0\x96\xC2\x85.");
    assert_int_equal(tsr__clean_in_place(buf), 12);
    assert_string_equal(buf, "t1?]0;x?\xD0\x96?.");
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_validation_refuses_overlongs_and_surrogates),
        cmocka_unit_test(test_utf8_prefix_never_cuts_a_character),
        cmocka_unit_test(test_utf8_cut_and_clip_never_split_a_character),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
