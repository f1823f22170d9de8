/*
 * serve_proc.c — see serve_proc.h.
 */
#include "serve_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* execv with the const strings a test writes: execv's char *const[] is
 * historical, it writes to none of them. */
static void exec_argv(const char *path, const char *const *argv)
{
    char *const *args;
    memcpy(&args, &argv, sizeof args);
    execv(path, args);
}

static void nap_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;

    if (!f)
        return NULL;
    do {
        if (cap - n < 65536) {
            char *p = realloc(buf, cap + 131072);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
            cap += 131072;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

int write_file_atomic(const char *path, const char *text)
{
    char tmp[1024];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "w")))
        return -1;
    if (fputs(text, f) < 0) {
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int serve_proc_wait_log(const serve_proc *p, const char *needle, int timeout_ms)
{
    int waited;
    for (waited = 0; waited <= timeout_ms; waited += 20) {
        char *log = read_file(p->log, NULL);
        int found = log && strstr(log, needle) != NULL;
        free(log);
        if (found)
            return 0;
        nap_ms(20);
    }
    return -1;
}

char *serve_proc_read_log(const serve_proc *p)
{
    return read_file(p->log, NULL);
}

int serve_proc_start(serve_proc *p, const char *tessera, const char *const *args,
                     const char *log)
{
    const char *argv[64];
    size_t n = 0, i;
    int waited;

    memset(p, 0, sizeof *p);
    snprintf(p->log, sizeof p->log, "%s", log);
    argv[n++] = tessera;
    argv[n++] = "serve";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    for (i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(log);        /* not to read an earlier server's address */
    p->pid = fork();
    if (p->pid < 0) {
        p->pid = 0;
        return -1;
    }
    if (p->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int null = open("/dev/null", O_RDWR);
        /* a test killed by its timeout takes its servers with it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (fd < 0 || null < 0)
            _exit(127);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        exec_argv(tessera, argv);
        _exit(127);
    }
    /* up to 20 s: sanitizer builds start slowly on a busy machine */
    for (waited = 0; waited < 20000; waited += 10) {
        char *text = read_file(log, NULL), *at;
        int status;
        if (text && (at = strstr(text, "\"event\":\"listening\",\"address\":\"")) != NULL) {
            at += strlen("\"event\":\"listening\",\"address\":\"");
            for (i = 0; at[i] && at[i] != '"' && i + 1 < sizeof p->addr; i++)
                p->addr[i] = at[i];
            p->addr[i] = '\0';
            free(text);
            return 0;
        }
        free(text);
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return -1;
        }
        nap_ms(10);
    }
    serve_proc_stop(p, 1000);
    return -1;
}

void serve_proc_signal(const serve_proc *p, int sig)
{
    if (p->pid > 0)
        kill(p->pid, sig);
}

int serve_proc_stop(serve_proc *p, int timeout_ms)
{
    int status = 0, waited;

    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    for (waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            if (WIFEXITED(status))
                return WEXITSTATUS(status);
            return 128 + WTERMSIG(status);
        }
        nap_ms(10);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return -1;
}

int run_command(const char *const *argv, const char *in, const char *out)
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        return -1;
    if (pid == 0) {
        int i = open(in ? in : "/dev/null", O_RDONLY);
        int o = out ? open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open("/dev/null", O_WRONLY);
        int e = open("/dev/null", O_WRONLY);
        if (i < 0 || o < 0 || e < 0)
            _exit(127);
        dup2(i, STDIN_FILENO);
        dup2(o, STDOUT_FILENO);
        dup2(e, STDERR_FILENO);
        exec_argv(argv[0], argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
