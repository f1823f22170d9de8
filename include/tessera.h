/*
 * tessera.h — the whole public contract of libtessera.
 *
 * Tessera loads declarative YAML rule sets (ticket categories, discounts,
 * promo codes, loyalty points, refunds, taxes, offers) and evaluates them
 * against orders.  If it is not declared in this header it is not API.
 *
 * Conventions
 *   - Every fallible function returns an int status: TSR_OK (0) or a negative
 *     TSR_E* code, and fills the optional trailing `tsr_error *err`.
 *   - Objects returned through `**out` belong to the caller and are released
 *     with the matching NULL-safe `_free` function.
 *   - Borrowed `const char *` results live as long as the object they came from.
 *   - Structs the caller allocates and the library reads (options) or
 *     writes (totals) start with `unsigned version`: start from the
 *     matching _INIT macro or _init function.  Fields are only ever
 *     appended; the library reads and writes only the fields the caller's
 *     version has, and refuses a version it does not know with TSR_EINVAL.
 *
 * Lifetimes
 *   A tsr_ruleset must outlive everything made for it or from it: orders
 *   (tsr_order_new), results (tsr_evaluate) and profiles (tsr_profile_new)
 *   refer to it.  Refund results, lint reports and rule-test reports do not;
 *   they may outlive it.  The rule set owns the strings that name its own
 *   parts: tsr_ruleset_id / _version / _currency, and what a result or a
 *   profile gives out about the rules (segment, tier, category, promo-code
 *   and offer ids, offer messages, trace reasons).  Such strings live as
 *   long as the rule set and the object that gave them out, whichever ends
 *   first.  Whatever the caller passes in (strings, options, the allocator
 *   struct) is copied or used during the call only; an allocator's `ud`
 *   and functions must stay usable while anything of the rule set lives.
 *
 * Threads
 *   The library has no global mutable state and needs no init call.  A loaded
 *   tsr_ruleset is immutable (but for the spare orders the text calls keep
 *   in it, taken and given back atomically): any number of threads may
 *   evaluate against the same rule set at once.  What a function takes as `const` it does not
 *   write to: threads may also evaluate (or refund, or profile) one order at
 *   once, as long as no thread changes it meanwhile.  Everything else
 *   (errors, results, profiles, an order being built) belongs to one thread
 *   at a time.
 */
#ifndef TESSERA_H
#define TESSERA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* TSR_VERSION_MAJOR, _MINOR, _PATCH, _STRING ("0.1.0") and _NUMBER
 * (MAJOR*1000000 + MINOR*1000 + PATCH, comparable with tsr_version_number()),
 * generated from the one version number of the build (CMake project()). */
#include "tessera_version.h"

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
    TSR_EINCLUDE = -12, /* an include could not be resolved or forms a cycle */
    TSR_ERECEIPT = -13  /* a refund's receipt does not match its order and rule set */
};

/* A short English description of a status code; never NULL. */
TSR_API const char *tsr_strerror(int code);

/* ---------------------------------------------------------------------
 * Errors.  Filled by every fallible call that is given one; never needs
 * freeing.  Strings are always NUL-terminated, valid UTF-8 and free of
 * control characters: text quoted from an order, a request or a file is
 * cut on a character boundary to fit, with control characters and bytes
 * that are not UTF-8 shown as '?'.  An evaluation error (TSR_EEVAL) names
 * both the rule (file, line, column of its expression) and the place in
 * the order (path, e.g. items[3] or promo_codes[1]) when it has them.
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

/* Render an error as "file:line:col: message" (or "path: message"; an
 * error with both, "file:line:col: message (at path)").  Writes at most
 * `size` bytes including the NUL, never splitting a UTF-8 character;
 * returns the length the full text needs, like snprintf. */
TSR_API int tsr_error_format(char *buf, size_t size, const tsr_error *err);

/* ---------------------------------------------------------------------
 * Version: the library's at run time, to compare with the TSR_VERSION_*
 * macros a program was compiled with.  The shared library's SONAME
 * (libtessera.so.N) names its ABI, not the release: N changes only with an
 * incompatible ABI change (docs/c-api.md, "Versions").
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
 *
 * Files a rule file names (`include:`, read from disk when there is no
 * resolver) and the rule file a test file names (`rules:`) are read only
 * from inside the directory of the main rule file (of the test file) and
 * its subdirectories, after resolving `..` and symbolic links: a rule file
 * cannot make the library read /proc/self/environ or ~/.ssh.  Version 3's
 * `allow_paths` names more directories to read from.
 */
#define TSR_LOAD_OPTIONS_VERSION 3

/* Largest max_depth accepted (TSR_EINVAL above it).  libyaml keeps a
 * stack of open collections whose cost per event grows with its depth, so
 * parsing time grows with the square of the nesting a file may use: 1,024
 * levels parse in milliseconds, far more than any rule file or order needs,
 * while 100,000 would let one file take minutes. */
#define TSR_MAX_DEPTH_LIMIT 1024

