/*
 * test_typecheck.c — name resolution, type checking and constant folding
 * (lib/expr_check.c, lib/expr_emit.c, lib/expr_compile.c): every type rule
 * and its error message, did-you-mean for fields, functions, segments,
 * tables and promo codes, names out of context, money conversion of
 * constants, folding, fusion of the compiled form, exact error positions
 * inside YAML scalars, limits, and allocation failure at every step.
 */
#include "expr_fixture.h"

static const tsr_prog *prog_of(const tsr_expr *e)
{
    return e->code;
}

static void type_is(fx *f, const char *src, tsr_type t)
{
    tsr_expr *e = fx_compile(f, src, TSR_T_MISSING);
    if (e->type != t)
        fail_msg("`%s`: want type %s, got %s", src, tsr__type_name(t),
                 tsr__type_name((tsr_type)e->type));
}

static void const_is(fx *f, const char *src, tsr_type want, tsr_type t, int64_t v)
{
    tsr_expr *e = fx_compile(f, src, want);
    if (!e->is_const || e->type != t || e->constant.type != t || e->constant.u.i != v)
        fail_msg("`%s`: want constant %s %lld, got const=%d %s %lld", src, tsr__type_name(t),
                 (long long)v, e->is_const, tsr__type_name((tsr_type)e->constant.type),
                 (long long)e->constant.u.i);
}

/* ---------------------------------------------------------------------
 * Type rules.
 */
static void numbers_promote_int_to_decimal_and_divide_exactly(void **state)
{
    fx *f = *state;
    type_is(f, "item.height_cm + 1", TSR_T_INT);
    type_is(f, "item.height_cm + 1.5", TSR_T_DECIMAL);
    type_is(f, "item.height_cm * 1.5", TSR_T_DECIMAL);
    type_is(f, "item.height_cm / 2", TSR_T_DECIMAL);
    type_is(f, "item.height_cm % 7", TSR_T_INT);
    type_is(f, "-item.height_cm", TSR_T_INT);
    const_is(f, "7 / 2", TSR_T_MISSING, TSR_T_DECIMAL, 3500000);
    const_is(f, "2 / 3", TSR_T_MISSING, TSR_T_DECIMAL, 666667);
    const_is(f, "1 + 0.5", TSR_T_MISSING, TSR_T_DECIMAL, 1500000);
    const_is(f, "0.5 * 0.5", TSR_T_MISSING, TSR_T_DECIMAL, 250000);
    const_is(f, "-7 % 3", TSR_T_MISSING, TSR_T_INT, -1);
    fx_compile_fails(f, "item.height_cm % 2.0", TSR_T_MISSING, TSR_ETYPE,
                     "cannot take the remainder of int `item.height_cm` and decimal `2.0`", 16);
    fx_compile_fails(f, "item.zone + 1", TSR_T_MISSING, TSR_ETYPE,
                     "cannot add string `item.zone` and int `1`", 11);
    fx_compile_fails(f, "-item.zone", TSR_T_MISSING, TSR_ETYPE, "cannot negate string", 1);
}

static void money_combines_with_money_and_scales_by_numbers(void **state)
{
    fx *f = *state;
    type_is(f, "item.price + item.price", TSR_T_MONEY);
    type_is(f, "item.price - 10.00", TSR_T_MONEY);
    type_is(f, "10 + item.price", TSR_T_MONEY);
    type_is(f, "item.price * 2", TSR_T_MONEY);
    type_is(f, "2 * item.price", TSR_T_MONEY);
    type_is(f, "item.price * 0.9", TSR_T_MONEY);
    type_is(f, "0.9 * item.price", TSR_T_MONEY);
    type_is(f, "item.price * item.quantity", TSR_T_MONEY);
    type_is(f, "item.price / item.price", TSR_T_DECIMAL);
    type_is(f, "item.price / 3", TSR_T_MONEY);
    type_is(f, "item.price / 1.2", TSR_T_MONEY);
    type_is(f, "-item.price", TSR_T_MONEY);
    fx_compile_fails(f, "item.price + item.height_cm", TSR_T_MISSING, TSR_ETYPE,
                     "cannot add money `item.price` and int `item.height_cm` (only numeric "
                     "constants convert to money)", 12);
    fx_compile_fails(f, "item.price * item.price", TSR_T_MISSING, TSR_ETYPE,
                     "cannot multiply money `item.price` and money `item.price`", 12);
    fx_compile_fails(f, "item.price + 0.005", TSR_T_MISSING, TSR_EVALUE,
                     "money `0.005` has more fractional digits than the currency allows (2)", 14);
    fx_compile_fails(f, "item.price % 2", TSR_T_MISSING, TSR_ETYPE, "`%` works on ints only",
                     12);
}

