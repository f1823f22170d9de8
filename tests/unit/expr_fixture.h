/*
 * expr_fixture.h — a hand-built world for the expression tests: record
 * schemas with the built-in fields and a few schema fields, segments,
 * promo codes, tables, a regex pool, and an order with three lines, plus
 * helpers to compile and evaluate in one call.
 *
 * Order 2026-06-13T14:30:00+03:00 (a Saturday); customer C-77 with tags
 * [season_pass, vip], 3 visits, born 2015-06-15, member, 50000.00 spent.
 * Lines:  0  t1 ticket PARK-DAY  qty 1  no price  118 cm  zone B  show 2026-06-20T19:00+03:00
 *         1  f1 fnb    COLA-05   qty 2  150.00   (no height, no zone)
 *         2  t2 ticket PARK-DAY  qty 1  2500.00  95 cm   zone A
 */
#ifndef TSR_EXPR_FIXTURE_H
#define TSR_EXPR_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr_impl.h"

enum { I_HEIGHT = TSR_ITEM__BUILTIN, I_ZONE, I_EVENT_START, I_VALIDATED, I__N };
enum { C_VISITS = TSR_CUST__BUILTIN, C_BIRTHDAY, C_MEMBER, C_SPEND, C_LAST_VISIT, C__N };
enum { O__N = TSR_ORDER__BUILTIN };

#define FX_LINES 4
#define FX_ALL_FLAGS (TSR_ENV_ITEM | TSR_ENV_SEGMENTS | TSR_ENV_TIER | TSR_ENV_PROMO | \
                      TSR_ENV_ITEMS | TSR_ENV_LINE_TOTALS)

typedef struct fx {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_field of[O__N], cf[C__N], itf[I__N];
    tsr_record_schema rec[TSR_REC__COUNT];
    const char *segs[3];
    bool seg_used[3];
    const char *promos[2];
    bool promo_used[2];
    tsr_table tables[5];
    tsr_value zone_vals[3];
    const char *zone_keys[3];
    uint32_t zone_lens[3];
    tsr_value hol_vals[3];
    tsr_value rate_vals[2];
    const char *rate_keys[2];
    uint32_t rate_lens[2];
    tsr_value size_vals[3];
    tsr_value unsorted_vals[2];
    const char *unsorted_keys[2];
    uint32_t unsorted_lens[2];
    tsr_regex_pool *pool;
    tsr_expr_env env;
    tsr_error err;
    tsr_value order[O__N], customer[C__N], lines[FX_LINES][I__N];
    tsr_value tags[2];
    uint8_t segv[3], promov[2];
    tsr_expr_ctx ctx;
} fx;

static inline tsr_value vstr(const char *s)
{
    tsr_value v = tsr__missing();
    v.type = TSR_T_STRING;
    v.u.s = s;
    v.len = (uint32_t)strlen(s);
    return v;
}

static inline tsr_value vnum(tsr_type t, int64_t i)
{
    tsr_value v = tsr__missing();
    v.type = (uint8_t)t;
    v.u.i = i;
    return v;
}

static inline tsr_value vdate(const char *s)
{
    tsr_value v = vnum(TSR_T_DATE, 0);
    assert_int_equal(tsr__parse_date(s, strlen(s), &v.u.i), TSR_OK);
    return v;
}

static inline tsr_value vdt(const char *s)
{
    tsr_value v = vnum(TSR_T_DATETIME, 0);
    assert_int_equal(tsr__parse_datetime(s, strlen(s), &v.u.i, &v.offset), TSR_OK);
    return v;
}

static inline tsr_field fld(const char *name, tsr_type t, tsr_type elem, unsigned slot)
{
    tsr_field f;
    memset(&f, 0, sizeof f);
    f.name = name;
    f.type = (uint8_t)t;
    f.elem = (uint8_t)elem;
    f.slot = (uint16_t)slot;
    return f;
}

static inline void fx_line(fx *f, int i, const char *id, const char *kind, const char *sku,
                           int64_t qty)
{
    for (int k = 0; k < I__N; k++)
        f->lines[i][k] = tsr__missing();
    f->lines[i][TSR_ITEM_ID] = vstr(id);
    f->lines[i][TSR_ITEM_KIND] = vstr(kind);
    f->lines[i][TSR_ITEM_SKU] = vstr(sku);
    f->lines[i][TSR_ITEM_QUANTITY] = vnum(TSR_T_INT, qty);
}

static inline void fx_map(tsr_table *t, const char *name, tsr_type elem, const char **keys,
                          uint32_t *lens, tsr_value *vals, size_t n)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->is_map = true;
    t->elem = (uint8_t)elem;
    t->key = TSR_T_STRING;
    t->keys = keys;
    t->key_lens = lens;
    t->values = vals;
    t->len = n;
    for (size_t i = 0; i < n; i++)
        lens[i] = (uint32_t)strlen(keys[i]);
}