typedef struct tsr_load_options {
    unsigned version;
    const tsr_allocator *allocator;   /* NULL: malloc/realloc/free */
    size_t max_file_size;             /* bytes per rule file (default 4 MiB) */
    unsigned max_depth;               /* YAML nesting (default 64, at most
                                         TSR_MAX_DEPTH_LIMIT) */
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
    /* Version 2.  Work budget of one evaluation (tsr_evaluate, each
     * evaluation a refund or a rule test makes, and a refund's `allowed` /
     * `fee`), in expression steps: one per operation evaluated, the body of
     * count/sum/any/all once per line it visits.  Past it the call fails
     * with TSR_ELIMIT naming the rule, instead of running on (default
     * 100,000,000, about half a second of work; 0: the default). */
    uint64_t max_eval_steps;
    /* Version 3.  Directories (NULL-terminated list; NULL: none) from which
     * `include:` and `rules:` may read too, besides the rule set's (test
     * file's) own directory tree; "/" allows every path.  Not kept after
     * the load call. */
    const char *const *allow_paths;
} tsr_load_options;

#define TSR_LOAD_OPTIONS_INIT { TSR_LOAD_OPTIONS_VERSION, NULL, 4u << 20, 64, 64u << 10, \
    200000, 0, 32, 4096, 10000, 64, 64u << 10, 16u << 20, 100000, 1000, 1024, NULL, NULL, NULL, \
    100000000u, NULL }

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

/* Check a rule file the way a compiler does (what `tessera check` runs):
 * load it as tsr_ruleset_load_file would, but go on after an error, with
 * the next rule (a broken rule is left out; what only follows from it is
 * not reported again), so that one run finds every error, up to
 * TSR_CHECK_MAX_ERRORS, each with its own place.  Errors in the YAML
 * itself, in following an include, and in the currency stop the check.
 * With no error: TSR_OK, *out the rule set and *report empty.  Otherwise
 * the first error's code, *out NULL, err the first error (as
 * tsr_ruleset_load_file would give) and *report every one.  `report` may
 * be NULL; *report belongs to the caller (tsr_check_report_free), also on
 * failure (NULL only when the arguments or options are refused, or memory
 * runs out before it is made). */
#define TSR_CHECK_MAX_ERRORS 50

typedef struct tsr_check_report tsr_check_report;

TSR_API int tsr_ruleset_check_file(tsr_ruleset **out, tsr_check_report **report,
                                   const char *path, const tsr_load_options *opts,
                                   tsr_error *err);
TSR_API int tsr_ruleset_check_string(tsr_ruleset **out, tsr_check_report **report,
                                     const char *text, size_t len, const char *name,
                                     const tsr_load_options *opts, tsr_error *err);
/* How many errors, in file order: the main file, then the included ones as
 * they were read, each by line and column (err of the check is the first
 * found, which a load stops at); 0 for NULL. */
TSR_API size_t tsr_check_report_count(const tsr_check_report *r);
/* Fill `out` with error i (code, message, file, line, column), to be
 * printed as "file:line:col: error: message".  TSR_EINVAL when out of range. */
TSR_API int tsr_check_report_error(const tsr_check_report *r, size_t i, tsr_error *out);
/* 1 when the check stopped at TSR_CHECK_MAX_ERRORS with more to find, else 0. */
TSR_API int tsr_check_report_truncated(const tsr_check_report *r);
/* NULL-safe. */
TSR_API void tsr_check_report_free(tsr_check_report *r);

/* How many rules a loaded rule set has in `section`: "tables", "segments",
 * "tiers", "categories", "promo_codes", "discounts", "earn" (the loyalty
 * program's earn rules), "offers" or "taxes" (the tax rates); 0 for any
 * other name or a NULL rule set. */
TSR_API size_t tsr_ruleset_count(const tsr_ruleset *rs, const char *section);

/* Borrowed strings, valid while the rule set lives. */
TSR_API const char *tsr_ruleset_id(const tsr_ruleset *rs);
TSR_API const char *tsr_ruleset_version(const tsr_ruleset *rs);
TSR_API const char *tsr_ruleset_currency(const tsr_ruleset *rs);

/* The files the rule set was read from: 0 is the main file (the path or
 * name it was loaded under), then every included file in the order it was
 * read, by the name it was read under (relative to the working directory
 * as the includer's path was, or the resolver's name).  Each file once.
 * For programs that watch the files for changes or fingerprint them.
 * tsr_ruleset_file returns NULL when i is out of range; borrowed strings,
 * valid while the rule set lives. */
TSR_API size_t tsr_ruleset_file_count(const tsr_ruleset *rs);
TSR_API const char *tsr_ruleset_file(const tsr_ruleset *rs, size_t i);

/* ---------------------------------------------------------------------
 * Orders: the builder API, for callers that hold an order in memory.
 *
 * A tsr_order is tied to the rule set it was created for (field handles come
 * from its schema) and may be reset and reused for the next order without
 * allocating again.  Records: the order itself, its customer, and its lines.
 * Setters check the value against the field's declared type; a wrong type,
 * a money value more precise than the currency, or an unknown field is
 * refused at once with TSR_EORDER and a JSON path in err.
 */
typedef struct tsr_order tsr_order;

typedef enum tsr_record {
    TSR_RECORD_ORDER = 0,
    TSR_RECORD_CUSTOMER = 1,
    TSR_RECORD_ITEM = 2
} tsr_record;

/* The handle (>= 0) of a field of a record: built-in fields (order id,
 * datetime, channel; customer id, points_balance; item id, kind, sku,
 * quantity, price, category) and those declared in the rule set's schema.
 * Negative TSR_ENAME when there is no such field. */
TSR_API int tsr_ruleset_field(const tsr_ruleset *rs, tsr_record record, const char *name);

TSR_API int tsr_order_new(tsr_order **out, const tsr_ruleset *rs, tsr_error *err);
/* Forget the current order's contents, keep the memory. */
TSR_API void tsr_order_reset(tsr_order *order);
TSR_API void tsr_order_free(tsr_order *order);

