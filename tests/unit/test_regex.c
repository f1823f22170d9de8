/*
 * test_regex.c — the PCRE2 wrapper (lib/regex.c): matching anywhere,
 * caseless and full-match modes, UTF-8, compile errors with offsets, the
 * match/depth/heap limits failing closed, and all PCRE2 memory going
 * through the library's allocator (nothing leaks, failures are ENOMEM).
 */
#include "expr_fixture.h"
#include "alloc_fixture.h"

typedef struct rx {
    counting cnt;
    tsr_alloc alloc;
    tsr_regex_pool *pool;
    tsr_regex_scratch *scratch;
} rx;

static int rx_setup(void **state)
{
    rx *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->cnt.fail_once = true;
    tsr_allocator user = { counting_realloc, &r->cnt };
    tsr__alloc_init(&r->alloc, &user);
    assert_int_equal(tsr__regex_pool_new(&r->pool, &r->alloc, 100000, 1000, 1024), TSR_OK);
    *state = r;
    return 0;
}

static int rx_teardown(void **state)
{
    rx *r = *state;
    tsr__regex_scratch_free(r->scratch, &r->alloc);
    tsr__regex_pool_free(r->pool);
    assert_int_equal(r->cnt.live, 0);   /* everything came back through the hook */
    free(r);
    return 0;
}

static tsr_regex *compile(rx *r, const char *pat, bool caseless, bool full)
{
    tsr_regex *re = NULL;
    size_t off;
    char msg[128];
    int rc = tsr__regex_compile(r->pool, &re, pat, strlen(pat), caseless, full, &off, msg,
                                sizeof msg);
    if (rc != TSR_OK)
        fail_msg("compiling /%s/: %d %s at %zu", pat, rc, msg, off);
    return re;
}

static int match(rx *r, const tsr_regex *re, const char *s)
{
    return tsr__regex_match(re, s, strlen(s), &r->scratch, &r->alloc);
}

static void a_pattern_matches_anywhere_by_default(void **state)
{
    rx *r = *state;
    tsr_regex *re = compile(r, "[0-9]{3}", false, false);
    assert_int_equal(match(r, re, "DOC-123456"), 1);
    assert_int_equal(match(r, re, "DOC-12"), 0);
    assert_int_equal(match(r, re, ""), 0);
    size_t len;
    assert_string_equal(tsr__regex_source(re, &len), "[0-9]{3}");
    assert_int_equal(len, 8);
}

static void full_mode_must_match_the_whole_subject(void **state)
{
    rx *r = *state;
    tsr_regex *re = compile(r, "DOC-[0-9]{6}", false, true);
    assert_int_equal(match(r, re, "DOC-123456"), 1);
    assert_int_equal(match(r, re, "XDOC-123456"), 0);
    assert_int_equal(match(r, re, "DOC-1234567"), 0);
    /* Alternation is anchored as a whole, not just its first branch. */
    tsr_regex *alt = compile(r, "A|BC", false, true);
    assert_int_equal(match(r, alt, "BC"), 1);
    assert_int_equal(match(r, alt, "ABC"), 0);
}

static void caseless_mode_ignores_case_also_beyond_ascii(void **state)
{
    rx *r = *state;
    tsr_regex *re = compile(r, "^summer-\\d+$", true, false);
    assert_int_equal(match(r, re, "SUMMER-10"), 1);
    assert_int_equal(match(r, re, "Summer-10"), 1);
    tsr_regex *cs = compile(r, "^summer", false, false);
    assert_int_equal(match(r, cs, "SUMMER"), 0);
    tsr_regex *u = compile(r, "^zürich$", true, false);
    assert_int_equal(match(r, u, "ZÜRICH"), 1);
}

