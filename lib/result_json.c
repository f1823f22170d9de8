/*
 * result_json.c — a result read out (SPEC §6): the accessors of the public
 * API and the JSON text, both from the result structs evaluation filled.
 * The JSON is built on demand, with a fixed key order so that the same rule
 * set and order always give byte-identical output.
 *
 * Speed: the JSON is the largest cost of `tessera eval --jsonl` after
 * parsing.  tsr_result_json sizes the buffer for a typical result up front,
 * so nearly every append fits.  The writers below therefore copy inline (a
 * literal's length is a compile-time constant: no strlen, no call) and fall
 * back to the tsr__buf_* functions only when the buffer has to grow.  They
 * do not write a terminating NUL after each append as tsr__buf_put does:
 * their fast path always leaves room for one (n < cap - len) and
 * tsr_result_json writes it once at the end.
 */
#include "eval.h"

#include <stdio.h>

const char *tsr__promo_reason_name(tsr_promo_reason r)
{
    static const char *const names[] = {
        "", "unknown", "expired", "not_yet_valid", "not_eligible", "usage_limit",
        "not_combinable", "no_effect", "not_applicable"
    };
    return (unsigned)r < TSR_ARRAY_LEN(names) ? names[r] : "";
}

const char *tsr__redeem_reason_name(tsr_redeem_reason r)
{
    static const char *const names[] = {
        "", "not_member", "balance", "max_percent", "step", "min_points", "no_redeem"
    };
    return (unsigned)r < TSR_ARRAY_LEN(names) ? names[r] : "";
}

/* ---------------------------------------------------------------------
 * Accessors.
 */
size_t tsr_result_line_count(const tsr_result *r)
{
    return r ? r->nlines : 0;
}

const char *tsr_result_line_id(const tsr_result *r, size_t i)
{
    return r && i < r->nlines ? r->lines[i].id : NULL;
}

const char *tsr_result_line_category(const tsr_result *r, size_t i)
{
    return r && i < r->nlines ? r->lines[i].category_name : NULL;
}

int64_t tsr_result_line_total(const tsr_result *r, size_t i)
{
    return r && i < r->nlines ? r->lines[i].total : 0;
}

int64_t tsr_result_line_points(const tsr_result *r, size_t i)
{
    return r && i < r->nlines ? r->lines[i].points_earned : 0;
}

/* Bytes of tsr_totals each version of the header declares.  Appending a
 * field means a new TSR_TOTALS_VERSION and a new entry here; the assert
 * below fails until both are done, so an older caller's struct is never
 * written past. */
static const size_t totals_size[TSR_TOTALS_VERSION + 1] = {
    0,
    TSR_END_OF(tsr_totals, points_redeemed),    /* version 1 */
    TSR_END_OF(tsr_totals, tax),                /* version 2 */
};
_Static_assert(sizeof(tsr_totals) == TSR_END_OF(tsr_totals, tax),
               "a field was appended to tsr_totals: add a TSR_TOTALS_VERSION and its size");

int tsr_result_totals(const tsr_result *r, tsr_totals *out)
{
    static const tsr_totals zero = TSR_TOTALS_INIT;
    int rc = tsr__copy_out_versioned(out, r ? &r->totals : &zero, totals_size,
                                     TSR_ARRAY_LEN(totals_size));
    return rc == TSR_OK && !r ? TSR_EINVAL : rc;
}

int tsr_result_line_tax(const tsr_result *r, size_t i, const char **id, const char **rate,
                        int64_t *amount)
{
    const tsr_tax_rate *t = NULL;

    if (!r || i >= r->nlines)
        return TSR_EINVAL;
    if (r->line_tax && r->line_tax[i].rate >= 0)
        t = &r->rs->taxes.rates[r->line_tax[i].rate];
    if (id)
        *id = t ? t->id : NULL;
    if (rate)
        *rate = t ? t->rate_text : NULL;
    if (amount)
        *amount = t ? r->line_tax[i].amount : 0;
    return t != NULL;
}

size_t tsr_result_tax_count(const tsr_result *r)
{
    size_t k, n = 0;

    if (!r || !r->rate_tax)
        return 0;
    for (k = 0; k < r->rs->taxes.nrates; k++)
        n += r->rate_tax[k].nlines > 0;
    return n;
}

