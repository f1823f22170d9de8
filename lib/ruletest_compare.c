/*
 * ruletest_compare.c — pass 2 of a rule test (ruletest.h): a case's result
 * against what the case expects, comparing only what the case writes.
 *
 * Money is compared in minor units ("25.00", 25.00 and 25 are the same
 * expectation); mismatches read `  lines.t1.total: expected "25.00", got
 * "2500.00"`.
 */
#include "ruletest.h"

/* ---------------------------------------------------------------------
 * Pass 2: comparing a result with what a case expects.
 */
static void mismatch(runner *R, const char *path, const char *fmt, ...) TSR_PRINTF(3, 4);

static void mismatch(runner *R, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tsr__buf_diff_linev(&R->diff, path, fmt, ap);
    va_end(ap);
}

/* What the result holds for one compared field. */
typedef struct got {
    vkind kind;
    const char *s;           /* V_STR*: NULL = none */
    int64_t i;               /* V_INT, V_MONEY, V_DATE* */
    bool none;               /* V_DATE_OR_NULL: no date */
} got;

static got got_str(const char *s)
{
    got g;
    memset(&g, 0, sizeof g);
    g.kind = V_STR_OR_NULL;
    g.s = s;
    return g;
}

static got got_num(vkind k, int64_t v)
{
    got g;
    memset(&g, 0, sizeof g);
    g.kind = k;
    g.i = v;
    return g;
}

/* Render a value for a message: strings and money quoted, none as `none`. */
static void render_got(const runner *R, const got *g, char *buf, size_t size)
{
    char num[40];
    switch (g->kind) {
    case V_STR:
    case V_STR_OR_NULL:
        if (g->s)
            snprintf(buf, size, "\"%s\"", g->s);
        else
            snprintf(buf, size, "none");
        return;
    case V_INT:
        snprintf(buf, size, "%lld", (long long)g->i);
        return;
    case V_MONEY:
        tsr__format_fixed(num, g->i, R->rs->minor_units);
        snprintf(buf, size, "\"%s\"", num);
        return;
    case V_DATE:
    case V_DATE_OR_NULL:
        if (g->none) {
            snprintf(buf, size, "none");
            return;
        }
        tsr__format_date(num, g->i);
        snprintf(buf, size, "\"%s\"", num);
        return;
    }
}

/* The expectation as a value of the same kind (validated in pass 1). */
static got expected_of(const runner *R, const tsr_ynode *n, vkind kind)
{
    got g;
    memset(&g, 0, sizeof g);
    g.kind = kind;
    switch (kind) {
    case V_STR:
    case V_STR_OR_NULL:
        g.s = tsr__yaml_is_null(n) ? NULL : tsr__ytext(n);
        break;
    case V_INT:
        tsr__yint(n, &g.i);
        break;
    case V_MONEY:
        tsr__yfixed(n, R->rs->minor_units, &g.i);
        break;
    case V_DATE:
    case V_DATE_OR_NULL:
        g.none = tsr__yaml_is_null(n);
        if (!g.none)
            tsr__ydate(n, &g.i);
        break;
    }
    return g;
}

static bool same(const got *a, const got *b)
{
    switch (a->kind) {
    case V_STR:
    case V_STR_OR_NULL:
        if (!a->s || !b->s)
            return !a->s && !b->s;
        return strcmp(a->s, b->s) == 0;
    case V_DATE:
    case V_DATE_OR_NULL:
        if (a->none || b->none)
            return a->none && b->none;
        return a->i == b->i;
    default:
        return a->i == b->i;
    }
}

/* Compare one expected scalar with the result's value; report a mismatch. */
static bool compare(runner *R, const char *path, const tsr_ynode *want, got g)
{
    got e = expected_of(R, want, g.kind);
    char a[300], b[300];

    if (same(&e, &g))
        return true;
    render_got(R, &e, a, sizeof a);
    render_got(R, &g, b, sizeof b);
    mismatch(R, path, "expected %s, got %s", a, b);
    return false;
}

