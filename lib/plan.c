/*
 * plan.c — the evaluation plan compiled at load (see plan.h): which rules
 * of the categories, the tax rates and the discounts can apply to a line of
 * a given `item.kind`, read from the first conjunct of their conditions.
 *
 * The kind table hashes rule-file literals only; an order's kind is looked
 * up in it and never inserted, so a probe is at most as long as the longest
 * run of the rule file's own kinds (the table is kept at most half full).
 */
#include "plan.h"
#include "rules.h"

/* Whether e's first conjunct is `item.kind == "k"` or `item.kind in
 * ["k1", ...]`: *out is then its constant (a string, or a list of strings;
 * it points into e's program). */
static bool kind_test(const tsr_expr *e, tsr_value *out)
{
    tsr_expr_cmp c;
    uint32_t i;

    if (!e || tsr__expr_conjuncts(e, &c, 1) == 0)
        return false;
    if (c.kind != TSR_CMP_FIELD || c.record != TSR_REC_ITEM || c.slot != TSR_ITEM_KIND)
        return false;
    if (c.rel == TSR_REL_EQ && c.constant.type == TSR_T_STRING && !c.constant.flags) {
        *out = c.constant;
        return true;
    }
    if (c.rel != TSR_REL_IN || c.constant.type != TSR_T_LIST || c.constant.elem != TSR_T_STRING)
        return false;
    for (i = 0; i < c.constant.len; i++)
        if (c.constant.u.list[i].type != TSR_T_STRING || c.constant.u.list[i].flags)
            return false;
    *out = c.constant;
    return true;
}

/* The literals of a kind test (a string or a list), one by one. */
static size_t nliterals(const tsr_value *v)
{
    return v->type == TSR_T_LIST ? v->len : 1;
}

static const tsr_value *literal(const tsr_value *v, size_t i)
{
    return v->type == TSR_T_LIST ? &v->u.list[i] : v;
}

/* A seeded mix of the length and three bytes (no pass over the kind):
 * kinds are short and few, and this runs for every line of an order. */
static inline uint32_t kind_hash(const char *s, size_t n)
{
    uint32_t h = ((uint32_t)n + 0x9E3779B9u) * 0x85EBCA77u;

    if (n) {
        h = (h ^ (unsigned char)s[0]) * 0xC2B2AE3Du;
        h = (h ^ (unsigned char)s[n / 2]) * 0x27D4EB2Fu;
        h = (h ^ (unsigned char)s[n - 1]) * 0x165667B1u;
    }
    return h ^ (h >> 15);
}

/* The slot of kind s/n in p's table: where it is, or the empty slot where
 * it would go. */
static inline uint32_t kind_slot(const tsr_plan *p, const char *s, size_t n)
{
    uint32_t at = kind_hash(s, n) & p->mask;

    for (;;) {
        uint32_t k = p->table[at];
        if (k == 0 || (p->kind_lens[k - 1] == n && tsr__same_bytes(p->kinds[k - 1], s, n)))
            return at;
        at = (at + 1) & p->mask;
    }
}

uint32_t tsr__plan_kind(const tsr_plan *p, const tsr_value *kind)
{
    uint32_t k;

    if (p->nkinds == 0 || kind->type != TSR_T_STRING || kind->flags)
        return TSR_PLAN_NO_KIND;
    k = p->table[kind_slot(p, kind->u.s, kind->len)];
    return k ? k - 1 : TSR_PLAN_NO_KIND;
}

/* One section's conditions, for building its route: rule r's kind test is
 * tests[r] when has[r]. */
typedef struct section {
    tsr_value *tests;
    uint8_t *has;
    size_t n;
} section;

static uint32_t intern(tsr_plan *p, const tsr_value *s)
{
    uint32_t at = kind_slot(p, s->u.s, s->len);

    if (!p->table[at]) {
        p->kinds[p->nkinds] = s->u.s;
        p->kind_lens[p->nkinds] = s->len;
        p->table[at] = (uint32_t)++p->nkinds;
    }
    return p->table[at] - 1;
}

static size_t count_general(const section *s)
{
    size_t i, g = 0;

    for (i = 0; i < s->n; i++)
        g += !s->has[i];
    return g;
}