int tsr_result_tax(const tsr_result *r, size_t i, const char **id, const char **rate,
                   int64_t *base, int64_t *amount)
{
    size_t k;

    for (k = 0; r && r->rate_tax && k < r->rs->taxes.nrates; k++) {
        const tsr_rate_tax *rt = &r->rate_tax[k];
        if (rt->nlines == 0 || i-- > 0)
            continue;
        if (id)
            *id = r->rs->taxes.rates[k].id;
        if (rate)
            *rate = r->rs->taxes.rates[k].rate_text;
        if (base)
            *base = rt->base;
        if (amount)
            *amount = rt->amount;
        return TSR_OK;
    }
    return TSR_EINVAL;
}

size_t tsr_result_segment_count(const tsr_result *r)
{
    size_t i, n = 0;
    if (!r)
        return 0;
    for (i = 0; i < r->rs->nsegments; i++)
        n += r->segments[i] != 0;
    return n;
}

const char *tsr_result_segment(const tsr_result *r, size_t k)
{
    size_t i;
    if (!r)
        return NULL;
    for (i = 0; i < r->rs->nsegments; i++)
        if (r->segments[i] && k-- == 0)
            return r->rs->segments[i].id;
    return NULL;
}

const char *tsr_result_tier(const tsr_result *r)
{
    return r && r->tier >= 0 ? r->rs->tiers[r->tier].id : NULL;
}

size_t tsr_result_promo_count(const tsr_result *r)
{
    return r ? r->npromos : 0;
}

int tsr_result_promo(const tsr_result *r, size_t i, const char **code, const char **id,
                     int *status, const char **reason)
{
    const tsr_res_promo *p;
    if (!r || i >= r->npromos)
        return TSR_EINVAL;
    p = &r->promos[i];
    if (code)
        *code = p->code;
    if (id)
        *id = p->promo >= 0 && p->reason != TSR_PR_NOT_APPLICABLE ? r->rs->promos[p->promo].id : NULL;
    if (status)
        *status = p->status == TSR_PROMO_ACCEPTED ? TSR_PROMO_STATUS_ACCEPTED
                                                  : TSR_PROMO_STATUS_REJECTED;
    if (reason)
        *reason = p->status == TSR_PROMO_ACCEPTED ? "" : tsr__promo_reason_name(p->reason);
    return TSR_OK;
}

size_t tsr_result_trace_count(const tsr_result *r)
{
    return r ? r->ntrace : 0;
}

int tsr_result_trace(const tsr_result *r, size_t i, char *rule, size_t rule_size, int *applied,
                     const char **why)
{
    const tsr_trace_entry *t;
    if (!r || i >= r->ntrace)
        return TSR_EINVAL;
    t = &r->trace[i];
    if (rule && rule_size) {
        /* sections are ASCII; a short buffer cuts the id, never inside a character */
        size_t sl = strlen(t->section) + 1;
        size_t n = sl < rule_size - 1 ? tsr__utf8_prefix(t->id, strlen(t->id), rule_size - 1 - sl) : 0;
        snprintf(rule, rule_size, "%s.%.*s", t->section, (int)n, t->id);
    }
    if (applied)
        *applied = t->applied;
    if (why)
        *why = t->applied ? NULL : t->why;
    return TSR_OK;
}

size_t tsr_result_offer_count(const tsr_result *r)
{
    return r ? r->noffers : 0;
}

