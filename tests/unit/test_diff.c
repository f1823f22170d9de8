/*
 * test_diff.c — comparing two rule sets over many orders (lib/diff.c):
 * the counts, sums, rejections and movers of one pass; the same report
 * from partitions compared apart and merged, wherever the input is cut;
 * states of another comparison, malformed or forged, refused with the
 * tsr_diff unchanged; the limits; and out-of-memory handling.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tessera.h"
#include "alloc_fixture.h"

#define OLD_RULES TSR_SOURCE_DIR "/tests/rules/refunds/park.yaml"
#define NEW_RULES TSR_SOURCE_DIR "/tests/cli/refund/fixtures/park-next.yaml"

/* Orders for the two parks: changed, unchanged, rejected by one side or
 * both, blank lines, and equal moves (the earlier line ranks first). */
static const char *const lines[] = {
    "{\"id\":\"D-1\",\"datetime\":\"2026-07-01T10:00:00+03:00\",\"customer\":{\"id\":\"C-1\",\"member\":true},"
    "\"items\":[{\"id\":\"a1\",\"kind\":\"ticket\",\"height_cm\":180},{\"id\":\"a2\",\"kind\":\"ticket\","
    "\"height_cm\":170},{\"id\":\"c1\",\"kind\":\"ticket\",\"height_cm\":120},{\"id\":\"c2\",\"kind\":\"ticket\","
    "\"height_cm\":110}]}",
    "{\"id\":\"D-2\",\"datetime\":\"2026-07-01T10:00:00+03:00\",\"customer\":{\"id\":\"C-2\",\"member\":true},"
    "\"items\":[{\"id\":\"a1\",\"kind\":\"ticket\",\"height_cm\":180}]}",
    "",
    "{\"id\":\"D-3\",\"datetime\":\"2026-07-01T10:00:00+03:00\",\"customer\":{\"id\":\"C-3\",\"member\":true,"
    "\"last_visit\":\"2024-01-01\"},\"items\":[{\"id\":\"a1\",\"kind\":\"ticket\",\"height_cm\":180},"
    "{\"id\":\"a2\",\"kind\":\"ticket\",\"height_cm\":180}]}",
    "{\"id\":\"D-4\",\"datetime\":\"2026-07-01T10:00:00+03:00\",\"items\":[{\"id\":\"s1\",\"kind\":\"souvenir\"}]}",
    "{\"datetime\":\"2026-07-01T10:00:00+03:00\",\"items\":[{\"id\":\"a1\",\"kind\":\"ticket\",\"height_cm\":180},"
    "{\"id\":\"a2\",\"kind\":\"ticket\",\"height_cm\":180},{\"id\":\"c1\",\"kind\":\"ticket\",\"height_cm\":120},"
    "{\"id\":\"c2\",\"kind\":\"ticket\",\"height_cm\":110}]}",
    "not json",
    " \t",
    "{\"id\":\"D-7\",\"datetime\":\"2026-07-01T10:00:00+03:00\",\"customer\":{\"id\":\"C-1\",\"member\":true},"
    "\"items\":[{\"id\":\"a1\",\"kind\":\"ticket\",\"height_cm\":180},{\"id\":\"a2\",\"kind\":\"ticket\","
    "\"height_cm\":170},{\"id\":\"c1\",\"kind\":\"ticket\",\"height_cm\":120},{\"id\":\"c2\",\"kind\":\"ticket\","
    "\"height_cm\":110}]}",
    "{\"id\":\"D-8\",\"datetime\":\"2026-07-01T10:00:00+03:00\",\"items\":[{\"id\":\"s1\",\"kind\":\"souvenir\"},"
    "{\"id\":\"s2\",\"kind\":\"souvenir\"}]}",
};
#define NLINES (sizeof lines / sizeof lines[0])

