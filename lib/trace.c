/*
 * trace.c — what an evaluation says about itself: the trace entries (which
 * rule applied, and why not), the sentences they quote, and where an
 * evaluation error happened.
 *
 * Every step writes through these; none of them decides whether a rule
 * applies (gate.c does).  Sentences live in the result arena, so they cost
 * nothing to free; with no_trace the steps ask for none (tsr__tracing).
 */
#include "eval.h"

const char *tsr__why(tsr_eval *ev, const char *fmt, ...)
{
    const char *p;
    va_list ap;

    va_start(ap, fmt);
    p = tsr__arena_vprintf(ev->arena, fmt, ap);
    va_end(ap);
    return p;
}

const char *tsr__why_false(tsr_eval *ev, const tsr_expr *e, const char *text, size_t len)
{
    const char *pre;

    if (!tsr__tracing(ev))
        return "";
    if ((pre = tsr__expr_why_false(e, text, len)) != NULL)
        return pre;
    return tsr__why(ev, "`%.*s` was false", (int)tsr__utf8_prefix(text, len, TSR_QUOTE_MAX), text);
}

int tsr__trace(tsr_eval *ev, const char *section, const char *id, bool applied, const char *why)
{
    tsr_result *r = ev->res;
    tsr_trace_entry *e;

    if (!tsr__tracing(ev))
        return TSR_OK;
    if (r->ntrace == r->trace_cap) {
        void *p = r->trace;
        if (tsr__arena_grow(ev->arena, &p, &r->trace_cap, r->ntrace, sizeof *r->trace, 32) != TSR_OK)
            return TSR_ENOMEM;
        r->trace = p;
    }
    e = &r->trace[r->ntrace++];
    e->section = section;
    e->id = id;
    e->applied = applied;
    e->why = applied ? NULL : (why ? why : "");
    e->note = NULL;
    return TSR_OK;
}

int tsr__eval_locate(tsr_eval *ev, int rc, const tsr_srcpos *rule, const char *path)
{
    tsr_error *err = ev->err;

    if (rc != TSR_EEVAL || !err)
        return rc;
    tsr__err_locate(err, rule && !err->file[0] ? rule->file : NULL, rule ? rule->line : 0,
                    rule ? rule->col : 0, err->path[0] ? NULL : path);
    return rc;
}
