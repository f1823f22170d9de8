/*
 * fuzz_refund.c — libFuzzer harness for refunds (SPEC §4, Refund): the
 * request reader, the receipt check (the order evaluated again and compared
 * with the receipt), `refunds.allowed` and `fee`, points restored and revoked,
 * re-pricing with clawback, `previous` and the most its clawback can be,
 * the payout bound, and the refund result's JSON and accessors.
 *
 * Two kinds of input:
 *
 * - Text (first byte below 0x80): a refund request as tsr_refund reads it,
 *     {"order": {...}, "receipt": {...}, "lines": [...], "datetime": "...",
 *      "previous": {"lines": [...], "clawback": "..."}}
 *   The low bit of the input's size picks the rule set (refund_rules.h, both
 *   loaded once and kept): even, tests/rules/refunds/park.yaml (a bundle and
 *   a threshold that re-pricing can break: clawback); odd, opera.yaml (a fee
 *   expression, a table-priced category, a promo code, flat points, no
 *   re-pricing).  A seed keeps its rule set by keeping the parity of its
 *   size.  This reaches the reader and the receipt check; mutated receipts
 *   rarely match, so it seldom reaches the refund itself.
 *
 * - Choices (first byte 0x80 or above, see structured() below): an order
 *   for park, opera or shop (shop_rules below: re-pricing with a bundle, two
 *   thresholds, codes, quantities and a fee that depends on the refund
 *   time), priced to get its receipt, then refunded in steps with a ledger.
 *   Every such input reaches the refund arithmetic.
 *
 * Checked: no crash, no sanitizer report, no leak, no hang; a refused request
 * carries a well-formed error and leaves *out NULL; a refund result's JSON is
 * as long as it says, every line has an id and a known status, a rejected line
 * and only a rejected line has a reason, and the totals add up as tessera.h
 * promises (amount = lines − clawback + clawback_returned, fee = lines' fees,
 * points = lines' + order-level), and the same request run twice gives the
 * same JSON; no error is the library's "internal error" (its payout check);
 * and for choices, what structured() lists.  TSR_FUZZ_STATS in the
 * environment prints, at exit, how many inputs got how far.
 */
#include <stdarg.h>

#include "fuzz_common.h"
#include "refund_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A shop that re-prices what is kept: seats by zone, children, drinks; a
 * family bundle, a percent code and a pattern code, a drinks threshold and a
 * quantity threshold, redemption; the fee depends on the refund time. */
static const char shop_rules[] =
    "tessera: 1\n"
    "ruleset: fuzz-shop\n"
    "version: \"1\"\n"
    "currency: EUR\n"
    "timezone: Europe/Berlin\n"
    "schema:\n"
    "  item: { event_start: datetime, validated: bool, zone: string }\n"
    "  customer: { member: bool }\n"
    "tables:\n"
    "  zone_price: { A: 40.00, B: 25.50, C: 9.99 }\n"
    "categories:\n"
    "  - { id: seat, for: item.kind == \"ticket\", price: \"tables.zone_price[item.zone]\" }\n"
    "  - { id: kid, for: item.kind == \"kid\", price: 7.35 }\n"
    "promo_codes:\n"
    "  - { id: spring, code: SPRING }\n"
    "  - { id: vip, match: \"VIP-[0-9]{3}\" }\n"
    "discounts:\n"
    "  - id: family\n"
    "    bundle:\n"
    "      - { for: item.category == \"seat\", quantity: 2 }\n"
    "      - { for: item.category == \"kid\", quantity: 1 }\n"
    "    price: 60.00\n"
    "  - { id: spring-15, requires: spring, for: item.kind == \"ticket\", percent: 15 }\n"
    "  - { id: vip-5, requires: vip, order_amount: 5.00 }\n"
    "  - { id: basket, for: item.kind == \"fnb\", min_total: 20.00, percent: 10 }\n"
    "  - { id: three-plus, for: item.kind != \"fnb\", min_quantity: 3, amount: 1.10 }\n"
    "loyalty:\n"
    "  member_when: customer.member\n"
    "  earn:\n"
    "    - { id: base, per: 1.00, points: 1 }\n"
    "    - { id: bonus, when: 'any(items, item.kind == \"kid\")', points: 7 }\n"
    "  redeem: { point_value: 0.05, max_percent: 30, for: item.kind != \"fnb\" }\n"
    "refunds:\n"
    "  allowed: 'not item.validated and now <= item.event_start'\n"
    "  fee: '0.00 if item.kind == \"fnb\" else (max(1.50, item.total * 0.1) if now > "
    "item.event_start - days(2) else 0.50)'\n"
    "  to: original_payment\n"
    "  reprice: true\n";

/* Loaded once, on the first input, and kept for the whole run. */
static tsr_ruleset *park, *opera, *shop;

static void free_rules(void)
{
    tsr_ruleset_free(park);
    tsr_ruleset_free(opera);
    tsr_ruleset_free(shop);
    park = opera = shop = NULL;
}

static tsr_ruleset *load_fixed(const char *text, size_t len, const char *name)
{
    tsr_load_options opts;
    tsr_ruleset *rs = NULL;
    tsr_error err;

    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    if (tsr_ruleset_load_string(&rs, text, len, name, &opts, &err) != TSR_OK) {
        /* Without the rule set the harness tests nothing. */
        fprintf(stderr, "fuzz_refund: %s does not load: %s:%d:%d: %s\n", name, err.file,
                err.line, err.column, err.message);
        abort();
    }
    return rs;
}

static void print_stats(void);

/* 0 park, 1 opera, 2 shop. */
static const tsr_ruleset *rules_at(unsigned i)
{
    if (!park) {
        park = load_fixed(refund_park_rules, sizeof refund_park_rules - 1, "park.yaml");
        opera = load_fixed(refund_opera_rules, sizeof refund_opera_rules - 1, "opera.yaml");
        shop = load_fixed(shop_rules, sizeof shop_rules - 1, "shop.yaml");
        atexit(free_rules);
        if (getenv("TSR_FUZZ_STATS"))
            atexit(print_stats);
    }
    return i == 2 ? shop : i == 1 ? opera : park;
}

static void touch(const char *s)
{
    if (s)
        (void)strlen(s);
}