int tsr_result_offer(const tsr_result *r, size_t i, const char **id, const char **message)
{
    if (!r || i >= r->noffers)
        return TSR_EINVAL;
    if (id)
        *id = r->rs->offers[r->offers[i]].id;
    if (message)
        *message = r->rs->offers[r->offers[i]].message;
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * The JSON text.
 */
/* A rule set's constant as the JSON writes it: a string literal with its
 * quotes, escaped once at load instead of scanned per result. */
typedef struct jtext {
    const char *s;
    size_t n;
} jtext;

struct tsr_json_consts {
    jtext head;         /* {"ruleset":{"id":…,"version":…},"order": */
    jtext currency;     /* ,"currency":"RUB","segments":[ */
    jtext *segments, *tiers, *categories, *promos, *discounts, *earn;
    jtext *offers;      /* {"id":…,"message":…} */
};

/* The text built in b, copied into the rule set's arena; b is emptied. */
static int jtext_take(tsr_ruleset *rs, tsr_buf *b, jtext *out)
{
    char *p;

    if (b->failed)
        return TSR_ENOMEM;
    if (!(p = tsr__arena_strndup(&rs->arena, b->data, b->len)))
        return TSR_ENOMEM;
    out->s = p;
    out->n = b->len;
    b->len = 0;
    return TSR_OK;
}

/* One quoted id per rule: ids[i] at (char *)base + i * stride. */
static int jtext_ids(tsr_ruleset *rs, tsr_buf *b, jtext **out, const void *base, size_t n,
                     size_t stride)
{
    size_t i;

    *out = NULL;
    if (!n)
        return TSR_OK;
    if (!(*out = tsr__arena_calloc(&rs->arena, n, sizeof **out)))
        return TSR_ENOMEM;
    for (i = 0; i < n; i++) {
        const char *id = *(const char *const *)(const void *)((const char *)base + i * stride);
        tsr__buf_json_string(b, id, strlen(id));
        if (jtext_take(rs, b, &(*out)[i]) != TSR_OK)
            return TSR_ENOMEM;
    }
    return TSR_OK;
}

#define JTEXT_IDS(rs, b, out, arr, n) \
    jtext_ids((rs), (b), (out), (arr) ? (const void *)&(arr)[0].id : NULL, (n), sizeof *(arr))

int tsr__result_json_prepare(tsr_ruleset *rs)
{
    struct tsr_json_consts *j = tsr__arena_calloc(&rs->arena, 1, sizeof *j);
    tsr_buf b;
    size_t i;
    int rc = TSR_ENOMEM;

    if (!j)
        return TSR_ENOMEM;
    tsr__buf_init(&b, &rs->alloc);
    tsr__buf_puts(&b, "{\"ruleset\":{\"id\":");
    tsr__buf_json_string(&b, rs->id, strlen(rs->id));
    tsr__buf_puts(&b, ",\"version\":");
    tsr__buf_json_string(&b, rs->version, strlen(rs->version));
    tsr__buf_puts(&b, "},\"order\":");
    if (jtext_take(rs, &b, &j->head) != TSR_OK)
        goto out;
    tsr__buf_puts(&b, ",\"currency\":");
    tsr__buf_json_string(&b, rs->currency, strlen(rs->currency));
    tsr__buf_puts(&b, ",\"segments\":[");
    if (jtext_take(rs, &b, &j->currency) != TSR_OK ||
        JTEXT_IDS(rs, &b, &j->segments, rs->segments, rs->nsegments) != TSR_OK ||
        JTEXT_IDS(rs, &b, &j->tiers, rs->tiers, rs->ntiers) != TSR_OK ||
        JTEXT_IDS(rs, &b, &j->categories, rs->categories, rs->ncategories) != TSR_OK ||
        JTEXT_IDS(rs, &b, &j->promos, rs->promos, rs->npromos) != TSR_OK ||
        JTEXT_IDS(rs, &b, &j->discounts, rs->discounts, rs->ndiscounts) != TSR_OK ||
        JTEXT_IDS(rs, &b, &j->earn, rs->loyalty.earn, rs->loyalty.nearn) != TSR_OK)
        goto out;
    if (rs->noffers && !(j->offers = tsr__arena_calloc(&rs->arena, rs->noffers, sizeof *j->offers)))
        goto out;
    for (i = 0; i < rs->noffers; i++) {
        const tsr_offer *o = &rs->offers[i];
        tsr__buf_puts(&b, "{\"id\":");
        tsr__buf_json_string(&b, o->id, strlen(o->id));
        tsr__buf_puts(&b, ",\"message\":");
        if (o->message)
            tsr__buf_json_string(&b, o->message, strlen(o->message));
        else
            tsr__buf_puts(&b, "null");
        tsr__buf_putc(&b, '}');
        if (jtext_take(rs, &b, &j->offers[i]) != TSR_OK)
            goto out;
    }
    rs->json = j;
    rc = TSR_OK;
out:
    tsr__buf_free(&b);
    return rc;
}

/* Append n bytes. */
static inline void put(tsr_buf *b, const char *s, size_t n)
{
    if (TSR_LIKELY(n < b->cap - b->len)) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
    } else {
        tsr__buf_put(b, s, n);   /* grows, or marks the buffer failed */
    }
}