static void time_arithmetic_follows_the_spec(void **state)
{
    fx *f = *state;
    type_is(f, "now - item.event_start", TSR_T_DURATION);
    type_is(f, "now + hours(2)", TSR_T_DATETIME);
    type_is(f, "hours(2) + now", TSR_T_DATETIME);
    type_is(f, "item.event_start - hours(24)", TSR_T_DATETIME);
    type_is(f, "date(now) + days(1)", TSR_T_DATE);
    type_is(f, "days(1) + date(now)", TSR_T_DATE);
    type_is(f, "date(now) - date(item.event_start)", TSR_T_DURATION);
    type_is(f, "hours(1) * 3", TSR_T_DURATION);
    type_is(f, "(now - item.event_start) / hours(1)", TSR_T_DECIMAL);
    const_is(f, "days(1) + hours(2)", TSR_T_MISSING, TSR_T_DURATION, INT64_C(93600000000));
    const_is(f, "hours(1.5)", TSR_T_MISSING, TSR_T_DURATION, INT64_C(5400000000));
    const_is(f, "date(\"2026-12-31\") + days(1)", TSR_T_MISSING, TSR_T_DATE,
             vdate("2027-01-01").u.i);
    fx_compile_fails(f, "date(now) + hours(1)", TSR_T_MISSING, TSR_EVALUE,
                     "a date moves by whole days only; `hours(1)` is not a whole number of days",
                     13);
    fx_compile_fails(f, "now + 1", TSR_T_MISSING, TSR_ETYPE,
                     "cannot add datetime `now` and int `1`", 5);
    fx_compile_fails(f, "now + now", TSR_T_MISSING, TSR_ETYPE, "cannot add datetime", 5);
    fx_compile_fails(f, "date(now) * 2", TSR_T_MISSING, TSR_ETYPE, "cannot multiply date", 11);
}

static void comparisons_need_comparable_operands(void **state)
{
    fx *f = *state;
    type_is(f, "item.height_cm > 1.5", TSR_T_BOOL);
    type_is(f, "customer.spend_12m >= 50000.00", TSR_T_BOOL);
    type_is(f, "customer.spend_12m >= 50000", TSR_T_BOOL);
    type_is(f, "item.zone < \"B\"", TSR_T_BOOL);
    type_is(f, "now < item.event_start", TSR_T_BOOL);
    type_is(f, "customer.member == true", TSR_T_BOOL);
    fx_compile_fails(f, "item.zone < 3", TSR_T_BOOL, TSR_ETYPE,
                     "cannot compare string `item.zone` with int `3`", 11);
    fx_compile_fails(f, "date(now) == now", TSR_T_BOOL, TSR_ETYPE,
                     "cannot compare date `date(now)` with datetime `now` (take the date of the "
                     "datetime with `date(...)`)", 11);
    fx_compile_fails(f, "customer.member < true", TSR_T_BOOL, TSR_ETYPE,
                     "bools cannot be ordered with `<`", 17);
    fx_compile_fails(f, "item.price > item.height_cm", TSR_T_BOOL, TSR_ETYPE,
                     "cannot compare money `item.price` with int `item.height_cm` (only numeric "
                     "constants and decimal tables convert to money)", 12);
    fx_compile_fails(f, "customer.tags == \"vip\"", TSR_T_BOOL, TSR_ETYPE,
                     "cannot compare list of string `customer.tags` with string", 15);
    fx_compile_fails(f, "customer.spend_12m > 0.001", TSR_T_BOOL, TSR_EVALUE,
                     "money `0.001` has more fractional digits", 22);
}

static void logic_needs_bools(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "item.height_cm and true", TSR_T_BOOL, TSR_ETYPE,
                     "`and` needs a bool, got int `item.height_cm`", 1);
    fx_compile_fails(f, "true or 1", TSR_T_BOOL, TSR_ETYPE, "`or` needs a bool, got int `1`", 9);
    fx_compile_fails(f, "not item.zone", TSR_T_BOOL, TSR_ETYPE,
                     "`not` needs a bool, got string `item.zone`", 5);
    fx_compile_fails(f, "1 if item.zone else 2", TSR_T_MISSING, TSR_ETYPE,
                     "the condition of `if` needs a bool", 6);
    fx_compile_fails(f, "1 if true else \"a\"", TSR_T_MISSING, TSR_ETYPE,
                     "the branches of `if` have different types: int `1` and string `\"a\"`", 3);
    type_is(f, "1 if customer.member else 2.5", TSR_T_DECIMAL);
}

