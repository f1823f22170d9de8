/*
 * ruletest.h — rule tests (SPEC §7), private to the files that run them:
 *
 *   ruletest.c          running a test file: read it, check it, evaluate
 *                       each case, compare, report (tsr_test_run_*)
 *   ruletest_check.c    pass 1: the test file's shape and the names it uses
 *   ruletest_compare.c  pass 2: a case's result against what it expects
 *   ruletest_report.c   coverage, the report's texts and its accessors
 *   refund_case.c       a case's `refund:` (refund.h)
 *
 * ruletest.c calls the others; they call none of each other.  They read
 * the test file's YAML tree with the checking kit of yaml_tree.h, as the
 * rule-file model does.
 */
#ifndef TSR_RULETEST_H
#define TSR_RULETEST_H

#include "keys.h"
#include "refund.h"

#include <stdio.h>

typedef struct test_case {
    const char *name;
    int line;
    bool passed;
    const char *diff;           /* "" when passed */
} test_case;

struct tsr_test_report {
    tsr_alloc alloc;
    tsr_arena arena;
    const char *file;           /* the test file, as named */
    test_case *cases;
    size_t ncases;
    size_t passed, failed;
    size_t nrules;
    const char **uncovered;     /* "SECTION.ID" */
    size_t nuncovered;
    const char *failures_text;
    const char *coverage_text;
    const char *text;
};

/* A rule that coverage counts. */
typedef struct rule_ref {
    const char *section;
    const char *id;
} rule_ref;

typedef struct runner {
    tsr_test_report *rep;
    tsr_ycheck at;              /* the test file's name and the error, for messages */
    const tsr_ruleset *rs;
    const char *rules_file;     /* as written in `rules:`, for the coverage line */
    tsr_order *order;
    tsr_buf diff;               /* the current case's mismatches */
    rule_ref *rules;
    size_t nrules;
    uint8_t *covered;
    const char **ids[6];        /* ids of each of `sections`, built when first needed */
    size_t nids[6];
} runner;

/* What an expectation holds, as pass 1 checks it and pass 2 compares it. */
typedef enum { V_STR, V_STR_OR_NULL, V_INT, V_MONEY, V_DATE, V_DATE_OR_NULL } vkind;

/* Dotted path for messages: "expect.lines.t1". */
static inline const char *tsr__ruletest_join(char *buf, size_t size, const char *a, const char *b)
{
    snprintf(buf, size, "%s.%s", a, b);
    return buf;
}

/* ---------------------------------------------------------------------
 * ruletest_check.c: pass 1.
 */
/* The top of a test file: `tessera_test: 1`, `rules:` and `cases:` (a list). */
int tsr__ruletest_check_top(runner *R, const tsr_ynode *root, const tsr_ynode **rules,
                            const tsr_ynode **cases);
/* Case `index` (0-based): its keys, its order, everything its `expect` and
 * `refund` say, and every name they use against the rule set R->rs. */
int tsr__ruletest_check_case(runner *R, const tsr_ynode *c, size_t index);
/* Values are read with the kit of yaml_tree.h: tsr__yint, tsr__yfixed
 * (amounts in the rule set's minor units, tax rates in TSR_DEC_DIGITS),
 * tsr__ydate. */

/* ---------------------------------------------------------------------
 * ruletest_compare.c: pass 2.  Mismatches go to R->diff.
 */
void tsr__ruletest_compare_result(runner *R, const tsr_ynode *expect, const tsr_result *res);
/* `expect.error` (NULL: none) against how the order fared: res, or the
 * refusal oerr when res is NULL. */
void tsr__ruletest_compare_error(runner *R, const tsr_ynode *want, const tsr_result *res,
                                 const tsr_error *oerr);

/* ---------------------------------------------------------------------
 * ruletest_report.c: coverage and the report.
 */
int tsr__ruletest_new_report(tsr_test_report **out, const tsr_load_options *opts,
                             const char *name);
/* The rules coverage counts (R->rules), in file order. */
int tsr__ruletest_collect_rules(runner *R);
/* The rules res's trace shows applied are covered. */
void tsr__ruletest_cover(runner *R, const tsr_result *res);
/* After the last case: the uncovered rules and the report's texts. */
int tsr__ruletest_finish(runner *R);

#endif /* TSR_RULETEST_H */
