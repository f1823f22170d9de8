/*
 * test_datetime.c — unit tests for lib/datetime.c: the civil calendar,
 * ISO 8601 parsing and formatting, local days and times at an offset, ages
 * and birthday windows.  Time zones are test_tz.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"

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

/* ---------------------------------------------------------------------
 * Civil calendar.
 */
/* Days first .. last each come back through tsr__days_from_civil and
 * follow the day before on the calendar. */
static void civil_days_round_trip(int64_t first, int64_t last)
{
    int32_t py = 0;
    unsigned pm = 0, pd = 0;
    for (int64_t day = first; day <= last; day++) {
        int32_t y;
        unsigned m, d;
        tsr__civil_from_days(day, &y, &m, &d);
        if (tsr__days_from_civil(y, m, d) != day)
            fail_msg("day %lld -> %d-%u-%u does not come back", (long long)day, (int)y, m, d);
        if (day > first && !(y == py && m == pm && d == pd + 1) &&
            !(y == py && m == pm + 1 && d == 1 && pd == tsr__days_in_month(py, pm)) &&
            !(y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31))
            fail_msg("%d-%u-%u follows %d-%u-%u", (int)y, m, d, (int)py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_civil_days_round_trip_over_every_day_of_years_1_to_9999(void **state)
{
    (void)state;
    assert_true(days_of(1, 1, 1) == TSR_DATE_MIN_DAYS);
    assert_true(days_of(9999, 12, 31) == TSR_DATE_MAX_DAYS);
    civil_days_round_trip(TSR_DATE_MIN_DAYS, TSR_DATE_MAX_DAYS);
}

/* civil_from_days takes a 32-bit path from 0000-03-01 (day -719468) to
 * day 10^9 and the general one outside: the two meet without a seam. */
static void test_civil_days_agree_across_the_fast_paths_ends(void **state)
{
    (void)state;
    civil_days_round_trip(-719468 - 800, -719468 + 800);
    civil_days_round_trip(INT64_C(1000000000) - 800, INT64_C(1000000000) + 800);
    civil_days_round_trip(-146097 * 3 - 800, -146097 * 3 + 800);
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

/* The canonical forms ("YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS+HH:MM") are read by
 * fixed positions; each is held to the general parser through a spelling
 * only the general parser reads: the date inside a datetime with 'T' and
 * "Z", the datetime with 't' and an offset without its colon. */
static void test_canonical_forms_read_as_the_general_parser_reads_them(void **state)
{
    char a[40], b[40];
    int years[] = { 1, 2, 4, 99, 100, 400, 1600, 1900, 1970, 2000, 2024, 2026, 2100, 9999 };
    (void)state;
    for (size_t yi = 0; yi < sizeof years / sizeof years[0]; yi++) {
        for (unsigned m = 0; m <= 13; m++) {
            for (unsigned d = 0; d <= 32; d++) {
                int64_t fast = -1, slow = -2, u1 = -1, u2 = -2;
                int32_t o1 = -1, o2 = -2;
                int r1, r2;
                snprintf(a, sizeof a, "%04d-%02u-%02u", years[yi], m, d);
                snprintf(b, sizeof b, "%04d-%02u-%02uT00:00Z", years[yi], m, d);
                r1 = parse_d(a, &fast);
                r2 = parse_dt(b, &slow, &o2);
                assert_int_equal(r1, r2);
                if (r1 == TSR_OK) {
                    assert_true(fast * TSR_USEC_PER_DAY == slow);
                    assert_true(fast == days_of(years[yi], m, d));
                }
                /* the same date in a canonical datetime, times and offsets
                 * at and beyond their limits */
                unsigned hh = (m * 7 + d) % 26, mi = (d * 13) % 61, ss = (m * 11 + d) % 61;
                unsigned oh = (d + m) % 20, om = (m == 6 ? 1 : (d * 7) % 61);
                char sign = d % 2 ? '-' : '+';
                snprintf(a, sizeof a, "%04d-%02u-%02uT%02u:%02u:%02u%c%02u:%02u", years[yi], m, d,
                         hh, mi, ss, sign, oh, om);
                snprintf(b, sizeof b, "%04d-%02u-%02ut%02u:%02u:%02u%c%02u%02u", years[yi], m, d,
                         hh, mi, ss, sign, oh, om);
                r1 = parse_dt(a, &u1, &o1);
                r2 = parse_dt(b, &u2, &o2);
                if (r1 != r2)
                    fail_msg("\"%s\" and \"%s\" parse differently", a, b);
                if (r1 == TSR_OK)
                    assert_true(u1 == u2 && o1 == o2);
            }
        }
    }
    /* every canonical byte replaced by a letter: refused like the general parser */
    strcpy(a, "2026-07-18T00:30:00+03:00");
    for (size_t i = 0; i < strlen(a); i++) {
        int64_t u = 0;
        int32_t o = 0;
        char keep = a[i];
        a[i] = 'x';
        assert_int_equal(parse_dt(a, &u, &o), TSR_EPARSE);
        if (i < 10) {
            memcpy(b, a, 10);
            b[10] = '\0';
            assert_int_equal(parse_d(b, &u), TSR_EPARSE);
        }
        a[i] = keep;
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

/* The local day and time of an instant as floors: the general formula,
 * which the unsigned path for instants from 1970-01-02 on must agree with. */
static int64_t floor_div_ref(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

static int64_t local_days_ref(int64_t usec, int32_t off, int64_t *tod)
{
    int64_t days = floor_div_ref(usec, TSR_USEC_PER_DAY);
    int64_t rest = usec % TSR_USEC_PER_DAY;   /* the floor's remainder, in [0, a day) */
    rest += (rest < 0 ? TSR_USEC_PER_DAY : 0) + (int64_t)off * TSR_USEC_PER_SEC;
    int64_t carry = floor_div_ref(rest, TSR_USEC_PER_DAY);
    *tod = rest - carry * TSR_USEC_PER_DAY;
    return days + carry;
}

/* The local day and time of an instant (setup asks for both in one call,
 * the expressions one at a time), and its weekday, against the floors
 * above: around midnights, on negative instants, at the ends of the range,
 * at the edges of the unsigned path and at every kind of offset. */
static void test_local_day_time_agrees_with_local_days_and_time_of_day(void **state)
{
    static const int64_t at[] = {
        0, 1, -1, TSR_USEC_PER_DAY - 1, TSR_USEC_PER_DAY, TSR_USEC_PER_DAY + 1,
        -TSR_USEC_PER_DAY, INT64_MAX - TSR_USEC_PER_DAY, INT64_MAX - TSR_USEC_PER_DAY + 1,
        -TSR_USEC_PER_DAY - 1, INT64_C(1784334600000000), INT64_C(-62135596800000000),
        INT64_MIN, INT64_MIN + 1, INT64_MAX, INT64_MAX - 1,
    };
    static const int32_t off[] = { 0, 1, -1, 3600, -3600, 10800, -36000, 64800, -64800, 59,
                                   86399, -86399, 86400, -86400 };
    size_t i, j;
    int64_t k;

    (void)state;
    for (i = 0; i < sizeof at / sizeof at[0]; i++)
        for (j = 0; j < sizeof off / sizeof off[0]; j++)
            for (k = -2; k <= 2; k++) {
                int64_t u = at[i], tod = -1;
                if ((k > 0 && u > INT64_MAX - k * 3600 * TSR_USEC_PER_SEC) ||
                    (k < 0 && u < INT64_MIN - k * 3600 * TSR_USEC_PER_SEC))
                    continue;
                u += k * 3600 * TSR_USEC_PER_SEC;
                int64_t want_tod, want = local_days_ref(u, off[j], &want_tod);
                assert_true(tsr__local_day_time(u, off[j], &tod) == want);
                assert_true(tod == want_tod);
                assert_true(tsr__local_days(u, off[j]) == want);
                assert_true(tsr__local_time_of_day(u, off[j]) == want_tod);
                assert_int_equal(tsr__weekday(want),
                                 (unsigned)(((want % 7) + 7 + 3) % 7) + 1u);
            }
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

/* Did a birthday fall on `on` (the anniversary rule: 29 February kept on
 * 28 February in common years, none before the birth), from first
 * principles, as a reference for n = 0. */
static bool birthday_on(int64_t birthday, int64_t on)
{
    int32_t by, oy;
    unsigned bm, bd, om, od;
    tsr__civil_from_days(birthday, &by, &bm, &bd);
    tsr__civil_from_days(on, &oy, &om, &od);
    for (int32_t y = by; y <= oy; y++) {
        unsigned d = bm == 2 && bd == 29 && !tsr__is_leap(y) ? 28 : bd;
        if (tsr__days_from_civil(y, bm, d) == on)
            return true;
    }
    return false;
}

static void test_birthday_within_0_is_the_day_itself(void **state)
{
    int64_t b, on;
    (void)state;
    /* every third day of 1999-2001 against each day from a year before the
     * birth to four years after; 29 February 2000 over 13 years */
    for (b = days_of(1999, 1, 1); b <= days_of(2001, 12, 31); b += 3)
        for (on = b - 370; on <= b + 1500; on++)
            assert_int_equal(tsr__birthday_within(b, on, 0), birthday_on(b, on));
    b = days_of(2000, 2, 29);
    for (on = b - 800; on <= days_of(2013, 3, 5); on++)
        assert_int_equal(tsr__birthday_within(b, on, 0), birthday_on(b, on));
    /* century years (1900 and 2100 common, 2000 leap) for 29 February and
     * its neighbours, and birthdays across the start of the 32-bit path
     * (0000-03-01: the days before it take the general one) */
    for (b = days_of(1896, 2, 27); b <= days_of(1896, 3, 2); b++)
        for (on = days_of(1899, 12, 1); on <= days_of(1904, 3, 2); on++)
            assert_int_equal(tsr__birthday_within(b, on, 0), birthday_on(b, on));
    for (b = days_of(2096, 2, 27); b <= days_of(2096, 3, 2); b++)
        for (on = days_of(2099, 12, 1); on <= days_of(2101, 3, 2); on++)
            assert_int_equal(tsr__birthday_within(b, on, 0), birthday_on(b, on));
    for (b = days_of(-1, 12, 25); b <= days_of(0, 3, 5); b++)
        for (on = b - 3; on <= b + 800; on++)
            assert_int_equal(tsr__birthday_within(b, on, 0), birthday_on(b, on));
    /* the inline form the expressions call (tsr__birthday_today), on the
     * same days and past both ends of its 32-bit path */
    for (b = days_of(1999, 1, 1); b <= days_of(2001, 12, 31); b += 7)
        for (on = b - 370; on <= b + 1500; on += 3)
            assert_int_equal(tsr__birthday_today(b, on), birthday_on(b, on));
    for (b = days_of(-1, 12, 25); b <= days_of(0, 3, 5); b++)
        for (on = b - 3; on <= b + 800; on++)
            assert_int_equal(tsr__birthday_today(b, on), birthday_on(b, on));
    assert_int_equal(tsr__birthday_today(TSR_CIVIL_FAST_MAX - 365, TSR_CIVIL_FAST_MAX + 1),
                     tsr__birthday_within(TSR_CIVIL_FAST_MAX - 365, TSR_CIVIL_FAST_MAX + 1, 0));
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_days_round_trip_over_every_day_of_years_1_to_9999),
        cmocka_unit_test(test_civil_days_agree_across_the_fast_paths_ends),
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
        cmocka_unit_test(test_canonical_forms_read_as_the_general_parser_reads_them),
        cmocka_unit_test(test_local_day_of_half_past_midnight_plus_three_differs_from_utc),
        cmocka_unit_test(test_local_day_floors_negative_instants),
        cmocka_unit_test(test_local_day_time_agrees_with_local_days_and_time_of_day),
        cmocka_unit_test(test_age_counts_whole_years),
        cmocka_unit_test(test_age_of_a_29_february_birthday_goes_up_on_1_march_in_common_years),
        cmocka_unit_test(test_birthday_within_crosses_the_year_end),
        cmocka_unit_test(test_birthday_within_keeps_29_february_on_28_february_in_common_years),
        cmocka_unit_test(test_birthday_within_0_is_the_day_itself),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
