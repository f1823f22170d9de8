/*
 * order_read.c — the event reader that the JSON and YAML readers drive
 * (map and array starts and ends, keys, typed scalars), so that both read
 * orders by the same rules and fail at the same JSON paths.  (The JSON
 * reader takes a fast path of its own for the common case, and comes here
 * for everything else: order_json.c.)
 *
 * The reader is schema-driven: every key is resolved against the record's
 * key index (order_keys.c) when it arrives, and every value is checked
 * against its field's type and stored by the rules of order.c.  A
 * container the order's shape does not allow is refused at its first
 * bracket, so nothing deeper is ever looked at.
 */
#include "order_impl.h"

/* A points lot is not a record; its fields only lend their types, by the
 * slot in the tags of tsr__keys_points_lot. */
static const tsr_field lot_fields[] = {
    { "id", TSR_T_STRING, 0, 0, 0, 0 },
    { "points", TSR_T_INT, 0, 1, 0, 0 },
    { "expires_on", TSR_T_DATE, 0, 2, 0, 0 },
};

static bool is_map(uint8_t kind)
{
    return kind <= TSR_OF_PROMO_MAP;
}

void tsr__oread_init(tsr_oreader *r, tsr_order *o, bool yaml, tsr_error *err)
{
    /* Frames are set up when pushed: no need to clear them for every order. */
    r->rc = TSR_OK;
    r->done = false;
    r->depth = 0;
    r->owned = false;
    r->o = o;
    r->yaml = yaml;
    r->err = err;
}

static tsr_oframe *top(tsr_oreader *r)
{
    return r->depth ? &r->frames[r->depth - 1] : NULL;
}

/* The JSON path of the reader's position.  `pending`: of the value about
 * to begin (in an array, the next element) rather than the current one. */
static void render_path(const tsr_oreader *r, bool pending, char *buf, size_t size)
{
    tsr_pathbuf p = { buf, size, 0 };
    unsigned i;

    buf[0] = '\0';
    for (i = 0; i < r->depth; i++) {
        const tsr_oframe *f = &r->frames[i];
        if (is_map(f->kind)) {
            if (f->key)
                tsr__path_key(&p, f->key, f->key_len);
        } else if (pending && i + 1 == r->depth) {
            tsr__path_index(&p, f->index);
        } else if (f->index > 0) {
            tsr__path_index(&p, f->index - 1);
        }
    }
    if (p.len == 0)
        tsr__path_put(&p, "$", 1);
}

/* The error in r->err (message set by a helper) happened here. */
static int fail(tsr_oreader *r, int rc)
{
    if (r->err) {
        r->err->code = rc;
        render_path(r, false, r->err->path, sizeof r->err->path);
    }
    r->rc = rc;
    return rc;
}

static int failf(tsr_oreader *r, int code, const char *fmt, ...) TSR_PRINTF(3, 4);

static int failf(tsr_oreader *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr__errv(r->err, code, fmt, ap);
    va_end(ap);
    return fail(r, code);
}

int tsr__oread_fail(tsr_oreader *r, int code, const char *fmt, ...)
{
    va_list ap;
    if (r->rc)
        return r->rc;
    va_start(ap, fmt);
    tsr__errv(r->err, code, fmt, ap);
    va_end(ap);
    if (r->err)
        render_path(r, true, r->err->path, sizeof r->err->path);
    r->rc = code;
    return code;
}

static const char *object_word(const tsr_oreader *r)
{
    return r->yaml ? "a mapping" : "an object";
}

static const char *array_word(const tsr_oreader *r)
{
    return r->yaml ? "a sequence" : "an array";
}

/* What the value at position x must be, in words. */
static const char *want_of(const tsr_oreader *r, int x, const tsr_oframe *f)
{
    switch (x) {
    case TSR_X_ROOT:
    case TSR_X_CUSTOMER:
    case TSR_X_PROMO_USES:
    case TSR_X_PROMO_TOTAL:
    case TSR_X_ITEM:
    case TSR_X_LOT:
        return object_word(r);
    case TSR_X_ITEMS:
    case TSR_X_LOTS:
    case TSR_X_PROMO_CODES:
        return array_word(r);
    case TSR_X_PROMO_CODE:
        return "a string";
    case TSR_X_PROMO_COUNT:
        return "an integer";
    case TSR_X_ELEM:
        return tsr__order_type_want(f->list.elem);
    default:
        return f->field->type == TSR_T_LIST ? array_word(r) : tsr__order_type_want(f->field->type);
    }
}

