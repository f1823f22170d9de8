/*
 * explain.c — a result rendered for people: what `tessera eval --explain`
 * prints and what a newcomer sees first, so it reads like a receipt with
 * the reasoning attached rather than like a data dump.
 *
 *   Order A-2, priced by shop (version 1), in EUR
 *   Segments: member   Tier: gold
 *
 *   Lines
 *     t1  ticket, adult: 1 × 20.00   20.00
 *         - half-off                -10.00
 *         - members-10               -1.00
 *         = total                     9.00   earns 9 points
 *   ...
 *   Trace
 *     ✓ discounts.half-off
 *     ✗ offers.join: `not segment.member` was false
 *
 * Amounts are right-aligned in one column per section; widths count UTF-8
 * characters, not bytes, so ids and labels in any script line up.
 *
 * Ids, codes, labels and reasons come from the order and the rule file and
 * are printed on terminals: every piece of text is shown clean (control
 * characters as '?', as in error messages), so a line id holding
 * ESC ] 0 ; ... BEL cannot retitle the terminal nor ESC [ 2 J clear it.
 * The newlines that end lines are the only control characters written.
 */
#include "eval.h"

/* One row of a table: an indented label, an amount, and a note after it. */
typedef struct row {
    const char *label;
    const char *amount;        /* "" for none */
    const char *note;          /* "" for none */
} row;

typedef struct table {
    const tsr_result *r;
    tsr_arena *arena;
    row *rows;
    size_t n, cap;
    int rc;
} table;

static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

/* Show what b got since `mark` clean (see the top of the file): each line
 * is written, then cleaned, then ended with its newline. */
static void clean_since(tsr_buf *b, size_t mark)
{
    if (!b->failed && b->data && b->len > mark)
        b->len = mark + tsr__clean_in_place(b->data + mark);
}

static void end_line(tsr_buf *b, size_t mark)
{
    clean_since(b, mark);
    tsr__buf_putc(b, '\n');
}

static void pad(tsr_buf *b, size_t n)
{
    while (n--)
        tsr__buf_putc(b, ' ');
}

static const char *fmt(table *t, const char *f, ...) TSR_PRINTF(2, 3);

/* A formatted string in the arena ("" when out of memory: rc says so). */
static const char *fmt(table *t, const char *f, ...)
{
    const char *p;
    va_list ap;

    va_start(ap, f);
    p = tsr__arena_vprintf(t->arena, f, ap);
    va_end(ap);
    if (!p) {
        t->rc = TSR_ENOMEM;
        return "";
    }
    return p;
}

static const char *money(table *t, int64_t v)
{
    char num[40];
    tsr__format_fixed(num, v, t->r->rs->minor_units);
    return fmt(t, "%s", num);
}

static const char *minus(table *t, int64_t v)
{
    char num[40];
    tsr__format_fixed(num, v, t->r->rs->minor_units);
    return fmt(t, "-%s", num);
}

static void add(table *t, const char *label, const char *amount, const char *note)
{
    void *items = t->rows;
    if (t->rc != TSR_OK)
        return;
    if (tsr__grow(&t->r->alloc, &items, &t->cap, t->n + 1, sizeof *t->rows) != TSR_OK) {
        t->rc = TSR_ENOMEM;
        return;
    }
    t->rows = items;
    t->rows[t->n].label = label;
    t->rows[t->n].amount = amount ? amount : "";
    t->rows[t->n].note = note ? note : "";
    t->n++;
}

/* Print the rows with the labels padded to one width and the amounts
 * right-aligned in one column; then forget them. */
