/*
 * promo_index.c — which promo code rules an entered code can match, found
 * without trying each rule (SPEC §4 step 4 still decides: the first rule in
 * file order whose `code` or `match` fits).
 *
 * Exact codes are unique (the loader refuses a code given twice), so a
 * keyed hash of them gives the one rule a code names.  A pattern is tried
 * only when the code starts with the pattern's literal prefix
 * (tsr__regex_prefix): patterns are grouped by prefix, and a code looks up
 * the group of each prefix length present, so its cost grows with the
 * number of lengths, not of patterns.  Skipping a pattern whose prefix does
 * not fit changes nothing: PCRE2 would have answered "no match" without
 * reaching a limit (tsr__regex_prefix gives no prefix when it could not
 * be sure of that).
 */
#include "promo_index.h"

/* The prefix-matching key of code[0..n): ASCII upper-cased, and the two
 * characters that fold to an ASCII letter case-insensitively (U+212A
 * KELVIN SIGN, U+017F LATIN SMALL LETTER LONG S) as that letter. */
static size_t fold_key(const char *s, size_t n, char out[TSR_REGEX_PREFIX_MAX])
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, k = 0;

    while (i < n && k < TSR_REGEX_PREFIX_MAX) {
        if (u[i] == 0xE2 && n - i >= 3 && u[i + 1] == 0x84 && u[i + 2] == 0xAA) {
            out[k++] = 'K';
            i += 3;
        } else if (u[i] == 0xC5 && n - i >= 2 && u[i + 1] == 0xBF) {
            out[k++] = 'S';
            i += 2;
        } else {
            out[k++] = (char)(u[i] >= 'a' && u[i] <= 'z' ? u[i] - ('a' - 'A') : u[i]);
            i++;
        }
    }
    return k;
}

static size_t table_cap(size_t n)
{
    size_t cap = 8;
    while (cap < n * 2 && cap <= SIZE_MAX / 4)
        cap *= 2;
    return cap;
}

static size_t group_slot(const tsr_promo_index *ix, const char *s, size_t n)
{
    size_t i = (size_t)tsr__hash(&ix->key, s, n) & ix->groups_mask;
    while (ix->groups[i].prefix &&
           !(ix->groups[i].len == n && memcmp(ix->groups[i].prefix, s, n) == 0))
        i = (i + 1) & ix->groups_mask;
    return i;
}

static bool is_code(const tsr_promo_index *ix, int32_t p, const char *code, size_t len)
{
    return ix->promos[p].code_len == len && tsr__same_bytes(ix->promos[p].code, code, len);
}

int tsr__promo_index_lookup(const tsr_promo_index *ix, const char *code, size_t len)
{
    size_t i;
    int32_t p;

    if (!ix->codes)
        return tsr__promo_index_few(ix, code, len);
    i = (size_t)tsr__hash(&ix->key, code, len) & ix->codes_mask;
    while ((p = ix->codes[i]) >= 0) {
        if (is_code(ix, p, code, len))
            return p;
        i = (i + 1) & ix->codes_mask;
    }
    return -1;
}

void tsr__promo_cands_begin(const tsr_promo_index *ix, tsr_promo_cands *c, const char *code,
                            size_t len)
{
    char key[TSR_REGEX_PREFIX_MAX];
    size_t klen, i;

    c->nlists = 0;
    if (ix->ngeneral) {
        c->list[0] = ix->general;
        c->left[0] = ix->ngeneral;
        c->nlists = 1;
    }
    if (!ix->nlens)
        return;
    klen = fold_key(code, len, key);
    for (i = 0; i < ix->nlens && ix->lens[i] <= klen; i++) {
        const tsr_promo_group *g = &ix->groups[group_slot(ix, key, ix->lens[i])];
        if (g->prefix) {
            c->list[c->nlists] = g->members;
            c->left[c->nlists] = g->n;
            c->nlists++;
        }
    }
}

int tsr__promo_cands_next(tsr_promo_cands *c)
{
    size_t i, best = c->nlists;
    int32_t v;

    for (i = 0; i < c->nlists; i++)
        if (c->left[i] && (best == c->nlists || c->list[i][0] < c->list[best][0]))
            best = i;
    if (best == c->nlists)
        return -1;
    v = c->list[best][0];
    c->list[best]++;
    c->left[best]--;
    return v;
}

/* Put exact code rule p in the code table (sized for all of them). */
static void put_code(tsr_promo_index *ix, int32_t p)
{
    size_t i = (size_t)tsr__hash(&ix->key, ix->promos[p].code, ix->promos[p].code_len) &
               ix->codes_mask;
    while (ix->codes[i] >= 0)
        i = (i + 1) & ix->codes_mask;
    ix->codes[i] = p;
}