/* Add a line (id and kind are required; quantity >= 1).  *line receives its
 * index, used as `line` below. */
TSR_API int tsr_order_add_line(tsr_order *order, const char *id, const char *kind,
                               int64_t quantity, int *line, tsr_error *err);

/* Set a field.  `line` is the line index for TSR_RECORD_ITEM and ignored
 * otherwise.  Strings are copied.  Money is given in minor units; decimals
 * scaled by 10^6; dates as "YYYY-MM-DD"; datetimes as ISO 8601 with offset. */
TSR_API int tsr_order_set_string(tsr_order *order, tsr_record record, int line, int field,
                                 const char *value, size_t len, tsr_error *err);
TSR_API int tsr_order_set_int(tsr_order *order, tsr_record record, int line, int field,
                              int64_t value, tsr_error *err);
TSR_API int tsr_order_set_bool(tsr_order *order, tsr_record record, int line, int field,
                               int value, tsr_error *err);
TSR_API int tsr_order_set_money(tsr_order *order, tsr_record record, int line, int field,
                                int64_t minor_units, tsr_error *err);
TSR_API int tsr_order_set_decimal(tsr_order *order, tsr_record record, int line, int field,
                                  int64_t micro, tsr_error *err);
/* Dates, datetimes, and money or decimals written as text ("24.99"). */
TSR_API int tsr_order_set_text(tsr_order *order, tsr_record record, int line, int field,
                               const char *text, size_t len, tsr_error *err);
/* Append to a list field (customer.tags, or a schema list of strings). */
TSR_API int tsr_order_add_to_list(tsr_order *order, tsr_record record, int line, int field,
                                  const char *value, size_t len, tsr_error *err);

TSR_API int tsr_order_add_promo_code(tsr_order *order, const char *code, size_t len,
                                     tsr_error *err);
/* order.promo_uses[promo_id] and order.promo_total_uses[promo_id]. */
TSR_API int tsr_order_set_promo_uses(tsr_order *order, const char *promo_id,
                                     int64_t customer_uses, int64_t total_uses,
                                     tsr_error *err);
TSR_API int tsr_order_set_redeem_points(tsr_order *order, int64_t points, tsr_error *err);
/* customer.points_lots: expires_on is "YYYY-MM-DD" (may be NULL: never). */
TSR_API int tsr_order_add_points_lot(tsr_order *order, const char *id, int64_t points,
                                     const char *expires_on, tsr_error *err);

/* Read an order from JSON text, or from YAML when the text does not start
 * with '{' (after white space).  Validated completely (SPEC §5) before
 * anything is evaluated: errors carry the JSON path (items[1].id). */
TSR_API int tsr_order_parse(tsr_order *order, const char *text, size_t len, tsr_error *err);

/* ---------------------------------------------------------------------
 * Evaluation.
 */
#define TSR_EVAL_OPTIONS_VERSION 1

typedef struct tsr_eval_options {
    unsigned version;
    int customer_safe;     /* report every rejected promo code as `not_applicable` */
    int no_trace;          /* skip building the trace (faster; the JSON has none) */
} tsr_eval_options;

#define TSR_EVAL_OPTIONS_INIT { TSR_EVAL_OPTIONS_VERSION, 0, 0 }

/* Initialise `opts` to the defaults of the given version (pass
 * TSR_EVAL_OPTIONS_VERSION).  TSR_EINVAL for a version this library does
 * not know. */
TSR_API int tsr_eval_options_init(tsr_eval_options *opts, unsigned version);

typedef struct tsr_result tsr_result;

/* Evaluate an order against a rule set: a pure function of the two.  The
 * order is not written to and may be evaluated again, by any number of
 * threads at once (each with its own result): a built order nobody
 * evaluated before is checked as a whole (required fields, unique line
 * ids) in the evaluation's own memory, every time it is evaluated; an
 * order read by tsr_order_parse was checked when it was read. */
TSR_API int tsr_evaluate(tsr_result **out, const tsr_ruleset *rs, const tsr_order *order,
                         const tsr_eval_options *opts, tsr_error *err);

/* Parse and evaluate order text in one call (JSON, or YAML). */
TSR_API int tsr_evaluate_text(tsr_result **out, const tsr_ruleset *rs, const char *text,
                              size_t len, const tsr_eval_options *opts, tsr_error *err);

/* Evaluate again into a result that is reused, for callers that price many
 * orders one after another: *result NULL makes a new result (as
 * tsr_evaluate); a result from an earlier evaluation is emptied and filled
 * with this one, keeping its memory, so in steady state an evaluation and
 * its tsr_result_json allocate nothing.  Everything borrowed from the
 * result before (strings, its JSON) is invalid after the call.  The result
 * may come from an evaluation against another rule set, even one freed
 * since (it is not looked at); its memory is reused when the two rule sets
 * use the same allocator, else freed and made anew.  On failure *result is
 * freed and set to NULL, and err says why, as with tsr_evaluate.  Free the
 * last result with tsr_result_free. */
TSR_API int tsr_evaluate_into(tsr_result **result, const tsr_ruleset *rs, const tsr_order *order,
                              const tsr_eval_options *opts, tsr_error *err);

/* tsr_evaluate_text into a reused result (as tsr_evaluate_into).  Both
 * text calls read the text into an order the rule set keeps for them (a
 * few, for as many threads), so they allocate nothing in steady state
 * either; those orders are freed with the rule set. */
