/*
 * alloc.c — memory: the allocator hook every byte goes through, and the
 * bump arena built on it.
 *
 * Every byte the library holds comes through tsr_alloc, so a caller's hook
 * sees all of it and tests can fail the Nth allocation.  Long-lived data (a
 * rule set) and per-evaluation data live in arenas: many small allocations,
 * one free.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

static void *default_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    (void)ud;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

void tsr__alloc_init(tsr_alloc *a, const tsr_allocator *user)
{
    if (user && user->realloc) {
        a->fn = user->realloc;
        a->ud = user->ud;
    } else {
        a->fn = default_realloc;
        a->ud = NULL;
    }
}

void *tsr__malloc(const tsr_alloc *a, size_t n)
{
    return a->fn(a->ud, NULL, 0, n ? n : 1);
}

void *tsr__calloc(const tsr_alloc *a, size_t count, size_t size)
{
    void *p;
    if (size && count > SIZE_MAX / size)
        return NULL;
    p = tsr__malloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *tsr__realloc(const tsr_alloc *a, void *p, size_t old_n, size_t new_n)
{
    return a->fn(a->ud, p, old_n, new_n ? new_n : 1);
}

void tsr__free(const tsr_alloc *a, void *p, size_t n)
{
    if (p)
        a->fn(a->ud, p, n, 0);
}

char *tsr__strndup(const tsr_alloc *a, const char *s, size_t n)
{
    char *p;
    if (n == SIZE_MAX)
        return NULL;
    p = tsr__malloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

int tsr__grow(const tsr_alloc *a, void **items, size_t *cap, size_t need, size_t size)
{
    size_t ncap;
    void *p;

    if (need <= *cap)
        return TSR_OK;
    ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return TSR_ENOMEM;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return TSR_ENOMEM;
    p = tsr__realloc(a, *items, *cap * size, ncap * size);
    if (!p)
        return TSR_ENOMEM;
    *items = p;
    *cap = ncap;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Arena.
 */
#define CHUNK_HEADER offsetof(tsr_arena_chunk, u)
#define ARENA_ALIGN TSR_ARENA_ALIGN

void tsr__arena_init(tsr_arena *ar, const tsr_alloc *alloc, size_t first_chunk)
{
    ar->alloc = alloc;
    ar->head = NULL;
    ar->chunk_size = first_chunk ? first_chunk : 4096;
    ar->total = 0;
}

static tsr_arena_chunk *new_chunk(tsr_arena *ar, size_t need)
{
    size_t size = ar->chunk_size;
    tsr_arena_chunk *c;

    if (need > size)
        size = need;
    if (size > SIZE_MAX - CHUNK_HEADER)
        return NULL;
    c = tsr__malloc(ar->alloc, CHUNK_HEADER + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    c->next = ar->head;
    ar->head = c;
    ar->total += size;
    /* Grow chunk sizes geometrically (up to 1 MiB) so big rule sets and
     * big orders need few chunks. */
    if (ar->chunk_size < (1u << 20))
        ar->chunk_size *= 2;
    return c;
}

void *tsr__arena_alloc(tsr_arena *ar, size_t n)
{
    tsr_arena_chunk *c = ar->head;
    size_t off;

    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    if (c) {
        off = (c->used + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
        if (off <= c->size && n <= c->size - off) {
            c->used = off + n;
            return c->u.data + off;
        }
    }
    c = new_chunk(ar, n);
    if (!c)
        return NULL;
    c->used = n;
    return c->u.data;
}

void *tsr__arena_calloc(tsr_arena *ar, size_t count, size_t size)
{
    void *p;
    if (size && count > SIZE_MAX / size)
        return NULL;
    p = tsr__arena_alloc(ar, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *tsr__arena_strndup(tsr_arena *ar, const char *s, size_t n)
{
    char *p;
    if (n == SIZE_MAX)
        return NULL;
    p = tsr__arena_alloc(ar, n + 1);
    if (p) {
        if (n)
            memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

const char *tsr__arena_vprintf(tsr_arena *ar, const char *fmt, va_list ap)
{
    char small[256];
    va_list again;
    char *p;
    int n;

    va_copy(again, ap);
    n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(again);
        return "";
    }
    if ((size_t)n < sizeof small) {
        va_end(again);
        return tsr__arena_strndup(ar, small, (size_t)n);
    }
    p = tsr__arena_alloc(ar, (size_t)n + 1);
    if (p)
        vsnprintf(p, (size_t)n + 1, fmt, again);
    va_end(again);
    return p;
}

const char *tsr__arena_printf(tsr_arena *ar, const char *fmt, ...)
{
    const char *p;
    va_list ap;

    va_start(ap, fmt);
    p = tsr__arena_vprintf(ar, fmt, ap);
    va_end(ap);
    return p;
}

void tsr__arena_reset(tsr_arena *ar)
{
    tsr_arena_chunk *c = ar->head, *next;

    if (!c)
        return;
    /* Keep the newest (largest) chunk: a reused arena then settles into one
     * allocation-free chunk after the first evaluations. */
    next = c->next;
    c->next = NULL;
    c->used = 0;
    ar->total = c->size;
    while (next) {
        tsr_arena_chunk *n = next->next;
        tsr__free(ar->alloc, next, CHUNK_HEADER + next->size);
        next = n;
    }
}

void *tsr__arena_rewind_holder(tsr_arena *ar, size_t keep)
{
    tsr_arena_chunk *first = ar->head, *c, *nc;
    size_t off, size = ar->total;
    tsr_alloc alloc;
    tsr_arena *nar;

    while (first->next)
        first = first->next;
    off = (size_t)((unsigned char *)ar - first->u.data);
    if (first == ar->head) {
        /* the steady state: one chunk, nothing to free or allocate */
        first->used = keep;
        ar->total = first->size;
        return first->u.data;
    }
    /* Several chunks: one chunk as large as all of them, so that the next
     * evaluation of the same size fits in it. */
    if (size > SIZE_MAX - CHUNK_HEADER || size < keep)
        return NULL;
    nc = tsr__malloc(ar->alloc, CHUNK_HEADER + size);
    if (!nc)
        return NULL;
    nc->size = size;
    nc->used = keep;
    nc->next = NULL;
    memcpy(nc->u.data, first->u.data, keep);
    alloc = *ar->alloc;
    nar = (tsr_arena *)(void *)(nc->u.data + off);
    nar->head = nc;
    nar->total = size;
    /* an allocator kept inside the holder moves with it */
    if ((const unsigned char *)ar->alloc >= first->u.data &&
        (const unsigned char *)ar->alloc < first->u.data + keep)
        nar->alloc = (const tsr_alloc *)(const void *)
            (nc->u.data + ((const unsigned char *)ar->alloc - first->u.data));
    c = ar->head;
    while (c) {
        tsr_arena_chunk *n = c->next;
        tsr__free(&alloc, c, CHUNK_HEADER + c->size);
        c = n;
    }
    return nc->u.data;
}

void tsr__arena_free_holder(tsr_arena *ar)
{
    /* ar and the tsr_alloc it points at both live inside the arena: copy
     * them out before the chunks go */
    tsr_alloc alloc = *ar->alloc;
    tsr_arena copy = *ar;

    copy.alloc = &alloc;
    tsr__arena_free(&copy);
}

void tsr__arena_free(tsr_arena *ar)
{
    tsr_arena_chunk *c = ar->head;
    while (c) {
        tsr_arena_chunk *n = c->next;
        tsr__free(ar->alloc, c, CHUNK_HEADER + c->size);
        c = n;
    }
    ar->head = NULL;
    ar->total = 0;
}
