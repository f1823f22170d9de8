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

static void copy_trunc(char *dst, size_t size, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
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
    char msg[TSR_ERROR_TEXT_MAX];

    if (!err)
        return code;
    /* Format before clearing: an argument may be the error's own old
     * message or file (a caller adding context to an error). */
    if (fmt)
        vsnprintf(msg, sizeof msg, fmt, ap);
    else
        copy_trunc(msg, sizeof msg, tsr_strerror(code));
    tsr__error_clear(err);
    err->code = code;
    memcpy(err->message, msg, sizeof msg);
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

    copy_trunc(where, sizeof where, file);   /* file may be err->file */
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

    copy_trunc(where, sizeof where, path);   /* path may be err->path */
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

int tsr_error_format(char *buf, size_t size, const tsr_error *err)
{
    char empty[1];

    if (!buf || size == 0) {
        buf = empty;
        size = 1;
    }
    if (!err)
        return snprintf(buf, size, "no error");
    if (err->file[0] && err->line > 0 && err->column > 0)
        return snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line, err->column, err->message);
    if (err->file[0] && err->line > 0)
        return snprintf(buf, size, "%s:%d: %s", err->file, err->line, err->message);
    if (err->file[0])
        return snprintf(buf, size, "%s: %s", err->file, err->message);
    if (err->path[0])
        return snprintf(buf, size, "%s: %s", err->path, err->message);
    return snprintf(buf, size, "%s", err->message[0] ? err->message : tsr_strerror(err->code));
}
