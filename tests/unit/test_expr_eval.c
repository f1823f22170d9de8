/*
 * test_expr_eval.c — the evaluator (lib/expr_eval.c) on a hand-built order:
 * missing values exactly as SPEC §1 says, checked overflow, money and
 * decimal rounding modes, dates and times with and without the rule set's
 * zone, aggregates over lines (nested too), lists, tables, regex matching
 * with limits, and the `why` of a failed condition.  Then, through the
 * public API, the evaluation step that depends on these answers most
 * (lib/eval.c, step 3): a category an order names is taken only when it is
 * selectable and its conditions hold, else the order is refused.
 */
#include "expr_fixture.h"

/* ---------------------------------------------------------------------
 * Missing values.
 */
static void comparisons_with_missing_are_false_both_ways(void **state)
{
    fx *f = *state;   /* line 0 has no price */
    assert_false(fx_holds(f, "item.price == 100.00"));
    assert_false(fx_holds(f, "item.price != 100.00"));
    assert_false(fx_holds(f, "item.price < 100.00"));
    assert_false(fx_holds(f, "item.price >= 100.00"));
    assert_false(fx_holds(f, "item.price == item.price"));
    assert_false(fx_holds(f, "100.00 != item.price"));
    assert_false(fx_holds(f, "item.price in [100.00]"));
    assert_false(fx_holds(f, "customer.last_visit in tables.holidays"));
    /* A comparison's value is false, not missing: `not` turns it true. */
    assert_true(fx_holds(f, "not (item.price == 100.00)"));
    assert_value(fx_eval(f, "item.price == 100.00", TSR_T_BOOL), TSR_T_BOOL, 0);
}

static void missing_counts_as_false_in_boolean_contexts(void **state)
{
    fx *f = *state;
    assert_false(fx_holds(f, "item.validated"));
    assert_true(fx_holds(f, "not item.validated"));
    assert_false(fx_holds(f, "item.validated and true"));
    assert_true(fx_holds(f, "item.validated or true"));
    assert_false(fx_holds(f, "item.validated or false"));
    assert_value(fx_eval(f, "1 if item.validated else 2", TSR_T_MISSING), TSR_T_INT, 2);
    assert_value(fx_eval(f, "not item.validated", TSR_T_BOOL), TSR_T_BOOL, 1);
    f->lines[0][I_VALIDATED] = vnum(TSR_T_BOOL, 1);
    assert_false(fx_holds(f, "not item.validated"));
}

static void arithmetic_and_functions_of_missing_are_missing(void **state)
{
    fx *f = *state;
    assert_missing(fx_eval(f, "item.price + 1.00", TSR_T_MISSING));
    assert_missing(fx_eval(f, "item.price * 2", TSR_T_MISSING));
    assert_missing(fx_eval(f, "-item.price", TSR_T_MISSING));
    assert_missing(fx_eval(f, "abs(item.price)", TSR_T_MISSING));
    assert_missing(fx_eval(f, "min(item.price, 1.00)", TSR_T_MISSING));
    assert_missing(fx_eval(f, "customer.last_visit + days(1)", TSR_T_MISSING));
    assert_missing(fx_eval(f, "days_between(customer.last_visit, date(now))", TSR_T_MISSING));
    assert_missing(fx_eval(f, "tier", TSR_T_MISSING));
    assert_missing(fx_eval(f, "lower(item.category)", TSR_T_MISSING));
    assert_false(fx_holds(f, "days_between(customer.last_visit, date(now)) > 180"));
    assert_false(fx_holds(f, "days_between(customer.last_visit, date(now)) <= 180"));
}

static void has_tells_present_from_missing(void **state)
{
    fx *f = *state;
    assert_false(fx_holds(f, "has(item.price)"));
    assert_true(fx_holds(f, "has(item.zone)"));
    assert_false(fx_holds(f, "has(item.price + 1.00)"));
    assert_true(fx_holds(f, "has(tables.zone_price[item.zone])"));
    f->ctx.item = f->lines[1];
    assert_true(fx_holds(f, "has(item.price)"));
    assert_false(fx_holds(f, "has(tables.zone_price[item.zone])"));
}

/* ---------------------------------------------------------------------
 * Numbers and money.
 */
static void integer_overflow_is_an_evaluation_error(void **state)
{
    fx *f = *state;
    f->customer[C_VISITS] = vnum(TSR_T_INT, INT64_MAX);
    fx_eval_fails(f, "customer.visits + 1", TSR_EEVAL,
                  "arithmetic overflow in `customer.visits + 1`");
    fx_eval_fails(f, "customer.visits * 2 > 1", TSR_EEVAL,
                  "arithmetic overflow in `customer.visits * 2`");
    fx_eval_fails(f, "-customer.visits - 2", TSR_EEVAL, "in `-customer.visits - 2`");
    fx_eval_fails(f, "customer.visits / 1", TSR_EEVAL, "overflow");   /* as a decimal */
    f->customer[C_VISITS] = vnum(TSR_T_INT, INT64_MIN);
    fx_eval_fails(f, "abs(customer.visits)", TSR_EEVAL, "overflow in `abs(customer.visits)`");
    fx_eval_fails(f, "-customer.visits", TSR_EEVAL, "overflow");
    assert_value(fx_eval(f, "customer.visits % -1", TSR_T_MISSING), TSR_T_INT, 0);
    f->customer[C_VISITS] = vnum(TSR_T_INT, 0);
    fx_eval_fails(f, "10 / customer.visits", TSR_EEVAL, "division by zero in `10 / customer.visits`");
    fx_eval_fails(f, "10 % customer.visits", TSR_EEVAL, "division by zero");
    /* The error names the failing sub-expression, not the whole. */
    f->customer[C_VISITS] = vnum(TSR_T_INT, INT64_MAX);
    fx_eval_fails(f, "item.height_cm > 1 and customer.visits + 1 > 2", TSR_EEVAL,
                  "in `customer.visits + 1`");
}

static void int_division_gives_a_rounded_decimal(void **state)
{
    fx *f = *state;
    f->customer[C_VISITS] = vnum(TSR_T_INT, 7);
    assert_value(fx_eval(f, "customer.visits / 2", TSR_T_MISSING), TSR_T_DECIMAL, 3500000);
    f->customer[C_VISITS] = vnum(TSR_T_INT, 2);
    assert_value(fx_eval(f, "customer.visits / 3", TSR_T_MISSING), TSR_T_DECIMAL, 666667);
    f->ctx.rounding = TSR_ROUND_DOWN;
    assert_value(fx_eval(f, "customer.visits / 3", TSR_T_MISSING), TSR_T_DECIMAL, 666666);
    assert_value(fx_eval(f, "floor(customer.visits / 3 * 3)", TSR_T_MISSING), TSR_T_INT, 1);
    assert_value(fx_eval(f, "customer.visits * 1.5", TSR_T_MISSING), TSR_T_DECIMAL, 3000000);
    assert_value(fx_eval(f, "customer.visits % 3", TSR_T_MISSING), TSR_T_INT, 2);
}