/* Read everything the refund result offers and check what tessera.h says of it. */
static void read_refund(tsr_refund_result *r)
{
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    int64_t amount = 0, fee = 0, restored = 0, revoked = 0;
    size_t i, n, jlen = 0;
    const char *json, *to;

    json = tsr_refund_result_json(r, &jlen);
    if (json && strlen(json) != jlen)
        fuzz_die("refund JSON length disagrees with its text", strlen(json), jlen);
    if (json && tsr_refund_result_json(r, NULL) != json)
        fuzz_die("refund JSON changed between two calls", 0, 0);
    touch(tsr_refund_result_order(r));
    to = tsr_refund_result_to(r);
    if (!to || (strcmp(to, "account_credit") != 0 && strcmp(to, "original_payment") != 0))
        fuzz_die("refund without a known `to`", 0, 0);
    n = tsr_refund_result_line_count(r);
    for (i = 0; i < n; i++) {
        const char *id = tsr_refund_result_line_id(r, i);
        const char *why = tsr_refund_result_line_why(r, i);
        int status = tsr_refund_result_line_status(r, i);

        if (!id)
            fuzz_die("refund line without an id", i, n);
        touch(id);
        touch(why);
        if (status == TSR_REFUND_REFUNDED) {
            if (why)
                fuzz_die("refunded line with a rejection reason", i, n);
        } else if (status == TSR_REFUND_REJECTED) {
            if (!why || !*why)
                fuzz_die("rejected line without a reason", i, n);
        } else {
            fuzz_die("refund line with an unknown status", i, (size_t)status);
        }
        amount += tsr_refund_result_line_amount(r, i);
        fee += tsr_refund_result_line_fee(r, i);
        restored += tsr_refund_result_line_points_restored(r, i);
        revoked += tsr_refund_result_line_points_revoked(r, i);
    }
    /* Out of range: NULL, 0 and TSR_EINVAL, never a read past the lines. */
    if (tsr_refund_result_line_id(r, n) != NULL || tsr_refund_result_line_why(r, n) != NULL ||
        tsr_refund_result_line_status(r, n) != TSR_EINVAL ||
        tsr_refund_result_line_amount(r, n) != 0 || tsr_refund_result_line_fee(r, n) != 0 ||
        tsr_refund_result_line_points_restored(r, (size_t)-1) != 0 ||
        tsr_refund_result_line_points_revoked(r, n + 1) != 0)
        fuzz_die("refund line accessor out of range returned something", n, n);

    memset(&t, 0xa5, sizeof t);
    t.version = TSR_REFUND_TOTALS_VERSION;
    if (tsr_refund_result_totals(r, &t) != TSR_OK)
        fuzz_die("tsr_refund_result_totals refused a refund result", 0, 0);
    if (t.amount != amount - t.clawback + t.clawback_returned)
        fuzz_die("totals.amount != lines - clawback + clawback_returned", (size_t)t.amount,
                 (size_t)(amount - t.clawback + t.clawback_returned));
    if (t.fee != fee)
        fuzz_die("totals.fee != the lines' fees", (size_t)t.fee, (size_t)fee);
    if (t.points_restored != restored)
        fuzz_die("totals.points_restored != the lines'", (size_t)t.points_restored,
                 (size_t)restored);
    if (t.points_revoked != revoked + t.order_points_revoked)
        fuzz_die("totals.points_revoked != lines' + order-level", (size_t)t.points_revoked,
                 (size_t)(revoked + t.order_points_revoked));
    if (t.amount < 0 || t.fee < 0 || t.clawback < 0 || t.clawback_returned < 0)
        fuzz_die("negative refund total", 0, 0);
}

/* ---------------------------------------------------------------------
 * Structured inputs (first byte 0x80 or above): the bytes are choices, not
 * text.  They build an order for one of three rule sets, price it with
 * tsr_evaluate_text to get a real receipt, and refund it in up to four
 * steps, each with `previous` taken from a ledger the harness keeps the way
 * docs/refunds.md asks a caller to.  So every input reaches the refund
 * arithmetic: fees at different times, bundles and thresholds broken and
 * restored by re-pricing, the clawback withheld and returned.
 *
 * The harness works out on its own what the lines the refunds of a set of
 * lines left owe (most_withheld: the order without them and without
 * redemption, priced with tsr_evaluate_text, against what the lines left
 * cost on the receipt before redemption); the most those refunds can have
 * withheld is that or what their lines paid on the receipt, whichever is
 * less (bound()).
 *
 * Checked on top of read_refund():
 *   - a refund pays back at least 0 and at most what the receipt says its
 *     refunded lines paid plus the clawback it returns, which is at most
 *     the figure stated, which is at most the most;
 *   - a `previous.clawback` above the most is refused at previous.clawback
 *     with TSR_ERECEIPT and a message naming the most and the bound that
 *     set it, and a negative one is refused; left out, it is refused with
 *     TSR_EORDER when the rule set re-prices and lines were refunded
 *     before, else taken as 0; any figure from 0 to the most is accepted,
 *     the ledger's always (it never exceeds the most), and against the
 *     ledger's a smaller figure never pays back more and a larger one never
 *     less (the same refund when the ledger holds the most);
 *   - every step is also made stating the most: it pays back no less than
 *     with the ledger's figure and no more than the difference more, and
 *     the same while no refund was capped (so stating more than the ledger
 *     matters only after a capped refund; TSR_FUZZ_STATS counts how often
 *     such steps end up paying back more than the refunded lines paid);
 *   - all refunds so far, made with the ledger's figure, pay back at most
 *     what their lines paid, exactly the lines' amounts less what is still
 *     withheld, and what the ledger holds never exceeds what the lines left
 *     owe nor what the lines refunded paid; while no refund was capped
 *     (withheld less than was newly owed) it is what the lines left owe;
 *   - no line is refunded twice; once every line is back nothing is held;
 *   - refunds at one time, in steps, end where one refund of the same lines
 *     does (fees and points always; money when the ledger holds the most,
 *     otherwise the steps pay back no less);
 *   - a receipt with a byte changed is refused, or refunds exactly the same;
 *   - a request the harness made invalid is refused, and an order that
 *     cannot be priced is refused by the refund with the same code;
 *   - no error says "internal error" (the library's own payout check).
 */
#define MAX_LINES 10
#define ORDER_MAX 4096

/* Counts, printed at exit with TSR_FUZZ_STATS set: how far inputs get. */
static struct {
    unsigned long inputs, structured, priced, refunds, refunded, amount, clawback, returned,
        capped, forged_refused, negative_refused, within_accepted, honest_checked,
        missing_refused, left_out_zero, most_checked, most_more, most_over, steps_after_first,
        one_shot, one_shot_more, tampered_same;
    long long most_over_max;    /* by how much, at most, in minor units */
    /* inputs with at least one refund that refunded a line, paid back
     * money, withheld or returned clawback */
    unsigned long in_refunded, in_amount, in_clawback;
} stats;