static const tsr_res_line *find_line(const tsr_result *res, const char *id)
{
    size_t i;
    for (i = 0; i < res->nlines; i++)
        if (res->lines[i].id && strcmp(res->lines[i].id, id) == 0)
            return &res->lines[i];
    return NULL;
}

static got line_value(const tsr_res_line *l, const char *key)
{
    if (strcmp(key, "id") == 0) return got_str(l->id);
    if (strcmp(key, "kind") == 0) return got_str(l->kind);
    if (strcmp(key, "category") == 0) return got_str(l->category_name);
    if (strcmp(key, "quantity") == 0) return got_num(V_INT, l->quantity);
    if (strcmp(key, "points_earned") == 0) return got_num(V_INT, l->points_earned);
    if (strcmp(key, "unit_price") == 0) return got_num(V_MONEY, l->unit_price);
    if (strcmp(key, "subtotal") == 0) return got_num(V_MONEY, l->subtotal);
    if (strcmp(key, "discount") == 0) return got_num(V_MONEY, l->discount);
    return got_num(V_MONEY, l->total);
}

/* The saving of discount `id` on a line; false when it did not touch it. */
static bool line_discount(const runner *R, const tsr_res_line *l, const char *id, int64_t *amount)
{
    size_t i;
    for (i = 0; i < l->ndiscounts; i++)
        if (strcmp(R->rs->discounts[l->discounts[i].discount].id, id) == 0) {
            *amount = l->discounts[i].amount;
            return true;
        }
    return false;
}

/* "[a, b]" from the discounts of a line. */
static void render_line_discounts(const runner *R, const tsr_res_line *l, tsr_buf *b)
{
    size_t i;
    tsr__buf_putc(b, '[');
    for (i = 0; i < l->ndiscounts; i++) {
        if (i)
            tsr__buf_puts(b, ", ");
        tsr__buf_puts(b, R->rs->discounts[l->discounts[i].discount].id);
    }
    tsr__buf_putc(b, ']');
}

static void render_node_list(const tsr_ynode *n, tsr_buf *b)
{
    size_t i;
    tsr__buf_putc(b, '[');
    for (i = 0; i < n->u.seq.len; i++) {
        if (i)
            tsr__buf_puts(b, ", ");
        tsr__buf_puts(b, tsr__ytext(n->u.seq.items[i]));
    }
    tsr__buf_putc(b, ']');
}

static void compare_line_discount_set(runner *R, const char *path, const tsr_ynode *want,
                                      const tsr_res_line *l)
{
    size_t i, j;
    bool ok = want->u.seq.len == l->ndiscounts;
    tsr_buf a, b;

    for (i = 0; ok && i < want->u.seq.len; i++) {
        int64_t amount;
        ok = line_discount(R, l, tsr__ytext(want->u.seq.items[i]), &amount);
    }
    for (j = 0; ok && j < l->ndiscounts; j++) {
        bool found = false;
        for (i = 0; i < want->u.seq.len && !found; i++)
            found = strcmp(tsr__ytext(want->u.seq.items[i]),
                           R->rs->discounts[l->discounts[j].discount].id) == 0;
        ok = found;
    }
    if (ok)
        return;
    tsr__buf_init(&a, &R->rep->alloc);
    tsr__buf_init(&b, &R->rep->alloc);
    render_node_list(want, &a);
    render_line_discounts(R, l, &b);
    if (!a.failed && !b.failed)
        mismatch(R, path, "expected %s, got %s", a.data, b.data);
    else
        R->diff.failed = TSR_ENOMEM;
    tsr__buf_free(&a);
    tsr__buf_free(&b);
}

