/* Unit tests for step 4, promo codes (lib/promo.c), and how step 5 settles
 * them (no_effect, customer-safe mode): normalisation, matching, every
 * rejection reason, combinability in both directions, the trace. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "eval.h"
#include "promo_index.h"

static const char rules[] =
    "tessera: 1\nruleset: t\ncurrency: EUR\n"
    "schema:\n  customer: { member: bool }\n"
    "promo_codes:\n"
    "  - id: doctors\n"
    "    match: '^DOC-[0-9]{6}$'\n"
    "    valid: { from: 2026-01-01, until: 2026-12-31 }\n"
    "    max_uses_per_customer: 1\n"
    "  - { id: doc-zero, code: DOC-000000 }\n"
    "  - { id: summer, code: ' summer10 ', max_uses: 100 }\n"
    "  - { id: members, code: MEMBER, when: customer.member }\n"
    "  - { id: weekend, code: WEEKEND, valid: { weekdays: [6, 7] } }\n"
    "  - { id: web, code: WEB, channels: [web] }\n"
    "  - { id: solo, code: SOLO, combinable: false }\n"
    "  - { id: later, code: LATER, valid: { from: 2027-01-01 } }\n"
    "  - { id: nothing, code: NOTHING }\n"
    "  - { id: points, code: POINTS }\n"
    "discounts:\n"
    "  - { id: doctors-99, requires: doctors, for: item.kind == \"ticket\", percent: 99,"
    " exclusive: true, priority: 10 }\n"
    "  - { id: doc-zero-1, requires: doc-zero, amount: 1.00 }\n"
    "  - { id: summer-10, requires: summer, percent: 10 }\n"
    "  - { id: member-1, requires: members, amount: 1.00 }\n"
    "  - { id: weekend-1, requires: weekend, amount: 1.00 }\n"
    "  - { id: web-1, requires: web, amount: 1.00 }\n"
    "  - { id: solo-1, requires: solo, amount: 1.00 }\n"
    "  - { id: later-1, requires: later, amount: 1.00 }\n"
    "  - { id: nothing-50, requires: nothing, for: item.kind == \"nothing\", percent: 50 }\n"
    "  - { id: points-when, when: promo.points, amount: 0.50 }\n"
    "offers:\n"
    "  - { id: nothing-offer, when: promo.nothing, message: x }\n"
    "  - { id: points-offer, when: promo.points, message: y }\n";

static tsr_ruleset *rs;

static int load_rules(void **state)
{
    tsr_error err;
    (void)state;
    if (tsr_ruleset_load_string(&rs, rules, strlen(rules), "promo.yaml", NULL, &err) != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fprintf(stderr, "rule set did not load: %s\n", buf);
        return -1;
    }
    return 0;
}

static int free_rules(void **state)
{
    (void)state;
    tsr_ruleset_free(rs);
    return 0;
}

/* An order on Wednesday 2026-06-10 (or `when`), one 100.00 ticket, the
 * codes given as a JSON list body, and `extra` JSON members. */
static tsr_result *eval_codes_opts(const char *when, const char *codes, const char *extra,
                                   int safe, int no_trace)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    char order[1024];
    tsr_result *r = NULL;
    tsr_error err;

    o.customer_safe = safe;
    o.no_trace = no_trace;
    snprintf(order, sizeof order,
             "{\"datetime\": \"%s\", \"channel\": \"app\","
             " \"customer\": {\"id\": \"C1\", \"member\": false},"
             " \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\", \"price\": \"100.00\"}],"
             " \"promo_codes\": [%s]%s%s}",
             when ? when : "2026-06-10T11:00:00+03:00", codes, extra ? ", " : "",
             extra ? extra : "");
    if (tsr_evaluate_text(&r, rs, order, strlen(order), &o, &err) != TSR_OK) {
        char buf[1024];
        tsr_error_format(buf, sizeof buf, &err);
        fail_msg("evaluation failed: %s\n%s", buf, order);
    }
    return r;
}

static tsr_result *eval_codes(const char *when, const char *codes, const char *extra, int safe)
{
    return eval_codes_opts(when, codes, extra, safe, 0);
}

static const char *promo_id(const tsr_result *r, size_t i)
{
    return r->promos[i].promo >= 0 ? rs->promos[r->promos[i].promo].id : "-";
}

static int promo_index(const char *id)
{
    size_t i;
    for (i = 0; i < rs->npromos; i++)
        if (strcmp(rs->promos[i].id, id) == 0)
            return (int)i;
    fail_msg("no promo %s", id);
    return -1;
}

static void assert_status(const tsr_result *r, size_t i, const char *code,
                          tsr_promo_status status, tsr_promo_reason reason)
{
    assert_true(i < r->npromos);
    assert_string_equal(r->promos[i].code, code);
    assert_int_equal(r->promos[i].code_len, strlen(code));
    if (r->promos[i].status != status || r->promos[i].reason != reason)
        fail_msg("code %s: status %d reason %s, want %d %s", code, r->promos[i].status,
                 tsr__promo_reason_name(r->promos[i].reason), status,
                 tsr__promo_reason_name(reason));
}

#define ACCEPTED(r, i, code) assert_status((r), (i), (code), TSR_PROMO_ACCEPTED, TSR_PR_NONE)
#define REJECTED(r, i, code, why) assert_status((r), (i), (code), TSR_PROMO_REJECTED, (why))

