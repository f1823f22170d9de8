/*
 * rules_load.c — the rule-file model (SPEC §3): turns the YAML trees of a
 * rule file and its includes into struct tsr_ruleset, checking every key,
 * every value and every expression, so that nothing is interpreted from text
 * at evaluation time.
 *
 * Sections are read in dependency order (header, schema, tables, segments,
 * tiers, categories, promo codes, discounts, loyalty, refunds, taxes,
 * offers), each
 * expression compiled with exactly the names its step of SPEC §4 has decided
 * (see rules.h).  Every string kept is copied into the rule set's arena: the
 * YAML text is gone after loading.
 *
 * Decisions where SPEC §3 is silent:
 *   - An included file may hold only `include` and the sections (schema,
 *     tables, segments, tiers, categories, promo_codes, discounts, loyalty,
 *     refunds, offers); the header keys (tessera, ruleset, version, currency,
 *     minor_units, rounding, timezone) belong to the main file, which is
 *     what a rule set's identity and money are.  `loyalty`, `refunds` and
 *     `taxes` may be given by one file only.
 *   - `minor_units` for a currency of the built-in table must agree with it:
 *     a rule set that says JPY has 2 decimals is a mistake, not an override.
 *   - Money constants (min_total, limit.max_amount, per, point_value) must be
 *     exact in the currency: 1.500 is 1.50, 1.505 is an error.
 *   - Schema fields may be declared `list<T>` or `[T]` for a scalar type T.
 *   - Table values: plain true/false are bools, plain YYYY-MM-DD dates,
 *     plain numbers decimals, anything quoted (and plain words) strings; a
 *     plain scalar that looks like a number but is not one Tessera reads
 *     (1e3, 0x10) is an error rather than a string.  An empty table has
 *     element type TSR_T_MISSING (`in` it is always false).
 *   - Earn rules: `for` only on `per` rules (a flat rule is attached to the
 *     order); `multiply` names `per`/flat rules, not other multipliers.
 *   - max_applications only with `every` or `bundle`; `reward` not with
 *     `bundle`; `pick` only with `every`; `base: original` not with
 *     `order_amount` or `bundle` — a key that would be ignored is refused.
 */
#include "keys.h"
#include "rules.h"

#include <limits.h>
#include <stdio.h>

/* ---------------------------------------------------------------------
 * The keys of every mapping of a rule file (keys.h): what check_keys
 * allows, what `tessera schema rules` and docs/reference describe.  A new
 * key goes into its set here, with its description, and is then read below.
 */
#define KEYS(name, ...) static const char *const name[] = { __VA_ARGS__ }

KEYS(rounding_names, "half_up", "half_even", "down");
KEYS(earn_on_names, "paid", "price");
KEYS(refund_to_names, "account_credit", "original_payment");
KEYS(tax_prices_names, "inclusive", "exclusive");
KEYS(tax_base_names, "paid", "price");
KEYS(tax_rounding_names, "line", "rate");
KEYS(effect_keys, "percent", "amount", "price", "order_amount");
KEYS(discount_base_names, "current", "original");
KEYS(pick_names, "cheapest", "most_expensive");
KEYS(type_names, "bool", "int", "decimal", "money", "string", "date", "datetime",
     "list<bool>", "list<int>", "list<decimal>", "list<money>", "list<string>", "list<date>",
     "list<datetime>");

const char *const *const tsr__field_type_names = type_names;
const size_t tsr__nfield_type_names = TSR_ARRAY_LEN(type_names);

#define KEY_LABEL(ex) \
    { "label", TSR_KS_TEXT, 0, .example = ex, \
      .desc = "Text echoed in results and explanations." }
#define KEY_VALID \
    { "valid", TSR_KS_MAP, 0, .sub = &tsr__keys_valid, \
      .example = "{\"from\": \"2026-06-01\", \"until\": \"2026-08-31\", \"weekdays\": [1, 2, 3, 4, 5]}", \
      .desc = "When it applies: local dates, weekdays and hours of `now`." }
#define KEY_CHANNELS \
    { "channels", TSR_KS_TEXT_LIST, TSR_KF_NONEMPTY, .example = "[\"web\", \"app\"]", \
      .desc = "The sales channels (`order.channel`) it applies to." }

static const tsr_key schema_keys[] = {
    { "item", TSR_KS_FIELDS, 0, .example = "{\"height_cm\": \"int\", \"event_start\": \"datetime\"}",
      .desc = "Fields of an order line, read as `item.FIELD`." },
    { "customer", TSR_KS_FIELDS, 0, .example = "{\"visits\": \"int\", \"birthday\": \"date\"}",
      .desc = "Fields of the customer, read as `customer.FIELD`." },
    { "order", TSR_KS_FIELDS, 0, .example = "{\"table_no\": \"int\"}",
      .desc = "Fields of the order itself, read as `order.FIELD`." },
};
static TSR_KEYSET(schema_set, "schema", "Fields orders may carry beyond the built-in ones.",
                  schema_keys);

static const tsr_key tier_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "gold",
      .desc = "The tier's id, unique among tiers: the value of `tier`." },
    { "when", TSR_KS_CONDITION, 0, .dflt = "true", .example = "customer.spend_12m >= 50000.00",
      .desc = "Who is in the tier; without it, everyone who gets this far (a last catch-all tier)." },
    KEY_LABEL("Gold"),
};
static TSR_KEYSET(tier_set, "tier", "A loyalty tier; the first that matches is the customer's.",
                  tier_keys);

static const tsr_key category_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "child",
      .desc = "The category's id, unique among categories: the value of `item.category`." },
    KEY_LABEL("Under 100 cm"),
    { "for", TSR_KS_LINE_CONDITION, 0, .dflt = "true", .example = "item.kind == \"ticket\"",
      .desc = "Which lines may take the category." },
    { "when", TSR_KS_LINE_CONDITION, 0, .dflt = "true",
      .example = "item.height_cm >= 100 and item.height_cm < 130",
      .desc = "What such a line must meet to take it." },
    { "price", TSR_KS_LINE_AMOUNT, 0, .example = "1800.00",
      .desc = "The unit price of a line that takes it; without it, the line keeps the price its order gives." },
    { "selectable", TSR_KS_BOOL, 0, .dflt = "false", .example = "true",
      .desc = "true: an order may name it for a line whose `for` and `when` hold (`items[].category`)." },
    KEY_VALID,
    KEY_CHANNELS,
};
static TSR_KEYSET(category_set, "category",
                  "A ticket category: per line, the first that matches sets the category and price.",
                  category_keys);

static const tsr_key promo_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "doctors",
      .desc = "The promo code's id, unique among promo codes; `promo.ID` tells whether it was accepted." },
    KEY_LABEL("Thank you, doctors"),
    { "code", TSR_KS_TEXT, 0, .example = "SUMMER26",
      .desc = "One exact code, compared trimmed and case-insensitively; give this or `match`." },
    { "match", TSR_KS_TEXT, 0, .example = "^DOC-[0-9]{6}$",
      .desc = "A PCRE2 pattern the whole entered code must match, case-insensitively; give this or `code`." },
    KEY_VALID,
    KEY_CHANNELS,
    { "when", TSR_KS_CONDITION, 0, .dflt = "true", .example = "customer.member",
      .desc = "Who may use the code; otherwise it is rejected as `not_eligible`." },
    { "max_uses_per_customer", TSR_KS_INT, 0, TSR_K_AT_LEAST(0), .example = "1",
      .desc = "How often one customer may use it, against `order.promo_uses[ID]` from the caller." },
    { "max_uses", TSR_KS_INT, 0, TSR_K_AT_LEAST(0), .example = "5000",
      .desc = "How often it may be used in all, against `order.promo_total_uses[ID]` from the caller." },
    { "combinable", TSR_KS_BOOL, 0, .dflt = "true", .example = "false",
      .desc = "false: it is never accepted together with another code." },
};
static TSR_KEYSET(promo_set, "promo_code", "A promo code: which codes it matches and when it is accepted.",
                  promo_keys);

static const tsr_key bundle_keys[] = {
    { "for", TSR_KS_LINE_CONDITION, TSR_KF_REQUIRED, .example = "item.category == \"adult\"",
      .desc = "Which units the component takes." },
    { "quantity", TSR_KS_INT, 0, TSR_K_AT_LEAST(1), .dflt = "1", .example = "2",
      .desc = "How many units of the component one bundle takes." },
};
static TSR_KEYSET(bundle_set, "bundle_part", "One component of a bundle.", bundle_keys);

static const tsr_key limit_keys[] = {
    { "max_amount", TSR_KS_MONEY, TSR_KF_REQUIRED, TSR_K_AT_LEAST(1), .example = "1000.00",
      .desc = "The discount's total saving in one order is at most this." },
};
static TSR_KEYSET(limit_set, "limit", "Caps on a discount's effect in one order.", limit_keys);

static const tsr_key discount_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "family-pack",
      .desc = "The discount's id, unique among discounts." },
    KEY_LABEL("Family ticket 2 + 2"),
    { "priority", TSR_KS_INT, 0, TSR_K_RANGE(INT64_MIN, INT64_MAX), .dflt = "100", .example = "10",
      .desc = "Application order: lower first; equal priorities in file order." },
    { "requires", TSR_KS_TEXT, 0, .example = "doctors",
      .desc = "Applies only when the promo code with this id was accepted." },
    { "for", TSR_KS_LINE_CONDITION, 0, .dflt = "true", .example = "item.kind == \"ticket\"",
      .desc = "The eligible lines." },
    { "reward", TSR_KS_LINE_CONDITION, 0, .example = "item.sku == \"DRINK\"",
      .desc = "The lines that get the effect, when not the eligible lines themselves (a cross-sell)." },
    { "when", TSR_KS_CONDITION, 0, .dflt = "true", .example = "segment.lapsed",
      .desc = "A condition on the order as a whole." },
    KEY_VALID,
    KEY_CHANNELS,
    { "percent", TSR_KS_PERCENT, 0, .example = "10",
      .desc = "Effect: this percent off each reward line's current total." },
    { "amount", TSR_KS_AMOUNT, 0, .example = "50.00",
      .desc = "Effect: this much off each reward unit." },
    { "price", TSR_KS_AMOUNT, 0, .example = "7900.00",
      .desc = "Effect: each reward unit costs this, where that is lower; with `bundle`, one bundle's price." },
    { "order_amount", TSR_KS_AMOUNT, 0, .example = "500.00",
      .desc = "Effect: this much off the reward lines together, shared by largest remainder." },
    { "every", TSR_KS_INT, 0, TSR_K_AT_LEAST(1), .example = "4",
      .desc = "Group size: for every full group of this many eligible units, `discounted` units get the effect." },
    { "discounted", TSR_KS_INT, 0, TSR_K_AT_LEAST(1), .example = "1",
      .desc = "How many reward units per group get the effect, the cheapest first (see `pick`)." },
    { "pick", TSR_KS_ENUM, 0, TSR_K_ENUM(pick_names), .dflt = "cheapest", .example = "most_expensive",
      .desc = "With `every`: the units the groups take and the effect goes to, the cheapest or the most expensive first." },
    { "bundle", TSR_KS_LIST, TSR_KF_NONEMPTY, .sub = &bundle_set,
      .example = "[{\"for\": \"item.category == \\\"adult\\\"\", \"quantity\": 2}, "
                 "{\"for\": \"item.category == \\\"child\\\"\", \"quantity\": 2}]",
      .desc = "Components bought together for the set `price`." },
    { "min_quantity", TSR_KS_INT, 0, TSR_K_AT_LEAST(1), .example = "10",
      .desc = "Threshold: the eligible units must number at least this." },
    { "min_total", TSR_KS_MONEY, 0, TSR_K_AT_LEAST(0), .example = "3000.00",
      .desc = "Threshold: the eligible lines' current total must reach this." },
    { "max_applications", TSR_KS_INT, 0, TSR_K_AT_LEAST(1), .example = "30",
      .desc = "At most this many groups (`every`) or bundles per order." },
    { "limit", TSR_KS_MAP, 0, .sub = &limit_set, .example = "{\"max_amount\": 1000.00}",
      .desc = "Caps on the discount's saving in one order." },
    { "base", TSR_KS_ENUM, 0, TSR_K_ENUM(discount_base_names), .dflt = "current", .example = "original",
      .desc = "What `percent`, `amount` and `price` compute on: the lines' current totals, or their price × quantity before any discount." },
    { "exclusive", TSR_KS_BOOL, 0, .dflt = "false", .example = "true",
      .desc = "true: later discounts do not see the lines this one claimed." },
    { "group", TSR_KS_TEXT, 0, .example = "ticket-offer",
      .desc = "Discounts of one group do not stack: per line, only the largest saving applies." },
};
static TSR_KEYSET(discount_set, "discount", "A discount.", discount_keys);

static const tsr_key earn_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "base",
      .desc = "The earn rule's id, unique among earn rules." },
    KEY_LABEL("5 points per 100.00"),
    { "for", TSR_KS_LINE_CONDITION, 0, .dflt = "true", .example = "item.kind in [\"ticket\", \"fnb\"]",
      .desc = "The eligible lines of a `per` rule (flat and `multiply` rules take none)." },
    { "when", TSR_KS_CONDITION, 0, .dflt = "true", .example = "segment.birthday",
      .desc = "A condition on the order as a whole." },
    KEY_VALID,
    KEY_CHANNELS,
    { "per", TSR_KS_MONEY, 0, TSR_K_AT_LEAST(1), .example = "100.00",
      .desc = "Give `points` for every full `per` paid on the eligible lines together." },
    { "points", TSR_KS_INT, 0, TSR_K_AT_LEAST(0), .example = "5",
      .desc = "Points given: per `per` paid, or once per order when there is no `per` (a flat rule)." },
    { "multiply", TSR_KS_INT, 0, TSR_K_AT_LEAST(0), .example = "2",
      .desc = "Multiply the points of the earn rules listed in `rules` by this." },
    { "rules", TSR_KS_TEXT_LIST, TSR_KF_NONEMPTY, .ids = TSR_KI_EARN, .example = "[\"base\"]",
      .desc = "The earn rules a `multiply` rule multiplies." },
};
static TSR_KEYSET(earn_set, "earn_rule",
                  "An earn rule: points per amount paid, flat points, or a multiplier.", earn_keys);

static const tsr_key redeem_keys[] = {
    { "point_value", TSR_KS_MONEY, TSR_KF_REQUIRED, TSR_K_AT_LEAST(1), .example = "1.00",
      .desc = "The money value of one point." },
    { "for", TSR_KS_LINE_CONDITION, 0, .dflt = "true", .example = "item.kind != \"merch\"",
      .desc = "The lines that may be paid with points." },
    { "max_percent", TSR_KS_DECIMAL, 0, TSR_K_RANGE(0, 100 * TSR_DEC_SCALE), .dflt = "100",
      .example = "50", .desc = "At most this percent of the eligible lines' total after discounts." },
    { "min_points", TSR_KS_INT, 0, TSR_K_AT_LEAST(0), .dflt = "0", .example = "100",
      .desc = "The smallest redemption: below it, nothing is redeemed." },
    { "step", TSR_KS_INT, 0, TSR_K_AT_LEAST(1), .dflt = "1", .example = "10",
      .desc = "Points are redeemed in multiples of this." },
};
static TSR_KEYSET(redeem_set, "redeem", "Paying with points.", redeem_keys);

static const tsr_key loyalty_keys[] = {
    { "member_when", TSR_KS_CONDITION, 0, .dflt = "has(customer.id)", .example = "customer.member",
      .desc = "Who earns and redeems points." },
    { "earn", TSR_KS_LIST, 0, .sub = &earn_set,
      .desc = "Earn rules; the points of all that match add up." },
    { "on", TSR_KS_ENUM, 0, TSR_K_ENUM(earn_on_names), .dflt = "paid", .example = "price",
      .desc = "Earn on what is paid after discounts and redeemed points, or on the price after discounts." },
    { "pending_days", TSR_KS_INT, 0, TSR_K_RANGE(0, INT32_MAX), .dflt = "0", .example = "1",
      .desc = "Earned points become available this many days after the service date." },
    { "expire_days", TSR_KS_INT, 0, TSR_K_RANGE(1, INT32_MAX), .example = "365",
      .desc = "Earned points expire this many days after they become available; without it, never." },
    { "redeem", TSR_KS_MAP, 0, .sub = &redeem_set,
      .example = "{\"point_value\": 1.00, \"max_percent\": 50}",
      .desc = "Paying with points; without it, points cannot be redeemed." },
};
static TSR_KEYSET(loyalty_set, "loyalty", "The loyalty program.", loyalty_keys);

