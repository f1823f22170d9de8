/*
 * yaml_tree.c — one YAML document read with libyaml's event API into the
 * tsr_ynode tree of yaml_tree.h, every load limit enforced while streaming,
 * and the mapping of a scalar's content bytes back to the exact place in the
 * source where they were written.
 *
 * Why events and not yaml_parser_load: the document loader builds the whole
 * document before anyone can look at it, so a hostile file costs its full
 * size (and libyaml's quadratic time on deep flow nesting) before a limit
 * could apply.  With events we stop at the first node past a limit, having
 * scanned little more than that node.
 *
 * Positions: libyaml marks count characters, and count NEL, LS and PS as
 * line breaks.  We only take its character index, convert it to a byte
 * offset, and compute lines (broken by \n, \r\n and \r) and byte columns
 * ourselves, so every position agrees with tsr__yaml_scalar_pos and with
 * what an editor shows for UTF-8 text.
 *
 * Aliases are expanded by copying the anchored subtree (when allowed at all),
 * each copy counted against max_nodes and max_depth before it is made: the
 * "billion laughs" document is refused after a handful of copies.
 */
#include "yaml_tree.h"

#include <limits.h>
#include <yaml.h>

static const tsr_ylimits default_limits = { 4u << 20, 64, 64u << 10, 200000, 0 };

/* Below this many keys a mapping is checked for duplicates by a linear scan;
 * above it a hash table keeps large mappings (orders) linear. */
#define SMALL_MAP 8

static const char core_prefix[] = "tag:yaml.org,2002:";

/* ---------------------------------------------------------------------
 * Parse state.
 */
typedef struct cursor {
    size_t ci;          /* libyaml character index */
    size_t bi;          /* byte offset of that character in the text */
    size_t line;        /* 0-based line of bi */
    size_t ls;          /* byte offset where that line starts */
} cursor;

typedef struct frame {
    tsr_ynode *node;    /* the open sequence or mapping */
    size_t base;        /* index in kids of its first child */
    size_t count;       /* nodes in its subtree so far, itself included */
    unsigned height;    /* levels of collections in the subtree, itself included */
    size_t anchor;      /* index + 1 into anchors, 0 when not anchored */
    size_t *keys;       /* large mappings: open-addressing table of key index + 1 */
    size_t keys_cap;
} frame;

typedef struct anchor {
    const char *name;
    size_t name_len;
    const tsr_ynode *node;
    size_t count;       /* nodes a copy costs */
    unsigned height;    /* nesting a copy adds */
    bool done;          /* false while the anchored collection is still open */
} anchor;

typedef struct parse_state {
    const unsigned char *text;
    size_t len;
    size_t base;        /* bytes of a UTF-8 BOM, which libyaml does not count */
    const char *file;
    tsr_ylimits lim;
    tsr_arena *arena;
    const tsr_alloc *alloc;
    tsr_arena scratch;  /* anchor names: gone when parsing ends */
    tsr_error *err;
    tsr_hash_key key;   /* of the key and anchor tables, drawn per document */

    yaml_parser_t parser;
    cursor cur;

    frame *frames;
    size_t nframes, frames_cap;
    tsr_ynode **kids;   /* children of all open collections, innermost last */
    size_t nkids, kids_cap;
    anchor *anchors;
    size_t nanchors, anchors_cap;
    size_t *anchor_tab; /* open-addressing table of anchor index + 1 */
    size_t anchor_tab_cap;

    size_t nodes;
    unsigned aliases;
    unsigned docs;
    tsr_ynode *root;
} parse_state;

/* ---------------------------------------------------------------------
 * Small helpers.
 */
static size_t u8len(unsigned char c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/* Does the byte at i end a line for our line numbers?  \r\n counts once. */
static bool ends_line(const unsigned char *t, size_t len, size_t i)
{
    return t[i] == '\n' || (t[i] == '\r' && (i + 1 >= len || t[i + 1] != '\n'));
}

static int clamp_int(size_t v)
{
    return v > INT_MAX ? INT_MAX : (int)v;
}

/* Keys and anchor names come from the document (an order, in YAML): a
 * keyed hash, so that crafted names cannot pile into one bucket. */
static uint64_t hash_bytes(const parse_state *st, const char *s, size_t n)
{
    return tsr__hash(&st->key, s, n);
}

/* A tag as the author wrote it (the core prefix shown as `!!`). */
static const char *tag_shown(const char *tag, int *prefix_len)
{
    if (strncmp(tag, core_prefix, sizeof core_prefix - 1) == 0) {
        *prefix_len = (int)(sizeof core_prefix - 1);
        return "!!";
    }
    *prefix_len = 0;
    return "";
}

/* How much of a key to quote in a message: at most 60 bytes, cut at a
 * character boundary and before any control character. */
static int shown_len(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && i < 60 && (unsigned char)s[i] >= 0x20) {
        size_t k = u8len((unsigned char)s[i]);
        if (i + k > n || i + k > 60)
            break;
        i += k;
    }
    return (int)i;
}

/* ---------------------------------------------------------------------
 * Positions: a cursor that walks the text one character at a time, so that
 * libyaml's (nearly monotone) character indexes convert in linear total time.
 */
static void cur_forward(parse_state *st)
{
    cursor *c = &st->cur;
    size_t k = u8len(st->text[c->bi]);

    if (ends_line(st->text, st->len, c->bi)) {
        c->line++;
        c->ls = c->bi + 1;
    }
    c->bi = k > st->len - c->bi ? st->len : c->bi + k;
    c->ci++;
}

static void cur_back(parse_state *st)
{
    cursor *c = &st->cur;
    size_t b = c->bi;

    do
        b--;
    while (b > st->base && (st->text[b] & 0xC0) == 0x80);
    if (ends_line(st->text, st->len, b)) {
        size_t p = b;
        while (p > st->base && !ends_line(st->text, st->len, p - 1))
            p--;
        c->line--;
        c->ls = p;
    }
    c->bi = b;
    c->ci--;
}

static void cur_to_char(parse_state *st, size_t ci)
{
    while (st->cur.ci < ci && st->cur.bi < st->len)
        cur_forward(st);
    while (st->cur.ci > ci && st->cur.bi > st->base)
        cur_back(st);
}

static void cur_to_byte(parse_state *st, size_t bi)
{
    while (st->cur.bi < bi && st->cur.bi < st->len)
        cur_forward(st);
    while (st->cur.bi > bi && st->cur.bi > st->base)
        cur_back(st);
}

static void cur_pos(const parse_state *st, int *line, int *col)
{
    *line = clamp_int(st->cur.line + 1);
    *col = clamp_int(st->cur.bi - st->cur.ls + 1);
}

/* Error at the cursor. */
static int err_here(parse_state *st, int code, const char *fmt, ...) TSR_PRINTF(3, 4);

