/*
 * regex.c — PCRE2 (8-bit) behind a small interface: a pool that owns the
 * patterns of one rule set, compiled at load, and per-thread scratch for
 * matching.
 *
 * Safety choices: no JIT (smaller attack surface, and the interpreter
 * honours every limit); UTF mode with \C forbidden; a match context carries
 * the rule set's match, depth and heap limits, and hitting any of them is an
 * error that the caller reports (fails closed) — never a silent non-match.
 * All PCRE2 memory goes through the library's allocator (general contexts
 * route it), so custom allocators and allocation-failure tests see it too.
 *
 * Thread safety: compiled patterns and the pool's match context are only
 * read while matching; match data lives in the caller's per-thread scratch.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdio.h>

#include "expr_impl.h"

struct tsr_regex {
    tsr_regex *next;
    const tsr_regex_pool *pool;
    pcre2_code *code;
    char *pattern;      /* NUL-terminated copy, for messages */
    size_t len;
    bool caseless, full;
};

struct tsr_regex_pool {
    tsr_alloc alloc;    /* by value: PCRE2 keeps a pointer to it */
    pcre2_general_context *gctx;
    pcre2_compile_context *cctx;
    pcre2_match_context *mctx;
    uint32_t match_limit, depth_limit, heap_limit_kib;   /* as set; 0: PCRE2's */
    tsr_regex *head;
};

struct tsr_regex_scratch {
    tsr_alloc alloc;
    pcre2_general_context *gctx;
    pcre2_match_data *md;
    int last_rc;
    char msg[128];      /* PCRE2's words for the last other error */
    char *buf;
    size_t bufcap;
};

/* PCRE2's free() does not get the size, which tsr_alloc needs: keep it in
 * a header (16 bytes, so the block stays aligned for any type). */
#define HDR 16

