/*
 * fuzz_refund.c — libFuzzer harness for refunds (SPEC §4, Refund): the
 * request reader, the receipt check (the order evaluated again and compared
 * with the receipt), `refunds.allowed` and `fee`, points restored and revoked,
 * re-pricing with clawback, `previous` and the clawback recomputed for it,
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
    tsr_refund_totals t;
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
    tsr_refund_result_totals(r, &t);
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
 * Checked on top of read_refund():
 *   - a refund pays back at least 0 and at most what the receipt says its
 *     refunded lines paid plus what the ledger says was withheld before;
 *   - all refunds so far pay back at most what their lines paid, and
 *     exactly the lines' amounts less what is still withheld;
 *   - no line is refunded twice; once every line is back nothing is held;
 *   - the clawback the ledger holds is accepted, any other stated figure is
 *     refused at previous.clawback, and leaving it out gives the same refund;
 *   - refunds at one time, in steps, end where one refund of the same lines
 *     does (money and points);
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
        breaks, forged_refused, honest_checked, steps_after_first, one_shot, tampered_same;
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
            "with clawback > 0, %lu with clawback_returned > 0, %lu refused for a broken "
            "discount; %lu forged clawbacks refused, %lu ledger clawbacks accepted; %lu "
            "later steps; %lu one-shot comparisons; %lu tampered receipts refunding the "
            "same\n",
            stats.inputs, stats.structured, stats.priced, stats.in_refunded, stats.in_amount,
            stats.in_clawback, stats.refunds, stats.refunded, stats.amount, stats.clawback,
            stats.returned, stats.breaks, stats.forged_refused, stats.honest_checked,
            stats.steps_after_first, stats.one_shot, stats.tampered_same);
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

/* The order: each rule set's own kinds of line, with what its rules read. */
static size_t make_order(src *s, unsigned rules, out *o)
{
    static const char *const fnb_prices[] = { "0.00", "0.01", "3.50", "12.30", "150.00",
                                              "300.00", "450.00", "999.99" };
    static const unsigned heights[] = { 85, 100, 115, 129, 130, 180 };
    static const char *const zones[] = { "A", "B", "C", "A", "B", "C", "A", "Z" };
    static const char *const shop_codes[] = { "SPRING", "VIP-123", " vip-007 ", "VIP-12", "NOPE" };
    size_t n = 1 + pick(s, MAX_LINES), i;
    unsigned balance = pick(s, 4) * 700;

    put(o, "{\"id\":\"F-%u\",\"datetime\":", pick(s, 3));
    put_time(o, rules, 1, 10);
    put(o, ",\"customer\":{\"id\":\"C-1\",\"member\":%s,\"points_balance\":%u",
        pick(s, 4) ? "true" : "false", balance);
    if (rules == 0)
        put(o, ",\"last_visit\":\"%s\"", pick(s, 2) ? "2024-01-10" : "2026-05-01");
    put(o, "}");
    if (balance && pick(s, 2))
        put(o, ",\"redeem_points\":%u", pick(s, 3) == 0 ? balance : 10 * (1 + pick(s, 60)));
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
        unsigned kind = pick(s, 3), quantity = pick(s, 4) ? 1 : 1 + pick(s, 3);
        put(o, "%s{\"id\":\"L%zu\",\"quantity\":%u,\"event_start\":", i ? "," : "", i, quantity);
        put_time(o, rules, pick(s, 4) ? 8 + pick(s, 23) : 1 + pick(s, 30), pick(s, 24 * 4));
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
        else
            put(o, ",\"kind\":\"fnb\",\"price\":\"%u.%02u\"", pick(s, 500), pick(s, 100));
        put(o, "}");
    }
    put(o, "]}");
    return n;
}