/* The value is a container of the wrong kind. */
static int container_error(tsr_oreader *r, int x, const tsr_oframe *f, bool is_object)
{
    if (x == TSR_X_ROOT)
        return failf(r, TSR_EORDER, "an order must be %s", object_word(r));
    return failf(r, TSR_EORDER, "expected %s, got %s", want_of(r, x, f),
                 is_object ? object_word(r) : array_word(r));
}

static int push(tsr_oreader *r, uint8_t kind, tsr_oframe **out)
{
    tsr_oframe *f;
    if (r->depth == TSR_OREAD_DEPTH)   /* not reachable with the order's shape */
        return failf(r, TSR_ELIMIT, "nesting too deep");
    f = &r->frames[r->depth++];
    *f = (tsr_oframe){ .kind = kind };   /* stores the compiler writes out: no memset call */
    *out = f;
    return TSR_OK;
}

/* Start a value (every event that starts one begins here): bump the
 * enclosing array's index (applying the line limit), say what the value
 * must be, and hand out the enclosing frame (*fp, NULL at the root). */
static int begin_value(tsr_oreader *r, int *x, tsr_oframe **fp)
{
    tsr_oframe *f = *fp = top(r);

    if (r->rc)
        return r->rc;
    if (!f) {
        if (r->done)
            return failf(r, TSR_EORDER, "unexpected text after the order");
        *x = TSR_X_ROOT;
        return TSR_OK;
    }
    switch (f->kind) {
    case TSR_OF_ITEMS:
        f->index++;
        if (f->index > r->o->rs->limits.max_order_lines)
            return failf(r, TSR_ELIMIT, "an order may have at most %zu lines",
                         r->o->rs->limits.max_order_lines);
        *x = TSR_X_ITEM;
        return TSR_OK;
    case TSR_OF_PROMO_CODES:
        f->index++;
        *x = TSR_X_PROMO_CODE;
        return TSR_OK;
    case TSR_OF_LOTS:
        f->index++;
        *x = TSR_X_LOT;
        return TSR_OK;
    case TSR_OF_LIST:
        f->index++;
        *x = TSR_X_ELEM;
        return TSR_OK;
    default:
        if (!f->key)   /* a well-formed event stream never does this */
            return failf(r, TSR_EORDER, "a value without a key");
        *x = f->target;
        return TSR_OK;
    }
}

/* The record of a record's map frame: its kind (order.h). */
static tsr_record_kind frame_record(const tsr_oframe *f)
{
    return (tsr_record_kind)f->kind;
}

/* Store v in the field named by map frame f's current key. */
static int put_field(tsr_oreader *r, tsr_oframe *f, const tsr_value *v)
{
    int rc = tsr__order_store(r->o, frame_record(f), f->index, f->field, v, r->err);
    return rc == TSR_OK ? TSR_OK : fail(r, rc);
}

static int put_lot_field(tsr_oreader *r, tsr_oframe *f, const tsr_value *v)
{
    tsr_points_lot *lot = &r->o->lots[f->index];
    tsr_value val = *v;
    int rc;

    switch (f->field->slot) {
    case 0:
        if ((rc = tsr__order_own_string(r->o, &val, r->err)) != TSR_OK)
            return fail(r, rc);
        lot->id = val.u.s;
        break;
    case 1:
        if (val.u.i < 0)
            return failf(r, TSR_EORDER, "points must be >= 0, got %lld", (long long)val.u.i);
        lot->points = val.u.i;
        break;
    default:
        lot->has_expires = true;
        lot->expires_on = val.u.i;
        break;
    }
    return TSR_OK;
}

