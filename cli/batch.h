/*
 * batch.h — what `tessera refund`, `segments` and `diff` share: loading a
 * rule file with compiler-style errors, opening an input (`-` is stdin),
 * reading JSON lines, writing error lines, and a progress line on stderr.
 * (The report of `diff`, money and percentages, is the library's tsr_diff.)
 */
#ifndef TSR_CLI_BATCH_H
#define TSR_CLI_BATCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"

/* Load a rule file; on failure print `file:line:col: error: ...` and
 * return CLI_ERRORS. */
int batch_load_rules(tsr_ruleset **rs, const char *path);

/* Open an input file, or stdin for NULL or "-"; prints why on failure. */
FILE *batch_open(const char *path, const char *cmd);
void batch_close(FILE *f);

/* A line reader with a bound: lines of any length are read, but at most
 * `max` bytes of one are kept, so a hostile input cannot make the program
 * grow without limit (a longer line is reported as LR_TOO_LONG and
 * skipped).  Reads the file descriptor directly, in large blocks; before a
 * read that may block, stdout is flushed so a streaming consumer sees every
 * result it is owed. */
typedef struct line_reader {
    int fd;
    char *buf;
    size_t cap, start, end;     /* unread data is buf[start..end) */
    size_t max;                 /* longest line kept */
    int eof;
} line_reader;

typedef enum { LR_LINE, LR_TOO_LONG, LR_END, LR_ERROR } lr_status;

int lr_init(line_reader *lr, int fd, size_t max);   /* 0, or -1 out of memory */
/* The next line, without its newline (a trailing '\r' is kept). */
lr_status lr_next(line_reader *lr, char **line, size_t *len);
void lr_free(line_reader *lr);
int batch_is_blank(const char *s, size_t n);

/* A growable buffer (an output line, a request body). */
typedef struct outbuf {
    char *data;
    size_t len, cap;
} outbuf;

/* Append s[0..n); 0, or -1 out of memory (the buffer is then unchanged). */
int ob_put(outbuf *o, const char *s, size_t n);

/* A JSON string literal of s on `out`. */
void batch_json_string(FILE *out, const char *s);
/* {"error":{"line":N,"path":"..."|null,"message":"..."}} and a newline. */
void batch_error_line(FILE *out, size_t lineno, const char *path, const char *message);

/* One line of `tessera eval --jsonl` into `o`: the result JSON and a
 * newline, or the error object {"error":{"line":N,"path":...|null,
 * ["rule":"FILE:LINE:COL",]"message":...}} and a newline.  `order` is
 * reset first.  `kept` NULL: a result per line; else the result kept
 * between lines (tsr_evaluate_into; *kept NULL at first, freed by the
 * caller).  Returns 0 priced, 1 rejected, -1 out of memory. */
int batch_eval_line(const tsr_ruleset *rs, tsr_order *order, tsr_result **kept,
                    const tsr_eval_options *opts, outbuf *o, const char *line, size_t len,
                    size_t lineno);
/* The error object of a line: `err` NULL or the library's error (its path
 * and rule), `message` the text.  0, or -1 out of memory. */
int batch_eval_error(outbuf *o, size_t lineno, const tsr_error *err, const char *message);
/* The error object of a line longer than `max` bytes (not read). */
int batch_eval_too_long(outbuf *o, size_t lineno, size_t max);

/* A progress line on stderr, only when stderr is a terminal: how many
 * items and how many per second, redrawn about every half second and
 * erased by progress_done. */
typedef struct progress {
    int on;
    const char *unit;           /* "profiles", "orders" */
    size_t count;
    struct timespec start, last;
} progress;

void progress_init(progress *p, const char *unit);
void progress_tick(progress *p);     /* one more item */
void progress_done(progress *p);

#endif
