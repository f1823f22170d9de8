/*
 * test_serve.c — `tessera serve` end to end: the real binary on a free
 * loopback port, driven by a small C client (http_client.c).
 *
 *   test_serve TESSERA SOURCE_DIR SHARED_DIR
 *
 * It checks that the server gives what the command line gives, byte for
 * byte (the 1024 park10 orders with their expected answers, every order
 * of every rule-test file, refunds, segments, the query options; the same
 * orders as JSON lines, as `tessera eval --jsonl` answers them), that
 * everything a client can send wrong is a 4xx with a JSON error and never
 * a 5xx or a crash (malformed JSON, invalid orders, unknown rule sets and
 * routes, wrong methods, bodies over the limit, garbage requests, slow and
 * stuck clients, too many connections, a missing or wrong token), that
 * reloads under a stream of requests fail none of them (new versions,
 * a changed include, a broken file that keeps the old version, SIGHUP),
 * and that SIGTERM answers a request in flight and exits 0.  Every server
 * is stopped with SIGTERM and must exit 0 — under ASan that includes
 * having leaked nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <yajl/yajl_tree.h>

#include "http_client.h"
#include "serve_proc.h"

static const char *tessera, *src, *shared;
static char tmp[256];
static serve_proc main_srv;     /* park10, the refund rule sets, the CLI shop */

static void path_of(char *out, size_t size, const char *dir, const char *rel)
{
    snprintf(out, size, "%s/%s", dir, rel);
}

static void nap_ms(int ms)
{
    struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------------
 * Requests.
 */
static http_response post(http_conn *c, const char *path, const char *body, size_t len)
{
    http_response r;
    if (http_request(c, "POST", path, NULL, body, len, &r) != 0)
        fail_msg("POST %s: no response (%s)", path, strerror(errno));
    return r;
}

static http_response get(http_conn *c, const char *path)
{
    http_response r;
    if (http_request(c, "GET", path, NULL, NULL, 0, &r) != 0)
        fail_msg("GET %s: no response (%s)", path, strerror(errno));
    return r;
}

/* An order the shop refuses: two lines with one id. */
#define DUP_ORDER                                                                         \
    "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"," \
    "\"height_cm\":120},{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":150}]}"

/* Orders as JSON lines: the batch form of evaluate. */
static const char ndjson_header[] = "Content-Type: application/x-ndjson\r\n";

static http_response post_lines(http_conn *c, const char *path, const char *body, size_t len)
{
    http_response r;
    if (http_request(c, "POST", path, ndjson_header, body, len, &r) != 0)
        fail_msg("POST %s (JSON lines): no response (%s)", path, strerror(errno));
    return r;
}

/* The status and the error code of a refusal, checked together. */
static void expect_error(http_response *r, int status, const char *code)
{
    char want[128];
    if (r->status != status)
        fail_msg("status %d, expected %d: %s", r->status, status, r->body ? r->body : "");
    snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    if (strncmp(r->body, want, strlen(want)) != 0)
        fail_msg("error body %s, expected code %s", r->body, code);
}

static yajl_val json(const char *text)
{
    char err[256];
    yajl_val v = yajl_tree_parse(text, err, sizeof err);
    if (!v)
        fail_msg("not JSON (%s): %.300s", err, text);
    return v;
}

static const char *json_str(yajl_val v, const char *a, const char *b)
{
    const char *path[] = { a, b, NULL };
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);
    return s ? YAJL_GET_STRING(s) : NULL;
}

static int wait_for(http_conn *c, const char *path, const char *needle, int timeout_ms)
{
    int waited;
    for (waited = 0; waited <= timeout_ms; waited += 25) {
        http_response r;
        int found = 0;
        if (http_request(c, "GET", path, NULL, NULL, 0, &r) == 0)
            found = r.body && strstr(r.body, needle) != NULL;
        http_response_free(&r);
        if (found)
            return 0;
        nap_ms(25);
    }
    return -1;
}

typedef struct lines {
    char **v;
    size_t n;
} lines;

static lines read_lines(const char *path)
{
    lines l = { NULL, 0 };
    size_t len, i, start = 0, cap = 0;
    char *text = read_file(path, &len);

    if (!text)
        fail_msg("cannot read %s", path);
    for (i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n')
            continue;
        if (i > start) {
            if (l.n == cap) {
                cap = cap ? cap * 2 : 256;
                l.v = realloc(l.v, cap * sizeof *l.v);
                assert_non_null(l.v);
            }
            l.v[l.n++] = strndup(text + start, i - start);
        }
        start = i + 1;
    }
    free(text);
    return l;
}

