/* Unit tests for loading rule sets (ruleset.c, rules_load.c,
 * rules_validity.c): the real rule files load, the model holds what the
 * files say, includes merge and fail as documented, errors say where, and
 * every allocation failure is reported cleanly with nothing leaked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rules.h"
#include "alloc_fixture.h"

#ifndef TSR_SOURCE_DIR
#  define TSR_SOURCE_DIR "."
#endif
#define SHARED_DIR TSR_SOURCE_DIR "/../shared"
#define PARK_YAML SHARED_DIR "/scenarios/park/park.yaml"
#define PARK10_YAML SHARED_DIR "/bench/park10/park10.tessera.yaml"

/* ---------------------------------------------------------------------
 * Helpers.
 */
#define HEADER "tessera: 1\nruleset: t\ncurrency: EUR\n"

static tsr_ruleset *load_ok(const char *text)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc = tsr_ruleset_load_string(&rs, text, strlen(text), "t.yaml", NULL, &err);
    if (rc != TSR_OK)
        fail_msg("load failed: %s:%d:%d: %s", err.file, err.line, err.column, err.message);
    return rs;
}

/* Load text that must fail; returns the code and fills err. */
static int load_bad(const char *text, tsr_error *err)
{
    tsr_ruleset *rs = (tsr_ruleset *)1;
    int rc = tsr_ruleset_load_string(&rs, text, strlen(text), "t.yaml", NULL, err);
    assert_int_not_equal(rc, TSR_OK);
    assert_null(rs);
    assert_int_equal(err->code, rc);
    return rc;
}

/* Mismatches are printed and counted, so one run shows them all;
 * end_errors() fails the test if there were any. */
static int error_mismatches;

static void assert_error(const char *text, int code, int line, int col, const char *message)
{
    tsr_error err;
    int rc = load_bad(text, &err);
    if (rc != code || err.line != line || err.column != col || strcmp(err.message, message) != 0 ||
        strcmp(err.file, "t.yaml") != 0) {
        print_error("expected %d at %d:%d `%s`\n     got %d at %s:%d:%d `%s`\n", code, line, col,
                    message, rc, err.file, err.line, err.column, err.message);
        error_mismatches++;
    }
}

static void end_errors(void)
{
    int n = error_mismatches;
    error_mismatches = 0;
    assert_int_equal(n, 0);
}

static const tsr_discount *discount(const tsr_ruleset *rs, const char *id)
{
    size_t i;
    for (i = 0; i < rs->ndiscounts; i++)
        if (strcmp(rs->discounts[i].id, id) == 0)
            return &rs->discounts[i];
    fail_msg("no discount %s", id);
    return NULL;
}

/* In-memory files for the include resolver. */
typedef struct mem_file {
    const char *name, *text;
} mem_file;

typedef struct mem_fs {
    const mem_file *files;
    size_t n;
    int calls;
    char last_including[64];
} mem_fs;

static int mem_resolve(void *ud, const char *including, const char *name, char *resolved,
                       size_t resolved_size, const char **text, size_t *len)
{
    mem_fs *fs = ud;
    size_t i;

    fs->calls++;
    snprintf(fs->last_including, sizeof fs->last_including, "%s", including);
    for (i = 0; i < fs->n; i++)
        if (strcmp(fs->files[i].name, name) == 0) {
            snprintf(resolved, resolved_size, "%s", name);
            *text = fs->files[i].text;
            *len = strlen(fs->files[i].text);
            return TSR_OK;
        }
    return TSR_EIO;
}

/* fs is written: the resolver counts its calls there. */
static int load_mem(tsr_ruleset **rs, mem_fs *fs, const char *main_name, tsr_error *err)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    size_t i;

    opts.include = mem_resolve;
    opts.include_ud = fs;
    for (i = 0; i < fs->n; i++)
        if (strcmp(fs->files[i].name, main_name) == 0)
            return tsr_ruleset_load_string(rs, fs->files[i].text, strlen(fs->files[i].text),
                                           main_name, &opts, err);
    fail_msg("no main file %s", main_name);
    return TSR_EINVAL;
}

/* ---------------------------------------------------------------------
 * The real rule files.
 */
static void test_park_yaml_loads_with_its_model(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    const tsr_discount *d;
    const tsr_loyalty *l;
    int rc;
    (void)state;

    rc = tsr_ruleset_load_file(&rs, PARK_YAML, NULL, &err);
    if (rc != TSR_OK)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
    assert_string_equal(tsr_ruleset_id(rs), "island-park");
    assert_string_equal(tsr_ruleset_version(rs), "2026.1");
    assert_string_equal(tsr_ruleset_currency(rs), "RUB");
    assert_int_equal(rs->minor_units, 2);
    assert_int_equal(rs->rounding, TSR_ROUND_HALF_UP);
    assert_null(rs->tz);
    assert_int_equal(rs->nfiles, 1);
    assert_string_equal(rs->files[0], PARK_YAML);

    /* schema: built-ins first, then the declared fields */
    assert_int_equal(rs->records[TSR_REC_ITEM].len, TSR_ITEM__BUILTIN + 1);
    assert_string_equal(rs->records[TSR_REC_ITEM].fields[TSR_ITEM__BUILTIN].name, "height_cm");
    assert_int_equal(rs->records[TSR_REC_ITEM].fields[TSR_ITEM__BUILTIN].type, TSR_T_INT);
    assert_int_equal(rs->records[TSR_REC_ITEM].fields[TSR_ITEM__BUILTIN].slot, TSR_ITEM__BUILTIN);
    assert_int_equal(rs->records[TSR_REC_CUSTOMER].len, TSR_CUST__BUILTIN + 4);
    assert_int_equal(rs->records[TSR_REC_CUSTOMER].fields[TSR_CUST__BUILTIN + 1].type, TSR_T_DATE);
    assert_int_equal(rs->records[TSR_REC_ORDER].len, TSR_ORDER__BUILTIN);

    /* tables: a list of dates, used by the category prices */
    assert_int_equal(rs->ntables, 1);
    assert_string_equal(rs->tables[0].name, "holidays");
    assert_false(rs->tables[0].is_map);
    assert_int_equal(rs->tables[0].elem, TSR_T_DATE);
    assert_int_equal(rs->tables[0].len, 4);
    assert_int_equal(rs->tables[0].values[0].u.i, tsr__days_from_civil(2026, 1, 1));
    assert_true(rs->tables[0].used);

    /* segments in file order, every one used */
    assert_int_equal(rs->nsegments, 4);
    assert_string_equal(rs->segments[0].id, "first_timer");
    assert_string_equal(rs->segments[3].id, "season_pass");
    assert_true(rs->segments[0].used && rs->segments[1].used && rs->segments[2].used &&
                rs->segments[3].used);

    /* categories in file order */
    assert_int_equal(rs->ncategories, 3);
    assert_string_equal(rs->categories[0].id, "toddler");
    assert_string_equal(rs->categories[0].label, "Under 100 cm");
    assert_true(rs->categories[0].price->is_const);
    assert_string_equal(rs->categories[1].id, "child");
    assert_string_equal(rs->categories[2].id, "adult");
    assert_null(rs->categories[2].when);
    assert_non_null(rs->categories[2].for_);

    /* the promo code: a pattern, a validity window, used by `requires` */
    assert_int_equal(rs->npromos, 1);
    assert_non_null(rs->promos[0].match);
    assert_null(rs->promos[0].code);
    assert_true(rs->promos[0].valid.any);
    assert_int_equal(rs->promos[0].valid.from, tsr__days_from_civil(2026, 1, 1));
    assert_int_equal(rs->promos[0].valid.until, tsr__days_from_civil(2026, 12, 31));
    assert_true(rs->promos[0].has_max_uses_per_customer);
    assert_int_equal(rs->promos[0].max_uses_per_customer, 1);
    assert_true(rs->promos[0].combinable);
    assert_true(rs->promos[0].used);

    /* discounts by priority, then file order */
    assert_int_equal(rs->ndiscounts, 4);
    assert_string_equal(rs->discounts[0].id, "doctors-99");
    assert_string_equal(rs->discounts[1].id, "family-pack");
    assert_string_equal(rs->discounts[2].id, "season-pass-10");
    assert_string_equal(rs->discounts[3].id, "welcome-back");
    d = &rs->discounts[0];
    assert_int_equal(d->priority, 10);
    assert_int_equal(d->requires, 0);
    assert_true(d->exclusive);
    assert_int_equal(d->effect, TSR_EFFECT_PERCENT);
    assert_int_equal(d->file_index, 0);
    d = &rs->discounts[1];
    assert_int_equal(d->effect, TSR_EFFECT_PRICE);
    assert_int_equal(d->nbundle, 2);
    assert_int_equal(d->bundle[0].quantity, 2);
    assert_int_equal(d->max_applications, 2);
    assert_int_equal(d->requires, -1);
    d = &rs->discounts[3];
    assert_int_equal(d->effect, TSR_EFFECT_ORDER_AMOUNT);
    assert_true(d->has_min_total);
    assert_int_equal(d->min_total, 300000);
    assert_int_equal(d->priority, 100);
    assert_int_equal(d->group_index, -1);
    assert_int_equal(rs->ngroups, 0);

    /* loyalty numbers */
    l = &rs->loyalty;
    assert_true(l->present);
    assert_non_null(l->member_when);
    assert_int_equal(l->nearn, 2);
    assert_true(l->earn[0].has_per);
    assert_int_equal(l->earn[0].per, 10000);
    assert_int_equal(l->earn[0].points, 5);
    assert_false(l->earn[1].has_per);
    assert_int_equal(l->earn[1].points, 100);
    assert_int_equal(l->on, TSR_EARN_ON_PAID);
    assert_int_equal(l->pending_days, 1);
    assert_true(l->has_expire_days);
    assert_int_equal(l->expire_days, 365);
    assert_true(l->has_redeem);
    assert_int_equal(l->point_value, 100);
    assert_int_equal(l->max_percent, 50 * TSR_DEC_SCALE);
    assert_int_equal(l->min_points, 100);
    assert_int_equal(l->step, 1);
    assert_false(rs->refunds.present);

    assert_int_equal(rs->noffers, 1);
    assert_string_equal(rs->offers[0].id, "meal-voucher");
    assert_string_equal(rs->offers[0].message,
                        "First visit? Add a meal voucher and skip the food-court queue.");
    tsr_ruleset_free(rs);
}

