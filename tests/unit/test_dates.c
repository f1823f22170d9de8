/*
 * test_dates.c — unit tests for lib/datetime.c and lib/tz.c: the civil
 * calendar, ISO 8601 parsing and formatting, local days and times, ages
 * and birthday windows, and time zones read from TZif files — the
 * system's own (/usr/share/zoneinfo) and hand-built or damaged ones
 * written to a temporary directory, so that every branch of the POSIX
 * footer rules and every refusal of a bad file is reached.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "datetime.h"

#define SYSTEM_TZDIR "/usr/share/zoneinfo"

/* ---------------------------------------------------------------------
 * Helpers.
 */
static int64_t days_of(int y, unsigned m, unsigned d)
{
    return tsr__days_from_civil((int32_t)y, m, d);
}

/* The instant of an ISO 8601 text that must parse. */
static int64_t instant(const char *text)
{
    int64_t usec = 0;
    int32_t offset = 0;
    if (tsr__parse_datetime(text, strlen(text), &usec, &offset) != TSR_OK)
        fail_msg("\"%s\" did not parse", text);
    return usec;
}

static int parse_dt(const char *text, int64_t *usec, int32_t *offset)
{
    return tsr__parse_datetime(text, strlen(text), usec, offset);
}

static int parse_d(const char *text, int64_t *days)
{
    return tsr__parse_date(text, strlen(text), days);
}

/* An allocator that counts live bytes (to find leaks) and can fail one
 * chosen allocation (to test every out-of-memory path). */
typedef struct counting_alloc {
    long long live;
    unsigned long calls;
    unsigned long fail_at;   /* 1-based allocation to fail; 0: none */
} counting_alloc;

static void *counting_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    counting_alloc *c = ud;
    void *p;
    if (new_size == 0) {
        free(ptr);
        c->live -= (long long)old_size;
        return NULL;
    }
    if (++c->calls == c->fail_at)
        return NULL;
    p = realloc(ptr, new_size);
    if (p != NULL)
        c->live += (long long)new_size - (long long)(ptr ? old_size : 0);
    return p;
}