int tsr__oread_scalar(tsr_oreader *r, tsr_otok tok, const char *s, size_t n)
{
    tsr_order *o = r->o;
    tsr_oframe *f;
    tsr_value v;
    int x = TSR_X_ROOT, rc;

    if ((rc = begin_value(r, &x, &f)) != TSR_OK)
        return rc;
    /* Every string in the text counts against the limit, whatever it
     * becomes (the YAML parser limits every scalar the same way). */
    if (tok == TSR_OT_STRING && n > o->rs->limits.max_string_length)
        return failf(r, TSR_ELIMIT, "string of %zu bytes is longer than the limit (%zu bytes)", n,
                     o->rs->limits.max_string_length);
    switch (x) {
    case TSR_X_FIELD:
        if (tok == TSR_OT_NULL)   /* null: the field is absent */
            return put_field(r, f, &(tsr_value){ 0 });
        if (f->field->type == TSR_T_LIST) {
            tsr__order_type_error(want_of(r, x, f), tok, s, n, r->yaml, r->err);
            return fail(r, TSR_EORDER);
        }
        {
            tsr_record_kind rec = frame_record(f);
            tsr_value *slot = &tsr__order_record(o, rec, f->index)[f->field->slot];
            /* Straight into the slot: the reader clears the order on error. */
            if ((rc = tsr__order_convert(o, f->field->type, tok, s, n, r->yaml, slot,
                                         r->err)) != TSR_OK ||
                (rc = tsr__order_settle(o, rec, f->field->slot, slot, r->err)) != TSR_OK)
                return fail(r, rc);
            return TSR_OK;
        }
    case TSR_X_LOT_FIELD:
        if (tok == TSR_OT_NULL)
            return TSR_OK;
        if ((rc = tsr__order_convert(o, f->field->type, tok, s, n, r->yaml, &v, r->err)) != TSR_OK)
            return fail(r, rc);
        return put_lot_field(r, f, &v);
    case TSR_X_PROMO_COUNT: {
        tsr_promo_use *u = &o->promo_uses[f->index];
        if (tok == TSR_OT_NULL)
            return TSR_OK;
        if ((rc = tsr__order_convert(o, TSR_T_INT, tok, s, n, r->yaml, &v, r->err)) != TSR_OK)
            return fail(r, rc);
        if (v.u.i < 0)
            return failf(r, TSR_EORDER, "a use count must be >= 0, got %lld", (long long)v.u.i);
        if (f->rec == 1)
            u->uses = v.u.i;
        else
            u->total_uses = v.u.i;
        o->finished = false;
        return TSR_OK;
    }
    case TSR_X_PROMO_CODE:
        if (tok != TSR_OT_STRING) {
            tsr__order_type_error("a string", tok, s, n, r->yaml, r->err);
            return fail(r, TSR_EORDER);
        }
        rc = r->owned ? tsr__order_add_promo_owned(o, s, n, r->err)
                      : tsr__order_add_promo(o, s, n, r->err);
        return rc == TSR_OK ? TSR_OK : fail(r, rc);
    case TSR_X_ELEM:
        if ((rc = tsr__order_convert(o, f->list.elem, tok, s, n, r->yaml, &v, r->err)) != TSR_OK)
            return fail(r, rc);
        rc = r->owned ? tsr__order_list_append_owned(o, &f->list, &v, r->err)
                      : tsr__order_list_append(o, &f->list, &v, r->err);
        return rc == TSR_OK ? TSR_OK : fail(r, rc);
    case TSR_X_CUSTOMER:
    case TSR_X_ITEMS:
    case TSR_X_PROMO_USES:
    case TSR_X_PROMO_TOTAL:
    case TSR_X_LOTS:
    case TSR_X_PROMO_CODES:
        if (tok == TSR_OT_NULL)
            return TSR_OK;
        /* fall through */
    default:
        if (x == TSR_X_ROOT)
            return failf(r, TSR_EORDER, "an order must be %s", object_word(r));
        tsr__order_type_error(want_of(r, x, f), tok, s, n, r->yaml, r->err);
        return fail(r, TSR_EORDER);
    }
}

int tsr__oread_owned_element(tsr_oreader *r, tsr_oframe *f, const char *s, size_t n)
{
    int rc;

    f->index++;
    if (f->kind == TSR_OF_PROMO_CODES)
        rc = tsr__order_add_promo_owned(r->o, s, n, r->err);
    else
        rc = tsr__order_list_append_owned(
            r->o, &f->list, &(tsr_value){ .type = TSR_T_STRING, .len = (uint32_t)n, .u.s = s },
            r->err);
    return rc == TSR_OK ? TSR_OK : fail(r, rc);
}