static void subjects_and_patterns_are_utf8(void **state)
{
    rx *r = *state;
    tsr_regex *re = compile(r, "^.{6}$", false, false);
    assert_int_equal(match(r, re, "Zürich"), 1);   /* six characters, seven bytes */
    /* Invalid UTF-8 in a subject is an error, not a silent non-match. */
    assert_int_equal(tsr__regex_match(re, "\xC3", 1, &r->scratch, &r->alloc), TSR_EEVAL);
    assert_non_null(strstr(tsr__regex_last_error(r->scratch), "UTF-8 error"));
    /* Subjects need not be NUL-terminated. */
    assert_int_equal(tsr__regex_match(compile(r, "^ab$", false, false), "abc", 2, &r->scratch,
                                      &r->alloc), 1);
}

static void a_bad_pattern_reports_pcre2s_message_and_offset(void **state)
{
    rx *r = *state;
    tsr_regex *re = (tsr_regex *)1;
    size_t off = 99;
    char msg[128];
    assert_int_equal(tsr__regex_compile(r->pool, &re, "ab(c", 4, false, false, &off, msg,
                                        sizeof msg), TSR_EPARSE);
    assert_null(re);
    assert_int_equal(off, 4);
    assert_non_null(strstr(msg, "missing closing parenthesis"));
    assert_int_equal(tsr__regex_compile(r->pool, &re, "a{2,1}", 6, false, false, &off, msg,
                                        sizeof msg), TSR_EPARSE);
    assert_non_null(strstr(msg, "out of order"));
    /* \C could split a character: refused. */
    assert_int_equal(tsr__regex_compile(r->pool, &re, "a\\Cb", 4, false, false, &off, msg,
                                        sizeof msg), TSR_EPARSE);
    assert_int_equal(tsr__regex_compile(r->pool, &re, "\xC3", 1, false, false, &off, msg,
                                        sizeof msg), TSR_EPARSE);
}

static void a_catastrophic_pattern_hits_the_match_limit_and_fails_closed(void **state)
{
    rx *r = *state;
    tsr_regex_pool *small;
    assert_int_equal(tsr__regex_pool_new(&small, &r->alloc, 1000, 1000, 1024), TSR_OK);
    tsr_regex *re;
    size_t off;
    char msg[128];
    assert_int_equal(tsr__regex_compile(small, &re, "^(a+)+$", 7, false, false, &off, msg,
                                        sizeof msg), TSR_OK);
    assert_int_equal(match(r, re, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), TSR_EEVAL);
    assert_string_equal(tsr__regex_last_error(r->scratch), "match limit");
    /* The same pattern on a harmless subject is fine. */
    assert_int_equal(match(r, re, "aaaa"), 1);
    assert_string_equal(tsr__regex_last_error(r->scratch), "no error");
    tsr__regex_pool_free(small);
}

static void the_depth_and_heap_limits_fail_closed_too(void **state)
{
    rx *r = *state;
    char subject[4001];
    memset(subject, 'a', 4000);
    subject[4000] = '\0';
    tsr_regex_pool *shallow;
    assert_int_equal(tsr__regex_pool_new(&shallow, &r->alloc, 10000000, 10, 100000), TSR_OK);
    tsr_regex *re;
    size_t off;
    char msg[128];
    assert_int_equal(tsr__regex_compile(shallow, &re, "^(a|b)*$", 8, false, false, &off, msg,
                                        sizeof msg), TSR_OK);
    assert_int_equal(match(r, re, subject), TSR_EEVAL);
    assert_string_equal(tsr__regex_last_error(r->scratch), "depth limit");
    tsr__regex_pool_free(shallow);

    tsr_regex_pool *tight;
    assert_int_equal(tsr__regex_pool_new(&tight, &r->alloc, 10000000, 10000000, 1), TSR_OK);
    assert_int_equal(tsr__regex_compile(tight, &re, "^(a|b)*$", 8, false, false, &off, msg,
                                        sizeof msg), TSR_OK);
    assert_int_equal(match(r, re, subject), TSR_EEVAL);
    assert_string_equal(tsr__regex_last_error(r->scratch), "heap limit");
    tsr__regex_pool_free(tight);
}