static inline void fx_list(tsr_table *t, const char *name, tsr_type elem, tsr_value *vals,
                           size_t n)
{
    memset(t, 0, sizeof *t);
    t->name = name;
    t->elem = (uint8_t)elem;
    t->values = vals;
    t->len = n;
}

static inline int fx_setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    tsr__alloc_init(&f->alloc, NULL);
    tsr__arena_init(&f->arena, &f->alloc, 4096);

    /* Schemas: built-ins in slot order, then the schema's fields. */
    f->of[TSR_ORDER_ID] = fld("id", TSR_T_STRING, 0, TSR_ORDER_ID);
    f->of[TSR_ORDER_DATETIME] = fld("datetime", TSR_T_DATETIME, 0, TSR_ORDER_DATETIME);
    f->of[TSR_ORDER_CHANNEL] = fld("channel", TSR_T_STRING, 0, TSR_ORDER_CHANNEL);
    f->of[TSR_ORDER_PROMO_CODES] = fld("promo_codes", TSR_T_LIST, TSR_T_STRING,
                                       TSR_ORDER_PROMO_CODES);
    f->of[TSR_ORDER_REDEEM_POINTS] = fld("redeem_points", TSR_T_INT, 0, TSR_ORDER_REDEEM_POINTS);
    f->cf[TSR_CUST_ID] = fld("id", TSR_T_STRING, 0, TSR_CUST_ID);
    f->cf[TSR_CUST_TAGS] = fld("tags", TSR_T_LIST, TSR_T_STRING, TSR_CUST_TAGS);
    f->cf[TSR_CUST_POINTS_BALANCE] = fld("points_balance", TSR_T_INT, 0, TSR_CUST_POINTS_BALANCE);
    f->cf[C_VISITS] = fld("visits", TSR_T_INT, 0, C_VISITS);
    f->cf[C_BIRTHDAY] = fld("birthday", TSR_T_DATE, 0, C_BIRTHDAY);
    f->cf[C_MEMBER] = fld("member", TSR_T_BOOL, 0, C_MEMBER);
    f->cf[C_SPEND] = fld("spend_12m", TSR_T_MONEY, 0, C_SPEND);
    f->cf[C_LAST_VISIT] = fld("last_visit", TSR_T_DATE, 0, C_LAST_VISIT);
    f->itf[TSR_ITEM_ID] = fld("id", TSR_T_STRING, 0, TSR_ITEM_ID);
    f->itf[TSR_ITEM_KIND] = fld("kind", TSR_T_STRING, 0, TSR_ITEM_KIND);
    f->itf[TSR_ITEM_SKU] = fld("sku", TSR_T_STRING, 0, TSR_ITEM_SKU);
    f->itf[TSR_ITEM_QUANTITY] = fld("quantity", TSR_T_INT, 0, TSR_ITEM_QUANTITY);
    f->itf[TSR_ITEM_PRICE] = fld("price", TSR_T_MONEY, 0, TSR_ITEM_PRICE);
    f->itf[TSR_ITEM_CATEGORY] = fld("category", TSR_T_STRING, 0, TSR_ITEM_CATEGORY);
    f->itf[TSR_ITEM_SUBTOTAL] = fld("subtotal", TSR_T_MONEY, 0, TSR_ITEM_SUBTOTAL);
    f->itf[TSR_ITEM_TOTAL] = fld("total", TSR_T_MONEY, 0, TSR_ITEM_TOTAL);
    f->itf[I_HEIGHT] = fld("height_cm", TSR_T_INT, 0, I_HEIGHT);
    f->itf[I_ZONE] = fld("zone", TSR_T_STRING, 0, I_ZONE);
    f->itf[I_EVENT_START] = fld("event_start", TSR_T_DATETIME, 0, I_EVENT_START);
    f->itf[I_VALIDATED] = fld("validated", TSR_T_BOOL, 0, I_VALIDATED);
    f->rec[TSR_REC_ORDER] = (tsr_record_schema){ f->of, O__N };
    f->rec[TSR_REC_CUSTOMER] = (tsr_record_schema){ f->cf, C__N };
    f->rec[TSR_REC_ITEM] = (tsr_record_schema){ f->itf, I__N };

    f->segs[0] = "first_timer";
    f->segs[1] = "frequent";
    f->segs[2] = "season_pass";
    f->promos[0] = "doctors";
    f->promos[1] = "summer";

    /* Tables. */
    f->zone_keys[0] = "A";
    f->zone_keys[1] = "B";
    f->zone_keys[2] = "C";
    f->zone_vals[0] = vnum(TSR_T_DECIMAL, 120000000);
    f->zone_vals[1] = vnum(TSR_T_DECIMAL, 95000000);
    f->zone_vals[2] = vnum(TSR_T_DECIMAL, 60000000);
    fx_map(&f->tables[0], "zone_price", TSR_T_DECIMAL, f->zone_keys, f->zone_lens, f->zone_vals, 3);
    f->tables[0].money_ok = true;
    f->hol_vals[0] = vdate("2026-12-24");
    f->hol_vals[1] = vdate("2026-12-25");
    f->hol_vals[2] = vdate("2027-01-01");
    fx_list(&f->tables[1], "holidays", TSR_T_DATE, f->hol_vals, 3);
    f->rate_keys[0] = "x";
    f->rate_keys[1] = "y";
    f->rate_vals[0] = vnum(TSR_T_DECIMAL, 125000);
    f->rate_vals[1] = vnum(TSR_T_DECIMAL, 1500000);
    fx_map(&f->tables[2], "rate", TSR_T_DECIMAL, f->rate_keys, f->rate_lens, f->rate_vals, 2);
    f->size_vals[0] = vnum(TSR_T_INT, 1);
    f->size_vals[1] = vnum(TSR_T_INT, 2);
    f->size_vals[2] = vnum(TSR_T_INT, 3);
    fx_list(&f->tables[3], "sizes", TSR_T_INT, f->size_vals, 3);
    /* Keys deliberately not sorted: lookups must still work. */
    f->unsorted_keys[0] = "zeta";
    f->unsorted_keys[1] = "alpha";
    f->unsorted_vals[0] = vstr("last");
    f->unsorted_vals[1] = vstr("first");
    fx_map(&f->tables[4], "labels", TSR_T_STRING, f->unsorted_keys, f->unsorted_lens,
           f->unsorted_vals, 2);

    assert_int_equal(tsr__regex_pool_new(&f->pool, &f->alloc, 100000, 1000, 1024), TSR_OK);

    f->env.file = "rules.yaml";
    for (int k = 0; k < TSR_REC__COUNT; k++)
        f->env.records[k] = &f->rec[k];
    f->env.segments = f->segs;
    f->env.nsegments = 3;
    f->env.segment_used = f->seg_used;
    f->env.tables = f->tables;
    f->env.ntables = 5;
    f->env.promos = f->promos;
    f->env.npromos = 2;
    f->env.promo_used = f->promo_used;
    f->env.flags = FX_ALL_FLAGS;
    f->env.minor_units = 2;
    f->env.rounding = TSR_ROUND_HALF_UP;
    f->env.regexes = f->pool;
    f->env.max_length = 4096;

    /* The order. */
    for (int k = 0; k < O__N; k++)
        f->order[k] = tsr__missing();
    for (int k = 0; k < C__N; k++)
        f->customer[k] = tsr__missing();
    f->order[TSR_ORDER_ID] = vstr("A-1001");
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-13T14:30:00+03:00");
    f->order[TSR_ORDER_CHANNEL] = vstr("web");
    f->customer[TSR_CUST_ID] = vstr("C-77");
    f->tags[0] = vstr("season_pass");
    f->tags[1] = vstr("vip");
    f->customer[TSR_CUST_TAGS].type = TSR_T_LIST;
    f->customer[TSR_CUST_TAGS].elem = TSR_T_STRING;
    f->customer[TSR_CUST_TAGS].u.list = f->tags;
    f->customer[TSR_CUST_TAGS].len = 2;
    f->customer[TSR_CUST_POINTS_BALANCE] = vnum(TSR_T_INT, 1200);
    f->customer[C_VISITS] = vnum(TSR_T_INT, 3);
    f->customer[C_BIRTHDAY] = vdate("2015-06-15");
    f->customer[C_MEMBER] = vnum(TSR_T_BOOL, 1);
    f->customer[C_SPEND] = vnum(TSR_T_MONEY, 5000000);

    fx_line(f, 0, "t1", "ticket", "PARK-DAY", 1);
    f->lines[0][I_HEIGHT] = vnum(TSR_T_INT, 118);
    f->lines[0][I_ZONE] = vstr("B");
    f->lines[0][I_EVENT_START] = vdt("2026-06-20T19:00:00+03:00");
    fx_line(f, 1, "f1", "fnb", "COLA-05", 2);
    f->lines[1][TSR_ITEM_PRICE] = vnum(TSR_T_MONEY, 15000);
    fx_line(f, 2, "t2", "ticket", "PARK-DAY", 1);
    f->lines[2][TSR_ITEM_PRICE] = vnum(TSR_T_MONEY, 250000);
    f->lines[2][I_HEIGHT] = vnum(TSR_T_INT, 95);
    f->lines[2][I_ZONE] = vstr("A");
    fx_line(f, 3, "spare", "merch", "CAP", 1);

    f->segv[0] = 0;
    f->segv[1] = 1;
    f->segv[2] = 1;
    f->promov[0] = 1;
    f->promov[1] = 0;

    f->ctx.alloc = &f->alloc;
    f->ctx.order = f->order;
    f->ctx.customer = f->customer;
    f->ctx.item = f->lines[0];
    f->ctx.lines = &f->lines[0][0];
    f->ctx.line_stride = I__N;
    f->ctx.nlines = 3;
    f->ctx.segments = f->segv;
    f->ctx.tier = tsr__missing();
    f->ctx.promo_accepted = f->promov;
    f->ctx.minor_units = 2;
    f->ctx.rounding = TSR_ROUND_HALF_UP;
    f->ctx.err = &f->err;
    *state = f;
    return 0;
}

