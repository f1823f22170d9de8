/*
 * serve_proc.h — start `tessera serve` as a child process on a free
 * loopback port (it is given --listen 127.0.0.1:0 and the address is read
 * from its "listening" log line), signal it, and stop it; for the tests
 * and the load benchmark.
 */
#ifndef TSR_TEST_SERVE_PROC_H
#define TSR_TEST_SERVE_PROC_H

#include <sys/types.h>

typedef struct serve_proc {
    pid_t pid;                  /* 0: not running */
    char addr[64];              /* "127.0.0.1:PORT" */
    char log[512];              /* its stderr */
} serve_proc;

/* Start TESSERA serve --listen 127.0.0.1:0 ARGS... (args NULL-terminated)
 * with stderr into `log`; waits for it to listen.  0, or -1 (the log says
 * why). */
int serve_proc_start(serve_proc *p, const char *tessera, const char *const *args,
                     const char *log);
/* Wait up to timeout_ms for `needle` to appear in the log; 0 when it did. */
int serve_proc_wait_log(const serve_proc *p, const char *needle, int timeout_ms);
/* The whole log (malloc'd, NUL-terminated), or NULL. */
char *serve_proc_read_log(const serve_proc *p);
void serve_proc_signal(const serve_proc *p, int sig);
/* SIGTERM, then wait up to timeout_ms (SIGKILL after it).  Returns the
 * exit status, 128+signal when killed by one, -1 when it had to be
 * killed. */
int serve_proc_stop(serve_proc *p, int timeout_ms);

/* Run a command to completion with stdin from `in` (NULL: /dev/null) and
 * stdout into `out` (NULL: /dev/null); returns its exit status or -1. */
int run_command(const char *const *argv, const char *in, const char *out);

/* A whole file (malloc'd, NUL-terminated) or NULL; *len gets its size. */
char *read_file(const char *path, size_t *len);
/* Write a file through a temporary name and rename(2), as editors and
 * deploy tools do; 0 or -1. */
int write_file_atomic(const char *path, const char *text);

#endif
