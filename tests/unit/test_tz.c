/*
 * test_tz.c — unit tests for lib/tz.c: time zones read from TZif files —
 * the system's own (/usr/share/zoneinfo) and hand-built or damaged ones,
 * parsed from memory or written to a temporary directory — so that every
 * branch of the POSIX footer rules and every refusal of a bad file is
 * reached.
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

#include "tz.h"
#include "alloc_fixture.h"

#define SYSTEM_TZDIR "/usr/share/zoneinfo"

/* ---------------------------------------------------------------------
 * Helpers.
 */
/* The instant of an ISO 8601 text that must parse. */
static int64_t instant(const char *text)
{
    int64_t usec = 0;
    int32_t offset = 0;
    if (tsr__parse_datetime(text, strlen(text), &usec, &offset) != TSR_OK)
        fail_msg("\"%s\" did not parse", text);
    return usec;
}

typedef struct fixture {
    counting counter;
    tsr_allocator hook;
    tsr_alloc alloc;
    char dir[64];   /* a temporary tzdir for hand-made files */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->counter.fail_once = true;
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

static void test_tz_local_offset_is_the_zones_else_the_datetimes_own(void **state)
{
    fixture *f = *state;
    tsr_tz *tz = load_system(f, "Europe/Moscow");
    int64_t u = instant("2026-07-18T00:30:00+05:00");
    assert_int_equal(tsr__local_offset(NULL, u, 5 * 3600), 5 * 3600);
    assert_int_equal(tsr__local_offset(tz, u, 5 * 3600), 3 * 3600);
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
    /* from memory (what tsr__tz_load does with the file's bytes) */
    for (size_t cut = 0; cut < len; cut++) {
        if (tsr__tz_parse(&tz, copy, cut, "Cut", &f->alloc, NULL) != TSR_EPARSE)
            fail_msg("Europe/Berlin cut to %zu of %zu bytes was accepted", cut, len);
        assert_null(tz);
    }
    /* and through a file, cut and whole */
    write_file(f->dir, "Cut", copy, len / 2);
    assert_int_equal(tsr__tz_load(&tz, "Cut", f->dir, &f->alloc, NULL), TSR_EPARSE);
    write_file(f->dir, "Cut", copy, len);
    assert_int_equal(tsr__tz_load(&tz, "Cut", f->dir, &f->alloc, NULL), TSR_OK);
    tsr__tz_free(tz, &f->alloc);
    assert_int_equal(f->counter.live, 0);
}

/* Damaged bytes anywhere: the parse either succeeds or says EPARSE, and a
 * zone that loads answers for any instant.  ASan/UBSan do the watching.
 * (tests/fuzz/fuzz_tz.c goes on where this stops.) */
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
            int rc = tsr__tz_parse(&tz, copy, len, "Damaged", &f->alloc, NULL);
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

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tz_moscow_is_plus_three_since_2014_and_was_plus_four_in_2012, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_berlin_switches_exactly_at_the_2026_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_berlin_far_future_follows_the_footer_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_new_york_switches_at_the_2026_us_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_sydney_far_future_has_southern_summer_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tz_local_offset_is_the_zones_else_the_datetimes_own, setup, teardown),
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
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
