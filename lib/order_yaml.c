/*
 * order_yaml.c — reads an order written as YAML (a mapping of the same
 * shape as the JSON order, SPEC §5): the text is parsed into a tree
 * (yaml_tree.c, with the order's limits), then walked, each node fed to
 * the order's event reader (order_read.c), so the rules and error paths
 * are the JSON reader's.
 *
 * Scalars resolve by the YAML 1.2 core schema, as JSON would type them: a
 * plain 118 is a number, "118" a string, plain true a boolean, ~ or null
 * nothing.  A plain 2015-06-15 is a string to YAML 1.2, which is what a
 * date field parses, so plain and quoted dates both work.
 */
#include "order.h"

#include <stdio.h>

/* Nesting allowed in a YAML order: far beyond the order's shape (4 levels)
 * yet small enough that a hostile document is refused by the parser. */
#define ORDER_YAML_DEPTH 32

static bool word_is(const char *s, size_t n, const char *a, const char *b, const char *c)
{
    return (strlen(a) == n && memcmp(s, a, n) == 0) || (strlen(b) == n && memcmp(s, b, n) == 0) ||
           (strlen(c) == n && memcmp(s, c, n) == 0);
}

static bool all_digits(const char *s, size_t n, bool hex)
{
    size_t i;
    if (n == 0)
        return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') ||
              (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))))
            return false;
    }
    return true;
}

/* YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_core_float(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, d++;
    }
    if (d == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        if (!all_digits(s + i, n - i, false))
            return false;
        i = n;
    }
    return i == n;
}

/* Is this plain scalar a number by the core schema (ints in decimal, octal
 * 0o and hex 0x, floats, .inf and .nan)?  The reader then refuses what is
 * not a plain decimal, with a message naming the value. */
static bool is_core_number(const char *s, size_t n)
{
    size_t i = (n > 0 && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
    if (n > 2 && s[0] == '0' && s[1] == 'o')
        return all_digits(s + 2, n - 2, false);
    if (n > 2 && s[0] == '0' && s[1] == 'x')
        return all_digits(s + 2, n - 2, true);
    if (word_is(s + i, n - i, ".inf", ".Inf", ".INF") || word_is(s, n, ".nan", ".NaN", ".NAN"))
        return true;
    return is_core_float(s, n);
}

/* The JSON kind of a scalar node; *s / *n its text (a number's leading '+'
 * dropped, since JSON numbers have none). */
static tsr_otok classify(const tsr_ynode *node, const char **s, size_t *n)
{
    const char *t = node->u.scalar.text;
    size_t len = node->u.scalar.len;

    *s = t;
    *n = len;
    if (!tsr__yaml_is_plain(node))
        return TSR_OT_STRING;
    if (tsr__yaml_is_null(node))
        return TSR_OT_NULL;
    if (word_is(t, len, "true", "True", "TRUE"))
        return TSR_OT_TRUE;
    if (word_is(t, len, "false", "False", "FALSE"))
        return TSR_OT_FALSE;
    if (node->u.scalar.tag == TSR_YT_INT || node->u.scalar.tag == TSR_YT_FLOAT ||
        is_core_number(t, len)) {
        if (len > 1 && t[0] == '+') {
            *s = t + 1;
            *n = len - 1;
        }
        return TSR_OT_NUMBER;
    }
    return TSR_OT_STRING;
}

static int walk(tsr_oreader *r, const tsr_ynode *node)
{
    const char *s;
    size_t n, i;
    int rc = TSR_OK;

    switch (node->kind) {
    case TSR_Y_SCALAR: {
        tsr_otok tok = classify(node, &s, &n);
        rc = tsr__oread_scalar(r, tok, s, n);
        break;
    }
    case TSR_Y_SEQ:
        rc = tsr__oread_start_array(r);
        for (i = 0; rc == TSR_OK && i < node->u.seq.len; i++)
            rc = walk(r, node->u.seq.items[i]);
        if (rc == TSR_OK)
            rc = tsr__oread_end_array(r);
        break;
    case TSR_Y_MAP:
        rc = tsr__oread_start_map(r);
        for (i = 0; rc == TSR_OK && i < node->u.map.len; i++) {
            const tsr_ynode *k = node->u.map.pairs[i].key;
            rc = tsr__oread_key(r, k->u.scalar.text, k->u.scalar.len);
            if (rc != TSR_OK) {
                if (r->err && r->err->line == 0) {
                    r->err->line = k->line;
                    r->err->column = k->col;
                }
                break;
            }
            rc = walk(r, node->u.map.pairs[i].value);
        }
        if (rc == TSR_OK)
            rc = tsr__oread_end_map(r);
        break;
    }
    /* The innermost node that failed gives the position, besides the path. */
    if (rc != TSR_OK && r->err && r->err->line == 0) {
        r->err->line = node->line;
        r->err->column = node->col;
    }
    return rc;
}

int tsr__order_read_ynode(tsr_order *o, const tsr_ynode *root, tsr_error *err)
{
    tsr_oreader r;
    int rc;

    tsr__oread_init(&r, o, true, err);
    rc = walk(&r, root);
    if (rc == TSR_OK && !r.done)   /* cannot happen: a tree is always complete */
        rc = tsr__err_path(err, TSR_EORDER, "$", "the order is incomplete");
    if (rc != TSR_OK)
        tsr__order_clear(o);
    return rc;
}

int tsr__order_read_yaml(tsr_order *o, const char *text, size_t len, tsr_error *err)
{
    const tsr_load_options *lim = &o->rs->limits;
    /* No aliases: an order has no use for them, and they are how a small
     * YAML text becomes a huge tree.  Without them a node needs at least a
     * byte of text, so the size limit bounds the node count. */
    tsr_ylimits yl = { lim->max_order_size, ORDER_YAML_DEPTH, lim->max_string_length,
                       lim->max_order_size, 0 };
    tsr_ynode *root = NULL;
    int rc;

    if (len > lim->max_order_size)
        return tsr__err_path(err, TSR_ELIMIT, "$",
                             "order of %zu bytes is larger than the limit (%zu bytes)", len,
                             lim->max_order_size);
    tsr__arena_reset(&o->scratch);
    rc = tsr__yaml_parse(&root, text, len, "<order>", &yl, &o->scratch, err);
    if (rc != TSR_OK) {
        /* A syntax error is an invalid order; its line and column say where. */
        if (rc == TSR_EPARSE)
            rc = TSR_EORDER;
        if (err) {
            err->code = rc;
            if (!err->path[0])
                snprintf(err->path, sizeof err->path, "$");
        }
        tsr__order_clear(o);
        return rc;
    }
    rc = tsr__order_read_ynode(o, root, err);
    tsr__arena_reset(&o->scratch);
    return rc;
}
