/*
 * lint.c — warnings about rule sets that load but are probably not what
 * their author meant (SPEC §8):
 *
 *   - category bands on one numeric item field that leave a gap between
 *     them, or overlap so that part of a later band is never reached;
 *   - categories and discounts that can never apply because an earlier
 *     first-match (or exclusive) rule takes every line they could (not a
 *     selectable category: an order may name it, whatever comes first);
 *   - segments, tables and promo codes that nothing uses;
 *   - a discount whose `requires` names no promo code;
 *   - an aggregate in a category that is computed again for every line
 *     (its cost grows with lines²).
 *
 * Bands are read from the source text of `when` with a small recogniser of
 * `item.FIELD OP NUMBER (and item.FIELD OP NUMBER)*` rather than from the
 * compiled program: the program's form is private to the expression
 * module, and the conjunction of constant comparisons is the only shape
 * the analysis understands anyway.  Anything else is left alone: lint must
 * never warn about what it cannot prove.
 *
 * Categories are compared within groups of the same `for` text (white
 * space outside string literals ignored), since first match only competes
 * among categories that can take the same lines.
 */
#include "rules.h"

#include <stdio.h>

/* ---------------------------------------------------------------------
 * The report.
 */
typedef struct warning {
    const char *kind;
    const char *file;
    int line, col;
    size_t file_rank;       /* position of `file` in rs->files, for sorting */
    size_t seq;             /* emission order, to keep the sort stable */
    const char *message;
} warning;

struct tsr_lint_report {
    tsr_alloc alloc;
    tsr_arena arena;
    warning *w;
    size_t n, cap;
};

typedef struct linter {
    const tsr_ruleset *rs;
    tsr_lint_report *rep;
    int rc;                 /* sticky TSR_ENOMEM */
} linter;

static size_t file_rank(const tsr_ruleset *rs, const char *file)
{
    size_t i;
    for (i = 0; file && i < rs->nfiles; i++)
        if (rs->files[i] == file || strcmp(rs->files[i], file) == 0)
            return i;
    return rs->nfiles;
}

static void add_warning(linter *L, const char *kind, const char *file, int line, int col,
                        const char *msg)
{
    tsr_lint_report *rep = L->rep;
    void *items = rep->w;
    warning *w;

    if (L->rc != TSR_OK)
        return;
    if (tsr__grow(&rep->alloc, &items, &rep->cap, rep->n + 1, sizeof *rep->w) != TSR_OK) {
        L->rc = TSR_ENOMEM;
        return;
    }
    rep->w = items;
    w = &rep->w[rep->n];
    w->kind = kind;
    w->file = tsr__arena_strndup(&rep->arena, file ? file : "", file ? strlen(file) : 0);
    w->message = tsr__arena_strndup(&rep->arena, msg, strlen(msg));
    if (!w->file || !w->message) {
        L->rc = TSR_ENOMEM;
        return;
    }
    w->line = line;
    w->col = col;
    w->file_rank = file_rank(L->rs, file);
    w->seq = rep->n;
    rep->n++;
}

static void warn(linter *L, const char *kind, const char *file, int line, int col,
                 const char *fmt, ...) TSR_PRINTF(6, 7);