static void free_lines(lines *l)
{
    size_t i;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

/* ---------------------------------------------------------------------
 * The main server.
 */
static int start_main(void **state)
{
    char park10[512], opera[512], park[512], shop[512], log[512];
    const char *args[] = { "--log", "--threads", "2", park10, opera, park, shop, NULL };
    (void)state;

    snprintf(tmp, sizeof tmp, "%s/tsr-serve-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp))
        return -1;
    path_of(park10, sizeof park10, src, "rules/park10/park10.yaml");
    path_of(opera, sizeof opera, src, "tests/rules/refunds/opera.yaml");
    path_of(park, sizeof park, src, "tests/rules/refunds/park.yaml");
    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    path_of(log, sizeof log, tmp, "main.log");
    if (serve_proc_start(&main_srv, tessera, args, log) != 0) {
        char *text = read_file(log, NULL);
        fprintf(stderr, "the server did not start:\n%s\n", text ? text : "");
        free(text);
        return -1;
    }
    return 0;
}

static int stop_main(void **state)
{
    char cmd[600];
    (void)state;
    if (main_srv.pid)
        serve_proc_stop(&main_srv, 20000);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Servers a test starts for itself.  Each is registered until stopped, so
 * that a test that fails half-way (cmocka leaves it by longjmp) leaves no
 * server behind: its teardown kills what is still registered.
 */
static pid_t strays[8];

static void start(serve_proc *p, const char *name, const char *const *args)
{
    char log[512];
    size_t i;

    path_of(log, sizeof log, tmp, name);
    if (serve_proc_start(p, tessera, args, log) != 0) {
        char *text = read_file(log, NULL);
        fail_msg("%s did not start:\n%s", name, text ? text : "");
    }
    for (i = 0; i < sizeof strays / sizeof strays[0]; i++)
        if (!strays[i]) {
            strays[i] = p->pid;
            break;
        }
}

/* SIGTERM and the exit status (0 expected). */
static int stop(serve_proc *p)
{
    pid_t pid = p->pid;
    size_t i;
    int rc = serve_proc_stop(p, 20000);
    for (i = 0; i < sizeof strays / sizeof strays[0]; i++)
        if (strays[i] == pid)
            strays[i] = 0;
    return rc;
}

static void stop_hammers(void);

static int kill_strays(void **state)
{
    size_t i;
    (void)state;
    stop_hammers();
    for (i = 0; i < sizeof strays / sizeof strays[0]; i++)
        if (strays[i]) {
            kill(strays[i], SIGKILL);
            waitpid(strays[i], NULL, 0);
            strays[i] = 0;
        }
    return 0;
}

/* ---------------------------------------------------------------------
 * Same answers as the command line.
 */

/* park10's answer line: order id, ticket categories, due, points. */
static void park10_answer(const char *result, char *out, size_t size)
{
    yajl_val r = json(result), ls, earned;
    const char *lines_path[] = { "lines", NULL }, *earned_path[] = { "points", "earned", NULL };
    size_t i, n;
    int first = 1;

    ls = yajl_tree_get(r, lines_path, yajl_t_array);
    earned = yajl_tree_get(r, earned_path, yajl_t_number);
    assert_non_null(ls);
    assert_non_null(earned);
    n = (size_t)snprintf(out, size, "{\"id\":\"%s\",\"categories\":[", json_str(r, "order", NULL));
    for (i = 0; i < YAJL_GET_ARRAY(ls)->len; i++) {
        const char *cat = json_str(YAJL_GET_ARRAY(ls)->values[i], "category", NULL);
        if (!cat)
            continue;
        n += (size_t)snprintf(out + n, size - n, "%s\"%s\"", first ? "" : ",", cat);
        first = 0;
    }
    snprintf(out + n, size - n, "],\"due\":\"%s\",\"points\":%lld}", json_str(r, "totals", "due"),
             YAJL_GET_INTEGER(earned));
    yajl_tree_free(r);
}

static void test_park10_answers(void **state)
{
    char orders[512], expected[512], got[1024];
    lines in, want;
    http_conn c;
    size_t i;
    (void)state;

    path_of(orders, sizeof orders, shared, "bench/park10/orders.jsonl");
    path_of(expected, sizeof expected, shared, "bench/park10/expected.jsonl");
    in = read_lines(orders);
    want = read_lines(expected);
    assert_int_equal(in.n, 1024);
    assert_int_equal(want.n, in.n);
    http_init(&c, main_srv.addr);
    for (i = 0; i < in.n; i++) {
        http_response r = post(&c, "/v1/rulesets/park10/evaluate", in.v[i], strlen(in.v[i]));
        if (r.status != 200)
            fail_msg("order %zu: status %d: %s", i + 1, r.status, r.body);
        park10_answer(r.body, got, sizeof got);
        if (strcmp(got, want.v[i]) != 0)
            fail_msg("order %zu:\n  want %s\n  got  %s", i + 1, want.v[i], got);
        http_response_free(&r);
    }
    http_close(&c);
    free_lines(&in);
    free_lines(&want);
}

/* Every park10 order through the server equals `tessera eval --jsonl`'s
 * line for it, byte for byte (and the newline `tessera eval` ends with),
 * with the CLI's options and their query twins. */
static void same_as_jsonl(const char *query, const char *option)
{
    char rules[512], orders[512], out[512], path[256];
    const char *argv[] = { tessera, "eval", "--jsonl", option, rules, orders, NULL };
    lines in, want;
    http_conn c;
    size_t i;

    path_of(rules, sizeof rules, src, "rules/park10/park10.yaml");
    path_of(orders, sizeof orders, shared, "bench/park10/orders.jsonl");
    path_of(out, sizeof out, tmp, "jsonl.out");
    if (!option) {
        argv[3] = rules;
        argv[4] = orders;
        argv[5] = NULL;
    }
    assert_int_equal(run_command(argv, NULL, out), 0);
    in = read_lines(orders);
    want = read_lines(out);
    assert_int_equal(want.n, in.n);
    snprintf(path, sizeof path, "/v1/rulesets/park10/evaluate%s", query);
    http_init(&c, main_srv.addr);
    for (i = 0; i < in.n; i++) {
        http_response r = post(&c, path, in.v[i], strlen(in.v[i]));
        size_t n = strlen(want.v[i]);
        assert_int_equal(r.status, 200);
        if (r.body_len != n + 1 || memcmp(r.body, want.v[i], n) != 0 || r.body[n] != '\n')
            fail_msg("%s order %zu differs from tessera eval:\n  eval  %.200s\n  serve %.200s",
                     path, i + 1, want.v[i], r.body);
        http_response_free(&r);
    }
    http_close(&c);
    free_lines(&in);
    free_lines(&want);
}

static void test_evaluate_same_bytes_as_eval(void **state)
{
    (void)state;
    same_as_jsonl("", NULL);
    same_as_jsonl("?trace=0", "--no-trace");
    same_as_jsonl("?customer_safe=1", "--customer-safe");
}

static void test_explain_same_as_eval(void **state)
{
    char rules[512], orders[512], order[512], out[512];
    const char *argv[] = { tessera, "eval", "--explain", rules, order, NULL };
    lines in;
    http_conn c;
    size_t i;
    (void)state;

    path_of(rules, sizeof rules, src, "rules/park10/park10.yaml");
    path_of(orders, sizeof orders, shared, "bench/park10/orders.jsonl");
    path_of(order, sizeof order, tmp, "order.json");
    path_of(out, sizeof out, tmp, "explain.out");
    in = read_lines(orders);
    http_init(&c, main_srv.addr);
    for (i = 0; i < 16; i++) {
        char ct[128], *want;
        size_t wlen;
        http_response r;
        assert_int_equal(write_file_atomic(order, in.v[i * 61]), 0);
        assert_int_equal(run_command(argv, NULL, out), 0);
        want = read_file(out, &wlen);
        r = post(&c, "/v1/rulesets/park10/evaluate?explain=1", in.v[i * 61], strlen(in.v[i * 61]));
        assert_int_equal(r.status, 200);
        assert_string_equal(http_header(&r, "Content-Type", ct, sizeof ct),
                            "text/plain; charset=utf-8");
        assert_int_equal(r.body_len, wlen);
        assert_memory_equal(r.body, want, wlen);
        free(want);
        http_response_free(&r);
    }
    http_close(&c);
    free_lines(&in);
}

/* `tessera eval --jsonl [option] RULES INPUT` into `out`; its exit status. */
static int eval_jsonl(const char *rules, const char *input, const char *option, const char *out)
{
    const char *argv[] = { tessera, "eval", "--jsonl", option, rules, input, NULL };
    if (!option) {
        argv[3] = rules;
        argv[4] = input;
        argv[5] = NULL;
    }
    return run_command(argv, NULL, out);
}

/* POST `input` (a file) as JSON lines; the answer must be 200 and the
 * exact bytes of `tessera eval --jsonl` on the same file.  Returns the
 * response for more checks. */
static http_response expect_jsonl(http_conn *c, const char *path, const char *rules,
                                  const char *input, const char *option)
{
    char out[512], ct[64];
    size_t blen, wlen;
    char *body = read_file(input, &blen), *want;
    http_response r;
    int rc;

    assert_non_null(body);
    path_of(out, sizeof out, tmp, "jsonl-batch.out");
    rc = eval_jsonl(rules, input, option, out);
    assert_true(rc == 0 || rc == 2);
    want = read_file(out, &wlen);
    r = post_lines(c, path, body, blen);
    if (r.status != 200)
        fail_msg("%s: status %d: %.300s", path, r.status, r.body);
    assert_string_equal(http_header(&r, "Content-Type", ct, sizeof ct), "application/x-ndjson");
    if (r.body_len != wlen || memcmp(r.body, want, wlen) != 0) {
        size_t i = 0;
        while (i < wlen && i < r.body_len && r.body[i] == want[i])
            i++;
        fail_msg("%s: differs from tessera eval --jsonl at byte %zu of %zu/%zu:\n"
                 "  eval  %.200s\n  serve %.200s", path, i, wlen, r.body_len, want + i,
                 r.body + i);
    }
    free(body);
    free(want);
    return r;
}

/* The park10 orders, one a line, into `path`: the first `count`, going
 * round again when count is over 1024. */
static void write_park10(const char *path, size_t count)
{
    char orders[512];
    lines in;
    FILE *f;
    size_t i;

    path_of(orders, sizeof orders, shared, "bench/park10/orders.jsonl");
    in = read_lines(orders);
    assert_true(in.n > 0);
    assert_non_null(f = fopen(path, "w"));
    for (i = 0; i < count; i++)
        fprintf(f, "%s\n", in.v[i % in.n]);
    assert_int_equal(fclose(f), 0);
    free_lines(&in);
}

/* The 1024 park10 orders in one request (an answer of 1.5 MB, sent as it
 * is produced) and the first ten (one answer built whole, sent with its
 * length) give what `tessera eval --jsonl` gives, with the CLI's options
 * and their query twins. */
static void test_jsonl_same_bytes_as_eval(void **state)
{
    static const char *const twins[][2] = {
        { "", NULL }, { "?trace=0", "--no-trace" }, { "?customer_safe=1", "--customer-safe" },
        { "?explain=0&trace=1", NULL },
    };
    char rules[512], orders[512], ten[512], path[256], hdr[64];
    http_conn c;
    size_t i;
    (void)state;

    path_of(rules, sizeof rules, src, "rules/park10/park10.yaml");
    path_of(orders, sizeof orders, shared, "bench/park10/orders.jsonl");
    path_of(ten, sizeof ten, tmp, "ten.jsonl");
    write_park10(ten, 10);
    http_init(&c, main_srv.addr);
    for (i = 0; i < sizeof twins / sizeof twins[0]; i++) {
        http_response r;
        snprintf(path, sizeof path, "/v1/rulesets/park10/evaluate%s", twins[i][0]);
        r = expect_jsonl(&c, path, rules, orders, twins[i][1]);
        assert_string_equal(http_header(&r, "Transfer-Encoding", hdr, sizeof hdr), "chunked");
        assert_int_equal(r.closed, 0);      /* keep-alive */
        http_response_free(&r);
        r = expect_jsonl(&c, path, rules, ten, twins[i][1]);
        assert_non_null(http_header(&r, "Content-Length", hdr, sizeof hdr));
        assert_int_equal(r.closed, 0);
        http_response_free(&r);
    }
    http_close(&c);
}

/* A bad line is an error line, numbered as `tessera eval --jsonl` numbers
 * it (blank lines counted), and the lines after it are answered; what is
 * wrong with the request as a whole is a 4xx like any request's. */
static void test_jsonl_errors_per_line(void **state)
{
    static const char mixed[] =
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\","
        "\"kind\":\"ticket\",\"height_cm\":120}]}\r\n"
        "\n"
        "   \t\n"
        DUP_ORDER "\n"
        "{\"datetime\": \n"
        "[1, 2]\n"
        "datetime: 2026-06-10T11:00:00+03:00\n"
        "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t2\","
        "\"kind\":\"ticket\",\"height_cm\":150}]}";      /* no newline at the end */
    char rules[512], input[512], *big, *log;
    http_conn c;
    http_response r;
    (void)state;

    path_of(rules, sizeof rules, src, "tests/cli/fixtures/shop.yaml");
    path_of(input, sizeof input, tmp, "mixed.jsonl");
    assert_int_equal(write_file_atomic(input, mixed), 0);
    http_init(&c, main_srv.addr);
    r = expect_jsonl(&c, "/v1/rulesets/shop/evaluate", rules, input, NULL);
    assert_non_null(strstr(r.body, "\n{\"error\":{\"line\":4,\"path\":\"items[1].id\","));
    assert_non_null(strstr(r.body, "\n{\"error\":{\"line\":5,\"path\":\"datetime\","
                                   "\"message\":\"invalid JSON near byte 13: "));
    assert_non_null(strstr(r.body, "\n{\"error\":{\"line\":7,"));     /* read as YAML */
    /* line 8, after the errors, is priced */
    assert_non_null(strstr(strstr(r.body, "{\"error\":{\"line\":7,"), "\"lines\":[{\"id\":\"t2\""));
    http_response_free(&r);

    /* charset and case in the media type do not matter */
    if (http_request(&c, "POST", "/v1/rulesets/shop/evaluate",
                     "Content-Type: Application/X-NDJSON; charset=utf-8\r\n", mixed,
                     sizeof mixed - 1, &r) != 0)
        fail_msg("no response");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\n{\"error\":{\"line\":4,"));
    http_response_free(&r);

    /* no orders, no answers */
    r = post_lines(&c, "/v1/rulesets/shop/evaluate", "", 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    http_response_free(&r);
    r = post_lines(&c, "/v1/rulesets/shop/evaluate", "\n \n", 3);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    http_response_free(&r);

    /* the request as a whole */
    r = post_lines(&c, "/v1/rulesets/shop/evaluate?explain=1", mixed, sizeof mixed - 1);
    expect_error(&r, 400, "bad_query");
    assert_non_null(strstr(r.body, "explain does not go with JSON lines"));
    http_response_free(&r);
    r = post_lines(&c, "/v1/rulesets/shop/evaluate?at=2026-06-10", mixed, sizeof mixed - 1);
    expect_error(&r, 400, "bad_query");
    http_response_free(&r);
    r = post_lines(&c, "/v1/rulesets/nope/evaluate", mixed, sizeof mixed - 1);
    expect_error(&r, 404, "unknown_ruleset");
    http_response_free(&r);
    if (http_request(&c, "GET", "/v1/rulesets/shop/evaluate", ndjson_header, NULL, 0, &r) != 0)
        fail_msg("no response");
    expect_error(&r, 405, "method_not_allowed");
    http_response_free(&r);
    /* --max-body bounds the whole batch (1 MiB here) */
    big = malloc((1u << 20) + 2);
    memset(big, '\n', (1u << 20) + 1);
    r = post_lines(&c, "/v1/rulesets/shop/evaluate", big, (1u << 20) + 1);
    expect_error(&r, 413, "body_too_large");
    http_response_free(&r);
    free(big);

    r = get(&c, "/metrics");
    assert_non_null(strstr(r.body, "tessera_http_requests_total{route=\"evaluate_jsonl\","
                                   "status=\"200\"} "));
    assert_null(strstr(r.body, "tessera_jsonl_orders_total{result=\"rejected\"} 0\n"));
    assert_null(strstr(r.body, "tessera_jsonl_orders_total{result=\"priced\"} 0\n"));
    http_response_free(&r);
    http_close(&c);
    log = serve_proc_read_log(&main_srv);
    assert_non_null(strstr(log, "\"route\":\"evaluate_jsonl\",\"status\":200,\"ruleset\":"
                                "\"shop\",\"version\":\"1\",\"latency_us\":"));
    free(log);
}

/* Wait until the server has one request in flight besides the probe's. */
static void wait_in_flight(const serve_proc *p)
{
    http_conn probe;
    int waited, found = 0;

    http_init(&probe, p->addr);
    for (waited = 0; waited < 10000 && !found; waited += 20) {
        http_response r = get(&probe, "/metrics");
        found = strstr(r.body, "tessera_http_requests_in_flight 2\n") != NULL;
        http_response_free(&r);
        if (!found)
            nap_ms(20);
    }
    http_close(&probe);
    assert_true(found);
}

/* With a larger --max-body: a line longer than an order may be is an
 * error line, as `tessera eval --jsonl` makes it; and SIGTERM while a long
 * answer is being produced lets it finish whole, then exits 0. */
static void test_jsonl_long_lines_and_drain(void **state)
{
    char shop[512], park10[512], input[512], out[512], *big, *want;
    const char *args[] = { "--max-body", "40000000", "--poll", "0", shop, park10, NULL };
    const size_t line = (16u << 20) + 100;     /* over the 16 MiB of an order */
    size_t blen, wlen, i;
    serve_proc p;
    http_conn c;
    http_response r;
    FILE *f;
    (void)state;

    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    path_of(park10, sizeof park10, src, "rules/park10/park10.yaml");
    path_of(input, sizeof input, tmp, "long.jsonl");
    start(&p, "jsonl.log", args);
    http_init(&c, p.addr);

    assert_non_null(f = fopen(input, "w"));
    fputs("{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[]}\n", f);
    for (i = 0; i < line; i++)
        fputc(i % 2 ? ' ' : '{', f);
    fputs("\n{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[]}\n", f);
    fclose(f);
    r = expect_jsonl(&c, "/v1/rulesets/shop/evaluate", shop, input, NULL);
    assert_non_null(strstr(r.body, "{\"error\":{\"line\":2,\"path\":null,\"message\":"
                                   "\"the line is longer than the limit of 16777216 bytes\"}}\n"));
    http_response_free(&r);

    /* twenty times the park10 orders (10 MB in, 30 MB out), SIGTERM as
     * soon as they are sent */
    write_park10(input, 20 * 1024);
    path_of(out, sizeof out, tmp, "long.out");
    assert_int_equal(eval_jsonl(park10, input, NULL, out), 0);
    big = read_file(input, &blen);
    want = read_file(out, &wlen);
    /* a new connection: the kept one may have timed out meanwhile */
    http_close(&c);
    http_init(&c, p.addr);
    {
        char head[256];
        int n = snprintf(head, sizeof head, "POST /v1/rulesets/park10/evaluate HTTP/1.1\r\n"
                                            "Host: t\r\n%sContent-Length: %zu\r\n\r\n",
                         ndjson_header, blen);
        assert_int_equal(http_send_raw(&c, head, (size_t)n), 0);
        assert_int_equal(http_send_raw(&c, big, blen), 0);
    }
    /* the answer cannot be over before it is read: 30 MB is more than
     * the sockets hold */
    wait_in_flight(&p);
    serve_proc_signal(&p, SIGTERM);
    assert_int_equal(http_read_response(&c, &r, 60000), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, wlen);
    assert_memory_equal(r.body, want, wlen);
    http_response_free(&r);
    http_close(&c);
    free(big);
    free(want);
    assert_int_equal(stop(&p), 0);
    assert_int_equal(serve_proc_wait_log(&p, "\"event\":\"draining\"", 0), 0);
    assert_int_not_equal(serve_proc_wait_log(&p, "\"event\":\"drain_timeout\"", 0), 0);
}

/* YAML of a rule-test order as JSON: plain scalars that look like numbers,
 * booleans or null are those; everything else is a string. */
static void json_text(FILE *f, const char *s, size_t n)
{
    size_t i;
    fputc('"', f);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static int plain_number(const char *s, size_t n)
{
    size_t i = s[0] == '-' ? 1 : 0, digits = 0;
    int dot = 0;
    for (; i < n; i++) {
        if (s[i] == '.' && !dot && digits) {
            dot = 1;
        } else if (s[i] >= '0' && s[i] <= '9') {
            digits++;
        } else {
            return 0;
        }
    }
    return digits > 0 && s[n - 1] != '.';
}

static void node_json(FILE *f, yaml_document_t *d, yaml_node_t *n)
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = (const char *)n->data.scalar.value;
        size_t len = n->data.scalar.length;
        if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
            json_text(f, s, len);
        else if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0)
            fputs("null", f);
        else if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 || plain_number(s, len))
            fwrite(s, 1, len, f);
        else
            json_text(f, s, len);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        yaml_node_item_t *it;
        fputc('[', f);
        for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
            if (it != n->data.sequence.items.start)
                fputc(',', f);
            node_json(f, d, yaml_document_get_node(d, *it));
        }
        fputc(']', f);
    } else if (n->type == YAML_MAPPING_NODE) {
        yaml_node_pair_t *p;
        fputc('{', f);
        for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *k = yaml_document_get_node(d, p->key);
            if (p != n->data.mapping.pairs.start)
                fputc(',', f);
            json_text(f, (const char *)k->data.scalar.value, k->data.scalar.length);
            fputc(':', f);
            node_json(f, d, yaml_document_get_node(d, p->value));
        }
        fputc('}', f);
    }
}

