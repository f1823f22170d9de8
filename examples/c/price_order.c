/*
 * price_order.c — price one order with libtessera's builder API.
 *
 * A till or a booking system already holds the order in its own structures;
 * instead of writing JSON only for the library to read it back, it looks up
 * the handle of each field once (tsr_ruleset_field), fills a tsr_order with
 * typed setters, evaluates it, and reads the result through accessors.  The
 * result JSON is printed as well, for the receipt archive.
 *
 * The order built here is the park's family day with a birthday and points,
 * the same as examples/orders/park-family-birthday.json:
 *
 *   price_order rules/park/park.yaml
 *
 * prints the line totals, "due 8740.00 RUB", "points earned 935, redeemed 500"
 * and the JSON.  Exit status: 0 priced, 1 the rule set did not load, 2 the
 * order was refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tessera.h>

/* Minor units -> "8740.00", for a currency with `digits` minor digits
 * (tsr_ruleset_minor_units).  The result JSON carries the same amounts
 * already formatted. */
static void format_money(char *buf, size_t size, int64_t minor, int digits)
{
    char rev[32];
    size_t n = 0, k = 0;
    /* |INT64_MIN| does not fit: money never gets there (the library checks). */
    uint64_t v = (uint64_t)(minor < 0 ? -minor : minor);

    do {                       /* digits right to left, with the decimal point */
        if (digits > 0 && n == (size_t)digits)
            rev[n++] = '.';
        rev[n++] = (char)('0' + v % 10);
        v /= 10;
    } while ((v > 0 || n <= (size_t)digits) && n < sizeof rev - 1);
    if (minor < 0 && k + 1 < size)
        buf[k++] = '-';
    while (n > 0 && k + 1 < size)
        buf[k++] = rev[--n];
    buf[k] = '\0';
}

static void print_error(const char *what, const tsr_error *err)
{
    char msg[TSR_ERROR_TEXT_MAX + TSR_ERROR_PATH_MAX + 64];
    tsr_error_format(msg, sizeof msg, err);
    fprintf(stderr, "price_order: %s: %s (%s)\n", what, msg, tsr_strerror(err->code));
}

/* The handles of the fields this program sets, looked up once per rule set.
 * A rule set that does not declare one of them cannot price this order. */
typedef struct fields {
    int order_id, order_datetime, order_channel;
    int customer_id, customer_visits, customer_member, customer_birthday,
        customer_points_balance;
    int item_height_cm, item_event_start, item_sku, item_price;
} fields;

static int look_up(const tsr_ruleset *rs, tsr_record record, const char *name, int *out)
{
    *out = tsr_ruleset_field(rs, record, name);
    if (*out < 0) {
        fprintf(stderr, "price_order: rule set %s has no field `%s` (%s)\n", tsr_ruleset_id(rs),
                name, tsr_strerror(*out));
        return *out;
    }
    return TSR_OK;
}

static int look_up_fields(const tsr_ruleset *rs, fields *f)
{
    int rc;
    if ((rc = look_up(rs, TSR_RECORD_ORDER, "id", &f->order_id)) ||
        (rc = look_up(rs, TSR_RECORD_ORDER, "datetime", &f->order_datetime)) ||
        (rc = look_up(rs, TSR_RECORD_ORDER, "channel", &f->order_channel)) ||
        (rc = look_up(rs, TSR_RECORD_CUSTOMER, "id", &f->customer_id)) ||
        (rc = look_up(rs, TSR_RECORD_CUSTOMER, "visits", &f->customer_visits)) ||
        (rc = look_up(rs, TSR_RECORD_CUSTOMER, "member", &f->customer_member)) ||
        (rc = look_up(rs, TSR_RECORD_CUSTOMER, "birthday", &f->customer_birthday)) ||
        (rc = look_up(rs, TSR_RECORD_CUSTOMER, "points_balance", &f->customer_points_balance)) ||
        (rc = look_up(rs, TSR_RECORD_ITEM, "height_cm", &f->item_height_cm)) ||
        (rc = look_up(rs, TSR_RECORD_ITEM, "event_start", &f->item_event_start)) ||
        (rc = look_up(rs, TSR_RECORD_ITEM, "sku", &f->item_sku)) ||
        (rc = look_up(rs, TSR_RECORD_ITEM, "price", &f->item_price)))
        return rc;
    return TSR_OK;
}

/* A line as the booking system holds it. */
typedef struct booked_line {
    const char *id, *kind, *sku;
    int64_t quantity;
    int height_cm;            /* 0: not a ticket */
    int64_t price_minor;      /* -1: priced by the rule set */
    const char *event_start;
} booked_line;

static const booked_line family_day[] = {
    { "a1", "ticket", NULL, 1, 182, -1, "2026-07-18T10:00:00+03:00" },
    { "a2", "ticket", NULL, 1, 168, -1, "2026-07-18T10:00:00+03:00" },
    { "c1", "ticket", NULL, 1, 121, -1, "2026-07-18T10:00:00+03:00" },
    { "c2", "ticket", NULL, 1, 104, -1, "2026-07-18T10:00:00+03:00" },
    { "k1", "ticket", NULL, 1, 92, -1, "2026-07-18T10:00:00+03:00" },
    { "f1", "fnb", "KIDS-MENU", 2, 0, 45000, "2026-07-18T13:00:00+03:00" },
    { "f2", "fnb", "CAPPUCCINO", 2, 0, 22000, "2026-07-18T13:00:00+03:00" },
};

