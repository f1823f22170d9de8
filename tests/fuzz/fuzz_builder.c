/*
 * fuzz_builder.c — libFuzzer harness for the order builder of tessera.h
 * (tsr_order_add_line, tsr_order_set_*, tsr_order_add_to_list, promo codes,
 * redemption, points lots, tsr_order_reset, tsr_order_parse) and, behind it,
 * the evaluator and the result writer.
 *
 * The input is a little program: one opcode byte, then its arguments, taken
 * from the bytes that follow (missing bytes read as zero):
 *   record   one byte, taken modulo 5: order, customer, item, and two
 *            values outside the enum (3 and -1)
 *   line     one byte: below 0xF0, modulo (lines added + 2), so an index one
 *            or two past the end comes up too; 0xF0.. -1, -2, INT_MAX,
 *            INT_MIN and 0xF4.. negative
 *   field    one byte: below 0xE0, modulo 40 (every handle of the park rule
 *            set and some past them); above, negative values and INT_MAX
 *   int64    one byte: below 0xE0, that byte − 32; above, a boundary value
 *            (INT64_MAX, INT64_MIN, …) or eight bytes little-endian
 *   string   a length byte, then that many bytes (fewer at the end of the
 *            input); 0xFF is a NULL pointer.  Strings with a length are
 *            passed without a NUL after them; NUL-terminated parameters get a
 *            copy with one.
 * Field handles are whatever the bytes say, valid or not: every call must
 * either succeed or fail cleanly with a well-formed error, and evaluating the
 * same order twice must give the same JSON.  The park scenario
 * (park_rules.h) is loaded once; each input builds one order (evaluated in
 * the middle of the program by opcode 13 and always at its end), frees it
 * and must give back everything it took.
 */
#include <limits.h>

#include "fuzz_common.h"
#include "park_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More calls than this per input only make inputs slow, not more useful. */
#define MAX_OPS 256

static tsr_ruleset *park;

static void free_park(void)
{
    tsr_ruleset_free(park);
    park = NULL;
}

static const tsr_ruleset *park_ruleset(void)
{
    tsr_load_options opts;
    tsr_error err;

    if (park)
        return park;
    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    if (tsr_ruleset_load_string(&park, park_rules, sizeof park_rules - 1, "park.yaml", &opts,
                                &err) != TSR_OK) {
        fprintf(stderr, "fuzz_builder: park.yaml does not load: %s:%d:%d: %s\n", err.file,
                err.line, err.column, err.message);
        abort();
    }
    atexit(free_park);
    return park;
}

/* The program being read. */
typedef struct prog {
    const uint8_t *p, *end;
    int lines;   /* lines added since the last reset, for picking indexes;
                    -1 after tsr_order_parse, until the next line is added */
} prog;

static unsigned byte(prog *g)
{
    return g->p < g->end ? *g->p++ : 0;
}

static tsr_record arg_record(prog *g)
{
    static const int records[5] = { TSR_RECORD_ORDER, TSR_RECORD_CUSTOMER, TSR_RECORD_ITEM, 3,
                                    -1 };
    return (tsr_record)records[byte(g) % 5];
}

static int arg_line(prog *g)
{
    unsigned b = byte(g);

    if (b < 0xF0)
        return (int)(b % (unsigned)(g->lines < 0 ? 2 : g->lines + 2));
    switch (b) {
    case 0xF0: return -1;
    case 0xF1: return -2;
    case 0xF2: return INT_MAX;
    case 0xF3: return INT_MIN;
    default: return -(int)(b - 0xF0) * 1000;
    }
}

static int arg_field(prog *g)
{
    unsigned b = byte(g);

    if (b < 0xE0)
        return (int)(b % 40);
    if (b == 0xFF)
        return INT_MAX;
    if (b == 0xFE)
        return INT_MIN;
    return -(int)(b - 0xDF);
}

static int64_t arg_int(prog *g)
{
    unsigned b = byte(g);

    if (b < 0xE0)
        return (int64_t)b - 32;
    switch (b) {
    case 0xE0: return INT64_MAX;
    case 0xE1: return INT64_MIN;
    case 0xE2: return INT64_MAX / 100;
    case 0xE3: return -INT64_MAX / 100;
    case 0xE4: return INT64_C(1000000000000);
    case 0xE5: return INT64_C(9007199254740993);
    case 0xE6: return INT32_MAX;
    case 0xE7: return (int64_t)INT32_MAX + 1;
    case 0xE8: return 100000;      /* 1000.00 */
    case 0xE9: return 1000000;     /* a decimal 1 */
    case 0xEA: return 250000;
    default: {
        uint64_t v = 0;
        int i;
        for (i = 0; i < 8; i++)
            v |= (uint64_t)byte(g) << (8 * i);
        return (int64_t)v;
    }
    }
}

