/*
 * datetime.h — calendar dates, instants with offsets, durations, and the
 * local day and time of an instant at an offset (datetime.c).  Time zones,
 * which give that offset, are tz.h.
 *
 *   date      int64_t days since 1970-01-01 (proleptic Gregorian)
 *   datetime  int64_t microseconds since 1970-01-01T00:00:00Z (the instant)
 *             plus int32_t offset in seconds east of UTC (as written)
 *   duration  int64_t microseconds
 */
#ifndef TSR_DATETIME_H
#define TSR_DATETIME_H

#include "internal.h"

#define TSR_USEC_PER_SEC INT64_C(1000000)
#define TSR_USEC_PER_DAY INT64_C(86400000000)
/* Day numbers of 0001-01-01 and 9999-12-31: the dates the parsers accept.
 * Date arithmetic that leaves this range should be an evaluation error. */
#define TSR_DATE_MIN_DAYS INT64_C(-719162)
#define TSR_DATE_MAX_DAYS INT64_C(2932896)

/* Civil calendar <-> day numbers (Howard Hinnant's algorithms).  Years are
 * limited to 1..9999 by the parsers; these functions work on any int32 year. */
int64_t tsr__days_from_civil(int32_t y, unsigned m, unsigned d);
void tsr__civil_from_days(int64_t days, int32_t *y, unsigned *m, unsigned *d);
bool tsr__is_leap(int32_t y);
unsigned tsr__days_in_month(int32_t y, unsigned m);
/* Floor division and its remainder by b > 0 (the remainder in [0, b)).
 * Inline with the calendar helpers below: an evaluation asks for the local
 * day, time and weekday of `now` several times, and a call cost more than
 * the arithmetic. */
static inline int64_t tsr__floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static inline int64_t tsr__floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* 1 = Monday ... 7 = Sunday. */
static inline unsigned tsr__weekday(int64_t days)
{
    /* Day 0, 1970-01-01, was a Thursday (4); from then on the remainder
     * needs no sign fix and the division is unsigned (cheaper). */
    if (TSR_LIKELY(days >= 0 && days <= INT64_MAX - 3))
        return (unsigned)(((uint64_t)days + 3u) % 7u) + 1u;
    return (unsigned)((tsr__floor_mod(days, 7) + 3) % 7) + 1u;
}

/* Parse "YYYY-MM-DD" exactly (the whole of s[0..n)).  TSR_OK or TSR_EPARSE. */
int tsr__parse_date(const char *s, size_t n, int64_t *days);
/* Parse ISO 8601 "YYYY-MM-DDTHH:MM[:SS[.fraction]](Z|+HH:MM|-HH:MM)"; 't' and
 * ' ' are accepted for 'T', 'z' for 'Z'.  The offset is required.  Fractions
 * beyond microseconds are refused.  TSR_OK or TSR_EPARSE. */
int tsr__parse_datetime(const char *s, size_t n, int64_t *usec, int32_t *offset);
/* "YYYY-MM-DD"; returns length (10 for years 0..9999; other years are
 * written "+YYYYY-MM-DD" / "-YYYY-MM-DD", clamped to +-999999).  buf: 16 bytes. */
size_t tsr__format_date(char *buf, int64_t days);
/* "YYYY-MM-DDTHH:MM:SS[.ffffff](Z|+HH:MM)" at the given offset (".ffffff"
 * only when non-zero; an offset with seconds, as local mean time has, is
 * written +HH:MM:SS).  buf: 40 bytes. */
size_t tsr__format_datetime(char *buf, int64_t usec, int32_t offset);

/* Whole years from `birthday` to `on` (age); negative if on < birthday.  A
 * 29 February birthday counts on 1 March in common years (see datetime.c). */
int64_t tsr__age(int64_t birthday, int64_t on);
/* True when an anniversary of `birthday` falls within [on - n, on + n] days,
 * across year ends; a 29 February birthday is celebrated on 28 February in
 * common years.  n >= 0. */
bool tsr__birthday_within(int64_t birthday, int64_t on, int64_t n);

