/*
 * cmd_serve.c — `tessera serve [OPTIONS] RULES...`: the rule sets over
 * HTTP/JSON for tills, ticketing systems and sites in any language.
 *
 * This file owns the process: options, the bearer token, signals and the
 * main thread's loop.  Signals are blocked in every thread and taken here
 * with sigtimedwait, so nothing runs in a signal handler: SIGHUP reloads
 * every rule file, SIGTERM and SIGINT drain (no new connections, requests
 * in flight answered) and exit 0, and between signals the loop looks at the
 * rule files every --poll milliseconds.
 *
 * Exit status: 0 stopped by SIGTERM/SIGINT; 1 a rule file is broken or the
 * address cannot be bound; 64 a wrong command line.
 */
#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef TSR_HAVE_SERVE

typedef struct serve_args {
    serve_config cfg;
    const char *token_file;
    unsigned poll_ms;
    char **rules;
    size_t nrules;
} serve_args;

/* ---------------------------------------------------------------------
 * Logging.
 */
void serve_now(char out[SERVE_TIME_LEN])
{
    struct timespec ts;
    struct tm tm;
    char sec[24];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, SERVE_TIME_LEN, "%s.%03ldZ", sec, ts.tv_nsec / 1000000L);
}

void serve_log_event(const char *event, const char *fields)
{
    char now[SERVE_TIME_LEN], *line;
    size_t len = strlen(event) + (fields ? strlen(fields) : 0) + 64, done = 0;
    int n;

    if (!(line = malloc(len)))
        return;
    serve_now(now);
    n = snprintf(line, len, "{\"time\":\"%s\",\"event\":\"%s\"%s%s}\n", now, event,
                 fields && fields[0] ? "," : "", fields ? fields : "");
    while (n > 0 && done < (size_t)n) {
        ssize_t w = write(STDERR_FILENO, line + done, (size_t)n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    free(line);
}

/* ---------------------------------------------------------------------
 * Options.
 */

/* A whole number in [min, max], or -1. */
static int number(const char *opt, const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || v < min || v > max) {
        fprintf(stderr, "tessera serve: %s takes a whole number from %llu to %llu, not `%s`\n",
                opt, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static unsigned default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > 64 ? 64u : (unsigned)n;
}

static int parse_args(serve_args *a, int argc, char **argv)
{
    int i, options = 1;

    memset(a, 0, sizeof *a);
    a->cfg.listen = "127.0.0.1:8080";
    a->cfg.threads = default_threads();
    a->cfg.max_connections = 256;
    a->cfg.timeout_s = 10;
    a->cfg.max_body = 1u << 20;
    a->poll_ms = 1000;
    if (!(a->rules = calloc((size_t)argc, sizeof *a->rules)))
        return CLI_ERRORS;
    for (i = 1; i < argc; i++) {
        const char *s = argv[i], *val = NULL, *eq;
        char name[32];
        unsigned long long v;

        if (!options || s[0] != '-' || !s[1]) {
            a->rules[a->nrules++] = argv[i];
            continue;
        }
        if (strcmp(s, "--") == 0) {
            options = 0;
            continue;
        }
        if (strcmp(s, "--log") == 0) {
            a->cfg.log_requests = 1;
            continue;
        }
        /* every other option takes a value: --opt VALUE or --opt=VALUE */
        eq = strchr(s, '=');
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - s) : (int)strlen(s), s);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        if (strcmp(name, "--listen") != 0 && strcmp(name, "--threads") != 0 &&
            strcmp(name, "--max-connections") != 0 && strcmp(name, "--timeout") != 0 &&
            strcmp(name, "--max-body") != 0 && strcmp(name, "--token-file") != 0 &&
            strcmp(name, "--poll") != 0) {
            fprintf(stderr, "tessera serve: unknown option `%s`; try `tessera help serve`\n", s);
            return CLI_USAGE;
        }
        if (!val) {
            fprintf(stderr, "tessera serve: %s needs a value; try `tessera help serve`\n", name);
            return CLI_USAGE;
        }
        if (strcmp(name, "--listen") == 0) {
            a->cfg.listen = val;
        } else if (strcmp(name, "--token-file") == 0) {
            a->token_file = val;
        } else if (strcmp(name, "--threads") == 0) {
            if (number(name, val, 1, 256, &v) != 0)
                return CLI_USAGE;
            a->cfg.threads = (unsigned)v;
        } else if (strcmp(name, "--max-connections") == 0) {
            if (number(name, val, 1, 100000, &v) != 0)
                return CLI_USAGE;
            a->cfg.max_connections = (unsigned)v;
        } else if (strcmp(name, "--timeout") == 0) {
            if (number(name, val, 1, 3600, &v) != 0)
                return CLI_USAGE;
            a->cfg.timeout_s = (unsigned)v;
        } else if (strcmp(name, "--max-body") == 0) {
            /* the library refuses orders over 16 MiB; a refund request
             * carries an order and its receipt */
            if (number(name, val, 64, 64u << 20, &v) != 0)
                return CLI_USAGE;
            a->cfg.max_body = (size_t)v;
        } else {
            if (number(name, val, 0, 3600000, &v) != 0)
                return CLI_USAGE;
            a->poll_ms = (unsigned)v;
        }
    }
    /* libmicrohttpd shares the connections out among its threads */
    if (a->cfg.threads > a->cfg.max_connections)
        a->cfg.threads = a->cfg.max_connections;
    if (a->nrules == 0) {
        fprintf(stderr, "usage: tessera serve [--listen ADDR:PORT] [--threads N] "
                        "[--token-file F] [--max-body BYTES] [--log] RULES...\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* The bearer token: the file's first line, without surrounding white
 * space.  Only its digest is kept. */
static int read_token(serve_config *cfg, const char *path)
{
    char buf[4097];
    size_t n = 0, start = 0, i;
    struct stat st;
    ssize_t got;
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        fprintf(stderr, "%s: error: cannot open the token file: %s\n", path, strerror(errno));
        return CLI_ERRORS;
    }
    while (n < sizeof buf - 1 && (got = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            fprintf(stderr, "%s: error: cannot read the token file: %s\n", path,
                    strerror(errno));
            close(fd);
            return CLI_ERRORS;
        }
        n += (size_t)got;
    }
    if (fstat(fd, &st) == 0 && (st.st_mode & 077))
        fprintf(stderr, "%s: warning: the token file can be read by other users "
                        "(chmod 600 it)\n", path);
    close(fd);
    buf[n] = '\0';
    for (i = 0; i < n && buf[i] != '\n'; i++)
        ;
    n = i;
    while (start < n && (buf[start] == ' ' || buf[start] == '\t'))
        start++;
    while (n > start && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r'))
        n--;
    if (n == start) {
        fprintf(stderr, "%s: error: the token file is empty; put the token on its first "
                        "line\n", path);
        return CLI_ERRORS;
    }
    for (i = start; i < n; i++)
        if ((unsigned char)buf[i] <= ' ' || (unsigned char)buf[i] == 0x7f) {
            fprintf(stderr, "%s: error: the token has a space or control character; "
                            "use letters, digits and punctuation only\n", path);
            return CLI_ERRORS;
        }
    serve_sha256(buf + start, n - start, cfg->token_sha256);
    cfg->has_token = 1;
    memset(buf, 0, sizeof buf);
    return CLI_OK;
}

/* ---------------------------------------------------------------------
 * Running.
 */
static void log_listening(const serve_rules *r, const serve_config *cfg, const char *bound)
{
    char fields[1024];
    int n = snprintf(fields, sizeof fields, "\"address\":\"%s\",\"threads\":%u,\"rulesets\":%zu",
                     bound, cfg->threads, r->n);
    if (n > 0)
        serve_log_event("listening", fields);
}

/* Until SIGTERM or SIGINT: reload on SIGHUP, look at the files between. */
static void run(serve_rules *rules, const sigset_t *signals, unsigned poll_ms)
{
    struct timespec wait = { (time_t)(poll_ms / 1000), (long)(poll_ms % 1000) * 1000000L };

    for (;;) {
        int sig = poll_ms ? sigtimedwait(signals, NULL, &wait) : sigwaitinfo(signals, NULL);
        if (sig == SIGTERM || sig == SIGINT)
            return;
        if (sig == SIGHUP)
            serve_rules_check(rules, 1);
        else if (sig < 0 && errno == EAGAIN)
            serve_rules_check(rules, 0);
    }
}

int cmd_serve(int argc, char **argv)
{
    serve_args a;
    serve_rules rules;
    serve_http *http = NULL;
    sigset_t signals;
    char bound[300], fields[64];
    int rc;

    if ((rc = parse_args(&a, argc, argv)) != CLI_OK) {
        free(a.rules);
        return rc;
    }
    if (a.token_file && (rc = read_token(&a.cfg, a.token_file)) != CLI_OK) {
        free(a.rules);
        return rc;
    }
    /* before any thread starts, so that every thread inherits the mask */
    sigemptyset(&signals);
    sigaddset(&signals, SIGHUP);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = serve_rules_open(&rules, a.rules, a.nrules)) == CLI_OK &&
        (rc = serve_http_start(&http, &a.cfg, &rules, bound, sizeof bound)) == CLI_OK) {
        log_listening(&rules, &a.cfg, bound);
        run(&rules, &signals, a.poll_ms);
        snprintf(fields, sizeof fields, "\"in_flight\":%llu",
                 (unsigned long long)serve_metrics_in_flight_now());
        serve_log_event("draining", fields);
        serve_http_quiesce(http);
        if (!serve_http_drain(http, a.cfg.timeout_s * 1000u))
            serve_log_event("drain_timeout", NULL);
        serve_http_stop(http);
        serve_log_event("stopped", NULL);
    }
    serve_rules_close(&rules);
    free(a.rules);
    return rc;
}

#else /* !TSR_HAVE_SERVE */

int cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "tessera serve: this tessera was built without it (configure with "
                    "-DTSR_SERVE=ON and libmicrohttpd installed)\n");
    return CLI_ERRORS;
}

#endif
