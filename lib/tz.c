/*
 * tz.c — time zones: loading a zone from the system tz database (TZif
 * files, RFC 8536, versions 1 to 4), the POSIX TZ rule in the file's footer
 * for instants after the last transition, and the offset in effect at an
 * instant.  Nothing here reads TZ or calls localtime/tzset: a zone is a
 * plain immutable object, so threads may share it and the process's own
 * time zone never leaks into a price.
 *
 * A TZif file is input from outside the library (TZDIR may point anywhere),
 * so every count in it is checked against the bytes actually read before
 * anything is indexed, and the file is refused rather than guessed at.
 */
#include "datetime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_TZDIR "/usr/share/zoneinfo"
/* The largest real zone files are under 4 KiB ("fat" ones under 8 KiB);
 * anything much bigger is not a zone. */
#define MAX_TZIF_SIZE ((size_t)512 * 1024)
#define MAX_NAME_LEN 255
#define HEADER_SIZE 44
/* RFC 8536 §3.2: utoff SHOULD be in [-89999, 93599] (-24:59:59..+25:59:59). */
#define MIN_UTOFF (-89999)
#define MAX_UTOFF 93599
/* RFC 8536 §3.3.1 lets a rule's transition time range over -167..167 hours. */
#define MAX_RULE_HOURS 167
#define SEC_PER_DAY INT64_C(86400)

/* When a transition happens, in a POSIX TZ rule. */
typedef struct rule_date {
    char kind;         /* 'J': Jn, 1..365 without 29 Feb; 'D': n, 0..365; 'M': Mm.w.d */
    unsigned n;        /* J and D */
    unsigned month;    /* M: 1..12 */
    unsigned week;     /* M: 1..5, 5 = the last */
    unsigned wday;     /* M: 0 = Sunday .. 6 */
    int32_t time;      /* seconds after local midnight, may be negative or past 24 h */
} rule_date;

typedef struct posix_rule {
    int32_t std_offset;   /* seconds east of UTC */
    int32_t dst_offset;
    bool has_dst;
    rule_date start;      /* in standard local time */
    rule_date end;        /* in daylight local time */
} posix_rule;

struct tsr_tz {
    size_t size;            /* bytes of this allocation, for tsr__free */
    size_t count;           /* transitions */
    const int64_t *at;      /* seconds since the epoch (POSIX, UTC), strictly ascending */
    const int32_t *offset;  /* offset in effect from at[i] until at[i + 1] */
    int32_t first_offset;   /* before at[0]: time type 0 (RFC 8536 §3.2) */
    bool has_rule;          /* the footer rule, for instants after the last transition */
    posix_rule rule;
};

static int64_t floor_div(int64_t a, int64_t b)   /* b > 0 */
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/* ---------------------------------------------------------------------
 * POSIX TZ strings, as TZif footers use them (RFC 8536 §3.3), e.g.
 * "MSK-3", "<+03>-3", "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,0/0,J365/25".
 */
typedef struct cursor {
    const char *s;
    size_t n, pos;
} cursor;

static int peek(const cursor *c)
{
    return c->pos < c->n ? (unsigned char)c->s[c->pos] : -1;
}

static bool eat(cursor *c, char ch)
{
    if (peek(c) == (unsigned char)ch) {
        c->pos++;
        return true;
    }
    return false;
}

static bool is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* 1 to `max_digits` digits, value <= max. */
static bool number(cursor *c, unsigned max_digits, unsigned max, unsigned *out)
{
    unsigned v = 0, k = 0;
    while (k < max_digits && is_digit(peek(c))) {
        v = v * 10u + (unsigned)(peek(c) - '0');
        c->pos++;
        k++;
    }
    if (k == 0 || v > max || is_digit(peek(c)))
        return false;
    *out = v;
    return true;
}

/* A zone abbreviation: three or more letters, or <...> quoting letters,
 * digits, '+' and '-' (for numeric names like <+03>).  The text itself is
 * not kept: offsets are all this library needs. */
