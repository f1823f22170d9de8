/*
 * receipt.c — the receipt of a refund: the result JSON (SPEC §6) that
 * evaluating the original order returned.  Owns reading it (yajl's SAX
 * parser, numbers taken as their text, so nothing passes through floating
 * point) and checking it against the order evaluated again under the
 * loaded rule set.
 *
 * Why check at all, when the order is re-evaluated anyway: the receipt is
 * what the customer was charged.  A refund must give back what was paid,
 * so the two must agree; when they do not (a receipt from another rule set
 * or version, for another order, edited, or a rule file changed without a
 * new version) the refund is refused rather than guessed.  Every refusal is
 * TSR_ERECEIPT with the JSON path of the first disagreement.
 */
#include "refund.h"

#include <stdio.h>
#include <stdlib.h>
#include <yajl/yajl_parse.h>

/* ---------------------------------------------------------------------
 * Reading.  A stack of frames follows the receipt's shape; keys a refund
 * does not need are skipped whole, whatever they hold.
 */
typedef enum frame_kind {
    F_TOP, F_RULESET, F_LINES, F_LINE, F_DISCOUNTS, F_DISCOUNT, F_REDEEMED, F_LINE_TAX,
    F_TOTALS, F_TAXES, F_TAX, F_POINTS
} frame_kind;

typedef enum vkind {
    V_OBJECT, V_OBJECT_OR_NULL, V_ARRAY, V_STRING, V_STRING_OR_NULL, V_MONEY, V_POINTS
} vkind;

enum {
    K_RULESET = 1, K_ORDER, K_CURRENCY, K_LINES, K_TOTALS, K_TAXES, K_POINTS,
    K_RS_ID, K_RS_VERSION,
    K_L_ID, K_L_SUBTOTAL, K_L_DISCOUNTS, K_L_REDEEMED, K_L_TOTAL, K_L_TAX, K_L_POINTS_EARNED,
    K_D_AMOUNT,
    K_R_POINTS, K_R_VALUE,
    K_LT_ID, K_LT_RATE, K_LT_AMOUNT,
    K_T_SUBTOTAL, K_T_DISCOUNT, K_T_REDEEMED_VALUE, K_T_TAX, K_T_DUE,
    K_X_ID, K_X_RATE, K_X_BASE, K_X_AMOUNT,
    K_P_REDEEMED, K_P_EARNED
};

typedef struct key_spec {
    uint8_t frame;              /* frame_kind the key belongs to */
    uint8_t key;                /* K_* (also its bit in the frame's `seen`) */
    uint8_t vkind;
    uint8_t child;              /* frame pushed for an object or array value */
    bool optional;              /* the tax keys: only a rule set with `taxes` writes them */
    const char *name;
} key_spec;

/* Every key but the tax keys is required: a receipt is the library's own
 * output, so one without, say, a line's `total` was not made by
 * tsr_result_json.  Whether the tax keys must be there depends on the rule
 * set (tsr__receipt_verify). */
static const key_spec keys[] = {
    { F_TOP, K_RULESET, V_OBJECT, F_RULESET, false, "ruleset" },
    { F_TOP, K_ORDER, V_STRING_OR_NULL, 0, false, "order" },
    { F_TOP, K_CURRENCY, V_STRING, 0, false, "currency" },
    { F_TOP, K_LINES, V_ARRAY, F_LINES, false, "lines" },
    { F_TOP, K_TOTALS, V_OBJECT, F_TOTALS, false, "totals" },
    { F_TOP, K_TAXES, V_ARRAY, F_TAXES, true, "taxes" },
    { F_TOP, K_POINTS, V_OBJECT, F_POINTS, false, "points" },
    { F_RULESET, K_RS_ID, V_STRING, 0, false, "id" },
    { F_RULESET, K_RS_VERSION, V_STRING, 0, false, "version" },
    { F_LINE, K_L_ID, V_STRING, 0, false, "id" },
    { F_LINE, K_L_SUBTOTAL, V_MONEY, 0, false, "subtotal" },
    { F_LINE, K_L_DISCOUNTS, V_ARRAY, F_DISCOUNTS, false, "discounts" },
    { F_LINE, K_L_REDEEMED, V_OBJECT, F_REDEEMED, false, "redeemed" },
    { F_LINE, K_L_TOTAL, V_MONEY, 0, false, "total" },
    { F_LINE, K_L_TAX, V_OBJECT_OR_NULL, F_LINE_TAX, true, "tax" },
    { F_LINE, K_L_POINTS_EARNED, V_POINTS, 0, false, "points_earned" },
    { F_DISCOUNT, K_D_AMOUNT, V_MONEY, 0, false, "amount" },
    { F_REDEEMED, K_R_POINTS, V_POINTS, 0, false, "points" },
    { F_REDEEMED, K_R_VALUE, V_MONEY, 0, false, "value" },
    { F_LINE_TAX, K_LT_ID, V_STRING, 0, false, "id" },
    { F_LINE_TAX, K_LT_RATE, V_STRING, 0, false, "rate" },
    { F_LINE_TAX, K_LT_AMOUNT, V_MONEY, 0, false, "amount" },
    { F_TOTALS, K_T_SUBTOTAL, V_MONEY, 0, false, "subtotal" },
    { F_TOTALS, K_T_DISCOUNT, V_MONEY, 0, false, "discount" },
    { F_TOTALS, K_T_REDEEMED_VALUE, V_MONEY, 0, false, "redeemed_value" },
    { F_TOTALS, K_T_TAX, V_MONEY, 0, true, "tax" },
    { F_TOTALS, K_T_DUE, V_MONEY, 0, false, "due" },
    { F_TAX, K_X_ID, V_STRING, 0, false, "id" },
    { F_TAX, K_X_RATE, V_STRING, 0, false, "rate" },
    { F_TAX, K_X_BASE, V_MONEY, 0, false, "base" },
    { F_TAX, K_X_AMOUNT, V_MONEY, 0, false, "amount" },
    { F_POINTS, K_P_REDEEMED, V_POINTS, 0, false, "redeemed" },
    { F_POINTS, K_P_EARNED, V_POINTS, 0, false, "earned" },
};

