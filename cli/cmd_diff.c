/*
 * cmd_diff.c — `tessera diff OLD NEW ORDERS.jsonl`: price every order under
 * two rule sets and report how revenue, discounts and points move, how
 * many orders changed or were rejected, and the orders that moved most.
 * The check a marketer runs before a new scenario goes live.
 *
 * Streams: one order per input line, one tsr_order per rule set reused for
 * every line, results freed at once; memory is the top-N list and a few
 * counters, whatever the number of orders.  Sums are overflow-checked and
 * percentages computed in integers.
 *
 * Exit status: 0 the comparison ran (changes and rejections are part of
 * the report, not failures); 1 a rule file is broken, the two differ in
 * currency, or output failed; 2 the orders cannot be read; 64 a wrong
 * command line.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TOP 1000
#define MAX_EXAMPLES 5
#define ID_MAX 64

typedef struct diff_args {
    const char *old_file, *new_file, *orders;
    size_t top;
    int json;
} diff_args;

typedef struct side {
    const char *file;
    tsr_ruleset *rs;
    tsr_order *order;
} side;

typedef struct sums {
    int64_t due, discount, earned, redeemed;
} sums;

typedef struct mover {
    size_t line;
    char order[ID_MAX];         /* "" when the order has no id */
    tsr_totals before, after;
    int64_t ddue, dpoints;      /* magnitudes of the changes, for ranking */
} mover;

/* Room for a whole rendered error ("path: message"): the library's
 * messages are clean UTF-8, and cutting them here could split a character. */
#define EXAMPLE_MAX (TSR_ERROR_PATH_MAX + TSR_ERROR_TEXT_MAX + 2)

typedef struct example {
    size_t line;
    char old_error[EXAMPLE_MAX], new_error[EXAMPLE_MAX];   /* "" when that side priced it */
} example;

typedef struct diff {
    diff_args a;
    side old_, new_;
    unsigned minor;
    size_t read, priced, changed, err_old, err_new, err_both;
    sums before, after;
    int overflow;
    mover *top;
    size_t ntop;
    example examples[MAX_EXAMPLES];
    size_t nexamples;
} diff;

