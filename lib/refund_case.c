/*
 * refund_case.c — the `refund:` case form of rule tests (SPEC §7): a case
 * whose order is evaluated and then refunded with the receipt just
 * produced, and whose `expect.refund` is compared with the refund result.
 * lib/ruletest.c owns the test file; it calls the two functions here, one
 * per pass (refund.h says how).
 *
 *   - name: refund two days before the show
 *     order: { ... }
 *     refund: { lines: [t1], datetime: "2026-11-20T10:00:00+02:00",
 *               previous: { lines: [t2], clawback: "0.00" } }      # optional
 *     expect:
 *       refund:
 *         to: account_credit
 *         totals: { amount: "118.00", fee: "2.00", tax: "10.73", clawback: "0.00",
 *                   clawback_returned: "0.00",
 *                   points_restored: 0, points_revoked: 12, order_points_revoked: 0 }
 *         lines: { t1: { status: refunded, amount: "118.00", points_revoked: 12 },
 *                  t2: { status: rejected, why: "already refunded" } }
 *         error: ~                 # or a part of the expected refund error
 *
 * The refund goes through the receipt's JSON text, exactly as a shop's
 * refund would, so the receipt check runs too.  As everywhere in rule
 * tests, only what is written is compared, money by value ("2.00", 2.00
 * and 2 are the same), `why` as a part of the reason.
 */
#include "keys.h"
#include "refund.h"

#include <stdio.h>

/* The keys of `refund:` and `expect.refund` (keys.h), checked in pass 1. */
static const char *const destinations[] = { "account_credit", "original_payment" };
static const char *const statuses[] = { "refunded", "rejected" };

static const tsr_key previous_keys[] = {
    { "lines", TSR_KS_TEXT_LIST, 0, .example = "[\"t2\"]",
      .desc = "The lines earlier refunds of the order refunded." },
    { "clawback", TSR_KS_MONEY, 0, TSR_K_AT_LEAST(0), .example = "0.00",
      .desc = "What they withheld, net (clawback less clawback_returned); required with "
              "`lines` under `reprice`." },
};
static TSR_KEYSET(previous_set, "refund_previous", "What earlier refunds of the order did.",
                  previous_keys);

static const tsr_key refund_keys[] = {
    { "lines", TSR_KS_TEXT_LIST, TSR_KF_REQUIRED, .example = "[\"t1\"]",
      .desc = "The ids of the lines to refund." },
    { "datetime", TSR_KS_DATETIME, TSR_KF_REQUIRED, .example = "2026-11-20T10:00:00+02:00",
      .desc = "The time of the refund: `now` in `refunds.allowed` and `refunds.fee`." },
    { "previous", TSR_KS_MAP, 0, .sub = &previous_set,
      .example = "{\"lines\": [\"t2\"], \"clawback\": \"0.00\"}",
      .desc = "What earlier refunds of the same order did." },
};
TSR_KEYSET(tsr__keys_refund_case, "refund_request",
           "A refund of lines of the case's order, with the receipt just produced.", refund_keys);

#define MONEY_KEY(nm, ex, text) { nm, TSR_KS_MONEY, 0, TSR_K_AT_LEAST(0), .example = ex, .desc = text }
#define POINTS_KEY(nm, ex, text) { nm, TSR_KS_INT, 0, TSR_K_AT_LEAST(0), .example = ex, .desc = text }

static const tsr_key totals_keys[] = {
    MONEY_KEY("amount", "118.00", "Paid back: the lines' amounts less clawback plus clawback_returned."),
    MONEY_KEY("fee", "2.00", "Kept as fees."),
    MONEY_KEY("tax", "10.73", "The tax the lines' amounts contain (rule sets with `taxes`)."),
    MONEY_KEY("clawback", "0.00", "Withheld because what remains costs more priced again."),
    MONEY_KEY("clawback_returned", "0.00", "Withheld by earlier refunds and no longer owed."),
    POINTS_KEY("points_restored", "0", "Redeemed points given back."),
    POINTS_KEY("points_revoked", "12", "Earned points taken back, order-level ones included."),
    POINTS_KEY("order_points_revoked", "0", "Of those, order-level (flat) points."),
};
static TSR_KEYSET(totals_set, "refund_totals", "What the refund's totals must be.", totals_keys);