static bool zone_name(cursor *c)
{
    size_t len = 0;
    if (eat(c, '<')) {
        while (is_alpha(peek(c)) || is_digit(peek(c)) || peek(c) == '+' || peek(c) == '-') {
            c->pos++;
            len++;
        }
        return len >= 3 && eat(c, '>');
    }
    while (is_alpha(peek(c))) {
        c->pos++;
        len++;
    }
    return len >= 3;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours, in seconds. */
static bool hms(cursor *c, unsigned max_hours, int32_t *out)
{
    unsigned h, m = 0, s = 0;
    int32_t sign = 1;
    if (eat(c, '-'))
        sign = -1;
    else
        (void)eat(c, '+');
    if (!number(c, 3, max_hours, &h))
        return false;
    if (eat(c, ':')) {
        if (!number(c, 2, 59, &m))
            return false;
        if (eat(c, ':') && !number(c, 2, 59, &s))
            return false;
    }
    *out = sign * (int32_t)(h * 3600u + m * 60u + s);
    return true;
}

/* POSIX offsets count hours west of Greenwich ("MSK-3" is UTC+3). */
static bool posix_offset(cursor *c, int32_t *east)
{
    int32_t west;
    if (!hms(c, 24, &west))
        return false;
    *east = -west;
    return true;
}

static bool rule_when(cursor *c, rule_date *d)
{
    if (eat(c, 'J')) {
        d->kind = 'J';
        if (!number(c, 3, 365, &d->n) || d->n < 1)
            return false;
    } else if (eat(c, 'M')) {
        d->kind = 'M';
        if (!number(c, 2, 12, &d->month) || d->month < 1 || !eat(c, '.') ||
            !number(c, 1, 5, &d->week) || d->week < 1 || !eat(c, '.') ||
            !number(c, 1, 6, &d->wday))
            return false;
    } else {
        d->kind = 'D';
        if (!number(c, 3, 365, &d->n))
            return false;
    }
    d->time = 2 * 3600;   /* POSIX default: 02:00:00 */
    if (eat(c, '/'))
        return hms(c, MAX_RULE_HOURS, &d->time);
    return true;
}

static bool parse_posix_rule(const char *s, size_t n, posix_rule *r)
{
    cursor c = {s, n, 0};
    memset(r, 0, sizeof *r);
    if (!zone_name(&c) || !posix_offset(&c, &r->std_offset))
        return false;
    r->dst_offset = r->std_offset;
    if (c.pos == n)
        return true;   /* no daylight saving time */
    if (!zone_name(&c))
        return false;
    r->has_dst = true;
    r->dst_offset = r->std_offset + 3600;   /* POSIX default: one hour ahead */
    if (peek(&c) != ',' && !posix_offset(&c, &r->dst_offset))
        return false;
    /* A DST name without rules leaves the dates to the implementation
     * (glibc guesses US rules); zic never writes that, so refuse it. */
    if (!eat(&c, ',') || !rule_when(&c, &r->start) || !eat(&c, ',') ||
        !rule_when(&c, &r->end))
        return false;
    return c.pos == n;
}

/* The day of a rule date in `year`. */
static int64_t rule_day(const rule_date *d, int64_t year)
{
    int32_t y = (int32_t)year;
    int64_t jan1 = tsr__days_from_civil(y, 1, 1);
    if (d->kind == 'J')   /* J60 is 1 March, leap year or not */
        return jan1 + (int64_t)d->n - 1 + (tsr__is_leap(y) && d->n >= 60 ? 1 : 0);
    if (d->kind == 'D')
        return jan1 + (int64_t)d->n;
    int64_t first = tsr__days_from_civil(y, d->month, 1);
    unsigned first_wday = tsr__weekday(first) % 7u;   /* 0 = Sunday, as POSIX counts */
    unsigned day = 1u + (d->wday + 7u - first_wday) % 7u + 7u * (d->week - 1u);
    unsigned dim = tsr__days_in_month(y, d->month);
    while (day > dim)   /* week 5 means the last such weekday */
        day -= 7u;
    return first + (int64_t)day - 1;
}

/*
 * The offset the rule gives at UTC second t.  Rather than decide which
 * side of two dates t lies in one year (which breaks when a transition
 * time past 24 h or below 0 pushes a transition into a neighbouring year),
 * take every transition of the years before, of and after t's and keep
 * the latest one at or before t.  On a tie the switch to DST wins: that is
 * how "DST all year" is written (RFC 8536 §3.3.1: EST5EDT,0/0,J365/25 ends
 * one year at the very instant it starts the next).
 */
static int32_t rule_offset(const posix_rule *r, int64_t t)
{
    int32_t y;
    unsigned m, d;
    int64_t best = 0;
    bool found = false, best_dst = false;

    if (!r->has_dst)
        return r->std_offset;
    tsr__civil_from_days(floor_div(t + r->std_offset, SEC_PER_DAY), &y, &m, &d);
    for (int64_t year = (int64_t)y - 1; year <= (int64_t)y + 1; year++) {
        int64_t start = rule_day(&r->start, year) * SEC_PER_DAY + r->start.time - r->std_offset;
        int64_t end = rule_day(&r->end, year) * SEC_PER_DAY + r->end.time - r->dst_offset;
        if (end <= t && (!found || end > best)) {
            best = end;
            best_dst = false;
            found = true;
        }
        if (start <= t && (!found || start >= best)) {
            best = start;
            best_dst = true;
            found = true;
        }
    }
    return found && best_dst ? r->dst_offset : r->std_offset;
}

/* ---------------------------------------------------------------------
 * TZif.
 */
typedef struct tzif_header {
    unsigned char version;   /* 0, '2', '3' or '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Two's complement without relying on implementation-defined conversions. */
static int64_t be_signed(const unsigned char *p, unsigned size)
{
    uint64_t u = 0;
    for (unsigned k = 0; k < size; k++)
        u = u << 8 | p[k];
    if (size == 4)
        return (u & 0x80000000u) ? (int64_t)u - INT64_C(0x100000000) : (int64_t)u;
    return (u >> 63) ? -(int64_t)(~u) - 1 : (int64_t)u;
}

static bool read_header(const unsigned char *p, tzif_header *h)
{
    if (memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = p[4];
    if (h->version != 0 && (h->version < '2' || h->version > '4'))
        return false;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return true;
}

/* Bytes of the data block after a header whose times take `tsize` bytes.
 * In 64 bits: 2^32 - 1 of everything is still far below overflow. */
static uint64_t block_size(const tzif_header *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1u) + (uint64_t)h->typecnt * 6u + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4u) + h->isstdcnt + h->isutcnt;
}

/* "right/" zones count leap seconds in their transition times; POSIX time,
 * which the library uses, does not.  Each transition time is corrected by
 * the leap-second correction in effect at it.  Both lists are ascending, so
 * one forward walk over the leap records serves all transitions. */
typedef struct leap_walk {
    const unsigned char *rec;   /* the leap records */
    uint32_t count, next;
    unsigned tsize;
    int64_t corr;               /* correction in effect before rec[next] */
} leap_walk;

static int64_t leap_correction(leap_walk *w, int64_t t)
{
    while (w->next < w->count) {
        const unsigned char *rec = w->rec + (size_t)w->next * (w->tsize + 4u);
        if (be_signed(rec, w->tsize) > t)
            break;
        w->corr = be_signed(rec + w->tsize, 4);
        w->next++;
    }
    return w->corr;
}

static int bad_file(tsr_error *err, const char *name, const char *why)
{
    return tsr__err(err, TSR_EPARSE, "time zone \"%s\": not a valid TZif file (%s)", name, why);
}

static int parse_tzif(tsr_tz **out, const unsigned char *p, size_t n, const char *name,
                      const tsr_alloc *alloc, tsr_error *err)
{
    tzif_header h1, h;
    size_t data;
    unsigned tsize;
    posix_rule rule;
    bool has_rule = false;

    if (n < HEADER_SIZE || !read_header(p, &h1))
        return bad_file(err, name, "bad header");
    if (block_size(&h1, 4) > n - HEADER_SIZE)
        return bad_file(err, name, "truncated");
    if (h1.version == 0) {
        h = h1;
        data = HEADER_SIZE;
        tsize = 4;
    } else {
        /* Version 2+: skip the 32-bit data for the 64-bit copy that follows. */
        size_t second = HEADER_SIZE + (size_t)block_size(&h1, 4);
        if (n - second < HEADER_SIZE || !read_header(p + second, &h) || h.version < '2')
            return bad_file(err, name, "bad second header");
        data = second + HEADER_SIZE;
        tsize = 8;
        if (block_size(&h, 8) > n - data)
            return bad_file(err, name, "truncated");
    }
    if (h.typecnt == 0 || h.typecnt > 256 || h.charcnt == 0 ||
        (h.isstdcnt != 0 && h.isstdcnt != h.typecnt) ||
        (h.isutcnt != 0 && h.isutcnt != h.typecnt))
        return bad_file(err, name, "inconsistent counts");

    const unsigned char *times = p + data;
    const unsigned char *idx = times + (size_t)h.timecnt * tsize;
    const unsigned char *types = idx + h.timecnt;
    const unsigned char *leaps = types + (size_t)h.typecnt * 6u + h.charcnt;
    size_t end = data + (size_t)block_size(&h, tsize);

    for (uint32_t k = 0; k < h.typecnt; k++) {
        const unsigned char *tt = types + (size_t)k * 6u;
        int64_t utoff = be_signed(tt, 4);
        if (utoff < MIN_UTOFF || utoff > MAX_UTOFF || tt[4] > 1 || tt[5] >= h.charcnt)
            return bad_file(err, name, "bad local time type");
    }
    for (uint32_t k = 0; k < h.leapcnt; k++) {
        const unsigned char *rec = leaps + (size_t)k * (tsize + 4u);
        int64_t corr = be_signed(rec + tsize, 4);
        if (be_signed(rec, tsize) < 0 || corr < -86400 || corr > 86400 ||
            (k > 0 && be_signed(rec, tsize) <= be_signed(rec - (tsize + 4u), tsize)))
            return bad_file(err, name, "bad leap second record");
    }
    if (tsize == 8) {
        /* The footer: "\n" TZ-string "\n".  An empty string means no rule. */
        size_t nl;
        if (end >= n || p[end] != '\n')
            return bad_file(err, name, "missing footer");
        for (nl = end + 1; nl < n && p[nl] != '\n'; nl++)
            ;
        if (nl == n)
            return bad_file(err, name, "unterminated footer");
        if (nl > end + 1) {
            if (!parse_posix_rule((const char *)p + end + 1, nl - end - 1, &rule))
                return bad_file(err, name, "bad TZ rule in footer");
            has_rule = true;
        }
    }

    /* One allocation: the zone, then its transition times, then offsets. */
    size_t count = h.timecnt;
    size_t at_off = (sizeof(tsr_tz) + _Alignof(int64_t) - 1) / _Alignof(int64_t) *
                    _Alignof(int64_t);
    size_t off_off = at_off + count * sizeof(int64_t);
    size_t size = off_off + count * sizeof(int32_t);   /* count < 2^20: no overflow */
    unsigned char *block = tsr__malloc(alloc, size);
    if (block == NULL)
        return tsr__err(err, TSR_ENOMEM, "out of memory loading time zone \"%s\"", name);
    tsr_tz *tz = (tsr_tz *)(void *)block;
    int64_t *at = (int64_t *)(void *)(block + at_off);
    int32_t *offset = (int32_t *)(void *)(block + off_off);

    leap_walk walk = {leaps, h.leapcnt, 0, tsize, 0};
    int64_t prev = 0;
    for (size_t k = 0; k < count; k++) {
        int64_t t = be_signed(times + k * tsize, tsize);
        if ((k > 0 && t <= prev) || idx[k] >= h.typecnt) {
            tsr__free(alloc, block, size);
            return bad_file(err, name, "bad transition");
        }
        prev = t;
        int64_t corr = leap_correction(&walk, t);
        /* |corr| <= 86400 was checked; keep t - corr inside int64, and the
         * corrected times still ascending. */
        if ((corr > 0 && t < INT64_MIN + corr) || (corr < 0 && t > INT64_MAX + corr) ||
            (k > 0 && t - corr <= at[k - 1])) {
            tsr__free(alloc, block, size);
            return bad_file(err, name, "bad transition");
        }
        at[k] = t - corr;
        offset[k] = (int32_t)be_signed(types + (size_t)idx[k] * 6u, 4);
    }
    tz->size = size;
    tz->count = count;
    tz->at = at;
    tz->offset = offset;
    tz->first_offset = (int32_t)be_signed(types, 4);
    tz->has_rule = has_rule;
    if (has_rule)
        tz->rule = rule;
    else
        memset(&tz->rule, 0, sizeof tz->rule);
    *out = tz;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Loading.
 */

/* Zone names are paths below tzdir: refuse anything that could leave it
 * or name something odd ("../etc/passwd", "/etc/passwd", "a//b", "a/"). */
static bool valid_zone_name(const char *name, size_t len)
{
    if (len == 0 || len > MAX_NAME_LEN || name[0] == '/' || name[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool ok = is_alpha((unsigned char)ch) || is_digit((unsigned char)ch) || ch == '_' ||
                  ch == '+' || ch == '-' || ch == '/';
        if (!ok || (ch == '/' && name[i + 1] == '/'))
            return false;
    }
    return strstr(name, "..") == NULL;   /* already excluded by the '.' rule; kept explicit */
}

/* Read the whole file into a buffer from `alloc`, at most MAX_TZIF_SIZE. */
static int read_zone_file(const char *path, const char *name, const tsr_alloc *alloc,
                          unsigned char **out, size_t *out_len, size_t *out_cap,
                          tsr_error *err)
{
    size_t cap = 4096, len = 0;
    unsigned char *buf;
    FILE *f;
    int rc = TSR_OK;

    errno = 0;
    f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG)
            return tsr__err(err, TSR_ENAME, "unknown time zone \"%s\"", name);
        return tsr__err(err, TSR_EIO, "time zone \"%s\": cannot open %s", name, path);
    }
    buf = tsr__malloc(alloc, cap);
    if (buf == NULL) {
        fclose(f);
        return tsr__err(err, TSR_ENOMEM, "out of memory loading time zone \"%s\"", name);
    }
    for (;;) {
        if (len == cap) {
            if (cap > MAX_TZIF_SIZE) {
                rc = tsr__err(err, TSR_EPARSE,
                              "time zone \"%s\": file larger than %zu bytes is not a zone",
                              name, MAX_TZIF_SIZE);
                break;
            }
            /* Grow to one byte past the cap, so a file of exactly the cap
             * size is read and a larger one detected. */
            size_t new_cap = cap * 2 > MAX_TZIF_SIZE ? MAX_TZIF_SIZE + 1 : cap * 2;
            unsigned char *grown = tsr__realloc(alloc, buf, cap, new_cap);
            if (grown == NULL) {
                rc = tsr__err(err, TSR_ENOMEM, "out of memory loading time zone \"%s\"", name);
                break;
            }
            buf = grown;
            cap = new_cap;
        }
        errno = 0;
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len < cap) {
            if (ferror(f)) {
                /* fopen succeeds on a directory ("Europe"); reading fails. */
#ifdef EISDIR
                if (errno == EISDIR)
                    rc = tsr__err(err, TSR_ENAME, "unknown time zone \"%s\"", name);
                else
#endif
                    rc = tsr__err(err, TSR_EIO, "time zone \"%s\": cannot read %s", name, path);
                break;
            }
            if (feof(f))
                break;
        }
    }
    fclose(f);
    if (rc != TSR_OK) {
        tsr__free(alloc, buf, cap);
        return rc;
    }
    *out = buf;
    *out_len = len;
    *out_cap = cap;
    return TSR_OK;
}

