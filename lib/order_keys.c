/*
 * order_keys.c — the keys of an order's objects: their table (name, type,
 * whether required, the words of the docs and the JSON Schema, and the tag
 * that tells the event reader what each names), and the per-record key
 * index the reader resolves a key with, built once per rule set from the
 * built-in keys and the schema's fields.
 */
#include "order_impl.h"

/* A key's tag: what its value is for the reader (TSR_X_*), and a slot.
 * Null is always allowed: the key is then absent. */
#define OTAG(target, slot) TSR_OTAG(TSR_X_##target, slot)
#define OPT TSR_KF_NULL

static const tsr_key lot_keys[] = {
    { "id", TSR_KS_STRING, OPT, OTAG(LOT_FIELD, 0), .example = "L-2026-01",
      .desc = "The lot's id, listed in `points.lots_used` of the result." },
    { "points", TSR_KS_INT, OPT, OTAG(LOT_FIELD, 1), TSR_K_AT_LEAST(0), .example = "500",
      .desc = "The points in the lot." },
    { "expires_on", TSR_KS_DATE, OPT, OTAG(LOT_FIELD, 2), .example = "2027-01-01",
      .desc = "The first day its points can no longer be used; without it, they do not expire." },
};
TSR_KEYSET(tsr__keys_points_lot, "points_lot", "A lot of points with its expiry.", lot_keys);

static const tsr_key customer_keys[] = {
    { "id", TSR_KS_STRING, OPT, OTAG(FIELD, TSR_CUST_ID), .example = "C-77",
      .desc = "The customer's id; by default only customers with one earn and redeem points." },
    { "tags", TSR_KS_STRING_LIST, OPT, OTAG(FIELD, TSR_CUST_TAGS), .example = "[\"season_pass\"]",
      .desc = "Free tags, read as `customer.tags` (`\"season_pass\" in customer.tags`)." },
    { "points_balance", TSR_KS_INT, OPT, OTAG(FIELD, TSR_CUST_POINTS_BALANCE), TSR_K_AT_LEAST(0),
      .example = "1200", .desc = "The points the customer holds and may redeem." },
    { "points_lots", TSR_KS_LIST, OPT, OTAG(LOTS, 0), .sub = &tsr__keys_points_lot,
      .desc = "The points the customer holds by lot, instead of a bare balance." },
};
TSR_KEYSET(tsr__keys_customer, "customer",
           "The customer; fields beyond these must be declared in `schema.customer`.",
           customer_keys);

static const tsr_key item_keys[] = {
    { "id", TSR_KS_STRING, TSR_KF_REQUIRED, OTAG(FIELD, TSR_ITEM_ID), .example = "t1",
      .desc = "The line's id, unique in the order." },
    { "kind", TSR_KS_STRING, TSR_KF_REQUIRED, OTAG(FIELD, TSR_ITEM_KIND), .example = "ticket",
      .desc = "What the line sells, in the venue's own words: ticket, fnb, merch, ..." },
    { "quantity", TSR_KS_INT, OPT, OTAG(FIELD, TSR_ITEM_QUANTITY), TSR_K_AT_LEAST(1),
      .dflt = "1", .example = "2", .desc = "The number of units on the line." },
    { "price", TSR_KS_MONEY, OPT, OTAG(FIELD, TSR_ITEM_PRICE), TSR_K_AT_LEAST(0),
      .example = "150.00", .desc = "The unit price, for a line that no category prices." },
    { "sku", TSR_KS_STRING, OPT, OTAG(FIELD, TSR_ITEM_SKU), .example = "COLA-05",
      .desc = "The product code." },
    { "category", TSR_KS_STRING, OPT, OTAG(FIELD, TSR_ITEM_CATEGORY), .ids = TSR_KI_CATEGORY,
      .example = "student", .desc = "A category the order names for the line itself: only one declared `selectable: true` whose conditions hold for the line." },
};
TSR_KEYSET(tsr__keys_item, "item",
           "A line of an order; fields beyond these must be declared in `schema.item`.", item_keys);

