/*
 * result_json.c — a result read out (SPEC §6): the accessors of the public
 * API and the JSON text, both from the result structs evaluation filled.
 * The JSON is built on demand, with a fixed key order so that the same rule
 * set and order always give byte-identical output.
 *
 * Speed: the JSON is the largest cost of `tessera eval --jsonl` after
 * parsing.  tsr_result_json sizes the buffer for a typical result up front;
 * the writers make room once per object, not per token (see "The writer"
 * below), and rule-set constants are escaped once at load.
 */
#include "eval.h"

#include <stdio.h>
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

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
    jtext *taxes;       /* {"id":…,"rate":… (its "base" or "amount" follows) */
    /* The trace names rules by their id pointers: each rule id, escaped
     * without quotes, in an open-addressed table keyed by the pointer. */
    struct jid {
        const char *id;     /* NULL: an empty slot */
        jtext text;
        /* An entry's head, {"rule":"<section>.<id>","applied":, for the
         * section jsec_names[sec] the id was added for (0: whys' table) */
        jtext rule;
        unsigned sec;
    } *ids;
    size_t ids_mask;
    /* The trace sentences prepared at load (jwhy_table), each as a quoted
     * JSON string, in a table of the same kind keyed by the sentence's
     * pointer; NULL when the rule set prepares none. */
    struct jid *whys;
    size_t whys_mask;
    /* The room a line's writer makes at once: the most a line takes with
     * its strings and discounts left out (the longest category and rate
     * constants in), and the most each discount adds. */
    size_t line_room, discount_room;
};

/* Readable bytes after a constant's text: the writer copies a constant of
 * up to JT_PAD bytes as one JT_PAD-byte move (put_jt). */
enum { JT_PAD = 16 };

/* The widest texts: "-9223372036854775808"; money as 19 digits, a point,
 * a sign and two quotes (scale 18 pads "0.000…" within that); a date,
 * "+999999-12-31" quoted, copied as DATE_COPY bytes. */
enum { INT_MAX_LEN = 20, MONEY_MAX_LEN = 24, DATE_COPY = 24, NULL_SLACK = 2 };

/* Key text: the length of a literal; a run of keys as one literal shows
 * what an object's room covers. */
#define K(s) (sizeof(s) - 1)

enum {
    /* the three strings' esc_max(idn + kn + cn) counts one pair of quotes */
    LINE_HEAD_MAX = K("{\"id\":,\"kind\":,\"category\":,\"quantity\":,\"unit_price\":,\"subtotal\":"
                      ",\"discounts\":[\"\"\"\"") +
                    INT_MAX_LEN + (size_t)2 * MONEY_MAX_LEN + (size_t)3 * NULL_SLACK,
    LINE_DISCOUNT_MAX = K(",{\"id\":,\"amount\":}") + MONEY_MAX_LEN + JT_PAD,
    LINE_TAIL_MAX = K("],\"redeemed\":{\"points\":,\"value\":},\"total\":,\"tax\":,\"amount\":}"
                      ",\"points_earned\":}") +
                    (size_t)2 * INT_MAX_LEN + (size_t)3 * MONEY_MAX_LEN + JT_PAD,
    /* a line with more discounts makes room for each in turn */
    LINE_DISCOUNTS_AT_ONCE = 16,
};

/* The text built in b, copied into the rule set's arena with JT_PAD zero
 * bytes after it; b is emptied. */
