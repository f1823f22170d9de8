/* One loaded rule set shared by 8 threads evaluating at once: every result
 * must be byte-identical to the single-threaded one (SPEC §9: a loaded rule
 * set is immutable and shareable).  Run under TSan by `.ci/test`. */
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

static void test_eight_threads_share_one_rule_set_and_agree_with_one(void **state)
{
    static shared s;
    worker w[NTHREADS];
    pthread_t t[NTHREADS];
    tsr_ruleset *rs = NULL;
    tsr_error err;
    size_t i;
    (void)state;

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
    for (i = 0; i < NTHREADS; i++) {
        w[i].s = &s;
        w[i].first = i * (s.n / NTHREADS);
        w[i].mismatches = w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) {
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eight_threads_share_one_rule_set_and_agree_with_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