/* An array whose elements are objects of their own kind. */
static bool is_array(frame_kind k)
{
    return k == F_LINES || k == F_DISCOUNTS || k == F_TAXES;
}

static frame_kind element_of(frame_kind k)
{
    return k == F_LINES ? F_LINE : k == F_DISCOUNTS ? F_DISCOUNT : F_TAX;
}

#define MAX_DEPTH 8   /* the deepest path read: receipt.lines[i].discounts[j].amount */
_Static_assert(K_P_EARNED < 64, "a frame's `seen` has a bit per key");

typedef struct frame {
    frame_kind kind;
    const key_spec *spec;       /* maps: the current key's, NULL when skipped */
    size_t index;               /* arrays: elements begun */
    uint64_t seen;              /* maps: bits of the keys met */
} frame;

typedef struct rreader {
    const tsr_ruleset *rs;
    tsr_receipt *out;
    tsr_arena *arena;
    tsr_error *err;
    int rc;
    unsigned depth;
    unsigned skip;              /* > 0: inside a value that is skipped */
    bool done;
    frame frames[MAX_DEPTH];
} rreader;

static const key_spec *find_key(frame_kind f, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < TSR_ARRAY_LEN(keys); i++)
        if (keys[i].frame == f && strlen(keys[i].name) == n && memcmp(keys[i].name, s, n) == 0)
            return &keys[i];
    return NULL;
}

/* "receipt.lines[1].total": the selectors of frames[0..depth), each map's
 * current key and each array's current element; `with_key` adds the last
 * frame's key too. */
static void render_path(const rreader *r, unsigned depth, bool with_key, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "receipt");
    unsigned i;

    for (i = 0; i < depth && len < size; i++) {
        const frame *f = &r->frames[i];
        bool last = i + 1 == depth;
        if (is_array(f->kind)) {
            if (f->index > 0)
                len += (size_t)snprintf(buf + len, size - len, "[%zu]", f->index - 1);
        } else if (f->spec && (!last || with_key)) {
            len += (size_t)snprintf(buf + len, size - len, ".%s", f->spec->name);
        }
    }
}

static int failv(rreader *r, bool with_key, const char *fmt, va_list ap) TSR_PRINTF(3, 0);

static int failv(rreader *r, bool with_key, const char *fmt, va_list ap)
{
    char path[TSR_ERROR_PATH_MAX];

    if (r->rc != TSR_OK)
        return r->rc;
    render_path(r, r->depth, with_key, path, sizeof path);
    r->rc = tsr__err_pathv(r->err, TSR_ERECEIPT, path, fmt, ap);
    return r->rc;
}

/* A problem with the value of the current key (or array element). */
static int fail_value(rreader *r, const char *fmt, ...) TSR_PRINTF(2, 3);
static int fail_value(rreader *r, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = failv(r, true, fmt, ap);
    va_end(ap);
    return rc;
}

