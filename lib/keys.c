/*
 * keys.c — looking keys up in the key sets of keys.h, for the readers
 * that refuse what their set does not list.  The sets themselves live with
 * their readers.
 */
#include "keys.h"

const tsr_key *tsr__key_find(const tsr_keyset *ks, const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < ks->n; i++)
        if (strlen(ks->keys[i].name) == len && memcmp(ks->keys[i].name, s, len) == 0)
            return &ks->keys[i];
    return NULL;
}

const tsr_ynode *tsr__keys_unknown(const tsr_keyset *ks, const tsr_ynode *map)
{
    size_t i;
    for (i = 0; i < map->u.map.len; i++) {
        const tsr_ynode *k = map->u.map.pairs[i].key;
        if (!tsr__key_find(ks, k->u.scalar.text, k->u.scalar.len))
            return k;
    }
    return NULL;
}

const char *tsr__keys_closest(const tsr_keyset *ks, const char *s, size_t len)
{
    return tsr__closest_in(s, len, ks->keys, ks->n, sizeof *ks->keys);
}

int tsr__keys_check(const tsr_keyset *ks, const tsr_ynode *map, const char *file,
                    const char *where, tsr_error *err)
{
    const tsr_ynode *k = tsr__keys_unknown(ks, map);
    const char *near;
    char shown[80];

    if (!k)
        return TSR_OK;
    near = tsr__keys_closest(ks, k->u.scalar.text, k->u.scalar.len);
    /* at most 60 bytes of it: a file that is no rule file (an include gone
     * astray) has its first line quoted, not more */
    return tsr__err_at(err, TSR_ESCHEMA, file, k->line, k->col, "unknown key `%s` in %s%s%s%s",
                       tsr__clip(shown, sizeof shown, k->u.scalar.text, k->u.scalar.len, 60),
                       where, near ? "; did you mean `" : "", near ? near : "", near ? "`?" : "");
}