typedef struct fixture {
    counting_alloc counter;
    tsr_allocator hook;
    tsr_alloc alloc;
    char dir[64];   /* a temporary tzdir for hand-made files */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->hook.realloc = counting_realloc;
    f->hook.ud = &f->counter;
    tsr__alloc_init(&f->alloc, &f->hook);
    strcpy(f->dir, "/tmp/tessera-tz-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void remove_tree_files(const char *dir);

static int teardown(void **state)
{
    fixture *f = *state;
    int leaked = f->counter.live != 0;
    remove_tree_files(f->dir);
    free(f);
    return leaked ? -1 : 0;
}

/* Files this test writes, so teardown can remove exactly them. */
static char written[64][160];
static size_t written_count;

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[160];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    for (size_t i = 0; i < written_count; i++)
        if (strcmp(written[i], path) == 0)
            return;
    if (written_count < 64)
        strcpy(written[written_count++], path);
}

static void remove_tree_files(const char *dir)
{
    for (size_t i = 0; i < written_count; i++)
        remove(written[i]);
    written_count = 0;
    rmdir(dir);
}

static unsigned char *read_system_zone(const char *name, size_t *len)
{
    char path[256];
    static unsigned char buf[65536];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", SYSTEM_TZDIR, name);
    fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    *len = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    return buf;
}

/* A TZif file built by hand.  The version 1 block is minimal (one type, no
 * transitions) for version 2+ files, as `zic -b slim` writes it. */
typedef struct tzif_spec {
    char version;                 /* 0, '2', '3' */
    size_t timecnt;
    const int64_t *at;
    const unsigned char *idx;
    size_t typecnt;
    const int32_t *utoff;
    size_t leapcnt;
    const int64_t (*leaps)[2];    /* occurrence, correction */
    const char *footer;           /* NULL: write none (v1) */
} tzif_spec;

static size_t put_be(unsigned char *p, uint64_t v, unsigned size)
{
    for (unsigned k = 0; k < size; k++)
        p[k] = (unsigned char)(v >> (8 * (size - 1 - k)));
    return size;
}

static size_t put_header(unsigned char *p, char version, size_t leapcnt, size_t timecnt,
                         size_t typecnt)
{
    memset(p, 0, 44);
    memcpy(p, "TZif", 4);
    p[4] = (unsigned char)version;
    put_be(p + 20, 0, 4);   /* isutcnt */
    put_be(p + 24, 0, 4);   /* isstdcnt */
    put_be(p + 28, leapcnt, 4);
    put_be(p + 32, timecnt, 4);
    put_be(p + 36, typecnt, 4);
    put_be(p + 40, 4, 4);   /* charcnt: "ABC\0" */
    return 44;
}

static size_t put_block(unsigned char *p, const tzif_spec *s, unsigned tsize)
{
    size_t n = 0;
    for (size_t k = 0; k < s->timecnt; k++)
        n += put_be(p + n, (uint64_t)s->at[k], tsize);
    for (size_t k = 0; k < s->timecnt; k++)
        p[n++] = s->idx[k];
    for (size_t k = 0; k < s->typecnt; k++) {
        n += put_be(p + n, (uint64_t)(int64_t)s->utoff[k], 4);
        p[n++] = 0;   /* isdst: not used by the library */
        p[n++] = 0;   /* desigidx */
    }
    memcpy(p + n, "ABC", 4);
    n += 4;
    for (size_t k = 0; k < s->leapcnt; k++) {
        n += put_be(p + n, (uint64_t)s->leaps[k][0], tsize);
        n += put_be(p + n, (uint64_t)s->leaps[k][1], 4);
    }
    return n;
}

static size_t build_tzif(unsigned char *p, const tzif_spec *s)
{
    size_t n = 0;
    if (s->version == 0) {
        n += put_header(p, 0, s->leapcnt, s->timecnt, s->typecnt);
        n += put_block(p + n, s, 4);
        return n;
    }
    tzif_spec v1 = {s->version, 0, NULL, NULL, 1, s->utoff, 0, NULL, NULL};
    n += put_header(p, s->version, 0, 0, 1);
    n += put_block(p + n, &v1, 4);
    n += put_header(p + n, s->version, s->leapcnt, s->timecnt, s->typecnt);
    n += put_block(p + n, s, 8);
    p[n++] = '\n';
    if (s->footer) {
        memcpy(p + n, s->footer, strlen(s->footer));
        n += strlen(s->footer);
    }
    p[n++] = '\n';
    return n;
}

/* A zone with no transitions: its footer rule decides every instant. */
static int load_rule_zone(fixture *f, const char *footer, tsr_tz **tz)
{
    static const int32_t utoff[] = {0};
    unsigned char buf[512];
    tzif_spec s = {'2', 0, NULL, NULL, 1, utoff, 0, NULL, footer};
    size_t n = build_tzif(buf, &s);
    write_file(f->dir, "Rule", buf, n);
    return tsr__tz_load(tz, "Rule", f->dir, &f->alloc, NULL);
}

static int32_t offset_at(const tsr_tz *tz, const char *iso)
{
    return tsr__tz_offset(tz, instant(iso));
}

/* ---------------------------------------------------------------------
 * Civil calendar.
 */
static void test_civil_days_round_trip_over_every_day_of_years_1_to_9999(void **state)
{
    int32_t py = 0;
    unsigned pm = 0, pd = 0;
    (void)state;
    assert_true(days_of(1, 1, 1) == TSR_DATE_MIN_DAYS);
    assert_true(days_of(9999, 12, 31) == TSR_DATE_MAX_DAYS);
    for (int64_t day = TSR_DATE_MIN_DAYS; day <= TSR_DATE_MAX_DAYS; day++) {
        int32_t y;
        unsigned m, d;
        tsr__civil_from_days(day, &y, &m, &d);
        if (tsr__days_from_civil(y, m, d) != day)
            fail_msg("day %lld -> %d-%u-%u does not come back", (long long)day, (int)y, m, d);
        /* Each day follows the previous one on the calendar. */
        if (day > TSR_DATE_MIN_DAYS) {
            bool next_in_month = y == py && m == pm && d == pd + 1;
            bool next_month = y == py && m == pm + 1 && d == 1 && pd == tsr__days_in_month(py, pm);
            bool next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
            if (!next_in_month && !next_month && !next_year)
                fail_msg("%d-%u-%u follows %d-%u-%u", (int)y, m, d, (int)py, pm, pd);
        }
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_civil_days_of_known_dates_including_negative_years(void **state)
{
    int32_t y;
    unsigned m, d;
    (void)state;
    assert_int_equal(days_of(1970, 1, 1), 0);
    assert_int_equal(days_of(1969, 12, 31), -1);
    assert_int_equal(days_of(2000, 3, 1), 11017);
    assert_int_equal(days_of(2026, 7, 18), 20652);
    assert_int_equal(days_of(0, 3, 1), -719468);
    tsr__civil_from_days(-719469, &y, &m, &d);   /* the day before 0000-03-01 */
    assert_true(y == 0 && m == 2 && d == 29);    /* year 0 is a leap year */
    tsr__civil_from_days(days_of(-400, 1, 1) - 1, &y, &m, &d);
    assert_true(y == -401 && m == 12 && d == 31);
    /* Absurd day numbers are clamped, not undefined behaviour. */
    tsr__civil_from_days(INT64_MAX, &y, &m, &d);
    assert_true(y == INT32_MAX && m == 12 && d == 31);
    tsr__civil_from_days(INT64_MIN, &y, &m, &d);
    assert_true(y == INT32_MIN && m == 1 && d == 1);
}

static void test_weekday_of_known_dates(void **state)
{
    (void)state;
    assert_int_equal(tsr__weekday(days_of(2026, 7, 18)), 6);   /* Saturday */
    assert_int_equal(tsr__weekday(days_of(2026, 7, 19)), 7);   /* Sunday */
    assert_int_equal(tsr__weekday(days_of(2026, 7, 20)), 1);   /* Monday */
    assert_int_equal(tsr__weekday(days_of(1970, 1, 1)), 4);    /* Thursday */
    assert_int_equal(tsr__weekday(days_of(1969, 12, 31)), 3);  /* Wednesday */
    assert_int_equal(tsr__weekday(days_of(2000, 1, 1)), 6);
    assert_int_equal(tsr__weekday(days_of(1900, 1, 1)), 1);
    assert_int_equal(tsr__weekday(days_of(1, 1, 1)), 1);
    assert_int_equal(tsr__weekday(days_of(9999, 12, 31)), 5);
    assert_true(tsr__weekday(INT64_MIN) >= 1 && tsr__weekday(INT64_MIN) <= 7);
    assert_true(tsr__weekday(INT64_MAX) >= 1 && tsr__weekday(INT64_MAX) <= 7);
}

static void test_leap_years_follow_the_gregorian_rule(void **state)
{
    (void)state;
    assert_false(tsr__is_leap(1900));
    assert_true(tsr__is_leap(2000));
    assert_true(tsr__is_leap(2024));
    assert_false(tsr__is_leap(2026));
    assert_false(tsr__is_leap(2100));
    assert_true(tsr__is_leap(2400));
    assert_true(tsr__is_leap(0));
    assert_true(tsr__is_leap(-4));
    assert_false(tsr__is_leap(-100));
    assert_int_equal(tsr__days_in_month(2024, 2), 29);
    assert_int_equal(tsr__days_in_month(2026, 2), 28);
    assert_int_equal(tsr__days_in_month(1900, 2), 28);
    assert_int_equal(tsr__days_in_month(2026, 4), 30);
    assert_int_equal(tsr__days_in_month(2026, 12), 31);
    assert_int_equal(tsr__days_in_month(2026, 0), 0);
    assert_int_equal(tsr__days_in_month(2026, 13), 0);
}

/* ---------------------------------------------------------------------
 * Parsing and formatting.
 */
static void test_parse_date_accepts_real_dates_in_years_1_to_9999(void **state)
{
    int64_t d = 0;
    (void)state;
    assert_int_equal(parse_d("2026-07-18", &d), TSR_OK);
    assert_int_equal(d, 20652);
    assert_int_equal(parse_d("2024-02-29", &d), TSR_OK);
    assert_int_equal(d, days_of(2024, 2, 29));
    assert_int_equal(parse_d("0001-01-01", &d), TSR_OK);
    assert_true(d == TSR_DATE_MIN_DAYS);
    assert_int_equal(parse_d("9999-12-31", &d), TSR_OK);
    assert_true(d == TSR_DATE_MAX_DAYS);
    assert_int_equal(tsr__parse_date("2026-07-18T10:00", 10, &d), TSR_OK);   /* exactly n bytes */
}

static void test_parse_date_refuses_impossible_and_malformed_dates(void **state)
{
    static const char *const bad[] = {
        "2026-02-29", "2026-13-01", "2026-00-10", "2026-01-00", "2026-04-31", "1900-02-29",
        "0000-01-01", "2026-7-18",  "2026/07/18", "2026-07-18 ", " 2026-07-18", "20260718",
        "+2026-07-18", "2026-07-1a", "", "2026-07", "12026-07-18", "2026-07-18Z", "2026-07-032",
        "２０２６-07-18",
    };
    int64_t d = 42;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_d(bad[i], &d) != TSR_EPARSE)
            fail_msg("\"%s\" was accepted as a date", bad[i]);
    assert_int_equal(d, 42);
    assert_int_equal(tsr__parse_date("2026-07-18", 9, &d), TSR_EPARSE);
    assert_int_equal(tsr__parse_date(NULL, 0, &d), TSR_EPARSE);
}

static void test_parse_datetime_takes_offsets_and_separators(void **state)
{
    int64_t u = 0;
    int32_t off = 1;
    int64_t utc_2130 = (days_of(2026, 7, 17) * 86400 + 21 * 3600 + 30 * 60) * TSR_USEC_PER_SEC;
    (void)state;
    assert_int_equal(parse_dt("2026-07-18T00:30:00+03:00", &u, &off), TSR_OK);
    assert_true(u == utc_2130);
    assert_int_equal(off, 10800);
    assert_int_equal(parse_dt("2026-07-17T21:30:00Z", &u, &off), TSR_OK);
    assert_true(u == utc_2130 && off == 0);
    assert_int_equal(parse_dt("2026-07-17t21:30:00z", &u, &off), TSR_OK);
    assert_true(u == utc_2130 && off == 0);
    assert_int_equal(parse_dt("2026-07-17 21:30Z", &u, &off), TSR_OK);   /* seconds optional */
    assert_true(u == utc_2130);
    assert_int_equal(parse_dt("2026-07-18T00:30:00+0300", &u, &off), TSR_OK);
    assert_true(u == utc_2130 && off == 10800);
    assert_int_equal(parse_dt("2026-07-17T16:00:00-05:30", &u, &off), TSR_OK);
    assert_true(u == utc_2130 && off == -19800);
    assert_int_equal(parse_dt("2026-07-17T21:30:00-00:00", &u, &off), TSR_OK);
    assert_true(u == utc_2130 && off == 0);
    assert_int_equal(parse_dt("2026-07-18T15:30:00+18:00", &u, &off), TSR_OK);
    assert_int_equal(off, 18 * 3600);
    assert_int_equal(parse_dt("2026-07-17T03:30:00-18:00", &u, &off), TSR_OK);
    assert_int_equal(off, -18 * 3600);
    assert_true(u == utc_2130);
}

static void test_parse_datetime_reads_fractions_up_to_microseconds(void **state)
{
    int64_t u = 0, base = instant("2026-07-18T00:30:00Z");
    int32_t off = 0;
    (void)state;
    assert_int_equal(parse_dt("2026-07-18T00:30:00.5Z", &u, &off), TSR_OK);
    assert_true(u == base + 500000);
    assert_int_equal(parse_dt("2026-07-18T00:30:00.000001Z", &u, &off), TSR_OK);
    assert_true(u == base + 1);
    assert_int_equal(parse_dt("2026-07-18T00:30:00.123456+00:00", &u, &off), TSR_OK);
    assert_true(u == base + 123456);
    assert_int_equal(parse_dt("2026-07-18T00:30:00.1234567Z", &u, &off), TSR_EPARSE);
    assert_int_equal(parse_dt("2026-07-18T00:30:00.Z", &u, &off), TSR_EPARSE);
    assert_int_equal(parse_dt("2026-07-18T00:30.5Z", &u, &off), TSR_EPARSE);
    assert_int_equal(parse_dt("2026-07-18T00:30:00,5Z", &u, &off), TSR_EPARSE);
}

static void test_parse_datetime_refuses_missing_or_bad_offsets_and_bad_times(void **state)
{
    static const char *const bad[] = {
        "2026-07-18T00:30:00",        /* no offset */
        "2026-07-18T00:30",
        "2026-07-18",
        "2026-07-18T00:30:00+03",     /* minutes required */
        "2026-07-18T00:30:00+3:00",
        "2026-07-18T00:30:00+03:60",
        "2026-07-18T00:30:00+18:01",
        "2026-07-18T00:30:00+19:00",
        "2026-07-18T00:30:00-99:00",
        "2026-07-18T00:30:00 +03:00",
        "2026-07-18T00:30:00GMT",
        "2026-07-18T00:30:00UTC",
        "2026-07-18T00:30:00+03:00:00",
        "2026-07-18T00:30:00Zjunk",
        "2026-07-18T24:00:00Z",
        "2026-07-18T23:60:00Z",
        "2026-07-18T23:59:60Z",       /* no leap seconds */
        "2026-07-18T7:30:00Z",
        "2026-07-18T07:3:00Z",
        "2026-07-18T07:30:0Z",
        "2026-02-29T10:00:00Z",
        "2026-07-18X00:30:00Z",
        "2026-07-18TT00:30:00Z",
        "",
    };
    int64_t u = 42;
    int32_t off = 42;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_dt(bad[i], &u, &off) != TSR_EPARSE)
            fail_msg("\"%s\" was accepted as a datetime", bad[i]);
    assert_true(u == 42 && off == 42);
}

static void test_format_date_writes_iso_dates_and_expanded_years(void **state)
{
    char buf[16];
    (void)state;
    assert_int_equal(tsr__format_date(buf, 0), 10);
    assert_string_equal(buf, "1970-01-01");
    tsr__format_date(buf, 20652);
    assert_string_equal(buf, "2026-07-18");
    tsr__format_date(buf, TSR_DATE_MIN_DAYS);
    assert_string_equal(buf, "0001-01-01");
    tsr__format_date(buf, TSR_DATE_MAX_DAYS);
    assert_string_equal(buf, "9999-12-31");
    tsr__format_date(buf, TSR_DATE_MAX_DAYS + 1);
    assert_string_equal(buf, "+10000-01-01");
    tsr__format_date(buf, TSR_DATE_MIN_DAYS - 1);
    assert_string_equal(buf, "0000-12-31");
    tsr__format_date(buf, days_of(-1, 12, 31));
    assert_string_equal(buf, "-0001-12-31");
    assert_true(tsr__format_date(buf, INT64_MAX) < 16);   /* clamped, never overflows buf */
    assert_true(tsr__format_date(buf, INT64_MIN) < 16);
}

static void test_format_datetime_writes_the_offset_it_is_given(void **state)
{
    char buf[40];
    int64_t u = instant("2026-07-18T00:30:00+03:00");
    (void)state;
    assert_int_equal(tsr__format_datetime(buf, u, 10800), 25);
    assert_string_equal(buf, "2026-07-18T00:30:00+03:00");
    tsr__format_datetime(buf, u, 0);
    assert_string_equal(buf, "2026-07-17T21:30:00Z");
    tsr__format_datetime(buf, u + 500000, -19800);
    assert_string_equal(buf, "2026-07-17T16:00:00.500000-05:30");
    tsr__format_datetime(buf, -1, 0);
    assert_string_equal(buf, "1969-12-31T23:59:59.999999Z");
    tsr__format_datetime(buf, 0, 3208);   /* Berlin's local mean time, +0:53:28 */
    assert_string_equal(buf, "1970-01-01T00:53:28+00:53:28");
    tsr__format_datetime(buf, 0, -3208);
    assert_string_equal(buf, "1969-12-31T23:06:32-00:53:28");
    assert_true(tsr__format_datetime(buf, INT64_MIN, -93599) < 40);
    assert_true(tsr__format_datetime(buf, INT64_MAX, 93599) < 40);
}

static void test_format_then_parse_datetime_round_trips(void **state)
{
    uint64_t seed = 12345;
    char buf[40];
    (void)state;
    for (int i = 0; i < 100000; i++) {
        seed = seed * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        int64_t span = (TSR_DATE_MAX_DAYS - TSR_DATE_MIN_DAYS - 2) * TSR_USEC_PER_DAY;
        int64_t u = (TSR_DATE_MIN_DAYS + 1) * TSR_USEC_PER_DAY + (int64_t)((seed >> 1) % (uint64_t)span);
        int32_t off = (int32_t)((int64_t)((seed >> 20) % 2161) - 1080) * 60;   /* +-18:00 */
        int64_t back = 0;
        int32_t back_off = 0;
        if (i % 3 == 0)
            u -= u % TSR_USEC_PER_SEC;   /* also without a fraction */
        size_t len = tsr__format_datetime(buf, u, off);
        assert_int_equal(tsr__parse_datetime(buf, len, &back, &back_off), TSR_OK);
        assert_true(back == u && back_off == off);
    }
}

/* ---------------------------------------------------------------------
 * Local days and times.
 */
static void test_local_day_of_half_past_midnight_plus_three_differs_from_utc(void **state)
{
    int64_t u = 0;
    int32_t off = 0;
    (void)state;
    assert_int_equal(parse_dt("2026-07-18T00:30:00+03:00", &u, &off), TSR_OK);
    assert_true(tsr__local_days(u, off) == days_of(2026, 7, 18));
    assert_true(tsr__local_days(u, 0) == days_of(2026, 7, 17));
    assert_true(tsr__local_time_of_day(u, off) == 30 * 60 * TSR_USEC_PER_SEC);
    assert_true(tsr__local_time_of_day(u, 0) == (21 * 3600 + 30 * 60) * TSR_USEC_PER_SEC);
    assert_int_equal(tsr__weekday(tsr__local_days(u, off)), 6);
    assert_int_equal(tsr__weekday(tsr__local_days(u, 0)), 5);
    assert_int_equal(tsr__local_offset(NULL, u, off), off);
}

static void test_local_day_floors_negative_instants(void **state)
{
    (void)state;
    assert_true(tsr__local_days(-1, 0) == -1);
    assert_true(tsr__local_time_of_day(-1, 0) == TSR_USEC_PER_DAY - 1);
    assert_true(tsr__local_days(-TSR_USEC_PER_DAY, 0) == -1);
    assert_true(tsr__local_days(-TSR_USEC_PER_DAY - 1, 0) == -2);
    assert_true(tsr__local_days(0, -1) == -1);
    assert_true(tsr__local_time_of_day(0, -1) == TSR_USEC_PER_DAY - TSR_USEC_PER_SEC);
    /* No overflow at the ends of the range (UBSan watches). */
    assert_true(tsr__local_days(INT64_MIN, -64800) < 0);
    assert_true(tsr__local_days(INT64_MAX, 64800) > 0);
    assert_true(tsr__local_time_of_day(INT64_MIN, -64800) >= 0);
    assert_true(tsr__local_time_of_day(INT64_MAX, 64800) < TSR_USEC_PER_DAY);
}

/* ---------------------------------------------------------------------
 * Ages and birthdays.
 */
static void test_age_counts_whole_years(void **state)
{
    int64_t b = days_of(2015, 6, 15);
    (void)state;
    assert_int_equal(tsr__age(b, days_of(2026, 6, 14)), 10);
    assert_int_equal(tsr__age(b, days_of(2026, 6, 15)), 11);
    assert_int_equal(tsr__age(b, days_of(2026, 12, 31)), 11);
    assert_int_equal(tsr__age(b, b), 0);
    assert_int_equal(tsr__age(b, b - 1), -1);   /* before birth: negative */
    assert_int_equal(tsr__age(b, days_of(2014, 6, 16)), -1);
    assert_int_equal(tsr__age(b, days_of(2014, 6, 15)), -1);
    assert_int_equal(tsr__age(b, days_of(2014, 6, 14)), -2);
}

static void test_age_of_a_29_february_birthday_goes_up_on_1_march_in_common_years(void **state)
{
    int64_t b = days_of(2008, 2, 29);
    (void)state;
    assert_int_equal(tsr__age(b, days_of(2026, 2, 28)), 17);
    assert_int_equal(tsr__age(b, days_of(2026, 3, 1)), 18);
    assert_int_equal(tsr__age(b, days_of(2028, 2, 28)), 19);
    assert_int_equal(tsr__age(b, days_of(2028, 2, 29)), 20);
}

static void test_birthday_within_crosses_the_year_end(void **state)
{
    (void)state;
    /* Birthday 30 December, order on 2 January: three days after. */
    assert_true(tsr__birthday_within(days_of(1990, 12, 30), days_of(2027, 1, 2), 3));
    assert_false(tsr__birthday_within(days_of(1990, 12, 30), days_of(2027, 1, 2), 2));
    /* Birthday 2 January, order on 30 December: three days before. */
    assert_true(tsr__birthday_within(days_of(1990, 1, 2), days_of(2026, 12, 30), 3));
    assert_false(tsr__birthday_within(days_of(1990, 1, 2), days_of(2026, 12, 30), 2));
    /* Same day with n = 0; far away; negative n. */
    assert_true(tsr__birthday_within(days_of(2015, 6, 15), days_of(2026, 6, 15), 0));
    assert_false(tsr__birthday_within(days_of(2015, 6, 15), days_of(2026, 6, 16), 0));
    assert_false(tsr__birthday_within(days_of(2015, 6, 15), days_of(2026, 1, 1), 30));
    assert_true(tsr__birthday_within(days_of(2015, 6, 15), days_of(2026, 1, 1), 200));
    assert_false(tsr__birthday_within(days_of(2015, 6, 15), days_of(2026, 6, 15), -1));
    /* No birthday before being born. */
    assert_false(tsr__birthday_within(days_of(2026, 12, 30), days_of(2026, 1, 2), 3));
    assert_true(tsr__birthday_within(days_of(2026, 12, 30), days_of(2026, 12, 30), 0));
}

static void test_birthday_within_keeps_29_february_on_28_february_in_common_years(void **state)
{
    int64_t b = days_of(2000, 2, 29);
    (void)state;
    assert_true(tsr__birthday_within(b, days_of(2026, 2, 28), 0));
    assert_false(tsr__birthday_within(b, days_of(2026, 3, 1), 0));
    assert_true(tsr__birthday_within(b, days_of(2026, 3, 1), 1));
    assert_true(tsr__birthday_within(b, days_of(2028, 2, 29), 0));
    assert_false(tsr__birthday_within(b, days_of(2028, 2, 28), 0));
    assert_false(tsr__birthday_within(b, days_of(2028, 3, 1), 0));
    assert_true(tsr__birthday_within(b, days_of(2028, 3, 3), 3));
}

/* ---------------------------------------------------------------------
 * Time zones from the system database.
 */
static tsr_tz *load_system(fixture *f, const char *name)
{
    tsr_tz *tz = NULL;
    tsr_error err;
    memset(&err, 0, sizeof err);
    if (tsr__tz_load(&tz, name, SYSTEM_TZDIR, &f->alloc, &err) != TSR_OK)
        fail_msg("loading %s: %s", name, err.message);
    return tz;
}

static void test_tz_moscow_is_plus_three_since_2014_and_was_plus_four_in_2012(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "Europe/Moscow");
    assert_int_equal(offset_at(tz, "2012-07-01T12:00:00Z"), 4 * 3600);
    assert_int_equal(offset_at(tz, "2013-01-15T12:00:00Z"), 4 * 3600);
    assert_int_equal(offset_at(tz, "2014-10-25T21:59:59Z"), 4 * 3600);
    assert_int_equal(offset_at(tz, "2014-10-25T22:00:00Z"), 3 * 3600);
    assert_int_equal(offset_at(tz, "2020-01-01T00:00:00Z"), 3 * 3600);
    assert_int_equal(offset_at(tz, "2026-07-18T00:30:00+03:00"), 3 * 3600);
    assert_int_equal(offset_at(tz, "2100-07-01T00:00:00Z"), 3 * 3600);   /* footer: MSK-3 */
    assert_int_equal(offset_at(tz, "2010-07-01T00:00:00Z"), 4 * 3600);   /* MSD */
    assert_int_equal(offset_at(tz, "2010-01-01T00:00:00Z"), 3 * 3600);   /* MSK */
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(f->counter.live, 0);
}