static int err_here(parse_state *st, int code, const char *fmt, ...)
{
    char msg[TSR_ERROR_TEXT_MAX];
    va_list ap;
    int line, col;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cur_pos(st, &line, &col);
    return tsr__err_at(st->err, code, st->file, line, col, "%s", msg);
}

/* ---------------------------------------------------------------------
 * Encoding: the whole input must be UTF-8 without NUL bytes.  Checked before
 * libyaml sees it so that the error names the exact byte (libyaml's reader
 * reports a bare offset, and accepts UTF-16).
 */

/* Length of the valid UTF-8 sequence at s (avail bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t k, i;
    unsigned lo = 0x80, hi = 0xBF;

    if (c >= 0xC2 && c <= 0xDF)
        k = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        k = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        k = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;          /* overlong */
    else if (c == 0xED)
        hi = 0x9F;          /* surrogates */
    else if (c == 0xF0)
        lo = 0x90;          /* overlong */
    else if (c == 0xF4)
        hi = 0x8F;          /* above U+10FFFF */
    if (avail < k || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return k;
}

static int check_encoding(parse_state *st)
{
    const unsigned char *s = st->text;
    size_t n = st->len, i = 0;

    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return tsr__err_at(st->err, TSR_EPARSE, st->file, 1, 1,
                           "UTF-16 input is not supported; save the file as UTF-8");
    while (i < n) {
        size_t k;
        if (n - i >= 8) {
            /* Eight ASCII bytes, none of them NUL, at a time. */
            uint64_t w;
            memcpy(&w, s + i, 8);
            if (!(w & 0x8080808080808080ULL) &&
                !((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL)) {
                i += 8;
                continue;
            }
        }
        if (s[i] == 0) {
            cur_to_byte(st, i);
            return err_here(st, TSR_EPARSE, "NUL byte in the input");
        }
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        k = utf8_seq(s + i, n - i);
        if (!k) {
            cur_to_byte(st, i);
            return err_here(st, TSR_EPARSE, "invalid UTF-8 (byte 0x%02X)", s[i]);
        }
        i += k;
    }
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Core schema recognition.
 */
static bool word_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static bool is_null_word(const char *s, size_t n)
{
    return n == 0 || word_is(s, n, "~") || word_is(s, n, "null") || word_is(s, n, "Null") ||
           word_is(s, n, "NULL");
}

static bool is_bool_word(const char *s, size_t n)
{
    return word_is(s, n, "true") || word_is(s, n, "True") || word_is(s, n, "TRUE") ||
           word_is(s, n, "false") || word_is(s, n, "False") || word_is(s, n, "FALSE");
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Digits in s[*i..n) of the given kind; advances *i and counts them. */
static size_t digits(const char *s, size_t n, size_t *i, int kind)
{
    size_t start = *i;
    while (*i < n && (kind == 16 ? is_hex(s[*i]) : kind == 8 ? (s[*i] >= '0' && s[*i] <= '7')
                                                             : is_digit(s[*i])))
        (*i)++;
    return *i - start;
}

static bool is_int_word(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        i = 2;
        return digits(s, n, &i, s[1] == 'o' ? 8 : 16) > 0 && i == n;
    }
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    return digits(s, n, &i, 10) > 0 && i == n;
}

static bool is_float_word(const char *s, size_t n)
{
    size_t i = 0, ip, fp = 0;
    if (word_is(s, n, ".nan") || word_is(s, n, ".NaN") || word_is(s, n, ".NAN"))
        return true;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (word_is(s + i, n - i, ".inf") || word_is(s + i, n - i, ".Inf") ||
        word_is(s + i, n - i, ".INF"))
        return true;
    ip = digits(s, n, &i, 10);
    if (i < n && s[i] == '.') {
        i++;
        fp = digits(s, n, &i, 10);
    }
    if (ip == 0 && fp == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        if (digits(s, n, &i, 10) == 0)
            return false;
    }
    return i == n;
}

bool tsr__yaml_is_plain(const tsr_ynode *n)
{
    if (!n || n->kind != TSR_Y_SCALAR)
        return false;
    switch (n->u.scalar.tag) {
    case TSR_YT_NONE:
        return n->u.scalar.style == TSR_YS_PLAIN;
    case TSR_YT_STR:
        return false;
    default:
        return true;
    }
}

bool tsr__yaml_is_null(const tsr_ynode *n)
{
    if (!n)
        return true;
    if (n->kind != TSR_Y_SCALAR)
        return false;
    if (n->u.scalar.tag == TSR_YT_NULL)
        return true;
    return n->u.scalar.tag == TSR_YT_NONE && n->u.scalar.style == TSR_YS_PLAIN &&
           is_null_word(n->u.scalar.text, n->u.scalar.len);
}

tsr_ynode *tsr__ymap_get(const tsr_ynode *map, const char *key)
{
    size_t klen, i;

    if (!map || map->kind != TSR_Y_MAP || !key)
        return NULL;
    klen = strlen(key);
    for (i = 0; i < map->u.map.len; i++) {
        const tsr_ynode *k = map->u.map.pairs[i].key;
        if (k->u.scalar.len == klen && memcmp(k->u.scalar.text, key, klen) == 0)
            return map->u.map.pairs[i].value;
    }
    return NULL;
}

/* ---------------------------------------------------------------------
 * Re-scanning a scalar as written.  Each style is decoded from `raw` the way
 * libyaml's scanner decodes it, and every content byte produced is compared
 * with the real content: the decoder then knows, for any content offset, the
 * raw byte it came from, and a disagreement is detected instead of giving a
 * wrong position.
 */
typedef struct rescan {
    const char *content;
    size_t len;
    size_t c;           /* content bytes reproduced so far */
    size_t target;      /* content offset whose source is wanted */
    size_t hit;         /* raw offset of that source, SIZE_MAX until reached */
    size_t end;         /* raw offset just past the last source consumed */
    bool stop_at_hit;
    bool bad;           /* the re-scan disagreed with the content */
} rescan;

static bool rs_done(const rescan *r)
{
    return r->bad || (r->stop_at_hit && r->hit != SIZE_MAX);
}

/* Content bytes[0..n) came from raw[from..to). */
static void rs_emit(rescan *r, size_t from, size_t to, const char *bytes, size_t n)
{
    if (r->bad)
        return;
    if (n > r->len - r->c || memcmp(r->content + r->c, bytes, n) != 0) {
        r->bad = true;
        return;
    }
    if (r->hit == SIZE_MAX && r->target < r->c + n)
        r->hit = from;
    r->c += n;
    r->end = to;
}

/* Length of the line break at R[i] as libyaml sees one (\r\n, \r, \n, NEL,
 * LS, PS), 0 if none. */
static size_t brk(const char *raw, size_t i, size_t n)
{
    const unsigned char *R = (const unsigned char *)raw;
    if (R[i] == '\r')
        return i + 1 < n && R[i + 1] == '\n' ? 2 : 1;
    if (R[i] == '\n')
        return 1;
    if (R[i] == 0xC2 && i + 1 < n && R[i + 1] == 0x85)
        return 2;
    if (R[i] == 0xE2 && i + 2 < n && R[i + 1] == 0x80 && (R[i + 2] == 0xA8 || R[i + 2] == 0xA9))
        return 3;
    return 0;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* A line break read into content: libyaml turns \r\n, \r, \n and NEL into
 * "\n" and keeps LS and PS as they are. */
static void rs_emit_break(rescan *r, const char *R, size_t i, size_t k)
{
    if (k == 3)
        rs_emit(r, i, i + 3, R + i, 3);
    else
        rs_emit(r, i, i + k, "\n", 1);
}

static void rs_emit_breaks(rescan *r, const char *R, size_t from, size_t to)
{
    size_t i = from, k;
    while (i < to && !r->bad) {
        k = brk(R, i, to);
        if (k) {
            rs_emit_break(r, R, i, k);
            i += k;
        } else {
            i++;
        }
    }
}

static void rs_verbatim(rescan *r, const char *R, size_t n, size_t *i)
{
    size_t k = u8len((unsigned char)R[*i]);
    if (k > n - *i)
        k = n - *i;
    rs_emit(r, *i, *i + k, R + *i, k);
    *i += k;
}

/* A run of blanks and line breaks inside a plain or quoted scalar, folded as
 * libyaml folds it: blanks alone are kept; with a line break the blanks
 * around it go, and the first break becomes a space unless empty lines follow
 * (each of which stays a "\n").  `escaped`: the run follows a "\"-escaped
 * line break, which produced nothing itself.  Returns the end of the run. */
static size_t rs_fold(rescan *r, const char *R, size_t n, size_t i, bool escaped)
{
    size_t lb = SIZE_MAX, lb_len = 0, trail = i, ntrail = 0, j = i, k;
    bool leading = escaped;

    while (j < n) {
        if (is_blank(R[j])) {
            j++;
        } else if ((k = brk(R, j, n)) != 0) {
            if (!leading) {
                lb = j;
                lb_len = k;
                leading = true;
                trail = j + k;
            } else {
                ntrail++;
            }
            j += k;
        } else {
            break;
        }
    }
    if (!leading) {
        for (k = i; k < j; k++)
            rs_emit(r, k, k + 1, R + k, 1);
    } else if (lb != SIZE_MAX && lb_len != 3) {
        if (ntrail == 0)
            rs_emit(r, lb, lb + lb_len, " ", 1);
        else
            rs_emit_breaks(r, R, trail, j);
    } else {
        if (lb != SIZE_MAX)
            rs_emit(r, lb, lb + 3, R + lb, 3);
        rs_emit_breaks(r, R, trail, j);
    }
    return j;
}

static void rs_plain(rescan *r, const char *R, size_t n)
{
    size_t i = 0;
    while (i < n && !rs_done(r)) {
        if (is_blank(R[i]) || brk(R, i, n))
            i = rs_fold(r, R, n, i, false);
        else
            rs_verbatim(r, R, n, &i);
    }
}

static int hex_val(char c)
{
    return is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : c - 'A' + 10;
}

/* A double-quoted escape at R[i] (the backslash); returns the raw offset
 * after it.  The bytes it produces all map to the backslash. */
static size_t rs_escape(rescan *r, const char *R, size_t n, size_t i)
{
    char buf[4];
    size_t blen = 1, code = 0, k, d;
    unsigned long v = 0;

    if (i + 1 >= n) {
        r->bad = true;
        return n;
    }
    switch (R[i + 1]) {
    case '0': buf[0] = '\0'; break;
    case 'a': buf[0] = '\a'; break;
    case 'b': buf[0] = '\b'; break;
    case 't': case '\t': buf[0] = '\t'; break;
    case 'n': buf[0] = '\n'; break;
    case 'v': buf[0] = '\v'; break;
    case 'f': buf[0] = '\f'; break;
    case 'r': buf[0] = '\r'; break;
    case 'e': buf[0] = '\x1B'; break;
    case ' ': case '"': case '/': case '\'': case '\\': buf[0] = R[i + 1]; break;
    case 'N': memcpy(buf, "\xC2\x85", 2); blen = 2; break;
    case '_': memcpy(buf, "\xC2\xA0", 2); blen = 2; break;
    case 'L': memcpy(buf, "\xE2\x80\xA8", 3); blen = 3; break;
    case 'P': memcpy(buf, "\xE2\x80\xA9", 3); blen = 3; break;
    case 'x': code = 2; break;
    case 'u': code = 4; break;
    case 'U': code = 8; break;
    default:
        r->bad = true;
        return n;
    }
    k = i + 2;
    if (code) {
        if (code > n - k) {
            r->bad = true;
            return n;
        }
        for (d = 0; d < code; d++) {
            if (!is_hex(R[k + d])) {
                r->bad = true;
                return n;
            }
            v = (v << 4) | (unsigned long)hex_val(R[k + d]);
        }
        k += code;
        blen = tsr__utf8_encode(v, buf);
    }
    rs_emit(r, i, k, buf, blen);
    return k;
}

static void rs_quoted(rescan *r, const char *R, size_t n, bool single)
{
    char q = single ? '\'' : '"';
    size_t i = 1, k;

    r->end = n > 0 ? 1 : 0;
    while (i < n && !rs_done(r)) {
        bool escaped = false;
        while (i < n && !rs_done(r) && !is_blank(R[i]) && !brk(R, i, n)) {
            if (single && R[i] == '\'' && i + 1 < n && R[i + 1] == '\'') {
                rs_emit(r, i, i + 2, "'", 1);
                i += 2;
            } else if (R[i] == q) {
                return;
            } else if (!single && R[i] == '\\' && i + 1 < n && (k = brk(R, i + 1, n)) != 0) {
                i += 1 + k;
                escaped = true;
                break;
            } else if (!single && R[i] == '\\') {
                i = rs_escape(r, R, n, i);
            } else {
                rs_verbatim(r, R, n, &i);
            }
        }
        if (i >= n || R[i] == q || rs_done(r))
            return;
        i = rs_fold(r, R, n, i, escaped);
    }
}

/* Block scalar header: indicator, chomping and indentation indicators in
 * either order, blanks, a comment, the line break.  Returns its end. */
static size_t block_header(const char *R, size_t n, int *chomp, unsigned *incr)
{
    size_t i = 1;
    int k;

    *chomp = 0;
    *incr = 0;
    for (k = 0; k < 2 && i < n; k++) {
        if ((R[i] == '+' || R[i] == '-') && !*chomp)
            *chomp = R[i++] == '+' ? 1 : -1;
        else if (R[i] >= '1' && R[i] <= '9' && !*incr)
            *incr = (unsigned)(R[i++] - '0');
        else
            break;
    }
    while (i < n && is_blank(R[i]))
        i++;
    if (i < n && R[i] == '#')
        while (i < n && !brk(R, i, n))
            i++;
    if (i < n)
        i += brk(R, i, n);
    return i;
}

/* libyaml's scan_block_scalar_breaks: eat indentation (all of it while the
 * indentation is unknown) and empty lines.  *col is the column reached on the
 * first non-empty line, *nbreaks the empty lines' breaks.  When the
 * indentation was unknown it becomes the deepest seen (libyaml also takes the
 * parent's indentation + 1 as a floor, but a line below that floor is not
 * part of raw, so the floor never decides here). */
static size_t block_breaks(const char *R, size_t n, size_t i, size_t *indent, size_t *col,
                           size_t *nbreaks)
{
    size_t max = 0, ls = i, k;

    *nbreaks = 0;
    for (;;) {
        while ((*indent == 0 || i - ls < *indent) && i < n && R[i] == ' ')
            i++;
        if (i - ls > max)
            max = i - ls;
        if (i < n && (k = brk(R, i, n)) != 0) {
            i += k;
            ls = i;
            (*nbreaks)++;
            continue;
        }
        break;
    }
    if (*indent == 0)
        *indent = max > 0 ? max : 1;
    *col = i - ls;
    return i;
}

static void rs_block(rescan *r, const char *R, size_t n, bool literal, size_t indent)
{
    int chomp;
    unsigned incr;
    size_t i, col, nb, trail, lb = SIZE_MAX, lb_len = 0;
    bool leading_blank = false;

    i = block_header(R, n, &chomp, &incr);
    r->end = i;
    trail = i;
    i = block_breaks(R, n, i, &indent, &col, &nb);
    while (col == indent && i < n && !rs_done(r)) {
        bool trailing_blank = is_blank(R[i]);
        if (!literal && lb != SIZE_MAX && lb_len != 3 && !leading_blank && !trailing_blank) {
            if (nb == 0)
                rs_emit(r, lb, lb + lb_len, " ", 1);
        } else if (lb != SIZE_MAX) {
            rs_emit_break(r, R, lb, lb_len);
        }
        lb = SIZE_MAX;
        rs_emit_breaks(r, R, trail, i);
        leading_blank = trailing_blank;
        while (i < n && !brk(R, i, n) && !rs_done(r))
            rs_verbatim(r, R, n, &i);
        if (rs_done(r))
            return;
        if (i < n) {
            lb = i;
            lb_len = brk(R, i, n);
            i += lb_len;
        }
        trail = i;
        i = block_breaks(R, n, i, &indent, &col, &nb);
    }
    if (rs_done(r))
        return;
    if (chomp != -1 && lb != SIZE_MAX)
        rs_emit_break(r, R, lb, lb_len);
    if (chomp == 1)
        rs_emit_breaks(r, R, trail, i);
}

/* With an indentation indicator the indentation is the parent's plus the
 * indicator, and the parent's is not in raw: try each possible value (a wrong
 * one disagrees with the content at its first line). */
static rescan rs_block_any(const rescan *init, const char *R, size_t n, bool literal)
{
    int chomp;
    unsigned incr;
    size_t i, k, spaces = 0, run = 0;
    bool at_start = true;
    rescan r = *init;

    i = block_header(R, n, &chomp, &incr);
    if (!incr) {
        rs_block(&r, R, n, literal, 0);
        return r;
    }
    /* The deepest indentation in the body bounds the candidates. */
    while (i < n) {
        if ((k = brk(R, i, n)) != 0) {
            i += k;
            run = 0;
            at_start = true;
            continue;
        }
        if (at_start && R[i] == ' ') {
            if (++run > spaces)
                spaces = run;
        } else {
            at_start = false;
        }
        i++;
    }
    for (k = incr; k <= (spaces > incr ? spaces : incr); k++) {
        r = *init;
        r.stop_at_hit = false;
        rs_block(&r, R, n, literal, k);
        if (!r.bad && r.c == r.len)
            return r;
    }
    r.bad = true;
    return r;
}

static rescan rs_run(const tsr_ynode *s, size_t target, bool stop)
{
    rescan r;
    const char *R = s->u.scalar.raw;
    size_t n = s->u.scalar.raw_len;

    r.content = s->u.scalar.text;
    r.len = s->u.scalar.len;
    r.c = 0;
    r.target = target;
    r.hit = SIZE_MAX;
    r.end = 0;
    r.stop_at_hit = stop;
    r.bad = false;
    switch (s->u.scalar.style) {
    case TSR_YS_PLAIN:
        rs_plain(&r, R, n);
        break;
    case TSR_YS_SINGLE:
    case TSR_YS_DOUBLE:
        rs_quoted(&r, R, n, s->u.scalar.style == TSR_YS_SINGLE);
        break;
    case TSR_YS_LITERAL:
    case TSR_YS_FOLDED:
        r = rs_block_any(&r, R, n, s->u.scalar.style == TSR_YS_LITERAL);
        break;
    }
    if (!r.bad && !(stop && r.hit != SIZE_MAX) && r.c != r.len)
        r.bad = true;
    return r;
}

void tsr__yaml_scalar_pos(const tsr_ynode *n, size_t offset, int *line, int *col)
{
    int l = n ? n->line : 0, c = n ? n->col : 0;

    if (n && n->kind == TSR_Y_SCALAR && n->u.scalar.raw) {
        const char *R = n->u.scalar.raw;
        size_t rl = n->u.scalar.raw_len, at, k;
        rescan r = rs_run(n, offset > n->u.scalar.len ? n->u.scalar.len : offset, true);

        /* On a disagreement (never seen with libyaml 0.2.x) the scalar's
         * start is still a useful place to point at. */
        if (!r.bad) {
            at = r.hit != SIZE_MAX ? r.hit : r.end;
            for (k = 0; k < at && k < rl; k++) {
                if (ends_line((const unsigned char *)R, rl, k)) {
                    l = l < INT_MAX ? l + 1 : l;
                    c = 1;
                } else if (c < INT_MAX) {
                    c++;
                }
            }
        }
    }
    if (line)
        *line = l;
    if (col)
        *col = c;
}

bool tsr__yaml_scalar_rescan_ok(const tsr_ynode *n)
{
    if (!n || n->kind != TSR_Y_SCALAR || !n->u.scalar.raw)
        return false;
    return !rs_run(n, SIZE_MAX, false).bad;
}

/* ---------------------------------------------------------------------
 * Anchors (only recorded when aliases are allowed at all).
 */
static size_t anchor_find(const parse_state *st, const char *name, size_t len)
{
    size_t h, mask = st->anchor_tab_cap - 1;

    if (!st->anchor_tab)
        return SIZE_MAX;
    for (h = hash_bytes(st, name, len) & mask; st->anchor_tab[h]; h = (h + 1) & mask) {
        const anchor *a = &st->anchors[st->anchor_tab[h] - 1];
        if (a->name_len == len && memcmp(a->name, name, len) == 0)
            return st->anchor_tab[h] - 1;
    }
    return SIZE_MAX;
}

static void anchor_place(size_t *tab, size_t cap, uint64_t hash, size_t idx1)
{
    size_t h, mask = cap - 1;
    for (h = hash & mask; tab[h]; h = (h + 1) & mask)
        ;
    tab[h] = idx1;
}

/* Record (or redefine: the latest definition wins) an anchor; *idx gets its
 * index. */
static int anchor_set(parse_state *st, const char *name, const tsr_ynode *node, bool done,
                      size_t *idx)
{
    size_t len = strlen(name), i = anchor_find(st, name, len);
    anchor *a;

    if (i == SIZE_MAX) {
        if ((st->nanchors + 1) * 2 > st->anchor_tab_cap) {
            size_t cap = st->anchor_tab_cap ? st->anchor_tab_cap * 2 : 16, j;
            size_t *tab = tsr__calloc(st->alloc, cap, sizeof *tab);
            if (!tab)
                return err_here(st, TSR_ENOMEM, "out of memory");
            for (j = 0; j < st->nanchors; j++)
                anchor_place(tab, cap,
                             hash_bytes(st, st->anchors[j].name, st->anchors[j].name_len),
                             j + 1);
            tsr__free(st->alloc, st->anchor_tab, st->anchor_tab_cap * sizeof *tab);
            st->anchor_tab = tab;
            st->anchor_tab_cap = cap;
        }
        if (tsr__grow(st->alloc, (void **)&st->anchors, &st->anchors_cap, st->nanchors + 1,
                      sizeof *st->anchors))
            return err_here(st, TSR_ENOMEM, "out of memory");
        i = st->nanchors;
        a = &st->anchors[i];
        a->name = tsr__arena_strndup(&st->scratch, name, len);
        if (!a->name)
            return err_here(st, TSR_ENOMEM, "out of memory");
        a->name_len = len;
        st->nanchors++;
        anchor_place(st->anchor_tab, st->anchor_tab_cap, hash_bytes(st, name, len), i + 1);
    }
    a = &st->anchors[i];
    a->node = node;
    a->count = 1;
    a->height = 0;
    a->done = done;
    *idx = i;
    return TSR_OK;
}

/* A copy of an anchored subtree for an alias.  Scalar text and raw are
 * immutable and shared; nodes and arrays are new.  Recursion depth is the
 * subtree's height, already checked against max_depth. */
static tsr_ynode *copy_tree(tsr_arena *ar, const tsr_ynode *src)
{
    tsr_ynode *n = tsr__arena_alloc(ar, sizeof *n);
    size_t i;

    if (!n)
        return NULL;
    *n = *src;
    if (src->kind == TSR_Y_SEQ && src->u.seq.len) {
        n->u.seq.items = tsr__arena_alloc(ar, src->u.seq.len * sizeof *n->u.seq.items);
        if (!n->u.seq.items)
            return NULL;
        for (i = 0; i < src->u.seq.len; i++)
            if (!(n->u.seq.items[i] = copy_tree(ar, src->u.seq.items[i])))
                return NULL;
    } else if (src->kind == TSR_Y_MAP && src->u.map.len) {
        n->u.map.pairs = tsr__arena_alloc(ar, src->u.map.len * sizeof *n->u.map.pairs);
        if (!n->u.map.pairs)
            return NULL;
        for (i = 0; i < src->u.map.len; i++) {
            n->u.map.pairs[i].key = copy_tree(ar, src->u.map.pairs[i].key);
            n->u.map.pairs[i].value = copy_tree(ar, src->u.map.pairs[i].value);
            if (!n->u.map.pairs[i].key || !n->u.map.pairs[i].value)
                return NULL;
        }
    }
    return n;
}

/* ---------------------------------------------------------------------
 * Building the tree.
 */
static bool key_eq(const tsr_ynode *a, const tsr_ynode *b)
{
    return a->u.scalar.len == b->u.scalar.len &&
           memcmp(a->u.scalar.text, b->u.scalar.text, a->u.scalar.len) == 0;
}

static const tsr_ynode *map_key(const parse_state *st, const frame *f, size_t i)
{
    return st->kids[f->base + 2 * i];
}

static size_t key_slot(const parse_state *st, const tsr_ynode *key, size_t cap)
{
    return (size_t)hash_bytes(st, key->u.scalar.text, key->u.scalar.len) & (cap - 1);
}

/* (Re)build a large mapping's key table for its first nkeys keys. */
static int keys_rehash(parse_state *st, frame *f, size_t nkeys, size_t cap)
{
    size_t *tab = tsr__calloc(st->alloc, cap, sizeof *tab), i, h;

    if (!tab)
        return TSR_ENOMEM;
    for (i = 0; i < nkeys; i++) {
        for (h = key_slot(st, map_key(st, f, i), cap); tab[h]; h = (h + 1) & (cap - 1))
            ;
        tab[h] = i + 1;
    }
    tsr__free(st->alloc, f->keys, f->keys_cap * sizeof *tab);
    f->keys = tab;
    f->keys_cap = cap;
    return TSR_OK;
}

/* Keys are scalars, not `<<`, and unique within their mapping.  Errors are
 * reported at line:col (where the key is written, an alias for a copy). */
static int check_key(parse_state *st, frame *f, const tsr_ynode *key, int line, int col)
{
    size_t k = (st->nkids - f->base) / 2, i, h;
    const tsr_ynode *first = NULL;

    if (key->kind != TSR_Y_SCALAR)
        return tsr__err_at(st->err, TSR_EPARSE, st->file, line, col,
                           "mapping keys must be scalars, not a %s",
                           key->kind == TSR_Y_MAP ? "mapping" : "sequence");
    if (key->u.scalar.style == TSR_YS_PLAIN && key->u.scalar.tag == TSR_YT_NONE &&
        word_is(key->u.scalar.text, key->u.scalar.len, "<<"))
        return tsr__err_at(st->err, TSR_EPARSE, st->file, line, col,
                           "merge keys (`<<`) are not supported; write the keys out");
    if (k < SMALL_MAP) {
        for (i = 0; i < k && !first; i++)
            if (key_eq(map_key(st, f, i), key))
                first = map_key(st, f, i);
    } else {
        if (!f->keys || (k + 1) * 2 > f->keys_cap) {
            if (keys_rehash(st, f, k, f->keys ? f->keys_cap * 2 : (size_t)4 * SMALL_MAP))
                return tsr__err_at(st->err, TSR_ENOMEM, st->file, line, col, "out of memory");
        }
        for (h = key_slot(st, key, f->keys_cap); f->keys[h]; h = (h + 1) & (f->keys_cap - 1)) {
            if (key_eq(map_key(st, f, f->keys[h] - 1), key)) {
                first = map_key(st, f, f->keys[h] - 1);
                break;
            }
        }
        if (!first)
            f->keys[h] = k + 1;
    }
    if (first)
        return tsr__err_at(st->err, TSR_EPARSE, st->file, line, col,
                           "duplicate key `%.*s%s` (first at line %d)",
                           shown_len(key->u.scalar.text, key->u.scalar.len), key->u.scalar.text,
                           shown_len(key->u.scalar.text, key->u.scalar.len) <
                                   (int)key->u.scalar.len ? "..." : "",
                           first->line);
    return TSR_OK;
}

/* Hang a new node under the innermost open collection (or make it the
 * root); count/height: what its subtree adds (a collection adds its own when
 * it ends); line:col: where it is written, for errors. */
static int attach(parse_state *st, tsr_ynode *node, size_t count, unsigned height, int line,
                  int col)
{
    frame *f;
    int rc;

    if (st->nframes == 0) {
        st->root = node;
        return TSR_OK;
    }
    f = &st->frames[st->nframes - 1];
    if (f->node->kind == TSR_Y_MAP && (st->nkids - f->base) % 2 == 0) {
        rc = check_key(st, f, node, line, col);
        if (rc)
            return rc;
    }
    if (tsr__grow(st->alloc, (void **)&st->kids, &st->kids_cap, st->nkids + 1, sizeof *st->kids))
        return tsr__err_at(st->err, TSR_ENOMEM, st->file, line, col, "out of memory");
    st->kids[st->nkids++] = node;
    f->count += count;
    if (count && height + 1 > f->height)
        f->height = height + 1;
    return TSR_OK;
}

/* Count n new nodes against max_nodes; an error is reported at line:col. */
static int count_node(parse_state *st, size_t n, int line, int col)
{
    if (n > st->lim.max_nodes || st->nodes > st->lim.max_nodes - n)
        return tsr__err_at(st->err, TSR_ELIMIT, st->file, line, col,
                           "more than %zu YAML nodes%s", st->lim.max_nodes,
                           st->aliases ? " (aliases expand to copies)" : "");
    st->nodes += n;
    return TSR_OK;
}

enum { TAG_STR, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_NULL, TAG_MAP, TAG_SEQ, TAG_OTHER };

static int tag_kind(const char *tag)
{
    static const char *const names[] = { "str", "int", "float", "bool", "null", "map", "seq" };
    size_t i;

    if (strcmp(tag, "!") == 0)
        return TAG_STR;     /* the non-specific tag: a string for scalars */
    if (strncmp(tag, core_prefix, sizeof core_prefix - 1) != 0)
        return TAG_OTHER;
    for (i = 0; i < TSR_ARRAY_LEN(names); i++)
        if (strcmp(tag + sizeof core_prefix - 1, names[i]) == 0)
            return (int)i;
    return TAG_OTHER;
}

/* Refuse a tag unless it is the core schema's and fits the node's kind
 * (`want`: TAG_MAP, TAG_SEQ, or -1 for a scalar).  Cursor at the node. */
static int check_tag(parse_state *st, const char *tag, int want, int *kind)
{
    int pl;
    const char *shown = tag_shown(tag, &pl);

    *kind = tag_kind(tag);
    if (*kind == TAG_OTHER)
        return err_here(st, TSR_EPARSE,
                        "tag `%s%s` is not supported (only !!str, !!int, !!float, !!bool, "
                        "!!null, !!map and !!seq are)", shown, tag + pl);
    if (strcmp(tag, "!") == 0 && want != -1)
        *kind = want;
    if ((want == -1 && (*kind == TAG_MAP || *kind == TAG_SEQ)) ||
        (want != -1 && *kind != want))
        return err_here(st, TSR_EPARSE, "tag `%s%s` cannot be used on a %s", shown, tag + pl,
                        want == TAG_MAP ? "mapping" : want == TAG_SEQ ? "sequence" : "scalar");
    return TSR_OK;
}

static bool is_anchor_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_' || c == '-';
}

/* A node's event starts at its properties (anchor, tag); the scalar as
 * written starts after them and the separation (blanks, breaks, comments)
 * that follows.  Only core tags get here, so a tag ends at a blank, a break
 * or a flow indicator (or at `>` when verbatim). */
static size_t skip_properties(const parse_state *st, size_t p)
{
    const unsigned char *t = st->text;
    size_t n = st->len;

    for (;;) {
        if (p < n && t[p] == '&') {
            p++;
            while (p < n && is_anchor_char(t[p]))
                p++;
        } else if (p < n && t[p] == '!') {
            if (p + 1 < n && t[p + 1] == '<') {
                while (p < n && t[p] != '>')
                    p++;
                if (p < n)
                    p++;
            } else {
                while (p < n && t[p] != ' ' && t[p] != '\t' && t[p] != '\n' && t[p] != '\r' &&
                       t[p] != ',' && t[p] != '[' && t[p] != ']' && t[p] != '{' && t[p] != '}')
                    p++;
            }
        } else {
            return p;
        }
        while (p < n) {
            if (t[p] == ' ' || t[p] == '\t' || t[p] == '\n' || t[p] == '\r')
                p++;
            else if (t[p] == '#')
                while (p < n && t[p] != '\n' && t[p] != '\r')
                    p++;
            else
                break;
        }
    }
}

static tsr_yscalar_style style_of(yaml_scalar_style_t s)
{
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: return TSR_YS_SINGLE;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return TSR_YS_DOUBLE;
    case YAML_LITERAL_SCALAR_STYLE:       return TSR_YS_LITERAL;
    case YAML_FOLDED_SCALAR_STYLE:        return TSR_YS_FOLDED;
    default:                              return TSR_YS_PLAIN;
    }
}

static int on_scalar(parse_state *st, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *anchor_name = (const char *)ev->data.scalar.anchor;
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length, rb, eb, idx;
    tsr_ynode tmp, *node;
    int kind = -1, rc, line, col;
    static const char *const tag_names[] = { "!!str", "!!int", "!!float", "!!bool", "!!null" };

    /* The cursor only moves forward here: start, scalar, end. */
    cur_to_char(st, ev->start_mark.index);
    if (tag && (rc = check_tag(st, tag, -1, &kind)) != TSR_OK)
        return rc;
    rb = st->cur.bi;
    if (tag || anchor_name) {
        rb = skip_properties(st, rb);
        cur_to_byte(st, rb);
    }
    cur_pos(st, &line, &col);
    cur_to_char(st, ev->end_mark.index);
    eb = st->cur.bi;
    if (rb > eb) {
        /* An empty scalar after its properties. */
        rb = eb;
        cur_pos(st, &line, &col);
    }
    if (len > st->lim.max_scalar)
        return tsr__err_at(st->err, TSR_ELIMIT, st->file, line, col,
                           "scalar longer than %zu bytes", st->lim.max_scalar);
    if ((rc = count_node(st, 1, line, col)) != TSR_OK)
        return rc;

    memset(&tmp, 0, sizeof tmp);
    tmp.kind = TSR_Y_SCALAR;
    tmp.line = line;
    tmp.col = col;
    tmp.u.scalar.text = value;
    tmp.u.scalar.len = len;
    tmp.u.scalar.style = style_of(ev->data.scalar.style);
    tmp.u.scalar.raw = (const char *)st->text + rb;
    tmp.u.scalar.raw_len = eb - rb;
    tmp.u.scalar.tag = kind < 0 ? TSR_YT_NONE : (tsr_ytag)(TSR_YT_STR + kind);

    if (len && memchr(value, '\0', len)) {
        /* Only a "\0" escape can put one there: point at it. */
        tsr__yaml_scalar_pos(&tmp, (size_t)((const char *)memchr(value, '\0', len) - value),
                             &line, &col);
        return tsr__err_at(st->err, TSR_EPARSE, st->file, line, col,
                           "a NUL character (\\0) is not allowed in a string");
    }
    if (!tsr__utf8_valid(value, len))
        return tsr__err_at(st->err, TSR_EPARSE, st->file, line, col, "invalid UTF-8 in a scalar");
    if ((kind == TAG_INT && !is_int_word(value, len)) ||
        (kind == TAG_FLOAT && !is_float_word(value, len)) ||
        (kind == TAG_BOOL && !is_bool_word(value, len)) ||
        (kind == TAG_NULL && !is_null_word(value, len)))
        return tsr__err_at(st->err, TSR_EPARSE, st->file, line, col,
                           "`%.*s%s` is not a valid %s", shown_len(value, len), value,
                           shown_len(value, len) < (int)len ? "..." : "", tag_names[kind]);

    node = tsr__arena_alloc(st->arena, sizeof *node);
    if (!node || !(tmp.u.scalar.text = tsr__arena_strndup(st->arena, value, len)))
        return tsr__err_at(st->err, TSR_ENOMEM, st->file, line, col, "out of memory");
    *node = tmp;
    if (anchor_name && st->lim.max_aliases) {
        if ((rc = anchor_set(st, anchor_name, node, true, &idx)) != TSR_OK)
            return rc;
    }
    return attach(st, node, 1, 0, line, col);
}

static int on_collection_start(parse_state *st, const yaml_event_t *ev, bool is_map)
{
    const char *tag = (const char *)(is_map ? ev->data.mapping_start.tag
                                            : ev->data.sequence_start.tag);
    const char *anchor_name = (const char *)(is_map ? ev->data.mapping_start.anchor
                                                    : ev->data.sequence_start.anchor);
    tsr_ynode *node;
    frame *f;
    size_t idx;
    int kind, rc;

    cur_to_char(st, ev->start_mark.index);
    if (tag && (rc = check_tag(st, tag, is_map ? TAG_MAP : TAG_SEQ, &kind)) != TSR_OK)
        return rc;
    if (st->nframes >= st->lim.max_depth)
        return err_here(st, TSR_ELIMIT, "nesting deeper than %u levels", st->lim.max_depth);
    node = tsr__arena_calloc(st->arena, 1, sizeof *node);
    if (!node)
        return err_here(st, TSR_ENOMEM, "out of memory");
    node->kind = is_map ? TSR_Y_MAP : TSR_Y_SEQ;
    cur_pos(st, &node->line, &node->col);
    if ((rc = count_node(st, 1, node->line, node->col)) != TSR_OK)
        return rc;
    if ((rc = attach(st, node, 0, 0, node->line, node->col)) != TSR_OK)
        return rc;
    if (tsr__grow(st->alloc, (void **)&st->frames, &st->frames_cap, st->nframes + 1,
                  sizeof *st->frames))
        return err_here(st, TSR_ENOMEM, "out of memory");
    f = &st->frames[st->nframes++];
    memset(f, 0, sizeof *f);
    f->node = node;
    f->base = st->nkids;
    f->count = 1;
    f->height = 1;
    if (anchor_name && st->lim.max_aliases) {
        if ((rc = anchor_set(st, anchor_name, node, false, &idx)) != TSR_OK)
            return rc;
        f->anchor = idx + 1;
    }
    return TSR_OK;
}

static int on_collection_end(parse_state *st)
{
    frame *f = &st->frames[st->nframes - 1], *parent;
    tsr_ynode *node = f->node;
    size_t n = st->nkids - f->base, i;

    if (node->kind == TSR_Y_SEQ && n) {
        node->u.seq.items = tsr__arena_alloc(st->arena, n * sizeof *node->u.seq.items);
        if (!node->u.seq.items)
            return err_here(st, TSR_ENOMEM, "out of memory");
        memcpy(node->u.seq.items, st->kids + f->base, n * sizeof *node->u.seq.items);
        node->u.seq.len = n;
    } else if (node->kind == TSR_Y_MAP && n) {
        node->u.map.pairs = tsr__arena_alloc(st->arena, n / 2 * sizeof *node->u.map.pairs);
        if (!node->u.map.pairs)
            return err_here(st, TSR_ENOMEM, "out of memory");
        for (i = 0; i < n / 2; i++) {
            node->u.map.pairs[i].key = st->kids[f->base + 2 * i];
            node->u.map.pairs[i].value = st->kids[f->base + 2 * i + 1];
        }
        node->u.map.len = n / 2;
    }
    if (f->anchor) {
        anchor *a = &st->anchors[f->anchor - 1];
        if (a->node == node) {      /* not redefined inside itself */
            a->count = f->count;
            a->height = f->height;
            a->done = true;
        }
    }
    tsr__free(st->alloc, f->keys, f->keys_cap * sizeof *f->keys);
    st->nkids = f->base;
    st->nframes--;
    if (st->nframes) {
        parent = &st->frames[st->nframes - 1];
        parent->count += f->count;
        if (f->height + 1 > parent->height)
            parent->height = f->height + 1;
    }
    return TSR_OK;
}

static int on_alias(parse_state *st, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    size_t i;
    const anchor *a;
    tsr_ynode *copy;
    int rc, line, col;

    cur_to_char(st, ev->start_mark.index);
    if (st->lim.max_aliases == 0)
        return err_here(st, TSR_ELIMIT, "aliases are not allowed (`*%s`)", name);
    if (st->aliases >= st->lim.max_aliases)
        return err_here(st, TSR_ELIMIT, "more than %u aliases", st->lim.max_aliases);
    st->aliases++;
    i = anchor_find(st, name, strlen(name));
    if (i == SIZE_MAX)
        return err_here(st, TSR_EPARSE, "alias `*%s` names no anchor defined before it", name);
    a = &st->anchors[i];
    if (!a->done)
        return err_here(st, TSR_EPARSE,
                        "alias `*%s` is inside the node it names (recursive data is not supported)",
                        name);
    if (a->height > st->lim.max_depth - st->nframes)
        return err_here(st, TSR_ELIMIT, "nesting deeper than %u levels (through alias `*%s`)",
                        st->lim.max_depth, name);
    cur_pos(st, &line, &col);
    if ((rc = count_node(st, a->count, line, col)) != TSR_OK)
        return rc;
    copy = copy_tree(st->arena, a->node);
    if (!copy)
        return err_here(st, TSR_ENOMEM, "out of memory");
    return attach(st, copy, a->count, a->height, line, col);
}

static int on_event(parse_state *st, const yaml_event_t *ev, bool *finished)
{
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return TSR_OK;
    case YAML_STREAM_END_EVENT:
        *finished = true;
        return TSR_OK;
    case YAML_DOCUMENT_START_EVENT:
        if (st->docs++) {
            cur_to_char(st, ev->start_mark.index);
            return err_here(st, TSR_EPARSE,
                            "a second YAML document starts here; only one is allowed");
        }
        return TSR_OK;
    case YAML_SCALAR_EVENT:
        return on_scalar(st, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_collection_start(st, ev, false);
    case YAML_MAPPING_START_EVENT:
        return on_collection_start(st, ev, true);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_collection_end(st);
    case YAML_ALIAS_EVENT:
        return on_alias(st, ev);
    default:
        cur_to_char(st, ev->start_mark.index);
        return err_here(st, TSR_EPARSE, "unexpected YAML event");
    }
}

/* libyaml's error, at our position for its mark. */
static int libyaml_error(parse_state *st)
{
    const yaml_parser_t *p = &st->parser;
    const char *problem = p->problem ? p->problem : "invalid YAML";
    int cline, ccol, line, col;

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        return tsr__err_at(st->err, TSR_ENOMEM, st->file, 0, 0, "out of memory in the YAML parser");
    case YAML_READER_ERROR:
        /* The reader reports a byte offset. */
        cur_to_byte(st, p->problem_offset);
        if (p->problem_value >= 0 && strstr(problem, "control characters"))
            return err_here(st, TSR_EPARSE, "control character U+%04X is not allowed",
                            (unsigned)p->problem_value);
        return err_here(st, TSR_EPARSE, "%s", problem);
    case YAML_SCANNER_ERROR:
    case YAML_PARSER_ERROR:
        if (p->context) {
            cur_to_char(st, p->context_mark.index);
            cur_pos(st, &cline, &ccol);
            cur_to_char(st, p->problem_mark.index);
            cur_pos(st, &line, &col);
            if (cline != line || ccol != col)
                return err_here(st, TSR_EPARSE, "%s (%s started at line %d, column %d)",
                                problem, p->context, cline, ccol);
            return err_here(st, TSR_EPARSE, "%s %s", problem, p->context);
        }
        cur_to_char(st, p->problem_mark.index);
        return err_here(st, TSR_EPARSE, "%s", problem);
    default:
        return tsr__err_at(st->err, TSR_EPARSE, st->file, 0, 0, "%s", problem);
    }
}