static void test_park10_loads(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc;
    (void)state;

    rc = tsr_ruleset_load_file(&rs, PARK10_YAML, NULL, &err);
    if (rc != TSR_OK)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
    assert_string_equal(tsr_ruleset_id(rs), "park10");
    assert_string_equal(tsr_ruleset_version(rs), "1");
    assert_string_equal(tsr_ruleset_currency(rs), "EUR");
    assert_int_equal(rs->ncategories, 3);
    assert_int_equal(rs->npromos, 1);
    assert_string_equal(rs->promos[0].code, "DOC2022");
    assert_int_equal(rs->promos[0].code_len, 7);
    assert_int_equal(rs->ndiscounts, 2);
    assert_string_equal(rs->discounts[0].id, "season-pass-10");
    assert_string_equal(rs->discounts[1].id, "doc2022-99");
    assert_null(rs->loyalty.member_when);
    assert_int_equal(rs->loyalty.earn[0].per, 2000);
    assert_false(rs->loyalty.has_redeem);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * The model.
 */
static void test_discounts_sort_by_priority_then_file_order_and_share_groups(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "discounts:\n"
        "  - { id: a, percent: 5, group: best }\n"
        "  - { id: b, percent: 10, priority: 50 }\n"
        "  - { id: c, amount: 1.50, priority: 50, group: other }\n"
        "  - { id: d, percent: 20, group: best, priority: 200 }\n"
        "  - { id: e, price: 0.00, priority: -1, group: other }\n");
    (void)state;
    assert_int_equal(rs->ndiscounts, 5);
    assert_string_equal(rs->discounts[0].id, "e");
    assert_string_equal(rs->discounts[1].id, "b");
    assert_string_equal(rs->discounts[2].id, "c");
    assert_string_equal(rs->discounts[3].id, "a");
    assert_string_equal(rs->discounts[4].id, "d");
    assert_int_equal(rs->discounts[3].file_index, 0);
    assert_int_equal(rs->discounts[0].file_index, 4);
    /* groups numbered by their first member in application order */
    assert_int_equal(rs->ngroups, 2);
    assert_string_equal(rs->groups[0], "other");
    assert_string_equal(rs->groups[1], "best");
    assert_int_equal(discount(rs, "e")->group_index, 0);
    assert_int_equal(discount(rs, "c")->group_index, 0);
    assert_int_equal(discount(rs, "a")->group_index, 1);
    assert_int_equal(discount(rs, "d")->group_index, 1);
    assert_int_equal(discount(rs, "b")->group_index, -1);
    tsr_ruleset_free(rs);
}

static void test_many_discounts_keep_file_order_within_a_priority(void **state)
{
    char text[8192], *p = text;
    tsr_ruleset *rs;
    size_t i;
    (void)state;

    p += sprintf(p, "%sdiscounts:\n", HEADER);
    for (i = 0; i < 40; i++)
        p += sprintf(p, "  - { id: d%02zu, percent: 1, priority: %zu }\n", i, (i * 7) % 3);
    rs = load_ok(text);
    assert_int_equal(rs->ndiscounts, 40);
    for (i = 1; i < 40; i++) {
        const tsr_discount *a = &rs->discounts[i - 1], *b = &rs->discounts[i];
        assert_true(a->priority < b->priority ||
                    (a->priority == b->priority && a->file_index < b->file_index));
    }
    assert_string_equal(rs->discounts[0].id, "d00");
    assert_string_equal(rs->discounts[39].id, "d38");
    tsr_ruleset_free(rs);
}

static void test_discount_shapes(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "promo_codes:\n"
        "  - { id: spring, code: ' spring10 ', combinable: false, max_uses: 5 }\n"
        "discounts:\n"
        "  - id: b3g1\n"
        "    for: item.kind == \"fnb\"\n"
        "    every: 4\n"
        "    discounted: 1\n"
        "    percent: 100\n"
        "    max_applications: 3\n"
        "    exclusive: true\n"
        "    limit: { max_amount: 10.00 }\n"
        "  - id: promo\n"
        "    requires: spring\n"
        "    min_quantity: 2\n"
        "    min_total: 20\n"
        "    amount: 2.5\n"
        "    label: Spring\n");
    const tsr_discount *d = discount(rs, "b3g1");
    (void)state;
    assert_int_equal(d->every, 4);
    assert_int_equal(d->discounted, 1);
    assert_int_equal(d->max_applications, 3);
    assert_true(d->exclusive);
    assert_true(d->has_limit);
    assert_int_equal(d->limit_max_amount, 1000);
    assert_true(d->value->is_const);
    d = discount(rs, "promo");
    assert_int_equal(d->requires, 0);
    assert_string_equal(d->requires_name, "spring");
    assert_int_equal(d->min_quantity, 2);
    assert_int_equal(d->min_total, 2000);
    assert_int_equal(d->effect, TSR_EFFECT_AMOUNT);
    assert_string_equal(d->label, "Spring");
    /* codes are normalised like the codes of orders */
    assert_string_equal(rs->promos[0].code, "SPRING10");
    assert_false(rs->promos[0].combinable);
    assert_int_equal(rs->promos[0].max_uses, 5);
    assert_false(rs->promos[0].has_max_uses_per_customer);
    assert_true(rs->promos[0].used);
    tsr_ruleset_free(rs);
}

static void test_discount_base_and_pick_are_checked(void **state)
{
    tsr_ruleset *rs;
    (void)state;

    rs = load_ok(HEADER "discounts:\n"
                 "  - { id: a, percent: 5, base: original }\n"
                 "  - { id: b, every: 2, discounted: 1, percent: 5, pick: most_expensive }\n"
                 "  - { id: c, every: 2, discounted: 1, amount: 1, pick: cheapest, base: current }\n");
    assert_true(discount(rs, "a")->base_original);
    assert_false(discount(rs, "a")->pick_dearest);
    assert_true(discount(rs, "b")->pick_dearest);
    assert_false(discount(rs, "c")->pick_dearest);
    assert_false(discount(rs, "c")->base_original);
    tsr_ruleset_free(rs);
    /* a key that would be ignored is refused */
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, pick: most_expensive }\n",
                 TSR_ESCHEMA, 5, 26, "`pick` in discounts.a needs `every`: only `every` groups "
                 "choose units");
    assert_error(HEADER "discounts:\n  - id: a\n    bundle: [{ for: 'true', quantity: 2 }]\n"
                 "    price: 5.00\n    pick: cheapest\n", TSR_ESCHEMA, 8, 5,
                 "`pick` in discounts.a needs `every`: only `every` groups choose units (a "
                 "bundle always takes the most expensive first)");
    assert_error(HEADER "discounts:\n  - { id: a, order_amount: 5.00, base: original }\n",
                 TSR_ESCHEMA, 5, 34, "`base: original` in discounts.a works with `percent`, "
                 "`amount` or `price`, not `order_amount`");
    assert_error(HEADER "discounts:\n  - id: a\n    bundle: [{ for: 'true', quantity: 2 }]\n"
                 "    price: 5.00\n    base: original\n", TSR_ESCHEMA, 8, 5,
                 "`base: original` cannot be used with `bundle` in discounts.a: a bundle's price "
                 "replaces what its units cost");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, base: orignal }\n", TSR_ESCHEMA,
                 5, 32, "unknown `base` value `orignal` in discounts.a; did you mean `original`?");
    assert_error(HEADER "discounts:\n  - { id: a, every: 1, discounted: 1, percent: 5, "
                 "pick: dearest }\n", TSR_ESCHEMA, 5, 57,
                 "unknown `pick` value `dearest` in discounts.a; one of `cheapest` or "
                 "`most_expensive`");
    end_errors();
}

static void test_taxes_are_read_with_their_rates(void **state)
{
    tsr_ruleset *rs;
    (void)state;

    rs = load_ok(HEADER "schema: { item: { alcohol: bool } }\n"
                 "taxes:\n"
                 "  prices: exclusive\n"
                 "  base: price\n"
                 "  rounding: rate\n"
                 "  rates:\n"
                 "    - { id: alcohol, for: item.kind == \"fnb\" and item.alcohol, rate: 25.5 }\n"
                 "    - { id: sales, rate: \"8.875\", label: Sales tax }\n"
                 "    - { id: none, rate: 0 }\n"
                 "    - { id: top, rate: 99.9999 }\n");
    assert_true(rs->taxes.present);
    assert_int_equal(rs->taxes.prices, TSR_TAX_EXCLUSIVE);
    assert_int_equal(rs->taxes.base, TSR_TAX_BASE_PRICE);
    assert_int_equal(rs->taxes.rounding, TSR_TAX_ROUND_RATE);
    assert_int_equal(rs->taxes.nrates, 4);
    assert_int_equal(tsr_ruleset_count(rs, "taxes"), 4);
    assert_string_equal(rs->taxes.rates[0].id, "alcohol");
    assert_int_equal(rs->taxes.rates[0].rate, 25500000);
    assert_string_equal(rs->taxes.rates[0].rate_text, "25.5");
    assert_non_null(rs->taxes.rates[0].for_);
    assert_null(rs->taxes.rates[1].for_);
    assert_string_equal(rs->taxes.rates[1].rate_text, "8.875");
    assert_string_equal(rs->taxes.rates[1].label, "Sales tax");
    assert_string_equal(rs->taxes.rates[2].rate_text, "0");
    assert_string_equal(rs->taxes.rates[3].rate_text, "99.9999");
    assert_string_equal(rs->taxes.rates[0].for_->section, "taxes");
    tsr_ruleset_free(rs);
    /* the defaults */
    rs = load_ok(HEADER "taxes: { rates: [{ id: vat, rate: 10 }] }\n");
    assert_int_equal(rs->taxes.prices, TSR_TAX_INCLUSIVE);
    assert_int_equal(rs->taxes.base, TSR_TAX_BASE_PAID);
    assert_int_equal(rs->taxes.rounding, TSR_TAX_ROUND_LINE);
    tsr_ruleset_free(rs);
    rs = load_ok(HEADER "categories: [{ id: a, price: 1.00 }]\n");
    assert_false(rs->taxes.present);
    assert_int_equal(tsr_ruleset_count(rs, "taxes"), 0);
    tsr_ruleset_free(rs);
}