static const tsr_trace_entry *trace_of(const tsr_result *r, const char *section, const char *id)
{
    size_t i;
    for (i = 0; i < r->ntrace; i++)
        if (strcmp(r->trace[i].section, section) == 0 && strcmp(r->trace[i].id, id) == 0)
            return &r->trace[i];
    fail_msg("no trace entry %s.%s", section, id);
    return NULL;
}

static bool has_offer(const tsr_result *r, const char *id)
{
    size_t i;
    for (i = 0; i < r->noffers; i++)
        if (strcmp(rs->offers[r->offers[i]].id, id) == 0)
            return true;
    return false;
}

/* ---------------------------------------------------------------------
 */

/* Without a trace the entries are laid out in one block and no notes are
 * kept: every entry must still read as with a trace, byte for byte. */
static void test_codes_read_the_same_without_a_trace(void **state)
{
    static const char *const lists[] = {
        "\" doc-123456 \", \"\\tSummer10\\n\"",
        "\"\", \"  \", \"solo\", \"WEB\", \"doc-000000\", \"DOC-123456\", \"doc-123456\"",
        "\" a b \", \"sp\u00e4t-x\", \"nothing\", \"points\", \"later\", \"member\"",
    };
    size_t l, i;
    int safe;
    (void)state;

    for (l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (safe = 0; safe < 2; safe++) {
            tsr_result *traced = eval_codes_opts(NULL, lists[l], NULL, safe, 0);
            tsr_result *quiet = eval_codes_opts(NULL, lists[l], NULL, safe, 1);
            assert_int_equal(quiet->npromos, traced->npromos);
            assert_true(quiet->npromos > 0);
            for (i = 0; i < quiet->npromos; i++) {
                const tsr_res_promo *a = &traced->promos[i], *b = &quiet->promos[i];
                assert_int_equal(b->code_len, a->code_len);
                assert_memory_equal(b->code, a->code, a->code_len);
                assert_int_equal(b->code[b->code_len], '\0');
                assert_int_equal(b->promo, a->promo);
                assert_int_equal(b->status, a->status);
                assert_int_equal(b->reason, a->reason);
            }
            assert_int_equal(tsr_result_line_total(quiet, 0), tsr_result_line_total(traced, 0));
            tsr_result_free(traced);
            tsr_result_free(quiet);
        }
}

static void test_code_is_trimmed_and_upper_cased_then_echoed(void **state)
{
    tsr_result *r = eval_codes(NULL, "\" doc-123456 \", \"\\tSummer10\\n\"", NULL, 0);
    (void)state;

    ACCEPTED(r, 0, "DOC-123456");
    assert_string_equal(promo_id(r, 0), "doctors");
    assert_true(r->promo_accepted[promo_index("doctors")]);
    assert_true(trace_of(r, "promo_codes", "doctors")->applied);
    /* doctors-99 claims the ticket (exclusive): summer-10 finds no line, so
     * SUMMER10 had no effect */
    assert_int_equal(tsr_result_line_total(r, 0), 100);
    REJECTED(r, 1, "SUMMER10", TSR_PR_NO_EFFECT);
    tsr_result_free(r);
}

/* A rule without `when`, `valid`, `channels` or usage limits is marked open
 * at load, and its code entered first is accepted without the checks: the
 * same answers, with and without a trace, as with every check run (every
 * rule's mark cleared), for codes of open and of other rules in either
 * order. */
static void test_open_codes_give_the_answers_of_every_check(void **state)
{
    static const char *const open_ids[] = { "doc-zero", "solo", "nothing", "points" };
    static const char *const other_ids[] = { "doctors", "summer", "members", "weekend", "web",
                                             "later" };
    static const struct { const char *codes, *extra; } orders[] = {
        { "\"DOC-000000\"", NULL }, { "\"SOLO\"", NULL }, { "\"POINTS\", \"POINTS\"", NULL },
        { "\"SOLO\", \"NOTHING\"", NULL }, { "\"NOTHING\", \"SOLO\"", NULL },
        { "\"SUMMER10\"", "\"promo_total_uses\": {\"summer\": 100}" },
        { "\"SUMMER10\", \"SOLO\"", NULL }, { "\"MEMBER\", \"POINTS\"", NULL },
        { "\"WEEKEND\"", NULL }, { "\"WEB\"", NULL }, { "\"LATER\", \"DOC-000000\"", NULL },
        { "\"DOC-123456\"", "\"promo_uses\": {\"doctors\": 1}" }, { "\"UNKNOWN\"", NULL },
    };
    bool saved[16];
    size_t i, k;
    int quiet;
    (void)state;

    for (i = 0; i < TSR_ARRAY_LEN(open_ids); i++)
        assert_true(rs->promos[promo_index(open_ids[i])].open);
    for (i = 0; i < TSR_ARRAY_LEN(other_ids); i++)
        assert_false(rs->promos[promo_index(other_ids[i])].open);
    assert_true(rs->npromos <= TSR_ARRAY_LEN(saved));
    for (k = 0; k < TSR_ARRAY_LEN(orders); k++)
        for (quiet = 0; quiet <= 1; quiet++) {
            tsr_result *r = eval_codes_opts(NULL, orders[k].codes, orders[k].extra, 0, quiet);
            char *fast = strdup(tsr_result_json(r, NULL));
            tsr_result_free(r);
            assert_non_null(fast);
            for (i = 0; i < rs->npromos; i++) {
                saved[i] = rs->promos[i].open;
                rs->promos[i].open = false;
            }
            r = eval_codes_opts(NULL, orders[k].codes, orders[k].extra, 0, quiet);
            for (i = 0; i < rs->npromos; i++)
                rs->promos[i].open = saved[i];
            if (strcmp(fast, tsr_result_json(r, NULL)) != 0)
                fail_msg("[%s]: %s\nevery check: %s", orders[k].codes, fast,
                         tsr_result_json(r, NULL));
            tsr_result_free(r);
            free(fast);
        }
}

/* The entered code upper-cased and trimmed a byte at a time, as the
 * language defines it: what promo.c's word-at-a-time normalising must give
 * for every length (its 4-, 8- and overlapping-tail cases). */
static size_t normalise_by_bytes(const char *s, size_t n, char *out)
{
    size_t i;

    while (n > 0 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || (s[n - 1] >= '\t' && s[n - 1] <= '\r')))
        n--;
    for (i = 0; i < n; i++)
        out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
    return n;
}

