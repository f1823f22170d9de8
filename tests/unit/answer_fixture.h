/*
 * answer_fixture.h — an evaluation's whole answer as text, for tests that
 * compare a fast path with the general one: the result JSON (its trace
 * in it, with a trace) or the error, and the steps the budget counted.
 */
#ifndef TSR_ANSWER_FIXTURE_H
#define TSR_ANSWER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tessera.h"

/* The answer to `order` with a trace or without (quiet): the result JSON,
 * or "error N: message"; *steps: the work counted (0 on an error).  Free
 * the text. */
static inline char *tsr_test_answer(const tsr_ruleset *rs, const char *order, bool quiet,
                                    uint64_t *steps)
{
    tsr_eval_options o = TSR_EVAL_OPTIONS_INIT;
    tsr_result *r = NULL;
    tsr_error err;
    char buf[1200], msg[1024];
    char *copy;
    int rc;

    o.no_trace = quiet;
    rc = tsr_evaluate_text(&r, rs, order, strlen(order), &o, &err);
    *steps = 0;
    if (rc != TSR_OK) {
        tsr_error_format(msg, sizeof msg, &err);
        snprintf(buf, sizeof buf, "error %d: %s", rc, msg);
        copy = strdup(buf);
    } else {
        copy = strdup(tsr_result_json(r, NULL));
        *steps = r->steps;
        tsr_result_free(r);
    }
    assert_non_null(copy);
    return copy;
}

#endif
