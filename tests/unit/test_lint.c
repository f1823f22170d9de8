/* Unit tests for lint.c: category bands (gaps, overlaps, shadowing),
 * discounts shadowed by an exclusive one, unused segments, tables and
 * promo codes, and aggregates whose cost grows with lines² — each with the
 * position and wording a rule author sees. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "tessera.h"
#include "alloc_fixture.h"

#include <string.h>

#define HEADER "tessera: 1\nruleset: lint-test\ncurrency: EUR\n"

static tsr_ruleset *load(const char *text)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc = tsr_ruleset_load_string(&rs, text, strlen(text), "rules.yaml", NULL, &err);
    if (rc != TSR_OK)
        fprintf(stderr, "load failed: %s:%d:%d: %s\n", err.file, err.line, err.column, err.message);
    assert_int_equal(rc, TSR_OK);
    return rs;
}

typedef struct linted {
    tsr_ruleset *rs;
    tsr_lint_report *rep;
} linted;

static linted lint(const char *text)
{
    linted l;
    tsr_error err;
    l.rs = load(text);
    assert_int_equal(tsr_ruleset_lint(&l.rep, l.rs, &err), TSR_OK);
    return l;
}

static void done(linted *l)
{
    tsr_lint_report_free(l->rep);
    tsr_ruleset_free(l->rs);
}

static void dump(const tsr_lint_report *rep)
{
    size_t i;
    for (i = 0; i < tsr_lint_report_count(rep); i++) {
        tsr_error w;
        tsr_lint_report_warning(rep, i, &w);
        fprintf(stderr, "  [%s] %s:%d:%d: %s\n", tsr_lint_report_kind(rep, i), w.file, w.line,
                w.column, w.message);
    }
}

/* Warning i is of `kind`, at line:col of rules.yaml, and says `text`. */
static void expect_warning(const tsr_lint_report *rep, size_t i, const char *kind, int line,
                           int col, const char *text)
{
    tsr_error w;
    if (i >= tsr_lint_report_count(rep))
        dump(rep);
    assert_true(i < tsr_lint_report_count(rep));
    assert_int_equal(tsr_lint_report_warning(rep, i, &w), TSR_OK);
    if (strcmp(tsr_lint_report_kind(rep, i), kind) != 0 || !strstr(w.message, text) ||
        w.line != line || w.column != col)
        dump(rep);
    assert_string_equal(tsr_lint_report_kind(rep, i), kind);
    assert_string_equal(w.file, "rules.yaml");
    assert_int_equal(w.line, line);
    assert_int_equal(w.column, col);
    assert_non_null(strstr(w.message, text));
    assert_int_equal(w.code, TSR_OK);
}

static void expect_count(const tsr_lint_report *rep, size_t n)
{
    if (tsr_lint_report_count(rep) != n)
        dump(rep);
    assert_int_equal(tsr_lint_report_count(rep), n);
}

static void test_height_bands_without_a_catch_all_report_the_gap(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: toddler, for: item.kind == \"ticket\", when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: child, for: item.kind == \"ticket\", when: item.height_cm >= 100 and item.height_cm < 130, price: 18.00 }\n"
        "  - { id: adult, for: item.kind == \"ticket\", when: item.height_cm >= 140, price: 25.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "band-gap", 8, 5,
                   "category bands on `item.height_cm` leave a gap: 130\xe2\x80\x93" "139 gets no "
                   "category (`child` ends below it, `adult` starts above it)");
    done(&l);
}

static void test_bands_ending_in_a_catch_all_have_no_gap(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: toddler, for: item.kind == \"ticket\", when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: child, for: item.kind == \"ticket\", when: 100 <= item.height_cm and item.height_cm < 130, price: 18.00 }\n"
        "  - { id: adult, for: item.kind == \"ticket\", price: 25.00 }\n");
    (void)state;
    expect_count(l.rep, 0);
    done(&l);
}

static void test_a_single_missing_value_is_named_alone(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: small, when: item.height_cm <= 99, price: 0.00 }\n"
        "  - { id: big, when: item.height_cm > 100, price: 1.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "band-gap", 7, 5, "gap: 100 gets no category");
    done(&l);
}

