/*
 * serve_rules.c — the rule sets `tessera serve` answers with, and their
 * reloads.
 *
 * Each rule file given on the command line is one entry, known by its rule
 * set id.  An entry points at its current version: a loaded tsr_ruleset
 * with the files it was read from and their SHA-256.  Requests take a
 * reference to the version they start with and keep it to the end, so a
 * reload only swaps the pointer (under the lock) and drops the entry's own
 * reference; the old version is freed by whichever request releases it
 * last.  A reload is a complete load and check of the new files first;
 * when it fails, the old version keeps serving and the error is kept for
 * GET /v1/rulesets and logged.
 *
 * Watching is by polling (docs/decisions/http-server.md says why): every
 * look stats the files of the current version (and, after a failed reload,
 * the file the error was in); a changed size, mtime, inode or presence
 * makes the file's digest be computed again, and a changed digest triggers
 * the reload once the files have settled — unchanged since the previous
 * look — so a file caught half-written is not loaded.
 */
#include "serve.h"
#include "batch.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a look at one file sees. */
typedef struct stamp {
    int present;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} stamp;

/* One watched file: how it looked last time, and its digest then. */
typedef struct watched {
    char *name;
    stamp seen;
    char sha256[SERVE_SHA256_HEX];
} watched;

struct serve_entry {
    const char *path;                   /* as given on the command line */
    char *id;                           /* fixed for the life of the server */
    serve_version *current;             /* under serve_rules.lock */
    /* status, under the lock */
    uint64_t reloads, failures;
    char *last_error;                   /* NULL: the last reload succeeded */
    char last_error_at[SERVE_TIME_LEN];
    /* watching: only the checking thread touches these */
    watched *watch;
    size_t nwatch;
    int pending;                        /* a change seen, waiting to settle */
};

void serve_sha256(const void *data, size_t len, unsigned char out[32])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The SHA-256 of a file's contents in hex; "" when it cannot be read. */
static void file_sha256(const char *path, char out[SERVE_SHA256_HEX])
{
    unsigned char buf[65536], d[SHA256_DIGEST_SIZE];
    struct sha256_ctx ctx;
    ssize_t got;
    int fd = open(path, O_RDONLY);

    out[0] = '\0';
    if (fd < 0)
        return;
    sha256_init(&ctx);
    for (;;) {
        got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        sha256_update(&ctx, (size_t)got, buf);
    }
    close(fd);
    if (got < 0)
        return;
    sha256_digest(&ctx, sizeof d, d);
    hex(d, sizeof d, out);
}

static stamp look(const char *path)
{
    stamp s;
    struct stat st;

    memset(&s, 0, sizeof s);
    if (stat(path, &st) == 0) {
        s.present = 1;
        s.dev = st.st_dev;
        s.ino = st.st_ino;
        s.size = st.st_size;
        s.mtime = st.st_mtim;
    }
    return s;
}

