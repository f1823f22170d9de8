/*
 * http_floor.c — what an HTTP server library costs per request with no
 * work behind it: every request (its body read and dropped) is answered
 * with a fixed 1.5 kB JSON-sized body, the size of a park10 result.  Built
 * once per candidate library of docs/decisions/http-server.md:
 *
 *   http_floor_mhd       libmicrohttpd, configured as `tessera serve` is
 *   http_floor_evhttp    libevent's evhttp, one event base per thread on
 *                        SO_REUSEPORT sockets
 *   http_floor_civetweb  civetweb, a worker thread per connection
 *
 * Each takes the command line of `tessera serve` (it reads --threads and
 * ignores the rest) and logs the same "listening" line, so serve_bench
 * drives it like the real server:
 *
 *   serve_bench build/tests/bench/http_floor_mhd rules/park10/park10.yaml ORDERS
 *
 * SIGTERM stops it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fixed[1501];

static void make_body(void)
{
    memset(fixed, 'x', 1500);
    fixed[0] = '"';
    fixed[1498] = '"';
    fixed[1499] = '\n';
}

static void listening(unsigned port)
{
    fprintf(stderr, "{\"time\":\"-\",\"event\":\"listening\",\"address\":\"127.0.0.1:%u\"}\n",
            port);
}

static void wait_for_sigterm(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    while (sigwaitinfo(&s, NULL) < 0)     /* EINTR: a tracer attached */
        ;
}

static unsigned threads_of(int argc, char **argv)
{
    int i;
    for (i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--threads") == 0)
            return (unsigned)atoi(argv[i + 1]);
    return 2;
}

#if defined(HTTP_FLOOR_MHD)
#include <microhttpd.h>

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **req)
{
    struct MHD_Response *r;
    enum MHD_Result rc;
    static int seen;

    (void)cls, (void)url, (void)method, (void)version, (void)data;
    if (!*req) {
        *req = &seen;
        return MHD_YES;
    }
    if (*size) {
        *size = 0;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(strlen(fixed), fixed, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

/* HTTP_FLOOR_MODE: a comma-separated list of libmicrohttpd modes to try:
 * "epoll" (the default), "poll", "select" or "tpc" (a thread per
 * connection, with poll), and "turbo", "fastopen". */
static int has_mode(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p;
    for (p = list; (p = strstr(p, word)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

static unsigned mode_flags(int *tpc)
{
    const char *m = getenv("HTTP_FLOOR_MODE");
    unsigned f = MHD_USE_ITC;

    if (!m)
        m = "";
    *tpc = has_mode(m, "tpc");
    if (*tpc)
        f |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD;
    else if (has_mode(m, "select"))
        f |= MHD_USE_INTERNAL_POLLING_THREAD;
    else if (has_mode(m, "poll"))
        f |= MHD_USE_POLL_INTERNAL_THREAD;
    else
        f |= MHD_USE_EPOLL_INTERNAL_THREAD;
    if (has_mode(m, "turbo"))
        f |= MHD_USE_TURBO;
    if (has_mode(m, "fastopen"))
        f |= MHD_USE_TCP_FASTOPEN;
    return f;
}

int main(int argc, char **argv)
{
    struct MHD_Daemon *d;
    int tpc;
    unsigned flags = mode_flags(&tpc);

    make_body();
    d = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
                         MHD_OPTION_THREAD_POOL_SIZE, tpc ? 0u : threads_of(argc, argv),
                         MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                         MHD_OPTION_END);
    if (!d)
        return 1;
    listening(MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port);
    wait_for_sigterm();
    MHD_stop_daemon(d);
    return 0;
}

#elif defined(HTTP_FLOOR_EVHTTP)
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

static unsigned short port;

static void handle(struct evhttp_request *req, void *arg)
{
    struct evbuffer *out = evbuffer_new();
    (void)arg;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evbuffer_add(out, fixed, strlen(fixed));
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

/* One listening socket per thread on the same port (SO_REUSEPORT). */
static int listen_socket(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1024) != 0)
        exit(1);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    port = ntohs(sa.sin_port);
    evutil_make_socket_nonblocking(fd);
    return fd;
}

static void *loop(void *arg)
{
    struct event_base *b = event_base_new();
    struct evhttp *h = evhttp_new(b);
    evhttp_set_gencb(h, handle, NULL);
    evhttp_set_max_body_size(h, 1 << 20);
    evhttp_set_timeout(h, 10);
    evhttp_accept_socket(h, (evutil_socket_t)(long)arg);
    event_base_dispatch(b);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned n = threads_of(argc, argv), i;
    pthread_t th[64];
    long fds[64];

    make_body();
    if (n > 64)
        n = 64;
    for (i = 0; i < n; i++)
        fds[i] = listen_socket();
    listening(port);
    for (i = 0; i < n; i++)
        pthread_create(&th[i], NULL, loop, (void *)fds[i]);
    wait_for_sigterm();
    return 0;
}

#elif defined(HTTP_FLOOR_CIVETWEB)
#include <civetweb.h>

static int handle(struct mg_connection *c, void *cbdata)
{
    char buf[65536];
    (void)cbdata;
    while (mg_read(c, buf, sizeof buf) > 0)
        ;
    mg_printf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
              strlen(fixed));
    mg_write(c, fixed, strlen(fixed));
    return 200;
}

int main(int argc, char **argv)
{
    char threads[16];
    struct mg_callbacks cb;
    struct mg_context *ctx;
    struct mg_server_port ports[2];
    const char *opts[] = { "listening_ports", "127.0.0.1:0", "num_threads", threads,
                           "enable_keep_alive", "yes", "tcp_nodelay", "1",
                           "request_timeout_ms", "10000", NULL };

    make_body();
    /* a keep-alive connection holds a worker: at least as many as the
     * benchmark's connections */
    snprintf(threads, sizeof threads, "%u", threads_of(argc, argv) * 8);
    mg_init_library(0);
    memset(&cb, 0, sizeof cb);
    if (!(ctx = mg_start(&cb, NULL, opts)))
        return 1;
    mg_set_request_handler(ctx, "/", handle, NULL);
    if (mg_get_server_ports(ctx, 2, ports) < 1)
        return 1;
    listening((unsigned)ports[0].port);
    wait_for_sigterm();
    mg_stop(ctx);
    return 0;
}

#else
#error "define HTTP_FLOOR_MHD, HTTP_FLOOR_EVHTTP or HTTP_FLOOR_CIVETWEB"
#endif