/* The route of one section, from its kind tests (all interned already). */
static int build_route(tsr_plan *p, const section *s, tsr_route *r, tsr_arena *ar)
{
    size_t i, j, nidx = 0, g = 0;
    uint32_t *fill;

    memset(r, 0, sizeof *r);
    for (i = 0; i < s->n; i++)
        if (s->has[i])
            nidx += nliterals(&s->tests[i]);
    if (s->n - (size_t)count_general(s) < TSR_PLAN_MIN_INDEXED)
        return TSR_OK;   /* too few indexed: every rule is visited */
    r->start = tsr__arena_calloc(ar, p->nkinds + 1, sizeof *r->start);
    fill = tsr__arena_calloc(ar, p->nkinds + 1, sizeof *fill);
    r->idx = tsr__arena_calloc(ar, nidx, sizeof *r->idx);
    r->general = tsr__arena_calloc(ar, s->n + 1, sizeof *r->general);
    if (!r->start || !fill || !r->idx || !r->general)
        return TSR_ENOMEM;
    /* count per kind (a kind listed twice in one rule counts once), then
     * lay the buckets end to end and fill them in rule order */
    for (i = 0; i < s->n; i++) {
        if (!s->has[i]) {
            r->general[g++] = (uint32_t)i;
            continue;
        }
        for (j = 0; j < nliterals(&s->tests[i]); j++) {
            const tsr_value *l = literal(&s->tests[i], j);
            uint32_t k = p->table[kind_slot(p, l->u.s, l->len)] - 1;
            if (fill[k] != i + 1) {
                fill[k] = (uint32_t)i + 1;
                r->start[k + 1]++;
            }
        }
    }
    r->ngeneral = g;
    for (i = 0; i < p->nkinds; i++) {
        r->start[i + 1] += r->start[i];
        fill[i] = r->start[i];
    }
    for (i = 0; i < s->n; i++) {
        for (j = 0; s->has[i] && j < nliterals(&s->tests[i]); j++) {
            const tsr_value *l = literal(&s->tests[i], j);
            uint32_t k = p->table[kind_slot(p, l->u.s, l->len)] - 1;
            if (fill[k] == r->start[k] || r->idx[fill[k] - 1] != i)
                r->idx[fill[k]++] = (uint32_t)i;
        }
    }
    return TSR_OK;
}

/* Can discount d be skipped for an order with none of its kinds?  Only
 * when nothing but its `for` decides whether it touches a line: no
 * `reward` (tested on every line, eligible or not), no bundle (its own
 * conditions), no group (its members share one outcome), no `when` (which
 * could end the evaluation with an error). */
static bool discount_routable(const tsr_discount *d)
{
    return !d->reward && d->nbundle == 0 && d->group_index < 0 && !d->when;
}

/* Can earn rule e be skipped for an order with none of its kinds?  A
 * `per` rule gives points only to the lines its `for` takes; a flat or a
 * multiply rule has no `for`, and a `when` could end the evaluation with
 * an error. */
static bool earn_routable(const tsr_earn *e)
{
    return e->has_per && !e->is_multiply && !e->when;
}

/* tsr_earn.gate of e: the shape of its gate, when earning can answer it
 * without tsr__rule_gate_quiet (no `valid`/`channels`, a `when` of one
 * conjunct without a memo slot). */
static void earn_gate_form(tsr_earn *e)
{
    const tsr_expr *w = e->when;
    const tsr_fast_cmp *f;

    e->gate = TSR_EARN_GATE_GENERAL;
    if (e->valid.any)
        return;
    if (!w) {
        e->gate = TSR_EARN_GATE_OPEN;
        return;
    }
    if (w->nfast != 1 || w->memo)
        return;
    f = &w->fast[0];
    e->gate_slot = f->slot;
    e->gate_cost = w->cost;
    if (f->kind == TSR_FAST_SEGMENT)
        e->gate = TSR_EARN_GATE_SEGMENT;
    else if (f->kind == TSR_FAST_PROMO)
        e->gate = TSR_EARN_GATE_PROMO;
    else if (f->kind == TSR_FAST_NUM && f->type == TSR_T_BOOL && f->rel == TSR_REL_NE &&
             f->k.u.i == 0)     /* a bool field alone: `!= false` */
        e->gate = f->record == TSR_REC_CUSTOMER ? TSR_EARN_GATE_CUSTOMER_TRUE
                  : f->record == TSR_REC_ORDER  ? TSR_EARN_GATE_ORDER_TRUE
                                                : TSR_EARN_GATE_GENERAL;
}

static int sections_alloc(section *s, size_t n, tsr_arena *ar)
{
    s->n = n;
    s->tests = tsr__arena_calloc(ar, n + 1, sizeof *s->tests);
    s->has = tsr__arena_calloc(ar, n + 1, 1);
    return s->tests && s->has ? TSR_OK : TSR_ENOMEM;
}