static yaml_node_t *map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *p;
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(d, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
            return yaml_document_get_node(d, p->value);
    }
    return NULL;
}

/* Every order of a rule-test file as one JSON line in `out`; the rule file
 * it names into `rules`.  Returns the number of orders. */
static size_t test_file_orders(const char *test, const char *out, char *rules, size_t size)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root, *cases, *rf;
    yaml_node_item_t *it;
    FILE *in = fopen(test, "rb"), *o = fopen(out, "w");
    const char *slash = strrchr(test, '/');
    size_t n = 0;

    assert_non_null(in);
    assert_non_null(o);
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, in);
    assert_true(yaml_parser_load(&parser, &doc));
    root = yaml_document_get_root_node(&doc);
    rf = map_get(&doc, root, "rules");
    cases = map_get(&doc, root, "cases");
    assert_non_null(rf);
    assert_non_null(cases);
    snprintf(rules, size, "%.*s/%s", (int)(slash - test), test, (const char *)rf->data.scalar.value);
    for (it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
        yaml_node_t *order = map_get(&doc, yaml_document_get_node(&doc, *it), "order");
        if (!order)
            continue;
        node_json(o, &doc, order);
        fputc('\n', o);
        n++;
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(in);
    fclose(o);
    return n;
}

/* One rule-test file: its rule file served alone, every order compared
 * with `tessera eval --jsonl`: the same result bytes, or the same error
 * (message and path) as a 422. */