static void the_wanted_type_is_enforced(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "item.height_cm", TSR_T_BOOL, TSR_ETYPE,
                     "expected bool, got int `item.height_cm`", 1);
    const_is(f, "1800.00", TSR_T_MONEY, TSR_T_MONEY, 180000);
    const_is(f, "1800", TSR_T_MONEY, TSR_T_MONEY, 180000);
    const_is(f, "0.5 + 0.25", TSR_T_MONEY, TSR_T_MONEY, 75);
    fx_compile_fails(f, "1800.005", TSR_T_MONEY, TSR_EVALUE,
                     "money `1800.005` has more fractional digits than the currency allows (2)",
                     1);
    /* a literal where money is expected is money, so a per-unit price
     * times a count is a price (`item.days * 45.00`) */
    assert_int_equal(fx_compile(f, "item.height_cm * 1.5", TSR_T_MONEY)->type, TSR_T_MONEY);
    fx_compile_fails(f, "item.height_cm / 2", TSR_T_MONEY, TSR_ETYPE,
                     "expected money, got decimal `item.height_cm / 2` (only numeric constants "
                     "and decimal tables convert to money)", 1);
    const_is(f, "3", TSR_T_DECIMAL, TSR_T_DECIMAL, 3000000);
    type_is(f, "item.height_cm", TSR_T_INT);
    tsr_expr *e = fx_compile(f, "item.height_cm", TSR_T_DECIMAL);
    assert_int_equal(e->type, TSR_T_DECIMAL);
    fx_compile_fails(f, "2.5", TSR_T_INT, TSR_ETYPE, "expected int, got decimal `2.5`", 1);
    /* Branches and min/max of constants convert as a whole. */
    e = fx_compile(f, "2200.00 if weekday(now) >= 6 else 1800.00", TSR_T_MONEY);
    assert_int_equal(e->type, TSR_T_MONEY);
    assert_false(e->is_const);
    e = fx_compile(f, "min(item.price, 100.00)", TSR_T_MONEY);
    assert_int_equal(e->type, TSR_T_MONEY);
    fx_compile_fails(f, "1.00 if customer.member else 2.001", TSR_T_MONEY, TSR_EVALUE,
                     "money `2.001`", 30);
    /* Decimal tables convert when exact in the currency. */
    e = fx_compile(f, "tables.zone_price[item.zone]", TSR_T_MONEY);
    assert_int_equal(e->type, TSR_T_MONEY);
    fx_compile_fails(f, "tables.rate[item.zone]", TSR_T_MONEY, TSR_EVALUE,
                     "table `rate`: value 0.125 of key `x` has more fractional digits", 1);
    fx_compile_fails(f, "item.price > tables.rate[item.zone]", TSR_T_BOOL, TSR_EVALUE,
                     "table `rate`", 14);
    fx_compile_fails(f, "tables.zone_price", TSR_T_MISSING, TSR_ETYPE,
                     "table `zone_price` is not a value", 1);
}

static void constants_are_folded(void **state)
{
    fx *f = *state;
    const_is(f, "2 + 3 * 4", TSR_T_MISSING, TSR_T_INT, 14);
    tsr_expr *e = fx_compile(f, "2 + 3 * 4", TSR_T_MISSING);
    assert_int_equal(e->code_len, 1);
    const_is(f, "(1 + 2) * -3", TSR_T_MISSING, TSR_T_INT, -9);
    const_is(f, "true and not false", TSR_T_BOOL, TSR_T_BOOL, 1);
    const_is(f, "1 if 2 > 3 else 4", TSR_T_MISSING, TSR_T_INT, 4);
    const_is(f, "date(\"2026-12-31\")", TSR_T_MISSING, TSR_T_DATE, vdate("2026-12-31").u.i);
    const_is(f, "weekday(date(\"2026-06-13\"))", TSR_T_MISSING, TSR_T_INT, 6);
    const_is(f, "\"b\" in [\"a\", \"b\"]", TSR_T_BOOL, TSR_T_BOOL, 1);
    const_is(f, "2 in [1, 2.5]", TSR_T_BOOL, TSR_T_BOOL, 0);
    const_is(f, "len(\"héllo\")", TSR_T_MISSING, TSR_T_INT, 5);
    const_is(f, "abs(-4)", TSR_T_MISSING, TSR_T_INT, 4);
    const_is(f, "floor(-3.5)", TSR_T_MISSING, TSR_T_INT, -4);
    const_is(f, "max(2, 3.5)", TSR_T_MISSING, TSR_T_DECIMAL, 3500000);
    const_is(f, "days_between(date(\"2026-01-01\"), date(\"2026-03-01\"))", TSR_T_MISSING,
             TSR_T_INT, 59);
    const_is(f, "tables.zone_price[\"B\"]", TSR_T_MONEY, TSR_T_MONEY, 9500);
    const_is(f, "len(tables.holidays)", TSR_T_MISSING, TSR_T_INT, 3);

    e = fx_compile(f, "lower(\"AbC\")", TSR_T_MISSING);
    assert_true(e->is_const);
    assert_int_equal(e->constant.flags, 0);
    assert_int_equal(e->constant.len, 3);
    assert_memory_equal(e->constant.u.s, "abc", 3);

    e = fx_compile(f, "[1, 2.5]", TSR_T_MISSING);
    assert_true(e->is_const);
    assert_int_equal(e->type, TSR_T_LIST);
    assert_int_equal(e->elem, TSR_T_DECIMAL);
    assert_int_equal(e->constant.len, 2);
    assert_int_equal(e->constant.u.list[0].type, TSR_T_DECIMAL);
    assert_int_equal(e->constant.u.list[0].u.i, 1000000);

    /* Local dates depend on the rule set's zone: never folded. */
    e = fx_compile(f, "date(datetime(\"2026-06-13T23:30:00Z\"))", TSR_T_MISSING);
    assert_false(e->is_const);
}

