/*
 * suggest.c — did-you-mean: the known name closest to a misspelt one (an
 * optimal string alignment distance, capped), for every message that
 * refuses an unknown key, rule, field or function, and whether a name is
 * one of a list.
 */
#include "internal.h"

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

const char *tsr__closest(const char *name, size_t len, const char *const *candidates, size_t n)
{
    return tsr__closest_in(name, len, candidates, n, sizeof *candidates);
}

const char *tsr__suggest(char *buf, size_t size, const char *name, size_t len,
                         const char *const *candidates, size_t n)
{
    const char *near = tsr__closest(name, len, candidates, n);
    if (!near)
        return "";
    snprintf(buf, size, "; did you mean `%s`?", near);
    return buf;
}

bool tsr__in_list(const char *s, size_t len, const char *const *list, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
            return true;
    return false;
}