static void flush(table *t, tsr_buf *b)
{
    size_t i, lw = 0, aw = 0;
    for (i = 0; i < t->n; i++) {
        size_t w = display_width(t->rows[i].label);
        if (t->rows[i].amount[0] && w > lw)
            lw = w;
        if (display_width(t->rows[i].amount) > aw)
            aw = display_width(t->rows[i].amount);
    }
    for (i = 0; i < t->n; i++) {
        const row *rw = &t->rows[i];
        size_t mark = b->len;
        tsr__buf_puts(b, "  ");
        tsr__buf_puts(b, rw->label);
        if (rw->amount[0]) {
            pad(b, lw - display_width(rw->label) + 2 + aw - display_width(rw->amount));
            tsr__buf_puts(b, rw->amount);
        }
        if (rw->note[0]) {
            tsr__buf_puts(b, "   ");
            tsr__buf_puts(b, rw->note);
        }
        end_line(b, mark);
    }
    t->n = 0;
}

/* ---------------------------------------------------------------------
 * Sections.
 */
static void header(const tsr_result *r, tsr_buf *b)
{
    const tsr_ruleset *rs = r->rs;
    size_t i, mark = b->len;
    bool any = false;

    if (r->order_id)
        tsr__buf_printf(b, "Order %s, ", r->order_id);
    else
        tsr__buf_puts(b, "An order without id, ");
    tsr__buf_printf(b, "priced by %s", rs->id);
    if (rs->version && rs->version[0])
        tsr__buf_printf(b, " (version %s)", rs->version);
    tsr__buf_printf(b, ", in %s", rs->currency);
    end_line(b, mark);
    mark = b->len;
    tsr__buf_puts(b, "Segments: ");
    for (i = 0; i < rs->nsegments; i++)
        if (r->segments[i]) {
            tsr__buf_printf(b, "%s%s", any ? ", " : "", rs->segments[i].id);
            any = true;
        }
    tsr__buf_puts(b, any ? "" : "none");
    if (rs->ntiers)
        tsr__buf_printf(b, "   Tier: %s", r->tier >= 0 ? rs->tiers[r->tier].id : "none");
    end_line(b, mark);
}

/* The tax row under a line's total: included in it, or added to it. */
static void line_tax(table *t, size_t i)
{
    const tsr_result *r = t->r;
    const tsr_res_tax *lt = &r->line_tax[i];
    const tsr_tax_rate *rate;

    if (lt->rate < 0) {
        add(t, "    no tax", NULL, NULL);
        return;
    }
    rate = &r->rs->taxes.rates[lt->rate];
    add(t, fmt(t, r->rs->taxes.prices == TSR_TAX_INCLUSIVE ? "    incl. tax %s %s %%"
                                                          : "    + tax %s %s %%",
               rate->id, rate->rate_text),
        money(t, lt->amount), rate->label);
}

static void lines(table *t, tsr_buf *b)
{
    const tsr_result *r = t->r;
    const tsr_ruleset *rs = r->rs;
    size_t i, d;

    tsr__buf_puts(b, "\nLines\n");
    for (i = 0; i < r->nlines; i++) {
        const tsr_res_line *l = &r->lines[i];
        char unit[40];
        tsr__format_fixed(unit, l->unit_price, rs->minor_units);
        add(t, fmt(t, "%s  %s, %s: %lld \xc3\x97 %s", l->id, l->kind,
                   l->category_name ? l->category_name : "no category", (long long)l->quantity,
                   unit),
            money(t, l->subtotal), NULL);
        for (d = 0; d < l->ndiscounts; d++) {
            const tsr_discount *disc = &rs->discounts[l->discounts[d].discount];
            add(t, fmt(t, "    - %s", disc->id), minus(t, l->discounts[d].amount),
                disc->label ? disc->label : NULL);
        }
        if (l->redeemed_points)
            add(t, fmt(t, "    - %lld point%s redeemed", (long long)l->redeemed_points,
                       l->redeemed_points == 1 ? "" : "s"),
                minus(t, l->redeemed_value), NULL);
        add(t, "    = total", money(t, l->total),
            l->points_earned ? fmt(t, "earns %lld point%s", (long long)l->points_earned,
                                   l->points_earned == 1 ? "" : "s")
                             : NULL);
        if (r->line_tax)
            line_tax(t, i);
    }
    flush(t, b);
}

