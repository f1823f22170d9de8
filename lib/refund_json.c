/*
 * refund_json.c — the refund result (refund.h): its JSON text, written on
 * first request and kept, and its accessors, as result_json.c is for an
 * evaluation's result.
 */
#include "refund.h"

static const char *to_name(tsr_refund_to to)
{
    return to == TSR_REFUND_TO_ORIGINAL_PAYMENT ? "original_payment" : "account_credit";
}

void tsr_refund_result_free(tsr_refund_result *r)
{
    if (!r)
        return;
    if (r->json)
        tsr__free(&r->alloc, r->json, r->json_cap);
    tsr__arena_free_holder(&r->arena);   /* the result lives inside it */
}

static void put_money(tsr_buf *b, const tsr_refund_result *r, int64_t v)
{
    char num[40];
    size_t n = tsr__format_fixed(num, v, r->minor_units);
    tsr__buf_putc(b, '"');
    tsr__buf_put(b, num, n);
    tsr__buf_putc(b, '"');
}

static void put_str(tsr_buf *b, const char *s)
{
    if (s)
        tsr__buf_json_string(b, s, strlen(s));
    else
        tsr__buf_puts(b, "null");
}

static void put_line(tsr_buf *b, const tsr_refund_result *r, const tsr_refund_line *l)
{
    tsr__buf_puts(b, "{\"id\":");
    put_str(b, l->id);
    if (l->status != TSR_REFUND_REFUNDED) {
        tsr__buf_puts(b, ",\"status\":\"rejected\",\"why\":");
        put_str(b, l->why);
        tsr__buf_putc(b, '}');
        return;
    }
    tsr__buf_puts(b, ",\"status\":\"refunded\",\"amount\":");
    put_money(b, r, l->amount);
    tsr__buf_puts(b, ",\"fee\":");
    put_money(b, r, l->fee);
    if (r->taxes && !l->tax_id) {
        tsr__buf_puts(b, ",\"tax\":null");
    } else if (r->taxes) {
        tsr__buf_puts(b, ",\"tax\":{\"id\":");
        put_str(b, l->tax_id);
        tsr__buf_puts(b, ",\"rate\":");
        put_str(b, l->tax_rate);
        tsr__buf_puts(b, ",\"amount\":");
        put_money(b, r, l->tax);
        tsr__buf_putc(b, '}');
    }
    tsr__buf_printf(b, ",\"points_restored\":%lld,\"points_revoked\":%lld}",
                    (long long)l->points_restored, (long long)l->points_revoked);
}

static void put_refund(tsr_buf *b, const tsr_refund_result *r)
{
    const tsr_refund_totals *t = &r->totals;
    size_t i;

    tsr__buf_puts(b, "{\"order\":");
    put_str(b, r->order_id);
    tsr__buf_puts(b, ",\"ruleset\":{\"id\":");
    put_str(b, r->ruleset_id);
    tsr__buf_puts(b, ",\"version\":");
    put_str(b, r->ruleset_version);
    tsr__buf_puts(b, "},\"currency\":");
    put_str(b, r->currency);
    tsr__buf_puts(b, ",\"datetime\":");
    put_str(b, r->datetime);
    tsr__buf_puts(b, ",\"to\":");
    put_str(b, to_name(r->to));
    tsr__buf_puts(b, ",\"lines\":[");
    for (i = 0; i < r->nlines; i++) {
        if (i)
            tsr__buf_putc(b, ',');
        put_line(b, r, &r->lines[i]);
    }
    tsr__buf_puts(b, "],\"totals\":{\"amount\":");
    put_money(b, r, t->amount);
    tsr__buf_puts(b, ",\"fee\":");
    put_money(b, r, t->fee);
    if (r->taxes) {
        tsr__buf_puts(b, ",\"tax\":");
        put_money(b, r, t->tax);
    }
    tsr__buf_puts(b, ",\"clawback\":");
    put_money(b, r, t->clawback);
    tsr__buf_puts(b, ",\"clawback_returned\":");
    put_money(b, r, t->clawback_returned);
    tsr__buf_printf(b, ",\"points_restored\":%lld,\"points_revoked\":%lld,"
                       "\"order_points_revoked\":%lld}",
                    (long long)t->points_restored, (long long)t->points_revoked,
                    (long long)t->order_points_revoked);
    if (r->repriced) {
        tsr__buf_puts(b, ",\"reprice\":{\"lines\":[");
        for (i = 0; i < r->nremaining; i++) {
            if (i)
                tsr__buf_putc(b, ',');
            put_str(b, r->remaining[i]);
        }
        tsr__buf_puts(b, "],\"paid\":");
        put_money(b, r, r->reprice_paid);
        tsr__buf_puts(b, ",\"now\":");
        put_money(b, r, r->reprice_now);
        tsr__buf_putc(b, '}');
    }
    tsr__buf_putc(b, '}');
}

