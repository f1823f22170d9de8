/*
 * rules.h — the loaded rule set (SPEC §3): every section resolved and
 * compiled.  Built by rules_load.c from the YAML tree, read-only afterwards,
 * shared by all evaluations.  Everything lives in the rule set's arena
 * except the tz and the regex pool, which the rule set frees.
 *
 * What each compiled expression may use (its tsr_expr_env flags), so the
 * evaluator knows what context to supply:
 *
 *   segments                   customer, order, now, tables, earlier segments
 *   tiers                      + every segment
 *   categories for/when/price  + tier, items, item (no line totals: the
 *                                categories set the prices they come from)
 *   promo_codes when           + tier, items, line totals (order level: no item)
 *   discounts when, effect     + promo, line totals (order level: no item)
 *   discounts for/reward,      + item
 *     bundle[].for
 *   loyalty member_when, earn  like discounts (when: order level; for: item)
 *     when, redeem.for
 *   refunds allowed/fee        like discounts, item in scope
 *   offers when                like discounts when (order level)
 *   taxes rates[].for          like discounts `for` (item in scope)
 *
 * "promo" means `promo.ID`; "line totals" means item.subtotal / item.total
 * (TSR_ENV_LINE_TOTALS), "items" the order's lines and count/sum/any/all.
 * A discount's effect value (percent/amount/price/order_amount) is order
 * level: it is evaluated once per order, not per line.
 */
#ifndef TSR_RULES_H
#define TSR_RULES_H

#include "expr.h"

#include <stdatomic.h>

/* Where a rule came from, for diagnostics and lint. */
typedef struct tsr_srcpos {
    const char *file;
    int line, col;
} tsr_srcpos;

/* `valid:` and `channels:` sugar, kept apart from `when` so the trace can name
 * which part failed.  Loaded by rules_validity.c. */
typedef struct tsr_validity {
    bool has_from, has_until;
    int64_t from, until;        /* dates, inclusive, at the local date of `now` */
    uint8_t weekdays;           /* bit (d-1) for weekday d; 0 = any */
    bool has_hours;
    int32_t hours_from, hours_until;   /* minutes since local midnight, 0..1440;
                                          [from, until); from > until wraps past
                                          midnight ("22:00-02:00"); never equal */
    const char **channels;      /* NULL = any; else nchannels >= 1 strings */
    uint32_t *channel_lens;
    size_t nchannels;
    int line, col;              /* of the `valid` key (lint); 0 without one */
    /* Some part above restricts when the rule applies; false (no `valid:`
     * nor `channels:`, or `valid: {}`): it always holds, and evaluation
     * checks nothing else (tsr__validity_holds).  Set by tsr__validity_load. */
    bool any;
} tsr_validity;

typedef struct tsr_segment {
    const char *id;
    tsr_expr *when;
    tsr_srcpos pos;
    bool used;
} tsr_segment;

typedef struct tsr_tier {
    const char *id;
    const char *label;          /* NULL if none */
    tsr_expr *when;             /* NULL = everyone (a catch-all last tier) */
    tsr_srcpos pos;
} tsr_tier;

typedef struct tsr_category {
    const char *id;
    const char *label;          /* NULL if none */
    tsr_expr *for_;             /* NULL = all lines */
    tsr_expr *when;             /* NULL = always */
    tsr_expr *price;            /* money; NULL = keep the line's price */
    /* `selectable: true`: an order may name this category for a line whose
     * `for`, `when` and `valid` hold (eval_categories); any other category
     * an order names is refused. */
    bool selectable;
    /* Set at load: `price` reads no line (tsr__expr_order_level), so one
     * evaluation prices every line of this category alike and computes the
     * value once (eval_categories) rather than once per line. */
    bool price_order_level;
    tsr_validity valid;
    tsr_srcpos pos;
} tsr_category;

typedef struct tsr_promo_index tsr_promo_index;

typedef struct tsr_promo {
    const char *id;
    const char *label;
    const char *code;           /* exact code (normalised: trimmed, ASCII upper) */
    size_t code_len;
    tsr_regex *match;           /* or a full, case-insensitive pattern */
    const char *match_src;
    tsr_expr *when;
    tsr_validity valid;
    bool has_max_uses_per_customer, has_max_uses;
    int64_t max_uses_per_customer, max_uses;
    bool combinable;            /* default true */
    tsr_srcpos pos;
    bool used;                  /* named by some `requires` or `promo.ID` */
    /* No `when`, `valid`, `channels` nor usage limit: only the codes entered
     * before it can refuse it (set at load with the promo index) */
    bool open;
} tsr_promo;