static void overflow_while_folding_is_a_load_error(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "9223372036854775807 + 1", TSR_T_MISSING, TSR_EVALUE,
                     "arithmetic overflow in `9223372036854775807 + 1`", 1);
    fx_compile_fails(f, "customer.visits > 2 * 9223372036854775807", TSR_T_BOOL, TSR_EVALUE,
                     "arithmetic overflow in `2 * 9223372036854775807`", 19);
    fx_compile_fails(f, "abs(-9223372036854775808)", TSR_T_MISSING, TSR_EVALUE,
                     "arithmetic overflow", 1);
    fx_compile_fails(f, "1 / 0", TSR_T_MISSING, TSR_EVALUE, "division by zero in `1 / 0`", 3);
    /* A constant zero divisor is found even when the dividend is not constant. */
    fx_compile_fails(f, "item.height_cm % (3 - 3)", TSR_T_MISSING, TSR_EVALUE,
                     "division by zero in `item.height_cm % (3 - 3)`", 16);
    fx_compile_fails(f, "item.price / 0", TSR_T_MISSING, TSR_EVALUE, "division by zero", 12);
}

static void the_commonest_conditions_compile_to_fused_ops(void **state)
{
    fx *f = *state;
    tsr_expr *e = fx_compile(f, "item.height_cm >= 100", TSR_T_BOOL);
    assert_int_equal(e->code_len, 1);
    assert_int_equal(prog_of(e)->ops[0].op, OP_CMP_FK);
    e = fx_compile(f, "100 <= item.height_cm", TSR_T_BOOL);
    assert_int_equal(e->code_len, 1);
    assert_int_equal(prog_of(e)->ops[0].aux2, REL_GE);
    e = fx_compile(f, "item.height_cm >= 100 and item.height_cm < 130", TSR_T_BOOL);
    assert_int_equal(e->code_len, 3);
    assert_int_equal(prog_of(e)->ops[prog_of(e)->root].op, OP_AND);
    e = fx_compile(f, "item.kind == \"ticket\"", TSR_T_BOOL);
    assert_int_equal(e->code_len, 1);
    e = fx_compile(f, "has(item.price)", TSR_T_BOOL);
    assert_int_equal(e->code_len, 1);
    assert_int_equal(prog_of(e)->ops[0].op, OP_HAS_F);
    /* The source is kept, NUL-terminated. */
    assert_string_equal(e->src, "has(item.price)");
    assert_int_equal(e->src_len, 15);
}

static void field_comparisons_can_be_listed_for_lint(void **state)
{
    fx *f = *state;
    tsr_expr_cmp c[4];
    tsr_expr *e = fx_compile(f, "item.height_cm >= 100 and 130 > item.height_cm", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 2);
    assert_int_equal(c[0].kind, TSR_CMP_FIELD);
    assert_int_equal(c[0].record, TSR_REC_ITEM);
    assert_int_equal(c[0].slot, I_HEIGHT);
    assert_int_equal(c[0].type, TSR_T_INT);
    assert_int_equal(c[0].rel, TSR_REL_GE);
    assert_value(c[0].constant, TSR_T_INT, 100);
    assert_int_equal(c[1].rel, TSR_REL_LT);   /* turned around: the field on the left */
    assert_value(c[1].constant, TSR_T_INT, 130);
    assert_int_equal(c[1].src_len, strlen("130 > item.height_cm"));
    assert_memory_equal(c[1].src, "130 > item.height_cm", c[1].src_len);
    assert_true(tsr__expr_same_subject(e, &c[0], e, &c[1]));
    assert_true(tsr__expr_subject_hash(e, &c[0]) == tsr__expr_subject_hash(e, &c[1]));
    assert_int_equal(tsr__expr_conjuncts(e, c, 1), 2);   /* counts beyond max */
    e = fx_compile(f, "customer.spend_12m >= 50000.00", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_value(c[0].constant, TSR_T_MONEY, 5000000);
    /* what is no comparison with a constant is there, as such */
    e = fx_compile(f, "item.height_cm >= 100 and item.height_cm + 1 < 130", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 2);
    assert_int_equal(c[0].kind, TSR_CMP_FIELD);
    assert_int_equal(c[1].kind, TSR_CMP_EXPR);
    e = fx_compile(f, "item.height_cm >= 100 or item.height_cm < 50", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].kind, TSR_CMP_OTHER);
    e = fx_compile(f, "true", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 0);
}