static void money_rounds_with_the_rule_set_mode(void **state)
{
    fx *f = *state;
    f->lines[0][TSR_ITEM_PRICE] = vnum(TSR_T_MONEY, 820);   /* 8.20 */
    /* 12.5 % of 8.20 is 1.025. */
    f->ctx.rounding = TSR_ROUND_HALF_UP;
    assert_value(fx_eval(f, "item.price * 0.125", TSR_T_MONEY), TSR_T_MONEY, 103);
    f->ctx.rounding = TSR_ROUND_HALF_EVEN;
    assert_value(fx_eval(f, "item.price * 0.125", TSR_T_MONEY), TSR_T_MONEY, 102);
    f->ctx.rounding = TSR_ROUND_DOWN;
    assert_value(fx_eval(f, "item.price * 0.125", TSR_T_MONEY), TSR_T_MONEY, 102);
    f->ctx.rounding = TSR_ROUND_HALF_UP;
    f->lines[0][TSR_ITEM_PRICE] = vnum(TSR_T_MONEY, 10000);   /* 100.00 */
    assert_value(fx_eval(f, "item.price / 3", TSR_T_MONEY), TSR_T_MONEY, 3333);
    assert_value(fx_eval(f, "item.price / 1.5", TSR_T_MONEY), TSR_T_MONEY, 6667);
    /* A number divides money into money; money divided by money is a ratio. */
    assert_value(fx_eval(f, "item.price / 8.00", TSR_T_MISSING), TSR_T_MONEY, 1250);
    assert_value(fx_eval(f, "customer.spend_12m / item.price", TSR_T_MISSING), TSR_T_DECIMAL,
                 500000000);
    assert_value(fx_eval(f, "item.price * item.quantity * 3", TSR_T_MONEY), TSR_T_MONEY, 30000);
    assert_value(fx_eval(f, "item.price - 0.01", TSR_T_MONEY), TSR_T_MONEY, 9999);
    assert_value(fx_eval(f, "item.price + 1", TSR_T_MONEY), TSR_T_MONEY, 10100);
    f->lines[0][TSR_ITEM_PRICE] = vnum(TSR_T_MONEY, -15055);
    assert_value(fx_eval(f, "floor(item.price)", TSR_T_MONEY), TSR_T_MONEY, -15100);
    assert_value(fx_eval(f, "abs(item.price)", TSR_T_MONEY), TSR_T_MONEY, 15055);
    f->lines[0][TSR_ITEM_PRICE] = vnum(TSR_T_MONEY, 15055);
    assert_value(fx_eval(f, "floor(item.price)", TSR_T_MONEY), TSR_T_MONEY, 15000);
}

static void money_compares_with_numeric_constants_and_tables(void **state)
{
    fx *f = *state;
    assert_true(fx_holds(f, "customer.spend_12m >= 50000.00"));
    assert_true(fx_holds(f, "customer.spend_12m >= 50000"));
    assert_false(fx_holds(f, "customer.spend_12m > 50000"));
    assert_true(fx_holds(f, "customer.spend_12m == 50000.000"));
    f->ctx.item = f->lines[2];   /* 2500.00, zone A (120.00) */
    assert_true(fx_holds(f, "item.price > tables.zone_price[item.zone]"));
    assert_value(fx_eval(f, "tables.zone_price[item.zone]", TSR_T_MONEY), TSR_T_MONEY, 12000);
    assert_value(fx_eval(f, "min(item.price, tables.zone_price[item.zone])", TSR_T_MONEY),
                 TSR_T_MONEY, 12000);
}

static void arithmetic_on_a_table_price_is_money_where_money_is_expected(void **state)
{
    fx *f = *state;
    f->ctx.item = f->lines[2];   /* zone A (120.00) */
    assert_value(fx_eval(f, "tables.zone_price[item.zone] * 0.5", TSR_T_MONEY), TSR_T_MONEY, 6000);
    assert_value(fx_eval(f, "0.25 * tables.zone_price[item.zone]", TSR_T_MONEY), TSR_T_MONEY, 3000);
    assert_value(fx_eval(f, "tables.zone_price[item.zone] / 3 + 1.00", TSR_T_MONEY), TSR_T_MONEY,
                 4100);
    assert_value(fx_eval(f, "tables.zone_price[item.zone] - 20", TSR_T_MONEY), TSR_T_MONEY, 10000);
    /* where a number is expected the same expression stays a decimal */
    assert_value(fx_eval(f, "tables.zone_price[item.zone] * 0.5", TSR_T_DECIMAL), TSR_T_DECIMAL,
                 60000000);
    /* a number read from the order never becomes money by context */
    fx_compile_fails(f, "item.quantity / 2", TSR_T_MONEY, TSR_ETYPE, "expected money", 1);
}

/* ---------------------------------------------------------------------
 * Dates and times.
 */
static void weekday_and_hour_use_the_values_own_offset_without_a_zone(void **state)
{
    fx *f = *state;
    /* 2026-06-13 is a Saturday. */
    assert_value(fx_eval(f, "weekday(now)", TSR_T_MISSING), TSR_T_INT, 6);
    assert_value(fx_eval(f, "hour(now)", TSR_T_MISSING), TSR_T_INT, 14);
    assert_value(fx_eval(f, "minute(now)", TSR_T_MISSING), TSR_T_INT, 30);
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-13T23:30:00Z");
    assert_value(fx_eval(f, "weekday(now)", TSR_T_MISSING), TSR_T_INT, 6);
    assert_value(fx_eval(f, "hour(now)", TSR_T_MISSING), TSR_T_INT, 23);
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-13").u.i);
    assert_true(fx_holds(f, "now == datetime(\"2026-06-14T02:30:00+03:00\")"));
}

static void weekday_and_hour_use_the_rule_set_zone_when_set(void **state)
{
    fx *f = *state;
    tsr_tz *tz = NULL;
    tsr_error err;
    memset(&err, 0, sizeof err);
    if (tsr__tz_load(&tz, "Europe/Moscow", NULL, &f->alloc, &err) != TSR_OK) {
        print_message("no tz database here (%s): skipped\n", err.message);
        skip();
    }
    f->ctx.tz = tz;
    /* 23:30 UTC is 02:30 the next day in Moscow (UTC+3): a Sunday. */
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-13T23:30:00Z");
    assert_value(fx_eval(f, "weekday(now)", TSR_T_MISSING), TSR_T_INT, 7);
    assert_value(fx_eval(f, "hour(now)", TSR_T_MISSING), TSR_T_INT, 2);
    assert_value(fx_eval(f, "minute(now)", TSR_T_MISSING), TSR_T_INT, 30);
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-14").u.i);
    assert_true(fx_holds(f, "weekday(now) >= 6"));
    /* Constant datetimes are converted at evaluation time, in the zone. */
    assert_value(fx_eval(f, "weekday(datetime(\"2026-06-13T23:30:00Z\"))", TSR_T_MISSING),
                 TSR_T_INT, 7);
    f->ctx.tz = NULL;
    tsr__tz_free(tz, &f->alloc);
}

/* date(), hour() and minute() remember the last instant's local date and
 * offset (the context's local_* memo), and never answer from it for
 * another instant, another written offset or another zone. */
static void the_local_date_of_an_instant_is_remembered_but_never_stale(void **state)
{
    fx *f = *state;
    tsr_tz *tz = NULL;
    tsr_error err;
    memset(&err, 0, sizeof err);

    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-13T23:30:00Z");
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-13").u.i);
    assert_true(f->ctx.local_set);
    assert_int_equal(f->ctx.local_usec, f->order[TSR_ORDER_DATETIME].u.i);
    assert_int_equal(f->ctx.local_days, vdate("2026-06-13").u.i);
    /* the same instant written with another offset: another local date */
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-14T02:30:00+03:00");
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-14").u.i);
    assert_value(fx_eval(f, "hour(now)", TSR_T_MISSING), TSR_T_INT, 2);
    /* two instants in one expression, each its own */
    assert_value(fx_eval(f, "days_between(date(now), date(item.event_start))", TSR_T_MISSING),
                 TSR_T_INT, 6);
    assert_value(fx_eval(f, "days_between(date(item.event_start), date(now))", TSR_T_MISSING),
                 TSR_T_INT, -6);
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-14").u.i);
    if (tsr__tz_load(&tz, "Europe/Moscow", NULL, &f->alloc, &err) != TSR_OK) {
        print_message("no tz database here (%s): the zone part skipped\n", err.message);
        return;
    }
    /* the same instant in a zone set afterwards */
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-13T23:30:00Z");
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-13").u.i);
    f->ctx.tz = tz;
    assert_value(fx_eval(f, "date(now)", TSR_T_MISSING), TSR_T_DATE, vdate("2026-06-14").u.i);
    assert_value(fx_eval(f, "minute(now)", TSR_T_MISSING), TSR_T_INT, 30);
    f->ctx.tz = NULL;
    assert_value(fx_eval(f, "hour(now)", TSR_T_MISSING), TSR_T_INT, 23);
    tsr__tz_free(tz, &f->alloc);
}