static void compare_line_discounts(runner *R, const char *path, const tsr_ynode *want,
                                   const tsr_res_line *l)
{
    size_t i;

    if (want->kind == TSR_Y_SEQ) {
        compare_line_discount_set(R, path, want, l);
        return;
    }
    for (i = 0; i < want->u.map.len; i++) {
        const tsr_ypair *pr = &want->u.map.pairs[i];
        int64_t amount = 0;
        char p[400];
        tsr__ruletest_join(p, sizeof p, path, tsr__ytext(pr->key));
        if (line_discount(R, l, tsr__ytext(pr->key), &amount)) {
            compare(R, p, pr->value, got_num(V_MONEY, amount));
        } else {
            got e = expected_of(R, pr->value, V_MONEY);
            char a[64];
            render_got(R, &e, a, sizeof a);
            mismatch(R, p, "expected %s, but the discount did not change this line", a);
        }
    }
}

/* lines.ID.tax: an amount, ~ (no rate), or {id, rate, amount} partially. */
static void compare_line_tax(runner *R, const char *path, const tsr_ynode *want,
                             const tsr_result *res, size_t line)
{
    const tsr_res_tax *lt = res->line_tax ? &res->line_tax[line] : NULL;
    const tsr_tax_rate *t = lt && lt->rate >= 0 ? &R->rs->taxes.rates[lt->rate] : NULL;
    size_t i;

    if (tsr__yaml_is_null(want)) {
        if (t)
            mismatch(R, path, "expected no tax rate, got `%s` (%s %%)", t->id, t->rate_text);
        return;
    }
    if (!t) {
        mismatch(R, path, "expected a tax, but %s", lt ? "no tax rate took the line"
                                                       : "the rule set has no `taxes`");
        return;
    }
    if (want->kind != TSR_Y_MAP) {
        compare(R, path, want, got_num(V_MONEY, lt->amount));
        return;
    }
    for (i = 0; i < want->u.map.len; i++) {
        const tsr_ypair *pr = &want->u.map.pairs[i];
        const char *key = tsr__ytext(pr->key);
        char p[450];
        int64_t rate = 0;
        tsr__ruletest_join(p, sizeof p, path, key);
        if (strcmp(key, "id") == 0) {
            compare(R, p, pr->value, got_str(t->id));
        } else if (strcmp(key, "amount") == 0) {
            compare(R, p, pr->value, got_num(V_MONEY, lt->amount));
        } else {
            tsr__yfixed(pr->value, TSR_DEC_DIGITS, &rate);
            if (rate != t->rate)
                mismatch(R, p, "expected %s, got %s", tsr__ytext(pr->value), t->rate_text);
        }
    }
}

static void compare_line(runner *R, const char *id, const tsr_ynode *want, const tsr_result *res)
{
    const tsr_res_line *l = find_line(res, id);
    char path[300];
    size_t i;

    tsr__ruletest_join(path, sizeof path, "lines", id);
    if (!l) {
        mismatch(R, path, "the order has no line `%s`", id);
        return;
    }
    for (i = 0; i < want->u.map.len; i++) {
        const tsr_ypair *pr = &want->u.map.pairs[i];
        const char *key = tsr__ytext(pr->key);
        char p[400];
        tsr__ruletest_join(p, sizeof p, path, key);
        if (strcmp(key, "discounts") == 0) {
            compare_line_discounts(R, p, pr->value, l);
        } else if (strcmp(key, "tax") == 0) {
            compare_line_tax(R, p, pr->value, res, (size_t)(l - res->lines));
        } else if (strcmp(key, "redeemed") == 0) {
            const tsr_ynode *pts = tsr__ymap_get(pr->value, "points");
            const tsr_ynode *val = tsr__ymap_get(pr->value, "value");
            char q[450];
            if (pts)
                compare(R, tsr__ruletest_join(q, sizeof q, p, "points"), pts, got_num(V_INT, l->redeemed_points));
            if (val)
                compare(R, tsr__ruletest_join(q, sizeof q, p, "value"), val, got_num(V_MONEY, l->redeemed_value));
        } else {
            compare(R, p, pr->value, line_value(l, key));
        }
    }
}