/* A string argument: a malloc'd copy of exactly its bytes (no NUL after it,
 * so ASan sees a read past `len`), or NULL for the 0xFF length. */
static char *arg_bytes(prog *g, size_t *len)
{
    unsigned n = byte(g);
    char *s;

    *len = 0;
    if (n == 0xFF)
        return NULL;
    if (n > (size_t)(g->end - g->p))
        n = (unsigned)(g->end - g->p);
    s = malloc(n ? n : 1);
    if (!s)
        abort();
    memcpy(s, g->p, n);
    g->p += n;
    *len = n;
    return s;
}

/* The same as a NUL-terminated string (an embedded NUL shortens it). */
static char *arg_cstr(prog *g)
{
    size_t n;
    char *s = arg_bytes(g, &n), *z;

    if (!s)
        return NULL;
    z = malloc(n + 1);
    if (!z)
        abort();
    memcpy(z, s, n);
    z[n] = '\0';
    free(s);
    return z;
}

static void check_call(const char *what, int rc, const tsr_error *err)
{
    fuzz_say(what, rc, err);
    if (rc != TSR_OK)
        fuzz_check_error(rc, err);
}

/* Evaluate the order as it stands and read everything in the result. */
static void evaluate(const tsr_ruleset *rs, const tsr_order *order, unsigned flags)
{
    tsr_eval_options eo = TSR_EVAL_OPTIONS_INIT;
    tsr_result *res = (tsr_result *)&eo;   /* must come back NULL on failure */
    tsr_totals t = TSR_TOTALS_INIT;
    tsr_error err;
    size_t i, n, jlen = 0;
    const char *json;
    int rc, need;
    char small[32];

    eo.customer_safe = (int)(flags & 1);
    eo.no_trace = (int)((flags >> 1) & 1);
    memset(&err, 0, sizeof err);
    rc = tsr_evaluate(&res, rs, order, &eo, &err);
    fuzz_say("evaluate", rc, &err);
    if (rc != TSR_OK) {
        if (res)
            fuzz_die("failed evaluation left a result in *out", 0, 0);
        fuzz_check_error(rc, &err);
        return;
    }
    if (!res)
        fuzz_die("TSR_OK without a result", 0, 0);
    json = tsr_result_json(res, &jlen);
    if (json && strlen(json) != jlen)
        fuzz_die("result JSON length disagrees with its text", strlen(json), jlen);
    {
        /* Evaluation is a pure function (SPEC §4): the same order again, the
         * same bytes. */
        tsr_result *again = NULL;
        const char *j2;
        size_t j2len = 0;
        if (tsr_evaluate(&again, rs, order, &eo, &err) != TSR_OK || !again)
            fuzz_die("the same order failed to evaluate the second time", 0, 0);
        j2 = tsr_result_json(again, &j2len);
        if (json && j2 && (j2len != jlen || memcmp(json, j2, jlen) != 0))
            fuzz_die("the same order evaluated twice gave different JSON", jlen, j2len);
        tsr_result_free(again);
    }
    n = tsr_result_line_count(res);
    for (i = 0; i < n; i++) {
        const char *id = tsr_result_line_id(res, i), *cat = tsr_result_line_category(res, i);
        if (!id)
            fuzz_die("result line without an id", i, n);
        (void)strlen(id);
        if (cat)
            (void)strlen(cat);
        (void)tsr_result_line_total(res, i);
        (void)tsr_result_line_points(res, i);
    }
    n = tsr_result_promo_count(res);
    for (i = 0; i < n; i++) {
        const char *code = NULL, *id = NULL, *reason = NULL;
        int status = -1;
        if (tsr_result_promo(res, i, &code, &id, &status, &reason) != TSR_OK)
            fuzz_die("tsr_result_promo refused an index in range", i, n);
        if (!code || !reason)
            fuzz_die("promo code without its text or reason", i, n);
        (void)strlen(code);
        (void)strlen(reason);
        if (id)
            (void)strlen(id);
        if (status != TSR_PROMO_STATUS_ACCEPTED && status != TSR_PROMO_STATUS_REJECTED)
            fuzz_die("promo code with an unknown status", i, (size_t)status);
    }
    tsr_result_totals(res, &t);
    if (t.subtotal - t.discount - t.redeemed_value != t.due)
        fuzz_die("subtotal - discount - redeemed_value != due (SPEC section 6)",
                 (size_t)t.due, (size_t)(t.subtotal - t.discount - t.redeemed_value));
    need = tsr_result_explain(small, sizeof small, res);
    if (need >= 0 && (size_t)need >= sizeof small) {
        char *buf = malloc((size_t)need + 1);
        if (buf) {
            if (tsr_result_explain(buf, (size_t)need + 1, res) != need ||
                strlen(buf) != (size_t)need)
                fuzz_die("tsr_result_explain length changed between calls", strlen(buf),
                         (size_t)need);
            free(buf);
        }
    }
    tsr_result_free(res);
}