static void test_tax_errors(void **state)
{
    (void)state;
    assert_error(HEADER "taxes: { rates: [{ id: vat, rate: 100 }] }\n", TSR_EVALUE, 4, 35,
                 "`rate` in taxes.vat must be a percentage from 0 to below 100 with at most 4 "
                 "decimal places (such as 10 or 25.5), not 100");
    assert_error(HEADER "taxes: { rates: [{ id: vat, rate: 8.12345 }] }\n", TSR_EVALUE, 4, 35,
                 "`rate` in taxes.vat must be a percentage from 0 to below 100 with at most 4 "
                 "decimal places (such as 10 or 25.5), not 8.12345");
    assert_error(HEADER "taxes: { rates: [{ id: vat, rate: -1 }] }\n", TSR_EVALUE, 4, 35,
                 "`rate` in taxes.vat must be a percentage from 0 to below 100 with at most 4 "
                 "decimal places (such as 10 or 25.5), not -1");
    assert_error(HEADER "taxes: { rates: [{ id: vat, rate: 1e1 }] }\n", TSR_EVALUE, 4, 35,
                 "`rate` in taxes.vat must be a percentage from 0 to below 100 with at most 4 "
                 "decimal places (such as 10 or 25.5), not 1e1");
    assert_error(HEADER "taxes: { rates: [{ id: vat }] }\n", TSR_ESCHEMA, 4, 18,
                 "taxes.vat needs a `rate` (in percent, such as 10 or 25.5)");
    assert_error(HEADER "taxes: { rates: [{ rate: 5 }] }\n", TSR_ESCHEMA, 4, 18,
                 "an entry of `taxes` needs an `id`");
    assert_error(HEADER "taxes: { rates: [{ id: a, rate: 5 }, { id: a, rate: 6 }] }\n",
                 TSR_ESCHEMA, 4, 44, "duplicate tax rate id `a` (first at line 4)");
    assert_error(HEADER "taxes: { rates: [] }\n", TSR_ESCHEMA, 4, 17,
                 "`taxes` needs `rates`, a non-empty list of {id, for, rate}");
    assert_error(HEADER "taxes: { prices: included, rates: [{ id: a, rate: 5 }] }\n",
                 TSR_ESCHEMA, 4, 18, "unknown `prices` value `included` in taxes; one of `inclusive` or "
                 "`exclusive`");
    assert_error(HEADER "taxes: { prices: exclusiv, rates: [{ id: a, rate: 5 }] }\n",
                 TSR_ESCHEMA, 4, 18, "unknown `prices` value `exclusiv` in taxes; did you mean "
                 "`exclusive`?");
    assert_error(HEADER "taxes: { rounding: order, rates: [{ id: a, rate: 5 }] }\n",
                 TSR_ESCHEMA, 4, 20, "unknown `rounding` value `order` in taxes; one of `line` or `rate`");
    assert_error(HEADER "taxes: { rate: [{ id: a, rate: 5 }] }\n", TSR_ESCHEMA, 4, 10,
                 "unknown key `rate` in taxes; did you mean `rates`?");
    assert_error(HEADER "taxes: { rates: [{ id: a, rate: 5, valid: {} }] }\n", TSR_ESCHEMA, 4, 36,
                 "`valid` is not allowed in taxes.a; only categories, discounts, promo codes "
                 "and earn rules take it");
    assert_error(HEADER "taxes: { rates: [{ id: a, rate: 5, for: item.totl > 0 }] }\n",
                 TSR_ENAME, 4, 46, "unknown field `item.totl`; did you mean `item.total`?");
    assert_error(HEADER "taxes: [{ id: a, rate: 5 }]\n", TSR_ESCHEMA, 4, 8,
                 "`taxes` must be a mapping");
    end_errors();
}

static void test_validity_and_channels_are_parsed(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "categories:\n"
        "  - id: c\n"
        "    valid: { from: 2026-01-01, until: \"2026-03-31\", weekdays: [1, 5, 7],\n"
        "             hours: \"10:00-14:30\" }\n"
        "    channels: [web, app]\n"
        "discounts:\n"
        "  - { id: night, percent: 5, valid: { hours: \"22:00-02:00\" } }\n"
        "loyalty:\n"
        "  earn:\n"
        "    - { id: e, points: 1, channels: [kiosk] }\n");
    const tsr_validity *v = &rs->categories[0].valid;
    (void)state;
    assert_true(v->any);
    assert_true(v->has_from && v->has_until);
    assert_int_equal(v->from, tsr__days_from_civil(2026, 1, 1));
    assert_int_equal(v->until, tsr__days_from_civil(2026, 3, 31));
    assert_int_equal(v->weekdays, (1u << 0) | (1u << 4) | (1u << 6));
    assert_true(v->has_hours);
    assert_int_equal(v->hours_from, 600);
    assert_int_equal(v->hours_until, 870);
    assert_int_equal(v->nchannels, 2);
    assert_string_equal(v->channels[0], "web");
    assert_int_equal(v->channel_lens[1], 3);
    v = &rs->discounts[0].valid;
    assert_int_equal(v->hours_from, 22 * 60);
    assert_int_equal(v->hours_until, 2 * 60);
    assert_int_equal(v->weekdays, 0);
    assert_null(v->channels);
    assert_true(rs->discounts[0].valid.any);
    assert_true(rs->loyalty.earn[0].valid.any);
    assert_int_equal(rs->loyalty.earn[0].valid.nchannels, 1);
    tsr_ruleset_free(rs);
}

/* An empty validity (`valid: {}`, or none) restricts nothing: it always
 * holds, and evaluation does not look further (tsr__validity_holds). */
static void test_an_empty_validity_always_holds(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "categories:\n"
        "  - { id: empty, valid: {}, for: 'item.kind == \"a\"', price: 1.00 }\n"
        "  - { id: none, price: 2.00 }\n");
    static const char order[] =
        "{\"datetime\": \"2026-06-01T10:00:00Z\", \"items\": ["
        "{\"id\": \"x\", \"kind\": \"a\"}, {\"id\": \"y\", \"kind\": \"b\"}]}";
    tsr_result *r = NULL;
    tsr_error err;
    (void)state;
    assert_false(rs->categories[0].valid.any);
    assert_false(rs->categories[1].valid.any);
    assert_int_equal(tsr_evaluate_text(&r, rs, order, sizeof order - 1, NULL, &err), TSR_OK);
    assert_string_equal(tsr_result_line_category(r, 0), "empty");
    assert_string_equal(tsr_result_line_category(r, 1), "none");
    tsr_result_free(r);
    tsr_ruleset_free(rs);
}

static void test_tables_hold_typed_values(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "tables:\n"
        "  zone_price: { C: 60.00, A: 120.00, B: 95.5 }\n"
        "  rates: [0.125, 1]\n"
        "  kinds: [ticket, 'fnb', \"10\"]\n"
        "  flags: { x: true, y: false }\n"
        "  empty: []\n");
    const tsr_table *t = &rs->tables[0];
    (void)state;
    assert_int_equal(rs->ntables, 5);
    assert_true(t->is_map);
    assert_int_equal(t->elem, TSR_T_DECIMAL);
    assert_int_equal(t->key, TSR_T_STRING);
    assert_true(t->money_ok);
    assert_string_equal(t->keys[0], "A");
    assert_string_equal(t->keys[1], "B");
    assert_string_equal(t->keys[2], "C");
    assert_int_equal(t->values[0].u.i, 120 * TSR_DEC_SCALE);
    assert_int_equal(t->values[1].u.i, 95500000);
    t = &rs->tables[1];
    assert_false(t->is_map);
    assert_false(t->money_ok);   /* 0.125 is not exact in EUR */
    t = &rs->tables[2];
    assert_int_equal(t->elem, TSR_T_STRING);
    assert_int_equal(t->values[2].len, 2);
    assert_memory_equal(t->values[2].u.s, "10", 2);
    assert_int_equal(rs->tables[3].elem, TSR_T_BOOL);
    assert_int_equal(rs->tables[3].values[0].u.i, 1);
    assert_int_equal(rs->tables[4].len, 0);
    assert_int_equal(rs->tables[4].elem, TSR_T_MISSING);
    assert_false(rs->tables[0].used);
    tsr_ruleset_free(rs);
}

static void test_schema_fields_follow_the_builtins(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "schema:\n"
        "  item: { zone: string, seats: 'list<int>' }\n"
        "  order: { notes: [string] }\n");
    const tsr_record_schema *item = &rs->records[TSR_REC_ITEM];
    const tsr_record_schema *order = &rs->records[TSR_REC_ORDER];
    (void)state;
    assert_int_equal(item->len, TSR_ITEM__BUILTIN + 2);
    assert_string_equal(item->fields[TSR_ITEM_PRICE].name, "price");
    assert_int_equal(item->fields[TSR_ITEM_PRICE].type, TSR_T_MONEY);
    assert_string_equal(item->fields[TSR_ITEM__BUILTIN].name, "zone");
    assert_int_equal(item->fields[TSR_ITEM__BUILTIN + 1].type, TSR_T_LIST);
    assert_int_equal(item->fields[TSR_ITEM__BUILTIN + 1].elem, TSR_T_INT);
    assert_int_equal(item->fields[TSR_ITEM__BUILTIN + 1].line, 5);
    assert_int_equal(order->fields[TSR_ORDER__BUILTIN].type, TSR_T_LIST);
    assert_int_equal(order->fields[TSR_ORDER__BUILTIN].elem, TSR_T_STRING);
    assert_int_equal(rs->records[TSR_REC_CUSTOMER].fields[TSR_CUST_TAGS].elem, TSR_T_STRING);
    tsr_ruleset_free(rs);
}

