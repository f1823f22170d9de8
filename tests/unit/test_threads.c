/* One loaded rule set shared by 8 threads evaluating at once: every result
 * must be byte-identical to the single-threaded one (SPEC §9: a loaded rule
 * set is immutable and shareable).  And one const order shared the same
 * way: 4 threads meet a builder order nobody evaluated before at a barrier
 * and evaluate it at once (tsr_evaluate takes `const tsr_order *`, so it
 * must not finish the order in place).  And 4 threads each reusing its
 * own result while sharing the rule set's spare orders.  Run under TSan by
 * `.ci/test`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "tessera.h"

#define NTHREADS 8
#define MAX_ORDERS 256
#define ROUNDS 4

typedef struct shared {
    const tsr_ruleset *rs;
    char *orders[MAX_ORDERS];
    char *expected[MAX_ORDERS];   /* single-threaded result JSON */
    size_t n;
} shared;

typedef struct worker {
    shared *s;
    size_t first;                 /* each thread starts at another order */
    size_t mismatches, failures;
} worker;

static size_t read_orders(const char *path, char **out, size_t max)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, n = 0;
    ssize_t len;

    if (!f)
        return 0;
    while (n < max && (len = getline(&line, &cap, f)) > 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > 0)
            out[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return n;
}

static char *evaluate(const tsr_ruleset *rs, const char *order)
{
    tsr_result *r = NULL;
    const char *json;
    char *copy = NULL;

    if (tsr_evaluate_text(&r, rs, order, strlen(order), NULL, NULL) != TSR_OK)
        return NULL;
    json = tsr_result_json(r, NULL);
    if (json)
        copy = strdup(json);
    tsr_result_free(r);
    return copy;
}

static void *work(void *arg)
{
    worker *w = arg;
    size_t round, k;

    for (round = 0; round < ROUNDS; round++) {
        for (k = 0; k < w->s->n; k++) {
            size_t i = (w->first + k) % w->s->n;
            char *got = evaluate(w->s->rs, w->s->orders[i]);
            if (!got)
                w->failures++;
            else if (strcmp(got, w->s->expected[i]) != 0)
                w->mismatches++;
            free(got);
        }
    }
    return NULL;
}

/* park10 loaded once and its orders priced alone, then `nthreads` threads
 * running fn over them, each starting at another order: none may fail or
 * disagree with the single-threaded JSON. */
static void share_park10(void *(*fn)(void *), size_t nthreads)
{
    static shared s;
    worker w[NTHREADS];
    pthread_t t[NTHREADS];
    tsr_ruleset *rs = NULL;
    tsr_error err;
    size_t i;

    assert_true(nthreads <= NTHREADS);
    assert_int_equal(tsr_ruleset_load_file(&rs, TSR_SOURCE_DIR "/rules/park10/park10.yaml", NULL, &err),
                     TSR_OK);
    s.rs = rs;
    s.n = read_orders(TSR_SOURCE_DIR "/../shared/bench/park10/orders.jsonl", s.orders, MAX_ORDERS);
    if (s.n == 0)
        skip();
    for (i = 0; i < s.n; i++) {
        s.expected[i] = evaluate(rs, s.orders[i]);
        assert_non_null(s.expected[i]);
    }
    for (i = 0; i < nthreads; i++) {
        w[i].s = &s;
        w[i].first = i * (s.n / nthreads);
        w[i].mismatches = w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
    }
    for (i = 0; i < nthreads; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].mismatches, 0);
    }
    for (i = 0; i < s.n; i++) {
        free(s.orders[i]);
        free(s.expected[i]);
    }
    tsr_ruleset_free(rs);
}

static void test_eight_threads_share_one_rule_set_and_agree_with_one(void **state)
{
    (void)state;
    share_park10(work, NTHREADS);
}

/* ---------------------------------------------------------------------
 * One order, never evaluated, met by 4 threads at once.
 */
#define NORDER_THREADS 4
#define ORDER_ROUNDS 8

typedef struct order_share {
    const tsr_ruleset *rs;
    const tsr_order *order;       /* built, never evaluated or parsed */
    const char *expected;         /* the JSON of its twin, evaluated alone */
    pthread_barrier_t start;
} order_share;

typedef struct order_worker {
    order_share *s;
    size_t mismatches, failures;
} order_worker;

/* A park10 order of `nlines` lines through the builder API.  More than 16
 * lines takes the hashed check for duplicate line ids. */