static void print_stats(void)
{
    fprintf(stderr,
            "fuzz_refund: %lu inputs (%lu structured, %lu priced); inputs reaching a refund "
            "that refunded a line %lu, paid back money %lu, withheld or returned clawback "
            "%lu; refunds: %lu succeeded, %lu refunding a line, %lu with amount > 0, %lu "
            "with clawback > 0, %lu with clawback_returned > 0, %lu capped (withheld less "
            "than newly owed); clawbacks: %lu above the most refused, %lu negative refused, "
            "%lu others within the most accepted, %lu ledger's accepted, %lu left out and "
            "required refused, %lu left out as 0; stating the most: %lu steps, %lu paying "
            "more than the ledger's, %lu sequences paying back more than their lines paid "
            "(by up to %lld minor units); %lu later steps; %lu one-shot comparisons (%lu "
            "with the steps paying more); %lu tampered receipts refunding the same\n",
            stats.inputs, stats.structured, stats.priced, stats.in_refunded, stats.in_amount,
            stats.in_clawback, stats.refunds, stats.refunded, stats.amount, stats.clawback,
            stats.returned, stats.capped, stats.forged_refused, stats.negative_refused,
            stats.within_accepted, stats.honest_checked, stats.missing_refused,
            stats.left_out_zero, stats.most_checked, stats.most_more, stats.most_over,
            stats.most_over_max, stats.steps_after_first, stats.one_shot, stats.one_shot_more,
            stats.tampered_same);
}

/* The bytes, read as choices; past the end every choice is 0. */
typedef struct src {
    const uint8_t *p;
    size_t n;
} src;

static unsigned pick(src *s, unsigned n)
{
    unsigned v;
    if (n <= 1 || s->n == 0)
        return 0;
    v = *s->p++;
    s->n--;
    if (n > 256 && s->n) {
        v = v << 8 | *s->p++;
        s->n--;
    }
    return v % n;
}

/* Text with a bound: a generated order or request never exceeds its buffer. */
typedef struct out {
    char *p;
    size_t len, cap;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len)
        fuzz_die("fuzz_refund: generated text too long", o->len, o->cap);
    o->len += (size_t)n;
}

/* A July 2026 date and time in the rule set's zone; day 0 is 30 June. */
static void put_time(out *o, unsigned rules, unsigned day, unsigned hour)
{
    put(o, "\"2026-%s-%02uT%02u:%02u:00%s\"", day ? "07" : "06", day ? day : 30, hour % 24,
        (hour / 24) * 15 % 60, rules == 2 ? "+02:00" : "+03:00");
}

static void put_money(out *o, int64_t v)
{
    put(o, "\"%s%lld.%02lld\"", v < 0 ? "-" : "", (long long)(v < 0 ? -(v / 100) : v / 100),
        (long long)(v < 0 ? -(v % 100) : v % 100));
}

/* The order: each rule set's own kinds of line, with what its rules read.
 * The lines in `skip` and (no_redeem) the redemption are left out of the
 * text, their choices read all the same: the same bytes then give the
 * order the refund re-prices (what remains, without redemption). */
static size_t make_order(src *s, unsigned rules, out *o, unsigned skip, int no_redeem)
{
    static const char *const fnb_prices[] = { "0.00", "0.01", "3.50", "12.30", "150.00",
                                              "300.00", "450.00", "999.99" };
    static const unsigned heights[] = { 85, 100, 115, 129, 130, 180 };
    static const char *const zones[] = { "A", "B", "C", "A", "B", "C", "A", "Z" };
    static const char *const shop_codes[] = { "SPRING", "VIP-123", " vip-007 ", "VIP-12", "NOPE" };
    static char scratch[512];
    size_t n = 1 + pick(s, MAX_LINES), i, shown = 0;
    unsigned balance = pick(s, 4) * 700;

    put(o, "{\"id\":\"F-%u\",\"datetime\":", pick(s, 3));
    put_time(o, rules, 1, 10);
    put(o, ",\"customer\":{\"id\":\"C-1\",\"member\":%s,\"points_balance\":%u",
        pick(s, 4) ? "true" : "false", balance);
    if (rules == 0)
        put(o, ",\"last_visit\":\"%s\"", pick(s, 2) ? "2024-01-10" : "2026-05-01");
    put(o, "}");
    if (balance && pick(s, 2)) {
        unsigned points = pick(s, 3) == 0 ? balance : 10 * (1 + pick(s, 60));
        if (!no_redeem)
            put(o, ",\"redeem_points\":%u", points);
    }
    if (rules == 1 && pick(s, 2))
        put(o, ",\"promo_codes\":[\"%s\"]", pick(s, 4) ? "FRIENDS10" : " friends10");
    if (rules == 2) {
        unsigned codes = pick(s, 32), c, first = 1;
        put(o, ",\"promo_codes\":[");
        for (c = 0; c < 5; c++)
            if (codes >> c & 1) {
                put(o, "%s\"%s\"", first ? "" : ",", shop_codes[c]);
                first = 0;
            }
        put(o, "]");
    }
    put(o, ",\"items\":[");
    for (i = 0; i < n; i++) {
        unsigned kind = pick(s, 3), quantity = pick(s, 4) ? 1 : 1 + pick(s, 3), day;
        out line = { scratch, 0, sizeof scratch };
        out *keep = o;
        if (skip >> i & 1)
            o = &line;   /* read, not written */
        put(o, "%s{\"id\":\"L%zu\",\"quantity\":%u,\"event_start\":", shown ? "," : "", i,
            quantity);
        /* one choice per statement: the order in which a call's arguments
         * or an operator's operands are evaluated is unspecified, and an
         * input must mean the same order with every compiler */
        day = pick(s, 4) ? 8 + pick(s, 23) : 1 + pick(s, 30);
        put_time(o, rules, day, pick(s, 24 * 4));
        if (pick(s, 8) == 0)
            put(o, ",\"validated\":true");
        if (kind == 0 && rules == 0)
            put(o, ",\"kind\":\"ticket\",\"height_cm\":%u", heights[pick(s, 6)]);
        else if (kind == 0 || (kind == 1 && rules == 2))
            put(o, ",\"kind\":\"%s\",\"zone\":\"%s\"", kind ? "kid" : "ticket", zones[pick(s, 8)]);
        else if (kind == 1 && rules == 0)
            put(o, ",\"kind\":\"ticket\",\"height_cm\":%u", 100 + pick(s, 30));
        else if (pick(s, 2))
            put(o, ",\"kind\":\"fnb\",\"price\":\"%s\"", fnb_prices[pick(s, 8)]);
        else {
            unsigned units = pick(s, 500), cents = pick(s, 100);
            put(o, ",\"kind\":\"fnb\",\"price\":\"%u.%02u\"", units, cents);
        }
        put(o, "}");
        if (o == keep)
            shown++;
        o = keep;
    }
    put(o, "]}");
    return n;
}