static void compare_lines(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i;
    for (i = 0; i < want->u.map.len; i++)
        compare_line(R, tsr__ytext(want->u.map.pairs[i].key), want->u.map.pairs[i].value, res);
}

static void compare_totals(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i;
    for (i = 0; i < want->u.map.len; i++) {
        const char *key = tsr__ytext(want->u.map.pairs[i].key);
        int64_t v = strcmp(key, "subtotal") == 0   ? res->totals.subtotal
                    : strcmp(key, "discount") == 0 ? res->totals.discount
                    : strcmp(key, "due") == 0      ? res->totals.due
                    : strcmp(key, "tax") == 0      ? res->totals.tax
                                                   : res->totals.redeemed_value;
        char p[300];
        compare(R, tsr__ruletest_join(p, sizeof p, "totals", key), want->u.map.pairs[i].value,
                got_num(V_MONEY, v));
    }
}

/* expect.taxes: each rate's tax over the order; a rate written must be used. */
static void compare_taxes(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    const tsr_taxes *tx = &R->rs->taxes;
    size_t i, k;

    for (i = 0; i < want->u.map.len; i++) {
        const char *id = tsr__ytext(want->u.map.pairs[i].key);
        char p[300];
        tsr__ruletest_join(p, sizeof p, "taxes", id);
        for (k = 0; k < tx->nrates && strcmp(tx->rates[k].id, id) != 0; k++)
            ;
        if (k < tx->nrates && res->rate_tax && res->rate_tax[k].nlines > 0) {
            compare(R, p, want->u.map.pairs[i].value, got_num(V_MONEY, res->rate_tax[k].amount));
        } else {
            got e = expected_of(R, want->u.map.pairs[i].value, V_MONEY);
            char a[64];
            render_got(R, &e, a, sizeof a);
            mismatch(R, p, "expected %s, but no line took this rate", a);
        }
    }
}

/* The result's value of an entry field, for partial matching. */
static got entry_value(const runner *R, const tsr_result *res, const tsr_points_entry *e,
                       const char *key)
{
    got g;
    if (strcmp(key, "rule") == 0)
        return got_str(R->rs->loyalty.earn[e->earn].id);
    if (strcmp(key, "line") == 0)
        return got_str(e->line >= 0 ? res->lines[e->line].id : NULL);
    if (strcmp(key, "points") == 0)
        return got_num(V_INT, e->points);
    if (strcmp(key, "available_on") == 0)
        return got_num(V_DATE, e->available_on);
    g = got_num(V_DATE_OR_NULL, e->expires_on);
    g.none = !e->has_expires;
    return g;
}

static bool entry_matches(const runner *R, const tsr_result *res, const tsr_points_entry *e,
                          const tsr_ynode *want)
{
    size_t i;
    for (i = 0; i < want->u.map.len; i++) {
        const char *key = tsr__ytext(want->u.map.pairs[i].key);
        got g = entry_value(R, res, e, key);
        got x = expected_of(R, want->u.map.pairs[i].value, g.kind);
        if (!same(&x, &g))
            return false;
    }
    return true;
}

static void render_entry(const runner *R, const tsr_result *res, const tsr_points_entry *e,
                         tsr_buf *b)
{
    char d1[16], d2[16];
    tsr__format_date(d1, e->available_on);
    if (e->has_expires)
        tsr__format_date(d2, e->expires_on);
    else
        strcpy(d2, "~");
    tsr__buf_printf(b, "{rule: %s, line: %s, points: %lld, available_on: %s, expires_on: %s}",
                    R->rs->loyalty.earn[e->earn].id, e->line >= 0 ? res->lines[e->line].id : "~",
                    (long long)e->points, d1, d2);
}

static void render_written_map(const tsr_ynode *m, tsr_buf *b)
{
    size_t i;
    tsr__buf_putc(b, '{');
    for (i = 0; i < m->u.map.len; i++)
        tsr__buf_printf(b, "%s%s: %s", i ? ", " : "", tsr__ytext(m->u.map.pairs[i].key),
                        tsr__yaml_is_null(m->u.map.pairs[i].value) ? "~"
                                                                   : tsr__ytext(m->u.map.pairs[i].value));
    tsr__buf_putc(b, '}');
}

