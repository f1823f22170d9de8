/*
 * ruletest.c — rule tests (SPEC §7): a YAML file of cases, each an order
 * and a partial expectation of its result, run against the rule file the
 * test file names.  `tessera test` is a thin layer over this, and so can
 * every binding be.
 *
 * A run has two passes.  The first reads the whole test file and checks its
 * shape: unknown keys (with did-you-mean), values of the wrong kind, and
 * names of rules, segments, tiers and offers that the rule set does not
 * have — so a typo in case 40 fails the file before case 1 runs, with its
 * position, instead of showing up as a puzzling mismatch.  The second pass
 * evaluates each case and compares only what the case writes.
 *
 * Money is compared in minor units ("25.00", 25.00 and 25 are the same
 * expectation); mismatches read `  lines.t1.total: expected "25.00", got
 * "2500.00"`.  Coverage counts the categories, promo codes, discounts, earn
 * rules and offers that some case applied (from the trace).
 *
 * Test files may use YAML anchors and aliases (to share an order between
 * cases) even though rule files may not: they are written by the same
 * people who run them, and the node limit still bounds what aliases expand to.
 */
#include "keys.h"
#include "refund.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#define TEST_FORMAT_VERSION 1
#define TEST_MAX_ALIASES 1000u

typedef struct test_case {
    const char *name;
    int line;
    bool passed;
    const char *diff;           /* "" when passed */
} test_case;

struct tsr_test_report {
    tsr_alloc alloc;
    tsr_arena arena;
    const char *file;           /* the test file, as named */
    test_case *cases;
    size_t ncases;
    size_t passed, failed;
    size_t nrules;
    const char **uncovered;     /* "SECTION.ID" */
    size_t nuncovered;
    const char *failures_text;
    const char *coverage_text;
    const char *text;
};

/* A rule that coverage counts. */
typedef struct rule_ref {
    const char *section;
    const char *id;
} rule_ref;

typedef struct runner {
    tsr_test_report *rep;
    const char *file;           /* test file name, for messages */
    const tsr_ruleset *rs;
    const char *rules_file;     /* as written in `rules:`, for the coverage line */
    tsr_order *order;
    tsr_buf diff;               /* the current case's mismatches */
    rule_ref *rules;
    size_t nrules;
    uint8_t *covered;
    const char **ids[5];        /* ids of each of `sections`, built when first needed */
    size_t nids[5];
    tsr_error *err;
} runner;

static const char *const sections[] = { "categories", "promo_codes", "discounts", "earn", "offers" };

/* The keys of every mapping of a test file (keys.h), checked in pass 1. */
static const char *const promo_statuses[] = { "accepted", "rejected" };
static const char *const promo_reasons[] = {
    "unknown", "expired", "not_yet_valid", "not_eligible", "usage_limit", "not_combinable",
    "no_effect", "not_applicable"
};
static const char *const redeem_reasons[] = {
    "not_member", "balance", "max_percent", "step", "min_points", "no_redeem"
};

#define MONEY_KEY(nm, ex, text) \
    { nm, TSR_KS_MONEY, 0, TSR_K_RANGE(INT64_MIN, INT64_MAX), .example = ex, .desc = text }
#define INT_KEY(nm, ex, text) \
    { nm, TSR_KS_INT, 0, TSR_K_RANGE(INT64_MIN, INT64_MAX), .example = ex, .desc = text }

static const tsr_key redeemed_keys[] = {
    INT_KEY("points", "122", "Points redeemed on the line."),
    MONEY_KEY("value", "122.00", "Their money value."),
};
static TSR_KEYSET(redeemed_set, "expect_redeemed", "Points redeemed on a line.", redeemed_keys);

static const tsr_key line_keys[] = {
    { "id", TSR_KS_TEXT, 0, .example = "t1", .desc = "The line's id." },
    { "kind", TSR_KS_TEXT, 0, .example = "ticket", .desc = "The line's kind." },
    { "category", TSR_KS_TEXT, TSR_KF_NULL, .ids = TSR_KI_CATEGORY, .example = "toddler",
      .desc = "The category the line took; ~ for none." },
    INT_KEY("quantity", "2", "The number of units."),
    MONEY_KEY("unit_price", "1800.00", "The unit price."),
    MONEY_KEY("subtotal", "3600.00", "Unit price times quantity."),
    MONEY_KEY("discount", "360.00", "All discounts on the line together."),
    { "discounts", TSR_KS_LINE_DISCOUNTS, 0, .example = "{\"family-pack\": \"653.92\"}",
      .desc = "By discount id, the amount each took off; or a list of the ids that applied." },
    { "redeemed", TSR_KS_MAP, 0, .sub = &redeemed_set, .example = "{\"points\": 122, \"value\": \"122.00\"}",
      .desc = "The points redeemed on the line and their value." },
    MONEY_KEY("total", "2124.08", "What the customer pays for the line."),
    INT_KEY("points_earned", "106", "Points earned on the line."),
};
static TSR_KEYSET(line_set, "expect_line", "What a line of the result must hold.", line_keys);

static const tsr_key totals_keys[] = {
    MONEY_KEY("subtotal", "11540.00", "The lines' subtotals together."),
    MONEY_KEY("discount", "2300.00", "All discounts together."),
    MONEY_KEY("redeemed_value", "500.00", "The value of the points redeemed."),
    MONEY_KEY("due", "8740.00", "What the customer pays: subtotal - discount - redeemed_value."),
};
static TSR_KEYSET(totals_set, "expect_totals", "What the result's totals must be.", totals_keys);

static const tsr_key entry_keys[] = {
    { "rule", TSR_KS_TEXT, 0, .ids = TSR_KI_EARN, .example = "base",
      .desc = "The earn rule that gave the points." },
    { "line", TSR_KS_TEXT, TSR_KF_NULL, .example = "t1",
      .desc = "The line they were earned on; ~ for order-level (flat) points." },
    INT_KEY("points", "106", "The points of the entry."),
    { "available_on", TSR_KS_DATE, 0, .example = "2026-07-19",
      .desc = "The day the points become usable." },
    { "expires_on", TSR_KS_DATE, TSR_KF_NULL, .example = "2027-07-19",
      .desc = "The first day they can no longer be used; ~ for never." },
};
static TSR_KEYSET(entry_set, "expect_points_entry",
                  "An entry some entry of `points.entries` must match (partially).", entry_keys);

static const tsr_key lot_keys[] = {
    { "id", TSR_KS_TEXT, 0, .example = "L-2026-01", .desc = "The lot's id." },
    INT_KEY("points", "300", "The points spent from it."),
};
static TSR_KEYSET(lot_set, "expect_lot_used",
                  "A lot some entry of `points.lots_used` must match (partially).", lot_keys);

static const tsr_key points_keys[] = {
    INT_KEY("earned", "935", "All points earned."),
    INT_KEY("redeemed", "500", "All points redeemed."),
    { "redeem_reason", TSR_KS_ENUM, TSR_KF_NULL, TSR_K_ENUM(redeem_reasons), .example = "max_percent",
      .desc = "Why fewer points were redeemed than asked; ~ for none." },
    { "entries", TSR_KS_LIST, 0, .sub = &entry_set,
      .desc = "Entries each of which must match some entry of the result." },
    { "lots_used", TSR_KS_LIST, 0, .sub = &lot_set,
      .desc = "Lots each of which must match some lot the redemption used." },
};
static TSR_KEYSET(points_set, "expect_points", "What the result's points must be.", points_keys);

