/*
 * error.c — status codes, their descriptions, and filling tsr_error.
 *
 * Errors carry where they happened (file:line:col or a JSON path) and are
 * rendered the way compilers print them.  No global or thread-local state:
 * the caller owns the tsr_error.
 */
#include "internal.h"

#include <stdio.h>

const char *tsr_strerror(int code)
{
    switch (code) {
    case TSR_OK:       return "success";
    case TSR_ENOMEM:   return "out of memory";
    case TSR_EIO:      return "file could not be read";
    case TSR_EPARSE:   return "syntax error";
    case TSR_ESCHEMA:  return "invalid rule file";
    case TSR_ETYPE:    return "type error";
    case TSR_ENAME:    return "unknown name";
    case TSR_EORDER:   return "invalid order";
    case TSR_ELIMIT:   return "limit exceeded";
    case TSR_EVALUE:   return "value out of range";
    case TSR_EINVAL:   return "invalid argument";
    case TSR_EEVAL:    return "evaluation failed";
    case TSR_EINCLUDE: return "include failed";
    case TSR_ERECEIPT: return "receipt does not match";
    default:           return "unknown error";
    }
}

/* src cut to fit dst[size] on a character boundary, control characters
 * and bytes that are not UTF-8 shown as '?': what a tsr_error holds is
 * always clean text, whatever a message quoted.  src may overlap dst. */
static void copy_clean(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;

    n = tsr__utf8_prefix(src, n, size - 1);
    if (n)
        memmove(dst, src, n);
    dst[n] = '\0';
    tsr__clean_in_place(dst);
}

void tsr__error_clear(tsr_error *err)
{
    if (!err)
        return;
    err->code = TSR_OK;
    err->message[0] = '\0';
    err->file[0] = '\0';
    err->line = 0;
    err->column = 0;
    err->path[0] = '\0';
}

int tsr__errv(tsr_error *err, int code, const char *fmt, va_list ap)
{
    /* twice the room, so that the byte after the cut is known and the cut
     * never splits a character */
    char msg[2 * TSR_ERROR_TEXT_MAX];

    if (!err)
        return code;
    /* Format before clearing: an argument may be the error's own old
     * message or file (a caller adding context to an error). */
    if (!fmt || vsnprintf(msg, sizeof msg, fmt, ap) < 0)
        snprintf(msg, sizeof msg, "%s", tsr_strerror(code));
    tsr__error_clear(err);
    err->code = code;
    copy_clean(err->message, sizeof err->message, msg);
    return code;
}

int tsr__err(tsr_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr__errv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int tsr__err_atv(tsr_error *err, int code, const char *file, int line, int col,
                 const char *fmt, va_list ap)
{
    char where[TSR_ERROR_PATH_MAX];

    copy_clean(where, sizeof where, file);   /* file may be err->file */
    tsr__errv(err, code, fmt, ap);
    if (err) {
        memcpy(err->file, where, sizeof where);
        err->line = line;
        err->column = col;
    }
    return code;
}

int tsr__err_at(tsr_error *err, int code, const char *file, int line, int col,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr__err_atv(err, code, file, line, col, fmt, ap);
    va_end(ap);
    return code;
}

int tsr__err_pathv(tsr_error *err, int code, const char *path, const char *fmt, va_list ap)
{
    char where[TSR_ERROR_PATH_MAX];

    copy_clean(where, sizeof where, path);   /* path may be err->path */
    tsr__errv(err, code, fmt, ap);
    if (err)
        memcpy(err->path, where, sizeof where);
    return code;
}

int tsr__err_path(tsr_error *err, int code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr__err_pathv(err, code, path, fmt, ap);
    va_end(ap);
    return code;
}

void tsr__err_locate(tsr_error *err, const char *file, int line, int col, const char *path)
{
    if (!err)
        return;
    if (file && file[0] && line > 0) {
        copy_clean(err->file, sizeof err->file, file);
        err->line = line;
        err->column = col;
    }
    if (path && path[0])
        copy_clean(err->path, sizeof err->path, path);
}

/* The whole rendering into text[size] (large enough for every field at its
 * maximum); returns its length. */
static int render(char *text, size_t size, const tsr_error *err)
{
    if (!err)
        return snprintf(text, size, "no error");
    if (err->file[0] && err->line > 0 && err->column > 0)
        return snprintf(text, size, "%s:%d:%d: %s%s%s%s", err->file, err->line, err->column,
                        err->message, err->path[0] ? " (at " : "", err->path,
                        err->path[0] ? ")" : "");
    if (err->file[0] && err->line > 0)
        return snprintf(text, size, "%s:%d: %s", err->file, err->line, err->message);
    if (err->file[0])
        return snprintf(text, size, "%s: %s", err->file, err->message);
    if (err->path[0])
        return snprintf(text, size, "%s: %s", err->path, err->message);
    return snprintf(text, size, "%s", err->message[0] ? err->message : tsr_strerror(err->code));
}

int tsr_error_format(char *buf, size_t size, const tsr_error *err)
{
    char text[TSR_ERROR_TEXT_MAX + 2 * TSR_ERROR_PATH_MAX + 64];
    int n = render(text, sizeof text, err);
    size_t k;

    if (n < 0)
        return n;
    if (buf && size) {
        /* a short buffer gets a prefix that does not split a character */
        k = tsr__utf8_prefix(text, strlen(text), size - 1);
        memcpy(buf, text, k);
        buf[k] = '\0';
    }
    return n;
}
