/*
 * tessera.h — the whole public contract of libtessera.
 *
 * Tessera loads declarative YAML rule sets (ticket categories, discounts,
 * promo codes, loyalty points, refunds, offers) and evaluates them against
 * orders.  If it is not declared in this header it is not API.
 *
 * Conventions
 *   - Every fallible function returns an int status: TSR_OK (0) or a negative
 *     TSR_E* code, and fills the optional trailing `tsr_error *err`.
 *   - Objects returned through `**out` belong to the caller and are released
 *     with the matching NULL-safe `_free` function.
 *   - Borrowed `const char *` results live as long as the object they came from.
 *
 * Threads
 *   The library has no global mutable state and needs no init call.  A loaded
 *   tsr_ruleset is immutable: any number of threads may evaluate against the
 *   same rule set at once.  Everything else (errors, options, results) belongs
 *   to one thread at a time.
 */
#ifndef TESSERA_H
#define TESSERA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSR_VERSION_MAJOR 0
#define TSR_VERSION_MINOR 1
#define TSR_VERSION_PATCH 0
#define TSR_VERSION_STRING "0.1.0"
/* MAJOR*1000000 + MINOR*1000 + PATCH, comparable with tsr_version_number(). */
#define TSR_VERSION_NUMBER 1000

#if defined(_WIN32) && defined(TSR_BUILDING_DLL)
#  define TSR_API __declspec(dllexport)
#elif defined(__GNUC__) && defined(TSR_BUILDING)
#  define TSR_API __attribute__((visibility("default")))
#else
#  define TSR_API
#endif

/* ---------------------------------------------------------------------
 * Status codes.  Pinned values: never renumbered, only appended.
 */
enum {
    TSR_OK      = 0,
    TSR_ENOMEM  = -1,  /* an allocation failed */
    TSR_EIO     = -2,  /* a file could not be read */
    TSR_EPARSE  = -3,  /* malformed YAML, JSON or expression syntax */
    TSR_ESCHEMA = -4,  /* a rule file breaks the rule-file model */
    TSR_ETYPE   = -5,  /* an expression does not type-check */
    TSR_ENAME   = -6,  /* an unknown name (field, function, segment, ...) */
    TSR_EORDER  = -7,  /* an order is invalid */
    TSR_ELIMIT  = -8,  /* a configured limit was exceeded */
    TSR_EVALUE  = -9,  /* a value is out of range (money precision, overflow, ...) */
    TSR_EINVAL  = -10, /* the caller passed an invalid argument */
    TSR_EEVAL   = -11, /* evaluation failed (overflow, regex limit, ...) */
    TSR_EINCLUDE = -12 /* an include could not be resolved or forms a cycle */
};

/* A short English description of a status code; never NULL. */
TSR_API const char *tsr_strerror(int code);

/* ---------------------------------------------------------------------
 * Errors.  Filled by every fallible call that is given one; never needs
 * freeing.  Strings are truncated to fit and always NUL-terminated.
 */
#define TSR_ERROR_TEXT_MAX 512
#define TSR_ERROR_PATH_MAX 256

typedef struct tsr_error {
    int code;                          /* the TSR_E* code, TSR_OK if none */
    char message[TSR_ERROR_TEXT_MAX];  /* human-readable, without location */
    char file[TSR_ERROR_PATH_MAX];     /* rule file, "" when not about a file */
    int line;                          /* 1-based, 0 when unknown */
    int column;                        /* 1-based, 0 when unknown */
    char path[TSR_ERROR_PATH_MAX];     /* JSON path into an order, e.g. items[1].id */
} tsr_error;

/* Render an error as "file:line:col: message" (or "path: message").
 * Writes at most `size` bytes including the NUL; returns the length the full
 * text needs, like snprintf. */
TSR_API int tsr_error_format(char *buf, size_t size, const tsr_error *err);

/* ---------------------------------------------------------------------
 * Version.
 */
TSR_API const char *tsr_version(void);
TSR_API int tsr_version_number(void);

/* ---------------------------------------------------------------------
 * Allocator hook.  All memory the library uses comes from here when given.
 * `realloc(ud, NULL, 0, n)` allocates, `realloc(ud, p, old, 0)` frees and
 * returns NULL; otherwise it resizes.  Returning NULL for n > 0 is failure.
 */