static void test_header_values(void **state)
{
    tsr_ruleset *rs;
    (void)state;

    rs = load_ok("tessera: 1\nruleset: r\nversion: 2026.10\ncurrency: XTS\nminor_units: 3\n"
                 "rounding: half_even\ntimezone: Europe/Moscow\n");
    assert_string_equal(tsr_ruleset_version(rs), "2026.10");
    assert_int_equal(rs->minor_units, 3);
    assert_int_equal(rs->rounding, TSR_ROUND_HALF_EVEN);
    assert_string_equal(rs->timezone, "Europe/Moscow");
    assert_non_null(rs->tz);
    tsr_ruleset_free(rs);

    rs = load_ok("tessera: 1\nruleset: r\ncurrency: JPY\nminor_units: 0\nrounding: down\n");
    assert_string_equal(tsr_ruleset_version(rs), "");
    assert_int_equal(rs->minor_units, 0);
    assert_int_equal(rs->rounding, TSR_ROUND_DOWN);
    tsr_ruleset_free(rs);
}

static void test_loyalty_multiply_and_refunds(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "schema:\n  item: { validated: bool }\n"
        "loyalty:\n"
        "  on: price\n"
        "  earn:\n"
        "    - { id: gold-double, multiply: 2, rules: [base, bonus] }\n"
        "    - { id: base, for: 'item.kind != \"merch\"', per: 10, points: 1 }\n"
        "    - { id: bonus, points: 50, label: Bonus }\n"
        "  redeem: { point_value: 0.01, max_percent: 12.5, step: 10 }\n"
        "refunds:\n"
        "  allowed: not item.validated\n"
        "  fee: 2.00\n"
        "  to: original_payment\n"
        "  reprice: true\n");
    const tsr_loyalty *l = &rs->loyalty;
    (void)state;
    assert_int_equal(l->on, TSR_EARN_ON_PRICE);
    assert_true(l->earn[0].is_multiply);
    assert_int_equal(l->earn[0].multiply, 2);
    assert_int_equal(l->earn[0].nrules, 2);
    assert_int_equal(l->earn[0].rules[0], 1);
    assert_int_equal(l->earn[0].rules[1], 2);
    assert_non_null(l->earn[1].for_);
    assert_int_equal(l->earn[1].per, 1000);
    assert_string_equal(l->earn[2].label, "Bonus");
    assert_int_equal(l->point_value, 1);
    assert_int_equal(l->max_percent, 12500000);
    assert_int_equal(l->step, 10);
    assert_int_equal(l->min_points, 0);
    assert_false(l->has_expire_days);
    assert_true(rs->refunds.present);
    assert_int_equal(rs->refunds.to, TSR_REFUND_TO_ORIGINAL_PAYMENT);
    assert_true(rs->refunds.reprice);
    assert_non_null(rs->refunds.fee);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * Errors.
 */
static void test_unknown_keys_suggest_the_closest(void **state)
{
    (void)state;
    assert_error(HEADER "discount:\n  - { id: a }\n", TSR_ESCHEMA, 4, 1,
                 "unknown top-level key `discount`; did you mean `discounts`?");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5 }\n  - id: b\n    percent: 5\n"
                        "    discount: 1\n",
                 TSR_ESCHEMA, 8, 5, "unknown key `discount` in discounts.b; did you mean `discounted`?");
    assert_error(HEADER "categories:\n  - { id: a, valid: { form: 2026-01-01 } }\n",
                 TSR_ESCHEMA, 5, 23,
                 "unknown key `form` in categories.a.valid; did you mean `from`?");
    assert_error(HEADER "offers:\n  - { id: a, message: hi, valid: {} }\n", TSR_ESCHEMA, 5, 27,
                 "`valid` is not allowed in offers.a; only categories, discounts, promo codes "
                 "and earn rules take it");
    assert_error(HEADER "zzzzzz: 1\n", TSR_ESCHEMA, 4, 1, "unknown top-level key `zzzzzz`");
    assert_error(HEADER "rounding: half-up\n", TSR_ESCHEMA, 4, 11,
                 "unknown rounding mode `half-up` in the rule file; did you mean `half_up`?");
    end_errors();
}

static void test_header_errors(void **state)
{
    (void)state;
    assert_error("ruleset: r\ncurrency: EUR\n", TSR_ESCHEMA, 1, 1,
                 "missing required key `tessera` (the format version, `tessera: 1`)");
    assert_error("tessera: 2\nruleset: r\ncurrency: EUR\n", TSR_ESCHEMA, 1, 10,
                 "unsupported format version `tessera: 2`; this library reads version 1");
    assert_error("tessera: 1\ncurrency: EUR\n", TSR_ESCHEMA, 1, 1,
                 "missing required key `ruleset` (the rule set's id)");
    assert_error("tessera: 1\nruleset: r\n", TSR_ESCHEMA, 1, 1,
                 "missing required key `currency` (an ISO 4217 code)");
    assert_error("tessera: 1\nruleset: r\ncurrency: eur\n", TSR_ESCHEMA, 3, 11,
                 "currency `eur` is not an ISO 4217 code (three capital letters)");
    assert_error("tessera: 1\nruleset: r\ncurrency: XTS\n", TSR_ESCHEMA, 3, 11,
                 "currency `XTS` is not in the built-in table; give its `minor_units`");
    assert_error("tessera: 1\nruleset: r\ncurrency: JPY\nminor_units: 2\n", TSR_EVALUE, 4, 14,
                 "`minor_units: 2` disagrees with JPY, which has 0");
    assert_error("tessera: 1\nruleset: r\ncurrency: XTS\nminor_units: 7\n", TSR_EVALUE, 4, 14,
                 "`minor_units` in the rule file must be from 0 to 6, not 7");
    assert_error(HEADER "timezone: Europe/Mosow\n", TSR_ENAME, 4, 11,
                 "unknown time zone `Europe/Mosow`");
    end_errors();
}

static void test_model_errors(void **state)
{
    (void)state;
    assert_error(HEADER "categories: { id: a }\n", TSR_ESCHEMA, 4, 13, "`categories` must be a list");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5 }\n  - { id: a, percent: 6 }\n",
                 TSR_ESCHEMA, 6, 11, "duplicate discount id `a` (first at line 5)");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, amount: 1 }\n", TSR_ESCHEMA, 5, 26,
                 "discount `a` has two effects, `percent` and `amount`; give exactly one");
    assert_error(HEADER "discounts:\n  - { id: a }\n", TSR_ESCHEMA, 5, 5,
                 "discount `a` has no effect; give one of `percent`, `amount`, `price` or "
                 "`order_amount`");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, every: 2 }\n", TSR_ESCHEMA, 5, 26,
                 "`every` in discounts.a needs `discounted` (how many units of each group get "
                 "the effect)");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, bundle: [ { for: 'true' } ] }\n",
                 TSR_ESCHEMA, 5, 26, "`bundle` in discounts.a needs `price` (what one bundle costs)");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 101 }\n", TSR_EVALUE, 5, 23,
                 "`percent` in discounts.a must be from 0 to 100, not 101");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, requires: doctor }\n"
                        "promo_codes:\n  - { id: doctors, code: DOC }\n",
                 TSR_ENAME, 5, 36,
                 "`requires` in discounts.a names no promo code `doctor`; did you mean `doctors`?");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, min_total: 10.005 }\n", TSR_EVALUE,
                 5, 37, "money amount `10.005` is more precise than EUR allows (2 decimal places)");
    assert_error(HEADER "discounts:\n  - { id: a, percent: 5, every: 0, discounted: 1 }\n",
                 TSR_EVALUE, 5, 33, "`every` in discounts.a must be at least 1, not 0");
    assert_error(HEADER "loyalty:\n  earn:\n    - { id: base, points: 1 }\n"
                        "    - { id: x, multiply: 2, rules: [bsae] }\n",
                 TSR_ENAME, 7, 37,
                 "`rules` of earn rule `x` names no earn rule `bsae`; did you mean `base`?");
    assert_error(HEADER "categories:\n  - { id: a, valid: { weekdays: [1, 8] } }\n", TSR_EVALUE,
                 5, 37, "weekday `8` in categories.a is not a day from 1 (Monday) to 7 (Sunday)");
    assert_error(HEADER "categories:\n  - { id: a, valid: { hours: '9-17' } }\n", TSR_ESCHEMA, 5,
                 30, "`valid.hours` in categories.a must be a window like \"10:00-14:00\", not "
                 "`9-17`");
    assert_error(HEADER "tables:\n  t: [1, two]\n", TSR_ETYPE, 5, 10,
                 "table `t` mixes decimal and string values");
    assert_error(HEADER "schema:\n  item: { price: int }\n", TSR_ESCHEMA, 5, 11,
                 "`item.price` is a built-in field; the schema declares only fields beyond the "
                 "built-in ones");
    assert_error(HEADER "schema:\n  item: { zone: strng }\n", TSR_ESCHEMA, 5, 17,
                 "unknown type `strng` for `item.zone`; did you mean `string`?");
    assert_error(HEADER "promo_codes:\n  - { id: p, code: A, match: B }\n", TSR_ESCHEMA, 5, 23,
                 "promo_codes.p has both `code` and `match`; give one");
    assert_error(HEADER "promo_codes:\n  - { id: p, code: a }\n  - { id: q, code: ' A' }\n",
                 TSR_ESCHEMA, 6, 20, "code `A` is already the code of promo code `p`");
    assert_error(HEADER "loyalty:\n  earn:\n    - { id: flat, points: 5, for: 'true' }\n",
                 TSR_ESCHEMA, 6, 30,
                 "`for` in loyalty.earn.flat applies only to `per` rules; a flat rule counts once "
                 "per order (use `when` with any(items, ...))");
    end_errors();
}

static void test_segments_see_only_earlier_segments(void **state)
{
    tsr_ruleset *rs = load_ok(HEADER
        "segments:\n"
        "  a: customer.id == \"x\"\n"
        "  b: segment.a\n"
        "  c: customer.id == \"y\"\n");
    (void)state;
    assert_true(rs->segments[0].used);
    assert_false(rs->segments[1].used);
    assert_false(rs->segments[2].used);
    tsr_ruleset_free(rs);

    assert_error(HEADER "segments:\n  a: segment.b or segment.a\n  b: customer.id == \"x\"\n",
                 TSR_ENAME, 5, 14,
                 "segment `b` is defined after `a` (at line 6); a segment may only use the "
                 "segments before it");
    assert_error(HEADER "segments:\n  a: not segment.a\n", TSR_ENAME, 5, 18,
                 "segment `a` cannot use itself");
    assert_error(HEADER "segments:\n  a: segment.zzz\n", TSR_ENAME, 5, 14,
                 "unknown segment `zzz`");
    end_errors();
}