/* What the caller keeps between refunds of the order (docs/refunds.md). */
typedef struct ledger {
    uint8_t refunded[MAX_LINES];
    int64_t withheld;           /* Σ clawback − Σ clawback_returned */
    int64_t most;               /* what the lines the refunds so far left owe */
    int most_known;             /* most_withheld() could work it out */
    int capped;                 /* a refund withheld less than was newly owed */
    int64_t paid_back;          /* Σ totals.amount */
    int64_t lines_paid;         /* Σ receipt totals of the lines refunded */
    int64_t lines_amount;       /* Σ the refunded lines' amounts, before clawback */
    int64_t fee, restored, revoked;
    int64_t most_paid_back;     /* Σ totals.amount of the steps stating the most */
    int over;                   /* those paid back more than their lines paid */
} ledger;

/* One refund request of a step. */
typedef struct step {
    size_t lines[MAX_LINES + 1];
    size_t nlines;
    int bad;                    /* the harness made it invalid: 1 unknown line, 2 twice, 3 none */
    unsigned day, hour;
    int claw;                   /* 0 left out, 1 the ledger's, 2 another figure,
                                   3 the most (bound()) */
    int claw_above;             /* 2: the figure is above the most (when known) */
    int64_t clawback;
    int prev_bad;               /* previous.lines names a line twice */
    int via_c;                  /* tsr_refund_order instead of tsr_refund */
} step;

typedef struct sequence {
    const tsr_ruleset *rs;
    unsigned rules;
    const char *order, *receipt;
    size_t order_len, receipt_len, nlines;
    int64_t totals[MAX_LINES];  /* the receipt's line totals */
    src start;                  /* the choices the order was made from */
    int64_t before[MAX_LINES];  /* the lines' totals before redemption */
    int before_known;
    ledger l;
} sequence;

static const char *const line_ids[MAX_LINES + 1] = { "L0", "L1", "L2", "L3", "L4", "L5",
                                                     "L6", "L7", "L8", "L9", "ZZ" };

static int run_step(const sequence *q, const step *st, tsr_refund_result **res, tsr_error *err)
{
    const char *ids[MAX_LINES + 1], *prev[MAX_LINES + 1];
    size_t nprev = 0, i;
    int rc;

    for (i = 0; i < MAX_LINES; i++)
        if (q->l.refunded[i])
            prev[nprev++] = line_ids[i];
    if (st->prev_bad && nprev)
        prev[nprev++] = prev[0];
    for (i = 0; i < st->nlines; i++)
        ids[i] = line_ids[st->lines[i]];
    if (st->via_c) {
        tsr_refund_options opts = TSR_REFUND_OPTIONS_INIT;
        tsr_order *o = NULL;
        char when[40];
        out w = { when, 0, sizeof when };

        put_time(&w, q->rules, st->day, st->hour);
        when[w.len - 1] = '\0';
        opts.previous_lines = prev;
        opts.nprevious_lines = nprev;
        opts.previous_clawback = st->claw ? st->clawback : TSR_REFUND_CLAWBACK_UNSTATED;
        if ((rc = tsr_order_new(&o, q->rs, err)) == TSR_OK &&
            (rc = tsr_order_parse(o, q->order, q->order_len, err)) == TSR_OK)
            rc = tsr_refund_order(res, q->rs, o, q->receipt, q->receipt_len, ids, st->nlines,
                                  when + 1, &opts, err);
        tsr_order_free(o);
        return rc;
    } else {
        static char text[2 * ORDER_MAX + 65536];
        out t = { text, 0, sizeof text };

        if (q->order_len + q->receipt_len + 1024 > sizeof text)
            return TSR_ELIMIT;   /* not the library's: the harness's buffer */
        put(&t, "{\"order\":%.*s,\"receipt\":%.*s,\"lines\":[", (int)q->order_len, q->order,
            (int)q->receipt_len, q->receipt);
        for (i = 0; i < st->nlines; i++)
            put(&t, "%s\"%s\"", i ? "," : "", ids[i]);
        put(&t, "],\"datetime\":");
        put_time(&t, q->rules, st->day, st->hour);
        if (nprev || st->claw) {
            put(&t, ",\"previous\":{\"lines\":[");
            for (i = 0; i < nprev; i++)
                put(&t, "%s\"%s\"", i ? "," : "", prev[i]);
            put(&t, "]");
            if (st->claw) {
                put(&t, ",\"clawback\":");
                put_money(&t, st->clawback);
            }
            put(&t, "}");
        }
        put(&t, "}");
        return tsr_refund(res, q->rs, text, t.len, err);
    }
}

/* The most the refunds of the lines in `gone` can have withheld, worked out
 * without the library's refund code: the order made again from the same
 * choices without those lines and without redemption, priced, against what
 * the lines left cost on the receipt before redemption.  0: unknown (the
 * smaller order does not price); opera.yaml does not re-price: 0.00. */
static int most_withheld(const sequence *q, unsigned gone, int64_t *most)
{
    static char text[ORDER_MAX];
    src s = q->start;
    out o = { text, 0, sizeof text };
    tsr_result *r = NULL;
    int64_t paid = 0, now = 0;
    size_t i, left = 0;

    *most = 0;
    if (q->rules == 1)
        return 1;   /* refund_rules.h: opera.yaml has `reprice: false` */
    if (!q->before_known)
        return 0;
    for (i = 0; i < q->nlines; i++)
        if (!(gone >> i & 1)) {
            paid += q->before[i];
            left++;
        }
    if (left == 0)
        return 1;
    make_order(&s, q->rules, &o, gone, 1);
    if (tsr_evaluate_text(&r, q->rs, text, o.len, NULL, NULL) != TSR_OK)
        return 0;
    for (i = 0; i < tsr_result_line_count(r); i++)
        now += tsr_result_line_total(r, i);
    tsr_result_free(r);
    *most = now > paid ? now - paid : 0;
    return 1;
}