static void test_tz_berlin_switches_exactly_at_the_2026_transitions(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "Europe/Berlin");
    int64_t spring = instant("2026-03-29T01:00:00Z"), autumn = instant("2026-10-25T01:00:00Z");
    assert_int_equal(tsr__tz_offset(tz, spring - TSR_USEC_PER_SEC), 3600);
    assert_int_equal(tsr__tz_offset(tz, spring - 1), 3600);
    assert_int_equal(tsr__tz_offset(tz, spring), 7200);
    assert_int_equal(tsr__tz_offset(tz, spring + TSR_USEC_PER_SEC), 7200);
    assert_int_equal(tsr__tz_offset(tz, autumn - TSR_USEC_PER_SEC), 7200);
    assert_int_equal(tsr__tz_offset(tz, autumn - 1), 7200);
    assert_int_equal(tsr__tz_offset(tz, autumn), 3600);
    assert_int_equal(tsr__tz_offset(tz, autumn + TSR_USEC_PER_SEC), 3600);
    /* Local mean time before the first transition (RFC 8536: type 0). */
    assert_int_equal(offset_at(tz, "1850-01-01T00:00:00Z"), 3208);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_berlin_far_future_follows_the_footer_rule(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "Europe/Berlin");
    assert_int_equal(offset_at(tz, "2100-07-01T00:00:00Z"), 7200);
    assert_int_equal(offset_at(tz, "2100-01-15T00:00:00Z"), 3600);
    /* 2100: last Sunday of March is the 28th, of October the 31st. */
    assert_int_equal(offset_at(tz, "2100-03-28T00:59:59Z"), 3600);
    assert_int_equal(offset_at(tz, "2100-03-28T01:00:00Z"), 7200);
    assert_int_equal(offset_at(tz, "2100-10-31T00:59:59Z"), 7200);
    assert_int_equal(offset_at(tz, "2100-10-31T01:00:00Z"), 3600);
    assert_int_equal(offset_at(tz, "9999-07-01T00:00:00Z"), 7200);
    assert_int_equal(tsr__tz_offset(tz, INT64_MAX), 3600);   /* year ~294247, January */
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_new_york_switches_at_the_2026_us_transitions(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "America/New_York");
    assert_int_equal(offset_at(tz, "2026-03-08T06:59:59Z"), -5 * 3600);
    assert_int_equal(offset_at(tz, "2026-03-08T07:00:00Z"), -4 * 3600);
    assert_int_equal(offset_at(tz, "2026-11-01T05:59:59Z"), -4 * 3600);
    assert_int_equal(offset_at(tz, "2026-11-01T06:00:00Z"), -5 * 3600);
    assert_int_equal(offset_at(tz, "2100-07-01T00:00:00Z"), -4 * 3600);
    assert_int_equal(offset_at(tz, "2100-12-01T00:00:00Z"), -5 * 3600);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_sydney_far_future_has_southern_summer_time(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "Australia/Sydney");
    assert_int_equal(offset_at(tz, "2100-01-01T00:00:00Z"), 11 * 3600);
    assert_int_equal(offset_at(tz, "2100-07-01T00:00:00Z"), 10 * 3600);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_utc_is_zero_everywhere(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "UTC");
    assert_int_equal(offset_at(tz, "1900-01-01T00:00:00Z"), 0);
    assert_int_equal(offset_at(tz, "2026-07-18T00:30:00+03:00"), 0);
    assert_int_equal(offset_at(tz, "2100-07-01T00:00:00Z"), 0);
    assert_int_equal(tsr__tz_offset(tz, INT64_MIN), 0);
    assert_int_equal(tsr__tz_offset(tz, INT64_MAX), 0);
    assert_int_equal(tsr__local_offset(tz, 0, 10800), 0);
    tsr__tz_free(tz, &f->alloc);
    tsr__tz_free(NULL, &f->alloc);
    assert_int_equal(tsr__tz_offset(NULL, 0), 0);
}