/* The days from 0000-03-01 (day -719468) to TSR_CIVIL_FAST_MAX take the
 * 32-bit path of the calendar conversions: 4 * (days + 719468) + 3 stays
 * below 2^32. */
#define TSR_CIVIL_FAST_MIN INT64_C(-719468)
#define TSR_CIVIL_FAST_MAX INT64_C(1000000000)

/* The year and the day of the year of the 1 March-based calendar, for days
 * in [TSR_CIVIL_FAST_MIN, TSR_CIVIL_FAST_MAX]: a month and day are a day of
 * that year, the same in every year; 29 February, the last day of a leap
 * year, is day 365 and 28 February day 364 in every year. */
static inline void tsr__march_year_day(int64_t days, uint32_t *year, uint32_t *yday)
{
    uint32_t n1 = 4 * (uint32_t)(days - TSR_CIVIL_FAST_MIN) + 3;
    uint32_t nc = n1 % 146097 / 4;
    uint64_t p2 = UINT64_C(2939745) * (4 * nc + 3);

    *year = 100 * (n1 / 146097) + (uint32_t)(p2 >> 32);
    *yday = (uint32_t)p2 / 2939745 / 4;
}

/* tsr__birthday_within(birthday, on, 0), inline for the days of the 32-bit
 * path (every date a customer record holds): on the same month and day (29
 * February kept on 28 February in common years), not before the year of
 * birth, without the months and days; other days ask tsr__birthday_within. */
static inline bool tsr__birthday_today(int64_t birthday, int64_t on)
{
    uint32_t by, bday, oy, oday;

    if (TSR_UNLIKELY(birthday < TSR_CIVIL_FAST_MIN || birthday > TSR_CIVIL_FAST_MAX ||
                     on < TSR_CIVIL_FAST_MIN || on > TSR_CIVIL_FAST_MAX))
        return tsr__birthday_within(birthday, on, 0);
    tsr__march_year_day(birthday, &by, &bday);
    tsr__march_year_day(on, &oy, &oday);
    by += bday >= 306;   /* January and February: the civil year is the next */
    oy += oday >= 306;
    if (oy < by)
        return false;
    return oday == bday || (bday == 365 && oday == 364 && !tsr__is_leap((int32_t)oy));
}

/* The local calendar day of an instant, and in *tod the microseconds since
 * local midnight.  Split into whole days and a remainder before adding the
 * offset, so no intermediate can overflow whatever usec is. */
static inline int64_t tsr__local_day_time(int64_t usec, int32_t offset, int64_t *tod)
{
    /* Instants from 1970-01-02 on (where the local instant is not negative
     * at any offset under a day): one unsigned division gives both. */
    if (TSR_LIKELY(usec >= TSR_USEC_PER_DAY && usec <= INT64_MAX - TSR_USEC_PER_DAY &&
                   offset > -86400 && offset < 86400)) {
        uint64_t local = (uint64_t)(usec + (int64_t)offset * TSR_USEC_PER_SEC);
        *tod = (int64_t)(local % (uint64_t)TSR_USEC_PER_DAY);
        return (int64_t)(local / (uint64_t)TSR_USEC_PER_DAY);
    }
    int64_t days = tsr__floor_div(usec, TSR_USEC_PER_DAY);
    int64_t rest = tsr__floor_mod(usec, TSR_USEC_PER_DAY) + (int64_t)offset * TSR_USEC_PER_SEC;
    int64_t carry = tsr__floor_div(rest, TSR_USEC_PER_DAY);
    *tod = rest - carry * TSR_USEC_PER_DAY;
    return days + carry;
}

static inline int64_t tsr__local_days(int64_t usec, int32_t offset)
{
    int64_t tod;
    return tsr__local_day_time(usec, offset, &tod);
}

static inline int64_t tsr__local_time_of_day(int64_t usec, int32_t offset)
{
    int64_t tod;
    (void)tsr__local_day_time(usec, offset, &tod);
    return tod;
}

#endif /* TSR_DATETIME_H */