/* A gap a catch-all takes is reported when it is no wider than the bands
 * on either side (a slip, or a band left out), the catch-all in the group
 * or for every line. */
static void test_a_narrow_gap_a_catch_all_takes_is_reported(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int, age: int } }\n"
        "categories:\n"
        "  - { id: toddler, for: item.kind == \"ticket\", when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: adult, for: item.kind == \"ticket\", when: item.height_cm >= 140, price: 25.00 }\n"
        "  - { id: infant, for: item.kind == \"pass\", when: item.age < 3, price: 0.00 }\n"
        "  - { id: child, for: item.kind == \"pass\", when: item.age >= 4, price: 10.00 }\n"
        "  - { id: grown, for: item.kind == \"pass\", price: 20.00 }\n"
        "  - { id: other, price: 1.00 }\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "band-gap", 7, 5,
                   "category bands on `item.height_cm` leave a gap: 100\xe2\x80\x93" "139 falls "
                   "through to the catch-all `other` (`toddler` ends below it, `adult` starts "
                   "above it)");
    expect_warning(l.rep, 1, "band-gap", 9, 5,
                   "category bands on `item.age` leave a gap: 3 falls through to the catch-all "
                   "`grown` (`infant` ends below it, `child` starts above it)");
    done(&l);
}

/* A catch-all that takes a gap wider than a band beside it is that band:
 * adults between youth and seniors. */
static void test_a_wide_gap_a_catch_all_takes_is_its_own_band(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { age: int } }\n"
        "categories:\n"
        "  - { id: mini, when: item.age < 6, price: 0.00 }\n"
        "  - { id: child, when: item.age < 16, price: 5.00 }\n"
        "  - { id: youth, when: item.age < 20, price: 7.00 }\n"
        "  - { id: senior, when: item.age >= 65, price: 8.00 }\n"
        "  - { id: adult, price: 9.00 }\n");
    (void)state;
    expect_count(l.rep, 0);
    done(&l);
}

/* Bands written with parentheses, `not`, constant arithmetic or the value
 * on the right read as the plain form. */
static void test_bands_read_alike_in_any_spelling(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: small, when: (item.height_cm < 100), price: 0.00 }\n"
        "  - { id: mid, when: not (item.height_cm < 110) and item.height_cm < 100 + 40, price: 1.00 }\n"
        "  - { id: tall, when: 140 <= item.height_cm, price: 2.00 }\n"
        "  - { id: odd, when: not (item.height_cm < 150 or item.height_cm >= 160), price: 3.00 }\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "band-gap", 7, 5,
                   "category bands on `item.height_cm` leave a gap: 100\xe2\x80\x93" "109 gets no "
                   "category (`small` ends below it, `mid` starts above it)");
    expect_warning(l.rep, 1, "never-applies", 9, 5,
                   "category `odd` can never apply: `item.height_cm` 150\xe2\x80\x93" "159 already "
                   "goes to `tall` above");
    done(&l);
}

/* A value computed by an expression is a band like a field. */
static void test_bands_on_an_expression(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { birthday: date, event_start: datetime } }\n"
        "categories:\n"
        "  - { id: mini, when: 'age(item.birthday, date(item.event_start)) < 6', price: 0.00 }\n"
        "  - { id: kid, when: 'age(item.birthday, date(item.event_start)) >= 5 and"
        " age(item.birthday, date(item.event_start)) < 16', price: 5.00 }\n"
        "  - { id: teen, when: 'age(item.birthday, date(item.event_start)) >= 17 and"
        " age( item.birthday , date(item.event_start) ) < 20', price: 6.00 }\n"
        "  - { id: adult, price: 9.00 }\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "band-overlap", 7, 5,
                   "category `kid` overlaps `mini` on `age(item.birthday, date(item.event_start))`:"
                   " 5 goes to `mini`, which comes first");
    expect_warning(l.rep, 1, "band-gap", 8, 5,
                   "category bands on `age(item.birthday, date(item.event_start))` leave a gap: 16 "
                   "falls through to the catch-all `adult` (`kid` ends below it, `teen` starts "
                   "above it)");
    done(&l);
}