static inline int fx_teardown(void **state)
{
    fx *f = *state;
    tsr__regex_scratch_free(f->ctx.regex_scratch, &f->alloc);
    tsr__regex_pool_free(f->pool);
    tsr__arena_free(&f->arena);
    free(f);
    return 0;
}

static inline int fx_compile_rc(fx *f, const char *src, tsr_type want, tsr_expr **out)
{
    memset(&f->err, 0, sizeof f->err);
    return tsr__expr_compile(out, src, strlen(src), want, NULL, &f->env, &f->arena, &f->err);
}

static inline tsr_expr *fx_compile(fx *f, const char *src, tsr_type want)
{
    tsr_expr *e = NULL;
    int rc = fx_compile_rc(f, src, want, &e);
    if (rc != TSR_OK)
        fail_msg("compiling `%s`: %d %d:%d: %s", src, rc, f->err.line, f->err.column,
                 f->err.message);
    assert_non_null(e);
    return e;
}

/* Compiling `src` fails with `code`, a message containing `msg`, at
 * column `col` (0: any). */
static inline void fx_compile_fails(fx *f, const char *src, tsr_type want, int code,
                                    const char *msg, int col)
{
    tsr_expr *e = NULL;
    int rc = fx_compile_rc(f, src, want, &e);
    if (rc != code || !strstr(f->err.message, msg) || (col && f->err.column != col))
        fail_msg("compiling `%s`: want %d `%s` at col %d, got %d `%s` at %d:%d", src, code, msg,
                 col, rc, f->err.message, f->err.line, f->err.column);
    assert_null(e);
    assert_int_equal(f->err.code, code);
    assert_string_equal(f->err.file, "rules.yaml");
}

