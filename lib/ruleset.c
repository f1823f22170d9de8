/*
 * ruleset.c — the public entry points for rule sets: load options, reading
 * the rule file and every file it includes, and freeing.
 *
 * This file owns the file side of loading: size limits, the include graph
 * (cycles, include-once, the resolver hook) and the order in which files'
 * sections merge.  Turning the parsed trees into the model is rules_load.c's
 * job; nothing here looks at a key other than `include`.
 *
 * Include semantics (SPEC §3 leaves them open; decided here):
 *   - paths are relative to the including file (or to the working directory
 *     for a rule set loaded from a string without a name); with a resolver
 *     (opts->include) the resolver decides and names the file;
 *   - included files may include others; a file that is already part of the
 *     rule set through another path is not read again (include-once), but a
 *     file that includes itself, directly or through others, is an error
 *     naming the chain;
 *   - merge order: an included file's content comes before the content of the
 *     file that includes it, includes in the order listed, depth first; the
 *     main file's own content comes last.  So list sections (categories,
 *     discounts, ...) read "shared rules first, then this file's", and a
 *     segment of the main file may use segments of its includes;
 *   - max_includes counts the included files, not the main one (0: includes
 *     are refused);
 *   - read from disk, an included file must lie in the main file's directory
 *     or below it, `..` and symbolic links resolved (realpath) before the
 *     check, unless opts->allow_paths names its directory: a rule file
 *     cannot make the library read any file the process may read
 *     (`include: [/proc/self/environ]`).  The main file's tree rather than
 *     each includer's own, so shared/x.yaml may include ../common.yaml of
 *     the same rule set.  A resolver (opts->include) is its own policy.
 */
#ifndef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#ifndef _XOPEN_SOURCE
#  define _XOPEN_SOURCE 700      /* realpath */
#endif
#include "plan.h"
#include "rules.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define NO_PARENT SIZE_MAX

static const tsr_load_options default_options = TSR_LOAD_OPTIONS_INIT;

/* sizeof(tsr_load_options) as each version of the header declared it, so
 * tsr_load_options_init never writes past an older caller's struct. */
static const size_t options_size[TSR_LOAD_OPTIONS_VERSION + 1] = {
    0, offsetof(tsr_load_options, max_eval_steps), offsetof(tsr_load_options, allow_paths),
    sizeof(tsr_load_options)
};

int tsr_load_options_init(tsr_load_options *opts, unsigned version)
{
    if (!opts || version == 0 || version > TSR_LOAD_OPTIONS_VERSION)
        return TSR_EINVAL;
    memcpy(opts, &default_options, options_size[version]);
    opts->version = version;
    return TSR_OK;
}

/* The options in force: the defaults, overridden by the fields the caller's
 * version of the struct has.  A zero limit means "the default" (a zero
 * max_file_size or max_depth would refuse every file); max_aliases and
 * max_includes are taken as given, since 0 ("refused") is a useful value. */