typedef enum tsr_effect {
    TSR_EFFECT_NONE = 0,
    TSR_EFFECT_PERCENT,         /* value: decimal (scale 6) */
    TSR_EFFECT_AMOUNT,          /* value: money off each unit */
    TSR_EFFECT_PRICE,           /* value: money unit price */
    TSR_EFFECT_ORDER_AMOUNT     /* value: money off the reward lines together */
} tsr_effect;

typedef struct tsr_bundle_part {
    tsr_expr *for_;
    int64_t quantity;
} tsr_bundle_part;

typedef struct tsr_discount {
    const char *id;
    const char *label;
    int64_t priority;           /* default 100 */
    size_t file_index;          /* position in file order (across includes) */
    tsr_expr *when;             /* order level */
    tsr_expr *for_;             /* eligible lines */
    tsr_expr *reward;           /* reward lines; NULL = the eligible lines */
    int requires;               /* promo index, -1 none */
    const char *requires_name;
    /* "requires promo code `ID`, not accepted": formatted at load, since a
     * traced evaluation without the code says it for this discount */
    const char *requires_why;
    tsr_validity valid;
    tsr_effect effect;
    tsr_expr *value;            /* percent (decimal), amount/price/order_amount (money);
                                   a constant unless written as an expression; a
                                   constant percent is within 0..100, a constant
                                   amount or price is >= 0 */
    int64_t every, discounted;  /* 0 = not an every/discounted discount; both or
                                   neither, never with ORDER_AMOUNT */
    tsr_bundle_part *bundle;    /* with effect PRICE: bundle price; nbundle >= 1 */
    size_t nbundle;
    int64_t min_quantity;       /* 0 = none */
    bool has_min_total;
    int64_t min_total;          /* money */
    int64_t max_applications;   /* 0 = unlimited; only with every or bundle */
    bool has_limit;
    int64_t limit_max_amount;   /* money */
    bool exclusive;
    /* `base: original`: percent / amount / price compute on the line's
     * subtotal (price × quantity) instead of its current total; the saving
     * is still taken from the current total.  Never with order_amount or a
     * bundle (refused at load). */
    bool base_original;
    /* `pick: most_expensive`: an `every` discount sorts the units dearest
     * first (ties: the earlier line); only with `every`. */
    bool pick_dearest;
    const char *group;          /* NULL = none */
    int group_index;            /* -1 = none; discounts of one group share it:
                                   index into tsr_ruleset.groups, numbered in
                                   application order of each group's first member */
    /* Decided at load (tsr__discounts_prepare): percent / amount / price on
     * every unit of its `for` lines, with none of group, exclusive, limit,
     * every, bundle, reward, min_quantity, min_total: without a trace it is
     * applied line by line, without the per-line scratch of the general
     * path.  False in a rule set that was not prepared. */
    bool simple;
    /* A constant effect value as the discount step uses it (a percent at
     * scale 10^6, at most 100; money in minor units), judged at load when
     * it is valid (has_quiet_value).  For run_simple, without a trace. */
    bool has_quiet_value;
    /* simple, a percent of the current totals with such a value: the
     * one-pass percent may answer (simple_percent_pass) */
    bool quiet_percent;
    /* How its gates are read without a trace, decided at load (TSR_QGATE_* in
     * discounts.h); for a `when` of one flag, the flag's slot and the steps
     * tsr__eval_test charges for it. */
    uint8_t quiet_gate;
    uint16_t quiet_gate_slot;
    uint32_t quiet_gate_cost;
    int64_t quiet_value;
    tsr_srcpos pos;
} tsr_discount;

/* An earn rule is one of three kinds: `per` + `points` (has_per: `points`
 * for every full `per` paid on the `for` lines), flat `points` (once per
 * order; no `for`), or `multiply` + `rules` (is_multiply; no `for`). */
typedef struct tsr_earn {
    const char *id;
    const char *label;
    tsr_expr *for_;             /* lines (per rules only); NULL = all lines */
    tsr_expr *when;
    tsr_validity valid;
    bool has_per;
    int64_t per;                /* money, > 0 */
    int64_t points;             /* >= 0; per `per`, or flat when !has_per */
    bool is_multiply;
    int64_t multiply;           /* factor (int, >= 0) */
    int *rules;                 /* earn indexes the multiplier applies to (never
                                   another multiply rule), in the order written */
    size_t nrules;
    tsr_srcpos pos;
    /* How earning answers the rule's gate without a trace, decided at load
     * (tsr__plan_build; tsr_earn_gate): a shape answered in the rules' loop
     * with the answer and steps of the general gate, or
     * TSR_EARN_GATE_GENERAL.  gate_slot: the segment, promo code or field
     * slot; gate_cost: the steps the `when` is charged. */
    uint8_t gate;
    uint16_t gate_slot;
    uint32_t gate_cost;
} tsr_earn;