/* A band that holds an earlier one takes what is left of it: first match
 * used as meant (`< 6`, then `< 16`), not an overlap. */
static void test_a_band_holding_an_earlier_one_is_not_an_overlap(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { age: int } }\n"
        "categories:\n"
        "  - { id: mini, when: item.age < 6, price: 0.00 }\n"
        "  - { id: special, when: item.age >= 10 and item.age < 12, price: 1.00 }\n"
        "  - { id: child, when: item.age < 16, price: 5.00 }\n"
        "  - { id: teen, when: item.age >= 14 and item.age < 20, price: 6.00 }\n"
        "  - { id: adult, price: 9.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "band-overlap", 9, 5,
                   "category `teen` overlaps `child` on `item.age`: 14\xe2\x80\x93" "15 goes to "
                   "`child`, which comes first");
    done(&l);
}

/* Thousands of bands: the one gap among them is found, and nothing else. */
static void test_many_bands_are_checked_alike(void **state)
{
    char *text = malloc(600 * 1024), *p;
    linted l;
    int i;
    (void)state;

    assert_non_null(text);
    p = text + sprintf(text, HEADER "schema: { item: { height_cm: int } }\ncategories:\n");
    for (i = 0; i < 5000; i++)
        if (i != 2345)
            p += sprintf(p, "  - { id: h%d, for: item.kind == \"ticket\", when: item.height_cm >= "
                         "%d and item.height_cm < %d, price: 1.00 }\n", i, i * 2, i * 2 + 2);
    p += sprintf(p, "  - { id: rest, for: item.kind == \"ticket\", price: 2.00 }\n");
    l = lint(text);
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "band-gap", 6 + 2345, 5,
                   "category bands on `item.height_cm` leave a gap: 4690\xe2\x80\x93" "4691 falls "
                   "through to the catch-all `rest` (`h2344` ends below it, `h2346` starts above "
                   "it)");
    done(&l);
    free(text);
}

/* `valid` tests when the order is placed; on ticket lines, which carry the
 * visit day in item.event_start, the visit day was probably meant. */
static void test_valid_on_ticket_lines_hints_at_the_visit_day(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { event_start: datetime } }\n"
        "categories:\n"
        "  - { id: weekend, for: item.kind == \"ticket\", valid: { weekdays: [6, 7] }, price: 25.00 }\n"
        "  - { id: ride, for: item.kind == \"ride\" and has(item.event_start), price: 5.00 }\n"
        "  - { id: day, for: item.kind == \"ticket\", price: 20.00 }\n"
        "discounts:\n"
        "  - { id: summer, for: 'item.kind in [\"ride\", \"fnb\"]', valid: { from: 2026-06-01 },"
        " percent: 10 }\n"
        "  - { id: happy, for: item.kind == \"fnb\", valid: { hours: \"15:00-17:00\" }, percent: 10 }\n"
        "  - { id: web, for: item.kind == \"ticket\", channels: [web], percent: 5 }\n"
        "  - { id: sale, valid: { from: 2026-11-27, until: 2026-11-27 }, percent: 20 }\n"
        "  - { id: morning, for: item.kind == \"ticket\" and date(item.event_start) == date(now),"
        " valid: { hours: \"07:00-09:00\" }, percent: 10 }\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "valid-booking-time", 6, 48,
                   "`valid` of category `weekend` tests when the order is placed (`now`), not "
                   "the visit day its `ticket` lines carry in `item.event_start`; if the visit "
                   "day is meant, test `item.event_start` in `when` instead");
    expect_warning(l.rep, 1, "valid-booking-time", 10, 56,
                   "`valid` of discount `summer` tests when the order is placed (`now`), not the "
                   "visit day its `ride` lines carry in `item.event_start`; if the visit day is "
                   "meant, test `item.event_start` in `for` instead");
    done(&l);

    /* without item.event_start there is no visit day to mean */
    l = lint(HEADER
        "categories:\n"
        "  - { id: weekend, for: item.kind == \"ticket\", valid: { weekdays: [6, 7] }, price: 25.00 }\n");
    expect_count(l.rep, 0);
    done(&l);
}