/* p->required_promos: the promo codes the indexed discounts require. */
static int required_promos(tsr_ruleset *rs, tsr_plan *p, const section *d)
{
    uint8_t *seen;
    size_t i;

    seen = tsr__arena_calloc(&rs->arena, rs->npromos + 1, 1);
    p->required_promos = tsr__arena_calloc(&rs->arena, rs->npromos + 1,
                                           sizeof *p->required_promos);
    if (!seen || !p->required_promos)
        return TSR_ENOMEM;
    for (i = 0; i < d->n; i++) {
        int q = rs->discounts[i].requires;
        if (d->has[i] && q >= 0 && (size_t)q < rs->npromos && !seen[q]) {
            seen[q] = 1;
            p->required_promos[p->nrequired_promos++] = (uint32_t)q;
        }
    }
    return TSR_OK;
}

/* rs->plan->cat_next_for (see tsr_plan), left NULL when it would skip
 * nothing. */
static int cat_next_for_build(const tsr_ruleset *rs, tsr_plan *p, tsr_arena *ar)
{
    size_t i, n = rs->ncategories;
    bool any = false;

    for (i = 0; i + 1 < n; i++) {
        const tsr_expr *a = rs->categories[i].for_, *b = rs->categories[i + 1].for_;
        any |= a && b && a->memo && a->memo == b->memo;
    }
    if (!any)
        return TSR_OK;
    p->cat_next_for = tsr__arena_alloc(ar, n * sizeof *p->cat_next_for);
    if (!p->cat_next_for)
        return TSR_ENOMEM;
    for (i = n; i-- > 0;) {
        const tsr_expr *a = rs->categories[i].for_;
        const tsr_expr *b = i + 1 < n ? rs->categories[i + 1].for_ : NULL;
        p->cat_next_for[i] = a && b && a->memo && a->memo == b->memo
                                 ? p->cat_next_for[i + 1] : (uint32_t)i + 1;
    }
    return TSR_OK;
}

/* Category cat's `when` as a band (tsr_band: lo, hi, always): true when it
 * can be one, with the field it reads in *slot / *type (untouched for a
 * catch-all).  Its `for` is checked by the caller. */
static bool band_read(const tsr_category *cat, tsr_band *b, uint16_t *slot, uint8_t *type)
{
    const tsr_expr *w = cat->when;
    uint32_t j;

    b->lo = INT64_MIN;
    b->hi = INT64_MAX;
    b->always = !w;
    if (cat->valid.any)
        return false;
    if (!w)
        return true;
    if (w->memo || !w->nfast)
        return false;
    for (j = 0; j < w->nfast; j++) {
        const tsr_fast_cmp *f = &w->fast[j];
        int64_t k = f->k.u.i;
        if (f->kind != TSR_FAST_NUM || f->record != TSR_REC_ITEM ||
            (j && (f->slot != *slot || f->type != *type)))
            return false;
        *slot = f->slot;
        *type = f->type;
        switch (f->rel) {
        case TSR_REL_EQ:
            if (k > b->lo) b->lo = k;
            if (k < b->hi) b->hi = k;
            break;
        case TSR_REL_LT:
            if (k == INT64_MIN) b->lo = 1, b->hi = 0;   /* nothing is below */
            else if (k - 1 < b->hi) b->hi = k - 1;
            break;
        case TSR_REL_LE:
            if (k < b->hi) b->hi = k;
            break;
        case TSR_REL_GT:
            if (k == INT64_MAX) b->lo = 1, b->hi = 0;
            else if (k + 1 > b->lo) b->lo = k + 1;
            break;
        case TSR_REL_GE:
            if (k > b->lo) b->lo = k;
            break;
        default:
            return false;   /* `!=` is two bands; `in` is not a comparison */
        }
    }
    return true;
}

/* The end of the band run that would start at category i (see
 * tsr_band_run): i when category i cannot start one.  Sets *slot / *type,
 * and fills bands[0 .. end - i) when bands is not NULL (only for a run:
 * it writes the bands it reads). */
static size_t band_run_end(const tsr_ruleset *rs, size_t i, tsr_band *bands, uint16_t *slot,
                           uint8_t *type)
{
    const tsr_expr *f = rs->categories[i].for_;
    size_t e, n = rs->ncategories;
    uint64_t steps = 0;
    bool ranged = false;

    if (!f || !f->memo)
        return i;
    for (e = i; e < n && e - i < UINT32_MAX && rs->categories[e].for_ &&
                rs->categories[e].for_->memo == f->memo; e++) {
        uint16_t s = *slot;
        uint8_t t = *type;
        tsr_band b;
        if (!band_read(&rs->categories[e], &b, &s, &t) ||
            (!b.always && ranged && (s != *slot || t != *type)))
            break;
        if (!b.always) {
            ranged = true;
            *slot = s;
            *type = t;
            steps += rs->categories[e].when->cost;
        }
        b.steps = steps;
        if (bands)
            bands[e - i] = b;
    }
    return e - i >= 2 && ranged ? e : i;
}

