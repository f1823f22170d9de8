/* Unit tests for the stable merge sort (lib/sort.c): ties keep their
 * order, input already in order or reversed, elements of 8, 16 and other
 * sizes, every length up to a few hundred against an insertion sort, and
 * an allocation failure leaves the array as it was. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"
#include "alloc_fixture.h"

/* A key that ties often, and the position it was given at. */
typedef struct e8 { int32_t key, pos; } e8;   /* keys stay small */
typedef struct e16 { int64_t key, pos; } e16;
typedef struct e24 { int64_t key, pos, pad; } e24;

static int cmp8(const void *a, const void *b)
{
    const e8 *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static int cmp16(const void *a, const void *b)
{
    const e16 *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static int cmp24(const void *a, const void *b)
{
    const e24 *x = a, *y = b;
    return (x->key > y->key) - (x->key < y->key);
}

static tsr_alloc plain(void)
{
    tsr_alloc a;
    tsr__alloc_init(&a, NULL);
    return a;
}

/* Sort with tsr__sort_stable, then check against the stable insertion
 * sort of the same keys: same keys in the same places, ties by position. */
#define CHECK_SORT(T, CMP, keys, n)                                                        \
    do {                                                                                   \
        tsr_alloc al_ = plain();                                                           \
        tsr_arena ar_;                                                                     \
        T *v_ = calloc((n) ? (n) : 1, sizeof(T)), *w_ = calloc((n) ? (n) : 1, sizeof(T));  \
        size_t i_, j_;                                                                     \
        assert_non_null(v_);                                                               \
        assert_non_null(w_);                                                               \
        for (i_ = 0; i_ < (n); i_++) {                                                     \
            v_[i_].key = (int32_t)(keys)[i_];                                                     \
            v_[i_].pos = (int32_t)i_;                                                      \
        }                                                                                  \
        memcpy(w_, v_, (n) * sizeof(T));                                                   \
        for (i_ = 1; i_ < (n); i_++)                                                       \
            for (j_ = i_; j_ > 0 && CMP(&w_[j_ - 1], &w_[j_]) > 0; j_--) {                 \
                T t_ = w_[j_];                                                             \
                w_[j_] = w_[j_ - 1];                                                       \
                w_[j_ - 1] = t_;                                                           \
            }                                                                              \
        tsr__arena_init(&ar_, &al_, 256);                                                  \
        assert_int_equal(tsr__sort_stable(&ar_, v_, (n), sizeof(T), CMP), TSR_OK);         \
        tsr__arena_free(&ar_);                                                             \
        for (i_ = 0; i_ < (n); i_++) {                                                     \
            assert_int_equal(v_[i_].key, w_[i_].key);                                      \
            assert_int_equal(v_[i_].pos, w_[i_].pos);                                      \
        }                                                                                  \
        free(v_);                                                                          \
        free(w_);                                                                          \
    } while (0)

static void every_length_sorts_stably_like_an_insertion_sort(void **state)
{
    int64_t keys[300];
    uint64_t seed = 12345;
    size_t n, i;
    (void)state;

    for (n = 0; n <= 300; n++) {
        for (i = 0; i < n; i++) {
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            keys[i] = (int64_t)(seed >> 33) % 7;   /* many ties */
        }
        CHECK_SORT(e8, cmp8, keys, n);
        CHECK_SORT(e16, cmp16, keys, n);
        CHECK_SORT(e24, cmp24, keys, n);
    }
}

static void sorted_reversed_and_equal_input(void **state)
{
    int64_t up[1000], down[1000], same[1000], saw[1000];
    size_t i;
    (void)state;

    for (i = 0; i < 1000; i++) {
        up[i] = (int64_t)i;
        down[i] = 1000 - (int64_t)i;
        same[i] = 4;
        saw[i] = (int64_t)(i % 10);   /* sorted runs, not sorted as a whole */
    }
    CHECK_SORT(e8, cmp8, up, 1000);
    CHECK_SORT(e8, cmp8, down, 1000);
    CHECK_SORT(e16, cmp16, same, 1000);
    CHECK_SORT(e24, cmp24, saw, 1000);
}

static void out_of_memory_leaves_the_array_as_it_was(void **state)
{
    counting cnt = { 0 };
    tsr_allocator user = { counting_realloc, &cnt };
    tsr_alloc al;
    tsr_arena ar;
    e8 v[3] = { { 3, 0 }, { 1, 1 }, { 2, 2 } };
    (void)state;

    cnt.fail_at = 1;
    tsr__alloc_init(&al, &user);
    tsr__arena_init(&ar, &al, 64);
    assert_int_equal(tsr__sort_stable(&ar, v, 3, sizeof v[0], cmp8), TSR_ENOMEM);
    assert_int_equal(v[0].key, 3);
    assert_int_equal(v[1].key, 1);
    assert_int_equal(v[2].key, 2);
    tsr__arena_free(&ar);
    assert_int_equal(cnt.live, 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_length_sorts_stably_like_an_insertion_sort),
        cmocka_unit_test(sorted_reversed_and_equal_input),
        cmocka_unit_test(out_of_memory_leaves_the_array_as_it_was),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