TSR_API int tsr_evaluate_text_into(tsr_result **result, const tsr_ruleset *rs, const char *text,
                                   size_t len, const tsr_eval_options *opts, tsr_error *err);

/* Free the spare orders the rule set keeps for the text calls (as SQLite's
 * sqlite3_db_release_memory): for callers that count their allocator's
 * bytes, or after one very large order.  Any thread, at any time; later
 * text calls make new ones as needed. */
TSR_API void tsr_ruleset_release_memory(const tsr_ruleset *rs);

TSR_API void tsr_result_free(tsr_result *result);

/* The result as JSON (SPEC §6), NUL-terminated, built on first call; borrowed,
 * valid while the result lives (and, for a reused result, until its next
 * evaluation).  NULL on out of memory. */
TSR_API const char *tsr_result_json(tsr_result *result, size_t *len);

/* Accessors.  Money in minor units; strings borrowed from the result. */
TSR_API size_t tsr_result_line_count(const tsr_result *r);
TSR_API const char *tsr_result_line_id(const tsr_result *r, size_t i);
TSR_API const char *tsr_result_line_category(const tsr_result *r, size_t i);  /* NULL: none */
TSR_API int64_t tsr_result_line_total(const tsr_result *r, size_t i);
TSR_API int64_t tsr_result_line_points(const tsr_result *r, size_t i);

/* The result's totals, written into the caller's struct.  Set `version`
 * first (TSR_TOTALS_INIT): fields are only appended, and the library
 * writes those the caller's version has and not a byte more. */
#define TSR_TOTALS_VERSION 2

typedef struct tsr_totals {
    unsigned version;      /* in: the caller's TSR_TOTALS_VERSION */
    int64_t subtotal, discount, redeemed_value, due;   /* minor units */
    int64_t points_earned, points_redeemed;
    /* Version 2.  All tax of the order (rule sets with `taxes`; else 0):
     * included in `due` with inclusive prices, added to it with
     * exclusive ones (subtotal − discount − redeemed_value + tax = due). */
    int64_t tax;
} tsr_totals;

#define TSR_TOTALS_INIT { TSR_TOTALS_VERSION, 0, 0, 0, 0, 0, 0, 0 }

/* TSR_OK; TSR_EINVAL when `out` is NULL or its version unknown (nothing is
 * written), or when `r` is NULL (the fields are zeroed). */
TSR_API int tsr_result_totals(const tsr_result *r, tsr_totals *out);

/* Taxes (rule sets with `taxes`).  The tax of line i: the id of the rate
 * it took and the rate as the result writes it ("10", "25.5"), borrowed
 * from the result, and its tax in minor units.  Returns 1 when the line
 * took a rate, 0 when it took none or the rule set has no taxes (*id and
 * *rate NULL, *amount 0), TSR_EINVAL when i is out of range.  Any out
 * parameter may be NULL. */
TSR_API int tsr_result_line_tax(const tsr_result *r, size_t i, const char **id,
                                const char **rate, int64_t *amount);
/* The rates the order used, in the order of `taxes.rates` (what a fiscal
 * receipt prints): id, rate, the base of their lines and their tax.
 * TSR_EINVAL when i is out of range. */
TSR_API size_t tsr_result_tax_count(const tsr_result *r);
TSR_API int tsr_result_tax(const tsr_result *r, size_t i, const char **id, const char **rate,
                           int64_t *base, int64_t *amount);

/* Segments the customer is in and the tier (NULL: none), by name. */
TSR_API size_t tsr_result_segment_count(const tsr_result *r);
TSR_API const char *tsr_result_segment(const tsr_result *r, size_t i);
TSR_API const char *tsr_result_tier(const tsr_result *r);

/* Promo codes as entered, in order: the normalised code, the id of the
 * promo-code rule it matched (NULL when unknown, or hidden in customer-safe
 * mode), TSR_PROMO_STATUS_ACCEPTED or _REJECTED, and the reason ("" when
 * accepted; "expired", "usage_limit", ... as in SPEC §4). */
enum { TSR_PROMO_STATUS_ACCEPTED = 0, TSR_PROMO_STATUS_REJECTED = 1 };
TSR_API size_t tsr_result_promo_count(const tsr_result *r);
TSR_API int tsr_result_promo(const tsr_result *r, size_t i, const char **code, const char **id,
                             int *status, const char **reason);

/* The trace: every rule as "SECTION.ID" written into `rule` (NUL-terminated,
 * truncated to rule_size), whether it applied, and why not (NULL when it
 * applied).  Empty when evaluated with no_trace. */
TSR_API size_t tsr_result_trace_count(const tsr_result *r);
TSR_API int tsr_result_trace(const tsr_result *r, size_t i, char *rule, size_t rule_size,
                             int *applied, const char **why);

/* Offers whose `when` held: id and message. */
TSR_API size_t tsr_result_offer_count(const tsr_result *r);
TSR_API int tsr_result_offer(const tsr_result *r, size_t i, const char **id, const char **message);

/* --- rule tests and lint (ruletest.c, lint.c) --- */

/* ---------------------------------------------------------------------
 * Rule tests (SPEC §7): a YAML file of cases, each an order and what its
 * result must contain, run against the rule file the test file names.
 *
 * tsr_test_run_file reads the test file, loads its rule file (with `opts`),
 * checks every case and returns a report.  A test file or rule file that is
 * broken (bad YAML, an unknown key, an expectation naming a rule that does
 * not exist) fails the call with err at its file:line:col and *out NULL;
 * failing cases do not: the call returns TSR_OK and the report counts them.
 * Reports are independent of the rule set (which is freed before return).
 */