static int jtext_take(tsr_ruleset *rs, tsr_buf *b, jtext *out)
{
    char *p;

    if (b->failed || b->len > SIZE_MAX - JT_PAD)
        return TSR_ENOMEM;
    if (!(p = tsr__arena_alloc(&rs->arena, b->len + JT_PAD)))
        return TSR_ENOMEM;
    if (b->len)
        memcpy(p, b->data, b->len);
    memset(p + b->len, 0, JT_PAD);
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

static inline size_t id_slot(const char *id, size_t mask)
{
    return (size_t)(((uint64_t)(uintptr_t)id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & mask;
}

/* The slot of t (mask: its size - 1) holding key, else the empty slot where
 * key goes: the one probe of the ids' and sentences' tables. */
static inline struct jid *jid_slot(struct jid *t, size_t mask, const char *key)
{
    size_t h;

    for (h = id_slot(key, mask); t[h].id && t[h].id != key; h = (h + 1) & mask)
        ;
    return &t[h];
}

/* The sections whose rules the ids' table holds (a trace entry's section). */
enum { JSEC_NONE, JSEC_CATEGORIES, JSEC_DISCOUNTS, JSEC_EARN, JSEC_OFFERS, JSEC_TAXES,
       JSEC_PROMOS };
static const char *const jsec_names[] = { NULL, "categories", "discounts", "earn", "offers",
                                          "taxes", "promo_codes" };

/* Promo codes are in the ids' table only while they are this few (a rule
 * set may have 100,000; past this their entries are written the general
 * way). */
enum { JID_PROMOS_MAX = 256 };

/* The JSEC_ of a trace entry's section, JSEC_NONE for another one. */
static unsigned jsec_of(const char *section)
{
    unsigned k;

    switch (section[0]) {
    case 'c': k = JSEC_CATEGORIES; break;
    case 'd': k = JSEC_DISCOUNTS; break;
    case 'e': k = JSEC_EARN; break;
    case 'o': k = JSEC_OFFERS; break;
    case 't': k = JSEC_TAXES; break;
    case 'p': k = JSEC_PROMOS; break;
    default: return JSEC_NONE;
    }
    /* the steps' literals are most often the same as these (merged) */
    return section == jsec_names[k] || strcmp(section, jsec_names[k]) == 0 ? k : JSEC_NONE;
}

/* Add the ids at (char *)base + i * stride to j->ids: their text taken
 * from quoted[i] without its quotes when the writer has them already
 * (what follows stays readable for put_jt), else escaped here;
 * and their entries' heads for section sec. */
static int jid_add(tsr_ruleset *rs, tsr_buf *b, struct tsr_json_consts *j, const void *base,
                   size_t n, size_t stride, const jtext *quoted, unsigned sec)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const char *id = *(const char *const *)(const void *)((const char *)base + i * stride);
        struct jid *s = jid_slot(j->ids, j->ids_mask, id);

        if (s->id)
            continue;
        if (quoted) {
            s->text.s = quoted[i].s + 1;
            s->text.n = quoted[i].n - 2;
        } else {
            tsr__buf_json_escaped(b, id, strlen(id));
            if (jtext_take(rs, b, &s->text) != TSR_OK)
                return TSR_ENOMEM;
        }
        tsr__buf_puts(b, "{\"rule\":\"");
        tsr__buf_puts(b, jsec_names[sec]);
        tsr__buf_puts(b, ".");
        tsr__buf_json_escaped(b, id, strlen(id));
        tsr__buf_puts(b, "\",\"applied\":");
        if (jtext_take(rs, b, &s->rule) != TSR_OK)
            return TSR_ENOMEM;
        s->sec = sec;
        s->id = id;
    }
    return TSR_OK;
}

#define JID_ADD(rs, b, j, arr, n, quoted, sec) \
    jid_add((rs), (b), (j), (arr) ? (const void *)&(arr)[0].id : NULL, (n), sizeof *(arr), \
            (quoted), (sec))

/* An empty table for n keys, at most half full: *mask its size - 1. */
static struct jid *jid_alloc(tsr_ruleset *rs, size_t n, size_t *mask)
{
    struct jid *t;
    size_t cap = 8;

    while (cap < 2 * n) {
        if (cap > SIZE_MAX / 4 / sizeof *t)
            return NULL;
        cap *= 2;
    }
    if ((t = tsr__arena_calloc(&rs->arena, cap, sizeof *t)) != NULL)
        *mask = cap - 1;
    return t;
}

/* The table of the rule ids the trace names (at most half full): the
 * sections a traced evaluation lists rule by rule, and the promo codes of a
 * rule set of up to JID_PROMOS_MAX. */
static int jid_table(tsr_ruleset *rs, tsr_buf *b, struct tsr_json_consts *j)
{
    size_t np = rs->npromos <= JID_PROMOS_MAX ? rs->npromos : 0;
    size_t n = rs->ncategories + rs->ndiscounts + rs->noffers + rs->loyalty.nearn +
               rs->taxes.nrates + np;

    if (!(j->ids = jid_alloc(rs, n, &j->ids_mask)))
        return TSR_ENOMEM;
    if (JID_ADD(rs, b, j, rs->categories, rs->ncategories, j->categories, JSEC_CATEGORIES) !=
            TSR_OK ||
        JID_ADD(rs, b, j, rs->discounts, rs->ndiscounts, j->discounts, JSEC_DISCOUNTS) != TSR_OK ||
        JID_ADD(rs, b, j, rs->loyalty.earn, rs->loyalty.nearn, j->earn, JSEC_EARN) != TSR_OK ||
        JID_ADD(rs, b, j, rs->offers, rs->noffers, NULL, JSEC_OFFERS) != TSR_OK ||
        JID_ADD(rs, b, j, rs->taxes.rates, rs->taxes.nrates, NULL, JSEC_TAXES) != TSR_OK ||
        JID_ADD(rs, b, j, rs->promos, np, NULL, JSEC_PROMOS) != TSR_OK)
        return TSR_ENOMEM;
    return TSR_OK;
}

/* The sentences a trace entry quotes that the rule set prepared at load:
 * the `why` of each condition site (the whole text, the root, each operand
 * of a top-level `and`) of the rules the trace lists, and a discount's
 * "requires promo code ..., not accepted".  They are quoted and escaped
 * once here; the writer finds them by their pointer and copies them.
 * Promo codes' conditions are left out (a rule set may have 100,000).  A walk
 * first counts (whys NULL), then fills. */
typedef struct jwhy_walk {
    tsr_ruleset *rs;
    tsr_buf *b;
    struct tsr_json_consts *j;
    size_t n;
    int rc;
} jwhy_walk;

static void jwhy_text(jwhy_walk *w, const char *text)
{
    struct tsr_json_consts *j = w->j;
    struct jid *s;

    if (!text || w->rc != TSR_OK)
        return;
    if (!j->whys) {
        w->n++;
        return;
    }
    if ((s = jid_slot(j->whys, j->whys_mask, text))->id)
        return;
    tsr__buf_json_string(w->b, text, strlen(text));
    if ((w->rc = jtext_take(w->rs, w->b, &s->text)) == TSR_OK)
        s->id = text;
}

static void jwhy_expr(jwhy_walk *w, const tsr_expr *e)
{
    uint32_t i;

    if (e)
        for (i = 0; i < e->nwhys; i++)
            jwhy_text(w, e->whys[i].text);
}

static void jwhy_walk_rules(jwhy_walk *w)
{
    const tsr_ruleset *rs = w->rs;
    size_t i;

    for (i = 0; i < rs->ncategories; i++) {
        jwhy_expr(w, rs->categories[i].for_);
        jwhy_expr(w, rs->categories[i].when);
    }
    for (i = 0; i < rs->ndiscounts; i++) {
        jwhy_expr(w, rs->discounts[i].when);
        jwhy_expr(w, rs->discounts[i].for_);
        jwhy_expr(w, rs->discounts[i].reward);
        jwhy_text(w, rs->discounts[i].requires_why);
    }
    for (i = 0; i < rs->loyalty.nearn; i++) {
        jwhy_expr(w, rs->loyalty.earn[i].for_);
        jwhy_expr(w, rs->loyalty.earn[i].when);
    }
    jwhy_expr(w, rs->loyalty.member_when);
    jwhy_expr(w, rs->loyalty.redeem_for);
    for (i = 0; i < rs->noffers; i++)
        jwhy_expr(w, rs->offers[i].when);
    for (i = 0; i < rs->taxes.nrates; i++)
        jwhy_expr(w, rs->taxes.rates[i].for_);
}

static int jwhy_table(tsr_ruleset *rs, tsr_buf *b, struct tsr_json_consts *j)
{
    jwhy_walk w = {rs, b, j, 0, TSR_OK};

    jwhy_walk_rules(&w);
    if (!w.n)
        return TSR_OK;
    if (!(j->whys = jid_alloc(rs, w.n, &j->whys_mask)))
        return TSR_ENOMEM;
    jwhy_walk_rules(&w);
    return w.rc;
}

static size_t jtext_max(const jtext *t, size_t n)
{
    size_t i, m = 0;
    for (i = 0; i < n; i++)
        m = t[i].n > m ? t[i].n : m;
    return m;
}

static void put_json_or_null(tsr_buf *b, const char *s)
{
    if (s)
        tsr__buf_json_string(b, s, strlen(s));
    else
        tsr__buf_puts(b, "null");
}

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
        put_json_or_null(&b, o->message);
        tsr__buf_putc(&b, '}');
        if (jtext_take(rs, &b, &j->offers[i]) != TSR_OK)
            goto out;
    }
    if (rs->taxes.nrates &&
        !(j->taxes = tsr__arena_calloc(&rs->arena, rs->taxes.nrates, sizeof *j->taxes)))
        goto out;
    for (i = 0; i < rs->taxes.nrates; i++) {
        const tsr_tax_rate *t = &rs->taxes.rates[i];
        tsr__buf_puts(&b, "{\"id\":");
        put_json_or_null(&b, t->id);
        tsr__buf_puts(&b, ",\"rate\":");
        put_json_or_null(&b, t->rate_text);
        if (jtext_take(rs, &b, &j->taxes[i]) != TSR_OK)
            goto out;
    }
    if (jid_table(rs, &b, j) != TSR_OK || jwhy_table(rs, &b, j) != TSR_OK)
        goto out;
    j->line_room = LINE_HEAD_MAX + LINE_TAIL_MAX + JT_PAD +
                   jtext_max(j->categories, rs->ncategories) +
                   jtext_max(j->taxes, rs->taxes.nrates);
    j->discount_room = LINE_DISCOUNT_MAX + jtext_max(j->discounts, rs->ndiscounts);
    rs->json = j;
    rc = TSR_OK;
