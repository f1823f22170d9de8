/*
 * fuzz_tz.c — libFuzzer harness for the TZif reader (lib/tz.c): the input
 * is the bytes of a zone file.
 *
 * The one harness below the public API: a zone file comes from the
 * system's tz database (TZDIR), never from a caller, so no public call takes
 * its bytes; the harness calls tsr__tz_parse, which tsr__tz_load runs on
 * the file it reads, and needs lib/ on its include path.
 *
 * Checked: no crash, no sanitizer report, no leak; a refusal is TSR_EPARSE
 * (or TSR_ENOMEM) with a message and no zone; a zone that loads answers for
 * any instant, from the first representable one to the last, with an
 * offset within RFC 8536's bounds.  Returns 0 always.
 */
#include "fuzz_common.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The offsets a zone can give: a local time type's are within RFC 8536's
 * [-89999, 93599] s (tz.c refuses others), a footer rule's within
 * -24:59:59..+24:59:59, or an hour past its standard offset. */
#define MIN_OFFSET (-89999)
#define MAX_OFFSET 93599

static void check_offset(const tsr_tz *tz, int64_t usec)
{
    int32_t off = tsr__tz_offset(tz, usec);
    if (off < MIN_OFFSET || off > MAX_OFFSET)
        fuzz_die("offset out of range", (size_t)(off < 0 ? -(int64_t)off : off), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int64_t instants[] = {
        INT64_MIN, INT64_MIN / 2, -INT64_C(2208988800000000), -1, 0, 1,
        INT64_C(1784332800000000),    /* 2026-07-18 */
        INT64_C(4118054400000000),    /* 2100-07-01 */
        INT64_MAX / 2, INT64_MAX,
    };
    size_t before = fuzz_live_bytes, i;
    tsr_tz *tz = (tsr_tz *)1;
    tsr_alloc alloc;
    tsr_error err;
    int rc;

    tsr__alloc_init(&alloc, &fuzz_allocator);
    memset(&err, 0, sizeof err);
    rc = tsr__tz_parse(&tz, data, size, "Fuzz", &alloc, &err);
    fuzz_say("zone", rc, &err);
    if (rc != TSR_OK) {
        if (rc != TSR_EPARSE && rc != TSR_ENOMEM)
            fuzz_die("a bad zone file must be TSR_EPARSE", (size_t)-rc, 0);
        fuzz_check_error(rc, &err);
        if (tz != NULL)
            fuzz_die("a refused zone left *out set", 0, 0);
    } else {
        for (i = 0; i < sizeof instants / sizeof instants[0]; i++)
            check_offset(tz, instants[i]);
        /* and where the input says: an instant read from its first bytes */
        if (size >= 8) {
            uint64_t u = 0;
            for (i = 0; i < 8; i++)
                u = u << 8 | data[i];
            check_offset(tz, (int64_t)u);
        }
        tsr__tz_free(tz, &alloc);
    }
    fuzz_check_balance(before);
    return 0;
}