/* "right/" zones count leap seconds in their transition times; the
 * offsets at POSIX instants must match the plain zone's. */
static void test_tz_right_zone_matches_posix_zone_at_transitions(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/right/Europe/Berlin", SYSTEM_TZDIR);
    if (access(path, R_OK) != 0)
        skip();
    tsr_tz *posix = load_system(f, "Europe/Berlin"), *right = load_system(f, "right/Europe/Berlin");
    static const char *const when[] = {
        "2016-03-27T00:59:59Z", "2016-03-27T01:00:00Z", "2016-10-30T00:59:59Z",
        "2016-10-30T01:00:00Z", "1990-03-25T00:59:59Z", "1990-03-25T01:00:00Z",
        "2026-03-29T01:00:00Z", "2026-10-25T00:59:59Z",
    };
    for (size_t i = 0; i < sizeof when / sizeof when[0]; i++)
        assert_int_equal(offset_at(right, when[i]), offset_at(posix, when[i]));
    tsr__tz_free(posix, &f->alloc);
    tsr__tz_free(right, &f->alloc);
}

static void test_tz_missing_zone_is_an_unknown_name(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = (tsr_tz *)(uintptr_t)1;
    tsr_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(tsr__tz_load(&tz, "Europe/Atlantis", SYSTEM_TZDIR, &f->alloc, &err),
                     TSR_ENAME);
    assert_null(tz);
    assert_int_equal(err.code, TSR_ENAME);
    assert_non_null(strstr(err.message, "Europe/Atlantis"));
    /* A directory is not a zone either. */
    assert_int_equal(tsr__tz_load(&tz, "Europe", SYSTEM_TZDIR, &f->alloc, NULL), TSR_ENAME);
    assert_int_equal(tsr__tz_load(&tz, "UTC", "/nonexistent-tzdir", &f->alloc, NULL), TSR_ENAME);
    assert_int_equal(f->counter.live, 0);
}