out:
    tsr__buf_free(&b);
    return rc;
}

/* ---------------------------------------------------------------------
 * The writer.  A cursor p runs through b's buffer.  Each object (the
 * head, a line, a discount, a points entry, ...) first makes room for the
 * most it can write — its key text, a number's widest text, six bytes per
 * byte of a string that might need escaping, JT_PAD past a constant — and
 * then writes without a check per token: key runs are memcpy of a
 * constant size (a few moves once inlined), numbers go forwards two digits
 * at a time, constants prepared at load are copied sixteen bytes at once.
 * b->len is brought up to date only on the slow paths (growing, escaping);
 * tsr_result_json sets it from the final cursor.  A writer that makes room
 * returns NULL when the buffer could not grow (b->failed is then set).
 */

/* The writers' small helpers are inlined into each object's writer
 * whatever the compiler's size heuristics say: a call costs more than most
 * of them, and which calls GCC kept changed with unrelated edits. */
#if defined(__GNUC__)
#  define WINLINE inline __attribute__((always_inline))
#else
#  define WINLINE inline
#endif

/* A literal appended at p: its length is a compile-time constant. */
#define LIT(p, s) (memcpy((p), "" s, K(s)), (p) + K(s))

/* At most what n bytes become as a JSON string with quotes ("\u001f" is
 * six bytes for one).  Saturates instead of wrapping, so room() fails. */
static inline size_t esc_max(size_t n)
{
    return n < SIZE_MAX / 8 ? 6 * n + 2 : SIZE_MAX / 4;
}

static inline size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

static char *grow(tsr_buf *b, char *p, size_t n)
{
    size_t len = (size_t)(p - b->data);
    void *d = b->data;

    b->len = len;
    if (b->failed || n >= SIZE_MAX / 2 - len ||
        tsr__grow(b->alloc, &d, &b->cap, len + n + 1, 1) != TSR_OK) {
        b->failed = TSR_ENOMEM;
        return NULL;
    }
    b->data = d;
    return b->data + len;
}

/* p, with room after it for n bytes and the final NUL (p in the grown
 * buffer when it had to grow); NULL when it could not. */
static WINLINE char *room(tsr_buf *b, char *p, size_t n)
{
    if (TSR_LIKELY(n < (size_t)(b->data + b->cap - p)))
        return p;
    return grow(b, p, n);
}

#define ROOM(n)                           \
    do {                                  \
        if (!(p = room(b, p, (n))))       \
            return NULL;                  \
    } while (0)

/* A constant prepared at load.  Its text is followed by JT_PAD readable
 * bytes (jtext_take), so a short one is copied by one constant-size move:
 * its room is t->n + JT_PAD. */
static WINLINE char *put_jt(char *p, const jtext *t)
{
    if (TSR_LIKELY(t->n <= JT_PAD))
        memcpy(p, t->s, JT_PAD);
    else
        memcpy(p, t->s, t->n);
    return p + t->n;
}

/* put_jt for the trace's heads and sentences, most of them 17 to 48 bytes:
 * up to three JT_PAD-byte moves, the last ending where the text ends. */
