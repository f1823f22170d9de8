/* Unit tests for the shared helpers: allocator hook, arena, errors,
 * did-you-mean, UTF-8 validation and the output buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "internal.h"

typedef struct counting {
    size_t live;       /* bytes currently allocated */
    size_t calls;
    size_t fail_at;    /* 0: never fail */
} counting;

static void *counting_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    counting *c = ud;
    if (new_size == 0) {
        c->live -= old_size;
        free(ptr);
        return NULL;
    }
    if (c->fail_at && ++c->calls >= c->fail_at)
        return NULL;
    ptr = realloc(ptr, new_size);
    if (ptr)
        c->live += new_size - old_size;
    return ptr;
}

static void test_arena_frees_everything_through_the_hook(void **state)
{
    counting c = { 0, 0, 0 };
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
    counting c = { 0, 0, 1 };
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
    counting c = { 0, 0, 0 };
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

/* SipHash-1-3 with an all-zero key, as other implementations publish it
 * (the same algorithm as the SipHash-2-4 reference, with 1 and 3 rounds). */
static void test_keyed_hash_is_siphash_1_3(void **state)
{
    tsr_hash_key zero = { 0, 0 }, k1, k2;
    (void)state;

    assert_true(tsr__hash(&zero, "", 0) == UINT64_C(0xd1fba762150c532c));
    assert_true(tsr__hash(&zero, "siphash", 7) == UINT64_C(0x8264ceeccb16bcbe));
    assert_true(tsr__hash(&zero, "digest-sip_hash", 15) == UINT64_C(0xce31007e34130c0a));
    /* keys drawn for two owners (or twice for one) differ */
    tsr__hash_key_init(&k1, &k1, 1);
    tsr__hash_key_init(&k2, &k2, 1);
    assert_false(k1.k0 == k2.k0 && k1.k1 == k2.k1);
    assert_true(tsr__hash(&k1, "t1", 2) != tsr__hash(&k2, "t1", 2));
}

static void test_version_matches_the_header(void **state)
{
    (void)state;
    assert_string_equal(tsr_version(), TSR_VERSION_STRING);
    assert_int_equal(tsr_version_number(), TSR_VERSION_NUMBER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_frees_everything_through_the_hook),
        cmocka_unit_test(test_arena_alloc_fails_cleanly_when_the_hook_fails),
        cmocka_unit_test(test_grow_keeps_the_array_on_failure),
        cmocka_unit_test(test_error_format_renders_file_line_col),
        cmocka_unit_test(test_error_format_truncates_like_snprintf),
        cmocka_unit_test(test_closest_suggests_transpositions_and_typos),
        cmocka_unit_test(test_utf8_validation_refuses_overlongs_and_surrogates),
        cmocka_unit_test(test_utf8_prefix_never_cuts_a_character),
        cmocka_unit_test(test_buf_escapes_json_strings),
        cmocka_unit_test(test_error_text_is_cut_on_characters_and_clean),
        cmocka_unit_test(test_utf8_cut_and_clip_never_split_a_character),
        cmocka_unit_test(test_keyed_hash_is_siphash_1_3),
        cmocka_unit_test(test_version_matches_the_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