static const tsr_key expect_keys[] = {
    { "lines", TSR_KS_MAP_OF, 0, .sub = &line_set, .example = "{\"t1\": {\"category\": \"toddler\", \"total\": \"0.00\"}}",
      .desc = "By line id: what the line must hold." },
    { "totals", TSR_KS_MAP, 0, .sub = &totals_set, .example = "{\"due\": \"0.00\"}",
      .desc = "What the totals must be." },
    { "points", TSR_KS_MAP, 0, .sub = &points_set, .example = "{\"earned\": 0}",
      .desc = "What the points must be." },
    { "promo_codes", TSR_KS_PROMO_STATUSES, 0, TSR_K_ENUM(promo_reasons), .example = "{\"DOC-123456\": \"rejected/expired\"}",
      .desc = "By code as entered (normalised): `accepted`, `rejected` or `rejected/REASON`." },
    { "applied", TSR_KS_RULE_NAMES, 0, TSR_K_ENUM(sections), .example = "[\"categories.toddler\"]",
      .desc = "Rules, as SECTION.ID, that the trace must show applied." },
    { "not_applied", TSR_KS_RULE_NAMES, 0, TSR_K_ENUM(sections), .example = "[\"discounts.family-pack\"]",
      .desc = "Rules, as SECTION.ID, that the trace must show not applied." },
    { "segments", TSR_KS_TEXT_LIST, 0, .ids = TSR_KI_SEGMENT, .example = "[\"first_timer\"]",
      .desc = "Exactly the segments the customer must be in." },
    { "offers", TSR_KS_TEXT_LIST, 0, .ids = TSR_KI_OFFER, .example = "[\"meal-voucher\"]",
      .desc = "Exactly the ids of the offers that must be listed." },
    { "tier", TSR_KS_TEXT, TSR_KF_NULL, .ids = TSR_KI_TIER, .example = "gold",
      .desc = "The customer's tier; ~ for none." },
    { "error", TSR_KS_TEXT, TSR_KF_NULL, .example = "items[1].id",
      .desc = "~: the order must be accepted; text: it must be refused with an error containing it." },
    { "refund", TSR_KS_MAP, 0, .sub = &tsr__keys_refund_expect,
      .example = "{\"totals\": {\"amount\": \"118.00\"}}",
      .desc = "What the case's `refund:` must give." },
};
static TSR_KEYSET(expect_set, "expect", "What a case's result must hold; only what is written is compared.",
                  expect_keys);

static const tsr_key case_keys[] = {
    { "name", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "a toddler rides free",
      .desc = "What the case checks, printed when it fails." },
    { "order", TSR_KS_ORDER, TSR_KF_REQUIRED,
      .example = "{\"datetime\": \"2026-06-10T11:00:00+03:00\", \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\"}]}",
      .desc = "The order to evaluate, written as in an order file." },
    { "expect", TSR_KS_MAP, 0, .sub = &expect_set, .desc = "What the result must hold." },
    { "refund", TSR_KS_MAP, 0, .sub = &tsr__keys_refund_case,
      .example = "{\"lines\": [\"t1\"], \"datetime\": \"2026-11-20T10:00:00+02:00\"}",
      .desc = "Then refund these lines with the receipt just produced; `expect.refund` checks it." },
};
static TSR_KEYSET(case_set, "case", "One case: an order and what its result must hold.", case_keys);

static const tsr_key top_keys[] = {
    { "tessera_test", TSR_KS_INT, TSR_KF_REQUIRED, TSR_K_RANGE(1, 1), .example = "1",
      .desc = "The format version of the test file: 1." },
    { "rules", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "park.yaml",
      .desc = "The rule file under test, relative to this file." },
    { "cases", TSR_KS_LIST, TSR_KF_REQUIRED, .sub = &case_set, .desc = "The cases, run in order." },
};
TSR_KEYSET(tsr__keys_test, "test", "A rule-test file: a rule file and cases.", top_keys);

#define N(a) TSR_ARRAY_LEN(a)

/* ---------------------------------------------------------------------
 * Small helpers.
 */
static int fail(runner *R, const tsr_ynode *n, const char *fmt, ...) TSR_PRINTF(3, 4);

/* A problem with the test file itself, at node n. */
static int fail(runner *R, const tsr_ynode *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tsr__err_atv(R->err, TSR_ESCHEMA, R->file, n ? n->line : 0, n ? n->col : 0, fmt, ap);
    va_end(ap);
    return TSR_ESCHEMA;
}

static bool is_scalar(const tsr_ynode *n)
{
    return n && n->kind == TSR_Y_SCALAR;
}

static bool scalar_is(const tsr_ynode *n, const char *s)
{
    return is_scalar(n) && n->u.scalar.len == strlen(s) && memcmp(n->u.scalar.text, s, n->u.scalar.len) == 0;
}

static const char *text_of(const tsr_ynode *n)
{
    return is_scalar(n) ? n->u.scalar.text : "";
}

static bool in_list(const char *s, size_t len, const char *const *list, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strlen(list[i]) == len && memcmp(list[i], s, len) == 0)
            return true;
    return false;
}

/* "; did you mean `x`?" or "". */
static const char *suggest(char *buf, size_t size, const char *s, size_t len,
                           const char *const *cands, size_t n)
{
    const char *near = tsr__closest(s, len, cands, n);
    if (!near)
        return "";
    snprintf(buf, size, "; did you mean `%s`?", near);
    return buf;
}

/* Refuse keys of `map` that are not in `ks`. */
static int check_keys(runner *R, const tsr_ynode *map, const char *where, const tsr_keyset *ks)
{
    return tsr__keys_check(ks, map, R->file, where, R->err);
}

static int need_map(runner *R, const tsr_ynode *n, const char *where)
{
    if (!n || n->kind != TSR_Y_MAP)
        return fail(R, n, "%s must be a mapping", where);
    return TSR_OK;
}

static int need_seq(runner *R, const tsr_ynode *n, const char *where)
{
    if (!n || n->kind != TSR_Y_SEQ)
        return fail(R, n, "%s must be a list", where);
    return TSR_OK;
}