static const tsr_key refund_keys[] = {
    { "allowed", TSR_KS_LINE_CONDITION, 0, .dflt = "true",
      .example = "not item.validated and now <= item.event_start - hours(24)",
      .desc = "Which lines may be refunded; `now` is the time of the refund." },
    { "fee", TSR_KS_LINE_AMOUNT, 0, .dflt = "0", .example = "50.00",
      .desc = "Kept per refunded line, never more than the line cost." },
    { "to", TSR_KS_ENUM, 0, TSR_K_ENUM(refund_to_names), .dflt = "account_credit",
      .example = "original_payment", .desc = "Where the money goes, echoed in the refund." },
    { "reprice", TSR_KS_BOOL, 0, .dflt = "false", .example = "true",
      .desc = "true: the lines kept are priced again, and what they now cost more is withheld." },
};
static TSR_KEYSET(refund_set, "refunds", "The refund policy.", refund_keys);

/* The largest tax rate: below 100 %, with at most 4 decimal places. */
#define TAX_RATE_MAX (100 * TSR_DEC_SCALE - 100)

static const tsr_key tax_rate_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "culture",
      .desc = "The rate's id, unique among tax rates: what results and receipts name." },
    KEY_LABEL("VAT 10 %"),
    { "for", TSR_KS_LINE_CONDITION, 0, .dflt = "true", .example = "item.kind == \"ticket\"",
      .desc = "Which lines take the rate: per line, the first rate whose `for` holds." },
    { "rate", TSR_KS_DECIMAL, TSR_KF_REQUIRED, TSR_K_RANGE(0, TAX_RATE_MAX), .example = "25.5",
      .desc = "The rate in percent: from 0, below 100, with at most 4 decimal places." },
};
static TSR_KEYSET(tax_rate_set, "tax_rate", "A tax rate and the lines that take it.",
                  tax_rate_keys);

static const tsr_key taxes_keys[] = {
    { "prices", TSR_KS_ENUM, 0, TSR_K_ENUM(tax_prices_names), .dflt = "inclusive",
      .example = "exclusive",
      .desc = "Whether prices include the tax (part of each line's total) or exclude it (added on top: `due` grows by it)." },
    { "base", TSR_KS_ENUM, 0, TSR_K_ENUM(tax_base_names), .dflt = "paid", .example = "price",
      .desc = "A line's tax base: what is paid for it (after discounts and redeemed points), or its price after discounts, before redemption." },
    { "rounding", TSR_KS_ENUM, 0, TSR_K_ENUM(tax_rounding_names), .dflt = "line", .example = "rate",
      .desc = "Round each line's tax, or each rate's tax once over the order, shared over its lines by largest remainder." },
    { "rates", TSR_KS_LIST, TSR_KF_REQUIRED | TSR_KF_NONEMPTY, .sub = &tax_rate_set,
      .desc = "The rates: per line the first whose `for` holds; a line no rate takes carries no tax." },
};
static TSR_KEYSET(taxes_set, "taxes", "Tax per line, for fiscal receipts.", taxes_keys);

static const tsr_key offer_keys[] = {
    { "id", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "intermission-upsell",
      .desc = "The offer's id, unique among offers." },
    { "when", TSR_KS_CONDITION, 0, .dflt = "true", .example = "segment.first_timer",
      .desc = "When the offer is listed." },
    { "message", TSR_KS_TEXT, TSR_KF_REQUIRED, .example = "Pre-order refreshments and skip the queue.",
      .desc = "The text for the customer." },
    KEY_LABEL("Intermission"),
};
static TSR_KEYSET(offer_set, "offer", "A message for the customer.", offer_keys);

static const tsr_key rules_keys[] = {
    { "tessera", TSR_KS_INT, TSR_KF_REQUIRED | TSR_KF_MAIN, TSR_K_RANGE(1, 1), .example = "1",
      .desc = "The format version of the rule file: 1." },
    { "ruleset", TSR_KS_TEXT, TSR_KF_REQUIRED | TSR_KF_MAIN, .example = "island-park",
      .desc = "The rule set's id, echoed in every result." },
    { "version", TSR_KS_TEXT, TSR_KF_MAIN, .example = "2026-11-22",
      .desc = "Free text naming this version of the rules, echoed in every result." },
    { "currency", TSR_KS_CURRENCY, TSR_KF_REQUIRED | TSR_KF_MAIN, .example = "RUB",
      .desc = "The ISO 4217 code of the currency of every amount." },
    { "minor_units", TSR_KS_INT, TSR_KF_MAIN, TSR_K_RANGE(0, TSR_MAX_MINOR_UNITS), .example = "2",
      .desc = "Decimal places of the currency: needed for a code the built-in ISO 4217 table lacks." },
    { "rounding", TSR_KS_ENUM, TSR_KF_MAIN, TSR_K_ENUM(rounding_names), .dflt = "half_up",
      .example = "half_even",
      .desc = "How computed amounts are rounded to the minor unit: half away from zero, half to even, or towards zero." },
    { "timezone", TSR_KS_TEXT, TSR_KF_MAIN, .example = "Europe/Moscow",
      .desc = "IANA time zone of local dates, weekdays and hours; without it, each datetime's own offset." },
    { "include", TSR_KS_TEXT_LIST, 0, .example = "[\"segments.yaml\"]",
      .desc = "Rule files to load into this rule set, relative to this file; their sections come first." },
    { "schema", TSR_KS_MAP, 0, .sub = &schema_set,
      .desc = "Fields orders may carry beyond the built-in ones, with their types." },
    { "tables", TSR_KS_TABLES, 0, .example = "{\"holidays\": [\"2026-12-24\", \"2026-12-25\"]}",
      .desc = "Constant lookup tables and lists, read as `tables.NAME`." },
    { "segments", TSR_KS_SEGMENTS, 0, .example = "{\"frequent\": \"customer.visits >= 5\"}",
      .desc = "Named conditions on the customer and the order, read as `segment.NAME`." },
    { "tiers", TSR_KS_LIST, 0, .sub = &tier_set,
      .desc = "Loyalty tiers: the first whose `when` holds is the customer's `tier`." },
    { "categories", TSR_KS_LIST, 0, .sub = &category_set,
      .desc = "Ticket categories: per line, the first that matches sets its category and unit price." },
    { "promo_codes", TSR_KS_LIST, 0, .sub = &promo_set,
      .desc = "The promo codes an order may enter, and when each is accepted." },
    { "discounts", TSR_KS_LIST, 0, .sub = &discount_set,
      .desc = "Discounts, applied by priority, then file order, each on what the earlier ones left." },
    { "loyalty", TSR_KS_MAP, 0, .sub = &loyalty_set,
      .desc = "The loyalty program: who is a member, how points are earned and redeemed." },
    { "refunds", TSR_KS_MAP, 0, .sub = &refund_set,
      .desc = "The refund policy: which lines may be refunded, the fee, where the money goes." },
    { "taxes", TSR_KS_MAP, 0, .sub = &taxes_set,
      .desc = "VAT or sales tax per line: the rates, whether prices include them, how they round." },
    { "offers", TSR_KS_LIST, 0, .sub = &offer_set,
      .desc = "Messages for the customer: every offer whose `when` holds is listed." },
};
TSR_KEYSET(tsr__keys_rules, "rules", "A rule file: the header, then sections, each optional.",
           rules_keys);

static const tsr_type scalar_types[] = { TSR_T_BOOL, TSR_T_INT, TSR_T_DECIMAL, TSR_T_MONEY,
                                         TSR_T_STRING, TSR_T_DATE, TSR_T_DATETIME };

/* Expression scopes (see rules.h).  ORDER_LEVEL: what every step from the
 * discounts on has decided; LINE adds the current line.  Line totals exist
 * once every line is priced: from the promo codes on, never in the
 * categories that set the prices. */
#define SCOPE_SEGMENT   (TSR_ENV_SEGMENTS)      /* limited to the earlier ones */
#define SCOPE_TIER      (TSR_ENV_SEGMENTS)
#define SCOPE_CATEGORY  (TSR_ENV_SEGMENTS | TSR_ENV_TIER | TSR_ENV_ITEMS | TSR_ENV_ITEM)
#define SCOPE_PROMO     (TSR_ENV_SEGMENTS | TSR_ENV_TIER | TSR_ENV_ITEMS | TSR_ENV_LINE_TOTALS)
#define SCOPE_ORDER     (TSR_ENV_SEGMENTS | TSR_ENV_TIER | TSR_ENV_ITEMS | TSR_ENV_PROMO | \
                         TSR_ENV_LINE_TOTALS)
#define SCOPE_LINE      (SCOPE_ORDER | TSR_ENV_ITEM)

/* ---------------------------------------------------------------------
 * Built-in record fields (SPEC §5), in slot order (expr.h), and the names
 * that are built in without a slot (read by the order reader itself).
 */
typedef struct builtin_field {
    const char *name;
    tsr_type type, elem;
} builtin_field;

static const builtin_field order_builtins[] = {
    { "id", TSR_T_STRING, 0 }, { "datetime", TSR_T_DATETIME, 0 }, { "channel", TSR_T_STRING, 0 },
    { "promo_codes", TSR_T_LIST, TSR_T_STRING }, { "redeem_points", TSR_T_INT, 0 },
};
static const builtin_field customer_builtins[] = {
    { "id", TSR_T_STRING, 0 }, { "tags", TSR_T_LIST, TSR_T_STRING },
    { "points_balance", TSR_T_INT, 0 },
};
static const builtin_field item_builtins[] = {
    { "id", TSR_T_STRING, 0 }, { "kind", TSR_T_STRING, 0 }, { "sku", TSR_T_STRING, 0 },
    { "quantity", TSR_T_INT, 0 }, { "price", TSR_T_MONEY, 0 }, { "category", TSR_T_STRING, 0 },
    { "subtotal", TSR_T_MONEY, 0 }, { "total", TSR_T_MONEY, 0 },
};
KEYS(order_reserved, "customer", "items", "promo_uses", "promo_total_uses");
KEYS(customer_reserved, "points_lots");

typedef struct record_def {
    const char *key;                 /* under schema: */
    const builtin_field *builtins;
    size_t nbuiltins;
    const char *const *reserved;
    size_t nreserved;
} record_def;

static const record_def record_defs[TSR_REC__COUNT] = {
    [TSR_REC_ORDER] = { "order", order_builtins, TSR_ARRAY_LEN(order_builtins), order_reserved,
                        TSR_ARRAY_LEN(order_reserved) },
    [TSR_REC_CUSTOMER] = { "customer", customer_builtins, TSR_ARRAY_LEN(customer_builtins),
                           customer_reserved, TSR_ARRAY_LEN(customer_reserved) },
    [TSR_REC_ITEM] = { "item", item_builtins, TSR_ARRAY_LEN(item_builtins), NULL, 0 },
};

/* ---------------------------------------------------------------------
 * The builder and its helpers.
 */

/* One entry of a list section, with where it came from. */
typedef struct entry {
    const tsr_ynode *node;
    const char *file;
    size_t index;                    /* position in its file's list */
} entry;

/* One name of a map section (segments, tables, schema fields). */
typedef struct named {
    const tsr_ynode *key, *value;
    const char *file;
} named;

/* A small open-addressing hash of names to indexes, for duplicate checks and
 * lookups that stay linear however many rules a file has (keyed: ids
 * crafted to collide cannot make a hostile file's load quadratic). */
typedef struct name_index {
    const char **keys;
    int *vals;
    size_t mask;
    tsr_hash_key key;
} name_index;

typedef struct builder {
    tsr_ruleset *rs;
    tsr_arena *ar;                   /* the rule set's */
    tsr_arena tmp;                   /* scratch, freed when the build ends */
    const tsr_rule_source *srcs;
    size_t nsrcs;
    const tsr_rule_source *main;
    tsr_ycheck at;                   /* the file of the node being read, and
                                        where errors go */
    tsr_expr_env env;                /* the parts common to every expression */
    size_t seg_visible;              /* segments an expression may name */
    const char *item_note;           /* why `item` is out of scope, if not the generic */
    const char *tzdir;               /* where time zones are read from (NULL: default) */
    const char **seg_names, **promo_ids, **earn_ids;
    bool *seg_used, *promo_used;
    name_index promo_ix;
    /* Checking (tsr_ruleset_check_*): errors go to `diags` and the build
     * goes on with the next rule; err is then the builder's own. */
    tsr_check_report *diags;
    tsr_error own_err;
    /* Names whose definition failed ("item.height_cm", "tables.zones", or
     * "tables." for all of a section): a failed expression that mentions
     * one is a consequence of that error and is not reported again. */
    const char *poison[64];
    size_t npoison;
    bool suppress;                   /* the failure at hand is such a consequence */
    bool ids_unknown[2];             /* categories, tiers: a misspelt section */
    const char *misspelt[4];         /* required header keys seen misspelt */
    size_t nmisspelt;
} builder;

/* Room for "discounts.<id cut to 64 bytes>…" and a key path after it. */
#define WHERE_MAX 160

/* An error at node n (yaml_tree.h): fail(b, n, code, fmt, ...) returns code. */
#define fail(b, n, ...) tsr__yfail(&(b)->at, (n), __VA_ARGS__)

static int nomem(builder *b)
{
    return tsr__err(b->at.err, TSR_ENOMEM, NULL);
}

/* After a rule (an entry of a list section, a name of a map section, a
 * key) failed with rc: when loading, stop (return rc); when checking, keep
 * the error and return TSR_OK to go on with the next rule, which is how one
 * run reports every error.  A failure that only follows from an earlier
 * one (b->suppress) is not kept.  Running out of memory, or of room in the
 * report, stops the check too. */
static int keep_going(builder *b, int rc)
{
    int added;

    if (rc == TSR_OK || !b->diags || rc == TSR_ENOMEM || rc == TSR_EINVAL)
        return rc;
    if (b->suppress) {
        b->suppress = false;
        tsr__error_clear(b->at.err);
        return TSR_OK;
    }
    added = tsr__check_report_add(b->diags, b->at.err);
    tsr__error_clear(b->at.err);
    if (added == TSR_ENOMEM)
        return nomem(b);
    return added == TSR_OK ? TSR_OK : rc;
}

/* An error the build cannot go on after (the currency, which every amount
 * depends on): kept when checking, and returned. */
static int fatal(builder *b, int rc)
{
    if (rc != TSR_OK && b->diags && rc != TSR_ENOMEM && rc != TSR_EINVAL && !b->suppress &&
        tsr__check_report_add(b->diags, b->at.err) == TSR_ENOMEM)
        return nomem(b);
    return rc;
}

/* Remember that `name` failed to be defined (see builder.poison). */
static void poison(builder *b, const char *name)
{
    if (b->diags && name && b->npoison < TSR_ARRAY_LEN(b->poison))
        b->poison[b->npoison++] = name;
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Does expression text s[0..n) mention a poisoned name? */
static bool mentions_poison(const builder *b, const char *s, size_t n)
{
    size_t i, j;

    for (i = 0; i < b->npoison; i++) {
        const char *name = b->poison[i];
        size_t len = strlen(name);
        bool prefix = len && name[len - 1] == '.';
        for (j = 0; j + len <= n; j++) {
            if (memcmp(s + j, name, len) != 0 || (j > 0 && ident_char(s[j - 1])))
                continue;
            if (prefix ? (j + len < n && ident_char(s[j + len]))
                       : (j + len == n || !ident_char(s[j + len])))
                return true;
        }
    }
    return false;
}

static const tsr_ypair *find_pair(const tsr_ynode *map, const char *key)
{
    size_t i;
    for (i = 0; i < map->u.map.len; i++)
        if (strcmp(map->u.map.pairs[i].key->u.scalar.text, key) == 0)
            return &map->u.map.pairs[i];
    return NULL;
}

/* The value under `key`, or NULL when absent or written as null. */
static const tsr_ynode *get(const tsr_ynode *map, const char *key)
{
    const tsr_ynode *v = tsr__ymap_get(map, key);
    return tsr__yaml_is_null(v) ? NULL : v;
}

static const tsr_ynode *key_node(const tsr_ynode *map, const char *key)
{
    const tsr_ypair *p = find_pair(map, key);
    return p ? p->key : map;
}

/* Every key of `map` must be one of `ks`. */
static int check_keys(builder *b, const tsr_ynode *map, const tsr_keyset *ks, const char *where)
{
    const tsr_ynode *k = tsr__keys_unknown(ks, map);

    if (k && (strcmp(k->u.scalar.text, "valid") == 0 || strcmp(k->u.scalar.text, "channels") == 0))
        return fail(b, k, TSR_ESCHEMA,
                    "`%s` is not allowed in %s; only categories, discounts, promo codes "
                    "and earn rules take it", k->u.scalar.text, where);
    return k ? tsr__ycheck_keys(&b->at, map, where, ks) : TSR_OK;
}

static int index_init(builder *b, name_index *ix, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2) {
        if (cap > SIZE_MAX / 4)
            return nomem(b);
        cap *= 2;
    }
    ix->keys = tsr__arena_calloc(&b->tmp, cap, sizeof *ix->keys);
    ix->vals = tsr__arena_calloc(&b->tmp, cap, sizeof *ix->vals);
    ix->mask = cap - 1;
    tsr__hash_key_init(&ix->key, ix, (uint64_t)cap);
    return ix->keys && ix->vals ? TSR_OK : nomem(b);
}