/* tsr_earn.gate.  Every shape but GENERAL is a rule without `valid` and
 * `channels` whose `when`, if any, has no memo slot. */
typedef enum tsr_earn_gate {
    TSR_EARN_GATE_GENERAL = 0,      /* tsr__rule_gate_quiet (a rule set built by hand too) */
    TSR_EARN_GATE_OPEN,             /* no `when`: the rule always applies */
    TSR_EARN_GATE_SEGMENT,          /* when: segment.X */
    TSR_EARN_GATE_PROMO,            /* when: promo.X */
    TSR_EARN_GATE_CUSTOMER_TRUE,    /* when: a bool field of the customer (customer.member) */
    TSR_EARN_GATE_ORDER_TRUE        /* when: a bool field of the order */
} tsr_earn_gate;

typedef enum tsr_earn_on { TSR_EARN_ON_PAID = 0, TSR_EARN_ON_PRICE } tsr_earn_on;

typedef struct tsr_loyalty {
    bool present;
    tsr_expr *member_when;      /* NULL: everyone with customer.id */
    tsr_earn *earn;
    size_t nearn;
    tsr_earn_on on;
    int64_t pending_days;       /* >= 0, default 0 */
    bool has_expire_days;
    int64_t expire_days;        /* >= 1 */
    bool has_redeem;
    int64_t point_value;        /* money per point, > 0 */
    tsr_expr *redeem_for;       /* NULL = all lines */
    int64_t max_percent;        /* decimal (scale 6) within 0..100; 100% when absent */
    int64_t min_points;         /* 0 = none */
    int64_t step;               /* >= 1; 1 = any */
    /* The item slot of `event_start` when the schema declares it a
     * datetime, else -1 (every line's service date is then the order
     * date).  Found at load, so earning does not look it up by name. */
    int event_start_slot;
    tsr_srcpos pos;
} tsr_loyalty;

typedef enum tsr_refund_to { TSR_REFUND_TO_ACCOUNT_CREDIT = 0, TSR_REFUND_TO_ORIGINAL_PAYMENT } tsr_refund_to;

typedef struct tsr_refunds {
    bool present;
    tsr_expr *allowed;          /* NULL = always */
    tsr_expr *fee;              /* money; NULL = 0 */
    tsr_refund_to to;
    bool reprice;
    tsr_srcpos pos;
} tsr_refunds;

/* `taxes:` (step 10): a rate per line, the first whose `for` holds. */
typedef enum tsr_tax_prices { TSR_TAX_INCLUSIVE = 0, TSR_TAX_EXCLUSIVE } tsr_tax_prices;
typedef enum tsr_tax_base { TSR_TAX_BASE_PAID = 0, TSR_TAX_BASE_PRICE } tsr_tax_base;
typedef enum tsr_tax_rounding { TSR_TAX_ROUND_LINE = 0, TSR_TAX_ROUND_RATE } tsr_tax_rounding;

typedef struct tsr_tax_rate {
    const char *id;
    const char *label;          /* NULL if none */
    tsr_expr *for_;             /* NULL = every line */
    int64_t rate;               /* percent as a decimal (scale 10^6): 0 <= rate < 100,
                                   at most 4 fractional digits (25.5 is 25500000) */
    const char *rate_text;      /* as results write it: "25.5", "10", "8.875" */
    tsr_srcpos pos;
} tsr_tax_rate;

typedef struct tsr_taxes {
    bool present;
    tsr_tax_prices prices;
    tsr_tax_base base;
    tsr_tax_rounding rounding;
    tsr_tax_rate *rates;        /* nrates >= 1 when present */
    size_t nrates;
    tsr_srcpos pos;
} tsr_taxes;

typedef struct tsr_offer {
    const char *id;
    const char *label;
    tsr_expr *when;
    const char *message;
    tsr_srcpos pos;
} tsr_offer;

