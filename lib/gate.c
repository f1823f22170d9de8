/*
 * gate.c — does a rule apply now: a condition at the current line
 * (tsr__eval_test, whose quick answers are inline in eval.h), a rule's
 * `valid:` and `channels:` against the local date and time of `now` and the
 * order's channel (tsr__validity_holds), and the gates every order-level
 * rule passes in one order — `when`, `valid`, `channels`, `requires`
 * (tsr__rule_gate).  Each answer that is "no" comes with the sentence the
 * trace shows, when a trace is wanted.
 */
#include "eval.h"

int tsr__eval_test_full(tsr_eval *ev, const tsr_expr *e, bool *holds, const char **why)
{
    const char *w = NULL;
    size_t wl = 0;
    int rc;

    rc = tsr__expr_test(e, &ev->x, holds, why ? &w : NULL, &wl);
    if (rc == TSR_OK && !*holds && why)
        *why = w ? tsr__why_false(ev, e, w, wl) : tsr__why_false(ev, e, e->src, e->src_len);
    return rc;
}

static const char *date_text(tsr_eval *ev, int64_t days)
{
    char buf[16];
    tsr__format_date(buf, days);
    return tsr__why(ev, "%s", buf);
}

bool tsr__validity_check(tsr_eval *ev, const tsr_validity *v, const char **why)
{
    bool trace = why && tsr__tracing(ev);

    if (v->has_from && ev->today < v->from) {
        if (trace)
            *why = tsr__why(ev, "valid.from %s not reached", date_text(ev, v->from));
        return false;
    }
    if (v->has_until && ev->today > v->until) {
        if (trace)
            *why = tsr__why(ev, "valid.until %s passed", date_text(ev, v->until));
        return false;
    }
    if (v->weekdays && !(v->weekdays & (1u << (ev->weekday - 1)))) {
        if (trace)
            *why = tsr__why(ev, "valid.weekdays: not on weekday %u", ev->weekday);
        return false;
    }
    if (v->has_hours) {
        int64_t m = ev->now_minutes;
        bool in = v->hours_from <= v->hours_until
                      ? (m >= v->hours_from && m < v->hours_until)
                      : (m >= v->hours_from || m < v->hours_until);   /* overnight */
        if (!in) {
            if (trace)
                *why = tsr__why(ev, "valid.hours %02d:%02d-%02d:%02d: not at %02d:%02d",
                                (int)(v->hours_from / 60), (int)(v->hours_from % 60),
                                (int)(v->hours_until / 60), (int)(v->hours_until % 60),
                                (int)(m / 60), (int)(m % 60));
            return false;
        }
    }
    if (v->channels) {
        const tsr_value *ch = &ev->order->order[TSR_ORDER_CHANNEL];
        size_t i;
        bool ok = false;
        if (ch->type == TSR_T_STRING)
            for (i = 0; i < v->nchannels && !ok; i++)
                ok = v->channel_lens[i] == ch->len && memcmp(v->channels[i], ch->u.s, ch->len) == 0;
        if (!ok) {
            if (trace)
                *why = ch->type == TSR_T_STRING
                           ? tsr__why(ev, "channels: not on channel `%.*s`", (int)ch->len, ch->u.s)
                           : "channels: the order names no channel";
            return false;
        }
    }
    return true;
}

int tsr__rule_gate(tsr_eval *ev, const tsr_expr *when, const tsr_validity *valid, int requires,
                   const char *requires_why, bool *holds, const char **why)
{
    bool trace = tsr__tracing(ev);
    const char *w = NULL;
    int rc;

    *why = NULL;
    ev->x.item = NULL;
    if ((rc = tsr__eval_test(ev, when, holds, trace ? &w : NULL)) != TSR_OK)
        return rc;
    if (*holds && !tsr__validity_holds(ev, valid, trace ? &w : NULL)) {
        *holds = false;
    } else if (*holds && requires >= 0 && !ev->res->promo_accepted[requires]) {
        *holds = false;
        w = requires_why;
    }
    if (*holds)
        return TSR_OK;
    *why = trace ? w : "";
    /* tsr__why gives NULL only when out of memory */
    return *why ? TSR_OK : TSR_ENOMEM;
}
