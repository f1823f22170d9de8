/*
 * internal.h — the base every module of libtessera stands on: memory
 * (alloc.c), errors (error.c), did-you-mean (suggest.c), UTF-8 in what
 * people read (utf8.c), sorting (sort.c), keyed hashing (hash.c), the
 * output buffer (buf.c) and versioned structs (version.c).  Never installed; nothing here is API.
 */
#ifndef TSR_INTERNAL_H
#define TSR_INTERNAL_H

#define TSR_BUILDING 1
#include "tessera.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#  define TSR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#  define TSR_LIKELY(x) __builtin_expect(!!(x), 1)
#  define TSR_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#  define TSR_PRINTF(a, b)
#  define TSR_LIKELY(x) (x)
#  define TSR_UNLIKELY(x) (x)
#endif

#define TSR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------
 * Allocator (alloc.c).  A copy of the caller's hook, or the default.
 */
typedef struct tsr_alloc {
    tsr_realloc_fn fn;
    void *ud;
} tsr_alloc;

void tsr__alloc_init(tsr_alloc *a, const tsr_allocator *user);
void *tsr__malloc(const tsr_alloc *a, size_t n);
void *tsr__calloc(const tsr_alloc *a, size_t count, size_t size);   /* overflow-checked */
void *tsr__realloc(const tsr_alloc *a, void *p, size_t old_n, size_t new_n);
void tsr__free(const tsr_alloc *a, void *p, size_t n);
char *tsr__strndup(const tsr_alloc *a, const char *s, size_t n);

/* Grow a dynamic array (*items, *cap) to hold at least `need` elements of
 * `size` bytes.  Returns TSR_OK or TSR_ENOMEM (the array is left as it was). */
int tsr__grow(const tsr_alloc *a, void **items, size_t *cap, size_t need, size_t size);

/* ---------------------------------------------------------------------
 * Arena (alloc.c): bump allocation in chunks, freed all at once.  Used for
 * everything that lives as long as a rule set, and per evaluation.
 * tsr__arena_reset keeps the first chunk so repeated use does not allocate.
 */
typedef struct tsr_arena_chunk tsr_arena_chunk;

/* A chunk: its header, then `size` usable bytes of which `used` are taken.
 * Seen here only for tsr__arena_bump; alloc.c alone makes and frees
 * chunks. */
struct tsr_arena_chunk {
    tsr_arena_chunk *next;
    size_t size;        /* usable bytes in data */
    size_t used;
    /* max_align_t keeps data aligned for any type */
    union { max_align_t align; unsigned char data[1]; } u;
};

#define TSR_ARENA_ALIGN 8u

typedef struct tsr_arena {
    const tsr_alloc *alloc;
    tsr_arena_chunk *head;
    size_t chunk_size;      /* size of the next ordinary chunk */
    size_t total;           /* bytes held, for limits and statistics */
} tsr_arena;

void tsr__arena_init(tsr_arena *ar, const tsr_alloc *alloc, size_t first_chunk);
void *tsr__arena_alloc(tsr_arena *ar, size_t n);       /* 8-byte aligned, NULL on OOM */
/* tsr__arena_alloc with its common case, room in the newest chunk, inline
 * (a bump); the call only for a new chunk, n == 0 or a size too large.
 * For hot paths that allocate once or twice per evaluation.  Not made the
 * one tsr__arena_alloc: inline in every caller it grew evaluate_in past
 * what GCC inlines the categories step into (+9 instructions per park10
 * order in all, docs/performance.md). */
static inline void *tsr__arena_bump(tsr_arena *ar, size_t n)
{
    tsr_arena_chunk *c = ar->head;

    if (TSR_LIKELY(c != NULL)) {
        size_t off = (c->used + (TSR_ARENA_ALIGN - 1)) & ~(size_t)(TSR_ARENA_ALIGN - 1);
        /* n - 1 wraps for n == 0: that case takes the call */
        if (TSR_LIKELY(off <= c->size && n - 1 < c->size - off)) {
            c->used = off + n;
            return c->u.data + off;
        }
    }
    return tsr__arena_alloc(ar, n);
}
void *tsr__arena_calloc(tsr_arena *ar, size_t count, size_t size);
char *tsr__arena_strndup(tsr_arena *ar, const char *s, size_t n);
/* tsr__grow for an array in the arena: room for element n (the n before it
 * are copied), doubling from `first` elements of `size` bytes.  An arena
 * block cannot grow in place, so the copies left behind add up to less than
 * the final array.  TSR_OK or TSR_ENOMEM (the array is left as it was).
 * Inline: evaluation grows small arrays on its hot path. */