/* The lines of the order refunded before, as a mask. */
static unsigned refunded_mask(const ledger *l, size_t n)
{
    unsigned mask = 0;
    size_t i;

    for (i = 0; i < n; i++)
        if (l->refunded[i])
            mask |= 1u << i;
    return mask;
}

/* The most the refunds so far can have withheld: what the lines they left
 * owe, or what their own lines paid on the receipt (a refund withholds no
 * more than it pays back), whichever is less.  Only when most_known. */
static int64_t bound(const ledger *l)
{
    return l->most < l->lines_paid ? l->most : l->lines_paid;
}

/* `previous.clawback` must be stated: the rule set re-prices (not opera)
 * and lines were refunded before. */
static int required(const sequence *q)
{
    return q->rules != 1 && refunded_mask(&q->l, q->nlines) != 0;
}

static int is_internal(const tsr_error *err)
{
    return strncmp(err->message, "internal error", 14) == 0;
}

/* Count how far a successful refund got (TSR_FUZZ_STATS). */
static void count_refund(tsr_refund_result *res)
{
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    size_t k, n = tsr_refund_result_line_count(res), refunded = 0;

    tsr_refund_result_totals(res, &t);
    for (k = 0; k < n; k++)
        refunded += tsr_refund_result_line_status(res, k) == TSR_REFUND_REFUNDED;
    stats.refunds++;
    stats.refunded += refunded > 0;
    stats.amount += t.amount > 0;
    stats.clawback += t.clawback > 0;
    stats.returned += t.clawback_returned > 0;
}

/* What the receipt says the lines a refund refunded paid; marks them 2 in
 * `mark` (NULL: no marks) and adds up their amounts and fees. */
static int64_t lines_paid(const sequence *q, const step *st, tsr_refund_result *res,
                          uint8_t *mark, int64_t *amount, int64_t *fee)
{
    int64_t paid = 0;
    size_t k, i;

    for (k = 0; k < tsr_refund_result_line_count(res); k++) {
        i = st->lines[k];
        if (strcmp(tsr_refund_result_line_id(res, k), line_ids[i]) != 0)
            fuzz_die("refund lines not in the order asked for", k, i);
        if (tsr_refund_result_line_status(res, k) != TSR_REFUND_REFUNDED)
            continue;
        if (q->l.refunded[i])
            fuzz_die("a line refunded twice", i, 0);
        if (mark)
            mark[i] = 2;   /* by this step; 1 once settled */
        paid += q->totals[i];
        if (amount)
            *amount += tsr_refund_result_line_amount(res, k);
        if (fee)
            *fee += tsr_refund_result_line_fee(res, k);
    }
    return paid;
}

/* The invariant of one refund made with `used` as what was withheld
 * before: it pays back at least 0 and at most what its lines paid plus the
 * clawback it returns, which is at most `used`, at most the most. */
static void check_one(const sequence *q, const step *st, tsr_refund_result *res, int64_t used)
{
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    int64_t paid;

    read_refund(res);
    count_refund(res);
    tsr_refund_result_totals(res, &t);
    paid = lines_paid(q, st, res, NULL, NULL, NULL);
    if (t.amount < 0 || t.amount > paid + t.clawback_returned)
        fuzz_die("a refund pays back more than its lines paid plus the clawback it returns",
                 (size_t)t.amount, (size_t)(paid + t.clawback_returned));
    if (t.clawback_returned > used)
        fuzz_die("a refund returns more clawback than was withheld", (size_t)t.clawback_returned,
                 (size_t)used);
    if (q->l.most_known && used > bound(&q->l))
        fuzz_die("a refund settled against more than can have been withheld", (size_t)used,
                 (size_t)bound(&q->l));
}

/* Check one successful refund with the ledger's clawback, then record it. */
static void settle(sequence *q, const step *st, tsr_refund_result *res)
{
    ledger *l = &q->l;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    int64_t paid, amount = 0, fee = 0, most = 0, before = l->withheld;
    unsigned mask = refunded_mask(l, q->nlines);
    size_t i, left = 0;
    int known;

    if (l->most_known && l->withheld > bound(l))
        fuzz_die("the ledger holds more than can have been withheld", (size_t)l->withheld,
                 (size_t)bound(l));
    check_one(q, st, res, l->withheld);
    tsr_refund_result_totals(res, &t);
    paid = lines_paid(q, st, res, l->refunded, &amount, &fee);
    l->withheld += t.clawback - t.clawback_returned;
    l->paid_back += t.amount;
    l->lines_paid += paid;
    l->lines_amount += amount;
    l->fee += fee;
    l->restored += t.points_restored;
    l->revoked += t.points_revoked;
    for (i = 0; i < q->nlines; i++) {
        if (l->refunded[i] == 2)
            l->refunded[i] = 1;
        left += !l->refunded[i];
    }
    /* and of the refunds so far */
    if (l->withheld < 0 || l->paid_back > l->lines_paid ||
        l->paid_back + l->withheld != l->lines_amount)
        fuzz_die("refunds so far pay back more than their lines paid, or do not add up",
                 (size_t)l->paid_back, (size_t)l->lines_paid);
    if (left == 0 && l->withheld != 0)
        fuzz_die("every line is back but clawback is still withheld", (size_t)l->withheld, 0);
    if (l->withheld > l->lines_paid)
        fuzz_die("refunds so far withheld more than their lines paid", (size_t)l->withheld,
                 (size_t)l->lines_paid);
    known = l->most_known && most_withheld(q, refunded_mask(l, q->nlines), &most);
    if (known) {
        if (refunded_mask(l, q->nlines) != mask && t.clawback < most - before) {
            l->capped = 1;   /* newly owed: most − before; withheld: t.clawback */
            stats.capped++;
        }
        if (l->withheld > most)
            fuzz_die("refunds so far withheld more than the lines they left owe",
                     (size_t)l->withheld, (size_t)most);
        if (!l->capped && l->withheld != most)
            fuzz_die("no refund was capped, yet less is withheld than the lines left owe",
                     (size_t)l->withheld, (size_t)most);
    }
    l->most = most;
    l->most_known = known;
}