/* What the caller keeps between refunds of the order (docs/refunds.md). */
typedef struct ledger {
    uint8_t refunded[MAX_LINES];
    int64_t withheld;           /* Σ clawback − Σ clawback_returned */
    int64_t paid_back;          /* Σ totals.amount */
    int64_t lines_paid;         /* Σ receipt totals of the lines refunded */
    int64_t lines_amount;       /* Σ the refunded lines' amounts, before clawback */
    int64_t fee, restored, revoked;
} ledger;

/* One refund request of a step. */
typedef struct step {
    size_t lines[MAX_LINES + 1];
    size_t nlines;
    int bad;                    /* the harness made it invalid: 1 unknown line, 2 twice, 3 none */
    unsigned day, hour;
    int claw;                   /* 0 left out, 1 the ledger's, 2 another figure */
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

static int is_internal(const tsr_error *err)
{
    return strncmp(err->message, "internal error", 14) == 0;
}

/* Count how far a successful refund got (TSR_FUZZ_STATS). */
static void count_refund(tsr_refund_result *res)
{
    tsr_refund_totals t;
    size_t k, n = tsr_refund_result_line_count(res), refunded = 0;

    tsr_refund_result_totals(res, &t);
    for (k = 0; k < n; k++) {
        const char *why = tsr_refund_result_line_why(res, k);
        refunded += tsr_refund_result_line_status(res, k) == TSR_REFUND_REFUNDED;
        if (why && strstr(why, "breaks a bundle or threshold"))
            stats.breaks++;
    }
    stats.refunds++;
    stats.refunded += refunded > 0;
    stats.amount += t.amount > 0;
    stats.clawback += t.clawback > 0;
    stats.returned += t.clawback_returned > 0;
}

/* Check one successful refund against the ledger, then record it. */
static void settle(sequence *q, const step *st, tsr_refund_result *res)
{
    ledger *l = &q->l;
    tsr_refund_totals t;
    int64_t paid = 0, amount = 0, fee = 0;
    size_t k, i, left = 0;

    read_refund(res);
    count_refund(res);
    tsr_refund_result_totals(res, &t);
    for (k = 0; k < tsr_refund_result_line_count(res); k++) {
        i = st->lines[k];
        if (strcmp(tsr_refund_result_line_id(res, k), line_ids[i]) != 0)
            fuzz_die("refund lines not in the order asked for", k, i);
        if (tsr_refund_result_line_status(res, k) != TSR_REFUND_REFUNDED)
            continue;
        if (l->refunded[i])
            fuzz_die("a line refunded twice", i, 0);
        l->refunded[i] = 2;   /* by this step; 1 once settled */
        paid += q->totals[i];
        amount += tsr_refund_result_line_amount(res, k);
        fee += tsr_refund_result_line_fee(res, k);
    }
    /* the invariant of one refund, as the library promises it */
    if (t.amount < 0 || t.amount > paid + l->withheld)
        fuzz_die("a refund pays back more than its lines paid plus what was withheld",
                 (size_t)t.amount, (size_t)(paid + l->withheld));
    if (t.clawback_returned > l->withheld)
        fuzz_die("a refund returns more clawback than was withheld", (size_t)t.clawback_returned,
                 (size_t)l->withheld);
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
}

/* The step's lines, time, `previous` and clawback, from the input. */
static void make_step(src *s, const sequence *q, step *st, int first, const step *before)
{
    unsigned mask = pick(s, 1u << q->nlines), i, odd = pick(s, 32);

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
        st->hour = st->day == 1 && pick(s, 4) ? 10 + pick(s, 14) + 24 * pick(s, 4)
                                              : pick(s, 24 * 4);
    } else {
        st->day = before->day;
        st->hour = before->hour;
    }
    st->claw = (int)pick(s, 4);
    if (st->claw == 3)
        st->claw = 1;
    if (st->claw == 1)
        st->clawback = q->l.withheld;
    else if (st->claw == 2)
        st->clawback = pick(s, 3) == 0 ? q->l.withheld + 100000000
                       : pick(s, 2) && q->l.withheld > 0 ? q->l.withheld - 1 - pick(s, 100)
                                                         : q->l.withheld + 1 + pick(s, 100);
    st->via_c = (int)pick(s, 2);
}