static inline int tsr__arena_grow(tsr_arena *ar, void **items, size_t *cap, size_t n,
                                  size_t size, size_t first)
{
    size_t ncap;
    void *p;

    if (TSR_LIKELY(n < *cap))
        return TSR_OK;
    ncap = *cap ? *cap : first;
    while (ncap <= n) {
        if (ncap > SIZE_MAX / 2)
            return TSR_ENOMEM;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size)
        return TSR_ENOMEM;
    p = tsr__arena_alloc(ar, ncap * size);
    if (!p)
        return TSR_ENOMEM;
    if (n)
        memcpy(p, *items, n * size);
    *items = p;
    *cap = ncap;
    return TSR_OK;
}
/* Formatted text in the arena: NULL when out of memory, "" when the format
 * itself fails. */
const char *tsr__arena_printf(tsr_arena *ar, const char *fmt, ...) TSR_PRINTF(2, 3);
const char *tsr__arena_vprintf(tsr_arena *ar, const char *fmt, va_list ap) TSR_PRINTF(2, 0);
void tsr__arena_reset(tsr_arena *ar);
void tsr__arena_free(tsr_arena *ar);
/* Free an arena that holds its own owner (a result allocated as the
 * arena's first block, with the arena and the allocator as fields). */
void tsr__arena_free_holder(tsr_arena *ar);
/* Empty the arena of a holder for reuse, keeping the holder: its first
 * `keep` bytes (`ar` among them).  With one chunk nothing is allocated or
 * freed; with several they are replaced by one chunk as large as all of
 * them, so the next use of the same size needs no allocation.  Returns the
 * holder's (possibly new) address, or NULL when out of memory (nothing
 * changed: the holder is still whole and may be freed). */
void *tsr__arena_rewind_holder(tsr_arena *ar, size_t keep);

/* ---------------------------------------------------------------------
 * Errors (error.c).  All return `code` so callers can `return tsr__err(...)`.
 * `err` may be NULL.  The first error set wins only if the caller checks
 * err->code; these functions always overwrite.
 */
void tsr__error_clear(tsr_error *err);
int tsr__err(tsr_error *err, int code, const char *fmt, ...) TSR_PRINTF(3, 4);
int tsr__errv(tsr_error *err, int code, const char *fmt, va_list ap) TSR_PRINTF(3, 0);
/* An error at a place in a rule file. */
int tsr__err_at(tsr_error *err, int code, const char *file, int line, int col,
                const char *fmt, ...) TSR_PRINTF(6, 7);
/* An error at a JSON path of an order. */
int tsr__err_path(tsr_error *err, int code, const char *path, const char *fmt, ...)
    TSR_PRINTF(4, 5);
/* The same with a va_list, for modules' own printf-like error helpers. */
int tsr__err_atv(tsr_error *err, int code, const char *file, int line, int col,
                 const char *fmt, va_list ap) TSR_PRINTF(6, 0);
int tsr__err_pathv(tsr_error *err, int code, const char *path, const char *fmt, va_list ap)
    TSR_PRINTF(4, 0);
/* Add places to an error already set, keeping its message: the rule's
 * (file, line > 0, col) and the order's (path); NULL / 0 / "" leave that
 * part as it is.  For evaluation errors, which have both. */
void tsr__err_locate(tsr_error *err, const char *file, int line, int col, const char *path);

/* ---------------------------------------------------------------------
 * Did-you-mean (suggest.c) and UTF-8 (utf8.c).
 */
/* Levenshtein distance, capped: returns cap+1 when larger.  For did-you-mean. */
size_t tsr__edit_distance(const char *a, size_t alen, const char *b, size_t blen, size_t cap);

/* The closest of `candidates` (n of them) to `name`, or NULL if none is close
 * enough to suggest (distance <= max(1, len/3)). */
const char *tsr__closest(const char *name, size_t len, const char *const *candidates, size_t n);
/* The same over n records `stride` bytes apart, each starting with its
 * name (a `const char *`): tables of keys, rules, fields. */
const char *tsr__closest_in(const char *name, size_t len, const void *base, size_t n,
                            size_t stride);
/* "; did you mean `x`?" with x the closest of `candidates`, written into
 * buf, or "" when none is close. */
const char *tsr__suggest(char *buf, size_t size, const char *name, size_t len,
                         const char *const *candidates, size_t n);