static void test_codes_of_every_length_are_upper_cased_byte_for_byte(void **state)
{
    /* letters next to the ranges' ends, digits, an inner space, and UTF-8
     * whose bytes carry 'a'..'z' in their low seven bits (E3 = 0x80 | 'c') */
    static const char *const atoms[] = {
        "a", "z", "m", "A", "Z", "`", "{", "@", "[", "0", "9", "-", " ",
        "\xc3\xa4", "\xe3\x81\xb2", "\xf0\x9f\x98\x80", "\x7f", "~"
    };
    char code[64], json[96], want[64];
    uint32_t seed = 12345;
    size_t len, v;
    (void)state;

    for (len = 0; len <= 24; len++)
        for (v = 0; v < 6; v++) {
            tsr_result *r;
            size_t n = 0, wn;
            /* leading and trailing white space on some variants */
            if (v & 1)
                code[n++] = ' ';
            while (n < len + (v & 1)) {
                const char *a;
                seed = seed * 1103515245u + 12345u;
                a = atoms[(seed >> 16) % (sizeof atoms / sizeof atoms[0])];
                memcpy(code + n, a, strlen(a));
                n += strlen(a);
            }
            if (v & 2)
                code[n++] = ' ';
            code[n] = '\0';
            wn = normalise_by_bytes(code, n, want);
            snprintf(json, sizeof json, "\"%s\"", code);
            r = eval_codes_opts(NULL, json, NULL, 0, (int)(v % 3 == 0));
            assert_int_equal(r->npromos, 1);
            assert_int_equal(r->promos[0].code_len, wn);
            assert_memory_equal(r->promos[0].code, want, wn);
            assert_int_equal(r->promos[0].code[wn], '\0');
            tsr_result_free(r);
        }
}

static void test_pattern_must_match_the_whole_code(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"DOC-1234567\", \"XDOC-123456\", \"NOPE\"", NULL, 0);
    (void)state;

    REJECTED(r, 0, "DOC-1234567", TSR_PR_UNKNOWN);
    REJECTED(r, 1, "XDOC-123456", TSR_PR_UNKNOWN);
    REJECTED(r, 2, "NOPE", TSR_PR_UNKNOWN);
    assert_int_equal(r->promos[0].promo, -1);
    assert_int_equal(tsr_result_line_total(r, 0), 10000);
    assert_string_equal(trace_of(r, "promo_codes", "doctors")->why, "no entered code matches it");
    tsr_result_free(r);
}

static void test_first_matching_promo_in_file_order_wins(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"doc-000000\"", NULL, 0);
    (void)state;

    ACCEPTED(r, 0, "DOC-000000");
    assert_string_equal(promo_id(r, 0), "doctors");
    tsr_result_free(r);
}

static void test_validity_window_rejects_expired_and_not_yet_valid(void **state)
{
    tsr_result *late = eval_codes("2027-01-05T12:00:00+03:00", "\"DOC-654321\"", NULL, 0);
    tsr_result *early = eval_codes(NULL, "\"LATER\"", NULL, 0);
    (void)state;

    REJECTED(late, 0, "DOC-654321", TSR_PR_EXPIRED);
    assert_string_equal(trace_of(late, "promo_codes", "doctors")->why,
                        "code `DOC-654321`: expired: valid.until 2026-12-31 passed");
    assert_string_equal(trace_of(late, "discounts", "doctors-99")->why,
                        "requires promo code `doctors`, not accepted");
    REJECTED(early, 0, "LATER", TSR_PR_NOT_YET_VALID);
    assert_false(early->promo_accepted[promo_index("later")]);
    tsr_result_free(late);
    tsr_result_free(early);
}

static void test_eligibility_covers_when_weekdays_and_channels(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"MEMBER\", \"WEEKEND\", \"WEB\"", NULL, 0);
    (void)state;

    REJECTED(r, 0, "MEMBER", TSR_PR_NOT_ELIGIBLE);
    REJECTED(r, 1, "WEEKEND", TSR_PR_NOT_ELIGIBLE);
    REJECTED(r, 2, "WEB", TSR_PR_NOT_ELIGIBLE);
    assert_string_equal(trace_of(r, "promo_codes", "members")->why,
                        "code `MEMBER`: not eligible: `customer.member` was false");
    assert_string_equal(trace_of(r, "promo_codes", "web")->why,
                        "code `WEB`: not eligible: channels: not on channel `app`");
    tsr_result_free(r);
}

