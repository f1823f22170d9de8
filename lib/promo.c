/*
 * promo.c — step 4 of evaluation (SPEC §4): the promo codes an order enters.
 *
 * Each entered code is normalised, matched against the rule set's promo
 * codes (first in file order), then checked in the order the SPEC lists:
 * validity window, eligibility, usage limits, combinability.  The statuses
 * go to res->promos; res->promo_accepted feeds `promo.ID`.
 *
 * Step 5 decides whether an accepted code had any effect, so the final word
 * is tsr__promos_settle, which the driver calls after step 5 with what the
 * discounts did: it turns accepted codes that no requiring discount used
 * into `no_effect`, masks reasons in customer-safe mode and brings the
 * `promo_codes.ID` trace up to date.  Discounts therefore see `promo.ID` true while they are evaluated —
 * otherwise a discount gated on a code could never apply and every code
 * would end up `no_effect`.
 */
#include "eval.h"
#include "promo_index.h"

#include <limits.h>
#include <stdio.h>

/* One entered code while step 4 runs: what the trace should say about the
 * promo it matched when it was not accepted. */
typedef struct entry_note {
    const char *why;
} entry_note;

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The ASCII lower-case letters of the bytes of w upper-cased, every other
 * byte (upper case, digits, bytes of UTF-8 sequences) unchanged: per byte,
 * whether its low seven bits reach 'a' and pass 'z' is the carry into its
 * top bit of two additions that never carry into the next byte. */
static inline uint64_t upcase8(uint64_t w)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), top = ones * 0x80;
    uint64_t low = w & ~top;
    uint64_t from_a = low + ones * (0x80 - 'a'), past_z = low + ones * (0x80 - 'z' - 1);

    return w ^ ((from_a & ~past_z & ~w & top) >> 2);   /* 0x80 >> 2: the case bit */
}

/* Trim surrounding ASCII white space, upper-case ASCII letters: what the
 * customer typed becomes what the result echoes and what is matched.  Into
 * `out` (room for n + 1 bytes), NUL-terminated; returns its length.  The
 * letters are upper-cased a word at a time: eight bytes (the last word of
 * a code that is no multiple of eight overlapping the one before it), or
 * two overlapping words of four, upper-cased together, for 4 to 7 bytes. */