static size_t index_slot(const name_index *ix, const char *s, size_t n)
{
    size_t i = (size_t)tsr__hash(&ix->key, s, n) & ix->mask;
    while (ix->keys[i] && !(strncmp(ix->keys[i], s, n) == 0 && ix->keys[i][n] == '\0'))
        i = (i + 1) & ix->mask;
    return i;
}

static int index_get(const name_index *ix, const char *s, size_t n)
{
    size_t i = index_slot(ix, s, n);
    return ix->keys[i] ? ix->vals[i] : -1;
}

/* `s` must stay valid as long as the index (arena strings do). The index
 * was sized for every name that will be put. */
static void index_put(name_index *ix, const char *s, size_t n, int val)
{
    size_t i = index_slot(ix, s, n);
    ix->keys[i] = s;
    ix->vals[i] = val;
}

/* Stable sort with scratch from the build's arena (tsr__sort_stable). */
static int sort_stable(builder *b, void *base, size_t n, size_t size,
                       int (*cmp)(const void *, const void *))
{
    return tsr__sort_stable(&b->tmp, base, n, size, cmp) == TSR_OK ? TSR_OK : nomem(b);
}

static char *copy_str(builder *b, const char *s, size_t n)
{
    return tsr__arena_strndup(b->ar, s, n);
}

/* A letter or _ then letters, digits and _: names used inside expressions. */
static bool is_identifier(const char *s, size_t n)
{
    size_t i;
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

/* "line 12" in the file being read, else "other.yaml:12". */
static const char *place(char *buf, size_t size, const builder *b, const tsr_srcpos *pos)
{
    if (strcmp(pos->file, b->at.file) == 0)
        snprintf(buf, size, "line %d", pos->line);
    else
        snprintf(buf, size, "%s:%d", pos->file, pos->line);
    return buf;
}

static tsr_srcpos pos_of(const builder *b, const tsr_ynode *n)
{
    tsr_srcpos p;
    p.file = b->at.file;
    p.line = n->line;
    p.col = n->col;
    return p;
}

/* ---------------------------------------------------------------------
 * Scalars.
 */
static int read_string(builder *b, const tsr_ynode *n, const char *what, const char *where,
                       const char **out)
{
    if (n->kind != TSR_Y_SCALAR || tsr__yaml_is_null(n))
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be a string, not %s", what, where,
                    n->kind == TSR_Y_SCALAR ? "null" : tsr__ykind_name(n));
    *out = copy_str(b, n->u.scalar.text, n->u.scalar.len);
    return *out ? TSR_OK : nomem(b);
}

/* An optional string key. */
static int opt_string(builder *b, const tsr_ynode *map, const char *key, const char *where,
                      const char **out)
{
    const tsr_ynode *n = tsr__ymap_get(map, key);
    *out = NULL;
    return n ? read_string(b, n, key, where, out) : TSR_OK;
}

/* A plain integer within [min, max]. */
static int read_int(builder *b, const tsr_ynode *n, const char *what, const char *where,
                    int64_t min, int64_t max, int64_t *out)
{
    if (!tsr__yaml_is_plain(n) || !tsr__yint(n, out))
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be a whole number", what, where);
    if (*out < min || *out > max) {
        if (max == INT64_MAX)
            return fail(b, n, TSR_EVALUE, "`%s` in %s must be at least %lld, not %s", what,
                        where, (long long)min, n->u.scalar.text);
        return fail(b, n, TSR_EVALUE, "`%s` in %s must be from %lld to %lld, not %s", what,
                    where, (long long)min, (long long)max, n->u.scalar.text);
    }
    return TSR_OK;
}

static bool bool_text(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        *out = false;
    else
        return false;
    return true;
}

static int read_bool(builder *b, const tsr_ynode *n, const char *what, const char *where,
                     bool *out)
{
    if (!tsr__yaml_is_plain(n) || !bool_text(n->u.scalar.text, out))
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be true or false", what, where);
    return TSR_OK;
}

/* One of names[0..n) (an enumeration such as `rounding`); *out is its index. */
static int read_enum(builder *b, const tsr_ynode *n, const char *what, const char *where,
                     const char *const *names, size_t count, int *out)
{
    char hint[96];
    size_t i;

    if (n->kind == TSR_Y_SCALAR)
        for (i = 0; i < count; i++)
            if (strcmp(n->u.scalar.text, names[i]) == 0) {
                *out = (int)i;
                return TSR_OK;
            }
    if (n->kind != TSR_Y_SCALAR)
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be one of %s, ... not %s", what, where,
                    names[0], tsr__ykind_name(n));
    /* nothing near: say what is allowed (every enum here has two or three values) */
    if (!*tsr__suggest(hint, sizeof hint, n->u.scalar.text, n->u.scalar.len, names, count)) {
        size_t len = 0;
        for (i = 0; i < count && len < sizeof hint; i++)
            len += (size_t)snprintf(hint + len, sizeof hint - len, "%s`%s`",
                                    i == 0 ? "; one of " : i + 1 == count ? " or " : ", ",
                                    names[i]);
    }
    return fail(b, n, TSR_ESCHEMA, "unknown %s `%s` in %s%s", what, n->u.scalar.text, where,
                hint);
}

/* A decimal constant (scale 6) within [min, max]: percentages. */
static int read_decimal(builder *b, const tsr_ynode *n, const char *what, const char *where,
                        int64_t min, int64_t max, int64_t *out)
{
    int rc;
    if (n->kind != TSR_Y_SCALAR || tsr__yaml_is_null(n))
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be a number", what, where);
    rc = tsr__parse_fixed(n->u.scalar.text, n->u.scalar.len, TSR_DEC_DIGITS, out);
    if (rc == TSR_EPARSE)
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be a number", what, where);
    if (rc != TSR_OK || *out < min || *out > max) {
        char lo[32], hi[32];
        tsr__format_decimal(lo, min);
        tsr__format_decimal(hi, max);
        return fail(b, n, TSR_EVALUE, "`%s` in %s must be from %s to %s, not %s", what, where,
                    lo, hi, n->u.scalar.text);
    }
    return TSR_OK;
}

/* A money constant, exact in the currency, at least `min` minor units. */
static int read_money(builder *b, const tsr_ynode *n, const char *what, const char *where,
                      int64_t min, int64_t *out)
{
    const tsr_ruleset *rs = b->rs;
    int64_t dec;
    int rc;

    if (n->kind != TSR_Y_SCALAR || tsr__yaml_is_null(n))
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be an amount like 100.00", what, where);
    rc = tsr__parse_fixed(n->u.scalar.text, n->u.scalar.len, TSR_DEC_DIGITS, &dec);
    if (rc == TSR_EPARSE)
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be an amount like 100.00, not `%s`",
                    what, where, n->u.scalar.text);
    if (rc != TSR_OK || tsr__decimal_to_money(dec, rs->minor_units, out) != TSR_OK) {
        const char *dot = strchr(n->u.scalar.text, '.');
        if (dot && strlen(dot + 1) > rs->minor_units)
            return fail(b, n, TSR_EVALUE,
                        "money amount `%s` is more precise than %s allows (%u decimal places)",
                        n->u.scalar.text, rs->currency, rs->minor_units);
        return fail(b, n, TSR_EVALUE, "money amount `%s` is out of range", n->u.scalar.text);
    }
    if (*out < min) {
        char lo[32];
        tsr__format_fixed(lo, min, rs->minor_units);
        return fail(b, n, TSR_EVALUE, "`%s` in %s must be at least %s, not %s", what, where, lo,
                    n->u.scalar.text);
    }
    return TSR_OK;
}

/* The compile environment for an expression of `scope`; `note` (96 bytes)
 * holds the text of env->item_note when it is built here. */
static void make_env(const builder *b, tsr_expr_env *out, unsigned scope, const char *what,
                     char *note)
{
    tsr_expr_env env = b->env;

    env.file = b->at.file;
    env.flags = scope;
    env.nsegments = b->seg_visible;
    if (!(scope & TSR_ENV_ITEM)) {
        /* Why `item` is out of scope, for the compiler's message. */
        if (b->item_note)
            env.item_note = b->item_note;
        else if (strcmp(what, "when") == 0 || strcmp(what, "member_when") == 0)
            env.item_note = "`when` is checked once per order; choose lines with `for`, or "
                            "look at them with any(items, ...)";
        else {
            snprintf(note, 96, "`%s` is computed once per order, not per line", what);
            env.item_note = note;
        }
    }
    *out = env;
}

/* Compile an expression scalar with the names of `scope`. */
static int compile(builder *b, const tsr_ynode *n, tsr_type want, unsigned scope,
                   const char *what, const char *where, tsr_expr **out)
{
    tsr_expr_env env;
    char note[96];
    int rc;

    if (n->kind != TSR_Y_SCALAR)
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s must be an expression, not %s", what, where,
                    tsr__ykind_name(n));
    if (tsr__yaml_is_null(n) || n->u.scalar.len == 0)
        return fail(b, n, TSR_ESCHEMA, "`%s` in %s is empty; it needs an expression", what,
                    where);
    make_env(b, &env, scope, what, note);
    rc = tsr__expr_compile(out, n->u.scalar.text, n->u.scalar.len, want, n, &env, b->ar,
                           b->at.err);
    if (rc != TSR_OK && rc != TSR_ENOMEM && mentions_poison(b, n->u.scalar.text, n->u.scalar.len))
        b->suppress = true;
    return rc;
}

/* An optional expression key: *out stays NULL when it is absent. */
static int opt_expr(builder *b, const tsr_ynode *map, const char *key, tsr_type want,
                    unsigned scope, const char *where, tsr_expr **out)
{
    const tsr_ynode *n = tsr__ymap_get(map, key);
    *out = NULL;
    return n ? compile(b, n, want, scope, key, where, out) : TSR_OK;
}

/* The value of a constant expression as money / a decimal, when it is one. */
static bool const_value(const tsr_expr *e, tsr_type as, unsigned minor, int64_t *out)
{
    if (!e->is_const)
        return false;
    switch (e->constant.type) {
    case TSR_T_MONEY:
        if (as == TSR_T_MONEY) {
            *out = e->constant.u.i;
            return true;
        }
        return tsr__money_to_decimal(e->constant.u.i, minor, out) == TSR_OK;
    case TSR_T_DECIMAL:
        if (as == TSR_T_DECIMAL) {
            *out = e->constant.u.i;
            return true;
        }
        return tsr__decimal_to_money(e->constant.u.i, minor, out) == TSR_OK;
    case TSR_T_INT:
        return tsr__mul(e->constant.u.i, as == TSR_T_DECIMAL ? TSR_DEC_SCALE
                                                             : tsr__pow10(minor), out);
    default:
        return false;
    }
}

/* A constant money expression (a price, an amount, a fee) must not be negative. */
static int check_not_negative(builder *b, const tsr_ynode *n, const tsr_expr *e,
                              const char *what, const char *where)
{
    int64_t v;
    if (const_value(e, TSR_T_MONEY, b->rs->minor_units, &v) && v < 0)
        return fail(b, n, TSR_EVALUE, "`%s` in %s must not be negative", what, where);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Gathering sections across files.
 */

/* The entries of list section `key` of every file, in merge order.  A file
 * whose section is not a list is an error; when checking, the other files'
 * entries are still read. */
static int gather_list(builder *b, const tsr_ynode *const *roots, const char *key,
                       entry **out, size_t *count)
{
    size_t i, j, n = 0;
    entry *e;
    int rc;

    for (i = 0; i < b->nsrcs; i++) {
        const tsr_ynode *v = roots[i] ? get(roots[i], key) : NULL;
        if (!v)
            continue;
        if (v->kind != TSR_Y_SEQ) {
            b->at.file = b->srcs[i].name;
            if ((rc = keep_going(b, fail(b, v, TSR_ESCHEMA, "`%s` must be a list", key))))
                return rc;
            continue;
        }
        n += v->u.seq.len;
    }
    if (n > INT_MAX) {
        b->at.file = b->main->name;
        return fatal(b, fail(b, NULL, TSR_ELIMIT, "too many entries in `%s`", key));
    }
    e = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *e);
    if (!e)
        return nomem(b);
    for (i = 0, n = 0; i < b->nsrcs; i++) {
        const tsr_ynode *v = roots[i] ? get(roots[i], key) : NULL;
        for (j = 0; v && v->kind == TSR_Y_SEQ && j < v->u.seq.len; j++, n++) {
            e[n].node = v->u.seq.items[j];
            e[n].file = b->srcs[i].name;
            e[n].index = j;
        }
    }
    *out = e;
    *count = n;
    return TSR_OK;
}

/* What every list section of rules starts with: its entries (from every
 * file), a zeroed array of `size`-byte rules for them (never empty, so
 * callers can index it), and an index for their ids. */
static int begin_list(builder *b, const tsr_ynode *const *roots, const char *key, size_t size,
                      entry **es, size_t *n, void **rules, name_index *ix)
{
    int rc;

    if ((rc = gather_list(b, roots, key, es, n)) != TSR_OK)
        return rc;
    *rules = tsr__arena_calloc(b->ar, *n ? *n : 1, size);
    if (!*rules || index_init(b, ix, *n) != TSR_OK)
        return nomem(b);
    return TSR_OK;
}

/* Map section `key` of file i (under `sub` when not NULL), or NULL when
 * absent or not a mapping.  `report`: say so when it is not one. */
static int section_map(builder *b, size_t i, const char *key, const char *sub, bool report,
                       const tsr_ynode **out)
{
    const tsr_ynode *v = get(b->srcs[i].root, key);

    *out = NULL;
    if (v && sub) {
        if (v->kind != TSR_Y_MAP)
            return TSR_OK;   /* build_schema says so */
        v = get(v, sub);
    }
    if (!v)
        return TSR_OK;
    if (v->kind == TSR_Y_MAP) {
        *out = v;
        return TSR_OK;
    }
    if (!report)
        return TSR_OK;
    b->at.file = b->srcs[i].name;
    if (sub)
        return keep_going(b, fail(b, v, TSR_ESCHEMA,
                                   "`%s.%s` must be a mapping of field: type", key, sub));
    return keep_going(b, fail(b, v, TSR_ESCHEMA, "`%s` must be a mapping of name: value", key));
}

/* The name: value pairs of map section `key` (under `sub` when not NULL)
 * of every file, in merge order. */
static int gather_map(builder *b, const char *key, const char *sub, named **out, size_t *count)
{
    size_t i, j, n = 0;
    const tsr_ynode *v;
    named *e;
    int rc;

    for (i = 0; i < b->nsrcs; i++) {
        if ((rc = section_map(b, i, key, sub, true, &v)) != TSR_OK)
            return rc;
        if (v)
            n += v->u.map.len;
    }
    if (n > INT_MAX) {
        b->at.file = b->main->name;
        return fatal(b, fail(b, NULL, TSR_ELIMIT, "too many entries in `%s`", key));
    }
    e = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *e);
    if (!e)
        return nomem(b);
    for (i = 0, n = 0; i < b->nsrcs; i++) {
        (void)section_map(b, i, key, sub, false, &v);
        for (j = 0; v && j < v->u.map.len; j++, n++) {
            e[n].key = v->u.map.pairs[j].key;
            e[n].value = v->u.map.pairs[j].value;
            e[n].file = b->srcs[i].name;
        }
    }
    *out = e;
    *count = n;
    return TSR_OK;
}

/* How a rule is named in messages: SECTION.ID (`discounts.family-pack`),
 * the id cut to 64 bytes; "an entry of `SECTION`" when it has no usable id
 * (the message's place points at it). */
