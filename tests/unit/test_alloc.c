/* Unit tests for lib/alloc.c: the allocator hook every byte goes through,
 * the arena, growing arrays on the heap and in the arena, and formatted
 * text in the arena. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"
#include "alloc_fixture.h"

static void test_arena_frees_everything_through_the_hook(void **state)
{
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_alloc a;
    tsr_arena ar;
    int i;
    (void)state;

    tsr__alloc_init(&a, &user);
    tsr__arena_init(&ar, &a, 64);
    for (i = 0; i < 1000; i++) {
        char *p = tsr__arena_alloc(&ar, (size_t)(i % 100) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 8, 0);
        memset(p, 'x', (size_t)(i % 100) + 1);
    }
    assert_true(c.live > 0);
    tsr__arena_reset(&ar);
    assert_non_null(tsr__arena_alloc(&ar, 10));
    tsr__arena_free(&ar);
    assert_int_equal(c.live, 0);
}

static void test_arena_alloc_fails_cleanly_when_the_hook_fails(void **state)
{
    counting c = { .fail_at = 1 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_alloc a;
    tsr_arena ar;
    (void)state;

    tsr__alloc_init(&a, &user);
    tsr__arena_init(&ar, &a, 64);
    assert_null(tsr__arena_alloc(&ar, 16));
    assert_null(tsr__arena_calloc(&ar, SIZE_MAX / 2, 4));
    tsr__arena_free(&ar);
    assert_int_equal(c.live, 0);
}

static void test_grow_keeps_the_array_on_failure(void **state)
{
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_alloc a;
    void *items = NULL;
    size_t cap = 0;
    (void)state;

    tsr__alloc_init(&a, &user);
    assert_int_equal(tsr__grow(&a, &items, &cap, 3, sizeof(int)), TSR_OK);
    assert_true(cap >= 3);
    c.fail_at = c.calls + 1;
    assert_int_equal(tsr__grow(&a, &items, &cap, 1000, sizeof(int)), TSR_ENOMEM);
    assert_non_null(items);
    tsr__free(&a, items, cap * sizeof(int));
    assert_int_equal(c.live, 0);
}

/* tsr__arena_bump (the inline bump) places every block where
 * tsr__arena_alloc does: the same offset in the same-sized chunk, a new
 * chunk at the same moment, NULL for the same sizes and when the hook
 * fails, the same calls to the hook. */
static void test_arena_bump_places_blocks_as_arena_alloc_does(void **state)
{
    static const size_t sizes[] = {
        1, 0, 7, 8, 9, 1, 16, 3, 40, 0, 24, 57, 64, 1, 100, 200, 13, 8, 1000, 5,
        SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - 8, 6, 4096, 2, 130, 0, 11,
    };
    counting ca = { 0 }, cb = { 0 };
    tsr_allocator ua = { counting_realloc, &ca }, ub = { counting_realloc, &cb };
    tsr_alloc a, b;
    tsr_arena ara, arb;
    size_t i, round;
    (void)state;

    for (round = 0; round < 2; round++) {
        tsr__alloc_init(&a, &ua);
        tsr__alloc_init(&b, &ub);
        tsr__arena_init(&ara, &a, 64);
        tsr__arena_init(&arb, &b, 64);
        /* the second round: the hook fails at its fourth call */
        ca.fail_at = cb.fail_at = round ? ca.calls + 4 : 0;
        for (i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            unsigned char *pa = tsr__arena_alloc(&ara, sizes[i]);
            unsigned char *pb = tsr__arena_bump(&arb, sizes[i]);

            assert_int_equal(pa == NULL, pb == NULL);
            assert_int_equal(ca.calls, cb.calls);
            assert_int_equal(ara.total, arb.total);
            if (!pa)
                continue;
            assert_int_equal((uintptr_t)pb % 8, 0);
            assert_int_equal(pa - ara.head->u.data, pb - arb.head->u.data);
            assert_int_equal(ara.head->used, arb.head->used);
            memset(pb, 'x', sizes[i] ? sizes[i] : 1);
        }
        tsr__arena_free(&ara);
        tsr__arena_free(&arb);
        assert_int_equal(ca.live, 0);
        assert_int_equal(cb.live, 0);
    }
}

/* An array in the arena grows by doubling from its first capacity, keeps
 * what it held, and is left as it was when the arena cannot give more. */
static void test_arena_grow_doubles_and_keeps_the_elements(void **state)
{
    counting c = { 0 };
    tsr_allocator user = { counting_realloc, &c };
    tsr_alloc a;
    tsr_arena ar;
    void *p = NULL;
    int *v;
    size_t cap = 0, n;
    (void)state;

    tsr__alloc_init(&a, &user);
    tsr__arena_init(&ar, &a, 64);
    for (n = 0; n < 100; n++) {
        assert_int_equal(tsr__arena_grow(&ar, &p, &cap, n, sizeof *v, 4), TSR_OK);
        v = p;
        v[n] = (int)n;
        assert_true(cap > n);
    }
    assert_int_equal(cap, 128);   /* 4, 8, ..., 128 */
    for (n = 0; n < 100; n++)
        assert_int_equal(v[n], (int)n);
    c.fail_at = c.calls + 1;      /* the next chunk cannot be had */
    assert_int_equal(tsr__arena_grow(&ar, &p, &cap, 128, 4096, 4), TSR_ENOMEM);
    assert_ptr_equal(p, v);
    assert_int_equal(cap, 128);
    c.fail_at = 0;
    /* sizes that overflow are refused, not wrapped */
    assert_int_equal(tsr__arena_grow(&ar, &p, &cap, 128, SIZE_MAX / 64, 4), TSR_ENOMEM);
    tsr__arena_free(&ar);
    assert_int_equal(c.live, 0);
}

/* Formatted text in the arena, short or longer than the stack buffer. */
static void test_arena_printf_formats_any_length(void **state)
{
    char big[600];
    tsr_alloc a;
    tsr_arena ar;
    const char *s;
    (void)state;

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    tsr__alloc_init(&a, NULL);
    tsr__arena_init(&ar, &a, 64);
    assert_string_equal(tsr__arena_printf(&ar, "%s=%d", "n", 42), "n=42");
    s = tsr__arena_printf(&ar, "<%s>", big);
    assert_non_null(s);
    assert_int_equal(strlen(s), sizeof big + 1);
    assert_true(s[0] == '<' && s[sizeof big] == '>' && s[300] == 'x');
    tsr__arena_free(&ar);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_frees_everything_through_the_hook),
        cmocka_unit_test(test_arena_alloc_fails_cleanly_when_the_hook_fails),
        cmocka_unit_test(test_arena_bump_places_blocks_as_arena_alloc_does),
        cmocka_unit_test(test_grow_keeps_the_array_on_failure),
        cmocka_unit_test(test_arena_grow_doubles_and_keeps_the_elements),
        cmocka_unit_test(test_arena_printf_formats_any_length),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