/* rs->plan's band runs (see tsr_band_run), after cat_next_for. */
static int band_runs_build(const tsr_ruleset *rs, tsr_plan *p, tsr_arena *ar)
{
    size_t n = rs->ncategories, i, e, c, nruns = 0, nbands = 0;
    tsr_band_run *runs;
    tsr_band *bands;
    const tsr_expr *f;
    uint16_t slot = 0;
    uint8_t type = 0;

    if (!p->cat_next_for)
        return TSR_OK;   /* no two adjacent categories share a memoised `for` */
    for (i = 0; i < n; i = e > i ? e : i + 1) {
        e = band_run_end(rs, i, NULL, &slot, &type);
        if (e > i) {
            nruns++;
            nbands += e - i;
        }
    }
    if (!nruns)
        return TSR_OK;
    runs = tsr__arena_calloc(ar, nruns, sizeof *runs);
    bands = tsr__arena_calloc(ar, nbands, sizeof *bands);
    p->cat_band = tsr__arena_calloc(ar, n, sizeof *p->cat_band);
    p->band_for_why = tsr__arena_calloc(ar, nruns, sizeof *p->band_for_why);
    p->band_when_why = tsr__arena_calloc(ar, n, sizeof *p->band_when_why);
    if (!runs || !bands || !p->cat_band || !p->band_for_why || !p->band_when_why)
        return TSR_ENOMEM;
    p->band_runs = runs;
    for (i = 0; i < n; i = e > i ? e : i + 1) {
        if ((e = band_run_end(rs, i, NULL, &slot, &type)) == i)
            continue;
        (void)band_run_end(rs, i, bands, &slot, &type);
        runs->first = (uint32_t)i;
        runs->n = (uint32_t)(e - i);
        runs->slot = slot;
        runs->type = type;
        runs->bands = bands;
        runs->for_ = f = rs->categories[i].for_;
        p->band_for_why[p->nband_runs] = tsr__expr_memo_why(f);
        for (c = i; c < e; c++) {
            const tsr_expr *w = rs->categories[c].when;
            const char **texts;
            uint32_t j;
            if (!w)
                continue;
            if (!(texts = tsr__arena_calloc(ar, w->nfast, sizeof *texts)))
                return TSR_ENOMEM;
            for (j = 0; j < w->nfast; j++)
                texts[j] = tsr__expr_why_false(w, w->src + w->fast[j].off, w->fast[j].len);
            p->band_when_why[c] = texts;
        }
        if (f->nfast == 1 && f->fast[0].record == TSR_REC_ITEM &&
            (f->fast[0].kind == TSR_FAST_STR_EQ || f->fast[0].kind == TSR_FAST_STR_NE))
            runs->for_str = &f->fast[0];
        p->cat_band[i] = (uint32_t)p->nband_runs++ + 1;
        runs++;
        bands += e - i;
    }
    return TSR_OK;
}

