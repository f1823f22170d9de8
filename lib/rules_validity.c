/*
 * rules_validity.c — the `valid:` and `channels:` sugar of categories,
 * discounts, promo codes and earn rules (SPEC §3): a date window, weekdays,
 * an hours window and a channel list, read from YAML into tsr_validity.
 *
 * Kept apart from `when` so the trace can say which part failed; the
 * evaluator checks it against the local date and time of `now` and
 * order.channel.
 */
#include "keys.h"
#include "rules.h"

#include <stdio.h>

/* The keys of `valid:` (keys.h).  load_valid reads each by name. */
static const tsr_key valid_keys[] = {
    { "from", TSR_KS_DATE, 0, .example = "2026-06-01",
      .desc = "The first local date of `now` on which it applies." },
    { "until", TSR_KS_DATE, 0, .example = "2026-08-31",
      .desc = "The last local date of `now` on which it applies." },
    { "weekdays", TSR_KS_WEEKDAYS, TSR_KF_NONEMPTY, .example = "[1, 2, 3, 4, 5]",
      .desc = "The weekdays of `now` on which it applies: 1 = Monday ... 7 = Sunday." },
    { "hours", TSR_KS_HOURS, 0, .example = "10:00-14:00",
      .desc = "The local time window of `now`, start inclusive, end exclusive; may span midnight." },
};
TSR_KEYSET(tsr__keys_valid, "valid", "When a rule applies, by the local date and time of `now`.",
           valid_keys);

/* A date scalar, plain (2026-01-31) or quoted ("2026-01-31"). */
static int load_date(int64_t *out, const tsr_ynode *n, const char *key, const tsr_ycheck *at,
                     const char *where)
{
    if (!tsr__ydate(n, out))
        return tsr__yfail(at, n, TSR_ESCHEMA,
                          "`valid.%s` in %s must be a date like 2026-01-31", key, where);
    return TSR_OK;
}

static int load_weekdays(uint8_t *out, const tsr_ynode *n, const tsr_ycheck *at,
                         const char *where)
{
    size_t i;

    if (n->kind != TSR_Y_SEQ)
        return tsr__yfail(at, n, TSR_ESCHEMA,
                          "`valid.weekdays` in %s must be a list of days, 1 (Monday) to 7 (Sunday)",
                          where);
    /* An empty list would mean "any day" (weekdays == 0), the opposite of
     * what it says. */
    if (n->u.seq.len == 0)
        return tsr__yfail(at, n, TSR_ESCHEMA, "`valid.weekdays` in %s is empty", where);
    *out = 0;
    for (i = 0; i < n->u.seq.len; i++) {
        const tsr_ynode *d = n->u.seq.items[i];
        if (d->kind != TSR_Y_SCALAR || d->u.scalar.len != 1 || d->u.scalar.text[0] < '1' ||
            d->u.scalar.text[0] > '7' || d->u.scalar.style != TSR_YS_PLAIN)
            return tsr__yfail(at, d, TSR_EVALUE,
                              "weekday `%s` in %s is not a day from 1 (Monday) to 7 (Sunday)",
                              d->kind == TSR_Y_SCALAR ? d->u.scalar.text : "...", where);
        *out |= (uint8_t)(1u << (d->u.scalar.text[0] - '1'));
    }
    return TSR_OK;
}

/* "HH:MM" at s; 24:00 only when `end`.  Minutes since midnight or -1. */
static int32_t clock_minutes(const char *s, bool end)
{
    int h, m;
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' ||
        s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    h = (s[0] - '0') * 10 + (s[1] - '0');
    m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || (h == 24 && (m != 0 || !end)))
        return -1;
    return (int32_t)(h * 60 + m);
}

/* "HH:MM-HH:MM", start inclusive, end exclusive, local time. */
static int load_hours(tsr_validity *v, const tsr_ynode *n, const tsr_ycheck *at,
                      const char *where)
{
    const char *s = n->kind == TSR_Y_SCALAR ? n->u.scalar.text : NULL;
    int32_t from = -1, until = -1;

    if (s && n->u.scalar.len == 11 && s[5] == '-') {
        from = clock_minutes(s, false);
        until = clock_minutes(s + 6, true);
    }
    if (from < 0 || until < 0)
        return tsr__yfail(at, n, TSR_ESCHEMA,
                          "`valid.hours` in %s must be a window like \"10:00-14:00\"%s%s%s", where,
                          s ? ", not `" : "", s ? s : "", s ? "`" : "");
    /* Equal ends could mean nothing or the whole day: make the author say. */
    if (from == until)
        return tsr__yfail(at, n, TSR_EVALUE,
                          "`valid.hours` in %s is an empty window; leave `hours` out for any time "
                          "of day", where);
    v->has_hours = true;
    v->hours_from = from;
    v->hours_until = until;
    return TSR_OK;
}