static void compare_entries(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i, j;
    for (i = 0; i < want->u.seq.len; i++) {
        const tsr_ynode *w = want->u.seq.items[i];
        bool found = false;
        tsr_buf b;
        char path[64];

        for (j = 0; j < res->nentries && !found; j++)
            found = entry_matches(R, res, &res->entries[j], w);
        if (found)
            continue;
        tsr__buf_init(&b, &R->rep->alloc);
        tsr__buf_puts(&b, "no entry matches ");
        render_written_map(w, &b);
        tsr__buf_puts(&b, res->nentries ? "; entries:" : "; there are no entries");
        for (j = 0; j < res->nentries && j < 8; j++) {
            tsr__buf_puts(&b, j ? ", " : " ");
            render_entry(R, res, &res->entries[j], &b);
        }
        if (res->nentries > 8)
            tsr__buf_printf(&b, " and %zu more", res->nentries - 8);
        snprintf(path, sizeof path, "points.entries[%zu]", i);
        if (b.failed)
            R->diff.failed = TSR_ENOMEM;
        else
            mismatch(R, path, "%s", b.data);
        tsr__buf_free(&b);
    }
}

static void compare_lots(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i, j, k;
    for (i = 0; i < want->u.seq.len; i++) {
        const tsr_ynode *w = want->u.seq.items[i];
        bool found = false;
        char path[64];
        for (j = 0; j < res->nlots_used && !found; j++) {
            found = true;
            for (k = 0; k < w->u.map.len && found; k++) {
                const char *key = tsr__ytext(w->u.map.pairs[k].key);
                got g = strcmp(key, "id") == 0 ? got_str(res->lots_used[j].id)
                                               : got_num(V_INT, res->lots_used[j].points);
                got x = expected_of(R, w->u.map.pairs[k].value, g.kind);
                found = same(&x, &g);
            }
        }
        if (found)
            continue;
        snprintf(path, sizeof path, "points.lots_used[%zu]", i);
        mismatch(R, path, "no lot used matches (%zu lots used)", res->nlots_used);
    }
}

static void compare_points(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i;
    for (i = 0; i < want->u.map.len; i++) {
        const char *key = tsr__ytext(want->u.map.pairs[i].key);
        const tsr_ynode *v = want->u.map.pairs[i].value;
        char p[300];
        tsr__ruletest_join(p, sizeof p, "points", key);
        if (strcmp(key, "earned") == 0)
            compare(R, p, v, got_num(V_INT, res->points_earned));
        else if (strcmp(key, "redeemed") == 0)
            compare(R, p, v, got_num(V_INT, res->points_redeemed));
        else if (strcmp(key, "redeem_reason") == 0)
            compare(R, p, v, got_str(res->redeem_reason == TSR_RR_NONE
                                         ? NULL : tsr__redeem_reason_name(res->redeem_reason)));
        else if (strcmp(key, "entries") == 0)
            compare_entries(R, v, res);
        else
            compare_lots(R, v, res);
    }
}

/* A code as the evaluator echoes it: trimmed, ASCII letters upper-cased. */
static char *normalise_code(tsr_arena *ar, const char *s, size_t len)
{
    char *out;
    size_t i;
    while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    out = tsr__arena_strndup(ar, s, len);
    for (i = 0; out && i < len; i++)
        if (out[i] >= 'a' && out[i] <= 'z')
            out[i] = (char)(out[i] - 'a' + 'A');
    return out;
}

static void promo_text(const tsr_res_promo *p, char *buf, size_t size)
{
    if (p->status == TSR_PROMO_ACCEPTED)
        snprintf(buf, size, "accepted");
    else
        snprintf(buf, size, "rejected/%s", tsr__promo_reason_name(p->reason));
}