static void the_scratch_is_made_once_and_reused(void **state)
{
    rx *r = *state;
    tsr_regex *re = compile(r, "b", false, false);
    assert_null(r->scratch);
    assert_int_equal(match(r, re, "abc"), 1);
    tsr_regex_scratch *s = r->scratch;
    assert_non_null(s);
    size_t calls = r->cnt.calls;
    for (int i = 0; i < 100; i++)
        assert_int_equal(match(r, re, "abc"), 1);
    assert_ptr_equal(r->scratch, s);
    assert_int_equal(r->cnt.calls, calls);   /* matching allocates nothing more */
    char *buf = tsr__regex_scratch_buf(&r->scratch, &r->alloc, 10);
    assert_non_null(buf);
    assert_ptr_equal(tsr__regex_scratch_buf(&r->scratch, &r->alloc, 20), buf);
    assert_non_null(tsr__regex_scratch_buf(&r->scratch, &r->alloc, 1000));
}

static void allocation_failures_are_enomem_and_leak_nothing(void **state)
{
    rx *r = *state;
    /* Pool creation. */
    int rc = TSR_ENOMEM;
    for (long n = 1; rc != TSR_OK; n++) {
        tsr_regex_pool *p = NULL;
        r->cnt.calls = 0;
        r->cnt.fail_at = (size_t)n;
        rc = tsr__regex_pool_new(&p, &r->alloc, 1000, 1000, 1000);
        assert_true(rc == TSR_OK || rc == TSR_ENOMEM);
        if (rc != TSR_OK)
            assert_null(p);
        r->cnt.fail_at = 0;
        tsr__regex_pool_free(p);
    }
    /* Compiling. */
    rc = TSR_ENOMEM;
    for (long n = 1; rc != TSR_OK; n++) {
        tsr_regex *re = NULL;
        size_t off;
        char msg[64];
        r->cnt.calls = 0;
        r->cnt.fail_at = (size_t)n;
        rc = tsr__regex_compile(r->pool, &re, "^(DOC|MED)-[0-9]{6}$", 20, true, true, &off, msg,
                                sizeof msg);
        assert_true(rc == TSR_OK || rc == TSR_ENOMEM);
        r->cnt.fail_at = 0;
    }
    /* Matching with a fresh scratch. */
    tsr_regex *re = compile(r, "x+y", false, false);
    rc = TSR_ENOMEM;
    for (long n = 1; rc != 1; n++) {
        tsr_regex_scratch *s = NULL;
        r->cnt.calls = 0;
        r->cnt.fail_at = (size_t)n;
        rc = tsr__regex_match(re, "axxy", 4, &s, &r->alloc);
        assert_true(rc == 1 || rc == TSR_ENOMEM);
        r->cnt.fail_at = 0;
        tsr__regex_scratch_free(s, &r->alloc);
    }
}


/* The prefix of a full caseless pattern: literal characters up to the first
 * construct, quantified ones left out, nothing when a top-level `|` or
 * something the scan cannot follow is anywhere in the pattern. */
