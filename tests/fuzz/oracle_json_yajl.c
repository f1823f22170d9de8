/*
 * oracle_json_yajl.c — the order reader's JSON front end as it was until
 * the schema-aware reader replaced it (lib/order_json.c): yajl 2's SAX
 * parser, each event fed to the order's event reader (order.c).  Kept,
 * unchanged in what it accepts and how it fails, as the oracle the new
 * reader is compared with: by the differential fuzzer
 * (fuzz_order_diff.c), the unit tests (test_order_json.c) and the
 * benchmark (tests/bench/json_readers.c).
 *
 * Only its allocator differs from the library's former copy: yajl's blocks
 * come from malloc here (the tests do not fail its allocations), so the
 * order no longer keeps a cache of them.
 *
 * What yajl does not do for us, done here:
 *   - UTF-8: yajl checks only the shape of multi-byte sequences (it lets
 *     overlong forms and surrogates through), so its check is turned off
 *     and the reader validates every string strictly instead.
 *   - \u escapes: yajl turns a lone UTF-16 surrogate into '?' or into
 *     bytes that are not UTF-8.  The text is scanned for bad surrogate
 *     escapes first (only when it holds a backslash), and the string that
 *     contains the first one is refused at its path.
 */
#include "order_oracle.h"

#include <yajl/yajl_parse.h>

typedef struct jreader {
    tsr_oreader r;
    tsr_order *o;
    yajl_handle h;
    size_t bad_escape;   /* offset of the first bad surrogate escape, SIZE_MAX: none */
} jreader;

/* ---------------------------------------------------------------------
 * Surrogate escapes.
 */