static void build_order(const tsr_ruleset *rs, tsr_order *o, int nlines)
{
    static const char datetime[] = "2026-06-13T14:30:00+02:00";   /* a Saturday */
    int height = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "height_cm");
    int member = tsr_ruleset_field(rs, TSR_RECORD_CUSTOMER, "member");
    int price = tsr_ruleset_field(rs, TSR_RECORD_ITEM, "price");
    int dt = tsr_ruleset_field(rs, TSR_RECORD_ORDER, "datetime");
    int cid = tsr_ruleset_field(rs, TSR_RECORD_CUSTOMER, "id");
    int i, line;
    char id[16];

    assert_true(height >= 0 && member >= 0 && price >= 0 && dt >= 0 && cid >= 0);
    assert_int_equal(tsr_order_set_text(o, TSR_RECORD_ORDER, 0, dt, datetime,
                                        sizeof datetime - 1, NULL), TSR_OK);
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_CUSTOMER, 0, cid, "C-1", 3, NULL), TSR_OK);
    assert_int_equal(tsr_order_set_bool(o, TSR_RECORD_CUSTOMER, 0, member, 1, NULL), TSR_OK);
    for (i = 0; i < nlines; i++) {
        snprintf(id, sizeof id, "l%d", i);
        if (i % 3 == 2) {
            assert_int_equal(tsr_order_add_line(o, id, "fnb", 1 + i % 4, &line, NULL), TSR_OK);
            assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, line, price, 1250 + i, NULL),
                             TSR_OK);
        } else {
            assert_int_equal(tsr_order_add_line(o, id, "ticket", 1 + i % 2, &line, NULL), TSR_OK);
            assert_int_equal(tsr_order_set_int(o, TSR_RECORD_ITEM, line, height, 90 + 3 * i, NULL),
                             TSR_OK);
        }
    }
}

static void *work_on_one_order(void *arg)
{
    order_worker *w = arg;
    int round;

    pthread_barrier_wait(&w->s->start);
    for (round = 0; round < ORDER_ROUNDS; round++) {
        tsr_result *r = NULL;
        const char *json;
        if (tsr_evaluate(&r, w->s->rs, w->s->order, NULL, NULL) != TSR_OK) {
            w->failures++;
            continue;
        }
        json = tsr_result_json(r, NULL);
        if (!json || strcmp(json, w->s->expected) != 0)
            w->mismatches++;
        tsr_result_free(r);
    }
    return NULL;
}

/* Start NORDER_THREADS threads running fn on the shared order, which meet
 * at a barrier first so that they reach it at once; every one must finish
 * without a failure or a mismatch. */
static void meet_at_the_order(order_share *s, void *(*fn)(void *))
{
    order_worker w[NORDER_THREADS];
    pthread_t t[NORDER_THREADS];
    int i;

    assert_int_equal(pthread_barrier_init(&s->start, NULL, NORDER_THREADS), 0);
    for (i = 0; i < NORDER_THREADS; i++) {
        w[i].s = s;
        w[i].mismatches = w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, fn, &w[i]), 0);
    }
    for (i = 0; i < NORDER_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
        assert_int_equal(w[i].mismatches, 0);
    }
    pthread_barrier_destroy(&s->start);
}

static void four_threads_meet_one_fresh_order(int nlines)
{
    order_share s;
    tsr_ruleset *rs = NULL;
    tsr_order *shared_order = NULL, *twin = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    char *expected;

    assert_int_equal(tsr_ruleset_load_file(&rs, TSR_SOURCE_DIR "/rules/park10/park10.yaml", NULL, &err),
                     TSR_OK);
    assert_int_equal(tsr_order_new(&shared_order, rs, NULL), TSR_OK);
    assert_int_equal(tsr_order_new(&twin, rs, NULL), TSR_OK);
    build_order(rs, shared_order, nlines);
    build_order(rs, twin, nlines);
    assert_int_equal(tsr_evaluate(&r, rs, twin, NULL, &err), TSR_OK);
    expected = strdup(tsr_result_json(r, NULL));
    assert_non_null(expected);
    tsr_result_free(r);

    s.rs = rs;
    s.order = shared_order;
    s.expected = expected;
    meet_at_the_order(&s, work_on_one_order);
    free(expected);
    tsr_order_free(twin);
    tsr_order_free(shared_order);
    tsr_ruleset_free(rs);
}

static void test_four_threads_evaluate_one_never_evaluated_builder_order(void **state)
{
    (void)state;
    four_threads_meet_one_fresh_order(5);
}