static void rule_test_file(const char *test)
{
    char rules[512], orders[512], out[512], path[300];
    const char *args[] = { rules, NULL };
    const char *argv[] = { tessera, "eval", "--jsonl", rules, orders, NULL };
    serve_proc p;
    lines in, want;
    http_conn c;
    size_t i, errors = 0;
    char *id;
    int rc;

    path_of(orders, sizeof orders, tmp, "test-orders.jsonl");
    path_of(out, sizeof out, tmp, "test-orders.out");
    assert_true(test_file_orders(test, orders, rules, sizeof rules) > 0);
    rc = run_command(argv, NULL, out);
    assert_true(rc == 0 || rc == 2);
    start(&p, "ruletest.log", args);
    http_init(&c, p.addr);
    {
        http_response r = get(&c, "/v1/rulesets");
        yajl_val v = json(r.body);
        const char *ids[] = { "rulesets", NULL };
        yajl_val list = yajl_tree_get(v, ids, yajl_t_array);
        assert_non_null(list);
        id = strdup(json_str(YAJL_GET_ARRAY(list)->values[0], "id", NULL));
        yajl_tree_free(v);
        http_response_free(&r);
    }
    snprintf(path, sizeof path, "/v1/rulesets/%s/evaluate", id);
    in = read_lines(orders);
    want = read_lines(out);
    assert_int_equal(in.n, want.n);
    for (i = 0; i < in.n; i++) {
        http_response r = post(&c, path, in.v[i], strlen(in.v[i]));
        if (strncmp(want.v[i], "{\"error\":", 9) == 0) {
            yajl_val w = json(want.v[i]), g;
            const char *wp, *gp;
            errors++;
            if (r.status != 422)
                fail_msg("%s order %zu: status %d, expected 422: %s", test, i + 1, r.status,
                         r.body);
            g = json(r.body);
            assert_string_equal(json_str(g, "error", "message"), json_str(w, "error", "message"));
            wp = json_str(w, "error", "path");
            gp = json_str(g, "error", "path");
            assert_true((!wp && !gp) || (wp && gp && strcmp(wp, gp) == 0));
            yajl_tree_free(w);
            yajl_tree_free(g);
        } else {
            size_t n = strlen(want.v[i]);
            if (r.status != 200 || r.body_len != n + 1 || memcmp(r.body, want.v[i], n) != 0)
                fail_msg("%s order %zu differs from tessera eval:\n  eval  %.300s\n  serve %.300s",
                         test, i + 1, want.v[i], r.body);
        }
        http_response_free(&r);
    }
    /* all of them in one request as JSON lines: the very bytes of
     * `tessera eval --jsonl`, error lines included */
    {
        size_t blen, wlen;
        char *body = read_file(orders, &blen), *whole = read_file(out, &wlen);
        http_response r = post_lines(&c, path, body, blen);
        assert_int_equal(r.status, 200);
        if (r.body_len != wlen || memcmp(r.body, whole, wlen) != 0)
            fail_msg("%s as JSON lines differs from tessera eval --jsonl:\n  eval  %.300s\n"
                     "  serve %.300s", test, whole, r.body);
        http_response_free(&r);
        free(body);
        free(whole);
    }
    print_message("%s: %zu orders, %zu of them refused, same as tessera eval, one by one and "
                  "as JSON lines\n", test, in.n, errors);
    http_close(&c);
    free_lines(&in);
    free_lines(&want);
    free(id);
    assert_int_equal(stop(&p), 0);
}

static void test_rule_test_orders_same_as_eval(void **state)
{
    static const char *const files[] = {
        "rules/park/park.test.yaml", "rules/opera/opera.test.yaml", "rules/ski/ski.test.yaml",
        "tests/rules/refunds/opera.test.yaml", "tests/rules/refunds/park.test.yaml"
    };
    char test[512];
    size_t i;
    (void)state;

    for (i = 0; i < sizeof files / sizeof files[0]; i++) {
        path_of(test, sizeof test, src, files[i]);
        rule_test_file(test);
    }
    path_of(test, sizeof test, shared, "scenarios/park/park.test.yaml");
    rule_test_file(test);
}

/* A refund through the server equals `tessera refund` on the same request;
 * the receipt is the server's own answer to the order. */
static void test_refund_same_as_cli(void **state)
{
    char rules[512], order_path[512], req_path[512], out[512], *order, *request, *want;
    const char *argv[] = { tessera, "refund", rules, req_path, NULL };
    http_conn c;
    http_response r;
    size_t wlen, n;
    (void)state;

    path_of(rules, sizeof rules, src, "tests/rules/refunds/opera.yaml");
    path_of(order_path, sizeof order_path, src, "tests/cli/refund/fixtures/opera-order.json");
    path_of(req_path, sizeof req_path, tmp, "refund.json");
    path_of(out, sizeof out, tmp, "refund.out");
    order = read_file(order_path, NULL);
    assert_non_null(order);
    http_init(&c, main_srv.addr);
    r = post(&c, "/v1/rulesets/opera-refunds/evaluate", order, strlen(order));
    assert_int_equal(r.status, 200);
    n = strlen(order) + r.body_len + 256;
    request = malloc(n);
    snprintf(request, n, "{\"order\":%s,\"receipt\":%s,\"lines\":[\"t1\",\"t2\",\"f1\"],"
                         "\"datetime\":\"2026-11-20T10:00:00+03:00\"}", order, r.body);
    http_response_free(&r);
    assert_int_equal(write_file_atomic(req_path, request), 0);
    assert_int_equal(run_command(argv, NULL, out), 0);
    want = read_file(out, &wlen);
    r = post(&c, "/v1/rulesets/opera-refunds/refund", request, strlen(request));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, wlen);
    assert_memory_equal(r.body, want, wlen);
    assert_non_null(strstr(r.body, "\"status\":\"refunded\""));
    http_response_free(&r);
    free(want);

    /* a receipt that does not match: 422 receipt_mismatch with its path */
    {
        char *bad = strstr(request, "\"version\":\"2026-11\"");
        assert_non_null(bad);
        memcpy(bad, "\"version\":\"2026-10\"", 19);
        r = post(&c, "/v1/rulesets/opera-refunds/refund", request, strlen(request));
        expect_error(&r, 422, "receipt_mismatch");
        assert_non_null(strstr(r.body, "\"path\":\"receipt.ruleset.version\""));
        http_response_free(&r);
    }
    /* a request that is not a refund request */
    r = post(&c, "/v1/rulesets/opera-refunds/refund", "{\"lines\":[]}", 12);
    expect_error(&r, 422, "invalid_request");
    http_response_free(&r);
    http_close(&c);
    free(request);
    free(order);
}