static void release(parse_state *st)
{
    size_t i;

    for (i = 0; i < st->nframes; i++)
        tsr__free(st->alloc, st->frames[i].keys, st->frames[i].keys_cap * sizeof(size_t));
    tsr__free(st->alloc, st->frames, st->frames_cap * sizeof *st->frames);
    tsr__free(st->alloc, st->kids, st->kids_cap * sizeof *st->kids);
    tsr__free(st->alloc, st->anchors, st->anchors_cap * sizeof *st->anchors);
    tsr__free(st->alloc, st->anchor_tab, st->anchor_tab_cap * sizeof *st->anchor_tab);
    tsr__arena_free(&st->scratch);
}

static int parse_events(parse_state *st)
{
    yaml_event_t ev;
    bool finished = false;
    int rc;

    if (!yaml_parser_initialize(&st->parser))
        return tsr__err_at(st->err, TSR_ENOMEM, st->file, 0, 0, "out of memory in the YAML parser");
    yaml_parser_set_input_string(&st->parser, st->text, st->len);
    for (;;) {
        if (!yaml_parser_parse(&st->parser, &ev)) {
            rc = libyaml_error(st);
            break;
        }
        rc = on_event(st, &ev, &finished);
        yaml_event_delete(&ev);
        if (rc || finished)
            break;
    }
    yaml_parser_delete(&st->parser);
    return rc;
}