int tsr__load_options_effective(tsr_load_options *eff, const tsr_load_options *opts,
                                tsr_error *err)
{
    *eff = default_options;
    if (!opts)
        return TSR_OK;
    if (opts->version == 0 || opts->version > TSR_LOAD_OPTIONS_VERSION)
        return tsr__err(err, TSR_EINVAL,
                        "load options version %u is not supported (this library knows 1 to %d); "
                        "start from TSR_LOAD_OPTIONS_INIT", opts->version,
                        TSR_LOAD_OPTIONS_VERSION);
#define PICK(f) do { if (opts->f) eff->f = opts->f; } while (0)
    /* Version 1.  Fields of a later version are read only when
     * opts->version says the caller's struct has them. */
    eff->allocator = opts->allocator;
    PICK(max_file_size);
    PICK(max_depth);
    PICK(max_scalar_length);
    PICK(max_nodes);
    eff->max_aliases = opts->max_aliases;
    eff->max_includes = opts->max_includes;
    PICK(max_expression_length);
    PICK(max_order_lines);
    PICK(max_promo_codes);
    PICK(max_string_length);
    PICK(max_order_size);
    PICK(regex_match_limit);
    PICK(regex_depth_limit);
    PICK(regex_heap_limit_kib);
    eff->include = opts->include;
    eff->include_ud = opts->include_ud;
    eff->tzdir = opts->tzdir;
    if (opts->version >= 2)
        PICK(max_eval_steps);
    if (opts->version >= 3)
        eff->allow_paths = opts->allow_paths;
#undef PICK
    /* libyaml's work per event grows with the nesting open at that point:
     * a document nested N deep costs N^2 (see TSR_MAX_DEPTH_LIMIT).  Refused
     * rather than quietly lowered, so that the caller learns it at once. */
    if (eff->max_depth > TSR_MAX_DEPTH_LIMIT)
        return tsr__err(err, TSR_EINVAL,
                        "load option max_depth %u is above the largest allowed, %d (parsing "
                        "time grows with the square of the nesting)",
                        eff->max_depth, TSR_MAX_DEPTH_LIMIT);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Reading files.
 */

/* strerror without shared state, whichever strerror_r the C library has. */
static const char *errno_text(int e, char *buf, size_t size)
{
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(e, buf, size);
#else
    if (strerror_r(e, buf, size) != 0)
        snprintf(buf, size, "error %d", e);
    return buf;
#endif
}

typedef enum { READ_OK, READ_ERRNO, READ_TOO_BIG, READ_NOMEM } read_status;

/* Read all of `path` into a buffer from the allocator, refusing files over
 * `max` bytes before reading them (and, for pipes and the like, as soon as
 * the limit is passed). */
static read_status read_all(const tsr_alloc *a, const char *path, size_t max, char **out,
                            size_t *len, size_t *cap, int *error)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0, size;
    int fd;

    *out = NULL;
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        *error = errno;
        return READ_ERRNO;
    }
    if (fstat(fd, &st) != 0)
        *error = errno;
    else if (S_ISDIR(st.st_mode))
        *error = EISDIR;
    else
        *error = 0;
    if (*error) {
        close(fd);
        return READ_ERRNO;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max) {
        close(fd);
        return READ_TOO_BIG;
    }
    size = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
    for (;;) {
        ssize_t got;
        if (n == size || !buf) {
            size_t nsize = buf ? size * 2 : size;
            char *p = tsr__realloc(a, buf, buf ? size : 0, nsize);
            if (!p) {
                tsr__free(a, buf, size);
                close(fd);
                return READ_NOMEM;
            }
            buf = p;
            size = nsize;
        }
        got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            *error = errno;
            tsr__free(a, buf, size);
            close(fd);
            return READ_ERRNO;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n > max) {
            tsr__free(a, buf, size);
            close(fd);
            return READ_TOO_BIG;
        }
    }
    close(fd);
    *out = buf;
    *len = n;
    *cap = size;
    return READ_OK;
}

/* ---------------------------------------------------------------------
 * The include graph.
 */
typedef struct source {
    const char *name;       /* as shown in errors (rule set's arena) */
    const char *canon;      /* identity, for cycles and include-once */
    char *buf;              /* text read here (freed after loading), or NULL */
    size_t buf_cap;
    const tsr_ynode *root;
    size_t parent;          /* includer's index, NO_PARENT for the main file */
} source;

typedef struct loader {
    tsr_ruleset *rs;
    const tsr_load_options *opts;
    tsr_ylimits ylimits;
    tsr_arena tmp;          /* YAML trees and scratch, freed after loading */
    source *srcs;
    size_t nsrcs, srcs_cap;
    size_t *merge;          /* source indexes in merge order */
    size_t nmerge, merge_cap;
    tsr_check_report *diags;  /* checking: the builder goes on after an error */
    tsr_error *err;
} loader;

static int nomem(tsr_error *err)
{
    return tsr__err(err, TSR_ENOMEM, NULL);
}

/* Register a source whose text is text[0..len); `buf` (if any) is ours to free. */
static int add_source(loader *ld, const char *name, const char *canon, char *buf,
                      size_t buf_cap, size_t parent, size_t *index)
{
    source *s;

    if (tsr__grow(&ld->rs->alloc, (void **)&ld->srcs, &ld->srcs_cap, ld->nsrcs + 1,
                  sizeof *ld->srcs) != TSR_OK) {
        tsr__free(&ld->rs->alloc, buf, buf_cap);
        return nomem(ld->err);
    }
    s = &ld->srcs[ld->nsrcs];
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->buf_cap = buf_cap;
    s->parent = parent;
    *index = ld->nsrcs++;
    s->name = tsr__arena_strndup(&ld->rs->arena, name, strlen(name));
    s->canon = tsr__arena_strndup(&ld->tmp, canon, strlen(canon));
    if (!s->name || !s->canon)
        return nomem(ld->err);
    return TSR_OK;
}

static int parse_source(loader *ld, size_t index, const char *text, size_t len)
{
    tsr_ynode *root = NULL;
    const char *name = ld->srcs[index].name;
    int rc;

    rc = tsr__yaml_parse(&root, text, len, name, &ld->ylimits, &ld->tmp, ld->err);
    if (rc != TSR_OK)
        return rc;
    if (!root || tsr__yaml_is_null(root))
        return tsr__err_at(ld->err, TSR_ESCHEMA, name, 1, 1,
                           "the rule file is empty; it needs at least `tessera`, `ruleset` and "
                           "`currency`");
    if (root->kind != TSR_Y_MAP)
        return tsr__err_at(ld->err, TSR_ESCHEMA, name, root->line, root->col,
                           "a rule file must be a mapping of sections (`tessera: 1`, "
                           "`ruleset: ...`, ...)");
    ld->srcs[index].root = root;
    return TSR_OK;
}