/* The step's lines, time, `previous` and clawback, from the input. */
static void make_step(src *s, const sequence *q, step *st, int first, const step *before)
{
    unsigned mask = pick(s, 1u << q->nlines), i, odd = pick(s, 32);
    int64_t w = q->l.withheld, most = q->l.most_known ? bound(&q->l) : w;

    memset(st, 0, sizeof *st);
    if (!mask)
        mask = 1u << pick(s, (unsigned)q->nlines);
    for (i = 0; i < q->nlines; i++)
        if (mask >> i & 1)
            st->lines[st->nlines++] = i;
    if (odd == 0) {
        st->lines[st->nlines++] = MAX_LINES;   /* "ZZ": not in the order */
        st->bad = 1;
    } else if (odd == 1) {
        st->lines[st->nlines++] = st->lines[0];
        st->bad = 2;
    } else if (odd == 2) {
        st->nlines = 0;
        st->bad = 3;
    } else if (odd == 3) {
        for (i = 0; i < q->nlines; i++)
            st->prev_bad |= q->l.refunded[i];   /* previous.lines names one twice */
    }
    if (first || pick(s, 2)) {
        /* mostly before the events (from the 8th), so that lines are allowed */
        st->day = pick(s, 4) ? 1 + pick(s, 7) : pick(s, 32);
        /* the order is on the 1st at 10:00: mostly not before it */
        if (st->day == 1 && pick(s, 4)) {
            st->hour = 10 + pick(s, 14);   /* then the day: one choice per statement */
            st->hour += 24 * pick(s, 4);
        } else {
            st->hour = pick(s, 24 * 4);
        }
    } else {
        st->day = before->day;
        st->hour = before->hour;
    }
    st->claw = (int)pick(s, 4);
    if (st->claw == 3)
        st->claw = 1;
    if (st->claw == 1)
        st->clawback = w;
    else if (st->claw == 2) {
        switch (pick(s, 6)) {
        case 0: st->clawback = most + 100000000; break;               /* forged */
        case 1: st->clawback = most + 1 + pick(s, 100); break;        /* just above */
        case 2: st->clawback = most - (int64_t)pick(s, 100); break;   /* just below, or < 0 */
        case 3: st->clawback = 0; break;
        case 4: st->clawback = w - 1 - (int64_t)pick(s, 100); break;  /* below the ledger */
        default:                                                      /* ledger .. most */
            st->clawback = w + (most > w ? (int64_t)pick(s, (unsigned)(most - w > 65535
                                                                           ? 65536
                                                                           : most - w + 1))
                                         : 0);
        }
        st->claw_above = q->l.most_known && st->clawback > bound(&q->l);
    }
    st->via_c = (int)pick(s, 2);
}

/* A stated or left-out clawback refused at previous.clawback: a left-out
 * one when it is required, a negative one, or one above the most, and the
 * message names the most and the bound that set it. */
static void check_refused_clawback(const sequence *q, const step *st, int rc,
                                   const tsr_error *err)
{
    char most[40], a[64], b[48], c[48];
    out o = { most, 0, sizeof most };
    int64_t m = bound(&q->l);

    if (st->claw == 1)
        fuzz_die("the clawback the ledger holds was refused", (size_t)st->clawback, 0);
    if (st->claw == 0) {
        if (!required(q))
            fuzz_die("a left-out clawback was refused where it may be left out", 0, 0);
        if (rc != TSR_EORDER || !strstr(err->message, "pass `clawback`"))
            fuzz_die("a missing clawback refused with an unexpected code or message",
                     (size_t)-rc, 0);
        stats.missing_refused++;
        return;
    }
    if (st->clawback < 0) {
        if (rc != TSR_EORDER && rc != TSR_EINVAL)
            fuzz_die("a negative clawback refused with an unexpected code", (size_t)-rc, 0);
        stats.negative_refused++;
        return;
    }
    if (!q->l.most_known)
        return;
    if (!st->claw_above)
        fuzz_die("a clawback no larger than can have been withheld was refused",
                 (size_t)st->clawback, (size_t)m);
    if (rc != TSR_ERECEIPT)
        fuzz_die("a clawback above the most refused with an unexpected code", (size_t)-rc, 0);
    put_money(&o, m);
    most[o.len - 1] = '\0';
    /* re-pricing: "withheld at most M: the N lines they left cost ..." or
     * "withheld at most M: their N lines paid M on the receipt ..."; else
     * "so M was withheld, not" or "earlier refunds withheld M, not" */
    if (q->rules != 1 && refunded_mask(&q->l, q->nlines)) {
        snprintf(a, sizeof a, "withheld at most %s: ", most + 1);
        if (!strstr(err->message, a))
            fuzz_die("the refusal of a clawback does not name the most", (size_t)m, 0);
        if (q->l.most <= q->l.lines_paid ? !strstr(err->message, " re-priced, ")
                                         : !strstr(err->message, " on the receipt, and a refund "
                                                                 "withholds no more than it pays "
                                                                 "back"))
            fuzz_die("the refusal of a clawback names the wrong bound", (size_t)q->l.most,
                     (size_t)q->l.lines_paid);
    } else {
        snprintf(b, sizeof b, " %s was withheld, not ", most + 1);
        snprintf(c, sizeof c, " withheld %s, not ", most + 1);
        if (!strstr(err->message, b) && !strstr(err->message, c))
            fuzz_die("the refusal of a clawback does not name the most", (size_t)m, 0);
    }
    stats.forged_refused++;
}

/* A refund with another figure than the ledger's (stated, or left out and
 * so 0) against the same refund with the ledger's: a figure the library
 * accepted is no larger than the most and never negative; a smaller one
 * pays back no more, a larger one no less, the same one the same. */
static void compare_with_ledger(const sequence *q, const step *st, tsr_refund_result *res,
                                tsr_refund_result *honest)
{
    tsr_refund_totals a = TSR_REFUND_TOTALS_INIT, h = TSR_REFUND_TOTALS_INIT;
    int64_t used;

    if (st->claw == 2 && st->clawback < 0)
        fuzz_die("a negative clawback was accepted", 0, 0);
    if (st->claw == 2 && st->claw_above)
        fuzz_die("a clawback above what can have been withheld was accepted",
                 (size_t)st->clawback, (size_t)bound(&q->l));
    if (st->claw == 0 && required(q))
        fuzz_die("a missing clawback was accepted where it is required", 0, 0);
    used = st->claw == 2 ? st->clawback : 0;
    check_one(q, st, res, used);
    tsr_refund_result_totals(res, &a);
    tsr_refund_result_totals(honest, &h);
    if (used == q->l.withheld) {
        if (strcmp(tsr_refund_result_json(res, NULL), tsr_refund_result_json(honest, NULL)))
            fuzz_die("the same clawback, stated or left out, refunds otherwise", 0, 0);
    } else if (used < q->l.withheld ? a.amount > h.amount : a.amount < h.amount) {
        fuzz_die("a smaller clawback paid back more, or a larger one less", (size_t)a.amount,
                 (size_t)h.amount);
    }
    if (st->claw == 2)
        stats.within_accepted++;
    else
        stats.left_out_zero++;
}