static void *re_malloc(PCRE2_SIZE n, void *ud)
{
    const tsr_alloc *a = ud;
    if (n > SIZE_MAX - HDR)
        return NULL;
    unsigned char *p = tsr__malloc(a, n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    return p + HDR;
}

static void re_free(void *q, void *ud)
{
    if (!q)
        return;
    unsigned char *p = (unsigned char *)q - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    tsr__free(ud, p, n + HDR);
}

int tsr__regex_pool_new(tsr_regex_pool **out, const tsr_alloc *alloc, uint32_t match_limit,
                        uint32_t depth_limit, uint32_t heap_limit_kib)
{
    *out = NULL;
    tsr_regex_pool *p = tsr__calloc(alloc, 1, sizeof *p);
    if (!p)
        return TSR_ENOMEM;
    p->alloc = *alloc;
    p->gctx = pcre2_general_context_create(re_malloc, re_free, &p->alloc);
    if (!p->gctx)
        goto oom;
    p->cctx = pcre2_compile_context_create(p->gctx);
    p->mctx = pcre2_match_context_create(p->gctx);
    if (!p->cctx || !p->mctx)
        goto oom;
    /* 0 keeps PCRE2's own default for that limit. */
    if (match_limit)
        pcre2_set_match_limit(p->mctx, match_limit);
    if (depth_limit)
        pcre2_set_depth_limit(p->mctx, depth_limit);
    if (heap_limit_kib)
        pcre2_set_heap_limit(p->mctx, heap_limit_kib);
    p->match_limit = match_limit;
    p->depth_limit = depth_limit;
    p->heap_limit_kib = heap_limit_kib;
    *out = p;
    return TSR_OK;
oom:
    tsr__regex_pool_free(p);
    return TSR_ENOMEM;
}

void tsr__regex_pool_free(tsr_regex_pool *pool)
{
    if (!pool)
        return;
    tsr_regex *r = pool->head;
    while (r) {
        tsr_regex *next = r->next;
        pcre2_code_free(r->code);
        tsr__free(&pool->alloc, r->pattern, r->len + 1);
        tsr__free(&pool->alloc, r, sizeof *r);
        r = next;
    }
    pcre2_match_context_free(pool->mctx);
    pcre2_compile_context_free(pool->cctx);
    pcre2_general_context_free(pool->gctx);
    tsr_alloc a = pool->alloc;
    tsr__free(&a, pool, sizeof *pool);
}

int tsr__regex_compile(tsr_regex_pool *pool, tsr_regex **out, const char *pattern, size_t len,
                       bool caseless, bool full, size_t *erroffset, char *msg, size_t msgsize)
{
    *out = NULL;
    if (erroffset)
        *erroffset = 0;
    if (msg && msgsize)
        msg[0] = '\0';
    tsr_regex *r = tsr__calloc(&pool->alloc, 1, sizeof *r);
    if (!r)
        return TSR_ENOMEM;
    r->pattern = tsr__strndup(&pool->alloc, pattern, len);
    if (!r->pattern) {
        tsr__free(&pool->alloc, r, sizeof *r);
        return TSR_ENOMEM;
    }
    r->len = len;
    r->pool = pool;
    r->caseless = caseless;
    r->full = full;

    uint32_t opts = PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C;
    if (caseless)
        opts |= PCRE2_CASELESS;
    if (full)
        opts |= PCRE2_ANCHORED | PCRE2_ENDANCHORED;
    int ec;
    PCRE2_SIZE eo;
    r->code = pcre2_compile((PCRE2_SPTR)pattern, len, opts, &ec, &eo, pool->cctx);
    if (!r->code) {
        tsr__free(&pool->alloc, r->pattern, len + 1);
        tsr__free(&pool->alloc, r, sizeof *r);
        if (ec == PCRE2_ERROR_HEAP_FAILED)
            return TSR_ENOMEM;
        if (erroffset)
            *erroffset = eo;
        if (msg && msgsize) {
            PCRE2_UCHAR buf[256];
            if (pcre2_get_error_message(ec, buf, sizeof buf) < 0)
                snprintf((char *)buf, sizeof buf, "error %d", ec);
            snprintf(msg, msgsize, "%s", (const char *)buf);
        }
        return TSR_EPARSE;
    }
    r->next = pool->head;
    pool->head = r;
    *out = r;
    return TSR_OK;
}

const char *tsr__regex_source(const tsr_regex *re, size_t *len)
{
    if (len)
        *len = re->len;
    return re->pattern;
}

static tsr_regex_scratch *scratch_get(tsr_regex_scratch **sp, const tsr_alloc *alloc)
{
    tsr_regex_scratch *s = *sp;

    if (s)
        return s;
    s = tsr__calloc(alloc, 1, sizeof *s);
    if (!s)
        return NULL;
    s->alloc = *alloc;
    *sp = s;
    return s;
}

void tsr__regex_scratch_free(tsr_regex_scratch *s, const tsr_alloc *alloc)
{
    (void)alloc;   /* the scratch remembers the allocator it was made with */
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    pcre2_general_context_free(s->gctx);
    tsr_alloc a = s->alloc;
    if (s->buf)
        tsr__free(&a, s->buf, s->bufcap);
    tsr__free(&a, s, sizeof *s);
}

char *tsr__regex_scratch_buf(tsr_regex_scratch **sp, const tsr_alloc *alloc, size_t n)
{
    tsr_regex_scratch *s = scratch_get(sp, alloc);
    if (!s)
        return NULL;
    if (s->bufcap < n) {
        size_t cap = n < 64 ? 64 : n;
        char *b = tsr__realloc(&s->alloc, s->buf, s->bufcap, cap);
        if (!b)
            return NULL;
        s->buf = b;
        s->bufcap = cap;
    }
    return s->buf;
}

int tsr__regex_match(const tsr_regex *re, const char *subject, size_t len,
                     tsr_regex_scratch **scratch, const tsr_alloc *alloc)
{
    tsr_regex_scratch *s = scratch_get(scratch, alloc);
    if (!s)
        return TSR_ENOMEM;
    if (!s->md) {
        if (!s->gctx && !(s->gctx = pcre2_general_context_create(re_malloc, re_free, &s->alloc)))
            return TSR_ENOMEM;
        /* One pair is enough: only "did it match" is asked.  A return of 0
         * (ovector too small) still means a match. */
        if (!(s->md = pcre2_match_data_create(1, s->gctx)))
            return TSR_ENOMEM;
    }
    int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, s->md, re->pool->mctx);
    s->last_rc = rc;
    if (rc >= 0)
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc == PCRE2_ERROR_NOMEMORY)
        return TSR_ENOMEM;
    if (rc != PCRE2_ERROR_MATCHLIMIT && rc != PCRE2_ERROR_DEPTHLIMIT &&
        rc != PCRE2_ERROR_HEAPLIMIT &&
        pcre2_get_error_message(rc, (PCRE2_UCHAR *)s->msg, sizeof s->msg) < 0)
        snprintf(s->msg, sizeof s->msg, "matching error %d", rc);
    return TSR_EEVAL;
}