/* Whether s[0..len) is one of list[0..n). */
bool tsr__in_list(const char *s, size_t len, const char *const *list, size_t n);

/* Whether a[0 .. n) and b[0 .. n) are the same bytes: up to 16 bytes with
 * two overlapping loads each side (the kinds, codes and names that
 * conditions, the plan and the promo index compare are short), memcmp
 * above. */
static inline bool tsr__same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t a0, a1, b0, b1;
        memcpy(&a0, a, 8);
        memcpy(&b0, b, 8);
        memcpy(&a1, a + n - 8, 8);
        memcpy(&b1, b + n - 8, 8);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t a0, a1, b0, b1;
        memcpy(&a0, a, 4);
        memcpy(&b0, b, 4);
        memcpy(&a1, a + n - 4, 4);
        memcpy(&b1, b + n - 4, 4);
        return ((a0 ^ b0) | (a1 ^ b1)) == 0;
    }
    if (n < 4) {
        size_t i;
        for (i = 0; i < n; i++)
            if (a[i] != b[i])
                return false;
        return true;
    }
    return memcmp(a, b, n) == 0;
}

/* Write code point cp as UTF-8 at out (room for 4 bytes); its length in
 * bytes.  The caller has refused surrogates; a value above U+1FFFFF keeps
 * only the bits a 4-byte form holds. */
static inline size_t tsr__utf8_encode(unsigned long cp, char *out)
{
    if (cp <= 0x7F) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp <= 0x7FF) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp <= 0xFFFF) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | ((cp >> 18) & 0x07));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool tsr__utf8_valid(const char *s, size_t n);

/* The length of the valid UTF-8 character at s[0..n) (n >= 1), or 0 when
 * the bytes there are not one: no overlongs, no surrogates, <= U+10FFFF.
 * Inline: the JSON order reader checks strings with it as it scans them. */