static void warn(linter *L, const char *kind, const char *file, int line, int col,
                 const char *fmt, ...)
{
    char msg[TSR_ERROR_TEXT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    add_warning(L, kind, file, line, col, msg);
}

static void warn_at(linter *L, const char *kind, const tsr_srcpos *pos, const char *fmt, ...)
    TSR_PRINTF(4, 5);

static void warn_at(linter *L, const char *kind, const tsr_srcpos *pos, const char *fmt, ...)
{
    char msg[TSR_ERROR_TEXT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    add_warning(L, kind, pos->file, pos->line, pos->col, msg);
}

/* ---------------------------------------------------------------------
 * Recognising bands: `item.F OP N (and item.F OP N)*`, or `N OP item.F`.
 */
typedef enum { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ } cmp_op;

typedef struct cursor {
    const char *p, *end;
} cursor;

static bool is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void skip_space(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* A keyword or name exactly `w`, not followed by more name characters. */
static bool take_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    skip_space(c);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
        return false;
    if (c->p + n < c->end && is_ident_char(c->p[n]))
        return false;
    c->p += n;
    return true;
}

static bool take_char(cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static bool take_ident(cursor *c, const char **s, size_t *n)
{
    const char *start;
    skip_space(c);
    start = c->p;
    if (c->p >= c->end || !is_ident_char(*c->p) || (*c->p >= '0' && *c->p <= '9'))
        return false;
    while (c->p < c->end && is_ident_char(*c->p))
        c->p++;
    *s = start;
    *n = (size_t)(c->p - start);
    return true;
}

/* A numeric literal, as a decimal scaled by 10^6. */
static bool take_number(cursor *c, int64_t *micro)
{
    const char *start;
    skip_space(c);
    start = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    while (c->p < c->end && ((*c->p >= '0' && *c->p <= '9') || *c->p == '.'))
        c->p++;
    if (c->p < c->end && is_ident_char(*c->p))
        return false;
    return c->p > start && tsr__parse_fixed(start, (size_t)(c->p - start), TSR_DEC_DIGITS,
                                            micro) == TSR_OK;
}

static bool take_op(cursor *c, cmp_op *op)
{
    skip_space(c);
    if (c->end - c->p >= 2 && c->p[1] == '=') {
        switch (c->p[0]) {
        case '<': *op = OP_LE; break;
        case '>': *op = OP_GE; break;
        case '=': *op = OP_EQ; break;
        default: return false;
        }
        c->p += 2;
        return true;
    }
    if (c->p < c->end && (*c->p == '<' || *c->p == '>')) {
        *op = *c->p == '<' ? OP_LT : OP_GT;
        c->p++;
        return true;
    }
    return false;
}

static bool take_field(cursor *c, const char **name, size_t *len)
{
    return take_word(c, "item") && take_char(c, '.') && take_ident(c, name, len);
}

static cmp_op flip(cmp_op op)
{
    switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default:    return op;
    }
}

/* One comparison: item.F OP N, or N OP item.F. */
static bool take_comparison(cursor *c, const char **name, size_t *len, cmp_op *op, int64_t *v)
{
    cursor save = *c;
    if (take_field(c, name, len))
        return take_op(c, op) && take_number(c, v);
    *c = save;
    if (take_number(c, v) && take_op(c, op) && take_field(c, name, len)) {
        *op = flip(*op);
        return true;
    }
    return false;
}

/* ---------------------------------------------------------------------
 * Intervals of field values, in micro units (values scaled by 10^6) and
 * stepping by the field's granularity `g` (10^6 for ints, 1 for decimals,
 * 10^(6-minor) for money).  INT64_MIN / INT64_MAX stand for unbounded.
 */
#define NO_LO INT64_MIN
#define NO_HI INT64_MAX

typedef struct interval {
    int64_t lo, hi;         /* inclusive; empty when lo > hi */
} interval;

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The largest multiple of g that is <= v. */
static int64_t floor_to(int64_t v, int64_t g)
{
    return floor_div(v, g) * g;
}

/* Narrow `iv` by `x OP v`.  False when the arithmetic would overflow (the
 * band is then not analysed). */
static bool narrow(interval *iv, cmp_op op, int64_t v, int64_t g)
{
    int64_t b;
    switch (op) {
    case OP_LT:
        b = floor_to(v, g);
        if (b == v && !tsr__sub(b, g, &b))
            return false;
        if (b < iv->hi) iv->hi = b;
        return true;
    case OP_LE:
        b = floor_to(v, g);
        if (b < iv->hi) iv->hi = b;
        return true;
    case OP_GT:
        if (!tsr__add(floor_to(v, g), g, &b))
            return false;
        if (b > iv->lo) iv->lo = b;
        return true;
    case OP_GE:
        b = floor_to(v, g);
        if (b != v && !tsr__add(b, g, &b))
            return false;
        if (b > iv->lo) iv->lo = b;
        return true;
    case OP_EQ:
        if (floor_to(v, g) != v) {
            iv->lo = 1;       /* no value of the field equals v: empty */
            iv->hi = 0;
            return true;
        }
        if (v > iv->lo) iv->lo = v;
        if (v < iv->hi) iv->hi = v;
        return true;
    }
    return false;
}

static bool iv_empty(const interval *iv)
{
    return iv->lo > iv->hi;
}

/* b (sorted after a) overlaps a or directly follows it. */
static bool iv_touch(const interval *a, const interval *b, int64_t g)
{
    return a->hi == NO_HI || b->lo <= a->hi || b->lo - a->hi <= g;
}

/* Sort by lower bound and merge overlapping or adjacent intervals in place;
 * returns the new count.  Insertion sort: bands number a handful. */
static size_t iv_merge(interval *v, size_t n, int64_t g)
{
    size_t i, j, out = 0;
    for (i = 1; i < n; i++) {
        interval t = v[i];
        for (j = i; j > 0 && v[j - 1].lo > t.lo; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
    for (i = 0; i < n; i++) {
        if (iv_empty(&v[i]))
            continue;
        if (out && iv_touch(&v[out - 1], &v[i], g)) {
            if (v[i].hi > v[out - 1].hi)
                v[out - 1].hi = v[i].hi;
        } else {
            v[out++] = v[i];
        }
    }
    return out;
}

/* ---------------------------------------------------------------------
 * What a category's `when` says about its lines.
 */
typedef enum { BAND_ALWAYS, BAND_RANGE, BAND_NEVER, BAND_OTHER } band_kind;

typedef struct band {
    band_kind kind;
    const tsr_field *field;   /* BAND_RANGE, and BAND_NEVER from an empty range */
    interval iv;
} band;

typedef struct field_unit {
    int64_t g;                /* granularity in micro units */
    unsigned digits;          /* for display: 0 int, 6 decimal, minor units money */
} field_unit;

static const tsr_field *item_field(const tsr_ruleset *rs, const char *name, size_t len)
{
    const tsr_record_schema *s = &rs->records[TSR_REC_ITEM];
    size_t i;
    for (i = 0; i < s->len; i++)
        if (strlen(s->fields[i].name) == len && memcmp(s->fields[i].name, name, len) == 0)
            return &s->fields[i];
    return NULL;
}

static bool unit_of(const tsr_ruleset *rs, const tsr_field *f, field_unit *u)
{
    switch (f->type) {
    case TSR_T_INT:
        u->g = TSR_DEC_SCALE;
        u->digits = 0;
        return true;
    case TSR_T_DECIMAL:
        u->g = 1;
        u->digits = TSR_DEC_DIGITS;
        return true;
    case TSR_T_MONEY:
        if (rs->minor_units > TSR_DEC_DIGITS)
            return false;
        u->g = tsr__pow10(TSR_DEC_DIGITS - rs->minor_units);
        u->digits = rs->minor_units;
        return true;
    default:
        return false;
    }
}

static bool is_const_bool(const tsr_expr *e, bool value)
{
    return e && e->is_const && e->constant.type == TSR_T_BOOL && (e->constant.u.i != 0) == value;
}

static band other_band(void)
{
    band b = { BAND_OTHER, NULL, { NO_LO, NO_HI } };
    return b;
}

static band read_band(const tsr_ruleset *rs, const tsr_category *cat)
{
    band b = other_band();
    const tsr_expr *w = cat->when;
    cursor c;

    if (cat->has_valid)
        return b;     /* depends on the time of the order: not a band */
    if (!w || is_const_bool(w, true)) {
        b.kind = BAND_ALWAYS;
        return b;
    }
    if (is_const_bool(w, false)) {
        b.kind = BAND_NEVER;
        return b;
    }
    if (!w->src)
        return b;
    c.p = w->src;
    c.end = w->src + w->src_len;
    for (;;) {
        const char *name;
        size_t len;
        cmp_op op;
        int64_t v;
        const tsr_field *f;
        field_unit u;

        if (!take_comparison(&c, &name, &len, &op, &v))
            return other_band();
        f = item_field(rs, name, len);
        if (!f || !unit_of(rs, f, &u) || (b.field && b.field != f) || !narrow(&b.iv, op, v, u.g))
            return other_band();
        b.field = f;
        skip_space(&c);
        if (c.p == c.end)
            break;
        if (!take_word(&c, "and"))
            return other_band();
    }
    b.kind = iv_empty(&b.iv) ? BAND_NEVER : BAND_RANGE;
    return b;
}

/* ---------------------------------------------------------------------
 * Formatting values and ranges of a field.
 */
static void fmt_value(char *buf, const tsr_ruleset *rs, const tsr_field *f, int64_t micro)
{
    field_unit u;
    if (!unit_of(rs, f, &u) || u.digits == TSR_DEC_DIGITS) {
        tsr__format_decimal(buf, micro);
        return;
    }
    tsr__format_fixed(buf, micro / u.g, u.digits);
}

/* Decimal bounds are kept to the micro unit, so a gap after `< 1.5` ends at
 * 1.999999 before `>= 2`: say "under 2" rather than print that.  Picks the
 * shorter of "v" and "under v+step" (upper) or "over v-step" (lower). */
static bool shorter_open(const tsr_ruleset *rs, const tsr_field *f, int64_t v, int64_t next,
                         char *closed, char *open)
{
    fmt_value(closed, rs, f, v);
    fmt_value(open, rs, f, next);
    return f->type == TSR_T_DECIMAL && strlen(open) < strlen(closed);
}

/* "130–139", "130", "99 and below", "130 and above", "every value";
 * for decimals "1.5 to under 2", "over 1.5". */
static void fmt_range(char *buf, size_t size, const tsr_ruleset *rs, const tsr_field *f,
                      const interval *iv)
{
    char a[40], a_open[40], b[40], b_open[40];
    bool lo_open = false, hi_open = false;
    const char *lo, *hi;

    if (iv->lo != NO_LO)
        lo_open = shorter_open(rs, f, iv->lo, iv->lo - 1, a, a_open);
    if (iv->hi != NO_HI)
        hi_open = shorter_open(rs, f, iv->hi, iv->hi + 1, b, b_open);
    lo = lo_open ? a_open : a;
    hi = hi_open ? b_open : b;
    if (iv->lo == NO_LO && iv->hi == NO_HI)
        snprintf(buf, size, "every value");
    else if (iv->lo == NO_LO)
        snprintf(buf, size, hi_open ? "under %s" : "%s and below", hi);
    else if (iv->hi == NO_HI)
        snprintf(buf, size, lo_open ? "over %s" : "%s and above", lo);
    else if (iv->lo == iv->hi)
        snprintf(buf, size, "%s", a);
    else if (lo_open || hi_open)
        snprintf(buf, size, "%s%s to %s%s", lo_open ? "over " : "", lo, hi_open ? "under " : "", hi);
    else
        snprintf(buf, size, "%s\xe2\x80\x93%s", a, b);   /* en dash, as SPEC §8 writes it */
}

/* Appends to buf[0..size) at *used, keeping it NUL-terminated. */
static void append(char *buf, size_t size, size_t *used, const char *a, const char *b,
                   const char *c)
{
    const char *parts[3];
    size_t i;
    parts[0] = a; parts[1] = b; parts[2] = c;
    for (i = 0; i < 3; i++) {
        size_t n = parts[i] ? strlen(parts[i]) : 0;
        if (*used + n >= size)   /* cut, but not inside a character */
            n = tsr__utf8_prefix(parts[i], n, size - 1 - *used);
        memcpy(buf + *used, parts[i] ? parts[i] : "", n);
        *used += n;
        buf[*used] = '\0';
    }
}

/* Ranges joined with ", " (the first three; the rest counted). */
static void fmt_ranges(char *buf, size_t size, const tsr_ruleset *rs, const tsr_field *f,
                       const interval *v, size_t n)
{
    size_t i, used = 0;
    buf[0] = '\0';
    for (i = 0; i < n && i < 3; i++) {
        char one[100];
        fmt_range(one, sizeof one, rs, f, &v[i]);
        append(buf, size, &used, i ? ", " : "", one, NULL);
    }
    if (n > 3) {
        char more[40];
        snprintf(more, sizeof more, " and %zu more", n - 3);
        append(buf, size, &used, more, NULL, NULL);
    }
}

/* "`toddler`, `child`" */
static void fmt_names(char *buf, size_t size, const tsr_ruleset *rs, const size_t *idx, size_t n)
{
    size_t i, used = 0;
    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        append(buf, size, &used, i ? ", `" : "`", rs->categories[idx[i]].id, "`");
    }
}

/* ---------------------------------------------------------------------
 * Grouping categories by `for`.
 */
static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Do two `for` (or `when`) expressions have the same text, white space
 * outside string literals aside?  NULL and a constant `true` both mean
 * "every line". */
static bool same_text(const tsr_expr *a, const tsr_expr *b)
{
    const char *p, *pe, *q, *qe;
    char quote = 0;

    if (!a || is_const_bool(a, true))
        return !b || is_const_bool(b, true);
    if (!b || is_const_bool(b, true) || !a->src || !b->src)
        return false;
    p = a->src; pe = p + a->src_len;
    q = b->src; qe = q + b->src_len;
    for (;;) {
        if (!quote) {
            while (p < pe && is_space(*p)) p++;
            while (q < qe && is_space(*q)) q++;
        }
        if (p == pe || q == qe)
            return p == pe && q == qe;
        if (*p != *q)
            return false;
        if (quote && *p == '\\' && p + 1 < pe && q + 1 < qe) {
            p++; q++;
            if (*p != *q)
                return false;
        } else if (quote && *p == quote) {
            quote = 0;
        } else if (!quote && (*p == '"' || *p == '\'')) {
            quote = *p;
        }
        p++; q++;
    }
}

static bool for_all_lines(const tsr_expr *e)
{
    return !e || is_const_bool(e, true);
}

/* Scratch memory for one analysis: the report's arena (tiny amounts). */
static void *scratch(linter *L, size_t count, size_t size)
{
    void *p = tsr__arena_calloc(&L->rep->arena, count ? count : 1, size);
    if (!p)
        L->rc = TSR_ENOMEM;
    return p;
}

/* Category c that can never apply for a reason of its own, or because an
 * earlier category of its group (group[0..k)) without conditions, or with
 * the same `when`, takes its lines.  True when reported. */
static bool check_unreachable(linter *L, const band *bands, const size_t *group, size_t k,
                              size_t c)
{
    const tsr_ruleset *rs = L->rs;
    const tsr_category *cat = &rs->categories[c];
    size_t i;

    if (bands[c].kind == BAND_NEVER) {
        if (bands[c].field)
            warn_at(L, "never-applies", &cat->pos,
                    "category `%s` can never apply: `when` holds for no value of `item.%s`",
                    cat->id, bands[c].field->name);
        else
            warn_at(L, "never-applies", &cat->pos,
                    "category `%s` can never apply: `when` is always false", cat->id);
        return true;
    }
    for (i = 0; i < k; i++) {
        const tsr_category *e = &rs->categories[group[i]];
        if (bands[group[i]].kind == BAND_ALWAYS) {
            warn_at(L, "never-applies", &cat->pos,
                    "category `%s` can never apply: `%s` above takes every line it could "
                    "(same `for`, no `when`)", cat->id, e->id);
            return true;
        }
        if (!e->has_valid && !cat->has_valid && e->when && cat->when &&
            same_text(e->when, cat->when)) {
            warn_at(L, "never-applies", &cat->pos,
                    "category `%s` can never apply: `%s` above has the same `for` and `when`",
                    cat->id, e->id);
            return true;
        }
    }
    return false;
}

/* A band against the earlier bands of its group on the same field: wholly
 * covered (never applies) or partly (overlap). */
static void check_band(linter *L, const band *bands, const size_t *group, size_t k, size_t c)
{
    const tsr_ruleset *rs = L->rs;
    const tsr_category *cat = &rs->categories[c];
    const band *me = &bands[c];
    char names[200], ranges[200];
    interval *pieces;
    size_t *who, i, np = 0, nwho = 0;
    field_unit u;

    if (me->kind != BAND_RANGE || !unit_of(rs, me->field, &u))
        return;
    pieces = scratch(L, k, sizeof *pieces);
    who = scratch(L, k, sizeof *who);
    if (!pieces || !who)
        return;
    for (i = 0; i < k; i++) {
        const band *e = &bands[group[i]];
        interval x;
        if (e->kind != BAND_RANGE || e->field != me->field)
            continue;
        x.lo = e->iv.lo > me->iv.lo ? e->iv.lo : me->iv.lo;
        x.hi = e->iv.hi < me->iv.hi ? e->iv.hi : me->iv.hi;
        if (iv_empty(&x))
            continue;
        pieces[np++] = x;
        who[nwho++] = group[i];
    }
    if (np == 0)
        return;
    np = iv_merge(pieces, np, u.g);
    fmt_names(names, sizeof names, rs, who, nwho);
    if (np == 1 && pieces[0].lo == me->iv.lo && pieces[0].hi == me->iv.hi) {
        fmt_range(ranges, sizeof ranges, rs, me->field, &me->iv);
        warn_at(L, "never-applies", &cat->pos,
                "category `%s` can never apply: `item.%s` %s already goes to %s above",
                cat->id, me->field->name, ranges, names);
        return;
    }
    fmt_ranges(ranges, sizeof ranges, rs, me->field, pieces, np);
    warn_at(L, "band-overlap", &cat->pos,
            "category `%s` overlaps %s on `item.%s`: %s goes to %s, which comes first",
            cat->id, names, me->field->name, ranges, nwho == 1 ? names : "the earlier ones");
}

/* Does some category outside the group, one for every line, take all of
 * `gap` on field f?  Then the gap is not one. */
static bool gap_caught_elsewhere(const linter *L, const band *bands, const tsr_expr *group_for,
                                 const tsr_field *f, const interval *gap)
{
    const tsr_ruleset *rs = L->rs;
    size_t i;
    for (i = 0; i < rs->ncategories; i++) {
        const tsr_category *c = &rs->categories[i];
        const band *b = &bands[i];
        if (!for_all_lines(c->for_) || same_text(c->for_, group_for))
            continue;
        if (b->kind == BAND_ALWAYS)
            return true;
        if (b->kind == BAND_RANGE && b->field == f && b->iv.lo <= gap->lo && b->iv.hi >= gap->hi)
            return true;
    }
    return false;
}

/* Report one gap between merged bands, naming the bands on either side:
 * the first (in file order) ending below it and the first starting above. */
static void report_gap(linter *L, const band *bands, const size_t *group, size_t n,
                       const tsr_field *f, const interval *below_iv, const interval *above_iv,
                       const interval *gap)
{
    const tsr_ruleset *rs = L->rs;
    const tsr_category *below = NULL, *above = NULL;
    char range[100];
    size_t j;

    for (j = 0; j < n; j++) {
        const band *b = &bands[group[j]];
        if (b->kind != BAND_RANGE)
            continue;
        if (b->iv.hi == below_iv->hi && !below)
            below = &rs->categories[group[j]];
        if (b->iv.lo == above_iv->lo && !above)
            above = &rs->categories[group[j]];
    }
    if (!below || !above)
        return;
    fmt_range(range, sizeof range, rs, f, gap);
    warn_at(L, "band-gap", &above->pos,
            "category bands on `item.%s` leave a gap: %s gets no category "
            "(`%s` ends below it, `%s` starts above it)", f->name, range, below->id, above->id);
}

/* Gaps between the bands of one group: only when every category of the
 * group is a band on the same field (one with other conditions might fill
 * the gap), and none takes every line.  Values below the lowest band and
 * above the highest are not reported: a band's open end is usually the
 * domain's (heights are not negative). */
static void check_gaps(linter *L, const band *bands, const size_t *group, size_t n)
{
    const tsr_ruleset *rs = L->rs;
    const tsr_field *f = NULL;
    interval *v;
    field_unit u;
    size_t i, nv;

    if (n < 2)
        return;
    for (i = 0; i < n; i++) {
        const band *b = &bands[group[i]];
        if (b->kind == BAND_NEVER)
            continue;
        if (b->kind != BAND_RANGE || (f && b->field != f))
            return;
        f = b->field;
    }
    if (!f || !unit_of(rs, f, &u))
        return;
    v = scratch(L, n, sizeof *v);
    if (!v)
        return;
    for (i = nv = 0; i < n; i++)
        if (bands[group[i]].kind == BAND_RANGE)
            v[nv++] = bands[group[i]].iv;
    nv = iv_merge(v, nv, u.g);
    for (i = 1; i < nv; i++) {
        interval gap;
        gap.lo = v[i - 1].hi + u.g;   /* bounded: a later interval follows */
        gap.hi = v[i].lo - u.g;
        if (!gap_caught_elsewhere(L, bands, rs->categories[group[0]].for_, f, &gap))
            report_gap(L, bands, group, n, f, &v[i - 1], &v[i], &gap);
    }
}

static void lint_categories(linter *L)
{
    const tsr_ruleset *rs = L->rs;
    size_t n = rs->ncategories, i, j;
    band *bands;
    size_t *group;
    bool *done;
    size_t catchall = SIZE_MAX;   /* first category for every line, no conditions */

    if (n == 0)
        return;
    bands = scratch(L, n, sizeof *bands);
    group = scratch(L, n, sizeof *group);
    done = scratch(L, n, sizeof *done);
    if (!bands || !group || !done)
        return;
    for (i = 0; i < n; i++) {
        bands[i] = read_band(rs, &rs->categories[i]);
        if (catchall == SIZE_MAX && bands[i].kind == BAND_ALWAYS &&
            for_all_lines(rs->categories[i].for_))
            catchall = i;
    }
    for (i = 0; i < n && L->rc == TSR_OK; i++) {
        size_t k = 0;
        if (done[i])
            continue;
        for (j = i; j < n; j++)
            if (!done[j] && same_text(rs->categories[i].for_, rs->categories[j].for_)) {
                done[j] = true;
                group[k++] = j;
            }
        for (j = 0; j < k; j++) {
            const tsr_category *c = &rs->categories[group[j]];
            /* An order may name a selectable category: earlier categories
             * that take its lines in matching do not make it unreachable
             * (one chosen only is placed after the catch-all on purpose).
             * Its own `when` may still hold for no line. */
            if (c->selectable) {
                if (bands[group[j]].kind == BAND_NEVER)
                    check_unreachable(L, bands, group, 0, group[j]);
                continue;
            }
            /* a catch-all for every line in another group, earlier in the
             * file, takes this category's lines too */
            if (catchall < group[j] && !for_all_lines(c->for_)) {
                warn_at(L, "never-applies", &c->pos,
                        "category `%s` can never apply: `%s` above takes every line "
                        "(no `for`, no `when`)", c->id, rs->categories[catchall].id);
                continue;
            }
            if (!check_unreachable(L, bands, group, j, group[j]))
                check_band(L, bands, group, j, group[j]);
        }
        check_gaps(L, bands, group, k);
    }
}

/* ---------------------------------------------------------------------
 * Discounts: an earlier exclusive discount that claims every line of a
 * later one.  It must surely apply and change every eligible line: no
 * conditions or thresholds, a constant positive percent or amount on each
 * eligible line (no every/bundle/order_amount/price, no reward, no cap).
 * Lines whose total is already zero escape it, but a later discount can do
 * nothing to them either.
 */
static bool claims_every_line(const tsr_discount *d)
{
    if (!d->exclusive || d->when || d->has_valid || d->requires >= 0 || d->requires_name ||
        d->reward || d->every || d->nbundle || d->min_quantity || d->has_min_total ||
        d->has_limit || !d->value || !d->value->is_const)
        return false;
    if (d->effect == TSR_EFFECT_PERCENT)
        return d->value->constant.type == TSR_T_DECIMAL && d->value->constant.u.i > 0;
    if (d->effect == TSR_EFFECT_AMOUNT)
        return d->value->constant.type == TSR_T_MONEY && d->value->constant.u.i > 0;
    return false;
}

static void check_requires(linter *L, const tsr_discount *d)
{
    const tsr_ruleset *rs = L->rs;
    const char *names[64];
    size_t k, np = rs->npromos < 64 ? rs->npromos : 64;
    const char *near;

    for (k = 0; k < np; k++)
        names[k] = rs->promos[k].id;
    near = tsr__closest(d->requires_name, strlen(d->requires_name), names, np);
    warn_at(L, "unknown-requires", &d->pos,
            "discount `%s` can never apply: `requires: %s` names no promo code%s%s%s",
            d->id, d->requires_name, near ? "; did you mean `" : "", near ? near : "",
            near ? "`?" : "");
}

static void lint_discounts(linter *L)
{
    const tsr_ruleset *rs = L->rs;
    size_t i, j;

    for (j = 0; j < rs->ndiscounts; j++) {
        const tsr_discount *d = &rs->discounts[j];

        /* The loader refuses such a rule set today (an error naming the
         * missing code); kept so a lenient loader could not hide it. */
        if (d->requires < 0 && d->requires_name) {
            check_requires(L, d);
            continue;
        }
        for (i = 0; i < j; i++) {
            const tsr_discount *e = &rs->discounts[i];
            if (!claims_every_line(e))
                continue;
            /* discounts of one group see the same lines */
            if (e->group_index >= 0 && e->group_index == d->group_index)
                continue;
            if (!for_all_lines(e->for_) && (d->reward || !same_text(e->for_, d->for_)))
                continue;
            warn_at(L, "never-applies", &d->pos,
                    "discount `%s` can never apply: the exclusive discount `%s`, applied "
                    "before it, takes every line it could", d->id, e->id);
            break;
        }
    }
}

/* ---------------------------------------------------------------------
 * Aggregates whose cost grows with the square of the number of lines.
 *
 * Evaluation computes each count/sum/any/all once and keeps its value
 * while nothing it reads changes (`item` inside it is its own line, never
 * the line a rule is looking at, so nesting and per-line rules cost no
 * more than one pass over the lines).  The one case it cannot keep is a
 * per-line expression of `categories` whose aggregate reads item.category
 * or item.price (or, through them, anything categories set): categories
 * assign those line by line, so the value changes after every line and is
 * computed again for each one — lines² work, which a large order turns into
 * the work budget's TSR_ELIMIT.
 */
static void check_aggregate(linter *L, const tsr_category *c, const tsr_expr *e,
                            const char *key)
{
    uint32_t off, len;

    if (!tsr__expr_line_state_aggregate(e, &off, &len))
        return;
    warn(L, "quadratic-aggregate", e->file, e->line, e->col,
         "`%.*s%s` in `%s` of category `%s` is computed again for every line, because "
         "categories set item.category and item.price line by line: its cost grows with the "
         "square of the number of lines", (int)tsr__utf8_prefix(e->src + off, len, 80),
         e->src + off, len > 80 ? "…" : "", key, c->id);
}

static void lint_aggregates(linter *L)
{
    const tsr_ruleset *rs = L->rs;
    size_t i;

    for (i = 0; i < rs->ncategories; i++) {
        const tsr_category *c = &rs->categories[i];
        check_aggregate(L, c, c->for_, "for");
        check_aggregate(L, c, c->when, "when");
        check_aggregate(L, c, c->price, "price");
    }
}

/* ---------------------------------------------------------------------
 * What nothing uses.
 */
static void lint_unused(linter *L)
{
    const tsr_ruleset *rs = L->rs;
    const char *main_file = rs->nfiles ? rs->files[0] : "";
    size_t i;

    for (i = 0; i < rs->nsegments; i++)
        if (!rs->segments[i].used)
            warn_at(L, "unused-segment", &rs->segments[i].pos,
                    "segment `%s` is never used: no rule reads `segment.%s`",
                    rs->segments[i].id, rs->segments[i].id);
    /* tsr_table records no file: tables are reported against the main file */
    for (i = 0; i < rs->ntables; i++)
        if (!rs->tables[i].used)
            warn(L, "unused-table", main_file, rs->tables[i].line, rs->tables[i].col,
                 "table `%s` is never used: no rule reads `tables.%s`",
                 rs->tables[i].name, rs->tables[i].name);
    for (i = 0; i < rs->npromos; i++)
        if (!rs->promos[i].used)
            warn_at(L, "unused-promo-code", &rs->promos[i].pos,
                    "promo code `%s` is never used: no discount requires it and no rule "
                    "reads `promo.%s`", rs->promos[i].id, rs->promos[i].id);
}

/* ---------------------------------------------------------------------
 * Entry points.
 */
static int cmp_warning(const warning *a, const warning *b)
{
    if (a->file_rank != b->file_rank)
        return a->file_rank < b->file_rank ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->col != b->col)
        return a->col < b->col ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void sort_warnings(warning *w, size_t n)
{
    size_t i, j;
    for (i = 1; i < n; i++) {
        warning t = w[i];
        for (j = i; j > 0 && cmp_warning(&w[j - 1], &t) > 0; j--)
            w[j] = w[j - 1];
        w[j] = t;
    }
}

int tsr_ruleset_lint(tsr_lint_report **out, const tsr_ruleset *rs, tsr_error *err)
{
    tsr_lint_report *rep;
    tsr_alloc alloc;
    linter L;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_ruleset_lint: `out` is NULL");
    *out = NULL;
    if (!rs)
        return tsr__err(err, TSR_EINVAL, "tsr_ruleset_lint: the rule set is NULL");
    alloc = rs->alloc;
    rep = tsr__calloc(&alloc, 1, sizeof *rep);
    if (!rep)
        return tsr__err(err, TSR_ENOMEM, "out of memory");
    rep->alloc = alloc;
    tsr__arena_init(&rep->arena, &rep->alloc, 2048);

    L.rs = rs;
    L.rep = rep;
    L.rc = TSR_OK;
    lint_categories(&L);
    lint_discounts(&L);
    lint_aggregates(&L);
    lint_unused(&L);
    if (L.rc != TSR_OK) {
        tsr_lint_report_free(rep);
        return tsr__err(err, L.rc, "out of memory");
    }
    sort_warnings(rep->w, rep->n);
    *out = rep;
    return TSR_OK;
}

void tsr_lint_report_free(tsr_lint_report *r)
{
    tsr_alloc alloc;
    if (!r)
        return;
    alloc = r->alloc;
    tsr__free(&alloc, r->w, r->cap * sizeof *r->w);
    r->arena.alloc = &alloc;
    tsr__arena_free(&r->arena);
    tsr__free(&alloc, r, sizeof *r);
}

size_t tsr_lint_report_count(const tsr_lint_report *r)
{
    return r ? r->n : 0;
}

int tsr_lint_report_warning(const tsr_lint_report *r, size_t i, tsr_error *out)
{
    const warning *w;
    if (!r || i >= r->n || !out)
        return TSR_EINVAL;
    w = &r->w[i];
    tsr__err_at(out, TSR_OK, w->file, w->line, w->col, "%s", w->message);
    return TSR_OK;
}

const char *tsr_lint_report_kind(const tsr_lint_report *r, size_t i)
{
    return r && i < r->n ? r->w[i].kind : NULL;
}