static void test_tz_refuses_names_that_could_leave_the_zone_directory(void **state)
{
    static const char *const bad[] = {
        "../etc/passwd", "/etc/passwd", "Europe/../../etc/passwd", "..", "Europe/..",
        "Europe//Berlin", "Europe/", "", "Europe/Berlin\n", "Europe Berlin", "zone.tab",
        "Europe\\Berlin", "%2e%2e/etc/passwd", "Europe/Berlin;rm",
    };
    fixture *f = *state;
    tsr_tz *tz = NULL;
    char long_name[300];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tsr__tz_load(&tz, bad[i], SYSTEM_TZDIR, &f->alloc, NULL) != TSR_ENAME)
            fail_msg("zone name \"%s\" was not refused", bad[i]);
    memset(long_name, 'A', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    assert_int_equal(tsr__tz_load(&tz, long_name, SYSTEM_TZDIR, &f->alloc, NULL), TSR_ENAME);
    assert_int_equal(tsr__tz_load(&tz, NULL, SYSTEM_TZDIR, &f->alloc, NULL), TSR_EINVAL);
    assert_int_equal(tsr__tz_load(NULL, "UTC", SYSTEM_TZDIR, &f->alloc, NULL), TSR_EINVAL);
    assert_int_equal(f->counter.live, 0);
}