static void literal_prefixes_are_read_conservatively(void **state)
{
    static const struct { const char *pat, *text, *checked; } cases[] = {
        { "^DOC-[0-9]{6}$", "DOC-", "DOC-" },
        { "doc-\\d+", "DOC-", "DOC-" },
        { "DOC-(A|B)", "DOC-", "DOC-" },
        { "ABC|XYZ", "", "" },              /* alternation at the top */
        { "ABC|ABD", "", "" },              /* even with a common first letter */
        { "A[|]B|C", "", "" },              /* the `|` in the class is not, the last is */
        { "A[]|]B", "A", "A" },             /* `]` first in a class is a literal */
        { "A\\|B", "A|B", "A|B" },          /* an escaped `|` is a character */
        { "A\\.B-7", "A.B-7", "A.B-7" },
        { "AB?C", "A", "A" },               /* B may be absent */
        { "AB*C", "A", "A" },
        { "AB+C", "A", "A" },
        { "AB{2}C", "A", "A" },
        { "(?i)ABC", "", "" },
        { "(ABC)D", "", "" },
        { "[A]BC", "", "" },
        { "^^A", "", "" },
        { "\\x41BC", "", "" },
        { "AB(?#|)|C", "", "" },            /* comments, quoting, verbs: not followed */
        { "AB\\Q|\\E", "", "" },
        { "AB(*ACCEPT)C", "", "" },
        { "AB(?x)#(\n|XY", "", "" },        /* extended mode: `#(` is a comment */
        { "AB(?-x:C)", "", "" },
        { "SKI-\\d+", "SKI-", "SKI-" },     /* S and K have non-ASCII cases; still a prefix */
        { "k1", "K1", "K1" },
        { "\xc3\xa9mile", "", "" },         /* non-ASCII: no prefix */
        { "abcdefghijabcdefghijabcdefghijabcdefghij",
          "ABCDEFGHIJABCDEFGHIJABCDEFGHIJAB", "ABCDEFGHIJABCDEFGHIJABCDEFGHIJAB" },
    };
    rx *r = *state;
    char out[TSR_REGEX_PREFIX_MAX];
    size_t i, k;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        k = tsr__regex_text_prefix(cases[i].pat, strlen(cases[i].pat), out, sizeof out);
        if (k != strlen(cases[i].text) || memcmp(out, cases[i].text, k) != 0)
            fail_msg("/%s/: text prefix `%.*s`, want `%s`", cases[i].pat, (int)k, out,
                     cases[i].text);
        k = tsr__regex_prefix(compile(r, cases[i].pat, true, true), out, sizeof out);
        if (k != strlen(cases[i].checked) || memcmp(out, cases[i].checked, k) != 0)
            fail_msg("/%s/: prefix `%.*s`, want `%s`", cases[i].pat, (int)k, out,
                     cases[i].checked);
    }
    /* Only full caseless patterns have one. */
    assert_int_equal(tsr__regex_prefix(compile(r, "ABC", false, true), out, sizeof out), 0);
    assert_int_equal(tsr__regex_prefix(compile(r, "ABC", true, false), out, sizeof out), 0);
}

/* Skipping a pattern for a subject outside its prefix is only sound if
 * PCRE2 would have said "no match" rather than hit a limit: true from a
 * match and depth limit of 2, false at 1, where no prefix is given. */
static void no_prefix_is_given_under_limits_a_mismatch_could_hit(void **state)
{
    static const char *pats[] = { "ABC[0-9]+", "^DOC-[0-9]{6}$", "AB(?:C|D)+[0-9]",
                                  "ABCDEFGH.*", "AB\\d+(?<=5)" };
    static const char *subjects[] = { "ABX12", "DOX-123456", "AX123", "ABCDEFGX12", "AX123" };
    rx *r = *state;
    tsr_regex_pool *two, *one;
    tsr_regex *re;
    size_t i, off;
    char out[TSR_REGEX_PREFIX_MAX], msg[128];

    assert_int_equal(tsr__regex_pool_new(&two, &r->alloc, 2, 2, 1024), TSR_OK);
    assert_int_equal(tsr__regex_pool_new(&one, &r->alloc, 1, 1000, 1024), TSR_OK);
    for (i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        assert_int_equal(tsr__regex_compile(two, &re, pats[i], strlen(pats[i]), true, true, &off,
                                            msg, sizeof msg), TSR_OK);
        assert_true(tsr__regex_prefix(re, out, sizeof out) > 0);
        assert_int_equal(match(r, re, subjects[i]), 0);
        assert_int_equal(tsr__regex_compile(one, &re, pats[i], strlen(pats[i]), true, true, &off,
                                            msg, sizeof msg), TSR_OK);
        assert_int_equal(tsr__regex_prefix(re, out, sizeof out), 0);
        assert_int_equal(match(r, re, subjects[i]), TSR_EEVAL);
    }
    tsr__regex_pool_free(two);
    tsr__regex_pool_free(one);
}

/* Whether s starts with prefix p as PCRE2 compares case-insensitively in
 * UTF mode: ASCII letters in either case, K also as U+212A, S as U+017F. */