static void totals(table *t, tsr_buf *b)
{
    const tsr_totals *tt = &t->r->totals;
    tsr__buf_puts(b, "\nTotals\n");
    add(t, "subtotal", money(t, tt->subtotal), NULL);
    add(t, "discount", tt->discount ? minus(t, tt->discount) : money(t, 0), NULL);
    add(t, "redeemed", tt->redeemed_value ? minus(t, tt->redeemed_value) : money(t, 0), NULL);
    if (t->r->line_tax && t->r->rs->taxes.prices == TSR_TAX_EXCLUSIVE)
        add(t, "tax", money(t, tt->tax), "added");
    add(t, "due", money(t, tt->due), NULL);
    if (t->r->line_tax && t->r->rs->taxes.prices == TSR_TAX_INCLUSIVE)
        add(t, "incl. tax", money(t, tt->tax), NULL);
    flush(t, b);
}

/* The receipt's tax summary: per rate used, its base and its tax, the
 * bases aligned in the label. */
static void taxes(table *t, tsr_buf *b)
{
    const tsr_result *r = t->r;
    const tsr_taxes *tx = &r->rs->taxes;
    size_t k, rw = 0, bw = 0;

    if (!r->line_tax)
        return;
    tsr__buf_puts(b, tx->prices == TSR_TAX_INCLUSIVE ? "\nTaxes (included in the prices)\n"
                                                     : "\nTaxes (added to the prices)\n");
    for (k = 0; k < tx->nrates; k++) {
        size_t w;
        if (r->rate_tax[k].nlines == 0)
            continue;
        w = display_width(tx->rates[k].id) + 1 + strlen(tx->rates[k].rate_text) + 2;
        rw = w > rw ? w : rw;
        w = strlen(money(t, r->rate_tax[k].base));
        bw = w > bw ? w : bw;
    }
    for (k = 0; k < tx->nrates; k++) {
        const tsr_rate_tax *rt = &r->rate_tax[k];
        const char *name, *base;
        if (rt->nlines == 0)
            continue;
        name = fmt(t, "%s %s %%", tx->rates[k].id, tx->rates[k].rate_text);
        base = money(t, rt->base);
        add(t, fmt(t, "%s%*s on %*s", name, (int)(rw - display_width(name)), "", (int)bw, base),
            money(t, rt->amount), tx->rates[k].label);
    }
    if (t->n == 0)
        add(t, "no line took a rate", NULL, NULL);
    flush(t, b);
}

static void promos(const tsr_result *r, tsr_buf *b)
{
    size_t i, w = 0;
    if (!r->npromos)
        return;
    tsr__buf_puts(b, "\nPromo codes\n");
    for (i = 0; i < r->npromos; i++)
        if (r->promos[i].code_len > w)
            w = r->promos[i].code_len;
    for (i = 0; i < r->npromos; i++) {
        const tsr_res_promo *p = &r->promos[i];
        size_t mark = b->len;
        tsr__buf_puts(b, "  ");
        tsr__buf_put(b, p->code, p->code_len);
        pad(b, w - p->code_len + 2);
        if (p->status == TSR_PROMO_ACCEPTED)
            tsr__buf_printf(b, "accepted (promo code `%s`)", r->rs->promos[p->promo].id);
        else if (p->promo >= 0 && p->reason != TSR_PR_NOT_APPLICABLE)
            /* customer-safe results must not reveal which codes exist */
            tsr__buf_printf(b, "rejected: %s (promo code `%s`)",
                            tsr__promo_reason_name(p->reason), r->rs->promos[p->promo].id);
        else
            tsr__buf_printf(b, "rejected: %s", tsr__promo_reason_name(p->reason));
        end_line(b, mark);
    }
}