static void test_decimal_gaps_read_as_under_the_next_bound(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { weight_kg: decimal } }\n"
        "categories:\n"
        "  - { id: light, when: item.weight_kg < 1.5, price: 1.00 }\n"
        "  - { id: heavy, when: item.weight_kg >= 2, price: 2.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "band-gap", 7, 5, "gap: 1.5 to under 2 gets no category");
    done(&l);
}

static void test_overlapping_bands_name_the_range_the_earlier_band_takes(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: toddler, when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: child, when: item.height_cm >= 90 and item.height_cm < 130, price: 18.00 }\n"
        "  - { id: adult, price: 25.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "band-overlap", 7, 5,
                   "category `child` overlaps `toddler` on `item.height_cm`: 90\xe2\x80\x93" "99 goes "
                   "to `toddler`, which comes first");
    done(&l);
}

static void test_a_band_inside_an_earlier_one_never_applies(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: toddler, when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: baby, when: item.height_cm < 60, price: 0.00 }\n"
        "  - { id: adult, price: 25.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "never-applies", 7, 5,
                   "category `baby` can never apply: `item.height_cm` 59 and below already goes "
                   "to `toddler` above");
    done(&l);
}

static void test_a_category_after_one_without_when_never_applies(void **state)
{
    linted l = lint(HEADER
        "categories:\n"
        "  - id: adult\n"
        "    for: item.kind == \"ticket\"\n"
        "    price: 25.00\n"
        "  - id: vip\n"
        "    for: item.kind==\"ticket\"\n"
        "    when: item.sku == \"VIP\"\n"
        "    price: 99.00\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "never-applies", 8, 5,
                   "category `vip` can never apply: `adult` above takes every line it could "
                   "(same `for`, no `when`)");
    done(&l);
}

static void test_a_catch_all_for_every_line_shadows_later_categories_of_any_for(void **state)
{
    linted l = lint(HEADER
        "categories:\n"
        "  - { id: anything, price: 1.00 }\n"
        "  - { id: ticket, for: item.kind == \"ticket\", price: 25.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "never-applies", 6, 5, "`anything` above takes every line");
    done(&l);
}

/* A selectable category is reached by an order naming it: one meant to be
 * chosen only sits after the catch-all on purpose, in its own group or in
 * another, and is not reported; a non-selectable one beside it still is.
 * A `when` that holds for no line is reported all the same. */
static void test_a_selectable_category_after_a_catch_all_is_not_shadowed(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { age: int } }\n"
        "categories:\n"
        "  - id: adult\n"
        "    for: item.kind == \"ticket\"\n"
        "    price: 25.00\n"
        "  - id: student\n"
        "    for: item.kind == \"ticket\"\n"
        "    when: item.age < 27\n"
        "    selectable: true\n"
        "    price: 15.00\n"
        "  - { id: companion, for: item.kind == \"ticket\", selectable: true }\n"
        "  - { id: senior, for: item.kind == \"ticket\", when: item.age >= 65, price: 18.00 }\n"
        "  - { id: nobody, for: item.kind == \"ticket\", when: item.age > 9 and item.age < 3,"
        " selectable: true, price: 1.00 }\n"
        "  - { id: anything, price: 1.00 }\n"
        "  - { id: staff, for: item.kind == \"staff\", selectable: true, price: 0.00 }\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "never-applies", 15, 5,
                   "category `senior` can never apply: `adult` above takes every line it could "
                   "(same `for`, no `when`)");
    expect_warning(l.rep, 1, "never-applies", 16, 5,
                   "category `nobody` can never apply: `when` holds for no value of `item.age`");
    done(&l);
}

static void test_contradictory_conditions_never_apply(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: odd, when: item.height_cm > 130 and item.height_cm < 100, price: 1.00 }\n"
        "  - { id: all, price: 2.00 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "never-applies", 6, 5,
                   "`when` holds for no value of `item.height_cm`");
    done(&l);
}