/* Append a string literal (its length is known at compile time). */
#define LIT(b, s) put((b), "" s, sizeof(s) - 1)

static inline void putc_(tsr_buf *b, char c)
{
    if (TSR_LIKELY(1 < b->cap - b->len))
        b->data[b->len++] = c;
    else
        tsr__buf_putc(b, c);
}

/* Ids, kinds and codes rarely need escaping: they are tested eight bytes
 * at a time and copied whole.  not_plain(x) is nonzero when a byte of x is
 * below 0x20, '"' or '\\' (the usual has-zero-byte and has-less-than
 * tricks, exact as a yes/no answer; bytes from 0x80 on are plain).
 * Strings shorter than eight bytes are read as two overlapping halves (or
 * three single bytes) packed into one word, so nothing is read past n. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static inline uint64_t not_plain(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), s = x ^ (ONES * '\\');
    return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((s - ONES) & ~s)) & HIGHS;
}

static inline uint32_t load32(const char *s)
{
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

static inline uint64_t load64(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

/* Up to 7 bytes of s as one word: which bytes land where does not matter
 * to not_plain, as long as every byte of s is in it and the rest are
 * plain ('A'). */
static inline uint64_t short_word(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    if (n >= 4)
        return (uint64_t)load32(s) | (uint64_t)load32(s + n - 4) << 32;
    if (n)
        return u[0] | (uint64_t)u[n >> 1] << 8 | (uint64_t)u[n - 1] << 16 |
               (ONES * 'A' & ~UINT64_C(0xffffff));
    return ONES * 'A';
}

static bool needs_no_escape(const char *s, size_t n)
{
    size_t i;

    if (n < 8)
        return !not_plain(short_word(s, n));
    for (i = 0; i + 8 < n; i += 8)
        if (not_plain(load64(s + i)))
            return false;
    return !not_plain(load64(s + n - 8));   /* the last eight, overlapping */
}

/* s as a JSON string literal, quotes included, in one copy when it can. */
static void put_jstr(tsr_buf *b, const char *s, size_t n)
{
    if (TSR_LIKELY(n < 8) && n + 2 < b->cap - b->len) {
        /* tested and copied from the same two loads */
        char *d = b->data + b->len;
        if (n >= 4) {
            uint32_t lo = load32(s), hi = load32(s + n - 4);
            if (!not_plain((uint64_t)lo | (uint64_t)hi << 32)) {
                d[0] = '"';
                memcpy(d + 1, &lo, 4);
                memcpy(d + 1 + n - 4, &hi, 4);
                d[n + 1] = '"';
                b->len += n + 2;
                return;
            }
        } else if (!not_plain(short_word(s, n))) {
            d[0] = '"';
            if (n) {
                d[1] = s[0];
                d[n] = s[n - 1];
                d[1 + (n >> 1)] = s[n >> 1];
            }
            d[n + 1] = '"';
            b->len += n + 2;
            return;
        }
    } else if (needs_no_escape(s, n) && n + 2 < b->cap - b->len) {
        char *d = b->data + b->len;
        d[0] = '"';
        memcpy(d + 1, s, n);
        d[n + 1] = '"';
        b->len += n + 2;
        return;
    }
    tsr__buf_json_string(b, s, n);
}

/* s escaped for inside a JSON string, without quotes. */
static void put_jesc(tsr_buf *b, const char *s, size_t n)
{
    if (needs_no_escape(s, n))
        put(b, s, n);
    else
        tsr__buf_json_escaped(b, s, n);
}

/* "00" "01" … "99": digits two at a time, half the divisions. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* u in decimal, written backwards ending at p; returns the first digit. */
static inline char *digits_back(char *p, uint64_t u)
{
    while (u >= 100) {
        unsigned k = (unsigned)(u % 100u) * 2u;
        u /= 100u;
        *--p = digit_pairs[k + 1];
        *--p = digit_pairs[k];
    }
    if (u >= 10) {
        *--p = digit_pairs[u * 2u + 1];
        *--p = digit_pairs[u * 2u];
    } else {
        *--p = (char)('0' + u);
    }
    return p;
}

