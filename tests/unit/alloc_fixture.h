/* A counting allocator for out-of-memory tests: it tracks the bytes alive
 * and fails every call from the fail_at-th on (0: never), so a test can fail
 * allocation 1, 2, 3, ... and check that nothing leaks.  (Older tests carry
 * their own copy; new ones include this.) */
#ifndef TSR_TEST_ALLOC_FIXTURE_H
#define TSR_TEST_ALLOC_FIXTURE_H

#include <stddef.h>
#include <stdlib.h>

typedef struct counting {
    size_t live;       /* bytes currently allocated */
    size_t calls;
    size_t fail_at;    /* 0: never fail */
} counting;

static void *counting_realloc(void *ud, void *ptr, size_t old_size, size_t new_size)
{
    counting *c = ud;
    if (new_size == 0) {
        c->live -= old_size;
        free(ptr);
        return NULL;
    }
    if (c->fail_at && ++c->calls >= c->fail_at)
        return NULL;
    ptr = realloc(ptr, new_size);
    if (ptr)
        c->live += new_size - old_size;
    return ptr;
}

#endif