static void test_tz_load_uses_TZDIR_when_no_directory_is_given(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    const char *saved = getenv("TZDIR");
    char *copy = saved ? strdup(saved) : NULL;
    assert_int_equal(load_rule_zone(f, "<+0545>-5:45", &tz), TSR_OK);   /* writes "Rule" */
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(setenv("TZDIR", f->dir, 1), 0);
    assert_int_equal(tsr__tz_load(&tz, "Rule", NULL, &f->alloc, NULL), TSR_OK);
    assert_int_equal(tsr__tz_offset(tz, 0), 5 * 3600 + 45 * 60);
    tsr__tz_free(tz, &f->alloc);
    if (copy) {
        setenv("TZDIR", copy, 1);
        free(copy);
    } else {
        unsetenv("TZDIR");
    }
}

/* ---------------------------------------------------------------------
 * Hand-made TZif files.
 */
static void test_tz_posix_rules_fixed_offsets_and_quoted_names(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    assert_int_equal(load_rule_zone(f, "MSK-3", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-07-01T00:00:00Z"), 10800);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(load_rule_zone(f, "<+03>-3", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-07-01T00:00:00Z"), 10800);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(load_rule_zone(f, "<-0330>3:30", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-07-01T00:00:00Z"), -12600);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(load_rule_zone(f, "EST+5", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-07-01T00:00:00Z"), -18000);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_posix_rule_with_month_week_day_dates(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    assert_int_equal(load_rule_zone(f, "EST5EDT,M3.2.0,M11.1.0", &tz), TSR_OK);
    /* 2030: second Sunday of March is the 10th, first of November the 3rd. */
    assert_int_equal(offset_at(tz, "2030-03-10T06:59:59Z"), -18000);
    assert_int_equal(offset_at(tz, "2030-03-10T07:00:00Z"), -14400);
    assert_int_equal(offset_at(tz, "2030-11-03T05:59:59Z"), -14400);
    assert_int_equal(offset_at(tz, "2030-11-03T06:00:00Z"), -18000);
    tsr__tz_free(tz, &f->alloc);
    /* Lord Howe: a half-hour DST with explicit offsets. */
    assert_int_equal(load_rule_zone(f, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-01-15T00:00:00Z"), 11 * 3600);
    assert_int_equal(offset_at(tz, "2030-07-15T00:00:00Z"), 10 * 3600 + 1800);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_posix_rule_with_julian_dates(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    /* Jn never counts 29 February: J60 is 1 March in every year. */
    assert_int_equal(load_rule_zone(f, "UTC0DST,J60/0,J300/0", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2028-02-29T23:59:59Z"), 0);
    assert_int_equal(offset_at(tz, "2028-03-01T00:00:00Z"), 3600);
    assert_int_equal(offset_at(tz, "2027-02-28T23:59:59Z"), 0);
    assert_int_equal(offset_at(tz, "2027-03-01T00:00:00Z"), 3600);
    tsr__tz_free(tz, &f->alloc);
    /* n is zero-based and counts 29 February: 59 is 29 February in leap years. */
    assert_int_equal(load_rule_zone(f, "UTC0DST,59/0,300/0", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2028-02-28T23:59:59Z"), 0);
    assert_int_equal(offset_at(tz, "2028-02-29T00:00:00Z"), 3600);
    assert_int_equal(offset_at(tz, "2027-02-28T23:59:59Z"), 0);
    assert_int_equal(offset_at(tz, "2027-03-01T00:00:00Z"), 3600);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_posix_rule_with_negative_and_over_24_hour_times(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    /* America/Nuuk since 2023: starts at -1:00, ends at 0:00 local. */
    assert_int_equal(load_rule_zone(f, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-03-31T00:59:59Z"), -7200);
    assert_int_equal(offset_at(tz, "2030-03-31T01:00:00Z"), -3600);
    assert_int_equal(offset_at(tz, "2030-10-27T00:59:59Z"), -3600);
    assert_int_equal(offset_at(tz, "2030-10-27T01:00:00Z"), -7200);
    tsr__tz_free(tz, &f->alloc);
    /* Israel: the Friday before the last Sunday, written as Thursday 26:00. */
    assert_int_equal(load_rule_zone(f, "IST-2IDT,M3.4.4/26,M10.5.0", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2030-03-28T23:59:59Z"), 7200);
    assert_int_equal(offset_at(tz, "2030-03-29T00:00:00Z"), 10800);
    assert_int_equal(offset_at(tz, "2030-10-26T22:59:59Z"), 10800);
    assert_int_equal(offset_at(tz, "2030-10-26T23:00:00Z"), 7200);
    tsr__tz_free(tz, &f->alloc);
    /* A transition pushed into the next year by a large time. */
    assert_int_equal(load_rule_zone(f, "AAA0BBB,J365/48,J180", &tz), TSR_OK);
    assert_int_equal(offset_at(tz, "2031-01-01T23:59:59Z"), 0);
    assert_int_equal(offset_at(tz, "2031-01-02T00:00:00Z"), 3600);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_posix_rule_for_daylight_time_all_year(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    /* RFC 8536 §3.3.1's example. */
    assert_int_equal(load_rule_zone(f, "EST5EDT,0/0,J365/25", &tz), TSR_OK);
    static const char *const when[] = {
        "2030-01-01T00:00:00Z", "2030-01-01T04:59:59Z", "2030-01-01T05:00:00Z",
        "2030-06-01T00:00:00Z", "2030-12-31T23:59:59Z", "2031-01-01T04:00:00Z",
        "2032-02-29T12:00:00Z", "2032-12-31T23:00:00Z",
    };
    for (size_t i = 0; i < sizeof when / sizeof when[0]; i++)
        if (offset_at(tz, when[i]) != -14400)
            fail_msg("%s: %d", when[i], (int)offset_at(tz, when[i]));
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_refuses_bad_footer_rules(void **state)
{
    static const char *const bad[] = {
        "E5", "EST", "EST5EDT", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
        "EST5EDT,M3.2.0,M11.1.0,", "<+0>3", "EST25", "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J100", "EST5EDT,366,100", "EST5EDT,M3.2.0/168,M11.1.0",
        "<+03-3", "EST5EDT4junk,M3.2.0,M11.1.0", "EST5:60", "EST5EDT,M3.2.0,M11.1.0/2:3:61",
    };
    fixture *f = *state;
    tsr_tz *tz = NULL;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (load_rule_zone(f, bad[i], &tz) != TSR_EPARSE)
            fail_msg("footer \"%s\" was accepted", bad[i]);
    assert_int_equal(f->counter.live, 0);
}

static void test_tz_transitions_then_footer_then_type_zero_before_them(void **state)
{
    static const int64_t at[] = {1000000000, 2000000000};
    static const unsigned char idx[] = {1, 2};
    static const int32_t utoff[] = {1234, 3600, 7200};
    fixture *f = *state;
    unsigned char buf[512];
    tsr_tz *tz = NULL;
    tzif_spec s = {'3', 2, at, idx, 3, utoff, 0, NULL, "<+05>-5"};
    write_file(f->dir, "Steps", buf, build_tzif(buf, &s));
    assert_int_equal(tsr__tz_load(&tz, "Steps", f->dir, &f->alloc, NULL), TSR_OK);
    assert_int_equal(tsr__tz_offset(tz, 999999999 * TSR_USEC_PER_SEC), 1234);
    assert_int_equal(tsr__tz_offset(tz, 1000000000 * TSR_USEC_PER_SEC - 1), 1234);
    assert_int_equal(tsr__tz_offset(tz, 1000000000 * TSR_USEC_PER_SEC), 3600);
    assert_int_equal(tsr__tz_offset(tz, 1999999999 * TSR_USEC_PER_SEC), 3600);
    assert_int_equal(tsr__tz_offset(tz, 2000000000 * TSR_USEC_PER_SEC), 7200);   /* last transition */
    assert_int_equal(tsr__tz_offset(tz, 2000000001 * TSR_USEC_PER_SEC), 18000);  /* footer */
    tsr__tz_free(tz, &f->alloc);

    /* An empty footer: the last transition's type goes on forever. */
    s.footer = "";
    write_file(f->dir, "Steps", buf, build_tzif(buf, &s));
    assert_int_equal(tsr__tz_load(&tz, "Steps", f->dir, &f->alloc, NULL), TSR_OK);
    assert_int_equal(tsr__tz_offset(tz, INT64_MAX), 7200);
    tsr__tz_free(tz, &f->alloc);

    /* Version 1: 32-bit times, no footer. */
    s.version = 0;
    s.footer = NULL;
    write_file(f->dir, "Steps", buf, build_tzif(buf, &s));
    assert_int_equal(tsr__tz_load(&tz, "Steps", f->dir, &f->alloc, NULL), TSR_OK);
    assert_int_equal(tsr__tz_offset(tz, 0), 1234);
    assert_int_equal(tsr__tz_offset(tz, 1500000000 * TSR_USEC_PER_SEC), 3600);
    assert_int_equal(tsr__tz_offset(tz, INT64_MAX), 7200);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(f->counter.live, 0);
}

static void test_tz_leap_second_records_shift_transition_times(void **state)
{
    static const int64_t leaps[][2] = {{78796800, 1}, {94694401, 2}};
    static const int64_t at[] = {100000002};   /* in leap-counting time */
    static const unsigned char idx[] = {1};
    static const int32_t utoff[] = {0, 3600};
    fixture *f = *state;
    unsigned char buf[512];
    tsr_tz *tz = NULL;
    tzif_spec s = {'2', 1, at, idx, 2, utoff, 2, leaps, ""};
    write_file(f->dir, "Leaps", buf, build_tzif(buf, &s));
    assert_int_equal(tsr__tz_load(&tz, "Leaps", f->dir, &f->alloc, NULL), TSR_OK);
    assert_int_equal(tsr__tz_offset(tz, 99999999 * TSR_USEC_PER_SEC), 0);
    assert_int_equal(tsr__tz_offset(tz, 100000000 * TSR_USEC_PER_SEC), 3600);
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_refuses_inconsistent_hand_made_files(void **state)
{
    static const int64_t descending[] = {2000, 1000};
    static const int64_t ascending[] = {1000, 2000};
    static const unsigned char idx_ok[] = {0, 0};
    static const unsigned char idx_bad[] = {0, 5};
    static const int32_t utoff_ok[] = {0};
    static const int32_t utoff_bad[] = {100000};   /* beyond +25:59:59 */
    fixture *f = *state;
    unsigned char buf[512];
    tsr_tz *tz = NULL;
    tzif_spec cases[] = {
        {'2', 2, descending, idx_ok, 1, utoff_ok, 0, NULL, ""},
        {'2', 2, ascending, idx_bad, 1, utoff_ok, 0, NULL, ""},
        {'2', 0, NULL, NULL, 1, utoff_bad, 0, NULL, ""},
        {0, 2, ascending, idx_bad, 1, utoff_ok, 0, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(f->dir, "Bad", buf, build_tzif(buf, &cases[i]));
        if (tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL) != TSR_EPARSE)
            fail_msg("inconsistent file %zu was accepted", i);
    }
    /* The same good file, then with zero types in its 64-bit header (at
     * 44 + the 10-byte minimal v1 block + 36), then with a bad version. */
    tzif_spec ok = {'2', 2, ascending, idx_ok, 1, utoff_ok, 0, NULL, "UTC0"};
    size_t n = build_tzif(buf, &ok);
    write_file(f->dir, "Bad", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL), TSR_OK);
    tsr__tz_free(tz, &f->alloc);
    memcpy(buf + 44 + 10 + 36, "\0\0\0\0", 4);
    write_file(f->dir, "Bad", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL), TSR_EPARSE);
    n = build_tzif(buf, &ok);
    buf[4] = '9';
    write_file(f->dir, "Bad", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL), TSR_EPARSE);
    /* A local time type with isdst 2, then one naming a designation past
     * the end of the characters.  Its six bytes follow the 64-bit header
     * and the two transitions (2 * 8 + 2 bytes): utoff, isdst, desigidx. */
    size_t type0 = 44 + 10 + 44 + 2 * 8 + 2;
    n = build_tzif(buf, &ok);
    buf[type0 + 4] = 2;
    write_file(f->dir, "Bad", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL), TSR_EPARSE);
    n = build_tzif(buf, &ok);
    buf[type0 + 5] = 4;
    write_file(f->dir, "Bad", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL), TSR_EPARSE);
    buf[type0 + 5] = 3;   /* the terminating NUL of "ABC": still inside */
    write_file(f->dir, "Bad", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Bad", f->dir, &f->alloc, NULL), TSR_OK);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(f->counter.live, 0);
}

/* Two thousand transitions (a file of about 18 KiB, read in several
 * chunks): the binary search must land on the right one at each edge. */
static void test_tz_finds_the_right_transition_among_thousands(void **state)
{
    enum { N = 2000 };
    static int64_t at[N];
    static unsigned char idx[N];
    static const int32_t utoff[] = {-3600, 0, 3600, 7200};
    static unsigned char buf[N * 9 + 512];
    fixture *f = *state;
    tsr_tz *tz = NULL;
    for (size_t k = 0; k < N; k++) {
        at[k] = -1000000000 + (int64_t)k * 977 * 1000;   /* spans the epoch */
        idx[k] = (unsigned char)(1 + k % 3);
    }
    tzif_spec s = {'2', N, at, idx, 4, utoff, 0, NULL, ""};
    size_t n = build_tzif(buf, &s);
    assert_true(n > 4096 * 4);
    write_file(f->dir, "Many", buf, n);
    assert_int_equal(tsr__tz_load(&tz, "Many", f->dir, &f->alloc, NULL), TSR_OK);
    assert_int_equal(tsr__tz_offset(tz, at[0] * TSR_USEC_PER_SEC - 1), -3600);
    for (size_t k = 0; k < N; k++) {
        int32_t here = utoff[idx[k]], before = k == 0 ? -3600 : utoff[idx[k - 1]];
        assert_int_equal(tsr__tz_offset(tz, at[k] * TSR_USEC_PER_SEC), here);
        assert_int_equal(tsr__tz_offset(tz, at[k] * TSR_USEC_PER_SEC - 1), before);
        assert_int_equal(tsr__tz_offset(tz, (at[k] + 500) * TSR_USEC_PER_SEC), here);
    }
    tsr__tz_free(tz, &f->alloc);
}

static void test_tz_refuses_garbage_huge_counts_and_oversized_files(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    tsr_error err;
    unsigned char header[44 + 64];
    static unsigned char big[600 * 1024];

    write_file(f->dir, "Garbage", "this is not a time zone at all, just words\n", 44);
    memset(&err, 0, sizeof err);
    assert_int_equal(tsr__tz_load(&tz, "Garbage", f->dir, &f->alloc, &err), TSR_EPARSE);
    assert_null(tz);
    assert_non_null(strstr(err.message, "Garbage"));

    write_file(f->dir, "Empty", "", 0);
    assert_int_equal(tsr__tz_load(&tz, "Empty", f->dir, &f->alloc, NULL), TSR_EPARSE);

    /* Every count at its maximum: must be caught before anything is read. */
    memset(header, 0xff, sizeof header);
    memcpy(header, "TZif2", 5);
    write_file(f->dir, "Huge", header, sizeof header);
    assert_int_equal(tsr__tz_load(&tz, "Huge", f->dir, &f->alloc, NULL), TSR_EPARSE);

    /* A file that claims to be a zone but is far too big for one. */
    memcpy(big, "TZif2", 5);
    write_file(f->dir, "Big", big, sizeof big);
    assert_int_equal(tsr__tz_load(&tz, "Big", f->dir, &f->alloc, NULL), TSR_EPARSE);
    assert_int_equal(f->counter.live, 0);
}

static void test_tz_refuses_every_truncation_of_a_real_zone_file(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    size_t len = 0;
    unsigned char *data = read_system_zone("Europe/Berlin", &len);
    unsigned char copy[65536];
    if (data == NULL)
        skip();
    memcpy(copy, data, len);
    for (size_t cut = 0; cut < len; cut++) {
        write_file(f->dir, "Cut", copy, cut);
        if (tsr__tz_load(&tz, "Cut", f->dir, &f->alloc, NULL) != TSR_EPARSE)
            fail_msg("Europe/Berlin cut to %zu of %zu bytes was accepted", cut, len);
    }
    write_file(f->dir, "Cut", copy, len);
    assert_int_equal(tsr__tz_load(&tz, "Cut", f->dir, &f->alloc, NULL), TSR_OK);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(f->counter.live, 0);
}

/* Damaged bytes anywhere: the load either succeeds or says EPARSE, and a
 * zone that loads answers for any instant.  ASan/UBSan do the watching. */
static void test_tz_survives_corrupted_bytes_in_a_real_zone_file(void **state)
{
    static const unsigned char values[] = {0x00, 0xff, 0x7f, 0x80, '\n', 'M', '9'};
    fixture *f = *state;
    tsr_tz *tz = NULL;
    size_t len = 0;
    unsigned char *data = read_system_zone("America/New_York", &len);
    unsigned char copy[65536];
    if (data == NULL)
        skip();
    for (size_t pos = 0; pos < len; pos++) {
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(copy, data, len);
            if (copy[pos] == values[v])
                continue;
            copy[pos] = values[v];
            write_file(f->dir, "Damaged", copy, len);
            int rc = tsr__tz_load(&tz, "Damaged", f->dir, &f->alloc, NULL);
            if (rc == TSR_OK) {
                (void)tsr__tz_offset(tz, INT64_MIN);
                (void)tsr__tz_offset(tz, 0);
                (void)tsr__tz_offset(tz, instant("2026-07-18T00:00:00Z"));
                (void)tsr__tz_offset(tz, instant("2100-07-01T00:00:00Z"));
                (void)tsr__tz_offset(tz, INT64_MAX);
                tsr__tz_free(tz, &f->alloc);
            } else if (rc != TSR_EPARSE) {
                fail_msg("byte %zu set to %#x: status %d", pos, values[v], rc);
            }
        }
    }
    assert_int_equal(f->counter.live, 0);
}

/* Fail allocation 1, 2, 3, ... until the load succeeds: every failure
 * must be TSR_ENOMEM with nothing leaked. */
static void test_tz_load_fails_cleanly_on_every_allocation_failure(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = NULL;
    int rc = TSR_ENOMEM;
    unsigned long n;
    for (n = 1; n < 100 && rc != TSR_OK; n++) {
        f->counter.calls = 0;
        f->counter.fail_at = n;
        rc = tsr__tz_load(&tz, "Europe/Berlin", SYSTEM_TZDIR, &f->alloc, NULL);
        if (rc != TSR_OK) {
            assert_int_equal(rc, TSR_ENOMEM);
            assert_null(tz);
            assert_int_equal(f->counter.live, 0);
        }
    }
    f->counter.fail_at = 0;
    assert_int_equal(rc, TSR_OK);
    assert_true(n > 2);   /* at least one failure was injected */
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(f->counter.live, 0);
}

int main(void)
{
    const struct CMUnitTest calendar[] = {
        cmocka_unit_test(test_civil_days_round_trip_over_every_day_of_years_1_to_9999),
        cmocka_unit_test(test_civil_days_of_known_dates_including_negative_years),
        cmocka_unit_test(test_weekday_of_known_dates),
        cmocka_unit_test(test_leap_years_follow_the_gregorian_rule),
        cmocka_unit_test(test_parse_date_accepts_real_dates_in_years_1_to_9999),
        cmocka_unit_test(test_parse_date_refuses_impossible_and_malformed_dates),
        cmocka_unit_test(test_parse_datetime_takes_offsets_and_separators),
        cmocka_unit_test(test_parse_datetime_reads_fractions_up_to_microseconds),
        cmocka_unit_test(test_parse_datetime_refuses_missing_or_bad_offsets_and_bad_times),
        cmocka_unit_test(test_format_date_writes_iso_dates_and_expanded_years),
        cmocka_unit_test(test_format_datetime_writes_the_offset_it_is_given),
        cmocka_unit_test(test_format_then_parse_datetime_round_trips),
        cmocka_unit_test(test_local_day_of_half_past_midnight_plus_three_differs_from_utc),
        cmocka_unit_test(test_local_day_floors_negative_instants),
        cmocka_unit_test(test_age_counts_whole_years),
        cmocka_unit_test(test_age_of_a_29_february_birthday_goes_up_on_1_march_in_common_years),
        cmocka_unit_test(test_birthday_within_crosses_the_year_end),
        cmocka_unit_test(test_birthday_within_keeps_29_february_on_28_february_in_common_years),
    };
    const struct CMUnitTest zones[] = {
        cmocka_unit_test_setup_teardown(test_tz_moscow_is_plus_three_since_2014_and_was_plus_four_in_2012, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_berlin_switches_exactly_at_the_2026_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_berlin_far_future_follows_the_footer_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_new_york_switches_at_the_2026_us_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_sydney_far_future_has_southern_summer_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_utc_is_zero_everywhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_right_zone_matches_posix_zone_at_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_missing_zone_is_an_unknown_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_refuses_names_that_could_leave_the_zone_directory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_load_uses_TZDIR_when_no_directory_is_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_posix_rules_fixed_offsets_and_quoted_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_posix_rule_with_month_week_day_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_posix_rule_with_julian_dates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_posix_rule_with_negative_and_over_24_hour_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_posix_rule_for_daylight_time_all_year, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_refuses_bad_footer_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_transitions_then_footer_then_type_zero_before_them, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_leap_second_records_shift_transition_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_refuses_inconsistent_hand_made_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_finds_the_right_transition_among_thousands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_refuses_garbage_huge_counts_and_oversized_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_refuses_every_truncation_of_a_real_zone_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_survives_corrupted_bytes_in_a_real_zone_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_load_fails_cleanly_on_every_allocation_failure, setup, teardown),
    };
    int failed = cmocka_run_group_tests_name("calendar", calendar, NULL, NULL);
    failed += cmocka_run_group_tests_name("time zones", zones, NULL, NULL);
    return failed;
}