static void rule_name(char *where, size_t wsize, const char *section, const tsr_ynode *m)
{
    const tsr_ynode *id = m->kind == TSR_Y_MAP ? tsr__ymap_get(m, "id") : NULL;

    if (id && id->kind == TSR_Y_SCALAR && !tsr__yaml_is_null(id) && id->u.scalar.len > 0)
        snprintf(where, wsize, "%s.%.*s%s", section,
                 (int)tsr__utf8_prefix(id->u.scalar.text, id->u.scalar.len, 64),
                 id->u.scalar.text, id->u.scalar.len > 64 ? "…" : "");
    else
        snprintf(where, wsize, "an entry of `%s`", section);
}

/* Start reading entry `e` of `section`: it must be a mapping of known keys. */
static int begin_entry(builder *b, const entry *e, const char *section, const tsr_keyset *ks,
                       char *where, size_t wsize)
{
    b->at.file = e->file;
    rule_name(where, wsize, section, e->node);
    if (e->node->kind != TSR_Y_MAP)
        return fail(b, e->node, TSR_ESCHEMA, "%s must be a mapping, not %s", where,
                    tsr__ykind_name(e->node));
    return check_keys(b, e->node, ks, where);
}

/* The required `id` of a rule, unique in its section. */
static int read_id(builder *b, const tsr_ynode *map, const char *where, const char *what,
                   name_index *ix, const tsr_srcpos *first_pos, size_t stride, int self,
                   const char **out)
{
    const tsr_ynode *n = tsr__ymap_get(map, "id");
    char at[TSR_ERROR_PATH_MAX + 32];
    int prev;
    int rc;

    if (!n)
        return fail(b, map, TSR_ESCHEMA, "%s needs an `id`", where);
    if ((rc = read_string(b, n, "id", where, out)) != TSR_OK)
        return rc;
    if (n->u.scalar.len == 0)
        return fail(b, n, TSR_ESCHEMA, "the `id` of %s is empty", where);
    prev = index_get(ix, *out, n->u.scalar.len);
    if (prev >= 0) {
        const tsr_srcpos *p = (const tsr_srcpos *)((const char *)first_pos + (size_t)prev * stride);
        return fail(b, n, TSR_ESCHEMA, "duplicate %s id `%s` (first at %s)", what, *out,
                    place(at, sizeof at, b, p));
    }
    index_put(ix, *out, n->u.scalar.len, self);
    return TSR_OK;
}

static int read_validity(builder *b, const tsr_ynode *map, const char *where, tsr_validity *v)
{
    const tsr_ynode *valid = get(map, "valid"), *channels = get(map, "channels");
    int rc;

    rc = tsr__validity_load(v, valid, channels, &b->at, where, b->ar);
    if (rc == TSR_OK && valid) {
        v->line = key_node(map, "valid")->line;
        v->col = key_node(map, "valid")->col;
    }
    return rc;
}

/* ---------------------------------------------------------------------
 * Header: tessera, ruleset, version, currency, minor_units, rounding,
 * timezone.  Main file only.
 */
/* A misspelt section is reported once; what the rules it held define
 * (fields, tables, segments) is then unknown, so the errors of expressions
 * naming them are not reported again (see builder.poison).  Categories
 * and tiers are seen to by collect_ids. */
static void poison_section(builder *b, const char *section)
{
    if (!section)
        return;
    if (strcmp(section, "schema") == 0) {
        poison(b, "item.");
        poison(b, "customer.");
        poison(b, "order.");
    } else if (strcmp(section, "tables") == 0) {
        poison(b, "tables.");
    } else if (strcmp(section, "segments") == 0) {
        poison(b, "segment.");
    } else if (strcmp(section, "promo_codes") == 0) {
        poison(b, "promo.");
    } else if (strcmp(section, "categories") == 0) {
        b->ids_unknown[0] = true;
    } else if (strcmp(section, "tiers") == 0) {
        b->ids_unknown[1] = true;
    } else if (b->nmisspelt < TSR_ARRAY_LEN(b->misspelt)) {
        b->misspelt[b->nmisspelt++] = section;   /* `currancy:`: "missing currency" repeats it */
    }
}

/* Required header key `key` is missing (said already when misspelt). */
static int missing_key(builder *b, const tsr_ynode *root, const char *key, const char *what)
{
    size_t i;
    for (i = 0; i < b->nmisspelt; i++)
        if (b->diags && strcmp(key, b->misspelt[i]) == 0)
            b->suppress = true;
    return fail(b, root, TSR_ESCHEMA, "missing required key `%s` (%s)", key, what);
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every id of list section `key` ("categories", "tiers") in every file,
 * sorted: what a string compared with item.category or tier must be one
 * of (tsr_expr_env.category_ids), known before any expression is compiled
 * (a category's own conditions may name a later one).  *out stays NULL
 * (no such check) when some id cannot be read: that error is reported
 * where the section is read, and every comparison naming the missing id
 * would only repeat it. */
static int collect_ids(builder *b, const tsr_ynode *const *roots, const char *key, bool unknown,
                       const char *const **out, size_t *count)
{
    size_t i, j, n = 0;
    const char **ids = NULL;
    int pass;

    *out = NULL;
    *count = 0;
    if (unknown)
        return TSR_OK;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0, n = 0; i < b->nsrcs; i++) {
            const tsr_ynode *v = get(roots[i], key);
            if (!v)
                continue;
            if (v->kind != TSR_Y_SEQ)
                return TSR_OK;
            for (j = 0; j < v->u.seq.len; j++) {
                const tsr_ynode *m = v->u.seq.items[j];
                const tsr_ynode *id = m->kind == TSR_Y_MAP ? tsr__ymap_get(m, "id") : NULL;
                if (!id || id->kind != TSR_Y_SCALAR || tsr__yaml_is_null(id) || !id->u.scalar.len)
                    return TSR_OK;
                if (pass)
                    ids[n] = id->u.scalar.text;
                n++;
            }
        }
        if (!pass && !(ids = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *ids)))
            return nomem(b);
    }
    if (sort_stable(b, ids, n, sizeof *ids, cmp_id) != TSR_OK)
        return TSR_ENOMEM;
    *out = ids;
    *count = n;
    return TSR_OK;
}

static int check_root_keys(builder *b)
{
    size_t i, j;
    int rc;

    for (i = 0; i < b->nsrcs; i++) {
        const tsr_ynode *root = b->srcs[i].root;
        b->at.file = b->srcs[i].name;
        for (j = 0; j < root->u.map.len; j++) {
            const tsr_ynode *k = root->u.map.pairs[j].key;
            const tsr_key *key = tsr__key_find(&tsr__keys_rules, k->u.scalar.text, k->u.scalar.len);
            const char *near;
            char shown[80];
            if (key && (b->srcs[i].is_main || !(key->flags & TSR_KF_MAIN)))
                continue;
            if (key) {
                rc = fail(b, k, TSR_ESCHEMA,
                          "`%s` belongs in the main rule file, not in an included one",
                          k->u.scalar.text);
            } else {
                near = tsr__keys_closest(&tsr__keys_rules, k->u.scalar.text, k->u.scalar.len);
                poison_section(b, near);
                /* at most 60 bytes of it (see tsr__keys_check) */
                rc = fail(b, k, TSR_ESCHEMA, "unknown %skey `%s`%s%s%s%s",
                          b->srcs[i].is_main ? "top-level " : "",
                          tsr__clip(shown, sizeof shown, k->u.scalar.text, k->u.scalar.len, 60),
                          b->srcs[i].is_main ? "" : " in an included file",
                          near ? "; did you mean `" : "", near ? near : "", near ? "`?" : "");
            }
            if ((rc = keep_going(b, rc)) != TSR_OK)
                return rc;
        }
    }
    return TSR_OK;
}

static int read_format(builder *b, const tsr_ynode *root)
{
    const tsr_ynode *n = tsr__ymap_get(root, "tessera");
    int64_t v;

    if (!n)
        return missing_key(b, root, "tessera", "the format version, `tessera: 1`");
    if (!tsr__yaml_is_plain(n) || !tsr__yint(n, &v))
        return fail(b, n, TSR_ESCHEMA, "`tessera` must be the format version, 1");
    if (v != 1)
        return fail(b, n, TSR_ESCHEMA,
                    "unsupported format version `tessera: %s`; this library reads version 1",
                    n->u.scalar.text);
    return TSR_OK;
}

static int read_currency(builder *b, const tsr_ynode *root)
{
    tsr_ruleset *rs = b->rs;
    const tsr_ynode *n = tsr__ymap_get(root, "currency"), *mu = get(root, "minor_units");
    const char *c;
    int known;
    int64_t units;
    int rc;

    if (!n)
        return missing_key(b, root, "currency", "an ISO 4217 code");
    c = n->kind == TSR_Y_SCALAR ? n->u.scalar.text : "";
    if (n->kind != TSR_Y_SCALAR || n->u.scalar.len != 3 || c[0] < 'A' || c[0] > 'Z' ||
        c[1] < 'A' || c[1] > 'Z' || c[2] < 'A' || c[2] > 'Z')
        return fail(b, n, TSR_ESCHEMA,
                    "currency `%s` is not an ISO 4217 code (three capital letters)", c);
    if (!(rs->currency = copy_str(b, c, 3)))
        return nomem(b);
    known = tsr__currency_minor_units(c);
    if (mu) {
        if ((rc = read_int(b, mu, "minor_units", "the rule file", 0, TSR_MAX_MINOR_UNITS,
                           &units)) != TSR_OK)
            return rc;
        if (known >= 0 && units != known)
            return fail(b, mu, TSR_EVALUE, "`minor_units: %lld` disagrees with %s, which has %d",
                        (long long)units, c, known);
        rs->minor_units = (unsigned)units;
    } else if (known < 0) {
        return fail(b, n, TSR_ESCHEMA,
                    "currency `%s` is not in the built-in table; give its `minor_units`", c);
    } else {
        rs->minor_units = (unsigned)known;
    }
    return TSR_OK;
}

static int read_timezone(builder *b, const tsr_ynode *n)
{
    tsr_ruleset *rs = b->rs;
    char msg[TSR_ERROR_TEXT_MAX];
    int rc;

    if (n->kind != TSR_Y_SCALAR || n->u.scalar.len == 0)
        return fail(b, n, TSR_ESCHEMA, "`timezone` must be an IANA zone name like Europe/Moscow");
    if (!(rs->timezone = copy_str(b, n->u.scalar.text, n->u.scalar.len)))
        return nomem(b);
    rc = tsr__tz_load(&rs->tz, rs->timezone, b->tzdir, &rs->alloc, b->at.err);
    if (rc == TSR_OK || rc == TSR_ENOMEM)
        return rc == TSR_OK ? rc : nomem(b);
    rs->tz = NULL;
    if (rc == TSR_ENAME)
        return fail(b, n, rc, "unknown time zone `%s`", rs->timezone);
    /* Keep the zone reader's words, placed at the key: they name the zone
     * already ("time zone \"X\": not a valid TZif file (...)"). */
    if (b->at.err && b->at.err->message[0])
        snprintf(msg, sizeof msg, "%s", b->at.err->message);
    else
        snprintf(msg, sizeof msg, "time zone `%s`: %s", rs->timezone, tsr_strerror(rc));
    return fail(b, n, rc, "%s", msg);
}

/* Each header key is read on its own (when checking, an error in one does
 * not hide the next), except the currency: every amount depends on it. */
static int read_header(builder *b)
{
    tsr_ruleset *rs = b->rs;
    const tsr_ynode *root = b->main->root, *n;
    int rc, mode = 0;

    b->at.file = b->main->name;
    rs->id = "";
    rs->version = "";
    if ((rc = keep_going(b, read_format(b, root))) != TSR_OK)
        return rc;
    n = tsr__ymap_get(root, "ruleset");
    if (!n)
        rc = missing_key(b, root, "ruleset", "the rule set's id");
    else if ((rc = read_string(b, n, "ruleset", "the rule file", &rs->id)) == TSR_OK && !rs->id[0])
        rc = fail(b, n, TSR_ESCHEMA, "`ruleset` is empty; it names the rule set");
    if ((rc = keep_going(b, rc)) != TSR_OK)
        return rc;
    /* Free text echoed in results: a plain 2026.1 stays "2026.1". */
    if ((n = get(root, "version")) &&
        (rc = keep_going(b, read_string(b, n, "version", "the rule file", &rs->version))))
        return rc;
    if ((rc = read_currency(b, root)) != TSR_OK)
        return fatal(b, rc);
    rs->rounding = TSR_ROUND_HALF_UP;
    if ((n = get(root, "rounding"))) {
        rc = read_enum(b, n, "rounding mode", "the rule file", rounding_names,
                       TSR_ARRAY_LEN(rounding_names), &mode);
        if (rc == TSR_OK)
            rs->rounding = (tsr_rounding)mode;   /* rounding_names is in enum order */
        else if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    if ((n = get(root, "timezone")) && (rc = keep_going(b, read_timezone(b, n))) != TSR_OK)
        return rc;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * schema: fields orders may carry beyond the built-in ones.
 */
static bool scalar_type_named(const char *s, size_t n, tsr_type *out)
{
    size_t i;
    for (i = 0; i < TSR_ARRAY_LEN(scalar_types); i++)
        if (strlen(type_names[i]) == n && memcmp(type_names[i], s, n) == 0) {
            *out = scalar_types[i];
            return true;
        }
    return false;
}

/* `int`, `list<string>` or `[string]`. */
static int read_type(builder *b, const tsr_ynode *n, const char *rec, const char *field,
                     uint8_t *type, uint8_t *elem)
{
    char hint[96];
    tsr_type t;
    const char *s = n->kind == TSR_Y_SCALAR ? n->u.scalar.text : NULL;
    size_t len = s ? n->u.scalar.len : 0;

    *elem = 0;
    if (n->kind == TSR_Y_SEQ && n->u.seq.len == 1 && n->u.seq.items[0]->kind == TSR_Y_SCALAR &&
        scalar_type_named(n->u.seq.items[0]->u.scalar.text, n->u.seq.items[0]->u.scalar.len, &t)) {
        *type = TSR_T_LIST;
        *elem = (uint8_t)t;
        return TSR_OK;
    }
    if (s && scalar_type_named(s, len, &t)) {
        *type = (uint8_t)t;
        return TSR_OK;
    }
    if (s && len > 6 && memcmp(s, "list<", 5) == 0 && s[len - 1] == '>' &&
        scalar_type_named(s + 5, len - 6, &t)) {
        *type = TSR_T_LIST;
        *elem = (uint8_t)t;
        return TSR_OK;
    }
    if (!s)
        return fail(b, n, TSR_ESCHEMA,
                    "the type of `%s.%s` must be a type name like int or list<string>", rec, field);
    return fail(b, n, TSR_ESCHEMA, "unknown type `%s` for `%s.%s`%s", s, rec, field,
                tsr__suggest(hint, sizeof hint, s, len, type_names, TSR_ARRAY_LEN(type_names)));
}

/* One field of the schema: refused ones are left out (and, when checking,
 * poisoned: expressions naming them are not reported again). */
static int schema_field(builder *b, const record_def *def, tsr_record_schema *rec,
                        name_index *ix, const named *fd, const char **files)
{
    const tsr_ynode *k = fd->key;
    const char *name = k->u.scalar.text;
    tsr_field *f = &rec->fields[rec->len];
    int prev, rc;

    b->at.file = fd->file;
    if (!is_identifier(name, k->u.scalar.len))
        return fail(b, k, TSR_ESCHEMA,
                    "field name `%s.%s` must be letters, digits and _ (not starting with a "
                    "digit)", def->key, name);
    prev = index_get(ix, name, k->u.scalar.len);
    if ((prev >= 0 && (size_t)prev < def->nbuiltins) ||
        tsr__in_list(name, k->u.scalar.len, def->reserved, def->nreserved)) {
        rc = fail(b, k, TSR_ESCHEMA,
                  "`%s.%s` is a built-in field; the schema declares only fields beyond "
                  "the built-in ones", def->key, name);
        goto poisoned;
    }
    if (prev >= 0) {
        tsr_srcpos p = { files[prev], rec->fields[prev].line, rec->fields[prev].col };
        char at[TSR_ERROR_PATH_MAX + 32];
        return fail(b, k, TSR_ESCHEMA, "field `%s.%s` is declared twice (first at %s)", def->key,
                    name, place(at, sizeof at, b, &p));
    }
    if ((rc = read_type(b, fd->value, def->key, name, &f->type, &f->elem)) != TSR_OK)
        goto poisoned;
    if (!(f->name = copy_str(b, name, k->u.scalar.len)))
        return nomem(b);
    f->slot = (uint16_t)rec->len;
    f->line = k->line;
    f->col = k->col;
    files[rec->len] = fd->file;
    index_put(ix, f->name, k->u.scalar.len, (int)rec->len);
    rec->len++;
    return TSR_OK;
poisoned:
    if (b->diags) {
        char *q = tsr__arena_alloc(&b->tmp, strlen(def->key) + k->u.scalar.len + 2);
        if (!q)
            return nomem(b);
        snprintf(q, strlen(def->key) + k->u.scalar.len + 2, "%s.%s", def->key, name);
        poison(b, q);
    }
    return rc;
}

static int build_record(builder *b, tsr_record_kind kind)
{
    const record_def *def = &record_defs[kind];
    tsr_record_schema *rec = &b->rs->records[kind];
    named *fs;
    const char **files;
    size_t nf, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = gather_map(b, "schema", def->key, &fs, &nf)) != TSR_OK)
        return rc;
    if (def->nbuiltins + nf > UINT16_MAX) {
        b->at.file = b->main->name;
        return fatal(b, fail(b, NULL, TSR_ELIMIT, "too many fields in `schema.%s`", def->key));
    }
    rec->fields = tsr__arena_calloc(b->ar, def->nbuiltins + nf, sizeof *rec->fields);
    files = tsr__arena_calloc(&b->tmp, def->nbuiltins + nf, sizeof *files);
    if (!rec->fields || !files || index_init(b, &ix, def->nbuiltins + nf) != TSR_OK)
        return nomem(b);
    for (i = 0; i < def->nbuiltins; i++) {
        tsr_field *f = &rec->fields[i];
        f->name = def->builtins[i].name;
        f->type = (uint8_t)def->builtins[i].type;
        f->elem = (uint8_t)def->builtins[i].elem;
        f->slot = (uint16_t)i;
        index_put(&ix, f->name, strlen(f->name), (int)i);
    }
    rec->len = def->nbuiltins;
    for (i = 0; i < nf; i++)
        if ((rc = keep_going(b, schema_field(b, def, rec, &ix, &fs[i], files))) != TSR_OK)
            return rc;
    return TSR_OK;
}