typedef struct fixture {
    tsr_ruleset *old_rs, *new_rs;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    tsr_error err;
    if (!f || tsr_ruleset_load_file(&f->old_rs, OLD_RULES, NULL, &err) != TSR_OK ||
        tsr_ruleset_load_file(&f->new_rs, NEW_RULES, NULL, &err) != TSR_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tsr_ruleset_free(f->old_rs);
    tsr_ruleset_free(f->new_rs);
    free(f);
    return 0;
}

static tsr_diff *diff_of(const fixture *f, size_t top, size_t from, size_t to)
{
    tsr_diff *d = NULL;
    tsr_error err;
    size_t i;

    assert_int_equal(tsr_diff_new(&d, f->old_rs, f->new_rs, top, &err), TSR_OK);
    for (i = from; i < to; i++)
        assert_int_equal(tsr_diff_add_line(d, lines[i], strlen(lines[i]), &err), TSR_OK);
    return d;
}

static char *copy(const char *s)
{
    char *c;
    assert_non_null(s);
    c = malloc(strlen(s) + 1);
    assert_non_null(c);
    strcpy(c, s);
    return c;
}

static char *report(tsr_diff *d, int format)
{
    return copy(tsr_diff_report(d, format, "old.yaml", "new.yaml", NULL));
}

static void one_pass_counts_sums_rejections_and_movers(void **state)
{
    tsr_diff *d = diff_of(*state, 10, 0, NLINES);
    const char *text = tsr_diff_report(d, TSR_DIFF_TEXT, "old.yaml", "new.yaml", NULL);

    assert_non_null(strstr(text, "tessera diff: old.yaml (park-refunds, version 2026-11) -> new.yaml "
                                 "(park-refunds, version 2026-12), in RUB\n"));
    assert_non_null(strstr(text, "  orders: 8 read, 5 priced under both, 4 changed (80.00% of those priced)\n"));
    assert_non_null(strstr(text, "  rejected: 2 only by old, 0 only by new, 1 by both\n"));
    assert_non_null(strstr(text, "    line 5: old: items[0]: the line has no price and matches no category\n"));
    assert_non_null(strstr(text, "    line 7: old: "));
    assert_non_null(strstr(text, "    line 7: new: "));
    /* three moves of 400.00 in due: lines 1 and 9 (20 points less, the
     * earlier line first), then line 6 (no customer, no points); D-3 after */
    assert_non_null(strstr(text, "\n         1  D-1  "));
    assert_true(strstr(text, "\n         1  D-1 ") < strstr(text, "\n         9  D-7 "));
    assert_true(strstr(text, "\n         9  D-7 ") < strstr(text, "\n         6  -  "));
    assert_true(strstr(text, "\n         6  -  ") < strstr(text, "\n         4  D-3 "));
    assert_null(strstr(text, "  D-2 "));                 /* unchanged */
    assert_string_equal(text + strlen(text) - 1, "\n");
    tsr_diff_free(d);
}

/* Cut the input anywhere into two or three partitions, compare each
 * apart, merge their states in order: the report is the one-pass one. */
static void merged_partitions_report_as_one_pass(void **state)
{
    const fixture *f = *state;
    size_t top, a, b, k;
    int format;

    for (top = 0; top <= 3; top += 3) {
        tsr_diff *whole = diff_of(f, top, 0, NLINES);
        char *want[2];
        for (format = 0; format < 2; format++)
            want[format] = report(whole, format);
        for (a = 0; a <= NLINES; a++) {
            for (b = a; b <= NLINES; b++) {
                size_t cut[4] = { 0, a, b, NLINES };
                tsr_diff *merged = diff_of(f, top, 0, 0);
                tsr_error err;
                for (k = 0; k < 3; k++) {
                    tsr_diff *part = diff_of(f, top, cut[k], cut[k + 1]);
                    size_t len;
                    const char *st = tsr_diff_state_json(part, &len);
                    assert_non_null(st);
                    assert_int_equal(strlen(st), len);
                    assert_int_equal(tsr_diff_merge_json(merged, st, len, &err), TSR_OK);
                    tsr_diff_free(part);
                }
                for (format = 0; format < 2; format++) {
                    char *got = report(merged, format);
                    if (strcmp(got, want[format]) != 0)
                        fail_msg("top %zu, cut at %zu and %zu:\n%s\nwanted\n%s", top, a, b, got,
                                 want[format]);
                    free(got);
                }
                tsr_diff_free(merged);
            }
        }
        for (format = 0; format < 2; format++)
            free(want[format]);
        tsr_diff_free(whole);
    }
}

static void unread_lines_count_as_rejected_by_both(void **state)
{
    tsr_diff *d = diff_of(*state, 10, 0, 2);
    tsr_error err;
    const char *text;

    assert_int_equal(tsr_diff_add_unread_line(d, &err), TSR_OK);
    assert_int_equal(tsr_diff_add_line(d, lines[3], strlen(lines[3]), &err), TSR_OK);
    text = tsr_diff_report(d, TSR_DIFF_JSON, NULL, NULL, NULL);
    assert_non_null(strstr(text, "\"orders\":{\"read\":4,\"priced\":3,\"changed\":2,\"rejected_old\":0,"
                                 "\"rejected_new\":0,\"rejected_both\":1}"));
    /* the reason, for both sides (issue 15: a line both reject says why) */
    assert_non_null(strstr(text, "\"rejected\":[{\"line\":3,"
                                 "\"old\":\"the line is longer than the limit of 16777216 bytes\","
                                 "\"new\":\"the line is longer than the limit of 16777216 bytes\"}]"));
    assert_non_null(strstr(text, "{\"line\":4,\"order\":\"D-3\""));   /* the unread line is line 3 */
    assert_non_null(strstr(text, "\"old\":{\"file\":\"old\""));
    tsr_diff_free(d);
}

/* A reason that quotes the bytes of a broken order, or that is cut inside
 * a character, is kept as valid UTF-8: the state and the JSON report are
 * JSON, and the state must merge. */
static void reasons_and_ids_stay_valid_utf8(void **state)
{
    const fixture *f = *state;
    tsr_diff *d = diff_of(f, 10, 0, 0), *again = diff_of(f, 10, 0, 0);
    tsr_error err;
    char bad[400], id[120];
    const char *st, *json;
    size_t i;

    snprintf(bad, sizeof bad, "{\"datetime\":\"2026-07-01T10:00:00+03:00\",\"items\":"
             "[{\"id\":\"a1\",\"k\xff\xfe\":1}]}");
    assert_int_equal(tsr_diff_add_line(d, bad, strlen(bad), &err), TSR_OK);
    /* an id of 62 ASCII bytes and a two-byte character: cut after 63 bytes */
    memset(id, 'x', 62);
    snprintf(id + 62, sizeof id - 62, "\xc3\xa9\"");
    snprintf(bad, sizeof bad, "{\"id\":\"%s,\"datetime\":\"2026-07-01T10:00:00+03:00\",\"customer\":"
             "{\"id\":\"C-1\",\"member\":true},\"items\":[{\"id\":\"a1\",\"kind\":\"ticket\","
             "\"height_cm\":180},{\"id\":\"a2\",\"kind\":\"ticket\",\"height_cm\":170},{\"id\":\"c1\","
             "\"kind\":\"ticket\",\"height_cm\":120},{\"id\":\"c2\",\"kind\":\"ticket\",\"height_cm\":110}]}",
             id);
    assert_int_equal(tsr_diff_add_line(d, bad, strlen(bad), &err), TSR_OK);
    st = tsr_diff_state_json(d, NULL);
    assert_int_equal(tsr_diff_merge_json(again, st, strlen(st), &err), TSR_OK);
    json = tsr_diff_report(again, TSR_DIFF_JSON, NULL, NULL, NULL);
    for (i = 0; json[i]; i++)
        assert_true((unsigned char)json[i] < 0x80);     /* the one character was cut whole */
    assert_non_null(strstr(json, "\"order\":\"xxxxxxxxxx"));
    assert_non_null(strstr(json, "items[0].k??: "));
    tsr_diff_free(d);
    tsr_diff_free(again);
}

static void states_of_other_comparisons_are_refused(void **state)
{
    const fixture *f = *state;
    tsr_diff *d = diff_of(f, 10, 0, 4), *other = NULL, *top3 = diff_of(f, 3, 0, 2);
    char *before = report(d, TSR_DIFF_JSON), *after, *good;
    tsr_error err;
    size_t i;
    static const struct { const char *from, *to; int code; } forged[] = {
        { "\"tessera_diff_state\":1", "\"tessera_diff_state\":2", TSR_EINVAL },
        { "\"counts\":[4,3,", "\"counts\":[4,9,", TSR_EINVAL },        /* read > lines */
        { "\"counts\":[4,3,", "\"counts\":[4,-3,", TSR_EINVAL },
        { "\"counts\":[4,3,", "\"counts\":[4,3.5,", TSR_EINVAL },
        { "\"counts\":[4,3,", "\"counts\":[4,true,", TSR_EINVAL },
        { "\"movers\":[[", "\"movers\":[[0,", TSR_EINVAL },
        { "\"top\":10", "\"top\":10,\"extra\":1", TSR_EINVAL },
        { "\"top\":10", "\"top\":10,\"top\":10", TSR_EINVAL },
        { "\"old_sums\":[", "\"old_sums\":[1,", TSR_EINVAL },
        { "\"rejected\":[", "\"rejected\":[{}", TSR_EINVAL },
        { "\"old\":\"park-refunds\"", "\"old\":\"park\"", TSR_EINVAL },
        { "\"new_version\":\"2026-12\"", "\"new_version\":\"2026-11\"", TSR_EINVAL },
        { "{\"tessera_diff_state\"", "[{\"tessera_diff_state\"", TSR_EINVAL },
        { "]}", "]", TSR_EPARSE },
    };

    good = copy(tsr_diff_state_json(top3, NULL));
    assert_int_equal(tsr_diff_merge_json(d, good, strlen(good), &err), TSR_EINVAL);  /* top 3, not 10 */
    assert_non_null(strstr(err.message, "top"));
    free(good);
    /* the same rule sets the other way round */
    assert_int_equal(tsr_diff_new(&other, f->new_rs, f->old_rs, 10, &err), TSR_OK);
    good = copy(tsr_diff_state_json(other, NULL));
    assert_int_equal(tsr_diff_merge_json(d, good, strlen(good), &err), TSR_EINVAL);
    free(good);

    good = copy(tsr_diff_state_json(d, NULL));
    for (i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        const char *at = strstr(good, forged[i].from);
        char bad[4096];
        if (!at)
            fail_msg("no `%s` in %s", forged[i].from, good);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - good), good, forged[i].to,
                 at + strlen(forged[i].from));
        if (tsr_diff_merge_json(d, bad, strlen(bad), &err) != forged[i].code)
            fail_msg("accepted or misjudged (%s): %s", err.message, bad);
    }
    assert_int_equal(tsr_diff_merge_json(d, "", 0, &err), TSR_EPARSE);
    assert_int_equal(tsr_diff_merge_json(d, good, (1u << 20) + 1, &err), TSR_ELIMIT);
    after = report(d, TSR_DIFF_JSON);
    assert_string_equal(before, after);                  /* nothing applied */
    /* the genuine one still merges */
    assert_int_equal(tsr_diff_merge_json(d, good, strlen(good), &err), TSR_OK);
    free(good);
    free(before);
    free(after);
    tsr_diff_free(other);
    tsr_diff_free(top3);
    tsr_diff_free(d);
}

