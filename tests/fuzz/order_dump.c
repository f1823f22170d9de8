/*
 * order_dump.c — a canonical text of an order (order_oracle.h), for
 * comparing two orders read from the same input.
 */
#include "order_oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct dump {
    char *buf;
    size_t len, cap;
    bool oom;
} dump;

static void put(dump *d, const char *fmt, ...) TSR_PRINTF(2, 3);

static void put(dump *d, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (d->oom)
        return;
    if (!d->buf) {
        if (!(d->buf = malloc(256))) {
            d->oom = true;
            return;
        }
        d->cap = 256;
    }
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(d->buf + d->len, d->cap - d->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            d->oom = true;
            return;
        }
        if ((size_t)n < d->cap - d->len) {
            d->len += (size_t)n;
            return;
        }
        {
            size_t cap = d->cap * 2 + (size_t)n + 64;
            char *p = realloc(d->buf, cap);
            if (!p) {
                d->oom = true;
                return;
            }
            d->buf = p;
            d->cap = cap;
        }
    }
}

/* Bytes as C-style escapes, so that any byte compares and prints. */
static void put_bytes(dump *d, const char *s, size_t n)
{
    size_t i;
    put(d, "\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\')
            put(d, "\\x%02x", c);
        else
            put(d, "%c", c);
    }
    put(d, "\"");
}

static void put_value(dump *d, const tsr_value *v)
{
    uint32_t i;

    switch (v->type) {
    case TSR_T_MISSING:
        put(d, "-");
        return;
    case TSR_T_STRING:
        put(d, "s");
        put_bytes(d, v->u.s, v->len);
        if (v->u.s[v->len] != '\0')
            put(d, "(unterminated)");
        return;
    case TSR_T_LIST:
        put(d, "list<%u>[", (unsigned)v->elem);
        for (i = 0; i < v->len; i++) {
            put(d, i ? "," : "");
            put_value(d, &v->u.list[i]);
        }
        put(d, "]");
        return;
    case TSR_T_DATETIME:
        put(d, "dt%lld%+d", (long long)v->u.i, (int)v->offset);
        return;
    default:
        put(d, "t%u:%lld", (unsigned)v->type, (long long)v->u.i);
        return;
    }
}

static void put_record(dump *d, const char *name, const tsr_value *rec, size_t n)
{
    size_t i;
    put(d, "%s{", name);
    for (i = 0; i < n; i++) {
        put(d, i ? " " : "");
        put_value(d, &rec[i]);
    }
    put(d, "}\n");
}

char *tsr_oracle_order_dump(const tsr_order *o)
{
    const tsr_ruleset *rs = o->rs;
    dump d = { NULL, 0, 0, false };
    size_t i;

    put(&d, "customer=%d items=%d redeem=%d:%lld lots=%d finished=%d\n", o->has_customer,
        o->has_items, o->has_redeem, (long long)o->redeem_points, o->has_lots, o->finished);
    put_record(&d, "order", o->order, rs->records[TSR_REC_ORDER].len);
    put_record(&d, "customer", o->customer, rs->records[TSR_REC_CUSTOMER].len);
    for (i = 0; i < o->nlines; i++)
        put_record(&d, "line", o->lines + i * o->stride, o->stride);
    for (i = 0; i < o->npromo_codes; i++) {
        put(&d, "promo ");
        put_bytes(&d, o->promo_codes[i].code, o->promo_codes[i].len);
        put(&d, "\n");
    }
    for (i = 0; i < o->npromo_uses; i++) {
        const tsr_promo_use *u = &o->promo_uses[i];
        put(&d, "use ");
        put_bytes(&d, u->id, u->id_len);
        put(&d, " %lld %lld seen=%u\n", (long long)u->uses, (long long)u->total_uses,
            (unsigned)u->seen);
    }
    for (i = 0; i < o->nlots; i++) {
        const tsr_points_lot *l = &o->lots[i];
        put(&d, "lot ");
        if (l->id)
            put_bytes(&d, l->id, strlen(l->id));
        else
            put(&d, "-");
        put(&d, " %lld %d %lld\n", (long long)l->points, l->has_expires,
            (long long)l->expires_on);
    }
    if (d.oom) {
        free(d.buf);
        return NULL;
    }
    return d.buf;
}