static int build_schema(builder *b)
{
    size_t i;
    int rc, k;

    for (i = 0; i < b->nsrcs; i++) {
        const tsr_ynode *s = get(b->srcs[i].root, "schema");
        if (!s)
            continue;
        b->at.file = b->srcs[i].name;
        if (s->kind != TSR_Y_MAP) {
            poison_section(b, "schema");
            rc = fail(b, s, TSR_ESCHEMA, "`schema` must be a mapping of item, customer, order");
        } else {
            const tsr_ynode *bad = tsr__keys_unknown(&schema_set, s);
            const char *near = bad ? tsr__keys_closest(&schema_set, bad->u.scalar.text,
                                                       bad->u.scalar.len) : NULL;
            /* `itme:` leaves every `item.` field unknown */
            poison(b, !near ? NULL : !strcmp(near, "item") ? "item." :
                      !strcmp(near, "customer") ? "customer." : "order.");
            rc = check_keys(b, s, &schema_set, "schema");
        }
        if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    for (k = 0; k < TSR_REC__COUNT; k++)
        if ((rc = build_record(b, (tsr_record_kind)k)) != TSR_OK)
            return rc;
    for (k = 0; k < TSR_REC__COUNT; k++)
        b->env.records[k] = &b->rs->records[k];
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * tables: constant lists and maps.
 */

/* Does a plain scalar look like a number (so it is not silently a string)? */
static bool looks_numeric(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (*s == '.')
        s++;
    return *s >= '0' && *s <= '9';
}

/* NNNN-NN-NN: meant as a date, whether or not the calendar has it. */
static bool looks_like_date(const char *s, size_t n)
{
    size_t i;
    if (n != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (i = 0; i < n; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

static int table_value(builder *b, const tsr_table *t, const tsr_ynode *n, tsr_value *v)
{
    const char *s = n->kind == TSR_Y_SCALAR ? n->u.scalar.text : NULL;
    size_t len = s ? n->u.scalar.len : 0;
    bool flag;
    int rc;

    memset(v, 0, sizeof *v);
    if (!s)
        return fail(b, n, TSR_ESCHEMA,
                    "table `%s` holds %s; values must be numbers, dates, strings or bools",
                    t->name, tsr__ykind_name(n));
    if (tsr__yaml_is_null(n))
        return fail(b, n, TSR_ESCHEMA, "table `%s` holds a null value", t->name);
    if (len > UINT32_MAX)
        return fail(b, n, TSR_ELIMIT, "a value of table `%s` is too long", t->name);
    if (tsr__yaml_is_plain(n)) {
        if (bool_text(s, &flag)) {
            v->type = TSR_T_BOOL;
            v->u.i = flag;
            return TSR_OK;
        }
        if (tsr__parse_date(s, len, &v->u.i) == TSR_OK) {
            v->type = TSR_T_DATE;
            return TSR_OK;
        }
        rc = tsr__parse_fixed(s, len, TSR_DEC_DIGITS, &v->u.i);
        if (rc == TSR_OK) {
            v->type = TSR_T_DECIMAL;
            return TSR_OK;
        }
        if (rc == TSR_EVALUE)
            return fail(b, n, TSR_EVALUE,
                        "number `%s` in table `%s` has more than 6 decimal places or is out of "
                        "range", s, t->name);
        if (looks_like_date(s, len))
            return fail(b, n, TSR_EVALUE, "invalid date `%s` in table `%s` (expected YYYY-MM-DD)",
                        s, t->name);
        if (looks_numeric(s))
            return fail(b, n, TSR_ESCHEMA,
                        "`%s` in table `%s` is not a number Tessera reads (write 12.50); quote "
                        "it for a string", s, t->name);
    }
    v->type = TSR_T_STRING;
    v->len = (uint32_t)len;
    v->u.s = copy_str(b, s, len);
    return v->u.s ? TSR_OK : nomem(b);
}

/* Every value of one table has one type; decimals exact in the currency
 * make the table usable where money is expected. */
static int table_values(builder *b, tsr_table *t, const tsr_ynode *const *nodes)
{
    size_t i;
    int64_t m;
    int rc;

    t->elem = TSR_T_MISSING;
    t->money_ok = true;
    for (i = 0; i < t->len; i++) {
        if ((rc = table_value(b, t, nodes[i], &t->values[i])) != TSR_OK)
            return rc;
        if (i == 0)
            t->elem = t->values[0].type;
        else if (t->values[i].type != t->elem)
            return fail(b, nodes[i], TSR_ETYPE, "table `%s` mixes %s and %s values", t->name,
                        tsr__type_name((tsr_type)t->elem), tsr__type_name((tsr_type)t->values[i].type));
        if (t->elem == TSR_T_DECIMAL &&
            tsr__decimal_to_money(t->values[i].u.i, b->rs->minor_units, &m) != TSR_OK)
            t->money_ok = false;
    }
    if (t->elem != TSR_T_DECIMAL)
        t->money_ok = false;
    return TSR_OK;
}

typedef struct map_row {
    const char *key;
    uint32_t len;
    const tsr_ynode *node;
} map_row;

static int cmp_rows(const void *a, const void *b)
{
    const map_row *x = a, *y = b;
    int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int load_table(builder *b, tsr_table *t, const named *src)
{
    const tsr_ynode *v = src->value;
    const tsr_ynode **nodes;
    size_t i, n;

    n = v->kind == TSR_Y_SEQ ? v->u.seq.len : v->kind == TSR_Y_MAP ? v->u.map.len : 0;
    if (v->kind == TSR_Y_SCALAR)
        return fail(b, v, TSR_ESCHEMA, "table `%s` must be a list or a mapping", t->name);
    t->len = n;
    t->values = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *t->values);
    nodes = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *nodes);
    if (!t->values || !nodes)
        return nomem(b);
    if (v->kind == TSR_Y_SEQ) {
        for (i = 0; i < n; i++)
            nodes[i] = v->u.seq.items[i];
        return table_values(b, t, nodes);
    }
    /* A map: keys sorted (bytewise) for binary search at evaluation. */
    {
        map_row *rows = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *rows);
        t->is_map = true;
        t->key = TSR_T_STRING;
        t->keys = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *t->keys);
        t->key_lens = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *t->key_lens);
        if (!rows || !t->keys || !t->key_lens)
            return nomem(b);
        for (i = 0; i < n; i++) {
            const tsr_ynode *k = v->u.map.pairs[i].key;
            if (k->u.scalar.len > UINT32_MAX)
                return fail(b, k, TSR_ELIMIT, "a key of table `%s` is too long", t->name);
            rows[i].key = k->u.scalar.text;
            rows[i].len = (uint32_t)k->u.scalar.len;
            rows[i].node = v->u.map.pairs[i].value;
        }
        if (sort_stable(b, rows, n, sizeof *rows, cmp_rows) != TSR_OK)
            return TSR_ENOMEM;
        for (i = 0; i < n; i++) {
            if (!(t->keys[i] = copy_str(b, rows[i].key, rows[i].len)))
                return nomem(b);
            t->key_lens[i] = rows[i].len;
            nodes[i] = rows[i].node;
        }
        return table_values(b, t, nodes);
    }
}

/* Table ts[i]: its name, then its values.  A table whose values fail
 * stays declared (expressions naming it are then not reported again when
 * checking); a refused name or a second definition is left out. */
static int one_table(builder *b, const named *ts, size_t i, name_index *ix, const char **files)
{
    tsr_ruleset *rs = b->rs;
    tsr_table *t = &rs->tables[rs->ntables];
    const tsr_ynode *k = ts[i].key;
    char *q;
    int prev, rc;

    b->at.file = ts[i].file;
    if (!is_identifier(k->u.scalar.text, k->u.scalar.len))
        return fail(b, k, TSR_ESCHEMA,
                    "table name `%s` must be letters, digits and _ (not starting with a "
                    "digit)", k->u.scalar.text);
    if ((prev = index_get(ix, k->u.scalar.text, k->u.scalar.len)) >= 0) {
        char at[TSR_ERROR_PATH_MAX + 32];
        tsr_srcpos p = { files[prev], rs->tables[prev].line, rs->tables[prev].col };
        return fail(b, k, TSR_ESCHEMA, "table `%s` is defined twice (first at %s)",
                    k->u.scalar.text, place(at, sizeof at, b, &p));
    }
    if (!(t->name = copy_str(b, k->u.scalar.text, k->u.scalar.len)))
        return nomem(b);
    t->line = k->line;
    t->col = k->col;
    files[rs->ntables] = ts[i].file;
    index_put(ix, t->name, k->u.scalar.len, (int)rs->ntables);
    rs->ntables++;
    if ((rc = load_table(b, t, &ts[i])) != TSR_OK && rc != TSR_ENOMEM && b->diags) {
        if (!(q = tsr__arena_alloc(&b->tmp, k->u.scalar.len + sizeof "tables.")))
            return nomem(b);
        snprintf(q, k->u.scalar.len + sizeof "tables.", "tables.%s", t->name);
        poison(b, q);
    }
    return rc;
}

static int build_tables(builder *b)
{
    tsr_ruleset *rs = b->rs;
    named *ts;
    const char **files;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = gather_map(b, "tables", NULL, &ts, &n)) != TSR_OK)
        return rc;
    rs->tables = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *rs->tables);
    files = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *files);
    if (!rs->tables || !files || index_init(b, &ix, n) != TSR_OK)
        return nomem(b);
    rs->ntables = 0;
    for (i = 0; i < n; i++)
        if ((rc = keep_going(b, one_table(b, ts, i, &ix, files))) != TSR_OK)
            return rc;
    b->env.tables = rs->tables;
    b->env.ntables = rs->ntables;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * segments: named conditions, each over the segments before it.
 */

/* The identifier that starts at (line, col) of scalar n: what the compiler
 * pointed at.  Its length, 0 when none starts there. */
static size_t name_at(const tsr_ynode *n, int line, int col, const char **name)
{
    const char *s = n->u.scalar.text;
    size_t o, e;

    for (o = 0; o < n->u.scalar.len; o++) {
        int l, c;
        tsr__yaml_scalar_pos(n, o, &l, &c);
        if (l != line || c != col)
            continue;
        for (e = o; e < n->u.scalar.len && (s[e] == '_' || (s[e] >= 'a' && s[e] <= 'z') ||
                                            (s[e] >= 'A' && s[e] <= 'Z') ||
                                            (s[e] >= '0' && s[e] <= '9')); e++)
            ;
        *name = s + o;
        return e - o;
    }
    return 0;
}

/* Segment i failed with an unknown name.  The compiler sees only the
 * segments before i, so naming a later one (or i itself) reads "unknown
 * segment"; when the name it points at is such a segment, say so instead. */
static int explain_later_segment(builder *b, size_t i, const tsr_ynode *n, const name_index *ix)
{
    const tsr_ruleset *rs = b->rs;
    const char *name = NULL;
    char at[TSR_ERROR_PATH_MAX + 32];
    int line, col, j;
    size_t len;

    if (!b->at.err || strcmp(b->at.err->file, b->at.file) != 0)
        return TSR_ENAME;
    line = b->at.err->line;
    col = b->at.err->column;
    if ((len = name_at(n, line, col, &name)) == 0 || (j = index_get(ix, name, len)) < 0 ||
        (size_t)j < i)
        return TSR_ENAME;
    if ((size_t)j == i)
        return tsr__err_at(b->at.err, TSR_ENAME, b->at.file, line, col,
                           "segment `%s` cannot use itself", rs->segments[i].id);
    return tsr__err_at(b->at.err, TSR_ENAME, b->at.file, line, col,
                       "segment `%s` is defined after `%s` (at %s); a segment may only use the "
                       "segments before it", rs->segments[j].id, rs->segments[i].id,
                       place(at, sizeof at, b, &rs->segments[j].pos));
}

/* Segment ss[i]'s name; a refused name or a second definition is left out. */
static int segment_name(builder *b, const named *ss, size_t i, name_index *ix)
{
    tsr_ruleset *rs = b->rs;
    tsr_segment *s = &rs->segments[rs->nsegments];
    const tsr_ynode *k = ss[i].key;
    int prev;

    b->at.file = ss[i].file;
    if (!is_identifier(k->u.scalar.text, k->u.scalar.len))
        return fail(b, k, TSR_ESCHEMA,
                    "segment name `%s` must be letters, digits and _ (not starting with a "
                    "digit)", k->u.scalar.text);
    if ((prev = index_get(ix, k->u.scalar.text, k->u.scalar.len)) >= 0) {
        char at[TSR_ERROR_PATH_MAX + 32];
        return fail(b, k, TSR_ESCHEMA, "segment `%s` is defined twice (first at %s)",
                    k->u.scalar.text, place(at, sizeof at, b, &rs->segments[prev].pos));
    }
    if (!(s->id = copy_str(b, k->u.scalar.text, k->u.scalar.len)))
        return nomem(b);
    s->pos = pos_of(b, k);
    b->seg_names[rs->nsegments] = s->id;
    index_put(ix, s->id, k->u.scalar.len, (int)rs->nsegments);
    rs->nsegments++;
    return TSR_OK;
}