static void test_conditions_lint_cannot_read_are_left_alone(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int, zone: string } }\n"
        "categories:\n"
        "  - { id: a, when: item.height_cm < 100 or item.zone == \"A\", price: 1.00 }\n"
        "  - { id: b, when: item.height_cm >= 140, price: 2.00 }\n"
        "  - { id: c, when: item.height_cm < 100 and item.zone == \"B\", price: 3.00 }\n");
    (void)state;
    expect_count(l.rep, 0);
    done(&l);
}

static void test_an_exclusive_discount_on_every_line_shadows_later_ones(void **state)
{
    linted l = lint(HEADER
        "categories:\n"
        "  - { id: adult, price: 25.00 }\n"
        "discounts:\n"
        "  - { id: staff, for: item.kind == \"ticket\", percent: 50, exclusive: true }\n"
        "  - { id: later, for: item.kind == \"ticket\", percent: 10 }\n"
        "  - { id: other, for: item.kind == \"fnb\", percent: 10 }\n");
    (void)state;
    expect_count(l.rep, 1);
    expect_warning(l.rep, 0, "never-applies", 8, 5,
                   "discount `later` can never apply: the exclusive discount `staff`, applied "
                   "before it, takes every line it could");
    done(&l);
}

static void test_a_conditional_exclusive_discount_shadows_nothing(void **state)
{
    linted l = lint(HEADER
        "segments: { vip: customer.id == \"C1\" }\n"
        "categories:\n"
        "  - { id: adult, price: 25.00 }\n"
        "discounts:\n"
        "  - { id: staff, when: segment.vip, percent: 50, exclusive: true }\n"
        "  - { id: later, percent: 10 }\n");
    (void)state;
    expect_count(l.rep, 0);
    done(&l);
}

/* An empty `valid:` restricts nothing: the rule is linted as one without
 * it, while a `valid:` or `channels:` that restricts keeps lint away. */
static void test_an_empty_valid_always_holds_and_is_linted_as_none(void **state)
{
    linted l = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: toddler, when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: child, when: item.height_cm >= 100 and item.height_cm < 130, valid: {}, price: 18.00 }\n"
        "  - { id: adult, when: item.height_cm >= 140, price: 25.00 }\n"
        "discounts:\n"
        "  - { id: staff, percent: 50, exclusive: true, valid: {} }\n"
        "  - { id: later, percent: 10 }\n");
    linted kept = lint(HEADER
        "schema: { item: { height_cm: int } }\n"
        "categories:\n"
        "  - { id: toddler, when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: child, when: item.height_cm >= 100 and item.height_cm < 130, channels: [web], price: 18.00 }\n"
        "  - { id: adult, when: item.height_cm >= 140, price: 25.00 }\n"
        "discounts:\n"
        "  - { id: staff, percent: 50, exclusive: true, valid: { weekdays: [6, 7] } }\n"
        "  - { id: later, percent: 10 }\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "band-gap", 8, 5, "130\xe2\x80\x93" "139 gets no category");
    expect_warning(l.rep, 1, "never-applies", 11, 5, "the exclusive discount `staff`");
    /* `child` depends on the channel: no band, so no gap worked out; and
     * `staff` applies on weekends only */
    expect_count(kept.rep, 0);
    done(&l);
    done(&kept);
}

static void test_unused_segments_tables_and_promo_codes_are_reported_in_file_order(void **state)
{
    linted l = lint(HEADER
        "tables:\n"
        "  zones: { A: 1.00 }\n"
        "segments:\n"
        "  used: customer.id == \"C1\"\n"
        "  idle: customer.id == \"C2\"\n"
        "categories:\n"
        "  - { id: adult, when: segment.used, price: 25.00 }\n"
        "  - { id: other, price: 1.00 }\n"
        "promo_codes:\n"
        "  - { id: summer, code: SUMMER }\n"
        "  - { id: winter, code: WINTER }\n"
        "discounts:\n"
        "  - { id: summer-10, requires: summer, percent: 10 }\n");
    (void)state;
    expect_count(l.rep, 3);
    expect_warning(l.rep, 0, "unused-table", 5, 3,
                   "table `zones` is never used: no rule reads `tables.zones`");
    expect_warning(l.rep, 1, "unused-segment", 8, 3,
                   "segment `idle` is never used: no rule reads `segment.idle`");
    expect_warning(l.rep, 2, "unused-promo-code", 14, 5,
                   "promo code `winter` is never used: no discount requires it and no rule "
                   "reads `promo.winter`");
    done(&l);
}