static void limits_and_null_arguments(void **state)
{
    const fixture *f = *state;
    tsr_ruleset *eur = NULL;
    tsr_diff *d = NULL;
    tsr_error err;
    static const char eur_rules[] =
        "tessera: 1\nruleset: eur\nversion: \"1\"\ncurrency: EUR\ncategories:\n  - { id: any, price: 1.00 }\n";

    assert_int_equal(tsr_diff_new(&d, f->old_rs, f->new_rs, TSR_DIFF_MAX_TOP + 1, &err), TSR_EINVAL);
    assert_null(d);
    assert_int_equal(tsr_ruleset_load_string(&eur, eur_rules, strlen(eur_rules), NULL, NULL, &err), TSR_OK);
    assert_int_equal(tsr_diff_new(&d, f->old_rs, eur, 10, &err), TSR_EINVAL);
    assert_non_null(strstr(err.message, "only rule sets in one currency can be compared"));
    assert_int_equal(tsr_diff_new(&d, NULL, f->new_rs, 10, &err), TSR_EINVAL);
    assert_int_equal(tsr_diff_add_line(NULL, "{}", 2, &err), TSR_EINVAL);
    assert_int_equal(tsr_diff_merge_json(NULL, "{}", 2, &err), TSR_EINVAL);
    assert_null(tsr_diff_state_json(NULL, NULL));
    assert_null(tsr_diff_report(NULL, TSR_DIFF_TEXT, NULL, NULL, NULL));
    d = diff_of(f, TSR_DIFF_MAX_TOP, 0, 1);
    assert_null(tsr_diff_report(d, 7, NULL, NULL, NULL));
    tsr_diff_free(d);
    tsr_diff_free(NULL);
    tsr_ruleset_free(eur);
}

