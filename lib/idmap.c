/*
 * idmap.c — the string -> index hash set of idmap.h: open addressing with
 * linear probing, at most half full, keyed per use (tsr__hash).
 */
#include "idmap.h"

static uint32_t hash_bytes(const tsr_idmap *m, const char *s, size_t n)
{
    return (uint32_t)tsr__hash(&m->key, s, n);
}

void tsr__idmap_free(tsr_idmap *m, const tsr_alloc *a)
{
    tsr__free(a, m->slots, m->cap * sizeof *m->slots);
    tsr__free(a, m->gens, m->cap * sizeof *m->gens);
    memset(m, 0, sizeof *m);
}

static void place(tsr_idmap *m, uint32_t h, size_t index)
{
    size_t mask = m->cap - 1, i = h & mask;
    while (m->gens[i] == m->gen)
        i = (i + 1) & mask;
    m->gens[i] = m->gen;
    m->slots[i] = (uint32_t)(index + 1);
}

/* Load factor <= 1/2. */
int tsr__idmap_reserve(tsr_idmap *m, const tsr_alloc *a, tsr_idmap_key_fn key, const void *ctx)
{
    size_t cap, i;
    uint32_t *slots, *gens;

    /* A new key for every use that fills the set: the table is empty now
     * (gen was bumped), so nothing placed under the old key remains. */
    if (m->count == 0)
        tsr__hash_key_init(&m->key, m, ++m->keys_drawn);
    if ((m->count + 1) * 2 <= m->cap)
        return TSR_OK;
    cap = m->cap ? m->cap * 2 : 16;
    if (cap > UINT32_MAX / 2)
        return TSR_ENOMEM;
    slots = tsr__malloc(a, cap * sizeof *slots);
    gens = tsr__calloc(a, cap, sizeof *gens);
    if (!slots || !gens) {
        tsr__free(a, slots, cap * sizeof *slots);
        tsr__free(a, gens, cap * sizeof *gens);
        return TSR_ENOMEM;
    }
    tsr__free(a, m->slots, m->cap * sizeof *m->slots);
    tsr__free(a, m->gens, m->cap * sizeof *m->gens);
    m->slots = slots;
    m->gens = gens;
    m->cap = cap;
    m->gen = 1;
    for (i = 0; i < m->count; i++) {
        const char *s;
        size_t n;
        key(ctx, i, &s, &n);
        place(m, hash_bytes(m, s, n), i);
    }
    return TSR_OK;
}

size_t tsr__idmap_find(const tsr_idmap *m, const char *s, size_t n, tsr_idmap_key_fn key,
                       const void *ctx)
{
    size_t mask, i;
    if (m->cap == 0)
        return SIZE_MAX;
    mask = m->cap - 1;
    for (i = hash_bytes(m, s, n) & mask; m->gens[i] == m->gen; i = (i + 1) & mask) {
        const char *ks;
        size_t kn, idx = m->slots[i] - 1;
        key(ctx, idx, &ks, &kn);
        if (kn == n && memcmp(ks, s, n) == 0)
            return idx;
    }
    return SIZE_MAX;
}

void tsr__idmap_insert(tsr_idmap *m, const char *s, size_t n)
{
    place(m, hash_bytes(m, s, n), m->count);
    m->count++;
}

size_t tsr__idmap_bucket(const tsr_idmap *m, const char *s, size_t n)
{
    return m->cap ? hash_bytes(m, s, n) & (m->cap - 1) : SIZE_MAX;
}
