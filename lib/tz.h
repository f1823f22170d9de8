/*
 * tz.h — time zones read from the system tz database (TZif, RFC 8536)
 * without touching the process-wide TZ (tz.c).  A tsr_tz is immutable once
 * loaded and may be shared by threads.
 */
#ifndef TSR_TZ_H
#define TSR_TZ_H

#include "datetime.h"

typedef struct tsr_tz tsr_tz;

/* Load zone `name` (e.g. "Europe/Moscow") from `tzdir` (NULL or "": $TZDIR,
 * else /usr/share/zoneinfo).  Names with "..", a leading or trailing '/',
 * "//", more than 255 bytes, or characters other than [A-Za-z0-9_+-/] are
 * refused.  TSR_OK, TSR_ENAME (bad name, no such zone, a directory),
 * TSR_EPARSE (not a valid TZif file, or larger than 512 KiB), TSR_EIO (the
 * file exists but cannot be read), TSR_ENOMEM, TSR_EINVAL (out or name NULL).
 * On failure *out is NULL. */
int tsr__tz_load(tsr_tz **out, const char *name, const char *tzdir, const tsr_alloc *alloc,
                 tsr_error *err);
/* The zone in the TZif bytes data[0..len), which tsr__tz_load reads from
 * the zone's file; `name` is for messages.  TSR_OK, TSR_EPARSE or
 * TSR_ENOMEM; on failure *out is NULL.  (Tests and the tz fuzzer feed it
 * bytes directly.) */
int tsr__tz_parse(tsr_tz **out, const unsigned char *data, size_t len, const char *name,
                  const tsr_alloc *alloc, tsr_error *err);
void tsr__tz_free(tsr_tz *tz, const tsr_alloc *alloc);
/* Offset east of UTC, in seconds, in effect at the instant `usec` (DST-aware,
 * POSIX TZ footer rule applied after the last transition). */
int32_t tsr__tz_offset(const tsr_tz *tz, int64_t usec);

/* The local offset for a datetime: the zone's when tz != NULL, else the
 * datetime's own. */
static inline int32_t tsr__local_offset(const tsr_tz *tz, int64_t usec, int32_t own)
{
    return tz ? tsr__tz_offset(tz, usec) : own;
}

#endif /* TSR_TZ_H */