/* An order record's keys (built-in ones first, then the schema's fields) in
 * a small open-addressing table, built at load by tsr__order_keys_build
 * (order_keys.c) for the order readers, which then resolve a key with one
 * hash and one compare instead of a scan of every name: the seed is chosen
 * so that every name has its own slot (a perfect hash) whenever one is
 * found. */
typedef struct tsr_okey_slot {
    uint64_t head[2];           /* the name's first 16 bytes, zero-padded: the JSON
                                   reader compares a key 8 bytes at a time */
    const char *name;           /* NULL: an empty slot */
    const tsr_field *field;     /* the field a key of target X_FIELD names, else NULL */
    uint32_t len;
    uint32_t seen_at;           /* index in the order's seen[] for duplicate keys */
    uint8_t target;             /* what the key's value is (TSR_X_*, order_impl.h) */
} tsr_okey_slot;

typedef struct tsr_okey_index {
    tsr_okey_slot *slots;       /* mask + 1 of them, a power of two */
    uint32_t mask;
    uint32_t seed;              /* of the hash, tsr__okey_hash */
} tsr_okey_index;

/* The home slot of key[0..n) in an index (& mask): a seeded mix of its
 * length and three of its bytes, so no pass over the key. */
static inline uint32_t tsr__okey_hash(const char *key, size_t n, uint32_t seed)
{
    uint32_t h = (seed + (uint32_t)n) * 0x9E3779B1u;
    if (n == 0)
        return h ^ (h >> 16);
    h = (h ^ (unsigned char)key[0]) * 0x85EBCA77u;
    h = (h ^ (unsigned char)key[n / 2]) * 0xC2B2AE3Du;
    h = (h ^ (unsigned char)key[n - 1]) * 0x27D4EB2Fu;
    return h ^ (h >> 16);
}

/* Spare orders a rule set keeps for tsr_evaluate_text: as many threads
 * as this evaluate text at once without allocating. */
#define TSR_SPARE_ORDERS 8

struct tsr_ruleset {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_load_options limits;    /* the options used (for order limits) */

    const char *id;
    const char *version;        /* "" when absent */
    const char *currency;
    unsigned minor_units;
    tsr_rounding rounding;
    const char *timezone;       /* NULL when absent */
    tsr_tz *tz;
    tsr_regex_pool *regexes;

    tsr_record_schema records[TSR_REC__COUNT];
    tsr_table *tables;
    size_t ntables;
    tsr_segment *segments;
    size_t nsegments;
    tsr_tier *tiers;
    size_t ntiers;
    tsr_category *categories;
    size_t ncategories;
    tsr_promo *promos;
    size_t npromos;
    tsr_promo_index *promo_index;   /* built at load (promo_index.c) */
    tsr_discount *discounts;    /* in application order: priority, then file order */
    size_t ndiscounts;
    bool discounts_simple;      /* every discount simple (tsr__discounts_prepare) */
    size_t ngroups;
    tsr_loyalty loyalty;
    tsr_refunds refunds;
    tsr_taxes taxes;
    tsr_offer *offers;
    size_t noffers;
    const char **groups;        /* discount group names, by group_index */
    size_t nmemo;               /* memo slots of line conditions (tsr_expr.memo) */
    uint32_t naggs;             /* aggregate cache slots (tsr_expr.agg_base) */
    tsr_okey_index okeys[TSR_REC__COUNT];   /* order keys by record (order_keys.c) */
    struct tsr_plan *plan;      /* rules by the kinds they test (plan.c), built at load */
    /* Spare orders of tsr_evaluate_text (order_pool.c): TSR_SPARE_ORDERS
     * slots in the arena, the one thing of a loaded rule set that changes,
     * by atomic exchange only; their orders are freed with it.  NULL: none. */
    _Atomic(tsr_order *) *spare_orders;
    /* Its constants as the result JSON writes them (result_json.c, at load). */
    struct tsr_json_consts *json;

    const char **files;         /* every file loaded (the main file first, then
                                   the included ones in the order they were read) */
    size_t nfiles;
};

/* Build rs->promo_index in rs's arena (once, at load, after the model is
 * built).  TSR_OK or TSR_ENOMEM.  (promo_index.c) */
int tsr__promo_index_build(tsr_ruleset *rs);
/* Decide tsr_discount.simple for each discount of rs (discounts.c), once at
 * load, after the model is built. */
void tsr__discounts_prepare(tsr_ruleset *rs);
/* The rule set's pool of spare orders (order_pool.c).  take: a reset order
 * for rs, from the pool or new (TSR_ENOMEM); give: back to the pool, or
 * freed when the pool is full or the order grew large.  Any thread. */