typedef struct tsr_test_report tsr_test_report;

TSR_API int tsr_test_run_file(tsr_test_report **out, const char *path,
                              const tsr_load_options *opts, tsr_error *err);
/* The same for test text; `name` is used in messages and as the base for the
 * relative `rules:` path (NULL: "<string>", relative to the working directory). */
TSR_API int tsr_test_run_string(tsr_test_report **out, const char *text, size_t len,
                                const char *name, const tsr_load_options *opts,
                                tsr_error *err);
/* NULL-safe. */
TSR_API void tsr_test_report_free(tsr_test_report *r);

TSR_API size_t tsr_test_report_passed(const tsr_test_report *r);
TSR_API size_t tsr_test_report_failed(const tsr_test_report *r);

/* Cases in file order.  Names and diffs are borrowed from the report; the
 * diff is "" for a passing case, else one line per mismatch, e.g.
 * "  lines.t1.total: expected \"25.00\", got \"2500.00\"\n". */
TSR_API size_t tsr_test_report_case_count(const tsr_test_report *r);
TSR_API const char *tsr_test_report_case_name(const tsr_test_report *r, size_t i);
TSR_API int tsr_test_report_case_passed(const tsr_test_report *r, size_t i);
TSR_API const char *tsr_test_report_case_diff(const tsr_test_report *r, size_t i);

/* Rule coverage: of the rule set's categories, promo codes, discounts, earn
 * rules, offers and tax rates (tsr_test_report_rule_count), those that no
 * case applied, as "SECTION.ID" in file order. */
TSR_API size_t tsr_test_report_rule_count(const tsr_test_report *r);
TSR_API size_t tsr_test_report_uncovered_count(const tsr_test_report *r);
TSR_API const char *tsr_test_report_uncovered(const tsr_test_report *r, size_t i);

/* Readable text, borrowed from the report.  failures: every failed case with
 * its diff; coverage: the percentage and the `not covered:` list; text: both,
 * then the line "N passed, N failed". */
TSR_API const char *tsr_test_report_failures_text(const tsr_test_report *r);
TSR_API const char *tsr_test_report_coverage_text(const tsr_test_report *r);
TSR_API const char *tsr_test_report_text(const tsr_test_report *r);

/* ---------------------------------------------------------------------
 * Lint (SPEC §8): warnings about a rule set that loads but is probably not
 * what its author meant: category bands on one numeric value that leave a
 * gap (also one a catch-all category takes) or overlap, categories and
 * discounts that can never apply because an earlier rule takes their
 * lines, segments, tables and promo codes that nothing uses, aggregates
 * whose cost grows with the square of the number of lines, `valid` (the
 * time of the order) on ticket lines whose visit day is item.event_start.
 * Computed on request, in time n log n and memory linear in the size of
 * the rule set; the rule set is not modified.
 */
typedef struct tsr_lint_report tsr_lint_report;

TSR_API int tsr_ruleset_lint(tsr_lint_report **out, const tsr_ruleset *rs, tsr_error *err);
/* NULL-safe. */
TSR_API void tsr_lint_report_free(tsr_lint_report *r);

/* Warnings sorted by file and position. */
TSR_API size_t tsr_lint_report_count(const tsr_lint_report *r);
/* Fill `out` with warning i (code TSR_OK, message, file, line, column), to be
 * printed as "file:line:col: warning: message".  TSR_EINVAL when i is out of range. */
TSR_API int tsr_lint_report_warning(const tsr_lint_report *r, size_t i, tsr_error *out);
/* What kind of warning i is, a stable name for filtering: "band-gap",
 * "band-overlap", "never-applies", "unused-segment", "unused-table",
 * "unused-promo-code", "unknown-requires", "quadratic-aggregate",
 * "valid-booking-time".  NULL when i is out of range. */
TSR_API const char *tsr_lint_report_kind(const tsr_lint_report *r, size_t i);

/* ---------------------------------------------------------------------
 * A result explained for people (explain.c; what `tessera eval --explain`
 * prints): the lines with category, unit price, discounts, redemption,
 * total and tax; totals; the tax per rate (with `taxes`); promo codes with
 * reasons; points; offers; and the trace,
 * one rule a line (`✓ discounts.family-pack`, `✗ discounts.season-pass-10:
 * ...`).  Writes at most `size` bytes including the NUL and returns the
 * length the whole text needs (like snprintf), or TSR_ENOMEM (TSR_EINVAL
 * when r is NULL).  UTF-8. */
TSR_API int tsr_result_explain(char *buf, size_t size, const tsr_result *r);

/* --- refunds and profiles (refund.c, profile.c) --- */