/* Each profile through the server equals its `tessera segments --at` line. */
static void test_segments_same_as_cli(void **state)
{
    char rules[512], profiles[512], out[512];
    const char *argv[] = { tessera, "segments", "--at", "2026-07-01T00:00:00+03:00", rules,
                           profiles, NULL };
    lines in, want;
    http_conn c;
    size_t i, checked = 0;
    (void)state;

    path_of(rules, sizeof rules, src, "tests/rules/refunds/park.yaml");
    path_of(profiles, sizeof profiles, src, "tests/cli/refund/fixtures/profiles.jsonl");
    path_of(out, sizeof out, tmp, "segments.out");
    run_command(argv, NULL, out);
    in = read_lines(profiles);
    want = read_lines(out);
    assert_int_equal(in.n, want.n);
    http_init(&c, main_srv.addr);
    for (i = 0; i < in.n; i++) {
        http_response r = post(&c, "/v1/rulesets/park-refunds/segments?at=2026-07-01T00:00:00%2B03:00",
                               in.v[i], strlen(in.v[i]));
        if (strncmp(want.v[i], "{\"error\":", 9) == 0) {
            assert_true(r.status == 422 || r.status == 400);
        } else {
            size_t n = strlen(want.v[i]);
            assert_int_equal(r.status, 200);
            assert_int_equal(r.body_len, n + 1);
            assert_memory_equal(r.body, want.v[i], n);
            checked++;
        }
        http_response_free(&r);
    }
    assert_true(checked >= 2);
    /* without ?at, now: a bad one is a bad query */
    {
        http_response r = post(&c, "/v1/rulesets/park-refunds/segments?at=tomorrow", in.v[0],
                               strlen(in.v[0]));
        expect_error(&r, 400, "bad_query");
        http_response_free(&r);
    }
    http_close(&c);
    free_lines(&in);
    free_lines(&want);
}

/* ---------------------------------------------------------------------
 * Bad input never hurts.
 */
/* Every refusal: its status, code, and a part of its body. */
static const struct refusal {
    const char *method, *path, *body;
    int status;
    const char *code, *says;
} refusals[] = {
    { "POST", "/v1/rulesets/shop/evaluate", "{\"datetime\": ", 400, "bad_json",
      "invalid JSON near byte" },
    { "POST", "/v1/rulesets/shop/evaluate", "datetime: 2026-06-10", 400, "bad_json",
      "invalid JSON near byte" },                               /* YAML is not taken */
    { "POST", "/v1/rulesets/shop/evaluate", "", 400, "bad_json", "the body is empty" },
    { "POST", "/v1/rulesets/shop/evaluate", "[1, 2]", 422, "invalid_order", "\"path\":\"$\"" },
    /* an invalid order: the message and path `tessera eval` prints */
    { "POST", "/v1/rulesets/shop/evaluate", DUP_ORDER, 422, "invalid_order",
      "\"path\":\"items[1].id\"" },
    /* a UTF-8 byte order mark before the JSON is dropped */
    { "POST", "/v1/rulesets/shop/evaluate", "\xef\xbb\xbf" DUP_ORDER, 422, "invalid_order",
      "\"path\":\"items[1].id\"" },
    { "POST", "/v1/rulesets/shop/segments", "{\"customer\":{\"member\":1}}", 422,
      "invalid_profile", "\"path\":\"customer.member\"" },
    { "POST", "/v1/rulesets/nope/evaluate", DUP_ORDER, 404, "unknown_ruleset", "GET /v1/rulesets" },
    { "POST", "/v1/rulesets/shop/price", DUP_ORDER, 404, "not_found", "no such route" },
    { "GET", "/v1/rulesets/../../etc/passwd", NULL, 404, "not_found", "no such route" },
    { "GET", "/v1/rulesets/shop/evaluate", NULL, 405, "method_not_allowed", "takes POST" },
    { "POST", "/healthz", "{}", 405, "method_not_allowed", "takes GET" },
    { "BREW", "/metrics", NULL, 405, "method_not_allowed", "takes GET" },
    { "POST", "/v1/rulesets/shop/evaluate?explain=maybe", DUP_ORDER, 400, "bad_query",
      "`explain` takes 1 or 0" },
    { "POST", "/v1/rulesets/shop/evaluate?verbose=1", DUP_ORDER, 400, "bad_query",
      "unknown query option `verbose`" },
    { "POST", "/v1/rulesets/shop/refund?explain=1", "{}", 400, "bad_query", "refund takes none" },
};

static void test_error_statuses(void **state)
{
    http_conn c;
    http_response r;
    char hdr[128], *big;
    size_t i;
    (void)state;

    http_init(&c, main_srv.addr);
    for (i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        const struct refusal *f = &refusals[i];
        if (http_request(&c, f->method, f->path, NULL, f->body, f->body ? strlen(f->body) : 0,
                         &r) != 0)
            fail_msg("%s %s: no response", f->method, f->path);
        expect_error(&r, f->status, f->code);
        if (!strstr(r.body, f->says))
            fail_msg("%s %s: %s lacks %s", f->method, f->path, r.body, f->says);
        assert_string_equal(http_header(&r, "Content-Type", hdr, sizeof hdr), "application/json");
        if (f->status == 405)      /* which methods the route takes */
            assert_string_equal(http_header(&r, "Allow", hdr, sizeof hdr),
                                strstr(f->path, "/v1/rulesets/") ? "POST" : "GET, HEAD");
        http_response_free(&r);
    }
    /* over the limit (1 MiB by default): 413, whether the length is
     * declared or the body comes in chunks */
    big = malloc((2u << 20) + 1);
    memset(big, ' ', 2u << 20);
    big[0] = '{';
    r = post(&c, "/v1/rulesets/shop/evaluate", big, 2u << 20);
    expect_error(&r, 413, "body_too_large");
    http_response_free(&r);
    {
        http_conn raw;
        static const char head[] = "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n";
        char chunk[64];
        http_init(&raw, main_srv.addr);
        assert_int_equal(http_send_raw(&raw, head, sizeof head - 1), 0);
        for (i = 0; i < 40; i++) {
            snprintf(chunk, sizeof chunk, "%x\r\n", 65536);
            http_send_raw(&raw, chunk, strlen(chunk));
            http_send_raw(&raw, big, 65536);
            http_send_raw(&raw, "\r\n", 2);
        }
        http_send_raw(&raw, "0\r\n\r\n", 5);
        assert_int_equal(http_read_response(&raw, &r, 30000), 0);
        expect_error(&r, 413, "body_too_large");
        http_response_free(&r);
        http_close(&raw);
    }
    free(big);
    http_close(&c);
}

/* Whatever arrives, the answer is a 4xx or the connection is closed, never
 * a 5xx, and the server goes on. */
static void expect_no_5xx_len(const char *what, const char *data, size_t len)
{
    http_conn c;
    http_response r;
    int rc;

    http_init(&c, main_srv.addr);
    if (http_send_raw(&c, data, len) != 0) {
        http_close(&c);
        return;     /* refused while sending: fine */
    }
    rc = http_read_response(&c, &r, 15000);
    if (rc == 0 && (r.status < 400 || r.status >= 500))
        fail_msg("%s: status %d", what, r.status);
    assert_true(rc >= 0);  /* an answer, or the connection closed; not a hang */
    if (rc == 0)
        http_response_free(&r);
    http_close(&c);
}

static void expect_no_5xx_raw(const char *what, const char *data)
{
    expect_no_5xx_len(what, data, strlen(data));
}