static void birthday_within_wraps_the_year_and_handles_29_february(void **state)
{
    fx *f = *state;
    f->customer[C_BIRTHDAY] = vdate("2000-12-30");
    f->order[TSR_ORDER_DATETIME] = vdt("2027-01-02T10:00:00+03:00");
    assert_true(fx_holds(f, "birthday_within(customer.birthday, date(now), 3)"));
    assert_false(fx_holds(f, "birthday_within(customer.birthday, date(now), 2)"));
    f->customer[C_BIRTHDAY] = vdate("2001-01-03");
    f->order[TSR_ORDER_DATETIME] = vdt("2026-12-31T10:00:00+03:00");
    assert_true(fx_holds(f, "birthday_within(customer.birthday, date(now), 3)"));
    f->customer[C_BIRTHDAY] = vdate("2004-02-29");
    f->order[TSR_ORDER_DATETIME] = vdt("2026-02-28T10:00:00+03:00");
    assert_true(fx_holds(f, "birthday_within(customer.birthday, date(now), 0)"));
    f->order[TSR_ORDER_DATETIME] = vdt("2026-03-01T10:00:00+03:00");
    assert_false(fx_holds(f, "birthday_within(customer.birthday, date(now), 0)"));
    assert_true(fx_holds(f, "birthday_within(customer.birthday, date(now), 1)"));
    f->order[TSR_ORDER_DATETIME] = vdt("2028-02-29T10:00:00+03:00");
    assert_true(fx_holds(f, "birthday_within(customer.birthday, now, 0)"));
    f->customer[C_VISITS] = vnum(TSR_T_INT, -1);
    fx_eval_fails(f, "birthday_within(customer.birthday, now, customer.visits)", TSR_EEVAL,
                  "negative number of days");
}

static void days_between_and_age_count_whole_days_and_years(void **state)
{
    fx *f = *state;
    assert_value(fx_eval(f, "days_between(date(\"2026-06-01\"), now)", TSR_T_MISSING), TSR_T_INT,
                 12);
    assert_value(fx_eval(f, "days_between(now, date(\"2026-06-01\"))", TSR_T_MISSING), TSR_T_INT,
                 -12);
    /* Datetimes count by their local dates, not by 24-hour periods. */
    assert_value(fx_eval(f, "days_between(now, item.event_start)", TSR_T_MISSING), TSR_T_INT, 7);
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-14T23:59:00+03:00");
    assert_value(fx_eval(f, "days_between(datetime(\"2026-06-14T00:01:00+03:00\"), now)",
                         TSR_T_MISSING), TSR_T_INT, 0);
    assert_value(fx_eval(f, "age(customer.birthday, date(now))", TSR_T_MISSING), TSR_T_INT, 10);
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-15T00:00:00+03:00");
    assert_value(fx_eval(f, "age(customer.birthday, now)", TSR_T_MISSING), TSR_T_INT, 11);
}

static void durations_move_datetimes_and_dates(void **state)
{
    fx *f = *state;
    assert_true(fx_holds(f, "now <= item.event_start - hours(24)"));
    assert_false(fx_holds(f, "now > item.event_start - days(7)"));
    assert_true(fx_holds(f, "item.event_start - now > days(7)"));
    assert_true(fx_holds(f, "date(now) + days(1) == date(\"2026-06-14\")"));
    assert_true(fx_holds(f, "date(item.event_start) - date(now) == days(7)"));
    tsr_value v = fx_eval(f, "now + minutes(90)", TSR_T_MISSING);
    assert_int_equal(v.type, TSR_T_DATETIME);
    assert_int_equal(v.offset, 3 * 3600);   /* the written offset is kept */
    assert_value(fx_eval(f, "hour(now + minutes(90))", TSR_T_MISSING), TSR_T_INT, 16);
    f->customer[C_VISITS] = vnum(TSR_T_INT, 3);
    fx_eval_fails(f, "date(now) + hours(customer.visits)", TSR_EEVAL,
                  "a date moves by whole days only");
    f->customer[C_VISITS] = vnum(TSR_T_INT, 5000000);
    fx_eval_fails(f, "date(now) + days(customer.visits)", TSR_EEVAL, "date out of range");
}

/* ---------------------------------------------------------------------
 * Aggregates, lists, tables.
 */
static void aggregates_run_over_the_lines(void **state)
{
    fx *f = *state;
    assert_value(fx_eval(f, "count(items, item.kind == \"ticket\")", TSR_T_MISSING), TSR_T_INT, 2);
    assert_value(fx_eval(f, "sum(items, item.quantity)", TSR_T_MISSING), TSR_T_INT, 4);
    /* Lines without a price are skipped by sum. */
    assert_value(fx_eval(f, "sum(items, item.price)", TSR_T_MISSING), TSR_T_MONEY, 265000);
    assert_value(fx_eval(f, "sum(items, item.price * item.quantity)", TSR_T_MONEY), TSR_T_MONEY,
                 280000);
    assert_true(fx_holds(f, "any(items, item.kind == \"fnb\")"));
    assert_false(fx_holds(f, "any(items, item.kind == \"merch\")"));
    assert_true(fx_holds(f, "all(items, has(item.sku))"));
    assert_false(fx_holds(f, "all(items, item.kind == \"ticket\")"));
    assert_value(fx_eval(f, "len(items)", TSR_T_MISSING), TSR_T_INT, 3);
    /* Over no lines. */
    f->ctx.nlines = 0;
    assert_value(fx_eval(f, "count(items, true)", TSR_T_MISSING), TSR_T_INT, 0);
    assert_value(fx_eval(f, "sum(items, item.price)", TSR_T_MISSING), TSR_T_MONEY, 0);
    assert_false(fx_holds(f, "any(items, true)"));
    assert_true(fx_holds(f, "all(items, false)"));
}

static void nested_aggregates_see_the_innermost_item(void **state)
{
    fx *f = *state;
    /* The inner any() does not depend on the outer line. */
    assert_value(fx_eval(f, "count(items, any(items, item.zone == \"A\"))", TSR_T_MISSING),
                 TSR_T_INT, 3);
    assert_value(fx_eval(f, "sum(items, count(items, item.kind == \"ticket\"))", TSR_T_MISSING),
                 TSR_T_INT, 6);
    assert_value(fx_eval(f, "count(items, item.quantity >= 2 and any(items, item.kind == "
                            "\"ticket\"))", TSR_T_MISSING), TSR_T_INT, 1);
    /* Outside the aggregate, `item` is the current line again. */
    assert_true(fx_holds(f, "count(items, item.kind == \"fnb\") == 1 and item.id == \"t1\""));
    f->env.flags = TSR_ENV_ITEMS;
    f->ctx.item = NULL;
    assert_true(fx_holds(f, "any(items, item.zone == \"A\" and all(items, has(item.kind)))"));
}

static void in_tests_lists_tags_and_table_keys(void **state)
{
    fx *f = *state;
    assert_true(fx_holds(f, "\"season_pass\" in customer.tags"));
    assert_false(fx_holds(f, "\"gold\" in customer.tags"));
    assert_true(fx_holds(f, "\"gold\" not in customer.tags"));
    assert_true(fx_holds(f, "item.kind in [\"ticket\", \"fnb\"]"));
    assert_true(fx_holds(f, "item.zone in tables.zone_price"));
    assert_false(fx_holds(f, "item.id in tables.zone_price"));
    assert_true(fx_holds(f, "\"alpha\" in tables.labels"));
    assert_true(fx_holds(f, "2 in tables.sizes"));
    assert_true(fx_holds(f, "item.height_cm in [117.5, 118]"));
    assert_false(fx_holds(f, "date(now) in tables.holidays"));
    f->order[TSR_ORDER_DATETIME] = vdt("2026-12-25T10:00:00+03:00");
    assert_true(fx_holds(f, "date(now) in tables.holidays"));
    /* A customer without tags: the list is missing, `in` is false. */
    f->customer[TSR_CUST_TAGS] = tsr__missing();
    assert_false(fx_holds(f, "\"season_pass\" in customer.tags"));
    assert_true(fx_holds(f, "\"season_pass\" not in customer.tags"));
}

