/*
 * http_client.h — a small HTTP/1.1 keep-alive client for the tests and the
 * load benchmark of `tessera serve`.  It speaks only what that server
 * answers with (every response has a Content-Length, is chunked, or ends
 * with the connection), which is all a test needs to observe; it is not a
 * general client.
 */
#ifndef TSR_TEST_HTTP_CLIENT_H
#define TSR_TEST_HTTP_CLIENT_H

#include <stddef.h>

typedef struct http_conn {
    int fd;                     /* -1: not connected */
    char addr[128];             /* "127.0.0.1:PORT" */
    char *buf;                  /* bytes read but not yet consumed */
    size_t len, cap;
} http_conn;

typedef struct http_response {
    int status;
    char *head;                 /* status line and headers, NUL-terminated */
    char *body;                 /* NUL-terminated (the NUL is not counted) */
    size_t body_len;
    int closed;                 /* the server ended the connection after it */
} http_response;

void http_init(http_conn *c, const char *addr);
int http_connect(http_conn *c);            /* 0, or -1 with errno */
void http_close(http_conn *c);             /* also frees the buffer */

/* Send one request and read its response, connecting first when needed.
 * `headers` is NULL or extra header lines, each ending in "\r\n".
 * Returns 0, or -1 when the connection failed (out->status is then 0). */
int http_request(http_conn *c, const char *method, const char *path, const char *headers,
                 const char *body, size_t len, http_response *out);

/* Send raw bytes (for malformed requests and slow clients). */
int http_send_raw(http_conn *c, const char *data, size_t len);
/* Read one response after http_send_raw; `timeout_ms` bounds the wait
 * (-1: none).  Returns 0, 1 when the server closed the connection without
 * a response, -1 on timeout or error. */
int http_read_response(http_conn *c, http_response *out, int timeout_ms);

/* A header's value (case-insensitive name), copied into buf; NULL when absent. */
const char *http_header(const http_response *r, const char *name, char *buf, size_t size);
void http_response_free(http_response *r);

#endif