static void test_hostile_input_never_5xx(void **state)
{
    http_conn c;
    http_response r;
    char *deep, *huge_header;
    size_t i, n;
    uint32_t seed = 12345;
    (void)state;

    expect_no_5xx_raw("garbage request line", "GARBAGE\r\n\r\n");
    expect_no_5xx_raw("binary", "\x01\x02\x03\xff\xfe\r\n\r\n");
    /* the one 5xx libmicrohttpd gives for what a client sent, as HTTP
     * wants it: 505 for a version it does not speak (docs/serve.md) */
    {
        http_conn v;
        static const char req[] = "GET /healthz HTTP/9.9\r\nHost: t\r\n\r\n";
        http_init(&v, main_srv.addr);
        assert_int_equal(http_send_raw(&v, req, sizeof req - 1), 0);
        if (http_read_response(&v, &r, 15000) == 0) {
            assert_true(r.status == 505 || (r.status >= 400 && r.status < 500));
            http_response_free(&r);
        }
        http_close(&v);
    }
    expect_no_5xx_raw("no Host", "GET /healthz HTTP/1.1\r\n\r\n");
    expect_no_5xx_raw("a bad Content-Length",
                      "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: -5\r\n\r\n");
    expect_no_5xx_raw("two Content-Lengths",
                      "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
    expect_no_5xx_raw("a bad chunk size",
                      "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n"
                      "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    expect_no_5xx_raw("a NUL in the path", "GET /v1/rulesets/shop%00/evaluate HTTP/1.1\r\n"
                      "Host: t\r\n\r\n");
    expect_no_5xx_raw("bytes that are not UTF-8 in the path",
                      "POST /v1/rulesets/%ff%fe\"x/evaluate HTTP/1.1\r\nHost: t\r\n"
                      "Content-Length: 2\r\n\r\n{}");
    /* a header larger than the connection's memory */
    huge_header = malloc(200000);
    n = (size_t)snprintf(huge_header, 200000, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ");
    memset(huge_header + n, 'a', 150000);
    memcpy(huge_header + n + 150000, "\r\n\r\n", 4);
    expect_no_5xx_len("a 150 kB header", huge_header, n + 150004);
    free(huge_header);

    http_init(&c, main_srv.addr);
    /* nesting far deeper than an order has */
    deep = malloc(600002);
    deep[0] = '{';
    memcpy(deep + 1, "\"items\":", 8);
    for (i = 9; i < 300000; i++)
        deep[i] = '[';
    for (; i < 600000; i++)
        deep[i] = ']';
    deep[600000] = '}';
    r = post(&c, "/v1/rulesets/shop/evaluate", deep, 600001);
    assert_true(r.status == 400 || r.status == 422);
    http_response_free(&r);
    free(deep);
    /* invalid UTF-8, NUL bytes, numbers out of range, escapes */
    {
        static const char *const bodies[] = {
            "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"\xff\xfe\","
            "\"kind\":\"ticket\"}]}",
            "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t\\u0000\","
            "\"kind\":\"ticket\"}]}",
            "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\","
            "\"kind\":\"ticket\",\"height_cm\":99999999999999999999999}]}",
            "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\","
            "\"kind\":\"fnb\",\"price\":\"1e400\"}]}",
            "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\","
            "\"kind\":\"fnb\",\"price\":\"92233720368547758.07\",\"quantity\":9223372036854775807}]}",
            "{\"a\":1}{\"b\":2}",
            "{\"datetime\":\"\\ud800\"}",
        };
        for (i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
            r = post(&c, "/v1/rulesets/shop/evaluate", bodies[i], strlen(bodies[i]));
            if (r.status != 400 && r.status != 422)
                fail_msg("body %zu: status %d: %s", i, r.status, r.body);
            http_response_free(&r);
        }
    }
    /* random bytes, and random mutations of a good order */
    for (i = 0; i < 400; i++) {
        static const char good[] =
            "{\"id\":\"A-1\",\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\","
            "\"kind\":\"ticket\",\"height_cm\":120}],\"promo_codes\":[\"HALF\"]}";
        char body[512];
        size_t k, len = sizeof good - 1;
        memcpy(body, good, len);
        for (k = 0; k < 1 + i % 8; k++) {
            seed = seed * 1103515245u + 12345u;
            body[(seed >> 8) % len] = (char)(seed >> 16);
        }
        if (i % 4 == 0)
            body[0] = (char)(seed >> 3);
        r = post(&c, i % 2 ? "/v1/rulesets/shop/evaluate" : "/v1/rulesets/park-refunds/refund",
                 body, len);
        if (r.status != 200 && r.status != 400 && r.status != 422)
            fail_msg("mutation %zu: status %d: %s", i, r.status, r.body);
        http_response_free(&r);
    }
    /* and the server is still there */
    r = get(&c, "/healthz");
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    http_close(&c);
}

/* ---------------------------------------------------------------------
 * /v1/rulesets, /healthz, /metrics and the log.
 */
static void test_rulesets_health_metrics(void **state)
{
    char shop[512], hex[65], *log;
    http_conn c;
    http_response r;
    yajl_val v, list;
    const char *rp[] = { "rulesets", NULL };
    size_t i, found = 0;
    (void)state;

    http_init(&c, main_srv.addr);
    r = get(&c, "/healthz");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}\n");
    assert_int_equal(r.closed, 0);      /* keep-alive */
    http_response_free(&r);

    r = get(&c, "/v1/rulesets");
    assert_int_equal(r.status, 200);
    v = json(r.body);
    list = yajl_tree_get(v, rp, yajl_t_array);
    assert_non_null(list);
    assert_int_equal(YAJL_GET_ARRAY(list)->len, 4);
    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    for (i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
        yajl_val e = YAJL_GET_ARRAY(list)->values[i];
        const char *ep[] = { "last_reload_error", NULL };
        assert_non_null(json_str(e, "loaded_at", NULL));
        assert_int_equal(strlen(json_str(e, "sha256", NULL)), 64);
        assert_true(YAJL_IS_NULL(yajl_tree_get(e, ep, yajl_t_any)));
        if (strcmp(json_str(e, "id", NULL), "shop") == 0) {
            char *out, out_path[512];
            const char *argv[] = { "/usr/bin/sha256sum", shop, NULL };
            found++;
            assert_string_equal(json_str(e, "version", NULL), "1");
            /* the digest is the file's: what sha256sum (coreutils) says */
            path_of(out_path, sizeof out_path, tmp, "sha.out");
            if (access(argv[0], X_OK) == 0) {
                assert_int_equal(run_command(argv, NULL, out_path), 0);
                out = read_file(out_path, NULL);
                memcpy(hex, out, 64);
                hex[64] = '\0';
                assert_string_equal(json_str(e, "sha256", NULL), hex);
                free(out);
            }
        }
    }
    assert_int_equal(found, 1);
    yajl_tree_free(v);
    http_response_free(&r);

    /* a request of each kind, then the counters */
    r = post(&c, "/v1/rulesets/shop/evaluate", "{", 1);
    http_response_free(&r);
    r = get(&c, "/metrics");
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "# TYPE tessera_http_requests_total counter\n"));
    assert_non_null(strstr(r.body, "tessera_http_requests_total{route=\"evaluate\",status=\"200\"} "));
    assert_non_null(strstr(r.body, "tessera_http_requests_total{route=\"evaluate\",status=\"400\"} "));
    assert_non_null(strstr(r.body, "tessera_http_errors_total{route=\"evaluate\",code=\"bad_json\"} "));
    assert_non_null(strstr(r.body, "tessera_http_request_duration_seconds_bucket{route=\"evaluate\",le=\"+Inf\"} "));
    assert_non_null(strstr(r.body, "tessera_http_request_duration_seconds_count{route=\"evaluate\"} "));
    assert_non_null(strstr(r.body, "tessera_reloads_total{ruleset=\"shop\"} 0\n"));
    assert_non_null(strstr(r.body, "tessera_reload_failures_total{ruleset=\"shop\"} 0\n"));
    assert_non_null(strstr(r.body, "tessera_ruleset_info{ruleset=\"park10\",version=\"1\""));
    http_response_free(&r);
    http_close(&c);

    /* --log: one JSON line per request */
    log = serve_proc_read_log(&main_srv);
    assert_non_null(log);
    assert_non_null(strstr(log, "\"event\":\"request\",\"method\":\"POST\",\"path\":"
                                "\"/v1/rulesets/shop/evaluate\",\"route\":\"evaluate\","
                                "\"status\":400,\"ruleset\":\"shop\",\"version\":\"1\","
                                "\"error\":\"bad_json\",\"latency_us\":"));
    assert_non_null(strstr(log, "\"route\":\"evaluate\",\"status\":200,\"ruleset\":\"park10\","
                                "\"version\":\"1\",\"latency_us\":"));
    free(log);
}

/* ---------------------------------------------------------------------
 * Servers of their own.
 */
static void test_token_required(void **state)
{
    char token[512], shop[512];
    const char *args[] = { "--token-file", token, shop, NULL };
    static const char order[] = "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":"
                                "[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":120}]}";
    serve_proc p;
    http_conn c;
    http_response r;
    char hdr[128];
    (void)state;

    path_of(token, sizeof token, tmp, "token");
    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    assert_int_equal(write_file_atomic(token, "s3cret-Token_42\n"), 0);
    chmod(token, 0600);
    start(&p, "token.log", args);
    http_init(&c, p.addr);
    r = post(&c, "/v1/rulesets/shop/evaluate", order, sizeof order - 1);
    expect_error(&r, 401, "unauthorized");
    assert_string_equal(http_header(&r, "WWW-Authenticate", hdr, sizeof hdr),
                        "Bearer realm=\"tessera\"");
    http_response_free(&r);
    /* unknown ids are not told apart from known ones without the token */
    r = post(&c, "/v1/rulesets/nope/evaluate", order, sizeof order - 1);
    expect_error(&r, 401, "unauthorized");
    http_response_free(&r);
    r = get(&c, "/metrics");
    expect_error(&r, 401, "unauthorized");
    http_response_free(&r);
    if (http_request(&c, "POST", "/v1/rulesets/shop/evaluate", "Authorization: Bearer s3cret-Token_4\r\n",
                     order, sizeof order - 1, &r) != 0)
        fail_msg("no response");
    expect_error(&r, 401, "unauthorized");
    http_response_free(&r);
    if (http_request(&c, "POST", "/v1/rulesets/shop/evaluate", "Authorization: Basic czNjcmV0\r\n",
                     order, sizeof order - 1, &r) != 0)
        fail_msg("no response");
    expect_error(&r, 401, "unauthorized");
    http_response_free(&r);
    if (http_request(&c, "POST", "/v1/rulesets/shop/evaluate", "Authorization: Bearer s3cret-Token_42\r\n",
                     order, sizeof order - 1, &r) != 0)
        fail_msg("no response");
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    if (http_request(&c, "GET", "/metrics", "Authorization: bearer s3cret-Token_42\r\n", NULL, 0,
                     &r) != 0)
        fail_msg("no response");
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    /* health checks need no token */
    r = get(&c, "/healthz");
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    http_close(&c);
    assert_int_equal(stop(&p), 0);
}

