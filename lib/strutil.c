/*
 * strutil.c — small string helpers: did-you-mean suggestions, UTF-8
 * validation, a stable sort (and the order of diagnostics), and a growable
 * output buffer (JSON text, messages).
 */
#include "internal.h"

#include <limits.h>

#include <stdio.h>
#include <time.h>

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
    size_t i = 0, k;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((k = tsr__utf8_char(s + i, n - i)) == 0)
            return false;
        i += k;
    }
    return true;
}

/* What one character of outside text is shown as: itself, or "?" for a
 * control character (C0, DEL, C1: a terminal acts on them) or for bytes
 * that are not UTF-8.  *len is how many bytes of s it stands for. */
static const char *clean_char(const unsigned char *s, size_t n, size_t *len)
{
    size_t k = s[0] < 0x80 ? 1 : tsr__utf8_char(s, n);

    if (k == 0) {
        *len = 1;
        return "?";
    }
    *len = k;
    if (s[0] < 0x20 || s[0] == 0x7F || (s[0] == 0xC2 && s[1] < 0xA0))
        return "?";
    return (const char *)s;
}

const char *tsr__clip(char *buf, size_t size, const char *str, size_t n, size_t max)
{
    static const char more[] = "...";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, j = 0, k;

    if (size == 0)
        return buf;
    if (size - 1 < sizeof more - 1) {
        buf[0] = '\0';
        return buf;
    }
    /* room for the text and, when it is cut, the "..." after it */
    if (max > size - sizeof more)
        max = size - sizeof more;
    while (i < n) {
        const char *c = clean_char(s + i, n - i, &k);
        size_t w = c == (const char *)s + i ? k : 1;
        if (j + w > max)
            break;
        memcpy(buf + j, c, w);
        j += w;
        i += k;
    }
    if (i < n) {
        memcpy(buf + j, more, sizeof more - 1);
        j += sizeof more - 1;
    }
    buf[j] = '\0';
    return buf;
}

size_t tsr__clean_in_place(char *str)
{
    unsigned char *s = (unsigned char *)str;
    size_t i = 0, j = 0, k, n = strlen(str);

    while (i < n) {
        const char *c = clean_char(s + i, n - i, &k);
        if (c == (const char *)s + i) {
            memmove(s + j, s + i, k);
            j += k;
        } else {
            s[j++] = '?';
        }
        i += k;
    }
    s[j] = '\0';
    return j;
}

/* ---------------------------------------------------------------------
 * Keyed hashing: SipHash-1-3 (Aumasson and Bernstein's SipHash with one
 * compression and three finalisation rounds).
 */
#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                           \
    do {                                                                                   \
        v0 += v1; v1 = ROTL64(v1, 13); v1 ^= v0; v0 = ROTL64(v0, 32);                      \
        v2 += v3; v3 = ROTL64(v3, 16); v3 ^= v2;                                           \
        v0 += v3; v3 = ROTL64(v3, 21); v3 ^= v0;                                           \
        v2 += v1; v1 = ROTL64(v1, 17); v1 ^= v2; v2 = ROTL64(v2, 32);                      \
    } while (0)

static uint64_t load_le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

uint64_t tsr__hash(const tsr_hash_key *key, const char *s, size_t n)
{
    const unsigned char *in = (const unsigned char *)s, *end = in + (n - n % 8);
    uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ key->k0;
    uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ key->k1;
    uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ key->k0;
    uint64_t v3 = UINT64_C(0x7465646279746573) ^ key->k1;
    uint64_t b = (uint64_t)n << 56, m;

    for (; in != end; in += 8) {
        m = load_le64(in);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    switch (n & 7) {
    case 7: b |= (uint64_t)in[6] << 48; /* fall through */
    case 6: b |= (uint64_t)in[5] << 40; /* fall through */
    case 5: b |= (uint64_t)in[4] << 32; /* fall through */
    case 4: b |= (uint64_t)in[3] << 24; /* fall through */
    case 3: b |= (uint64_t)in[2] << 16; /* fall through */
    case 2: b |= (uint64_t)in[1] << 8;  /* fall through */
    case 1: b |= (uint64_t)in[0];       /* fall through */
    default: break;
    }
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* splitmix64: spreads the few varying bits of the seed material over the
 * whole key. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void tsr__hash_key_init(tsr_hash_key *key, const void *owner, uint64_t counter)
{
    static const char here = 0;   /* where the library is mapped */
    struct timespec ts = { 0, 0 };
    uint64_t x;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    x = (uint64_t)(uintptr_t)owner ^ ((uint64_t)(uintptr_t)&ts << 17) ^
        ((uint64_t)(uintptr_t)&here << 31) ^ ((uint64_t)ts.tv_sec << 32) ^
        (uint64_t)ts.tv_nsec ^ counter * UINT64_C(0xd1342543de82ef95);
    key->k0 = splitmix64(&x);
    key->k1 = splitmix64(&x);
}

int tsr__place_cmp(const void *pa, const void *pb)
{
    const tsr_place *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
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