static void points(table *t, tsr_buf *b)
{
    const tsr_result *r = t->r;
    const tsr_ruleset *rs = r->rs;
    size_t i;

    if (!rs->loyalty.present && !r->points_earned && !r->points_redeemed)
        return;
    tsr__buf_printf(b, "\nPoints: earned %lld, redeemed %lld", (long long)r->points_earned,
                    (long long)r->points_redeemed);
    if (r->redeem_reason != TSR_RR_NONE)
        tsr__buf_printf(b, " (limited by %s)", tsr__redeem_reason_name(r->redeem_reason));
    if (!r->member)
        tsr__buf_puts(b, "; the customer is not a member");
    tsr__buf_putc(b, '\n');
    for (i = 0; i < r->nentries; i++) {
        const tsr_points_entry *e = &r->entries[i];
        char avail[16], exp[16];
        tsr__format_date(avail, e->available_on);
        if (e->has_expires)
            tsr__format_date(exp, e->expires_on);
        add(t, fmt(t, "%s%s%s", rs->loyalty.earn[e->earn].id, e->line >= 0 ? " on " : "",
                   e->line >= 0 ? r->lines[e->line].id : ""),
            fmt(t, "%lld", (long long)e->points),
            e->has_expires ? fmt(t, "available %s, expires %s", avail, exp)
                           : fmt(t, "available %s", avail));
    }
    for (i = 0; i < r->nlots_used; i++)
        add(t, fmt(t, "lot %s used", r->lots_used[i].id),
            fmt(t, "%lld", (long long)r->lots_used[i].points), NULL);
    flush(t, b);
}

static void offers(const tsr_result *r, tsr_buf *b)
{
    size_t i;
    if (!r->noffers)
        return;
    tsr__buf_puts(b, "\nOffers\n");
    for (i = 0; i < r->noffers; i++) {
        const tsr_offer *o = &r->rs->offers[r->offers[i]];
        size_t mark = b->len;
        tsr__buf_printf(b, "  %s: %s", o->id, o->message ? o->message : "");
        end_line(b, mark);
    }
}

static void trace(const tsr_result *r, tsr_buf *b)
{
    const tsr_ruleset *rs = r->rs;
    size_t i;
    if (!r->ntrace) {
        /* every rule is traced when the trace is built: none means no_trace */
        if (rs->ncategories + rs->npromos + rs->ndiscounts + rs->loyalty.nearn + rs->noffers +
            rs->taxes.nrates)
            tsr__buf_puts(b, "\nTrace: left out (evaluated without a trace)\n");
        return;
    }
    tsr__buf_puts(b, "\nTrace\n");
    for (i = 0; i < r->ntrace; i++) {
        const tsr_trace_entry *e = &r->trace[i];
        size_t mark = b->len;
        tsr__buf_printf(b, "  %s %s.%s", e->applied ? "\xe2\x9c\x93" : "\xe2\x9c\x97", e->section,
                        e->id);
        if (!e->applied && e->why && e->why[0])
            tsr__buf_printf(b, ": %s", e->why);
        else if (e->applied && e->note)
            tsr__buf_printf(b, ": %s", e->note);
        end_line(b, mark);
    }
}

int tsr_result_explain(char *buf, size_t size, const tsr_result *r)
{
    tsr_arena arena;
    table t;
    tsr_buf b;
    int rc;

    if (!r)
        return TSR_EINVAL;
    tsr__arena_init(&arena, &r->alloc, 4096);
    memset(&t, 0, sizeof t);
    t.r = r;
    t.arena = &arena;
    tsr__buf_init(&b, &r->alloc);

    header(r, &b);
    lines(&t, &b);
    totals(&t, &b);
    taxes(&t, &b);
    promos(r, &b);
    points(&t, &b);
    offers(r, &b);
    trace(r, &b);

    rc = t.rc != TSR_OK ? TSR_ENOMEM : tsr__buf_copy_out(&b, buf, size);
    tsr__buf_free(&b);
    tsr__free(&r->alloc, t.rows, t.cap * sizeof *t.rows);
    tsr__arena_free(&arena);
    return rc;
}