int tsr__yaml_parse(tsr_ynode **out, const char *text, size_t len, const char *file,
                    const tsr_ylimits *limits, tsr_arena *arena, tsr_error *err)
{
    parse_state st;
    const tsr_ynode *root;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !arena || (!text && len))
        return tsr__err(err, TSR_EINVAL, "tsr__yaml_parse: missing argument");
    memset(&st, 0, sizeof st);
    st.text = (const unsigned char *)(text ? text : "");
    st.len = len;
    st.file = file ? file : "<string>";
    st.lim = limits ? *limits : default_limits;
    st.arena = arena;
    st.alloc = arena->alloc;
    st.err = err;
    tsr__hash_key_init(&st.key, &st, (uint64_t)(uintptr_t)text);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        st.base = 3;
    st.cur.bi = st.cur.ls = st.base;

    if (len > st.lim.max_size)
        return tsr__err_at(err, TSR_ELIMIT, st.file, 0, 0,
                           "input of %zu bytes is larger than the limit of %zu bytes", len,
                           st.lim.max_size);
    rc = check_encoding(&st);
    if (rc)
        return rc;
    tsr__arena_init(&st.scratch, st.alloc, 1024);
    rc = parse_events(&st);
    release(&st);
    if (rc)
        return rc;
    root = st.root;
    if (!root)
        return tsr__err_at(err, TSR_EPARSE, st.file, 1, 1, "empty document");
    if (root->kind == TSR_Y_SCALAR && root->u.scalar.len == 0 &&
        root->u.scalar.style == TSR_YS_PLAIN && root->u.scalar.tag == TSR_YT_NONE)
        return tsr__err_at(err, TSR_EPARSE, st.file, root->line, root->col, "empty document");
    *out = st.root;
    return TSR_OK;
}