int tsr__oread_start_map(tsr_oreader *r)
{
    tsr_order *o = r->o;
    tsr_oframe *f, *nf = NULL;
    size_t index;
    int x = TSR_X_ROOT, rc;

    if ((rc = begin_value(r, &x, &f)) != TSR_OK)
        return rc;
    switch (x) {
    case TSR_X_ROOT:
        tsr__order_seen_begin(o, TSR_REC_ORDER);
        return push(r, TSR_OF_ORDER, &nf);
    case TSR_X_CUSTOMER:
        o->has_customer = true;
        tsr__order_seen_begin(o, TSR_REC_CUSTOMER);
        return push(r, TSR_OF_CUSTOMER, &nf);
    case TSR_X_ITEM:
        if ((rc = tsr__order_new_line(o, &index, r->err)) != TSR_OK)
            return fail(r, rc);
        tsr__order_seen_begin(o, TSR_REC_ITEM);
        if ((rc = push(r, TSR_OF_ITEM, &nf)) != TSR_OK)
            return rc;
        nf->index = index;
        return TSR_OK;
    case TSR_X_PROMO_USES:
    case TSR_X_PROMO_TOTAL:
        if ((rc = push(r, TSR_OF_PROMO_MAP, &nf)) != TSR_OK)
            return rc;
        nf->rec = x == TSR_X_PROMO_USES ? 1 : 2;
        return TSR_OK;
    case TSR_X_LOT:
        if ((rc = tsr__order_new_lot(o, &index, r->err)) != TSR_OK)
            return fail(r, rc);
        if ((rc = push(r, TSR_OF_LOT, &nf)) != TSR_OK)
            return rc;
        nf->index = index;
        return TSR_OK;
    default:
        return container_error(r, x, f, true);
    }
}

int tsr__oread_start_array(tsr_oreader *r)
{
    tsr_order *o = r->o;
    tsr_oframe *f, *nf = NULL;
    int x = TSR_X_ROOT, rc;

    if ((rc = begin_value(r, &x, &f)) != TSR_OK)
        return rc;
    switch (x) {
    case TSR_X_ITEMS:
        o->has_items = true;
        return push(r, TSR_OF_ITEMS, &nf);
    case TSR_X_PROMO_CODES: {
        /* present, even if empty: `order.promo_codes` is then an empty list */
        tsr_value *slot = &o->order[TSR_ORDER_PROMO_CODES];
        memset(slot, 0, sizeof *slot);
        slot->type = TSR_T_LIST;
        slot->elem = TSR_T_STRING;
        slot->u.list = o->promo_values;
        return push(r, TSR_OF_PROMO_CODES, &nf);
    }
    case TSR_X_LOTS:
        o->has_lots = true;
        return push(r, TSR_OF_LOTS, &nf);
    case TSR_X_FIELD:
        if (f->field->type == TSR_T_LIST) {
            /* built in the frame; stored in f's field when it ends */
            uint8_t elem = f->field->elem;
            if ((rc = push(r, TSR_OF_LIST, &nf)) != TSR_OK)
                return rc;
            nf->list.type = TSR_T_LIST;
            nf->list.elem = elem;
            return TSR_OK;
        }
        /* fall through */
    default:
        return container_error(r, x, f, false);
    }
}

/* The did-you-mean for an unknown key of a record: built-in keys and the
 * schema's fields (or a lot's keys). */
static int unknown_key(tsr_oreader *r, tsr_oframe *f, const char *key, size_t n)
{
    const tsr_ruleset *rs = r->o->rs;
    const char **names = NULL, *best = NULL, *what;
    const tsr_keyset *keys;
    size_t nkeys, nschema = 0, first = 0, total, i;
    char sn[64];

    if (f->kind == TSR_OF_LOT) {
        keys = &tsr__keys_points_lot;
        nkeys = keys->n;
        what = "a points lot";
    } else {
        tsr_record_kind rec = frame_record(f);
        keys = tsr__order_record_keys[rec];
        nkeys = keys->n;
        what = tsr__order_builtins[rec].what;
        first = tsr__order_builtins[rec].nbuiltin;
        nschema = rs->records[rec].len > first ? rs->records[rec].len - first : 0;
    }
    total = nkeys + nschema;
    names = tsr__calloc(&r->o->alloc, total, sizeof *names);
    if (names) {
        for (i = 0; i < nkeys; i++)
            names[i] = keys->keys[i].name;
        for (i = 0; i < nschema; i++)
            names[nkeys + i] = rs->records[frame_record(f)].fields[first + i].name;
        best = tsr__closest(key, n, names, total);
    }
    f->key = key;     /* only for the path, rendered now */
    f->key_len = n;
    tsr__order_snippet(sn, sizeof sn, key, n);
    if (best)
        failf(r, TSR_EORDER, "unknown field \"%s\" in %s; did you mean \"%s\"?", sn, what, best);
    else if (f->kind == TSR_OF_LOT)
        failf(r, TSR_EORDER, "unknown field \"%s\" in %s (it has id, points, expires_on)", sn,
              what);
    else
        failf(r, TSR_EORDER,
              "unknown field \"%s\" in %s: fields beyond the built-in ones must be declared "
              "in the rule set's schema", sn, what);
    tsr__free(&r->o->alloc, names, total * sizeof *names);
    return r->rc;
}