/* ---------------------------------------------------------------------
 * Refunds (SPEC §4, Refund; docs/refunds.md).
 *
 * A refund takes the original order, its receipt (the result JSON that
 * evaluating it returned), the ids of the lines to refund and the refund
 * time.  The receipt is checked against the order evaluated again under
 * `rs`: a receipt priced by another rule set or version, for another
 * order, with other line ids, or with amounts that do not add up or differ
 * from what the rule set gives is refused with TSR_ERECEIPT and the JSON
 * path of the first disagreement (receipt.lines[1].total); with `taxes`,
 * its tax figures are checked too (receipt.lines[1].tax.amount).
 *
 * Per line, `refunds.allowed` decides, with `now` the refund time (rejected
 * lines carry the reason).  A refunded line gives back what the customer
 * paid for it (its total after discounts and redeemed points, and the tax
 * added on top with `taxes.prices: exclusive`) minus `refunds.fee`, never
 * below zero, and says the tax that amount contains (with `taxes`,
 * tsr_refund_result_line_tax); the points redeemed on it are restored,
 * the points earned on it revoked.  Order-level (flat) points are revoked
 * by the refund that leaves no line of the order unrefunded.  With
 * `refunds.reprice`, the lines that remain are priced again (original time
 * and codes, no redemption); what they now cost above what the receipt
 * says they cost is withheld as the clawback, never more than the refund
 * pays back (what it cannot withhold stays owed; the refund pays 0.00).
 *
 * The library keeps no state.  Lines refunded by earlier refunds of the
 * same order, and the clawback those withheld, come in as `previous` (take
 * them from your own records); such a line is rejected as "already
 * refunded".  With `refunds.reprice` and lines refunded before, the
 * clawback they withheld must be stated (TSR_EORDER at previous.clawback
 * when it is not); otherwise it may be left out and is 0.  It is checked
 * against the most they can have withheld: what the lines they left owe,
 * priced again, and what their own lines paid on the receipt, whichever is
 * less; a figure above that is refused with TSR_ERECEIPT at
 * previous.clawback.  A refund never pays back more than the receipt says
 * its lines paid plus that bound.  The result names the order, the refund
 * time and every line it refunded, for the caller to record.  Naming a
 * line twice, or a line the order does not have, is an error.
 */
typedef struct tsr_refund_result tsr_refund_result;

typedef enum tsr_refund_status {
    TSR_REFUND_REFUNDED = 0,
    TSR_REFUND_REJECTED = 1
} tsr_refund_status;

#define TSR_REFUND_OPTIONS_VERSION 1

typedef struct tsr_refund_options {
    unsigned version;
    const char *const *previous_lines;  /* ids of lines earlier refunds of this order refunded */
    size_t nprevious_lines;
    int64_t previous_clawback;          /* minor units those refunds withheld, net:
                                           their totals.clawback − clawback_returned,
                                           added up, from your records; TSR_ERECEIPT
                                           when above the most they can have
                                           withheld, or TSR_REFUND_CLAWBACK_UNSTATED */
} tsr_refund_options;

/* previous_clawback not stated: 0 when nothing can have been withheld (no
 * previous_lines, or no `refunds.reprice`); otherwise TSR_EORDER at
 * previous.clawback, since neither 0 nor the most is right after every
 * kind of earlier refund. */
#define TSR_REFUND_CLAWBACK_UNSTATED INT64_MIN

#define TSR_REFUND_OPTIONS_INIT \
    { TSR_REFUND_OPTIONS_VERSION, NULL, 0, TSR_REFUND_CLAWBACK_UNSTATED }

/* Initialise `opts` to the defaults of the given version (pass
 * TSR_REFUND_OPTIONS_VERSION).  TSR_EINVAL for a version this library
 * does not know. */
TSR_API int tsr_refund_options_init(tsr_refund_options *opts, unsigned version);

/* A refund request as JSON:
 *   {"order": {...}, "receipt": {...}, "lines": ["t1"],
 *    "datetime": "2026-11-20T10:00:00+02:00",
 *    "previous": {"lines": ["t2"], "clawback": "0.00"}}
 * (previous optional; in it clawback required with lines and reprice, and
 * at most what they can have withheld.)
 * Errors carry a path into the request: order.items[1].id,
 * receipt.lines[0].total, lines[1], datetime.  TSR_EORDER for a bad
 * request or order, TSR_ERECEIPT for a receipt that does not match. */
TSR_API int tsr_refund(tsr_refund_result **out, const tsr_ruleset *rs, const char *request,
                       size_t len, tsr_error *err);

/* The same with the parts apart: an order (built or parsed for `rs`), the
 * receipt JSON, the line ids (NUL-terminated) and the refund time (ISO 8601
 * with offset).  `opts` NULL: nothing was refunded before. */
TSR_API int tsr_refund_order(tsr_refund_result **out, const tsr_ruleset *rs,
                             const tsr_order *order, const char *receipt, size_t receipt_len,
                             const char *const *line_ids, size_t nline_ids,
                             const char *datetime, const tsr_refund_options *opts,
                             tsr_error *err);

/* NULL-safe.  A refund result does not refer to the rule set or the order. */
TSR_API void tsr_refund_result_free(tsr_refund_result *r);

/* The refund as JSON, NUL-terminated, on one line; borrowed, valid while
 * the result lives.  NULL on out of memory.
 *   {"order":"A-1001","ruleset":{"id":"...","version":"..."},"currency":"RUB",
 *    "datetime":"...","to":"account_credit",
 *    "lines":[{"id":"t1","status":"refunded","amount":"118.00","fee":"2.00",
 *              "points_restored":0,"points_revoked":12},
 *             {"id":"t2","status":"rejected","why":"allowed: `...` was false"}],
 *    "totals":{"amount":"118.00","fee":"2.00","clawback":"0.00","clawback_returned":"0.00",
 *              "points_restored":0,"points_revoked":12,"order_points_revoked":0},
 *    "reprice":{"lines":["t3"],"paid":"...","now":"..."}}   (reprice: when it ran)
 * With `taxes`, a refunded line has "tax" after "fee" ({"id","rate","amount"},
 * or null when no rate took it) and the totals have "tax" after "fee". */