/* Group every pattern with a prefix; slot[p] is pattern p's group slot, or
 * SIZE_MAX for the general list.  Two passes: count, then fill. */
static int build_groups(tsr_promo_index *ix, tsr_ruleset *rs, size_t *slot)
{
    bool present[TSR_REGEX_PREFIX_MAX + 1] = { false };
    size_t i, k, ngen = 0;

    for (i = 0; i < rs->npromos; i++) {
        char pre[TSR_REGEX_PREFIX_MAX];
        tsr_promo_group *g;

        slot[i] = SIZE_MAX;
        if (!rs->promos[i].match)
            continue;
        if (!(k = tsr__regex_prefix(rs->promos[i].match, pre, sizeof pre))) {
            ngen++;
            continue;
        }
        slot[i] = group_slot(ix, pre, k);
        g = &ix->groups[slot[i]];
        if (!g->prefix) {
            if (!(g->prefix = tsr__arena_strndup(&rs->arena, pre, k)))
                return TSR_ENOMEM;
            g->len = (uint32_t)k;
            present[k] = true;
        }
        g->n++;
    }
    for (k = 1; k <= TSR_REGEX_PREFIX_MAX; k++)
        if (present[k])
            ix->lens[ix->nlens++] = (uint8_t)k;
    if (ngen && !(ix->general = tsr__arena_calloc(&rs->arena, ngen, sizeof *ix->general)))
        return TSR_ENOMEM;
    for (i = 0; i <= ix->groups_mask; i++) {
        tsr_promo_group *g = &ix->groups[i];
        if (g->prefix && !(g->members = tsr__arena_calloc(&rs->arena, g->n, sizeof *g->members)))
            return TSR_ENOMEM;
        g->n = 0;   /* counts again while filling */
    }
    for (i = 0; i < rs->npromos; i++) {
        if (!rs->promos[i].match)
            continue;
        if (slot[i] == SIZE_MAX) {
            ix->general[ix->ngeneral++] = (int32_t)i;
        } else {
            tsr_promo_group *g = &ix->groups[slot[i]];
            g->members[g->n++] = (int32_t)i;
        }
    }
    return TSR_OK;
}

int tsr__promo_index_build(tsr_ruleset *rs)
{
    tsr_promo_index *ix;
    size_t ncodes = 0, i, *slot;
    int rc;

    rs->promo_index = NULL;
    if (rs->npromos > INT32_MAX)
        return TSR_ENOMEM;
    if (!(ix = tsr__arena_calloc(&rs->arena, 1, sizeof *ix)))
        return TSR_ENOMEM;
    ix->promos = rs->promos;
    tsr__hash_key_init(&ix->key, ix, rs->npromos);
    for (i = 0; i < rs->npromos; i++) {
        tsr_promo *p = &rs->promos[i];
        ncodes += p->code != NULL;
        ix->npatterns += p->match != NULL;
        /* valid.any: its window, weekdays, hours or channels */
        p->open = !p->when && !p->valid.any && !p->has_max_uses_per_customer && !p->has_max_uses;
    }
    for (i = 0; i < rs->npromos; i++)
        if (rs->promos[i].code) {
            ix->code_lens |= tsr__promo_len_bit(rs->promos[i].code_len);
            if (ncodes <= TSR_PROMO_FEW_CODES)
                ix->few[ix->nfew++] = (int32_t)i;
        }
    if (ncodes > TSR_PROMO_FEW_CODES) {
        ix->codes_mask = table_cap(ncodes) - 1;
        if (!(ix->codes = tsr__arena_alloc(&rs->arena, (ix->codes_mask + 1) * sizeof *ix->codes)))
            return TSR_ENOMEM;
        memset(ix->codes, 0xFF, (ix->codes_mask + 1) * sizeof *ix->codes);   /* all -1 */
        for (i = 0; i < rs->npromos; i++)
            if (rs->promos[i].code)
                put_code(ix, (int32_t)i);
    }
    if (ix->npatterns) {
        ix->groups_mask = table_cap(ix->npatterns) - 1;
        ix->groups = tsr__arena_calloc(&rs->arena, ix->groups_mask + 1, sizeof *ix->groups);
        slot = tsr__calloc(&rs->alloc, rs->npromos, sizeof *slot);
        if (!ix->groups || !slot) {
            tsr__free(&rs->alloc, slot, rs->npromos * sizeof *slot);
            return TSR_ENOMEM;
        }
        rc = build_groups(ix, rs, slot);
        tsr__free(&rs->alloc, slot, rs->npromos * sizeof *slot);
        if (rc != TSR_OK)
            return rc;
    }
    rs->promo_index = ix;
    return TSR_OK;
}