static int parse_args(diff_args *a, int argc, char **argv)
{
    int i, npos = 0, options = 1;
    const char **pos[3];

    memset(a, 0, sizeof *a);
    a->top = 10;
    pos[0] = &a->old_file;
    pos[1] = &a->new_file;
    pos[2] = &a->orders;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (options && strcmp(s, "--") == 0) {
            options = 0;
        } else if (options && strcmp(s, "--json") == 0) {
            a->json = 1;
        } else if (options && (strcmp(s, "--top") == 0 || strncmp(s, "--top=", 6) == 0)) {
            const char *v = s[5] == '=' ? s + 6 : i + 1 < argc ? argv[++i] : "";
            char *end;
            unsigned long n;
            errno = 0;
            n = strtoul(v, &end, 10);
            if (!*v || *end || errno || n > MAX_TOP) {
                fprintf(stderr, "tessera diff: --top takes a number from 0 to %d\n", MAX_TOP);
                return CLI_USAGE;
            }
            a->top = n;
        } else if (options && s[0] == '-' && s[1]) {
            fprintf(stderr, "tessera diff: unknown option `%s`; try `tessera help diff`\n", s);
            return CLI_USAGE;
        } else if (npos < 3) {
            *pos[npos++] = s;
        } else {
            fprintf(stderr, "tessera diff: too many arguments (`%s`)\n", s);
            return CLI_USAGE;
        }
    }
    if (npos < 3) {
        fprintf(stderr, "usage: tessera diff [--top N] [--json] OLD NEW ORDERS.jsonl\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* ---------------------------------------------------------------------
 * Comparing one order.
 */
static int add_sums(sums *s, const tsr_totals *t)
{
    /* checked: a wrap would silently report nonsense */
    if ((t->due > 0 && s->due > INT64_MAX - t->due) ||
        (t->discount > 0 && s->discount > INT64_MAX - t->discount) ||
        (t->points_earned > 0 && s->earned > INT64_MAX - t->points_earned) ||
        (t->points_redeemed > 0 && s->redeemed > INT64_MAX - t->points_redeemed))
        return -1;
    s->due += t->due;
    s->discount += t->discount;
    s->earned += t->points_earned;
    s->redeemed += t->points_redeemed;
    return 0;
}

static int64_t magnitude(int64_t a, int64_t b)
{
    /* totals are >= 0, so the difference fits */
    return a > b ? a - b : b - a;
}

/* Does m rank above n: larger due change, then larger points change, then
 * the earlier line. */
static int ranks_above(const mover *m, const mover *n)
{
    if (m->ddue != n->ddue)
        return m->ddue > n->ddue;
    if (m->dpoints != n->dpoints)
        return m->dpoints > n->dpoints;
    return m->line < n->line;
}

static void consider(diff *d, const mover *m)
{
    size_t at;

    if (d->a.top == 0 || (d->ntop == d->a.top && !ranks_above(m, &d->top[d->ntop - 1])))
        return;
    if (d->ntop < d->a.top)
        d->ntop++;
    at = d->ntop - 1;
    while (at > 0 && ranks_above(m, &d->top[at - 1])) {
        d->top[at] = d->top[at - 1];
        at--;
    }
    d->top[at] = *m;
}

static void compare(diff *d, size_t lineno, const tsr_result *before, const tsr_result *after)
{
    const char *id = tsr_result_order_id(before);
    mover m;

    memset(&m, 0, sizeof m);
    m.before.version = m.after.version = TSR_TOTALS_VERSION;
    tsr_result_totals(before, &m.before);
    tsr_result_totals(after, &m.after);
    d->priced++;
    if (add_sums(&d->before, &m.before) != 0 || add_sums(&d->after, &m.after) != 0)
        d->overflow = 1;
    if (m.before.due == m.after.due && m.before.discount == m.after.discount &&
        m.before.redeemed_value == m.after.redeemed_value &&
        m.before.points_earned == m.after.points_earned &&
        m.before.points_redeemed == m.after.points_redeemed)
        return;
    d->changed++;
    m.line = lineno;
    snprintf(m.order, sizeof m.order, "%s", id ? id : "");
    m.ddue = magnitude(m.before.due, m.after.due);
    m.dpoints = magnitude(m.before.points_earned, m.after.points_earned);
    consider(d, &m);
}

static void note_error(char *buf, size_t size, const tsr_error *err)
{
    if (err->path[0])
        snprintf(buf, size, "%s: %s", err->path, err->message);
    else
        snprintf(buf, size, "%s", err->message);
}

/* Price one line under a rule set: 0 priced, 1 rejected, -1 out of memory. */
static int price(side *s, const char *line, size_t len, tsr_result **res, tsr_error *err)
{
    static const tsr_eval_options quiet = { TSR_EVAL_OPTIONS_VERSION, 0, 1 };

    *res = NULL;
    tsr_order_reset(s->order);
    if (tsr_order_parse(s->order, line, len, err) == TSR_OK &&
        tsr_evaluate(res, s->rs, s->order, &quiet, err) == TSR_OK)
        return 0;
    return err->code == TSR_ENOMEM ? -1 : 1;
}

static int diff_line(diff *d, const char *line, size_t len, size_t lineno)
{
    tsr_result *before = NULL, *after = NULL;
    tsr_error e_old, e_new;
    int r_old, r_new;

    r_old = price(&d->old_, line, len, &before, &e_old);
    r_new = r_old < 0 ? -1 : price(&d->new_, line, len, &after, &e_new);
    if (r_old == 0 && r_new == 0)
        compare(d, lineno, before, after);
    tsr_result_free(before);
    tsr_result_free(after);
    if (r_old < 0 || r_new < 0)
        return -1;
    if (r_old == 0 && r_new == 0)
        return 0;
    if (r_old && r_new)
        d->err_both++;
    else if (r_old)
        d->err_old++;
    else
        d->err_new++;
    if (d->nexamples < MAX_EXAMPLES) {
        example *x = &d->examples[d->nexamples++];
        x->line = lineno;
        x->old_error[0] = x->new_error[0] = '\0';
        if (r_old)
            note_error(x->old_error, sizeof x->old_error, &e_old);
        if (r_new)
            note_error(x->new_error, sizeof x->new_error, &e_new);
    }
    return 0;
}

/* A line neither side could read (longer than an order may be): rejected
 * by both, for the same reason, which the report gives like any other. */
static void too_long(diff *d, size_t lineno, size_t max)
{
    d->err_both++;
    if (d->nexamples < MAX_EXAMPLES) {
        example *x = &d->examples[d->nexamples++];
        x->line = lineno;
        snprintf(x->old_error, sizeof x->old_error,
                 "the line is longer than the limit of %zu bytes", max);
        memcpy(x->new_error, x->old_error, sizeof x->new_error);
    }
}

static int run(diff *d, FILE *in, const char *name)
{
    static const tsr_load_options limits = TSR_LOAD_OPTIONS_INIT;
    char *line = NULL;
    size_t len, lineno = 0;
    line_reader lr;
    lr_status got;
    progress pg;
    int rc = CLI_OK;

    if (lr_init(&lr, fileno(in), limits.max_order_size) != 0) {
        fprintf(stderr, "tessera diff: out of memory\n");
        return CLI_ERRORS;
    }
    progress_init(&pg, "orders");
    while ((got = lr_next(&lr, &line, &len)) == LR_LINE || got == LR_TOO_LONG) {
        lineno++;
        if (got == LR_LINE && batch_is_blank(line, len))
            continue;
        d->read++;
        if (got == LR_TOO_LONG) {
            too_long(d, lineno, lr.max);
            continue;
        }
        if (diff_line(d, line, len, lineno) < 0) {
            fprintf(stderr, "tessera diff: out of memory at line %zu\n", lineno);
            rc = CLI_ERRORS;
            break;
        }
        progress_tick(&pg);
    }
    progress_done(&pg);
    if (got == LR_ERROR) {
        fprintf(stderr, "%s: error: cannot read: %s\n", name, strerror(errno));
        rc = CLI_BAD_INPUT;
    }
    lr_free(&lr);
    if (rc == CLI_OK && d->overflow) {
        fprintf(stderr, "tessera diff: the sums overflow: too many orders for one report\n");
        rc = CLI_ERRORS;
    }
    return rc;
}

/* ---------------------------------------------------------------------
 * The report for people.
 */
static void money_row(const diff *d, const char *what, int64_t a, int64_t b, int money)
{
    char x[32], y[32], z[32], p[32];
    if (money)
        printf("  %-17s %16s %16s %16s %9s\n", what, batch_money(x, a, d->minor, 0),
               batch_money(y, b, d->minor, 0), batch_money(z, b - a, d->minor, 1),
               batch_percent(p, b - a, a));
    else
        printf("  %-17s %16s %16s %16s %9s\n", what, batch_money(x, a, 0, 0),
               batch_money(y, b, 0, 0), batch_money(z, b - a, 0, 1), batch_percent(p, b - a, a));
}

/* "28.57%" of a share (no sign). */
static const char *share(char *buf, size_t part, size_t whole)
{
    batch_percent(buf, (int64_t)part, (int64_t)whole);
    return buf[0] == '+' ? buf + 1 : buf;
}

static void print_movers(const diff *d)
{
    char a[32], b[32], c[32], e[32], f[32], g[32], due[100];
    size_t i;

    if (d->ntop == 0)
        return;
    printf("\nOrders that moved most (by the change in due, then in points earned):\n");
    printf("  %8s  %-16s %-44s %s\n", "line", "order", "due: old -> new (change)",
           "points earned: old -> new (change)");
    for (i = 0; i < d->ntop; i++) {
        const mover *m = &d->top[i];
        snprintf(due, sizeof due, "%s -> %s (%s)", batch_money(a, m->before.due, d->minor, 0),
                 batch_money(b, m->after.due, d->minor, 0),
                 batch_money(c, m->after.due - m->before.due, d->minor, 1));
        printf("  %8zu  %-16s %-44s %s -> %s (%s)\n", m->line, m->order[0] ? m->order : "-", due,
               batch_money(e, m->before.points_earned, 0, 0),
               batch_money(f, m->after.points_earned, 0, 0),
               batch_money(g, m->after.points_earned - m->before.points_earned, 0, 1));
    }
}

static void print_text(const diff *d)
{
    const tsr_ruleset *o = d->old_.rs, *n = d->new_.rs;
    char s[32];
    size_t i;

    printf("tessera diff: %s (%s, version %s) -> %s (%s, version %s), in %s\n", d->old_.file,
           tsr_ruleset_id(o), tsr_ruleset_version(o), d->new_.file, tsr_ruleset_id(n),
           tsr_ruleset_version(n), tsr_ruleset_currency(o));
    printf("\n  %-17s %16s %16s %16s\n", "", "old", "new", "change");
    money_row(d, "revenue (due)", d->before.due, d->after.due, 1);
    money_row(d, "discounts", d->before.discount, d->after.discount, 1);
    money_row(d, "points earned", d->before.earned, d->after.earned, 0);
    money_row(d, "points redeemed", d->before.redeemed, d->after.redeemed, 0);
    printf("\n  orders: %zu read, %zu priced under both, %zu changed (%s of those priced)\n",
           d->read, d->priced, d->changed, share(s, d->changed, d->priced));
    printf("  rejected: %zu only by old, %zu only by new, %zu by both\n", d->err_old,
           d->err_new, d->err_both);
    for (i = 0; i < d->nexamples; i++) {
        const example *x = &d->examples[i];
        if (x->old_error[0])
            printf("    line %zu: old: %s\n", x->line, x->old_error);
        if (x->new_error[0])
            printf("    line %zu: new: %s\n", x->line, x->new_error);
    }
    print_movers(d);
}

/* ---------------------------------------------------------------------
 * The report for machines.
 */
static void json_side(const side *s)
{
    printf("{\"file\":");
    batch_json_string(stdout, s->file);
    printf(",\"ruleset\":");
    batch_json_string(stdout, tsr_ruleset_id(s->rs));
    printf(",\"version\":");
    batch_json_string(stdout, tsr_ruleset_version(s->rs));
    printf("}");
}

static void json_change(const char *key, int64_t a, int64_t b, unsigned minor,
                        int first)
{
    char x[32], y[32], z[32], p[32];
    const char *q = minor ? "\"" : "";
    batch_percent(p, b - a, a);
    printf("%s\"%s\":{\"old\":%s%s%s,\"new\":%s%s%s,\"change\":%s%s%s,\"percent\":", first ? "" : ",",
           key, q, batch_money(x, a, minor, 0), q, q, batch_money(y, b, minor, 0), q, q,
           batch_money(z, b - a, minor, 0), q);
    if (strcmp(p, "n/a") == 0)
        printf("null}");
    else
        printf("\"%.*s\"}", (int)(strlen(p) - 1 - (p[0] == '+')), p[0] == '+' ? p + 1 : p);
}

static void print_json(const diff *d)
{
    size_t i;

    printf("{\"old\":");
    json_side(&d->old_);
    printf(",\"new\":");
    json_side(&d->new_);
    printf(",\"currency\":");
    batch_json_string(stdout, tsr_ruleset_currency(d->old_.rs));
    printf(",\"orders\":{\"read\":%zu,\"priced\":%zu,\"changed\":%zu,\"rejected_old\":%zu,"
           "\"rejected_new\":%zu,\"rejected_both\":%zu}",
           d->read, d->priced, d->changed, d->err_old, d->err_new, d->err_both);
    printf(",\"totals\":{");
    json_change("revenue", d->before.due, d->after.due, d->minor, 1);
    json_change("discounts", d->before.discount, d->after.discount, d->minor, 0);
    json_change("points_earned", d->before.earned, d->after.earned, 0, 0);
    json_change("points_redeemed", d->before.redeemed, d->after.redeemed, 0, 0);
    printf("},\"rejected\":[");
    for (i = 0; i < d->nexamples; i++) {
        const example *x = &d->examples[i];
        printf("%s{\"line\":%zu,\"old\":", i ? "," : "", x->line);
        if (x->old_error[0])
            batch_json_string(stdout, x->old_error);
        else
            printf("null");
        printf(",\"new\":");
        if (x->new_error[0])
            batch_json_string(stdout, x->new_error);
        else
            printf("null");
        printf("}");
    }
    printf("],\"top\":[");
    for (i = 0; i < d->ntop; i++) {
        const mover *m = &d->top[i];
        printf("%s{\"line\":%zu,\"order\":", i ? "," : "", m->line);
        if (m->order[0])
            batch_json_string(stdout, m->order);
        else
            printf("null");
        printf(",");
        json_change("due", m->before.due, m->after.due, d->minor, 1);
        json_change("points_earned", m->before.points_earned, m->after.points_earned, 0, 0);
        printf("}");
    }
    printf("]}\n");
}

/* ---------------------------------------------------------------------
 * Setup.
 */
static int open_side(side *s, const char *file)
{
    tsr_error err;
    int rc;

    s->file = file;
    if ((rc = batch_load_rules(&s->rs, file)) != CLI_OK)
        return rc;
    if (tsr_order_new(&s->order, s->rs, &err) != TSR_OK) {
        fprintf(stderr, "tessera diff: %s\n", err.message);
        return CLI_ERRORS;
    }
    return CLI_OK;
}

static void close_side(side *s)
{
    tsr_order_free(s->order);
    tsr_ruleset_free(s->rs);
}

static int same_currency(const diff *d)
{
    const char *a = tsr_ruleset_currency(d->old_.rs), *b = tsr_ruleset_currency(d->new_.rs);
    if (strcmp(a, b) == 0 && tsr_ruleset_minor_units(d->old_.rs) == tsr_ruleset_minor_units(d->new_.rs))
        return CLI_OK;
    fprintf(stderr, "tessera diff: %s prices in %s, %s in %s: only rule sets in one currency "
                    "can be compared\n", d->old_.file, a, d->new_.file, b);
    return CLI_ERRORS;
}

int cmd_diff(int argc, char **argv)
{
    diff d;
    FILE *in;
    int rc;

    memset(&d, 0, sizeof d);
    if ((rc = parse_args(&d.a, argc, argv)) != CLI_OK)
        return rc;
    if ((rc = open_side(&d.old_, d.a.old_file)) == CLI_OK &&
        (rc = open_side(&d.new_, d.a.new_file)) == CLI_OK && (rc = same_currency(&d)) == CLI_OK) {
        d.minor = tsr_ruleset_minor_units(d.old_.rs);
        if (d.a.top && !(d.top = calloc(d.a.top, sizeof *d.top))) {
            fprintf(stderr, "tessera diff: out of memory\n");
            rc = CLI_ERRORS;
        } else if (!(in = batch_open(d.a.orders, "diff"))) {
            rc = CLI_BAD_INPUT;
        } else {
            rc = run(&d, in, in == stdin ? "<stdin>" : d.a.orders);
            batch_close(in);
        }
    }
    if (rc == CLI_OK) {
        if (d.a.json)
            print_json(&d);
        else
            print_text(&d);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "tessera diff: cannot write: %s\n", strerror(errno));
            rc = CLI_ERRORS;
        }
    }
    free(d.top);
    close_side(&d.old_);
    close_side(&d.new_);
    return rc;
}
