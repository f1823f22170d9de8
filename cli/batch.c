/*
 * batch.c — helpers of the batch commands (batch.h).  Kept out of the
 * library: they are about terminals and files, not about rules.
 */
#include "batch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int batch_load_rules(tsr_ruleset **rs, const char *path)
{
    tsr_error err;
    if (tsr_ruleset_load_file(rs, path, cli_load_options(), &err) == TSR_OK)
        return CLI_OK;
    if (!err.file[0] && !err.path[0])
        fprintf(stderr, "%s: error: %s\n", path, err.message);
    else
        cli_print_error("error", &err);
    return CLI_ERRORS;
}

FILE *batch_open(const char *path, const char *cmd)
{
    FILE *f;
    if (!path || strcmp(path, "-") == 0)
        return stdin;
    if (!(f = fopen(path, "r")))
        fprintf(stderr, "%s: error: cannot open: %s (tessera %s)\n", path, strerror(errno), cmd);
    return f;
}

void batch_close(FILE *f)
{
    if (f && f != stdin)
        fclose(f);
}

int lr_init(line_reader *lr, int fd, size_t max)
{
    memset(lr, 0, sizeof *lr);
    lr->fd = fd;
    lr->max = max;
    lr->cap = 65536;
    lr->buf = malloc(lr->cap);
    return lr->buf ? 0 : -1;
}

void lr_free(line_reader *lr)
{
    free(lr->buf);
    lr->buf = NULL;
}

/* Make room to read more: drop consumed bytes, grow up to max + 1 bytes of
 * line (one more than allowed, to notice a line that is too long). */
static int lr_make_room(line_reader *lr)
{
    size_t want;
    char *p;

    if (lr->start > 0) {
        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
        lr->end -= lr->start;
        lr->start = 0;
    }
    if (lr->end < lr->cap)
        return 0;
    want = lr->cap * 2;
    if (want > lr->max + 2)
        want = lr->max + 2;
    if (want <= lr->cap)
        return 0;
    p = realloc(lr->buf, want);
    if (!p)
        return -1;
    lr->buf = p;
    lr->cap = want;
    return 0;
}

/* Nothing buffered: the next read may block, so what was written so far
 * must reach whoever waits for it. */
static ssize_t lr_fill(line_reader *lr)
{
    ssize_t got;
    fflush(stdout);
    do
        got = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
    while (got < 0 && errno == EINTR);
    return got;
}

lr_status lr_next(line_reader *lr, char **line, size_t *len)
{
    size_t scan = lr->start;
    int too_long = 0;

    for (;;) {
        char *nl = memchr(lr->buf + scan, '\n', lr->end - scan);
        ssize_t got;
        if (nl) {
            *line = lr->buf + lr->start;
            *len = (size_t)(nl - *line);
            lr->start = (size_t)(nl - lr->buf) + 1;
            return too_long ? LR_TOO_LONG : LR_LINE;
        }
        if (lr->eof) {
            *line = lr->buf + lr->start;
            *len = lr->end - lr->start;
            lr->start = lr->end;
            if (too_long)
                return LR_TOO_LONG;
            return *len ? LR_LINE : LR_END;
        }
        if (lr->end - lr->start > lr->max) {
            /* too long: forget it, keep looking for its end */
            too_long = 1;
            lr->start = lr->end = 0;
        }
        if (lr_make_room(lr) != 0)
            return LR_ERROR;
        scan = lr->end;
        got = lr_fill(lr);
        if (got < 0)
            return LR_ERROR;
        if (got == 0)
            lr->eof = 1;
        lr->end += (size_t)got;
    }
}

int batch_is_blank(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

int ob_put(outbuf *o, const char *s, size_t n)
{
    if (n > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 4096;
        char *p;
        while (cap < o->len + n)
            cap *= 2;
        if (!(p = realloc(o->data, cap)))
            return -1;
        o->data = p;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    return 0;
}

void batch_json_string(FILE *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    putc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            putc('\\', out);
            putc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c < 0x20) {
            fprintf(out, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
        } else {
            putc(c, out);
        }
    }
    putc('"', out);
}

void batch_error_line(FILE *out, size_t lineno, const char *path, const char *message)
{
    fprintf(out, "{\"error\":{\"line\":%zu,\"path\":", lineno);
    if (path && path[0])
        batch_json_string(out, path);
    else
        fputs("null", out);
    fputs(",\"message\":", out);
    batch_json_string(out, message);
    fputs("}}\n", out);
}

/* ---------------------------------------------------------------------
 * `tessera eval --jsonl` lines, shared with `tessera serve`'s JSON-lines
 * route so that both print the same bytes.
 */
static int ob_json_string(outbuf *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    int rc = ob_put(o, "\"", 1);
    for (; *s && rc == 0; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            rc = ob_put(o, esc, 2);
        } else if (c == '\n') {
            rc = ob_put(o, "\\n", 2);
        } else if (c < 0x20) {
            rc = ob_put(o, esc, 6);
        } else {
            rc = ob_put(o, (const char *)&c, 1);
        }
    }
    return rc ? rc : ob_put(o, "\"", 1);
}