static int hex4(const char *s)
{
    int v = 0, i;
    for (i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* The offset of the first \u escape that is a lone surrogate (a high one
 * not followed by a low one, or a low one alone), or SIZE_MAX.  Backslashes
 * occur only inside strings in JSON, so walking from one escape to the
 * next needs no knowledge of the structure; malformed escapes are left
 * for yajl to report. */
static size_t find_bad_surrogate(const char *t, size_t n)
{
    const char *p = memchr(t, '\\', n);

    while (p) {
        size_t i = (size_t)(p - t), next = i + 2;
        if (i + 5 < n && t[i + 1] == 'u') {
            int cu = hex4(t + i + 2);
            next = i + 6;
            if (cu >= 0xD800 && cu <= 0xDBFF) {
                int lo = i + 11 < n && t[i + 6] == '\\' && t[i + 7] == 'u' ? hex4(t + i + 8) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF)
                    return i;
                next = i + 12;
            } else if (cu >= 0xDC00 && cu <= 0xDFFF) {
                return i;
            }
        }
        if (next >= n)
            break;
        p = memchr(t + next, '\\', n - next);
    }
    return SIZE_MAX;
}

/* ---------------------------------------------------------------------
 * Callbacks: 1 to go on, 0 to stop (the reason is in the reader).
 */
static int go(jreader *j, int rc)
{
    return rc == TSR_OK && j->r.rc == TSR_OK;
}

/* The string just lexed holds the first bad escape.  yajl's count of bytes
 * consumed is live during callbacks: it points just past the token. */
static bool bad_escape_here(jreader *j)
{
    return j->bad_escape != SIZE_MAX && yajl_get_bytes_consumed(j->h) > j->bad_escape;
}

static int j_null(void *ctx)
{
    jreader *j = ctx;
    return go(j, tsr__oread_scalar(&j->r, TSR_OT_NULL, NULL, 0));
}

static int j_boolean(void *ctx, int b)
{
    jreader *j = ctx;
    return go(j, tsr__oread_scalar(&j->r, b ? TSR_OT_TRUE : TSR_OT_FALSE, NULL, 0));
}

static int j_number(void *ctx, const char *s, size_t n)
{
    jreader *j = ctx;
    return go(j, tsr__oread_scalar(&j->r, TSR_OT_NUMBER, s, n));
}

static int j_string(void *ctx, const unsigned char *s, size_t n)
{
    jreader *j = ctx;
    if (bad_escape_here(j))
        return go(j, tsr__oread_fail(&j->r, TSR_EORDER,
                                     "string has a \\u escape of a lone UTF-16 surrogate"));
    return go(j, tsr__oread_scalar(&j->r, TSR_OT_STRING, (const char *)s, n));
}

static int j_start_map(void *ctx)
{
    jreader *j = ctx;
    return go(j, tsr__oread_start_map(&j->r));
}

static int j_map_key(void *ctx, const unsigned char *s, size_t n)
{
    jreader *j = ctx;
    if (bad_escape_here(j))
        return go(j, tsr__oread_fail(&j->r, TSR_EORDER,
                                     "key has a \\u escape of a lone UTF-16 surrogate"));
    return go(j, tsr__oread_key(&j->r, (const char *)s, n));
}

static int j_end_map(void *ctx)
{
    jreader *j = ctx;
    return go(j, tsr__oread_end_map(&j->r));
}

static int j_start_array(void *ctx)
{
    jreader *j = ctx;
    return go(j, tsr__oread_start_array(&j->r));
}

static int j_end_array(void *ctx)
{
    jreader *j = ctx;
    return go(j, tsr__oread_end_array(&j->r));
}

static const yajl_callbacks callbacks = {
    j_null, j_boolean, NULL, NULL, j_number, j_string,
    j_start_map, j_map_key, j_end_map, j_start_array, j_end_array
};

/* yajl's message ("parse error: premature EOF\n ...") without the newline. */
/* `at_end`: the error came from yajl_complete_parse, whose byte count covers
 * only that call (0), so the place is the end of the text. */
static int syntax_error(jreader *j, bool at_end, size_t len)
{
    unsigned char *msg = yajl_get_error(j->h, 0, NULL, 0);
    size_t at = at_end ? len : yajl_get_bytes_consumed(j->h);
    size_t n = msg ? strlen((const char *)msg) : 0;
    int rc;

    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
        n--;
    rc = tsr__oread_fail(&j->r, TSR_EORDER, "invalid JSON near byte %zu: %.*s", at, (int)n,
                         msg ? (const char *)msg : "syntax error");
    if (msg)
        yajl_free_error(j->h, msg);
    return rc;
}

int tsr_oracle_order_read_json(tsr_order *o, const char *text, size_t len, tsr_error *err)
{
    yajl_status st;
    jreader j;
    bool at_end;
    int rc;

    if (len > o->rs->limits.max_order_size)
        return tsr__err_path(err, TSR_ELIMIT, "$",
                             "order of %zu bytes is larger than the limit (%zu bytes)", len,
                             o->rs->limits.max_order_size);
    tsr__oread_init(&j.r, o, false, err);
    j.o = o;
    j.bad_escape = find_bad_surrogate(text, len);
    j.h = yajl_alloc(&callbacks, NULL, &j);
    if (!j.h)
        return tsr__err(err, TSR_ENOMEM, NULL);
    /* The reader checks UTF-8 strictly itself (yajl's check is weaker). */
    yajl_config(j.h, yajl_dont_validate_strings, 1);
    st = yajl_parse(j.h, (const unsigned char *)text, len);
    at_end = st == yajl_status_ok;
    if (at_end)
        st = yajl_complete_parse(j.h);
    if (st == yajl_status_client_canceled)
        rc = j.r.rc;
    else if (st != yajl_status_ok)
        rc = syntax_error(&j, at_end, len);
    else if (!j.r.done)
        rc = tsr__err_path(err, TSR_EORDER, "$", "the order is incomplete");
    else
        rc = TSR_OK;
    yajl_free(j.h);
    if (rc != TSR_OK)
        tsr__order_clear(o);
    return rc;
}