TSR_API const char *tsr_refund_result_json(tsr_refund_result *r, size_t *len);

/* Accessors.  Strings are borrowed from the result; money in minor units. */
TSR_API const char *tsr_refund_result_order(const tsr_refund_result *r);    /* NULL: no id */
/* Where the money goes: "account_credit" or "original_payment". */
TSR_API const char *tsr_refund_result_to(const tsr_refund_result *r);
TSR_API size_t tsr_refund_result_line_count(const tsr_refund_result *r);
TSR_API const char *tsr_refund_result_line_id(const tsr_refund_result *r, size_t i);
/* TSR_REFUND_REFUNDED or TSR_REFUND_REJECTED; TSR_EINVAL when i is out of range. */
TSR_API int tsr_refund_result_line_status(const tsr_refund_result *r, size_t i);
TSR_API const char *tsr_refund_result_line_why(const tsr_refund_result *r, size_t i); /* NULL: refunded */
TSR_API int64_t tsr_refund_result_line_amount(const tsr_refund_result *r, size_t i);
TSR_API int64_t tsr_refund_result_line_fee(const tsr_refund_result *r, size_t i);
TSR_API int64_t tsr_refund_result_line_points_restored(const tsr_refund_result *r, size_t i);
TSR_API int64_t tsr_refund_result_line_points_revoked(const tsr_refund_result *r, size_t i);
/* With `taxes`: the rate refunded line i took (id and rate as in the
 * result, borrowed from the refund result) and the tax its amount
 * contains, amount × rate / (100 + rate), in minor units (what a refund
 * receipt prints).  Returns 1 with a rate, 0 without one (a rejected line,
 * a line no rate took, a rule set without taxes: *id and *rate NULL,
 * *amount 0), TSR_EINVAL when i is out of range. */
TSR_API int tsr_refund_result_line_tax(const tsr_refund_result *r, size_t i, const char **id,
                                       const char **rate, int64_t *amount);

/* Versioned like tsr_totals: set `version` first (TSR_REFUND_TOTALS_INIT). */
#define TSR_REFUND_TOTALS_VERSION 2

typedef struct tsr_refund_totals {
    unsigned version;              /* in: the caller's TSR_REFUND_TOTALS_VERSION */
    int64_t amount;                /* paid back: the lines' amounts − clawback
                                      + clawback_returned */
    int64_t fee;                   /* kept as fees */
    int64_t clawback;              /* withheld: what remains costs more re-priced
                                      than on the receipt (less what earlier
                                      refunds withheld) */
    int64_t points_restored;
    int64_t points_revoked;        /* the lines' and the order-level ones */
    int64_t order_points_revoked;  /* of which order-level (flat) points */
    int64_t clawback_returned;     /* withheld by earlier refunds and no longer
                                      owed (the lines it was for came back) */
    /* Version 2.  The tax the lines' amounts contain (rule sets with
     * `taxes`; else 0), before any clawback. */
    int64_t tax;
} tsr_refund_totals;

#define TSR_REFUND_TOTALS_INIT { TSR_REFUND_TOTALS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

/* TSR_OK; TSR_EINVAL when `out` is NULL or its version unknown (nothing is
 * written), or when `r` is NULL (the fields are zeroed). */
TSR_API int tsr_refund_result_totals(const tsr_refund_result *r, tsr_refund_totals *out);

/* ---------------------------------------------------------------------
 * Customer profiles: segments and tier without pricing anything (what
 * `tessera segments` prints; docs/batch-tools.md).
 *
 * A profile is an order without items: JSON or YAML of the shape
 *   {"customer": {"id": "C-77", "visits": 3, ...}, "datetime": "...", "channel": "web"}
 * (every order line of `tessera eval --jsonl` is a profile too; items are
 * read and ignored).  Segments and tier are computed at its `datetime`, or
 * at the default datetime when it has none.  A tsr_profile is reused for
 * any number of profiles without allocating in steady state.
 */
typedef struct tsr_profile tsr_profile;

TSR_API int tsr_profile_new(tsr_profile **out, const tsr_ruleset *rs, tsr_error *err);
/* NULL-safe. */
TSR_API void tsr_profile_free(tsr_profile *p);

/* The datetime of profiles that give none (ISO 8601 with offset); NULL
 * forgets it, and a profile without datetime is then an error. */
TSR_API int tsr_profile_set_datetime(tsr_profile *p, const char *datetime, tsr_error *err);

/* Read a profile and compute its segments and tier.  TSR_EORDER with the
 * JSON path (customer.visits) for a bad profile; `p` may be used again. */
TSR_API int tsr_profile_parse(tsr_profile *p, const char *text, size_t len, tsr_error *err);

/* The same for an order built or parsed for the same rule set (its lines
 * are not needed and not looked at). */
TSR_API int tsr_profile_from_order(tsr_profile *p, const tsr_order *order, tsr_error *err);

/* The last profile computed; strings borrowed, valid until the next call. */
TSR_API const char *tsr_profile_customer_id(const tsr_profile *p);           /* NULL: none */
TSR_API size_t tsr_profile_segment_count(const tsr_profile *p);
TSR_API const char *tsr_profile_segment(const tsr_profile *p, size_t i);    /* file order */
TSR_API const char *tsr_profile_tier(const tsr_profile *p);                 /* NULL: none */
/* {"id":"C-77","segments":["frequent"],"tier":"gold"} (id and tier may be
 * null), NUL-terminated, without a newline.  NULL on out of memory. */