/* A decimal integer (as tsr__buf_int). */
static void put_int(tsr_buf *b, int64_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *p;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    p = digits_back(e, u);
    if (v < 0)
        *--p = '-';
    put(b, p, (size_t)(e - p));
}

static const uint64_t pow10_u64[19] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
    10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
    1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u
};

/* Money in minor units as a quoted fixed-point string, byte for byte what
 * tsr__format_fixed writes ("0.05", "-12.30"): one division splits the
 * units from the fraction, the fraction's digits come in pairs (one table
 * load for the usual two), the units' too. */
static void put_money(tsr_buf *b, const tsr_result *r, int64_t v)
{
    char tmp[48], *e = tmp + sizeof tmp, *p = e - 1;
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, units, frac;
    unsigned scale = r->rs->minor_units;

    if (scale > 18)   /* as tsr__format_fixed: the largest scale an int64 carries */
        scale = 18;
    *p = '"';
    if (scale == 2) {
        unsigned k;
        units = m / 100u;
        k = (unsigned)(m - units * 100u) * 2u;
        *--p = digit_pairs[k + 1];
        *--p = digit_pairs[k];
        *--p = '.';
    } else if (scale) {
        char *stop;
        units = m / pow10_u64[scale];
        frac = m - units * pow10_u64[scale];
        stop = p - scale;
        p = digits_back(p, frac);
        while (p > stop)
            *--p = '0';
        *--p = '.';
    } else {
        units = m;
    }
    p = digits_back(p, units);
    if (v < 0)
        *--p = '-';
    *--p = '"';
    put(b, p, (size_t)(e - p));
}

/* A constant prepared at load. */
static inline void put_jt(tsr_buf *b, const jtext *t)
{
    put(b, t->s, t->n);
}

static void put_str(tsr_buf *b, const char *s)
{
    if (s)
        put_jstr(b, s, strlen(s));
    else
        LIT(b, "null");
}

static void put_date(tsr_buf *b, int64_t days)
{
    char d[24];
    size_t n = tsr__format_date(d + 1, days);
    d[0] = '"';
    d[n + 1] = '"';
    put(b, d, n + 2);
}

/* ,"tax":{"id":…,"rate":…,"amount":…} or ,"tax":null (rule sets with taxes). */
static void put_line_tax(tsr_buf *b, const tsr_result *r, const tsr_res_tax *lt)
{
    const tsr_tax_rate *t;

    if (lt->rate < 0) {
        LIT(b, ",\"tax\":null");
        return;
    }
    t = &r->rs->taxes.rates[lt->rate];
    LIT(b, ",\"tax\":{\"id\":");
    put_str(b, t->id);
    LIT(b, ",\"rate\":");
    put_str(b, t->rate_text);
    LIT(b, ",\"amount\":");
    put_money(b, r, lt->amount);
    putc_(b, '}');
}

/* ,"taxes":[{"id","rate","base","amount"}] for every rate used, in rates order. */
static void put_taxes(tsr_buf *b, const tsr_result *r)
{
    const tsr_taxes *tx = &r->rs->taxes;
    bool first = true;
    size_t k;

    LIT(b, ",\"taxes\":[");
    for (k = 0; k < tx->nrates; k++) {
        const tsr_rate_tax *rt = &r->rate_tax[k];
        if (rt->nlines == 0)
            continue;
        if (!first)
            putc_(b, ',');
        first = false;
        LIT(b, "{\"id\":");
        put_str(b, tx->rates[k].id);
        LIT(b, ",\"rate\":");
        put_str(b, tx->rates[k].rate_text);
        LIT(b, ",\"base\":");
        put_money(b, r, rt->base);
        LIT(b, ",\"amount\":");
        put_money(b, r, rt->amount);
        putc_(b, '}');
    }
    putc_(b, ']');
}