static void table_lookups_hit_or_are_missing(void **state)
{
    fx *f = *state;
    assert_value(fx_eval(f, "tables.zone_price[item.zone]", TSR_T_MONEY), TSR_T_MONEY, 9500);
    assert_value(fx_eval(f, "tables.zone_price[item.zone]", TSR_T_MISSING), TSR_T_DECIMAL,
                 95000000);
    f->lines[0][I_ZONE] = vstr("D");
    assert_missing(fx_eval(f, "tables.zone_price[item.zone]", TSR_T_MONEY));
    f->ctx.item = f->lines[1];   /* no zone at all */
    assert_missing(fx_eval(f, "tables.zone_price[item.zone]", TSR_T_MONEY));
    /* Unsorted keys are searched linearly. */
    f->lines[1][I_ZONE] = vstr("alpha");
    assert_str_value(fx_eval(f, "tables.labels[item.zone]", TSR_T_MISSING), "first");
    f->lines[1][I_ZONE] = vstr("zeta");
    assert_str_value(fx_eval(f, "tables.labels[item.zone]", TSR_T_MISSING), "last");
    assert_str_value(fx_eval(f, "tables.labels[lower(\"ZETA\")]", TSR_T_MISSING), "last");
    f->lines[1][I_ZONE] = vstr("ALPHA");
    assert_str_value(fx_eval(f, "tables.labels[lower(item.zone)]", TSR_T_MISSING), "first");
    /* The category price of the SPEC example. */
    tsr_value v = fx_eval(f, "2200.00 if weekday(now) >= 6 or date(now) in tables.holidays else "
                             "1800.00", TSR_T_MONEY);
    assert_value(v, TSR_T_MONEY, 220000);
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-10T10:00:00+03:00");
    v = fx_eval(f, "2200.00 if weekday(now) >= 6 or date(now) in tables.holidays else 1800.00",
                TSR_T_MONEY);
    assert_value(v, TSR_T_MONEY, 180000);
}

static void segments_promos_and_tier_are_read_from_the_context(void **state)
{
    fx *f = *state;
    assert_false(fx_holds(f, "segment.first_timer"));
    assert_true(fx_holds(f, "segment.season_pass"));
    assert_true(fx_holds(f, "promo.doctors and not promo.summer"));
    assert_false(fx_holds(f, "tier == \"gold\""));
    assert_false(fx_holds(f, "tier != \"gold\""));
    f->ctx.tier = vstr("gold");
    assert_true(fx_holds(f, "tier == \"gold\""));
    assert_value(fx_eval(f, "segment.frequent", TSR_T_BOOL), TSR_T_BOOL, 1);
}

static void strings_compare_bytewise_and_map_ascii_case(void **state)
{
    fx *f = *state;
    assert_true(fx_holds(f, "item.sku == \"PARK-DAY\""));
    assert_true(fx_holds(f, "item.sku < \"PARL\""));
    assert_true(fx_holds(f, "item.zone > \"A\" and item.zone < \"BB\""));
    assert_true(fx_holds(f, "lower(item.sku) == \"park-day\""));
    assert_true(fx_holds(f, "upper(lower(item.sku)) == item.sku"));
    assert_true(fx_holds(f, "starts_with(item.sku, \"PARK\")"));
    assert_true(fx_holds(f, "starts_with(lower(item.sku), \"park\")"));
    assert_false(fx_holds(f, "starts_with(item.sku, \"park\")"));
    assert_true(fx_holds(f, "starts_with(item.sku, \"\")"));
    assert_false(fx_holds(f, "starts_with(item.zone, \"Bee\")"));
    assert_value(fx_eval(f, "len(item.sku)", TSR_T_MISSING), TSR_T_INT, 8);
    assert_str_value(fx_eval(f, "lower(item.sku)", TSR_T_MISSING), "park-day");
    assert_str_value(fx_eval(f, "max(item.zone, \"AB\")", TSR_T_MISSING), "B");
    f->lines[0][I_ZONE] = vstr("Zürich");
    assert_value(fx_eval(f, "len(item.zone)", TSR_T_MISSING), TSR_T_INT, 6);
    assert_true(fx_holds(f, "upper(item.zone) == \"ZüRICH\""));   /* ASCII only */
}

static void matches_finds_the_pattern_anywhere(void **state)
{
    fx *f = *state;
    assert_true(fx_holds(f, "matches(item.sku, \"ARK\")"));
    assert_true(fx_holds(f, "matches(item.sku, \"^PARK-[A-Z]+$\")"));
    assert_false(fx_holds(f, "matches(item.sku, \"^ARK\")"));
    assert_true(fx_holds(f, "matches(item.sku, '\\d') == false"));
    assert_true(fx_holds(f, "matches(lower(item.sku), \"^park-\")"));
    assert_false(fx_holds(f, "matches(item.category, \".*\")"));   /* missing */
    f->lines[0][I_ZONE] = vstr("Zürich");
    assert_true(fx_holds(f, "matches(item.zone, \"^Z.rich$\")"));   /* UTF mode: ü is one */
}

static void a_regex_limit_is_an_error_not_a_non_match(void **state)
{
    fx *f = *state;
    tsr_regex_pool *small;
    assert_int_equal(tsr__regex_pool_new(&small, &f->alloc, 1000, 1000, 1024), TSR_OK);
    f->env.regexes = small;
    f->lines[0][I_ZONE] = vstr("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
    fx_eval_fails(f, "matches(item.zone, \"^(a+)+$\")", TSR_EEVAL,
                  "pattern `^(a+)+$` hit the match limit in `matches(item.zone, \"^(a+)+$\")`");
    tsr_expr *e = fx_compile(f, "not matches(item.zone, \"^(a+)+$\")", TSR_T_BOOL);
    bool h = true;
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_EEVAL);
    f->env.regexes = f->pool;
    tsr__regex_pool_free(small);
}

/* ---------------------------------------------------------------------
 * Conditions and their `why`.
 */
static void why_names_the_first_failing_operand_of_an_and_chain(void **state)
{
    fx *f = *state;
    tsr_expr *e = fx_compile(f, "item.kind == \"ticket\" and item.height_cm >= 100 and "
                                "item.height_cm < 130", TSR_T_BOOL);
    bool h;
    const char *why = NULL;
    size_t wl = 0;
    f->ctx.item = f->lines[2];   /* 95 cm */
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, &why, &wl), TSR_OK);
    assert_false(h);
    assert_int_equal(wl, strlen("item.height_cm >= 100"));
    assert_memory_equal(why, "item.height_cm >= 100", wl);
    f->ctx.item = f->lines[1];   /* fnb */
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, &why, &wl), TSR_OK);
    assert_false(h);
    assert_memory_equal(why, "item.kind == \"ticket\"", wl);
    f->ctx.item = f->lines[0];
    why = NULL;
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, &why, &wl), TSR_OK);
    assert_true(h);
    assert_null(why);

    e = fx_compile(f, "customer.member and (segment.first_timer or item.zone == \"C\")",
                   TSR_T_BOOL);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, &why, &wl), TSR_OK);
    assert_false(h);
    assert_int_equal(wl, strlen("(segment.first_timer or item.zone == \"C\")"));
    assert_memory_equal(why, "(segment.first_timer or item.zone == \"C\")", wl);

    /* Not an and-chain: the whole expression. */
    e = fx_compile(f, "  segment.first_timer or item.zone == \"C\" ", TSR_T_BOOL);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, &why, &wl), TSR_OK);
    assert_false(h);
    assert_int_equal(wl, strlen("segment.first_timer or item.zone == \"C\""));
    assert_memory_equal(why, "segment.first_timer or item.zone == \"C\"", wl);

    e = fx_compile(f, "false", TSR_T_BOOL);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, &why, &wl), TSR_OK);
    assert_false(h);
    assert_memory_equal(why, "false", 5);
}

static void a_field_of_the_wrong_runtime_type_is_reported(void **state)
{
    fx *f = *state;
    f->lines[0][I_HEIGHT] = vstr("tall");
    fx_eval_fails(f, "item.height_cm > 100", TSR_EEVAL, "item field 8 holds a string where a int");
}

