/*
 * sort.c — sorting without qsort: a stable merge sort with its scratch from
 * an arena (qsort would allocate behind the allocator hook, is not stable,
 * and some are quadratic on crafted input), and the order diagnostics are
 * listed in (tsr_place: file, line, column, then the order found).
 */
#include "internal.h"

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

/* One element: a constant size lets the compiler copy it inline. */
static inline void copy_elem(char *dst, const char *src, size_t size)
{
    if (size == 8)
        memcpy(dst, src, 8);
    else if (size == 16)
        memcpy(dst, src, 16);
    else
        memcpy(dst, src, size);
}

/* Merge src[l..mid) and src[mid..end) into dst[l..end).  Runs already in
 * order (the last of the left not after the first of the right: input
 * given sorted, or nearly) and whatever is left of one run once the other
 * is used up are copied as one block. */
static void merge(char *dst, const char *src, size_t l, size_t mid, size_t end, size_t size,
                  int (*cmp)(const void *, const void *))
{
    size_t r = mid, k = l;

    if (mid < end && cmp(src + (mid - 1) * size, src + mid * size) <= 0) {
        memcpy(dst + l * size, src + l * size, (end - l) * size);
        return;
    }
    while (l < mid && r < end) {
        if (cmp(src + l * size, src + r * size) <= 0)
            copy_elem(dst + k++ * size, src + l++ * size, size);
        else
            copy_elem(dst + k++ * size, src + r++ * size, size);
    }
    if (l < mid)
        memcpy(dst + k * size, src + l * size, (mid - l) * size);
    else if (r < end)
        memcpy(dst + k * size, src + r * size, (end - r) * size);
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
            size_t mid = i + width < n ? i + width : n;
            size_t end = i + 2 * width < n ? i + 2 * width : n;
            merge(dst, src, i, mid, end, size, cmp);
        }
        t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, n * size);
    return TSR_OK;
}