/* A problem with the object being closed. */
static int fail_here(rreader *r, const char *fmt, ...) TSR_PRINTF(2, 3);
static int fail_here(rreader *r, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = failv(r, false, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *vkind_text(vkind k)
{
    switch (k) {
    case V_OBJECT: return "an object";
    case V_OBJECT_OR_NULL: return "an object or null";
    case V_ARRAY: return "an array";
    case V_STRING: return "a string";
    case V_STRING_OR_NULL: return "a string or null";
    case V_MONEY: return "a money amount such as \"118.00\"";
    default: return "a whole number of points";
    }
}

static tsr_receipt_line *current_line(rreader *r)
{
    return &r->out->lines[r->out->nlines - 1];
}

static tsr_receipt_tax *current_tax(rreader *r)
{
    return &r->out->taxes[r->out->ntaxes - 1];
}

static int store_string(rreader *r, const key_spec *k, tsr_otok tok, const char *s, size_t n)
{
    char *copy;

    if (tok == TSR_OT_NULL && k->vkind == V_STRING_OR_NULL)
        return TSR_OK;              /* order: null stays NULL */
    if (tok != TSR_OT_STRING)
        return fail_value(r, "expected %s", vkind_text((vkind)k->vkind));
    if (memchr(s, '\0', n))
        return fail_value(r, "the string holds a NUL character");
    if (!(copy = tsr__arena_strndup(r->arena, s, n)))
        return r->rc = tsr__err(r->err, TSR_ENOMEM, NULL);
    switch (k->key) {
    case K_ORDER: r->out->order_id = copy; break;
    case K_CURRENCY: r->out->currency = copy; break;
    case K_RS_ID: r->out->ruleset_id = copy; break;
    case K_RS_VERSION: r->out->ruleset_version = copy; break;
    case K_LT_ID: current_line(r)->tax_id = copy; break;
    case K_LT_RATE: current_line(r)->tax_rate = copy; break;
    case K_X_ID: current_tax(r)->id = copy; break;
    case K_X_RATE: current_tax(r)->rate = copy; break;
    default: current_line(r)->id = copy; break;
    }
    return TSR_OK;
}

/* The number a money or points key holds, exactly, from its text. */
static int parse_number(rreader *r, const key_spec *k, tsr_otok tok, const char *s, size_t n,
                        int64_t *v)
{
    bool money = k->vkind == V_MONEY;
    char shown[64];
    int rc;

    /* money is written as a string; a bare number is accepted too */
    if (tok != TSR_OT_NUMBER && !(money && tok == TSR_OT_STRING))
        return fail_value(r, "expected %s", vkind_text((vkind)k->vkind));
    rc = tsr__parse_fixed(s, n, money ? r->rs->minor_units : 0, v);
    if (rc == TSR_EVALUE && money)
        return fail_value(r, "`%s` is out of range or has more decimals than %s has",
                          tsr__clip(shown, sizeof shown, s, n, 40), r->rs->currency);
    if (rc != TSR_OK)
        return fail_value(r, "expected %s, not `%s`", vkind_text((vkind)k->vkind),
                          tsr__clip(shown, sizeof shown, s, n, 40));
    if (*v < 0)
        return fail_value(r, "must not be negative");
    return TSR_OK;
}

static int store_number(rreader *r, const key_spec *k, int64_t v)
{
    tsr_receipt *o = r->out;

    switch (k->key) {
    case K_L_SUBTOTAL: current_line(r)->subtotal = v; break;
    case K_L_TOTAL: current_line(r)->total = v; break;
    case K_L_POINTS_EARNED: current_line(r)->points_earned = v; break;
    case K_R_POINTS: current_line(r)->redeemed_points = v; break;
    case K_R_VALUE: current_line(r)->redeemed_value = v; break;
    case K_D_AMOUNT:
        if (!tsr__add(current_line(r)->discount, v, &current_line(r)->discount))
            return fail_value(r, "the line's discounts overflow");
        break;
    case K_T_SUBTOTAL: o->subtotal = v; break;
    case K_T_DISCOUNT: o->discount = v; break;
    case K_T_REDEEMED_VALUE: o->redeemed_value = v; break;
    case K_T_DUE: o->due = v; break;
    case K_LT_AMOUNT: current_line(r)->tax = v; break;
    case K_T_TAX:
        o->tax = v;
        o->has_tax = true;
        break;
    case K_X_BASE: current_tax(r)->base = v; break;
    case K_X_AMOUNT: current_tax(r)->amount = v; break;
    case K_P_REDEEMED: o->points_redeemed = v; break;
    default: o->points_earned = v; break;
    }
    return TSR_OK;
}

static int r_scalar(rreader *r, tsr_otok tok, const char *s, size_t n)
{
    const frame *f;
    const key_spec *k;
    int64_t v;
    int rc;

    if (r->rc != TSR_OK || r->skip)
        return r->rc;
    if (r->depth == 0)
        return fail_here(r, "a receipt is a JSON object (the result of an evaluation)");
    f = &r->frames[r->depth - 1];
    if (is_array(f->kind)) {
        r->frames[r->depth - 1].index++;   /* the path names this element */
        return fail_value(r, "expected an object");
    }
    if (!(k = f->spec))
        return TSR_OK;              /* a key the refund does not need */
    if (k->vkind == V_OBJECT_OR_NULL && tok == TSR_OT_NULL) {
        current_line(r)->tax_given = TSR_RECEIPT_TAX_NULL;   /* "tax": null */
        return TSR_OK;
    }
    if (k->vkind == V_OBJECT || k->vkind == V_OBJECT_OR_NULL || k->vkind == V_ARRAY)
        return fail_value(r, "expected %s", vkind_text((vkind)k->vkind));
    if (k->vkind == V_STRING || k->vkind == V_STRING_OR_NULL)
        return store_string(r, k, tok, s, n);
    if ((rc = parse_number(r, k, tok, s, n, &v)) != TSR_OK)
        return rc;
    return store_number(r, k, v);
}

static int add_line(rreader *r)
{
    tsr_receipt *o = r->out;

    if (o->nlines >= r->rs->limits.max_order_lines)
        return fail_value(r, "the receipt has more lines than an order may have (%zu)",
                          r->rs->limits.max_order_lines);
    if (o->nlines == o->lines_cap) {
        void *p = o->lines;
        if (tsr__arena_grow(r->arena, &p, &o->lines_cap, o->nlines, sizeof *o->lines, 16) != TSR_OK)
            return r->rc = tsr__err(r->err, TSR_ENOMEM, NULL);
        o->lines = p;
    }
    memset(&o->lines[o->nlines++], 0, sizeof o->lines[0]);
    return TSR_OK;
}

/* An entry of `taxes`: at most one per rate of the rule set. */
static int add_tax(rreader *r)
{
    tsr_receipt *o = r->out;

    if (r->rs->taxes.nrates == 0)
        return fail_value(r, "the receipt lists taxes, but the rule set has no `taxes`");
    if (o->ntaxes >= r->rs->taxes.nrates)
        return fail_value(r, "the receipt lists more tax rates than the rule set has (%zu)",
                          r->rs->taxes.nrates);
    if (!o->taxes && !(o->taxes = tsr__arena_calloc(r->arena, r->rs->taxes.nrates,
                                                    sizeof *o->taxes)))
        return r->rc = tsr__err(r->err, TSR_ENOMEM, NULL);
    memset(&o->taxes[o->ntaxes++], 0, sizeof o->taxes[0]);
    return TSR_OK;
}

static int push(rreader *r, frame_kind kind)
{
    frame *f;
    if (r->depth == MAX_DEPTH)
        return fail_value(r, "nested too deeply");
    f = &r->frames[r->depth++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    return TSR_OK;
}

static int r_start(rreader *r, bool is_map)
{
    frame *f;
    const key_spec *k;

    if (r->rc != TSR_OK)
        return r->rc;
    if (r->skip) {
        r->skip++;
        return TSR_OK;
    }
    if (r->depth == 0) {
        if (!is_map || r->done)
            return fail_here(r, "a receipt is a JSON object (the result of an evaluation)");
        return push(r, F_TOP);
    }
    f = &r->frames[r->depth - 1];
    if (is_array(f->kind)) {
        int rc = TSR_OK;
        f->index++;
        if (!is_map)
            return fail_value(r, "expected an object");
        if (f->kind == F_LINES)
            rc = add_line(r);
        else if (f->kind == F_TAXES)
            rc = add_tax(r);
        if (rc != TSR_OK)
            return rc;
        return push(r, element_of(f->kind));
    }
    if (!(k = f->spec)) {
        r->skip = 1;
        return TSR_OK;
    }
    if (k->vkind == V_OBJECT_OR_NULL && is_map)
        current_line(r)->tax_given = TSR_RECEIPT_TAX_RATE;
    if (k->key == K_TAXES)
        r->out->has_taxes = true;
    if (((k->vkind == V_OBJECT || k->vkind == V_OBJECT_OR_NULL) && is_map) ||
        (k->vkind == V_ARRAY && !is_map))
        return push(r, (frame_kind)k->child);
    return fail_value(r, "expected %s", vkind_text((vkind)k->vkind));
}

static int r_key(rreader *r, const char *s, size_t n)
{
    frame *f;
    const key_spec *k;

    if (r->rc != TSR_OK || r->skip)
        return r->rc;
    f = &r->frames[r->depth - 1];
    f->spec = k = find_key(f->kind, s, n);
    if (!k)
        return TSR_OK;
    if (f->seen & ((uint64_t)1 << k->key))
        return fail_value(r, "`%s` is given twice", k->name);
    f->seen |= (uint64_t)1 << k->key;
    return TSR_OK;
}

/* Closing an object: every key its kind needs must have come. */
static int check_complete(rreader *r, const frame *f)
{
    size_t i;
    for (i = 0; i < TSR_ARRAY_LEN(keys); i++)
        if (keys[i].frame == f->kind && !keys[i].optional &&
            !(f->seen & ((uint64_t)1 << keys[i].key)))
            return fail_here(r, "the %s has no `%s`",
                             f->kind == F_TOP ? "receipt" : f->kind == F_LINE ? "line" : "object",
                             keys[i].name);
    return TSR_OK;
}

static int r_end(rreader *r)
{
    frame *f;
    int rc;

    if (r->rc != TSR_OK)
        return r->rc;
    if (r->skip) {
        r->skip--;
        return TSR_OK;
    }
    f = &r->frames[r->depth - 1];
    f->spec = NULL;             /* errors name the object, not its last key */
    if (!is_array(f->kind) && (rc = check_complete(r, f)) != TSR_OK)
        return rc;
    if (--r->depth == 0)
        r->done = true;
    return TSR_OK;
}

/* yajl callbacks: 1 goes on, 0 stops (the reason is in the reader). */
static int cb_null(void *ctx) { return r_scalar(ctx, TSR_OT_NULL, NULL, 0) == TSR_OK; }
static int cb_bool(void *ctx, int b)
{
    return r_scalar(ctx, b ? TSR_OT_TRUE : TSR_OT_FALSE, NULL, 0) == TSR_OK;
}
static int cb_number(void *ctx, const char *s, size_t n)
{
    return r_scalar(ctx, TSR_OT_NUMBER, s, n) == TSR_OK;
}
static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    return r_scalar(ctx, TSR_OT_STRING, (const char *)s, n) == TSR_OK;
}
static int cb_start_map(void *ctx) { return r_start(ctx, true) == TSR_OK; }
static int cb_key(void *ctx, const unsigned char *s, size_t n)
{
    return r_key(ctx, (const char *)s, n) == TSR_OK;
}
static int cb_end(void *ctx) { return r_end(ctx) == TSR_OK; }
static int cb_start_array(void *ctx) { return r_start(ctx, false) == TSR_OK; }

static const yajl_callbacks receipt_callbacks = {
    cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
    cb_start_map, cb_key, cb_end, cb_start_array, cb_end
};

int tsr__receipt_read(tsr_receipt *out, const tsr_ruleset *rs, const char *text, size_t len,
                      tsr_arena *arena, tsr_error *err)
{
    tsr_json_parse jp;
    char msg[TSR_ERROR_TEXT_MAX];
    rreader r;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    r.rs = rs;
    r.out = out;
    r.arena = arena;
    r.err = err;
    jp.alloc = arena->alloc;
    jp.handle = NULL;
    rc = tsr__json_parse(&jp, &receipt_callbacks, &r, text, len, TSR_JSON_CANCELLED, msg, sizeof msg);
    if (rc == TSR_JSON_CANCELLED)
        return r.rc;
    if (rc == TSR_ENOMEM)
        return tsr__err(err, TSR_ENOMEM, NULL);
    if (rc != TSR_OK)
        return tsr__err_path(err, TSR_ERECEIPT, "receipt", "%s", msg);
    if (!r.done)
        return tsr__err_path(err, TSR_ERECEIPT, "receipt", "the receipt is empty");
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Verification.
 */
static int mismatch(tsr_error *err, const char *path, const char *fmt, ...) TSR_PRINTF(3, 4);

static int mismatch(tsr_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tsr__err_pathv(err, TSR_ERECEIPT, path, fmt, ap);
    va_end(ap);
    return TSR_ERECEIPT;
}

static bool same_str(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Who priced it and for which order. */
static int check_identity(const tsr_receipt *rc, const tsr_result *res, tsr_error *err)
{
    const tsr_ruleset *rs = res->rs;

    if (!same_str(rc->ruleset_id, rs->id))
        return mismatch(err, "receipt.ruleset.id",
                        "the receipt was priced by rule set `%s`, not by the loaded `%s`",
                        rc->ruleset_id, rs->id);
    if (!same_str(rc->ruleset_version, rs->version))
        return mismatch(err, "receipt.ruleset.version",
                        "the receipt was priced by version \"%s\" of `%s`; the loaded rule set "
                        "is version \"%s\": refund with the rule file that priced the order",
                        rc->ruleset_version, rs->id, rs->version);
    if (!same_str(rc->currency, rs->currency))
        return mismatch(err, "receipt.currency", "the receipt is in %s, the rule set in %s",
                        rc->currency, rs->currency);
    if (!same_str(rc->order_id, res->order_id))
        return mismatch(err, "receipt.order", "the receipt is for order %s%s%s, not for %s%s%s",
                        rc->order_id ? "`" : "", rc->order_id ? rc->order_id : "null",
                        rc->order_id ? "`" : "", res->order_id ? "`" : "",
                        res->order_id ? res->order_id : "an order without id",
                        res->order_id ? "`" : "");
    return TSR_OK;
}

static const char *money(char *buf, int64_t v, unsigned minor)
{
    tsr__format_fixed(buf, v, minor);
    return buf;
}

/* The receipt's own arithmetic: a line's subtotal − discounts − redeemed
 * value is its total; lines add up to the totals (the lines' tax to
 * totals.tax); subtotal − discount − redeemed_value = due, plus the tax
 * when it is added on top (SPEC §6).  Checked before comparing with the
 * rule set so that an edited receipt is named as such. */
static int check_line_sums(const tsr_receipt *rc, unsigned minor, tsr_error *err)
{
    char path[64], a[40], b[40];
    size_t i;

    for (i = 0; i < rc->nlines; i++) {
        const tsr_receipt_line *l = &rc->lines[i];
        int64_t t = 0;   /* printed below even when a subtraction overflowed */
        if (!tsr__sub(l->subtotal, l->discount, &t) || !tsr__sub(t, l->redeemed_value, &t) ||
            t != l->total) {
            snprintf(path, sizeof path, "receipt.lines[%zu].total", i);
            return mismatch(err, path, "the line's total %s is not its subtotal − discounts − "
                                       "redeemed value (%s)",
                            money(a, l->total, minor), money(b, t, minor));
        }
    }
    return TSR_OK;
}

typedef struct sums {
    int64_t subtotal, discount, redeemed_value, tax, due, points_redeemed, points_earned;
} sums;

/* The tax keys are there exactly when the rule set has `taxes` (before
 * that, a receipt had none; a rule set without taxes writes none). */
static int check_tax_keys(const tsr_receipt *rc, const tsr_ruleset *rs, tsr_error *err)
{
    char path[64];
    size_t i;

    for (i = 0; i < rc->nlines; i++) {
        bool given = rc->lines[i].tax_given != TSR_RECEIPT_TAX_ABSENT;
        if (given == rs->taxes.present)
            continue;
        snprintf(path, sizeof path, "receipt.lines[%zu]", i);
        if (given)
            return mismatch(err, path, "the line carries a `tax`, but the rule set has no "
                                       "`taxes`");
        return mismatch(err, path, "the line has no `tax`, but the rule set has `taxes`: the "
                                   "receipt was priced by another rule file");
    }
    if (rc->has_tax != rs->taxes.present)
        return mismatch(err, "receipt.totals", rc->has_tax
                                                   ? "the totals carry `tax`, but the rule set "
                                                     "has no `taxes`"
                                                   : "the totals have no `tax`, but the rule set "
                                                     "has `taxes`");
    if (rc->has_taxes != rs->taxes.present)
        return mismatch(err, "receipt", rc->has_taxes
                                            ? "the receipt lists `taxes`, but the rule set has "
                                              "no `taxes`"
                                            : "the receipt has no `taxes`, but the rule set has "
                                              "`taxes`");
    return TSR_OK;
}

static int check_totals_sums(const tsr_receipt *rc, const tsr_ruleset *rs, tsr_error *err)
{
    unsigned minor = rs->minor_units;
    bool added = rs->taxes.present && rs->taxes.prices == TSR_TAX_EXCLUSIVE;
    char a[40], b[40];
    sums s;
    size_t i;
    int64_t t = 0;   /* printed below even when a subtraction overflowed */

    memset(&s, 0, sizeof s);
    for (i = 0; i < rc->nlines; i++) {
        const tsr_receipt_line *l = &rc->lines[i];
        if (!tsr__add(s.subtotal, l->subtotal, &s.subtotal) ||
            !tsr__add(s.discount, l->discount, &s.discount) ||
            !tsr__add(s.redeemed_value, l->redeemed_value, &s.redeemed_value) ||
            !tsr__add(s.tax, l->tax, &s.tax) ||
            !tsr__add(s.due, l->total, &s.due) ||
            (added && !tsr__add(s.due, l->tax, &s.due)) ||
            !tsr__add(s.points_redeemed, l->redeemed_points, &s.points_redeemed) ||
            !tsr__add(s.points_earned, l->points_earned, &s.points_earned))
            return mismatch(err, "receipt.lines", "the lines' amounts overflow");
    }
#define SUM_CHECK(field, path, what)                                                     \
    if (s.field != rc->field)                                                            \
        return mismatch(err, path, "%s is %s, but the lines add up to %s", what,         \
                        money(a, rc->field, minor), money(b, s.field, minor));
    SUM_CHECK(subtotal, "receipt.totals.subtotal", "the subtotal")
    SUM_CHECK(discount, "receipt.totals.discount", "the discount")
    SUM_CHECK(redeemed_value, "receipt.totals.redeemed_value", "the redeemed value")
    SUM_CHECK(tax, "receipt.totals.tax", "the tax")
    SUM_CHECK(due, "receipt.totals.due", "the amount due")
#undef SUM_CHECK
    if (!tsr__sub(rc->subtotal, rc->discount, &t) || !tsr__sub(t, rc->redeemed_value, &t) ||
        (added && !tsr__add(t, rc->tax, &t)) || t != rc->due)
        return mismatch(err, "receipt.totals.due",
                        added ? "due %s is not subtotal − discount − redeemed_value + tax (%s)"
                              : "due %s is not subtotal − discount − redeemed_value (%s)",
                        money(a, rc->due, minor), money(b, t, minor));
    if (s.points_redeemed != rc->points_redeemed)
        return mismatch(err, "receipt.points.redeemed",
                        "%lld points redeemed, but the lines add up to %lld",
                        (long long)rc->points_redeemed, (long long)s.points_redeemed);
    /* order-level (flat) points come on top of the lines' */
    if (s.points_earned > rc->points_earned)
        return mismatch(err, "receipt.points.earned",
                        "%lld points earned, but the lines alone earned %lld",
                        (long long)rc->points_earned, (long long)s.points_earned);
    return TSR_OK;
}

static size_t find_line(const tsr_result *res, const char *id)
{
    size_t i;
    for (i = 0; i < res->nlines; i++)
        if (strcmp(res->lines[i].id, id) == 0)
            return i;
    return SIZE_MAX;
}

/* The same line ids, in the same order, as the order's items. */
static int check_line_ids(const tsr_receipt *rc, const tsr_result *res, tsr_error *err)
{
    size_t n = rc->nlines < res->nlines ? rc->nlines : res->nlines, i;
    char path[64];

    for (i = 0; i < n; i++) {
        const char *want = res->lines[i].id, *got = rc->lines[i].id;
        size_t at;
        if (strcmp(want, got) == 0)
            continue;
        snprintf(path, sizeof path, "receipt.lines[%zu].id", i);
        at = find_line(res, got);
        if (at == SIZE_MAX)
            return mismatch(err, path, "line `%s` is not in the order", got);
        return mismatch(err, path, "the receipt lists line `%s` here, the order lists `%s` "
                                   "(items[%zu]): the lines are out of order",
                        got, want, i);
    }
    if (rc->nlines < res->nlines)
        return mismatch(err, "receipt.lines",
                        "the receipt has %zu line%s, the order %zu: line `%s` (items[%zu]) is "
                        "missing", rc->nlines, rc->nlines == 1 ? "" : "s", res->nlines,
                        res->lines[n].id, n);
    if (rc->nlines > res->nlines) {
        snprintf(path, sizeof path, "receipt.lines[%zu].id", n);
        return mismatch(err, path, "line `%s` is not in the order (it has %zu line%s)",
                        rc->lines[n].id, res->nlines, res->nlines == 1 ? "" : "s");
    }
    return TSR_OK;
}

/* One amount on the receipt against the same amount re-evaluated. */
static int same_amount(tsr_error *err, const char *path, int64_t receipt, int64_t now, bool money_,
                       unsigned minor)
{
    char a[40], b[40];

    if (receipt == now)
        return TSR_OK;
    if (money_)
        return mismatch(err, path, "the receipt says %s, the rule set gives %s for this order "
                                   "(an edited receipt, or a rule file changed without a new "
                                   "version)", money(a, receipt, minor), money(b, now, minor));
    return mismatch(err, path, "the receipt says %lld, the rule set gives %lld for this order "
                               "(an edited receipt, or a rule file changed without a new version)",
                    (long long)receipt, (long long)now);
}

static int check_line_amounts(const tsr_receipt *rc, const tsr_result *res, tsr_error *err)
{
    unsigned m = res->rs->minor_units;
    char path[80];
    size_t i;
    int e;

    for (i = 0; i < rc->nlines; i++) {
        const tsr_receipt_line *a = &rc->lines[i];
        const tsr_res_line *b = &res->lines[i];
#define LINE_CHECK(field, now, name, is_money)                                           \
        snprintf(path, sizeof path, "receipt.lines[%zu].%s", i, name);                  \
        if ((e = same_amount(err, path, a->field, now, is_money, m)) != TSR_OK)         \
            return e;
        LINE_CHECK(subtotal, b->subtotal, "subtotal", true)
        LINE_CHECK(discount, b->discount, "discounts", true)
        LINE_CHECK(redeemed_points, b->redeemed_points, "redeemed.points", false)
        LINE_CHECK(redeemed_value, b->redeemed_value, "redeemed.value", true)
        LINE_CHECK(total, b->total, "total", true)
        LINE_CHECK(points_earned, b->points_earned, "points_earned", false)
#undef LINE_CHECK
    }
    return TSR_OK;
}

static int check_order_amounts(const tsr_receipt *rc, const tsr_result *res, tsr_error *err)
{
    unsigned m = res->rs->minor_units;
    int e;

    if ((e = same_amount(err, "receipt.totals.due", rc->due, res->totals.due, true, m)) != TSR_OK ||
        (e = same_amount(err, "receipt.points.redeemed", rc->points_redeemed,
                         res->points_redeemed, false, m)) != TSR_OK)
        return e;
    return same_amount(err, "receipt.points.earned", rc->points_earned, res->points_earned, false, m);
}

/* One rate as the receipt names it (`id`, `rate`) against the rate the
 * rule set gives (t; NULL: none). */
static int same_rate(tsr_error *err, const char *path, const char *id, const char *rate,
                     const tsr_tax_rate *t)
{
    if (!t && !id)
        return TSR_OK;
    if (!t)
        return mismatch(err, path, "the receipt says tax rate `%s`, the rule set gives the line "
                                   "no rate (an edited receipt, or a rule file changed without "
                                   "a new version)", id);
    if (!id)
        return mismatch(err, path, "the receipt says the line takes no tax rate, the rule set "
                                   "gives it `%s` (an edited receipt, or a rule file changed "
                                   "without a new version)", t->id);
    if (strcmp(id, t->id) != 0 || strcmp(rate, t->rate_text) != 0)
        return mismatch(err, path, "the receipt says tax rate `%s` at %s %%, the rule set gives "
                                   "`%s` at %s %% (an edited receipt, or a rule file changed "
                                   "without a new version)", id, rate, t->id, t->rate_text);
    return TSR_OK;
}

/* The tax figures against the re-evaluation: each line's rate and tax,
 * totals.tax and the `taxes` summary, entry by entry. */
static int check_taxes(const tsr_receipt *rc, const tsr_result *res, tsr_error *err)
{
    const tsr_taxes *tx = &res->rs->taxes;
    unsigned m = res->rs->minor_units;
    char path[80];
    size_t i, k, n = 0;
    int e;

    if (!res->line_tax)
        return TSR_OK;
    for (i = 0; i < rc->nlines; i++) {
        const tsr_receipt_line *a = &rc->lines[i];
        const tsr_res_tax *b = &res->line_tax[i];
        bool has = a->tax_given == TSR_RECEIPT_TAX_RATE;
        snprintf(path, sizeof path, "receipt.lines[%zu].tax", i);
        if ((e = same_rate(err, path, has ? a->tax_id : NULL, a->tax_rate,
                           b->rate >= 0 ? &tx->rates[b->rate] : NULL)) != TSR_OK)
            return e;
        snprintf(path, sizeof path, "receipt.lines[%zu].tax.amount", i);
        if (has && (e = same_amount(err, path, a->tax, b->amount, true, m)) != TSR_OK)
            return e;
    }
    if ((e = same_amount(err, "receipt.totals.tax", rc->tax, res->totals.tax, true, m)) != TSR_OK)
        return e;
    for (k = 0; k < tx->nrates; k++) {
        const tsr_rate_tax *rt = &res->rate_tax[k];
        const tsr_receipt_tax *a;
        if (rt->nlines == 0)
            continue;
        snprintf(path, sizeof path, "receipt.taxes[%zu]", n);
        if (n >= rc->ntaxes)
            return mismatch(err, n ? path : "receipt.taxes",
                            "the receipt lists %zu tax rate%s; the rule set gives rate `%s` "
                            "too", rc->ntaxes, rc->ntaxes == 1 ? "" : "s", tx->rates[k].id);
        a = &rc->taxes[n++];
        if ((e = same_rate(err, path, a->id, a->rate, &tx->rates[k])) != TSR_OK)
            return e;
        snprintf(path, sizeof path, "receipt.taxes[%zu].base", n - 1);
        if ((e = same_amount(err, path, a->base, rt->base, true, m)) != TSR_OK)
            return e;
        snprintf(path, sizeof path, "receipt.taxes[%zu].amount", n - 1);
        if ((e = same_amount(err, path, a->amount, rt->amount, true, m)) != TSR_OK)
            return e;
    }
    if (n < rc->ntaxes) {
        snprintf(path, sizeof path, "receipt.taxes[%zu]", n);
        return mismatch(err, path, "the receipt lists tax rate `%s`, which no line of the order "
                                   "takes", rc->taxes[n].id);
    }
    return TSR_OK;
}

int tsr__receipt_verify(const tsr_receipt *rc, const tsr_result *res, tsr_error *err)
{
    unsigned minor = res->rs->minor_units;
    int e;

    if ((e = check_identity(rc, res, err)) != TSR_OK ||
        (e = check_tax_keys(rc, res->rs, err)) != TSR_OK ||
        (e = check_line_sums(rc, minor, err)) != TSR_OK ||
        (e = check_totals_sums(rc, res->rs, err)) != TSR_OK ||
        (e = check_line_ids(rc, res, err)) != TSR_OK ||
        (e = check_line_amounts(rc, res, err)) != TSR_OK ||
        (e = check_taxes(rc, res, err)) != TSR_OK)
        return e;
    return check_order_amounts(rc, res, err);
}