static void a_simple_condition_evaluates_fast(void **state)
{
    fx *f = *state;
    tsr_expr *e = fx_compile(f, "item.height_cm >= 100 and item.height_cm < 130", TSR_T_BOOL);
    bool h;
    long held = 0;
    for (int i = 0; i < 1000000; i++) {
        f->ctx.item = f->lines[i % 3];
        assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_OK);
        held += h;
    }
    assert_int_equal(held, 333334);
}

/* ---------------------------------------------------------------------
 * Conditions answered inline (tsr__expr_fast_test): the same answer, the
 * same trace text and the same steps as tsr__expr_test, on every line of
 * the fixture, for each fused form.
 */

/* e's inline answer on line `line` (-1: no line) against the full path's,
 * starting both from a budget of 1000 steps.  Returns the answer. */
static bool fast_agrees_on(fx *f, const tsr_expr *e, int line)
{
    bool fast_h = false, full_h = false;
    const char *why = NULL;
    size_t wl = 0;
    uint32_t failed = UINT32_MAX;
    int64_t fast_steps, full_steps;

    f->ctx.item = line >= 0 ? f->lines[line] : NULL;
    tsr__expr_ctx_budget(&f->ctx, 1000);
    if (tsr__expr_fast_test(e, &f->ctx, &fast_h, &failed) != 1)
        fail_msg("`%s` on line %d: not answered inline", e->src, line);
    fast_steps = 1000 - f->ctx.steps_left;
    tsr__expr_ctx_budget(&f->ctx, 1000);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &full_h, &why, &wl), TSR_OK);
    full_steps = 1000 - f->ctx.steps_left;
    tsr__expr_ctx_budget(&f->ctx, 0);
    if (fast_h != full_h)
        fail_msg("`%s` on line %d: inline %d, full %d", e->src, line, fast_h, full_h);
    assert_int_equal(fast_steps, full_steps);
    assert_int_equal(fast_steps, e->cost);
    if (!fast_h) {
        assert_true(failed < e->nfast);
        assert_int_equal(wl, e->fast[failed].len);
        assert_ptr_equal(why, e->src + e->fast[failed].off);
    }
    return fast_h;
}

/* e has no inline answer on line `line` (-1: no line), and asking charged nothing. */
static void fast_declines(fx *f, const tsr_expr *e, int line)
{
    bool h = true;
    uint32_t failed = 0;
    int64_t before;

    f->ctx.item = line >= 0 ? f->lines[line] : NULL;
    before = f->ctx.steps_left;
    assert_int_equal(tsr__expr_fast_test(e, &f->ctx, &h, &failed), 0);
    assert_true(f->ctx.steps_left == before);   /* charged nothing */
}

/* Compile src, check it has an inline form of n conjuncts (0: none), and
 * check it agrees with the full path on lines 0, 1, 2; returns the answers as bits
 * (bit k: line k holds). */
static unsigned fast_agrees(fx *f, const char *src, unsigned n)
{
    tsr_expr *e = fx_compile(f, src, TSR_T_BOOL);
    unsigned bits = 0;

    if (e->nfast != n)
        fail_msg("`%s`: %u inline conjuncts, expected %u", src, e->nfast, n);
    for (int k = 0; k < 3; k++) {
        bool h = false;
        if (n) {
            bits |= (unsigned)fast_agrees_on(f, e, k) << k;
            continue;
        }
        fast_declines(f, e, k);
        assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_OK);
        bits |= (unsigned)h << k;
    }
    return bits;
}

static void fused_comparisons_answer_each_operator_as_the_walker(void **state)
{
    fx *f = *state;   /* heights: line 0 118, line 1 missing, line 2 95 */

    assert_int_equal(fast_agrees(f, "item.height_cm == 118", 1), 1u);
    assert_int_equal(fast_agrees(f, "item.height_cm != 118", 1), 4u);   /* missing: false */
    assert_int_equal(fast_agrees(f, "item.height_cm < 118", 1), 4u);
    assert_int_equal(fast_agrees(f, "item.height_cm <= 118", 1), 5u);
    assert_int_equal(fast_agrees(f, "item.height_cm > 95", 1), 1u);
    assert_int_equal(fast_agrees(f, "item.height_cm >= 95", 1), 5u);
    /* the constant on the left and `not` fold into the relation */
    assert_int_equal(fast_agrees(f, "100 <= item.height_cm", 1), 1u);
    /* `not` of a comparison holds where the field is missing: the walker */
    assert_int_equal(fast_agrees(f, "not (item.height_cm < 100)", 0), 3u);
    /* strings: == and != only; missing on line 1 */
    assert_int_equal(fast_agrees(f, "item.zone == \"B\"", 1), 1u);
    assert_int_equal(fast_agrees(f, "item.zone != \"B\"", 1), 4u);
    assert_int_equal(fast_agrees(f, "item.kind == \"fnb\"", 1), 2u);
    /* money, dates, order and customer fields */
    assert_int_equal(fast_agrees(f, "item.price >= 150.00", 1), 6u);
    assert_int_equal(fast_agrees(f, "customer.birthday < date(\"2016-01-01\")", 1), 7u);
    assert_int_equal(fast_agrees(f, "customer.visits > 100", 1), 0u);
}

static void fused_band_chains_and_flags_answer_as_the_walker(void **state)
{
    fx *f = *state;

    assert_int_equal(fast_agrees(f, "item.height_cm >= 100 and item.height_cm < 130", 2), 1u);
    assert_int_equal(fast_agrees(f, "item.height_cm >= 90 and item.height_cm < 100", 2), 4u);
    assert_int_equal(fast_agrees(f, "item.kind == \"ticket\" and item.height_cm < 130 and "
                                    "item.zone != \"A\"", 3), 1u);
    /* a bool field alone or in a chain (member: true; validated: missing) */
    assert_int_equal(fast_agrees(f, "customer.member", 1), 7u);
    assert_int_equal(fast_agrees(f, "item.validated", 1), 0u);
    assert_int_equal(fast_agrees(f, "customer.member and item.kind == \"ticket\"", 2), 5u);
    /* segments (first_timer 0, frequent 1) and promo codes (doctors 1, summer 0) */
    assert_int_equal(fast_agrees(f, "segment.frequent", 1), 7u);
    assert_int_equal(fast_agrees(f, "segment.first_timer", 1), 0u);
    assert_int_equal(fast_agrees(f, "promo.doctors and item.price > 0.00", 2), 6u);
    assert_int_equal(fast_agrees(f, "promo.summer", 1), 0u);
    /* up to 8 conjuncts */
    assert_int_equal(fast_agrees(f, "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0 and item.kind != \"fnb\"", 8), 5u);

    /* the rest stays with the walker */
    assert_int_equal(fast_agrees(f, "item.zone < \"C\"", 0), 5u);
    assert_int_equal(fast_agrees(f, "item.height_cm < 100 or item.zone == \"B\"", 0), 5u);
    assert_int_equal(fast_agrees(f, "item.height_cm < 130 and (item.zone == \"B\" or "
                                    "item.zone == \"A\")", 0), 5u);
    assert_int_equal(fast_agrees(f, "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0 and item.quantity > 0 and "
                                    "item.quantity > 0", 0), 7u);
    assert_int_equal(fast_agrees(f, "count(items, item.quantity > 1) > 0", 0), 7u);
}

static void a_fused_comparison_leaves_a_wrong_type_to_the_walker(void **state)
{
    fx *f = *state;
    tsr_expr *e = fx_compile(f, "item.kind == \"ticket\" and item.height_cm > 100", TSR_T_BOOL);
    bool h;

    f->lines[0][I_HEIGHT] = vstr("tall");
    tsr__expr_ctx_budget(&f->ctx, 1000);
    fast_declines(f, e, 0);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_EEVAL);
    assert_non_null(strstr(f->err.message, "item field 8 holds a string where a int"));
    /* a line whose earlier conjunct fails never reads it, inline too */
    f->lines[1][I_HEIGHT] = vstr("tall");
    assert_false(fast_agrees_on(f, e, 1));
    /* a bool field holding something else */
    e = fx_compile(f, "customer.member", TSR_T_BOOL);
    f->customer[C_MEMBER] = vnum(TSR_T_INT, 1);
    fast_declines(f, e, -1);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_EEVAL);
}