static bool starts_caseless(const char *s, const char *p, size_t k)
{
    size_t i;
    for (i = 0; i < k; i++) {
        char c = *s >= 'a' && *s <= 'z' ? (char)(*s - 32) : *s;
        if (c == p[i])
            s++;
        else if (p[i] == 'K' && strncmp(s, "\xe2\x84\xaa", 3) == 0)
            s += 3;
        else if (p[i] == 'S' && strncmp(s, "\xc5\xbf", 2) == 0)
            s += 2;
        else
            return false;
    }
    return true;
}

/* Random patterns made of literals, classes, groups, alternations and
 * quantifiers, against random subjects: whenever a subject does not start
 * with the pattern's prefix, PCRE2 does not match it (and reaches no
 * limit); and a subject that matches always starts with it. */
static void random_patterns_never_match_outside_their_prefix(void **state)
{
    static const char *atoms[] = { "A", "b", "K", "s", "-", "7", "\\.", ".", "[a-c]", "\\d",
                                   "(A|B)", "(?:k|x)", "|", "?", "*", "+", "{2}", "^", "$",
                                   "(", ")", "[|]", "\\|", "S", "(?i)", "(?-i)" };
    static const char *chars[] = { "A", "a", "B", "K", "k", "\xe2\x84\xaa", "S", "s",
                                   "\xc5\xbf", "-", "7", ".", "|", "C", "X" };
    rx *r = *state;
    uint64_t seed = 0x9E3779B97F4A7C15u;
    unsigned tried = 0, with_prefix = 0, outside = 0;
    int n, m, j;

#define NEXT() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17, seed)
    for (n = 0; n < 3000; n++) {
        char pat[128] = "", out[TSR_REGEX_PREFIX_MAX];
        tsr_regex *re = NULL;
        size_t off, k;
        char msg[128];
        int len = 1 + (int)(NEXT() % 8);
        for (j = 0; j < len; j++)
            strcat(pat, atoms[NEXT() % (sizeof atoms / sizeof atoms[0])]);
        if (tsr__regex_compile(r->pool, &re, pat, strlen(pat), true, true, &off, msg,
                               sizeof msg) != TSR_OK)
            continue;
        tried++;
        k = tsr__regex_prefix(re, out, sizeof out);
        with_prefix += k > 0;
        for (m = 0; m < 60; m++) {
            char subj[64] = "";
            int sl = (int)(NEXT() % 7), rc;
            for (j = 0; j < sl; j++)
                strcat(subj, chars[NEXT() % (sizeof chars / sizeof chars[0])]);
            rc = match(r, re, subj);
            if (rc < 0)
                fail_msg("/%s/ on `%s`: %d", pat, subj, rc);
            if (k && !starts_caseless(subj, out, k)) {
                outside++;
                if (rc != 0)
                    fail_msg("/%s/ (prefix `%.*s`) matched `%s`", pat, (int)k, out, subj);
            }
        }
    }
#undef NEXT
    /* the run exercised what it claims to */
    assert_true(tried > 1000);
    assert_true(with_prefix > 100);
    assert_true(outside > 1000);
}

int main(int argc, char **argv)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, rx_setup, rx_teardown)
    const struct CMUnitTest tests[] = {
        T(a_pattern_matches_anywhere_by_default),
        T(full_mode_must_match_the_whole_subject),
        T(caseless_mode_ignores_case_also_beyond_ascii),
        T(subjects_and_patterns_are_utf8),
        T(a_bad_pattern_reports_pcre2s_message_and_offset),
        T(a_catastrophic_pattern_hits_the_match_limit_and_fails_closed),
        T(the_depth_and_heap_limits_fail_closed_too),
        T(the_scratch_is_made_once_and_reused),
        T(allocation_failures_are_enomem_and_leak_nothing),
        T(literal_prefixes_are_read_conservatively),
        T(no_prefix_is_given_under_limits_a_mismatch_could_hit),
        T(random_patterns_never_match_outside_their_prefix),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