static void test_usage_limits_per_customer_and_in_total(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"DOC-123456\", \"SUMMER10\"",
                               "\"promo_uses\": {\"doctors\": 1},"
                               " \"promo_total_uses\": {\"summer\": 100}", 0);
    tsr_result *ok = eval_codes(NULL, "\"SUMMER10\"", "\"promo_total_uses\": {\"summer\": 99}", 0);
    (void)state;

    REJECTED(r, 0, "DOC-123456", TSR_PR_USAGE_LIMIT);
    REJECTED(r, 1, "SUMMER10", TSR_PR_USAGE_LIMIT);
    ACCEPTED(ok, 0, "SUMMER10");
    assert_int_equal(tsr_result_line_total(ok, 0), 9000);
    tsr_result_free(r);
    tsr_result_free(ok);
}

static void test_same_promo_entered_twice_hits_the_usage_limit(void **state)
{
    tsr_result *same = eval_codes(NULL, "\"SUMMER10\", \"summer10\"", NULL, 0);
    tsr_result *two = eval_codes(NULL, "\"DOC-111111\", \"DOC-222222\"", NULL, 0);
    (void)state;

    ACCEPTED(same, 0, "SUMMER10");
    REJECTED(same, 1, "SUMMER10", TSR_PR_USAGE_LIMIT);
    assert_true(trace_of(same, "promo_codes", "summer")->applied);
    assert_int_equal(tsr_result_line_total(same, 0), 9000);
    ACCEPTED(two, 0, "DOC-111111");
    REJECTED(two, 1, "DOC-222222", TSR_PR_USAGE_LIMIT);
    tsr_result_free(same);
    tsr_result_free(two);
}

static void test_non_combinable_code_first_blocks_later_codes(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"SOLO\", \"SUMMER10\"", NULL, 0);
    (void)state;

    ACCEPTED(r, 0, "SOLO");
    REJECTED(r, 1, "SUMMER10", TSR_PR_NOT_COMBINABLE);
    assert_int_equal(tsr_result_line_total(r, 0), 9900);
    tsr_result_free(r);
}

static void test_non_combinable_code_after_an_accepted_one_is_refused(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"NOPE\", \"SUMMER10\", \"SOLO\"", NULL, 0);
    (void)state;

    REJECTED(r, 0, "NOPE", TSR_PR_UNKNOWN);
    ACCEPTED(r, 1, "SUMMER10");
    REJECTED(r, 2, "SOLO", TSR_PR_NOT_COMBINABLE);
    assert_string_equal(trace_of(r, "promo_codes", "solo")->why,
                        "code `SOLO`: not combinable with `SUMMER10`");
    assert_int_equal(tsr_result_line_total(r, 0), 9000);
    tsr_result_free(r);
}

/* Accepted by the checks, but the discount requiring it finds no line:
 * no_effect, and promo.nothing is false for the later steps. */
static void test_code_without_effect_is_rejected_and_reads_false_afterwards(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"NOTHING\"", NULL, 0);
    const tsr_trace_entry *t;
    (void)state;

    REJECTED(r, 0, "NOTHING", TSR_PR_NO_EFFECT);
    assert_false(r->promo_accepted[promo_index("nothing")]);
    assert_false(has_offer(r, "nothing-offer"));
    t = trace_of(r, "promo_codes", "nothing");
    assert_false(t->applied);
    assert_string_equal(t->why,
                        "code `NOTHING`: no effect: no discount that requires it changed a line");
    tsr_result_free(r);
}

/* No discount `requires` POINTS: it works through promo.points, which a
 * discount's `when` and the offers see as true. */
static void test_code_no_discount_requires_stays_accepted(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"POINTS\"", NULL, 0);
    (void)state;

    ACCEPTED(r, 0, "POINTS");
    assert_int_equal(tsr_result_line_total(r, 0), 9950);
    assert_true(has_offer(r, "points-offer"));
    assert_true(trace_of(r, "discounts", "points-when")->applied);
    tsr_result_free(r);
}

static void test_customer_safe_mode_reports_every_rejection_as_not_applicable(void **state)
{
    tsr_result *r = eval_codes(NULL, "\"NOPE\", \"MEMBER\", \"NOTHING\", \"WEB\"", NULL, 1);
    tsr_result *sold = eval_codes(NULL, "\"summer10\", \"NOPE\"", NULL, 1);
    (void)state;

    REJECTED(r, 0, "NOPE", TSR_PR_NOT_APPLICABLE);
    REJECTED(r, 1, "MEMBER", TSR_PR_NOT_APPLICABLE);
    REJECTED(r, 2, "NOTHING", TSR_PR_NOT_APPLICABLE);
    REJECTED(r, 3, "WEB", TSR_PR_NOT_APPLICABLE);
    assert_string_equal(trace_of(r, "promo_codes", "members")->why, "not applicable");
    assert_string_equal(trace_of(r, "promo_codes", "doctors")->why, "not applicable");
    assert_string_equal(trace_of(r, "discounts", "nothing-50")->why, "not applicable");
    assert_string_equal(trace_of(r, "discounts", "doctors-99")->why, "not applicable");
    ACCEPTED(sold, 0, "SUMMER10");
    REJECTED(sold, 1, "NOPE", TSR_PR_NOT_APPLICABLE);
    tsr_result_free(r);
    tsr_result_free(sold);
}