/* Every spelling the compiler takes to one form reads alike. */
static void comparisons_read_alike_in_any_spelling(void **state)
{
    fx *f = *state;
    tsr_expr_cmp c[4], d[4];
    tsr_expr *e;

    e = fx_compile(f, "(item.height_cm >= 110)", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].rel, TSR_REL_GE);
    assert_value(c[0].constant, TSR_T_INT, 110);
    e = fx_compile(f, "item.height_cm >= 100 + 10", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_value(c[0].constant, TSR_T_INT, 110);
    /* not: the relation turned over, not (a or b) taken apart */
    e = fx_compile(f, "not (item.height_cm < 110)", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].kind, TSR_CMP_FIELD);
    assert_int_equal(c[0].rel, TSR_REL_GE);
    e = fx_compile(f, "not (item.height_cm < 100 or item.height_cm >= 130)", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 2);
    assert_int_equal(c[0].rel, TSR_REL_GE);
    assert_int_equal(c[1].rel, TSR_REL_LT);
    e = fx_compile(f, "not not (item.zone == \"A\")", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].rel, TSR_REL_EQ);
    e = fx_compile(f, "not (item.zone == \"A\" and item.height_cm < 3)", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].kind, TSR_CMP_OTHER);
    /* an int compared with a decimal reads as the int */
    e = fx_compile(f, "item.height_cm < 99.5", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].kind, TSR_CMP_FIELD);
    assert_int_equal(c[0].type, TSR_T_INT);
    assert_value(c[0].constant, TSR_T_DECIMAL, 99500000);
    /* `in` a constant list */
    e = fx_compile(f, "item.zone in [\"A\", \"B\"]", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].rel, TSR_REL_IN);
    assert_int_equal(c[0].constant.len, 2);
    /* an expression as the subject, the same in two conditions */
    e = fx_compile(f, "age(customer.birthday, date(item.event_start)) < 16", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(e, c, 4), 1);
    assert_int_equal(c[0].kind, TSR_CMP_EXPR);
    assert_int_equal(c[0].type, TSR_T_INT);
    assert_int_equal(c[0].subject_len, strlen("age(customer.birthday, date(item.event_start))"));
    assert_memory_equal(c[0].subject_src, "age(customer.birthday, date(item.event_start))",
                        c[0].subject_len);
    tsr_expr *g = fx_compile(f, "6 <= age(customer.birthday, date( item.event_start ))",
                             TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(g, d, 4), 1);
    assert_int_equal(d[0].rel, TSR_REL_GE);
    assert_true(tsr__expr_same_subject(e, &c[0], g, &d[0]));
    assert_true(tsr__expr_subject_hash(e, &c[0]) == tsr__expr_subject_hash(g, &d[0]));
    g = fx_compile(f, "age(customer.birthday, date(now)) < 16", TSR_T_BOOL);
    assert_int_equal(tsr__expr_conjuncts(g, d, 4), 1);
    assert_false(tsr__expr_same_subject(e, &c[0], g, &d[0]));
    /* fields it reads */
    assert_true(tsr__expr_reads_field(e, TSR_REC_ITEM, I_EVENT_START));
    assert_false(tsr__expr_reads_field(g, TSR_REC_ITEM, I_EVENT_START));
    assert_false(tsr__expr_reads_field(NULL, TSR_REC_ITEM, I_EVENT_START));
}

/* ---------------------------------------------------------------------
 * Names.
 */
static void unknown_fields_suggest_the_closest(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "item.heigth_cm >= 100", TSR_T_BOOL, TSR_ENAME,
                     "unknown field `item.heigth_cm`; did you mean `item.height_cm`?", 6);
    fx_compile_fails(f, "customer.vists > 1", TSR_T_BOOL, TSR_ENAME,
                     "unknown field `customer.vists`; did you mean `customer.visits`?", 10);
    fx_compile_fails(f, "order.chanel == \"web\"", TSR_T_BOOL, TSR_ENAME,
                     "did you mean `order.channel`?", 7);
    fx_compile_fails(f, "item.completely_unrelated", TSR_T_MISSING, TSR_ENAME,
                     "unknown field `item.completely_unrelated`", 6);
    assert_null(strstr(f->err.message, "did you mean"));
}

static void unknown_names_functions_segments_tables_and_promos_suggest_too(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "iten.zone == \"A\"", TSR_T_BOOL, TSR_ENAME,
                     "unknown name `iten`; did you mean `item`?", 1);
    fx_compile_fails(f, "cout(items, true) > 1", TSR_T_BOOL, TSR_ENAME,
                     "unknown function `cout`; did you mean `count`?", 1);
    fx_compile_fails(f, "weekdy(now) > 5", TSR_T_BOOL, TSR_ENAME,
                     "did you mean `weekday`?", 1);
    fx_compile_fails(f, "segment.frist_timer", TSR_T_BOOL, TSR_ENAME,
                     "unknown segment `frist_timer`; did you mean `segment.first_timer`?", 9);
    fx_compile_fails(f, "tables.zone_prise[item.zone] > 1", TSR_T_BOOL, TSR_ENAME,
                     "unknown table `zone_prise`; did you mean `tables.zone_price`?", 8);
    fx_compile_fails(f, "promo.doctor", TSR_T_BOOL, TSR_ENAME,
                     "unknown promo code `doctor`; did you mean `promo.doctors`?", 7);
    fx_compile_fails(f, "tables.zone_price[\"b\"]", TSR_T_MONEY, TSR_ENAME,
                     "table `zone_price` has no key `b`; did you mean `B`?", 19);
    fx_compile_fails(f, "count > 1", TSR_T_BOOL, TSR_ENAME,
                     "`count` is a function: call it as `count(…)`", 1);
    fx_compile_fails(f, "order > 1", TSR_T_BOOL, TSR_EPARSE, "`order` needs a name after it", 6);
    fx_compile_fails(f, "now.hour", TSR_T_MISSING, TSR_ETYPE, "`now` has no fields", 5);
}

static void quoted_ids_reach_names_that_are_not_identifiers(void **state)
{
    fx *f = *state;
    f->segs[1] = "late-night";
    tsr_expr *e = fx_compile(f, "segment[\"late-night\"] and promo[\"doctors\"]", TSR_T_BOOL);
    assert_int_equal(e->type, TSR_T_BOOL);
    fx_compile(f, "item.zone in tables[\"zone_price\"]", TSR_T_BOOL);
}