static void put_line(tsr_buf *b, const tsr_result *r, size_t i)
{
    const tsr_ruleset *rs = r->rs;
    const tsr_res_line *l = &r->lines[i];
    size_t d;

    LIT(b, "{\"id\":");
    put_str(b, l->id);
    LIT(b, ",\"kind\":");
    put_str(b, l->kind);
    LIT(b, ",\"category\":");
    if (l->category >= 0)
        put_jt(b, &rs->json->categories[l->category]);
    else
        put_str(b, l->category_name);
    LIT(b, ",\"quantity\":");
    put_int(b, l->quantity);
    LIT(b, ",\"unit_price\":");
    put_money(b, r, l->unit_price);
    LIT(b, ",\"subtotal\":");
    put_money(b, r, l->subtotal);
    LIT(b, ",\"discounts\":");
    putc_(b, '[');
    for (d = 0; d < l->ndiscounts; d++) {
        if (d)
            putc_(b, ',');
        LIT(b, "{\"id\":");
        put_jt(b, &rs->json->discounts[l->discounts[d].discount]);
        LIT(b, ",\"amount\":");
        put_money(b, r, l->discounts[d].amount);
        putc_(b, '}');
    }
    putc_(b, ']');
    LIT(b, ",\"redeemed\":{\"points\":");
    put_int(b, l->redeemed_points);
    LIT(b, ",\"value\":");
    put_money(b, r, l->redeemed_value);
    putc_(b, '}');
    LIT(b, ",\"total\":");
    put_money(b, r, l->total);
    if (r->line_tax)
        put_line_tax(b, r, &r->line_tax[i]);
    LIT(b, ",\"points_earned\":");
    put_int(b, l->points_earned);
    putc_(b, '}');
}

static void put_promos(tsr_buf *b, const tsr_result *r)
{
    size_t i;
    putc_(b, '[');
    for (i = 0; i < r->npromos; i++) {
        const tsr_res_promo *p = &r->promos[i];
        if (i)
            putc_(b, ',');
        LIT(b, "{\"code\":");
        put_jstr(b, p->code, p->code_len);
        /* Customer-safe results must not reveal which codes exist. */
        if (p->promo >= 0 && p->reason != TSR_PR_NOT_APPLICABLE) {
            LIT(b, ",\"id\":");
            put_jt(b, &r->rs->json->promos[p->promo]);
        }
        LIT(b, ",\"status\":");
        if (p->status == TSR_PROMO_ACCEPTED)
            LIT(b, "\"accepted\"");
        else
            LIT(b, "\"rejected\"");
        if (p->status != TSR_PROMO_ACCEPTED) {
            LIT(b, ",\"reason\":");
            put_str(b, tsr__promo_reason_name(p->reason));
        }
        putc_(b, '}');
    }
    putc_(b, ']');
}

static void put_points(tsr_buf *b, const tsr_result *r)
{
    const tsr_ruleset *rs = r->rs;
    size_t i;

    LIT(b, "{\"redeemed\":");
    put_int(b, r->points_redeemed);
    LIT(b, ",\"earned\":");
    put_int(b, r->points_earned);
    if (r->redeem_reason != TSR_RR_NONE) {
        LIT(b, ",\"redeem_reason\":");
        put_str(b, tsr__redeem_reason_name(r->redeem_reason));
    }
    if (r->nlots_used) {
        LIT(b, ",\"lots_used\":");
        putc_(b, '[');
        for (i = 0; i < r->nlots_used; i++) {
            if (i)
                putc_(b, ',');
            LIT(b, "{\"id\":");
            put_str(b, r->lots_used[i].id);
            LIT(b, ",\"points\":");
            put_int(b, r->lots_used[i].points);
            putc_(b, '}');
        }
        putc_(b, ']');
    }
    LIT(b, ",\"entries\":");
    putc_(b, '[');
    for (i = 0; i < r->nentries; i++) {
        const tsr_points_entry *e = &r->entries[i];
        if (i)
            putc_(b, ',');
        LIT(b, "{\"rule\":");
        put_jt(b, &rs->json->earn[e->earn]);
        LIT(b, ",\"line\":");
        put_str(b, e->line >= 0 ? r->lines[e->line].id : NULL);
        LIT(b, ",\"points\":");
        put_int(b, e->points);
        LIT(b, ",\"available_on\":");
        put_date(b, e->available_on);
        LIT(b, ",\"expires_on\":");
        if (e->has_expires)
            put_date(b, e->expires_on);
        else
            LIT(b, "null");
        putc_(b, '}');
    }
    LIT(b, "]}");
}