static WINLINE char *put_jt48(char *p, const jtext *t)
{
    size_t n = t->n;

    if (TSR_LIKELY(n <= JT_PAD)) {
        memcpy(p, t->s, JT_PAD);
    } else if (TSR_LIKELY(n <= (size_t)3 * JT_PAD)) {
        memcpy(p, t->s, JT_PAD);
        if (n > (size_t)2 * JT_PAD)
            memcpy(p + JT_PAD, t->s + JT_PAD, JT_PAD);
        memcpy(p + n - JT_PAD, t->s + n - JT_PAD, JT_PAD);
    } else {
        memcpy(p, t->s, n);
    }
    return p + n;
}

/* Ids, kinds and codes rarely need escaping: they are tested eight bytes
 * at a time and copied whole, tested and copied from the same loads.
 * not_plain(x) is nonzero when a byte of x is below 0x20, '"' or '\\'
 * (the usual has-zero-byte and has-less-than tricks, exact as a yes/no
 * answer; bytes from 0x80 on are plain).
 * Strings shorter than eight bytes are read as two overlapping halves (or
 * three single bytes) packed into one word, so nothing is read past n. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

static WINLINE uint64_t not_plain(uint64_t x)
{
    uint64_t q = x ^ (ONES * '"'), s = x ^ (ONES * '\\');
    return (((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((s - ONES) & ~s)) & HIGHS;
}

static WINLINE uint32_t load32(const char *s)
{
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

static WINLINE uint64_t load64(const char *s)
{
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

/* Up to 7 bytes of s as one word: which bytes land where does not matter
 * to not_plain, as long as every byte of s is in it and the rest are
 * plain ('A'). */
static WINLINE uint64_t short_word(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;

    if (n >= 4)
        return (uint64_t)load32(s) | (uint64_t)load32(s + n - 4) << 32;
    if (n)
        return u[0] | (uint64_t)u[n >> 1] << 8 | (uint64_t)u[n - 1] << 16 |
               (ONES * 'A' & ~UINT64_C(0xffffff));
    return ONES * 'A';
}

/* How many bytes of the word at s come before the first that needs an
 * escape; m = not_plain(that word), nonzero.  Below that byte not_plain's
 * flags are exact, so on a little-endian machine it is the lowest flag. */
static WINLINE size_t plain_prefix(const char *s, uint64_t m)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    (void)s;
    return (size_t)__builtin_ctzll(m) >> 3;
#else
    size_t k = 0;
    (void)m;
    while ((unsigned char)s[k] >= 0x20 && s[k] != '"' && s[k] != '\\')
        k++;
    return k;
#endif
}

/* The escape of byte c (< 0x20, '"' or '\\'), as tsr__buf_json_escaped
 * writes it. */
static char *esc_byte(char *p, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";

    *p++ = '\\';
    switch (c) {
    case '"':  *p++ = '"'; break;
    case '\\': *p++ = '\\'; break;
    case '\n': *p++ = 'n'; break;
    case '\r': *p++ = 'r'; break;
    case '\t': *p++ = 't'; break;
    case '\b': *p++ = 'b'; break;
    case '\f': *p++ = 'f'; break;
    default:
        p[0] = 'u';
        p[1] = '0';
        p[2] = '0';
        p[3] = hex[c >> 4];
        p[4] = hex[c & 15];
        p += 5;
        break;
    }
    return p;
}

#if defined(__SSE2__)
/* not_plain for sixteen bytes: bit i set when byte i needs an escape
 * (exact; x <= 0x1f as min(x, 0x1f) == x, unsigned). */
static WINLINE unsigned not_plain16(__m128i x)
{
    __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
    __m128i q = _mm_cmpeq_epi8(x, _mm_set1_epi8('"'));
    __m128i bs = _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'));
    return (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_or_si128(q, bs)));
}
#endif

/* s escaped for inside a JSON string (room: 6n), byte for byte as
 * tsr__buf_json_escaped writes it, but at the cursor and sixteen (SSE2) or
 * eight bytes at a time: each block is stored whole and kept up to its
 * first byte that needs an escape; the last bytes of a string with no
 * escape before them come as one block overlapping what was copied.  (The
 * tsr_buf escaper appends a span per escape: on trace sentences that quote
 * strings it cost several times as much.)  Storing a block while as many
 * bytes are left to read stays within the room. */
static char *esc_copy(char *p, const char *s, size_t n)
{
    const char *e = s + n, *s0 = s;
    char *p0 = p;

#if defined(__SSE2__)
    while (e - s >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        unsigned m = not_plain16(x);
        size_t k;
        _mm_storeu_si128((__m128i *)(void *)p, x);
        if (!m) {
            p += 16;
            s += 16;
            continue;
        }
        k = (size_t)__builtin_ctz(m);
        p = esc_byte(p + k, (unsigned char)s[k]);
        s += k + 1;
    }
    if (s < e && n >= 16 && p - p0 == s - s0) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(e - 16));
        if (!not_plain16(x)) {
            _mm_storeu_si128((__m128i *)(void *)(p - (16 - (e - s))), x);
            return p + (e - s);
        }
    }
#endif
    while (e - s >= 8) {
        uint64_t w = load64(s), m = not_plain(w);
        size_t k;
        memcpy(p, &w, 8);
        if (!m) {
            p += 8;
            s += 8;
            continue;
        }
        k = plain_prefix(s, m);
        p = esc_byte(p + k, (unsigned char)s[k]);
        s += k + 1;
    }
    if (s < e && n >= 8 && p - p0 == s - s0) {
        uint64_t w = load64(e - 8);
        if (!not_plain(w)) {
            memcpy(p - (8 - (e - s)), &w, 8);
            return p + (e - s);
        }
    }
    while (s < e) {
        unsigned char c = (unsigned char)*s++;
        if (c >= 0x20 && c != '"' && c != '\\')
            *p++ = (char)c;
        else
            p = esc_byte(p, c);
    }
    return p;
}