int tsr__plan_build(tsr_ruleset *rs)
{
    tsr_arena *ar = &rs->arena;
    tsr_plan *p;
    section sec[4];
    size_t i, j, total = 0, cap;
    int rc;

    rs->plan = p = tsr__arena_calloc(ar, 1, sizeof *p);
    if (!p)
        return TSR_ENOMEM;
    for (i = 0; i < rs->ndiscounts; i++)
        p->any_exclusive |= rs->discounts[i].exclusive;
    for (i = 0; i < rs->loyalty.nearn; i++) {
        p->earn_multiply |= rs->loyalty.earn[i].is_multiply;
        earn_gate_form(&rs->loyalty.earn[i]);
    }
    if ((rc = cat_next_for_build(rs, p, ar)) != TSR_OK ||
        (rc = band_runs_build(rs, p, ar)) != TSR_OK)
        return rc;
    if (rs->ncategories) {
        p->cat_id_len = tsr__arena_alloc(ar, rs->ncategories * sizeof *p->cat_id_len);
        if (!p->cat_id_len)
            return TSR_ENOMEM;
        for (i = 0; i < rs->ncategories; i++)
            p->cat_id_len[i] = (uint32_t)strlen(rs->categories[i].id);
    }
    if (sections_alloc(&sec[0], rs->ncategories, ar) != TSR_OK ||
        sections_alloc(&sec[1], rs->taxes.nrates, ar) != TSR_OK ||
        sections_alloc(&sec[2], rs->ndiscounts, ar) != TSR_OK ||
        sections_alloc(&sec[3], rs->loyalty.nearn, ar) != TSR_OK)
        return TSR_ENOMEM;
    for (i = 0; i < rs->ncategories; i++) {
        const tsr_category *c = &rs->categories[i];
        sec[0].has[i] = kind_test(c->for_ ? c->for_ : c->when, &sec[0].tests[i]);
    }
    for (i = 0; i < rs->taxes.nrates; i++)
        sec[1].has[i] = kind_test(rs->taxes.rates[i].for_, &sec[1].tests[i]);
    for (i = 0; i < rs->ndiscounts; i++)
        sec[2].has[i] = discount_routable(&rs->discounts[i]) &&
                        kind_test(rs->discounts[i].for_, &sec[2].tests[i]);
    for (i = 0; i < rs->loyalty.nearn; i++)
        sec[3].has[i] = earn_routable(&rs->loyalty.earn[i]) &&
                        kind_test(rs->loyalty.earn[i].for_, &sec[3].tests[i]);
    for (j = 0; j < 4; j++)
        for (i = 0; i < sec[j].n; i++)
            if (sec[j].has[i])
                total += nliterals(&sec[j].tests[i]);
    if (total == 0)
        return TSR_OK;   /* no kind test anywhere: the plan is empty */
    if (total > UINT32_MAX / 4)
        return TSR_ENOMEM;
    for (cap = 8; cap < 2 * total; cap *= 2)
        ;
    p->mask = (uint32_t)cap - 1;
    p->table = tsr__arena_calloc(ar, cap, sizeof *p->table);
    p->kinds = tsr__arena_calloc(ar, total, sizeof *p->kinds);
    p->kind_lens = tsr__arena_calloc(ar, total, sizeof *p->kind_lens);
    if (!p->table || !p->kinds || !p->kind_lens)
        return TSR_ENOMEM;
    for (j = 0; j < 4; j++)
        for (i = 0; i < sec[j].n; i++) {
            size_t l;
            for (l = 0; sec[j].has[i] && l < nliterals(&sec[j].tests[i]); l++)
                (void)intern(p, literal(&sec[j].tests[i], l));
        }
    if ((rc = build_route(p, &sec[0], &p->categories, ar)) != TSR_OK ||
        (rc = build_route(p, &sec[1], &p->rates, ar)) != TSR_OK ||
        (rc = build_route(p, &sec[2], &p->discounts, ar)) != TSR_OK ||
        (rc = build_route(p, &sec[3], &p->earn, ar)) != TSR_OK)
        return rc;
    if (!p->categories.start && !p->rates.start && !p->discounts.start && !p->earn.start) {
        p->nkinds = 0;   /* nothing routed: evaluation looks no kind up */
        return TSR_OK;
    }
    return required_promos(rs, p, &sec[2]);
}

bool tsr__route_walk_begin(tsr_route_walk *w, const tsr_route *r, const uint32_t *line_kinds,
                           size_t nlines)
{
    size_t i, j, n = 0;
    uint32_t kinds[TSR_ROUTE_KINDS];

    for (i = 0; i < nlines; i++) {
        uint32_t k = line_kinds[i];
        if (k == TSR_PLAN_NO_KIND || r->start[k] == r->start[k + 1])
            continue;
        for (j = 0; j < n && kinds[j] != k; j++)
            ;
        if (j < n)
            continue;
        if (n == TSR_ROUTE_KINDS)
            return false;
        kinds[n++] = k;
    }
    for (j = 0; j < n; j++) {
        w->at[j] = r->idx + r->start[kinds[j]];
        w->end[j] = r->idx + r->start[kinds[j] + 1];
    }
    w->at[n] = r->general;
    w->end[n] = r->general + r->ngeneral;
    w->n = n + 1;
    return true;
}

bool tsr__route_walk_next(tsr_route_walk *w, uint32_t *out)
{
    size_t j, best = w->n;
    uint32_t rule;

    for (j = 0; j < w->n; j++)
        if (w->at[j] != w->end[j] && (best == w->n || *w->at[j] < *w->at[best]))
            best = j;
    if (best == w->n)
        return false;
    rule = *w->at[best];
    /* a rule listed under several of the order's kinds comes once */
    for (j = 0; j < w->n; j++)
        if (w->at[j] != w->end[j] && *w->at[j] == rule)
            w->at[j]++;
    *out = rule;
    return true;
}
