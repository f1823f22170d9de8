/* Unit tests for lib/buf.c: the output buffer and its JSON strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

static void test_buf_escapes_json_strings(void **state)
{
    tsr_alloc a;
    tsr_buf b;
    (void)state;

    tsr__alloc_init(&a, NULL);
    tsr__buf_init(&b, &a);
    tsr__buf_json_string(&b, "a\"b\\c\n\x01", 7);
    tsr__buf_printf(&b, ",%d", 42);
    assert_false(b.failed);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\",42");
    tsr__buf_free(&b);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_escapes_json_strings),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