/* Refund at one time what the steps refunded, in one request: the same
 * money and points.  Only when every step ran at that time. */
static void compare_one_shot(const sequence *q, const step *at)
{
    tsr_refund_result *res = NULL;
    tsr_refund_totals t;
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
    if (t.amount != q->l.paid_back || t.fee != q->l.fee || t.points_restored != q->l.restored ||
        t.points_revoked != q->l.revoked)
        fuzz_die("refunds in steps pay back other than one refund of the same lines",
                 (size_t)q->l.paid_back, (size_t)t.amount);
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
    q.nlines = make_order(&s, q.rules, &o);
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
    nsteps = 1 + pick(&s, 4);
    for (k = 0; k < nsteps; k++) {
        tsr_refund_result *res = NULL;
        step *st = &steps[k];

        make_step(&s, &q, st, k == 0, k ? &steps[k - 1] : NULL);
        if (k && (st->day != steps[0].day || st->hour != steps[0].hour))
            same_time = 0;
        memset(&err, 0, sizeof err);
        res = (tsr_refund_result *)&err;   /* must come back NULL on failure */
        rc = run_step(&q, st, &res, &err);
        fuzz_say("refund", rc, &err);
        if (rc != TSR_OK) {
            int at_clawback = strcmp(err.path, "previous.clawback") == 0;
            if (res)
                fuzz_die("failed refund left a result in *out", 0, 0);
            fuzz_check_error(rc, &err);
            if (is_internal(&err))
                fuzz_die("internal error in a refund", 0, 0);
            if (st->claw == 1 && !st->bad && !st->prev_bad && at_clawback)
                fuzz_die("the clawback earlier refunds withheld was refused", 0, 0);
            if (st->claw != 2 || !at_clawback || st->bad || st->prev_bad)
                break;   /* the request was wrong, or a limit: the sequence ends */
            if (rc != TSR_ERECEIPT && !((rc == TSR_EORDER || rc == TSR_EINVAL) && st->clawback < 0))
                fuzz_die("a wrong clawback refused with an unexpected code", (size_t)-rc, 0);
            stats.forged_refused++;
            st->claw = 0;   /* as a caller would after reading the message */
            res = NULL;
            if ((rc = run_step(&q, st, &res, &err)) != TSR_OK) {
                if (is_internal(&err))
                    fuzz_die("internal error in a refund", 0, 0);
                break;
            }
        } else {
            if (st->bad || st->prev_bad)
                fuzz_die("an invalid refund request was accepted", (size_t)st->bad, 0);
            if (st->claw == 2)
                fuzz_die("a clawback other than what was withheld was accepted",
                         (size_t)st->clawback, (size_t)q.l.withheld);
            if (st->claw == 1 && k > 0)
                stats.honest_checked++;
        }
        if (st->claw == 0 && q.l.withheld != 0) {
            /* stated, the ledger's figure gives the same refund */
            tsr_refund_result *again = NULL;
            step stated = *st;
            stated.claw = 1;
            stated.clawback = q.l.withheld;
            if (run_step(&q, &stated, &again, &err) != TSR_OK)
                fuzz_die("the clawback earlier refunds withheld was refused", 0, 0);
            if (strcmp(tsr_refund_result_json(again, NULL), tsr_refund_result_json(res, NULL)))
                fuzz_die("a left-out clawback is not the one withheld", 0, 0);
            tsr_refund_result_free(again);
            stats.honest_checked++;
        }
        if (k == 0 && pick(&s, 8) == 0)
            tamper(&s, &q, st, tsr_refund_result_json(res, NULL));
        stats.steps_after_first += k > 0;
        settle(&q, st, res);
        tsr_refund_result_free(res);
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
    fuzz_check_balance(before);
    return 0;
}