/* A client that stops sending is cut off after --timeout, and a client
 * beyond --max-connections is refused; neither disturbs the others. */
static void test_slow_and_too_many_clients(void **state)
{
    char shop[512];
    const char *args[] = { "--timeout", "1", "--max-connections", "4", "--threads", "1", shop, NULL };
    static const char partial_head[] = "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n";
    static const char partial_body[] = "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n"
                                       "Content-Length: 100\r\n\r\n{\"datetime\":";
    serve_proc p;
    http_conn slow1, slow2, many[8], c;
    http_response r;
    int i, answered = 0;
    (void)state;

    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    start(&p, "slow.log", args);
    http_init(&slow1, p.addr);
    http_init(&slow2, p.addr);
    assert_int_equal(http_send_raw(&slow1, partial_head, sizeof partial_head - 1), 0);
    assert_int_equal(http_send_raw(&slow2, partial_body, sizeof partial_body - 1), 0);
    /* the server closes both (1 s idle); 10 s is far more than enough */
    assert_int_equal(http_read_response(&slow1, &r, 10000), 1);
    assert_int_equal(http_read_response(&slow2, &r, 10000), 1);
    http_close(&slow1);
    http_close(&slow2);

    /* 8 connections to a server that takes 4: about 4 are answered (the
     * exact count is libmicrohttpd's), the others wait in the kernel's
     * queue until connections close */
    for (i = 0; i < 8; i++) {
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
        http_init(&many[i], p.addr);
        assert_int_equal(http_send_raw(&many[i], req, sizeof req - 1), 0);
    }
    for (i = 0; i < 8; i++) {
        if (http_read_response(&many[i], &r, 300) == 0) {
            assert_int_equal(r.status, 200);
            http_response_free(&r);
            answered++;
        }
    }
    assert_true(answered >= 4 && answered < 8);
    for (i = 0; i < 8; i++)
        http_close(&many[i]);
    /* and once they are gone, the server answers as before */
    http_init(&c, p.addr);
    r = get(&c, "/healthz");
    assert_int_equal(r.status, 200);
    http_response_free(&r);
    http_close(&c);
    assert_int_equal(stop(&p), 0);
}

/* ---------------------------------------------------------------------
 * Reloading under load.
 */
typedef struct hammer {
    char addr[64];
    const char *body;           /* NULL: hot_order alone */
    size_t len, lines;          /* a JSON-lines body and its orders */
    long ok, failed;
    char why[256];
} hammer;

/* Static, not on a test's stack: a failed test's teardown stops them. */
static atomic_int hammers_stop;
static hammer hammers[3];
static pthread_t hammer_threads[3];
static int nhammers;

static void stop_hammers(void)
{
    atomic_store(&hammers_stop, 1);
    while (nhammers > 0)
        pthread_join(hammer_threads[--nhammers], NULL);
}

