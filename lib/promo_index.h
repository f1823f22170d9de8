/*
 * promo_index.h — finding the promo code rule an entered code matches
 * without trying every rule (promo_index.c): exact codes in a keyed hash,
 * patterns grouped by their literal prefix (tsr__regex_prefix).  Built at
 * load in the rule set's arena; read-only afterwards.
 */
#ifndef TSR_PROMO_INDEX_H
#define TSR_PROMO_INDEX_H

#include "rules.h"

#define TSR_PROMO_FEW_CODES 8

/* The patterns whose prefix is one text, in file order. */
typedef struct tsr_promo_group {
    const char *prefix;         /* upper-cased ASCII; NULL: an empty slot */
    uint32_t len;
    uint32_t n;
    int32_t *members;           /* promo indexes, ascending */
} tsr_promo_group;

struct tsr_promo_index {
    tsr_hash_key key;
    const tsr_promo *promos;
    /* Exact codes: up to TSR_PROMO_FEW_CODES compared in turn (cheaper than
     * hashing the entered code), more in a hash table; code_lens has bit
     * min(len, 63) set for each code's length, so most unknown codes are
     * refused without either. */
    uint64_t code_lens;
    int32_t few[TSR_PROMO_FEW_CODES];
    size_t nfew;
    int32_t *codes;             /* slots: promo index of an exact code, -1 empty */
    size_t codes_mask;
    tsr_promo_group *groups;    /* open addressing by (prefix, len) */
    size_t groups_mask;
    uint8_t lens[TSR_REGEX_PREFIX_MAX];   /* the prefix lengths present, ascending */
    size_t nlens;
    int32_t *general;           /* patterns without a prefix, ascending */
    size_t ngeneral;
    size_t npatterns;
};

/* The patterns to try for one entered code, in file order: the general
 * list and the group of each prefix length that fits. */
typedef struct tsr_promo_cands {
    const int32_t *list[TSR_REGEX_PREFIX_MAX + 1];
    size_t left[TSR_REGEX_PREFIX_MAX + 1];
    size_t nlists;
} tsr_promo_cands;

/* The rule whose exact `code` is code[0..len) (normalised), or -1; the
 * length is checked inline, as most unknown codes fail there. */
int tsr__promo_index_lookup(const tsr_promo_index *ix, const char *code, size_t len);
static inline uint64_t tsr__promo_len_bit(size_t len)
{
    return UINT64_C(1) << (len < 63 ? len : 63);
}

/* The rule among the few codes (ix->codes NULL) whose code is
 * code[0..len), or -1: each compared in turn. */
static inline int tsr__promo_index_few(const tsr_promo_index *ix, const char *code, size_t len)
{
    size_t i;

    for (i = 0; i < ix->nfew; i++) {
        const tsr_promo *p = &ix->promos[ix->few[i]];
        if (p->code_len == len && tsr__same_bytes(p->code, code, len))
            return ix->few[i];
    }
    return -1;
}

/* tsr__promo_index_lookup with its few codes (the common rule set) compared
 * inline, without the call. */
static inline int tsr__promo_index_exact(const tsr_promo_index *ix, const char *code, size_t len)
{
    if (!(ix->code_lens & tsr__promo_len_bit(len)))
        return -1;
    if (ix->codes)
        return tsr__promo_index_lookup(ix, code, len);
    return tsr__promo_index_few(ix, code, len);
}

/* Start the candidate patterns for normalised code[0..len). */
void tsr__promo_cands_begin(const tsr_promo_index *ix, tsr_promo_cands *c, const char *code,
                            size_t len);
/* The next candidate's promo index, ascending; -1 when there is none. */
int tsr__promo_cands_next(tsr_promo_cands *c);

#endif /* TSR_PROMO_INDEX_H */