static const tsr_key line_keys[] = {
    { "status", TSR_KS_ENUM, 0, TSR_K_ENUM(statuses), .example = "refunded",
      .desc = "Whether the line was refunded." },
    { "why", TSR_KS_TEXT, 0, .example = "already refunded",
      .desc = "A part of the reason a rejected line gives." },
    MONEY_KEY("amount", "118.00", "Paid back for the line."),
    MONEY_KEY("fee", "2.00", "Kept as the fee."),
    MONEY_KEY("tax", "10.73", "The tax its amount contains: amount × rate / (100 + rate); 0.00 when no rate took the line."),
    POINTS_KEY("points_restored", "0", "Redeemed points given back."),
    POINTS_KEY("points_revoked", "12", "Earned points taken back."),
};
static TSR_KEYSET(line_set, "refund_line", "What a line of the refund must hold.", line_keys);

static const tsr_key expect_keys[] = {
    { "to", TSR_KS_ENUM, 0, TSR_K_ENUM(destinations), .example = "account_credit",
      .desc = "Where the money goes." },
    { "error", TSR_KS_TEXT, TSR_KF_NULL, .example = "receipt",
      .desc = "~: the refund must succeed; text: it must fail with an error containing it." },
    { "totals", TSR_KS_MAP, 0, .sub = &totals_set, .example = "{\"amount\": \"118.00\"}",
      .desc = "What the refund's totals must be." },
    { "lines", TSR_KS_MAP_OF, 0, .sub = &line_set,
      .example = "{\"t1\": {\"status\": \"refunded\", \"points_revoked\": 12}}",
      .desc = "By line id: what the refund says about the line." },
};
TSR_KEYSET(tsr__keys_refund_expect, "expect_refund", "What the case's refund must give.",
           expect_keys);

typedef enum kind { K_MONEY, K_POINTS, K_TEXT } kind;

/* totals_keys / line_keys: which are money. */
static kind key_kind(const char *key)
{
    if (strcmp(key, "amount") == 0 || strcmp(key, "fee") == 0 || strcmp(key, "tax") == 0 ||
        strncmp(key, "clawback", 8) == 0)
        return K_MONEY;
    if (strcmp(key, "status") == 0 || strcmp(key, "why") == 0)
        return K_TEXT;
    return K_POINTS;
}

/* ---------------------------------------------------------------------
 * Pass 1: the shape.
 */
typedef struct checker {
    const tsr_ruleset *rs;
    tsr_ycheck at;
} checker;

static int check_ids(const checker *c, const tsr_ynode *n, const char *what)
{
    size_t i;
    int rc = tsr__yneed_seq(&c->at, n, what);
    if (rc != TSR_OK)
        return rc;
    for (i = 0; i < n->u.seq.len; i++)
        if (!tsr__yscalar(n->u.seq.items[i]) || tsr__yaml_is_null(n->u.seq.items[i]))
            return tsr__yfail(&c->at, n->u.seq.items[i], TSR_ESCHEMA, "%s must list line ids",
                              what);
    return TSR_OK;
}

static int check_request(const checker *c, const tsr_ynode *r)
{
    const tsr_ynode *lines, *dt, *prev, *claw;
    int64_t usec, v;
    int32_t off;
    int rc;

    if ((rc = tsr__yneed_map(&c->at, r, "`refund`")) != TSR_OK ||
        (rc = tsr__ycheck_keys(&c->at, r, "`refund`", &tsr__keys_refund_case)) != TSR_OK)
        return rc;
    lines = tsr__ymap_get(r, "lines");
    dt = tsr__ymap_get(r, "datetime");
    if (!lines)
        return tsr__yfail(&c->at, r, TSR_ESCHEMA,
                          "`refund` needs `lines`: the ids of the lines to refund");
    if (!dt)
        return tsr__yfail(&c->at, r, TSR_ESCHEMA,
                          "`refund` needs `datetime`: the time of the refund");
    if ((rc = check_ids(c, lines, "refund.lines")) != TSR_OK)
        return rc;
    if (!tsr__yscalar(dt) ||
        tsr__parse_datetime(dt->u.scalar.text, dt->u.scalar.len, &usec, &off) != TSR_OK)
        return tsr__yfail(&c->at, dt, TSR_ESCHEMA,
                          "refund.datetime must be ISO 8601 with a UTC offset, such as "
                          "\"2026-11-20T10:00:00+02:00\"");
    if (!(prev = tsr__ymap_get(r, "previous")))
        return TSR_OK;
    if ((rc = tsr__yneed_map(&c->at, prev, "refund.previous")) != TSR_OK ||
        (rc = tsr__ycheck_keys(&c->at, prev, "refund.previous", &previous_set)) != TSR_OK)
        return rc;
    if (tsr__ymap_get(prev, "lines") &&
        (rc = check_ids(c, tsr__ymap_get(prev, "lines"), "refund.previous.lines")) != TSR_OK)
        return rc;
    claw = tsr__ymap_get(prev, "clawback");
    if (claw && (!tsr__yfixed(claw, c->rs->minor_units, &v) || v < 0))
        return tsr__yfail(&c->at, claw, TSR_ESCHEMA,
                          "refund.previous.clawback must be a money amount in %s", c->rs->currency);
    return TSR_OK;
}