int batch_eval_error(outbuf *o, size_t lineno, const tsr_error *err, const char *message)
{
    char num[64];
    const char *path = err ? err->path : NULL;
    int n = snprintf(num, sizeof num, "{\"error\":{\"line\":%zu,\"path\":", lineno);
    if (ob_put(o, num, (size_t)n) != 0 ||
        (path && path[0] ? ob_json_string(o, path) : ob_put(o, "null", 4)) != 0)
        return -1;
    if (err && err->file[0] && err->line > 0) {
        char at[TSR_ERROR_PATH_MAX + 32];
        snprintf(at, sizeof at, "%s:%d:%d", err->file, err->line, err->column);
        if (ob_put(o, ",\"rule\":", 8) != 0 || ob_json_string(o, at) != 0)
            return -1;
    }
    if (ob_put(o, ",\"message\":", 11) != 0 || ob_json_string(o, message) != 0)
        return -1;
    return ob_put(o, "}}\n", 3);
}

int batch_eval_too_long(outbuf *o, size_t lineno, size_t max)
{
    char msg[128];
    snprintf(msg, sizeof msg, "the line is longer than the limit of %zu bytes", max);
    return batch_eval_error(o, lineno, NULL, msg);
}

int batch_eval_line(const tsr_ruleset *rs, tsr_order *order, tsr_result **kept,
                    const tsr_eval_options *opts, outbuf *o, const char *line, size_t len,
                    size_t lineno)
{
    tsr_result *res = NULL;
    tsr_error err;
    const char *json;
    size_t jlen;
    int rc;

    tsr_order_reset(order);
    if (tsr_order_parse(order, line, len, &err) == TSR_OK) {
        if (kept) {
            rc = tsr_evaluate_into(kept, rs, order, opts, &err);
            res = *kept;
        } else {
            rc = tsr_evaluate(&res, rs, order, opts, &err);
        }
    } else {
        rc = err.code;
    }
    if (rc != TSR_OK) {
        if (err.code == TSR_ENOMEM)
            return -1;
        return batch_eval_error(o, lineno, &err, err.message) == 0 ? 1 : -1;
    }
    json = tsr_result_json(res, &jlen);
    rc = json && ob_put(o, json, jlen) == 0 && ob_put(o, "\n", 1) == 0 ? 0 : -1;
    if (!kept)
        tsr_result_free(res);
    return rc;
}

/* ---------------------------------------------------------------------
 * Progress.
 */
static int64_t ms_between(const struct timespec *a, const struct timespec *b)
{
    return (int64_t)(b->tv_sec - a->tv_sec) * 1000 + (b->tv_nsec - a->tv_nsec) / 1000000;
}

void progress_init(progress *p, const char *unit)
{
    memset(p, 0, sizeof *p);
    p->unit = unit;
    p->on = isatty(STDERR_FILENO);
    if (p->on) {
        clock_gettime(CLOCK_MONOTONIC, &p->start);
        p->last = p->start;
    }
}

void progress_tick(progress *p)
{
    struct timespec now;
    int64_t ms;

    p->count++;
    /* the clock is read every 256 items only: cheap at millions a second */
    if (!p->on || (p->count & 255) != 0)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (ms_between(&p->last, &now) < 500)
        return;
    p->last = now;
    ms = ms_between(&p->start, &now);
    fprintf(stderr, "\r\033[K%zu %s, %lld/s", p->count, p->unit,
            (long long)(ms > 0 ? (int64_t)p->count * 1000 / ms : 0));
    fflush(stderr);
}

void progress_done(progress *p)
{
    if (p->on && ms_between(&p->start, &p->last) > 0) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