static void function_arity_and_argument_types_are_checked(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "count(items) > 1", TSR_T_BOOL, TSR_ETYPE,
                     "`count` takes 2 arguments, got 1", 1);
    fx_compile_fails(f, "weekday() > 1", TSR_T_BOOL, TSR_ETYPE,
                     "`weekday` takes 1 argument, got 0", 1);
    fx_compile_fails(f, "birthday_within(customer.birthday, date(now))", TSR_T_BOOL, TSR_ETYPE,
                     "`birthday_within` takes 3 arguments, got 2", 1);
    fx_compile_fails(f, "weekday(3) > 1", TSR_T_BOOL, TSR_ETYPE,
                     "`weekday` needs a date or a datetime, got int `3`", 9);
    fx_compile_fails(f, "hour(date(now)) > 1", TSR_T_BOOL, TSR_ETYPE,
                     "`hour` needs a datetime, got date `date(now)`", 6);
    fx_compile_fails(f, "len(3) > 1", TSR_T_BOOL, TSR_ETYPE, "`len` needs a string, a list", 5);
    fx_compile_fails(f, "lower(1) == \"a\"", TSR_T_BOOL, TSR_ETYPE, "`lower` needs a string", 7);
    fx_compile_fails(f, "sum(items, item.kind) > 1", TSR_T_BOOL, TSR_ETYPE,
                     "`sum` needs a number, money or a duration per line, got string", 12);
    fx_compile_fails(f, "count(items, item.height_cm) > 1", TSR_T_BOOL, TSR_ETYPE,
                     "the condition of `count` needs a bool, got int", 14);
    fx_compile_fails(f, "count(customer.tags, true) > 1", TSR_T_BOOL, TSR_ETYPE,
                     "the first argument of `count` must be `items`", 7);
    fx_compile_fails(f, "date(item.zone) > date(now)", TSR_T_BOOL, TSR_ETYPE,
                     "`date` parses only string literals", 6);
    fx_compile_fails(f, "date(\"2026-13-01\") > date(now)", TSR_T_BOOL, TSR_EVALUE,
                     "invalid date `2026-13-01` (expected YYYY-MM-DD)", 6);
    fx_compile_fails(f, "now > datetime(\"2026-06-13\")", TSR_T_BOOL, TSR_EVALUE,
                     "invalid datetime `2026-06-13`", 16);
    fx_compile_fails(f, "birthday_within(customer.birthday, date(now), -1)", TSR_T_BOOL,
                     TSR_EVALUE, "number of days >= 0", 47);
    fx_compile_fails(f, "min(item.zone, 1) == 1", TSR_T_BOOL, TSR_ETYPE,
                     "`min` needs two values of one type, got string `item.zone` and int `1`", 1);
    fx_compile_fails(f, "abs(item.zone) > 1", TSR_T_BOOL, TSR_ETYPE, "`abs` needs a number", 5);
    fx_compile_fails(f, "floor(now) > 1", TSR_T_BOOL, TSR_ETYPE, "`floor` needs a number", 7);
    fx_compile_fails(f, "days(item.zone) > days(1)", TSR_T_BOOL, TSR_ETYPE,
                     "`days` needs an int or a decimal", 6);
    fx_compile_fails(f, "starts_with(item.zone, 1)", TSR_T_BOOL, TSR_ETYPE,
                     "`starts_with` needs a string prefix", 24);
}

static void regex_patterns_must_be_valid_literals(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "matches(item.sku, item.zone)", TSR_T_BOOL, TSR_ETYPE,
                     "the pattern of `matches` must be a string literal", 19);
    /* The error column points into the pattern, escapes accounted for. */
    fx_compile_fails(f, "matches(item.sku, \"a(b\")", TSR_T_BOOL, TSR_EPARSE,
                     "invalid pattern: missing closing parenthesis", 23);
    fx_compile_fails(f, "matches(item.sku, '\\\\d[')", TSR_T_BOOL, TSR_EPARSE,
                     "invalid pattern: missing terminating ]", 24);
    fx_compile_fails(f, "matches(3, \"a\")", TSR_T_BOOL, TSR_ETYPE,
                     "`matches` needs a string, got int `3`", 9);
    tsr_expr *e = fx_compile(f, "matches(item.sku, \"^PARK-[A-Z]+$\")", TSR_T_BOOL);
    assert_int_equal(e->type, TSR_T_BOOL);
}