static const tsr_key order_keys[] = {
    { "id", TSR_KS_STRING, OPT, OTAG(FIELD, TSR_ORDER_ID), .example = "A-1001",
      .desc = "The order's id, echoed in the result." },
    { "datetime", TSR_KS_DATETIME, TSR_KF_REQUIRED, OTAG(FIELD, TSR_ORDER_DATETIME),
      .example = "2026-06-13T14:30:00+03:00",
      .desc = "When the order is placed: `now` in the rules." },
    { "channel", TSR_KS_STRING, OPT, OTAG(FIELD, TSR_ORDER_CHANNEL), .example = "web",
      .desc = "The sales channel, for `channels:` and `order.channel`." },
    { "customer", TSR_KS_MAP, OPT, OTAG(CUSTOMER, 0), .sub = &tsr__keys_customer,
      .desc = "Who orders." },
    { "items", TSR_KS_LIST, TSR_KF_REQUIRED | TSR_KF_NONEMPTY, OTAG(ITEMS, 0),
      .sub = &tsr__keys_item, .desc = "The order's lines." },
    { "promo_codes", TSR_KS_STRING_LIST, OPT, OTAG(PROMO_CODES, TSR_ORDER_PROMO_CODES),
      .example = "[\"DOC-123456\"]", .desc = "The promo codes entered, in the order entered." },
    { "promo_uses", TSR_KS_COUNTS, OPT, OTAG(PROMO_USES, 0), .example = "{\"doctors\": 0}",
      .desc = "By promo code id: how often this customer used it before (`max_uses_per_customer`)." },
    { "promo_total_uses", TSR_KS_COUNTS, OPT, OTAG(PROMO_TOTAL, 0),
      .example = "{\"doctors\": 17}",
      .desc = "By promo code id: how often it was used in all before (`max_uses`)." },
    { "redeem_points", TSR_KS_INT, OPT, OTAG(FIELD, TSR_ORDER_REDEEM_POINTS), TSR_K_AT_LEAST(0),
      .example = "300", .desc = "The points the customer asks to pay with." },
};
TSR_KEYSET(tsr__keys_order, "order",
           "An order, in JSON or YAML; fields beyond these must be declared in `schema.order`.",
           order_keys);
#undef OPT
#undef OTAG

const tsr_keyset *const tsr__order_record_keys[TSR_REC__COUNT] = {
    &tsr__keys_order, &tsr__keys_customer, &tsr__keys_item,
};

/* The entry of a key, or NULL.  Probing to the next empty slot keeps this
 * right for any table; in a perfect one (okey_build) a known key is always
 * found at its home slot, so only unknown keys ever probe. */
const tsr_okey_slot *tsr__okey_find(const tsr_okey_index *ix, const char *key, size_t n)
{
    uint32_t i = tsr__okey_hash(key, n, ix->seed) & ix->mask;

    for (;; i = (i + 1) & ix->mask) {
        const tsr_okey_slot *k = &ix->slots[i];
        if (!k->name)
            return NULL;
        /* a name holds no NUL, so equal bytes mean the key holds none either */
        if (k->len == n && memcmp(k->name, key, n) == 0)
            return k;
    }
}

/* Place every entry at its home slot for `seed`: false when two names
 * share one.  A name met again keeps its first entry (built-in keys come
 * first and win, as the reader's former scan of built-ins, then schema
 * fields, did). */
static bool okey_place_perfect(tsr_okey_index *ix, const tsr_okey_slot *e, size_t count,
                               uint32_t seed)
{
    size_t j;

    memset(ix->slots, 0, ((size_t)ix->mask + 1) * sizeof *ix->slots);
    ix->seed = seed;
    for (j = 0; j < count; j++) {
        tsr_okey_slot *home = &ix->slots[tsr__okey_hash(e[j].name, e[j].len, seed) & ix->mask];
        if (!home->name)
            *home = e[j];
        else if (home->len != e[j].len || memcmp(home->name, e[j].name, e[j].len) != 0)
            return false;
    }
    return true;
}

/* One record's index: every built-in key, then every schema field, in a
 * table at most half full, with a seed that gives every name a slot of
 * its own (a perfect hash: the JSON reader resolves a known key with one
 * hash and one compare).  Found at load by trying seeds, then doubling the
 * table a few times.  Records with very many names, or names the mixed
 * bytes cannot tell apart (same length, first, middle and last byte), get
 * the plain table, where a few keys probe. */
