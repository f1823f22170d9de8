/*
 * refund.h — refunds (SPEC §4, Refund): the receipt a refund is checked
 * against, the refund itself, and the hook through which rule tests (§7,
 * the `refund:` case form) run a refund.
 *
 *   receipt.c         reads a receipt (the result JSON an evaluation
 *                     returned) and checks it against the order re-evaluated
 *                     under the loaded rule set
 *   refund.c          the refund itself: the per-line refund, re-pricing and
 *                     clawback (tsr__refund_run), and tsr_refund_order
 *   refund_request.c  a refund request in JSON, and tsr_refund
 *   refund_json.c     the refund result: its JSON and accessors
 *   refund_case.c     the §7 `refund:` case form, for lib/ruletest.c
 *
 * refund_request.c calls refund.c, which calls receipt.c; refund_json.c
 * calls none of them.
 *
 * The library keeps no state between refunds: what was refunded before
 * comes in with the request (`previous`), and the result says exactly what
 * this refund did so the caller can record it (docs/refunds.md).
 */
#ifndef TSR_REFUND_H
#define TSR_REFUND_H

#include "eval.h"
#include "json_sax.h"

/* ---------------------------------------------------------------------
 * Receipts (receipt.c).  Only what a refund needs is read; everything else
 * in the result JSON (trace, offers, promo codes, ...) is skipped, so a
 * receipt from a newer library with more keys still reads.
 */
/* A line's `tax` on the receipt: absent (a rule set without taxes wrote
 * none), null (no rate took the line), or a rate with its amount. */
enum { TSR_RECEIPT_TAX_ABSENT = 0, TSR_RECEIPT_TAX_NULL, TSR_RECEIPT_TAX_RATE };

typedef struct tsr_receipt_line {
    const char *id;             /* NUL-terminated */
    int64_t subtotal;           /* money */
    int64_t discount;           /* sum of discounts[].amount */
    int64_t redeemed_points;
    int64_t redeemed_value;     /* money */
    int64_t total;              /* money: what the customer paid for the line
                                   (before tax added on top) */
    int64_t points_earned;
    int tax_given;              /* TSR_RECEIPT_TAX_* */
    const char *tax_id, *tax_rate;   /* TSR_RECEIPT_TAX_RATE: as written */
    int64_t tax;                /* money */
} tsr_receipt_line;

/* An entry of the receipt's `taxes`: one rate over the order. */
typedef struct tsr_receipt_tax {
    const char *id, *rate;
    int64_t base, amount;       /* money */
} tsr_receipt_tax;

typedef struct tsr_receipt {
    const char *ruleset_id, *ruleset_version, *currency;
    const char *order_id;       /* NULL: `"order": null` */
    tsr_receipt_line *lines;
    size_t nlines, lines_cap;
    int64_t subtotal, discount, redeemed_value, due;     /* totals, money */
    bool has_tax;               /* totals.tax was given */
    int64_t tax;                /* totals.tax, money */
    bool has_taxes;             /* `taxes` was given */
    tsr_receipt_tax *taxes;     /* at most rs->taxes.nrates of them */
    size_t ntaxes;
    int64_t points_redeemed, points_earned;
} tsr_receipt;

/* Read receipt text (JSON) into *out; strings and lines live in `arena`.
 * At most the rule set's max_order_lines lines are accepted.  Errors:
 * TSR_ERECEIPT with a path ("receipt.lines[1].total"), TSR_ENOMEM. */
int tsr__receipt_read(tsr_receipt *out, const tsr_ruleset *rs, const char *text, size_t len,
                      tsr_arena *arena, tsr_error *err);

/* Check a receipt against the rule set and the order's fresh evaluation
 * `res` (same rule set id, version and currency, same order id, the same
 * line ids in the same order, sums that add up, and every amount the
 * refund relies on equal to what the rule set gives).  TSR_ERECEIPT with
 * the path of the first disagreement. */
int tsr__receipt_verify(const tsr_receipt *rc, const tsr_result *res, tsr_error *err);

/* ---------------------------------------------------------------------
 * Refunds (refund.c; the result's JSON and accessors: refund_json.c).
 */