/* A strict integer: optional '-', digits, no overflow. */
static bool parse_int(const tsr_ynode *n, int64_t *out)
{
    const char *s;
    size_t len, i;
    bool neg;
    int64_t v = 0;

    if (!is_scalar(n) || tsr__yaml_is_null(n))
        return false;
    s = n->u.scalar.text;
    len = n->u.scalar.len;
    neg = len > 0 && s[0] == '-';
    i = neg ? 1 : 0;
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

static bool parse_money(const runner *R, const tsr_ynode *n, int64_t *out)
{
    return is_scalar(n) && !tsr__yaml_is_null(n) &&
           tsr__parse_fixed(n->u.scalar.text, n->u.scalar.len, R->rs->minor_units, out) == TSR_OK;
}

static bool parse_date(const tsr_ynode *n, int64_t *out)
{
    return is_scalar(n) && tsr__parse_date(n->u.scalar.text, n->u.scalar.len, out) == TSR_OK;
}

/* Dotted path for messages: "expect.lines.t1". */
static const char *join(char *buf, size_t size, const char *a, const char *b)
{
    snprintf(buf, size, "%s.%s", a, b);
    return buf;
}

/* ---------------------------------------------------------------------
 * Names the test may mention: rules by SECTION.ID, segments, tiers, offers.
 */
static size_t section_index(const char *s, size_t len)
{
    size_t i;
    for (i = 0; i < N(sections); i++)
        if (strlen(sections[i]) == len && memcmp(sections[i], s, len) == 0)
            return i;
    return N(sections);
}

/* The ids of one section, as an array for did-you-mean (in the report
 * arena, built once per run). */
static const char **section_ids(runner *R, size_t sec, size_t *n)
{
    const tsr_ruleset *rs = R->rs;
    const char **ids;
    size_t i, count = 0;

    if (R->ids[sec]) {
        *n = R->nids[sec];
        return R->ids[sec];
    }

    switch (sec) {
    case 0: count = rs->ncategories; break;
    case 1: count = rs->npromos; break;
    case 2: count = rs->ndiscounts; break;
    case 3: count = rs->loyalty.nearn; break;
    case 4: count = rs->noffers; break;
    default: break;
    }
    ids = tsr__arena_calloc(&R->rep->arena, count ? count : 1, sizeof *ids);
    if (!ids)
        return NULL;
    for (i = 0; i < count; i++) {
        switch (sec) {
        case 0: ids[i] = rs->categories[i].id; break;
        case 1: ids[i] = rs->promos[i].id; break;
        case 2: ids[i] = rs->discounts[i].id; break;
        case 3: ids[i] = rs->loyalty.earn[i].id; break;
        default: ids[i] = rs->offers[i].id; break;
        }
    }
    R->ids[sec] = ids;
    R->nids[sec] = count;
    *n = count;
    return ids;
}

/* Check that `n` names an existing id among ids[0..count); `what` says
 * what kind of name it is ("segment"). */
static int check_name(runner *R, const tsr_ynode *n, const char *what, const char *const *ids,
                      size_t count)
{
    char hint[96];
    if (!is_scalar(n) || tsr__yaml_is_null(n))
        return fail(R, n, "expected the name of a %s", what);
    if (in_list(n->u.scalar.text, n->u.scalar.len, ids, count))
        return TSR_OK;
    return fail(R, n, "the rule set has no %s `%s`%s", what, n->u.scalar.text,
                suggest(hint, sizeof hint, n->u.scalar.text, n->u.scalar.len, ids, count));
}

static int check_rule_name(runner *R, const tsr_ynode *n)
{
    const char *s = text_of(n), *dot;
    size_t sec, count = 0;
    const char **ids;
    char hint[96], what[64];

    if (!is_scalar(n) || !(dot = strchr(s, '.')))
        return fail(R, n, "expected a rule as SECTION.ID (e.g. discounts.family-pack), one of "
                          "the sections categories, promo_codes, discounts, earn, offers");
    /* redemption is traced too, though it is not a rule coverage counts */
    if (strcmp(s, "loyalty.redeem") == 0 && R->rs->loyalty.has_redeem)
        return TSR_OK;
    sec = section_index(s, (size_t)(dot - s));
    if (sec == N(sections))
        return fail(R, n, "no rule section `%.*s`%s", (int)(dot - s), s,
                    suggest(hint, sizeof hint, s, (size_t)(dot - s), sections, N(sections)));
    if (!(ids = section_ids(R, sec, &count)))
        return TSR_ENOMEM;
    if (in_list(dot + 1, strlen(dot + 1), ids, count))
        return TSR_OK;
    snprintf(what, sizeof what, "%s", sections[sec]);
    return fail(R, n, "the rule set has no rule `%s` in %s%s", dot + 1, what,
                suggest(hint, sizeof hint, dot + 1, strlen(dot + 1), ids, count));
}

static const char **segment_ids(runner *R, size_t *n)
{
    const char **ids = tsr__arena_calloc(&R->rep->arena, R->rs->nsegments + 1, sizeof *ids);
    size_t i;
    if (!ids)
        return NULL;
    for (i = 0; i < R->rs->nsegments; i++)
        ids[i] = R->rs->segments[i].id;
    *n = R->rs->nsegments;
    return ids;
}

static const char **tier_ids(runner *R, size_t *n)
{
    const char **ids = tsr__arena_calloc(&R->rep->arena, R->rs->ntiers + 1, sizeof *ids);
    size_t i;
    if (!ids)
        return NULL;
    for (i = 0; i < R->rs->ntiers; i++)
        ids[i] = R->rs->tiers[i].id;
    *n = R->rs->ntiers;
    return ids;
}

/* ---------------------------------------------------------------------
 * Pass 1: the shape of the test file.
 */
typedef enum { V_STR, V_STR_OR_NULL, V_INT, V_MONEY, V_DATE, V_DATE_OR_NULL } vkind;

static int check_value(runner *R, const tsr_ynode *n, vkind kind, const char *path)
{
    int64_t v;
    switch (kind) {
    case V_STR:
        if (is_scalar(n) && !tsr__yaml_is_null(n))
            return TSR_OK;
        return fail(R, n, "%s must be a string", path);
    case V_STR_OR_NULL:
        if (is_scalar(n))
            return TSR_OK;
        return fail(R, n, "%s must be a string or ~ (none)", path);
    case V_INT:
        if (parse_int(n, &v))
            return TSR_OK;
        return fail(R, n, "%s must be a whole number", path);
    case V_MONEY:
        if (parse_money(R, n, &v))
            return TSR_OK;
        return fail(R, n, "%s must be an amount of %s with at most %u decimal places, "
                          "like \"25.00\"", path, R->rs->currency, R->rs->minor_units);
    case V_DATE:
        if (parse_date(n, &v))
            return TSR_OK;
        return fail(R, n, "%s must be a date like 2026-06-14", path);
    case V_DATE_OR_NULL:
        if (tsr__yaml_is_null(n) || parse_date(n, &v))
            return TSR_OK;
        return fail(R, n, "%s must be a date like 2026-06-14, or ~ (none)", path);
    }
    return TSR_OK;
}

static vkind line_key_kind(const char *key)
{
    if (strcmp(key, "category") == 0)
        return V_STR_OR_NULL;
    if (strcmp(key, "quantity") == 0 || strcmp(key, "points_earned") == 0)
        return V_INT;
    if (strcmp(key, "id") == 0 || strcmp(key, "kind") == 0)
        return V_STR;
    return V_MONEY;
}

static int check_line_discounts(runner *R, const tsr_ynode *n, const char *path)
{
    const char **ids;
    size_t i, count = 0;
    int rc;

    if (!(ids = section_ids(R, 2, &count)))
        return TSR_ENOMEM;
    if (n->kind == TSR_Y_SEQ) {
        for (i = 0; i < n->u.seq.len; i++)
            if ((rc = check_name(R, n->u.seq.items[i], "discount", ids, count)) != TSR_OK)
                return rc;
        return TSR_OK;
    }
    if (n->kind != TSR_Y_MAP)
        return fail(R, n, "%s must map discount ids to amounts ({family-pack: \"400.00\"}) "
                          "or list the discounts ([family-pack])", path);
    for (i = 0; i < n->u.map.len; i++) {
        char p[256];
        const tsr_ypair *pr = &n->u.map.pairs[i];
        if ((rc = check_name(R, pr->key, "discount", ids, count)) != TSR_OK ||
            (rc = check_value(R, pr->value, V_MONEY, join(p, sizeof p, path, text_of(pr->key)))) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

static int check_redeemed(runner *R, const tsr_ynode *n, const char *path)
{
    size_t i;
    int rc;
    char p[256];

    if ((rc = need_map(R, n, path)) != TSR_OK ||
        (rc = check_keys(R, n, path, &redeemed_set)) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.map.len; i++) {
        const tsr_ypair *pr = &n->u.map.pairs[i];
        vkind k = scalar_is(pr->key, "points") ? V_INT : V_MONEY;
        if ((rc = check_value(R, pr->value, k, join(p, sizeof p, path, text_of(pr->key)))) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

static int check_lines(runner *R, const tsr_ynode *n)
{
    size_t i, j;
    int rc;

    if ((rc = need_map(R, n, "expect.lines (line id: expected fields)")) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.map.len; i++) {
        const tsr_ypair *pr = &n->u.map.pairs[i];
        char where[256];
        join(where, sizeof where, "expect.lines", text_of(pr->key));
        if ((rc = need_map(R, pr->value, where)) != TSR_OK ||
            (rc = check_keys(R, pr->value, where, &line_set)) != TSR_OK)
            return rc;
        for (j = 0; j < pr->value->u.map.len; j++) {
            const tsr_ypair *f = &pr->value->u.map.pairs[j];
            const char *key = text_of(f->key);
            char p[300];
            join(p, sizeof p, where, key);
            if (strcmp(key, "discounts") == 0)
                rc = check_line_discounts(R, f->value, p);
            else if (strcmp(key, "redeemed") == 0)
                rc = check_redeemed(R, f->value, p);
            else
                rc = check_value(R, f->value, line_key_kind(key), p);
            if (rc != TSR_OK)
                return rc;
        }
    }
    return TSR_OK;
}

static int check_totals(runner *R, const tsr_ynode *n)
{
    size_t i;
    int rc;

    if ((rc = need_map(R, n, "expect.totals")) != TSR_OK ||
        (rc = check_keys(R, n, "expect.totals", &totals_set)) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.map.len; i++) {
        char p[256];
        const tsr_ypair *pr = &n->u.map.pairs[i];
        if ((rc = check_value(R, pr->value, V_MONEY,
                              join(p, sizeof p, "expect.totals", text_of(pr->key)))) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

static vkind entry_key_kind(const char *key)
{
    if (strcmp(key, "points") == 0)
        return V_INT;
    if (strcmp(key, "line") == 0)
        return V_STR_OR_NULL;
    if (strcmp(key, "available_on") == 0)
        return V_DATE;
    if (strcmp(key, "expires_on") == 0)
        return V_DATE_OR_NULL;
    return V_STR;
}

/* points.entries or points.lots_used: a list of partial mappings. */
static int check_partial_list(runner *R, const tsr_ynode *n, const char *path, bool entries)
{
    const char **earn = NULL;
    size_t i, j, nearn = 0;
    int rc;

    if ((rc = need_seq(R, n, path)) != TSR_OK)
        return rc;
    if (entries && !(earn = section_ids(R, 3, &nearn)))
        return TSR_ENOMEM;
    for (i = 0; i < n->u.seq.len; i++) {
        const tsr_ynode *e = n->u.seq.items[i];
        char where[256];
        snprintf(where, sizeof where, "%s[%zu]", path, i);
        if ((rc = need_map(R, e, where)) != TSR_OK ||
            (rc = check_keys(R, e, where, entries ? &entry_set : &lot_set)) != TSR_OK)
            return rc;
        for (j = 0; j < e->u.map.len; j++) {
            const tsr_ypair *pr = &e->u.map.pairs[j];
            const char *key = text_of(pr->key);
            char p[300];
            join(p, sizeof p, where, key);
            if (entries && strcmp(key, "rule") == 0)
                rc = check_name(R, pr->value, "earn rule", earn, nearn);
            else
                rc = check_value(R, pr->value, entries ? entry_key_kind(key)
                                 : strcmp(key, "points") == 0 ? V_INT : V_STR, p);
            if (rc != TSR_OK)
                return rc;
        }
    }
    return TSR_OK;
}

static int check_points(runner *R, const tsr_ynode *n)
{
    size_t i;
    int rc;

    if ((rc = need_map(R, n, "expect.points")) != TSR_OK ||
        (rc = check_keys(R, n, "expect.points", &points_set)) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.map.len; i++) {
        const tsr_ypair *pr = &n->u.map.pairs[i];
        const char *key = text_of(pr->key);
        char p[256], hint[96];
        join(p, sizeof p, "expect.points", key);
        if (strcmp(key, "entries") == 0 || strcmp(key, "lots_used") == 0) {
            rc = check_partial_list(R, pr->value, p, key[0] == 'e');
        } else if (strcmp(key, "redeem_reason") == 0) {
            const tsr_ynode *v = pr->value;
            if (!is_scalar(v))
                rc = fail(R, v, "%s must be a reason or ~ (none)", p);
            else if (!tsr__yaml_is_null(v) &&
                     !in_list(v->u.scalar.text, v->u.scalar.len, redeem_reasons, N(redeem_reasons)))
                rc = fail(R, v, "no redeem reason `%s`%s", v->u.scalar.text,
                          suggest(hint, sizeof hint, v->u.scalar.text, v->u.scalar.len,
                                  redeem_reasons, N(redeem_reasons)));
        } else {
            rc = check_value(R, pr->value, V_INT, p);
        }
        if (rc != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

/* "accepted", "rejected" or "rejected/REASON". */
static int check_promo_status(runner *R, const tsr_ynode *v)
{
    const char *s = text_of(v), *slash;
    size_t slen;
    char hint[96];

    if (!is_scalar(v) || tsr__yaml_is_null(v))
        return fail(R, v, "expected a promo code status: accepted, rejected or rejected/REASON");
    slash = strchr(s, '/');
    slen = slash ? (size_t)(slash - s) : strlen(s);
    if (!in_list(s, slen, promo_statuses, N(promo_statuses)))
        return fail(R, v, "no promo code status `%.*s`%s (accepted, rejected or rejected/REASON)",
                    (int)slen, s, suggest(hint, sizeof hint, s, slen, promo_statuses,
                                          N(promo_statuses)));
    if (!slash)
        return TSR_OK;
    if (s[0] == 'a')
        return fail(R, v, "an accepted promo code has no reason");
    if (!in_list(slash + 1, strlen(slash + 1), promo_reasons, N(promo_reasons)))
        return fail(R, v, "no promo code reason `%s`%s", slash + 1,
                    suggest(hint, sizeof hint, slash + 1, strlen(slash + 1), promo_reasons,
                            N(promo_reasons)));
    return TSR_OK;
}

static int check_promo_codes(runner *R, const tsr_ynode *n)
{
    size_t i;
    int rc;

    if ((rc = need_map(R, n, "expect.promo_codes (code: status)")) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.map.len; i++)
        if ((rc = check_promo_status(R, n->u.map.pairs[i].value)) != TSR_OK)
            return rc;
    return TSR_OK;
}

static int check_rule_list(runner *R, const tsr_ynode *n, const char *path)
{
    size_t i;
    int rc;

    if ((rc = need_seq(R, n, path)) != TSR_OK)
        return rc;
    for (i = 0; i < n->u.seq.len; i++)
        if ((rc = check_rule_name(R, n->u.seq.items[i])) != TSR_OK)
            return rc;
    return TSR_OK;
}

/* segments / offers: a list of names that must exist. */
static int check_name_list(runner *R, const tsr_ynode *n, const char *path, bool offers)
{
    const char **ids;
    size_t i, count = 0;
    int rc;

    if ((rc = need_seq(R, n, path)) != TSR_OK)
        return rc;
    ids = offers ? section_ids(R, 4, &count) : segment_ids(R, &count);
    if (!ids)
        return TSR_ENOMEM;
    for (i = 0; i < n->u.seq.len; i++)
        if ((rc = check_name(R, n->u.seq.items[i], offers ? "offer" : "segment", ids, count)) != TSR_OK)
            return rc;
    return TSR_OK;
}

static int check_expect_key(runner *R, const char *key, const tsr_ynode *v)
{
    const char **ids;
    size_t count = 0;

    if (strcmp(key, "lines") == 0)
        return check_lines(R, v);
    if (strcmp(key, "totals") == 0)
        return check_totals(R, v);
    if (strcmp(key, "points") == 0)
        return check_points(R, v);
    if (strcmp(key, "promo_codes") == 0)
        return check_promo_codes(R, v);
    if (strcmp(key, "applied") == 0 || strcmp(key, "not_applied") == 0)
        return check_rule_list(R, v, key);
    if (strcmp(key, "segments") == 0 || strcmp(key, "offers") == 0)
        return check_name_list(R, v, key, key[0] == 'o');
    if (strcmp(key, "tier") == 0) {
        if (tsr__yaml_is_null(v))
            return TSR_OK;
        if (!(ids = tier_ids(R, &count)))
            return TSR_ENOMEM;
        return check_name(R, v, "tier", ids, count);
    }
    if (strcmp(key, "error") == 0) {
        if (!is_scalar(v))
            return fail(R, v, "expect.error must be ~ or a part of the expected error message");
        return TSR_OK;
    }
    /* refund: its shape belongs to the refund milestone; the case fails. */
    return TSR_OK; /* checked with the case's refund: (check_case) */
}

static int check_expect(runner *R, const tsr_ynode *e)
{
    const tsr_ynode *error;
    size_t i;
    int rc;

    if ((rc = need_map(R, e, "expect")) != TSR_OK ||
        (rc = check_keys(R, e, "expect", &expect_set)) != TSR_OK)
        return rc;
    for (i = 0; i < e->u.map.len; i++)
        if ((rc = check_expect_key(R, text_of(e->u.map.pairs[i].key), e->u.map.pairs[i].value)) != TSR_OK)
            return rc;
    /* A rejected order has no result to compare anything else with. */
    error = tsr__ymap_get(e, "error");
    if (error && !tsr__yaml_is_null(error) && e->u.map.len > 1)
        for (i = 0; i < e->u.map.len; i++)
            if (!scalar_is(e->u.map.pairs[i].key, "error"))
                return fail(R, e->u.map.pairs[i].key,
                            "`%s` cannot be checked when the order is expected to fail "
                            "(expect.error); move it to another case",
                            text_of(e->u.map.pairs[i].key));
    return TSR_OK;
}

static int check_case(runner *R, const tsr_ynode *c, size_t index)
{
    const tsr_ynode *name, *order, *expect, *refund;
    char where[40];
    int rc;

    snprintf(where, sizeof where, "cases[%zu]", index);
    if ((rc = need_map(R, c, where)) != TSR_OK ||
        (rc = check_keys(R, c, "a case", &case_set)) != TSR_OK)
        return rc;
    name = tsr__ymap_get(c, "name");
    order = tsr__ymap_get(c, "order");
    expect = tsr__ymap_get(c, "expect");
    refund = tsr__ymap_get(c, "refund");
    if (!name || !is_scalar(name) || tsr__yaml_is_null(name))
        return fail(R, name ? name : c, "every case needs a `name`");
    if (!order)
        return fail(R, c, "case `%s` has no `order`", name->u.scalar.text);
    if ((rc = need_map(R, order, "`order` (an order as a YAML mapping)")) != TSR_OK)
        return rc;
    if (refund && (rc = need_map(R, refund, "`refund`")) != TSR_OK)
        return rc;
    if (expect && (rc = check_expect(R, expect)) != TSR_OK)
        return rc;
    return tsr__ruletest_refund_check(refund, expect ? tsr__ymap_get(expect, "refund") : NULL,
                                      R->rs, R->file, R->err);
}

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
        g.s = tsr__yaml_is_null(n) ? NULL : text_of(n);
        break;
    case V_INT:
        parse_int(n, &g.i);
        break;
    case V_MONEY:
        parse_money(R, n, &g.i);
        break;
    case V_DATE:
    case V_DATE_OR_NULL:
        g.none = tsr__yaml_is_null(n);
        if (!g.none)
            parse_date(n, &g.i);
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
        tsr__buf_puts(b, text_of(n->u.seq.items[i]));
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
        ok = line_discount(R, l, text_of(want->u.seq.items[i]), &amount);
    }
    for (j = 0; ok && j < l->ndiscounts; j++) {
        bool found = false;
        for (i = 0; i < want->u.seq.len && !found; i++)
            found = strcmp(text_of(want->u.seq.items[i]),
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
        join(p, sizeof p, path, text_of(pr->key));
        if (line_discount(R, l, text_of(pr->key), &amount)) {
            compare(R, p, pr->value, got_num(V_MONEY, amount));
        } else {
            got e = expected_of(R, pr->value, V_MONEY);
            char a[64];
            render_got(R, &e, a, sizeof a);
            mismatch(R, p, "expected %s, but the discount did not change this line", a);
        }
    }
}

static void compare_line(runner *R, const char *id, const tsr_ynode *want, const tsr_result *res)
{
    const tsr_res_line *l = find_line(res, id);
    char path[300];
    size_t i;

    join(path, sizeof path, "lines", id);
    if (!l) {
        mismatch(R, path, "the order has no line `%s`", id);
        return;
    }
    for (i = 0; i < want->u.map.len; i++) {
        const tsr_ypair *pr = &want->u.map.pairs[i];
        const char *key = text_of(pr->key);
        char p[400];
        join(p, sizeof p, path, key);
        if (strcmp(key, "discounts") == 0) {
            compare_line_discounts(R, p, pr->value, l);
        } else if (strcmp(key, "redeemed") == 0) {
            const tsr_ynode *pts = tsr__ymap_get(pr->value, "points");
            const tsr_ynode *val = tsr__ymap_get(pr->value, "value");
            char q[450];
            if (pts)
                compare(R, join(q, sizeof q, p, "points"), pts, got_num(V_INT, l->redeemed_points));
            if (val)
                compare(R, join(q, sizeof q, p, "value"), val, got_num(V_MONEY, l->redeemed_value));
        } else {
            compare(R, p, pr->value, line_value(l, key));
        }
    }
}

static void compare_lines(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i;
    for (i = 0; i < want->u.map.len; i++)
        compare_line(R, text_of(want->u.map.pairs[i].key), want->u.map.pairs[i].value, res);
}

static void compare_totals(runner *R, const tsr_ynode *want, const tsr_result *res)
{
    size_t i;
    for (i = 0; i < want->u.map.len; i++) {
        const char *key = text_of(want->u.map.pairs[i].key);
        int64_t v = strcmp(key, "subtotal") == 0   ? res->totals.subtotal
                    : strcmp(key, "discount") == 0 ? res->totals.discount
                    : strcmp(key, "due") == 0      ? res->totals.due
                                                   : res->totals.redeemed_value;
        char p[300];
        compare(R, join(p, sizeof p, "totals", key), want->u.map.pairs[i].value,
                got_num(V_MONEY, v));
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
        const char *key = text_of(want->u.map.pairs[i].key);
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
        tsr__buf_printf(b, "%s%s: %s", i ? ", " : "", text_of(m->u.map.pairs[i].key),
                        tsr__yaml_is_null(m->u.map.pairs[i].value) ? "~"
                                                                   : text_of(m->u.map.pairs[i].value));
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
                const char *key = text_of(w->u.map.pairs[k].key);
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
        const char *key = text_of(want->u.map.pairs[i].key);
        const tsr_ynode *v = want->u.map.pairs[i].value;
        char p[300];
        join(p, sizeof p, "points", key);
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
        const char *code = normalise_code(&R->rep->arena, text_of(pr->key), pr->key->u.scalar.len);
        const char *status = text_of(pr->value);
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
        join(path, sizeof path, "promo_codes", code);
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
        const char *name = text_of(want->u.seq.items[i]);
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
        const char *w = text_of(want->u.seq.items[i]);
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
                found = strcmp(have[j], text_of(want->u.seq.items[i])) == 0;
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

static void compare_result(runner *R, const tsr_ynode *expect, const tsr_result *res)
{
    size_t i;
    for (i = 0; expect && i < expect->u.map.len; i++) {
        const char *key = text_of(expect->u.map.pairs[i].key);
        const tsr_ynode *v = expect->u.map.pairs[i].value;
        if (strcmp(key, "lines") == 0)
            compare_lines(R, v, res);
        else if (strcmp(key, "totals") == 0)
            compare_totals(R, v, res);
        else if (strcmp(key, "points") == 0)
            compare_points(R, v, res);
        else if (strcmp(key, "promo_codes") == 0)
            compare_promos(R, v, res);
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

/* ---------------------------------------------------------------------
 * Running cases.
 */
static void cover(runner *R, const tsr_result *res)
{
    size_t i, j;
    for (i = 0; i < res->ntrace; i++) {
        const tsr_trace_entry *t = &res->trace[i];
        if (!t->applied)
            continue;
        for (j = 0; j < R->nrules; j++)
            if (!R->covered[j] && strcmp(R->rules[j].section, t->section) == 0 &&
                strcmp(R->rules[j].id, t->id) == 0) {
                R->covered[j] = 1;
                break;
            }
    }
}

/* The order of a case, read and evaluated; *res NULL with `oerr` filled
 * when it was rejected. */
static int evaluate_case(runner *R, const tsr_ynode *order, tsr_result **res, tsr_error *oerr)
{
    static const tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    int rc;

    *res = NULL;
    tsr_order_reset(R->order);
    rc = tsr__order_read_ynode(R->order, order, oerr);
    if (rc == TSR_OK)
        rc = tsr__order_finish(R->order, oerr);
    if (rc == TSR_OK)
        rc = tsr_evaluate(res, R->rs, R->order, &opts, oerr);
    /* out of memory is the run's failure, not the case's */
    return rc == TSR_ENOMEM ? TSR_ENOMEM : TSR_OK;
}

/* Settle `expect.error` against how the order fared. */
static void compare_error(runner *R, const tsr_ynode *want, const tsr_result *res,
                          const tsr_error *oerr)
{
    char text[TSR_ERROR_TEXT_MAX + TSR_ERROR_PATH_MAX + 8];
    bool expected = want && !tsr__yaml_is_null(want);

    if (res) {
        if (expected)
            mismatch(R, "error", "expected the order to be rejected with \"%s\", but it was "
                                 "evaluated", text_of(want));
        return;
    }
    tsr_error_format(text, sizeof text, oerr);
    if (!expected && oerr->line > 0 && !oerr->file[0])
        /* the order reader knows where in the test file the bad value is */
        mismatch(R, "error", "the order was rejected: %s (%s:%d:%d)", text, R->file, oerr->line,
                 oerr->column);
    else if (!expected)
        mismatch(R, "error", "the order was rejected: %s", text);
    else if (!strstr(text, text_of(want)))
        mismatch(R, "error", "expected \"%s\", got \"%s\"", text_of(want), text);
}

static int run_case(runner *R, const tsr_ynode *c, test_case *tc)
{
    const tsr_ynode *expect = tsr__ymap_get(c, "expect");
    const tsr_ynode *want_error = expect ? tsr__ymap_get(expect, "error") : NULL;
    tsr_result *res = NULL;
    tsr_error oerr;
    int rc;

    R->diff.len = 0;
    if (R->diff.data)
        R->diff.data[0] = '\0';
    tc->name = tsr__arena_strndup(&R->rep->arena, text_of(tsr__ymap_get(c, "name")),
                                  tsr__ymap_get(c, "name")->u.scalar.len);
    tc->line = c->line;
    if (!tc->name)
        return TSR_ENOMEM;
    tsr__error_clear(&oerr);
    if ((rc = evaluate_case(R, tsr__ymap_get(c, "order"), &res, &oerr)) != TSR_OK)
        return rc;
    compare_error(R, want_error, res, &oerr);
    if (res) {
        const tsr_ynode *refund = tsr__ymap_get(c, "refund");
        compare_result(R, expect, res);
        cover(R, res);
        /* a refund: case refunds with the receipt just produced (SPEC §7) */
        rc = refund ? tsr__ruletest_refund_case(R->rs, R->order, res, refund,
                                                expect ? tsr__ymap_get(expect, "refund") : NULL,
                                                &R->diff)
                    : TSR_OK;
        tsr_result_free(res);
        if (rc != TSR_OK)
            return rc;
    }
    if (R->diff.failed)
        return TSR_ENOMEM;
    tc->passed = R->diff.len == 0;
    tc->diff = tsr__arena_strndup(&R->rep->arena, R->diff.data ? R->diff.data : "", R->diff.len);
    return tc->diff ? TSR_OK : TSR_ENOMEM;
}

/* ---------------------------------------------------------------------
 * Coverage and the report text.
 */
static size_t file_index_of(const tsr_ruleset *rs, const char *discount_id)
{
    size_t i;
    for (i = 0; i < rs->ndiscounts; i++)
        if (rs->discounts[i].id == discount_id)
            return rs->discounts[i].file_index;
    return 0;
}

static int collect_rules(runner *R)
{
    const tsr_ruleset *rs = R->rs;
    size_t n = rs->ncategories + rs->npromos + rs->ndiscounts + rs->loyalty.nearn + rs->noffers;
    size_t i, j, k = 0;

    R->rules = tsr__arena_calloc(&R->rep->arena, n + 1, sizeof *R->rules);
    R->covered = tsr__arena_calloc(&R->rep->arena, n + 1, 1);
    if (!R->rules || !R->covered)
        return TSR_ENOMEM;
    for (i = 0; i < rs->ncategories; i++)
        R->rules[k++] = (rule_ref){ "categories", rs->categories[i].id };
    for (i = 0; i < rs->npromos; i++)
        R->rules[k++] = (rule_ref){ "promo_codes", rs->promos[i].id };
    /* discounts are stored in application order; list them in file order */
    for (i = 0; i < rs->ndiscounts; i++) {
        const tsr_discount *d = &rs->discounts[i];
        for (j = k; j > rs->ncategories + rs->npromos &&
                    file_index_of(rs, R->rules[j - 1].id) > d->file_index; j--)
            R->rules[j] = R->rules[j - 1];
        R->rules[j] = (rule_ref){ "discounts", d->id };
        k++;
    }
    for (i = 0; i < rs->loyalty.nearn; i++)
        R->rules[k++] = (rule_ref){ "earn", rs->loyalty.earn[i].id };
    for (i = 0; i < rs->noffers; i++)
        R->rules[k++] = (rule_ref){ "offers", rs->offers[i].id };
    R->nrules = k;
    return TSR_OK;
}

static int finish_coverage(runner *R)
{
    tsr_test_report *rep = R->rep;
    size_t i, n = 0;

    rep->nrules = R->nrules;
    rep->uncovered = tsr__arena_calloc(&rep->arena, R->nrules + 1, sizeof *rep->uncovered);
    if (!rep->uncovered)
        return TSR_ENOMEM;
    for (i = 0; i < R->nrules; i++) {
        char name[512];
        int len;
        if (R->covered[i])
            continue;
        len = snprintf(name, sizeof name, "%s.%s", R->rules[i].section, R->rules[i].id);
        if (len < 0)
            len = 0;
        if (!(rep->uncovered[n++] = tsr__arena_strndup(&rep->arena, name, (size_t)len)))
            return TSR_ENOMEM;
    }
    rep->nuncovered = n;
    return TSR_OK;
}

static const char *buf_to_arena(tsr_test_report *rep, tsr_buf *b)
{
    const char *s = b->failed ? NULL : tsr__arena_strndup(&rep->arena, b->data ? b->data : "", b->len);
    tsr__buf_free(b);
    return s;
}

static int build_texts(runner *R)
{
    tsr_test_report *rep = R->rep;
    size_t i, covered;
    tsr_buf b;

    tsr__buf_init(&b, &rep->alloc);
    for (i = 0; i < rep->ncases; i++) {
        const test_case *tc = &rep->cases[i];
        if (tc->passed)
            continue;
        tsr__buf_printf(&b, "FAIL %s:%d: %s\n%s", rep->file, tc->line, tc->name, tc->diff);
    }
    if (!(rep->failures_text = buf_to_arena(rep, &b)))
        return TSR_ENOMEM;

    tsr__buf_init(&b, &rep->alloc);
    covered = rep->nrules - rep->nuncovered;
    tsr__buf_printf(&b, "coverage of %s: %zu of %zu rules applied (%zu%%)\n", R->rules_file,
                    covered, rep->nrules, rep->nrules ? covered * 100 / rep->nrules : 100);
    for (i = 0; i < rep->nuncovered; i++)
        tsr__buf_printf(&b, "%s%s", i ? ", " : "not covered: ", rep->uncovered[i]);
    if (rep->nuncovered)
        tsr__buf_putc(&b, '\n');
    if (!(rep->coverage_text = buf_to_arena(rep, &b)))
        return TSR_ENOMEM;

    tsr__buf_init(&b, &rep->alloc);
    tsr__buf_puts(&b, rep->failures_text);
    tsr__buf_puts(&b, rep->coverage_text);
    tsr__buf_printf(&b, "%zu passed, %zu failed\n", rep->passed, rep->failed);
    if (!(rep->text = buf_to_arena(rep, &b)))
        return TSR_ENOMEM;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * The test file.
 */

/* `rules:` relative to the directory of the test file. */
static char *rules_path(tsr_arena *ar, const char *test_name, const char *rules)
{
    const char *slash = test_name ? strrchr(test_name, '/') : NULL;
    size_t dir, n;
    char *p;

    if (rules[0] == '/' || !slash)
        return tsr__arena_strndup(ar, rules, strlen(rules));
    dir = (size_t)(slash - test_name) + 1;
    n = strlen(rules);
    p = tsr__arena_alloc(ar, dir + n + 1);
    if (!p)
        return NULL;
    memcpy(p, test_name, dir);
    memcpy(p + dir, rules, n + 1);
    return p;
}

static int check_top(runner *R, const tsr_ynode *root, const tsr_ynode **rules,
                     const tsr_ynode **cases)
{
    const tsr_ynode *version;
    int rc;

    if (root->kind != TSR_Y_MAP)
        return fail(R, root, "a test file is a mapping with `tessera_test: 1`, `rules:` and `cases:`");
    if ((rc = check_keys(R, root, "a test file", &tsr__keys_test)) != TSR_OK)
        return rc;
    version = tsr__ymap_get(root, "tessera_test");
    if (!version)
        return fail(R, root, "a test file starts with `tessera_test: 1`");
    if (!scalar_is(version, "1"))
        return fail(R, version, "`tessera_test: %s` is not a version this library reads (1)",
                    text_of(version));
    *rules = tsr__ymap_get(root, "rules");
    if (!*rules || !is_scalar(*rules) || tsr__yaml_is_null(*rules))
        return fail(R, *rules ? *rules : root,
                    "`rules:` must name the rule file to test, relative to the test file");
    *cases = tsr__ymap_get(root, "cases");
    if (!*cases)
        return fail(R, root, "the test file has no `cases:`");
    return need_seq(R, *cases, "`cases`");
}

/* The YAML limits of the test file: the rule file's, but with aliases
 * (test files share orders through anchors). */
static void test_limits(tsr_ylimits *lim, const tsr_load_options *eff)
{
    lim->max_size = eff->max_file_size;
    lim->max_depth = eff->max_depth;
    lim->max_scalar = eff->max_scalar_length;
    lim->max_nodes = eff->max_nodes;
    lim->max_aliases = TEST_MAX_ALIASES;
}

/* `rules:` must lead into the test file's directory tree (or an allowed
 * one), as a rule file's `include:` must: a test file cannot make the
 * runner read, and echo in its errors, any file the process may read. */
static int check_rules_path(runner *R, const tsr_ynode *rules, const char *path,
                            const tsr_load_options *eff)
{
    char real[PATH_MAX];

    if (tsr__path_allowed(R->file, path, eff->allow_paths, real) != TSR_EINCLUDE)
        return TSR_OK;   /* inside, or not there: loading it says so */
    tsr__err_at(R->err, TSR_EINCLUDE, R->file, rules->line, rules->col,
                "`rules: %s` is outside the directory of the test file (the load option "
                "allow_paths, or tessera --allow-path DIR, allows more)", rules->u.scalar.text);
    return TSR_EINCLUDE;
}

static int run_cases(runner *R, const tsr_ynode *cases)
{
    tsr_test_report *rep = R->rep;
    size_t i;
    int rc;

    if ((rc = tsr_order_new(&R->order, R->rs, R->err)) != TSR_OK)
        return rc;
    if ((rc = collect_rules(R)) != TSR_OK)
        return rc;
    rep->cases = tsr__arena_calloc(&rep->arena, cases->u.seq.len + 1, sizeof *rep->cases);
    if (!rep->cases)
        return TSR_ENOMEM;
    for (i = 0; i < cases->u.seq.len; i++) {
        test_case *tc = &rep->cases[rep->ncases++];
        if ((rc = run_case(R, cases->u.seq.items[i], tc)) != TSR_OK)
            return rc;
        if (tc->passed)
            rep->passed++;
        else
            rep->failed++;
    }
    if ((rc = finish_coverage(R)) != TSR_OK)
        return rc;
    return build_texts(R);
}

/* Parse, check and run; everything the run allocates beyond the report is
 * released by the caller through R. */
static int run(runner *R, const char *text, size_t len, const tsr_load_options *opts,
               tsr_ruleset **rs, tsr_arena *tmp)
{
    const tsr_ynode *root, *rules = NULL, *cases = NULL;
    tsr_ynode *parsed = NULL;
    tsr_load_options eff;
    tsr_ylimits lim;
    const char *path;
    size_t i;
    int rc;

    if ((rc = tsr__load_options_effective(&eff, opts, R->err)) != TSR_OK)
        return rc;
    test_limits(&lim, &eff);
    if ((rc = tsr__yaml_parse(&parsed, text, len, R->file, &lim, tmp, R->err)) != TSR_OK)
        return rc;
    root = parsed;
    if ((rc = check_top(R, root, &rules, &cases)) != TSR_OK)
        return rc;
    R->rules_file = tsr__arena_strndup(&R->rep->arena, rules->u.scalar.text, rules->u.scalar.len);
    path = rules_path(tmp, R->file, rules->u.scalar.text);
    if (!R->rules_file || !path)
        return TSR_ENOMEM;
    if ((rc = check_rules_path(R, rules, path, &eff)) != TSR_OK ||
        (rc = tsr_ruleset_load_file(rs, path, opts, R->err)) != TSR_OK)
        return rc;
    R->rs = *rs;
    for (i = 0; i < cases->u.seq.len; i++)
        if ((rc = check_case(R, cases->u.seq.items[i], i)) != TSR_OK)
            return rc;
    return run_cases(R, cases);
}

static int new_report(tsr_test_report **out, const tsr_load_options *opts, const char *name)
{
    tsr_alloc alloc;
    tsr_test_report *rep;

    tsr__alloc_init(&alloc, opts && opts->version >= 1 ? opts->allocator : NULL);
    rep = tsr__calloc(&alloc, 1, sizeof *rep);
    if (!rep)
        return TSR_ENOMEM;
    rep->alloc = alloc;
    tsr__arena_init(&rep->arena, &rep->alloc, 4096);
    rep->file = tsr__arena_strndup(&rep->arena, name, strlen(name));
    rep->failures_text = rep->coverage_text = rep->text = "";
    *out = rep;
    if (!rep->file) {
        tsr_test_report_free(rep);
        *out = NULL;
        return TSR_ENOMEM;
    }
    return TSR_OK;
}

int tsr_test_run_string(tsr_test_report **out, const char *text, size_t len, const char *name,
                        const tsr_load_options *opts, tsr_error *err)
{
    tsr_test_report *rep = NULL;
    tsr_ruleset *rs = NULL;
    tsr_arena tmp;
    runner R;
    int rc;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_string: `out` is NULL");
    *out = NULL;
    if (!text && len)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_string: `text` is NULL");
    if (!name)
        name = "<string>";
    if ((rc = new_report(&rep, opts, name)) != TSR_OK)
        return tsr__err(err, rc, "out of memory");

    memset(&R, 0, sizeof R);
    R.rep = rep;
    R.file = rep->file;
    R.err = err;
    tsr__buf_init(&R.diff, &rep->alloc);
    tsr__arena_init(&tmp, &rep->alloc, 16384);

    rc = run(&R, text ? text : "", len, opts, &rs, &tmp);

    tsr_order_free(R.order);
    tsr_ruleset_free(rs);
    tsr__buf_free(&R.diff);
    tsr__arena_free(&tmp);
    if (rc != TSR_OK) {
        if (rc == TSR_ENOMEM)
            tsr__err(err, TSR_ENOMEM, "out of memory");
        tsr_test_report_free(rep);
        return rc;
    }
    *out = rep;
    return TSR_OK;
}

/* The whole file, at most `max` bytes, into a buffer of *cap bytes that the
 * caller frees. */
static int read_file(const tsr_alloc *alloc, const char *path, size_t max, char **out,
                     size_t *len, size_t *cap, tsr_error *err)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    char *buf = NULL;
    int rc = TSR_OK;

    *cap = 0;
    if (!f)
        return tsr__err_at(err, TSR_EIO, path, 0, 0, "cannot open the test file: %s",
                           strerror(errno));
    for (;;) {
        void *p = buf;
        size_t nread;
        if (tsr__grow(alloc, &p, cap, n + 65536 + 1, 1) != TSR_OK) {
            rc = tsr__err(err, TSR_ENOMEM, "out of memory");
            break;
        }
        buf = p;
        nread = fread(buf + n, 1, *cap - n - 1, f);
        n += nread;
        if (n > max) {
            rc = tsr__err_at(err, TSR_ELIMIT, path, 0, 0,
                             "the test file is larger than the limit of %zu bytes", max);
            break;
        }
        if (nread == 0)
            break;
    }
    if (rc == TSR_OK && ferror(f))
        rc = tsr__err_at(err, TSR_EIO, path, 0, 0, "cannot read the test file: %s",
                         strerror(errno));
    fclose(f);
    if (rc != TSR_OK) {
        tsr__free(alloc, buf, *cap);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TSR_OK;
}

int tsr_test_run_file(tsr_test_report **out, const char *path, const tsr_load_options *opts,
                      tsr_error *err)
{
    static const tsr_load_options defaults = TSR_LOAD_OPTIONS_INIT;
    tsr_alloc alloc;
    size_t cap = 0, len = 0, max;
    char *text = NULL;
    int rc;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_file: `out` is NULL");
    *out = NULL;
    if (!path)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_file: `path` is NULL");
    tsr__alloc_init(&alloc, opts && opts->version >= 1 ? opts->allocator : NULL);
    max = opts && opts->version >= 1 && opts->max_file_size ? opts->max_file_size
                                                            : defaults.max_file_size;
    if ((rc = read_file(&alloc, path, max, &text, &len, &cap, err)) != TSR_OK)
        return rc;
    rc = tsr_test_run_string(out, text, len, path, opts, err);
    tsr__free(&alloc, text, cap);
    return rc;
}

/* ---------------------------------------------------------------------
 * The report.
 */
void tsr_test_report_free(tsr_test_report *r)
{
    tsr_alloc alloc;
    if (!r)
        return;
    alloc = r->alloc;
    r->arena.alloc = &alloc;
    tsr__arena_free(&r->arena);
    tsr__free(&alloc, r, sizeof *r);
}

size_t tsr_test_report_passed(const tsr_test_report *r)
{
    return r ? r->passed : 0;
}

size_t tsr_test_report_failed(const tsr_test_report *r)
{
    return r ? r->failed : 0;
}

size_t tsr_test_report_case_count(const tsr_test_report *r)
{
    return r ? r->ncases : 0;
}

const char *tsr_test_report_case_name(const tsr_test_report *r, size_t i)
{
    return r && i < r->ncases ? r->cases[i].name : NULL;
}

int tsr_test_report_case_passed(const tsr_test_report *r, size_t i)
{
    return r && i < r->ncases && r->cases[i].passed;
}

const char *tsr_test_report_case_diff(const tsr_test_report *r, size_t i)
{
    return r && i < r->ncases ? r->cases[i].diff : NULL;
}

size_t tsr_test_report_rule_count(const tsr_test_report *r)
{
    return r ? r->nrules : 0;
}

size_t tsr_test_report_uncovered_count(const tsr_test_report *r)
{
    return r ? r->nuncovered : 0;
}

const char *tsr_test_report_uncovered(const tsr_test_report *r, size_t i)
{
    return r && i < r->nuncovered ? r->uncovered[i] : NULL;
}

const char *tsr_test_report_failures_text(const tsr_test_report *r)
{
    return r ? r->failures_text : "";
}

const char *tsr_test_report_coverage_text(const tsr_test_report *r)
{
    return r ? r->coverage_text : "";
}

const char *tsr_test_report_text(const tsr_test_report *r)
{
    return r ? r->text : "";
}