/* The step stating the most it may: no less than with the ledger's figure,
 * no more than the difference more, the same while no refund was capped;
 * added up over the steps, and counted when that passes what the refunded
 * lines paid (possible only after a capped refund: docs/refunds.md, what
 * the library trusts). */
static void try_the_most(sequence *q, const step *st, tsr_refund_result *honest)
{
    tsr_refund_result *res = NULL;
    tsr_refund_totals a = TSR_REFUND_TOTALS_INIT, h = TSR_REFUND_TOTALS_INIT;
    tsr_error err;
    step most = *st;
    int64_t m, paid;

    if (!q->l.most_known)
        return;
    m = bound(&q->l);
    most.claw = 3;
    most.clawback = m;
    memset(&err, 0, sizeof err);
    if (run_step(q, &most, &res, &err) != TSR_OK) {
        if (is_internal(&err))
            fuzz_die("internal error in a refund", 0, 0);
        fuzz_die("the most a clawback can be was refused", (size_t)m, 0);
    }
    stats.most_checked++;
    check_one(q, st, res, m);
    tsr_refund_result_totals(res, &a);
    tsr_refund_result_totals(honest, &h);
    if (a.amount < h.amount || a.amount - h.amount > m - q->l.withheld)
        fuzz_die("stating the most pays back less than the ledger's figure, or more than the "
                 "difference more", (size_t)a.amount, (size_t)h.amount);
    if (!q->l.capped && strcmp(tsr_refund_result_json(res, NULL),
                               tsr_refund_result_json(honest, NULL)) != 0)
        fuzz_die("no refund was capped, yet the most refunds otherwise than the ledger", 0, 0);
    stats.most_more += a.amount > h.amount;
    paid = lines_paid(q, st, res, NULL, NULL, NULL);
    q->l.most_paid_back += a.amount;
    if (q->l.most_paid_back > q->l.lines_paid + paid && !q->l.over) {
        q->l.over = 1;
        stats.most_over++;
        if (q->l.most_paid_back - q->l.lines_paid - paid > stats.most_over_max)
            stats.most_over_max = q->l.most_paid_back - q->l.lines_paid - paid;
    }
    tsr_refund_result_free(res);
}

/* Refund at one time what the steps refunded, in one request: the same
 * fees and points, and the same money when the ledger holds the most the
 * lines left owe (no refund stayed capped); otherwise the steps pay back
 * more.  Only when every step ran at that time. */
static void compare_one_shot(const sequence *q, const step *at)
{
    tsr_refund_result *res = NULL;
    tsr_refund_totals t = TSR_REFUND_TOTALS_INIT;
    sequence once = *q;
    step st;
    tsr_error err;
    size_t i, k;
    int rc;

    memset(&st, 0, sizeof st);
    memset(&once.l, 0, sizeof once.l);
    st.day = at->day;
    st.hour = at->hour;
    for (i = 0; i < q->nlines; i++)
        if (q->l.refunded[i])
            st.lines[st.nlines++] = i;
    if (!st.nlines)
        return;
    memset(&err, 0, sizeof err);
    if ((rc = run_step(&once, &st, &res, &err)) != TSR_OK) {
        if (is_internal(&err))
            fuzz_die("internal error in a refund", 0, 0);
        return;   /* a budget or limit the steps did not hit: nothing to compare */
    }
    stats.one_shot++;
    tsr_refund_result_totals(res, &t);
    for (k = 0; k < tsr_refund_result_line_count(res); k++)
        if (tsr_refund_result_line_status(res, k) != TSR_REFUND_REFUNDED)
            fuzz_die("a line refunded in steps is rejected in one refund", k, 0);
    if (t.fee != q->l.fee || t.points_restored != q->l.restored ||
        t.points_revoked != q->l.revoked)
        fuzz_die("refunds in steps keep other fees or points than one refund of the same lines",
                 (size_t)q->l.fee, (size_t)t.fee);
    if (q->l.most_known && q->l.withheld == q->l.most ? t.amount != q->l.paid_back
                                                      : t.amount > q->l.paid_back)
        fuzz_die("refunds in steps pay back other than one refund of the same lines",
                 (size_t)q->l.paid_back, (size_t)t.amount);
    stats.one_shot_more += t.amount < q->l.paid_back;
    tsr_refund_result_free(res);
}

/* A copy of the receipt with one byte changed is refused, or refunds what
 * the receipt did (the byte was in something the refund does not read). */
static void tamper(src *s, const sequence *q, const step *st, const char *json)
{
    static char copy[65536];
    tsr_refund_result *res = NULL;
    sequence bad = *q;
    step plain = *st;
    tsr_error err;
    size_t at;

    if (q->receipt_len > sizeof copy)
        return;
    memcpy(copy, q->receipt, q->receipt_len);
    at = pick(s, 65536) % q->receipt_len;
    copy[at] = (char)(pick(s, 2) ? copy[at] ^ (1 << pick(s, 7)) : "0123456789.\"-"[pick(s, 13)]);
    bad.receipt = copy;
    plain.via_c = 0;
    plain.claw = 1;
    plain.clawback = q->l.withheld;
    memset(&err, 0, sizeof err);
    if (run_step(&bad, &plain, &res, &err) != TSR_OK) {
        if (is_internal(&err))
            fuzz_die("internal error in a refund", 0, 0);
        return;
    }
    if (strcmp(tsr_refund_result_json(res, NULL), json) != 0)
        fuzz_die("a changed receipt refunds something else", at, 0);
    stats.tampered_same++;
    tsr_refund_result_free(res);
}

/* What the lines cost before redemption: the same order priced without it
 * (redemption comes after the discounts, so the discounts are the same). */
static void totals_before_redemption(sequence *q)
{
    static char text[ORDER_MAX];
    src s = q->start;
    out o = { text, 0, sizeof text };
    tsr_result *r = NULL;
    size_t i;

    make_order(&s, q->rules, &o, 0, 1);
    if (tsr_evaluate_text(&r, q->rs, text, o.len, NULL, NULL) != TSR_OK)
        return;
    if (tsr_result_line_count(r) == q->nlines) {
        q->before_known = 1;
        for (i = 0; i < q->nlines; i++) {
            q->before[i] = tsr_result_line_total(r, i);
            if (q->before[i] < q->totals[i])
                fuzz_die("a line costs less before redemption than after", i, 0);
        }
    }
    tsr_result_free(r);
}