static void test_bad_promo_pattern_points_into_the_pattern(void **state)
{
    tsr_error err;
    (void)state;
    assert_int_equal(load_bad(HEADER "promo_codes:\n  - id: p\n    match: '^DOC-([0-9]{6}$'\n",
                              &err), TSR_EPARSE);
    assert_int_equal(err.line, 6);
    assert_true(err.column > 12);
    assert_non_null(strstr(err.message, "bad pattern in `match` of promo_codes.p: "));
}

static void test_missing_file_is_an_io_error(void **state)
{
    tsr_ruleset *rs = (tsr_ruleset *)1;
    tsr_error err;
    (void)state;
    assert_int_equal(tsr_ruleset_load_file(&rs, "/nonexistent/rules.yaml", NULL, &err), TSR_EIO);
    assert_null(rs);
    assert_string_equal(err.file, "/nonexistent/rules.yaml");
    assert_string_equal(err.message, "No such file or directory");
}

static void test_load_string_names_the_text(void **state)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    const char *text = "tessera: 1\nruleset: r\ncurrency: EUR\nbogus: 1\n";
    (void)state;

    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), "inline.yaml", NULL, &err),
                     TSR_ESCHEMA);
    assert_string_equal(err.file, "inline.yaml");
    assert_int_equal(err.line, 4);
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), NULL, NULL, &err),
                     TSR_ESCHEMA);
    assert_string_equal(err.file, "<string>");
    /* only len bytes are read: the bad key is cut off */
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text) - 9, NULL, NULL, &err),
                     TSR_OK);
    assert_string_equal(tsr_ruleset_id(rs), "r");
    tsr_ruleset_free(rs);
    tsr_ruleset_free(NULL);
    assert_null(tsr_ruleset_id(NULL));
}

/* ---------------------------------------------------------------------
 * Options.
 */
static void test_options_versions(void **state)
{
    tsr_load_options opts;
    tsr_ruleset *rs = (tsr_ruleset *)1;
    tsr_error err;
    const char *text = HEADER;
    (void)state;

    assert_int_equal(tsr_load_options_init(&opts, 0), TSR_EINVAL);
    assert_int_equal(tsr_load_options_init(&opts, TSR_LOAD_OPTIONS_VERSION + 1), TSR_EINVAL);
    assert_int_equal(tsr_load_options_init(NULL, 1), TSR_EINVAL);
    assert_int_equal(tsr_load_options_init(&opts, TSR_LOAD_OPTIONS_VERSION), TSR_OK);
    assert_int_equal(opts.version, TSR_LOAD_OPTIONS_VERSION);
    assert_int_equal(opts.max_file_size, 4u << 20);
    assert_int_equal(opts.max_includes, 32);

    /* a struct from a newer header than this library knows is refused */
    opts.version = TSR_LOAD_OPTIONS_VERSION + 1;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), NULL, &opts, &err),
                     TSR_EINVAL);
    assert_null(rs);
    opts.version = 0;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), NULL, &opts, &err),
                     TSR_EINVAL);

    /* limits are honoured; a zero limit means the default */
    tsr_load_options_init(&opts, TSR_LOAD_OPTIONS_VERSION);
    opts.max_file_size = 10;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), NULL, &opts, &err),
                     TSR_ELIMIT);
    opts.max_file_size = 0;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), NULL, &opts, &err), TSR_OK);
    assert_int_equal(rs->limits.max_file_size, 4u << 20);
    assert_null(rs->limits.include);
    tsr_ruleset_free(rs);

    opts.max_order_lines = 7;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), NULL, &opts, &err), TSR_OK);
    assert_int_equal(rs->limits.max_order_lines, 7);
    tsr_ruleset_free(rs);
}

static void test_time_zones_come_from_tzdir(void **state)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    const char *text = HEADER "timezone: Europe/Moscow\n";
    (void)state;

    opts.tzdir = "/usr/share/zoneinfo";
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), "t.yaml", &opts, &err),
                     TSR_OK);
    assert_non_null(rs->tz);
    assert_null(rs->limits.tzdir);     /* not kept: it is the caller's memory */
    tsr_ruleset_free(rs);

    opts.tzdir = "/nonexistent-zoneinfo";
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), "t.yaml", &opts, &err),
                     TSR_ENAME);
    assert_string_equal(err.message, "unknown time zone `Europe/Moscow`");
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 11);
}

/* A zone file that is not one: the zone reader's words, said once. */
static void test_a_broken_zone_file_is_reported_once_at_the_key(void **state)
{
    char dir[] = "/tmp/tsr_tz_XXXXXX", path[256];
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    const char *text = HEADER "timezone: Broken\n";
    FILE *f;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/Broken", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a zone\n", f);
    fclose(f);
    opts.tzdir = dir;
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), "t.yaml", &opts, &err),
                     TSR_EPARSE);
    assert_string_equal(err.message, "time zone \"Broken\": not a valid TZif file (bad header)");
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 11);
    remove(path);
    remove(dir);
}

static void test_custom_allocator_sees_everything(void **state)
{
    counting c = { .fail_once = true };
    tsr_allocator a = { counting_realloc, &c };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    (void)state;

    opts.allocator = &a;
    assert_int_equal(tsr_ruleset_load_file(&rs, PARK_YAML, &opts, &err), TSR_OK);
    assert_true(c.allocs > 0);
    assert_true(c.live > 0);
    tsr_ruleset_free(rs);
    assert_int_equal(c.live, 0);
}

/* ---------------------------------------------------------------------
 * Includes.
 */
static const mem_file include_files[] = {
    { "main.yaml",
      "tessera: 1\nruleset: m\ncurrency: EUR\n"
      "include: [shared.yaml, promos.yaml]\n"
      "segments:\n  big: segment.vip and customer.id == \"x\"\n"
      "categories:\n  - { id: own }\n"
      "discounts:\n  - { id: own-d, percent: 1, requires: spring }\n" },
    { "shared.yaml",
      "include: [base.yaml]\n"
      "segments:\n  vip: '\"vip\" in customer.tags'\n"
      "categories:\n  - { id: shared }\n"
      "schema:\n  item: { zone: string }\n" },
    { "base.yaml",
      "categories:\n  - { id: base, when: item.zone == \"A\" }\n"
      "tables:\n  t: [1]\n" },
    { "promos.yaml",
      "include: [base.yaml]\n"     /* already part of the rule set: read once */
      "promo_codes:\n  - { id: spring, code: SPRING }\n"
      "loyalty:\n  earn:\n    - { id: e, points: 1 }\n" },
};

static void test_includes_merge_included_content_first(void **state)
{
    mem_fs fs = { include_files, 4, 0, "" };
    tsr_ruleset *rs = NULL;
    tsr_error err;
    int rc;
    (void)state;

    rc = load_mem(&rs, &fs, "main.yaml", &err);
    if (rc != TSR_OK)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.column, err.message);
    assert_int_equal(fs.calls, 4);      /* base.yaml is named twice, read once */
    assert_int_equal(rs->nfiles, 4);
    assert_string_equal(rs->files[0], "main.yaml");
    assert_string_equal(rs->files[1], "shared.yaml");
    assert_string_equal(rs->files[2], "base.yaml");
    assert_string_equal(rs->files[3], "promos.yaml");
    /* the same through the public accessors */
    assert_int_equal(tsr_ruleset_file_count(rs), 4);
    assert_string_equal(tsr_ruleset_file(rs, 0), "main.yaml");
    assert_string_equal(tsr_ruleset_file(rs, 3), "promos.yaml");
    assert_null(tsr_ruleset_file(rs, 4));
    assert_int_equal(tsr_ruleset_file_count(NULL), 0);
    assert_null(tsr_ruleset_file(NULL, 0));
    /* depth first: base, shared, (promos), then main's own */
    assert_int_equal(rs->ncategories, 3);
    assert_string_equal(rs->categories[0].id, "base");
    assert_string_equal(rs->categories[0].pos.file, "base.yaml");
    assert_string_equal(rs->categories[1].id, "shared");
    assert_string_equal(rs->categories[2].id, "own");
    assert_string_equal(rs->categories[2].pos.file, "main.yaml");
    assert_int_equal(rs->nsegments, 2);
    assert_string_equal(rs->segments[0].id, "vip");
    assert_true(rs->segments[0].used);
    assert_int_equal(rs->npromos, 1);
    assert_true(rs->promos[0].used);
    assert_true(rs->loyalty.present);
    assert_int_equal(rs->ntables, 1);
    tsr_ruleset_free(rs);
}

static void test_include_errors(void **state)
{
    static const mem_file cycle[] = {
        { "a.yaml", "tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [b.yaml]\n" },
        { "b.yaml", "include: [c.yaml]\n" },
        { "c.yaml", "tables: {}\ninclude:\n  - a.yaml\n" },
    };
    static const mem_file header[] = {
        { "a.yaml", "tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [b.yaml]\n" },
        { "b.yaml", "segments: {}\ncurrency: RUB\n" },
    };
    static const mem_file missing[] = {
        { "a.yaml", "tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [b.yaml, nope.yaml]\n" },
        { "b.yaml", "segments: {}\n" },
    };
    static const mem_file twice[] = {
        { "a.yaml", "tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [b.yaml]\n"
                    "categories:\n  - { id: x }\n" },
        { "b.yaml", "categories:\n  - { id: x }\nloyalty: {}\n" },
    };
    mem_fs fs;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    (void)state;

    fs = (mem_fs){ cycle, 3, 0, "" };
    assert_int_equal(load_mem(&rs, &fs, "a.yaml", &err), TSR_EINCLUDE);
    assert_null(rs);
    assert_string_equal(err.file, "c.yaml");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 5);
    assert_string_equal(err.message, "include cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml");

    fs = (mem_fs){ header, 2, 0, "" };
    assert_int_equal(load_mem(&rs, &fs, "a.yaml", &err), TSR_ESCHEMA);
    assert_string_equal(err.file, "b.yaml");
    assert_int_equal(err.line, 2);
    assert_string_equal(err.message, "`currency` belongs in the main rule file, not in an "
                                     "included one");

    fs = (mem_fs){ missing, 2, 0, "" };
    assert_int_equal(load_mem(&rs, &fs, "a.yaml", &err), TSR_EINCLUDE);
    assert_string_equal(err.file, "a.yaml");
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 19);
    assert_string_equal(err.message, "cannot include `nope.yaml`: file could not be read");
    assert_string_equal(fs.last_including, "a.yaml");

    fs = (mem_fs){ twice, 2, 0, "" };
    assert_int_equal(load_mem(&rs, &fs, "a.yaml", &err), TSR_ESCHEMA);
    assert_string_equal(err.file, "a.yaml");
    assert_int_equal(err.line, 6);
    assert_string_equal(err.message, "duplicate category id `x` (first at b.yaml:2)");
}

