/* The counting allocator of the unit tests' out-of-memory and leak checks
 * (one copy for every test file): it tracks the bytes alive and can fail
 * allocating calls, so a test fails allocation 1, 2, 3, ... and checks
 * that every failure is TSR_ENOMEM with nothing leaked.
 *
 *   counting c = { .fail_at = n };                  calls n, n+1, ... fail
 *   counting c = { .fail_at = n, .fail_once = true };  only call n fails
 *   tsr_allocator a = { counting_realloc, &c };
 *
 * Frees are not calls.  Set c.calls = 0 (and fail_at) between attempts. */
#ifndef TSR_TEST_ALLOC_FIXTURE_H
#define TSR_TEST_ALLOC_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct counting {
    size_t live;       /* bytes currently allocated */
    size_t calls;      /* allocating calls so far (including failed ones) */
    size_t allocs;     /* of them, the ones that succeeded */
    size_t failed;     /* of them, the ones failed on purpose */
    size_t fail_at;    /* 0: never fail; else the fail_at-th call fails, */
    bool fail_once;    /* and every later one too unless this is set */
} counting;

static void *counting_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    counting *c = ud;
    if (new_size == 0) {
        c->live -= old_size;
        free(ptr);
        return NULL;
    }
    c->calls++;
    if (c->fail_at && (c->fail_once ? c->calls == c->fail_at : c->calls >= c->fail_at)) {
        c->failed++;
        return NULL;
    }
    ptr = realloc(ptr, new_size);
    if (ptr) {
        c->live += new_size - old_size;
        c->allocs++;
    }
    return ptr;
}

#endif