static void allocation_failures_fail_cleanly(void **state)
{
    counting c = { .fail_once = true };
    tsr_allocator hook = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *old_rs = NULL, *new_rs = NULL;
    tsr_diff *src;
    tsr_error err;
    char *st;
    size_t n, live, i;
    (void)state;

    opts.allocator = &hook;
    assert_int_equal(tsr_ruleset_load_file(&old_rs, OLD_RULES, &opts, &err), TSR_OK);
    assert_int_equal(tsr_ruleset_load_file(&new_rs, NEW_RULES, &opts, &err), TSR_OK);
    assert_int_equal(tsr_diff_new(&src, old_rs, new_rs, 10, &err), TSR_OK);
    for (i = 0; i < NLINES; i++)
        assert_int_equal(tsr_diff_add_line(src, lines[i], strlen(lines[i]), &err), TSR_OK);
    st = copy(tsr_diff_state_json(src, NULL));
    tsr_diff_free(src);
    live = c.live;
    for (n = 1;; n++) {
        tsr_diff *d = NULL;
        int rc;
        c.calls = 0;
        c.fail_at = n;
        rc = tsr_diff_new(&d, old_rs, new_rs, 10, &err);
        for (i = 0; rc == TSR_OK && i < NLINES; i++)
            rc = tsr_diff_add_line(d, lines[i], strlen(lines[i]), &err);
        if (rc == TSR_OK)
            rc = tsr_diff_merge_json(d, st, strlen(st), &err);
        if (rc == TSR_OK && !tsr_diff_state_json(d, NULL))
            rc = TSR_ENOMEM;
        if (rc == TSR_OK && !tsr_diff_report(d, TSR_DIFF_TEXT, NULL, NULL, NULL))
            rc = TSR_ENOMEM;
        c.fail_at = 0;
        if (rc != TSR_OK && rc != TSR_ENOMEM)
            fail_msg("allocation %zu: %d %s", n, rc, err.message);
        tsr_diff_free(d);
        assert_int_equal(c.live, live);
        if (rc == TSR_OK)
            break;
    }
    assert_true(n > 5);
    free(st);
    tsr_ruleset_free(old_rs);
    tsr_ruleset_free(new_rs);
    assert_int_equal(c.live, 0);
}