static bool promo_matches(const tsr_res_promo *p, const char *want)
{
    char have[64];
    promo_text(p, have, sizeof have);
    if (strchr(want, '/'))
        return strcmp(have, want) == 0;
    return strncmp(have, want, strlen(want)) == 0 &&
           (have[strlen(want)] == '\0' || have[strlen(want)] == '/');
}

static void compare_promos(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i, j;
    for (i = 0; i < want->u.map.len; i++) {
        const tsr_ypair *pr = &want->u.map.pairs[i];
        const char *code = normalise_code(&R->rep->arena, tsr__ytext(pr->key), pr->key->u.scalar.len);
        const char *status = tsr__ytext(pr->value);
        const tsr_res_promo *seen = NULL;
        bool ok = false;
        char path[300], have[64];

        if (!code) {
            R->diff.failed = TSR_ENOMEM;
            return;
        }
        /* the same code entered twice appears twice: any may match */
        for (j = 0; j < res->npromos && !ok; j++) {
            const tsr_res_promo *p = &res->promos[j];
            if (p->code_len != strlen(code) || memcmp(p->code, code, p->code_len) != 0)
                continue;
            seen = p;
            ok = promo_matches(p, status);
        }
        if (ok)
            continue;
        tsr__ruletest_join(path, sizeof path, "promo_codes", code);
        if (!seen) {
            mismatch(R, path, "expected %s, but the order did not enter this code", status);
            continue;
        }
        promo_text(seen, have, sizeof have);
        mismatch(R, path, "expected %s, got %s", status, have);
    }
}

static const tsr_trace_entry *find_trace(const tsr_result *res, const char *section,
                                         size_t slen, const char *id)
{
    size_t i;
    for (i = 0; i < res->ntrace; i++) {
        const tsr_trace_entry *t = &res->trace[i];
        if (strlen(t->section) == slen && memcmp(t->section, section, slen) == 0 &&
            strcmp(t->id, id) == 0)
            return t;
    }
    return NULL;
}

static void compare_applied(runner *R, const tsr_ynode *want, const tsr_result *res, bool applied)
{
    const char *key = applied ? "applied" : "not_applied";
    size_t i;
    for (i = 0; i < want->u.seq.len; i++) {
        const char *name = tsr__ytext(want->u.seq.items[i]);
        const char *dot = strchr(name, '.');
        const tsr_trace_entry *t = find_trace(res, name, (size_t)(dot - name), dot + 1);
        if (!t)
            mismatch(R, key, "%s is not in the trace", name);
        else if (applied && !t->applied)
            mismatch(R, key, "%s did not apply: %s", name, t->why && t->why[0] ? t->why : "no reason given");
        else if (!applied && t->applied)
            mismatch(R, key, "%s applied", name);
    }
}

/* segments / offers: exact sets, shown as lists with what is missing and
 * what is extra. */
static void compare_set(runner *R, const char *key, const tsr_ynode *want, const char **have,
                        size_t nhave)
{
    size_t i, j;
    tsr_buf b;
    bool ok = true;

    tsr__buf_init(&b, &R->rep->alloc);
    for (i = 0; i < want->u.seq.len; i++) {
        const char *w = tsr__ytext(want->u.seq.items[i]);
        bool found = false;
        for (j = 0; j < nhave && !found; j++)
            found = strcmp(have[j], w) == 0;
        if (!found) {
            tsr__buf_printf(&b, "%s%s", ok ? "; missing " : ", ", w);
            ok = false;
        }
    }
    {
        bool first = true;
        for (j = 0; j < nhave; j++) {
            bool found = false;
            for (i = 0; i < want->u.seq.len && !found; i++)
                found = strcmp(have[j], tsr__ytext(want->u.seq.items[i])) == 0;
            if (!found) {
                tsr__buf_printf(&b, "%s%s", first ? "; unexpected " : ", ", have[j]);
                first = false;
                ok = false;
            }
        }
    }
    if (!ok) {
        tsr_buf all;
        tsr__buf_init(&all, &R->rep->alloc);
        tsr__buf_puts(&all, "expected ");
        render_node_list(want, &all);
        tsr__buf_puts(&all, ", got [");
        for (j = 0; j < nhave; j++)
            tsr__buf_printf(&all, "%s%s", j ? ", " : "", have[j]);
        tsr__buf_putc(&all, ']');
        tsr__buf_puts(&all, b.data ? b.data : "");
        if (all.failed || b.failed)
            R->diff.failed = TSR_ENOMEM;
        else
            mismatch(R, key, "%s", all.data);
        tsr__buf_free(&all);
    }
    tsr__buf_free(&b);
}