typedef struct tsr_refund_line {
    const char *id;
    tsr_refund_status status;
    const char *why;            /* rejected: the reason; NULL when refunded */
    int64_t amount, fee;        /* money; both 0 when rejected */
    int64_t points_restored, points_revoked;
    /* With `taxes`: the rate the line took (NULL: none) and the tax its
     * amount contains, amount × rate / (100 + rate). */
    const char *tax_id, *tax_rate;
    int64_t tax;
} tsr_refund_line;

struct tsr_refund_result {
    tsr_alloc alloc;
    tsr_arena arena;            /* the result lives inside it */
    unsigned minor_units;
    const char *order_id;       /* NULL when the order has none */
    const char *ruleset_id, *ruleset_version, *currency;
    const char *datetime;       /* the refund time, as ISO 8601 */
    tsr_refund_to to;
    bool taxes;                 /* the rule set has `taxes`: lines and totals show tax */
    tsr_refund_line *lines;
    size_t nlines;
    bool repriced;              /* re-pricing ran: the `reprice` object is shown */
    const char **remaining;     /* the lines kept, re-priced */
    size_t nremaining;
    int64_t reprice_paid;       /* their totals after discounts on the receipt */
    int64_t reprice_now;        /* and re-priced without the refunded lines */
    tsr_refund_totals totals;
    char *json;
    size_t json_len, json_cap;
};

/* One refund, every input already parsed.  Line ids are NUL-terminated. */
typedef struct tsr_refund_input {
    const tsr_order *order;
    const char *receipt;
    size_t receipt_len;
    const char *const *lines;
    size_t nlines;
    int64_t at;                 /* the refund time: usec since the epoch */
    int32_t at_offset;          /* and its UTC offset, seconds */
    const char *const *previous;   /* lines refunded before */
    size_t nprevious;
    int64_t previous_clawback;     /* what the caller says those refunds withheld,
                                      money; at most what the library recomputes
                                      from the receipt and `previous` */
    bool previous_clawback_stated; /* false: use the recomputed value */
} tsr_refund_input;

int tsr__refund_run(tsr_refund_result **out, const tsr_ruleset *rs, const tsr_refund_input *in,
                    tsr_error *err);

/* The refund time s[0..n), ISO 8601 with a UTC offset, into in->at and
 * in->at_offset; else TSR_EORDER at `datetime` (s may be NULL). */
int tsr__refund_time(tsr_refund_input *in, const char *s, size_t n, tsr_error *err);

/* Make an error found inside a part of the request name its place in the
 * whole request (items[1].id becomes order.items[1].id); returns code. */
int tsr__refund_prefix_path(tsr_error *err, const char *prefix, int code);

/* ---------------------------------------------------------------------
 * Rule tests (refund_case.c), for lib/ruletest.c.
 *
 * Pass 1: check the shape of a case's `refund:` (`lines`, `datetime`,
 * optional `previous: {lines, clawback}`) and `expect.refund:` (`to`,
 * `error`, `totals`, `lines: {ID: {status, why, amount, fee,
 * points_restored, points_revoked}}`); either may be NULL.  An error is
 * the test file's (TSR_ESCHEMA at file:line:col, `file` the test file).
 *
 * Pass 2: run the refund of a case whose order evaluated to `receipt` (the
 * order still in `order`) and compare with `expect` (expect.refund, may be
 * NULL: the refund must then merely succeed).  Mismatches are appended to
 * `diff` as "  refund.totals.amount: expected \"118.00\", got \"120.00\"\n".
 * Returns TSR_OK or TSR_ENOMEM (the run's failure, not the case's).
 */
int tsr__ruletest_refund_check(const tsr_ynode *refund, const tsr_ynode *expect,
                               const tsr_ruleset *rs, const char *file, tsr_error *err);
int tsr__ruletest_refund_case(const tsr_ruleset *rs, const tsr_order *order, tsr_result *receipt,
                              const tsr_ynode *refund, const tsr_ynode *expect, tsr_buf *diff);

#endif /* TSR_REFUND_H */
