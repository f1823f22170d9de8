/*
 * json_sax.c — yajl's SAX parser run on the library's allocator
 * (json_sax.h): the allocation glue and one parse with its error text.
 */
#include "json_sax.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>

/* ---------------------------------------------------------------------
 * yajl on the library's allocator.  Each block carries its size (the hook
 * wants it back on free) and whether it came from the malloc fallback.
 */
typedef struct jblock {
    size_t size;
    size_t from_malloc;
} jblock;

static void *jp_malloc(void *ctx, size_t size)
{
    tsr_json_parse *jp = ctx;
    jblock *b;

    if (size > SIZE_MAX - sizeof *b)
        return NULL;
    b = tsr__malloc(jp->alloc, sizeof *b + size);
    if (b) {
        b->from_malloc = 0;
    } else {
        /* yajl cannot unwind from NULL: finish on malloc, fail at the end */
        jp->oom = true;
        if (!(b = malloc(sizeof *b + size)))
            return NULL;
        b->from_malloc = 1;
    }
    b->size = size;
    return b + 1;
}

static void jp_free(void *ctx, void *ptr)
{
    tsr_json_parse *jp = ctx;
    jblock *b;

    if (!ptr)
        return;
    b = (jblock *)ptr - 1;
    if (b->from_malloc)
        free(b);
    else
        tsr__free(jp->alloc, b, sizeof *b + b->size);
}

static void *jp_realloc(void *ctx, void *ptr, size_t size)
{
    jblock *b;
    void *n;

    if (!ptr)
        return jp_malloc(ctx, size);
    b = (jblock *)ptr - 1;
    if (b->size >= size)
        return ptr;
    if (!(n = jp_malloc(ctx, size)))
        return NULL;
    memcpy(n, ptr, b->size);
    jp_free(ctx, ptr);
    return n;
}

size_t tsr__json_offset(const tsr_json_parse *jp)
{
    /* live during callbacks: just past the token being reported */
    return jp->handle ? yajl_get_bytes_consumed((yajl_handle)jp->handle) : 0;
}

int tsr__json_parse(tsr_json_parse *jp, const void *callbacks, void *ctx, const char *text,
                    size_t len, int cancelled, char *msg, size_t msgsize)
{
    yajl_alloc_funcs afs = { jp_malloc, jp_realloc, jp_free, NULL };
    yajl_handle h;
    yajl_status st;
    int rc = TSR_OK;

    afs.ctx = jp;
    jp->oom = false;
    if (!(h = yajl_alloc(callbacks, &afs, ctx)))
        return TSR_ENOMEM;
    jp->handle = h;
    st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (jp->oom) {
        rc = TSR_ENOMEM;
    } else if (st == yajl_status_client_canceled) {
        rc = cancelled;
    } else if (st != yajl_status_ok) {
        unsigned char *m = yajl_get_error(h, 0, NULL, 0);
        size_t n = m ? strlen((const char *)m) : 0;
        while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' ' || m[n - 1] == '.'))
            n--;
        snprintf(msg, msgsize, "invalid JSON near byte %zu: %.*s", yajl_get_bytes_consumed(h),
                 (int)n, m ? (const char *)m : "syntax error");
        if (m)
            yajl_free_error(h, m);
        rc = jp->oom ? TSR_ENOMEM : TSR_EPARSE;
    }
    yajl_free(h);
    jp->handle = NULL;
    return rc;
}