static void a_fused_chain_is_charged_the_steps_it_replaces(void **state)
{
    fx *f = *state;
    tsr_expr *e = fx_compile(f, "item.height_cm >= 100 and item.height_cm < 130", TSR_T_BOOL);
    bool h = false;
    uint32_t failed;

    /* the and and its two comparisons */
    assert_int_equal(e->cost, 3);
    f->ctx.item = f->lines[0];
    tsr__expr_ctx_budget(&f->ctx, 3);
    assert_int_equal(tsr__expr_fast_test(e, &f->ctx, &h, &failed), 1);
    assert_true(h);
    assert_true(f->ctx.steps_left == 0);
    /* one more evaluation does not fit: declined, and the walker stops it */
    fast_declines(f, e, 0);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_ELIMIT);
    assert_non_null(strstr(f->err.message, "more than 3 expression steps"));
    /* nor does it fit in 2 */
    tsr__expr_ctx_budget(&f->ctx, 2);
    fast_declines(f, e, 0);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_ELIMIT);
    /* a context without a budget */
    tsr__expr_ctx_budget(&f->ctx, 0);
    assert_int_equal(tsr__expr_test(e, &f->ctx, &h, NULL, NULL), TSR_OK);
    assert_int_equal(tsr__expr_fast_test(e, &f->ctx, &h, &failed), 1);
    assert_true(h);
}

/* Conjuncts answered out of line (tsr__expr_fast_call): a constant in a
 * list field, calendar functions of `now` or of a date field compared with
 * a constant, birthday_within of two date fields.  Order 2026-06-13T14:30
 * +03:00, a Saturday; customer born 2015-06-15 (a Monday), tags
 * [season_pass, vip]; line 0's show 2026-06-20T19:00+03:00 (a Saturday). */
static void fused_lists_and_calendar_answer_as_the_walker(void **state)
{
    fx *f = *state;

    assert_int_equal(fast_agrees(f, "\"season_pass\" in customer.tags", 1), 7u);
    assert_int_equal(fast_agrees(f, "\"gold\" in customer.tags", 1), 0u);
    assert_int_equal(fast_agrees(f, "weekday(now) >= 6", 1), 7u);
    assert_int_equal(fast_agrees(f, "6 > weekday(now)", 1), 0u);   /* constant on the left */
    assert_int_equal(fast_agrees(f, "weekday(now) != 6", 1), 0u);
    assert_int_equal(fast_agrees(f, "hour(now) < 12", 1), 0u);
    assert_int_equal(fast_agrees(f, "hour(now) == 14", 1), 7u);
    assert_int_equal(fast_agrees(f, "minute(now) == 30", 1), 7u);
    assert_int_equal(fast_agrees(f, "date(now) >= date(\"2026-06-13\")", 1), 7u);
    assert_int_equal(fast_agrees(f, "date(now) > date(\"2026-06-13\")", 1), 0u);
    assert_int_equal(fast_agrees(f, "weekday(customer.birthday) == 1", 1), 7u);
    /* a line field: present on line 0 only */
    assert_int_equal(fast_agrees(f, "weekday(item.event_start) == 6", 1), 1u);
    assert_int_equal(fast_agrees(f, "hour(item.event_start) >= 19", 1), 1u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 2)", 1), 7u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 1)", 1), 0u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 0)", 1), 0u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, item.event_start, 5)",
                                 1), 1u);
    assert_int_equal(fast_agrees(f, "customer.member and \"vip\" in customer.tags and "
                                    "weekday(now) >= 6 and item.kind == \"ticket\"", 4), 5u);

    /* the rest stays with the walker */
    assert_int_equal(fast_agrees(f, "customer.id in customer.tags", 0), 0u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), "
                                    "customer.visits)", 0), 7u);
    assert_int_equal(fast_agrees(f, "weekday(now) >= customer.visits", 0), 7u);
    assert_int_equal(fast_agrees(f, "weekday(now + days(1)) == 7", 0), 7u);

    /* the order on a Tuesday, at 09:05 */
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-16T09:05:00+03:00");
    assert_int_equal(fast_agrees(f, "weekday(now) >= 6", 1), 0u);
    assert_int_equal(fast_agrees(f, "hour(now) < 12 and minute(now) == 5", 2), 7u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 1)", 1), 7u);

    /* the birthday itself (k 0, answered inline), and the day before */
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-15T00:30:00+03:00");
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 0)", 1), 7u);
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-14T23:59:00+03:00");
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 0)", 1), 0u);
}

/* A customer without tags or birthday, no customer at all, an order
 * without `now`: each missing value is false inline as in the walker, and
 * the second argument of birthday_within is not read when the first is
 * missing (not even to report its type). */
static void fused_lists_and_calendar_treat_missing_values_as_the_walker(void **state)
{
    fx *f = *state;

    f->customer[TSR_CUST_TAGS] = tsr__missing();
    f->customer[C_BIRTHDAY] = tsr__missing();
    assert_int_equal(fast_agrees(f, "\"season_pass\" in customer.tags", 1), 0u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 2)", 1), 0u);
    assert_int_equal(fast_agrees(f, "weekday(customer.birthday) == 1", 1), 0u);
    f->order[TSR_ORDER_DATETIME] = vstr("not a datetime");
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 2)", 1), 0u);

    /* no customer: every field missing */
    for (int k = 0; k < C__N; k++)
        f->customer[k] = tsr__missing();
    f->order[TSR_ORDER_DATETIME] = vdt("2026-06-13T14:30:00+03:00");
    assert_int_equal(fast_agrees(f, "\"season_pass\" in customer.tags", 1), 0u);
    assert_int_equal(fast_agrees(f, "birthday_within(customer.birthday, date(now), 2)", 1), 0u);
    assert_int_equal(fast_agrees(f, "weekday(now) >= 6", 1), 7u);

    /* no `now` */
    f->order[TSR_ORDER_DATETIME] = tsr__missing();
    assert_int_equal(fast_agrees(f, "weekday(now) >= 6", 1), 0u);
    assert_int_equal(fast_agrees(f, "hour(now) < 23", 1), 0u);
    assert_int_equal(fast_agrees(f, "date(now) >= date(\"2000-01-01\")", 1), 0u);
}

/* A field of another type than declared: not answered inline, and the
 * walker reports it. */
static void fused_lists_and_calendar_leave_a_wrong_type_to_the_walker(void **state)
{
    fx *f = *state;
    tsr_expr *in = fx_compile(f, "\"vip\" in customer.tags", TSR_T_BOOL);
    tsr_expr *bd = fx_compile(f, "birthday_within(customer.birthday, date(now), 2)", TSR_T_BOOL);
    tsr_expr *wd = fx_compile(f, "weekday(now) >= 6", TSR_T_BOOL);
    bool h;

    tsr__expr_ctx_budget(&f->ctx, 1000);
    f->customer[TSR_CUST_TAGS] = vstr("vip");
    fast_declines(f, in, -1);
    assert_int_equal(tsr__expr_test(in, &f->ctx, &h, NULL, NULL), TSR_EEVAL);
    assert_non_null(strstr(f->err.message, "holds a string where a list was declared"));

    f->customer[C_BIRTHDAY] = vstr("2015-06-15");
    fast_declines(f, bd, -1);
    assert_int_equal(tsr__expr_test(bd, &f->ctx, &h, NULL, NULL), TSR_EEVAL);
    assert_non_null(strstr(f->err.message, "holds a string where a date was declared"));

    f->customer[C_BIRTHDAY] = vdate("2015-06-15");
    f->order[TSR_ORDER_DATETIME] = vnum(TSR_T_INT, 7);
    fast_declines(f, bd, -1);
    fast_declines(f, wd, -1);
    assert_int_equal(tsr__expr_test(wd, &f->ctx, &h, NULL, NULL), TSR_EEVAL);
    assert_non_null(strstr(f->err.message, "holds a int where a datetime was declared"));
}

