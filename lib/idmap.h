/*
 * idmap.h — a string -> index hash set (idmap.c): the order's unique line
 * ids and its promo ids.  The entries are the indexes 0 .. count-1 of an
 * array the caller owns; the set stores only indexes and asks the caller
 * for an entry's key, so it never copies a string.
 */
#ifndef TSR_IDMAP_H
#define TSR_IDMAP_H

#include "internal.h"

/* The table is kept across uses; bumping `gen` (tsr__idmap_begin) empties
 * it without touching memory.  The keys come from orders, so they are
 * hashed with a key drawn afresh for every use that fills the set
 * (tsr__hash): ids crafted to collide under one key do not collide under
 * the next. */
typedef struct tsr_idmap {
    uint32_t *slots;           /* entry index + 1 */
    uint32_t *gens;            /* a slot is in use when gens[i] == gen */
    size_t cap;                /* 0 or a power of two */
    size_t count;
    uint32_t gen;
    uint64_t keys_drawn;       /* how many keys this set has had */
    tsr_hash_key key;
} tsr_idmap;

/* The key of entry i of the caller's array. */
typedef void (*tsr_idmap_key_fn)(const void *ctx, size_t i, const char **s, size_t *n);

/* Empty the set (count 0) for a new use: every order clear does it. */
static inline void tsr__idmap_begin(tsr_idmap *m)
{
    m->count = 0;
    if (++m->gen == 0) {
        /* Wrapped after 2^32 uses: really empty the table once. */
        if (m->gens)
            memset(m->gens, 0, m->cap * sizeof *m->gens);
        m->gen = 1;
    }
}
/* Release the table; the set is then all zero (empty, usable again). */
void tsr__idmap_free(tsr_idmap *m, const tsr_alloc *a);
/* Room for one more entry, so that tsr__idmap_insert cannot fail: TSR_OK
 * or TSR_ENOMEM (the set unchanged).  The entries are placed again, through
 * `key`, when the table grows. */
int tsr__idmap_reserve(tsr_idmap *m, const tsr_alloc *a, tsr_idmap_key_fn key, const void *ctx);
/* The index of key s[0..n), or SIZE_MAX. */
size_t tsr__idmap_find(const tsr_idmap *m, const char *s, size_t n, tsr_idmap_key_fn key,
                       const void *ctx);
/* After tsr__idmap_reserve: add entry `count`, whose key is s[0..n). */
void tsr__idmap_insert(tsr_idmap *m, const char *s, size_t n);
/* The bucket s[0..n) falls in under the current key and size, SIZE_MAX
 * for a set without a table (for tests of the hashing). */
size_t tsr__idmap_bucket(const tsr_idmap *m, const char *s, size_t n);

#endif /* TSR_IDMAP_H */