int tsr__ruleset_take_order(const tsr_ruleset *rs, tsr_order **out, tsr_error *err);
void tsr__ruleset_give_order(const tsr_ruleset *rs, tsr_order *order);
/* Make the pool's slots, once at load.  TSR_OK or TSR_ENOMEM.
 * (tsr_ruleset_release_memory frees the pool's orders; tsr_ruleset_free calls it.) */
int tsr__ruleset_pool_init(tsr_ruleset *rs);

/* Prepare rs->json (result_json.c), once at load.  TSR_OK or TSR_ENOMEM. */
int tsr__result_json_prepare(tsr_ruleset *rs);

/* Build rs->okeys in rs's arena from the built-in keys and the schema (once,
 * at load, after the model is built).  TSR_OK or TSR_ENOMEM.  (order_keys.c) */
int tsr__order_keys_build(tsr_ruleset *rs);

/* ---------------------------------------------------------------------
 * Loading.  ruleset.c reads the files and follows `include:`; rules_load.c
 * turns the parsed trees into the model above; rules_validity.c reads
 * `valid:` / `channels:`.
 */

/* One parsed rule file. */
typedef struct tsr_rule_source {
    const char *name;           /* as shown in errors; in the rule set's arena */
    const tsr_ynode *root;      /* its top-level mapping */
    bool is_main;               /* the file the caller named (not included) */
} tsr_rule_source;

/* The errors of a check (tsr_ruleset_check_file; check_report.c): ruleset.c
 * makes it, rules_load.c adds to it while it goes on building after an
 * error. */
struct tsr_check_report {
    tsr_alloc alloc;
    tsr_error *errors;
    size_t n, cap;
    bool truncated;             /* it stopped at TSR_CHECK_MAX_ERRORS */
};

/* Keep a copy of e: TSR_OK, TSR_ENOMEM, or TSR_ELIMIT when the report
 * already holds TSR_CHECK_MAX_ERRORS (then marked truncated): stop. */
int tsr__check_report_add(tsr_check_report *r, const tsr_error *e);

/* The position of `file` in rs->files (the main file 0), rs->nfiles when
 * it is none of them: the rank of a diagnostic's file (tsr_place). */
size_t tsr__file_rank(const tsr_ruleset *rs, const char *file);

/* Build rs's model from srcs[0..n), given in merge order: every file's
 * includes (depth first, in the order listed) before the file itself, so the
 * main file comes last.  List sections concatenate in that order; map
 * sections merge (a name defined twice is an error).  rs->alloc, arena,
 * limits and regexes must be set up; `tzdir` is the load option (NULL: the
 * default).  With `diags` (a check), every error goes there and the build
 * goes on with the next rule; err gets the first.  On error rs holds
 * partial data that tsr_ruleset_free releases. */
int tsr__rules_build(tsr_ruleset *rs, const tsr_rule_source *srcs, size_t n, const char *tzdir,
                     tsr_check_report *diags, tsr_error *err);

/* The options in force for `opts` (NULL: the defaults): the defaults,
 * overridden by the fields the caller's version of the struct has.
 * TSR_EINVAL for an unknown version or a max_depth above
 * TSR_MAX_DEPTH_LIMIT.  (ruleset.c; the test runner uses it too.) */
int tsr__load_options_effective(tsr_load_options *eff, const tsr_load_options *opts,
                                tsr_error *err);

/* Whether the file `path` may be read for `base` (the file that names it:
 * a rule file's `include:`, a test file's `rules:`): after resolving `..`
 * and symbolic links it must lie in the directory of `root` (the main rule
 * file or the test file; without a directory part, the working directory)
 * or below it, or in or below one of the NULL-terminated `allow`
 * directories.  `real` (PATH_MAX bytes) receives the resolved path, which
 * is what to open.  Returns TSR_OK; TSR_EINCLUDE when it lies outside; or
 * TSR_EIO with errno set when the path cannot be resolved (it does not
 * exist).  (ruleset.c) */
int tsr__path_allowed(const char *root, const char *path, const char *const *allow, char *real);

/* Read a rule's `valid:` and `channels:` nodes (either may be NULL) into
 * *out; channel names are copied into `arena`.  `where` names the rule in
 * messages ("discounts.family-pack"), which go to `at`. */
int tsr__validity_load(tsr_validity *out, const tsr_ynode *valid, const tsr_ynode *channels,
                       const tsr_ycheck *at, const char *where, tsr_arena *arena);

#endif /* TSR_RULES_H */