static int same_stamp(const stamp *a, const stamp *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
           a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
           a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* ---------------------------------------------------------------------
 * Versions.
 */
static void version_free(serve_version *v)
{
    size_t i;
    if (!v)
        return;
    for (i = 0; i < v->npool; i++) {
        tsr_order_free(v->pool[i].order);
        tsr_result_free(v->pool[i].result);
    }
    pthread_mutex_destroy(&v->pool_lock);
    for (i = 0; i < v->nfiles; i++)
        free(v->files[i].name);
    free(v->files);
    tsr_ruleset_free(v->rs);
    free(v);
}

int serve_version_take(serve_version *v, serve_kept *k)
{
    k->order = NULL;
    k->result = NULL;
    pthread_mutex_lock(&v->pool_lock);
    if (v->npool > 0)
        *k = v->pool[--v->npool];
    pthread_mutex_unlock(&v->pool_lock);
    if (k->order)
        tsr_order_reset(k->order);
    else if (tsr_order_new(&k->order, v->rs, NULL) != TSR_OK)
        return -1;
    return 0;
}

void serve_version_give(serve_version *v, serve_kept *k)
{
    if (k->order) {
        pthread_mutex_lock(&v->pool_lock);
        if (v->npool < SERVE_ORDER_POOL) {
            v->pool[v->npool++] = *k;
            k->order = NULL;
            k->result = NULL;
        }
        pthread_mutex_unlock(&v->pool_lock);
    }
    /* what the pool did not keep (or a result without its order) */
    tsr_order_free(k->order);
    tsr_result_free(k->result);
    k->order = NULL;
    k->result = NULL;
}

void serve_version_release(serve_version *v)
{
    if (v && atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
        version_free(v);
}

static void watch_free(watched *w, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        free(w[i].name);
    free(w);
}

/* The files of `rs` as they are now: stamps and digests. */
static watched *watch_of(const tsr_ruleset *rs, size_t *n)
{
    size_t i, count = tsr_ruleset_file_count(rs);
    watched *w = calloc(count ? count : 1, sizeof *w);

    if (!w)
        return NULL;
    for (i = 0; i < count; i++) {
        if (!(w[i].name = strdup(tsr_ruleset_file(rs, i)))) {
            watch_free(w, i);
            return NULL;
        }
        w[i].seen = look(w[i].name);
        file_sha256(w[i].name, w[i].sha256);
    }
    *n = count;
    return w;
}

static const watched *find_watched(const watched *w, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(w[i].name, name) == 0)
            return &w[i];
    return NULL;
}

/* Did any file both lists know change its digest between them? */
static int moved(const watched *before, size_t nb, const watched *after, size_t na)
{
    size_t i;
    for (i = 0; i < na; i++) {
        const watched *b = find_watched(before, nb, after[i].name);
        if (!b || strcmp(b->sha256, after[i].sha256) != 0)
            return 1;
    }
    return 0;
}

static int nomem(tsr_error *err)
{
    memset(err, 0, sizeof *err);
    err->code = TSR_ENOMEM;
    snprintf(err->message, sizeof err->message, "out of memory");
    return TSR_ENOMEM;
}

/* Load `path` into a new version.  The files' digests are taken before and
 * after the load; when a file changed while it was being read, the load is
 * made again, so the digests shown are those of the text that was loaded.
 * On success *watch holds the files as they were loaded. */
static int version_load(serve_version **out, const char *path, const watched *known,
                        size_t nknown, watched **watch, size_t *nwatch, tsr_error *err)
{
    watched *before = NULL, *after = NULL;
    size_t nb = 0, na = 0, i;
    tsr_ruleset *rs = NULL;
    serve_version *v;
    int attempt, rc = TSR_OK;

    *out = NULL;
    for (attempt = 0; attempt < 3; attempt++) {
        /* "before": the files the last load read (or just the main file) */
        nb = nknown ? nknown : 1;
        if (!(before = calloc(nb, sizeof *before)))
            return nomem(err);
        for (i = 0; i < nb; i++) {
            before[i].name = strdup(nknown ? known[i].name : path);
            if (!before[i].name) {
                watch_free(before, i);
                return nomem(err);
            }
            file_sha256(before[i].name, before[i].sha256);
        }
        rc = tsr_ruleset_load_file(&rs, path, cli_load_options(), err);
        if (rc == TSR_OK && !(after = watch_of(rs, &na)))
            rc = nomem(err);
        if (rc != TSR_OK) {
            watch_free(before, nb);
            tsr_ruleset_free(rs);
            return rc;
        }
        if (!moved(before, nb, after, na) || attempt == 2)
            break;
        /* a file moved under the load, or it reads a file not looked at
         * before: again, now knowing every file */
        watch_free(before, nb);
        tsr_ruleset_free(rs);
        rs = NULL;
        known = after;
        nknown = na;
        watch_free(*watch, *nwatch);
        *watch = after;
        *nwatch = na;
        after = NULL;
        na = 0;
    }
    watch_free(before, nb);
    if (!(v = calloc(1, sizeof *v)) || !(v->files = calloc(na, sizeof *v->files))) {
        free(v);
        watch_free(after, na);
        tsr_ruleset_free(rs);
        return nomem(err);
    }
    v->rs = rs;
    atomic_init(&v->refs, 1);
    pthread_mutex_init(&v->pool_lock, NULL);
    serve_now(v->loaded_at);
    for (i = 0; i < na; i++) {
        v->files[i].name = strdup(after[i].name);
        memcpy(v->files[i].sha256, after[i].sha256, SERVE_SHA256_HEX);
        v->nfiles = i + 1;
        if (!v->files[i].name) {
            version_free(v);
            watch_free(after, na);
            return nomem(err);
        }
    }
    watch_free(*watch, *nwatch);
    *watch = after;
    *nwatch = na;
    *out = v;
    return TSR_OK;
}

/* "file:line:col: error: message", as `tessera check` prints it. */
static char *error_text(const tsr_error *err, const char *path)
{
    char buf[CLI_ERROR_TEXT_MAX];
    if (err->code == TSR_ENOMEM || (!err->file[0] && !err->path[0]))
        snprintf(buf, sizeof buf, "%s: error: %s", path, err->message);
    else
        cli_format_error(buf, sizeof buf, "error", err);
    return strdup(buf);
}

/* ---------------------------------------------------------------------
 * Start and stop.
 */
int serve_rules_open(serve_rules *r, char **paths, size_t n)
{
    size_t i, j;

    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    if (!(r->entries = calloc(n, sizeof *r->entries))) {
        fprintf(stderr, "tessera serve: out of memory\n");
        return CLI_ERRORS;
    }
    r->n = n;
    for (i = 0; i < n; i++) {
        serve_entry *e = &r->entries[i];
        tsr_error err;
        char *msg;
        e->path = paths[i];
        if (version_load(&e->current, e->path, NULL, 0, &e->watch, &e->nwatch, &err) != TSR_OK) {
            msg = error_text(&err, e->path);
            fprintf(stderr, "%s\n", msg ? msg : "tessera serve: out of memory");
            free(msg);
            return CLI_ERRORS;
        }
        if (!(e->id = strdup(tsr_ruleset_id(e->current->rs)))) {
            fprintf(stderr, "tessera serve: out of memory\n");
            return CLI_ERRORS;
        }
        for (j = 0; j < i; j++)
            if (strcmp(r->entries[j].id, e->id) == 0) {
                fprintf(stderr, "%s: error: rule set `%s` is already served from %s; "
                                "each rule set id can be served once\n",
                        e->path, e->id, r->entries[j].path);
                return CLI_ERRORS;
            }
    }
    return CLI_OK;
}

void serve_rules_close(serve_rules *r)
{
    size_t i;
    for (i = 0; r->entries && i < r->n; i++) {
        serve_entry *e = &r->entries[i];
        serve_version_release(e->current);
        watch_free(e->watch, e->nwatch);
        free(e->id);
        free(e->last_error);
    }
    free(r->entries);
    pthread_mutex_destroy(&r->lock);
    memset(r, 0, sizeof *r);
}

serve_version *serve_rules_acquire(serve_rules *r, const char *id)
{
    serve_version *v = NULL;
    size_t i;

    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n; i++)
        if (strcmp(r->entries[i].id, id) == 0) {
            v = r->entries[i].current;
            atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
            break;
        }
    pthread_mutex_unlock(&r->lock);
    return v;
}