static void test_a_promo_code_read_by_an_expression_is_used(void **state)
{
    linted l = lint(HEADER
        "categories:\n"
        "  - { id: adult, price: 25.00 }\n"
        "promo_codes:\n"
        "  - { id: summer, code: SUMMER }\n"
        "offers:\n"
        "  - { id: thanks, when: promo.summer, message: Thanks }\n");
    (void)state;
    expect_count(l.rep, 0);
    done(&l);
}

/* Lint with allocation 1, 2, 3, ... failing: TSR_ENOMEM and nothing leaked,
 * until it succeeds with every warning. */
static void test_running_out_of_memory_fails_cleanly(void **state)
{
    static const char text[] = HEADER
        "schema: { item: { height_cm: int, birthday: date, event_start: datetime } }\n"
        "tables: { zones: { A: 1.00 } }\n"
        "segments: { idle: customer.id == \"x\" }\n"
        "categories:\n"
        "  - { id: toddler, when: item.height_cm < 100, price: 0.00 }\n"
        "  - { id: child, when: item.height_cm >= 90 and item.height_cm < 130, price: 18.00 }\n"
        "  - { id: adult, when: item.height_cm >= 140, price: 25.00 }\n"
        "  - { id: mini, for: item.kind == \"ticket\", when: 'age(item.birthday, date(item.event_start)) < 3' }\n"
        "  - { id: kid, for: item.kind == \"ticket\", when: 'age(item.birthday, date(item.event_start)) > 3' }\n"
        "discounts:\n"
        "  - { id: weekend, for: item.kind == \"ticket\", valid: { weekdays: [6, 7] }, percent: 5 }\n";
    counting c = { 0 };
    tsr_allocator a = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    size_t n, baseline;
    (void)state;

    opts.allocator = &a;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), "rules.yaml", &opts, &err),
                     TSR_OK);
    baseline = c.live;
    for (n = 1; n < 10000; n++) {
        tsr_lint_report *rep = NULL;
        int rc;
        c.calls = 0;
        c.fail_at = n;
        rc = tsr_ruleset_lint(&rep, rs, &err);
        c.fail_at = 0;
        if (rc == TSR_OK) {
            expect_count(rep, 6);
            tsr_lint_report_free(rep);
            assert_int_equal(c.live, baseline);
            break;
        }
        assert_int_equal(rc, TSR_ENOMEM);
        assert_null(rep);
        assert_int_equal(c.live, baseline);
    }
    assert_true(n > 1 && n < 10000);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

static void test_an_aggregate_a_category_recomputes_per_line_is_quadratic(void **state)
{
    /* item.price and item.category change as categories go line by line:
     * the aggregates reading them are computed again for every line */
    linted l = lint(HEADER
        "schema: { item: { n: int } }\n"
        "categories:\n"
        "  - id: first\n"
        "    when: 'item.n > 0 and count(items, item.category == \"first\") < 2'\n"
        "    price: 5.00\n"
        "  - id: cheap\n"
        "    for: item.n > 1\n"
        "    price: 'sum(items, sum(items, item.n) * item.price) / 100'\n"
        "  - id: rest\n"
        "    price: 7.00\n");
    (void)state;
    expect_count(l.rep, 2);
    expect_warning(l.rep, 0, "quadratic-aggregate", 7, 12,
                   "`count(items, item.category == \"first\")` in `when` of category `first` is "
                   "computed again for every line, because categories set item.category and "
                   "item.price line by line: its cost grows with the square of the number of "
                   "lines");
    /* the outer sum reads item.price; the inner one, alone, would not warn */
    expect_warning(l.rep, 1, "quadratic-aggregate", 11, 13,
                   "`sum(items, sum(items, item.n) * item.price)` in `price` of category `cheap`");
    done(&l);
}