int tsr__tz_load(tsr_tz **out, const char *name, const char *tzdir, const tsr_alloc *alloc,
                 tsr_error *err)
{
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, name_len, dir_len, path_size;
    char *path;
    int rc;

    if (out == NULL)
        return tsr__err(err, TSR_EINVAL, "tsr__tz_load: out is NULL");
    *out = NULL;
    if (name == NULL || alloc == NULL)
        return tsr__err(err, TSR_EINVAL, "tsr__tz_load: name or allocator is NULL");
    name_len = strlen(name);
    if (!valid_zone_name(name, name_len))
        return tsr__err(err, TSR_ENAME, "invalid time zone name \"%.*s\"",
                        (int)tsr__utf8_prefix(name, name_len, 64), name);
    if (tzdir == NULL || tzdir[0] == '\0') {
        tzdir = getenv("TZDIR");
        if (tzdir == NULL || tzdir[0] == '\0')
            tzdir = DEFAULT_TZDIR;
    }
    dir_len = strlen(tzdir);
    if (dir_len > SIZE_MAX - name_len - 2)
        return tsr__err(err, TSR_ENOMEM, "time zone directory name too long");
    path_size = dir_len + 1 + name_len + 1;
    path = tsr__malloc(alloc, path_size);
    if (path == NULL)
        return tsr__err(err, TSR_ENOMEM, "out of memory loading time zone \"%s\"", name);
    memcpy(path, tzdir, dir_len);
    path[dir_len] = '/';
    memcpy(path + dir_len + 1, name, name_len + 1);

    rc = read_zone_file(path, name, alloc, &data, &len, &cap, err);
    if (rc == TSR_OK) {
        rc = parse_tzif(out, data, len, name, alloc, err);
        tsr__free(alloc, data, cap);
    }
    tsr__free(alloc, path, path_size);
    return rc;
}

void tsr__tz_free(tsr_tz *tz, const tsr_alloc *alloc)
{
    if (tz != NULL)
        tsr__free(alloc, tz, tz->size);
}

int32_t tsr__tz_offset(const tsr_tz *tz, int64_t usec)
{
    int64_t t = floor_div(usec, TSR_USEC_PER_SEC);
    size_t lo, hi;

    if (tz == NULL)
        return 0;
    /* RFC 8536 §3.3: the footer covers every instant after the last
     * transition, and all of them when there is none. */
    if (tz->count == 0)
        return tz->has_rule ? rule_offset(&tz->rule, t) : tz->first_offset;
    if (t < tz->at[0])
        return tz->first_offset;
    if (t > tz->at[tz->count - 1] && tz->has_rule)
        return rule_offset(&tz->rule, t);
    /* The last transition at or before t: at[lo] <= t < at[hi]. */
    lo = 0;
    hi = tz->count;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offset[lo];
}