static void put_trace(tsr_buf *b, const tsr_result *r)
{
    size_t i;
    putc_(b, '[');
    for (i = 0; i < r->ntrace; i++) {
        const tsr_trace_entry *t = &r->trace[i];
        if (i)
            putc_(b, ',');
        LIT(b, "{\"rule\":\"");
        put(b, t->section, strlen(t->section));
        putc_(b, '.');
        put_jesc(b, t->id, strlen(t->id));
        LIT(b, "\",\"applied\":");
        if (t->applied)
            LIT(b, "true");
        else
            LIT(b, "false");
        if (!t->applied) {
            LIT(b, ",\"why\":");
            put_str(b, t->why);
        } else if (t->note) {
            LIT(b, ",\"note\":");
            put_str(b, t->note);
        }
        putc_(b, '}');
    }
    putc_(b, ']');
}

static void put_result(tsr_buf *b, const tsr_result *r)
{
    const tsr_ruleset *rs = r->rs;
    const tsr_totals *t = &r->totals;
    size_t i;
    bool first = true;

    put_jt(b, &rs->json->head);
    put_str(b, r->order_id);
    put_jt(b, &rs->json->currency);
    for (i = 0; i < rs->nsegments; i++) {
        if (!r->segments[i])
            continue;
        if (!first)
            putc_(b, ',');
        first = false;
        put_jt(b, &rs->json->segments[i]);
    }
    putc_(b, ']');
    LIT(b, ",\"tier\":");
    if (r->tier >= 0)
        put_jt(b, &rs->json->tiers[r->tier]);
    else
        LIT(b, "null");
    LIT(b, ",\"lines\":");
    putc_(b, '[');
    for (i = 0; i < r->nlines; i++) {
        if (i)
            putc_(b, ',');
        put_line(b, r, i);
    }
    putc_(b, ']');
    LIT(b, ",\"promo_codes\":");
    put_promos(b, r);
    LIT(b, ",\"totals\":{\"subtotal\":");
    put_money(b, r, t->subtotal);
    LIT(b, ",\"discount\":");
    put_money(b, r, t->discount);
    LIT(b, ",\"redeemed_value\":");
    put_money(b, r, t->redeemed_value);
    if (r->line_tax) {
        LIT(b, ",\"tax\":");
        put_money(b, r, t->tax);
    }
    LIT(b, ",\"due\":");
    put_money(b, r, t->due);
    putc_(b, '}');
    if (r->line_tax)
        put_taxes(b, r);
    LIT(b, ",\"points\":");
    put_points(b, r);
    LIT(b, ",\"offers\":");
    putc_(b, '[');
    for (i = 0; i < r->noffers; i++) {
        if (i)
            putc_(b, ',');
        put_jt(b, &rs->json->offers[r->offers[i]]);
    }
    putc_(b, ']');
    LIT(b, ",\"trace\":");
    put_trace(b, r);
    putc_(b, '}');
}

const char *tsr_result_json(tsr_result *r, size_t *len)
{
    tsr_buf b;
    size_t want;

    if (!r)
        return NULL;
    if (!r->json_ready) {
        /* the buffer of a reused result's last JSON, or a new one; sized
         * for a typical result (~300 bytes a line): one allocation at most */
        tsr__buf_init(&b, &r->alloc);
        b.data = r->json;
        b.cap = r->json_cap;
        r->json = NULL;
        r->json_cap = 0;
        want = 1024 + r->nlines * 320;
        if (b.cap < want) {
            void *p = b.data;
            if (tsr__grow(&r->alloc, &p, &b.cap, want, 1) == TSR_OK)
                b.data = p;
            else
                b.failed = TSR_ENOMEM;
        }
        if (!b.failed)
            put_result(&b, r);
        tsr__buf_put(&b, "", 0);   /* the NUL the inline writers leave out */
        if (b.failed || !b.data) {
            tsr__buf_free(&b);
            return NULL;
        }
        r->json = b.data;
        r->json_len = b.len;
        r->json_cap = b.cap;
        r->json_ready = true;
    }
    if (len)
        *len = r->json_len;
    return r->json;
}