static void test_aggregates_evaluation_computes_once_are_not_reported(void **state)
{
    /* nested aggregates, aggregates of fields the order gives, and
     * aggregates of item.total outside categories cost one pass each */
    linted l = lint(HEADER
        "schema: { item: { n: int } }\n"
        "categories:\n"
        "  - id: c\n"
        "    when: 'sum(items, count(items, item.n > 0)) > 0 and any(items, item.kind == \"x\")'\n"
        "    price: 1.00\n"
        "discounts:\n"
        "  - id: d\n"
        "    when: 'sum(items, item.total) > 10.00'\n"
        "    for: 'item.total * 2 > sum(items, item.total)'\n"
        "    percent: 10\n"
        "offers:\n"
        "  - id: o\n"
        "    when: 'sum(items, sum(items, sum(items, item.price))) > 0.00'\n"
        "    message: m\n");
    (void)state;
    expect_count(l.rep, 0);
    done(&l);
}

static void test_the_report_api_is_null_safe(void **state)
{
    tsr_lint_report *rep = (tsr_lint_report *)1;
    tsr_error err, w;
    (void)state;
    assert_int_equal(tsr_ruleset_lint(&rep, NULL, &err), TSR_EINVAL);
    assert_null(rep);
    assert_int_equal(tsr_lint_report_count(NULL), 0);
    assert_int_equal(tsr_lint_report_warning(NULL, 0, &w), TSR_EINVAL);
    assert_null(tsr_lint_report_kind(NULL, 0));
    tsr_lint_report_free(NULL);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_height_bands_without_a_catch_all_report_the_gap),
        cmocka_unit_test(test_bands_ending_in_a_catch_all_have_no_gap),
        cmocka_unit_test(test_a_single_missing_value_is_named_alone),
        cmocka_unit_test(test_a_narrow_gap_a_catch_all_takes_is_reported),
        cmocka_unit_test(test_a_wide_gap_a_catch_all_takes_is_its_own_band),
        cmocka_unit_test(test_bands_read_alike_in_any_spelling),
        cmocka_unit_test(test_bands_on_an_expression),
        cmocka_unit_test(test_a_band_holding_an_earlier_one_is_not_an_overlap),
        cmocka_unit_test(test_many_bands_are_checked_alike),
        cmocka_unit_test(test_valid_on_ticket_lines_hints_at_the_visit_day),
        cmocka_unit_test(test_decimal_gaps_read_as_under_the_next_bound),
        cmocka_unit_test(test_overlapping_bands_name_the_range_the_earlier_band_takes),
        cmocka_unit_test(test_a_band_inside_an_earlier_one_never_applies),
        cmocka_unit_test(test_a_category_after_one_without_when_never_applies),
        cmocka_unit_test(test_a_catch_all_for_every_line_shadows_later_categories_of_any_for),
        cmocka_unit_test(test_a_selectable_category_after_a_catch_all_is_not_shadowed),
        cmocka_unit_test(test_contradictory_conditions_never_apply),
        cmocka_unit_test(test_conditions_lint_cannot_read_are_left_alone),
        cmocka_unit_test(test_an_exclusive_discount_on_every_line_shadows_later_ones),
        cmocka_unit_test(test_a_conditional_exclusive_discount_shadows_nothing),
        cmocka_unit_test(test_an_empty_valid_always_holds_and_is_linted_as_none),
        cmocka_unit_test(test_unused_segments_tables_and_promo_codes_are_reported_in_file_order),
        cmocka_unit_test(test_a_promo_code_read_by_an_expression_is_used),
        cmocka_unit_test(test_running_out_of_memory_fails_cleanly),
        cmocka_unit_test(test_an_aggregate_a_category_recomputes_per_line_is_quadratic),
        cmocka_unit_test(test_aggregates_evaluation_computes_once_are_not_reported),
        cmocka_unit_test(test_the_report_api_is_null_safe),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