/* One call of the program; returns 0 when the program should stop. */
static int step(const tsr_ruleset *rs, tsr_order *order, prog *g)
{
    tsr_error err;
    unsigned op = byte(g) % 16;
    tsr_record rec;
    int line, field, rc = TSR_OK, idx = -7;
    const char *what = "?";
    char *s = NULL, *s2 = NULL;
    size_t n = 0;
    int64_t v, v2;

    memset(&err, 0, sizeof err);
    switch (op) {
    case 0:
        s = arg_cstr(g);
        s2 = arg_cstr(g);
        v = arg_int(g);
        what = "add_line";
        rc = tsr_order_add_line(order, s, s2, v, &idx, &err);
        if (rc == TSR_OK) {
            if (idx < 0 || (g->lines >= 0 && idx != g->lines))
                fuzz_die("tsr_order_add_line gave an unexpected index", (size_t)idx,
                         (size_t)g->lines);
            g->lines = idx + 1;
        }
        break;
    case 1:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        s = arg_bytes(g, &n);
        what = "set_string";
        rc = tsr_order_set_string(order, rec, line, field, s, n, &err);
        break;
    case 2:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        what = "set_int";
        rc = tsr_order_set_int(order, rec, line, field, arg_int(g), &err);
        break;
    case 3:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        what = "set_bool";
        rc = tsr_order_set_bool(order, rec, line, field, (int)arg_int(g), &err);
        break;
    case 4:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        what = "set_money";
        rc = tsr_order_set_money(order, rec, line, field, arg_int(g), &err);
        break;
    case 5:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        what = "set_decimal";
        rc = tsr_order_set_decimal(order, rec, line, field, arg_int(g), &err);
        break;
    case 6:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        s = arg_bytes(g, &n);
        what = "set_text";
        rc = tsr_order_set_text(order, rec, line, field, s, n, &err);
        break;
    case 7:
        rec = arg_record(g);
        line = arg_line(g);
        field = arg_field(g);
        s = arg_bytes(g, &n);
        what = "add_to_list";
        rc = tsr_order_add_to_list(order, rec, line, field, s, n, &err);
        break;
    case 8:
        s = arg_bytes(g, &n);
        what = "add_promo_code";
        rc = tsr_order_add_promo_code(order, s, n, &err);
        break;
    case 9:
        s = arg_cstr(g);
        v = arg_int(g);
        v2 = arg_int(g);
        what = "set_promo_uses";
        rc = tsr_order_set_promo_uses(order, s, v, v2, &err);
        break;
    case 10:
        what = "set_redeem_points";
        rc = tsr_order_set_redeem_points(order, arg_int(g), &err);
        break;
    case 11:
        s = arg_cstr(g);
        v = arg_int(g);
        s2 = arg_cstr(g);
        what = "add_points_lot";
        rc = tsr_order_add_points_lot(order, s, v, s2, &err);
        break;
    case 12:
        tsr_order_reset(order);
        g->lines = 0;
        return 1;
    case 13:
        evaluate(rs, order, byte(g));
        return 1;
    case 14:
        /* A whole order as text over what was built: the reader replaces or
         * refuses, the builder's later calls see whatever it left. */
        s = arg_bytes(g, &n);
        what = "parse";
        rc = tsr_order_parse(order, s ? s : "", n, &err);
        /* The line count is the parser's now, unknown to the caller until
         * the next line added says it. */
        g->lines = -1;
        break;
    default:
        /* Field handles by name, as a caller gets them: any record, any text. */
        rec = arg_record(g);
        s = arg_cstr(g);
        what = "field";
        field = tsr_ruleset_field(rs, rec, s);
        if (field < 0 && field != TSR_ENAME && field != TSR_EINVAL)
            fuzz_die("tsr_ruleset_field returned an unexpected code", (size_t)-field, 0);
        break;
    }
    check_call(what, rc, &err);
    free(s);
    free(s2);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const tsr_ruleset *rs = park_ruleset();
    tsr_order *order = NULL;
    tsr_error err;
    size_t before = fuzz_live_bytes;
    prog g;
    int ops;
    int rc;

    memset(&err, 0, sizeof err);
    rc = tsr_order_new(&order, rs, &err);
    if (rc != TSR_OK) {
        fuzz_check_error(rc, &err);
        fuzz_die("tsr_order_new failed", (size_t)-rc, 0);
    }
    g.p = data;
    g.end = data + size;
    g.lines = 0;
    for (ops = 0; ops < MAX_OPS && g.p < g.end; ops++)
        if (!step(rs, order, &g))
            break;
    evaluate(rs, order, (unsigned)(size & 3));   /* the low bits pick the options */
    tsr_order_free(order);
    fuzz_check_balance(before);
    return 0;
}