typedef void *(*tsr_realloc_fn)(void *ud, void *ptr, size_t old_size, size_t new_size);

typedef struct tsr_allocator {
    tsr_realloc_fn realloc;
    void *ud;
} tsr_allocator;

/* ---------------------------------------------------------------------
 * Include resolution.  Called for every `include:` entry to replace the file
 * system.  `including` is the resolved name of the file that names `name`.
 * On success the resolver writes a canonical name for the file into
 * `resolved` (used for cycle detection and in error messages) and points
 * *text / *len at the file's contents, which it owns and keeps valid until
 * the load call returns.  Return TSR_OK, or a TSR_E* code to refuse.
 */
typedef int (*tsr_include_fn)(void *ud, const char *including, const char *name,
                              char *resolved, size_t resolved_size,
                              const char **text, size_t *len);

/* ---------------------------------------------------------------------
 * Load options.  Start from TSR_LOAD_OPTIONS_INIT; fields are only appended,
 * and `version` says which ones the caller knows about.  NULL = defaults.
 */
#define TSR_LOAD_OPTIONS_VERSION 1

typedef struct tsr_load_options {
    unsigned version;
    const tsr_allocator *allocator;   /* NULL: malloc/realloc/free */
    size_t max_file_size;             /* bytes per rule file (default 4 MiB) */
    unsigned max_depth;               /* YAML nesting (default 64) */
    size_t max_scalar_length;         /* bytes per YAML scalar (default 64 KiB) */
    size_t max_nodes;                 /* YAML nodes per file (default 200,000) */
    unsigned max_aliases;             /* YAML aliases per file (default 0: refused) */
    unsigned max_includes;            /* files in one rule set (default 32) */
    size_t max_expression_length;     /* bytes per expression (default 4 KiB) */
    /* Order limits applied when evaluating against this rule set. */
    size_t max_order_lines;           /* default 10,000 */
    size_t max_promo_codes;           /* default 64 */
    size_t max_string_length;         /* bytes per order string (default 64 KiB) */
    size_t max_order_size;            /* bytes of order text (default 16 MiB) */
    /* PCRE2 limits for `matches` and promo-code `match` patterns. */
    uint32_t regex_match_limit;       /* default 100,000 */
    uint32_t regex_depth_limit;       /* default 1,000 */
    uint32_t regex_heap_limit_kib;    /* default 1,024 */
    tsr_include_fn include;           /* NULL: read files relative to the includer */
    void *include_ud;
    /* Directory holding the IANA tz database (default: $TZDIR or /usr/share/zoneinfo). */
    const char *tzdir;
} tsr_load_options;

#define TSR_LOAD_OPTIONS_INIT { TSR_LOAD_OPTIONS_VERSION, NULL, 4u << 20, 64, 64u << 10, \
    200000, 0, 32, 4096, 10000, 64, 64u << 10, 16u << 20, 100000, 1000, 1024, NULL, NULL, NULL }

/* Initialise `opts` to the defaults of this library version. */
TSR_API int tsr_load_options_init(tsr_load_options *opts, unsigned version);

/* ---------------------------------------------------------------------
 * Rule sets.
 */
typedef struct tsr_ruleset tsr_ruleset;

/* Load, resolve and type-check a rule file (and its includes).
 * On failure *out is NULL and err says where. */
TSR_API int tsr_ruleset_load_file(tsr_ruleset **out, const char *path,
                                  const tsr_load_options *opts, tsr_error *err);

/* Load from text; `name` is used in error messages and as the base for
 * relative includes (may be NULL: "<string>", includes relative to cwd). */
TSR_API int tsr_ruleset_load_string(tsr_ruleset **out, const char *text, size_t len,
                                    const char *name, const tsr_load_options *opts,
                                    tsr_error *err);

/* NULL-safe. */
TSR_API void tsr_ruleset_free(tsr_ruleset *rs);

/* Borrowed strings, valid while the rule set lives. */
TSR_API const char *tsr_ruleset_id(const tsr_ruleset *rs);
TSR_API const char *tsr_ruleset_version(const tsr_ruleset *rs);
TSR_API const char *tsr_ruleset_currency(const tsr_ruleset *rs);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_H */