/* `K1 if CONDITION else K2` with constant branches and an inline
 * condition: tsr__expr_eval's value and steps are the walker's
 * (tsr__prog_eval walks the program), and a budget too small for it stops
 * the evaluation as the walker does. */
static void a_choice_of_constants_is_valued_as_the_walker(void **state)
{
    fx *f = *state;
    static const char *const srcs[] = {
        "50.00 if weekday(now) >= 6 else 40.00",
        "50.00 if weekday(now) >= 6 and \"vip\" in customer.tags else 40.00",
        "1.00 if customer.member and birthday_within(customer.birthday, date(now), 2) else 0",
    };
    static const char *const nows[] = { "2026-06-13T14:30:00+03:00", "2026-06-16T09:05:00+03:00" };

    for (size_t i = 0; i < sizeof srcs / sizeof *srcs; i++) {
        tsr_expr *e = fx_compile(f, srcs[i], TSR_T_MONEY);
        const tsr_prog *p = e->code;
        assert_true(e->ncond_fast > 0);
        for (size_t k = 0; k < 2; k++) {
            tsr_value fast, full;
            int64_t steps;
            f->order[TSR_ORDER_DATETIME] = vdt(nows[k]);
            tsr__expr_ctx_budget(&f->ctx, 1000);
            assert_int_equal(tsr__expr_eval(e, &f->ctx, &fast), TSR_OK);
            steps = 1000 - f->ctx.steps_left;
            assert_int_equal(steps, e->cost);
            assert_int_equal(tsr__prog_eval(p, p->root, e->src, &f->ctx, &full), TSR_OK);
            assert_int_equal(fast.type, TSR_T_MONEY);
            assert_int_equal(fast.type, full.type);
            assert_true(fast.u.i == full.u.i);
        }
        /* one step short: stopped, with the walker's message */
        tsr__expr_ctx_budget(&f->ctx, e->cost - 1);
        tsr_value v;
        assert_int_equal(tsr__expr_eval(e, &f->ctx, &v), TSR_ELIMIT);
        assert_non_null(strstr(f->err.message, "expression steps (max_eval_steps)"));
        tsr__expr_ctx_budget(&f->ctx, 0);
    }
    /* Saturday: the first branch; Tuesday: the second */
    f->order[TSR_ORDER_DATETIME] = vdt(nows[0]);
    assert_value(fx_eval(f, srcs[0], TSR_T_MONEY), TSR_T_MONEY, 5000);
    f->order[TSR_ORDER_DATETIME] = vdt(nows[1]);
    assert_value(fx_eval(f, srcs[0], TSR_T_MONEY), TSR_T_MONEY, 4000);
    /* a branch that is no constant, or a condition the walker must run */
    assert_int_equal(fx_compile(f, "item.price if weekday(now) >= 6 else 40.00",
                                TSR_T_MONEY)->ncond_fast, 0);
    assert_int_equal(fx_compile(f, "50.00 if weekday(now) >= 6 or customer.member else 40.00",
                                TSR_T_MONEY)->ncond_fast, 0);
    /* a wrong type: left to the walker, which reports it */
    f->order[TSR_ORDER_DATETIME] = vstr("x");
    tsr__expr_ctx_budget(&f->ctx, 1000);
    {
        tsr_value v;
        tsr_expr *e = fx_compile(f, srcs[0], TSR_T_MONEY);
        assert_int_equal(tsr__expr_eval(e, &f->ctx, &v), TSR_EEVAL);
        assert_non_null(strstr(f->err.message, "where a datetime was declared"));
    }
}

/* The field a failing condition reads and the line does not carry, so
 * that an order error can say why a condition was false. */
static void a_missing_field_of_the_line_is_named(void **state)
{
    fx *f = *state;
    tsr_expr *e;
    const char *first = "item.kind == \"fnb\"";

    f->ctx.item = f->lines[1];   /* fnb: no height, no zone */
    e = fx_compile(f, "item.height_cm < 130", TSR_T_BOOL);
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)e->src_len),
                     I_HEIGHT);
    e = fx_compile(f, "item.kind == \"fnb\" and item.zone == \"A\"", TSR_T_BOOL);
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)e->src_len), I_ZONE);
    /* only within the range asked about */
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)strlen(first)), -1);
    e = fx_compile(f, "not has(item.validated)", TSR_T_BOOL);
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)e->src_len),
                     I_VALIDATED);
    /* inside an aggregate, `item` is another line */
    e = fx_compile(f, "any(items, item.height_cm > 100) and item.quantity > 5", TSR_T_BOOL);
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)e->src_len), -1);
    e = fx_compile(f, "age(customer.birthday, date(item.event_start)) < 27", TSR_T_BOOL);
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)e->src_len),
                     I_EVENT_START);
    /* a line that carries them */
    f->ctx.item = f->lines[0];
    e = fx_compile(f, "item.height_cm < 100", TSR_T_BOOL);
    assert_int_equal(tsr__expr_missing_item_field(e, f->ctx.item, 0, (uint32_t)e->src_len), -1);
}

/* ---------------------------------------------------------------------
 * Step 3 (lib/eval.c): a category the order names.
 */
static const char choice_rules[] =
    "tessera: 1\nruleset: choice\ncurrency: EUR\n"
    "schema: { item: { age: int } }\n"
    "categories:\n"
    "  - { id: child, for: item.kind == \"ticket\", when: item.age < 16, price: 5.00 }\n"
    "  - { id: adult, for: item.kind == \"ticket\", price: 20.00 }\n"
    "  - { id: student, for: item.kind == \"ticket\", when: item.age < 27, selectable: true,"
    " price: 12.00 }\n"
    "  - { id: companion, for: item.kind == \"ticket\", selectable: true }\n"
    "  - { id: staff, for: item.kind == \"ticket\", channels: [till], selectable: true,"
    " price: 0.00 }\n";

static tsr_ruleset *choice_load(void)
{
    tsr_ruleset *rs = NULL;
    tsr_error err;
    if (tsr_ruleset_load_string(&rs, choice_rules, strlen(choice_rules), "choice.yaml", NULL,
                                &err) != TSR_OK)
        fail_msg("rule set did not load: %s", err.message);
    return rs;
}

/* Evaluate {"datetime": ..., ORDER_EXTRA, "items": [ITEMS]}: TSR_OK and
 * the result, or the status with err filled and *out NULL. */
static int choice_eval(const tsr_ruleset *rs, const char *extra, const char *items, int trace,
                       tsr_result **out, tsr_error *err)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    char text[1024];

    o.no_trace = !trace;
    snprintf(text, sizeof text, "{\"datetime\": \"2026-06-10T11:00:00+02:00\"%s, \"items\": [%s]}",
             extra, items);
    *out = (tsr_result *)1;   /* must become NULL on failure */
    return tsr_evaluate_text(out, rs, text, strlen(text), &o, err);
}

static void expect_refused(const tsr_ruleset *rs, const char *extra, const char *items,
                           const char *path, const char *message)
{
    for (int trace = 0; trace <= 1; trace++) {   /* the same refusal, traced or not */
        tsr_result *r;
        tsr_error err;
        int rc = choice_eval(rs, extra, items, trace, &r, &err);
        if (rc != TSR_EORDER || r != NULL || strcmp(err.path, path) != 0 ||
            strcmp(err.message, message) != 0)
            fail_msg("items [%s]: want %s: %s\n got %d %s: %s", items, path, message, rc,
                     err.path, err.message);
    }
}

