/*
 * result_json.c — the result as JSON text (SPEC §6).  Built on demand from
 * the result structs, with a fixed key order so that the same rule set and
 * order always give byte-identical output.
 */
#include "eval.h"

static void put_money(tsr_buf *b, const tsr_result *r, int64_t v)
{
    char num[40];
    size_t n = tsr__format_fixed(num, v, r->rs->minor_units);
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

static void put_date(tsr_buf *b, int64_t days)
{
    char d[16];
    size_t n = tsr__format_date(d, days);
    tsr__buf_putc(b, '"');
    tsr__buf_put(b, d, n);
    tsr__buf_putc(b, '"');
}

static void put_key(tsr_buf *b, const char *key, bool first)
{
    if (!first)
        tsr__buf_putc(b, ',');
    tsr__buf_putc(b, '"');
    tsr__buf_puts(b, key);
    tsr__buf_puts(b, "\":");
}

static void put_line(tsr_buf *b, const tsr_result *r, size_t i)
{
    const tsr_ruleset *rs = r->rs;
    const tsr_res_line *l = &r->lines[i];
    size_t d;

    tsr__buf_puts(b, "{\"id\":");
    put_str(b, l->id);
    put_key(b, "kind", false);
    put_str(b, l->kind);
    put_key(b, "category", false);
    put_str(b, l->category_name);
    tsr__buf_puts(b, ",\"quantity\":");
    tsr__buf_int(b, l->quantity);
    put_key(b, "unit_price", false);
    put_money(b, r, l->unit_price);
    put_key(b, "subtotal", false);
    put_money(b, r, l->subtotal);
    put_key(b, "discounts", false);
    tsr__buf_putc(b, '[');
    for (d = 0; d < l->ndiscounts; d++) {
        if (d)
            tsr__buf_putc(b, ',');
        tsr__buf_puts(b, "{\"id\":");
        put_str(b, rs->discounts[l->discounts[d].discount].id);
        put_key(b, "amount", false);
        put_money(b, r, l->discounts[d].amount);
        tsr__buf_putc(b, '}');
    }
    tsr__buf_putc(b, ']');
    tsr__buf_puts(b, ",\"redeemed\":{\"points\":");
    tsr__buf_int(b, l->redeemed_points);
    tsr__buf_puts(b, ",\"value\":");
    put_money(b, r, l->redeemed_value);
    tsr__buf_putc(b, '}');
    put_key(b, "total", false);
    put_money(b, r, l->total);
    tsr__buf_puts(b, ",\"points_earned\":");
    tsr__buf_int(b, l->points_earned);
    tsr__buf_putc(b, '}');
}

static void put_promos(tsr_buf *b, const tsr_result *r)
{
    size_t i;
    tsr__buf_putc(b, '[');
    for (i = 0; i < r->npromos; i++) {
        const tsr_res_promo *p = &r->promos[i];
        if (i)
            tsr__buf_putc(b, ',');
        tsr__buf_puts(b, "{\"code\":");
        tsr__buf_json_string(b, p->code, p->code_len);
        /* Customer-safe results must not reveal which codes exist. */
        if (p->promo >= 0 && p->reason != TSR_PR_NOT_APPLICABLE) {
            put_key(b, "id", false);
            put_str(b, r->rs->promos[p->promo].id);
        }
        put_key(b, "status", false);
        tsr__buf_puts(b, p->status == TSR_PROMO_ACCEPTED ? "\"accepted\"" : "\"rejected\"");
        if (p->status != TSR_PROMO_ACCEPTED) {
            put_key(b, "reason", false);
            put_str(b, tsr__promo_reason_name(p->reason));
        }
        tsr__buf_putc(b, '}');
    }
    tsr__buf_putc(b, ']');
}

static void put_points(tsr_buf *b, const tsr_result *r)
{
    const tsr_ruleset *rs = r->rs;
    size_t i;

    tsr__buf_puts(b, "{\"redeemed\":");
    tsr__buf_int(b, r->points_redeemed);
    tsr__buf_puts(b, ",\"earned\":");
    tsr__buf_int(b, r->points_earned);
    if (r->redeem_reason != TSR_RR_NONE) {
        put_key(b, "redeem_reason", false);
        put_str(b, tsr__redeem_reason_name(r->redeem_reason));
    }
    if (r->nlots_used) {
        put_key(b, "lots_used", false);
        tsr__buf_putc(b, '[');
        for (i = 0; i < r->nlots_used; i++) {
            if (i)
                tsr__buf_putc(b, ',');
            tsr__buf_puts(b, "{\"id\":");
            put_str(b, r->lots_used[i].id);
            tsr__buf_puts(b, ",\"points\":");
            tsr__buf_int(b, r->lots_used[i].points);
            tsr__buf_putc(b, '}');
        }
        tsr__buf_putc(b, ']');
    }
    put_key(b, "entries", false);
    tsr__buf_putc(b, '[');
    for (i = 0; i < r->nentries; i++) {
        const tsr_points_entry *e = &r->entries[i];
        if (i)
            tsr__buf_putc(b, ',');
        tsr__buf_puts(b, "{\"rule\":");
        put_str(b, rs->loyalty.earn[e->earn].id);
        put_key(b, "line", false);
        put_str(b, e->line >= 0 ? r->lines[e->line].id : NULL);
        tsr__buf_puts(b, ",\"points\":");
        tsr__buf_int(b, e->points);
        put_key(b, "available_on", false);
        put_date(b, e->available_on);
        put_key(b, "expires_on", false);
        if (e->has_expires)
            put_date(b, e->expires_on);
        else
            tsr__buf_puts(b, "null");
        tsr__buf_putc(b, '}');
    }
    tsr__buf_puts(b, "]}");
}

static void put_trace(tsr_buf *b, const tsr_result *r)
{
    size_t i;
    tsr__buf_putc(b, '[');
    for (i = 0; i < r->ntrace; i++) {
        const tsr_trace_entry *t = &r->trace[i];
        if (i)
            tsr__buf_putc(b, ',');
        tsr__buf_puts(b, "{\"rule\":\"");
        tsr__buf_puts(b, t->section);
        tsr__buf_putc(b, '.');
        tsr__buf_json_escaped(b, t->id, strlen(t->id));
        tsr__buf_puts(b, "\",\"applied\":");
        tsr__buf_puts(b, t->applied ? "true" : "false");
        if (!t->applied) {
            put_key(b, "why", false);
            put_str(b, t->why);
        }
        tsr__buf_putc(b, '}');
    }
    tsr__buf_putc(b, ']');
}

static void put_result(tsr_buf *b, const tsr_result *r)
{
    const tsr_ruleset *rs = r->rs;
    const tsr_totals *t = &r->totals;
    size_t i;
    bool first = true;

    tsr__buf_puts(b, "{\"ruleset\":{\"id\":");
    put_str(b, rs->id);
    put_key(b, "version", false);
    put_str(b, rs->version);
    tsr__buf_puts(b, "},\"order\":");
    put_str(b, r->order_id);
    put_key(b, "currency", false);
    put_str(b, rs->currency);
    put_key(b, "segments", false);
    tsr__buf_putc(b, '[');
    for (i = 0; i < rs->nsegments; i++) {
        if (!r->segments[i])
            continue;
        if (!first)
            tsr__buf_putc(b, ',');
        first = false;
        put_str(b, rs->segments[i].id);
    }
    tsr__buf_putc(b, ']');
    put_key(b, "tier", false);
    put_str(b, r->tier >= 0 ? rs->tiers[r->tier].id : NULL);
    put_key(b, "lines", false);
    tsr__buf_putc(b, '[');
    for (i = 0; i < r->nlines; i++) {
        if (i)
            tsr__buf_putc(b, ',');
        put_line(b, r, i);
    }
    tsr__buf_putc(b, ']');
    put_key(b, "promo_codes", false);
    put_promos(b, r);
    tsr__buf_puts(b, ",\"totals\":{\"subtotal\":");
    put_money(b, r, t->subtotal);
    put_key(b, "discount", false);
    put_money(b, r, t->discount);
    put_key(b, "redeemed_value", false);
    put_money(b, r, t->redeemed_value);
    put_key(b, "due", false);
    put_money(b, r, t->due);
    tsr__buf_puts(b, "},\"points\":");
    put_points(b, r);
    put_key(b, "offers", false);
    tsr__buf_putc(b, '[');
    for (i = 0; i < r->noffers; i++) {
        const tsr_offer *o = &rs->offers[r->offers[i]];
        if (i)
            tsr__buf_putc(b, ',');
        tsr__buf_puts(b, "{\"id\":");
        put_str(b, o->id);
        put_key(b, "message", false);
        put_str(b, o->message);
        tsr__buf_putc(b, '}');
    }
    tsr__buf_putc(b, ']');
    put_key(b, "trace", false);
    put_trace(b, r);
    tsr__buf_putc(b, '}');
}

const char *tsr_result_json(tsr_result *r, size_t *len)
{
    tsr_buf b;

    if (!r)
        return NULL;
    if (!r->json) {
        tsr__buf_init(&b, &r->alloc);
        /* one allocation for a typical result: ~300 bytes a line */
        tsr__buf_put(&b, "", 0);
        if (!b.failed && b.cap < 1024 + r->nlines * 320) {
            void *p = b.data;
            if (tsr__grow(&r->alloc, &p, &b.cap, 1024 + r->nlines * 320, 1) == TSR_OK)
                b.data = p;
        }
        put_result(&b, r);
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
