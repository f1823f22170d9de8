/*
 * profile.c — a customer's segments and tier without pricing anything
 * (SPEC §3 `segments`, `tiers`; what `tessera segments` prints for each
 * line of a CRM export).
 *
 * A profile is an order without items, read by the order readers, so that
 * a profile is checked exactly as an order's customer is (same fields, same
 * schema, same JSON paths in errors).  Segments and tiers see only the
 * customer, the order-level fields and `now` (the loader refuses `item` and
 * `items` in them), which is why no line is needed.
 *
 * Built for streams of millions: one tsr_profile is reused, its order,
 * buffers and regex scratch keep their memory, and nothing is allocated per
 * profile once they have grown to the largest one seen.
 */
#include "eval.h"

#include <stdio.h>

struct tsr_profile {
    const tsr_ruleset *rs;
    tsr_alloc alloc;
    tsr_order order;            /* what tsr_profile_parse reads into */
    tsr_value *rec;             /* a copy of the order record, datetime filled in */
    bool has_default;
    int64_t default_at;         /* usec */
    int32_t default_offset;
    uint8_t *segments;          /* 0/1 per rs->segments */
    uint8_t *promos;            /* all 0: profiles have no promo codes */
    tsr_regex_scratch *scratch;
    const char **held;          /* ids of the segments that hold, in file order */
    size_t nheld;
    int tier;                   /* index into rs->tiers, -1 none */
    tsr_buf id;                 /* customer id, copied: the order may go away */
    bool has_id;
    tsr_buf json;
    bool json_ok;               /* json holds the current profile */
};

/* Two small accessors the batch tools need and the public header lacked;
 * they belong with ruleset.c's and eval.c's and may move there. */
unsigned tsr_ruleset_minor_units(const tsr_ruleset *rs)
{
    return rs ? rs->minor_units : 0;
}

const char *tsr_result_order_id(const tsr_result *r)
{
    return r ? r->order_id : NULL;
}

int tsr_profile_new(tsr_profile **out, const tsr_ruleset *rs, tsr_error *err)
{
    tsr_alloc alloc;
    tsr_profile *p;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_profile_new: `out` is NULL");
    *out = NULL;
    if (!rs)
        return tsr__err(err, TSR_EINVAL, "tsr_profile_new: the rule set is NULL");
    alloc = rs->alloc;
    if (!(p = tsr__calloc(&alloc, 1, sizeof *p)))
        return tsr__err(err, TSR_ENOMEM, NULL);
    p->rs = rs;
    p->alloc = alloc;
    p->tier = -1;
    tsr__buf_init(&p->id, &p->alloc);
    tsr__buf_init(&p->json, &p->alloc);
    p->rec = tsr__calloc(&p->alloc, rs->records[TSR_REC_ORDER].len + 1, sizeof *p->rec);
    p->segments = tsr__calloc(&p->alloc, rs->nsegments + 1, 1);
    p->promos = tsr__calloc(&p->alloc, rs->npromos + 1, 1);
    p->held = tsr__calloc(&p->alloc, rs->nsegments + 1, sizeof *p->held);
    if (tsr__order_init(&p->order, rs) != TSR_OK || !p->rec || !p->segments || !p->promos ||
        !p->held) {
        tsr_profile_free(p);
        return tsr__err(err, TSR_ENOMEM, NULL);
    }
    *out = p;
    return TSR_OK;
}

void tsr_profile_free(tsr_profile *p)
{
    const tsr_ruleset *rs;
    tsr_alloc alloc;

    if (!p)
        return;
    rs = p->rs;
    alloc = p->alloc;
    tsr__order_fini(&p->order);
    tsr__regex_scratch_free(p->scratch, &alloc);
    tsr__buf_free(&p->id);
    tsr__buf_free(&p->json);
    tsr__free(&alloc, p->rec, (rs->records[TSR_REC_ORDER].len + 1) * sizeof *p->rec);
    tsr__free(&alloc, p->segments, rs->nsegments + 1);
    tsr__free(&alloc, p->promos, rs->npromos + 1);
    tsr__free(&alloc, (void *)p->held, (rs->nsegments + 1) * sizeof *p->held);
    tsr__free(&alloc, p, sizeof *p);
}

int tsr_profile_set_datetime(tsr_profile *p, const char *datetime, tsr_error *err)
{
    tsr__error_clear(err);
    if (!p)
        return tsr__err(err, TSR_EINVAL, "tsr_profile_set_datetime: the profile is NULL");
    if (!datetime) {
        p->has_default = false;
        return TSR_OK;
    }
    if (tsr__parse_datetime(datetime, strlen(datetime), &p->default_at, &p->default_offset) != TSR_OK)
        return tsr__err(err, TSR_EINVAL, "`%s` is not a datetime: ISO 8601 with a UTC offset, "
                                         "such as 2026-12-01T00:00:00+03:00", datetime);
    p->has_default = true;
    return TSR_OK;
}

/* Evaluate every segment, then the first tier that holds, as evaluation
 * step 2 does (eval.c), on the profile's records. */