static void test_include_limit(void **state)
{
    static const mem_file files[] = {
        { "a.yaml", "tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [b.yaml, c.yaml]\n" },
        { "b.yaml", "segments: {}\n" },
        { "c.yaml", "segments: {}\n" },
    };
    mem_fs fs = { files, 3, 0, "" };
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    (void)state;

    opts.include = mem_resolve;
    opts.include_ud = &fs;
    opts.max_includes = 1;
    assert_int_equal(tsr_ruleset_load_string(&rs, files[0].text, strlen(files[0].text),
                                             "a.yaml", &opts, &err), TSR_ELIMIT);
    assert_string_equal(err.message, "too many included files (the limit is 1)");
    assert_int_equal(err.column, 19);
    opts.max_includes = 2;
    assert_int_equal(tsr_ruleset_load_string(&rs, files[0].text, strlen(files[0].text),
                                             "a.yaml", &opts, &err), TSR_OK);
    tsr_ruleset_free(rs);
}

static void test_includes_from_disk_are_relative_to_the_includer(void **state)
{
    char dir[] = "/tmp/tsr_rules_XXXXXX", path[256];
    tsr_ruleset *rs = NULL;
    tsr_error err;
    FILE *f;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/sub", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/sub/part.yaml", dir);
    f = fopen(path, "w");
    fputs("include: [../main.yaml]\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/main.yaml", dir);
    f = fopen(path, "w");
    fputs("tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [sub/part.yaml]\n", f);
    fclose(f);

    assert_int_equal(tsr_ruleset_load_file(&rs, path, NULL, &err), TSR_EINCLUDE);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 11);
    assert_non_null(strstr(err.message, "include cycle: "));
    assert_non_null(strstr(err.message, "/sub/part.yaml -> "));

    snprintf(path, sizeof path, "%s/sub/part.yaml", dir);
    f = fopen(path, "w");
    fputs("categories:\n  - { id: from-part }\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/main.yaml", dir);
    assert_int_equal(tsr_ruleset_load_file(&rs, path, NULL, &err), TSR_OK);
    assert_int_equal(rs->ncategories, 1);
    assert_string_equal(rs->categories[0].id, "from-part");
    tsr_ruleset_free(rs);

    snprintf(path, sizeof path, "%s/sub/part.yaml", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    remove(path);
    snprintf(path, sizeof path, "%s/main.yaml", dir);
    remove(path);
    remove(dir);
}

/* ---------------------------------------------------------------------
 * Ids compared with item.category and tier.
 */
static void test_ids_compared_with_category_or_tier_must_be_declared(void **state)
{
    tsr_ruleset *rs;
    (void)state;
    assert_error(HEADER "categories:\n  - { id: child }\n"
                        "discounts:\n  - { id: d, for: item.category == \"chlid\", percent: 5 }\n",
                 TSR_ENAME, 7, 36, "unknown category `chlid`: no category has this id, so this "
                 "comparison never holds; did you mean `child`?");
    assert_error(HEADER "categories:\n  - { id: child }\n"
                        "discounts:\n  - { id: d, for: '\"chlid\" != item.category', percent: 5 }\n",
                 TSR_ENAME, 7, 20, "unknown category `chlid`: no category has this id, so this "
                 "comparison always holds; did you mean `child`?");
    assert_error(HEADER "categories:\n  - { id: child }\n  - { id: adult }\n"
                        "discounts:\n  - { id: d, for: 'item.category in [\"adult\", \"chlid\"]',"
                        " percent: 5 }\n",
                 TSR_ENAME, 8, 47, "unknown category `chlid`: no category has this id, so this "
                 "comparison never holds; did you mean `child`?");
    assert_error(HEADER "tiers:\n  - { id: gold, when: customer.id == \"x\" }\n"
                        "discounts:\n  - { id: d, when: tier == \"golden\", percent: 5 }\n",
                 TSR_ENAME, 7, 28, "unknown tier `golden`: no tier has this id, so this "
                 "comparison never holds; did you mean `gold`?");
    assert_error(HEADER "discounts:\n  - { id: d, when: 'tier in [\"gold\"]', percent: 5 }\n",
                 TSR_ENAME, 5, 30, "unknown tier `gold`: no tier has this id, so this "
                 "comparison never holds (no tier is declared)");
    end_errors();
    /* a category's conditions may name a later one; any spelling of the
     * comparison that is not a literal is left alone */
    rs = load_ok(HEADER "categories:\n"
                 "  - { id: early, when: 'count(items, item.category == \"late\") < 2' }\n"
                 "  - { id: late }\n"
                 "discounts:\n  - { id: d, for: lower(item.category) == \"nope\", percent: 5 }\n");
    tsr_ruleset_free(rs);
}

static void test_ids_declared_in_an_included_file_count(void **state)
{
    static const mem_file files[] = {
        { "main.yaml",
          "tessera: 1\nruleset: m\ncurrency: EUR\ninclude: [shared.yaml]\n"
          "categories:\n  - { id: child, when: 'tier == \"gold\"' }\n" },
        { "shared.yaml",
          "tiers:\n  - { id: gold }\n"
          "discounts:\n  - { id: kids, for: item.category == \"child\", percent: 5 }\n"
          "  - { id: teens, for: item.category == \"teen\", percent: 5 }\n" },
    };
    mem_fs fs = { files, 2, 0, "" };
    tsr_ruleset *rs = NULL;
    tsr_error err;
    (void)state;

    assert_int_equal(load_mem(&rs, &fs, "main.yaml", &err), TSR_ENAME);
    assert_string_equal(err.file, "shared.yaml");
    assert_int_equal(err.line, 5);
    assert_int_equal(err.column, 40);
    assert_string_equal(err.message, "unknown category `teen`: no category has this id, so this "
                        "comparison never holds");
}

static void test_a_bad_date_in_a_table_is_an_invalid_date(void **state)
{
    (void)state;
    assert_error(HEADER "tables:\n  holidays: [2026-12-25, 2026-02-30]\n", TSR_EVALUE, 5, 26,
                 "invalid date `2026-02-30` in table `holidays` (expected YYYY-MM-DD)");
    end_errors();
}

/* ---------------------------------------------------------------------
 * Checking: every error in one run.
 */
typedef struct checked {
    int rc;
    tsr_ruleset *rs;
    tsr_check_report *report;
    tsr_error err;
} checked;

static checked check_text(const char *text)
{
    checked c;
    c.rs = (tsr_ruleset *)1;
    c.rc = tsr_ruleset_check_string(&c.rs, &c.report, text, strlen(text), "t.yaml", NULL,
                                     &c.err);
    return c;
}

/* Error i of the report is at line:col and says `message`. */
static void expect_check_error(const checked *c, size_t i, int line, int col, const char *message)
{
    tsr_error e;
    assert_int_equal(tsr_check_report_error(c->report, i, &e), TSR_OK);
    if (e.line != line || e.column != col || strcmp(e.message, message) != 0)
        fail_msg("error %zu: expected %d:%d `%s`\n     got %s:%d:%d `%s`", i, line, col, message,
                 e.file, e.line, e.column, e.message);
    assert_string_equal(e.file, "t.yaml");
    assert_int_not_equal(e.code, TSR_OK);
}

static void test_check_reports_every_error_at_its_place(void **state)
{
    static const char text[] =
        HEADER                                                         /* 1-3 */
        "rounding: half-up\n"                                          /* 4 */
        "tiers:\n  - { id: gold, when: customer.spend >= 5 }\n"        /* 5-6 */
        "categories:\n"                                                /* 7 */
        "  - { id: child, when: item.age < 16, price: 10.00 }\n"       /* 8 */
        "  - { id: adult, price: 20.00, selectable: maybe }\n"         /* 9 */
        "discounts:\n"                                                 /* 10 */
        "  - { id: family-deal, percent: 110 }\n"                      /* 11 */
        "  - { id: kids, for: item.category == \"chlid\", percent: 5 }\n" /* 12 */
        "  - { id: fine, percent: 5 }\n"                               /* 13 */
        "offers:\n  - 42\n";                                           /* 14-15 */
    tsr_ruleset *rs = (tsr_ruleset *)1;
    tsr_error first;
    checked c = check_text(text);
    (void)state;

    assert_int_equal(c.rc, TSR_ESCHEMA);
    assert_null(c.rs);
    assert_int_equal(tsr_check_report_count(c.report), 7);
    assert_int_equal(tsr_check_report_truncated(c.report), 0);
    expect_check_error(&c, 0, 4, 11, "unknown rounding mode `half-up` in the rule file; did you "
                       "mean `half_up`?");
    expect_check_error(&c, 1, 6, 32, "unknown field `customer.spend`");
    expect_check_error(&c, 2, 8, 29, "unknown field `item.age`");
    expect_check_error(&c, 3, 9, 44, "`selectable` in categories.adult must be true or false");
    expect_check_error(&c, 4, 11, 33, "`percent` in discounts.family-deal must be from 0 to 100, "
                       "not 110");
    expect_check_error(&c, 5, 12, 39, "unknown category `chlid`: no category has this id, so this "
                       "comparison never holds; did you mean `child`?");
    expect_check_error(&c, 6, 15, 5, "an entry of `offers` must be a mapping, not a scalar");
    /* err is the first, and a load stops there with the same error */
    assert_int_equal(c.err.code, TSR_ESCHEMA);
    assert_int_equal(c.err.line, 4);
    assert_int_equal(tsr_ruleset_load_string(&rs, text, strlen(text), "t.yaml", NULL, &first),
                     TSR_ESCHEMA);
    assert_null(rs);
    assert_string_equal(first.message, c.err.message);
    assert_int_equal(first.line, 4);
    assert_int_equal(first.column, 11);
    tsr_check_report_free(c.report);
}