static void an_order_names_only_a_selectable_category_whose_conditions_hold(void **state)
{
    tsr_ruleset *rs = choice_load();
    tsr_result *r;
    tsr_error err;
    (void)state;

    /* accepted: the category and its price, the other lines matched */
    assert_int_equal(choice_eval(rs, "", "{\"id\": \"s\", \"kind\": \"ticket\", \"age\": 22,"
                                 " \"category\": \"student\"}, {\"id\": \"a\", \"kind\": \"ticket\","
                                 " \"age\": 22}", 1, &r, &err), TSR_OK);
    assert_string_equal(tsr_result_line_category(r, 0), "student");
    assert_int_equal(tsr_result_line_total(r, 0), 1200);
    assert_string_equal(tsr_result_line_category(r, 1), "adult");
    assert_int_equal(tsr_result_line_total(r, 1), 2000);
    tsr_result_free(r);
    /* a selectable category without a price keeps the line's */
    assert_int_equal(choice_eval(rs, "", "{\"id\": \"c\", \"kind\": \"ticket\", \"quantity\": 2,"
                                 " \"price\": \"15.00\", \"category\": \"companion\"}", 0, &r, &err),
                     TSR_OK);
    assert_string_equal(tsr_result_line_category(r, 0), "companion");
    assert_int_equal(tsr_result_line_total(r, 0), 3000);
    tsr_result_free(r);
    assert_int_equal(choice_eval(rs, ", \"channel\": \"till\"", "{\"id\": \"s\", \"kind\": "
                                 "\"ticket\", \"category\": \"staff\"}", 0, &r, &err), TSR_OK);
    assert_int_equal(tsr_result_line_total(r, 0), 0);
    tsr_result_free(r);

    /* refused, each with what is wrong */
    expect_refused(rs, "", "{\"id\": \"s\", \"kind\": \"ticket\", \"category\": \"studnet\"}",
                   "items[0].category", "unknown category \"studnet\"; did you mean \"student\"?");
    expect_refused(rs, "", "{\"id\": \"a\", \"kind\": \"ticket\", \"age\": 40}, {\"id\": \"b\","
                   " \"kind\": \"ticket\", \"age\": 40, \"category\": \"child\"}",
                   "items[1].category",
                   "category \"child\" is not selectable: the rules assign it, an order cannot "
                   "name it; an order may name `student`, `companion`, `staff`");
    expect_refused(rs, "", "{\"id\": \"c\", \"kind\": \"fnb\", \"price\": \"9.00\", \"age\": 20,"
                   " \"category\": \"student\"}", "items[0].category",
                   "category \"student\" cannot be chosen for this line: its `for` does not hold "
                   "(`item.kind == \"ticket\"` is false)");
    expect_refused(rs, "", "{\"id\": \"s\", \"kind\": \"ticket\", \"age\": 40, \"category\":"
                   " \"student\"}", "items[0].category",
                   "category \"student\" cannot be chosen for this line: its `when` does not hold "
                   "(`item.age < 27` is false)");
    expect_refused(rs, "", "{\"id\": \"s\", \"kind\": \"ticket\", \"category\": \"student\"}",
                   "items[0].category",
                   "category \"student\" cannot be chosen for this line: its `when` does not hold "
                   "(`item.age < 27` is false: the line has no `age`)");
    expect_refused(rs, ", \"channel\": \"web\"", "{\"id\": \"s\", \"kind\": \"ticket\","
                   " \"category\": \"staff\"}", "items[0].category",
                   "category \"staff\" cannot be chosen for this line: channels: not on channel "
                   "`web`");
    tsr_ruleset_free(rs);
}

/* A builder order goes through the same checks: the setter refuses what no
 * line may name, evaluation what this line may not. */
static void a_builder_order_names_a_category_under_the_same_checks(void **state)
{
    tsr_ruleset *rs = choice_load();
    tsr_order *o = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    int line, age = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "age");
    (void)state;

    assert_int_equal(tsr_order_new(&o, rs, &err), TSR_OK);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, TSR_ORDER_DATETIME,
                                        "2026-06-10T11:00:00+02:00", 25, &err), TSR_OK);
    assert_int_equal(tsr_order_add_line(o, "s", "ticket", 1, &line, &err), TSR_OK);
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, TSR_ITEM_CATEGORY, "adult", 5,
                                          &err), TSR_EORDER);
    assert_string_equal(err.path, "items[0].category");
    assert_non_null(strstr(err.message, "category \"adult\" is not selectable"));
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, TSR_ITEM_CATEGORY, "vip", 3,
                                          &err), TSR_EORDER);
    assert_non_null(strstr(err.message, "unknown category \"vip\""));
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line, TSR_ITEM_CATEGORY, "student",
                                          7, &err), TSR_OK);
    /* no age yet: `when` cannot hold */
    assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_EORDER);
    assert_null(r);
    assert_string_equal(err.path, "items[0].category");
    assert_non_null(strstr(err.message, "(`item.age < 27` is false: the line has no `age`)"));
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, line, age, 40, &err), TSR_OK);
    assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_EORDER);
    assert_non_null(strstr(err.message, "its `when` does not hold (`item.age < 27` is false)"));
    assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, line, age, 19, &err), TSR_OK);
    assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_OK);
    assert_string_equal(tsr_result_line_category(r, 0), "student");
    assert_int_equal(tsr_result_line_total(r, 0), 1200);
    tsr_result_free(r);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* tsr__same_bytes (the inline string comparison of tsr__expr_fast_test)
 * agrees with memcmp at every length around its word sizes, for a
 * difference at each position. */
static void inline_string_comparison_agrees_with_memcmp(void **state)
{
    char a[40], b[40];
    size_t n, k;

    (void)state;
    for (n = 0; n <= 33; n++) {
        for (k = 0; k < n; k++) {
            a[k] = (char)('a' + k % 26);
            b[k] = a[k];
        }
        assert_true(tsr__same_bytes(a, b, n));
        for (k = 0; k < n; k++) {
            b[k] = 'Z';
            assert_false(tsr__same_bytes(a, b, n));
            assert_int_not_equal(memcmp(a, b, n), 0);
            b[k] = a[k];
        }
    }
}

int main(int argc, char **argv)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(comparisons_with_missing_are_false_both_ways),
        T(missing_counts_as_false_in_boolean_contexts),
        T(arithmetic_and_functions_of_missing_are_missing),
        T(has_tells_present_from_missing),
        T(integer_overflow_is_an_evaluation_error),
        T(int_division_gives_a_rounded_decimal),
        T(money_rounds_with_the_rule_set_mode),
        T(money_compares_with_numeric_constants_and_tables),
        T(arithmetic_on_a_table_price_is_money_where_money_is_expected),
        T(weekday_and_hour_use_the_values_own_offset_without_a_zone),
        T(weekday_and_hour_use_the_rule_set_zone_when_set),
        T(the_local_date_of_an_instant_is_remembered_but_never_stale),
        T(birthday_within_wraps_the_year_and_handles_29_february),
        T(days_between_and_age_count_whole_days_and_years),
        T(durations_move_datetimes_and_dates),
        T(aggregates_run_over_the_lines),
        T(nested_aggregates_see_the_innermost_item),
        T(in_tests_lists_tags_and_table_keys),
        T(table_lookups_hit_or_are_missing),
        T(segments_promos_and_tier_are_read_from_the_context),
        T(strings_compare_bytewise_and_map_ascii_case),
        T(matches_finds_the_pattern_anywhere),
        T(a_regex_limit_is_an_error_not_a_non_match),
        T(why_names_the_first_failing_operand_of_an_and_chain),
        T(a_field_of_the_wrong_runtime_type_is_reported),
        T(a_simple_condition_evaluates_fast),
        T(fused_comparisons_answer_each_operator_as_the_walker),
        T(fused_band_chains_and_flags_answer_as_the_walker),
        T(a_fused_comparison_leaves_a_wrong_type_to_the_walker),
        T(a_fused_chain_is_charged_the_steps_it_replaces),
        T(fused_lists_and_calendar_answer_as_the_walker),
        T(fused_lists_and_calendar_treat_missing_values_as_the_walker),
        T(fused_lists_and_calendar_leave_a_wrong_type_to_the_walker),
        T(a_choice_of_constants_is_valued_as_the_walker),
        T(a_missing_field_of_the_line_is_named),
        cmocka_unit_test(an_order_names_only_a_selectable_category_whose_conditions_hold),
        cmocka_unit_test(a_builder_order_names_a_category_under_the_same_checks),
        cmocka_unit_test(inline_string_comparison_agrees_with_memcmp),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