static const char hot_order[] =
    "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":[{\"id\":\"t1\",\"kind\":\"ticket\"}]}";

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    http_conn c;
    http_init(&c, h->addr);
    while (!atomic_load(&hammers_stop)) {
        http_response r;
        int bad = h->body ? http_request(&c, "POST", "/v1/rulesets/hot/evaluate", ndjson_header,
                                         h->body, h->len, &r) != 0
                          : http_request(&c, "POST", "/v1/rulesets/hot/evaluate", NULL,
                                         hot_order, sizeof hot_order - 1, &r) != 0;
        if (!bad && h->body) {
            /* every line answered, none refused */
            size_t n = 0, i;
            for (i = 0; i < r.body_len; i++)
                n += r.body[i] == '\n';
            bad = n != h->lines || strstr(r.body, "{\"error\"") != NULL;
        }
        if (bad || r.status != 200) {
            if (!h->failed)
                snprintf(h->why, sizeof h->why, "status %d: %.200s", r.status,
                         r.body ? r.body : strerror(errno));
            h->failed++;
        } else {
            h->ok++;
        }
        http_response_free(&r);
    }
    http_close(&c);
    return NULL;
}

static void write_hot(const char *dir, const char *id, const char *version,
                      const char *includes, const char *extra)
{
    char path[512], text[1024];
    path_of(path, sizeof path, dir, "hot.yaml");
    snprintf(text, sizeof text,
             "tessera: 1\nruleset: %s\nversion: \"%s\"\ncurrency: EUR\ninclude: [%s]\n%s",
             id, version, includes, extra);
    assert_int_equal(write_file_atomic(path, text), 0);
}

static void write_in(const char *dir, const char *name, const char *text)
{
    char path[512];
    path_of(path, sizeof path, dir, name);
    assert_int_equal(write_file_atomic(path, text), 0);
}

static void write_prices(const char *dir, const char *price)
{
    char text[512];
    snprintf(text, sizeof text, "categories:\n  - { id: adult, for: item.kind == \"ticket\", "
                                "price: %s }\n", price);
    write_in(dir, "prices.yaml", text);
}

static void wait_status(http_conn *c, const char *needle, const char *what)
{
    if (wait_for(c, "/v1/rulesets", needle, 20000) != 0) {
        http_response r = get(c, "/v1/rulesets");
        fail_msg("%s: /v1/rulesets never showed %s:\n%s", what, needle, r.body);
    }
}

/* The rule set loaded is `version` and it prices the test order at `due`. */
static void expect_served(http_conn *c, const char *version, const char *due)
{
    char v[64], d[64];
    http_response r;

    snprintf(v, sizeof v, "\"version\":\"%s\",\"currency\"", version);
    wait_status(c, v, "a new version");
    r = post(c, "/v1/rulesets/hot/evaluate", hot_order, sizeof hot_order - 1);
    snprintf(v, sizeof v, "\"version\":\"%s\"}", version);
    snprintf(d, sizeof d, "\"due\":\"%s\"", due);
    assert_int_equal(r.status, 200);
    if (!strstr(r.body, v) || !strstr(r.body, d))
        fail_msg("expected version %s and due %s: %s", version, due, r.body);
    http_response_free(&r);
}

static void test_reload_under_load(void **state)
{
    static const char broken_rule[] =
        "discounts:\n  - { id: d, when: item.heigth_cm > 1, percent: 5 }\n";
    char dir[512], hot[512];
    const char *args[] = { "--poll", "50", "--threads", "2", hot, NULL };
    serve_proc p;
    http_conn c;
    http_response r;
    char *batch;
    size_t blen;
    int i;
    long total = 0;
    (void)state;

    path_of(dir, sizeof dir, tmp, "hot");
    assert_int_equal(mkdir(dir, 0755), 0);
    path_of(hot, sizeof hot, dir, "hot.yaml");
    write_prices(dir, "10.00");
    write_hot(dir, "hot", "1", "prices.yaml", "");
    start(&p, "reload.log", args);
    http_init(&c, p.addr);
    expect_served(&c, "1", "10.00");

    /* the third client sends 300 orders a request as JSON lines: answers
     * long enough to be sent as they are produced, holding their version */
    batch = malloc(300 * sizeof hot_order);
    for (i = 0, blen = 0; i < 300; i++) {
        memcpy(batch + blen, hot_order, sizeof hot_order - 1);
        blen += sizeof hot_order - 1;
        batch[blen++] = '\n';
    }
    atomic_store(&hammers_stop, 0);
    for (i = 0; i < 3; i++) {
        memset(&hammers[i], 0, sizeof hammers[i]);
        snprintf(hammers[i].addr, sizeof hammers[i].addr, "%s", p.addr);
        if (i == 2) {
            hammers[i].body = batch;
            hammers[i].len = blen;
            hammers[i].lines = 300;
        }
        assert_int_equal(pthread_create(&hammer_threads[i], NULL, hammer_run, &hammers[i]), 0);
        nhammers++;
    }
    nap_ms(200);

    /* a new version of the main file */
    write_hot(dir, "hot", "2", "prices.yaml", "");
    expect_served(&c, "2", "10.00");
    /* a change in an included file only */
    write_prices(dir, "30.00");
    wait_status(&c, "\"reloads\":2,", "a changed include");
    expect_served(&c, "2", "30.00");
    /* a broken file: refused, the old version keeps serving, the error is shown */
    write_hot(dir, "hot", "3", "prices.yaml", broken_rule);
    wait_status(&c, "\"reload_failures\":1,", "a broken rule");
    wait_status(&c, "hot.yaml:7:", "the place of the error");
    expect_served(&c, "2", "30.00");
    /* a broken file newly included: refused too... */
    write_in(dir, "extra.yaml", "tables: [oops\n");
    write_hot(dir, "hot", "3", "prices.yaml, extra.yaml", "");
    wait_status(&c, "\"reload_failures\":2,", "a broken include");
    wait_status(&c, "extra.yaml:", "the place of the include's error");
    expect_served(&c, "2", "30.00");
    /* ...and fixing it is enough: the file the error was in is watched */
    write_in(dir, "extra.yaml", "tables: {}\n");
    expect_served(&c, "3", "30.00");
    wait_status(&c, "\"last_reload_error\":null", "a successful reload");
    /* another rule set id is refused: clients address rule sets by id */
    write_hot(dir, "cold", "4", "prices.yaml", "");
    wait_status(&c, "the rule set id changed from `hot` to `cold`", "a changed id");
    expect_served(&c, "3", "30.00");
    write_hot(dir, "hot", "5", "prices.yaml", "");
    expect_served(&c, "5", "30.00");
    /* SIGHUP reloads at once, even without a change on disk */
    serve_proc_signal(&p, SIGHUP);
    wait_status(&c, "\"reloads\":5,", "SIGHUP");
    r = get(&c, "/metrics");
    assert_non_null(strstr(r.body, "tessera_reloads_total{ruleset=\"hot\"} 5\n"));
    assert_non_null(strstr(r.body, "tessera_reload_failures_total{ruleset=\"hot\"} 3\n"));
    http_response_free(&r);

    stop_hammers();
    for (i = 0; i < 3; i++) {
        if (hammers[i].failed)
            fail_msg("client %d: %ld of %ld requests failed; first: %s", i, hammers[i].failed,
                     hammers[i].failed + hammers[i].ok, hammers[i].why);
        total += hammers[i].ok;
    }
    assert_true(total > 0);
    assert_true(hammers[2].ok > 0);
    free(batch);
    print_message("5 reloads and 3 refused ones under %ld concurrent requests (%ld of them of "
                  "300 orders), none failed\n", total, hammers[2].ok);
    http_close(&c);
    assert_int_equal(serve_proc_wait_log(&p, "\"event\":\"reload_failed\"", 0), 0);
    assert_int_equal(serve_proc_wait_log(&p, "\"event\":\"reload\"", 0), 0);
    assert_int_equal(stop(&p), 0);
}

/* SIGTERM: no new connections; a request whose body is still arriving is
 * answered (Connection: close) and the server exits 0. */
static void test_sigterm_drains(void **state)
{
    char shop[512];
    const char *args[] = { "--poll", "0", shop, NULL };
    static const char order[] = "{\"datetime\":\"2026-06-10T11:00:00+03:00\",\"items\":"
                                "[{\"id\":\"t1\",\"kind\":\"ticket\",\"height_cm\":120}]}";
    serve_proc p;
    http_conn inflight, probe;
    http_response r;
    char head[256];
    int n;
    (void)state;

    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    start(&p, "term.log", args);
    http_init(&inflight, p.addr);
    n = snprintf(head, sizeof head, "POST /v1/rulesets/shop/evaluate HTTP/1.1\r\nHost: t\r\n"
                                    "Content-Length: %zu\r\n\r\n", sizeof order - 1);
    assert_int_equal(http_send_raw(&inflight, head, (size_t)n), 0);
    assert_int_equal(http_send_raw(&inflight, order, 10), 0);
    wait_in_flight(&p);
    serve_proc_signal(&p, SIGTERM);
    assert_int_equal(serve_proc_wait_log(&p, "\"event\":\"draining\"", 10000), 0);
    /* no new connections, once the listening socket is closed (soon after
     * the log line; a loaded machine may take longer than a fixed nap) */
    http_init(&probe, p.addr);
    for (n = 0; n < 200 && http_connect(&probe) == 0; n++) {
        http_close(&probe);
        nap_ms(25);
    }
    assert_int_not_equal(http_connect(&probe), 0);
    /* the request in flight is answered */
    assert_int_equal(http_send_raw(&inflight, order + 10, sizeof order - 11), 0);
    assert_int_equal(http_read_response(&inflight, &r, 10000), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.closed, 1);
    assert_non_null(strstr(r.body, "\"ruleset\":{\"id\":\"shop\""));
    http_response_free(&r);
    http_close(&inflight);
    assert_int_equal(stop(&p), 0);
    assert_int_equal(serve_proc_wait_log(&p, "\"event\":\"stopped\"", 0), 0);
}

/* Starting fails cleanly: a broken rule file, two files with one id, a
 * port in use, a bad option. */
static void test_start_failures(void **state)
{
    char broken[512], shop[512], out[512], token[512];
    const char *a1[] = { tessera, "serve", broken, NULL };
    const char *a2[] = { tessera, "serve", shop, shop, NULL };
    const char *a3[] = { tessera, "serve", "--listen", main_srv.addr, shop, NULL };
    const char *a4[] = { tessera, "serve", "--threads", "0", shop, NULL };
    const char *a5[] = { tessera, "serve", "--listen", "nowhere", shop, NULL };
    const char *a6[] = { tessera, "serve", NULL };
    const char *a7[] = { tessera, "serve", "--token-file", token, shop, NULL };
    (void)state;

    path_of(broken, sizeof broken, src, "tests/cli/fixtures/broken.yaml");
    path_of(shop, sizeof shop, src, "tests/cli/fixtures/shop.yaml");
    path_of(out, sizeof out, tmp, "start.out");
    path_of(token, sizeof token, tmp, "empty-token");
    assert_int_equal(write_file_atomic(token, "\n"), 0);
    assert_int_equal(run_command(a1, NULL, out), 1);
    assert_int_equal(run_command(a2, NULL, out), 1);
    assert_int_equal(run_command(a3, NULL, out), 1);
    assert_int_equal(run_command(a4, NULL, out), 64);
    assert_int_equal(run_command(a5, NULL, out), 64);
    assert_int_equal(run_command(a6, NULL, out), 64);
    assert_int_equal(run_command(a7, NULL, out), 1);
}

/* SIGTERM: exit 0.  Then every line it logged, hostile requests
 * included, is a JSON object. */
static void test_main_server_exits_0(void **state)
{
    char log[512];
    lines l;
    size_t i;
    (void)state;

    assert_int_equal(serve_proc_stop(&main_srv, 20000), 0);
    path_of(log, sizeof log, tmp, "main.log");
    l = read_lines(log);
    assert_true(l.n > 1000);
    for (i = 0; i < l.n; i++) {
        yajl_val v = json(l.v[i]);
        assert_true(YAJL_IS_OBJECT(v));
        yajl_tree_free(v);
    }
    free_lines(&l);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_park10_answers, kill_strays),
        cmocka_unit_test_teardown(test_evaluate_same_bytes_as_eval, kill_strays),
        cmocka_unit_test_teardown(test_explain_same_as_eval, kill_strays),
        cmocka_unit_test_teardown(test_jsonl_same_bytes_as_eval, kill_strays),
        cmocka_unit_test_teardown(test_jsonl_errors_per_line, kill_strays),
        cmocka_unit_test_teardown(test_jsonl_long_lines_and_drain, kill_strays),
        cmocka_unit_test_teardown(test_rule_test_orders_same_as_eval, kill_strays),
        cmocka_unit_test_teardown(test_refund_same_as_cli, kill_strays),
        cmocka_unit_test_teardown(test_segments_same_as_cli, kill_strays),
        cmocka_unit_test_teardown(test_error_statuses, kill_strays),
        cmocka_unit_test_teardown(test_hostile_input_never_5xx, kill_strays),
        cmocka_unit_test_teardown(test_rulesets_health_metrics, kill_strays),
        cmocka_unit_test_teardown(test_token_required, kill_strays),
        cmocka_unit_test_teardown(test_slow_and_too_many_clients, kill_strays),
        cmocka_unit_test_teardown(test_reload_under_load, kill_strays),
        cmocka_unit_test_teardown(test_sigterm_drains, kill_strays),
        cmocka_unit_test_teardown(test_start_failures, kill_strays),
        cmocka_unit_test_teardown(test_main_server_exits_0, kill_strays),
    };

    if (argc != 4) {
        fprintf(stderr, "usage: test_serve TESSERA SOURCE_DIR SHARED_DIR\n");
        return 64;
    }
    tessera = argv[1];
    src = argv[2];
    shared = argv[3];
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, start_main, stop_main);
}