/* "dir/of/includer/" + name, unless name is absolute. */
static char *join_path(tsr_arena *ar, const char *includer, const char *name, size_t len)
{
    const char *slash = strrchr(includer, '/');
    size_t dlen = (name[0] == '/' || !slash) ? 0 : (size_t)(slash - includer) + 1;
    char *p;

    if (len > SIZE_MAX - dlen - 1)
        return NULL;
    p = tsr__arena_alloc(ar, dlen + len + 1);
    if (p) {
        memcpy(p, includer, dlen);
        memcpy(p + dlen, name, len);
        p[dlen + len] = '\0';
    }
    return p;
}

/* "a.yaml -> b.yaml -> a.yaml": the chain from the main file to `parent`,
 * then the file that closes the cycle. */
static void cycle_chain(const loader *ld, size_t parent, const char *again, char *buf,
                        size_t size)
{
    size_t chain[64] = { 0 }, n = 0, i, used = 0;
    size_t at;

    for (at = parent; at != NO_PARENT && n < TSR_ARRAY_LEN(chain); at = ld->srcs[at].parent)
        chain[n++] = at;
    buf[0] = '\0';
    for (i = n; i-- > 0 && used < size;) {
        int w = snprintf(buf + used, size - used, "%s -> ", ld->srcs[chain[i]].name);
        if (w < 0)
            return;
        used += (size_t)w;
    }
    if (used < size)
        snprintf(buf + used, size - used, "%s", again);
}

static bool is_ancestor(const loader *ld, size_t parent, const char *canon)
{
    size_t at;
    for (at = parent; at != NO_PARENT; at = ld->srcs[at].parent)
        if (strcmp(ld->srcs[at].canon, canon) == 0)
            return true;
    return false;
}

static bool already_loaded(const loader *ld, const char *canon)
{
    size_t i;
    for (i = 0; i < ld->nsrcs; i++)
        if (strcmp(ld->srcs[i].canon, canon) == 0)
            return true;
    return false;
}

static int include_error(loader *ld, size_t parent, const tsr_ynode *entry, int code,
                         const char *what)
{
    return tsr__err_at(ld->err, code, ld->srcs[parent].name, entry->line, entry->col,
                       "cannot include `%s`: %s", entry->u.scalar.text, what);
}

/* Where an include entry leads: its display name and identity, and its text
 * when a resolver supplied it. */
typedef struct target {
    const char *name, *canon;
    const char *open;       /* the resolved path to read (on disk) */
    const char *text;       /* from the resolver, else NULL: read `open` */
    size_t len;
} target;

static int resolve_with_hook(loader *ld, size_t parent, const tsr_ynode *entry, target *t)
{
    char resolved[TSR_ERROR_PATH_MAX];
    int rc;

    resolved[0] = '\0';
    t->text = NULL;
    t->len = 0;
    rc = ld->opts->include(ld->opts->include_ud, ld->srcs[parent].canon, entry->u.scalar.text,
                           resolved, sizeof resolved, &t->text, &t->len);
    if (rc == TSR_ENOMEM)
        return nomem(ld->err);
    if (rc != TSR_OK)
        return include_error(ld, parent, entry, TSR_EINCLUDE, tsr_strerror(rc));
    resolved[sizeof resolved - 1] = '\0';
    if (!t->text && t->len)
        return include_error(ld, parent, entry, TSR_EINCLUDE, "the resolver gave no text");
    if (!t->text)
        t->text = "";
    t->name = tsr__arena_strndup(&ld->tmp, resolved[0] ? resolved : entry->u.scalar.text,
                                 strlen(resolved[0] ? resolved : entry->u.scalar.text));
    if (!t->name)
        return nomem(ld->err);
    t->canon = t->name;
    return TSR_OK;
}

/* A file's identity on disk: its device and inode, so that two spellings of
 * one path (./a.yaml, sub/../a.yaml, a symlink) are one file. */