static void test_no_codes_leave_the_trace_saying_so(void **state)
{
    tsr_result *r = eval_codes(NULL, "", NULL, 0);
    (void)state;

    assert_int_equal(r->npromos, 0);
    assert_false(trace_of(r, "promo_codes", "summer")->applied);
    assert_string_equal(trace_of(r, "promo_codes", "summer")->why, "no code entered");
    tsr_result_free(r);
}

/* A rule set whose patterns meet hostile codes: `cyrillic` backtracks
 * without end on "AЖЖ…Ж!" (with a small match limit), `old` takes any code
 * starting with B but has expired. */
static const char hostile_rules[] =
    "tessera: 1\nruleset: h\ncurrency: EUR\n"
    "promo_codes:\n"
    "  - { id: old, match: 'B.*', valid: { until: 2020-01-01 } }\n"
    "  - { id: cyrillic, match: 'A(\xD0\x96+)+' }\n";

/* "A" or "B", 40 × "Ж" (so a cut at 64 bytes falls inside one), then "!". */
static const char *long_code(char first, char *buf)
{
    size_t i;
    buf[0] = first;
    for (i = 0; i < 40; i++)
        memcpy(buf + 1 + 2 * i, "\xD0\x96", 2);
    buf[81] = '!';
    buf[82] = '\0';
    return buf;
}

static int eval_hostile(int safe, const char *codes, tsr_result **out, tsr_error *err)
{
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    tsr_ruleset *h = NULL;
    char order[1024];
    int rc;

    lo.regex_match_limit = 1000;
    if (tsr_ruleset_load_string(&h, hostile_rules, strlen(hostile_rules), "hostile.yaml", &lo,
                                err) != TSR_OK)
        fail_msg("hostile rules: %s", err->message);
    eo.customer_safe = safe;
    snprintf(order, sizeof order,
             "{\"datetime\": \"2026-06-10T11:00:00+03:00\","
             " \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\", \"price\": \"1.00\"}],"
             " \"promo_codes\": [%s]}", codes);
    *out = NULL;
    rc = tsr_evaluate_text(out, h, order, strlen(order), &eo, err);
    if (rc == TSR_OK) {
        /* the result outlives nothing here: check it before the rule set goes */
        size_t len;
        const char *json = tsr_result_json(*out, &len);
        assert_non_null(json);
        assert_true(tsr__utf8_valid(json, len));
        tsr_result_free(*out);
        *out = NULL;
    }
    tsr_ruleset_free(h);
    return rc;
}

static void test_a_pattern_past_its_limit_names_the_rule_and_the_entered_code(void **state)
{
    char code[90], codes[200];
    tsr_result *r;
    tsr_error err;
    (void)state;

    snprintf(codes, sizeof codes, "\"NOPE\", \"%s\"", long_code('A', code));
    assert_int_equal(eval_hostile(0, codes, &r, &err), TSR_EEVAL);
    assert_true(tsr__utf8_valid(err.message, strlen(err.message)));
    assert_non_null(strstr(err.message, "`promo_codes.cyrillic`"));
    assert_non_null(strstr(err.message, "match limit"));
    assert_non_null(strstr(err.message, "...`"));          /* the code, cut */
    assert_string_equal(err.path, "promo_codes[1]");
    assert_string_equal(err.file, "hostile.yaml");
    assert_int_equal(err.line, 6);
    assert_int_equal(err.column, 5);

    /* customer-safe: the same places, but no rule id */
    assert_int_equal(eval_hostile(1, codes, &r, &err), TSR_EEVAL);
    assert_true(tsr__utf8_valid(err.message, strlen(err.message)));
    assert_null(strstr(err.message, "cyrillic"));
    assert_non_null(strstr(err.message, "could not be checked"));
    assert_string_equal(err.path, "promo_codes[1]");
}

static void test_trace_quotes_a_long_code_without_splitting_a_character(void **state)
{
    char code[90], codes[200];
    tsr_result *r;
    tsr_error err;
    (void)state;

    /* the JSON of the result is checked inside eval_hostile */
    snprintf(codes, sizeof codes, "\"%s\"", long_code('B', code));
    assert_int_equal(eval_hostile(0, codes, &r, &err), TSR_OK);
}

/* A minimum-spend code reads the line totals: they exist from this step
 * on, and as no discount has run yet, each line's total is its subtotal —
 * whatever the discounts take off afterwards. */
