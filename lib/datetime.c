/*
 * datetime.c — the calendar: civil dates <-> day numbers, weekdays, strict
 * ISO 8601 parsing and formatting of dates and datetimes, local days and
 * times of an instant at an offset, ages and birthday windows.  Time zones
 * (TZif files) live in tz.c.  No floating point, no libc time functions:
 * the results must not depend on the process's TZ or locale.
 */
#include "datetime.h"

#include <stdio.h>

#define SEC_PER_DAY INT64_C(86400)
/* Offsets the parser accepts: ISO 8601 / RFC 3339 in practice stop at
 * +-18:00 (java.time draws the same line). */
#define MAX_OFFSET_SEC (18 * 3600)

/* The day numbers of int32 years' ends, so that civil_from_days never
 * overflows on absurd input (see tsr__civil_from_days). */
#define DAYS_MIN INT64_C(-784353015833)   /* -2147483648-01-01 */
#define DAYS_MAX INT64_C(784351576776)    /*  2147483647-12-31 */

/* ---------------------------------------------------------------------
 * Civil calendar.  Howard Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms": eras of 400 years (146097 days) starting on 1 March, so
 * that the leap day is the last day of the shifted year.
 */
int64_t tsr__days_from_civil(int32_t year, unsigned m, unsigned d)
{
    int64_t y = (int64_t)year - (m <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                          /* [0, 399] */
    int64_t doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                 /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

/* The days of the 32-bit path of tsr__civil_from_days (datetime.h). */
#define FAST_MIN TSR_CIVIL_FAST_MIN
#define FAST_MAX TSR_CIVIL_FAST_MAX

/* tsr__civil_from_days, inlined where a caller converts two dates at once
 * (ages, birthdays), so the two conversions interleave without calls. */
static inline void civil_of(int64_t days, int32_t *year, unsigned *m, unsigned *d)
{
    if (TSR_LIKELY(days >= FAST_MIN && days <= FAST_MAX)) {
        /* Cassio Neri and Lorenz Schneider, "Euclidean affine functions and
         * their application to calendar algorithms" (2022): the same
         * 1 March-based computational calendar, with the divisions by
         * constants as 32-bit multiply-and-shift.  The years 1 to 9999 of
         * every date the library reads lie well inside. */
        uint32_t n = (uint32_t)(days - FAST_MIN);            /* days since 0000-03-01 */
        uint32_t n1 = 4 * n + 3;
        uint32_t c = n1 / 146097;                            /* centuries */
        uint32_t nc = n1 % 146097 / 4;                       /* day of the century */
        uint64_t p2 = UINT64_C(2939745) * (4 * nc + 3);
        uint32_t z = (uint32_t)(p2 >> 32);                   /* year of the century */
        uint32_t ny = (uint32_t)p2 / 2939745 / 4;            /* day of the year, from 1 March */
        uint32_t n3 = 2141 * ny + 197913;
        uint32_t mm = n3 >> 16, dd = (n3 & 0xFFFF) / 2141;
        bool jan_feb = ny >= 306;
        *year = (int32_t)(100 * c + z + jan_feb);
        *m = jan_feb ? mm - 12 : mm;
        *d = dd + 1;
        return;
    }
    /* Clamped to the int32 years; parsers and callers stay far inside. */
    int64_t z = (days < DAYS_MIN ? DAYS_MIN : days > DAYS_MAX ? DAYS_MAX : days) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                       /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                     /* [0, 11] */
    unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = month;
    *year = (int32_t)(yoe + era * 400 + (month <= 2));
}

void tsr__civil_from_days(int64_t days, int32_t *year, unsigned *m, unsigned *d)
{
    civil_of(days, year, m, d);
}

bool tsr__is_leap(int32_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

unsigned tsr__days_in_month(int32_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12)
        return 0;
    return m == 2 && tsr__is_leap(y) ? 29u : dim[m - 1];
}

/* ---------------------------------------------------------------------
 * Parsing.  Every field has a fixed width; nothing is skipped or guessed.
 */

/* The two digits at s as a number, or -1 when either is not a digit. */
static inline int two_digits(const char *s)
{
    unsigned a = (unsigned)(unsigned char)s[0] - '0', b = (unsigned)(unsigned char)s[1] - '0';
    return a < 10 && b < 10 ? (int)(a * 10 + b) : -1;
}

/* The canonical forms by fixed positions: "YYYY-MM-DD" at s (10 bytes),
 * and the time "HH:MM:SS" and offset "±HH:MM" of a datetime, each taken
 * only when it is that form with values in range; anything else, valid or
 * not, is left to the general parser, which then answers as it always
 * did.  The days are Hinnant's days_from_civil for a year in
 * 1..9999, unsigned, so its divisions are by constants only. */
static inline unsigned digit(const char *s, size_t i)
{
    return (unsigned)(unsigned char)s[i] - '0';
}

static inline bool fixed_date(const char *s, int64_t *days)
{
    static const unsigned char dim[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    unsigned y0 = digit(s, 0), y1 = digit(s, 1), y2 = digit(s, 2), y3 = digit(s, 3);
    unsigned m0 = digit(s, 5), m1 = digit(s, 6), d0 = digit(s, 8), d1 = digit(s, 9);
    unsigned y, m, d, yy, era, yoe, doy;

    if (s[4] != '-' || s[7] != '-' || y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 ||
        m1 > 9 || d0 > 9 || d1 > 9)
        return false;
    y = ((y0 * 10 + y1) * 10 + y2) * 10 + y3;
    m = m0 * 10 + m1;
    d = d0 * 10 + d1;
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > dim[m] ||
        (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
        return false;
    yy = y - (m <= 2);
    era = yy / 400;
    yoe = yy - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    *days = (int64_t)era * 146097 + (int64_t)(yoe * 365 + yoe / 4 - yoe / 100 + doy) - 719468;
    return true;
}

/* "YYYY-MM-DD" at s[*pos], a real calendar date in 0001..9999. */
static inline bool take_date(const char *s, size_t n, size_t *pos, int64_t *days)
{
    if (n - *pos < 10 || !fixed_date(s + *pos, days))
        return false;
    *pos += 10;
    return true;
}

int tsr__parse_date(const char *s, size_t n, int64_t *days)
{
    return s != NULL && n == 10 && fixed_date(s, days) ? TSR_OK : TSR_EPARSE;
}

/* Z, z, +HH:MM, -HH:MM, +HHMM, -HHMM; at most 18:00 either way. */
static bool take_offset(const char *s, size_t n, size_t *pos, int32_t *offset)
{
    size_t i = *pos;
    int hh, mm, sign;

    if (i >= n)
        return false;
    if (s[i] == 'Z' || s[i] == 'z') {
        *offset = 0;
        *pos = i + 1;
        return true;
    }
    if (s[i] != '+' && s[i] != '-')
        return false;
    sign = s[i++] == '+' ? 1 : -1;
    if (n - i < 2 || (hh = two_digits(s + i)) < 0)
        return false;
    i += 2;
    if (i < n && s[i] == ':')   /* optional: +0300 is common in logs and APIs */
        i++;
    if (n - i < 2 || (mm = two_digits(s + i)) < 0)
        return false;
    i += 2;
    if (mm > 59 || (unsigned)hh * 3600u + (unsigned)mm * 60u > MAX_OFFSET_SEC)
        return false;
    *offset = sign * (int32_t)(hh * 3600 + mm * 60);
    *pos = i;
    return true;
}

int tsr__parse_datetime(const char *s, size_t n, int64_t *usec, int32_t *offset)
{
    size_t i = 0;
    int64_t days, frac = 0;
    int hh, mm, ss = 0;
    int32_t off;

    /* "YYYY-MM-DDTHH:MM:SS+HH:MM" (or -HH:MM), as orders and APIs write it */
    if (s != NULL && n == 25 && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
        (s[19] == '+' || s[19] == '-') && s[22] == ':' && fixed_date(s, &days)) {
        unsigned h0 = digit(s, 11), h1 = digit(s, 12), m0 = digit(s, 14), m1 = digit(s, 15);
        unsigned s0 = digit(s, 17), s1 = digit(s, 18), oh0 = digit(s, 20), oh1 = digit(s, 21);
        unsigned om0 = digit(s, 23), om1 = digit(s, 24), h, m, sec, oh, om;

        if (h0 <= 2 && h1 <= 9 && m0 <= 5 && m1 <= 9 && s0 <= 5 && s1 <= 9 && oh0 <= 1 &&
            oh1 <= 9 && om0 <= 5 && om1 <= 9) {
            h = h0 * 10 + h1;
            m = m0 * 10 + m1;
            sec = s0 * 10 + s1;
            oh = oh0 * 10 + oh1;
            om = om0 * 10 + om1;
            if (h <= 23 && oh * 3600 + om * 60 <= MAX_OFFSET_SEC) {
                off = (int32_t)(oh * 3600 + om * 60);
                if (s[19] == '-')
                    off = -off;
                *usec = (days * SEC_PER_DAY + (int64_t)(h * 3600 + m * 60 + sec) - off) *
                        TSR_USEC_PER_SEC;
                *offset = off;
                return TSR_OK;
            }
        }
    }
    if (s == NULL || !take_date(s, n, &i, &days))
        return TSR_EPARSE;
    /* "THH:MM" ('t' or a space for 'T') */
    if (n - i < 6 || (s[i] != 'T' && s[i] != 't' && s[i] != ' ') || s[i + 3] != ':' ||
        (hh = two_digits(s + i + 1)) < 0 || (mm = two_digits(s + i + 4)) < 0)
        return TSR_EPARSE;
    i += 6;
    if (i < n && s[i] == ':') {
        if (n - i < 3 || (ss = two_digits(s + i + 1)) < 0)
            return TSR_EPARSE;
        i += 3;
        if (i < n && s[i] == '.') {
            /* 1 to 6 digits, scaled to microseconds; a 7th digit would be
             * silently lost, so it is refused. */
            unsigned width = 0;
            i++;
            while (i < n && s[i] >= '0' && s[i] <= '9') {
                if (++width > 6)
                    return TSR_EPARSE;
                frac = frac * 10 + (s[i++] - '0');
            }
            if (width == 0)
                return TSR_EPARSE;
            for (; width < 6; width++)
                frac *= 10;
        }
    }
    /* No leap second (:60): a pricing engine has no use for it, and the
     * instant it names is not representable in POSIX time anyway. */
    if (hh > 23 || mm > 59 || ss > 59)
        return TSR_EPARSE;
    if (!take_offset(s, n, &i, &off) || i != n)
        return TSR_EPARSE;
    *usec = ((days * SEC_PER_DAY + (int64_t)hh * 3600 + (int64_t)mm * 60 + ss) - off) *
                TSR_USEC_PER_SEC + frac;
    *offset = off;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Formatting.
 */

/* Years 0000..9999 as four digits; others with a sign and at least four
 * digits (ISO 8601 expanded form).  Only date arithmetic gone far out of
 * range reaches the latter: the parsers stop at 0001..9999. */
static size_t put_date(char *buf, int64_t days)
{
    int32_t y;
    unsigned m, d;
    tsr__civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999) {
        /* "%04d-%02u-%02u" by hand: result JSON writes a date per points
         * entry, and snprintf costs more than everything else there. */
        buf[0] = (char)('0' + y / 1000);
        buf[1] = (char)('0' + y / 100 % 10);
        buf[2] = (char)('0' + y / 10 % 10);
        buf[3] = (char)('0' + y % 10);
        buf[4] = '-';
        buf[5] = (char)('0' + m / 10);
        buf[6] = (char)('0' + m % 10);
        buf[7] = '-';
        buf[8] = (char)('0' + d / 10);
        buf[9] = (char)('0' + d % 10);
        buf[10] = '\0';
        return 10;
    }
    return (size_t)snprintf(buf, 16, "%+05d-%02u-%02u", (int)y, m, d);
}

size_t tsr__format_date(char *buf, int64_t days)
{
    /* Clamped to a year of at most 7 digits, so the text fits 16 bytes. */
    const int64_t lo = INT64_C(-365961662), hi = INT64_C(364522971);   /* -999999-01-01, 999999-12-31 */
    return put_date(buf, days < lo ? lo : days > hi ? hi : days);
}

size_t tsr__format_datetime(char *buf, int64_t usec, int32_t offset)
{
    int64_t days = tsr__local_days(usec, offset);
    int64_t tod = tsr__local_time_of_day(usec, offset);
    int64_t sec = tod / TSR_USEC_PER_SEC, frac = tod % TSR_USEC_PER_SEC;
    size_t len = tsr__format_date(buf, days);

    len += (size_t)snprintf(buf + len, 40 - len, "T%02d:%02d:%02d", (int)(sec / 3600),
                            (int)(sec / 60 % 60), (int)(sec % 60));
    if (frac != 0)
        len += (size_t)snprintf(buf + len, 40 - len, ".%06d", (int)frac);
    if (offset == 0) {
        buf[len++] = 'Z';
        buf[len] = '\0';
    } else {
        /* int64: the magnitude of INT32_MIN does not fit an int32. */
        int64_t a = offset < 0 ? -(int64_t)offset : offset;
        len += (size_t)snprintf(buf + len, 40 - len, "%c%02d:%02d", offset < 0 ? '-' : '+',
                                (int)(a / 3600 % 100), (int)(a / 60 % 60));
        /* Historical zone offsets (local mean time) can have seconds: keep
         * them, or the text would name another instant. */
        if (a % 60 != 0)
            len += (size_t)snprintf(buf + len, 40 - len, ":%02d", (int)(a % 60));
    }
    return len;
}

/* ---------------------------------------------------------------------
 * Birthdays.
 */

/* The date a birthday of (month, day) is kept in `year`: 29 February
 * falls back to 28 February in common years. */
static int64_t anniversary(int32_t year, unsigned m, unsigned d)
{
    if (m == 2 && d == 29 && !tsr__is_leap(year))
        d = 28;
    return tsr__days_from_civil(year, m, d);
}

/*
 * Whole years: the age goes up on the birthday's month and day.  Someone
 * born on 29 February is a year older on 1 March in common years, not on
 * 28 February: until the end of 28 February the year since the last
 * birthday is not complete, so an age limit (an adult ticket from 18, a
 * senior fare from 65) is never granted a day early.  Jurisdictions differ
 * here; this choice is the conservative one, and it makes the result
 * depend only on (month, day) comparisons.  (tsr__birthday_within
 * celebrates such a birthday on 28 February instead: a treat a day early
 * is harmless, none at all in three years of four is not.)
 *
 * The result is a floor, so it is negative for every `on` before the
 * birthday and `age >= 18` never holds by accident.
 */
int64_t tsr__age(int64_t birthday, int64_t on)
{
    int32_t by, oy;
    unsigned bm, bd, om, od;
    civil_of(birthday, &by, &bm, &bd);
    civil_of(on, &oy, &om, &od);
    int64_t years = (int64_t)oy - by;
    if (om < bm || (om == bm && od < bd))
        years--;
    return years;
}

/*
 * Anniversaries are looked for in the years before, of and after `on`,
 * which covers every window that crosses a year end (a window wider than
 * half a year always contains one of them anyway).  Anniversaries before
 * the birth itself do not count: nobody has a birthday before being born.
 */
bool tsr__birthday_within(int64_t birthday, int64_t on, int64_t n)
{
    int32_t by, oy;
    unsigned bm, bd, om, od;

    if (n < 0)
        return false;
    if (n == 0 && birthday >= FAST_MIN && birthday <= FAST_MAX && on >= FAST_MIN &&
        on <= FAST_MAX)
        return tsr__birthday_today(birthday, on);
    civil_of(birthday, &by, &bm, &bd);
    civil_of(on, &oy, &om, &od);
    if (n == 0) {
        /* on the day itself (the usual question): only the anniversary in
         * on's own year can be that day; compare month and day */
        if (oy < by)
            return false;
        if (bm == 2 && bd == 29 && !tsr__is_leap(oy))
            bd = 28;
        return om == bm && od == bd;
    }
    for (int64_t y = (int64_t)oy - 1; y <= (int64_t)oy + 1; y++) {
        if (y < by || y > INT32_MAX)
            continue;
        int64_t day = anniversary((int32_t)y, bm, bd);
        int64_t dist = day > on ? day - on : on - day;
        if (dist <= n)
            return true;
    }
    return false;
}