/* ---------------------------------------------------------------------
 * Reloading.
 */
static void log_reload(const serve_entry *e, const serve_version *v, const char *error)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (!f)
        return;
    fputs("\"ruleset\":", f);
    batch_json_string(f, e->id);
    if (v) {
        fputs(",\"version\":", f);
        batch_json_string(f, tsr_ruleset_version(v->rs));
        fprintf(f, ",\"sha256\":\"%s\"", v->files[0].sha256);
    } else {
        fputs(",\"error\":", f);
        batch_json_string(f, error);
    }
    if (fclose(f) == 0)
        serve_log_event(v ? "reload" : "reload_failed", text);
    free(text);
}

/* After a failed reload, watch the file the error is in too: when a newly
 * included file is broken, fixing it must trigger the next attempt. */
static void watch_also(serve_entry *e, const char *file)
{
    watched *w;
    if (!file || !file[0] || find_watched(e->watch, e->nwatch, file))
        return;
    if (!(w = realloc(e->watch, (e->nwatch + 1) * sizeof *w)))
        return;
    e->watch = w;
    memset(&w[e->nwatch], 0, sizeof *w);
    if (!(w[e->nwatch].name = strdup(file)))
        return;
    w[e->nwatch].seen = look(file);
    file_sha256(file, w[e->nwatch].sha256);
    e->nwatch++;
}

static void reload(serve_rules *r, serve_entry *e)
{
    serve_version *v = NULL, *old;
    tsr_error err;
    char *msg = NULL;
    int rc;

    rc = version_load(&v, e->path, e->watch, e->nwatch, &e->watch, &e->nwatch, &err);
    if (rc == TSR_OK && strcmp(tsr_ruleset_id(v->rs), e->id) != 0) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s: error: the rule set id changed from `%s` to `%s`; "
                                  "clients address rule sets by id, so a new id needs a "
                                  "restart", e->path, e->id, tsr_ruleset_id(v->rs));
        msg = strdup(buf);
        serve_version_release(v);
        v = NULL;
    } else if (rc != TSR_OK) {
        msg = error_text(&err, e->path);
    }
    if (!v && !msg)
        msg = strdup("out of memory");
    pthread_mutex_lock(&r->lock);
    old = NULL;
    if (v) {
        old = e->current;
        e->current = v;
        e->reloads++;
        free(e->last_error);
        e->last_error = NULL;
    } else {
        e->failures++;
        free(e->last_error);
        e->last_error = msg;
        serve_now(e->last_error_at);
    }
    pthread_mutex_unlock(&r->lock);
    /* requests that hold the old version keep it until they finish */
    serve_version_release(old);
    log_reload(e, v, msg ? msg : "");
    if (!v) {
        /* the files as they are now are the ones that failed: wait for the
         * next change of any of them */
        size_t i;
        for (i = 0; i < e->nwatch; i++) {
            e->watch[i].seen = look(e->watch[i].name);
            file_sha256(e->watch[i].name, e->watch[i].sha256);
        }
        if (rc != TSR_OK)
            watch_also(e, err.file);
    }
    /* cppcheck-suppress memleak ; msg is set only when v is NULL, and e owns it then */
}

