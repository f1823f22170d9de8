/*
 * buf.c — the growable output buffer (tsr_buf) that JSON text, reports and
 * messages are written into.  Failure is sticky, so writers append freely
 * and check once at the end.
 */
#include "internal.h"

#include <limits.h>
#include <stdio.h>

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
        /* a short buffer gets a prefix that does not split a character */
        size_t n = tsr__utf8_prefix(b->data, b->len, size - 1);
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

void tsr__buf_diff_linev(tsr_buf *b, const char *path, const char *fmt, va_list ap)
{
    char msg[2048], shown[256];

    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[tsr__utf8_prefix(msg, strlen(msg), 1023)] = '\0';
    tsr__clean_in_place(msg);
    /* paths are made with snprintf into short buffers: a character split
     * there shows as '?' */
    tsr__buf_printf(b, "  %s: %s\n", tsr__clip(shown, sizeof shown, path, strlen(path),
                                               sizeof shown), msg);
}