static inline tsr_value fx_eval(fx *f, const char *src, tsr_type want)
{
    tsr_expr *e = fx_compile(f, src, want);
    tsr_value v;
    memset(&f->err, 0, sizeof f->err);
    int rc = tsr__expr_eval(e, &f->ctx, &v);
    if (rc != TSR_OK)
        fail_msg("evaluating `%s`: %d %s", src, rc, f->err.message);
    return v;
}

static inline bool fx_holds(fx *f, const char *src)
{
    tsr_expr *e = fx_compile(f, src, TSR_T_BOOL);
    bool h = false;
    memset(&f->err, 0, sizeof f->err);
    int rc = tsr__expr_test(e, &f->ctx, &h, NULL, NULL);
    if (rc != TSR_OK)
        fail_msg("testing `%s`: %d %s", src, rc, f->err.message);
    return h;
}

/* Evaluation fails with `code` and a message containing `msg`. */
static inline void fx_eval_fails(fx *f, const char *src, int code, const char *msg)
{
    tsr_expr *e = fx_compile(f, src, TSR_T_MISSING);
    tsr_value v;
    memset(&f->err, 0, sizeof f->err);
    int rc = tsr__expr_eval(e, &f->ctx, &v);
    if (rc != code || !strstr(f->err.message, msg))
        fail_msg("evaluating `%s`: want %d `%s`, got %d `%s`", src, code, msg, rc,
                 f->err.message);
}

#define assert_value(val, typ, num)                  \
    do {                                             \
        tsr_value v_ = (val);                        \
        assert_int_equal(v_.type, (typ));            \
        assert_int_equal(v_.u.i, (int64_t)(num));    \
    } while (0)

#define assert_missing(v) assert_int_equal((v).type, TSR_T_MISSING)

static inline void assert_str_value(tsr_value v, const char *s)
{
    assert_int_equal(v.type, TSR_T_STRING);
    char buf[256];
    assert_true(v.len < sizeof buf);
    for (uint32_t i = 0; i < v.len; i++)
        buf[i] = (char)tsr__vf_map((unsigned char)v.u.s[i], v.flags);
    buf[v.len] = '\0';
    assert_string_equal(buf, s);
}

#endif /* TSR_EXPR_FIXTURE_H */