static int check_value(const checker *c, const tsr_ynode *v, const char *key, const char *path)
{
    int64_t x;

    switch (key_kind(key)) {
    case K_MONEY:
        if (!tsr__yfixed(v, c->rs->minor_units, &x))
            return tsr__yfail(&c->at, v, TSR_ESCHEMA,
                              "%s must be a money amount in %s, such as \"118.00\"", path,
                              c->rs->currency);
        return TSR_OK;
    case K_POINTS:
        if (!tsr__yfixed(v, 0, &x))
            return tsr__yfail(&c->at, v, TSR_ESCHEMA, "%s must be a whole number of points",
                              path);
        return TSR_OK;
    default:
        if (!tsr__yscalar(v) || tsr__yaml_is_null(v))
            return tsr__yfail(&c->at, v, TSR_ESCHEMA, "%s must be text", path);
        if (strcmp(key, "status") == 0 && strcmp(tsr__ytext(v), "refunded") != 0 &&
            strcmp(tsr__ytext(v), "rejected") != 0)
            return tsr__yfail(&c->at, v, TSR_ESCHEMA, "%s is `refunded` or `rejected`", path);
        return TSR_OK;
    }
}

static int check_map_values(const checker *c, const tsr_ynode *m, const char *where,
                            const tsr_keyset *ks)
{
    char path[160];
    size_t i;
    int rc;

    if ((rc = tsr__yneed_map(&c->at, m, where)) != TSR_OK ||
        (rc = tsr__ycheck_keys(&c->at, m, where, ks)) != TSR_OK)
        return rc;
    for (i = 0; i < m->u.map.len; i++) {
        const char *key = tsr__ytext(m->u.map.pairs[i].key);
        snprintf(path, sizeof path, "%s.%s", where, key);
        if ((rc = check_value(c, m->u.map.pairs[i].value, key, path)) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

static int check_expect(const checker *c, const tsr_ynode *e)
{
    const tsr_ynode *n, *err;
    char where[160];
    size_t i;
    int rc;

    if ((rc = tsr__yneed_map(&c->at, e, "expect.refund")) != TSR_OK ||
        (rc = tsr__ycheck_keys(&c->at, e, "expect.refund", &tsr__keys_refund_expect)) != TSR_OK)
        return rc;
    if ((n = tsr__ymap_get(e, "to")) && strcmp(tsr__ytext(n), "account_credit") != 0 &&
        strcmp(tsr__ytext(n), "original_payment") != 0)
        return tsr__yfail(&c->at, n, TSR_ESCHEMA,
                          "expect.refund.to is `account_credit` or `original_payment`");
    err = tsr__ymap_get(e, "error");
    if (err && !tsr__yscalar(err))
        return tsr__yfail(&c->at, err, TSR_ESCHEMA,
                          "expect.refund.error must be ~ or a part of the expected error");
    if (err && !tsr__yaml_is_null(err) && e->u.map.len > 1)
        return tsr__yfail(&c->at, err, TSR_ESCHEMA,
                          "nothing else in expect.refund can be checked when the refund is "
                          "expected to fail; move it to another case");
    if ((n = tsr__ymap_get(e, "totals")) &&
        (rc = check_map_values(c, n, "expect.refund.totals", &totals_set)) != TSR_OK)
        return rc;
    if (!(n = tsr__ymap_get(e, "lines")))
        return TSR_OK;
    if ((rc = tsr__yneed_map(&c->at, n, "expect.refund.lines (line id: what to expect)")) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.map.len; i++) {
        snprintf(where, sizeof where, "expect.refund.lines.%s", tsr__ytext(n->u.map.pairs[i].key));
        if ((rc = check_map_values(c, n->u.map.pairs[i].value, where, &line_set)) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

int tsr__ruletest_refund_check(const tsr_ynode *refund, const tsr_ynode *expect,
                               const tsr_ruleset *rs, const char *file, tsr_error *err)
{
    checker c;
    int rc;

    c.rs = rs;
    c.at.file = file;
    c.at.err = err;
    if (expect && !refund)
        return tsr__yfail(&c.at, expect, TSR_ESCHEMA,
                          "expect.refund needs a `refund:` in the case: the lines to "
                          "refund and when");
    if (refund && (rc = check_request(&c, refund)) != TSR_OK)
        return rc;
    return expect ? check_expect(&c, expect) : TSR_OK;
}

/* ---------------------------------------------------------------------
 * Pass 2: run and compare.
 */
typedef struct runner {
    const tsr_ruleset *rs;
    tsr_buf *diff;
} runner;

static void mismatch(runner *R, const char *path, const char *fmt, ...) TSR_PRINTF(3, 4);

static void mismatch(runner *R, const char *path, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tsr__buf_diff_linev(R->diff, path, fmt, ap);
    va_end(ap);
}

static void compare_number(runner *R, const char *path, const tsr_ynode *want, kind k, int64_t got)
{
    char a[40], b[40];
    int64_t w = 0;

    if (k == K_MONEY)
        tsr__yfixed(want, R->rs->minor_units, &w);
    else
        tsr__yfixed(want, 0, &w);
    if (w == got)
        return;
    if (k == K_POINTS) {
        mismatch(R, path, "expected %lld, got %lld", (long long)w, (long long)got);
        return;
    }
    tsr__format_fixed(a, w, R->rs->minor_units);
    tsr__format_fixed(b, got, R->rs->minor_units);
    mismatch(R, path, "expected \"%s\", got \"%s\"", a, b);
}

static void compare_totals(runner *R, const tsr_ynode *want, const tsr_refund_result *res)
{
    const tsr_refund_totals *t = &res->totals;
    char path[160];
    size_t i;

    for (i = 0; i < want->u.map.len; i++) {
        const char *key = tsr__ytext(want->u.map.pairs[i].key);
        int64_t got = strcmp(key, "amount") == 0 ? t->amount
                      : strcmp(key, "fee") == 0 ? t->fee
                      : strcmp(key, "tax") == 0 ? t->tax
                      : strcmp(key, "clawback") == 0 ? t->clawback
                      : strcmp(key, "clawback_returned") == 0 ? t->clawback_returned
                      : strcmp(key, "points_restored") == 0 ? t->points_restored
                      : strcmp(key, "points_revoked") == 0 ? t->points_revoked
                                                           : t->order_points_revoked;
        snprintf(path, sizeof path, "refund.totals.%s", key);
        compare_number(R, path, want->u.map.pairs[i].value, key_kind(key), got);
    }
}

static void compare_text(runner *R, const char *path, const char *key, const tsr_ynode *want,
                         const tsr_refund_line *l)
{
    const char *got = strcmp(key, "status") == 0
                          ? (l->status == TSR_REFUND_REFUNDED ? "refunded" : "rejected")
                          : l->why;
    if (strcmp(key, "why") == 0) {
        if (!got || !strstr(got, tsr__ytext(want)))
            mismatch(R, path, "expected a reason containing \"%s\", got %s%s%s", tsr__ytext(want),
                     got ? "\"" : "", got ? got : "none (the line was refunded)", got ? "\"" : "");
        return;
    }
    if (strcmp(got, tsr__ytext(want)) != 0)
        mismatch(R, path, "expected %s, got %s%s%s", tsr__ytext(want), got,
                 l->why ? ": " : "", l->why ? l->why : "");
}

static void compare_line(runner *R, const char *id, const tsr_ynode *want,
                         const tsr_refund_result *res)
{
    const tsr_refund_line *l = NULL;
    char path[200];
    size_t i;

    for (i = 0; i < res->nlines && !l; i++)
        if (strcmp(res->lines[i].id, id) == 0)
            l = &res->lines[i];
    if (!l) {
        snprintf(path, sizeof path, "refund.lines.%s", id);
        mismatch(R, path, "the refund has no line `%s`: name it in the case's refund.lines", id);
        return;
    }
    for (i = 0; i < want->u.map.len; i++) {
        const char *key = tsr__ytext(want->u.map.pairs[i].key);
        const tsr_ynode *v = want->u.map.pairs[i].value;
        kind k = key_kind(key);
        snprintf(path, sizeof path, "refund.lines.%s.%s", id, key);
        if (k == K_TEXT)
            compare_text(R, path, key, v, l);
        else
            compare_number(R, path, v, k,
                           strcmp(key, "amount") == 0 ? l->amount
                           : strcmp(key, "fee") == 0 ? l->fee
                           : strcmp(key, "tax") == 0 ? l->tax
                           : strcmp(key, "points_restored") == 0 ? l->points_restored
                                                                 : l->points_revoked);
    }
}

static void compare(runner *R, const tsr_ynode *want, const tsr_refund_result *res)
{
    const tsr_ynode *n;
    size_t i;

    if (!want)
        return;
    if ((n = tsr__ymap_get(want, "to")) && strcmp(tsr__ytext(n), tsr_refund_result_to(res)) != 0)
        mismatch(R, "refund.to", "expected %s, got %s", tsr__ytext(n), tsr_refund_result_to(res));
    if ((n = tsr__ymap_get(want, "totals")))
        compare_totals(R, n, res);
    if ((n = tsr__ymap_get(want, "lines")))
        for (i = 0; i < n->u.map.len; i++)
            compare_line(R, tsr__ytext(n->u.map.pairs[i].key), n->u.map.pairs[i].value, res);
}

/* Settle expect.refund.error against how the refund fared. */
static void compare_error(runner *R, const tsr_ynode *want, int rc, const tsr_error *err)
{
    char msg[TSR_ERROR_TEXT_MAX + TSR_ERROR_PATH_MAX + 8];
    const tsr_ynode *w = want ? tsr__ymap_get(want, "error") : NULL;
    bool expected = w && !tsr__yaml_is_null(w);

    if (rc == TSR_OK) {
        if (expected)
            mismatch(R, "refund.error", "expected the refund to fail with \"%s\", but it "
                                        "succeeded", tsr__ytext(w));
        return;
    }
    tsr_error_format(msg, sizeof msg, err);
    if (!expected)
        mismatch(R, "refund", "the refund failed: %s", msg);
    else if (!strstr(msg, tsr__ytext(w)))
        mismatch(R, "refund.error", "expected \"%s\", got \"%s\"", tsr__ytext(w), msg);
}

/* The ids of a YAML sequence, as the C API takes them (in `arena`). */
static const char **ids_of(tsr_arena *arena, const tsr_ynode *seq, size_t *n)
{
    const char **ids;
    size_t i;

    *n = seq ? seq->u.seq.len : 0;
    ids = tsr__arena_alloc(arena, (*n + 1) * sizeof *ids);
    for (i = 0; ids && i < *n; i++)
        ids[i] = seq->u.seq.items[i]->u.scalar.text;
    return ids;
}

int tsr__ruletest_refund_case(const tsr_ruleset *rs, const tsr_order *order, tsr_result *receipt,
                              const tsr_ynode *refund, const tsr_ynode *expect, tsr_buf *diff)
{
    tsr_refund_options opts = TSR_REFUND_OPTIONS_INIT;
    const tsr_ynode *prev = tsr__ymap_get(refund, "previous");
    tsr_refund_result *res = NULL;
    const char *json, **ids, **before = NULL;
    size_t len, n, nbefore = 0;
    tsr_arena arena;
    tsr_error err;
    runner R;
    int rc;

    if (!(json = tsr_result_json(receipt, &len)))
        return TSR_ENOMEM;
    tsr__arena_init(&arena, &rs->alloc, 512);
    ids = ids_of(&arena, tsr__ymap_get(refund, "lines"), &n);
    if (prev && tsr__ymap_get(prev, "lines"))
        before = ids_of(&arena, tsr__ymap_get(prev, "lines"), &nbefore);
    if (!ids || (prev && tsr__ymap_get(prev, "lines") && !before)) {
        tsr__arena_free(&arena);
        return TSR_ENOMEM;
    }
    opts.previous_lines = before;
    opts.nprevious_lines = nbefore;
    /* left out: 0 when nothing can have been withheld, else an error */
    if (prev && tsr__ymap_get(prev, "clawback"))
        tsr__yfixed(tsr__ymap_get(prev, "clawback"), rs->minor_units, &opts.previous_clawback);
    rc = tsr_refund_order(&res, rs, order, json, len, ids, n,
                          tsr__ytext(tsr__ymap_get(refund, "datetime")), &opts, &err);
    tsr__arena_free(&arena);
    if (rc == TSR_ENOMEM)
        return rc;
    R.rs = rs;
    R.diff = diff;
    compare_error(&R, expect, rc, &err);
    if (res)
        compare(&R, expect, res);
    tsr_refund_result_free(res);
    return diff->failed ? TSR_ENOMEM : TSR_OK;
}