static int compute(tsr_profile *p, const tsr_value *customer, tsr_error *err)
{
    const tsr_ruleset *rs = p->rs;
    tsr_expr_ctx x;
    size_t i;
    int rc = TSR_OK;

    memset(&x, 0, sizeof x);
    x.alloc = &p->alloc;
    x.order = p->rec;
    x.customer = customer;
    x.segments = p->segments;
    x.tier = tsr__missing();
    x.promo_accepted = p->promos;
    x.tz = rs->tz;
    x.minor_units = rs->minor_units;
    x.rounding = rs->rounding;
    x.regex_scratch = p->scratch;
    x.err = err;
    tsr__expr_ctx_budget(&x, rs->limits.max_eval_steps);
    p->nheld = 0;
    p->tier = -1;
    for (i = 0; i < rs->nsegments && rc == TSR_OK; i++) {
        bool holds = false;
        rc = tsr__expr_test(rs->segments[i].when, &x, &holds, NULL, NULL);
        p->segments[i] = holds;
        if (holds)
            p->held[p->nheld++] = rs->segments[i].id;
    }
    for (i = 0; i < rs->ntiers && rc == TSR_OK && p->tier < 0; i++) {
        bool holds = true;
        if (rs->tiers[i].when)
            rc = tsr__expr_test(rs->tiers[i].when, &x, &holds, NULL, NULL);
        if (rc == TSR_OK && holds)
            p->tier = (int)i;
    }
    p->scratch = x.regex_scratch;   /* kept for the next profile */
    return rc;
}

/* The customer id, copied so that it outlives the order it came from. */
static int keep_id(tsr_profile *p, const tsr_value *customer)
{
    const tsr_value *id = &customer[TSR_CUST_ID];

    p->id.len = 0;
    p->has_id = id->type == TSR_T_STRING;
    if (p->has_id)
        tsr__buf_put(&p->id, id->u.s, id->len);
    else
        tsr__buf_put(&p->id, "", 0);
    return p->id.failed ? TSR_ENOMEM : TSR_OK;
}

static int profile_of(tsr_profile *p, const tsr_order *o, tsr_error *err)
{
    const tsr_ruleset *rs = p->rs;
    int rc;

    p->json_ok = false;
    p->nheld = 0;
    p->tier = -1;
    p->has_id = false;
    memcpy(p->rec, o->order, rs->records[TSR_REC_ORDER].len * sizeof *p->rec);
    if (p->rec[TSR_ORDER_DATETIME].type != TSR_T_DATETIME) {
        if (!p->has_default)
            return tsr__err_path(err, TSR_EORDER, "datetime",
                                 "a profile needs a datetime (ISO 8601 with a UTC offset) when "
                                 "no default time is set");
        p->rec[TSR_ORDER_DATETIME].type = TSR_T_DATETIME;
        p->rec[TSR_ORDER_DATETIME].u.i = p->default_at;
        p->rec[TSR_ORDER_DATETIME].offset = p->default_offset;
    }
    if ((rc = keep_id(p, o->customer)) != TSR_OK)
        return tsr__err(err, rc, NULL);
    rc = compute(p, o->customer, err);
    if (rc != TSR_OK && err && err->code == TSR_OK)
        tsr__err(err, rc, NULL);
    return rc;
}

int tsr_profile_parse(tsr_profile *p, const char *text, size_t len, tsr_error *err)
{
    size_t i = 0;
    int rc;

    tsr__error_clear(err);
    if (!p || (!text && len))
        return tsr__err(err, TSR_EINVAL, "tsr_profile_parse: profile or text is NULL");
    tsr__order_clear(&p->order);
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    rc = i < len && text[i] == '{' ? tsr__order_read_json(&p->order, text, len, err)
                                   : tsr__order_read_yaml(&p->order, text ? text : "", len, err);
    if (rc == TSR_OK)
        rc = profile_of(p, &p->order, err);
    if (rc != TSR_OK) {
        p->json_ok = false;
        p->nheld = 0;
        p->tier = -1;
        p->has_id = false;
    }
    return rc;
}

int tsr_profile_from_order(tsr_profile *p, const tsr_order *order, tsr_error *err)
{
    tsr__error_clear(err);
    if (!p || !order)
        return tsr__err(err, TSR_EINVAL, "tsr_profile_from_order: profile or order is NULL");
    if (order->rs != p->rs)
        return tsr__err(err, TSR_EINVAL, "tsr_profile_from_order: the order was built for "
                                         "another rule set");
    return profile_of(p, order, err);
}

const char *tsr_profile_customer_id(const tsr_profile *p)
{
    return p && p->has_id ? p->id.data : NULL;
}

size_t tsr_profile_segment_count(const tsr_profile *p)
{
    return p ? p->nheld : 0;
}

const char *tsr_profile_segment(const tsr_profile *p, size_t i)
{
    return p && i < p->nheld ? p->held[i] : NULL;
}

const char *tsr_profile_tier(const tsr_profile *p)
{
    return p && p->tier >= 0 ? p->rs->tiers[p->tier].id : NULL;
}

const char *tsr_profile_json(tsr_profile *p, size_t *len)
{
    tsr_buf *b;
    size_t i;

    if (!p)
        return NULL;
    b = &p->json;
    if (!p->json_ok) {
        b->len = 0;
        b->failed = 0;
        tsr__buf_puts(b, "{\"id\":");
        if (p->has_id)
            tsr__buf_json_string(b, p->id.data, p->id.len);
        else
            tsr__buf_puts(b, "null");
        tsr__buf_puts(b, ",\"segments\":[");
        for (i = 0; i < p->nheld; i++) {
            if (i)
                tsr__buf_putc(b, ',');
            tsr__buf_json_string(b, p->held[i], strlen(p->held[i]));
        }
        tsr__buf_puts(b, "],\"tier\":");
        if (p->tier >= 0)
            tsr__buf_json_string(b, p->rs->tiers[p->tier].id, strlen(p->rs->tiers[p->tier].id));
        else
            tsr__buf_puts(b, "null");
        tsr__buf_putc(b, '}');
        if (b->failed)
            return NULL;
        p->json_ok = true;
    }
    if (len)
        *len = b->len;
    return b->data;
}