static inline size_t tsr__utf8_char(const unsigned char *s, size_t n)
{
    unsigned c = s[0], c1;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3)
            return 0;
        c1 = s[1];
        if ((c1 & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && c1 < 0xA0)   /* overlong */
            return 0;
        if (c == 0xED && c1 > 0x9F)   /* surrogates */
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4)
            return 0;
        c1 = s[1];
        if ((c1 & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && c1 < 0x90)   /* overlong */
            return 0;
        if (c == 0xF4 && c1 > 0x8F)   /* beyond U+10FFFF */
            return 0;
        return 4;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Text in messages, traces and output for people (utf8.c).  Every
 * message that quotes text cuts it with these, so that what the library
 * writes is always valid UTF-8 (`eval --jsonl` lines decode strictly) and
 * never carries a control character to a terminal.
 */
/* How much of a quoted rule text (a condition in "`...` was false", an
 * expression in an error) a message shows, in bytes. */
#define TSR_QUOTE_MAX 200

/* How many bytes of s[0..n) to quote in at most `max` bytes without
 * cutting a UTF-8 character: n, or less than max at a character start.
 * For `%.*s` of rule text, which is valid UTF-8 already. */
size_t tsr__utf8_prefix(const char *s, size_t n, size_t max);

/* Outside text (an order's ids and codes, a request, a file's bytes) made
 * fit to quote: at most max bytes of s[0..n) (and at most size - 4) into
 * buf, cut on a character boundary, every control character (C0, DEL, C1)
 * and every byte that is not UTF-8 shown as '?', and "..." after it when
 * it was cut.  Always NUL-terminated; returns buf. */
const char *tsr__clip(char *buf, size_t size, const char *s, size_t n, size_t max);

/* Make a NUL-terminated string clean in place as tsr__clip does (control
 * characters and invalid bytes become '?'); returns its new length. */
size_t tsr__clean_in_place(char *s);

/* ---------------------------------------------------------------------
 * Sorting (sort.c).
 */
/* Where a diagnostic is, to sort a list of them into file order: its
 * file's rank (the main file 0, then the included ones as read), line,
 * column, then the order it was found in.  tsr__place_cmp compares two
 * (for tsr__sort_stable over records that start with a tsr_place). */
typedef struct tsr_place {
    size_t rank, seq;
    int line, col;
} tsr_place;

int tsr__place_cmp(const void *a, const void *b);

/* Stable merge sort of base[0..n) (elements of `size` bytes) with scratch
 * from `scratch`: qsort would malloc behind the allocator hook, is not
 * stable, and some are quadratic on crafted input.  TSR_OK or TSR_ENOMEM
 * (base unchanged). */
int tsr__sort_stable(tsr_arena *scratch, void *base, size_t n, size_t size,
                     int (*cmp)(const void *, const void *));

/* ---------------------------------------------------------------------
 * A keyed hash for hash sets whose keys come from outside (an order's line
 * ids and promo ids, YAML keys, rule ids), so that crafted keys cannot be
 * made to collide: SipHash-1-3 (as Python and Rust use for their tables)
 * under a key drawn per set (hash.c).
 */
typedef struct tsr_hash_key {
    uint64_t k0, k1;
} tsr_hash_key;

/* A fresh key: from the address of the set's owner, a counter the owner
 * bumps, the monotonic clock and where the library and the stack are
 * mapped (ASLR).  No global state; not a cryptographic secret, but nothing
 * an order can see or choose, so it cannot aim its keys at one bucket. */
void tsr__hash_key_init(tsr_hash_key *key, const void *owner, uint64_t counter);
uint64_t tsr__hash(const tsr_hash_key *key, const char *s, size_t n);

/* A growable byte buffer (for JSON output and messages; buf.c). */
typedef struct tsr_buf {
    const tsr_alloc *alloc;
    char *data;
    size_t len, cap;
    int failed;        /* sticky TSR_ENOMEM */
} tsr_buf;

void tsr__buf_init(tsr_buf *b, const tsr_alloc *alloc);
void tsr__buf_free(tsr_buf *b);
void tsr__buf_put(tsr_buf *b, const char *s, size_t n);
void tsr__buf_puts(tsr_buf *b, const char *s);
void tsr__buf_putc(tsr_buf *b, char c);
void tsr__buf_printf(tsr_buf *b, const char *fmt, ...) TSR_PRINTF(2, 3);
/* The snprintf contract of the public text calls: the text of b, cut to
 * size-1 bytes and NUL-terminated, into buf (may be NULL when size is 0);
 * returns the whole text's length, or TSR_ENOMEM when b failed or is over
 * INT_MAX bytes. */
int tsr__buf_copy_out(const tsr_buf *b, char *buf, size_t size);
/* Append a decimal integer. */
void tsr__buf_int(tsr_buf *b, int64_t v);
/* Append s as a JSON string literal, quotes included. */
void tsr__buf_json_string(tsr_buf *b, const char *s, size_t n);
/* Append s escaped for inside a JSON string literal, without quotes. */
void tsr__buf_json_escaped(tsr_buf *b, const char *s, size_t n);
/* Append "  PATH: MESSAGE\n", one mismatch of a rule-test report
 * (ruletest.c, refund_case.c): the message cut at 1,023 bytes between
 * characters, both shown clean as tsr__clip shows outside text (the report
 * is printed on terminals and read by programs). */
void tsr__buf_diff_linev(tsr_buf *b, const char *path, const char *fmt, va_list ap)
    TSR_PRINTF(3, 0);

/* ---------------------------------------------------------------------
 * Versioned structs (version.c): options and totals start with
 * `unsigned version`, and fields are only appended.  A table per struct
 * says how many bytes each version has, indexed by version (entry 0
 * unused); TSR_END_OF gives such a size.
 */
#define TSR_END_OF(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

/* Is `version` one this library knows (1 .. nsizes-1)?  When not, fill err
 * with a message naming `what` (e.g. "eval options") and the macro to start
 * from, and return TSR_EINVAL.  Inline: every evaluation with options asks. */
int tsr__version_error(unsigned version, size_t nsizes, const char *what, const char *init,
                       tsr_error *err);

static inline int tsr__check_version(unsigned version, size_t nsizes, const char *what,
                                     const char *init, tsr_error *err)
{
    if (TSR_LIKELY(version >= 1 && version < nsizes))
        return TSR_OK;
    return tsr__version_error(version, nsizes, what, init, err);
}

/* Copy a versioned struct the library filled (`src`, of the newest
 * version) out to the caller's `out`: only the bytes out's version has
 * (sizes[version]); out's version stays.  TSR_EINVAL, nothing written,
 * when out is NULL or its version unknown. */
int tsr__copy_out_versioned(void *out, const void *src, const size_t *sizes, size_t nsizes);

/* What every tsr_*_options_init does: the defaults' first sizes[version]
 * bytes into opts, with opts->version = version.  TSR_EINVAL, nothing
 * written, when opts is NULL or the version unknown. */
int tsr__init_versioned(void *opts, const void *defaults, unsigned version, const size_t *sizes,
                        size_t nsizes);

#endif /* TSR_INTERNAL_H */
