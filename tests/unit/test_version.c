/* Unit tests for lib/version.c: the version at run time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static void test_version_matches_the_header(void **state)
{
    (void)state;
    assert_string_equal(tsr_version(), TSR_VERSION_STRING);
    assert_int_equal(tsr_version_number(), TSR_VERSION_NUMBER);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matches_the_header),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