#define OKEY_PERFECT_MAX 64    /* names; beyond, finding a seed costs more than probing */
#define OKEY_SEEDS 64

static int okey_build(tsr_ruleset *rs, tsr_record_kind rec)
{
    const tsr_keyset *ks = tsr__order_record_keys[rec];
    const tsr_record_schema *schema = &rs->records[rec];
    size_t nb = tsr__order_builtins[rec].nbuiltin, total, count = 0, base = 8, cap, won = 0, i;
    tsr_okey_index *ix = &rs->okeys[rec], trial;
    tsr_okey_slot *e;
    uint32_t seed;
    int rc = TSR_ENOMEM;

    total = ks->n + (schema->len > nb ? schema->len - nb : 0);
    while (base < 2 * total)
        base *= 2;
    if (base > UINT32_MAX / 16 || !(e = tsr__calloc(&rs->alloc, total, sizeof *e)))
        return TSR_ENOMEM;
    for (i = 0; i < ks->n; i++) {
        const tsr_key *k = &ks->keys[i];
        uint8_t target = TSR_OTAG_TARGET(k), slot = TSR_OTAG_SLOT(k);
        e[count].name = k->name;
        e[count].len = (uint32_t)strlen(k->name);
        e[count].target = target;
        e[count].field = target == TSR_X_FIELD ? &tsr__order_builtins[rec].fields[slot] : NULL;
        e[count].seen_at = target == TSR_X_FIELD || target == TSR_X_PROMO_CODES
                               ? slot : (uint32_t)(schema->len + (size_t)(target - TSR_X_CUSTOMER));
        count++;
    }
    for (i = nb; i < schema->len; i++) {
        const tsr_field *fd = &schema->fields[i];
        e[count].name = fd->name;
        e[count].len = (uint32_t)strlen(fd->name);
        e[count].target = TSR_X_FIELD;
        e[count].field = fd;
        e[count].seen_at = fd->slot;
        count++;
    }
    for (i = 0; i < count; i++) {
        char head[16] = { 0 };
        memcpy(head, e[i].name, e[i].len < 16 ? e[i].len : 16);
        memcpy(e[i].head, head, sizeof head);
    }
    /* The trials share one scratch table; the index keeps the one that won. */
    trial.slots = tsr__calloc(&rs->alloc, base * 8, sizeof *trial.slots);
    if (!trial.slots)
        goto out;
    for (cap = base; count <= OKEY_PERFECT_MAX && cap <= base * 8 && !won; cap *= 2) {
        trial.mask = (uint32_t)(cap - 1);
        for (seed = 0; seed < OKEY_SEEDS && !won; seed++)
            if (okey_place_perfect(&trial, e, count, seed))
                won = cap;
    }
    if (!won) {
        won = base;
        trial.mask = (uint32_t)(base - 1);
        trial.seed = 0;
        memset(trial.slots, 0, base * sizeof *trial.slots);
        for (i = 0; i < count; i++)   /* the first entry of a name wins */
            if (!tsr__okey_find(&trial, e[i].name, e[i].len)) {
                uint32_t h = tsr__okey_hash(e[i].name, e[i].len, 0) & trial.mask;
                while (trial.slots[h].name)
                    h = (h + 1) & trial.mask;
                trial.slots[h] = e[i];
            }
    }
    ix->mask = trial.mask;
    ix->seed = trial.seed;
    if ((ix->slots = tsr__arena_alloc(&rs->arena, won * sizeof *ix->slots)) != NULL) {
        memcpy(ix->slots, trial.slots, won * sizeof *ix->slots);
        rc = TSR_OK;
    }
    tsr__free(&rs->alloc, trial.slots, base * 8 * sizeof *trial.slots);
out:
    tsr__free(&rs->alloc, e, total * sizeof *e);
    return rc;
}

int tsr__order_keys_build(tsr_ruleset *rs)
{
    int rec, rc;
    for (rec = 0; rec < TSR_REC__COUNT; rec++)
        if ((rc = okey_build(rs, (tsr_record_kind)rec)) != TSR_OK)
            return rc;
    return TSR_OK;
}