static int load_valid(tsr_validity *v, const tsr_ynode *n, const tsr_ycheck *at,
                      const char *where)
{
    const tsr_ynode *from_node = NULL, *until_node = NULL;
    size_t i;
    int rc;

    if (n->kind != TSR_Y_MAP)
        return tsr__yfail(at, n, TSR_ESCHEMA,
                          "`valid` in %s must be a mapping of from, until, weekdays, hours", where);
    for (i = 0; i < n->u.map.len; i++) {
        const tsr_ynode *k = n->u.map.pairs[i].key, *val = n->u.map.pairs[i].value;
        const char *key = k->u.scalar.text;

        if (strcmp(key, "from") == 0) {
            rc = load_date(&v->from, val, key, at, where);
            v->has_from = true;
            from_node = val;
        } else if (strcmp(key, "until") == 0) {
            rc = load_date(&v->until, val, key, at, where);
            v->has_until = true;
            until_node = val;
        } else if (strcmp(key, "weekdays") == 0) {
            rc = load_weekdays(&v->weekdays, val, at, where);
        } else if (strcmp(key, "hours") == 0) {
            rc = load_hours(v, val, at, where);
        } else {
            const char *near = tsr__keys_closest(&tsr__keys_valid, key, k->u.scalar.len);
            return tsr__yfail(at, k, TSR_ESCHEMA, "unknown key `%s` in %s.valid%s%s%s", key,
                              where, near ? "; did you mean `" : "", near ? near : "",
                              near ? "`?" : "");
        }
        if (rc != TSR_OK)
            return rc;
    }
    if (from_node && until_node && v->until < v->from)
        return tsr__yfail(at, until_node, TSR_EVALUE,
                          "`valid.until` in %s is before `valid.from`: the rule could never apply",
                          where);
    return TSR_OK;
}

static int load_channels(tsr_validity *v, const tsr_ynode *n, const tsr_ycheck *at,
                         const char *where, tsr_arena *arena)
{
    size_t i;

    if (n->kind != TSR_Y_SEQ || n->u.seq.len == 0)
        return tsr__yfail(at, n, TSR_ESCHEMA,
                          "`channels` in %s must be a non-empty list of channel names", where);
    v->channels = tsr__arena_calloc(arena, n->u.seq.len, sizeof *v->channels);
    v->channel_lens = tsr__arena_calloc(arena, n->u.seq.len, sizeof *v->channel_lens);
    if (!v->channels || !v->channel_lens)
        return tsr__err(at->err, TSR_ENOMEM, NULL);
    for (i = 0; i < n->u.seq.len; i++) {
        const tsr_ynode *c = n->u.seq.items[i];
        if (c->kind != TSR_Y_SCALAR || c->u.scalar.len == 0 || tsr__yaml_is_null(c) ||
            c->u.scalar.len > UINT32_MAX)
            return tsr__yfail(at, c, TSR_ESCHEMA,
                              "`channels` in %s must hold channel names (strings)", where);
        v->channels[i] = tsr__arena_strndup(arena, c->u.scalar.text, c->u.scalar.len);
        if (!v->channels[i])
            return tsr__err(at->err, TSR_ENOMEM, NULL);
        v->channel_lens[i] = (uint32_t)c->u.scalar.len;
    }
    v->nchannels = n->u.seq.len;
    return TSR_OK;
}

int tsr__validity_load(tsr_validity *out, const tsr_ynode *valid, const tsr_ynode *channels,
                       const tsr_ycheck *at, const char *where, tsr_arena *arena)
{
    int rc;

    memset(out, 0, sizeof *out);
    if (valid && (rc = load_valid(out, valid, at, where)) != TSR_OK)
        return rc;
    if (channels && (rc = load_channels(out, channels, at, where, arena)) != TSR_OK)
        return rc;
    out->any = out->has_from || out->has_until || out->weekdays || out->has_hours ||
               out->channels;
    return TSR_OK;
}