static void test_minimum_spend_code_reads_line_totals_before_any_discount(void **state)
{
    static const char spend[] =
        "tessera: 1\nruleset: spend\ncurrency: EUR\n"
        "promo_codes:\n"
        "  - { id: spend50, code: SPEND50, when: 'sum(items, item.subtotal) >= 50.00' }\n"
        "  - { id: total50, code: TOTAL50, when: 'sum(items, item.total) >= 50.00' }\n"
        "discounts:\n"
        "  - { id: half, percent: 50 }\n"
        "  - { id: spend50-1, requires: spend50, order_amount: 1.00 }\n"
        "  - { id: total50-1, requires: total50, order_amount: 1.00 }\n";
    tsr_ruleset *own = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    const char *big = "{\"datetime\": \"2026-06-10T11:00:00+02:00\", \"items\": ["
                      "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"20.00\", \"quantity\": 2},"
                      " {\"id\": \"b\", \"kind\": \"fnb\", \"price\": \"10.00\"}],"
                      " \"promo_codes\": [\"SPEND50\", \"TOTAL50\"]}";
    const char *small = "{\"datetime\": \"2026-06-10T11:00:00+02:00\", \"items\": ["
                        "{\"id\": \"a\", \"kind\": \"ticket\", \"price\": \"49.99\"}],"
                        " \"promo_codes\": [\"SPEND50\", \"TOTAL50\"]}";
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&own, spend, strlen(spend), "spend.yaml", NULL, &err),
                     TSR_OK);
    /* 2 x 20.00 + 10.00 = 50.00: both accepted, though `half` then leaves 25.00 */
    assert_int_equal(tsr_evaluate_text(&r, own, big, strlen(big), NULL, &err), TSR_OK);
    assert_int_equal(r->npromos, 2);
    assert_int_equal(r->promos[0].status, TSR_PROMO_ACCEPTED);
    assert_int_equal(r->promos[1].status, TSR_PROMO_ACCEPTED);
    assert_int_equal(r->totals.subtotal, 5000);
    assert_int_equal(r->totals.due, 2500 - 100 - 100);
    tsr_result_free(r);
    /* 49.99: below the minimum */
    assert_int_equal(tsr_evaluate_text(&r, own, small, strlen(small), NULL, &err), TSR_OK);
    assert_int_equal(r->promos[0].status, TSR_PROMO_REJECTED);
    assert_int_equal(r->promos[0].reason, TSR_PR_NOT_ELIGIBLE);
    assert_int_equal(r->promos[1].reason, TSR_PR_NOT_ELIGIBLE);
    assert_int_equal(r->totals.due, 2499);   /* the saving 24.995 rounds half up to 25.00 */
    tsr_result_free(r);
    tsr_ruleset_free(own);
}


/* ---------------------------------------------------------------------
 * The index (lib/promo_index.c): the same rule as trying every rule in
 * file order, without trying them all.
 */

/* Which rule code[0..len) (normalised) matches, trying every rule in file
 * order as the SPEC words it: the oracle for the index. */
static int first_rule_by_trying_all(const tsr_ruleset *set, const char *code, size_t len,
                                    tsr_regex_scratch **scratch)
{
    size_t i;
    for (i = 0; i < set->npromos; i++) {
        const tsr_promo *p = &set->promos[i];
        if (p->code ? p->code_len == len && memcmp(p->code, code, len) == 0
                    : tsr__regex_match(p->match, code, len, scratch, &set->alloc) == 1)
            return (int)i;
    }
    return -1;
}

/* Exact codes, patterns with and without a prefix, case-insensitive
 * patterns, alternations, a pattern before an exact code it also matches
 * and one after it: each entered code gets the rule trying every rule in
 * file order gives. */
static void test_index_finds_the_rule_trying_every_rule_would(void **state)
{
    static const char set_text[] =
        "tessera: 1\nruleset: idx\ncurrency: EUR\n"
        "promo_codes:\n"
        "  - { id: c555, code: DOC-555 }\n"
        "  - { id: p3, match: '^DOC-[0-9]{3}$' }\n"
        "  - { id: c123, code: DOC-123 }\n"           /* p3 matches it first */
        "  - { id: c9, code: DOC-9 }\n"               /* before the patterns that match it */
        "  - { id: p1, match: 'doc-1.*' }\n"
        "  - { id: palt, match: 'DOC-(1|2)2.' }\n"
        "  - { id: ptop, match: 'AB|DOC-9+' }\n"      /* top-level |: no prefix */
        "  - { id: pgroup, match: '(DOC)-9+' }\n"
        "  - { id: ski, match: 'ski-[0-9]+' }\n"
        "  - { id: sopt, match: 'SK?I-0' }\n"
        "  - { id: dot, match: 'X\\.Y' }\n"
        "  - { id: any3, match: '[A-Z]{3}-7' }\n"
        "  - { id: do, match: 'DO' }\n"
        "  - { id: cab, code: ab }\n"
        "  - { id: fill1, match: 'FILL1-\\d' }\n"
        "  - { id: fill2, match: 'fill2-\\d' }\n"
        "  - { id: fill3, match: 'FILL3-\\d|X' }\n"
        "  - { id: d, match: 'D' }\n";
    static const char *codes[] = {
        "DOC-123", "doc-123", " DOC-555 ", "DOC-1", "DOC-12X", "DOC-999", "DOC-9", "DOC-99",
        "AB", "ab", "SKI-5", "\xc5\xbfKI-5", "S\xe2\x84\xaaI-5", "SI-0", "I-0", "X.Y", "XAY",
        "ABC-7", "DO", "D", "ZZZ", "", "FILL1-1", "fill2-2", "FILL3-3", "X", "DOC-",
        "DOC-12\xc5\xbf", "doc-1\xe2\x84\xaa",
    };
    tsr_ruleset *set = NULL;
    tsr_regex_scratch *scratch = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    char order[2048];
    size_t i, n = sizeof codes / sizeof codes[0];
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&set, set_text, strlen(set_text), "idx.yaml", NULL,
                                             &err), TSR_OK);
    /* the prefixes the index was built with */
    assert_int_equal(set->promo_index->ngeneral, 4);   /* ptop, pgroup, any3, fill3 */
    assert_int_equal(set->promo_index->npatterns, 14);
    snprintf(order, sizeof order, "{\"datetime\": \"2026-06-10T11:00:00+03:00\","
             " \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\", \"price\": \"1.00\"}],"
             " \"promo_codes\": [");
    for (i = 0; i < n; i++)
        snprintf(order + strlen(order), sizeof order - strlen(order), "%s\"%s\"",
                 i ? ", " : "", codes[i]);
    snprintf(order + strlen(order), sizeof order - strlen(order), "]}");
    assert_int_equal(tsr_evaluate_text(&r, set, order, strlen(order), NULL, &err), TSR_OK);
    assert_int_equal(r->npromos, n);
    for (i = 0; i < n; i++) {
        int want = first_rule_by_trying_all(set, r->promos[i].code, r->promos[i].code_len,
                                            &scratch);
        if (r->promos[i].promo != want)
            fail_msg("`%s`: rule %d, trying all gives %d", codes[i], r->promos[i].promo, want);
    }
    /* a few spelled out, so the oracle is not the only witness */
    assert_string_equal(set->promos[r->promos[0].promo].id, "p3");
    assert_string_equal(set->promos[r->promos[2].promo].id, "c555");
    assert_string_equal(set->promos[r->promos[6].promo].id, "c9");
    assert_string_equal(set->promos[r->promos[11].promo].id, "ski");   /* long s */
    assert_string_equal(set->promos[r->promos[12].promo].id, "ski");   /* Kelvin sign */
    assert_int_equal(r->promos[20].promo, -1);
    tsr_result_free(r);
    tsr__regex_scratch_free(scratch, &set->alloc);
    tsr_ruleset_free(set);
}