static int build_segments(builder *b)
{
    tsr_ruleset *rs = b->rs;
    named *ss;
    const named **src;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = gather_map(b, "segments", NULL, &ss, &n)) != TSR_OK)
        return rc;
    rs->segments = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *rs->segments);
    b->seg_names = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *b->seg_names);
    b->seg_used = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *b->seg_used);
    src = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *src);
    if (!rs->segments || !b->seg_names || !b->seg_used || !src || index_init(b, &ix, n) != TSR_OK)
        return nomem(b);
    b->env.segments = b->seg_names;
    b->env.segment_used = b->seg_used;
    rs->nsegments = 0;
    for (i = 0; i < n; i++) {
        src[rs->nsegments] = &ss[i];
        if ((rc = keep_going(b, segment_name(b, ss, i, &ix))) != TSR_OK)
            return rc;
    }
    b->item_note = "segments are computed once per order, not per line";
    for (i = 0; i < rs->nsegments; i++) {
        char where[TSR_ERROR_PATH_MAX];
        b->at.file = src[i]->file;
        b->seg_visible = i;     /* only the segments defined before this one */
        snprintf(where, sizeof where, "segment `%s`", rs->segments[i].id);
        rc = compile(b, src[i]->value, TSR_T_BOOL, SCOPE_SEGMENT, "condition", where,
                     &rs->segments[i].when);
        if (rc == TSR_ENAME)
            rc = explain_later_segment(b, i, src[i]->value, &ix);
        if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    b->seg_visible = rs->nsegments;
    b->item_note = NULL;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * tiers: first match wins.
 */
static int read_tier(builder *b, const entry *e, name_index *ix, size_t i)
{
    tsr_ruleset *rs = b->rs;
    tsr_tier *t = &rs->tiers[i];
    const tsr_ynode *m = e->node;
    char where[WHERE_MAX];
    int rc;

    if ((rc = begin_entry(b, e, "tiers", &tier_set, where, sizeof where)) != TSR_OK)
        return rc;
    t->pos = pos_of(b, m);
    if ((rc = read_id(b, m, where, "tier", ix, &rs->tiers[0].pos, sizeof *t, (int)i,
                      &t->id)) != TSR_OK ||
        (rc = opt_string(b, m, "label", where, &t->label)) != TSR_OK)
        return rc;
    return opt_expr(b, m, "when", TSR_T_BOOL, SCOPE_TIER, where, &t->when);
}

static int build_tiers(builder *b, const tsr_ynode *const *roots)
{
    tsr_ruleset *rs = b->rs;
    entry *es;
    void *rules;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = begin_list(b, roots, "tiers", sizeof *rs->tiers, &es, &n, &rules,
                        &ix)) != TSR_OK)
        return rc;
    rs->tiers = rules;
    b->item_note = "tiers are computed once per order, not per line";
    for (i = 0; i < n; i++)
        if ((rc = keep_going(b, read_tier(b, &es[i], &ix, i))) != TSR_OK)
            return rc;
    rs->ntiers = n;
    b->item_note = NULL;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * categories: first match wins, per line.
 */
static int read_category(builder *b, const entry *e, name_index *ix, size_t i)
{
    tsr_ruleset *rs = b->rs;
    tsr_category *c = &rs->categories[i];
    const tsr_ynode *m = e->node, *sel;
    char where[WHERE_MAX];
    int rc;

    if ((rc = begin_entry(b, e, "categories", &category_set, where, sizeof where)) != TSR_OK)
        return rc;
    c->pos = pos_of(b, m);
    if ((rc = read_id(b, m, where, "category", ix, &rs->categories[0].pos, sizeof *c, (int)i,
                      &c->id)) != TSR_OK ||
        (rc = opt_string(b, m, "label", where, &c->label)) != TSR_OK ||
        (rc = opt_expr(b, m, "for", TSR_T_BOOL, SCOPE_CATEGORY, where, &c->for_)) != TSR_OK ||
        (rc = opt_expr(b, m, "when", TSR_T_BOOL, SCOPE_CATEGORY, where, &c->when)) != TSR_OK ||
        (rc = opt_expr(b, m, "price", TSR_T_MONEY, SCOPE_CATEGORY, where, &c->price)) != TSR_OK ||
        (rc = read_validity(b, m, where, &c->valid)) != TSR_OK)
        return rc;
    if (c->price && (rc = check_not_negative(b, get(m, "price"), c->price, "price", where)))
        return rc;
    if ((sel = get(m, "selectable")))
        return read_bool(b, sel, "selectable", where, &c->selectable);
    return TSR_OK;
}

static int build_categories(builder *b, const tsr_ynode *const *roots)
{
    tsr_ruleset *rs = b->rs;
    entry *es;
    void *rules;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = begin_list(b, roots, "categories", sizeof *rs->categories, &es, &n, &rules,
                        &ix)) != TSR_OK)
        return rc;
    rs->categories = rules;
    for (i = 0; i < n; i++)
        if ((rc = keep_going(b, read_category(b, &es[i], &ix, i))) != TSR_OK)
            return rc;
    rs->ncategories = n;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * promo_codes.
 */

/* An exact code, normalised as order codes are (SPEC §4 step 4): trimmed,
 * ASCII letters upper-cased. */
static int promo_code(builder *b, tsr_promo *p, const tsr_ynode *n, const char *where,
                      name_index *codes)
{
    const char *s;
    size_t len, i;
    char *c;
    int prev;

    if (n->kind != TSR_Y_SCALAR || tsr__yaml_is_null(n))
        return fail(b, n, TSR_ESCHEMA, "`code` in %s must be a string", where);
    s = n->u.scalar.text;
    len = n->u.scalar.len;
    while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
                   s[len - 1] == '\r'))
        len--;
    if (len == 0)
        return fail(b, n, TSR_ESCHEMA, "`code` in %s is empty", where);
    if (!(c = copy_str(b, s, len)))
        return nomem(b);
    for (i = 0; i < len; i++)
        if (c[i] >= 'a' && c[i] <= 'z')
            c[i] = (char)(c[i] - 'a' + 'A');
    if ((prev = index_get(codes, c, len)) >= 0)
        return fail(b, n, TSR_ESCHEMA, "code `%s` is already the code of promo code `%s`", c,
                    b->rs->promos[prev].id);
    index_put(codes, c, len, (int)(p - b->rs->promos));
    p->code = c;
    p->code_len = len;
    return TSR_OK;
}

/* A full, case-insensitive PCRE2 pattern, compiled now. */
static int promo_match(builder *b, tsr_promo *p, const tsr_ynode *n, const char *where)
{
    char msg[256];
    size_t off = 0;
    int line, col, rc;

    if (n->kind != TSR_Y_SCALAR || tsr__yaml_is_null(n) || n->u.scalar.len == 0)
        return fail(b, n, TSR_ESCHEMA, "`match` in %s must be a pattern (a string)", where);
    msg[0] = '\0';
    rc = tsr__regex_compile(b->rs->regexes, &p->match, n->u.scalar.text, n->u.scalar.len, true,
                            true, &off, msg, sizeof msg);
    if (rc == TSR_ENOMEM)
        return nomem(b);
    if (rc != TSR_OK) {
        if (off > n->u.scalar.len)
            off = n->u.scalar.len;
        tsr__yaml_scalar_pos(n, off, &line, &col);
        return tsr__err_at(b->at.err, TSR_EPARSE, b->at.file, line, col,
                           "bad pattern in `match` of %s: %s", where, msg[0] ? msg : "invalid");
    }
    if (!(p->match_src = copy_str(b, n->u.scalar.text, n->u.scalar.len)))
        return nomem(b);
    return TSR_OK;
}

static int read_promo(builder *b, tsr_promo *p, const tsr_ynode *m, const char *where,
                      name_index *codes)
{
    const tsr_ynode *code = get(m, "code"), *match = get(m, "match"), *n;
    int rc;

    if (code && match)
        return fail(b, key_node(m, "match"), TSR_ESCHEMA,
                    "%s has both `code` and `match`; give one", where);
    if (!code && !match)
        return fail(b, m, TSR_ESCHEMA,
                    "%s needs `code` (one exact code) or `match` (a pattern)", where);
    if ((rc = code ? promo_code(b, p, code, where, codes) : promo_match(b, p, match, where)))
        return rc;
    if ((rc = opt_string(b, m, "label", where, &p->label)) != TSR_OK ||
        (rc = opt_expr(b, m, "when", TSR_T_BOOL, SCOPE_PROMO, where, &p->when)) != TSR_OK ||
        (rc = read_validity(b, m, where, &p->valid)) != TSR_OK)
        return rc;
    if ((n = get(m, "max_uses_per_customer"))) {
        p->has_max_uses_per_customer = true;
        if ((rc = read_int(b, n, "max_uses_per_customer", where, 0, INT64_MAX,
                           &p->max_uses_per_customer)) != TSR_OK)
            return rc;
    }
    if ((n = get(m, "max_uses"))) {
        p->has_max_uses = true;
        if ((rc = read_int(b, n, "max_uses", where, 0, INT64_MAX, &p->max_uses)) != TSR_OK)
            return rc;
    }
    p->combinable = true;
    if ((n = get(m, "combinable")) && (rc = read_bool(b, n, "combinable", where, &p->combinable)))
        return rc;
    return TSR_OK;
}

static int build_promos(builder *b, const tsr_ynode *const *roots)
{
    tsr_ruleset *rs = b->rs;
    entry *es;
    size_t n, i;
    name_index codes;
    int rc;

    if ((rc = gather_list(b, roots, "promo_codes", &es, &n)) != TSR_OK)
        return rc;
    rs->promos = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *rs->promos);
    b->promo_ids = tsr__arena_calloc(b->ar, n ? n : 1, sizeof *b->promo_ids);
    b->promo_used = tsr__arena_calloc(&b->tmp, n ? n : 1, sizeof *b->promo_used);
    if (!rs->promos || !b->promo_ids || !b->promo_used ||
        index_init(b, &b->promo_ix, n) != TSR_OK || index_init(b, &codes, n) != TSR_OK)
        return nomem(b);
    for (i = 0; i < n; i++) {
        tsr_promo *p = &rs->promos[i];
        char where[WHERE_MAX];

        rc = begin_entry(b, &es[i], "promo_codes", &promo_set, where, sizeof where);
        if (rc == TSR_OK) {
            p->pos = pos_of(b, es[i].node);
            rc = read_id(b, es[i].node, where, "promo code", &b->promo_ix, &rs->promos[0].pos,
                         sizeof *p, (int)i, &p->id);
        }
        if (rc == TSR_OK) {
            /* declared from here on, even if the rest of it fails */
            b->promo_ids[i] = p->id;
            rc = read_promo(b, p, es[i].node, where, &codes);
        }
        if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    rs->npromos = n;
    b->env.promos = b->promo_ids;
    b->env.npromos = n;
    b->env.promo_used = b->promo_used;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * discounts.
 */

/* Exactly one of percent / amount / price / order_amount. */
static int discount_effect(builder *b, tsr_discount *d, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *value = NULL;
    const char *first = NULL;
    size_t i;
    int rc;
    int64_t pct;

    for (i = 0; i < TSR_ARRAY_LEN(effect_keys); i++) {
        const tsr_ynode *n = tsr__ymap_get(m, effect_keys[i]);
        if (!n)
            continue;
        if (first)
            return fail(b, key_node(m, effect_keys[i]), TSR_ESCHEMA,
                        "discount `%s` has two effects, `%s` and `%s`; give exactly one", d->id,
                        first, effect_keys[i]);
        first = effect_keys[i];
        value = n;
        d->effect = (tsr_effect)(TSR_EFFECT_PERCENT + i);   /* effect_keys is in enum order */
    }
    if (!first)
        return fail(b, m, TSR_ESCHEMA,
                    "discount `%s` has no effect; give one of `percent`, `amount`, `price` or "
                    "`order_amount`", d->id);
    rc = compile(b, value, d->effect == TSR_EFFECT_PERCENT ? TSR_T_DECIMAL : TSR_T_MONEY,
                 SCOPE_ORDER, first, where, &d->value);
    if (rc != TSR_OK)
        return rc;
    if (d->effect == TSR_EFFECT_PERCENT) {
        if (const_value(d->value, TSR_T_DECIMAL, b->rs->minor_units, &pct) &&
            (pct < 0 || pct > 100 * TSR_DEC_SCALE))
            return fail(b, value, TSR_EVALUE, "`percent` in %s must be from 0 to 100, not %s",
                        where, value->u.scalar.text);
        return TSR_OK;
    }
    return check_not_negative(b, value, d->value, first, where);
}

static int discount_bundle(builder *b, tsr_discount *d, const tsr_ynode *n, const char *where)
{
    size_t i;
    int rc;

    if (n->kind != TSR_Y_SEQ || n->u.seq.len == 0)
        return fail(b, n, TSR_ESCHEMA,
                    "`bundle` in %s must be a non-empty list of {for, quantity}", where);
    d->bundle = tsr__arena_calloc(b->ar, n->u.seq.len, sizeof *d->bundle);
    if (!d->bundle)
        return nomem(b);
    d->nbundle = n->u.seq.len;
    for (i = 0; i < n->u.seq.len; i++) {
        const tsr_ynode *part = n->u.seq.items[i], *q, *f;
        char pw[WHERE_MAX + 32];

        snprintf(pw, sizeof pw, "%s.bundle[%zu]", where, i);
        if (part->kind != TSR_Y_MAP)
            return fail(b, part, TSR_ESCHEMA, "%s must be a mapping of for, quantity", pw);
        if ((rc = check_keys(b, part, &bundle_set, pw)) != TSR_OK)
            return rc;
        if (!(f = tsr__ymap_get(part, "for")))
            return fail(b, part, TSR_ESCHEMA, "%s needs `for` (which units it takes)", pw);
        if ((rc = compile(b, f, TSR_T_BOOL, SCOPE_LINE, "for", pw, &d->bundle[i].for_)))
            return rc;
        d->bundle[i].quantity = 1;
        if ((q = get(part, "quantity")) &&
            (rc = read_int(b, q, "quantity", pw, 1, INT64_MAX, &d->bundle[i].quantity)))
            return rc;
    }
    return TSR_OK;
}

/* every / discounted / bundle / max_applications and how they fit the effect. */
static int discount_groups(builder *b, tsr_discount *d, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *every = get(m, "every"), *disc = get(m, "discounted");
    const tsr_ynode *bundle = get(m, "bundle"), *n;
    int rc;

    if (every && !disc)
        return fail(b, key_node(m, "every"), TSR_ESCHEMA,
                    "`every` in %s needs `discounted` (how many units of each group get the "
                    "effect)", where);
    if (disc && !every)
        return fail(b, key_node(m, "discounted"), TSR_ESCHEMA,
                    "`discounted` in %s needs `every` (the size of a group)", where);
    if (every && bundle)
        return fail(b, key_node(m, "bundle"), TSR_ESCHEMA,
                    "%s has both `every` and `bundle`; give one", where);
    if (every) {
        if (d->effect == TSR_EFFECT_ORDER_AMOUNT)
            return fail(b, key_node(m, "order_amount"), TSR_ESCHEMA,
                        "`every` in %s works with `percent`, `amount` or `price`, not "
                        "`order_amount`", where);
        if ((rc = read_int(b, every, "every", where, 1, INT64_MAX, &d->every)) ||
            (rc = read_int(b, disc, "discounted", where, 1, INT64_MAX, &d->discounted)))
            return rc;
    }
    if (bundle) {
        if (d->effect != TSR_EFFECT_PRICE)
            return fail(b, key_node(m, "bundle"), TSR_ESCHEMA,
                        "`bundle` in %s needs `price` (what one bundle costs)", where);
        if (tsr__ymap_get(m, "reward"))
            return fail(b, key_node(m, "reward"), TSR_ESCHEMA,
                        "`reward` cannot be used with `bundle` in %s; each part says its units",
                        where);
        if ((rc = discount_bundle(b, d, bundle, where)) != TSR_OK)
            return rc;
    }
    if ((n = get(m, "pick"))) {
        int pick = 0;
        if (!every)
            return fail(b, key_node(m, "pick"), TSR_ESCHEMA,
                        "`pick` in %s needs `every`: only `every` groups choose units%s", where,
                        bundle ? " (a bundle always takes the most expensive first)" : "");
        if ((rc = read_enum(b, n, "`pick` value", where, pick_names,
                            TSR_ARRAY_LEN(pick_names), &pick)) != TSR_OK)
            return rc;
        d->pick_dearest = pick == 1;
    }
    if ((n = get(m, "max_applications"))) {
        if (!every && !bundle)
            return fail(b, key_node(m, "max_applications"), TSR_ESCHEMA,
                        "`max_applications` in %s needs `every` or `bundle`", where);
        if ((rc = read_int(b, n, "max_applications", where, 1, INT64_MAX, &d->max_applications)))
            return rc;
    }
    return TSR_OK;
}

/* The trace sentence of a discount whose required code was not accepted
 * (see check_gates in discounts.c), formatted once here. */
static int discount_requires_why(builder *b, tsr_discount *d)
{
    static const char fmt[] = "requires promo code `%s`, not accepted";
    const char *id = b->rs->promos[d->requires].id;
    int n = snprintf(NULL, 0, fmt, id);
    char *t;

    if (n < 0 || (t = tsr__arena_alloc(b->ar, (size_t)n + 1)) == NULL)
        return nomem(b);
    snprintf(t, (size_t)n + 1, fmt, id);
    d->requires_why = t;
    return TSR_OK;
}

static int discount_requires(builder *b, tsr_discount *d, const tsr_ynode *n, const char *where)
{
    char hint[96];
    int idx;
    int rc;

    d->requires = -1;
    if (!n)
        return TSR_OK;
    if ((rc = read_string(b, n, "requires", where, &d->requires_name)) != TSR_OK)
        return rc;
    idx = index_get(&b->promo_ix, d->requires_name, n->u.scalar.len);
    if (idx < 0 && mentions_poison(b, "promo.x", 7))
        b->suppress = true;   /* `promo_codes` itself is misspelt */
    if (idx < 0)
        return fail(b, n, TSR_ENAME, "`requires` in %s names no promo code `%s`%s", where,
                    d->requires_name,
                    tsr__suggest(hint, sizeof hint, d->requires_name, n->u.scalar.len, b->promo_ids,
                                 b->rs->npromos));
    d->requires = idx;
    b->promo_used[idx] = true;
    return discount_requires_why(b, d);
}

static int discount_limits(builder *b, tsr_discount *d, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *n;
    int rc;

    if ((n = get(m, "min_quantity")) &&
        (rc = read_int(b, n, "min_quantity", where, 1, INT64_MAX, &d->min_quantity)))
        return rc;
    if ((n = get(m, "min_total"))) {
        d->has_min_total = true;
        if ((rc = read_money(b, n, "min_total", where, 0, &d->min_total)) != TSR_OK)
            return rc;
    }
    if ((n = get(m, "limit"))) {
        char lw[WHERE_MAX + 32];
        const tsr_ynode *max;
        snprintf(lw, sizeof lw, "%s.limit", where);
        if (n->kind != TSR_Y_MAP)
            return fail(b, n, TSR_ESCHEMA, "`limit` in %s must be a mapping like "
                        "{ max_amount: 1000.00 }", where);
        if ((rc = check_keys(b, n, &limit_set, lw)) != TSR_OK)
            return rc;
        if (!(max = get(n, "max_amount")))
            return fail(b, n, TSR_ESCHEMA, "%s needs `max_amount`", lw);
        d->has_limit = true;
        if ((rc = read_money(b, max, "max_amount", lw, 1, &d->limit_max_amount)) != TSR_OK)
            return rc;
    }
    return TSR_OK;
}

/* `base`: what percent / amount / price compute on.  `original` would be
 * ignored by order_amount (shared by current totals) and by a bundle (its
 * price replaces what its units cost now), so it is refused there. */
static int discount_base(builder *b, tsr_discount *d, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *n = get(m, "base");
    int base = 0, rc;

    if (!n)
        return TSR_OK;
    if ((rc = read_enum(b, n, "`base` value", where, discount_base_names,
                        TSR_ARRAY_LEN(discount_base_names), &base)) != TSR_OK)
        return rc;
    d->base_original = base == 1;
    if (d->base_original && d->effect == TSR_EFFECT_ORDER_AMOUNT)
        return fail(b, key_node(m, "base"), TSR_ESCHEMA,
                    "`base: original` in %s works with `percent`, `amount` or `price`, not "
                    "`order_amount`", where);
    if (d->base_original && d->nbundle > 0)
        return fail(b, key_node(m, "base"), TSR_ESCHEMA,
                    "`base: original` cannot be used with `bundle` in %s: a bundle's price "
                    "replaces what its units cost", where);
    return TSR_OK;
}

static int read_discount(builder *b, tsr_discount *d, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *n;
    int rc;

    d->priority = 100;
    d->group_index = -1;
    if ((rc = opt_string(b, m, "label", where, &d->label)) != TSR_OK)
        return rc;
    if ((n = get(m, "priority")) &&
        (rc = read_int(b, n, "priority", where, INT64_MIN, INT64_MAX, &d->priority)))
        return rc;
    if ((rc = discount_requires(b, d, get(m, "requires"), where)) != TSR_OK ||
        (rc = opt_expr(b, m, "when", TSR_T_BOOL, SCOPE_ORDER, where, &d->when)) != TSR_OK ||
        (rc = opt_expr(b, m, "for", TSR_T_BOOL, SCOPE_LINE, where, &d->for_)) != TSR_OK ||
        (rc = opt_expr(b, m, "reward", TSR_T_BOOL, SCOPE_LINE, where, &d->reward)) != TSR_OK ||
        (rc = read_validity(b, m, where, &d->valid)) != TSR_OK ||
        (rc = discount_effect(b, d, m, where)) != TSR_OK ||
        (rc = discount_groups(b, d, m, where)) != TSR_OK ||
        (rc = discount_base(b, d, m, where)) != TSR_OK ||
        (rc = discount_limits(b, d, m, where)) != TSR_OK)
        return rc;
    if ((n = get(m, "exclusive")) && (rc = read_bool(b, n, "exclusive", where, &d->exclusive)))
        return rc;
    if ((n = get(m, "group"))) {
        if ((rc = read_string(b, n, "group", where, &d->group)) != TSR_OK)
            return rc;
        if (!d->group[0])
            return fail(b, n, TSR_ESCHEMA, "`group` in %s is empty", where);
    }
    return TSR_OK;
}

static int cmp_discounts(const void *a, const void *b)
{
    const tsr_discount *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    return x->file_index < y->file_index ? -1 : x->file_index > y->file_index;
}

/* Number the groups in application order of their first member. */
static int index_groups(builder *b)
{
    tsr_ruleset *rs = b->rs;
    name_index ix = { 0 };
    size_t i;

    rs->groups = tsr__arena_calloc(b->ar, rs->ndiscounts ? rs->ndiscounts : 1,
                                   sizeof *rs->groups);
    if (!rs->groups || index_init(b, &ix, rs->ndiscounts) != TSR_OK)
        return nomem(b);
    for (i = 0; i < rs->ndiscounts; i++) {
        tsr_discount *d = &rs->discounts[i];
        size_t len;
        if (!d->group)
            continue;
        len = strlen(d->group);
        d->group_index = index_get(&ix, d->group, len);
        if (d->group_index < 0) {
            d->group_index = (int)rs->ngroups;
            rs->groups[rs->ngroups++] = d->group;
            index_put(&ix, d->group, len, d->group_index);
        }
    }
    return TSR_OK;
}

static int build_discounts(builder *b, const tsr_ynode *const *roots)
{
    tsr_ruleset *rs = b->rs;
    entry *es;
    void *rules;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = begin_list(b, roots, "discounts", sizeof *rs->discounts, &es, &n, &rules,
                        &ix)) != TSR_OK)
        return rc;
    rs->discounts = rules;
    for (i = 0; i < n; i++) {
        tsr_discount *d = &rs->discounts[i];
        char where[WHERE_MAX];

        d->file_index = i;
        rc = begin_entry(b, &es[i], "discounts", &discount_set, where, sizeof where);
        if (rc == TSR_OK) {
            d->pos = pos_of(b, es[i].node);
            rc = read_id(b, es[i].node, where, "discount", &ix, &rs->discounts[0].pos,
                         sizeof *d, (int)i, &d->id);
        }
        if (rc == TSR_OK)
            rc = read_discount(b, d, es[i].node, where);
        if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    rs->ndiscounts = n;
    /* Application order: priority, then file order. */
    if ((rc = sort_stable(b, rs->discounts, n, sizeof *rs->discounts, cmp_discounts)) != TSR_OK)
        return rc;
    return index_groups(b);
}

