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