/* A rule set of a few exact codes (compared in turn, without the hash
 * table): codes of one length that differ in their first, middle or last
 * byte, long and short ones, each found as itself; unknown codes of a
 * length some code has, and of none, are not found. */
static void test_few_exact_codes_are_found_and_only_they(void **state)
{
    static const char yaml[] = "tessera: 1\nruleset: few\ncurrency: EUR\npromo_codes:\n"
                               "  - { id: a, code: AB12 }\n  - { id: b, code: AB13 }\n"
                               "  - { id: c, code: XB12 }\n  - { id: d, code: A }\n"
                               "  - { id: e, code: SUMMER-2026-LONG }\n"
                               "  - { id: f, code: SUMMER-2026-LONF }\n"
                               "  - { id: g, code: ACB12 }\n";
    static const struct { const char *code; const char *id; } cases[] = {
        { "AB12", "a" }, { "AB13", "b" }, { "XB12", "c" }, { "A", "d" },
        { "SUMMER-2026-LONG", "e" }, { "SUMMER-2026-LONF", "f" }, { "ACB12", "g" },
        { "AB14", NULL }, { "YB12", NULL }, { "AC12", NULL }, { "B", NULL },
        { "SUMMER-2026-LONH", NULL }, { "AB123", NULL }, { "AB1", NULL }, { "", NULL },
    };
    const tsr_promo_index *ix;
    tsr_ruleset *set = NULL;
    tsr_error err;
    size_t i;
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&set, yaml, sizeof yaml - 1, "few.yaml", NULL, &err),
                     TSR_OK);
    ix = set->promo_index;
    assert_null(ix->codes);   /* the few are compared in turn */
    assert_int_equal(ix->nfew, 7);
    for (i = 0; i < TSR_ARRAY_LEN(cases); i++) {
        int got = tsr__promo_index_exact(ix, cases[i].code, strlen(cases[i].code));
        if (!cases[i].id ? got != -1 : got < 0 || strcmp(set->promos[got].id, cases[i].id) != 0)
            fail_msg("`%s`: rule %d", cases[i].code, got);
        assert_int_equal(got, tsr__promo_index_lookup(ix, cases[i].code, strlen(cases[i].code)));
    }
    tsr_ruleset_free(set);
}

/* Thousands of exact codes and patterns: every code is found, unknown ones
 * are not, including codes that share a slot of the hash table with
 * another (at this load some always do). */
