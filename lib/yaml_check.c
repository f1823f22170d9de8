/*
 * yaml_check.c — the kit that checks a YAML tree's shape (yaml_tree.h):
 * errors at a node's line:col, unknown keys, "must be a mapping" / "must be
 * a list", and the scalar values rule files, rule tests and refund cases
 * read.  One set, so that every reader words a wrong shape the same way.
 */
#include "datetime.h"
#include "keys.h"
#include "money.h"

int tsr__yfail(const tsr_ycheck *c, const tsr_ynode *n, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tsr__err_atv(c->err, code, c->file, n ? n->line : 0, n ? n->col : 0, fmt, ap);
    va_end(ap);
    return code;
}

int tsr__ycheck_keys(const tsr_ycheck *c, const tsr_ynode *map, const char *where,
                     const tsr_keyset *ks)
{
    return tsr__keys_check(ks, map, c->file, where, c->err);
}

int tsr__yneed_map(const tsr_ycheck *c, const tsr_ynode *n, const char *where)
{
    if (!n || n->kind != TSR_Y_MAP)
        return tsr__yfail(c, n, TSR_ESCHEMA, "%s must be a mapping", where);
    return TSR_OK;
}

int tsr__yneed_seq(const tsr_ycheck *c, const tsr_ynode *n, const char *where)
{
    if (!n || n->kind != TSR_Y_SEQ)
        return tsr__yfail(c, n, TSR_ESCHEMA, "%s must be a list", where);
    return TSR_OK;
}

const char *tsr__ykind_name(const tsr_ynode *n)
{
    switch (n->kind) {
    case TSR_Y_SEQ: return "a list";
    case TSR_Y_MAP: return "a mapping";
    default: return "a scalar";
    }
}

static bool is_value(const tsr_ynode *n)
{
    return tsr__yscalar(n) && !tsr__yaml_is_null(n);
}

bool tsr__yint(const tsr_ynode *n, int64_t *out)
{
    const char *s;
    size_t len, i = 0;
    bool neg = false;
    int64_t v = 0;

    if (!is_value(n))
        return false;
    s = n->u.scalar.text;
    len = n->u.scalar.len;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (!tsr__mul(v, 10, &v) || !tsr__add(v, neg ? -(s[i] - '0') : s[i] - '0', &v))
            return false;
    }
    *out = v;
    return true;
}

bool tsr__yfixed(const tsr_ynode *n, unsigned scale, int64_t *out)
{
    return is_value(n) && tsr__parse_fixed(n->u.scalar.text, n->u.scalar.len, scale, out) == TSR_OK;
}

bool tsr__ydate(const tsr_ynode *n, int64_t *out)
{
    return tsr__yscalar(n) && tsr__parse_date(n->u.scalar.text, n->u.scalar.len, out) == TSR_OK;
}