/* n bytes from s, n at most 16 (room: 16). */
static WINLINE char *copy_short(char *p, const char *s, size_t n)
{
    if (n >= 8) {
        memcpy(p, s, 8);
        memcpy(p + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(p, s, 4);
        memcpy(p + n - 4, s + n - 4, 4);
    } else if (n) {
        p[0] = s[0];
        p[n - 1] = s[n - 1];
        p[n >> 1] = s[n >> 1];
    }
    return p + n;
}

/* s escaped for inside a JSON string (room: 6n).  Inline for the usual
 * short id or kind: tested and copied from the same loads. */
static WINLINE char *put_esc(char *p, const char *s, size_t n)
{
    if (TSR_LIKELY(n < 8)) {
        if (!not_plain(short_word(s, n)))
            return copy_short(p, s, n);
    } else if (n <= 16) {
        uint64_t lo = load64(s), hi = load64(s + n - 8);
        if (!(not_plain(lo) | not_plain(hi))) {
            memcpy(p, &lo, 8);
            memcpy(p + n - 8, &hi, 8);
            return p + n;
        }
    }
    return esc_copy(p, s, n);
}

/* s as a JSON string literal, quotes included (room: esc_max(n)). */
static WINLINE char *jstr(char *p, const char *s, size_t n)
{
    *p = '"';
    p = put_esc(p + 1, s, n);
    *p = '"';
    return p + 1;
}

/* s (n = slen(s)) as a JSON string, or null (room: esc_max(n) + NULL_SLACK). */
static WINLINE char *jstr_z(char *p, const char *s, size_t n)
{
    return s ? jstr(p, s, n) : LIT(p, "null");
}

/* "00" "01" … "99": digits two at a time. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* The two digits of v < 100. */
static WINLINE const char *pair(size_t v)
{
    return digit_pairs + 2 * v;
}

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

/* u of five digits or more. */
static char *put_uint_long(char *p, uint64_t u)
{
    char tmp[INT_MAX_LEN], *e = tmp + sizeof tmp, *s = digits_back(e, u);
    memcpy(p, s, (size_t)(e - s));
    return p + (e - s);
}

/* u in decimal, forwards: up to four digits (nearly every quantity, price
 * and point count) with one division at most. */
static WINLINE char *put_uint(char *p, uint64_t u)
{
    unsigned h;

    if (u < 10) {
        *p = (char)('0' + u);
        return p + 1;
    }
    if (u < 100) {
        memcpy(p, pair(u), 2);
        return p + 2;
    }
    if (u >= 10000)
        return put_uint_long(p, u);
    h = (unsigned)u / 100u;
    u -= (uint64_t)h * 100u;
    if (h < 10) {
        *p = (char)('0' + h);
        memcpy(p + 1, pair(u), 2);
        return p + 3;
    }
    memcpy(p, pair(h), 2);
    memcpy(p + 2, pair(u), 2);
    return p + 4;
}

/* A decimal integer (as tsr__buf_int; room: INT_MAX_LEN). */
static WINLINE char *put_int(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_uint(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_uint(p, (uint64_t)v);
}

static const uint64_t pow10_u64[19] = {
    1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
    10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
    1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u
};

/* The units and fraction of m for a scale other than 2 (0 to 18). */
static char *put_scaled(char *p, uint64_t m, unsigned scale)
{
    char tmp[INT_MAX_LEN], *e = tmp + sizeof tmp, *s;
    uint64_t units = m / pow10_u64[scale];

    p = put_uint(p, units);
    if (!scale)
        return p;
    s = digits_back(e, m - units * pow10_u64[scale]);
    while (s > e - scale)
        *--s = '0';
    *p = '.';
    memcpy(p + 1, s, scale);
    return p + 1 + scale;
}

/* Money in minor units as a quoted fixed-point string, byte for byte what
 * tsr__format_fixed writes ("0.05", "-12.30"; room: MONEY_MAX_LEN).  scale
 * is the rule set's minor units, at most 18 (jctx_init). */
static WINLINE char *put_money(char *p, int64_t v, unsigned scale)
{
    uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

    if (v == 0 && TSR_LIKELY(scale == 2))   /* redeemed values, most discounts */
        return LIT(p, "\"0.00\"");
    *p++ = '"';
    if (v < 0)
        *p++ = '-';
    if (TSR_LIKELY(scale == 2 && m < 1000000)) {
        /* below 10,000.00, as nearly every price: 32-bit arithmetic */
        uint32_t x = (uint32_t)m, u = x / 100u, f = x % 100u;
        if (u < 10) {
            *p++ = (char)('0' + u);
        } else if (u < 100) {
            memcpy(p, pair(u), 2);
            p += 2;
        } else {
            uint32_t h = u / 100u, l = u % 100u;
            if (h < 10) {
                *p++ = (char)('0' + h);
            } else {
                memcpy(p, pair(h), 2);
                p += 2;
            }
            memcpy(p, pair(l), 2);
            p += 2;
        }
        p[0] = '.';
        memcpy(p + 1, pair(f), 2);
        p[3] = '"';
        return p + 4;
    }
    if (scale == 2) {
        uint64_t units = m / 100u;
        p = put_uint(p, units);
        *p = '.';
        memcpy(p + 1, pair((size_t)(m - units * 100u)), 2);
        p += 3;
    } else {
        p = put_scaled(p, m, scale);
    }
    *p = '"';
    return p + 1;
}

/* Lines whose id text the writer keeps for the points entries. */
enum { KEPT_LINE_IDS = 32 };

/* What the writers share for one result.  Points entries repeat their
 * dates, so the last one formatted is kept; they name lines, so where each
 * line's id was written (quoted and escaped) is kept too. */
typedef struct jctx {
    tsr_buf *b;
    const tsr_result *r;
    const struct tsr_json_consts *j;
    unsigned scale;
    int64_t date_days;
    size_t date_len;            /* 0: none formatted yet */
    char date[DATE_COPY];       /* quoted */
    size_t line_id_at[KEPT_LINE_IDS], line_id_len[KEPT_LINE_IDS];   /* offsets in b */
} jctx;

/* A date, quoted (room: DATE_COPY). */
static WINLINE char *put_date(jctx *c, char *p, int64_t days)
{
    if (c->date_len == 0 || c->date_days != days) {
        c->date_len = tsr__format_date(c->date + 1, days) + 2;
        c->date[0] = '"';
        c->date[c->date_len - 1] = '"';
        c->date_days = days;
    }
    memcpy(p, c->date, DATE_COPY);
    return p + c->date_len;
}


static char *put_line(jctx *c, char *p, size_t i)
{
    tsr_buf *b = c->b;
    const tsr_result *r = c->r;
    const struct tsr_json_consts *j = c->j;
    const unsigned scale = c->scale;
    const tsr_res_line *l = &r->lines[i];
    const jtext *cat = l->category >= 0 ? &j->categories[l->category] : NULL;
    const jtext *tax = NULL;
    size_t idn = l->id_len, kn = l->kind_len, cn = cat ? 0 : slen(l->category_name), d;

    ROOM(j->line_room + esc_max(idn + kn + cn) +
         (l->ndiscounts <= LINE_DISCOUNTS_AT_ONCE ? l->ndiscounts * j->discount_room : 0));
    p = LIT(p, "{\"id\":");
    if (i < KEPT_LINE_IDS) {
        char *at = p;
        p = jstr_z(p, l->id, idn);
        c->line_id_at[i] = (size_t)(at - b->data);
        c->line_id_len[i] = (size_t)(p - at);
    } else {
        p = jstr_z(p, l->id, idn);
    }
    p = LIT(p, ",\"kind\":");
    p = jstr_z(p, l->kind, kn);
    p = LIT(p, ",\"category\":");
    p = cat ? put_jt(p, cat) : jstr_z(p, l->category_name, cn);
    p = LIT(p, ",\"quantity\":");
    p = put_int(p, l->quantity);
    p = LIT(p, ",\"unit_price\":");
    p = put_money(p, l->unit_price, scale);
    p = LIT(p, ",\"subtotal\":");
    p = put_money(p, l->subtotal, scale);
    if (l->ndiscounts == 0 && l->redeemed_points == 0 && l->redeemed_value == 0 &&
        scale == 2) {
        /* the usual line, neither discounted nor paid with points: its
         * keys and zeros in one copy */
        p = LIT(p, ",\"discounts\":[],\"redeemed\":{\"points\":0,\"value\":\"0.00\"},\"total\":");
        goto total;
    }
    p = LIT(p, ",\"discounts\":[");
    for (d = 0; d < l->ndiscounts; d++) {
        const jtext *id = &j->discounts[l->discounts[d].discount];
        if (l->ndiscounts > LINE_DISCOUNTS_AT_ONCE)
            ROOM(j->discount_room);
        if (d)
            *p++ = ',';
        p = LIT(p, "{\"id\":");
        p = put_jt(p, id);
        p = LIT(p, ",\"amount\":");
        p = put_money(p, l->discounts[d].amount, scale);
        *p++ = '}';
    }
    p = LIT(p, "],\"redeemed\":{\"points\":");
    p = put_int(p, l->redeemed_points);
    p = LIT(p, ",\"value\":");
    p = put_money(p, l->redeemed_value, scale);
    p = LIT(p, "},\"total\":");
total:
    p = put_money(p, l->total, scale);
    if (r->line_tax && r->line_tax[i].rate >= 0)
        tax = &j->taxes[r->line_tax[i].rate];
    if (tax) {
        /* ,"tax":{"id":…,"rate":…,"amount":…} */
        p = LIT(p, ",\"tax\":");
        p = put_jt(p, tax);
        p = LIT(p, ",\"amount\":");
        p = put_money(p, r->line_tax[i].amount, scale);
        *p++ = '}';
    } else if (r->line_tax) {
        p = LIT(p, ",\"tax\":null");
    }
    p = LIT(p, ",\"points_earned\":");
    p = put_int(p, l->points_earned);
    *p++ = '}';
    return p;
}

/* ,"taxes":[{"id","rate","base","amount"}] for every rate used, in rates
 * order (rule sets with taxes). */
static char *put_taxes(const jctx *c, char *p)
{
    tsr_buf *b = c->b;
    const tsr_result *r = c->r;
    bool first = true;
    size_t k;

    ROOM(K(",\"taxes\":["));
    p = LIT(p, ",\"taxes\":[");
    for (k = 0; k < r->rs->taxes.nrates; k++) {
        const tsr_rate_tax *rt = &r->rate_tax[k];
        const jtext *t = &c->j->taxes[k];
        if (rt->nlines == 0)
            continue;
        ROOM(K(",,\"base\":,\"amount\":}") + t->n + JT_PAD + (size_t)2 * MONEY_MAX_LEN);
        if (!first)
            *p++ = ',';
        first = false;
        p = put_jt(p, t);
        p = LIT(p, ",\"base\":");
        p = put_money(p, rt->base, c->scale);
        p = LIT(p, ",\"amount\":");
        p = put_money(p, rt->amount, c->scale);
        *p++ = '}';
    }
    ROOM(1);
    *p++ = ']';
    return p;
}

static char *put_promos(const jctx *c, char *p)
{
    tsr_buf *b = c->b;
    const tsr_result *r = c->r;
    size_t i;

    ROOM(K(",\"promo_codes\":["));
    p = LIT(p, ",\"promo_codes\":[");
    for (i = 0; i < r->npromos; i++) {
        const tsr_res_promo *pr = &r->promos[i];
        /* Customer-safe results must not reveal which codes exist. */
        const jtext *id = pr->promo >= 0 && pr->reason != TSR_PR_NOT_APPLICABLE
                              ? &c->j->promos[pr->promo] : NULL;
        const char *why = pr->status == TSR_PROMO_ACCEPTED ? NULL
                                                           : tsr__promo_reason_name(pr->reason);
        size_t wn = slen(why);

        ROOM(K(",{\"code\":,\"id\":,\"status\":\"rejected\",\"reason\":}") +
             esc_max(pr->code_len) + (id ? id->n + JT_PAD : 0) + esc_max(wn));
        if (i)
            *p++ = ',';
        p = LIT(p, "{\"code\":");
        p = jstr(p, pr->code, pr->code_len);
        if (id) {
            p = LIT(p, ",\"id\":");
            p = put_jt(p, id);
        }
        if (!why) {
            p = LIT(p, ",\"status\":\"accepted\"");
        } else {
            p = LIT(p, ",\"status\":\"rejected\",\"reason\":");
            p = jstr(p, why, wn);
        }
        *p++ = '}';
    }
    ROOM(1);
    *p++ = ']';
    return p;
}

static char *put_points(jctx *c, char *p)
{
    tsr_buf *b = c->b;
    const tsr_result *r = c->r;
    const char *why = r->redeem_reason != TSR_RR_NONE ? tsr__redeem_reason_name(r->redeem_reason)
                                                      : NULL;
    size_t i, wn = slen(why);

    ROOM(K(",\"points\":{\"redeemed\":,\"earned\":,\"redeem_reason\":,\"lots_used\":[") +
         (size_t)2 * INT_MAX_LEN + esc_max(wn));
    p = LIT(p, ",\"points\":{\"redeemed\":");
    p = put_int(p, r->points_redeemed);
    p = LIT(p, ",\"earned\":");
    p = put_int(p, r->points_earned);
    if (why) {
        p = LIT(p, ",\"redeem_reason\":");
        p = jstr(p, why, wn);
    }
    if (r->nlots_used) {
        p = LIT(p, ",\"lots_used\":[");
        for (i = 0; i < r->nlots_used; i++) {
            size_t n = slen(r->lots_used[i].id);
            ROOM(K(",{\"id\":,\"points\":}") + esc_max(n) + NULL_SLACK + INT_MAX_LEN);
            if (i)
                *p++ = ',';
            p = LIT(p, "{\"id\":");
            p = jstr_z(p, r->lots_used[i].id, n);
            p = LIT(p, ",\"points\":");
            p = put_int(p, r->lots_used[i].points);
            *p++ = '}';
        }
        ROOM(1);
        *p++ = ']';
    }
    ROOM(K(",\"entries\":["));
    p = LIT(p, ",\"entries\":[");
    for (i = 0; i < r->nentries; i++) {
        const tsr_points_entry *e = &r->entries[i];
        const jtext *rule = &c->j->earn[e->earn];
        /* the line's id as put_line wrote it, when it was kept */
        bool kept = e->line >= 0 && (size_t)e->line < KEPT_LINE_IDS;
        const char *line = e->line >= 0 && !kept ? r->lines[e->line].id : NULL;
        size_t n = kept ? c->line_id_len[e->line] : line ? r->lines[e->line].id_len : 0;

        ROOM(K(",{\"rule\":,\"line\":,\"points\":,\"available_on\":,\"expires_on\":}") +
             rule->n + JT_PAD + esc_max(n) + NULL_SLACK + INT_MAX_LEN + (size_t)2 * DATE_COPY);
        if (i)
            *p++ = ',';
        p = LIT(p, "{\"rule\":");
        p = put_jt(p, rule);
        p = LIT(p, ",\"line\":");
        if (!kept)
            p = jstr_z(p, line, n);
        else if (n <= 16)
            p = copy_short(p, b->data + c->line_id_at[e->line], n);
        else
            p = (char *)memcpy(p, b->data + c->line_id_at[e->line], n) + n;
        p = LIT(p, ",\"points\":");
        p = put_int(p, e->points);
        p = LIT(p, ",\"available_on\":");
        p = put_date(c, p, e->available_on);
        p = LIT(p, ",\"expires_on\":");
        if (e->has_expires)
            p = put_date(c, p, e->expires_on);
        else
            p = LIT(p, "null");
        *p++ = '}';
    }
    ROOM(K("]}"));
    return LIT(p, "]}");
}

/* The sentence's quoted text prepared at load, or NULL when the evaluation
 * formatted it (or it is a literal of the steps). */
static inline const jtext *why_text(const struct tsr_json_consts *j, const char *why)
{
    const struct jid *s;

    if (!j->whys)
        return NULL;
    s = jid_slot(j->whys, j->whys_mask, why);
    return s->id ? &s->text : NULL;
}

/* The rule id's entry prepared at load, or NULL when id is not one of the
 * rule set's own ids ("loyalty.redeem"). */
static inline const struct jid *id_entry(const struct tsr_json_consts *j, const char *id)
{
    const struct jid *s = jid_slot(j->ids, j->ids_mask, id);

    return s->id ? s : NULL;
}

static char *put_trace(const jctx *c, char *p)
{
    tsr_buf *b = c->b;
    const tsr_result *r = c->r;
    const char *section = NULL;   /* entries come in runs of one section */
    unsigned sec = JSEC_NONE;
    size_t i;

    ROOM(K(",\"trace\":["));
    p = LIT(p, ",\"trace\":[");
    for (i = 0; i < r->ntrace; i++) {
        const tsr_trace_entry *t = &r->trace[i];
        const char *why = t->applied ? t->note : t->why;
        const struct jid *id = id_entry(c->j, t->id);
        const jtext *wt = why ? why_text(c->j, why) : NULL;
        size_t wn = wt ? 0 : slen(why), sn, idn, head;
        bool whole;   /* the entry's head as written at load */

        if (t->section != section) {
            section = t->section;
            sec = jsec_of(section);
        }
        if ((whole = id && id->sec == sec)) {
            sn = 0;
            idn = 0;
            head = id->rule.n + JT_PAD;
        } else {
            sn = strlen(section);
            idn = id ? 0 : strlen(t->id);
            head = K("{\"rule\":\".\",\"applied\":") + esc_max(sn) +
                   (id ? id->text.n + JT_PAD : esc_max(idn));
        }
        ROOM(K(",false,\"note\":}") + head + (wt ? wt->n + JT_PAD : esc_max(wn)) + NULL_SLACK);
        if (i)
            *p++ = ',';
        if (whole) {
            p = put_jt48(p, &id->rule);   /* {"rule":"<section>.<id>","applied": */
        } else {
            p = LIT(p, "{\"rule\":\"");
            p = put_esc(p, section, sn);   /* ASCII words: copied as they are */
            *p++ = '.';
            p = id ? put_jt(p, &id->text) : put_esc(p, t->id, idn);
            p = LIT(p, "\",\"applied\":");
        }
        if (!t->applied) {
            p = LIT(p, "false,\"why\":");
            p = wt ? put_jt48(p, wt) : jstr_z(p, why, wn);
        } else if (why) {
            p = LIT(p, "true,\"note\":");
            p = wt ? put_jt48(p, wt) : jstr(p, why, wn);
        } else {
            p = LIT(p, "true");
        }
        *p++ = '}';
    }
    ROOM(1);
    *p++ = ']';
    return p;
}

static char *put_result(jctx *c, char *p)
{
    tsr_buf *b = c->b;
    const tsr_result *r = c->r;
    const tsr_ruleset *rs = r->rs;
    const struct tsr_json_consts *j = c->j;
    const tsr_totals *t = &r->totals;
    const unsigned scale = c->scale;
    size_t i, on = slen(r->order_id);
    bool first = true;

    /* {"ruleset":{…},"order":…,"currency":…,"segments":[ */
    ROOM(j->head.n + JT_PAD + esc_max(on) + NULL_SLACK + j->currency.n + JT_PAD);
    p = put_jt(p, &j->head);
    p = jstr_z(p, r->order_id, on);
    p = put_jt(p, &j->currency);
    for (i = 0; i < rs->nsegments; i++) {
        if (!r->segments[i])
            continue;
        ROOM(1 + j->segments[i].n + JT_PAD);
        if (!first)
            *p++ = ',';
        first = false;
        p = put_jt(p, &j->segments[i]);
    }
    ROOM(K("],\"tier\":null,\"lines\":[") + (r->tier >= 0 ? j->tiers[r->tier].n + JT_PAD : 0));
    p = LIT(p, "],\"tier\":");
    if (r->tier >= 0)
        p = put_jt(p, &j->tiers[r->tier]);
    else
        p = LIT(p, "null");
    p = LIT(p, ",\"lines\":[");
    for (i = 0; i < r->nlines; i++) {
        if (i) {
            ROOM(1);
            *p++ = ',';
        }
        if (!(p = put_line(c, p, i)))
            return NULL;
    }
    ROOM(1);
    *p++ = ']';
    if (!(p = put_promos(c, p)))
        return NULL;
    ROOM(K(",\"totals\":{\"subtotal\":,\"discount\":,\"redeemed_value\":,\"tax\":,\"due\":}") +
         (size_t)5 * MONEY_MAX_LEN);
    p = LIT(p, ",\"totals\":{\"subtotal\":");
    p = put_money(p, t->subtotal, scale);
    p = LIT(p, ",\"discount\":");
    p = put_money(p, t->discount, scale);
    p = LIT(p, ",\"redeemed_value\":");
    p = put_money(p, t->redeemed_value, scale);
    if (r->line_tax) {
        p = LIT(p, ",\"tax\":");
        p = put_money(p, t->tax, scale);
    }
    p = LIT(p, ",\"due\":");
    p = put_money(p, t->due, scale);
    *p++ = '}';
    if (r->line_tax && !(p = put_taxes(c, p)))
        return NULL;
    if (!(p = put_points(c, p)))
        return NULL;
    ROOM(K(",\"offers\":["));
    p = LIT(p, ",\"offers\":[");
    for (i = 0; i < r->noffers; i++) {
        const jtext *o = &j->offers[r->offers[i]];
        ROOM(1 + o->n + JT_PAD);
        if (i)
            *p++ = ',';
        p = put_jt(p, o);
    }
    ROOM(1);
    *p++ = ']';
    if (!(p = put_trace(c, p)))
        return NULL;
    ROOM(1);
    *p++ = '}';
    return p;
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
        if (!b.failed) {
            jctx c;
            char *end;

            c.b = &b;
            c.r = r;
            c.j = r->rs->json;
            c.scale = r->rs->minor_units > 18 ? 18 : r->rs->minor_units;
            c.date_len = 0;
            c.date_days = 0;
            memset(c.date, 0, sizeof c.date);
            if ((end = put_result(&c, b.data)) != NULL)
                b.len = (size_t)(end - b.data);
        }
        if (!b.failed)
            b.data[b.len] = '\0';   /* room() always leaves a byte for it */
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