/* With `taxes` on either side the report has a tax row and the state
 * sums the tax (version 2); a change of rate alone changes an order. */
static void taxes_are_compared_and_carried_in_the_state(void **state)
{
    static const char head[] = "tessera: 1\nruleset: bar\ncurrency: EUR\n";
    static const char order[] = "{\"id\":\"T-1\",\"datetime\":\"2026-07-01T10:00:00+03:00\","
                                "\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\",\"price\":\"89.00\"}]}";
    char a[256], b[256];
    tsr_ruleset *old_rs = NULL, *new_rs = NULL, *plain = NULL;
    tsr_diff *d = NULL, *m = NULL;
    const char *text, *st;
    char *state_copy;
    tsr_error err;
    (void)state;

    /* 89.00 at 10 % holds 8.09; at 13 %, 89 × 13 / 113 = 10.24: due stays */
    snprintf(a, sizeof a, "%staxes: { rates: [{ id: culture, rate: 10 }] }\n", head);
    snprintf(b, sizeof b, "%sversion: \"2\"\ntaxes: { rates: [{ id: culture, rate: 13 }] }\n", head);
    assert_int_equal(tsr_ruleset_load_string(&old_rs, a, strlen(a), "a.yaml", NULL, &err), TSR_OK);
    assert_int_equal(tsr_ruleset_load_string(&new_rs, b, strlen(b), "b.yaml", NULL, &err), TSR_OK);
    assert_int_equal(tsr_ruleset_load_string(&plain, head, strlen(head), "p.yaml", NULL, &err),
                     TSR_OK);
    assert_int_equal(tsr_diff_new(&d, old_rs, new_rs, 5, &err), TSR_OK);
    assert_int_equal(tsr_diff_add_line(d, order, strlen(order), &err), TSR_OK);
    text = tsr_diff_report(d, TSR_DIFF_TEXT, "a.yaml", "b.yaml", NULL);
    assert_non_null(strstr(text, "  tax                           8.09            10.24"
                                 "            +2.15   +26.58%\n"));
    assert_non_null(strstr(text, "1 changed"));
    text = tsr_diff_report(d, TSR_DIFF_JSON, NULL, NULL, NULL);
    assert_non_null(strstr(text, "\"tax\":{\"old\":\"8.09\",\"new\":\"10.24\",\"change\":\"2.15\","
                                 "\"percent\":\"26.58\"}"));
    st = tsr_diff_state_json(d, NULL);
    assert_non_null(strstr(st, "{\"tessera_diff_state\":2,"));
    assert_non_null(strstr(st, "\"old_sums\":[8900,0,0,0,809]"));
    state_copy = strdup(st);
    assert_non_null(state_copy);
    /* merged, the tax adds up as in one pass */
    assert_int_equal(tsr_diff_new(&m, old_rs, new_rs, 5, &err), TSR_OK);
    assert_int_equal(tsr_diff_merge_json(m, state_copy, strlen(state_copy), &err), TSR_OK);
    assert_int_equal(tsr_diff_merge_json(m, state_copy, strlen(state_copy), &err), TSR_OK);
    assert_non_null(strstr(tsr_diff_state_json(m, NULL), "\"new_sums\":[17800,0,0,0,2048]"));
    /* a state without the tax is not one of this comparison */
    {
        char *v1 = strdup(state_copy), *p = strstr(v1, ":2,");
        assert_non_null(p);
        p[1] = '1';
        assert_int_equal(tsr_diff_merge_json(m, v1, strlen(v1), &err), TSR_EINVAL);
        assert_non_null(strstr(err.message, "reads version 2"));
        free(v1);
    }
    tsr_diff_free(m);
    tsr_diff_free(d);
    /* without taxes on either side: no tax row, the state of version 1 */
    assert_int_equal(tsr_diff_new(&d, plain, plain, 5, &err), TSR_OK);
    assert_null(strstr(tsr_diff_report(d, TSR_DIFF_TEXT, NULL, NULL, NULL), "tax"));
    assert_non_null(strstr(tsr_diff_state_json(d, NULL), "{\"tessera_diff_state\":1,"));
    assert_int_equal(tsr_diff_merge_json(d, state_copy, strlen(state_copy), &err), TSR_EINVAL);
    tsr_diff_free(d);
    free(state_copy);
    tsr_ruleset_free(old_rs);
    tsr_ruleset_free(new_rs);
    tsr_ruleset_free(plain);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(one_pass_counts_sums_rejections_and_movers),
        T(merged_partitions_report_as_one_pass),
        T(unread_lines_count_as_rejected_by_both),
        T(reasons_and_ids_stay_valid_utf8),
        T(states_of_other_comparisons_are_refused),
        T(limits_and_null_arguments),
        cmocka_unit_test(allocation_failures_fail_cleanly),
        cmocka_unit_test(taxes_are_compared_and_carried_in_the_state),
#undef T
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
