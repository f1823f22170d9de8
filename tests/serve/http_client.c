/*
 * http_client.c — see http_client.h.
 */
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

void http_init(http_conn *c, const char *addr)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
}

int http_connect(http_conn *c)
{
    struct sockaddr_in sa;
    char host[64];
    const char *colon = strrchr(c->addr, ':');
    int one = 1;

    http_close(c);
    if (!colon || (size_t)(colon - c->addr) >= sizeof host) {
        errno = EINVAL;
        return -1;
    }
    memcpy(host, c->addr, (size_t)(colon - c->addr));
    host[colon - c->addr] = '\0';
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        http_close(c);
        errno = e;
        return -1;
    }
    return 0;
}

void http_close(http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

int http_send_raw(http_conn *c, const char *data, size_t len)
{
    size_t done = 0;
    if (c->fd < 0 && http_connect(c) != 0)
        return -1;
    while (done < len) {
        ssize_t w = send(c->fd, data + done, len - done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* Send head and body with one sendmsg when the kernel takes them whole,
 * as clients do for small bodies (one segment, one wake-up of the server);
 * the rest, if any, after it. */
static int send_two(http_conn *c, const char *head, size_t hlen, const char *body, size_t blen)
{
    struct iovec iov[2];
    struct msghdr m;
    ssize_t w;

    if (c->fd < 0 && http_connect(c) != 0)
        return -1;
    iov[0].iov_base = (void *)head;
    iov[0].iov_len = hlen;
    iov[1].iov_base = (void *)body;
    iov[1].iov_len = blen;
    memset(&m, 0, sizeof m);
    m.msg_iov = iov;
    m.msg_iovlen = blen ? 2 : 1;
    do
        w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return -1;
    if ((size_t)w < hlen) {
        if (http_send_raw(c, head + w, hlen - (size_t)w) != 0)
            return -1;
        w = (ssize_t)hlen;
    }
    return blen ? http_send_raw(c, body + ((size_t)w - hlen), blen - ((size_t)w - hlen)) : 0;
}

/* Read more into the buffer: 1 got bytes, 0 the peer closed, -1 error or
 * timeout. */
static int fill(http_conn *c, int timeout_ms)
{
    ssize_t got;
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 131072;
        char *p = realloc(c->buf, cap);
        if (!p)
            return -1;
        c->buf = p;
        c->cap = cap;
    }
    if (timeout_ms >= 0) {
        struct pollfd p = { c->fd, POLLIN, 0 };
        int r;
        do
            r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
            return -1;
    }
    do
        got = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return errno == ECONNRESET ? 0 : -1;
    c->len += (size_t)got;
    return got > 0;
}

const char *http_header(const http_response *r, const char *name, char *buf, size_t size)
{
    size_t n = strlen(name);
    const char *p = r->head ? strstr(r->head, "\r\n") : NULL;

    while (p && p[2]) {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (!end)
            break;
        if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            size_t len;
            while (*v == ' ')
                v++;
            len = (size_t)(end - v);
            if (len >= size)
                len = size - 1;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return buf;
        }
        p = end;
    }
    return NULL;
}

void http_response_free(http_response *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Wait until the buffer holds n bytes from `at`; 0, or -1. */
static int have(http_conn *c, size_t at, size_t n, int timeout_ms)
{
    while (c->len < at + n)
        if (fill(c, timeout_ms) <= 0)
            return -1;
    return 0;
}

/* The offset of the CRLF ending the line that starts at `at`, or -1. */
static long line_end(http_conn *c, size_t at, int timeout_ms)
{
    size_t scan = at;
    for (;;) {
        for (; scan + 1 < c->len; scan++)
            if (c->buf[scan] == '\r' && c->buf[scan + 1] == '\n')
                return (long)scan;
        if (fill(c, timeout_ms) <= 0)
            return -1;
    }
}

/* A chunked body from `at` into out->body; *end receives the offset after
 * it (its trailers too).  0, or -1. */
static int read_chunked(http_conn *c, size_t at, http_response *out, int timeout_ms,
                        size_t *end)
{
    char *body = malloc(4096);
    size_t len = 0, cap = 4096;

    if (!body)
        return -1;
    for (;;) {
        long e = line_end(c, at, timeout_ms);
        char *hex_end, *grown;
        unsigned long size;

        if (e < 0)
            goto fail;
        size = strtoul(c->buf + at, &hex_end, 16);
        if (hex_end == c->buf + at)
            goto fail;
        at = (size_t)e + 2;
        if (size == 0)
            break;
        if (have(c, at, size + 2, timeout_ms) != 0)
            goto fail;
        if (len + size + 1 > cap) {
            while (len + size + 1 > cap)
                cap *= 2;
            if (!(grown = realloc(body, cap)))
                goto fail;
            body = grown;
        }
        memcpy(body + len, c->buf + at, size);
        len += size;
        at += size + 2;
    }
    for (;;) {     /* trailers, up to the empty line */
        long e = line_end(c, at, timeout_ms);
        int empty = e == (long)at;
        if (e < 0)
            goto fail;
        at = (size_t)e + 2;
        if (empty)
            break;
    }
    body[len] = '\0';
    out->body = body;
    out->body_len = len;
    *end = at;
    return 0;
fail:
    free(body);
    return -1;
}

int http_read_response(http_conn *c, http_response *out, int timeout_ms)
{
    char *end, value[64];
    size_t head_len, need;
    long length = -1;
    int r;

    memset(out, 0, sizeof *out);
    for (;;) {
        if (c->len && (c->buf[c->len] = '\0', end = strstr(c->buf, "\r\n\r\n")) != NULL) {
            head_len = (size_t)(end - c->buf) + 4;
            /* an interim 100 Continue: skip it */
            if (strncmp(c->buf, "HTTP/1.1 100", 12) == 0) {
                memmove(c->buf, c->buf + head_len, c->len - head_len);
                c->len -= head_len;
                continue;
            }
            break;
        }
        if ((r = fill(c, timeout_ms)) <= 0) {
            int none = r == 0 && c->len == 0;
            http_close(c);
            return none ? 1 : -1;
        }
    }
    if (!(out->head = malloc(head_len + 1)))
        return -1;
    memcpy(out->head, c->buf, head_len);
    out->head[head_len] = '\0';
    if (sscanf(out->head, "HTTP/1.%*d %d", &out->status) != 1)
        out->status = 0;
    if (http_header(out, "Content-Length", value, sizeof value))
        length = atol(value);
    if (http_header(out, "Connection", value, sizeof value) && strcasecmp(value, "close") == 0)
        out->closed = 1;
    if (http_header(out, "Transfer-Encoding", value, sizeof value) &&
        strcasecmp(value, "chunked") == 0) {
        size_t after;
        if (read_chunked(c, head_len, out, timeout_ms, &after) != 0)
            return -1;
        memmove(c->buf, c->buf + after, c->len - after);
        c->len -= after;
        if (out->closed)
            http_close(c);
        return 0;
    }
    /* the body: Content-Length bytes, or up to the end of the connection */
    for (;;) {
        size_t have = c->len - head_len;
        if (length >= 0 && have >= (size_t)length)
            break;
        if ((r = fill(c, timeout_ms)) < 0)
            return -1;
        if (r == 0) {
            if (length >= 0)
                return -1;
            out->closed = 1;
            break;
        }
    }
    need = length >= 0 ? (size_t)length : c->len - head_len;
    if (!(out->body = malloc(need + 1)))
        return -1;
    memcpy(out->body, c->buf + head_len, need);
    out->body[need] = '\0';
    out->body_len = need;
    memmove(c->buf, c->buf + head_len + need, c->len - head_len - need);
    c->len -= head_len + need;
    if (out->closed)
        http_close(c);
    return 0;
}

int http_request(http_conn *c, const char *method, const char *path, const char *headers,
                 const char *body, size_t len, http_response *out)
{
    char head[2048];
    int attempt, n;

    memset(out, 0, sizeof *out);
    n = snprintf(head, sizeof head,
                 "%s %s HTTP/1.1\r\nHost: %s\r\n%sContent-Length: %zu\r\n\r\n", method, path,
                 c->addr, headers ? headers : "", body ? len : (size_t)0);
    if (n < 0 || (size_t)n >= sizeof head)
        return -1;
    /* a kept-alive connection the server has closed meanwhile is opened
     * again, once */
    for (attempt = 0; attempt < 2; attempt++) {
        int fresh = c->fd < 0;
        /* a server may answer before the whole body is sent (413 from
         * Content-Length) and close: its answer is still read */
        if ((send_two(c, head, (size_t)n, body, body ? len : 0) == 0 || c->fd >= 0) &&
            http_read_response(c, out, 30000) == 0)
            return 0;
        http_response_free(out);
        http_close(c);
        if (fresh)
            break;
    }
    return -1;
}
