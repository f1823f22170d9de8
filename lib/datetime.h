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
/* 1 = Monday ... 7 = Sunday. */
unsigned tsr__weekday(int64_t days);

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

/* Local calendar day and microseconds since local midnight of an instant. */
int64_t tsr__local_days(int64_t usec, int32_t offset);
int64_t tsr__local_time_of_day(int64_t usec, int32_t offset);

#endif /* TSR_DATETIME_H */