static void names_out_of_context_say_why(void **state)
{
    fx *f = *state;
    f->env.flags = TSR_ENV_SEGMENTS | TSR_ENV_ITEMS;
    f->env.item_note = "segments are computed per order";
    fx_compile_fails(f, "item.zone == \"A\"", TSR_T_BOOL, TSR_ENAME,
                     "`item` is not available here: segments are computed per order", 1);
    f->env.item_note = NULL;
    fx_compile_fails(f, "customer.member and item.zone == \"A\"", TSR_T_BOOL, TSR_ENAME,
                     "`item` is not available here: this expression is evaluated once per order",
                     21);
    /* Inside an aggregate `item` is the iterated line. */
    fx_compile(f, "any(items, item.zone == \"A\")", TSR_T_BOOL);
    fx_compile_fails(f, "tier == \"gold\"", TSR_T_BOOL, TSR_ENAME,
                     "`tier` is not available here", 1);
    fx_compile_fails(f, "promo.doctors", TSR_T_BOOL, TSR_ENAME,
                     "`promo.doctors` is not available here", 1);
    f->env.flags = TSR_ENV_ITEM;
    fx_compile_fails(f, "count(items, true) > 1", TSR_T_BOOL, TSR_ENAME,
                     "`items` is not available here", 7);
    fx_compile_fails(f, "len(items) > 1", TSR_T_BOOL, TSR_ENAME, "`items` is not available here",
                     5);
    fx_compile_fails(f, "segment.frequent", TSR_T_BOOL, TSR_ENAME,
                     "`segment.frequent` is not available here", 1);
    fx_compile_fails(f, "item.total > 10.00", TSR_T_BOOL, TSR_ENAME,
                     "`item.total` is not known while categories set the price: line totals "
                     "exist once every line has its price (from the promo codes on)", 1);
    f->env.flags = FX_ALL_FLAGS;
    fx_compile(f, "item.total > 10.00", TSR_T_BOOL);
    fx_compile_fails(f, "items", TSR_T_MISSING, TSR_ETYPE,
                     "`items` can only be the first argument of count, sum, any, all or len", 1);
    fx_compile_fails(f, "item", TSR_T_MISSING, TSR_EPARSE, "`item` needs a name after it", 5);
}

static void references_mark_segments_promos_and_tables_used(void **state)
{
    fx *f = *state;
    fx_compile(f, "segment.season_pass and promo.summer and date(now) in tables.holidays",
               TSR_T_BOOL);
    assert_false(f->seg_used[0]);
    assert_true(f->seg_used[2]);
    assert_false(f->promo_used[0]);
    assert_true(f->promo_used[1]);
    assert_true(f->tables[1].used);
    assert_false(f->tables[0].used);
}

static void in_needs_a_list_or_table_of_the_same_type(void **state)
{
    fx *f = *state;
    type_is(f, "item.zone in tables.zone_price", TSR_T_BOOL);
    type_is(f, "item.height_cm in tables.sizes", TSR_T_BOOL);
    type_is(f, "item.height_cm in [1.5, 2]", TSR_T_BOOL);
    type_is(f, "item.price in [100.00, 150]", TSR_T_BOOL);
    type_is(f, "\"vip\" in customer.tags", TSR_T_BOOL);
    const_is(f, "3 in []", TSR_T_BOOL, TSR_T_BOOL, 0);
    type_is(f, "item.zone in []", TSR_T_BOOL);
}

static void in_errors_name_both_sides(void **state)
{
    fx *f = *state;
    fx_compile_fails(f, "item.height_cm in [\"a\"]", TSR_T_BOOL, TSR_ETYPE,
                     "cannot look for int `item.height_cm` in list of string `[\"a\"]`", 16);
    fx_compile_fails(f, "item.height_cm in tables.zone_price", TSR_T_BOOL, TSR_ETYPE,
                     "keys of table `zone_price` are strings; cannot look up int", 16);
    fx_compile_fails(f, "item.zone in item.sku", TSR_T_BOOL, TSR_ETYPE,
                     "`in` needs a list or a table on its right, got string `item.sku`", 11);
    fx_compile_fails(f, "item.price in [1.005]", TSR_T_BOOL, TSR_EVALUE,
                     "list element 1.005 has more fractional digits", 15);
    fx_compile_fails(f, "customer.tags in [\"a\"]", TSR_T_BOOL, TSR_ETYPE,
                     "`in` needs a single value on its left", 1);
    fx_compile_fails(f, "item.zone in [item.sku]", TSR_T_BOOL, TSR_ETYPE,
                     "list elements must be constant values", 15);
    fx_compile_fails(f, "item.zone in [1, \"a\"]", TSR_T_BOOL, TSR_ETYPE,
                     "list mixes int and string values", 18);
    fx_compile_fails(f, "tables.holidays[0]", TSR_T_MISSING, TSR_ETYPE,
                     "table `holidays` is a list: test membership with `in`", 16);
    fx_compile_fails(f, "item.zone[0]", TSR_T_MISSING, TSR_ETYPE,
                     "only map tables can be indexed, not string `item.zone`", 10);
    fx_compile_fails(f, "tables.zone_price[3]", TSR_T_MISSING, TSR_ETYPE,
                     "keys of table `zone_price` are strings, got int `3`", 19);
}

/* ---------------------------------------------------------------------
 * Positions, limits, memory.
 */