const char *tsr_refund_result_json(tsr_refund_result *r, size_t *len)
{
    tsr_buf b;

    if (!r)
        return NULL;
    if (!r->json) {
        tsr__buf_init(&b, &r->alloc);
        put_refund(&b, r);
        if (b.failed || !b.data) {
            tsr__buf_free(&b);
            return NULL;
        }
        r->json = b.data;
        r->json_len = b.len;
        r->json_cap = b.cap;
    }
    if (len)
        *len = r->json_len;
    return r->json;
}

const char *tsr_refund_result_order(const tsr_refund_result *r)
{
    return r ? r->order_id : NULL;
}

const char *tsr_refund_result_to(const tsr_refund_result *r)
{
    return r ? to_name(r->to) : NULL;
}

size_t tsr_refund_result_line_count(const tsr_refund_result *r)
{
    return r ? r->nlines : 0;
}

static const tsr_refund_line *line_at(const tsr_refund_result *r, size_t i)
{
    return r && i < r->nlines ? &r->lines[i] : NULL;
}

const char *tsr_refund_result_line_id(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? l->id : NULL;
}

int tsr_refund_result_line_status(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? (int)l->status : TSR_EINVAL;
}

const char *tsr_refund_result_line_why(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? l->why : NULL;
}

int64_t tsr_refund_result_line_amount(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? l->amount : 0;
}

int64_t tsr_refund_result_line_fee(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? l->fee : 0;
}

int64_t tsr_refund_result_line_points_restored(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? l->points_restored : 0;
}

int64_t tsr_refund_result_line_points_revoked(const tsr_refund_result *r, size_t i)
{
    const tsr_refund_line *l = line_at(r, i);
    return l ? l->points_revoked : 0;
}

int tsr_refund_result_line_tax(const tsr_refund_result *r, size_t i, const char **id,
                               const char **rate, int64_t *amount)
{
    const tsr_refund_line *l = line_at(r, i);

    if (!l)
        return TSR_EINVAL;
    if (id)
        *id = l->tax_id;
    if (rate)
        *rate = l->tax_rate;
    if (amount)
        *amount = l->tax_id ? l->tax : 0;
    return l->tax_id != NULL;
}

/* Bytes of tsr_refund_totals each version of the header declares (as
 * refund_options_size). */
static const size_t refund_totals_size[TSR_REFUND_TOTALS_VERSION + 1] = {
    0,
    TSR_END_OF(tsr_refund_totals, clawback_returned),      /* version 1 */
    TSR_END_OF(tsr_refund_totals, tax),                    /* version 2 */
};
_Static_assert(sizeof(tsr_refund_totals) == TSR_END_OF(tsr_refund_totals, tax),
               "a field was appended to tsr_refund_totals: add a version and its size");

int tsr_refund_result_totals(const tsr_refund_result *r, tsr_refund_totals *out)
{
    static const tsr_refund_totals zero = TSR_REFUND_TOTALS_INIT;
    int rc = tsr__copy_out_versioned(out, r ? &r->totals : &zero, refund_totals_size,
                                     TSR_ARRAY_LEN(refund_totals_size));
    return rc == TSR_OK && !r ? TSR_EINVAL : rc;
}
