/*
 * utf8.c — UTF-8 in what the library writes for people: validity, cutting
 * a quotation on a character boundary, and showing outside text clean
 * (control characters and bytes that are not UTF-8 as '?'), so that every
 * message, trace and report is valid UTF-8 and safe on a terminal.
 */
#include "internal.h"

size_t tsr__utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
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
