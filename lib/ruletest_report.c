/*
 * ruletest_report.c — what a rule-test run reports (ruletest.h): the
 * coverage (the categories, promo codes, discounts, earn rules and offers
 * some case applied, from the trace), the texts `tessera test` prints, and
 * the tsr_test_report accessors.
 */
#include "ruletest.h"

int tsr__ruletest_new_report(tsr_test_report **out, const tsr_load_options *opts,
                             const char *name)
{
    tsr_alloc alloc;
    tsr_test_report *rep;

    tsr__alloc_init(&alloc, opts && opts->version >= 1 ? opts->allocator : NULL);
    rep = tsr__calloc(&alloc, 1, sizeof *rep);
    if (!rep)
        return TSR_ENOMEM;
    rep->alloc = alloc;
    tsr__arena_init(&rep->arena, &rep->alloc, 4096);
    rep->file = tsr__arena_strndup(&rep->arena, name, strlen(name));
    rep->failures_text = rep->coverage_text = rep->text = "";
    *out = rep;
    if (!rep->file) {
        tsr_test_report_free(rep);
        *out = NULL;
        return TSR_ENOMEM;
    }
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Coverage and the report text.
 */
void tsr__ruletest_cover(runner *R, const tsr_result *res)
{
    size_t i, j;
    for (i = 0; i < res->ntrace; i++) {
        const tsr_trace_entry *t = &res->trace[i];
        if (!t->applied)
            continue;
        for (j = 0; j < R->nrules; j++)
            if (!R->covered[j] && strcmp(R->rules[j].section, t->section) == 0 &&
                strcmp(R->rules[j].id, t->id) == 0) {
                R->covered[j] = 1;
                break;
            }
    }
}

static size_t file_index_of(const tsr_ruleset *rs, const char *discount_id)
{
    size_t i;
    for (i = 0; i < rs->ndiscounts; i++)
        if (rs->discounts[i].id == discount_id)
            return rs->discounts[i].file_index;
    return 0;
}

int tsr__ruletest_collect_rules(runner *R)
{
    const tsr_ruleset *rs = R->rs;
    size_t n = rs->ncategories + rs->npromos + rs->ndiscounts + rs->loyalty.nearn + rs->noffers +
               rs->taxes.nrates;
    size_t i, j, k = 0;

    R->rules = tsr__arena_calloc(&R->rep->arena, n + 1, sizeof *R->rules);
    R->covered = tsr__arena_calloc(&R->rep->arena, n + 1, 1);
    if (!R->rules || !R->covered)
        return TSR_ENOMEM;
    for (i = 0; i < rs->ncategories; i++)
        R->rules[k++] = (rule_ref){ "categories", rs->categories[i].id };
    for (i = 0; i < rs->npromos; i++)
        R->rules[k++] = (rule_ref){ "promo_codes", rs->promos[i].id };
    /* discounts are stored in application order; list them in file order */
    for (i = 0; i < rs->ndiscounts; i++) {
        const tsr_discount *d = &rs->discounts[i];
        for (j = k; j > rs->ncategories + rs->npromos &&
                    file_index_of(rs, R->rules[j - 1].id) > d->file_index; j--)
            R->rules[j] = R->rules[j - 1];
        R->rules[j] = (rule_ref){ "discounts", d->id };
        k++;
    }
    for (i = 0; i < rs->loyalty.nearn; i++)
        R->rules[k++] = (rule_ref){ "earn", rs->loyalty.earn[i].id };
    for (i = 0; i < rs->noffers; i++)
        R->rules[k++] = (rule_ref){ "offers", rs->offers[i].id };
    for (i = 0; i < rs->taxes.nrates; i++)
        R->rules[k++] = (rule_ref){ "taxes", rs->taxes.rates[i].id };
    R->nrules = k;
    return TSR_OK;
}

static int finish_coverage(runner *R)
{
    tsr_test_report *rep = R->rep;
    size_t i, n = 0;

    rep->nrules = R->nrules;
    rep->uncovered = tsr__arena_calloc(&rep->arena, R->nrules + 1, sizeof *rep->uncovered);
    if (!rep->uncovered)
        return TSR_ENOMEM;
    for (i = 0; i < R->nrules; i++) {
        char name[512];
        int len;
        if (R->covered[i])
            continue;
        len = snprintf(name, sizeof name, "%s.%s", R->rules[i].section, R->rules[i].id);
        if (len < 0)
            len = 0;
        if (!(rep->uncovered[n++] = tsr__arena_strndup(&rep->arena, name, (size_t)len)))
            return TSR_ENOMEM;
    }
    rep->nuncovered = n;
    return TSR_OK;
}

static const char *buf_to_arena(tsr_test_report *rep, tsr_buf *b)
{
    const char *s = b->failed ? NULL : tsr__arena_strndup(&rep->arena, b->data ? b->data : "", b->len);
    tsr__buf_free(b);
    return s;
}

static int build_texts(runner *R)
{
    tsr_test_report *rep = R->rep;
    size_t i, covered;
    tsr_buf b;

    tsr__buf_init(&b, &rep->alloc);
    for (i = 0; i < rep->ncases; i++) {
        const test_case *tc = &rep->cases[i];
        if (tc->passed)
            continue;
        tsr__buf_printf(&b, "FAIL %s:%d: %s\n%s", rep->file, tc->line, tc->name, tc->diff);
    }
    if (!(rep->failures_text = buf_to_arena(rep, &b)))
        return TSR_ENOMEM;

    tsr__buf_init(&b, &rep->alloc);
    covered = rep->nrules - rep->nuncovered;
    tsr__buf_printf(&b, "coverage of %s: %zu of %zu rules applied (%zu%%)\n", R->rules_file,
                    covered, rep->nrules, rep->nrules ? covered * 100 / rep->nrules : 100);
    for (i = 0; i < rep->nuncovered; i++)
        tsr__buf_printf(&b, "%s%s", i ? ", " : "not covered: ", rep->uncovered[i]);
    if (rep->nuncovered)
        tsr__buf_putc(&b, '\n');
    if (!(rep->coverage_text = buf_to_arena(rep, &b)))
        return TSR_ENOMEM;

    tsr__buf_init(&b, &rep->alloc);
    tsr__buf_puts(&b, rep->failures_text);
    tsr__buf_puts(&b, rep->coverage_text);
    tsr__buf_printf(&b, "%zu passed, %zu failed\n", rep->passed, rep->failed);
    if (!(rep->text = buf_to_arena(rep, &b)))
        return TSR_ENOMEM;
    return TSR_OK;
}

int tsr__ruletest_finish(runner *R)
{
    int rc = finish_coverage(R);
    return rc == TSR_OK ? build_texts(R) : rc;
}

/* ---------------------------------------------------------------------
 * The report.
 */
void tsr_test_report_free(tsr_test_report *r)
{
    tsr_alloc alloc;
    if (!r)
        return;
    alloc = r->alloc;
    r->arena.alloc = &alloc;
    tsr__arena_free(&r->arena);
    tsr__free(&alloc, r, sizeof *r);
}

size_t tsr_test_report_passed(const tsr_test_report *r)
{
    return r ? r->passed : 0;
}

size_t tsr_test_report_failed(const tsr_test_report *r)
{
    return r ? r->failed : 0;
}

size_t tsr_test_report_case_count(const tsr_test_report *r)
{
    return r ? r->ncases : 0;
}

const char *tsr_test_report_case_name(const tsr_test_report *r, size_t i)
{
    return r && i < r->ncases ? r->cases[i].name : NULL;
}

int tsr_test_report_case_passed(const tsr_test_report *r, size_t i)
{
    return r && i < r->ncases && r->cases[i].passed;
}

const char *tsr_test_report_case_diff(const tsr_test_report *r, size_t i)
{
    return r && i < r->ncases ? r->cases[i].diff : NULL;
}

size_t tsr_test_report_rule_count(const tsr_test_report *r)
{
    return r ? r->nrules : 0;
}

size_t tsr_test_report_uncovered_count(const tsr_test_report *r)
{
    return r ? r->nuncovered : 0;
}

const char *tsr_test_report_uncovered(const tsr_test_report *r, size_t i)
{
    return r && i < r->nuncovered ? r->uncovered[i] : NULL;
}

const char *tsr_test_report_failures_text(const tsr_test_report *r)
{
    return r ? r->failures_text : "";
}

const char *tsr_test_report_coverage_text(const tsr_test_report *r)
{
    return r ? r->coverage_text : "";
}

const char *tsr_test_report_text(const tsr_test_report *r)
{
    return r ? r->text : "";
}