static void test_four_threads_evaluate_one_never_evaluated_order_of_many_lines(void **state)
{
    (void)state;
    four_threads_meet_one_fresh_order(40);
}

/* An invalid builder order is refused the same way by every thread, and
 * stays as it was: the caller may still fix it. */
static void *refuse_one_order(void *arg)
{
    order_worker *w = arg;
    tsr_error err;
    tsr_result *r = NULL;

    pthread_barrier_wait(&w->s->start);
    if (tsr_evaluate(&r, w->s->rs, w->s->order, NULL, &err) != TSR_EORDER ||
        strcmp(err.path, "items[17].id") != 0)
        w->mismatches++;
    tsr_result_free(r);
    return NULL;
}

static void test_four_threads_are_refused_one_invalid_builder_order_alike(void **state)
{
    order_share s;
    tsr_ruleset *rs = NULL;
    tsr_order *o = NULL;
    tsr_result *r = NULL;
    tsr_error err;
    int line;
    (void)state;

    assert_int_equal(tsr_ruleset_load_file(&rs, TSR_SOURCE_DIR "/rules/park10/park10.yaml", NULL, &err),
                     TSR_OK);
    assert_int_equal(tsr_order_new(&o, rs, NULL), TSR_OK);
    build_order(rs, o, 17);
    assert_int_equal(tsr_order_add_line(o, "l3", "fnb", 1, &line, NULL), TSR_OK);   /* a duplicate */
    assert_int_equal(tsr_order_set_money(o, TSR_RECORD_ITEM, line,
                                         tsr_ruleset_field(rs, TSR_RECORD_ITEM, "price"), 500, NULL),
                     TSR_OK);
    s.rs = rs;
    s.order = o;
    s.expected = NULL;
    meet_at_the_order(&s, refuse_one_order);
    /* fixed, it evaluates */
    assert_int_equal(tsr_order_set_string(o, TSR_RECORD_ITEM, line,
                                          tsr_ruleset_field(rs, TSR_RECORD_ITEM, "id"),
                                          "l99", 3, &err), TSR_OK);
    assert_int_equal(tsr_evaluate(&r, rs, o, NULL, &err), TSR_OK);
    tsr_result_free(r);
    tsr_order_free(o);
    tsr_ruleset_free(rs);
}

/* ---------------------------------------------------------------------
 * 4 threads, each pricing the orders into its own kept result, through
 * the text call (the rule set's spare orders are shared by all) and
 * through orders of its own; the rule set's spare orders released by one
 * of them meanwhile.  Every JSON must be the single-threaded one.
 */
#define NREUSE_THREADS 4

static void *work_reusing(void *arg)
{
    worker *w = arg;
    tsr_result *kept = NULL;
    tsr_order *order = NULL;
    size_t round, k;

    if (tsr_order_new(&order, w->s->rs, NULL) != TSR_OK) {
        w->failures++;
        return NULL;
    }
    for (round = 0; round < ROUNDS; round++) {
        for (k = 0; k < w->s->n; k++) {
            size_t i = (w->first + k) % w->s->n;
            const char *text = w->s->orders[i], *json;
            int rc;

            if ((k + round) & 1)
                rc = tsr_evaluate_text_into(&kept, w->s->rs, text, strlen(text), NULL, NULL);
            else if ((rc = tsr_order_parse(order, text, strlen(text), NULL)) == TSR_OK)
                rc = tsr_evaluate_into(&kept, w->s->rs, order, NULL, NULL);
            json = rc == TSR_OK ? tsr_result_json(kept, NULL) : NULL;
            if (!json)
                w->failures++;
            else if (strcmp(json, w->s->expected[i]) != 0)
                w->mismatches++;
            if (w->first == 0 && k % 64 == 0)
                tsr_ruleset_release_memory(w->s->rs);
        }
    }
    tsr_result_free(kept);
    tsr_order_free(order);
    return NULL;
}

static void test_four_threads_each_reuse_a_result_and_share_the_spare_orders(void **state)
{
    (void)state;
    share_park10(work_reusing, NREUSE_THREADS);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_threads_share_one_rule_set_and_agree_with_one),
        cmocka_unit_test(test_four_threads_each_reuse_a_result_and_share_the_spare_orders),
        cmocka_unit_test(test_four_threads_evaluate_one_never_evaluated_builder_order),
        cmocka_unit_test(test_four_threads_evaluate_one_never_evaluated_order_of_many_lines),
        cmocka_unit_test(test_four_threads_are_refused_one_invalid_builder_order_alike),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
