/*
 * json_readers.c — measures the JSON libraries Tessera could read orders
 * with, on the park10 workload (one order per line), to choose one by
 * numbers rather than taste (docs/decisions/json-library.md).
 *
 *   json_readers ORDERS.jsonl [RULES.yaml]
 *
 * Parse only (no order built):
 *   libyaml-events   libyaml's event parser (JSON is YAML), every event read
 *   jansson-dom      json_loadb into a DOM (duplicate keys rejected), freed
 *   yajl-sax         yajl 2 with no-op callbacks, numbers kept as text
 * With RULES.yaml (a rule set whose schema fits the orders), the real
 * readers, text to a validated order:
 *   tessera-yaml-tree  tsr__yaml_parse (the tree the YAML order reader walks)
 *   tessera-yaml       tsr__order_read_yaml + tsr__order_finish
 *   tessera-json-yajl  the former JSON reader, yajl SAX filling the order
 *                      (tests/fuzz/oracle_json_yajl.c) + tsr__order_finish
 *   tessera-json       tsr_order_parse (the schema-aware reader, no JSON
 *                      library) on a reused order: the path of
 *                      `tessera eval --jsonl`
 *
 * Prints ns per order (median of 5 timed runs of >= 0.3 s after a warm-up).
 * All arithmetic is integer: no floating point in this project, even here.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <yajl/yajl_parse.h>
#include <yaml.h>

#include "order_oracle.h"

#define RUNS 5
#define RUN_NS INT64_C(300000000)

typedef struct orders {
    char **text;
    size_t *len;
    size_t n;
    size_t bytes;
} orders;

typedef int (*parse_fn)(void *ctx, const char *text, size_t len);

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int read_orders(const char *path, orders *out)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0, cap_items = 0;
    ssize_t got;

    if (!f) {
        fprintf(stderr, "json_readers: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(out, 0, sizeof *out);
    while ((got = getline(&line, &cap, f)) >= 0) {
        while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
            line[--got] = '\0';
        if (got == 0)
            continue;
        if (out->n == cap_items) {
            cap_items = cap_items ? cap_items * 2 : 1024;
            out->text = realloc(out->text, cap_items * sizeof *out->text);
            out->len = realloc(out->len, cap_items * sizeof *out->len);
            if (!out->text || !out->len)
                return -1;
        }
        out->text[out->n] = strdup(line);
        if (!out->text[out->n])
            return -1;
        out->len[out->n] = (size_t)got;
        out->bytes += (size_t)got;
        out->n++;
    }
    free(line);
    fclose(f);
    return out->n ? 0 : -1;
}

/* One pass over all orders; returns the elapsed ns or -1 on a parse failure. */
static int64_t one_pass(parse_fn fn, void *ctx, const orders *o)
{
    int64_t t0 = now_ns();
    size_t i;
    for (i = 0; i < o->n; i++)
        if (fn(ctx, o->text[i], o->len[i]) != 0) {
            fprintf(stderr, "json_readers: order %zu failed\n", i + 1);
            return -1;
        }
    return now_ns() - t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median over RUNS of ns per order, in tenths of a nanosecond. */
static int measure(const char *name, parse_fn fn, void *ctx, const orders *o)
{
    int64_t per[RUNS], t, total, orders_done, warm = now_ns();
    int r;

    while (now_ns() - warm < RUN_NS)              /* warm-up: caches, allocator */
        if (one_pass(fn, ctx, o) < 0)
            return -1;
    for (r = 0; r < RUNS; r++) {
        total = 0;
        orders_done = 0;
        while (total < RUN_NS) {
            t = one_pass(fn, ctx, o);
            if (t < 0)
                return -1;
            total += t;
            orders_done += (int64_t)o->n;
        }
        per[r] = total * 10 / orders_done;
    }
    qsort(per, RUNS, sizeof per[0], cmp_i64);
    t = per[RUNS / 2];
    printf("%-18s %6lld.%lld ns/order  %5lld MB/s  (runs %lld.%lld .. %lld.%lld)\n", name,
           (long long)(t / 10), (long long)(t % 10),
           (long long)((int64_t)o->bytes * 10000 / ((int64_t)o->n * t)),
           (long long)(per[0] / 10), (long long)(per[0] % 10),
           (long long)(per[RUNS - 1] / 10), (long long)(per[RUNS - 1] % 10));
    return 0;
}

/* ---------------------------------------------------------------------
 * libyaml: the event parser, every event fetched and released.
 */
static int parse_libyaml(void *ctx, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_event_t ev;
    int done = 0, ok = 1;
    (void)ctx;

    if (!yaml_parser_initialize(&p))
        return -1;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (!done) {
        if (!yaml_parser_parse(&p, &ev)) {
            ok = 0;
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * jansson: a DOM, then freed.  JSON_REJECT_DUPLICATES because an order
 * reader must refuse duplicate keys.
 */
static int parse_jansson(void *ctx, const char *text, size_t len)
{
    json_error_t e;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);
    (void)ctx;
    if (!root)
        return -1;
    json_decref(root);
    return 0;
}

/* ---------------------------------------------------------------------
 * yajl: SAX callbacks that do nothing; numbers through yajl_number so yajl
 * converts nothing (as the order reader does).
 */
static int y_null(void *c) { (void)c; return 1; }
static int y_bool(void *c, int b) { (void)c; (void)b; return 1; }
static int y_number(void *c, const char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int y_string(void *c, const unsigned char *s, size_t n) { (void)c; (void)s; (void)n; return 1; }
static int y_mark(void *c) { (void)c; return 1; }

static const yajl_callbacks noop_callbacks = {
    y_null, y_bool, NULL, NULL, y_number, y_string,
    y_mark, y_string, y_mark, y_mark, y_mark
};

static int parse_yajl(void *ctx, const char *text, size_t len)
{
    yajl_handle h = yajl_alloc(&noop_callbacks, NULL, ctx);
    yajl_status st;
    if (!h)
        return -1;
    st = yajl_parse(h, (const unsigned char *)text, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    yajl_free(h);
    return st == yajl_status_ok ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Tessera's own readers.
 */
typedef struct tsr_ctx {
    const tsr_ruleset *rs;
    tsr_order *order;
    tsr_arena arena;
    tsr_error err;
} tsr_ctx;

static int parse_yaml_tree(void *ctx, const char *text, size_t len)
{
    tsr_ctx *c = ctx;
    tsr_ylimits lim = { 16u << 20, 32, 64u << 10, 16u << 20, 0 };
    tsr_ynode *root;
    int rc;

    tsr__arena_reset(&c->arena);
    rc = tsr__yaml_parse(&root, text, len, "<order>", &lim, &c->arena, &c->err);
    return rc == TSR_OK ? 0 : -1;
}

static int parse_order_yaml(void *ctx, const char *text, size_t len)
{
    tsr_ctx *c = ctx;
    tsr__order_clear(c->order);
    if (tsr__order_read_yaml(c->order, text, len, &c->err) != TSR_OK ||
        tsr__order_finish(c->order, &c->err) != TSR_OK)
        return -1;
    return 0;
}

static int parse_order_json_yajl(void *ctx, const char *text, size_t len)
{
    tsr_ctx *c = ctx;
    tsr__order_clear(c->order);
    if (tsr_oracle_order_read_json(c->order, text, len, &c->err) != TSR_OK ||
        tsr__order_finish(c->order, &c->err) != TSR_OK)
        return -1;
    return 0;
}

static int parse_order_json(void *ctx, const char *text, size_t len)
{
    tsr_ctx *c = ctx;
    return tsr_order_parse(c->order, text, len, &c->err) == TSR_OK ? 0 : -1;
}

static int run_tessera(const char *rules, const orders *o)
{
    tsr_ctx c;
    tsr_ruleset *rs = NULL;
    int ok = 0;

    memset(&c, 0, sizeof c);
    if (tsr_ruleset_load_file(&rs, rules, NULL, &c.err) != TSR_OK ||
        tsr_order_new(&c.order, rs, &c.err) != TSR_OK) {
        char msg[1024];
        tsr_error_format(msg, sizeof msg, &c.err);
        fprintf(stderr, "json_readers: %s\n", msg);
        tsr_ruleset_free(rs);
        return -1;
    }
    c.rs = rs;
    tsr__arena_init(&c.arena, &rs->alloc, 8192);
    if (measure("tessera-yaml-tree", parse_yaml_tree, &c, o) != 0 ||
        measure("tessera-yaml", parse_order_yaml, &c, o) != 0 ||
        measure("tessera-json-yajl", parse_order_json_yajl, &c, o) != 0 ||
        measure("tessera-json", parse_order_json, &c, o) != 0) {
        char msg[1024];
        tsr_error_format(msg, sizeof msg, &c.err);
        fprintf(stderr, "json_readers: %s\n", msg);
        ok = -1;
    }
    tsr__arena_free(&c.arena);
    tsr_order_free(c.order);
    tsr_ruleset_free(rs);
    return ok;
}

int main(int argc, char **argv)
{
    orders o;
    int rc = 0;
    size_t i;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: json_readers ORDERS.jsonl [RULES.yaml]\n");
        return 2;
    }
    if (read_orders(argv[1], &o) != 0) {
        fprintf(stderr, "json_readers: no orders read from %s\n", argv[1]);
        return 1;
    }
    printf("%zu orders, %zu bytes (%zu per order); median of %d runs\n", o.n, o.bytes,
           o.bytes / o.n, RUNS);
    if (measure("libyaml-events", parse_libyaml, NULL, &o) != 0 ||
        measure("jansson-dom", parse_jansson, NULL, &o) != 0 ||
        measure("yajl-sax", parse_yajl, NULL, &o) != 0)
        rc = 1;
    if (rc == 0 && argc == 3 && run_tessera(argv[2], &o) != 0)
        rc = 1;
    for (i = 0; i < o.n; i++)
        free(o.text[i]);
    free(o.text);
    free(o.len);
    return rc;
}