/* What only follows from an error is not reported again: expressions that
 * name a field, a table or a section that failed to load. */
static void test_check_does_not_repeat_what_follows_from_an_error(void **state)
{
    checked c = check_text(HEADER
        "schema:\n  item: { height_cm: strng }\n"                       /* 4-5 */
        "tables:\n  holidays: [2026-02-30]\n"                           /* 6-7 */
        "segment:\n  vip: customer.id == \"v\"\n"                       /* 8-9 */
        "categories:\n"
        "  - { id: small, when: item.height_cm < 100 }\n"
        "  - { id: dayoff, when: date(now) in tables.holidays }\n"
        "  - { id: vip, when: segment.vip }\n"
        "  - { id: typo, when: item.heigth < 1 }\n");                   /* 14 */
    (void)state;

    assert_int_equal(c.rc, TSR_ESCHEMA);
    assert_int_equal(tsr_check_report_count(c.report), 4);
    /* in file order; err is the first found, where a load stops */
    expect_check_error(&c, 0, 5, 22, "unknown type `strng` for `item.height_cm`; did you mean "
                       "`string`?");
    expect_check_error(&c, 1, 7, 14, "invalid date `2026-02-30` in table `holidays` (expected "
                       "YYYY-MM-DD)");
    expect_check_error(&c, 2, 8, 1, "unknown top-level key `segment`; did you mean `segments`?");
    expect_check_error(&c, 3, 14, 28, "unknown field `item.heigth`");
    assert_int_equal(c.err.line, 8);
    tsr_check_report_free(c.report);

    /* a category whose id cannot be read: comparisons with ids are not
     * checked, since the one it meant is unknown */
    c = check_text(HEADER "categories:\n  - { id: child }\n  - { label: Adult }\n"
                   "discounts:\n  - { id: d, for: item.category == \"adult\", percent: 5 }\n");
    assert_int_equal(tsr_check_report_count(c.report), 1);
    expect_check_error(&c, 0, 6, 5, "an entry of `categories` needs an `id`");
    tsr_check_report_free(c.report);
}

static void test_check_stops_at_the_limit(void **state)
{
    char text[8192];
    size_t used, i;
    checked c;
    (void)state;

    used = (size_t)snprintf(text, sizeof text, HEADER "discounts:\n");
    for (i = 0; i < TSR_CHECK_MAX_ERRORS + 10; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "  - { id: d%zu, percent: 200 }\n", i);
    c = check_text(text);
    assert_int_equal(c.rc, TSR_EVALUE);
    assert_int_equal(tsr_check_report_count(c.report), TSR_CHECK_MAX_ERRORS);
    assert_int_equal(tsr_check_report_truncated(c.report), 1);
    expect_check_error(&c, TSR_CHECK_MAX_ERRORS - 1, 5 + TSR_CHECK_MAX_ERRORS - 1, 25,
                       "`percent` in discounts.d49 must be from 0 to 100, not 200");
    tsr_check_report_free(c.report);
}

static void test_check_of_a_good_file_gives_the_rule_set(void **state)
{
    checked c = check_text(HEADER
        "segments:\n  vip: customer.id == \"v\"\n"
        "tiers:\n  - { id: gold }\n"
        "categories:\n  - { id: a }\n  - { id: b }\n"
        "discounts:\n  - { id: d, percent: 5 }\n"
        "loyalty:\n  earn:\n    - { id: e, points: 1 }\n"
        "offers:\n  - { id: o, message: hi, when: segment.vip }\n");
    tsr_error e;
    (void)state;

    assert_int_equal(c.rc, TSR_OK);
    assert_non_null(c.rs);
    assert_int_equal(c.err.code, TSR_OK);
    assert_int_equal(tsr_check_report_count(c.report), 0);
    assert_int_equal(tsr_check_report_error(c.report, 0, &e), TSR_EINVAL);
    assert_int_equal(tsr_ruleset_count(c.rs, "segments"), 1);
    assert_int_equal(tsr_ruleset_count(c.rs, "tiers"), 1);
    assert_int_equal(tsr_ruleset_count(c.rs, "categories"), 2);
    assert_int_equal(tsr_ruleset_count(c.rs, "promo_codes"), 0);
    assert_int_equal(tsr_ruleset_count(c.rs, "discounts"), 1);
    assert_int_equal(tsr_ruleset_count(c.rs, "earn"), 1);
    assert_int_equal(tsr_ruleset_count(c.rs, "offers"), 1);
    assert_int_equal(tsr_ruleset_count(c.rs, "tables"), 0);
    assert_int_equal(tsr_ruleset_count(c.rs, "nonsense"), 0);
    assert_int_equal(tsr_ruleset_count(NULL, "tiers"), 0);
    tsr_ruleset_free(c.rs);
    tsr_check_report_free(c.report);

    /* NULL-safe; the report is optional; a YAML error is the one error */
    assert_int_equal(tsr_check_report_count(NULL), 0);
    assert_int_equal(tsr_check_report_truncated(NULL), 0);
    tsr_check_report_free(NULL);
    c.rs = (tsr_ruleset *)1;
    assert_int_equal(tsr_ruleset_check_string(&c.rs, NULL, "a: [", 4, "t.yaml", NULL, NULL),
                     TSR_EPARSE);
    assert_null(c.rs);
    c = check_text("a: [");
    assert_int_equal(c.rc, TSR_EPARSE);
    assert_int_equal(tsr_check_report_count(c.report), 1);
    assert_int_equal(tsr_check_report_error(c.report, 0, &e), TSR_OK);
    assert_int_equal(e.code, TSR_EPARSE);
    tsr_check_report_free(c.report);
    assert_int_equal(tsr_ruleset_check_file(&c.rs, &c.report, NULL, NULL, &e), TSR_EINVAL);
    assert_null(c.report);
    assert_int_equal(tsr_ruleset_check_file(&c.rs, &c.report, "/nonexistent/r.yaml", NULL, &e),
                     TSR_EIO);
    assert_int_equal(tsr_check_report_count(c.report), 1);
    tsr_check_report_free(c.report);
}

/* A check that runs out of memory at any allocation says so, leaks
 * nothing, and otherwise finds what it finds with memory to spare. */
static void test_check_out_of_memory(void **state)
{
    static const char text[] = HEADER
        "schema:\n  item: { height_cm: int }\n"
        "tables:\n  t: [1, 2]\n"
        "categories:\n  - { id: a, when: item.height_cm < 100 }\n  - { id: b, when: item.x }\n"
        "discounts:\n  - { id: d, for: item.category == \"c\", percent: 5 }\n"
        "  - { id: e, percent: 500 }\n";
    size_t n;
    (void)state;

    for (n = 1; n < 100000; n++) {
        counting c = { .fail_at = n, .fail_once = true };
        tsr_allocator a = { counting_realloc, &c };
        tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
        tsr_ruleset *rs = (tsr_ruleset *)1;
        tsr_check_report *report = NULL;
        tsr_error err;
        int rc;

        opts.allocator = &a;
        rc = tsr_ruleset_check_string(&rs, &report, text, strlen(text), "t.yaml", &opts, &err);
        assert_null(rs);
        if (c.failed == 0) {
            assert_int_equal(rc, TSR_ENAME);
            assert_int_equal(tsr_check_report_count(report), 3);
            tsr_check_report_free(report);
            assert_int_equal(c.live, 0);
            return;
        }
        if (rc != TSR_ENOMEM)
            fail_msg("allocation %zu failed: got %d (%s:%d:%d: %s), not TSR_ENOMEM", n, rc,
                     err.file, err.line, err.column, err.message);
        assert_int_equal(err.code, TSR_ENOMEM);
        tsr_check_report_free(report);
        if (c.live != 0)
            fail_msg("allocation %zu failed: %zu bytes leaked", n, c.live);
    }
    fail_msg("the check never finished");
}

/* ---------------------------------------------------------------------
 * Where includes may lead.
 */
