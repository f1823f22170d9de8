/*
 * check_report.c — the report of a check (tsr_ruleset_check_file): every
 * error of a rule file, kept as the loader finds them (up to
 * TSR_CHECK_MAX_ERRORS), and the accessors.  ruleset.c makes the report and
 * puts it in file order; rules_load.c adds to it while it goes on building
 * after an error.
 */
#include "rules.h"

int tsr__check_report_add(tsr_check_report *r, const tsr_error *e)
{
    if (r->n >= TSR_CHECK_MAX_ERRORS) {
        r->truncated = true;
        return TSR_ELIMIT;
    }
    if (tsr__grow(&r->alloc, (void **)&r->errors, &r->cap, r->n + 1, sizeof *r->errors) !=
        TSR_OK)
        return TSR_ENOMEM;
    r->errors[r->n++] = *e;
    return TSR_OK;
}

size_t tsr_check_report_count(const tsr_check_report *r)
{
    return r ? r->n : 0;
}

int tsr_check_report_error(const tsr_check_report *r, size_t i, tsr_error *out)
{
    if (!r || i >= r->n || !out)
        return TSR_EINVAL;
    *out = r->errors[i];
    return TSR_OK;
}

int tsr_check_report_truncated(const tsr_check_report *r)
{
    return r && r->truncated;
}

void tsr_check_report_free(tsr_check_report *r)
{
    tsr_alloc alloc;

    if (!r)
        return;
    alloc = r->alloc;
    tsr__free(&alloc, r->errors, r->cap * sizeof *r->errors);
    tsr__free(&alloc, r, sizeof *r);
}