bool tsr__regex_hit_limit(const tsr_regex_scratch *s)
{
    return s && (s->last_rc == PCRE2_ERROR_MATCHLIMIT || s->last_rc == PCRE2_ERROR_DEPTHLIMIT ||
                 s->last_rc == PCRE2_ERROR_HEAPLIMIT);
}

const char *tsr__regex_last_error(const tsr_regex_scratch *s)
{
    if (!s)
        return "no error";
    switch (s->last_rc) {
    case PCRE2_ERROR_MATCHLIMIT: return "match limit";
    case PCRE2_ERROR_DEPTHLIMIT: return "depth limit";
    case PCRE2_ERROR_HEAPLIMIT: return "heap limit";
    default: break;
    }
    if (s->last_rc >= 0 || s->last_rc == PCRE2_ERROR_NOMATCH)
        return "no error";
    /* Other failures (invalid UTF-8 in the subject, ...): PCRE2's words,
     * kept in the scratch so the pointer stays valid until the next match. */
    return s->msg;
}

/* ---------------------------------------------------------------------
 * Literal prefixes: the text every match of a full, case-insensitive
 * pattern must start with, so that a caller holding many patterns (promo
 * codes) tries only those whose prefix fits the subject.  Read from the
 * pattern's text, conservatively (anything the scan is unsure of gives no
 * prefix), then checked against what PCRE2 itself derived.
 */

