/* Unit tests for lib/suggest.c: did-you-mean, and whether a name is in a list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static void test_closest_suggests_transpositions_and_typos(void **state)
{
    const char *const names[] = { "height_cm", "zone", "event_start", "validated" };
    (void)state;

    assert_string_equal(tsr__closest("heigth_cm", 9, names, 4), "height_cm");
    assert_string_equal(tsr__closest("zome", 4, names, 4), "zone");
    assert_string_equal(tsr__closest("validate", 8, names, 4), "validated");
    assert_null(tsr__closest("price", 5, names, 4));
    assert_int_equal(tsr__edit_distance("abc", 3, "abc", 3, 3), 0);
    assert_int_equal(tsr__edit_distance("ab", 2, "ba", 2, 3), 1);
}

static void test_suggest_and_in_list(void **state)
{
    const char *const names[] = { "accepted", "rejected" };
    char buf[64];
    (void)state;

    assert_string_equal(tsr__suggest(buf, sizeof buf, "rejcted", 7, names, 2),
                        "; did you mean `rejected`?");
    assert_string_equal(tsr__suggest(buf, sizeof buf, "pending", 7, names, 2), "");
    assert_true(tsr__in_list("accepted", 8, names, 2));
    assert_true(tsr__in_list("rejected!", 8, names, 2));   /* only s[0..len) counts */
    assert_false(tsr__in_list("accept", 6, names, 2));
    assert_false(tsr__in_list("", 0, names, 2));
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closest_suggests_transpositions_and_typos),
        cmocka_unit_test(test_suggest_and_in_list),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