/* 1 when a file's content changed since its digest was taken.  A changed
 * stamp with the same digest (touch, a rewrite of the same text) is
 * remembered and not a change. */
static int changed(serve_entry *e, int *settled)
{
    size_t i;
    int any = 0;

    *settled = 1;
    for (i = 0; i < e->nwatch; i++) {
        watched *w = &e->watch[i];
        stamp now = look(w->name);
        char sha[SERVE_SHA256_HEX];
        if (same_stamp(&now, &w->seen))
            continue;
        *settled = 0;
        w->seen = now;
        file_sha256(w->name, sha);
        if (strcmp(sha, w->sha256) != 0)
            any = 1;
    }
    return any;
}

void serve_rules_check(serve_rules *r, int force)
{
    size_t i;
    for (i = 0; i < r->n; i++) {
        serve_entry *e = &r->entries[i];
        int settled;
        if (force) {
            e->pending = 0;
            reload(r, e);
            continue;
        }
        if (changed(e, &settled))
            e->pending = 1;
        if (e->pending && settled) {
            e->pending = 0;
            reload(r, e);
        }
    }
}

/* ---------------------------------------------------------------------
 * Describing.
 */
void serve_rules_describe(serve_rules *r, FILE *out)
{
    size_t i, k;

    fputs("{\"rulesets\":[", out);
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n; i++) {
        const serve_entry *e = &r->entries[i];
        const serve_version *v = e->current;
        const char *version = tsr_ruleset_version(v->rs);
        fputs(i ? ",{\"id\":" : "{\"id\":", out);
        batch_json_string(out, e->id);
        fputs(",\"version\":", out);
        batch_json_string(out, version);
        fputs(",\"currency\":", out);
        batch_json_string(out, tsr_ruleset_currency(v->rs));
        fprintf(out, ",\"sha256\":\"%s\",\"loaded_at\":\"%s\",\"files\":[",
                v->files[0].sha256, v->loaded_at);
        for (k = 0; k < v->nfiles; k++) {
            fputs(k ? ",{\"name\":" : "{\"name\":", out);
            batch_json_string(out, v->files[k].name);
            fprintf(out, ",\"sha256\":\"%s\"}", v->files[k].sha256);
        }
        fprintf(out, "],\"reloads\":%llu,\"reload_failures\":%llu,\"last_reload_error\":",
                (unsigned long long)e->reloads, (unsigned long long)e->failures);
        if (e->last_error) {
            fprintf(out, "{\"at\":\"%s\",\"message\":", e->last_error_at);
            batch_json_string(out, e->last_error);
            fputc('}', out);
        } else {
            fputs("null", out);
        }
        fputc('}', out);
    }
    pthread_mutex_unlock(&r->lock);
    fputs("]}\n", out);
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
}

static unsigned long long reloads_of(const serve_entry *e)
{
    return e->reloads;
}

static unsigned long long failures_of(const serve_entry *e)
{
    return e->failures;
}

static unsigned long long failing_of(const serve_entry *e)
{
    return e->last_error != NULL;
}

/* One metric with a line per rule set. */
static void per_ruleset(FILE *out, const serve_rules *r, const char *name, const char *type,
                        const char *help, unsigned long long (*value)(const serve_entry *))
{
    size_t i;
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (i = 0; i < r->n; i++) {
        fprintf(out, "%s{ruleset=\"", name);
        label(out, r->entries[i].id);
        fprintf(out, "\"} %llu\n", value(&r->entries[i]));
    }
}

void serve_rules_metrics(serve_rules *r, FILE *out)
{
    size_t i;

    fputs("# HELP tessera_ruleset_info The rule set version being served (value 1).\n"
          "# TYPE tessera_ruleset_info gauge\n", out);
    pthread_mutex_lock(&r->lock);
    for (i = 0; i < r->n; i++) {
        const serve_entry *e = &r->entries[i];
        fputs("tessera_ruleset_info{ruleset=\"", out);
        label(out, e->id);
        fputs("\",version=\"", out);
        label(out, tsr_ruleset_version(e->current->rs));
        fprintf(out, "\",sha256=\"%s\"} 1\n", e->current->files[0].sha256);
    }
    per_ruleset(out, r, "tessera_reloads_total", "counter",
                "Reloads that replaced a rule set.", reloads_of);
    per_ruleset(out, r, "tessera_reload_failures_total", "counter",
                "Reloads refused: the old rule set kept serving.", failures_of);
    per_ruleset(out, r, "tessera_ruleset_reload_error", "gauge",
                "1 while the last reload of the rule set failed.", failing_of);
    pthread_mutex_unlock(&r->lock);
}