#define TEXT(s) (s), strlen(s)

/* Fill `o` with the family day.  Every setter checks its value against the
 * field's type at once; the first refusal stops here with err filled. */
static int build_order(tsr_order *o, const fields *f, tsr_error *err)
{
    const tsr_record ORD = TSR_RECORD_ORDER, CUS = TSR_RECORD_CUSTOMER, ITM = TSR_RECORD_ITEM;
    size_t i;
    int rc;

    if ((rc = tsr_order_set_string(o, ORD, 0, f->order_id, TEXT("W-20260715-1042"), err)) ||
        (rc = tsr_order_set_text(o, ORD, 0, f->order_datetime, TEXT("2026-07-15T19:05:00+03:00"), err)) ||
        (rc = tsr_order_set_string(o, ORD, 0, f->order_channel, TEXT("web"), err)) ||
        (rc = tsr_order_set_string(o, CUS, 0, f->customer_id, TEXT("C-1042"), err)) ||
        (rc = tsr_order_set_int(o, CUS, 0, f->customer_visits, 2, err)) ||
        (rc = tsr_order_set_bool(o, CUS, 0, f->customer_member, 1, err)) ||
        (rc = tsr_order_set_text(o, CUS, 0, f->customer_birthday, TEXT("1988-07-19"), err)) ||
        (rc = tsr_order_set_int(o, CUS, 0, f->customer_points_balance, 1240, err)) ||
        (rc = tsr_order_set_redeem_points(o, 500, err)))
        return rc;

    for (i = 0; i < sizeof family_day / sizeof family_day[0]; i++) {
        const booked_line *b = &family_day[i];
        int line;
        if ((rc = tsr_order_add_line(o, b->id, b->kind, b->quantity, &line, err)) ||
            (rc = tsr_order_set_text(o, ITM, line, f->item_event_start, TEXT(b->event_start), err)))
            return rc;
        if (b->sku && (rc = tsr_order_set_string(o, ITM, line, f->item_sku, TEXT(b->sku), err)))
            return rc;
        if (b->height_cm > 0 &&
            (rc = tsr_order_set_int(o, ITM, line, f->item_height_cm, b->height_cm, err)))
            return rc;
        if (b->price_minor >= 0 &&
            (rc = tsr_order_set_money(o, ITM, line, f->item_price, b->price_minor, err)))
            return rc;
    }
    return TSR_OK;
}

static void print_result(tsr_result *r, const char *currency, int digits)
{
    tsr_totals t = TSR_TOTALS_INIT;
    size_t i, n = tsr_result_line_count(r);
    char money[32];
    const char *json;

    for (i = 0; i < n; i++) {
        const char *category = tsr_result_line_category(r, i);
        format_money(money, sizeof money, tsr_result_line_total(r, i), digits);
        printf("%-4s %-8s %10s %s   %3" PRId64 " points\n", tsr_result_line_id(r, i),
               category ? category : "-", money, currency, tsr_result_line_points(r, i));
    }
    tsr_result_totals(r, &t);
    format_money(money, sizeof money, t.due, digits);
    printf("due %s %s\n", money, currency);
    printf("points earned %" PRId64 ", redeemed %" PRId64 "\n", t.points_earned,
           t.points_redeemed);

    json = tsr_result_json(r, NULL);   /* borrowed: lives as long as r */
    if (json)
        printf("%s\n", json);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "rules/park/park.yaml";
    tsr_ruleset *rs = NULL;
    tsr_order *order = NULL;
    tsr_result *result = NULL;
    tsr_error err;
    fields f;
    int status = 0;

    if (strcmp(tsr_version(), TSR_VERSION_STRING) != 0) {
        fprintf(stderr, "price_order: built with tessera %s, running with %s\n",
                TSR_VERSION_STRING, tsr_version());
        return 1;
    }
    if (tsr_ruleset_load_file(&rs, path, NULL, &err) != TSR_OK) {
        print_error("cannot load the rule set", &err);
        return 1;
    }
    if (look_up_fields(rs, &f) != TSR_OK) {
        status = 1;
        goto done;
    }
    if (tsr_order_new(&order, rs, &err) != TSR_OK || build_order(order, &f, &err) != TSR_OK) {
        print_error("order refused", &err);
        status = 2;
        goto done;
    }
    if (tsr_evaluate(&result, rs, order, NULL, &err) != TSR_OK) {
        print_error("order refused", &err);
        status = 2;
        goto done;
    }
    printf("%s (%s)\n", tsr_ruleset_id(rs), tsr_ruleset_version(rs));
    print_result(result, tsr_ruleset_currency(rs), (int)tsr_ruleset_minor_units(rs));

done:
    /* All three are NULL-safe.  Free in the reverse order of creation: the
     * order and the result are tied to the rule set they came from. */
    tsr_result_free(result);
    tsr_order_free(order);
    tsr_ruleset_free(rs);
    return status;
}