static bool file_identity(const char *path, char *buf, size_t size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    snprintf(buf, size, "@%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
    return true;
}

/* The resolved directory of file name f (its directory part; "." when it
 * has none) in out[PATH_MAX]. */
static bool real_dir_of(const char *f, char *out)
{
    char dir[PATH_MAX];
    const char *slash = f ? strrchr(f, '/') : NULL;
    size_t n;

    if (!slash)
        return realpath(".", out) != NULL;
    n = slash == f ? 1 : (size_t)(slash - f);   /* "/x.yaml": the root */
    if (n >= sizeof dir) {
        errno = ENAMETOOLONG;
        return false;
    }
    memcpy(dir, f, n);
    dir[n] = '\0';
    return realpath(dir, out) != NULL;
}

/* Is resolved path `real` the resolved directory `dir` or inside it? */
static bool inside(const char *real, const char *dir)
{
    size_t n = strlen(dir);
    if (n == 0 || strncmp(real, dir, n) != 0)
        return false;
    return dir[n - 1] == '/' || real[n] == '/' || real[n] == '\0';   /* "/" holds all */
}

int tsr__path_allowed(const char *root, const char *path, const char *const *allow, char *real)
{
    char dir[PATH_MAX];
    size_t i;

    if (!realpath(path, real))
        return TSR_EIO;
    if (real_dir_of(root, dir) && inside(real, dir))
        return TSR_OK;
    for (i = 0; allow && allow[i]; i++)
        if (realpath(allow[i], dir) && inside(real, dir))
            return TSR_OK;
    return TSR_EINCLUDE;
}

static int resolve_on_disk(loader *ld, size_t parent, const tsr_ynode *entry, target *t)
{
    char id[64], ebuf[128], real[PATH_MAX], why[TSR_ERROR_TEXT_MAX];
    char *path = join_path(&ld->tmp, ld->srcs[parent].name, entry->u.scalar.text,
                           entry->u.scalar.len);
    int rc;

    if (!path)
        return nomem(ld->err);
    t->name = path;
    t->text = NULL;
    /* Confined to the main file's tree (see the top of the file).  Nothing
     * of a refused file is read, so no message can echo what it holds. */
    rc = tsr__path_allowed(ld->srcs[0].name, path, ld->opts->allow_paths, real);
    if (rc == TSR_EIO)
        return include_error(ld, parent, entry, TSR_EINCLUDE, errno_text(errno, ebuf, sizeof ebuf));
    if (rc == TSR_EINCLUDE) {
        snprintf(why, sizeof why, "it is outside the directory of %s, the rule set's main file "
                 "(the load option allow_paths, or tessera --allow-path DIR, allows more)",
                 ld->srcs[0].name);
        return include_error(ld, parent, entry, TSR_EINCLUDE, why);
    }
    if (!(t->open = tsr__arena_strndup(&ld->tmp, real, strlen(real))))
        return nomem(ld->err);
    if (!file_identity(real, id, sizeof id))
        return include_error(ld, parent, entry, TSR_EINCLUDE, errno_text(errno, ebuf, sizeof ebuf));
    t->canon = tsr__arena_strndup(&ld->tmp, id, strlen(id));
    if (!t->canon)
        return nomem(ld->err);
    return TSR_OK;
}

static int visit(loader *ld, size_t index);

/* Follow one `include:` entry of source `parent`. */
static int include_one(loader *ld, size_t parent, const tsr_ynode *entry)
{
    target t;
    char *buf = NULL;
    size_t cap = 0, child;
    int rc;

    if (entry->kind != TSR_Y_SCALAR || entry->u.scalar.len == 0 || tsr__yaml_is_null(entry))
        return tsr__err_at(ld->err, TSR_ESCHEMA, ld->srcs[parent].name, entry->line, entry->col,
                           "`include` must list file names");
    rc = ld->opts->include ? resolve_with_hook(ld, parent, entry, &t)
                           : resolve_on_disk(ld, parent, entry, &t);
    if (rc != TSR_OK)
        return rc;
    if (is_ancestor(ld, parent, t.canon)) {
        char chain[TSR_ERROR_TEXT_MAX - 32];
        cycle_chain(ld, parent, t.name, chain, sizeof chain);
        return tsr__err_at(ld->err, TSR_EINCLUDE, ld->srcs[parent].name, entry->line,
                           entry->col, "include cycle: %s", chain);
    }
    if (already_loaded(ld, t.canon))
        return TSR_OK;
    if (ld->nsrcs - 1 >= ld->opts->max_includes)
        return tsr__err_at(ld->err, TSR_ELIMIT, ld->srcs[parent].name, entry->line, entry->col,
                           "too many included files (the limit is %u)", ld->opts->max_includes);
    if (!t.text) {
        char ebuf[128];
        int e = 0;
        switch (read_all(&ld->rs->alloc, t.open, ld->opts->max_file_size, &buf, &t.len, &cap,
                         &e)) {
        case READ_OK:
            break;
        case READ_NOMEM:
            return nomem(ld->err);
        case READ_TOO_BIG:
            return tsr__err_at(ld->err, TSR_ELIMIT, ld->srcs[parent].name, entry->line,
                               entry->col, "cannot include `%s`: larger than the limit of %zu bytes",
                               entry->u.scalar.text, ld->opts->max_file_size);
        case READ_ERRNO:
            return include_error(ld, parent, entry, TSR_EINCLUDE, errno_text(e, ebuf, sizeof ebuf));
        }
        t.text = buf;
    }
    if (t.len > ld->opts->max_file_size)
        return tsr__err_at(ld->err, TSR_ELIMIT, ld->srcs[parent].name, entry->line, entry->col,
                           "cannot include `%s`: larger than the limit of %zu bytes",
                           entry->u.scalar.text, ld->opts->max_file_size);
    rc = add_source(ld, t.name, t.canon, buf, cap, parent, &child);
    if (rc == TSR_OK)
        rc = parse_source(ld, child, t.text, t.len);
    if (rc == TSR_OK)
        rc = visit(ld, child);
    return rc;
}

/* Depth first: a file's includes are read (and merged) before the file. */
static int visit(loader *ld, size_t index)
{
    const tsr_ynode *inc = tsr__ymap_get(ld->srcs[index].root, "include");
    size_t i;
    int rc;

    if (inc && !tsr__yaml_is_null(inc)) {
        if (inc->kind != TSR_Y_SEQ)
            return tsr__err_at(ld->err, TSR_ESCHEMA, ld->srcs[index].name, inc->line, inc->col,
                               "`include` must be a list of file names");
        for (i = 0; i < inc->u.seq.len; i++)
            if ((rc = include_one(ld, index, inc->u.seq.items[i])) != TSR_OK)
                return rc;
    }
    if (tsr__grow(&ld->rs->alloc, (void **)&ld->merge, &ld->merge_cap, ld->nmerge + 1,
                  sizeof *ld->merge) != TSR_OK)
        return nomem(ld->err);
    ld->merge[ld->nmerge++] = index;
    return TSR_OK;
}

/* Hand the sources to the model builder in merge order and keep their names. */
static int build_model(loader *ld)
{
    tsr_ruleset *rs = ld->rs;
    tsr_rule_source *order;
    size_t i;

    order = tsr__arena_calloc(&ld->tmp, ld->nmerge, sizeof *order);
    rs->files = tsr__arena_calloc(&rs->arena, ld->nsrcs, sizeof *rs->files);
    if (!order || !rs->files)
        return nomem(ld->err);
    for (i = 0; i < ld->nsrcs; i++)
        rs->files[i] = ld->srcs[i].name;
    rs->nfiles = ld->nsrcs;
    for (i = 0; i < ld->nmerge; i++) {
        const source *s = &ld->srcs[ld->merge[i]];
        order[i].name = s->name;
        order[i].root = s->root;
        order[i].is_main = s->parent == NO_PARENT;
    }
    return tsr__rules_build(rs, order, ld->nmerge, ld->opts->tzdir, ld->diags, ld->err);
}

/* Line conditions that several rules repeat (`for: item.kind == "ticket"`
 * in every category and discount) share a memo slot, so an evaluation
 * tests each once per line: tsr__expr_test keeps the answer in the line's
 * row of a memo the evaluation owns.  Only conditions tsr__expr_memo_same
 * accepts (a constant comparison of a field evaluation never changes) and
 * only those that occur at least twice get a slot.  Done once at load; the
 * rule set is read-only afterwards. */
#define MEMO_MAX_SLOTS 64
#define MEMO_MAX_CANDIDATES 1024

static void memo_add(tsr_expr **cand, size_t *n, tsr_expr *e)
{
    if (e && *n < MEMO_MAX_CANDIDATES)
        cand[(*n)++] = e;
}

static int memo_assign(tsr_ruleset *rs, tsr_arena *tmp)
{
    tsr_expr **cand;
    size_t n = 0, i, j, c;

    rs->nmemo = 0;
    cand = tsr__arena_alloc(tmp, MEMO_MAX_CANDIDATES * sizeof *cand);
    if (!cand)
        return TSR_ENOMEM;
    for (i = 0; i < rs->ncategories; i++)
        memo_add(cand, &n, rs->categories[i].for_);
    for (i = 0; i < rs->ndiscounts; i++) {
        const tsr_discount *d = &rs->discounts[i];
        memo_add(cand, &n, d->for_);
        memo_add(cand, &n, d->reward);
        for (c = 0; c < d->nbundle; c++)
            memo_add(cand, &n, d->bundle[c].for_);
    }
    for (i = 0; i < rs->loyalty.nearn; i++)
        memo_add(cand, &n, rs->loyalty.earn[i].for_);
    for (i = 0; i < n && rs->nmemo < MEMO_MAX_SLOTS; i++) {
        size_t same = 0;
        if (cand[i]->memo)
            continue;   /* already shares an earlier one's slot */
        for (j = i + 1; j < n; j++)
            if (!cand[j]->memo && tsr__expr_memo_same(cand[i], cand[j])) {
                cand[j]->memo = (uint32_t)rs->nmemo + 1;
                same++;
            }
        if (same)
            cand[i]->memo = (uint32_t)rs->nmemo++ + 1;
    }
    return TSR_OK;
}

static void loader_free(loader *ld)
{
    size_t i;
    for (i = 0; i < ld->nsrcs; i++)
        tsr__free(&ld->rs->alloc, ld->srcs[i].buf, ld->srcs[i].buf_cap);
    tsr__free(&ld->rs->alloc, ld->srcs, ld->srcs_cap * sizeof *ld->srcs);
    tsr__free(&ld->rs->alloc, ld->merge, ld->merge_cap * sizeof *ld->merge);
    tsr__arena_free(&ld->tmp);
}

/* The main file's identity: the file on disk when there is one (so that an
 * include leading back to it is seen as a cycle), else its name, which is
 * also what a resolver is told it is. */
static const char *main_identity(const tsr_load_options *opts, const char *name, char *id,
                                 size_t size)
{
    if (!opts->include && file_identity(name, id, size))
        return id;
    return name;
}

static int read_main_file(const tsr_alloc *alloc, const char *path, size_t max, char **buf,
                          size_t *len, size_t *cap, tsr_error *err)
{
    char ebuf[128];
    int e = 0;

    switch (read_all(alloc, path, max, buf, len, cap, &e)) {
    case READ_OK:
        return TSR_OK;
    case READ_NOMEM:
        return nomem(err);
    case READ_TOO_BIG:
        return tsr__err_at(err, TSR_ELIMIT, path, 0, 0,
                           "the file is larger than the limit of %zu bytes", max);
    case READ_ERRNO:
    default:
        return tsr__err_at(err, TSR_EIO, path, 0, 0, "%s", errno_text(e, ebuf, sizeof ebuf));
    }
}

/* An empty rule set with its arena and regex pool, ready to be built. */
static int new_ruleset(tsr_ruleset **out, const tsr_alloc *alloc, const tsr_load_options *eff,
                       tsr_error *err)
{
    tsr_ruleset *rs = tsr__calloc(alloc, 1, sizeof *rs);
    int rc;

    *out = NULL;
    if (!rs)
        return nomem(err);
    rs->alloc = *alloc;
    tsr__arena_init(&rs->arena, &rs->alloc, 16u << 10);
    rs->limits = *eff;
    /* Pointers into the caller's memory are not kept past the load call. */
    rs->limits.allocator = NULL;
    rs->limits.include = NULL;
    rs->limits.include_ud = NULL;
    rs->limits.tzdir = NULL;
    rs->limits.allow_paths = NULL;
    rc = tsr__regex_pool_new(&rs->regexes, &rs->alloc, eff->regex_match_limit,
                             eff->regex_depth_limit, eff->regex_heap_limit_kib);
    if (rc != TSR_OK) {
        tsr_ruleset_free(rs);
        return tsr__err(err, rc, NULL);
    }
    *out = rs;
    return TSR_OK;
}

static void loader_init(loader *ld, tsr_ruleset *rs, const tsr_load_options *eff,
                        tsr_error *err)
{
    memset(ld, 0, sizeof *ld);
    ld->rs = rs;
    ld->opts = eff;
    ld->err = err;
    ld->ylimits.max_size = eff->max_file_size;
    ld->ylimits.max_depth = eff->max_depth;
    ld->ylimits.max_scalar = eff->max_scalar_length;
    ld->ylimits.max_nodes = eff->max_nodes;
    ld->ylimits.max_aliases = eff->max_aliases;
    tsr__arena_init(&ld->tmp, &rs->alloc, 64u << 10);
}

/* Read the main file's text (and everything it includes) into rs.  `buf`
 * is the main text when we read it ourselves: the loader frees it. */
static int load_into(tsr_ruleset *rs, const tsr_load_options *eff, const char *name,
                     const char *text, size_t len, char *buf, size_t cap,
                     tsr_check_report *diags, tsr_error *err)
{
    loader ld;
    char id[64];
    size_t main_index;
    int rc;

    loader_init(&ld, rs, eff, err);
    ld.diags = diags;
    rc = add_source(&ld, name, main_identity(eff, name, id, sizeof id), buf, cap, NO_PARENT,
                    &main_index);
    if (rc == TSR_OK)
        rc = parse_source(&ld, main_index, text, len);
    if (rc == TSR_OK)
        rc = visit(&ld, main_index);
    if (rc == TSR_OK)
        rc = build_model(&ld);
    if (rc == TSR_OK && memo_assign(rs, &ld.tmp) != TSR_OK)
        rc = nomem(err);
    if (rc == TSR_OK) {
        size_t c;
        for (c = 0; c < rs->ncategories; c++)
            rs->categories[c].price_order_level = tsr__expr_order_level(rs->categories[c].price);
    }
    if (rc == TSR_OK && tsr__order_keys_build(rs) != TSR_OK)
        rc = nomem(err);
    if (rc == TSR_OK && tsr__plan_build(rs) != TSR_OK)
        rc = nomem(err);
    if (rc == TSR_OK)
        tsr__discounts_prepare(rs);
    if (rc == TSR_OK && tsr__promo_index_build(rs) != TSR_OK)
        rc = nomem(err);
    if (rc == TSR_OK && (tsr__result_json_prepare(rs) != TSR_OK ||
                         tsr__ruleset_pool_init(rs) != TSR_OK))
        rc = nomem(err);
    loader_free(&ld);
    return rc;
}

size_t tsr__file_rank(const tsr_ruleset *rs, const char *file)
{
    size_t i;
    for (i = 0; file && i < rs->nfiles; i++)
        if (rs->files[i] == file || strcmp(rs->files[i], file) == 0)
            return i;
    return rs->nfiles;
}

/* A check's errors in file order (tsr_place): they are found section by
 * section, which is not the order of the text. */
static int sort_report(tsr_check_report *r, const tsr_ruleset *rs)
{
    tsr_arena tmp;
    tsr_place *keys;
    tsr_error *sorted;
    size_t i;
    int rc = TSR_ENOMEM;

    if (r->n < 2)
        return TSR_OK;
    tsr__arena_init(&tmp, &r->alloc, 1024);
    keys = tsr__arena_calloc(&tmp, r->n, sizeof *keys);
    sorted = tsr__arena_calloc(&tmp, r->n, sizeof *sorted);
    if (keys && sorted) {
        for (i = 0; i < r->n; i++) {
            keys[i].rank = tsr__file_rank(rs, r->errors[i].file);
            keys[i].seq = i;
            keys[i].line = r->errors[i].line;
            keys[i].col = r->errors[i].column;
        }
        if (tsr__sort_stable(&tmp, keys, r->n, sizeof *keys, tsr__place_cmp) == TSR_OK) {
            for (i = 0; i < r->n; i++)
                sorted[i] = r->errors[keys[i].seq];
            memcpy(r->errors, sorted, r->n * sizeof *sorted);
            rc = TSR_OK;
        }
    }
    tsr__arena_free(&tmp);
    return rc;
}

/* Load a rule set whose main file is `path` (text == NULL: read it) or
 * text[0..len) named `name`.  With `report`, check: make a report and
 * collect every error in it (tsr_ruleset_check_file). */
static int load(tsr_ruleset **out, const char *path, const char *text, size_t len,
                const char *name, const tsr_load_options *opts, tsr_check_report **report,
                tsr_error *err)
{
    tsr_load_options eff;
    tsr_alloc alloc;
    tsr_ruleset *rs;
    tsr_check_report *diags = NULL;
    char *buf = NULL;
    size_t cap = 0;
    int rc;

    tsr__error_clear(err);
    if (report)
        *report = NULL;
    if (!out)
        return tsr__err(err, TSR_EINVAL, "no place to store the rule set");
    *out = NULL;
    if ((rc = tsr__load_options_effective(&eff, opts, err)) != TSR_OK)
        return rc;
    tsr__alloc_init(&alloc, eff.allocator);
    if (report) {
        if (!(diags = tsr__calloc(&alloc, 1, sizeof *diags)))
            return nomem(err);
        diags->alloc = alloc;
        *report = diags;
    }
    if (!text) {
        rc = read_main_file(&alloc, path, eff.max_file_size, &buf, &len, &cap, err);
        if (rc != TSR_OK)
            goto failed;
        text = buf;
        name = path;
    } else if (len > eff.max_file_size) {
        rc = tsr__err_at(err, TSR_ELIMIT, name, 0, 0,
                         "the rule text is larger than the limit of %zu bytes", eff.max_file_size);
        goto failed;
    }
    if ((rc = new_ruleset(&rs, &alloc, &eff, err)) != TSR_OK) {
        tsr__free(&alloc, buf, cap);
        goto failed;
    }
    rc = load_into(rs, &eff, name, text, len, buf, cap, diags, err);
    if (rc != TSR_OK) {
        if (err && err->code == TSR_OK)
            tsr__err(err, rc, NULL);
        if (diags && rc != TSR_ENOMEM && sort_report(diags, rs) != TSR_OK)
            rc = nomem(err);
        tsr_ruleset_free(rs);
        goto failed;
    }
    *out = rs;
    return TSR_OK;
failed:
    /* an error before the rules (the file, its YAML, an include) is the
     * check's one error */
    if (diags && diags->n == 0 && rc != TSR_ENOMEM && err && err->code != TSR_OK &&
        tsr__check_report_add(diags, err) == TSR_ENOMEM)
        rc = nomem(err);
    return rc;
}

int tsr_ruleset_load_file(tsr_ruleset **out, const char *path, const tsr_load_options *opts,
                          tsr_error *err)
{
    if (!path) {
        tsr__error_clear(err);
        if (out)
            *out = NULL;
        return tsr__err(err, TSR_EINVAL, "no rule file named");
    }
    return load(out, path, NULL, 0, NULL, opts, NULL, err);
}

int tsr_ruleset_load_string(tsr_ruleset **out, const char *text, size_t len, const char *name,
                            const tsr_load_options *opts, tsr_error *err)
{
    if (!text && len) {
        tsr__error_clear(err);
        if (out)
            *out = NULL;
        return tsr__err(err, TSR_EINVAL, "no rule text given");
    }
    return load(out, NULL, text ? text : "", len, name ? name : "<string>", opts, NULL, err);
}

/* ---------------------------------------------------------------------
 * Checking: loading that reports every error (tsr_check_report).
 */
/* The check proper, with an error struct of its own when the caller gives
 * none (the first error is also what the report is built from). */
static int check(tsr_ruleset **out, tsr_check_report **report, const char *path,
                 const char *text, size_t len, const char *name, const tsr_load_options *opts,
                 tsr_error *err)
{
    tsr_check_report *own = NULL;
    tsr_error local;
    int rc;

    rc = load(out, path, text, len, name, opts, report ? report : &own, err ? err : &local);
    tsr_check_report_free(own);
    return rc;
}

int tsr_ruleset_check_file(tsr_ruleset **out, tsr_check_report **report, const char *path,
                           const tsr_load_options *opts, tsr_error *err)
{
    if (report)
        *report = NULL;
    if (!path) {
        tsr__error_clear(err);
        if (out)
            *out = NULL;
        return tsr__err(err, TSR_EINVAL, "no rule file named");
    }
    return check(out, report, path, NULL, 0, NULL, opts, err);
}

int tsr_ruleset_check_string(tsr_ruleset **out, tsr_check_report **report, const char *text,
                             size_t len, const char *name, const tsr_load_options *opts,
                             tsr_error *err)
{
    if (report)
        *report = NULL;
    if (!text && len) {
        tsr__error_clear(err);
        if (out)
            *out = NULL;
        return tsr__err(err, TSR_EINVAL, "no rule text given");
    }
    return check(out, report, NULL, text ? text : "", len, name ? name : "<string>", opts, err);
}

void tsr_ruleset_free(tsr_ruleset *rs)
{
    tsr_alloc alloc;

    if (!rs)
        return;
    alloc = rs->alloc;
    tsr_ruleset_release_memory(rs);
    tsr__regex_pool_free(rs->regexes);
    tsr__tz_free(rs->tz, &rs->alloc);
    tsr__arena_free(&rs->arena);
    tsr__free(&alloc, rs, sizeof *rs);
}

const char *tsr_ruleset_id(const tsr_ruleset *rs)
{
    return rs ? rs->id : NULL;
}

const char *tsr_ruleset_version(const tsr_ruleset *rs)
{
    return rs ? rs->version : NULL;
}

const char *tsr_ruleset_currency(const tsr_ruleset *rs)
{
    return rs ? rs->currency : NULL;
}

size_t tsr_ruleset_file_count(const tsr_ruleset *rs)
{
    return rs ? rs->nfiles : 0;
}

const char *tsr_ruleset_file(const tsr_ruleset *rs, size_t i)
{
    return rs && i < rs->nfiles ? rs->files[i] : NULL;
}

size_t tsr_ruleset_count(const tsr_ruleset *rs, const char *section)
{
    if (!rs || !section)
        return 0;
    if (strcmp(section, "tables") == 0)
        return rs->ntables;
    if (strcmp(section, "segments") == 0)
        return rs->nsegments;
    if (strcmp(section, "tiers") == 0)
        return rs->ntiers;
    if (strcmp(section, "categories") == 0)
        return rs->ncategories;
    if (strcmp(section, "promo_codes") == 0)
        return rs->npromos;
    if (strcmp(section, "discounts") == 0)
        return rs->ndiscounts;
    if (strcmp(section, "earn") == 0)
        return rs->loyalty.nearn;
    if (strcmp(section, "offers") == 0)
        return rs->noffers;
    if (strcmp(section, "taxes") == 0)
        return rs->taxes.nrates;
    return 0;
}