static void test_many_codes_and_patterns_are_found_despite_colliding_slots(void **state)
{
    enum { N = 3000 };
    const tsr_promo_index *ix;
    tsr_ruleset *set = NULL;
    tsr_regex_scratch *scratch = NULL;
    tsr_error err;
    char *text = malloc(N * 80 + 200), code[32];
    size_t len = 0, i, displaced = 0;
    (void)state;

    assert_non_null(text);
    len += (size_t)sprintf(text, "tessera: 1\nruleset: many\ncurrency: EUR\npromo_codes:\n");
    for (i = 0; i < N; i++)
        len += (size_t)sprintf(text + len, i % 2 ? "  - { id: p%zu, match: 'P%zu-[0-9]+' }\n"
                                                 : "  - { id: c%zu, code: C%zu }\n", i, i);
    assert_int_equal(tsr_ruleset_load_string(&set, text, len, "many.yaml", NULL, &err), TSR_OK);
    ix = set->promo_index;
    assert_int_equal(ix->ngeneral, 0);
    for (i = 0; i <= ix->codes_mask; i++) {
        int32_t p = ix->codes[i];
        if (p >= 0 && ((size_t)tsr__hash(&ix->key, set->promos[p].code, set->promos[p].code_len) &
                       ix->codes_mask) != i)
            displaced++;
    }
    assert_true(displaced > 0);
    for (i = 0; i < N; i++) {
        tsr_promo_cands c;
        int got = -1, k;
        snprintf(code, sizeof code, i % 2 ? "P%zu-42" : "C%zu", i);
        if (i % 2 == 0) {
            got = tsr__promo_index_exact(ix, code, strlen(code));
        } else {
            /* P<i>-42 fits the prefix P<i>- and no other: one candidate */
            size_t ncands = 0;
            tsr__promo_cands_begin(ix, &c, code, strlen(code));
            while ((k = tsr__promo_cands_next(&c)) >= 0) {
                ncands++;
                if (tsr__regex_match(set->promos[k].match, code, strlen(code), &scratch,
                                     &set->alloc) == 1)
                    got = k;
            }
            assert_int_equal(ncands, 1);
        }
        assert_int_equal(got, (int)i);
        assert_int_equal(got, first_rule_by_trying_all(set, code, strlen(code), &scratch));
    }
    assert_int_equal(tsr__promo_index_exact(ix, "C1", 2), -1);       /* C1 is a pattern's P1 */
    assert_int_equal(tsr__promo_index_exact(ix, "C30000", 6), -1);
    tsr__regex_scratch_free(scratch, &set->alloc);
    tsr_ruleset_free(set);
    free(text);
}

/* Under a match limit of 1, PCRE2 fails on the limit even for a code
 * outside a pattern's prefix, so the index must not skip the pattern:
 * the evaluation still fails closed, as it did before there was an index. */
static void test_limits_too_small_to_skip_safely_keep_every_pattern(void **state)
{
    static const char set_text[] =
        "tessera: 1\nruleset: tight\ncurrency: EUR\n"
        "promo_codes:\n  - { id: doc, match: '^DOC-[0-9]+$' }\n";
    static const char order[] =
        "{\"datetime\": \"2026-06-10T11:00:00+03:00\","
        " \"items\": [{\"id\": \"t1\", \"kind\": \"ticket\", \"price\": \"1.00\"}],"
        " \"promo_codes\": [\"DOX-1\"]}";
    tsr_load_options lo = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *set = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    (void)state;

    lo.regex_match_limit = 1;
    assert_int_equal(tsr_ruleset_load_string(&set, set_text, strlen(set_text), "t.yaml", &lo,
                                             &err), TSR_OK);
    assert_int_equal(set->promo_index->ngeneral, 1);
    assert_int_equal(tsr_evaluate_text(&r, set, order, strlen(order), NULL, &err), TSR_EEVAL);
    assert_non_null(strstr(err.message, "match limit"));
    tsr_ruleset_free(set);

    lo.regex_match_limit = 2;   /* enough: DOX-1 is skipped, unknown */
    assert_int_equal(tsr_ruleset_load_string(&set, set_text, strlen(set_text), "t.yaml", &lo,
                                             &err), TSR_OK);
    assert_int_equal(set->promo_index->ngeneral, 0);
    assert_int_equal(tsr_evaluate_text(&r, set, order, strlen(order), NULL, &err), TSR_OK);
    assert_int_equal(r->promos[0].reason, TSR_PR_UNKNOWN);
    tsr_result_free(r);
    tsr_ruleset_free(set);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_is_trimmed_and_upper_cased_then_echoed),
        cmocka_unit_test(test_open_codes_give_the_answers_of_every_check),
        cmocka_unit_test(test_codes_read_the_same_without_a_trace),
        cmocka_unit_test(test_codes_of_every_length_are_upper_cased_byte_for_byte),
        cmocka_unit_test(test_pattern_must_match_the_whole_code),
        cmocka_unit_test(test_first_matching_promo_in_file_order_wins),
        cmocka_unit_test(test_validity_window_rejects_expired_and_not_yet_valid),
        cmocka_unit_test(test_eligibility_covers_when_weekdays_and_channels),
        cmocka_unit_test(test_usage_limits_per_customer_and_in_total),
        cmocka_unit_test(test_same_promo_entered_twice_hits_the_usage_limit),
        cmocka_unit_test(test_non_combinable_code_first_blocks_later_codes),
        cmocka_unit_test(test_non_combinable_code_after_an_accepted_one_is_refused),
        cmocka_unit_test(test_code_without_effect_is_rejected_and_reads_false_afterwards),
        cmocka_unit_test(test_code_no_discount_requires_stays_accepted),
        cmocka_unit_test(test_customer_safe_mode_reports_every_rejection_as_not_applicable),
        cmocka_unit_test(test_no_codes_leave_the_trace_saying_so),
        cmocka_unit_test(test_minimum_spend_code_reads_line_totals_before_any_discount),
        cmocka_unit_test(test_a_pattern_past_its_limit_names_the_rule_and_the_entered_code),
        cmocka_unit_test(test_trace_quotes_a_long_code_without_splitting_a_character),
        cmocka_unit_test(test_index_finds_the_rule_trying_every_rule_would),
        cmocka_unit_test(test_few_exact_codes_are_found_and_only_they),
        cmocka_unit_test(test_many_codes_and_patterns_are_found_despite_colliding_slots),
        cmocka_unit_test(test_limits_too_small_to_skip_safely_keep_every_pattern),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, load_rules, free_rules);
}