static size_t normalise(const char *s, size_t n, char *out)
{
    size_t i;

    /* a byte above ' ' is no space: one test for the usual ends */
    while (n > 0 && (unsigned char)s[0] <= ' ' && is_ascii_space((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n > 0 && (unsigned char)s[n - 1] <= ' ' && is_ascii_space((unsigned char)s[n - 1]))
        n--;
    out[n] = '\0';
    if (n >= 8) {
        uint64_t w;
        for (i = 0; i + 8 <= n; i += 8) {
            memcpy(&w, s + i, 8);
            w = upcase8(w);
            memcpy(out + i, &w, 8);
        }
        if (i < n) {
            memcpy(&w, s + n - 8, 8);
            w = upcase8(w);
            memcpy(out + n - 8, &w, 8);
        }
    } else if (n >= 4) {
        /* the two words upper-cased together, as one of eight bytes */
        uint32_t a, b;
        uint64_t w;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        w = upcase8((uint64_t)a | (uint64_t)b << 32);
        a = (uint32_t)w;
        b = (uint32_t)(w >> 32);
        memcpy(out + n - 4, &b, 4);
        memcpy(out, &a, 4);
    } else {
        for (i = 0; i < n; i++)
            out[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - ('a' - 'A') : s[i]);
    }
    return n;
}

/* The result's entries and room for the normalised codes after them, in
 * one block: one allocation per order that enters codes.  The entries are
 * filled one by one (each cleared first) as the codes are read. */
static int alloc_entries(tsr_eval *ev, char **text)
{
    const tsr_order *o = ev->order;
    size_t n = o->npromo_codes, size, i;
    unsigned char *block;

    if (n > SIZE_MAX / sizeof *ev->res->promos)
        return TSR_ENOMEM;
    size = n * sizeof *ev->res->promos;
    for (i = 0; i < n; i++) {
        if (o->promo_codes[i].len >= SIZE_MAX - size)
            return TSR_ENOMEM;
        size += o->promo_codes[i].len + 1;
    }
    if (!(block = tsr__arena_bump(ev->arena, size)))
        return TSR_ENOMEM;
    ev->res->promos = (tsr_res_promo *)(void *)block;
    *text = (char *)block + n * sizeof *ev->res->promos;
    return TSR_OK;
}

/* The pattern of promo rule p could not be matched against entry
 * `entry` (a PCRE2 limit): an error at the rule and at promo_codes[entry].
 * Customer-safe mode does not name the rule, as it names no rule that a
 * code was checked against anywhere. */
static int regex_failed(tsr_eval *ev, const tsr_promo *p, size_t entry, const char *code,
                        size_t len, int rc)
{
    char shown[80], path[40];
    const char *verb;

    if (rc == TSR_ENOMEM)
        return rc;
    verb = tsr__regex_hit_limit(ev->x.regex_scratch) ? "hit the" : "failed:";

    tsr__clip(shown, sizeof shown, code, len, 64);
    if (ev->opts->customer_safe)
        tsr__err(ev->err, TSR_EEVAL, "promo code `%s` could not be checked: the pattern %s %s",
                 shown, verb, tsr__regex_last_error(ev->x.regex_scratch));
    else
        tsr__err(ev->err, TSR_EEVAL, "promo code `%s`: the pattern of `promo_codes.%s` %s %s",
                 shown, p->id, verb, tsr__regex_last_error(ev->x.regex_scratch));
    snprintf(path, sizeof path, "promo_codes[%zu]", entry);
    return tsr__eval_locate(ev, TSR_EEVAL, &p->pos, path);
}

/* Whether pattern rule i fits entered code `entry`: 1, 0, or an error. */
static int try_pattern(tsr_eval *ev, size_t entry, const char *code, size_t len, size_t i)
{
    const tsr_promo *p = &ev->rs->promos[i];
    int rc = tsr__regex_match(p->match, code, len, &ev->x.regex_scratch, ev->x.alloc);
    return rc < 0 ? regex_failed(ev, p, entry, code, len, rc) : rc;
}

/* The first pattern rule before rule `limit` that fits entered code
 * `entry`, among those the index says can (in file order); *found is left
 * alone when none does. */
__attribute__((noinline))   /* only for a rule set with patterns */
static int first_pattern(tsr_eval *ev, size_t entry, const char *code, size_t len, int limit,
                         int *found)
{
    tsr_promo_cands cands;
    int i, rc;

    tsr__promo_cands_begin(ev->rs->promo_index, &cands, code, len);
    while ((i = tsr__promo_cands_next(&cands)) >= 0 && i < limit) {
        if ((rc = try_pattern(ev, entry, code, len, (size_t)i)) < 0)
            return rc;
        if (rc == 1) {
            *found = i;
            break;
        }
    }
    return TSR_OK;
}

/* The first promo code rule, in file order, whose `code` or `match` fits
 * entered code `entry`; *found is -1 when none does.  The index gives the
 * exact code's rule and the patterns that can fit; a pattern before the
 * exact code's rule comes first. */
static int find_promo(tsr_eval *ev, size_t entry, const char *code, size_t len, int *found)
{
    const tsr_promo_index *ix = ev->rs->promo_index;
    int exact = tsr__promo_index_exact(ix, code, len);

    *found = exact;
    if (!ix->npatterns)
        return TSR_OK;
    return first_pattern(ev, entry, code, len, exact < 0 ? INT_MAX : exact, found);
}

/* order.promo_uses[id] (or promo_total_uses[id]); absent counts as 0. */
static int64_t uses_of(const tsr_order *o, const char *id, bool total)
{
    size_t len = strlen(id), i;

    for (i = 0; i < o->npromo_uses; i++) {
        const tsr_promo_use *u = &o->promo_uses[i];
        if (u->id_len == len && memcmp(u->id, id, len) == 0) {
            int64_t n = total ? u->total_uses : u->uses;
            return n < 0 ? 0 : n;
        }
    }
    return 0;
}

static const char *date_text(char buf[16], int64_t days)
{
    tsr__format_date(buf, days);
    return buf;
}

/* `valid.from` / `valid.until` at the local date of `now`. */
static tsr_promo_reason check_window(tsr_eval *ev, const tsr_promo *p, const char **why)
{
    char buf[16];

    if (p->valid.has_from && ev->today < p->valid.from) {
        if (tsr__tracing(ev))
            *why = tsr__why(ev, "not yet valid: valid.from %s", date_text(buf, p->valid.from));
        return TSR_PR_NOT_YET_VALID;
    }
    if (p->valid.has_until && ev->today > p->valid.until) {
        if (tsr__tracing(ev))
            *why = tsr__why(ev, "expired: valid.until %s passed", date_text(buf, p->valid.until));
        return TSR_PR_EXPIRED;
    }
    return TSR_PR_NONE;
}

/* v without its date window (check_window has its reasons for it). */
static bool rest_holds(tsr_eval *ev, const tsr_validity *v, const char **why)
{
    tsr_validity rest = *v;

    rest.has_from = rest.has_until = false;
    return tsr__validity_check(ev, &rest, why);
}

/* `when`, `valid.weekdays` / `valid.hours` and `channels`.  The date window
 * has its own reasons (check_window), so it is masked out here. */
static int check_eligible(tsr_eval *ev, const tsr_promo *p, tsr_promo_reason *reason,
                          const char **why)
{
    const tsr_validity *v = &p->valid;
    const char *w = NULL;
    size_t wl = 0;
    bool holds = true;
    int rc;

    /* the window masked out: the rest restricts nothing unless it names
     * weekdays, hours or channels */
    if (v->any && (v->weekdays || v->has_hours || v->channels) &&
        !rest_holds(ev, v, tsr__tracing(ev) ? &w : NULL)) {
        *reason = TSR_PR_NOT_ELIGIBLE;
        if (tsr__tracing(ev))
            *why = tsr__why(ev, "not eligible: %s", w ? w : "valid");
        return TSR_OK;
    }
    if (!p->when)
        return TSR_OK;
    ev->x.item = NULL;
    rc = tsr__expr_test(p->when, &ev->x, &holds, tsr__tracing(ev) ? &w : NULL, &wl);
    if (rc != TSR_OK)
        return rc;
    if (!holds) {
        *reason = TSR_PR_NOT_ELIGIBLE;
        if (tsr__tracing(ev)) {
            if (!w) {
                w = p->when->src;
                wl = p->when->src_len;
            }
            *why = tsr__why(ev, "not eligible: `%.*s` was false",
                            (int)tsr__utf8_prefix(w, wl, TSR_QUOTE_MAX), w);
        }
    }
    return TSR_OK;
}

/* Usage limits, counting an earlier entry of the same promo in this order
 * as a use: one order uses a promo at most once, whatever became of the
 * earlier entry. */
static tsr_promo_reason check_usage(tsr_eval *ev, size_t entry, int promo, const char **why)
{
    const tsr_promo *p = &ev->rs->promos[promo];
    const tsr_result *r = ev->res;
    size_t i;

    for (i = 0; i < entry; i++)
        if (r->promos[i].promo == promo) {
            if (tsr__tracing(ev))
                *why = tsr__why(ev, "usage limit: entered twice (`%.*s` before)",
                                (int)r->promos[i].code_len, r->promos[i].code);
            return TSR_PR_USAGE_LIMIT;
        }
    if (p->has_max_uses_per_customer &&
        uses_of(ev->order, p->id, false) >= p->max_uses_per_customer) {
        if (tsr__tracing(ev))
            *why = tsr__why(ev, "usage limit: max_uses_per_customer %lld reached",
                            (long long)p->max_uses_per_customer);
        return TSR_PR_USAGE_LIMIT;
    }
    if (p->has_max_uses && uses_of(ev->order, p->id, true) >= p->max_uses) {
        if (tsr__tracing(ev))
            *why = tsr__why(ev, "usage limit: max_uses %lld reached", (long long)p->max_uses);
        return TSR_PR_USAGE_LIMIT;
    }
    return TSR_PR_NONE;
}

/* Entry order decides: a code is refused when it is not combinable and
 * something was accepted before it, or when an accepted code before it is
 * not combinable. */
static tsr_promo_reason check_combinable(tsr_eval *ev, size_t entry, int promo, const char **why)
{
    const tsr_ruleset *rs = ev->rs;
    const tsr_result *r = ev->res;
    size_t i;

    for (i = 0; i < entry; i++) {
        const tsr_res_promo *e = &r->promos[i];
        if (e->status != TSR_PROMO_ACCEPTED)
            continue;
        if (!rs->promos[promo].combinable || !rs->promos[e->promo].combinable) {
            if (tsr__tracing(ev))
                *why = tsr__why(ev, "not combinable with `%.*s`", (int)e->code_len, e->code);
            return TSR_PR_NOT_COMBINABLE;
        }
    }
    return TSR_PR_NONE;
}

/* Run every check on entry i, which matched `promo`. */
static int check_entry(tsr_eval *ev, size_t i, int promo, entry_note *note)
{
    const tsr_promo *p = &ev->rs->promos[promo];
    tsr_res_promo *e = &ev->res->promos[i];
    tsr_promo_reason reason;
    int rc;

    /* an open rule (the usual one) passes every check but the entries
     * before it, and the first entry has none */
    if (p->open && i == 0) {
        reason = TSR_PR_NONE;
    } else {
        reason = check_window(ev, p, &note->why);
        if (reason == TSR_PR_NONE && (rc = check_eligible(ev, p, &reason, &note->why)) != TSR_OK)
            return rc;
        if (reason == TSR_PR_NONE)
            reason = check_usage(ev, i, promo, &note->why);
        if (reason == TSR_PR_NONE)
            reason = check_combinable(ev, i, promo, &note->why);
    }
    e->status = reason == TSR_PR_NONE ? TSR_PROMO_ACCEPTED : TSR_PROMO_REJECTED;
    e->reason = reason;
    if (reason == TSR_PR_NONE) {
        ev->res->promo_accepted[promo] = 1;
        tsr__eval_flags_changed(ev);
    }
    return TSR_OK;
}

/* The `promo_codes.ID` trace entry of one rule, from the entries that
 * matched it: applied when one was accepted, else the first one's reason. */
__attribute__((noinline))   /* with a trace only: out of the quiet path */
static int trace_promo(tsr_eval *ev, size_t p, const entry_note *notes)
{
    const tsr_result *r = ev->res;
    const char *why = NULL;
    size_t i;

    for (i = 0; i < r->npromos; i++) {
        if (r->promos[i].promo != (int)p)
            continue;
        if (r->promos[i].status == TSR_PROMO_ACCEPTED)
            return tsr__trace(ev, "promo_codes", ev->rs->promos[p].id, true, NULL);
        if (!why) {
            why = tsr__why(ev, "code `%.*s`: %s",
                           (int)tsr__utf8_prefix(r->promos[i].code, r->promos[i].code_len, 64),
                           r->promos[i].code, notes[i].why ? notes[i].why :
                           tsr__promo_reason_name(r->promos[i].reason));
            if (!why)
                return TSR_ENOMEM;
        }
    }
    return tsr__trace(ev, "promo_codes", ev->rs->promos[p].id, false,
                      why ? why : r->npromos ? "no entered code matches it" : "no code entered");
}

/* Step 4 for an order that enters codes, or with a trace. */
#if defined(__GNUC__)
__attribute__((noinline))   /* its frame only for an order that enters codes */
#endif
static int read_codes(tsr_eval *ev)
{
    const tsr_order *o = ev->order;
    tsr_result *r = ev->res;
    entry_note *notes = NULL, quiet;
    const bool trace = tsr__tracing(ev);   /* read once: the calls below hide it */
    char *text = NULL;
    size_t i;
    int rc;

    if (o->npromo_codes) {
        if (alloc_entries(ev, &text) != TSR_OK)
            return TSR_ENOMEM;
        /* the notes are the trace's: nothing writes them without one */
        if (trace &&
            !(notes = tsr__arena_calloc(ev->arena, o->npromo_codes, sizeof *notes)))
            return TSR_ENOMEM;
    }
    for (i = 0; i < o->npromo_codes; i++) {
        tsr_res_promo *e = &r->promos[i];
        int promo;

        memset(e, 0, sizeof *e);
        e->code = text;
        e->code_len = normalise(o->promo_codes[i].code, o->promo_codes[i].len, text);
        text += o->promo_codes[i].len + 1;
        r->npromos = i + 1;   /* the checks look at the entries before this one */
        e->promo = -1;
        if ((rc = find_promo(ev, i, e->code, e->code_len, &promo)) != TSR_OK)
            return rc;
        e->promo = promo;
        if (promo < 0) {
            e->status = TSR_PROMO_REJECTED;
            e->reason = TSR_PR_UNKNOWN;
            continue;
        }
        quiet.why = NULL;
        if ((rc = check_entry(ev, i, promo, notes ? &notes[i] : &quiet)) != TSR_OK) {
            char path[40];
            snprintf(path, sizeof path, "promo_codes[%zu]", i);
            return tsr__eval_locate(ev, rc, &ev->rs->promos[promo].pos, path);
        }
        if (notes && e->status == TSR_PROMO_REJECTED && !notes[i].why)
            return TSR_ENOMEM;   /* tsr__why ran out of memory */
    }
    for (i = 0; trace && i < ev->rs->npromos; i++)
        if ((rc = trace_promo(ev, i, notes)) != TSR_OK)
            return rc;
    return TSR_OK;
}

int tsr__eval_promos(tsr_eval *ev)
{
    ev->x.promo_accepted = ev->res->promo_accepted;
    /* no code and no trace: nothing to read, nothing to say */
    if (!ev->order->npromo_codes && !tsr__tracing(ev))
        return TSR_OK;
    return read_codes(ev);
}

/* ---------------------------------------------------------------------
 * After step 5.
 */

/* The trace entry step 4 wrote for promo rule p, or NULL. */
static tsr_trace_entry *promo_trace_entry(tsr_eval *ev, size_t p)
{
    tsr_result *r = ev->res;
    const char *id = ev->rs->promos[p].id;
    size_t i;

    for (i = 0; i < r->ntrace; i++)
        if (r->trace[i].id == id && strcmp(r->trace[i].section, "promo_codes") == 0)
            return &r->trace[i];
    return NULL;
}

static int settle_no_effect(tsr_eval *ev, size_t i)
{
    tsr_res_promo *e = &ev->res->promos[i];
    tsr_trace_entry *t;

    e->status = TSR_PROMO_REJECTED;
    e->reason = TSR_PR_NO_EFFECT;
    ev->res->promo_accepted[e->promo] = 0;
    tsr__eval_flags_changed(ev);
    if (!tsr__tracing(ev) || !(t = promo_trace_entry(ev, (size_t)e->promo)))
        return TSR_OK;
    t->applied = false;
    t->why = tsr__why(ev, "code `%.*s`: no effect: no discount that requires it changed a line",
                      (int)tsr__utf8_prefix(e->code, e->code_len, 64), e->code);
    return t->why ? TSR_OK : TSR_ENOMEM;
}

/* Customer-safe mode: a rejection must not tell which codes exist.  So the
 * trace of promo rules says the same for all of them, entered or not, and
 * so does that of the discounts requiring a code: "no eligible lines" there
 * would betray that a code was valid but had no effect. */
static void mask_for_customer(tsr_eval *ev)
{
    const tsr_ruleset *rs = ev->rs;
    tsr_result *r = ev->res;
    size_t i, j;

    for (i = 0; i < r->npromos; i++)
        if (r->promos[i].status == TSR_PROMO_REJECTED)
            r->promos[i].reason = TSR_PR_NOT_APPLICABLE;
    for (i = 0; i < r->ntrace; i++) {
        tsr_trace_entry *t = &r->trace[i];
        if (t->applied)
            continue;
        if (strcmp(t->section, "promo_codes") == 0)
            t->why = "not applicable";
        else if (strcmp(t->section, "discounts") == 0)
            for (j = 0; j < rs->ndiscounts; j++)
                if (rs->discounts[j].id == t->id && rs->discounts[j].requires >= 0)
                    t->why = "not applicable";
    }
}

/* tsr__promos_settle when there is something to settle or mask. */
#if defined(__GNUC__)
__attribute__((noinline))   /* its frame would weigh on the common case */
#endif
static int settle(tsr_eval *ev, const uint8_t *effect)
{
    tsr_result *r = ev->res;
    size_t i;
    int rc;

    for (i = 0; effect && i < r->npromos; i++) {
        const tsr_res_promo *e = &r->promos[i];
        if (e->status != TSR_PROMO_ACCEPTED || effect[i] != TSR_PROMO_EFFECT_NONE)
            continue;
        if ((rc = settle_no_effect(ev, i)) != TSR_OK)
            return rc;
    }
    if (ev->opts->customer_safe)
        mask_for_customer(ev);
    return TSR_OK;
}

int tsr__promos_settle(tsr_eval *ev, const uint8_t *effect)
{
    /* no effect array: no discount required an accepted code */
    if (!effect && !ev->opts->customer_safe)
        return TSR_OK;
    return settle(ev, effect);
}