/* ---------------------------------------------------------------------
 * loyalty.
 */
static int earn_kind(builder *b, tsr_earn *e, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *per = get(m, "per"), *points = get(m, "points");
    const tsr_ynode *mul = get(m, "multiply"), *rules = get(m, "rules");
    int rc;

    if (mul) {
        if (points || per)
            return fail(b, key_node(m, points ? "points" : "per"), TSR_ESCHEMA,
                        "earn rule `%s` has both `multiply` and `%s`; a multiplier gives no "
                        "points of its own", e->id, points ? "points" : "per");
        if (!rules)
            return fail(b, key_node(m, "multiply"), TSR_ESCHEMA,
                        "`multiply` in %s needs `rules` (the earn rules it multiplies)", where);
        e->is_multiply = true;
        return read_int(b, mul, "multiply", where, 0, INT64_MAX, &e->multiply);
    }
    if (rules)
        return fail(b, key_node(m, "rules"), TSR_ESCHEMA, "`rules` in %s needs `multiply`",
                    where);
    if (!points)
        return fail(b, per ? key_node(m, "per") : m, TSR_ESCHEMA,
                    "earn rule `%s` needs `points` (with `per` for points per amount paid) or "
                    "`multiply`", e->id);
    if ((rc = read_int(b, points, "points", where, 0, INT64_MAX, &e->points)) != TSR_OK)
        return rc;
    if (per) {
        e->has_per = true;
        return read_money(b, per, "per", where, 1, &e->per);
    }
    return TSR_OK;
}

static int read_earn(builder *b, tsr_earn *e, const tsr_ynode *m, const char *where)
{
    int rc;

    if ((rc = opt_string(b, m, "label", where, &e->label)) != TSR_OK ||
        (rc = earn_kind(b, e, m, where)) != TSR_OK ||
        (rc = opt_expr(b, m, "when", TSR_T_BOOL, SCOPE_ORDER, where, &e->when)) != TSR_OK ||
        (rc = read_validity(b, m, where, &e->valid)) != TSR_OK)
        return rc;
    if (tsr__ymap_get(m, "for") && !e->has_per)
        return fail(b, key_node(m, "for"), TSR_ESCHEMA,
                    "`for` in %s applies only to `per` rules; a %s rule counts once per order "
                    "(use `when` with any(items, ...))", where,
                    e->is_multiply ? "multiply" : "flat");
    return opt_expr(b, m, "for", TSR_T_BOOL, SCOPE_LINE, where, &e->for_);
}

/* `rules:` of multiplier e (entry es), once every earn rule is known. */
static int resolve_one_multiply(builder *b, tsr_loyalty *l, tsr_earn *e, const entry *es,
                                name_index *ix)
{
    const tsr_ynode *rules;
    char hint[96], where[WHERE_MAX];
    size_t j;

    b->at.file = es->file;
    rule_name(where, sizeof where, "loyalty.earn", es->node);
    rules = get(es->node, "rules");
    if (rules->kind != TSR_Y_SEQ || rules->u.seq.len == 0)
        return fail(b, rules, TSR_ESCHEMA,
                    "`rules` in %s must be a non-empty list of earn rule ids", where);
    e->rules = tsr__arena_calloc(b->ar, rules->u.seq.len, sizeof *e->rules);
    if (!e->rules)
        return nomem(b);
    e->nrules = rules->u.seq.len;
    for (j = 0; j < rules->u.seq.len; j++) {
        const tsr_ynode *r = rules->u.seq.items[j];
        int idx = r->kind == TSR_Y_SCALAR ? index_get(ix, r->u.scalar.text, r->u.scalar.len) : -1;
        if (r->kind != TSR_Y_SCALAR)
            return fail(b, r, TSR_ESCHEMA, "`rules` in %s must list earn rule ids", where);
        if (idx < 0)
            return fail(b, r, TSR_ENAME, "`rules` of earn rule `%s` names no earn rule `%s`%s",
                        e->id, r->u.scalar.text,
                        tsr__suggest(hint, sizeof hint, r->u.scalar.text, r->u.scalar.len,
                                     b->earn_ids, l->nearn));
        if (l->earn[idx].is_multiply)
            return fail(b, r, TSR_ESCHEMA,
                        "`rules` of earn rule `%s` names `%s`, which is a multiplier itself",
                        e->id, r->u.scalar.text);
        e->rules[j] = idx;
    }
    return TSR_OK;
}

static int read_earn_entry(builder *b, tsr_loyalty *l, const entry *e, name_index *ix,
                           size_t i)
{
    tsr_earn *r = &l->earn[i];
    char where[WHERE_MAX];
    int rc;

    if ((rc = begin_entry(b, e, "loyalty.earn", &earn_set, where, sizeof where)) != TSR_OK)
        return rc;
    r->pos = pos_of(b, e->node);
    if ((rc = read_id(b, e->node, where, "earn rule", ix, &l->earn[0].pos, sizeof *r, (int)i,
                      &r->id)) != TSR_OK)
        return rc;
    b->earn_ids[i] = r->id;   /* declared from here on, even if the rest of it fails */
    return read_earn(b, r, e->node, where);
}