static void errors_point_into_the_yaml_scalar(void **state)
{
    fx *f = *state;
    static const char yaml[] =
        "segments:\n"
        "  tall: item.heigth_cm >= 100\n"
        "  quoted: \"item.zone == 'A' and\n"
        "    item.heigth_cm > 1\"\n"
        "  block: |\n"
        "    item.zone == \"A\" and\n"
        "      cout(items, true) > 1\n";
    tsr_ynode *root = NULL;
    tsr_error err;
    memset(&err, 0, sizeof err);
    assert_int_equal(tsr__yaml_parse(&root, yaml, strlen(yaml), "rules.yaml", NULL, &f->arena,
                                     &err), TSR_OK);
    const tsr_ynode *segs = tsr__ymap_get(root, "segments");
    assert_non_null(segs);

    struct { const char *key; int line, col; const char *msg; } cases[] = {
        { "tall", 2, 14, "unknown field `item.heigth_cm`" },
        { "quoted", 4, 10, "unknown field `item.heigth_cm`" },
        { "block", 7, 7, "unknown function `cout`" },
    };
    for (size_t i = 0; i < TSR_ARRAY_LEN(cases); i++) {
        const tsr_ynode *n = tsr__ymap_get(segs, cases[i].key);
        assert_non_null(n);
        tsr_expr *e = NULL;
        memset(&f->err, 0, sizeof f->err);
        int rc = tsr__expr_compile(&e, n->u.scalar.text, n->u.scalar.len, TSR_T_BOOL, n, &f->env,
                                   &f->arena, &f->err);
        assert_int_equal(rc, TSR_ENAME);
        if (f->err.line != cases[i].line || f->err.column != cases[i].col ||
            !strstr(f->err.message, cases[i].msg))
            fail_msg("%s: want %d:%d %s, got %d:%d %s", cases[i].key, cases[i].line,
                     cases[i].col, cases[i].msg, f->err.line, f->err.column, f->err.message);
        assert_string_equal(f->err.file, "rules.yaml");
    }
}

static void overlong_and_invalid_expressions_are_refused(void **state)
{
    fx *f = *state;
    f->env.max_length = 8;
    fx_compile_fails(f, "1 + 2 + 3", TSR_T_MISSING, TSR_ELIMIT,
                     "expression is longer than 8 bytes", 1);
    f->env.max_length = 0;   /* no limit */
    fx_compile(f, "1 + 2 + 3", TSR_T_MISSING);
    fx_compile_fails(f, "\"\xC3\"", TSR_T_MISSING, TSR_EPARSE, "not valid UTF-8", 1);
}

/* An allocator that fails the Nth allocation and counts what is live. */
typedef struct failing {
    long calls, fail_at;
    long long live;
} failing;

static void *failing_realloc(void *ud, void *p, size_t old, size_t n)
{
    failing *fl = ud;
    if (n == 0) {
        if (p)
            fl->live -= (long long)old;
        free(p);
        return NULL;
    }
    if (++fl->calls == fl->fail_at)
        return NULL;
    void *q = realloc(p, n);
    if (q)
        fl->live += (long long)n - (long long)(p ? old : 0);
    return q;
}

static void every_allocation_failure_is_reported_cleanly(void **state)
{
    fx *f = *state;
    static const char src[] =
        "item.price > tables.zone_price[item.zone] and matches(lower(item.sku), \"^park\") "
        "and item.height_cm in [1, 2.5, 3] and \"x\" in customer.tags and "
        "count(items, item.kind == \"ticket\" and lower(\"A\") == \"a\") > 1";
    failing fl = { 0, 0, 0 };
    tsr_allocator user = { failing_realloc, &fl };
    tsr_alloc a;
    tsr__alloc_init(&a, &user);
    tsr_regex_pool *pool;
    assert_int_equal(tsr__regex_pool_new(&pool, &a, 1000, 100, 100), TSR_OK);
    f->env.regexes = pool;
    int rc = TSR_ENOMEM;
    long n;
    for (n = 1; n < 10000 && rc != TSR_OK; n++) {
        tsr_arena ar;
        tsr__arena_init(&ar, &a, 256);
        fl.calls = 0;
        fl.fail_at = n;
        tsr_expr *e = NULL;
        memset(&f->err, 0, sizeof f->err);
        rc = tsr__expr_compile(&e, src, strlen(src), TSR_T_BOOL, NULL, &f->env, &ar, &f->err);
        if (rc != TSR_OK) {
            if (rc != TSR_ENOMEM)
                fail_msg("allocation %ld: %d %s", n, rc, f->err.message);
            assert_null(e);
        }
        tsr__arena_free(&ar);
    }
    assert_int_equal(rc, TSR_OK);
    assert_true(n > 5);
    fl.fail_at = 0;
    tsr__regex_pool_free(pool);
    f->env.regexes = f->pool;
    assert_int_equal(fl.live, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(numbers_promote_int_to_decimal_and_divide_exactly),
        T(money_combines_with_money_and_scales_by_numbers),
        T(time_arithmetic_follows_the_spec),
        T(comparisons_need_comparable_operands),
        T(logic_needs_bools),
        T(the_wanted_type_is_enforced),
        T(constants_are_folded),
        T(overflow_while_folding_is_a_load_error),
        T(the_commonest_conditions_compile_to_fused_ops),
        T(field_comparisons_can_be_listed_for_lint),
        T(comparisons_read_alike_in_any_spelling),
        T(unknown_fields_suggest_the_closest),
        T(unknown_names_functions_segments_tables_and_promos_suggest_too),
        T(quoted_ids_reach_names_that_are_not_identifiers),
        T(function_arity_and_argument_types_are_checked),
        T(regex_patterns_must_be_valid_literals),
        T(names_out_of_context_say_why),
        T(references_mark_segments_promos_and_tables_used),
        T(in_needs_a_list_or_table_of_the_same_type),
        T(in_errors_name_both_sides),
        T(errors_point_into_the_yaml_scalar),
        T(overlong_and_invalid_expressions_are_refused),
        T(every_allocation_failure_is_reported_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