static bool is_ascii_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Whether the scan can follow p[0..n) and finds no `|` outside every group
 * (a top-level alternative need not start with the first one's text).
 * Constructs that could hide a `|` or a parenthesis from a simple scan are
 * refused: \Q...\E, \cX, (?#...), (*VERB:NAME), (?C"..."), POSIX classes
 * and extended mode, whose # comments run to the end of the line. */
static bool single_top_level_branch(const char *p, size_t n)
{
    size_t i = 0, j;
    long depth = 0;

    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            if (i + 1 >= n || p[i + 1] == 'Q' || p[i + 1] == 'c')
                return false;
            i += 2;
        } else if (c == '[') {
            i++;
            if (i < n && p[i] == '^')
                i++;
            if (i < n && p[i] == ']')   /* first: a literal `]` */
                i++;
            for (;;) {
                if (i >= n)
                    return false;
                if (p[i] == '\\') {
                    if (i + 1 >= n || p[i + 1] == 'Q' || p[i + 1] == 'c')
                        return false;
                    i += 2;
                } else if (p[i] == '[' && i + 1 < n &&
                           (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
                    return false;
                } else if (p[i++] == ']') {
                    break;
                }
            }
        } else if (c == '(') {
            if (i + 1 < n && p[i + 1] == '*')
                return false;
            if (i + 1 < n && p[i + 1] == '?') {
                if (i + 2 < n && (p[i + 2] == '#' || p[i + 2] == 'C'))
                    return false;
                for (j = i + 2; j < n && (is_ascii_alnum((unsigned char)p[j]) || p[j] == '^' ||
                                          p[j] == '-');
                     j++)
                    if (p[j] == 'x')
                        return false;
            }
            depth++;
            i++;
        } else if (c == ')') {
            if (--depth < 0)
                return false;
            i++;
        } else if (c == '|' && depth == 0) {
            return false;
        } else {
            i++;
        }
    }
    return depth == 0;
}

size_t tsr__regex_text_prefix(const char *p, size_t n, char *out, size_t cap)
{
    static const char plain[] = "-_/:@#%&=,;~!'\"<>";
    size_t i = 0, k = 0;

    if (!single_top_level_branch(p, n))
        return 0;
    if (n > 0 && p[0] == '^')
        i = 1;
    while (i < n && k < cap) {
        unsigned char c = (unsigned char)p[i], lit;
        size_t w = 1;
        if (c == '\\') {
            /* A backslash before any other ASCII punctuation is that
             * character. */
            unsigned char d = i + 1 < n ? (unsigned char)p[i + 1] : 0;
            if (d <= ' ' || d >= 0x7F || is_ascii_alnum(d))
                break;
            lit = d;
            w = 2;
        } else if (is_ascii_alnum(c) || (c != '\0' && strchr(plain, c))) {
            lit = c;
        } else {
            break;
        }
        /* A quantified character may be absent or repeated: it ends the
         * prefix ({ even where PCRE2 would read it as a literal). */
        if (i + w < n && strchr("?*+{", p[i + w]))
            break;
        out[k++] = (char)(lit >= 'a' && lit <= 'z' ? lit - ('a' - 'A') : lit);
        i += w;
    }
    return k;
}

/* Whether byte b can start a match of literal letter-or-symbol c
 * case-insensitively in UTF mode: c's two ASCII cases, and the first byte
 * of the two non-ASCII characters that fold to an ASCII letter, U+212A
 * KELVIN SIGN (k) and U+017F LATIN SMALL LETTER LONG S (s). */
static bool may_start(unsigned char b, char c)
{
    unsigned char u = (unsigned char)c, l = u >= 'A' && u <= 'Z' ? (unsigned char)(u + 32) : u;
    return b == u || b == l || (u == 'K' && b == 0xE2) || (u == 'S' && b == 0xC5);
}

size_t tsr__regex_prefix(const tsr_regex *re, char *out, size_t cap)
{
    const tsr_regex_pool *pool = re->pool;
    uint32_t type = 0, unit = 0, minlen = 0;
    const uint8_t *bitmap = NULL;
    size_t k, frame = 0;
    unsigned b;

    if (!re->caseless || !re->full || cap == 0)
        return 0;
    /* A subject that leaves the prefix is refused by PCRE2 within its
     * first two frames, two matching calls deep (measured on PCRE2 10.42
     * and checked by test_regex.c): only then does skipping the pattern
     * give the same answer as matching it.  Under smaller limits matching
     * fails on the limit instead, so nothing is skipped. */
    if (pcre2_pattern_info(re->code, PCRE2_INFO_FRAMESIZE, &frame) != 0 ||
        (pool->match_limit && pool->match_limit < 2) ||
        (pool->depth_limit && pool->depth_limit < 2) ||
        (pool->heap_limit_kib && frame > (size_t)pool->heap_limit_kib * 1024 / 2))
        return 0;
    if (!(k = tsr__regex_text_prefix(re->pattern, re->len, out, cap)))
        return 0;
    /* PCRE2's own reading must agree: the first character, the least
     * length.  Disagreement means the scan misread the pattern. */
    if (pcre2_pattern_info(re->code, PCRE2_INFO_FIRSTCODETYPE, &type) != 0 ||
        pcre2_pattern_info(re->code, PCRE2_INFO_FIRSTCODEUNIT, &unit) != 0 ||
        pcre2_pattern_info(re->code, PCRE2_INFO_FIRSTBITMAP, &bitmap) != 0 ||
        pcre2_pattern_info(re->code, PCRE2_INFO_MINLENGTH, &minlen) != 0 || minlen < k)
        return 0;
    if (type == 1)
        return unit < 0x80 && may_start((unsigned char)unit, out[0]) ? k : 0;
    if (type != 0 || !bitmap)
        return 0;
    for (b = 0; b < 256; b++)
        if ((bitmap[b / 8] & (1u << (b % 8))) && !may_start((unsigned char)b, out[0]))
            return 0;
    return k;
}