static void put_file(const char *dir, const char *name, const char *text)
{
    char path[600];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int load_main(const char *dir, const char *text, const tsr_load_options *opts,
                     tsr_ruleset **rs, tsr_error *err)
{
    char path[600];
    put_file(dir, "main.yaml", text);
    snprintf(path, sizeof path, "%s/main.yaml", dir);
    *rs = NULL;
    return tsr_ruleset_load_file(rs, path, opts, err);
}

static void expect_refused(const char *dir, const char *include, const tsr_load_options *opts)
{
    char text[800], want[700];
    tsr_ruleset *rs;
    tsr_error err;

    snprintf(text, sizeof text, HEADER "include: [%s]\n", include);
    assert_int_equal(load_main(dir, text, opts, &rs, &err), TSR_EINCLUDE);
    assert_null(rs);
    snprintf(want, sizeof want, "cannot include `%s`: it is outside the directory of ", include);
    if (!strstr(err.message, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
    assert_int_equal(err.line, 4);
    assert_int_equal(err.column, 11);
    /* nothing of the refused file was read, so nothing of it is echoed */
    assert_null(strstr(err.message, "from-outside"));
}

static void test_includes_stay_inside_the_main_files_directory(void **state)
{
    char root[] = "/tmp/tsr_confine_XXXXXX", rules[100], shared[120], other[100];
    char abs_inc[200], link[200];
    const char *allow[2];
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs;
    tsr_error err;
    (void)state;

    assert_non_null(mkdtemp(root));
    snprintf(rules, sizeof rules, "%s/rules", root);
    snprintf(shared, sizeof shared, "%s/rules/shared", root);
    snprintf(other, sizeof other, "%s/other", root);
    assert_int_equal(mkdir(rules, 0700), 0);
    assert_int_equal(mkdir(shared, 0700), 0);
    assert_int_equal(mkdir(other, 0700), 0);
    put_file(other, "secret.yaml", "categories:\n  - { id: from-outside }\n");
    put_file(rules, "common.yaml", "categories:\n  - { id: common }\n");
    put_file(shared, "part.yaml", "include: [../common.yaml]\ncategories:\n  - { id: part }\n");
    snprintf(link, sizeof link, "%s/link.yaml", rules);
    assert_int_equal(symlink("../other/secret.yaml", link), 0);
    snprintf(abs_inc, sizeof abs_inc, "%s/secret.yaml", other);

    expect_refused(rules, "../other/secret.yaml", NULL);        /* `..` out of the tree */
    expect_refused(rules, abs_inc, NULL);                       /* an absolute path */
    expect_refused(rules, "link.yaml", NULL);                   /* a link that leads out */
    expect_refused(rules, "/proc/self/status", NULL);

    /* inside the tree: `..` that stays in it, and an include's own include
     * of a file elsewhere in the main file's tree */
    assert_int_equal(load_main(rules, HEADER "include: [shared/../shared/part.yaml]\n", NULL,
                               &rs, &err), TSR_OK);
    assert_int_equal(rs->ncategories, 2);
    assert_string_equal(rs->categories[0].id, "common");
    tsr_ruleset_free(rs);

    /* allow_paths opens a directory (and only with a version 2 struct) */
    allow[0] = other;
    allow[1] = NULL;
    opts.allow_paths = allow;
    assert_int_equal(load_main(rules, HEADER "include: [../other/secret.yaml, link.yaml]\n", &opts,
                               &rs, &err), TSR_OK);
    assert_string_equal(rs->categories[0].id, "from-outside");
    assert_null(rs->limits.allow_paths);   /* the caller's memory is not kept */
    tsr_ruleset_free(rs);
    opts.version = 1;
    expect_refused(rules, "../other/secret.yaml", &opts);
    opts.version = TSR_LOAD_OPTIONS_VERSION;
    allow[0] = "/";
    assert_int_equal(load_main(rules, HEADER "include: [../other/secret.yaml]\n", &opts, &rs, &err),
                     TSR_OK);
    tsr_ruleset_free(rs);

    /* an old caller's version 1 struct is never written past */
    {
        struct { tsr_load_options o; } box;
        memset(&box, 0x5A, sizeof box);
        assert_int_equal(tsr_load_options_init(&box.o, 1), TSR_OK);
        assert_int_equal(box.o.version, 1);
        assert_int_equal(box.o.max_depth, 64);
        assert_ptr_equal(box.o.allow_paths, (const char *const *)(uintptr_t)0x5A5A5A5A5A5A5A5AULL);
    }

    remove(link);
    put_file(rules, "main.yaml", "");
    snprintf(link, sizeof link, "%s/main.yaml", rules);
    remove(link);
    snprintf(link, sizeof link, "%s/common.yaml", rules);
    remove(link);
    snprintf(link, sizeof link, "%s/part.yaml", shared);
    remove(link);
    remove(abs_inc);
    remove(shared);
    remove(rules);
    remove(other);
    remove(root);
}

/* libyaml's parsing time grows with the square of the nesting: an embedder
 * cannot raise max_depth past TSR_MAX_DEPTH_LIMIT. */
static void test_max_depth_above_the_cap_is_refused(void **state)
{
    tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
    tsr_ruleset *rs = NULL;
    tsr_error err;
    char *text;
    size_t n = 0, i;
    (void)state;

    opts.max_depth = TSR_MAX_DEPTH_LIMIT + 1;
    assert_int_equal(tsr_ruleset_load_string(&rs, HEADER, strlen(HEADER), "t.yaml", &opts, &err),
                     TSR_EINVAL);
    assert_null(rs);
    assert_non_null(strstr(err.message, "max_depth 1025 is above the largest allowed, 1024"));
    opts.max_depth = 1u << 30;
    assert_int_equal(tsr_ruleset_load_string(&rs, HEADER, strlen(HEADER), "t.yaml", &opts, &err),
                     TSR_EINVAL);
    assert_int_equal(tsr_test_run_string(NULL, "tessera_test: 1\n", 16, "t.test.yaml", &opts,
                                         &err), TSR_EINVAL);

    /* at the cap, a document nested that deep loads (in milliseconds) */
    opts.max_depth = TSR_MAX_DEPTH_LIMIT;
    text = malloc(strlen(HEADER) + 2 * TSR_MAX_DEPTH_LIMIT + 16);
    assert_non_null(text);
    n = (size_t)sprintf(text, "%stables: { t: ", HEADER);
    for (i = 0; i < TSR_MAX_DEPTH_LIMIT - 3; i++)
        text[n++] = '[';
    for (i = 0; i < TSR_MAX_DEPTH_LIMIT - 3; i++)
        text[n++] = ']';
    n += (size_t)sprintf(text + n, " }\n");
    assert_int_not_equal(tsr_ruleset_load_string(&rs, text, n, "t.yaml", &opts, &err), TSR_ELIMIT);
    tsr_ruleset_free(rs);
    free(text);
}

/* ---------------------------------------------------------------------
 * Out of memory: fail allocation 1, 2, 3, ... until the load succeeds.
 */
static void oom_loop(const char *path, mem_fs *fs)
{
    size_t n;

    for (n = 1; n < 100000; n++) {
        counting c = { .fail_at = n, .fail_once = true };
        tsr_allocator a = { counting_realloc, &c };
        tsr_load_options opts = TSR_LOAD_OPTIONS_INIT;
        tsr_ruleset *rs = (tsr_ruleset *)1;
        tsr_error err;
        int rc;

        opts.allocator = &a;
        if (fs) {
            opts.include = mem_resolve;
            opts.include_ud = fs;
            rc = tsr_ruleset_load_string(&rs, fs->files[0].text, strlen(fs->files[0].text),
                                         fs->files[0].name, &opts, &err);
        } else {
            rc = tsr_ruleset_load_file(&rs, path, &opts, &err);
        }
        if (c.failed == 0) {
            /* every allocation succeeded: done */
            assert_int_equal(rc, TSR_OK);
            tsr_ruleset_free(rs);
            assert_int_equal(c.live, 0);
            return;
        }
        if (rc == TSR_OK)
            fail_msg("allocation %zu failed but the load succeeded", n);
        if (rc != TSR_ENOMEM)
            fail_msg("allocation %zu failed: got %d (%s:%d:%d: %s), not TSR_ENOMEM", n, rc,
                     err.file, err.line, err.column, err.message);
        assert_null(rs);
        assert_int_equal(err.code, TSR_ENOMEM);
        if (c.live != 0)
            fail_msg("allocation %zu failed: %zu bytes leaked", n, c.live);
    }
    fail_msg("the load never succeeded");
}

static void test_out_of_memory_park(void **state)
{
    (void)state;
    oom_loop(PARK_YAML, NULL);
}

static void test_out_of_memory_with_includes(void **state)
{
    static const mem_file files[] = {
        { "main.yaml",
          "tessera: 1\nruleset: m\ncurrency: EUR\ntimezone: Europe/Berlin\n"
          "include: [more.yaml]\n"
          "tables:\n  zone: { A: 1.00, B: 2.00 }\n"
          "discounts:\n"
          "  - { id: a, percent: 5, group: g, valid: { weekdays: [1, 2] }, channels: [web] }\n"
          "  - { id: b, amount: 1, group: g, requires: p }\n" },
        { "more.yaml",
          "promo_codes:\n  - { id: p, match: '^P[0-9]+$' }\n"
          "segments:\n  s: customer.id == \"x\"\n"
          "offers:\n  - { id: o, message: hello, when: segment.s }\n"
          "refunds: { fee: 1.00 }\n" },
    };
    mem_fs fs = { files, 2, 0, "" };
    (void)state;
    oom_loop(NULL, &fs);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_park_yaml_loads_with_its_model),
        cmocka_unit_test(test_park10_loads),
        cmocka_unit_test(test_discounts_sort_by_priority_then_file_order_and_share_groups),
        cmocka_unit_test(test_many_discounts_keep_file_order_within_a_priority),
        cmocka_unit_test(test_discount_shapes),
        cmocka_unit_test(test_validity_and_channels_are_parsed),
        cmocka_unit_test(test_an_empty_validity_always_holds),
        cmocka_unit_test(test_tables_hold_typed_values),
        cmocka_unit_test(test_schema_fields_follow_the_builtins),
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_loyalty_multiply_and_refunds),
        cmocka_unit_test(test_unknown_keys_suggest_the_closest),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_model_errors),
        cmocka_unit_test(test_segments_see_only_earlier_segments),
        cmocka_unit_test(test_bad_promo_pattern_points_into_the_pattern),
        cmocka_unit_test(test_missing_file_is_an_io_error),
        cmocka_unit_test(test_load_string_names_the_text),
        cmocka_unit_test(test_options_versions),
        cmocka_unit_test(test_time_zones_come_from_tzdir),
        cmocka_unit_test(test_a_broken_zone_file_is_reported_once_at_the_key),
        cmocka_unit_test(test_includes_stay_inside_the_main_files_directory),
        cmocka_unit_test(test_max_depth_above_the_cap_is_refused),
        cmocka_unit_test(test_custom_allocator_sees_everything),
        cmocka_unit_test(test_includes_merge_included_content_first),
        cmocka_unit_test(test_include_errors),
        cmocka_unit_test(test_include_limit),
        cmocka_unit_test(test_includes_from_disk_are_relative_to_the_includer),
        cmocka_unit_test(test_out_of_memory_park),
        cmocka_unit_test(test_out_of_memory_with_includes),
        cmocka_unit_test(test_ids_compared_with_category_or_tier_must_be_declared),
        cmocka_unit_test(test_ids_declared_in_an_included_file_count),
        cmocka_unit_test(test_a_bad_date_in_a_table_is_an_invalid_date),
        cmocka_unit_test(test_check_reports_every_error_at_its_place),
        cmocka_unit_test(test_check_does_not_repeat_what_follows_from_an_error),
        cmocka_unit_test(test_check_stops_at_the_limit),
        cmocka_unit_test(test_check_of_a_good_file_gives_the_rule_set),
        cmocka_unit_test(test_check_out_of_memory),
        cmocka_unit_test(test_discount_base_and_pick_are_checked),
        cmocka_unit_test(test_taxes_are_read_with_their_rates),
        cmocka_unit_test(test_tax_errors),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