TSR_API const char *tsr_profile_json(tsr_profile *p, size_t *len);

/* The number of fractional digits of the rule set's currency (2 for RUB),
 * for callers that format money given in minor units. */
TSR_API unsigned tsr_ruleset_minor_units(const tsr_ruleset *rs);

/* The order id a result was priced for (borrowed from the result); NULL
 * when the order has none.  For reports over many orders (`tessera diff`). */
TSR_API const char *tsr_result_order_id(const tsr_result *r);

/* ---------------------------------------------------------------------
 * JSON Schemas (draft 2020-12) of the files Tessera reads, generated from
 * the key tables its readers check keys with (what `tessera schema`
 * prints): for editors (yaml-language-server) and for validating files in
 * other tools.  A misspelt key is refused as the reader would refuse it;
 * expressions are text, checked by loading the rule set, not by the schema.
 *
 * With a rule set, the order schema (and the orders of a test schema) holds
 * the fields the rule set's `schema:` declares and no others, and names of
 * categories, segments, tiers, offers and rules are its ids; with NULL,
 * orders may carry further fields.  The rules schema ignores `rs`.
 */
typedef enum tsr_schema_kind {
    TSR_SCHEMA_RULES = 0,   /* a rule file, main or included */
    TSR_SCHEMA_ORDER = 1,   /* an order, JSON or YAML */
    TSR_SCHEMA_TEST = 2     /* a rule-test file */
} tsr_schema_kind;

/* Writes the schema, indented JSON ending in a newline, NUL-terminated, at
 * most `size` bytes including the NUL; returns the length the whole text
 * needs, like snprintf, or TSR_EINVAL (unknown kind) or TSR_ENOMEM. */
TSR_API int tsr_schema_json(char *buf, size_t size, tsr_schema_kind kind, const tsr_ruleset *rs);

/* --- comparing two rule sets over many orders (diff.c) --- */

/* ---------------------------------------------------------------------
 * What `tessera diff` reports (docs/batch-tools.md), for any caller: a
 * tsr_diff prices each order under an old and a new rule set and keeps the
 * sums of due, discount and points under each, how many orders were read,
 * priced under both, changed (any total moved) and rejected (by old only,
 * new only, both), the first five rejections with their reasons and the
 * `top` orders that moved most.  Memory does not grow with the orders.
 *
 * Lines are numbered from 1 in the order given, blank ones counted, so the
 * report names lines of the input.  Beyond one machine (docs/scale-out.md):
 * each partition of the input goes through its own tsr_diff, whose state
 * (tsr_diff_state_json) is merged into one tsr_diff in the input's order;
 * that one's report is exactly what one pass over the whole input gives.
 *
 * The two rule sets must price in one currency and outlive the tsr_diff;
 * a tsr_diff belongs to one thread at a time.
 */
typedef struct tsr_diff tsr_diff;

#define TSR_DIFF_MAX_TOP 1000
enum { TSR_DIFF_TEXT = 0, TSR_DIFF_JSON = 1 };

/* TSR_EINVAL when top > TSR_DIFF_MAX_TOP or the currencies differ. */
TSR_API int tsr_diff_new(tsr_diff **out, const tsr_ruleset *old_rs, const tsr_ruleset *new_rs,
                         size_t top, tsr_error *err);
/* NULL-safe. */
TSR_API void tsr_diff_free(tsr_diff *d);

/* The next input line (without its newline): a blank line is counted and
 * skipped, any other is an order (JSON or YAML) priced under both rule
 * sets.  An order that either side rejects is part of the report, not a
 * failure: the call fails only with TSR_ENOMEM, or TSR_EVALUE when the
 * sums would overflow.  A line longer than the old rule set's
 * max_order_size counts as unread. */
TSR_API int tsr_diff_add_line(tsr_diff *d, const char *text, size_t len, tsr_error *err);
/* The next input line, when the caller could not read it (longer than its
 * reader keeps): counted as rejected by both, the reason for both being
 * that the line is longer than the old rule set's max_order_size. */
TSR_API int tsr_diff_add_unread_line(tsr_diff *d, tsr_error *err);

/* The comparison so far as one line of JSON, for tsr_diff_merge_json (its
 * shape is the library's, versioned; pass it on as it is).  Borrowed, valid
 * until the next call on d; NULL on out of memory. */
TSR_API const char *tsr_diff_state_json(tsr_diff *d, size_t *len);
/* Add a state of a tsr_diff over the same two rule sets (ids and versions)
 * with the same `top`, as if its lines followed the lines d has seen.
 * TSR_EPARSE when it is not JSON, TSR_EINVAL when it is not such a state,
 * TSR_ELIMIT over 1 MiB, TSR_EVALUE when the sums would overflow; d is
 * unchanged on failure. */
TSR_API int tsr_diff_merge_json(tsr_diff *d, const char *state, size_t len, tsr_error *err);

/* The report, ending in a newline: TSR_DIFF_TEXT is the table `tessera
 * diff` prints, TSR_DIFF_JSON the object of `tessera diff --json`;
 * old_name and new_name are what it calls the two rule files (NULL: "old",
 * "new").  Borrowed, valid until the next call on d; NULL on out of memory
 * or an unknown format. */
TSR_API const char *tsr_diff_report(tsr_diff *d, int format, const char *old_name,
                                    const char *new_name, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* TESSERA_H */