static int duplicate_key(tsr_oreader *r, tsr_oframe *f, const char *key, size_t n)
{
    char sn[64];
    f->key = key;
    f->key_len = n;
    return failf(r, TSR_EORDER, "duplicate key \"%s\"", tsr__order_snippet(sn, sizeof sn, key, n));
}

static int record_key(tsr_oreader *r, tsr_oframe *f, const char *key, size_t n)
{
    const tsr_okey_slot *k = tsr__okey_find(&r->o->rs->okeys[frame_record(f)], key, n);
    uint8_t *seen = r->o->seen[frame_record(f)], gen = r->o->seen_gen[frame_record(f)];

    if (!k)
        return unknown_key(r, f, key, n);
    if (seen[k->seen_at] == gen)
        return duplicate_key(r, f, key, n);
    tsr__oread_note_key(f, seen, gen, k, n);
    return TSR_OK;
}

int tsr__oread_key(tsr_oreader *r, const char *key, size_t n)
{
    tsr_oframe *f = top(r);
    size_t i;
    int rc;

    if (r->rc)
        return r->rc;
    if (!f || !is_map(f->kind))
        return failf(r, TSR_EORDER, "a key outside an object");
    if (n > r->o->rs->limits.max_string_length)
        return failf(r, TSR_ELIMIT, "key of %zu bytes is longer than the limit (%zu bytes)", n,
                     r->o->rs->limits.max_string_length);
    switch (f->kind) {
    case TSR_OF_LOT:
        for (i = 0; i < tsr__keys_points_lot.n; i++) {
            const tsr_key *k = &tsr__keys_points_lot.keys[i];
            if (strlen(k->name) != n || memcmp(k->name, key, n) != 0)
                continue;
            if (f->lot_seen & (1u << i))
                return duplicate_key(r, f, key, n);
            f->lot_seen |= (uint8_t)(1u << i);
            f->target = TSR_X_LOT_FIELD;
            f->field = &lot_fields[TSR_OTAG_SLOT(k)];
            f->key = k->name;
            f->key_len = n;
            return TSR_OK;
        }
        return unknown_key(r, f, key, n);
    case TSR_OF_PROMO_MAP: {
        size_t index;
        bool created;
        tsr_promo_use *u;
        if ((rc = tsr__order_promo_use(r->o, key, n, &index, &created, r->err)) != TSR_OK)
            return fail(r, rc);
        u = &r->o->promo_uses[index];
        if (u->seen & f->rec)
            return duplicate_key(r, f, u->id, u->id_len);
        u->seen |= f->rec;
        f->target = TSR_X_PROMO_COUNT;
        f->index = index;
        f->key = u->id;
        f->key_len = u->id_len;
        return TSR_OK;
    }
    default:
        return record_key(r, f, key, n);
    }
}

int tsr__oread_end_map(tsr_oreader *r)
{
    tsr_oframe *f = top(r);

    if (r->rc)
        return r->rc;
    if (!f || !is_map(f->kind))
        return failf(r, TSR_EORDER, "unbalanced end of an object");
    if (f->kind == TSR_OF_ITEM)
        tsr__order_line_end(r->o, f->index);
    if (f->kind == TSR_OF_ORDER)
        r->done = true;
    r->depth--;
    return TSR_OK;
}

int tsr__oread_end_array(tsr_oreader *r)
{
    tsr_oframe *f = top(r);

    if (r->rc)
        return r->rc;
    if (!f || is_map(f->kind))
        return failf(r, TSR_EORDER, "unbalanced end of an array");
    r->depth--;
    if (f->kind == TSR_OF_LIST) {
        tsr_value list = f->list;
        return put_field(r, top(r), &list);
    }
    return TSR_OK;
}