static void compare_segments(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    const char **have = tsr__arena_calloc(&R->rep->arena, R->rs->nsegments + 1, sizeof *have);
    size_t i, n = 0;
    if (!have) {
        R->diff.failed = TSR_ENOMEM;
        return;
    }
    for (i = 0; i < R->rs->nsegments; i++)
        if (res->segments[i])
            have[n++] = R->rs->segments[i].id;
    compare_set(R, "segments", want, have, n);
}

static void compare_offers(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    const char **have = tsr__arena_calloc(&R->rep->arena, res->noffers + 1, sizeof *have);
    size_t i;
    if (!have) {
        R->diff.failed = TSR_ENOMEM;
        return;
    }
    for (i = 0; i < res->noffers; i++)
        have[i] = R->rs->offers[res->offers[i]].id;
    compare_set(R, "offers", want, have, res->noffers);
}

void tsr__ruletest_compare_result(runner *R, const tsr_ynode *expect, const tsr_result *res)
{
    size_t i;
    for (i = 0; expect && i < expect->u.map.len; i++) {
        const char *key = tsr__ytext(expect->u.map.pairs[i].key);
        const tsr_ynode *v = expect->u.map.pairs[i].value;
        if (strcmp(key, "lines") == 0)
            compare_lines(R, v, res);
        else if (strcmp(key, "totals") == 0)
            compare_totals(R, v, res);
        else if (strcmp(key, "points") == 0)
            compare_points(R, v, res);
        else if (strcmp(key, "promo_codes") == 0)
            compare_promos(R, v, res);
        else if (strcmp(key, "taxes") == 0)
            compare_taxes(R, v, res);
        else if (strcmp(key, "applied") == 0)
            compare_applied(R, v, res, true);
        else if (strcmp(key, "not_applied") == 0)
            compare_applied(R, v, res, false);
        else if (strcmp(key, "segments") == 0)
            compare_segments(R, v, res);
        else if (strcmp(key, "offers") == 0)
            compare_offers(R, v, res);
        else if (strcmp(key, "tier") == 0)
            compare(R, "tier", v, got_str(res->tier >= 0 ? R->rs->tiers[res->tier].id : NULL));
        /* error: settled before the result is compared */
    }
}

/* Settle `expect.error` against how the order fared. */
void tsr__ruletest_compare_error(runner *R, const tsr_ynode *want, const tsr_result *res,
                                 const tsr_error *oerr)
{
    char text[TSR_ERROR_TEXT_MAX + TSR_ERROR_PATH_MAX + 8];
    bool expected = want && !tsr__yaml_is_null(want);

    if (res) {
        if (expected)
            mismatch(R, "error", "expected the order to be rejected with \"%s\", but it was "
                                 "evaluated", tsr__ytext(want));
        return;
    }
    tsr_error_format(text, sizeof text, oerr);
    if (!expected && oerr->line > 0 && !oerr->file[0])
        /* the order reader knows where in the test file the bad value is */
        mismatch(R, "error", "the order was rejected: %s (%s:%d:%d)", text, R->at.file, oerr->line,
                 oerr->column);
    else if (!expected)
        mismatch(R, "error", "the order was rejected: %s", text);
    else if (!strstr(text, tsr__ytext(want)))
        mismatch(R, "error", "expected \"%s\", got \"%s\"", tsr__ytext(want), text);
}