static void structured(const uint8_t *data, size_t size)
{
    static char order[ORDER_MAX];
    src s = { data + 1, size - 1 };
    out o = { order, 0, sizeof order };
    sequence q;
    step steps[4];
    tsr_result *priced = NULL;
    tsr_error err;
    size_t nsteps, k, i;
    int same_time = 1, rc;

    stats.structured++;
    memset(&q, 0, sizeof q);
    q.rules = data[0] % 3;
    q.rs = rules_at(q.rules);
    q.start = s;
    q.nlines = make_order(&s, q.rules, &o, 0, 0);
    q.order = order;
    q.order_len = o.len;
    memset(&err, 0, sizeof err);
    rc = tsr_evaluate_text(&priced, q.rs, order, o.len, NULL, &err);
    fuzz_say("evaluate", rc, &err);
    if (rc != TSR_OK) {
        /* the refund prices the order first: it fails the same way */
        tsr_refund_result *res = NULL;
        step st;
        memset(&st, 0, sizeof st);
        st.lines[st.nlines++] = 0;
        st.day = 2;
        q.receipt = "{}";
        q.receipt_len = 2;
        if (run_step(&q, &st, &res, &err) != rc)
            fuzz_die("the refund of an order that cannot be priced fails otherwise", 0, 0);
        return;
    }
    stats.priced++;
    q.receipt = tsr_result_json(priced, &q.receipt_len);
    if (!q.receipt || tsr_result_line_count(priced) != q.nlines)
        fuzz_die("an evaluation without JSON or with other lines", 0, q.nlines);
    for (i = 0; i < q.nlines; i++)
        q.totals[i] = tsr_result_line_total(priced, i);
    totals_before_redemption(&q);
    q.l.most_known = most_withheld(&q, 0, &q.l.most);
    nsteps = 1 + pick(&s, 4);
    for (k = 0; k < nsteps; k++) {
        tsr_refund_result *res = NULL, *honest = NULL;
        step *st = &steps[k];

        make_step(&s, &q, st, k == 0, k ? &steps[k - 1] : NULL);
        if (k && (st->day != steps[0].day || st->hour != steps[0].hour))
            same_time = 0;
        memset(&err, 0, sizeof err);
        res = (tsr_refund_result *)&err;   /* must come back NULL on failure */
        rc = run_step(&q, st, &res, &err);
        fuzz_say("refund", rc, &err);
        if (rc != TSR_OK) {
            if (res)
                fuzz_die("failed refund left a result in *out", 0, 0);
            fuzz_check_error(rc, &err);
            if (is_internal(&err))
                fuzz_die("internal error in a refund", 0, 0);
            if (st->bad || st->prev_bad || strcmp(err.path, "previous.clawback") != 0)
                break;   /* the request was wrong, or a limit: the sequence ends */
            check_refused_clawback(&q, st, rc, &err);
        } else if (st->bad || st->prev_bad) {
            fuzz_die("an invalid refund request was accepted", (size_t)st->bad, 0);
        }
        /* the refund the ledger's figure gives is the one recorded */
        if (st->claw == 1 && res) {
            honest = res;
            res = NULL;
        } else {
            step plain = *st;
            plain.claw = 1;
            plain.clawback = q.l.withheld;
            if ((rc = run_step(&q, &plain, &honest, &err)) != TSR_OK) {
                if (is_internal(&err))
                    fuzz_die("internal error in a refund", 0, 0);
                if (strcmp(err.path, "previous.clawback") == 0)
                    fuzz_die("the clawback the ledger holds was refused", 0, 0);
                if (res)
                    fuzz_die("another clawback refunds where the ledger's fails", 0, 0);
                break;
            }
            if (res)
                compare_with_ledger(&q, st, res, honest);
            tsr_refund_result_free(res);
        }
        stats.honest_checked += k > 0;
        try_the_most(&q, st, honest);
        if (k == 0 && pick(&s, 8) == 0)
            tamper(&s, &q, st, tsr_refund_result_json(honest, NULL));
        stats.steps_after_first += k > 0;
        settle(&q, st, honest);
        tsr_refund_result_free(honest);
    }
    if (k == nsteps && same_time)
        compare_one_shot(&q, &steps[0]);
    tsr_result_free(priced);
}

/* A refund request as text. */
static void text_request(const uint8_t *data, size_t size)
{
    const tsr_ruleset *rs = rules_at(size & 1);
    tsr_refund_result *res = NULL;
    tsr_error err;
    int rc;

    memset(&err, 0, sizeof err);
    /* No terminating NUL: the request reader must respect `size`. */
    res = (tsr_refund_result *)&err;   /* must come back NULL on failure */
    rc = tsr_refund(&res, rs, (const char *)data, size, &err);
    fuzz_say("refund", rc, &err);
    if (rc == TSR_OK) {
        tsr_refund_result *again = NULL;
        const char *a, *b;
        size_t alen = 0, blen = 0;

        if (!res)
            fuzz_die("TSR_OK without a refund result", 0, 0);
        read_refund(res);
        count_refund(res);
        /* The library keeps no state: the same request gives the same bytes. */
        if (tsr_refund(&again, rs, (const char *)data, size, &err) != TSR_OK || !again)
            fuzz_die("the same refund request failed the second time", 0, 0);
        a = tsr_refund_result_json(res, &alen);
        b = tsr_refund_result_json(again, &blen);
        if (a && b && (alen != blen || memcmp(a, b, alen) != 0))
            fuzz_die("the same refund request gave different JSON", alen, blen);
        tsr_refund_result_free(again);
        tsr_refund_result_free(res);
    } else {
        if (res)
            fuzz_die("failed refund left a result in *out", 0, 0);
        fuzz_check_error(rc, &err);
        if (is_internal(&err))
            fuzz_die("internal error in a refund", 0, 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned long refunded = stats.refunded, amount = stats.amount,
                  clawback = stats.clawback + stats.returned;
    size_t before;

    rules_at(0);   /* loaded on the first input, before the count of live bytes */
    before = fuzz_live_bytes;
    stats.inputs++;
    if (size > 0 && data[0] >= 0x80)
        structured(data, size);
    else
        text_request(data, size);
    stats.in_refunded += stats.refunded > refunded;
    stats.in_amount += stats.amount > amount;
    stats.in_clawback += stats.clawback + stats.returned > clawback;
    /* the spare orders of tsr_evaluate_text */
    tsr_ruleset_release_memory(park);
    tsr_ruleset_release_memory(opera);
    tsr_ruleset_release_memory(shop);
    fuzz_check_balance(before);
    return 0;
}
