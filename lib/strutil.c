/*
 * strutil.c — small string helpers: did-you-mean suggestions, UTF-8
 * validation, a stable sort, and a growable output buffer (JSON text,
 * messages).
 */
#include "internal.h"

#include <limits.h>

#include <stdio.h>

size_t tsr__edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t cap)
{
    /* Optimal string alignment distance (Levenshtein plus adjacent
     * transpositions, so `heigth` is one edit from `height`).  Three rows of
     * the matrix; names are short, so fixed rows suffice and nothing is
     * allocated. */
    size_t rows[3][65];
    size_t *pp = rows[0], *prev = rows[1], *cur = rows[2];
    size_t i, j;

    if (alen > 64 || blen > 64)
        return cap + 1;
    if ((alen > blen ? alen - blen : blen - alen) > cap)
        return cap + 1;
    for (j = 0; j <= blen; j++)
        prev[j] = j;
    for (i = 1; i <= alen; i++) {
        size_t rowmin, *t;
        cur[0] = i;
        rowmin = cur[0];
        for (j = 1; j <= blen; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t v = prev[j - 1] + cost;
            if (prev[j] + 1 < v)
                v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
            if (v < rowmin)
                rowmin = v;
        }
        if (rowmin > cap)
            return cap + 1;
        t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[blen] > cap ? cap + 1 : prev[blen];
}

const char *tsr__closest_in(const char *name, size_t len, const void *base, size_t n,
                            size_t stride)
{
    size_t best = SIZE_MAX, i;
    const char *found = NULL;
    size_t cap = len / 3;

    if (cap < 1)
        cap = 1;
    if (cap > 4)
        cap = 4;
    for (i = 0; i < n; i++) {
        const char *cand = *(const char *const *)(const void *)((const char *)base + i * stride);
        size_t d;
        if (!cand)
            continue;
        d = tsr__edit_distance(name, len, cand, strlen(cand), cap);
        if (d <= cap && d < best) {
            best = d;
            found = cand;
        }
    }
    return found;
}

size_t tsr__utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

const char *tsr__closest(const char *name, size_t len, const char *const *candidates, size_t n)
{
    return tsr__closest_in(name, len, candidates, n, sizeof *candidates);
}

bool tsr__utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
        } else if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return false;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            unsigned c1;
            if (i + 2 >= n)
                return false;
            c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return false;
            if (c == 0xE0 && c1 < 0xA0)   /* overlong */
                return false;
            if (c == 0xED && c1 > 0x9F)   /* surrogates */
                return false;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            unsigned c1;
            if (i + 3 >= n)
                return false;
            c1 = s[i + 1];
            if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 || (s[i + 3] & 0xC0) != 0x80)
                return false;
            if (c == 0xF0 && c1 < 0x90)   /* overlong */
                return false;
            if (c == 0xF4 && c1 > 0x8F)   /* beyond U+10FFFF */
                return false;
            i += 4;
        } else {
            return false;
        }
    }
    return true;
}

int tsr__sort_stable(tsr_arena *scratch, void *base, size_t n, size_t size,
                     int (*cmp)(const void *, const void *))
{
    char *a = base, *t, *src, *dst;
    size_t width, i;

    if (n < 2)
        return TSR_OK;
    if (!(t = tsr__arena_calloc(scratch, n, size)))
        return TSR_ENOMEM;
    src = a;
    dst = t;
    for (width = 1; width < n; width *= 2) {
        for (i = 0; i < n; i += 2 * width) {
            size_t l = i, mid = i + width < n ? i + width : n, r = mid;
            size_t end = i + 2 * width < n ? i + 2 * width : n, k = i;
            while (l < mid || r < end) {
                size_t from = (r >= end || (l < mid && cmp(src + l * size, src + r * size) <= 0))
                                  ? l++ : r++;
                memcpy(dst + k++ * size, src + from * size, size);
            }
        }
        t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * size);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Output buffer.  Failure is sticky so writers can append freely and
 * check once at the end.
 */
void tsr__buf_init(tsr_buf *b, const tsr_alloc *alloc)
{
    b->alloc = alloc;
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}

void tsr__buf_free(tsr_buf *b)
{
    tsr__free(b->alloc, b->data, b->cap);
    b->data = NULL;
    b->len = b->cap = 0;
}

int tsr__buf_copy_out(const tsr_buf *b, char *buf, size_t size)
{
    if (b->failed || b->len > INT_MAX)
        return TSR_ENOMEM;
    if (buf && size) {
        size_t n = b->len < size - 1 ? b->len : size - 1;
        if (n)
            memcpy(buf, b->data, n);
        buf[n] = '\0';
    }
    return (int)b->len;
}

static bool buf_reserve(tsr_buf *b, size_t extra)
{
    void *p;
    /* the common case, a few bytes into a buffer that has room: no call */
    if (TSR_LIKELY(b->cap && extra < b->cap - b->len))
        return true;
    if (b->failed)
        return false;
    if (extra >= SIZE_MAX - b->len) {
        b->failed = TSR_ENOMEM;
        return false;
    }
    p = b->data;
    if (tsr__grow(b->alloc, &p, &b->cap, b->len + extra + 1, 1) != TSR_OK) {
        b->failed = TSR_ENOMEM;
        return false;
    }
    b->data = p;
    return true;
}

void tsr__buf_put(tsr_buf *b, const char *s, size_t n)
{
    if (!buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void tsr__buf_puts(tsr_buf *b, const char *s)
{
    tsr__buf_put(b, s, strlen(s));
}

void tsr__buf_putc(tsr_buf *b, char c)
{
    if (!buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void tsr__buf_int(tsr_buf *b, int64_t v)
{
    char tmp[24];
    size_t n = sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    /* digits from the right; no printf on the hot path of result JSON */
    do {
        tmp[--n] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--n] = '-';
    tsr__buf_put(b, tmp + n, sizeof tmp - n);
}

void tsr__buf_printf(tsr_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    char small[128];

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = TSR_ENOMEM;
        return;
    }
    if ((size_t)n < sizeof small) {
        tsr__buf_put(b, small, (size_t)n);
        return;
    }
    if (!buf_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tsr__buf_json_string(tsr_buf *b, const char *s, size_t n)
{
    tsr__buf_putc(b, '"');
    tsr__buf_json_escaped(b, s, n);
    tsr__buf_putc(b, '"');
}

void tsr__buf_json_escaped(tsr_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[6];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        tsr__buf_put(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':  esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
            u[4] = hex[c >> 4]; u[5] = hex[c & 15];
            tsr__buf_put(b, u, 6);
            continue;
        }
        tsr__buf_puts(b, esc);
    }
    tsr__buf_put(b, s + start, n - start);
}