static int build_earn(builder *b, tsr_loyalty *l, const tsr_ynode *earn, const char *file)
{
    entry *es;
    name_index ix = { 0 };
    bool *ok;
    size_t i;
    int rc;

    if (earn->kind != TSR_Y_SEQ)
        return fail(b, earn, TSR_ESCHEMA, "`loyalty.earn` must be a list");
    es = tsr__arena_calloc(&b->tmp, earn->u.seq.len ? earn->u.seq.len : 1, sizeof *es);
    ok = tsr__arena_calloc(&b->tmp, earn->u.seq.len ? earn->u.seq.len : 1, sizeof *ok);
    if (!es || !ok)
        return nomem(b);
    for (i = 0; i < earn->u.seq.len; i++) {
        es[i].node = earn->u.seq.items[i];
        es[i].file = file;
        es[i].index = i;
    }
    l->nearn = earn->u.seq.len;
    l->earn = tsr__arena_calloc(b->ar, l->nearn ? l->nearn : 1, sizeof *l->earn);
    b->earn_ids = tsr__arena_calloc(&b->tmp, l->nearn ? l->nearn : 1, sizeof *b->earn_ids);
    if (!l->earn || !b->earn_ids || index_init(b, &ix, l->nearn) != TSR_OK)
        return nomem(b);
    for (i = 0; i < l->nearn; i++) {
        rc = read_earn_entry(b, l, &es[i], &ix, i);
        ok[i] = rc == TSR_OK;
        if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    for (i = 0; i < l->nearn; i++)
        if (ok[i] && l->earn[i].is_multiply &&
            (rc = keep_going(b, resolve_one_multiply(b, l, &l->earn[i], &es[i], &ix))) != TSR_OK)
            return rc;
    return TSR_OK;
}

static int build_redeem(builder *b, tsr_loyalty *l, const tsr_ynode *r)
{
    const char *where = "loyalty.redeem";
    const tsr_ynode *n;
    int rc;

    if (r->kind != TSR_Y_MAP)
        return fail(b, r, TSR_ESCHEMA, "`loyalty.redeem` must be a mapping");
    if ((rc = check_keys(b, r, &redeem_set, where)) != TSR_OK)
        return rc;
    if (!(n = get(r, "point_value")))
        return fail(b, r, TSR_ESCHEMA, "`loyalty.redeem` needs `point_value` (the money value "
                    "of one point)");
    l->has_redeem = true;
    l->max_percent = 100 * TSR_DEC_SCALE;
    l->step = 1;
    if ((rc = read_money(b, n, "point_value", where, 1, &l->point_value)) != TSR_OK ||
        (rc = opt_expr(b, r, "for", TSR_T_BOOL, SCOPE_LINE, where, &l->redeem_for)) != TSR_OK)
        return rc;
    if ((n = get(r, "max_percent")) &&
        (rc = read_decimal(b, n, "max_percent", where, 0, 100 * TSR_DEC_SCALE, &l->max_percent)))
        return rc;
    if ((n = get(r, "min_points")) &&
        (rc = read_int(b, n, "min_points", where, 0, INT64_MAX, &l->min_points)))
        return rc;
    if ((n = get(r, "step")) && (rc = read_int(b, n, "step", where, 1, INT64_MAX, &l->step)))
        return rc;
    return TSR_OK;
}

/* The one file that defines singleton section `key` (loyalty, refunds). */
static int singleton(builder *b, const char *key, const tsr_ynode **out, const char **file)
{
    size_t i;

    *out = NULL;
    for (i = 0; i < b->nsrcs; i++) {
        const tsr_ynode *v = get(b->srcs[i].root, key);
        if (!v)
            continue;
        if (*out) {
            int rc;
            b->at.file = b->srcs[i].name;
            rc = fail(b, key_node(b->srcs[i].root, key), TSR_ESCHEMA,
                      "`%s` is already given in %s; a rule set has one", key, *file);
            if ((rc = keep_going(b, rc)) != TSR_OK)
                return rc;
            continue;   /* checking: the first one is read */
        }
        *out = v;
        *file = b->srcs[i].name;
    }
    if (*out && (*out)->kind != TSR_Y_MAP) {
        const tsr_ynode *v = *out;
        b->at.file = *file;
        *out = NULL;
        return keep_going(b, fail(b, v, TSR_ESCHEMA, "`%s` must be a mapping", key));
    }
    if (*out)
        b->at.file = *file;
    return TSR_OK;
}

/* The item slot of `event_start` when the schema declares it a datetime,
 * else -1: then every line's service date is the order date. */
static int event_start_slot(const tsr_ruleset *rs)
{
    const tsr_record_schema *s = &rs->records[TSR_REC_ITEM];
    size_t i;

    for (i = 0; i < s->len; i++)
        if (strcmp(s->fields[i].name, "event_start") == 0)
            return s->fields[i].type == TSR_T_DATETIME ? (int)s->fields[i].slot : -1;
    return -1;
}

static int build_loyalty(builder *b)
{
    tsr_loyalty *l = &b->rs->loyalty;
    const tsr_ynode *m, *n;
    const char *file = NULL, *where = "loyalty";
    int rc, on = 0;

    l->event_start_slot = event_start_slot(b->rs);   /* the schema is built */
    if ((rc = singleton(b, "loyalty", &m, &file)) != TSR_OK || !m)
        return rc;
    l->present = true;
    l->pos = pos_of(b, m);
    /* each key on its own: an error in one does not hide the next */
    if ((rc = keep_going(b, check_keys(b, m, &loyalty_set, where))) != TSR_OK ||
        (rc = keep_going(b, opt_expr(b, m, "member_when", TSR_T_BOOL, SCOPE_ORDER, where,
                                     &l->member_when))) != TSR_OK)
        return rc;
    if ((n = get(m, "on"))) {
        rc = read_enum(b, n, "`on` value", where, earn_on_names, TSR_ARRAY_LEN(earn_on_names),
                       &on);
        l->on = (tsr_earn_on)on;
        if ((rc = keep_going(b, rc)) != TSR_OK)
            return rc;
    }
    if ((n = get(m, "pending_days")) &&
        (rc = keep_going(b, read_int(b, n, "pending_days", where, 0, INT32_MAX,
                                     &l->pending_days))) != TSR_OK)
        return rc;
    if ((n = get(m, "expire_days"))) {
        l->has_expire_days = true;
        if ((rc = keep_going(b, read_int(b, n, "expire_days", where, 1, INT32_MAX,
                                         &l->expire_days))) != TSR_OK)
            return rc;
    }
    if ((n = get(m, "redeem")) && (rc = keep_going(b, build_redeem(b, l, n))) != TSR_OK)
        return rc;
    b->at.file = file;
    if ((n = get(m, "earn")) && (rc = keep_going(b, build_earn(b, l, n, file))) != TSR_OK)
        return rc;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * refunds.
 */
static int read_refunds(builder *b, tsr_refunds *r, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *n;
    int rc, to = 0;

    r->present = true;
    r->pos = pos_of(b, m);
    if ((rc = check_keys(b, m, &refund_set, where)) != TSR_OK ||
        (rc = opt_expr(b, m, "allowed", TSR_T_BOOL, SCOPE_LINE, where, &r->allowed)) != TSR_OK ||
        (rc = opt_expr(b, m, "fee", TSR_T_MONEY, SCOPE_LINE, where, &r->fee)) != TSR_OK)
        return rc;
    if (r->fee && (rc = check_not_negative(b, get(m, "fee"), r->fee, "fee", where)) != TSR_OK)
        return rc;
    if ((n = get(m, "to"))) {
        if ((rc = read_enum(b, n, "refund destination", where, refund_to_names,
                            TSR_ARRAY_LEN(refund_to_names), &to)) != TSR_OK)
            return rc;
        r->to = (tsr_refund_to)to;
    }
    if ((n = get(m, "reprice")) && (rc = read_bool(b, n, "reprice", where, &r->reprice)))
        return rc;
    return TSR_OK;
}

static int build_refunds(builder *b)
{
    tsr_refunds *r = &b->rs->refunds;
    const tsr_ynode *m;
    const char *file = NULL, *where = "refunds";
    int rc;

    if ((rc = singleton(b, "refunds", &m, &file)) != TSR_OK || !m)
        return rc;
    return keep_going(b, read_refunds(b, r, m, where));
}

/* ---------------------------------------------------------------------
 * taxes.
 */
static int read_tax_rate(builder *b, const entry *e, name_index *ix, size_t i)
{
    tsr_ruleset *rs = b->rs;
    tsr_tax_rate *t = &rs->taxes.rates[i];
    const tsr_ynode *m = e->node, *n;
    char where[WHERE_MAX], text[32];
    int rc;

    /* named as the trace names it: taxes.ID */
    if ((rc = begin_entry(b, e, "taxes", &tax_rate_set, where, sizeof where)) != TSR_OK)
        return rc;
    t->pos = pos_of(b, m);
    if ((rc = read_id(b, m, where, "tax rate", ix, &rs->taxes.rates[0].pos, sizeof *t, (int)i,
                      &t->id)) != TSR_OK ||
        (rc = opt_string(b, m, "label", where, &t->label)) != TSR_OK ||
        (rc = opt_expr(b, m, "for", TSR_T_BOOL, SCOPE_LINE, where, &t->for_)) != TSR_OK)
        return rc;
    if (!(n = get(m, "rate")))
        return fail(b, m, TSR_ESCHEMA, "%s needs a `rate` (in percent, such as 10 or 25.5)",
                    where);
    if (n->kind != TSR_Y_SCALAR || tsr__parse_fixed(n->u.scalar.text, n->u.scalar.len,
                                                    TSR_DEC_DIGITS, &t->rate) != TSR_OK ||
        t->rate < 0 || t->rate > TAX_RATE_MAX || t->rate % 100 != 0)
        return fail(b, n, n->kind == TSR_Y_SCALAR ? TSR_EVALUE : TSR_ESCHEMA,
                    "`rate` in %s must be a percentage from 0 to below 100 with at most 4 "
                    "decimal places (such as 10 or 25.5), not %s", where,
                    n->kind == TSR_Y_SCALAR ? n->u.scalar.text : tsr__ykind_name(n));
    tsr__format_decimal(text, t->rate);
    t->rate_text = copy_str(b, text, strlen(text));
    return t->rate_text ? TSR_OK : nomem(b);
}

static int read_taxes(builder *b, tsr_taxes *t, const tsr_ynode *m, const char *where)
{
    const tsr_ynode *n;
    int rc, v;

    t->pos = pos_of(b, m);
    if ((rc = check_keys(b, m, &taxes_set, where)) != TSR_OK)
        return rc;
    if ((n = get(m, "prices"))) {
        if ((rc = read_enum(b, n, "`prices` value", where, tax_prices_names,
                            TSR_ARRAY_LEN(tax_prices_names), &v)) != TSR_OK)
            return rc;
        t->prices = (tsr_tax_prices)v;
    }
    if ((n = get(m, "base"))) {
        if ((rc = read_enum(b, n, "`base` value", where, tax_base_names,
                            TSR_ARRAY_LEN(tax_base_names), &v)) != TSR_OK)
            return rc;
        t->base = (tsr_tax_base)v;
    }
    if ((n = get(m, "rounding"))) {
        if ((rc = read_enum(b, n, "`rounding` value", where, tax_rounding_names,
                            TSR_ARRAY_LEN(tax_rounding_names), &v)) != TSR_OK)
            return rc;
        t->rounding = (tsr_tax_rounding)v;
    }
    n = get(m, "rates");
    if (!n || n->kind != TSR_Y_SEQ || n->u.seq.len == 0)
        return fail(b, n ? n : m, TSR_ESCHEMA,
                    "`taxes` needs `rates`, a non-empty list of {id, for, rate}");
    return TSR_OK;
}

/* `taxes` is given by one file (like loyalty and refunds); its rates are
 * read as the entries of a list section are, each on its own. */
static int build_taxes(builder *b)
{
    tsr_taxes *t = &b->rs->taxes;
    const tsr_ynode *m, *rates;
    const char *file = NULL;
    entry *es;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = singleton(b, "taxes", &m, &file)) != TSR_OK || !m)
        return rc;
    t->present = true;
    if ((rc = read_taxes(b, t, m, "taxes")) != TSR_OK)
        return keep_going(b, rc);
    rates = get(m, "rates");
    n = rates->u.seq.len;
    es = tsr__arena_calloc(&b->tmp, n, sizeof *es);
    t->rates = tsr__arena_calloc(b->ar, n, sizeof *t->rates);
    if (!es || !t->rates || index_init(b, &ix, n) != TSR_OK)
        return nomem(b);
    for (i = 0; i < n; i++) {
        es[i].node = rates->u.seq.items[i];
        es[i].file = file;
        es[i].index = i;
    }
    for (i = 0; i < n; i++)
        if ((rc = keep_going(b, read_tax_rate(b, &es[i], &ix, i))) != TSR_OK)
            return rc;
    t->nrates = n;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * offers.
 */
static int read_offer(builder *b, const entry *e, name_index *ix, size_t i)
{
    tsr_ruleset *rs = b->rs;
    tsr_offer *o = &rs->offers[i];
    const tsr_ynode *m = e->node, *msg;
    char where[WHERE_MAX];
    int rc;

    if ((rc = begin_entry(b, e, "offers", &offer_set, where, sizeof where)) != TSR_OK)
        return rc;
    o->pos = pos_of(b, m);
    if ((rc = read_id(b, m, where, "offer", ix, &rs->offers[0].pos, sizeof *o, (int)i,
                      &o->id)) != TSR_OK ||
        (rc = opt_string(b, m, "label", where, &o->label)) != TSR_OK ||
        (rc = opt_expr(b, m, "when", TSR_T_BOOL, SCOPE_ORDER, where, &o->when)) != TSR_OK)
        return rc;
    if (!(msg = tsr__ymap_get(m, "message")))
        return fail(b, m, TSR_ESCHEMA, "offer `%s` needs a `message`", o->id);
    return read_string(b, msg, "message", where, &o->message);
}

static int build_offers(builder *b, const tsr_ynode *const *roots)
{
    tsr_ruleset *rs = b->rs;
    entry *es;
    void *rules;
    size_t n, i;
    name_index ix = { 0 };
    int rc;

    if ((rc = begin_list(b, roots, "offers", sizeof *rs->offers, &es, &n, &rules,
                        &ix)) != TSR_OK)
        return rc;
    rs->offers = rules;
    for (i = 0; i < n; i++)
        if ((rc = keep_going(b, read_offer(b, &es[i], &ix, i))) != TSR_OK)
            return rc;
    rs->noffers = n;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * The whole rule set.
 */

/* What the compiler marked while compiling, onto the rules themselves. */
static void copy_used_marks(builder *b)
{
    size_t i;
    for (i = 0; i < b->rs->nsegments; i++)
        b->rs->segments[i].used = b->seg_used[i];
    for (i = 0; i < b->rs->npromos; i++)
        b->rs->promos[i].used = b->promo_used[i];
}

/* Name the rule that holds each expression (tsr_expr.section, rule_id,
 * key), for the messages of evaluation errors about the expression itself
 * (the work budget): section and id as the trace writes them. */
static void label(tsr_expr *e, const char *section, const char *id, const char *key)
{
    if (!e)
        return;
    e->section = section;
    e->rule_id = id;
    e->key = key;
}

static void label_exprs(tsr_ruleset *rs)
{
    size_t i, j;

    for (i = 0; i < rs->nsegments; i++)
        label(rs->segments[i].when, "segments", rs->segments[i].id, NULL);
    for (i = 0; i < rs->ntiers; i++)
        label(rs->tiers[i].when, "tiers", rs->tiers[i].id, "when");
    for (i = 0; i < rs->ncategories; i++) {
        tsr_category *c = &rs->categories[i];
        label(c->for_, "categories", c->id, "for");
        label(c->when, "categories", c->id, "when");
        label(c->price, "categories", c->id, "price");
    }
    for (i = 0; i < rs->npromos; i++)
        label(rs->promos[i].when, "promo_codes", rs->promos[i].id, "when");
    for (i = 0; i < rs->ndiscounts; i++) {
        tsr_discount *d = &rs->discounts[i];
        label(d->when, "discounts", d->id, "when");
        label(d->for_, "discounts", d->id, "for");
        label(d->reward, "discounts", d->id, "reward");
        /* effect_keys is in enum order, from TSR_EFFECT_PERCENT */
        label(d->value, "discounts", d->id,
              d->effect >= TSR_EFFECT_PERCENT &&
                      (size_t)(d->effect - TSR_EFFECT_PERCENT) < TSR_ARRAY_LEN(effect_keys)
                  ? effect_keys[d->effect - TSR_EFFECT_PERCENT] : "value");
        for (j = 0; j < d->nbundle; j++)
            label(d->bundle[j].for_, "discounts", d->id, "bundle.for");
    }
    label(rs->loyalty.member_when, "loyalty", NULL, "member_when");
    label(rs->loyalty.redeem_for, "loyalty", NULL, "redeem.for");
    for (i = 0; i < rs->loyalty.nearn; i++) {
        label(rs->loyalty.earn[i].for_, "earn", rs->loyalty.earn[i].id, "for");
        label(rs->loyalty.earn[i].when, "earn", rs->loyalty.earn[i].id, "when");
    }
    label(rs->refunds.allowed, "refunds", NULL, "allowed");
    label(rs->refunds.fee, "refunds", NULL, "fee");
    for (i = 0; i < rs->noffers; i++)
        label(rs->offers[i].when, "offers", rs->offers[i].id, "when");
    for (i = 0; i < rs->taxes.nrates; i++)
        label(rs->taxes.rates[i].for_, "taxes", rs->taxes.rates[i].id, "for");
}

static void init_env(builder *b)
{
    tsr_ruleset *rs = b->rs;
    memset(&b->env, 0, sizeof b->env);
    b->env.minor_units = rs->minor_units;
    b->env.rounding = rs->rounding;
    b->env.regexes = rs->regexes;
    b->env.max_length = rs->limits.max_expression_length;
    b->env.agg_slots = &rs->naggs;
}

static int build_all(builder *b)
{
    const tsr_ynode **roots;
    size_t i;
    int rc;

    roots = tsr__arena_calloc(&b->tmp, b->nsrcs, sizeof *roots);
    if (!roots)
        return nomem(b);
    for (i = 0; i < b->nsrcs; i++)
        roots[i] = b->srcs[i].root;
    if ((rc = check_root_keys(b)) != TSR_OK || (rc = read_header(b)) != TSR_OK)
        return rc;
    init_env(b);
    if ((rc = collect_ids(b, roots, "categories", b->ids_unknown[0], &b->env.category_ids,
                          &b->env.ncategory_ids)) != TSR_OK ||
        (rc = collect_ids(b, roots, "tiers", b->ids_unknown[1], &b->env.tier_ids,
                          &b->env.ntier_ids)) != TSR_OK)
        return rc;
    if ((rc = build_schema(b)) != TSR_OK || (rc = build_tables(b)) != TSR_OK ||
        (rc = build_segments(b)) != TSR_OK || (rc = build_tiers(b, roots)) != TSR_OK ||
        (rc = build_categories(b, roots)) != TSR_OK || (rc = build_promos(b, roots)) != TSR_OK ||
        (rc = build_discounts(b, roots)) != TSR_OK || (rc = build_loyalty(b)) != TSR_OK ||
        (rc = build_refunds(b)) != TSR_OK || (rc = build_taxes(b)) != TSR_OK ||
        (rc = build_offers(b, roots)) != TSR_OK)
        return rc;
    copy_used_marks(b);
    label_exprs(b->rs);
    return TSR_OK;
}

int tsr__rules_build(tsr_ruleset *rs, const tsr_rule_source *srcs, size_t n, const char *tzdir,
                     tsr_check_report *diags, tsr_error *err)
{
    builder b;
    size_t i;
    int rc;

    memset(&b, 0, sizeof b);
    b.rs = rs;
    b.ar = &rs->arena;
    b.srcs = srcs;
    b.nsrcs = n;
    b.tzdir = tzdir;
    b.at.err = err;
    if (diags) {
        b.diags = diags;
        b.at.err = &b.own_err;
        tsr__error_clear(b.at.err);
    }
    for (i = 0; i < n; i++)
        if (srcs[i].is_main)
            b.main = &srcs[i];
    if (!b.main || n == 0)
        return tsr__err(err, TSR_EINVAL, "no main rule file");
    b.at.file = b.main->name;
    tsr__arena_init(&b.tmp, &rs->alloc, 16u << 10);
    rc = build_all(&b);
    tsr__arena_free(&b.tmp);
    if (!diags)
        return rc;
    /* checking: the first error kept is the one the caller's err gets */
    if (rc == TSR_ENOMEM)
        return tsr__err(err, TSR_ENOMEM, NULL);
    if (diags->n) {
        if (err)
            *err = diags->errors[0];
        return diags->errors[0].code;
    }
    return rc;
}
